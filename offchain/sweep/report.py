"""A sweep's report: summary.md and summary.html (the same blocks as a run's report,
offchain/report/documents.py), cells.parquet and cells.csv (one row of figures per cell) and
plots/ (heatmaps of the ranked figure's VaR95 over every two grid keys (insolvency unless
--rank-by names another), histograms of it per cell, who paid per cell). Nothing in it depends
on the clock or on how the sweep was executed: the same sweep writes the same bytes.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import secrets
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from offchain.report.documents import (
    Block,
    Bullets,
    Heading,
    Image,
    Table,
    Text,
    to_html,
    to_markdown,
)
from offchain.report.mpl import pyplot, ticker
from offchain.report.plots import COLORS
from offchain.report.tables import LAYERS, LOSS_PARTS, format_amount
from offchain.sim.scenario.timeline import period_phases
from offchain.sweep.runs import FAILED, OK
from offchain.sweep.spec import Plan
from offchain.sweep.stats import (
    BOUNDED_FROM,
    CVAR_WORST_RUN_UNTIL,
    FIGURE_NAMES,
    HEADLINE,
    Q95,
    Q99,
    WORST_RUN_UNTIL,
    CellStats,
    cvar_is_worst_run,
    eligible_cells,
    figure_key,
    idle_keys,
    rank,
    recommend,
    var,
    var_interval,
    var_is_worst_run,
)
from offchain.sweep.store import RESULTS, RESULTS_CSV, RUNTIMES, atomic_write
from offchain.sweep.verify import FULL_CHECK_EVERY, Verification

SUMMARY = "summary.md"
SUMMARY_HTML = "summary.html"
CELLS = "cells.parquet"
CELLS_CSV = "cells.csv"
VERIFICATION = "verification.json"
PLOTS = "plots"
HISTOGRAMS_PER_FIGURE = 16
MAX_FAILURES_SHOWN = 20


@dataclass(frozen=True)
class ReportInput:
    plan: Plan
    results: pd.DataFrame  # results.parquet as a frame
    stats: list[CellStats]
    verify_requested: int
    verifications: list[Verification]
    max_borrower_cost: Fraction | None
    stable: str  # the stablecoin's symbol
    rank_by: str = HEADLINE  # what the recommendation, heatmaps and histograms rank (RANKED)


_NUMBER = re.compile(r"-?[0-9][0-9_]*(\.[0-9]+)?")


def shown(value: str) -> str:
    """A grid value as a reader reads it: a number's underscores as thousands separators
    (1_000_000 -> 1,000,000); the results keep the value as it was given."""
    return value.replace("_", ",") if _NUMBER.fullmatch(value) else value


def cell_label(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    return ", ".join(f"{n}={shown(v)}" for n, v in zip(names, values)) or "(the scenario as it is)"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _bound(value: float | None) -> str:
    return "unbounded" if value is None else format_amount(value)


def _ci(figures: dict[str, Any], name: str) -> str:
    """A figure and its 95% interval; a tail figure that is the worst run is marked (*)."""
    worst = " *" if figures.get(f"{name}_worst_run") else ""
    return (
        f"{format_amount(figures[name])}{worst} ({_bound(figures.get(name + '_lo'))} to "
        f"{_bound(figures.get(name + '_hi'))})"
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:,.0f} s" if seconds < 120 else f"{seconds / 60:,.1f} min"


# ---------------------------------------------------------------- blocks


def _sweep_blocks(r: ReportInput) -> list[Block]:
    plan, results = r.plan, r.results
    failed = int((results["status"] == FAILED).sum())
    scenarios = []
    for name in dict.fromkeys(c.scenario.name for c in plan.cells):
        cell = next(c for c in plan.cells if c.scenario.name == name)
        first = cell.scenario.seed
        scenarios.append(
            f"{name}: {cell.scenario.vaults.count:,} vaults, seeds {first} to "
            f"{first + plan.spec.seeds - 1} (mod 2^64)"
        )
    rows = [
        ("scenarios", "; ".join(scenarios)),
        ("runs per cell", f"{plan.spec.seeds:,} (one per seed)"),
        ("cells", f"{len(plan.cells):,}"),
        (
            "runs",
            f"{len(results):,} of {plan.total:,}: {len(results) - failed:,} ok, {failed:,} failed",
        ),
    ]
    rows += [(f"grid: {d.name}", ", ".join(d.labels())) for d in plan.spec.grid]
    return [
        Heading("Sweep"),
        Table(("", ""), rows),
        Text(
            f"Every run is the off-chain model's replay of its scenario with the cell's values "
            f"and its seed; amounts in {r.stable}. Insolvency: a run's realized bad debt (the "
            "loss of the auctions that finished) plus the shortfall of what it left open at its "
            "end (auctions still running, unsafe vaults not liquidated), their collateral sold "
            "into the scenario's market in the keepers' order (docs/simulation.md; the column "
            "insolvency_last_price has the last-price mark). VaR_q: the insolvency that a share "
            "q of the runs stay at or below; CVaR_q (expected shortfall): the mean of the worst "
            "1 - q of the runs. Intervals (95%): VaR's from the order statistics (they cover the "
            "true quantile whatever the distribution; 'unbounded' when the runs cannot bound it "
            "above), the mean's and CVaR's percentile bootstrap over the cell's runs (CVaR "
            "unbounded above wherever VaR is). Each run's oracle phase is drawn from its seed "
            "unless the grid sets it (results' oracle_phase; docs/sweeps.md): a cell's runs "
            "cover every phase of the oracle's period once it has as many seeds as phases. The "
            "per-cell table leads with the insolvency over the phases, as a replay's headline "
            "does: the median of the phases' mean insolvency, the worst phase's beside it; a "
            "cell whose runs cover fewer phases says so."
        ),
        *_sample_size_blocks(r),
    ]


def _sample_size_blocks(r: ReportInput) -> list[Block]:
    """What the number of runs per cell can and cannot say."""
    n = min((s.runs for s in r.stats if s.runs), default=0)
    if not n:
        return []
    items = []
    for q, label in ((Q95, "95"), (Q99, "99")):
        if var_is_worst_run(q, n):
            items.append(
                f"VaR{label} is the worst run of the cell: too few runs for it (the "
                f"{float(q):.0%} quantile of {n:,} runs is their maximum); it needs at least "
                f"{WORST_RUN_UNTIL[q]:,} runs per cell to be anything else, and "
                f"{BOUNDED_FROM[q]:,} for its interval to have an upper bound."
            )
        elif n < BOUNDED_FROM[q]:
            items.append(
                f"VaR{label}'s interval has no upper bound below {BOUNDED_FROM[q]:,} runs per "
                f"cell (here {n:,}): the runs cannot say how much worse it may be."
            )
        if cvar_is_worst_run(q, n):
            items.append(
                f"CVaR{label} is the worst run alone (fewer than {CVAR_WORST_RUN_UNTIL[q]:,} "
                "runs per cell)."
            )
    if not items:
        return []
    return [
        Text(
            f"Sample size ({n:,} runs in the smallest cell; figures marked * below are the worst "
            "run):",
            label="Too few runs",
        ),
        Bullets(items),
    ]


def _verification_blocks(r: ReportInput) -> list[Block]:
    blocks: list[Block] = [Heading("Checked on chain")]
    if r.verify_requested == 0:
        return blocks + [Text("Not re-checked on chain (--verify 0).")]
    if not r.verifications:
        return blocks + [Text("No successful run to re-check on chain.")]
    names = r.plan.names
    rows = []
    for v in r.verifications:
        cell = r.plan.cells[v.cell]
        if v.error:
            verdict = f"NOT CHECKED: {v.error}"
        elif v.differences:
            verdict = f"DISAGREE: {v.differences:,} differences; first: " + " | ".join(
                v.first_differences[:2]
            )
        else:
            verdict = (
                f"0 differences: {v.transactions:,} transactions, {v.events:,} events, "
                f"{v.bars:,} bar snapshots, {v.state_values:,} state values in "
                f"{v.state_checks:,} full-state checks"
            )
        figures = (
            "equal to the chain run's"
            if not v.figures_differ and not v.error
            else "-"
            if v.error
            else f"DIFFER: {', '.join(v.figures_differ)}"
        )
        rows.append(
            (
                str(v.run),
                f"{cell.scenario.name}: {cell_label(names, cell.values)}",
                str(v.seed),
                verdict,
                figures,
            )
        )
    agree = sum(v.ok for v in r.verifications)
    return blocks + [
        Text(
            f"{len(r.verifications)} runs chosen at random, re-run on a private Anvil and in the "
            f"model with the complete state compared every {FULL_CHECK_EVERY} bars: "
            f"{agree} of {len(r.verifications)} reconcile with 0 differences and give the "
            "sweep's figures."
        ),
        Table(("run", "cell", "seed", "chain vs model", "sweep's figures"), rows),
    ]


def _recommendation_blocks(r: ReportInput) -> list[Block]:
    blocks: list[Block] = [Heading("Recommendation")]
    limit = float(r.max_borrower_cost) if r.max_borrower_cost is not None else None
    names = r.plan.names
    items = []
    by = r.rank_by
    what = FIGURE_NAMES[by]
    k = lambda statistic: figure_key(by, statistic)  # noqa: E731
    for scenario in dict.fromkeys(s.scenario for s in r.stats):
        stats = [s for s in r.stats if s.scenario == scenario]
        rec = recommend(stats, limit, by)
        constraint = (
            f"mean borrower cost at most {_pct(limit)} of the vaults' debt"
            if limit is not None
            else "no borrower-cost constraint given (--max-borrower-cost)"
        )
        best, eligible = rec.lowest, rec.eligible
        if best is None:
            costed = [
                s for s in stats if s.runs and s.figures["borrower_cost_rate_mean"] is not None
            ]
            cheapest = min(
                costed, key=lambda s: (s.figures["borrower_cost_rate_mean"], s.cell), default=None
            )
            lowest = (
                f"; the lowest is {_pct(cheapest.figures['borrower_cost_rate_mean'])}, in "
                f"{cell_label(names, cheapest.values)}"
                if cheapest is not None
                else ""
            )
            items.append(f"{scenario}: no cell meets the constraint ({constraint}{lowest}).")
            continue
        f = best.figures
        tied = [s for s in eligible_cells(stats, limit) if rank(s, by) == rank(best, by)]
        if len(tied) == eligible > 1:
            # a choice among equals would be the cell order's, not the runs': recommend none
            items.append(
                f"{scenario}: no cell stands out: all {eligible} cells that meet the constraint "
                f"({constraint}) have the same {what} (VaR95 {format_amount(f[k('var95')])}, "
                f"mean {format_amount(f[k('mean')])}) and borrower cost, so these runs do not "
                "separate them"
                + (
                    f" (no run had any {what}: more vaults, more seeds or a harsher scenario would)"
                    if f[k("var95")] == 0 and f[k("mean")] == 0
                    else ""
                )
                + ". No difference at this sample size."
            )
            continue
        tail = (
            f"(realized bad debt {format_amount(f['realized_mean'])}, "
            f"{f['open_auctions_mean']:,.1f} auctions still running at the end on average), "
            f"mean borrower cost {_pct(f['borrower_cost_rate_mean'])}"
        )
        figures = (
            f"VaR95 {_ci(f, 'var95')}, mean insolvency {format_amount(f['mean'])} {tail}"
            if by == HEADLINE
            else f"VaR95 {_ci(f, k('var95'))}, mean {what} {format_amount(f[k('mean')])}; "
            f"insolvency VaR95 {format_amount(f['var95'])}, mean {format_amount(f['mean'])} "
            f"{tail}"
        ) + _phase_note(r, best)
        if rec.cell is None:
            rivals = rec.overlapping
            shown_rivals = "; ".join(
                f"{cell_label(names, o.values)}: VaR95 {_ci(o.figures, k('var95'))}"
                for o in rivals[:5]
            ) + (f"; and {len(rivals) - 5} more" if len(rivals) > 5 else "")
            if rec.seeds_needed is None:
                more = (
                    "their point estimates are equal, so no number of seeds is known to separate "
                    "them"
                    + (
                        f" (no run had any {what}: more vaults or a harsher scenario would say "
                        "more)"
                        if f[k("var95")] == 0 and f[k("mean")] == 0
                        else ""
                    )
                )
            else:
                more = (
                    f"{'at least ' if rec.at_least else 'about '}{rec.seeds_needed:,} seeds per "
                    f"cell (here {best.runs:,}) would be needed to separate them"
                    + (
                        " (an interval is unbounded: no estimate beyond the runs that bound it)"
                        if rec.at_least
                        else " (an estimate: intervals narrow as 1 / sqrt(runs))"
                    )
                )
            items.append(
                f"{scenario}: no difference at this sample size. Of the cells with "
                f"{constraint} ({eligible} of {len(stats)} qualify), "
                f"{cell_label(names, best.values)} has the lowest "
                f"{'VaR95' if by == HEADLINE else what + ' VaR95'} ({figures}), but its 95% "
                f"interval overlaps that of {len(rivals)} other cell"
                f"{'s' if len(rivals) > 1 else ''} ({shown_rivals}); {more}. No cell is "
                "recommended."
            )
            continue
        items.append(
            f"{scenario}: lowest {what} VaR95 with {constraint} ({eligible} of "
            f"{len(stats)} cells qualify)"
            + (", its 95% interval below every other's" if eligible > 1 else "")
            + f": {cell_label(names, best.values)}: {figures}"
        )
    idle = idle_keys(r.stats, names)
    if idle:
        items.append(
            f"Changed no figure: {', '.join(idle)}. Cells that differ in such a key alone give "
            "the same results, so these runs say nothing about its value (e.g. no vault of "
            "that type was liquidated, or no run was insolvent)."
        )
    return blocks + [Bullets(items)]


def _period(r: ReportInput, s: CellStats) -> int:
    """How many phases the oracle's period has on the bars of cell `s`'s scenario."""
    cell = next(c for c in r.plan.cells if c.index == s.cell)
    return len(period_phases(cell.scenario))


def _phases_covered(r: ReportInput, s: CellStats) -> str:
    """Which of the oracle's phases the cell's runs cover: "6 of 6", or the ones they do."""
    f, n = s.figures, _period(r, s)
    if "phases" not in f:
        return "-"
    k = int(f["phases"])
    if k >= n:
        return f"{k} of {n}"
    named = ", ".join(f"{int(p):,}" for p in f["phase_means"])
    return f"{k} of {n}: {named} s"


def _over_phases(r: ReportInput, s: CellStats) -> str:
    """The cell's lead figure: the median of its phases' mean insolvency, the worst phase's
    beside it; a cell of one phase says so instead of pretending a distribution."""
    f = s.figures
    if "phases" not in f:
        return "-"
    if int(f["phases"]) == 1:
        (phase,) = f["phase_means"]
        return (
            f"{format_amount(f['phase_median'])} (one phase, {int(phase):,} s: not a "
            "distribution over the phases)"
        )
    return (
        f"{format_amount(f['phase_median'])}; worst {format_amount(f['phase_worst'])} "
        f"({int(f['phase_worst_phase']):,} s)"
    )


def _phase_note(r: ReportInput, s: CellStats) -> str:
    """The recommendation's words on the oracle's phases of a cell's runs."""
    f, n = s.figures, _period(r, s)
    if "phases" not in f:
        return ""
    k = int(f["phases"])
    if k >= n:
        return (
            f"; over the oracle's {n} phases, the median phase's mean insolvency "
            f"{format_amount(f['phase_median'])}, the worst {format_amount(f['phase_worst'])} "
            f"({int(f['phase_worst_phase']):,} s)"
        )
    return (
        f"; its runs cover only {k} of the oracle's {n} phases "
        f"({_phases_covered(r, s).split(': ')[1]}"
        + ("; one phase is not a distribution over them" if k == 1 else "")
        + f"): at least {n} seeds per cell sample every phase, unless the grid or the scenario "
        "sets one"
    )


def _cell_rows(r: ReportInput) -> list[tuple[CellStats, str]]:
    many = len({s.scenario for s in r.stats}) > 1
    return [
        (s, (f"{s.scenario}: " if many else "") + cell_label(r.plan.names, s.values))
        for s in r.stats
    ]


def _bad_debt_blocks(r: ReportInput) -> list[Block]:
    rows = []
    for s, label in _cell_rows(r):
        f = s.figures
        runs = f"{s.runs:,}" + (f" ({s.failed:,} failed)" if s.failed else "")
        if not s.runs:
            rows.append((label, runs, *("-",) * 11))
            continue
        rows.append(
            (
                label,
                runs,
                _phases_covered(r, s),
                _over_phases(r, s),
                _ci(f, "mean"),
                _ci(f, "var95"),
                _ci(f, "var99"),
                _ci(f, "cvar95"),
                _ci(f, "cvar99"),
                format_amount(f["realized_mean"]),
                format_amount(f["realized_var95"]),
                f"{f['open_auctions_mean']:,.1f}",
                _pct(f["p_insolvent"]),
            )
        )
    return [
        Heading("Insolvency per cell"),
        Table(
            (
                "cell",
                "runs",
                "oracle phases",
                "over the phases: the median phase's mean (the worst phase's)",
                "mean",
                "VaR95",
                "VaR99",
                "CVaR95",
                "CVaR99",
                "realized mean",
                "realized VaR95",
                "auctions running at the end (mean)",
                "runs insolvent",
            ),
            rows,
            numeric=(1, *range(3, 13)),
        ),
        Text(
            "Over the phases: the cell's runs grouped by their oracle phase, each phase's mean "
            "insolvency, the median of those (the lead figure, as a replay's headline is the "
            "median over the phases) and the worst phase's beside it; the mean, VaR and CVaR are "
            "over every run of the cell, its phases and seeds together. Realized: the bad debt "
            "of the auctions that finished, which is all the waterfall has paid; a cell whose "
            "runs end with many auctions still running has a low realized figure that its "
            "insolvency corrects."
        ),
    ]


def _sized_figures(r: ReportInput) -> list[str]:
    """The SIZED figures beside insolvency the report tabulates: what no layer paid, the
    holders' loss, and the layers that paid anything in some cell (else the first four)."""
    return ["uncovered", "holders_loss", *(f"paid_{layer}" for layer in _layers_shown(r))]


def _sized_blocks(r: ReportInput) -> list[Block]:
    """What a backstop is sized by, per cell: for each of `_sized_figures`, its mean, VaR and ES
    with their 95% intervals, as the insolvency table has them."""
    blocks: list[Block] = [
        Heading("What a backstop is sized by, per cell"),
        Text(
            "Insolvency is counted before the waterfall pays, so a backstop's size cannot show "
            "in it. These are what it changes: what each layer paid of the realized bad debt, "
            "what no layer paid (unpaid), and the loss borne by stablecoin holders (unpaid + "
            "what global settlement put on them + the marked shortfall of what is still open at "
            "the end; docs/sweeps.md). Each with its mean, VaR and expected shortfall per cell "
            "and their 95% intervals, as insolvency's above"
            + (
                f"; the recommendation, the heatmaps and the histograms rank by "
                f"{FIGURE_NAMES[r.rank_by]} (--rank-by)."
                if r.rank_by != HEADLINE
                else " (--rank-by uncovered or holders_loss ranks the cells by one of them)."
            )
        ),
    ]
    for figure in _sized_figures(r):
        k = lambda statistic, figure=figure: figure_key(figure, statistic)  # noqa: E731
        rows = []
        for s, label in _cell_rows(r):
            f = s.figures
            if not s.runs:
                rows.append((label, *("-",) * 5))
                continue
            rows.append(
                (
                    label,
                    _ci(f, k("mean")),
                    _ci(f, k("var95")),
                    _ci(f, k("var99")),
                    _ci(f, k("cvar95")),
                    _ci(f, k("cvar99")),
                )
            )
        blocks += [
            Heading(FIGURE_NAMES[figure][0].upper() + FIGURE_NAMES[figure][1:], level=3),
            Table(
                ("cell", "mean", "VaR95", "VaR99", "CVaR95", "CVaR99"),
                rows,
                numeric=(1, 2, 3, 4, 5),
            ),
        ]
    return blocks


def _loss_parts_blocks(r: ReportInput) -> list[Block]:
    """Where each cell's realized loss came from (means per run): what explains a direction."""
    rows = []
    for s, label in _cell_rows(r):
        f = s.figures
        if not s.runs:
            rows.append((label, *("-",) * (len(LOSS_PARTS) + 1)))
            continue
        rows.append(
            (
                label,
                format_amount(f["realized_mean"]),
                *(format_amount(f[f"loss_{part}_mean"] or 0.0) for part in LOSS_PARTS),
            )
        )
    return [
        Heading("Where the realized loss came from, per cell"),
        Table(("cell", "realized mean", *LOSS_PARTS), rows, numeric=tuple(range(1, 6))),
        Text(
            "Means per run. "
            + "; ".join(f"{name}: {what}" for name, what in LOSS_PARTS.items())
            + ". Per auction they add up to its loss (docs/simulation.md); a part can be "
            "negative when the price rose."
        ),
    ]


def _liquidation_blocks(r: ReportInput) -> list[Block]:
    rows = []
    for s, label in _cell_rows(r):
        f = s.figures
        if not s.runs:
            rows.append((label,) + ("-",) * 7)
            continue
        cleared = f.get("time_to_clear_mean_s")
        rows.append(
            (
                label,
                f"{f['vaults_liquidated_mean']:,.1f}",
                format_amount(f["lar95"]),
                _wait(f),
                _pct(f["clearing_discount_mean"]),
                _pct(f["borrower_cost_rate_mean"]),
                f"{_pct(f['staker_loss_share_mean'])} / {_pct(f['staker_loss_share_max'])}",
                f"{cleared / 3600:,.1f} h" if cleared is not None else "-",
            )
        )
    return [
        Heading("Liquidations and borrowers"),
        Table(
            (
                "cell",
                "vaults liquidated (mean)",
                "liquidations at risk (LaR95)",
                "unsafe to liquidated: median run's median (never liquidated: share)",
                "clearing discount",
                "borrower cost (of debt)",
                "stakers' loss (mean / max of stake)",
                "time to clear (mean of the runs that cleared)",
            ),
            rows,
            numeric=(1, 2, 3, 4, 5, 6, 7),
        ),
        Text(
            "LaR95: the collateral value liquidated (at the market price of its bar) that 95% of "
            "the runs stay at or below. Clearing discount: 1 - the volume-weighted take price / "
            "market price. Borrower cost: what liquidated borrowers lost beyond their debt (the "
            "collateral sold, at the market, less the debt seized, per auction, when positive) "
            "plus what redistribution charged vaults, over the population's starting debt. Time "
            "to clear: from the first liquidation to the last auction's close; a run with "
            "auctions still running at its end did not clear (the insolvency table counts them). "
            "Unsafe to liquidated: each run's Kaplan-Meier median wait, a vault left unsafe and "
            "never liquidated counted as waiting at least until the run's end (censored, not "
            "dropped); 'not reached' when more than half the unsafe vaults of the median run "
            "were never liquidated; then the share of every unsafe vault of the cell's runs "
            "that was never liquidated."
        ),
    ]


def _wait(f: dict[str, Any]) -> str:
    median = f.get("delay_km_median_s")
    share = f.get("never_liquidated_share")
    if share is None:
        return "- (no vault unsafe)"
    shown = "not reached" if median is not None and math.isinf(median) else _duration(median)
    return f"{shown} ({_pct(share)})"


def _layers_shown(r: ReportInput) -> list[str]:
    shown = [
        layer
        for layer in LAYERS
        if any((s.figures.get(f"paid_{layer}_mean") or 0) > 0 for s in r.stats)
    ]
    return shown or list(LAYERS[:4])


def _who_paid_blocks(r: ReportInput) -> list[Block]:
    layers = _layers_shown(r)
    rows = []
    for s, label in _cell_rows(r):
        f = s.figures
        if not s.runs:
            rows.append((label,) + ("-",) * (len(layers) + 2))
            continue
        cells = [
            f"{format_amount(f[f'paid_{layer}_mean'])} ({_pct(f[f'paid_{layer}_share'])}); VaR95 "
            f"{format_amount(f[f'paid_{layer}_var95'])}"
            for layer in layers
        ]
        kinds = f["largest_payer_kinds"]
        top = max(sorted(kinds), key=lambda k: kinds[k])
        rows.append(
            (
                label,
                *cells,
                format_amount(f["uncovered_mean"]),
                f"{top} in {kinds[top]:,} of {s.runs:,} runs",
            )
        )
    return [
        Heading("Who paid"),
        Table(
            ("cell", *layers, "unpaid (mean)", "largest payer most often"),
            rows,
            numeric=tuple(range(1, len(layers) + 2)),
        ),
        Text(
            "Per layer: the mean paid per run, its share of the cell's realized bad debt, and "
            "its VaR95 over the runs (each with its intervals under 'What a backstop is sized "
            "by'). Unpaid: realized bad debt no layer has paid by the end."
        ),
    ]


def _types_blocks(r: ReportInput) -> list[Block]:
    """Contagion across the sweep's cells: per collateral type, its mean insolvency and share of
    the cell's, its realized bad debt and liquidations, and who paid its loss (means per run)."""
    types = r.plan.collateral_types
    if not types:
        return []
    layers = _layers_shown(r)
    rows = []
    for s, label in _cell_rows(r):
        f = s.figures
        for name in types:
            if f"insolvency@{name}_mean" not in f:
                continue
            rows.append(
                (
                    label,
                    name,
                    format_amount(f[f"insolvency@{name}_mean"]),
                    _pct(f[f"insolvency@{name}_share"]),
                    format_amount(f[f"realized_bad_debt@{name}_mean"]),
                    f"{f[f'liquidations@{name}_mean']:,.1f}",
                    *(format_amount(f[f"paid_{layer}@{name}_mean"]) for layer in layers),
                )
            )
    return [
        Heading("Per collateral type: whose crash, who paid"),
        Table(
            (
                "cell",
                "type",
                "insolvency (mean)",
                "share of the cell's",
                "realized (mean)",
                "liquidations (mean)",
                *(f"paid by {layer} (mean)" for layer in layers),
            ),
            rows,
            numeric=tuple(range(2, 6 + len(layers))),
        ),
        Text(
            "Each type's own loss, and what each waterfall layer paid of it, per run (means): the "
            "insurance fund, the stability pool and the debt auction are shared by every type, so "
            "a loss on one type can be paid from income or capital another type brought "
            "(results.csv has each run's `<figure>@<type>` columns)."
        ),
    ]


def _failure_blocks(r: ReportInput) -> list[Block]:
    failed = r.results[r.results["status"] == FAILED]
    if not len(failed):
        return []
    counts = failed["error"].str.split(":").str[0].value_counts()
    rows = [
        (str(row.run), str(row.cell), str(row.seed), str(row.error))
        for row in failed.head(MAX_FAILURES_SHOWN).itertuples()
    ]
    more = len(failed) - len(rows)
    return [
        Heading("Failed runs"),
        Text(
            f"{len(failed):,} runs failed ("
            + ", ".join(f"{k}: {v:,}" for k, v in sorted(counts.items()))
            + "); they are in results.parquet with their error and count in no figure."
            + (f" The first {len(rows)}:" if more else "")
        ),
        Table(("run", "cell", "seed", "error"), rows),
    ]


# ---------------------------------------------------------------- plots


def _save(fig: Any, path: Path) -> None:
    try:
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        pyplot().close(fig)


def _scenario_results(r: ReportInput, scenario: str) -> pd.DataFrame:
    res = r.results
    return res[(res["scenario"] == scenario) & (res["status"] == OK)]


def _heatmaps(r: ReportInput, root: Path) -> list[tuple[str, str]]:
    """(image name, caption) of every heatmap written: the VaR95 of the ranked figure
    (`r.rank_by`)."""
    out = []
    what = FIGURE_NAMES[r.rank_by]
    dims = [d for d in r.plan.spec.grid if len(d.values) > 1]
    for i, scenario in enumerate(dict.fromkeys(c.scenario.name for c in r.plan.cells)):
        ok = _scenario_results(r, scenario)
        for a, b in itertools.combinations(dims, 2):
            rows_, cols_ = list(a.labels()), list(b.labels())
            if r.results[f"grid.{a.name}"].eq("-").any():
                rows_.append("-")
            if r.results[f"grid.{b.name}"].eq("-").any():
                cols_.append("-")
            matrix = np.full((len(rows_), len(cols_)), np.nan)
            labels: dict[tuple[int, int], str] = {}
            for (va, vb), group in ok.groupby([f"grid.{a.name}", f"grid.{b.name}"]):
                x = np.sort(group[r.rank_by].to_numpy(dtype=float))
                y_, x_ = rows_.index(str(va)), cols_.index(str(vb))
                matrix[y_, x_] = float(var(x, Q95))
                labels[(y_, x_)] = _heat_label(x)
            # the grid names may hold a type's name (key@TYPE), any text: the file is numbered
            name = f"heatmap_{i}"
            pooled = len(dims) > 2
            fig, ax = pyplot().subplots(figsize=(3.0 + 2.4 * len(cols_), 1.8 + 1.0 * len(rows_)))
            # the scale starts at zero: a pale cell is a small figure, not the smallest
            top = float(np.nanmax(matrix)) if np.isfinite(matrix).any() else 0.0
            image = ax.imshow(matrix, cmap="Reds", aspect="auto", vmin=0, vmax=max(top, 1.0))
            for (y, x), value in np.ndenumerate(matrix):
                dark = not np.isnan(value) and value > 0.55 * max(top, 1.0)
                ax.text(
                    x,
                    y,
                    "-" if np.isnan(value) else labels[(y, x)],
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
            ax.set_xticks(range(len(cols_)), [_wrapped(shown(c)) for c in cols_])
            ax.set_yticks(range(len(rows_)), [_wrapped(shown(r)) for r in rows_])
            ax.set_xlabel(b.name)
            ax.set_ylabel(a.name)
            ax.set_title(
                f"VaR95 of {what} [{r.stable}], {scenario}\n"
                "[95% interval; * the worst run: too few runs]",
                fontsize=10,
            )
            if top > 0:
                fig.colorbar(image, ax=ax, format=ticker().StrMethodFormatter("{x:,.0f}"))
            else:  # no scale to read: every cell is 0
                ax.set_xlabel(f"{b.name} (every run of every cell: 0)")
            _save(fig, root / f"{name}.png")
            caption = (
                f"{scenario}: VaR95 of {what} over {a.name} x {b.name}, each with its 95% "
                "order-statistic interval ('unbounded': the runs cannot bound it above)"
                + (" (the runs of every value of the other grid keys pooled)" if pooled else "")
            )
            out.append((name, caption))
    return out


def _wrapped(label: str, width: int = 18) -> str:
    """A long grid value (a waterfall order) over several lines, broken after its '+'."""
    if len(label) <= width:
        return label
    lines, line = [], ""
    for part in label.split("+"):
        piece = part if not line else f"+{part}"
        if line and len(line) + len(piece) > width:
            lines.append(line + "+")
            line = part
        else:
            line += piece
    return "\n".join([*lines, line])


def _heat_label(x: np.ndarray) -> str:
    """A heatmap cell's text: VaR95 (marked * when it is the worst run) and its interval."""
    lo, hi = var_interval(x, Q95)
    worst = "*" if var_is_worst_run(Q95, len(x)) else ""
    low = "-" if lo is None else f"{lo:,.0f}"
    high = "unbounded" if hi is None else f"{hi:,.0f}"
    return f"{float(var(x, Q95)):,.0f}{worst}\n[{low} to {high}]\n{len(x):,} runs"


def _histograms(r: ReportInput, root: Path) -> list[tuple[str, str]]:
    """Per cell, the ranked figure (`r.rank_by`) of every run."""
    out = []
    names = r.plan.names
    what, column = FIGURE_NAMES[r.rank_by], r.rank_by
    for i, scenario in enumerate(dict.fromkeys(c.scenario.name for c in r.plan.cells)):
        stats = [s for s in r.stats if s.scenario == scenario]
        ok = _scenario_results(r, scenario)
        top = float(ok[column].max()) if len(ok) else 0.0
        bins = np.linspace(0.0, top if top > 0 else 1.0, 21)
        for page in range(0, len(stats), HISTOGRAMS_PER_FIGURE):
            chunk = stats[page : page + HISTOGRAMS_PER_FIGURE]
            columns = min(4, len(chunk))
            lines = -(-len(chunk) // columns)
            # one grid value per line of a subplot's title
            title_lines = max(1, len(names))
            fig, axes = pyplot().subplots(
                lines,
                columns,
                figsize=(3.6 * columns, (2.4 + 0.15 * title_lines) * lines),
                squeeze=False,
            )
            for ax, s in zip(axes.flat, chunk):
                x = ok.loc[ok["cell"] == s.cell, column].to_numpy(dtype=float)
                if len(x) and not x.any():
                    # no bar for an all-zero cell: a sentence says it
                    ax.text(
                        0.5,
                        0.5,
                        f"every one of {len(x):,} runs: 0",
                        ha="center",
                        va="center",
                        transform=ax.transAxes,
                        fontsize=8,
                    )
                    ax.set_xticks([])
                    ax.set_yticks([])
                else:
                    ax.hist(x, bins=bins, color="tab:red", alpha=0.75)
                    ax.xaxis.set_major_formatter(ticker().StrMethodFormatter("{x:,.0f}"))
                    ax.set_ylabel("runs", fontsize=7)
                    ax.yaxis.set_major_locator(ticker().MaxNLocator(integer=True))
                    ax.xaxis.set_major_locator(ticker().MaxNLocator(4))
                    ax.set_xlabel(f"{what} [{r.stable}]", fontsize=7)
                    ax.tick_params(labelsize=7)
                if s.runs and x.any():
                    var95 = s.figures[figure_key(column, "var95")]
                    ax.axvline(var95, color="black", linestyle="--", linewidth=1)
                ax.set_title(
                    "\n".join(f"{n}={shown(v)}" for n, v in zip(names, s.values)) or s.scenario,
                    fontsize=7,
                )
            for ax in list(axes.flat)[len(chunk) :]:
                ax.axis("off")
            fig.suptitle(
                f"{what[0].upper() + what[1:]} per run [{r.stable}], {scenario} (dashed: VaR95)",
                fontsize=10,
            )
            name = f"histograms_{i}_{page // HISTOGRAMS_PER_FIGURE}"
            _save(fig, root / f"{name}.png")
            out.append((name, f"{scenario}: {what} per run, one histogram per cell"))
    return out


def _who_paid_plot(r: ReportInput, root: Path) -> list[tuple[str, str]]:
    out = []
    names = r.plan.names
    for i, scenario in enumerate(dict.fromkeys(c.scenario.name for c in r.plan.cells)):
        stats = [s for s in r.stats if s.scenario == scenario and s.runs][::-1]  # first on top
        if not stats:
            continue
        labels = [cell_label(names, s.values) for s in stats]
        fig, ax = pyplot().subplots(figsize=(10, 1.5 + 0.35 * len(stats)))
        left = np.zeros(len(stats))
        for layer in (*LAYERS, "uncovered"):
            key = f"paid_{layer}_mean" if layer != "uncovered" else "uncovered_mean"
            values = np.array([max(s.figures.get(key) or 0.0, 0.0) for s in stats])
            if values.any():
                shown_as = "unpaid" if layer == "uncovered" else layer
                ax.barh(labels, values, left=left, color=COLORS[layer], label=shown_as)
                left += values
        if left.any():
            ax.legend(loc="best", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.xaxis.set_major_formatter(ticker().StrMethodFormatter("{x:,.0f}"))
        ax.set_xlabel(f"mean realized bad debt paid per run [{r.stable}]")
        ax.set_title(f"Who paid, per cell, {scenario}", fontsize=10)
        name = f"who_paid_{i}"
        _save(fig, root / f"{name}.png")
        out.append((name, f"{scenario}: the mean paid per layer, per cell"))
    return out


# ---------------------------------------------------------------- writing


def cells_table(r: ReportInput) -> pa.Table:
    """One row per cell: its scenario, grid values, run counts and every figure."""
    keys: list[str] = []
    for s in r.stats:
        keys += [k for k in s.figures if k not in keys]
    rows = []
    for s in r.stats:
        row: dict[str, Any] = {"cell": s.cell, "scenario": s.scenario}
        row |= {f"grid.{n}": v for n, v in zip(r.plan.names, s.values)}
        row |= {"runs": s.runs, "failed": s.failed}
        for k in keys:
            value = s.figures.get(k)
            row[k] = json.dumps(value, sort_keys=True) if isinstance(value, dict) else value
        rows.append(row)
    return pa.Table.from_pylist(rows)


def write_report(root: Path, r: ReportInput) -> Path:
    """cells.*, plots/ and summary.md/.html into the sweep's directory `root`; the summary's
    path. Plots are drawn into a hidden directory and swapped in whole."""
    partial = root / f".{PLOTS}.partial-{secrets.token_hex(4)}"
    partial.mkdir()
    try:
        heatmaps = _heatmaps(r, partial)
        histograms = _histograms(r, partial)
        who_paid = _who_paid_plot(r, partial)
        old = root / PLOTS
        if old.exists():
            shutil.rmtree(old)
        partial.rename(old)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    table = cells_table(r)
    atomic_write(root / CELLS, lambda p: pq.write_table(table, p))
    atomic_write(root / CELLS_CSV, lambda p: pacsv.write_csv(table, p))

    scenarios = ", ".join(dict.fromkeys(c.scenario.name for c in r.plan.cells))
    title = f"Backstop risk sweep: {scenarios}"
    images: list[Block] = []
    for name, caption in heatmaps + histograms + who_paid:
        images += [Text(caption), Image(name)]
    blocks: list[Block] = [
        Heading(title, level=1),
        *_sweep_blocks(r),
        *_verification_blocks(r),
        *_recommendation_blocks(r),
        *_bad_debt_blocks(r),
        *_sized_blocks(r),
        *_loss_parts_blocks(r),
        *_liquidation_blocks(r),
        *_who_paid_blocks(r),
        *_types_blocks(r),
        Heading("Plots"),
        *images,
        *_failure_blocks(r),
        Heading("Data"),
        Bullets(
            [
                f"{RESULTS}, {RESULTS_CSV}: one row per run (parameters, seed, status and error, "
                "bad debt, paid per layer, largest payer, liquidations, clearing discount, "
                "staker losses, borrower cost)",
                f"{RUNTIMES}: each run's wall-clock time and worker (not part of the results: "
                "it differs from one execution to the next)",
                f"{CELLS}, {CELLS_CSV}: one row per cell, every figure of this summary",
                f"{VERIFICATION}: the runs re-checked on chain",
                "runs/: the journal of finished runs a resumed sweep skips",
            ]
        ),
    ]
    atomic_write(root / SUMMARY_HTML, lambda p: p.write_text(to_html(blocks, title)))
    atomic_write(root / SUMMARY, lambda p: p.write_text(to_markdown(blocks)))
    return root / SUMMARY
