"""An outside user's fifth round over every command (issue 74; the inputs and their verdicts in
docs/testing.md, "Bad input, tried as a user"): the two classes it found taken in silence are one
line now, exit 2, nothing run or written, and what the user had is left as it was.

- A path that begins with `~`, which no shell expanded (`--out=~/reports`, a quoted "~/r"): the
  report (or record) was written to a folder named `~` in the working directory.
- `ape run gas --update --snapshot FILE` where FILE is no gas snapshot (the user's notes): it was
  replaced by the measurement's snapshot once the measurement ended."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.system.cli import directory_problem, empty_out
from offchain.testing import gas_report

ROOT = Path(__file__).resolve().parents[2]
NO_NODE = "http://127.0.0.1:9"  # nothing listens: the option's mistake is named before the node


def _lines(output: str) -> list[str]:
    return [x for x in output.splitlines() if x.strip()]


# ---------------------------------------------------------------- `~` that no shell expanded

TILDES = ["~", "~/reports/x", "~alice/r"]
COMMANDS = [
    ("simulate", ["--backend", "model", "--vaults", "10", "--quiet"]),
    ("compare-waterfalls", ["--vaults", "10"]),
    ("history", ["--backend", "model", "--workers", "1"]),
    ("sweep", ["--seeds", "1", "--vaults", "10", "--workers", "1", "--verify", "0", "--quiet"]),
    ("govern", ["rehearse", "1", "--rpc", NO_NODE]),
]


@pytest.mark.parametrize("tilde", TILDES)
@pytest.mark.parametrize("script, args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_out_beginning_with_an_unexpanded_tilde__one_line_nothing_written(script, args, tilde):
    made = Path.cwd() / tilde.split("/")[0]
    assert not made.exists()  # (a left-over of an earlier run would hide the write)
    result = CliRunner().invoke(script_cli(script), [*args, f"--out={tilde}"])
    lines = _lines(result.output)
    assert result.exit_code == 2, (result.output, result.exception)
    assert lines == [
        f"{script}: --out {tilde!r}: '~' was not expanded to a home folder (a shell expands it "
        "only at the start of a word, not after --out=): write the path out"
    ], lines
    assert not made.exists()


@pytest.mark.parametrize("snapshot", ["~/gas.json", "~gas.json"])
def test_gas_snapshot_beginning_with_an_unexpanded_tilde__refused_before_the_measurement(
    snapshot,
):
    # file_refusal, the record files' rule (gas --snapshot, fuzz's and mutate's --out)
    made = Path.cwd() / snapshot.split("/")[0]
    assert not made.exists()
    result = CliRunner().invoke(script_cli("gas"), ["--update", f"--snapshot={snapshot}"])
    lines = _lines(result.output)
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(lines) == 1 and lines[0].startswith(f"gas: --snapshot {snapshot!r}: '~' was"), lines
    assert not made.exists()


@pytest.mark.parametrize("option", ["--records", "--deployments"])
def test_a_records_directory_beginning_with_a_tilde__refused_by_the_directory_check(option):
    # devnet's --records and deploy's --deployments share directory_problem (one home); a CLI
    # run of either with a right value starts a node, so the rule is checked where it lives
    problem = directory_problem(option, "~/records")
    assert problem is not None and problem.startswith(f"{option} '~/records': '~' was not")


PATH_OPTIONS = [
    ("keeper", ["--role", "liquidator", "--rpc", NO_NODE], "--checkpoint"),
    ("keeper", ["--role", "liquidator", "--rpc", NO_NODE], "--log"),
    ("devnet", [], "--state"),
    ("market", ["--scenario", "black-thursday-2020", "--rpc", NO_NODE], "--checkpoints"),
]


@pytest.mark.parametrize(
    "script, args, option", PATH_OPTIONS, ids=[f"{c[0]} {c[2]}" for c in PATH_OPTIONS]
)
def test_a_bots_or_devnets_path_beginning_with_a_tilde__one_line_nothing_made(script, args, option):
    # a keeper's checkpoint and log, a devnet's state file, the market's bots' checkpoints
    made = Path.cwd() / "~"
    assert not made.exists()
    result = CliRunner().invoke(script_cli(script), [*args, f"{option}=~/x.json"])
    lines = _lines(result.output)
    assert result.exit_code == 2, (result.output, result.exception)
    assert lines[0] == (
        f"{script}: {option} '~/x.json': '~' was not expanded to a home folder (a shell expands "
        f"it only at the start of a word, not after {option}=): write the path out"
    ), lines
    assert not made.exists()


@pytest.mark.parametrize("out", ["reports/~x", "./~", "a~b"])
def test_a_tilde_inside_a_path__not_refused(out):
    # only a leading `~` is what a shell would have expanded
    assert empty_out(out) is None


# ---------------------------------------------------------------- gas --update onto a user's file

NOT_SNAPSHOTS = {
    "notes": b"my notes, not a snapshot\n",
    "a JSON list": b"[1, 2, 3]\n",
    "a fuzz record": json.dumps({"seed": 0, "workers": 2, "batches": []}).encode(),
    "binary": bytes(range(256)),
    "empty": b"",
}


@pytest.mark.parametrize("kind", NOT_SNAPSHOTS, ids=list(NOT_SNAPSHOTS))
def test_gas_update_onto_a_file_that_is_no_snapshot__refused_before_the_measurement(tmp_path, kind):
    mine = tmp_path / "mine.json"
    mine.write_bytes(NOT_SNAPSHOTS[kind])
    result = CliRunner().invoke(script_cli("gas"), ["--update", "--snapshot", str(mine)])
    lines = _lines(result.output)
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(lines) == 1 and lines[0].startswith(f"gas: --snapshot {mine}: "), lines
    assert "not replaced" in lines[0] or "not a gas snapshot" in lines[0], lines
    assert mine.read_bytes() == NOT_SNAPSHOTS[kind]
    assert sorted(tmp_path.iterdir()) == [mine]


def test_the_committed_snapshot_is_one__gas_update_still_replaces_it():
    # the rule's other side: `make gas-update` writes over bench/gas-snapshot.json
    data = json.loads(gas_report.SNAPSHOT.read_text())
    assert gas_report.is_snapshot(data)
    assert gas_report.read_snapshot() == data
