"""A sweep's definition (`SweepSpec`: scenarios, seeds per cell, a grid of parameters) from the
command line or a sweep file, and its validated plan (`Plan`: the cells and the runs).

Grid names are the scenario's and the deployment config's own keys (GRID_KEYS, derived from the
parameter schema, offchain/system/schema.py: a collateral type's parameters, the market's, the
vault population's, the keepers', the backstop's, the waterfall order, a synthetic path's). Each
value passes the validation a scenario file's value passes (`load_scenario(overrides=...)`):
first every value alone, then every cell (a combination can break a rule no value breaks alone,
as a liquidation ratio above the population's lowest start ratio). A mistake is one `SweepError`
line naming the grid key and the problem.

Cells are the product of the grid's values, per scenario, in the order given (the first key
slowest). An auction-curve parameter applies only to the curves that read it
(schema.CURVE_PARAMETERS): in a cell of another curve it is left out and shown as "-", and cells
that differ only in parameters they do not use are one cell. Run k of a cell uses seed
(the scenario's seed + k) mod 2^64: `ape run simulate --scenario S --seed <seed>` replays it,
the cell's values given in a scenario file.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any

from offchain.model.price_curves import CurveKind
from offchain.sim.scenario.load import MAX_SEED, ScenarioError, load_scenario, scenario_problem
from offchain.sim.scenario.types import Scenario
from offchain.system.config import layer_problem
from offchain.system.files import read_mapping
from offchain.system.schema import (
    CONFIG_TABLES,
    CURVE_PARAMETERS,
    MAX_VAULTS,
    SCENARIO_TABLES,
    TYPES,
    Kind,
    Table,
)

MAX_SEEDS = 100_000
MAX_RUNS = 1_000_000
NOT_APPLICABLE = "-"  # a cell's value of a curve parameter its curve does not read
LAYER_JOIN = "+"  # a waterfall order on the command line: fund+stability_pool+debt_auction
NO_LAYERS = "none"  # the empty waterfall order
# of sweep.json (store.py); another format is another sweep (2: insolvency; 3: the holders'
# loss among a run's figures, and every sized figure's VaR and ES; 4: insolvency drained, the
# end-of-run mark beside it)
FORMAT = 4
# what the recommendation, the heatmaps and the histograms may rank cells by (--rank-by,
# sweep.rank_by; stats.SIZED): insolvency, what no layer paid, the stablecoin holders' loss
RANKED = ("insolvency", "uncovered", "holders_loss")


class SweepError(ValueError):
    """A mistake in a sweep's definition; the message is one line naming it."""


@dataclass(frozen=True)
class GridKey:
    """Where a grid name lives in a scenario (scenario.load.OVERRIDE_TABLES) and how its values are
    read: "int" (an integer), "number" (a decimal, kept as its text), "text", "layers" (a
    waterfall order)."""

    table: str
    kind: str


# how the command line's text of a key of each kind becomes what the loader reads
_GRID_KINDS = {
    Kind.INTEGER: "int",
    Kind.AMOUNT: "number",
    Kind.DECIMAL: "number",
    Kind.FLOAT: "number",
    Kind.CHOICE: "text",
    Kind.LAYERS: "layers",
}
TYPE_SEPARATOR = "@"


def derive_grid_keys(
    tables: tuple[Table, ...] = SCENARIO_TABLES,
) -> tuple[dict[str, GridKey], dict[str, GridKey]]:
    """(GRID_KEYS, TYPE_GRID_KEYS) from the scenario's tables of the parameter schema: every key
    a sweep may vary (`Key.sweep`), in the table a scenario file gives it in (a collateral type's
    in protocol.collateral_overrides). A further type's key ([types.<name>]) is `key@TYPE`; bare,
    it is the first table's that has it (pool_depth: the market's), and a key only the types
    have (beta, correlation) goes to every further type."""
    grid: dict[str, GridKey] = {}
    per_type: dict[str, GridKey] = {}
    for table in tables:
        for key in table:
            if not key.sweep:
                continue
            entry = GridKey(table.name, _GRID_KINDS[key.kind])
            if table.name == TYPES.name:
                per_type[key.name] = entry
            grid.setdefault(key.name, entry)
    return grid, per_type


# every key a sweep may vary (a key of a collateral type but its name, token, initial price (the
# path's first price) and pool depth (the market's)); a further type's own keys, varied for that
# type alone as `key@TYPE` (`pool_depth@WBTC-A`): `beta` and `correlation` without a type go to
# every one
GRID_KEYS, TYPE_GRID_KEYS = derive_grid_keys()


def grid_key(name: str) -> GridKey | None:
    """Where grid name `name` lives and how its values are read (None: no such name): a key of
    GRID_KEYS, or `key@TYPE` for a key of TYPE_GRID_KEYS (table `types.TYPE`)."""
    if name in GRID_KEYS:
        return GRID_KEYS[name]
    key, sep, type_name = name.partition(TYPE_SEPARATOR)
    if sep and type_name and key in TYPE_GRID_KEYS:
        return GridKey(f"types.{type_name}", TYPE_GRID_KEYS[key].kind)
    return None


_CURVE_KEYS = {key for keys in CURVE_PARAMETERS.values() for key in keys}
_INTEGER = re.compile(r"^-?[0-9]+(_[0-9]+)*$")  # underscores between digits only


# ---------------------------------------------------------------- the definition


@dataclass(frozen=True)
class Dimension:
    """One grid key and its values, as a scenario file would give them (str, int or, for the
    waterfall, a list of layer names)."""

    name: str
    values: tuple[Any, ...]

    def labels(self) -> tuple[str, ...]:
        return tuple(label(v) for v in self.values)


def label(value: Any) -> str:
    """A grid value as the results and the report show it."""
    if isinstance(value, list):
        return LAYER_JOIN.join(value) if value else NO_LAYERS
    return str(value)


@dataclass(frozen=True)
class SweepSpec:
    scenarios: tuple[str, ...]  # built-in names, scenario files or price CSVs
    seeds: int  # runs per cell
    grid: tuple[Dimension, ...] = ()
    vaults: int | None = None  # the population's size, for every scenario (else each one's own)


def _fail_value(name: str, raw: Any, problem: str) -> SweepError:
    return SweepError(f"grid {name}={raw}: {problem}")


def _number(text: str) -> Any:
    """A grid value's label as a number where it is one (so that equal numbers compare equal),
    else the label itself."""
    try:
        number = Decimal(text.replace("_", ""))
    except InvalidOperation:
        return text
    return number if number.is_finite() else text


def grid_value(name: str, raw: Any) -> Any:
    """`raw` (a command-line string or a file's value) as the scenario loader takes key `name`'s
    values; the loader validates it further."""
    key = grid_key(name)
    assert key is not None, name  # dimension() refuses unknown names first
    if key.kind == "layers":
        if isinstance(raw, list):
            names = raw
        elif isinstance(raw, str):
            text = raw.strip()
            names = (
                [] if text in ("", NO_LAYERS) else [part.strip() for part in text.split(LAYER_JOIN)]
            )
        else:
            raise _fail_value(name, raw, f"must be layer names joined by {LAYER_JOIN!r}")
        if not all(isinstance(n, str) for n in names):
            raise _fail_value(name, raw, "must be a list of layer names")
        problem = layer_problem(names)
        if problem:
            raise _fail_value(name, raw, problem)
        return list(names)
    if isinstance(raw, bool) or raw is None or isinstance(raw, (list, dict)):
        raise _fail_value(name, raw, "must be a single value")
    if key.kind == "int":
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str) and _INTEGER.match(raw.strip()):
            return int(raw.strip().replace("_", ""))
        raise _fail_value(name, raw, "must be an integer")
    if key.kind == "text":
        if not isinstance(raw, str):
            raise _fail_value(name, raw, "must be a word")
        return raw.strip()
    if not isinstance(raw, (str, int, float)):
        raise _fail_value(name, raw, "must be a number")
    return str(raw).strip()


def fixed_key(name: str) -> str | None:
    """Where `name`, not a grid key, is a key a sweep cannot vary (a deployment config's
    system-wide key, a name, the seed): one line saying what it is and why; else None. Such a
    name was answered with the closest grid key (`global_debt_ceiling`: "did you mean
    debt_ceiling?", another parameter)."""
    for table in (*CONFIG_TABLES, *SCENARIO_TABLES):
        key = table.keys.get(name)
        if key is None or key.sweep:
            continue
        if key.kind is Kind.TEXT:
            return f"{name} names something (a token, a type, the scenario), not a parameter"
        if table.name in ("system", "backstop", "governance"):  # the config's own tables
            return (
                f"{name} is a key of the deployment config's [{table.name}] table, which a "
                "sweep cannot vary (a scenario cannot override it): one config file per value, "
                "each named by a scenario's protocol.config, sweeps it as several scenarios"
            )
        if name == "seed":
            return "seed is not a grid key: --seeds sets the runs of every cell (seed + k)"
        if name == "initial_price":
            return "initial_price is the price path's first price, not a grid key"
        return f"{name} is a key of [{table.name}] that a sweep cannot vary"
    return None


def dimension(name: str, raws: list[Any], where: str) -> Dimension:
    """A grid dimension from its name and raw values; `where` names the option or table."""
    if grid_key(name) is None:
        fixed = fixed_key(name)
        if fixed is not None:
            raise SweepError(f"{where}: {fixed}")
        bare, sep, type_name = name.partition(TYPE_SEPARATOR)
        # only a real grid key, and a close one (a far one named another parameter)
        keys = list(TYPE_GRID_KEYS if sep else GRID_KEYS)
        close = difflib.get_close_matches(bare, keys, n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]}{sep}{type_name}?)" if close else ""
        if sep and bare in TYPE_GRID_KEYS:
            hint = " (a type's key is key@TYPE, e.g. pool_depth@WBTC-A)"
        elif sep and bare in GRID_KEYS:
            hint = (
                f" ({bare} is the first type's; a further type's protocol parameters are not "
                "grid keys: a config file per value sweeps them)"
            )
        raise SweepError(
            f"{where}: unknown grid name {name!r}{hint}; the names are the scenario's and the "
            "config's keys, listed in docs/sweeps.md"
        )
    if not raws:
        raise SweepError(f"{where}: {name} has no values")
    values = tuple(grid_value(name, raw) for raw in raws)
    labels = [label(v) for v in values]
    for text in labels:
        if labels.count(text) > 1:
            raise SweepError(f"{where}: {name}: value {text} appears twice")
    # the same number written twice ("1.0" and "1", "1_000" and "1000") ran two equal cells
    seen: dict[Any, str] = {}
    for text in labels:
        same = seen.setdefault(_number(text), text)
        if same != text:
            raise SweepError(f"{where}: {name}: values {same} and {text} are the same number")
    return Dimension(name, values)


def parse_grid_option(text: str) -> Dimension:
    """`NAME=v1,v2,...` (the waterfall's orders as fund+stability_pool,redistribution)."""
    name, sep, rest = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise SweepError(f"--grid {text!r}: expected NAME=v1,v2,...")
    raws = [part.strip() for part in rest.split(",")] if rest.strip() else []
    if "" in raws:
        raise SweepError(f"--grid {text!r}: an empty value")
    return dimension(name, raws, "--grid")


def check_grid(grid: tuple[Dimension, ...], where: str) -> None:
    names = [d.name for d in grid]
    for name in names:
        if names.count(name) > 1:
            raise SweepError(f"{where}: {name} is given twice")


# the most worker processes a sweep starts (--workers, sweep.workers)
MAX_WORKERS = 512


def workers_problem(workers: int, where: str) -> str | None:
    if not 1 <= workers <= MAX_WORKERS:
        return f"{where}: must be between 1 and {MAX_WORKERS}, got {workers}"
    return None


def verify_problem(verify: int, where: str) -> str | None:
    return f"{where}: must be 0 or more, got {verify}" if verify < 0 else None


def check_seeds(seeds: Any, where: str) -> int:
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise SweepError(f"{where}: must be an integer between 1 and {MAX_SEEDS}, got {seeds!r}")
    return seeds


# ---------------------------------------------------------------- a sweep file


@dataclass(frozen=True)
class SweepFile:
    """What a sweep file gives; None where it is silent (the command line or a default then
    decides)."""

    scenarios: tuple[str, ...] | None = None
    seeds: int | None = None
    vaults: int | None = None
    grid: tuple[Dimension, ...] | None = None
    verify: int | None = None
    max_borrower_cost: str | None = None
    workers: int | None = None
    dask: bool | None = None
    scheduler: str | None = None
    out: str | None = None
    rank_by: str | None = None


_FILE_KEYS = (
    "scenarios",
    "seeds",
    "vaults",
    "verify",
    "max_borrower_cost",
    "rank_by",
    "workers",
    "dask",
    "scheduler",
    "out",
)


def borrower_cost_fraction(text: str, where: str) -> Fraction:
    """--max-borrower-cost (or a sweep file's max_borrower_cost) as a fraction of the debt: a
    share below 1 (0.02) or a percent (2%); a mistake: SweepError. A bare number of 1 or more
    has two readings (1.5: 150% of the debt, or 1.5%?), and was taken as the first while the
    help said "0.02 or 2%": refused, naming both."""
    raw = text.strip()
    percent = raw.endswith("%")
    try:
        # one % at most: "0.5%%" was 0.5% (rstrip took both)
        number = Decimal(raw.removesuffix("%").strip().replace("_", ""))
    except InvalidOperation:
        raise SweepError(f"{where}: not a number: {text!r}") from None
    if not number.is_finite() or number < 0:
        raise SweepError(f"{where}: must be a number >= 0, got {text!r}")
    value = Fraction(number) / (100 if percent else 1)
    if value > 10 and (percent or Fraction(number) / 100 > 10):
        raise SweepError(f"{where}: must be at most 10 (1000% of the debt), got {text!r}")
    if not percent and number >= 1:
        shown, share = _plain(number), _plain(number * 100) + "%"
        if value > 10:
            raise SweepError(
                f"{where}: {text!r} is ambiguous: as a share of the debt it is {share} (above "
                f"the 1000% allowed), as a percent {shown}%; write {shown}% if that is meant (a "
                "bare number is a share below 1: 0.02 is 2%)"
            )
        raise SweepError(
            f"{where}: {text!r} is ambiguous: as a share of the debt it is {share}, as a "
            f"percent {shown}%; write {shown}% or {share} (a bare number is a share below 1: "
            "0.02 is 2%)"
        )
    return value


def _plain(number: Decimal) -> str:
    """`number` in plain digits, as few as it needs (1.50 -> 1.5, 1e3 -> 1000)."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def load_sweep_file(path: str | Path) -> SweepFile:
    """A sweep file (TOML or YAML): a [sweep] table (scenarios, seeds, vaults, verify,
    max_borrower_cost, rank_by, workers, dask, scheduler, out) and a [grid] table (name =
    [values]).
    Relative scenario paths and `out` are resolved against the file's directory."""
    path = Path(path)
    where = str(path)
    if path.suffix.lower() not in (".toml", ".yaml", ".yml"):
        raise SweepError(f"{where}: a sweep file is .toml, .yaml or .yml")
    data = read_mapping(
        path,
        SweepError,
        where,
        empty=f"a sweep file gives a [grid] table or at least one [sweep] key: "
        f"{', '.join(_FILE_KEYS)}",
    )
    # every mistake below is named at once, one line each (the file is fixed in one go)
    problems: list[str] = []
    unknown = sorted(set(map(str, data)) - {"sweep", "grid"})
    problems += [f"{where}: unknown table {u!r} (tables: sweep, grid)" for u in unknown]
    sweep = data.get("sweep", {})
    if not isinstance(sweep, dict):
        raise SweepError("\n".join([*problems, f"{where}: sweep: must be a table"]))
    if not sweep and "grid" not in data and not problems:
        # an empty file (or only an empty [sweep] table) says nothing: the wrong file, or one
        # not saved yet; it ran the default sweep (100 runs of black-thursday-2020), minutes of
        # work nobody asked for. One key is enough: every key has a default and the command
        # line overrides the file, so a file of settings alone (seeds, workers, out) with
        # --scenario and --grid given on the command line is a sweep someone meant
        raise SweepError(
            f"{where}: sets nothing: a sweep file gives a [grid] table or at least one [sweep] "
            f"key ({', '.join(_FILE_KEYS)})"
        )
    unknown = sorted(set(map(str, sweep)) - set(_FILE_KEYS))
    problems += [
        f"{where}: sweep: unknown key {u!r} (keys: {', '.join(_FILE_KEYS)})" for u in unknown
    ]
    values: dict[str, Any] = {}
    problems += _sweep_values(sweep, path, values)
    if "grid" in data:
        problems += _grid_values(data["grid"], where, values)
    if problems:
        raise SweepError("\n".join(problems))
    return SweepFile(**values)


def _sweep_values(sweep: dict, path: Path, values: dict[str, Any]) -> list[str]:
    """The [sweep] table's values into `values`; a line per mistake."""
    where, problems = str(path), []
    if "scenarios" in sweep:
        raw = sweep["scenarios"]
        raw = [raw] if isinstance(raw, str) else raw
        if not isinstance(raw, list) or not raw or not all(isinstance(s, str) and s for s in raw):
            problems.append(f"{where}: sweep.scenarios: must be a non-empty list of scenarios")
        else:
            values["scenarios"] = tuple(_relative(s, path.parent) for s in raw)
            for spec in values["scenarios"]:
                problems.append(_prefixed(f"{where}: sweep.scenarios", scenario_problem(spec)))
    for key in ("seeds", "vaults", "verify", "workers"):
        if key in sweep:
            v = sweep[key]
            if isinstance(v, bool) or not isinstance(v, int):
                problems.append(f"{where}: sweep.{key}: must be an integer, got {v!r}")
            else:
                values[key] = v
    if "seeds" in values:
        try:
            check_seeds(values["seeds"], f"{where}: sweep.seeds")
        except SweepError as exc:
            problems.append(str(exc))
    if "vaults" in values and not 1 <= values["vaults"] <= MAX_VAULTS:
        problems.append(
            f"{where}: sweep.vaults: must be an integer between 1 and {MAX_VAULTS}, "
            f"got {values['vaults']}"
        )
    if "workers" in values:
        problems.append(workers_problem(values["workers"], f"{where}: sweep.workers") or "")
    if "verify" in values:
        problems.append(verify_problem(values["verify"], f"{where}: sweep.verify") or "")
    if "max_borrower_cost" in sweep:
        v = sweep["max_borrower_cost"]
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            problems.append(f"{where}: sweep.max_borrower_cost: must be a number, got {v!r}")
        else:
            values["max_borrower_cost"] = str(v)
            try:
                borrower_cost_fraction(str(v), f"{where}: sweep.max_borrower_cost")
            except SweepError as exc:
                problems.append(str(exc))
    if "rank_by" in sweep:
        v = sweep["rank_by"]
        if v not in RANKED:
            problems.append(
                f"{where}: sweep.rank_by: must be one of {', '.join(RANKED)}, got {v!r}"
            )
        else:
            values["rank_by"] = v
    if "dask" in sweep:
        if not isinstance(sweep["dask"], bool):
            problems.append(f"{where}: sweep.dask: must be true or false")
        else:
            values["dask"] = sweep["dask"]
    for key in ("scheduler", "out"):
        if key in sweep:
            if not isinstance(sweep[key], str) or not sweep[key]:
                problems.append(f"{where}: sweep.{key}: must be a non-empty string")
            else:
                values[key] = sweep[key]
    if "out" in values:
        values["out"] = str(path.parent / values["out"])
    return [line for line in problems if line]


def _prefixed(where: str, problem: str | None) -> str:
    return f"{where}: {problem}" if problem else ""


def _grid_values(grid: Any, where: str, values: dict[str, Any]) -> list[str]:
    """The [grid] table's dimensions into `values["grid"]`; a line per mistake."""
    if not isinstance(grid, dict):
        return [f"{where}: grid: must be a table"]
    if not grid:
        return [f"{where}: grid: empty (give at least one parameter, or leave the table out)"]
    problems, dims = [], []
    for name, raws in grid.items():
        if not isinstance(raws, list):
            raws = [raws]
        try:
            dims.append(dimension(str(name), raws, f"{where}: grid"))
        except SweepError as exc:
            problems.append(str(exc))
    values["grid"] = tuple(dims)
    return problems


def _relative(spec: str, directory: Path) -> str:
    """A scenario of a sweep file: a built-in name as is, a path against the file's directory
    when it exists there."""
    candidate = directory / spec
    return str(candidate) if not Path(spec).is_absolute() and candidate.exists() else spec


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Cell:
    """One scenario with one combination of grid values."""

    index: int
    scenario: Scenario  # validated with the cell's values, at the scenario's own seed
    values: tuple[str, ...]  # per grid dimension: the value's label, or NOT_APPLICABLE


@dataclass(frozen=True)
class RunTask:
    """What a worker needs for one run: no file is read there (runs.run_one)."""

    run: int
    cell: int
    seed: int
    scenario: Scenario  # the cell's; the worker reseeds it


@dataclass(frozen=True)
class Plan:
    spec: SweepSpec
    cells: tuple[Cell, ...]
    fingerprint: str  # of every cell's scenario: another file content is another sweep

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.spec.grid)

    @property
    def total(self) -> int:
        return len(self.cells) * self.spec.seeds

    def task(self, run: int) -> RunTask:
        cell = self.cells[run // self.spec.seeds]
        seed = (cell.scenario.seed + run % self.spec.seeds) % (MAX_SEED + 1)
        return RunTask(run, cell.index, seed, cell.scenario)

    def tasks(self, skip: set[int] | frozenset[int] = frozenset()) -> Iterator[RunTask]:
        return (self.task(run) for run in range(self.total) if run not in skip)

    @property
    def collateral_types(self) -> tuple[str, ...]:
        """The collateral types whose figures a run reports one by one (runs.TYPE_METRICS): every
        type of the sweep's scenarios that have several, in order; none when each has one."""
        out: dict[str, None] = {}
        for cell in self.cells:
            names = [c.name for c in cell.scenario.system.collateral]
            if len(names) > 1:
                out |= dict.fromkeys(names)
        return tuple(out)

    def identity(self) -> dict[str, Any]:
        """What makes two sweeps the same sweep (compared on resume): the scenarios (names and
        the fingerprint of their content with every cell's values), the seeds, the grid, the
        vault count."""
        return {
            "format": FORMAT,
            "scenarios": sorted({c.scenario.name for c in self.cells}),
            "seeds": self.spec.seeds,
            "grid": {d.name: list(d.labels()) for d in self.spec.grid},
            "vaults": self.spec.vaults,
            "cells": len(self.cells),
            "runs": self.total,
            "fingerprint": self.fingerprint,
        }


def _curve_of(values: Mapping[str, Any], base: Scenario) -> str:
    """The auction curve of a cell: its grid value, else the scenario's own."""
    if "auction_curve" in values:
        return str(values["auction_curve"])
    return CurveKind(base.system.collateral[0].auction_curve[0]).label


def _applies(name: str, curve: str) -> bool:
    return (
        name not in _CURVE_KEYS
        or curve not in CURVE_PARAMETERS
        or (name in CURVE_PARAMETERS[curve])
    )


def _overrides(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        key = grid_key(name)
        assert key is not None, name
        out.setdefault(key.table, {})[name.partition(TYPE_SEPARATOR)[0]] = value
    return out


def _load(spec: SweepSpec, scenario: str, values: Mapping[str, Any]) -> Scenario:
    return load_scenario(scenario, vaults=spec.vaults, overrides=_overrides(values))


def plan(spec: SweepSpec) -> Plan:
    """Validate `spec` against each of its scenarios and lay out its cells (SweepError)."""
    if not spec.scenarios:
        raise SweepError("no scenario (give --scenario)")
    check_seeds(spec.seeds, "--seeds")
    check_grid(spec.grid, "grid")
    for s in spec.scenarios:
        if spec.scenarios.count(s) > 1:
            raise SweepError(f"--scenario {s}: given twice")
    cells: list[Cell] = []
    names_seen: dict[str, str] = {}
    # every scenario and cell is looked at: their mistakes are named at once, one line each
    problems: list[str] = []
    for scenario_spec in spec.scenarios:
        try:
            base = load_scenario(scenario_spec, vaults=spec.vaults)
        except ScenarioError as exc:
            problems += [line for line in str(exc).splitlines() if line not in problems]
            continue
        if base.name in names_seen:
            problems.append(
                f"--scenario {scenario_spec}: named {base.name!r} like {names_seen[base.name]}; "
                "give it another [scenario].name"
            )
            continue
        names_seen[base.name] = scenario_spec
        try:
            _check_values(spec, scenario_spec, base)
        except SweepError as exc:
            problems.append(str(exc))
            continue
        seen: set[str] = set()
        failed: list[tuple[dict[str, Any], ScenarioError]] = []
        first = len(cells)  # (this scenario's cells: cells[first:])
        for combination in itertools.product(*(d.values for d in spec.grid)):
            values = dict(zip((d.name for d in spec.grid), combination))
            curve = _curve_of(values, base)
            used = {k: v for k, v in values.items() if _applies(k, curve)}
            key = json.dumps({k: label(v) for k, v in used.items()}, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            try:
                scenario = _load(spec, scenario_spec, used)
            except ScenarioError as exc:
                failed.append((used, exc))
                continue
            shown_values = tuple(
                label(values[d.name]) if d.name in used else NOT_APPLICABLE for d in spec.grid
            )
            cells.append(Cell(len(cells), scenario, shown_values))
        lines = _failed_cells(spec, scenario_spec, failed, cells[first:])
        problems += [line for line in lines if line not in problems]
    if problems:
        raise SweepError("\n".join(problems))
    total = len(cells) * spec.seeds
    if total > MAX_RUNS:
        raise SweepError(
            f"{len(cells):,} cells x {spec.seeds:,} seeds = {total:,} runs: more than "
            f"{MAX_RUNS:,}; split the sweep"
        )
    digest = hashlib.sha256()
    for cell in cells:
        digest.update(json.dumps(_canonical(cell.scenario)).encode())
    return Plan(spec, tuple(cells), digest.hexdigest())


def _failed_cells(
    spec: SweepSpec,
    scenario_spec: str,
    failed: list[tuple[dict[str, Any], ScenarioError]],
    cells: list[Cell],
) -> list[str]:
    """The lines naming the mistakes of a scenario's cells that do not load. A value no cell
    can take (every cell it is in fails) that the scenario refuses alone is named once, with its
    own mistake (a line per line of the loader's), whatever else its cells hold: a grid with
    several wrong values names them all in one run. Its mistake is the one it makes beside the
    grid's other values of its first failing cell that are valid alone (size_threshold=1000
    beside size_slope=0.1 is below the dust, not "size_slope must be above 0", the scenario's
    own slope); a value those values make valid is not named alone. A cell left (values valid
    alone, not together: every cell is checked, never a value alone) is named whole. `cells`:
    the scenario's cells that loaded."""
    good = {key for c in cells for key in _shown(spec, c)}
    first: dict[tuple[str, str], dict[str, Any]] = {}  # a value's first failing cell
    own: dict[tuple[str, str], ScenarioError | None] = {}  # its mistake alone (None: valid)
    for d in spec.grid:
        for value in d.values:
            key = (d.name, label(value))
            cell = next((used for used, _ in failed if key in _labels(used)), None)
            if key in good or cell is None:
                continue
            first[key] = cell
            alone: dict[str, Any] = {d.name: value}
            if d.name in _CURVE_KEYS and "auction_curve" in cell:
                alone["auction_curve"] = cell["auction_curve"]
            try:
                _load(spec, scenario_spec, alone)
                own[key] = None
            except ScenarioError as exc:
                own[key] = exc
    named: set[tuple[str, str]] = set()
    out: list[str] = []
    by_line: dict[tuple[str, str], list[str]] = {}
    for key, cell in first.items():
        mistake = own[key]
        if mistake is None:
            continue
        beside = {
            name: v
            for name, v in cell.items()
            if name == key[0] or (name, label(v)) in good or own.get((name, label(v))) is None
        }
        if beside.keys() - {key[0], "auction_curve"}:
            try:
                _load(spec, scenario_spec, beside)
                continue  # the grid's other values make it valid: its cells are named whole
            except ScenarioError as exc:
                mistake = exc
        named.add(key)
        for x in str(mistake).splitlines():
            by_line.setdefault((key[0], x), []).append(key[1])
    # the same mistake of every value (a count beside a book) is one line naming them all
    out += [f"grid {name}={','.join(values)}: {x}" for (name, x), values in by_line.items()]
    for used, exc in failed:
        if not named & _labels(used):
            shown = ", ".join(f"{k}={label(v)}" for k, v in used.items())
            out += [f"grid cell {shown}: {x}" for x in str(exc).splitlines()]
    return out


def _labels(used: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {(k, label(v)) for k, v in used.items()}


def _shown(spec: SweepSpec, cell: Cell) -> list[tuple[str, str]]:
    return [
        (d.name, text)
        for d, text in zip(spec.grid, cell.values, strict=True)
        if text != NOT_APPLICABLE
    ]


def _check_values(spec: SweepSpec, scenario_spec: str, base: Scenario) -> None:
    """Every curve parameter of the grid is read by a curve some cell has (else no cell could
    use it). The values themselves are checked cell by cell (`plan`): a value that fails with the
    scenario's own parameters may be valid with the grid's others."""
    curves = next((d.values for d in spec.grid if d.name == "auction_curve"), None)
    for d in spec.grid:
        if d.name in _CURVE_KEYS:
            own = _curve_of({}, base)
            candidates = [own] if curves is None else [str(c) for c in curves]
            if not any(d.name in CURVE_PARAMETERS.get(c, ()) for c in candidates):
                kinds = [k for k, keys in CURVE_PARAMETERS.items() if d.name in keys]
                raise SweepError(
                    f"grid {d.name}: applies to {' and '.join(kinds)} auction curves only, "
                    f"and no cell of {base.name} has one"
                )


def _canonical(value: Any) -> Any:
    """A JSON-able form of a scenario that leaves out where its data came from (`source`: a
    path): the same content resumes the same sweep from another directory."""
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _canonical(getattr(value, f.name)) for f in fields(value) if f.name != "source"
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # beyond JSON's doubles
    return value
