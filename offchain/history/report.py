"""Models of another protocol's liquidations (MakerDAO's), not a twin of any Backstop contract: the
history check's report (`ape run history`). For a day of the flip family (Black Thursday under
the 2020 Cat and Flipper: this module) or of the clip family (2021-05-19 under the Dog and
Clipper: report_clip.py): history's published figures beside the model's under the day's
settings, each against its band; the sensitivity of each figure to each assumption (one setting
changed at a time); the keepers' fate; every setting with its source; then the same eve under
Backstop (backstop.py). The independent runs (the sensitivity rows, Backstop's model runs) go
on the sweep's process pool (tasks.py); Backstop's chain run after them, in this process.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pandas as pd

from offchain.history import backstop, counterfactual, lead, report_clip, tasks
from offchain.history.backstop import BackstopDay, BackstopFigures
from offchain.history.days import day, load
from offchain.history.days.settings import Band
from offchain.history.days.settings import values as day_values
from offchain.history.replay import flip
from offchain.history.replay.flip import DayResult
from offchain.report.documents import publish, write_report
from offchain.report.tables import scenario_lines

DAY = day("black-thursday-2020")
BANDS = DAY.BANDS
SETTINGS = DAY.SETTINGS


def values(overrides: dict[str, object] | None = None):
    return day_values(SETTINGS, overrides)


def market():
    return load(DAY)


def run(overrides: dict[str, object] | None = None, data=None) -> DayResult:
    return flip.run(DAY, overrides, data)


# the Vow of the day: a surplus buffer netted against the deficit first, then debt auctions of
# `sump` DAI each (A21, A22)
SURPLUS_BUFFER = 500_000
DEBT_AUCTION_LOT = 50_000
RAD = 10**45


@dataclass(frozen=True)
class Figures:
    """A run's headline figures, in DAI (floats for the report only: the run's are integers)."""

    auctions: int
    dealt: int
    zero_bid_auctions: int
    zero_bid_share: float
    zero_bid_value: float
    debt_bitten: float
    raised: float
    deficit: float
    deficit_share: float
    debt_auctions: int

    @classmethod
    def of(cls, r: DayResult, eve_debt: int) -> Figures:
        deficit = r.deficit / RAD
        flop = max(0.0, deficit - SURPLUS_BUFFER)
        return cls(
            auctions=r.kicked,
            dealt=len(r.dealt),
            zero_bid_auctions=len(r.zero_bids),
            zero_bid_share=float(r.zero_bid_share),
            zero_bid_value=r.zero_bid_value / RAD,
            debt_bitten=r.debt_bitten / RAD,
            raised=r.dai_raised / RAD,
            deficit=deficit,
            deficit_share=float(Fraction(r.deficit, eve_debt * 10**27)),
            debt_auctions=-int(-flop // DEBT_AUCTION_LOT),
        )


def _m(x: float) -> str:
    return f"{x / 1e6:,.2f}M"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def verdict(band: Band, value: float) -> str:
    return band.verdict(value)


def _both(r: DayResult, debt: int) -> str:
    return "yes" if all(b.low <= b.of(r, debt) <= b.high for b in BANDS) else "no"


def sensitivity() -> list[tuple[str, object, str, DayResult]]:
    """(setting, value, value shown, run) for each alternative of each setting, one changed at a
    time."""
    m = market()
    return [
        (name, alt, _show(alt), run({name: alt}, m))
        for name, s in SETTINGS.items()
        for alt in s.alternatives
    ]


def _show(value: object) -> str:
    if isinstance(value, Fraction):
        return str(float(value))
    if value is None:
        return "none"
    if isinstance(value, int) and value >= 10**18:
        return f"{value / 10**18:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def market_lines(
    base: DayResult,
    runs: list[tuple[str, object, str, DayResult]],
    debt: int,
    overrides: dict[str, object] | None = None,
) -> list[str]:
    """The outside market's figures of the run (outside.py), and `late_landing`'s two values
    side by side: no source gives the day's inclusion delays (N7), so both are reported."""
    v = values(overrides)
    lines = [
        "## The outside market and the block space (issue 64)",
        "",
        f"The keepers' collateral is resold {v.resale_hours} hours after its deal (F9) on the "
        f"outside venue ({v.outside}: the square-root law with Y {_show(v.impact_coefficient)}, "
        f"the file's share of the market {_show(v.venue_share)}, decay t0 {v.impact_decay} s), "
        f"and DAI is bought back at {_show(v.dai_price)} (S1); what lands in a step is bounded "
        f"by its blocks' gas ({v.block_gas:,} a block, {_pct(1 - float(v.competing_gas))} of it "
        "left by the day's other traffic).",
        "",
        "| figure | model |",
        "|---|---:|",
    ]
    sold = base.resold / 1e18
    lines += [
        f"| ETH the keepers resold outside | {sold:,.0f} ETH for {_m(base.resale_dai / RAD)} DAI"
        + (f", {base.resale_dai / RAD / sold:,.2f} DAI an ETH" if sold else "")
        + " |",
        f"| the lowest market price the keepers saw, over the day's close | "
        f"{_pct(base.lowest_market / 1e18)} |",
        f"| venue trades at its floor (5% of the close) | {base.floored:,} |",
        "| transactions that waited a step for block space | "
        + "; ".join(f"{n} {k.counts.deferred:,}" for n, k in base.keepers.items())
        + " |",
        "",
    ]
    pair = [r for name, value, _, r in runs if name == "late_landing" and value == "bar"]
    if pair:
        other = pair[0]
        f, g = Figures.of(base, debt), Figures.of(other, debt)
        lines += [
            "`late_landing` (when a transaction the gas model delays a bar lands) has no source "
            "(the day's inclusion delays were not found, N7): both values, side by side.",
            "",
            "| figure | history | uniform (a drawn minute of the next bar) | bar (exactly a bar "
            "later) |",
            "|---|---|---:|---:|",
            f"| zero-bid share of the auctions dealt | 36% (E2) | {_pct(f.zero_bid_share)} | "
            f"{_pct(g.zero_bid_share)} |",
            f"| deficit / ETH-A debt | 4.97% (E1, C2) | {_pct(f.deficit_share)} | "
            f"{_pct(g.deficit_share)} |",
            f"| both in their bands | | {_both(base, debt)} | {_both(other, debt)} |",
            "",
        ]
    return lines


def summary(
    base: DayResult,
    runs: list[tuple[str, object, str, DayResult]],
    overrides: dict[str, object] | None = None,
) -> str:
    overrides = overrides or {}
    v = values(overrides)
    debt = v.eve_debt
    f = Figures.of(base, debt)
    lines = [
        "# Black Thursday (2020-03-12) as it happened: MakerDAO's 2020 auctions, in a model",
        "",
        "A model of MakerDAO's 2020 Flipper and Cat (English \"flip\" auctions), **not Backstop's "
        "mechanism** and not a twin of any contract: it checks the lab's keeper, gas and market "
        "models against a real crash (docs/history.md). Every setting comes from a source "
        "published before the crash or reading the day's live values, from a post-mortem's fact "
        "about the "
        "day's keepers (marked post), or is named as an assumption; none was chosen by looking "
        "at the outcome.",
        "",
        "The day's data covers 2020-03-12 00:00-23:50 UTC; history's figures cover the 12th and "
        "the 13th, so the model misses the second day's liquidations.",
        "",
        "## History and the model",
        "",
        "| figure | history | model | band | verdict |",
        "|---|---|---:|---|---|",
    ]
    for band in BANDS:
        value = band.of(base, debt)
        lines.append(
            f"| {band.name} | {band.history} | {_pct(value)} | {_pct(band.low)} to "
            f"{_pct(band.high)} | {verdict(band, value)} |"
        )
    lines += [
        f"| collateral given for a zero bid | $8.32M (E3; 62,890 ETH, ~$7.1M, by four "
        f"addresses) | ${_m(f.zero_bid_value)} | none set | |",
        f"| auctions | not published (E5); over 1,000 zero-bid auctions (E4) | {f.auctions:,} "
        f"kicked, {f.dealt:,} dealt, {f.zero_bid_auctions:,} zero-bid | none set | |",
        f"| deficit | 5.67M DAI (E1; 4M to 6.65M) | {_m(f.deficit)} DAI | see the share | |",
        f"| debt auctions (50k DAI each, after the 500k surplus buffer) | 106 auctions, 5.3M DAI "
        f"for 20,980 MKR (E7) | {f.debt_auctions:,} | none set | |",
        "",
        f"The model bit {_m(f.debt_bitten)} DAI of debt (at {_pct(f.debt_bitten / (debt / 1e18))} "
        f"of the eve's), and its auctions raised {_m(f.raised)} DAI. A zero bid is a winning bid "
        "under 1% of the lot's value at the deal (the day's were 1 wei, E8; the model's least bid "
        "is 1 rad, 1e-45 DAI); the share is of the auctions dealt, by count (history's 36% does "
        "not say whether by count or by value).",
        "",
    ]
    lines += market_lines(base, runs, debt, overrides)
    misses = [b for b in BANDS if verdict(b, b.of(base, debt)) != "within"]
    if misses:
        lines += [
            "**Outside the bands:** "
            + "; ".join(f"{b.name} {verdict(b, b.of(base, debt))}" for b in misses)
            + ". The sensitivity table below shows which assumption, changed alone, moves "
            "each figure and how far: that is the result, not a failure to hide.",
            "",
        ]
    lines += [
        "## Sensitivity (one setting changed at a time)",
        "",
        "| setting | value | zero-bid share | deficit / debt | zero-bid collateral | auctions "
        "| both in their bands |",
        "|---|---|---:|---:|---:|---:|---|",
        f"| (the day's settings) | | {_pct(f.zero_bid_share)} | {_pct(f.deficit_share)} | "
        f"${_m(f.zero_bid_value)} | {f.auctions:,} | {_both(base, debt)} |",
    ]
    for name, value, shown, r in runs:
        run_debt = values({**overrides, name: value}).eve_debt
        g = Figures.of(r, run_debt)
        lines.append(
            f"| {name} | {shown} | {_pct(g.zero_bid_share)} | {_pct(g.deficit_share)} | "
            f"${_m(g.zero_bid_value)} | {g.auctions:,} | {_both(r, run_debt)} |"
        )
    lines += [
        "",
        "## The keepers over the day",
        "",
        "| keeper | planned | sent | landed | dropped (gas) | failed | stopped by capital: "
        "plans (auctions) | auctions won | ETH won | DAI from sales |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, k in base.keepers.items():
        c = k.counts
        why = ", ".join(f"{n} {r}" for r, n in c.failures.most_common())
        lines.append(
            f"| {name} | {c.planned:,} | {c.sent:,} | {c.landed:,} | {c.dropped:,} | "
            f"{c.failed:,}{' (' + why + ')' if why else ''} | "
            f"{c.capital_limited:,} ({len(c.capital_limited_auctions):,}) | {k.won:,} | "
            f"{k.gem_won / 1e18:,.0f} | {_m(k.sold_for / RAD)} |"
        )
    lines += [
        "",
        "## Settings",
        "",
        "| setting | value | source | note | sensitivity runs |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS.values():
        shown = "launch values" if s.name == "flip" else _show(overrides.get(s.name, s.value))
        alts = ", ".join(_show(a) for a in s.alternatives)
        lines.append(f"| {s.name} | {shown} | {s.source} | {s.note} | {alts} |")
    lines += [
        "",
        "Sources: the ids are docs/history.md's source table (A: parameters of the day, B: the "
        "oracle, C: the state before the crash, E: the outcome, F: keepers and gas).",
        "",
    ]
    return "\n".join(lines)


def _layers(paid: dict[str, float]) -> str:
    return ", ".join(f"{name} {_m(amount)}" for name, amount in paid.items())


def _hours(x: float) -> str:
    return "none" if x != x else f"{x:,.1f} h"  # nan: nothing finished


def _flip_hours(flip: DayResult) -> tuple[float, float]:
    """Kick to deal of the dealt flips [h]: median and 90th percentile (nan: none dealt)."""
    hours = pd.Series([(a.dealt - a.kicked) / 3600 for a in flip.dealt if a.dealt is not None])
    return float(hours.quantile(0.5)), float(hours.quantile(0.9))


def _landed(keepers: dict[str, tuple[int, int]]) -> str:
    return "; ".join(f"{role} {m:,} of {n:,}" for role, (m, n) in keepers.items())


def backstop_section(
    flip: DayResult,
    day: BackstopDay,
    turnover: tuple[int, BackstopFigures],
    rows: list[tuple[str, str, str, BackstopFigures]],
    overrides: dict[str, object] | None = None,
) -> str:
    """The counterfactual: history, the flip model and Backstop (its chain run, reconciled with
    the model; and in the model with the flip keepers' turnover as its taker's capital) side by
    side; Backstop's sensitivity (the model alone). `overrides`: the day's settings changed for
    every run (`--set`)."""
    v = values(overrides)
    debt = v.eve_debt
    eve = debt / 1e18
    f = Figures.of(flip, debt)
    b = BackstopFigures.of(day.done.result)
    capital, t = turnover
    r = day.done.reconciliation
    bitten = len({a.usr for a in flip.auctions})
    fh = _flip_hours(flip)
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

    def both(cell) -> str:
        return f"{cell(b)} | {cell(t)}"

    # the insolvency rows lead with the distribution over the oracle's phases (history/lead.py);
    # the turnover column is one model run, at the reconciled run's phase
    facts = day.done.result.facts
    one = {k: facts[k] for k in ("oracle_phase",) if k in facts}
    cells = lead.insolvency_cells(b, facts, eve)
    turned = lead.insolvency_cells(t, one, eve)

    lines = [
        "## The same eve and day under Backstop",
        "",
        "The eve's vaults above (the day's settings) as the book of the lab's "
        "`black-thursday-2020` scenario: its prices, gas, keepers, pool and backstop layers, with "
        "the ceilings and caps sized to the book, the capital taker holding the day's honest "
        "keepers' DAI, and Backstop's dust and reward rule applied to this book "
        "(offchain/history/backstop.py says why each, and what is not aligned: the keepers' gas, "
        "the oracle's stall, the horizon), on the day's outside market (the same venue, resale "
        "delay and DAI price as the flip model's keepers). "
        f"Backstop's run: {verdict_line} The scenario, its book and config are in `backstop/`, "
        "its full risk report in `backstop/report/`. The last column is the model alone with the "
        f"capital taker holding {_m(capital)} DAI: what the flip model's honest keepers put into "
        "auctions over the day (their capital and their resales' DAI), an upper bound of the "
        "capital the day's keepers had to hand.",
        "",
        "| figure | history | MakerDAO 2020 (model) | Backstop | Backstop, the flip keepers' "
        "turnover (model) |",
        "|---|---|---:|---:|---:|",
        "| horizon | 2020-03-12 and 13 | the data: 03-12 00:00 to 23:50 | the data, then 6 h at "
        "the last price | the same |",
        f"| oracle phase (the first poke against the bars) | | {v.oracle_phase:,} s (the day's "
        f"setting; the others in its sensitivity table) | {lead.phase_cell(facts)} | "
        f"{lead.phase_cell(one)} |",
        f"| vaults liquidated | not published | {bitten:,} | "
        + both(lambda x: f"{x.vaults_liquidated:,}")
        + " |",
        f"| debt liquidated | not published | {_m(f.debt_bitten)} | "
        + both(lambda x: _m(x.debt_liquidated))
        + " |",
        f"| auctions (finished) | not published (E5) | {f.auctions:,} ({f.dealt:,}) | "
        + both(lambda x: f"{x.auctions:,} ({x.finished:,})")
        + " |",
        f"| auctions won for nothing (a bid or take under 1% of the market) | 36% of the "
        f"liquidations (E2) | {f.zero_bid_auctions:,}, {_pct(f.zero_bid_share)} of the finished | "
        + both(
            lambda x: (
                f"{x.auctions_for_nothing:,} (the lowest take at "
                f"{_pct(x.lowest_clearing)} of the market)"
            )
        )
        + " |",
        f"| collateral given for nothing | $8.32M (E3) | ${_m(f.zero_bid_value)} | "
        + both(lambda x: f"${_m(x.value_for_nothing)}")
        + " |",
        f"| loss of the finished auctions (flip: debt bitten less all DAI raised, penalties netted;"
        f" Backstop: the short auctions' shortfalls) | 5.67M DAI, 4.97% of the debt (E1) | "
        f"{_m(f.deficit)} DAI, {_pct(f.deficit_share)} | "
        + both(lambda x: f"{_m(x.realized)}, {_pct(x.realized / eve)}")
        + " |",
        "| keeper rewards at starts and resets (new stablecoin the penalties are to pay) | none "
        "(the 2020 Cat paid none) | none | " + both(lambda x: _m(x.rewards)) + " |",
        "| keepers' actions landed of planned | not published | "
        + _landed({n: (k.counts.landed, k.counts.planned) for n, k in flip.keepers.items()})
        + " | "
        + both(lambda x: _landed(x.keepers))
        + " |",
        "| unsafe vaults never liquidated | | | " + both(lambda x: f"{x.unsafe_left:,}") + " |",
        "| auctions still open at the end of the run | none reported | "
        f"{f.auctions - f.dealt:,} | "
        + both(lambda x: f"{x.open_auctions:,}, {_m(x.open_debt)} of debt not raised")
        + " |",
        "| insolvency: the open collateral at the last price (like the flip model's, which "
        f"values collateral at the market without impact) | | | {cells[0]} | {turned[0]} |",
        "| insolvency: the open collateral sold on the market (the end-of-run mark: the outside "
        f"venue, or the pool where the market is closed; no drain) | | | {cells[1]} | "
        f"{turned[1]} |",
        "| how fast: an auction's start to its finish, median and p90 of the finished | | "
        f"{_hours(fh[0])}, {_hours(fh[1])} | "
        + both(lambda x: f"{_hours(x.hours_to_finish[0])}, {_hours(x.hours_to_finish[1])}")
        + " |",
        "| how fast: a short auction's finish to its cover, the longest | debt auctions of "
        "MKR (E7) | not modelled | "
        + both(
            lambda x: (
                "no loss" if x.cover_minutes != x.cover_minutes else f"{x.cover_minutes:,.0f} min"
            )
        )
        + " |",
        f"| who paid | MKR holders: 106 debt auctions, 20,980 MKR for 5.3M DAI (E7); the owners "
        f"of the vaults sold for nothing lost all their collateral | {f.debt_auctions:,} debt "
        f"auctions of 50k after the 500k buffer | "
        + both(lambda x: f"{_layers(x.paid)}; unpaid {_m(x.uncovered)}")
        + " |",
        "",
        "Backstop's Dutch auctions leave nothing for a zero bid: an auction whose price falls "
        "below 45% of its start is reset, and no take cleared under "
        f"{_pct(b.lowest_clearing)} of the market. "
        + (
            f"{b.open_auctions:,} of {b.auctions:,} auctions are still open when the run ends: "
            "their loss is not in the finished auctions' row, which flatters Backstop; the "
            "insolvency rows value them at the last price and sold on the market."
            if b.open_auctions
            else f"Every one of the {b.auctions:,} auctions finished within the run: the "
            "capital taker resells on the day's outside venue after the same delay as the "
            "2020 keepers (F9), so its stablecoin comes back, as theirs did."
        ),
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
            f"{_layers(g.paid)} |"
        )
    lines += [
        "",
        "Each row is the run above with one change to its scenario; the oracle's phases move the "
        "OSM's first poke over the hour the bars tell apart.",
        "",
    ]
    return "\n".join(lines)


def headline(base: DayResult, overrides: dict[str, object] | None = None) -> list[str]:
    """The console's lines: each banded figure, the model's against history's."""
    debt = values(overrides).eve_debt
    return [
        f"{b.name}: model {_pct(b.of(base, debt))}, history {b.history}, band "
        f"{_pct(b.low)} to {_pct(b.high)}: {verdict(b, b.of(base, debt))}"
        for b in BANDS
    ]


Progress = Callable[[int, int], None]  # (runs done, runs in all)


def history_tasks(
    name: str, overrides: dict[str, object], settings: dict
) -> list[tuple[str, str, tuple[str, object] | None, dict]]:
    """The day's model runs: the day's settings (key None) and each alternative of each setting
    (key (setting, value)), one changed at a time, on top of `overrides`."""
    out: list[tuple[str, str, tuple[str, object] | None, dict]] = [
        ("history", name, None, dict(overrides))
    ]
    for setting, s in settings.items():
        for alt in s.alternatives:
            if overrides.get(setting, s.value) != alt:
                out.append(("history", name, (setting, alt), {**overrides, setting: alt}))
    return out


def backstop_tasks(
    name: str,
    scratch: Path,
    turnover: int | None,
    overrides: dict[str, object] | None = None,
) -> list[tuple]:
    """Backstop's model runs of the day: its sensitivity rows and other oracle phases (key
    ("b", k)), and for Black Thursday the flip keepers' turnover as the taker's capital (key
    "turnover"); each under the day's settings with `overrides` (`--set`), as its chain run."""
    cf = backstop.COUNTERFACTUALS[name]
    given = dict(overrides or {})
    tasks: list[tuple] = [
        ("backstop", name, ("b", k), changes, phase, str(scratch / f"s{k}"), given)
        for k, (_, _, _, changes, phase) in enumerate(backstop.sensitivity_tasks(cf))
    ]
    if turnover is not None:
        changes = {("keepers", "taker_capital"): str(turnover)}
        tasks.append(
            ("backstop", name, "turnover", changes, None, str(scratch / "turnover"), given)
        )
    return tasks


def write(
    out_dir: Path,
    chain: bool = True,
    day_name: str = "black-thursday-2020",
    overrides: dict[str, object] | None = None,
    progress: Progress | None = None,
    workers: int = 1,
) -> tuple[Path, list[str], bool]:
    """Run the day and its sensitivity under its family's model, then under Backstop (on Anvil
    and in the model, reconciled; the model alone without `chain`), write summary.md,
    Backstop's inputs and its risk report in `out_dir`; the summary's path, the headline's
    lines and whether Backstop's run reconciled. `overrides`: settings changed for every run
    (`--set`); `workers`: processes for the independent runs; `progress(done, total)` after
    each run."""
    overrides = dict(overrides or {})
    module = day(day_name)
    cf = backstop.COUNTERFACTUALS[day_name]
    v = day_values(module.SETTINGS, overrides)
    runs_tasks = history_tasks(day_name, overrides, module.SETTINGS)
    with tempfile.TemporaryDirectory() as scratch:
        b_tasks = backstop_tasks(day_name, Path(scratch), None, overrides)
        # the counterfactual held like for like: calibration or check, interval, caps
        f_tasks = counterfactual.tasks_of(day_name, overrides, Path(scratch) / "cf")
        # Black Thursday's turnover column needs the flip run first: its own task after
        total = len(runs_tasks) + len(b_tasks) + len(f_tasks) + (module.FAMILY == "flip") + 1
        done = 0

        def tick(_: int, __: int) -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total)

        results = tasks.execute(runs_tasks + b_tasks + f_tasks, workers, tick)
        base = results[None]
        # the counterfactual's interval, over the capitals the check keeps
        keep = counterfactual.kept(day_name, base, results, overrides)
        grid = counterfactual.interval_tasks(day_name, overrides, Path(scratch) / "cf", keep)
        total += len(grid)
        results.update(tasks.execute(grid, workers, tick))
        runs = []
        for _, _, key, _ in runs_tasks[1:]:
            setting, value = key  # type: ignore[misc]
            runs.append((setting, value, _show(value), results[key]))
        rows = [
            (name, shown, why, results[("b", k)])
            for k, (name, shown, why, _, _) in enumerate(backstop.sensitivity_tasks(cf))
        ]
        # the model runs at the oracle's other phases: with the reconciled run, the lead
        # figure's distribution (history/lead.py)
        others = [
            (phase, results[("b", k)])
            for k, (_, _, _, _, phase) in enumerate(backstop.sensitivity_tasks(cf))
            if phase is not None
        ]
        turnover: tuple[int, BackstopFigures] | None = None
        if module.FAMILY == "flip":
            capital = backstop.turnover_capital(base, v)
            (task,) = backstop_tasks(day_name, Path(scratch), capital, overrides)[-1:]
            turnover = (capital, tasks.execute([task], 1, tick)["turnover"])
    if module.FAMILY == "flip":
        text = summary(base, runs, overrides)
    else:
        text = report_clip.summary(module, base, runs, overrides)
    outcome: list[BackstopDay] = []

    def build(directory: Path) -> None:
        done_day = backstop.run(directory / "backstop", chain=chain, v=v, cf=cf)
        outcome.append(done_day)
        tick(0, 0)
        phases = lead.lead_with_phases(done_day, others)
        write_report(
            directory / "backstop" / "report",
            done_day.done.result,
            done_day.done.reconciliation,
            scenario_lines(done_day.scenario),
            extra=phases,
            command="history",
        )
        if module.FAMILY == "flip":
            assert turnover is not None
            section = backstop_section(base, done_day, turnover, rows, overrides)
        else:
            section = report_clip.backstop_section(module, base, done_day, rows, v)
        fair = counterfactual.sections(
            day_name,
            base,
            results,
            BackstopFigures.of(done_day.done.result),
            overrides,
            done_day.done.result.facts,
        )
        (directory / "summary.md").write_text(text + "\n" + section + "\n" + fair)

    publish(out_dir, build, "history")
    backstop_day = outcome[0]
    b = BackstopFigures.of(backstop_day.done.result)
    eve = v.eve_debt / 1e18
    lines = (
        headline(base, overrides)
        if module.FAMILY == "flip"
        else report_clip.headline(module, base, overrides)
    )
    return (
        out_dir / "summary.md",
        lines
        + [
            lead.console_line(
                b,
                backstop_day.done.result.facts,
                eve,
                _pct if module.FAMILY == "flip" else report_clip.pct,
            )
        ],
        backstop_day.done.ok,
    )
