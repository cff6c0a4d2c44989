"""`ape run compare-waterfalls`: one scenario under several waterfall orders, one table of who paid.

    ape run compare-waterfalls --scenario black-thursday-2020 --vaults 200
    ape run compare-waterfalls --orders "fund,stability_pool;redistribution" --chain

Each order runs in the off-chain model (the chain's exact twin: `ape run simulate` reconciles the
two); with --chain each also runs on a private Anvil and must reconcile to zero differences.
Exit status 2 for bad input (one line), 1 if a chain run disagrees with its model run.
"""

from __future__ import annotations

import hashlib
import sys
from contextlib import nullcontext
from pathlib import Path

import click

from offchain.report.documents import ReportError, check_out_dir, write_comparison
from offchain.report.tables import scenario_lines
from offchain.sim.results.keeper_outcomes import console_lines
from offchain.sim.run.replay import replay
from offchain.sim.run.setup import SimulationError
from offchain.sim.scenario.actors import argument_problems
from offchain.sim.scenario.load import (
    ScenarioError,
    load_scenario,
    scenario_option_problem,
    waterfall_variant,
)
from offchain.sim.scenario.timeline import oracle_phase
from offchain.system.cli import empty_out, failing, one_line_usage, unwritable, vaults_option
from offchain.system.config import LAYERS
from offchain.system.progress import plan, reporting

DEFAULT_ORDERS = (
    ("fund", "stability_pool", "debt_auction", "redistribution"),
    ("stability_pool", "fund", "debt_auction", "redistribution"),
    ("fund", "debt_auction", "redistribution"),
    ("fund", "stability_pool", "redistribution"),
    ("redistribution",),
)


fail = failing("compare-waterfalls")


def _orders_tag(orders: list[tuple[str, ...]]) -> str:
    """The default directory's suffix of a comparison of these orders: the orders themselves
    when short, else a hash of them (a file name has at most 255 bytes)."""
    text = "_".join("-".join(o) for o in orders)
    if len(text) <= 80:
        return f"-{text}"
    return "-orders-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def order_problems(text: str) -> tuple[list[tuple[str, ...]], list[str]]:
    """The orders of `--orders` ("a,b,c;d,e") and what is wrong with them, one line each."""
    orders: list[tuple[str, ...]] = []
    problems: list[str] = []
    for part in text.split(";"):
        names = tuple(x.strip() for x in part.split(",") if x.strip())
        if not names:
            problems.append(f"--orders: an empty order in {text!r} (orders are separated by ';')")
            continue
        if not all(x.strip() for x in part.split(",")):
            # "fund,,redistribution" ran fund, redistribution: the empty layer dropped in silence
            # (simulate's --waterfall refuses it)
            problems.append(f"--orders: an empty layer between commas in {part.strip()!r}")
        if names in orders:
            problems.append(f"--orders: the order {','.join(names)!r} is given twice")
        for name in dict.fromkeys(names):
            if name not in LAYERS:
                problems.append(f"--orders: unknown layer {name!r} (layers: {', '.join(LAYERS)})")
            if names.count(name) > 1:
                problems.append(f"--orders: layer {name!r} appears twice in {part.strip()!r}")
        orders.append(names)
    return orders, list(dict.fromkeys(problems))  # `;;` is one empty order's mistake


def parse_orders(text: str) -> list[tuple[str, ...]]:
    orders, problems = order_problems(text)
    if problems:
        fail("\n".join(problems))
    return orders


def _problems(ctx: click.Context) -> list[str]:
    """compare-waterfalls' own checks of its options (those click converted), one line per
    mistake, with the scenario loader's of --vaults and --seed (one_line_usage's checks)."""
    p = ctx.params
    # "" ran the default orders, as if the option were not given: refused as an empty order
    problems = order_problems(p["orders"])[1] if p.get("orders") is not None else []
    problems += [line for line in [empty_out(p.get("out"))] if line]
    if p.get("out"):
        # a given --out is checked here, with the other options (it was named only once they
        # were right: one run per mistake); the default one needs the scenario's name
        try:
            check_out_dir(Path(p["out"]), "compare-waterfalls")
            problems += [f"--out {x}" for x in [unwritable(p["out"])] if x]
        except ReportError as exc:
            problems.append(str(exc))
    spec_problem = None
    if p.get("scenario_spec") is not None:
        spec_problem = scenario_option_problem(p["scenario_spec"])
    if spec_problem:
        problems.append(spec_problem)
    return problems + argument_problems(vaults=p.get("vaults"), seed=p.get("seed"))


def _run_orders(order_list, variants, chain, code) -> tuple[list, int]:
    """Each order's replay, with its console lines: (the runs, the differences found)."""
    runs, disagreements = [], 0
    for order, scenario in zip(order_list, variants, strict=True):
        label = " -> ".join(order) or "(no layer)"
        try:
            # with --chain, the complete state at the start and the end is compared; alone, none
            # is read
            done = replay(scenario, chain=chain, code=code, full_check_every=10**9)
        except SimulationError as exc:
            fail(str(exc))
        model = done.model
        # each order's run is one phase of the oracle's period: the comparison says which
        model.facts["oracle_phase"] = oracle_phase(scenario)
        if done.reconciliation is not None:
            disagreements += done.reconciliation.diff_count
            click.echo(
                f"{label}: chain and model "
                + ("agree" if done.ok else f"DISAGREE ({done.reconciliation.diff_count})")
            )
        runs.append((label, model))
        click.echo(f"{label}: done ({model.facts['run_s']:.1f} s)")
        for line in console_lines(model.tables["keeper_actions"], model.facts):
            click.echo(f"{label}: {line}")
    return runs, disagreements


@click.command(cls=one_line_usage("compare-waterfalls", _problems))
@click.option(
    "--scenario",
    "scenario_spec",
    default="black-thursday-2020",
    show_default=True,
    help="A built-in scenario, a scenario file (.toml, .yaml) or a price CSV.",
)
@vaults_option()
@click.option("--seed", type=int, default=None, help="Seed of the vault population.")
@click.option(
    "--orders", default=None, help='Orders to compare: "a,b,c;d,e" (default: five typical orders).'
)
@click.option(
    "--out",
    default=None,
    help="Output directory [default: reports/<scenario>[-<N>-vaults][-seed<S>]-waterfalls].",
)
@click.option(
    "--chain", is_flag=True, help="Also run each order on Anvil and reconcile it with the model."
)
def cli(scenario_spec, vaults, seed, orders, out, chain):
    """The same scenario under several waterfall orders: who paid what."""
    problems = _problems(click.get_current_context())
    if problems:
        fail("\n".join(problems))
    order_list = parse_orders(orders) if orders is not None else list(DEFAULT_ORDERS)
    try:
        base = load_scenario(scenario_spec, vaults=vaults, seed=seed)
        # every order's variant checked before any run (a buffer below a margin call's band)
        variants = [waterfall_variant(base, order) for order in order_list]
    except ScenarioError as exc:
        fail(str(exc))
    # one directory per command, as simulate's: a smaller or reseeded comparison never replaces
    # the default one
    suffix = (
        (f"-{vaults}-vaults" if vaults is not None else "")
        + (f"-seed{seed}" if seed is not None else "")
        # other orders, another directory: --orders replaced the plain command's comparison
        + (_orders_tag(order_list) if orders is not None else "")
    )
    out_dir = Path(out) if out else Path("reports") / f"{base.name}{suffix}-waterfalls"
    try:
        check_out_dir(out_dir, "compare-waterfalls")  # before the runs, not after
    except ReportError as exc:
        fail(str(exc))
    problem = unwritable(out_dir)  # a file as a parent, /proc/nope/x: after the runs, a traceback
    if problem:
        fail(f"--out {problem}")
    code = None
    if chain:
        from offchain.backends import project_code

        code = project_code()
    # on a terminal a status line (runs done, the current run's bars, time left); in a pipe the
    # line per order is the progress (offchain/system/progress.py)
    with reporting("compare-waterfalls") if sys.stderr.isatty() else nullcontext():
        plan(len(order_list))
        runs, disagreements = _run_orders(order_list, variants, chain, code)
    lines = [line for line in scenario_lines(base) if line[0] != "waterfall"]
    try:
        path = write_comparison(out_dir, runs, lines)
    except ReportError as exc:
        fail(str(exc))
    click.echo(f"comparison: {path}")
    if disagreements:
        sys.exit(1)
