"""`ape run sweep`: seeded crash replays over a grid of parameters, on a process pool or a Dask
cluster; VaR of bad debt per parameter cell, heatmaps, and sampled runs re-checked on chain.

    ape run sweep --scenario black-thursday-2020 --seeds 100 \\
        --grid liquidation_penalty=1.13,1.2 --grid waterfall=fund+stability_pool,redistribution \\
        --out reports/bt-sweep
    ape run sweep --file my-sweep.toml                      # the same in a file (TOML or YAML)
    ape run sweep ... --dask                                # a Dask LocalCluster
    ape run sweep ... --scheduler tcp://10.0.0.5:8786       # an existing Dask cluster

Running the same command again resumes a killed sweep (finished runs are skipped) or, when it
is complete, writes its report again. Exit status: 0 when done (failed runs are reported, not
fatal); 1 when a run re-checked on chain disagrees with the model, or the executor failed
mid-sweep (run it again to resume); 2 for bad input (one line; nothing written).
See docs/sweeps.md.
"""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import click

from offchain.backends import project_code
from offchain.sim.scenario.load import ScenarioError, scenario_option_problem
from offchain.sweep.executors import (
    DaskExecutor,
    Executor,
    ExecutorError,
    PoolExecutor,
    default_workers,
)
from offchain.sweep.runner import DEFAULT_VERIFY, Options, SweepAborted, run_sweep
from offchain.sweep.spec import (
    RANKED,
    SweepError,
    SweepFile,
    SweepSpec,
    borrower_cost_fraction,
    check_grid,
    check_seeds,
    load_sweep_file,
    parse_grid_option,
    plan,
    verify_problem,
    workers_problem,
)
from offchain.sweep.store import Store
from offchain.system.cli import empty_out, failing, one_line_usage, unwritable, vaults_option

DEFAULT_SCENARIO = "black-thursday-2020"
DEFAULT_SEEDS = 100
# how long --scheduler's address may take to accept a connection, checked with the options [s]
SCHEDULER_PROBE_S = 3.0


fail = failing("sweep")


def _settings(p: dict) -> tuple[SweepFile, tuple, list[str]]:
    """The sweep file, the grid and every mistake of the options (those click converted: `p`)
    and the file, one line each, before anything is written or started."""
    problems: list[str] = []
    f, dims = SweepFile(), ()
    try:
        f = load_sweep_file(p["sweep_file"]) if p.get("sweep_file") else SweepFile()
    except SweepError as exc:
        problems += str(exc).splitlines()
    try:
        grid = p.get("grid")
        dims = tuple(parse_grid_option(g) for g in grid) if grid else (f.grid or ())
        check_grid(dims, "--grid")
    except SweepError as exc:
        problems += str(exc).splitlines()
    problems.append(empty_out(p.get("out")) or "")
    if p.get("seeds") is not None:
        try:
            check_seeds(p["seeds"], "--seeds")
        except SweepError as exc:
            problems.append(str(exc))
    workers = p["workers"] if p.get("workers") is not None else f.workers
    dask = p["dask"] if p.get("dask") is not None else bool(f.dask)
    scheduler = p["scheduler"] if p.get("scheduler") is not None else f.scheduler
    if p.get("workers") is not None:
        problems.append(workers_problem(p["workers"], "--workers") or "")
    if scheduler is not None and not scheduler.strip():
        # (taken as none: the sweep ran on the local pool in silence)
        problems.append(f"--scheduler {scheduler!r} is empty: give tcp://HOST:PORT")
    if dask and scheduler:
        problems.append(
            "--dask starts a local cluster, --scheduler uses an existing one: give one of them"
        )
    if scheduler and workers is not None:
        problems.append(
            "--workers does not apply with --scheduler (the cluster's workers run the sweep)"
        )
    if scheduler and scheduler.strip():
        # a malformed address: refused here, before a Dask client half-built on it prints a
        # traceback at exit ("Exception ignored in Client.__del__", 10 s later)
        from distributed.comm import parse_address
        from distributed.comm.addressing import parse_host_port
        from distributed.comm.registry import backends

        host: str | None = None
        try:
            scheme, location = parse_address(scheduler)
            if scheme not in backends:
                # http://: Dask's dashboard, or a slip; it was probed and called unreachable
                problems.append(
                    f"--scheduler {scheduler}: {scheme}:// is not a Dask scheduler's scheme "
                    "(give tcp://HOST:PORT)"
                )
            else:
                host, port = parse_host_port(location)
        except ValueError as exc:
            problems.append(
                f"--scheduler {scheduler}: {' '.join(str(exc).split())} (tcp://HOST:PORT)"
            )
        # asked for even when every run is done already (a resumed sweep contacts no
        # scheduler): a cluster given and gone is named, not passed over; with --dask as well
        # (which was meant is not known: named above), so that fixing that line alone does
        # not bring this one up in the next run
        if host is not None:
            try:
                socket.create_connection((host, port), timeout=SCHEDULER_PROBE_S).close()
            except OSError as exc:
                problems.append(
                    f"--scheduler {scheduler}: unreachable ({exc.strerror or exc}; start the "
                    "scheduler, or drop --scheduler)"
                )
    if p.get("verify") is not None:
        problems.append(verify_problem(p["verify"], "--verify") or "")
    cost_text, where = p.get("max_borrower_cost"), "--max-borrower-cost"
    if cost_text is None and f.max_borrower_cost is not None:
        cost_text, where = f.max_borrower_cost, f"{p.get('sweep_file')}: sweep.max_borrower_cost"
    if cost_text is not None:
        try:
            borrower_cost_fraction(cost_text, where)
        except SweepError as exc:
            problems.append(str(exc))
    for scenario_spec in p.get("scenarios") or ():
        problems.append(scenario_option_problem(scenario_spec) or "")
    return f, dims, [line for line in problems if line]


def _problems(ctx: click.Context) -> list[str]:
    """sweep's checks of its options and its file, one line per mistake: called by
    one_line_usage where click refused a value, so every mistake is named in one run (the grid's
    values too, which the command checks against the plan)."""
    f, dims, problems = _settings(ctx.params)
    return problems + _grid_value_problems(ctx.params, f, dims)


def _grid_value_problems(p: dict, f: SweepFile, dims: tuple) -> list[str]:
    """The grid values' own mistakes (`--grid dust=abc`), as the plan names them: asked where
    the command stops before its plan (another option's mistake), so that they are named with
    it, not in the next run."""
    if not dims:
        return []
    spec = SweepSpec(
        scenarios=tuple(p.get("scenarios") or ()) or f.scenarios or (DEFAULT_SCENARIO,),
        seeds=1,
        grid=dims,
        vaults=p.get("vaults") if p.get("vaults") is not None else f.vaults,
    )
    try:
        plan(spec)
    except SweepError as exc:
        return [x for x in str(exc).splitlines() if x.startswith("grid ")]
    except ScenarioError:  # a scenario's own mistake: named by _settings
        return []
    return []


@click.command(cls=one_line_usage("sweep", _problems))
@click.option(
    "--file",
    "sweep_file",
    default=None,
    help="A sweep file (.toml, .yaml): [sweep] and [grid] tables; options given here override it.",
)
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    help=f"A built-in scenario, a scenario file or a price CSV; repeat for more "
    f"[default: {DEFAULT_SCENARIO}].",
)
@click.option("--seeds", type=int, default=None, help=f"Runs per cell [default: {DEFAULT_SEEDS}].")
@vaults_option(in_sweep=True)
@click.option(
    "--grid",
    "grid",
    multiple=True,
    help="NAME=v1,v2,... with NAME a scenario or config key (liquidation_penalty, dust, "
    "waterfall=fund+stability_pool,redistribution, ...); repeat for more.",
)
@click.option("--workers", type=int, default=None, help="Processes [default: every local core].")
@click.option("--dask", is_flag=True, default=None, help="Run on a Dask LocalCluster.")
@click.option("--scheduler", default=None, help="Run on an existing Dask cluster: tcp://HOST:PORT.")
@click.option("--out", default=None, help="Output directory [default: reports/<scenario>-sweep].")
@click.option(
    "--verify",
    type=int,
    default=None,
    help=f"Runs re-checked on Anvil and reconciled [default: {DEFAULT_VERIFY}].",
)
@click.option(
    "--max-borrower-cost",
    default=None,
    help="The recommendation's constraint: mean borrower cost per cell, of the vaults' debt: "
    "a share below 1 (0.02) or a percent (2%, 150%); a bare 1 or more is refused as ambiguous.",
)
@click.option(
    "--rank-by",
    type=click.Choice(RANKED),
    default=None,
    help="What the recommendation, the heatmaps and the histograms rank cells by: insolvency, "
    "uncovered (bad debt no layer paid) or holders_loss (the stablecoin holders' loss) "
    "[default: insolvency].",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def cli(
    sweep_file,
    scenarios,
    seeds,
    vaults,
    grid,
    workers,
    dask,
    scheduler,
    out,
    verify,
    max_borrower_cost,
    rank_by,
    quiet,
):
    """Risk sweep: many seeded replays per parameter cell, VaR of bad debt, checked on chain."""
    f, dims, problems = _settings(click.get_current_context().params)
    if problems:
        fail(
            "\n".join(problems + _grid_value_problems(click.get_current_context().params, f, dims))
        )
    workers = workers if workers is not None else f.workers
    dask = dask if dask is not None else bool(f.dask)
    scheduler = scheduler if scheduler is not None else f.scheduler
    p_verify = verify
    verify = (
        verify if verify is not None else (f.verify if f.verify is not None else DEFAULT_VERIFY)
    )
    cost_text = max_borrower_cost if max_borrower_cost is not None else f.max_borrower_cost
    cost = (
        borrower_cost_fraction(cost_text, "--max-borrower-cost") if cost_text is not None else None
    )
    spec = SweepSpec(
        scenarios=tuple(scenarios) or f.scenarios or (DEFAULT_SCENARIO,),
        seeds=seeds if seeds is not None else (f.seeds or DEFAULT_SEEDS),
        grid=dims,
        vaults=vaults if vaults is not None else f.vaults,
    )
    # the plan's mistakes, --out's and --verify's against the plan, named together
    problems: list[str] = []
    the_plan = None
    try:
        the_plan = plan(spec)
    except SweepError as exc:
        problems += str(exc).splitlines()
    out_dir: Path | None = None
    given_out = out or f.out
    if given_out:
        out_dir = Path(given_out)
    elif the_plan is not None:
        out_dir = Path("reports") / f"{the_plan.cells[0].scenario.name}-sweep"
    problem = unwritable(out_dir) if out_dir is not None else None
    if problem:  # a file as a parent, /proc/nope/x: a traceback before
        problems.append(f"--out {problem}")
    # a K given above the runs there are was taken and fewer re-checked (the default, 2,
    # re-checks at most the runs there are)
    where = "--verify" if p_verify is not None else f"{sweep_file}: sweep.verify"
    given_verify = p_verify is not None or f.verify is not None
    if the_plan is not None and given_verify and verify > the_plan.total:
        cells = len(the_plan.cells)
        problems.append(
            f"{where}: {verify:,} is more than the sweep's {the_plan.total:,} runs ({cells:,} "
            f"cell{'s' if cells != 1 else ''} x {spec.seeds:,} seeds); give at most "
            f"{the_plan.total:,}"
        )
    if problems or the_plan is None or out_dir is None:
        fail("\n".join(problems))
        return
    try:
        store = Store(out_dir, the_plan)
        resume = store.check()
    except SweepError as exc:
        fail(str(exc))
        return
    done = set(store.finished()) if resume else set()
    todo = the_plan.total - len(done)
    executor: Executor | None = None
    if todo:
        try:
            if scheduler:
                executor = DaskExecutor(scheduler)
            elif dask:
                executor = DaskExecutor(None, workers or default_workers())
            else:
                executor = PoolExecutor(workers or default_workers())
        except ExecutorError as exc:
            fail(str(exc))
            return
    # Ape exits at once on Ctrl-C (status 130); here it interrupts, so the message below says
    # what is kept
    previous_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        try:
            store.open()
        except SweepError as exc:
            fail(str(exc))
            return
        click.echo(
            f"sweep: {len(the_plan.cells):,} cells x {spec.seeds:,} seeds = {the_plan.total:,} "
            f"runs" + (f" on {executor.description}" if executor else "") + f"; {store.root}"
        )
        if resume:
            click.echo(f"resuming: {len(done):,} of {the_plan.total:,} runs already done")
        options = Options(
            verify=verify,
            max_borrower_cost=cost,
            rank_by=rank_by or f.rank_by or RANKED[0],
        )
        if quiet or not todo or not sys.stderr.isatty():  # a bar only on a terminal
            outcome = run_sweep(the_plan, store, executor, options, project_code, done=done)
        else:
            with click.progressbar(
                length=todo,
                label="runs",
                file=sys.stderr,
                show_pos=True,
                show_eta=True,
                item_show_func=lambda failed: f"{failed or 0:,} failed",
            ) as bar:
                outcome = run_sweep(
                    the_plan,
                    store,
                    executor,
                    options,
                    project_code,
                    progress=lambda count, failed: bar.update(count - bar.pos, failed),
                    done=done,
                )
    except SweepAborted as exc:
        fail(str(exc), status=1)
        return
    except KeyboardInterrupt:
        written = len(store.finished())
        fail(
            f"interrupted: {written:,} of {the_plan.total:,} runs are written; run the same "
            "command to resume",
            status=130,
        )
        return
    finally:
        signal.signal(signal.SIGINT, previous_handler)
        if executor is not None:
            executor.close()
        store.close()
    rate = f", {outcome.executed / outcome.run_s:.2f} runs/s" if outcome.executed else ""
    click.echo(
        f"{outcome.total:,} runs ({outcome.failed:,} failed); {outcome.executed:,} run now in "
        f"{outcome.run_s:,.1f} s{rate}" + (f", {outcome.skipped:,} already done" if resume else "")
    )
    for v in outcome.verifications:
        state = (
            f"NOT CHECKED ({v.error})"
            if v.error
            else f"{v.differences:,} differences"
            + ("" if not v.figures_differ else f"; figures differ: {', '.join(v.figures_differ)}")
        )
        click.echo(f"on chain: run {v.run} (cell {v.cell}, seed {v.seed}): {state}")
    click.echo(f"report: {outcome.summary}")
    if not outcome.verified:
        sys.exit(1)
