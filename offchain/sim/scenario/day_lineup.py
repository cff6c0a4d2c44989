"""A user's bare price CSV gets the lineup of a built-in day (load.py): the keepers the built-in
day of the file's year runs (its `[keepers]` table: the flash taker, a capital taker where the day
has one, the arbitrageur, their capital and thresholds), the capital taker's resale delay of that
year (data/market/calibration.toml, as the built-ins' `market.resale_delay`), and the block space
of the file's date: the block gas limit the sourced history gives for that date
(market/blockspace.py, `gas_limit_on`), with the block time and other traffic's share the
calibration gives for the nearest year. Each is said in the run's first lines (`first_lines`),
with why where the date is outside what is sourced.

The built-in days: black-thursday-2020 for 2020 and may-2021 for 2021 (`BUILTIN_DAYS`); a year
without one takes the nearest (the earlier on a tie). A capital or gas budget the lab sizes to the
book (ceilings.SIZED_KEEPER_KEYS: the capital taker's, the debt-auction bidder's, ...) is the
built-in's for its own vault count (its file's or the schema's default), times the CSV's count
over it: at the built-in's count the two runs have the same keepers, and --vaults then sizes both by
the same rule. What a bare CSV does not take from the built-in day: its pool (no reserves file:
the keepers' pool is a share of the venue's, market.py), its stablecoin's price and venue share
(data of that day's files), its vaults, seed and protocol overrides.

`ape run simulate --lineup defaults` gives a bare CSV the schema's defaults instead (a flash
taker, a 2M arbitrageur, no block limit): the lab before this lineup.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, Decimal, localcontext
from pathlib import Path
from typing import Any

from offchain.model.fixed_point import WAD
from offchain.sim.market.blockspace import GasLimit, gas_limit_on
from offchain.sim.market.calibration import setting
from offchain.sim.scenario.ceilings import SIZED_KEEPER_KEYS
from offchain.sim.scenario.market_data import DataError, load_candles
from offchain.sim.scenario.reader import BUILTIN_DIR
from offchain.sim.scenario.types import Scenario
from offchain.system.schema import KEEPERS, VAULTS, Kind

__all__ = [
    "BUILTIN_DAYS",
    "LINEUPS",
    "DayLineup",
    "day_lineup",
    "first_lines",
    "nearest_year",
]

# the built-in day of each year the calibration sources
BUILTIN_DAYS = {2020: "black-thursday-2020", 2021: "may-2021"}
# the calibration's entries per year: the capital taker's resale delay [hours] and block space
RESALE_HOURS = {2020: "keepers_2020.resale_hours", 2021: "keepers_2021.capital_resale_hours"}
BLOCK = {2020: "block_2020", 2021: "block_2021"}
# --lineup: the built-in day's (the default for a bare CSV), or the schema's defaults
LINEUPS = ("day", "defaults")


def nearest_year(year: int) -> int:
    """The year of BUILTIN_DAYS nearest `year` (the earlier on a tie)."""
    return min(BUILTIN_DAYS, key=lambda y: (abs(y - year), y))


@dataclass(frozen=True)
class DayLineup:
    """What a bare CSV takes from the built-in day of its year (module docstring): `tables` the
    keys as a scenario file writes them ({"keepers": ..., "market": ...}); what the first lines
    say of them."""

    day: date  # the price file's first bar (UTC)
    year: int  # the calibrated year nearest `day`'s
    builtin: str  # the built-in day of `year`
    builtin_count: int  # the built-in's own vault count
    builtin_keepers: dict[str, Any]  # the built-in's [keepers] table, as its file writes it
    gas_limit: GasLimit
    tables: dict[str, dict[str, Any]]


def _builtin(name: str) -> dict[str, Any]:
    with (BUILTIN_DIR / f"{name}.toml").open("rb") as f:
        return tomllib.load(f)


def _number(text: Any) -> Decimal:
    return Decimal(str(text).replace("_", ""))


def _sized(value: Any, count: int, builtin_count: int, integer: bool) -> str | int:
    """The built-in's `value` for its `builtin_count` vaults times `count` over it, rounded up
    (to a whole number where the key is one, else to a wei)."""
    with localcontext() as ctx:
        ctx.prec = 80
        x = _number(value) * count / builtin_count
        if integer:
            return int(x.to_integral_value(rounding=ROUND_CEILING))
        return format(x.quantize(Decimal(1) / WAD, rounding=ROUND_CEILING).normalize(), "f")


def _has_venue(prices: Path) -> bool:
    """Whether the price file has the venue's columns with some volume (market.py opens the
    market on them): only then does a resale delay apply."""
    try:
        candles = load_candles(prices)
    except DataError:
        return False
    return any(candles.columns["volume_eth"])


def day_lineup(prices: Path, first_time: int, count: int) -> DayLineup:
    """The lineup of the built-in day nearest the price file `prices`, whose first bar is at
    `first_time` [unix s], for a population of `count` vaults (module docstring)."""
    day = datetime.fromtimestamp(first_time, tz=UTC).date()
    year = nearest_year(day.year)
    name = BUILTIN_DAYS[year]
    builtin = _builtin(name)
    builtin_count = int(builtin.get("vaults", {}).get("count", VAULTS.defaults()["count"]))
    keepers_table = dict(builtin.get("keepers", {}))
    keepers = dict(keepers_table)
    for key in SIZED_KEEPER_KEYS:  # the built-in's own (its file's, or the schema's default)
        value = keepers_table.get(key, KEEPERS[key].default)
        keepers[key] = _sized(value, count, builtin_count, KEEPERS[key].kind is Kind.INTEGER)
    limit = gas_limit_on(day)
    block = BLOCK[year]
    market: dict[str, Any] = {
        "block_gas_limit": limit.gas_limit,
        "block_time": str(setting(f"{block}.block_time").value),
        "competing_gas_share": str(setting(f"{block}.competing_gas_share").value),
    }
    if _has_venue(prices):
        market["resale_delay"] = int(setting(RESALE_HOURS[year]).value * 3600)
    return DayLineup(
        day, year, name, builtin_count, keepers_table, limit, {"keepers": keepers, "market": market}
    )


def _amount(wad: int) -> str:
    return f"{wad / WAD:,.0f}"


def lineup_lines(lineup: DayLineup, scenario: Scenario) -> tuple[str, ...]:
    """The run's first lines for a bare CSV with the day's lineup: the keepers it runs and the
    block space it has, as the final scenario holds them (a sweep's override shows as set)."""
    k, m = scenario.keepers, scenario.market
    nearest = "" if lineup.year == lineup.day.year else " (the nearest year with a built-in day)"
    actors = []
    if k.taker_mode in ("flash", "both"):
        actors.append("a flash taker (it sells into the keepers' pool)")
    if k.taker_mode in ("capital", "both"):
        sized = ""
        if "taker_capital" in lineup.builtin_keepers:
            builtin = _number(lineup.builtin_keepers["taker_capital"])
            sized = (
                f" ({lineup.builtin}'s {builtin:,.0f} for its {lineup.builtin_count:,} vaults, "
                "sized to this book by the lab's rule)"
            )
        actors.append(f"a capital taker with {_amount(k.taker_capital)}{sized}")
    else:
        actors.append(f"no capital taker ({lineup.builtin} has none)")
    actors.append(
        f"the arbitrageur with {_amount(k.arbitrageur_capital)} (half stablecoin, half "
        f"collateral), trading when the pool is over {k.arbitrage_threshold / WAD:.2%} off the "
        "market"
    )
    resale = ""
    if m.outside == "open":
        entry = setting(RESALE_HOURS[lineup.year])
        whose = (
            "what the capital taker bought and the arbitrageur's trades go"
            if k.taker_mode in ("capital", "both")
            else "the arbitrageur's trades go"
        )
        source = ", ".join(dict.fromkeys((entry["source_id"], entry["kind"])))
        resale = (
            f"; {whose} back to the venue after {m.resale_delay / 3600:g} h "
            f"({RESALE_HOURS[lineup.year]}: {source})"
        )
    lines = [
        f"lineup: this price file starts on {lineup.day}; it gets the keepers of {lineup.builtin}, "
        f"the built-in day of {lineup.year}{nearest}: "
        + ", ".join(actors)
        + f"; takes at a profit of at least {_amount(k.take_min_profit)}"
        + resale
        + " (--lineup defaults: the schema's instead)"
    ]
    space = m.blockspace
    if space is None:
        lines.append(
            "block space: no block limit (an override removed the day's); the history gives "
            f"{lineup.gas_limit.why}"
        )
    else:
        block = BLOCK[lineup.year]
        nearest_block = "" if lineup.year == lineup.day.year else ", the nearest year it gives"
        source = "" if space.gas_limit == lineup.gas_limit.gas_limit else " (set by an override)"
        lines.append(
            f"block space: {space.gas_limit:,} gas a block{source}; the history gives "
            f"{lineup.gas_limit.why}; {space.block_time} s a block and other traffic's share "
            f"{space.competing} of its gas: the calibration's for {lineup.year} ({block}"
            f"{nearest_block})"
        )
    return tuple(lines)


def first_lines(scenario: Scenario) -> list[str]:
    """What the lab chose for a run that its scenario did not say (the run's first lines): a
    bare CSV's lineup and block space, and the keepers' pool where no depth was given."""
    pool = scenario.market.pool_note
    return [*scenario.lineup_lines, *([pool] if pool else [])]
