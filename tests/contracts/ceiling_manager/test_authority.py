"""CeilingManager's deployed configuration, add_authority and remove_authority, and its privileged
functions called by a stranger. Helpers: tests/contracts/support/fees_and_ceiling.py.
"""

from __future__ import annotations

import pytest
from support.fees_and_ceiling import ETH_COOLDOWN, ETH_GAP, ETH_MAX
from support.fees_and_ceiling import authorized as _authorized
from support.fees_and_ceiling import ceiling_config as _ceiling_config

from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts

CEILING_PRIVILEGED = {
    "add_authority": lambda s: (s.roles.stranger,),
    "remove_authority": lambda s: (s.roles.governance,),
    "configure": lambda s: (s.eth.type_id, 1 * RAD, 1 * RAD, 0),
    "remove": lambda s: (s.eth.type_id,),
}


def test_deployed_ceiling_config__matches_devnet(system):
    cfg = system.eth.config
    configured = (cfg.ceiling_max, cfg.ceiling_gap, cfg.ceiling_cooldown)
    assert configured == (ETH_MAX, ETH_GAP, ETH_COOLDOWN)
    assert tuple(_ceiling_config(system, system.eth.type_id)) == (
        ETH_MAX,
        ETH_GAP,
        ETH_COOLDOWN,
        0,
        0,
        0,
    )


def test_ceiling_add_authority__lets_account_configure(system):
    r, ceiling = system.roles, system.d.ceiling
    assert not _authorized(system, ceiling, r.other)
    system.tx(ceiling, "add_authority", r.governance, r.other)
    assert _events(system) == [(ceiling, "AuthorityAdded", {"account": r.other})]
    assert _authorized(system, ceiling, r.other)
    system.tx(ceiling, "configure", r.other, system.eth.type_id, ETH_MAX, 1 * RAD, 0)
    assert _ceiling_config(system, system.eth.type_id).gap == 1 * RAD


def test_ceiling_remove_authority__locks_account_out(system):
    r, ceiling = system.roles, system.d.ceiling
    system.tx(ceiling, "add_authority", r.governance, r.other)
    system.tx(ceiling, "remove_authority", r.governance, r.other)
    assert _events(system) == [(ceiling, "AuthorityRemoved", {"account": r.other})]
    assert not _authorized(system, ceiling, r.other)
    with reverts("authorized: not authorized"):
        system.tx(ceiling, "configure", r.other, system.eth.type_id, ETH_MAX, ETH_GAP, 0)


@pytest.mark.parametrize("function", sorted(CEILING_PRIVILEGED))
def test_ceiling_privileged_function__called_by_stranger__reverts_not_authorized(system, function):
    args = CEILING_PRIVILEGED[function](system)
    with reverts("authorized: not authorized"):
        system.tx(system.d.ceiling, function, system.roles.stranger, *args)
