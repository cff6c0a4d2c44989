"""VaultEngine.settle: anyone cancels its own bad debt against its own stable, never more than
either. Helpers: tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

from support.vault_engine import logged, rate, read, send

from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import reverts


def test_settle__cancels_bad_debt_against_stable_without_authority(system):
    """Money flow: the keeper holds 30 rad of bad debt and 30 rad of stablecoin (created by
    governance); it settles 10 rad, then the remaining 20: both balances and both totals fall."""
    r = system.roles
    send(system, "create_unbacked", r.governance, r.keeper, r.keeper, 30 * RAD)
    send(system, "settle", r.keeper, 10 * RAD)
    assert read(system, "bad_debt", r.keeper) == 20 * RAD
    assert read(system, "stable", r.keeper) == 20 * RAD
    assert read(system, "total_unbacked") == 20 * RAD
    assert read(system, "total_issued") == 20 * RAD
    assert logged(system, "DebtSettled", account=r.keeper, amount=10 * RAD)
    send(system, "settle", r.keeper, 20 * RAD)
    assert read(system, "bad_debt", r.keeper) == 0
    assert read(system, "stable", r.keeper) == 0
    assert read(system, "total_unbacked") == 0
    assert read(system, "total_issued") == 0


def test_settle__more_than_bad_debt__reverts_insufficient_bad_debt(system):
    r = system.roles
    send(system, "create_unbacked", r.governance, r.keeper, r.keeper, 30 * RAD)
    send(system, "create_unbacked", r.governance, r.other, r.keeper, RAD)  # stable is not the limit
    with reverts("engine: insufficient bad debt"):
        send(system, "settle", r.keeper, 30 * RAD + 1)


def test_settle__more_than_stable__reverts_insufficient_stable(system):
    """Money flow: the keeper owes 30 rad of bad debt but the stablecoin went to the other user."""
    r = system.roles
    send(system, "create_unbacked", r.governance, r.keeper, r.other, 30 * RAD)
    with reverts("engine: insufficient stable"):
        send(system, "settle", r.keeper, 1)


def test_settle__after_seizure__borrower_stable_cancels_backstop_bad_debt(system):
    """Money flow: a seizure leaves governance with 1,000 wad * rate of bad debt; the borrower
    pays governance the stablecoin it drew, and governance settles it all: nothing stays issued."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    debt = 1_000 * WAD * rate(system)
    send(
        system,
        "seize",
        r.governance,
        tid,
        r.borrower,
        r.keeper,
        r.governance,
        -10 * WAD,
        -1_000 * WAD,
    )
    send(system, "transfer_stable", r.borrower, r.borrower, r.governance, debt)
    send(system, "settle", r.governance, debt)
    assert read(system, "bad_debt", r.governance) == 0
    assert read(system, "total_issued") == 0
    assert read(system, "total_unbacked") == 0
