"""The scenario's `[protocol]` and `[types.<name>]` tables (load.py): the deployment config,
the first collateral type and its overrides, the waterfall order, and the further collateral types
of the same crash (TypeSpec), each with its population and a price path derived from the first
type's (correlated.py).
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from typing import Any

from offchain.sim.scenario.actors import read_population
from offchain.sim.scenario.correlated import OneFactor
from offchain.sim.scenario.market_data import DataError
from offchain.sim.scenario.population import type_seed
from offchain.sim.scenario.reader import (
    ScenarioError,
    Source,
    file_path,
    read_table,
    sub_table,
)
from offchain.sim.scenario.types import MarketSpec, TypeSpec
from offchain.system.config import (
    DEFAULT_CONFIG,
    CollateralConfig,
    ConfigError,
    Reader,
    SystemConfig,
    layer_ids,
    load_config,
    read_collateral,
)
from offchain.system.schema import (
    COLLATERAL_OVERRIDES,
    CURVE_PARAMETERS,
    TYPES,
    VAULTS,
)

# the scenario's references to files (market.py's CSVs, the deployment config)
FILE_KEYS = (
    ("market", "prices"),
    ("market", "gas"),
    ("market", "reserves"),
    ("vaults", "book"),
    ("protocol", "config"),
)


def reference_problems(source: Source, data: dict[str, Any]) -> list[str]:
    """The mistakes found by following a scenario's references, each a line as the loader words
    it: a file it names that is not there, an unknown waterfall layer, a collateral type the
    deployment config lacks (when that config loads). The loader stops at its first; with the
    document's own mistakes (reader.document_problems) these name a file's mistakes at once (a
    missing price file, say, was left for the next run)."""
    out: list[str] = []
    for table, key in FILE_KEYS:
        fields = data.get(table)
        if isinstance(fields, dict) and isinstance(fields.get(key), str):
            try:
                file_path(read_table(source, data, table), key, source)
            except ConfigError as exc:  # (file_path refuses with its reader's ConfigError)
                out.append(str(exc))
    fields = data.get("protocol")
    if not isinstance(fields, dict):
        return out
    r = read_table(source, data, "protocol")
    if "waterfall" in fields:
        try:
            r.read("waterfall")
        except ConfigError as exc:
            out.append(str(exc))
    if isinstance(fields.get("collateral"), str):
        try:
            path = file_path(r, "config", source) if "config" in fields else DEFAULT_CONFIG
            names = [c.name for c in load_config(path).collateral]
        except (ConfigError, ScenarioError):
            return out  # named above, or the loader's own line
        if fields["collateral"] not in names:
            out.append(str(_unknown_type(r, fields["collateral"], path, names)))
    return out


def _unknown_type(r: Reader, chosen: Any, path: Any, names: list[str]) -> ConfigError:
    return r.fail(
        "collateral", f"unknown collateral type {chosen!r} (types in {path}: {', '.join(names)})"
    )


def read_protocol(
    r: Reader, source: Source, market: MarketSpec, waterfall: tuple[str, ...] | None
) -> tuple[CollateralConfig, SystemConfig, dict[str, CollateralConfig]]:
    """(the first type, the system with it alone, every type of the config by name)."""
    config_path = file_path(r, "config", source) if "config" in r.table else DEFAULT_CONFIG
    base = load_config(config_path)  # a ConfigError keeps its text
    raw_types = tomllib.loads(config_path.read_text())["collateral"]
    names = [c.name for c in base.collateral]
    chosen = r.raw("collateral") if "collateral" in r.table else names[0]
    if chosen not in names:
        raise _unknown_type(r, chosen, config_path, names)
    index = names.index(chosen)

    coll = base.collateral[index]
    if "collateral_overrides" in r.table:
        o = sub_table(r, "collateral_overrides", COLLATERAL_OVERRIDES)
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
        order = r.read("waterfall")
    if waterfall is not None:
        order = layer_ids(
            list(waterfall) if isinstance(waterfall, (tuple, list)) else waterfall, "--waterfall"
        )
    buffer = base.waterfall.deleverage_buffer
    if "deleverage_buffer" in r.table:
        buffer = r.read("deleverage_buffer")
    r.finish()
    waterfall_config = replace(base.waterfall, order=order, deleverage_buffer=buffer)
    system = replace(base, collateral=(coll,), waterfall=waterfall_config)
    return coll, system, {c.name: c for c in base.collateral}


# a further type's population keys (the [vaults] keys) and its defaults (schema.TYPES)
TYPE_POPULATION_KEYS = tuple(VAULTS.keys)
DEFAULT_TYPE: dict[str, Any] = TYPES.defaults()
# the keys of its path's one-factor loading (correlated.OneFactor's fields)
_LOADING = ("beta", "correlation", "jumps_per_day", "jump_mean", "jump_std")


def read_types(
    source: Source,
    data: dict[str, Any],
    market: MarketSpec,
    system: SystemConfig,
    config_types: dict[str, CollateralConfig],
    seed: int,
) -> tuple[tuple[TypeSpec, ...], SystemConfig]:
    """The `[types.<name>]` tables: more types of the config in the same crash (TypeSpec), and
    the system with them after the first type. Type k's path is drawn with seed x 64 + k."""
    top = read_table(source, data, "types")
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
        r = sub_table(top, name, TYPES)
        population_table = {key: r.table[key] for key in TYPE_POPULATION_KEYS if key in r.table}
        r.used.update(population_table)
        coll = replace(config_types[name], pool_depth=r.read("pool_depth"))
        loading = {key: r.read(key) for key in _LOADING}
        impact_depth = r.read("impact_depth")
        half_life = r.read("impact_half_life")
        r.finish()
        try:
            factor = OneFactor(**loading)
            prices = factor.derive(market.prices, coll.initial_price, type_seed(seed, k))
        except DataError as exc:
            raise ScenarioError(f"{r.where}: {exc}") from None
        population = read_population(Reader(r.where, population_table, VAULTS), coll, None)
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
