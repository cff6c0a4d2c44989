"""VaultEngine.transfer_stable: internal stablecoin moves to the wei, only by its owner or a
delegate (the StableJoin after allow). Helpers: tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

from support.vault_engine import logged, rate, read, send

from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import reverts


def test_transfer_stable__moves_internal_stablecoin(system):
    """Money flow: the borrower draws 1,000 wad of normalized debt and pays the other user
    300 rad + 1 of it."""
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    balance = 1_000 * WAD * rate(system)
    send(system, "transfer_stable", r.borrower, r.borrower, r.other, 300 * RAD + 1)
    assert read(system, "stable", r.borrower) == balance - 300 * RAD - 1
    assert read(system, "stable", r.other) == 300 * RAD + 1
    assert read(system, "total_issued") == balance
    assert logged(system, "StableTransferred", src=r.borrower, dst=r.other, amount=300 * RAD + 1)


def test_transfer_stable__exact_balance_passes_one_wei_more_reverts(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    balance = 1_000 * WAD * rate(system)
    with reverts("engine: insufficient stable"):
        send(system, "transfer_stable", r.borrower, r.borrower, r.other, balance + 1)
    send(system, "transfer_stable", r.borrower, r.borrower, r.other, balance)
    assert read(system, "stable", r.borrower) == 0
    assert read(system, "stable", r.other) == balance


def test_transfer_stable__by_stranger__reverts_not_allowed(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    with reverts("engine: not allowed"):
        send(system, "transfer_stable", r.stranger, r.borrower, r.stranger, RAD)


def test_transfer_stable__delegate_after_allow_not_after_disallow(system):
    """Money flow: the keeper, allowed by the borrower, pays itself 10 rad of the borrower's
    stablecoin; once disallowed it cannot take more."""
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    balance = 1_000 * WAD * rate(system)
    send(system, "allow", r.borrower, r.keeper)
    send(system, "transfer_stable", r.keeper, r.borrower, r.keeper, 10 * RAD)
    assert read(system, "stable", r.keeper) == 10 * RAD
    assert read(system, "stable", r.borrower) == balance - 10 * RAD
    send(system, "disallow", r.borrower, r.keeper)
    with reverts("engine: not allowed"):
        send(system, "transfer_stable", r.keeper, r.borrower, r.keeper, 10 * RAD)


def test_transfer_stable__stable_join_exits_only_after_allow(system):
    """Money flow: the borrower exits 1,000 BUSD to ERC-20. The StableJoin pulls 1,000 rad of the
    borrower's internal balance, which needs the borrower's delegation."""
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    balance = 1_000 * WAD * rate(system)
    with reverts("engine: not allowed"):
        system.tx(system.d.stable_join, "exit", r.borrower, r.borrower, 1_000 * WAD)
    send(system, "allow", r.borrower, system.d.stable_join)
    system.tx(system.d.stable_join, "exit", r.borrower, r.borrower, 1_000 * WAD)
    assert read(system, "stable", r.borrower) == balance - 1_000 * RAD
    assert read(system, "stable", system.d.stable_join) == 1_000 * RAD
    assert system.view(system.d.stablecoin, "balanceOf", r.borrower) == 1_000 * WAD
