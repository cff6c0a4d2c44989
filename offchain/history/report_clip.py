"""A model of MakerDAO's Liquidations 2.0 (the Dog and Clipper), not a twin of any Backstop
contract: the history check's report for a day of the clip family (days/may_2021.py). History's
published figures beside the model's under the day's settings, each against its band (fixed
before the first comparison run); for a miss, the sourced quantities the figure rests on and by
how much it would have to move; the sensitivity of each figure to each assumption; the keepers;
the outside market; every setting with its source; then the same eve under Backstop.
"""

from __future__ import annotations

import math
from fractions import Fraction
from types import ModuleType

from offchain.history import lead
from offchain.history.backstop import BackstopDay, BackstopFigures
from offchain.history.clip_figures import ClipFigures
from offchain.history.days.settings import Band, Values, values
from offchain.history.replay.clip import ClipDayResult

__all__ = ["backstop_section", "headline", "pct", "summary"]

RAD = 10**45

# what a banded figure rests on, for a miss: the settings whose sources are loosest first
LEVERS = {
    "B1": "the takers' margin and the market's depth (taker_margin assumed; venue_share, Y)",
    "B2": "the eve's debt at ratios the day's OSM prices made unsafe: ETH-A's debt (P1, an "
    "aside) and its ratio histogram (not published: the 2020 eve's shape assumed, "
    "ratio_scale)",
    "B3": "the takers' margin and the market's depth (taker_margin, venue_share, Y)",
    "B4": "the capital takers' margin (assumed) and the venue's depth (venue_share, Y)",
    "B5": "the day's path against the auction's curve (the OSM's phase, assumed) and the takers",
    "B6": "the takers' margin and capital (taker_margin assumed; taker_capital, K4)",
    "B7": "the Clipper's curve (cusp and buf: exact, L1)",
    "B8": "the number of vaults the day made unsafe and worth a bark (the eve's histogram and "
    "vault count, assumed; the bark's gas, assumed) and the hole splitting large vaults (L1)",
    "B9": "the debt liquidated (B2): chip is 0.1% of each tab, exactly",
    "B10": "the takers' margin (assumed) and the eve's ratios at liquidation (assumed)",
}


def _m(x: float) -> str:
    return f"{x / 1e6:,.2f}M"


def _pct(x: float) -> str:
    if x != x:
        return "none"
    return f"{100 * x:.2f}%" if abs(x) < 0.01 else f"{100 * x:.1f}%"


# a share as this day's report writes it (two decimals below 1%): history/report.py's console
# line on Backstop's side writes the day's shares alike
pct = _pct


def _show(value: object) -> str:
    if isinstance(value, Fraction):
        return str(float(value))
    if value is None:
        return "none"
    if isinstance(value, int) and value >= 10**45:
        return f"{value / 10**45:,.0f}"
    if isinstance(value, int) and value >= 10**24:  # the eve's debt [wad]: whole DAI
        return f"{value / 10**18:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _within(bands: tuple[Band, ...], r: ClipDayResult) -> int:
    return sum(b.within(b.of(r, 0)) for b in bands)


def miss(band: Band, value: float) -> str:
    """A missed band in words: how far, by what factor the figure would have to move, and the
    sourced quantities it rests on."""
    if band.within(value) or value != value:
        return ""
    target = band.high if value > band.high else band.low
    factor = (
        f"; it would have to be {value / target:,.1f} times smaller"
        if value > band.high and target > 0
        else (f"; it would have to be {target / value:,.1f} times larger" if value > 0 else "")
    )
    return (
        f"{band.id} ({band.name}): {band.show(value)} against {band.bounds()}{factor}. It rests "
        f"on {LEVERS.get(band.id, 'the settings above')}."
    )


def summary(
    day: ModuleType,
    base: ClipDayResult,
    runs: list[tuple[str, object, str, ClipDayResult]],
    overrides: dict[str, object] | None = None,
) -> str:
    overrides = overrides or {}
    v = values(day.SETTINGS, overrides)
    f = ClipFigures.of(base, v.clip.chip)
    eve = v.eve_debt / 1e18
    lines = [
        f"# {day.TITLE}, in a model",
        "",
        "A model of MakerDAO's Liquidations 2.0 (the Dog, the Clipper and its stairstep "
        "abacus, from dss as deployed), **not Backstop's mechanism** and not a twin of any "
        "contract: it checks the lab's keeper, gas and market models against a second real "
        "crash (docs/history.md). Every setting comes from a source written before the day or "
        "reading the day's live values (the spells' tests), from a post-mortem's fact about the "
        "day's keepers (marked post), or is named as an assumption; the bands were committed "
        "before the first comparison run.",
        "",
        "The model replays ETH-A (the shipped data is ETH/USD only); history's outcomes cover "
        "every vault type, and each band says how it carries over. The day's data covers "
        "00:00 to 23:50 UTC; auctions still running at its end are counted apart.",
        "",
        "## History and the model",
        "",
        "| id | figure | history | model | band | verdict |",
        "|---|---|---|---:|---|---|",
    ]
    for band in day.BANDS:
        value = band.of(base, v.eve_debt)
        lines.append(
            f"| {band.id} | {band.name} | {band.history} | {band.show(value)} | "
            f"{band.bounds()} | {band.verdict(value)} |"
        )
    b11, name, history = day.NO_BAND
    lines += [
        f"| {b11} | {name} | {history} | {f.late_kicks:,} of {f.unsafe_vaults:,} unsafe "
        "vaults | none: reported | |",
        "",
        f"The model liquidated {f.kicked:,} auctions' worth of {_m(f.debt_liquidated)} DAI of "
        f"tab ({_pct(f.debt_liquidated / eve)} of the eve's {_m(eve)} of debt); "
        f"{f.finished:,} finished, {f.open:,} still running at the end ({_m(f.open_tab)} of tab "
        f"not raised); {f.takes:,} takes, {f.flash_takes:,} of them through the pool; "
        f"{_m(f.raised)} DAI raised; incentives {_m(f.incentives)} DAI, "
        + ("equal to chip x Σ tab plus the redos' to the wei" if f.incentives_identity else
           "**not** equal to chip x Σ tab plus the redos'")
        + f"; the Vow's deficit {_m(f.deficit)} DAI (negative: a surplus).",
        "",
    ]  # fmt: skip
    misses = [miss(b, b.of(base, v.eve_debt)) for b in day.BANDS]
    misses = [m for m in misses if m]
    if misses:
        lines += ["**Outside the bands:**", ""] + [f"- {m}" for m in misses] + [""]
    lines += [
        "## The outside market and the pool (issue 64)",
        "",
        "| figure | model |",
        "|---|---:|",
        f"| ETH the capital takers resold outside | {base.resold / 1e18:,.0f} ETH for "
        f"{_m(base.resale_dai / RAD)} DAI |",
        f"| ETH the flash takers sold into the day's pair (then to the venue) | "
        f"{base.passed_on / 1e18:,.0f} |",
        f"| the lowest market price the keepers saw, over the day's close | "
        f"{_pct(base.lowest_market / 1e18)} |",
        f"| venue trades at its floor | {base.floored:,} |",
        "",
        "## Sensitivity (one setting changed at a time)",
        "",
        "| setting | value | debt liquidated | auctions | loss / debt | penalty / debt | "
        "discount to the close | worst under the OSM | kick to last take, median | returned, "
        "median | bands within (of " + f"{len(day.BANDS)}) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, _, shown, r in [("(the day's settings)", None, "", base), *runs]:
        g = ClipFigures.of(r, v.clip.chip)
        minutes = "none" if g.minutes_median != g.minutes_median else f"{g.minutes_median:,.0f}"
        lines.append(
            f"| {label} | {shown} | {_m(g.debt_liquidated)} | {g.kicked:,} | "
            f"{_pct(g.loss_share)} | {_pct(g.penalty_share)} | {_pct(g.discount_market)} | "
            f"{_pct(g.discount_osm_worst)} | {minutes} | {_pct(g.returned_median)} | "
            f"{_within(day.BANDS, r)} |"
        )
    lines += [
        "",
        "## The keepers over the day",
        "",
        "| keeper | kind | planned | landed | failed | dropped (gas) | waited for block space "
        "| takes | ETH bought | DAI paid | DAI from resales | incentives | flash profit (DAI) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, k in base.keepers.items():
        c = k.counts
        why = ", ".join(f"{n} {r}" for r, n in c.failures.most_common())
        lines.append(
            f"| {name} | {k.role} | {c.planned:,} | {c.landed:,} | "
            f"{c.failed:,}{' (' + why + ')' if why else ''} | {c.dropped:,} | {c.deferred:,} | "
            f"{k.takes:,} | {k.bought / 1e18:,.0f} | {_m(k.paid / RAD)} | "
            f"{_m(k.sold_for / RAD)} | {k.incentives / RAD:,.0f} | {k.flash_profit / 1e18:,.0f} |"
        )
    lines += [
        "",
        "## Settings",
        "",
        "| setting | value | source | note | sensitivity runs |",
        "|---|---|---|---|---|",
    ]
    for s in day.SETTINGS.values():
        if s.name == "clip":
            shown = "the spell's"
        elif s.name not in overrides and s.display:
            shown = s.display
        else:
            shown = _show(overrides.get(s.name, s.value))
        alts = ", ".join(_show(a) for a in s.alternatives)
        lines.append(f"| {s.name} | {shown} | {s.source} | {s.note} | {alts} |")
    lines += [
        "",
        "Sources: the ids are docs/history.md's source table (L: the spells and dss, K: keepers, "
        "O: the outcome, P: the eve, M, V, S, N: the market calibration, D: derived).",
        "",
    ]
    return "\n".join(lines)


def headline(
    day: ModuleType, base: ClipDayResult, overrides: dict[str, object] | None = None
) -> list[str]:
    """The console's lines: each banded figure against its band."""
    v = values(day.SETTINGS, overrides)
    out = []
    for b in day.BANDS:
        value = b.of(base, v.eve_debt)
        out.append(f"{b.id} {b.name}: model {b.show(value)}, band {b.bounds()}: {b.verdict(value)}")
    return out


def _hours(x: float) -> str:
    return "none" if x != x else f"{x:,.1f} h"


def backstop_section(
    day: ModuleType,
    base: ClipDayResult,
    done: BackstopDay,
    rows: list[tuple[str, str, str, BackstopFigures]],
    v: Values,
) -> str:
    """The counterfactual: history, the Liquidations 2.0 model and Backstop (its chain run,
    reconciled with the model) side by side; Backstop's sensitivity (the model alone)."""
    f = ClipFigures.of(base, v.clip.chip)
    b = BackstopFigures.of(done.done.result)
    eve = v.eve_debt / 1e18
    # the insolvency rows lead with the distribution over the oracle's phases (history/lead.py)
    facts = done.done.result.facts
    cells = lead.insolvency_cells(b, facts, eve, _pct)
    r = done.done.reconciliation
    if r is None:
        verdict_line = "the model alone (no chain run): not reconciled."
    elif r.ok:
        verdict_line = (
            f"on Anvil and in the model, reconciled: {r.txs_compared:,} transactions, "
            f"{r.events_compared:,} events, {r.state_checks:,} full-state checks "
            f"({r.state_variables_compared:,} values): **{r.diff_count} differences**."
        )
    else:
        verdict_line = f"chain and model **DISAGREE**: {r.diff_count:,} differences."
    minutes = sorted((a.ended - a.kicked) / 3600 for a in base.finished if a.ended is not None)
    p50 = minutes[len(minutes) // 2] if minutes else math.nan
    p90 = minutes[min(len(minutes) - 1, int(0.9 * len(minutes)))] if minutes else math.nan
    landed = "; ".join(f"{n} {k.counts.landed:,} of {k.counts.planned:,}"
                       for n, k in base.keepers.items())  # fmt: skip
    lines = [
        "## The same eve and day under Backstop",
        "",
        f"The eve's vaults above as the book of the lab's `{day.BACKSTOP_BASE}` scenario: its "
        "prices, gas, keepers, pool and backstop layers, the ceilings and caps sized to the "
        "book, the capital taker holding the day's capitalised keepers' DAI (K4), Backstop's "
        "dust and reward rule applied to this book, and the day's outside market (the same "
        "venue, resale delay and DAI price as the model of MakerDAO above: "
        f"offchain/history/backstop.py). Backstop's run: {verdict_line} Its inputs are in "
        "`backstop/`, its risk report in `backstop/report/`.",
        "",
        "| figure | history | MakerDAO 2021 (model) | Backstop |",
        "|---|---|---:|---:|",
        "| horizon | 2021-05-19 | the data: 00:00 to 23:50 | the data, then the built-in's "
        "tail at the last price |",
        f"| oracle phase (the first poke against the bars) | | {v.oracle_phase:,} s (the day's "
        f"setting; the others in its sensitivity table) | {lead.phase_cell(facts)} |",
        f"| vaults liquidated | not published | {len({a.usr for a in base.auctions}):,} | "
        f"{b.vaults_liquidated:,} |",
        f"| debt liquidated | about 41M of debt, 50M with penalties, all types (O1, D4) | "
        f"{_m(f.debt_taken + sum(a.due for a in base.auctions if a.ended is None) / RAD)} "
        f"| {_m(b.debt_liquidated)} |",
        f"| auctions (finished) | 177, all types (O1) | {f.kicked:,} ({f.finished:,}) | "
        f"{b.auctions:,} ({b.finished:,}) |",
        f"| auctions won for nothing (a take under 1% of the market) | none (K4) | "
        f"{f.for_nothing:,} | {b.auctions_for_nothing:,} (the lowest take at "
        f"{_pct(b.lowest_clearing)} of the market) |",
        f"| loss of the finished auctions | about 12,000 DAI all types; ETH-A 81 (O1) | "
        f"{f.loss:,.0f} DAI | {_m(b.realized)} ({_pct(b.realized / eve)}) |",
        f"| keeper incentives at starts and resets | chip 0.1% of each tab (L1) | "
        f"{_m(f.incentives)} | {_m(b.rewards)} |",
        f"| keepers' actions landed of planned | not published | {landed} | "
        + "; ".join(f"{role} {m:,} of {n:,}" for role, (m, n) in b.keepers.items())
        + " |",
        f"| auctions still open at the end | none reported | {f.open:,} | "
        f"{b.open_auctions:,}, {_m(b.open_debt)} of debt not raised |",
        f"| insolvency: the open book at the last price | | | {cells[0]} |",
        f"| insolvency: the open book sold on the market (the end-of-run mark; no drain) | | | "
        f"{cells[1]} |",
        f"| how fast: start to finish, median and p90 of the finished | 30 to 50 min per type "
        f"(O1) | {_hours(p50)}, {_hours(p90)} | {_hours(b.hours_to_finish[0])}, "
        f"{_hours(b.hours_to_finish[1])} |",
        "| who paid | MakerDAO's surplus: about 12,000 DAI against 5.1M of penalties (O1) | "
        f"the Vow: a deficit of {_m(f.deficit)} (negative: a surplus) | "
        + ", ".join(f"{k} {_m(x)}" for k, x in b.paid.items())
        + f"; unpaid {_m(b.uncovered)} |",
        "",
        "### Backstop's sensitivity (the model alone, one change at a time)",
        "",
        "| setting | value | why | auctions open at the end | realized | keeper rewards | "
        "insolvency at the last price | insolvency, sold on the market | paid by layer |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, shown, why, g in [("(the run above)", "", "", b), *rows]:
        lines.append(
            f"| {name} | {shown} | {why} | {g.open_auctions:,} | {_m(g.realized)} | "
            f"{_m(g.rewards)} | {_m(g.insolvency_last_price)} | {_m(g.insolvency)} | "
            + ", ".join(f"{k} {_m(x)}" for k, x in g.paid.items())
            + " |"
        )
    lines += [
        "",
        "Each row is the run above with one change to its scenario; the oracle's phases move the "
        "OSM's first poke over the hour the bars tell apart.",
        "",
    ]
    return "\n".join(lines)
