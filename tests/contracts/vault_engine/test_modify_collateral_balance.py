"""VaultEngine.modify_collateral_balance: a join or an authority credits and debits free collateral
by the exact delta. Helpers: tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

from support.vault_engine import MIN_INT256, NEW_TYPE, free, logged, read, send

from offchain.model.fixed_point import WAD
from offchain.model.state import Event
from offchain.testing.harness import reverts


def test_modify_collateral_balance__join_credits_and_debits_free_collateral(system):
    """Money flow: the borrower joins 3 WETH (the join credits 3 wad, tokens move to the join),
    then exits 1 WETH (the join debits 1 wad and pays the token back)."""
    r = system.roles
    system.fund(r.borrower, "ETH-A", 3 * WAD)
    assert free(system, r.borrower) == 3 * WAD
    assert (
        Event(
            system.d.engine,
            "CollateralModified",
            {"collateral_type": system.eth.type_id, "account": r.borrower, "delta": 3 * WAD},
        )
        in system.events
    )
    system.tx(system.eth.join, "exit", r.borrower, r.borrower, WAD)
    assert free(system, r.borrower) == 2 * WAD
    assert logged(
        system,
        "CollateralModified",
        collateral_type=system.eth.type_id,
        account=r.borrower,
        delta=-WAD,
    )
    assert system.view(system.eth.token, "balanceOf", r.borrower) == WAD


def test_modify_collateral_balance__scaled_for_an_8_decimal_token(system):
    """Money flow: the borrower joins 2 WBTC (2 * 10**8 token units) and is credited 2 wad."""
    r = system.roles
    system.fund(r.borrower, "WBTC-A", 2 * 10**8)
    assert read(system, "collateral", system.btc.type_id, r.borrower) == 2 * WAD


def test_modify_collateral_balance__authority_credits_and_debits_exact_delta(system):
    """Money flow: governance (as a join would) credits 5 wad + 1 to the keeper, then debits
    5 wad. Ledger-only type: no token backs it, which is outside I5's scope."""
    r = system.roles
    send(system, "modify_collateral_balance", r.governance, NEW_TYPE, r.keeper, 5 * WAD + 1)
    assert read(system, "collateral", NEW_TYPE, r.keeper) == 5 * WAD + 1
    assert logged(
        system, "CollateralModified", collateral_type=NEW_TYPE, account=r.keeper, delta=5 * WAD + 1
    )
    send(system, "modify_collateral_balance", r.governance, NEW_TYPE, r.keeper, -5 * WAD)
    assert read(system, "collateral", NEW_TYPE, r.keeper) == 1
    assert logged(
        system, "CollateralModified", collateral_type=NEW_TYPE, account=r.keeper, delta=-5 * WAD
    )


def test_modify_collateral_balance__debit_above_balance__reverts_insufficient_collateral(system):
    r = system.roles
    system.fund(r.borrower, "ETH-A", 3 * WAD)
    with reverts("engine: insufficient collateral"):
        send(
            system,
            "modify_collateral_balance",
            r.governance,
            system.eth.type_id,
            r.borrower,
            -(3 * WAD + 1),
        )
    with reverts("engine: insufficient collateral"):
        system.tx(system.eth.join, "exit", r.borrower, r.borrower, 3 * WAD + 1)
    assert free(system, r.borrower) == 3 * WAD


def test_modify_collateral_balance__most_negative_delta__reverts_arithmetic(system):
    """-(-2**255) does not fit an int256: an arithmetic revert, never a wrapped credit."""
    with reverts(None):
        send(
            system,
            "modify_collateral_balance",
            system.roles.governance,
            NEW_TYPE,
            system.roles.keeper,
            MIN_INT256,
        )
