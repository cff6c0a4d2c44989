"""Issue 72: the guardian's void is bounded. Voiding each new price let the current one go
stale (for 30 h every `liquidate` got "no valid price" while the market fell 2,000 -> 1,000).
Now the guardian (the EMERGENCY role without the admin right) voids only while no void is
pending: a void locks it for two pokes (the first makes the held price current and queues a
post made after the void, the second makes that post current); admins void at any time. Chain
and twin compared on every transaction."""

from __future__ import annotations

from offchain.model.fixed_point import WAD
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts

EMERGENCY = 2**15


def test_void_lock__the_guardian_voids_again_only_after_two_pokes(system):
    r, t = system.roles, system.eth
    oracle = t.oracle
    delay = t.config.oracle_delay
    guardian = r.other
    system.tx(oracle, "grant_role", r.governance, guardian, EMERGENCY)
    system.tx(oracle, "post", r.feeder, 1_900 * WAD)
    system.warp(delay)
    system.tx(oracle, "poke", r.keeper)
    system.tx(oracle, "void", guardian)
    assert (_read(system, oracle, "void_lock"), _read(system, oracle, "voided_price")) == (
        2,
        1_900 * WAD,
    )
    with reverts("oracle: void pending"):
        system.tx(oracle, "void", guardian)
    system.tx(oracle, "post", r.feeder, 1_800 * WAD)
    system.warp(delay)
    system.tx(oracle, "poke", r.keeper)
    assert _read(system, oracle, "void_lock") == 1
    with reverts("oracle: void pending"):
        system.tx(oracle, "void", guardian)
    # an admin may (governance through its queue)
    with system.what_if():
        system.tx(oracle, "void", r.governance)
    system.tx(oracle, "post", r.feeder, 1_700 * WAD)
    system.warp(delay)
    system.tx(oracle, "poke", r.keeper)
    # the post made after the void is current: the lock is over, the voided price forgotten
    assert _read(system, oracle, "peek") == (1_800 * WAD, True)
    assert (_read(system, oracle, "void_lock"), _read(system, oracle, "voided_price")) == (0, 0)
    system.tx(oracle, "void", guardian)


def test_void_lock__a_guardian_voiding_every_price_for_30_hours(system):
    """The finding's attack, bounded: the feeder posts each hour (the market falling 2,000 ->
    1,000 over 30 h), a keeper pokes each hour, the guardian tries to void after every poke.
    Every other void succeeds (15 of 30: each blocks the next for two pokes). The price stays
    valid every hour (a held price keeps the voided post's time), and the price in force lags
    the market by at most 2 h (1 h without the guardian)."""
    r, t = system.roles, system.eth
    oracle = t.oracle
    delay = t.config.oracle_delay
    guardian = r.other
    system.tx(oracle, "grant_role", r.governance, guardian, EMERGENCY)
    voids = invalid = 0
    lag = 0
    posted: dict[int, int] = {}  # price -> the hour it was posted
    for hour in range(30):
        price = 2_000 * WAD - 1_000 * WAD * hour // 30
        system.tx(oracle, "post", r.feeder, price)
        posted.setdefault(price, hour)
        system.warp(delay)
        system.tx(oracle, "poke", r.keeper)
        current, valid = _read(system, oracle, "peek")
        invalid += not valid
        lag = max(lag, hour - posted.get(current, -1))
        if _read(system, oracle, "void_lock") == 0:
            system.tx(oracle, "void", guardian)
            voids += 1
        else:
            with reverts("oracle: void pending"):
                system.tx(oracle, "void", guardian)
    assert voids == 15
    assert invalid == 0
    assert lag == 2
