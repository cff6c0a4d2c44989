"""SurplusAuction.restart: an auction without bids gets a new end and the same lot; not once it has
a bid. Scenario and helpers: tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

from support.debt_and_surplus import AUCTION_DURATION
from support.debt_and_surplus import at as _at
from support.debt_and_surplus import fees_to_backstop as _fees_to_backstop
from support.debt_and_surplus import fund_gov as _fund_gov
from support.debt_and_surplus import set_sizes as _set_sizes
from support.debt_and_surplus import stable as _stable
from support.debt_and_surplus import start_surplus_auction as _start_surplus_auction
from support.debt_and_surplus import surplus_auction as _surplus_auction

from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_surplus_auction_restart__no_bids__new_end_same_lot__has_bids_after_a_bid(system):
    """Money flow: none; the unsold lot stays in the auction across the restart."""
    r, b, sa = system.roles, system.d.backstop, system.d.surplus_auction
    _fees_to_backstop(system)
    lot = 100 * RAD
    _set_sizes(system, buffer=0, lot=lot)
    _start_surplus_auction(system)
    end = _surplus_auction(system, 1)[4]
    _fund_gov(system, r.other, 10 * WAD)
    _at(system, end - 1)
    with reverts("surplus auction: not ended"):
        system.tx(sa, "restart", r.keeper, 1)
    with reverts("surplus auction: auction ended"):
        system.tx(sa, "bid", r.other, 1, 10 * WAD)
    assert system.now == end
    system.tx(sa, "restart", r.keeper, 1)
    new_end = system.now + AUCTION_DURATION
    assert _events(system) == [(sa, "Restarted", {"auction_id": 1, "end": new_end})]
    assert _surplus_auction(system, 1) == (0, lot, b, 0, new_end)
    assert _stable(system, sa) == lot

    system.tx(sa, "bid", r.other, 1, 10 * WAD)
    _at(system, new_end + 1)
    with reverts("surplus auction: has bids"):
        system.tx(sa, "restart", r.keeper, 1)
    with reverts("surplus auction: not running"):
        system.tx(sa, "restart", r.keeper, 2)
