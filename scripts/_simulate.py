"""`ape run simulate`: replay a crash on a private Anvil and in the off-chain model, reconcile the
two, and write the risk report.

    ape run simulate                                          # Black Thursday, 1,000 vaults
    ape run simulate --scenario black-thursday-2020 --vaults 1000 --out reports/bt
    ape run simulate --scenario my-scenario.toml              # a scenario file (TOML or YAML)
    ape run simulate --scenario prices.csv                    # a bare price CSV: the keepers and
    block space of the built-in day of its year (--lineup defaults: the schema's)
    ape run simulate --backend model                          # the model alone (no chain, no
    reconciliation)
    ape run simulate --scenario may-2021 --flash-route pool   # flash takes into the pool only

Exit status: 0 when the run reconciles (chain and model agree on every transaction, event, bar
snapshot and state variable); 1 when they differ (the report lists the differences); 2 for bad
input (one line naming the problem; nothing is written).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import click

from offchain.backends.anvil import AnvilError
from offchain.backends.hardhat import NODES
from offchain.report.documents import Block, ReportError, check_out_dir, write_report
from offchain.report.headline import headline_line
from offchain.report.phases import blocks as phase_blocks
from offchain.report.phases import console_lines as phase_console_lines
from offchain.report.phases import headline as phase_headline
from offchain.report.phases import spread as phase_spread
from offchain.report.size import blocks as size_blocks
from offchain.report.size import console_lines as size_console_lines
from offchain.report.size import own_count_run
from offchain.report.tables import deferred_by_type, scenario_lines
from offchain.sim.results.keeper_outcomes import console_lines
from offchain.sim.results.tables import SimulationResult
from offchain.sim.run.replay import replay
from offchain.sim.run.setup import SimulationError
from offchain.sim.scenario.actors import argument_problems
from offchain.sim.scenario.load import (
    DRAIN_HORIZON,
    LINEUPS,
    MAX_DRAIN_BARS,
    ScenarioError,
    builtin_scenarios,
    load_scenario,
    scenario_option_problem,
    with_phase,
)
from offchain.sim.scenario.timeline import oracle_phase, period_phases
from offchain.sim.scenario.types import Scenario
from offchain.system.cli import empty_out, failing, one_line_usage, unwritable, vaults_option
from offchain.system.config import LAYERS, layer_problem

fail = failing("simulate")


class ProgressBars:
    """One progress bar (stderr) per run of a replay, each finished when the next starts."""

    def __init__(self) -> None:
        self.label, self.bar = "", None

    def __call__(self, label: str, done: int, total: int) -> None:
        if label != self.label:
            self.close()
            self.label = label
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
        if self.bar is not None:
            self.bar.update(done - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None


def default_out(
    name: str,
    backend: str,
    node: str,
    vaults: int | None,
    seed: int | None,
    order: tuple[str, ...] | None,
    drain_bars: int | None,
    phase: int | None = None,
    flash_route: str | None = None,
    horizon: int | None = None,
) -> Path:
    """The report directory of a run without --out: one per command, so that a model run or a
    smaller one never replaces `make run`'s reconciled report (the same command run again
    replaces its own)."""
    parts = [name]
    if backend == "model":
        parts.append("model")
    elif node != "anvil":
        parts.append(node)
    if vaults is not None:
        parts.append(f"{vaults}-vaults")
    if seed is not None:
        parts.append(f"seed{seed}")
    if order is not None:
        parts.append("+".join(order))
    if drain_bars is not None:
        parts.append(f"drain{drain_bars}")
    if phase is not None:
        parts.append(f"phase{phase}")
    if flash_route is not None:
        parts.append(f"{flash_route}-route")
    if horizon is not None:
        parts.append(f"horizon{horizon}")
    return Path("reports") / "-".join(parts)


def _sections(
    scenario: Scenario,
    model: SimulationResult,
    all_phases: bool,
    result: SimulationResult,
    bars: ProgressBars | None,
    load_own: Callable[[], Scenario],
    phase: int | None,
) -> tuple[list[Block], list[str]]:
    """The report's sections after the outcome, and their console lines: the spread over the
    oracle's phases (`--phases all`, report/phases.py), and the scenario at its own count beside
    a run whose --vaults raised it (report/size.py)."""
    extra: list[Block] = []
    lines: list[str] = []
    reported = oracle_phase(scenario)
    result.facts["oracle_phase"] = reported
    try:
        if all_phases:
            table = phase_spread(scenario, bars, {reported: model})
            extra += phase_blocks(scenario, table)
            lines += phase_console_lines(table, reported)
            # the headline leads with the insolvency over every phase: the median, the worst
            # beside it (report/headline.py); the run's own is a row of the phase table
            result.facts["phases_insolvency"] = phase_headline(table, reported)
        if scenario.ceiling_scale is not None:
            own = own_count_run(load_own, phase, bars)
            extra += size_blocks(model, own, scenario.market.depth_with_vaults)
            lines += size_console_lines(model, own)
    except (SimulationError, ScenarioError) as exc:
        fail(str(exc))
    finally:
        if bars is not None:
            bars.close()
    return extra, lines


def _problems(ctx: click.Context) -> list[str]:
    """simulate's own checks of its options (those click converted: `ctx.params`), one line per
    mistake, with the scenario loader's of --vaults and --seed: called first by the command, and
    by one_line_usage where click refused a value too, so every mistake is named in one run."""
    p = ctx.params
    problems = [line for line in [empty_out(p.get("out"))] if line]
    every = p.get("full_check_every")
    model_alone = (
        p.get("backend") == "model"
        and "full_check_every" in p
        and ctx.get_parameter_source("full_check_every") is not click.core.ParameterSource.DEFAULT
    )
    if model_alone:
        # ignored before: there is no chain state to compare with the model's (its value then
        # does not matter: one line, not two)
        problems.append(
            "--full-check-every compares the chain's state with the model's; --backend model "
            "runs no chain"
        )
    elif every is not None and every < 1:
        problems.append(f"--full-check-every must be at least 1, got {every}")
    drain_bars = p.get("drain_bars")
    if drain_bars is not None and not 0 <= drain_bars <= MAX_DRAIN_BARS:
        # checked here, not by the scenario's reader: its line named the built-in scenario's
        # market.drain_bars, a key the user never wrote
        problems.append(
            f"--drain: must be an integer between 0 and {MAX_DRAIN_BARS}, got {drain_bars}"
        )
    horizon = p.get("drain_horizon")
    if horizon is not None and not 0 <= horizon <= MAX_DRAIN_BARS:
        problems.append(
            f"--drain-horizon: must be an integer between 0 and {MAX_DRAIN_BARS} (bars; 0: no "
            f"drain, the headline is the end-of-run mark), got {horizon}"
        )
    spec_problem = None
    if p.get("scenario_spec") is not None:
        spec_problem = scenario_option_problem(p["scenario_spec"])
    if spec_problem:
        problems.append(spec_problem)
    if (
        p.get("backend") == "model"
        and "node" in p
        and ctx.get_parameter_source("node") is not click.core.ParameterSource.DEFAULT
    ):
        # ignored before: the user asked for a node and got none
        problems.append(
            f"--node {p['node']} is the node of --backend both; --backend model runs no node"
        )

    waterfall = p.get("waterfall")
    if waterfall is not None and not any(x.strip() for x in waterfall.split(",")):
        # "" ran the scenario's own order, as if the option were not given
        problems.append(
            f"--waterfall {waterfall!r}: no layer (give an order of {', '.join(LAYERS)})"
        )
    elif waterfall is not None and not all(x.strip() for x in waterfall.split(",")):
        # "fund,,redistribution" ran fund, redistribution: the empty layer dropped in silence
        problems.append(f"--waterfall {waterfall!r}: an empty layer between commas")
    elif waterfall is not None:
        # (the loader's check, as the command passes the order: named beside the others)
        problem = layer_problem([x.strip() for x in waterfall.split(",") if x.strip()])
        if problem:
            problems.append(f"--waterfall: {problem}")
    if p.get("reserves_scale") is not None and p.get("reserves_file") is None:
        problems.append("--reserves-scale: applies only with --reserves")
    return problems + argument_problems(vaults=p.get("vaults"), seed=p.get("seed"))


def _overrides(
    waterfall: str | None,
    drain_bars: int | None,
    reserves_scale: str | None,
    reserves: str | None,
    horizon: int | None = None,
) -> tuple[tuple[str, ...] | None, dict]:
    """The waterfall order and the [market] overrides the options give, those that are right
    (a wrong one is _problems' line)."""
    order = None
    if waterfall is not None:
        order = tuple(x.strip() for x in waterfall.split(",") if x.strip())
        order = None if not order or layer_problem(list(order)) else order
    market = {"market": {}}
    if drain_bars is not None and 0 <= drain_bars <= MAX_DRAIN_BARS:
        market["market"]["drain_bars"] = drain_bars
    if horizon is not None and 0 <= horizon <= MAX_DRAIN_BARS:
        market["market"]["drain_horizon"] = horizon
    if reserves_scale is not None and reserves is not None:
        market["market"]["reserves_scale"] = reserves_scale
    return order, {k: v for k, v in market.items() if v}


def _scenario_and_out(
    scenario_spec: str, vaults, seed, order, market, out, backend, node, drain_bars, phase,
    gas_file, reserves_file, flash_route=None, lineup=None,
) -> tuple[Scenario | None, Path | None, list[str]]:  # fmt: skip
    """The scenario as the options load it (those that are right: a wrong one is _problems'
    line), --oracle-phase and --flash-route against it, and the report's directory: (scenario,
    out_dir, the mistakes, one line each); None where a mistake leaves nothing. A right
    --flash-route joins the [market] overrides `market` (its later loads take it too)."""
    problems: list[str] = []
    scenario = None
    if scenario_option_problem(scenario_spec) is None:
        try:
            scenario = load_scenario(
                scenario_spec,
                vaults=None if argument_problems(vaults=vaults) else vaults,
                seed=None if argument_problems(seed=seed) else seed,
                waterfall=order,
                overrides=market or None,
                gas=gas_file,
                reserves=reserves_file,
                lineup=lineup,
            )
            if phase is not None:
                scenario = with_phase(scenario, phase, "--oracle-phase")
            if flash_route is not None:
                scenario = _with_flash_route(scenario, flash_route, market)
        except ScenarioError as exc:
            problems += str(exc).splitlines()
            scenario = None
    out_dir = None
    if out:
        out_dir = Path(out)
    elif out is None and scenario is not None:
        out_dir = default_out(
            scenario.name, backend, node, vaults, seed, order, drain_bars, phase, flash_route,
            (market.get("market") or {}).get("drain_horizon"),
        )  # fmt: skip
    if out_dir is not None:
        try:
            check_out_dir(out_dir)  # before minutes of simulation, not after
            # a file as a parent, /proc/nope/x: after the run, a traceback
            problem = unwritable(out_dir)
            if problem:
                problems.append(f"--out {problem}")
        except ReportError as exc:
            problems.append(str(exc))
    return scenario, out_dir, problems


def _with_flash_route(scenario: Scenario, route: str, market: dict) -> Scenario:
    """`scenario` with --flash-route `route` (market.flash_route), which only an open market has
    (ScenarioError, naming the option: the loader's line would name the scenario file's key);
    the route joins `market`, the [market] overrides a later load of the scenario takes."""
    m = scenario.market
    if m.outside != "open":
        why = m.outside_note or "market.outside is closed"
        raise ScenarioError(f"--flash-route {route}: applies only to an open market ({why})")
    market.setdefault("market", {})["flash_route"] = route
    return replace(scenario, market=replace(m, flash_route=route))


@click.command(cls=one_line_usage("simulate", _problems))
@click.option(
    "--scenario",
    "scenario_spec",
    default="black-thursday-2020",
    show_default=True,
    help=f"A built-in scenario ({', '.join(builtin_scenarios())}), a scenario file (.toml, .yaml) "
    "or a price CSV.",
)
@vaults_option()
@click.option(
    "--seed", type=int, default=None, help="Seed of the vault population (and of a synthetic path)."
)
@click.option(
    "--waterfall",
    default=None,
    help=f"Waterfall order, comma-separated, from the layers {', '.join(LAYERS)}.",
)
@click.option(
    "--out",
    "out",
    default=None,
    help="Report directory [default: reports/<scenario name>, with a suffix for each option "
    "given: -model, -hardhat, -<N>-vaults, -seed<S>, -<waterfall order>, -drain<N>, -phase<P>, "
    "-horizon<H>].",
)
@click.option(
    "--backend",
    type=click.Choice(["both", "model"]),
    default="both",
    show_default=True,
    help="both: a chain node and the model, reconciled; model: the model alone.",
)
@click.option(
    "--node",
    type=click.Choice(list(NODES)),
    default="anvil",
    show_default=True,
    help="The chain node of --backend both: Anvil, or Hardhat Network (docs/nodes.md).",
)
@click.option(
    "--full-check-every",
    type=int,
    default=6,
    show_default=True,
    help="Bars between two comparisons of the complete state (every state variable).",
)
@click.option(
    "--drain",
    "drain_bars",
    type=int,
    default=None,
    help="Run up to this many more bars at the last price while an auction is still running "
    "(overrides the scenario's market.drain_bars; the report says if auctions still ran).",
)
@click.option(
    "--drain-horizon",
    "drain_horizon",
    type=int,
    default=None,
    help=f"The headline's drain: after the run its own keepers go on at the last price, "
    f"unrecorded, until every auction clears or this many bars after the tail pass; what is "
    f"still open then is marked (overrides the scenario's market.drain_horizon, "
    f"{DRAIN_HORIZON:,} bars by default; 0: no drain, the headline is the end-of-run mark).",
)
@click.option(
    "--oracle-phase",
    "phase",
    type=int,
    default=None,
    help="Seconds from the first bar to the oracle's first poke, below the oracle delay "
    "(overrides the scenario's market.oracle_phase; default: 600 s before the delay, the "
    "phase every replay ran with before it was an option).",
)
@click.option(
    "--phases",
    type=click.Choice(["auto", "one", "all"]),
    default="auto",
    show_default=True,
    help="all: also run the model at every phase of the oracle's period and report the spread "
    "of the headline figures (min, median, max); the headline leads with the median over the "
    "phases, the worst beside it; auto: all for a replay of a real day (a price CSV), one for "
    "a synthetic path or with --oracle-phase; one: the run's phase alone (the headline says "
    "so).",
)
@click.option(
    "--gas",
    "gas_file",
    default=None,
    help="With a bare price CSV: its gas percentiles CSV (time_utc, p30_gwei, p60_gwei, "
    "p90_gwei), of the same day.",
)
@click.option(
    "--reserves",
    "reserves_file",
    default=None,
    help="With a bare price CSV: its pool reserves CSV (time_utc, dai_reserve, weth_reserve), "
    "of the same day.",
)
@click.option(
    "--reserves-scale",
    default=None,
    help="With --reserves: the share of the reserves the collateral pool holds (e.g. 0.04: the "
    "full Uniswap pair is deeper than a replay's debt ceilings allow).",
)
@click.option(
    "--flash-route",
    type=click.Choice(["best", "pool"]),
    default=None,
    help="Where flash takes may sell in an open market (overrides market.flash_route): best, "
    "into the keepers' pool or on the outside venue, whichever pays more; pool, the pool only.",
)
@click.option(
    "--lineup",
    type=click.Choice(list(LINEUPS)),
    default=None,
    help="With a bare price CSV: day (the default), the keepers of the built-in day of its "
    "year and the block space of its date (docs/simulation.md); defaults, the schema's (a "
    "flash taker, a 2M arbitrageur, no block limit).",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def cli(
    scenario_spec,
    vaults,
    seed,
    waterfall,
    out,
    backend,
    node,
    full_check_every,
    drain_bars,
    drain_horizon,
    phase,
    phases,
    gas_file,
    reserves_file,
    reserves_scale,
    flash_route,
    lineup,
    quiet,
):
    """Replay a crash on Anvil (or Hardhat) and in the model, reconcile, and write the report."""
    problems = _problems(click.get_current_context())
    # the scenario, and what is checked against it (--oracle-phase, --out), are looked at even
    # when an option is wrong, with the options that are right: their mistakes are independent
    # ones, named in the same run (before: one run per stage)
    order, market = _overrides(waterfall, drain_bars, reserves_scale, reserves_file, drain_horizon)
    scenario, out_dir, more = _scenario_and_out(
        scenario_spec, vaults, seed, order, market, out, backend, node, drain_bars, phase,
        gas_file, reserves_file, flash_route, lineup,
    )  # fmt: skip
    problems += [line for line in more if line not in problems]
    if problems or scenario is None or out_dir is None:
        fail("\n".join(problems))
        return

    # a bar only on a terminal: elsewhere (a log file, a pipe) click writes its label alone
    bars = None if quiet or not sys.stderr.isatty() else ProgressBars()
    try:
        done = replay(
            scenario,
            chain=backend == "both",
            node=node,
            full_check_every=full_check_every,
            progress=bars,
            counterfactual=True,
        )
    except (SimulationError, AnvilError) as exc:
        fail(str(exc))
    finally:
        if bars is not None:
            bars.close()
    result, reconciliation = done.result, done.reconciliation
    model, chain = done.model, done.chain
    # (auto with --oracle-phase P ran every phase too, where the README says P runs one)
    every_phase = phases == "all" or (
        phases == "auto" and scenario.market.synthetic is None and phase is None
    )
    # a run of one phase says why in its first line (report/headline.py)
    if not every_phase:
        result.facts["phases_note"] = (
            "--phases one; --phases all runs every one"
            if phases == "one"
            else "a synthetic path: --phases auto runs one; --phases all runs every one"
            if scenario.market.synthetic is not None
            else "--oracle-phase runs that phase alone; --phases all runs every one beside it"
        )
    elif len(period_phases(scenario)) < 2:
        result.facts["phases_note"] = "the bars tell only one phase of the oracle's period apart"
    extra, lines = _sections(
        scenario,
        model,
        every_phase,
        result,
        bars,
        lambda: load_scenario(
            scenario_spec,
            seed=seed,
            waterfall=order,
            overrides=market or None,
            gas=gas_file,
            reserves=reserves_file,
            lineup=lineup,
        ),
        phase,
    )
    try:
        summary = write_report(
            out_dir, result, reconciliation, scenario_lines(scenario), done.cascade, extra
        )
    except ReportError as exc:
        fail(str(exc))
    f = result.facts
    click.echo(
        f"\n{scenario.name}: {f['vaults']:,} vaults, {f['bars']} bars, {f['transactions']:,} "
        "transactions"
        + (
            f"; {node} {chain.facts['run_s']:.1f} s, model {model.facts['run_s']:.2f} s"
            if chain
            else f"; model {model.facts['run_s']:.2f} s"
        )
    )
    for line in f.get("lab_choices", []):
        click.echo(f"set by the lab: {line}")
    if "insolvency" in f:
        click.echo(headline_line(result))
    if len(f.get("collateral_types") or []) > 1:
        click.echo(f"collateral types: {', '.join(f['collateral_types'])} (amounts: all of them)")
    for line in console_lines(result.tables["keeper_actions"], f):
        click.echo(line)
    if done.cascade is not None:
        c = done.cascade
        click.echo(
            f"cascade: the price impact added {c.liquidations_added:+,} liquidations "
            f"({c.liquidations:,} against {c.liquidations_without_impact:,} without impact), "
            f"{c.became_unsafe_added:+,} vaults that became unsafe and "
            f"{c.insolvency_added:+,.2f} of insolvency"
        )
    txs = result.tables["txs"]
    deferred = int((txs["status"] == "deferred").sum())
    if deferred:
        per_type = deferred_by_type(result)
        kinds = (
            ("liquidations", "vaults"),
            ("takes", "takes"),
            ("resets", "resets"),
            ("backstop", "backstop actions"),
        )
        click.echo(
            f"gas budgets: {deferred:,} keeper transactions deferred to a later bar, each bar "
            "it waited ("
            + "; ".join(
                f"{r['collateral_type']}: "
                + ", ".join(f"{what} {int(r[k]):,}" for k, what in kinds if r[k])
                + f", of them {int(r['binding']):,} when the keeper's sent transactions landed"
                for r in per_type.to_dict("records")
            )
            + ")"
        )
    if reconciliation is not None:
        if reconciliation.ok:
            dropped = int((txs["status"] == "dropped").sum())
            click.echo(
                f"reconciled: chain and model agree on {reconciliation.txs_compared:,} "
                f"transactions and dropped actions ({dropped:,} keeper actions dropped: a gas "
                "bid below the bar's 30th percentile or capped by the action's value"
                + (f"; {deferred:,} deferred by the keepers' gas budgets" if deferred else "")
                + "), "
                f"{reconciliation.events_compared:,} events, {reconciliation.bars_compared} bar "
                "snapshots and "
                f"{reconciliation.state_variables_compared:,} state values in "
                f"{reconciliation.state_checks} "
                "full-state checks: 0 differences"
            )
        else:
            click.echo(
                f"NOT reconciled: {reconciliation.diff_count} differences; the first:", err=True
            )
            for line in reconciliation.diffs[:10]:
                click.echo(f"  {line}", err=True)
    click.echo(f"oracle phase: {oracle_phase(scenario):,} s")
    for line in lines:
        click.echo(line)
    click.echo(f"report: {summary}")
    if reconciliation is not None and not reconciliation.ok:
        sys.exit(1)
