"""An output that cannot be written, refused before the run: `--out` under a file, or on a
virtual file system, was a traceback after the whole run (a chain replay lost) in `simulate`,
`sweep` and `compare-waterfalls`; `mutate --list` of a binary file a UnicodeDecodeError. Each is
now one line, exit status 2, the run never started, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

ROOT = Path(__file__).resolve().parents[2]


def _cli(script: str):
    return script_cli(script, "script")


def _never(*args, **kwargs):
    raise AssertionError("the run started")


# the function each command's run goes through: replaced, so a run that starts fails the test
RUNS = {"simulate": "replay", "compare-waterfalls": "replay", "sweep": "Store"}
ARGS = {
    "simulate": ["--backend", "model", "--vaults", "20", "--quiet"],
    "compare-waterfalls": ["--vaults", "20"],
    "sweep": ["--vaults", "20", "--seeds", "1", "--workers", "1"],
}


def _outs(tmp_path: Path) -> list[tuple[str, str]]:
    (tmp_path / "notes.txt").write_text("keep me")
    return [
        (str(tmp_path / "notes.txt" / "sub"), "notes.txt is a file, not a directory"),
        (str(tmp_path / "notes.txt" / "a" / "b"), "notes.txt is a file, not a directory"),
        ("/proc/nope/x", "cannot create a directory in /proc"),
    ]


@pytest.mark.parametrize("command", ["simulate", "compare-waterfalls", "sweep"])
def test_out_that_cannot_be_written__one_line_exit_2_before_the_run(tmp_path, command):
    cli = _cli(command)
    cli.callback.__globals__[RUNS[command]] = _never
    for out, phrase in _outs(tmp_path):
        result = CliRunner().invoke(cli, [*ARGS[command], "--out", out])
        lines = [x for x in result.output.splitlines() if x.strip()]
        assert result.exit_code == 2, (out, result.output, result.exception)
        assert len(lines) == 1 and f"{command}: --out {out}: " in lines[0], lines
        assert phrase in lines[0], lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # nothing written
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_mutate_list__binary_file__one_line_exit_2(tmp_path):
    binary = tmp_path / "mutants.toml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    result = CliRunner().invoke(_cli("mutate"), ["--list", str(binary)])
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert result.exit_code == 2, (result.output, result.exception)
    assert lines == [f"mutate: {binary}: not a text TOML file"]


@pytest.mark.parametrize(
    "args, phrase",
    [
        (lambda p: ["--list", str(p)], "is a directory, not a mutant list"),
        (lambda p: ["--out", str(p / "notes.txt" / "m.json")], "is a file, not a directory"),
        (lambda p: ["--out", "/proc/nope/m.json"], "cannot create a directory in /proc"),
        # the record was written over the user's file after the run (issue 65)
        (lambda p: ["--out", str(p / "notes.txt")], "exists and is not a mutation run's record"),
        (
            lambda p: ["--out", str(ROOT / "bench" / "fuzz-campaign.json")],
            "(it is a fuzz campaign record), so it is not replaced",
        ),
    ],
)
def test_mutate__list_or_out_unusable__one_line_exit_2(tmp_path, args, phrase):
    (tmp_path / "notes.txt").write_text("keep me")
    cli = _cli("mutate")
    cli.callback.__globals__["run_baseline"] = _never
    result = CliRunner().invoke(cli, args(tmp_path))
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(lines) == 1 and phrase in lines[0], lines
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_mutate_list__empty_file__said_empty(tmp_path):
    """An empty mutant list said "no [[mutant]] entries"; it is an empty file (issue 65)."""
    empty = tmp_path / "mutants.toml"
    empty.write_text("# to do\n")
    cli = _cli("mutate")
    cli.callback.__globals__["run_baseline"] = _never
    result = CliRunner().invoke(cli, ["--list", str(empty)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.output.splitlines() == [
        f"mutate: {empty}: empty file (a mutant list holds [[mutant]] tables)"
    ]
