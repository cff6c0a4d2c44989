"""`ape run history`: a crash day as it happened under MakerDAO's 2020 auctions, in a model, beside
the figures history published (issue 48; docs/history.md).

    ape run history --day black-thursday-2020
    ape run history --day black-thursday-2020 --out reports/bt-history

Runs the day under the settings of offchain/history/black_thursday.py (each with its source, or
named as an assumption), then once more for each assumption's alternatives (the sensitivity
table), and writes summary.md. A model of another protocol's mechanism, not Backstop's. Bad
input: one line per mistake, exit status 2, nothing written.
"""

from __future__ import annotations

from pathlib import Path

import click

from offchain.history.report import write
from offchain.report.documents import ReportError, check_out_dir
from offchain.system.cli import empty_out, failing, one_line_usage, unwritable

DAYS = ("black-thursday-2020",)
fail = failing("history")


def _problems(ctx: click.Context) -> list[str]:
    return [line for line in [empty_out(ctx.params.get("out"))] if line]


@click.command(cls=one_line_usage("history", _problems))
@click.option(
    "--day",
    type=click.Choice(DAYS),
    default=DAYS[0],
    show_default=True,
    help="The crash day to replay under its mechanism of the time.",
)
@click.option("--out", default=None, help="Report directory [default: reports/history-<day>].")
def cli(day, out):
    """A crash day under MakerDAO's 2020 flip auctions (a model), beside history's figures."""
    problems = _problems(click.get_current_context())
    if problems:
        fail("\n".join(problems))
    out_dir = Path(out) if out else Path("reports") / f"history-{day}"
    try:
        check_out_dir(out_dir)
    except ReportError as exc:
        fail(str(exc))
    problem = unwritable(out_dir)
    if problem:
        fail(f"--out {problem}")
    path, lines = write(out_dir)
    for line in lines:
        click.echo(line)
    click.echo(f"report: {path}")
