"""The start-up probe of a node: ask `eth_chainId` until it answers or a deadline passes.

A node that is starting refuses the connection; one that is busy (a loaded machine, a Node.js
start, a journal replaying) accepts it and answers late. Both are waited out alike until the
deadline: a refused connection is asked again at once (after a short pause), a slow answer (the
request's read timeout) is asked again with twice the patience, up to `MAX_WAIT_S` a request and
never past the deadline, so that a node that always takes three seconds still answers a probe
that began by waiting one. Anvil's, Hardhat's (`ape run simulate --node hardhat`) and the
devnet's starts use it; `ape run deploy` and the bots' checks ask a running node the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

FIRST_WAIT_S = 1.0  # the first request's read timeout
MAX_WAIT_S = 8.0  # a request's longest
PAUSE_S = 0.05  # between two refused connections

_CHAIN_ID = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}


class NoAnswer(RuntimeError):
    """The node did not answer before the deadline; the message is one line saying how it was
    asked and what happened (refused, too slow)."""


def wait_for_answer(
    url: str,
    deadline_s: float,
    name: str = "the node",
    stopped: Callable[[], None] | None = None,
    first_wait_s: float = FIRST_WAIT_S,
    refused_s: float | None = None,
) -> float:
    """Ask `url` for its chain id until it answers; the seconds it took. `stopped()` is called
    before every request: it raises when the node's process has exited (its own error, which
    this lets through). NoAnswer when `deadline_s` seconds pass without an answer, or, with
    `refused_s` (a node that should be running already), when the connection is still refused
    after that long: nothing listens there, which waiting does not change."""
    start = time.monotonic()
    deadline = start + deadline_s
    wait = last = first_wait_s
    refused = slow = 0
    session = requests.Session()
    try:
        while True:
            if stopped is not None:
                stopped()
            left = deadline - time.monotonic()
            if left <= 0:
                break
            last = min(wait, left)
            try:
                session.post(url, json=_CHAIN_ID, timeout=(last, last))
                return time.monotonic() - start
            except requests.Timeout:  # accepted, not answered in time (or a slow connect)
                slow += 1
                wait = min(wait * 2, MAX_WAIT_S)
            except requests.ConnectionError:  # refused: not listening yet
                refused += 1
                if refused_s is not None and time.monotonic() - start >= refused_s:
                    raise NoAnswer(f"nothing answers at {url} (connection refused)") from None
                time.sleep(min(PAUSE_S, max(deadline - time.monotonic(), 0)))
    finally:
        session.close()
    how = []
    if refused:
        how.append(f"{refused:,} refused")
    if slow:
        how.append(f"{slow:,} too slow (the last waited {last:.3g} s)")
    raise NoAnswer(
        f"{name} did not answer at {url} within {deadline_s:g} s"
        + (f" ({', '.join(how)})" if how else "")
    )


__all__ = ["FIRST_WAIT_S", "MAX_WAIT_S", "NoAnswer", "wait_for_answer"]
