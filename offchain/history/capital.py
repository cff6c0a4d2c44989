"""Keeper capital, calibrated on one day and checked on the other (issue 73; docs/history.md):
the one quantity of the history check no source gives, the DAI each honest 2020 keeper held
(F2, K9: not found), fixed from Black Thursday's two bands under the model of MakerDAO's 2020
Cat and Flipper (not Backstop's mechanism), then checked on 2021-05-19 under the model of
Liquidations 2.0, whose keepers' capital has a source (K4: "around 20 million").

- **Calibrated** (`calibration_tasks`, `interval`): the flip model at the day's settings with
  `bidder_capital` changed alone over `GRID_2020`; the interval is the run of grid values whose
  zero-bid share and deficit both fall within their bands (E1, E2). Nothing else moves: the
  keepers stay three (`bidders`, itself assumed), and the report adds the calibrated total split
  over one and six keepers (`split_tasks`): Backstop's side takes the total, not the split.
  The interval found was written into data/market/calibration.toml (`keepers_2020.capital_dai`,
  kind "calibrated") before any run of 2021-05-19 with it: the day file reads it from there.
- **Checked** (`check_tasks`, `check`): the 2021 model with the capital takers' DAI set to the
  calibrated total (3 keepers x each end of the interval) instead of K4's 20M, everything else
  the day's; the check holds when each end puts the same bands within as K4's 20M does. The
  2021 capital the counterfactual then spans (`capital_2021`) is the hull of K4's 20M and the
  calibrated total where the check holds, K4's alone where it does not: a rule fixed before
  the check was run.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from offchain.history.days import day
from offchain.history.days.calibration import cal
from offchain.history.days.settings import Band
from offchain.history.days.settings import values as day_values
from offchain.sim.market.calibration import setting

__all__ = [
    "CAPITAL_2020",
    "GRID_2020",
    "CalibrationRow",
    "capital_2021",
    "check",
    "check_tasks",
    "calibration_tasks",
    "interval",
    "misses_inside",
    "split_tasks",
]

BLACK_THURSDAY = "black-thursday-2020"
MAY_2021 = "may-2021"
# the calibration file's entry: its value and its interval's ends (`sensitivity`)
CAPITAL_2020 = "keepers_2020.capital_dai"
# DAI per honest keeper the calibration runs (three keepers, the day's count): the previous
# assumption's value and rows (1M; 250k, 4M) and a quarter-million grid where the bands turn
# (4.75M to 5.75M were added after the first pass, whose step there was half a million or more:
# a finer grid, no value chosen)
GRID_2020 = (
    250_000,
    1_000_000,
    2_000_000,
    2_500_000,
    2_750_000,
    3_000_000,
    3_250_000,
    3_500_000,
    3_750_000,
    4_000_000,
    4_250_000,
    4_500_000,
    4_750_000,
    5_000_000,
    5_250_000,
    5_500_000,
    5_750_000,
    6_000_000,
    8_000_000,
)
# the keeper counts the calibrated total is split over (the calibration's rows of `bidders`)
SPLITS = (1, 6)


@dataclass(frozen=True)
class CalibrationRow:
    """One run of the calibration: the DAI each of `keepers` honest keepers held, the banded
    figures and whether each is within its band."""

    keepers: int
    capital: int
    figures: tuple[float, ...]
    within: tuple[bool, ...]

    @property
    def total(self) -> int:
        return self.keepers * self.capital

    @property
    def fits(self) -> bool:
        return all(self.within)


def calibration_tasks(overrides: dict[str, object] | None = None) -> list[tuple]:
    """The flip model's runs of the calibration (tasks.py's "history" tasks; key ("capital",
    keepers, capital)) under the day's settings and `overrides`."""
    given = dict(overrides or {})
    keepers = day_values(day(BLACK_THURSDAY).SETTINGS, given).bidders
    return [
        ("history", BLACK_THURSDAY, ("capital", keepers, c), {**given, "bidder_capital": c})
        for c in GRID_2020
    ]


def split_tasks(total: int, overrides: dict[str, object] | None = None) -> list[tuple]:
    """The calibrated `total` split evenly over each of SPLITS keepers (key ("capital",
    keepers, each))."""
    given = dict(overrides or {})
    return [
        (
            "history",
            BLACK_THURSDAY,
            ("capital", n, total // n),
            {**given, "bidders": n, "bidder_capital": total // n},
        )
        for n in SPLITS
    ]


def row(key: tuple, result: object, bands: tuple[Band, ...], eve_debt: int) -> CalibrationRow:
    """A run's row of the calibration table (`key` its task's)."""
    _, keepers, capital = key
    figures = tuple(b.of(result, eve_debt) for b in bands)
    return CalibrationRow(
        keepers, capital, figures, tuple(b.within(x) for b, x in zip(bands, figures))
    )


def interval(rows: list[CalibrationRow]) -> tuple[int, int] | None:
    """The lowest and highest grid capital within both bands (None: none is): the capitals the
    day does not reject. A grid value between them may miss (`misses_inside`): the model's
    figures are not monotone in the capital, the report names each."""
    fits = sorted(r.capital for r in rows if r.fits)
    return (fits[0], fits[-1]) if fits else None


def misses_inside(rows: list[CalibrationRow]) -> list[CalibrationRow]:
    """The grid rows inside `interval(rows)` that miss a band."""
    ends = interval(rows)
    if ends is None:
        return []
    return sorted(
        (r for r in rows if ends[0] < r.capital < ends[1] and not r.fits),
        key=lambda r: r.capital,
    )


def committed() -> tuple[int, int, int]:
    """The calibration file's capital per 2020 keeper: (value, low, high) [DAI]."""
    entry = setting(CAPITAL_2020)
    low, high = entry.sensitivity
    return int(cal(CAPITAL_2020)), int(low), int(high)


def check_tasks(overrides: dict[str, object] | None = None) -> list[tuple]:
    """The 2021 model's runs of the check (key ("check", total)): the capital takers' DAI at the
    calibrated total's ends (the day's count of 2020 keepers x the file's interval)."""
    given = dict(overrides or {})
    keepers = day_values(day(BLACK_THURSDAY).SETTINGS).bidders
    _, low, high = committed()
    return [
        ("history", MAY_2021, ("check", keepers * c), {**given, "taker_capital": keepers * c})
        for c in (low, high)
    ]


@dataclass(frozen=True)
class Check:
    """The check on 2021-05-19: the bands within at K4's capital (`sourced`), and at each
    calibrated total (`totals`: total -> the ids within); `holds` when every total puts the
    same bands within as K4's capital."""

    sourced_capital: int
    sourced: tuple[str, ...]
    totals: dict[int, tuple[str, ...]]

    @property
    def holds(self) -> bool:
        return all(ids == self.sourced for ids in self.totals.values())


def _within(module: ModuleType, result: object) -> tuple[str, ...]:
    return tuple(f"{b.id}" for b in module.BANDS if b.within(b.of(result, 0)))


def check(base: object, runs: dict[int, object], overrides: dict | None = None) -> Check:
    """The check (module docstring) from the 2021 day's run under its settings (`base`) and the
    runs of `check_tasks` by total."""
    module = day(MAY_2021)
    v = day_values(module.SETTINGS, overrides)
    return Check(
        v.taker_capital,
        _within(module, base),
        {total: _within(module, r) for total, r in sorted(runs.items())},
    )


def capital_2021(result: Check) -> tuple[int, ...]:
    """The 2021 capital takers' DAI Backstop's interval runs (module docstring): K4's and, where
    the check holds, the calibrated totals; sorted, each once."""
    values = {result.sourced_capital}
    if result.holds:
        values |= set(result.totals)
    return tuple(sorted(values))
