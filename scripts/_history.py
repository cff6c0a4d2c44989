"""`ape run history`: a crash day as it happened under MakerDAO's liquidation system of the time, in
a model, beside the figures history published (issues 48 and 64; docs/history.md).

    ape run history --day black-thursday-2020    # the 2020 Cat and Flipper
    ape run history --day may-2021               # Liquidations 2.0: the Dog and Clipper
    ape run history --day may-2021 --out reports/may --set outside=closed --set takers=21
    ape run history --backend model              # Backstop's side in the model alone (no node)
    ape run history --workers 1                  # the runs one after the other, in this process

Runs the day under the settings of its day file (offchain/history/days/, each with its source,
or named as an assumption; `--set NAME=VALUE` changes one for every run), then once more for
each assumption's alternatives (the sensitivity table): a model of another protocol's
mechanism, not Backstop's. Then the same eve and day under Backstop (offchain/history/
backstop.py): on a private Anvil and in the model, reconciled, and its sensitivity in the model.
The independent runs go on the sweep's process pool (`--workers`, default: the cores), with a
progress line on a terminal. Writes summary.md, Backstop's scenario (backstop/) and its risk
report (backstop/report/). Exit status 0; 1 when Backstop's chain and model runs differ; 2 for
bad input (one line per mistake, nothing written).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from offchain.backends.anvil import AnvilError
from offchain.history.backstop import COUNTERFACTUALS, settings_problem
from offchain.history.days import DAYS as DAY_FILES
from offchain.history.days import day as day_file
from offchain.history.days.settings import (
    SettingError,
    check_together,
    parse_overrides,
    repeated_settings,
)
from offchain.history.report import write
from offchain.report.documents import ReportError, check_out_dir
from offchain.sim.run.setup import SimulationError
from offchain.sim.scenario.load import ScenarioError
from offchain.sweep.executors import ExecutorError, default_workers
from offchain.sweep.spec import workers_problem
from offchain.system.cli import empty_out, failing, one_line_usage, unwritable

DAYS = tuple(DAY_FILES)
fail = failing("history")


def _overrides(ctx: click.Context) -> tuple[dict[str, object], list[str]]:
    """The `--set` pairs as the day's overrides, or the mistakes (one line each)."""
    day, pairs = ctx.params.get("day"), ctx.params.get("set") or ()
    if day not in DAY_FILES:
        return {}, []
    out: dict[str, object] = {}
    problems = []
    settings = day_file(day).SETTINGS
    problems += repeated_settings(pairs)  # (the last was taken in silence)
    for pair in pairs:
        try:
            # each alone, so that every mistake is named (parse_overrides checks them together)
            out.update(parse_overrides(settings, (pair,), together=False))
        except SettingError as exc:
            problems.append(str(exc))
    if not problems:
        try:
            check_together(settings, out)
        except SettingError as exc:
            problems.append(str(exc))
    if not problems and out:
        # the eve's scenario under Backstop, held to a scenario file's rules (sim/scenario)
        problem = settings_problem(out, COUNTERFACTUALS[day])
        problems += problem.splitlines() if problem else []
    return out, list(dict.fromkeys(problems))  # (a setting repeated is named once)


def _problems(ctx: click.Context) -> list[str]:
    """The options' mistakes, one line each: also called by one_line_usage where click refused a
    value, so that a given --out's mistake is named beside the others in one run."""
    problems = _overrides(ctx)[1]
    workers = ctx.params.get("workers")
    # (the sweep's bound: --workers 100000 started a pool of that many processes)
    if workers is not None and (problem := workers_problem(workers, "--workers")):
        problems.append(problem)
    out = ctx.params.get("out")
    empty = empty_out(out)
    if empty or not out:
        return problems + ([empty] if empty else [])
    try:
        check_out_dir(Path(out), "history")
    except ReportError as exc:
        return problems + [str(exc)]
    problem = unwritable(Path(out))
    return problems + ([f"--out {problem}"] if problem else [])


def _run_lines():
    """A progress callable for a pipe or a log: one line on stderr per finished run."""
    said = [0]

    def progress(done: int, total: int) -> None:
        if done > said[0]:
            said[0] = done
            click.echo(f"history: {done} of {total} runs done", err=True)

    return progress


@click.command(cls=one_line_usage("history", _problems))
@click.option(
    "--day",
    type=click.Choice(DAYS),
    default=DAYS[0],
    show_default=True,
    help="The crash day to replay under its mechanism of the time.",
)
@click.option("--out", default=None, help="Report directory [default: reports/history-<day>].")
@click.option(
    "--backend",
    type=click.Choice(["both", "model"]),
    default="both",
    show_default=True,
    help="Backstop's side: both, on Anvil and in the model, reconciled; model, the model alone.",
)
@click.option(
    "--set",
    "set",
    multiple=True,
    metavar="NAME=VALUE",
    help="Change one of the day's settings for every run (repeatable; the day file names them).",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Processes for the independent runs [default: the cores; 1: in this process].",
)
def cli(day, out, backend, set, workers):  # noqa: A002 - the option's name
    """A crash day under MakerDAO's liquidation system of the time (a model), beside history's
    figures, and the same eve under Backstop."""
    ctx = click.get_current_context()
    problems = _problems(ctx)
    if problems:
        fail("\n".join(problems))
    overrides = _overrides(ctx)[0]
    out_dir = Path(out) if out else Path("reports") / f"history-{day}"
    try:
        check_out_dir(out_dir, "history")
    except ReportError as exc:
        fail(str(exc))
    problem = unwritable(out_dir)
    if problem:
        fail(f"--out {problem}")
    workers = workers or default_workers()
    try:
        if sys.stderr.isatty():  # a progress line on a terminal, as a sweep's
            with click.progressbar(
                length=1, label="runs", file=sys.stderr, show_pos=True, show_eta=True
            ) as bar:

                def progress(done: int, total: int) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)

                path, lines, ok = write(
                    out_dir, backend == "both", day, overrides, progress, workers
                )
        else:  # in a pipe or a log: one line per finished run, never a bar
            path, lines, ok = write(
                out_dir, backend == "both", day, overrides, _run_lines(), workers
            )
    except (SimulationError, ScenarioError, AnvilError, ReportError, ExecutorError) as exc:
        fail(str(exc))
    for line in lines:
        click.echo(line)
    click.echo(f"report: {path}")
    if not ok:
        fail("Backstop's chain and model runs differ (the report lists them)", 1)
