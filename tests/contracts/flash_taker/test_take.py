"""FlashTaker.take: the profit, computed to the unit from the pool's reserves and the auction's
price, stays in the taker's engine balance; a profit below the minimum reverts. Helpers:
tests/contracts/support/pool_and_flash.py.
"""

from __future__ import annotations

from helpers import at, auction_sale, crash, heal, liquidate
from support.pool_and_flash import WBTC
from support.pool_and_flash import balance as _balance
from support.pool_and_flash import exact_out as _exact_out
from support.pool_and_flash import flash_eth as _flash_eth
from support.pool_and_flash import reserves as _reserves

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.system.deployment import deploy_flash_taker, seed_pool
from offchain.testing.harness import events, read, reverts


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
