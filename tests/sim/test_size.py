"""The run's size as a stated factor (offchain/report/size.py): a run whose --vaults raised the
population is reported beside the scenario at its own count, and the figures are the runs' own.
Model only: no chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.report import size
from offchain.report.documents import Table, Text, to_markdown
from offchain.sim.run.driver import simulate
from offchain.sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]


# the closed market (market.outside = "closed": the keepers' pool the only depth), where a
# larger book selling into the same pool shows in every figure; the open market's scale study is
# docs/simulation.md's ("Scale")
CLOSED = {"market": {"outside": "closed"}}


@pytest.fixture(scope="module")
def runs():
    """black-thursday-2020 at 3,000 vaults, and at its own 1,000, as the report runs it."""
    big = simulate(
        load_scenario("black-thursday-2020", vaults=3000, overrides=CLOSED),
        "model",
        full_check_every=None,
    )
    own = size.own_count_run(lambda: load_scenario("black-thursday-2020", overrides=CLOSED), None)
    return big, own


def test_own_count_run__is_the_scenario_at_its_own_count(runs):
    _, own = runs
    plain = simulate(
        load_scenario("black-thursday-2020", overrides=CLOSED), "model", full_check_every=None
    )
    assert own.facts["vaults"] == 1000
    assert own.facts["insolvency"] == plain.facts["insolvency"]
    assert own.tables["txs"].equals(plain.tables["txs"])


def test_figures__each_from_the_runs_facts_and_tables(runs):
    for result in runs:
        f, bars = result.facts, result.tables["bars"]
        debt = result.tables["vaults"]["debt_start"].sum()
        got = size.figures(result)
        assert got["vaults"] == f["vaults"]
        assert got["unsafe_left_share"] == f["unsafe_vaults_left"] / f["vaults"]
        assert got["insolvency_per_debt"] == pytest.approx(f["insolvency"] / debt, rel=1e-12)
        assert got["insolvency_mark_per_debt"] == pytest.approx(
            f["insolvency_mark"] / debt, rel=1e-12
        )
        assert got["pool_low_share"] == pytest.approx(
            min(p / m for p, m in zip(bars["pool_price"], bars["market_price"], strict=True))
        )
        assert got["debt_in_auction_peak_share"] == pytest.approx(
            f["peak_debt_in_auction"] / f["max_debt_in_auction"]
        )
        assert got["open_auctions"] == f["open_auctions"]
    # the size moved these: three times the vaults sold into the same market
    big, own = (size.figures(r) for r in runs)
    assert big["insolvency_per_debt"] > 5 * own["insolvency_per_debt"]
    assert big["open_auctions"] > 10 * own["open_auctions"]


def test_blocks__this_run_beside_the_scenarios_count__and_what_followed(runs):
    big, own = runs
    blocks = size.blocks(big, own, "fixed")
    text = next(b for b in blocks if isinstance(b, Text)).text
    assert "This run has 3,000 vaults; the scenario has 1,000." in text
    assert "the market's depth did not (market.depth_with_vaults = fixed" in text
    table = next(b for b in blocks if isinstance(b, Table))
    rows = {r[0]: r[1:] for r in table.rows}
    a, b = size.figures(big), size.figures(own)
    assert rows["vaults"] == ("3,000", "1,000")
    assert rows["insolvency per unit of starting debt (the headline: drained)"] == (
        f"{a['insolvency_per_debt']:.4f}",
        f"{b['insolvency_per_debt']:.4f}",
    )
    assert rows["auctions still running at the end"] == (
        f"{a['open_auctions']:,.0f}",
        f"{b['open_auctions']:,.0f}",
    )
    scaled = next(b for b in size.blocks(big, own, "scaled") if isinstance(b, Text)).text
    assert "and so did the market's depth (market.depth_with_vaults = scaled)" in scaled
    assert "## The size" in to_markdown(blocks)


def _cli():
    return script_cli("simulate")


@pytest.mark.parametrize("vaults", [None, 1000, 1500])
def test_simulate_cli__a_raised_count_only__reports_the_size(tmp_path, vaults):
    """--vaults above the scenario's 1,000: the size section and its console line; at or below
    it (nothing scaled), neither."""
    out = tmp_path / "report"
    args = ["--scenario", "black-thursday-2020", "--backend", "model", "--out", str(out)]
    result = CliRunner().invoke(_cli(), args + (["--vaults", str(vaults)] if vaults else []))
    assert result.exit_code == 0, result.output
    summary = (out / "summary.md").read_text()
    raised = vaults is not None and vaults > 1000
    assert ("## The size" in summary) is raised
    lines = [x for x in result.output.splitlines() if x.startswith("size: ")]
    if vaults is not None and raised:
        assert lines == [size.console_lines(*_pair(vaults))[0]]
        assert "| vaults | 1,500 | 1,000 |" in summary
    else:
        assert lines == []


def _pair(vaults: int):
    return (
        simulate(
            load_scenario("black-thursday-2020", vaults=vaults), "model", full_check_every=None
        ),
        simulate(load_scenario("black-thursday-2020"), "model", full_check_every=None),
    )
