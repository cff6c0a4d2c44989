"""A persistent devnet: an Anvil process whose state survives a restart.

`DevnetNode` starts Anvil on a fixed port with `--state FILE` (the chain is loaded from the file
at start and written to it every `state_interval` seconds and on a clean stop), so a node that
is stopped, or killed, and started again comes back with the chain it had (up to the last
write, after a kill). It runs the Anvil binary itself, not npm's wrapper script, so that
stopping or killing the process stops the node.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

import requests

from offchain.backends.anvil import ROOT, AnvilError, anvil_binary

DEV_CHAIN_ID = 31337


def node_binary() -> str:
    """The Anvil executable (the platform package's binary behind node_modules/.bin/anvil)."""
    for platform_dir in sorted((ROOT / "node_modules" / "@foundry-rs").glob("anvil-*")):
        binary = platform_dir / "bin" / "anvil"
        if binary.exists():
            return str(binary)
    return anvil_binary()


class DevnetNode:
    """`with DevnetNode(port, state_file) as node:` -> node.url; `stop()` / `kill()` /
    `start()` in between (the same port and state file)."""

    def __init__(
        self,
        port: int,
        state_file: Path | None = None,
        block_time: float | None = None,
        state_interval: int = 1,
        log_file: Path | None = None,
        extra: tuple[str, ...] = (),
    ):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.state_file = state_file
        self.block_time = block_time
        self.state_interval = state_interval
        self.log_file = log_file
        self.extra = extra
        self.process: subprocess.Popen | None = None

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
            "64",
        ]
        if self.state_file is not None:
            cmd += ["--state", str(self.state_file), "--state-interval", str(self.state_interval)]
        if self.block_time is not None:
            cmd += ["--block-time", f"{self.block_time:g}"]
        return cmd + list(self.extra)

    def start(self, timeout: float = 30) -> None:
        assert self.process is None, "already running"
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        if self.log_file:
            out.close()  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise AnvilError(
                    f"anvil exited at start ({code}): is port {self.port} in use?"
                    + (f" (see {self.log_file})" if self.log_file else "")
                )
            try:
                requests.post(
                    self.url,
                    json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                    timeout=1,
                )
            except requests.ConnectionError:
                time.sleep(0.05)
                continue
            self._keep_time_moving_forward()
            return
        self.kill()
        raise AnvilError(f"anvil did not answer on port {self.port} within {timeout:g} s")

    def _rpc(self, method: str, params: list) -> object:
        reply = requests.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
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
        """SIGTERM: Anvil writes its state file and exits."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def kill(self) -> None:
        """SIGKILL: the node dies at once; its state file holds its last periodic write."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
            self.process = None

    def __enter__(self) -> DevnetNode:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
