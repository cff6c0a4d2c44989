"""`ape run deploy` against a running Anvil (`--network ethereum:local:foundry` with the node's
URL): the dry run sends and writes nothing, the deployment writes a record that verifies and
replays in the model with 0 differences, and bad input is one line, exit status 2, nothing sent."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from eth_account import Account
from live_support import ROOT, free_port

from offchain.live.devnet import DevnetNode
from offchain.live.node import Node
from offchain.live.reconcile import reconcile
from offchain.live.record import load_record, node_record_path, verify
from offchain.live.signers import dev_signer


@pytest.fixture
def node(tmp_path) -> Iterator[DevnetNode]:
    anvil = DevnetNode(free_port(), log_file=tmp_path / "anvil.log")
    with anvil:
        yield anvil


@pytest.fixture
def ape_folder(tmp_path) -> Path:
    """An empty Ape data folder (APE_DATA_FOLDER): Ape's accounts of the test live there, never in
    the user's ~/.ape."""
    folder = tmp_path / "ape-data"
    folder.mkdir()
    return folder


def _import_ape_account(ape_folder: Path, alias: str, passphrase: str) -> str:
    """`ape accounts import ALIAS` of a fresh key, answering its prompts (the key, the
    passphrase twice) on stdin, into `ape_folder`; the account's address."""
    key = Account.create()
    out = subprocess.run(
        ["ape", "accounts", "import", alias],
        input=f"{key.key.hex()}\n{passphrase}\n{passphrase}\n",
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "APE_DATA_FOLDER": str(ape_folder)},
    )
    assert out.returncode == 0, out.stderr
    assert (ape_folder / "accounts" / f"{alias}.json").exists()
    return key.address


def _deploy(
    node: DevnetNode, records, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            "ape",
            "run",
            "deploy",
            "--network",
            "ethereum:local:foundry",
            "--deployments",
            str(records),
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "APE_FOUNDRY_HOST": node.url, **(env or {})},
        stdin=subprocess.DEVNULL,  # no terminal: nobody to ask for a passphrase
    )


def _recorded(node: DevnetNode, records: Path) -> Path:
    """The record of the node's chain in `records` (<chain id>-<genesis>.json)."""
    return node_record_path(Node(node.url), records)


def _untouched(node: DevnetNode) -> tuple[int, int, int]:
    rpc = Node(node.url)
    return (
        rpc.block_number(),
        rpc.nonce(dev_signer(0).address),
        rpc.nonce(dev_signer(1).address),
    )


def test_dry_run__estimates_every_transaction__sends_and_writes_nothing(node, tmp_path):
    before = _untouched(node)
    out = _deploy(node, tmp_path / "records", "--dry-run", "--gas-price", "30")
    assert out.returncode == 0, out.stderr
    assert _untouched(node) == before == (0, 0, 0)
    assert not (tmp_path / "records").exists()
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines() if line.strip()}
    total = rows["total"]
    count, estimated = int(total[1]), int(total[2].replace(",", ""))
    assert count > 100 and estimated > 10_000_000
    per_contract = [r for name, r in rows.items() if name in ("VaultEngine", "DutchAuction")]
    assert len(per_contract) == 2 and all(int(r[2].replace(",", "")) > 0 for r in per_contract)
    # every estimate is made in the block its transaction is mined in, at that block's time: at
    # the latest block's, FeeAccumulator's set_base_fee after init_type skipped the accrual its
    # mined block ran (FeeAccumulator 2,153,917 estimated, 2,277,825 used)
    table = [r for r in rows.values() if len(r) == 4 and r[1].isdigit()]
    short = [r for r in table if int(r[2].replace(",", "")) < int(r[3].replace(",", ""))]
    assert len(table) > 10 and not short, short
    # the cost at the price the user gave ("at the node's base fee (8e-09 gwei): about 0.000000
    # ether" before): the larger total x the price, exactly
    gas = max(estimated, int(total[3].replace(",", "")))
    ether = Decimal(gas * 30 * 10**9) / 10**18
    cost = f"at 30 gwei: {gas:,} gas x 30 gwei = {ether:,f}".rstrip("0").rstrip(".") + " ether"
    assert cost in out.stdout, out.stdout
    # the figures docs/keepers.md quotes are the command's (they drifted: 115 transactions and
    # 40.1M gas quoted, 119 and 46.0M printed)
    docs = (ROOT / "docs" / "keepers.md").read_text()
    assert f"({count} transactions, about {estimated / 1e6:.1f}M gas" in docs, (count, estimated)
    assert f"each of the deployment's {count} transactions" in docs


def test_deploy__writes_a_record_that_verifies_and_replays_with_no_differences(
    node, tmp_path, artifacts
):
    records = tmp_path / "records"
    out = _deploy(node, records)
    assert out.returncode == 0, out.stderr
    record = load_record(_recorded(node, records))
    verify(record, Node(node.url))
    assert record.roles == {
        "governance": dev_signer(0).address,
        "feeder": dev_signer(1).address,
    }
    assert len(record.transactions) == Node(node.url).block_number()
    report = reconcile(Node(node.url), record, *artifacts)
    assert report.differences == [] and report.transactions == len(record.transactions)
    checked = _deploy(node, records, "--verify")
    assert checked.returncode == 0 and "code hashes match" in checked.stdout
    head = Node(node.url).block_number()
    again = _deploy(node, records)
    assert again.returncode == 2
    assert [x for x in again.stderr.splitlines() if x.startswith("deploy:")] == [
        f"deploy: Backstop is already deployed on this node ({_recorded(node, records)}); "
        "ape run deploy --verify checks it"
    ]
    assert Node(node.url).block_number() == head
    tampered = json.loads((_recorded(node, records)).read_text())
    engine = tampered["contracts"]["engine"]
    tampered["code_hashes"][engine] = "0x" + "00" * 32
    (_recorded(node, records)).write_text(json.dumps(tampered))
    refused = _deploy(node, records, "--verify")
    assert refused.returncode == 2
    errors = [x for x in refused.stderr.splitlines() if x.startswith("deploy:")]
    assert len(errors) == 1 and f"engine at {engine}" in errors[0]


def test_deploy__two_chains_of_one_chain_id__keep_their_records_side_by_side(node, tmp_path):
    """Anvil and Hardhat devnets both have chain id 31337 (issue 47, item 2): a record is named by
    its chain's genesis, so a deployment on a second chain of that chain id writes a record of its
    own beside the first's, and each verifies against its own node and not the other's (before:
    both were 31337.json, and the second deployment took the first's place)."""
    records = tmp_path / "records"
    assert _deploy(node, records).returncode == 0
    time.sleep(1.1)  # a genesis one second later: another block 0 hash
    with DevnetNode(free_port(), log_file=tmp_path / "anvil-2.log") as other:
        out = _deploy(other, records)
        assert out.returncode == 0, out.stderr
        first, second = _recorded(node, records), _recorded(other, records)
        assert first != second
        assert sorted(records.iterdir()) == sorted([first, second])
        assert load_record(first).genesis_hash != load_record(second).genesis_hash
        for chain in (node, other):
            checked = _deploy(chain, records, "--verify")
            assert checked.returncode == 0 and "code hashes match" in checked.stdout
        wrong = subprocess.run(
            [
                "ape",
                "run",
                "reconcile",
                "--rpc",
                other.url,
                "--deployment",
                str(first),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert wrong.returncode == 2
        assert [x for x in wrong.stderr.splitlines() if x.strip()] == [
            f"reconcile: {first}: recorded on the chain whose genesis is "
            f"{load_record(first).genesis_hash[:12]}…, but the node at {other.url} (chain id "
            f"31337 too) has genesis {load_record(second).genesis_hash[:12]}… (another node or "
            "a reset: deploy again)"
        ]


def test_deploy__with_ape_keyfile_accounts__the_record_names_them_and_verifies(
    node, tmp_path, ape_folder, artifacts
):
    deployer = _import_ape_account(ape_folder, "deployer", "deployer-pass")
    feeder = _import_ape_account(ape_folder, "feeder", "feeder-pass")
    for address in (deployer, feeder):
        Node(node.url).rpc("anvil_setBalance", [address, hex(10**21)])
    records = tmp_path / "records"
    out = _deploy(
        node,
        records,
        "--account",
        "deployer",
        "--feeder-account",
        "feeder",
        env={
            "APE_DATA_FOLDER": str(ape_folder),
            "APE_ACCOUNTS_deployer_PASSPHRASE": "deployer-pass",
            "APE_ACCOUNTS_feeder_PASSPHRASE": "feeder-pass",
        },
    )
    assert out.returncode == 0, out.stderr
    record = load_record(_recorded(node, records))
    verify(record, Node(node.url))  # every contract's code hash on the node
    assert record.roles == {"governance": deployer, "feeder": feeder}
    rpc = Node(node.url)
    # every transaction signed by the two Ape accounts, none by the dev accounts
    assert rpc.nonce(deployer) + rpc.nonce(feeder) == len(record.transactions) > 100
    assert rpc.nonce(feeder) > 0
    assert (rpc.nonce(dev_signer(0).address), rpc.nonce(dev_signer(1).address)) == (0, 0)
    report = reconcile(rpc, record, *artifacts)
    assert report.differences == [] and report.transactions == len(record.transactions)


@pytest.mark.parametrize(
    "env, message",
    [
        ({}, "Ape account 'deployer' is locked: set APE_ACCOUNTS_deployer_PASSPHRASE"),
        (
            {"APE_ACCOUNTS_deployer_PASSPHRASE": "not-it"},
            "Ape account 'deployer': wrong passphrase",
        ),
    ],
)
def test_deploy__ape_account_without_its_passphrase__one_line_exit_2_nothing_sent(
    node, tmp_path, ape_folder, env, message
):
    deployer = _import_ape_account(ape_folder, "deployer", "deployer-pass")
    Node(node.url).rpc("anvil_setBalance", [deployer, hex(10**21)])
    out = _deploy(
        node,
        tmp_path / "records",
        "--account",
        "deployer",
        env={"APE_DATA_FOLDER": str(ape_folder), **env},
    )
    assert out.returncode == 2
    errors = [x for x in out.stderr.splitlines() if x.startswith("deploy:")]
    assert len(errors) == 1 and message in errors[0], out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert Node(node.url).nonce(deployer) == 0 and _untouched(node) == (0, 0, 0)
    assert not (tmp_path / "records").exists()


def test_deploy__apes_host_names_a_dead_node__one_line_exit_2_no_anvil_of_its_own(tmp_path):
    """`APE_FOUNDRY_HOST=http://127.0.0.1:9 ape run deploy` started an Anvil of its own there,
    deployed to it and exited 0 (issue 34): a user who meant a running node saw success."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    out = subprocess.run(
        ["ape", "run", "deploy", "--network", "ethereum:local:foundry"]
        + ["--deployments", str(tmp_path / "records")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "APE_FOUNDRY_HOST": url},
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    errors = [x for x in out.stderr.splitlines() if x.startswith("deploy:")]
    assert len(errors) == 1 and f"no node answers at {url} (APE_FOUNDRY_HOST)" in errors[0]
    assert "Traceback" not in out.stderr + out.stdout
    assert not (tmp_path / "records").exists()
    with socket.socket() as s:  # nothing was started there
        assert s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("--account", "no-such-alias"),
            "no Ape account named 'no-such-alias' (Ape accounts here: deployer;",
        ),
        (("--feeder-account", "dev:12"), "dev:12: the devnet has dev accounts 0 to 9"),
        (
            ("--account", "dev:1"),
            "--account dev:1 and --feeder-account dev:1 must be different accounts (their "
            "defaults: dev:0 and dev:1)",
        ),
        (("--verify",), "no deployment record at"),
        (("--gas-price", "30"), "--gas-price prices a --dry-run"),
        (("--dry-run", "--gas-price", "nan"), "--gas-price 'nan': must be from 0 to"),
        (("--dry-run", "--gas-price", "1e400"), "--gas-price '1e400': must be from 0 to"),
        (("--dry-run", "--gas-price", "1e-10"), "--gas-price '1e-10': finer than 1 wei"),
        # --verify read the record (here: none) and ignored --dry-run
        (("--dry-run", "--verify"), "--dry-run and --verify are two different runs: give one"),
    ],
)
def test_deploy__bad_input__one_line_exit_2_nothing_sent(node, tmp_path, ape_folder, args, message):
    _import_ape_account(ape_folder, "deployer", "deployer-pass")
    out = _deploy(node, tmp_path / "records", *args, env={"APE_DATA_FOLDER": str(ape_folder)})
    assert out.returncode == 2
    errors = [x for x in out.stderr.splitlines() if x.startswith("deploy:")]
    assert len(errors) == 1 and message in errors[0], out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert _untouched(node) == (0, 0, 0)
    assert not (tmp_path / "records").exists()


def test_deploy__config_with_three_mistakes__an_error_line_each(node, tmp_path):
    """Each of a config's mistakes is its own `deploy:` line (the second and third were bare
    lines under the first's `Error:`), exit status 2, nothing sent or written."""
    text = (ROOT / "config" / "devnet.toml").read_text()
    bad = tmp_path / "three.toml"
    bad.write_text(
        text.replace('global_debt_ceiling = "50_000_000"', 'global_debt_ceiling = "-1"')
        .replace('pool_fee_share = "0.25"', 'pool_fee_share = "1e400"')
        .replace("[system]\n", "[system]\ncolour = 1\n")
    )
    out = _deploy(node, tmp_path / "records", "--config", str(bad), "--dry-run")
    assert out.returncode == 2
    lines = [x for x in out.stderr.splitlines() if x.strip() and not x.startswith("INFO")]
    assert len(lines) == 3 and all(x.startswith(f"deploy: {bad}: ") for x in lines), lines
    assert "colour" in lines[0] and "global_debt_ceiling" in lines[1] and "1e400" in lines[2]
    assert "Traceback" not in out.stderr + out.stdout
    assert _untouched(node) == (0, 0, 0)
    assert not (tmp_path / "records").exists()


@pytest.mark.parametrize(
    "plant, phrase",
    [
        (lambda p: p.write_text("my notes"), r"not a deployment record \(not JSON; expected"),
        (lambda p: p.mkdir(), "is a directory, not a deployment record"),
        (
            lambda p: p.write_text('{"version": 2, "watched": {}, "pending": []}'),
            "a keeper bot's checkpoint, not a deployment record",
        ),
    ],
)
def test_ensure_deployment__not_a_record_at_the_records_path__refused_untouched(
    node, tmp_path, plant, phrase
):
    """The devnet's record path held something else (the user's file, a folder, a checkpoint):
    it was taken for "a record of an earlier chain" and written over by a new deployment's
    record (issue 65). Only a record is replaced; this is refused before anything is sent."""
    from offchain.live.deploy import DeployError, ensure_deployment
    from offchain.system.config import DEFAULT_CONFIG, load_config

    path = node_record_path(Node(node.url), tmp_path / "records")
    path.parent.mkdir()
    plant(path)
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(DeployError, match=phrase) as refused:
        ensure_deployment(
            node.url, {}, "", load_config(), DEFAULT_CONFIG, dev_signer(0), dev_signer(1),
            path.parent,
        )  # fmt: skip
    assert str(refused.value).endswith("it would be replaced by this node's record: move it away")
    assert (path.read_bytes() if path.is_file() else None) == before
    assert Node(node.url).block_number() == 0  # nothing sent
