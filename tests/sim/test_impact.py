"""The market with memory (offchain/sim/market/impact.py): liquidation sales move the market price
through a constant-product depth and it recovers with a half-life; with no depth the market
price is the path, to the wei; on chain and in the model a cascade run reconciles."""

from __future__ import annotations

import pytest

from offchain.model.fixed_point import WAD
from offchain.report.documents import write_report
from offchain.sim.market.impact import Impact
from offchain.sim.results.cascade import became_unsafe, has_impact
from offchain.sim.run.driver import simulate
from offchain.sim.run.replay import replay
from offchain.sim.scenario.load import ScenarioError, load_scenario


def test_impact__no_depth__the_path_is_the_market_price():
    impact = Impact(0, 3600, 600)
    impact.sell(10**6 * WAD, 2_000 * WAD)
    impact.recover()
    assert impact.level == WAD and impact.price(1_234_567) == 1_234_567


def test_impact__a_sale_moves_the_price_by_the_constant_product_factor__recovery_halves_the_gap():
    # a depth of 1,000,000 per side; selling 250 tokens at 2,000 (500,000 of value) divides the
    # price by (1.5)^2 = 2.25
    impact = Impact(1_000_000 * WAD, 3600, 3600)
    impact.sell(250 * WAD, 2_000 * WAD)
    assert impact.level == WAD * 4 // 9
    assert impact.price(2_000 * WAD) == 2_000 * WAD * (WAD * 4 // 9) // WAD
    assert impact.lowest == impact.level
    impact.recover()  # one bar of one half-life: half the gap is left
    assert impact.level == WAD - (WAD - WAD * 4 // 9) // 2
    assert impact.lowest == WAD * 4 // 9  # the deepest point stays recorded


# the closed market (market.outside = "closed"), whose impact this file holds
CLOSED = {"outside": "closed"}
CLOSED_CASCADE = {"outside": "closed", "impact_depth": "2_504_000", "impact_half_life": 3600}


def test_impact_zero__the_run_is_the_run_without_the_key():
    closed = {"market": CLOSED}
    plain = simulate(
        load_scenario("may-2021", vaults=200, overrides=closed), "model", full_check_every=None
    )
    zero = load_scenario(
        "may-2021", vaults=200, overrides={"market": {**CLOSED, "impact_depth": "0"}}
    )
    again = simulate(zero, "model", full_check_every=None)
    for name in ("bars", "events", "txs", "takes", "liquidations", "losses"):
        assert again.tables[name].equals(plain.tables[name]), name
    bars = plain.tables["bars"]
    assert (bars["market_price"] == bars["fundamental_price"]).all()
    assert plain.facts["impact_lowest_level"] == 1.0


def test_cascade__sales_push_the_market_below_the_path__the_oracle_follows__chain_agrees():
    """may-2021 with the closed market's impact (may-2021-cascade's before the open market), 150
    vaults: after the liquidations the market price falls below the fundamental (the path), the
    oracle shows the impacted price an hour later, and the run reconciles on Anvil with 0
    differences."""
    scenario = load_scenario("may-2021", vaults=150, overrides={"market": CLOSED_CASCADE})
    done = replay(scenario, full_check_every=30)
    chain, r = done.checked
    assert r.diff_count == 0, r.diffs[:3]
    bars = chain.tables["bars"]
    below = bars[bars["market_price"] < bars["fundamental_price"]]
    assert len(below) and chain.facts["impact_lowest_level"] < 0.95
    first = int(below["bar"].iloc[0])
    liquidated = chain.tables["liquidations"]["bar"]
    assert liquidated.min() <= first  # sales come first
    # the oracle posts market prices: it shows an impacted price within the next hour and a half
    later = bars[(bars["bar"] > first) & (bars["bar"] <= first + 9)]
    assert (later["oracle_price"] < later["fundamental_price"]).any()


@pytest.mark.parametrize(
    "market, problem",
    [
        ({"impact_depth": "-1"}, "market.impact_depth: must be >= 0"),
        ({"impact_depth": "1e400"}, "market.impact_depth"),
        ({"impact_half_life": 0}, "market.impact_half_life: must be an integer between 1 and"),
    ],
)
def test_impact_keys__bad_values__one_line(market, problem):
    with pytest.raises(ScenarioError) as exc:
        load_scenario("may-2021", overrides={"market": market})
    assert problem in str(exc.value) and "\n" not in str(exc.value)


def test_cascade_counterfactual__the_same_scenario_without_impact__counted_per_type(tmp_path):
    """The report's cascade section (sim/results/cascade.py): the run against the same scenario with
    every type's impact_depth 0. Its 'without impact' figures are those of that run made by hand
    (the scenario file with the keys set to 0), its 'with' figures the run's own; with no impact
    there is nothing to compare."""
    closed = {"market": CLOSED_CASCADE}
    scenario = load_scenario("may-2021-two-types", vaults=200, overrides=closed)
    assert has_impact(scenario)
    done = replay(scenario, chain=False, counterfactual=True)
    c = done.cascade
    assert c is not None
    by_hand = load_scenario(
        "may-2021-two-types",
        vaults=200,
        overrides={"market": {**CLOSED, "impact_depth": "0"}, "types": {"impact_depth": "0"}},
    )
    assert not has_impact(by_hand)
    plain = simulate(by_hand, "model", full_check_every=None)
    for run, with_impact in ((done.model, True), (plain, False)):
        contagion = run.tables["contagion"]
        counted = dict(zip(contagion["collateral_type"], contagion["liquidations"], strict=True))
        marked = dict(zip(contagion["collateral_type"], contagion["insolvency"], strict=True))
        for t in c.types:
            liquidations = t.liquidations if with_impact else t.liquidations_without_impact
            insolvency = t.insolvency if with_impact else t.insolvency_without_impact
            assert liquidations == counted[t.collateral_type]
            assert insolvency == marked[t.collateral_type]
    assert [t.collateral_type for t in c.types] == ["ETH-A", "WBTC-A"]
    assert c.liquidations_added == c.liquidations - c.liquidations_without_impact
    assert c.became_unsafe_without_impact == became_unsafe(plain)
    assert c.became_unsafe == became_unsafe(done.model)
    # the impacted run really differs: a lower market price, more vaults unsafe at some bar
    assert c.became_unsafe_added > 0
    assert replay(by_hand, chain=False, counterfactual=True).cascade is None
    # the report's section: one row per type and the total, the figures as counted
    summary = write_report(tmp_path / "report", done.model, None, [], c).read_text()
    section = summary.split("## Cascade: what the price impact added")[1].split("\n## ")[0]
    assert f"The cascade added {c.liquidations_added:+,} liquidations" in section
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert [r.split(" | ")[0] for r in rows[1:]] == ["| ETH-A", "| WBTC-A", "| all types"]
    assert f"| {c.insolvency_added:+,.2f} |" in rows[-1]
    plain_report = write_report(tmp_path / "plain", plain, None, [], None).read_text()
    assert "Cascade" not in plain_report
