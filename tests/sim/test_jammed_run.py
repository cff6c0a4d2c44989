"""A run that ends jammed (offchain/sim/results/insolvency.py's end-of-run mark, end to end):
takers that never take (their profit floor above any take) and an auction cap that keeps most unsafe
vaults waiting, on the synthetic crash, in the model. Every number of the end-of-run accounting
is checked against the exposure table, and the mark is re-done by hand: the auctions' lots, then
the unsafe vaults' collateral closest to liquidation first, each sold into a constant-product
market of the run's mark depth at the last price."""

from __future__ import annotations

import pytest

from offchain.sim.run.driver import simulate
from offchain.sim.scenario.load import load_scenario

JAM = {
    "keepers": {"take_min_profit": "1_000_000"},
    "protocol": {"collateral_overrides": {"auction_cap": "200_000"}},
}


@pytest.fixture(scope="module")
def jammed():
    return simulate(
        load_scenario("synthetic-crash", vaults=100, overrides=JAM), "model", full_check_every=None
    )


def test_jammed_run__ends_with_auctions_open_and_unsafe_vaults_waiting(jammed):
    f = jammed.facts
    assert f["open_auctions"] == 20 and f["unsafe_vaults_left"] == 52
    assert f["realized_bad_debt"] == 0  # no auction finished
    # the pool is the mark's market (no price impact in this scenario)
    assert f["mark_depth"] > 0 and f["mark_price_after_sales"] < f["mark_price"]


def test_jammed_run__every_number_of_the_mark(jammed):
    f, exposure = jammed.facts, jammed.tables["exposure"]
    auctions = exposure[exposure["kind"] == "auction"]
    vaults = exposure[exposure["kind"] == "vault"]
    assert (len(auctions), len(vaults)) == (f["open_auctions"], f["unsafe_vaults_left"])
    assert list(auctions["auction_id"]) == sorted(auctions["auction_id"])
    # vaults closest to liquidation first: the highest debt per collateral first
    per_collateral = list(vaults["debt"] / vaults["collateral"])
    assert per_collateral == sorted(per_collateral, reverse=True)
    # the mark by hand, in floats: constant product at the last price
    stable = f["mark_depth"]
    tokens = stable / f["mark_price"]
    for row in exposure.to_dict("records"):
        fetched = stable * row["collateral"] / (tokens + row["collateral"])
        stable, tokens = stable - fetched, tokens + row["collateral"]
        assert row["marked_sale"] == pytest.approx(fetched, rel=1e-9)
        assert row["marked_shortfall"] == pytest.approx(max(row["debt"] - fetched, 0), rel=1e-9)
        # the mark never fetches more than the last price would
        assert row["marked_sale"] <= row["marked_value"] * (1 + 1e-12)
    assert f["mark_price_after_sales"] == pytest.approx(stable / tokens, rel=1e-9)
    marked_open = float(auctions["marked_shortfall"].sum())
    marked_unsafe = float(vaults["marked_shortfall"].sum())
    assert f["open_auction_marked_shortfall"] == pytest.approx(marked_open, rel=1e-9)
    assert f["unsafe_vault_marked_shortfall"] == pytest.approx(marked_unsafe, rel=1e-9)
    assert f["insolvency_mark"] == pytest.approx(
        f["realized_bad_debt"] + marked_open + marked_unsafe, rel=1e-9
    )
    # the optimistic bound, at the last price, beside it
    assert f["insolvency_last_price"] == pytest.approx(
        f["realized_bad_debt"] + f["open_auction_shortfall"] + f["unsafe_vault_shortfall"],
        rel=1e-9,
    )
    assert f["open_auction_shortfall"] == pytest.approx(float(auctions["shortfall"].sum()))
    assert f["insolvency_mark"] > 10 * f["insolvency_last_price"]
    # the headline (sim/run/drain.py): the takers never take, so the run's keepers clear
    # nothing in the horizon, and what is still open then is marked the same way
    assert f["time_to_clear_s"] is None and f["headline_drained_bars"] == f["drain_horizon"]
    assert f["auctions_open_at_horizon"] >= f["open_auctions"]
    assert f["insolvency"] == pytest.approx(
        f["horizon_realized_bad_debt"] + f["horizon_marked_shortfall"], rel=1e-9
    )
    # the contagion table's (one type) says the same
    row = jammed.tables["contagion"].iloc[0]
    assert row["insolvency"] == f["insolvency"]
    assert row["insolvency_last_price"] == f["insolvency_last_price"]
