"""A bot's metrics (Prometheus text format on /metrics) and health (JSON on /health), served on
a local port by a thread of the bot's process, and its structured log (one JSON object a line).

/health answers 200 while the bot runs and has processed a block no more than `max_lag` blocks
behind the chain head, 503 otherwise (node unreachable, falling behind, or stopped, with the
reason).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

# name -> help text; every metric a bot exports is one of these, labelled with the bot's role
METRICS = {
    "head_block": "The chain head the bot last saw.",
    "processed_block": "The last block the bot processed (events folded in, decisions made).",
    "pending_transactions": "Transactions sent and not yet mined.",
    "balance_wei": "The bot account's ether balance.",
    "actions_sent_total": "Transactions sent (replacements not counted).",
    "actions_mined_total": "Own transactions mined and successful.",
    "actions_reverted_total": "Own transactions mined and reverted, lost races included.",
    "retries_total": "Transactions that ran out of gas, sent again with more gas.",
    "actions_lost_total": "Actions a competitor made moot: reverted for that reason, or dropped "
    "before sending because the call would revert.",
    "opportunities_missed_total": "Actions decided but not sent (no funds, gas cap, breaker).",
    "liquidations_total": "Vaults this bot liquidated.",
    "replacements_total": "Fee bumps of stuck transactions at the same nonce.",
    "rebroadcasts_total": "Pending transactions the node had lost, sent again.",
    "reorgs_total": "Times the processed chain changed under the bot (rebuilt from events).",
    "node_errors_total": "Requests the node did not answer.",
    "out_of_funds": "1 while the account cannot pay for what the bot wants to send.",
    "notices_total": "Notifier: notice and notice_cleared lines written.",
    "webhook_failures_total": "Notifier: lines the webhook did not take (failed or skipped).",
    "up": "1 while the bot runs.",
}


class Metrics:
    def __init__(self, role: str, max_lag: int = 5):
        self.role = role
        self.max_lag = max_lag
        self.values: dict[str, int] = {name: 0 for name in METRICS}
        self.values["up"] = 1
        # revert reason ("out of gas", a contract's string, "no reason") -> own transactions
        # mined and reverted with it
        self.reasons: dict[str, int] = {}
        self.stop_reason = ""
        self.node_ok = False
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def set(self, name: str, value: int) -> None:
        assert name in METRICS, name
        with self._lock:
            self.values[name] = value

    def add(self, name: str, amount: int = 1) -> None:
        assert name in METRICS, name
        with self._lock:
            self.values[name] += amount

    def add_reason(self, reason: str, amount: int = 1) -> None:
        """One more own transaction reverted with `reason`."""
        with self._lock:
            self.reasons[reason] = self.reasons.get(reason, 0) + amount

    def prometheus(self) -> str:
        lines = []
        with self._lock:
            for name, help_text in METRICS.items():
                kind = "counter" if name.endswith("_total") else "gauge"
                full = f"backstop_keeper_{name}"
                lines += [
                    f"# HELP {full} {help_text}",
                    f"# TYPE {full} {kind}",
                    f'{full}{{role="{self.role}"}} {self.values[name]}',
                ]
            full = "backstop_keeper_reverts_by_reason_total"
            lines += [
                f"# HELP {full} Own transactions mined and reverted, by reason (out of gas, the "
                "contract's revert string, no reason).",
                f"# TYPE {full} counter",
            ]
            for reason, n in sorted(self.reasons.items()):
                label = reason.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
                lines.append(f'{full}{{role="{self.role}",reason="{label}"}} {n}')
        return "\n".join(lines) + "\n"

    def health(self) -> tuple[bool, dict[str, Any]]:
        with self._lock:
            v = dict(self.values)
        lag = v["head_block"] - v["processed_block"]
        healthy = bool(v["up"]) and self.node_ok and lag <= self.max_lag
        return healthy, {
            "role": self.role,
            "healthy": healthy,
            "head_block": v["head_block"],
            "processed_block": v["processed_block"],
            "lag_blocks": lag,
            "pending_transactions": v["pending_transactions"],
            "balance_wei": v["balance_wei"],
            "out_of_funds": bool(v["out_of_funds"]),
            "node_reachable": self.node_ok,
            "stopped": self.stop_reason or None,
            # why it is unhealthy (None while healthy)
            "reason": None
            if healthy
            else self.stop_reason
            or ("stopped" if not v["up"] else "")
            or ("node unreachable" if not self.node_ok else "")
            or f"{lag} blocks behind the head (at most {self.max_lag})",
        }

    def serve(self, port: int) -> int:
        """Serve /metrics and /health on 127.0.0.1:`port` (0: any free port); the port."""
        metrics = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    body, status, kind = metrics.prometheus().encode(), 200, "text/plain"
                elif self.path == "/health":
                    healthy, data = metrics.health()
                    body, status, kind = (
                        json.dumps(data).encode(),
                        200 if healthy else 503,
                        ("application/json"),
                    )
                else:
                    body, status, kind = b"not found\n", 404, "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self._server.server_address[1]

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class Log:
    """One JSON object a line: time, role, event, fields. Every line goes to `file` (the bot's
    log file, if any) and to `stream` (the terminal, stdout), but the events in `quiet`, which
    go to the file alone (the notifier's per-vault lines: offchain/live/summary.py)."""

    def __init__(
        self,
        role: str,
        stream: TextIO | None = None,
        file: TextIO | None = None,
        quiet: frozenset[str] = frozenset(),
    ):
        self.role = role
        self.stream = stream or sys.stdout
        self.file = file
        self.quiet = quiet

    def __call__(self, event: str, **fields: Any) -> None:
        self.line(event, **fields)

    def line(self, event: str, **fields: Any) -> str:
        """Write the line; the line (without its newline)."""
        record = {"t": round(time.time(), 3), "role": self.role, "event": event, **fields}
        line = json.dumps(record, default=str)
        if self.file is not None:
            self.file.write(line + "\n")
            self.file.flush()
        if event not in self.quiet or self.file is None:
            self.stream.write(line + "\n")
            self.stream.flush()
        return line


def log_problem(path: Path, given: bool) -> str | None:
    """Why `path` cannot be a bot's log file (one line), or None: a folder, a folder that does
    not exist (`given`: one the user named), a place no file can be written, or an existing file
    that is not a bot's log (it would be appended to: a user's notes.txt)."""
    if path.is_dir():
        return f"--log {path} is a directory, not a log file"
    if given and not path.parent.is_dir():
        what = "is a file" if path.parent.exists() else "does not exist"
        return f"--log {path}: the directory {path.parent} {what}"
    if path.exists():
        try:
            with open(path, "rb") as f:
                first = f.readline(65536)
        except OSError as exc:
            return f"--log {path}: cannot read ({exc.strerror or exc})"
        if first.strip():
            try:
                record = json.loads(first)
            except ValueError:
                record = None
            if not (isinstance(record, dict) and "event" in record and "role" in record):
                return (
                    f"--log {path}: exists and is not a bot's log (its first line is not one of "
                    "a bot's JSON lines), so it is not appended to: give another file"
                )
        if not os.access(path, os.W_OK):
            return f"--log {path}: not writable"
    return None
