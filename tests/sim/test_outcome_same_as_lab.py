"""One meaning of insolvency from the devnet to the lab (issue 65): the live outcome table
(`ape run market`, `ape run reconcile`: offchain/live/outcome.py) and the lab's end of a run
(`ape run simulate`: sim/market/type_market.py's `end_of_type`) both call `end_of_run`
(sim/results/insolvency.py). Fed the same events (a model run's, which `make run` reconciles with
the chain's to the wei) and read at the same state, they give the same accounting to the wei:
every amount, every exposure row, the headline and both bounds.

The run is a closed market (no outside venue) without an external market's depth (impact_depth
0), which is what a devnet session is: there the lab marks into the keepers' pool's stablecoin
reserve, as the live table does. It ends mid-crash (the day's prices to 19:40, then nine 8%
falls, no tail), so it leaves realized bad debt, auctions still running and unsafe vaults not
liquidated, each short.
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from pathlib import Path

import pytest

from offchain.backends import ModelBackend
from offchain.live.outcome import OutcomeBook
from offchain.model.fixed_point import RAD
from offchain.model.state import Event
from offchain.sim.market.type_market import end_of_type
from offchain.sim.run.driver import Simulation
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.timeline import genesis_time

ROOT = Path(__file__).resolve().parents[2]
DAY = ROOT / "data" / "market" / "eth_usd_2020-03-12.csv"


def _crash_scenario(tmp_path: Path) -> Path:
    rows = DAY.read_text().splitlines()[: 119 + 1]  # the header and the bars to 19:40
    when = dt.datetime.fromisoformat(rows[-1].split(",")[0].replace("Z", "+00:00"))
    close = float(rows[-1].split(",")[4])
    for _ in range(9):
        when, close = when + dt.timedelta(minutes=10), close * 0.92
        rows.append(f"{when:%Y-%m-%dT%H:%M:%SZ},{close},{close},{close},{close},1,1")
    (tmp_path / "crash.csv").write_text("\n".join(rows) + "\n")
    text = (ROOT / "tests" / "sim" / "data" / "thin-liquidity-2020.toml").read_text()
    for old, new in (
        ('"data/market/eth_usd_2020-03-12.csv"', f'"{tmp_path / "crash.csv"}"'),
        ('"data/market/gas_2020-03-12.csv"', f'"{ROOT / "data/market/gas_2020-03-12.csv"}"'),
        ('"config/devnet.toml"', f'"{ROOT / "config/devnet.toml"}"'),
        ("tail_bars = 36", "tail_bars = 0"),
    ):
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "crash.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory):
    scenario = load_scenario(str(_crash_scenario(tmp_path_factory.mktemp("crash"))))
    assert scenario.market.impact_depth == 0 and scenario.market.venue is None
    # without the headline's drain (sim/run/drain.py): the live book and the lab both account
    # for the run's end, the same events
    sim = Simulation(scenario, ModelBackend(genesis_time(scenario)), "model", None, drain=False)
    result = sim.run()
    return sim, result


def _live_book(sim: Simulation) -> OutcomeBook:
    """The live path: an OutcomeBook fed the run's events, one transaction at a time, as
    `read_logs` (market) and the replayer (reconcile) feed it the chain's."""
    book = OutcomeBook(sim.deployment, own=sim.actors.roles().values())
    for (_, t, _), rows in groupby(sim.rows["events"], key=lambda r: (r[0], r[1], r[2])):
        book.on_events([Event(r[5], r[6], r[7]) for r in rows], t)
    return book


def test_live_outcome_and_lab__same_events__same_insolvency_to_the_wei(lab_run):
    sim, result = lab_run
    name = sim.collateral.name
    m = sim.markets[name]
    lab, _ = end_of_type(sim.rec, sim.deployment, name, m, sim.times, sim.scenario.market.mark_bars)
    # the run leaves every part of the accounting non-zero: a test of the whole of it
    assert lab.realized > 0 and lab.marked_open_shortfall > 0 and lab.marked_unsafe_shortfall > 0
    assert lab.open_auctions > 0 and lab.unsafe_vaults > 0 and lab.fire_sale_shortfall > 0
    live = _live_book(sim).outcome(sim.backend).types
    assert [t.name for t in live] == [name]
    assert live[0].end == lab  # every field, the exposure rows included
    assert lab.insolvency / RAD == result.facts["insolvency"]
    assert lab.insolvency_last_price / RAD == result.facts["insolvency_last_price"]
    # the live mark price is the oracle's last post; the lab's, its last bar's market price
    assert live[0].end.mark_price == m.prices[-1]


def test_live_outcome__lines_lead_with_insolvency_and_its_share_of_the_debt(lab_run):
    sim, _ = lab_run
    book = _live_book(sim)
    [t] = book.outcome(sim.backend).types
    e = t.end
    # the borrowers' debt before the first liquidation: the population's, with the fees accrued
    # by then (the lab's actors' own vaults, as a devnet's governance's, are not counted)
    population = sum(p.debt for p in sim.markets[t.name].plans) * 10**27
    assert population <= t.debt_before < population * 101 // 100
    assert t.liquidated
    lines = t.lines()
    share = f"{100 * e.insolvency / t.debt_before:.2f}%"
    assert lines[0] == (
        f"  {t.name}: INSOLVENCY {e.insolvency / RAD:,.2f} = {share} of the borrowers' debt "
        f"before the first liquidation, {t.debt_before / RAD:,.2f}"
    )
    optimistic = e.insolvency_last_price / RAD
    assert f"insolvency at the last price (the optimistic bound) {optimistic:,.2f}" in lines[2]
    assert "sold at once into the keepers' pool" in lines[2]
    assert "outside venue: none" in lines[2]
    assert f"{e.open_auctions:,} auctions still running" in lines[3]
