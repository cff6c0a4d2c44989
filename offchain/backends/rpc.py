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


# ---------------------------------------------------------------- naming a failed call


def short_value(value: Any) -> str:
    """An argument as a line of a log shows it: a bytes32 name as its text (`ETH-A`), an
    address shortened (`0xab12…cd34`), long lists and bytes by their size."""
    if isinstance(value, bytes | bytearray):
        text = bytes(value).rstrip(b"\x00")
        if text and all(32 <= b < 127 for b in text):
            return text.decode()
        return f"0x{bytes(value).hex()}" if len(value) <= 8 else f"<{len(value)} bytes>"
    if isinstance(value, str) and len(value) == 42 and value[:2].lower() == "0x":
        return f"{value[:6]}…{value[-4:]}"
    if isinstance(value, list | tuple):
        shown = ", ".join(short_value(v) for v in value[:3])
        return f"[{shown}{f', … {len(value)} in all' if len(value) > 3 else ''}]"
    return str(value)


def call_label(contract: str, function: str, args: tuple | list) -> str:
    """`Backstop.cover(ETH-A, 12)`: a call named for a log line."""
    return f"{contract}.{function}({', '.join(short_value(a) for a in args)})"


def describe(exc: RpcError) -> str:
    """A node's error as one line naming the request and the reason: `eth_call
    Backstop.cover(ETH-A, 12) reverted: backstop: nothing to cover` (was `RpcError: eth_call:
    {'code': 3, 'message': 'execution reverted: ...', 'data': '0x08c379a0...'}`)."""
    from offchain.backends.abi import revert_reason  # (abi imports the model: not at start)

    error = exc.error if isinstance(exc.error, dict) else {"message": str(exc.error)}
    message = str(error.get("message") or "").strip()
    reason = None
    if isinstance(exc.data, str) and exc.data.startswith("0x"):
        try:
            reason = revert_reason(bytes.fromhex(exc.data[2:]))
        except ValueError:
            reason = None
    if reason is not None or "revert" in message.lower():
        if reason is None:
            reason = message.split("execution reverted", 1)[-1].lstrip(": ").strip() or "no reason"
        return f"{exc.method} reverted: {reason}"
    code = f" (code {error['code']})" if error.get("code") is not None else ""
    return f"{exc.method}: {message or error}{code}"
