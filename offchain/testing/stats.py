"""What the differential machines did, counted: per rule how often it ran (`hits`), how often it
sent a transaction that may revert (`sent`) and how often at least one of those succeeded
(`ok`); examples and checked steps; and the steps of the last example, in order, so that a
failing example can be run again on another EVM (offchain/testing/fuzz.py replays it on Anvil).

The counts are per process (a campaign adds up its workers' counts)."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RuleCount:
    hits: int = 0  # steps that ran the rule
    sent: int = 0  # ... and sent at least one transaction that may revert
    ok: int = 0  # ... of which at least one succeeded

    def applied(self) -> bool:
        """The rule did what it is for at least once: ran, and when it sends transactions that
        may revert, had one succeed."""
        return self.hits > 0 and (self.sent == 0 or self.ok > 0)


@dataclass
class Totals:
    """Counts of one process since the last `reset`."""

    examples: int = 0
    steps: int = 0  # checked steps (after each, the checks of offchain/testing/checking.py)
    rules: dict[str, RuleCount] = field(default_factory=lambda: collections.defaultdict(RuleCount))
    checks: collections.Counter = field(default_factory=collections.Counter)
    # the steps of the last example run, (rule, arguments) in order
    last_example: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


TOTALS = Totals()


def reset() -> None:
    global TOTALS
    TOTALS = Totals()


class StepStats:
    """One example's bookkeeping, fed by the machine: `drawn` for each rule Hypothesis chooses,
    `record` for the initialize rule, `sent` for each transaction that may revert, `checked`
    after each step's checks, `end_example` at its end."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, dict[str, Any]]] = []
        self._rule: str | None = None
        self._sent = self._ok = False

    def drawn(self, rule_and_arguments: Any) -> Any:
        """(rule, arguments) as Hypothesis drew them, passed through (a strategy's map)."""
        rule, arguments = rule_and_arguments
        self.record(rule.function.__name__, **arguments)
        return rule_and_arguments

    def record(self, rule: str, **arguments: Any) -> None:
        self._close()
        self.steps.append((rule, dict(arguments)))
        self._rule = rule

    def sent(self, ok: bool) -> None:
        self._sent = True
        self._ok = self._ok or ok

    def checked(self) -> None:
        if self._rule is not None:
            TOTALS.steps += 1
        self._close()

    def end_example(self, checks: collections.Counter, spec_checks: int) -> None:
        """The example is over: `checks` are its Checker's counts, `spec_checks` how many
        specification checks its transactions passed (offchain/testing/specification.py)."""
        self._close()
        TOTALS.examples += 1
        TOTALS.last_example = self.steps
        TOTALS.checks.update(checks)
        TOTALS.checks["specification checks"] += spec_checks

    def _close(self) -> None:
        if self._rule is not None:
            count = TOTALS.rules[self._rule]
            count.hits += 1
            count.sent += self._sent
            count.ok += self._ok
        self._rule = None
        self._sent = self._ok = False
