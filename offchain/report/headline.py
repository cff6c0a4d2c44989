"""A run's headline, one home for every place that shows it (the report's first table, the
console's first line, the report's facts.json, the phases' and history's lines): insolvency
(sim/run/drain.py: the open book at the end run out by the run's own keepers at the last price
until every auction clears or the horizon passes, what is still open then marked as
sim/results/insolvency.py marks) and its share of the debt the run started with, how the drain
went (the auctions open at the end, their time to clear or what the horizon left open), then the
two bounds beside it (the open book marked at the run's end: on the outside venue over the mark's
bars in an open market, into the closed market's depth otherwise, with no keeper and no block
space in the way; the open auctions' lots sold at once into the keepers' pool), what is still
open, and the market the run had.

**The lead figure is the distribution over the oracle's phases** (report/phases.py): which bars
the oracle's price moves at is a choice of the replay, and it moves the result. Where the run
measured every phase (the facts' `phases_insolvency`, `ape run simulate --phases all`, the
default for a real day), the headline leads with the median over the phases, the worst beside
it, and gives the median of every figure beside them (each phase's run drained as above); the
phase the report's other sections are of appears only in the phase table. Where the run has one
phase (`--phases one`, a synthetic path, a period the bars tell only one phase of), the headline
says so in its first line instead of pretending a distribution.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from offchain.sim.results.tables import SimulationResult

__all__ = [
    "drain_line",
    "headline_line",
    "headline_rows",
    "lead",
    "lead_facts",
    "market_line",
    "one_phase_text",
    "starting_debt",
]


def starting_debt(result: SimulationResult) -> float:
    """The vaults' debt when the run started [stablecoin, whole units]."""
    vaults = result.tables["vaults"]
    return float(vaults["debt_start"].sum()) if len(vaults) else 0.0


def _share(amount: float, debt: float) -> str:
    return f"{amount / debt:.1%}" if debt else "n/a"


def _count(x: float) -> str:
    """A count, or the median of counts (the mean of the middle two of an even number)."""
    return f"{x:,.0f}" if x == int(x) else f"{x:,.1f}"


def _plural(n: int, what: str) -> str:
    return f"{n:,} {what}" + ("" if n == 1 else "s")


def drain_line(f: Mapping[str, Any]) -> str:
    """How the headline's drain went (sim/run/drain.py): what was open at the run's end (running
    auctions, unsafe vaults), and the time the run's keepers took to clear it or what the horizon
    left open (marked)."""
    opened = int(f.get("open_auctions", 0))
    unsafe = int(f.get("unsafe_vaults_left", 0))
    horizon = int(f.get("drain_horizon", 0))
    bars = int(f.get("headline_drained_bars", 0))
    still = int(f.get("auctions_open_at_horizon", opened))
    still_unsafe = int(f.get("horizon_unsafe_vaults_left", unsafe))
    hours = bars * float(f.get("bar_seconds", 600)) / 3600
    at_end = (
        _plural(opened, "auction")
        + (f" and {_plural(unsafe, 'unsafe vault')}" if unsafe else "")
        + " open at the run's end"
    )
    if not opened and not unsafe:
        return "nothing open at the run's end" + (
            f" (its last {bars:,} bars a recorded drain)" if bars else ""
        )
    if not horizon and not bars:
        return f"{at_end}, not drained (drain horizon 0): the headline is the end-of-run mark"
    if not still and not still_unsafe:
        return (
            f"{at_end}, all cleared by the run's keepers at the last price in {hours:,.1f} h "
            f"({bars:,} bars)"
        )
    left = " and ".join(
        x
        for x in (
            f"{still:,} still run" if still else "",
            f"{_plural(still_unsafe, 'vault')} still unsafe" if still_unsafe else "",
        )
        if x
    )
    unpaid = float(f.get("horizon_mark_unpaid_collateral", 0))
    return (
        f"{at_end}; after {bars:,} bars ({hours / 24:,.1f} days) at the last price {left}, "
        f"marked: {float(f.get('horizon_marked_shortfall', 0)):,.2f} of the figure"
        + (
            f" ({unpaid:,.2f} tokens the outside had no stablecoin to buy on the venue, "
            "marked at the keepers' pool's quote where that is less than the venue's)"
            if unpaid
            else ""
        )
    )


def market_line(f: Mapping[str, Any]) -> str:
    """The run's market: open (the outside venue) or closed, and why an absent key closed it."""
    if f.get("outside") == "open":
        return (
            f"open: collateral leaves through the outside venue ({f.get('venue_sold', 0):,.0f} "
            f"tokens sold to it, {f.get('venue_bought', 0):,.0f} bought; {f.get('resales', 0):,} "
            "resales by the capital taker)"
            + (
                f"; the venue's curve reached its floor {f['venue_floored']:,} times"
                if f.get("venue_floored")
                else ""
            )
            + (
                f"; the outside could not pay {f['outside_short']:,.2f}"
                if f.get("outside_short")
                else ""
            )
            + (
                f"; flash takes sold {f['flash_takes_venue']:,} lots on the venue (on chain) "
                f"and {f['flash_takes_pool']:,} into the keepers' pool"
                if "flash_takes_venue" in f
                else ""
            )
            + (
                f" ({f['flash_venue_unpaid']:,} more reverted: the venue's till, the outside's "
                "stablecoin, could not pay them)"
                if f.get("flash_venue_unpaid")
                else ""
            )
        )
    note = f.get("outside_note")
    return "closed: the keepers' pool is the only depth" + (f" ({note})" if note else "")


def lead(f: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The distribution over the oracle's phases the headline leads with (report/phases.py's
    `headline`), or None where the run has one phase."""
    p = f.get("phases_insolvency")
    return p if p and int(p["phases"]) > 1 else None


def one_phase_text(f: Mapping[str, Any]) -> str:
    """What a run of one phase says in its first line: which phase, and why only one (the
    facts' `oracle_phase` and `phases_note`, where the command gave them)."""
    phase = f.get("oracle_phase")
    why = f.get("phases_note")
    return (
        "at one oracle phase"
        + (f" ({int(phase):,} s)" if phase is not None else "")
        + ", not a distribution over the oracle's phases"
        + (f" ({why})" if why else "")
    )


def _reported(p: Mapping[str, Any]) -> str:
    phase = p.get("reported_phase")
    return f"oracle phase {int(phase):,} s" if phase is not None else "one oracle phase"


def headline_rows(result: SimulationResult, stable: str = "") -> list[tuple[str, str]]:
    """The headline table's rows (module docstring), amounts with `stable` after them: with the
    phases measured, each figure's median over them (insolvency's worst beside it) and which
    phase the report's other sections are of; with one phase, that run's figures, its first
    row saying it is one phase."""
    f = result.facts
    debt = starting_debt(result)
    unit = f" {stable}" if stable else ""
    p = lead(f)
    if p is None:
        return [
            (
                "insolvency: the open book run out by the run's keepers at the last price, "
                + one_phase_text(f),
                f"{f['insolvency']:,.2f}{unit} ({_share(f['insolvency'], debt)} of the starting "
                f"debt, {debt:,.2f}{unit})",
            ),
            ("the drain: auctions open at the end, time to clear", drain_line(f)),
            *_run_rows(f, unit),
        ]
    n = int(p["phases"])

    def median(column: str) -> float:
        return float(p.get(f"{column}_median", math.nan))

    return [
        (
            "insolvency: the open book run out by the run's keepers at the last price, the "
            f"median over the oracle's {n} phases (model), the worst beside it",
            f"{p['median']:,.2f}{unit} ({_share(p['median'], debt)} of the starting debt, "
            f"{debt:,.2f}{unit}); worst {p['worst']:,.2f}{unit} ({_share(p['worst'], debt)}, "
            f"phase {p['worst_phase']:,} s)",
        ),
        (
            f"the drain of the reported run ({_reported(p)}): auctions open at the end, time to "
            "clear",
            drain_line(f),
        ),
        (
            f"bound: everything open at the run's end marked, as if sold {_sold(f)} with no "
            "keeper and no block space in the way, the median over the phases",
            f"{median('insolvency_mark'):,.2f}{unit}",
        ),
        (
            "bound: the open auctions' lots sold at once into the keepers' pool (pessimistic), "
            "the median over the phases",
            f"{median('insolvency_pool_sale'):,.2f}{unit}",
        ),
        (
            "realized bad debt (finished auctions), the median over the phases",
            f"{median('realized_bad_debt'):,.2f}{unit}",
        ),
        (
            "auctions still running, the median over the phases",
            f"{_count(median('open_auctions'))} ({median('open_auction_debt'):,.2f}{unit} not "
            "yet raised)",
        ),
        (
            "unsafe vaults never liquidated, the median over the phases",
            f"{_count(median('unsafe_vaults_left'))} ({median('unsafe_vault_debt'):,.2f}{unit} "
            "of debt)",
        ),
        (
            "vaults unsafe at some point, never liquidated, safe at the end, the median over "
            "the phases",
            f"{_count(median('unsafe_recovered'))} (the reported run's named in recovered.csv)",
        ),
        (
            "the run this report is of",
            f"{_reported(p)}, one of the {n}: the sections below are its figures; its "
            "headline figures are its row of the phase table (The oracle's phase)",
        ),
        (f"market (the reported run, {_reported(p)})", market_line(f)),
    ]


def _sold(f: Mapping[str, Any]) -> str:
    """Where the end-of-run mark sells the open book: the run's market (an open market's venue
    pays only what the outside holds at the end: results/insolvency.py, `VenueMark`)."""
    if f.get("outside") == "open":
        return "on the outside venue (paid by the outside's stablecoin; the rest at the pool)"
    return "into the market's depth"


def _run_rows(f: Mapping[str, Any], unit: str) -> list[tuple[str, str]]:
    """The headline's rows after the first of a run of one phase: its bounds, what it left open,
    its market."""
    return [
        (
            f"bound: everything open at the run's end marked, as if sold {_sold(f)} with no "
            "keeper and no block space in the way",
            f"{float(f.get('insolvency_mark', f['insolvency'])):,.2f}{unit}",
        ),
        (
            "bound: the open auctions' lots sold at once into the keepers' pool (pessimistic)",
            f"{float(f.get('insolvency_pool_sale', f['insolvency'])):,.2f}{unit}",
        ),
        ("realized bad debt (finished auctions)", f"{float(f['realized_bad_debt']):,.2f}{unit}"),
        (
            "auctions still running",
            f"{int(f['open_auctions']):,} ({float(f['open_auction_debt']):,.2f}{unit} not yet "
            "raised)",
        ),
        (
            "unsafe vaults never liquidated",
            f"{int(f['unsafe_vaults_left']):,} ({float(f['unsafe_vault_debt']):,.2f}{unit} of "
            "debt)",
        ),
        (
            "vaults unsafe at some point, never liquidated, safe at the end",
            f"{int(f.get('unsafe_recovered', 0)):,} (named in recovered.csv)",
        ),
        ("market", market_line(f)),
    ]


def headline_line(result: SimulationResult) -> str:
    """The console's first line of a run: the lead figure (the median insolvency over the
    oracle's phases and the worst, or one phase's, said so) and its share of the starting debt,
    then the bounds and what is still open (medians over the phases where measured)."""
    f = result.facts
    debt = starting_debt(result)
    p = lead(f)
    if p is None:
        return (
            f"insolvency {f['insolvency']:,.2f} ({_share(f['insolvency'], debt)} of the starting "
            f"debt {debt:,.2f}) {one_phase_text(f)}; the open book run out by the run's "
            f"keepers: {drain_line(f)}; bounds: "
            f"{float(f.get('insolvency_mark', f['insolvency'])):,.2f} marked at the run's end, "
            f"{float(f.get('insolvency_pool_sale', f['insolvency'])):,.2f} sold at once into the "
            f"keepers' pool; realized bad debt {float(f['realized_bad_debt']):,.2f}; "
            f"{int(f['open_auctions']):,} auctions still running, "
            f"{int(f['unsafe_vaults_left']):,} unsafe vaults not liquidated, "
            f"{int(f.get('unsafe_recovered', 0)):,} recovered unliquidated; market "
            + market_line(f)
        )
    m = {k[: -len("_median")]: float(v) for k, v in p.items() if k.endswith("_median")}
    return (
        f"insolvency over the oracle's {int(p['phases'])} phases (model): median "
        f"{p['median']:,.2f} ({_share(p['median'], debt)} of the starting debt {debt:,.2f}), "
        f"worst {p['worst']:,.2f} ({_share(p['worst'], debt)}, phase {p['worst_phase']:,} s); "
        f"the open book run out by the run's keepers (the reported run, {_reported(p)}: "
        f"{drain_line(f)}); "
        f"medians over the phases: bounds {m['insolvency_mark']:,.2f} marked at the run's end, "
        f"{m['insolvency_pool_sale']:,.2f} sold at once into the keepers' pool; realized bad "
        f"debt {m['realized_bad_debt']:,.2f}; {_count(m['open_auctions'])} auctions still "
        f"running, {_count(m['unsafe_vaults_left'])} unsafe vaults not liquidated, "
        f"{_count(m['unsafe_recovered'])} recovered unliquidated; market (the reported run, "
        f"{_reported(p)}) " + market_line(f)
    )


def lead_facts(result: SimulationResult) -> dict[str, Any]:
    """The report's machine-readable headline (facts.json): `insolvency` is the lead figure (the
    median over the oracle's phases, or the one phase's), `insolvency_worst` beside it, `lead`
    says which, `phases` how many; the figures beside it as the headline gives them; the
    phases' insolvency (`per_phase`); then `run`, every fact of the run the report's other
    sections are of (its own insolvency among them)."""
    f = result.facts
    run = {k: v for k, v in f.items() if k != "phases_insolvency"}
    if "insolvency" not in f:
        return {"lead": "none: the result has no end-of-run accounting", "run": run}
    debt = starting_debt(result)
    p = lead(f)
    if p is None:
        phase = f.get("oracle_phase")
        return {
            "lead": "the run's, " + one_phase_text(f),
            "phases": 1,
            "insolvency": float(f["insolvency"]),
            "insolvency_worst": float(f["insolvency"]),
            "insolvency_worst_phase": phase,
            "starting_debt": debt,
            **{
                k: f[k]
                for k in (
                    "insolvency_mark",
                    "insolvency_last_price",
                    "insolvency_pool_sale",
                    "realized_bad_debt",
                    "open_auctions",
                    "unsafe_vaults_left",
                    "unsafe_recovered",
                )
                if k in f
            },
            "per_phase": {} if phase is None else {str(phase): float(f["insolvency"])},
            "run": run,
        }
    medians = {k[: -len("_median")]: v for k, v in p.items() if k.endswith("_median")}
    return {
        "lead": f"the median over the oracle's {int(p['phases'])} phases (model)",
        "phases": int(p["phases"]),
        "insolvency": float(p["median"]),
        "insolvency_worst": float(p["worst"]),
        "insolvency_worst_phase": int(p["worst_phase"]),
        "insolvency_best": float(p["best"]),
        "insolvency_best_phase": int(p["best_phase"]),
        "starting_debt": debt,
        **medians,
        "per_phase": {str(k): float(v) for k, v in p.get("per_phase", {}).items()},
        "reported_phase": p.get("reported_phase"),
        "run": run,
    }
