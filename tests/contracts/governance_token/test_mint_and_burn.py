"""GovernanceToken.mint (only its minters) and burn (a holder's own tokens). Helpers:
tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

from support.debt_and_surplus import gov_balance as _gov_balance
from support.debt_and_surplus import gov_supply as _gov_supply

from offchain.model.fixed_point import WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_governance_token_mint__by_stranger__reverts_access_denied(system):
    r, gov = system.roles, system.d.governance_token
    with reverts("erc20: access is denied"):
        system.tx(gov, "mint", r.stranger, r.stranger, WAD)
    system.tx(gov, "mint", r.governance, r.other, 3 * WAD)
    assert _events(system) == [
        (gov, "Transfer", {"sender": ZERO_ADDRESS, "receiver": r.other, "value": 3 * WAD})
    ]
    assert (_gov_balance(system, r.other), _gov_supply(system)) == (3 * WAD, 3 * WAD)


def test_governance_token_burn__holder_burns_own_tokens__supply_falls(system):
    r, gov = system.roles, system.d.governance_token
    system.tx(gov, "mint", r.governance, r.other, 3 * WAD)
    system.tx(gov, "burn", r.other, WAD)
    assert (_gov_balance(system, r.other), _gov_supply(system)) == (2 * WAD, 2 * WAD)
    with reverts("erc20: burn amount exceeds balance"):
        system.tx(gov, "burn", r.other, 2 * WAD + 1)
