"""The Liquidator's deployment, add_authority, remove_authority and revoke_role, and its privileged
functions called by a stranger. Scenario and helpers: tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

import pytest
from support.liquidation import (
    DUST,
    MAX_PENALTY,
    PENALTY,
    QUEUE_DELAY,
    REWARD_FLAT,
    REWARD_RATE,
    TYPE_CAP_ETH,
)
from support.liquidation import auction_var as _auction_var
from support.liquidation import authorized as _authorized
from support.liquidation import backstop as _backstop
from support.liquidation import bad_debt as _bad_debt
from support.liquidation import borrow_stable as _borrow_stable
from support.liquidation import ctype as _ctype
from support.liquidation import liquidate as _liquidate
from support.liquidation import liquidator as _liquidator
from support.liquidation import stable as _stable
from support.liquidation import type_config as _type_config
from support.liquidation import unattributed_debt as _unattributed_debt
from support.liquidation import unsafe_eth_vault as _unsafe_eth_vault

from offchain.model.fixed_point import MAX_UINT256, RAD, RAY, WAD
from offchain.model.state import Role
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts

GLOBAL_CAP = 20_000_000 * RAD


def _roles(system, address, who) -> Role:
    """The role bits `who` holds on `address`; checks it is no admin there (least privilege)."""
    on_chain = system.view(address, "roles", who)
    assert on_chain == system.contract(address).roles[who]
    assert system.view(address, "authorized", who) is False
    assert system.contract(address).authorized[who] is False
    return Role(on_chain)


LIQUIDATOR_PRIVILEGED = {
    "add_authority": lambda s: (s.roles.stranger,),
    "remove_authority": lambda s: (s.roles.governance,),
    "set_max_debt_in_auction": lambda s: (0,),
    "configure_type": lambda s: (s.eth.type_id, s.roles.stranger, MAX_PENALTY, MAX_UINT256),
    "shutdown": lambda s: (),
    "remove_debt_in_auction": lambda s: (s.eth.type_id, 0),
}


def test_deployment__liquidator_wired_as_configured(system):
    """Money flow: none. The devnet values every test below relies on."""
    t = system.eth
    assert system.view(system.d.liquidator, "engine") == system.d.engine
    assert system.view(system.d.liquidator, "backstop") == system.d.backstop
    assert system.view(system.d.backstop, "engine") == system.d.engine
    assert _liquidator(system, "live") is True
    assert _liquidator(system, "max_debt_in_auction") == GLOBAL_CAP
    assert _liquidator(system, "debt_in_auction") == 0
    assert tuple(_type_config(system, t)) == (t.auction, PENALTY, TYPE_CAP_ETH, 0)
    assert _type_config(system, system.btc).max_debt_in_auction == 5_000_000 * RAD
    assert _ctype(system, t).dust == DUST
    assert _auction_var(system, t, "min_auction") == DUST * PENALTY // WAD == 2_825 * RAD
    assert _auction_var(system, t, "reward_flat") == REWARD_FLAT
    assert _auction_var(system, t, "reward_rate") == REWARD_RATE
    assert _backstop(system, "queue_delay") == QUEUE_DELAY
    assert _roles(system, system.d.backstop, system.d.liquidator) == Role.OPEN_LOSS
    # the auction closes its loss events
    assert _roles(system, system.d.backstop, t.auction) == Role.CLOSE_LOSS
    assert _backstop(system, "open_losses") == _backstop(system, "attributed_debt") == 0
    assert _unattributed_debt(system) == 0
    assert _roles(system, system.d.liquidator, t.auction) == Role.DEBT_IN_AUCTION
    assert _roles(system, t.auction, system.d.liquidator) == Role.START
    assert _stable(system, system.d.backstop) == 0
    assert _bad_debt(system, system.d.backstop) == 0


def test_liquidator_add_authority__lets_account_configure(system):
    r, liq = system.roles, system.d.liquidator
    assert not _authorized(system, liq, r.other)
    system.tx(liq, "add_authority", r.governance, r.other)
    assert _events(system) == [(liq, "AuthorityAdded", {"account": r.other})]
    assert _authorized(system, liq, r.other)
    system.tx(liq, "set_max_debt_in_auction", r.other, 7 * RAD)
    assert _liquidator(system, "max_debt_in_auction") == 7 * RAD


def test_liquidator_remove_authority__locks_account_out(system):
    r, liq = system.roles, system.d.liquidator
    system.tx(liq, "add_authority", r.governance, r.other)
    system.tx(liq, "remove_authority", r.governance, r.other)
    assert _events(system) == [(liq, "AuthorityRemoved", {"account": r.other})]
    assert not _authorized(system, liq, r.other)
    assert _authorized(system, liq, r.governance)
    with reverts("authorized: not authorized"):
        system.tx(liq, "set_max_debt_in_auction", r.other, 7 * RAD)


@pytest.mark.parametrize("function", sorted(LIQUIDATOR_PRIVILEGED))
def test_liquidator_privileged_function__called_by_stranger__reverts_not_authorized(
    system, function
):
    args = LIQUIDATOR_PRIVILEGED[function](system)
    with reverts("authorized: not authorized"):
        system.tx(system.d.liquidator, function, system.roles.stranger, *args)


def test_liquidator_revoke_role__debt_in_auction_of_auction__its_takes_revert(system):
    """The auction's report of debt raised is privileged: once revoked, no take can finish."""
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _borrow_stable(system, r.other)
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    system.tx(liq, "revoke_role", r.governance, t.auction, int(Role.DEBT_IN_AUCTION))
    with reverts("authorized: not authorized"):
        system.tx(t.auction, "take", r.other, 1, WAD, 2_280 * RAY, r.other, b"")
    system.tx(liq, "grant_role", r.governance, t.auction, int(Role.DEBT_IN_AUCTION))
    system.tx(t.auction, "take", r.other, 1, WAD, 2_280 * RAY, r.other, b"")
