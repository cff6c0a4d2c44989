"""grant_role, revoke_role and remove_authority on every contract with roles, and no contract an
admin anywhere after deployment. The table and probes: tests/contracts/support/roles.py.
"""

from __future__ import annotations

import pytest
from support.roles import AUTH_REASON, KINDS
from support.roles import instances as _instances

from offchain.model.fixed_point import RAD, RAY
from offchain.model.state import ZERO_ADDRESS, Role
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def test_grant_role__adds_bits_and_logs__revoke_role_removes_only_those(system):
    r, e = system.roles, system.d.engine
    system.tx(e, "grant_role", r.governance, r.keeper, int(Role.PRICE | Role.SEIZE))
    assert _events(system) == [
        (e, "RoleGranted", {"account": r.keeper, "role": int(Role.PRICE | Role.SEIZE)})
    ]
    system.tx(e, "grant_role", r.governance, r.keeper, int(Role.JOIN))
    assert _read(system, e, "roles", r.keeper) == Role.PRICE | Role.SEIZE | Role.JOIN
    system.tx(e, "revoke_role", r.governance, r.keeper, int(Role.SEIZE))
    assert _events(system) == [(e, "RoleRevoked", {"account": r.keeper, "role": int(Role.SEIZE)})]
    assert _read(system, e, "roles", r.keeper) == Role.PRICE | Role.JOIN
    assert _read(system, e, "authorized", r.keeper) is False
    # a PRICE holder sets prices, and is refused the rest
    system.tx(e, "set_safe_price", r.keeper, system.eth.type_id, RAY)
    with reverts(AUTH_REASON):
        system.tx(e, "set_dust", r.keeper, system.eth.type_id, RAD)
    with reverts(AUTH_REASON):
        system.tx(e, "grant_role", r.keeper, r.keeper, int(Role.SEIZE))


@pytest.mark.parametrize("function", ["grant_role", "revoke_role"])
@pytest.mark.parametrize(
    "role",
    [0, int(Role.START), int(Role.PRICE | Role.START), 2**255],
    ids=["zero", "bit_the_engine_does_not_check", "mixed", "unknown_bit"],
)
def test_grant_or_revoke_role__zero_or_bit_the_contract_does_not_check__reverts(
    system, function, role
):
    with reverts("authorized: bad role"):
        system.tx(system.d.engine, function, system.roles.governance, system.roles.keeper, role)


def test_grant_role__on_a_contract_checking_no_role__reverts_bad_role(system):
    """Admin-only contracts (Spotter, FeeAccumulator, ...) accept no role bit at all;
    GlobalSettlement and each PriceOracle only EMERGENCY (the guardian's shutdown and void)."""
    r = system.roles
    for address in (system.d.spotter, system.d.fees, system.eth.join):
        for role in Role:
            with reverts("authorized: bad role"):
                system.tx(address, "grant_role", r.governance, r.keeper, int(role))
    for address in (system.d.settlement, system.eth.oracle):
        for role in Role:
            if role == Role.EMERGENCY:
                system.tx(address, "grant_role", r.governance, r.keeper, int(role))
                continue
            with reverts("authorized: bad role"):
                system.tx(address, "grant_role", r.governance, r.keeper, int(role))


def test_remove_authority__keeps_the_roles_of_the_account(system):
    r, e = system.roles, system.d.engine
    system.tx(e, "add_authority", r.governance, r.keeper)
    system.tx(e, "grant_role", r.governance, r.keeper, int(Role.PRICE))
    system.tx(e, "remove_authority", r.governance, r.keeper)
    assert _read(system, e, "roles", r.keeper) == Role.PRICE
    system.tx(e, "set_safe_price", r.keeper, system.eth.type_id, RAY)
    with reverts(AUTH_REASON):
        system.tx(e, "set_dust", r.keeper, system.eth.type_id, RAD)


def test_deployment__no_contract_is_an_admin_anywhere(system):
    """Governance is the only admin of every contract; contracts hold roles only."""
    d = system.d
    targets = [a for kind in KINDS for a, _ in _instances(d, kind)]
    for target in targets:
        assert _read(system, target, "authorized", system.roles.governance) is True
        for label, address in d.contracts():
            assert _read(system, target, "authorized", address) is False, (target, label)
        assert _read(system, target, "authorized", ZERO_ADDRESS) is False
