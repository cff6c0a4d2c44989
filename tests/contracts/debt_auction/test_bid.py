"""DebtAuction.bid: the first bid pays the Backstop, later bids refund the previous bidder, the
finish mints the lot; a bid standing past the end ends there. Scenario and helpers:
tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

from support.debt_and_surplus import BID_DURATION, INITIAL_LOT, MIN_DECREASE, NO_AUCTION
from support.debt_and_surplus import at as _at
from support.debt_and_surplus import backstop as _backstop
from support.debt_and_surplus import bad_debt as _bad_debt
from support.debt_and_surplus import debt_auction as _debt_auction
from support.debt_and_surplus import fund_stable as _fund_stable
from support.debt_and_surplus import gov_balance as _gov_balance
from support.debt_and_surplus import gov_supply as _gov_supply
from support.debt_and_surplus import loss_to_debt_auction as _loss_to_debt_auction
from support.debt_and_surplus import set_debt_params as _set_debt_params
from support.debt_and_surplus import set_sizes as _set_sizes
from support.debt_and_surplus import stable as _stable
from support.debt_and_surplus import start_debt_auction as _start_debt_auction

from offchain.model.fixed_point import RAD, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def _max_lot(lot: int, min_decrease: int = MIN_DECREASE) -> int:
    """The largest lot a bid may ask for: lot x min_decrease <= previous lot x WAD."""
    return lot * WAD // min_decrease


def test_debt_auction_bid__first_pays_backstop_later_refunds_finish_mints_lot(system):
    """Money flow: the first auction sells 400 BUSD of bad debt for governance tokens. The other
    bids 400 for 238.09 tokens: the 400 go to the Backstop, which settles 400 of its bad debt at
    once (debt_on_auction 400 -> 0). The stranger then bids 400 for 200 tokens: the 400 repay
    the other exactly, the Backstop is untouched. When the stranger's bid has stood for
    `bid_duration`, `finish` mints the 200 tokens to the stranger (supply 0 -> 200)."""
    r, b, da, gov = (
        system.roles,
        system.d.backstop,
        system.d.debt_auction,
        system.d.governance_token,
    )
    loss = _loss_to_debt_auction(system)
    _set_sizes(system, debt_bid=400 * RAD)
    _start_debt_auction(system)
    end = _debt_auction(system, 1)[4]
    for bidder in (r.other, r.stranger):
        _fund_stable(system, bidder, 400 * RAD)
    other_before = _stable(system, r.other)
    bad_debt = _bad_debt(system, b)

    first_lot = _max_lot(INITIAL_LOT)
    assert first_lot == 238_095_238_095_238_095_238  # 250 / 1.05, rounded down
    with reverts("debt auction: lot not lower"):
        system.tx(da, "bid", r.other, 1, first_lot + 1)
    system.tx(da, "bid", r.other, 1, first_lot)
    assert _events(system) == [
        (system.d.engine, "StableTransferred", {"src": r.other, "dst": b, "amount": 400 * RAD}),
        (system.d.engine, "DebtSettled", {"account": b, "amount": 400 * RAD}),
        (b, "DebtAuctionPaid", {"amount": 400 * RAD}),
        (da, "Bid", {"auction_id": 1, "bidder": r.other, "lot": first_lot, "bid": 400 * RAD}),
    ]
    assert _debt_auction(system, 1) == (
        400 * RAD,
        first_lot,
        r.other,
        system.now + BID_DURATION,
        end,
    )
    assert _stable(system, r.other) == other_before - 400 * RAD
    assert _bad_debt(system, b) == bad_debt - 400 * RAD
    assert _stable(system, b) == 0
    assert _backstop(system, "debt_on_auction") == 0
    assert _backstop(system, "debt_to_auction") == loss - 400 * RAD

    # the same lot again is not lower
    with reverts("debt auction: lot not lower"):
        system.tx(da, "bid", r.stranger, 1, first_lot)
    stranger_before = _stable(system, r.stranger)
    other_before = _stable(system, r.other)
    system.tx(da, "bid", r.stranger, 1, 200 * WAD)
    expiry = system.now + BID_DURATION
    assert _events(system) == [
        (
            system.d.engine,
            "StableTransferred",
            {"src": r.stranger, "dst": r.other, "amount": 400 * RAD},
        ),
        (da, "Bid", {"auction_id": 1, "bidder": r.stranger, "lot": 200 * WAD, "bid": 400 * RAD}),
    ]
    assert _stable(system, r.other) == other_before + 400 * RAD
    assert _stable(system, r.stranger) == stranger_before - 400 * RAD
    assert _bad_debt(system, b) == bad_debt - 400 * RAD
    assert _debt_auction(system, 1) == (400 * RAD, 200 * WAD, r.stranger, expiry, end)

    _at(system, expiry - 1)
    with reverts("debt auction: not finished"):
        system.tx(da, "finish", r.keeper, 1)
    assert system.now == expiry - 1
    with reverts("debt auction: bid expired"):
        system.tx(da, "bid", r.other, 1, 100 * WAD)
    assert system.now == expiry
    system.tx(da, "finish", r.keeper, 1)
    assert _events(system) == [
        (gov, "Transfer", {"sender": ZERO_ADDRESS, "receiver": r.stranger, "value": 200 * WAD}),
        (
            da,
            "Finished",
            {"auction_id": 1, "winner": r.stranger, "lot": 200 * WAD, "bid": 400 * RAD},
        ),
    ]
    assert (_gov_balance(system, r.stranger), _gov_balance(system, r.other)) == (200 * WAD, 0)
    assert _gov_supply(system) == 200 * WAD
    assert _debt_auction(system, 1) == NO_AUCTION
    with reverts("debt auction: not finished"):
        system.tx(da, "finish", r.keeper, 1)
    with reverts("debt auction: not running"):
        system.tx(da, "bid", r.other, 1, WAD)


def test_debt_auction_bid__winner_lowers_own_lot__pays_nothing_again(system):
    """Money flow: the other's first bid pays the Backstop the whole loss; lowering its own lot
    later moves no stablecoin and restarts its bid's clock."""
    r, da = system.roles, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _start_debt_auction(system)
    _fund_stable(system, r.other, loss)
    system.tx(da, "bid", r.other, 1, 200 * WAD)
    assert _stable(system, r.other) == 0
    system.warp(BID_DURATION - 1)
    system.tx(da, "bid", r.other, 1, 190 * WAD)
    assert _events(system) == [
        (da, "Bid", {"auction_id": 1, "bidder": r.other, "lot": 190 * WAD, "bid": loss})
    ]
    assert _debt_auction(system, 1)[1:4] == (190 * WAD, r.other, system.now + BID_DURATION)
    assert _stable(system, r.other) == 0
    assert _backstop(system, "debt_on_auction") == 0


def test_debt_auction_bid__without_stablecoin__reverts_and_backstop_unchanged(system):
    r, da = system.roles, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _start_debt_auction(system)
    system.tx(system.d.engine, "allow", r.stranger, da)
    with reverts("engine: insufficient stable"):
        system.tx(da, "bid", r.stranger, 1, 200 * WAD)
    assert _backstop(system, "debt_on_auction") == loss
    assert _debt_auction(system, 1)[2:4] == (system.d.backstop, 0)


def test_debt_auction_bid__not_started__reverts_not_running(system):
    with reverts("debt auction: not running"):
        system.tx(system.d.debt_auction, "bid", system.roles.other, 1, WAD)


def test_debt_auction__bid_standing_past_end__ends_at_end_and_finishes_there(system):
    """A bid that would stand beyond the auction's end: at the end no one may bid and the
    standing bid wins (bid_duration raised to 3 days mid-auction: running auctions use it)."""
    r, da = system.roles, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _start_debt_auction(system)
    end = _debt_auction(system, 1)[4]
    _set_debt_params(system, bid_duration=3 * 86_400)
    for bidder in (r.other, r.stranger):
        _fund_stable(system, bidder, loss)
    system.tx(da, "bid", r.other, 1, 100 * WAD)
    assert _debt_auction(system, 1)[3] == system.now + 3 * 86_400 > end
    _at(system, end - 1)
    with reverts("debt auction: not finished"):
        system.tx(da, "finish", r.keeper, 1)
    with reverts("debt auction: auction ended"):
        system.tx(da, "bid", r.stranger, 1, 50 * WAD)
    system.tx(da, "finish", r.keeper, 1)
    assert _gov_balance(system, r.other) == 100 * WAD
