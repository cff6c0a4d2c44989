"""DutchAuction.take: a whole lot, a partial take, the finishing take that pays the Backstop
directly while the Backstop pulls only the escrow, and a sale that sells out with debt left.
Scenario and helpers: tests/contracts/support/dutch_auction.py.
"""

from __future__ import annotations

from helpers import at, auction_sale, ceil_div, crash, eth_auction, fund_taker, heal, liquidate
from support.dutch_auction import ETH, NO_AUCTION
from support.dutch_auction import bad_debt as _bad_debt
from support.dutch_auction import collateral as _collateral
from support.dutch_auction import ctype as _ctype
from support.dutch_auction import loss as _loss
from support.dutch_auction import stable as _stable
from support.dutch_auction import status as _status
from support.dutch_auction import type_debt_in_auction as _type_debt_in_auction

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def test_take__whole_lot__pays_debt_returns_rest_to_owner_and_finishes(system):
    """Money flow: the taker's take finishes the auction, so it pays exactly the debt to raise
    straight to the Backstop (nothing passes through the escrow) and receives floor(debt / price)
    ETH; the rest of the 10 ETH returns to the borrower's free collateral; the liquidator's debt
    in auction drops by the debt (I: lots == auction's collateral). The auction closes its loss
    event with all of it paid directly: the Backstop pulls nothing from the (empty) escrow,
    keeps the seized debt's part (13,000 x rate) as unsettled proceeds until the stranger heals
    it, and the 13% penalty as surplus; the event is done with no loss."""
    r, t, d = system.roles, system.eth, system.d
    auction_id = eth_auction(system)
    seized = 13_000 * WAD * _ctype(system, t).rate
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    _, debt, lot, _, started, top = auction_sale(system, t, auction_id)
    assert debt == ceil_div(seized * 113, 100)
    in_auction_0 = _read(system, d.liquidator, "debt_in_auction")
    backstop_0, taker_0 = _stable(system, d.backstop), _stable(system, r.other)
    backstop_bad_0 = _bad_debt(system, d.backstop)

    system.tx(t.auction, "take", r.other, auction_id, lot, top, r.other, b"")
    bought = debt // top
    returned = lot - bought
    assert lot * top > debt and 0 < returned < lot
    assert _events(system) == [
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.other, "amount": bought},
        ),
        (d.engine, "StableTransferred", {"src": r.other, "dst": d.backstop, "amount": debt}),
        (d.liquidator, "DebtInAuctionRemoved", {"collateral_type": t.type_id, "amount": debt}),
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.borrower, "amount": returned},
        ),
        (
            d.backstop,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": auction_id,
                "raised": debt,
                "covered": seized,
                "loss": 0,
            },
        ),
        (
            t.auction,
            "Finished",
            {"auction_id": auction_id, "collateral_returned": returned, "debt_unraised": 0},
        ),
        (
            t.auction,
            "Taken",
            {
                "auction_id": auction_id,
                "max_price": top,
                "price": top,
                "owe": debt,
                "collateral": bought,
                "debt": 0,
                "lot": returned,
                "owner": r.borrower,
            },
        ),
    ]
    assert auction_sale(system, t, auction_id) == NO_AUCTION
    assert _status(system, t, auction_id) == (False, 0, 0, 0)
    assert _read(system, t.auction, "active_auctions") == ()
    assert _read(system, t.auction, "active_count") == 0
    assert _collateral(system, t, r.other) == bought
    assert _collateral(system, t, r.borrower) == returned
    assert _collateral(system, t, t.auction) == 0
    assert _stable(system, r.other) == taker_0 - debt
    assert _stable(system, t.auction) == 0  # the escrow was never used
    # the seized debt's part of the proceeds waits, attributed, until anyone heals it
    assert _stable(system, d.backstop) == backstop_0 + debt
    assert _bad_debt(system, d.backstop) == backstop_bad_0
    assert _loss(system, t, auction_id) == (seized, 0, started, 3)
    assert _read(system, d.backstop, "open_losses") == 0
    assert _read(system, d.backstop, "attributed_debt") == seized
    heal(system, seized)
    assert _stable(system, d.backstop) == backstop_0 + debt - seized  # the penalty
    assert _bad_debt(system, d.backstop) == backstop_bad_0 - seized  # the keeper's reward is left
    assert _read(system, d.backstop, "attributed_debt") == 0
    assert _read(system, d.liquidator, "debt_in_auction") == in_auction_0 - debt
    assert _type_debt_in_auction(system, t) == 0
    # the borrower got back what the debt did not need at the auction's price: ~1.84 of 10 ETH
    assert 183 * WAD // 100 < returned < 184 * WAD // 100
    with reverts("auction: not running"):
        system.tx(t.auction, "take", r.other, auction_id, lot, top, r.other, b"")


def test_take__partial__leaves_the_rest_for_sale(system):
    """Money flow: 2 ETH at 1,800 = 3,600 BUSD from the taker into the auction's escrow (not the
    Backstop: its loss event keeps running, untouched); the auction keeps 8 ETH and the debt less
    3,600; the liquidator's debt in auction drops by 3,600. A second partial take adds to the
    escrow."""
    r, t, d = system.roles, system.eth, system.d
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    _, debt, lot, owner, started, top = auction_sale(system, t, auction_id)
    in_auction_0 = _type_debt_in_auction(system, t)
    loss_0, backstop_0 = _loss(system, t, auction_id), _stable(system, d.backstop)
    system.tx(t.auction, "take", r.other, auction_id, 2 * WAD, top, r.other, b"")
    assert _events(system) == [
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.other, "amount": 2 * WAD},
        ),
        (d.engine, "StableTransferred", {"src": r.other, "dst": t.auction, "amount": 3_600 * RAD}),
        (
            d.liquidator,
            "DebtInAuctionRemoved",
            {"collateral_type": t.type_id, "amount": 3_600 * RAD},
        ),
        (
            t.auction,
            "Taken",
            {
                "auction_id": auction_id,
                "max_price": top,
                "price": top,
                "owe": 3_600 * RAD,
                "collateral": 2 * WAD,
                "debt": debt - 3_600 * RAD,
                "lot": 8 * WAD,
                "owner": owner,
            },
        ),
    ]
    assert auction_sale(system, t, auction_id) == (
        0,
        debt - 3_600 * RAD,
        8 * WAD,
        owner,
        started,
        top,
    )
    assert _type_debt_in_auction(system, t) == in_auction_0 - 3_600 * RAD
    assert _collateral(system, t, r.other) == 2 * WAD
    assert _collateral(system, t, t.auction) == 8 * WAD
    assert _read(system, t.auction, "active_auctions") == (auction_id,)
    assert _stable(system, t.auction) == 3_600 * RAD
    assert _stable(system, d.backstop) == backstop_0
    assert _loss(system, t, auction_id) == loss_0 and loss_0[3] == 1
    system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    assert _stable(system, t.auction) == 5_400 * RAD
    assert _loss(system, t, auction_id) == loss_0


def test_take__finishing_after_partial__pays_backstop_directly_and_backstop_pulls_only_the_escrow(
    system,
):
    """Money flow: two auctions run (the borrower's and the stranger's vaults, 10 ETH / 13,000
    each, both at 1,800). A partial take of 2 ETH of auction 1 pays 3,600 into the escrow, one of
    1 ETH of auction 2 pays 1,800 into it: 5,400 escrowed in all. The take of auction 1's other
    8 ETH finishes it: the taker pays what is left to raise (T - 3,600) straight to the Backstop,
    the borrower gets the ETH it did not need back, and the Backstop pulls from the escrow exactly
    auction 1's earlier 3,600 (not auction 2's 1,800, which stays), so it has received T in all:
    D of it waits as unsettled proceeds until healed, and it keeps the penalty T - D. Auction 2's
    event runs on."""
    r, t, d = system.roles, system.eth, system.d
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    system.open_vault(r.stranger, ETH, 10 * WAD, 13_000 * WAD)
    crash(system, t, 1_500 * WAD)
    first = liquidate(system, t, r.borrower)
    seized = 13_000 * WAD * _ctype(system, t).rate
    second = liquidate(system, t, r.stranger)
    fund_taker(system, r.other, 30_000 * RAD, [t.auction])
    _, debt, lot, owner, started, top = auction_sale(system, t, first)
    assert top == auction_sale(system, t, second)[5] == 1_800 * RAY and lot == 10 * WAD
    assert debt == ceil_div(seized * 113, 100)
    backstop_0, bad_0 = _stable(system, d.backstop), _bad_debt(system, d.backstop)
    loss_2 = _loss(system, t, second)

    system.tx(t.auction, "take", r.other, first, 2 * WAD, top, r.other, b"")
    system.tx(t.auction, "take", r.other, second, WAD, top, r.other, b"")
    assert _stable(system, t.auction) == 5_400 * RAD  # both auctions' escrow
    assert _stable(system, d.backstop) == backstop_0  # nothing reached the Backstop yet
    taker_0 = _stable(system, r.other)

    system.tx(t.auction, "take", r.other, first, 8 * WAD, top, r.other, b"")
    owe = debt - 3_600 * RAD  # less than 8 ETH's worth (14,400): the rest of the debt
    bought = owe // top
    returned = 8 * WAD - bought
    assert 6 * WAD < bought < 7 * WAD
    assert _events(system) == [
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.other, "amount": bought},
        ),
        (d.engine, "StableTransferred", {"src": r.other, "dst": d.backstop, "amount": owe}),
        (d.liquidator, "DebtInAuctionRemoved", {"collateral_type": t.type_id, "amount": owe}),
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": owner, "amount": returned},
        ),
        (
            d.engine,
            "StableTransferred",
            {"src": t.auction, "dst": d.backstop, "amount": 3_600 * RAD},
        ),
        (
            d.backstop,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": first,
                "raised": debt,
                "covered": seized,
                "loss": 0,
            },
        ),
        (
            t.auction,
            "Finished",
            {"auction_id": first, "collateral_returned": returned, "debt_unraised": 0},
        ),
        (
            t.auction,
            "Taken",
            {
                "auction_id": first,
                "max_price": top,
                "price": top,
                "owe": owe,
                "collateral": bought,
                "debt": 0,
                "lot": returned,
                "owner": owner,
            },
        ),
    ]
    assert _stable(system, r.other) == taker_0 - owe
    assert _stable(system, t.auction) == 1_800 * RAD  # auction 2's escrow only
    assert _stable(system, d.backstop) == backstop_0 + debt
    heal(system, seized)
    assert _stable(system, d.backstop) == backstop_0 + debt - seized  # the penalty
    assert _bad_debt(system, d.backstop) == bad_0 - seized
    assert _collateral(system, t, owner) == returned
    assert _loss(system, t, first) == (seized, 0, started, 3)
    assert _loss(system, t, second) == loss_2 and loss_2[3] == 1
    assert _read(system, t.auction, "active_auctions") == (second,)


def test_take__sells_out_with_debt_left__finishes_with_debt_unraised(system):
    """Money flow: after a crash to 1,300 (start 1,560) and 6 steps (x0.99 ** 6), 10 ETH are worth
    less than the debt to raise: the take sells out, so the taker pays lot x price (~14,687)
    straight to the Backstop (nothing to the escrow), the borrower gets nothing back, the rest of
    the debt to raise is not raised and the liquidator's debt in auction drops by the whole debt.
    The proceeds still exceed the seized debt (13,000 x rate; only part of the penalty went
    unraised): the Backstop, with nothing to pull from the escrow, holds the seized debt's part
    as unsettled proceeds (healed by the stranger) and keeps the rest as surplus; the event is
    done with no loss."""
    r, t, d = system.roles, system.eth, system.d
    auction_id = eth_auction(system, price=1_300 * WAD)
    seized = 13_000 * WAD * _ctype(system, t).rate
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    _, debt, lot, owner, started, top = auction_sale(system, t, auction_id)
    assert top == 1_560 * RAY
    at(system, started + 6 * 90)
    price = ceil_div(top * 99**6, 100**6)  # exact to the ray-ulp here (0.99 ** 6 has 12 decimals)
    owe = lot * price
    assert seized < owe < debt
    in_auction_0, backstop_0 = (
        _read(system, d.liquidator, "debt_in_auction"),
        _stable(system, d.backstop),
    )
    backstop_bad_0 = _bad_debt(system, d.backstop)
    borrower_free_0 = _collateral(system, t, owner)
    system.tx(t.auction, "take", r.other, auction_id, 2 * lot, price, r.other, b"")
    assert _events(system) == [
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.other, "amount": lot},
        ),
        (d.engine, "StableTransferred", {"src": r.other, "dst": d.backstop, "amount": owe}),
        (d.liquidator, "DebtInAuctionRemoved", {"collateral_type": t.type_id, "amount": debt}),
        (
            d.backstop,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": auction_id,
                "raised": owe,
                "covered": seized,
                "loss": 0,
            },
        ),
        (
            t.auction,
            "Finished",
            {"auction_id": auction_id, "collateral_returned": 0, "debt_unraised": debt - owe},
        ),
        (
            t.auction,
            "Taken",
            {
                "auction_id": auction_id,
                "max_price": price,
                "price": price,
                "owe": owe,
                "collateral": lot,
                "debt": debt - owe,
                "lot": 0,
                "owner": owner,
            },
        ),
    ]
    assert _read(system, d.liquidator, "debt_in_auction") == in_auction_0 - debt
    assert _type_debt_in_auction(system, t) == 0
    assert _stable(system, d.backstop) == backstop_0 + owe
    assert _bad_debt(system, d.backstop) == backstop_bad_0
    heal(system, seized)
    assert _stable(system, d.backstop) == backstop_0 + owe - seized
    assert _bad_debt(system, d.backstop) == backstop_bad_0 - seized
    assert _stable(system, t.auction) == 0
    assert _loss(system, t, auction_id) == (seized, 0, started, 3)
    assert _collateral(system, t, owner) == borrower_free_0
    assert auction_sale(system, t, auction_id) == NO_AUCTION
    assert _read(system, t.auction, "active_count") == 0
