"""A model of MakerDAO's 2020 Flipper and Cat, not a twin of any Backstop contract: the history
check's report. History's published figures beside the model's under the day's settings
(black_thursday.SETTINGS), each against its band; the sensitivity of each figure to each
assumption (one setting changed at a time); the keepers' fate; every setting with its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from offchain.history.black_thursday import BANDS, SETTINGS, Band, market, run, values
from offchain.history.day import DayResult
from offchain.report.documents import publish

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
    if band.low <= value <= band.high:
        return "within"
    if value > band.high:
        return f"{100 * (value - band.high):.1f} points above the band"
    return f"{100 * (band.low - value):.1f} points below the band"


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


def summary(base: DayResult, runs: list[tuple[str, object, str, DayResult]]) -> str:
    v = values()
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
        run_debt = values({name: value}).eve_debt
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
        shown = "launch values" if s.name == "flip" else _show(s.value)
        alts = ", ".join(_show(a) for a in s.alternatives)
        lines.append(f"| {s.name} | {shown} | {s.source} | {s.note} | {alts} |")
    lines += [
        "",
        "Sources: the ids are docs/history.md's source table (A: parameters of the day, B: the "
        "oracle, C: the state before the crash, E: the outcome, F: keepers and gas).",
        "",
        "## Not in this report yet",
        "",
        "- The same population and day under Backstop's own mechanism and waterfall (on chain and "
        "in the model, reconciled): issue 48's second half.",
        "",
    ]
    return "\n".join(lines)


def headline(base: DayResult) -> list[str]:
    """The console's lines: each banded figure, the model's against history's."""
    debt = values().eve_debt
    return [
        f"{b.name}: model {_pct(b.of(base, debt))}, history {b.history}, band "
        f"{_pct(b.low)} to {_pct(b.high)}: {verdict(b, b.of(base, debt))}"
        for b in BANDS
    ]


def write(out_dir: Path) -> tuple[Path, list[str]]:
    """Run the day and its sensitivity, write summary.md in `out_dir`; its path and the
    headline's lines."""
    base = run()
    runs = sensitivity()
    text = summary(base, runs)

    def build(directory: Path) -> None:
        (directory / "summary.md").write_text(text)

    publish(out_dir, build)
    return out_dir / "summary.md", headline(base)
