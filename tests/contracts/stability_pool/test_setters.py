"""The stability pool's deployment and set_cooldown: bounded by a year, a shorter cooldown applies
to a pending request. Helpers: tests/contracts/support/stability_pool.py.
"""

from __future__ import annotations

from support.stability_pool import COOLDOWN, EXPOSURE_DELAY, POOL_FEE_SHARE
from support.stability_pool import backstop as _backstop
from support.stability_pool import pool as _pool
from support.stability_pool import stable as _stable
from support.stability_pool import stake as _stake
from support.stability_pool import staker as _staker

from offchain.model.backstop import DEBT_AUCTION, FUND, POOL, REDISTRIBUTION
from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts

# contracts/StabilityPool.vy
MAX_COOLDOWN = 365 * 86_400


def test_deployment__pool_wired_to_engine_and_backstop_with_devnet_cooldown(system):
    """Money flow: none. The wiring every test below relies on."""
    d = system.d
    # immutables (the model holds the objects themselves)
    assert system.view(d.stability_pool, "engine") == d.engine
    assert system.view(d.stability_pool, "backstop") == d.backstop
    assert _pool(system, "cooldown") == COOLDOWN
    assert _pool(system, "authorized", system.roles.governance)
    assert not _pool(system, "authorized", system.roles.stranger)
    assert _backstop(system, "stability_pool") == d.stability_pool
    assert _backstop(system, "get_waterfall") == (FUND, POOL, DEBT_AUCTION, REDISTRIBUTION)
    assert _read(system, d.fees, "stability_pool") == d.stability_pool
    assert _read(system, d.fees, "pool_fee_share") == POOL_FEE_SHARE
    for name in ("total_shares", "pending_total", "staker_count", "charge_count", "assets"):
        assert _pool(system, name) == 0


def test_set_cooldown__by_stranger__reverts_not_authorized(system):
    with reverts("authorized: not authorized"):
        system.tx(system.d.stability_pool, "set_cooldown", system.roles.stranger, 60)
    assert _pool(system, "cooldown") == COOLDOWN


def test_set_cooldown__up_to_a_year__stored_and_logged_above__reverts_too_long(system):
    p, gov = system.d.stability_pool, system.roles.governance
    with reverts("pool: cooldown too long"):
        system.tx(p, "set_cooldown", gov, MAX_COOLDOWN + 1)
    system.tx(p, "set_cooldown", gov, MAX_COOLDOWN)
    assert _events(system) == [(p, "CooldownSet", {"cooldown": MAX_COOLDOWN})]
    assert _pool(system, "cooldown") == MAX_COOLDOWN
    system.tx(p, "set_cooldown", gov, 0)
    assert _pool(system, "cooldown") == 0


def test_set_cooldown__shorter__applies_to_a_pending_request(system):
    """Money flow: A stakes 1,000 and asks for all of it back; governance cuts the cooldown to 60 s:
    the request matures after the exposure delay (an hour, the cooldown no longer counts) and A
    gets the 1,000 back; not a second earlier."""
    r, p = system.roles, system.d.stability_pool
    _staker(system, r.other)
    _stake(system, r.other, 1_000 * RAD)
    system.tx(p, "request_withdrawal", r.other, 1_000 * RAD)
    system.tx(p, "set_cooldown", r.governance, 60)
    stable_0 = _stable(system, r.other)
    at = _pool(system, "withdrawal_at", r.other)
    system.lockstep.set_next_block_time(at + EXPOSURE_DELAY - 1)
    with reverts("pool: cooling down"):
        system.tx(p, "withdraw", r.other)
    system.lockstep.set_next_block_time(at + EXPOSURE_DELAY)
    system.tx(p, "withdraw", r.other)
    assert _stable(system, r.other) == stable_0 + 1_000 * RAD
