"""VaultEngine.transfer_collateral: free collateral moves to the wei, only by its owner or a
delegate. Helpers: tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

from support.vault_engine import free, logged, send

from offchain.model.fixed_point import WAD
from offchain.testing.harness import reverts


def test_transfer_collateral__moves_free_collateral(system):
    """Money flow: the borrower moves 2 of its 5 free ETH to the other user."""
    r = system.roles
    system.fund(r.borrower, "ETH-A", 5 * WAD)
    send(
        system, "transfer_collateral", r.borrower, system.eth.type_id, r.borrower, r.other, 2 * WAD
    )
    assert free(system, r.borrower) == 3 * WAD
    assert free(system, r.other) == 2 * WAD
    assert logged(
        system,
        "CollateralTransferred",
        collateral_type=system.eth.type_id,
        src=r.borrower,
        dst=r.other,
        amount=2 * WAD,
    )


def test_transfer_collateral__whole_balance_to_itself__keeps_balance(system):
    r = system.roles
    system.fund(r.borrower, "ETH-A", 5 * WAD)
    send(
        system,
        "transfer_collateral",
        r.borrower,
        system.eth.type_id,
        r.borrower,
        r.borrower,
        5 * WAD,
    )
    assert free(system, r.borrower) == 5 * WAD


def test_transfer_collateral__exact_balance_passes_one_wei_more_reverts(system):
    r = system.roles
    system.fund(r.borrower, "ETH-A", 5 * WAD)
    with reverts("engine: insufficient collateral"):
        send(
            system,
            "transfer_collateral",
            r.borrower,
            system.eth.type_id,
            r.borrower,
            r.other,
            5 * WAD + 1,
        )
    send(
        system, "transfer_collateral", r.borrower, system.eth.type_id, r.borrower, r.other, 5 * WAD
    )
    assert free(system, r.borrower) == 0
    assert free(system, r.other) == 5 * WAD


def test_transfer_collateral__by_stranger__reverts_not_allowed(system):
    r = system.roles
    system.fund(r.borrower, "ETH-A", 5 * WAD)
    with reverts("engine: not allowed"):
        send(
            system,
            "transfer_collateral",
            r.stranger,
            system.eth.type_id,
            r.borrower,
            r.stranger,
            WAD,
        )
    assert free(system, r.borrower) == 5 * WAD


def test_transfer_collateral__delegate_after_allow_not_after_disallow(system):
    """Money flow: the other user, allowed by the borrower, moves 1 of the borrower's ETH to
    itself; once disallowed it cannot move another."""
    r = system.roles
    system.fund(r.borrower, "ETH-A", 5 * WAD)
    send(system, "allow", r.borrower, r.other)
    send(system, "transfer_collateral", r.other, system.eth.type_id, r.borrower, r.other, WAD)
    assert free(system, r.borrower) == 4 * WAD
    assert free(system, r.other) == WAD
    send(system, "disallow", r.borrower, r.other)
    with reverts("engine: not allowed"):
        send(system, "transfer_collateral", r.other, system.eth.type_id, r.borrower, r.other, WAD)
