"""Liquidator.set_max_debt_in_auction, configure_type and penalty: stored, logged, bounds checked,
caps above 1e12 stablecoin refused. Scenario and helpers: tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

import pytest
from support.liquidation import MAX_PENALTY, NEW_TYPE, PENALTY, TYPE_CAP_ETH
from support.liquidation import liquidate as _liquidate
from support.liquidation import liquidator as _liquidator
from support.liquidation import set_global_cap as _set_global_cap
from support.liquidation import set_type_cap as _set_type_cap
from support.liquidation import type_config as _type_config
from support.liquidation import unsafe_eth_vault as _unsafe_eth_vault
from support.liquidation import vault as _vault

from offchain.model.fixed_point import MAX_UINT256, PENALTY_STEP, RAD, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_set_max_debt_in_auction__stores_cap_and_logs(system):
    r, liq = system.roles, system.d.liquidator
    system.tx(liq, "set_max_debt_in_auction", r.governance, 12_345 * RAD + 6)
    assert _events(system) == [(liq, "MaxDebtInAuctionSet", {"amount": 12_345 * RAD + 6})]
    assert _liquidator(system, "max_debt_in_auction") == 12_345 * RAD + 6
    # the type's own cap is untouched
    assert _type_config(system, system.eth).max_debt_in_auction == TYPE_CAP_ETH


def test_configure_type__sets_auction_penalty_and_cap_keeps_debt_in_auction(system):
    """Money flow: none by itself; reconfiguring a type mid-auction keeps the debt it has in
    auction (a running auction still reports against it)."""
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    in_auction = _type_config(system, t).debt_in_auction
    assert in_auction > 0

    # another ETH-A auction contract (configure_type requires the auction's own type to match)
    other = system.lockstep.deploy(
        "DutchAuction", r.governance, system.d.engine, t.type_id, liq, system.d.backstop, t.oracle
    )
    system.tx(liq, "configure_type", r.governance, t.type_id, other, 12 * WAD // 10, 777 * RAD)
    assert _events(system) == [
        (
            liq,
            "TypeConfigured",
            {
                "collateral_type": t.type_id,
                "auction": other,
                "penalty": 12 * WAD // 10,
                "max_debt_in_auction": 777 * RAD,
            },
        ),
    ]
    assert tuple(_type_config(system, t)) == (other, 12 * WAD // 10, 777 * RAD, in_auction)
    assert _liquidator(system, "debt_in_auction") == in_auction
    # put the real auction back, so the running auction's books still balance
    _set_type_cap(system, t, TYPE_CAP_ETH)
    assert tuple(_type_config(system, t)) == (t.auction, PENALTY, TYPE_CAP_ETH, in_auction)


def test_configure_type__new_type__starts_with_no_debt_in_auction(system):
    r, liq = system.roles, system.d.liquidator
    auction = system.lockstep.deploy(
        "DutchAuction",
        r.governance,
        system.d.engine,
        NEW_TYPE,
        liq,
        system.d.backstop,
        system.eth.oracle,
    )
    system.tx(liq, "configure_type", r.governance, NEW_TYPE, auction, WAD, 5 * RAD)
    assert system.view(liq, "types", NEW_TYPE) == (auction, WAD, 5 * RAD, 0)
    assert tuple(system.contract(liq).types[NEW_TYPE]) == (auction, WAD, 5 * RAD, 0)


@pytest.mark.parametrize("penalty", [WAD, MAX_PENALTY])
def test_configure_type__penalty_bounds__accepted(system, penalty):
    _set_type_cap(system, system.eth, TYPE_CAP_ETH, penalty)
    assert _type_config(system, system.eth).penalty == penalty


@pytest.mark.parametrize("penalty", [WAD, 12 * WAD // 10 + PENALTY_STEP, MAX_PENALTY])
def test_penalty_view__is_the_type_records_penalty_on_chain_and_in_model(system, penalty):
    """The auctions' reward bound reads the penalty through this view (one storage word): it is
    the type record's penalty after every configuration, and 0 for an unknown type."""
    liq = system.d.liquidator
    _set_type_cap(system, system.eth, TYPE_CAP_ETH, penalty)
    for type_id, expected in ((system.eth.type_id, penalty), (NEW_TYPE, 0)):
        assert system.view(liq, "penalty", type_id) == expected
        assert system.contract(liq).penalty(type_id) == expected
        assert system.view(liq, "types", type_id)[1] == expected


@pytest.mark.parametrize(
    ("auction", "penalty", "reason"),
    [
        (ZERO_ADDRESS, PENALTY, "liquidator: zero auction"),
        (None, WAD - 1, "liquidator: penalty below 1"),
        (None, 0, "liquidator: penalty below 1"),
        (None, MAX_PENALTY + 1, "liquidator: penalty above 2"),
        (None, 12 * WAD // 10 + 1, "liquidator: penalty not a multiple of 1e-7"),
        (None, WAD + PENALTY_STEP // 2, "liquidator: penalty not a multiple of 1e-7"),
    ],
)
def test_configure_type__invalid__reverts_with_reason(system, auction, penalty, reason):
    t = system.eth
    with reverts(reason):
        system.tx(
            system.d.liquidator,
            "configure_type",
            system.roles.governance,
            t.type_id,
            t.auction if auction is None else auction,
            penalty,
            TYPE_CAP_ETH,
        )
    assert tuple(_type_config(system, t)) == (t.auction, PENALTY, TYPE_CAP_ETH, 0)


def test_caps__above_1e12_stablecoin__rejected_so_room_times_wad_cannot_overflow(system):
    """A cap of 2**256 - 1 meant as "no cap" would make room x WAD overflow and block every
    liquidation (as in dss's Dog); the setters refuse caps above 1e12 stablecoin instead, and the
    largest allowed caps still liquidate."""
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    with reverts("liquidator: cap too large"):
        _set_global_cap(system, MAX_UINT256)
    with reverts("liquidator: cap too large"):
        _set_type_cap(system, t, 10**57 + 1)
    _set_global_cap(system, 10**57)
    _set_type_cap(system, t, 10**57)
    _liquidate(system, r.borrower)
    assert _vault(system, t, r.borrower) == (0, 0)
