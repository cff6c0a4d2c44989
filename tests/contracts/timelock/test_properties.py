"""Random histories of the queue, on revm and in the twin in lockstep, with the specification on
every transaction (offchain/testing/specification/timelock.py: a proposal runs only inside its
window, at most once, never after a cancel, only with its calls): proposals of one or two
Spotter changes, executions at random times (early, in the window, late), cancels, changes of
the delay and the grace through the queue, and calls with other calls. Every outcome, reason,
event and proposal record agrees, or the test fails."""

from __future__ import annotations

from hypothesis import event, given, settings
from hypothesis import strategies as st
from support.timelock import call, deploy, proposal

from offchain.model.errors import Revert
from offchain.model.fixed_point import RAY
from offchain.model.timelock import CANCELLED, EXECUTED, QUEUED

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("propose"), st.integers(1, 3), st.integers(0, 2)),
        st.tuples(st.just("execute"), st.integers(0, 8), st.booleans()),
        st.tuples(st.just("execute"), st.integers(0, 8), st.just(True)),
        st.tuples(st.just("cancel"), st.integers(0, 8), st.just(0)),
        st.tuples(
            st.just("warp"), st.sampled_from([1, 3_599, 3_600, 86_399, 86_400, 10**6]), st.just(0)
        ),
        st.tuples(st.just("warp"), st.sampled_from([86_400, 2 * 86_400]), st.just(0)),
    ),  # fmt: skip
    min_size=4,
    max_size=30,
)
FIRST = st.lists(st.tuples(st.integers(1, 3), st.integers(0, 2)), min_size=1, max_size=3)


def _calls(system, timelock, kind: int, size: int) -> list[tuple[str, bytes]]:
    """A proposal: Spotter ratio changes (size of them), or a change of the
    Timelock's own delay or grace."""
    t = system.eth.type_id
    if kind == 1:
        return [call(system, system.d.spotter, "set_liquidation_ratio", t, (2 + i) * RAY - i)
                for i in range(max(size, 1))]  # fmt: skip
    if kind == 2:
        return [call(system, timelock, "set_delay", [0, 3_600, 86_400][size])]
    return [call(system, timelock, "set_grace", [3_600, 86_400, 59][size])]


@settings(max_examples=60)
@given(first=FIRST, ops=OPS)
def test_random_histories__chain_twin_and_specification_agree(revm_system, first, ops):
    system = revm_system
    gov = system.roles.governance
    with system.what_if():
        timelock = deploy(system, delay=86_400, grace=86_400)
        queued: dict[int, list] = {}
        executed_at: dict[int, int] = {}
        for op, a, b in [("propose", kind, size) for kind, size in first] + ops:
            if op in ("execute", "cancel") and queued and a:
                a = (a - 1) % len(
                    queued
                ) + 1  # mostly a proposal that exists (0: one that does not)
            try:
                if op == "propose":
                    calls = _calls(system, timelock, a, b)
                    system.tx(timelock, "propose", gov, calls)
                    queued[len(queued) + 1] = calls
                elif op == "execute" and a in queued:
                    calls = queued[a] if b else queued[a][::-1] + _calls(system, timelock, 1, 1)
                    system.tx(timelock, "execute", gov, a, calls)
                    executed_at[a] = system.now
                elif op == "execute":
                    system.tx(timelock, "execute", gov, a, _calls(system, timelock, 1, 1))
                elif op == "cancel":
                    system.tx(timelock, "cancel", gov, a)
                else:
                    system.warp(a)
                if op in ("propose", "execute", "cancel"):
                    event(f"{op}: ran")
            except Revert as exc:
                # chain and twin reverted alike, for a reason the specification holds
                event(f"{op}: {exc.reason}")
        # chain == twin on every record; executed exactly those whose execute went through,
        # each inside its window
        for proposal_id in queued:
            _, eta, expires, status, _ = proposal(system, timelock, proposal_id)
            assert (status == EXECUTED) == (proposal_id in executed_at)
            if status == EXECUTED:
                assert eta <= executed_at[proposal_id] <= expires
            else:
                assert status in (QUEUED, CANCELLED)
