"""StabilityPool.request_withdrawal and withdraw: after the cooldown a request pays shares x assets
/ total rounded down; income after the request goes to the Backstop. Stakers and the loss:
tests/contracts/support/stability_pool.py.
"""

from __future__ import annotations

from support.stability_pool import COOLDOWN
from support.stability_pool import cover as _cover
from support.stability_pool import crash_and_liquidate as _crash_and_liquidate
from support.stability_pool import gift as _gift
from support.stability_pool import pool as _pool
from support.stability_pool import realize as _realize
from support.stability_pool import sell_out as _sell_out
from support.stability_pool import stable as _stable
from support.stability_pool import stake as _stake
from support.stability_pool import staker as _staker

from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_request_withdrawal__zero_or_more_than_own_shares__reverts(system):
    r, p = system.roles, system.d.stability_pool
    _staker(system, r.other)
    _stake(system, r.other, 1_000 * RAD)
    with reverts("pool: zero amount"):
        system.tx(p, "request_withdrawal", r.other, 0)
    with reverts("pool: insufficient shares"):
        system.tx(p, "request_withdrawal", r.other, 1_000 * RAD + 1)
    with reverts("pool: insufficient shares"):
        system.tx(p, "request_withdrawal", r.stranger, 1)


def test_withdrawal__request_replace_and_cancel__no_request_left_reverts(system):
    r, p = system.roles, system.d.stability_pool
    _staker(system, r.other)
    _stake(system, r.other, 1_000 * RAD)
    system.tx(p, "request_withdrawal", r.other, 400 * RAD)
    assert _events(system) == [
        (p, "WithdrawalRequested", {"staker": r.other, "shares": 400 * RAD, "value": 400 * RAD})
    ]
    first_at = system.now
    assert (
        _pool(system, "withdrawal_shares", r.other),
        _pool(system, "withdrawal_at", r.other),
    ) == (400 * RAD, first_at)
    # a new request replaces the old one and restarts the cooldown
    system.warp(100)
    system.tx(p, "request_withdrawal", r.other, 300 * RAD)
    assert (
        _pool(system, "withdrawal_shares", r.other),
        _pool(system, "withdrawal_at", r.other),
    ) == (300 * RAD, first_at + 100)
    system.tx(p, "cancel_withdrawal", r.other)
    assert _events(system) == [(p, "WithdrawalCancelled", {"staker": r.other, "shares": 300 * RAD})]
    assert (
        _pool(system, "withdrawal_shares", r.other),
        _pool(system, "withdrawal_at", r.other),
        _pool(system, "withdrawal_value", r.other),
    ) == (0, 0, 0)
    # the shares never left
    assert _pool(system, "shares", r.other) == 1_000 * RAD
    with reverts("pool: no request"):
        system.tx(p, "cancel_withdrawal", r.other)
    with reverts("pool: no request"):
        system.tx(p, "withdraw", r.other)


def test_withdraw__after_the_cooldown__pays_shares_times_assets_over_total_rounded_down(system):
    """Money flow: A stakes 3,000 and B 1,000; C gives the pool 1,000 BUSD + 1 rad-wei: 4,000 shares
    hold 5,000 + 1 wei. A withdraws 1,234 shares + 1 wei one second too early (refused), then at
    the end of the cooldown: (1,234 + 1 wei) x (5,000 + 1 wei) / 4,000, rounded down, moves from
    the pool to A. B then withdraws all: one staker fewer."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b, r.feeder):
        _staker(system, who)
    _stake(system, a, 3_000 * RAD)
    _stake(system, b, 1_000 * RAD)
    _gift(system, r.feeder, 1_000 * RAD + 1)
    requested = 1_234 * RAD + 1
    system.tx(p, "request_withdrawal", a, requested)
    at = system.now
    system.lockstep.set_next_block_time(at + COOLDOWN - 1)
    with reverts("pool: cooling down"):
        system.tx(p, "withdraw", a)

    stable_0 = _stable(system, a)
    system.lockstep.set_next_block_time(at + COOLDOWN)
    system.tx(p, "withdraw", a)
    assets, total = 5_000 * RAD + 1, 4_000 * RAD
    amount = requested * assets // total
    # 1,542.5 BUSD + 1.56 rad-wei, rounded down
    assert amount == 1_542_500 * RAD // 1_000 + 1
    assert _events(system) == [
        (d.engine, "StableTransferred", {"src": p, "dst": a, "amount": amount}),
        (p, "Withdrawn", {"staker": a, "shares": requested, "amount": amount}),
    ]
    assert _stable(system, a) == stable_0 + amount
    assert _pool(system, "shares", a) == 3_000 * RAD - requested
    assert _pool(system, "total_shares") == total - requested
    assert _pool(system, "assets") == assets - amount
    assert _pool(system, "staker_count") == 2
    assert (_pool(system, "withdrawal_shares", a), _pool(system, "withdrawal_at", a)) == (0, 0)
    with reverts("pool: no request"):
        system.tx(p, "withdraw", a)

    # B leaves entirely: B's value, one staker fewer
    b_value = _pool(system, "value_of", b)
    assert b_value == 1_000 * RAD * (assets - amount) // (total - requested)
    system.tx(p, "request_withdrawal", b, 1_000 * RAD)
    system.warp(COOLDOWN)
    system.tx(p, "withdraw", b)
    assert _events(system)[-1] == (
        p,
        "Withdrawn",
        {"staker": b, "shares": 1_000 * RAD, "amount": b_value},
    )
    assert _pool(system, "staker_count") == 1


def test_withdraw__income_after_the_request__goes_to_the_backstop_not_to_the_next_staker(system):
    """Money flow (found by the campaign, seed 2 of the liquidations machine): A stakes 3,000 and
    asks for all of it; 600 of income then arrives. The requested shares stopped earning, so the
    withdrawal pays the 3,000 of the request, and the 600 they earned after it go to the
    Backstop's surplus (IncomeForfeited), not stay in the pool: before the fix, the pool was left
    with 600 of assets and no shares, and B, staking 1,000 next, was the first staker and got
    shares worth 1,600. A second request, worth less at the withdrawal than at the request (a
    charge between), forfeits nothing."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b, r.feeder):
        _staker(system, who)
    _stake(system, a, 3_000 * RAD)
    system.tx(p, "request_withdrawal", a, 3_000 * RAD)
    assert _pool(system, "withdrawal_value", a) == 3_000 * RAD
    _gift(system, r.feeder, 600 * RAD)
    system.warp(COOLDOWN)
    a_0, backstop_0 = _stable(system, a), _stable(system, d.backstop)
    system.tx(p, "withdraw", a)
    assert _events(system) == [
        (d.engine, "StableTransferred", {"src": p, "dst": a, "amount": 3_000 * RAD}),
        (d.engine, "StableTransferred", {"src": p, "dst": d.backstop, "amount": 600 * RAD}),
        (p, "IncomeForfeited", {"staker": a, "amount": 600 * RAD}),
        (p, "Withdrawn", {"staker": a, "shares": 3_000 * RAD, "amount": 3_000 * RAD}),
    ]
    assert _stable(system, a) == a_0 + 3_000 * RAD
    assert _stable(system, d.backstop) == backstop_0 + 600 * RAD
    assert (_pool(system, "assets"), _pool(system, "total_shares")) == (0, 0)
    assert _pool(system, "staker_count") == 0

    # B is the first staker again: one share per rad, worth exactly its stake
    _stake(system, b, 1_000 * RAD)
    assert _pool(system, "shares", b) == 1_000 * RAD
    assert _pool(system, "value_of", b) == 1_000 * RAD

    # a request worth less at the withdrawal than at the request pays the value now, and
    # forfeits nothing (the charge is B's as a staker)
    system.tx(p, "request_withdrawal", b, 1_000 * RAD)
    [auction_id], loss = _crash_and_liquidate(system, [r.borrower])
    _sell_out(system, auction_id, loss)
    _cover(system, auction_id)
    _realize(system, b)
    system.warp(COOLDOWN)
    value_now = _pool(system, "value_of", b)
    assert value_now < 1_000 * RAD
    system.tx(p, "withdraw", b)
    assert [name for _, name, _ in _events(system)] == ["StableTransferred", "Withdrawn"]
    assert _events(system)[-1][2]["amount"] == value_now
