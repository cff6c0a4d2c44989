"""Issue 72's monitor bound in the specification: every queued call that moves value or rights
at its eta is one the notifier's table (offchain/system/privileges.py) flags. The harness runs
the specification on every transaction: with the table right a proposal of a seizure, unbacked
stablecoin, a safe price, a role and a fee recipient passes; with the table's class of one of
them lowered to a parameter (the planted bug `monitor-seize-unflagged`), its propose is a
specification violation."""

from __future__ import annotations

import pytest
from support.timelock import call, deploy

from offchain.system import privileges
from offchain.testing.specification.base import SpecViolation


def _moves(system, timelock):
    r, d, t = system.roles, system.d, system.eth
    return [
        call(system, d.engine, "seize", t.type_id, r.other, r.other, r.other, -1, -1),
        call(system, d.engine, "create_unbacked", r.other, r.other, 10**45),
        call(system, d.engine, "set_safe_price", t.type_id, 0),
        call(system, d.engine, "grant_role", r.other, 1),
        call(system, d.fees, "set_fee_recipient", r.other),
    ]


def test_monitor_bound__a_queued_value_move_the_table_flags__passes(system):
    timelock = deploy(system)
    system.tx(timelock, "propose", system.roles.governance, _moves(system, timelock))


def test_monitor_bound__a_queued_seizure_the_table_calls_a_parameter__refused(system, monkeypatch):
    timelock = deploy(system)
    engine = dict(privileges.TABLE["VaultEngine"], seize=privileges.PARAMETER)
    monkeypatch.setitem(privileges.TABLE, "VaultEngine", engine)
    with pytest.raises(SpecViolation, match="VaultEngine.seize, which moves value or rights"):
        system.tx(timelock, "propose", system.roles.governance, _moves(system, timelock))
