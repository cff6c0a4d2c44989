"""The history check's report (offchain/history/report.py, `ape run history`): a model of
MakerDAO's 2020 auctions, not Backstop's. Its figures come from the run they describe, its
verdicts from the bands, and bad input is one line, exit 2, nothing written."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.history.backstop import COUNTERFACTUALS, scenario_data, settings_problem
from offchain.history.backstop import values as eve_values
from offchain.history.days import ROOT, day
from offchain.history.days.settings import Band
from offchain.history.keepers.transactions import Counts, gas_policy
from offchain.history.replay.flip import AuctionRow, DayResult, KeeperRow
from offchain.history.report import (
    BANDS,
    SETTINGS,
    Figures,
    headline,
    market,
    run,
    summary,
    values,
    verdict,
)
from offchain.model.fixed_point import RAD, WAD
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.market import OPEN_ONLY_KEYS
from offchain.sim.strategies.actions import Latency


def _result(zero: int, paid: int, debt_bitten: int, raised: int) -> DayResult:
    rows = [
        AuctionRow(i, f"v{i}", 50 * WAD, 1_130 * RAD, 1_000 * RAD, kicked=0, bid=1, dealt=600,
                   value_at_deal=5_000 * RAD, zero_bid=True)
        for i in range(zero)
    ] + [
        AuctionRow(zero + i, f"w{i}", 50 * WAD, 1_130 * RAD, 1_000 * RAD, kicked=0,
                   bid=1_130 * RAD, dealt=600, value_at_deal=5_000 * RAD)
        for i in range(paid)
    ] + [AuctionRow(zero + paid, "open", 50 * WAD, 1_130 * RAD, 1_000 * RAD, kicked=0)]  # fmt: skip
    keeper = KeeperRow("k", Counts(planned=3, sent=2, landed=1, dropped=1,
                                   failures=Counter()), 0, 0, 0, 0, 0)  # fmt: skip
    return DayResult(rows, {"k": keeper}, debt_bitten * RAD, raised * RAD)


def test_figures__from_the_run__the_debt_auctions_after_the_surplus_buffer():
    """Money flow: 3 vaults' debt (3,000 DAI) bitten, 1,130 raised: a deficit of 1,870 DAI of
    an eve debt of 37,400 (5%); the buffer (500k) covers it, so no debt auction."""
    r = _result(zero=1, paid=1, debt_bitten=3_000, raised=1_130)
    f = Figures.of(r, 37_400 * WAD)
    assert (f.auctions, f.dealt, f.zero_bid_auctions) == (3, 2, 1)
    assert f.zero_bid_share == 0.5  # of the dealt, not of the kicked
    assert f.zero_bid_value == 5_000
    assert f.deficit == 1_870 and f.deficit_share == 0.05
    assert f.debt_auctions == 0
    big = Figures.of(_result(0, 1, 600_000 + 1_130, 1_130), 10**6 * WAD)
    assert big.debt_auctions == 2  # 100,000 over the buffer, 50,000 a lot


def test_verdict__within_above_below_in_points():
    band = Band("x", "", 0.26, 0.46, lambda r, d: 0.0)
    assert verdict(band, 0.26) == "within" and verdict(band, 0.46) == "within"
    assert verdict(band, 0.59) == "13.0 points above the band"
    assert verdict(band, 0.20) == "6.0 points below the band"


def test_bands__the_issues_36_points_plus_minus_10_and_deficit_plus_minus_30_percent():
    share, deficit = BANDS
    assert (share.low, share.high) == (0.26, 0.46)
    assert deficit.low == pytest.approx(0.0497 * 0.7) and deficit.high == pytest.approx(
        0.0497 * 1.3
    )


def test_summary__every_setting_with_its_source__assumptions_named__runs_in_the_table():
    r = _result(zero=1, paid=1, debt_bitten=3_000, raised=1_130)
    text = summary(r, [("bidders", 6, "6", r)])
    for s in SETTINGS.values():
        assert f"| {s.name} |" in text and s.source in text
    assert text.count("| assumed |") == sum(s.source == "assumed" for s in SETTINGS.values())
    assert "not Backstop's mechanism" in text
    assert "| bidders | 6 | 50.0% |" in text
    assert "| k | 3 | 2 | 1 | 1 | 0 |" in text


@pytest.mark.slow
def test_the_day__headline_verdicts_are_the_bands_of_that_run(tmp_path):
    """The whole command: the model's figures printed and written are those of `run()` under
    SETTINGS, each against its band; every assumption's alternatives in the sensitivity table."""
    base = run()
    debt = values().eve_debt
    # stdout alone: the progress lines a pipe gets go to stderr
    result = CliRunner(mix_stderr=False).invoke(
        script_cli("history"), ["--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output + result.stderr
    assert result.output.splitlines()[:2] == headline(base)
    assert result.output.splitlines()[2].startswith("Backstop, the same eve and day: ")
    text = (tmp_path / "r" / "summary.md").read_text()
    # Backstop's side: on Anvil and in the model, reconciled, its inputs replayable alone
    assert "reconciled: " in text and "**0 differences**" in text
    book = load_scenario(str(tmp_path / "r" / "backstop" / "scenario.yaml")).vaults.book
    assert book is not None and len(book) == values().vaults
    assert (tmp_path / "r" / "backstop" / "report" / "summary.md").is_file()
    for band in BANDS:
        assert verdict(band, band.of(base, debt)) in text
    f = Figures.of(base, debt)
    assert f"{f.auctions:,} kicked, {f.dealt:,} dealt" in text
    assert base.zero_bid_share == Fraction(len(base.zero_bids), len(base.dealt))
    alternatives = sum(len(s.alternatives) for s in SETTINGS.values())
    table = text.split("## Sensitivity")[1].split("## The keepers")[0]
    assert len([x for x in table.splitlines() if x.startswith("| ")]) == 2 + alternatives
    # docs/history.md quotes the report's three tables: a change of any figure shows here
    doc = (ROOT / "docs" / "history.md").read_text()
    for heading in (
        "| figure | history |",
        "| setting | value | zero-bid",
        "| keeper | planned",
        "| figure | history | MakerDAO 2020",
        "| setting | value | why |",
    ):
        start = text.index(heading)
        quoted = text[start : text.index("\n\n", start)]
        assert quoted in doc, heading


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (["--day", "nope"], ["history: Invalid value for '--day': 'nope' is not one of "
                             "'black-thursday-2020', 'may-2021'."]),
        (["--out", ""], ["history: --out '' is empty: give a directory, or leave --out out for "
                         "the default"]),
        (["--backend", "chain"], ["history: Invalid value for '--backend': 'chain' is not one "
                                  "of 'both', 'model'."]),
        (["--backend", "x", "--out", "/proc/x/y"], [
            "history: Invalid value for '--backend': 'x' is not one of 'both', 'model'.",
            "history: --out /proc/x/y: cannot create a directory in /proc (No such file or "
            "directory)"]),
        (["--day", "x", "--out", " "], ["history: Invalid value for '--day': 'x' is not one of "
                                        "'black-thursday-2020', 'may-2021'.", "history: --out ' ' "
                                        "is empty: give a directory, or leave --out out for the "
                                        "default"]),
        (["--day", "may-2021", "--set", "takers=0"], ["history: --set takers: 0 is below 1"]),
        (["--day", "may-2021", "--set", "takers=many"], ["history: --set takers: 'many' is not "
                                                         "a number"]),
        (["--set", "outside=ajar"], ["history: --set outside: 'ajar' is not one of open, "
                                     "closed"]),
        (["--set", "resale_hours=100"], ["history: --set resale_hours: 100 is above 72"]),
        (["--day", "may-2021", "--set", "venue_share=2"], ["history: --set venue_share: 2 is "
                                                           "above 1"]),
        (["--day", "may-2021", "--set", "clip=1"], ["history: --set clip: cannot be set from "
                                                    "the command line"]),
        (["--set", "nothing"], ["history: --set 'nothing': give NAME=VALUE"]),
        (["--workers", "0", "--set", "bidders=-1"], ["history: --set bidders: -1 is below 0",
                                                     "history: --workers: must be between 1 "
                                                     "and 512, got 0"]),
        (["--workers", "100000"], ["history: --workers: must be between 1 and 512, got 100000"]),
        # named as written, in the command line's units: 1e400 was its 401 digits, a bound
        # of eve_debt (whole DAI on the command line) was its wad
        (["--day", "may-2021", "--set", "venue_share=1e400"], ["history: --set venue_share: "
                                                               "1e400 is above 1"]),
        (["--set", "eve_debt=-0"], ["history: --set eve_debt: -0 is below 1000000"]),
        # a block no call fits in ran the day, every call waiting for room (issue 65)
        (["--set", "block_gas=1"], ["history: --set block_gas: 1 is below the day's dearest "
                                    "call (gas_bite 150,000), which no block would hold; 0: no "
                                    "bound"]),
        (["--day", "may-2021", "--set", "gas_scale=10", "--set", "block_gas=1_000_000"],
         ["history: --set block_gas: 1,000,000 is below the day's dearest call (gas_flash_take "
          "300,000 x gas_scale 10), which no block would hold; 0: no bound"]),
        # issue 74: a setting given twice (the last was taken in silence), named once
        (["--set", "bidders=3", "--set", "bidders=4"], ["history: --set bidders given 2 times: "
                                                        "give each setting once"]),
        (["--set", "x=1", "--set", "x=2"], [
            "history: --set x given 2 times: give each setting once",
            "history: --set x: no such setting of this day (one of " + ", ".join(
                day("black-thursday-2020").SETTINGS) + ")"]),
        # issue 74: the venue's settings under a closed market, held to a scenario file's rule
        # (the pair ran, the share ignored; the same pair in a scenario file is refused)
        (["--set", "outside=closed", "--set", "venue_share=0.05"], [
            "history: --set venue_share: applies only to an open market (--set outside=closed)"]),
        (["--day", "may-2021", "--set", "outside=closed", "--set", "dai_price=1.01"], [
            "history: --set dai_price: applies only to an open market (--set outside=closed)"]),
        (["--set", "impact_decay=60", "--set", "outside=closed"], [
            "history: --set impact_decay: applies only to an open market (--set "
            "outside=closed)"]),
    ],
)  # fmt: skip
def test_history_cli__bad_input__one_line_each_exit_2(args, lines):
    result = CliRunner().invoke(script_cli("history"), args)
    assert result.exit_code == 2
    assert result.output.splitlines() == lines


@pytest.mark.parametrize("name", ["black-thursday-2020", "may-2021"])
def test_settings_problem__a_closed_market__backstops_scenario_loads_without_the_venue(name):
    """`--set outside=closed` alone: the eve's scenario drops the built-in's open venue (its
    venue_share, resale_delay, stable_price), which a scenario file refuses under a closed
    market; resale_hours stays a setting of MakerDAO's side (its keepers resell all the same)."""
    cf = COUNTERFACTUALS[name]
    assert settings_problem({"outside": "closed"}, cf) is None
    assert settings_problem({"outside": "closed", "resale_hours": 2}, cf) is None
    market = scenario_data(eve_values({"outside": "closed"}, cf), cf)["market"]
    assert market["outside"] == "closed" and not set(market) & set(OPEN_ONLY_KEYS)
    assert settings_problem({"venue_share": Fraction(1, 20)}, cf) is None  # open: the file's


def test_history_cli__an_unknown_setting__one_line_naming_the_day_s(tmp_path):
    result = CliRunner().invoke(
        script_cli("history"),
        ["--day", "may-2021", "--set", "bidders=3", "--out", str(tmp_path / "r")],
    )
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith("history: --set bidders: no such setting of this day (one of clip, ")
    assert not (tmp_path / "r").exists()


def test_history_cli__out_under_a_file__refused_before_the_run(tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("x")
    monkeypatch.setattr("offchain.history.report.run", lambda *a, **k: pytest.fail("ran"))
    result = CliRunner().invoke(script_cli("history"), ["--out", str(tmp_path / "notes.txt/r")])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"history: --out {tmp_path}/notes.txt/r: {tmp_path}/notes.txt is a file, not a directory"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_node_gas__the_bar_befores_percentile__unknown_setting_refused():
    """The node's default gas price trails the market by a bar: "node30" bids the 30th percentile
    of the bar before (geth's, from each block's lowest price, is under it), "node60" its 60th,
    "p60" the bar's own 60th."""
    latency = Latency(market().gas, 0)
    t = market().gas.times[72]  # 12:00
    p30_before, p60_before = latency.percentiles(t - 600)
    assert gas_policy("node30").price(latency, t) == p30_before
    assert gas_policy("node60").price(latency, t) == p60_before
    assert gas_policy("p60").price(latency, t) == latency.percentiles(t)[1]
    assert p30_before < p60_before
    with pytest.raises(ValueError, match="unknown gas setting 'node'"):
        gas_policy("node")
