"""A run's headline, one home for every place that shows it (the report's first table, the
console's first line, the phases' and history's lines): insolvency (sim/results/insolvency.py,
everything open sold as keepers would: on the outside venue over the mark's bars in an open
market, into the closed market's depth otherwise) and its share of the debt the run started
with, then the two bounds beside it (the last price, the optimistic one; the open auctions' lots
sold at once into the keepers' pool, the pessimistic one), what is still open, and the market the
run had.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from offchain.sim.results.tables import SimulationResult

__all__ = ["headline_line", "headline_rows", "market_line", "starting_debt"]


def starting_debt(result: SimulationResult) -> float:
    """The vaults' debt when the run started [stablecoin, whole units]."""
    vaults = result.tables["vaults"]
    return float(vaults["debt_start"].sum()) if len(vaults) else 0.0


def _share(amount: float, debt: float) -> str:
    return f"{amount / debt:.1%}" if debt else "n/a"


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


def headline_rows(result: SimulationResult, stable: str = "") -> list[tuple[str, str]]:
    """The headline table's rows (module docstring), amounts with `stable` after them."""
    f = result.facts
    debt = starting_debt(result)
    unit = f" {stable}" if stable else ""
    rows = [
        (
            "insolvency: everything open sold as keepers would",
            f"{f['insolvency']:,.2f}{unit} ({_share(f['insolvency'], debt)} of the starting "
            f"debt, {debt:,.2f}{unit})",
        ),
        (
            "bound: everything open at the last price (optimistic)",
            f"{float(f.get('insolvency_last_price', f['insolvency'])):,.2f}{unit}",
        ),
        (
            "bound: the open auctions' lots sold at once into the keepers' pool (pessimistic)",
            f"{float(f.get('insolvency_pool_sale', f['insolvency'])):,.2f}{unit}",
        ),
        *_phase_rows(f, debt, unit),
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
    return rows


def _phase_rows(f: Mapping[str, Any], debt: float, unit: str) -> list[tuple[str, str]]:
    """The insolvency over the oracle's phases (report/phases.py), when the run measured it."""
    p = f.get("phases_insolvency")
    if not p:
        return []
    return [
        (
            f"insolvency over the oracle's {p['phases']} phases (model): median, worst",
            f"{p['median']:,.2f}{unit} ({_share(p['median'], debt)}), {p['worst']:,.2f}{unit} "
            f"({_share(p['worst'], debt)}, phase {p['worst_phase']:,} s); best "
            f"{p['best']:,.2f}{unit} (phase {p['best_phase']:,} s)",
        )
    ]


def headline_line(result: SimulationResult) -> str:
    """The console's first line of a run: insolvency and its share of the starting debt, then
    the bounds and what is still open."""
    f = result.facts
    debt = starting_debt(result)
    p = f.get("phases_insolvency")
    over = (
        f"; over the oracle's {p['phases']} phases: median {p['median']:,.2f}, worst "
        f"{p['worst']:,.2f} (phase {p['worst_phase']:,} s)"
        if p
        else ""
    )
    return (
        f"insolvency {f['insolvency']:,.2f} ({_share(f['insolvency'], debt)} of the starting debt "
        f"{debt:,.2f}){over}; bounds: "
        f"{float(f.get('insolvency_last_price', f['insolvency'])):,.2f} at the last price, "
        f"{float(f.get('insolvency_pool_sale', f['insolvency'])):,.2f} sold at once into the "
        f"keepers' pool; realized bad debt {float(f['realized_bad_debt']):,.2f}; "
        f"{int(f['open_auctions']):,} auctions still running, {int(f['unsafe_vaults_left']):,} "
        f"unsafe vaults not liquidated, {int(f.get('unsafe_recovered', 0)):,} recovered "
        "unliquidated; market " + market_line(f)
    )
