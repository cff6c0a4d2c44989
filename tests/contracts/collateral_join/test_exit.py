"""CollateralJoin.exit: engine collateral [wad] out as ERC-20 tokens to any recipient, never more
than the caller's free balance, still after shutdown. Helpers: tests/contracts/support/joins.py.
"""

from __future__ import annotations

from support.joins import BTC_SCALE, ONE_BTC, free_collateral, join_holdings, logs

from offchain.model.fixed_point import WAD
from offchain.testing.harness import reverts


def test_exit__to_another_recipient__debits_caller_and_pays_recipient(system):
    """Money flow: borrower's free collateral falls by one token unit (10**10 wad); `other`
    receives the token unit."""
    r, t = system.roles, system.btc
    system.fund(r.borrower, "WBTC-A", ONE_BTC)
    held = join_holdings(system, t)

    system.tx(t.join, "exit", r.borrower, r.other, 1)

    assert free_collateral(system, t, r.borrower) == WAD - BTC_SCALE
    assert free_collateral(system, t, r.other) == 0
    assert system.view(t.token, "balanceOf", r.other) == 1
    assert join_holdings(system, t) == held - 1
    assert logs(system)[-1] == (
        t.join,
        "Exited",
        {"account": r.borrower, "recipient": r.other, "amount": 1},
    )


def test_exit__more_than_free_balance__reverts_insufficient_collateral(system):
    r, t = system.roles, system.btc
    system.fund(r.borrower, "WBTC-A", ONE_BTC)
    with reverts("engine: insufficient collateral"):
        system.tx(t.join, "exit", r.borrower, r.borrower, ONE_BTC + 1)
    assert free_collateral(system, t, r.borrower) == WAD


def test_exit__collateral_locked_in_vault__reverts_insufficient_collateral(system):
    r, t = system.roles, system.btc
    system.open_vault(r.borrower, "WBTC-A", WAD, 1_000 * WAD)
    assert free_collateral(system, t, r.borrower) == 0
    with reverts("engine: insufficient collateral"):
        system.tx(t.join, "exit", r.borrower, r.borrower, 1)


def test_exit__by_stranger_without_balance__reverts_insufficient_collateral(system):
    r, t = system.roles, system.btc
    system.fund(r.borrower, "WBTC-A", ONE_BTC)
    with reverts("engine: insufficient collateral"):
        system.tx(t.join, "exit", r.stranger, r.stranger, 1)


def test_exit__amount_overflowing_wad__reverts_without_reason(system):
    r, t = system.roles, system.btc
    system.fund(r.borrower, "WBTC-A", ONE_BTC)
    with reverts(None):
        system.tx(t.join, "exit", r.borrower, r.borrower, 2**255 // BTC_SCALE + 1)


def test_exit__after_shutdown__still_pays_out(system):
    """Money flow: after shutdown borrower still withdraws all 1 WBTC of free collateral (engine
    balance -1 wad, borrower +10**8 token units)."""
    r, t = system.roles, system.btc
    system.fund(r.borrower, "WBTC-A", ONE_BTC)
    system.tx(t.join, "shutdown", r.governance)

    system.tx(t.join, "exit", r.borrower, r.borrower, ONE_BTC)

    assert free_collateral(system, t, r.borrower) == 0
    assert system.view(t.token, "balanceOf", r.borrower) == ONE_BTC
