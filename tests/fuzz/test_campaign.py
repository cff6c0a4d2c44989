"""The campaign tooling (`make fuzz`, offchain/testing/campaign.py) on tiny campaigns: worker
processes with their own seeds, the same examples again from the same seed, the record's counts,
the rules a short campaign never applied named; the record written after every batch and exact at
the end, a time limit that stops a batch in its middle, an interruption that stops a worker after
its current step, and a failure recorded with its seed when its shrinking is cut short."""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.backends import Divergence
from offchain.testing import stats
from offchain.testing.campaign import (
    INTERRUPTED,
    STEPS_REACHED,
    TIME_UP,
    Job,
    WorkerResult,
    classify,
    merge,
    run_campaign,
    run_worker,
    write_record,
)
from offchain.testing.checking import Checker, StateDiffers
from offchain.testing.economics import EconomicViolation
from offchain.testing.fuzz import CAMPAIGN_RECORD, REVM_GENESIS, ROOT, SCRATCH_RECORD, Profile
from offchain.testing.specification import SpecViolation

TINY = Profile(examples=2, steps=25, derandomize=False)


def _campaign(artifacts, tmp_path, workers: int, base_seed: int, progress=None):
    results, wall, stopped = run_campaign(
        artifacts,
        60,
        workers,
        base_seed,
        None,
        TINY,
        database=tmp_path / "db",
        replay=False,
        **({"progress": progress} if progress else {}),
    )
    return merge(results, wall, base_seed, 60, None, TINY, "test", "now", stopped=stopped)


def _job(artifacts, steps: int, profile: Profile, shrink_s: float = 60.0) -> Job:
    """One worker's job run in this process (no database, no replay)."""
    return Job(0, 1, 5, steps, None, profile, artifacts, None, False, "full", shrink_s)


def test_campaign__two_workers__each_runs_its_own_seeds_and_the_record_adds_them_up(
    artifacts, tmp_path
):
    record = _campaign(artifacts, tmp_path, 2, 100)
    assert record.workers == 2
    assert record.steps >= 60
    # worker w's batch b: seed base + w + b x workers
    assert record.seeds["0"] == [100 + 2 * b for b in range(len(record.seeds["0"]))]
    assert record.seeds["1"] == [101 + 2 * b for b in range(len(record.seeds["1"]))]
    assert record.examples >= 4
    assert record.invariant_checks >= record.steps
    assert record.specification_checks > 0
    assert sum(count["hits"] for count in record.rules.values()) >= record.steps
    assert record.failures == [] and record.divergences == record.invariant_breaks == 0
    # a 60-step campaign cannot reach every rule: the record names the ones it missed
    assert record.rules_never_applied and not record.ok()


def test_campaign__same_seed__runs_the_same_examples(artifacts, tmp_path):
    first = _campaign(artifacts, tmp_path / "a", 1, 7)
    again = _campaign(artifacts, tmp_path / "b", 1, 7)
    other = _campaign(artifacts, tmp_path / "c", 1, 8)
    assert (first.steps, first.rules, first.outcomes) == (again.steps, again.rules, again.outcomes)
    assert (first.rules, first.outcomes) != (other.rules, other.outcomes)


@pytest.mark.parametrize(
    "exc, kind",
    [
        (Divergence("x"), "divergence"),
        (StateDiffers("state differs"), "state"),
        (EconomicViolation("x"), "economic"),
        (SpecViolation("x"), "specification"),
        (AssertionError("invariants violated: I1"), "invariant"),
        (ValueError("x"), "other"),
        # a failure known only by its text (a shrinking that was interrupted)
        ("SpecViolation: accrue: specification broken (shrinking interrupted)", "specification"),
    ],
)
def test_classify__names_the_broken_check(exc, kind):
    assert classify(exc) == kind


def test_campaign__record_written_after_every_batch__partial_until_the_end_and_exact(
    artifacts, tmp_path
):
    """Every batch of every worker rewrites the record (complete: false, stopped: null); the
    last of those holds the workers' final counts, so the final record adds up the same."""
    out = tmp_path / "campaign.json"
    written: list[dict] = []

    def progress(results: list[WorkerResult], wall: float) -> None:
        write_record(merge(results, wall, 3, 60, None, TINY, "test", "now", stopped=None), out)
        written.append(json.loads(out.read_text()))

    record = _campaign(artifacts, tmp_path, 2, 3, progress)
    assert len(written) >= 2  # a batch of each worker at least
    assert all(not w["complete"] and w["stopped"] is None for w in written)
    assert [w["steps"] for w in written] == sorted(w["steps"] for w in written)
    last = written[-1]
    assert (last["steps"], last["examples"], last["rules"], last["outcomes"]) == (
        record.steps,
        record.examples,
        record.rules,
        record.outcomes,
    )
    assert record.complete and record.stopped == STEPS_REACHED
    assert list(tmp_path.glob("*.tmp")) == []  # the temporary files were renamed


def test_campaign__time_up__stops_the_batch_in_its_middle(artifacts, tmp_path):
    """A batch of a thousand examples would run for minutes: three seconds after the start,
    the worker stops after its current step, and the record says the time was up."""
    long_batch = Profile(examples=1000, steps=50, derandomize=False)
    results, wall, stopped = run_campaign(
        artifacts, 10**9, 1, 0, 0.05, long_batch, database=None, replay=False
    )
    record = merge(results, wall, 0, 10**9, 0.05, long_batch, "test", "now", stopped=stopped)
    assert stopped == TIME_UP and record.complete and record.stopped == TIME_UP
    assert results[0].batches == 1 and 0 < record.examples < long_batch.examples
    assert record.failures == []


def test_worker__interrupted__stops_after_its_current_step(artifacts):
    """Interrupted when its 30th step is checked, a worker stops there (the example's full
    comparison still runs: a stop is not a failure) and says why."""
    totals = stats.Totals()
    result = run_worker(
        _job(artifacts, 10**9, CAMPAIGN_LIKE), interrupted=lambda: totals.steps >= 30, totals=totals
    )
    assert result.stopped == INTERRUPTED
    assert result.steps == 30 and result.examples >= 1 and result.failures == []
    assert result.checks["full checks"] >= 1


CAMPAIGN_LIKE = Profile(examples=20, steps=150, derandomize=False)


def test_worker__shrinking_cut_short__the_failure_is_recorded_with_its_seed(artifacts, monkeypatch):
    """A planted failure (any state more than a day after genesis "differs"), shrunk for no
    time at all: the failure is recorded, with its batch's seed and the example as it was found
    (longer than the one step the planted failure needs), marked as cut short."""

    def planted(self: Checker) -> None:
        if self.s.now > REVM_GENESIS + 86400:
            raise StateDiffers("planted: more than a day after genesis")

    monkeypatch.setattr(Checker, "after_step", planted)
    result = run_worker(_job(artifacts, 1, CAMPAIGN_LIKE, shrink_s=0.0))
    [failure] = result.failures
    assert failure.seed == 5 and failure.machine == "full" and failure.kind == "state"
    assert "planted" in failure.error and failure.shrink_cut
    assert failure.steps > 2  # the initialize rule and one warp would do


def _fuzz_cli():
    return script_cli("fuzz")


def test_fuzz_cli__without_out__writes_a_scratch_path_git_ignores():
    """`ape run fuzz --steps 300` once overwrote the committed record (issue 34): only an explicit
    --out (as `make fuzz` passes) writes bench/fuzz-campaign.json."""
    out = next(p for p in _fuzz_cli().params if p.name == "out")
    assert out.default == SCRATCH_RECORD != CAMPAIGN_RECORD
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(SCRATCH_RECORD)], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0
    makefile = (ROOT / "Makefile").read_text()
    assert "ape run fuzz --out bench/fuzz-campaign.json $(FUZZ_ARGS)" in makefile


def test_fuzz_cli__a_short_run_that_fails__its_last_line_says_so(tmp_path):
    """A campaign too short to apply every rule exits 1, and its last line says FAILED and why
    (it used to end with "stopped: steps reached; written")."""
    out = tmp_path / "c.json"
    result = CliRunner().invoke(
        _fuzz_cli(),
        [
            "--steps", "10", "--workers", "1", "--examples-per-batch", "1",
            "--steps-per-example", "10", "--no-replay", "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("stopped: steps reached; FAILED (") and "rules never applied" in last
    assert json.loads(out.read_text())["complete"] is True


@pytest.mark.parametrize(
    "extra, phrase",
    [
        # "at most nan min", then a campaign that ran (issue 34)
        (["--minutes", "nan"], "Invalid value for '--minutes': 'nan' is not a finite number"),
        (["--minutes", "inf"], "Invalid value for '--minutes': 'inf' is not a finite number"),
        (["--minutes", "1e400"], "Invalid value for '--minutes': '1e400' is not a finite"),
        (["--minutes", "0"], "Invalid value for '--minutes': 0.0 is not in the range x>0"),
        (["--minutes", "-1"], "Invalid value for '--minutes'"),
        (["--shrink-seconds", "nan"], "Invalid value for '--shrink-seconds': 'nan' is not a"),
        (["--shrink-seconds", "inf"], "Invalid value for '--shrink-seconds': 'inf' is not a"),
        (["--steps", "1e400"], "Invalid value for '--steps'"),
        (["--out", "."], "Invalid value for '--out'"),
    ],
)
def test_fuzz_cli__bad_input__one_line_exit_2_nothing_written(tmp_path, extra, phrase):
    out = tmp_path / "c.json"
    given = [] if "--out" in extra else ["--out", str(out)]  # (an option twice is refused)
    result = CliRunner().invoke(_fuzz_cli(), [*given, "--no-replay", *extra])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("fuzz: ") and phrase in lines[0], lines
    assert list(tmp_path.iterdir()) == []


def test_fuzz_cli__batch_with_options_it_ignored__each_named_nothing_run(tmp_path):
    """Issue 47's newcomer: `--batch 5 --machine full --steps 100` ran one batch and said "1
    steps", and --workers 2 ran one worker: --steps, --workers, --minutes and --seed are refused
    beside --batch, each in a line, with --machine's own line when it is missing."""
    out = tmp_path / "c.json"
    result = CliRunner().invoke(
        _fuzz_cli(),
        ["--batch", "5", "--steps", "100", "--workers", "2", "--seed", "3", "--out", str(out)],
    )
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        "fuzz: --batch needs --machine (the failure's, from the record)",
        "fuzz: --steps: --batch runs the one batch of its seed, on one worker",
        "fuzz: --workers: --batch runs the one batch of its seed, on one worker",
        "fuzz: --seed: --batch runs the one batch of its seed, on one worker",
    ]
    assert list(tmp_path.iterdir()) == []


def test_fuzz_cli__one_batch_without_failures__passes_whatever_rules_it_drew(tmp_path):
    """docs/testing.md's way to look at a failing batch again ran it and said FAILED (6 rules
    never applied), exit 1, with no failure: one batch applies the rules its examples drew, and
    only a campaign must apply every rule."""
    out = tmp_path / "b.json"
    result = CliRunner().invoke(
        _fuzz_cli(),
        [
            "--batch", "12", "--machine", "full", "--examples-per-batch", "1",
            "--steps-per-example", "5", "--no-replay", "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    assert record["failures"] == [] and record["rules_never_applied"]  # some, and still passed
    assert result.output.strip().splitlines()[-1].startswith("stopped: ")
    assert "; passed; record: " in result.output.strip().splitlines()[-1]
