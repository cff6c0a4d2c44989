"""A file of one kind given where another is expected is named as what it is (issue 65):
`reconcile --deployment <a checkpoint without its watch>` said "record version None, expected 1"
(or 2), a fuzz record given as a bot's checkpoint "checkpoint version None ... delete it to start
over", advice that deleted it. Each of Backstop's JSON files is recognised by its fields
(outputs.describe_json), and the refusal says what it is and what was expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offchain.live.follower import Checkpoint, CheckpointError
from offchain.live.record import RecordError, load_record
from offchain.system.outputs import describe_json

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = (
    "(expected the devnet's record, deployments/<chain id>-<genesis>.json, written by make "
    "devnet or ape run deploy)"
)

FILES = {
    "checkpoint": {"version": 2, "chain_id": 31337, "deployment": "0xab", "role": "liquidator"},
    "fuzz record": json.loads((ROOT / "bench" / "fuzz-campaign.json").read_text()),
    "mutation record": json.loads((ROOT / "bench" / "mutants.json").read_text()),
    "sweep.json": {"identity": {"format": 2}, "scenarios": ["black-thursday-2020"], "vaults": 20},
    "marker": {"command": "simulate", "files": {}, "format": 1},
    "anvil state": {"block": {}, "accounts": {}},
}


@pytest.mark.parametrize(
    "name, kind",
    [
        ("checkpoint", "a keeper bot's checkpoint"),
        ("fuzz record", "a fuzz campaign record"),
        ("mutation record", "a mutation run's record"),
        ("sweep.json", "a sweep's sweep.json"),
        ("marker", "an output marker (.backstop-output.json)"),
        ("anvil state", "an Anvil state file"),
    ],
)
def test_load_record__another_of_backstops_files__named_with_what_was_expected(
    tmp_path, name, kind
):
    path = tmp_path / "given.json"
    path.write_text(json.dumps(FILES[name]))
    assert describe_json(FILES[name]) == kind
    with pytest.raises(RecordError) as refused:
        load_record(path)
    assert str(refused.value) == f"{path}: {kind}, not a deployment record {EXPECTED}"


def test_load_record__json_of_no_known_kind_or_another_version__says_so(tmp_path):
    path = tmp_path / "given.json"
    path.write_text("{}")
    with pytest.raises(RecordError) as refused:
        load_record(path)
    assert str(refused.value) == (f"{path}: not a deployment record (no version; {EXPECTED[1:-1]})")
    path.write_text(json.dumps({"version": 3, "contracts": {}, "code_hashes": {}}))
    with pytest.raises(RecordError, match="deployment record version 3, this code reads 1"):
        load_record(path)


@pytest.mark.parametrize("name", ["fuzz record", "sweep.json", "anvil state"])
def test_checkpoint__another_of_backstops_files__named_never_delete_it(tmp_path, name):
    path = tmp_path / "given.json"
    path.write_text(json.dumps(FILES[name]))
    with pytest.raises(CheckpointError) as refused:
        Checkpoint(path, 31337, "0xab", "liquidator").load()
    message = str(refused.value)
    assert message == (
        f"{path}: {describe_json(FILES[name])}, not a checkpoint (give the bot its own "
        "--checkpoint file)"
    )
    assert "delete" not in message
    path.write_text("{}")
    with pytest.raises(CheckpointError, match="not a checkpoint \\(no version;"):
        Checkpoint(path, 31337, "0xab", "liquidator").load()


def test_load_record__empty_or_not_json__says_which_with_what_was_expected(tmp_path):
    path = tmp_path / "given.json"
    path.write_text("\n")
    with pytest.raises(RecordError) as refused:
        load_record(path)
    assert str(refused.value) == f"{path}: empty file {EXPECTED}"
    path.write_text("my notes")
    with pytest.raises(RecordError) as refused:
        load_record(path)
    assert str(refused.value) == f"{path}: not a deployment record (not JSON; {EXPECTED[1:-1]})"
