"""VaultEngine.create_unbacked: stablecoin minted against bad debt, total unbacked up to 2**255 - 1.
Helpers: tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

from support.vault_engine import logged, read, send

from offchain.model.fixed_point import RAD
from offchain.testing.harness import reverts


def test_create_unbacked__mints_stable_against_bad_debt(system):
    """Money flow: governance owes 25 rad + 1 of new bad debt; the keeper receives the same in
    stablecoin. Total issued and total unbacked both grow by it (I3 holds with no vault)."""
    r = system.roles
    amount = 25 * RAD + 1
    send(system, "create_unbacked", r.governance, r.governance, r.keeper, amount)
    assert read(system, "bad_debt", r.governance) == amount
    assert read(system, "stable", r.keeper) == amount
    assert read(system, "stable", r.governance) == 0
    assert read(system, "total_unbacked") == amount
    assert read(system, "total_issued") == amount
    assert logged(
        system, "UnbackedCreated", debt_dst=r.governance, stable_dst=r.keeper, amount=amount
    )


def test_create_unbacked__total_unbacked_reaches_2_255_minus_1__one_wei_more_reverts(system):
    """Bound: the engine stores the total unbacked debt with its slot's top bit set (so the slot
    never empties and a later liquidation updates it instead of creating it); a checked addition
    on that word reverts once the total would reach 2**255. The model's bound is the same, to the
    wei (the harness compares both sides, the revert included); bad debt the deployment already
    holds counts."""
    r = system.roles
    room = 2**255 - 1 - read(system, "total_unbacked")
    with reverts(None):
        send(system, "create_unbacked", r.governance, r.governance, r.keeper, room + 1)
    send(system, "create_unbacked", r.governance, r.governance, r.keeper, room)
    assert read(system, "total_unbacked") == 2**255 - 1
    with reverts(None):
        send(system, "create_unbacked", r.governance, r.governance, r.keeper, 1)
