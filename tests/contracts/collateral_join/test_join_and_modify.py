"""CollateralJoin.join_and_modify: join and change a vault in one transaction, only for an allowed
join and a safe result. Helpers: tests/contracts/support/joins.py.
"""

from __future__ import annotations

import pytest
from support.joins import ONE_BTC, free_collateral, join_holdings, logs, mint_and_approve

from offchain.model.fixed_point import WAD
from offchain.testing.harness import reverts


def test_join_and_modify__allowed_join__opens_a_vault_in_one_transaction(system):
    """Money flow: borrower pays 2 WBTC; its vault locks all 2 wad and owes 20,000 normalized
    debt; its engine stablecoin rises by 20,000 x rate; nothing stays free; the join holds the
    tokens. The events: the token transfer, Joined, then the engine's credit and the vault's change
    (the engine locks the joined collateral straight in the vault: `join_vault`)."""
    r, t = system.roles, system.btc
    mint_and_approve(system, t, r.borrower, 2 * ONE_BTC)
    system.tx(system.d.engine, "allow", r.borrower, t.join)
    held = join_holdings(system, t)
    rate = system.view(system.d.engine, "collateral_types", t.type_id)[1]

    system.tx(t.join, "join_and_modify", r.borrower, 2 * ONE_BTC, 20_000 * WAD)

    assert system.view(system.d.engine, "vaults", t.type_id, r.borrower) == (2 * WAD, 20_000 * WAD)
    assert free_collateral(system, t, r.borrower) == 0
    assert system.view(system.d.engine, "stable", r.borrower) == 20_000 * WAD * rate
    assert join_holdings(system, t) == held + 2 * ONE_BTC
    assert [(e[0], e[1]) for e in logs(system)] == [
        (t.token, "Approval"),  # snekmate's transferFrom logs the allowance it spends
        (t.token, "Transfer"),
        (t.join, "Joined"),
        (system.d.engine, "CollateralModified"),
        (system.d.engine, "VaultModified"),
    ]
    # an event-built ledger sees the credit and the lock: the free balance nets to 0
    assert logs(system)[-2][2] == {
        "collateral_type": t.type_id,
        "account": r.borrower,
        "delta": 2 * WAD,
    }
    assert logs(system)[-1][2] == {
        "collateral_type": t.type_id,
        "owner": r.borrower,
        "collateral_src": r.borrower,
        "stable_dst": r.borrower,
        "delta_collateral": 2 * WAD,
        "delta_normalized_debt": 20_000 * WAD,
    }


def test_join_and_modify__repay__locks_more_and_repays_from_the_callers_balance(system):
    """Money flow: a vault of 10 ETH and 5,000 debt gets 1 ETH more and repays 1,000 normalized
    debt from its owner's stablecoin, in one transaction."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    mint_and_approve(system, t, r.borrower, WAD)
    system.tx(system.d.engine, "allow", r.borrower, t.join)
    stable = system.view(system.d.engine, "stable", r.borrower)
    rate = system.view(system.d.engine, "collateral_types", t.type_id)[1]

    system.tx(t.join, "join_and_modify", r.borrower, WAD, -1_000 * WAD)

    assert system.view(system.d.engine, "vaults", t.type_id, r.borrower) == (11 * WAD, 4_000 * WAD)
    assert system.view(system.d.engine, "stable", r.borrower) == stable - 1_000 * WAD * rate


@pytest.mark.parametrize(
    "allowed, debt, reason",
    [
        (False, 1_000 * WAD, "engine: owner not allowed"),  # the join is not allowed in the engine
        (True, 10_000 * WAD, "engine: not safe"),  # more debt than 1 ETH carries
    ],
)
def test_join_and_modify__not_allowed_or_unsafe__reverts_and_takes_nothing(
    system, allowed, debt, reason
):
    r, t = system.roles, system.eth
    mint_and_approve(system, t, r.borrower, WAD)
    if allowed:
        system.tx(system.d.engine, "allow", r.borrower, t.join)
    with reverts(reason):
        system.tx(t.join, "join_and_modify", r.borrower, WAD, debt)
    assert system.view(t.token, "balanceOf", r.borrower) == WAD
    assert free_collateral(system, t, r.borrower) == 0


def test_join_and_modify__join_not_allowed__locks_its_own_tokens_but_repays_nothing(system):
    """Locking the caller's own joined tokens in its own vault needs no consent (it only makes
    the vault safer); repaying from its stablecoin balance does, as drawing does (above)."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    mint_and_approve(system, t, r.borrower, 2 * WAD)
    assert not system.view(system.d.engine, "can_act", r.borrower, t.join)

    system.tx(t.join, "join_and_modify", r.borrower, WAD, 0)

    assert system.view(system.d.engine, "vaults", t.type_id, r.borrower) == (11 * WAD, 5_000 * WAD)
    assert free_collateral(system, t, r.borrower) == 0
    with reverts("engine: stable source not allowed"):
        system.tx(t.join, "join_and_modify", r.borrower, WAD, -1_000 * WAD)
    assert system.view(t.token, "balanceOf", r.borrower) == WAD
    assert system.view(system.d.engine, "vaults", t.type_id, r.borrower) == (11 * WAD, 5_000 * WAD)


def test_join_and_modify__after_shutdown__reverts_not_live(system):
    r, t = system.roles, system.eth
    mint_and_approve(system, t, r.borrower, WAD)
    system.tx(system.d.engine, "allow", r.borrower, t.join)
    system.tx(t.join, "shutdown", r.governance)
    with reverts("join: not live"):
        system.tx(t.join, "join_and_modify", r.borrower, WAD, 0)
