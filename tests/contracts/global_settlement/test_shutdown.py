"""GlobalSettlement.shutdown and set_wait: shutdown freezes the engine, the Liquidator, the Backstop
and both auctions, and the debt auction layer's debt becomes settlement debt; no settlement step
runs while live. Scenario and helpers: tests/contracts/support/global_settlement.py.
"""

from __future__ import annotations

import pytest
from support.global_settlement import ETH, QUEUE_DELAY
from support.global_settlement import allocations as _allocations
from support.global_settlement import allow as _allow
from support.global_settlement import bad_debt as _bad_debt
from support.global_settlement import bs as _bs
from support.global_settlement import gs as _gs
from support.global_settlement import liquidate as _liquidate
from support.global_settlement import rate as _rate
from support.global_settlement import shutdown as _shutdown
from support.global_settlement import take as _take
from support.global_settlement import top as _top
from support.global_settlement import vault as _vault

from offchain.model.backstop import DEBT_AUCTION
from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices as _move_prices
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts

_BEFORE_SHUTDOWN = [
    ("fix_price", lambda s: (s.eth.type_id,), "settlement: live"),
    ("free_collateral", lambda s: (s.eth.type_id,), "settlement: live"),
    ("thaw", lambda s: (), "settlement: live"),
    ("cancel_auction", lambda s: (s.eth.type_id, s.eth.auction, 1), "settlement: no final price"),
    ("close_vault", lambda s: (s.eth.type_id, s.roles.borrower), "settlement: no final price"),
    ("fix_cash_price", lambda s: (s.eth.type_id,), "settlement: not thawed"),
    ("pack", lambda s: (WAD,), "settlement: not thawed"),
    ("cash", lambda s: (s.eth.type_id, WAD), "settlement: no cash price"),
]


def test_shutdown__by_stranger__reverts_not_authorized(system):
    with reverts("authorized: not authorized"):
        system.tx(system.d.settlement, "shutdown", system.roles.stranger)
    assert _gs(system, "live") is True


def test_set_wait__governance_while_live__stored_and_logged__stranger_reverts(system):
    r, d = system.roles, system.d
    system.tx(d.settlement, "set_wait", r.governance, 3_600)
    assert _events(system) == [(d.settlement, "WaitSet", {"wait": 3_600})]
    assert _gs(system, "wait") == 3_600
    with reverts("authorized: not authorized"):
        system.tx(d.settlement, "set_wait", r.stranger, 0)


def test_shutdown__freezes_engine_liquidator_backstop_and_both_auctions(system):
    """No value moves: every part stops; the surplus auction hands back the stablecoin it holds
    (none here) and the Backstop has no debt-auction debt to turn into settlement debt."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.borrower, ETH, 10 * WAD, 5_000 * WAD)

    _shutdown(system)

    assert _events(system) == [
        (d.engine, "Shutdown", {"caller": d.settlement}),
        (d.liquidator, "Shutdown", {"caller": d.settlement}),
        (d.debt_auction, "Shutdown", {}),
        (d.engine, "StableTransferred", {"src": d.surplus_auction, "dst": d.backstop, "amount": 0}),
        (d.surplus_auction, "Shutdown", {}),
        (d.backstop, "Shutdown", {"settlement": d.settlement, "settlement_debt": 0}),
        (d.settlement, "Shutdown", {"shutdown_at": system.now}),
    ]
    for address in (
        d.settlement,
        d.engine,
        d.liquidator,
        d.backstop,
        d.debt_auction,
        d.surplus_auction,
    ):
        assert _read(system, address, "live") is False
    assert _gs(system, "shutdown_at") == system.now
    assert _bs(system, "settlement") == d.settlement
    # no vault may take on debt (nor change at all: the engine is frozen)
    with reverts("engine: not live"):
        system.tx(
            d.engine,
            "modify_vault",
            r.borrower,
            t.type_id,
            r.borrower,
            r.borrower,
            r.borrower,
            0,
            WAD,
        )
    with reverts("engine: not live"):
        system.tx(
            d.engine,
            "modify_vault",
            r.borrower,
            t.type_id,
            r.borrower,
            r.borrower,
            r.borrower,
            0,
            -WAD,
        )
    with reverts("liquidator: not live"):
        system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    with reverts("backstop: not live"):
        system.tx(d.backstop, "start_debt_auction", r.keeper)
    with reverts("backstop: not live"):
        system.tx(d.backstop, "start_surplus_auction", r.keeper)
    # irreversible, and the wait can no longer move
    with reverts("settlement: not live"):
        _shutdown(system)
    with reverts("settlement: not live"):
        system.tx(d.settlement, "set_wait", r.governance, 0)
    assert _vault(system, t, r.borrower) == (10 * WAD, 5_000 * WAD)


@pytest.mark.parametrize(
    "function, args, reason", _BEFORE_SHUTDOWN, ids=[f for f, _, _ in _BEFORE_SHUTDOWN]
)
def test_settlement_step__while_live__reverts(system, function, args, reason):
    """Every step after shutdown is refused while the system is live (the later steps by what
    they wait for: a final price, a thaw, a cash price)."""
    r = system.roles
    system.open_vault(r.borrower, ETH, 10 * WAD, 5_000 * WAD)
    with reverts(reason):
        system.tx(system.d.settlement, function, r.borrower, *args(system))
    assert _vault(system, system.eth, r.borrower) == (10 * WAD, 5_000 * WAD)


def test_shutdown__debt_auction_layer_debt_becomes_settlement_debt(system):
    """Money flow: a loss of 13,000 x rate - 10,800 (~2,200) BUSD went to the debt-auction layer
    (debt_to_auction); a debt auction put 1,000 of it on sale (debt_on_auction). Shutdown moves
    both to settlement_debt: it stays the Backstop's bad debt, borne by holders (the haircut)."""
    r, d, t = system.roles, system.d, system.eth
    system.tx(d.backstop, "set_waterfall", r.governance, [DEBT_AUCTION])
    system.tx(
        d.backstop,
        "set_auction_parameters",
        r.governance,
        _bs(system, "surplus_buffer"),
        _bs(system, "surplus_lot"),
        1_000 * RAD,
    )
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    _move_prices(system, [(t, 900 * WAD)])
    auction_id = _liquidate(system, t, r.borrower)
    _allow(system, r.other, t.auction)
    # the whole lot sells at the start price, 10 x 1,080 = 10,800 < 13,000 x rate: a loss
    _take(system, r.other, t, auction_id, 10 * WAD, _top(900 * WAD))
    loss = 13_000 * WAD * _rate(system, t) - 10_800 * RAD
    system.warp(QUEUE_DELAY)
    system.tx(d.backstop, "cover", r.keeper, t.type_id, t.auction, auction_id)
    assert _allocations(system) == [(DEBT_AUCTION, d.debt_auction, loss)]
    system.tx(d.backstop, "start_debt_auction", r.keeper)
    assert (_bs(system, "debt_to_auction"), _bs(system, "debt_on_auction")) == (
        loss - 1_000 * RAD,
        1_000 * RAD,
    )
    bad_debt = _bad_debt(system, d.backstop)

    _shutdown(system)

    assert (
        d.backstop,
        "Shutdown",
        {"settlement": d.settlement, "settlement_debt": loss},
    ) in _events(system)
    assert _bs(system, "settlement_debt") == loss
    assert (_bs(system, "debt_to_auction"), _bs(system, "debt_on_auction")) == (0, 0)
    assert _bad_debt(system, d.backstop) == bad_debt
    assert _read(system, d.debt_auction, "live") is False
    with reverts("backstop: not live"):
        system.tx(d.backstop, "start_debt_auction", r.keeper)
