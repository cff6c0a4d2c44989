"""Market inputs of crash replays (offchain/sim/scenario/market_data.py): the shared CSVs load
exactly, every kind of bad input gives one line naming the file, the line and the problem, and
synthetic paths are reproducible per seed. Pure Python: no chain involved."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from offchain.model.fixed_point import WAD
from offchain.sim.scenario.market_data import (
    MAX_ROW_PROBLEMS,
    DataError,
    SyntheticPath,
    load_gas,
    load_prices,
    load_reserves,
)

MARKET = Path(__file__).resolve().parents[2] / "data" / "market"


def test_load_prices__black_thursday__144_bars_exact_wad():
    prices = load_prices(MARKET / "eth_usd_2020-03-12.csv")
    assert len(prices) == 144
    assert prices.times[1] - prices.times[0] == 600
    assert prices.columns["close"][0] == 19452 * WAD // 100  # 194.52, exactly
    # the crash: the day's lowest close is far below its first
    assert min(prices.columns["close"]) < prices.columns["close"][0] * 6 // 10


def test_load_gas_and_reserves__shared_files__load():
    gas = load_gas(MARKET / "gas_2020-03-12.csv")
    assert gas.columns["p90_gwei"][0] == 30 * 10**9
    reserves = load_reserves(MARKET / "uniswap_eth_dai_reserves_2021-05-19.csv")
    assert reserves.columns["dai_reserve"][0] == Decimal("67923883.6628") * WAD


def test_series_at__steps_and_clamps():
    prices = load_prices(MARKET / "eth_usd_2020-03-12.csv")
    t0, t1 = prices.times[0], prices.times[1]
    closes = prices.columns["close"]
    assert prices.at("close", t0) == closes[0]
    assert prices.at("close", t1 - 1) == closes[0]
    assert prices.at("close", t1) == closes[1]
    assert prices.at("close", t0 - 5) == closes[0]
    assert prices.at("close", prices.times[-1] + 10**6) == closes[-1]


HEADER = "time_utc,open,close\n"


@pytest.mark.parametrize(
    "content, problem",
    [
        ("", "empty file"),
        ("time_utc,open\n2020-03-12T00:00:00Z,1\n", "missing column close"),
        ("open,high\n1,2\n", "missing columns time_utc, close"),
        (HEADER + "2020-03-12T00:00:00Z,1,\n2020-03-12T00:10:00Z,1,2\n", ":2: close is empty"),
        (HEADER + "2020-03-12T00:00:00Z,1,NaN\n2020-03-12T00:10:00Z,1,2\n", ":2: close is NaN"),
        (HEADER + "2020-03-12T00:00:00Z,1,inf\n2020-03-12T00:10:00Z,1,2\n", ":2: close is inf"),
        (
            HEADER + "2020-03-12T00:00:00Z,1,abc\n2020-03-12T00:10:00Z,1,2\n",
            ":2: close 'abc' is not a number",
        ),
        (
            HEADER + "2020-03-12T00:00:00Z,1,0\n2020-03-12T00:10:00Z,1,2\n",
            ":2: close must be positive, got 0",
        ),
        (
            HEADER + "2020-03-12T00:00:00Z,1,-3\n2020-03-12T00:10:00Z,1,2\n",
            ":2: close must be positive, got -3",
        ),
        (
            HEADER + "2020-03-12T00:10:00Z,1,2\n2020-03-12T00:00:00Z,1,2\n",
            ":3: time 2020-03-12T00:00:00Z is not after",
        ),
        (
            HEADER + "2020-03-12T00:10:00Z,1,2\n2020-03-12T00:10:00Z,1,2\n",
            ":3: time 2020-03-12T00:10:00Z is not after",
        ),
        (
            HEADER + "yesterday,1,2\n2020-03-12T00:10:00Z,1,2\n",
            ":2: time_utc 'yesterday' is not an ISO 8601 time",
        ),
        (HEADER + "2020-03-12T00:00:00Z,1\n", ":2: 2 fields, the header has 3"),
        (
            HEADER + "2020-03-12T00:00:00Z,1,1e400\n2020-03-12T00:10:00Z,1,2\n",
            ":2: close 1e400 is outside 0.000001 to 1,000,000,000,000",
        ),
        (
            HEADER + "2020-03-12T00:00:00Z,1,1e-21\n2020-03-12T00:10:00Z,1,2\n",
            ":2: close 1e-21 is outside 0.000001 to 1,000,000,000,000",
        ),
        (HEADER + "2020-03-12T00:00:00Z,1,2\n", "needs at least 2 rows of data, has 1"),
    ],
)
def test_load_prices__bad_csv__one_line_naming_the_problem(tmp_path, content, problem):
    path = tmp_path / "prices.csv"
    path.write_text(content)
    with pytest.raises(DataError) as exc:
        load_prices(path)
    message = str(exc.value)
    assert problem in message, message
    assert str(path) in message and "\n" not in message


def test_load_prices__two_bad_rows__both_named__one_line_each(tmp_path):
    """Issue 47: a CSV with two bad rows named only the first; each bad row is named, one line
    each (the CLI prints each line after the command's name), at most MAX_ROW_PROBLEMS and then
    a count of the rest."""
    path = tmp_path / "prices.csv"
    good = "2020-03-12T00:20:00Z,1,2\n2020-03-12T00:30:00Z,1,2\n"
    path.write_text(HEADER + "2020-03-12T00:00:00Z,1,nan\n2020-03-12T00:10:00Z,1,-1\n" + good)
    with pytest.raises(DataError) as exc:
        load_prices(path)
    assert str(exc.value).splitlines() == [
        f"{path}:2: close is nan (not a finite number)",
        f"{path}:3: close must be positive, got -1",
    ]
    rows = "".join(f"2020-03-12T{h:02d}:00:00Z,1,0\n" for h in range(MAX_ROW_PROBLEMS + 2))
    path.write_text(HEADER + rows)
    with pytest.raises(DataError) as exc:
        load_prices(path)
    lines = str(exc.value).splitlines()
    assert len(lines) == MAX_ROW_PROBLEMS + 1 and lines[-1] == f"{path}: and 2 more bad rows"


def test_load_prices__bytes_that_are_not_text__one_line(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_bytes(bytes(range(128, 256)) * 4)
    with pytest.raises(DataError) as exc:
        load_prices(path)
    message = str(exc.value)
    assert "not a UTF-8 text file (byte 0x80 at offset 0)" in message and "\n" not in message


def test_load_prices__a_spreadsheets_byte_order_mark__read_as_without(tmp_path):
    """Excel's "CSV UTF-8" starts with a byte-order mark: `time_utc` must still be found (it was
    reported missing, with an invisible character before it)."""
    text = HEADER + "2020-03-12T00:00:00Z,1,190.5\r\n2020-03-12T00:10:00Z,1,180\r\n"
    plain, marked = tmp_path / "plain.csv", tmp_path / "marked.csv"
    plain.write_text(text)
    marked.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_prices(marked).columns == load_prices(plain).columns
    assert load_prices(marked).times == load_prices(plain).times


def test_load_reserves_and_gas__beyond_their_bounds__rejected(tmp_path):
    path = tmp_path / "reserves.csv"
    path.write_text(
        "time_utc,dai_reserve,weth_reserve\n2020-03-12T00:00:00Z,1e400,1\n"
        "2020-03-12T00:10:00Z,1,1\n"
    )
    with pytest.raises(DataError, match=r":2: dai_reserve 1e400 is outside"):
        load_reserves(path)
    path.write_text(
        "time_utc,p30_gwei,p60_gwei,p90_gwei\n2020-03-12T00:00:00Z,0,0,1e400\n"
        "2020-03-12T00:10:00Z,1,2,3\n"
    )
    with pytest.raises(DataError, match=r":2: p90_gwei 1e400 is outside 0 to 100,000"):
        load_gas(path)


def test_load_prices__missing_file__names_it(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: cannot read \(No such file or directory\)"):
        load_prices(tmp_path / "nope.csv")


def test_load_gas__negative__rejected_zero_allowed(tmp_path):
    path = tmp_path / "gas.csv"
    path.write_text(
        "time_utc,p30_gwei,p60_gwei,p90_gwei\n2020-03-12T00:00:00Z,0,0,0\n"
        "2020-03-12T00:10:00Z,1,2,-3\n"
    )
    with pytest.raises(DataError, match=r":3: p90_gwei must not be negative, got -3"):
        load_gas(path)
    path.write_text(
        "time_utc,p30_gwei,p60_gwei,p90_gwei\n2020-03-12T00:00:00Z,0,0,0\n"
        "2020-03-12T00:10:00Z,1,2,3.5\n"
    )
    assert load_gas(path).columns["p90_gwei"] == (0, 3_500_000_000)


def test_synthetic_path__same_seed_same_path__different_seed_differs():
    path = SyntheticPath(Decimal(2000), steps=288)
    a, b, c = path.generate(7), path.generate(7), path.generate(8)
    assert a == b
    assert a.columns["close"] != c.columns["close"]
    assert a.columns["close"][0] == 2000 * WAD
    assert len(a) == 288 and a.times[1] - a.times[0] == 600
    assert all(p >= 1 for p in a.columns["close"])


def test_synthetic_path__jumps_pull_the_price_down():
    """With frequent negative jumps and no diffusion, the path falls by about the jumps' sum."""
    path = SyntheticPath(
        Decimal(1000), steps=145, volatility=0.0, jumps_per_day=24.0, jump_mean=-0.05, jump_std=0.0
    )
    closes = path.generate(1).columns["close"]
    assert all(later <= earlier for earlier, later in zip(closes, closes[1:]))
    assert closes[-1] < closes[0] // 2


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        ({"start_price": Decimal(0)}, "start_price must be positive"),
        (
            {"start_price": Decimal("1e400")},
            "start_price must be from 0.000001 to 1,000,000,000,000",
        ),
        ({"start_price": Decimal("1e-21")}, "start_price must be from 0.000001"),
        ({"steps": 1}, "steps must be at least 2"),
        ({"step_seconds": 0}, "step_seconds must be at least 1"),
        ({"volatility": -1.0}, "volatility must be finite and >= 0"),
        ({"volatility": float("nan")}, "volatility must be finite and >= 0"),
        ({"jumps_per_day": -1.0}, "jumps_per_day must be finite and >= 0"),
        ({"jump_std": -0.1}, "jump_std must be >= 0"),
    ],
)
def test_synthetic_path__impossible_parameters__one_line(kwargs, problem):
    args = {"start_price": Decimal(1000), "steps": 10} | kwargs
    with pytest.raises(DataError, match=f"synthetic path: {problem}"):
        SyntheticPath(**args)
