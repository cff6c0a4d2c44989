"""A day's settings, for the models of another protocol's days (MakerDAO's liquidations of 2020
and 2021; not Backstop's): each input a `Setting` with its value, its source (an id of
docs/history.md's source table, or "assumed" when no source gives it) and, for an assumption,
the values the sensitivity table runs instead. A day file (days/<day>.py) is a dict of them;
`values` gives them typed, with overrides by name (a sensitivity row, or `--set` on the
command line, parsed and checked at the edge by `Setting.parse`: one line on a mistake).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

__all__ = [
    "Band",
    "Setting",
    "SettingError",
    "Values",
    "check_together",
    "parse_overrides",
    "repeated_settings",
    "values",
]


class SettingError(ValueError):
    """A setting's name or value refused; the message is one line."""


@dataclass(frozen=True)
class Setting:
    """One input (module docstring). `choices`: the values a text setting may take; `low`,
    `high`: an int's or a Fraction's bounds (inclusive); `unit`: a whole number given on the
    command line is multiplied by it (1e18 for a wad amount); `optional`: "none" is allowed;
    `display`: the value as a report shows it, where the raw integer would mislead."""

    name: str
    value: object
    source: str
    note: str
    alternatives: tuple = ()
    choices: tuple[str, ...] = ()
    low: object = None
    high: object = None
    unit: int = 1
    optional: bool = False
    display: str = ""  # how a report shows the value (a ray or wad amount in its own words)

    def parse(self, text: str) -> object:
        """The value `text` stands for, checked (SettingError: one line)."""
        text = text.strip()
        if self.optional and text.lower() == "none":
            return None
        value: object
        if self.choices:
            if text not in self.choices:
                raise SettingError(
                    f"--set {self.name}: {text!r} is not one of {', '.join(self.choices)}"
                )
            return text
        kind = type(self.value if self.value is not None else self.alternatives[0])
        if kind not in (Fraction, int):
            raise SettingError(f"--set {self.name}: cannot be set from the command line")
        try:
            value = Fraction(text) if kind is Fraction else int(text.replace("_", "")) * self.unit
        except (ValueError, ZeroDivisionError):
            raise SettingError(f"--set {self.name}: {text!r} is not a number") from None
        self.check(value, text)
        return value

    def check(self, value: Any, text: str = "") -> None:
        # named as the user wrote it (1e400 was named by its 401 digits)
        shown = text or value

        def bound(limit: Any) -> Any:  # in the units the command line takes (not wad)
            return Fraction(limit, self.unit) if text and self.unit != 1 else limit

        if self.low is not None and value < self.low:
            raise SettingError(f"--set {self.name}: {shown} is below {bound(self.low)}")
        if self.high is not None and value > self.high:
            raise SettingError(f"--set {self.name}: {shown} is above {bound(self.high)}")


class Values:
    """A day's setting values by name, as attributes (`v.bidders`)."""

    def __init__(self, data: dict[str, Any]):
        self._data = dict(data)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_data"][name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, Any]:
        return dict(self._data)


def values(settings: dict[str, Setting], overrides: dict[str, object] | None = None) -> Values:
    """Every setting's value, with `overrides` by name (KeyError for an unknown one)."""
    out: dict[str, Any] = {name: s.value for name, s in settings.items()}
    for name, value in (overrides or {}).items():
        if name not in out:
            raise KeyError(f"unknown setting {name!r}")
        out[name] = value
    return Values(out)


def parse_overrides(
    settings: dict[str, Setting], pairs: tuple[str, ...], together: bool = True
) -> dict[str, object]:
    """`NAME=VALUE` pairs (the command line's `--set`) as overrides, each parsed and checked,
    then all of them with the day's other settings (`check_together`; `together=False`: the
    caller does that once it has every pair)."""
    out: dict[str, object] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise SettingError(f"--set {pair!r}: give NAME=VALUE")
        if name not in settings:
            raise SettingError(
                f"--set {name}: no such setting of this day (one of {', '.join(settings)})"
            )
        out[name] = settings[name].parse(text)
    if together:
        check_together(settings, out)
    return out


def repeated_settings(pairs: tuple[str, ...]) -> list[str]:
    """A setting given more than once among the `--set` pairs, one line each (the last value
    was taken in silence: `--set takers=21 --set takers=3` ran 3)."""
    names = [pair.partition("=")[0].strip() for pair in pairs if "=" in pair]
    counts = {name: names.count(name) for name in dict.fromkeys(names) if name}
    return [
        f"--set {name} given {n} times: give each setting once"
        for name, n in counts.items()
        if n > 1
    ]


def check_together(settings: dict[str, Setting], overrides: dict[str, object]) -> None:
    """What the day's settings must be together, once every override is parsed (SettingError:
    one line). A block gas limit (`block_gas`, 0: no bound) below the day's dearest call (its
    `gas_*` settings, x `gas_scale` where the day has one) holds no keeper transaction: `--set
    block_gas=1` ran the day with every call waiting for room in silence."""
    if "block_gas" not in settings:
        return
    v = values(settings, overrides).as_dict()
    calls = {n: x for n, x in v.items() if n.startswith("gas_") and type(x) is int}
    if not v["block_gas"] or not calls:
        return
    name = max(calls, key=lambda n: calls[n])
    dearest = calls[name] * v.get("gas_scale", 1)
    if v["block_gas"] < dearest:
        scaled = f" x gas_scale {v['gas_scale']}" if "gas_scale" in v else ""
        raise SettingError(
            f"--set block_gas: {v['block_gas']:,} is below the day's dearest call ({name} "
            f"{calls[name]:,}{scaled}), which no block would hold; 0: no bound"
        )


@dataclass(frozen=True)
class Band:
    """A published figure and the band the model must land in: `history` as published, with
    its source ids; `of(result, eve debt [wad])` the model's figure from a run; `unit` how it
    reads: "share" (a fraction, shown in %), "DAI", "minutes" or "count"."""

    name: str
    history: str
    low: float
    high: float
    of: Any  # Callable[[result, int], float]
    unit: str = "share"
    id: str = ""

    def show(self, value: float) -> str:
        if value != value:  # nan: nothing to measure (no take, no finished auction)
            return "none"
        if self.unit == "share":
            return f"{100 * value:.2f}%" if abs(value) < 0.01 else f"{100 * value:.1f}%"
        if self.unit == "DAI":
            return f"{value / 1e6:,.2f}M" if abs(value) >= 1e5 else f"{value:,.0f}"
        if self.unit == "minutes":
            return f"{value:,.0f} min"
        return f"{value:,.0f}"

    def bounds(self) -> str:
        if self.low == self.high:
            return f"exactly {self.show(self.low)}"
        if self.low == float("-inf") or (self.low == 0 and self.unit != "share"):
            return f"at most {self.show(self.high)}"
        return f"{self.show(self.low)} to {self.show(self.high)}"

    def within(self, value: float) -> bool:
        return value == value and self.low <= value <= self.high

    def verdict(self, value: float) -> str:
        if value != value:
            return "not measured"
        if self.within(value):
            return "within"
        gap = value - self.high if value > self.high else self.low - value
        side = "above" if value > self.high else "below"
        if self.unit == "share":
            return f"{100 * gap:.1f} points {side} the band"
        return f"{self.show(gap)} {side} the band"
