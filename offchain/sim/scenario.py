"""Crash-replay scenarios (scenario_types.Scenario) from a built-in name, a scenario file (TOML
or YAML) or a bare price CSV, validated at the edge.

Every mistake is one `ScenarioError` line naming the file, the field and the problem
(`<file>: <section>.<key>: problem`); market-data and deployment-config mistakes keep the text of
their loaders (market_data.DataError, config.ConfigError). Numbers are given as strings or
numbers, as in config/devnet.toml; amounts become wad and gas prices wei, exactly.

The file format (every table optional; the prices must come from somewhere; unknown tables and
keys are errors), as offchain/sim/scenarios/*.toml show it:
[scenario]  name, description, seed
[market]    prices (CSV) | [market.synthetic] (SyntheticPath fields); gas (CSV) | gas_gwei;
            pool_depth | reserves (CSV) + reserves_scale; tail_bars; drain_bars;
            impact_depth, impact_half_life (sim/impact.py)
[vaults]    count, debt_median, debt_sigma, ratio_min, ratio_mode, ratio_max
[keepers]   liquidation_gas_gwei, taker_gas_gwei, backstop_gas_gwei, taker_mode, taker_capital,
            take_min_profit, arbitrageur_capital, arbitrage_threshold, debt_auction_capital
[backstop]  insurance_fund, pool_stakers, pool_stake
[protocol]  config, collateral, waterfall, [protocol.collateral_overrides]
[types.<N>] more collateral types of the config in the same crash, each with the [vaults] keys
            (count, debt_median, ...), pool_depth, impact_depth, impact_half_life, and its path's
            one-factor loading on the first type's (correlated.py): beta, correlation,
            jumps_per_day, jump_mean, jump_std
Paths in a scenario file are resolved against the file's directory, then the project root.
An override that names another auction curve than the config type's drops that curve's parameters
(auction_curve_step, _cut, _duration): it gives its own curve's.

Variants (parameter sweeps, offchain/sweep): `load_scenario(..., overrides=...)` replaces keys of
the file's tables before validation, so a replaced value passes the same checks as one in a file;
`reseeded` gives a validated scenario another seed without reading any file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal, localcontext
from pathlib import Path
from typing import Any

import yaml

from offchain.model.fixed_point import RAY, WAD
from offchain.sim.correlated import OneFactor
from offchain.sim.market_data import (
    DataError,
    Series,
    SyntheticPath,
    load_gas,
    load_prices,
    load_reserves,
)
from offchain.sim.population import generate_vaults, type_seed
from offchain.sim.scenario_types import (
    BackstopSpec,
    KeeperSpec,
    MarketSpec,
    PopulationSpec,
    Scenario,
    TypeSpec,
)
from offchain.system.config import (
    CURVE_PARAMETERS,
    DEFAULT_CONFIG,
    LAYERS,
    MAX_PRICE,
    CollateralConfig,
    ConfigError,
    Reader,
    SystemConfig,
    load_config,
    read_collateral,
)

ROOT = Path(__file__).resolve().parents[2]
BUILTIN_DIR = Path(__file__).resolve().parent / "scenarios"
SCENARIO_SUFFIXES = (".toml", ".yaml", ".yml")
TABLES = ("scenario", "market", "vaults", "keepers", "backstop", "protocol", "types")
GWEI = 10**9
MAX_VAULTS = 100_000
MAX_SEED = 2**64 - 1
TAKER_MODES = ("flash", "capital", "both")

DEFAULT_SEED = 0
DEFAULT_GAS_GWEI = 30  # also MarketSpec.gas_price (unused) when the gas comes from a CSV
DEFAULT_POOL_DEPTH = "1_000_000"
DEFAULT_TAIL_BARS = 36
MAX_DRAIN_BARS = 10_000  # about 70 days of 10-minute bars
DEFAULT_VAULTS: dict[str, Any] = {
    "count": 200,
    "debt_median": "8000",
    "debt_sigma": 0.9,
    "ratio_min": "1.6",
    "ratio_mode": "2.0",
    "ratio_max": "4.0",
}
DEFAULT_KEEPERS: dict[str, Any] = {
    "liquidation_gas_gwei": 100,
    "taker_gas_gwei": 100,
    "backstop_gas_gwei": 100,
    "taker_mode": "flash",
    "taker_capital": "0",
    "take_min_profit": "50",
    "arbitrageur_capital": "2_000_000",
    "arbitrage_threshold": "0.005",
    "debt_auction_capital": "500_000",
}
DEFAULT_BACKSTOP: dict[str, Any] = {
    "insurance_fund": "100_000",
    "pool_stakers": 4,
    "pool_stake": "250_000",
}


class ScenarioError(ValueError):
    """A scenario mistake; the message is one line naming the file, the field and the problem."""


def builtin_scenarios() -> tuple[str, ...]:
    """The names of the built-in scenarios (offchain/sim/scenarios/*.toml)."""
    return tuple(sorted(p.stem for p in BUILTIN_DIR.glob("*.toml")))


def load_scenario(
    spec: str,
    vaults: int | None = None,
    seed: int | None = None,
    waterfall: tuple[str, ...] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Scenario:
    """The validated scenario `spec` (a built-in name, a .toml/.yaml/.yml scenario file or a .csv
    price file), with the CLI's `--vaults`, `--seed` and `--waterfall` overriding the file, and
    `overrides` ({table: {key: value}}, tables as OVERRIDE_TABLES name them, values as a file
    would give them) replacing keys of its tables (see `_override`)."""
    path = _locate(spec)
    try:
        if path.suffix.lower() == ".csv":
            source = _Source(str(path), Path("."), bare=True)
            return _build(
                _override({"market": {"prices": str(path)}}, overrides or {}, source),
                source,
                path.stem,
                vaults,
                seed,
                waterfall,
            )
        source = _Source(str(path), path.parent, bare=False)
        return _build(
            _override(_read_document(path), overrides or {}, source),
            source,
            path.stem,
            vaults,
            seed,
            waterfall,
        )
    except ConfigError as exc:
        raise ScenarioError(str(exc)) from None


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


def _read_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})"
        ) from None
    if path.suffix.lower() == ".toml":
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{path}: not valid TOML ({_one_line(str(exc))})") from None
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            raise ScenarioError(
                f"{path}: not valid YAML ({where}{_one_line(str(problem or exc))})"
            ) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ScenarioError(f"{path}: must be a mapping of tables, got {type(data).__name__}")
    _check_keys(data, str(path), "")
    return data


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _check_keys(table: dict[Any, Any], source: str, where: str) -> None:
    """YAML allows non-string keys; the readers below expect strings."""
    for key, value in table.items():
        if not isinstance(key, str):
            raise ScenarioError(f"{source}: {where or 'top level'}: key {key!r} must be a string")
        if isinstance(value, dict):
            _check_keys(value, source, f"{where}.{key}" if where else key)


@dataclass(frozen=True)
class _Source:
    name: str  # the file, as given; prefixes every message
    directory: Path  # relative paths inside the file are resolved here first
    bare: bool  # a bare price CSV: its loader's messages need no prefix


def _table(source: _Source, data: dict[str, Any], key: str) -> Reader:
    """A reader of top-level table `key` (empty if absent); its messages read
    `<file>: <key>.<field>: ...`."""
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise ScenarioError(f"{source.name}: {key}: must be a table")
    return Reader(f"{source.name}: {key}", table)


def _sub_table(r: Reader, key: str) -> Reader:
    table = r.raw(key)
    if not isinstance(table, dict):
        raise r.fail(key, "must be a table")
    return Reader(f"{r.where}.{key}", table)


def _path(r: Reader, key: str, source: _Source) -> Path:
    value = r.raw(key)
    if not isinstance(value, str) or not value:
        raise r.fail(key, f"must be a file path, got {value!r}")
    path = Path(value).expanduser()
    candidates = [path] if path.is_absolute() else [source.directory / path, ROOT / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = str(path) if path.is_absolute() else f"{source.directory} and {ROOT}"
    raise r.fail(key, f"file {value!r} not found (looked in {looked})")


def _data(r: Reader, key: str, source: _Source, loader: Any) -> Series:
    """Load a market CSV; a DataError keeps the loader's text (prefixed with the field)."""
    path = _path(r, key, source)
    try:
        return loader(path)
    except DataError as exc:
        raise ScenarioError(str(exc) if source.bare else f"{r.where}.{key}: {exc}") from None


def _float(r: Reader, key: str, lo: Decimal, hi: Decimal) -> float:
    return float(r.decimal(key, lo, hi))


def _with_defaults(r: Reader, defaults: dict[str, Any]) -> Reader:
    """`r` with the absent keys of `defaults` filled in (the same messages, the same checks)."""
    return Reader(r.where, defaults | r.table)


def _wad(amount: int) -> str:
    """A wad amount in whole units, exactly, with thousands separators."""
    whole, frac = divmod(amount, WAD)
    return f"{whole:,}" + (f".{frac:018d}".rstrip("0") if frac else "")


def _ratio(value: int, unit: int) -> str:
    with localcontext() as ctx:
        ctx.prec = 80
        return format((Decimal(value) / unit).normalize(), "f")


def _build(
    data: dict[str, Any],
    source: _Source,
    default_name: str,
    vaults: int | None,
    seed: int | None,
    waterfall: tuple[str, ...] | None,
) -> Scenario:
    unknown = sorted(set(data) - set(TABLES))
    if unknown:
        raise ScenarioError(
            f"{source.name}: unknown table {unknown[0]!r} (tables: {', '.join(TABLES)})"
        )

    s = _table(source, data, "scenario")
    name = _text(s, "name", 64) if "name" in s.table else default_name
    description = (
        _text(s, "description", 1000, allow_empty=True)
        if "description" in s.table
        else f"price path {source.name} with the default market, vaults and keepers"
        if source.bare
        else ""
    )
    file_seed = s.integer("seed", 0, MAX_SEED) if "seed" in s.table else DEFAULT_SEED
    s.finish()
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise ScenarioError(
                f"--seed: must be an integer between 0 and {MAX_SEED}, got {seed!r}"
            )
    the_seed = file_seed if seed is None else seed

    market = _market(_table(source, data, "market"), source, the_seed)
    coll, system, config_types = _protocol(
        _table(source, data, "protocol"), source, market, waterfall
    )
    population = _population(_table(source, data, "vaults"), coll, vaults)
    scale = None
    file_count = _with_defaults(_table(source, data, "vaults"), DEFAULT_VAULTS).integer(
        "count", 1, MAX_VAULTS
    )
    if population.count > file_count:
        # --vaults above the scenario's count: its ceilings were set for its own population
        scale = (population.count, file_count)
        coll, system = _scaled_ceilings(coll, system, *scale)
    keepers = _keepers(_table(source, data, "keepers"))
    backstop = _backstop(_table(source, data, "backstop"))
    types, system = _types(source, data, market, system, config_types, the_seed)
    _check_population(
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
    return Scenario(
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


def _scaled_ceilings(
    coll: CollateralConfig, system: SystemConfig, count: int, file_count: int
) -> tuple[CollateralConfig, SystemConfig]:
    """The type's debt ceiling and automatic-ceiling maximum, and the global ceiling, times
    count / file_count (rounded up): a population larger than the scenario's, chosen with
    --vaults, meets ceilings as far from binding as the scenario's own did (the actors' draws do
    not grow, so slightly farther). A smaller population keeps the scenario's ceilings."""

    def up(x: int) -> int:
        return -(-x * count // file_count)

    scaled = replace(coll, debt_ceiling=up(coll.debt_ceiling), ceiling_max=up(coll.ceiling_max))
    return scaled, replace(
        system,
        global_debt_ceiling=up(system.global_debt_ceiling),
        collateral=tuple(scaled if c.name == coll.name else c for c in system.collateral),
    )


def _text(r: Reader, key: str, max_len: int, allow_empty: bool = False) -> str:
    value = r.raw(key)
    if not isinstance(value, str) or (not value and not allow_empty) or len(value) > max_len:
        raise r.fail(
            key,
            f"must be a {'' if allow_empty else 'non-empty '}string of at most {max_len} "
            "characters",
        )
    return value


def _market(r: Reader, source: _Source, seed: int) -> MarketSpec:
    if "prices" in r.table and "synthetic" in r.table:
        raise r.fail("prices", "give a price CSV or a [market.synthetic] table, not both")
    synthetic = None
    if "prices" in r.table:
        prices = _data(r, "prices", source, load_prices)
    elif "synthetic" in r.table:
        synthetic = _synthetic(_sub_table(r, "synthetic"))
        prices = _generate(synthetic, seed, r.where + ".synthetic")
    else:
        raise r.fail("prices", "missing (a price CSV, or a [market.synthetic] table)")

    if "gas" in r.table and "gas_gwei" in r.table:
        raise r.fail("gas_gwei", "give a gas CSV (market.gas) or a constant gas_gwei, not both")
    gas = _data(r, "gas", source, load_gas) if "gas" in r.table else None
    gas_price = (
        r.scaled("gas_gwei", GWEI, Decimal(0), Decimal(100_000))
        if "gas_gwei" in r.table
        else DEFAULT_GAS_GWEI * GWEI
    )

    if "pool_depth" in r.table and "reserves" in r.table:
        raise r.fail("reserves", "give a pool_depth or a reserves CSV, not both")
    if "reserves_scale" in r.table and "reserves" not in r.table:
        raise r.fail("reserves_scale", "applies only with market.reserves")
    if "reserves" in r.table:
        reserves = _data(r, "reserves", source, load_reserves)
        scale = (
            r.decimal("reserves_scale", Decimal(0), Decimal(1000), lo_open=True)
            if "reserves_scale" in r.table
            else Decimal(1)
        )
        with localcontext() as ctx:
            ctx.prec = 80
            pool_depth = int(
                (reserves.columns["dai_reserve"][0] * scale).to_integral_value(rounding=ROUND_DOWN)
            )
        if pool_depth <= 0:
            raise r.fail(
                "reserves_scale", f"{scale} gives an empty pool (first dai_reserve x scale = 0)"
            )
    else:
        pool_depth = _with_defaults(r, {"pool_depth": DEFAULT_POOL_DEPTH}).scaled(
            "pool_depth", WAD, lo_open=True
        )
        r.used.add("pool_depth")

    tail_bars = r.integer("tail_bars", 0, 1000) if "tail_bars" in r.table else DEFAULT_TAIL_BARS
    drain_bars = r.integer("drain_bars", 0, MAX_DRAIN_BARS) if "drain_bars" in r.table else 0
    impact_depth = r.scaled("impact_depth", WAD) if "impact_depth" in r.table else 0
    impact_half_life = (
        r.integer("impact_half_life", 1, 30 * 86400) if "impact_half_life" in r.table else 3600
    )
    r.finish()
    return MarketSpec(
        prices=prices,
        gas=gas,
        gas_price=gas_price,
        pool_depth=pool_depth,
        tail_bars=tail_bars,
        drain_bars=drain_bars,
        synthetic=synthetic,
        impact_depth=impact_depth,
        impact_half_life=impact_half_life,
    )


def _synthetic(r: Reader) -> SyntheticPath:
    kwargs: dict[str, Any] = {
        "start_price": r.decimal("start_price", Decimal(0), MAX_PRICE, lo_open=True),
        "steps": r.integer("steps", 2, 100_000),
    }
    if "step_seconds" in r.table:
        kwargs["step_seconds"] = r.integer("step_seconds", 1, 86400)
    if "start_time" in r.table:
        kwargs["start_time"] = r.integer("start_time", 0, 2**40)
    floats = {
        "drift": (-100, 100),
        "volatility": (0, 100),
        "jumps_per_day": (0, 10_000),
        "jump_mean": (-10, 10),
        "jump_std": (0, 10),
    }
    for key, (lo, hi) in floats.items():
        if key in r.table:
            kwargs[key] = _float(r, key, Decimal(lo), Decimal(hi))
    r.finish()
    try:
        return SyntheticPath(**kwargs)
    except DataError as exc:
        raise ScenarioError(f"{r.where}: {exc}") from None


def _generate(path: SyntheticPath, seed: int, where: str) -> Series:
    try:
        with localcontext() as ctx:
            # generate() quantizes prices to 18 decimals in the current context: at the default 28
            # digits a price above 1e10 raises InvalidOperation; below it the result is the same
            ctx.prec = 80
            return path.generate(seed)
    except DataError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def _protocol(
    r: Reader, source: _Source, market: MarketSpec, waterfall: tuple[str, ...] | None
) -> tuple[CollateralConfig, SystemConfig, dict[str, CollateralConfig]]:
    """(the first type, the system with it alone, every type of the config by name)."""
    config_path = _path(r, "config", source) if "config" in r.table else DEFAULT_CONFIG
    base = load_config(config_path)  # a ConfigError keeps its text
    raw_types = tomllib.loads(config_path.read_text())["collateral"]
    names = [c.name for c in base.collateral]
    chosen = r.raw("collateral") if "collateral" in r.table else names[0]
    if chosen not in names:
        raise r.fail(
            "collateral",
            f"unknown collateral type {chosen!r} (types in {config_path}: {', '.join(names)})",
        )
    index = names.index(chosen)

    coll = base.collateral[index]
    if "collateral_overrides" in r.table:
        o = _sub_table(r, "collateral_overrides")
        for key, field in (("initial_price", "market.prices"), ("pool_depth", "market.pool_depth")):
            if key in o.table:
                raise o.fail(key, f"is set by the scenario's {field}, not here")
        table = raw_types[index]
        if o.table.get("auction_curve", table.get("auction_curve")) != table.get("auction_curve"):
            # another curve: the config's curve parameters are its own curve's, not this one's
            curve_keys = {k for keys in CURVE_PARAMETERS.values() for k in keys}
            table = {k: v for k, v in table.items() if k not in curve_keys}
        coll = read_collateral(o.where, table | o.table)
    coll = replace(
        coll, initial_price=market.prices.columns["close"][0], pool_depth=market.pool_depth
    )

    order = base.waterfall.order
    if "waterfall" in r.table:
        order = _layers(r.raw("waterfall"), f"{r.where}.waterfall")
    if waterfall is not None:
        order = _layers(
            list(waterfall) if isinstance(waterfall, (tuple, list)) else waterfall, "--waterfall"
        )
    r.finish()
    system = replace(base, collateral=(coll,), waterfall=replace(base.waterfall, order=order))
    return coll, system, {c.name: c for c in base.collateral}


TYPE_POPULATION_KEYS = tuple(DEFAULT_VAULTS)


DEFAULT_TYPE: dict[str, Any] = {
    "pool_depth": DEFAULT_POOL_DEPTH,
    "beta": "1",
    "correlation": "0.8",
    "jumps_per_day": "0",
    "jump_mean": "0",
    "jump_std": "0",
}


def _types(
    source: _Source,
    data: dict[str, Any],
    market: MarketSpec,
    system: SystemConfig,
    config_types: dict[str, CollateralConfig],
    seed: int,
) -> tuple[tuple[TypeSpec, ...], SystemConfig]:
    """The `[types.<name>]` tables: more types of the config in the same crash (TypeSpec), and
    the system with them after the first type. Type k's path is drawn with seed x 64 + k."""
    top = _table(source, data, "types")
    first = system.collateral[0].name
    out, colls = [], [system.collateral[0]]
    for k, name in enumerate(top.table):
        if name == first:
            raise top.fail(name, "is the scenario's first type (protocol.collateral)")
        if name not in config_types:
            raise top.fail(
                name, f"unknown collateral type (types in the config: {', '.join(config_types)})"
            )
        if k >= 7:
            raise top.fail(name, "at most 7 more types")
        r = _with_defaults(_sub_table(top, name), DEFAULT_TYPE)
        population_table = {key: r.table[key] for key in TYPE_POPULATION_KEYS if key in r.table}
        r.used.update(population_table)
        coll = replace(config_types[name], pool_depth=r.scaled("pool_depth", WAD, lo_open=True))
        loading = {
            "beta": float(r.decimal("beta", Decimal(0), Decimal(10), lo_open=True)),
            "correlation": float(r.decimal("correlation", Decimal(0), Decimal(1), lo_open=True)),
            "jumps_per_day": _float(r, "jumps_per_day", Decimal(0), Decimal(10_000)),
            "jump_mean": _float(r, "jump_mean", Decimal(-10), Decimal(10)),
            "jump_std": _float(r, "jump_std", Decimal(0), Decimal(10)),
        }
        impact_depth = r.scaled("impact_depth", WAD) if "impact_depth" in r.table else 0
        half_life = (
            r.integer("impact_half_life", 1, 30 * 86400) if "impact_half_life" in r.table else 3600
        )
        r.finish()
        try:
            factor = OneFactor(**loading)
            prices = factor.derive(market.prices, coll.initial_price, type_seed(seed, k))
        except DataError as exc:
            raise ScenarioError(f"{r.where}: {exc}") from None
        population = _population(Reader(r.where, population_table), coll, None)
        out.append(
            TypeSpec(
                name=name,
                vaults=population,
                prices=prices,
                pool_depth=coll.pool_depth,
                loading=factor,
                impact_depth=impact_depth,
                impact_half_life=half_life,
            )
        )
        colls.append(coll)
    top.finish()
    return tuple(out), replace(system, collateral=tuple(colls))


def _layers(names: Any, where: str) -> tuple[int, ...]:
    """Waterfall layer names -> their ids, as config.py's [backstop].waterfall."""
    if not isinstance(names, list) or len(names) > 4 or not all(isinstance(n, str) for n in names):
        raise ScenarioError(
            f"{where}: must be a list of up to 4 of {', '.join(LAYERS)}, got {names!r}"
        )
    for name in names:
        if name not in LAYERS:
            raise ScenarioError(f"{where}: unknown layer {name!r} (layers: {', '.join(LAYERS)})")
        if names.count(name) > 1:
            raise ScenarioError(f"{where}: layer {name!r} appears twice")
    return tuple(LAYERS[n] for n in names)


def _population(r: Reader, coll: CollateralConfig, vaults: int | None) -> PopulationSpec:
    d = _with_defaults(r, DEFAULT_VAULTS)
    count = d.integer("count", 1, MAX_VAULTS)
    if vaults is not None:
        if isinstance(vaults, bool) or not isinstance(vaults, int) or not 1 <= vaults <= MAX_VAULTS:
            raise ScenarioError(
                f"--vaults: must be an integer between 1 and {MAX_VAULTS}, got {vaults!r}"
            )
        count = vaults
    debt_median = d.scaled("debt_median", WAD, lo_open=True)
    if debt_median * RAY <= coll.dust:
        raise d.fail(
            "debt_median",
            f"{_wad(debt_median)} must be above {coll.name}'s dust {_wad(coll.dust // RAY)}",
        )
    debt_sigma = _float(d, "debt_sigma", Decimal(0), Decimal(5))
    ratios = {
        key: d.decimal(key, Decimal(1), Decimal(1000))
        for key in ("ratio_min", "ratio_mode", "ratio_max")
    }
    lo, mode, hi = (float(ratios[k]) for k in ("ratio_min", "ratio_mode", "ratio_max"))
    num, den = lo.as_integer_ratio()  # the float the population draws with, exactly
    if num * RAY <= coll.liquidation_ratio * den:
        raise d.fail(
            "ratio_min",
            f"{ratios['ratio_min']} must be above {coll.name}'s liquidation ratio "
            f"{_ratio(coll.liquidation_ratio, RAY)}",
        )
    if lo > mode:
        raise d.fail(
            "ratio_min", f"{ratios['ratio_min']} must not exceed ratio_mode {ratios['ratio_mode']}"
        )
    if mode > hi:
        raise d.fail(
            "ratio_max",
            f"{ratios['ratio_max']} must not be below ratio_mode {ratios['ratio_mode']}",
        )
    d.finish()
    return PopulationSpec(
        count=count,
        debt_median=debt_median,
        debt_sigma=debt_sigma,
        ratio_min=lo,
        ratio_mode=mode,
        ratio_max=hi,
    )


def _keepers(r: Reader) -> KeeperSpec:
    d = _with_defaults(r, DEFAULT_KEEPERS)
    gas = {
        key: d.scaled(key, GWEI, Decimal(0), Decimal(100_000), lo_open=True)
        for key in ("liquidation_gas_gwei", "taker_gas_gwei", "backstop_gas_gwei")
    }
    mode = d.raw("taker_mode")
    if mode not in TAKER_MODES:
        raise d.fail("taker_mode", f"must be one of {', '.join(TAKER_MODES)}, got {mode!r}")
    taker_capital = d.scaled("taker_capital", WAD)
    if mode in ("capital", "both") and taker_capital == 0:
        raise d.fail("taker_capital", f'must be > 0 when taker_mode = "{mode}"')
    threshold = d.scaled("arbitrage_threshold", WAD, Decimal(0), Decimal(1))
    if threshold >= WAD:
        raise d.fail("arbitrage_threshold", "must be below 1")
    keepers = KeeperSpec(
        liquidation_gas_price=gas["liquidation_gas_gwei"],
        taker_gas_price=gas["taker_gas_gwei"],
        backstop_gas_price=gas["backstop_gas_gwei"],
        taker_mode=mode,
        taker_capital=taker_capital,
        take_min_profit=d.scaled("take_min_profit", WAD),
        arbitrageur_capital=d.scaled("arbitrageur_capital", WAD),
        arbitrage_threshold=threshold,
        debt_auction_capital=d.scaled("debt_auction_capital", WAD),
    )
    d.finish()
    return keepers


def _backstop(r: Reader) -> BackstopSpec:
    d = _with_defaults(r, DEFAULT_BACKSTOP)
    backstop = BackstopSpec(
        insurance_fund=d.scaled("insurance_fund", WAD),
        pool_stakers=d.integer("pool_stakers", 0, 50),
        pool_stake=d.scaled("pool_stake", WAD),
    )
    d.finish()
    return backstop


def actor_draws(market: MarketSpec, keepers: KeeperSpec, backstop: BackstopSpec) -> int:
    """Stablecoin [wad] the actors draw from the type besides the vaults: half the arbitrageur's
    capital, the capital taker's, the debt-auction bidder's, the insurance fund, the stakes, and
    the pool seed (deployment.seed_pool draws `pool_depth`, rounded up by at most a wei)."""
    return (
        keepers.arbitrageur_capital // 2
        + keepers.taker_capital
        + keepers.debt_auction_capital
        + backstop.insurance_fund
        + backstop.pool_stakers * backstop.pool_stake
        + market.pool_depth
    )


def _check_population(
    source: _Source,
    spec: PopulationSpec,
    seed: int,
    coll: CollateralConfig,
    system: SystemConfig,
    market: MarketSpec,
    keepers: KeeperSpec,
    backstop: BackstopSpec,
    cli_count: bool,
    types: tuple[TypeSpec, ...] = (),
) -> None:
    """Every vault safe at the first price, and everything drawn within the debt ceilings: the
    first type's population and the actors' draws within its ceiling; each further type's
    population and its pool's seed within its own; all of it within the global ceiling."""
    where = f"{source.name}: vaults"
    population = _safe_population(where, spec, seed, coll)
    draws = actor_draws(market, keepers, backstop)
    total = population + draws
    others = 0
    for k, t in enumerate(types):
        t_coll = system.collateral[k + 1]
        t_where = f"{source.name}: types.{t.name}"
        t_total = _safe_population(t_where, t.vaults, type_seed(seed, k), t_coll) + t.pool_depth
        if t_total * RAY > t_coll.debt_ceiling:
            raise ScenarioError(
                f"{t_where}: its population's debt plus its pool's seed {_wad(t.pool_depth)} = "
                f"{_wad(t_total)} stablecoin exceeds {t.name}'s debt ceiling "
                f"{_wad(t_coll.debt_ceiling // RAY)}; lower count, debt_median or pool_depth"
            )
        others += t_total
    fix = (
        f"lower {'--vaults' if cli_count else 'vaults.count'}, vaults.debt_median or the keepers' "
        "and "
        f"backstop's capital"
    )
    summary = (
        f"the population's debt {_wad(population)} plus the actors' draws {_wad(draws)} "
        f"= {_wad(total)} stablecoin exceeds"
    )
    if total * RAY > coll.debt_ceiling:
        raise ScenarioError(
            f"{where}: {summary} {coll.name}'s debt ceiling {_wad(coll.debt_ceiling // RAY)}; "
            f"{fix}, or raise protocol.collateral_overrides.debt_ceiling"
        )
    if (total + others) * RAY > system.global_debt_ceiling:
        if others:
            summary = f"the debt drawn on every type, {_wad(total + others)} stablecoin, exceeds"
        raise ScenarioError(
            f"{where}: {summary} the global debt ceiling "
            f"{_wad(system.global_debt_ceiling // RAY)}; "
            f"{fix}, or use a protocol.config with a higher system.global_debt_ceiling"
        )


def _safe_population(where: str, spec: PopulationSpec, seed: int, coll: CollateralConfig) -> int:
    """The population's total debt [wad]; ScenarioError if a vault starts unsafe."""
    price = coll.initial_price
    plans = generate_vaults(spec, seed, price, coll.token_decimals, coll.dust)
    safe_price = price * 10**9 * RAY // coll.liquidation_ratio  # as Spotter.poke, at rate = RAY
    for i, plan in enumerate(plans):
        if plan.debt * RAY > plan.collateral * safe_price:
            raise ScenarioError(
                f"{where}.ratio_min: vault {i} starts unsafe once its collateral is rounded down "
                "to "
                f"whole token units; raise ratio_min further above {coll.name}'s liquidation ratio "
                f"{_ratio(coll.liquidation_ratio, RAY)}"
            )
    return sum(p.debt for p in plans)


def waterfall_variant(scenario: Scenario, order: tuple[str, ...]) -> Scenario:
    """The same scenario under another waterfall order (layer names as in config.LAYERS)."""
    w = replace(scenario.system.waterfall, order=tuple(LAYERS[x] for x in order))
    return replace(scenario, system=replace(scenario.system, waterfall=w))


# ---------------------------------------------------------------- variants (parameter sweeps)

# the tables `load_scenario(overrides=...)` replaces keys of
OVERRIDE_TABLES = (
    "market",
    "market.synthetic",
    "vaults",
    "keepers",
    "backstop",
    "protocol",
    "protocol.collateral_overrides",
    "types",  # its keys go to every [types.<name>] table
)
# a market key that replaces others: the pool depth a reserves CSV, a constant gas price a gas CSV
_REPLACES = {"pool_depth": ("reserves", "reserves_scale"), "gas_gwei": ("gas",)}


def _override(
    data: dict[str, Any], overrides: Mapping[str, Mapping[str, Any]], source: _Source
) -> dict[str, Any]:
    """The document `data` with the keys of `overrides` replaced (a new document; `data` is left
    alone). A market.pool_depth replaces a reserves CSV and a market.gas_gwei a gas CSV;
    market.synthetic keys apply only to a scenario whose path is synthetic."""
    if not overrides:
        return data
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for where, values in overrides.items():
        if where not in OVERRIDE_TABLES:
            raise ValueError(f"no table {where!r} to override (tables: {OVERRIDE_TABLES})")
        if not values:
            continue
        top, _, sub = where.partition(".")
        if where == "types":
            types = out.get("types")
            if not isinstance(types, dict) or not types:
                key = next(iter(values))
                raise ScenarioError(
                    f"{source.name}: types.{key}: applies only to a scenario with further "
                    "collateral types ([types.<name>] tables)"
                )
            out["types"] = {
                name: (dict(t) | dict(values)) if isinstance(t, dict) else t
                for name, t in types.items()
            }
            continue
        table = out.setdefault(top, {})
        if not isinstance(table, dict):
            raise ScenarioError(f"{source.name}: {top}: must be a table")
        if sub:
            inner = table.get(sub)
            if inner is None and where == "market.synthetic":
                key = next(iter(values))
                raise ScenarioError(
                    f"{source.name}: market.synthetic.{key}: applies only to a synthetic price "
                    "path, and this scenario's prices come from a CSV"
                )
            if inner is not None and not isinstance(inner, dict):
                raise ScenarioError(f"{source.name}: {where}: must be a table")
            table[sub] = dict(inner or {}) | dict(values)
        else:
            if top == "market":
                for key in values:
                    for replaced in _REPLACES.get(key, ()):
                        table.pop(replaced, None)
            table.update(values)
    return out


def reseeded(scenario: Scenario, seed: int) -> Scenario:
    """`scenario` with another seed: another vault population and, for a synthetic price path,
    another path; validated as `load_scenario` validates a seed (ScenarioError, naming the
    scenario). Reads no file."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ScenarioError(f"seed: must be an integer between 0 and {MAX_SEED}, got {seed!r}")
    market, system = scenario.market, scenario.system
    if market.synthetic is not None:
        market = replace(
            market, prices=_generate(market.synthetic, seed, f"{scenario.name}: market.synthetic")
        )
        coll = replace(system.collateral[0], initial_price=market.prices.columns["close"][0])
        system = replace(system, collateral=(coll, *system.collateral[1:]))
    types = []
    for k, t in enumerate(scenario.types):
        try:
            prices = t.loading.derive(
                market.prices, system.collateral[k + 1].initial_price, type_seed(seed, k)
            )
        except DataError as exc:
            raise ScenarioError(f"{scenario.name}: types.{t.name}: {exc}") from None
        types.append(replace(t, prices=prices))
    out = replace(scenario, seed=seed, market=market, system=system, types=tuple(types))
    _check_population(
        _Source(scenario.name, Path("."), bare=False),
        out.vaults,
        seed,
        system.collateral[0],
        system,
        market,
        out.keepers,
        out.backstop,
        False,
        out.types,
    )
    return out
