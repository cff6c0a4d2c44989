"""The market driver's pace (offchain/live/market.py's `find_bots` and `Pacer`), without a node:
checkpoints written by hand, their locks held by this process as a running bot holds its own
(flock on `<checkpoint>.lock`), and a chain that answers only its block number."""

from __future__ import annotations

import fcntl
import json
import threading
import time
from pathlib import Path

from offchain.live.market import Pacer, find_bots, lock_holder


class _Head:
    """What the pacer asks of a chain: `eth_blockNumber`."""

    def __init__(self, head: int):
        self.head = head

    def rpc(self, method: str, params: list) -> str:
        assert method == "eth_blockNumber"
        return hex(self.head)


def _checkpoint(path: Path, last_block: int, pending: int = 0) -> None:
    path.write_text(json.dumps({"watched": {"last_block": last_block}, "pending": [{}] * pending}))


def _hold(path: Path, role: str, account: str | None):
    """Hold `path`'s lock as a running bot does (its record in the lock file); the open file."""
    f = open(path.with_name(path.name + ".lock"), "w")  # noqa: SIM115 - held until closed
    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    f.write(json.dumps({"pid": 1, "role": role, "account": account}))
    f.flush()
    return f


def test_find_bots__running_senders_only(tmp_path):
    taker, notifier, stopped = (
        tmp_path / "taker.json",
        tmp_path / "notifier.json",
        tmp_path / "x.json",
    )
    for path in (taker, notifier, stopped):
        _checkpoint(path, 10)
    stopped.with_name("x.json.lock").write_text("{}")  # a lock file no process holds
    held = [_hold(taker, "taker", "0xabc"), _hold(notifier, "notifier", None)]
    try:
        bots, silent = find_bots([tmp_path])
        assert [(b.name, b.role) for b in bots] == [("taker", "taker")]
        assert silent == ["notifier"]
        holder = lock_holder(taker)
        assert lock_holder(stopped) is None and holder is not None and holder["role"] == "taker"
        # the probe left the bot's lock as it was: still held
        assert lock_holder(taker) is not None
    finally:
        for f in held:
            f.close()
    assert find_bots([tmp_path]) == ([], [])  # the bots stopped: none running


def test_pacer__waits_until_every_bot_processed_the_head_with_nothing_pending(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    _checkpoint(a, 5)
    _checkpoint(b, 7, pending=1)
    held = [_hold(a, "liquidator", "0x1"), _hold(b, "taker", "0x2")]
    try:
        bots, _ = find_bots([a, b])
        chain = _Head(7)
        pacer = Pacer(chain, bots, timeout=30, poll=0.01)  # type: ignore[arg-type]

        def bots_catch_up() -> None:
            time.sleep(0.3)
            _checkpoint(a, 7)  # a processed the head
            time.sleep(0.3)
            chain.head = 8  # b's transaction was mined: a new head
            _checkpoint(b, 8)
            time.sleep(0.3)
            _checkpoint(a, 8)

        worker = threading.Thread(target=bots_catch_up)
        worker.start()
        waited = pacer.wait(0)
        worker.join()
        assert waited >= 0.9  # not before the last bot had seen the last head
        assert pacer.late == [] and pacer.max_lag == 0
        assert "0 bars began before the bots caught up" in pacer.summary()
    finally:
        for f in held:
            f.close()


def test_pacer__a_bot_that_never_catches_up__the_bar_goes_on_counted_late(tmp_path):
    a = tmp_path / "a.json"
    _checkpoint(a, 3)
    held = _hold(a, "liquidator", "0x1")
    try:
        bots, _ = find_bots([a])
        said: list[str] = []
        pacer = Pacer(_Head(9), bots, timeout=0.2, poll=0.01)  # type: ignore[arg-type]
        pacer.wait(4, said.append)
        assert pacer.late == [4] and pacer.max_lag == 6
        assert said == [
            "bar 5: the bots did not catch up with block 9 within 0.2 s (a at block 3, 0 "
            "pending): the bar goes on"
        ]
        assert "1 bars began before the bots caught up (lag at most 6 blocks)" in pacer.summary()
    finally:
        held.close()


def test_pacer__clock_pace__measures_the_lag_only(tmp_path):
    a = tmp_path / "a.json"
    _checkpoint(a, 3)
    held = _hold(a, "liquidator", "0x1")
    try:
        bots, _ = find_bots([a])
        pacer = Pacer(_Head(9), bots, pacing=False)  # type: ignore[arg-type]
        assert pacer.wait(0) == 0.0
        assert pacer.max_lag == 6
        assert "up to 6 blocks behind" in pacer.summary()
    finally:
        held.close()
