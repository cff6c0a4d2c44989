"""The keeper's edges: signers (an Ape account signs exactly as its key does), the deployment
record (written, verified, refused when it does not match the node), gas policies, and every
kind of bad input to `ape run keeper` rejected with one line, exit status 2, nothing sent."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from typing import Any

import pytest
from live_support import ROOT, wait_for

from offchain.live.cli import account_lock
from offchain.live.follower import CHECKPOINT_VERSION
from offchain.live.gas import GWEI, FixedGas, GeometricGas
from offchain.live.node import Node
from offchain.live.record import RecordError, load_record, verify
from offchain.live.signers import ApeSigner, SignerError, dev_signer, resolve_signer


def test_ape_account_signs_byte_for_byte_as_its_key():
    import ape

    accounts: Any = ape.accounts
    tx = {
        "chainId": 31337,
        "nonce": 3,
        "to": dev_signer(1).address,
        "value": 0,
        "data": "0x1234",
        "gas": 50_000,
        "maxFeePerGas": 3 * GWEI,
        "maxPriorityFeePerGas": GWEI,
    }
    ape_signer = ApeSigner(accounts.test_accounts[2], "test 2")
    assert ape_signer.address == dev_signer(2).address
    assert ape_signer.sign(tx) == dev_signer(2).sign(tx)


def test_resolve_signer__unknown_alias_and_dev_index__one_line():
    with pytest.raises(SignerError, match="no Ape account named 'nobody-here'"):
        resolve_signer("nobody-here")
    with pytest.raises(SignerError, match="dev accounts 0 to 9"):
        resolve_signer("dev:12")


def test_gas_policies__geometric_escalates_to_its_cap__fixed_never_replaces():
    g = GeometricGas(priority_fee=GWEI, factor_ppm=1_500_000, max_fee=10 * GWEI)
    bids = [g.fees(GWEI, k) for k in range(8)]
    assert bids[0] == (3 * GWEI, GWEI)
    assert bids[1] == (2 * GWEI + 1_500_000_000, 1_500_000_000)
    assert bids[-1] is None  # past the cap: no more bumps
    assert FixedGas(5 * GWEI, GWEI).fees(GWEI, 1) is None
    with pytest.raises(ValueError, match="below 1.125"):
        GeometricGas(factor_ppm=1_050_000)


def test_record__verifies_against_its_node__refuses_changed_code(devnet, tmp_path):
    node = Node(devnet.node.url)
    verify(devnet.record, node)  # as written by the deployment
    data = json.loads(devnet.record_file.read_text())
    engine = data["contracts"]["engine"]
    data["code_hashes"][engine] = "0x" + "00" * 32
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(RecordError, match="engine at .* has code hash"):
        verify(load_record(bad), node)
    data = json.loads(devnet.record_file.read_text())
    data["chain_id"] = 1
    bad.write_text(json.dumps(data))
    with pytest.raises(RecordError, match="recorded for chain id 1, but the node .* is chain id"):
        verify(load_record(bad), node)


def _keeper(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "offchain.live.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.parametrize(
    "case",
    ["no node", "no record", "chain id mismatch", "unknown alias", "no ether", "bad gas"],
)
def test_keeper_cli__bad_input__one_line_exit_2_nothing_sent(devnet, tmp_path, case):
    url, record = devnet.node.url, str(devnet.record_file)
    before = devnet.block()
    args = ["--role", "liquidator", "--account", "dev:2", "--rpc", url, "--deployment", record]
    expected = {
        "no node": "no JSON-RPC node answers at http://127.0.0.1:9",
        "no record": "no deployment record at",
        "chain id mismatch": "recorded for chain id 5",
        "unknown alias": "no Ape account named 'ghost'",
        "no ether": "holds no ether to pay for gas",
        "bad gas": "--gas 'steep:3'",
    }[case]
    if case == "no node":
        args[5] = "http://127.0.0.1:9"
    elif case == "no record":
        args[7] = str(tmp_path / "none.json")
    elif case == "chain id mismatch":
        data = json.loads(devnet.record_file.read_text())
        data["chain_id"] = 5
        other = tmp_path / "5.json"
        other.write_text(json.dumps(data))
        args[7] = str(other)
    elif case == "unknown alias":
        args[3] = "ghost"
    elif case == "no ether":
        devnet.chain.rpc("anvil_setBalance", [dev_signer(6).address, "0x0"])
        args[3] = "dev:6"
    elif case == "bad gas":
        args += ["--gas", "steep:3"]
    result = _keeper(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    if case != "no node":
        assert devnet.block() == before


def test_keeper_cli__older_checkpoint_format__one_line_saying_to_delete_it(devnet, tmp_path):
    """Checkpoint format 2 keeps the closed losses per collateral type; a format-1 file (one set
    for every type) is refused in one line that says what to do, nothing sent."""
    checkpoint = tmp_path / "old.json"
    checkpoint.write_text(json.dumps({"version": 1, "chain_id": 31337, "losses": [1, 2]}))
    before = devnet.block()
    result = _keeper(
        "--role", "backstop", "--account", "dev:4", "--rpc", devnet.node.url,
        "--deployment", str(devnet.record_file), "--checkpoint", str(checkpoint),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "checkpoint version 1, this bot writes 2 (delete it to start over" in lines[0]
    assert devnet.block() == before


def test_keeper_cli__second_bot_on_one_account__refused_naming_the_running_one(devnet, bots):
    """Two bots on one account shared its nonces and one checkpoint file (issue 34): the second
    is refused, with one line naming the first, and the first runs on."""
    first = bots("liquidator", "dev:2")
    wait_for(lambda: first.events("started"), 60, "the first bot")
    pid = first.process.pid  # type: ignore[union-attr]
    url, record = devnet.node.url, str(devnet.record_file)
    other = devnet.tmp / "other.checkpoint.json"
    result = _keeper(
        "--role", "taker", "--account", "dev:2", "--rpc", url, "--deployment", record,
        "--checkpoint", str(other),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"account {dev_signer(2).address} is in use" in lines[0], lines
    assert f"pid {pid}" in lines[0] and "role liquidator" in lines[0]
    assert not other.exists()
    # the same checkpoint, even without an account
    result = _keeper(
        "--role", "liquidator", "--read-only", "--rpc", url, "--deployment", record,
        "--checkpoint", str(first.checkpoint),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"checkpoint {first.checkpoint} is in use" in lines[0], lines
    assert first.running()
    # once the first has stopped, the account is free again
    first.stop()
    again = bots("taker", "dev:2")
    wait_for(lambda: again.events("started"), 60, "a bot on the freed account")


def test_keeper_cli__busy_metrics_port__refused_before_resuming(devnet, tmp_path):
    """A busy --metrics-port gave an OSError traceback after the bot had resumed (issue 34)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = _keeper(
            "--role", "liquidator", "--read-only", "--rpc", devnet.node.url,
            "--deployment", str(devnet.record_file), "--checkpoint", str(tmp_path / "c.json"),
            "--metrics-port", str(port),
        )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"--metrics-port {port}: " in lines[0], lines
    assert "Traceback" not in result.stderr and '"resumed"' not in result.stdout
    assert not (tmp_path / "c.json").exists()
    assert not (tmp_path / "c.json.lock").exists()  # left behind before (issue 34)


@pytest.mark.parametrize(
    "extra, phrase",
    [
        # a ValueError traceback in time.sleep, after a checkpoint had been written (issue 34)
        (["--poll", "nan"], "Invalid value for '--poll': 'nan' is not a finite number"),
        (["--poll", "inf"], "Invalid value for '--poll': 'inf' is not a finite number"),
        (["--poll", "1e400"], "Invalid value for '--poll': '1e400' is not a finite number"),
        (["--poll", "0"], "Invalid value for '--poll': 0.0 is not in the range 0<x<=3600"),
        (["--stuck-seconds", "nan"], "Invalid value for '--stuck-seconds': 'nan' is not a"),
        (["--max-node-down", "nan"], "Invalid value for '--max-node-down': 'nan' is not a"),
        (["--breaker", "0"], "Invalid value for '--breaker': 0 is not in the range x>=1"),
        (["--stuck-blocks", "0"], "Invalid value for '--stuck-blocks': 0 is not in the range"),
        # taken, then out_of_funds logged forever
        (["--gas", "fixed:1e400"], "--gas 'fixed:1e400': the max fee must be from 0 to 1,000,000"),
        (["--gas", "geometric:1,1.2,1e7"], "--gas 'geometric:1,1.2,1e7': the cap must be from 0"),
        (["--gas", "fixed:5,6"], "--gas 'fixed:5,6': the priority fee is above the max fee"),
        # "cannot convert NaN to integer", naming no option
        (["--gas", "fixed:nan"], "--gas 'fixed:nan': nan is not a finite number"),
        (["--gas", "geometric:1,inf,200"], "--gas 'geometric:1,inf,200': inf is not a finite"),
        (["--min-profit", "nan"], "--min-profit 'nan': must be from 0 to 1,000,000,000,000,000"),
        (["--min-profit", "inf"], "--min-profit 'inf': must be from 0 to"),
        (["--min-profit", "-1"], "--min-profit '-1': must be from 0 to"),
        # a ValueError traceback
        (["--rpc", "notaurl"], "--rpc 'notaurl' is not an http(s) JSON-RPC URL"),
        (["--rpc", "http://127.0.0.1:99999"], "--rpc 'http://127.0.0.1:99999' is not an http(s)"),
        # an IsADirectoryError traceback; <dir>.lock left behind
        (["--checkpoint", "{tmp}"], "--checkpoint {tmp} is a directory, not a checkpoint file"),
        (["--checkpoint", "{tmp}/binary.json"], "binary.json: not a JSON checkpoint"),
        (["--checkpoint", "{tmp}/list.json"], "list.json: not a checkpoint (a JSON list)"),
        # refused before any lock now (issue 47: a missing directory was created)
        (["--checkpoint", "{tmp}/binary.json/c.json"], "the directory {tmp}/binary.json is a file"),
        (["--checkpoint", "{tmp}/no/dir/c.json"], "the directory {tmp}/no/dir does not exist"),
        # read after the locks were taken: they are removed again
        (["--checkpoint", "{tmp}/fields.json"], "fields.json: a checkpoint this bot cannot read"),
        (["--deployment", "{tmp}"], "{tmp} is a directory, not a deployment record"),
    ],
)
def test_keeper_cli__bad_value__one_line_exit_2_nothing_written(devnet, tmp_path, extra, phrase):
    """Each as the user typed it, with an account: one line naming the option, exit status 2,
    nothing sent, no checkpoint and no lock file (of the checkpoint or of the account) left."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "binary.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    (inputs / "list.json").write_text("[1, 2]")
    (inputs / "fields.json").write_text(
        json.dumps(
            {
                "version": CHECKPOINT_VERSION,
                "chain_id": devnet.record.chain_id,
                "deployment": devnet.record.identity,
            }
        )
    )
    written = {p: p.read_bytes() for p in inputs.iterdir()}
    extra = [x.replace("{tmp}", str(inputs)) for x in extra]
    phrase = phrase.replace("{tmp}", str(inputs))
    # (in a directory that exists: a missing one is a mistake of its own, named beside the
    # option's)
    (tmp_path / "keepers").mkdir()
    checkpoint = tmp_path / "keepers" / "c.json"
    args = {"--rpc": devnet.node.url, "--deployment": str(devnet.record_file)}
    args |= {"--checkpoint": str(checkpoint)}
    args |= dict(zip(extra[::2], extra[1::2]))
    lock = account_lock(args["--rpc"], devnet.record.chain_id, dev_signer(2).address)
    had_lock = lock.exists()
    before = devnet.block()
    result = _keeper(
        "--role", "taker", "--account", "dev:2", *[x for kv in args.items() for x in kv]
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("keeper: ") and phrase in lines[0], lines
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert devnet.block() == before
    assert list((tmp_path / "keepers").iterdir()) == []  # no checkpoint, no lock
    assert {p: p.read_bytes() for p in inputs.iterdir() if p.is_file()} == written
    assert sorted(p.name for p in inputs.iterdir()) == sorted(p.name for p in written)
    assert not inputs.with_name("inputs.lock").exists()
    assert lock.exists() == had_lock
