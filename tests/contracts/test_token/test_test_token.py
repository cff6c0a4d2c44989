"""TestToken, the devnet's collateral token: metadata and owner, mint, set_minter,
transfer_ownership, renounce_ownership, burn and transfer. The collateral tokens are the same
snekmate module as the Stablecoin but keep their owner (governance), so the owner-only paths can
succeed here. Helpers: tests/contracts/support/joins.py.
"""

from __future__ import annotations

from support.joins import ONE_BTC, logs

from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import reverts


def test_test_token__metadata_and_owner(system):
    r = system.roles
    for t, name, symbol, decimals in (
        (system.btc, "Wrapped Bitcoin (test)", "WBTC", 8),
        (system.eth, "Wrapped Ether (test)", "WETH", 18),
    ):
        assert system.view(t.token, "name") == name
        assert system.view(t.token, "symbol") == symbol
        assert system.view(t.token, "decimals") == decimals
        assert system.view(t.token, "owner") == r.governance
        assert system.view(t.token, "is_minter", r.governance) is True
        assert system.view(t.token, "is_minter", r.stranger) is False


def test_test_token_mint__by_owner__creates_tokens(system):
    """Money flow: governance mints 3 WBTC to borrower; supply +3 * 10**8."""
    r, t = system.roles, system.btc
    supply = system.view(t.token, "totalSupply")
    system.tx(t.token, "mint", r.governance, r.borrower, 3 * ONE_BTC)
    assert system.view(t.token, "balanceOf", r.borrower) == 3 * ONE_BTC
    assert system.view(t.token, "totalSupply") == supply + 3 * ONE_BTC
    assert logs(system) == [
        (
            t.token,
            "Transfer",
            {"sender": ZERO_ADDRESS, "receiver": r.borrower, "value": 3 * ONE_BTC},
        )
    ]


def test_test_token_mint__by_stranger__reverts_access_denied(system):
    with reverts("erc20: access is denied"):
        system.tx(system.btc.token, "mint", system.roles.stranger, system.roles.stranger, ONE_BTC)


def test_test_token_mint__to_zero_address__reverts(system):
    with reverts("erc20: mint to the zero address"):
        system.tx(system.btc.token, "mint", system.roles.governance, ZERO_ADDRESS, ONE_BTC)


def test_test_token_set_minter__lets_keeper_mint_then_revokes(system):
    r, t = system.roles, system.btc
    system.tx(t.token, "set_minter", r.governance, r.keeper, True)
    assert logs(system) == [(t.token, "RoleMinterChanged", {"minter": r.keeper, "status": True})]
    system.tx(t.token, "mint", r.keeper, r.other, 5)
    assert system.view(t.token, "balanceOf", r.other) == 5

    system.tx(t.token, "set_minter", r.governance, r.keeper, False)
    assert system.view(t.token, "is_minter", r.keeper) is False
    with reverts("erc20: access is denied"):
        system.tx(t.token, "mint", r.keeper, r.other, 5)


def test_test_token_set_minter__invalid_minter__reverts(system):
    r, t = system.roles, system.btc
    with reverts("erc20: minter is the zero address"):
        system.tx(t.token, "set_minter", r.governance, ZERO_ADDRESS, True)
    with reverts("erc20: minter is owner address"):
        system.tx(t.token, "set_minter", r.governance, r.governance, False)
    with reverts("ownable: caller is not the owner"):
        system.tx(t.token, "set_minter", r.stranger, r.stranger, True)


def test_test_token_transfer_ownership__moves_owner_and_minter_role(system):
    r, t = system.roles, system.btc
    system.tx(t.token, "transfer_ownership", r.governance, r.other)
    assert logs(system) == [
        (t.token, "RoleMinterChanged", {"minter": r.governance, "status": False}),
        (t.token, "OwnershipTransferred", {"previous_owner": r.governance, "new_owner": r.other}),
        (t.token, "RoleMinterChanged", {"minter": r.other, "status": True}),
    ]
    assert system.view(t.token, "owner") == r.other
    assert system.view(t.token, "is_minter", r.other) is True
    assert system.view(t.token, "is_minter", r.governance) is False
    with reverts("erc20: access is denied"):
        system.tx(t.token, "mint", r.governance, r.governance, 1)


def test_test_token_transfer_ownership__invalid__reverts(system):
    r, t = system.roles, system.btc
    with reverts("erc20: new owner is the zero address"):
        system.tx(t.token, "transfer_ownership", r.governance, ZERO_ADDRESS)
    with reverts("ownable: caller is not the owner"):
        system.tx(t.token, "transfer_ownership", r.stranger, r.stranger)


def test_test_token_renounce_ownership__leaves_no_owner_and_no_owner_minter(system):
    r, t = system.roles, system.btc
    system.tx(t.token, "renounce_ownership", r.governance)
    assert logs(system) == [
        (t.token, "RoleMinterChanged", {"minter": r.governance, "status": False}),
        (
            t.token,
            "OwnershipTransferred",
            {"previous_owner": r.governance, "new_owner": ZERO_ADDRESS},
        ),
    ]
    assert system.view(t.token, "owner") == ZERO_ADDRESS
    with reverts("erc20: access is denied"):
        system.tx(t.token, "mint", r.governance, r.governance, 1)
    with reverts("ownable: caller is not the owner"):
        system.tx(t.token, "renounce_ownership", r.stranger)


def test_test_token_burn_and_burn_from__destroy_tokens(system):
    """Money flow: borrower burns 1 WBTC of his 3, then keeper burns 1 more under a 1 WBTC
    allowance; supply falls by 2 WBTC."""
    r, t = system.roles, system.btc
    system.tx(t.token, "mint", r.governance, r.borrower, 3 * ONE_BTC)
    supply = system.view(t.token, "totalSupply")

    system.tx(t.token, "burn", r.borrower, ONE_BTC)
    assert logs(system) == [
        (t.token, "Transfer", {"sender": r.borrower, "receiver": ZERO_ADDRESS, "value": ONE_BTC})
    ]
    system.tx(t.token, "approve", r.borrower, r.keeper, ONE_BTC)
    system.tx(t.token, "burn_from", r.keeper, r.borrower, ONE_BTC)

    assert system.view(t.token, "balanceOf", r.borrower) == ONE_BTC
    assert system.view(t.token, "totalSupply") == supply - 2 * ONE_BTC
    with reverts("erc20: insufficient allowance"):
        system.tx(t.token, "burn_from", r.keeper, r.borrower, 1)
    with reverts("erc20: burn amount exceeds balance"):
        system.tx(t.token, "burn", r.borrower, ONE_BTC + 1)


def test_test_token_transfer_and_transfer_from__move_balances(system):
    """Money flow: borrower sends 1 WBTC to `other`; keeper moves 0.5 WBTC more from borrower to
    `other` under an allowance."""
    r, t = system.roles, system.btc
    system.tx(t.token, "mint", r.governance, r.borrower, 2 * ONE_BTC)
    system.tx(t.token, "transfer", r.borrower, r.other, ONE_BTC)
    system.tx(t.token, "approve", r.borrower, r.keeper, ONE_BTC)
    system.tx(t.token, "transferFrom", r.keeper, r.borrower, r.other, ONE_BTC // 2)

    assert system.view(t.token, "balanceOf", r.borrower) == ONE_BTC // 2
    assert system.view(t.token, "balanceOf", r.other) == ONE_BTC + ONE_BTC // 2
    assert system.view(t.token, "allowance", r.borrower, r.keeper) == ONE_BTC // 2
    with reverts("erc20: transfer amount exceeds balance"):
        system.tx(t.token, "transfer", r.borrower, r.other, ONE_BTC)
