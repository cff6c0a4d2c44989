"""Variants of a scenario (load.py): another waterfall order, the keys of a scenario file's
tables replaced before validation (`load_scenario(..., overrides=...)`, parameter sweeps,
offchain/sweep), another seed for a validated scenario, and another oracle phase
(timeline.py), without reading any file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from offchain.sim.scenario.ceilings import check_population
from offchain.sim.scenario.market import generate_prices
from offchain.sim.scenario.market_data import DataError
from offchain.sim.scenario.population import type_seed
from offchain.sim.scenario.reader import ScenarioError, Source
from offchain.sim.scenario.timeline import oracle_delay
from offchain.sim.scenario.types import Scenario
from offchain.system.config import LAYERS, deleverage_buffer_problem
from offchain.system.schema import MAX_SEED, SCENARIO_TABLES


def waterfall_variant(scenario: Scenario, order: tuple[str, ...]) -> Scenario:
    """The same scenario under another waterfall order (layer names as in config.LAYERS)."""
    w = replace(scenario.system.waterfall, order=tuple(LAYERS[x] for x in order))
    out = replace(scenario, system=replace(scenario.system, waterfall=w))
    problem = deleverage_buffer_problem(out.system)
    if problem:
        raise ScenarioError(f"{scenario.name}: waterfall {','.join(order)}: {problem}")
    return out


# ---------------------------------------------------------------- variants (parameter sweeps)

# the tables `load_scenario(overrides=...)` replaces keys of: those with a key a sweep may vary
# (schema.py): market, market.synthetic, vaults, keepers, backstop, protocol,
# protocol.collateral_overrides, and types, whose keys go to every [types.<name>] table
# (and "types.<name>": that type's table alone, applied after "types")
OVERRIDE_TABLES = tuple(t.name for t in SCENARIO_TABLES if any(k.sweep for k in t))
# a market key that replaces others: the pool depth (a constant, or a share of the venue's) a
# reserves CSV and each other, a constant gas price a gas CSV
_REPLACES = {
    "pool_depth": ("reserves", "reserves_scale", "pool_share_of_venue"),
    "pool_share_of_venue": ("reserves", "reserves_scale", "pool_depth"),
    "gas_gwei": ("gas",),
}


# the keys of the open market (docs/market.md), which an override that closes it drops: the
# market before it comes back whole
OPEN_MARKET_KEYS = (
    "pool_share_of_venue",
    "impact_coefficient",
    "venue_share",
    "impact_decay",
    "venue_window",
    "resale_delay",
    "stable_price",
    "stable_prices",
    "flash_route",
    "block_gas_limit",
    "block_time",
    "competing_gas_share",
)


def override(
    data: dict[str, Any], overrides: Mapping[str, Mapping[str, Any]], source: Source
) -> dict[str, Any]:
    """The document `data` with the keys of `overrides` replaced (a new document; `data` is left
    alone). A market.pool_depth or pool_share_of_venue replaces a reserves CSV (and the other),
    and a market.gas_gwei a gas CSV;
    market.synthetic keys apply only to a scenario whose path is synthetic."""
    if not overrides:
        return data
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    # every type's keys first, then one type's own
    for where, values in sorted(overrides.items(), key=lambda item: item[0].startswith("types.")):
        top, _, sub = where.partition(".")
        if where not in OVERRIDE_TABLES and not (top == "types" and sub):
            raise ValueError(f"no table {where!r} to override (tables: {OVERRIDE_TABLES})")
        if not values:
            continue
        if top == "types":
            types = out.get("types")
            key = next(iter(values))
            named = f"{key}@{sub}" if sub else f"types.{key}"
            if not isinstance(types, dict) or not types:
                raise ScenarioError(
                    f"{source.name}: {named}: applies only to a scenario with further "
                    "collateral types ([types.<name>] tables)"
                )
            if sub and sub not in types:
                raise ScenarioError(
                    f"{source.name}: {named}: no further type {sub!r} in this scenario "
                    f"(its [types.<name>] tables: {', '.join(map(str, types))}; the first "
                    "type's keys have no @TYPE)"
                )
            out["types"] = {
                name: (dict(t) | dict(values)) if isinstance(t, dict) and sub in ("", name) else t
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
                if values.get("outside") == "closed":  # the open market's keys go with it
                    for replaced in OPEN_MARKET_KEYS:
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
            market,
            prices=generate_prices(market.synthetic, seed, f"{scenario.name}: market.synthetic"),
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
    check_population(
        Source(scenario.name, Path("."), bare=False),
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


def phase_problem(scenario: Scenario, phase: object) -> str | None:
    """Why `phase` is no oracle phase of `scenario` (an integer from 0 to below its oracle
    delay, timeline.py), or None."""
    delay = oracle_delay(scenario)
    if isinstance(phase, bool) or not isinstance(phase, int) or not 0 <= phase < delay:
        return (
            f"must be an integer from 0 to {delay - 1:,} (below the oracle delay, {delay:,} s), "
            f"got {phase!r}"
        )
    return None


def with_phase(scenario: Scenario, phase: int, where: str) -> Scenario:
    """`scenario` with the oracle phase `phase` [s]; a ScenarioError `<where>: ...` when it is not
    below the oracle delay. Reads no file."""
    problem = phase_problem(scenario, phase)
    if problem:
        raise ScenarioError(f"{where}: {problem}")
    return replace(scenario, market=replace(scenario.market, oracle_phase=phase))
