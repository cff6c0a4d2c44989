"""A persistent devnet on Hardhat Network: the chain kept in a journal and replayed at start.

Hardhat Network 2.29.1 keeps its chain in memory only: it has no `--state` file and no
`anvil_dumpState`/`anvil_loadState` (its `hardhat_setStorageAt` and friends could restore the
head's accounts, but not the blocks and their event logs, which the bots' follower and
`ape run reconcile` read from the deployment on). `HardhatDevnetNode` therefore keeps a
**journal** of the chain and replays it into a fresh node at start:

- the journal (JSON lines, `--state FILE`; its format in offchain/live/journal.py) opens with
  a header (the format, the chain id, the genesis block's time and hash), then one line per
  block: its number, time, hash and state root, its transactions (sender, recipient, data,
  value, gas, fees, nonce, type; a signed transaction's raw bytes too, re-encoded and checked
  against its hash) and the balance each sender had before the block, and from which block it
  had it (so ether set outside transactions, `hardhat_setBalance` by the market driver, is set
  again where it was set);
- it is written on change and at the stop: a watcher asks the node for its head once a second,
  and appends the blocks it has not written (an append, fsynced); an idle devnet writes nothing.
  A head that went back or changed (`evm_revert`) rewrites the journal up to the last common
  block (a temporary file renamed over it). A line cut short by a kill is dropped at the next
  start (the journal is rewritten without it);
- at start the node's genesis gets the journal's time (`initialDate`), so block 0 is the same
  block, and the journal is replayed *inside* the node before its JSON-RPC server listens
  (offchain/live/hardhat_replay.js, hooked into the node task's `node:get-provider` subtask):
  keeper bots that keep polling the port through a restart cannot see, or send into, a
  half-replayed chain (they did, when the replay went over JSON-RPC: a liquidation mined into a
  replayed block broke the next one's nonces). Each block is mined again at its time, automine
  off: each sender's balance set as journaled, the transactions sent in their order (a signed
  one as its raw bytes, so its hash is the same; an impersonated one with its fields, which
  gives the same hash too, since Hardhat's stand-in signature is the sender's address), then
  `evm_mine` with the block's time (also for an empty block: `hardhat_mine` stamps its first
  block one second after the last, whatever the journal says). The replayed head must have the
  journaled state root; otherwise the node exits before it listens and the start is refused
  with one line, the journal left as it is. (The blocks' hashes come out the same too: the bots
  resume without reading the chain again.)

State changed outside transactions other than a sender's ether (`hardhat_setStorageAt`,
`hardhat_setCode`, a balance set on an account that never sends) is not journaled: a replay that
meets it diverges and is refused, by the check above.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import requests

from offchain.backends.anvil import ROOT, AnvilError
from offchain.backends.hardhat import hardhat_binary, hardhat_config
from offchain.backends.probe import NoAnswer, wait_for_answer
from offchain.live.devnet import DEV_CHAIN_ID, DevnetProcess
from offchain.live.journal import (
    JOURNAL_FORMAT,
    JOURNAL_VERSION,
    Journal,
    JournalError,
    journal_line,
    journal_transaction,
    quantity,
    read_journal,
)

BLOCKS_PER_REQUEST = 50  # blocks (and their senders' balances) read per batch
# Anvil's devnet keeps its default block gas limit (30M, a mainnet-sized block): so does this one
DEVNET_BLOCK_GAS_LIMIT = 30_000_000


# ---------------------------------------------------------------- the node


REPLAY_SCRIPT = Path(__file__).with_name("hardhat_replay.js")


def devnet_config(genesis_time: int | None, replay: tuple[Path, Path] | None = None) -> str:
    """The Hardhat config of a devnet: the dev accounts of Anvil's mnemonic (Hardhat's default,
    the same keys), chain id 31337, failed transactions mined with status 0, first in first
    mined; the genesis at `genesis_time` (a journal's) or the wall clock. With `replay`
    (journal, status file): the journal replayed before the server listens."""
    text = hardhat_config(genesis_time, DEVNET_BLOCK_GAS_LIMIT)
    if replay is not None:
        config_module = ROOT / "node_modules" / "hardhat" / "config"
        journal, status = (json.dumps(str(p)) for p in replay)
        text += (
            f'require({json.dumps(str(config_module))}).subtask("node:get-provider")'
            ".setAction(async (args, hre, runSuper) => {\n"
            "  const provider = await runSuper(args);\n"
            f"  await require({json.dumps(str(REPLAY_SCRIPT))})(provider, {journal}, {status});\n"
            "  return provider;\n"
            "});\n"
        )
    return text


class HardhatDevnetNode(DevnetProcess):
    """`DevnetNode`'s counterpart on Hardhat Network (the same `start`/`stop`/`kill`/`written`,
    `url`, `state_file`, `writes`); the state file is the journal."""

    name = "hardhat"
    watcher_name = "devnet-journal"

    def __init__(
        self,
        port: int,
        state_file: Path | None = None,
        block_time: float | None = None,
        log_file: Path | None = None,
        poll: float = 1.0,
    ):
        super().__init__(port, state_file, block_time, log_file)
        self.poll = poll
        self.directory: Path | None = None
        self._session = requests.Session()
        self._lock = threading.Lock()  # the watcher's appends against a stop's
        self._journal: Journal | None = None  # what the file holds
        self._last_sent: dict[str, int] = {}  # sender -> the last journaled block it sent in
        self.replayed_blocks = 0  # at the last start
        self.replayed_transactions = 0
        self.replay_seconds = 0.0
        self.same_hashes = True  # the replayed blocks have the journaled hashes

    # ------------------------------------------------------------ JSON-RPC

    def _rpc(self, method: str, params: list, timeout: float = 30) -> Any:
        reply = self._session.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
            timeout=timeout,
        ).json()
        if "error" in reply:
            raise JournalError(f"{method}: {reply['error'].get('message', reply['error'])}")
        return reply["result"]

    def _batch(self, calls: list[tuple[str, list]]) -> list[Any]:
        if not calls:
            return []
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)
        ]
        replies = sorted(self._session.post(self.url, json=payload, timeout=60).json(),
                         key=lambda r: r["id"])  # fmt: skip
        for reply, (method, _) in zip(replies, calls):
            if "error" in reply:
                raise JournalError(f"{method}: {reply['error'].get('message', reply['error'])}")
        return [r["result"] for r in replies]

    def _head(self) -> dict[str, Any]:
        return self._rpc("eth_getBlockByNumber", ["latest", False])

    # ------------------------------------------------------------ start

    def start(self, timeout: float = 90) -> None:
        """Start the node (the journal replayed in it first), or fail with one line: AnvilError
        (the node did not start), JournalError (the journal does not replay)."""
        assert self.process is None, "already running"
        journal = None
        if self.state_file is not None and self.state_file.exists():
            journal = read_journal(self.state_file)
        self.directory = Path(tempfile.mkdtemp(prefix="backstop-hardhat-devnet-"))
        config = self.directory / "hardhat.config.js"
        status = self.directory / "replay.json"
        replay = (self.state_file, status) if journal is not None and self.state_file else None
        config.write_text(devnet_config(journal.genesis_time if journal else None, replay))
        command = [hardhat_binary(), "--config", str(config), "node"]
        command += ["--hostname", "127.0.0.1", "--port", str(self.port)]
        # cwd: Hardhat refuses to run outside the project that installed it
        process = self._spawn(command, cwd=ROOT)
        # a replay runs before the node listens: give it time in proportion to the journal
        blocks = len(journal.blocks) if journal is not None else 0

        def exited() -> None:
            if process.poll() is not None:
                self.process = None
                failed = self._status(status).get("error")
                self._cleanup()
                if failed:
                    raise JournalError(
                        f"the journal {self.state_file} does not replay ({failed}): left as it "
                        "is; move it away to start a fresh devnet"
                    )
                raise self._exited(process.returncode)

        try:
            # a slow answer waited out as a refused connection is (offchain/backends/probe.py)
            wait_for_answer(self.url, timeout + blocks / 20, f"hardhat on port {self.port}", exited)
        except NoAnswer as exc:
            self.kill()
            raise AnvilError(str(exc)) from None
        try:
            if journal is not None:
                done = self._status(status)
                self.replayed_blocks = done.get("blocks", 0)
                self.replayed_transactions = done.get("transactions", 0)
                self.replay_seconds = done.get("seconds", 0.0)
                self.same_hashes = done.get("same_hashes", True)
                if self.replayed_blocks != len(journal.blocks) or not self.written(journal):
                    raise JournalError(
                        f"the journal {self.state_file} replayed to another head: left as it "
                        "is; move it away to start a fresh devnet"
                    )
                if journal.torn:
                    self._rewrite(journal)  # without the line a kill cut short
                self._journal = journal
                self._senders()
            elif self.state_file is not None:
                genesis = self._rpc("eth_getBlockByNumber", ["0x0", False])
                self._journal = Journal(self._header(genesis))
                self._rewrite(self._journal)
            if self.block_time is not None:
                self._rpc("evm_setAutomine", [False])
                self._rpc("evm_setIntervalMining", [int(self.block_time * 1000)])
        except (JournalError, OSError, requests.RequestException) as exc:
            self.kill()
            raise JournalError(str(exc)) from None
        self._start_watcher()

    @staticmethod
    def _status(path: Path) -> dict[str, Any]:
        """What the replay wrote (hardhat_replay.js): blocks, transactions, seconds, error."""
        try:
            status = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        return status if isinstance(status, dict) else {}

    def _header(self, genesis: dict[str, Any]) -> dict[str, Any]:
        return {
            "format": JOURNAL_FORMAT,
            "version": JOURNAL_VERSION,
            "node": "hardhat",
            "chain_id": DEV_CHAIN_ID,
            "genesis_timestamp": quantity(genesis["timestamp"]),
            "genesis_hash": genesis["hash"],
        }

    # ------------------------------------------------------------ the journal

    def _rewrite(self, journal: Journal) -> None:
        """The whole journal, atomically (a temporary file renamed over it)."""
        assert self.state_file is not None
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        with open(tmp, "wb") as out:
            out.write(journal_line(journal.header))
            for block in journal.blocks:
                out.write(journal_line(block))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.state_file)
        journal.torn = False
        self.writes += 1

    def _append(self, blocks: list[dict[str, Any]]) -> None:
        assert self.state_file is not None
        with open(self.state_file, "ab") as out:
            out.write(b"".join(journal_line(b) for b in blocks))
            out.flush()
            os.fsync(out.fileno())
        self.writes += 1

    def _read_blocks(self, first: int, last: int) -> list[dict[str, Any]]:
        """Blocks `first`..`last` as journal entries."""
        out = []
        for start in range(first, last + 1, BLOCKS_PER_REQUEST):
            numbers = range(start, min(last, start + BLOCKS_PER_REQUEST - 1) + 1)
            blocks = self._batch([("eth_getBlockByNumber", [hex(n), True]) for n in numbers])
            wanted = [
                (n, sender)
                for n, block in zip(numbers, blocks)
                for sender in dict.fromkeys(tx["from"] for tx in block["transactions"])
            ]
            balances = self._batch(
                [("eth_getBalance", [sender, hex(n - 1)]) for n, sender in wanted]
            )
            before: dict[int, dict[str, str]] = {}
            for (n, sender), wei in zip(wanted, balances):
                before.setdefault(n, {})[sender] = wei
            for n, block in zip(numbers, blocks):
                entry = {
                    "number": n,
                    "timestamp": quantity(block["timestamp"]),
                    "hash": block["hash"],
                    "state_root": block["stateRoot"],
                    "transactions": [journal_transaction(tx) for tx in block["transactions"]],
                }
                if n in before:
                    entry["balances"] = before[n]
                    since = {
                        sender: at
                        for sender, wei in before[n].items()
                        if (at := self._balance_since(sender, wei, n)) < n
                    }
                    if since:
                        entry["balances_from"] = since
                    for sender in before[n]:
                        self._last_sent[sender] = n
                out.append(entry)
        return out

    def _balance_since(self, sender: str, wei: str, n: int) -> int:
        """The first block before which `sender` already had the balance `wei` it had before
        block `n`: a balance set outside transactions blocks before the account next sends (the
        market funds its vault owners, then joins their collateral) is set there again, so that
        the blocks in between keep their state roots and hashes. A binary search back to the
        account's last transaction, for the last block whose state has `wei`: a set after block
        M shows in the state at M (Hardhat keeps it there), as does ether received in block M,
        which setting the balance before M + 1 leaves as it is."""
        low = self._last_sent.get(sender, 0)
        if low >= n - 1:
            return n
        high = n - 1  # the state at n - 1 has `wei`
        while low < high:
            middle = (low + high) // 2
            if self._rpc("eth_getBalance", [sender, hex(middle)]) == wei:
                high = middle
            else:
                low = middle + 1
        return high + 1

    def sync(self) -> bool:
        """Write the blocks the journal does not hold yet (a head that went back or changed:
        the journal rewritten up to the last common block). True if written."""
        if self.state_file is None or self._journal is None:
            return False
        with self._lock:
            journal = self._journal
            head = self._head()
            number = quantity(head["number"])
            if journal.blocks and number == journal.head:
                if head["hash"] == journal.blocks[-1]["hash"]:
                    return False
            elif not journal.blocks and number == 0:
                return False
            common = min(number, journal.head)
            while common > 0:
                block = self._rpc("eth_getBlockByNumber", [hex(common), False])
                if block["hash"] == journal.blocks[common - 1]["hash"]:
                    break
                common -= 1
            if common < journal.head:
                del journal.blocks[common:]
                self._senders()
                fresh = self._read_blocks(common + 1, number)
                journal.blocks += fresh
                self._rewrite(journal)
            else:
                fresh = self._read_blocks(common + 1, number)
                journal.blocks += fresh
                self._append(fresh)
            return True

    def _senders(self) -> None:
        """`_last_sent` from the journal's blocks."""
        assert self._journal is not None
        self._last_sent = {
            tx["from"]: block["number"]
            for block in self._journal.blocks
            for tx in block["transactions"]
        }

    def written(self, journal: Journal | None = None) -> bool:
        """The journal holds the chain's head now: its number and state root (and its hash, if
        the replay gave every block its journaled hash)."""
        journal = journal or self._journal
        if journal is None:
            return False
        head = self._head()
        if not journal.blocks:
            return quantity(head["number"]) == 0
        last = journal.blocks[-1]
        return (
            quantity(head["number"]) == last["number"]
            and head["stateRoot"] == last["state_root"]
            and (head["hash"] == last["hash"] or not self.same_hashes)
        )

    def _watch(self) -> None:
        while not self._watching.wait(self.poll):
            try:
                self.sync()
            except (OSError, ValueError, KeyError, requests.RequestException):
                pass  # the next round retries

    # ------------------------------------------------------------ stop

    def stop(self) -> None:
        """The journal brought up to the head, then SIGTERM."""
        self._stop_watcher()
        if self.process is not None and self.state_file is not None:
            try:
                self.sync()
            except (OSError, ValueError, KeyError, requests.RequestException):
                pass  # the node is gone: the journal holds the last write
        self._terminate()
        self._cleanup()

    def kill(self) -> None:
        """SIGKILL: the node dies at once; the journal holds the watcher's last append."""
        self._stop_watcher()
        self._kill_process()
        self._cleanup()

    def _cleanup(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
