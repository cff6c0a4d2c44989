"""The market a report names (offchain/report/tables.py `outside_text`, documents.py): an open
run's scenario table names the outside venue (its law's settings, its depth per bar: the lowest
and the median, where capital takers resell, what the end-of-run mark sells on) and what the
venue did in the run (the lowest market price over the fundamental); its mark's line says the
open book was sold on a copy of the venue, not into the keepers' pool. It said `external market
| no price impact` on every open run and named the pool's reserve as the mark's market."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from offchain.model.fixed_point import WAD
from offchain.report.documents import write_report
from offchain.report.tables import DEPTH_MOVE, scenario_lines, utc, venue_depths
from offchain.sim.run.driver import simulate
from offchain.sim.scenario.load import load_scenario


def _row(md: str, label: str) -> str:
    """The value cell of the Markdown table row whose first cell is `label`."""
    prefix = f"| {label} | "
    (line,) = [x for x in md.splitlines() if x.startswith(prefix)]
    return line[len(prefix) : -2]


@pytest.fixture(scope="module")
def open_run(tmp_path_factory):
    scenario = load_scenario("black-thursday-2020", vaults=60)
    result = simulate(scenario, "model", full_check_every=None)
    out = tmp_path_factory.mktemp("open") / "r"
    md = write_report(out, result, None, scenario_lines(scenario)).read_text()
    return scenario, result, md


def test_open_run__scenario_table_names_the_venue_its_settings_and_depths(open_run):
    scenario, _, md = open_run
    m = scenario.market
    assert m.outside == "open" and m.venue is not None
    text = _row(md, "external market")
    assert "no price impact" not in text
    assert text.startswith("open: the outside venue")
    assert f"Y {m.venue.coefficient / WAD:g}," in text
    assert f"share of the whole market {100 * m.venue.share / WAD:g}%" in text
    assert f"tau {m.venue.decay:,} s" in text and f"trailing {m.venue.window} bars" in text
    # the depth per bar, computed here from the law: the sale that moves the price 1%
    tokens = [
        d.volume / WAD * (DEPTH_MOVE / (m.venue.coefficient / WAD * d.sigma / WAD)) ** 2
        for d in m.depths
        if d.sigma
    ]
    depths = venue_depths(scenario)
    assert depths["tokens"].min() == pytest.approx(min(tokens), rel=1e-12)
    low: Any = depths.loc[depths["tokens"].idxmin()]
    assert f"lowest {min(tokens):,.0f} WETH" in text and utc(int(low["time"])) in text
    assert f"median {statistics.median_low(tokens):,.0f} WETH" in text
    assert f"resold on it {m.resale_delay / 3600:g} h after the take" in text
    assert f"over {m.mark_bars:,} bars" in text


def test_open_run__the_market_in_the_run_and_the_marks_market(open_run):
    _, result, md = open_run
    bars = result.tables["bars"]
    lowest = (bars["market_price"] / bars["fundamental_price"]).min()
    run = _row(md, "the market in this run")
    assert run.startswith(f"the lowest market price {lowest:.2%} of the fundamental")
    assert f"the venue took {result.facts['venue_sold']:,.0f} WETH" in run
    (marked,) = [x for x in md.splitlines() if x.startswith("| marked: ")]
    assert "on a copy of the outside venue, with its memory of the run's trades" in marked
    assert "per side" not in marked and "pool" not in marked


def test_closed_run__says_closed_and_the_marks_constant_product_market(tmp_path):
    scenario = load_scenario(
        "black-thursday-2020", vaults=60, overrides={"market": {"outside": "closed"}}
    )
    result = simulate(scenario, "model", full_check_every=None)
    md = write_report(tmp_path / "r", result, None, scenario_lines(scenario)).read_text()
    assert _row(md, "external market").startswith(
        "closed: no price impact, the path is the market price; the end-of-run mark sells the "
        "open book into the keepers' pool's stablecoin reserve at the end"
    )
    (marked,) = [x for x in md.splitlines() if x.startswith("| marked: ")]
    assert f"into a constant-product market of {result.facts['mark_depth']:,.2f} BUSD" in marked
    assert "venue" not in marked
    assert "| the market in this run |" not in md  # the market price is the path
