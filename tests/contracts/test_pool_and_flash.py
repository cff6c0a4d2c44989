"""CollateralPool and FlashTaker: every external function, on chain and in the model at once.

Pool amounts are checked against the constant-product formula in exact rationals (Fraction):
out = floor(reserve_out x a (1 - fee) / (reserve_in + a (1 - fee))), shares = isqrt(c x s) for the
first deposit and the smaller pro-rata share after; the product of the reserves never decreases
through a swap. FlashTaker profits are computed the same way from the pool's reserves and the
auction's price, to the unit.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from eth_abi import encode as abi_encode
from helpers import at, auction_sale, crash, eth_auction, fund_taker, heal, liquidate

from offchain.model.fixed_point import MAX_UINT256, RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.system.deployment import deploy_flash_taker, seed_pool
from offchain.testing.harness import events, read, reverts

ETH, WBTC = "ETH-A", "WBTC-A"
# contracts/CollateralPool.vy: the highest fee [wad]
MAX_FEE = WAD // 10


# ---------------------------------------------------------------- helpers


def _balance(system, token, who) -> int:
    on_chain = system.view(token, "balanceOf", who)
    assert on_chain == system.contract(token).balance_of[who]
    return on_chain


def _reserves(system, pool) -> tuple[int, int, int]:
    """(reserve_collateral, reserve_stable, total_shares), chain == model."""
    return tuple(
        read(system, pool, name)
        for name in ("reserve_collateral", "reserve_stable", "total_shares")
    )


def _exact_out(amount_in, reserve_in, reserve_out, fee) -> int:
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


def _trader(system, who, pool, token, collateral=0, stable=0) -> None:
    """`who` holds `collateral` tokens and `stable` stablecoins and lets `pool` pull both."""
    if collateral:
        system.tx(token, "mint", system.roles.governance, who, collateral)
    if stable:
        _give_stablecoin(system, who, stable)
    system.tx(token, "approve", who, pool, MAX_UINT256)
    system.tx(system.d.stablecoin, "approve", who, pool, MAX_UINT256)


def _seeded_eth_pool(system, collateral=1_000 * WAD, stable=2_000_000 * WAD) -> str:
    """The other account provides `collateral` ETH and `stable` BUSD to the (empty) ETH pool."""
    t, r = system.eth, system.roles
    _trader(system, r.other, t.pool, t.token, collateral, stable)
    system.tx(t.pool, "add_liquidity", r.other, collateral, stable, 0)
    return t.pool


def _new_pool(system, fee) -> str:
    """A CollateralPool for ETH with its own fee, deployed by governance."""
    pool = system.lockstep.deploy(
        "CollateralPool", system.roles.governance, system.eth.token, system.d.stablecoin, fee
    )
    system.extra_holders.append(pool)
    return pool


# ================================================================ CollateralPool


def test_pool_constructor__wires_tokens_and_fee(system):
    t = system.eth
    assert system.view(t.pool, "collateral_token") == t.token
    assert system.view(t.pool, "stable_token") == system.d.stablecoin
    assert system.view(t.pool, "fee") == t.config.pool_fee == 3 * WAD // 1000
    assert _reserves(system, t.pool) == (0, 0, 0)


@pytest.mark.parametrize("fee", [0, MAX_FEE])
def test_pool_constructor__fee_within_bound__deploys(system, fee):
    pool = _new_pool(system, fee)
    assert system.view(pool, "fee") == system.contract(pool).fee == fee


def test_pool_constructor__fee_above_10_percent__reverts(system):
    with reverts("pool: fee above 10%"):
        system.lockstep.deploy(
            "CollateralPool",
            system.roles.governance,
            system.eth.token,
            system.d.stablecoin,
            MAX_FEE + 1,
        )


def test_pool_constructor__same_token_twice__reverts(system):
    with reverts("pool: same token"):
        system.lockstep.deploy(
            "CollateralPool", system.roles.governance, system.eth.token, system.eth.token, 0
        )


# ---------------------------------------------------------------- add_liquidity


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


# ---------------------------------------------------------------- remove_liquidity


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


# ---------------------------------------------------------------- swap and quote


def test_swap__collateral_in__pays_the_constant_product_output_after_fee(system):
    """Money flow: the keeper sells 5 ETH (+ 3 wei) into a 1,000 ETH / 2,000,000 BUSD pool and
    receives floor(2e6 x 5 x 0.997 / (1,000 + 5 x 0.997)) BUSD (~9,920); the fee stays in the
    pool, so the product of the reserves grows."""
    r, t = system.roles, system.eth
    pool = _seeded_eth_pool(system)
    rc, rs, total = _reserves(system, pool)
    amount = 5 * WAD + 3
    _trader(system, r.keeper, pool, t.token, amount)
    out = _exact_out(amount, rc, rs, t.config.pool_fee)
    assert read(system, pool, "quote", True, amount) == out
    assert 9_920 * WAD < out < 9_921 * WAD
    system.tx(pool, "swap", r.keeper, True, amount, out, r.keeper)
    assert events(system) == [
        (t.token, "Transfer", {"sender": r.keeper, "receiver": pool, "value": amount}),
        (system.d.stablecoin, "Transfer", {"sender": pool, "receiver": r.keeper, "value": out}),
        (
            pool,
            "Swapped",
            {
                "trader": r.keeper,
                "recipient": r.keeper,
                "collateral_in": True,
                "amount_in": amount,
                "amount_out": out,
            },
        ),
    ]
    assert _reserves(system, pool) == (rc + amount, rs - out, total)
    assert (rc + amount) * (rs - out) > rc * rs
    assert _balance(system, system.d.stablecoin, r.keeper) == out
    assert _balance(system, t.token, r.keeper) == 0


def test_swap__stable_in__sends_collateral_to_the_recipient(system):
    """Money flow: the keeper pays 10,000 BUSD; the stranger (recipient) receives the ETH."""
    r, t = system.roles, system.eth
    pool = _seeded_eth_pool(system)
    rc, rs, _ = _reserves(system, pool)
    amount = 10_000 * WAD
    _trader(system, r.keeper, pool, t.token, stable=amount)
    out = _exact_out(amount, rs, rc, t.config.pool_fee)
    assert read(system, pool, "quote", False, amount) == out
    system.tx(pool, "swap", r.keeper, False, amount, out, r.stranger)
    assert system.events[-1].args == {
        "trader": r.keeper,
        "recipient": r.stranger,
        "collateral_in": False,
        "amount_in": amount,
        "amount_out": out,
    }
    assert _reserves(system, pool)[:2] == (rc - out, rs + amount)
    assert _balance(system, t.token, r.stranger) == out
    assert _balance(system, t.token, r.keeper) == 0
    assert 4 * WAD < out < 5 * WAD


@pytest.mark.parametrize("fee", ["deployed", 0, MAX_FEE])
def test_swap__any_sequence__never_decreases_the_product_and_a_round_trip_loses(system, fee):
    """Alternating sells of both tokens, large and tiny (where rounding decides): the product of
    the reserves never falls (strictly rises with a fee), each output is the exact formula's, and
    selling the ETH bought back gets less BUSD than was paid."""
    r, t = system.roles, system.eth
    if fee == "deployed":
        pool, fee = _seeded_eth_pool(system, 50 * WAD, 100_000 * WAD), t.config.pool_fee
    else:
        pool = _new_pool(system, fee)
        _trader(system, r.other, pool, t.token, 50 * WAD, 100_000 * WAD)
        system.tx(pool, "add_liquidity", r.other, 50 * WAD, 100_000 * WAD, 0)
    _trader(system, r.keeper, pool, t.token, 100 * WAD, 500_000 * WAD)
    trades = [
        (True, 7 * WAD + 1),
        (False, 3_333 * WAD),
        (True, 2_001),
        (False, 999_999_999),
        (True, 40 * WAD),
        (False, 250_000 * WAD + 17),
        (True, 1),
        (False, 10**15),
    ]
    for collateral_in, amount in trades:
        rc, rs, _ = _reserves(system, pool)
        out = _exact_out(amount, rc if collateral_in else rs, rs if collateral_in else rc, fee)
        if out == 0:
            with reverts("pool: zero output"):
                system.tx(pool, "swap", r.keeper, collateral_in, amount, 0, r.keeper)
            continue
        system.tx(pool, "swap", r.keeper, collateral_in, amount, 0, r.keeper)
        assert system.events[-1].args["amount_out"] == out
        rc2, rs2, _ = _reserves(system, pool)
        assert rc2 * rs2 > rc * rs if fee else rc2 * rs2 >= rc * rs
    # round trip: BUSD -> ETH -> BUSD
    paid = 20_000 * WAD
    system.tx(pool, "swap", r.keeper, False, paid, 0, r.keeper)
    bought = system.events[-1].args["amount_out"]
    system.tx(pool, "swap", r.keeper, True, bought, 0, r.keeper)
    assert system.events[-1].args["amount_out"] < paid


def test_swap__output_below_minimum__reverts_slippage(system):
    r, t = system.roles, system.eth
    pool = _seeded_eth_pool(system)
    _trader(system, r.keeper, pool, t.token, WAD)
    out = read(system, pool, "quote", True, WAD)
    with reverts("pool: slippage"):
        system.tx(pool, "swap", r.keeper, True, WAD, out + 1, r.keeper)
    system.tx(pool, "swap", r.keeper, True, WAD, out, r.keeper)
    assert system.events[-1].args["amount_out"] == out


def test_swap__zero_amount__reverts(system):
    r = system.roles
    pool = _seeded_eth_pool(system)
    with reverts("pool: zero amount"):
        system.tx(pool, "swap", r.keeper, True, 0, 0, r.keeper)


def test_swap__output_rounding_to_zero__reverts_zero_output(system):
    """1 wei of BUSD buys 0.0005 wei of ETH at 2,000 BUSD per ETH: nothing, so nothing is sold."""
    r, t = system.roles, system.eth
    pool = _seeded_eth_pool(system)
    _trader(system, r.keeper, pool, t.token, stable=1)
    assert read(system, pool, "quote", False, 1) == 0
    with reverts("pool: zero output"):
        system.tx(pool, "swap", r.keeper, False, 1, 0, r.keeper)


def test_swap__empty_pool__reverts_no_liquidity(system):
    r, t = system.roles, system.btc
    _trader(system, r.keeper, t.pool, t.token, 10**8)
    with reverts("pool: no liquidity"):
        system.tx(t.pool, "swap", r.keeper, True, 10**8, 0, r.keeper)


# ================================================================ FlashTaker


def _flash_eth(system, depth=2_000_000 * WAD) -> tuple[int, str]:
    """ETH pool seeded with `depth` BUSD a side (by governance, at 2,000), the borrower's vault in
    auction (1,800 start price), and the keeper's FlashTaker."""
    r = system.roles
    seed_pool(system.lockstep, system.d, system.eth, r.governance, depth)
    auction_id = eth_auction(system)
    flash = deploy_flash_taker(system.lockstep, system.d, ETH, r.keeper)
    system.extra_holders.append(flash)
    return auction_id, flash


def _expected_flash(
    system, t, auction_id, max_collateral, price, scale=1
) -> tuple[int, int, int, int]:
    """(collateral, owe, tokens sold, bought) of a flash take at `price`, from the auction's
    docstring and the pool's formula."""
    _, debt, lot, _, _, _ = auction_sale(system, t, auction_id)
    collateral = min(lot, max_collateral)
    owe = collateral * price
    if owe > debt:
        owe = debt
        collateral = owe // price
    tokens = collateral // scale
    rc, rs, _ = _reserves(system, t.pool)
    return collateral, owe, tokens, _exact_out(tokens, rc, rs, t.config.pool_fee)


def test_flash_taker_constructor__allows_auction_and_join_and_approves_pool_and_join(system):
    r, t, d = system.roles, system.eth, system.d
    flash = deploy_flash_taker(system.lockstep, d, ETH, r.keeper)
    system.extra_holders.append(flash)
    assert events(system) == [
        (d.engine, "DelegateAllowed", {"owner": flash, "delegate": t.auction}),
        (d.engine, "DelegateAllowed", {"owner": flash, "delegate": d.stable_join}),
        (t.token, "Approval", {"owner": flash, "spender": t.pool, "value": MAX_UINT256}),
        (
            d.stablecoin,
            "Approval",
            {"owner": flash, "spender": d.stable_join, "value": MAX_UINT256},
        ),
    ]
    assert [
        system.view(flash, name)
        for name in (
            "owner",
            "engine",
            "auction",
            "collateral_join",
            "stable_join",
            "pool",
            "scale",
        )
    ] == [r.keeper, d.engine, t.auction, t.join, d.stable_join, t.pool, 1]
    assert system.contract(flash).owner == r.keeper and system.contract(flash).scale == 1


def test_flash_take__profitable__leaves_profit_in_the_takers_engine_balance(system):
    """Money flow: the FlashTaker receives floor(debt / 1,800) ETH, exits it, sells it into the
    pool at ~2,000, joins the BUSD back, and, the take finishing the auction, the auction collects
    the debt from it straight to the Backstop (nothing escrowed, nothing for the Backstop to pull),
    which holds the seized debt's part as unsettled proceeds (until healed) and keeps the
    penalty; the keeper's FlashTaker keeps bought x
    ray - debt (~1,450 BUSD); the borrower gets the rest of the lot."""
    r, t, d = system.roles, system.eth, system.d
    auction_id, flash = _flash_eth(system)
    _, debt, lot, owner, started, top = auction_sale(system, t, auction_id)
    collateral, owe, tokens, bought = _expected_flash(system, t, auction_id, lot, top)
    profit = bought * RAY - owe
    assert owe == debt and tokens == collateral and 1_400 * RAD < profit < 1_500 * RAD
    rc, rs, total = _reserves(system, t.pool)
    backstop_0 = read(system, d.engine, "stable", d.backstop)
    system.tx(flash, "take", r.keeper, auction_id, lot, top, 0)
    assert system.now - started < 90  # still at the start price
    assert [(e.address, e.name) for e in system.events] == [
        (d.engine, "CollateralTransferred"),  # auction -> FlashTaker
        (d.engine, "CollateralModified"),
        (t.token, "Transfer"),
        (t.join, "Exited"),  # out of the engine
        (t.token, "Transfer"),
        (d.stablecoin, "Transfer"),
        (t.pool, "Swapped"),  # sold into the pool
        (d.engine, "StableTransferred"),
        (d.stablecoin, "Transfer"),
        (d.stable_join, "Joined"),  # BUSD back in
        (flash, "FlashTaken"),
        (d.engine, "StableTransferred"),
        (d.liquidator, "DebtInAuctionRemoved"),  # the Backstop is paid
        (d.engine, "CollateralTransferred"),  # the rest of the lot back to the owner
        (d.backstop, "LossClosed"),  # the event closes, no escrow to pull
        (t.auction, "Finished"),
        (t.auction, "Taken"),
    ]
    args = [e.args for e in system.events]
    assert args[6] == {
        "trader": flash,
        "recipient": flash,
        "collateral_in": True,
        "amount_in": tokens,
        "amount_out": bought,
    }
    assert args[10] == {
        "auction_id": auction_id,
        "collateral": collateral,
        "owe": owe,
        "profit": profit,
    }
    assert args[11] == {"src": flash, "dst": d.backstop, "amount": owe}
    seized = 13_000 * WAD * system.engine().collateral_types[t.type_id].rate  # the vault's debt
    assert (args[14]["raised"], args[14]["covered"], args[14]["loss"]) == (owe, seized, 0)
    assert args[16] == {
        "auction_id": auction_id,
        "max_price": top,
        "price": top,
        "owe": owe,
        "collateral": collateral,
        "debt": 0,
        "lot": lot - collateral,
        "owner": owner,
    }
    assert read(system, d.engine, "stable", flash) == profit
    assert read(system, d.engine, "stable", t.auction) == 0  # never escrowed
    assert read(system, d.engine, "stable", d.backstop) == backstop_0 + owe
    heal(system, seized)
    assert read(system, d.engine, "stable", d.backstop) == backstop_0 + owe - seized  # the penalty
    assert read(system, d.engine, "collateral", t.type_id, flash) == 0
    assert _balance(system, t.token, flash) == _balance(system, d.stablecoin, flash) == 0
    assert _reserves(system, t.pool) == (rc + tokens, rs - bought, total)
    assert read(system, d.engine, "collateral", t.type_id, owner) == lot - collateral
    assert auction_sale(system, t, auction_id)[3] == ZERO_ADDRESS

    # the owner takes the whole BUSD of profit out as ERC-20; the sub-wad remainder stays
    amount = profit // RAY
    system.tx(flash, "withdraw", r.keeper, r.keeper, amount)
    assert events(system) == [
        (
            d.engine,
            "StableTransferred",
            {"src": flash, "dst": d.stable_join, "amount": amount * RAY},
        ),
        (d.stablecoin, "Transfer", {"sender": ZERO_ADDRESS, "receiver": r.keeper, "value": amount}),
        (d.stable_join, "Exited", {"account": flash, "recipient": r.keeper, "amount": amount}),
        (flash, "Withdrawn", {"recipient": r.keeper, "amount": amount}),
    ]
    assert _balance(system, d.stablecoin, r.keeper) == amount
    assert read(system, d.engine, "stable", flash) == profit % RAY
    with reverts("engine: insufficient stable"):
        system.tx(flash, "withdraw", r.keeper, r.keeper, 1)


def test_flash_take__partial__keeps_the_profit_on_the_part_taken(system):
    """Money flow: 2 ETH at 1,800 = 3,600 BUSD owed, sold for ~3,980: ~380 BUSD of profit; the
    auction keeps 8 ETH for sale."""
    r, t, d = system.roles, system.eth, system.d
    auction_id, flash = _flash_eth(system)
    _, debt, lot, owner, started, top = auction_sale(system, t, auction_id)
    collateral, owe, tokens, bought = _expected_flash(system, t, auction_id, 2 * WAD, top)
    assert (collateral, owe) == (2 * WAD, 3_600 * RAD)
    system.tx(flash, "take", r.keeper, auction_id, 2 * WAD, top, 0)
    assert read(system, d.engine, "stable", flash) == bought * RAY - owe
    assert 370 * RAD < bought * RAY - owe < 390 * RAD
    assert auction_sale(system, t, auction_id) == (0, debt - owe, 8 * WAD, owner, started, top)


def test_flash_take__profit_below_minimum__reverts_and_exactly_the_minimum_passes(system):
    r, t = system.roles, system.eth
    auction_id, flash = _flash_eth(system)
    _, _, lot, _, _, top = auction_sale(system, t, auction_id)[:6]
    _, owe, _, bought = _expected_flash(system, t, auction_id, lot, top)
    profit = bought * RAY - owe
    before = _reserves(system, t.pool)
    with reverts("flash: profit below minimum"):
        system.tx(flash, "take", r.keeper, auction_id, lot, top, profit + 1)
    assert _reserves(system, t.pool) == before
    system.tx(flash, "take", r.keeper, auction_id, lot, top, profit)
    assert [e.args["profit"] for e in system.events if e.name == "FlashTaken"] == [profit]


def test_flash_take__pool_too_shallow__reverts_profit_below_minimum_even_at_zero(system):
    """A 5 ETH / 10,000 BUSD pool pays ~6,150 BUSD for ~8.2 ETH, less than the ~14,690 owed:
    the FlashTaker cannot pay, so the whole take reverts."""
    r, t = system.roles, system.eth
    auction_id, flash = _flash_eth(system, depth=10_000 * WAD)
    _, _, lot, _, _, top = auction_sale(system, t, auction_id)[:6]
    _, owe, _, bought = _expected_flash(system, t, auction_id, lot, top)
    assert bought * RAY < owe
    with reverts("flash: profit below minimum"):
        system.tx(flash, "take", r.keeper, auction_id, lot, top, 0)


def test_flash_take__wbtc_collateral_below_one_token_unit__stays_as_free_collateral(system):
    """Money flow: WBTC has 8 decimals: of the floor(debt / 27,000) wad bought (1,000 s into the
    linear auction), only whole satoshis are sold; the last < 1e10 wad stay in the engine as the
    FlashTaker's free collateral; the profit is bought x ray - debt (~1,700 BUSD)."""
    r, t, d = system.roles, system.btc, system.d
    seed_pool(system.lockstep, d, t, r.governance, t.config.pool_depth)
    system.open_vault(r.borrower, WBTC, 1 * WAD, 19_000 * WAD)
    crash(system, t, 25_000 * WAD)
    auction_id = liquidate(system, t, r.borrower)
    flash = deploy_flash_taker(system.lockstep, d, WBTC, r.keeper)
    system.extra_holders.append(flash)
    _, _, lot, _, started, top = auction_sale(system, t, auction_id)
    assert top == 30_000 * RAY and system.view(flash, "scale") == 10**10
    price = 27_000 * RAY  # linear over 10,000 s: 90% of the start after 1,000 s
    collateral, owe, tokens, bought = _expected_flash(
        system, t, auction_id, lot, price, scale=10**10
    )
    assert collateral % 10**10 != 0 and tokens == collateral // 10**10
    at(system, started + 1_000)
    system.tx(flash, "take", r.keeper, auction_id, lot, price, 0)
    profit = bought * RAY - owe
    assert [e.args for e in system.events if e.name == "FlashTaken"] == [
        {"auction_id": auction_id, "collateral": collateral, "owe": owe, "profit": profit}
    ]
    assert read(system, d.engine, "collateral", t.type_id, flash) == collateral % 10**10
    assert read(system, d.engine, "stable", flash) == profit
    assert 1_500 * RAD < profit < 2_000 * RAD


def test_flash_take__by_stranger__reverts_not_the_owner(system):
    r = system.roles
    auction_id, flash = _flash_eth(system)
    with reverts("flash: not the owner"):
        system.tx(flash, "take", r.stranger, auction_id, WAD, 1_800 * RAY, 0)


def test_flash_withdraw__by_stranger__reverts_not_the_owner(system):
    r = system.roles
    _, flash = _flash_eth(system)
    with reverts("flash: not the owner"):
        system.tx(flash, "withdraw", r.stranger, r.stranger, 0)


def test_flash_callback__called_directly_by_stranger__reverts_not_the_auction(system):
    r = system.roles
    auction_id, flash = _flash_eth(system)
    with reverts("flash: not the auction"):
        system.tx(
            flash,
            "on_auction_take",
            r.stranger,
            flash,
            0,
            0,
            abi_encode(["uint256"] * 3, [0, 0, auction_id]),
        )


def test_flash_callback__for_a_take_someone_else_started__reverts_not_started_here(system):
    """A taker names the FlashTaker as recipient with data, to have it sell and pay for them: the
    callback refuses (the collateral would be the FlashTaker's, the payment the taker's)."""
    r, t = system.roles, system.eth
    auction_id, flash = _flash_eth(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    with reverts("flash: not started here"):
        system.tx(
            t.auction,
            "take",
            r.other,
            auction_id,
            WAD,
            1_800 * RAY,
            flash,
            abi_encode(["uint256"] * 3, [0, 0, auction_id]),
        )
