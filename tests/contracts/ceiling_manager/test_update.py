"""CeilingManager.update: a rise moves the ceiling to debt plus gap, capped at max and within a
window at its base plus gap; a fall applies at once. Helpers:
tests/contracts/support/fees_and_ceiling.py.
"""

from __future__ import annotations

from support.fees_and_ceiling import ETH_COOLDOWN, ETH_GAP, ETH_MAX, NEW_TYPE
from support.fees_and_ceiling import ceiling_config as _ceiling_config
from support.fees_and_ceiling import collateral_type as _ctype
from support.fees_and_ceiling import open_eth_vault as _open_eth_vault
from support.fees_and_ceiling import set_debt_ceiling as _set_debt_ceiling

from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_update__rise__moves_ceiling_to_debt_plus_gap(system):
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    debt = _open_eth_vault(system)
    _set_debt_ceiling(system, tid, 1_000_000 * RAD)
    system.tx(ceiling, "update", r.keeper, tid)
    assert debt + ETH_GAP < ETH_MAX
    assert _ctype(system, tid).debt_ceiling == debt + ETH_GAP
    assert _events(system) == [
        (system.d.engine, "DebtCeilingSet", {"collateral_type": tid, "new_value": debt + ETH_GAP}),
        (
            ceiling,
            "CeilingUpdated",
            {"collateral_type": tid, "old_ceiling": 1_000_000 * RAD, "new_ceiling": debt + ETH_GAP},
        ),
    ]
    assert _ceiling_config(system, tid).last_increase == system.now


def test_update__rise__is_capped_at_max_ceiling(system):
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    debt = _open_eth_vault(system)
    system.tx(
        ceiling, "configure", r.governance, tid, 5_000_000 * RAD, 5_000_000 * RAD, ETH_COOLDOWN
    )
    _set_debt_ceiling(system, tid, 1_000_000 * RAD)
    system.tx(ceiling, "update", r.keeper, tid)
    assert debt + 5_000_000 * RAD > 5_000_000 * RAD
    assert _ctype(system, tid).debt_ceiling == 5_000_000 * RAD
    assert system.events[-1].args["new_ceiling"] == 5_000_000 * RAD


def test_update__fall__applies_at_once_without_a_cooldown(system):
    """The deployed ETH-A ceiling (20M) is above debt + gap (5M, no debt): it falls at the first
    update, called by a stranger (update is permissionless)."""
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    assert _ctype(system, tid).normalized_debt == 0
    system.tx(ceiling, "update", r.stranger, tid)
    assert _ctype(system, tid).debt_ceiling == ETH_GAP
    assert _events(system)[-1] == (
        ceiling,
        "CeilingUpdated",
        {"collateral_type": tid, "old_ceiling": 20_000_000 * RAD, "new_ceiling": ETH_GAP},
    )
    assert _ceiling_config(system, tid).last_increase == 0  # a fall is not an increase


def test_update__fall_within_cooldown_of_a_rise__applies_at_once(system):
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    debt = _open_eth_vault(system)
    _set_debt_ceiling(system, tid, 1_000_000 * RAD)
    system.tx(ceiling, "update", r.keeper, tid)
    raised_at = system.now

    _set_debt_ceiling(system, tid, ETH_MAX)
    system.tx(ceiling, "update", r.keeper, tid)
    assert system.now < raised_at + ETH_COOLDOWN
    assert _ctype(system, tid).debt_ceiling == debt + ETH_GAP
    assert _events(system)[-1] == (
        ceiling,
        "CeilingUpdated",
        {"collateral_type": tid, "old_ceiling": ETH_MAX, "new_ceiling": debt + ETH_GAP},
    )
    assert _ceiling_config(system, tid).last_increase == raised_at


def test_update__rise_within_a_window__is_capped_at_its_base_plus_gap_until_it_ends(system):
    """A window opens with the first rise, based at the ceiling then; within it the ceiling
    rises (any number of times) to at most base + gap; the next rise after it ends opens a new
    window at the ceiling of that moment."""
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    debt = _open_eth_vault(system)
    # governance puts the ceiling below the debt: the next rise's window is based there
    _set_debt_ceiling(system, tid, 1_000 * RAD)
    system.tx(ceiling, "update", r.keeper, tid)
    opened_at = system.now
    assert _ceiling_config(system, tid).window_base == 1_000 * RAD
    assert _ctype(system, tid).debt_ceiling == 1_000 * RAD + ETH_GAP  # < debt + gap
    assert _events(system)[-1] == (
        ceiling,
        "CeilingUpdated",
        {"collateral_type": tid, "old_ceiling": 1_000 * RAD, "new_ceiling": 1_000 * RAD + ETH_GAP},
    )

    # the last second of the window: the cap holds, nothing happens
    system.warp(opened_at + ETH_COOLDOWN - 1 - system.now)
    system.tx(ceiling, "update", r.keeper, tid)
    assert system.now == opened_at + ETH_COOLDOWN - 1
    assert _events(system) == []
    assert _ctype(system, tid).debt_ceiling == 1_000 * RAD + ETH_GAP
    assert _ceiling_config(system, tid).last_increase == opened_at

    # the window has ended: a new one opens at the current ceiling and the rise goes through
    system.tx(ceiling, "update", r.keeper, tid)
    assert system.now == opened_at + ETH_COOLDOWN
    assert _ctype(system, tid).debt_ceiling == debt + ETH_GAP
    assert _events(system)[-1] == (
        ceiling,
        "CeilingUpdated",
        {
            "collateral_type": tid,
            "old_ceiling": 1_000 * RAD + ETH_GAP,
            "new_ceiling": debt + ETH_GAP,
        },
    )
    assert tuple(_ceiling_config(system, tid))[3:] == (
        system.now,
        1_000 * RAD + ETH_GAP,
        debt + ETH_GAP,
    )


def test_update__several_rises_within_a_window__follow_the_debt(system):
    """Within a window the ceiling follows debt + gap up as often as asked (not once per
    cooldown), as long as it stays within base + gap."""
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    _set_debt_ceiling(system, tid, 20_000 * RAD)
    system.tx(ceiling, "configure", r.governance, tid, ETH_MAX, 10_000 * RAD, ETH_COOLDOWN)
    system.tx(ceiling, "update", r.keeper, tid)  # no debt: falls to the gap at once
    assert _ctype(system, tid).debt_ceiling == 10_000 * RAD
    debt = _open_eth_vault(system, 5_000 * WAD)
    system.tx(ceiling, "update", r.keeper, tid)  # opens a window based at 10,000
    assert _ctype(system, tid).debt_ceiling == debt + 10_000 * RAD
    system.tx(
        system.d.engine,
        "modify_vault",
        r.borrower,
        tid,
        r.borrower,
        r.borrower,
        r.borrower,
        0,
        2_000 * WAD,
    )
    system.tx(ceiling, "update", r.keeper, tid)  # within the window: follows the debt
    assert (
        _ctype(system, tid).debt_ceiling
        == _ctype(system, tid).normalized_debt * (_ctype(system, tid).rate) + 10_000 * RAD
    )
    system.tx(
        system.d.engine,
        "modify_vault",
        r.borrower,
        tid,
        r.borrower,
        r.borrower,
        r.borrower,
        0,
        4_000 * WAD,
    )
    system.tx(ceiling, "update", r.keeper, tid)  # and up to the window's base + gap
    assert _ctype(system, tid).debt_ceiling == 20_000 * RAD
    assert _ceiling_config(system, tid).window_base == 10_000 * RAD


def test_update__at_target__does_nothing(system):
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    system.tx(ceiling, "update", r.keeper, tid)  # falls to the gap
    system.warp(ETH_COOLDOWN)
    system.tx(ceiling, "update", r.keeper, tid)
    assert _events(system) == []
    assert _ctype(system, tid).debt_ceiling == ETH_GAP
    assert _ceiling_config(system, tid).last_increase == 0


def test_update__follows_debt_drawn_after_a_rise(system):
    """Money flow: the borrower draws more stable; after the cooldown the ceiling follows the new
    debt (the engine's I3 debt: normalized debt times rate)."""
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    _open_eth_vault(system)
    _set_debt_ceiling(system, tid, 1_000_000 * RAD)
    system.tx(ceiling, "update", r.keeper, tid)
    system.tx(
        system.d.engine,
        "modify_vault",
        r.borrower,
        tid,
        r.borrower,
        r.borrower,
        r.borrower,
        0,
        1_000 * WAD,
    )
    ctype = _ctype(system, tid)
    assert ctype.normalized_debt == 6_000 * WAD
    system.warp(ETH_COOLDOWN)
    system.tx(ceiling, "update", r.keeper, tid)
    assert _ctype(system, tid).debt_ceiling == ctype.normalized_debt * ctype.rate + ETH_GAP


def test_update__unmanaged_type__reverts(system):
    with reverts("ceiling: type not managed"):
        system.tx(system.d.ceiling, "update", system.roles.keeper, NEW_TYPE)
