"""DebtAuction.start and SurplusAuction.start: zero sizes refused; a debt auction started outside
the Backstop cannot take a bid. Helpers: tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

from support.debt_and_surplus import debt_auction as _debt_auction
from support.debt_and_surplus import fund_stable as _fund_stable
from support.debt_and_surplus import stable as _stable

from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import reverts


def test_auction_start__zero_size__reverts(system):
    r = system.roles
    with reverts("debt auction: zero bid"):
        system.tx(system.d.debt_auction, "start", r.governance, 0)
    with reverts("surplus auction: zero lot"):
        system.tx(system.d.surplus_auction, "start", r.governance, 0)


def test_debt_auction_started_outside_backstop__first_bid_reverts_whole(system):
    """Money flow: none. Governance (also authorized) starts an auction for 100 BUSD the
    Backstop never put on auction: the first bid's payment would make `debt_on_auction`
    negative, so the whole bid reverts (arithmetic) and the bidder keeps its stablecoin."""
    r, da = system.roles, system.d.debt_auction
    system.tx(da, "start", r.governance, 100 * RAD)
    _fund_stable(system, r.other, 100 * RAD)
    with reverts(None):
        system.tx(da, "bid", r.other, 1, 100 * WAD)
    assert _stable(system, r.other) == 100 * RAD
    assert _debt_auction(system, 1)[2:4] == (system.d.backstop, 0)
