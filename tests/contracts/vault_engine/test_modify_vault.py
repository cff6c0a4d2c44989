"""VaultEngine.modify_vault's moves and consent: lock and draw, repay and free, for oneself or
another account, by a delegate or a stranger. Units and helpers:
tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

from support.vault_engine import ctype, free, lock, logged, rate, read, send, vault

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.vault_engine import Vault
from offchain.testing.harness import reverts


def test_modify_vault__lock_and_draw__moves_collateral_in_and_stable_out(system):
    """Money flow: the borrower locks 10 of its 10 free ETH and draws 5,000 wad of normalized
    debt: it is credited 5,000 wad * rate of stablecoin, and total issued grows by the same."""
    r = system.roles
    tid = system.eth.type_id
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    rt = rate(system)
    lock(system, r.borrower, 10 * WAD, 5_000 * WAD)
    assert vault(system, tid, r.borrower) == Vault(10 * WAD, 5_000 * WAD)
    assert ctype(system, tid).normalized_debt == 5_000 * WAD
    assert free(system, r.borrower) == 0
    assert read(system, "stable", r.borrower) == 5_000 * WAD * rt
    assert read(system, "total_issued") == 5_000 * WAD * rt
    assert logged(
        system,
        "VaultModified",
        collateral_type=tid,
        owner=r.borrower,
        collateral_src=r.borrower,
        stable_dst=r.borrower,
        delta_collateral=10 * WAD,
        delta_normalized_debt=5_000 * WAD,
    )


def test_modify_vault__lock_without_debt__no_dust_or_price_needed(system):
    """Money flow: the borrower locks 1 wei of ETH with no debt, even with no valid price."""
    r = system.roles
    tid = system.eth.type_id
    system.fund(r.borrower, "ETH-A", 1)
    send(system, "set_safe_price", r.governance, tid, 0)
    lock(system, r.borrower, 1, 0)
    assert vault(system, tid, r.borrower) == Vault(1, 0)
    assert read(system, "total_issued") == 0


def test_modify_vault__draw_to_another_account__needs_no_consent_from_it(system):
    """Money flow: the borrower draws 1,000 wad of normalized debt and has the stablecoin sent
    straight to the keeper."""
    r = system.roles
    tid = system.eth.type_id
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    send(
        system,
        "modify_vault",
        r.borrower,
        tid,
        r.borrower,
        r.borrower,
        r.keeper,
        10 * WAD,
        1_000 * WAD,
    )
    assert read(system, "stable", r.keeper) == 1_000 * WAD * rate(system)
    assert read(system, "stable", r.borrower) == 0


def test_modify_vault__repay_part_and_free_part__returns_collateral_and_burns_stable(system):
    """Money flow: from a 10 ETH / 5,000 wad vault the borrower repays 2,000 wad of normalized
    debt (2,000 wad * rate of stablecoin leaves its balance and total issued) and frees 4 ETH."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rt = rate(system)
    lock(system, r.borrower, -4 * WAD, -2_000 * WAD)
    assert vault(system, tid, r.borrower) == Vault(6 * WAD, 3_000 * WAD)
    assert ctype(system, tid).normalized_debt == 3_000 * WAD
    assert free(system, r.borrower) == 4 * WAD
    assert read(system, "stable", r.borrower) == 3_000 * WAD * rt
    assert read(system, "total_issued") == 3_000 * WAD * rt
    assert logged(
        system,
        "VaultModified",
        collateral_type=tid,
        owner=r.borrower,
        collateral_src=r.borrower,
        stable_dst=r.borrower,
        delta_collateral=-4 * WAD,
        delta_normalized_debt=-2_000 * WAD,
    )


def test_modify_vault__repay_all_and_free_all__empties_vault(system):
    """Money flow: the borrower repays its whole debt with exactly the stablecoin it drew and
    takes its 10 ETH back; nothing is left issued."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    lock(system, r.borrower, -10 * WAD, -5_000 * WAD)
    assert vault(system, tid, r.borrower) == Vault(0, 0)
    assert ctype(system, tid).normalized_debt == 0
    assert free(system, r.borrower) == 10 * WAD
    assert read(system, "stable", r.borrower) == 0
    assert read(system, "total_issued") == 0


def test_modify_vault__anyone_may_add_own_collateral_to_a_vault(system):
    """Money flow: the stranger locks 2 of its own ETH into the borrower's vault (a gift that
    makes the vault safer needs no consent from the owner)."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    system.fund(r.stranger, "ETH-A", 2 * WAD)
    send(system, "modify_vault", r.stranger, tid, r.borrower, r.stranger, r.stranger, 2 * WAD, 0)
    assert vault(system, tid, r.borrower) == Vault(12 * WAD, 5_000 * WAD)
    assert free(system, r.stranger) == 0


def test_modify_vault__anyone_may_repay_a_vault_with_own_stable(system):
    """Money flow: the borrower pays the other user 1,000 wad * rate of stablecoin; the other
    user spends it repaying 1,000 wad of the borrower's normalized debt."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rt = rate(system)
    send(system, "transfer_stable", r.borrower, r.borrower, r.other, 1_000 * WAD * rt)
    send(system, "modify_vault", r.other, tid, r.borrower, r.other, r.other, 0, -1_000 * WAD)
    assert vault(system, tid, r.borrower) == Vault(10 * WAD, 4_000 * WAD)
    assert read(system, "stable", r.other) == 0
    assert read(system, "stable", r.borrower) == 4_000 * WAD * rt


def test_modify_vault__repay_after_fees__costs_normalized_debt_times_new_rate(system):
    """Money flow: fees of 0.01 ray accrue to governance (5,000 wad * 0.01 ray = 50 rad); the
    borrower then owes 5,000 wad * (rate + 0.01 ray), so it lacks exactly those 50 rad to repay
    all, gets them from governance, and repays to zero."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rt = rate(system)
    send(system, "fold_rate", r.governance, tid, r.governance, RAY // 100)
    assert read(system, "vault_debt", tid, r.borrower) == 5_000 * WAD * (rt + RAY // 100)
    with reverts("engine: insufficient stable"):
        lock(system, r.borrower, 0, -5_000 * WAD)
    send(system, "transfer_stable", r.governance, r.governance, r.borrower, 50 * RAD)
    lock(system, r.borrower, 0, -5_000 * WAD)
    assert vault(system, tid, r.borrower) == Vault(10 * WAD, 0)
    assert read(system, "stable", r.borrower) == 0
    assert read(system, "total_issued") == 0


def test_modify_vault__delegate_after_allow__draws_and_locks_for_owner(system):
    """Money flow: the other user, allowed by the borrower, locks 10 of the borrower's ETH into
    the borrower's vault and draws 1,000 wad of normalized debt to itself."""
    r = system.roles
    tid = system.eth.type_id
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    send(system, "allow", r.borrower, r.other)
    send(
        system, "modify_vault", r.other, tid, r.borrower, r.borrower, r.other, 10 * WAD, 1_000 * WAD
    )
    assert vault(system, tid, r.borrower) == Vault(10 * WAD, 1_000 * WAD)
    assert read(system, "stable", r.other) == 1_000 * WAD * rate(system)
    assert free(system, r.borrower) == 0


def test_modify_vault__delegate_after_disallow__reverts_owner_not_allowed(system):
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    send(system, "allow", r.borrower, r.other)
    send(system, "modify_vault", r.other, tid, r.borrower, r.other, r.other, 0, 100 * WAD)
    send(system, "disallow", r.borrower, r.other)
    with reverts("engine: owner not allowed"):
        send(system, "modify_vault", r.other, tid, r.borrower, r.other, r.other, 0, 100 * WAD)
    assert vault(system, tid, r.borrower) == Vault(10 * WAD, 1_100 * WAD)


def test_modify_vault__delegate_after_disallow__reverts_collateral_source_not_allowed(system):
    r = system.roles
    tid = system.eth.type_id
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    send(system, "allow", r.borrower, r.other)
    send(system, "modify_vault", r.other, tid, r.other, r.borrower, r.other, 5 * WAD, 0)
    assert vault(system, tid, r.other) == Vault(5 * WAD, 0)
    send(system, "disallow", r.borrower, r.other)
    with reverts("engine: collateral source not allowed"):
        send(system, "modify_vault", r.other, tid, r.other, r.borrower, r.other, 5 * WAD, 0)


def test_modify_vault__stranger_draws_on_owner_vault__reverts_owner_not_allowed(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    with reverts("engine: owner not allowed"):
        send(
            system,
            "modify_vault",
            r.stranger,
            system.eth.type_id,
            r.borrower,
            r.stranger,
            r.stranger,
            0,
            WAD,
        )


def test_modify_vault__stranger_frees_owner_collateral__reverts_owner_not_allowed(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    with reverts("engine: owner not allowed"):
        send(
            system,
            "modify_vault",
            r.stranger,
            system.eth.type_id,
            r.borrower,
            r.stranger,
            r.stranger,
            -WAD,
            0,
        )
    assert free(system, r.stranger) == 0


def test_modify_vault__stranger_locks_owner_free_collateral__reverts_collateral_source_not_allowed(
    system,
):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    system.fund(r.borrower, "ETH-A", 5 * WAD)
    with reverts("engine: collateral source not allowed"):
        send(
            system,
            "modify_vault",
            r.stranger,
            system.eth.type_id,
            r.borrower,
            r.borrower,
            r.stranger,
            WAD,
            0,
        )
    assert free(system, r.borrower) == 5 * WAD


def test_modify_vault__stranger_repays_with_owner_stable__reverts_stable_source_not_allowed(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    with reverts("engine: stable source not allowed"):
        send(
            system,
            "modify_vault",
            r.stranger,
            system.eth.type_id,
            r.borrower,
            r.stranger,
            r.borrower,
            0,
            -WAD,
        )
