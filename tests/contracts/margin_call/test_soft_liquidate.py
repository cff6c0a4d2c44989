"""MarginCall.soft_liquidate: a called vault's debt repaid in part by anyone, for its collateral
at the bonus; every refusal named. Helpers: tests/contracts/support/margin_call.py.
"""

from __future__ import annotations

import pytest
from support.margin_call import (
    BONUS,
    CLOSE_FACTOR,
    DUST,
    ETH_PRICE,
    WARNING,
    called,
    called_vault,
    collateral_out,
    rate,
    safe_price_at,
    stable_for,
    vault,
)
from support.prices import DELAY, make_stale

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events, read, reverts


def soft(system, caller, owner, normalized, min_collateral=0, t=None):
    t = t or system.eth
    system.tx(
        system.d.margin_call, "soft_liquidate", caller, t.type_id, owner, normalized, min_collateral
    )


def test_soft_liquidate__called_vault__caller_pays_debt_gets_collateral_at_bonus(system):
    """Money flow: the keeper pays 6,000 BUSD (half the vault's debt) from its internal balance
    and receives floor(6,000 x 1.02 / 2,000) = 3.06 ETH of the vault's collateral; the vault
    keeps 6.94 ETH against 6,000 BUSD, above its warning level. Total issued falls by the
    repaid debt (I1, I3 hold); the MarginCall holds nothing."""
    r, t, e, m = system.roles, system.eth, system.d.engine, system.d.margin_call
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    rt = rate(system, t)
    spot = safe_price_at(ETH_PRICE)
    assert called(10 * WAD, 12_000 * WAD * rt, spot)
    assert read(system, m, "is_called", t.type_id, r.borrower) is True
    repay = 6_000 * WAD
    assert read(system, m, "max_repay", t.type_id, r.borrower) == repay
    issued = read(system, e, "total_issued")
    keeper_stable = read(system, e, "stable", r.keeper)
    expected = collateral_out(repay * rt, ETH_PRICE)
    # about 3.06 ETH (the rate has grown a little since the deployment)
    assert abs(expected - 306 * WAD // 100) < WAD // 10**6

    soft(system, r.keeper, r.borrower, repay, expected)

    assert vault(system, t, r.borrower) == (10 * WAD - expected, 6_000 * WAD)
    assert read(system, e, "stable", r.keeper) == keeper_stable - repay * rt
    assert read(system, e, "collateral", t.type_id, r.keeper) == expected
    assert read(system, e, "total_issued") == issued - repay * rt
    assert read(system, e, "stable", m) == 0
    assert read(system, m, "is_called", t.type_id, r.borrower) is False
    assert not called(10 * WAD - expected, 6_000 * WAD * rt, spot)
    assert events(system) == [
        (
            e,
            "VaultModified",
            {
                "collateral_type": t.type_id,
                "owner": r.borrower,
                "collateral_src": r.keeper,
                "stable_dst": r.keeper,
                "delta_collateral": -expected,
                "delta_normalized_debt": -repay,
            },
        ),
        (
            m,
            "SoftLiquidated",
            {
                "collateral_type": t.type_id,
                "owner": r.borrower,
                "caller": r.keeper,
                "normalized_debt": repay,
                "debt": repay * rt,
                "collateral": expected,
                "price": ETH_PRICE,
                "bonus_value": expected * ETH_PRICE * 10**9 - repay * rt,
            },
        ),
    ]
    # the bonus is 2% of the debt repaid, less what the collateral's rounding down keeps for
    # the owner (under one wei of collateral at the price)
    bonus_value = expected * ETH_PRICE * 10**9 - repay * rt
    assert 0 <= repay * rt * BONUS // WAD - bonus_value < ETH_PRICE * 10**9


def test_soft_liquidate__second_call_on_the_cured_vault__reverts_not_called(system):
    r = system.roles
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 9_000 * WAD)
    soft(system, r.keeper, r.borrower, 6_000 * WAD)
    with reverts("margin: not called"):
        soft(system, r.keeper, r.borrower, 1)


def test_soft_liquidate__healthy_vault__reverts_not_called(system):
    r = system.roles
    # 20,000 / 10,000 = 2.0, above 1.8
    called_vault(system, r.borrower, 10 * WAD, 10_000 * WAD)
    stable_for(system, r.keeper, 7_000 * WAD)
    with reverts("margin: not called"):
        soft(system, r.keeper, r.borrower, 4_000 * WAD)


def test_soft_liquidate__unsafe_vault__reverts_not_called(system):
    """An unsafe vault is the Liquidator's: it is not called."""
    r, t = system.roles, system.eth
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    # governance lowers the safe price's ratio the other way: the Spotter's ratio to 2.5 makes
    # 20,000 / 12,000 = 1.67 unsafe at the oracle price
    system.tx(system.d.spotter, "set_liquidation_ratio", r.governance, t.type_id, 25 * RAY // 10)
    with reverts("margin: not called"):
        soft(system, r.keeper, r.borrower, 6_000 * WAD)


def test_soft_liquidate__owner_not_opted_in__reverts(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 12_000 * WAD)
    system.tx(system.d.engine, "allow", r.borrower, system.d.margin_call)
    stable_for(system, r.keeper, 7_000 * WAD)
    with reverts("margin: owner not opted in"):
        soft(system, r.keeper, r.borrower, 6_000 * WAD)


def test_soft_liquidate__opted_out__reverts_at_once(system):
    r = system.roles
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    system.tx(system.d.margin_call, "opt_out", r.borrower)
    with reverts("margin: owner not opted in"):
        soft(system, r.keeper, r.borrower, 6_000 * WAD)


def test_soft_liquidate__opted_in_without_engine_allowance__reverts_owner_not_allowed(system):
    """Both consents are needed: the flag here and the engine's delegation."""
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 12_000 * WAD)
    system.tx(system.d.margin_call, "opt_in", r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    assert (
        read(system, system.d.margin_call, "can_soft_liquidate", system.eth.type_id, r.borrower)
        is False
    )
    with reverts("engine: owner not allowed"):
        soft(system, r.keeper, r.borrower, 6_000 * WAD)


def test_soft_liquidate__caller_without_engine_allowance__reverts_stable_source(system):
    r = system.roles
    called_vault(system, r.borrower)
    system.open_vault(r.keeper, "WBTC-A", 10 * WAD, 7_000 * WAD)
    with reverts("engine: stable source not allowed"):
        soft(system, r.keeper, r.borrower, 6_000 * WAD)


def test_soft_liquidate__caller_without_stablecoin__reverts_insufficient_stable(system):
    r = system.roles
    called_vault(system, r.borrower)
    system.tx(system.d.engine, "allow", r.keeper, system.d.margin_call)
    with reverts("engine: insufficient stable"):
        soft(system, r.keeper, r.borrower, 6_000 * WAD)


def test_soft_liquidate__zero__reverts(system):
    r = system.roles
    called_vault(system, r.borrower)
    with reverts("margin: zero repay"):
        soft(system, r.keeper, r.borrower, 0)


def test_soft_liquidate__one_wei_above_the_close_factor__reverts(system):
    r = system.roles
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    limit = 12_000 * WAD * CLOSE_FACTOR // WAD
    with reverts("margin: above close factor"):
        soft(system, r.keeper, r.borrower, limit + 1)


def test_soft_liquidate__too_little_to_cure__reverts_still_called(system):
    """Repeated tiny calls are refused: each call must lift the vault above its warning level.
    One wei of normalized debt buys no collateral at all: refused before that ("no collateral":
    such a repayment frees nothing, so the engine would never ask the owner's allowance)."""
    r = system.roles
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    with reverts("margin: no collateral"):
        soft(system, r.keeper, r.borrower, 1)
    with reverts("margin: still called"):
        soft(system, r.keeper, r.borrower, 10**6)
    with reverts("margin: still called"):
        soft(system, r.keeper, r.borrower, 1_000 * WAD)


def test_soft_liquidate__below_the_callers_minimum__reverts(system):
    r = system.roles
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    with reverts("margin: collateral below minimum"):
        expected = collateral_out(6_000 * WAD * rate(system, system.eth), ETH_PRICE)
        soft(system, r.keeper, r.borrower, 6_000 * WAD, expected + 1)


def test_soft_liquidate__remainder_below_dust__reverts_engine_dust(system):
    """4,000 BUSD of debt at 1.67: repaying 2,000 cures it but leaves 2,000 < dust 2,500."""
    r = system.roles
    called_vault(system, r.borrower, 10 * WAD // 3, 4_000 * WAD)
    stable_for(system, r.keeper, 3_000 * WAD)
    assert 2_000 * RAD < DUST
    with reverts("engine: dust"):
        soft(system, r.keeper, r.borrower, 2_000 * WAD)


def test_soft_liquidate__stale_price__reverts_invalid_price(system):
    r = system.roles
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    make_stale(system, system.eth)
    with reverts("margin: invalid price"):
        soft(system, r.keeper, r.borrower, 6_000 * WAD)


def test_soft_liquidate__type_without_margin_calls__reverts(system):
    r, t = system.roles, system.eth
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    system.tx(system.d.margin_call, "remove", r.governance, t.type_id)
    with reverts("margin: type not configured"):
        soft(system, r.keeper, r.borrower, 6_000 * WAD)
    assert read(system, system.d.margin_call, "is_called", t.type_id, r.borrower) is False


def test_soft_liquidate__rise_queued_in_the_oracle__priced_at_the_queued_price(system):
    """The delayed oracle's option closed: with 2,200 queued, the keeper gets collateral worth
    the debt x 1.02 at 2,200, not at the current 2,000 (the owner loses at most the bonus at
    either price)."""
    r, t = system.roles, system.eth
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    system.tx(t.oracle, "post", r.feeder, 2_200 * WAD)
    system.warp(DELAY)
    system.tx(t.oracle, "poke", r.keeper)
    assert read(system, t.oracle, "next_price") == 2_200 * WAD
    assert read(system, system.d.margin_call, "exchange_price", t.type_id) == 2_200 * WAD
    rt = rate(system, t)
    expected = collateral_out(6_000 * WAD * rt, 2_200 * WAD)

    soft(system, r.keeper, r.borrower, 6_000 * WAD)

    assert read(system, system.d.engine, "collateral", t.type_id, r.keeper) == expected
    assert expected < collateral_out(6_000 * WAD * rt, ETH_PRICE)


def test_soft_liquidate__stale_engine_safe_price__judged_at_the_oracle_price(system):
    """The oracle made 2,400 current and nobody poked the Spotter: the engine still holds the
    safe price of 2,000, at which the vault looks called; at the oracle's price (28,800 / 12,000
    = 2.4 > 1.8) it is not, and a soft liquidation is refused."""
    r, t = system.roles, system.eth
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    system.tx(t.oracle, "post", r.feeder, 2_400 * WAD)
    for _ in range(2):
        system.warp(DELAY)
        system.tx(t.oracle, "poke", r.keeper)
    assert read(system, t.oracle, "current_price") == 2_400 * WAD
    spot = system.view(system.d.engine, "collateral_types", t.type_id)[2]
    assert called(10 * WAD, 12_000 * WAD * rate(system, t), spot)
    with reverts("margin: not called"):
        soft(system, r.keeper, r.borrower, 6_000 * WAD)


def test_soft_liquidate__owner_calls_its_own_vault__gains_nothing(system):
    """Self-call: the owner repays its own debt with its own stablecoin and receives its own
    collateral; its equity at the market price does not rise."""
    r, t = system.roles, system.eth
    called_vault(system, r.borrower)
    system.open_vault(r.borrower, "WBTC-A", 10 * WAD, 7_000 * WAD)
    system.tx(system.d.engine, "allow", r.borrower, system.d.margin_call)
    before = system.auditor.holdings(r.borrower, system.auditor.market_prices())
    soft(system, r.borrower, r.borrower, 6_000 * WAD)
    after = system.auditor.holdings(r.borrower, system.auditor.market_prices())
    assert after == before
    assert vault(system, t, r.borrower)[1] == 6_000 * WAD


@pytest.mark.parametrize("warning", [WARNING, 15 * RAY // 10])
def test_soft_liquidate__governance_raises_warning__more_vaults_called(system, warning):
    """A vault at 1.9 is called only once the warning factor exceeds 1.9 / 1.5 = 1.27."""
    r, t = system.roles, system.eth
    called_vault(system, r.borrower, 10 * WAD, 20_000 * WAD * 10 // 19)
    system.tx(
        system.d.margin_call,
        "set_parameters",
        r.governance,
        t.type_id,
        warning,
        BONUS,
        CLOSE_FACTOR,
    )
    assert read(system, system.d.margin_call, "is_called", t.type_id, r.borrower) is (
        warning > WARNING
    )


def test_soft_liquidate__taking_no_collateral__refused_even_for_an_owner_without_allowance(system):
    """Found by the fuzz (campaign at 80d07bc, 119 examples): a repayment so small that it buys
    no collateral frees nothing, so the engine's modify_vault never checked the owner's
    allowance, and a soft liquidation went through for an owner who had opted in here but
    disallowed the MarginCall in the engine. Every soft liquidation now takes some collateral,
    so the engine always checks both consents."""
    r, e, m = system.roles, system.d.engine, system.d.margin_call
    called_vault(system, r.borrower)
    system.tx(e, "disallow", r.borrower, m)
    stable_for(system, r.keeper, 7_000 * WAD)
    with reverts("margin: no collateral"):
        soft(system, r.keeper, r.borrower, 1)
    with reverts("engine: owner not allowed"):
        soft(system, r.keeper, r.borrower, 6_000 * WAD)
