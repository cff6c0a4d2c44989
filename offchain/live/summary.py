"""The notifier's terminal: one summary line per interval instead of a line per vault.

A crash announces thousands of vaults (7,455 lines of a session's 9,000 were the notifier's), so
its terminal shows, every `every` seconds in which something was announced, one `summary` line:
how many `notice` and `notice_cleared` lines the interval brought, by status and type, and the
worst vaults of the interval (unsafe before called, then the lowest ratio at the queued price).
Every line, each vault's included, is still written to the bot's log file (`Log.file`); the
summary names it. The webhook still gets every line.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from offchain.live.metrics import Log

WORST = 3  # vaults named in a summary line
_STATUS_ORDER = {"unsafe": 0, "called": 1}


def _ratio(text: Any) -> float:
    """A line's ratio (a decimal string) for ordering only; a missing one last."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("inf")


class NoticeSummary:
    """Counts what the notifier announced since its last summary; `flush()` writes the line
    when `every` seconds have passed (or, `force`, at the stop) and something was announced."""

    def __init__(
        self,
        log: Log,
        every: float,
        log_path: str | None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.log, self.every, self.log_path, self.clock = log, every, log_path, clock
        self.since = clock()
        self.notices: list[dict[str, Any]] = []
        self.cleared: Counter[str] = Counter()
        # proposal_notice lines by proposal id: the vaults a queued governance change affects
        self.proposals: Counter[str] = Counter()

    def add(self, event: str, fields: dict[str, Any]) -> None:
        if event == "notice":
            self.notices.append(fields)
        elif event == "notice_cleared":
            self.cleared[str(fields.get("type"))] += 1
        elif event == "proposal_notice":
            self.proposals[str(fields.get("proposal"))] += 1

    def flush(self, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self.since < self.every:
            return
        if self.notices or self.cleared or self.proposals:
            worst = sorted(
                self.notices,
                key=lambda f: (
                    _STATUS_ORDER.get(str(f.get("status")), 2),
                    _ratio(f.get("projected_ratio")),
                ),
            )[:WORST]
            self.log(
                "summary",
                interval_s=round(now - self.since, 1),
                notices=len(self.notices),
                cleared=sum(self.cleared.values()),
                by_status=dict(Counter(str(f.get("status")) for f in self.notices)),
                by_type=dict(Counter(str(f.get("type")) for f in self.notices)),
                worst=[
                    {
                        k: f.get(k)
                        for k in ("type", "owner", "status", "projected_ratio", "seconds_left")
                    }
                    for f in worst
                ],
                # vaults warned of a queued governance change, by proposal id
                **({"proposal_notices": dict(self.proposals)} if self.proposals else {}),
                details=self.log_path,
            )
        self.notices, self.cleared, self.proposals, self.since = [], Counter(), Counter(), now


__all__ = ["WORST", "NoticeSummary"]
