"""The campaign tooling (`make fuzz`, offchain/testing/campaign.py) on tiny campaigns: worker
processes with their own seeds, the same examples again from the same seed, the record's counts,
the rules a short campaign never applied named; the record written after every batch and exact at
the end, a time limit that stops a batch in its middle, an interruption that stops a worker after
its current step, and a failure recorded with its seed when its shrinking is cut short; a
campaign resumed from its record (the batches of one uninterrupted run, refused under other
code or from a record that does not hold together)."""

from __future__ import annotations

import fcntl
import gc
import json
import os
import stat
import subprocess
import sys
import weakref
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.backends import Divergence
from offchain.testing import stats
from offchain.testing.campaign import (
    INTERRUPTED,
    STEPS_REACHED,
    TIME_UP,
    CampaignRecord,
    Job,
    RecordBusy,
    WorkerResult,
    classify,
    code_digest,
    continued,
    lock_path,
    merge,
    read_record,
    record_lock,
    run_campaign,
    run_worker,
    target_reached,
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


def test_campaign__a_machine_run_without_its_checks__fails_the_campaign(artifacts, monkeypatch):
    """The benchmark's unchecked floor (make_machine's checked=False) leaked into a campaign's
    worker: its steps are counted, none of them checked, and the record fails (it used to pass
    whenever nothing failed and every rule was applied)."""
    import offchain.testing.campaign as campaign_module

    real = campaign_module.make_machine
    monkeypatch.setattr(
        campaign_module, "make_machine", lambda *a, **k: real(*a, **k, checked=False)
    )
    result = run_worker(_job(artifacts, 20, TINY))
    record = merge([result], 1.0, 5, 20, None, TINY, "test", "now")
    assert record.steps >= 20 and record.invariant_checks == 0
    assert record.unchecked_steps == record.steps
    # (a 20-step run cannot apply every rule: the rule count is put aside to see the checks')
    assert not replace(record, rules_never_applied=[]).ok()
    steps = f"{record.steps:,} steps without their checks"
    assert record.why_failed() == [f"{len(record.rules_never_applied)} rules never applied", steps]
    # one batch (--batch) need not apply every rule, but must check its steps
    assert record.why_failed(one_batch=True) == [steps]
    # the same record with every step checked passes
    assert replace(record, invariant_checks=record.steps, rules_never_applied=[]).ok()
    assert replace(record, invariant_checks=record.steps).why_failed(one_batch=True) == []


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
    """A batch of a thousand examples would run for minutes: thirty seconds after the start,
    the worker stops after its current step, and the record says the time was up. (The clock
    starts before the worker's process is spawned; with three seconds, as this test had, a
    loaded machine, three test shards on two cores, spawned the worker after its time was up
    and it ran no batch at all.)"""
    long_batch = Profile(examples=1000, steps=50, derandomize=False)
    results, wall, stopped = run_campaign(
        artifacts, 10**9, 1, 0, 0.5, long_batch, database=None, replay=False
    )
    record = merge(results, wall, 0, 10**9, 0.5, long_batch, "test", "now", stopped=stopped)
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


# ------------------------------------------------------------------ resuming a campaign


def _run(artifacts, steps: int, resume=None):
    """One run of a one-worker campaign from seed 7 (no database), continuing `resume`."""
    results, wall, stopped = run_campaign(
        artifacts, steps, 1, 7, None, TINY, database=None, replay=False, resume=resume
    )
    record = merge(results, wall, 7, steps, None, TINY, "test", "now", stopped=stopped, digest="d")
    return record if resume is None else continued(resume, record)


def test_campaign__stopped_at_its_steps_and_resumed__runs_the_batches_of_one_uninterrupted_run(
    artifacts,
):
    """A campaign stopped at its steps ends at a batch boundary; resumed to a higher target, it
    runs the very batches, steps and counts of one run to that target, and lists both runs."""
    whole = _run(artifacts, 60)
    first = _run(artifacts, 30)
    both = _run(artifacts, 60, resume=first)
    assert first.steps < whole.steps and len(first.seeds["0"]) < len(whole.seeds["0"])
    assert both.seeds == whole.seeds == {"0": [7 + b for b in range(len(whole.seeds["0"]))]}
    for key in (
        "steps",
        "examples",
        "rules",
        "outcomes",
        "worker_steps",
        "invariant_checks",
        "storage_checks",
        "slots_compared",
        "specification_checks",
        "failures",
        "rules_never_applied",
        "target_reached",
    ):
        assert getattr(both, key) == getattr(whole, key), key  # fmt: skip
    # each run compares the complete views at its first step (then every 500 steps of the run)
    assert both.full_state_checks == whole.full_state_checks + 1
    assert [r["steps"] for r in both.segments] == [first.steps, whole.steps - first.steps]
    assert both.complete and both.stopped == STEPS_REACHED and both.target_steps == 60
    assert both.target_reached and first.target_reached  # each run reached its own target


def test_worker__resumed__starts_after_its_last_batch_and_counts_its_earlier_steps(artifacts):
    """Worker 0 of 1 from seed 5 with 3 batches and 40 steps behind it runs batch 3 (seed 8)
    first, and stops when its earlier and new steps reach its share; with its share reached
    already, it runs nothing."""
    job = replace(_job(artifacts, 41, TINY), first_batch=3, steps_done=40)
    result = run_worker(job)
    assert result.seeds == [8] and result.batches == 1 and 1 <= result.steps <= 50
    done = run_worker(replace(job, steps_done=41))
    assert done.seeds == [] and done.steps == 0 and done.stopped == STEPS_REACHED


def test_worker__its_batches_machines__not_kept_alive_after_their_batch(artifacts, monkeypatch):
    """Each batch's machine class holds its revm backend, deployment and model: once the batch is
    over, nothing keeps it (Hypothesis's per-class caches forgot it), so a worker's memory does not
    grow with its batches. Without `forget`, every class the worker made is still alive."""
    import offchain.testing.campaign as campaign_module

    real, made = campaign_module.make_machine, []

    def recording(*args, **kwargs):
        machine = real(*args, **kwargs)
        made.append(weakref.ref(machine))
        return machine

    monkeypatch.setattr(campaign_module, "make_machine", recording)
    result = run_worker(_job(artifacts, 60, TINY))
    assert result.batches >= 2 and len(made) == result.batches
    gc.collect()
    assert [ref() for ref in made] == [None] * len(made)


def _record(**changes):
    """A record of a two-worker campaign from seed 3, as a resumable run writes it."""
    worker = [WorkerResult(w, steps=10 + w, examples=1, seeds=[3 + w, 5 + w]) for w in range(2)]
    record = merge(worker, 2.0, 3, 100, None, TINY, "abc", "now", stopped=TIME_UP, digest="d1")
    return replace(record, **changes)


def test_continued__adds_up_and_refuses_another_campaign():
    old, new = _record(), _record()
    new = replace(new, seeds={"0": [7], "1": [8]}, worker_steps={"0": 4, "1": 5}, steps=9)
    both = continued(old, new)
    assert both.seeds == {"0": [3, 5, 7], "1": [4, 6, 8]}
    assert both.worker_steps == {"0": 14, "1": 16} and both.steps == 30
    assert len(both.segments) == 2 and both.wall_s == 4.0
    other_profile = {"examples": 3, "steps": 25, "derandomize": False}
    for other in (
        {"code_digest": "d2"},
        {"base_seed": 4},
        {"workers": 3},
        {"machine": "full"},
        {"profile": other_profile},
    ):
        with pytest.raises(ValueError, match="continues only the campaign"):
            continued(old, replace(new, **other))


def _written(tmp_path, record: CampaignRecord | None = None, text=None, data=None):
    path = tmp_path / "c.json"
    if text is not None:
        path.write_bytes(text)
    elif record is not None:
        path.write_text(json.dumps(asdict(record)))
    else:
        path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "text, data, phrase",
    [
        (b"\x89PNG\r\n\x1a\n\x00\xff", None, "is not a campaign record (not UTF-8 text)"),
        (b"{nope", None, "is not a campaign record (not JSON)"),
        (None, [1, 2], "is not a campaign record"),
        (None, {"steps": 1}, "is not a campaign record"),
        # the record before --resume existed: no digest, steps per worker or runs
        (None, {**asdict(_record()), "code_digest": ""}, "written before campaigns could be"),
        (None, {**asdict(_record()), "colour": 1}, "unknown field colour"),
        (None, {**asdict(_record()), "seeds": {"0": [3, 5], "1": [4, 7]}}, "worker 1's seeds"),
        (None, {**asdict(_record()), "seeds": {"0": [3]}}, "not those of 2 workers"),
        (None, {**asdict(_record()), "worker_steps": {"0": 10, "1": 12}}, "do not add up"),
        (None, {**asdict(_record()), "steps": "21"}, "counts are not whole numbers"),
        (None, {**asdict(_record()), "steps": 1e400}, "counts are not whole numbers"),
        (None, {**asdict(_record()), "rules": [1]}, "rules are not counts"),
        (None, {**asdict(_record()), "outcomes": {"x": "y"}}, "are not counts"),
        (
            None,
            {**asdict(_record()), "profile": {"examples": 0, "steps": 1, "derandomize": 1}},
            "examples and steps must be whole numbers",
        ),  # fmt: skip
        (None, {**asdict(_record()), "profile": {"x": 1}}, "is not a batch profile"),
        (None, {**asdict(_record()), "machine": "nope"}, "machine 'nope' is none of"),
        (None, {**asdict(_record()), "workers": 0}, "is not a count of workers"),
        (None, {**asdict(_record()), "target_steps": None}, "is not a count of steps"),
        # nested deeper than Python's recursion limit (set to its default in the test: a raised
        # limit lets the C decoder overflow the stack instead)
        (b"[" * 5_000, None, "is not a campaign record (JSON nested too deeply)"),
        (None, {**asdict(_record()), "rules": {"r": {}}}, "rules are not counts (hits, ok, sent"),
        (
            None,
            {**asdict(_record()), "rules": {"r": {"hits": 1, "sent": 0, "ok": -1}}},
            "rules are not counts",
        ),  # fmt: skip
        (None, {**asdict(_record()), "failures": [1]}, "its failures are not failures"),
        (None, {**asdict(_record()), "failures": [{}]}, "its failures are not failures"),
        (None, {**asdict(_record()), "failures": "none"}, "its failures are not a list"),
        # a failure the counts of each kind do not count
        (
            None,
            {
                **asdict(_record()),
                "failures": [
                    {
                        "worker": 0,
                        "seed": 3,
                        "machine": "full",
                        "kind": "state",
                        "error": "x",
                        "steps": 3,
                        "anvil": None,
                    }
                ],
            },
            "failures' kinds do not match",
        ),  # fmt: skip
        (
            None,
            {**asdict(_record()), "profile": {"examples": 2, "steps": 25, "derandomize": "no"}},
            "derandomize must be true or false",
        ),  # fmt: skip
        (
            None,
            {**asdict(_record()), "profile": {"examples": True, "steps": 25, "derandomize": False}},
            "examples and steps must be whole numbers",
        ),  # fmt: skip
        (None, {**asdict(_record()), "wall_s": float("nan")}, "seconds not a time"),
        (None, {**asdict(_record()), "wall_s": -1}, "seconds not a time"),
        (None, {**asdict(_record()), "worker_steps": {"0": 25, "1": -4}}, "are not counts"),
        (None, {**asdict(_record()), "seeds": {"0": [3.0, 5], "1": [4, 6]}}, "worker 0's seeds"),
    ],
)
def test_read_record__not_a_resumable_record__one_clear_reason(tmp_path, text, data, phrase):
    path = _written(tmp_path, text=text, data=data)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1_000)  # Python's default, as `ape run fuzz` runs
    try:
        with pytest.raises(ValueError) as raised:
            read_record(path)
    finally:
        sys.setrecursionlimit(limit)
    assert phrase in str(raised.value) and "\n" not in str(raised.value)


def test_read_record__a_written_record__reads_back_equal(tmp_path):
    record = _record(outcomes={"x": 1})
    write_record(record, tmp_path / "c.json")
    assert read_record(tmp_path / "c.json") == record


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_write_record__a_new_record_as_any_new_file_an_old_one_keeps_its_mode(tmp_path, umask):
    """A record came out 0600 (a temporary file's mode, renamed): now a new one gets what the
    umask gives a new file, and a rewritten one keeps its file's mode."""
    before = os.umask(umask)
    try:
        write_record(_record(), tmp_path / "new.json")
        assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o666 & ~umask
        (tmp_path / "old.json").write_text("{}")
        (tmp_path / "old.json").chmod(0o640)
        write_record(_record(), tmp_path / "old.json")
        assert stat.S_IMODE((tmp_path / "old.json").stat().st_mode) == 0o640
    finally:
        os.umask(before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json", "old.json"]


def test_fuzz_cli__a_record_another_campaign_writes__one_line_exit_2_untouched(
    tmp_path, monkeypatch
):
    """Two campaigns given one record (a second `make fuzz`) rewrote it after their batches in
    turn: the second is refused in one line naming the first's process, before it runs or
    writes anything, whatever the spelling of the path (relative, through a symlinked
    directory); once the first ends, the record is free (a refusal after the lock frees it
    too)."""
    out = tmp_path / "d" / "c.json"
    out.parent.mkdir()
    (tmp_path / "link").symlink_to(out.parent)
    monkeypatch.chdir(tmp_path)
    with record_lock(out):
        for spelling in (str(out), "d/c.json", "./d/../d/c.json", "link/c.json"):
            held = CliRunner().invoke(
                _fuzz_cli(), ["--steps", "10", "--no-replay", "--out", spelling]
            )
            assert held.exit_code == 2, held.output
            assert held.output.splitlines() == [
                f"fuzz: --out {Path(spelling)}: another campaign (process {os.getpid()}) is "
                "writing it: wait for it to end, or give another --out"
            ]
    assert list(out.parent.iterdir()) == []  # no record, and the lock's file went with it
    refused = CliRunner().invoke(_fuzz_cli(), ["--resume", "--no-replay", "--out", str(out)])
    assert refused.exit_code == 2 and "--resume" in refused.output, refused.output
    # a refused --resume lets the lock go and leaves no lock file behind (it did: issue 65)
    assert list(out.parent.iterdir()) == []
    with record_lock(out):  # free again: the refused run let it go
        assert [p.name for p in out.parent.iterdir()] == [".c.json.lock"]
    assert list(out.parent.iterdir()) == []


def test_record_lock__released_and_removed_while_another_waits__one_holder_at_a_time(tmp_path):
    """A campaign that opened the lock file just before its holder removed it locks a file no
    longer at the path: it opens the path again, so that it and a third campaign never hold two
    files at once."""
    out = tmp_path / "c.json"
    with record_lock(out):
        stale = os.open(lock_path(out), os.O_RDWR)  # opened while held, locked after the end
    fcntl.flock(stale, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the removed file: a lock on nothing
    try:
        with record_lock(out):  # the path's own file, a new one
            with pytest.raises(RecordBusy, match=f"another campaign \\(process {os.getpid()}\\)"):
                with record_lock(out):
                    pass
    finally:
        os.close(stale)
    assert list(tmp_path.iterdir()) == []


def test_fuzz_cli__out_is_a_users_file_or_another_record__refused_untouched(tmp_path):
    """`--out notes.txt` was written over by the campaign's first batch; a record of another
    kind (a deployment record, a mutation record) too. Only a campaign record is replaced."""
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    record = tmp_path / "deployment.json"
    record.write_text('{"contracts": {}, "code_hashes": {}}')
    for out, kind in ((notes, ""), (record, " (it is a deployment record)")):
        done = CliRunner().invoke(_fuzz_cli(), ["--steps", "10", "--no-replay", "--out", str(out)])
        assert done.exit_code == 2, done.output
        assert done.output.splitlines() == [
            f"fuzz: --out {out}: exists and is not a fuzz campaign record{kind}, so it is not "
            "replaced; give another file, or move it away"
        ]
    assert notes.read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == [
        "deployment.json",
        "notes.txt",
    ]


def test_record_lock__its_file_a_symlink_or_unopenable__one_clear_reason(tmp_path):
    """A lock file planted as a symlink is not followed (nor written through), and one that
    cannot be opened is a refusal naming it, not a traceback."""
    out = tmp_path / "c.json"
    victim = tmp_path / "victim"
    victim.write_text("keep")
    lock_path(out).symlink_to(victim)
    with pytest.raises(RecordBusy, match="cannot open its lock file .*c.json.lock"):
        with record_lock(out):
            pass
    assert victim.read_text() == "keep"


def test_read_record__more_examples_and_steps_than_the_profile_says__read(tmp_path):
    """Hypothesis runs more test cases than a batch's max_examples: the first long campaign's
    record (15,678 examples in 750 batches of 20) was refused by a cap on them. Two batches of
    2 examples x 25 steps here, with 9 examples and 130 steps."""
    record = _record(examples=9, worker_steps={"0": 120, "1": 10}, steps=130)
    write_record(record, tmp_path / "c.json")
    assert read_record(tmp_path / "c.json") == record


_DIGESTED = (
    "contracts/A.vy",
    "contracts/modules/b.vyi",
    "offchain/m.py",
    "offchain/x.toml",
    "offchain/live/y.js",
    "scripts/_fuzz.py",
    "ape-config.yaml",
)


def test_code_digest__changes_with_any_contract_offchain_or_fuzz_script_file(tmp_path):
    for name in _DIGESTED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    before = code_digest(tmp_path)
    assert code_digest(tmp_path) == before
    for name in ("docs/notes.md", "scripts/_simulate.py", "bench/results.json"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("not what the fuzz runs")
    assert code_digest(tmp_path) == before
    for name in _DIGESTED:
        (tmp_path / name).write_text("y")
        assert code_digest(tmp_path) != before, name
        (tmp_path / name).write_text("x")
    assert code_digest(tmp_path) == before


_SMALL = ["--examples-per-batch", "1", "--steps-per-example", "10", "--workers", "1"]


def test_fuzz_cli__resume__goes_on_after_the_last_batch_and_lists_both_runs(tmp_path):
    out = tmp_path / "c.json"
    first = CliRunner().invoke(
        _fuzz_cli(), ["--steps", "10", *_SMALL, "--no-replay", "--out", str(out)]
    )
    assert first.exit_code == 1, first.output  # too short to apply every rule
    before = json.loads(out.read_text())
    again = CliRunner().invoke(
        _fuzz_cli(), ["--resume", "--steps", "20", "--no-replay", "--out", str(out)]
    )
    assert again.exit_code == 1, again.output
    assert f"; run 2, from {before['steps']} steps" in again.output
    record = json.loads(out.read_text())
    n = len(before["seeds"]["0"])
    assert before["steps"] >= 10 and record["steps"] >= 20
    assert record["seeds"]["0"][:n] == before["seeds"]["0"] == list(range(n))
    assert record["seeds"]["0"] == list(range(len(record["seeds"]["0"]))) and n < len(
        record["seeds"]["0"]
    )
    assert record["worker_steps"]["0"] == record["steps"]
    assert [r["steps"] for r in record["segments"]] == [
        before["steps"],
        record["steps"] - before["steps"],
    ]
    assert record["code_digest"] == before["code_digest"] == code_digest()
    # its target reached: nothing to resume, the record untouched
    done = CliRunner().invoke(_fuzz_cli(), ["--resume", "--no-replay", "--out", str(out)])
    assert done.exit_code == 2 and json.loads(out.read_text()) == record
    assert done.output.splitlines() == [
        f"fuzz: --resume: {out}'s campaign has {record['steps']:,} steps, its workers reached "
        "20: nothing to resume (--steps raises the target)"
    ]


@pytest.mark.parametrize(
    "extra, lines",
    [
        (
            ["--workers", "2", "--seed", "3"],
            [
                "fuzz: --workers: --resume takes it from the record",
                "fuzz: --seed: --resume takes it from the record",
            ],
        ),  # fmt: skip
        (
            ["--machine", "full", "--batch", "4"],
            [
                "fuzz: --machine: --resume takes it from the record",
                "fuzz: --batch: --resume takes it from the record",
            ],
        ),  # fmt: skip
        (
            ["--examples-per-batch", "3"],
            ["fuzz: --examples-per-batch: --resume takes it from the record"],
        ),  # fmt: skip
    ],
)
def test_fuzz_cli__resume_with_what_the_record_sets__each_named_nothing_run(tmp_path, extra, lines):
    out = _written(tmp_path, _record(code_digest=code_digest()))
    text = out.read_text()
    result = CliRunner().invoke(_fuzz_cli(), ["--resume", *extra, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == lines
    assert out.read_text() == text


def test_fuzz_cli__resume_under_other_code_or_of_an_old_record__one_line_untouched(tmp_path):
    out = _written(tmp_path, _record(code_digest="0123456789abcdef"))
    text = out.read_text()
    result = CliRunner().invoke(_fuzz_cli(), ["--resume", "--out", str(out)])
    assert result.exit_code == 2 and out.read_text() == text
    [line] = result.output.splitlines()
    assert line.startswith("fuzz: --resume: the contracts or offchain/ changed since ")
    assert "(code digest 0123456789abcdef, now " in line
    # a record written before --resume (as the one committed at d0a51c0): refused, not resumed
    # from scratch
    old = {k: v for k, v in asdict(_record()).items()
           if k not in ("code_digest", "worker_steps", "segments", "machine")}  # fmt: skip
    out.write_text(json.dumps(old))
    result = CliRunner().invoke(_fuzz_cli(), ["--resume", "--out", str(out)])
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1
    assert "written before campaigns could be resumed" in result.output
    missing = CliRunner().invoke(_fuzz_cli(), ["--resume", "--out", str(tmp_path / "no.json")])
    assert missing.exit_code == 2 and missing.output.splitlines() == [
        f"fuzz: --resume: no record at {tmp_path / 'no.json'}"
    ]


def test_target_reached__every_worker_its_equal_share():
    """Workers share a target equally (rounded up): 20 steps over two workers is 10 each, so 15
    and 3 is not there (the second worker goes on), 10 and 10 is."""
    assert not target_reached(_record(worker_steps={"0": 15, "1": 3}, steps=18), 20)
    assert not target_reached(_record(worker_steps={"0": 10, "1": 9}, steps=19), 20)
    assert target_reached(_record(worker_steps={"0": 10, "1": 10}, steps=20), 20)
    # 21 over two workers: 11 each (rounded up)
    assert not target_reached(_record(worker_steps={"0": 11, "1": 10}, steps=21), 21)
    assert target_reached(_record(worker_steps={"0": 11, "1": 11}, steps=22), 21)
    # the record's own target by default: 100 over two workers
    assert not target_reached(_record())
