"""StabilityPool.stake: one share per rad for the first staker, pro rata after (rounded down); a
stake made while a loss is open is pending, not exposed, and can be cancelled. Stakers and the
loss: tests/contracts/support/stability_pool.py.
"""

from __future__ import annotations

from support.stability_pool import ETH, EXPOSURE_DELAY
from support.stability_pool import backstop as _backstop
from support.stability_pool import crash_and_liquidate as _crash_and_liquidate
from support.stability_pool import gift as _gift
from support.stability_pool import pool as _pool
from support.stability_pool import stable as _stable
from support.stability_pool import stake as _stake
from support.stability_pool import stake_pending as _stake_pending
from support.stability_pool import staker as _staker

from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_stake__first_staker__mints_one_share_per_rad_and_counts_the_staker(system):
    """Money flow: A's 1,234 BUSD + 5 rad-wei move from A to the pool as a pending stake; an
    exposure delay later A activates it: A holds all the shares, worth all the assets."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    _staker(system, r.other)
    amount = 1_234 * RAD + 5
    stable_0 = _stable(system, r.other)
    _stake_pending(system, r.other, amount)
    assert _events(system) == [
        (d.engine, "StableTransferred", {"src": r.other, "dst": p, "amount": amount}),
        (p, "StakePending", {"staker": r.other, "amount": amount}),
    ]
    assert _pool(system, "pending_at", r.other) == system.now
    system.warp(EXPOSURE_DELAY)
    system.tx(p, "activate", r.other)
    assert _events(system) == [
        (p, "Activated", {"staker": r.other, "amount": amount, "shares": amount}),
    ]
    assert _stable(system, r.other) == stable_0 - amount
    assert _stable(system, p) == amount
    assert _pool(system, "shares", r.other) == _pool(system, "total_shares") == amount
    assert _pool(system, "assets") == _pool(system, "value_of", r.other) == amount
    assert _pool(system, "staker_count") == 1
    # exposed from the next charge on (none yet)
    assert _pool(system, "next_charge", r.other) == 1
    assert _pool(system, "is_realized", r.other)
    # a second stake by the same staker: still one staker, shares at 1 per rad (assets == shares)
    _stake(system, r.other, 100 * RAD)
    assert _pool(system, "shares", r.other) == amount + 100 * RAD
    assert _pool(system, "staker_count") == 1


def test_stake__later_staker__gets_shares_pro_rata_to_assets_rounded_down(system):
    """Money flow: A stakes 3,000 (3,000 shares); C gives the pool 1,000 BUSD + 1 rad-wei, so the
    3,000 shares hold 4,000 + 1 wei; B's 1,000 buy 1,000 x 3,000 / (4,000 + 1 wei) shares, rounded
    down: 750 BUSD-worth of shares less one share-wei. B's stake is worth a hair under 1,000
    (the rounding is the pool's)."""
    r, p = system.roles, system.d.stability_pool
    for who in (r.other, r.stranger, r.feeder):
        _staker(system, who)
    _stake(system, r.other, 3_000 * RAD)
    _gift(system, r.feeder, 1_000 * RAD + 1)
    assets = 4_000 * RAD + 1
    assert _pool(system, "assets") == assets
    _stake(system, r.stranger, 1_000 * RAD)
    expected = 1_000 * RAD * 3_000 * RAD // assets
    assert expected == 750 * RAD - 1
    assert _events(system)[-1] == (
        p,
        "Activated",
        {"staker": r.stranger, "amount": 1_000 * RAD, "shares": expected},
    )
    assert _pool(system, "shares", r.stranger) == expected
    assert _pool(system, "total_shares") == 3_000 * RAD + expected
    assert _pool(system, "staker_count") == 2
    value = expected * (assets + 1_000 * RAD) // (3_000 * RAD + expected)
    assert _pool(system, "value_of", r.stranger) == value
    assert 1_000 * RAD - 2 <= value < 1_000 * RAD


def test_stake__zero__reverts_zero_amount(system):
    r = system.roles
    _staker(system, r.other)
    with reverts("pool: zero amount"):
        _stake_pending(system, r.other, 0)


def test_stake__without_allowing_the_pool_in_the_engine__reverts_not_allowed(system):
    r = system.roles
    system.open_vault(r.other, ETH, 10 * WAD, 5_000 * WAD)
    with reverts("engine: not allowed"):
        _stake_pending(system, r.other, 1_000 * RAD)
    assert _pool(system, "total_shares") == 0


def test_stake__while_a_loss_is_open__is_pending_not_exposed_earns_nothing_and_can_be_cancelled(
    system,
):
    """Money flow: A stakes 1,000 before the crash. During the crash C's 500 move into the pool but
    only as pending: not assets, no shares. A gift of 100 to the pool goes all to A's shares; C's
    pending stays 500. C takes the 500 back in full (allowed while the loss is open)."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    _staker(system, r.other)
    _staker(system, r.feeder)
    _stake(system, r.other, 1_000 * RAD)
    _crash_and_liquidate(system, [r.borrower])
    assert _backstop(system, "open_losses") == 1
    stable_0 = _stable(system, r.feeder)

    _stake_pending(system, r.feeder, 500 * RAD)
    assert _events(system) == [
        (d.engine, "StableTransferred", {"src": r.feeder, "dst": p, "amount": 500 * RAD}),
        (p, "StakePending", {"staker": r.feeder, "amount": 500 * RAD}),
    ]
    assert _pool(system, "pending", r.feeder) == _pool(system, "pending_total") == 500 * RAD
    assert _pool(system, "shares", r.feeder) == 0
    assert _pool(system, "value_of", r.feeder) == 0
    assert _pool(system, "total_shares") == 1_000 * RAD
    assert _pool(system, "staker_count") == 1
    assert _stable(system, p) == 1_500 * RAD
    assert _pool(system, "assets") == 1_000 * RAD

    # income while pending: all of it to the exposed shares
    _gift(system, r.keeper, 100 * RAD)
    assert _pool(system, "assets") == _pool(system, "value_of", r.other) == 1_100 * RAD
    assert _pool(system, "pending", r.feeder) == 500 * RAD

    system.tx(p, "cancel_pending", r.feeder)
    assert _events(system) == [
        (d.engine, "StableTransferred", {"src": p, "dst": r.feeder, "amount": 500 * RAD}),
        (p, "PendingCancelled", {"staker": r.feeder, "amount": 500 * RAD}),
    ]
    assert _stable(system, r.feeder) == stable_0
    assert _pool(system, "pending", r.feeder) == _pool(system, "pending_total") == 0
    assert _pool(system, "assets") == 1_100 * RAD
    with reverts("pool: no pending"):
        system.tx(p, "cancel_pending", r.feeder)
