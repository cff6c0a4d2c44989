"""The figures `ape run bench` measures (scripts/_bench.py is its command line): gas per
transaction, the differential fuzz's throughput and the committed campaign and mutation records,
the crash replay's times (chain and model) and its scale at 1k-100k vaults, a live liquidator's
reaction, idle devnets' cost, the replay on Anvil against Hardhat, and sweep throughput; and the
writing of bench/results.json and bench/results.md (`write_results`, merged with the keys other
benchmarks wrote). Each function measures one group and returns its figures."""

from __future__ import annotations

import fcntl
import gc
import hashlib
import importlib.metadata
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from offchain.backends import (
    ANVIL_ACCOUNTS,
    ChainBackend,
    load_artifacts,
    project_code,
    reader_code,
)
from offchain.bench.step_costs import Costs, check_parts, step_costs
from offchain.model.fixed_point import rpow_up
from offchain.testing import storage
from offchain.testing.campaign import DIGEST_PACKAGES, run_campaign
from offchain.testing.fuzz import (
    CAMPAIGN_RECORD,
    PROFILES,
    FuzzTarget,
    deploy_target,
    revm_target,
    run_machine,
)
from offchain.testing.gas_report import DSS_ANCHORS
from offchain.testing.harness import TEST_FACTORIES, Roles
from offchain.testing.mutation import MUTANTS_RECORD
from offchain.testing.stats import Totals

if TYPE_CHECKING:
    from offchain.live.devnet import DevnetProcess

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results.json"
REPORT = ROOT / "bench" / "results.md"
# the crash-replay figures are medians: a model run takes half a second, and one burst of load on
# a shared machine can double a single sample (the chain run, ~25 s, averages more of it out)
CHAIN_RUNS = 3
MODEL_RUNS = 5
# the sweep figures: runs per sweep and rounds of the three executors in turn
SWEEP_RUNS = 40
SWEEP_ROUNDS = 3
# examples of the `ci` profile's full machine timed on each EVM and check (the same examples on
# all), and rounds of revm's three runs (storage, views, unchecked) in turn
FUZZ_EXAMPLES = 12
FUZZ_ROUNDS = 5
# the campaign profile's rate: a campaign of this many checked steps on two workers from a fixed
# seed (`make fuzz`'s batches of 20 examples of 150 steps: its stories' owners and long examples
# included), no database, no replay
CAMPAIGN_BENCH_STEPS = 6_000
CAMPAIGN_BENCH_WORKERS = 2
CAMPAIGN_BENCH_SEED = 7_500


def fuzz_figures(
    chain: ChainBackend, roles: list[str]
) -> tuple[dict[str, float], int, dict[str, Any]]:
    """Checked steps per second of the `ci` profile's full machine on one core, on the same
    (derandomized) examples: on revm in process with the storage comparison (the default, issue
    49), with the view-based check (the path before it, still Anvil's and Hardhat's) and with
    no check but the lockstep's (the floor: Hypothesis' draws, the rules' own logic, the model,
    the EVM and the lockstep, what every check is added to), in FUZZ_ROUNDS rounds in turn
    (medians; each ratio is the median of each round's), and on Anvil once. Every revm run of
    every round must take the same steps with the same outcomes (else the rates are not of the
    same work, and the bench stops). Before the timing, revm's first target is built and
    the storage layouts are read (a campaign's worker pays that once per process, ~3 s)."""
    from ape import project

    account_roles = Roles(*roles[:6])
    steps = 0
    # what each revm run did, its steps and their outcomes: one, or the rates are not of the
    # same work
    taken: set[tuple[int, frozenset]] = set()
    try:  # the step-cost parts are where they were: said before the timed rounds
        check_parts()
    except KeyError as exc:
        raise click.ClickException(f"step costs: {exc.args[0]}") from None
    artifacts = (load_artifacts(project, TEST_FACTORIES), reader_code(project))
    storage.expected(revm_target(artifacts).deployed[1])  # the layouts, read once

    def run(
        target: FuzzTarget, storage_check: bool | None, checked: bool = True, same: bool = True
    ) -> tuple[Totals, float]:
        """One run's counts and seconds; `same`: one of the revm runs that must do the same
        work."""
        nonlocal steps
        gc.collect()  # the runs before leave garbage: none is this run's to collect
        start = time.perf_counter()
        settings = PROFILES["ci"].settings(examples=FUZZ_EXAMPLES)
        totals = run_machine(target, "full", settings, storage_check=storage_check, checked=checked)
        seconds = time.perf_counter() - start
        steps += totals.steps
        if same:
            taken.add((totals.steps, frozenset(totals.outcomes.items())))
        return totals, seconds

    def rate(*args: Any, **kwargs: Any) -> float:
        """Steps per second of one run (`run`'s arguments)."""
        totals, seconds = run(*args, **kwargs)
        return totals.steps / seconds

    samples: dict[str, list[float]] = {"revm_storage": [], "revm_views": [], "revm_unchecked": []}
    for _ in range(FUZZ_ROUNDS):
        samples["revm_storage"].append(rate(revm_target(artifacts), None))
        samples["revm_views"].append(rate(revm_target(artifacts), False))
        samples["revm_unchecked"].append(rate(revm_target(artifacts), None, checked=False))
    # where a checked step's time goes: the storage path once more, its parts timed
    # (offchain/bench/step_costs.py)
    with step_costs() as costs:
        profiled_totals, profiled_s = run(revm_target(artifacts), None)
    profiled = (profiled_totals.steps, profiled_s)
    if costs.missing():
        raise click.ClickException(f"parts never timed: {', '.join(costs.missing())}")
    if len(taken) != 1:
        counts = sorted(n for n, _ in taken)
        raise click.ClickException(f"the revm runs did different work (steps {counts})")
    campaign = campaign_rate(artifacts)
    steps += int(campaign["fuzz.campaign_profile_steps"])
    snapshot = chain.snapshot()
    anvil = rate(deploy_target(chain, account_roles), None, same=False)
    chain.revert_to(snapshot)
    storage_rate = statistics.median(samples["revm_storage"])
    views_rate = statistics.median(samples["revm_views"])
    unchecked_rate = statistics.median(samples["revm_unchecked"])

    def ratio(a: str, b: str) -> float:
        return round(statistics.median(x / y for x, y in zip(samples[a], samples[b])), 2)

    figures = {
        "fuzz.revm_steps_per_s": round(storage_rate, 1),
        "fuzz.revm_views_steps_per_s": round(views_rate, 1),
        "fuzz.storage_over_views": ratio("revm_storage", "revm_views"),
        "fuzz.revm_unchecked_steps_per_s": round(unchecked_rate, 1),
        "fuzz.unchecked_over_storage": ratio("revm_unchecked", "revm_storage"),
        "fuzz.anvil_steps_per_s": round(anvil, 1),
        "fuzz.revm_over_anvil": round(storage_rate / anvil, 1),
        **campaign,
        **step_cost_figures(costs, *profiled),
        "fuzz.computed_views_compared_share": computed_views_share(profiled_totals.checks),
    }
    meta = {
        "fuzz_note": f"fuzz.*: the ci profile's full machine, {FUZZ_EXAMPLES} derandomized "
        "examples, one core; revm_steps_per_s: revm with the storage comparison after every "
        "step (the default), revm_views_steps_per_s: revm with the view-based check (Anvil's "
        "path), revm_unchecked_steps_per_s: the same steps with no check but the lockstep's "
        "(outcomes and events of each transaction) and the rules' few inline asserts: the "
        "floor every check is added to; "
        f"{FUZZ_ROUNDS} rounds in turn, medians; storage_over_views, unchecked_over_storage: "
        "the median of each round's ratio; anvil_steps_per_s: one run on the bench's Anvil (the "
        "view-based check); every rate in fuzz_samples_steps_per_s",
        "fuzz_samples_steps_per_s": {k: [round(x, 1) for x in v] for k, v in samples.items()},
        "fuzz_campaign_note": "fuzz.campaign_profile_steps_per_s: the campaign profile (make "
        f"fuzz's batches, examples of 150 steps) on {CAMPAIGN_BENCH_WORKERS} workers, "
        f"{CAMPAIGN_BENCH_STEPS:,} checked steps from seed {CAMPAIGN_BENCH_SEED}: the steps over "
        "the slower worker's time in its batches (the worker processes' start "
        "aside); fuzz.campaign_profile_steps: the steps it checked",
        "fuzz_step_ms_note": "fuzz.step_ms_*: one more run of the storage path, its parts timed "
        "(offchain/bench/step_costs.py), ms per checked step of their own time: lockstep (the "
        "transaction on revm and in the model and the lockstep's comparison), auditor, "
        "specification, checker (the after-step check), teardown (each example's end: its "
        "complete comparison, the example's counts, the EVM's snapshot restored), gas_probe (the "
        "gas guard's keeper batch on the EVM alone at its limit, then undone), rest "
        "(everything else: Hypothesis' draws, the rules' own logic, each example's set-up, the "
        "timers' own cost); they add up "
        "to step_ms_total. fuzz.checker_ms_*: the checker's parts; fuzz.profiled_steps_per_s: "
        "that run's rate (the timers' cost against revm_steps_per_s); "
        "fuzz.computed_views_compared_share: in that run, of the computed views at the "
        "after-step comparisons, the share compared (the rest held: nothing they read was "
        "touched); fuzz_step_paths_ms: every "
        "path's own time (outer > inner)",
        "fuzz_step_paths_ms": {
            " > ".join(path): round(seconds / profiled[0] * 1000, 4)
            for path, seconds in sorted(costs.seconds.items(), key=lambda kv: -kv[1])
        },
    }
    return figures, steps, meta


def campaign_rate(artifacts: Any) -> dict[str, float]:
    """The campaign profile's checked steps a second on CAMPAIGN_BENCH_WORKERS workers (see
    CAMPAIGN_BENCH_STEPS): a campaign that fails, or leaves a step unchecked, stops the bench."""
    results, _, _ = run_campaign(
        artifacts,
        CAMPAIGN_BENCH_STEPS,
        CAMPAIGN_BENCH_WORKERS,
        CAMPAIGN_BENCH_SEED,
        None,
        database=None,
        replay=False,
    )
    failures = [f.error for r in results for f in r.failures]
    if failures:
        raise click.ClickException(f"the campaign profile's run failed: {failures[0]}")
    steps = sum(r.steps for r in results)
    checked = sum(r.checks.get("invariant checks", 0) for r in results)
    if checked < steps:
        raise click.ClickException(f"the campaign profile's run checked {checked} of {steps} steps")
    busy = max(r.seconds for r in results)
    return {
        "fuzz.campaign_profile_steps_per_s": round(steps / busy, 1),
        "fuzz.campaign_profile_steps": steps,
    }


# the groups of a step's time (offchain/bench/step_costs.py's outermost labels), and the
# checker's parts
STEP_GROUPS = ("lockstep", "auditor", "specification", "checker", "teardown", "gas_probe")
CHECKER_PARTS = (
    "storage_encode", "storage_compare", "evm_views", "model_views", "views_compare",
    "touched", "rekey", "state_keys", "invariants", "checker",
)  # fmt: skip


def computed_views_share(checks: Mapping[str, int]) -> float:
    """Of the computed views at the storage path's after-step comparisons, the share compared
    (the rest held: nothing they read was touched, offchain/testing/checking.py VIEW_READS)."""
    compared, skipped = checks["computed views compared"], checks["computed views skipped"]
    if compared + skipped == 0:
        raise click.ClickException("the storage path compared and skipped no computed view")
    return round(compared / (compared + skipped), 3)


def step_cost_figures(costs: Costs, steps: int, seconds: float) -> dict[str, float]:
    """The profiled run's (`steps` in `seconds`) ms per step: per group, the rest, the total;
    the checker's parts (its own time under `checker_ms_own`); its rate. The timed parts cannot
    take longer than the run."""
    if costs.wrapped_s() > seconds:
        raise click.ClickException(
            f"the timed parts took {costs.wrapped_s():.1f} s of a {seconds:.1f} s run: not its"
        )
    per_step = 1000 / steps
    groups = costs.by_group()
    outside = sorted(set(groups) - set(STEP_GROUPS))
    if outside:  # timed outside every group: the rest would hide it
        raise click.ClickException(f"parts timed outside a group: {', '.join(outside)}")
    figures = {f"fuzz.step_ms_{g}": round(groups.get(g, 0.0) * per_step, 3) for g in STEP_GROUPS}
    figures["fuzz.step_ms_rest"] = round((seconds - costs.wrapped_s()) * per_step, 3)
    figures["fuzz.step_ms_total"] = round(seconds * per_step, 3)
    checker = costs.within("checker")
    for part in CHECKER_PARTS:
        name = "own" if part == "checker" else part
        figures[f"fuzz.checker_ms_{name}"] = round(checker.get(part, 0.0) * per_step, 3)
    figures["fuzz.profiled_steps_per_s"] = round(steps / seconds, 1)
    return figures


def simulation_figures() -> tuple[dict[str, float], dict[str, list[float]]]:
    """Black Thursday with 1,000 vaults: on a private Anvil end to end (deployment, population,
    180 bars, reconciliation against the model run, which is timed on its own too) and the
    model alone (as a parameter sweep runs it: no full-state reads, which exist to be
    reconciled)."""
    from offchain.sim.run.driver import simulate
    from offchain.sim.run.replay import replay
    from offchain.sim.scenario.load import load_scenario

    scenario = load_scenario("black-thursday-2020", vaults=1000)
    code = project_code()
    chain_samples, diffs = [], 0
    for _ in range(CHAIN_RUNS):
        rpow_up.cache_clear()
        start = time.perf_counter()
        done = replay(scenario, code=code)
        chain_samples.append(time.perf_counter() - start)
        chain_run, reconciliation = done.checked
        transactions, diffs = chain_run.facts["transactions"], max(diffs, reconciliation.diff_count)
        del done
        gc.collect()
    chain_s = statistics.median(chain_samples)
    # the model alone, as a run of its own: nothing memoized by the runs above, and their results
    # (half a million state values) no longer alive for the garbage collector to walk
    samples = []
    for _ in range(MODEL_RUNS):
        gc.collect()
        rpow_up.cache_clear()
        start = time.perf_counter()
        simulate(scenario, "model", full_check_every=None)
        samples.append(time.perf_counter() - start)
    model_s = statistics.median(samples)
    return {
        "sim.black_thursday_1000_chain_s": round(chain_s, 1),
        "sim.black_thursday_1000_model_s": round(model_s, 2),
        "sim.black_thursday_1000_chain_over_model": round(chain_s / model_s, 1),
        "sim.black_thursday_1000_transactions": transactions,
        "sim.reconciliation_diffs": diffs,
    }, {"chain": [round(x, 1) for x in chain_samples], "model": [round(x, 3) for x in samples]}


SCALE_VAULTS = (1_000, 10_000, 100_000)


SCALE_SCENARIO = "may-2021-two-types"
# the open market against the closed one (docs/market.md): one type, a real day's venue
OPEN_SCENARIO = "black-thursday-2020"


# the built-ins whose drained headline (sim/run/drain.py) `bench --drain-only` measures alone
DRAIN_SCENARIOS = ("black-thursday-2020", "may-2021", "may-2021-two-types")


# the runs timed_run made, by their arguments: the ceiling curve (offchain/bench/ceiling.py) and
# the drained scale figures share their 1k, 10k and 100k runs, and a bench run that stopped
# (hours of 100k runs) goes on where it was. Kept under .cache/ (not committed), one file per
# digest of what a run reads (the code, data/ and config/): other code or data, other runs.
RUNS_CACHE = ROOT / ".cache" / "bench-runs"
_RUNS: dict[str, dict[str, Any]] = {}
_RUNS_LOCK = threading.Lock()
_runs_file: Path | None = None


def runs_digest(root: Path = ROOT) -> str:
    """What a model run reads: Python's and the packages' versions (as code_digest), the
    contracts, every file under offchain/ but this benchmark's own (offchain/bench: what it
    does with a run's line, not the run), data/ and config/."""
    h = hashlib.sha256(f"python {sys.version}\n".encode())
    for package in DIGEST_PACKAGES:
        try:
            h.update(f"{package} {importlib.metadata.version(package)}\n".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{package} absent\n".encode())
    bench = root / "offchain" / "bench"
    for folder in ("contracts", "offchain", "data", "config"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and bench not in path.parents:
                h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _cache() -> Path:
    """This code's runs file, its runs read into _RUNS (once per process)."""
    global _runs_file
    if _runs_file is None:
        _runs_file = RUNS_CACHE / f"{runs_digest()}.jsonl"
        if _runs_file.exists():
            for line in _runs_file.read_text().splitlines():
                try:
                    entry = json.loads(line)
                    _RUNS[entry["key"]] = entry["run"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # a line cut by a stopped run: made again
    return _runs_file


def timed_run(
    name: str, vaults: int, depth: str, *options: str, phase: int | None = None, kept: bool = False
) -> dict[str, Any]:
    """offchain/sim/run/timing.py's line for one model run, in a process of its own (`options`:
    timing.py's, "undrained", "--set" pairs; at the oracle's `phase` [s], else the
    scenario's). `kept`: made once for the same arguments and code (RUNS_CACHE), a copy each
    call; else always made (a figure of time measured again, as market_figures' pairs)."""
    if not kept:
        return _timed_run(name, vaults, depth, *options, phase=phase)
    key = json.dumps([name, vaults, depth, list(options), phase])
    with _RUNS_LOCK:
        path = _cache()
        known = _RUNS.get(key)
    if known is None:
        known = _timed_run(name, vaults, depth, *options, phase=phase)
        with _RUNS_LOCK:
            _RUNS[key] = known
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as out:
                fcntl.flock(out, fcntl.LOCK_EX)
                out.write(json.dumps({"key": key, "run": known}) + "\n")
    return json.loads(json.dumps(known))


def prefetch(jobs: list[tuple[Any, ...]], workers: int | None = None) -> None:
    """timed_run's `jobs` ((name, vaults, depth, *options, phase)) on `workers` threads at once
    (default: the machine's cores), each run in a process of its own, into its cache: what a
    caller then asks in turn (`kept`) is there. The first failure is raised once all stopped."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        futures = [pool.submit(timed_run, *job[:-1], phase=job[-1], kept=True) for job in jobs]
    for future in futures:
        future.result()


def _timed_run(
    name: str, vaults: int, depth: str, *options: str, phase: int | None = None
) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "offchain.sim.run.timing", name, str(vaults), depth, *options]
        + ([] if phase is None else ["--phase", str(phase)]),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def phase_spread(
    name: str,
    vaults: int,
    depth: str,
    first: dict[str, Any] | None = None,
    *options: str,
    kept: bool = False,
) -> dict[str, Any] | None:
    """The insolvency per unit of starting debt over the oracle's phases (docs/simulation.md,
    the oracle's phase): the scenario at every phase of its period on its bars, each in a
    process of its own (`first`: the run at the scenario's own phase, already made; `options`:
    timing.py's, each run's), their median, the worst and its phase (the earliest of a tie),
    every phase's; None for a synthetic path or a period of one phase (as `ape run simulate
    --phases auto` runs one: the figure is that run's). `kept`: timed_run's."""
    first = first if first is not None else timed_run(name, vaults, depth, *options, kept=kept)
    phases = [int(p) for p in first["phases"]]
    if first["synthetic"] or len(phases) < 2:
        return None
    per = {int(first["oracle_phase"]): float(first["insolvency_per_debt"])}
    for phase in phases:
        if phase not in per:
            run = timed_run(name, vaults, depth, *options, phase=phase, kept=kept)
            per[phase] = float(run["insolvency_per_debt"])
    worst = max(phases, key=lambda p: (per[p], -p))
    return {
        "median": round(statistics.median(per[p] for p in phases), 6),
        "worst": per[worst],
        "worst_phase": worst,
        "per_phase": {str(p): per[p] for p in phases},
    }


def phase_keys(key: str, spread: dict[str, Any] | None) -> dict[str, float]:
    """The figures of one run's `phase_spread`: `<key>_insolvency_per_debt_median` and
    `_worst` (none for a run of one phase)."""
    if spread is None:
        return {}
    return {
        f"{key}_insolvency_per_debt_median": spread["median"],
        f"{key}_insolvency_per_debt_worst": spread["worst"],
    }


# every figure scale_keys and phase_keys can write under one run's key
SCALE_SUFFIXES = (
    "_unsafe_left_share", "_insolvency_per_debt", "_open_auctions", "_mark_per_debt",
    "_drained_bars", "_open_at_horizon", "_drain_over_run", "_time_to_clear_h", "_s", "_cpu_s",
    "_drain_s", "_peak_mib", "_insolvency_per_debt_median", "_insolvency_per_debt_worst",
)  # fmt: skip


def drained_keys(names: tuple[str, ...] = DRAIN_SCENARIOS) -> set[str]:
    """The figures `bench --drain-only` (and --ceiling-only) measure again: every key of
    `names` at SCALE_VAULTS, the depth fixed (write_results' `stale`)."""
    return {
        scale_key(name, vaults, "fixed") + suffix
        for name in names
        for vaults in SCALE_VAULTS
        for suffix in SCALE_SUFFIXES
    }


def scale_key(name: str, vaults: int, depth: str) -> str:
    """The prefix of one run's scale figures: scale.<scenario>_<size>[_depth_scaled]."""
    scaled = "_depth_scaled" if depth == "scaled" else ""
    return f"scale.{name.replace('-', '_')}_{vaults // 1000}k{scaled}"


def scale_runs(
    names: list[str] | tuple[str, ...],
    sizes: tuple[int, ...] = SCALE_VAULTS,
    scaled: bool = True,
) -> list[tuple[str, int, str, str]]:
    """The scale study's runs: (scenario, vaults, depth, figure key) of each built-in at each of
    `sizes` with the market's depth fixed, and at the largest of SCALE_VAULTS also scaled (with
    `scaled`)."""
    out = []
    for name in names:
        for vaults in sizes:
            depths = ("fixed", "scaled") if vaults == SCALE_VAULTS[-1] and scaled else ("fixed",)
            for depth in depths:
                out.append((name, vaults, depth, scale_key(name, vaults, depth)))
    return out


def scale_keys(
    key: str, name: str, vaults: int, depth: str, run: dict[str, Any]
) -> dict[str, float]:
    """One run's scale figures (`scale_figures`) under `key`, from its timing.py line `run`."""
    label = f"{vaults // 1000}k"
    figures = {
        f"{key}_unsafe_left_share": run["unsafe_left_share"],
        f"{key}_insolvency_per_debt": run["insolvency_per_debt"],
        f"{key}_open_auctions": run["open_auctions"],
        f"{key}_mark_per_debt": run["mark_per_debt"],
        f"{key}_drained_bars": run["drained_bars"],
        f"{key}_open_at_horizon": run["open_at_horizon"],
        f"{key}_drain_over_run": run["drain_over_run"],
    }
    if run["time_to_clear_s"] is not None:
        figures[f"{key}_time_to_clear_h"] = round(run["time_to_clear_s"] / 3600, 2)
    if vaults == SCALE_VAULTS[-1]:
        figures[f"{key}_s"] = run["s"]
        figures[f"{key}_cpu_s"] = run["cpu_s"]
        figures[f"{key}_drain_s"] = run["drain_s"]
        figures[f"{key}_peak_mib"] = run["peak_mib"]
    if name == SCALE_SCENARIO and depth == "fixed":
        figures[f"sim.model_{label}_vaults_s"] = run["s"]
        figures[f"sim.model_{label}_vaults_peak_mib"] = run["peak_mib"]
        figures[f"sim.model_{label}_vaults_unsafe_left"] = run["unsafe_vaults_left"]
    return figures


PHASES_NOTE = (
    "*_insolvency_per_debt_median, _worst: the same run at every phase of the oracle's period "
    "on its bars (six for 10-minute bars and an hour), each in a process of its own: the median "
    "over the phases (the lead figure, as a replay's headline) and the worst; "
    "*_insolvency_per_debt alone is the scenario's own phase (3,000 s), one of them. A "
    "synthetic path (synthetic-crash) runs one phase, as `ape run simulate --phases auto` does: "
    "no median or worst key. Every phase's figure in phase_spreads"
)


def scale_figures(
    names: tuple[str, ...] | None = None,
    sizes: tuple[int, ...] = SCALE_VAULTS,
    scaled: bool = True,
    market: bool = True,
    kept: bool = False,
    one_phase: Collection[tuple[str, int]] = (),
) -> tuple[dict[str, float], dict[str, Any]]:
    """Each built-in in the model at 1k, 10k and 100k vaults (--vaults; over two types split as
    the scenario's 1,000 and 400), each run in a process of its own (offchain/sim/run/timing.py),
    with the market's depth fixed (the default) and, at 100k, scaled with the population: the
    share of vaults left unsafe and never liquidated, the insolvency per unit of starting debt
    (the scenario's own phase's, and its median and worst over the oracle's phases: PHASES_NOTE)
    and the auctions still open at the end (scale.<scenario>_<size>[_depth_scaled]_*), the 100k
    runs' time (one core) and peak memory; the two-type crash's time and memory at each size
    (sim.model_*_vaults_*, as before); the limits each 100k run names, in the meta. The
    insolvency is the headline's, drained (sim/run/drain.py); beside it each run's end-of-run
    mark (the headline without the drain), the drain's bars, time to clear and auctions open at
    its horizon, and its seconds over the run's (the same process). `names`, `sizes`,
    `scaled` and `market` narrow it (`bench --drain-only`: DRAIN_SCENARIOS, depth fixed, no
    market pairs); `kept`: timed_run's (the ceiling curve's runs, `bench --ceiling-only`);
    `one_phase`: the (scenario, vaults) run at the scenario's own phase alone (the ceiling
    curve's tail: no median or worst key)."""
    from offchain.sim.scenario.load import builtin_scenarios

    figures: dict[str, float] = {}
    limits: dict[str, list[str]] = {}
    spreads: dict[str, Any] = {}
    for name, vaults, depth, key in scale_runs(names or builtin_scenarios(), sizes, scaled):
        run = timed_run(name, vaults, depth, kept=kept)
        spread = None
        if (name, vaults) not in one_phase:
            spread = phase_spread(name, vaults, depth, run, kept=kept)
        spreads[key] = spread
        figures.update(scale_keys(key, name, vaults, depth, run))
        figures.update(phase_keys(key, spread))
        if vaults == SCALE_VAULTS[-1]:
            limits[key] = run["binding_limits"]
    if market:
        market_keys, market_spreads = market_figures()
        figures.update(market_keys)
        spreads.update(market_spreads)
    return figures, {**_meta(), "scale_limits": limits, "phase_spreads": spreads}


def _meta() -> dict[str, str]:
    return {
        "market_note": MARKET_NOTE,
        "scale_note": "scale.*: each built-in in the model (offchain/sim/run/timing.py), its caps, "
        "ceilings and keepers' capital sized to --vaults (sim/scenario/ceilings.py); "
        "unsafe_left_share = vaults unsafe and never liquidated at the end / vaults; "
        "insolvency_per_debt = the headline insolvency (drained: sim/run/drain.py) / the "
        "starting debt; mark_per_debt = the end-of-run mark (the headline without the drain) / "
        "the starting debt; open_auctions = auctions still running at the end (a vault "
        "liquidated, not cleared); drained_bars, time_to_clear_h (absent: not cleared), "
        "open_at_horizon: the headline's drain; drain_over_run = the drain's seconds / the "
        "run's, the same process; *_depth_scaled: "
        "market.depth_with_vaults = scaled; _s, _cpu_s and _peak_mib: the 100k run's seconds "
        "(one core), its CPU seconds and peak resident memory; _drain_s: the drain's seconds",
        "phases_note": PHASES_NOTE,
    }


def phase_figures() -> tuple[dict[str, float], dict[str, Any]]:
    """The scale study's and the open market's insolvency per unit of debt over the oracle's
    phases alone (`ape run bench --phases-only`): every phase of each run of `scale_runs` and
    of market_figures' (undrained, as those are), each in a process of its own; no time is
    measured (the keys without _median or _worst are left as the last full run wrote them)."""
    from offchain.sim.scenario.load import builtin_scenarios

    figures: dict[str, float] = {}
    spreads: dict[str, Any] = {}
    for name, vaults, depth, key in scale_runs(builtin_scenarios()):
        spreads[key] = spread = phase_spread(name, vaults, depth)
        figures.update(phase_keys(key, spread))
    for vaults in (SCALE_VAULTS[0], SCALE_VAULTS[-1]):
        label = f"{vaults // 1000}k"
        for market, depth in (("open", "fixed"), ("closed", "closed")):
            spread = phase_spread(OPEN_SCENARIO, vaults, depth, None, "undrained")
            spreads[f"market.{market}_{label}"] = spread
            figures.update(phase_keys(f"market.{market}_{label}", spread))
    return figures, {"phases_note": PHASES_NOTE, "phase_spreads": spreads}


# runs of each market, in turn, for the open market's cost (market_figures)
MARKET_PAIRS = 3

# what the market pairs' keys mean (bench/results.json's _meta.market_note), written with them
MARKET_NOTE = (
    "market.*: black-thursday-2020 in the model with the open market "
    "(docs/market.md) and closed (market.outside = closed), the same run of make bench, "
    f"{MARKET_PAIRS} pairs in turn (open, closed, open, ...): the median of each one's CPU "
    "seconds (_cpu_s) and the median of the pairs' ratios (open_over_closed_*, CPU: a "
    "shared machine moves wall seconds far more; _per_auction_view: of CPU seconds per "
    "running auction listed in a round, _auction_views: the takers' and the backstop "
    "keeper's one list a type and round, _auction_reads: of them those whose status was "
    "read, the auctions a round's takers can act on, offchain/sim/strategies/observe.py "
    "choose_running), the transactions each ran (to the data's end), the last "
    "pair's wall seconds (_s), peak resident memory, insolvency per unit of starting debt "
    "(its median and worst over the oracle's phases: phases_note); undrained (no headline "
    "drain: the market's cost alone, the end-of-run mark). At 100k, in the same turns: "
    "open_unblocked (the open market with the day's block space taken away: the venue, the "
    "flash route and the lineup alone) and closed_blocked (the closed market keeping the "
    "day's block space, which closing the market drops): their CPU seconds (median), "
    "transactions, auction views and auctions open at the end (the last), and the median of "
    "the pairs' ratios open_unblocked_over_closed (the market without the block space) and "
    "open_over_closed_blocked (the market at the same block space). Every run splits its CPU "
    "seconds by part (offchain/sim/run/timing.py, split: setup, mining, auction_reads, plans, "
    "backstop_reads, sending, rest; the open and closed runs' _split_*_s, the median of "
    "each), and the pairs' median ratios open_over_closed_*_without_rounds (CPU seconds less "
    "the keepers' rounds, auction_reads + plans + backstop_reads, in both: what no speed-up "
    "of the rounds alone can pass) and open_over_closed_*_mining. open_over_closed_* and "
    "its _without_rounds have _low and _high: the least and the most of the pairs' ratios"
)


# the parts of a run's seconds (timing's "split") that a keeper round spends per running
# auction: the takers' and the backstop keeper's reads, the takers' plans
ROUND_PARTS = ("auction_reads", "plans", "backstop_reads")


def _without_rounds(run: dict[str, Any]) -> float:
    """A timed run's CPU seconds less its keepers' rounds (ROUND_PARTS)."""
    return run["cpu_s"] - sum(run["split_s"][part] for part in ROUND_PARTS)


def _ratio_keys(
    key: str, runs: list[tuple[dict[str, Any], dict[str, Any]]], field: str
) -> dict[str, float]:
    """`key`: the median of the pairs' ratios of `field` (open / closed), and `key`_low and
    _high, the least and the most of them (how far the machine's drift moved a pair)."""
    ratios = [o[field] / c[field] for o, c in runs]
    return {
        key: round(statistics.median(ratios), 3),
        f"{key}_low": round(min(ratios), 3),
        f"{key}_high": round(max(ratios), 3),
    }


def market_figures(pairs: int = MARKET_PAIRS) -> tuple[dict[str, float], dict[str, Any]]:
    """The open market's cost: Black Thursday at 1k and 100k vaults with the market open (its
    default) and closed (the lab before it), each run in a process of its own, `pairs` pairs in
    turn, so that a machine's drift falls on both; the ratio of CPU seconds pair by pair, its
    median; each market's insolvency per unit of debt, and its median and worst over the
    oracle's phases; the figures and every phase's (by key). Undrained (no headline drain): the
    market's cost, not the drain's (the scale study's drained runs are not reused)."""
    figures: dict[str, float] = {}
    spreads: dict[str, Any] = {}
    for vaults in (SCALE_VAULTS[0], SCALE_VAULTS[-1]):
        label = f"{vaults // 1000}k"
        runs, split = [], []
        for _ in range(pairs):
            runs.append(
                (
                    timed_run(OPEN_SCENARIO, vaults, "fixed", "undrained", "split"),
                    timed_run(OPEN_SCENARIO, vaults, "closed", "undrained", "split"),
                )
            )
            if vaults == SCALE_VAULTS[-1]:  # the block space's part (below), in the same turn
                split.append(
                    (
                        timed_run(
                            OPEN_SCENARIO, vaults, "fixed", "undrained", "unblocked", "split"
                        ),
                        timed_run(OPEN_SCENARIO, vaults, "closed", "undrained", "blocked", "split"),
                    )
                )
        opened, closed = runs[-1]
        figures[f"market.open_{label}_s"] = opened["s"]
        figures[f"market.closed_{label}_s"] = closed["s"]
        figures[f"market.open_{label}_cpu_s"] = statistics.median(o["cpu_s"] for o, _ in runs)
        figures[f"market.closed_{label}_cpu_s"] = statistics.median(c["cpu_s"] for _, c in runs)
        figures.update(_ratio_keys(f"market.open_over_closed_{label}", runs, "cpu_s"))
        # the work each run did (the same in every pair): transactions, running auctions listed
        # (one list a type and round each: what grows with the auctions left open) and those
        # whose status was read (observe.choose_running), and the ratio of CPU per auction
        # listed, pair by pair
        for market, run in (("open", opened), ("closed", closed)):
            figures[f"market.{market}_{label}_transactions"] = run["transactions"]
            figures[f"market.{market}_{label}_auction_views"] = run["auction_views"]
            figures[f"market.{market}_{label}_auction_reads"] = run["auction_reads"]
        if all(o["auction_views"] and c["auction_views"] for o, c in runs):
            figures[f"market.open_over_closed_{label}_per_auction_view"] = round(
                statistics.median(
                    o["cpu_s"] / o["auction_views"] / (c["cpu_s"] / c["auction_views"])
                    for o, c in runs
                ),
                3,
            )
        # what each run's CPU seconds are made of (timing's "split", the median of each part),
        # and the open market's cost pair by pair with the keepers' rounds (ROUND_PARTS) taken
        # out of both runs: what no speed-up of the rounds alone can pass (both markets' rounds
        # would fall), and the mining's alone (not written where a closed run's is 0)
        for market, column in (("open", 0), ("closed", 1)):
            for part in runs[-1][column]["split_s"]:
                figures[f"market.{market}_{label}_split_{part}_s"] = statistics.median(
                    pair[column]["split_s"][part] for pair in runs
                )
        if all(_without_rounds(c) > 0 for _, c in runs):
            without = [
                ({"less_rounds": _without_rounds(o)}, {"less_rounds": _without_rounds(c)})
                for o, c in runs
            ]
            key = f"market.open_over_closed_{label}_without_rounds"
            figures.update(_ratio_keys(key, without, "less_rounds"))
        if all(c["split_s"]["mining"] > 0 for _, c in runs):
            figures[f"market.open_over_closed_{label}_mining"] = round(
                statistics.median(o["split_s"]["mining"] / c["split_s"]["mining"] for o, c in runs),
                3,
            )
        # what the cost owes to the block space: the open market without it (the venue, the
        # flash route and the lineup alone) against the closed, and the open against the closed
        # with the same block space (closing the market drops it with the open market's keys)
        for (unblocked, blocked), (o, c) in zip(split, runs):
            unblocked["over_closed"] = unblocked["cpu_s"] / c["cpu_s"]
            blocked["open_over"] = o["cpu_s"] / blocked["cpu_s"]
        if split:
            for name, column in (("open_unblocked", 0), ("closed_blocked", 1)):
                made = [pair[column] for pair in split]
                figures[f"market.{name}_{label}_cpu_s"] = statistics.median(
                    m["cpu_s"] for m in made
                )
                figures[f"market.{name}_{label}_transactions"] = made[-1]["transactions"]
                figures[f"market.{name}_{label}_auction_views"] = made[-1]["auction_views"]
                figures[f"market.{name}_{label}_open_auctions"] = made[-1]["open_auctions"]
            figures[f"market.open_unblocked_over_closed_{label}"] = round(
                statistics.median(u["over_closed"] for u, _ in split), 3
            )
            figures[f"market.open_over_closed_blocked_{label}"] = round(
                statistics.median(b["open_over"] for _, b in split), 3
            )
        figures[f"market.open_{label}_peak_mib"] = opened["peak_mib"]
        figures[f"market.closed_{label}_peak_mib"] = closed["peak_mib"]
        figures[f"market.open_{label}_insolvency_per_debt"] = opened["insolvency_per_debt"]
        figures[f"market.closed_{label}_insolvency_per_debt"] = closed["insolvency_per_debt"]
        for market, depth, run in (("open", "fixed", opened), ("closed", "closed", closed)):
            spread = phase_spread(OPEN_SCENARIO, vaults, depth, run, "undrained")
            spreads[f"market.{market}_{label}"] = spread
            figures.update(phase_keys(f"market.{market}_{label}", spread))
    return figures, spreads


IDLE_SECONDS = 60


def _proc_cost(pid: int) -> tuple[float, int]:
    """(CPU seconds, bytes written) of a process so far (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    written = 0
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes"):
            written = int(line.split()[1])
    return cpu, written


@contextmanager
def _deployed_devnet(node_kind: str = "anvil") -> Iterator[tuple[Any, Any, dict, str]]:
    """A devnet (`make devnet`'s node, or with "hardhat" `make devnet NODE=hardhat`'s, its state
    in a temporary folder, the deployment record beside it) with Backstop deployed: (node,
    record, artifacts, reader code)."""
    import tempfile

    from offchain.live.deploy import ensure_deployment
    from offchain.live.devnet import DevnetNode
    from offchain.live.hardhat_devnet import HardhatDevnetNode
    from offchain.live.signers import dev_signer
    from offchain.system.config import DEFAULT_CONFIG, load_config

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    artifacts, code = project_code()
    with tempfile.TemporaryDirectory() as tmp:
        node = (
            HardhatDevnetNode(port, Path(tmp) / "journal.jsonl")
            if node_kind == "hardhat"
            else DevnetNode(port, Path(tmp) / "state.json")
        )
        with node:
            record, _ = ensure_deployment(
                node.url,
                artifacts,
                code,
                load_config(),
                DEFAULT_CONFIG,
                dev_signer(0),
                dev_signer(1),
                Path(tmp),
            )
            yield node, record, artifacts, code


def _idle_cost(node: DevnetProcess) -> tuple[float, float, int]:
    """A devnet's node idle over IDLE_SECONDS, once its last change is written: the CPU of the
    node and of this process (which runs the state watcher, as the devnet command does) in % of
    one core, the MB both wrote per minute, and the node's state writes."""
    deadline = time.monotonic() + 60
    while not node.written() and time.monotonic() < deadline:
        time.sleep(0.5)  # the last change's write
    assert node.process is not None
    pids = (node.process.pid, os.getpid())
    before, writes = [_proc_cost(pid) for pid in pids], node.writes
    start = time.perf_counter()
    time.sleep(IDLE_SECONDS)
    elapsed = time.perf_counter() - start
    after, writes = [_proc_cost(pid) for pid in pids], node.writes - writes
    cpu = sum(a[0] - b[0] for a, b in zip(after, before))
    written = sum(a[1] - b[1] for a, b in zip(after, before))
    return round(100 * cpu / elapsed, 2), round(written / elapsed * 60 / 1e6, 2), writes


def devnet_figures() -> dict[str, float]:
    """An idle devnet (`make devnet` with Backstop deployed, nothing sent) over IDLE_SECONDS: the
    CPU of its Anvil and of this process (which runs the state watcher, as the devnet command
    does) in % of one core, and the bytes both wrote per minute."""
    with _deployed_devnet() as (node, _, _, _):
        cpu_percent, written_mb_per_min, writes = _idle_cost(node)
        state_mb = node.state_file.stat().st_size / 1e6
    return {
        "devnet.idle_cpu_percent": cpu_percent,
        "devnet.idle_written_mb_per_min": written_mb_per_min,
        "devnet.idle_state_writes": writes,
        "devnet.state_mb": round(state_mb, 1),
    }


HARDHAT_MARKET_VAULTS = 200


def hardhat_devnet_figures() -> dict[str, float]:
    """`make devnet NODE=hardhat` (offchain/live/hardhat_devnet.py): idle over IDLE_SECONDS
    with Backstop deployed, as `devnet_figures` measures Anvil's (the Hardhat node's CPU and
    this process's, which runs the journal's watcher; bytes both wrote per minute); then a
    market session (`ape run market`, black-thursday-2020 with HARDHAT_MARKET_VAULTS vaults, no
    bots, as fast as it goes), a stop, and a start: the journal's size, and the blocks and
    transactions the start replayed and the seconds the replay took (in the node, before it
    listens)."""
    from offchain.live.record import record_path

    with _deployed_devnet("hardhat") as (node, record, _, _):
        cpu_percent, written_mb_per_min, writes = _idle_cost(node)
        journal = node.state_file
        market = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "ape"), "run", "market", "--scenario",
             "black-thursday-2020", "--vaults", str(HARDHAT_MARKET_VAULTS), "--speed",
             "1000000", "--rpc", node.url, "--deployment",
             str(record_path(record.chain_id, record.genesis_hash, journal.parent))],
            cwd=ROOT, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        if market.returncode != 0:
            raise click.ClickException(f"market on Hardhat: {market.stderr[-500:]}")
        node.stop()  # the journal brought up to the head
        journal_mb = journal.stat().st_size / 1e6
        node.start()  # and replayed
        replayed = node.replayed_blocks, node.replayed_transactions, node.replay_seconds
    return {
        "devnet.hardhat_idle_cpu_percent": cpu_percent,
        "devnet.hardhat_idle_written_mb_per_min": written_mb_per_min,
        "devnet.hardhat_idle_journal_writes": writes,
        "devnet.hardhat_journal_mb": round(journal_mb, 1),
        "devnet.hardhat_replay_blocks": replayed[0],
        "devnet.hardhat_replay_transactions": replayed[1],
        "devnet.hardhat_replay_s": round(replayed[2], 1),
    }


NODE_VAULTS = 200


def node_figures() -> dict[str, float]:
    """The same crash replay (Black Thursday, NODE_VAULTS vaults) on a private Anvil and on a
    private Hardhat Network, each reconciled with the model, one after the other in this
    process; and the gas of every `gas.*` transaction on Hardhat against Anvil's (docs/nodes.md).
    One run each: the ratio is what to read, measured under the same load."""
    from offchain.backends.anvil import Anvil
    from offchain.backends.hardhat import Hardhat
    from offchain.sim.run.driver import simulate
    from offchain.sim.run.replay import replay
    from offchain.sim.scenario.load import load_scenario

    scenario = load_scenario("black-thursday-2020", vaults=NODE_VAULTS)
    code = project_code()
    model_run = simulate(scenario, "model")
    seconds, diffs = {}, 0
    for node in ("anvil", "hardhat"):
        start = time.perf_counter()
        done = replay(scenario, node=node, code=code, model=model_run)
        seconds[node] = time.perf_counter() - start
        diffs = max(diffs, done.checked[1].diff_count)
        del done
        gc.collect()
    from ape import project

    from offchain.testing.gas_scenarios import all_gas_figures

    genesis = 1_700_000_000
    gas_artifacts = load_artifacts(project, TEST_FACTORIES), code[1]
    gas = {}
    for name, kind in (("anvil", Anvil), ("hardhat", Hardhat)):
        with kind(genesis) as running:
            chain = ChainBackend(running.url, *gas_artifacts)
            gas[name] = all_gas_figures(chain, list(ANVIL_ACCOUNTS))
    differing = sorted(k for k in gas["anvil"] if gas["anvil"][k] != gas["hardhat"].get(k))
    if differing:
        click.echo(f"gas differs between Anvil and Hardhat: {', '.join(differing)}", err=True)
    return {
        f"nodes.replay_{NODE_VAULTS}_anvil_s": round(seconds["anvil"], 1),
        f"nodes.replay_{NODE_VAULTS}_hardhat_s": round(seconds["hardhat"], 1),
        "nodes.hardhat_over_anvil": round(seconds["hardhat"] / seconds["anvil"], 1),
        "nodes.replay_diffs": diffs,
        "nodes.gas_figures_compared": len(gas["anvil"]),
        "nodes.gas_figures_differing": len(differing),
    }


KEEPER_VAULTS = 500


def keeper_figures() -> dict[str, float]:
    """A liquidator bot (its own process, offchain/live) on a devnet mining a block a second
    (Anvil's default 30M block gas): 500 vaults made unsafe by one spotter poke; per vault, the
    blocks from that poke's block to its liquidation's; vaults liquidated per block that holds
    liquidations; and, from the same run, the floor that block gas puts under the reaction:
    the block gas limit, the gas per liquidated vault (the liquidation transactions' gas used /
    the vaults they liquidated) and ceil(500 x that / the limit), the fewest blocks that can
    hold the 500 liquidations (the last vault's reaction can be no fewer)."""
    import subprocess
    import sys
    from pathlib import Path

    from offchain.live.market import impersonating, open_vaults, set_price, vault_plans
    from offchain.live.record import CONTRACT_NAMES, record_path

    with _deployed_devnet() as (node, record, artifacts, code):
        tmp = str(Path(node.state_file).parent)  # type: ignore[arg-type]
        d = record.deployment()
        t = d.types["ETH-A"]
        chain = ChainBackend(node.url, artifacts, code)
        chain.names.update({a: CONTRACT_NAMES[f] for f, a in record.core.items()})
        for fields in record.types.values():
            chain.names.update({a: CONTRACT_NAMES[f] for f, a in fields.items()})
        impersonating(chain)
        plans = vault_plans(KEEPER_VAULTS, t, 1_600_000_000_000_000_000)
        open_vaults(chain, d, t, plans)
        bot = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "offchain.live.cli",
                "--role",
                "liquidator",
                "--account",
                "dev:2",
                "--rpc",
                node.url,
                "--deployment",
                str(record_path(record.chain_id, record.genesis_hash, Path(tmp))),
                "--checkpoint",
                str(Path(tmp) / "bot.json"),
                "--poll",
                "0.1",
                "--type",
                "ETH-A",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        try:
            time.sleep(8)  # the bot up and caught up
            chain.rpc("evm_setIntervalMining", [1])
            unsafe_block = set_price(chain, d, t, t.config.initial_price * 8 // 10)
            topic = next("0x" + k.hex() for k, v in chain._events.items() if v[0] == "Liquidated")
            deadline = time.monotonic() + 300
            logs: list = []
            while time.monotonic() < deadline:
                logs = chain.rpc(
                    "eth_getLogs",
                    [
                        {
                            "fromBlock": hex(unsafe_block),
                            "toBlock": "latest",
                            "address": d.liquidator,
                            "topics": [topic],
                        }
                    ],
                )
                if len(logs) >= KEEPER_VAULTS:
                    break
                time.sleep(0.5)
        finally:
            bot.terminate()
            bot.wait(timeout=30)
        if len(logs) < KEEPER_VAULTS:
            raise click.ClickException(f"keeper bench: {len(logs)} of {KEEPER_VAULTS} liquidated")
        block = chain.rpc("eth_getBlockByNumber", [hex(unsafe_block), False])
        gas_limit = int(block["gasLimit"], 16)
        receipts = [
            chain.rpc("eth_getTransactionReceipt", [h])
            for h in sorted({log["transactionHash"] for log in logs})
        ]
    reaction = sorted(int(log["blockNumber"], 16) - unsafe_block for log in logs)
    blocks = {int(log["blockNumber"], 16) for log in logs}
    per_vault = -(-sum(int(r["gasUsed"], 16) for r in receipts) // len(logs))
    return {
        "keeper.reaction_blocks_p50": reaction[len(reaction) // 2],
        "keeper.reaction_blocks_p99": reaction[(len(reaction) * 99) // 100 - 1],
        "keeper.liquidations_per_block": round(len(logs) / len(blocks), 1),
        "keeper.block_gas_limit": gas_limit,
        "keeper.gas_per_liquidation": per_vault,
        "keeper.gas_bound_blocks": -(-KEEPER_VAULTS * per_vault // gas_limit),
    }


def sweep_figures() -> tuple[dict[str, float], dict[str, Any]]:
    """One sweep of Black Thursday with 1,000 vaults (SWEEP_RUNS seeds, the model) on a process
    pool of 1 and of 2 workers and on a Dask LocalCluster of 2, each SWEEP_ROUNDS times in turn
    (the machine's load moves: every configuration sees the same moments); the median time of
    each. The time counts the runs and the writing of each (offchain/sweep/runner.execute), not
    the executor's start (timed apart) nor the report."""
    import tempfile

    from offchain.sweep.executors import DaskExecutor, PoolExecutor
    from offchain.sweep.runner import execute
    from offchain.sweep.spec import SweepSpec, plan
    from offchain.sweep.store import Store

    the_plan = plan(SweepSpec(("black-thursday-2020",), SWEEP_RUNS, (), 1000))
    configs = {
        "pool_1": lambda: PoolExecutor(1),
        "pool_2": lambda: PoolExecutor(2),
        "dask_2": lambda: DaskExecutor(None, 2),
    }
    run_s: dict[str, list[float]] = {name: [] for name in configs}
    start_s: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(SWEEP_ROUNDS):
        for name, make in configs.items():
            with tempfile.TemporaryDirectory() as tmp:
                store = Store(Path(tmp) / "sweep", the_plan)
                store.open()
                t0 = time.perf_counter()
                executor = make()
                t1 = time.perf_counter()
                try:
                    assert execute(the_plan, store, executor, set()) == SWEEP_RUNS
                finally:
                    executor.close()
                run_s[name].append(time.perf_counter() - t1)
                start_s[name].append(t1 - t0)
    # the two-type crash (1,400 vaults over ETH-A and WBTC-A), on the pool of 2, in the same rounds'
    # manner: what a sweep over correlation or impact on it costs per run
    two_plan = plan(SweepSpec((SCALE_SCENARIO,), SWEEP_RUNS, (), None))
    two_s: list[float] = []
    for _ in range(SWEEP_ROUNDS):
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "sweep", two_plan)
            store.open()
            executor = PoolExecutor(2)
            t1 = time.perf_counter()
            try:
                assert execute(two_plan, store, executor, set()) == SWEEP_RUNS
            finally:
                executor.close()
            two_s.append(time.perf_counter() - t1)
    median = {name: statistics.median(v) for name, v in run_s.items()}
    figures = {
        "sweep.two_types_runs_per_s": round(SWEEP_RUNS / statistics.median(two_s), 2),
        "sweep.runs_per_s": round(SWEEP_RUNS / median["pool_2"], 2),
        "sweep.runs_per_s_1_worker": round(SWEEP_RUNS / median["pool_1"], 2),
        "sweep.scaling_2_over_1": round(median["pool_1"] / median["pool_2"], 2),
        "sweep.dask_over_pool": round(median["dask_2"] / median["pool_2"], 2),
        "sweep.pool_start_s": round(statistics.median(start_s["pool_2"]), 2),
        "sweep.dask_start_s": round(statistics.median(start_s["dask_2"]), 2),
    }
    meta = {
        "sweep_note": f"Black Thursday, 1,000 vaults, the model: {SWEEP_RUNS} runs per sweep on "
        f"a process pool of 1 and 2 workers and a Dask LocalCluster of 2, {SWEEP_ROUNDS} rounds "
        "in turn, medians; runs_per_s = runs / time of the runs (each written as it finishes), "
        "start_s = the executor's start; two_types_runs_per_s: the same on may-2021-two-types "
        "(1,400 vaults over two types) on the pool of 2; every time in sweep_samples_s",
        "sweep_samples_s": {
            **{name: [round(x, 2) for x in run_s[name]] for name in configs},
            "two_types_pool_2": [round(x, 2) for x in two_s],
        },
    }
    return figures, meta


# figures no longer measured (dropped from results.json)
RETIRED = ("fuzz.differential_steps_per_s",)

# MakerDAO dss, same kind of transaction, beside gas_report.DSS_ANCHORS (those have a ratio)
ANCHORS = {
    "gas.settle_bad_debt": "Vow.flog: 27,220 (flog only; heal is another tx)",
}


def version(cmd: list[str]) -> str:
    try:
        return (
            subprocess.run(cmd, capture_output=True, text=True, check=True)
            .stdout.splitlines()[0]
            .strip()
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def record_figures(
    campaign_path: Path = CAMPAIGN_RECORD, mutants_path: Path = MUTANTS_RECORD
) -> dict[str, float]:
    """The committed campaign and mutation records' counts (`make fuzz`, `make mutate`)."""
    figures: dict[str, float] = {}
    if campaign_path.exists():
        campaign = json.loads(campaign_path.read_text())
        # only a campaign that ended as asked (a partial record says complete: false)
        if campaign.get("complete", False):
            figures["fuzz.campaign_steps"] = campaign["steps"]
    if mutants_path.exists():
        record = json.loads(mutants_path.read_text())
        figures["mutants.total"] = record["total"]
        figures["mutants.killed"] = record["killed"]
        figures["mutants.kill_rate"] = record["kill_rate"]
        figures["mutants.killed_by_fuzz"] = record["killed_by_fuzz"]
    return figures


def write_results(
    figures: dict[str, float],
    steps: int | None,
    samples: dict[str, list[float]] | None,
    sweep_meta: dict[str, Any] | None = None,
    results_path: Path = RESULTS,
    report_path: Path = REPORT,
    stale: Callable[[str], bool] | None = None,
) -> list[str]:
    """Merge `figures` into `results_path` (keys other benchmarks wrote stay; RETIRED ones go,
    and those `stale` says this run measured again: a figure it no longer writes, such as a
    time to clear where the book no longer clears, does not outlive its run) with the run's
    notes in `_meta`, and write the whole table to `report_path`; its lines."""
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for key in RETIRED:
        results.pop(key, None)
    for key in [k for k in results if not k.startswith("_") and stale and stale(k)]:
        del results[key]
    results.update(figures)
    meta = results.setdefault("_meta", {})
    meta.update(
        {
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "node": version(["anvil", "--version"]),
            "vyper": version(["vyper", "--version"]),
            "python": platform.python_version(),
            "gas_note": "gas used by one transaction incl. the 21k base; open_vault_with_join = "
            "CollateralJoin.join_and_modify (one tx); open_vault_two_transactions = join tx + "
            "lock/draw tx",
            "keeper_note": f"keeper.*: one liquidator bot process on a devnet mining a block a "
            f"second (Anvil's default block gas), {KEEPER_VAULTS} vaults made unsafe by one "
            "spotter poke; reaction = blocks from that poke to each vault's liquidation; "
            "from the same run: block_gas_limit, gas_per_liquidation = the liquidation "
            "transactions' gas used / vaults liquidated, gas_bound_blocks = ceil(vaults x "
            "gas_per_liquidation / block_gas_limit), the fewest blocks that hold them all "
            "(the floor under the last vault's reaction)",
        }
    )
    if samples is not None:
        meta.update(
            {
                "sim_note": f"sim.*_chain_s: private Anvil, end to end incl. the model run and "
                "the reconciliation, the "
                f"median of {CHAIN_RUNS} runs; sim.*_model_s: the model alone, the median of "
                f"{MODEL_RUNS} cold "
                "runs; every run in sim_samples_s; sim.reconciliation_diffs: the most in any run",
                "sim_samples_s": samples,
            }
        )
    if sweep_meta is not None:
        meta.update(sweep_meta)
    if steps is not None:
        meta["fuzz_steps_measured"] = steps
    results_path.parent.mkdir(exist_ok=True)
    results_path.write_text(json.dumps(dict(sorted(results.items())), indent=2) + "\n")

    lines = [
        "# Benchmarks",
        "",
        f"Measured {meta['measured_at']} on Anvil ({meta['node']}), {meta['vyper']}.",
        "",
        "| figure | value | MakerDAO dss, same transaction | ratio to dss |",
        "|---|---:|---|---:|",
    ]
    for key, value in sorted(results.items()):
        if key.startswith("_"):
            continue
        # positional, never 1e-06 (a reader, and the figures test, read the digits)
        shown = f"{value:,}" if isinstance(value, int) else format(Decimal(repr(value)), "f")
        anchor = DSS_ANCHORS.get(key)
        if anchor is not None:
            lines.append(
                f"| `{key}` | {shown} | {anchor[1]}: {anchor[0]:,} | {value / anchor[0]:.2f} |"
            )
        else:
            lines.append(f"| `{key}` | {shown} | {ANCHORS.get(key, '')} | |")
    report_path.write_text("\n".join(lines) + "\n")
    return lines
