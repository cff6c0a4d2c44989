"""Timelock.propose, execute and cancel: a proposal runs once, all of it or none, from its eta to
eta + grace, and only the calls it was queued with; its own settings change only through the
queue. Each transaction runs on chain and in the twin (offchain/model/timelock.py), whose
outcomes, reasons and events must agree. Helpers: tests/contracts/support/timelock.py.
"""

from __future__ import annotations

import pytest
from support.timelock import DELAY, GRACE, call, calls_hash, deploy, getters, proposal

from offchain.model.fixed_point import RAY
from offchain.model.timelock import CANCELLED, EXECUTED, QUEUED
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts

ZERO = "0x0000000000000000000000000000000000000000"


def _ratio(system) -> int:
    return system.view(system.d.spotter, "liquidation_ratios", system.eth.type_id)


def _raise_ratio(system, value: int = 2 * RAY) -> list[tuple[str, bytes]]:
    return [call(system, system.d.spotter, "set_liquidation_ratio", system.eth.type_id, value)]


def test_deploy__settings_and_events__bounds_refused(system):
    r = system.roles
    timelock = deploy(system, admin_of_spotter=False)
    assert getters(system, timelock) == {
        "proposer": r.governance,
        "guardian": r.keeper,
        "delay": DELAY,
        "grace": GRACE,
        "proposal_count": 0,
    }
    for args, reason in (
        ((ZERO, ZERO, DELAY, GRACE, ZERO), "timelock: bad proposer"),
        ((r.governance, ZERO, 30 * 86_400 + 1, GRACE, ZERO), "timelock: delay above 30 days"),
        ((r.governance, ZERO, DELAY, 3_599, ZERO), "timelock: grace out of range"),
        ((r.governance, ZERO, DELAY, 30 * 86_400 + 1, ZERO), "timelock: grace out of range"),
    ):
        with reverts(reason):
            system.lockstep.deploy("Timelock", r.governance, *args)
    # the bounds themselves are allowed; a delay of 0 (tests only) and no guardian too
    system.lockstep.deploy("Timelock", r.governance, r.governance, ZERO, 0, 3_600, ZERO)
    system.lockstep.deploy(
        "Timelock", r.governance, r.governance, ZERO, 30 * 86_400, 30 * 86_400, ZERO
    )


def test_propose__queues_with_eta_hash_and_one_event_per_call(system):
    r, d = system.roles, system.d
    timelock = deploy(system)
    calls = _raise_ratio(system) + [call(system, d.spotter, "poke", system.eth.type_id)]
    system.tx(timelock, "propose", r.governance, calls)
    eta = system.now + DELAY
    digest = calls_hash(calls)
    assert _events(system) == [
        (timelock, "Queued", {"proposal_id": 1, "eta": eta, "expires": eta + GRACE,
                              "calls_hash": digest}),
        (timelock, "CallQueued", {"proposal_id": 1, "index": 0, "target": d.spotter,
                                  "data": calls[0][1]}),
        (timelock, "CallQueued", {"proposal_id": 1, "index": 1, "target": d.spotter,
                                  "data": calls[1][1]}),
    ]  # fmt: skip
    assert proposal(system, timelock, 1) == (digest, eta, eta + GRACE, QUEUED, False)
    assert getters(system, timelock)["proposal_count"] == 1
    # queueing changes nothing else
    assert _ratio(system) != 2 * RAY


def test_propose__stranger_and_empty_refused(system):
    r = system.roles
    timelock = deploy(system)
    with reverts("timelock: not the proposer"):
        system.tx(timelock, "propose", r.stranger, _raise_ratio(system))
    with reverts("timelock: no calls"):
        system.tx(timelock, "propose", r.governance, [])
    assert getters(system, timelock)["proposal_count"] == 0


def test_execute__not_before_eta__once__not_after_grace(system):
    r = system.roles
    timelock = deploy(system)
    calls = _raise_ratio(system)
    system.tx(timelock, "propose", r.governance, calls)
    eta = proposal(system, timelock, 1)[1]
    system.lockstep.set_next_block_time(eta - 1)
    with reverts("timelock: too early"):
        system.tx(timelock, "execute", r.governance, 1, calls)
    system.lockstep.set_next_block_time(eta)
    with reverts("timelock: not the proposer"):
        system.tx(timelock, "execute", r.stranger, 1, calls)
    system.lockstep.set_next_block_time(eta + 1)
    system.tx(timelock, "execute", r.governance, 1, calls)
    assert _events(system) == [
        (timelock, "Executed", {"proposal_id": 1}),
        (system.d.spotter, "LiquidationRatioSet",
         {"collateral_type": system.eth.type_id, "new_value": 2 * RAY}),
    ]  # fmt: skip
    assert _ratio(system) == 2 * RAY
    assert proposal(system, timelock, 1)[3] == EXECUTED
    with reverts("timelock: not queued"):
        system.tx(timelock, "execute", r.governance, 1, calls)


@pytest.mark.parametrize("late", [0, 1])
def test_execute__at_the_end_of_grace_runs__a_second_later_expired(system, late):
    r = system.roles
    timelock = deploy(system)
    calls = _raise_ratio(system)
    system.tx(timelock, "propose", r.governance, calls)
    eta = proposal(system, timelock, 1)[1]
    system.lockstep.set_next_block_time(eta + GRACE + late)
    if late:
        with reverts("timelock: expired"):
            system.tx(timelock, "execute", r.governance, 1, calls)
        assert proposal(system, timelock, 1)[3] == QUEUED
    else:
        system.tx(timelock, "execute", r.governance, 1, calls)
        assert _ratio(system) == 2 * RAY


def test_execute__only_the_calls_queued(system):
    """Other calls, the same calls in another order, or another proposal's id: refused."""
    r, d = system.roles, system.d
    timelock = deploy(system)
    calls = _raise_ratio(system) + [call(system, d.spotter, "poke", system.eth.type_id)]
    system.tx(timelock, "propose", r.governance, calls)
    system.warp(DELAY)
    for other in (_raise_ratio(system, 3 * RAY) + calls[1:], calls[::-1], calls[:1]):
        with reverts("timelock: other calls"):
            system.tx(timelock, "execute", r.governance, 1, other)
    with reverts("timelock: not queued"):
        system.tx(timelock, "execute", r.governance, 2, calls)
    system.tx(timelock, "execute", r.governance, 1, calls)


@pytest.mark.parametrize("who", ["governance", "keeper"])
def test_cancel__by_the_proposer_or_the_guardian__never_runs(system, who):
    """The guardian (the keeper account here) may cancel too: a proposal a stolen proposer key
    queued need not run."""
    r = system.roles
    timelock = deploy(system)
    calls = _raise_ratio(system)
    system.tx(timelock, "propose", r.governance, calls)
    with reverts("timelock: not the proposer or guardian"):
        system.tx(timelock, "cancel", r.stranger, 1)
    system.tx(timelock, "cancel", getattr(r, who), 1)
    assert _events(system) == [(timelock, "Cancelled", {"proposal_id": 1})]
    assert proposal(system, timelock, 1)[3] == CANCELLED
    system.warp(DELAY)
    with reverts("timelock: not queued"):
        system.tx(timelock, "execute", r.governance, 1, calls)
    with reverts("timelock: not queued"):
        system.tx(timelock, "cancel", r.governance, 1)
    assert _ratio(system) != 2 * RAY


def test_execute__a_failing_call_reverts_all_with_its_reason__proposal_stays_queued(system):
    """The first call applies, the second is refused by the Spotter: nothing applies, the reason
    is the Spotter's, and the proposal can still run... never, as its calls always fail here."""
    r, d = system.roles, system.d
    timelock = deploy(system)
    before = _ratio(system)
    calls = _raise_ratio(system) + _raise_ratio(system, RAY - 1)
    system.tx(timelock, "propose", r.governance, calls)
    system.warp(DELAY)
    with reverts("spotter: ratio below 1"):
        system.tx(timelock, "execute", r.governance, 1, calls)
    assert _ratio(system) == before
    assert proposal(system, timelock, 1)[3] == QUEUED
    # a call the Timelock has no right to make: the callee's authorization reason
    denied = [call(system, d.engine, "set_dust", system.eth.type_id, 0)]
    system.tx(timelock, "propose", r.governance, denied)
    system.warp(DELAY)
    with reverts("authorized: not authorized"):
        system.tx(timelock, "execute", r.governance, 2, denied)


def test_execute__no_code_target_does_nothing__unknown_selector_reverts_without_reason(system):
    r, d = system.roles, system.d
    timelock = deploy(system)
    to_nobody = [(r.stranger, b"\x12\x34\x56\x78")]
    unknown = [(d.spotter, b"\xde\xad\xbe\xef" + bytes(32))]
    short = [(d.spotter, call(system, d.spotter, "poke", system.eth.type_id)[1][:20])]
    for calls in (to_nobody, unknown, short):
        system.tx(timelock, "propose", r.governance, calls)
    system.warp(DELAY)
    system.tx(timelock, "execute", r.governance, 1, to_nobody)
    assert _events(system) == [(timelock, "Executed", {"proposal_id": 1})]
    for proposal_id, calls in ((2, unknown), (3, short)):
        with reverts(None):
            system.tx(timelock, "execute", r.governance, proposal_id, calls)


def test_settings__only_through_the_queue__new_delay_for_later_proposals_only(system):
    r = system.roles
    timelock = deploy(system)
    for fn, arg in (
        ("set_delay", 0),
        ("set_grace", 3_600),
        ("set_proposer", r.stranger),
        ("set_guardian", r.stranger),
    ):
        with reverts("timelock: only through the queue"):
            system.tx(timelock, fn, r.governance, arg)
    shorter = [call(system, timelock, "set_delay", 3_600)]
    system.tx(timelock, "propose", r.governance, shorter)
    system.tx(timelock, "propose", r.governance, _raise_ratio(system))
    eta_before = proposal(system, timelock, 2)[1]
    system.warp(DELAY)
    system.tx(timelock, "execute", r.governance, 1, shorter)
    assert _events(system) == [
        (timelock, "Executed", {"proposal_id": 1}),
        (timelock, "DelaySet", {"delay": 3_600}),
    ]
    # the proposal queued before waits the old delay; one queued now, the new one
    assert proposal(system, timelock, 2)[1] == eta_before
    system.tx(timelock, "propose", r.governance, _raise_ratio(system, 3 * RAY))
    assert proposal(system, timelock, 3)[1] == system.now + 3_600
    # out of range through the queue: the Timelock's own reason
    bad = [call(system, timelock, "set_grace", 60)]
    system.tx(timelock, "propose", r.governance, bad)
    system.warp(3_600)
    with reverts("timelock: grace out of range"):
        system.tx(timelock, "execute", r.governance, 4, bad)
    # handing the proposer's right over: the old key can no longer queue
    hand_over = [call(system, timelock, "set_proposer", r.other)]
    system.tx(timelock, "propose", r.governance, hand_over)
    system.warp(3_600)
    system.tx(timelock, "execute", r.governance, 5, hand_over)
    with reverts("timelock: not the proposer"):
        system.tx(timelock, "propose", r.governance, _raise_ratio(system))
    system.tx(timelock, "propose", r.other, _raise_ratio(system))
    assert getters(system, timelock)["proposer"] == r.other


def test_execute__a_call_back_into_the_timelock_is_not_the_proposer(system):
    """A proposal whose call executes, cancels or queues on the Timelock: the Timelock is neither
    its own proposer nor the guardian, so the inner call is refused and the whole execution with
    it (the inner reason passed on)."""
    r = system.roles
    timelock = deploy(system)
    inner = _raise_ratio(system)
    system.tx(timelock, "propose", r.governance, inner)
    for calls, reason in (
        ([call(system, timelock, "execute", 1, inner)], "timelock: not the proposer"),
        ([call(system, timelock, "cancel", 1)], "timelock: not the proposer or guardian"),
        ([call(system, timelock, "propose", inner)], "timelock: not the proposer"),
    ):
        system.tx(timelock, "propose", r.governance, calls)
        proposal_id = getters(system, timelock)["proposal_count"]
        system.warp(DELAY)
        with reverts(reason):
            system.tx(timelock, "execute", r.governance, proposal_id, calls)
    assert proposal(system, timelock, 1)[3] == QUEUED


def _run(system, timelock, calls, wait=DELAY):
    """Queue `calls`, wait, execute them (raises Revert as the execution does)."""
    gov = system.roles.governance
    system.tx(timelock, "propose", gov, calls)
    proposal_id = getters(system, timelock)["proposal_count"]
    system.warp(wait)
    system.tx(timelock, "execute", gov, proposal_id, calls)


def test_settings__bounds_through_the_queue(system):
    """Through the queue the delay is at least an hour (0 only from the constructor) and at most
    30 days; the Timelock cannot be its own proposer, nor nobody; the guardian may be removed."""
    r = system.roles
    timelock = deploy(system)
    for fn, arg, reason in (
        ("set_delay", 0, "timelock: delay below 1 hour"),
        ("set_delay", 3_599, "timelock: delay below 1 hour"),
        ("set_delay", 30 * 86_400 + 1, "timelock: delay above 30 days"),
        ("set_proposer", timelock, "timelock: bad proposer"),
        ("set_proposer", ZERO, "timelock: bad proposer"),
        ("set_grace", 30 * 86_400 + 1, "timelock: grace out of range"),
    ):
        with reverts(reason):
            _run(system, timelock, [call(system, timelock, fn, arg)])
    _run(system, timelock, [call(system, timelock, "set_guardian", ZERO)])
    assert _events(system)[-1] == (timelock, "GuardianSet", {"guardian": ZERO})
    system.tx(timelock, "propose", r.governance, _raise_ratio(system))
    proposal_id = getters(system, timelock)["proposal_count"]
    with reverts("timelock: not the proposer or guardian"):
        system.tx(timelock, "cancel", r.keeper, proposal_id)


def test_settings__a_grace_change_moves_no_queued_window(system):
    """A proposal that expired stays dead when the grace is raised after it; one queued before a
    shortened grace keeps its longer window."""
    r = system.roles
    timelock = deploy(system, grace=3_600)
    early = _raise_ratio(system)
    system.tx(timelock, "propose", r.governance, early)
    _, eta, expires, _, _ = proposal(system, timelock, 1)
    assert expires == eta + 3_600
    # expired, then the grace raised to 30 days
    _run(system, timelock, [call(system, timelock, "set_grace", 30 * 86_400)], DELAY + 3_600)
    assert system.now > expires
    with reverts("timelock: expired"):
        system.tx(timelock, "execute", r.governance, 1, early)
    # queued under 30 days of grace, then the grace cut to an hour: its window stays
    late = _raise_ratio(system, 3 * RAY)
    system.tx(timelock, "propose", r.governance, late)
    long_window = proposal(system, timelock, 3)[2]
    _run(system, timelock, [call(system, timelock, "set_grace", 3_600)])
    system.lockstep.set_next_block_time(long_window)
    system.tx(timelock, "execute", r.governance, 3, late)
    assert _ratio(system) == 3 * RAY


@pytest.mark.parametrize(("calls", "size", "decodes"), [(32, 1_024, True), (33, 4, False),
                                                       (1, 1_025, False)])  # fmt: skip
def test_propose__at_most_32_calls_of_1024_bytes(system, calls, size, decodes):
    """More calls, or longer calldata, than the contract's arguments hold do not decode: a revert
    without a reason, before the sender is checked (a stranger's alike)."""
    r = system.roles
    timelock = deploy(system)
    batch = [(r.stranger, b"\x01" * size)] * calls
    if decodes:
        system.tx(timelock, "propose", r.governance, batch)
        assert getters(system, timelock)["proposal_count"] == 1
        system.warp(DELAY)
        system.tx(timelock, "execute", r.governance, 1, batch)  # to an address without code
    else:
        for sender in (r.governance, r.stranger):
            with reverts(None):
                system.tx(timelock, "propose", sender, batch)


def test_execute__a_view_call_changes_nothing__a_dynamic_array_argument_decodes(system):
    """A proposal may read (a getter runs and changes nothing, on both sides) and pass a
    DynArray (the Backstop's waterfall, reversed, through the Timelock as its admin)."""
    r, d = system.roles, system.d
    timelock = deploy(system)
    system.tx(d.backstop, "add_authority", r.governance, timelock)
    order = list(system.chain.call(d.backstop, "get_waterfall"))
    calls = [
        call(system, d.spotter, "liquidation_ratios", system.eth.type_id),
        call(system, timelock, "proposal_count"),
        call(system, d.backstop, "set_waterfall", order[::-1]),
    ]
    _run(system, timelock, calls)
    assert [name for _, name, _ in _events(system)] == ["Executed", "WaterfallSet"]
    assert list(system.chain.call(d.backstop, "get_waterfall")) == order[::-1]
