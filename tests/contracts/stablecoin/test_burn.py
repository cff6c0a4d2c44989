"""Stablecoin.burn and burn_from: a holder's own tokens, or an owner's within the allowance.
Helpers: tests/contracts/support/joins.py.
"""

from __future__ import annotations

from support.joins import backing, borrow, exit_stable, logs

from offchain.model.fixed_point import WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import reverts


def test_stablecoin_burn__more_than_balance__reverts_burn_amount_exceeds_balance(system):
    r = system.roles
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    with reverts("erc20: burn amount exceeds balance"):
        system.tx(system.d.stablecoin, "burn", r.borrower, 1_000 * WAD + 1)


def test_stablecoin_burn_from__without_allowance__reverts_insufficient_allowance(system):
    r = system.roles
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    with reverts("erc20: insufficient allowance"):
        system.tx(system.d.stablecoin, "burn_from", r.stranger, r.borrower, 1)


def test_stablecoin_burn__holder_destroys_own_tokens(system):
    """Money flow: borrower burns 100 of his 1,000 BUSD; the supply falls by 100 while the
    StableJoin's engine balance stays: the supply stays backed (supply * ray <= its balance)."""
    r, c = system.roles, system.d.stablecoin
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    supply, backed = backing(system)

    system.tx(c, "burn", r.borrower, 100 * WAD)

    assert system.view(c, "balanceOf", r.borrower) == 900 * WAD
    assert backing(system) == (supply - 100 * WAD, backed)
    assert logs(system) == [
        (c, "Transfer", {"sender": r.borrower, "receiver": ZERO_ADDRESS, "value": 100 * WAD})
    ]


def test_stablecoin_burn_from__spender_destroys_owner_tokens(system):
    """Money flow: keeper burns 100 of borrower's BUSD under a 100 BUSD allowance; the supply
    falls by 100, the StableJoin's engine balance stays."""
    r, c = system.roles, system.d.stablecoin
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    system.tx(c, "approve", r.borrower, r.keeper, 100 * WAD)
    supply, backed = backing(system)

    system.tx(c, "burn_from", r.keeper, r.borrower, 100 * WAD)

    assert system.view(c, "balanceOf", r.borrower) == 900 * WAD
    assert backing(system) == (supply - 100 * WAD, backed)
    assert system.view(c, "allowance", r.borrower, r.keeper) == 0
    assert logs(system) == [
        (c, "Approval", {"owner": r.borrower, "spender": r.keeper, "value": 0}),
        (c, "Transfer", {"sender": r.borrower, "receiver": ZERO_ADDRESS, "value": 100 * WAD}),
    ]
