"""The oracle's phase as a stated factor (sim/scenario/timeline.py): one scenario replayed in the
model at every phase of the oracle's period, and the spread of its headline figures (min, median,
max). The report of a historical day leads with it (report/headline.py: the median over the
phases first, the worst beside it); the run it reports in its other sections is one phase, shown
in the phase table.

A replay's result depends on which bars the oracle's hourly price moves at; a single replay is
one of `period_phases` outcomes. `spread` runs them all (model only: a phase is a timing of the
same transactions, reconciled like any other run by `ape run simulate --oracle-phase P`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from offchain.report.documents import Block, Heading, Table, Text
from offchain.report.tables import format_amount
from offchain.sim.results.tables import SimulationResult
from offchain.sim.run.driver import simulate
from offchain.sim.scenario.timeline import oracle_phase, period_phases
from offchain.sim.scenario.types import Scenario
from offchain.sim.scenario.variants import with_phase

# the headline figures per phase: column -> (the result's fact, an amount (True) or a count);
# the lead figure (insolvency) and everything the headline shows beside it
HEADLINE: dict[str, tuple[str, bool]] = {
    "insolvency": ("insolvency", True),
    "realized_bad_debt": ("realized_bad_debt", True),
    "unsafe_vaults_left": ("unsafe_vaults_left", False),
    "open_auctions": ("open_auctions", False),
    "insolvency_mark": ("insolvency_mark", True),
    "insolvency_last_price": ("insolvency_last_price", True),
    "insolvency_pool_sale": ("insolvency_pool_sale", True),
    "open_auction_debt": ("open_auction_debt", True),
    "unsafe_vault_debt": ("unsafe_vault_debt", True),
    "unsafe_recovered": ("unsafe_recovered", False),
    # the headline's drain (sim/run/drain.py): its bars, the auctions its horizon left open
    "headline_drained_bars": ("headline_drained_bars", False),
    "auctions_open_at_horizon": ("auctions_open_at_horizon", False),
}
# the headline's figures besides insolvency, each given as its median over the phases
MEDIANS = (
    "insolvency_mark",
    "insolvency_last_price",
    "insolvency_pool_sale",
    "realized_bad_debt",
    "open_auctions",
    "open_auction_debt",
    "unsafe_vaults_left",
    "unsafe_vault_debt",
    "unsafe_recovered",
)
LABELS = {
    "insolvency": "insolvency",
    "realized_bad_debt": "realized bad debt",
    "unsafe_vaults_left": "unsafe vaults not liquidated",
    "open_auctions": "auctions running at the end",
    "liquidations": "liquidations",
}


def figures(result: SimulationResult) -> dict[str, float]:
    """A run's headline figures (HEADLINE, and its liquidations)."""
    f = result.facts
    # a result without the headline's drain (simulate(..., drain=False)): its headline is the
    # end-of-run mark, nothing drained, what was open at the end still open
    undrained = {
        "insolvency_mark": f.get("insolvency", 0.0),
        "headline_drained_bars": 0,
        "auctions_open_at_horizon": f.get("open_auctions", 0),
    }
    out = {
        column: float(f[fact] if fact in f else undrained[fact])
        for column, (fact, _) in HEADLINE.items()
    }
    out["liquidations"] = float(len(result.tables["liquidations"]))
    return out


def spread(
    scenario: Scenario,
    progress: Callable[[str, int, int], None] | None = None,
    done: dict[int, SimulationResult] | None = None,
) -> pd.DataFrame:
    """One row per phase of the oracle's period: `phase` [s] and the headline figures of the
    scenario's model run at that phase. `done`: runs already made, by phase (reused)."""
    rows = []
    for phase in period_phases(scenario):
        result = (done or {}).get(phase)
        if result is None:
            label = f"model, oracle phase {phase:,} s"
            result = simulate(
                with_phase(scenario, phase, "oracle phase"),
                "model",
                full_check_every=None,
                progress=(lambda d, t, label=label: progress(label, d, t)) if progress else None,
            )
        rows.append({"phase": phase, **figures(result)})
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per headline figure: min, median and max over the phases (the median of an even count is
    the mean of the middle two), and the phases at the min and the max."""
    rows = []
    for column in LABELS:
        x = table[column].to_numpy(dtype=float)
        rows.append(
            {
                "figure": column,
                "min": float(x.min()),
                "median": float(np.median(x)),
                "max": float(x.max()),
                "phase_min": int(table["phase"].iloc[int(x.argmin())]),
                "phase_max": int(table["phase"].iloc[int(x.argmax())]),
            }
        )
    return pd.DataFrame(rows)


def headline(table: pd.DataFrame, reported: int | None = None) -> dict[str, Any]:
    """The lead figure, the insolvency over the phases (report/headline.py): how many phases,
    the median, the worst and its phase, the best and its phase; the median over the phases of
    each figure the headline shows beside it (`<figure>_median`, MEDIANS); every phase's
    insolvency (`per_phase`: phase -> amount); and `reported`, the phase of the run the report
    is of (its other sections)."""
    x = table["insolvency"].to_numpy(dtype=float)
    out: dict[str, Any] = {
        "phases": len(table),
        "median": float(np.median(x)),
        "worst": float(x.max()),
        "worst_phase": int(table["phase"].iloc[int(x.argmax())]),
        "best": float(x.min()),
        "best_phase": int(table["phase"].iloc[int(x.argmin())]),
        "per_phase": {int(p): float(v) for p, v in zip(table["phase"], x)},
    }
    for column in MEDIANS:
        if column in table:
            out[f"{column}_median"] = float(np.median(table[column].to_numpy(dtype=float)))
    if reported is not None:
        out["reported_phase"] = int(reported)
    return out


def shown(column: str, value: float) -> str:
    """A headline figure as the report prints it (an amount, or a count)."""
    amount = HEADLINE.get(column, ("", False))[1]
    if amount:
        return format_amount(value)
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def blocks(scenario: Scenario, table: pd.DataFrame) -> list[Block]:
    """The report's section: the spread over the phases, then every phase's figures."""
    reported = oracle_phase(scenario)
    s = summary(table)
    rows = []
    for r in s.to_dict("records"):
        figure = str(r["figure"])
        rows.append(
            (
                LABELS[figure],
                *(shown(figure, float(r[k])) for k in ("min", "median", "max")),
                f"{int(r['phase_min']):,} s / {int(r['phase_max']):,} s",
            )
        )
    per_phase = [
        (
            f"{int(r['phase']):,} s" + (" (this report)" if int(r["phase"]) == reported else ""),
            *(shown(c, float(r[c])) for c in LABELS),
        )
        for r in table.to_dict("records")
    ]
    return [
        Heading("The oracle's phase"),
        Text(
            f"This run is one of {len(table)} phases of the oracle's period on these bars: the "
            "oracle's price moves once its delay has passed since the last poke, so which bars "
            "it moves at is a choice of the replay, and it moves the result. The same scenario "
            "in the model at every phase (this report's run: "
            f"{reported:,} s; the figures below are the model's):"
        ),
        Table(
            ("figure", "min", "median", "max", "phase at min / max"),
            rows,
            numeric=(1, 2, 3),
        ),
        Table(("oracle phase", *(LABELS[c] for c in LABELS)), per_phase, numeric=(1, 2, 3, 4, 5)),
    ]


def console_lines(table: pd.DataFrame, reported: int | None = None) -> list[str]:
    """One line per headline figure: min (its phase), median, max (its phase); then every
    phase's insolvency, `reported` (the report's run's phase) marked: the console's phase
    table, the only place the reported phase's own insolvency is printed."""
    out = []
    for r in summary(table).to_dict("records"):
        figure = str(r["figure"])
        out.append(
            f"oracle phases ({len(table)}): {LABELS[figure]} min {shown(figure, float(r['min']))} "
            f"(phase {int(r['phase_min']):,} s), median {shown(figure, float(r['median']))}, max "
            f"{shown(figure, float(r['max']))} (phase {int(r['phase_max']):,} s)"
        )
    out.append(
        f"oracle phases ({len(table)}): insolvency per phase: "
        + "; ".join(
            f"{int(r['phase']):,} s {shown('insolvency', float(r['insolvency']))}"
            + (" (this report's run)" if int(r["phase"]) == reported else "")
            for r in table.to_dict("records")
        )
    )
    return out
