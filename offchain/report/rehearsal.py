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

The day's actors (the arbitrageur, the capital taker, the debt-auction bidder, the insurance
fund, the stakers, the pool's seed: offchain/sim/scenario/ceilings.py, actor_draws) draw their
stablecoin on the type beside the book. Where the book and those draws exceed a debt ceiling the
day runs under (the type's, the day's own override of it, the global one), that ceiling is
raised by the draws, from the book's debt where that is higher (a ceiling manager may have
raised the live ceiling above the config's), and the ceiling manager's maximum with it: the book
keeps the room the config gives it on the devnet, and the fee that rises near the ceiling stays
near the live one. Each raise is stated in the report (Sizing). Every day is prepared (its book,
its ceilings, its scenario before and after, loaded and checked) before any day runs: a day
that cannot be built is named, with why, before a minute of work, and left out.

What is not rehearsed: the live system's other state (the stability pool's stakes, the fund,
open auctions, other types' vaults) does not enter the crash runs, which deploy the config
afresh with the book; the fork's state is checked by the fork's own steps.
"""

from __future__ import annotations

import statistics
import tempfile
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
from offchain.sim.scenario.ceilings import actor_draws
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.market_data import DataError
from offchain.sim.scenario.reader import ScenarioError, format_wad
from offchain.sim.scenario.timeline import oracle_phase, period_phases
from offchain.sim.scenario.types import Scenario
from offchain.sim.scenario.variants import with_phase
from offchain.system.config import CollateralConfig, ConfigError, parse_config
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


@dataclass(frozen=True)
class Sizing:
    """The debt ceilings one crash day runs a book under, with one config (the module
    docstring): the config's and the day's own, or raised where the book and the day's actors'
    draws exceed them."""

    book: int  # the book's debt [wad]
    draws: int  # the day's actors' draws on the type [wad]
    raised: tuple[tuple[str, int, int], ...] = ()  # (which ceiling, from, to [rad])
    overrides: tuple[tuple[str, str], ...] = ()  # collateral_overrides keys set (whole units)
    global_ceiling: int | None = None  # [rad] the config's system.global_debt_ceiling, raised

    def text(self) -> str:
        """What was raised and why, or "" (nothing)."""
        if not self.raised:
            return ""
        moves = " and ".join(
            f"{what} from {format_wad(a // RAY)} to {format_wad(b // RAY)}"
            for what, a, b in self.raised
        )
        return (
            f"{moves}: the book's debt {format_amount(self.book / WAD)} and the day's actors' "
            f"draws {format_amount(self.draws / WAD)} (the keepers' capital, the pool's seed, the "
            "insurance fund and the stakes, drawn on the type beside the book) would exceed it; "
            "raised by the draws, the book keeps the room the config gives it"
        )


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
    sized: dict[str, Sizing] = field(default_factory=dict)  # config ("before", "after") ->
    # prepared (prepare_day), run by run_day: config -> the day's scenario with the book
    scenarios: dict[str, Scenario] = field(default_factory=dict, repr=False)
    base: Scenario | None = field(default=None, repr=False)  # the built-in day, as shipped


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


def _day_document(day: str) -> dict[str, Any]:
    return tomllib.loads((BUILTIN / f"{day}.toml").read_text())


def _whole(x: int) -> int:
    """`x` [rad] rounded up to a whole stablecoin (the config's amounts are written whole)."""
    return -(-x // RAD) * RAD


def sizing(base: Scenario, day: str, rows: list, config_text: str, type_name: str) -> Sizing:
    """The ceilings crash day `day` (`base`: the built-in, loaded) runs the book `rows` under
    with the config `config_text` (the module docstring)."""
    book = sum(debt for _, _, debt in rows)
    # the book's own [vaults] table holds the book alone (no owner opts in to soft
    # liquidation), and its market, keepers and backstop are the day's: a book scales nothing
    draws = actor_draws(base.market, base.keepers, base.backstop, False)
    config = parse_config(tomllib.loads(config_text), "config")
    coll = next(c for c in config.collateral if c.name == type_name)
    own = _day_document(day).get("protocol", {}).get("collateral_overrides", {})
    shipped = base.system.collateral[0]  # with the day's overrides
    ceiling = shipped.debt_ceiling if "debt_ceiling" in own else coll.debt_ceiling
    ceiling_max = shipped.ceiling_max if "ceiling_max" in own else coll.ceiling_max
    need = (book + draws) * RAY
    raised: list[tuple[str, int, int]] = []
    overrides: list[tuple[str, str]] = []
    if need > ceiling:
        new = _whole(max(ceiling, book * RAY) + draws * RAY)
        raised.append((f"{type_name}'s debt ceiling", ceiling, new))
        overrides.append(("debt_ceiling", str(new // RAD)))
        if new > ceiling_max:
            raised.append(("its ceiling manager's maximum", ceiling_max, new))
            overrides.append(("ceiling_max", str(new // RAD)))
    global_ceiling = None
    if need > config.global_debt_ceiling:
        global_ceiling = _whole(max(config.global_debt_ceiling, book * RAY) + draws * RAY)
        raised.append(("the global debt ceiling", config.global_debt_ceiling, global_ceiling))
    return Sizing(book, draws, tuple(raised), tuple(overrides), global_ceiling)


def _scenario(
    directory: Path, day: str, type_name: str, rows: list, config_text: str, sized: Sizing
) -> Scenario:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "book.csv").write_text(
        "collateral,debt\n" + "".join(f"{_units(c)},{_units(b)}\n" for _, c, b in rows)
    )
    if sized.global_ceiling is not None:
        document = tomllib.loads(config_text)
        document["system"]["global_debt_ceiling"] = str(sized.global_ceiling // RAD)
        config_text = toml_text(document)
    (directory / "config.toml").write_text(config_text)
    data = _day_document(day)
    data["scenario"]["name"] = f"{day}-rehearsal"
    data["vaults"] = {"book": "book.csv"}
    data["protocol"]["config"] = "config.toml"
    data["protocol"]["collateral"] = type_name
    if sized.overrides:
        data["protocol"]["collateral_overrides"] = {
            **data["protocol"].get("collateral_overrides", {}),
            **dict(sized.overrides),
        }
    # the day's market files: relative to the scenario's folder, then to the project root
    path = directory / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        return load_scenario(str(path))
    except (ScenarioError, ConfigError, DataError) as exc:
        raise ScenarioError(problem_text(str(exc), directory)) from None


# the loader's advice on a file's keys, which a rehearsal's user does not write: cut off
_ADVICE = ("; lower ", "; raise ", ", or raise ", "; use ", ", or use ")


def problem_text(message: str, directory: Path) -> str:
    """The loader's first line about a scenario the rehearsal wrote in `directory` (a scratch
    folder), without the folder's paths and without advice on keys of files the user never
    sees."""
    line = message.splitlines()[0] if message else "refused"
    for name in ("scenario.yaml", "book.csv", "config.toml"):
        line = line.replace(f"{directory / name}: ", "").replace(str(directory / name), name)
    line = line.replace(f"{directory}/", "").replace(str(directory), "the day's folder")
    cut = min((k for k in (line.find(a) for a in _ADVICE) if k >= 0), default=len(line))
    return line[:cut]


def _figures(result: Any) -> dict[str, float]:
    out = figures(result)
    out.update({f"paid:{layer}": amount for layer, amount in paid_by_layer(result).items()})
    return out


def prepare_day(
    day: str,
    type_name: str,
    vaults: list[tuple[str, int, int]],
    rate: int,
    live_price: int,
    configs: dict[str, str],
    work: Path,
) -> Day:
    """`day` on the book `vaults` of `type_name` (the fork's, after), under each config of
    `configs` ("before", "after" -> TOML text), in `work` (a scratch folder): the book, the
    ceilings and each side's scenario, loaded and checked, nothing run (run_day runs them). A
    day that cannot run is `skipped`, with why, in one line."""
    base = load_scenario(day)
    first = base.system.collateral[0].initial_price
    colls = [_collateral(text, type_name, first) for text in configs.values()]
    result = Day(day, type_name, 0, [], first, live_price, base=base)
    if any(c is None for c in colls):
        result.skipped = f"the deployment has no type {type_name}"
        return result
    rows, left_out = book_rows(vaults, rate, live_price, first, [c for c in colls if c])
    result.included, result.left_out = len(rows), left_out
    if not rows:
        result.skipped = f"no vault of {type_name} can open at the day's first price"
        return result
    for side, text in configs.items():
        result.sized[side] = sized = sizing(base, day, rows, text, type_name)
        try:
            result.scenarios[side] = _scenario(
                work / f"{day}-{side}", day, type_name, rows, text, sized
            )
        except ScenarioError as exc:
            result.skipped = f"the day's scenario with the live book was refused ({side}): {exc}"
            result.scenarios.clear()
            return result
    return result


def run_day(d: Day, code: tuple[dict, str], progress: Callable[[str], None] | None = None) -> Day:
    """Each prepared side of `d` on a private Anvil and in the model at the day's oracle phase,
    reconciled, then in the model at every other phase (the module docstring)."""
    for side, scenario in d.scenarios.items():
        phase = oracle_phase(scenario)
        if progress:
            progress(f"{d.day}, {side}: Anvil and the model at oracle phase {phase:,} s")
        done = replay(scenario, chain=True, code=code, full_check_every=6)
        rec = done.reconciliation
        assert rec is not None
        s = Side(side, phase, rec.diff_count, list(rec.diffs))
        s.runs[phase] = _figures(done.chain or done.model)
        for p in period_phases(scenario):
            if p == phase:
                continue
            if progress:
                progress(f"{d.day}, {side}: the model at oracle phase {p:,} s")
            run = simulate(with_phase(scenario, p, "phase"), "model", full_check_every=None)
            s.runs[p] = _figures(run)
        d.sides.append(s)
    return d


def sizing_lines(d: Day) -> list[str]:
    """The ceilings `d` raised, one line for both configs when they raised the same, else one
    each (the report's, and the command's before it runs)."""
    texts = {side: z.text() for side, z in d.sized.items() if z.text()}
    if not texts:
        return []
    if len(set(texts.values())) == 1 and len(texts) == len(d.sized):
        return [f"Raised for this day (before and after): {next(iter(texts.values()))}."]
    return [f"Raised for this day ({side}): {text}." for side, text in texts.items()]


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
    """The sweep's points on the crash day `d` (prepared and run before and after): each in the
    model at every phase of the oracle's period (not reconciled on a chain: the proposal's own
    two runs are), with the book that opens under before, after and the point alike, its
    ceilings sized as the day's (sizing). A point the loader refuses is a row with why."""
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
        assert d.base is not None
        sized = sizing(d.base, d.day, rows, text, d.type_name)
        try:
            scenario = _scenario(work / f"{d.day}-sweep-{i}", d.day, d.type_name, rows, text, sized)
        except ScenarioError as exc:
            row.problem = f"refused: {exc}"
            continue
        if progress:
            progress(f"{d.day}, {point.where} = {point.value}: the model at every oracle phase")
        for p in period_phases(scenario):
            run = simulate(with_phase(scenario, p, "phase"), "model", full_check_every=None)
            row.runs[p] = _figures(run)
    return out


def crash_days(
    days: list[str],
    type_name: str,
    vaults: list[tuple[str, int, int]],
    rate: int,
    live_price: int,
    configs: dict[str, str],
    points: list[SweepPoint],
    code: tuple[dict, str],
    progress: Callable[[str], None] | None = None,
) -> list[tuple[Day, list[SweepRow]]]:
    """Each of `days` on the book `vaults` of `type_name` before and after, and the sweep's
    `points` on it, in a scratch folder removed after: every day prepared first (its book, its
    ceilings, its scenarios loaded), what cannot run and each ceiling raised said through
    `progress` before any day runs; then each day run and swept."""
    out: list[tuple[Day, list[SweepRow]]] = []
    with tempfile.TemporaryDirectory(prefix="rehearsal-") as folder:
        work = Path(folder)
        prepared = [
            prepare_day(day, type_name, vaults, rate, live_price, configs, work) for day in days
        ]
        for d in prepared:
            for line in ([f"not run: {d.skipped}"] if d.skipped else []) + sizing_lines(d):
                if progress:
                    progress(f"{d.day}: {line}")
        for d in prepared:
            if not d.skipped:
                run_day(d, code, progress)
            out.append((d, sweep_day(d, vaults, rate, points, configs, work, progress)))
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
    out += sizing_lines(d)
    if d.left_out:
        out.append(f"Left out of both runs ({len(d.left_out)}):")
        out += [f"- {owner}: {why}" for owner, why in d.left_out]
    out.append("")
    before, after = d.sides
    phases = len(before.runs)
    out += [
        f"Each cell: the run reconciled on Anvil (oracle phase {before.phase:,} s), then, in "
        f"brackets, its range over the {phases} phases of the oracle's period (the model); a "
        f"number alone: the same at all {phases} phases.",
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
    proposal, the value before and the proposal's own among them; a point that could not run is
    named below the table, with why (a table holds figures only)."""
    if d.skipped or (not rows and not not_swept):
        return []
    phases = len(d.sides[0].runs)
    table, refused = [], []
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
            if r.problem:
                refused.append(f"- {where} = {r.value} ({r.step:g} of the change): {r.problem}")
                continue
            cells = " | ".join(_median_range(k, r.runs) for k in SWEPT)
            table.append(f"| {where} | {r.value} | {r.step:g} | {r.included} | {cells} |")
    out = [f"#### The sweep around the proposal ({d.day})", ""]
    if table:
        out += [
            "Each changed number at the value before, halfway, the proposal, and 1.5 and 2 "
            "times the change, the proposal's other keys in place; each cell the median over "
            f"the {phases} phases of the oracle's period, then, in brackets, its range (the "
            f"model); a number alone: the same at all {phases} phases.",
            "",
            "| key | value | of the change | vaults | "
            + " | ".join(LABELS[k] for k in SWEPT)
            + " |",
            "|---|---|---|---|" + "---|" * len(SWEPT),
            *table,
            "",
        ]
    if refused:
        out += ["Not run:", *refused, ""]
    if not_swept:
        out += [f"Not swept (not a number): {', '.join(not_swept)}.", ""]
    return out


def amount_text(x: int, unit: int = RAD) -> str:
    return format_amount(x / unit)
