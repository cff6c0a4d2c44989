"""An outside user's fourth round over every command (issue 74): each input it found accepted in
silence, contradicting itself, named wrongly, or printing what nobody asked for is one line
naming it now (exit 2, nothing run or written), tested by class of input, not string by string.
The data losses (empty folders) are in test_nothing_deleted.py; history's `--set` in
tests/history/test_history_report.py; a price file without volume in
tests/sim/test_open_market.py."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.backends.chain import OneLineCompileLog
from offchain.system.cli import choice_list, file_problem

ROOT = Path(__file__).resolve().parents[2]
DAYS = ("black-thursday-2020", "may-2021")
# nothing listens: the options' mistakes are named first, then the node that does not answer
NO_NODE = "http://127.0.0.1:9"


def _lines(output: str) -> list[str]:
    return [x for x in output.splitlines() if x.strip()]


# ---------------------------------------------------------------- a list of choices (--days)


@pytest.mark.parametrize(
    "text, chosen, phrases",
    [
        ("black-thursday-2020", ["black-thursday-2020"], []),
        (" may-2021 , black-thursday-2020 ", ["may-2021", "black-thursday-2020"], []),
        ("none", [], []),
        ("may-2021,may-2021", None, ["may-2021 given more than once: give each once"]),
        ("none,none", None, ["none given more than once"]),
        ("none,black-thursday-2020", None, ["none and black-thursday-2020 together contradict"]),
        ("june-2022", None, ["june-2022 is no crash day (the crash days: black-thursday-2020"]),
        ("a,b", None, ["a, b are no crash days"]),
        ("", None, ["'' is no crash day"]),
        (" , ", None, ["' , ' is no crash day"]),
        (
            "june,june,none",
            None,
            ["june is no crash day", "june given more than once", "none and june together"],
        ),
    ],
)
def test_choice_list__repeats_contradictions_and_unknowns__one_line_each(text, chosen, phrases):
    got, problems = choice_list("--days", text, DAYS, "crash day")
    assert len(problems) == len(phrases), problems
    for problem, phrase in zip(problems, phrases):
        assert problem.startswith("--days: ") and phrase in problem and "\n" not in problem
    if chosen is not None:
        assert got == chosen


# ---------------------------------------------------------------- a file option (--proposal)


@pytest.mark.parametrize(
    "make, phrase",
    [
        (lambda p: p.mkdir(), "is a folder, not a file: give the proposal's file"),
        (lambda p: None, ": no such file"),
        (lambda p: os.mkfifo(p), "is not a regular file: give the proposal's file"),
    ],
)
def test_file_problem__a_folder_a_missing_file_a_pipe__each_named_for_what_it_is(
    tmp_path, make, phrase
):
    path = tmp_path / "pro posal ü"
    make(path)
    problem = file_problem("--proposal", str(path), "the proposal's file")
    assert problem == f"--proposal: {path}{'' if phrase.startswith(':') else ' '}{phrase}"
    assert file_problem("--proposal", "  ", "x") == "--proposal: '  ' is empty: give x"
    (tmp_path / "ok.toml").write_text("")
    assert file_problem("--proposal", str(tmp_path / "ok.toml"), "x") is None


@pytest.mark.parametrize(
    "args, lines",
    [
        (["--proposal", "{tmp}"], ["govern: --proposal: {tmp} is a folder, not a file: give the "
                                   "proposal's file"]),
        (["--days", "none,black-thursday-2020"], ["govern: --days: none and black-thursday-2020 "
                                                  "together contradict each other: give none "
                                                  "alone, or the crash days"]),
        (["--days", "may-2021,may-2021", "--proposal", "{tmp}/absent.toml"], [
            "govern: --days: may-2021 given more than once: give each once",
            "govern: --proposal: {tmp}/absent.toml: no such file"]),
    ],
)  # fmt: skip
def test_govern_rehearse__days_and_proposal__refused_before_any_node(tmp_path, args, lines):
    """Reported: `rehearse --proposal <a folder>` said "no such file"; `--days
    none,black-thursday-2020` and a day given twice ran. Refused before the node is asked (none
    listens at NO_NODE), one line each, nothing written."""
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(
        script_cli("govern"), ["rehearse", "1", *args, "--rpc", NO_NODE, "--out", str(tmp_path)]
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [x.replace("{tmp}", str(tmp_path)) for x in lines]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["cancle", "1"], ["nope"], ["1e400"]])
def test_govern__a_command_that_is_none_of_its__one_line_naming_them(args):
    """Found on the fourth round: `govern <no such command>` printed click's usage block (four
    lines) where every other mistake is one line."""
    result = CliRunner(mix_stderr=False).invoke(script_cli("govern"), args)
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = _lines(result.stderr)
    assert line.startswith(f"govern: No such command '{args[0]}' (the commands: ")
    assert "propose" in line and "rehearse" in line


@pytest.mark.parametrize(
    "content, why",
    [
        (b"", "(an empty file)"),
        (b"my notes\n", "(not JSON)"),
        (b"\x89PNG\r\n\x1a\n\x00\xff", "(not UTF-8 text)"),
        (b'{"kill_rate": 1.0, "mutants": [], "killed": 1}', "(it is a mutation run's record)"),
        (b'{"contracts": {}, "code_hashes": {}}', "(it is a deployment record)"),
    ],
)
def test_fuzz_resume__a_file_that_is_no_record__said_in_words(tmp_path, content, why):
    """Found on the fourth round: `fuzz --resume --out notes.txt` gave the reason as an
    exception's class name, "(JSONDecodeError)". It says what the file is now."""
    path = tmp_path / "record ü.json"
    path.write_bytes(content)
    result = CliRunner(mix_stderr=False).invoke(
        script_cli("fuzz"), ["--resume", "--out", str(path)]
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.stderr) == [f"fuzz: --resume: {path} is not a campaign record {why}"]


@pytest.mark.parametrize(
    "phases, every",
    [([], False), (["--phases", "auto"], False), (["--phases", "all"], True)],
)
def test_simulate_oracle_phase__runs_that_phase_alone_unless_phases_all(tmp_path, phases, every):
    """Found on the fourth round: the README says `--oracle-phase P` runs one phase; under the
    default `--phases auto` a real day's replay ran all six beside it, as if not given."""
    args = ["--backend", "model", "--vaults", "10", "--oracle-phase", "600", *phases]
    result = CliRunner(mix_stderr=False).invoke(
        script_cli("simulate"), [*args, "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert "oracle phase: 600 s" in result.stdout
    assert ("oracle phases (6): insolvency" in result.stdout) is every


@pytest.mark.parametrize(
    "content, phrase",
    [
        (b"\x89PNG\r\n\x1a\n\x00\xff", "not a bot's checkpoint (not a checkpoint's JSON)"),
        (b"my notes\n", "not a bot's checkpoint (not a checkpoint's JSON)"),
        (b'{"kill_rate": 1.0, "mutants": [], "killed": 1}', "(it is a mutation run's record)"),
        (b'{"contracts": {}, "code_hashes": {}}', "(it is a deployment record)"),
    ],
)
def test_market_checkpoints__a_file_that_is_no_checkpoint__refused_before_any_node(
    tmp_path, content, phrase
):
    """Found on the fourth round: `market --checkpoints notes.txt` (or a binary file) was taken
    in silence: no bot in it, the bars played unpaced. A file given there must be a bot's
    checkpoint; a folder of them may hold none yet; a place given twice is named."""
    path = tmp_path / "taker ü.json"
    path.write_bytes(content)
    args = ["--checkpoints", str(path), "--checkpoints", str(tmp_path), "--checkpoints"]
    result = CliRunner(mix_stderr=False).invoke(
        script_cli("market"), [*args, str(tmp_path), "--rpc", NO_NODE]
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.stderr) == [
        f"market: --checkpoints {path}: {phrase}; give a bot's --checkpoint file, or the "
        "directory of them"
        if phrase.startswith("not")
        else f"market: --checkpoints {path}: not a bot's checkpoint {phrase}; give a bot's "
        "--checkpoint file, or the directory of them",
        f"market: --checkpoints {tmp_path} given 2 times: give it once",
        f"market: no JSON-RPC node answers at {NO_NODE} (start one: make devnet)",  # (named too)
    ]


@pytest.mark.parametrize(
    "types, line",
    [
        (["ETH-A", "ETH-A"], "keeper: --type: ETH-A given more than once: give each type once"),
        (["ETH-A,WBTC-A", "WBTC-A"], "keeper: --type: WBTC-A given more than once: give each "
                                     "type once"),
    ],
)  # fmt: skip
def test_keeper_type__a_type_given_twice__refused_before_any_node(types, line):
    """Found on the fourth round: `keeper --type ETH-A --type ETH-A` passed its checks."""
    args = ["--role", "liquidator", "--account", "dev:2", "--check", "--rpc", NO_NODE]
    for t in types:
        args += ["--type", t]
    result = CliRunner(mix_stderr=False).invoke(script_cli("keeper"), args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.stderr) == [
        line,
        f"keeper: no JSON-RPC node answers at {NO_NODE} (start one: make devnet)",  # (named too)
    ]


# ---------------------------------------------------------------- what the compile prints


def test_compile_log__ape_vypers_forty_lines__one_line_kept():
    """Reported: a stray `Input:` line (and a tab-indented list of every source) in `make run`'s
    output after the compile: ape-vyper's one log record of many lines. It is one line now."""
    sources = "\n\t".join(f"contracts/C{i}.vy" for i in range(32))
    text = f"Compiling using Vyper compiler '0.4.3'.\nInput:\n\t{sources}"
    record = logging.LogRecord("ape", logging.INFO, __file__, 1, text, (), None)
    assert OneLineCompileLog().filter(record)
    assert record.getMessage() == (
        "Compiling using Vyper compiler '0.4.3': 32 files (the first run, or a contract changed; "
        "kept in .build/, about a minute)"
    )
    other = logging.LogRecord("ape", logging.INFO, __file__, 1, "Input: %s", ("x",), None)
    assert OneLineCompileLog().filter(other) and other.getMessage() == "Input: x"


# ---------------------------------------------------------------- make's first minutes


FAKE_PYTHON = """#!/bin/sh
# `python3 -m venv DIR`: a fake environment whose python records what pip was asked
mkdir -p "$3/bin"
printf '#!/bin/sh\\necho "$@" >> pip.log\\n' > "$3/bin/python"
chmod +x "$3/bin/python"
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_setup__a_line_says_what_installs_and_how_long__once(tmp_path):
    """Reported: `make run`'s first two minutes (pip installing) printed nothing. The Makefile's
    install says what it installs and how long first; a second make, stamps fresh, says none of
    it (the stamps are as idempotent as before). A fake python3 stands in for the install."""
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    python = tmp_path / "fake-python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)

    def make() -> list[str]:
        done = subprocess.run(
            ["make", "--no-print-directory", f"PYTHON={python}", ".venv/.installed"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            # a make of its own, not a sub-make of `make test` (which would print "make[1]:")
            env={
                k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")
            },
        )
        assert done.returncode == 0, done.stderr
        return _lines(done.stdout)

    first = make()
    assert first[0].startswith("setup: installing the pinned Python dependencies")
    assert "a couple of minutes" in first[0] and first[-1] == "setup: .venv is ready"
    assert "-m pip install" in (tmp_path / "pip.log").read_text()
    assert (tmp_path / ".venv" / ".installed").exists()
    assert make() == ["make: '.venv/.installed' is up to date."]
