"""The headline's drain (offchain/sim/run/drain.py): after the run, its own keepers go on at the
last price, unrecorded, until the open book is run out or the horizon passes; the headline is
the realized bad debt then plus what is still open then, marked. It is the recorded drain
(`--drain`) bar for bar: the same book, the same insolvency, to the wei. The run's tables stay
its own, and the end-of-run mark is kept beside the headline as a bound. `--drain-horizon` is
checked at the edge (one line, exit 2), and the report says how the drain went."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.backends import ModelBackend
from offchain.report.headline import drain_line, headline_line
from offchain.sim.results.insolvency import EndOfRun
from offchain.sim.results.tables import SimulationResult
from offchain.sim.run.driver import Simulation, simulate
from offchain.sim.scenario.load import DRAIN_HORIZON, ScenarioError, load_scenario
from offchain.sim.scenario.timeline import genesis_time

# 300 vaults of the synthetic crash without a tail: 125 auctions open at the run's end in a
# jammed pool, which the drain runs down (its headline moves), and a run of a few bars where the
# last one clears
JAMMED = ("synthetic-crash", 300)
CLEARS = ("synthetic-crash", 100)
# Black Thursday's thin-liquidity crash without a tail: no auction running at the end but 16
# vaults unsafe at the last price the delayed oracle has not shown; the keepers liquidate them in
# the drain, into a jammed pool
UNSAFE = (str(Path(__file__).resolve().parent / "data" / "thin-liquidity-2020.toml"), None)


@dataclass
class _Run:
    """A model run's simulation (its ends, its backend) and its result."""

    sim: Simulation
    result: SimulationResult

    @property
    def drain_ends(self) -> dict[str, EndOfRun]:
        return self.sim.drain_ends

    @property
    def ends(self) -> dict[str, EndOfRun]:
        return self.sim.ends


def _sim(name: str, vaults: int | None, **market: int) -> _Run:
    scenario = load_scenario(name, vaults=vaults, overrides={"market": {"tail_bars": 0, **market}})
    sim = Simulation(scenario, ModelBackend(genesis_time(scenario)), "model", None)
    return _Run(sim, sim.run())


@pytest.mark.parametrize(
    "book, horizon",
    [(JAMMED, 40), (CLEARS, 300), (UNSAFE, 60)],
    ids=["still open at the horizon", "cleared", "unsafe vaults at the end"],
)
def test_drained_headline__equals_a_run_drained_with_drain__to_the_wei(book, horizon):
    headline = _sim(*book, drain_horizon=horizon)
    recorded = _sim(*book, drain_bars=horizon, drain_horizon=0)
    f, g = headline.result.facts, recorded.result.facts
    # every type's accounting where the drain stopped: the recorded run's at its end, every
    # integer (rad, wad) and every exposure row
    assert headline.drain_ends == recorded.ends
    assert f["insolvency"] == g["insolvency"]
    assert f["headline_drained_bars"] == g["drained_bars"] == g["headline_drained_bars"]
    assert f["auctions_open_at_horizon"] == g["open_auctions"]
    assert f["horizon_realized_bad_debt"] == g["realized_bad_debt"]
    # the headline's drain is not recorded: the run's own tables and facts end at its last bar
    assert f["drained_bars"] == 0 and f["bars"] == 144
    assert len(headline.result.tables["bars"]) == 144
    assert g["bars"] == 144 + g["drained_bars"] and g["drained_bars"] > 0


def test_drained_headline__what_the_horizon_leaves_open_is_marked_and_named():
    sim = _sim(*JAMMED, drain_horizon=40)
    f = sim.result.facts
    assert f["open_auctions"] == 125 and f["auctions_open_at_horizon"] > 0
    assert f["headline_drained_bars"] == 40 and f["time_to_clear_s"] is None
    ends = list(sim.drain_ends.values())
    marked = sum(e.marked_open_shortfall + e.marked_unsafe_shortfall for e in ends)
    realized = sum(e.realized for e in ends)
    assert f["horizon_marked_shortfall"] == marked / 10**45 > 0
    assert f["insolvency"] == (realized + marked) / 10**45
    # the end-of-run mark, the headline without the drain, stays beside it
    undrained = _sim(*JAMMED, drain_horizon=0).result.facts
    assert f["insolvency_mark"] == undrained["insolvency"] == undrained["insolvency_mark"]
    assert f["insolvency"] != f["insolvency_mark"]
    assert undrained["headline_drained_bars"] == 0 and undrained["time_to_clear_s"] is None
    line = drain_line(f)
    assert line.startswith(
        "125 auctions and 1 unsafe vault open at the run's end; after 40 bars (0.3 days)"
    )
    assert f"{f['auctions_open_at_horizon']:,} still run, marked: " in line
    assert drain_line(undrained) == (
        "125 auctions and 1 unsafe vault open at the run's end, not drained (drain horizon 0): "
        "the headline is the end-of-run mark"
    )


def test_drained_headline__unsafe_vaults_at_the_end__liquidated_in_the_drain():
    sim = _sim(*UNSAFE, drain_horizon=60)
    f = sim.result.facts
    assert (f["open_auctions"], f["unsafe_vaults_left"]) == (0, 16)
    assert f["headline_drained_bars"] == 60 and f["horizon_unsafe_vaults_left"] == 0
    assert f["auctions_open_at_horizon"] > 0 and f["insolvency"] < f["insolvency_mark"]
    assert drain_line(f).startswith(
        "0 auctions and 16 unsafe vaults open at the run's end; after 60 bars (0.4 days) at the "
        f"last price {f['auctions_open_at_horizon']:,} still run, marked: "
    )


def test_drained_headline__cleared__time_to_clear_and_the_line():
    sim = _sim(*CLEARS, drain_horizon=300)
    f = sim.result.facts
    assert f["open_auctions"] == 1 and f["auctions_open_at_horizon"] == 0
    assert 0 < f["headline_drained_bars"] < 300
    assert f["time_to_clear_s"] == f["headline_drained_bars"] * 600
    assert f["drain_horizon"] == 300
    hours = f["headline_drained_bars"] / 6
    assert drain_line(f) == (
        f"1 auction open at the run's end, all cleared by the run's keepers at the last price "
        f"in {hours:,.1f} h ({f['headline_drained_bars']:,} bars)"
    )
    line = headline_line(sim.result)
    assert "the open book run out by the run's keepers: 1 auction open" in line
    assert f"bounds: {f['insolvency_mark']:,.2f} marked at the run's end" in line


def test_drained_headline__default_horizon__a_calm_run_is_not_drained():
    scenario = load_scenario("synthetic-crash", vaults=100)
    assert scenario.market.drain_horizon == DRAIN_HORIZON == 1008
    f = simulate(scenario, "model", full_check_every=None).facts
    assert f["open_auctions"] == 0 and f["unsafe_vaults_left"] == 0
    assert f["headline_drained_bars"] == 0 and f["time_to_clear_s"] == 0
    assert f["insolvency"] == f["insolvency_mark"]
    assert drain_line(f) == "nothing open at the run's end"


def test_drain_horizon__scenario_key_out_of_range__refused():
    with pytest.raises(ScenarioError, match=r"market\.drain_horizon: must be an integer between"):
        load_scenario("synthetic-crash", overrides={"market": {"drain_horizon": 10_001}})


@pytest.mark.parametrize(
    "value, phrase",
    [
        ("-1", "simulate: --drain-horizon: must be an integer between 0 and 10000 (bars; 0: no "
         "drain, the headline is the end-of-run mark), got -1"),
        ("10001", "simulate: --drain-horizon: must be an integer between 0 and 10000"),
        ("1e400", "Invalid value for '--drain-horizon': '1e400' is not a valid integer"),
        ("nan", "Invalid value for '--drain-horizon': 'nan' is not a valid integer"),
    ],
)  # fmt: skip
def test_simulate_cli__bad_drain_horizon__one_line_exit_2_nothing_written(tmp_path, value, phrase):
    out = tmp_path / "report"
    cli = script_cli("simulate")
    args = ["--drain-horizon", value, "--backend", "model", "--out", str(out), "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and phrase in lines[0], lines
    assert not out.exists()


def test_simulation__the_twin_keeps_no_log_of_the_events_it_recorded():
    """The model's `env.logs` kept every event a run emitted (a 100k drained run's largest
    growth); the recorder takes each transaction's as it is mined, so the driver drops the log
    after each bar: the events table still has every one."""
    sim = _sim(*CLEARS, drain_horizon=300)
    backend = sim.sim.backend
    assert isinstance(backend, ModelBackend) and backend.env.logs == []
    events = sim.result.tables["events"]
    assert len(events) > 1_000 and (events["event"] == "Taken").any()


@pytest.mark.slow
def test_drained_headline__the_outside_has_no_stablecoin_left__the_mark_sells_at_the_pools_quote():
    """2021-05-19 at 20,000 vaults and its worst oracle phase (0 s): the drain ends at its horizon
    with auctions open, and the outside, whose stablecoin pays every sale on the venue, has
    spent all but a few units buying the auctions' collateral. The mark no longer sells their
    lots on a venue that could not pay: what the outside cannot buy fetches its share of the
    keepers' pool's quote, so the headline is the pool-sale bound here (each lot's share covers
    its debt: no shortfall either way), and the line says how many tokens went unpaid."""
    scenario = load_scenario("may-2021", vaults=20_000, overrides={"market": {"oracle_phase": 0}})
    sim = Simulation(scenario, ModelBackend(genesis_time(scenario)), "model", None, None)
    f = sim.run().facts
    assert f["auctions_open_at_horizon"] > 0 and f["time_to_clear_s"] is None
    unpaid, tokens = f["horizon_mark_unpaid_collateral"], f["open_auction_collateral"]
    assert 0.99 * tokens < unpaid <= tokens  # all but what a few units of stablecoin bought
    assert f["insolvency"] == f["insolvency_pool_sale"]
    assert f"({unpaid:,.2f} tokens the outside had no stablecoin to buy on the venue" in (
        drain_line(f)
    )
