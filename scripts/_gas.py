"""`ape run gas` (= `make gas-check`, run by CI): the gas gate and the gas breakdown.

    ape run gas                 # measure every benchmarked transaction on revm (a node's exact
                                # count) and compare with bench/gas-snapshot.json
    ape run gas --update        # write the snapshot (commit it with the change that moved gas)
    ape run gas --breakdown     # trace each transaction on a fresh Anvil: bench/gas-breakdown.md

Exit status: 0 when every figure is within 1% above its snapshot (falls are listed: update the
snapshot to keep them); 1 when a figure rose more than 1%, is new, or is gone; 2 when the snapshot
file is missing, unreadable or cannot be written, or the options contradict each other (each
checked before anything is measured). See offchain/testing/gas_report.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from offchain.backends import load_artifacts, reader_code
from offchain.backends.anvil import Anvil
from offchain.system.cli import one_line_usage, unwritable
from offchain.system.files import directory_named
from offchain.system.outputs import file_refusal
from offchain.testing import gas_report
from offchain.testing.harness import TEST_FACTORIES


@click.command(cls=one_line_usage("gas"))
@click.option("--update", is_flag=True, help="Write bench/gas-snapshot.json from this measurement.")
@click.option(
    "--breakdown", is_flag=True, help="Trace every figure on Anvil: bench/gas-breakdown.md."
)
@click.option(
    "--snapshot",
    "snapshot_path",
    type=click.Path(dir_okay=False),  # (a Path of '' is ".", named "a directory": kept a str)
    default=str(gas_report.SNAPSHOT),
    show_default="bench/gas-snapshot.json",
    help="The snapshot to check against or write.",
)
def cli(update, breakdown, snapshot_path):
    """The gas gate: every benchmarked transaction against bench/gas-snapshot.json."""
    problems = []
    given = snapshot_path
    snapshot_path = Path(given)
    if not given.strip():  # (Path("") is the current directory: named "a directory")
        problems.append(f"--snapshot {directory_named(given, 'a gas snapshot (.json)')}")
    elif breakdown and (update or snapshot_path != gas_report.SNAPSHOT):
        # --breakdown writes bench/gas-breakdown.md and nothing else: the other two were ignored
        problems.append(
            "--breakdown traces on Anvil only: it takes neither --update nor --snapshot"
        )
    elif update and not breakdown:
        # before the measurement, not after it; a file that is no gas snapshot (the user's
        # notes named by mistake) is not replaced by one
        where = unwritable(snapshot_path)
        refusal = file_refusal(given, "a gas snapshot", gas_report.is_snapshot, "--snapshot")
        if where or refusal:
            problems.append(refusal or f"--snapshot {where}")
    elif not breakdown:
        try:
            gas_report.read_snapshot(snapshot_path)  # before the measurement, too
        except gas_report.SnapshotError as e:
            problems.append(str(e))
    if problems:
        for line in problems:
            click.echo(f"gas: {line}", err=True)
        sys.exit(2)
    from ape import project  # here, not at the top: `ape run` imports every script

    artifacts = (load_artifacts(project, TEST_FACTORIES), reader_code(project))
    if breakdown:
        with Anvil(gas_report.GENESIS) as node:
            items = gas_report.breakdowns(node.url, artifacts)
        tmp = gas_report.BREAKDOWN.with_suffix(".md.tmp")
        tmp.write_text(gas_report.render(items))
        tmp.replace(gas_report.BREAKDOWN)
        click.echo(f"written: bench/{gas_report.BREAKDOWN.name} ({len(items)} transactions)")
        return
    measured = gas_report.measure(artifacts)
    if update:
        gas_report.write_snapshot(measured, snapshot_path)
        click.echo(f"written: {snapshot_path} ({len(measured)} figures)")
        return
    try:
        snapshot = gas_report.read_snapshot(snapshot_path)
    except gas_report.SnapshotError as e:
        click.echo(f"gas: {e}", err=True)
        sys.exit(2)
    changes = gas_report.compare(measured, snapshot)
    failing = [c for c in changes if c.fails]
    for change in changes:
        mark = "FAIL" if change.fails else "ok  "
        click.echo(f"{mark} {change.describe()}")
    if failing:
        click.echo(
            f"gas: {len(failing)} figure(s) above {snapshot_path.name} by more than "
            f"{gas_report.TOLERANCE:.0%} (or new/gone); if intended, run `ape run gas --update` "
            "and commit the snapshot with the change",
            err=True,
        )
        sys.exit(1)
    click.echo(f"gas: {len(measured)} figures within {gas_report.TOLERANCE:.0%} of the snapshot")
