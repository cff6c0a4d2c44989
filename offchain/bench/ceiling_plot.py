"""The ceiling curve as a picture (offchain/bench/ceiling.py): for each built-in day, the drained
insolvency per unit of starting debt against the book's debt, the market's depth fixed: the
median over the oracle's phases (a line) with a bar up to the worst phase, past the first book
over the share the scenario's own phase alone (hollow, dotted), the calibration rows' worst
phases (thin lines, each up to its first book over the share), the share the
recommendation keeps under (CEILING_SHARE) and the recommended book (a dashed vertical line); on
a day of more than one collateral type, each type's own part of the insolvency over its own debt
at its worst phase (dash-dot), against that type's own debt, and its recommended debt.
Written to bench/ceiling.png by `ape run bench` (and `--ceiling-only`) from bench/results.json's
`_meta.ceiling_curves`, so the picture is the table's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from offchain.bench.ceiling import CEILING_SHARE, ceiling, type_points
from offchain.report.mpl import pyplot, ticker

__all__ = ["CEILING_PLOT", "ceiling_plot"]

CEILING_PLOT = Path(__file__).resolve().parents[2] / "bench" / "ceiling.png"


def _millions(x: float, _: Any) -> str:
    return f"{x / 1e6:,.0f}M" if x >= 1e6 else f"{x / 1e3:,.0f}k"


def ceiling_plot(
    curves: dict[str, Any], path: Path = CEILING_PLOT, share: float = CEILING_SHARE
) -> Path | None:
    """Draw `curves` (the meta's ceiling_curves: per day, "central" points and "rows") to
    `path`, one panel a day; None when there is none."""
    if not curves:
        return None
    below = any(
        len(d["central"][0].get("by_type", {})) > 1 for d in curves.values() if d["central"]
    )
    fig, axes = pyplot().subplots(
        1, len(curves), figsize=(5.2 * len(curves), 7.0 if below else 5.2), squeeze=False
    )
    for ax, (name, day) in zip(axes[0], curves.items()):
        central = [p for p in day["central"] if p["median"] is not None]
        tail = [p for p in day["central"] if p["median"] is None]
        xs = [p["debt"] for p in central]
        (line,) = ax.plot(xs, [100 * p["median"] for p in central], marker="o",
                          label="median over the phases")  # fmt: skip
        color = line.get_color()
        ax.plot(xs, [100 * p["worst"] for p in central], marker="v", ls="--", color=color,
                label="worst phase")  # fmt: skip
        for x, p in zip(xs, central):
            ax.vlines(x, 100 * p["median"], 100 * p["worst"], color=color, lw=1, alpha=0.5)
        if tail:
            ax.plot([central[-1]["debt"]] + [p["debt"] for p in tail],
                    [100 * central[-1]["median"]] + [100 * p["own_phase_share"] for p in tail],
                    ls=":", color=color)  # fmt: skip
            ax.plot([p["debt"] for p in tail], [100 * p["own_phase_share"] for p in tail],
                    ls="none", marker="o", color=color, markerfacecolor="white",
                    label="past the first book over: the scenario's own phase only")  # fmt: skip
        for k, (label, row) in enumerate(day["rows"].items()):
            pts = row["points"]
            ax.plot([p["debt"] for p in pts], [100 * p["worst"] for p in pts], lw=0.9,
                    alpha=0.8, color=f"C{k + 1}", marker=".",
                    label=f"worst phase, {label}")  # fmt: skip
        kinds = list(central[0].get("by_type", {})) if central else []
        if len(kinds) > 1:  # each type's own part over its own debt, at its worst phase
            for k, t in enumerate(kinds):
                pts = [p for p in central if p["by_type"][t]["worst"] is not None]
                color = f"C{len(day['rows']) + k + 1}"
                ax.plot([p["by_type"][t]["debt"] for p in pts],
                        [100 * p["by_type"][t]["worst"] for p in pts], lw=1.4, ls="-.",
                        color=color, marker="x",
                        label=f"worst phase, {t}'s part / its debt, against its debt")  # fmt: skip
                own = ceiling(type_points(central, t), share)["ceiling"]
                if own is not None:
                    ax.axvline(own["debt"], color=color, lw=1.2, ls="-.",
                               label=f"{t}'s own: {_millions(own['debt'], None)} of {t} debt "
                               f"(in a book of {_millions(own['book_debt'], None)})")  # fmt: skip
        ax.axhline(100 * share, color="black", lw=0.8, ls=":")
        found = ceiling(central, share)
        if found["ceiling"] is not None:
            debt = found["ceiling"]["debt"]
            ax.axvline(debt, color="black", lw=1.2, ls="--",
                       label=f"recommended: {_millions(debt, None)}")  # fmt: skip
        none = "the whole book: over the share at the smallest book, no ceiling on the grid"
        if found["ceiling"] is None and len(kinds) <= 1:
            ax.text(0.02, 0.95, none.replace(": ", ":\n", 1), transform=ax.transAxes, va="top",
                    fontsize=8)  # fmt: skip
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ticker().FuncFormatter(_millions))
        ax.yaxis.set_major_formatter(ticker().PercentFormatter(decimals=1))
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(
            "starting debt (log): the book's; dash-dot, the type's own"
            if len(kinds) > 1
            else "the book's starting debt (log)"
        )
        ax.grid(True, alpha=0.3)
        if len(kinds) > 1:  # its curves fill the panel: the legend goes under it
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13),
                      title=none if found["ceiling"] is None else None,
                      title_fontsize=7)  # fmt: skip
        else:
            where = "upper left" if found["ceiling"] is not None else "center left"
            ax.legend(fontsize=7, loc=where)
    axes[0][0].set_ylabel(f"insolvency / starting debt, drained (dotted: {share:.0%})")
    fig.suptitle("How large a book the market can carry (model, the day's market depth fixed)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return path
