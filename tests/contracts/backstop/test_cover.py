"""Backstop.cover of one loss event: the queue delay, events with nothing to cover, a partial cover
completed by a second, and the layers a cover skips (a fund without surplus, a pool without
stakers, stakes made while the loss was open, redistribution with no other debt). The loss event
used throughout: tests/contracts/support/waterfall.py.
"""

from __future__ import annotations

from helpers import heal
from support.waterfall import (
    COLLATERAL,
    DEFAULT_WATERFALL,
    ETH,
    QUEUE_DELAY,
    TAKE_DELAY,
    TAKE_PRICE,
    LossEvent,
)
from support.waterfall import assert_done as _assert_done
from support.waterfall import backstop as _backstop
from support.waterfall import bad_debt as _bad_debt
from support.waterfall import cover as _cover
from support.waterfall import crash as _crash
from support.waterfall import ctype as _ctype
from support.waterfall import liquidate_borrower as _liquidate_borrower
from support.waterfall import loss_event as _loss_event
from support.waterfall import mint_stable as _mint_stable
from support.waterfall import pool as _pool
from support.waterfall import receipts as _receipts
from support.waterfall import set_waterfall as _set_waterfall
from support.waterfall import stable as _stable

from offchain.model.backstop import (
    CLOSED,
    DEBT_AUCTION,
    DONE,
    FUND,
    NO_LOSS,
    POOL,
    REDISTRIBUTION,
    RUNNING,
)
from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def test_cover__before_queue_delay__reverts_still_queued__at_delay_anyone_covers(system):
    """Money flow: with 2,000 of surplus, the fund layer pays the whole loss (about 1,120) when
    the stranger
    (no role at all) covers at exactly created_at + queue_delay; 2,000 - L of surplus remains."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=2_000 * RAD)
    system.lockstep.set_next_block_time(event.created_at + QUEUE_DELAY - 1)
    with reverts("backstop: still queued"):
        system.tx(b, "cover", r.stranger, *event.key)
    assert _backstop(system, "losses", *event.key) == (
        event.debt,
        event.loss,
        event.created_at,
        CLOSED,
    )

    assert _cover(system, event, sender=r.stranger) == [(FUND, b, event.loss)]
    assert system.now == event.created_at + QUEUE_DELAY
    _assert_done(system, event, healed=event.loss)
    assert (_stable(system, b), _bad_debt(system, b)) == (2_000 * RAD - event.loss, event.reward)


def test_cover__auction_still_running__reverts_nothing_to_cover(system):
    """Money flow: none; a running auction's event has no loss yet, however long it runs."""
    r, b = system.roles, system.d.backstop
    event = _liquidate_borrower(system)
    system.lockstep.set_next_block_time(event.created_at + QUEUE_DELAY)
    with reverts("backstop: nothing to cover"):
        system.tx(b, "cover", r.stranger, *event.key)
    assert _backstop(system, "losses", *event.key) == (
        event.debt,
        event.to_raise,
        event.created_at,
        RUNNING,
    )


def test_cover__event_done_or_unknown__reverts_nothing_to_cover(system):
    """Money flow: the first cover pays the loss from the fund; a second cover of the same
    event, and a cover of events that never existed (another id; the same id under another
    auction contract), have nothing to pay."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=2_000 * RAD)
    _cover(system, event)
    _assert_done(system, event, healed=event.loss)
    with reverts("backstop: nothing to cover"):
        system.tx(b, "cover", r.stranger, *event.key)
    with reverts("backstop: nothing to cover"):
        system.tx(b, "cover", r.stranger, event.type_id, event.auction, event.auction_id + 1)
    with reverts("backstop: nothing to cover"):
        system.tx(b, "cover", r.stranger, event.type_id, system.btc.auction, event.auction_id)
    assert _backstop(system, "losses", event.type_id, system.btc.auction, event.auction_id) == (
        0,
        0,
        0,
        NO_LOSS,
    )
    assert _stable(system, b) == 2_000 * RAD - event.loss


def test_cover__auction_raised_everything__event_done_at_close__nothing_to_cover(system):
    """Money flow: a smaller vault (10 ETH / 8,000 of normalized debt) is liquidated; at 1,188
    the 10 ETH are worth more than the T (about 9,040) to raise, so the keeper pays exactly T,
    straight to the Backstop (the take finishes the auction), for T / 1,188 ETH: D settles the
    seized debt (once healed), T - D (the penalty) is surplus, the rest of the collateral goes
    back to the borrower, and the event is done at close with no loss."""
    r, t, b = system.roles, system.eth, system.d.backstop
    system.open_vault(r.borrower, ETH, COLLATERAL, 8_000 * WAD)
    _crash(system)
    system.tx(system.d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    event = LossEvent(t.type_id, t.auction, 1, system.now, _ctype(system).rate, 8_000 * WAD)
    _mint_stable(system, r.keeper, event.to_raise)
    system.tx(system.d.engine, "allow", r.keeper, t.auction)
    system.lockstep.set_next_block_time(event.created_at + TAKE_DELAY)
    system.tx(t.auction, "take", r.keeper, 1, COLLATERAL, TAKE_PRICE, r.keeper, b"")
    paid = [args for addr, name, args in _events(system) if name == "StableTransferred"]
    assert paid == [{"src": r.keeper, "dst": b, "amount": event.to_raise}]
    closed = [args for addr, name, args in _events(system) if addr == b and name == "LossClosed"]
    assert closed == [
        {
            "collateral_type": t.type_id,
            "auction": t.auction,
            "auction_id": 1,
            "raised": event.to_raise,
            "covered": event.debt,
            "loss": 0,
        }
    ]
    assert _stable(system, t.auction) == 0
    assert _backstop(system, "losses", *event.key) == (event.debt, 0, event.created_at, DONE)
    assert _backstop(system, "open_losses") == 0
    assert _backstop(system, "attributed_debt") == event.debt
    assert _stable(system, b) == event.to_raise
    heal(system, event.debt)
    assert _backstop(system, "attributed_debt") == 0
    assert _stable(system, b) == event.to_raise - event.debt
    assert _read(system, system.d.engine, "collateral", t.type_id, r.borrower) == (
        COLLATERAL - event.to_raise // TAKE_PRICE
    )
    system.lockstep.set_next_block_time(event.created_at + QUEUE_DELAY)
    with reverts("backstop: nothing to cover"):
        system.tx(b, "cover", r.stranger, *event.key)


def test_cover__partial__due_is_the_rest__second_cover_completes_conserving_loss(system):
    """Money flow: waterfall [fund, pool] with 300 of surplus and 500 staked: the first cover
    pays 800 and leaves L - 800 due on the event (still open, still attributed); with the debt
    auction enabled, a second cover hands it the rest. Over both covers the receipts sum to the
    loss of LossClosed exactly."""
    r, b, pool = system.roles, system.d.backstop, system.d.stability_pool
    event = _loss_event(system, surplus=300 * RAD, stake=500 * RAD, for_reward=True)
    _set_waterfall(system, [FUND, POOL])
    rest = event.loss - 800 * RAD
    first = _cover(system, event)
    assert first == [(FUND, b, 300 * RAD), (POOL, pool, 500 * RAD)]
    assert _backstop(system, "losses", *event.key) == (event.debt, rest, event.created_at, CLOSED)
    assert _backstop(system, "open_losses") == 1
    # the 800 paid wait for a heal: still attributed, beside the rest still due
    assert _backstop(system, "unsettled_proceeds") == 800 * RAD
    assert _backstop(system, "attributed_debt") == rest + 800 * RAD
    assert _backstop(system, "unattributed_debt") == event.reward

    _set_waterfall(system, DEFAULT_WATERFALL)
    system.tx(b, "cover", r.stranger, *event.key)
    second = _receipts(system, event)
    assert second == [(DEBT_AUCTION, system.d.debt_auction, rest)]
    assert sum(amount for _, _, amount in first + second) == event.loss
    _assert_done(system, event, healed=800 * RAD)
    assert _backstop(system, "debt_to_auction") == rest


def test_cover__fund_with_no_surplus__skipped_without_receipt(system):
    """Money flow: no surplus: the fund layer pays nothing and logs nothing; the pool pays its
    500, the debt auction the other L - 500."""
    b, pool = system.d.backstop, system.d.stability_pool
    event = _loss_event(system, stake=500 * RAD)
    assert _stable(system, b) == 0
    assert _cover(system, event) == [
        (POOL, pool, 500 * RAD),
        (DEBT_AUCTION, system.d.debt_auction, event.loss - 500 * RAD),
    ]
    # nothing is settled in the cover: the pool's payment waits for a heal
    settled = [args["amount"] for addr, name, args in _events(system) if name == "DebtSettled"]
    assert settled == []
    _assert_done(system, event, healed=500 * RAD)


def test_cover__pool_without_stakers__skipped_without_receipt(system):
    """Money flow: nobody staked: the pool pays nothing, records no charge and logs nothing;
    the fund pays its 300, the debt auction the other L - 300."""
    b, pool = system.d.backstop, system.d.stability_pool
    event = _loss_event(system, surplus=300 * RAD, for_reward=True)
    assert _cover(system, event) == [
        (FUND, b, 300 * RAD),
        (DEBT_AUCTION, system.d.debt_auction, event.loss - 300 * RAD),
    ]
    assert [name for addr, name, _ in _events(system) if addr == pool] == []
    assert _pool(system, "charge_count") == 0
    _assert_done(system, event, healed=300 * RAD)
    assert _backstop(system, "debt_to_auction") == event.loss - 300 * RAD


def test_cover__stake_made_while_loss_open__pending_stake_not_taken(system):
    """Money flow: the stranger staked 500 before the crash; the keeper stakes 1,000 while the
    loss is open, so it waits as pending, not exposed. The pool pays its 500 of exposed assets
    only (its own count of assets, not the pending), the debt auction takes L - 500, and the
    keeper takes the whole 1,000 back."""
    r, pool = system.roles, system.d.stability_pool
    event = _loss_event(system, stake=500 * RAD)
    _mint_stable(system, r.keeper, 1_000 * RAD)
    system.tx(system.d.engine, "allow", r.keeper, pool)
    system.tx(pool, "stake", r.keeper, 1_000 * RAD)
    assert _events(system)[-1] == (
        pool,
        "StakePending",
        {"staker": r.keeper, "amount": 1_000 * RAD},
    )
    assert _pool(system, "assets") == 500 * RAD

    assert _cover(system, event) == [
        (POOL, pool, 500 * RAD),
        (DEBT_AUCTION, system.d.debt_auction, event.loss - 500 * RAD),
    ]
    _assert_done(system, event, healed=500 * RAD)
    assert (_stable(system, pool), _pool(system, "assets")) == (1_000 * RAD, 0)
    assert _pool(system, "pending", r.keeper) == 1_000 * RAD
    system.tx(pool, "cancel_pending", r.keeper)
    assert _stable(system, r.keeper) == event.reward + 1_000 * RAD
    assert _stable(system, pool) == 0


def test_cover__redistribution_with_no_other_type_debt__skipped_event_stays_open(system):
    """Money flow: waterfall [redistribution]; the liquidated vault was the type's only debt,
    so there is nobody to redistribute to: nothing is paid, the rate is unchanged, no receipt,
    and the whole loss stays due."""
    event = _loss_event(system)
    assert _ctype(system).normalized_debt == 0
    _set_waterfall(system, [REDISTRIBUTION])
    assert _cover(system, event) == []
    assert _events(system) == []
    assert _ctype(system).rate == event.rate
    assert _backstop(system, "losses", *event.key) == (
        event.debt,
        event.loss,
        event.created_at,
        CLOSED,
    )
    assert _backstop(system, "open_losses") == 1
