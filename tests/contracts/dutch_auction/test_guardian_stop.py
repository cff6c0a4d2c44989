"""Issue 72: the guardian's stop of an auction house lapses. The guardian (the EMERGENCY role
without the admin right) raises the level once until an admin sets one again; its stop lasts
GUARDIAN_STOP_LIMIT (a day) from when it began, then the level in force is the one it raised.
Before, a stop lasted until governance restarted it through the queue, and the guardian could
cancel that restart: ETH-A's auctions stayed stopped while a 1,000,000 vault fell from 1.6x to
80% collateral (200,000 of bad debt). Chain and twin compared on every transaction."""

from __future__ import annotations

from helpers import crash, liquidate
from support.dutch_auction import feed, two_unsafe_vaults_and_one_auction

from offchain.model.dutch_auction import GUARDIAN_STOP_LIMIT
from offchain.model.fixed_point import RAY, WAD
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts

EMERGENCY = 2**15


def _guardian(system) -> str:
    r = system.roles
    system.tx(system.eth.auction, "grant_role", r.governance, r.keeper, EMERGENCY)
    return r.keeper


def test_guardian_stop__lapses_after_a_day__then_used_until_an_admin_rearms(system):
    """Money flow: none while stopped; after the lapse a take buys 1 ETH as before the stop."""
    r, t = system.roles, system.eth
    auction_id = two_unsafe_vaults_and_one_auction(system)
    guardian = _guardian(system)
    system.tx(t.auction, "set_stopped", guardian, 1)
    began = system.now
    assert _read(system, t.auction, "stop_lapses_at") == began + GUARDIAN_STOP_LIMIT
    # it may raise its own stop while it runs; the lapse does not move
    system.tx(t.auction, "set_stopped", guardian, 3)
    assert _read(system, t.auction, "stop_lapses_at") == began + GUARDIAN_STOP_LIMIT
    system.lockstep.set_next_block_time(began + GUARDIAN_STOP_LIMIT - 1)
    with reverts("auction: stopped"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, 10**40, r.other, b"")
    system.lockstep.set_next_block_time(began + GUARDIAN_STOP_LIMIT)
    feed(system, t, 1_500 * WAD)  # the price of the auction's day, fresh again
    assert _read(system, t.auction, "stopped") == 0
    # a day old, the auction is reset (the keeper's reward), then taken
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    system.tx(t.auction, "take", r.other, auction_id, WAD, 10**40, r.other, b"")
    # one stop: the guardian cannot stop again
    with reverts("auction: guardian stop used"):
        system.tx(t.auction, "set_stopped", guardian, 1)
    # an admin's level re-arms it, and is the level the next stop falls back to
    system.tx(t.auction, "set_stopped", r.governance, 1)
    assert _read(system, t.auction, "stop_lapses_at") == 0
    system.tx(t.auction, "set_stopped", guardian, 2)
    system.warp(GUARDIAN_STOP_LIMIT)
    feed(system, t, 1_500 * WAD)  # blocks at the later time
    assert _read(system, t.auction, "stopped") == 1
    with reverts("auction: stopped"):
        liquidate(system, t, r.stranger)


def test_guardian_stop__an_admins_stop_does_not_lapse(system):
    r, t = system.roles, system.eth
    guardian = _guardian(system)
    system.tx(t.auction, "set_stopped", guardian, 1)
    # governance renews it (through the queue on a real deployment): an admin's level stays
    system.tx(t.auction, "set_stopped", r.governance, 1)
    system.warp(2 * GUARDIAN_STOP_LIMIT)
    feed(system, t, 2_000 * WAD)  # blocks at the later time
    assert _read(system, t.auction, "stopped") == 1


def test_guardian_stop__the_findings_vault_is_liquidated_a_day_in(system):
    """The finding's story, bounded: a 1,000,000 vault at 1.6x (800 ETH at 2,000); the guardian
    stops new auctions; ETH falls to 1,000 over 3.4 days (81.6 h). At 22 h the vault is unsafe
    and `liquidate` is refused; from 24 h (ETH at 1,705.88, the vault at 1.36x) it is
    liquidated, its collateral worth 1,364,706 against 1,000,000 of debt: no bad debt, where
    the stop that never lapsed left 200,000."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 800 * WAD, 1_000_000 * WAD)
    guardian = _guardian(system)
    system.tx(t.auction, "set_stopped", guardian, 1)
    began = system.now

    def price_at(hours_x10: int) -> int:  # 2,000 falling to 1,000 over 81.6 h [wad]
        return 2_000 * WAD - 1_000 * WAD * hours_x10 // 816

    # each price in force two delays (2 h) after it was posted (two pokes; the Spotter pokes)
    system.lockstep.set_next_block_time(began + 20 * 3_600)
    crash(system, t, price_at(220))
    with reverts("auction: stopped"):
        liquidate(system, t, r.borrower)
    crash(system, t, price_at(240))
    assert system.now >= began + GUARDIAN_STOP_LIMIT
    auction_id = liquidate(system, t, r.borrower)
    debt, lot = _read(system, t.auction, "auctions", auction_id)[1:3]  # [rad], [wad]
    assert lot == 800 * WAD
    value = lot * price_at(240) // WAD  # [wad]
    assert value * RAY > debt  # the lot is worth more than the debt and its penalty
    assert value // WAD == 1_364_705
