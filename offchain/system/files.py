"""Reading a user's TOML or YAML document (a scenario file, a sweep file): its top-level mapping,
with every problem one line naming the file (cannot read it, not text, not valid TOML or YAML,
with the line and column YAML reports, not a mapping)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


def one_line(text: str) -> str:
    """`text` with its whitespace runs (newlines too) as single spaces."""
    return " ".join(text.split())


def read_mapping(path: Path, error: Callable[[str], Exception], where: str) -> dict[str, Any]:
    """The mapping of tables in `path`: TOML for a `.toml` suffix, else YAML (an empty YAML file
    is an empty mapping). A problem raises `error(message)`, the message one line starting with
    `where`."""
    try:
        # UTF-8 whatever the locale; a byte-order mark (an editor's export) is dropped
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{where}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    if path.suffix.lower() == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise error(f"{where}: not valid TOML ({one_line(str(exc))})") from None
        except RecursionError:
            raise error(f"{where}: not valid TOML (nested too deeply)") from None
    try:
        data = yaml.safe_load(text)
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
