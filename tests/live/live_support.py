"""Support for the live keeper tests (fixtures in conftest.py): real processes. Each test gets
its own Anvil (started from a state file in which Backstop was deployed once per session, so a
test starts in a second), the deployment record, and bot processes
(`python -m offchain.live.cli`) that the fixtures stop, or kill, whatever the test's outcome."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from offchain.backends import ChainBackend, project_code
from offchain.live.deploy import ensure_deployment
from offchain.live.devnet import DevnetNode
from offchain.live.market import impersonating, open_vaults, set_price, vault_plans
from offchain.live.record import DeploymentRecord, load_record, record_path
from offchain.live.signers import dev_signer
from offchain.sim.scenario.population import VaultPlan
from offchain.system.config import DEFAULT_CONFIG, load_config
from offchain.system.deployment import Deployment, TypeDeployment

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def artifacts() -> tuple[dict, str]:
    return project_code()


@pytest.fixture(scope="session")
def deployed_state(tmp_path_factory, artifacts) -> tuple[Path, Path]:
    """(a state file with Backstop deployed, its deployment record)."""
    base = tmp_path_factory.mktemp("devnet")
    state = base / "state.json"
    node = DevnetNode(free_port(), state)
    with node:
        record, _ = ensure_deployment(
            node.url,
            artifacts[0],
            artifacts[1],
            load_config(),
            DEFAULT_CONFIG,
            dev_signer(0),
            dev_signer(1),
            base,
        )
    return state, record_path(record.chain_id, record.genesis_hash, base)


@dataclass
class Devnet:
    node: DevnetNode
    record: DeploymentRecord
    record_file: Path
    chain: ChainBackend  # the test's own view (impersonating: the market's moves)
    d: Deployment
    eth: TypeDeployment
    tmp: Path

    def fresh_chain(self) -> ChainBackend:
        """A new connection (after a node restart)."""
        self.chain = ChainBackend(self.node.url, self.chain.artifacts, self.chain.reader_code)
        self.chain.names.update(_names(self.record))
        impersonating(self.chain)
        return self.chain

    def crash(self, count: int, ratio_ppm: int = 1_600_000, drop_ppm: int = 800_000) -> int:
        """Open `count` vaults at a collateral ratio of `ratio_ppm`/1e6 and drop the price to
        `drop_ppm`/1e6 of the configured one: all of them unsafe. The block from which they are."""
        plans = self.plans(count, ratio_ppm)
        open_vaults(self.chain, self.d, self.eth, plans)
        price = self.eth.config.initial_price * drop_ppm // 1_000_000
        return set_price(self.chain, self.d, self.eth, price)

    def plans(self, count: int, ratio_ppm: int = 1_600_000) -> list[VaultPlan]:
        return vault_plans(count, self.eth, ratio_ppm * 10**12)

    def liquidated(self) -> Counter:
        """owner -> times liquidated, from the Liquidator's events on the chain now."""
        return Counter(e.args["owner"] for e in self.logs(self.d.liquidator, "Liquidated"))

    def logs(self, address: str, event: str) -> list:
        """`address`'s `event` logs on the chain now, decoded."""
        logs = self.chain.rpc(
            "eth_getLogs",
            [
                {
                    "fromBlock": "0x0",
                    "toBlock": "latest",
                    "address": address,
                    "topics": [_topic(self.chain, event)],
                }
            ],
        )
        return [self.chain._decode_log(log) for log in logs]

    def block(self) -> int:
        return int(self.chain.rpc("eth_blockNumber", []), 16)


def _topic(chain: ChainBackend, name: str) -> str:
    return next("0x" + t.hex() for t, (n, *_) in chain._events.items() if n == name)


def _names(record: DeploymentRecord) -> dict[str, str]:
    return record.contract_names()


@pytest.fixture
def devnet(tmp_path, deployed_state, artifacts) -> Iterator[Devnet]:
    state, record_file = deployed_state
    mine = tmp_path / "state.json"
    shutil.copy(state, mine)
    records = tmp_path / "deployments"
    records.mkdir()
    shutil.copy(record_file, records / record_file.name)
    node = DevnetNode(free_port(), mine, log_file=tmp_path / "anvil.log")
    node.start()
    try:
        record = load_record(records / record_file.name)
        chain = ChainBackend(node.url, *artifacts)
        chain.names.update(_names(record))
        impersonating(chain)
        d = record.deployment()
        yield Devnet(node, record, records / record_file.name, chain, d, d.types["ETH-A"], tmp_path)
    finally:
        node.kill()


class BotProcess:
    """A keeper bot in its own process; its JSON log lines in a file."""

    def __init__(
        self,
        devnet: Devnet,
        role: str,
        account: str | None,
        name: str,
        *extra: str,
        rpc: str | None = None,
        deployment: Path | None = None,
    ):
        """`rpc` and `deployment`: another node and its record (default: the devnet's)."""
        self.devnet = devnet
        self.log_file = devnet.tmp / f"{name}.log"
        self.checkpoint = devnet.tmp / f"{name}.checkpoint.json"
        self.args = [
            sys.executable,
            "-m",
            "offchain.live.cli",
            "--role",
            role,
            "--rpc",
            rpc or devnet.node.url,
            "--deployment",
            str(deployment or devnet.record_file),
            "--checkpoint",
            str(self.checkpoint),
            "--poll",
            "0.1",
            *(["--account", account] if account else ["--read-only"]),
            *extra,
        ]
        self.process: subprocess.Popen | None = None

    def start(self) -> BotProcess:
        out = open(self.log_file, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            self.args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
        out.close()
        return self

    def lines(self) -> list[dict[str, Any]]:
        out = []
        if self.log_file.exists():
            for line in self.log_file.read_text().splitlines():
                if line.startswith("{"):
                    out.append(json.loads(line))
        return out

    def events(self, name: str) -> list[dict[str, Any]]:
        return [x for x in self.lines() if x.get("event") == name]

    def describe(self) -> str:
        """One bot for a failure message: its log file, exit code (None: running), last lines."""
        code = self.process.poll() if self.process is not None else "not started"
        text = self.log_file.read_text() if self.log_file.exists() else ""
        tail = text.strip().splitlines()[-3:]
        return f"{self.log_file.name}: exit {code}; last lines: " + " | ".join(tail)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def kill(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                os.killpg(self.process.pid, 9)
            self.process.wait()
            self.process = None

    def text(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""


@pytest.fixture
def bots(devnet) -> Iterator[Callable[..., BotProcess]]:
    started: list[BotProcess] = []

    def start(
        role: str, account: str | None, name: str | None = None, *extra: str, rpc: str | None = None
    ) -> BotProcess:
        bot = BotProcess(devnet, role, account, name or f"{role}-{len(started)}", *extra, rpc=rpc)
        started.append(bot)
        return bot.start()

    try:
        yield start
    finally:
        for bot in started:
            bot.kill()


def wait_for(
    condition: Callable[[], Any],
    timeout: float,
    what: str,
    detail: Callable[[], str] | None = None,
) -> Any:
    """`condition()`'s first true value within `timeout` seconds; else an AssertionError naming
    `what`, with `detail()` (say, the bots' last log lines) to diagnose it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    extra = f"\n{detail()}" if detail is not None else ""
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{extra}")


def bots_started(*bots: BotProcess, timeout: float = 120) -> None:
    """Wait until every bot has logged `started` (a process start imports the whole stack: under
    a loaded CI machine that took over 60 s once); on a timeout, each bot's state and last log
    lines."""

    def detail() -> str:
        return "\n".join(bot.describe() for bot in bots)

    wait_for(lambda: all(b.events("started") for b in bots), timeout, "the bots", detail)


class FaultyProxy:
    """A local JSON-RPC proxy in front of the node that, with a seeded generator, drops a share
    of requests (before forwarding, or after: the node acted and the reply is lost), delays a
    share, and answers a share with HTTP 503 or 429 (a provider failing or rate limiting)."""

    def __init__(self, target: str, drop: float, delay: float, error: float, seed: int = 7):
        import random
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import requests

        self.counts: Counter = Counter()
        rng = random.Random(seed)
        lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    roll, after, wait = rng.random(), rng.random() < 0.5, rng.uniform(0.2, 1.5)
                if roll < drop:
                    proxy.counts["dropped"] += 1
                    if after:
                        requests.post(target, data=body, timeout=10)
                    self.close_connection = True
                    return
                if roll < drop + error:
                    proxy.counts["errors"] += 1
                    status = 503 if after else 429
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if roll < drop + error + delay:
                    proxy.counts["delayed"] += 1
                    time.sleep(wait)
                proxy.counts["forwarded"] += 1
                reply = requests.post(
                    target, data=body, headers={"Content-Type": "application/json"}, timeout=10
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class UnderEstimatingProxy:
    """A local JSON-RPC proxy in front of the node whose `eth_estimateGas` answers are the node's
    divided by `factor` (an endpoint whose estimate falls short of what the transaction will need
    where it is mined: the state moved on between the estimate and the block); everything else
    is forwarded as is."""

    def __init__(self, target: str, factor: int):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import requests

        self.estimates: list[tuple[int, int]] = []  # (the node's, the answer)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                reply = requests.post(
                    target, data=body, headers={"Content-Type": "application/json"}, timeout=10
                ).content
                request = json.loads(body)
                if isinstance(request, dict) and request.get("method") == "eth_estimateGas":
                    answer = json.loads(reply)
                    if "result" in answer:
                        real = int(answer["result"], 16)
                        answer["result"] = hex(real // factor)
                        proxy.estimates.append((real, real // factor))
                        reply = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
