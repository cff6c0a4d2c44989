"""A sweep from its validated plan to its report: the runs not yet finished on the executor, each
written as it arrives; then the results, the figures per cell, the sampled runs re-checked on
chain, and the report (`ape run sweep`, scripts/_sweep.py, is a thin CLI over `run_sweep`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from offchain.sweep.executors import Executor
from offchain.sweep.report import VERIFICATION, ReportInput, write_report
from offchain.sweep.runs import CODE, FAILED, code_fingerprint, run_one
from offchain.sweep.spec import Plan
from offchain.sweep.stats import BOOTSTRAP, HEADLINE, cell_stats
from offchain.sweep.store import Store, atomic_write
from offchain.sweep.verify import Verification, choose, verify_run

DEFAULT_VERIFY = 2


class SweepAborted(RuntimeError):
    """The executor failed mid-sweep (a worker died, other code joined); finished runs are kept
    and the same command resumes. One line."""


@dataclass(frozen=True)
class Options:
    verify: int = DEFAULT_VERIFY  # runs re-checked on chain
    max_borrower_cost: Fraction | None = None  # the recommendation's constraint [of debt]
    rank_by: str = HEADLINE  # what the recommendation, heatmaps and histograms rank (RANKED)
    resamples: int = BOOTSTRAP


@dataclass
class Outcome:
    summary: Path
    total: int
    failed: int
    skipped: int  # finished before this execution (a resumed sweep)
    executed: int  # in this execution
    run_s: float  # the runs of this execution, wall clock
    verifications: list[Verification] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return all(v.ok for v in self.verifications)


Progress = Callable[[int, int], None]  # (runs finished in this execution, of them failed)
ChainArtifacts = Callable[[], tuple[dict, str]]  # the compiled contracts and BatchReader code


def execute(
    plan: Plan,
    store: Store,
    executor: Executor,
    done: set[int],
    progress: Progress | None = None,
) -> int:
    """Run what is not `done` yet, writing each run as it finishes; the number run."""
    count = failed = 0
    own = code_fingerprint()
    try:
        for result in executor.map_unordered(run_one, plan.tasks(skip=done)):
            if result.pop(CODE) != own:
                raise SweepAborted(
                    f"a worker ({result['worker']}) runs other Backstop code than this checkout; "
                    "install the same commit on every worker and run the same command to resume"
                )
            store.write_run(store.row(result))
            count += 1
            failed += result["status"] == FAILED
            if progress is not None:
                progress(count, failed)
    except SweepAborted:
        raise
    except Exception as exc:  # noqa: BLE001 - the executor's: finished runs are on disk
        raise SweepAborted(
            f"the executor failed ({type(exc).__name__}: {' '.join(str(exc).split())}); "
            f"{count} runs were written; run the same command to resume"
        ) from None
    return count


def _verifications(
    store: Store, rows: dict, k: int, chain_artifacts: ChainArtifacts | None
) -> list[Verification]:
    plan = store.plan
    chosen = choose(plan, rows, k)
    if not chosen:
        return []
    path = store.root / VERIFICATION
    if path.is_file():  # a previous execution of this sweep checked the same runs: kept
        try:
            held = json.loads(path.read_text())
            if held["runs"] == chosen:
                kept = [Verification(**v) for v in held["verifications"]]
                if all(not v.error for v in kept):
                    return kept
        except (OSError, ValueError, KeyError, TypeError):
            pass
    if chain_artifacts is None:
        raise ValueError("runs to verify but no chain artifacts")
    artifacts, code = chain_artifacts()
    out = [verify_run(plan, rows[run], artifacts, code) for run in chosen]
    record = {"runs": chosen, "verifications": [v.to_json() for v in out]}
    atomic_write(path, lambda p: p.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n"))
    return out


def run_sweep(
    plan: Plan,
    store: Store,
    executor: Executor | None,
    options: Options,
    chain_artifacts: ChainArtifacts | None = None,
    progress: Progress | None = None,
    done: set[int] | None = None,
) -> Outcome:
    """The whole sweep in `store` (opened: Store.check then Store.open), resuming what it holds
    (`done`: its finished runs, if already read); `executor` may be None when every run is
    already finished."""
    done = set(store.finished()) if done is None else done
    skipped = len(done)
    start = time.perf_counter()
    executed = 0
    if skipped < plan.total:
        if executor is None:
            raise ValueError("runs to do but no executor")
        executed = execute(plan, store, executor, done, progress)
    run_s = time.perf_counter() - start
    rows = store.finished()
    table = store.write_results(rows.values())
    results = table.to_pandas()
    stats = [
        cell_stats(
            cell.index,
            cell.scenario.name,
            cell.values,
            results[results["cell"] == cell.index],
            f"{plan.fingerprint}/{cell.index}",
            options.resamples,
            plan.collateral_types,
        )
        for cell in plan.cells
    ]
    verifications = (
        _verifications(store, rows, options.verify, chain_artifacts) if options.verify else []
    )
    summary = write_report(
        store.root,
        ReportInput(
            plan,
            results,
            stats,
            options.verify,
            verifications,
            options.max_borrower_cost,
            plan.cells[0].scenario.system.stablecoin_symbol,
            options.rank_by,
        ),
    )
    return Outcome(
        summary,
        plan.total,
        int((results["status"] == FAILED).sum()),
        skipped,
        executed,
        run_s,
        verifications,
    )
