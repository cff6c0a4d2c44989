"""VaultEngine.shutdown: parameters, rates and vaults frozen after it, while seizures and transfers
still work. Helpers: tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support.vault_engine import free, lock, logged, rate, read, send, snapshot_state, vault

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.vault_engine import Vault
from offchain.testing.harness import reverts

NOT_LIVE: list[tuple[str, Callable[[Any], tuple]]] = [
    ("set_global_debt_ceiling", lambda s: (RAD,)),
    ("set_debt_ceiling", lambda s: (s.eth.type_id, RAD)),
    ("set_dust", lambda s: (s.eth.type_id, RAD)),
    ("set_safe_price", lambda s: (s.eth.type_id, RAY)),
    ("fold_rate", lambda s: (s.eth.type_id, s.roles.governance, RAY)),
    (
        "modify_vault",
        lambda s: (s.eth.type_id, s.roles.governance, s.roles.governance, s.roles.governance, 0, 0),
    ),
]


def test_shutdown__engine_no_longer_live(system):
    r = system.roles
    send(system, "shutdown", r.governance)
    assert read(system, "live") is False
    assert logged(system, "Shutdown", caller=r.governance)


@pytest.mark.parametrize("function,args", NOT_LIVE, ids=[f for f, _ in NOT_LIVE])
def test_after_shutdown__parameters_rates_and_vaults_frozen__reverts_not_live(
    system, function, args
):
    send(system, "shutdown", system.roles.governance)
    before = snapshot_state(system)
    with reverts("engine: not live"):
        send(system, function, system.roles.governance, *args(system))
    assert snapshot_state(system) == before


def test_after_shutdown__borrower_cannot_repay_or_free__reverts_not_live(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    send(system, "shutdown", r.governance)
    with reverts("engine: not live"):
        lock(system, r.borrower, 0, -1_000 * WAD)
    with reverts("engine: not live"):
        lock(system, r.borrower, -10 * WAD, 0)


def test_after_shutdown__seize_and_transfers_still_work(system):
    """Money flow: global settlement still needs the ledger after the freeze: governance seizes
    the borrower's whole vault into the keeper's free balance (debt -> governance's bad debt), the
    keeper moves collateral, and the borrower still moves stablecoin."""
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    rt = rate(system)
    send(system, "shutdown", r.governance)
    send(
        system,
        "seize",
        r.governance,
        system.eth.type_id,
        r.borrower,
        r.keeper,
        r.governance,
        -10 * WAD,
        -1_000 * WAD,
    )
    send(system, "transfer_collateral", r.keeper, system.eth.type_id, r.keeper, r.other, 4 * WAD)
    send(system, "transfer_stable", r.borrower, r.borrower, r.other, 1_000 * WAD * rt)
    assert vault(system, system.eth.type_id, r.borrower) == Vault(0, 0)
    assert read(system, "bad_debt", r.governance) == 1_000 * WAD * rt
    assert free(system, r.keeper) == 6 * WAD
    assert free(system, r.other) == 4 * WAD
    assert read(system, "stable", r.other) == 1_000 * WAD * rt
