"""Reading a user's TOML or YAML document (a scenario file, a sweep file): its top-level mapping,
with every problem one line naming the file (cannot read it, not text, not valid TOML or YAML,
with the line and column YAML reports, a TOML number out of range, not a mapping)."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


class OutOfRange(float):
    """A TOML float whose digits a float cannot hold (`1e400` is infinite, `1e-400` is 0): kept
    with its text until the document is read, so that the refusal can name its key."""

    text: str

    def __new__(cls, value: float, text: str) -> OutOfRange:
        number = super().__new__(cls, value)
        number.text = text
        return number


def _toml_float(text: str) -> float:
    value = float(text)
    if text.lstrip("+-") in ("inf", "nan"):
        return value  # TOML's own infinity and NaN: the readers refuse them by name
    digits = text.lower().split("e")[0].strip("+-0._")
    if math.isinf(value) or (value == 0 and digits):
        return OutOfRange(value, text)
    return value


def _out_of_range(data: Any, key: str = "") -> list[tuple[str, str]]:
    """(key, text) of every number out of range in `data`, in the document's order."""
    if isinstance(data, OutOfRange):
        return [(key, data.text)]
    if isinstance(data, dict):
        items = [(f"{key}.{k}" if key else str(k), v) for k, v in data.items()]
    elif isinstance(data, list):
        items = [(f"{key}[{i}]", v) for i, v in enumerate(data)]
    else:
        return []
    return [found for where, value in items for found in _out_of_range(value, where)]


def one_line(text: str) -> str:
    """`text` with its whitespace runs (newlines too) as single spaces."""
    return " ".join(text.split())


def directory_named(spec: str, what: str) -> str | None:
    """Where a file is expected (`--scenario /tmp`), a directory: the one-line refusal saying so
    (a directory was taken for a built-in name before: "unknown scenario '/tmp'"); else None."""
    if not spec.strip():  # Path("") is ".": "is a directory" named a directory nobody gave
        return f"{spec!r} is empty: give {what}"
    if Path(spec).expanduser().is_dir():
        return f"{spec} is a directory, not {what}"
    return None


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (it kept the last in
    silence: `seed: 1` then `seed: 2` ran seed 2; TOML refuses it already)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> Any:
    """PyYAML's construct_yaml_map (a generator: the mapping exists before its values, so an
    alias to a table inside itself is built, and scenario.reader names it), after refusing a
    key given twice."""
    data: dict[Any, Any] = {}
    yield data
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor`, merged by PyYAML
            continue
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} is given twice (lines {seen[key]} and {line})",
                    key_node.start_mark,
                )
            seen[key] = line
        except TypeError:  # an unhashable key: PyYAML refuses it below
            continue
    data.update(loader.construct_mapping(node))


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def blank(text: str) -> bool:
    """`text` holds nothing but blank lines, comments and YAML's document markers: an empty
    file, as a user sees it (one saved before it was written, or the wrong one)."""
    return all(
        not line.strip() or line.strip().startswith("#") or line.strip() in ("---", "...")
        for line in text.splitlines()
    )


def read_mapping(
    path: Path,
    error: Callable[[str], Exception],
    where: str,
    toml: bool | None = None,
    problems: Callable[[dict[str, Any]], list[str]] | None = None,
    empty: str | None = None,
) -> dict[str, Any]:
    """The mapping of tables in `path`: TOML for a `.toml` suffix, else YAML (an empty YAML file
    is an empty mapping); `toml=True` reads TOML whatever the suffix (a deployment config). A
    problem raises `error(message)`, the message one line starting with `where`. Numbers out of
    range are named all at once, a line each, with the lines of `problems(data)` (the caller's
    checks of the document's keys, which pass over an `OutOfRange` value: named here already).
    `empty`: what the file should hold, said when it holds nothing (`blank`): "empty file"
    before the caller names the first key missing (it was "system: missing")."""
    if toml is None:
        toml = path.suffix.lower() == ".toml"
    kind = "TOML" if toml else "YAML"
    if path.is_dir():
        raise error(f"{where}: a directory, not a file")
    try:
        # UTF-8 whatever the locale; a byte-order mark (an editor's export) is dropped
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"{where}: not a text {kind} file (byte {exc.start + 1} is not UTF-8 text)"
        ) from None
    except OSError as exc:
        raise error(f"{where}: cannot read ({exc.strerror or exc})") from None
    if "\x00" in text:  # valid UTF-8 by chance, but binary: no text file holds a NUL
        raise error(f"{where}: not a text {kind} file (it holds NUL bytes)")
    if empty is not None and blank(text):
        raise error(f"{where}: empty file ({empty})")
    if toml:
        try:
            data = tomllib.loads(text, parse_float=_toml_float)
        except tomllib.TOMLDecodeError as exc:
            raise error(f"{where}: not valid TOML ({one_line(str(exc))})") from None
        except RecursionError:
            raise error(f"{where}: not valid TOML (nested too deeply)") from None
        found = _out_of_range(data)
        if found:
            lines = [
                f"{where}: {key} = {number} is out of range ("
                + (
                    "too large to be a number"
                    if math.isinf(float(number))
                    else "so small it would be read as 0"
                )
                + ")"
                for key, number in found
            ]
            more = problems(data) if problems is not None else []
            raise error("\n".join(lines + [line for line in more if line not in lines]))
        return data
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise error(f"{where}: not valid YAML ({at}{one_line(str(problem or exc))})") from None
    except RecursionError:
        raise error(f"{where}: not valid YAML (nested too deeply)") from None
    except ValueError as exc:  # a tagged or implicit value PyYAML cannot build: 2020-02-30
        raise error(f"{where}: not valid YAML ({one_line(str(exc))})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"{where}: must be a mapping of tables, got {type(data).__name__}")
    return data


def toml_text(document: dict[str, Any]) -> str:
    """A TOML document of `document` as tomllib reads config files: tables, arrays of tables,
    strings, integers, booleans and arrays of them (`tomllib.loads(toml_text(x)) == x`): a
    config written back, e.g. with a proposal's keys in place (offchain/live/rehearsal.py)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            escaped = v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            return f'"{escaped}"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        raise TypeError(f"toml_text: a {type(v).__name__} is not written")

    def body(table: dict[str, Any], name: str) -> list[str]:
        lines = [f"{k} = {value(v)}" for k, v in table.items() if not _is_table(v)]
        for k, v in table.items():
            full = f"{name}.{k}" if name else k
            if isinstance(v, dict):
                lines += ["", f"[{full}]", *body(v, full)]
            elif _is_table(v):
                for item in v:
                    lines += ["", f"[[{full}]]", *body(item, full)]
        return lines

    return "\n".join(body(document, "")).lstrip("\n") + "\n"


def _is_table(v: Any) -> bool:
    return isinstance(v, dict) or (isinstance(v, list) and bool(v) and isinstance(v[0], dict))
