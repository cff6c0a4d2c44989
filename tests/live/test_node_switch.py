"""State kept per node and per deployment, with real processes on real nodes: the Anvil and
Hardhat devnets both have chain id 31337, and the same dev accounts deploy Backstop to the same
addresses on both, so a record and a checkpoint keyed by the chain id (and the addresses) alone
let a notifier started after a switch of nodes resume the other chain's watch and counters (238
`notice_cleared` lines for vaults of the other chain, each POSTed to a webhook). The record names
its node's genesis block, in its file name too (the two chains' records sit side by side); the
default checkpoint folder is the record's identity (genesis, addresses, first block)."""

from __future__ import annotations

import subprocess
import sys

from live_support import ROOT, BotProcess, free_port, wait_for

from offchain.live.deploy import ensure_deployment
from offchain.live.devnet import DevnetNode
from offchain.live.node import Node
from offchain.live.record import RecordError, load_record, node_record_path, verify
from offchain.live.signers import dev_signer
from offchain.system.config import DEFAULT_CONFIG, load_config


def _default_checkpoint(bot) -> None:
    """The bot started without --checkpoint (the default folder, as a user runs it)."""
    i = bot.args.index("--checkpoint")
    del bot.args[i : i + 2]


def test_switching_nodes__same_chain_id_and_addresses__never_resumes_the_other_chain(
    devnet, artifacts, tmp_path, monkeypatch
):
    keepers = tmp_path / "keepers"
    monkeypatch.setenv("BACKSTOP_KEEPERS_DIR", str(keepers))
    a = BotProcess(devnet, "notifier", None, "on-a")
    _default_checkpoint(a)
    started = [a.start()]
    wait_for(lambda: a.events("started"), 120, "the notifier on node A", a.describe)
    wait_for(lambda: list(keepers.rglob("notifier-read-only.json")), 20, "its checkpoint")
    assert a.stop() == 0
    (checkpoint_a,) = keepers.rglob("notifier-read-only.json")

    # node B: another chain of chain id 31337 (a fresh node), Backstop deployed on it by the
    # same accounts into the same records folder, as `make devnet` after a switch does
    other = DevnetNode(free_port(), tmp_path / "b-state.json", log_file=tmp_path / "b.log")
    try:
        other.start()
        record_b, deployed = ensure_deployment(
            other.url,
            artifacts[0],
            artifacts[1],
            load_config(),
            DEFAULT_CONFIG,
            dev_signer(0),
            dev_signer(1),
            devnet.record_file.parent,
        )
        assert deployed
        assert record_b.core == devnet.record.core  # the same addresses on both chains
        assert record_b.genesis_hash != devnet.record.genesis_hash
        # B's record sits beside A's (named by its genesis), and is refused against node A
        # (and A's against B), by its genesis
        record_file_b = node_record_path(Node(other.url), devnet.record_file.parent)
        assert record_file_b != devnet.record_file and devnet.record_file.exists()
        for record_file, node in ((record_file_b, devnet.node), (devnet.record_file, other)):
            try:
                verify(load_record(record_file), Node(node.url))
                raise AssertionError(f"{record_file} verified against the other node")
            except RecordError as exc:
                assert "genesis" in str(exc)

        b = BotProcess(devnet, "notifier", None, "on-b", rpc=other.url, deployment=record_file_b)
        _default_checkpoint(b)
        started.append(b.start())
        wait_for(lambda: b.events("started"), 120, "the notifier on node B", b.describe)
        assert b.events("fresh_start") and not b.events("resumed"), b.describe()
        wait_for(lambda: len(list(keepers.rglob("notifier-read-only.json"))) == 2, 20, "B's")
        assert checkpoint_a.exists()
        assert b.stop() == 0

        # A's checkpoint named explicitly on node B: refused, one line, exit 2
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "offchain.live.cli",
                "--role",
                "notifier",
                "--rpc",
                other.url,
                "--deployment",
                str(record_file_b),
                "--checkpoint",
                str(checkpoint_a),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert run.returncode == 2, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert "another chain or deployment" in run.stderr
    finally:
        for bot in started:
            bot.kill()
        other.kill()
