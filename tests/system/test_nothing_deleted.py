"""Nothing of the user's is ever deleted (issue 65): a command writes its output folder when it is
new or empty, or when it holds that same command's own earlier output as the command left it
(its marker, offchain/system/outputs.py); a folder of the user's files, another command's output,
a folder to which a file was added or in which one was changed, and an output written before
markers are refused in one line, exit status 2, and left exactly as they were.

The four cases reported: `simulate --out` onto a folder holding the user's summary.md and
notes.txt; onto a finished history report; `simulate --out` and `compare-waterfalls --out` onto
a finished sweep."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.report.documents import ReportError, publish
from offchain.system.outputs import (
    MARKER,
    OutputError,
    check_folder,
    file_refusal,
    folder_refusal,
    publish_folder,
)

ROOT = Path(__file__).resolve().parents[2]


def _cli(script: str):
    return script_cli(script, "nothing_deleted")


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under `root` (relative path -> SHA-256 of a file's bytes, "folder"
    for a folder, empty ones too): what "left as it was" compares."""
    return {
        str(p.relative_to(root)): (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
        )
        for p in sorted(root.rglob("*"))
        if p.is_file() or (p.is_dir() and not p.is_symlink())
    }


def refused(result, command: str, *phrases: str) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(lines) == 1 and lines[0].startswith(f"{command}: "), lines
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in lines[0], lines
    return lines[0]


def _users_folder(tmp_path: Path) -> Path:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "summary.md").write_text("# my own summary\n")
    (out / "notes.txt").write_text("keep me\n")
    return out


def _empty_folders(tmp_path: Path) -> Path:
    """Reported: a folder of the user's holding only empty folders (`drafts/empty/`) was taken
    for an empty one ("nothing to lose") and deleted with them."""
    out = tmp_path / "drafts"
    (out / "empty").mkdir(parents=True)
    (out / "later" / "chapters").mkdir(parents=True)
    return out


def _build(files: dict[str, str]):
    def build(root: Path) -> None:
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)

    return build


# ---------------------------------------------------------------- the rule itself


def test_folder_refusal__absent_and_empty__written(tmp_path):
    assert folder_refusal(tmp_path / "new", "simulate") is None
    (tmp_path / "empty").mkdir()
    assert folder_refusal(tmp_path / "empty", "simulate") is None
    publish_folder(tmp_path / "empty", "simulate", _build({"summary.md": "x"}))
    assert json.loads((tmp_path / "empty" / MARKER).read_text())["command"] == "simulate"


def test_folder_refusal__empty_folders_only__refused_and_kept(tmp_path):
    """Empty folders are the user's too: a folder holding nothing else is not "empty"."""
    out = _empty_folders(tmp_path)
    before = snapshot(out)
    assert folder_refusal(out, "simulate") == (
        f"{out}: holds folders or files no Backstop command wrote (empty/, later/); choose "
        "another --out"
    )
    with pytest.raises(OutputError, match="holds folders or files no Backstop command wrote"):
        publish_folder(out, "simulate", _build({"summary.md": "x"}))
    assert snapshot(out) == before and before == {
        "empty": "folder",
        "later": "folder",
        "later/chapters": "folder",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drafts"]


def test_publish_folder__own_empty_folders__replaced(tmp_path):
    """A folder the command itself wrote, even left empty, is its own (the marker lists it)."""
    out = tmp_path / "r"

    def build(root: Path) -> None:
        (root / "plots" / "none").mkdir(parents=True)
        (root / "summary.md").write_text("one")

    publish_folder(out, "simulate", build)
    assert json.loads((out / MARKER).read_text())["folders"] == ["plots", "plots/none"]
    publish_folder(out, "simulate", _build({"summary.md": "two"}))
    assert not (out / "plots").exists() and (out / "summary.md").read_text() == "two"


def test_folder_refusal__format_1_marker__folders_holding_its_files_are_its_own(tmp_path):
    """A marker written before markers listed folders: the folders holding its files are the
    command's, any other (an empty one the user made) is not."""
    out = tmp_path / "r"
    publish_folder(out, "simulate", _build({"summary.md": "one", "data/a.csv": "1"}))
    marker = json.loads((out / MARKER).read_text())
    del marker["folders"]
    marker["format"] = 1
    (out / MARKER).write_text(json.dumps(marker))
    assert folder_refusal(out, "simulate") is None
    (out / "data" / "mine").mkdir()
    assert "holds data/mine/, which simulate did not write there" in (
        folder_refusal(out, "simulate") or ""
    )


def test_publish_folder__own_output_unchanged__replaced(tmp_path):
    out = tmp_path / "r"
    publish_folder(out, "simulate", _build({"summary.md": "one", "data/a.csv": "1"}))
    marker = json.loads((out / MARKER).read_text())
    assert marker["command"] == "simulate" and set(marker["files"]) == {"summary.md", "data/a.csv"}
    (out / "data" / "a.csv").unlink()  # one the user deleted since is no matter
    publish_folder(out, "simulate", _build({"summary.md": "two"}))
    assert (out / "summary.md").read_text() == "two" and not (out / "data").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no hidden leftovers


@pytest.mark.parametrize(
    "prepare, phrase",
    [
        (lambda out: (out / "notes.txt").write_text("mine"), "holds notes.txt, which simulate"),
        (lambda out: (out / "data" / "x.csv").write_text("mine"), "holds data/x.csv, which"),
        (lambda out: (out / "summary.md").write_text("edited"), "its summary.md was changed"),
        (lambda out: os.symlink("/etc", out / "link"), "holds link, which simulate"),
        (lambda out: (out / "mine").mkdir(), "holds mine/, which simulate did not write"),
        (lambda out: (out / "data" / "keep" / "x").mkdir(parents=True), "holds data/keep/, "),
        (
            lambda out: (out / MARKER).write_text("{"),
            re.escape(f"its {MARKER} cannot be read (not JSON)"),
        ),
    ],
)
def test_publish_folder__own_output_touched_since__refused_and_kept(tmp_path, prepare, phrase):
    out = tmp_path / "r"
    publish_folder(out, "simulate", _build({"summary.md": "one", "data/a.csv": "1"}))
    prepare(out)
    before = snapshot(out)
    with pytest.raises(OutputError, match=phrase):
        publish_folder(out, "simulate", _build({"summary.md": "two"}))
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


@pytest.mark.parametrize(
    "files, phrase",
    [
        ({"summary.md": "# a report\n", "data/bars.csv": "1"}, "holds a report written before"),
        ({"comparison.md": "x"}, "holds a waterfall comparison written before"),
        ({"summary.md": "x", "backstop/report/summary.md": "y"}, "holds a history report"),
        ({"sweep.json": "{}", "runs/0000000.parquet": "x"}, "holds a sweep written before"),
        ({"thesis.tex": "x", "a.txt": "y", "b.txt": "z", "c.txt": "w"}, "and 1 more"),
    ],
)
def test_folder_refusal__output_without_a_marker__refused_by_name(tmp_path, files, phrase):
    """An output written before markers: whether the user added anything cannot be told, so it
    is refused (the user moves it away once); a folder of anything else is named by its files."""
    out = tmp_path / "old"
    _build(files)(out.mkdir() or out)
    before = snapshot(out)
    with pytest.raises(OutputError, match=phrase):
        publish_folder(out, "simulate", _build({"summary.md": "new"}))
    assert snapshot(out) == before


def test_folder_refusal__another_commands_output__refused(tmp_path):
    out = tmp_path / "cmp"
    publish_folder(out, "compare-waterfalls", _build({"comparison.md": "x"}))
    before = snapshot(out)
    problem = folder_refusal(out, "simulate")
    assert problem == (
        f"{out}: holds the output of ape run compare-waterfalls (a comparison), not of simulate; "
        "choose another --out"
    )
    with pytest.raises(OutputError):
        publish_folder(out, "simulate", _build({"summary.md": "x"}))
    assert snapshot(out) == before


def test_folder_refusal__a_file_or_a_link__refused(tmp_path):
    (tmp_path / "f").write_text("x")
    assert "is a file, not a folder" in (folder_refusal(tmp_path / "f", "simulate") or "")
    (tmp_path / "d").mkdir()
    os.symlink(tmp_path / "d", tmp_path / "link")
    assert "a symbolic link" in (folder_refusal(tmp_path / "link", "simulate") or "")


def test_publish_folder__file_added_during_the_run__refused_new_output_dropped(tmp_path):
    """The folder is checked again just before the swap: a file the user put there while the
    command ran is kept, and the new output (in its hidden sibling) removed."""
    out = tmp_path / "r"
    publish_folder(out, "simulate", _build({"summary.md": "one"}))

    def build(root: Path) -> None:
        (root / "summary.md").write_text("two")
        (out / "written-meanwhile.txt").write_text("mine")

    with pytest.raises(OutputError, match="holds written-meanwhile.txt"):
        publish_folder(out, "simulate", build)
    assert (out / "summary.md").read_text() == "one"
    assert (out / "written-meanwhile.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_report_publish__refusal_is_a_report_error(tmp_path):
    out = _users_folder(tmp_path)
    with pytest.raises(ReportError, match="holds a report written before Backstop marked"):
        publish(out, _build({"summary.md": "x"}))
    check_folder(tmp_path / "absent", "simulate")  # nothing to say


def test_file_refusal__only_its_own_kind_of_record_is_replaced(tmp_path):
    own = lambda data: isinstance(data, dict) and "kill_rate" in data  # noqa: E731
    (tmp_path / "record.json").write_text(json.dumps({"kill_rate": 1.0, "mutants": []}))
    assert file_refusal(tmp_path / "record.json", "a mutation record", own) is None
    assert file_refusal(tmp_path / "absent.json", "a mutation record", own) is None
    (tmp_path / "notes.txt").write_text("keep me")
    assert file_refusal(tmp_path / "notes.txt", "a mutation record", own) == (
        f"--out {tmp_path / 'notes.txt'}: exists and is not a mutation record, so it is not "
        "replaced; give another file, or move it away"
    )
    (tmp_path / "deployment.json").write_text(json.dumps({"contracts": {}, "code_hashes": {}}))
    assert "(it is a deployment record)" in (
        file_refusal(tmp_path / "deployment.json", "a mutation record", own) or ""
    )
    assert "a folder, not a file" in (file_refusal(tmp_path, "a mutation record", own) or "")
    (tmp_path / "bin").write_bytes(b"\xff\x00\xfe")
    assert "exists and is not" in (file_refusal(tmp_path / "bin", "a mutation record", own) or "")


# ---------------------------------------------------------------- the commands


SIMULATE = ["--backend", "model", "--vaults", "20", "--quiet"]
COMPARE = ["--vaults", "20", "--orders", "fund;redistribution"]
SWEEP = ["--vaults", "20", "--seeds", "1", "--workers", "1", "--verify", "0", "--quiet"]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    """One finished output of each command that writes a folder (history's is built by its own
    publishing step with the history command's marker: a real history run takes many minutes)."""
    root = tmp_path_factory.mktemp("outputs")
    done = {}
    for command, args in (
        ("simulate", SIMULATE),
        ("compare-waterfalls", COMPARE),
        ("sweep", SWEEP),
    ):
        out = root / command
        result = CliRunner().invoke(_cli(command), [*args, "--out", str(out)])
        assert result.exit_code == 0, result.output
        done[command] = out
    history = root / "history"
    publish(
        history,
        _build({"summary.md": "# Black Thursday\n", "backstop/report/summary.md": "# report\n"}),
        "history",
    )
    done["history"] = history
    return done


def test_simulate_out__the_users_summary_and_notes__refused_untouched(tmp_path):
    """Reported: `simulate --out DIR` with the user's own summary.md and notes.txt in DIR wrote
    its summary.md over the one and deleted the other."""
    out = _users_folder(tmp_path)
    before = snapshot(out)
    result = CliRunner().invoke(_cli("simulate"), [*SIMULATE, "--out", str(out)])
    refused(result, "simulate", "holds a report written before Backstop marked its outputs")
    assert snapshot(out) == before


def test_simulate_out__a_finished_history_report__refused_untouched(outputs):
    """Reported: `simulate --out` onto a finished history report replaced 18 minutes of work."""
    before = snapshot(outputs["history"])
    result = CliRunner().invoke(_cli("simulate"), [*SIMULATE, "--out", str(outputs["history"])])
    refused(result, "simulate", "holds the output of ape run history")
    assert snapshot(outputs["history"]) == before


@pytest.mark.parametrize("command", ["simulate", "compare-waterfalls"])
def test_out__a_finished_sweep__refused_untouched(outputs, command):
    """Reported: `simulate --out` and `compare-waterfalls --out` onto a finished sweep deleted
    its sweep.json, runs/ and results."""
    sweep = outputs["sweep"]
    assert (sweep / "sweep.json").is_file() and list((sweep / "runs").iterdir())
    before = snapshot(sweep)
    args = SIMULATE if command == "simulate" else COMPARE
    result = CliRunner().invoke(_cli(command), [*args, "--out", str(sweep)])
    refused(result, command, "holds the output of ape run sweep (a sweep)")
    assert snapshot(sweep) == before


@pytest.mark.parametrize("command", ["simulate", "compare-waterfalls", "sweep"])
def test_each_command__users_files_and_other_outputs__refused_untouched(tmp_path, outputs, command):
    args = {"simulate": SIMULATE, "compare-waterfalls": COMPARE, "sweep": SWEEP}[command]
    others = [outputs[c] for c in outputs if c != command]
    for out in [_users_folder(tmp_path), _empty_folders(tmp_path), *others]:
        before = snapshot(out)
        result = CliRunner().invoke(_cli(command), [*args, "--out", str(out)])
        refused(result, command, str(out))
        assert snapshot(out) == before, out


@pytest.mark.parametrize("command", ["simulate", "compare-waterfalls", "sweep"])
def test_each_command__a_folder_made_in_its_own_output__refused_untouched(tmp_path, command):
    """Reported: a folder the user made inside an earlier output was deleted when the command
    ran again (a file there was refused, a folder was not looked at)."""
    args = {"simulate": SIMULATE, "compare-waterfalls": COMPARE, "sweep": SWEEP}[command]
    out = tmp_path / "own"
    assert CliRunner().invoke(_cli(command), [*args, "--out", str(out)]).exit_code == 0
    (out / "plots").mkdir(exist_ok=True)
    (out / "plots" / "keep").mkdir()
    before = snapshot(out)
    result = CliRunner().invoke(_cli(command), [*args, "--out", str(out)])
    refused(result, command, "plots/keep/", "did not write there" if command != "sweep" else "")
    assert snapshot(out) == before


@pytest.mark.parametrize("command", ["simulate", "compare-waterfalls"])
def test_each_command__its_own_output__replaced(tmp_path, command):
    args = SIMULATE if command == "simulate" else COMPARE
    out = tmp_path / "own"
    for _ in range(2):
        result = CliRunner().invoke(_cli(command), [*args, "--out", str(out)])
        assert result.exit_code == 0, result.output
    assert json.loads((out / MARKER).read_text())["command"] == command
    assert sorted(p.name for p in tmp_path.iterdir()) == ["own"]


def test_sweep__its_own_output__resumed_and_a_users_file_in_it_refused(tmp_path):
    out = tmp_path / "own"
    for _ in range(2):
        result = CliRunner().invoke(_cli("sweep"), [*SWEEP, "--out", str(out)])
        assert result.exit_code == 0, result.output
    assert "resuming: 1 of 1" in result.output  # its one run was there
    (out / "plots" / "mine.txt").write_text("keep me")
    before = snapshot(out)
    result = CliRunner().invoke(_cli("sweep"), [*SWEEP, "--out", str(out)])
    refused(result, "sweep", "holds plots/mine.txt, which a sweep does not write")
    assert snapshot(out) == before


def test_history__users_files_other_outputs_refused__its_own_replaced(tmp_path, outputs):
    """history's checks and publishing, with its minutes of runs replaced by a stand-in that
    publishes as history.write does (offchain/history/report.py)."""
    cli = _cli("history")

    def write(out_dir, *args, **kwargs):  # history.write's arguments: the day, its runs' pool
        publish(out_dir, _build({"summary.md": "# history\n"}), "history")
        return out_dir / "summary.md", ["a line"], True

    cli.callback.__globals__["write"] = write
    users = [_users_folder(tmp_path), _empty_folders(tmp_path)]
    for out in [*users, outputs["simulate"], outputs["sweep"]]:
        before = snapshot(out)
        refused(CliRunner().invoke(cli, ["--out", str(out)]), "history", str(out))
        assert snapshot(out) == before
    own = tmp_path / "own"
    for _ in range(2):
        result = CliRunner().invoke(cli, ["--out", str(own)])
        assert result.exit_code == 0, result.output
    assert json.loads((own / MARKER).read_text())["command"] == "history"
