"""Running the differential machines (offchain/testing/differential.py): on revm in process (the
default: depth), on Anvil (the ground truth), and a failing revm example replayed on Anvil.

A `FuzzTarget` is an EVM with the system deployed on it in lockstep with the model. The revm
target deploys at `REVM_GENESIS` with Anvil's default accounts, so that a fresh Anvil started at
the same time (`anvil_target`) holds the very same contracts at the same addresses, times and
state: `replay_on_anvil` runs a failing example's steps there through `Lockstep` with
`ChainBackend` and says whether the failure reproduces on the node.

Profiles (`PROFILES`): `ci` (revm, derandomized, the test suite's), `ci-anvil` (a smaller one on
the test session's Anvil, so that the node path is never untested) and `campaign` (a batch of
`make fuzz`'s workers, each batch with its own seed: offchain/testing/campaign.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import ExampleDatabase
from hypothesis.stateful import run_state_machine_as_test

from offchain.backends import (
    ANVIL_ACCOUNTS,
    ChainBackend,
    EvmBackend,
    Lockstep,
    ModelBackend,
    RevmBackend,
    model_beside,
)
from offchain.backends.anvil import Anvil
from offchain.system.config import load_config
from offchain.system.deployment import Deployment, deploy_system
from offchain.testing import constants
from offchain.testing.differential import MACHINES, make_machine
from offchain.testing.harness import TEST_FACTORIES, Roles
from offchain.testing.stats import Totals

# block 0 of the revm target (and of the Anvil a failure is replayed on)
REVM_GENESIS = 1_700_000_000
ROOT = Path(__file__).resolve().parents[2]
# the committed record of the last campaign (`make fuzz` writes it), read by the benchmark
CAMPAIGN_RECORD = ROOT / "bench" / "fuzz-campaign.json"
# where `ape run fuzz` writes without --out: a scratch path (reports/ is ignored by git), so a
# short run never overwrites the committed record
SCRATCH_RECORD = ROOT / "reports" / "fuzz-campaign.json"
Artifacts = tuple[dict[str, tuple[list[dict], str]], str]  # (load_artifacts, reader_code)


@dataclass(frozen=True)
class Profile:
    """How much one run of a machine explores: `examples` examples of `steps` steps each."""

    examples: int
    steps: int
    derandomize: bool

    def settings(
        self,
        database: ExampleDatabase | None = None,
        examples: int | None = None,
        phases: tuple[Phase, ...] | None = None,
    ) -> settings:
        """Hypothesis settings of the profile (`examples` instead of its own; `phases` to leave
        out shrinking, say)."""
        return settings(
            max_examples=self.examples if examples is None else examples,
            stateful_step_count=self.steps,
            derandomize=self.derandomize,
            database=database,
            deadline=None,
            print_blob=False,
            phases=tuple(Phase) if phases is None else phases,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.function_scoped_fixture,
                HealthCheck.data_too_large,
                HealthCheck.filter_too_much,
            ],
        )


# per machine; `ci` on revm is the bulk of the test suite's fuzzing
PROFILES = {
    "ci": Profile(examples=650, steps=100, derandomize=True),
    "ci-anvil": Profile(examples=6, steps=60, derandomize=True),
    # one batch of a campaign's worker (offchain/testing/campaign.py), seeded per batch
    "campaign": Profile(examples=20, steps=150, derandomize=False),
}


@dataclass
class FuzzTarget:
    """An EVM with the system deployed in lockstep with the model (the machines' base state)."""

    evm: EvmBackend
    deployed: tuple[Deployment, ModelBackend]
    roles: Roles


def deploy_target(evm: EvmBackend, roles: Roles) -> FuzzTarget:
    """Deploy the system on `evm` beside a model from its head on (pools unseeded: the machines
    seed them)."""
    model = model_beside(evm, roles.users, TEST_FACTORIES)
    d = deploy_system(
        Lockstep(evm, model), load_config(), roles.governance, roles.feeder, seed_pools=False
    )
    return FuzzTarget(evm, (d, model), roles)


def revm_target(artifacts: Artifacts, genesis: int = REVM_GENESIS) -> FuzzTarget:
    """revm in process, from `genesis`, with Anvil's default accounts in the roles."""
    return deploy_target(RevmBackend(*artifacts, genesis), Roles(*ANVIL_ACCOUNTS[:6]))


@contextmanager
def anvil_target(artifacts: Artifacts, genesis: int = REVM_GENESIS) -> Iterator[FuzzTarget]:
    """A fresh private Anvil from `genesis`: the same deployment as `revm_target`'s."""
    with Anvil(genesis) as node:
        yield deploy_target(ChainBackend(node.url, *artifacts), Roles(*ANVIL_ACCOUNTS[:6]))


def run_machine(
    target: FuzzTarget,
    kind: str,
    run_settings: settings,
    totals: Totals | None = None,
    storage_check: bool | None = None,
    checked: bool = True,
) -> Totals:
    """Run machine `kind` ("full" or "liquidations") on `target`, adding to `totals` (new ones
    if None); its counts. A failing run raises: pass `totals` to read what it counted.
    `storage_check`, `checked`: see make_machine."""
    machine = make_machine(
        target.evm, target.deployed, target.roles, kind, totals, storage_check, checked
    )
    with constants.pinned():  # the same draws whatever the process imported before
        run_state_machine_as_test(machine, settings=run_settings)
    return machine.totals


@dataclass(frozen=True)
class Replay:
    """A failing example's steps run again on Anvil: did it fail there too, and how."""

    steps: int
    reproduces: bool
    error: str | None

    def describe(self) -> str:
        if self.reproduces:
            return f"replayed on Anvil ({self.steps} steps): reproduces: {self.error}"
        return f"replayed on Anvil ({self.steps} steps): does not reproduce (Anvil agrees)"


def replay(target: FuzzTarget, kind: str, steps: list[tuple[str, dict[str, Any]]]) -> Replay:
    """Run `steps` (rule, arguments) of machine `kind` on `target` with the checks of the fuzz
    (before the first step, after each, and the full comparison at the end)."""
    machine = make_machine(target.evm, target.deployed, target.roles, kind)()
    try:
        machine.chain_equals_model_and_invariants_hold()
        for rule, arguments in steps:
            getattr(machine, rule)(**arguments)
            machine.chain_equals_model_and_invariants_hold()
    except Exception as exc:  # noqa: BLE001 - any failure is the verdict
        machine.teardown()
        return Replay(len(steps), True, f"{type(exc).__name__}: {exc}".splitlines()[0])
    machine.teardown()  # the full comparison; its failure is a reproduction too
    return Replay(len(steps), False, None)


def replay_on_anvil(
    artifacts: Artifacts, kind: str, steps: list[tuple[str, dict[str, Any]]]
) -> Replay:
    """`replay` on a fresh Anvil at the revm target's genesis (the same addresses and times)."""
    with anvil_target(artifacts) as target:
        try:
            return replay(target, kind, steps)
        except Exception as exc:  # noqa: BLE001 - the full comparison at the end failed
            return Replay(len(steps), True, f"{type(exc).__name__}: {exc}".splitlines()[0])


def run_on_revm(
    target: FuzzTarget, artifacts: Artifacts, kind: str, run_settings: settings
) -> Totals:
    """`run_machine` on the revm target (its counts); a failure is replayed on Anvil and the
    verdict added to the failure's report (a note on the exception Hypothesis raises)."""
    totals = Totals()
    try:
        return run_machine(target, kind, run_settings, totals)
    except Exception as exc:
        verdict = replay_on_anvil(artifacts, kind, totals.last_example)
        exc.add_note(verdict.describe())
        raise


__all__ = [
    "CAMPAIGN_RECORD",
    "SCRATCH_RECORD",
    "MACHINES",
    "PROFILES",
    "REVM_GENESIS",
    "FuzzTarget",
    "Profile",
    "Replay",
    "anvil_target",
    "deploy_target",
    "replay",
    "replay_on_anvil",
    "revm_target",
    "run_machine",
    "run_on_revm",
]
