"""The Backstop's loss events and loss waterfall (docs/loss-waterfall.md), on chain and in the
model at once.

One loss event is used throughout, with numbers written from the spec and devnet.toml:
the borrower locks 10 ETH and draws 13,000 BUSD of normalized debt (the rate is a hair above 1:
one second of fees accrued at deployment, and none since); ETH crashes from 2,000 to 1,000 and
the keeper liquidates. The seized debt D is 13,000 x rate and the auction must raise
T = ceil(D x 1.13), about 14,690; the keeper's reward, 300 + 0.1% x T (about 314.69), is the
Backstop's unattributed bad debt. The auction starts at 1,000 x 1.2 = 1,200 and falls x0.99
every 90 s (stairstep); 90 s in, the keeper buys all 10 ETH at exactly 1,188: it raises
11,880, so `unraised` (about 2,810) is more than the penalty part (about 1,690) and the event
closes with a loss L = D - 11,880, about 1,120 BUSD, which `cover` sends through the waterfall
once the queue delay (3,600 s) has passed. Every amount below is computed exactly from D.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from helpers import ceil_div, heal, started_auction

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
from offchain.model.fixed_point import RAD, RAY, WAD, rmul_up, rpow_up
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices, reverts
from offchain.testing.harness import read as _read

ETH = "ETH-A"
DEFAULT_WATERFALL = [FUND, POOL, DEBT_AUCTION, REDISTRIBUTION]
# config/devnet.toml
QUEUE_DELAY = 3_600
POOL_FEE_SHARE = WAD // 4  # 0.25
SURPLUS_BUFFER = 500_000 * RAD
SURPLUS_LOT = 10_000 * RAD
DEBT_AUCTION_BID = 50_000 * RAD

# the loss event every test uses (module docstring)
CRASH_PRICE = 1_000 * WAD
COLLATERAL = 10 * WAD
TAKE_PRICE = 1_188 * RAY  # 1,200 x 0.99: one stairstep after the start
TAKE_DELAY = 90
RAISED = 10 * 1_188 * RAD  # 11,880 BUSD


# ---------------------------------------------------------------- reading (chain == model)


def _stable(system, who) -> int:
    return _read(system, system.d.engine, "stable", who)


def _bad_debt(system, who) -> int:
    return _read(system, system.d.engine, "bad_debt", who)


def _backstop(system, getter, *args):
    return _read(system, system.d.backstop, getter, *args)


def _pool(system, getter, *args):
    return _read(system, system.d.stability_pool, getter, *args)


def _ctype(system):
    """ETH-A's (normalized_debt, rate, safe_price, debt_ceiling, dust)."""
    return (
        system.engine()
        .collateral_types[system.eth.type_id]
        ._make(_read(system, system.d.engine, "collateral_types", system.eth.type_id))
    )


# ---------------------------------------------------------------- the loss event


@dataclass(frozen=True)
class LossEvent:
    """One liquidation of the borrower's vault: the Backstop's key for it and its amounts [rad],
    written from the spec at the type's rate when the vault was seized."""

    type_id: bytes
    auction: str
    auction_id: int
    created_at: int
    rate: int  # [ray]
    normalized_debt: int = 13_000 * WAD

    @property
    def key(self) -> tuple:
        """Backstop.losses / cover arguments."""
        return (self.type_id, self.auction, self.auction_id)

    @property
    def debt(self) -> int:
        """Seized debt D, without penalty."""
        return self.normalized_debt * self.rate

    @property
    def to_raise(self) -> int:
        """T = ceil(D x 1.13)."""
        return ceil_div(self.debt * 113, 100)

    @property
    def reward(self) -> int:
        """The keeper's reward: 300 + 0.1% of T, rounded down (unattributed bad debt)."""
        return 300 * RAD + self.to_raise // 1_000

    @property
    def loss(self) -> int:
        """What the take's 11,880 leaves of D: about 1,120."""
        return self.debt - RAISED


def _crash(system, price: int = CRASH_PRICE) -> None:
    """The feeder posts `price`; two oracle pokes a delay apart make it current (valid for
    max_age from the post), and the spotter writes the new safe price to the engine."""
    move_prices(system, [(system.eth, price)])


def _mint_stable(system, who: str, amount: int) -> None:
    """Governance mints `amount` [rad] of internal stablecoin to `who` against its own bad debt
    (not the Backstop's: it is no part of any loss)."""
    system.tx(
        system.d.engine,
        "create_unbacked",
        system.roles.governance,
        system.roles.governance,
        who,
        amount,
    )


def _give_surplus(system, amount: int) -> None:
    """The Backstop's insurance fund: `amount` [rad] of stablecoin minted to it against
    governance's bad debt."""
    if amount:
        _mint_stable(system, system.d.backstop, amount)


def _stake(system, staker: str, amount: int) -> None:
    """`staker` gets `amount` [rad] of stablecoin, lets the pool take it and stakes it; with no
    loss open, the stake becomes shares when the staker activates it, an exposure delay later."""
    if not amount:
        return
    _mint_stable(system, staker, amount)
    system.tx(system.d.engine, "allow", staker, system.d.stability_pool)
    system.tx(system.d.stability_pool, "stake", staker, amount)
    system.warp(_read(system, system.d.stability_pool, "exposure_delay"))
    system.tx(system.d.stability_pool, "activate", staker)
    assert _events(system)[-1][1] == "Activated"


def _liquidate_borrower(system, vaults=()) -> LossEvent:
    """Other `vaults` (owner, collateral [wad], normalized debt [wad]) open first; the borrower's
    10 ETH / 13,000 vault is liquidated after the crash. Returns the open (running) loss event."""
    r, t = system.roles, system.eth
    for owner, collateral, debt in vaults:
        system.open_vault(owner, ETH, collateral, debt)
    system.open_vault(r.borrower, ETH, COLLATERAL, 13_000 * WAD)
    _crash(system)
    rate = _ctype(system).rate
    # one second of fees accrued at deployment (set_multiplier charges the base fee first)
    assert RAY < rate < RAY + RAY // 10**9
    system.tx(system.d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    event = LossEvent(t.type_id, t.auction, started_auction(system, t.auction), system.now, rate)
    assert 1_120 * RAD < event.loss < 1_121 * RAD
    opened = [
        args
        for addr, name, args in _events(system)
        if addr == system.d.backstop and name == "LossOpened"
    ]
    assert opened == [
        {
            "collateral_type": t.type_id,
            "auction": t.auction,
            "auction_id": event.auction_id,
            "debt": event.debt,
            "to_raise": event.to_raise,
        }
    ]
    return event


def _sell_out_below_debt(system, event: LossEvent, then_heal: bool = True) -> None:
    """The keeper buys all 10 ETH one stairstep in, at 1,188: the take sells out, so the keeper
    pays the 11,880 straight to the Backstop (nothing is escrowed, nothing pulled) and the
    Backstop closes the event with a loss of D - 11,880 (about 1,120). The 11,880 are unsettled
    proceeds until the stranger heals them (unless `then_heal` is false): then they have
    cancelled as much of the seized debt."""
    r = system.roles
    _mint_stable(system, r.keeper, RAISED)
    system.tx(system.d.engine, "allow", r.keeper, event.auction)
    system.lockstep.set_next_block_time(event.created_at + TAKE_DELAY)
    system.tx(
        event.auction, "take", r.keeper, event.auction_id, COLLATERAL, TAKE_PRICE, r.keeper, b""
    )
    paid = [args for addr, name, args in _events(system) if name == "StableTransferred"]
    assert paid == [{"src": r.keeper, "dst": system.d.backstop, "amount": RAISED}]
    closed = [
        args
        for addr, name, args in _events(system)
        if addr == system.d.backstop and name == "LossClosed"
    ]
    assert closed == [
        {
            "collateral_type": event.type_id,
            "auction": event.auction,
            "auction_id": event.auction_id,
            "raised": RAISED,
            "covered": RAISED,
            "loss": event.loss,
        }
    ]
    if then_heal:
        heal(system, RAISED)


def _loss_event(
    system, surplus: int = 0, stake: int = 0, vaults=(), for_reward: bool = False
) -> LossEvent:
    """The stranger stakes `stake` in the stability pool (before the crash, so it is exposed),
    the borrower is liquidated and the auction sells out below the debt, leaving a loss of
    about 1,120; then the Backstop receives `surplus` as insurance fund, and with `for_reward`
    the keeper's reward besides: the fund keeps surplus for the unattributed bad debt (the
    reward) first and pays a loss only from what is above it (finding 31-6), so that the fund
    may pay all of `surplus`. Returns the closed event."""
    _stake(system, system.roles.stranger, stake)
    event = _liquidate_borrower(system, vaults)
    _sell_out_below_debt(system, event)
    _give_surplus(system, surplus + (event.reward if for_reward else 0))
    return event


def _cover(system, event: LossEvent, sender=None) -> list[tuple[int, str, int]]:
    """Anyone (the stranger) covers `event` as soon as its queue delay has passed; returns its
    receipts (layer, participant, amount), in order."""
    system.lockstep.set_next_block_time(max(event.created_at + QUEUE_DELAY, system.now + 1))
    system.tx(system.d.backstop, "cover", sender or system.roles.stranger, *event.key)
    return _receipts(system, event)


def _receipts(system, event: LossEvent) -> list[tuple[int, str, int]]:
    out = []
    for addr, name, args in _events(system):
        if addr == system.d.backstop and name == "LossAllocated":
            assert (args["collateral_type"], args["auction"], args["auction_id"]) == event.key
            out.append((args["layer"], args["participant"], args["amount"]))
    return out


def _set_waterfall(system, order) -> None:
    system.tx(system.d.backstop, "set_waterfall", system.roles.governance, list(order))


def _assert_done(system, event: LossEvent, healed: int) -> None:
    """The event is done; what the fund, pool and redistribution layers paid for it, `healed`
    [rad], is held as unsettled proceeds (still attributed) until the stranger heals it; then
    nothing is attributed."""
    assert _backstop(system, "losses", *event.key) == (event.debt, 0, event.created_at, DONE)
    assert _backstop(system, "open_losses") == 0
    assert _backstop(system, "unsettled_proceeds") == healed
    assert _backstop(system, "attributed_debt") == healed
    if healed:
        heal(system, healed)
    assert _backstop(system, "attributed_debt") == 0


# ================================================================ loss events


def test_loss_event__auction_sold_out_below_debt__closes_with_loss_to_cover(system):
    """Money flow: the seized D (13,000 x rate) is the Backstop's bad debt from the liquidation,
    plus the keeper's reward (unattributed). The take sells out, so its 11,880 goes straight to
    the Backstop (never to the auction's escrow), which settles it against the seized debt at
    close, when anyone heals it: until then it is unsettled proceeds, still attributed and held.
    What is left attributed to the event is its loss, D - 11,880; no surplus remains."""
    r, b = system.roles, system.d.backstop
    event = _liquidate_borrower(system)
    assert _backstop(system, "losses", *event.key) == (
        event.debt,
        event.to_raise,
        event.created_at,
        RUNNING,
    )
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "attributed_debt") == event.debt
    assert _backstop(system, "unattributed_debt") == event.reward
    assert _stable(system, r.keeper) == event.reward

    _sell_out_below_debt(system, event, then_heal=False)
    # what the auction did not raise exceeds the penalty part: the debt itself is short
    assert event.to_raise - RAISED > event.to_raise - event.debt
    assert _backstop(system, "losses", *event.key) == (
        event.debt,
        event.loss,
        event.created_at,
        CLOSED,
    )
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "unsettled_proceeds") == RAISED
    assert _backstop(system, "attributed_debt") == event.loss + RAISED
    assert _backstop(system, "unattributed_debt") == event.reward
    assert (_stable(system, b), _bad_debt(system, b)) == (RAISED, event.debt + event.reward)
    heal(system, RAISED)
    assert _backstop(system, "attributed_debt") == event.loss
    assert _backstop(system, "unattributed_debt") == event.reward
    assert (_stable(system, b), _bad_debt(system, b)) == (0, event.loss + event.reward)
    assert _stable(system, event.auction) == 0
    assert _stable(system, r.keeper) == event.reward


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


def test_set_queue_delay__applies_to_events_already_open__and_logs(system):
    """Money flow: none until the cover; the delay is read when `cover` is called, so
    lengthening it holds back an event already closed, and shortening it releases it."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=2_000 * RAD)
    system.tx(b, "set_queue_delay", r.governance, 2 * QUEUE_DELAY)
    assert _events(system) == [(b, "QueueDelaySet", {"queue_delay": 2 * QUEUE_DELAY})]
    assert _backstop(system, "queue_delay") == 2 * QUEUE_DELAY
    system.lockstep.set_next_block_time(event.created_at + 2 * QUEUE_DELAY - 1)
    with reverts("backstop: still queued"):
        system.tx(b, "cover", r.stranger, *event.key)
    system.tx(b, "set_queue_delay", r.governance, 0)
    system.tx(b, "cover", r.stranger, *event.key)
    assert _receipts(system, event) == [(FUND, b, event.loss)]
    _assert_done(system, event, healed=event.loss)


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


# ================================================================ the same loss, several orders


def test_cover__default_waterfall__fund_then_pool_then_debt_auction(system):
    """Money flow: of the loss L (about 1,120), the insurance fund pays all its 300 of surplus
    (beyond the keeper reward it keeps for the unattributed bad debt: finding 31-6),
    the stability pool all its 500 of assets (moved to the Backstop: the pool's first charge),
    and the debt-auction layer takes the last L - 800 as debt to raise later by minting
    governance tokens (it stays the Backstop's bad debt, booked in debt_to_auction). The 800
    are unsettled proceeds until a heal cancels them against the event's bad debt. Receipts sum
    to the loss exactly."""
    r, b, pool = system.roles, system.d.backstop, system.d.stability_pool
    event = _loss_event(system, surplus=300 * RAD, stake=500 * RAD, for_reward=True)
    assert _backstop(system, "get_waterfall") == tuple(DEFAULT_WATERFALL)

    rest = event.loss - 800 * RAD
    receipts = _cover(system, event)
    assert receipts == [
        (FUND, b, 300 * RAD),
        (POOL, pool, 500 * RAD),
        (DEBT_AUCTION, system.d.debt_auction, rest),
    ]
    assert sum(amount for _, _, amount in receipts) == event.loss
    e, ids = (
        system.d.engine,
        {
            "collateral_type": event.type_id,
            "auction": event.auction,
            "auction_id": event.auction_id,
        },
    )
    # the fund's 300 and the pool's 500 are not cancelled here (no DebtSettled): they wait, as
    # unsettled proceeds, for a heal
    assert _events(system) == [
        (b, "LossAllocated", {**ids, "layer": FUND, "participant": b, "amount": 300 * RAD}),
        (e, "StableTransferred", {"src": pool, "dst": b, "amount": 500 * RAD}),
        (pool, "Absorbed", {**ids, "charge_id": 1, "amount": 500 * RAD}),
        (b, "LossAllocated", {**ids, "layer": POOL, "participant": pool, "amount": 500 * RAD}),
        (
            b,
            "LossAllocated",
            {**ids, "layer": DEBT_AUCTION, "participant": system.d.debt_auction, "amount": rest},
        ),
    ]
    held = 800 * RAD
    assert (_stable(system, b), _bad_debt(system, b)) == (
        held + event.reward,
        event.reward + rest + held,
    )
    _assert_done(system, event, healed=800 * RAD)
    assert _backstop(system, "debt_to_auction") == rest
    assert _backstop(system, "unattributed_debt") == event.reward
    # the surplus kept for the reward settles it
    assert (_stable(system, b), _bad_debt(system, b)) == (event.reward, event.reward + rest)
    assert (_pool(system, "assets"), _pool(system, "total_shares")) == (0, 500 * RAD)
    assert (_pool(system, "charge_count"), _pool(system, "charge_amount", 1)) == (1, 500 * RAD)
    assert _pool(system, "value_of", r.stranger) == 0
    assert _ctype(system).rate == event.rate


@pytest.mark.parametrize("pool_first", [False, True], ids=["fund_first", "pool_first"])
def test_cover__same_loss__order_decides_who_pays(system, pool_first):
    """Money flow: 300 of surplus and 1,000 staked, a loss L of about 1,120: both layers
    together can pay it, so the debt auction and redistribution pay nothing; which of the two
    is exhausted depends on the order alone. Fund first: it pays all 300, the pool L - 300 and
    keeps 1,300 - L (about 180). Pool first: it pays all 1,000, the fund L - 1,000 and keeps
    1,300 - L. The fund keeps the keeper reward besides (finding 31-6)."""
    b, pool = system.d.backstop, system.d.stability_pool
    event = _loss_event(system, surplus=300 * RAD, stake=1_000 * RAD, for_reward=True)
    left = 1_300 * RAD - event.loss
    if pool_first:
        _set_waterfall(system, [POOL, FUND, DEBT_AUCTION, REDISTRIBUTION])
        expected = [(POOL, pool, 1_000 * RAD), (FUND, b, event.loss - 1_000 * RAD)]
        fund_left, pool_left = left, 0
    else:
        expected = [(FUND, b, 300 * RAD), (POOL, pool, event.loss - 300 * RAD)]
        fund_left, pool_left = 0, left
    receipts = _cover(system, event)
    assert receipts == expected
    assert sum(amount for _, _, amount in receipts) == event.loss
    _assert_done(system, event, healed=event.loss)
    assert _stable(system, b) == fund_left + event.reward
    assert _pool(system, "assets") == pool_left
    assert _pool(system, "value_of", system.roles.stranger) == pool_left
    assert _backstop(system, "debt_to_auction") == 0
    assert _bad_debt(system, b) == event.reward


def test_cover__pool_then_fund__fund_pays_free_surplus_not_the_pools_payment(system):
    """Money flow: waterfall [pool, fund, debt auction], 100 of surplus and 500 staked, a loss L
    of about 1,120. The pool pays its 500 to the Backstop first; that stablecoin is owed to the
    loss (unsettled proceeds), not surplus, so the fund pays only its own 100 and the debt
    auction takes L - 600. Healed, the 600 cancel as much of the event's bad debt and the
    Backstop holds only the keeper reward it keeps for the unattributed bad debt (finding
    31-6)."""
    b, pool = system.d.backstop, system.d.stability_pool
    event = _loss_event(system, surplus=100 * RAD, stake=500 * RAD, for_reward=True)
    _set_waterfall(system, [POOL, FUND, DEBT_AUCTION])
    rest = event.loss - 600 * RAD
    assert _cover(system, event) == [
        (POOL, pool, 500 * RAD),
        (FUND, b, 100 * RAD),
        (DEBT_AUCTION, system.d.debt_auction, rest),
    ]
    assert _stable(system, b) == 600 * RAD + event.reward
    _assert_done(system, event, healed=600 * RAD)
    assert (_stable(system, b), _bad_debt(system, b)) == (event.reward, event.reward + rest)
    assert _backstop(system, "debt_to_auction") == rest


def test_cover__no_debt_auction_layer__rest_is_redistributed_to_the_type(system):
    """Money flow: waterfall [fund, pool, redistribution]: the fund pays 300, the pool 500, and
    the last L - 800 is folded into ETH-A's rate: the other's 7,000 of normalized debt now owe
    7,000 x ceil((L - 800) / 7,000) >= L - 800 more, credited to the Backstop, which settles
    L - 800 (with the fund's and the pool's payments, when healed) and keeps the rounding excess
    as surplus. No debt is left to auction."""
    r, b, pool, e = system.roles, system.d.backstop, system.d.stability_pool, system.d.engine
    event = _loss_event(
        system,
        surplus=300 * RAD,
        stake=500 * RAD,
        vaults=[(r.other, 30 * WAD, 7_000 * WAD)],
        for_reward=True,
    )
    _set_waterfall(system, [FUND, POOL, REDISTRIBUTION])
    receipts = _cover(system, event)
    rest = event.loss - 800 * RAD
    assert receipts == [(FUND, b, 300 * RAD), (POOL, pool, 500 * RAD), (REDISTRIBUTION, e, rest)]
    assert sum(amount for _, _, amount in receipts) == event.loss
    art = 7_000 * WAD
    delta_rate = ceil_div(rest, art)
    excess = art * delta_rate - rest
    assert 0 < excess < art
    redistributed = [
        args for addr, name, args in _events(system) if addr == b and name == "LossRedistributed"
    ]
    assert redistributed == [
        {
            "collateral_type": event.type_id,
            "auction": event.auction,
            "auction_id": event.auction_id,
            "delta_rate": delta_rate,
            "excess": excess,
        }
    ]
    _assert_done(system, event, healed=event.loss)
    assert _ctype(system).rate == event.rate + delta_rate
    assert _read(system, e, "vault_debt", event.type_id, r.other) == art * (event.rate + delta_rate)
    assert _backstop(system, "debt_to_auction") == 0
    assert (_stable(system, b), _bad_debt(system, b)) == (excess + event.reward, event.reward)


def test_cover__redistribution_only__rate_rises_and_near_line_vault_can_be_liquidated(system):
    """Money flow: waterfall [redistribution], no surplus, no stakers. The whole loss L is
    folded into ETH-A's rate: delta_rate = ceil(L / 24,500) over the other's 19,500 and the
    stranger's 5,000 of normalized debt; the vaults owe 24,500 x delta_rate, the Backstop settles
    L (when healed) and keeps the excess (LossRedistributed.excess) as surplus. The other's vault,
    safe at 1,000 (19,500 <= 30 x 666.67), now owes about 20,391: unsafe, and the keeper
    liquidates it (a cascade: a new loss event); the stranger's vault owes more but stays safe."""
    r, b, e = system.roles, system.d.backstop, system.d.engine
    near, far = (r.other, 30 * WAD, 19_500 * WAD), (r.stranger, 30 * WAD, 5_000 * WAD)
    event = _loss_event(system, vaults=[near, far])
    t = event.type_id
    assert _read(system, e, "is_safe", t, r.other) is True
    with reverts("liquidator: vault is safe"):
        system.tx(system.d.liquidator, "liquidate", r.keeper, t, r.other, r.keeper)
    _set_waterfall(system, [REDISTRIBUTION])

    receipts = _cover(system, event)
    assert receipts == [(REDISTRIBUTION, e, event.loss)]
    art = 24_500 * WAD
    delta_rate = ceil_div(event.loss, art)
    excess = art * delta_rate - event.loss
    assert 0 < excess < art
    folded = [args for addr, name, args in _events(system) if addr == e and name == "RateFolded"]
    assert folded == [
        {
            "collateral_type": t,
            "recipient": b,
            "delta_rate": delta_rate,
            "delta_stable": event.loss + excess,
        }
    ]
    redistributed = [
        args for addr, name, args in _events(system) if addr == b and name == "LossRedistributed"
    ]
    assert redistributed == [
        {
            "collateral_type": t,
            "auction": event.auction,
            "auction_id": event.auction_id,
            "delta_rate": delta_rate,
            "excess": excess,
        }
    ]
    _assert_done(system, event, healed=event.loss)
    assert _ctype(system).normalized_debt == art
    assert _ctype(system).rate == event.rate + delta_rate
    assert (_stable(system, b), _bad_debt(system, b)) == (excess, event.reward)
    near_debt = 19_500 * WAD * (event.rate + delta_rate)
    assert _read(system, e, "vault_debt", t, r.other) == near_debt
    assert _read(system, e, "vault_debt", t, r.stranger) == 5_000 * WAD * (event.rate + delta_rate)
    assert 20_391 * RAD < near_debt < 20_392 * RAD
    assert _read(system, e, "is_safe", t, r.other) is False
    assert _read(system, e, "is_safe", t, r.stranger) is True

    # the cascade: a fresh price (the first is stale by now), then the near vault is liquidated
    _crash(system)
    system.tx(system.d.liquidator, "liquidate", r.keeper, t, r.other, r.keeper)
    opened = [args for addr, name, args in _events(system) if addr == b and name == "LossOpened"]
    assert opened == [
        {
            "collateral_type": t,
            "auction": event.auction,
            # the first auction's slot, in its second generation: (1 << 10 | 0) + 1
            "auction_id": 1025,
            "debt": near_debt,
            "to_raise": ceil_div(near_debt * 113, 100),
        }
    ]
    assert _read(system, e, "vaults", t, r.other) == (0, 0)
    assert _backstop(system, "open_losses") == 1


def test_cover__empty_waterfall__pays_nothing_until_a_layer_is_enabled(system):
    """Money flow: waterfall []: the cover pays nothing and logs nothing, although 2,000 of
    surplus is there; the event stays open with all of its loss due. Once governance enables the
    fund, a second cover pays it all from the surplus."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=2_000 * RAD)
    _set_waterfall(system, [])
    assert _backstop(system, "get_waterfall") == ()
    assert _cover(system, event) == []
    assert _events(system) == []
    assert _backstop(system, "losses", *event.key) == (
        event.debt,
        event.loss,
        event.created_at,
        CLOSED,
    )
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "attributed_debt") == event.loss
    assert _stable(system, b) == 2_000 * RAD

    _set_waterfall(system, [FUND])
    system.tx(b, "cover", r.stranger, *event.key)
    assert _receipts(system, event) == [(FUND, b, event.loss)]
    _assert_done(system, event, healed=event.loss)
    assert (_stable(system, b), _bad_debt(system, b)) == (2_000 * RAD - event.loss, event.reward)


# ================================================================ conservation, partial cover,
# skipped layers


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


def test_cover__layer_contracts_unset__pool_and_debt_auction_pay_nothing(system):
    """Money flow: governance removes the stability pool and the debt auction from the Backstop;
    with 500 staked and the default order, only the fund's 300 is paid and L - 300 stays due (the
    type has no other debt to redistribute to); the stakers keep their 500."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=300 * RAD, stake=500 * RAD, for_reward=True)
    system.tx(
        b, "set_layer_contracts", r.governance, ZERO_ADDRESS, ZERO_ADDRESS, system.d.surplus_auction
    )
    assert _events(system) == [
        (
            b,
            "LayerContractsSet",
            {
                "stability_pool": ZERO_ADDRESS,
                "debt_auction": ZERO_ADDRESS,
                "surplus_auction": system.d.surplus_auction,
            },
        )
    ]
    assert (_backstop(system, "stability_pool"), _backstop(system, "debt_auction")) == (
        ZERO_ADDRESS,
        ZERO_ADDRESS,
    )
    assert _cover(system, event) == [(FUND, b, 300 * RAD)]
    assert _backstop(system, "losses", *event.key) == (
        event.debt,
        event.loss - 300 * RAD,
        event.created_at,
        CLOSED,
    )
    assert _pool(system, "assets") == 500 * RAD
    assert _backstop(system, "debt_to_auction") == 0

    # wired back, the same event finishes through the pool and the debt auction
    system.tx(
        b,
        "set_layer_contracts",
        r.governance,
        system.d.stability_pool,
        system.d.debt_auction,
        system.d.surplus_auction,
    )
    system.tx(b, "cover", r.stranger, *event.key)
    assert _receipts(system, event) == [
        (POOL, system.d.stability_pool, 500 * RAD),
        (DEBT_AUCTION, system.d.debt_auction, event.loss - 800 * RAD),
    ]
    _assert_done(system, event, healed=800 * RAD)


# ================================================================ settle


def test_settle__cancels_only_unattributed_bad_debt(system):
    """Money flow: 2,000 of surplus, bad debt = the loss L (attributed to the open event)
    + the keeper reward (unattributed). `settle` (anyone) may cancel the reward against
    surplus, not a wei of the event's loss: that is for `cover`."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=2_000 * RAD)
    assert _backstop(system, "unattributed_debt") == event.reward
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.stranger, event.reward + 1)
    system.tx(b, "settle", r.stranger, event.reward)
    assert _events(system) == [
        (system.d.engine, "DebtSettled", {"account": b, "amount": event.reward}),
        (b, "DebtSettled", {"amount": event.reward}),
    ]
    assert (_stable(system, b), _bad_debt(system, b)) == (2_000 * RAD - event.reward, event.loss)
    assert _backstop(system, "unattributed_debt") == 0
    assert _backstop(system, "attributed_debt") == event.loss
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.stranger, 1)


def test_settle__debt_handed_to_debt_auction__not_settleable(system):
    """Money flow: the default waterfall hands L - 800 to the debt-auction layer; it stays the
    Backstop's bad debt but belongs to debt auctions (debt_to_auction), so with 2,000 of fresh
    surplus `settle` still cancels only the keeper's reward."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=300 * RAD, stake=500 * RAD, for_reward=True)
    _cover(system, event)
    heal(system, 800 * RAD)
    _give_surplus(system, 2_000 * RAD)
    assert _bad_debt(system, b) == event.reward + event.loss - 800 * RAD
    assert _backstop(system, "unattributed_debt") == event.reward
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.stranger, event.reward + 1)
    system.tx(b, "settle", r.stranger, event.reward)
    assert (_stable(system, b), _bad_debt(system, b)) == (2_000 * RAD, event.loss - 800 * RAD)
    assert _backstop(system, "debt_to_auction") == event.loss - 800 * RAD


def test_settle__beyond_surplus__reverts_insufficient_surplus(system):
    """Money flow: the reward (about 314.69) is settleable, but only 100 of surplus is there: 100
    can be settled, not a wei more."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=100 * RAD)
    with reverts("backstop: insufficient surplus"):
        system.tx(b, "settle", r.keeper, 100 * RAD + 1)
    system.tx(b, "settle", r.keeper, 100 * RAD)
    assert (_stable(system, b), _bad_debt(system, b)) == (0, event.loss + event.reward - 100 * RAD)
    assert _backstop(system, "unattributed_debt") == event.reward - 100 * RAD
    with reverts("backstop: insufficient surplus"):
        system.tx(b, "settle", r.keeper, 1)


# ================================================================ governance


def test_deployment__waterfall_wired_as_configured(system):
    """Money flow: none. The devnet [backstop] values the tests above rely on."""
    d = system.d
    assert _backstop(system, "get_waterfall") == tuple(DEFAULT_WATERFALL)
    assert _backstop(system, "stability_pool") == d.stability_pool
    assert _backstop(system, "debt_auction") == d.debt_auction
    assert _backstop(system, "surplus_auction") == d.surplus_auction
    assert _backstop(system, "queue_delay") == QUEUE_DELAY
    assert (
        _backstop(system, "surplus_buffer"),
        _backstop(system, "surplus_lot"),
        _backstop(system, "debt_auction_bid_size"),
    ) == (SURPLUS_BUFFER, SURPLUS_LOT, DEBT_AUCTION_BID)
    assert (_read(system, d.fees, "stability_pool"), _read(system, d.fees, "pool_fee_share")) == (
        d.stability_pool,
        POOL_FEE_SHARE,
    )
    assert _backstop(system, "open_losses") == 0


@pytest.mark.parametrize(
    "order", [[], [REDISTRIBUTION], [POOL, FUND], [4, 3, 2, 1], [DEBT_AUCTION, FUND, POOL]]
)
def test_set_waterfall__valid_order__stored_and_logged(system, order):
    b = system.d.backstop
    _set_waterfall(system, order)
    assert _events(system) == [(b, "WaterfallSet", {"waterfall": tuple(order)})]
    assert _backstop(system, "get_waterfall") == tuple(order)


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        ([0], "backstop: unknown layer"),
        ([5], "backstop: unknown layer"),
        ([FUND, POOL, 5], "backstop: unknown layer"),
        ([FUND, FUND], "backstop: layer repeated"),
        ([POOL, DEBT_AUCTION, POOL], "backstop: layer repeated"),
        # five layers do not fit the DynArray[uint8, 4] argument: no reason
        ([FUND, POOL, DEBT_AUCTION, REDISTRIBUTION, FUND], None),
    ],
)
def test_set_waterfall__invalid__reverts_with_reason(system, order, reason):
    with reverts(reason):
        _set_waterfall(system, order)
    assert _backstop(system, "get_waterfall") == tuple(DEFAULT_WATERFALL)


BACKSTOP_SETTERS = {
    "set_waterfall": lambda s: ([FUND],),
    "set_layer_contracts": lambda s: (ZERO_ADDRESS, ZERO_ADDRESS, ZERO_ADDRESS),
    "set_auction_parameters": lambda s: (0, 1, 1),
    "set_queue_delay": lambda s: (0,),
}


@pytest.mark.parametrize("function", sorted(BACKSTOP_SETTERS))
def test_backstop_setter__called_by_stranger__reverts_not_authorized(system, function):
    with reverts("authorized: not authorized"):
        system.tx(
            system.d.backstop, function, system.roles.stranger, *BACKSTOP_SETTERS[function](system)
        )


def test_set_layer_contracts__stores_and_logs(system):
    r, b = system.roles, system.d.backstop
    system.tx(b, "set_layer_contracts", r.governance, r.other, r.keeper, r.stranger)
    assert _events(system) == [
        (
            b,
            "LayerContractsSet",
            {"stability_pool": r.other, "debt_auction": r.keeper, "surplus_auction": r.stranger},
        )
    ]
    assert (
        _backstop(system, "stability_pool"),
        _backstop(system, "debt_auction"),
        _backstop(system, "surplus_auction"),
    ) == (r.other, r.keeper, r.stranger)


def test_set_auction_parameters__stores_and_logs(system):
    r, b = system.roles, system.d.backstop
    system.tx(b, "set_auction_parameters", r.governance, 0, 7 * RAD, 9 * RAD + 1)
    assert _events(system) == [
        (
            b,
            "AuctionParametersSet",
            {"surplus_buffer": 0, "surplus_lot": 7 * RAD, "debt_auction_bid_size": 9 * RAD + 1},
        ),
    ]
    assert (
        _backstop(system, "surplus_buffer"),
        _backstop(system, "surplus_lot"),
        _backstop(system, "debt_auction_bid_size"),
    ) == (0, 7 * RAD, 9 * RAD + 1)


@pytest.mark.parametrize(("lot", "bid"), [(0, DEBT_AUCTION_BID), (SURPLUS_LOT, 0), (0, 0)])
def test_set_auction_parameters__zero_size__reverts(system, lot, bid):
    with reverts("backstop: zero auction size"):
        system.tx(
            system.d.backstop,
            "set_auction_parameters",
            system.roles.governance,
            SURPLUS_BUFFER,
            lot,
            bid,
        )
    assert (_backstop(system, "surplus_lot"), _backstop(system, "debt_auction_bid_size")) == (
        SURPLUS_LOT,
        DEBT_AUCTION_BID,
    )


# ================================================================ stability fee share


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
