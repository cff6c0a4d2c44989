"""The scale study as a picture: insolvency per unit of starting debt against the protocol's size,
each built-in at 1k, 10k and 100k vaults (`make bench`'s scale.* figures), with the market open
(each built-in's own market; docs/market.md) and, at 100k, the keepers' pool deepened with the
population (`_depth_scaled`); Black Thursday with the market closed beside it (market.closed_*,
the lab before issue 64). Written to bench/scale.png by `ape run bench` (and `--scale-only`)
from the figures of bench/results.json, so the picture is the table's."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker

__all__ = ["PLOT", "scale_plot"]

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


def scale_plot(results: dict[str, float], path: Path = PLOT) -> Path | None:
    """Draw the scale figures of `results` (bench/results.json's keys) to `path`; None when the
    results hold no scale figure (a bench run that did not measure them)."""
    fig, ax = plt.subplots(figsize=(9, 5.5))
    drawn = False
    for name in SCENARIOS:
        key = name.replace("-", "_")
        points = [
            (vaults, results[f"scale.{key}_{label}_insolvency_per_debt"])
            for vaults, label in SIZES
            if f"scale.{key}_{label}_insolvency_per_debt" in results
        ]
        if not points:
            continue
        drawn = True
        xs, ys = zip(*points, strict=True)
        label = f"{name} (closed: a synthetic path has no venue)" if name in CLOSED else name
        # the cascade's figures lie within 0.1 point of may-2021's: drawn so both show
        style = {"ls": ":", "marker": "x", "lw": 2.5} if name == "may-2021-cascade" else {}
        (line,) = ax.plot(xs, [100 * y for y in ys], **{"marker": "o", **style}, label=label)
        scaled = results.get(f"scale.{key}_100k_depth_scaled_insolvency_per_debt")
        if scaled is not None:
            ax.plot([100_000], [100 * scaled], marker="^", color=line.get_color(), ls="none")
    closed = [
        (vaults, results[f"market.closed_{label}_insolvency_per_debt"])
        for vaults, label in SIZES
        if f"market.closed_{label}_insolvency_per_debt" in results
    ]
    if closed:
        xs, ys = zip(*closed, strict=True)
        ax.plot(
            xs,
            [100 * y for y in ys],
            marker="s",
            ls="none",
            color="grey",
            label="black-thursday-2020, market closed (before issue 64; 1k and 100k measured)",
        )
    if not drawn:
        plt.close(fig)
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
    ax.xaxis.set_minor_locator(mticker.NullLocator())
    ax.yaxis.set_major_formatter(mticker.PercentFormatter(decimals=1))
    ax.set_xlabel(
        "vaults in the book (the scenario's caps, ceilings and keepers' capital scaled with them)"
    )
    ax.set_ylabel("insolvency (headline) / starting debt")
    ax.set_title("Insolvency per unit of debt against the protocol's size (model, open market)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
