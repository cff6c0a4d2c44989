"""VaultEngine.allow, disallow and can_act: a delegate acts for its owner only while allowed.
Helpers: tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

from support.vault_engine import logged, read, send


def test_allow__delegate_can_act_for_owner_only(system):
    r = system.roles
    send(system, "allow", r.borrower, r.other)
    assert read(system, "delegates", r.borrower, r.other) is True
    assert logged(system, "DelegateAllowed", owner=r.borrower, delegate=r.other)
    assert read(system, "can_act", r.borrower, r.other) is True
    # one way, one owner
    assert read(system, "can_act", r.other, r.borrower) is False
    assert read(system, "can_act", r.keeper, r.other) is False


def test_disallow__delegate_can_no_longer_act(system):
    r = system.roles
    send(system, "allow", r.borrower, r.other)
    send(system, "disallow", r.borrower, r.other)
    assert read(system, "delegates", r.borrower, r.other) is False
    assert logged(system, "DelegateDisallowed", owner=r.borrower, delegate=r.other)
    assert read(system, "can_act", r.borrower, r.other) is False


def test_can_act__owner_always_acts_for_itself_stranger_never(system):
    r = system.roles
    assert read(system, "can_act", r.borrower, r.borrower) is True
    assert read(system, "can_act", r.borrower, r.stranger) is False
    # authority on the engine is not a delegation
    assert read(system, "can_act", r.borrower, r.governance) is False
    assert system.engine().can_act(r.borrower, r.borrower) is True
