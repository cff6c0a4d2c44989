"""The Stablecoin after deployment: ownerless, with the StableJoin its only minter; mint,
set_minter, transfer_ownership and renounce_ownership are refused.
"""

from __future__ import annotations

import pytest

from offchain.model.fixed_point import WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import reverts


def test_stablecoin__after_deployment__ownerless_with_stable_join_the_only_minter(system):
    r, c = system.roles, system.d.stablecoin
    assert system.view(c, "name") == "Backstop USD"
    assert system.view(c, "symbol") == "BUSD"
    assert system.view(c, "decimals") == 18
    assert system.view(c, "owner") == ZERO_ADDRESS
    assert system.view(c, "is_minter", system.d.stable_join) is True
    for who in r.users:
        assert system.view(c, "is_minter", who) is False


@pytest.mark.parametrize("role", ["governance", "borrower", "stranger"])
def test_stablecoin_mint__by_anyone_but_stable_join__reverts_access_denied(system, role):
    sender = getattr(system.roles, role)
    with reverts("erc20: access is denied"):
        system.tx(system.d.stablecoin, "mint", sender, sender, WAD)


@pytest.mark.parametrize("role", ["governance", "stranger"])
def test_stablecoin_set_minter__after_renounce__reverts_not_owner(system, role):
    sender = getattr(system.roles, role)
    with reverts("ownable: caller is not the owner"):
        system.tx(system.d.stablecoin, "set_minter", sender, system.roles.keeper, True)
    with reverts("ownable: caller is not the owner"):
        system.tx(system.d.stablecoin, "set_minter", sender, system.d.stable_join, False)


@pytest.mark.parametrize("role", ["governance", "stranger"])
def test_stablecoin_transfer_ownership__after_renounce__reverts_not_owner(system, role):
    sender = getattr(system.roles, role)
    with reverts("ownable: caller is not the owner"):
        system.tx(system.d.stablecoin, "transfer_ownership", sender, sender)


@pytest.mark.parametrize("role", ["governance", "stranger"])
def test_stablecoin_renounce_ownership__again__reverts_not_owner(system, role):
    with reverts("ownable: caller is not the owner"):
        system.tx(system.d.stablecoin, "renounce_ownership", getattr(system.roles, role))
