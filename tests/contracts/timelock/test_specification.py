"""The queue's specification (offchain/testing/specification/timelock.py) catches what it states:
run on a model Timelock, it passes the twin's honest transactions and names an execution outside
its window, a second execution, an execution after a cancel, a wrong eta, a hash that is not
the listed calls' and a record changed without its event. (The differential tests beside this
file run it on every transaction, against chain and twin.)"""

from __future__ import annotations

from offchain.backends import ModelBackend
from offchain.model.state import Event
from offchain.model.timelock import CANCELLED, EXECUTED
from offchain.testing.specification.timelock import timelock_checks, timelock_state

ZERO = "0x0000000000000000000000000000000000000000"
GOV = "0x00000000000000000000000000000000000000Aa"
TARGET = "0x00000000000000000000000000000000000000Bb"  # no code: its calls do nothing
DELAY, GRACE = 100, 3_600


def _model() -> tuple[ModelBackend, str]:
    model = ModelBackend(1_000, abis={})
    return model, model.deploy("Timelock", GOV, GOV, GOV, DELAY, GRACE, ZERO)


def _run(model, timelock, function, *args):
    """(checks, problems) of one honest transaction of the twin."""
    before = timelock_state(model)
    model.transact(timelock, function, GOV, *args)
    return timelock_checks(model, before, (GOV, timelock, function, args), model.last_events)


CALLS = [(TARGET, b"\x01\x02\x03\x04")]


def test_honest_queue_execute_cancel__no_problem():
    model, timelock = _model()
    checks, problems = _run(model, timelock, "propose", CALLS)
    assert problems == [] and checks >= 3
    assert _run(model, timelock, "propose", CALLS)[1] == []
    assert _run(model, timelock, "cancel", 2)[1] == []
    model.set_next_block_time(model.last_block_time + DELAY)
    assert _run(model, timelock, "execute", 1, CALLS)[1] == []


def _queued(model, timelock):
    model.transact(timelock, "propose", GOV, CALLS)
    return model.contract(timelock).proposals[1]


def test_executed_outside_its_window__named():
    model, timelock = _model()
    digest, eta, expires, _, _ = _queued(model, timelock)
    assert expires == eta + GRACE
    for now in (eta - 1, expires + 1):
        before = timelock_state(model)
        model.env.timestamp = now  # the block the broken execute ran in
        t = model.contract(timelock)
        t.proposals[1] = (digest, eta, expires, EXECUTED, False)  # what a broken execute would do
        events = [Event(timelock, "Executed", {"proposal_id": 1})]
        call = (GOV, timelock, "execute", (1, CALLS))
        problems = timelock_checks(model, before, call, events)[1]
        assert any("its window" in p for p in problems), problems
        t.proposals[1] = (digest, eta, expires, 1, False)


def test_executed_twice_or_after_cancel__named():
    model, timelock = _model()
    digest, eta, expires, _, _ = _queued(model, timelock)
    model.env.timestamp = eta
    t = model.contract(timelock)
    for status in (EXECUTED, CANCELLED):
        t.proposals[1] = (digest, eta, expires, status, False)
        before = timelock_state(model)
        events = [Event(timelock, "Executed", {"proposal_id": 1})]
        t.proposals[1] = (digest, eta, expires, EXECUTED, False)
        call = (GOV, timelock, "execute", (1, CALLS))
        problems = timelock_checks(model, before, call, events)[1]
        assert any(f"with status {status}" in p for p in problems), problems


def test_execute_without_its_event__named():
    """A successful execute that wrote nothing and logged nothing (its calls ran unchecked)."""
    model, timelock = _model()
    _queued(model, timelock)
    model.env.timestamp += DELAY
    before = timelock_state(model)
    problems = timelock_checks(model, before, (GOV, timelock, "execute", (1, CALLS)), [])[1]
    assert any("execute(1)" in p for p in problems), problems


def test_wrong_eta_wrong_hash_and_silent_change__named():
    model, timelock = _model()
    before = timelock_state(model)
    model.transact(timelock, "propose", GOV, CALLS)
    events = list(model.last_events)
    queued = next(e for e in events if e.name == "Queued")
    late = Event(timelock, "Queued", {**queued.args, "eta": queued.args["eta"] + 1})
    other = Event(timelock, "Queued", {**queued.args, "calls_hash": b"\x11" * 32})
    call = (GOV, timelock, "propose", (CALLS,))
    for bad, said in ((late, "window"), (other, "not that of its listed calls")):
        swapped = [bad if e is queued else e for e in events]
        problems = timelock_checks(model, before, call, swapped)[1]
        assert any(said in p for p in problems), problems
    # the record changes with no event at all
    problems = timelock_checks(model, before, call, [])[1]
    assert any("the events say" in p for p in problems), problems
