"""The ceiling curve (offchain/bench/ceiling.py, `ape run bench --ceiling-only`): how the
largest book under the share is found on a curve, what the calibration's rows are, how the
runs are asked for and kept, the picture; and timing.py's `--set` and book fields, on real
runs."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from offchain.bench import figures
from offchain.bench.ceiling import (
    CALIBRATION,
    CENTRAL,
    Row,
    calibration_rows,
    ceiling,
    ceiling_figures,
    ceiling_line,
    file_capital,
    point_jobs,
)
from offchain.bench.ceiling_plot import ceiling_plot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _runs_kept_apart(tmp_path, monkeypatch):
    """timed_run keeps its runs in tmp_path here, not in the checkout's .cache."""
    monkeypatch.setattr(figures, "RUNS_CACHE", tmp_path / "runs")
    monkeypatch.setattr(figures, "_runs_file", None)
    monkeypatch.setattr(figures, "_RUNS", {})


def _p(vaults: int, worst: float, debt: float | None = None) -> dict:
    return {"vaults": vaults, "debt": debt or vaults * 10_000.0, "worst": worst,
            "median": worst / 2, "auction_cap_by_type": {"ETH-A": vaults * 2_000},
            "debt_ceiling_by_type": {"ETH-A": vaults * 30_000},
            "max_debt_in_auction": vaults * 4_000}  # fmt: skip


def test_ceiling__the_largest_book_under_with_every_smaller__never_past_a_book_over():
    curve = [_p(100, 0.0), _p(1_000, 0.004), _p(10_000, 0.02), _p(100_000, 0.005)]
    found = ceiling(curve, 0.01)
    # 100k is under again, but 10k is over: the search ends at 1k
    assert found["ceiling"]["vaults"] == 1_000 and found["first_over"]["vaults"] == 10_000
    # the crossing, in log debt: 0.004 -> 0.02 over 10M -> 100M reaches 0.01 at 10 ** 7.375
    assert found["crossing"] == pytest.approx(10 ** (7 + (0.006 / 0.016)))
    assert found["below"] is None
    line = ceiling_line("day", found, 0.01)
    assert line.startswith("day: a book of 10,000,000 (1,000 vaults; worst phase 0.40%")
    assert "auction caps ETH-A 2,000,000" in line and "(10,000 vaults, 100,000,000)" in line
    assert "crossing, interpolated, near 23,713,737" in line


def test_ceiling__over_at_the_smallest_book__and_under_at_every_book():
    over = ceiling([_p(100, 0.011), _p(1_000, 0.0)], 0.01)
    assert over["ceiling"] is None and over["below"] == 1_000_000.0
    assert ceiling_line("day", over, 0.01) == (
        "day: no ceiling on the grid: the smallest book measured (100 vaults, 1,000,000 of "
        "debt) already loses 1.10% at its worst phase (over 1%)"
    )
    under = ceiling([_p(100, 0.0), _p(1_000, 0.01)], 0.01)  # at the share is under
    assert under["ceiling"]["vaults"] == 1_000 and under["first_over"] is None
    assert under["crossing"] is None
    line = ceiling_line("day", under, 0.01)
    assert "at least: every book measured at every phase stayed under 1%" in line


def test_calibration_rows__the_days_venue_share_rows__the_capital_rows_with_a_taker():
    data = tomllib.loads(CALIBRATION.read_text())
    rows = calibration_rows("may-2021", 0)
    assert [r.sets for r in rows] == [
        (f"market.venue_share={x}",) for x in data["venue"]["share_2021_05_19"]["sensitivity"]
    ]
    capital = data["keepers_2020"]["capital_dai"]
    rows = calibration_rows("black-thursday-2020", 6_000_000)
    assert rows[0].sets == (
        f"market.venue_share={data['venue']['share_2020_03_12']['sensitivity'][0]}",
    )
    assert [r.sets for r in rows[2:]] == [
        (f"keepers.taker_capital={6_000_000 * x // capital['value']}",)
        for x in capital["sensitivity"]
    ]
    assert file_capital("black-thursday-2020") == 6_000_000 and file_capital("may-2021") == 0


def test_ceiling_figures__sizes_in_waves__rows_stop_at_their_first_phase_over():
    """A fake run: the share grows with the book, three times as fast on the high venue-share
    row, and by phase (600 worst, the own phase 3000 next). The central curve runs every phase
    of every size; a row stops at its first book over, and within it at its first phase over
    (the own phase, then the central's worst). Every run read was handed to `prefetch` in its
    size's waves first."""
    asked: list[tuple] = []
    waves: list[list[tuple]] = []
    bump = {600: 0.0004, 3000: 0.0002}

    def run(name, vaults, depth, *options, phase=None):
        asked.append((name, vaults, depth, *options, phase))
        steep = 3 if "market.venue_share=0.05" in options else 1
        at = 3000 if phase is None else phase
        share = steep * vaults / 1e6 + bump.get(at, 0.0)
        return {
            "insolvency_per_debt": share,
            "debt": vaults * 12_000.0, "oracle_phase": 3000,
            "debt_by_type": {"ETH-A": vaults * 12_000.0},
            "insolvency_by_type": {"ETH-A": share * vaults * 12_000.0},
            "phases": [0, 600, 1200, 1800, 2400, 3000],  # may-2021's, as phases_of reads them
            "open_auctions": 0, "open_at_horizon": 0, "unsafe_vaults_left": 0,
            "time_to_clear_s": 600, "vaults_by_type": {"ETH-A": vaults},
            "debt_ceiling_by_type": {"ETH-A": 1}, "auction_cap_by_type": {"ETH-A": 2},
            "global_debt_ceiling": 3, "max_debt_in_auction": 4, "taker_capital": 0,
        }  # fmt: skip

    sizes = (1_000, 2_000, 5_000, 10_000, 20_000)
    found, meta = ceiling_figures(run, ("may-2021",), sizes, 0.01, own_capital=lambda n: 0,
                                  prefetch=waves.append, one_phase_from=20_000)  # fmt: skip
    # central: 5k at 0.0054 (phase 600), 10k at 0.0104: over
    assert (
        found["ceiling.may_2021_debt"] == 60_000_000 and found["ceiling.may_2021_vaults"] == 5_000
    )
    assert found["ceiling.may_2021_10k_insolvency_per_debt_worst"] == pytest.approx(0.0104)
    assert found["ceiling.may_2021_10k_insolvency_per_debt_median"] == pytest.approx(0.01)
    # past the first book over, the central curve's tail runs its own phase alone
    assert found["ceiling.may_2021_20k_insolvency_per_debt"] == pytest.approx(0.0202)
    assert "ceiling.may_2021_20k_insolvency_per_debt_median" not in found
    curves = meta["ceiling_curves"]["may-2021"]
    assert [p["vaults"] for p in curves["central"]] == list(sizes)
    assert [p["complete"] for p in curves["central"]] == [True] * 4 + [False]
    assert all(p["worst_phase"] == 600 for p in curves["central"][:4])
    assert curves["central"][-1]["per_phase"] == {"3000": pytest.approx(0.0202)}
    steep = curves["rows"]["venue share 0.05"]["points"]
    assert [p["vaults"] for p in steep] == [1_000, 2_000, 5_000]  # 3 x 5k = 0.015: stops
    assert [p["complete"] for p in steep] == [True, True, False]
    assert steep[-1]["per_phase"] == {"3000": pytest.approx(0.0152)}  # its own phase alone
    assert steep[-1]["median"] is None
    low = curves["rows"]["venue share 0.0075"]["points"]
    assert [p["vaults"] for p in low] == [1_000, 2_000, 5_000, 10_000]
    assert found["ceiling.may_2021_low_debt"] == 24_000_000  # the steep row's 2k book
    assert found["ceiling.may_2021_high_debt"] == 60_000_000
    assert found["ceiling.may_2021_crossing_debt"] > 60_000_000
    # the rows' crossings: the steep row's earliest; the low row's over at its own phase only
    # (0.0102 against the central's worst 0.0104), so an upper bound, later than the central's
    assert found["ceiling.may_2021_crossing_low_debt"] < 60_000_000
    assert found["ceiling.may_2021_crossing_high_debt"] > found["ceiling.may_2021_crossing_debt"]
    for wave in waves:  # each wave is one size's
        assert len({job[1] for job in wave}) == 1
    assert {wave[0][1] for wave in waves} == set(sizes)
    # every run read was prefetched, none twice
    prefetched = [j for wave in waves for j in wave]
    assert len(prefetched) == len(set(prefetched))
    assert set(asked) == set(prefetched)
    assert meta["ceiling_lines"][0].startswith("may-2021: a book of 60,000,000 (5,000 vaults")
    assert point_jobs("x", 5, Row("r", ("a=1",)), (600, [0, 600, 1200])) == [
        ("x", 5, "fixed", "--set", "a=1", None),
        ("x", 5, "fixed", "--set", "a=1", 0),
        ("x", 5, "fixed", "--set", "a=1", 1200),
    ]
    assert point_jobs("x", 5, CENTRAL, (0, [0])) == [("x", 5, "fixed", None)]


def test_ceiling_figures__two_types__each_type_s_own_ceiling_on_the_central_curve():
    """A fake two-type day: the book loses 2% at every size (over the share at the smallest, so
    no ceiling for the day), all of it the second type's; the first type's own part grows with
    the book (5k its last under). Each type gets its own recommendation: the first its debt in
    the 5k book, the second none on the grid; a one-type day gets none of these figures."""

    def run(name, vaults, depth, *options, phase=None):
        at = 3000 if phase is None else phase
        a_debt, b_debt = vaults * 8_000.0, vaults * 4_000.0
        a_part = a_debt * (vaults / 1e6 + (0.0004 if at == 600 else 0.0))
        b_part = b_debt * 0.06
        return {
            "insolvency_per_debt": (a_part + b_part) / (a_debt + b_debt),
            "debt": a_debt + b_debt, "oracle_phase": 3000,
            "phases": [0, 600, 1200, 1800, 2400, 3000],
            "debt_by_type": {"ETH-A": a_debt, "WBTC-A": b_debt},
            "insolvency_by_type": {"ETH-A": a_part, "WBTC-A": b_part},
            "open_auctions": 0, "open_at_horizon": 0, "unsafe_vaults_left": 0,
            "time_to_clear_s": 600, "vaults_by_type": {"ETH-A": vaults, "WBTC-A": vaults // 2},
            "debt_ceiling_by_type": {"ETH-A": 1, "WBTC-A": 5},
            "auction_cap_by_type": {"ETH-A": 2, "WBTC-A": 6},
            "global_debt_ceiling": 3, "max_debt_in_auction": 4, "taker_capital": 0,
        }  # fmt: skip

    sizes = (1_000, 2_000, 5_000, 10_000)
    found, meta = ceiling_figures(run, ("may-2021-two-types",), sizes, 0.01,
                                  own_capital=lambda n: 0)  # fmt: skip
    day = "ceiling.may_2021_two_types"
    assert f"{day}_debt" not in found  # the whole book is over at 1k
    assert found[f"{day}_eth_a_debt"] == 5_000 * 8_000.0  # 0.0054 at its worst phase
    assert found[f"{day}_eth_a_vaults"] == 5_000
    assert 5_000 * 8_000.0 < found[f"{day}_eth_a_crossing_debt"] < 10_000 * 8_000.0
    assert not any(k.startswith(f"{day}_wbtc_a") for k in found)
    point = meta["ceiling_curves"]["may-2021-two-types"]["central"][2]
    assert point["by_type"]["ETH-A"]["worst"] == pytest.approx(0.0054)
    assert point["by_type"]["ETH-A"]["worst_phase"] == 600
    assert point["by_type"]["WBTC-A"]["median"] == pytest.approx(0.06)
    lines = meta["ceiling_curves"]["may-2021-two-types"]["type_lines"]
    assert lines["ETH-A"].startswith("may-2021-two-types, ETH-A: 40,000,000 of its debt")
    assert "no ceiling on the grid" in lines["WBTC-A"]
    assert lines["WBTC-A"] in meta["ceiling_lines"][-1]


def test_ceiling_plot__a_panel_a_day__none_without_curves(tmp_path):
    tail = {**_p(100_000, 0.0), "median": None, "worst": None, "own_phase_share": 0.03}
    day = {"central": [_p(100, 0.0), _p(1_000, 0.004), _p(10_000, 0.02), tail],
           "rows": {"venue share 0.05": {"points": [_p(100, 0.001), _p(1_000, 0.03)]}}}  # fmt: skip
    for p in day["central"][:3]:
        p["median"] = p["worst"] / 2

    def kind(debt: float, worst: float) -> dict:
        return {"debt": debt, "worst": worst, "median": worst / 2}

    two = [
        {**_p(100, 0.02), "by_type": {"ETH-A": kind(7e5, 0.001), "WBTC-A": kind(3e5, 0.06)}},
        {**_p(1_000, 0.03), "by_type": {"ETH-A": kind(7e6, 0.02), "WBTC-A": kind(3e6, 0.05)}},
    ]
    out = ceiling_plot({"a": day, "b": {"central": two, "rows": {}}}, tmp_path / "c.png")
    assert out == tmp_path / "c.png"
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ceiling_plot({}, tmp_path / "none.png") is None and not (tmp_path / "none.png").exists()


def test_timed_run__kept_once_per_code__across_processes__a_cut_line_made_again(tmp_path):
    calls: list[tuple] = []

    def fake(name, vaults, depth, *options, phase=None):
        calls.append((name, vaults, phase))
        return {"s": 1.0, "vaults": vaults}

    mp = pytest.MonkeyPatch()
    mp.setattr(figures, "_timed_run", fake)
    try:
        first = figures.timed_run("x", 5, "fixed", phase=600, kept=True)
        first["s"] = 99.0  # a copy: the kept run stays
        assert figures.timed_run("x", 5, "fixed", phase=600, kept=True) == {"s": 1.0, "vaults": 5}
        assert len(calls) == 1
        figures.timed_run("x", 5, "fixed", phase=600)  # not kept: made again (a time measured)
        assert len(calls) == 2
        calls.pop()
        path = figures._cache()
        assert path.parent == tmp_path / "runs" and path.name == f"{figures.runs_digest()}.jsonl"
        with path.open("a") as out:
            out.write('{"key": "[\\"y\\", 7')  # a line cut by a stopped run
        mp.setattr(figures, "_runs_file", None)
        mp.setattr(figures, "_RUNS", {})
        assert figures.timed_run("x", 5, "fixed", phase=600, kept=True)["s"] == 1.0  # read back
        assert len(calls) == 1
        figures.prefetch([("x", 6, "fixed", None), ("x", 5, "fixed", 600)], workers=2)
        assert calls == [("x", 5, 600), ("x", 6, None)]
    finally:
        mp.undo()


def test_runs_digest__follows_the_runs_inputs__not_this_benchmarks_code(tmp_path):
    for folder in ("contracts", "offchain/bench", "offchain/sim", "data", "config"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "f.txt").write_text("a")
    before = figures.runs_digest(tmp_path)
    (tmp_path / "offchain/bench/f.txt").write_text("b")
    assert figures.runs_digest(tmp_path) == before
    for folder in ("contracts", "offchain/sim", "data", "config"):
        (tmp_path / folder / "f.txt").write_text("b")
        assert figures.runs_digest(tmp_path) != before, folder
        (tmp_path / folder / "f.txt").write_text("a")


def _timing(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "offchain.sim.run.timing", *args], cwd=ROOT,
                          capture_output=True, text=True)  # fmt: skip


def test_timing__set_reaches_the_run__the_book_and_its_limits_in_the_line():
    base = json.loads(_timing("black-thursday-2020", "200").stdout)
    richer = json.loads(
        _timing("black-thursday-2020", "2000", "--set", "keepers.taker_capital=7000000").stdout
    )
    assert base["taker_capital"] == 6_000_000 and base["vaults_by_type"] == {"ETH-A": 200}
    assert richer["taker_capital"] == 14_000_000  # the file's value, sized to 2,000 from 1,000
    assert richer["debt"] > 10 * base["debt"] / 2 > 0
    assert richer["auction_cap_by_type"]["ETH-A"] == 2 * base["auction_cap_by_type"]["ETH-A"]
    assert richer["max_debt_in_auction"] == 2 * base["max_debt_in_auction"]


def test_timing__two_types__each_type_s_debt_and_part_add_up_to_the_book_s():
    """At 100 vaults the two-type day's 72 ETH-A and 28 WBTC-A vaults owe 849,297 and 347,006
    (their populations' own sums), and the only loss is WBTC-A's: a split by the wrong counts
    or names fails, as does a part that does not add up to the headline."""
    line = json.loads(_timing("may-2021-two-types", "100").stdout)
    assert line["vaults_by_type"] == {"ETH-A": 72, "WBTC-A": 28}
    assert line["debt_by_type"] == {"ETH-A": 849_297.0, "WBTC-A": 347_006.0}
    assert line["insolvency_by_type"]["ETH-A"] == 0.0
    assert line["insolvency_by_type"]["WBTC-A"] == pytest.approx(line["insolvency"], abs=0.05)
    assert line["insolvency"] > 0
    assert sum(line["debt_by_type"].values()) == pytest.approx(line["debt"], abs=0.05)


@pytest.mark.parametrize(
    "args, said",
    [
        (["--set"], "usage:"),
        (["--set", "venue_share=0.1"], "usage:"),
        (["--set", "market.venue_share"], "usage:"),
        (["--set", "market.venue_share=0.1", "--set", "market.venue_share=0.2"], "usage:"),
        (["--set", "market.venue_share=1e400"], "market.venue_share: must be > 0 and <= 1"),
        (["--set", "market.nope=1"], "market: unknown key 'nope'"),
        (["--set", "nope.x=1"], "no table 'nope' to override"),
    ],
)
def test_timing__a_bad_set_is_one_line_exit_2(args, said):
    out = _timing("may-2021", "100", *args)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and said in out.stderr


def test_committed_record__its_lines_are_what_the_code_says_of_its_curves():
    """bench/results.json's ceiling lines (each day's, each row's, each type's) are what
    ceiling_line and type_line write from the record's own curves: a record and its words
    cannot drift apart."""
    from offchain.bench.ceiling import type_line, type_points
    from offchain.bench.figures import RESULTS

    curves = json.loads(RESULTS.read_text())["_meta"]["ceiling_curves"]
    assert "may-2021-two-types" in curves
    for name, day in curves.items():
        assert ceiling_line(name, ceiling(day["central"])) == day["lines"][CENTRAL.label]
        for label, row in day["rows"].items():
            assert ceiling_line(name, ceiling(row["points"])) == day["lines"][label]
    types = curves["may-2021-two-types"]["type_lines"]
    assert set(types) == {"ETH-A", "WBTC-A"}
    for t, line in types.items():
        central = curves["may-2021-two-types"]["central"]
        assert type_line("may-2021-two-types", t, ceiling(type_points(central, t))) == line
