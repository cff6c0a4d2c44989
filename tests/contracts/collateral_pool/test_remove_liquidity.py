"""CollateralPool.remove_liquidity: reserves paid pro rata rounded down, with slippage and share
checks. Helpers: tests/contracts/support/pool_and_flash.py.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from support.pool_and_flash import balance as _balance
from support.pool_and_flash import reserves as _reserves
from support.pool_and_flash import seeded_eth_pool as _seeded_eth_pool

from offchain.model.fixed_point import WAD
from offchain.testing.harness import events, read, reverts


def test_remove_liquidity__pays_pro_rata_rounded_down(system):
    """Money flow: a third of the shares takes a third of each reserve, rounded down (the dust
    stays with the pool)."""
    r, t = system.roles, system.eth
    pool = _seeded_eth_pool(system, 10 * WAD + 1, 20_000 * WAD + 2)
    rc, rs, total = _reserves(system, pool)
    burn = total // 3
    collateral_out, stable_out = burn * rc // total, burn * rs // total
    assert Fraction(burn * rc, total) != collateral_out  # really rounds
    system.tx(pool, "remove_liquidity", r.other, burn, collateral_out, stable_out)
    assert events(system) == [
        (t.token, "Transfer", {"sender": pool, "receiver": r.other, "value": collateral_out}),
        (
            system.d.stablecoin,
            "Transfer",
            {"sender": pool, "receiver": r.other, "value": stable_out},
        ),
        (
            pool,
            "LiquidityRemoved",
            {
                "provider": r.other,
                "collateral": collateral_out,
                "stable": stable_out,
                "shares": burn,
            },
        ),
    ]
    assert _reserves(system, pool) == (rc - collateral_out, rs - stable_out, total - burn)
    assert read(system, pool, "shares", r.other) == total - burn
    assert _balance(system, t.token, r.other) == collateral_out
    assert _balance(system, system.d.stablecoin, r.other) == stable_out


def test_remove_liquidity__all_shares__empties_the_pool_and_the_next_deposit_starts_over(system):
    r, t = system.roles, system.eth
    pool = _seeded_eth_pool(system, 3 * WAD, 6_000 * WAD)
    total = _reserves(system, pool)[2]
    system.tx(pool, "remove_liquidity", r.other, total, 3 * WAD, 6_000 * WAD)
    assert _reserves(system, pool) == (0, 0, 0)
    assert _balance(system, t.token, pool) == _balance(system, system.d.stablecoin, pool) == 0
    system.tx(pool, "add_liquidity", r.other, WAD, 4 * WAD, 0)
    assert _reserves(system, pool) == (WAD, 4 * WAD, 2 * WAD)


def test_remove_liquidity__more_than_own_shares__reverts(system):
    r = system.roles
    pool = _seeded_eth_pool(system, 3 * WAD, 6_000 * WAD)
    shares = read(system, pool, "shares", r.other)
    with reverts("pool: insufficient shares"):
        system.tx(pool, "remove_liquidity", r.other, shares + 1, 0, 0)
    with reverts("pool: insufficient shares"):
        system.tx(pool, "remove_liquidity", r.stranger, 1, 0, 0)


@pytest.mark.parametrize("which", ["collateral", "stable"])
def test_remove_liquidity__less_than_minimum__reverts_slippage(system, which):
    r = system.roles
    pool = _seeded_eth_pool(system, 3 * WAD, 6_000 * WAD)
    rc, rs, total = _reserves(system, pool)
    burn = total // 2
    minimums = [burn * rc // total, burn * rs // total]
    raised = list(minimums)
    raised[0 if which == "collateral" else 1] += 1
    with reverts("pool: slippage"):
        system.tx(pool, "remove_liquidity", r.other, burn, *raised)
    system.tx(pool, "remove_liquidity", r.other, burn, *minimums)


def test_remove_liquidity__from_an_empty_pool__reverts_without_reason(system):
    """Nobody has shares and there are none: zero shares of nothing divides by zero."""
    r, t = system.roles, system.btc
    assert _reserves(system, t.pool) == (0, 0, 0)
    with reverts(None):
        system.tx(t.pool, "remove_liquidity", r.stranger, 0, 0, 0)
