"""`ape run history`: a crash day as it happened under MakerDAO's 2020 auctions, in a model, beside
the figures history published (issue 48; docs/history.md).

    ape run history --day black-thursday-2020
    ape run history --day black-thursday-2020 --out reports/bt-history
    ape run history --backend model        # Backstop's side in the model alone (no node)

Runs the day under the settings of offchain/history/black_thursday.py (each with its source, or
named as an assumption), then once more for each assumption's alternatives (the sensitivity
table): a model of another protocol's mechanism, not Backstop's. Then the same eve and day under
Backstop (offchain/history/backstop.py): on a private Anvil and in the model, reconciled, and its
sensitivity in the model. Writes summary.md, Backstop's scenario (backstop/) and its risk report
(backstop/report/). Exit status 0; 1 when Backstop's chain and model runs differ; 2 for bad
input (one line per mistake, nothing written).
"""

from __future__ import annotations

from pathlib import Path

import click

from offchain.backends.anvil import AnvilError
from offchain.history.report import write
from offchain.report.documents import ReportError, check_out_dir
from offchain.sim.run.setup import SimulationError
from offchain.sim.scenario.load import ScenarioError
from offchain.system.cli import empty_out, failing, one_line_usage, unwritable
from offchain.system.progress import reporting

DAYS = ("black-thursday-2020",)
fail = failing("history")


def _problems(ctx: click.Context) -> list[str]:
    """The options' mistakes, one line each: also called by one_line_usage where click refused a
    value, so that a given --out's mistake is named beside the others in one run."""
    out = ctx.params.get("out")
    empty = empty_out(out)
    if empty or not out:
        return [empty] if empty else []
    try:
        check_out_dir(Path(out), "history")
    except ReportError as exc:
        return [str(exc)]
    problem = unwritable(Path(out))
    return [f"--out {problem}"] if problem else []


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
def cli(day, out, backend):
    """A crash day under MakerDAO's 2020 flip auctions (a model), beside history's figures."""
    problems = _problems(click.get_current_context())
    if problems:
        fail("\n".join(problems))
    out_dir = Path(out) if out else Path("reports") / f"history-{day}"
    try:
        check_out_dir(out_dir, "history")
    except ReportError as exc:
        fail(str(exc))
    problem = unwritable(out_dir)
    if problem:
        fail(f"--out {problem}")
    try:
        # runs done, the current run's bars and time left on stderr (a line per run in a pipe):
        # it printed nothing for 18 minutes (offchain/system/progress.py; the runs report
        # through the hooks on replay() and run_day())
        with reporting("history"):
            path, lines, ok = write(out_dir, chain=backend == "both")
    except (SimulationError, ScenarioError, AnvilError, ReportError) as exc:
        fail(str(exc))
    for line in lines:
        click.echo(line)
    click.echo(f"report: {path}")
    if not ok:
        fail("Backstop's chain and model runs differ (the report lists them)", 1)
