"""CollateralPool's constructor: tokens and fee wired, a fee above 10% or the same token twice
refused. Helpers: tests/contracts/support/pool_and_flash.py.
"""

from __future__ import annotations

import pytest
from support.pool_and_flash import MAX_FEE
from support.pool_and_flash import new_pool as _new_pool
from support.pool_and_flash import reserves as _reserves

from offchain.model.fixed_point import WAD
from offchain.testing.harness import reverts


def test_pool_constructor__wires_tokens_and_fee(system):
    t = system.eth
    assert system.view(t.pool, "collateral_token") == t.token
    assert system.view(t.pool, "stable_token") == system.d.stablecoin
    assert system.view(t.pool, "fee") == t.config.pool_fee == 3 * WAD // 1000
    assert _reserves(system, t.pool) == (0, 0, 0)


@pytest.mark.parametrize("fee", [0, MAX_FEE])
def test_pool_constructor__fee_within_bound__deploys(system, fee):
    pool = _new_pool(system, fee)
    assert system.view(pool, "fee") == system.contract(pool).fee == fee


def test_pool_constructor__fee_above_10_percent__reverts(system):
    with reverts("pool: fee above 10%"):
        system.lockstep.deploy(
            "CollateralPool",
            system.roles.governance,
            system.eth.token,
            system.d.stablecoin,
            MAX_FEE + 1,
        )


def test_pool_constructor__same_token_twice__reverts(system):
    with reverts("pool: same token"):
        system.lockstep.deploy(
            "CollateralPool", system.roles.governance, system.eth.token, system.eth.token, 0
        )
