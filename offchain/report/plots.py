"""The report's plots (PNG, matplotlib without a display)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from offchain.report.tables import (
    LAYERS,
    as_datetimes,
    format_amount,
    paid_by_layer,
    realized_bad_debt,
    result_table,
    symbols,
    uncovered_loss,
)
from offchain.sim.results import SimulationResult

COLORS = {
    "fund": "tab:blue",
    "stability_pool": "tab:green",
    "debt_auction": "tab:purple",
    "redistribution": "tab:orange",
    "settlement": "tab:brown",
    "uncovered": "tab:red",
}


@contextmanager
def _figure(path: Path, panels: int = 1, sharex: bool = False) -> Iterator[Any]:
    """A figure of `panels` stacked axes, saved to `path` on success and closed in any case."""
    fig, axes = plt.subplots(
        panels, 1, figsize=(10, 4.5 + 3 * (panels - 1)), squeeze=False, sharex=sharex
    )
    try:
        yield axes[:, 0]
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def _time_axis(ax: Any) -> None:
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("time (UTC)")


def _note(ax: Any, text: str) -> None:
    ax.text(
        0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=14, color="gray"
    )


def plot_price(result: SimulationResult, path: Path) -> None:
    stable, coll = symbols(result)
    bars, liquidations = result_table(result, "bars"), result_table(result, "liquidations")
    with _figure(path) as (ax,):
        t = as_datetimes(bars["time"])
        ax.plot(t, bars["market_price"], label="market price", color="black", linewidth=1.2)
        ax.plot(
            t, bars["oracle_price"], label="oracle price", color="tab:blue", drawstyle="steps-post"
        )
        ax.plot(t, bars["safe_price"], label="safe price", color="tab:orange", linestyle="--")
        if len(liquidations) and len(bars):
            at = np.interp(
                liquidations["time"].astype(float),
                bars["time"].astype(float),
                bars["market_price"].astype(float),
            )
            ax.scatter(
                as_datetimes(liquidations["time"]),
                at,
                marker="v",
                color="tab:red",
                zorder=3,
                label=f"liquidations ({len(liquidations):,})",
            )
        else:
            _note(ax, "no liquidations")
        ax.set_ylabel(f"{stable} per {coll}".strip())
        ax.set_title("Prices and liquidations")
        ax.legend(loc="best")
        _time_axis(ax)


def plot_debt_collateral(result: SimulationResult, path: Path) -> None:
    stable, coll = symbols(result)
    bars = result_table(result, "bars")
    with _figure(path, panels=2, sharex=True) as (top, bottom):
        t = as_datetimes(bars["time"])
        top.plot(t, bars["debt"], color="tab:blue")
        top.set_ylabel(f"debt [{stable}]" if stable else "debt")
        top.yaxis.set_major_formatter(mticker.StrMethodFormatter("{x:,.0f}"))
        top.set_title("Debt")
        locked = bottom.plot(
            t, bars["collateral_locked"], color="tab:green", label="locked in vaults (left)"
        )
        bottom.set_ylabel(f"locked [{coll}]" if coll else "locked")
        bottom.yaxis.set_major_formatter(mticker.StrMethodFormatter("{x:,.0f}"))
        auction = bottom.twinx()
        in_auction = auction.plot(
            t, bars["collateral_in_auction"], color="tab:red", label="in auction (right)"
        )
        auction.set_ylabel(f"in auction [{coll}]" if coll else "in auction")
        bottom.set_title("Collateral")
        bottom.legend(handles=locked + in_auction, loc="best")
        _time_axis(bottom)


def plot_auctions(result: SimulationResult, path: Path) -> None:
    stable, coll = symbols(result)
    bars, takes = result_table(result, "bars"), result_table(result, "takes")
    with _figure(path, panels=2) as (top, bottom):
        top.plot(
            as_datetimes(bars["time"]),
            bars["market_price"],
            color="black",
            linewidth=1,
            label="market price",
        )
        bottom.set_xlabel("take price / market price")
        bottom.set_ylabel(f"collateral sold [{coll}]" if coll else "collateral sold")
        if len(takes):
            top.scatter(
                as_datetimes(takes["time"]),
                takes["price"],
                color="tab:red",
                s=18,
                zorder=3,
                label=f"takes ({len(takes):,})",
            )
            ratio = takes["price"] / takes["market_price"]
            bottom.hist(ratio, bins=30, weights=takes["collateral"], color="tab:red", alpha=0.7)
            bottom.axvline(1.0, color="black", linestyle="--", label="market price")
            bottom.legend(loc="best")
        else:
            _note(top, "no takes")
            _note(bottom, "no takes")
        top.set_ylabel(f"{stable} per {coll}".strip())
        top.set_title("Auction clearing prices vs market")
        top.legend(loc="best")
        _time_axis(top)


def plot_waterfall(result: SimulationResult, path: Path) -> None:
    stable, _ = symbols(result)
    bad_debt, paid = realized_bad_debt(result), paid_by_layer(result)
    uncovered = uncovered_loss(result)
    if round(uncovered, 2) > 0:
        paid["uncovered"] = uncovered
    with _figure(path) as (ax,):
        if bad_debt or any(paid.values()):
            names = list(paid)
            bars = ax.bar(
                names, [paid[n] for n in names], color=[COLORS.get(n, "tab:gray") for n in names]
            )
            ax.bar_label(bars, labels=[format_amount(paid[n]) for n in names])
        else:
            _note(ax, "no bad debt")
        ax.yaxis.set_major_formatter(mticker.StrMethodFormatter("{x:,.0f}"))
        ax.set_ylabel(stable or "stablecoin")
        ax.set_title(f"Who paid the bad debt ({format_amount(bad_debt, stable)})")


def plot_collateralization(result: SimulationResult, path: Path) -> None:
    vaults = result_table(result, "vaults")
    start, end = (pd.to_numeric(vaults[c]).astype(float) for c in ("ratio_start", "ratio_end"))
    start, end = start[np.isfinite(start)], end[np.isfinite(end)]
    ratio = result.facts.get("liquidation_ratio")
    with _figure(path) as (ax,):
        if len(start) or len(end):
            bins = np.histogram_bin_edges(pd.concat([start, end]), bins=30)
            ax.hist(
                start,
                bins=bins,
                alpha=0.6,
                color="tab:blue",
                label=f"start ({len(start):,} vaults with debt)",
            )
            ax.hist(
                end,
                bins=bins,
                alpha=0.6,
                color="tab:red",
                label=f"end ({len(end):,} vaults with debt)",
            )
        else:
            _note(ax, "no vaults with debt")
        if ratio is not None:
            ax.axvline(
                float(ratio),
                color="black",
                linestyle="--",
                label=f"liquidation ratio {float(ratio):.2f}",
            )
        ax.set_xlabel("collateral ratio (collateral value / debt)")
        ax.set_ylabel("vaults")
        ax.set_title("Vault collateral ratios, start vs end")
        ax.legend(loc="best")


def plot_comparison(rows: list[dict[str, Any]], stable: str, path: Path) -> None:
    with _figure(path) as (ax,):
        orders = [r["order"] for r in rows][::-1]  # the first run on top
        left = np.zeros(len(rows))
        for name in (*LAYERS, "uncovered"):
            values = np.array([max(r[name], 0.0) for r in rows][::-1])
            if values.any():
                ax.barh(orders, values, left=left, color=COLORS[name], label=name)
                left += values
        if left.any():
            ax.legend(loc="best")
        else:
            _note(ax, "no bad debt")
        ax.xaxis.set_major_formatter(mticker.StrMethodFormatter("{x:,.0f}"))
        ax.set_xlabel(f"bad debt paid [{stable}]" if stable else "bad debt paid")
        ax.set_title("Who paid, per waterfall order")


# --- writing ---------------------------------------------------------------------------------
