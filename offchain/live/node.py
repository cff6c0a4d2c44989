"""JSON-RPC to a node that may fail: every request has a timeout, a broken connection is
reopened on the next request, and whatever keeps a request from being answered (refused,
reset, timed out, an HTTP error, a garbled reply) is one exception, `NodeUnavailable`, which the
bots wait out. A node's own error answer stays `RpcError` (offchain/backends/rpc.py)."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

from offchain.backends.probe import NoAnswer, wait_for_answer
from offchain.backends.rpc import RpcError

SLOW_NODE_S = 20.0  # how long a start-up check waits for a node that accepts but answers late


class NodeUnavailable(RuntimeError):
    """The node did not answer (down, restarting, or a request lost on the way)."""


class LiveTransport:
    """`post(payload) -> reply` with a timeout; the drop-in transport of a ChainBackend that
    talks to a node other processes share (see ChainBackend's `dev_node`)."""

    def __init__(self, url: str, timeout: float = 10.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) JSON-RPC URL: {url!r}")
        self.url = url
        self._factory = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self._host, self._port = parts.hostname, parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def post(self, payload: Any) -> Any:
        body = json.dumps(payload)
        if self._conn is None:
            self._conn = self._factory(self._host, self._port, timeout=self.timeout)
        try:
            self._conn.request("POST", self._path, body, {"Content-Type": "application/json"})
            response = self._conn.getresponse()
            data = response.read()
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            self.close()
            raise NodeUnavailable(f"{self._host}:{self._port}: {type(exc).__name__}") from exc
        if response.status != 200:
            self.close()
            raise NodeUnavailable(f"{self._host}:{self._port} answered HTTP {response.status}")
        try:
            return json.loads(data)
        except ValueError as exc:
            self.close()
            raise NodeUnavailable(f"{self._host}:{self._port}: a reply that is not JSON") from exc


def unanswered(url: str, timeout: float = 2.0, patience: float = SLOW_NODE_S) -> str | None:
    """One line when no JSON-RPC node answers at `url`: a command that refuses other mistakes
    names this one with them, so its user fixes all in one go. A refused connection is asked
    once (nothing listens there); a slow answer is waited out for `patience` seconds, asked
    again with more patience each time (offchain/backends/probe.py: a busy node's late answer was
    "no JSON-RPC node answers"). None when a node answers (or the URL is not one: its own check
    names that)."""
    try:
        Node(url, timeout=timeout).chain_id()
    except ValueError:
        return None
    except NodeUnavailable as exc:
        if not isinstance(exc.__cause__, TimeoutError):
            return f"no JSON-RPC node answers at {url} (start one: make devnet)"
        try:
            wait_for_answer(url, patience, f"the node at {url}", first_wait_s=timeout, refused_s=0)
        except NoAnswer:
            return (
                f"the node at {url} accepts connections but did not answer within "
                f"{timeout + patience:g} s (busy, or not a JSON-RPC node?)"
            )
    except RpcError:
        return None
    return None


class Node:
    """Plain JSON-RPC requests over a LiveTransport. With `patience` [s], a request the node
    does not answer is tried again for that long (start-up checks against a flaky endpoint);
    without, the first NodeUnavailable is raised (a bot's round gives up and comes back)."""

    def __init__(self, url: str, timeout: float = 10.0, patience: float = 0.0):
        self.url = url
        self.transport = LiveTransport(url, timeout)
        self.patience = patience
        self._id = 0

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        deadline = time.monotonic() + self.patience
        while True:
            try:
                return self._rpc(method, params)
            except NodeUnavailable:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)

    def _rpc(self, method: str, params: list[Any] | None) -> Any:
        self._id += 1
        reply = self.transport.post(
            {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params or []}
        )
        if not isinstance(reply, dict) or ("result" not in reply and "error" not in reply):
            raise NodeUnavailable(f"{self.url}: a malformed JSON-RPC reply to {method}")
        if "error" in reply:
            raise RpcError(method, reply["error"])
        return reply["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """The results of `calls` ((method, params) each), sent as one JSON-RPC batch, in
        their order; RpcError for the first the node refused."""
        if not calls:
            return []
        first = self._id + 1
        self._id += len(calls)
        payload = [
            {"jsonrpc": "2.0", "id": first + i, "method": method, "params": params}
            for i, (method, params) in enumerate(calls)
        ]
        replies = self.transport.post(payload)
        by_id = (
            {r.get("id"): r for r in replies if isinstance(r, dict)}
            if isinstance(replies, list)
            else {}
        )
        out = []
        for i, (method, _) in enumerate(calls):
            reply = by_id.get(first + i)
            if reply is None or ("result" not in reply and "error" not in reply):
                raise NodeUnavailable(f"{self.url}: a malformed JSON-RPC reply to {method}")
            if "error" in reply:
                raise RpcError(method, reply["error"])
            out.append(reply["result"])
        return out

    def chain_id(self) -> int:
        return int(self.rpc("eth_chainId"), 16)

    def block_number(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def block(self, number: int | str) -> dict[str, Any] | None:
        tag = hex(number) if isinstance(number, int) else number
        return self.rpc("eth_getBlockByNumber", [tag, False])

    def balance(self, address: str) -> int:
        return int(self.rpc("eth_getBalance", [address, "latest"]), 16)

    def nonce(self, address: str, tag: str = "pending") -> int:
        return int(self.rpc("eth_getTransactionCount", [address, tag]), 16)

    def code(self, address: str) -> bytes:
        return bytes.fromhex(self.rpc("eth_getCode", [address, "latest"])[2:])
