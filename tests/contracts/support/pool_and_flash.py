"""CollateralPool and FlashTaker tests' readers, exact amounts and steps
(tests/contracts/collateral_pool/, flash_taker/).

Pool amounts are checked against the constant-product formula in exact rationals (Fraction):
out = floor(reserve_out x a (1 - fee) / (reserve_in + a (1 - fee))), shares = isqrt(c x s) for the
first deposit and the smaller pro-rata share after; the product of the reserves never decreases
through a swap. FlashTaker profits are computed the same way from the pool's reserves and the
auction's price, to the unit.
"""

from __future__ import annotations

import math
from fractions import Fraction

from helpers import eth_auction

from offchain.model.fixed_point import MAX_UINT256, RAY, WAD
from offchain.system.deployment import deploy_flash_taker, seed_pool
from offchain.testing.harness import read

ETH, WBTC = "ETH-A", "WBTC-A"
# contracts/CollateralPool.vy: the highest fee [wad]
MAX_FEE = WAD // 10


def balance(system, token, who) -> int:
    on_chain = system.view(token, "balanceOf", who)
    assert on_chain == system.contract(token).balance_of[who]
    return on_chain


def reserves(system, pool) -> tuple[int, int, int]:
    """(reserve_collateral, reserve_stable, total_shares), chain == model."""
    return tuple(
        read(system, pool, name)
        for name in ("reserve_collateral", "reserve_stable", "total_shares")
    )


def exact_out(amount_in, reserve_in, reserve_out, fee) -> int:
    """The constant-product output after the fee on the input, rounded down (exact rationals)."""
    after_fee = amount_in * (1 - Fraction(fee, WAD))
    return math.floor(reserve_out * after_fee / (reserve_in + after_fee))


def _give_stablecoin(system, who, amount) -> None:
    """`who` gets `amount` [wad] of ERC-20 stablecoin: governance mints unbacked internal
    stablecoin to it (governance's bad debt), which it takes out through the StableJoin."""
    r, d = system.roles, system.d
    system.tx(d.engine, "create_unbacked", r.governance, r.governance, who, amount * RAY)
    system.tx(d.engine, "allow", who, d.stable_join)
    system.tx(d.stable_join, "exit", who, who, amount)


def trader(system, who, pool, token, collateral=0, stable=0) -> None:
    """`who` holds `collateral` tokens and `stable` stablecoins and lets `pool` pull both."""
    if collateral:
        system.tx(token, "mint", system.roles.governance, who, collateral)
    if stable:
        _give_stablecoin(system, who, stable)
    system.tx(token, "approve", who, pool, MAX_UINT256)
    system.tx(system.d.stablecoin, "approve", who, pool, MAX_UINT256)


def seeded_eth_pool(system, collateral=1_000 * WAD, stable=2_000_000 * WAD) -> str:
    """The other account provides `collateral` ETH and `stable` BUSD to the (empty) ETH pool."""
    t, r = system.eth, system.roles
    trader(system, r.other, t.pool, t.token, collateral, stable)
    system.tx(t.pool, "add_liquidity", r.other, collateral, stable, 0)
    return t.pool


def new_pool(system, fee) -> str:
    """A CollateralPool for ETH with its own fee, deployed by governance."""
    pool = system.lockstep.deploy(
        "CollateralPool", system.roles.governance, system.eth.token, system.d.stablecoin, fee
    )
    system.extra_holders.append(pool)
    return pool


def flash_eth(system, depth=2_000_000 * WAD) -> tuple[int, str]:
    """ETH pool seeded with `depth` BUSD a side (by governance, at 2,000), the borrower's vault in
    auction (1,800 start price), and the keeper's FlashTaker."""
    r = system.roles
    seed_pool(system.lockstep, system.d, system.eth, r.governance, depth)
    auction_id = eth_auction(system)
    flash = deploy_flash_taker(system.lockstep, system.d, ETH, r.keeper)
    system.extra_holders.append(flash)
    return auction_id, flash
