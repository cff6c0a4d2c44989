"""A node that is slow to answer (issue 65): `ape run simulate --node hardhat` failed on a loaded
machine with `requests.exceptions.ReadTimeout ... (read timeout=1)`, three times in a row: the
start-up probe asked again after a refused connection only. Every probe
(offchain/backends/probe.py: Anvil's, Hardhat's, the devnets', deploy's and the bots' checks of a
running node) now waits out a slow answer as it does a refused connection, with more patience
each time, until its deadline; then one line.

The node here is a stand-in: a small HTTP server in a process of its own that answers
`eth_chainId` after `delay` seconds while it is "busy" (its first `busy` seconds), at once
after. Its per-request delay is above the probe's first read timeout."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.backends import anvil
from offchain.backends.anvil import Anvil, AnvilError
from offchain.backends.hardhat import Hardhat
from offchain.backends.probe import NoAnswer, wait_for_answer
from offchain.live.node import unanswered

STAND_IN = textwrap.dedent(
    """
    import json, sys, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    port, busy, delay, log = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    started = time.monotonic()

    class Node(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            slow = time.monotonic() - started < busy
            with open(log, "a") as f:
                f.write("slow\\n" if slow else "fast\\n")
            if slow:
                time.sleep(delay)
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": "0x7a69"}).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the probe gave up on this request

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Node).serve_forever()
    """
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stand_in(tmp_path: Path, port: int, busy: float, delay: float) -> list[str]:
    script = tmp_path / "slow_node.py"
    script.write_text(STAND_IN)
    return [sys.executable, str(script), str(port), str(busy), str(delay), str(tmp_path / "log")]


def _requests(tmp_path: Path) -> list[str]:
    log = tmp_path / "log"
    return log.read_text().split() if log.exists() else []


class SlowNode(Anvil):
    """Anvil's start-up (its process and probe), with the stand-in as the node."""

    name = "slow-node"
    startup_s = 30

    def __init__(self, command: list[str], port: int):
        super().__init__(0)
        self.port, self._command = port, command
        self.url = f"http://127.0.0.1:{port}"

    def command(self) -> list[str]:
        return self._command


def test_probe__answers_slower_than_its_first_timeout_for_a_while__waits_them_out(tmp_path):
    """Busy for 4 s, each answer 2.5 s late then (the first read timeout is 1 s): the probe
    times out, asks again with more patience, and is answered."""
    port = _port()
    process = subprocess.Popen(_stand_in(tmp_path, port, busy=4, delay=2.5))
    try:
        took = wait_for_answer(f"http://127.0.0.1:{port}", 30, "the stand-in")
    finally:
        process.kill()
        process.wait()
    assert "slow" in _requests(tmp_path) and took < 30


def test_anvil_start__a_node_slow_to_answer__started(tmp_path):
    """The node's start (Anvil's and Hardhat's `__enter__`) with the stand-in as its process."""
    port = _port()
    with SlowNode(_stand_in(tmp_path, port, busy=4, delay=2.5), port) as node:
        assert node.process is not None and node.process.poll() is None
    assert _requests(tmp_path)[0] == "slow"


def test_probe__never_answers_in_time__one_line_naming_the_waits(tmp_path):
    port = _port()
    process = subprocess.Popen(_stand_in(tmp_path, port, busy=10**6, delay=10**6))
    try:
        with pytest.raises(NoAnswer) as refused:
            wait_for_answer(f"http://127.0.0.1:{port}", 4, "the stand-in")
    finally:
        process.kill()
        process.wait()
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(
        f"the stand-in did not answer at http://127.0.0.1:{port} within 4 s ("
    )
    assert "too slow (the last waited" in message


def test_probe__nothing_listens__refused_and_its_deadline(tmp_path):
    port = _port()
    start = time.monotonic()
    with pytest.raises(NoAnswer, match="within 1 s .*refused"):
        wait_for_answer(f"http://127.0.0.1:{port}", 1)
    with pytest.raises(NoAnswer, match=r"nothing answers at .* \(connection refused\)"):
        wait_for_answer(f"http://127.0.0.1:{port}", 30, refused_s=0)
    assert time.monotonic() - start < 10  # a running node's check asks a refused port once


def test_simulate_node_hardhat__never_answers_in_time__one_line_exit_2(tmp_path, monkeypatch):
    """`ape run simulate --node hardhat` whose node accepts but never answers within its
    start-up time: one line, exit status 2, no traceback, nothing written."""
    port = _port()
    command = _stand_in(tmp_path, port, busy=10**6, delay=10**6)
    monkeypatch.setattr(Hardhat, "command", lambda self: command)
    monkeypatch.setattr(Hardhat, "startup_s", 4)
    monkeypatch.setattr(anvil, "_free_port", lambda: port)
    out = tmp_path / "report"
    result = CliRunner().invoke(
        script_cli("simulate"), ["--node", "hardhat", "--vaults", "5", "--quiet", "--out", str(out)]
    )
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(lines) == 1 and "Traceback" not in result.output, lines
    assert lines[0].startswith(f"simulate: hardhat did not answer at http://127.0.0.1:{port}")
    assert "too slow" in lines[0] and not out.exists()


def test_anvil_start__never_answers__anvil_error_and_the_process_stopped(tmp_path):
    port = _port()
    node = SlowNode(_stand_in(tmp_path, port, busy=10**6, delay=10**6), port)
    node.startup_s = 3
    with pytest.raises(AnvilError, match="slow-node did not answer"):
        node.__enter__()
    assert node.process is None  # stopped, not left running


def test_unanswered__a_running_node_slow_to_answer__none_then_one_line(tmp_path):
    """The bots' and the market's check of a running node: slow for a while is an answer; slow
    for longer than its patience is one line, not "no JSON-RPC node answers"."""
    port = _port()
    process = subprocess.Popen(_stand_in(tmp_path, port, busy=4, delay=3))
    url = f"http://127.0.0.1:{port}"
    try:
        time.sleep(0.5)  # (listening)
        assert unanswered(url, timeout=1) is None
    finally:
        process.kill()
        process.wait()
    process = subprocess.Popen(_stand_in(tmp_path, port, busy=10**6, delay=10**6))
    try:
        time.sleep(0.5)
        problem = unanswered(url, timeout=1, patience=3)
    finally:
        process.kill()
        process.wait()
    assert problem == (
        f"the node at {url} accepts connections but did not answer within 4 s (busy, or not a "
        "JSON-RPC node?)"
    )
