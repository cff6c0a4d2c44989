"""The backstop keeper's plan for the debt-auction layer's debt when the Backstop holds surplus
(offchain/sim/strategies/backstop_keeper.py; issue 63, finding 5): a start repays from the
surplus room first (so one start is planned even when the room covers the whole debt), a debt
auction nobody has bid on whose bid the room covers is repaid (DebtAuction.repay) instead of bid
on or restarted, and the losses the same round covers come off the room first (the fund pays
them before), so no repay is sent to be refused."""

from __future__ import annotations

from offchain.model.fixed_point import RAD, WAD
from offchain.sim.strategies.backstop_keeper import (
    BackstopParams,
    BackstopView,
    DebtAuctionView,
    backstop_actions,
)

NOW = 1_000_000
PARAMS = BackstopParams("0xK", "0xBID", "0xB0", "0xDA", "0x5B", "0xFE", b"T", "0xA0", 1)


def _view(**changes) -> BackstopView:
    fields = {
        "now": NOW,
        "surplus": 0,
        "bad_debt": 0,
        "unattributed_debt": 0,
        "unsettled_proceeds": 0,
        "debt_to_auction": 0,
        "debt_auction_bid_size": 50_000 * RAD,
        "surplus_buffer": 0,
        "surplus_lot": 0,
        "queue_delay": 3_600,
        "losses": [],
        "debt_auctions": [],
        "min_decrease": WAD * 105 // 100,
        "bidder_stable": 10**6 * RAD,
        "charge_count": 0,
        "stakers": [],
    }
    return BackstopView(**{**fields, **changes})


def _unbid(auction_id: int, bid: int) -> DebtAuctionView:
    return DebtAuctionView(auction_id, bid, 250 * WAD, "0xB0", 0, NOW + 86_400)


def _plan(view: BackstopView) -> list[tuple[str, str, tuple]]:
    return [(a.contract, a.function, a.args) for a in backstop_actions(view, PARAMS, False, set())]


def test_keeper__surplus_covers_the_debt_to_auction__one_start_that_repays_it():
    """50,000 of surplus, 314 of it kept for the unattributed bad debt, 120,000 of debt to
    auction: the start repays 49,686 and auctions the rest in two bids of 50,000 (the last
    20,314): two starts; with the room above the debt, one start (it repays all)."""
    view = _view(surplus=50_000 * RAD, unattributed_debt=314 * RAD, debt_to_auction=120_000 * RAD)
    assert _plan(view).count(("0xB0", "start_debt_auction", ())) == 2
    assert [f for _, f, _ in _plan(view)] == ["settle", "start_debt_auction", "start_debt_auction"]
    view = _view(surplus=50_000 * RAD, unattributed_debt=0, debt_to_auction=1_000 * RAD)
    assert _plan(view) == [("0xB0", "start_debt_auction", ())]


def test_keeper__unbid_auction_the_room_covers__repaid_not_bid_on():
    """Room 1,500 (2,000 of surplus less 500 unattributed): auction 1 (bid 1,000) is repaid;
    auction 2 (bid 1,000 more than the room left, 500) is bid on by the bidder."""
    view = _view(
        surplus=2_000 * RAD,
        unattributed_debt=500 * RAD,
        debt_auctions=[_unbid(1, 1_000 * RAD), _unbid(2, 1_000 * RAD)],
    )
    plan = _plan(view)
    assert ("0xDA", "repay", (1,)) in plan
    assert ("0xDA", "repay", (2,)) not in plan
    assert [args[0] for _, f, args in plan if f == "bid"] == [2]


def test_keeper__a_cover_this_round__takes_the_room_first():
    """A closed loss of 1,800 past its queue delay is covered this round (the fund pays first):
    the room of 1,500 is left to it, and the unbid auction is bid on, not repaid."""
    view = _view(
        surplus=2_000 * RAD,
        unattributed_debt=500 * RAD,
        losses=[(7, 1_800 * RAD, NOW - 3_600, 2)],
        debt_auctions=[_unbid(1, 1_000 * RAD)],
    )
    plan = _plan(view)
    assert ("0xB0", "cover", (b"T", "0xA0", 7)) in plan
    assert not [a for a in plan if a[1] == "repay"]
    assert [args[0] for _, f, args in plan if f == "bid"] == [1]
