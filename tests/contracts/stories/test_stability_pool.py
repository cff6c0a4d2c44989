"""Stability pool stories: a staker who asks to withdraw at the crash still pays pro rata and a late
staker pays nothing; a loss larger than the pool takes all its assets and no stake is accepted
until every staker has withdrawn. Stakers and the loss:
tests/contracts/support/stability_pool.py.
"""

from __future__ import annotations

from support.stability_pool import COOLDOWN, EXPOSURE_DELAY
from support.stability_pool import absorbed as _absorbed
from support.stability_pool import allocated as _allocated
from support.stability_pool import backstop as _backstop
from support.stability_pool import charged as _charged
from support.stability_pool import cover as _cover
from support.stability_pool import crash_and_liquidate as _crash_and_liquidate
from support.stability_pool import named as _named
from support.stability_pool import pool as _pool
from support.stability_pool import realize as _realize
from support.stability_pool import returns as _returns
from support.stability_pool import sell_out as _sell_out
from support.stability_pool import stable as _stable
from support.stability_pool import stake as _stake
from support.stability_pool import stake_pending as _stake_pending
from support.stability_pool import staker as _staker

from offchain.model.backstop import DEBT_AUCTION, POOL
from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_key_story__staker_who_requests_withdrawal_at_the_crash_still_pays_pro_rata_and_late_staker_pays_nothing(  # noqa: E501  (a test's name says its behaviour)
    system,
):
    """Money flow: A (other) stakes 3,000 and B (stranger) 1,000: 4,000 shares. ETH crashes and the
    borrower's vault is liquidated: the loss event opens and fixes the exposed shares. A sees it and
    asks for all 3,000 shares back at once; C (feeder) stakes 2,000 during the crash (pending). The
    auction sells out for 12,000 of 13,000 x rate: loss L (~1,000). A's cooldown passes, but A
    cannot leave while the loss A was exposed to is open. The insurance fund is empty, so cover
    takes all of L from the pool (default waterfall). Receipts: A 3/4 of L, B the rest (1/4; L is a
    multiple of 4 here, so no rounding). Only then A withdraws 3,000 - 3/4 L: exactly A's stake less
    A's receipt. C's 2,000 become shares at the post-loss price, worth 2,000 (less at most one rad-
    wei of rounding), and C receives no receipt."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    a, b, c = r.other, r.stranger, r.feeder
    for who in (a, b, c):
        _staker(system, who)
    _stake(system, a, 3_000 * RAD)
    _stake(system, b, 1_000 * RAD)
    assert _pool(system, "shares", b) == 1_000 * RAD
    a_start = _stable(system, a)

    # the crash: the loss event opens
    (auction_id,), loss = _crash_and_liquidate(system, [r.borrower])
    # A asks to leave at once: allowed, but the shares stay exposed
    system.tx(p, "request_withdrawal", a, 3_000 * RAD)
    assert _events(system) == [
        (p, "WithdrawalRequested", {"staker": a, "shares": 3_000 * RAD, "value": 3_000 * RAD})
    ]
    requested_at = system.now
    assert _pool(system, "withdrawal_at", a) == requested_at
    # C joins during the crash: pending
    _stake_pending(system, c, 2_000 * RAD)
    assert _events(system)[-1] == (p, "StakePending", {"staker": c, "amount": 2_000 * RAD})

    # the auction sells out with a shortfall
    _sell_out(system, auction_id, loss)
    # A's cooldown is over, but the loss is still open
    system.lockstep.set_next_block_time(requested_at + COOLDOWN)
    with reverts("pool: exposed to open losses"):
        system.tx(p, "withdraw", a)

    # cover: the fund is empty (the Backstop's stablecoin is the proceeds owed to the seized
    # debt, unsettled), the pool pays all of the loss
    assert _stable(system, d.backstop) == _backstop(system, "unsettled_proceeds") > 0
    _cover(system, auction_id)
    assert _named(system, "Absorbed", "LossAllocated") == [
        _absorbed(system, 1, auction_id, loss),
        _allocated(system, auction_id, POOL, p, loss),
    ]
    assert _backstop(system, "open_losses") == 0
    assert _backstop(system, "losses", system.eth.type_id, system.eth.auction, auction_id)[1] == 0
    assert _pool(system, "charge_count") == 1
    assert _pool(system, "charge_amount", 1) == loss
    assert _pool(system, "charge_total_shares", 1) == 4_000 * RAD  # A and B only: C is pending
    assert _pool(system, "charge_stakers_left", 1) == 2
    assert _pool(system, "assets") == 4_000 * RAD - loss
    assert _stable(system, p) == 6_000 * RAD - loss  # C's 2,000 pending untouched

    # A must first realize the charge
    with reverts("pool: not realized"):
        system.tx(p, "withdraw", a)
    assert loss % 4 == 0
    a_charge, b_charge = 3 * loss // 4, loss // 4
    assert _realize(system, a) == [_charged(system, 1, a, a_charge)]
    assert _realize(system, b) == [_charged(system, 1, b, b_charge)]
    assert _pool(system, "charge_attributed", 1) == loss == a_charge + b_charge
    assert _pool(system, "charge_stakers_left", 1) == 0

    system.tx(p, "withdraw", a)
    a_paid = 3_000 * RAD - a_charge
    assert _events(system) == [
        (d.engine, "StableTransferred", {"src": p, "dst": a, "amount": a_paid}),
        (p, "Withdrawn", {"staker": a, "shares": 3_000 * RAD, "amount": a_paid}),
    ]
    assert _stable(system, a) == a_start + a_paid
    assert _pool(system, "shares", a) == 0
    assert _pool(system, "staker_count") == 1
    assert _pool(system, "value_of", b) == _pool(system, "assets") == 1_000 * RAD - b_charge

    # C: no receipt, nothing to realize; activated at the post-loss price
    assert _returns(system, p, "realize", r.keeper, c, 10) == 0
    system.tx(p, "activate", c)
    b_assets = 1_000 * RAD - b_charge
    c_shares = 2_000 * RAD * 1_000 * RAD // b_assets
    assert _events(system) == [
        (p, "Activated", {"staker": c, "amount": 2_000 * RAD, "shares": c_shares})
    ]
    c_value = c_shares * (b_assets + 2_000 * RAD) // (1_000 * RAD + c_shares)
    assert _pool(system, "value_of", c) == c_value
    assert 2_000 * RAD - 1 <= c_value <= 2_000 * RAD
    assert _pool(system, "next_charge", c) == 2
    assert _pool(system, "is_realized", c)


def test_loss_larger_than_the_pool__takes_all_assets__no_stake_until_every_staker_withdrew_for_nothing(  # noqa: E501  (a test's name says its behaviour)
    system,
):
    """Money flow: A stakes 500; the loss L (~1,000) takes all 500 from the pool (A's receipt:
    500), the debt auction takes the other L - 500. The pool is wiped out: shares, no assets. B
    cannot stake until A has realized, asked and withdrawn A's shares for 0; then B's 700 start a
    fresh pool at one share per rad."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b):
        _staker(system, who)
    _stake(system, a, 500 * RAD)
    (auction_id,), loss = _crash_and_liquidate(system, [r.borrower])
    _sell_out(system, auction_id, loss)
    _cover(system, auction_id)
    assert _named(system, "Absorbed", "LossAllocated") == [
        _absorbed(system, 1, auction_id, 500 * RAD),
        _allocated(system, auction_id, POOL, p, 500 * RAD),
        _allocated(system, auction_id, DEBT_AUCTION, d.debt_auction, loss - 500 * RAD),
    ]
    assert _backstop(system, "open_losses") == 0
    assert _pool(system, "assets") == _pool(system, "value_of", a) == 0
    assert _pool(system, "total_shares") == 500 * RAD

    _stake_pending(system, b, 700 * RAD)
    system.warp(EXPOSURE_DELAY)
    with reverts("pool: wiped out"):
        system.tx(p, "activate", b)

    with reverts("pool: not realized"):
        system.tx(p, "request_withdrawal", a, 500 * RAD)
    assert _realize(system, a) == [_charged(system, 1, a, 500 * RAD)]
    system.tx(p, "request_withdrawal", a, 500 * RAD)
    system.warp(COOLDOWN)
    stable_0 = _stable(system, a)
    system.tx(p, "withdraw", a)
    assert _events(system) == [
        (d.engine, "StableTransferred", {"src": p, "dst": a, "amount": 0}),
        (p, "Withdrawn", {"staker": a, "shares": 500 * RAD, "amount": 0}),
    ]
    assert _stable(system, a) == stable_0
    assert (_pool(system, "total_shares"), _pool(system, "staker_count")) == (0, 0)

    system.tx(p, "activate", b)
    assert _events(system)[-1] == (
        p,
        "Activated",
        {"staker": b, "amount": 700 * RAD, "shares": 700 * RAD},
    )
    assert _pool(system, "assets") == _pool(system, "value_of", b) == 700 * RAD
    # B is exposed from the next charge on, not to A's
    assert _pool(system, "next_charge", b) == 2
