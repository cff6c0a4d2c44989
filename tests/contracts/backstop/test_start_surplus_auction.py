"""Backstop.start_surplus_auction: a lot moves to the surplus auction only above buffer plus lot,
with bad debt counted against the surplus exactly. Scenario and helpers:
tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

from support.debt_and_surplus import AUCTION_DURATION
from support.debt_and_surplus import bad_debt as _bad_debt
from support.debt_and_surplus import fees_to_backstop as _fees_to_backstop
from support.debt_and_surplus import set_sizes as _set_sizes
from support.debt_and_surplus import stable as _stable
from support.debt_and_surplus import start_surplus_auction as _start_surplus_auction
from support.debt_and_surplus import surplus_auction as _surplus_auction

from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_start_surplus_auction__exactly_at_buffer_plus_lot__moves_lot_to_surplus_auction(system):
    """Money flow: the Backstop holds the year's fees S (~260 BUSD) and no bad debt. With a lot
    of 100 and a buffer of S - 100 + 1 wei it is 1 wei short; with a buffer of S - 100 it is
    exactly enough: 100 BUSD move to the SurplusAuction, S - 100 stay as the insurance fund."""
    b, sa = system.d.backstop, system.d.surplus_auction
    surplus = _fees_to_backstop(system)
    lot = 100 * RAD
    _set_sizes(system, buffer=surplus - lot + 1, lot=lot)
    with reverts("backstop: surplus below buffer"):
        _start_surplus_auction(system)
    _set_sizes(system, buffer=surplus - lot, lot=lot)
    assert _start_surplus_auction(system) == 1
    assert _events(system) == [
        (system.d.engine, "StableTransferred", {"src": b, "dst": sa, "amount": lot}),
        (sa, "Started", {"auction_id": 1, "lot": lot}),
        (b, "SurplusAuctionStarted", {"auction_id": 1, "lot": lot}),
    ]
    assert _surplus_auction(system, 1) == (0, lot, b, 0, system.now + AUCTION_DURATION)
    assert (_stable(system, b), _stable(system, sa)) == (surplus - lot, lot)
    # the fund is now at the buffer: no second lot
    with reverts("backstop: surplus below buffer"):
        _start_surplus_auction(system)


def test_start_surplus_auction__bad_debt_counts_against_surplus_exactly(system):
    """Money flow: 10 BUSD of unattributed bad debt (governance creates it against the Backstop,
    paying the other) count in full against the surplus: with a buffer of S - 100 - 10 + 1 wei
    the Backstop is 1 wei short, with S - 100 - 10 it starts the 100 BUSD lot. Settling that debt
    against surplus (anyone) changes nothing: both sides fall by the same amount."""
    r, b = system.roles, system.d.backstop
    surplus = _fees_to_backstop(system)
    lot, debt = 100 * RAD, 10 * RAD
    system.tx(system.d.engine, "create_unbacked", r.governance, b, r.other, debt)
    _set_sizes(system, buffer=surplus - lot - debt + 1, lot=lot)
    with reverts("backstop: surplus below buffer"):
        _start_surplus_auction(system)
    system.tx(b, "settle", r.keeper, debt)
    assert (_stable(system, b), _bad_debt(system, b)) == (surplus - debt, 0)
    with reverts("backstop: surplus below buffer"):
        _start_surplus_auction(system)
    _set_sizes(system, buffer=surplus - lot - debt, lot=lot)
    _start_surplus_auction(system)
    assert (_stable(system, b), _stable(system, system.d.surplus_auction)) == (
        surplus - debt - lot,
        lot,
    )


def test_start_surplus_auction__devnet_buffer__reverts_below_buffer(system):
    _fees_to_backstop(system)
    with reverts("backstop: surplus below buffer"):
        _start_surplus_auction(system)
