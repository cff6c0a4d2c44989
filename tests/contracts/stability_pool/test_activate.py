"""StabilityPool.activate: a pending stake turns into shares, at the post-loss price, only when no
loss is open. Stakers and the loss: tests/contracts/support/stability_pool.py.
"""

from __future__ import annotations

from support.stability_pool import EXPOSURE_DELAY
from support.stability_pool import absorbed as _absorbed
from support.stability_pool import backstop as _backstop
from support.stability_pool import cover as _cover
from support.stability_pool import crash_and_liquidate as _crash_and_liquidate
from support.stability_pool import named as _named
from support.stability_pool import pool as _pool
from support.stability_pool import returns as _returns
from support.stability_pool import sell_out as _sell_out
from support.stability_pool import stake as _stake
from support.stability_pool import stake_pending as _stake_pending
from support.stability_pool import staker as _staker

from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_activate__waits_until_no_loss_is_open_then_the_staker_turns_pending_into_shares_at_post_loss_price(  # noqa: E501  (a test's name says its behaviour)
    system,
):
    """Money flow: A stakes 3,000; C stakes 500 during the crash (pending). The loss L (~1,000) is
    paid by the pool, i.e. by A's shares: assets 3,000 - L for 3,000 shares. Then C activates its
    stake: 500 buy 500 x 3,000 / (3,000 - L) shares (rounded down), worth 500 less at most
    one rad-wei of rounding: C paid nothing for the loss."""
    r, p = system.roles, system.d.stability_pool
    _staker(system, r.other)
    _staker(system, r.feeder)
    _stake(system, r.other, 3_000 * RAD)
    (auction_id,), loss = _crash_and_liquidate(system, [r.borrower])
    _stake_pending(system, r.feeder, 500 * RAD)
    with reverts("pool: stake too recent"):
        system.tx(p, "activate", r.feeder)
    _sell_out(system, auction_id, loss)
    # closed with a loss, not yet covered: still open
    assert _backstop(system, "open_losses") == 1
    system.warp(EXPOSURE_DELAY)
    with reverts("pool: losses open"):
        system.tx(p, "activate", r.feeder)
    _cover(system, auction_id)
    assert _named(system, "Absorbed") == [_absorbed(system, 1, auction_id, loss)]
    assert _backstop(system, "open_losses") == 0
    assets = 3_000 * RAD - loss
    assert _pool(system, "assets") == assets

    system.tx(p, "activate", r.feeder)
    minted = 500 * RAD * 3_000 * RAD // assets
    assert _events(system) == [
        (p, "Activated", {"staker": r.feeder, "amount": 500 * RAD, "shares": minted})
    ]
    assert _pool(system, "shares", r.feeder) == minted
    assert _pool(system, "pending", r.feeder) == _pool(system, "pending_total") == 0
    assert _pool(system, "total_shares") == 3_000 * RAD + minted
    assert _pool(system, "staker_count") == 2
    assert _pool(system, "assets") == assets + 500 * RAD
    value = minted * (assets + 500 * RAD) // (3_000 * RAD + minted)
    assert _pool(system, "value_of", r.feeder) == value
    assert 500 * RAD - 1 <= value <= 500 * RAD
    # C joined after charge 1: nothing to realize
    assert _pool(system, "next_charge", r.feeder) == 2
    assert _returns(system, p, "realize", r.keeper, r.feeder, 10) == 0
    with reverts("pool: no pending"):
        system.tx(p, "activate", r.feeder)
