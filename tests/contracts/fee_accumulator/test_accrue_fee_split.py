"""FeeAccumulator.accrue's split of the fee income: a quarter to the stability pool when it has
stakers, the rest (rounding remainder included) to the Backstop, all of it to the Backstop
without stakers. Helpers: tests/contracts/support/waterfall.py.
"""

from __future__ import annotations

from support.waterfall import ETH, POOL_FEE_SHARE
from support.waterfall import ctype as _ctype
from support.waterfall import pool as _pool
from support.waterfall import stable as _stable
from support.waterfall import stake_in_pool as _stake

from offchain.model.fixed_point import RAD, WAD, rmul_up, rpow_up
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read


def _accrue_at(system, timestamp: int) -> tuple[int, int]:
    """Anyone accrues ETH-A's fee at `timestamp`. Returns (rate before, rate after)."""
    before = _ctype(system).rate
    system.lockstep.set_next_block_time(timestamp)
    system.tx(system.d.fees, "accrue", system.roles.stranger, system.eth.type_id)
    accrued = [args for addr, name, args in _events(system) if name == "Accrued"]
    assert len(accrued) == 1
    after = accrued[0]["rate"]
    assert after > before
    assert _ctype(system).rate == after
    return before, after


def test_accrue__with_stakers__pool_gets_quarter_of_fees_backstop_the_rest(system):
    """Money flow: the other owes art = 10,000 (+ 1 wei) of normalized debt; some 30 days of
    fees raise the rate by delta; the engine credits art x delta (not a multiple of 4) to the
    FeeAccumulator, which passes 25% of it, rounded down, to the stability pool (raising the
    staker's value) and the rest, rounding remainder included, to the Backstop; it keeps
    nothing."""
    r, b, pool, fees = system.roles, system.d.backstop, system.d.stability_pool, system.d.fees
    _stake(system, r.stranger, 1_000 * RAD)
    art = 10_000 * WAD + 1
    system.open_vault(r.other, ETH, 30 * WAD, art)
    # the first moment from 30 days on when the income is not a multiple of 4, so the split
    # rounds: the base fee compounded per second (utilization is far below the kink)
    base_fee, last_accrual = _read(system, fees, "fees", system.eth.type_id)[:2]
    rate = _ctype(system).rate
    start = system.now + 30 * 86_400
    when = next(
        w
        for w in range(start, start + 100)
        if art * (rmul_up(rpow_up(base_fee, w - last_accrual), rate) - rate) % 4 != 0
    )
    before, after = _accrue_at(system, when)
    assert after == rmul_up(rpow_up(base_fee, when - last_accrual), rate)
    income = art * (after - before)
    assert income % 4 != 0
    to_pool = income * POOL_FEE_SHARE // WAD
    assert to_pool == income // 4
    shared = [args for addr, name, args in _events(system) if addr == fees and name == "FeesShared"]
    assert shared == [
        {
            "collateral_type": system.eth.type_id,
            "to_pool": to_pool,
            "to_recipient": income - to_pool,
        }
    ]
    folded = [args for addr, name, args in _events(system) if name == "RateFolded"]
    assert folded == [
        {
            "collateral_type": system.eth.type_id,
            "recipient": fees,
            "delta_rate": after - before,
            "delta_stable": income,
        }
    ]
    assert _stable(system, pool) == 1_000 * RAD + to_pool
    assert _pool(system, "value_of", r.stranger) == 1_000 * RAD + to_pool
    assert _stable(system, b) == income - to_pool
    assert _stable(system, fees) == 0


def test_accrue__no_stakers__backstop_gets_all_fees(system):
    """Money flow: nobody staked: the rate's whole increase x 10,000 goes to the Backstop, the
    pool gets nothing and no FeesShared is logged."""
    r, b, pool, fees = system.roles, system.d.backstop, system.d.stability_pool, system.d.fees
    system.open_vault(r.other, ETH, 30 * WAD, 10_000 * WAD)
    before, after = _accrue_at(system, system.now + 30 * 86_400)
    income = 10_000 * WAD * (after - before)
    assert [name for addr, name, _ in _events(system) if addr == fees] == ["Accrued"]
    folded = [args for addr, name, args in _events(system) if name == "RateFolded"]
    assert folded == [
        {
            "collateral_type": system.eth.type_id,
            "recipient": b,
            "delta_rate": after - before,
            "delta_stable": income,
        }
    ]
    assert _stable(system, b) == income
    assert _stable(system, pool) == 0
