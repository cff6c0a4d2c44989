"""StabilityPool.absorb: only the Backstop may call it. Helpers:
tests/contracts/support/stability_pool.py.
"""

from __future__ import annotations

from support.stability_pool import pool as _pool
from support.stability_pool import stake as _stake
from support.stability_pool import staker as _staker

from offchain.model.fixed_point import RAD
from offchain.testing.harness import reverts


def test_absorb__called_by_anyone_but_the_backstop__reverts_not_backstop(system):
    r, t, p = system.roles, system.eth, system.d.stability_pool
    _staker(system, r.other)
    _stake(system, r.other, 1_000 * RAD)
    for caller in (r.stranger, r.governance):
        with reverts("pool: not backstop"):
            system.tx(p, "absorb", caller, t.type_id, t.auction, 1, 1_000 * RAD)
    assert _pool(system, "assets") == 1_000 * RAD
    assert _pool(system, "charge_count") == 0
