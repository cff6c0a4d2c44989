"""Liquidator.shutdown: no new liquidations, but running auctions still settle. Scenario and
helpers: tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

from helpers import heal
from support.liquidation import DONE
from support.liquidation import auction as _auction
from support.liquidation import auction_var as _auction_var
from support.liquidation import borrow_stable as _borrow_stable
from support.liquidation import ctype as _ctype
from support.liquidation import event as _event
from support.liquidation import liquidate as _liquidate
from support.liquidation import liquidator as _liquidator
from support.liquidation import loss as _loss
from support.liquidation import stable as _stable
from support.liquidation import unsafe_eth_vault as _unsafe_eth_vault
from support.liquidation import vault as _vault

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_shutdown__stops_new_liquidations_but_running_auctions_still_settle(system):
    """Money flow: after shutdown no vault can be seized; a taker still buys a running auction's
    collateral, paying the whole debt to raise to the Backstop (the take finishes the auction);
    the auction still reports its debt raised and closes its loss event: the Backstop keeps the
    penalty (to raise - seized debt) as surplus."""
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _borrow_stable(system, r.other)
    system.open_vault(r.feeder, "ETH-A", 2 * WAD, 2_600 * WAD)
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)

    system.tx(liq, "shutdown", r.governance)
    assert _events(system) == [(liq, "Shutdown", {"caller": r.governance})]
    assert _liquidator(system, "live") is False
    with reverts("liquidator: not live"):
        _liquidate(system, r.feeder)
    with reverts("liquidator: not live"):
        system.tx(liq, "liquidate_many", r.keeper, t.type_id, [r.feeder], r.keeper)
    assert _vault(system, t, r.feeder) == (2 * WAD, 2_600 * WAD)
    # live shares a word with the cap on all debt in auction: a new cap keeps it false
    system.tx(liq, "set_max_debt_in_auction", r.governance, 123 * RAD)
    assert _liquidator(system, "live") is False
    assert _liquidator(system, "max_debt_in_auction") == 123 * RAD
    with reverts("liquidator: not live"):
        _liquidate(system, r.feeder)

    debt = _auction(system, t, 1).debt
    seized = 13_000 * WAD * _ctype(system, t).rate
    system.tx(t.auction, "take", r.other, 1, 10 * WAD, 2_280 * RAY, r.other, b"")
    assert _event(system, "StableTransferred") == {
        "src": r.other,
        "dst": system.d.backstop,
        "amount": debt,
    }
    assert _event(system, "LossClosed")["covered"] == seized
    assert _stable(system, system.d.backstop) == debt
    heal(system, seized)  # after shutdown too
    assert _stable(system, system.d.backstop) == debt - seized
    assert _stable(system, t.auction) == 0
    assert _loss(system, t, 1)[3] == DONE
    assert _liquidator(system, "debt_in_auction") == 0
    assert _auction_var(system, t, "active_count") == 0
