"""DutchAuction.set_stopped and the stopped levels: 1 blocks new auctions, 2 resets too, 3 takes
too. Scenario and helpers: tests/contracts/support/dutch_auction.py.
"""

from __future__ import annotations

import pytest
from helpers import at, auction_sale, liquidate
from support.dutch_auction import MAX_REWARD_RATE
from support.dutch_auction import feed as _feed
from support.dutch_auction import (
    two_unsafe_vaults_and_one_auction as _two_unsafe_vaults_and_one_auction,
)

from offchain.model.fixed_point import RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_set_stopped__levels_0_to_3__stored_and_logged(system, level):
    t = system.eth
    system.tx(t.auction, "set_stopped", system.roles.governance, level)
    assert _events(system) == [(t.auction, "StoppedSet", {"level": level})]
    assert _read(system, t.auction, "stopped") == level


def test_set_stopped_and_set_parameters__share_a_slot__neither_changes_the_others(system):
    """The circuit breaker, the reward rate, max_duration and max_drop live in one slot: setting
    the level keeps the parameters at their bounds, and setting the parameters keeps the level."""
    t, governance = system.eth, system.roles.governance
    names = ("stopped", "reward_rate", "max_duration", "max_drop")
    system.tx(t.auction, "set_parameters", governance, RAY, 2**64 - 1, RAY - 1, MAX_REWARD_RATE, 0)
    system.tx(t.auction, "set_stopped", governance, 3)
    assert [_read(system, t.auction, n) for n in names] == [3, MAX_REWARD_RATE, 2**64 - 1, RAY - 1]
    system.tx(t.auction, "set_parameters", governance, RAY, 1, 0, 0, 0)
    assert [_read(system, t.auction, n) for n in names] == [3, 0, 1, 0]
    system.tx(t.auction, "set_stopped", governance, 0)
    assert [_read(system, t.auction, n) for n in names] == [0, 0, 1, 0]


def test_set_stopped__level_4__reverts(system):
    with reverts("auction: level above 3"):
        system.tx(system.eth.auction, "set_stopped", system.roles.governance, 4)


def test_stopped_level_1__blocks_new_auctions_only(system):
    """Money flow: no new auction (no seizure, no reward); the taker still buys 1 ETH before and
    after the reset, which still pays the keeper."""
    r, t = system.roles, system.eth
    auction_id = _two_unsafe_vaults_and_one_auction(system)
    started, top = auction_sale(system, t, auction_id)[4:6]
    system.tx(t.auction, "set_stopped", r.governance, 1)
    with reverts("auction: stopped"):
        liquidate(system, t, r.stranger)
    system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    _feed(system, t, 1_500 * WAD)
    at(system, started + 7_200)
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    assert system.events[-1].name == "Reset"
    system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    system.tx(t.auction, "set_stopped", r.governance, 0)
    assert liquidate(system, t, r.stranger) == 2


def test_stopped_level_2__blocks_new_auctions_and_resets_but_not_takes(system):
    """Money flow: the taker still buys 1 ETH at 1,800; no reset (no keeper reward) until the
    breaker is lowered."""
    r, t = system.roles, system.eth
    auction_id = _two_unsafe_vaults_and_one_auction(system)
    started, top = auction_sale(system, t, auction_id)[4:6]
    system.tx(t.auction, "set_stopped", r.governance, 2)
    with reverts("auction: stopped"):
        liquidate(system, t, r.stranger)
    system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    assert system.events[-1].name == "Taken"
    _feed(system, t, 1_500 * WAD)
    at(system, started + 7_200)
    with reverts("auction: stopped"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    # an auction that needs a reset is frozen while resets are stopped
    with reverts("auction: needs reset"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    system.tx(t.auction, "set_stopped", r.governance, 1)
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)


def test_stopped_level_3__blocks_new_auctions_resets_and_takes(system):
    """Money flow: nothing moves while stopped; once lowered, the taker buys 1 ETH at 1,800."""
    r, t = system.roles, system.eth
    auction_id = _two_unsafe_vaults_and_one_auction(system)
    top = auction_sale(system, t, auction_id)[5]
    before = auction_sale(system, t, auction_id)
    system.tx(t.auction, "set_stopped", r.governance, 3)
    with reverts("auction: stopped"):
        liquidate(system, t, r.stranger)
    with reverts("auction: stopped"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    with reverts("auction: stopped"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    assert auction_sale(system, t, auction_id) == before
    system.tx(t.auction, "set_stopped", r.governance, 0)
    system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    assert auction_sale(system, t, auction_id)[2] == 9 * WAD
