"""Market inputs of a crash replay: price paths (historical CSV or seeded synthetic), gas prices
and pool reserves, validated at the edge.

Every CSV mistake is one `DataError` line naming the file, the line and the problem: a file that
is not UTF-8 text, a missing file or column, an empty or unparseable cell, NaN or infinity, a
price outside [MIN_PRICE, MAX_PRICE], times that are not strictly increasing, a price row that is
not one bar after the row before it (a gap, or a row between two bars). A UTF-8 byte-order
mark (as a spreadsheet's CSV export writes) is skipped. Prices become integers (wad) here,
once, by exact decimal scaling; nothing downstream sees a float.

CSV columns (the files in ../shared/data/market/ have them):
- prices: `time_utc` (ISO 8601, e.g. 2020-03-12T00:10:00Z) and `close` (stablecoin per unit);
  other columns are ignored;
- gas: `time_utc`, `p30_gwei`, `p60_gwei`, `p90_gwei` (>= 0);
- reserves: `time_utc`, `dai_reserve`, `weth_reserve` (> 0).
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation, localcontext
from pathlib import Path

from offchain.model.fixed_point import WAD
from offchain.system.schema import MAX_PRICE, MIN_PRICE, SYNTHETIC

# gas prices and pool reserves a replay accepts (as the scenario's `gas_gwei` is bounded)
MAX_GAS_GWEI = Decimal(100_000)
RESERVE_BOUNDS = (Decimal("0.000001"), Decimal(10**15))


class DataError(ValueError):
    """A market-data mistake; the message is one line naming the file, the line and the problem."""


class MissingColumns(DataError):
    """A CSV without a column asked for (a price file without the venue's columns is a closed
    market's, not a mistake: sim/scenario/market.py tells the two apart by this)."""


@dataclass(frozen=True)
class Series:
    """Values at strictly increasing times (unix seconds); values are integers in the unit the
    loader states (wad for prices and reserves, gwei x 1e9 = wei for gas)."""

    source: str
    times: tuple[int, ...]
    columns: dict[str, tuple[int, ...]]

    def __len__(self) -> int:
        return len(self.times)

    def at(self, column: str, time: int) -> int:
        """The last value at or before `time` (the first one before the series starts)."""
        values = self.columns[column]
        lo, hi = 0, len(self.times)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.times[mid] <= time:
                lo = mid + 1
            else:
                hi = mid
        return values[max(lo - 1, 0)]


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of `path` (a byte-order mark dropped); a DataError naming the file when it
    cannot be read or is not UTF-8 text (`what` ends that line: "a price CSV is text")."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not a UTF-8 text file (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start}); {what}"
        ) from None


def _parse_time(text: str, where: str) -> int:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DataError(f"{where}: time_utc {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _parse_number(
    text: str, column: str, where: str, unit: int, positive: bool, bounds: tuple | None = None
) -> int:
    raw = (text or "").strip()
    if not raw:
        raise DataError(f"{where}: {column} is empty")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise DataError(f"{where}: {column} {raw!r} is not a number") from None
    if not number.is_finite():
        raise DataError(f"{where}: {column} is {raw} (not a finite number)")
    if positive and number <= 0:
        raise DataError(f"{where}: {column} must be positive, got {raw}")
    if number < 0:
        raise DataError(f"{where}: {column} must not be negative, got {raw}")
    if bounds is not None and not bounds[0] <= number <= bounds[1]:
        raise DataError(
            f"{where}: {column} {raw} is outside {_plain(bounds[0])} to {_plain(bounds[1])}"
        )
    return int((number * unit).to_integral_value(rounding=ROUND_DOWN))


def _plain(number: Decimal) -> str:
    return f"{number:,f}".rstrip("0").rstrip(".") if "." in f"{number:f}" else f"{number:,f}"


# a CSV's bad rows named in one refusal, at most this many (then a count of the rest)
MAX_ROW_PROBLEMS = 10


def _parse_row(
    row: list[str],
    header: list[str],
    index: dict[str, int],
    columns: tuple[str, ...],
    where: str,
    unit: int,
    positive: bool,
    bounds: tuple[Decimal, Decimal] | None,
    previous: int | None,
    ordered: bool = False,
) -> tuple[int, dict[str, int]]:
    """One data row's time and values; DataError naming the row's first problem. A row is
    compared with the last good row before it (`previous`)."""
    if len(row) < len(header):
        raise DataError(f"{where}: {len(row)} fields, the header has {len(header)}")
    if any(cell.strip() for cell in row[len(header) :]):  # (a trailing empty one is a comma)
        # a value the header does not name: a row shifted or merged, taken in silence before
        raise DataError(f"{where}: {len(row)} fields, the header has {len(header)}")
    moment = _parse_time(row[index["time_utc"]], where)
    if previous is not None and moment <= previous:
        raise DataError(
            f"{where}: time {row[index['time_utc']].strip()} is not after the previous row's"
        )
    parsed = {c: _parse_number(row[index[c]], c, where, unit, positive, bounds) for c in columns}
    for low, high in zip(columns, columns[1:]) if ordered else ():
        if parsed[low] > parsed[high]:  # (a p30 above the p60 was taken as given)
            raise DataError(
                f"{where}: {low} {row[index[low]].strip()} is above {high} "
                f"{row[index[high]].strip()} (percentiles rise)"
            )
    return moment, parsed


def load_series(
    path: str | Path,
    columns: tuple[str, ...],
    unit: int,
    positive: bool,
    bounds: tuple[Decimal, Decimal] | None = None,
    ordered: bool = False,
    regular: bool = False,
) -> Series:
    """Read `time_utc` and `columns` from a CSV, validated (see the module docstring); each value
    within `bounds` if given; with `regular`, every row one bar after the row before it (a price
    path: `_gaps`)."""
    path = Path(path)
    text = read_text(path, "a price CSV is text")
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise DataError(
            f"{path}: empty file (expected a header with time_utc, {', '.join(columns)})"
        )
    header = [cell.strip() for cell in rows[0]]
    twice = sorted({c for c in header if c and header.count(c) > 1})
    if twice:  # (the first was read, the second ignored)
        raise DataError(f"{path}: column {twice[0]} named twice in the header")
    missing = [c for c in ("time_utc",) + columns if c not in header]
    if missing:
        raise MissingColumns(
            f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(has {', '.join(header)})"
        )
    index = {c: header.index(c) for c in ("time_utc",) + columns}
    times: list[int] = []
    lines: list[int] = []  # each good row's line in the file
    values: dict[str, list[int]] = {c: [] for c in columns}
    problems: list[str] = []  # every bad row is named (at most MAX_ROW_PROBLEMS of them)
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        try:
            moment, parsed = _parse_row(
                row,
                header,
                index,
                columns,
                f"{path}:{number}",
                unit,
                positive,
                bounds,
                times[-1] if times else None,
                ordered,
            )
        except DataError as exc:
            problems.append(str(exc))
            continue
        times.append(moment)
        lines.append(number)
        for c in columns:
            values[c].append(parsed[c])
    if problems:
        more = len(problems) - MAX_ROW_PROBLEMS
        shown = problems[:MAX_ROW_PROBLEMS]
        raise DataError(
            "\n".join(shown + ([f"{path}: and {more:,} more bad rows"] if more > 0 else []))
        )
    if len(times) < 2:
        raise DataError(f"{path}: needs at least 2 rows of data, has {len(times)}")
    if regular:
        problems = _gaps(path, times, lines)
        if problems:
            raise DataError("\n".join(problems))
    return Series(str(path), tuple(times), {c: tuple(v) for c, v in values.items()})


def duration(seconds: int) -> str:
    """`seconds` in words: "30 s", "10 minutes", "1 hour 7 minutes", "2 days"."""
    if seconds < 60 or seconds % 60:
        return f"{seconds:,} s"
    minutes = seconds // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    return " ".join(f"{n:,} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n)


def _gaps(path: Path, times: list[int], lines: list[int]) -> list[str]:
    """One line per row that is not one bar after the row before it, at most MAX_ROW_PROBLEMS
    (then a count of the rest). A price file's bar is its most common step (the first of equal
    counts): every row is one bar of the replay, so a gap of 67 minutes in a file of 10-minute
    bars was replayed as one 10-minute bar, its crash compressed, and said nowhere."""
    steps = [b - a for a, b in zip(times, times[1:])]
    bar = max(dict.fromkeys(steps), key=steps.count)
    odd = [i for i, step in enumerate(steps, start=1) if step != bar]
    problems = [
        f"{path}:{lines[i]}: {duration(times[i] - times[i - 1])} after the previous row (line "
        f"{lines[i - 1]}), but the file's bar is {duration(bar)} ({steps.count(bar):,} of its "
        f"{len(steps):,} steps): every row is one bar; give a row every {duration(bar)} (fill a "
        "gap by repeating the last close, if that is what happened)"
        for i in odd[:MAX_ROW_PROBLEMS]
    ]
    more = len(odd) - MAX_ROW_PROBLEMS
    return problems + ([f"{path}: and {more:,} more rows off the bar"] if more > 0 else [])


def load_prices(path: str | Path) -> Series:
    """A price path: column `close`, stablecoin per collateral unit, as wad."""
    return load_series(
        path, ("close",), WAD, positive=True, bounds=(MIN_PRICE, MAX_PRICE), regular=True
    )


# the price file's columns the outside venue reads (sim/market/venue.py): a bar's range and the
# volume traded in it
VENUE_COLUMNS = ("high", "low", "volume_eth")


def load_candles(path: str | Path) -> Series:
    """The outside venue's data from a price CSV: `high` and `low` (wad prices, within the price
    bounds, the low at most the high) and `volume_eth` (tokens traded in the bar [wad], >= 0)."""
    series = load_series(
        path, VENUE_COLUMNS, WAD, positive=False, bounds=(Decimal(0), Decimal(10**15))
    )
    low_bound, high_bound = MIN_PRICE * WAD, MAX_PRICE * WAD
    for i, (high, low) in enumerate(zip(series.columns["high"], series.columns["low"])):
        when = datetime.fromtimestamp(series.times[i], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for name, value in (("high", high), ("low", low)):
            if not low_bound <= value <= high_bound:
                raise DataError(
                    f"{path}: the row of {when}: {name} is outside {_plain(MIN_PRICE)} to "
                    f"{_plain(MAX_PRICE)}"
                )
        if low > high:
            raise DataError(f"{path}: the row of {when} has its low above its high")
    return series


def load_stable_prices(path: str | Path) -> Series:
    """The stablecoin's price in dollars through a day: column `price` (wad, positive)."""
    return load_series(path, ("price",), WAD, positive=True, bounds=(MIN_PRICE, Decimal(100)))


def load_gas(path: str | Path) -> Series:
    """Gas prices: p30 / p60 / p90 in gwei, as wei."""
    return load_series(
        path,
        ("p30_gwei", "p60_gwei", "p90_gwei"),
        10**9,
        positive=False,
        bounds=(Decimal(0), MAX_GAS_GWEI),
        ordered=True,  # p30 <= p60 <= p90
    )


def load_reserves(path: str | Path) -> Series:
    """Pool reserves (stablecoin and collateral sides), as wad."""
    return load_series(
        path, ("dai_reserve", "weth_reserve"), WAD, positive=True, bounds=RESERVE_BOUNDS
    )


def wad_price(log_price: float) -> int:
    """exp(`log_price`) as a wad price, quantized to 18 decimals; never 0 (one wei at least: an
    oracle refuses zero). 80 digits so that quantizing never overflows the precision (prices up
    to MAX_PRICE)."""
    with localcontext() as ctx:
        ctx.prec = 80
        return max(1, int(Decimal(math.exp(log_price)).quantize(Decimal(1) / WAD) * WAD))


@dataclass(frozen=True)
class SyntheticPath:
    """Geometric Brownian motion with Poisson jumps (Merton), per step of `step_seconds`.
    Annualized `drift` and `volatility`; `jumps_per_day` with log-size ~ N(jump_mean, jump_std)."""

    start_price: Decimal
    steps: int
    # the defaults of a scenario's [market.synthetic] (the parameter schema's)
    step_seconds: int = SYNTHETIC["step_seconds"].default
    drift: float = float(SYNTHETIC["drift"].default)
    volatility: float = float(SYNTHETIC["volatility"].default)
    jumps_per_day: float = float(SYNTHETIC["jumps_per_day"].default)
    jump_mean: float = float(SYNTHETIC["jump_mean"].default)
    jump_std: float = float(SYNTHETIC["jump_std"].default)
    start_time: int = SYNTHETIC["start_time"].default

    def __post_init__(self) -> None:
        problems = []
        if self.start_price <= 0:
            problems.append(f"start_price must be positive, got {self.start_price}")
        elif not MIN_PRICE <= self.start_price <= MAX_PRICE:
            problems.append(
                f"start_price must be from {_plain(MIN_PRICE)} to {_plain(MAX_PRICE)}, got "
                f"{self.start_price}"
            )
        if self.steps < 2:
            problems.append(f"steps must be at least 2, got {self.steps}")
        if self.step_seconds < 1:
            problems.append(f"step_seconds must be at least 1, got {self.step_seconds}")
        if not (math.isfinite(self.volatility) and self.volatility >= 0):
            problems.append(f"volatility must be finite and >= 0, got {self.volatility}")
        if not (math.isfinite(self.jumps_per_day) and self.jumps_per_day >= 0):
            problems.append(f"jumps_per_day must be finite and >= 0, got {self.jumps_per_day}")
        for name in ("drift", "jump_mean", "jump_std"):
            if not math.isfinite(getattr(self, name)):
                problems.append(f"{name} must be finite, got {getattr(self, name)}")
        if self.jump_std < 0:
            problems.append(f"jump_std must be >= 0, got {self.jump_std}")
        if problems:
            raise DataError(f"synthetic path: {problems[0]}")

    def generate(self, seed: int) -> Series:
        """The path for `seed`: the same seed gives the same path, to the wei."""
        rng = random.Random(seed)
        dt = self.step_seconds / (365 * 86400)
        jump_p = 1 - math.exp(-self.jumps_per_day * self.step_seconds / 86400)
        log_price = math.log(float(self.start_price))
        prices = [int(self.start_price * WAD)]
        for _ in range(self.steps - 1):
            log_price += (self.drift - self.volatility**2 / 2) * dt + self.volatility * math.sqrt(
                dt
            ) * rng.gauss(0, 1)
            if rng.random() < jump_p:
                log_price += rng.gauss(self.jump_mean, self.jump_std)
            if log_price > math.log(MAX_PRICE):
                raise DataError(
                    f"synthetic path: the price exceeds {_plain(MAX_PRICE)} at seed {seed}; "
                    "lower drift or volatility"
                )
            if log_price < math.log(MIN_PRICE):
                raise DataError(
                    f"synthetic path: the price falls below {_plain(MIN_PRICE)} at seed {seed}; "
                    "raise drift or lower volatility or the jumps"
                )
            prices.append(wad_price(log_price))
        times = tuple(self.start_time + i * self.step_seconds for i in range(self.steps))
        return Series(f"synthetic(seed={seed})", times, {"close": tuple(prices)})
