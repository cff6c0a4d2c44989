"""The market's calibration, data/market/calibration.toml: every market setting with its source
id, its kind (pre, day, post, assumed, derived) and, for an assumption, the range a sensitivity
row runs (docs/market.md has the sources). Read-only: the built-in scenarios and the history
days take their market keys from it, and tests hold them equal.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["CALIBRATION", "Setting", "setting"]

CALIBRATION = Path(__file__).resolve().parents[3] / "data" / "market" / "calibration.toml"


class Setting(dict):
    """One entry: `value`, `unit`, `source_id`, `kind` and, for an assumption, `sensitivity`."""

    @property
    def value(self) -> Any:
        return self["value"]

    @property
    def sensitivity(self) -> list[Any]:
        return list(self.get("sensitivity", []))


@cache
def _document() -> dict[str, Any]:
    with CALIBRATION.open("rb") as f:
        return tomllib.load(f)


def setting(path: str) -> Setting:
    """The entry at `path` ("venue.share_2020_03_12"); KeyError naming it when absent."""
    node: Any = _document()
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"{CALIBRATION.name}: no entry {path!r}")
        node = node[part]
    return Setting(node)
