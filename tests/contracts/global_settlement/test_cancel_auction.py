"""GlobalSettlement.cancel_auction: a running auction's lot and remaining tab go back to the owner's
vault and its loss event closes. Scenario and helpers:
tests/contracts/support/global_settlement.py.
"""

from __future__ import annotations

from helpers import heal
from support.global_settlement import DONE, ETH
from support.global_settlement import allow as _allow
from support.global_settlement import bad_debt as _bad_debt
from support.global_settlement import bs as _bs
from support.global_settlement import collateral as _collateral
from support.global_settlement import gs as _gs
from support.global_settlement import liquidate as _liquidate
from support.global_settlement import rate as _rate
from support.global_settlement import shutdown as _shutdown
from support.global_settlement import stable as _stable
from support.global_settlement import take as _take
from support.global_settlement import to_raise as _to_raise
from support.global_settlement import top as _top
from support.global_settlement import vault as _vault

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices as _move_prices
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts

# auctions(id) of an auction that does not run: (position, debt, lot, owner, started, top)
NO_AUCTION = (0, 0, 0, ZERO_ADDRESS, 0, 0, 0)


def test_cancel_auction__after_a_partial_take__returns_lot_and_tab_to_owner_and_closes_the_event(
    system,
):
    """Money flow (rate > 1 ray after accruing fees): the borrower's 20 ETH / 13,000 vault was
    liquidated (debt D = 13,000 x rate, to raise T = D x 1.13); a taker bought 5 ETH for 5,400
    into the auction's escrow. Cancelling gives the 15 ETH left back to the borrower's vault with
    normalized debt (T - 5,400) // rate; that loan's proceeds (nd x rate) join the escrow, and
    since a cancel pays nothing to the Backstop directly, the Backstop pulls the whole escrow
    (raised = 5,400 + nd x rate), holds D of it as unsettled proceeds (the stranger heals them
    against D of bad debt) and keeps the rest as penalty income. The event is done; the type's
    normalized debt grows by nd."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.open_vault(r.borrower, ETH, 20 * WAD, 13_000 * WAD)
    _move_prices(system, [(t, 900 * WAD)])
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    rate = _rate(system, t)
    assert rate > RAY
    auction_id = _liquidate(system, t, r.borrower)
    debt = 13_000 * WAD * rate
    to_raise = _to_raise(debt)
    created_at = system.now
    _allow(system, r.other, t.auction)
    _take(system, r.other, t, auction_id, 5 * WAD, _top(900 * WAD))
    tab = to_raise - 5_400 * RAD
    assert _read(system, t.auction, "auctions", auction_id)[1:3] == (tab, 15 * WAD)
    assert _stable(system, t.auction) == 5_400 * RAD  # the escrow
    _shutdown(system)
    with reverts("settlement: no final price"):
        system.tx(d.settlement, "cancel_auction", r.stranger, t.type_id, t.auction, auction_id)
    system.tx(d.settlement, "fix_price", r.stranger, t.type_id)
    assert _gs(system, "type_debt", t.type_id) == 30_000 * WAD  # the borrower's debt was seized
    surplus_0, bad_debt_0 = _stable(system, d.backstop), _bad_debt(system, d.backstop)
    assert _bs(system, "open_losses") == 1
    with reverts("authorized: not authorized"):
        system.tx(t.auction, "cancel_for_settlement", r.stranger, auction_id, RAY)

    system.tx(d.settlement, "cancel_auction", r.stranger, t.type_id, t.auction, auction_id)

    normalized = tab // rate
    returned = normalized * rate
    assert 0 <= tab - returned < rate  # the owner never re-owes more than the tab
    raised = 5_400 * RAD + returned
    assert raised > debt  # the penalty is still covered: no loss
    assert _events(system) == [
        (
            d.engine,
            "UnbackedCreated",
            {"debt_dst": d.backstop, "stable_dst": t.auction, "amount": returned},
        ),
        (
            d.engine,
            "VaultSeized",
            {
                "collateral_type": t.type_id,
                "owner": r.borrower,
                "collateral_dst": t.auction,
                "debt_dst": d.backstop,
                "delta_collateral": 15 * WAD,
                "delta_normalized_debt": normalized,
            },
        ),
        (d.liquidator, "DebtInAuctionRemoved", {"collateral_type": t.type_id, "amount": tab}),
        (d.engine, "StableTransferred", {"src": t.auction, "dst": d.backstop, "amount": raised}),
        (
            d.backstop,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": auction_id,
                "raised": raised,
                "covered": debt,
                "loss": 0,
            },
        ),
        (
            t.auction,
            "Cancelled",
            {
                "auction_id": auction_id,
                "collateral_returned": 15 * WAD,
                "debt": tab,
                "normalized_debt": normalized,
            },
        ),
        (
            d.settlement,
            "AuctionCancelled",
            {"collateral_type": t.type_id, "auction_id": auction_id, "normalized_debt": normalized},
        ),
    ]
    assert _vault(system, t, r.borrower) == (15 * WAD, normalized)
    assert _read(system, t.auction, "auctions", auction_id) == NO_AUCTION
    assert _read(system, t.auction, "active_count") == 0
    assert (
        _stable(system, t.auction) == 0 and _collateral(system, t, t.auction) == 0
    )  # escrow emptied
    assert _read(system, d.liquidator, "debt_in_auction") == 0
    assert _read(system, d.liquidator, "types", t.type_id)[3] == 0
    assert _bs(system, "losses", t.type_id, t.auction, auction_id) == (debt, 0, created_at, DONE)
    assert _bs(system, "open_losses") == 0
    assert _bs(system, "attributed_debt") == debt
    assert _gs(system, "type_debt", t.type_id) == 30_000 * WAD + normalized
    assert _stable(system, d.backstop) == surplus_0 + raised
    assert _bad_debt(system, d.backstop) == bad_debt_0
    heal(system, debt)
    assert _bs(system, "attributed_debt") == 0
    assert _stable(system, d.backstop) == surplus_0 + raised - debt
    # + returned (the owner's new loan) - returned (it moved into the vault) - debt (settled)
    assert _bad_debt(system, d.backstop) == bad_debt_0 - debt
    # a loss that is no longer running cannot be cancelled again (checked before the auction)
    with reverts("settlement: no running loss"):
        system.tx(d.settlement, "cancel_auction", r.stranger, t.type_id, t.auction, auction_id)
