"""Crash-replay scenarios (types.Scenario) from a built-in name, a scenario file (TOML
or YAML) or a bare price CSV, validated at the edge.

Every mistake is one `ScenarioError` line naming the file, the field and the problem
(`<file>: <section>.<key>: problem`); market-data and deployment-config mistakes keep the text of
their loaders (market_data.DataError, config.ConfigError). Numbers are given as strings or
numbers, as in config/devnet.toml; amounts become wad and gas prices wei, exactly.

The file format (every table optional; the prices must come from somewhere; unknown tables and
keys are errors), as offchain/sim/scenarios/*.toml show it:
[scenario]  name, description, seed
[market]    prices (CSV) | [market.synthetic] (SyntheticPath fields); gas (CSV) | gas_gwei;
            pool_depth | reserves (CSV) + reserves_scale | pool_share_of_venue (open markets);
            tail_bars; drain_bars; block_gas_limit;
            impact_depth, impact_half_life (sim/market/impact.py); oracle_phase (timeline.py)
[vaults]    count, debt_median, debt_sigma, ratio_min, ratio_mode, ratio_max | book (a CSV of
            the vaults: book.py; the first type's only, without --vaults); opt_in_share
[keepers]   liquidation_gas_gwei, taker_gas_gwei, backstop_gas_gwei, taker_mode, taker_capital,
            take_min_profit, arbitrageur_capital, arbitrage_threshold, debt_auction_capital
[backstop]  insurance_fund, pool_stakers, pool_stake
[protocol]  config, collateral, waterfall, deleverage_buffer, [protocol.collateral_overrides]
[types.<N>] more collateral types of the config in the same crash, each with the [vaults] keys
            (count, debt_median, ...), pool_depth, impact_depth, impact_half_life, and its path's
            one-factor loading on the first type's (correlated.py): beta, correlation,
            jumps_per_day, jump_mean, jump_std
Each key's kind, bounds and default are the parameter schema's (offchain/system/schema.py).
Paths in a scenario file are resolved against the file's directory, then the project root.
An override that names another auction curve than the config type's drops that curve's parameters
(auction_curve_step, _cut, _duration): it gives its own curve's.

Variants (parameter sweeps, offchain/sweep): `load_scenario(..., overrides=...)` replaces keys of
the file's tables before validation, so a replaced value passes the same checks as one in a file;
`reseeded` gives a validated scenario another seed without reading any file.

A bare price CSV takes the keepers and block space of the built-in day of its year
(day_lineup.py; `lineup="defaults"`: the schema's), each said in its run's first lines.

The loader reads the tables with reader.py (the document, its fields, the messages);
market.py reads [market], actors.py [vaults] (book.py a book), [keepers] and [backstop],
protocol.py [protocol] and [types.<N>]; ceilings.py checks the debt ceilings;
variants.py makes the variants. This module is their public face: every name callers
import from it is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from offchain.sim.scenario.actors import (
    DEFAULT_BACKSTOP,
    DEFAULT_KEEPERS,
    DEFAULT_VAULTS,
    TAKER_MODES,
    argument_problems,
    read_backstop,
    read_keepers,
    read_population,
)
from offchain.sim.scenario.ceilings import (
    actor_draws,
    check_population,
    deepened_market,
    scaled_ceilings,
    sized_keepers,
    split_population,
)
from offchain.sim.scenario.day_lineup import LINEUPS, DayLineup, day_lineup, lineup_lines
from offchain.sim.scenario.market import (
    DEFAULT_GAS_GWEI,
    DEFAULT_POOL_DEPTH,
    DEFAULT_TAIL_BARS,
    read_market,
)
from offchain.sim.scenario.market_data import DataError, load_prices
from offchain.sim.scenario.protocol import (
    DEFAULT_TYPE,
    TYPE_POPULATION_KEYS,
    read_protocol,
    read_types,
    reference_problems,
)
from offchain.sim.scenario.reader import (
    BUILTIN_DIR,
    ROOT,
    ScenarioError,
    Source,
    document_problems,
    read_document,
    read_table,
)
from offchain.sim.scenario.types import Scenario
from offchain.sim.scenario.variants import (
    OVERRIDE_TABLES,
    override,
    phase_problem,
    reseeded,
    waterfall_variant,
    with_phase,
)
from offchain.system.config import ConfigError
from offchain.system.files import directory_named
from offchain.system.schema import (
    DRAIN_HORIZON,
    GWEI,
    MAX_DRAIN_BARS,
    MAX_SEED,
    MAX_VAULTS,
    SCENARIO,
    SCENARIO_TABLES,
)

__all__ = [
    "BUILTIN_DIR",
    "DEFAULT_BACKSTOP",
    "DEFAULT_GAS_GWEI",
    "DEFAULT_KEEPERS",
    "DEFAULT_POOL_DEPTH",
    "DEFAULT_SEED",
    "DEFAULT_TAIL_BARS",
    "DEFAULT_TYPE",
    "DEFAULT_VAULTS",
    "DRAIN_HORIZON",
    "GWEI",
    "LINEUPS",
    "MAX_DRAIN_BARS",
    "MAX_SEED",
    "MAX_VAULTS",
    "OVERRIDE_TABLES",
    "ROOT",
    "SCENARIO_SUFFIXES",
    "TABLES",
    "TAKER_MODES",
    "TYPE_POPULATION_KEYS",
    "ScenarioError",
    "actor_draws",
    "builtin_scenarios",
    "load_scenario",
    "reseeded",
    "scenario_option_problem",
    "waterfall_variant",
    "with_phase",
]

SCENARIO_SUFFIXES = (".toml", ".yaml", ".yml")
# a scenario file's tables (schema.SCENARIO_TABLES: those that are not sub-tables)
TABLES = tuple(t.name for t in SCENARIO_TABLES if "." not in t.name)

DEFAULT_SEED = SCENARIO["seed"].default


def builtin_scenarios() -> tuple[str, ...]:
    """The names of the built-in scenarios (offchain/sim/scenarios/*.toml)."""
    return tuple(sorted(p.stem for p in BUILTIN_DIR.glob("*.toml")))


def scenario_option_problem(spec: str) -> str | None:
    """A `--scenario` value's check before anything is loaded (the commands that take one:
    simulate, compare-waterfalls, sweep, market): a built-in name, or a path that is neither
    empty nor a directory; else the one-line refusal naming the option."""
    if spec in builtin_scenarios():
        return None
    problem = directory_named(spec, "a scenario file (.toml/.yaml/.yml) or a price file (.csv)")
    return f"--scenario {problem}" if problem else None


def scenario_problem(spec: str) -> str | None:
    """Why `spec` names no scenario (a built-in name, or a scenario or price file that is
    there), in the loader's words, or None: a sweep file's scenarios are checked with its other
    keys, before any is loaded."""
    try:
        _locate(spec)
    except ScenarioError as exc:
        return str(exc)
    return None


def load_scenario(
    spec: str,
    vaults: int | None = None,
    seed: int | None = None,
    waterfall: tuple[str, ...] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    gas: str | None = None,
    reserves: str | None = None,
    lineup: str | None = None,
) -> Scenario:
    """The validated scenario `spec` (a built-in name, a .toml/.yaml/.yml scenario file or a .csv
    price file), with the CLI's `--vaults`, `--seed` and `--waterfall` overriding the file, and
    `overrides` ({table: {key: value}}, tables as OVERRIDE_TABLES name them, values as a file
    would give them) replacing keys of its tables (see variants.override). A type's
    count set by `overrides` (a sweep's `count` or `count@TYPE`) stays as set: `--vaults` is then
    the population of the other types. `gas` and `reserves`: a bare price CSV's companion
    files (the CLI's --gas and --reserves; a scenario file names its own in [market]). `lineup`:
    a bare price CSV's keepers and block space, "day" (the default: the built-in day of its
    year's, day_lineup.py) or "defaults" (the schema's; the CLI's --lineup)."""
    set_counts = _counts_set(overrides or {})
    if lineup is not None and lineup not in LINEUPS:
        raise ScenarioError(f"--lineup: must be one of {', '.join(LINEUPS)}, got {lineup!r}")
    path = _locate(spec)
    if path.suffix.lower() != ".csv":
        for option, value in (("--gas", gas), ("--reserves", reserves)):
            if value is not None:
                raise ScenarioError(
                    f"{option}: applies only to a bare price CSV (a scenario names its "
                    f"companion files in [market]; {spec} is a scenario)"
                )
        if lineup is not None:
            raise ScenarioError(
                f"--lineup: applies only to a bare price CSV (a scenario sets its own keepers "
                f"and block space in [keepers] and [market]; {spec} is a scenario)"
            )
    try:
        if path.suffix.lower() == ".csv":
            source = Source(str(path), Path("."), bare=True)
            market: dict[str, Any] = {"prices": str(path)}
            for key, value in (("gas", gas), ("reserves", reserves)):
                if value is not None:
                    what = f"a {key} CSV"
                    if problem := directory_named(value, what):  # (was "no such file")
                        raise ScenarioError(f"--{key}: {problem}")
                    if not Path(value).expanduser().is_file():
                        raise ScenarioError(f"--{key}: {value}: no such file")
                    market[key] = str(Path(value).expanduser())
            document: dict[str, Any] = {"market": market}
            day = None if lineup == "defaults" else _day_lineup(path, overrides or {})
            if day is not None:  # the built-in day's keys, under the file's and a sweep's
                document = {
                    "keepers": dict(day.tables["keepers"]),
                    "market": day.tables["market"] | market,
                }
            scenario = _build(
                override(document, overrides or {}, source),
                source,
                path.stem,
                vaults,
                seed,
                waterfall,
                set_counts,
            )
            if day is None:
                return scenario
            return replace(scenario, lineup_lines=lineup_lines(day, scenario))
        source = Source(str(path), path.parent, bare=False)
        return _build(
            override(read_document(path), overrides or {}, source),
            source,
            path.stem,
            vaults,
            seed,
            waterfall,
            set_counts,
        )
    except ConfigError as exc:
        raise ScenarioError(str(exc)) from None


def _day_lineup(path: Path, overrides: Mapping[str, Mapping[str, Any]]) -> DayLineup | None:
    """The built-in day's lineup for the bare price CSV `path` (day_lineup.py), sized to its
    population's count (the schema's, or a sweep's); None where the file does not load (the
    loader then names its mistake) or the count is no count (likewise)."""
    try:
        first = load_prices(path).times[0]
    except DataError:
        return None
    count = overrides.get("vaults", {}).get("count", DEFAULT_VAULTS["count"])
    try:
        count = int(str(count).replace("_", ""))
    except ValueError:
        return None
    if isinstance(count, bool) or count < 1:
        return None
    return day_lineup(path, first, count)


def _counts_set(overrides: Mapping[str, Mapping[str, Any]]) -> frozenset[str]:
    """Which populations `overrides` give a count: "vaults" (the first type's), "types" (every
    further type's) or "types.<name>" (one type's)."""
    return frozenset(table for table, values in overrides.items() if "count" in values)


def _locate(spec: str) -> Path:
    builtins = builtin_scenarios()
    if spec in builtins:
        return BUILTIN_DIR / f"{spec}.toml"
    path = Path(spec).expanduser()
    if path.suffix.lower() in SCENARIO_SUFFIXES + (".csv",):
        if not path.is_file():
            raise ScenarioError(f"{spec}: no such file")
        return path
    if path.is_file():
        raise ScenarioError(
            f"{spec}: not a scenario (expected a .toml/.yaml/.yml scenario file or a .csv price "
            "file)"
        )
    raise ScenarioError(
        f"unknown scenario {spec!r} (built-in: {', '.join(builtins)}; "
        f"or a .toml/.yaml/.yml scenario file or a .csv price file)"
    )


def _build(
    data: dict[str, Any],
    source: Source,
    default_name: str,
    vaults: int | None,
    seed: int | None,
    waterfall: tuple[str, ...] | None,
    set_counts: frozenset[str] = frozenset(),
) -> Scenario:
    problems = document_problems(source.name, data)
    problems += [line for line in reference_problems(source, data) if line not in problems]
    if len(problems) > 1:  # every one named at once (one alone: the loader's own line below)
        raise ScenarioError("\n".join(problems))
    if not problems:
        return _build_valid(data, source, default_name, vaults, seed, waterfall, set_counts)
    # one mistake of the document: the loader's own line names it, unless the loader stops first
    # at another (a gas file of another day beside a count of 0): then both, one line each
    field = problems[0].removeprefix(f"{source.name}: ").split(":")[0]
    try:
        _build_valid(data, source, default_name, vaults, seed, waterfall, set_counts)
    except (ScenarioError, ConfigError) as exc:
        lines = str(exc).splitlines()
        if any(line.startswith(f"{source.name}: {field}:") for line in lines):
            raise ScenarioError("\n".join(lines)) from None
        raise ScenarioError("\n".join([*problems, *lines])) from None
    raise ScenarioError(problems[0])


def _build_valid(
    data: dict[str, Any],
    source: Source,
    default_name: str,
    vaults: int | None,
    seed: int | None,
    waterfall: tuple[str, ...] | None,
    set_counts: frozenset[str],
) -> Scenario:
    """_build's reading, once the document's own check has found at most one mistake."""
    unknown = sorted(set(data) - set(TABLES))
    if unknown:
        raise ScenarioError(
            f"{source.name}: unknown table {unknown[0]!r} (tables: {', '.join(TABLES)})"
        )

    s = read_table(source, data, "scenario")
    name = s.read("name") if "name" in s.table else default_name
    if "/" in name or "\\" in name or name.strip() in ("", ".", ".."):
        # it names the report's directory (reports/<name>): "../x" wrote outside reports/
        raise ScenarioError(
            f"{source.name}: scenario.name: {name!r} is not a name (it names the report's "
            "directory under reports/: no slashes, not '.' or '..')"
        )
    description = (
        s.read("description")
        if "description" in s.table
        else f"price path {source.name} with the default market, vaults and keepers"
        if source.bare
        else ""
    )
    file_seed = s.read("seed")
    s.finish()
    for problem in argument_problems(seed=seed):
        raise ScenarioError(problem)
    the_seed = file_seed if seed is None else seed

    market = read_market(read_table(source, data, "market"), source, the_seed)
    coll, system, config_types = read_protocol(
        read_table(source, data, "protocol"), source, market, waterfall
    )
    fixed = [
        "vaults" in set_counts,
        *(
            ("types" in set_counts or f"types.{name}" in set_counts)
            for name in data.get("types", {})
        ),
    ]
    population = read_population(
        read_table(source, data, "vaults"), coll, None if fixed[0] else vaults, source
    )
    file_count = (
        population.count  # a book's rows (--vaults is refused with a book)
        if population.book is not None
        else read_table(source, data, "vaults").read("count")
    )
    keepers = read_keepers(read_table(source, data, "keepers"))
    backstop = read_backstop(read_table(source, data, "backstop"))
    types, system = read_types(source, data, market, system, config_types, the_seed)
    # --vaults is the population of every type together, in the scenario's proportions; above
    # the scenario's counts it scales the ceilings, which were set for its own populations
    file_counts = [file_count, *(t.vaults.count for t in types)]
    counts = file_counts
    if vaults is not None:
        counts = split_population(vaults, file_counts, fixed)
        population = replace(population, count=counts[0])
        types = tuple(
            replace(t, vaults=replace(t.vaults, count=n))
            for t, n in zip(types, counts[1:], strict=True)
        )
    system, scale = scaled_ceilings(system, counts, file_counts)
    if scale is not None:  # the population grew: what is sized to the book follows it
        keepers = sized_keepers(keepers, *scale)
        if market.depth_with_vaults == "scaled":
            market, keepers, types = deepened_market(market, keepers, types, counts, file_counts)
    coll = system.collateral[0]
    check_population(
        source,
        population,
        the_seed,
        coll,
        system,
        market,
        keepers,
        backstop,
        vaults is not None,
        types,
    )
    out = Scenario(
        name=name,
        description=description,
        seed=the_seed,
        market=market,
        vaults=population,
        keepers=keepers,
        backstop=backstop,
        system=system,
        ceiling_scale=scale,
        types=types,
    )
    if market.oracle_phase is not None:
        problem = phase_problem(out, market.oracle_phase)
        if problem:
            raise ScenarioError(f"{source.name}: market.oracle_phase: {problem}")
    return out
