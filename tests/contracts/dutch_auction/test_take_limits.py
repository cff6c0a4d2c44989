"""DutchAuction.take's limits: a partial take cut to leave exactly min_auction or refused, the
maximum price, an auction not running, and a taker without allowance or stablecoin. Scenario and
helpers: tests/contracts/support/dutch_auction.py.
"""

from __future__ import annotations

from helpers import at, auction_sale, eth_auction, fund_taker
from support.dutch_auction import NO_AUCTION
from support.dutch_auction import collateral as _collateral
from support.dutch_auction import event as _event
from support.dutch_auction import stable as _stable
from support.dutch_auction import type_debt_in_auction as _type_debt_in_auction

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def test_take__partial_that_would_leave_less_than_min_auction__is_cut_to_leave_exactly_min_auction(
    system,
):
    """Money flow: the taker asks for all but a sliver of the debt's worth; the auction sells only
    floor((debt - min_auction) / price) ETH for debt - min_auction, so exactly min_auction stays to
    raise (still auctionable)."""
    r, t, d = system.roles, system.eth, system.d
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    _, debt, lot, owner, started, top = auction_sale(system, t, auction_id)
    min_auction = _read(system, t.auction, "min_auction")
    asked = (debt - 1) // top  # worth just under the debt: would leave < 1 ETH-wei's worth
    assert 0 < debt - asked * top < min_auction and asked < lot
    owe = debt - min_auction
    bought = owe // top
    system.tx(t.auction, "take", r.other, auction_id, asked, top, r.other, b"")
    assert _events(system) == [
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.other, "amount": bought},
        ),
        (d.engine, "StableTransferred", {"src": r.other, "dst": t.auction, "amount": owe}),
        (d.liquidator, "DebtInAuctionRemoved", {"collateral_type": t.type_id, "amount": owe}),
        (
            t.auction,
            "Taken",
            {
                "auction_id": auction_id,
                "max_price": top,
                "price": top,
                "owe": owe,
                "collateral": bought,
                "debt": min_auction,
                "lot": lot - bought,
                "owner": owner,
            },
        ),
    ]
    assert auction_sale(system, t, auction_id) == (
        0,
        min_auction,
        lot - bought,
        owner,
        started,
        top,
    )
    assert _collateral(system, t, r.other) == bought
    assert _type_debt_in_auction(system, t) == min_auction

    # the remainder is exactly min_auction: no partial take of it is possible ...
    with reverts("auction: no partial take"):
        system.tx(t.auction, "take", r.other, auction_id, WAD // 1_000, top, r.other, b"")
    # ... but it can be bought whole; the rest of the lot goes back to the borrower
    system.tx(t.auction, "take", r.other, auction_id, lot, top, r.other, b"")
    last = min_auction // top
    assert system.events[-2].args == {
        "auction_id": auction_id,
        "collateral_returned": lot - bought - last,
        "debt_unraised": 0,
    }
    assert _collateral(system, t, r.borrower) == lot - bought - last
    assert auction_sale(system, t, auction_id) == NO_AUCTION
    # the two takes raised the whole debt: the finishing one paid min_auction to the Backstop
    # directly, which pulled the first one's payment from the escrow
    assert _event(system, "LossClosed")["raised"] == owe + min_auction == debt
    pays = [e.args for e in system.events if e.name == "StableTransferred"]
    assert pays == [
        {"src": r.other, "dst": d.backstop, "amount": min_auction},
        {"src": t.auction, "dst": d.backstop, "amount": owe},
    ]
    assert _stable(system, t.auction) == 0


def test_take__partial_when_debt_at_most_min_auction__reverts_no_partial_take(system):
    """With the dust raised so that min_auction (15,000.75) is above the whole debt (~14,690), a
    partial take whose remainder is still worth min_auction (9 ETH x 1,800) reverts; taking the
    whole lot's worth works. (A remainder worth less than min_auction takes the whole lot: see
    tests/security/test_findings.py, finding 10.)"""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    _, debt, lot, owner, _, top = auction_sale(system, t, auction_id)
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, 13_275 * RAD)
    assert debt <= _read(system, t.auction, "min_auction") <= (lot - WAD) * top
    with reverts("auction: no partial take"):
        system.tx(t.auction, "take", r.other, auction_id, 1 * WAD, top, r.other, b"")
    system.tx(t.auction, "take", r.other, auction_id, lot, top, r.other, b"")
    assert system.events[-1].args["debt"] == 0
    assert _collateral(system, t, owner) == lot - debt // top


def test_take__max_price_below_current_price__reverts_price_above_maximum(system):
    """Money flow: none at 1 ray-ulp under the price; at exactly the price the taker pays 1,782
    BUSD for 1 ETH."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    started, top = auction_sale(system, t, auction_id)[4:6]
    at(system, started + 90)  # the first step: 1,782
    with reverts("auction: price above maximum"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, 1_782 * RAY - 1, r.other, b"")
    # at exactly the price (one block later, same step) it goes through
    system.tx(t.auction, "take", r.other, auction_id, WAD, 1_782 * RAY, r.other, b"")
    assert system.events[-1].args["price"] == system.events[-1].args["max_price"] == 1_782 * RAY
    assert system.events[-1].args["owe"] == 1_782 * RAD


def test_take__not_running__reverts(system):
    r, t = system.roles, system.eth
    for auction_id in (0, 1, 2**256 - 1):
        with reverts("auction: not running"):
            system.tx(t.auction, "take", r.other, auction_id, WAD, 2**256 - 1, r.other, b"")


def test_take__zero_collateral__moves_nothing(system):
    """A take of nothing pays nothing and leaves the auction as it was (events only)."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    system.tx(
        system.d.engine, "allow", r.other, t.auction
    )  # even paying nothing needs the permission
    before = auction_sale(system, t, auction_id)
    system.tx(t.auction, "take", r.other, auction_id, 0, before[5], r.other, b"")
    assert system.events[-1].args["owe"] == system.events[-1].args["collateral"] == 0
    assert auction_sale(system, t, auction_id) == before


def test_take__taker_has_not_allowed_the_auction__reverts_not_allowed(system):
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD)
    with reverts("engine: not allowed"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, 1_800 * RAY, r.other, b"")


def test_take__taker_without_enough_stable__reverts_insufficient_stable(system):
    """Money flow: the taker holds 1 rad less than 1 ETH costs: nothing moves; 1 wei less ETH
    (1,800 BUSD - 1.8e27 rad) is affordable."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 1_800 * RAD - 1, [t.auction])
    with reverts("engine: insufficient stable"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, 1_800 * RAY, r.other, b"")
    system.tx(t.auction, "take", r.other, auction_id, WAD - 1, 1_800 * RAY, r.other, b"")
