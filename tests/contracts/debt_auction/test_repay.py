"""DebtAuction.repay (issue 63, finding 5): anyone ends a debt auction nobody has bid on when the
Backstop's surplus room (its stablecoin less the unsettled proceeds and the unattributed bad debt)
arrives to pay its whole bid; the Backstop cancels that much of the debt on auction
(`on_debt_auction_bid`, as for a first bid) and no governance token is ever minted for it. Only
while live, only an auction without a bid, only when the room covers the bid. Scenario and
helpers: tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

from support.debt_and_surplus import BID_DURATION, INITIAL_LOT, MIN_DECREASE, NO_AUCTION
from support.debt_and_surplus import backstop as _backstop
from support.debt_and_surplus import bad_debt as _bad_debt
from support.debt_and_surplus import debt_auction as _debt_auction
from support.debt_and_surplus import fund_stable as _fund_stable
from support.debt_and_surplus import gov_supply as _gov_supply
from support.debt_and_surplus import loss_to_debt_auction as _loss_to_debt_auction
from support.debt_and_surplus import stable as _stable
from support.debt_and_surplus import start_debt_auction as _start_debt_auction

from offchain.model.fixed_point import WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def _surplus_arrives(system, amount: int) -> None:
    """A holder sends the Backstop `amount` [rad] (governance's, minted against its own bad
    debt)."""
    r = system.roles
    system.tx(
        system.d.engine, "create_unbacked", r.governance, r.governance, system.d.backstop, amount
    )


def _repay(system, auction_id: int) -> None:
    system.tx(system.d.debt_auction, "repay", system.roles.stranger, auction_id)


def test_finding_63_5__surplus_after_the_auction_started__repays_it_no_token_minted(system):
    """Money flow: the ~1,000 BUSD loss is on auction (no bid yet) when surplus arrives. With
    the keeper's reward (the unattributed bad debt, which the fund keeps surplus for first) plus
    the bid less one wei, the repay is refused; with the last wei, the stranger's repay ends the
    auction (no token minted, nothing refunded: nobody paid) and the Backstop cancels the bid
    from its stablecoin against as much of its bad debt. A bid or a second repay then
    finds no auction. Before the fix (868be10) nothing could end it: its first bid (250 / 1.05)
    minted 238.10 tokens at its finish while the surplus sat in the fund."""
    b, da, e = system.d.backstop, system.d.debt_auction, system.d.engine
    loss = _loss_to_debt_auction(system)
    assert _start_debt_auction(system) == 1
    reward = _read(system, b, "unattributed_debt")
    _surplus_arrives(system, reward + loss - 1)
    with reverts("debt auction: surplus below bid"):
        _repay(system, 1)
    _surplus_arrives(system, 1)
    supply, bad_debt = _gov_supply(system), _bad_debt(system, b)

    _repay(system, 1)

    assert _events(system) == [
        (e, "DebtSettled", {"account": b, "amount": loss}),
        (b, "DebtAuctionPaid", {"amount": loss}),
        (da, "Repaid", {"auction_id": 1, "bid": loss}),
    ]
    assert _debt_auction(system, 1) == NO_AUCTION
    assert _read(system, da, "running") == 0
    assert (_backstop(system, "debt_to_auction"), _backstop(system, "debt_on_auction")) == (0, 0)
    assert _bad_debt(system, b) == bad_debt - loss == reward
    assert _stable(system, b) == reward
    assert _gov_supply(system) == supply
    _fund_stable(system, system.roles.other, loss)
    with reverts("debt auction: not running"):
        system.tx(da, "bid", system.roles.other, 1, INITIAL_LOT * WAD // MIN_DECREASE)
    with reverts("debt auction: not running"):
        _repay(system, 1)


def test_repay__auction_with_a_bid__refused_its_bidder_paid(system):
    """A first bid paid the Backstop (its debt is settled): the auction cannot be ended, however
    much surplus there is; it finishes and mints as bid."""
    da = system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _start_debt_auction(system)
    _fund_stable(system, system.roles.other, loss)
    lot = INITIAL_LOT * WAD // MIN_DECREASE
    system.tx(da, "bid", system.roles.other, 1, lot)
    _surplus_arrives(system, 10 * loss)
    with reverts("debt auction: has bids"):
        _repay(system, 1)
    system.warp(BID_DURATION)
    system.tx(da, "finish", system.roles.keeper, 1)
    assert _backstop(system, "debt_on_auction") == 0


def test_repay__no_auction_or_after_shutdown__refused(system):
    """No such auction: "debt auction: not running"; after shutdown (its debt is settlement
    debt, the auction is cancelled instead): "debt auction: not live"."""
    loss = _loss_to_debt_auction(system)
    _surplus_arrives(system, 10 * loss)
    with reverts("debt auction: not running"):
        _repay(system, 1)
    system.tx(system.d.settlement, "shutdown", system.roles.governance)
    with reverts("debt auction: not live"):
        _repay(system, 1)


def test_repay__no_surplus__refused_surplus_below_bid(system):
    """With no surplus (the Backstop holds none; the keeper's reward is unattributed bad debt),
    the auction runs on."""
    _loss_to_debt_auction(system)
    _start_debt_auction(system)
    with reverts("debt auction: surplus below bid"):
        _repay(system, 1)
    assert _debt_auction(system, 1)[4] != 0
