"""A fuzz campaign on every core (`make fuzz`, scripts/_fuzz.py): the differential machines on revm
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

A campaign goes on from its record (`ape run fuzz --resume`, `continued`): each worker starts at
the batch after the last in the record, with its steps so far, and the new counts are added to
the record's, which lists each run (`segments`). A batch a stop cut short is not run again: its
remaining examples are the only ones an uninterrupted campaign of the same seed would have run
and the resumed one does not; a campaign that stopped at its steps ends at a batch boundary, so
its continuation runs exactly the batches an uninterrupted one would. The record carries a
digest of the code the fuzz runs (`code_digest`); a resume under other code is refused.

Progress is never only in memory: after every batch a worker sends its counts so far (cumulative, so
the parent's merge of the latest of each is exact) and the parent writes the record again
(`write_record`: a temporary file renamed over the old one), with `complete: false` until the
campaign ends; one campaign at a time writes a record (`record_lock`). The time limit holds within a
step: once it passes, the machine stops after its current checked step (stats.StopRun; the example's
full comparison still runs), the worker sends its counts and ends. A failing example's shrinking is
bounded by `shrink_s` seconds (Hypothesis's MAX_SHRINKING_SECONDS, documented as settable): the
failure is recorded, with its seed, as shrunk as it got. Ctrl-C or SIGTERM (`ape run fuzz`) sets a
stop event the workers' machines see after their current step: they send their counts, the parent
writes the partial record (`stopped: "interrupted"`) and exits; a worker that does not answer within
`STOP_GRACE_S` is terminated and its last batch's counts stand.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import math
import multiprocessing
import os
import queue
import secrets
import signal
import stat
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from hypothesis import Verbosity, seed, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.internal.conjecture import engine as hypothesis_engine
from hypothesis.stateful import RuleBasedStateMachine, RuleStrategy, run_state_machine_as_test

from offchain.backends import Divergence
from offchain.system.outputs import describe_json
from offchain.testing import constants, stats
from offchain.testing.checking import StateDiffers
from offchain.testing.differential import MACHINES, make_machine
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
# the longest a failing example is shrunk [seconds] (then it is recorded as shrunk as it got)
SHRINK_S = 120.0
# how long the parent waits for the workers' last counts after a stop before terminating them [s]
STOP_GRACE_S = 30.0
# why a campaign stopped (CampaignRecord.stopped)
STEPS_REACHED, TIME_UP, INTERRUPTED = "steps reached", "time up", "interrupted"


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
    shrink_s: float = SHRINK_S  # the longest a failing example is shrunk [seconds]
    # a resumed campaign: the worker's first batch and its steps in the record's earlier runs
    first_batch: int = 0
    steps_done: int = 0


@dataclass
class Failure:
    worker: int
    seed: int
    machine: str
    kind: str  # divergence, state, invariant, economic, specification, other
    error: str
    steps: int  # of the shrunk example
    anvil: str | None  # the replay's verdict
    shrink_s: float = 0.0  # seconds from the first failing example to the end of shrinking
    shrink_cut: bool = False  # shrinking hit the campaign's bound (the example may shrink more)


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
    stopped: str | None = None  # why the worker ended (None: still running)


def classify(exc: BaseException | str) -> str:
    """Which check a failure (an exception, or its text "Type: message") broke."""
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
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


def run_worker(
    job: Job,
    report: Callable[[WorkerResult], None] = lambda result: None,
    interrupted: Callable[[], bool] = lambda: False,
    totals: stats.Totals | None = None,
) -> WorkerResult:
    """One worker's batches (see the module docstring): `report` gets the counts so far after
    every batch; `interrupted()` true stops the worker after its current step. Every batch's
    machine adds to `totals` (new ones if None)."""
    start = time.perf_counter()
    totals = totals if totals is not None else stats.Totals()
    result = WorkerResult(job.worker)
    database = DirectoryBasedExampleDatabase(job.database) if job.database else None
    # quiet: the record says what failed (and Hypothesis's slow-shrinking warning is expected)
    run_settings = settings(job.profile.settings(database=database), verbosity=Verbosity.quiet)
    hypothesis_engine.MAX_SHRINKING_SECONDS = job.shrink_s  # type: ignore[misc]

    def why_stop() -> str | None:
        if interrupted():
            return INTERRUPTED
        if job.deadline is not None and time.time() >= job.deadline:
            return TIME_UP
        if job.steps_done + totals.steps >= job.steps:
            return STEPS_REACHED
        return None

    def stop_in_batch() -> str | None:
        """A batch runs its examples to the end unless the run is interrupted or, before any
        example of the batch failed (its shrinking is bounded apart), the time is up."""
        why = why_stop()
        if why == INTERRUPTED or (why == TIME_UP and not totals.failed_examples):
            return why
        return None

    batch = job.first_batch
    while (stopped := why_stop()) is None:
        batch_seed = job.base_seed + job.worker + batch * job.workers
        kind = job.machine or MACHINES[batch % len(MACHINES)]
        target = revm_target(job.artifacts)
        machine = seed(batch_seed)(
            make_machine(target.evm, target.deployed, target.roles, kind, totals)
        )
        result.seeds.append(batch_seed)
        totals.new_run()
        totals.stop_when = stop_in_batch
        error, failure_kind, steps = None, "other", []
        try:
            with constants.pinned():  # a batch's seed draws the same whatever was imported
                run_state_machine_as_test(machine, settings=run_settings)
        except stats.StopRun:
            if totals.last_failure is not None:  # interrupted while shrinking a failure
                steps, text = totals.last_failure
                error, failure_kind = f"{text} (shrinking interrupted)", classify(text)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, the campaign goes on
            error, steps = f"{type(exc).__name__}: {exc}", list(totals.last_example)
            failure_kind = classify(exc)
        finally:
            totals.stop_when = None
            forget(machine)
        batch += 1
        if error is not None:
            first = totals.first_failure_at
            shrink_s = time.perf_counter() - first if first is not None else 0.0
            verdict = None
            if job.replay and not interrupted():
                # the replay's steps are Anvil's, not the campaign's: its machine counts apart
                verdict = replay_on_anvil(job.artifacts, kind, steps).describe()
            result.failures.append(
                Failure(
                    job.worker,
                    batch_seed,
                    kind,
                    failure_kind,
                    # a specification violation's first line is its header: keep the first
                    # broken property too
                    " ".join(error.splitlines()[:2])[:500],
                    len(steps),
                    verdict,
                    round(shrink_s, 1),
                    shrink_s >= job.shrink_s or error.endswith("(shrinking interrupted)"),
                )
            )
        report(_snapshot(result, totals, batch - job.first_batch, start, None))
    return _snapshot(result, totals, batch - job.first_batch, start, stopped)


def forget(machine: type[RuleBasedStateMachine]) -> None:
    """Drop a batch's machine class from what Hypothesis keeps of every state machine class it
    ran, for the life of the process: `RuleBasedStateMachine._setup_state_per_class` (a dict) and
    the unbounded `lru_cache`s of `RuleBasedStateMachine._to_test_case` and
    `RuleStrategy._setup_for`, all keyed by the class (Hypothesis 6.170). Each batch's class holds
    its revm backend, deployment and model (`make_machine`), so a worker that kept them grew ~45 MB
    a minute on the campaign profile. The two caches are cleared whole (an `lru_cache` drops no
    single key): the next batch's class builds its entries again, the same ones."""
    RuleBasedStateMachine._setup_state_per_class.pop(machine, None)
    RuleBasedStateMachine._to_test_case.__func__.cache_clear()  # type: ignore[attr-defined]
    RuleStrategy._setup_for.__func__.cache_clear()  # type: ignore[attr-defined]


def _snapshot(
    result: WorkerResult, totals: stats.Totals, batches: int, start: float, stopped: str | None
):
    """The worker's counts so far (a copy: the counts go on changing)."""
    return replace(
        result,
        steps=totals.steps,
        examples=totals.examples,
        batches=batches,
        seeds=list(result.seeds),
        rules={rule: asdict(count) for rule, count in totals.rules.items()},
        outcomes=dict(totals.outcomes),
        checks=dict(totals.checks),
        failures=list(result.failures),
        seconds=round(time.perf_counter() - start, 1),
        stopped=stopped,
    )


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
    full_state_checks: int  # the complete views compared (offchain/testing/checking.py)
    storage_checks: int  # storage comparisons (revm: after every step)
    slots_compared: int
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
    # false until the campaign ended as asked (its steps reached or its time up)
    complete: bool = True
    # why it stopped: steps reached, time up, interrupted (None: still running)
    stopped: str | None = None
    # every batch on this machine (None: the machines in turn)
    machine: str | None = None
    # per worker, its steps (over every run): where a resumed worker stands
    worker_steps: dict[str, int] = field(default_factory=dict)
    # the code the fuzz ran (`code_digest`): a resume must run the same
    code_digest: str = ""
    # each run of the campaign (the first, then each --resume): started_at, git_commit, wall_s,
    # steps, minutes, stopped
    segments: list[dict[str, Any]] = field(default_factory=list)
    # every worker reached its share of target_steps (`complete` is also true when a run's time
    # was up: a campaign in several runs is done only when this is)
    target_reached: bool = False

    @property
    def unchecked_steps(self) -> int:
        """Steps without their after-step checks (offchain/testing/checking.py counts each as an
        invariant check): none in a campaign; more would mean a machine ran without its checks
        (the benchmark's unchecked floor, `checked=False`, leaked into a campaign), and the
        campaign fails."""
        return max(0, self.steps - self.invariant_checks)

    def why_failed(self, one_batch: bool = False) -> list[str]:
        """Why the record fails, a phrase each (empty: it passes): its failures, the rules it
        never applied (a campaign's only: `one_batch`, a --batch run, applies the rules its
        examples drew), steps without their checks, or a campaign that did not end as asked."""
        why = [f"{len(self.failures)} failures"] if self.failures else []
        if self.rules_never_applied and not one_batch:
            why.append(f"{len(self.rules_never_applied)} rules never applied")
        if self.unchecked_steps:
            why.append(f"{self.unchecked_steps:,} steps without their checks")
        if not self.complete:
            why.append("not complete")
        return why

    def ok(self) -> bool:
        return not self.why_failed()


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
    stopped: str | None = STEPS_REACHED,
    digest: str = "",
) -> CampaignRecord:
    """The workers' counts added up into the campaign's record (a rule of `machines` never
    applied is named); `stopped` why the campaign stopped (None: it runs on), complete when its
    steps were reached or its time was up; `digest` the code's (`code_digest`)."""
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
    kinds = collections.Counter(f.kind for f in failures)
    steps = sum(r.steps for r in results)
    share = worker_share(target_steps, max(1, len(results)))
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
        rules_never_applied=_never_applied(rules, machines),
        invariant_checks=checks["invariant checks"],
        full_state_checks=checks["full checks"],
        storage_checks=checks["storage checks"],
        slots_compared=checks["slots compared"],
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
        complete=stopped in (STEPS_REACHED, TIME_UP),
        stopped=stopped,
        machine=machines[0] if len(machines) == 1 else None,
        worker_steps={str(r.worker): r.steps for r in results},
        code_digest=digest,
        target_reached=all(r.steps >= share for r in results),
        segments=[
            {
                "started_at": started_at,
                "git_commit": commit,
                "wall_s": round(wall_s, 1),
                "steps": steps,
                "minutes": minutes,
                "stopped": stopped,
            }
        ],
    )


def _never_applied(rules: dict[str, Any], machines: tuple[str, ...]) -> list[str]:
    """The rules of `machines` that `rules` (counts per rule) never applied: never drawn, or
    sent and never once accepted."""
    applied = {
        rule for rule, count in rules.items()
        if count["hits"] > 0 and (count["sent"] == 0 or count["ok"] > 0)
    }  # fmt: skip
    return sorted({name for m in machines for name in _rule_names(m)} - applied)


# summed when a resumed run's counts are added to its record's
_ADDED = (
    "steps", "examples", "wall_s", "invariant_checks", "full_state_checks", "storage_checks",
    "slots_compared", "specification_checks", "divergences", "state_differences",
    "invariant_breaks", "economic_failures", "specification_failures", "other_failures",
)  # fmt: skip


def _added(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {key: a.get(key, 0) + b.get(key, 0) for key in sorted({*a, *b})}


def continued(old: CampaignRecord, new: CampaignRecord) -> CampaignRecord:
    """The record of campaign `old` continued by the run `new` (`--resume`): the counts added,
    the seeds of each worker one after the other, the runs listed; whether it is complete and
    why it stopped, the new run's."""
    if (old.base_seed, old.workers, old.profile, old.machine, old.code_digest) != (
        new.base_seed,
        new.workers,
        new.profile,
        new.machine,
        new.code_digest,
    ):
        raise ValueError("a run continues only the campaign of its seed, workers, profile, "
                         "machine and code")  # fmt: skip
    rules = {
        r: _added(old.rules.get(r, {}), new.rules.get(r, {})) for r in {*old.rules, *new.rules}
    }
    machines = (old.machine,) if old.machine else MACHINES
    added = {key: getattr(old, key) + getattr(new, key) for key in _ADDED}
    added["wall_s"] = round(added["wall_s"], 1)
    workers = sorted({*old.seeds, *new.seeds}, key=int)
    record = replace(
        old,
        **added,
        steps_per_s=round(added["steps"] / added["wall_s"], 1) if added["wall_s"] else 0.0,
        target_steps=new.target_steps,
        minutes=new.minutes,
        rules={rule: rules[rule] for rule in sorted(rules)},
        rules_never_applied=_never_applied(rules, machines),
        failures=old.failures + new.failures,
        seeds={w: old.seeds.get(w, []) + new.seeds.get(w, []) for w in workers},
        outcomes=dict(sorted(_added(old.outcomes, new.outcomes).items())),
        worker_steps=_added(old.worker_steps, new.worker_steps),
        complete=new.complete,
        stopped=new.stopped,
        segments=old.segments + new.segments,
    )
    return replace(record, target_reached=target_reached(record))


# what the fuzz runs: a resumed campaign must run the same (`code_digest`)
DIGEST_PACKAGES = ("vyper", "snekmate", "hypothesis", "pyrevm", "eth-abi", "eth-ape", "ape-vyper")
_DIGEST_FILES = (("contracts", "*.vy*"), ("offchain", "*"), ("scripts", "_fuzz.py"))


def code_digest(root: Path = ROOT) -> str:
    """A digest of the code a campaign runs: the contracts' sources, every file under offchain/
    (the model, the machines and their checks), scripts/_fuzz.py, ape-config.yaml (the compiler's
    settings), Python's version and the versions of the packages that compile, run and draw."""
    h = hashlib.sha256()
    h.update(f"python {sys.version}\n".encode())
    for package in DIGEST_PACKAGES:
        try:
            h.update(f"{package} {importlib.metadata.version(package)}\n".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{package} absent\n".encode())
    paths = [p for folder, pattern in _DIGEST_FILES for p in (root / folder).rglob(pattern)]
    paths.append(root / "ape-config.yaml")
    for path in sorted(p for p in paths if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def read_record(path: Path) -> CampaignRecord:
    """The campaign record at `path`; ValueError (one line) when it is not one, or was written
    before campaigns could be resumed."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ValueError(f"no record at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        # said in words (the exception's class name was the reason: "(JSONDecodeError)")
        if isinstance(exc, IsADirectoryError):
            why = "a folder"
        elif isinstance(exc, OSError):
            why = f"cannot be read: {exc.strerror or exc}"
        elif isinstance(exc, UnicodeDecodeError):
            why = "not UTF-8 text"
        elif isinstance(exc, RecursionError):
            why = "JSON nested too deeply"
        else:
            why = "an empty file" if not exc.doc.strip() else "not JSON"
        raise ValueError(f"{path} is not a campaign record ({why})") from None
    names = {f.name for f in fields(CampaignRecord)}
    if not isinstance(data, dict) or not {"steps", "seeds", "base_seed"} <= set(data):
        kind = describe_json(data)
        raise ValueError(f"{path} is not a campaign record" + (f" (it is {kind})" if kind else ""))
    if not data.get("code_digest") or not data.get("worker_steps") or not data.get("segments"):
        raise ValueError(
            f"{path} was written before campaigns could be resumed (no code digest, steps per "
            "worker or runs)"
        )
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{path} is not a campaign record (unknown field {unknown[0]})")
    try:
        record = CampaignRecord(**data)
    except TypeError as exc:
        raise ValueError(f"{path} is not a campaign record ({exc})") from None
    problem = _inconsistent(record)
    if problem:
        raise ValueError(f"{path}: {problem}")
    return record


def _count(value: Any) -> bool:
    """A whole number of things (JSON's true and 1.0 are not)."""
    return type(value) is int and value >= 0


def _inconsistent(record: CampaignRecord) -> str | None:
    """What in a record read back does not hold together (a hand edit, a mix of records)."""
    if not _count(record.workers) or not 1 <= record.workers <= 256:
        return f"workers {record.workers!r} is not a count of workers"
    if not _count(record.base_seed):
        return f"base_seed {record.base_seed!r} is not a seed"
    if not _count(record.target_steps) or record.target_steps < 1:
        return f"target_steps {record.target_steps!r} is not a count of steps"
    wall = record.wall_s
    if not all(_count(getattr(record, key)) for key in _ADDED if key != "wall_s") or not (
        type(wall) in (int, float) and math.isfinite(wall) and wall >= 0
    ):
        return "its counts are not whole numbers (or its seconds not a time)"
    profile = record.profile
    if not isinstance(profile, dict) or set(profile) != {"examples", "steps", "derandomize"}:
        return f"profile {profile!r} is not a batch profile (examples, steps, derandomize)"
    if not all(_count(profile[k]) and 1 <= profile[k] <= 10_000 for k in ("examples", "steps")):
        return f"profile {profile!r}: examples and steps must be whole numbers from 1 to 10,000"
    if type(profile["derandomize"]) is not bool:
        return f"profile {profile!r}: derandomize must be true or false"
    if record.machine is not None and record.machine not in MACHINES:
        return f"machine {record.machine!r} is none of {', '.join(MACHINES)}"
    rule_fields = {f.name for f in fields(stats.RuleCount)}
    if not isinstance(record.rules, dict) or not all(
        isinstance(c, dict) and set(c) == rule_fields and all(map(_count, c.values()))
        for c in record.rules.values()
    ):
        return f"its rules are not counts ({', '.join(sorted(rule_fields))} per rule)"
    if not all(
        isinstance(t, dict) and all(map(_count, t.values()))
        for t in (record.outcomes, record.worker_steps)
    ):
        return "its outcomes or steps per worker are not counts"
    if not isinstance(record.seeds, dict) or not isinstance(record.segments, list):
        return "its seeds or runs are not lists"
    expected = {str(w) for w in range(record.workers)}
    if set(record.seeds) != expected or set(record.worker_steps) != expected:
        return f"its seeds and steps are not those of {record.workers} workers"
    step = record.workers
    for w, seeds in record.seeds.items():
        if (
            not isinstance(seeds, list)
            or not all(type(x) is int for x in seeds)
            or seeds != [record.base_seed + int(w) + b * step for b in range(len(seeds))]
        ):
            return f"worker {w}'s seeds are not base_seed + {w} + batch x {step}"
    # (no cap on the steps or examples of a batch: Hypothesis runs more test cases than the
    # profile's examples, and a campaign's first record, 15,678 examples in 750 batches of 20,
    # was refused by one)
    if sum(record.worker_steps.values()) != record.steps:
        return f"its workers' steps do not add up to its {record.steps} steps"
    if not isinstance(record.failures, list):
        return "its failures are not a list"
    try:
        kinds = collections.Counter(Failure(**f).kind for f in record.failures)
    except TypeError:
        return "its failures are not failures (worker, seed, machine, kind, error, ...)"
    counted = {
        "divergence": record.divergences,
        "state": record.state_differences,
        "invariant": record.invariant_breaks,
        "economic": record.economic_failures,
        "specification": record.specification_failures,
        "other": record.other_failures,
    }
    if any(kinds[kind] != n for kind, n in counted.items()) or set(kinds) - set(counted):
        return "its failures' kinds do not match its counts of each"
    return None


def worker_share(steps: int, workers: int) -> int:
    """The steps each of `workers` runs of a campaign of `steps` (rounded up: equal shares)."""
    return -(-steps // workers)


def target_reached(record: CampaignRecord, target: int | None = None) -> bool:
    """Every worker of `record` reached its share of `target` steps (the record's own target by
    default): what a campaign runs to (the workers' shares are equal)."""
    share = worker_share(target or record.target_steps, record.workers)
    return all(steps >= share for steps in record.worker_steps.values())


def write_record(record: CampaignRecord, out: Path) -> None:
    """Write `record` to `out` atomically: a temporary file beside it, renamed over it (a reader
    or a killed campaign never sees half a record). A new record gets a new file's mode (the
    umask's); a rewritten one keeps its file's, where the file system lets it."""
    try:
        mode: int | None = stat.S_IMODE(out.stat().st_mode)
    except OSError:  # none yet
        mode = None
    tmp = out.parent / f".{out.name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        with os.fdopen(fd, "w") as f:
            if mode is not None:
                with contextlib.suppress(OSError):  # (a vfat or CIFS mount may refuse it)
                    os.fchmod(f.fileno(), mode)
            f.write(json.dumps(asdict(record), indent=2) + "\n")
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class RecordBusy(RuntimeError):
    """Another campaign is writing the record (or its lock file cannot be opened)."""


def lock_path(out: Path) -> Path:
    """The lock file of record `out`: beside it, in the directory the record is renamed into
    (so every spelling of the path, a symlinked directory included, meets the same file)."""
    return out.parent.resolve() / f".{out.name}.lock"


@contextlib.contextmanager
def record_lock(out: Path) -> Iterator[None]:
    """Hold record `out` for one campaign while it runs: a second campaign given the same record
    (a second `make fuzz`, say) is refused (RecordBusy, naming the holder's process) instead of
    both rewriting it after their batches in turn. The lock is an flock on `lock_path(out)` (the
    record itself is replaced at every write, so it cannot carry one); the kernel drops the lock
    when its holder exits, however it exits. The lock file is removed when the holder lets go,
    after a run or a refusal (a refused `--resume` left it behind): removed while still held, and
    a new holder checks that the file it locked is still the one at the path (one that locked a
    file just removed opens the path again), so two campaigns never hold two files."""
    path = lock_path(out)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise RecordBusy(f"cannot open its lock file {path} ({exc.strerror or exc})") from None
        f = os.fdopen(fd, "r+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = f.read().strip()
            f.close()
            which = f" (process {holder})" if holder.isdigit() else ""
            raise RecordBusy(
                f"another campaign{which} is writing it: wait for it to end, or give another --out"
            ) from None
        try:
            current = os.stat(path, follow_symlinks=False).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            break
        f.close()  # its last holder removed it meanwhile: lock the path's file
    try:
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while held: no other campaign holds this file meanwhile
        f.close()


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


class WorkerCrashed(RuntimeError):
    """A worker process failed outside any example (the message carries its traceback)."""


def _worker_main(job: Job, messages: Any, stop: Any) -> None:
    """A worker process: its batches, its counts sent after each ("batch") and at the end
    ("done"), or the traceback of what broke it ("crashed"). The worker leaves the terminal's
    process group, so that Ctrl-C reaches only the parent, which sets `stop`; SIGTERM sets it
    here too; either way the worker stops after its current step."""
    os.setpgrp()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    parent = os.getppid()

    def interrupted() -> bool:
        return stop.is_set() or os.getppid() != parent  # the parent is gone: stop

    try:
        final = run_worker(job, lambda r: messages.put(("batch", job.worker, r)), interrupted)
    except BaseException:  # noqa: BLE001 - the parent reports it
        messages.put(("crashed", job.worker, traceback.format_exc()))
        return
    messages.put(("done", job.worker, final))


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
    progress: Callable[[list[WorkerResult], float], None] = lambda results, wall: None,
    shrink_s: float = SHRINK_S,
    resume: CampaignRecord | None = None,
) -> tuple[list[WorkerResult], float, str]:
    """Run the workers (one process each) and wait for all: (their results, wall seconds, why
    the campaign stopped). `progress` gets the workers' latest counts after every batch. On
    Ctrl-C (KeyboardInterrupt) the workers are stopped and their last counts returned, stopped
    "interrupted"; a crashed worker stops the others and raises WorkerCrashed. With `resume`
    (a record of this seed and these workers), each worker goes on after its last batch there,
    counting its steps there towards `steps`."""
    if resume is not None and (resume.base_seed, resume.workers) != (base_seed, workers):
        raise ValueError("a resumed campaign keeps its record's seed and workers")
    start_at = {
        w: (len(resume.seeds[str(w)]), resume.worker_steps[str(w)]) if resume else (0, 0)
        for w in range(workers)
    }
    deadline = None if minutes is None else time.time() + minutes * 60
    per_worker = worker_share(steps, workers)
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
            shrink_s,
            *start_at[w],
        )
        for w in range(workers)
    ]
    start = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    messages, stop = context.Queue(), context.Event()
    processes = [
        context.Process(target=_worker_main, args=(job, messages, stop), daemon=True)
        for job in jobs
    ]
    latest = {w: WorkerResult(w) for w in range(workers)}
    done: set[int] = set()

    def collect(until: float | None) -> None:
        """Take the workers' messages until all are done (or `until`, time.time())."""
        while len(done) < workers and (until is None or time.time() < until):
            try:
                kind, worker, payload = messages.get(timeout=0.5)
            except queue.Empty:
                gone = [w for w, p in enumerate(processes) if w not in done and not p.is_alive()]
                if gone and messages.empty():
                    raise WorkerCrashed(
                        f"worker {gone[0]} ended without a result "
                        f"(exit code {processes[gone[0]].exitcode})"
                    ) from None
                continue
            if kind == "crashed":
                raise WorkerCrashed(f"worker {worker} failed:\n{payload}")
            latest[worker] = payload
            if kind == "done":
                done.add(worker)
            progress(list(latest.values()), time.perf_counter() - start)

    try:
        for p in processes:
            p.start()
        try:
            collect(None)
        except KeyboardInterrupt:
            stop.set()
            try:
                collect(time.time() + STOP_GRACE_S)
            except KeyboardInterrupt:  # a second Ctrl-C: no more waiting
                pass
            return list(latest.values()), time.perf_counter() - start, INTERRUPTED
    finally:
        stop.set()
        for p in processes:
            p.join(timeout=5)
            if p.is_alive():  # a worker's SIGTERM only asks it to stop: kill what does not
                p.kill()
                p.join()
    reasons = {r.stopped for r in latest.values()}
    return (
        list(latest.values()),
        time.perf_counter() - start,
        (
            INTERRUPTED
            if INTERRUPTED in reasons
            else TIME_UP
            if TIME_UP in reasons
            else STEPS_REACHED
        ),
    )
