"""Liquidator.remove_debt_in_auction: an auction reports the debt it raised; never more than is in
auction. Scenario and helpers: tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

from support.liquidation import RUNNING
from support.liquidation import auction as _auction
from support.liquidation import borrow_stable as _borrow_stable
from support.liquidation import liquidate as _liquidate
from support.liquidation import liquidator as _liquidator
from support.liquidation import loss as _loss
from support.liquidation import stable as _stable
from support.liquidation import type_config as _type_config
from support.liquidation import unsafe_eth_vault as _unsafe_eth_vault

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_remove_debt_in_auction__partial_take__auction_reports_debt_raised(system):
    """Money flow: the taker pays 1 ETH x 2,280 into the auction's escrow (the Backstop gets
    nothing before the auction finishes); the auction reports that much raised, lowering the
    global and the type's debt in auction."""
    r, t = system.roles, system.eth
    _borrow_stable(system, r.other)
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    opened_at = system.now
    to_raise = _liquidator(system, "debt_in_auction")

    system.tx(t.auction, "take", r.other, 1, WAD, 2_280 * RAY, r.other, b"")
    owe = 2_280 * RAD
    removed = [ev for ev in _events(system) if ev[1] == "DebtInAuctionRemoved"]
    assert removed == [
        (
            system.d.liquidator,
            "DebtInAuctionRemoved",
            {"collateral_type": t.type_id, "amount": owe},
        ),
    ]
    assert _liquidator(system, "debt_in_auction") == to_raise - owe
    assert _type_config(system, t).debt_in_auction == to_raise - owe
    assert _auction(system, t, 1).debt == to_raise - owe
    assert _stable(system, t.auction) == owe
    assert _stable(system, system.d.backstop) == 0
    assert _loss(system, t, 1)[1:] == (to_raise, opened_at, RUNNING)  # the event is untouched


def test_remove_debt_in_auction__zero_by_governance__logs_only(system):
    r, liq = system.roles, system.d.liquidator
    system.tx(liq, "remove_debt_in_auction", r.governance, system.eth.type_id, 0)
    assert _events(system) == [
        (liq, "DebtInAuctionRemoved", {"collateral_type": system.eth.type_id, "amount": 0}),
    ]
    assert _liquidator(system, "debt_in_auction") == 0


def test_remove_debt_in_auction__more_than_in_auction__reverts_arithmetic(system):
    """An authority cannot remove more than is in auction, globally or for the type (ETH's debt
    in auction covers the global subtraction; BTC's own is zero)."""
    r, liq = system.roles, system.d.liquidator
    with reverts(None):
        system.tx(liq, "remove_debt_in_auction", r.governance, system.eth.type_id, 1)
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    in_auction = _liquidator(system, "debt_in_auction")
    with reverts(None):
        system.tx(liq, "remove_debt_in_auction", r.governance, system.btc.type_id, 1)
    with reverts(None):
        system.tx(liq, "remove_debt_in_auction", r.governance, system.eth.type_id, in_auction + 1)
    assert _liquidator(system, "debt_in_auction") == in_auction
