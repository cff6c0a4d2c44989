"""Where a checked fuzz step's time goes (`ape run bench`, offchain/bench/figures.py): while
`step_costs()` is open, the parts below are wrapped in timers, and each call's wall time, less
the time of the wrapped calls inside it, is added to its *path* (the labels of the wrapped calls
it ran within, outermost first; a label repeated at once, a check calling a check, counts once).
So every second of the wrapped calls is counted once, under the part that spent it, and the
parts' own times add up to the wrapped time; the run's rest (Hypothesis' draws, the rules' own
logic, the model's bookkeeping outside the parts) is the run's wall time less that.

A part names a function or method of the code that runs a step, so a renamed one fails here
(KeyError: the part names what is gone; `check_parts` says so before a benchmark runs), and a
part never called in the run is an error of the caller's (`Costs.missing`, per part: one never
called beside another of its label, or passed over by a subclass's own method, is named): the
table would otherwise show zero for time it did not see. The
originals are put back on exit, whatever happened. The timers cost about a microsecond a call
(a few dozen calls a step: ~1% of a checked step), so the profiled run is a little slower than
the timed ones; the bench reports both."""

from __future__ import annotations

import collections
import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from offchain.backends.lockstep import Lockstep
from offchain.backends.model import ModelBackend
from offchain.backends.revm import RevmBackend
from offchain.testing import storage as storage_words
from offchain.testing.checking import Checker
from offchain.testing.economics.auditor import Auditor
from offchain.testing.economics.base import AuditorBase
from offchain.testing.machine.auctions import AuctionRules
from offchain.testing.machine.base import MachineBase
from offchain.testing.specification.base import SpecificationBase
from offchain.testing.specification.core import Specification

# (label, owner, name): the function `name` of `owner` (a class's own method or a module's
# function) is timed under `label`
PARTS: tuple[tuple[str, type | ModuleType, str], ...] = (
    # the transaction on both sides and the lockstep's comparison of outcomes and events
    ("lockstep", Lockstep, "transact"),
    ("evm_tx", RevmBackend, "transact"),
    ("model_tx", ModelBackend, "transact"),
    # the economic properties (offchain/testing/economics/)
    ("auditor", AuditorBase, "before"),
    ("auditor", Auditor, "after"),
    # the specification (offchain/testing/specification/)
    ("specification", SpecificationBase, "before"),
    ("specification", Specification, "reverted"),
    ("specification", Specification, "after"),
    # the after-step check (offchain/testing/checking.py) and its parts
    ("checker", Checker, "after_step"),
    ("checker", Checker, "full"),
    ("state_keys", Checker, "_state_keys"),
    ("touched", Checker, "_placed"),
    ("rekey", Checker, "_rekey"),
    ("storage_encode", storage_words, "expected"),
    ("storage_compare", storage_words, "compare"),
    ("storage_compare", storage_words, "unclaimed"),
    ("views_compare", Checker, "_compare"),
    ("invariants", Checker, "_model_checks"),
    ("evm_views", RevmBackend, "views"),
    ("model_views", ModelBackend, "views"),
    ("invariants", Checker, "_invariants"),
    # the example's end: the complete comparison (offchain/testing/machine/base.py)
    ("teardown", MachineBase, "teardown"),
    # the gas guard's probe: the keeper's batch on the EVM alone at its limit, then undone
    # (offchain/testing/machine/auctions.py), run only where a draw reaches it
    ("gas_probe", AuctionRules, "_chain_alone"),
)
# parts a run may not reach (a rule's branch, not a step's every path): never called, they
# time zero truthfully and are not named missing
OPTIONAL_PARTS = frozenset({"AuctionRules._chain_alone"})


@dataclass
class Costs:
    """Seconds and calls per path (a tuple of labels, outermost first), own time only."""

    seconds: collections.defaultdict[tuple[str, ...], float] = field(
        default_factory=lambda: collections.defaultdict(float)
    )
    calls: collections.Counter = field(default_factory=collections.Counter)
    # calls per part ("Owner.name")
    part_calls: collections.Counter = field(default_factory=collections.Counter)

    def wrapped_s(self) -> float:
        return sum(self.seconds.values())

    def by_group(self) -> dict[str, float]:
        """Seconds per outermost label: what each group of work costs, its parts included."""
        out: collections.defaultdict[str, float] = collections.defaultdict(float)
        for path, seconds in self.seconds.items():
            out[path[0]] += seconds
        return dict(out)

    def within(self, group: str) -> dict[str, float]:
        """Seconds per innermost label of the paths that begin with `group` (the group's own
        time under its own label)."""
        out: collections.defaultdict[str, float] = collections.defaultdict(float)
        for path, seconds in self.seconds.items():
            if path[0] == group:
                out[path[-1]] += seconds
        return dict(out)

    def missing(self) -> list[str]:
        """The parts ("Owner.name") never called, the OPTIONAL_PARTS aside."""
        every = {part_name(owner, name) for _, owner, name in PARTS}
        return sorted(every - OPTIONAL_PARTS - set(self.part_calls))


def part_name(owner: type | ModuleType, name: str) -> str:
    return f"{getattr(owner, '__name__', owner)}.{name}"


def check_parts() -> None:
    """Every part is still where PARTS says (KeyError naming the first that is not)."""
    for _, owner, name in PARTS:
        if name not in vars(owner):
            raise KeyError(f"{part_name(owner, name)}: no such part any more")


def timed(
    fn: Callable[..., Any], label: str, costs: Costs, stack: list[list[Any]], part: str = ""
) -> Any:
    """`fn` timed under `label` into `costs` (`stack`: the timed calls open now; `part`: the
    name its calls are counted under, default `label`)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        costs.part_calls[part or label] += 1
        frame = [label, 0.0]  # the label and the time of the timed calls within
        stack.append(frame)
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - start
            stack.pop()
            path: list[str] = []
            for entry in (*stack, frame):
                if not path or path[-1] != entry[0]:
                    path.append(entry[0])
            costs.seconds[tuple(path)] += elapsed - frame[1]
            costs.calls[tuple(path)] += 1
            if stack:
                stack[-1][1] += elapsed

    return wrapper


@contextlib.contextmanager
def step_costs() -> Iterator[Costs]:
    """Time the PARTS while open (see the module docstring); the originals are put back on
    exit."""
    costs, stack = Costs(), []
    originals: list[tuple[type | ModuleType, str, Any]] = []
    check_parts()
    try:
        for label, owner, name in PARTS:
            original = vars(owner)[name]
            originals.append((owner, name, original))
            setattr(owner, name, timed(original, label, costs, stack, part_name(owner, name)))
        yield costs
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)
