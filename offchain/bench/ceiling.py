"""How large a book the market can carry (docs/market.md, "How large a book the market can
carry"): for each built-in day, the drained insolvency per unit of starting debt against the
book's debt, from 250 to 100,000 vaults, with the day's market depth fixed (the built-ins'
default: a bigger protocol sells into the same market; what governance and keepers size to the
book grows with it, sim/scenario/ceilings.py), at every phase of the oracle's period; and from
that curve the largest book whose worst-phase insolvency stays at or under a stated share of its
debt (CEILING_SHARE, 1%): the debt ceiling and auction caps the lab recommends for that day,
with its interval over the calibration's rows (data/market/calibration.toml's sensitivity rows
of the quantities the day's run reads and no source fixes: the venue's share, and the capital
taker's stablecoin where the day has one).

The recommendation is a measured book, never an extrapolation: the largest size of CEILING_VAULTS
such that it and every smaller size stay at or under the share at their worst phase (a size
over the share ends the search, even if a larger one comes back under). Beside it, the
crossing: the debt where the worst phase's share reaches CEILING_SHARE, interpolated linearly
in log debt between the last size under and the first over (an estimate, said as one). A day
whose smallest book is already over the share has no ceiling on this grid: it is "below" that
book's debt, and the line says so. The caps are those the run sized to the recommended book
(per collateral type: a two-type day keeps its file's split of vaults; its types' ceilings are
not varied apart).

Each run is offchain/sim/run/timing.py in a process of its own, as `make bench`'s scale figures
(figures.timed_run, whose runs this shares within one process)."""

from __future__ import annotations

import math
import statistics
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CALIBRATION = ROOT / "data" / "market" / "calibration.toml"

CEILING_SCENARIOS = ("black-thursday-2020", "may-2021", "may-2021-two-types")
CEILING_VAULTS = (
    100,
    250,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    30_000,
    40_000,
    50_000,
    100_000,
)
CEILING_SHARE = 0.01
# past a day's first book over, a book of this size or more runs the scenario's own phase alone
# (no recommendation reads it); None: every book runs every phase (issue 73: no figure of a real
# day leads with one phase; the 100k tail's five more phases cost about half an hour on two
# cores)
ONE_PHASE_FROM: int | None = None
# each built-in's day in the calibration file (its venue share's and keepers' tables)
DAY_OF = {"black-thursday-2020": "2020", "may-2021": "2021", "may-2021-two-types": "2021"}

Run = Callable[..., dict[str, Any]]  # figures.timed_run's signature


@dataclass(frozen=True)
class Row:
    """One run setting of the ceiling's interval: `label` as the report prints it, `sets`
    timing.py's `--set TABLE.KEY=VALUE` values (none: the built-in as shipped), `source` the
    calibration entry it reads."""

    label: str
    sets: tuple[str, ...] = ()
    source: str = "the built-in as shipped"


CENTRAL = Row("central")


def calibration_rows(name: str, taker_capital: int, calibration: Path = CALIBRATION) -> list[Row]:
    """The interval's rows of built-in `name` (its capital taker's stablecoin `taker_capital`
    [whole], 0 for none): the low and high rows of the day's venue share, and, for a day with a
    capital taker, of 2020's keeper capital (the one calibrated quantity, keepers_2020.
    capital_dai: its interval over its value, times the built-in's capital: the built-ins size
    their taker to their book, not to MakerDAO's)."""
    data = tomllib.loads(calibration.read_text())
    day = DAY_OF[name]
    share = data["venue"][f"share_{'2020_03_12' if day == '2020' else '2021_05_19'}"]
    rows = [
        Row(
            f"venue share {x:g}",
            (f"market.venue_share={x}",),
            f"venue.share_{'2020_03_12' if day == '2020' else '2021_05_19'} (sensitivity)",
        )
        for x in share["sensitivity"]
    ]
    if taker_capital > 0:
        capital = data["keepers_2020"]["capital_dai"]
        for x in capital["sensitivity"]:
            value = taker_capital * x // capital["value"]
            rows.append(
                Row(
                    f"taker capital {value:,} ({x / capital['value']:.3g}x)",
                    (f"keepers.taker_capital={value}",),
                    "keepers_2020.capital_dai (sensitivity over value)",
                )
            )
    return rows


def file_capital(name: str) -> int:
    """Built-in `name`'s capital taker's stablecoin at its own count [whole] (0: none)."""
    from offchain.sim.scenario.load import load_scenario

    return load_scenario(name).keepers.taker_capital // 10**18


def options(row: Row) -> tuple[str, ...]:
    """timing.py's arguments for `row` after the depth."""
    return tuple(x for s in row.sets for x in ("--set", s))


def point(
    run: Run,
    name: str,
    vaults: int,
    row: Row = CENTRAL,
    over: float | None = None,
    next_phase: int | None = None,
    own_only: bool = False,
) -> dict[str, Any]:
    """One book of the curve: built-in `name` at `vaults`, depth fixed, drained, at every phase
    of the oracle's period (the scenario's own first, as figures.phase_spread): its debt, the
    median and the worst phase's insolvency per debt, the worst phase, what was still open or
    left unsafe at the worst, the limits the run sized to the book; "complete" True. With
    `over` (a row's runs: only what decides its ceiling), the phases stop at the first whose
    share is over `over` (the own phase, then `next_phase`, then the rest in order): a point
    with "complete" False, its "worst" that phase's (at least the worst), no median. With
    `own_only` (the central curve past its first book over, which no recommendation reads),
    the scenario's own phase alone: "complete" False, no median or worst, "own_phase_share"
    (every point has it). "by_type": each collateral type's starting debt and its part of the
    insolvency over its own debt, over the same phases (a row's point stops where the whole
    book's share did, not the type's)."""
    first = run(name, vaults, "fixed", *options(row))
    own = int(first["oracle_phase"])
    per = {own: first}
    rest = [int(x) for x in first["phases"] if int(x) != own]
    if next_phase in rest:
        rest.remove(next_phase)
        rest.insert(0, next_phase)
    for phase in [None, *([] if own_only else rest)]:
        if phase is not None:
            per[phase] = run(name, vaults, "fixed", *options(row), phase=phase)
        if (
            over is not None
            and float(per[own if phase is None else phase]["insolvency_per_debt"]) > over
        ):
            break
    phases = sorted(per)
    share = {p: float(per[p]["insolvency_per_debt"]) for p in phases}
    worst = max(phases, key=lambda p: (share[p], -p))
    complete = len(per) == len(rest) + 1
    w = per[worst]
    by_type = {}
    for t, debt in first["debt_by_type"].items():
        part = {p: float(per[p]["insolvency_by_type"][t]) / debt if debt else 0.0 for p in phases}
        t_worst = max(phases, key=lambda p: (part[p], -p))
        by_type[t] = {
            "debt": debt,
            # a type with no debt in this book (its share of the vaults rounded to none) is not
            # a point of its curve
            "median": round(statistics.median(part.values()), 6) if complete and debt else None,
            "worst": None if own_only or not debt else round(part[t_worst], 6),
            "worst_phase": t_worst,
            "per_phase": {str(p): round(part[p], 6) for p in phases},
        }
    return {
        "vaults": vaults,
        "debt": float(first["debt"]),
        "complete": complete,
        "own_phase_share": share[own],
        "median": round(statistics.median(share.values()), 6) if complete else None,
        "worst": None if own_only else share[worst],
        "worst_phase": worst,
        "per_phase": {str(p): share[p] for p in phases},
        "open_auctions_worst": w["open_auctions"],
        "open_at_horizon_worst": w["open_at_horizon"],
        "unsafe_left_worst": w["unsafe_vaults_left"],
        "time_to_clear_h_worst": (
            None if w["time_to_clear_s"] is None else round(w["time_to_clear_s"] / 3600, 2)
        ),
        "vaults_by_type": first["vaults_by_type"],
        "debt_ceiling_by_type": first["debt_ceiling_by_type"],
        "auction_cap_by_type": first["auction_cap_by_type"],
        "global_debt_ceiling": first["global_debt_ceiling"],
        "max_debt_in_auction": first["max_debt_in_auction"],
        "taker_capital": first["taker_capital"],
        # each collateral type's starting debt and its part of the insolvency per its own debt
        # (the contagion table's: a type's realized bad debt and its open book marked), over the
        # same phases
        "by_type": by_type,
    }


def ceiling(points: Sequence[dict[str, Any]], share: float = CEILING_SHARE) -> dict[str, Any]:
    """The recommendation of one curve (`points` ascending by size): the largest book such that
    it and every smaller one stay at or under `share` at their worst phase ("ceiling"), with the
    caps its run sized; "first_over", the next book (None: every size stayed under, the ceiling
    is then at least the largest); "crossing", the debt where the worst phase's share reaches
    `share` between the two, interpolated in log debt (None without both). "below": the
    smallest book's debt when it is already over (no ceiling on the grid)."""
    under = 0
    while under < len(points) and points[under]["worst"] <= share:
        under += 1
    if under == 0:
        return {"ceiling": None, "first_over": points[0], "crossing": None,
                "below": points[0]["debt"]}  # fmt: skip
    last = points[under - 1]
    over = points[under] if under < len(points) else None
    crossing = None
    if over is not None and over["worst"] > last["worst"]:
        t = (share - last["worst"]) / (over["worst"] - last["worst"])
        crossing = math.exp(
            math.log(last["debt"]) + t * (math.log(over["debt"]) - math.log(last["debt"]))
        )
    return {"ceiling": last, "first_over": over, "crossing": crossing, "below": None}


def size_label(vaults: int) -> str:
    """1k, 100k, 250: a size in a figure's key."""
    return f"{vaults // 1000}k" if vaults % 1000 == 0 else str(vaults)


def day_key(name: str) -> str:
    return f"ceiling.{name.replace('-', '_')}"


def _beyond(found: dict[str, Any], share: float, next_book: str | None) -> str:
    """What a recommendation's line says past its book: `next_book` (the first book over, in
    words; None: there is none) and its worst phase, with the crossing where there is one."""
    if next_book is None:
        return f"at least: every book measured at every phase stayed under {share:.0%}"
    crossing = found["crossing"]
    return f"{next_book} loses {found['first_over']['worst']:.2%} at its worst phase" + (
        f"; the crossing, interpolated, near {crossing:,.0f}" if crossing is not None else ""
    )


def ceiling_line(name: str, found: dict[str, Any], share: float = CEILING_SHARE) -> str:
    """The recommendation of `name` in one line of words (the report's and the docs')."""
    if found["ceiling"] is None:
        return (
            f"{name}: no ceiling on the grid: the smallest book measured "
            f"({found['first_over']['vaults']:,} vaults, {found['below']:,.0f} of debt) already "
            f"loses {found['first_over']['worst']:.2%} at its worst phase (over {share:.0%})"
        )
    c = found["ceiling"]
    caps = ", ".join(f"{t} {v:,}" for t, v in c["auction_cap_by_type"].items())
    ceilings = ", ".join(f"{t} {v:,}" for t, v in c["debt_ceiling_by_type"].items())
    over = found["first_over"]
    tail = _beyond(
        found,
        share,
        None if over is None else f"the next book ({over['vaults']:,} vaults, {over['debt']:,.0f})",
    )
    return (
        f"{name}: a book of {c['debt']:,.0f} ({c['vaults']:,} vaults; worst phase "
        f"{c['worst']:.2%}, median {c['median']:.2%}); its runs' debt ceilings {ceilings}, "
        f"auction caps {caps}, {c['max_debt_in_auction']:,} in auction over all; {tail}"
    )


def type_key(name: str) -> str:
    """ETH-A -> eth_a: a collateral type in a figure's key."""
    return name.lower().replace("-", "_")


def type_points(points: Sequence[dict[str, Any]], collateral: str) -> list[dict[str, Any]]:
    """A curve's `points` as collateral type `collateral`'s own: each book's debt of that type,
    and the type's part of the insolvency over it (median, worst, its phase); the books with a
    worst phase only (`ceiling` reads them)."""
    return [
        {**p, **p["by_type"][collateral], "book_debt": p["debt"]}
        for p in points
        if p["by_type"][collateral]["worst"] is not None
    ]


def type_line(
    name: str, collateral: str, found: dict[str, Any], share: float = CEILING_SHARE
) -> str:
    """The recommendation of collateral type `collateral` within `name`'s book (`ceiling` over
    `type_points`) in one line of words."""
    if found["ceiling"] is None:
        over = found["first_over"]
        return (
            f"{name}, {collateral}: no ceiling on the grid: in the smallest book measured "
            f"({over['vaults']:,} vaults) its {over['debt']:,.0f} of debt already loses "
            f"{over['worst']:.2%} of it at its worst phase (over {share:.0%})"
        )
    c, over = found["ceiling"], found["first_over"]
    tail = _beyond(
        found,
        share,
        None
        if over is None
        else f"in the next book ({over['vaults']:,} vaults) its {over['debt']:,.0f}",
    )
    return (
        f"{name}, {collateral}: {c['debt']:,.0f} of its debt, in a book of {c['book_debt']:,.0f} "
        f"({c['vaults']:,} vaults; its part worst phase {c['worst']:.2%} of its debt, median "
        f"{c['median']:.2%}); the run's {collateral} debt ceiling "
        f"{c['debt_ceiling_by_type'][collateral]:,}, auction cap "
        f"{c['auction_cap_by_type'][collateral]:,}; {tail}"
    )


def phases_of(name: str) -> tuple[int, list[int]]:
    """Built-in `name`'s own oracle phase and every phase of its period on its bars."""
    from offchain.sim.scenario.load import load_scenario
    from offchain.sim.scenario.timeline import oracle_phase, period_phases

    scenario = load_scenario(name)
    return oracle_phase(scenario), [int(p) for p in period_phases(scenario)]


def point_jobs(name: str, vaults: int, row: Row, phases: tuple[int, list[int]]) -> list[tuple]:
    """The runs `point` asks for, as figures.prefetch's jobs."""
    own, every = phases
    base = (name, vaults, "fixed", *options(row))
    return [(*base, None)] + [(*base, p) for p in every if p != own]


def ceiling_figures(
    run: Run,
    names: Sequence[str] = CEILING_SCENARIOS,
    sizes: Sequence[int] = CEILING_VAULTS,
    share: float = CEILING_SHARE,
    own_capital: Callable[[str], int] | None = None,
    prefetch: Callable[[list[tuple]], None] | None = None,
    one_phase_from: int | None = ONE_PHASE_FROM,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Every day's curve (central, every size) and its rows (each up to its first book over),
    as figures: `ceiling.<day>_<size>_{debt,insolvency_per_debt_median,_worst}` of the central
    curve, `ceiling.<day>_debt` and `_vaults` (the recommendation; absent where none on the
    grid), `_crossing_debt` (and `_crossing_low_debt`, `_crossing_high_debt` over the rows),
    `_low_debt` and `_high_debt` (the least and the most of the rows'
    and the central's recommendations; 0 where one has none on the grid); for a day of more
    than one collateral type, each type's own recommendation on the central curve
    (`ceiling.<day>_<type>_debt`, `_vaults`, `_crossing_debt`: `type_points`); and a meta with
    every point and the lines in words. Size by size, ascending: the runs a size needs (the central
    curve's, and each row's not yet over the share) go to `prefetch` together (figures.prefetch:
    on every core), then are read in turn. With `one_phase_from` (ONE_PHASE_FROM: None, every
    book every phase), past the central curve's first book over, a book of that size or more
    runs the scenario's own phase alone (`point`'s own_only: no recommendation reads it):
    `ceiling.<day>_<size>_insolvency_per_debt`, no median or worst."""
    rows = {name: [CENTRAL, *calibration_rows(name, (own_capital or file_capital)(name))]
            for name in names}  # fmt: skip
    phases = {name: phases_of(name) for name in names}
    points: dict[tuple[str, str], list[dict[str, Any]]] = {
        (name, row.label): [] for name in names for row in rows[name]
    }

    def going(name: str, row: Row) -> bool:
        done = points[(name, row.label)]
        return row is CENTRAL or not done or done[-1]["worst"] <= share

    def past(name: str, vaults: int) -> bool:
        """A book of `vaults` on the central curve of `name` runs one phase: it is of
        `one_phase_from` or more, and the curve has had its first book over."""
        return (
            one_phase_from is not None
            and vaults >= one_phase_from
            and any(
                p["worst"] is not None and p["worst"] > share for p in points[(name, CENTRAL.label)]
            )
        )

    def ask(jobs: list[tuple]) -> None:
        if prefetch is not None and jobs:
            prefetch(jobs)

    def share_at(name: str, vaults: int, row: Row, phase: int | None) -> float:
        at = {} if phase is None else {"phase": phase}
        return float(run(name, vaults, "fixed", *options(row), **at)["insolvency_per_debt"])

    for vaults in sorted(sizes):
        # at once: the central curve's runs and each going row's own-phase run; then, for the
        # rows that phase left under, the central's worst phase; then, for those still under,
        # the rest (a row stops at its first phase over: point's `over`)
        wanted = [(name, row) for name in names for row in rows[name] if going(name, row)]
        ask(
            [
                job
                for name, row in wanted
                for job in point_jobs(name, vaults, row, phases[name])[
                    : None if row is CENTRAL and not past(name, vaults) else 1
                ]
            ]
        )
        nxt: dict[str, int | None] = {}
        for name in names:
            central = point(run, name, vaults, own_only=past(name, vaults))
            points[(name, CENTRAL.label)].append(central)
            nxt[name] = (
                None if central["worst_phase"] == phases[name][0] else central["worst_phase"]
            )
        probed = [
            (name, row)
            for name, row in wanted
            if row is not CENTRAL and share_at(name, vaults, row, None) <= share
        ]
        ask([(name, vaults, "fixed", *options(row), nxt[name]) for name, row in probed
             if nxt[name] is not None])  # fmt: skip
        still = [(name, row) for name, row in probed if nxt[name] is None
                 or share_at(name, vaults, row, nxt[name]) <= share]  # fmt: skip
        ask([job for name, row in still for job in point_jobs(name, vaults, row, phases[name])[1:]
             if job[-1] != nxt[name]])  # fmt: skip
        for name, row in wanted:
            if row is not CENTRAL:
                points[(name, row.label)].append(
                    point(run, name, vaults, row, over=share, next_phase=nxt[name])
                )

    figures: dict[str, float] = {}
    lines: list[str] = []
    detail: dict[str, Any] = {}
    for name in names:
        key = day_key(name)
        central = points[(name, CENTRAL.label)]
        for p in central:
            k = f"{key}_{size_label(p['vaults'])}"
            figures[f"{k}_debt"] = p["debt"]
            if p["complete"]:
                figures[f"{k}_insolvency_per_debt_median"] = p["median"]
                figures[f"{k}_insolvency_per_debt_worst"] = p["worst"]
            else:  # the tail past the first book over: the scenario's own phase alone
                figures[f"{k}_insolvency_per_debt"] = p["own_phase_share"]
        found = ceiling(central, share)
        results = {row.label: ceiling(points[(name, row.label)], share) for row in rows[name]}
        day: dict[str, Any] = {"central": central, "rows": {
            row.label: {"sets": list(row.sets), "source": row.source,
                        "points": points[(name, row.label)]}
            for row in rows[name] if row is not CENTRAL
        }}  # fmt: skip
        debts = [0.0 if r["ceiling"] is None else r["ceiling"]["debt"] for r in results.values()]
        if found["ceiling"] is not None:
            figures[f"{key}_debt"] = found["ceiling"]["debt"]
            figures[f"{key}_vaults"] = found["ceiling"]["vaults"]
        if found["crossing"] is not None:
            figures[f"{key}_crossing_debt"] = round(found["crossing"])
        figures[f"{key}_low_debt"] = min(debts)
        figures[f"{key}_high_debt"] = max(debts)
        crossings = [r["crossing"] for r in results.values() if r["crossing"] is not None]
        if crossings:
            figures[f"{key}_crossing_low_debt"] = round(min(crossings))
            figures[f"{key}_crossing_high_debt"] = round(max(crossings))
        day["lines"] = {label: ceiling_line(name, r, share) for label, r in results.items()}
        detail[name] = day
        lines.append(day["lines"][CENTRAL.label])
        for label, r in results.items():
            if label != CENTRAL.label:
                lines.append(f"  at {label}: " + ceiling_line(name, r, share).split(": ", 1)[1])
        # a day of more than one collateral type: each type's own recommendation on the central
        # curve (its part of the insolvency over its own debt; the types sized together)
        kinds = list(central[0]["by_type"]) if central else []
        if len(kinds) > 1:
            day["type_lines"] = {}
            for t in kinds:
                found_t = ceiling(type_points(central, t), share)
                tk = f"{key}_{type_key(t)}"
                if found_t["ceiling"] is not None:
                    figures[f"{tk}_debt"] = found_t["ceiling"]["debt"]
                    figures[f"{tk}_vaults"] = found_t["ceiling"]["vaults"]
                if found_t["crossing"] is not None:
                    figures[f"{tk}_crossing_debt"] = round(found_t["crossing"])
                day["type_lines"][t] = type_line(name, t, found_t, share)
                lines.append("  " + day["type_lines"][t])
    meta = {
        "ceiling_note": (
            f"ceiling.*: each built-in day in the model at {', '.join(map(size_label, sizes))} "
            "vaults, depth fixed, drained (sim/run/drain.py), at every phase of the oracle's "
            f"period; <day>_debt: the largest book whose worst phase loses at most {share:.0%} of "
            "its debt, it and every smaller book (offchain/bench/ceiling.py); _low_debt, "
            "_high_debt: the least and most of that over the calibration's rows "
            "(data/market/calibration.toml's sensitivity rows of the venue share and of the "
            "keeper capital; 0: a row with none on the grid); _crossing_debt: interpolated in "
            "log debt between the last book under and the first over, an estimate (a row's first "
            "book over stops at its first phase over: its crossing is then an upper bound), and "
            "its least and most over the rows (_crossing_low_debt, _high_debt)"
            + (
                "; every book at every phase. "
                if one_phase_from is None
                else f"; past a day's first book over a book of {one_phase_from:,} or more runs "
                "the scenario's own phase alone (<day>_<size>_insolvency_per_debt; no "
                "recommendation reads it). "
            )
            + "A day of more than one collateral type also has each type's own "
            "recommendation on the central curve: <day>_<type>_debt (that type's starting debt "
            f"in the largest book whose worst phase loses at most {share:.0%} of it, counting the "
            "type's own part of the insolvency: its realized bad debt and its open book marked; "
            "the types sized together, in the file's split), _vaults (that book), "
            "_crossing_debt. Every point in "
            "ceiling_curves, the lines in ceiling_lines"
        ),
        "ceiling_lines": lines,
        "ceiling_curves": detail,
    }
    return figures, meta
