"""The devnet flow on Hardhat Network (issue 34: "works on both nodes"): `ape run devnet --node
hardhat`, the three bots, a short market, reconcile, a stop, a start (the journal replayed into a
fresh node), reconcile again: 0 differences and the same outcome both times. And the journal on
its own: a file that is not one, a journal that replays to another state, a line cut short by a
kill, an idle devnet writing nothing, a reverted head (offchain/live/hardhat_devnet.py,
journal.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from live_support import ROOT, BotProcess, bots_started, free_port, wait_for

from offchain.live.devnet import move_clock
from offchain.live.hardhat_devnet import HardhatDevnetNode
from offchain.live.journal import JournalError, read_journal
from offchain.live.node import Node
from offchain.live.record import node_record_path

APE = str(ROOT / ".venv" / "bin" / "ape")


class DevnetProcess:
    """`ape run devnet --node hardhat` as a terminal's foreground job: started, waited for its
    banner, stopped with Ctrl-C (SIGINT to its process group)."""

    def __init__(self, tmp: Path, port: int, name: str):
        self.log = tmp / f"{name}.txt"
        self.args = [APE, "run", "devnet", "--node", "hardhat", "--port", str(port)]
        self.args += ["--state", str(tmp / "journal.jsonl"), "--records", str(tmp / "deployments")]
        self.job: subprocess.Popen | None = None

    def start(self) -> str:
        with open(self.log, "w") as out:
            self.job = subprocess.Popen(
                self.args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        deadline = time.monotonic() + 300
        while "Ctrl-C stops the node" not in self.log.read_text():
            assert self.job.poll() is None and time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.2)
        return self.log.read_text()

    def stop(self) -> tuple[int, str]:
        assert self.job is not None
        os.killpg(self.job.pid, signal.SIGINT)
        status = self.job.wait(timeout=60)
        self.job = None
        return status, self.log.read_text()

    def kill(self) -> None:
        if self.job is not None and self.job.poll() is None:
            os.killpg(self.job.pid, signal.SIGKILL)
            self.job.wait()


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [APE, "run", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _rpc(url: str, method: str, params: list) -> object:
    return requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=30
    ).json()["result"]


def _head(url: str) -> int:
    return int(str(_rpc(url, "eth_blockNumber", [])), 16)


def _quiet(url: str, seconds: float = 4) -> int:
    """Wait until no block has been mined for `seconds` (the bots are done); the head."""
    head, since = _head(url), time.monotonic()
    deadline = time.monotonic() + 180
    while time.monotonic() - since < seconds:
        assert time.monotonic() < deadline, "the chain kept moving"
        time.sleep(0.5)
        now = _head(url)
        if now != head:
            head, since = now, time.monotonic()
    return head


def test_hardhat_devnet__bots_market_reconcile_restart_reconcile__same_outcome(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    devnet = DevnetProcess(tmp_path, port, "devnet-1")
    bots: list[BotProcess] = []
    again = DevnetProcess(tmp_path, port, "devnet-2")
    try:
        banner = devnet.start()
        assert "Hardhat Network; journal in" in banner and "deployed Backstop" in banner, banner
        record = node_record_path(Node(url), tmp_path / "deployments")
        place = SimpleNamespace(tmp=tmp_path, node=SimpleNamespace(url=url), record_file=record)
        for role, account in (("liquidator", "dev:2"), ("taker", "dev:3"), ("backstop", "dev:4")):
            bots.append(BotProcess(place, role, account, role).start())  # type: ignore[arg-type]
        bots_started(*bots)
        market = _run(
            "market", "--scenario", "black-thursday-2020", "--vaults", "40", "--speed", "20000",
            "--rpc", url, "--deployment", str(record),
        )  # fmt: skip
        assert market.returncode == 0, market.stdout[-2000:] + market.stderr[-2000:]
        assert "outcome of this run" in market.stdout
        head = _quiet(url)
        for bot in bots:
            assert bot.running(), bot.describe()
            bot.stop()
        assert sum(len(b.events("mined")) for b in bots) > 0
        first = _run("reconcile", "--rpc", url, "--deployment", str(record))
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
        assert first.stdout.splitlines()[-1] == "0 differences", first.stdout
        assert f"replayed blocks 1-{head}:" in first.stdout
        lines = first.stdout.splitlines()
        at = next(k for k, ln in enumerate(lines) if ln.startswith("  ETH-A: INSOLVENCY"))
        window = next(ln for ln in lines[at:] if "in the window:" in ln)
        assert not window.strip().startswith("in the window: 0 liquidations"), first.stdout

        status, out = devnet.stop()
        assert status == 0 and "devnet: stopped; state kept in" in out, out
        journal = read_journal(tmp_path / "journal.jsonl")
        assert journal.head == head and not journal.torn

        banner = again.start()
        assert f"journal replayed ({head} blocks" in banner, banner
        assert "found Backstop deployed at block 1, code verified" in banner, banner
        assert _head(url) == head
        second = _run("reconcile", "--rpc", url, "--deployment", str(record))
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-2000:]
        assert second.stdout == first.stdout  # the same counts, 0 differences, the same outcome

        # governance on Hardhat: a proposal queued, rehearsed on Anvil's fork of this node (whose
        # blocks before the fork come from Hardhat, without eth_getBlockReceipts)
        where = ("--rpc", url, "--deployment", str(record))
        proposal = str(ROOT / "config" / "proposals" / "raise-penalty.toml")
        queued = _run("govern", "propose", proposal, *where)
        assert queued.returncode == 0 and "proposal 1 queued" in queued.stdout, queued.stderr
        report = tmp_path / "rehearsal"
        out = _run("govern", "rehearse", "1", "--days", "none", "--out", str(report), *where)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        assert "proposal 1 rehearsed: passed" in out.stdout
        text = (report / "report.md").read_text()
        assert "0 differences." in text and "all hold." in text
        # the devnet's clock moved to the eta (a block the journal keeps), and the proposal run
        warped = _run("govern", "warp", "1", *where)
        assert warped.returncode == 0, warped.stdout + warped.stderr
        assert "the devnet's clock moved 6 h" in warped.stdout
        eta = _rpc(url, "eth_getBlockByNumber", ["latest", False])["timestamp"]  # type: ignore[index]
        executed = _run("govern", "execute", "1", *where)
        assert executed.returncode == 0, executed.stdout + executed.stderr
        assert "proposal 1 executed (2 calls)" in executed.stdout

        # the replayed blocks have their hashes: a bot resumes from its checkpoint without
        # reading the chain again
        bot = BotProcess(place, "liquidator", "dev:2", "liquidator").start()  # type: ignore[arg-type]
        bots.append(bot)
        seen = len(bot.lines())
        wait_for(lambda: bot.events("started")[1:], 120, "the bot's restart", bot.describe)
        assert not [x for x in bot.lines()[seen:] if x.get("event") == "chain_changed"]
        bot.stop()
        status, out = again.stop()
        assert status == 0, out
        journaled = read_journal(tmp_path / "journal.jsonl").blocks
        assert int(eta, 16) in [b["timestamp"] for b in journaled]  # the clock's move kept
    finally:
        for bot in bots:
            bot.kill()
        devnet.kill()
        again.kill()


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"\xff\xfe\x00binary", "not JSON lines"),
        (b'{"accounts": {}}\n', "an Anvil state file: start it with --node anvil"),
        (b'{"format": "backstop-devnet-journal", "version": 1, "genesis_timestamp": 1}\n'
         b'{"number": 2, "timestamp": 5, "hash": "0x", "state_root": "0x", "transactions": []}\n',
         "line 2 is block 2, expected 1"),
    ],
)  # fmt: skip
def test_devnet_hardhat__journal_that_is_not_one__one_line_left_as_it_is(tmp_path, content, reason):
    journal = tmp_path / "journal.jsonl"
    journal.write_bytes(content)
    out = _run("devnet", "--node", "hardhat", "--port", str(free_port()), "--state", str(journal),
               "--records", str(tmp_path / "deployments"), timeout=300)  # fmt: skip
    assert out.returncode == 2, out.stdout + out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("devnet:")]
    assert errors == [
        f"devnet: --state {journal} is not a devnet journal ({reason}): move it away to start a "
        "fresh devnet"
    ], out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert journal.read_bytes() == content
    assert not (tmp_path / "deployments").exists()


def _send(url: str, wei: int) -> None:
    dev0 = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    stranger = "0x1111111111111111111111111111111111111111"
    _rpc(url, "hardhat_setBalance", [stranger, hex(10**20)])  # ether set outside a transaction
    _rpc(url, "hardhat_impersonateAccount", [stranger])
    for sender in (dev0, stranger):  # a signed transaction and an impersonated one
        _rpc(
            url,
            "eth_sendTransaction",
            [{"from": sender, "to": "0x" + "22" * 20, "value": hex(wei)}],
        )


def test_journal__replays_balances_signed_and_impersonated__same_hashes(tmp_path):
    node = HardhatDevnetNode(free_port(), tmp_path / "journal.jsonl")
    with node:
        _send(node.url, 5)
        _rpc(node.url, "evm_mine", [])  # an empty block
        head = _rpc(node.url, "eth_getBlockByNumber", ["latest", False])
    assert isinstance(head, dict)
    journal = read_journal(tmp_path / "journal.jsonl")
    assert journal.head == 3 and [
        "raw" in tx for b in journal.blocks for tx in b["transactions"]
    ] == [True, False]
    with node:
        assert _rpc(node.url, "eth_getBlockByNumber", ["latest", False]) == head
        assert node.replayed_blocks == 3 and node.replayed_transactions == 2
        assert node.same_hashes and not node.sync()  # nothing new to write


def test_journal__a_clock_move__replayed_at_its_time(tmp_path):
    """`ape run govern warp`'s move (offchain/live/devnet.py, `move_clock`): a block at the new
    time, journaled as any block; after a restart the head is that block and the clock runs on
    from it."""
    node = HardhatDevnetNode(free_port(), tmp_path / "journal.jsonl")
    with node:
        head = _rpc(node.url, "eth_getBlockByNumber", ["latest", False])
        now = int(head["timestamp"], 16)  # type: ignore[index]
        moved = move_clock(lambda m, p: _rpc(node.url, m, p), now + 6 * 3600)
        assert int(moved["timestamp"], 16) == now + 6 * 3600
    assert read_journal(tmp_path / "journal.jsonl").blocks[-1]["timestamp"] == now + 6 * 3600
    with node:
        assert _rpc(node.url, "eth_getBlockByNumber", ["latest", False]) == moved
        _rpc(node.url, "evm_mine", [])
        after = _rpc(node.url, "eth_getBlockByNumber", ["latest", False])
        assert int(after["timestamp"], 16) > now + 6 * 3600  # type: ignore[index]


def test_journal__replays_to_another_state__refused_left_as_it_is(tmp_path):
    node = HardhatDevnetNode(free_port(), tmp_path / "journal.jsonl")
    with node:
        _send(node.url, 5)
    path = tmp_path / "journal.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    block = json.loads(lines[-1])
    block["balances"] = {k: hex(int(v, 16) - 1) for k, v in block["balances"].items()}
    tampered = b"".join(lines[:-1]) + json.dumps(block).encode() + b"\n"
    path.write_bytes(tampered)
    with pytest.raises(JournalError) as refused:
        node.start()
    message = str(refused.value)
    assert message.startswith(
        f"the journal {path} does not replay (block 2: replayed to state root"
    )
    assert "\n" not in message and node.process is None
    assert path.read_bytes() == tampered


def test_journal__a_line_cut_short_by_a_kill__dropped__idle_writes_nothing(tmp_path):
    path = tmp_path / "journal.jsonl"
    node = HardhatDevnetNode(free_port(), path, poll=0.2)
    node.start()
    _send(node.url, 7)
    wait_for(lambda: read_journal(path).head == 2, 10, "the watcher's append")
    node.kill()
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"number": 3, "timest')  # a kill during an append
    assert read_journal(path).torn
    with node:
        assert _head(node.url) == 2
        assert path.read_bytes() == whole  # rewritten without the torn line
        writes, written = node.writes, path.stat().st_mtime_ns
        time.sleep(2)  # ten rounds of the watcher, the chain idle
        assert node.writes == writes and path.stat().st_mtime_ns == written


def test_journal__a_head_reverted_and_mined_again__rewritten_from_the_common_block(tmp_path):
    """`evm_revert` (a snapshot taken back) then other blocks: the journal drops the blocks that
    are gone and holds the new ones; the next start replays those."""
    path = tmp_path / "journal.jsonl"
    node = HardhatDevnetNode(free_port(), path, poll=0.2)
    with node:
        _send(node.url, 5)  # blocks 1, 2
        snapshot = _rpc(node.url, "evm_snapshot", [])
        _rpc(node.url, "evm_mine", [])
        _rpc(node.url, "evm_mine", [])  # blocks 3, 4
        wait_for(lambda: read_journal(path).head == 4, 10, "the watcher's append")
        _rpc(node.url, "evm_revert", [snapshot])
        _rpc(node.url, "eth_sendTransaction", [
            {"from": "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", "to": "0x" + "33" * 20,
             "value": "0x9"}])  # fmt: skip
        head = _rpc(node.url, "eth_getBlockByNumber", ["latest", False])
        assert isinstance(head, dict) and int(head["number"], 16) == 3
        wait_for(lambda: read_journal(path).blocks[-1]["hash"] == head["hash"], 10, "a rewrite")
    assert read_journal(path).head == 3
    with node:
        assert _rpc(node.url, "eth_getBlockByNumber", ["latest", False]) == head
