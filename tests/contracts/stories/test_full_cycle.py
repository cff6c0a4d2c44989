"""A liquidation's full cycle across the Liquidator, the auction and the Backstop: liquidate, take,
settle; the Backstop keeps the penalty less the reward, or the event keeps the shortfall as its
loss. Scenario and helpers: tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

from helpers import ceil_div, heal
from support.liquidation import CLOSED, DONE
from support.liquidation import auction as _auction
from support.liquidation import backstop as _backstop
from support.liquidation import backstop_surplus as _backstop_surplus
from support.liquidation import bad_debt as _bad_debt
from support.liquidation import borrow_stable as _borrow_stable
from support.liquidation import crash as _crash
from support.liquidation import ctype as _ctype
from support.liquidation import event as _event
from support.liquidation import free_collateral as _free_collateral
from support.liquidation import liquidate as _liquidate
from support.liquidation import liquidator as _liquidator
from support.liquidation import loss as _loss
from support.liquidation import reward as _reward
from support.liquidation import stable as _stable
from support.liquidation import to_raise as _to_raise
from support.liquidation import unattributed_debt as _unattributed_debt
from support.liquidation import unsafe_eth_vault as _unsafe_eth_vault

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_full_cycle__liquidate_take_settle__backstop_keeps_penalty_less_reward(system):
    """Money flow: the vault's 13,000 (x rate) of debt becomes the Backstop's bad debt, attributed
    to the event of auction 1, and the keeper's reward its unattributed bad debt; a taker pays the
    whole debt to raise (debt x 1.13) for 6.44 ETH straight to the Backstop (the take finishes
    the auction: nothing is escrowed), the other 3.56 ETH going back to the borrower; the auction
    closes the event with all of it paid directly: the Backstop has nothing to pull, keeps the
    seized debt's part as unsettled proceeds (covered = debt, loss 0) and the penalty as surplus;
    settle cancels the reward against the penalty (not against the proceeds), and heal cancels
    the proceeds against the seized debt, leaving the penalty less the reward as surplus and no
    bad debt."""
    r, t, b = system.roles, system.eth, system.d.backstop
    _borrow_stable(system, r.other)
    _unsafe_eth_vault(system)
    rate = _ctype(system, t).rate
    debt = 13_000 * WAD * rate
    to_raise = _to_raise(debt)
    reward = _reward(to_raise)
    _liquidate(system, r.borrower)
    opened_at = system.now

    # before the take there is no surplus to settle the (unattributed) reward with
    assert _unattributed_debt(system) == reward
    with reverts("backstop: insufficient surplus"):
        system.tx(b, "settle", r.keeper, 1)

    taker = _stable(system, r.other)
    system.tx(t.auction, "take", r.other, 1, 10 * WAD, 2_280 * RAY, r.other, b"")
    bought = to_raise // (2_280 * RAY)
    assert _events(system) == [
        (
            system.d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.other, "amount": bought},
        ),
        (system.d.engine, "StableTransferred", {"src": r.other, "dst": b, "amount": to_raise}),
        (
            system.d.liquidator,
            "DebtInAuctionRemoved",
            {"collateral_type": t.type_id, "amount": to_raise},
        ),
        (
            system.d.engine,
            "CollateralTransferred",
            {
                "collateral_type": t.type_id,
                "src": t.auction,
                "dst": r.borrower,
                "amount": 10 * WAD - bought,
            },
        ),
        (
            b,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": 1,
                "raised": to_raise,
                "covered": debt,
                "loss": 0,
            },
        ),
        (
            t.auction,
            "Finished",
            {"auction_id": 1, "collateral_returned": 10 * WAD - bought, "debt_unraised": 0},
        ),
        (
            t.auction,
            "Taken",
            {
                "auction_id": 1,
                "max_price": 2_280 * RAY,
                "price": 2_280 * RAY,
                "owe": to_raise,
                "collateral": bought,
                "debt": 0,
                "lot": 10 * WAD - bought,
                "owner": r.borrower,
            },
        ),
    ]
    assert 6_442 * WAD // 1000 < bought < 6_443 * WAD // 1000
    assert _stable(system, r.other) == taker - to_raise
    assert _free_collateral(system, t, r.other) == bought
    assert _free_collateral(system, t, r.borrower) == 10 * WAD - bought
    assert _free_collateral(system, t, t.auction) == 0
    assert _stable(system, t.auction) == 0
    assert _stable(system, b) == to_raise
    assert _bad_debt(system, b) == debt + reward
    assert _loss(system, t, 1) == (debt, 0, opened_at, DONE)
    assert _backstop(system, "open_losses") == 0
    assert _backstop(system, "attributed_debt") == _backstop(system, "unsettled_proceeds") == debt
    assert _liquidator(system, "debt_in_auction") == 0
    assert _auction(system, t, 1).owner == ZERO_ADDRESS

    # only the reward is left to settle (the proceeds are attributed until healed)
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.keeper, reward + 1)
    system.tx(b, "settle", r.keeper, reward)
    assert _bad_debt(system, b) == debt
    heal(system, debt)

    assert _bad_debt(system, b) == 0
    assert _stable(system, b) == to_raise - debt - reward
    assert to_raise - debt - reward == ceil_div(debt * 13, 100) - reward  # penalty less reward
    assert _unattributed_debt(system) == 0


def test_full_cycle__auction_raises_less_than_debt__event_keeps_the_shortfall_as_its_loss(system):
    """Money flow: ETH falls to 1,000: the 10 ETH sell for 12,000 (at 1,200 each, the start
    price), less than the 13,000 (x rate) of seized debt and the 14,690 to raise; the auction
    ends sold out and reports all its debt gone from auction; closing its event, the Backstop
    keeps the 12,000 as unsettled proceeds (covered: settle cannot spend them on the reward; heal
    cancels 12,000 of the seized debt with them) and records the rest as the event's loss, still
    attributed bad debt waiting for the waterfall: settle cannot touch it, even once the Backstop
    has surplus, and only the keeper's reward is settleable."""
    r, t, b = system.roles, system.eth, system.d.backstop
    _borrow_stable(system, r.other, 12_500 * WAD)
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 13_000 * WAD)
    _crash(system, t, 1_000 * WAD)
    rate = _ctype(system, t).rate
    debt = 13_000 * WAD * rate
    to_raise = _to_raise(debt)
    reward = _reward(to_raise)
    _liquidate(system, r.borrower)
    opened_at = system.now

    system.tx(t.auction, "take", r.other, 1, 10 * WAD, 1_200 * RAY, r.other, b"")
    proceeds = 12_000 * RAD
    removed = [ev[2]["amount"] for ev in _events(system) if ev[1] == "DebtInAuctionRemoved"]
    assert removed == [to_raise]
    assert _event(system, "Finished") == {
        "auction_id": 1,
        "collateral_returned": 0,
        "debt_unraised": to_raise - proceeds,
    }
    assert [n for _, n, _ in _events(system) if n == "DebtSettled"] == []
    assert _event(system, "LossClosed") == {
        "collateral_type": t.type_id,
        "auction": t.auction,
        "auction_id": 1,
        "raised": proceeds,
        "covered": proceeds,
        "loss": debt - proceeds,
    }
    assert _liquidator(system, "debt_in_auction") == 0
    assert _free_collateral(system, t, r.borrower) == 0
    assert _stable(system, t.auction) == 0
    assert _stable(system, b) == proceeds
    assert _bad_debt(system, b) == debt + reward
    assert _loss(system, t, 1) == (debt, debt - proceeds, opened_at, CLOSED)
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "attributed_debt") == debt
    assert _unattributed_debt(system) == reward
    # the Backstop holds 12,000 of stablecoin, all of it owed to the seized debt
    with reverts("backstop: insufficient surplus"):
        system.tx(b, "settle", r.keeper, 1)
    heal(system, proceeds)
    assert _stable(system, b) == 0
    assert _bad_debt(system, b) == debt - proceeds + reward
    assert _backstop(system, "attributed_debt") == debt - proceeds
    assert _unattributed_debt(system) == reward

    with reverts("backstop: insufficient surplus"):
        system.tx(b, "settle", r.keeper, 1)
    system.tx(
        system.d.engine, "create_unbacked", r.governance, r.governance, r.governance, 5_000 * RAD
    )
    _backstop_surplus(system, 5_000 * RAD)
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.keeper, reward + 1)
    system.tx(b, "settle", r.keeper, reward)
    assert _bad_debt(system, b) == debt - proceeds
    assert _loss(system, t, 1) == (debt, debt - proceeds, opened_at, CLOSED)
