"""VaultEngine.init_type, set_global_debt_ceiling and the per-type setters (set_debt_ceiling,
set_dust, set_safe_price). Helpers: tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

import pytest
from support.vault_engine import NEW_TYPE, UNKNOWN_TYPE, ctype, logged, read, send

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.vault_engine import CollateralType
from offchain.testing.harness import reverts

TYPE_SETTERS = [
    ("set_debt_ceiling", "debt_ceiling", "DebtCeilingSet"),
    ("set_dust", "dust", "DustSet"),
    ("set_safe_price", "safe_price", "SafePriceSet"),
]


def test_init_type__new_type_starts_at_rate_one_ray(system):
    r = system.roles
    send(system, "init_type", r.governance, NEW_TYPE)
    assert ctype(system, NEW_TYPE) == CollateralType(
        normalized_debt=0, rate=RAY, safe_price=0, debt_ceiling=0, dust=0
    )
    assert logged(system, "CollateralTypeInitialized", collateral_type=NEW_TYPE)
    # and can be configured from then on
    send(system, "set_debt_ceiling", r.governance, NEW_TYPE, 5 * RAD)
    assert ctype(system, NEW_TYPE).debt_ceiling == 5 * RAD


def test_init_type__twice__reverts_type_exists(system):
    r = system.roles
    send(system, "init_type", r.governance, NEW_TYPE)
    with reverts("engine: type exists"):
        send(system, "init_type", r.governance, NEW_TYPE)


def test_init_type__deployed_type_with_debt__reverts_and_keeps_rate(system):
    """Re-initialising a type with debt would reset its rate to 1 ray and break I3: refused."""
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    before = ctype(system, system.eth.type_id)
    with reverts("engine: type exists"):
        send(system, "init_type", r.governance, system.eth.type_id)
    assert ctype(system, system.eth.type_id) == before


def test_set_global_debt_ceiling__stores_value(system):
    send(system, "set_global_debt_ceiling", system.roles.governance, 123 * RAD + 1)
    assert read(system, "global_debt_ceiling") == 123 * RAD + 1
    assert logged(system, "GlobalDebtCeilingSet", new_value=123 * RAD + 1)


@pytest.mark.parametrize("function,field,event", TYPE_SETTERS, ids=[f for f, _, _ in TYPE_SETTERS])
def test_type_setter__stores_value_of_that_type_only(system, function, field, event):
    tid, btc = system.eth.type_id, system.btc.type_id
    before_eth, before_btc = ctype(system, tid), ctype(system, btc)
    send(system, function, system.roles.governance, tid, 777 * RAY + 3)
    assert ctype(system, tid) == before_eth._replace(**{field: 777 * RAY + 3})
    assert ctype(system, btc) == before_btc
    assert logged(system, event, collateral_type=tid, new_value=777 * RAY + 3)


@pytest.mark.parametrize("function", [f for f, _, _ in TYPE_SETTERS])
def test_type_setter__uninitialized_type__reverts(system, function):
    with reverts("engine: type not initialized"):
        send(system, function, system.roles.governance, UNKNOWN_TYPE, RAD)
    assert ctype(system, UNKNOWN_TYPE) == CollateralType()
