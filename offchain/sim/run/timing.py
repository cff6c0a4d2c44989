"""One model run of a built-in scenario, timed, in a process of its own: what `make bench`
measures for the scale figures (`sim.model_*_vaults_s`, `sim.model_*_vaults_peak_mib`).

    python -m offchain.sim.run.timing black-thursday-2020 100000 [fixed|scaled|closed] [undrained]
        [unblocked | closed blocked] [split] [--set TABLE.KEY=VALUE ...] [--phase P]

prints one JSON line: the run's seconds (the simulation alone, as a sweep runs it: no full-state
reads, no report) and its CPU seconds (what a busy machine changes least), the process's peak
resident memory [MiB] and the run's headline counts: the vaults left unsafe and never liquidated
(and their share of the population), the insolvency per
unit of the book's starting debt, the limits that bound the run (results/limits.py). The third
argument is the scenario's `market.depth_with_vaults` (default: the scenario's, "fixed"), or
"closed": the depth fixed and the market closed (`market.outside = "closed"`: the lab before the
open market, docs/market.md), to time the open market against it. "undrained": no headline
drain (`market.drain_horizon = 0`): the headline is the end-of-run mark (sim/run/drain.py).
"unblocked": the day's block space taken away (blocks without limit: `market.block_gas_limit`
0), "blocked": with "closed", the closed market keeps the scenario's block space (closing the
market drops it with the open market's other keys): what the open market's cost owes to the
venue and its lineup, and what to the block space (make bench's `market.*` figures). "split":
the line also gives the run's CPU seconds split by part (`split_s`, PARTS: the set-up, mining
the queued transactions, the takers' reads of the running auctions and their plans, the backstop
keeper's reads and dust candidates, sending each action through the gas strategy, the latency
model and the block space, and the rest), each call's own seconds (a part called inside another
counts as its own): what a run's cost is made of (make bench's `market.*_split_*` figures). Its
clock reads the process's CPU time twice a call (~300,000 calls a 100,000-vault run: a few
tenths of a second).
`--phase P` runs the oracle's phase P [s] instead of the scenario's; the line says the run's
phase, every phase of the oracle's period on the scenario's bars and whether its path is
synthetic (make bench's figures over the phases, offchain/bench/figures.py). `--set
TABLE.KEY=VALUE` (any number) replaces a key of the scenario's tables as a file would give it
(load_scenario's overrides): the calibration's rows of the ceiling curve (offchain/bench/
ceiling.py), e.g. `--set market.venue_share=0.05`. The line also gives the book's starting debt,
the capital taker's stablecoin and, per collateral type, its vaults, debt ceiling and auction
cap, its starting debt and its part of the headline (the contagion table's insolvency), and the
global ceiling and auction cap, as the run sized them [whole stablecoins]."""

from __future__ import annotations

import functools
import importlib
import json
import resource
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from offchain.sim.scenario.types import Scenario


def _peak_kib() -> int:
    """This process's peak resident memory [KiB]: VmHWM, which starts again at exec (getrusage's
    ru_maxrss keeps the peak of the process that forked this one, a large `ape` say)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: KiB on Linux only


# the parts "split" times: (module, function or Class.method, part), each a plain function or
# method looked up where it is called (a module's global, a method on its instance). A part's
# seconds are its calls' own: a call of another part inside it (a read mines the queued
# transactions first: recorder.Recorder.read) counts there; the arguments of a call are the
# caller's. The set-up's own transactions (recorder.Recorder.send) count in "setup". make
# bench's "rounds": auction_reads, plans and backstop_reads, what a round does per running
# auction
PARTS: tuple[tuple[str, str, str], ...] = (
    ("offchain.sim.run.driver", "set_up", "setup"),
    ("offchain.sim.run.recorder", "Recorder.flush", "mining"),
    ("offchain.sim.strategies.steps", "read_auction_market", "auction_reads"),
    ("offchain.sim.strategies.steps", "plan_takes", "plans"),
    ("offchain.sim.strategies.steps", "read_backstop_view", "backstop_reads"),
    ("offchain.sim.strategies.steps", "dust_candidates", "backstop_reads"),
    ("offchain.sim.run.sending", "Sending.act", "sending"),
    ("offchain.sim.run.sending", "Sending.land", "sending"),
)


@contextmanager
def part_clock(parts: tuple[tuple[str, str, str], ...] = PARTS) -> Iterator[dict[str, float]]:
    """While open, each of `parts`' functions is timed (the process's CPU seconds, by part, each
    call's own: what the calls of other parts inside it took is theirs); the seconds so far, by
    part. The functions are put back on leaving."""
    spent = {part: 0.0 for *_, part in parts}
    inner: list[float] = []  # per part call running: the seconds its inner parts' calls took
    undo: list[tuple[Any, str, Any]] = []
    try:
        for module, name, part in parts:
            owner: Any = importlib.import_module(module)
            *path, leaf = name.split(".")
            for attribute in path:
                owner = getattr(owner, attribute)
            original = vars(owner)[leaf]
            assert callable(original) and not isinstance(original, (staticmethod, classmethod))
            undo.append((owner, leaf, original))
            setattr(owner, leaf, _timed(original, part, spent, inner))
        yield spent
    finally:
        for owner, leaf, original in reversed(undo):
            setattr(owner, leaf, original)


def _timed(
    function: Callable[..., Any], part: str, spent: dict[str, float], inner: list[float]
) -> Callable[..., Any]:
    clock = time.process_time

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        inner.append(0.0)
        try:
            return function(*args, **kwargs)
        finally:
            took = clock() - start
            spent[part] += took - inner.pop()
            if inner:
                inner[-1] += took

    return timed


def _sets(argv: list[str]) -> tuple[list[str], dict[str, dict[str, str]] | None]:
    """argv without its `--set TABLE.KEY=VALUE` pairs, and those pairs as load_scenario's
    overrides; None when one is malformed (no value, no TABLE.KEY=VALUE, a key set twice)."""
    rest: list[str] = []
    sets: dict[str, dict[str, str]] = {}
    k = 0
    while k < len(argv):
        if argv[k] != "--set":
            rest.append(argv[k])
            k += 1
            continue
        if k + 1 >= len(argv):
            return rest, None
        name, eq, value = argv[k + 1].partition("=")
        table, dot, key = name.partition(".")
        if not (eq and dot and table and key and value) or key in sets.get(table, {}):
            return rest, None
        sets.setdefault(table, {})[key] = value
        k += 2
    return rest, sets


def main(argv: list[str]) -> int:
    argv, sets = _sets(argv)
    phase = None
    if len(argv) >= 2 and argv[-2] == "--phase":
        phase, argv = argv[-1], argv[:-2]
    options = argv[2:]
    depths = [x for x in options if x in ("fixed", "scaled", "closed")]
    known = ("fixed", "scaled", "closed", "undrained", "unblocked", "blocked", "split")
    if (
        len(argv) < 2
        or not argv[1].isdigit()
        or len(depths) > 1
        or any(x not in known for x in options)
        or len(set(options)) != len(options)
        or ("blocked" in options and depths != ["closed"])
        or ("unblocked" in options and "blocked" in options)
        or (phase is not None and not phase.isdigit())
        or sets is None
    ):
        print(
            "usage: python -m offchain.sim.run.timing SCENARIO VAULTS [fixed|scaled|closed] "
            "[undrained] [unblocked | closed blocked] [split] [--set TABLE.KEY=VALUE ...] "
            "[--phase P]",
            file=sys.stderr,
        )
        return 2
    from offchain.model.fixed_point import RAD
    from offchain.sim.run.driver import simulate
    from offchain.sim.scenario.load import ScenarioError, with_phase
    from offchain.sim.scenario.timeline import oracle_phase, period_phases

    assert sets is not None
    try:
        scenario = timed_scenario(argv[0], int(argv[1]), options, sets)
        if phase is not None:
            scenario = with_phase(scenario, int(phase), "--phase")
    except (ScenarioError, ValueError) as exc:  # ValueError: --set of a table none has
        print(f"timing: {exc}", file=sys.stderr)
        return 2
    with part_clock(PARTS if "split" in options else ()) as spent:
        start, cpu = time.perf_counter(), time.process_time()
        result = simulate(scenario, "model", full_check_every=None)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_kib = _peak_kib()
    f = result.facts
    debt = float(result.tables["vaults"]["debt_start"].sum())
    system = scenario.system
    counts = [scenario.vaults.count] + [t.vaults.count for t in scenario.types]
    # each type's starting debt and its part of the headline (the contagion table's, drained):
    # the vaults' rows come type by type, in the system's order (sim/run/snapshot.py)
    debts = result.tables["vaults"]["debt_start"].tolist()
    assert len(debts) == sum(counts), (len(debts), counts)
    cuts = [sum(counts[:i]) for i in range(len(counts) + 1)]
    contagion = result.tables["contagion"]
    part = dict(zip(contagion["collateral_type"], contagion["insolvency"], strict=True))
    print(
        json.dumps(
            {
                "s": round(seconds, 2),
                "cpu_s": round(cpu, 2),
                "peak_mib": round(peak_kib / 1024),
                "transactions": f["transactions"],
                # running auctions listed, one list a type and round, the drain's rounds too
                # (the transactions above are the run's to the data's end), and of them those
                # whose status was read (observe.choose_running)
                "auction_views": f["auction_views"],
                "auction_reads": f["auction_reads"],
                "realized_bad_debt": round(f["realized_bad_debt"], 2),
                "insolvency": round(f["insolvency"], 2),
                "unsafe_vaults_left": f["unsafe_vaults_left"],
                "unsafe_left_share": round(f["unsafe_vaults_left"] / f["vaults"], 5),
                "insolvency_per_debt": round(f["insolvency"] / debt, 6) if debt else 0.0,
                # the book and the limits the run sized to it (sim/scenario/ceilings.py)
                "debt": round(debt, 2),
                "taker_capital": scenario.keepers.taker_capital // 10**18,
                "vaults_by_type": {c.name: n for c, n in zip(system.collateral, counts)},
                "debt_by_type": {
                    c.name: round(float(sum(debts[cuts[i] : cuts[i + 1]])), 2)
                    for i, c in enumerate(system.collateral)
                },
                "insolvency_by_type": {
                    c.name: round(float(part[c.name]), 2) for c in system.collateral
                },
                "debt_ceiling_by_type": {c.name: c.debt_ceiling // RAD for c in system.collateral},
                "auction_cap_by_type": {c.name: c.auction_cap // RAD for c in system.collateral},
                "global_debt_ceiling": system.global_debt_ceiling // RAD,
                "max_debt_in_auction": system.max_debt_in_auction // RAD,
                "open_auctions": f["open_auctions"],
                # the headline's drain (sim/run/drain.py): the run's end marked without it, the
                # drain's bars, time to clear (None: not within the horizon), what it left open,
                # its seconds against the run's (the same process)
                "insolvency_mark": round(f["insolvency_mark"], 2),
                "mark_per_debt": round(f["insolvency_mark"] / debt, 6) if debt else 0.0,
                "drained_bars": f["headline_drained_bars"],
                "time_to_clear_s": f["time_to_clear_s"],
                "open_at_horizon": f["auctions_open_at_horizon"],
                "run_s": f["run_s"],
                "drain_s": f["drain_s"],
                "drain_over_run": round(f["drain_s"] / f["run_s"], 3) if f["run_s"] else 0.0,
                "binding_limits": f["binding_limits"],
                "oracle_phase": oracle_phase(scenario),
                "phases": list(period_phases(scenario)),
                "synthetic": scenario.market.synthetic is not None,
            }
            | (
                # the CPU seconds by part ("split"), the rest: the run's other work (the
                # prices, the other keepers' decisions, the bars' rows, the result's tables)
                {
                    "split_s": {part: round(s, 3) for part, s in spent.items()}
                    | {"rest": round(cpu - sum(spent.values()), 3)}
                }
                if "split" in options
                else {}
            )
        )
    )
    return 0


def timed_scenario(
    name: str, vaults: int, options: list[str], sets: dict[str, dict[str, str]]
) -> Scenario:
    """The scenario a timed run runs: `name` at `vaults`, with timing's `options` (the depth or
    "closed", "undrained", "unblocked", "blocked": the module docstring) and `sets` (load_scenario's
    overrides). ScenarioError or ValueError (a --set of a table none has) where it cannot be."""
    from offchain.sim.scenario.load import load_scenario

    market: dict[str, object] = dict(sets.get("market", {}))
    rest = {table: keys for table, keys in sets.items() if table != "market"}
    depths = [x for x in options if x in ("fixed", "scaled", "closed")]
    if depths == ["closed"]:
        market["outside"] = "closed"
    elif depths:
        market["depth_with_vaults"] = depths[0]
    if "undrained" in options:
        market["drain_horizon"] = 0
    overrides: dict[str, Mapping[str, object]] = {**rest, **({"market": market} if market else {})}
    scenario = load_scenario(name, vaults=vaults, overrides=overrides or None)
    if "unblocked" in options:
        scenario = replace(
            scenario, market=replace(scenario.market, block_gas_limit=0, blockspace=None)
        )
    elif "blocked" in options:  # the block space the scenario has with its market open
        opened = {key: value for key, value in market.items() if key != "outside"}
        day = load_scenario(name, vaults=vaults, overrides={**rest, "market": opened}).market
        scenario = replace(
            scenario,
            market=replace(
                scenario.market, block_gas_limit=day.block_gas_limit, blockspace=day.blockspace
            ),
        )
    return scenario


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
