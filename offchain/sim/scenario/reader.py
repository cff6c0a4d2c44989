"""Reading a scenario document (load.py): the file itself (TOML or YAML), its tables and
fields, with every mistake one `ScenarioError` line naming the file, the field and the problem,
and the exact formatting of amounts those lines quote; each table's reader checks its keys as the
parameter schema (offchain/system/schema.py) states them. The tables' own readers:
market.py, actors.py, protocol.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from offchain.model.fixed_point import WAD
from offchain.system.config import Reader, table_problems
from offchain.system.files import read_mapping
from offchain.system.schema import SCENARIO_TABLES, TYPES, Table

ROOT = Path(__file__).resolve().parents[3]
# the built-in scenarios (offchain/sim/scenarios/*.toml)
BUILTIN_DIR = Path(__file__).resolve().parents[1] / "scenarios"
# the scenario's tables by name (schema.py); the top-level [types] holds a table per type
# (schema.TYPES), not keys
SCHEMA: dict[str, Table] = {t.name: t for t in SCENARIO_TABLES if t is not TYPES}


class ScenarioError(ValueError):
    """A scenario mistake; the message is one line naming the file, the field and the problem."""


def read_document(path: Path) -> dict[str, Any]:
    data = read_mapping(
        path,
        ScenarioError,
        str(path),
        problems=lambda d: document_problems(str(path), d),
        empty="a scenario gives at least its prices: [market] prices = a CSV, or a "
        "[market.synthetic] table; docs/simulation.md",
    )
    _check_keys(data, str(path), "", ())
    return data


def _check_keys(table: dict[Any, Any], source: str, where: str, path: tuple[int, ...]) -> None:
    """YAML allows non-string keys; the readers below expect strings. `path`: the ids of the
    tables around `table` (a YAML anchor and its alias can make a table hold itself)."""
    if id(table) in path:
        raise ScenarioError(f"{source}: {where}: a table contains itself (a YAML alias)")
    for key, value in table.items():
        if not isinstance(key, str):
            raise ScenarioError(f"{source}: {where or 'top level'}: key {key!r} must be a string")
        if isinstance(value, dict):
            _check_keys(value, source, f"{where}.{key}" if where else key, (*path, id(table)))


@dataclass(frozen=True)
class Source:
    name: str  # the file, as given; prefixes every message
    directory: Path  # relative paths inside the file are resolved here first
    bare: bool  # a bare price CSV: its loader's messages need no prefix


def document_problems(name: str, data: dict[str, Any]) -> list[str]:
    """Every mistake of a scenario document that a table's keys show on their own (unknown
    tables and keys, values of the wrong kind or out of range: config.table_problems), one line
    each; the loader stops at its first, so a file with several is named whole at once."""
    tables = {t.name: t for t in SCENARIO_TABLES}
    out = []
    for key, value in data.items():
        if key not in SCHEMA and key != "types":
            out.append(f"{name}: unknown table {key!r} (tables: {', '.join(SCHEMA)}, types)")
        elif not isinstance(value, dict):
            continue  # the table's reader names it
        elif key == "types":
            for type_name, table in value.items():
                if isinstance(table, dict):
                    out += table_problems(f"{name}: types.{type_name}", table, TYPES, tables)
        else:
            out += table_problems(f"{name}: {key}", value, SCHEMA[key], tables)
    return out


def read_table(source: Source, data: dict[str, Any], key: str) -> Reader:
    """A reader of top-level table `key` (empty if absent), with its keys in the schema; its
    messages read `<file>: <key>.<field>: ...`."""
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise ScenarioError(f"{source.name}: {key}: must be a table")
    return Reader(f"{source.name}: {key}", table, SCHEMA.get(key))


def sub_table(r: Reader, key: str, schema: Table) -> Reader:
    """A reader of `r`'s sub-table `key`, whose keys are `schema`'s."""
    table = r.raw(key)
    if not isinstance(table, dict):
        raise r.fail(key, "must be a table")
    return Reader(f"{r.where}.{key}", table, schema)


def file_path(r: Reader, key: str, source: Source) -> Path:
    value = r.raw(key)
    if not isinstance(value, str) or not value:
        raise r.fail(key, f"must be a file path, got {value!r}")
    path = Path(value).expanduser()
    candidates = [path] if path.is_absolute() else [source.directory / path, ROOT / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = str(path) if path.is_absolute() else f"{source.directory} and {ROOT}"
    if any(candidate.is_dir() for candidate in candidates):  # (was "not found")
        raise r.fail(key, f"{value!r} is a directory, not a file (looked in {looked})")
    raise r.fail(key, f"file {value!r} not found (looked in {looked})")


def format_wad(amount: int) -> str:
    """A wad amount in whole units, exactly, with thousands separators."""
    whole, frac = divmod(amount, WAD)
    return f"{whole:,}" + (f".{frac:018d}".rstrip("0") if frac else "")


def format_ratio(value: int, unit: int) -> str:
    with localcontext() as ctx:
        ctx.prec = 80
        return format((Decimal(value) / unit).normalize(), "f")
