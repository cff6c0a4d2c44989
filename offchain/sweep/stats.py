"""Risk figures per parameter cell, from the runs that finished (failed runs are counted, not
measured).

Definitions (n runs of a cell, insolvency x sorted ascending, q = 0.95 or 0.99; insolvency is
realized bad debt plus the marked shortfall of what a run leaves open, sim/insolvency.py):
- VaR_q: the smallest x such that at least q of the runs have insolvency <= x, x[ceil(q n) - 1];
- expected shortfall CVaR_q: the mean of the ceil((1 - q) n) largest values (the worst 5% for
  q = 0.95), so CVaR_q >= VaR_q;
- realized_mean, realized_var95: the same of realized bad debt alone, shown beside;
- liquidations at risk LaR95: VaR_0.95 of the collateral value liquidated in a run;
- confidence intervals: percentile bootstrap, `BOOTSTRAP` resamples of the n runs with
  replacement (numpy's PCG64 seeded from the sweep and the cell: the same sweep gives the same
  intervals), the 2.5th and 97.5th percentiles of the resampled statistic. With few runs the
  tail statistics' intervals are wide and VaR99 is the maximum: the report says how many runs
  each cell has.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from offchain.report.tables import LAYERS, LOSS_PARTS
from offchain.sweep.runs import OK

# the per-layer payments of a collateral type's loss (runs.TYPE_METRICS)
PAID = tuple(f"paid_{layer}" for layer in LAYERS)

BOOTSTRAP = 1000
CONFIDENCE = Fraction(95, 100)
Q95, Q99 = Fraction(95, 100), Fraction(99, 100)
_MAX_CELLS_PER_BATCH = 4_000_000  # resampled values held at once


def _ceil(q: Fraction, n: int) -> int:
    return -(-q.numerator * n // q.denominator)


def var(sorted_x: np.ndarray, q: Fraction) -> np.ndarray:
    """VaR_q along the last axis of ascending-sorted samples."""
    n = sorted_x.shape[-1]
    return sorted_x[..., max(_ceil(q, n) - 1, 0)]


def cvar(sorted_x: np.ndarray, q: Fraction) -> np.ndarray:
    """Expected shortfall: the mean of the ceil((1 - q) n) largest (at least one)."""
    n = sorted_x.shape[-1]
    k = max(_ceil(1 - q, n), 1)
    return sorted_x[..., n - k :].mean(axis=-1)


STATISTICS = {
    "mean": lambda s: s.mean(axis=-1),
    "var95": lambda s: var(s, Q95),
    "var99": lambda s: var(s, Q99),
    "cvar95": lambda s: cvar(s, Q95),
    "cvar99": lambda s: cvar(s, Q99),
}


def _rng(key: str) -> np.random.Generator:
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:16], "big")
    return np.random.Generator(np.random.PCG64(seed))


def bootstrap(
    x: np.ndarray, key: str, resamples: int = BOOTSTRAP
) -> dict[str, tuple[float, float]]:
    """Each of STATISTICS' percentile-bootstrap interval at CONFIDENCE, seeded by `key`."""
    n = len(x)
    rng = _rng(key)
    batch = max(1, _MAX_CELLS_PER_BATCH // max(n, 1))
    values: dict[str, list[np.ndarray]] = {name: [] for name in STATISTICS}
    done = 0
    while done < resamples:
        b = min(batch, resamples - done)
        sample = np.sort(x[rng.integers(0, n, size=(b, n))], axis=1)
        for name, statistic in STATISTICS.items():
            values[name].append(statistic(sample))
        done += b
    tail = float(1 - CONFIDENCE) / 2 * 100
    out = {}
    for name, parts in values.items():
        v = np.concatenate(parts)
        out[name] = (float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail)))
    return out


@dataclass(frozen=True)
class CellStats:
    cell: int
    scenario: str
    values: tuple[str, ...]  # the grid values (spec.Cell.values)
    runs: int
    failed: int
    figures: dict[str, Any]  # see cell_stats


def cell_stats(
    cell: int,
    scenario: str,
    values: tuple[str, ...],
    rows: pd.DataFrame,
    key: str,
    resamples: int = BOOTSTRAP,
    types: tuple[str, ...] = (),
) -> CellStats:
    """The figures of one cell from its rows of results (every status). `figures` keys:
    mean, var95, var99, cvar95, cvar99 (of insolvency) and each one's `_lo` / `_hi` interval;
    realized_mean and realized_var95 (of realized bad debt); p_insolvent and p_bad_debt (the share
    of runs with insolvency, with realized bad debt); open_auctions_mean; lar95 and
    liquidated_value_mean; vaults_liquidated_mean;
    liquidation_delay_median_s (mean of the runs' medians); clearing_discount_mean;
    borrower_cost_rate_mean; staker_loss_share_mean and _max; uncovered_mean;
    time_to_clear_mean_s (of the runs that cleared); loss_<part>_mean
    (report.tables.LOSS_PARTS); per layer
    `paid_<layer>_mean`, `paid_<layer>_p95` and `paid_<layer>_share` (of all the cell's realized bad
    debt); largest_payer_kinds ({kind: runs in which that kind paid most}); for each of `types`
    (a several-type scenario's collateral types) the means `<metric>@<type>_mean` of its
    insolvency, realized bad debt, liquidations and paid per layer, and
    `insolvency@<type>_share` (of the cell's insolvency)."""
    ok = rows[rows["status"] == OK]
    n = len(ok)
    figures: dict[str, Any] = {}
    if n:
        x = np.sort(ok["insolvency"].to_numpy(dtype=float))
        realized = np.sort(ok["realized_bad_debt"].to_numpy(dtype=float))
        for name, statistic in STATISTICS.items():
            figures[name] = float(statistic(x))
        for name, (lo, hi) in bootstrap(x, key, resamples).items():
            figures[f"{name}_lo"], figures[f"{name}_hi"] = lo, hi
        figures["p_insolvent"] = float((x > 0).mean())
        figures["realized_mean"] = float(realized.mean())
        figures["realized_var95"] = float(var(realized, Q95))
        figures["p_bad_debt"] = float((realized > 0).mean())
        figures["open_auctions_mean"] = float(ok["auctions_running_at_end"].astype(float).mean())
        liquidated = np.sort(ok["liquidated_value"].to_numpy(dtype=float))
        figures["lar95"] = float(var(liquidated, Q95))
        figures["liquidated_value_mean"] = float(liquidated.mean())
        for column, name in (
            ("vaults_liquidated", "vaults_liquidated_mean"),
            ("liquidation_delay_median_s", "liquidation_delay_median_s"),
            ("clearing_discount", "clearing_discount_mean"),
            ("borrower_cost_rate", "borrower_cost_rate_mean"),
            ("staker_loss_share", "staker_loss_share_mean"),
            ("uncovered", "uncovered_mean"),
            ("time_to_clear_s", "time_to_clear_mean_s"),
            *((f"loss_{part}", f"loss_{part}_mean") for part in LOSS_PARTS),
        ):
            series = pd.to_numeric(ok[column], errors="coerce").dropna()
            figures[name] = float(series.mean()) if len(series) else None
        shares = pd.to_numeric(ok["staker_loss_share"], errors="coerce").dropna()
        figures["staker_loss_share_max"] = float(shares.max()) if len(shares) else None
        total = float(realized.sum())  # what the layers could pay: realized bad debt
        for layer in LAYERS:
            paid = np.sort(ok[f"paid_{layer}"].to_numpy(dtype=float))
            figures[f"paid_{layer}_mean"] = float(paid.mean())
            figures[f"paid_{layer}_p95"] = float(var(paid, Q95))
            figures[f"paid_{layer}_share"] = float(paid.sum()) / total if total else None
        kinds = ok["largest_payer_kind"].fillna("").replace("", "nobody")
        figures["largest_payer_kinds"] = {str(k): int(v) for k, v in kinds.value_counts().items()}
        # per collateral type (a several-type scenario): its means per run, and its share of
        # the cell's insolvency
        total_insolvency = float(x.sum())
        for name in types:
            column = f"insolvency@{name}"
            if column not in ok or ok[column].isna().all():
                continue
            for metric in ("insolvency", "realized_bad_debt", "liquidations", *PAID):
                series = pd.to_numeric(ok[f"{metric}@{name}"], errors="coerce").dropna()
                figures[f"{metric}@{name}_mean"] = float(series.mean())
            share = pd.to_numeric(ok[column], errors="coerce").sum()
            figures[f"insolvency@{name}_share"] = (
                float(share) / total_insolvency if total_insolvency else None
            )
    return CellStats(cell, scenario, values, n, len(rows) - n, figures)


def eligible_cells(stats: list[CellStats], max_borrower_cost: float | None) -> list[CellStats]:
    """Cells with runs whose mean borrower cost rate is at most `max_borrower_cost` (every cell
    with runs if None)."""
    return [
        s
        for s in stats
        if s.runs
        and (
            max_borrower_cost is None
            or (
                s.figures.get("borrower_cost_rate_mean") is not None
                and s.figures["borrower_cost_rate_mean"] <= max_borrower_cost
            )
        )
    ]


def best_cell(
    stats: list[CellStats], max_borrower_cost: float | None
) -> tuple[CellStats | None, int]:
    """The cell with the lowest insolvency VaR95 among the eligible ones (`eligible_cells`);
    ties go to the lower mean, then the lower borrower cost (the same risk, cheaper for
    borrowers), then the earlier cell (`rank` equal: the runs do not separate them). Also how
    many cells met the constraint."""
    eligible = eligible_cells(stats, max_borrower_cost)
    if not eligible:
        return None, 0
    return min(eligible, key=lambda s: (rank(s), s.cell)), len(eligible)


def rank(s: CellStats) -> tuple[float, float, float]:
    """What the recommendation orders cells by: insolvency VaR95, its mean, the borrower cost."""
    cost = s.figures.get("borrower_cost_rate_mean")
    return s.figures["var95"], s.figures["mean"], math.inf if cost is None else cost


def idle_keys(stats: list[CellStats], names: tuple[str, ...]) -> list[str]:
    """Grid keys that changed no figure: every two cells (with runs) that differ in that key
    alone have equal figures (the bootstrap intervals aside). A key with no such pair is not
    listed. E.g. a further type's pool depth when no vault of that type was liquidated."""
    out = []
    for i, name in enumerate(names):
        groups: dict[tuple, list[CellStats]] = {}
        for s in stats:
            if s.runs:
                groups.setdefault((s.scenario, s.values[:i] + s.values[i + 1 :]), []).append(s)
        pairs = [g for g in groups.values() if len({s.values[i] for s in g}) > 1]
        if pairs and all(len({_point_figures(s) for s in g}) == 1 for g in pairs):
            out.append(name)
    return out


def _point_figures(s: CellStats) -> str:
    return repr(sorted((k, v) for k, v in s.figures.items() if not k.endswith(("_lo", "_hi"))))
