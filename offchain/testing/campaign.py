"""A fuzz campaign on every core (`make fuzz`, scripts/fuzz.py): the differential machines on revm
in several processes, each running batches of examples with its own deterministic seeds, until the
campaign has checked the steps asked for (or its time is up); one record of what was checked and
what failed, bench/fuzz-campaign.json.

Worker `w` of `W` runs batch `b` with the seed `base_seed + w + b * W` on machine
`MACHINES[b % 2]`: a campaign with the same base seed, workers and steps runs the very same
examples (a time limit stops it where the clock says). The workers share one Hypothesis example
database, so a failure found once is tried first by every later campaign. A failing batch is
shrunk, its steps are replayed on a fresh Anvil (offchain/testing/fuzz.py, `replay_on_anvil`) and
the verdict goes into the record; the worker goes on with its next batch. One batch alone (a
failure's seed and machine from a record) runs again with `ape run fuzz --batch SEED --machine
KIND`.
"""

from __future__ import annotations

import collections
import multiprocessing
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import seed
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import run_state_machine_as_test

from offchain.backends import Divergence
from offchain.testing import stats
from offchain.testing.checking import StateDiffers
from offchain.testing.differential import MACHINES, OUTCOMES, make_machine
from offchain.testing.economics import EconomicViolation
from offchain.testing.fuzz import (
    PROFILES,
    ROOT,
    Artifacts,
    Profile,
    replay_on_anvil,
    revm_target,
)
from offchain.testing.specification import SpecViolation

# a batch: this many examples of one machine with one seed (about 10 s on revm)
CAMPAIGN_PROFILE = PROFILES["campaign"]
DATABASE = ROOT / ".hypothesis" / "campaign"


@dataclass(frozen=True)
class Job:
    """What one worker process runs."""

    worker: int
    workers: int
    base_seed: int
    steps: int  # checked steps this worker runs (at least; a batch ends at its last example)
    deadline: float | None  # time.time() after which it starts no batch
    profile: Profile
    artifacts: Artifacts
    database: str | None
    replay: bool  # replay failures on Anvil
    machine: str | None = None  # every batch on this machine (else the machines in turn)


@dataclass
class Failure:
    worker: int
    seed: int
    machine: str
    kind: str  # divergence, state, invariant, economic, specification, other
    error: str
    steps: int  # of the shrunk example
    anvil: str | None  # the replay's verdict


@dataclass
class WorkerResult:
    worker: int
    steps: int = 0
    examples: int = 0
    batches: int = 0
    seeds: list[int] = field(default_factory=list)
    rules: dict[str, dict[str, int]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    checks: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0


def classify(exc: BaseException) -> str:
    """Which check a failure broke."""
    text = f"{type(exc).__name__}: {exc}"
    for kind, types in (
        ("divergence", (Divergence,)),
        ("state", (StateDiffers,)),
        ("economic", (EconomicViolation,)),
        ("specification", (SpecViolation,)),
    ):
        if isinstance(exc, types) or any(t.__name__ in text for t in types):
            return kind
    if "invariants violated" in text:
        return "invariant"
    return "other"


def run_worker(job: Job) -> WorkerResult:
    """One worker's batches (see the module docstring)."""
    start = time.perf_counter()
    stats.reset()
    OUTCOMES.clear()
    result = WorkerResult(job.worker)
    database = DirectoryBasedExampleDatabase(job.database) if job.database else None
    batch = 0
    while stats.TOTALS.steps < job.steps and (job.deadline is None or time.time() < job.deadline):
        batch_seed = job.base_seed + job.worker + batch * job.workers
        kind = job.machine or MACHINES[batch % len(MACHINES)]
        target = revm_target(job.artifacts)
        machine = seed(batch_seed)(make_machine(target.evm, target.deployed, target.roles, kind))
        result.seeds.append(batch_seed)
        try:
            run_state_machine_as_test(machine, settings=job.profile.settings(database=database))
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, the campaign goes on
            steps = list(stats.TOTALS.last_example)
            verdict = None
            if job.replay:
                verdict = replay_on_anvil(job.artifacts, kind, steps).describe()
            result.failures.append(
                Failure(
                    job.worker,
                    batch_seed,
                    kind,
                    classify(exc),
                    f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
                    len(steps),
                    verdict,
                )
            )
        batch += 1
    result.steps = stats.TOTALS.steps
    result.examples = stats.TOTALS.examples
    result.batches = batch
    result.rules = {rule: asdict(count) for rule, count in stats.TOTALS.rules.items()}
    result.outcomes = dict(OUTCOMES)
    result.checks = dict(stats.TOTALS.checks)
    result.seconds = round(time.perf_counter() - start, 1)
    return result


@dataclass
class CampaignRecord:
    """bench/fuzz-campaign.json."""

    steps: int
    examples: int
    steps_per_s: float
    wall_s: float
    workers: int
    base_seed: int
    target_steps: int
    minutes: float | None
    profile: dict[str, Any]
    rules: dict[str, dict[str, int]]
    rules_never_applied: list[str]
    invariant_checks: int
    full_state_checks: int
    specification_checks: int
    divergences: int
    state_differences: int
    invariant_breaks: int
    economic_failures: int
    specification_failures: int
    other_failures: int
    failures: list[dict[str, Any]]
    seeds: dict[str, list[int]]
    outcomes: dict[str, int]
    git_commit: str
    started_at: str

    def ok(self) -> bool:
        return not self.failures and not self.rules_never_applied


def merge(
    results: list[WorkerResult],
    wall_s: float,
    base_seed: int,
    target_steps: int,
    minutes: float | None,
    profile: Profile,
    commit: str,
    started_at: str,
    machines: tuple[str, ...] = MACHINES,
) -> CampaignRecord:
    """The workers' counts added up into the campaign's record (a rule of `machines` never
    applied is named)."""
    rules: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    outcomes: collections.Counter = collections.Counter()
    checks: collections.Counter = collections.Counter()
    failures: list[Failure] = []
    for r in results:
        for rule, count in r.rules.items():
            rules[rule].update(count)
        outcomes.update(r.outcomes)
        checks.update(r.checks)
        failures += r.failures
    applied = {
        rule: count["hits"] > 0 and (count["sent"] == 0 or count["ok"] > 0)
        for rule, count in rules.items()
    }
    never = sorted(
        {name for m in machines for name in _rule_names(m)} - {r for r, ok in applied.items() if ok}
    )
    kinds = collections.Counter(f.kind for f in failures)
    steps = sum(r.steps for r in results)
    return CampaignRecord(
        steps=steps,
        examples=sum(r.examples for r in results),
        steps_per_s=round(steps / wall_s, 1) if wall_s else 0.0,
        wall_s=round(wall_s, 1),
        workers=len(results),
        base_seed=base_seed,
        target_steps=target_steps,
        minutes=minutes,
        profile=asdict(profile),
        rules={rule: dict(rules[rule]) for rule in sorted(rules)},
        rules_never_applied=never,
        invariant_checks=checks["touched checks"] + checks["full checks"],
        full_state_checks=checks["full checks"],
        specification_checks=checks["specification checks"],
        divergences=kinds["divergence"],
        state_differences=kinds["state"],
        invariant_breaks=kinds["invariant"],
        economic_failures=kinds["economic"],
        specification_failures=kinds["specification"],
        other_failures=kinds["other"],
        failures=[asdict(f) for f in failures],
        seeds={str(r.worker): r.seeds for r in results},
        outcomes=dict(sorted(outcomes.items())),
        git_commit=commit,
        started_at=started_at,
    )


def _rule_names(kind: str) -> list[str]:
    """The rules machine `kind` can apply (initialize rules included)."""
    from offchain.testing.differential import Differential, LiquidationFocus

    machine = {"full": Differential, "liquidations": LiquidationFocus}[kind]
    names = []
    for name in dir(machine):
        value = getattr(machine, name, None)
        if getattr(value, "hypothesis_stateful_rule", None) is not None or getattr(
            value, "hypothesis_stateful_initialize_rule", None
        ):
            names.append(name)
    return names


def run_campaign(
    artifacts: Artifacts,
    steps: int,
    workers: int,
    base_seed: int,
    minutes: float | None,
    profile: Profile = CAMPAIGN_PROFILE,
    database: Path | None = DATABASE,
    replay: bool = True,
    machine: str | None = None,
) -> tuple[list[WorkerResult], float]:
    """Run the workers (one process each) and wait for all: (their results, wall seconds)."""
    deadline = None if minutes is None else time.time() + minutes * 60
    per_worker = -(-steps // workers)
    jobs = [
        Job(
            w,
            workers,
            base_seed,
            per_worker,
            deadline,
            profile,
            artifacts,
            str(database) if database else None,
            replay,
            machine,
        )
        for w in range(workers)
    ]
    start = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        results = pool.map(run_worker, jobs, chunksize=1)
    return results, time.perf_counter() - start
