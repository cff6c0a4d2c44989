"""A private Anvil node for one simulation run.

The simulator starts its own node rather than using Ape's: a replay needs a fresh chain whose
genesis time lies before the scenario's first bar (historical crashes are in the past), every
actor impersonated (no keys to manage), and no step tracing (which ape-foundry turns on and which
halves throughput). The node ends with the `with` block.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Self

from offchain.backends.probe import NoAnswer, wait_for_answer

ROOT = Path(__file__).resolve().parents[2]
# Anvil's default mnemonic (its dev accounts; ape-config.yaml's test accounts are the same)
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
KEPT_STATES = 64  # historical states the node keeps (revert reasons trace the latest block)


class AnvilError(RuntimeError):
    """Anvil could not be started."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def anvil_binary() -> str:
    local = ROOT / "node_modules" / ".bin" / "anvil"
    found = str(local) if local.exists() else shutil.which("anvil")
    if found is None:
        raise AnvilError(
            "anvil not found: run `make setup` (it installs @foundry-rs/anvil into node_modules)"
        )
    return found


def exit_reason(stderr: str) -> str:
    """Anvil's reason for exiting, on one line: its `Error: ...` line and, where it gives them,
    the causes listed under `Context:` ("Error: failed to create genesis" alone named no
    cause: the forked node's answer, e.g. a block it no longer holds, is the cause)."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    at = next((k for k, line in enumerate(lines) if line.lower().startswith("error")), None)
    if at is None:
        return lines[-1] if lines else ""
    causes = [line.removeprefix("- ") for line in lines[at + 1 :] if line.startswith("- ")]
    causes = [c.split(": ", 1)[1] if c.startswith("Error #") else c for c in causes]
    return lines[at] + (f" ({'; '.join(causes)})" if causes else "")


class Anvil:
    """`with Anvil(genesis_time) as node:` -> node.url, a node whose genesis block has that time."""

    def __init__(self, genesis_time: int):
        self.genesis_time = genesis_time
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    name = "anvil"
    startup_s = 30

    def command(self) -> list[str]:
        """The node's command line."""
        return [
            anvil_binary(),
            "--port",
            str(self.port),
            "--silent",
            "--hardfork",
            "prague",
            "--timestamp",
            str(self.genesis_time),
            "--auto-impersonate",
            # Keep the last states in memory only. By default Anvil writes every state older than
            # 500 blocks to ~/.foundry/anvil/tmp as JSON and leaves it there on exit: ~4 GB per
            # 1,000-vault replay, and the writing made each transaction ~5x slower.
            "--prune-history",
            str(KEPT_STATES),
            # ChainBackend.transact_block: a block holds every transaction sent, in the order sent
            "--order",
            "fifo",
            "--disable-block-gas-limit",
        ]

    def __enter__(self) -> Self:
        self.process = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        process = self.process

        def exited() -> None:
            if process.poll() is not None:
                stderr = process.stderr.read() if process.stderr is not None else b""
                error = exit_reason((stderr or b"").decode())
                raise AnvilError(f"{self.name} exited: {error or process.returncode}")

        try:
            # a refused connection and a slow answer alike, until the deadline (probe.py): a
            # loaded machine's Hardhat answered its first probes late, a ReadTimeout traceback
            wait_for_answer(self.url, self.startup_s, self.name, exited)
        except NoAnswer as exc:
            self.__exit__(None, None, None)
            raise AnvilError(str(exc)) from None
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            if self.process.stderr:
                self.process.stderr.close()
            self.process = None


class ForkAnvil(Anvil):
    """`with ForkAnvil(url, block) as node:` -> a private Anvil forking the node at `url` at
    `block` (Anvil's fork: its state there, fetched from that node as it is read; the fork's own
    blocks are never sent back), every account impersonated. A governance rehearsal
    (offchain/live/rehearsal.py) runs a proposal on it, the devnet untouched, when the devnet
    keeps every block's state (Hardhat Network): the fork reads the state at `block` for as
    long as it runs, so a node that prunes its history (the Anvil devnet keeps 64 blocks) must
    be copied instead (CopyAnvil)."""

    name = "anvil fork"

    def __init__(self, fork_url: str, block: int):
        super().__init__(0)
        self.fork_url, self.block = fork_url, block

    def command(self) -> list[str]:
        # the private node's own flags but its genesis time and pruning (the fork's blocks
        # start from the forked node's), and a block gas limit as that node's
        own = super().command()
        cut = own.index("--timestamp")
        return own[:cut] + [
            "--fork-url",
            self.fork_url,
            "--fork-block-number",
            str(self.block),
            "--auto-impersonate",
            "--order",
            "fifo",
        ]


def keep_ape_anvil_history_in_memory(states: int = 1_000) -> None:
    """Start ape-foundry's Anvil (tests, `ape run bench`, `ape run deploy`) with
    `--prune-history`: ape-foundry builds the command line itself and has no setting for it, and
    without it every test run left up to gigabytes of state files in ~/.foundry/anvil/tmp (see
    `Anvil`). Snapshots and reverts, which Ape's test isolation uses, keep their own copy of the
    state and are unaffected."""
    from ape_foundry.provider import FoundryProvider

    original = FoundryProvider.build_command
    if getattr(original, "prunes_history", False):
        return

    def build_command(self: FoundryProvider) -> list[str]:
        return [*original(self), "--prune-history", str(states)]

    build_command.prunes_history = True  # type: ignore[attr-defined]
    FoundryProvider.build_command = build_command  # type: ignore[method-assign]


class CopyAnvil(Anvil):
    """`with CopyAnvil(state_file, chain_id, gas_limit) as node:` -> a private Anvil started from
    a state another Anvil dumped (`anvil_dumpState`, written to `state_file`): its blocks,
    receipts and head state, so the copy answers for the whole chain on its own, whatever the
    node it was copied from does next (a fork would read that node's state at the fork block
    for as long as it runs, and a devnet that prunes its history drops it 64 blocks later).
    `chain_id` and `gas_limit` are that node's; every account impersonated. A governance
    rehearsal (offchain/live/rehearsal.py) runs a proposal on it, the devnet untouched."""

    name = "anvil copy"

    def __init__(self, state_file: Path, chain_id: int, gas_limit: int):
        super().__init__(0)
        self.state_file, self.chain_id, self.gas_limit = state_file, chain_id, gas_limit

    def command(self) -> list[str]:
        # the private node's own flags but its genesis time (the copy's chain is the dump's)
        # and its block gas limit (the copied node's)
        own = super().command()
        cut = own.index("--timestamp")
        kept = [x for x in own[cut + 2 :] if x != "--disable-block-gas-limit"]
        state = ["--load-state", str(self.state_file), "--chain-id", str(self.chain_id)]
        return [*own[:cut], *kept, *state, "--gas-limit", str(self.gas_limit)]
