"""VaultEngine.seize: a vault's collateral to a destination and its debt to bad debt, with no safety
or dust check; positive deltas undo a seizure; balance and bound checks. Helpers:
tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

from support.vault_engine import MAX_FIELD, NEW_TYPE, ctype, free, logged, rate, read, send, vault

from offchain.model.fixed_point import RAY, WAD
from offchain.model.vault_engine import CollateralType, Vault
from offchain.testing.harness import reverts


def test_seize__whole_vault__collateral_to_dst_debt_becomes_bad_debt(system):
    """Money flow: governance seizes the borrower's 10 ETH / 5,000 wad vault. The 10 ETH go to the
    keeper's free balance; the 5,000 wad * rate of debt becomes governance's bad debt. The
    stablecoin the borrower drew stays issued, now backed by nothing: I3 moves it from backed
    to unbacked debt."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rt = rate(system)
    send(
        system,
        "seize",
        r.governance,
        tid,
        r.borrower,
        r.keeper,
        r.governance,
        -10 * WAD,
        -5_000 * WAD,
    )
    assert vault(system, tid, r.borrower) == Vault(0, 0)
    assert ctype(system, tid).normalized_debt == 0
    assert free(system, r.keeper) == 10 * WAD
    assert read(system, "bad_debt", r.governance) == 5_000 * WAD * rt
    assert read(system, "total_unbacked") == 5_000 * WAD * rt
    assert read(system, "total_issued") == 5_000 * WAD * rt
    assert read(system, "stable", r.borrower) == 5_000 * WAD * rt
    assert ctype(system, tid).rate == rt
    assert logged(
        system,
        "VaultSeized",
        collateral_type=tid,
        owner=r.borrower,
        collateral_dst=r.keeper,
        debt_dst=r.governance,
        delta_collateral=-10 * WAD,
        delta_normalized_debt=-5_000 * WAD,
    )


def test_seize__part_of_safe_vault__no_safety_or_dust_check(system):
    """Money flow: governance takes 4 ETH and 4,950 wad of debt, leaving a 50 wad remainder below
    dust (the liquidator, not the engine, guards that): 4 ETH to the keeper, 4,950 wad * rate of
    bad debt to governance."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rt = rate(system)
    send(
        system,
        "seize",
        r.governance,
        tid,
        r.borrower,
        r.keeper,
        r.governance,
        -4 * WAD,
        -4_950 * WAD,
    )
    assert vault(system, tid, r.borrower) == Vault(6 * WAD, 50 * WAD)
    assert free(system, r.keeper) == 4 * WAD
    assert read(system, "bad_debt", r.governance) == 4_950 * WAD * rt


def test_seize__positive_deltas__undo_a_seizure(system):
    """Money flow: after a full seizure governance puts the keeper's 10 ETH and its own 5,000 wad
    * rate of bad debt back into the borrower's vault."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    send(
        system,
        "seize",
        r.governance,
        tid,
        r.borrower,
        r.keeper,
        r.governance,
        -10 * WAD,
        -5_000 * WAD,
    )
    send(
        system,
        "seize",
        r.governance,
        tid,
        r.borrower,
        r.keeper,
        r.governance,
        10 * WAD,
        5_000 * WAD,
    )
    assert vault(system, tid, r.borrower) == Vault(10 * WAD, 5_000 * WAD)
    assert free(system, r.keeper) == 0
    assert read(system, "bad_debt", r.governance) == 0
    assert read(system, "total_unbacked") == 0


def test_seize__locked_collateral_above_128_bits__reverts_value_too_large(system):
    """Money flow: the keeper holds 2**128 wad of free ETH; governance can put back into the
    borrower's 10 ETH vault exactly enough to fill its packed half (2**128 - 1), not one wei
    more."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    system.fund(r.keeper, "ETH-A", MAX_FIELD + 1)
    room = MAX_FIELD - 10 * WAD
    with reverts("engine: value too large"):
        send(system, "seize", r.governance, tid, r.borrower, r.keeper, r.governance, room + 1, 0)
    send(system, "seize", r.governance, tid, r.borrower, r.keeper, r.governance, room, 0)
    assert vault(system, tid, r.borrower) == Vault(MAX_FIELD, 1_000 * WAD)
    assert free(system, r.keeper) == MAX_FIELD + 1 - room


def test_seize__uninitialized_type__reverts_and_init_stays_clean(system):
    """Seizing on a type whose rate is 0 could put debt into a vault without issuing anything
    (delta_debt = 0 * delta), and init_type would then overwrite the type's packed debt half,
    leaving vault and type debt apart (I3, I4). Refused; the type initializes clean."""
    r = system.roles
    with reverts("engine: type not initialized"):
        send(system, "seize", r.governance, NEW_TYPE, r.borrower, r.keeper, r.governance, 0, WAD)
    with reverts("engine: type not initialized"):
        send(system, "seize", r.governance, NEW_TYPE, r.borrower, r.keeper, r.governance, 0, 0)
    send(system, "init_type", r.governance, NEW_TYPE)
    assert ctype(system, NEW_TYPE) == CollateralType(rate=RAY)
    assert vault(system, NEW_TYPE, r.borrower) == Vault(0, 0)
    assert system.engine().collateral_types[NEW_TYPE] == ctype(system, NEW_TYPE)


def test_seize__more_collateral_than_locked__reverts_insufficient_locked(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    with reverts("engine: insufficient locked"):
        send(
            system,
            "seize",
            r.governance,
            system.eth.type_id,
            r.borrower,
            r.keeper,
            r.governance,
            -(10 * WAD + 1),
            -5_000 * WAD,
        )


def test_seize__more_debt_than_owed__reverts_repay_exceeds_debt(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    with reverts("engine: repay exceeds debt"):
        send(
            system,
            "seize",
            r.governance,
            system.eth.type_id,
            r.borrower,
            r.keeper,
            r.governance,
            -10 * WAD,
            -(5_000 * WAD + 1),
        )


def test_seize__putting_back_collateral_dst_lacks__reverts_insufficient_collateral(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    with reverts("engine: insufficient collateral"):
        send(
            system,
            "seize",
            r.governance,
            system.eth.type_id,
            r.borrower,
            r.keeper,
            r.governance,
            WAD,
            0,
        )


def test_seize__putting_back_debt_without_bad_debt__reverts_arithmetic(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    with reverts(None):
        send(
            system,
            "seize",
            r.governance,
            system.eth.type_id,
            r.borrower,
            r.keeper,
            r.governance,
            0,
            WAD,
        )
