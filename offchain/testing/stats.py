"""What the differential machines did, counted: per rule how often it ran (`hits`), how often it
sent a transaction that may revert (`sent`) and how often at least one of those succeeded
(`ok`); examples and checked steps; and the steps of the last example, in order, so that a
failing example can be run again on another EVM (offchain/testing/fuzz.py replays it on Anvil).

The counts are a `Totals` object bound to the machine class by `make_machine` (every example's
machine adds to it; a campaign's worker passes one for all its batches, and adds up its workers'
counts), never process-global: two runs in one process count apart. A run can be told to stop
(`Totals.stop_when`: a campaign's time is up, or it was interrupted): the machines call
`check_stop` after every checked step, which raises `StopRun` (not a failure: Hypothesis
re-raises it at once). The failing examples are noted (`failed_examples`, `last_failure`), so that
a run stopped while shrinking one still knows it."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
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
    """Counts of one run (one machine class, or a worker's batches)."""

    examples: int = 0
    # steps (after each, the checks of offchain/testing/checking.py; none in the benchmark's
    # unchecked floor)
    steps: int = 0
    rules: dict[str, RuleCount] = field(default_factory=lambda: collections.defaultdict(RuleCount))
    checks: collections.Counter = field(default_factory=collections.Counter)
    # what the transactions did ("ok modify_vault", "revert take: ...", stories reached): proof
    # that the fuzz reaches both sides of every check, not just reverts
    outcomes: collections.Counter = field(default_factory=collections.Counter)
    # the steps of the last example run, (rule, arguments) in order
    last_example: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # examples that failed a check since `reset` or `new_run` (shrinking runs many), the first's
    # time (time.perf_counter()) and the last's steps and error
    failed_examples: int = 0
    first_failure_at: float | None = None
    last_failure: tuple[list[tuple[str, dict[str, Any]]], str] | None = None
    # why the run must stop now (None: go on); None: never stops (the tests' runs)
    stop_when: Callable[[], str | None] | None = None
    # checked steps since the storage path last compared the complete views (None: not yet in
    # this run; offchain/testing/checking.py)
    steps_since_views: int | None = None

    def new_run(self) -> None:
        """Forget the failing examples (not the counts): a new Hypothesis run begins."""
        self.failed_examples, self.first_failure_at, self.last_failure = 0, None, None

    def check_stop(self) -> None:
        """Raise StopRun when the stop condition holds."""
        if self.stop_when is None:
            return
        reason = self.stop_when()
        if reason is not None:
            raise StopRun(reason)


class StopRun(KeyboardInterrupt):
    """Raised after a checked step when the run was told to stop; the argument says why. A
    KeyboardInterrupt, because that is the one exception Hypothesis takes for "stopped from
    outside": it re-raises it at once and records nothing of the cut example (another
    BaseException would be recorded as the example's end, and the next example drawn from the
    same prefix would then be reported as flaky data generation)."""

    @property
    def reason(self) -> str:
        return str(self.args[0]) if self.args else "stopped"


class StepStats:
    """One example's bookkeeping, fed by the machine: `drawn` for each rule Hypothesis chooses,
    `record` for the initialize rule, `sent` for each transaction that may revert, `checked`
    after each step's checks, `end_example` at its end; it adds to `totals`."""

    def __init__(self, totals: Totals) -> None:
        self.totals = totals
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
            self.totals.steps += 1
        self._close()

    def end_example(
        self, checks: collections.Counter, spec_checks: int, error: BaseException | None = None
    ) -> None:
        """The example is over: `checks` are its Checker's counts, `spec_checks` how many
        specification checks its transactions passed (offchain/testing/specification/),
        `error` the failed check's exception (None: it passed)."""
        self._close()
        self.totals.examples += 1
        if error is not None:
            self.totals.failed_examples += 1
            if self.totals.first_failure_at is None:
                self.totals.first_failure_at = time.perf_counter()
            self.totals.last_failure = (self.steps, f"{type(error).__name__}: {error}")
        self.totals.last_example = self.steps
        self.totals.checks.update(checks)
        self.totals.checks["specification checks"] += spec_checks

    def _close(self) -> None:
        if self._rule is not None:
            count = self.totals.rules[self._rule]
            count.hits += 1
            count.sent += self._sent
            count.ok += self._ok
        self._rule = None
        self._sent = self._ok = False
