"""Backstop's counterfactual of a history day held like for like (issue 73; docs/history.md):
the report's sections after Backstop's side of `ape run history`, each from runs of this module's
tasks (tasks.py). Models of MakerDAO's mechanisms stand on one side, not Backstop's mechanism.

- **Keeper capital, calibrated and checked** (capital.py): Black Thursday's report runs the
  calibration's grid and the calibrated total split over other keeper counts; 2021-05-19's runs
  the check (the 2021 model at the calibrated totals beside K4's 20M).
- **Like for like**: what each side leaves owed at its end, counted alike (accounting.py for the
  model of MakerDAO; sim/results/insolvency.py for Backstop): the finished auctions' shortfalls
  without netting penalties, the open auctions and the unsafe vaults never liquidated, marked at
  the last price and sold on the day's venue.
- **The counterfactual's interval**: Backstop's insolvency over the oracle's phases, the
  calibrated capital (`capitals`) and the venue's share with its calibration rows, each a model
  run; the interval's high over its low, against `MOST`, and where it is wider, which quantity
  spreads it and by how much.
- **The auction caps**: Backstop's caps by the day's rule (backstop.py, `Counterfactual.caps`)
  and a sweep beside it (`cap_sweep`), each cap over the oracle's phases; on 2021-05-19 the
  Liquidations 2.0 model with its `hole` at the same cap beside it.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Mapping
from fractions import Fraction
from itertools import product
from pathlib import Path
from typing import Any

from offchain.history import backstop, capital, lead
from offchain.history.backstop import BackstopFigures, Counterfactual
from offchain.history.days import day
from offchain.history.days.settings import Values
from offchain.history.days.settings import values as day_values
from offchain.model.fixed_point import RAD
from offchain.sim.results.insolvency import EndOfRun
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.timeline import period_phases

__all__ = [
    "MOST",
    "Grid",
    "capitals",
    "cap_section",
    "capital_section",
    "check_section",
    "interval_section",
    "interval_tasks",
    "kept",
    "like_for_like_section",
    "sections",
    "tasks_of",
]

BLACK_THURSDAY = capital.BLACK_THURSDAY
# the widest interval the issue accepts: its high at most this times its low
MOST = 3
# insolvency under this [BUSD] counts as none (a ratio over it is unbounded)
NONE = 1.0


def _m(x: float) -> str:
    return f"{x / 1e6:,.3f}M" if abs(x) < 1e5 else f"{x / 1e6:,.2f}M"


def _pct(x: float) -> str:
    if x != x:
        return "none"
    return f"{100 * x:.2f}%" if abs(x) < 0.01 else f"{100 * x:.1f}%"


def _ratio(high: float, low: float) -> str:
    return "unbounded (from none)" if low < NONE else f"{high / low:,.1f}"


def calibrated_keepers() -> int:
    """The keeper count the 2020 calibration ran at: the day file's `bidders`."""
    return day_values(day(BLACK_THURSDAY).SETTINGS).bidders


def capitals(name: str, v: Values) -> tuple[int, ...]:
    """The capital taker's stablecoin the interval may run [whole]. Black Thursday: the
    calibrated interval's totals (its count of keepers x the file's low, value and high);
    2021-05-19: the day's (K4's 20M) and the calibrated totals' ends, of which the interval
    keeps the latter only where the check holds (`kept`)."""
    value, low, high = capital.committed()
    n = calibrated_keepers()
    if name == BLACK_THURSDAY:
        return (n * low, n * value, n * high)
    return tuple(sorted({v.taker_capital, n * low, n * high}))


def phases(cf: Counterfactual, v: Values) -> tuple[int, ...]:
    """Every oracle phase of the hour the bars tell apart, for Backstop's scenario of the day."""
    with tempfile.TemporaryDirectory() as scratch:
        scenario = load_scenario(str(backstop.write_inputs(Path(scratch), v, cf)))
    return tuple(period_phases(scenario))


def tasks_of(name: str, overrides: dict[str, object], scratch: Path) -> list[tuple]:
    """The first runs of this module's sections for day `name` under `overrides` (`--set`): the
    calibration's (Black Thursday) or the check's (2021-05-19), the cap sweep and, for the clip
    family, the model of MakerDAO at each swept cap. The interval's grid needs the check's
    verdict first (`kept`, `interval_tasks`)."""
    module = day(name)
    cf = backstop.COUNTERFACTUALS[name]
    v = day_values(module.SETTINGS, overrides)
    given = dict(overrides)
    out: list[tuple] = []
    if name == BLACK_THURSDAY:
        out += capital.calibration_tasks(given)
        value = capital.committed()[0]
        out += capital.split_tasks(calibrated_keepers() * value, given)
    else:
        out += capital.check_tasks(given)
    every = phases(cf, v)  # the scenario written and loaded once, not once a cap
    for k, (caps, _) in enumerate(backstop.sweep_caps(cf, v)):
        for p in every:
            out.append(
                ("counterfactual", name, ("cap", caps[0], p), {}, p,
                 str(scratch / f"c{k}-{p}"), given, caps)
            )  # fmt: skip
        if module.FAMILY == "clip" and caps != cf.caps(v):
            holes = {"hole": caps[0] * RAD, "Hole": caps[1] * RAD}
            out.append(("history", name, ("maker-cap", caps[0]), {**given, **holes}))
    return out


def kept(name: str, base: Any, results: dict[Any, Any], overrides: dict[str, object]) -> tuple:
    """The capitals the interval runs (`capitals`), 2021-05-19's by the check's verdict
    (capital.capital_2021) from `base` (the day's run) and the check's runs in `results`."""
    if name == BLACK_THURSDAY:
        return capitals(name, day_values(day(name).SETTINGS, overrides))
    runs = {k[1]: results[k] for k in (t[2] for t in capital.check_tasks(overrides))}
    return capital.capital_2021(capital.check(base, runs, overrides))


def interval_tasks(
    name: str, overrides: dict[str, object], scratch: Path, keep: tuple[int, ...]
) -> list[tuple]:
    """The interval's grid: Backstop in the model at each capital of `keep` x the venue's share
    and its rows x every oracle phase (key ("interval", capital, share, phase))."""
    module = day(name)
    cf = backstop.COUNTERFACTUALS[name]
    v = day_values(module.SETTINGS, overrides)
    given = dict(overrides)
    out: list[tuple] = []
    for k, (c, share, p) in enumerate(product(keep, _shares(module, v), phases(cf, v))):
        # the share as the day's setting (backstop.market_keys writes it), the capital as the
        # scenario's key (Black Thursday's is keepers x capital each)
        run_with = given if share is None else {**given, "venue_share": share}
        changes = {("keepers", "taker_capital"): str(c)}
        out.append(
            ("counterfactual", name, ("interval", c, share, p), changes, p,
             str(scratch / f"i{k}"), run_with, None)
        )  # fmt: skip
    return out


def _shares(module: Any, v: Values) -> tuple[Fraction | None, ...]:
    """The venue's share and its calibration rows (the day file's); closed: (None,)."""
    if v.outside != "open":
        return (None,)
    return tuple(sorted({v.venue_share, *module.SETTINGS["venue_share"].alternatives}))


# --- the sections ---


def capital_section(results: dict[Any, Any], overrides: dict[str, object]) -> str:
    """Black Thursday's: the calibration's grid, the interval it finds beside the file's, and the
    calibrated total split over other keeper counts."""
    module = day(BLACK_THURSDAY)
    v = day_values(module.SETTINGS, overrides)
    keys = [t[2] for t in capital.calibration_tasks(overrides)]
    rows = [capital.row(k, results[k], module.BANDS, v.eve_debt) for k in keys]
    value, low, high = capital.committed()
    n = calibrated_keepers()
    splits = [t[2] for t in capital.split_tasks(n * value, overrides)]
    split_rows = [capital.row(k, results[k], module.BANDS, v.eve_debt) for k in splits]
    found = capital.interval(rows)
    lines = [
        "## Keeper capital: calibrated on this day, checked on 2021-05-19",
        "",
        "The one keeper quantity no source gives (the DAI each honest keeper held: F2, K9 not "
        "found) is fixed from this day's two bands, then checked on the other day "
        "(offchain/history/capital.py): the flip model at this run's settings with "
        f"`bidder_capital` alone changed ({v.bidders} keepers; the day's count, {n}, is itself "
        "assumed).",
        "",
        "| DAI per keeper | the keepers' total | zero-bid share | deficit / debt | both within |",
        "|---:|---:|---:|---:|---|",
    ]
    for r in rows + split_rows:
        lines.append(
            f"| {r.capital:,} x {r.keepers} | {r.total:,} | {_pct(r.figures[0])} | "
            f"{_pct(r.figures[1])} | {'yes' if r.fits else 'no'} |"
        )
    misses = capital.misses_inside(rows)
    if found is None:
        verdict = "**No capital on the grid puts both figures within their bands.**"
    else:
        verdict = (
            f"**Both within from {found[0]:,} to {found[1]:,} a keeper** ({n * found[0]:,} "
            f"to {n * found[1]:,} in all)"
            + (
                "; inside it "
                + ", ".join(f"{r.capital:,}" for r in misses)
                + " miss (the figures are not monotone in the capital there)"
                if misses
                else ""
            )
            + "."
        )
    agree = found == (low, high)
    lines += [
        "",
        verdict + f" The calibration file (data/market/calibration.toml, "
        f"`{capital.CAPITAL_2020}`) holds {low:,} to {high:,}, the day's value {value:,} (its "
        "middle): "
        + (
            "the grid under this run's settings finds the same interval."
            if agree
            else "**the grid under this run's settings finds another interval** (a `--set` "
            "moves the calibration; the file's stands for the day's settings)."
        ),
        "",
        f"The last {len(split_rows)} rows split the calibrated total ({n * value:,}) over "
        f"{' and '.join(str(r.keepers) for r in split_rows)} keepers: Backstop's side takes "
        "the total, not the split. The check on 2021-05-19 is in that day's report "
        "(`ape run history --day may-2021`).",
        "",
    ]
    return "\n".join(lines)


def check_section(base: Any, results: dict[Any, Any], overrides: dict[str, object]) -> str:
    """2021-05-19's: the 2021 model at the calibrated totals beside K4's capital, the check's
    verdict, and the capital Backstop's interval keeps by the rule fixed before it."""
    module = day(capital.MAY_2021)
    runs = {key[1]: results[key] for key in (t[2] for t in capital.check_tasks(overrides))}
    check = capital.check(base, runs, overrides)
    value, low, high = capital.committed()
    n = calibrated_keepers()
    lines = [
        "## Keeper capital: Black Thursday's calibration checked on this day",
        "",
        f"Black Thursday's calibration ({n} keepers x {low:,} to {high:,} DAI: the interval "
        "within both of that day's bands, fixed in data/market/calibration.toml before any run "
        "of this day with it) as the 2021 capital takers' DAI, in place of K4's "
        f"{check.sourced_capital:,}; everything else the day's. The check holds where each "
        "calibrated total puts the same bands within as K4's capital.",
        "",
        "| capital takers' DAI | where from | bands within (of "
        f"{len(module.BANDS)}) | "
        + " | ".join(f"{b.id} {b.name}" for b in module.BANDS if b.id in _CAPITAL_BANDS)
        + " |",
        "|---:|---|---:|" + "---:|" * sum(b.id in _CAPITAL_BANDS for b in module.BANDS),
    ]
    for total, result, where in [
        (check.sourced_capital, base, "K4 (the day's setting)"),
        *((t, runs[t], f"{n} x {t // n:,}, calibrated") for t in sorted(runs)),
    ]:
        shown = " | ".join(
            b.show(b.of(result, 0)) + ("" if b.within(b.of(result, 0)) else " (out)")
            for b in module.BANDS
            if b.id in _CAPITAL_BANDS
        )
        within = sum(b.within(b.of(result, 0)) for b in module.BANDS)
        lines.append(f"| {total:,} | {where} | {within} | {shown} |")
    kept = capital.capital_2021(check)
    lost = {t: [b for b in check.sourced if b not in ids] for t, ids in check.totals.items()}
    lines += [
        "",
        (
            "**The check holds**: each calibrated total puts the same bands within as K4's."
            if check.holds
            else "**The check does not hold**: "
            + "; ".join(f"at {t:,} {', '.join(ids)} fall out" for t, ids in lost.items() if ids)
            + "."
        )
        + " By the rule fixed before the check (capital.py), Backstop's interval on this day "
        f"runs the capital takers' DAI at {', '.join(f'{c:,}' for c in kept)}"
        + ("" if check.holds else " (K4's alone)")
        + ".",
        "",
    ]
    return "\n".join(lines)


# the 2021 bands the capital moves (the rest move with the volume: B2, B8, B9)
_CAPITAL_BANDS = ("B1", "B3", "B4", "B5", "B6", "B10")


def _open_book(e: EndOfRun) -> dict[str, float]:
    return {
        "realized": e.realized / RAD,
        "open": e.open_auctions,
        "open_marked": e.marked_open_shortfall / RAD,
        "unsafe": e.unsafe_vaults,
        "unsafe_debt": e.unsafe_debt / RAD,
        "unsafe_marked": e.marked_unsafe_shortfall / RAD,
        "last": e.insolvency_last_price / RAD,
        "insolvency": e.insolvency / RAD,
    }


def like_for_like_section(
    maker: EndOfRun,
    maker_name: str,
    b: BackstopFigures,
    eve: float,
    netted: str,
    facts: Mapping[str, Any] | None = None,
) -> str:
    """What each side leaves owed, counted alike (module docstring): the model of MakerDAO's
    end of day (`maker`) beside Backstop's run (`b`); `netted` the model's own headline loss
    (the Vow's, penalties netted), for reference. `facts`: the reconciled run's, led by the
    oracle's phases (history/lead.py): Backstop's two insolvency rows lead with the median over
    the phases, the worst beside it, as the comparison above does; without them (a run
    without its phases) the cells say they are one phase. The model of MakerDAO's side is the
    day's one run: its oracle's phase is the day's (the OSM's hour on the chain), not a choice."""
    last, sold = lead.insolvency_cells(b, facts or {}, eve, _pct, _m)
    phase = (facts or {}).get("oracle_phase")
    at = f", at its oracle phase ({int(phase):,} s)" if phase is not None else ""
    m = _open_book(maker)
    rows = [
        ("realized: the finished auctions' shortfalls (debt not raised, no penalty netted "
         "against another auction)", _m(m["realized"]), _m(b.realized)),
        ("auctions still open at the end; their shortfall, sold on the market",
         f"{m['open']:,}; {_m(m['open_marked'])}",
         f"{b.open_auctions:,}; {_m(b.open_marked)}"),
        ("unsafe vaults never liquidated (at the last price); their debt; their shortfall, "
         "sold on the market",
         f"{m['unsafe']:,}; {_m(m['unsafe_debt'])}; {_m(m['unsafe_marked'])}",
         f"{b.unsafe_left:,}; {_m(b.unsafe_debt)}; {_m(b.unsafe_marked)}"),
        ("insolvency at the last price", f"{_m(m['last'])}, {_pct(m['last'] / eve)}", last),
        ("insolvency, the open book sold on the market",
         f"{_m(m['insolvency'])}, {_pct(m['insolvency'] / eve)}", sold),
    ]  # fmt: skip
    lines = [
        "## Like for like: what each side leaves owed",
        "",
        "Both sides counted as Backstop's side counts its own (sim/results/insolvency.py): the "
        "finished auctions' shortfalls, then what is still open when the run ends (the running "
        "auctions' lots, then the collateral of every vault unsafe at the last price and never "
        "liquidated) marked at the last price and sold on the day's venue over 36 bars "
        "(offchain/history/accounting.py feeds the model of MakerDAO's end of day to the same "
        "function). The model of MakerDAO is one run, at the day's oracle phase (the OSM's "
        "hour on the chain). Backstop's phase is the lab's choice: its two insolvency rows are "
        "the median over the oracle's phases, the worst beside it (each phase a row of the "
        f"sensitivity table); its other rows are the reconciled run's{at}. The model of "
        "MakerDAO ends with the data, "
        "Backstop's run 6 hours "
        f"of the last price later. The model's own headline ({netted}) nets penalties raised "
        "against shortfalls: not this table's count.",
        "",
        f"| figure | {maker_name} (model) | Backstop |",
        "|---|---:|---:|",
    ]
    lines += [f"| {a} | {x} | {y} |" for a, x, y in rows]
    lines.append("")
    return "\n".join(lines)


def interval_section(
    name: str, results: dict[Any, Any], overrides: dict[str, object], keep: tuple[int, ...]
) -> str:
    """The counterfactual's interval (module docstring): every run of the grid, the interval over
    the capitals `keep` (the rule's), its high over its low against MOST, and each quantity's
    spread."""
    module = day(name)
    cf = backstop.COUNTERFACTUALS[name]
    v = day_values(module.SETTINGS, overrides)
    grid = Grid.of(results)
    ps = sorted({p for _, _, p in grid.cells})
    caps, ss = sorted({c for c, _, _ in grid.cells}), _shares(module, v)
    lines = [
        "## Backstop's counterfactual interval",
        "",
        "Backstop's insolvency (the open book sold on the market: the end-of-run mark) over the "
        "oracle's phases, the capital taker's stablecoin and the venue's share with its "
        "calibration rows, each cell a model run of the eve under the day's caps "
        f"({cf.caps_rule}). The capital: "
        + (
            "the calibrated interval's totals (3 keepers x the calibration file's low, value "
            "and high)."
            if name == BLACK_THURSDAY
            else "K4's, and Black Thursday's calibrated totals where the check above holds "
            f"(here: {', '.join(f'{c:,}' for c in keep)})."
        ),
        "",
        "| capital taker's stablecoin | venue_share | "
        + " | ".join(f"phase {p:,} s" for p in ps)
        + " | lowest | highest |",
        "|---:|---:|" + "---:|" * (len(ps) + 2),
    ]
    for c, s in product(caps, ss):
        row = [grid.cells[(c, s, p)] for p in ps]
        lines.append(
            f"| {c:,} | {_share(s)} | "
            + " | ".join(_m(x) for x in row)
            + f" | {_m(min(row))} | {_m(max(row))} |"
        )
    kept = grid.only(keep)
    low, high = kept.low, kept.high
    fits = low >= NONE and high <= MOST * low
    day_capital = cf.taker_capital(v)
    lines += [
        "",
        f"**The interval: {_m(low)} to {_m(high)}, a factor of {_ratio(high, low)}** "
        + (f"(at most {MOST}: within)." if fits else f"(more than {MOST})."),
    ]
    spreads = []
    for axis, label in ((2, "the oracle's phase"), (0, "the capital"), (1, "the venue's share")):
        most, at = kept.spread(axis)
        spreads.append((most, label, at))
    if not fits:
        worst = max(spreads, key=lambda x: x[0][1] / max(x[0][0], NONE))
        (lo, hi), label, at = worst
        lines += [
            "",
            f"What spreads it: **{label}**, alone up to a factor of {_ratio(hi, lo)} ({_m(lo)} "
            f"to {_m(hi)} {at}). Each quantity's widest spread with the others held: "
            + "; ".join(
                f"{lbl} {_ratio(h, lo2)} ({_m(lo2)} to {_m(h)} {a})" for (lo2, h), lbl, a in spreads
            )  # fmt: skip
            + ".",
        ]
    held = kept.at(day_capital if day_capital in keep else None, v.venue_share
                   if v.outside == "open" else None)  # fmt: skip
    if held:
        lines += [
            "",
            f"At the day's capital ({day_capital:,}) and share, over the phases alone: "
            f"{_m(min(held))} to {_m(max(held))}, a factor of {_ratio(max(held), min(held))}.",
        ]
    lines.append("")
    return "\n".join(lines)


def _share(s: Fraction | None) -> str:
    return "closed" if s is None else str(float(s))


class Grid:
    """The interval's runs: (capital, share, phase) -> insolvency [BUSD]."""

    def __init__(self, cells: dict[tuple[int, Fraction | None, int], float]):
        self.cells = cells

    @classmethod
    def of(cls, results: dict[Any, Any]) -> Grid:
        return cls(
            {
                (k[1], k[2], k[3]): r.insolvency
                for k, r in results.items()
                if isinstance(k, tuple) and k[0] == "interval"
            }
        )

    def only(self, capitals: tuple[int, ...]) -> Grid:
        return Grid({k: x for k, x in self.cells.items() if k[0] in capitals})

    @property
    def low(self) -> float:
        return min(self.cells.values())

    @property
    def high(self) -> float:
        return max(self.cells.values())

    def spread(self, axis: int) -> tuple[tuple[float, float], str]:
        """The widest (low, high) along `axis` with the other two held, and where."""
        groups: dict[tuple, list[float]] = {}
        for key, x in self.cells.items():
            rest = tuple(k for i, k in enumerate(key) if i != axis)
            groups.setdefault(rest, []).append(x)
        names = [n for i, n in enumerate(("capital", "share", "phase")) if i != axis]

        def width(xs: list[float]) -> float:
            return max(xs) / max(min(xs), NONE)

        rest, xs = max(groups.items(), key=lambda kv: width(kv[1]))
        at = ", ".join(
            f"{n} {_share(k) if n == 'share' else f'{k:,}'}" for n, k in zip(names, rest)
        )
        return (min(xs), max(xs)), f"at {at}"

    def at(self, capital: int | None, share: Fraction | None) -> list[float]:
        """The cells at `capital` and `share` over the phases (empty: capital not run)."""
        return [x for (c, s, _), x in sorted(self.cells.items()) if c == capital and s == share]


def cap_section(
    name: str, results: dict[Any, Any], overrides: dict[str, object], base: Any | None = None
) -> str:
    """The cap sweep (module docstring): each cap's Backstop insolvency over the phases, median
    and worst; on a clip day the Liquidations 2.0 model at `hole` = the cap beside it (`base`:
    the day's run, the rule's row)."""
    module = day(name)
    cf = backstop.COUNTERFACTUALS[name]
    v = day_values(module.SETTINGS, overrides)
    rule = cf.caps(v)
    clip = module.FAMILY == "clip"
    lines = [
        "## Auction caps: the day's rule and a sweep",
        "",
        f"Backstop's auction caps follow the day's protocol: {cf.caps_rule}. Each row below "
        "sets ETH-A's auction cap (and the debt in auction over all types to the larger of it "
        f"and the rule's, {rule[1]:,}), everything else the day's; Backstop's insolvency (sold "
        "on the market) over the oracle's phases."
        + (
            " Beside it, the model of Liquidations 2.0 with ETH-A's `hole` at the same cap "
            "(and `Hole` at the larger of it and 100M), at the day's settings, counted like "
            "for like (the table above)."
            if clip
            else " The 2020 Cat had no cap to sweep (A12): its model is not run here."
        ),
        "",
        "| cap | why | Backstop: insolvency, median over the phases | worst | best |"
        + (
            " MakerDAO 2021 (model) at hole = cap: insolvency | its realized | auctions |"
            if clip
            else ""
        ),  # fmt: skip
        "|---:|---|---:|---:|---:|" + ("---:|---:|---:|" if clip else ""),
    ]
    for caps, why in backstop.sweep_caps(cf, v):
        xs = [r.insolvency for k, r in results.items()
              if isinstance(k, tuple) and k[0] == "cap" and k[1] == caps[0]]  # fmt: skip
        row = (
            f"| {caps[0]:,} | {why} | {_m(statistics.median(xs))} | {_m(max(xs))} | {_m(min(xs))} |"
        )
        if clip:
            r = base if caps == rule else results[("maker-cap", caps[0])]
            assert r is not None and r.end_of_day is not None
            e = r.end_of_day
            row += f" {_m(e.insolvency / RAD)} | {_m(e.realized / RAD)} | {r.kicked:,} |"
        lines.append(row)
    lines.append("")
    return "\n".join(lines)


def sections(
    name: str,
    base: Any,
    results: dict[Any, Any],
    b: BackstopFigures,
    overrides: dict[str, object],
    facts: Mapping[str, Any] | None = None,
) -> str:
    """This module's sections of day `name`'s report, in order: the keeper capital (calibrated
    or checked), like for like, the interval, the caps. `base`: the model of MakerDAO's run
    under the day's settings; `results`: every task's (tasks_of) by key; `b`: Backstop's run;
    `facts`: its result's, led by the oracle's phases (history/lead.py)."""
    module = day(name)
    v = day_values(module.SETTINGS, overrides)
    eve = v.eve_debt / 1e18
    keep = kept(name, base, results, overrides)
    if module.FAMILY == "flip":
        first = capital_section(results, overrides)
        maker = "MakerDAO 2020"
    else:
        first = check_section(base, results, overrides)
        maker = "MakerDAO 2021"
    netted = f"the Vow's deficit, {_m(base.deficit / RAD)}" + (
        ": negative, a surplus" if base.deficit < 0 else ""
    )
    assert base.end_of_day is not None
    return "\n".join(
        [
            first,
            like_for_like_section(base.end_of_day, maker, b, eve, netted, facts),
            interval_section(name, results, overrides, keep),
            cap_section(name, results, overrides, base),
        ]
    )
