"""`make test` in shards (tests/shards.py, tests/conftest.py's `--shard`): the shards are
disjoint, together they are the whole suite, and they balance the recorded seconds."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from shards import DURATIONS, parse_shard, read_durations, record_durations, split

ROOT = Path(__file__).resolve().parents[2]


def test_split_is_a_partition_in_the_files_order() -> None:
    files = [f"f{i}.py" for i in range(11)]
    durations = {f"f{i}.py": float(i * i) for i in range(8)}  # three files unrecorded
    for count in (1, 2, 3, 5):
        groups = split(files, durations, count)
        assert len(groups) == count
        assert sorted(f for g in groups for f in g) == sorted(files)
        for group in groups:
            assert group == [f for f in files if f in group]
        assert split(list(reversed(files)), durations, count) == [list(reversed(g)) for g in groups]


def test_split_balances_the_recorded_seconds() -> None:
    durations = {"a.py": 600.0, "b.py": 300.0, "c.py": 290.0, "d.py": 10.0, "e.py": 5.0}
    groups = split(durations, durations, 2)
    loads = sorted(sum(durations[f] for f in g) for g in groups)
    # longest first, each to the lighter group (a tie to the first): {a, e} and {b, c, d}
    assert loads == [600.0, 605.0]
    # an unrecorded file counts as the median of the recorded ones
    assert split(["a.py", "new.py"], {"a.py": 1.0}, 2) == [["a.py"], ["new.py"]]


@pytest.mark.parametrize("text", ["", "1", "0/2", "3/2", "a/2", "1/b", "1/0", "-1/2", "1/2/3"])
def test_a_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--shard"):
        parse_shard(text)


def test_shards_are_counted_from_one() -> None:
    assert parse_shard("1/2") == (0, 2)
    assert parse_shard("2/2") == (1, 2)


def test_recorded_durations_merge_and_bad_records_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    record_durations(path, {"a.py": 1.04, "b.py": 2.0})
    record_durations(path, {"b.py": 3.0, "c.py": 0.5})
    assert read_durations(path) == {"a.py": 1.0, "b.py": 3.0, "c.py": 0.5}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["durations.json"]
    assert read_durations(tmp_path / "none.json") == {}
    for bad in (b"[1, 2]", b"{", b"\xff\xfe\x00"):
        path.write_bytes(bad)
        with pytest.raises(ValueError):
            read_durations(path)


def test_the_committed_record_covers_the_suite() -> None:
    record = read_durations(DURATIONS)
    missing = [
        p.relative_to(ROOT / "tests").as_posix()
        for p in sorted((ROOT / "tests").rglob("test_*.py"))
        if p.relative_to(ROOT / "tests").as_posix() not in record
    ]
    # a new file is balanced as the median; the record is refreshed when the list grows long
    assert len(missing) <= 10, missing
    assert list(json.loads(DURATIONS.read_text())) == sorted(record)


def _collected(*options: str) -> set[str]:
    out = subprocess.run(
        ["ape", "test", "tests/security", "--collect-only", "-q", "-p", "no:cacheprovider"]
        + list(options),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return {line for line in out.stdout.splitlines() if re.match(r"tests/\S+::", line)}


def test_the_shards_of_a_folder_are_disjoint_and_whole() -> None:
    whole = _collected()
    first, second = _collected("--shard", "1/2"), _collected("--shard", "2/2")
    assert whole and first and second
    assert not first & second
    assert first | second == whole
    assert not {n.split("::")[0] for n in first} & {n.split("::")[0] for n in second}


def test_a_bad_shard_on_the_command_line_is_one_line() -> None:
    out = subprocess.run(
        ["ape", "test", "tests/security", "--collect-only", "-q", "--shard", "3/2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 4  # pytest's exit for a usage error
    lines = [line for line in (out.stdout + out.stderr).splitlines() if "--shard" in line]
    assert lines == ["ERROR: --shard '3/2': K must be between 1 and N"]
    assert "Traceback" not in out.stdout + out.stderr


def test_a_shard_the_selection_leaves_empty_passes_and_says_so() -> None:
    """`make test TEST_ARGS="-k ..."` or a narrow TEST_PATHS may leave one shard no test: it
    says so and passes (pytest alone would exit 5), while the other runs what was selected."""
    runs = [
        subprocess.run(
            ["ape", "test", "tests/security/test_attacker.py", "--collect-only", "-q"]
            + ["-p", "no:cacheprovider", "--shard", f"{k}/2"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        for k in (1, 2)
    ]
    assert [r.returncode for r in runs] == [0, 0], [r.stdout[-1500:] for r in runs]
    said = [r for r in runs if "no test of the selection is in this shard's files" in r.stdout]
    assert len(said) == 1
    other = runs[1 - runs.index(said[0])]
    assert re.search(r"^tests/security/test_attacker\.py::", other.stdout, re.M)


@pytest.mark.parametrize(
    ("setting", "line"),
    [
        ("TEST_SHARDS=0", "TEST_SHARDS=0: a whole number of processes, at least 1"),
        ("TEST_SHARDS=2.0", "TEST_SHARDS=2.0: a whole number of processes, at least 1"),
        ("TEST_ARGS=--shard=1/2", "TEST_ARGS: --shard is make test's own"),
    ],
)
def test_make_refuses_a_bad_shard_setting_in_one_line(setting: str, line: str) -> None:
    # a make of its own: under `make test` the parent's jobserver and settings are in the
    # environment (MAKEFLAGS), and the child would warn about the jobserver
    inherited = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}
    inherited |= {"TEST_SHARDS", "TEST_ARGS", "TEST_PATHS"}
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    out = subprocess.run(
        ["make", "-n", "test", setting],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 2
    assert line in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert not out.stdout


def test_a_selection_empty_in_every_shard_still_fails() -> None:
    """A `-k` that matches nothing is not turned into a pass by the shards."""
    out = subprocess.run(
        ["ape", "test", "tests/security/test_attacker.py", "--collect-only", "-q"]
        + ["-p", "no:cacheprovider", "--shard", "1/2", "-k", "no_test_is_named_so"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 5, out.stdout[-1500:]
    assert "no test of the selection is in this shard's files" not in out.stdout
