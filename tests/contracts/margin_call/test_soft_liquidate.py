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
    NEW_TYPE,
    WARNING,
    called,
    called_vault,
    collateral_out,
    cure_step,
    cures,
    least_cure,
    rate,
    safe_price_at,
    stable_for,
    vault,
)
from support.prices import DELAY, make_stale

from offchain.backends import model_value
from offchain.backends.rpc import RpcError
from offchain.model.fixed_point import RAY, WAD
from offchain.testing.harness import events, read, reverts


def soft(system, caller, owner, normalized, min_collateral=0, t=None):
    t = t or system.eth
    system.tx(
        system.d.margin_call, "soft_liquidate", caller, t.type_id, owner, normalized, min_collateral
    )


def test_soft_liquidate__called_vault__caller_pays_debt_gets_collateral_at_bonus(system):
    """Money flow: the keeper pays the least cure, about 2,051 BUSD (of a close factor's 6,000),
    from its internal balance and receives floor(debt x 1.02 / 2,000), about 1.046 ETH, of the
    vault's collateral; the vault keeps about 8.954 ETH against about 9,949 BUSD, at its warning
    level. Total issued falls by the repaid debt (I1, I3 hold); the MarginCall holds nothing."""
    r, t, e, m = system.roles, system.eth, system.d.engine, system.d.margin_call
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    rt = rate(system, t)
    spot = safe_price_at(ETH_PRICE)
    assert called(10 * WAD, 12_000 * WAD * rt, spot)
    assert read(system, m, "is_called", t.type_id, r.borrower) is True
    assert read(system, m, "max_repay", t.type_id, r.borrower) == 6_000 * WAD
    repay = least_cure(system, t, r.borrower)
    # 0.78 n >= 21,600 - 20,000 at rate 1: n about 2,051.28 (the rate has grown a little)
    assert abs(repay - 205_128 * WAD // 100) < WAD
    issued = read(system, e, "total_issued")
    keeper_stable = read(system, e, "stable", r.keeper)
    expected = collateral_out(repay * rt, ETH_PRICE)
    assert abs(expected - 1_046 * WAD // 1_000) < WAD // 1_000

    soft(system, r.keeper, r.borrower, repay, expected)

    assert vault(system, t, r.borrower) == (10 * WAD - expected, 12_000 * WAD - repay)
    assert read(system, e, "stable", r.keeper) == keeper_stable - repay * rt
    assert read(system, e, "collateral", t.type_id, r.keeper) == expected
    assert read(system, e, "total_issued") == issued - repay * rt
    assert read(system, e, "stable", m) == 0
    assert read(system, m, "is_called", t.type_id, r.borrower) is False
    assert not called(10 * WAD - expected, (12_000 * WAD - repay) * rt, spot)
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
    soft(system, r.keeper, r.borrower, least_cure(system, system.eth, r.borrower))
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
        soft(system, r.keeper, r.borrower, least_cure(system, system.eth, r.borrower))


def test_soft_liquidate__caller_without_engine_allowance__reverts_stable_source(system):
    r = system.roles
    called_vault(system, r.borrower)
    system.open_vault(r.keeper, "WBTC-A", 10 * WAD, 7_000 * WAD)
    with reverts("engine: stable source not allowed"):
        soft(system, r.keeper, r.borrower, least_cure(system, system.eth, r.borrower))


def test_soft_liquidate__caller_without_stablecoin__reverts_insufficient_stable(system):
    r = system.roles
    called_vault(system, r.borrower)
    system.tx(system.d.engine, "allow", r.keeper, system.d.margin_call)
    with reverts("engine: insufficient stable"):
        soft(system, r.keeper, r.borrower, least_cure(system, system.eth, r.borrower))


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
    """3,000 BUSD of debt at 1.6: the least cure, about a quarter (769), leaves about 2,231 <
    dust 2,500."""
    r, t = system.roles, system.eth
    called_vault(system, r.borrower, 24 * WAD // 10, 3_000 * WAD)
    stable_for(system, r.keeper, 3_000 * WAD)
    cure = least_cure(system, t, r.borrower)
    assert 0 < (3_000 * WAD - cure) * rate(system, t) < DUST
    with reverts("engine: dust"):
        soft(system, r.keeper, r.borrower, cure)


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
    # the least cure at the exchange price 2,200 (the called test still at the current 2,000)
    repay = least_cure(system, t, r.borrower, price=2_200 * WAD)
    expected = collateral_out(repay * rt, 2_200 * WAD)

    soft(system, r.keeper, r.borrower, repay)

    assert read(system, system.d.engine, "collateral", t.type_id, r.keeper) == expected
    assert expected < collateral_out(repay * rt, ETH_PRICE)


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
    repay = least_cure(system, t, r.borrower)
    soft(system, r.borrower, r.borrower, repay)
    after = system.auditor.holdings(r.borrower, system.auditor.market_prices())
    assert after == before
    assert vault(system, t, r.borrower)[1] == 12_000 * WAD - repay


@pytest.mark.parametrize("warning", [WARNING, 15 * RAY // 10])
def test_soft_liquidate__governance_raises_warning__more_vaults_called(system, warning):
    """A vault at 1.9 is called only once the warning factor exceeds 1.9 / 1.5 = 1.27 (the
    deleverage buffer raised to 0.5 first: a warning factor of 1.5 needs it, issue 63)."""
    r, t = system.roles, system.eth
    system.tx(system.d.backstop, "set_deleverage_buffer", r.governance, WAD // 2)
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
        soft(system, r.keeper, r.borrower, least_cure(system, system.eth, r.borrower))


# ---------------------------------------------------------------- issue 45, finding 5


def _view_reverts(system, address: str, getter: str, *args, reason: str) -> None:
    """A view refused with `reason` on chain (the node's eth_call error names it) and in the
    model (the same reason, not an arithmetic revert)."""
    with pytest.raises(RpcError, match=reason):
        system.view(address, getter, *args)
    with reverts(reason):
        model_value(system.model, address, getter, args)


def _most_accepted(cure: int) -> int:
    """The largest n with n - max(1, floor(n x 1 bp)) < cure: the most a call may repay on a
    vault whose least cure is `cure` (n - step(n) never falls as n grows)."""
    low, high = cure, 2 * cure  # low - step(low) < cure <= high - step(high)
    while high - low > 1:
        mid = (low + high) // 2
        if mid - cure_step(mid) < cure:
            low = mid
        else:
            high = mid
    return low


def test_finding_05a__close_factor_on_a_vault_the_cure_fixes__refused_the_cure_accepted(system):
    """Finding 5a (issue 45): a caller repaid the close factor's 6,000 on a vault that about
    2,051 cures, for the 2% bonus on all 6,000 (2.9x what the cure costs the owner). Refused now
    ("margin: repays more than the cure": 1 bp less than 6,000 would cure it too), as is one wei
    past the most the contract accepts (the least cure + 1 bp of the repayment); that most is
    accepted. Money flow: the owner gives up at most the bonus on the cure plus 1 bp of the
    repayment, not the bonus on 6,000."""
    r, t, m = system.roles, system.eth, system.d.margin_call
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    rt, spot = rate(system, t), safe_price_at(ETH_PRICE)
    cure = least_cure(system, t, r.borrower)
    limit = read(system, m, "max_repay", t.type_id, r.borrower)
    assert limit == 6_000 * WAD and cure < limit // 2
    assert cures(10 * WAD, 12_000 * WAD, limit, rt, spot, ETH_PRICE)  # the end test passes
    with reverts("margin: repays more than the cure"):
        soft(system, r.keeper, r.borrower, limit)
    most = _most_accepted(cure)
    assert cure < most <= cure + cure_step(most)
    with reverts("margin: repays more than the cure"):
        soft(system, r.keeper, r.borrower, most + 1)

    soft(system, r.keeper, r.borrower, most)

    got = read(system, system.d.engine, "collateral", t.type_id, r.keeper)
    assert got == collateral_out(most * rt, ETH_PRICE)
    bonus_value = got * ETH_PRICE * 10**9 - most * rt
    # the bound: at most the bonus on the cure plus 1 bp of the repayment
    assert bonus_value <= (cure + cure_step(most)) * rt * BONUS // WAD
    assert vault(system, t, r.borrower) == (10 * WAD - got, 12_000 * WAD - most)


def test_finding_05b__a_post_of_1e51__refused_price_above_bound_not_an_overflow(system):
    """Finding 5b (issue 45): with no bound on a post (max_change 0), a feeder's post of 1e51
    made the exchange price's divisor 1e51 x 1e27 overflow: soft_liquidate panicked until the
    post was voided. Now a clear refusal ("margin: price above bound", the exchange_price view
    too), the called test still answers at the current price, and once governance voids the post
    the least cure goes through."""
    r, t, m = system.roles, system.eth, system.d.margin_call
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    cure = least_cure(system, t, r.borrower)
    system.tx(t.oracle, "set_max_change", r.governance, 0)
    system.tx(t.oracle, "post", r.feeder, 10**51)
    with reverts("margin: price above bound"):
        soft(system, r.keeper, r.borrower, cure)
    _view_reverts(system, m, "exchange_price", t.type_id, reason="margin: price above bound")
    assert read(system, m, "is_called", t.type_id, r.borrower) is True
    system.tx(t.oracle, "void", r.governance)

    soft(system, r.keeper, r.borrower, cure)

    assert read(system, m, "is_called", t.type_id, r.borrower) is False


def test_finding_05b__current_price_above_bound__not_called_no_overflow(system):
    """The same post made current by two pokes: the called test's safe price (1e51 x 1e36)
    would overflow too. `is_called` answers False (no vault is called at a price past the
    bound) and a soft liquidation is refused with the reason, never a panic."""
    r, t, m = system.roles, system.eth, system.d.margin_call
    called_vault(system, r.borrower)
    stable_for(system, r.keeper, 7_000 * WAD)
    system.tx(t.oracle, "set_max_change", r.governance, 0)
    system.tx(t.oracle, "post", r.feeder, 10**51)
    for _ in range(2):
        system.warp(DELAY)
        system.tx(t.oracle, "poke", r.keeper)
    assert read(system, t.oracle, "current_price") == 10**51
    assert read(system, m, "is_called", t.type_id, r.borrower) is False
    with reverts("margin: price above bound"):
        soft(system, r.keeper, r.borrower, WAD)


def test_finding_05b__spotter_oracle_change__seen_by_the_margin_call_at_once(system):
    """The MarginCall keeps no oracle of its own: it reads the Spotter's. Governance points
    ETH-A at the WBTC oracle in the Spotter: the MarginCall's exchange price and called test
    follow in the same block, with no second setter to forget; a type with no oracle in the
    Spotter is refused "margin: no oracle"."""
    r, t, m = system.roles, system.eth, system.d.margin_call
    called_vault(system, r.borrower)
    assert read(system, m, "exchange_price", t.type_id) == ETH_PRICE
    assert read(system, m, "is_called", t.type_id, r.borrower) is True
    btc_price = read(system, system.btc.oracle, "current_price")
    assert btc_price > 2 * ETH_PRICE

    system.tx(system.d.spotter, "set_oracle", r.governance, t.type_id, system.btc.oracle)

    assert read(system, m, "exchange_price", t.type_id) == btc_price
    # 10 tokens at the WBTC price against 12,000: far above the warning level
    assert read(system, m, "is_called", t.type_id, r.borrower) is False
    system.tx(m, "set_parameters", r.governance, NEW_TYPE, WARNING, BONUS, CLOSE_FACTOR)
    _view_reverts(system, m, "exchange_price", NEW_TYPE, reason="margin: no oracle")
