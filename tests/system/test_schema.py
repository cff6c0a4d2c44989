"""The parameter schema (offchain/system/schema.py) is the one statement of every config and
scenario key: the loaders read each key with the schema's bounds and defaults, read no key the
schema lacks, and the sweep's grid names are derived from it, so a key added to the schema is a
key the reader checks and a grid may vary. Pure Python: no chain, no run."""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from decimal import Decimal
from typing import Any

import pytest

from offchain.sim.scenario.load import ScenarioError, builtin_scenarios, load_scenario
from offchain.sweep.spec import GRID_KEYS, TYPE_GRID_KEYS, GridKey, derive_grid_keys, grid_key
from offchain.system import schema
from offchain.system.config import (
    DEFAULT_CONFIG,
    ConfigError,
    Reader,
    load_config,
    parse_config,
)
from offchain.system.schema import (
    COLLATERAL,
    CONFIG_TABLES,
    CURVE_PARAMETERS,
    GWEI,
    KEEPERS,
    MARKET,
    SYNTHETIC,
    TYPES,
    VAULTS,
    Key,
    Kind,
    Table,
)

CONFIG = tomllib.loads(DEFAULT_CONFIG.read_text())
PRICES = str(DEFAULT_CONFIG.parents[1] / "data" / "market" / "eth_usd_2020-03-12.csv")
CHECKED = (Kind.INTEGER, Kind.AMOUNT, Kind.DECIMAL, Kind.FLOAT, Kind.CHOICE)


def _out_of_bounds(key: Key) -> list[tuple[Any, str]]:
    """Values just outside `key`'s bounds, each with the start of the problem the schema says
    the reader reports."""
    if key.kind is Kind.INTEGER:
        return [(key.hi + 1, f"must be an integer between {key.lo} and {key.hi}, got")]
    if key.kind is Kind.CHOICE:
        return [("bogus", f"must be one of {', '.join(key.choices)}, got 'bogus'")]
    hi = schema.MAX_AMOUNT if key.kind is Kind.AMOUNT and key.hi is None else key.hi
    op = ">" if key.lo_open else ">="
    bound = f"must be {op} {key.lo}" + (f" and <= {hi}" if hi is not None else "")
    out = [(str(key.lo if key.lo_open else key.lo - 1), bound)]
    if hi is not None:
        out.append((str(hi + 1), bound))
    return out


def _config_with(table: str, key: Key, value: Any) -> dict:
    """The devnet config with `key` of `table` (the first collateral type's) set to `value`;
    a curve parameter's type gets a curve that reads it."""
    data = copy.deepcopy(CONFIG)
    target = data["collateral"][0] if table == "collateral" else data[table]
    if key.curves:
        valid = {
            "auction_curve_duration": 9000,
            "auction_curve_step": 90,
            "auction_curve_cut": "0.9",
        }
        for name in valid:
            target.pop(name, None)
        target["auction_curve"] = key.curves[0]
        target |= {name: valid[name] for name in CURVE_PARAMETERS[key.curves[0]]}
    target[key.name] = value
    return data


@pytest.mark.parametrize("table", CONFIG_TABLES, ids=lambda t: t.name)
def test_schema__the_config_loader_checks_every_key_with_the_schemas_bounds(table: Table):
    where = "C: collateral[0]" if table.name == "collateral" else f"C: {table.name}"
    for key in table:
        if key.kind not in CHECKED:
            continue
        for value, problem in _out_of_bounds(key):
            with pytest.raises(ConfigError) as exc:
                parse_config(_config_with(table.name, key, value), "C")
            assert str(exc.value).startswith(f"{where}.{key.name}: {problem}"), str(exc.value)


# a scenario whose table the key is read from (reserves_scale: one with a reserves CSV)
_SCENARIO_OF = {"market.synthetic": "synthetic-crash", "types.WBTC-A": "may-2021-two-types"}


@pytest.mark.parametrize(
    "table",
    [MARKET, SYNTHETIC, VAULTS, KEEPERS, schema.BACKSTOP, TYPES],
    ids=lambda t: t.name,
)
def test_schema__the_scenario_loader_checks_every_key_with_the_schemas_bounds(table: Table):
    where = "types.WBTC-A" if table is TYPES else table.name
    for key in table:
        if key.kind not in CHECKED:
            continue
        scenario = _SCENARIO_OF.get(where, "black-thursday-2020")
        if key.name in ("reserves_scale", "reserves_depth"):
            scenario = "may-2021"
        for value, problem in _out_of_bounds(key):
            with pytest.raises(ScenarioError) as exc:
                load_scenario(scenario, vaults=20, overrides={where: {key.name: value}})
            message = str(exc.value)
            assert f": {where}.{key.name}: {problem}" in message, message


def test_schema__an_absent_key_takes_the_schemas_default():
    """A bare price CSV with the schema's lineup (--lineup defaults) gives no table: the scenario
    is the one that writes every default of the schema's market, vaults, keepers and backstop
    (the pool's depth once: its market is open, so the venue's share; written, the pool is the
    scenario's, not one its first lines name)."""
    bare = load_scenario(PRICES, lineup="defaults")
    written = {t.name: t.defaults() for t in (MARKET, VAULTS, KEEPERS, schema.BACKSTOP)}
    for name in ("reserves_scale", "reserves_depth"):  # given only with a reserves CSV
        del written["market"][name]
    del written["market"]["pool_depth"]  # or pool_share_of_venue: one of the two
    got = load_scenario(PRICES, lineup="defaults", overrides=written)
    assert got == dataclasses.replace(bare, market=dataclasses.replace(bare.market, pool_note=""))
    assert bare.market.tail_bars == MARKET["tail_bars"].default
    assert bare.vaults.count == VAULTS["count"].default


def test_schema__the_loaders_read_no_key_the_schema_lacks(monkeypatch):
    """Every key a reader took (checked or raw: a file, a sub-table) is in its table of the
    schema, for the devnet config and every built-in scenario; `read` of another is a KeyError."""
    taken: list[tuple[str, set[str], Table]] = []
    finish = Reader.finish

    def spy(self: Reader) -> None:
        if self.schema is not None:
            taken.append((self.where, set(self.used), self.schema))
        finish(self)

    monkeypatch.setattr(Reader, "finish", spy)
    load_config(DEFAULT_CONFIG)
    for name in builtin_scenarios():
        load_scenario(name, vaults=20)
    assert {t.name for _, _, t in taken} >= {"collateral", "backstop", "market", "types"}
    stray = [(where, used - set(t.keys)) for where, used, t in taken if used - set(t.keys)]
    assert not stray, stray
    with pytest.raises(KeyError):
        Reader("x", {"colour": 1}, KEEPERS).read("colour")


def test_schema__a_key_added_is_a_key_the_reader_checks_and_a_grid_name(monkeypatch):
    """One entry in the schema: the reader checks it with its bounds and default, and the grid
    has it, in its table, with the kind the command line's text is read as (`key@TYPE` too for
    a further type's key)."""
    bribe = Key("bribe_gwei", Kind.AMOUNT, Decimal(0), Decimal(1000), unit=GWEI, default=5)
    monkeypatch.setitem(KEEPERS.keys, "bribe_gwei", bribe)
    assert Reader("k", {}, KEEPERS).read("bribe_gwei") == 5 * GWEI
    with pytest.raises(ConfigError, match=r"^k.bribe_gwei: must be >= 0 and <= 1000, got '1001'$"):
        Reader("k", {"bribe_gwei": "1001"}, KEEPERS).read("bribe_gwei")
    lag = Key("lag", Kind.INTEGER, 0, 10, default=0)
    monkeypatch.setitem(TYPES.keys, "lag", lag)
    grid, per_type = derive_grid_keys()
    assert grid["bribe_gwei"] == GridKey("keepers", "number")
    assert grid["lag"] == GridKey("types", "int") and per_type["lag"] == GridKey("types", "int")
    monkeypatch.setitem(KEEPERS.keys, "bribe_gwei", Key("bribe_gwei", Kind.TEXT, sweep=False))
    assert "bribe_gwei" not in derive_grid_keys()[0]


def test_schema__the_grid_is_the_schemas_sweepable_keys():
    """GRID_KEYS and TYPE_GRID_KEYS are the schema's: every key a sweep may vary, in the table
    a scenario gives it (a collateral type's through protocol.collateral_overrides), and
    nothing else; a further type's keys are `key@TYPE`."""
    sweepable = {k.name for t in schema.SCENARIO_TABLES for k in t if k.sweep}
    assert set(GRID_KEYS) == sweepable
    assert set(TYPE_GRID_KEYS) == {k.name for k in TYPES if k.sweep}
    assert all(
        GRID_KEYS[k.name].table == "protocol.collateral_overrides" for k in COLLATERAL if k.sweep
    )
    assert GRID_KEYS["pool_depth"].table == "market" and GRID_KEYS["beta"].table == "types"
    assert grid_key("pool_depth@WBTC-A") == GridKey("types.WBTC-A", "number")
    assert not any(k.sweep for t in CONFIG_TABLES if t is not COLLATERAL for k in t)


def test_schema__every_grid_key_is_listed_in_the_sweeps_doc():
    doc = (DEFAULT_CONFIG.parents[1] / "docs" / "sweeps.md").read_text()
    missing = [name for name in {**GRID_KEYS, **TYPE_GRID_KEYS} if f"`{name}`" not in doc]
    assert not missing, missing


def test_schema__an_auction_curve_that_is_not_a_word__one_line():
    """A list where the curve's name goes was a TypeError (unhashable); now the choice's line."""
    data = _config_with("collateral", COLLATERAL["auction_curve"], ["linear"])
    with pytest.raises(ConfigError) as exc:
        parse_config(data, "C")
    assert str(exc.value) == (
        "C: collateral[0].auction_curve: must be one of linear, stairstep, exponential, "
        "got ['linear']"
    )
