"""Backstop.start_debt_auction: the free surplus (less the unattributed bad debt) repays the debt
to auction first (issue 63, finding 5), then an auction for the bid size or the rest of it, never
more, and nothing when there is nothing to auction. Scenario and helpers:
tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

from support.debt_and_surplus import AUCTION_DURATION, INITIAL_LOT
from support.debt_and_surplus import backstop as _backstop
from support.debt_and_surplus import bad_debt as _bad_debt
from support.debt_and_surplus import debt_auction as _debt_auction
from support.debt_and_surplus import gov_supply as _gov_supply
from support.debt_and_surplus import loss_to_debt_auction as _loss_to_debt_auction
from support.debt_and_surplus import set_sizes as _set_sizes
from support.debt_and_surplus import stable as _stable
from support.debt_and_surplus import start_debt_auction as _start_debt_auction

from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
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


def _surplus_arrives(system, amount: int) -> None:
    """A holder sends the Backstop `amount` [rad] of stablecoin (governance's, minted against its
    own bad debt): surplus arriving after the loss went to the debt-auction layer."""
    r = system.roles
    system.tx(
        system.d.engine, "create_unbacked", r.governance, r.governance, system.d.backstop, amount
    )


def _reward(system) -> int:
    """The keeper's reward of the scenario's liquidation: the Backstop's unattributed bad debt."""
    return _read(system, system.d.backstop, "unattributed_debt")


def test_finding_63_5__surplus_after_the_loss__repays_it_before_any_token_is_minted(system):
    """Money flow: the ~1,000 BUSD loss went to the debt-auction layer; then 50,000 of surplus
    arrives. `start_debt_auction` repays all of the loss from it (the engine cancels the
    Backstop's stablecoin against as much of its bad debt) and starts no auction: no governance
    token can be minted for it. Before the fix (868be10) it started an auction for the loss
    while the fund held the 50,000, and a first bid at the largest lot the minimum decrease
    allows (250 / 1.05) minted 238.10 tokens at its finish."""
    b, e = system.d.backstop, system.d.engine
    loss = _loss_to_debt_auction(system)
    reward = _reward(system)
    _surplus_arrives(system, 50_000 * RAD)
    supply = _gov_supply(system)

    assert _start_debt_auction(system) == 0  # no debt auction was ever started
    assert _events(system) == [
        (e, "DebtSettled", {"account": b, "amount": loss}),
        (b, "AuctionDebtRepaid", {"amount": loss}),
    ]
    assert (_backstop(system, "debt_to_auction"), _backstop(system, "debt_on_auction")) == (0, 0)
    assert _bad_debt(system, b) == reward
    assert _stable(system, b) == 50_000 * RAD - loss
    assert _gov_supply(system) == supply
    with reverts("backstop: no debt to auction"):
        _start_debt_auction(system)


def test_start_debt_auction__surplus_pays_part__auctions_only_the_rest(system):
    """Money flow: surplus of the keeper's reward (the unattributed bad debt the fund keeps
    surplus for first) plus 400 arrives; the start repays 400 of the loss and auctions the
    rest (one bid: the bid size is above it)."""
    b, da = system.d.backstop, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    reward = _reward(system)
    _surplus_arrives(system, reward + 400 * RAD)

    assert _start_debt_auction(system) == 1
    assert _events(system) == [
        (system.d.engine, "DebtSettled", {"account": b, "amount": 400 * RAD}),
        (b, "AuctionDebtRepaid", {"amount": 400 * RAD}),
        (da, "Started", {"auction_id": 1, "bid": loss - 400 * RAD, "lot": INITIAL_LOT}),
        (b, "DebtAuctionStarted", {"auction_id": 1, "bid": loss - 400 * RAD}),
    ]
    assert _backstop(system, "debt_on_auction") == loss - 400 * RAD
    assert _read(system, b, "unattributed_debt") == reward
    assert _stable(system, b) == reward


def test_start_debt_auction__surplus_below_the_unattributed_debt__repays_nothing(system):
    """The fund keeps its surplus for the unattributed bad debt (the keeper's reward) first: one
    wei short of it, there is no room, and the whole loss is auctioned."""
    loss = _loss_to_debt_auction(system)
    _surplus_arrives(system, _reward(system) - 1)
    assert _start_debt_auction(system) == 1
    assert [name for _, name, _ in _events(system)] == ["Started", "DebtAuctionStarted"]
    assert _debt_auction(system, 1)[0] == loss
