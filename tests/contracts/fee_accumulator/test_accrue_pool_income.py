"""FeeAccumulator.accrue seen from the stability pool: a quarter of the fee income raises the pool's
assets and each share earns pro rata. Stakers and helpers:
tests/contracts/support/stability_pool.py.
"""

from __future__ import annotations

from support.stability_pool import POOL_FEE_SHARE
from support.stability_pool import named as _named
from support.stability_pool import pool as _pool
from support.stability_pool import stable as _stable
from support.stability_pool import stake as _stake
from support.stability_pool import staker as _staker

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read


def test_accrue__with_a_staker__sends_a_quarter_of_the_fee_income_to_the_pool(system):
    """Money flow: with no staker, an accrual's whole income goes to the Backstop (no FeesShared).
    A stakes 3,000 and B 1,000; 30 days later the accrual's income, normalized debt x delta rate,
    is split: income x 0.25 (rounded down) to the pool, the rest to the Backstop. The pool's assets
    rise by the pool's part and each share earns pro rata (A 3/4, B 1/4, rounded down)."""
    r, d, t, p = system.roles, system.d, system.eth, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b):
        _staker(system, who)
    system.warp(3_600)
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    assert _named(system, "FeesShared") == []
    _stake(system, a, 3_000 * RAD)
    _stake(system, b, 1_000 * RAD)
    # the fees of the hours the stakes waited, shared already
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    pool_0 = _pool(system, "assets")
    assert _stable(system, p) == pool_0 > 4_000 * RAD

    art, rate_0 = _read(system, d.engine, "collateral_types", t.type_id)[:2]
    assert art == 10_000 * WAD
    backstop_0 = _stable(system, d.backstop)
    system.warp(30 * 86_400)
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    (accrued,) = [args for _, name, args in _events(system) if name == "Accrued"]
    income = art * (accrued["rate"] - rate_0)
    to_pool = income * POOL_FEE_SHARE // WAD
    assert _named(system, "FeesShared") == [
        (
            d.fees,
            "FeesShared",
            {"collateral_type": t.type_id, "to_pool": to_pool, "to_recipient": income - to_pool},
        ),
    ]
    # 2% a year on 10,000 BUSD for 30 days: ~16.29 BUSD, ~4.07 to the pool
    expected = 10_000 * (1.02 ** (30 / 365) - 1) * rate_0 / RAY
    assert abs(income / RAD - expected) < expected * 1e-6
    assert _stable(system, p) == pool_0 + to_pool
    assert _stable(system, d.backstop) == backstop_0 + income - to_pool
    assets = _pool(system, "assets")
    assert assets == pool_0 + to_pool
    assert _named(system, "IncomeAdded") == [(p, "IncomeAdded", {"amount": to_pool})]
    assert _pool(system, "value_of", a) == 3_000 * RAD * assets // (4_000 * RAD) > 3_000 * RAD
    assert _pool(system, "value_of", b) == 1_000 * RAD * assets // (4_000 * RAD) > 1_000 * RAD
