"""A persistent devnet: an Anvil process whose state survives a restart.

`DevnetNode` starts Anvil on a fixed port with a state file: the chain is loaded from the file
at start and written when it changes and on a clean stop, so a node that is stopped, or killed,
and started again comes back with the chain it had (up to the last write, after a kill). It runs
the Anvil binary itself, not npm's wrapper script, so that stopping or killing the process stops
the node.

Writes happen on change only: a watcher thread asks the node for its head once a second, and
when the head moved (a block, or a snapshot revert) it takes the state (`anvil_dumpState`) and
writes it to `FILE` by an atomic rename, at most once every `state_interval` seconds while the
chain keeps changing. An idle devnet writes nothing. (Anvil's own `--state-interval` rewrote the
whole state, 48 MB after a market session, every second, idle or not.) A state changed without a
block (`anvil_setBalance`) is written with the next block, or at the stop.

A stop writes the state once more if it changed, then stops Anvil. Anvil itself writes no state
file (with `--dump-state` it would dump every 60 s, idle or not, in place, so that a kill during
a write left a torn file it then refused to start from). A complete `FILE.dump` (an older
devnet's) is still promoted to `FILE`, a torn one ignored: `FILE` always holds the last complete
write.

The chain keeps its genesis block, and with it the name of its deployment record: Anvil, loading
a state, keeps a genesis of its own (stamped at that start) beside the file's, and dumps both;
each write keeps the chain's own only, and a start drops those an older devnet wrote and refuses
a node that comes up with another block 0 (offchain/live/anvil_state.py; issue 74).

What tells a devnet (`devnet_refusal`: Anvil or Hardhat Network, chain id 31337), and the one
move of its clock a command makes (`move_clock`: `ape run govern warp`), are here too: both
nodes' devnets keep such a move across a restart.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import requests

from offchain.backends.anvil import ROOT, AnvilError, anvil_binary
from offchain.backends.probe import NoAnswer, wait_for_answer
from offchain.live.anvil_state import (
    StateFileError,
    block_zeros,
    genesis_of,
    header_hash,
    keep_genesis,
    same_block,
)

DEV_CHAIN_ID = 31337
# the blocks whose state the devnet's Anvil keeps in memory (`--prune-history`): the deepest
# reorganization it can make, and how far back a historical read reaches
KEPT_STATES = 64
# the nodes a devnet runs (their `web3_clientVersion` begins so): Anvil, Hardhat Network
DEVNET_CLIENTS = ("anvil", "HardhatNetwork")


def devnet_refusal(client: str, chain_id: int) -> str | None:
    """Why the node whose `web3_clientVersion` is `client` and whose chain id is `chain_id` is no
    devnet of this project, the end of a sentence naming the node ("runs 'Geth', no devnet ..."),
    or None: a devnet is Anvil or Hardhat Network (a node a public network does not run) with the
    chain id `ape run devnet` gives both (DEV_CHAIN_ID). What only a devnet may have done to it
    (a fork of it rehearsed, its clock moved) is refused elsewhere with this line."""
    if not client.startswith(DEVNET_CLIENTS):
        return f"runs {client.split('/')[0]!r}, no devnet (Anvil or Hardhat Network)"
    if chain_id != DEV_CHAIN_ID:
        return f"is chain id {chain_id}, no devnet (a devnet's is {DEV_CHAIN_ID})"
    return None


def move_clock(rpc: Callable[[str, list[Any]], Any], timestamp: int) -> dict[str, Any]:
    """Mine one block at `timestamp` (after the head's) on a devnet (`rpc(method,
    params)`: its JSON-RPC), the next blocks following from there: the block. A mined block, not
    a time offset alone (`evm_increaseTime`), so that the move is in the chain itself: Anvil's
    state file keeps it as it keeps any block, and a Hardhat devnet's journal
    (hardhat_devnet.py) mines the block again at its time when it is replayed."""
    rpc("evm_setNextBlockTimestamp", [timestamp])
    rpc("evm_mine", [])
    return rpc("eth_getBlockByNumber", ["latest", False])


def node_binary() -> str:
    """The Anvil executable (the platform package's binary behind node_modules/.bin/anvil)."""
    for platform_dir in sorted((ROOT / "node_modules" / "@foundry-rs").glob("anvil-*")):
        binary = platform_dir / "bin" / "anvil"
        if binary.exists():
            return str(binary)
    return anvil_binary()


class DevnetProcess(ABC):
    """What the two devnets' nodes share (`DevnetNode` here, `HardhatDevnetNode` in
    offchain/live/hardhat_devnet.py): a node process on a fixed port, in a process group of its
    own, its output appended to `log_file`; its state file kept by a watcher thread (`_watch`)
    that writes when the chain changed; `with node:` is `start()` ... `stop()`. What the state
    file holds, and how a start, a stop and a kill go, is each node's own."""

    name = "node"
    watcher_name = "devnet-watcher"

    def __init__(
        self,
        port: int,
        state_file: Path | None = None,
        block_time: float | None = None,
        log_file: Path | None = None,
    ):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.state_file = state_file
        self.block_time = block_time
        self.log_file = log_file
        self.process: subprocess.Popen | None = None
        self._watcher: threading.Thread | None = None
        self._watching = threading.Event()
        self.writes = 0  # state writes while running

    @abstractmethod
    def start(self) -> None:
        """Start the node (loading its state)."""

    @abstractmethod
    def stop(self) -> None:
        """Write the state, then stop the node."""

    @abstractmethod
    def kill(self) -> None:
        """Stop the node at once, writing nothing."""

    @abstractmethod
    def written(self) -> bool:
        """The state file holds the chain's head now."""

    @abstractmethod
    def _watch(self) -> None:
        """The watcher thread: write the state when the chain changed."""

    def _spawn(self, command: list[str], cwd: Path | None = None) -> subprocess.Popen:
        """The node's process, in a session of its own, its output appended to `log_file`."""
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=cwd
        )
        if self.log_file:
            out.close()  # type: ignore[union-attr]
        return self.process

    def _exited(self, code: int) -> AnvilError:
        """The error of a node that exited before it answered."""
        return AnvilError(
            f"{self.name} exited at start ({code}): is port {self.port} in use?"
            + (f" (see {self.log_file})" if self.log_file else "")
        )

    def _start_watcher(self) -> None:
        if self.state_file is None:
            return
        self._watching.clear()
        self._watcher = threading.Thread(target=self._watch, name=self.watcher_name, daemon=True)
        self._watcher.start()

    def _stop_watcher(self) -> None:
        if self._watcher is not None:
            self._watching.set()
            self._watcher.join()
            self._watcher = None

    def _kill_process(self) -> None:
        """SIGKILL to the node's process group; the node is gone when this returns."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
            self.process = None

    def _terminate(self) -> None:
        """SIGTERM to the node's process group, SIGKILL if it has not exited within 15 s."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._kill_process()
            self.process = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class DevnetNode(DevnetProcess):
    """`with DevnetNode(port, state_file) as node:` -> node.url; `stop()` / `kill()` /
    `start()` in between (the same port and state file)."""

    name = "anvil"
    watcher_name = "devnet-state"

    def __init__(
        self,
        port: int,
        state_file: Path | None = None,
        block_time: float | None = None,
        state_interval: float = 5,
        log_file: Path | None = None,
        extra: tuple[str, ...] = (),
    ):
        super().__init__(port, state_file, block_time, log_file)
        self.state_interval = state_interval
        self.extra = extra
        self._promoted_stamp: tuple[int, int] | None = None
        self._saved_head: str | None = None
        # the loaded state's genesis block (serialized), and the stand-ins dropped at the start
        self.genesis: dict | None = None
        self.stand_ins_dropped = 0

    @property
    def dump_file(self) -> Path | None:
        """Where Anvil writes (the watcher promotes complete writes to `state_file`)."""
        return None if self.state_file is None else Path(f"{self.state_file}.dump")

    def promote_dump(self) -> bool:
        """Move a complete dump into the state file (atomically); a torn one is left alone.
        True when the state file was replaced."""
        dump, state = self.dump_file, self.state_file
        if dump is None or state is None or not dump.exists():
            return False
        stat = dump.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._promoted_stamp:
            return False
        data = dump.read_bytes()
        try:
            json.loads(data)
        except ValueError:
            return False  # torn (Anvil is writing, or was killed while writing)
        tmp = state.with_name(state.name + ".tmp")
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, state)
        self._promoted_stamp = stamp
        return True

    def _head(self) -> str | None:
        block = self._rpc("eth_getBlockByNumber", ["latest", False])
        return block.get("hash") if isinstance(block, dict) else None

    def save(self) -> bool:
        """Write the node's state to the state file now (atomically). True if written."""
        if self.state_file is None:
            return False
        head = self._head()
        genesis = self._rpc("eth_getBlockByNumber", ["0x0", False])
        dumped = self._rpc("anvil_dumpState", [], timeout=120)
        if not isinstance(dumped, str):
            return False
        data = gzip.decompress(bytes.fromhex(dumped.removeprefix("0x")))
        state = json.loads(data)  # complete
        zeros = block_zeros(state)
        own = [b for b in zeros if isinstance(genesis, dict) and same_block(b["header"], genesis)]
        if len(zeros) > 1 and own:
            # Anvil's stand-in genesis of this start (and any it loaded) left out: the file's
            # next load must find the chain's own block 0, and only it
            data, _ = keep_genesis(data, state, own[0])
        self._write(data)
        self._saved_head = head
        self.writes += 1
        return True

    def _write(self, data: bytes) -> None:
        """The state file replaced by `data` atomically (a temporary file renamed over it)."""
        assert self.state_file is not None
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.state_file)

    def written(self) -> bool:
        """The state file holds the chain's head now (the last change has been written)."""
        return self._head() == self._saved_head

    def _watch(self) -> None:
        last_write = 0.0
        while not self._watching.wait(1.0):
            if time.monotonic() - last_write < self.state_interval:
                continue
            try:
                if self._head() != self._saved_head and self.save():
                    last_write = time.monotonic()
            except (OSError, ValueError, requests.RequestException):
                pass  # the next round retries

    def _stop_watcher(self) -> None:
        super()._stop_watcher()
        self.promote_dump()

    def command(self) -> list[str]:
        cmd = [
            node_binary(),
            "--port",
            str(self.port),
            "--chain-id",
            str(DEV_CHAIN_ID),
            "--hardfork",
            "prague",
            "--prune-history",
            str(KEPT_STATES),
        ]
        if self.state_file is not None:
            if self.state_file.exists():
                cmd += ["--load-state", str(self.state_file)]
            # no --dump-state: Anvil would also dump every 60 s, idle or not; `save` writes on
            # change and at the stop
        if self.block_time is not None:
            cmd += ["--block-time", f"{self.block_time:g}"]
        return cmd + list(self.extra)

    def start(self, timeout: float = 30) -> None:
        assert self.process is None, "already running"
        self.promote_dump()  # a complete dump the watcher had not promoted before a stop or kill
        self._read_genesis()
        process = self._spawn(self.command())

        def exited() -> None:
            if process.poll() is not None:
                self.process = None
                raise self._exited(process.returncode)

        try:
            # a slow answer waited out as a refused connection is (offchain/backends/probe.py)
            wait_for_answer(self.url, timeout, f"anvil on port {self.port}", exited)
        except NoAnswer as exc:
            self.kill()
            raise AnvilError(str(exc)) from None
        self._check_genesis()
        self._keep_time_moving_forward()
        self._saved_head = self._head() if self.state_file and self.state_file.exists() else None
        self._start_watcher()

    def _read_genesis(self) -> None:
        """The state file's genesis (`genesis`), before Anvil loads it; the stand-in geneses an
        older devnet wrote beside it dropped from the file (`stand_ins_dropped`). AnvilError,
        the file left as it is: its genesis cannot be told, or it has none (its chain would
        come back from another genesis at every start)."""
        self.genesis, self.stand_ins_dropped = None, 0
        if self.state_file is None or not self.state_file.exists():
            return
        data = self.state_file.read_bytes()
        where = f"the state file {self.state_file}"
        try:
            state = json.loads(data)
            genesis = genesis_of(state) if isinstance(state, dict) else None
        except StateFileError as exc:
            raise AnvilError(
                f"{where}: cannot tell its genesis block ({exc}): left as it is; move it away to "
                "start a fresh devnet"
            ) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise AnvilError(
                f"{where} is not a devnet state file ({type(exc).__name__}: {exc}): left as it "
                "is; move it away to start a fresh devnet"
            ) from None
        if genesis is None:
            raise AnvilError(
                f"{where} holds no block 0 (an Anvil dump without its blocks, or a fork's?): "
                "its chain would come back from another genesis block at every start, which "
                "no deployment record names; left as it is; move it away to start a fresh devnet"
            )
        if len(block_zeros(state)) > 1:
            data, self.stand_ins_dropped = keep_genesis(data, state, genesis)
            self._write(data)
        self.genesis = genesis

    def _check_genesis(self) -> None:
        """The node answers block 0 with the state file's genesis; else it is stopped and
        AnvilError says so (its chain would be another to every record and bot)."""
        if self.genesis is None:
            return
        block = self._rpc("eth_getBlockByNumber", ["0x0", False])
        if isinstance(block, dict) and same_block(self.genesis["header"], block):
            return
        self.kill()
        found = block.get("hash", "?") if isinstance(block, dict) else "nothing"
        try:
            expected = header_hash(self.genesis["header"])
        except ValueError:
            expected = f"the block of time {self.genesis['header'].get('timestamp')}"
        raise AnvilError(
            f"anvil loaded the state file {self.state_file} with another block 0 ({found}) than "
            f"the file's genesis ({expected}): stopped, the file left as it is"
        )

    def _rpc(self, method: str, params: list, timeout: float = 10) -> object:
        reply = requests.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
            timeout=timeout,
        ).json()
        return reply.get("result")

    def _keep_time_moving_forward(self) -> None:
        """A node loaded from its state file would stamp its next block with the wall clock,
        which lies before the loaded chain's last block when time was moved forward (the
        deployment waits out the oracle delay that way): its clock is set past that block."""
        block = self._rpc("eth_getBlockByNumber", ["latest", False])
        if isinstance(block, dict):
            last = int(block["timestamp"], 16)
            if last >= time.time():
                self._rpc("evm_setTime", [last + 1])

    def stop(self) -> None:
        """The state written (if it changed since the last write), then SIGTERM."""
        if self.process is not None and self.state_file is not None:
            try:
                if not self.written():
                    self.save()
            except (OSError, ValueError, requests.RequestException):
                pass  # the node is gone: its file holds the last write
        self._terminate()
        self._stop_watcher()

    def kill(self) -> None:
        """SIGKILL: the node dies at once; its state file holds its last periodic write."""
        self._kill_process()
        self._stop_watcher()
