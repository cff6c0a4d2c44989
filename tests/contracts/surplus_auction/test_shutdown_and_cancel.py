"""SurplusAuction after shutdown: the surplus on auction returns to the Backstop at once and cancel
refunds the bidder's tokens; none are burned. Scenario and helpers:
tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

from support.debt_and_surplus import BID_DURATION, NO_AUCTION
from support.debt_and_surplus import backstop as _backstop
from support.debt_and_surplus import fees_to_backstop as _fees_to_backstop
from support.debt_and_surplus import fund_gov as _fund_gov
from support.debt_and_surplus import gov_balance as _gov_balance
from support.debt_and_surplus import gov_supply as _gov_supply
from support.debt_and_surplus import set_sizes as _set_sizes
from support.debt_and_surplus import shutdown as _shutdown
from support.debt_and_surplus import stable as _stable
from support.debt_and_surplus import start_surplus_auction as _start_surplus_auction
from support.debt_and_surplus import surplus_auction as _surplus_auction

from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def test_shutdown__surplus_returns_to_backstop_and_cancel_refunds_bidder_tokens(system):
    """Money flow: two 100 BUSD lots are on auction, the first with the other's 10-token bid.
    Shutdown sends the 200 BUSD back to the Backstop at once (its surplus is whole again);
    cancelling auction 1 returns the other's 10 tokens (none burned); auction 2 refunds nothing."""
    r, b, sa, gov = (
        system.roles,
        system.d.backstop,
        system.d.surplus_auction,
        system.d.governance_token,
    )
    surplus = _fees_to_backstop(system)
    _set_sizes(system, buffer=0, lot=100 * RAD)
    _start_surplus_auction(system)
    _start_surplus_auction(system)
    _fund_gov(system, r.other, 10 * WAD)
    system.tx(sa, "bid", r.other, 1, 10 * WAD)
    assert (_stable(system, b), _stable(system, sa)) == (surplus - 200 * RAD, 200 * RAD)
    with reverts("surplus auction: still live"):
        system.tx(sa, "cancel", r.keeper, 1)

    _shutdown(system)
    events = _events(system)
    returned = events.index(
        (system.d.engine, "StableTransferred", {"src": sa, "dst": b, "amount": 200 * RAD})
    )
    assert events[returned + 1] == (sa, "Shutdown", {})
    assert (_stable(system, b), _stable(system, sa)) == (surplus, 0)
    assert (_read(system, sa, "live"), _backstop(system, "live")) == (False, False)

    with reverts("backstop: not live"):
        _start_surplus_auction(system)
    with reverts("surplus auction: not live"):
        system.tx(sa, "start", r.governance, 100 * RAD)
    with reverts("surplus auction: not live"):
        system.tx(sa, "bid", r.other, 2, 10 * WAD)
    system.warp(BID_DURATION)
    with reverts("surplus auction: not live"):
        system.tx(sa, "finish", r.keeper, 1)

    system.tx(sa, "cancel", r.keeper, 1)
    assert _events(system) == [
        (gov, "Transfer", {"sender": sa, "receiver": r.other, "value": 10 * WAD}),
        (sa, "Cancelled", {"auction_id": 1, "winner": r.other, "refund": 10 * WAD}),
    ]
    assert (_gov_balance(system, r.other), _gov_balance(system, sa), _gov_supply(system)) == (
        10 * WAD,
        0,
        10 * WAD,
    )
    assert _surplus_auction(system, 1) == NO_AUCTION
    system.tx(sa, "cancel", r.keeper, 2)
    assert _events(system) == [(sa, "Cancelled", {"auction_id": 2, "winner": b, "refund": 0})]
    with reverts("surplus auction: not running"):
        system.tx(sa, "cancel", r.keeper, 2)
