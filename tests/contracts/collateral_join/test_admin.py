"""CollateralJoin's constructor, shutdown and authorities: the scale from the token's decimals, who
may shut the join down. Helpers: tests/contracts/support/joins.py.
"""

from __future__ import annotations

import pytest
from support.joins import logs

from offchain.testing.harness import reverts


def test_shutdown__by_governance__sets_not_live(system):
    r, t = system.roles, system.btc
    system.tx(t.join, "shutdown", r.governance)
    assert system.view(t.join, "live") is False
    assert logs(system) == [(t.join, "Shutdown", {"caller": r.governance})]


@pytest.mark.parametrize("function", ["add_authority", "remove_authority"])
def test_collateral_join_authority__by_stranger__reverts_not_authorized(system, function):
    r = system.roles
    with reverts("authorized: not authorized"):
        system.tx(system.btc.join, function, r.stranger, r.stranger)


def test_shutdown__by_stranger__reverts_not_authorized(system):
    r, t = system.roles, system.btc
    with reverts("authorized: not authorized"):
        system.tx(t.join, "shutdown", r.stranger)
    assert system.view(t.join, "live") is True


def test_collateral_join_add_authority__lets_keeper_shut_down(system):
    r, t = system.roles, system.btc
    system.tx(t.join, "add_authority", r.governance, r.keeper)
    assert logs(system) == [(t.join, "AuthorityAdded", {"account": r.keeper})]
    assert system.view(t.join, "authorized", r.keeper) is True

    system.tx(t.join, "shutdown", r.keeper)
    assert system.view(t.join, "live") is False


def test_collateral_join_remove_authority__revoked_keeper_cannot_shut_down(system):
    r, t = system.roles, system.btc
    system.tx(t.join, "add_authority", r.governance, r.keeper)
    system.tx(t.join, "remove_authority", r.governance, r.keeper)
    assert logs(system) == [(t.join, "AuthorityRemoved", {"account": r.keeper})]
    assert system.view(t.join, "authorized", r.keeper) is False
    with reverts("authorized: not authorized"):
        system.tx(t.join, "shutdown", r.keeper)


def test_collateral_join_constructor__decimals_above_18__reverts(system):
    r, t = system.roles, system.btc
    with reverts("join: decimals above 18"):
        system.lockstep.deploy(
            "CollateralJoin", r.governance, system.d.engine, t.type_id, t.token, 19
        )
    # both sides mined the failed creation: the next deployment lands at the same address on both
    join = system.lockstep.deploy(
        "CollateralJoin", r.governance, system.d.engine, t.type_id, t.token, 18
    )
    assert system.view(join, "scale") == 1


@pytest.mark.parametrize("decimals, scale", [(18, 1), (8, 10**10), (0, 10**18)])
def test_collateral_join_constructor__sets_scale_and_authorizes_deployer(system, decimals, scale):
    r, t = system.roles, system.btc
    join = system.lockstep.deploy(
        "CollateralJoin", r.governance, system.d.engine, t.type_id, t.token, decimals
    )
    assert logs(system) == [(join, "AuthorityAdded", {"account": r.governance})]
    assert system.view(join, "decimals") == decimals
    assert system.view(join, "scale") == scale
    assert system.view(join, "live") is True
    assert system.view(join, "authorized", r.governance) is True
    assert system.contract(join).scale == scale
