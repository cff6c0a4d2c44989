"""Keeper capital calibrated on Black Thursday and checked on 2021-05-19 (offchain/history/
capital.py; models of MakerDAO's mechanisms, not Backstop's): the interval is the grid's capitals
within both bands, the day file reads the calibration file's value and ends, and those put the
flip model within both bands; the check and the 2021 capital follow the rule fixed before it."""

from __future__ import annotations

import pytest

from offchain.history import capital
from offchain.history.capital import CalibrationRow, Check
from offchain.history.days import day
from offchain.history.days.settings import values
from offchain.history.replay import flip
from offchain.sim.market.calibration import setting

BT = day("black-thursday-2020")


def _row(c: int, *within: bool) -> CalibrationRow:
    return CalibrationRow(3, c, (0.3, 0.05), tuple(within))


def test_interval__the_lowest_and_highest_fitting__a_miss_inside_named():
    rows = [
        _row(1, False, False),
        _row(2, True, True),
        _row(3, False, True),
        _row(4, True, True),
        _row(5, True, False),
    ]
    assert capital.interval(rows) == (2, 4)
    assert [r.capital for r in capital.misses_inside(rows)] == [3]
    assert capital.interval([_row(1, False, True)]) is None
    assert capital.misses_inside([_row(1, True, False)]) == []


def test_day_file__reads_the_calibration__value_inside_its_interval():
    entry = setting(capital.CAPITAL_2020)
    assert entry["kind"] == "calibrated"
    v = values(BT.SETTINGS)
    low, high = entry.sensitivity
    assert v.bidder_capital == entry.value and low <= v.bidder_capital <= high
    assert BT.SETTINGS["bidder_capital"].alternatives == (low, high)
    assert capital.committed() == (entry.value, low, high)
    assert {low, high, entry.value} <= set(capital.GRID_2020)


def test_tasks__the_grid_at_the_day_s_count__the_check_at_the_calibrated_totals():
    tasks = capital.calibration_tasks({"outside": "closed"})
    assert [t[2] for t in tasks] == [("capital", 3, c) for c in capital.GRID_2020]
    assert all(t[3] == {"outside": "closed", "bidder_capital": t[2][2]} for t in tasks)
    _, low, high = capital.committed()
    checks = capital.check_tasks()
    assert [t[1:3] for t in checks] == [("may-2021", ("check", 3 * low)),
                                        ("may-2021", ("check", 3 * high))]  # fmt: skip
    assert [t[3] for t in checks] == [{"taker_capital": 3 * low}, {"taker_capital": 3 * high}]
    split = capital.split_tasks(12_000_000)
    assert [t[3] for t in split] == [
        {"bidders": 1, "bidder_capital": 12_000_000},
        {"bidders": 6, "bidder_capital": 2_000_000},
    ]


def test_capital_2021__k4_and_the_calibrated_totals_only_where_the_check_holds():
    same = Check(20_000_000, ("B1", "B3"), {9: ("B1", "B3"), 17: ("B1", "B3")})
    assert same.holds and capital.capital_2021(same) == (9, 17, 20_000_000)
    differs = Check(20_000_000, ("B1", "B3"), {9: ("B1",), 17: ("B1", "B3")})
    assert not differs.holds and capital.capital_2021(differs) == (20_000_000,)


@pytest.mark.slow
@pytest.mark.parametrize("which", [0, 1, 2])
def test_calibrated_capital__the_file_s_value_and_ends__both_bands_within(which):
    """Three runs of the whole day (about 20 s each): the value and each end of the committed
    interval put the zero-bid share and the deficit within their bands."""
    c = capital.committed()[which]
    r = flip.run(BT, {"bidder_capital": c})
    debt = values(BT.SETTINGS).eve_debt
    assert all(b.within(b.of(r, debt)) for b in BT.BANDS), [b.of(r, debt) for b in BT.BANDS]
