"""Stablecoin.transfer, approve and transfer_from: balances and allowances, an infinite allowance
never decreased. Helpers: tests/contracts/support/joins.py.
"""

from __future__ import annotations

from support.joins import MAX_UINT256, borrow, exit_stable, logs

from offchain.model.fixed_point import WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import reverts


def test_stablecoin_transfer__moves_balance(system):
    """Money flow: borrower sends 250 of his 1,000 BUSD to `other`; supply unchanged."""
    r, c = system.roles, system.d.stablecoin
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    supply = system.view(c, "totalSupply")

    system.tx(c, "transfer", r.borrower, r.other, 250 * WAD)

    assert system.view(c, "balanceOf", r.borrower) == 750 * WAD
    assert system.view(c, "balanceOf", r.other) == 250 * WAD
    assert system.view(c, "totalSupply") == supply
    assert logs(system) == [
        (c, "Transfer", {"sender": r.borrower, "receiver": r.other, "value": 250 * WAD})
    ]


def test_stablecoin_transfer__more_than_balance__reverts_exceeds_balance(system):
    r = system.roles
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    with reverts("erc20: transfer amount exceeds balance"):
        system.tx(system.d.stablecoin, "transfer", r.borrower, r.other, 1_000 * WAD + 1)
    with reverts("erc20: transfer amount exceeds balance"):
        system.tx(system.d.stablecoin, "transfer", r.stranger, r.other, 1)


def test_stablecoin_transfer__to_zero_address__reverts(system):
    r = system.roles
    with reverts("erc20: transfer to the zero address"):
        system.tx(system.d.stablecoin, "transfer", r.borrower, ZERO_ADDRESS, 0)


def test_stablecoin_approve__sets_allowance(system):
    r, c = system.roles, system.d.stablecoin
    system.tx(c, "approve", r.borrower, r.keeper, 300 * WAD)
    assert system.view(c, "allowance", r.borrower, r.keeper) == 300 * WAD
    assert system.contract(c).allowance[(r.borrower, r.keeper)] == 300 * WAD
    assert logs(system) == [
        (c, "Approval", {"owner": r.borrower, "spender": r.keeper, "value": 300 * WAD})
    ]


def test_stablecoin_approve__zero_spender__reverts(system):
    with reverts("erc20: approve to the zero address"):
        system.tx(system.d.stablecoin, "approve", system.roles.borrower, ZERO_ADDRESS, WAD)


def test_stablecoin_transfer_from__spends_allowance(system):
    """Money flow: keeper moves 200 BUSD from borrower to `other` under a 300 BUSD allowance,
    which falls to 100."""
    r, c = system.roles, system.d.stablecoin
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    system.tx(c, "approve", r.borrower, r.keeper, 300 * WAD)

    system.tx(c, "transferFrom", r.keeper, r.borrower, r.other, 200 * WAD)

    assert system.view(c, "allowance", r.borrower, r.keeper) == 100 * WAD
    assert system.contract(c).allowance[(r.borrower, r.keeper)] == 100 * WAD
    assert system.view(c, "balanceOf", r.borrower) == 800 * WAD
    assert system.view(c, "balanceOf", r.other) == 200 * WAD
    assert logs(system) == [
        (c, "Approval", {"owner": r.borrower, "spender": r.keeper, "value": 100 * WAD}),
        (c, "Transfer", {"sender": r.borrower, "receiver": r.other, "value": 200 * WAD}),
    ]


def test_stablecoin_transfer_from__beyond_allowance__reverts_insufficient_allowance(system):
    r, c = system.roles, system.d.stablecoin
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    system.tx(c, "approve", r.borrower, r.keeper, 300 * WAD)
    with reverts("erc20: insufficient allowance"):
        system.tx(c, "transferFrom", r.keeper, r.borrower, r.keeper, 300 * WAD + 1)
    with reverts("erc20: insufficient allowance"):
        system.tx(c, "transferFrom", r.stranger, r.borrower, r.stranger, 1)


def test_stablecoin_transfer_from__infinite_allowance__is_never_decreased(system):
    """Money flow: keeper moves 200 BUSD from borrower to `other`; the max allowance stays max
    (no Approval event)."""
    r, c = system.roles, system.d.stablecoin
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    system.tx(c, "approve", r.borrower, r.keeper, MAX_UINT256)

    system.tx(c, "transferFrom", r.keeper, r.borrower, r.other, 200 * WAD)

    assert system.view(c, "allowance", r.borrower, r.keeper) == MAX_UINT256
    assert logs(system) == [
        (c, "Transfer", {"sender": r.borrower, "receiver": r.other, "value": 200 * WAD})
    ]
