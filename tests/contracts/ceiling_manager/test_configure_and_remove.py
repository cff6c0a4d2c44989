"""CeilingManager.configure and remove: a type is managed once the engine knows it, keeps its window
when configured again, with bounds on max and gap; removing stops managing and leaves the
ceiling. Helpers: tests/contracts/support/fees_and_ceiling.py.
"""

from __future__ import annotations

from support.fees_and_ceiling import ETH_COOLDOWN, ETH_GAP, ETH_MAX, NEW_TYPE
from support.fees_and_ceiling import ceiling_config as _ceiling_config
from support.fees_and_ceiling import collateral_type as _ctype
from support.fees_and_ceiling import open_eth_vault as _open_eth_vault
from support.fees_and_ceiling import set_debt_ceiling as _set_debt_ceiling

from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_configure__new_type__is_managed_once_the_engine_knows_it(system):
    r, ceiling = system.roles, system.d.ceiling
    system.tx(ceiling, "configure", r.governance, NEW_TYPE, 1_000 * RAD, 100 * RAD, 60)
    assert _events(system) == [
        (
            ceiling,
            "TypeConfigured",
            {
                "collateral_type": NEW_TYPE,
                "max_ceiling": 1_000 * RAD,
                "gap": 100 * RAD,
                "cooldown": 60,
            },
        )
    ]
    assert tuple(_ceiling_config(system, NEW_TYPE)) == (1_000 * RAD, 100 * RAD, 60, 0, 0, 0)
    with reverts("engine: type not initialized"):
        system.tx(ceiling, "update", r.keeper, NEW_TYPE)

    system.tx(system.d.engine, "init_type", r.governance, NEW_TYPE)
    system.tx(ceiling, "update", r.keeper, NEW_TYPE)
    assert _ctype(system, NEW_TYPE).debt_ceiling == 100 * RAD  # no debt: the ceiling is the gap
    # the rise opened a window based at the old ceiling (0)
    assert _ceiling_config(system, NEW_TYPE).last_increase == system.now
    assert _ceiling_config(system, NEW_TYPE).window_base == 0


def test_configure__existing_type__keeps_its_window(system):
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    debt = _open_eth_vault(system)
    _set_debt_ceiling(system, tid, 1_000_000 * RAD)
    system.tx(ceiling, "update", r.keeper, tid)
    raised_at = system.now

    system.tx(ceiling, "configure", r.governance, tid, ETH_MAX, 8_000_000 * RAD, ETH_COOLDOWN)
    config = tuple(_ceiling_config(system, tid))
    assert config == (
        ETH_MAX,
        8_000_000 * RAD,
        ETH_COOLDOWN,
        raised_at,
        1_000_000 * RAD,
        debt + ETH_GAP,
    )
    # the wider gap asks for a rise within the same window: up to its base + the new gap
    system.tx(ceiling, "update", r.keeper, tid)
    assert _ctype(system, tid).debt_ceiling == debt + 8_000_000 * RAD
    assert _ceiling_config(system, tid).last_increase == raised_at


def test_configure__gap_equal_to_max__accepted(system):
    r, tid = system.roles, system.eth.type_id
    system.tx(system.d.ceiling, "configure", r.governance, tid, 7 * RAD, 7 * RAD, 0)
    assert tuple(_ceiling_config(system, tid))[:3] == (7 * RAD, 7 * RAD, 0)


def test_configure__zero_max__reverts(system):
    with reverts("ceiling: zero max"):
        system.tx(
            system.d.ceiling, "configure", system.roles.governance, system.eth.type_id, 0, 0, 0
        )


def test_configure__zero_gap__reverts(system):
    with reverts("ceiling: zero gap"):
        system.tx(
            system.d.ceiling,
            "configure",
            system.roles.governance,
            system.eth.type_id,
            ETH_MAX,
            0,
            0,
        )


def test_configure__gap_above_max__reverts(system):
    with reverts("ceiling: gap above max"):
        system.tx(
            system.d.ceiling,
            "configure",
            system.roles.governance,
            system.eth.type_id,
            ETH_MAX,
            ETH_MAX + 1,
            0,
        )


def test_remove__stops_managing_and_leaves_the_ceiling(system):
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    ceiling_before = _ctype(system, tid).debt_ceiling
    system.tx(ceiling, "remove", r.governance, tid)
    assert _events(system) == [(ceiling, "TypeRemoved", {"collateral_type": tid})]
    assert tuple(_ceiling_config(system, tid)) == (0, 0, 0, 0, 0, 0)
    assert _ctype(system, tid).debt_ceiling == ceiling_before == system.eth.config.debt_ceiling
    with reverts("ceiling: type not managed"):
        system.tx(ceiling, "update", r.keeper, tid)


def test_remove__unmanaged_type__reverts(system):
    with reverts("ceiling: type not managed"):
        system.tx(system.d.ceiling, "remove", system.roles.governance, NEW_TYPE)
