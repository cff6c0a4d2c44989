"""The headline's drain: the open book at the end of a run, run out by the run's own keepers.

A run ends at its last bar (the path, its tail, a recorded `--drain`) with auctions still
running. The end-of-run mark (results/insolvency.py) sells that book on a copy of the venue no
keeper of the run could reach, with no block space; the headline instead lets the run go on at
the last price, with the same keepers, the same gas strategy, latency and block space, one bar at
a time, until no auction runs and no vault is unsafe at the last price (`Simulation.running`),
or until `market.drain_horizon` bars after the tail have passed (the recorded drain's bars
count). What is still open then is valued by the same mark:

    insolvency = realized bad debt at the drain's end + the marked shortfall of what is open then.

These bars are not recorded: the run's tables, facts and complete states stay those of its last
recorded bar (its `txs`, `events`, `bars`, ... and the first lines), and only the headline's
facts (`drained_facts`) and each type's part of it (the contagion table's `insolvency`) are the
drain's. Every row the bars would add is dropped as it comes (recorded with `--drain`, the same
100k books reached 4.4 and 7.2 GB), except the liquidations' (the drain's end names each running
auction's owner); the run's own lists are put back after it. The bars themselves are the
recorded drain's, bar for bar: a run with `--drain N` and no horizon ends in the state this
drain reaches after N bars, and its insolvency is this drain's headline to the wei
(tests/sim/test_drain_headline.py).
"""

from __future__ import annotations

import time as clock
from typing import Any

from offchain.model.fixed_point import RAD
from offchain.sim.market.type_market import end_of_type
from offchain.sim.results.insolvency import drained_facts
from offchain.sim.results.tables import SimulationResult
from offchain.sim.run.snapshot import run_mark_cash

__all__ = ["drain_headline"]

# `sim` is run/driver.py's Simulation (typed Any: the driver imports this module)
Simulation = Any


class _Dropped(list):
    """A table's rows during the headline's drain: nothing kept."""

    def append(self, row: Any) -> None:
        pass


def _unrecorded(sim: Simulation) -> list[tuple[dict[str, list], dict[str, list]]]:
    """Every table the run writes to drops its rows from now on; the result built before keeps
    the lists it had. The liquidations go on in a copy (the drain's end reads their owners).
    Each table set with the lists it had, for `_recorded`."""
    tables = [sim.rows] + [m.ledger.rows for m in sim.markets.values()]
    kept = []
    for rows in {id(r): r for r in tables}.values():
        kept.append((rows, dict(rows)))
        for name in rows:
            rows[name] = list(rows[name]) if name == "liquidations" else _Dropped()
    return kept


def _recorded(kept: list[tuple[dict[str, list], dict[str, list]]]) -> None:
    """The run's rows back where they were (the result's, up to its last recorded bar)."""
    for rows, lists in kept:
        rows.update(lists)


def drain_headline(sim: Simulation, result: SimulationResult) -> None:
    """Run the open book out (module docstring) and set the headline's facts in `result`."""
    started = clock.perf_counter()
    horizon = sim.scenario.market.drain_horizon
    bars = sim.drained  # a recorded drain's bars count towards the horizon
    sim.drain_ends = ends = sim.ends  # each type's accounting where the drain stopped
    if sim.running() and bars < horizon:
        kept = _unrecorded(sim)
        sim.progress = None
        while sim.running() and bars < horizon:
            sim.extend()
            bars += 1
            sim.advance(len(sim.times) - 1)
        cash = run_mark_cash(sim)
        sim.drain_ends = ends = {
            name: end_of_type(
                sim.rec, sim.deployment, name, m, sim.times, sim.scenario.market.mark_bars, cash
            )[0]
            for name, m in sim.markets.items()
        }
        _recorded(kept)
    # each type's insolvency in the contagion table is its part of the headline (its other
    # columns, the run's end)
    contagion = result.tables["contagion"]
    contagion["insolvency"] = [ends[name].insolvency / RAD for name in contagion["collateral_type"]]
    # the drain's rounds list and read too
    result.facts["auction_views"] = sim.world.auction_views
    result.facts["auction_reads"] = sim.world.auction_reads
    result.facts.update(
        drained_facts(
            result.facts["insolvency"],
            ends.values(),
            horizon,
            bars,
            sim.times[1] - sim.times[0],
            clock.perf_counter() - started,
        )
    )
