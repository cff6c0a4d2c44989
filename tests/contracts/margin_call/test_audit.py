"""The Auditor's bound on a soft liquidation (offchain/testing/economics/margin_call.py): it fires
on a bonus inflated by one wei, and on the gain such a bonus gives the caller. The movements are
planted in the model between the auditor's `before` and `after` (inside `what_if`), because the
contract no longer allows them; honest soft liquidations pass it in test_soft_liquidate.py."""

from __future__ import annotations

import pytest
from support.margin_call import ETH_PRICE, collateral_out

from offchain.model.fixed_point import RAD, WAD
from offchain.model.state import Event
from offchain.testing.economics import EconomicViolation


def _soft_liquidated(system, collateral: int, debt: int) -> Event:
    r = system.roles
    return Event(
        system.d.margin_call,
        "SoftLiquidated",
        {
            "collateral_type": system.eth.type_id,
            "owner": r.borrower,
            "caller": r.keeper,
            "normalized_debt": debt // 10**27,
            "debt": debt,
            "collateral": collateral,
            "price": ETH_PRICE,
            "bonus_value": 0,
        },
    )


def test_auditor__soft_liquidation_one_wei_above_the_bonus__flagged(system):
    """6,000 BUSD repaid at 2,000 and 2%: at most 3.06 ETH; 3.06 ETH + 1 wei is named."""
    r = system.roles
    debt = 6_000 * RAD
    bound = collateral_out(debt, ETH_PRICE)
    assert bound == 306 * WAD // 100
    with system.what_if():
        before = system.auditor.before(r.keeper, system.d.margin_call, "soft_liquidate")
        with pytest.raises(EconomicViolation, match="above the bonus's 3060000000000000000"):
            system.auditor.after(before, [_soft_liquidated(system, bound + 1, debt)])
    with system.what_if():
        before = system.auditor.before(r.keeper, system.d.margin_call, "soft_liquidate")
        system.auditor.after(before, [_soft_liquidated(system, bound, debt)])


def test_auditor__inflated_bonus_gain__above_the_listed_income(system):
    """A caller who received 4% instead of 2% (3.12 ETH for 6,000 BUSD): its gain at the market
    price, 240 BUSD, is above the listed income, the bound's 120."""
    r, t = system.roles, system.eth
    with system.what_if():
        before = system.auditor.before(r.keeper, system.d.margin_call, "soft_liquidate")
        engine = system.model.contract(system.d.engine)
        key = (t.type_id, r.keeper)
        dict.__setitem__(engine.collateral, key, engine.collateral[key] + 312 * WAD // 100)
        dict.__setitem__(engine.stable, r.keeper, engine.stable[r.keeper] - 6_000 * RAD)
        with pytest.raises(EconomicViolation, match="gained 240.000000 stablecoin"):
            system.auditor.after(before, [_soft_liquidated(system, 312 * WAD // 100, 6_000 * RAD)])
