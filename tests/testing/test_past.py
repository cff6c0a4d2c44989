"""The state before a transaction read from its journal (offchain/testing/past.py, issue 75):
a PastMap reads a map as it was before the transaction, whatever the transaction wrote; and
over a walk of the differential fuzz, what the Auditor and the Specification read of the state
before every transaction from its journal, after it, equals what they read before it (the
copies they made before)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import Phase, settings

from offchain.model.errors import Revert
from offchain.model.state import Env, Storage
from offchain.testing.economics.auditor import Auditor
from offchain.testing.economics.base import AuditorBase
from offchain.testing.fuzz import PROFILES, run_machine
from offchain.testing.past import Journal, PastMap
from offchain.testing.specification.base import SpecificationBase
from offchain.testing.specification.core import Specification

EXAMPLES, STEPS = 6, 60


def test_past_map__reads_each_key_as_before_the_transaction():
    """Keys the transaction changed, inserted, wrote twice, and left alone; a reverted one reads
    as it is (undone)."""
    env = Env()
    m = Storage(env, 0)
    dict.__setitem__(m, "a", 1)
    dict.__setitem__(m, "b", 2)

    def tx() -> None:
        m["a"] = 10
        m["a"] = 11
        m["c"] = 3

    env.transact(tx)
    journal = Journal()
    journal.done(env.last_journal)
    past = PastMap(m, journal)
    assert (past["a"], past["b"], past["c"]) == (1, 2, 0)
    assert past.get("c") is None and past.get("c", 5) == 5 and "c" not in past
    assert dict(past.items()) == {"a": 1, "b": 2} and len(past) == 2
    assert list(past) == ["a", "b"] and set(journal.keys(m)) == {"a", "c"}

    def fails() -> None:
        m["b"] = 20
        raise Revert("no")

    with pytest.raises(Revert):
        env.transact(fails)
    journal.done(None)  # a revert: undone, read as it is
    assert dict(PastMap(m, journal).items()) == {"a": 11, "b": 2, "c": 3}


@dataclass
class Compared:
    transactions: int = 0
    holdings_read: int = 0  # actors' holdings read from a journal
    differences: list[str] = field(default_factory=list)


def _plain(value):
    if isinstance(value, PastMap):  # (a copy is a dict: below)
        return dict(value.items())
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def compared(revm) -> Compared:
    """The walk: every transaction's records of the state before, both ways."""
    record = Compared()
    auditor_before, spec_before = AuditorBase.before, SpecificationBase.before
    auditor_after, spec_after, spec_reverted = (
        Auditor.after,
        Specification.after,
        (Specification.reverted),
    )

    def a_before(self, sender, target, function, journal=None):
        snapshot = auditor_before(self, sender, target, function, journal)
        if journal is not None:
            snapshot.eager = auditor_before(self, sender, target, function)  # type: ignore
        return snapshot

    def s_before(self, sender, address, function, args, journal=None):
        pre = spec_before(self, sender, address, function, args, journal)
        if journal is not None:
            pre.eager = spec_before(self, sender, address, function, args)  # type: ignore
        return pre

    def compare_spec(pre) -> None:
        eager = getattr(pre, "eager", None)
        if eager is None:
            return
        record.transactions += 1
        for key, value in eager.state.items():
            lazy = pre.state[key]
            if key == "pool_realized":
                wrong = [s for s, v in value.items() if lazy.get(s) != v]
            else:
                wrong = [] if _plain(lazy) == _plain(value) else [key]
            record.differences += [f"{pre.function}: specification {key} {w}" for w in wrong]

    def a_after(self, before, events):
        eager = getattr(before, "eager", None)
        if eager is not None:
            for name in ("stakers", "charges", "losses"):
                if dict(getattr(before, name)) != getattr(eager, name):
                    record.differences.append(f"{before.function}: auditor {name}")
            for key, owner in eager.auction_owners.items():
                if before.auction_owners.get(key) != owner:
                    record.differences.append(f"{before.function}: auditor owner {key}")
            if before.holdings is None:
                touched = self.touched_actors(before.journal)
                actors = self.actors if touched is None else touched
                was = self.holdings_of(actors, before.prices, before.journal)
                now = self.holdings_of(self.actors, before.prices)
                record.holdings_read += len(actors)
                for a in self.actors:
                    expected = eager.holdings[a]
                    got = was[a] if a in was else now[a]  # untouched: as it is
                    if got != expected:
                        record.differences.append(f"{before.function}: holdings of {a}")
        return auditor_after(self, before, events)

    def s_after(self, pre, events):
        compare_spec(pre)
        return spec_after(self, pre, events)

    def s_reverted(self, pre, reason):
        compare_spec(pre)
        return spec_reverted(self, pre, reason)

    run_settings = settings(
        PROFILES["ci"].settings(examples=EXAMPLES, phases=(Phase.generate,)),
        stateful_step_count=STEPS,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AuditorBase, "before", a_before)
        patch.setattr(SpecificationBase, "before", s_before)
        patch.setattr(Auditor, "after", a_after)
        patch.setattr(Specification, "after", s_after)
        patch.setattr(Specification, "reverted", s_reverted)
        run_machine(revm, "full", run_settings)
    return record


def test_past__the_walks_records_from_the_journal__equal_those_made_before(compared):
    """Every transaction of the walk (reverted ones included): each map, scalar and record the
    Specification and the Auditor read of the state before, read after the transaction from
    its journal, is what they read before it; and the holdings were read from journals."""
    assert compared.transactions > EXAMPLES * STEPS
    assert compared.holdings_read > 0
    assert not compared.differences, "\n".join(compared.differences[:20])
