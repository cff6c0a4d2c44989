"""`ape run mutate` (= `make mutate`): apply each planted bug of offchain/testing/mutants.toml, one
at a time, to a contract and its twin in a temporary copy of the project, run the differential
machines on revm (and, for a mutant they miss, the touched contracts' unit tests) and record who
killed it in bench/mutants.json.

    ape run mutate                              # every mutant -> bench/mutants.json
    ape run mutate --only engine-dust-skipped   # one (or several) mutants; record only with --out
    ape run mutate --unit always                # the unit tests for every mutant too
    ape run mutate --workers 1                  # one mutant at a time (default: one per core)

Mutants run side by side, one per worker (each in its own copy, its own child process and, for
its unit tests, its own Anvil); each is printed as it ends, and the record lists them in the
list's order.

Exit status: 0 when every mutant run was killed, 1 when one survived or could not be built, 2 for
bad input (one line; nothing written). Ctrl-C removes the temporary copy and writes nothing; the
project's own files are never touched. See docs/testing.md.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

import click

from offchain.system.cli import failing, one_line_usage, unwritable
from offchain.system.outputs import file_refusal, is_mutation_record
from offchain.testing.fuzz import ROOT, Profile
from offchain.testing.mutation import (
    FUZZ_PROFILE,
    MUTANTS_FILE,
    MUTANTS_RECORD,
    UNIT_MODES,
    MutantError,
    load_mutants,
    mutant_timeout,
    mutated_sources,
    read_mutants,
    run_baseline,
    run_mutant,
    stop_children,
    summarize,
)

fail = failing("mutate")


def _interrupt(signum, frame):  # SIGTERM ends the run like Ctrl-C: the temporary copy goes
    raise KeyboardInterrupt


def _problems(ctx: click.Context) -> list[str]:
    """mutate's checks of its options (`ctx.params`: those click converted), one line per
    mistake: --out, the list (every entry's mistakes, every edit that does not apply) and --only
    against it. Called first by the command, and by one_line_usage where click refused a value
    too, so every mistake is named in one run, before an hour of mutants."""
    p = ctx.params
    problems: list[str] = []
    out, list_file, only = p.get("out"), p.get("list_file"), p.get("only") or ()
    if out is not None:
        problem = unwritable(out) or (f"{out} is a directory" if out.is_dir() else None)
        if problem:
            problems.append(f"--out {problem}")
        else:  # a mutation record only is replaced (a user's file was written over at the end)
            problems += [
                x for x in [file_refusal(out, "a mutation run's record", is_mutation_record)] if x
            ]
    if list_file is None:
        return problems
    mutants = []
    if list_file.is_dir():
        problems.append(f"--list {list_file} is a directory, not a mutant list (.toml)")
    else:
        try:
            mutants, list_problems = read_mutants(list_file)
        except MutantError as exc:
            mutants, list_problems = [], str(exc).splitlines()
        problems += list_problems
        for mutant in mutants:  # every edit must apply before anything runs
            try:
                mutated_sources(ROOT, mutant)
            except MutantError as exc:
                problems.append(str(exc))
    # an empty id: no list has it (it was lost beside click's refusals when no list was read)
    problems += [f"--only {i!r}: an empty mutant id" for i in only if not i.strip()]
    known = {m.id for m in mutants}
    unknown = [i for i in only if i.strip() and i not in known]
    if unknown and mutants:  # (ids are unknown only against a list read)
        shown = list_file.relative_to(ROOT) if list_file.is_relative_to(ROOT) else list_file
        problems += [f"--only {i}: no such mutant id in {shown}" for i in unknown]
    return problems


def _echo(done: int, total: int, mutant_id: str, result) -> None:
    """A mutant's line as it ends: its verdict, its fuzz's time and steps, who killed it."""
    verdict = "KILLED  " if result.killed else "SURVIVED"
    if result.error:
        verdict = "ERROR   "
    click.echo(
        f"[{done}/{total}] {verdict} {mutant_id} "
        f"(fuzz {result.fuzz.seconds:.0f} s, {result.fuzz.steps} steps"
        f"{f', unit {result.unit.seconds:.0f} s' if result.unit.ran else ''})"
    )
    click.echo(f"      {result.error or result.by or 'no check failed'}")


@click.command(cls=one_line_usage("mutate", _problems))
@click.option("--only", multiple=True, help="Run only this mutant id (repeatable).")
@click.option(
    "--unit",
    type=click.Choice(UNIT_MODES),
    default="survivors",
    show_default=True,
    help="When to run the unit tests: for the mutants the fuzz missed, always, never.",
)
@click.option(
    "--examples",
    type=click.IntRange(1, 10_000),
    default=FUZZ_PROFILE.examples,
    show_default=True,
    help="Examples per machine (of FUZZ_PROFILE's steps, derandomized).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=os.cpu_count() or 1,
    show_default=True,
    help="Mutants run side by side (default: one per core).",
)
@click.option("--list", "list_file", type=click.Path(path_type=Path), default=MUTANTS_FILE)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Where to write the record (default {MUTANTS_RECORD.relative_to(ROOT)} for a full run; "
    "nothing for --only).",
)
def cli(only, unit, examples, workers, list_file, out):
    """Planted bugs, counted: which mutants the fuzz and the unit tests kill."""
    signal.signal(signal.SIGTERM, _interrupt)
    # every mistake named in one run, before an hour of mutants, not after
    problems = _problems(click.get_current_context())
    if problems:
        fail("\n".join(problems))
    mutants = load_mutants(list_file)
    chosen = [m for m in mutants if not only or m.id in only]
    record_path = out if out is not None else (None if only else MUTANTS_RECORD)
    profile = Profile(examples, FUZZ_PROFILE.steps, FUZZ_PROFILE.derandomize)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()

    results, start = [], time.perf_counter()
    try:
        try:
            baseline = run_baseline(ROOT, profile)
        except MutantError as exc:
            fail(str(exc), 1)
        if baseline.killed:
            fail(f"the unmutated project fails the fuzz: {baseline.by}", 1)
        click.echo(f"unmutated: the fuzz passes ({baseline.steps} steps, {baseline.seconds:.0f} s)")
        timeout = mutant_timeout(baseline.seconds)
        with ThreadPoolExecutor(max_workers=min(workers, max(len(chosen), 1))) as pool:
            try:
                running = {
                    pool.submit(run_mutant, m, ROOT, profile, unit, timeout): m for m in chosen
                }
                while running:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        mutant = running.pop(future)
                        result = future.result()
                        results.append(result)
                        _echo(len(results), len(chosen), mutant.id, result)
            except KeyboardInterrupt:
                stop_children()  # the running mutants end now; their copies are removed
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    except KeyboardInterrupt:
        stop_children()
        fail("interrupted: the temporary copies are removed, nothing written", 130)

    order = {m.id: i for i, m in enumerate(chosen)}
    results.sort(key=lambda r: order[r.id])
    run = summarize(
        results, profile, unit, baseline.steps, time.perf_counter() - start, commit, workers
    )
    click.echo(
        f"\nkilled {run.killed}/{run.total} ({run.kill_rate:.0%}); by the fuzz alone "
        f"{run.killed_by_fuzz}/{run.total}; {run.seconds:.0f} s"
    )
    if record_path is not None:
        # a hidden temporary name of its own (`with_suffix(".tmp")` was a user's `record.tmp`)
        tmp = record_path.parent / f".{record_path.name}.{secrets.token_hex(4)}.tmp"
        try:
            tmp.write_text(run.to_json())
            tmp.replace(record_path)
        finally:
            tmp.unlink(missing_ok=True)
        click.echo(f"written: {record_path}")
    sys.exit(0 if run.killed == run.total and not any(r.error for r in results) else 1)
