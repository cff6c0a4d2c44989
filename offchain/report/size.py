"""The run's size as a stated factor: a run whose population `--vaults` raised above the
scenario's own count is reported beside the same scenario at its own count (the model, the same
seed, phase, market and waterfall), so the report shows what the size moved: the vaults left
unsafe and never liquidated, the insolvency per unit of the book's debt, the pool's price against
the market's and the debt in auction against its cap (docs/simulation.md, "Scale").

What --vaults scales (the ceilings, caps, keepers' capital and budgets) and what it does not (the
market's depth, unless `market.depth_with_vaults = "scaled"`) is sim/scenario/ceilings.py's rule.
"""

from __future__ import annotations

from collections.abc import Callable

from offchain.report.documents import Block, Heading, Table, Text
from offchain.sim.results.tables import SimulationResult
from offchain.sim.run.driver import simulate
from offchain.sim.scenario.types import Scenario
from offchain.sim.scenario.variants import with_phase


def own_count_run(
    load_own: Callable[[], Scenario],
    phase: int | None,
    progress: Callable[[str, int, int], None] | None = None,
) -> SimulationResult:
    """The scenario at its own vault count in the model: `load_own` loads it as the run did but
    for --vaults; `phase` is the run's --oracle-phase (None: the scenario's)."""
    scenario = load_own()
    if phase is not None:
        scenario = with_phase(scenario, phase, "--oracle-phase")
    label = "model, the scenario's own vault count"
    return simulate(
        scenario,
        "model",
        full_check_every=None,
        progress=(lambda d, t: progress(label, d, t)) if progress else None,
    )


def figures(result: SimulationResult) -> dict[str, float]:
    """The figures the size moves, of one run: the vaults, the share left unsafe and never
    liquidated, the insolvency (the headline, drained: sim/run/drain.py; the end-of-run mark;
    and at the last price) per unit of the starting debt, the pool's lowest price as a share of
    the market's, the peak debt in auction as a share of the cap over all types, and the
    auctions still running at the end."""
    f, bars = result.facts, result.tables["bars"]
    debt = float(result.tables["vaults"]["debt_start"].sum())
    share = (bars["pool_price"] / bars["market_price"]).min() if len(bars) else 1.0
    cap = float(f.get("max_debt_in_auction") or 0.0)
    return {
        "vaults": float(f["vaults"]),
        "unsafe_left_share": f["unsafe_vaults_left"] / f["vaults"] if f["vaults"] else 0.0,
        "insolvency_per_debt": f["insolvency"] / debt if debt else 0.0,
        "insolvency_mark_per_debt": (
            f.get("insolvency_mark", f["insolvency"]) / debt if debt else 0.0
        ),
        "insolvency_last_price_per_debt": (
            f.get("insolvency_last_price", f["insolvency"]) / debt if debt else 0.0
        ),
        "pool_low_share": float(share),
        "debt_in_auction_peak_share": (
            float(f.get("peak_debt_in_auction") or 0.0) / cap if cap else 0.0
        ),
        "open_auctions": float(f["open_auctions"]),
    }


# figure -> (label, how it is shown)
ROWS = {
    "vaults": ("vaults", "count"),
    "unsafe_left_share": ("unsafe and never liquidated, share of the vaults", "percent"),
    "insolvency_per_debt": (
        "insolvency per unit of starting debt (the headline: drained)",
        "ratio",
    ),
    "insolvency_mark_per_debt": ("the same, the end-of-run mark", "ratio"),
    "insolvency_last_price_per_debt": ("the same at the last market price", "ratio"),
    "pool_low_share": ("the pool's lowest price, share of the market's", "percent"),
    "debt_in_auction_peak_share": ("peak debt in auction, share of its cap", "percent"),
    "open_auctions": ("auctions still running at the end", "count"),
}


def _shown(value: float, how: str) -> str:
    if how == "percent":
        return f"{value:.1%}"
    if how == "ratio":
        return f"{value:.4f}"
    return f"{value:,.0f}"


def blocks(big: SimulationResult, own: SimulationResult, depth_with_vaults: str) -> list[Block]:
    """The report's section: this run beside the scenario at its own count."""
    a, b = figures(big), figures(own)
    depth = (
        "and so did the market's depth (market.depth_with_vaults = scaled)"
        if depth_with_vaults == "scaled"
        else "the market's depth did not (market.depth_with_vaults = fixed: a bigger book sells "
        "into the same market)"
    )
    return [
        Heading("The size"),
        Text(
            f"This run has {a['vaults']:,.0f} vaults; the scenario has {b['vaults']:,.0f}. "
            "The ceilings, the auction caps and the keepers' capital and gas budgets followed "
            f"the vault count; {depth}. The same scenario at its own count, in the model (same "
            "seed, oracle phase, market and waterfall):"
        ),
        Table(
            ("figure", "this run", "the scenario's own count"),
            [(label, _shown(a[k], how), _shown(b[k], how)) for k, (label, how) in ROWS.items()],
            numeric=(1, 2),
        ),
    ]


def console_lines(big: SimulationResult, own: SimulationResult) -> list[str]:
    """One line: the shares and ratios that moved, this run against the scenario's own count."""
    a, b = figures(big), figures(own)
    return [
        f"size: {a['vaults']:,.0f} vaults against the scenario's {b['vaults']:,.0f}: unsafe and "
        f"never liquidated {a['unsafe_left_share']:.1%} ({b['unsafe_left_share']:.1%}), "
        f"insolvency per unit of debt {a['insolvency_per_debt']:.4f} "
        f"({b['insolvency_per_debt']:.4f}), the pool's lowest price {a['pool_low_share']:.0%} of "
        f"the market's ({b['pool_low_share']:.0%})"
    ]
