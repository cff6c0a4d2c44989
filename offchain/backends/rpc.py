"""JSON-RPC to a node: one kept-alive HTTP connection, errors as `RpcError`."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

NO_SUCH_METHOD = (-32601, -32600, -32004)  # method not found / not supported (EIP-1474)


class RpcError(RuntimeError):
    """The node answered a request with an error."""

    def __init__(self, method: str, error: dict[str, Any]):
        super().__init__(f"{method}: {error}")
        self.method = method
        self.error = error
        self.code = error.get("code") if isinstance(error, dict) else None
        # a reverted eth_call: the revert data, hex (Error(string) for a reason)
        self.data = error.get("data") if isinstance(error, dict) else None


class Transport:
    """JSON-RPC over one kept-alive HTTP connection, with nothing in between: a general HTTP
    client spends more Python per request (prepare, merge settings, adapters) than a local node
    takes to answer."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) JSON-RPC URL: {url!r}")
        self._factory = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self._host, self._port = parts.hostname, parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json"}
        self._conn: http.client.HTTPConnection | None = None

    def post(self, payload: Any) -> Any:
        body = json.dumps(payload)
        for attempt in (0, 1):
            fresh = self._conn is None
            conn = self._conn = self._factory(self._host, self._port) if fresh else self._conn
            assert conn is not None
            try:
                conn.request("POST", self._path, body, self._headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # a kept-alive connection the node had closed: reconnect once (never a fresh one)
                conn.close()
                self._conn = None
                if fresh or attempt:
                    raise
                continue
            if response.status != 200:
                raise RuntimeError(
                    f"JSON-RPC node at {self._host}:{self._port} answered HTTP {response.status}"
                )
            return json.loads(data)
        raise AssertionError("unreachable")
