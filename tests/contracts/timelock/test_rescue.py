"""Issue 72: the guardian could cancel every queued proposal, its own removal and the restart of
an auction house it stopped included, so its stop lasted for ever (10 rescue proposals cancelled
over 3.4 days at 29,794 gas each, every `execute` then "timelock: not queued"). A rescue, a
proposal whose every call takes the guardian's power away or undoes a stop (the Timelock's own
`set_guardian`, any contract's `revoke_role(account, EMERGENCY)` or `set_stopped(0)`), cannot
be cancelled by the guardian; the proposer still can, and one other call makes it an ordinary
proposal (a stolen proposer key cannot shelter a change behind a rescue). Chain and twin
compared on every transaction; helpers in tests/contracts/support/timelock.py."""

from __future__ import annotations

from support.timelock import DELAY, call, deploy, proposal

from offchain.model.timelock import CANCELLED, EXECUTED, QUEUED
from offchain.testing.harness import reverts

EMERGENCY = 2**15
ZERO = "0x0000000000000000000000000000000000000000"


def _timelock_admin_of_everything(system) -> str:
    """A Timelock (guardian: the keeper account) made an admin of the oracle, the auction and
    the Spotter, the guardian holding EMERGENCY on the auction and the oracle."""
    r, eth = system.roles, system.eth
    timelock = deploy(system)
    for contract in (eth.auction, eth.oracle):
        system.tx(contract, "add_authority", r.governance, timelock)
        system.tx(contract, "grant_role", r.governance, r.keeper, EMERGENCY)
    return timelock


def test_rescue__the_guardian_cannot_cancel_its_removal_or_a_restart(system):
    """The guardian stops ETH-A's auctions; governance queues the rescues one by one: the
    guardian's cancel of each is refused, and each runs at its eta (the guardian loses its
    role; the Timelock is the guardian no more; the auction house runs again)."""
    r, eth = system.roles, system.eth
    guardian = r.keeper
    timelock = _timelock_admin_of_everything(system)
    system.tx(eth.auction, "set_stopped", guardian, 3)
    rescues = [
        [call(system, eth.auction, "set_stopped", 0)],
        [call(system, eth.auction, "revoke_role", guardian, EMERGENCY)],
        [call(system, eth.oracle, "revoke_role", guardian, EMERGENCY)],
        [call(system, timelock, "set_guardian", ZERO)],
        # several rescue calls together are a rescue too
        [
            call(system, eth.auction, "set_stopped", 0),
            call(system, eth.oracle, "revoke_role", guardian, EMERGENCY),
        ],
    ]
    for calls in rescues:
        system.tx(timelock, "propose", r.governance, calls)
    ids = range(1, len(rescues) + 1)
    for pid in ids:
        assert proposal(system, timelock, pid)[4] is True
        with reverts("timelock: a rescue"):
            system.tx(timelock, "cancel", guardian, pid)
        assert proposal(system, timelock, pid)[3] == QUEUED
    system.warp(DELAY)
    for pid, calls in zip(ids, rescues):
        system.tx(timelock, "execute", r.governance, pid, calls)
        assert proposal(system, timelock, pid)[3] == EXECUTED
    assert system.view(eth.auction, "stopped") == 0
    assert system.view(eth.auction, "roles", guardian) == 0
    assert system.view(eth.oracle, "roles", guardian) == 0
    assert system.view(timelock, "guardian") == ZERO


def test_rescue__the_proposer_cancels_one__the_guardian_an_ordinary_one(system):
    r, eth = system.roles, system.eth
    guardian = r.keeper
    timelock = _timelock_admin_of_everything(system)
    rescue = [call(system, eth.auction, "set_stopped", 0)]
    system.tx(timelock, "propose", r.governance, rescue)
    system.tx(timelock, "cancel", r.governance, 1)
    assert proposal(system, timelock, 1)[3] == CANCELLED
    # a rescue call beside any other call: an ordinary proposal, the guardian cancels it
    sheltered = rescue + [call(system, eth.oracle, "set_max_change", 0)]
    system.tx(timelock, "propose", r.governance, sheltered)
    assert proposal(system, timelock, 2)[4] is False
    system.tx(timelock, "cancel", guardian, 2)
    assert proposal(system, timelock, 2)[3] == CANCELLED


def test_rescue__only_those_exact_calls(system):
    """Not rescues (the guardian cancels them): another role revoked, a stop other than 0, the
    set_guardian of another contract's address (a look-alike), a rescue's calldata with a byte
    more, a grant."""
    r, eth = system.roles, system.eth
    guardian = r.keeper
    timelock = _timelock_admin_of_everything(system)
    padded = call(system, eth.auction, "set_stopped", 0)
    not_rescues = [
        [call(system, eth.auction, "revoke_role", guardian, 2048)],
        [call(system, eth.auction, "set_stopped", 1)],
        [(eth.auction, call(system, timelock, "set_guardian", ZERO)[1])],
        [(padded[0], padded[1] + b"\0")],
        [call(system, eth.auction, "grant_role", guardian, EMERGENCY)],
    ]
    for pid, calls in enumerate(not_rescues, start=1):
        system.tx(timelock, "propose", r.governance, calls)
        assert proposal(system, timelock, pid)[4] is False
        system.tx(timelock, "cancel", guardian, pid)
        assert proposal(system, timelock, pid)[3] == CANCELLED
