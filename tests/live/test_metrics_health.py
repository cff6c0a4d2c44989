"""The keeper bots' /health endpoint and the names of their reverted actions, without a node:
`/health` is served over real HTTP by offchain/live/metrics.py, and its "reason" says why a bot
is unhealthy (docs/keepers.md promises it); a revert the chain caused by itself is "moot", one a
competitor caused "lost" (issue 47, item 9)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from offchain.live.bots import race_outcome
from offchain.live.metrics import Metrics


def _health(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:  # an unhealthy bot answers 503 with its body
        return exc.code, json.loads(exc.read())


def test_health__reason_says_why_unhealthy__none_while_healthy():
    metrics = Metrics("taker", max_lag=5)
    port = metrics.serve(0)
    try:
        # not yet seen the node
        status, body = _health(port)
        assert (status, body["healthy"], body["reason"]) == (503, False, "node unreachable")
        metrics.node_ok = True
        metrics.set("head_block", 110)
        metrics.set("processed_block", 100)
        status, body = _health(port)
        assert (status, body["reason"]) == (503, "10 blocks behind the head (at most 5)")
        metrics.set("processed_block", 106)
        status, body = _health(port)
        assert (status, body["healthy"], body["reason"], body["role"]) == (200, True, None, "taker")
        metrics.set("up", 0)
        status, body = _health(port)
        assert (status, body["reason"]) == (503, "stopped")
        metrics.stop_reason = "circuit breaker: 3 failures in a row"
        status, body = _health(port)
        assert (status, body["reason"], body["stopped"]) == (
            503,
            "circuit breaker: 3 failures in a row",
            "circuit breaker: 3 failures in a row",
        )
    finally:
        metrics.close()


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        ("auction: needs reset", "moot"),
        ("auction: price above maximum", "moot"),
        ("auction: not running", "lost"),
        ("auction: cannot reset", "lost"),
        ("flash: profit below minimum", "lost"),
        ("backstop: nothing to cover", "lost"),
        ("engine: not safe", None),
        ("out of gas", None),
        (None, None),
    ],
)
def test_race_outcome__the_chain_moving_on_is_moot_not_a_lost_race(reason, outcome):
    assert race_outcome(reason) == outcome
