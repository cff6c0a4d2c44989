"""The engine's deployment, add_authority and remove_authority, and every privileged function called
by a stranger. Helpers: tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support.vault_engine import NEW_TYPE, ctype, logged, read, send, snapshot_state

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import reverts

PRIVILEGED: list[tuple[str, Callable[[Any], tuple]]] = [
    ("add_authority", lambda s: (s.roles.stranger,)),
    ("remove_authority", lambda s: (s.roles.governance,)),
    ("init_type", lambda s: (NEW_TYPE,)),
    ("set_global_debt_ceiling", lambda s: (0,)),
    ("set_debt_ceiling", lambda s: (s.eth.type_id, 0)),
    ("set_dust", lambda s: (s.eth.type_id, 0)),
    ("set_safe_price", lambda s: (s.eth.type_id, 0)),
    ("shutdown", lambda s: ()),
    ("modify_collateral_balance", lambda s: (s.eth.type_id, s.roles.stranger, WAD)),
    (
        "seize",
        lambda s: (s.eth.type_id, s.roles.borrower, s.roles.stranger, s.roles.stranger, -WAD, -WAD),
    ),
    ("fold_rate", lambda s: (s.eth.type_id, s.roles.stranger, RAY)),
    ("create_unbacked", lambda s: (s.roles.stranger, s.roles.stranger, RAD)),
]


def test_deployment__engine_live_and_governance_authorized(system):
    r = system.roles
    assert read(system, "live") is True
    assert read(system, "authorized", r.governance) is True
    assert read(system, "authorized", r.stranger) is False
    eth = ctype(system, system.eth.type_id)
    assert eth.normalized_debt == 0
    assert eth.rate > RAY
    assert eth.debt_ceiling == 20_000_000 * RAD
    assert eth.dust == 100 * RAD


def test_add_authority__new_authority_can_call_privileged_functions(system):
    r = system.roles
    send(system, "add_authority", r.governance, r.keeper)
    assert read(system, "authorized", r.keeper) is True
    assert logged(system, "AuthorityAdded", account=r.keeper)
    send(system, "set_dust", r.keeper, system.eth.type_id, 7 * RAD)
    assert ctype(system, system.eth.type_id).dust == 7 * RAD


def test_remove_authority__removed_authority_is_refused(system):
    r = system.roles
    send(system, "add_authority", r.governance, r.keeper)
    send(system, "remove_authority", r.governance, r.keeper)
    assert read(system, "authorized", r.keeper) is False
    assert logged(system, "AuthorityRemoved", account=r.keeper)
    with reverts("authorized: not authorized"):
        send(system, "set_dust", r.keeper, system.eth.type_id, 7 * RAD)


def test_remove_authority__governance_can_remove_itself(system):
    r = system.roles
    send(system, "remove_authority", r.governance, r.governance)
    assert read(system, "authorized", r.governance) is False
    with reverts("authorized: not authorized"):
        send(system, "add_authority", r.governance, r.governance)


@pytest.mark.parametrize("function,args", PRIVILEGED, ids=[f for f, _ in PRIVILEGED])
def test_privileged_function__called_by_stranger__reverts_not_authorized(system, function, args):
    system.open_vault(system.roles.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)  # something to seize
    before = snapshot_state(system)
    with reverts("authorized: not authorized"):
        send(system, function, system.roles.stranger, *args(system))
    assert snapshot_state(system) == before
