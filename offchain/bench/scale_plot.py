"""The scale study as a picture: insolvency per unit of starting debt against the protocol's size,
each built-in at 1k, 10k and 100k vaults (`make bench`'s scale.* figures), with the market open
(each built-in's own market; docs/market.md) and, at 100k, the keepers' pool deepened with the
population (`_depth_scaled`); Black Thursday with the market closed beside it (market.closed_*,
the lab before issue 64). Each point is the lead figure, the median over the oracle's phases
(`*_insolvency_per_debt_median`), with a bar up to the worst phase (`_worst`); a run of one
phase (a synthetic path, or a figure not measured over the phases) is its one figure, drawn
hollow. Written to bench/scale.png by `ape run bench` (and `--scale-only`, `--phases-only`)
from the figures of bench/results.json, so the picture is the table's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from offchain.report.mpl import pyplot, ticker

__all__ = ["PLOT", "lead_figure", "scale_plot"]

PLOT = Path(__file__).resolve().parents[2] / "bench" / "scale.png"
SIZES = ((1_000, "1k"), (10_000, "10k"), (100_000, "100k"))
SCENARIOS = (
    "black-thursday-2020",
    "may-2021",
    "may-2021-cascade",
    "may-2021-two-types",
    "synthetic-crash",
)
CLOSED = {"synthetic-crash"}  # no volume in its path: its market stays closed


def lead_figure(results: dict[str, float], key: str) -> tuple[float, float | None] | None:
    """The insolvency per unit of debt of figure `key` (scale.<...>_<size>, market.<...>) as
    the table leads with it: (the median over the oracle's phases, the worst), or (the one
    phase's, None) where no median was measured; None when the results have neither."""
    median = results.get(f"{key}_insolvency_per_debt_median")
    if median is not None:
        return float(median), float(results[f"{key}_insolvency_per_debt_worst"])
    one = results.get(f"{key}_insolvency_per_debt")
    return None if one is None else (float(one), None)


def _draw(ax: Any, points: list[tuple[int, tuple[float, float | None]]], **style: Any) -> Any:
    """Points (vaults, lead figure): a line through them, filled where a median, hollow where
    one phase, a bar up to each worst phase."""
    xs = [v for v, _ in points]
    ys = [100 * f[0] for _, f in points]
    (line,) = ax.plot(xs, ys, **style)
    color = line.get_color()
    for v, (median, worst) in points:
        if worst is None:
            ax.plot([v], [100 * median], marker=style.get("marker", "o"), ls="none",
                    color=color, markerfacecolor="white")  # fmt: skip
        else:
            ax.vlines(v, 100 * median, 100 * worst, color=color, lw=1, alpha=0.6)
    return line


def scale_plot(results: dict[str, float], path: Path = PLOT) -> Path | None:
    """Draw the scale figures of `results` (bench/results.json's keys) to `path`; None when the
    results hold no scale figure (a bench run that did not measure them)."""
    fig, ax = pyplot().subplots(figsize=(9, 5.5))
    drawn = False
    for name in SCENARIOS:
        key = name.replace("-", "_")
        points = [
            (vaults, figure)
            for vaults, label in SIZES
            if (figure := lead_figure(results, f"scale.{key}_{label}")) is not None
        ]
        if not points:
            continue
        drawn = True
        label = (
            f"{name} (closed, one phase: a synthetic path has no venue)" if name in CLOSED else name
        )
        # the cascade's figures lie within 0.1 point of may-2021's: drawn so both show
        style = {"ls": ":", "marker": "x", "lw": 2.5} if name == "may-2021-cascade" else {}
        line = _draw(ax, points, **{"marker": "o", **style}, label=label)
        scaled = lead_figure(results, f"scale.{key}_100k_depth_scaled")
        if scaled is not None:
            _draw(ax, [(100_000, scaled)], marker="^", color=line.get_color(), ls="none")
    closed = [
        (vaults, figure)
        for vaults, label in SIZES
        if (figure := lead_figure(results, f"market.closed_{label}")) is not None
    ]
    if closed:
        _draw(
            ax,
            closed,
            marker="s",
            ls="none",
            color="grey",
            label="black-thursday-2020, market closed (before issue 64; 1k and 100k measured)",
        )
    if not drawn:
        pyplot().close(fig)
        return None
    ax.plot(
        [],
        [],
        marker="^",
        ls="none",
        color="black",
        label="100k, keepers' pool deepened with the vaults",
    )
    ax.set_xscale("log")
    ax.set_xticks([v for v, _ in SIZES], [label for _, label in SIZES])
    ax.xaxis.set_minor_locator(ticker().NullLocator())
    ax.yaxis.set_major_formatter(ticker().PercentFormatter(decimals=1))
    ax.set_xlabel(
        "vaults in the book (the scenario's caps, ceilings and keepers' capital scaled with them)"
    )
    ax.set_ylabel("insolvency / starting debt: the median over the oracle's phases")
    ax.plot([], [], color="black", lw=1, alpha=0.6, label="bar: up to the worst phase")
    hollow = "hollow: one phase (a synthetic path, or not measured over the phases)"
    ax.plot([], [], marker="o", ls="none", color="black", markerfacecolor="white", label=hollow)
    ax.set_title("Insolvency per unit of debt against the protocol's size (model, open market)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return path
