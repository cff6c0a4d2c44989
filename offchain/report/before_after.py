"""The built-ins and a bare price CSV with the market closed (the lab before the open market),
open with flash takes into the keepers' pool only (the open market before flash takes reached the
venue: `market.flash_route = "pool"`) and open (docs/market.md), side by side: the table
docs/simulation.md shows, made by a command so that a test holds the page to it
(tests/sim/test_before_after.py). The headline is drained (sim/run/drain.py); the end-of-run
mark, the headline before, is beside it.

    python -m offchain.report.before_after [VAULTS]

prints the markdown table (model runs, 1,000 vaults by default: each built-in's own count). Each
row leads with its distribution over the oracle's phases (report/phases.py, as a replay's
headline does): every figure is its median over the phases of the oracle's period on the bars,
the headline's worst phase beside it; a synthetic path runs one phase, and its row says so.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from offchain.report.headline import starting_debt
from offchain.report.phases import figures, spread
from offchain.sim.results.tables import SimulationResult
from offchain.sim.run.driver import simulate
from offchain.sim.scenario.load import builtin_scenarios, load_scenario
from offchain.sim.scenario.timeline import oracle_phase

__all__ = ["BARE_CSV", "COLUMNS", "MARKETS", "markdown", "row", "runs"]

ROOT = Path(__file__).resolve().parents[2]
# a bare price CSV: the schema's defaults for everything else (its venue's share is 2021's)
BARE_CSV = ROOT / "data" / "market" / "eth_usd_2021-05-19.csv"
COLUMNS = (
    "scenario",
    "market",
    "oracle phases",
    "liquidations",
    "auctions running at the end",
    "realized bad debt",
    "insolvency at the last price",
    "end-of-run mark",
    "insolvency (headline: drained)",
    "of the starting debt",
    "the worst phase's insolvency",
    "the drain",
    "sold at once into the pool",
)


# the built-ins whose ETH market ran through the closed impact model before the open market
# (their files then: impact_depth 2,504,000 per side, a one-hour half-life)
CLOSED_IMPACT = {"may-2021-cascade", "may-2021-two-types"}


# the markets of the table: closed, open with flash takes into the pool only, open
MARKETS = ("closed", "open, pool route", "open")


def runs(vaults: int | None = None) -> list[tuple[str, str, SimulationResult, pd.DataFrame]]:
    """(label, market, result, phases) of every built-in and the bare CSV, closed (as before the
    open market: the closed impact where the built-in had it), open with the flash takes' venue
    route switched off, then open: the run at the scenario's own phase, and the figures of every
    phase of the oracle's period on its bars (report/phases.py `spread`; a synthetic path: that
    run's alone)."""
    specs = [*builtin_scenarios(), str(BARE_CSV)]
    out = []
    for spec in specs:
        label = "bare CSV (eth_usd_2021-05-19.csv)" if spec == str(BARE_CSV) else spec
        is_open = load_scenario(spec, vaults=vaults).market.outside == "open"
        for market in MARKETS:
            if market != "closed" and not is_open:
                continue  # a synthetic path has no venue: closed only
            overrides: dict[str, dict[str, object]] | None = None
            if market == "closed":
                closed: dict[str, object] = {"outside": "closed"}
                if spec in CLOSED_IMPACT:
                    closed |= {"impact_depth": "2_504_000", "impact_half_life": 3600}
                overrides = {"market": closed}
            elif market == "open, pool route":
                overrides = {"market": {"flash_route": "pool"}}
            scenario = load_scenario(spec, vaults=vaults, overrides=overrides)
            result = simulate(scenario, "model", full_check_every=None)
            if scenario.market.synthetic is None:
                table = spread(scenario, done={oracle_phase(scenario): result})
            else:
                table = pd.DataFrame([{"phase": oracle_phase(scenario), **figures(result)}])
            out.append((label, market, result, table))
    return out


def row(label: str, market: str, result: SimulationResult, table: pd.DataFrame) -> tuple[str, ...]:
    """The table's row of one run and its phases: each figure's median over the phases, the
    headline's worst phase beside its median."""
    debt = starting_debt(result)

    def median(column: str) -> float:
        return float(np.median(table[column].to_numpy(dtype=float)))

    def count(column: str) -> str:
        x = median(column)
        return f"{x:,.0f}" if x == int(x) else f"{x:,.1f}"

    n = len(table)
    insolvency = median("insolvency")
    worst: Any = table.loc[table["insolvency"].idxmax()]
    return (
        label,
        market,
        f"{n}" if n > 1 else f"1 ({_phase_of(table):,} s: a synthetic path)",
        count("liquidations"),
        count("open_auctions"),
        f"{median('realized_bad_debt'):,.2f}",
        f"{median('insolvency_last_price'):,.2f}",
        f"{median('insolvency_mark'):,.2f}",
        f"{insolvency:,.2f}",
        f"{insolvency / debt:.2%}" if debt else "n/a",
        f"{float(worst['insolvency']):,.2f} ({int(worst['phase']):,} s)" if n > 1 else "-",
        _drain(table, float(result.facts.get("bar_seconds", 600))),
        f"{median('insolvency_pool_sale'):,.2f}",
    )


def _phase_of(table: pd.DataFrame) -> int:
    """The phase of a table of one phase."""
    return int(table["phase"].iloc[0])


def _drain(table: pd.DataFrame, bar_seconds: float) -> str:
    """The headline's drain over the phases (`bar_seconds` a bar): nothing open at any phase's
    end; every phase cleared (the longest's hours); or the auctions the horizon left open (the
    median over the phases that left some) and in how many phases."""
    still = table["auctions_open_at_horizon"].to_numpy(dtype=float)
    bars = table["headline_drained_bars"].to_numpy(dtype=float)
    n, left = len(table), still > 0
    if not left.any():
        if not bars.any():
            return "nothing open"
        drained = int((bars > 0).sum())
        hours = float(bars.max()) * bar_seconds / 3600
        return f"cleared, the longest in {hours:,.1f} h" + (
            f" ({drained} of {n} phases drained)" if n > 1 else ""
        )
    median = float(np.median(still[left]))
    shown = f"{median:,.0f}" if median == int(median) else f"{median:,.1f}"
    return f"{shown} open after {int(bars.max()):,} bars" + (
        f" ({int(left.sum())} of {n} phases)" if n > 1 else ""
    )


def markdown(vaults: int | None = None) -> str:
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "| --- | --- | --- |" + " ---: |" * (len(COLUMNS) - 3),
    ]
    for label, market, result, table in runs(vaults):
        lines.append("| " + " | ".join(row(label, market, result, table)) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(int(sys.argv[1]) if len(sys.argv) > 1 else None))
