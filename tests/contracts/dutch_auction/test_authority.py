"""DutchAuction.add_authority and revoke_role, and every privileged function called by a stranger.
Scenario and helpers: tests/contracts/support/dutch_auction.py.
"""

from __future__ import annotations

import pytest
from helpers import crash, liquidate
from support.dutch_auction import ETH, LINEAR

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import Role
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts

AUCTION_PRIVILEGED = {
    "add_authority": lambda s: (s.roles.stranger,),
    "remove_authority": lambda s: (s.roles.governance,),
    "grant_role": lambda s: (s.roles.stranger, int(Role.START)),
    "revoke_role": lambda s: (s.roles.governance, int(Role.START)),
    "set_parameters": lambda s: (RAY, 1, 0, 0, 0),
    "set_curve": lambda s: ((LINEAR, 1, 0, 0),),
    "set_oracle": lambda s: (s.roles.stranger,),
    "set_stopped": lambda s: (3,),
    "start": lambda s: (RAD, WAD, s.roles.stranger, s.roles.stranger),
}


def test_add_authority__lets_account_configure(system):
    r, t = system.roles, system.eth
    assert not _read(system, t.auction, "authorized", r.other)
    system.tx(t.auction, "add_authority", r.governance, r.other)
    assert _events(system) == [(t.auction, "AuthorityAdded", {"account": r.other})]
    assert _read(system, t.auction, "authorized", r.other)
    system.tx(t.auction, "set_stopped", r.other, 1)
    assert _read(system, t.auction, "stopped") == 1


def test_revoke_role__start_of_liquidator__blocks_new_auctions_until_granted(system):
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    crash(system, t, 1_500 * WAD)
    liquidator = system.d.liquidator
    assert not _read(system, t.auction, "authorized", liquidator)
    system.tx(t.auction, "revoke_role", r.governance, liquidator, int(Role.START))
    assert _events(system) == [
        (t.auction, "RoleRevoked", {"account": liquidator, "role": int(Role.START)})
    ]
    assert _read(system, t.auction, "roles", liquidator) == 0
    with reverts("authorized: not authorized"):
        liquidate(system, t, r.borrower)
    system.tx(t.auction, "grant_role", r.governance, liquidator, int(Role.START))
    assert liquidate(system, t, r.borrower) == 1


@pytest.mark.parametrize("function", sorted(AUCTION_PRIVILEGED))
def test_privileged_function__called_by_stranger__reverts_not_authorized(system, function):
    with reverts("authorized: not authorized"):
        system.tx(
            system.eth.auction,
            function,
            system.roles.stranger,
            *AUCTION_PRIVILEGED[function](system),
        )
