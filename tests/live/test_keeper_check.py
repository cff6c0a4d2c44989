"""`ape run keeper --check` runs every check the bot runs before it acts, and the bot refuses what
it had taken and ignored (a newcomer's tally, issue 47). Before: `--check` exited 0 on a record
of another chain or with another code hash, an unknown --type, a busy --metrics-port, a checkpoint
of another deployment or role, while the bot itself refused them; and the bot started (or
`--check` said 0) with a geometric gas policy whose start is above its cap, --webhook-timeout on a
role without a webhook, --stuck-blocks with a fixed gas policy, --gas for the notifier (or for a
--read-only bot, or one without an account). A backstop bot given a liquidator's checkpoint logged
`resumed` and rewrote it as its own. Each is now one line, exit 2, with or without --check,
nothing sent or written.

One devnet for the module: nothing here sends a transaction (each test checks the head block)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from live_support import ROOT, free_port

from offchain.live.devnet import DevnetNode
from offchain.live.follower import Checkpoint, Watched
from offchain.live.node import Node
from offchain.live.record import DeploymentRecord, code_hash, load_record


@dataclass
class Chain:
    url: str
    record_file: Path
    record: DeploymentRecord

    def block(self) -> int:
        return Node(self.url).block_number()


@pytest.fixture(scope="module")
def chain(tmp_path_factory, deployed_state) -> Iterator[Chain]:
    state, record_file = deployed_state
    base = tmp_path_factory.mktemp("check-devnet")
    shutil.copy(state, base / "state.json")
    shutil.copy(record_file, base / record_file.name)
    node = DevnetNode(free_port(), base / "state.json", log_file=base / "anvil.log")
    node.start()
    try:
        yield Chain(node.url, base / record_file.name, load_record(base / record_file.name))
    finally:
        node.kill()


def _keeper(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "offchain.live.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


def _checkpoint(chain: Chain, path: Path, role: str, deployment: str | None = None) -> Path:
    """A checkpoint as a bot of `role` writes it (another deployment's: `deployment`)."""
    d = chain.record.deployment()
    Checkpoint(path, chain.record.chain_id, deployment or chain.record.identity).save(
        {
            "role": role,
            "watched": Watched.fresh(d).to_json(),
            "pending": [],
            "state": {"last_accrual": 0, "last_post": {}, "flash_takers": {}},
            "metrics": {},
            "reverts_by_reason": {},
        }
    )
    return path


def _record(chain: Chain, path: Path, change) -> Path:
    data = json.loads(chain.record_file.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


def _set_chain_id(data: dict) -> None:
    data["chain_id"] = 1


def _break_engine_hash(data: dict) -> None:  # its last 4 hex digits: the first 12 are the same
    engine = data["contracts"]["engine"]
    data["code_hashes"][engine] = data["code_hashes"][engine][:-4] + "beef"


def _contracts_a_string(data: dict) -> None:
    data["contracts"] = "x"


CASES = {
    # (the command's options past --rpc; {x}: a file the case makes) -> the line's phrase
    "geometric start above its cap": (
        ["--role", "taker", "--account", "dev:3", "--gas", "geometric:300,1.125,200"],
        "keeper: --gas 'geometric:300,1.125,200': the start (300 gwei) is above the cap (200 gwei)",
    ),
    "webhook timeout for a taker": (
        ["--role", "taker", "--account", "dev:3", "--webhook-timeout", "5"],
        "keeper: --webhook-timeout is for --role notifier, not taker",
    ),
    "webhook timeout for a read-only liquidator": (
        ["--role", "liquidator", "--read-only", "--webhook-timeout", "5"],
        "keeper: --webhook-timeout is for --role notifier, not liquidator",
    ),
    "record of chain id 1": (
        ["--role", "taker", "--account", "dev:3", "--deployment", "{chain1}"],
        "recorded for chain id 1, but the node at",
    ),
    "record with another code hash": (
        ["--role", "taker", "--account", "dev:3", "--deployment", "{codehash}"],
        "{codehash}: engine at ",
    ),
    "record whose contracts are a string": (
        ["--role", "taker", "--account", "dev:3", "--deployment", "{contracts}"],
        'not a deployment record ("contracts" must be a JSON object (contract -> address), '
        "not a string)",
    ),
    "busy metrics port": (
        ["--role", "taker", "--account", "dev:3", "--metrics-port", "{port}"],
        "keeper: --metrics-port {port}: ",
    ),
    "unknown type": (
        ["--role", "taker", "--account", "dev:3", "--type", "DOGE-A"],
        "keeper: --type DOGE-A: the deployment has types ETH-A",
    ),
    "unknown type in a list, feeder": (
        ["--role", "feeder", "--account", "dev:1", "--type", "ETH-A,DOGE-A"],
        "keeper: --type DOGE-A: the deployment has types ETH-A",
    ),
    "stuck blocks with a fixed policy": (
        ["--role", "taker", "--account", "dev:3", "--gas", "fixed:300", "--stuck-blocks", "5"],
        "keeper: --stuck-blocks: a fixed gas policy never replaces a stuck transaction",
    ),
    "gas for the notifier": (
        ["--role", "notifier", "--gas", "fixed:30"],
        "keeper: --gas: --role notifier sends no transactions, drop it",
    ),
    # a read-only bot (no account) sends nothing either: taken and ignored before
    "gas for a read-only bot": (
        ["--role", "liquidator", "--read-only", "--gas", "fixed:30"],
        "keeper: --gas: a --read-only bot sends no transactions, drop it",
    ),
    "stuck blocks without an account": (
        ["--role", "backstop", "--stuck-blocks", "5"],
        "keeper: --stuck-blocks: without --account the bot sends no transactions (give "
        "--account, or drop it)",
    ),
    "checkpoint of another deployment": (
        ["--role", "liquidator", "--read-only", "--checkpoint", "{other_deployment}"],
        "a checkpoint of another chain or deployment",
    ),
    "checkpoint of another role": (
        ["--role", "backstop", "--read-only", "--checkpoint", "{liquidators}"],
        "the checkpoint of a liquidator bot, not of this backstop bot",
    ),
    # it stopped only after the locks and the checkpoint's resume (--check said 0)
    "read-only taker without its FlashTaker": (
        ["--role", "taker", "--read-only"],
        "keeper: FlashTaker must be deployed first, and this bot sends nothing (types ETH-A, "
        "WBTC-A: run the taker once with --account, then read-only)",
    ),
    "checkpoint whose watched is a string": (
        ["--role", "liquidator", "--read-only", "--checkpoint", "{watched}"],
        'a checkpoint this bot cannot read ("watched" must be a JSON object, not a string;',
    ),
    # a record given as the checkpoint was "checkpoint version 1 ... delete it": the advice
    # deleted the user's record; a checkpoint given as the record was "record version 2"
    "deployment record given as the checkpoint": (
        ["--role", "liquidator", "--read-only", "--checkpoint", "{record}"],
        "a deployment record, not a checkpoint (give it as --deployment, and the bot's own "
        "--checkpoint file)",
    ),
    "checkpoint given as the deployment record": (
        ["--role", "liquidator", "--read-only", "--deployment", "{liquidators}"],
        "a keeper bot's checkpoint, not a deployment record",
    ),
    # entries inside the fields (a ValueError traceback on a short vault row; "KeyError: 'nonce'")
    "checkpoint with a vault row of two values": (
        ["--role", "liquidator", "--read-only", "--checkpoint", "{short_row}"],
        'a checkpoint this bot cannot read ("watched.vaults.ETH-A"[0] must be [owner, collateral, '
        "normalized debt] (a string and two integers);",
    ),
    "checkpoint with a pending transaction without its nonce": (
        ["--role", "liquidator", "--read-only", "--checkpoint", "{no_nonce}"],
        'a checkpoint this bot cannot read ("pending"[0] has no valid "nonce";',
    ),
    "checkpoint with a metric that is text": (
        ["--role", "liquidator", "--read-only", "--checkpoint", "{metric_text}"],
        'a checkpoint this bot cannot read ("metrics.sent_total" must be a number, not a string;',
    ),
}

# a liquidator's checkpoint with one entry changed (the key of CASES' {x} -> the change)
DEEP = {
    "short_row": lambda c: c["watched"]["vaults"].__setitem__("ETH-A", [["0x" + "ab" * 20, 1]]),
    "no_nonce": lambda c: c.__setitem__(
        "pending", [{"to": "0x" + "ab" * 20, "data": "0x", "gas": 1, "label": "x", "targets": []}]
    ),
    "metric_text": lambda c: c["metrics"].__setitem__("sent_total", "12"),
}


@pytest.mark.parametrize("check", [True, False], ids=["check", "start"])
@pytest.mark.parametrize("case", list(CASES))
def test_keeper__mistake__one_line_exit_2_with_or_without_check(chain, tmp_path, case, check):
    """The same line, exit 2, whether --check is given or not; nothing sent, no checkpoint or
    lock written, the files given unchanged."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    files = {
        "chain1": _record(chain, inputs / "r-chain1.json", _set_chain_id),
        "codehash": _record(chain, inputs / "r-codehash.json", _break_engine_hash),
        "contracts": _record(chain, inputs / "r-contracts.json", _contracts_a_string),
        "other_deployment": _checkpoint(chain, inputs / "other.json", "liquidator", "0" * 16),
        "liquidators": _checkpoint(chain, inputs / "liquidator.json", "liquidator"),
        "record": inputs / "record.json",
    }
    shutil.copy(chain.record_file, files["record"])
    watched = json.loads(files["liquidators"].read_text()) | {"watched": "x"}
    files["watched"] = inputs / "watched.json"
    files["watched"].write_text(json.dumps(watched))
    for name, change in DEEP.items():
        data = json.loads(files["liquidators"].read_text())
        change(data)
        files[name] = inputs / f"{name}.json"
        files[name].write_text(json.dumps(data))
    written = {p: p.read_bytes() for p in inputs.iterdir()}
    args, phrase = CASES[case]
    keepers = tmp_path / "keepers"
    keepers.mkdir()
    defaults = {
        "--rpc": chain.url,
        "--deployment": str(chain.record_file),
        "--checkpoint": str(keepers / "c.json"),
        "--poll": "0.1",
    }
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        values = {k: str(v) for k, v in files.items()} | {"port": port}
        args = [x.format(**values) for x in args]
        phrase = phrase.format(**values)
        for key, value in defaults.items():
            if key not in args:
                args += [key, value]
        before = chain.block()
        # (before the fix, some of these started a bot: it is stopped by the timeout)
        result = _keeper(*args, *(["--check"] if check else []), timeout=60)
    lines = [x for x in (result.stdout + result.stderr).splitlines() if x.strip()]
    assert result.returncode == 2, lines
    assert len(lines) == 1 and lines[0].startswith("keeper: ") and phrase in lines[0], lines
    assert chain.block() == before
    assert list(keepers.iterdir()) == []
    assert {p: p.read_bytes() for p in inputs.iterdir()} == written


@pytest.mark.parametrize("check", [True, False], ids=["check", "start"])
def test_read_only_taker__another_roles_checkpoint_and_no_flash_taker__both_named(
    chain, tmp_path, check
):
    """A newcomer's case (kp-ckpt-role): the checkpoint was named, and the FlashTaker only once
    it was fixed; or the other way round before the checkpoint was read up front."""
    checkpoint = _checkpoint(chain, tmp_path / "liquidator.json", "liquidator")
    result = _keeper(
        "--role", "taker", "--read-only", "--rpc", chain.url, "--deployment",
        str(chain.record_file), "--checkpoint", str(checkpoint), *(["--check"] if check else []),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, lines
    assert "the checkpoint of a liquidator bot, not of this taker bot" in lines[0]
    assert lines[1].startswith("keeper: FlashTaker must be deployed first, and this bot sends")


def test_read_only_taker__its_checkpoint_holds_a_flash_taker_with_code__check_0(chain, tmp_path):
    """The check asks the node for code at the checkpoint's FlashTaker, as the bot does before it
    would deploy one (deploy.ensure_flash_takers); here any contract's code stands for it."""
    checkpoint = _checkpoint(chain, tmp_path / "taker.json", "taker")
    data = json.loads(checkpoint.read_text())
    data["state"]["flash_takers"] = {"ETH-A": chain.record.core["engine"]}
    checkpoint.write_text(json.dumps(data))
    args = ["--role", "taker", "--read-only", "--rpc", chain.url, "--deployment",
            str(chain.record_file), "--checkpoint", str(checkpoint), "--type", "ETH-A",
            "--check"]  # fmt: skip
    assert _keeper(*args).returncode == 0
    data["state"]["flash_takers"] = {"ETH-A": "0x" + "12" * 20}  # no code there
    checkpoint.write_text(json.dumps(data))
    result = _keeper(*args)
    assert result.returncode == 2 and "FlashTaker must be deployed first" in result.stderr


def test_code_hash_mismatch__both_whole_hashes_named(chain, tmp_path):
    """Both hashes were cut to 12 characters (`0x216fe5b347… on the node, the record says
    0x216fe5b347…`): a hash that differs late read as the same."""
    record = _record(chain, tmp_path / "r.json", _break_engine_hash)
    engine = chain.record.core["engine"]
    on_node = code_hash(Node(chain.url).code(engine))
    recorded = json.loads(record.read_text())["code_hashes"][engine]
    result = _keeper(
        "--role", "liquidator", "--read-only", "--rpc", chain.url, "--deployment", str(record),
        "--checkpoint", str(tmp_path / "c.json"), "--check",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"keeper: {record}: engine at {engine} has code hash {on_node} on the node, the record "
        f"says {recorded} (a reset or different chain: deploy again)"
    ]


def test_check__a_bot_that_would_start__exit_0_nothing_written(chain, tmp_path):
    """--check of a command the bot starts with (its own checkpoint among the options): 0, and
    no checkpoint, lock or line written."""
    checkpoint = _checkpoint(chain, tmp_path / "liquidator.json", "liquidator")
    written = checkpoint.read_bytes()
    before = chain.block()
    result = _keeper(
        "--role", "liquidator", "--account", "dev:2", "--rpc", chain.url,
        "--deployment", str(chain.record_file), "--checkpoint", str(checkpoint),
        "--type", "ETH-A", "--gas", "fixed:30", "--check",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["liquidator.json"]
    assert checkpoint.read_bytes() == written
    assert chain.block() == before


def test_help__names_the_default_record_as_it_is_named():
    """--help said `deployments/<the node's chain id>.json`; records are named
    `<chain id>-<genesis>.json` (record.record_path), and a `31337.json` is not read."""
    result = _keeper("--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "[default: deployments/<chain id>-<genesis>.json, of the node's chain id and the" in text
    assert "<the node's chain id>.json" not in text


@pytest.mark.parametrize("record", [True, False], ids=["record given", "record of the node"])
def test_unknown_type_beside_a_value_click_refuses__both_named(
    chain, tmp_path, record, monkeypatch
):
    """A newcomer's a-keepers-two (`make keepers KEEPER_ARGS="--type ETH-A,DOGE-A --poll 1e400"`):
    click's refusal of --poll was the only line; --type was checked once the node was asked."""
    if not record:  # the record found by the node's chain id and genesis, as make keepers does
        deployments = tmp_path / "deployments"
        deployments.mkdir()
        shutil.copy(chain.record_file, deployments / chain.record_file.name)
        monkeypatch.chdir(tmp_path)
    args = ["--role", "liquidator", "--read-only", "--rpc", chain.url, "--type", "ETH-A,DOGE-A"]
    args += ["--deployment", str(chain.record_file)] if record else []
    result = subprocess.run(
        [sys.executable, "-m", "offchain.live.cli", *args, "--poll", "1e400", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT if record else tmp_path,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("keeper: Invalid value for '--poll': '1e400'")
    assert lines[1] == "keeper: --type DOGE-A: the deployment has types ETH-A, WBTC-A"
