"""DutchAuction.active_auctions: a finished auction's slot is reused under a new id. Scenario and
helpers: tests/contracts/support/dutch_auction.py.
"""

from __future__ import annotations

from helpers import auction_sale, crash, fund_taker, liquidate
from support.dutch_auction import ETH, NO_AUCTION
from support.dutch_auction import loss as _loss

from offchain.model.dutch_auction import SLOT_BITS
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def test_active_auctions__a_finished_auctions_slot__is_reused_under_a_new_id(system):
    """Three auctions [1, 2, 3] hold slots 0, 1, 2; finishing 1 frees slot 0 and the next auction
    takes it in its second generation, id (1 << 24 | 0) + 1 = 16,777,217: [16,777,217, 2, 3]. The
    old id names no auction any more (take reverts; it is not confused with the new one), and the
    new one is a loss event of its own in the Backstop. Finishing it frees slot 0 again; the next
    is (2 << 24 | 0) + 1.
    Money flow: the taker buys each finished auction's debt's worth at 1,800."""
    r, t = system.roles, system.eth
    second, third = (1 << SLOT_BITS) + 1, (2 << SLOT_BITS) + 1
    owners = [r.borrower, r.stranger, r.governance, r.keeper, r.feeder]
    for owner in owners:
        system.open_vault(owner, ETH, 10 * WAD, 13_000 * WAD)
    crash(system, t, 1_500 * WAD)
    assert [liquidate(system, t, owner) for owner in owners[:3]] == [1, 2, 3]
    assert _read(system, t.auction, "active_auctions") == (1, 2, 3)
    assert [auction_sale(system, t, i)[0] for i in (1, 2, 3)] == [0, 1, 2]
    fund_taker(system, r.other, 100_000 * RAD, [t.auction])

    system.tx(t.auction, "take", r.other, 1, 10 * WAD, 1_800 * RAY, r.other, b"")
    assert _read(system, t.auction, "active_auctions") == (2, 3)
    assert _read(system, t.auction, "active_count") == 2
    assert auction_sale(system, t, 1) == NO_AUCTION
    assert _read(system, t.auction, "next_id") == second

    assert liquidate(system, t, owners[3]) == second
    assert _read(system, t.auction, "next_id") == 4
    assert _read(system, t.auction, "active_auctions") == (second, 2, 3)
    assert _read(system, t.auction, "active_count") == 3
    assert auction_sale(system, t, second)[0] == 0
    assert auction_sale(system, t, second)[3] == r.keeper
    assert auction_sale(system, t, 1) == NO_AUCTION
    with reverts("auction: not running"):
        system.tx(t.auction, "take", r.other, 1, 10 * WAD, 1_800 * RAY, r.other, b"")
    assert _loss(system, t, 1)[3] == 3  # done
    assert _loss(system, t, second)[3] == 1  # running

    system.tx(t.auction, "take", r.other, second, 10 * WAD, 1_800 * RAY, r.other, b"")
    assert _read(system, t.auction, "active_auctions") == (2, 3)
    assert liquidate(system, t, owners[4]) == third
    assert _read(system, t.auction, "active_auctions") == (third, 2, 3)
    for stale in (1, second, 1 << 58, 0):
        assert auction_sale(system, t, stale) == NO_AUCTION
