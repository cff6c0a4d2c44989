"""Regression tests for the stability-pool findings of the outside security review (issue 13):
2 (a staker leaves before a known loss), 3 (share inflation on the first stake), 4 (one running
auction freezes every exit). Every test runs on chain and in the model at once (the `system`
fixture), so chain == model and the invariants are checked after each test too.

The loss used (as in test_stability_pool.py): a 10 ETH / 13,000 BUSD vault is liquidated after
ETH falls from 2,000 to 1,000 and its whole lot is bought at the auction's top, 1,200: the pool
(the insurance fund is empty) pays L = 13,000 x rate - 12,000, about 1,000 BUSD."""

from __future__ import annotations

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices, reverts
from offchain.testing.harness import read as _read

ETH = "ETH-A"
# config/devnet.toml
COOLDOWN = 604_800
EXIT_WINDOW = 259_200
ORACLE_DELAY = 3_600
QUEUE_DELAY = 3_600
# offchain/system/deployment.py: three oracle delays
EXPOSURE_DELAY = 3 * ORACLE_DELAY
# contracts/StabilityPool.vy: 1 stablecoin at the first price
MIN_SHARES = 10**45
VAULT_DEBT = 13_000 * WAD
SOLD_FOR = 12_000 * RAD


def _pool(system, getter, *args):
    return _read(system, system.d.stability_pool, getter, *args)


def _stable(system, who) -> int:
    return _read(system, system.d.engine, "stable", who)


def _staker(system, who, draw: int = 12_000) -> None:
    """`who` locks 30 ETH, draws `draw` BUSD (safe after a crash to 1,000) and allows the pool."""
    system.open_vault(who, ETH, 30 * WAD, draw * WAD)
    system.tx(system.d.engine, "allow", who, system.d.stability_pool)


def _stake(system, who, amount: int) -> None:
    """Stake, wait out the exposure delay, activate: `amount` becomes shares."""
    system.tx(system.d.stability_pool, "stake", who, amount)
    system.warp(EXPOSURE_DELAY)
    system.tx(system.d.stability_pool, "activate", who)


def _borrower_and_buyer(system) -> None:
    """The borrower's 10 ETH / 13,000 vault (liquidatable below ETH 1,950) and the keeper's capital
    to buy its lot."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, ETH, 10 * WAD, VAULT_DEBT)
    system.open_vault(r.keeper, ETH, 20 * WAD, 12_000 * WAD)
    system.tx(system.d.engine, "allow", r.keeper, t.auction)


def _liquidate_and_sell_out(system) -> tuple[int, int]:
    """The keeper liquidates the borrower and buys the whole lot at the top (1,200): the loss
    event closes with L, waiting for cover. Returns (auction id, L)."""
    r, t, d = system.roles, system.eth, system.d
    system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    auction_id = _read(system, t.auction, "count")
    _, _, lot, _, _, top = _read(system, t.auction, "auctions", auction_id)[:6]
    assert (lot, top) == (10 * WAD, 1_200 * RAY)
    system.tx(t.auction, "take", r.keeper, auction_id, lot, top, r.keeper, b"")
    rate = _read(system, d.engine, "collateral_types", t.type_id)[1]
    loss = VAULT_DEBT * rate - SOLD_FOR
    assert _read(system, d.backstop, "losses", t.type_id, t.auction, auction_id)[1] == loss
    assert _read(system, d.backstop, "open_losses") == 1
    return auction_id, loss


def _cover(system, auction_id: int) -> None:
    t = system.eth
    system.tx(system.d.backstop, "cover", system.roles.keeper, t.type_id, t.auction, auction_id)


def _realize(system, staker) -> list[int]:
    """Realize `staker`'s charges; the amounts of its StakerCharged receipts."""
    p = system.d.stability_pool
    system.tx(p, "realize", system.roles.keeper, staker, 10)
    return [args["amount"] for _, name, args in _events(system) if name == "StakerCharged"]


def _at_least(system, timestamp: int) -> None:
    """Move the next block to `timestamp` if it is still ahead."""
    if timestamp > system.now:
        system.lockstep.set_next_block_time(timestamp)


# ================================================================ finding 2


def test_pool_escape__request_sent_when_the_crash_is_posted__still_pays_its_share(system):
    """Attack (finding 2): with a short cooldown, a staker sees the crash posted to the delayed
    oracle, asks to leave and withdraws before the price takes effect; the others pay its share.
    Now a request stays exposed for the exposure delay (three oracle delays): A pays half of L."""
    r, d, t, p = system.roles, system.d, system.eth, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b):
        _staker(system, who)
        _stake(system, who, 5_000 * RAD)
    _borrower_and_buyer(system)
    # governance shortens the cooldown to a minute
    system.tx(p, "set_cooldown", r.governance, 60)
    a_start = _stable(system, a)

    # the crash is on chain (posted, not yet in effect); A asks for everything back at once
    system.tx(t.oracle, "post", r.feeder, 1_000 * WAD)
    system.tx(p, "request_withdrawal", a, 5_000 * RAD)
    requested_at = system.now
    system.warp(60)
    with reverts("pool: cooling down"):  # the old pool paid A 5,000 here
        system.tx(p, "withdraw", a)

    # the price takes effect two oracle delays after the post; the vault is liquidated
    for _ in range(2):
        system.warp(ORACLE_DELAY)
        system.tx(t.oracle, "poke", r.keeper)
    system.tx(d.spotter, "poke", r.keeper, t.type_id)
    auction_id, loss = _liquidate_and_sell_out(system)
    assert _read(system, d.backstop, "loss_opened_at", 1) <= requested_at + EXPOSURE_DELAY
    _at_least(system, requested_at + EXPOSURE_DELAY)
    with reverts("pool: exposed to open losses"):
        system.tx(p, "withdraw", a)

    # cover: the pool pays L, A and B half each
    _at_least(system, _read(system, d.backstop, "loss_opened_at", 1) + QUEUE_DELAY)
    assert _stable(system, d.backstop) == 0
    _cover(system, auction_id)
    a_charge, b_charge = _realize(system, a)[0], _realize(system, b)[0]
    assert a_charge == loss // 2 and a_charge + b_charge == loss
    system.tx(p, "withdraw", a)
    assert _stable(system, a) == a_start + 5_000 * RAD - a_charge
    assert _pool(system, "value_of", b) == 5_000 * RAD - b_charge


def test_pool_escape__a_request_earns_nothing_after_it_is_sent_and_lapses_unused(system):
    """Attack (finding 2): a staker keeps a matured request open, earning fees like everyone, and
    leaves the moment a crash is posted. Now requested shares earn nothing from the request on
    (the withdrawal pays at most their value at the request), so holding a request is no better
    than having left; and a request lapses `exit_window` after it matures."""
    r, d, t, p = system.roles, system.d, system.eth, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b):
        _staker(system, who)
        _stake(system, who, 5_000 * RAD)
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    a_value = _pool(system, "value_of", a)
    system.tx(p, "request_withdrawal", a, _pool(system, "shares", a))
    assert _pool(system, "withdrawal_value", a) == a_value
    requested_at = system.now

    # a week of fees: the pool's share raises every share's value
    system.warp(COOLDOWN)
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    income = [args for _, name, args in _events(system) if name == "IncomeAdded"]
    assert income and income[0]["amount"] > 0
    assert _pool(system, "value_of", a) > a_value
    a_start = _stable(system, a)
    b_before = _pool(system, "value_of", b)
    system.tx(p, "withdraw", a)
    # A gets its value at the request; the week's income on A's shares stays with B
    assert _stable(system, a) == a_start + a_value
    assert _pool(system, "value_of", b) > b_before
    assert _pool(system, "staker_count") == 1

    # B's request lapses if not carried out within the exit window after it matured
    system.tx(p, "request_withdrawal", b, _pool(system, "shares", b))
    b_at = system.now
    system.lockstep.set_next_block_time(b_at + COOLDOWN + EXIT_WINDOW + 1)
    with reverts("pool: request lapsed"):
        system.tx(p, "withdraw", b)
    assert requested_at < b_at


# ================================================================ finding 3


def test_share_inflation__dust_first_stake_donation_and_foreign_activation__take_nothing(system):
    """Attack (finding 3): stake 1 wei as the first staker, donate to the pool so one share is worth
    thousands, activate the victim's pending 10,000 so it rounds down to few shares. Now a staker
    holds 0 or at least 1 stablecoin of shares, donations are not assets, and only the staker
    activates its stake: the victim's 10,000 are worth 10,000."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    attacker, victim = r.stranger, r.other
    for who in (attacker, victim):
        _staker(system, who, draw=15_000)
    system.tx(p, "stake", attacker, 1)
    system.warp(EXPOSURE_DELAY)
    with reverts("pool: below minimum shares"):
        system.tx(p, "activate", attacker)
    system.tx(p, "cancel_pending", attacker)
    _stake(system, attacker, MIN_SHARES)
    assert _pool(system, "total_shares") == _pool(system, "assets") == MIN_SHARES

    # the donation: stablecoin sent to the pool is nobody's, and only the FeeAccumulator (or
    # governance) may report income
    system.tx(d.engine, "transfer_stable", attacker, attacker, p, 10_000 * RAD)
    assert _pool(system, "assets") == MIN_SHARES
    with reverts("authorized: not authorized"):
        system.tx(p, "add_income", attacker, 10_000 * RAD)

    # the victim stakes; the attacker cannot activate it (activate is the caller's own stake)
    system.tx(p, "stake", victim, 10_000 * RAD)
    system.warp(EXPOSURE_DELAY)
    with reverts("pool: no pending"):
        system.tx(p, "activate", attacker)
    system.tx(p, "activate", victim)
    assert _pool(system, "shares", victim) == 10_000 * RAD
    assert _pool(system, "value_of", victim) == 10_000 * RAD
    assert _pool(system, "value_of", attacker) == MIN_SHARES
    # the donation sits in the pool, counted by nobody
    assert _stable(system, p) - _pool(system, "assets") - _pool(system, "pending_total") == (
        10_000 * RAD
    )


def test_share_inflation__withdrawal_leaving_dust_shares__reverts(system):
    """A staker cannot leave itself with fewer than MIN_SHARES (a dust holder is what inflating
    the share price needs), only with none."""
    r, p = system.roles, system.d.stability_pool
    _staker(system, r.other)
    _stake(system, r.other, 5_000 * RAD)
    with reverts("pool: below minimum shares"):
        system.tx(p, "request_withdrawal", r.other, 5_000 * RAD - MIN_SHARES + 1)
    system.tx(p, "request_withdrawal", r.other, 5_000 * RAD - MIN_SHARES)
    system.tx(p, "request_withdrawal", r.other, 5_000 * RAD)


# ================================================================ finding 4


def test_exit_freeze__a_loss_opened_after_a_request_matured__does_not_block_that_exit(system):
    """Attack (finding 4): back-to-back liquidations keep some loss open, which froze every exit.
    Now an exit waits only for the losses opened before its request matured: A, matured before
    the crash, leaves with its 5,000 while the loss is open; B, who asks after the liquidation,
    waits for that loss and pays it."""
    r, d, t, p = system.roles, system.d, system.eth, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b):
        _staker(system, who)
        _stake(system, who, 5_000 * RAD)
    _borrower_and_buyer(system)
    system.tx(p, "request_withdrawal", a, 5_000 * RAD)
    system.warp(COOLDOWN)

    move_prices(system, [(t, 1_000 * WAD)])
    auction_id, loss = _liquidate_and_sell_out(system)
    a_start = _stable(system, a)
    system.tx(p, "withdraw", a)  # the old pool: "pool: losses open"
    assert _stable(system, a) == a_start + 5_000 * RAD
    assert _read(system, d.backstop, "open_losses") == 1

    system.tx(p, "request_withdrawal", b, 5_000 * RAD)
    system.warp(COOLDOWN)
    with reverts("pool: exposed to open losses"):
        system.tx(p, "withdraw", b)
    _cover(system, auction_id)
    assert _realize(system, b) == [loss]
    b_start = _stable(system, b)
    system.tx(p, "withdraw", b)
    assert _stable(system, b) == b_start + 5_000 * RAD - loss


def test_loss_numbers__finished_out_of_order__first_open_loss_waits_then_jumps(system):
    """The pool's exposure rule reads the Backstop's first not-done loss number: when the second
    of two losses finishes first, the first still holds exits that matured after it opened;
    `losses_done_before` answers per event time, and first_open_loss jumps past both once the
    first finishes."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.borrower, ETH, 10 * WAD, VAULT_DEBT)
    system.open_vault(r.stranger, ETH, 10 * WAD, VAULT_DEBT)
    system.open_vault(r.keeper, ETH, 40 * WAD, 24_000 * WAD)
    system.tx(d.engine, "allow", r.keeper, t.auction)
    move_prices(system, [(t, 1_000 * WAD)])
    for owner in (r.borrower, r.stranger):
        system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, owner, r.keeper)
    first_at = _read(system, d.backstop, "loss_opened_at", 1)
    assert (
        _read(system, d.backstop, "loss_count"),
        _read(system, d.backstop, "first_open_loss"),
    ) == (
        2,
        1,
    )
    # the second auction sells out (loss closed) and is covered: done
    _, _, lot, _, _, top = _read(system, t.auction, "auctions", 2)[:6]
    system.tx(t.auction, "take", r.keeper, 2, lot, top, r.keeper, b"")
    system.warp(QUEUE_DELAY)
    _cover(system, 2)
    assert _read(system, d.backstop, "loss_done", 2)
    assert not _read(system, d.backstop, "loss_done", 1)
    assert _read(system, d.backstop, "first_open_loss") == 1
    assert _read(system, d.backstop, "losses_done_before", first_at - 1)
    assert not _read(system, d.backstop, "losses_done_before", first_at)
    # the first finishes: the pointer moves past both
    _, _, lot, _, _, top = _read(system, t.auction, "auctions", 1)[:6]
    system.tx(t.auction, "take", r.keeper, 1, lot, top, r.keeper, b"")
    _cover(system, 1)
    assert _read(system, d.backstop, "first_open_loss") == 3
    assert _read(system, d.backstop, "losses_done_before", system.now)
    # nothing left to pass: advancing by hand changes nothing
    system.tx(d.backstop, "advance_open_losses", r.keeper, 5)
    assert _read(system, d.backstop, "first_open_loss") == 3
