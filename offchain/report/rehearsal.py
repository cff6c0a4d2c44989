"""The crash days of a governance rehearsal (`ape run govern rehearse ID`, docs/governance.md):
the devnet's live book run through each shipped crash day before and after the proposal, and
the report.

The book is the fork's vaults of the day's collateral type after the proposal ran
(offchain/live/rehearsal.py). A crash day is a fall from its own first price, so each vault
keeps its collateral ratio at the oracle's live price: its collateral is rescaled by the live
price over the day's first (floored to the token's unit), its debt is its debt now (rounded up to
the wei). A vault unsafe at the day's first price under either config (the book's own check,
offchain/sim/scenario/book.py), or below the type's dust, cannot open there: it is left out of
both runs and named. The day is the built-in scenario of its name (offchain/sim/scenarios/) with
this book and the deployment's recorded config, before, or with the proposal's keys, after: on a
private Anvil and in the model at the day's oracle phase, reconciled, and in the model at every
other phase of the oracle's period (offchain/report/phases.py), so that each figure is reported
as its range over the phases beside the reconciled run.

What is not rehearsed: the live system's other state (the stability pool's stakes, the fund,
open auctions, other types' vaults) does not enter the crash runs, which deploy the config
afresh with the book; the fork's state is checked by the fork's own steps.
"""

from __future__ import annotations

import statistics
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.report.phases import figures
from offchain.report.tables import format_amount, paid_by_layer
from offchain.sim.run.driver import simulate
from offchain.sim.run.replay import replay
from offchain.sim.scenario.book import starts_unsafe
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.timeline import oracle_phase, period_phases
from offchain.sim.scenario.variants import with_phase
from offchain.system.config import CollateralConfig, parse_config
from offchain.system.files import toml_text
from offchain.system.governance import SweepPoint

# the shipped crash days a rehearsal runs by default (offchain/sim/scenarios/<day>.toml)
DAYS = ("black-thursday-2020", "may-2021")
BUILTIN = Path(__file__).resolve().parents[1] / "sim" / "scenarios"
# the headline figures, then who paid, per run
FIGURES = ("insolvency", "realized_bad_debt", "open_auctions", "unsafe_vaults_left", "liquidations")
LABELS = {
    "insolvency": "insolvency",
    "realized_bad_debt": "realized bad debt",
    "open_auctions": "auctions running at the end",
    "unsafe_vaults_left": "unsafe vaults not liquidated",
    "liquidations": "liquidations",
}


@dataclass
class Side:
    """One crash day, before or after: the reconciled run and every phase's figures."""

    config: str  # "before" or "after"
    phase: int  # the reconciled run's oracle phase [s]
    differences: int
    difference_lines: list[str]
    runs: dict[int, dict[str, float]] = field(default_factory=dict)  # phase -> figures, paid

    def spread(self, key: str) -> tuple[float, float, float]:
        """(min, the reconciled run's, max) of `key` over the phases."""
        xs = [r.get(key, 0.0) for r in self.runs.values()]
        return min(xs), self.runs[self.phase].get(key, 0.0), max(xs)


@dataclass
class Day:
    day: str
    type_name: str
    included: int
    left_out: list[tuple[str, str]]  # (owner, why)
    first_price: int  # wad
    live_price: int  # wad
    sides: list[Side] = field(default_factory=list)
    skipped: str = ""  # why the day was not run


def _collateral(config_text: str, name: str, first_price: int) -> CollateralConfig | None:
    config = parse_config(tomllib.loads(config_text), "config")
    coll = next((c for c in config.collateral if c.name == name), None)
    return replace(coll, initial_price=first_price) if coll is not None else None


def book_rows(
    vaults: list[tuple[str, int, int]],
    rate: int,
    live_price: int,
    first_price: int,
    colls: list[CollateralConfig],
) -> tuple[list[tuple[str, int, int]], list[tuple[str, str]]]:
    """(owner, collateral [wad], debt [wad]) of the vaults (owner, collateral, normalized debt)
    at the day's first price (see the module docstring), and those left out with why."""
    unit = 10 ** (18 - colls[0].token_decimals)
    rows, out = [], []
    for owner, collateral, normalized in vaults:
        scaled = collateral * live_price // first_price // unit * unit
        debt = -(-normalized * rate // RAY)
        why = None
        if scaled == 0:
            why = "its collateral rounds to 0 at the day's price"
        for coll in colls:
            if why is None and debt * RAY < coll.dust:
                why = "below the type's dust"
            if why is None:
                why = starts_unsafe(scaled, debt, coll)
        if why is None:
            rows.append((owner, scaled, debt))
        else:
            out.append((owner, why))
    return rows, out


def _units(x: int) -> str:
    return f"{x // WAD}.{x % WAD:018d}"


def _scenario(directory: Path, day: str, type_name: str, rows: list, config_text: str) -> Any:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "book.csv").write_text(
        "collateral,debt\n" + "".join(f"{_units(c)},{_units(b)}\n" for _, c, b in rows)
    )
    (directory / "config.toml").write_text(config_text)
    data = tomllib.loads((BUILTIN / f"{day}.toml").read_text())
    data["scenario"]["name"] = f"{day}-rehearsal"
    data["vaults"] = {"book": "book.csv"}
    data["protocol"]["config"] = "config.toml"
    data["protocol"]["collateral"] = type_name
    # the day's market files: relative to the scenario's folder, then to the project root
    path = directory / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_scenario(str(path))


def _figures(result: Any) -> dict[str, float]:
    out = figures(result)
    out.update({f"paid:{layer}": amount for layer, amount in paid_by_layer(result).items()})
    return out


def crash_day(
    day: str,
    type_name: str,
    vaults: list[tuple[str, int, int]],
    rate: int,
    live_price: int,
    configs: dict[str, str],
    work: Path,
    code: tuple[dict, str],
    progress: Callable[[str], None] | None = None,
) -> Day:
    """`day` on the book `vaults` of `type_name` (the fork's, after), under each config of
    `configs` ("before", "after" -> TOML text), in `work` (a scratch folder)."""
    first = load_scenario(day).system.collateral[0].initial_price
    colls = [_collateral(text, type_name, first) for text in configs.values()]
    result = Day(day, type_name, 0, [], first, live_price)
    if any(c is None for c in colls):
        result.skipped = f"the deployment has no type {type_name}"
        return result
    rows, left_out = book_rows(vaults, rate, live_price, first, [c for c in colls if c])
    result.included, result.left_out = len(rows), left_out
    if not rows:
        result.skipped = f"no vault of {type_name} can open at the day's first price"
        return result
    for side, text in configs.items():
        scenario = _scenario(work / f"{day}-{side}", day, type_name, rows, text)
        phase = oracle_phase(scenario)
        if progress:
            progress(f"{day}, {side}: Anvil and the model at oracle phase {phase:,} s")
        done = replay(scenario, chain=True, code=code, full_check_every=6)
        rec = done.reconciliation
        assert rec is not None
        s = Side(side, phase, rec.diff_count, list(rec.diffs))
        s.runs[phase] = _figures(done.chain or done.model)
        for p in period_phases(scenario):
            if p == phase:
                continue
            if progress:
                progress(f"{day}, {side}: the model at oracle phase {p:,} s")
            run = simulate(with_phase(scenario, p, "phase"), "model", full_check_every=None)
            s.runs[p] = _figures(run)
        result.sides.append(s)
    return result


@dataclass
class SweepRow:
    """One point of the sweep around the proposal on one crash day (governance.sweep_points):
    the model at every phase of the oracle's period, on the book that opens under the configs
    before, after and at this point."""

    where: str
    step: Decimal  # of the change: 0 before, 1 the proposal
    value: str
    included: int = 0
    before: str = ""  # the key's value before, and the proposal's
    proposed: str = ""
    problem: str = ""
    runs: dict[int, dict[str, float]] = field(default_factory=dict)  # phase -> figures, paid


def sweep_day(
    d: Day,
    vaults: list[tuple[str, int, int]],
    rate: int,
    points: list[SweepPoint],
    configs: dict[str, str],
    work: Path,
    progress: Callable[[str], None] | None = None,
) -> list[SweepRow]:
    """The sweep's points on the crash day `d` (crash_day's, run before and after): each in the
    model at every phase of the oracle's period (not reconciled on a chain: the proposal's own
    two runs are), with the book that opens under before, after and the point alike."""
    if d.skipped:
        return []
    out: list[SweepRow] = []
    for i, point in enumerate(points):
        row = SweepRow(
            point.where,
            point.step,
            point.value,
            problem=point.problem,
            before=point.before,
            proposed=point.proposed,
        )
        out.append(row)
        if point.document is None:
            continue
        text = toml_text(point.document)
        colls = [_collateral(t, d.type_name, d.first_price) for t in (*configs.values(), text)]
        rows, _ = book_rows(vaults, rate, d.live_price, d.first_price, [c for c in colls if c])
        row.included = len(rows)
        if not rows:
            row.problem = f"no vault of {d.type_name} can open at the day's first price"
            continue
        scenario = _scenario(work / f"{d.day}-sweep-{i}", d.day, d.type_name, rows, text)
        if progress:
            progress(f"{d.day}, {point.where} = {point.value}: the model at every oracle phase")
        for p in period_phases(scenario):
            run = simulate(with_phase(scenario, p, "phase"), "model", full_check_every=None)
            row.runs[p] = _figures(run)
    return out


# ---------------------------------------------------------------- the report


def _value(key: str, x: float) -> str:
    if key in ("open_auctions", "unsafe_vaults_left", "liquidations"):
        return f"{x:,.0f}"
    return format_amount(x)


def _range(key: str, low: float, mid: float, high: float) -> str:
    if low == high:
        return _value(key, mid)
    return f"{_value(key, mid)} ({_value(key, low)} to {_value(key, high)})"


def day_lines(d: Day, others: dict[str, int] | None = None) -> list[str]:
    """The day's section of the report (markdown); `others`: the vaults of the types the day
    does not run (type name -> how many), named."""
    out = [f"### {d.day}", ""]
    for name, n in sorted((others or {}).items()):
        out.append(
            f"Not run: {n} vault{'s' if n != 1 else ''} of {name} (the day is {d.type_name}'s)."
        )
    if d.skipped:
        return out + [f"Not run: {d.skipped}.", ""]
    out.append(
        f"{d.included} vaults of {d.type_name}, each at its collateral ratio at the live price "
        f"{format_amount(d.live_price / WAD)}, rescaled to the day's first price "
        f"{format_amount(d.first_price / WAD)}."
    )
    if d.left_out:
        out.append(f"Left out of both runs ({len(d.left_out)}):")
        out += [f"- {owner}: {why}" for owner, why in d.left_out]
    out.append("")
    before, after = d.sides
    phases = len(before.runs)
    out += [
        f"Each cell: the run reconciled on Anvil (oracle phase {before.phase:,} s), then its "
        f"range over the {phases} phases of the oracle's period (the model).",
        "",
        "| figure | before | after |",
        "|---|---|---|",
    ]
    keys = list(FIGURES)
    layers = sorted(
        {k for s in d.sides for r in s.runs.values() for k in r if k.startswith("paid:")},
        key=lambda k: next((i for i, x in enumerate(before.runs[before.phase]) if x == k), 99),
    )
    for key in keys + layers:
        label = LABELS.get(key, f"paid by {key.removeprefix('paid:')}")
        out.append(
            f"| {label} | {_range(key, *before.spread(key))} | {_range(key, *after.spread(key))} |"
        )
    out.append("")
    for s in d.sides:
        verdict = "0 differences" if not s.differences else f"{s.differences} differences"
        out.append(f"- {s.config}: Anvil against the model, {verdict}")
        out += [f"  - {line}" for line in s.difference_lines]
    out.append("")
    return out


SWEPT = (
    "insolvency",
    "realized_bad_debt",
    "liquidations",
    "open_auctions",
    "unsafe_vaults_left",
)


def _median_range(key: str, runs: dict[int, dict[str, float]]) -> str:
    xs = [r.get(key, 0.0) for r in runs.values()]
    return _range(key, min(xs), statistics.median(xs), max(xs))


def sweep_lines(d: Day, rows: list[SweepRow], not_swept: list[str]) -> list[str]:
    """The sweep's section of a crash day (markdown): each changed key at the values around the
    proposal, the value before and the proposal's own among them."""
    if d.skipped or (not rows and not not_swept):
        return []
    out = [
        f"#### The sweep around the proposal ({d.day})",
        "",
        "Each changed number at the value before, halfway, the proposal, and 1.5 and 2 times "
        "the change, the proposal's other keys in place; each cell the median over the "
        f"{len(d.sides[0].runs)} phases of the oracle's period, then its range (the model).",
        "",
        "| key | value | of the change | vaults | " + " | ".join(LABELS[k] for k in SWEPT) + " |",
        "|---|---|---|---|" + "---|" * len(SWEPT),
    ]
    before, after = d.sides
    for where in dict.fromkeys(r.where for r in rows):
        mine = [r for r in rows if r.where == where]
        ends = [
            SweepRow(where, Decimal(0), f"{mine[0].before} (before)", d.included, runs=before.runs),
            SweepRow(
                where, Decimal(1), f"{mine[0].proposed} (proposed)", d.included, runs=after.runs
            ),
        ]
        for r in sorted(mine + ends, key=lambda r: r.step):
            head = f"| {where} | {r.value} | {r.step:g} | "
            if r.problem:
                out.append(head + f"- | {r.problem} |" + " |" * (len(SWEPT) - 1))
                continue
            cells = " | ".join(_median_range(k, r.runs) for k in SWEPT)
            out.append(head + f"{r.included} | {cells} |")
    out.append("")
    if not_swept:
        out += [f"Not swept (not a number): {', '.join(not_swept)}.", ""]
    return out


def amount_text(x: int, unit: int = RAD) -> str:
    return format_amount(x / unit)
