"""`make test` in shards: the suite's files split between several `ape test` processes run side
by side, each on its own Anvil (ape-config.yaml's `foundry: host: auto` gives every process a
free port). A file is never split, so its module fixtures are built once. The split balances the
files' recorded times (`tests/durations.json`, seconds per file from a run with
`--record-durations`, sharded or not); a file with no record counts as the median of the
recorded ones.

Every process collects the same files and computes the same split, so the shards are disjoint
and together run every collected test exactly once (tests/system/test_shards.py)."""

from __future__ import annotations

import fcntl
import json
import math
import os
import statistics
from collections.abc import Iterable, Mapping
from pathlib import Path

DURATIONS = Path(__file__).with_name("durations.json")


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` (1 <= K <= N) as (K - 1, N); a ValueError with one line otherwise."""
    head, sep, tail = text.partition("/")
    if not sep or not head.strip().isdigit() or not tail.strip().isdigit():
        raise ValueError(f"--shard {text!r}: expected K/N, e.g. 1/2")
    k, n = int(head), int(tail)
    if not 1 <= k <= n:
        raise ValueError(f"--shard {text!r}: K must be between 1 and N")
    return k - 1, n


def read_durations(path: Path = DURATIONS) -> dict[str, float]:
    """The recorded seconds per file (relative to tests/); {} when there is no record."""
    if not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError("expected an object of file: seconds")
    return {
        str(f): float(s)
        for f, s in raw.items()
        if isinstance(s, int | float) and math.isfinite(s) and s >= 0
    }


def split(files: Iterable[str], durations: Mapping[str, float], shards: int) -> list[list[str]]:
    """The files in `shards` groups of near-equal recorded time: longest first, each to the
    group with the least time so far (ties to the lower index); each group in the files' own
    order. Deterministic for a given set of files and record."""
    listed = list(dict.fromkeys(files))
    known = [durations[f] for f in listed if f in durations]
    default = statistics.median(known) if known else 1.0
    cost = {f: durations.get(f, default) for f in listed}
    loads = [0.0] * shards
    chosen: dict[str, int] = {}
    for f in sorted(listed, key=lambda f: (-cost[f], f)):
        k = min(range(shards), key=lambda i: (loads[i], i))
        chosen[f] = k
        loads[k] += cost[f]
    return [[f for f in listed if chosen[f] == k] for k in range(shards)]


def record_durations(path: Path, seconds: Mapping[str, float]) -> None:
    """Add this process's seconds per file to the record at `path` (its other files kept), under
    a lock on its folder so that shards finishing together both land (no lock file is left);
    written whole or not at all."""
    folder = os.open(path.resolve().parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        try:
            record = read_durations(path)
        except ValueError:
            record = {}
        record.update({f: round(s, 1) for f, s in seconds.items() if f})
        partial = path.with_name(f"{path.name}.partial")
        partial.write_text(json.dumps(dict(sorted(record.items())), indent=1) + "\n")
        partial.replace(path)
    finally:
        os.close(folder)  # and with it the lock
