"""StabilityPool.realize: each staker's part of each charge, the last to realize paying the rounding
remainder; max_charges bounds the work. Stakers and the loss:
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
from support.stability_pool import stake as _stake
from support.stability_pool import stake_pending as _stake_pending
from support.stability_pool import staker as _staker

from offchain.model.backstop import FUND, POOL
from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts

MAX_CHARGES_PER_REALIZE = 256


def test_realize__three_equal_stakers__last_to_realize_pays_the_rounding_remainder(system):
    """Money flow: A, B and C stake 1,000 each. The keeper gives the Backstop its unattributed
    bad debt (the keeper reward, which the fund keeps surplus for first: finding 31-6) plus 1
    rad-wei, so the insurance fund pays 1 wei of the loss L (a multiple of 3 here) and the pool
    the charge L - 1,
    which 3 does not divide. C and A (the first two to realize) are charged (L - 1) // 3 each; B,
    the last, the remainder (L - 1) // 3 + 2: the receipts add up to the charge exactly. Balances
    do not depend on the order: each staker is worth 1,000 x (3,000 - charge) / 3,000, rounded
    down."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    a, b, c = r.other, r.stranger, r.feeder
    for who in (a, b, c):
        _staker(system, who)
        _stake(system, who, 1_000 * RAD)
    (auction_id,), loss = _crash_and_liquidate(system, [r.borrower])
    _sell_out(system, auction_id, loss)
    unattributed = _backstop(system, "unattributed_debt")
    assert unattributed > 0  # the liquidation's keeper reward
    system.tx(d.engine, "transfer_stable", r.keeper, r.keeper, d.backstop, unattributed + 1)
    _cover(system, auction_id)
    charge = loss - 1
    assert _named(system, "Absorbed", "LossAllocated") == [
        _allocated(system, auction_id, FUND, d.backstop, 1),
        _absorbed(system, 1, auction_id, charge),
        _allocated(system, auction_id, POOL, p, charge),
    ]
    assert (_pool(system, "charge_total_shares", 1), _pool(system, "charge_stakers_left", 1)) == (
        3_000 * RAD,
        3,
    )
    assert charge % 3 == 2
    share = charge // 3

    receipts = []
    for who, amount, left in ((c, share, 2), (a, share, 1), (b, share + 2, 0)):
        assert not _pool(system, "is_realized", who)
        events = _realize(system, who)
        assert events == [_charged(system, 1, who, amount)]
        receipts.append(events[0][2]["amount"])
        assert _pool(system, "charge_stakers_left", 1) == left
        assert _pool(system, "charge_attributed", 1) == sum(receipts)
        assert _pool(system, "is_realized", who)
        assert _pool(system, "next_charge", who) == 2
    assert sum(receipts) == charge
    for who in (a, b, c):
        assert _pool(system, "value_of", who) == 1_000 * RAD * (3_000 * RAD - charge) // (
            3_000 * RAD
        )
    # realizing again: nothing left to realize, no receipt
    assert _returns(system, p, "realize", r.keeper, b, 10) == 0
    assert _realize(system, b) == []


def test_realize__max_charges_bounds_the_work__unrealized_staker_cannot_withdraw_request_or_activate(  # noqa: E501  (a test's name says its behaviour)
    system,
):
    """Money flow: A stakes 3,000 and B 1,000; A asks for 1,000 shares back before the crash. Two
    vaults are liquidated (borrower, governance) and the pool pays both losses: charges 1 and 2 of
    L each, A's part 3/4 L each, B's 1/4 L. Assets 4,000 - 2L for 4,000 shares. A, unrealized, is
    turned away until both charges are realized (one per call with max_charges = 1), then
    withdraws 1,000 x (4,000 - 2L) / 4,000. B, unrealized, can neither ask to withdraw nor have a
    new stake activated (it waits as pending even with no loss open) until B realizes both; then
    B's 100 buy shares at the price after A left."""
    r, p = system.roles, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b):
        _staker(system, who)
    _stake(system, a, 3_000 * RAD)
    _stake(system, b, 1_000 * RAD)
    system.tx(p, "request_withdrawal", a, 1_000 * RAD)
    ids, loss = _crash_and_liquidate(system, [r.borrower, r.governance])
    for auction_id in ids:
        _sell_out(system, auction_id, loss)
    for charge_id, auction_id in enumerate(ids, start=1):
        _cover(system, auction_id)
        assert _named(system, "Absorbed") == [_absorbed(system, charge_id, auction_id, loss)]
    assert _backstop(system, "open_losses") == 0
    assert _pool(system, "charge_count") == 2
    assets = 4_000 * RAD - 2 * loss
    assert _pool(system, "assets") == assets
    system.warp(COOLDOWN)

    # the gates
    with reverts("pool: not realized"):
        system.tx(p, "withdraw", a)
    with reverts("pool: not realized"):
        system.tx(p, "request_withdrawal", b, 1)
    _stake_pending(system, b, 100 * RAD)
    assert _events(system)[-1] == (p, "StakePending", {"staker": b, "amount": 100 * RAD})
    system.warp(EXPOSURE_DELAY)
    with reverts("pool: not realized"):
        system.tx(p, "activate", b)

    # max_charges: one charge per call
    a_charge = 3_000 * RAD * loss // (4_000 * RAD)
    assert _returns(system, p, "realize", r.keeper, a, 1) == 1
    assert _realize(system, a, 1) == [_charged(system, 1, a, a_charge)]
    assert _pool(system, "next_charge", a) == 2
    assert not _pool(system, "is_realized", a)
    with reverts("pool: not realized"):
        system.tx(p, "withdraw", a)
    # more than the 256 a call may realize: reverts without a reason (the loop's bound)
    with reverts(None):
        system.tx(p, "realize", r.keeper, a, MAX_CHARGES_PER_REALIZE + 1)
    assert _returns(system, p, "realize", r.keeper, a, MAX_CHARGES_PER_REALIZE) == 1
    assert _realize(system, a, 5) == [_charged(system, 2, a, a_charge)]
    assert _pool(system, "next_charge", a) == 3
    assert _pool(system, "is_realized", a)

    system.tx(p, "withdraw", a)
    a_paid = 1_000 * RAD * assets // (4_000 * RAD)
    assert _events(system)[-1] == (
        p,
        "Withdrawn",
        {"staker": a, "shares": 1_000 * RAD, "amount": a_paid},
    )

    # B, the last of both charges, pays the remainders
    b_charge = loss - a_charge
    assert _realize(system, b, 2) == [
        _charged(system, 1, b, b_charge),
        _charged(system, 2, b, b_charge),
    ]
    for charge_id in (1, 2):
        assert _pool(system, "charge_attributed", charge_id) == loss
        assert _pool(system, "charge_stakers_left", charge_id) == 0
    system.tx(p, "activate", b)
    minted = 100 * RAD * 3_000 * RAD // (assets - a_paid)
    assert _events(system) == [
        (p, "Activated", {"staker": b, "amount": 100 * RAD, "shares": minted})
    ]
    assert _pool(system, "shares", b) == 1_000 * RAD + minted


def test_realize__staker_without_shares__returns_0_and_logs_nothing(system):
    r, p = system.roles, system.d.stability_pool
    assert _returns(system, p, "realize", r.keeper, r.stranger, 10) == 0
    assert _realize(system, r.stranger) == []
    assert _pool(system, "next_charge", r.stranger) == 0
    assert _pool(system, "is_realized", r.stranger)
