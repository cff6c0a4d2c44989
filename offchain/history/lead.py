"""Backstop's side of a history day led by its distribution over the oracle's phases, as the lab's
headline is (report/headline.py): the reconciled run is one phase of the oracle's period on the
day's bars, and its sensitivity runs the others in the model (backstop.sensitivity_tasks). Here:
the phase table those runs make, the facts that make the run's own report lead with it, the
comparison tables' insolvency cells (the median over the phases first, the worst beside it) and
the console's line. A run without its phases (a section built from one run) says it is one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from offchain.history.backstop import BackstopDay, BackstopFigures
from offchain.report.documents import Block
from offchain.report.headline import lead, one_phase_text
from offchain.report.phases import blocks as phase_blocks
from offchain.report.phases import headline as phase_headline
from offchain.sim.scenario.timeline import oracle_phase

__all__ = ["console_line", "insolvency_cells", "lead_with_phases", "phase_cell", "phase_table"]


def _m(x: float) -> str:
    return f"{x / 1e6:,.2f}M"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def phase_table(
    run: BackstopFigures, reported: int, others: list[tuple[int, BackstopFigures]]
) -> pd.DataFrame:
    """One row per phase (report/phases.py's table): the reconciled run at `reported` and each
    of `others` (phase, its model run's figures), by phase."""
    rows = [{"phase": reported, **run.headline}]
    rows += [{"phase": phase, **g.headline} for phase, g in others]
    return pd.DataFrame(rows).sort_values("phase", kind="stable").reset_index(drop=True)


def lead_with_phases(day: BackstopDay, others: list[tuple[int, BackstopFigures]]) -> list[Block]:
    """Make the reconciled run's facts lead with the phases (its report's headline and
    facts.json; the comparison's cells below) and return its report's phase section."""
    result = day.done.result
    reported = oracle_phase(day.scenario)
    table = phase_table(BackstopFigures.of(result), reported, others)
    result.facts["oracle_phase"] = reported
    result.facts["phases_insolvency"] = phase_headline(table, reported)
    return phase_blocks(day.scenario, table)


def insolvency_cells(
    b: BackstopFigures,
    facts: Mapping[str, Any],
    eve: float,
    pct: Callable[[float], str] = _pct,
    m: Callable[[float], str] = _m,
) -> tuple[str, str]:
    """The Backstop column's two insolvency cells, at the last price and sold on the market:
    the median over the oracle's phases (the worst beside the headline's) where the run has
    them, else the run's, said to be one phase; shares of the eve's debt `eve` as `pct` writes
    them and amounts as `m` does (the day's report's own)."""
    _pct, _m = pct, m
    p = lead(facts)
    if p is None:
        one = f"; {one_phase_text(facts).removeprefix('at ')}"
        return (
            f"{_m(b.insolvency_last_price)}, {_pct(b.insolvency_last_price / eve)}{one}",
            f"{_m(b.insolvency)}, {_pct(b.insolvency / eve)}{one}",
        )
    n, last = int(p["phases"]), float(p["insolvency_last_price_median"])
    return (
        f"{_m(last)}, {_pct(last / eve)}: the median over the oracle's {n} phases",
        f"{_m(p['median'])}, {_pct(p['median'] / eve)}: the median over the oracle's {n} "
        f"phases; worst {_m(p['worst'])}, {_pct(p['worst'] / eve)} ({p['worst_phase']:,} s)",
    )


def phase_cell(facts: Mapping[str, Any]) -> str:
    """The Backstop column's oracle phase: the reconciled run's, and what the insolvency rows
    are over."""
    p = lead(facts)
    phase = facts.get("oracle_phase")
    shown = f"{int(phase):,} s" if phase is not None else "one phase"
    if p is None:
        return f"{shown}, the run's alone"
    return (
        f"{shown}, one of the {int(p['phases'])} of the oracle's period on the bars: the rows' "
        "figures are this run's, the insolvency rows' the median over the phases (each in the "
        "sensitivity table)"
    )


def console_line(
    b: BackstopFigures,
    facts: Mapping[str, Any],
    eve: float,
    pct: Callable[[float], str] = _pct,
) -> str:
    """The console's line on Backstop's side: the lead figure first (the median over the
    phases, the worst beside it), then the reconciled run's open auctions; shares as `pct`
    writes them."""
    _pct = pct
    p = lead(facts)
    phase = facts.get("oracle_phase")
    run = f" (oracle phase {int(phase):,} s)" if phase is not None else ""
    if p is None:
        return (
            f"Backstop, the same eve and day: insolvency {_m(b.insolvency)} "
            f"({_pct(b.insolvency / eve)}) sold on the market {one_phase_text(facts)}, "
            f"{_m(b.insolvency_last_price)} at the last price; realized bad debt "
            f"{_m(b.realized)} ({_pct(b.realized / eve)}); {b.open_auctions:,} auctions still "
            "open"
        )
    realized = float(p["realized_bad_debt_median"])
    return (
        f"Backstop, the same eve and day: insolvency over the oracle's {int(p['phases'])} "
        f"phases, sold on the market: median {_m(p['median'])} ({_pct(p['median'] / eve)}), "
        f"worst {_m(p['worst'])} ({_pct(p['worst'] / eve)}, phase {p['worst_phase']:,} s); "
        f"medians: {_m(float(p['insolvency_last_price_median']))} at the last price, realized "
        f"bad debt {_m(realized)} ({_pct(realized / eve)}); the reconciled run{run}: "
        f"{b.open_auctions:,} auctions still open"
    )
