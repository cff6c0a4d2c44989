"""Flash takes on the outside venue in a run (offchain/sim/market/flash_venue.py; issue 73): in an
open market a flash take sells its lot where it pays more, the keepers' pool or the outside
venue (an OutsideVenue on chain, inside the take, as May 2021's flash keepers sold through an
exchange callee); the market's driver syncs the venue first in each block that sells on it and
records the block's sales in the lab's venue, one market room; a chain run and a model run
reconcile to the wei.

Money flow: the outside's stablecoin (what the borrowers drew) goes into the venue's till before
a block's sales, the venue pays the flash takers from it and keeps their collateral; what the
till is not paid stays in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.backends import ModelBackend
from offchain.sim.market.flash_venue import FlashVenues
from offchain.sim.run.driver import Simulation
from offchain.sim.run.replay import replay
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.timeline import genesis_time


def _run(name: str, vaults: int, **market) -> tuple[Simulation, FlashVenues | None]:
    overrides = {"market": market} if market else None
    scenario = load_scenario(name, vaults=vaults, overrides=overrides)
    sim = Simulation(scenario, ModelBackend(genesis_time(scenario)), "model", None)
    sim.result = sim.run()  # type: ignore[attr-defined]
    return sim, sim.flash_venues


@pytest.fixture(scope="module")
def may() -> tuple[Simulation, FlashVenues]:
    sim, fv = _run("may-2021", 300)
    assert fv is not None
    return sim, fv


def _number(value):
    """An event's argument as the events table writes it: an integer as its digits."""
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def _events(sim: Simulation, event: str) -> list[tuple[int, int, dict]]:
    """(time, tx, args) of every `event` of the run (its part after the set-up)."""
    e = sim.result.tables["events"]  # type: ignore[attr-defined]
    rows = e[(e["event"] == event) & (e["bar"] >= 0)]
    return [
        (int(t), int(tx), {k: _number(v) for k, v in args.items()})
        for t, tx, args in zip(rows["time"], rows["tx"], rows["args"].map(json.loads))
    ]


def test_may_2021__flash_takes_go_both_ways__most_to_the_venue(may):
    """At 300 vaults on 2021-05-19 the flash taker sells 98 lots on the venue and 8 into the
    pool, each where it paid more; the facts say so."""
    sim, fv = may
    f = sim.result.facts  # type: ignore[attr-defined]
    assert (f["flash_takes_venue"], f["flash_takes_pool"]) == (98, 8)
    assert f["flash_venue_share"] == pytest.approx(98 / 106)
    assert f["flash_route"] == "best" and f["flash_venue_unpaid"] == 0
    sold = _events(sim, "Sold")
    assert len(sold) == 98  # one sale a take on the venue
    assert {args["trader"] for _, _, args in sold} == {sim.flash_takers["ETH-A"]}


def test_each_block_that_sells_on_the_venue__opens_with_its_sync(may):
    """The sync is the first transaction of every block that holds a sale on the venue (blocks
    have distinct times: a bar's first has its time, each next one second more), and there is
    no sync in a block without a take on the venue route."""
    sim, fv = may
    txs = sim.result.tables["txs"]  # type: ignore[attr-defined]
    txs = txs[txs["bar"] >= 0]
    first = txs.groupby("time")["tx"].min()
    synced = [t for t, _, _ in _events(sim, "Synced")]
    for time, _, _ in _events(sim, "Sold"):
        row = txs[txs["tx"] == first[time]].iloc[0]
        assert (row["actor"], row["contract"], row["function"]) == (
            "outside",
            "OutsideVenue",
            "sync",
        )
    # one sync a block, each in a block with a flash take
    takes = set(txs[(txs["contract"] == "FlashTaker") & (txs["function"] == "take")]["time"])
    assert len(synced) == len(set(synced)) == fv.syncs and set(synced) <= takes


def test_the_venues_sales__in_the_lab_venues_memory_and_the_outsides_ledger(may):
    """One market room: every token sold on the venue on chain is in the lab venue's memory
    (what the arbitrageur, the capital taker and the end-of-run mark trade against) and a row
    of the outside's sales; on chain the venue holds that collateral, and the stablecoin the
    outside deposited less what it paid."""
    sim, fv = may
    d, t = sim.deployment, sim.deployment.types["ETH-A"]
    venue = fv.addresses["ETH-A"]
    sold = _events(sim, "Sold")
    tokens = sum(args["amount_in"] for _, _, args in sold)
    paid = sum(args["amount_out"] for _, _, args in sold)
    o = sim.lineup.outside
    flash_rows = [row for row in o.sales if row[2] == sim.flash_takers["ETH-A"]]
    assert sum(row[4] for row in flash_rows) == tokens  # (18 decimals: a token unit is a wad)
    assert sum(row[6] for row in flash_rows) == paid
    assert sim.venue.sold == sum(row[4] for row in o.sales if row[4] > 0)
    held, till = sim.rec.read(
        [(t.token, "balanceOf", (venue,)), (d.stablecoin, "balanceOf", (venue,))]
    )
    assert held == tokens
    # the till: every deposit (the outside's StableJoin.exit to the venue) less what it paid
    deposits = [a["amount"] for _, _, a in _events(sim, "Exited") if a["recipient"] == venue]
    assert deposits and sum(deposits) == fv.deposited
    assert till == fv.till["ETH-A"] == fv.deposited - paid
    # the outside paid them from its internal stablecoin: what the borrowers drew
    assert fv.deposited <= sum(p.debt for p in sim.plans)


def test_the_sync_is_the_worlds__not_a_keepers(may):
    """The sync and the deposits are the outside's transactions: no keeper role holds them, and
    the keepers' outcomes count only their own."""
    sim, _ = may
    table = sim.result.tables["keeper_actions"]  # type: ignore[attr-defined]
    assert "outside" not in set(table["role"])
    txs = sim.result.tables["txs"]  # type: ignore[attr-defined]
    venue_txs = txs[txs["contract"] == "OutsideVenue"]
    assert set(venue_txs["actor"]) <= {"outside", "setup"}


def test_the_outside_runs_short__flash_takes_plan_within_what_the_venue_can_pay():
    """At 60 vaults on Black Thursday the outside holds what 60 borrowers drew, and the
    arbitrageur's purchases outrun it (`outside_short`): the flash taker plans its sales on the
    venue within its till and the outside's stablecoin (VenueView.cash), so none reverts for
    want of it; the lots the venue cannot pay go to the pool."""
    sim, fv = _run("black-thursday-2020", 60)
    f = sim.result.facts  # type: ignore[attr-defined]
    assert fv is not None and f["outside_short"] > 0
    assert f["flash_venue_unpaid"] == 0 and f["flash_takes_pool"] > 0
    assert f["flash_takes_venue"] > 0
    txs = sim.result.tables["txs"]  # type: ignore[attr-defined]
    assert not (txs["reason"] == "erc20: transfer amount exceeds balance").any()


def test_route_off_or_closed__no_venue_on_chain():
    """flash_route = "pool": no OutsideVenue, every flash take the four-argument one; a closed
    market has none either."""
    for market in ({"flash_route": "pool"}, {"outside": "closed"}):
        sim, fv = _run("may-2021", 50, **market)
        assert fv is None and sim.rec.hook is None
        txs = sim.result.tables["txs"]  # type: ignore[attr-defined]
        assert not (txs["contract"] == "OutsideVenue").any()


@pytest.mark.slow
def test_may_2021__the_venue_route_reconciles_on_anvil():
    """A chain run and a model run of 2021-05-19 at 150 vaults with flash takes on both routes:
    every transaction, event (the syncs, the venue's sales), bar and full-state read (the
    OutsideVenue's variables and balances included) agree to the wei."""
    done = replay(load_scenario("may-2021", vaults=150), full_check_every=30)
    chain, reconciliation = done.checked
    f = chain.facts
    assert reconciliation.ok, reconciliation.diffs[:5]
    assert f["flash_takes_venue"] > 0 and f["flash_takes_pool"] > 0
    assert any(k.startswith("venue[ETH-A].") for k in chain.states[-1][1])


# ---------------------------------------------------------------- the edge: --flash-route


def _simulate(tmp_path: Path, *args: str):
    out = tmp_path / "report"
    result = CliRunner().invoke(
        script_cli("simulate"),
        ["--backend", "model", "--phases", "one", "--out", str(out), "--quiet", *args],
    )
    return result, out


@pytest.mark.parametrize(
    "args, line",
    [
        (
            ["--scenario", "synthetic-crash", "--flash-route", "pool"],
            "simulate: --flash-route pool: applies only to an open market (a synthetic price "
            "path has no volume)",
        ),
        (["--scenario", "may-2021", "--flash-route", "venue"], "'venue' is not one of"),
    ],
    ids=["closed-market", "no-such-route"],
)
def test_simulate_cli__flash_route_refused__one_line_exit_2_nothing_written(tmp_path, args, line):
    result, out = _simulate(tmp_path, *args)
    assert result.exit_code == 2, result.output
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and line in lines[0], lines
    assert not out.exists()


def test_simulate_cli__flash_route_pool__the_pool_only__said_in_the_report(tmp_path):
    result, out = _simulate(
        tmp_path, "--scenario", "may-2021", "--vaults", "40", "--flash-route", "pool"
    )
    assert result.exit_code == 0, result.output
    text = (out / "summary.md").read_text()
    assert "flash takes sell into the keepers' pool only (market.flash_route = pool)" in text
    txs = (out / "data" / "txs.csv").read_text()
    assert "OutsideVenue" not in txs and "on the venue (on chain)" not in result.output


def test_simulate_cli__the_venue_route__each_routes_takes_in_the_first_lines(tmp_path):
    result, out = _simulate(tmp_path, "--scenario", "may-2021", "--vaults", "100")
    assert result.exit_code == 0, result.output
    assert "flash takes sold 30 lots on the venue (on chain) and 3 into the keepers' pool" in (
        result.output
    )
