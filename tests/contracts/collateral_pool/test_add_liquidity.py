"""CollateralPool.add_liquidity: isqrt(c x s) shares for the first deposit, the smaller pro-rata
share after (the excess is a gift), with slippage and zero checks. Formulas and helpers:
tests/contracts/support/pool_and_flash.py.
"""

from __future__ import annotations

import math

import pytest
from support.pool_and_flash import balance as _balance
from support.pool_and_flash import reserves as _reserves
from support.pool_and_flash import seeded_eth_pool as _seeded_eth_pool
from support.pool_and_flash import trader as _trader

from offchain.model.fixed_point import WAD
from offchain.testing.harness import events, read, reverts


def test_add_liquidity__first_deposit__mints_isqrt_of_the_product(system):
    """Money flow: the provider's 3 ETH and 6,000 BUSD (plus a few units, so no square root is
    exact) move into the pool, which credits isqrt(c x s) shares."""
    r, t = system.roles, system.eth
    c, s = 3 * WAD + 7, 6_000 * WAD + 11
    _trader(system, r.other, t.pool, t.token, c, s)
    shares = math.isqrt(c * s)
    assert shares**2 < c * s < (shares + 1) ** 2
    system.tx(t.pool, "add_liquidity", r.other, c, s, shares)
    assert events(system) == [
        (t.token, "Transfer", {"sender": r.other, "receiver": t.pool, "value": c}),
        (system.d.stablecoin, "Transfer", {"sender": r.other, "receiver": t.pool, "value": s}),
        (
            t.pool,
            "LiquidityAdded",
            {"provider": r.other, "collateral": c, "stable": s, "shares": shares},
        ),
    ]
    assert _reserves(system, t.pool) == (c, s, shares)
    assert read(system, t.pool, "shares", r.other) == shares
    assert _balance(system, t.token, t.pool) == c
    assert _balance(system, system.d.stablecoin, t.pool) == s
    assert _balance(system, t.token, r.other) == _balance(system, system.d.stablecoin, r.other) == 0


def test_add_liquidity__later_deposit__mints_the_smaller_pro_rata_share_and_gifts_the_excess(
    system,
):
    """Money flow: the keeper adds 1 ETH with 4,000 BUSD to a 2,000-BUSD-per-ETH pool: shares
    for 1 ETH only; the extra 2,000 BUSD stay in the pool and go to the providers pro rata."""
    r, t = system.roles, system.eth
    pool = _seeded_eth_pool(system, 10 * WAD, 20_000 * WAD)
    rc, rs, total = _reserves(system, pool)
    _trader(system, r.keeper, pool, t.token, WAD, 4_000 * WAD)
    minted = min(WAD * total // rc, 4_000 * WAD * total // rs)
    assert minted == WAD * total // rc < 4_000 * WAD * total // rs
    system.tx(pool, "add_liquidity", r.keeper, WAD, 4_000 * WAD, minted)
    assert system.events[-1].args == {
        "provider": r.keeper,
        "collateral": WAD,
        "stable": 4_000 * WAD,
        "shares": minted,
    }
    assert _reserves(system, pool) == (rc + WAD, rs + 4_000 * WAD, total + minted)
    assert read(system, pool, "shares", r.keeper) == minted
    # the keeper's shares are worth 1 ETH and ~2,182 BUSD: the excess is shared with the other
    system.tx(pool, "remove_liquidity", r.keeper, minted, 0, 0)
    collateral_out, stable_out = (system.events[-1].args[k] for k in ("collateral", "stable"))
    assert collateral_out == minted * (rc + WAD) // (total + minted) <= WAD
    assert stable_out == minted * (rs + 4_000 * WAD) // (total + minted)
    assert 2_181 * WAD < stable_out < 2_182 * WAD


@pytest.mark.parametrize("amounts", [(0, WAD), (WAD, 0), (0, 0)])
def test_add_liquidity__zero_amount__reverts(system, amounts):
    r, t = system.roles, system.eth
    _trader(system, r.other, t.pool, t.token, WAD, WAD)
    with reverts("pool: zero amount"):
        system.tx(t.pool, "add_liquidity", r.other, *amounts, 0)


def test_add_liquidity__rounding_to_zero_shares__reverts(system):
    """1 wei of BUSD is worth less than a share (~0.02 of one here): nothing to mint."""
    r, t = system.roles, system.eth
    pool = _seeded_eth_pool(system, 3 * WAD, 6_000 * WAD)
    _, rs, total = _reserves(system, pool)
    assert total // rs == 0
    _trader(system, r.keeper, pool, t.token, WAD, 1)
    with reverts("pool: zero shares"):
        system.tx(pool, "add_liquidity", r.keeper, WAD, 1, 0)


def test_add_liquidity__fewer_shares_than_minimum__reverts_slippage(system):
    r, t = system.roles, system.eth
    _trader(system, r.other, t.pool, t.token, 4 * WAD, 9 * WAD)
    with reverts("pool: slippage"):
        system.tx(t.pool, "add_liquidity", r.other, 4 * WAD, 9 * WAD, 6 * WAD + 1)
    system.tx(t.pool, "add_liquidity", r.other, 4 * WAD, 9 * WAD, 6 * WAD)  # isqrt(36) exactly
    assert system.events[-1].args["shares"] == 6 * WAD


def test_add_liquidity__without_allowance__reverts_in_the_token(system):
    r, t = system.roles, system.eth
    system.tx(t.token, "mint", r.governance, r.other, WAD)
    with reverts("erc20: insufficient allowance"):
        system.tx(t.pool, "add_liquidity", r.other, WAD, WAD, 0)
    assert _reserves(system, t.pool) == (0, 0, 0)
