"""Sampled runs re-checked on chain: a sweep's figures are the protocol's.

`verify` re-runs K of the sweep's finished runs, chosen at random (seeded by the sweep's
fingerprint: the same sweep checks the same runs), on a private Anvil and in the model, with the
complete state read every `FULL_CHECK_EVERY` bars as `ape run simulate` does, and reconciles the
two (offchain/sim/results/reconcile.py: every transaction, event, bar snapshot and state variable; 0
differences expected). It also measures the chain run as the sweep measured the model run and
compares the figures with the sweep's row for that run: equal, to the last float bit.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from offchain.sim.run.replay import replay
from offchain.sweep.runs import METRICS, OK, measure, run_scenario
from offchain.sweep.spec import Plan

FULL_CHECK_EVERY = 6  # bars between full-state comparisons (ape run simulate's default)


@dataclass
class Verification:
    run: int
    cell: int
    seed: int
    transactions: int = 0
    events: int = 0
    bars: int = 0
    state_checks: int = 0
    state_values: int = 0
    differences: int = 0
    first_differences: list[str] = field(default_factory=list)
    figures_differ: list[str] = field(default_factory=list)  # columns whose value differs
    error: str = ""  # the chain run could not be made (no anvil, a revert in setup...)

    @property
    def ok(self) -> bool:
        return not self.error and self.differences == 0 and not self.figures_differ

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def choose(plan: Plan, rows: dict[int, dict[str, Any]], k: int) -> list[int]:
    """K finished, successful runs at random (fewer if there are fewer), in run order."""
    candidates = sorted(r for r, row in rows.items() if row["status"] == OK)
    rng = random.Random(plan.fingerprint)
    return sorted(rng.sample(candidates, min(k, len(candidates))))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def verify_run(plan: Plan, row: dict[str, Any], artifacts: dict, reader_code: str) -> Verification:
    """One run on Anvil and in the model, reconciled, and its figures against the sweep's row."""
    task = plan.task(row["run"])
    v = Verification(task.run, task.cell, task.seed)
    try:
        scenario = run_scenario(task)
        done = replay(scenario, code=(artifacts, reader_code), full_check_every=FULL_CHECK_EVERY)
    except Exception as exc:  # noqa: BLE001 - reported with the run: the sweep's report says it was not checked
        v.error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        return v
    chain, r = done.checked
    v.transactions, v.events, v.bars = r.txs_compared, r.events_compared, r.bars_compared
    v.state_checks, v.state_values = r.state_checks, r.state_variables_compared
    v.differences, v.first_differences = r.diff_count, r.diffs[:5]
    figures = measure(chain, scenario)
    v.figures_differ = [m for m in METRICS if not _same(figures[m], row[m])]
    return v
