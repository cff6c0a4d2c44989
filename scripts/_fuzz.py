"""`ape run fuzz`: a differential fuzz campaign on revm on every core
(offchain/testing/campaign.py), recorded in reports/fuzz-campaign.json; `make fuzz` passes
`--out bench/fuzz-campaign.json`, the committed record.

    ape run fuzz                                  # 1,000,000 checked steps on every core
    ape run fuzz --steps 5000 --workers 2         # a smoke run
    ape run fuzz --minutes 30 --seed 7            # for 30 minutes, from base seed 7
    ape run fuzz --steps 5000 --out /tmp/c.json   # elsewhere
    ape run fuzz --out bench/fuzz-campaign.json   # the committed record (make fuzz)
    ape run fuzz --batch 12 --machine full --out /tmp/b.json   # one batch of a record again
    ape run fuzz --resume --out bench/fuzz-campaign.json        # go on where it stopped
    ape run fuzz --resume --steps 10000000 --out /tmp/c.json    # ... to a higher target

The same --seed, --workers and --steps run the same examples. Workers run whole batches
(--examples-per-batch x --steps-per-example steps at most), so a campaign ends at the first batch
boundary at or after --steps. A failing example is shrunk (for
at most --shrink-seconds), replayed on a fresh Anvil and listed in the record with the verdict;
the campaign goes on. The record is written again after every batch (`complete: false`, `stopped:
null` while it runs); --minutes stops the workers after their current step once the time is up;
Ctrl-C or SIGTERM stops them the same way and leaves the record of what ran (`stopped:
"interrupted"`). --resume goes on with the campaign of the --out record, after each worker's last
batch, with the record's seed, workers, batch profile and machine (--steps may raise its target),
and adds its counts to the record's; it is refused when the contracts or offchain/ changed since
(the record's code digest). Exit status: 0 when every step was checked and passed and every rule
of both machines was applied; 1 when a check failed, a rule was never applied or a step ran
without its checks (the record says which); 2 for bad input; 130 when interrupted. See
docs/testing.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from offchain.backends import load_artifacts, reader_code
from offchain.system.cli import FiniteFloatRange, failing, one_line_usage, unwritable
from offchain.system.outputs import file_refusal, is_fuzz_record
from offchain.system.progress import Meter
from offchain.testing.campaign import (
    CAMPAIGN_PROFILE,
    INTERRUPTED,
    SHRINK_S,
    RecordBusy,
    WorkerCrashed,
    code_digest,
    continued,
    merge,
    read_record,
    record_lock,
    run_campaign,
    target_reached,
    write_record,
)
from offchain.testing.differential import MACHINES
from offchain.testing.fuzz import ROOT, SCRATCH_RECORD, Profile
from offchain.testing.harness import TEST_FACTORIES

DEFAULT_STEPS = 1_000_000


fail = failing("fuzz")


@click.command(cls=one_line_usage("fuzz"))
@click.option(
    "--steps",
    type=click.IntRange(1, 10**9),
    default=DEFAULT_STEPS,
    show_default=True,
    help="Checked steps to run (in all, over the workers; rounded up to whole batches).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=os.cpu_count() or 1,
    show_default="the cores",
    help="Worker processes.",
)
@click.option("--minutes", type=FiniteFloatRange(min=0, min_open=True), help="Stop after this.")
@click.option("--seed", "base_seed", type=click.IntRange(0, 2**63), default=0, show_default=True)
@click.option(
    "--examples-per-batch",
    type=click.IntRange(1, 10_000),
    default=CAMPAIGN_PROFILE.examples,
    show_default=True,
)
@click.option(
    "--steps-per-example",
    type=click.IntRange(1, 10_000),
    default=CAMPAIGN_PROFILE.steps,
    show_default=True,
)
@click.option(
    "--batch",
    "batch_seed",
    type=click.IntRange(0, 2**63),
    help="Run only the batch with this seed (a failure's, from a record), with --machine.",
)
@click.option("--machine", type=click.Choice(MACHINES), help="The machine of every batch.")
@click.option("--no-replay", is_flag=True, help="Do not replay failures on Anvil.")
@click.option(
    "--shrink-seconds",
    type=FiniteFloatRange(min=0),
    default=SHRINK_S,
    show_default=True,
    help="The longest a failing example is shrunk (then recorded as shrunk as it got).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=SCRATCH_RECORD,
    show_default=True,
    help="The record [the committed one: bench/fuzz-campaign.json, as make fuzz passes].",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Go on with the campaign of the --out record: its seed, workers, batch profile and "
    "machine, after each worker's last batch (--steps may raise its target).",
)
def cli(
    steps,
    workers,
    minutes,
    base_seed,
    examples_per_batch,
    steps_per_example,
    batch_seed,
    machine,
    no_replay,
    shrink_seconds,
    out,
    resume,
):
    """A differential fuzz campaign on revm on every core."""
    if out == SCRATCH_RECORD:
        out.parent.mkdir(exist_ok=True)
    if not out.parent.is_dir():
        fail(f"no directory {out.parent} for --out")
    if not out.name:  # `--out ''` (Path('')): the record was written over '.' after the run
        fail("--out '' is empty: give a file for the record")
    # a virtual or read-only file system (/proc/nope): refused before the campaign, not after
    problem = unwritable(out)  # (probes the nearest existing parent, as for a directory)
    if problem:
        fail(f"--out {out}: {problem}")
    # the record replaces only a campaign record (a user's notes.txt given as --out was written
    # over at the first batch); --resume reads it as one, and says what else it is
    problem = None if resume else file_refusal(out, "a fuzz campaign record", is_fuzz_record)
    if problem:
        fail(problem)

    def hold_record():
        """One campaign per record, held until the command ends (record_lock)."""
        try:
            click.get_current_context().with_resource(record_lock(out))
        except RecordBusy as exc:
            fail(f"--out {out}: {exc}")

    digest = code_digest()
    # --resume first: it refuses --batch and the campaign's other options; the record held
    # before it is read (another campaign may be extending it)
    if resume:
        hold_record()
    old = _resumed(out, steps, digest) if resume else None
    if batch_seed is not None:
        ctx = click.get_current_context()
        given = [
            f"--{name.replace('_', '-')}"
            for name, option in (("steps", "steps"), ("workers", "workers"), ("minutes", "minutes"),
                                 ("seed", "base_seed"))
            if ctx.get_parameter_source(option) is not click.core.ParameterSource.DEFAULT
        ]  # fmt: skip
        problems = [] if machine is not None else [
            "--batch needs --machine (the failure's, from the record)"
        ]  # fmt: skip
        # they were ignored: `--batch 5 --steps 100` ran one batch and said "1 steps"
        problems += [f"{option}: --batch runs the one batch of its seed, on one worker"
                     for option in given]  # fmt: skip
        if problems:
            fail("\n".join(problems))
        # one worker, one batch: the seed is the batch's, the step count stops it after one
        steps, workers, base_seed, minutes = 1, 1, batch_seed, None
    profile = Profile(examples_per_batch, steps_per_example, CAMPAIGN_PROFILE.derandomize)
    if old is not None:
        steps = steps if _given("steps") else old.target_steps
        workers, base_seed, machine = old.workers, old.base_seed, old.machine
        profile = Profile(**old.profile)
    if not resume:  # (a resumed campaign's record is held since before it was read)
        hold_record()
    from ape import project  # here, not at the top: `ape run` imports every script

    artifacts = (load_artifacts(project, TEST_FACTORIES), reader_code(project))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    click.echo(
        f"campaign: {steps:,} steps on {workers} workers from seed {base_seed}"
        f"{f', at most {minutes} min' if minutes else ''}"
        f"{f'; run {len(old.segments) + 1}, from {old.steps:,} steps' if old else ''}"
    )
    machines = (machine,) if machine else MACHINES

    def record_of(results, wall, stopped):
        record = merge(
            results,
            wall,
            base_seed,
            steps,
            minutes,
            profile,
            commit,
            started_at,
            machines,
            stopped,
            digest,
        )
        return record if old is None else continued(old, record)

    def _interrupt(signum, frame):  # SIGTERM stops the campaign like Ctrl-C
        raise KeyboardInterrupt

    # Ctrl-C raises KeyboardInterrupt (Ape's own handler would exit at once), caught by
    # run_campaign, which stops the workers and returns what ran
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    # steps done, rate and time left on stderr: a status line on a terminal, a line a minute in
    # a pipe (a campaign of hours printed nothing until its end)
    meter = Meter("fuzz", "steps", steps)
    first = old.steps if old is not None else 0

    def batch_done(results, wall) -> None:
        record = record_of(results, wall, None)
        write_record(record, out)
        meter.update(record.steps, first)

    try:
        results, wall, stopped = run_campaign(
            artifacts,
            steps,
            workers,
            base_seed,
            minutes,
            profile,
            replay=not no_replay,
            machine=machine,
            progress=batch_done,
            shrink_s=shrink_seconds,
            resume=old,
        )
    except KeyboardInterrupt:  # before the workers ran a batch
        meter.close()
        click.echo("fuzz: interrupted before the workers started, nothing written", err=True)
        sys.exit(130)
    except WorkerCrashed as exc:
        meter.close()
        click.echo(f"fuzz: {exc}", err=True)
        click.echo(f"fuzz: the record of the last finished batches is in {out}", err=True)
        sys.exit(1)
    meter.close()
    record = record_of(results, wall, stopped)
    write_record(record, out)
    click.echo(
        f"{record.steps:,} checked steps, {record.examples:,} examples in {record.wall_s:.0f} s "
        f"({record.steps_per_s:,.0f} steps/s); {record.invariant_checks:,} invariant checks, "
        f"{record.storage_checks:,} storage checks ({record.slots_compared:,} slots), "
        f"{record.specification_checks:,} specification checks; failures {len(record.failures)} "
        f"(divergences {record.divergences}, invariant breaks {record.invariant_breaks}, "
        f"economic {record.economic_failures}, specification {record.specification_failures})"
    )
    for failure in record.failures:
        click.echo(f"  seed {failure['seed']} {failure['machine']}: {failure['error']}")
        click.echo(f"    {failure['anvil'] or 'not replayed'}")
    if record.rules_never_applied:
        click.echo(f"rules never applied: {', '.join(record.rules_never_applied)}")
    if stopped == INTERRUPTED:
        click.echo(f"fuzz: interrupted; the record of what ran (complete: false): {out}", err=True)
        sys.exit(130)
    # one batch applies the rules its examples drew: only a campaign must apply every rule
    why = record.why_failed(one_batch=batch_seed is not None)
    if not why:
        click.echo(f"stopped: {stopped}; passed; record: {out}")
        sys.exit(0)
    click.echo(f"stopped: {stopped}; FAILED ({', '.join(why)}); record: {out}")
    sys.exit(1)


# what --resume takes from the record (given beside it, each is refused)
_FROM_RECORD = (
    ("workers", "--workers"),
    ("base_seed", "--seed"),
    ("examples_per_batch", "--examples-per-batch"),
    ("steps_per_example", "--steps-per-example"),
    ("machine", "--machine"),
    ("batch_seed", "--batch"),
)


def _given(parameter: str) -> bool:
    source = click.get_current_context().get_parameter_source(parameter)
    return source is not click.core.ParameterSource.DEFAULT and source is not None


def _resumed(out: Path, steps: int, digest: str):
    """The record --resume goes on with, or one line per reason it cannot (exit 2)."""
    problems = [f"{flag}: --resume takes it from the record" for name, flag in _FROM_RECORD
                if _given(name)]  # fmt: skip
    if problems:
        fail("\n".join(problems))
    try:
        old = read_record(out)
    except ValueError as exc:
        fail(f"--resume: {exc}")
    if old.code_digest != digest:
        fail(
            f"--resume: the contracts or offchain/ changed since {out} was recorded (code digest "
            f"{old.code_digest}, now {digest}): a campaign goes on only with the code it ran"
        )
    target = steps if _given("steps") else old.target_steps
    if target_reached(old, target):
        fail(
            f"--resume: {out}'s campaign has {old.steps:,} steps, its workers reached "
            f"{target:,}: nothing to resume (--steps raises the target)"
        )
    return old
