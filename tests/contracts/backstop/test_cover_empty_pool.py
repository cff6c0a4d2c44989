"""Backstop.cover with a stability pool that has no shares: the pool pays nothing and the loss moves
on to the debt auction; pending stakes are untouched. Scenario and helpers:
tests/contracts/support/stability_pool.py.
"""

from __future__ import annotations

from support.stability_pool import QUEUE_DELAY
from support.stability_pool import allocated as _allocated
from support.stability_pool import backstop as _backstop
from support.stability_pool import cover as _cover
from support.stability_pool import crash_and_liquidate as _crash_and_liquidate
from support.stability_pool import named as _named
from support.stability_pool import pool as _pool
from support.stability_pool import returns as _returns
from support.stability_pool import sell_out as _sell_out
from support.stability_pool import stable as _stable
from support.stability_pool import stake_pending as _stake_pending
from support.stability_pool import staker as _staker

from offchain.model.backstop import DEBT_AUCTION
from offchain.model.fixed_point import RAD


def test_cover__pool_without_shares__pays_nothing_and_the_loss_moves_on_to_the_debt_auction(system):
    """Money flow: nobody holds shares; C's 500 staked during the crash wait as pending. The pool
    pays nothing (absorb returns 0, records no charge) and the whole loss L goes to the next layer,
    the debt auction. C's pending 500 are untouched."""
    r, d, t, p = system.roles, system.d, system.eth, system.d.stability_pool
    _staker(system, r.feeder)
    (auction_id,), loss = _crash_and_liquidate(system, [r.borrower])
    _stake_pending(system, r.feeder, 500 * RAD)
    _sell_out(system, auction_id, loss)
    system.warp(QUEUE_DELAY)
    assert _returns(system, p, "absorb", d.backstop, t.type_id, t.auction, auction_id, loss) == 0
    _cover(system, auction_id)
    assert _named(system, "Absorbed", "LossAllocated") == [
        _allocated(system, auction_id, DEBT_AUCTION, d.debt_auction, loss),
    ]
    assert _pool(system, "charge_count") == 0
    assert _stable(system, p) == _pool(system, "pending", r.feeder) == 500 * RAD
    assert _backstop(system, "debt_to_auction") == loss
    assert _backstop(system, "open_losses") == 0
