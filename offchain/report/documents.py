"""The risk report of a crash replay (offchain/sim/run/driver.py): what governance reads.

`write_report` turns one `SimulationResult` into a directory:

    summary.md, summary.html     headline (the lead figure: the median over the oracle's
                                 phases where measured), reconciliation verdict, scenario,
                                 outcome, who paid, largest payers, timeline, plots
    facts.json                   the headline, machine-readable (report/headline.py
                                 `lead_facts`): `insolvency` the lead figure, then every fact
                                 of the reported run under `run`
    plots/*.png                  price, unsafe_vaults, gas, debt_collateral, auctions,
                                 waterfall, collateralization
    data/<table>.parquet, .csv   every table of the result, as is

`write_comparison` puts runs of one scenario under different waterfall orders side by side:
comparison.md, comparison.html, comparison.csv and plots/comparison.png.

Both build the directory in a hidden sibling and move it in place only when it is complete, so
`out_dir` holds either the previous report or the new one, never part of one. Amounts are the
result's floats (whole units), printed with thousands separators and 2 decimals; times are UTC.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from offchain.report.headline import headline_rows, lead, lead_facts, one_phase_text
from offchain.report.plots import (
    plot_auctions,
    plot_collateralization,
    plot_comparison,
    plot_debt_collateral,
    plot_gas,
    plot_price,
    plot_types,
    plot_unsafe,
    plot_waterfall,
)
from offchain.report.survival import describe as describe_wait
from offchain.report.survival import run_curve
from offchain.report.tables import (
    LAYERS,
    LOSS_PARTS,
    TOP_PAYERS,
    UNCOVERED_PARTS,
    auctions_finished,
    deferred_by_type,
    format_amount,
    format_duration,
    format_share,
    largest_payers,
    loss_decomposition,
    paid_by_layer,
    realized_bad_debt,
    result_table,
    symbols,
    time_to_clear,
    uncovered_loss,
    uncovered_parts,
    utc_times,
    vault_charges,
    vaults_liquidated,
)
from offchain.sim.results.cascade import Cascade
from offchain.sim.results.keeper_outcomes import KEEPER_NAMES, LANDED_SHARE_FLOOR
from offchain.sim.results.tables import Reconciliation, SimulationResult
from offchain.system.outputs import OutputError, check_folder, publish_folder

PLOTS = (
    "price",
    "unsafe_vaults",
    "gas",
    "debt_collateral",
    "auctions",
    "waterfall",
    "collateralization",
)
CSS = "\n".join(
    (
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#222}",
        "h1{font-size:1.6rem}",
        "h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}",
        "table{border-collapse:collapse;margin:.5rem 0}",
        "th,td{border:1px solid #ccc;padding:.25rem .6rem}",
        "th{background:#f3f3f3;text-align:left}",
        "td.num{text-align:right;font-variant-numeric:tabular-nums}",
        "pre{background:#f6f6f6;padding:.6rem;overflow-x:auto}",
        "img{max-width:100%;display:block;margin:1rem 0}",
    )
)


class ReportError(Exception):
    """The report cannot be written where asked; the message is one line."""


# --- content: one list of blocks, rendered as Markdown and as HTML ---------------------------


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Text:
    text: str
    label: str = ""  # printed in bold before the text


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    numeric: tuple[int, ...] = ()  # right-aligned columns


@dataclass(frozen=True)
class Code:
    lines: list[str]


@dataclass(frozen=True)
class Image:
    name: str  # plots/<name>.png


@dataclass(frozen=True)
class Bullets:
    items: list[str]


Block = Heading | Text | Table | Code | Image | Bullets

# this project's directory with its separator: a report names the files it read relative to the
# project (data/market/eth_usd_2020-03-12.csv), never the directories of the machine it ran on
PROJECT_DIR = str(Path(__file__).resolve().parents[2]) + os.sep


def to_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {b.text}")
        elif isinstance(b, Text):
            out.append(f"**{b.label}:** {b.text}" if b.label else b.text)
        elif isinstance(b, Table):
            cell = lambda c: c.replace("|", "\\|")  # noqa: E731
            rule = ["---:" if i in b.numeric else "---" for i in range(len(b.headers))]
            lines = [b.headers, tuple(rule)] + [tuple(cell(c) for c in r) for r in b.rows]
            out.append("\n".join("| " + " | ".join(line) + " |" for line in lines))
        elif isinstance(b, Code):
            out.append("```\n" + "\n".join(b.lines) + "\n```")
        elif isinstance(b, Image):
            out.append(f"![{b.name}](plots/{b.name}.png)")
        else:
            out.append("\n".join(f"- {item}" for item in b.items))
    return ("\n\n".join(out) + "\n").replace(PROJECT_DIR, "")


def _cells(row: tuple, numeric: tuple[int, ...]) -> str:
    """One HTML table row's cells, the numeric columns right-aligned."""
    e = html.escape
    return "".join(
        f'<td class="num">{e(str(c))}</td>' if i in numeric else f"<td>{e(str(c))}</td>"
        for i, c in enumerate(row)
    )


def to_html(blocks: list[Block], title: str) -> str:
    e = html.escape
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{e(b.text)}</h{b.level}>")
        elif isinstance(b, Text):
            out.append(
                f"<p><strong>{e(b.label)}:</strong> {e(b.text)}</p>"
                if b.label
                else f"<p>{e(b.text)}</p>"
            )
        elif isinstance(b, Table):
            head = "".join(f"<th>{e(h)}</th>" for h in b.headers)
            body = "".join(f"<tr>{_cells(r, b.numeric)}</tr>" for r in b.rows)
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(b, Code):
            out.append(f"<pre><code>{e(chr(10).join(b.lines))}</code></pre>")
        elif isinstance(b, Image):
            out.append(f'<img src="plots/{e(b.name)}.png" alt="{e(b.name)}">')
        else:
            out.append("<ul>" + "".join(f"<li>{e(item)}</li>" for item in b.items) + "</ul>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta '
        f'charset="utf-8">\n<title>{e(title)}</title>\n'
        f"<style>\n{CSS}\n</style>\n</head>\n<body>\n" + "\n".join(out) + "\n</body>\n</html>\n"
    ).replace(e(PROJECT_DIR), "")


# --- formatting ----------------------------------------------------------------------------


def _verdict(reconciliation: Reconciliation | None) -> list[Block]:
    if reconciliation is None:
        return [Text("model only, not reconciled with a chain run", label="Reconciliation")]
    r = reconciliation
    compared = (
        f"{r.events_compared:,} events, {r.txs_compared:,} transactions, {r.bars_compared:,} bar "
        f"snapshots, {r.state_checks:,} full-state checks (every state variable, "
        f"{r.state_variables_compared:,} values)"
    )
    if r.ok:
        return [Text(f"Chain and model agree: {compared} — 0 differences", label="Reconciliation")]
    n, shown = r.diff_count, r.diffs[:10]
    first = f" — first: {shown[0]}" if shown else ""
    more = [f"... and {n - len(shown):,} more"] if n > len(shown) else []
    return [
        Text(
            f"Chain and model DISAGREE: {n:,} difference{'s' if n != 1 else ''}{first} (compared "
            f"{compared})",
            label="Reconciliation",
        ),
        Code(shown + more),
    ]


def _outcome(result: SimulationResult) -> list[Block]:
    stable, coll = symbols(result)
    vaults, liquidations = result_table(result, "vaults"), result_table(result, "liquidations")
    takes, losses = result_table(result, "takes"), result_table(result, "losses")
    realized = float(losses["loss"].sum())
    became_unsafe = (
        utc_times(vaults["unsafe_since"]).notna()
        | utc_times(vaults["liquidated_at"]).notna()
        | (pd.to_numeric(vaults["liquidations"]).fillna(0) > 0)
    )
    # the vaults never liquidated counted as censored, not dropped (report/survival.py)
    delay = (
        describe_wait(run_curve(result.tables))
        if {"vaults", "liquidations", "bars"} <= set(result.tables)
        else "-"
    )
    sold = takes["collateral"].sum()
    if len(takes) and sold > 0:
        ratio = takes["price"] / takes["market_price"]
        clearing = (
            f"{(ratio * takes['collateral']).sum() / sold:.1%} of market (volume-weighted mean), "
            f"lowest {ratio.min():.1%}"
        )
    else:
        clearing = "- (no takes)"
    rows = [
        ("vaults", f"{len(vaults):,}"),
        ("vaults that became unsafe", f"{int(became_unsafe.sum()):,}"),
        ("vaults liquidated (distinct owners)", f"{vaults_liquidated(result):,}"),
        ("liquidations", f"{len(liquidations):,}"),
        ("time from unsafe to liquidated", delay),
        ("auctions started / finished", f"{len(liquidations):,} / {auctions_finished(result):,}"),
        (
            "time to clear (first liquidation to the last auction's close)",
            _clear_text(result),
        ),
        ("collateral sold", format_amount(sold, coll)),
        ("auction clearing price vs market", clearing),
        (
            "realized bad debt (auctions that finished short)"
            + (f", {_several_types(result)[0]}" if _several_types(result) else ""),
            format_amount(realized, stable),
        ),
        ("of it, not yet paid by any layer", format_amount(uncovered_loss(result), stable)),
        *_end_of_run_rows(result, stable, coll),
        *(
            [
                (
                    "deepest price impact of liquidation sales",
                    f"{1 - float(result.facts['impact_lowest_level']):.2%} below the fundamental "
                    "price",
                )
            ]
            if result.facts.get("impact_lowest_level", 1.0) < 1.0
            else []
        ),
        (
            "peak debt in auction",
            format_amount(float(result.facts["peak_debt_in_auction"]), stable)
            if "peak_debt_in_auction" in result.facts
            else "- (not recorded)",
        ),
    ]
    p = lead(result.facts)
    heading = (
        "Outcome"
        if p is None or p.get("reported_phase") is None
        else f"Outcome: the reported run, oracle phase {int(p['reported_phase']):,} s (one of "
        f"the {int(p['phases'])} in the headline)"
    )
    blocks: list[Block] = [Heading(heading), Table(("measure", "value"), rows, numeric=(1,))]
    if not len(liquidations):
        blocks.append(Text("No vault was liquidated."))
    cut = _cut_text(result, stable)
    if cut:
        blocks.append(Text(cut, label="The run was cut"))
    return blocks


def _plots(result: SimulationResult) -> tuple[str, ...]:
    """The report's plots: PLOTS, and with several collateral types one panel per type."""
    return PLOTS + (("types",) if _several_types(result) else ())


def _several_types(result: SimulationResult) -> list[str]:
    types = result.facts.get("collateral_types") or []
    return [str(t) for t in types] if len(types) > 1 else []


def _types_note(result: SimulationResult) -> list[Block]:
    """A run of several collateral types: what the outcome table adds up and what it does not."""
    types = _several_types(result)
    if not types:
        return []
    return [
        Text(
            f"This run has {len(types)} collateral types ({', '.join(types)}) sharing one "
            f"Backstop. In the outcome table the vaults and the end-of-run lines (realized bad "
            f"debt of every type, auctions still running, unsafe vaults, insolvency) add up every "
            f"type; the liquidations, takes, auctions and the first realized bad debt line are "
            f"{types[0]}'s, as are who paid, where the loss "
            "came from, the timeline and the plots. Every type's figures: Collateral types and "
            "contagion.",
            label="Several collateral types",
        )
    ]


def _contagion(result: SimulationResult) -> list[Block]:
    """Per collateral type: its liquidations, its realized bad debt and which layer of the shared
    backstop paid it, and its insolvency (the contagion table)."""
    types = _several_types(result)
    if not types or "contagion" not in result.tables:
        return []
    stable, _ = symbols(result)
    table = result.tables["contagion"]
    layers = ("fund", "stability_pool", "debt_auction", "redistribution", "settlement")
    rows = []
    for r in table.to_dict("records"):
        paid = ", ".join(
            f"{layer} {format_amount(float(r[layer]), stable)}"
            for layer in layers
            if float(r[layer])
        )
        rows.append(
            (
                str(r["collateral_type"]),
                f"{int(r['liquidations']):,}",
                format_amount(float(r["debt_liquidated"]), stable),
                format_amount(float(r["realized_bad_debt"]), stable),
                paid or "-",
                format_amount(float(r["not_yet_allocated"]), stable),
                format_amount(float(r["insolvency"]), stable),
            )
        )
    rows.append(
        (
            "all types",
            f"{int(table['liquidations'].sum()):,}",
            format_amount(float(table["debt_liquidated"].sum()), stable),
            format_amount(float(table["realized_bad_debt"].sum()), stable),
            ", ".join(
                f"{layer} {format_amount(float(table[layer].sum()), stable)}"
                for layer in layers
                if float(table[layer].sum())
            )
            or "-",
            format_amount(float(table["not_yet_allocated"].sum()), stable),
            format_amount(float(table["insolvency"].sum()), stable),
        )
    )
    return [
        Heading("Collateral types and contagion"),
        Table(
            (
                "type",
                "liquidations",
                "debt liquidated",
                "realized bad debt",
                "paid by (shared layers)",
                "not yet paid",
                "insolvency",
            ),
            rows,
            numeric=(1, 2, 3, 5, 6),
        ),
        Text(
            "Each type's realized bad debt and the layers of the one Backstop that paid it: the "
            "fund (surplus from every type's fees and penalties), the stability pool (stakes "
            "exposed to every type), the debt auction (governance-token holders). A loss on one "
            "type paid from income another type earned is contagion through the shared "
            "backstop. Per type and bar: data/types.csv."
        ),
        *_headroom(result),
    ]


def _budgets(result: SimulationResult) -> list[Block]:
    """What the keepers' gas budgets deferred, per collateral type (sim/strategies/gas_budget.py);
    nothing for a run without a budget."""
    budgets = result.facts.get("gas_budgets") or {}
    table = deferred_by_type(result)
    if not any(budgets.values()) and not len(table):
        return []
    columns = ("liquidations", "takes", "resets", "backstop", "binding")
    rows = [
        (str(r["collateral_type"]), *(f"{int(r[k]):,}" for k in columns))
        for r in table.to_dict("records")
    ]
    if len(rows) > 1:
        rows.append(("all", *(f"{int(table[k].sum()):,}" for k in columns)))
    set_ = ", ".join(
        f"{who} {int(budgets[key]):,}"
        for key, who in (
            ("liquidation", "the liquidation keeper"),
            ("taker", "each taker"),
            ("backstop", "the backstop keeper"),
        )
        if budgets.get(key)
    )
    txs = result_table(result, "txs")
    dropped = int((txs["status"] == "dropped").sum())
    deferred = int((txs["status"] == "deferred").sum())
    blocks: list[Block] = [
        Heading("Keepers' gas budgets"),
        Text(
            f"Gas a keeper may spend in a bar, over every collateral type: {set_ or 'none'}. "
            "Of what it wants, a keeper sends the most valuable per gas first (takes by "
            "expected profit, liquidations by the vault's debt, covers by the loss; resets and "
            "other chores after them) and defers what does not fit to the next bar, where it "
            "plans again. Each transaction's gas is an estimate from the benchmark "
            "(docs/simulation.md). Counted as dropped actions are, once for each bar an action "
            f"waited: {deferred:,} deferred transactions; the latency model dropped {dropped:,} "
            "keeper transactions besides (a gas bid below the bar's 30th percentile). Per "
            "action and bar: data/deferred.csv."
        ),
    ]
    if not rows:
        return [*blocks, Text("The budgets never bound: nothing was deferred.")]
    return [
        *blocks,
        Table(
            (
                "type",
                "vaults not liquidated",
                "takes",
                "resets",
                "backstop keeper's",
                "of them, when the keeper's sent transactions landed",
            ),
            rows,
            numeric=(1, 2, 3, 4, 5),
        ),
        Text(
            "Each bar an action waited counts once (a vault left unsafe for ten bars, ten "
            "times). The last column counts what was deferred in a bar whose sent transactions "
            "of the same keeper landed: there the budget, not the gas bid, held it back. In "
            "the other bars the latency model dropped what the keeper sent and would have "
            "dropped the rest too (the same bid in the same bar)."
        ),
    ]


def _soft_liquidations(result: SimulationResult) -> list[Block]:
    """Margin calls: the soft liquidations of opted-in vaults per collateral type, beside the
    type's liquidations (sim/strategies/soft_liquidator.py); nothing for a run where no owner opted
    in."""
    f = result.facts
    if not f.get("opted_in_vaults"):
        return []
    stable, _ = symbols(result)
    soft = result_table(result, "soft_liquidations")
    contagion = {
        str(r["collateral_type"]): (int(r["liquidations"]), float(r["debt_liquidated"]))
        for r in result_table(result, "contagion").to_dict("records")
    }
    rows = []
    for name, (liquidations, debt_liquidated) in contagion.items():
        mine = soft[soft["collateral_type"] == name]
        rows.append(
            (
                name,
                f"{len(mine):,}",
                f"{mine['owner'].nunique():,}",
                f"{mine['debt'].sum():,.2f}",
                f"{(mine['collateral'] * mine['market_price']).sum():,.2f}",
                f"{mine['bonus_value'].sum():,.2f}",
                f"{mine['bonus_at_market'].sum():,.2f}",
                f"{liquidations:,}",
                f"{debt_liquidated:,.2f}",
            )
        )
    return [
        Heading("Margin calls: soft liquidations"),
        Text(
            f"{f['opted_in_vaults']:,} vaults' owners opted in to soft liquidation. A called "
            "vault (safe, but below its liquidation ratio x the warning factor at the oracle's "
            "current price) of an owner who opted in is soft-liquidated by the soft liquidator "
            "when the bonus pays its gas: it repays the least debt that lifts the vault above its "
            "warning level (more, up to the close factor, where that least does not pay), for "
            "collateral worth the debt x (1 + bonus) at the highest price the oracle knows, and "
            "sells that collateral on the external market as a take's is. The owners' cost is "
            "the collateral at the bar's market price less the debt repaid (the bonus the event "
            "states is at the exchange price). Per call: data/soft_liquidations.csv."
        ),
        Table(
            (
                "type",
                "soft liquidations",
                "vaults",
                f"debt repaid [{stable}]",
                f"collateral moved, at market [{stable}]",
                f"bonus, at the exchange price [{stable}]",
                f"owners' cost, at market [{stable}]",
                "liquidations",
                f"debt liquidated [{stable}]",
            ),
            rows,
            numeric=(1, 2, 3, 4, 5, 6, 7, 8),
        ),
    ]


def _headroom(result: SimulationResult) -> list[Block]:
    """The least room each type's debt ceiling and the shared global ceiling left in the run
    (a ceiling that binds stops borrowing, and the CeilingManager moves a type's)."""
    bars = result.tables.get("types")
    if bars is None or not len(bars) or "debt_ceiling" not in bars:
        return []
    stable, _ = symbols(result)
    parts = []
    for name, rows in bars.groupby("collateral_type", sort=False):
        # a ceiling lowered below the debt leaves no room (not a negative one)
        room = (rows["debt_ceiling"] - rows["debt"]).clip(lower=0).to_numpy(dtype=float)
        k = int(room.argmin())
        ceiling = float(rows["debt_ceiling"].to_numpy(dtype=float)[k])
        parts.append(
            f"{name} {format_amount(float(room[k]), stable)} under {format_amount(ceiling, stable)}"
        )
    shared = format_amount(float(bars["global_headroom"].min()), stable)
    return [
        Text(
            f"Least room left under the debt ceilings in the run: {'; '.join(parts)}; under the "
            f"global ceiling every type shares, {shared}."
        )
    ]


def _clear_text(result: SimulationResult) -> str:
    seconds = time_to_clear(result)
    if seconds is not None:
        return f"{seconds / 3600:,.1f} h"
    if not len(result_table(result, "liquidations")):
        return "- (no liquidations)"
    return "not cleared: auctions still running at the end"


def _end_of_run_rows(result: SimulationResult, stable: str, coll: str) -> list[tuple[str, str]]:
    """The end-of-run accounting (sim/results/insolvency.py); none for a result that has none."""
    f = result.facts
    if "insolvency" not in f:
        return []
    types = _several_types(result)
    mark = format_amount(f["mark_price"], stable)
    # several types: every type's amounts added up, each marked at its own price; collateral of
    # different tokens is not added (the contagion table has each type's)
    held = "every type's collateral" if types else format_amount(f["open_auction_collateral"], coll)
    marked = (
        "each type's collateral marked at its last market price"
        if types
        else f"collateral marked at the last market price ({mark})"
    )
    realized = (
        [
            (
                "realized bad debt, every type",
                format_amount(float(f["realized_bad_debt"]), stable),
            )
        ]
        if types
        else []
    )
    return [
        *realized,
        (
            "auctions still running at the end",
            f"{f['open_auctions']:,}: {held} "
            f"against {format_amount(f['open_auction_debt'], stable)} not yet raised",
        ),
        (
            f"their shortfall, {marked}",
            format_amount(f["open_auction_shortfall"], stable),
        ),
        (
            "stress: their shortfall if every lot were sold at once into the keepers' pool",
            f"{format_amount(f['open_auction_fire_sale_shortfall'], stable)} (the pool would pay "
            f"{format_amount(f['open_auction_sale_value'], stable)})",
        ),
        (
            "vaults unsafe at that price, not (yet) liquidated",
            f"{f['unsafe_vaults_left']:,}, {format_amount(f['unsafe_vault_debt'], stable)} of debt",
        ),
        ("their shortfall at that price", format_amount(f["unsafe_vault_shortfall"], stable)),
        *_marked_rows(f, stable, types),
        (
            "insolvency at the last price (optimistic bound: realized bad debt"
            + (", every type," if types else "")
            + " + both shortfalls at that price)",
            format_amount(f.get("insolvency_last_price", f["insolvency"]), stable),
        ),
        (
            "insolvency marked at the run's end (realized bad debt"
            + (", every type," if types else "")
            + " + both marked shortfalls)",
            format_amount(f.get("insolvency_mark", f["insolvency"]), stable),
        ),
        (
            "INSOLVENCY (the open book run out by the run's keepers at the last price, what is "
            "still open at the horizon marked: the headline)",
            format_amount(f["insolvency"], stable),
        ),
    ]


def _marked_rows(f: Mapping[str, Any], stable: str, types: list[str]) -> list[tuple[str, str]]:
    """The conservative mark's rows (sim/results/insolvency.py); none for a result without one.
    An open market's mark sells on a copy of the outside venue; a closed one's into a
    constant-product depth (the external market's, or the keepers' pool's reserve)."""
    if "open_auction_marked_shortfall" not in f:
        return []
    depth = float(f["mark_depth"])
    after = f", the price falling to {format_amount(float(f['mark_price_after_sales']), stable)}"
    each = " (the first type's; each type its own)" if types else ""
    if _venue_marked(f):
        market = (
            "on a copy of the outside venue, with its memory of the run's trades decaying, in "
            "equal parts over the bars after the run (the scenario table's external market)"
            + each
            + after
        )
    elif depth:
        market = (
            f"into a constant-product market of {format_amount(depth, stable)} per side (the "
            "external market's depth, or without price impact the keepers' pool's stablecoin "
            "reserve at the end)" + each + after
        )
    else:
        market = "at the last price (no market depth)"
    return [
        (
            "marked: everything still open sold in the keepers' order " + market,
            f"auctions {format_amount(float(f['open_auction_marked_shortfall']), stable)} short, "
            f"unsafe vaults {format_amount(float(f['unsafe_vault_marked_shortfall']), stable)} "
            "short",
        )
    ]


def _venue_marked(f: Mapping[str, Any]) -> bool:
    """Whether the first type's open book was marked on the outside venue (an open market with
    a venue: snapshot.outside_facts gives its trades)."""
    return f.get("outside") == "open" and "venue_sold" in f


def _market_in_run(result: SimulationResult) -> list[tuple[str, str]]:
    """The scenario table's row on what the first type's market did in the run: the lowest
    market price over the fundamental (the venue's or the external market's impact), and an
    open market's trades with the venue; none where the market price is the path."""
    f = result.facts
    bars = result.tables.get("bars")
    if bars is None or not len(bars) or "fundamental_price" not in bars:
        return []
    fundamental = pd.to_numeric(bars["fundamental_price"], errors="coerce")
    market = pd.to_numeric(bars["market_price"], errors="coerce")
    ratio = market / fundamental.where(fundamental > 0)
    if ratio.isna().all():
        return []
    low = ratio.idxmin()
    when: Any = bars.at[low, "time"]
    _, coll = symbols(result)
    text = (
        f"the lowest market price {float(ratio[low]):.2%} of the fundamental "
        f"({format_duration(float(when))})"
    )
    if _venue_marked(f):
        text += (
            f"; the venue took {float(f['venue_sold']):,.0f} {coll} and sold "
            f"{float(f['venue_bought']):,.0f}; {int(f.get('resales', 0)):,} resales by the "
            "capital taker"
        )
    elif float(ratio.min()) >= 1.0:
        return []
    return [("the market in this run", text)]


def _cut_text(result: SimulationResult, stable: str) -> str:
    """What a run left under way at its last bar, said plainly; empty when nothing was."""
    f = result.facts
    if "insolvency" not in f or not (f["open_auctions"] or f["unsafe_vaults_left"]):
        return ""
    parts = []
    if f["open_auctions"]:
        parts.append(
            f"{f['open_auctions']:,} auctions were still running, holding "
            f"{format_amount(f['open_auction_debt'], stable)} of debt not yet raised"
        )
    # the debt in auction at a limit of the Liquidator's: new liquidations waited for room
    peak = float(f.get("peak_debt_in_auction", 0))
    limits = [
        (float(f[key]), what)
        for key, what in (
            ("max_debt_in_auction", "the limit on every type's debt in auction"),
            ("auction_cap", f"{f.get('collateral_type', 'the type')}'s auction cap"),
        )
        if key in f and float(f[key]) > 0
    ]
    reached = [(cap, what) for cap, what in limits if peak >= 0.99 * cap]
    if f["unsafe_vaults_left"]:
        why = (
            "the delayed oracle had not yet shown it, or no keeper had acted"
            if not reached
            else "the delayed oracle had not yet shown it, no keeper had acted, or the "
            "Liquidator had no room: see below"
        )
        parts.append(
            f"{f['unsafe_vaults_left']:,} vaults were unsafe at the last market price and not "
            f"yet liquidated ({why})"
        )
    jam = (
        f" Debt in auction peaked at {format_amount(peak, stable)}, at "
        + " and ".join(f"{what} ({format_amount(cap, stable)})" for cap, what in reached)
        + ": while it is full, a liquidation waits for an auction to finish, so the pipeline "
        "jams when the pool cannot clear the lots (a sweep over the grid keys `auction_cap` "
        "and `pool_depth` sizes them; the limit on every type's is the config's "
        "`max_debt_in_auction`)."
        if reached
        else ""
    )
    drained = int(f.get("drained_bars", 0))
    return (
        "When the run ended"
        + (f" (after {drained:,} bars of drain at the last price)" if drained else "")
        + ", "
        + " and ".join(parts)
        + ". Realized bad debt counts only the auctions that finished; the headline's "
        "insolvency lets the run's own keepers go on at the last price until they finish or "
        "the drain's horizon passes, and marks what is still open then; the end-of-run mark "
        "sells them at once into the scenario's market in the keepers' order (the price "
        "falling with each sale); at the last market price instead they would lose less. "
        + (
            "More drain bars (`--drain`) let more of them finish."
            if drained
            else "`--drain BARS` runs on at the last price until they finish."
        )
        + jam
    )


def _who_paid(result: SimulationResult) -> list[Block]:
    stable, _ = symbols(result)
    bad_debt, paid = realized_bad_debt(result), paid_by_layer(result)
    blocks: list[Block] = [Heading("Who paid")]
    if not bad_debt and not any(paid.values()):
        return blocks + [Text("No bad debt: no layer paid anything.")]
    rows = [
        (layer, format_amount(amount, stable), format_share(amount, bad_debt))
        for layer, amount in paid.items()
    ]
    rows += [
        (f"uncovered: {part}", format_amount(amount, stable), format_share(amount, bad_debt))
        for part, amount in uncovered_parts(result).items()
    ]
    rows.append(
        ("total bad debt", format_amount(bad_debt, stable), format_share(bad_debt, bad_debt))
    )
    blocks.append(Table(("layer", "paid", "share of bad debt"), rows, numeric=(1, 2)))
    blocks.append(
        Text(
            "Uncovered: "
            + "; ".join(f"{part}, {what}" for part, what in UNCOVERED_PARTS.items())
            + ". The deleveraging layer's row counts only what vaults paid."
        )
    )
    fund_start = result.facts.get("insurance_fund_start")
    if fund_start is not None and paid.get("fund", 0.0) > float(fund_start):
        blocks.append(
            Text(
                f"The fund paid more than the {format_amount(float(fund_start), stable)} it "
                "started with: the insurance fund is the Backstop's surplus, and penalties and "
                "stability fees flowed into it during the run."
            )
        )
    parts = loss_decomposition(result)
    blocks.append(Heading("Where the realized loss came from"))
    blocks.append(
        Table(
            ("part", "amount", "share of the realized loss"),
            [
                (
                    f"{name}: {LOSS_PARTS[name]}",
                    format_amount(amount, stable),
                    format_share(amount, bad_debt),
                )
                for name, amount in parts.items()
            ],
            numeric=(1, 2),
        )
    )
    payers = largest_payers(result, 10)
    blocks.append(Heading("Largest payers"))
    if not len(payers):
        return blocks + [Text("No payer receipts.")]
    return blocks + [
        Table(
            ("payer", "kind", "layer", "amount"),
            [
                (str(p.payer), str(p.kind), str(p.layer), format_amount(p.amount, stable))
                for p in payers.itertuples()
            ],
            numeric=(3,),
        )
    ]


def _timeline(result: SimulationResult) -> list[Block]:
    stable, coll = symbols(result)
    moments: list[tuple[Any, str]] = []  # (time: a table cell, what happened)
    vaults = result_table(result, "vaults")
    unsafe = utc_times(vaults["unsafe_since"])
    if unsafe.notna().any():
        moments.append((unsafe.min(), f"first vault unsafe: {vaults['owner'][unsafe.idxmin()]}"))
    liquidations = result_table(result, "liquidations")
    if len(liquidations):
        at = lambda column: liquidations.at[liquidations["time"].idxmin(), column]  # noqa: E731
        moments.append(
            (
                at("time"),
                f"first liquidation: {at('owner')}, {format_amount(at('collateral'), coll)} "
                f"seized for {format_amount(at('debt'), stable)} of debt",
            )
        )
    bars = result_table(result, "bars")
    if len(bars):
        low = bars["market_price"].idxmin()
        moments.append(
            (
                bars.at[low, "time"],
                f"lowest market price: {format_amount(bars.at[low, 'market_price'], stable)}",
            )
        )
    losses = result_table(result, "losses")
    closed = utc_times(losses["closed"]).where(losses["loss"] > 0)
    if closed.notna().any():
        first_loss = closed.idxmin()
        moments.append(
            (
                closed.min(),
                f"first loss: auction {losses.at[first_loss, 'auction_id']} closed "
                f"{format_amount(losses.at[first_loss, 'loss'], stable)} short",
            )
        )
    allocations = result_table(result, "allocations")
    if len(allocations):
        cover = allocations["time"].idxmin()
        moments.append(
            (
                allocations.at[cover, "time"],
                f"first cover: {allocations.at[cover, 'layer']} paid "
                f"{format_amount(allocations.at[cover, 'amount'], stable)} "
                f"(auction {allocations.at[cover, 'auction_id']})",
            )
        )
    if not moments:
        return []
    return [
        Heading("Timeline"),
        Table(
            ("time", "what"),
            [(format_duration(t), what) for t, what in sorted(moments, key=lambda m: m[0])],
        ),
    ]


def _data_files(tables: Mapping[str, pd.DataFrame]) -> list[Block]:
    return [
        Heading("Data"),
        Bullets(
            [
                f"data/{name}.parquet, data/{name}.csv ({len(df):,} rows)"
                for name, df in tables.items()
            ]
        ),
    ]


def _run(result: SimulationResult) -> str:
    """The backend, and the run's size and duration where the facts have them."""
    f = result.facts
    parts = [result.backend]
    if "bars" in f and "bar_seconds" in f:
        parts.append(
            f"{f['bars']:,} bars of {f['bar_seconds']} s"
            + (f", {f['start']} to {f['end']}" if "start" in f and "end" in f else "")
        )
    if "transactions" in f:
        parts.append(f"{f['transactions']:,} transactions")
    timings = [
        f"{name} {f[key]:,.1f} s"
        for name, key in (("Anvil", "chain_run_s"), ("model", "model_run_s"))
        if key in f
    ] or ([f"run {f['run_s']:,.1f} s"] if "run_s" in f else [])
    return "; ".join(parts + timings)


def _cascade(result: SimulationResult, cascade: Cascade | None) -> list[Block]:
    """What the liquidation sales' price impact added: the run against the same scenario in the
    model without impact (sim/results/cascade.py)."""
    if cascade is None:
        return []
    stable, _ = symbols(result)
    rows = [
        (
            t.collateral_type,
            f"{t.liquidations:,}",
            f"{t.liquidations_without_impact:,}",
            f"{t.liquidations_added:+,}",
            f"{t.insolvency:,.2f}",
            f"{t.insolvency_without_impact:,.2f}",
            f"{t.insolvency_added:+,.2f}",
        )
        for t in cascade.types
    ]
    if len(cascade.types) > 1:
        rows.append(
            (
                "all types",
                f"{cascade.liquidations:,}",
                f"{cascade.liquidations_without_impact:,}",
                f"{cascade.liquidations_added:+,}",
                f"{cascade.insolvency:,.2f}",
                f"{cascade.insolvency_without_impact:,.2f}",
                f"{cascade.insolvency_added:+,.2f}",
            )
        )
    return [
        Heading("Cascade: what the price impact added"),
        Text(
            f"The cascade added {cascade.liquidations_added:+,} liquidations, "
            f"{cascade.became_unsafe_added:+,} vaults that became unsafe "
            f"({cascade.became_unsafe:,} against {cascade.became_unsafe_without_impact:,}) and "
            f"{cascade.insolvency_added:+,.2f} {stable} of insolvency. Beside this run, the same "
            "scenario ran in the model with no price impact (every type's impact_depth 0: the "
            "market price is the fundamental path); the difference is what liquidation sales "
            "moving the price did: vaults pushed under by other vaults' sales (liquidated, or "
            "left unsafe where caps or gas kept the liquidator from them), and lower marks and "
            "sale prices."
            + (
                " A negative figure: with impact, sales and liquidations came at other times, "
                "and fewer happened."
                if min(
                    [cascade.liquidations_added, cascade.became_unsafe_added]
                    + [t.liquidations_added for t in cascade.types]
                )
                < 0
                else ""
            )
        ),
        Table(
            (
                "collateral type",
                "liquidations",
                "without impact",
                "added",
                f"insolvency [{stable}]",
                "without impact",
                "added",
            ),
            rows,
            numeric=(1, 2, 3, 4, 5, 6),
        ),
    ]


def _keepers(result: SimulationResult) -> list[Block]:
    """The report's first table: what became of each keeper's actions
    (sim/results/keeper_outcomes.py); nothing for a result without the table."""
    table = result.tables.get("keeper_actions") if "keeper_actions" in result.tables else None
    if table is None:
        return []
    strategy = result.facts.get("gas_strategy", "fixed")
    how = (
        f"each bids the bar's {int(result.facts.get('gas_percentile', 60))}th gas percentile, "
        "12.5% more after each drop, its cost capped by the action's value (but the backstop "
        "keeper's, which works for the protocol)"
        if strategy == "market"
        else "each bids its fixed gas price"
    )
    priced = [str(r) for r in result.facts.get("priced_out", [])]
    rows = [
        (
            KEEPER_NAMES.get(str(r["role"]), str(r["role"])),
            *(
                f"{int(r[c]):,}"
                for c in (
                    "planned",
                    "sent",
                    "mined",
                    "dropped_underpriced",
                    "dropped_capped",
                    "deferred_by_budget",
                    "refused_for_gas",
                    "lost_to_competitor",
                    "reverted",
                    "in_flight_at_end",
                )
            ),
            format_share(float(r["landed_share"]), 1.0),
        )
        for r in table.to_dict("records")
    ]
    return [
        Heading("Keepers' actions"),
        Table(
            (
                "keeper",
                "planned",
                "sent",
                "mined",
                "dropped: bid below the bar's p30",
                "dropped: bid capped by value",
                "deferred by budget",
                "refused: over its gas limit or its block's",
                "lost to a competitor",
                "reverted",
                "in flight at the end",
                "landed",
            ),
            rows,
            numeric=tuple(range(1, 11)),
        ),
        Text(
            f"Gas strategy {strategy} ({how})"
            + (f"; priced out on purpose: {', '.join(priced)} (a fixed bid)" if priced else "")
            + ". A keeper plans again, next bar, what it did not land: the counts are attempts. "
            f"A keeper that lands under {LANDED_SHARE_FLOOR:.0%} of them is named above."
        ),
    ]


def _headline(result: SimulationResult) -> list[Block]:
    """The headline figures (report/headline.py: insolvency, the lead figure, the median over
    the oracle's phases where the run measured them, and its share of the starting debt; its
    bounds, what is still open, the market), with what of the realized bad debt no layer paid
    after the realized bad debt (the reported run's)."""
    f = result.facts
    if "insolvency" not in f:
        return []
    stable, _ = symbols(result)
    parts = uncovered_parts(result)
    rows = headline_rows(result, stable)
    whose = "the reported run's" if lead(f) is not None else "the"
    at = next(i for i, (label, _) in enumerate(rows) if label.startswith("realized bad debt"))
    rows[at + 1 : at + 1] = [
        (f"of {whose} realized bad debt, uncovered: {part}", format_amount(v, stable))
        for part, v in parts.items()
    ]
    return [Heading("Headline"), Table(("measure", "value"), rows, numeric=(1,))]


def _summary(
    result: SimulationResult,
    reconciliation: Reconciliation | None,
    scenario_lines: list[tuple[str, str]],
    cascade: Cascade | None = None,
    extra: list[Block] = [],  # noqa: B006 - never mutated
) -> list[Block]:
    return [
        Heading(f"Backstop risk report: {result.scenario_name}", level=1),
        *[Text(line, label="Keeper failure") for line in result.facts.get("keeper_failures", [])],
        *[Text(line, label="Limit") for line in result.facts.get("binding_limits", [])],
        *[Text(line, label="Set by the lab") for line in result.facts.get("lab_choices", [])],
        *_headline(result),
        Text(_run(result), label="Backend"),
        *_verdict(reconciliation),
        *_keepers(result),
        Heading("Scenario"),
        Table(
            ("parameter", "value"),
            [(str(k), str(v)) for k, v in scenario_lines] + _market_in_run(result),
        ),
        *_types_note(result),
        *_outcome(result),
        *_cascade(result, cascade),
        *extra,
        *_contagion(result),
        *_budgets(result),
        *_soft_liquidations(result),
        *_who_paid(result),
        *_timeline(result),
        Heading("Plots"),
        *[Image(name) for name in _plots(result)],
        *_data_files(result.tables),
    ]


# --- plots ---------------------------------------------------------------------------------


def check_out_dir(out_dir: Path, command: str = "simulate") -> None:
    """Refuse (ReportError, one line) an `out_dir` that `command`'s report may not replace:
    anything but an absent path, an empty folder or that command's own earlier output as it
    left it (offchain/system/outputs.py). Callers check before a long run, too."""
    try:
        check_folder(out_dir, command)
    except OutputError as exc:
        raise ReportError(str(exc)) from None


def publish(out_dir: Path, build: Callable[[Path], None], command: str = "simulate") -> None:
    """Run `build` on a fresh hidden sibling of `out_dir`, mark it as `command`'s output, then
    swap it in for `out_dir` (offchain/system/outputs.py: only `command`'s own output is
    replaced)."""
    try:
        publish_folder(out_dir, command, build)
    except OutputError as exc:
        raise ReportError(str(exc)) from None


def _jsonable(value: Any) -> Any:
    """A fact json cannot write as is: a numpy number as its Python number, anything else as
    text."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def write_report(
    out_dir: Path,
    result: SimulationResult,
    reconciliation: Reconciliation | None,
    scenario_lines: list[tuple[str, str]],
    cascade: Cascade | None = None,
    extra: list[Block] | None = None,
    command: str = "simulate",
) -> Path:
    """Write the report of one run to `out_dir` (replacing `command`'s own previous report
    there, nothing else: offchain/system/outputs.py); returns the path of its summary.md.
    `cascade`: the run against the same scenario without price impact (sim/results/cascade.py),
    reported beside the outcome; `extra`: more sections after the outcome's (the spread over the
    oracle's phases, report/phases.py)."""
    plots: dict[str, Callable[[SimulationResult, Path], None]] = {
        "price": plot_price,
        "unsafe_vaults": plot_unsafe,
        "gas": plot_gas,
        "debt_collateral": plot_debt_collateral,
        "auctions": plot_auctions,
        "waterfall": plot_waterfall,
        "collateralization": plot_collateralization,
        "types": plot_types,
    }

    def build(root: Path) -> None:
        (root / "data").mkdir()
        for name, df in result.tables.items():
            df.to_parquet(root / "data" / f"{name}.parquet", index=False)
            df.to_csv(root / "data" / f"{name}.csv", index=False)
        (root / "plots").mkdir()
        for name in _plots(result):
            plots[name](result, root / "plots" / f"{name}.png")
        blocks = _summary(result, reconciliation, scenario_lines, cascade, extra or [])
        (root / "facts.json").write_text(
            json.dumps(lead_facts(result), indent=2, default=_jsonable) + "\n"
        )
        (root / "summary.html").write_text(
            to_html(blocks, f"Backstop risk report: {result.scenario_name}")
        )
        (root / "summary.md").write_text(to_markdown(blocks))

    publish(out_dir, build, command)
    return Path(out_dir) / "summary.md"


def _comparison_row(order: str, result: SimulationResult) -> dict[str, Any]:
    bad_debt, paid = realized_bad_debt(result), paid_by_layer(result)
    top = largest_payers(result, 1)
    vaults = vault_charges(result)
    parts = uncovered_parts(result)
    parked = float(result.facts.get("deleverage_due", 0.0))
    uncovered = parts["no cover landed"] + parts["layers exhausted"]
    return {
        "order": order,
        "realized_bad_debt": bad_debt,
        **{n: paid.get(n, 0.0) for n in LAYERS},
        **{f"uncovered: {part}": amount for part, amount in parts.items()},
        "uncovered": sum(parts.values()),
        "largest_payer": str(top["payer"].iloc[0]) if len(top) else "",
        "largest_payer_amount": float(top["amount"].iloc[0]) if len(top) else 0.0,
        "vaults_liquidated": vaults_liquidated(result),
        "open_auctions": int(result.facts.get("open_auctions", 0)),
        "insolvency": float(result.facts.get("insolvency", bad_debt)),
        # the layers that charge vaults: what they charged, to whom, and what they did to them
        "charged_to_vaults": vaults["charged"],
        "vaults_charged": vaults["vaults"],
        "top_share": vaults["top_share"],
        "made_unsafe": vaults["made_unsafe"],
        "liquidated_after": vaults["liquidated_after"],
        **{f"band {band}": share for band, share in vaults["by_band"].items()},
        # parked for deleveraging and taken by no vault, and with what no layer paid: unbacked
        "deleverage_due": parked,
        "unbacked_at_end": (0.0 if abs(uncovered) < 1e-9 else uncovered) + parked,
        "unsafe_vaults_left": int(result.facts.get("unsafe_vaults_left", 0)),
    }


def _vault_layer_blocks(rows: list[dict[str, Any]], stable: str) -> list[Block]:
    """The comparison's sections on the layers that charge vaults (redistribution, deleverage):
    who paid by strength, what the charges did to the vaults, what was left unbacked."""
    bands = [c.removeprefix("band ") for c in rows[0] if c.startswith("band ")]
    return [
        Heading("Vaults charged by a layer, per order"),
        Table(
            (
                "order",
                f"charged to vaults [{stable}]",
                "vaults charged",
                f"top {TOP_PAYERS} vaults' share",
                "made unsafe by the layer",
                "charged, then liquidated",
                f"parked, not charged [{stable}]",
                f"unbacked at the end [{stable}]",
                "unsafe vaults left",
                f"insolvency [{stable}]",
            ),
            [
                (
                    r["order"],
                    format_amount(r["charged_to_vaults"]),
                    f"{r['vaults_charged']:,}",
                    format_share(r["top_share"], 1.0) if r["vaults_charged"] else "-",
                    f"{r['made_unsafe']:,}",
                    f"{r['liquidated_after']:,}",
                    format_amount(r["deleverage_due"]),
                    format_amount(r["unbacked_at_end"]),
                    f"{r['unsafe_vaults_left']:,}",
                    format_amount(r["insolvency"]),
                )
                for r in rows
            ],
            numeric=tuple(range(1, 10)),
        ),
        Text(
            "Every collateral type's (the table above has the first type's losses and "
            "allocations). Made unsafe by the layer: vaults safe just before a redistribution's "
            "rate fold or a "
            "deleverage charge and unsafe just after, at the same safe price (measured at each "
            "charge, from the events). Charged, then liquidated: vaults a layer charged that "
            "were liquidated after their first charge, whatever the cause (a later price "
            "fall). Parked, not charged: the loss the deleveraging layer took and no vault had "
            "room for at the end (the Backstop's bad debt, unbacked); unbacked at the end adds "
            "what no layer paid (uncovered above)."
        ),
        Heading("Who paid, by strength"),
        Text(
            "Each order's vault charges by the charged vault's health just before the charge: "
            "its collateral at the safe price over its requirement (below 1: already unsafe; "
            "1-1.1: within 10% of its liquidation line)."
        ),
        Table(
            ("order", *(f"health {b}" for b in bands)),
            [
                (
                    r["order"],
                    *(
                        format_share(r[f"band {b}"], 1.0) if r["vaults_charged"] else "-"
                        for b in bands
                    ),
                )
                for r in rows
            ],
            numeric=tuple(range(1, len(bands) + 1)),
        ),
    ]


def write_comparison(
    out_dir: Path, runs: list[tuple[str, SimulationResult]], scenario_lines: list[tuple[str, str]]
) -> Path:
    """Write the comparison of one scenario under several waterfall orders (`runs`: order label,
    result) to `out_dir` (replacing a previous comparison there, nothing else:
    offchain/system/outputs.py); returns the path of comparison.md."""
    if not runs:
        raise ReportError("no runs to compare")
    rows = [_comparison_row(order, result) for order, result in runs]
    stable, _ = symbols(runs[0][1])
    scenario = runs[0][1].scenario_name
    blocks: list[Block] = [
        Heading(f"Backstop waterfall comparison: {scenario}", level=1),
        Text(
            f"{len(runs)} runs of the same scenario, one per waterfall order; backend "
            f"{', '.join(sorted({r.backend for _, r in runs}))}. Each order's run is "
            + one_phase_text(runs[0][1].facts).removeprefix("at ")
            + ": the orders are compared at the same phase (`ape run simulate` gives a "
            "replay's distribution over the phases)."
        ),
        Heading("Scenario"),
        Table(("parameter", "value"), [(str(k), str(v)) for k, v in scenario_lines]),
        Heading("Who paid, per order"),
        Table(
            (
                "order",
                "realized bad debt",
                *LAYERS,
                *(f"uncovered: {part}" for part in UNCOVERED_PARTS),
                "largest payer",
                "vaults liquidated",
                "auctions running at the end",
                "insolvency",
            ),
            [
                (
                    r["order"],
                    *(
                        format_amount(r[c])
                        for c in (
                            "realized_bad_debt",
                            *LAYERS,
                            *(f"uncovered: {part}" for part in UNCOVERED_PARTS),
                        )
                    ),
                    f"{r['largest_payer']} ({format_amount(r['largest_payer_amount'])})"
                    if r["largest_payer"]
                    else "-",
                    f"{r['vaults_liquidated']:,}",
                    f"{r['open_auctions']:,}",
                    format_amount(r["insolvency"]),
                )
                for r in rows
            ],
            numeric=tuple(range(1, len(LAYERS) + 5))
            + tuple(range(len(LAYERS) + 6, len(LAYERS) + 9)),
        ),
        Text(
            "Realized bad debt: the loss of the auctions that finished; a layer's amount is what "
            "it paid (the deleveraging layer's: what vaults paid); uncovered: "
            + "; ".join(f"{part}, {what}" for part, what in UNCOVERED_PARTS.items())
            + ". Insolvency adds the shortfall of the auctions still running and of the unsafe "
            "vaults not yet liquidated, their collateral sold into the market in the keepers' "
            "order (docs/simulation.md)."
        ),
        Text(f"Amounts in {stable}." if stable else "Amounts in stablecoin."),
        *_vault_layer_blocks(rows, stable or "stablecoin"),
        Image("comparison"),
        Heading("Data"),
        Bullets(["comparison.csv (one row per order)"]),
    ]

    def build(root: Path) -> None:
        (root / "plots").mkdir()
        plot_comparison(rows, stable, root / "plots" / "comparison.png")
        pd.DataFrame(rows).to_csv(root / "comparison.csv", index=False)
        (root / "comparison.html").write_text(
            to_html(blocks, f"Backstop waterfall comparison: {scenario}")
        )
        (root / "comparison.md").write_text(to_markdown(blocks))

    publish(out_dir, build, "compare-waterfalls")
    return Path(out_dir) / "comparison.md"
