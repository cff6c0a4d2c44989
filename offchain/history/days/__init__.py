"""Days of another protocol's history (MakerDAO's liquidation systems, modelled; not Backstop's
mechanism): each day a file of settings with their sources (black_thursday_2020.py,
may_2021.py), naming the mechanism family that ran it and the published outcomes to compare
with. One day runner per family (replay/flip.py: the 2020 Cat and Flipper; replay/clip.py: the
2021 Dog and Clipper) turns a day file into a run, so a third day is a file of settings.

A day file defines: `NAME` (the command line's `--day`), `FAMILY` ("flip" or "clip"), `DATE`,
`TITLE`, `FILES` (the data files under data/market/: prices, gas, and a pool's reserves where
the day has one), `SETTINGS` (days/settings.py), `BANDS` (history's published figures and the
bands the model must land in), `SOURCES` (id -> fact and where, for the report) and `eve(v,
data)` (the eve's vaults from the settings' values).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from types import ModuleType

from offchain.sim.scenario.market_data import (
    Series,
    load_candles,
    load_gas,
    load_prices,
    load_reserves,
)

__all__ = ["DAYS", "MARKET", "ROOT", "DayData", "day", "load"]

ROOT = Path(__file__).resolve().parents[3]
MARKET = ROOT / "data" / "market"
# --day -> the day file's module
DAYS = {
    "black-thursday-2020": "offchain.history.days.black_thursday_2020",
    "may-2021": "offchain.history.days.may_2021",
}


def day(name: str) -> ModuleType:
    """The day file of `--day name` (KeyError for an unknown day)."""
    return import_module(DAYS[name])


@dataclass(frozen=True)
class DayData:
    """A day's data: its 10-minute `prices` (close), `candles` (high, low, volume), `gas`
    percentiles and, where the day has one, a pool's `reserves`."""

    prices: Series
    candles: Series
    gas: Series
    reserves: Series | None = None


def load(module: ModuleType) -> DayData:
    files = module.FILES
    prices = MARKET / files["prices"]
    reserves = files.get("reserves")
    return DayData(
        load_prices(prices),
        load_candles(prices),
        load_gas(MARKET / files["gas"]),
        load_reserves(MARKET / reserves) if reserves else None,
    )
