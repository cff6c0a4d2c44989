"""The report's plots (PNG, matplotlib without a display)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from offchain.report.mpl import dates, pyplot, ticker
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
from offchain.sim.results.tables import SimulationResult

COLORS = {
    "fund": "tab:blue",
    "stability_pool": "tab:green",
    "debt_auction": "tab:purple",
    "redistribution": "tab:orange",
    "settlement": "tab:brown",
    "deleverage": "tab:olive",
    "uncovered": "tab:red",
}


@contextmanager
def _figure(path: Path, panels: int = 1, sharex: bool = False) -> Iterator[Any]:
    """A figure of `panels` stacked axes, saved to `path` on success and closed in any case."""
    fig, axes = pyplot().subplots(
        panels, 1, figsize=(10, 4.5 + 3 * (panels - 1)), squeeze=False, sharex=sharex
    )
    try:
        yield axes[:, 0]
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        pyplot().close(fig)


def _time_axis(ax: Any) -> None:
    locator = dates().AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(dates().ConciseDateFormatter(locator))
    ax.set_xlabel("time (UTC)")


def _note(ax: Any, text: str, axis: str = "") -> None:
    """A sentence in the middle of a panel that has nothing to draw; `axis` ("y", "x" or "xy"):
    the axes whose ticks would be a default 0-to-1 range read as data (0, 0, 0, 1, 1, 1 with
    whole-number labels), left without ticks."""
    ax.text(
        0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=14, color="gray"
    )
    if "y" in axis:
        ax.set_yticks([])
    if "x" in axis:
        ax.set_xticks([])


def _tail(ax: Any, result: SimulationResult, bars: pd.DataFrame) -> None:
    """Shade the bars after the price path (its last price repeated: synthetic), if any."""
    path_bars = result.facts.get("path_bars")
    if path_bars is None or len(bars) <= int(path_bars):
        return
    t = as_datetimes(bars["time"])
    ax.axvspan(
        t.iloc[int(path_bars)],
        t.iloc[-1],
        color="0.92",
        zorder=0,
        label="tail: the last price repeated (not data)",
    )


def _per_bar(events: pd.DataFrame, bars: pd.DataFrame, weights: str | None = None) -> np.ndarray:
    """How many `events` (or the sum of their column `weights`) fell in each bar."""
    out = np.zeros(len(bars))
    if len(events):
        index = {int(b): i for i, b in enumerate(bars["bar"])}
        for b, w in zip(
            events["bar"], events[weights] if weights else np.ones(len(events)), strict=True
        ):
            if int(b) in index:
                out[index[int(b)]] += float(w)
    return out


def _bar_width(bars: pd.DataFrame) -> float:
    """One bar's duration in days (matplotlib's date unit)."""
    seconds = float(bars["time"].iloc[1] - bars["time"].iloc[0]) if len(bars) > 1 else 600.0
    return seconds / 86400 * 0.9


def plot_price(result: SimulationResult, path: Path) -> None:
    stable, coll = symbols(result)
    bars, liquidations = result_table(result, "bars"), result_table(result, "liquidations")
    ratio = result.facts.get("liquidation_ratio")
    with _figure(path, panels=2, sharex=True) as (ax, counts):
        t = as_datetimes(bars["time"])
        _tail(ax, result, bars)
        ax.plot(t, bars["market_price"], label="market price", color="black", linewidth=1.2)
        if (
            "fundamental_price" in bars
            and (bars["fundamental_price"] != bars["market_price"]).any()
        ):
            ax.plot(
                t,
                bars["fundamental_price"],
                label="fundamental price (the path, before liquidation sales' impact)",
                color="0.5",
                linestyle=":",
            )
        ax.plot(
            t, bars["oracle_price"], label="oracle price", color="tab:blue", drawstyle="steps-post"
        )
        safe = "safe price: oracle price / liquidation ratio" + (
            f" {float(ratio):g}" if ratio is not None else ""
        )
        ax.plot(t, bars["safe_price"], label=safe, color="tab:orange", linestyle="--")
        ax.set_ylim(bottom=0)
        ax.set_ylabel(f"{stable} per {coll}".strip())
        ax.set_title(
            "Prices (a vault is unsafe when its collateral x safe price is below its debt)"
        )
        ax.legend(loc="lower left", fontsize=8)
        per_bar = _per_bar(liquidations, bars)
        if per_bar.any():
            counts.bar(t, per_bar, width=_bar_width(bars), color="tab:red", align="edge")
            counts.set_title(f"Liquidations per bar ({len(liquidations):,} in all)")
        else:
            _note(counts, "no liquidations", "y")
            counts.set_title("Liquidations per bar")
        counts.set_ylabel("liquidations")
        counts.set_ylim(bottom=0)
        _tail(counts, result, bars)
        _time_axis(counts)


def plot_types(result: SimulationResult, path: Path) -> None:
    """A run of several collateral types: one panel per type, its prices and its liquidations per
    bar (the types table); a further type's path is synthetic (one factor of the first's)."""
    stable, _ = symbols(result)
    table = result_table(result, "types")
    names = list(dict.fromkeys(str(n) for n in table["collateral_type"]))
    with _figure(path, panels=max(len(names), 1), sharex=True) as axes:
        for k, (ax, name) in enumerate(zip(axes, names)):
            rows = table[table["collateral_type"] == name]
            t = as_datetimes(rows["time"])
            _tail(ax, result, rows)
            ax.plot(t, rows["market_price"], label="market price", color="black", linewidth=1.2)
            ax.plot(
                t,
                rows["fundamental_price"],
                label="fundamental price"
                + (" (synthetic: one factor of the first type's path)" if k else " (the path)"),
                color="0.5",
                linestyle=":",
            )
            ax.plot(
                t,
                rows["oracle_price"],
                label="oracle price",
                color="tab:blue",
                drawstyle="steps-post",
            )
            ax.set_ylim(bottom=0)
            ax.set_ylabel(f"{stable} per token")
            liquidated = np.diff(np.asarray(rows["vaults_liquidated"], dtype=float), prepend=0.0)
            counts = ax.twinx()
            counts.bar(
                t, liquidated, width=_bar_width(rows), color="tab:red", alpha=0.35, align="edge"
            )
            counts.set_ylabel("vaults liquidated per bar", color="tab:red")
            counts.set_ylim(bottom=0)
            counts.yaxis.set_major_locator(ticker().MaxNLocator(integer=True))
            ax.set_title(
                f"{name}: prices, and vaults liquidated per bar "
                f"({int(rows['vaults_liquidated'].iloc[-1]):,} in all)"
            )
            ax.legend(loc="lower left", fontsize=8)
        _time_axis(axes[-1])


def plot_debt_collateral(result: SimulationResult, path: Path) -> None:
    stable, coll = symbols(result)
    bars = result_table(result, "bars")
    with _figure(path, panels=3, sharex=True) as (top, unbacked, bottom):
        t = as_datetimes(bars["time"])
        unit = f"[{stable}]" if stable else "stablecoin"
        top.plot(t, bars["debt"], color="tab:blue", label="vaults' debt")
        top.set_ylabel(unit)
        top.yaxis.set_major_formatter(ticker().StrMethodFormatter("{x:,.0f}"))
        top.set_ylim(bottom=0)
        top.set_title("Debt")
        top.legend(loc="best", fontsize=8)
        _tail(top, result, bars)
        # on its own scale: beside the vaults' debt (millions) it was drawn flat
        unbacked.plot(t, bars["unbacked_debt"], color="tab:red")
        unbacked.set_ylabel(unit)
        unbacked.yaxis.set_major_formatter(ticker().StrMethodFormatter("{x:,.0f}"))
        unbacked.set_ylim(bottom=0)
        peak = float(bars["unbacked_debt"].max()) if len(bars) else 0.0
        unbacked.set_title(
            "Backstop's unbacked debt: in auction or not yet covered "
            + (f"(peak {format_amount(peak)})" if peak > 0 else "(none in this run)")
        )
        _tail(unbacked, result, bars)
        bottom.plot(t, bars["collateral_locked"], color="tab:green", label="locked in vaults")
        bottom.plot(t, bars["collateral_in_auction"], color="tab:red", label="in auction")
        bottom.set_ylabel(f"[{coll}]" if coll else "collateral")
        bottom.yaxis.set_major_formatter(ticker().StrMethodFormatter("{x:,.0f}"))
        bottom.set_ylim(bottom=0)
        bottom.set_title("Collateral (one scale: in auction is a share of the whole)")
        bottom.legend(loc="best", fontsize=8)
        _tail(bottom, result, bars)
        _time_axis(bottom)


def plot_unsafe(result: SimulationResult, path: Path) -> None:
    """Unsafe vaults over time: waiting (unsafe, no auction yet), auctions running, and the
    vaults liquidated so far; the time from the first unsafe vault to the first liquidation and
    the vaults still unsafe and never liquidated at the end in the title."""
    bars, liquidations = result_table(result, "bars"), result_table(result, "liquidations")
    with _figure(path) as (ax,):
        t = as_datetimes(bars["time"])
        _tail(ax, result, bars)
        waiting = bars["vaults_unsafe"].astype(float)
        if not len(bars) or (waiting.max() == 0 and bars["vaults_liquidated"].max() == 0):
            _note(ax, "no vault became unsafe in this run")
            ax.set_yticks([])
            ax.set_title("Unsafe vaults")
            _time_axis(ax)
            return
        ax.plot(t, waiting, color="tab:red", label="unsafe, not liquidated (waiting)")
        ax.plot(t, bars["active_auctions"], color="tab:orange", label="auctions running")
        ax.plot(t, bars["vaults_liquidated"], color="tab:blue", label="vaults liquidated so far")
        first_unsafe = t[(waiting > 0).to_numpy()].min() if (waiting > 0).any() else None
        parts = []
        if len(liquidations):
            first_liquidation = as_datetimes(liquidations["time"]).min()
            ax.axvline(
                first_liquidation,
                color="tab:blue",
                linestyle=":",
                linewidth=1,
                label="first liquidation",
            )
            if first_unsafe is not None and first_unsafe <= first_liquidation:
                hours = (first_liquidation - first_unsafe).total_seconds() / 3600
                parts.append(f"first liquidation {hours:.1f} h after the first unsafe vault")
        else:
            parts.append("no vault was liquidated")
        if first_unsafe is not None:
            ax.axvline(
                first_unsafe,
                color="tab:red",
                linestyle=":",
                linewidth=1,
                label="first unsafe vault",
            )
        left = int(result.facts.get("unsafe_vaults_left", int(waiting.iloc[-1])))
        parts.append(f"{left:,} unsafe and never liquidated at the end")
        ax.set_ylim(bottom=0)
        ax.set_ylabel("vaults")
        ax.yaxis.set_major_formatter(ticker().StrMethodFormatter("{x:,.0f}"))
        ax.set_title("Unsafe vaults: " + "; ".join(parts), fontsize=10)
        ax.legend(loc="upper left", fontsize=8)
        _time_axis(ax)


# each keeper role's bid line and dropped-action marks (gas_bids' columns, txs' actors)
BID_ROLES = {
    "liquidation": ("liquidation keeper", "tab:red", ("liquidation_keeper",)),
    "taker": ("takers", "tab:green", ("taker", "capital_taker")),
    "backstop": ("backstop keeper", "tab:purple", ("backstop_keeper", "bidder")),
    "soft_liquidation": ("soft liquidator", "tab:olive", ("soft_liquidator",)),
}


def plot_gas(result: SimulationResult, path: Path) -> None:
    """The gas market (the bar's 30th percentile, below which a bid is dropped, and its 60th)
    against each keeper role's planned bid, with the bars in which a role's actions were dropped
    marked on its bid line (the count in the legend)."""
    bids, txs = result_table(result, "gas_bids"), result_table(result, "txs")
    with _figure(path) as (ax,):
        if not len(bids):
            _note(ax, "no gas market recorded in this run")
            ax.set_yticks([])
            ax.set_title("Gas market and the keepers' bids")
            return
        t = as_datetimes(bids["time"])
        ax.fill_between(t, 0, bids["gas_p30_gwei"], color="0.9", step="post", label=None)
        ax.step(
            t,
            bids["gas_p30_gwei"],
            where="post",
            color="black",
            linewidth=1.2,
            label="market p30 (a bid below it is dropped)",
        )
        ax.step(
            t,
            bids["gas_p60_gwei"],
            where="post",
            color="0.45",
            linewidth=1,
            linestyle="--",
            label="market p60",
        )
        dropped = txs[txs["status"] == "dropped"] if len(txs) else txs
        index = {int(b): k for k, b in enumerate(bids["bar"])}
        acting = set(txs["actor"]) if len(txs) else set()
        # roles that bid alike (the market strategy: every role its percentile) share one line
        groups: dict[tuple[float, ...], list[str]] = {}
        for role, (_, _, actors) in BID_ROLES.items():
            if acting & set(actors):  # a role that never acted (no opt-ins) is left out
                groups.setdefault(tuple(bids[f"{role}_bid_gwei"]), []).append(role)
        for roles in groups.values():
            column = bids[f"{roles[0]}_bid_gwei"]
            names = [BID_ROLES[r][0] for r in roles]
            who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            owner = f"{who}'" if who.endswith("s") else f"{who}'s"
            label = f"{owner} bid" if len(names) == 1 else f"the bid of the {who} (the same)"
            if column.equals(bids["gas_p60_gwei"]):
                label += ": the market p60, drawn over it"
            ax.step(
                t, column, where="post", color=BID_ROLES[roles[0]][1], linewidth=1.3, label=label
            )
            for role in roles:
                name, color, actors = BID_ROLES[role]
                mine = dropped[dropped["actor"].isin(actors)] if len(dropped) else dropped
                if not len(mine):
                    continue
                at = np.array(sorted({index[int(b)] for b in mine["bar"] if int(b) in index}))
                ax.scatter(
                    t.iloc[at],
                    column.iloc[at],
                    marker="x",
                    color=color,
                    s=30,
                    zorder=4,
                    label=f"{name}: {len(mine):,} actions dropped",
                )
        ax.set_yscale("log")
        ax.set_ylabel("gwei (log scale)")
        ax.yaxis.set_major_formatter(ticker().StrMethodFormatter("{x:,.0f}"))
        total = len(dropped)
        ax.set_title(
            "Gas market and the keepers' bids: "
            + (f"{total:,} actions dropped, marked x" if total else "no action dropped"),
            fontsize=10,
        )
        # below the axes: the market's peaks fill the plot's corners
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=8)
        _time_axis(ax)


def plot_auctions(result: SimulationResult, path: Path) -> None:
    stable, coll = symbols(result)
    bars, takes = result_table(result, "bars"), result_table(result, "takes")
    fig, (top, middle, bottom) = pyplot().subplots(3, 1, figsize=(10, 10.5))
    try:
        t = as_datetimes(bars["time"])
        _tail(top, result, bars)
        top.plot(t, bars["market_price"], color="black", linewidth=1, label="market price")
        sold = _per_bar(takes, bars, "collateral")
        if len(takes):
            top.scatter(
                as_datetimes(takes["time"]),
                takes["price"],
                color="tab:red",
                s=10,
                alpha=0.35,
                zorder=3,
                label=f"take prices ({len(takes):,} takes; darker: several at once)",
            )
            middle.bar(t, sold, width=_bar_width(bars), color="tab:red", align="edge")
            counts = _per_bar(takes, bars)
            middle.set_title(
                f"Collateral bought per bar ({len(takes):,} takes in "
                f"{int((counts > 0).sum()):,} bars, at most {int(counts.max()):,} in one)"
            )
            ratio = takes["price"] / takes["market_price"]
            bottom.hist(ratio, bins=30, weights=takes["collateral"], color="tab:red", alpha=0.7)
            bottom.axvline(1.0, color="black", linestyle="--", label="market price")
            bottom.legend(loc="best")
        else:
            _note(top, "no takes")
            _note(middle, "no takes", "y")
            _note(bottom, "no takes", "xy")
            middle.set_title("Collateral bought per bar")
        top.set_ylim(bottom=0)
        top.set_ylabel(f"{stable} per {coll}".strip())
        top.set_title("Auction clearing prices vs market")
        top.legend(loc="lower left", fontsize=8)
        _time_axis(top)
        middle.set_ylabel(f"bought [{coll}]" if coll else "bought")
        middle.yaxis.set_major_formatter(ticker().StrMethodFormatter("{x:,.0f}"))
        middle.set_ylim(bottom=0)
        _tail(middle, result, bars)
        if len(t):
            middle.set_xlim(t.iloc[0], t.iloc[-1])  # the whole run, not only what is drawn
        _time_axis(middle)
        bottom.set_xlabel("take price / market price")
        bottom.set_ylabel(f"collateral bought [{coll}]" if coll else "collateral bought")
        bottom.set_title("Clearing discount, weighted by collateral")
        bottom.yaxis.set_major_formatter(ticker().StrMethodFormatter("{x:,.0f}"))
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        pyplot().close(fig)


def plot_waterfall(result: SimulationResult, path: Path) -> None:
    stable, _ = symbols(result)
    bad_debt, paid = realized_bad_debt(result), paid_by_layer(result)
    uncovered = uncovered_loss(result)
    if round(uncovered, 2) > 0:
        paid["uncovered"] = uncovered
    fund_start = result.facts.get("insurance_fund_start")
    with _figure(path) as (ax,):
        if bad_debt or any(paid.values()):
            names = list(paid)
            bars = ax.bar(
                names, [paid[n] for n in names], color=[COLORS.get(n, "tab:gray") for n in names]
            )
            ax.bar_label(bars, labels=[format_amount(paid[n]) for n in names])
            if fund_start is not None and paid.get("fund", 0.0) > float(fund_start):
                ax.text(
                    0.99,
                    0.97,
                    f"the fund started at {format_amount(float(fund_start), stable)}; it paid more "
                    "because penalties and fees\nflowed into it during the run (the Backstop's "
                    "surplus is the fund)",
                    transform=ax.transAxes,
                    ha="right",
                    va="top",
                    fontsize=8,
                    color="0.3",
                )
        else:
            _note(ax, "no bad debt", "xy")
        ax.yaxis.set_major_formatter(ticker().StrMethodFormatter("{x:,.0f}"))
        ax.set_ylabel(f"paid [{stable}]" if stable else "paid")
        ax.set_title(f"Who paid the realized bad debt ({format_amount(bad_debt, stable)})")


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
            _note(ax, "no vaults with debt", "xy")
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
            _note(ax, "no bad debt", "x")
        ax.xaxis.set_major_formatter(ticker().StrMethodFormatter("{x:,.0f}"))
        ax.set_xlabel(f"bad debt paid [{stable}]" if stable else "bad debt paid")
        ax.set_title("Who paid, per waterfall order")


# --- writing ---------------------------------------------------------------------------------
