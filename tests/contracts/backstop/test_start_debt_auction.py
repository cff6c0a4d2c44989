"""Backstop.start_debt_auction: an auction for the bid size or the rest of the debt to auction,
never more, and nothing when there is nothing to auction. Scenario and helpers:
tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

from support.debt_and_surplus import AUCTION_DURATION, INITIAL_LOT
from support.debt_and_surplus import backstop as _backstop
from support.debt_and_surplus import bad_debt as _bad_debt
from support.debt_and_surplus import debt_auction as _debt_auction
from support.debt_and_surplus import loss_to_debt_auction as _loss_to_debt_auction
from support.debt_and_surplus import set_sizes as _set_sizes
from support.debt_and_surplus import start_debt_auction as _start_debt_auction

from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_start_debt_auction__nothing_to_auction__reverts(system):
    with reverts("backstop: no debt to auction"):
        _start_debt_auction(system)


def test_start_debt_auction__bid_is_bid_size_or_the_rest_of_debt_to_auction(system):
    """Money flow: none yet. The ~1,000 BUSD loss is put on auction in bids of at most 400: 400,
    400, then the last ~200; each auction offers the initial 250 tokens; then nothing is left."""
    b, da = system.d.backstop, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _set_sizes(system, debt_bid=400 * RAD)
    bad_debt = _bad_debt(system, b)
    last = loss - 800 * RAD
    for auction_id, bid, to_auction in (
        (1, 400 * RAD, loss - 400 * RAD),
        (2, 400 * RAD, last),
        (3, last, 0),
    ):
        assert _start_debt_auction(system) == auction_id
        assert _events(system) == [
            (da, "Started", {"auction_id": auction_id, "bid": bid, "lot": INITIAL_LOT}),
            (b, "DebtAuctionStarted", {"auction_id": auction_id, "bid": bid}),
        ]
        assert _debt_auction(system, auction_id) == (
            bid,
            INITIAL_LOT,
            b,
            0,
            system.now + AUCTION_DURATION,
        )
        assert _backstop(system, "debt_to_auction") == to_auction
        assert _backstop(system, "debt_on_auction") == loss - to_auction
    # nothing moved in the engine: the loss is still the Backstop's bad debt until bids pay it
    assert _bad_debt(system, b) == bad_debt
    with reverts("backstop: no debt to auction"):
        _start_debt_auction(system)


def test_start_debt_auction__bid_size_above_debt__auctions_all_of_it(system):
    loss = _loss_to_debt_auction(system)
    assert _start_debt_auction(system) == 1
    assert _debt_auction(system, 1)[:2] == (loss, INITIAL_LOT)
    assert (_backstop(system, "debt_to_auction"), _backstop(system, "debt_on_auction")) == (0, loss)
