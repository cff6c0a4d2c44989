"""Risk figures per parameter cell, from the runs that finished (failed runs are counted, not
measured).

The headline is the column HEADLINE of the results (the insolvency a run ends with). Beside it,
what a backstop is sized by (SIZED): what each waterfall layer paid (`paid_<layer>`), what no
layer paid (`uncovered`: unpaid) and the loss borne by stablecoin holders (`holders_loss`;
runs.py defines each). Every SIZED figure gets the same statistics as the headline, VaR, ES and
their intervals, under its own name (`<figure>_var95`, ...; the headline's are unprefixed:
`var95`); the recommendation ranks by one of RANKED (`--rank-by`, the headline by default).

Definitions (n runs of a cell, the headline x sorted ascending, x_(k) its k-th smallest, q = 0.95
or 0.99):
- VaR_q: the smallest x such that at least q of the runs are <= x, x_(ceil(q n)). It is the
  worst run while ceil(q n) = n, i.e. below WORST_RUN_UNTIL[q] runs (20 for VaR95, 100 for
  VaR99): the summary says so;
- expected shortfall CVaR_q: the mean of the ceil((1 - q) n) largest values (the worst 5% for
  q = 0.95), so CVaR_q >= VaR_q; the worst run alone up to 1 / (1 - q) runs;
- VaR_q's interval: distribution-free, from order statistics: [x_(l), x_(u)] with l the largest
  and u the smallest rank such that P(Bin(n, q) <= l - 1) <= a/2 and P(Bin(n, q) <= u - 1) >=
  1 - a/2 (a = 1 - CONFIDENCE), which covers the true q-quantile with probability at least
  CONFIDENCE whatever the distribution. No such u below n + 1 (fewer than
  BOUNDED_FROM[q] runs: 72 for VaR95, 368 for VaR99): the runs cannot bound it above, the
  upper bound is None ("unbounded");
- the mean's and CVaR's intervals: percentile bootstrap, `BOOTSTRAP` resamples of the n runs
  with replacement (numpy's PCG64 seeded from the sweep and the cell: the same sweep gives the
  same intervals), the 2.5th and 97.5th percentiles of the resampled statistic; CVaR_q's upper
  bound is None wherever VaR_q's is (CVaR_q >= VaR_q), as no resample exceeds the worst run;
- realized_mean, realized_var95: the same of realized bad debt alone, shown beside;
- liquidations at risk LaR95: VaR_0.95 of the collateral value liquidated in a run;
- the wait from unsafe to liquidated: each run's Kaplan-Meier median (report/survival.py; the
  vaults never liquidated counted as censored, inf when the curve never reaches one half), the
  cell's median of them, and the share of unsafe vaults never liquidated;
- the headline over the oracle's phases (each run's phase is drawn from its seed, or set: the
  results' `oracle_phase`): per phase the mean insolvency of the cell's runs at it
  (`phase_means`), their median (`phase_median`, the cell's lead figure, as a single replay's
  headline is the median over the phases) and the worst (`phase_worst`, at
  `phase_worst_phase`); `phases`, how many phases the cell's runs cover.
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
from offchain.sweep.spec import RANKED

# the per-layer payments of a collateral type's loss (runs.TYPE_METRICS)
PAID = tuple(f"paid_{layer}" for layer in LAYERS)

# the results' column the risk figures and the recommendation read
HEADLINE = "insolvency"
# what a backstop is sized by: each figure's VaR, ES and intervals per cell (`figure_key`); the
# recommendation, heatmaps and histograms rank by one of RANKED (spec.py)
SIZED = (*RANKED, *PAID)
assert SIZED[0] == HEADLINE
# how the report names each SIZED figure
FIGURE_NAMES = {
    HEADLINE: "insolvency",
    "uncovered": "unpaid bad debt",
    "holders_loss": "stablecoin holders' loss",
    **{f"paid_{layer}": f"paid by {layer.replace('_', ' ')}" for layer in LAYERS},
}


def figure_key(figure: str, statistic: str) -> str:
    """Where a cell's figures hold `statistic` (mean, var95, cvar95_lo, ...) of SIZED `figure`:
    the headline's unprefixed, the others' `<figure>_<statistic>`."""
    return statistic if figure == HEADLINE else f"{figure}_{statistic}"


BOOTSTRAP = 1000
CONFIDENCE = Fraction(95, 100)
Q95, Q99 = Fraction(95, 100), Fraction(99, 100)
_MAX_CELLS_PER_BATCH = 4_000_000  # resampled values held at once


def _ceil(q: Fraction, n: int) -> int:
    return -(-q.numerator * n // q.denominator)


def var_is_worst_run(q: Fraction, n: int) -> bool:
    """VaR_q of n runs is their maximum (x_(ceil(q n)) with ceil(q n) = n): too few runs."""
    return n > 0 and _ceil(q, n) >= n


def cvar_is_worst_run(q: Fraction, n: int) -> bool:
    """CVaR_q of n runs is their maximum alone (ceil((1 - q) n) = 1)."""
    return n > 0 and _ceil(1 - q, n) <= 1


def _first(predicate: Any) -> int:
    n = 1
    while not predicate(n):
        n += 1
    return n


def binomial_cdf(n: int, q: float) -> np.ndarray:
    """P(Bin(n, q) <= k) for k = 0..n (log-space sums: exact to float rounding)."""
    k = np.arange(n + 1, dtype=float)
    log_pmf = (
        math.lgamma(n + 1)
        - np.array([math.lgamma(i + 1) + math.lgamma(n - i + 1) for i in range(n + 1)])
        + k * math.log(q)
        + (n - k) * math.log1p(-q)
    )
    return np.minimum(np.cumsum(np.exp(log_pmf)), 1.0)


def var_ranks(
    q: Fraction, n: int, confidence: Fraction = CONFIDENCE
) -> tuple[int | None, int | None]:
    """The 1-based ranks (l, u) of the order statistics whose interval [x_(l), x_(u)] covers the
    q-quantile with probability at least `confidence` (module docstring); None for a side the n
    runs cannot bound."""
    if n == 0:
        return None, None
    tail = float(1 - confidence) / 2
    cdf = binomial_cdf(n, float(q))  # cdf[k] = P(Bin <= k)
    lows = [r for r in range(1, n + 1) if cdf[r - 1] <= tail + 1e-12]
    highs = [r for r in range(1, n + 1) if cdf[r - 1] >= 1 - tail - 1e-12]
    return (max(lows) if lows else None), (min(highs) if highs else None)


def bounded_from(q: Fraction, confidence: Fraction = CONFIDENCE) -> int:
    """The fewest runs whose VaR_q interval has an upper bound: q^n <= (1 - confidence) / 2."""
    tail = float(1 - confidence) / 2
    return math.ceil(math.log(tail) / math.log(float(q)) - 1e-12)


# the fewest runs for which VaR_q (CVaR_q) is no longer the worst run, and for which VaR_q's
# interval is bounded above
WORST_RUN_UNTIL = {q: _first(lambda n, q=q: not var_is_worst_run(q, n)) for q in (Q95, Q99)}
CVAR_WORST_RUN_UNTIL = {q: _first(lambda n, q=q: not cvar_is_worst_run(q, n)) for q in (Q95, Q99)}
BOUNDED_FROM = {q: bounded_from(q) for q in (Q95, Q99)}


def var_interval(
    sorted_x: np.ndarray, q: Fraction, confidence: Fraction = CONFIDENCE
) -> tuple[float | None, float | None]:
    """VaR_q's order-statistic interval of ascending-sorted runs (None: unbounded)."""
    lo, hi = var_ranks(q, len(sorted_x), confidence)
    return (
        float(sorted_x[lo - 1]) if lo is not None else None,
        float(sorted_x[hi - 1]) if hi is not None else None,
    )


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
    mean, var95, var99, cvar95, cvar99 (of insolvency) and each one's `_lo` / `_hi` interval,
    and the same of every other SIZED figure as `<figure>_<statistic>` (`figure_key`);
    realized_mean and realized_var95 (of realized bad debt); p_insolvent and p_bad_debt (the share
    of runs with insolvency, with realized bad debt); open_auctions_mean; lar95 and
    liquidated_value_mean; vaults_liquidated_mean;
    liquidation_delay_median_s (mean of the runs' medians); clearing_discount_mean;
    borrower_cost_rate_mean; staker_loss_share_mean and _max; uncovered_mean;
    time_to_clear_mean_s (of the runs that cleared); loss_<part>_mean
    (report.tables.LOSS_PARTS); per layer
    `paid_<layer>_share` (of all the cell's realized bad debt; its mean, VaR and ES as a SIZED
    figure's); largest_payer_kinds ({kind: runs in which that kind paid most}); for each of `types`
    (a several-type scenario's collateral types) the means `<metric>@<type>_mean` of its
    insolvency, realized bad debt, liquidations and paid per layer, and
    `insolvency@<type>_share` (of the cell's insolvency); phases, phase_means, phase_median,
    phase_worst and phase_worst_phase (the module docstring; where the rows have the runs'
    `oracle_phase`)."""
    ok = rows[rows["status"] == OK]
    n = len(ok)
    figures: dict[str, Any] = {}
    if n:
        x = np.sort(ok[HEADLINE].to_numpy(dtype=float))
        realized = np.sort(ok["realized_bad_debt"].to_numpy(dtype=float))
        for figure in SIZED:
            sized = x if figure == HEADLINE else np.sort(ok[figure].to_numpy(dtype=float))
            # each figure's bootstrap its own stream (the headline's key as before)
            stream = key if figure == HEADLINE else f"{key}/{figure}"
            figures |= tail_figures(sized, stream, resamples, lambda s, f=figure: figure_key(f, s))
        if "oracle_phase" in ok:
            figures |= phase_figures(ok)
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
        # the wait from unsafe to liquidated, censored (report/survival.py): the median run's
        # Kaplan-Meier median (inf: not reached), and the share never liquidated
        if "liquidation_delay_km_median_s" in ok:
            km = pd.to_numeric(ok["liquidation_delay_km_median_s"], errors="coerce").dropna()
            figures["delay_km_median_s"] = float(np.median(km)) if len(km) else None
            spells = float(pd.to_numeric(ok["unsafe_spells"], errors="coerce").sum())
            never = float(pd.to_numeric(ok["never_liquidated"], errors="coerce").sum())
            figures["never_liquidated_share"] = never / spells if spells else None
            figures["never_liquidated_mean"] = never / n
        shares = pd.to_numeric(ok["staker_loss_share"], errors="coerce").dropna()
        figures["staker_loss_share_max"] = float(shares.max()) if len(shares) else None
        total = float(realized.sum())  # what the layers could pay: realized bad debt
        for layer in LAYERS:
            paid = ok[f"paid_{layer}"].to_numpy(dtype=float)
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


def phase_figures(ok: pd.DataFrame) -> dict[str, Any]:
    """The headline over the oracle's phases of a cell's finished runs (module docstring): per
    phase the mean insolvency of its runs, their median and the worst (the earliest phase of a
    tie), and how many phases the runs cover."""
    phases = pd.to_numeric(ok["oracle_phase"], errors="coerce").astype(int)
    means = ok[HEADLINE].astype(float).groupby(phases).mean().sort_index()
    worst = int(np.argmax(means.to_numpy()))
    return {
        "phases": len(means),
        "phase_means": {
            str(p): float(m) for p, m in zip(means.index.astype(int), means, strict=True)
        },
        "phase_median": float(np.median(means.to_numpy())),
        "phase_worst": float(means.iloc[worst]),
        "phase_worst_phase": int(means.index[worst]),
    }


def tail_figures(
    x: np.ndarray, key: str, resamples: int, name: Any = lambda statistic: statistic
) -> dict[str, Any]:
    """STATISTICS of the ascending-sorted runs `x`, each one's 95% interval (`_lo`, `_hi`) and
    whether a tail figure is the worst run (`_worst_run`), under `name(statistic)` (module
    docstring: VaR's interval from the order statistics, the others' from the bootstrap seeded
    by `key`)."""
    n = len(x)
    out: dict[str, Any] = {}
    for stat, statistic in STATISTICS.items():
        out[name(stat)] = float(statistic(x))
    for stat, (lo, hi) in bootstrap(x, key, resamples).items():
        out[name(f"{stat}_lo")], out[name(f"{stat}_hi")] = lo, hi
    # VaR: the order statistics' interval; CVaR >= VaR: unbounded above where VaR is
    for q, level in ((Q95, "95"), (Q99, "99")):
        lo, hi = var_interval(x, q)
        out[name(f"var{level}_lo")], out[name(f"var{level}_hi")] = lo, hi
        if hi is None:
            out[name(f"cvar{level}_hi")] = None
        out[name(f"var{level}_worst_run")] = var_is_worst_run(q, n)
        out[name(f"cvar{level}_worst_run")] = cvar_is_worst_run(q, n)
    return out


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
    stats: list[CellStats], max_borrower_cost: float | None, figure: str = HEADLINE
) -> tuple[CellStats | None, int]:
    """The cell with the lowest VaR95 of `figure` (RANKED: insolvency by default) among the
    eligible ones (`eligible_cells`); ties go to the lower mean, then the lower borrower cost
    (the same risk, cheaper for borrowers), then the earlier cell (`rank` equal: the runs do not
    separate them). Also how many cells met the constraint."""
    eligible = eligible_cells(stats, max_borrower_cost)
    if not eligible:
        return None, 0
    return min(eligible, key=lambda s: (rank(s, figure), s.cell)), len(eligible)


@dataclass(frozen=True)
class Recommendation:
    """The recommendation of one scenario's cells (`recommend`)."""

    lowest: CellStats | None  # the lowest VaR95 among the eligible cells (best_cell)
    eligible: int  # cells that meet the borrower-cost constraint
    # eligible cells whose VaR95 interval overlaps the lowest's: the runs do not separate them
    overlapping: tuple[CellStats, ...]
    # the runs per cell that would separate the lowest from those (an estimate), and whether it
    # is only a floor (some interval unbounded); None: no estimate (equal point estimates)
    seeds_needed: int | None
    at_least: bool

    @property
    def cell(self) -> CellStats | None:
        """The cell recommended: the lowest, when its interval separates from every other
        eligible cell's (or it is the only one); else None."""
        return self.lowest if self.lowest is not None and not self.overlapping else None


def separated(low: CellStats, other: CellStats, figure: str = HEADLINE) -> bool:
    """`low`'s VaR95 interval of `figure` lies wholly below `other`'s (both bounded on that
    side)."""
    hi = low.figures.get(figure_key(figure, "var95_hi"))
    lo = other.figures.get(figure_key(figure, "var95_lo"))
    return hi is not None and lo is not None and hi < lo


def recommend(
    stats: list[CellStats], max_borrower_cost: float | None, figure: str = HEADLINE
) -> Recommendation:
    """By `figure` (RANKED: insolvency by default): the lowest-VaR95 eligible cell (best_cell),
    recommended only where its VaR95 interval
    separates from every other eligible cell's. Otherwise the overlapping cells and an estimate
    of the runs per cell that would separate them: intervals narrow as 1 / sqrt(n), so n x ((the
    two half-widths facing each other) / (the gap between the point estimates))^2 for the
    nearest rival, at least BOUNDED_FROM[Q95] (an upper bound on VaR95 needs that many); only
    that floor (`at_least`) when an interval is unbounded, no estimate when the point estimates
    are equal."""
    lowest, eligible = best_cell(stats, max_borrower_cost, figure)
    if lowest is None:
        return Recommendation(None, 0, (), None, False)
    others = [s for s in eligible_cells(stats, max_borrower_cost) if s is not lowest]
    overlapping = tuple(o for o in others if not separated(lowest, o, figure))
    if not overlapping:
        return Recommendation(lowest, eligible, (), None, False)
    k = lambda statistic: figure_key(figure, statistic)  # noqa: E731
    f = lowest.figures
    if any(o.figures[k("var95")] <= f[k("var95")] for o in overlapping):
        # equal point estimates: no sample size is known to separate them
        return Recommendation(lowest, eligible, overlapping, None, False)
    needed, at_least = BOUNDED_FROM[Q95], False
    for o in overlapping:
        gap = o.figures[k("var95")] - f[k("var95")]
        if f.get(k("var95_hi")) is None or o.figures.get(k("var95_lo")) is None:
            at_least = True
            continue
        width = (f[k("var95_hi")] - f[k("var95")]) + (
            o.figures[k("var95")] - o.figures[k("var95_lo")]
        )
        n = min(lowest.runs, o.runs)
        needed = max(needed, math.ceil(n * (width / gap) ** 2 - 1e-9))  # float noise
    return Recommendation(lowest, eligible, overlapping, needed, at_least)


def rank(s: CellStats, figure: str = HEADLINE) -> tuple[float, float, float]:
    """What the recommendation orders cells by: `figure`'s VaR95, its mean, the borrower
    cost."""
    cost = s.figures.get("borrower_cost_rate_mean")
    return (
        s.figures[figure_key(figure, "var95")],
        s.figures[figure_key(figure, "mean")],
        math.inf if cost is None else cost,
    )


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
