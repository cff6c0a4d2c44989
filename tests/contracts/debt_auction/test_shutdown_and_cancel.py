"""DebtAuction after shutdown: auctions stop and cancel refunds a paid bidder as new bad debt of the
Backstop; no token is minted. Scenario and helpers: tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

from support.debt_and_surplus import BID_DURATION, NO_AUCTION
from support.debt_and_surplus import backstop as _backstop
from support.debt_and_surplus import bad_debt as _bad_debt
from support.debt_and_surplus import debt_auction as _debt_auction
from support.debt_and_surplus import fund_stable as _fund_stable
from support.debt_and_surplus import gov_supply as _gov_supply
from support.debt_and_surplus import loss_to_debt_auction as _loss_to_debt_auction
from support.debt_and_surplus import set_sizes as _set_sizes
from support.debt_and_surplus import shutdown as _shutdown
from support.debt_and_surplus import stable as _stable
from support.debt_and_surplus import start_debt_auction as _start_debt_auction

from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def test_shutdown__debt_auctions_stop_and_cancel_refunds_paid_bidder_as_new_bad_debt(system):
    """Money flow: auction 1 (400 BUSD) was paid by the other's bid, which settled 400 of the
    Backstop's bad debt; auction 2 (400) has no bid; the last ~200 were never put on auction.
    Shutdown moves the ~600 not yet raised to settlement debt. Cancelling auction 1 gives the
    other its 400
    back as new stablecoin, owed by the Backstop as unattributed bad debt; no token is ever
    minted. Cancelling auction 2 refunds nothing."""
    r, b, da = system.roles, system.d.backstop, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _set_sizes(system, debt_bid=400 * RAD)
    _start_debt_auction(system)
    _start_debt_auction(system)
    _fund_stable(system, r.other, 400 * RAD)
    system.tx(da, "bid", r.other, 1, 200 * WAD)
    assert (_backstop(system, "debt_to_auction"), _backstop(system, "debt_on_auction")) == (
        loss - 800 * RAD,
        400 * RAD,
    )
    with reverts("debt auction: still live"):
        system.tx(da, "cancel", r.keeper, 1)

    _shutdown(system)
    assert (da, "Shutdown", {}) in _events(system)
    assert (
        b,
        "Shutdown",
        {"settlement": system.d.settlement, "settlement_debt": loss - 400 * RAD},
    ) in _events(system)
    assert (_read(system, da, "live"), _backstop(system, "live")) == (False, False)
    assert (_backstop(system, "debt_to_auction"), _backstop(system, "debt_on_auction")) == (0, 0)
    assert _backstop(system, "settlement_debt") == loss - 400 * RAD

    with reverts("backstop: not live"):
        _start_debt_auction(system)
    with reverts("debt auction: not live"):
        system.tx(da, "start", r.governance, 400 * RAD)
    with reverts("debt auction: not live"):
        system.tx(da, "bid", r.other, 1, 100 * WAD)
    system.warp(BID_DURATION)
    with reverts("debt auction: not live"):
        system.tx(da, "finish", r.keeper, 1)

    bad_debt, unattributed = _bad_debt(system, b), _backstop(system, "unattributed_debt")
    system.tx(da, "cancel", r.keeper, 1)
    assert _events(system) == [
        (
            system.d.engine,
            "UnbackedCreated",
            {"debt_dst": b, "stable_dst": r.other, "amount": 400 * RAD},
        ),
        (da, "Cancelled", {"auction_id": 1, "winner": r.other, "refund": 400 * RAD}),
    ]
    assert _stable(system, r.other) == 400 * RAD
    assert _bad_debt(system, b) == bad_debt + 400 * RAD
    assert _backstop(system, "unattributed_debt") == unattributed + 400 * RAD
    assert _debt_auction(system, 1) == NO_AUCTION
    system.tx(da, "cancel", r.keeper, 2)
    assert _events(system) == [(da, "Cancelled", {"auction_id": 2, "winner": b, "refund": 0})]
    assert _bad_debt(system, b) == bad_debt + 400 * RAD
    with reverts("debt auction: not running"):
        system.tx(da, "cancel", r.keeper, 2)
    assert _gov_supply(system) == 0
