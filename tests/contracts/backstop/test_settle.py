"""Backstop.settle and unattributed_debt: settle cancels unattributed bad debt against surplus, and
no more than either; unattributed debt is bad debt less the open events' debt. Scenario and
helpers: tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

from helpers import heal
from support.liquidation import backstop as _backstop
from support.liquidation import backstop_bad_debt as _backstop_bad_debt
from support.liquidation import backstop_surplus as _backstop_surplus
from support.liquidation import bad_debt as _bad_debt
from support.liquidation import ctype as _ctype
from support.liquidation import engine_totals as _engine_totals
from support.liquidation import liquidate as _liquidate
from support.liquidation import own_event as _own_event
from support.liquidation import reward as _reward
from support.liquidation import stable as _stable
from support.liquidation import to_raise as _to_raise
from support.liquidation import unattributed_debt as _unattributed_debt
from support.liquidation import unsafe_eth_vault as _unsafe_eth_vault

from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_settle__unattributed_debt_against_surplus(system):
    """Money flow: the Backstop cancels 400 BUSD of unattributed bad debt (as keeper rewards are)
    against 400 of its surplus: both fall by 400, as do total_issued and total_unbacked."""
    r, b = system.roles, system.d.backstop
    _backstop_bad_debt(system, 1_000 * RAD)
    _backstop_surplus(system, 600 * RAD)
    issued, unbacked = _engine_totals(system)
    system.tx(b, "settle", r.stranger, 400 * RAD)
    assert _events(system) == [
        (system.d.engine, "DebtSettled", {"account": b, "amount": 400 * RAD}),
        (b, "DebtSettled", {"amount": 400 * RAD}),
    ]
    assert (_stable(system, b), _bad_debt(system, b)) == (200 * RAD, 600 * RAD)
    assert _engine_totals(system) == (issued - 400 * RAD, unbacked - 400 * RAD)
    assert _unattributed_debt(system) == 600 * RAD


def test_settle__beyond_surplus__reverts_insufficient_surplus(system):
    r, b = system.roles, system.d.backstop
    _backstop_bad_debt(system, 1_000 * RAD)
    _backstop_surplus(system, 600 * RAD)
    with reverts("backstop: insufficient surplus"):
        system.tx(b, "settle", r.keeper, 600 * RAD + 1)
    system.tx(b, "settle", r.keeper, 600 * RAD)
    assert (_stable(system, b), _bad_debt(system, b)) == (0, 400 * RAD)


def test_settle__beyond_unattributed_debt__reverts_insufficient_unattributed_debt(system):
    """Money flow: after a liquidation the Backstop owes the vault's debt (attributed to the running
    event, which only its auction's proceeds and the waterfall may cover) and the keeper's reward
    (unattributed). With 20,000 of surplus, settle cancels the reward and not one rad more."""
    r, b = system.roles, system.d.backstop
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    debt = 13_000 * WAD * _ctype(system, system.eth).rate
    reward = _reward(_to_raise(debt))
    system.tx(
        system.d.engine, "create_unbacked", r.governance, r.governance, r.governance, 20_000 * RAD
    )
    _backstop_surplus(system, 20_000 * RAD)
    assert _bad_debt(system, b) == debt + reward and _unattributed_debt(system) == reward
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.keeper, reward + 1)
    system.tx(b, "settle", r.keeper, reward)
    assert _unattributed_debt(system) == 0
    assert (_stable(system, b), _bad_debt(system, b)) == (20_000 * RAD - reward, debt)
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.keeper, 1)


def test_unattributed_debt__is_bad_debt_minus_open_events(system):
    """Money flow: 50 of bad debt is unattributed; opening an event of 30 attributes 30 of it;
    closing that event with 30 raised keeps them attributed as unsettled proceeds, and healing
    settles them: 20 unattributed throughout."""
    r, b = system.roles, system.d.backstop
    assert _unattributed_debt(system) == 0
    _backstop_bad_debt(system, 20 * RAD)
    assert _unattributed_debt(system) == 20 * RAD
    _own_event(system, 30 * RAD)
    assert (_bad_debt(system, b), _backstop(system, "attributed_debt")) == (50 * RAD, 30 * RAD)
    assert _unattributed_debt(system) == 20 * RAD
    system.tx(b, "close_loss", r.governance, system.eth.type_id, 1, 0, 0)
    assert (_bad_debt(system, b), _backstop(system, "attributed_debt")) == (50 * RAD, 30 * RAD)
    assert _unattributed_debt(system) == 20 * RAD
    heal(system, 30 * RAD)
    assert (_bad_debt(system, b), _backstop(system, "attributed_debt")) == (20 * RAD, 0)
    assert _unattributed_debt(system) == 20 * RAD
