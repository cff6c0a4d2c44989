"""CollateralPool.swap: the constant-product output after fee, in exact rationals, either way; the
product of the reserves never decreases. Formulas and helpers:
tests/contracts/support/pool_and_flash.py.
"""

from __future__ import annotations

import pytest
from support.pool_and_flash import MAX_FEE
from support.pool_and_flash import balance as _balance
from support.pool_and_flash import exact_out as _exact_out
from support.pool_and_flash import new_pool as _new_pool
from support.pool_and_flash import reserves as _reserves
from support.pool_and_flash import seeded_eth_pool as _seeded_eth_pool
from support.pool_and_flash import trader as _trader

from offchain.model.fixed_point import WAD
from offchain.testing.harness import events, read, reverts


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
