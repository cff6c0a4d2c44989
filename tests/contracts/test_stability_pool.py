"""StabilityPool (layer POOL of the loss waterfall), on chain and in the model at once.

Spec: docs/loss-waterfall.md, "StabilityPool". Stakers deposit internal stablecoin, which waits
as pending for the exposure delay and becomes shares when its staker activates it (assets are
the pool's own count: stakes + reported income - withdrawals - charges; first stake 1 share per
rad, later ones amount x total_shares // assets); a staker's value is shares x assets //
total_shares. Exposure follows the Backstop's numbered loss events: a stake activates only when
every loss event opened so far is done; a withdrawal request stays exposed to every loss event
opened up to its maturity and waits only for those (tests/security/test_findings.py has the
attacks). Each staker's part of each charge is published as a StakerCharged receipt when
realized; the last staker of a charge pays the rounding remainder.

Stakers are role accounts: A = other, B = stranger, C = feeder. Each gets internal stablecoin by
drawing from an ETH vault (rate 1: 1 BUSD drawn = 1 rad of engine.stable) and allows the pool.

The loss used throughout (devnet.toml): a vault of 10 ETH with 13,000 BUSD of normalized debt is
liquidated after ETH falls from 2,000 to 1,000; its auction starts at 1,000 x 1.2 = 1,200 and the
keeper buys the whole lot at once for 12,000. The seized debt is 13,000 x rate (the deployment
leaves the ETH rate one second of fees above 1: 1.000000000628 ray), so the loss event closes with
a loss L = 13,000 x rate - 12,000, about 1,000.008 BUSD. The insurance fund (the Backstop's
stablecoin) is empty, so with the default waterfall [fund, pool, debt auction, redistribution] the
pool is the first layer that pays.
"""

from __future__ import annotations

import copy

from eth_abi import decode as abi_decode
from helpers import started_auction

from offchain.model.backstop import DEBT_AUCTION, FUND, POOL, REDISTRIBUTION
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices, reverts
from offchain.testing.harness import read as _read

ETH = "ETH-A"
# config/devnet.toml
COOLDOWN = 604_800
EXIT_WINDOW = 259_200
# three times the longest oracle delay of config/devnet.toml (offchain/system/deployment.py)
EXPOSURE_DELAY = 10_800
QUEUE_DELAY = 3_600
POOL_FEE_SHARE = WAD // 4
# contracts/StabilityPool.vy
MAX_COOLDOWN = 365 * 86_400
MAX_CHARGES_PER_REALIZE = 256
MIN_SHARES = 10**45
# Backstop layers

# the crash: ETH 2,000 -> 1,000; a 10 ETH / 13,000 BUSD vault is liquidated and sold out at 1,200
CRASH_PRICE = 1_000 * WAD
VAULT_DEBT = 13_000 * WAD  # normalized
SOLD_FOR = 12_000 * RAD


# ---------------------------------------------------------------- reading (chain == model)


def _named(system, *names) -> list[tuple[str, str, dict]]:
    """The last transaction's events with one of `names`, in order."""
    return [ev for ev in _events(system) if ev[1] in names]


def _pool(system, getter, *args):
    return _read(system, system.d.stability_pool, getter, *args)


def _backstop(system, getter, *args):
    return _read(system, system.d.backstop, getter, *args)


def _stable(system, who) -> int:
    return _read(system, system.d.engine, "stable", who)


def _returns(system, address, function, sender, *args):
    """What `function` returns if `sender` sends it now: eth_call on chain, and the model run on a
    throw-away copy; both must agree (Lockstep.transact drops return values)."""
    tx, fn = system.chain.call_data(address, function, *args)
    raw = system.chain.rpc("eth_call", [{**tx, "from": sender}, "latest"])
    (on_chain,) = abi_decode(fn.outputs, bytes.fromhex(raw[2:]))
    in_model = copy.deepcopy(system.model).transact(address, function, sender, *args)
    assert on_chain == in_model
    return on_chain


# ---------------------------------------------------------------- acting


def _staker(system, who, draw: int = 5_000) -> None:
    """`who` locks 10 ETH and draws `draw` BUSD (safe even after the crash to 1,000: 6,667 of safe
    value), which is `who`'s internal stablecoin at rate 1, and allows the pool to take it."""
    system.open_vault(who, ETH, 10 * WAD, draw * WAD)
    system.tx(system.d.engine, "allow", who, system.d.stability_pool)


def _stake_pending(system, who, amount: int) -> None:
    system.tx(system.d.stability_pool, "stake", who, amount)


def _stake(system, who, amount: int) -> None:
    """`who` stakes `amount`, waits out the exposure delay and activates it: shares."""
    _stake_pending(system, who, amount)
    system.warp(EXPOSURE_DELAY)
    system.tx(system.d.stability_pool, "activate", who)


def _gift(system, who, amount: int) -> None:
    """`who` sends `amount` [rad] to the pool and governance reports it as income (as the
    FeeAccumulator does with the pool's fee share): assets rise, no shares are minted. Used to
    make assets differ from total_shares."""
    system.tx(system.d.engine, "transfer_stable", who, who, system.d.stability_pool, amount)
    system.tx(system.d.stability_pool, "add_income", system.roles.governance, amount)


def _crash(system, price: int) -> None:
    """The feeder posts `price`; two oracle pokes a delay apart make it current; the spotter writes
    the new safe price (as in test_auctions)."""
    move_prices(system, [(system.eth, price)])


def _crash_and_liquidate(system, owners) -> tuple[list[int], int]:
    """Each of `owners` locks 10 ETH and draws 13,000 BUSD; the keeper locks 20 ETH and draws
    12,000 per owner (to buy the collateral later) and allows the auction; ETH falls to 1,000 and
    the keeper liquidates every vault: one auction, one loss event each. Returns the auction ids and
    the loss each event will close with once sold out at 1,200 (see _sell_out)."""
    r, t, d = system.roles, system.eth, system.d
    for owner in owners:
        system.open_vault(owner, ETH, 10 * WAD, VAULT_DEBT)
    system.open_vault(r.keeper, ETH, 20 * WAD * len(owners), 12_000 * WAD * len(owners))
    system.tx(d.engine, "allow", r.keeper, t.auction)
    _crash(system, CRASH_PRICE)
    rate = _read(system, d.engine, "collateral_types", t.type_id)[1]
    assert RAY < rate < RAY + RAY // 10**8  # one second of 2% a year, from the deployment
    open_before = _backstop(system, "open_losses")
    ids = []
    for owner in owners:
        system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, owner, r.keeper)
        ids.append(started_auction(system, t.auction))
        assert _named(system, "LossOpened")[0][2]["debt"] == VAULT_DEBT * rate
    assert _backstop(system, "open_losses") == open_before + len(owners)
    loss = VAULT_DEBT * rate - SOLD_FOR
    assert 1_000 * RAD < loss < 1_000 * RAD + RAD // 10
    return ids, loss


def _sell_out(system, auction_id: int, loss: int) -> None:
    """The keeper buys the whole 10 ETH at the start price, 1,200: 12,000 BUSD for a seized debt of
    13,000 x rate, paid straight to the Backstop (the take sells out: nothing is escrowed). The
    auction closes its loss event with `loss`, still open until covered."""
    r, t = system.roles, system.eth
    _, _, lot, _, _, top = _read(system, t.auction, "auctions", auction_id)[:6]
    assert (lot, top) == (10 * WAD, 1_200 * RAY)
    system.tx(t.auction, "take", r.keeper, auction_id, lot, top, r.keeper, b"")
    assert _named(system, "StableTransferred") == [
        (
            system.d.engine,
            "StableTransferred",
            {"src": r.keeper, "dst": system.d.backstop, "amount": SOLD_FOR},
        ),
    ]
    assert _named(system, "LossClosed") == [
        (
            system.d.backstop,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": auction_id,
                "raised": SOLD_FOR,
                "covered": SOLD_FOR,
                "loss": loss,
            },
        ),
    ]


def _cover(system, auction_id: int) -> None:
    """The keeper (anyone) covers the event once the queue delay has passed."""
    t = system.eth
    system.warp(QUEUE_DELAY)
    system.tx(system.d.backstop, "cover", system.roles.keeper, t.type_id, t.auction, auction_id)


def _allocated(system, auction_id: int, layer: int, participant: str, amount: int):
    t = system.eth
    return (
        system.d.backstop,
        "LossAllocated",
        {
            "collateral_type": t.type_id,
            "auction": t.auction,
            "auction_id": auction_id,
            "layer": layer,
            "participant": participant,
            "amount": amount,
        },
    )


def _absorbed(system, charge_id: int, auction_id: int, amount: int):
    t = system.eth
    return (
        system.d.stability_pool,
        "Absorbed",
        {
            "charge_id": charge_id,
            "collateral_type": t.type_id,
            "auction": t.auction,
            "auction_id": auction_id,
            "amount": amount,
        },
    )


def _charged(system, charge_id: int, staker: str, amount: int):
    return (
        system.d.stability_pool,
        "StakerCharged",
        {"charge_id": charge_id, "staker": staker, "amount": amount},
    )


def _realize(system, staker: str, max_charges: int = 10) -> list[tuple[str, str, dict]]:
    """The keeper (anyone) realizes `staker`'s charges; returns the receipts logged."""
    system.tx(system.d.stability_pool, "realize", system.roles.keeper, staker, max_charges)
    return _events(system)


# ================================================================ deployment and governance


def test_deployment__pool_wired_to_engine_and_backstop_with_devnet_cooldown(system):
    """Money flow: none. The wiring every test below relies on."""
    d = system.d
    # immutables (the model holds the objects themselves)
    assert system.view(d.stability_pool, "engine") == d.engine
    assert system.view(d.stability_pool, "backstop") == d.backstop
    assert _pool(system, "cooldown") == COOLDOWN
    assert _pool(system, "authorized", system.roles.governance)
    assert not _pool(system, "authorized", system.roles.stranger)
    assert _backstop(system, "stability_pool") == d.stability_pool
    assert _backstop(system, "get_waterfall") == (FUND, POOL, DEBT_AUCTION, REDISTRIBUTION)
    assert _read(system, d.fees, "stability_pool") == d.stability_pool
    assert _read(system, d.fees, "pool_fee_share") == POOL_FEE_SHARE
    for name in ("total_shares", "pending_total", "staker_count", "charge_count", "assets"):
        assert _pool(system, name) == 0


def test_set_cooldown__by_stranger__reverts_not_authorized(system):
    with reverts("authorized: not authorized"):
        system.tx(system.d.stability_pool, "set_cooldown", system.roles.stranger, 60)
    assert _pool(system, "cooldown") == COOLDOWN


def test_set_cooldown__up_to_a_year__stored_and_logged_above__reverts_too_long(system):
    p, gov = system.d.stability_pool, system.roles.governance
    with reverts("pool: cooldown too long"):
        system.tx(p, "set_cooldown", gov, MAX_COOLDOWN + 1)
    system.tx(p, "set_cooldown", gov, MAX_COOLDOWN)
    assert _events(system) == [(p, "CooldownSet", {"cooldown": MAX_COOLDOWN})]
    assert _pool(system, "cooldown") == MAX_COOLDOWN
    system.tx(p, "set_cooldown", gov, 0)
    assert _pool(system, "cooldown") == 0


def test_set_cooldown__shorter__applies_to_a_pending_request(system):
    """Money flow: A stakes 1,000 and asks for all of it back; governance cuts the cooldown to 60 s:
    the request matures after the exposure delay (an hour, the cooldown no longer counts) and A
    gets the 1,000 back; not a second earlier."""
    r, p = system.roles, system.d.stability_pool
    _staker(system, r.other)
    _stake(system, r.other, 1_000 * RAD)
    system.tx(p, "request_withdrawal", r.other, 1_000 * RAD)
    system.tx(p, "set_cooldown", r.governance, 60)
    stable_0 = _stable(system, r.other)
    at = _pool(system, "withdrawal_at", r.other)
    system.lockstep.set_next_block_time(at + EXPOSURE_DELAY - 1)
    with reverts("pool: cooling down"):
        system.tx(p, "withdraw", r.other)
    system.lockstep.set_next_block_time(at + EXPOSURE_DELAY)
    system.tx(p, "withdraw", r.other)
    assert _stable(system, r.other) == stable_0 + 1_000 * RAD


# ================================================================ stake (no open loss)


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


# ================================================================ exposure is fixed at liquidation


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


# ================================================================ realize: per-staker receipts


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


# ================================================================ withdrawal


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


def test_cancel_or_replace_request__forfeits_the_income_since_the_request_in_shares(system):
    """Money flow (found by a review: a request replaced before it lapsed, or cancelled, used to
    earn back everything its shares had stopped earning, so a matured request could be held open
    at no cost): A stakes 3,000 and asks for all; 600 of income arrives; A cancels. The 600 go to
    the Backstop, paid with ceil(600 x 3,000 / 3,600) = 500 of A's shares: A keeps its 3,000.
    A then asks for 1,000 shares (worth 1,200); 500 of income arrives; A asks again for 1,000:
    the first request's income (1,000 x 3,500 / 2,500 - 1,200 = 200) is forfeited the same way
    before the new request is valued. Without income since the request, nothing is forfeited."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    a = r.other
    for who in (a, r.feeder):
        _staker(system, who)
    _stake(system, a, 3_000 * RAD)
    system.tx(p, "request_withdrawal", a, 3_000 * RAD)
    _gift(system, r.feeder, 600 * RAD)
    backstop_0 = _stable(system, d.backstop)
    system.tx(p, "cancel_withdrawal", a)
    assert _events(system) == [
        (d.engine, "StableTransferred", {"src": p, "dst": d.backstop, "amount": 600 * RAD}),
        (p, "IncomeForfeited", {"staker": a, "amount": 600 * RAD}),
        (p, "WithdrawalCancelled", {"staker": a, "shares": 3_000 * RAD}),
    ]
    assert _stable(system, d.backstop) == backstop_0 + 600 * RAD
    assert _pool(system, "shares", a) == _pool(system, "total_shares") == 2_500 * RAD
    assert _pool(system, "assets") == _pool(system, "value_of", a) == 3_000 * RAD

    system.tx(p, "request_withdrawal", a, 1_000 * RAD)
    assert _pool(system, "withdrawal_value", a) == 1_200 * RAD
    _gift(system, r.feeder, 500 * RAD)
    forfeited = 1_000 * RAD * 3_500 // 2_500 - 1_200 * RAD
    burned = -(-forfeited * 2_500 * RAD // (3_500 * RAD))
    system.tx(p, "request_withdrawal", a, 1_000 * RAD)
    assert [(name, args) for _, name, args in _events(system) if name != "StableTransferred"] == [
        ("IncomeForfeited", {"staker": a, "amount": forfeited}),
        (
            "WithdrawalRequested",
            {
                "staker": a,
                "shares": 1_000 * RAD,
                "value": 1_000 * RAD * (3_300 * RAD) // (2_500 * RAD - burned),
            },
        ),
    ]
    assert forfeited == 200 * RAD
    assert _pool(system, "shares", a) == 2_500 * RAD - burned
    assert _pool(system, "assets") == 3_300 * RAD

    # a request replaced with no income since: nothing forfeited
    system.tx(p, "request_withdrawal", a, 500 * RAD)
    assert [name for _, name, _ in _events(system)] == ["WithdrawalRequested"]
    system.tx(p, "cancel_withdrawal", a)
    assert [name for _, name, _ in _events(system)] == ["WithdrawalCancelled"]


def test_cancel_request__a_burn_that_would_leave_less_than_min_stake__stops_at_the_shares_worth_it(
    system,
):
    """Money flow: the minimum is a value (MIN_STAKE, one stablecoin), not a share count
    (finding 31-7). A stakes 1.5 and asks for all its shares; B stakes 1,000. A loss L of about
    1,000 is charged to the pool: realizing it lowers A's cap to 1.5 less A's part, rounded up
    (finding 31-8), about 0.002. 1,000 of income refills the pool. Cancelling would burn all but
    the shares worth that cap, leaving A some shares worth less than MIN_STAKE: only the shares
    above those worth MIN_STAKE now (rounded down) are burned, their value forfeited, and A keeps
    shares worth one stablecoin (to the rounding). Without a charge (the price only rising), a
    request's shares left after a cancel are worth their cap, at least one stablecoin: no stop
    (test_cancel_or_replace_request__forfeits_the_income_since_the_request_in_shares)."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b, r.feeder):
        _staker(system, who)
    _stake(system, a, 3 * MIN_SHARES // 2)
    _stake(system, b, 1_000 * RAD)
    system.tx(p, "request_withdrawal", a, 3 * MIN_SHARES // 2)
    assert _pool(system, "withdrawal_value", a) == 3 * MIN_SHARES // 2
    (auction_id,), loss = _crash_and_liquidate(system, [r.borrower])
    _sell_out(system, auction_id, loss)
    _cover(system, auction_id)
    total = _pool(system, "total_shares")
    assert total == 3 * MIN_SHARES // 2 + 1_000 * RAD
    assert _pool(system, "charge_amount", 1) == loss
    _realize(system, a)
    cap = 3 * MIN_SHARES // 2 - -(-(3 * MIN_SHARES // 2) * loss // total)
    assert _pool(system, "withdrawal_value", a) == cap < MIN_SHARES // 100
    _gift(system, r.feeder, 1_000 * RAD)

    assets = _pool(system, "assets")
    value_now = _pool(system, "value_of", a)
    burned_all_but_cap = -(-(value_now - cap) * total // assets)
    assert 0 < 3 * MIN_SHARES // 2 - burned_all_but_cap < MIN_SHARES * total // assets
    least = MIN_SHARES * total // assets  # the shares worth MIN_STAKE now, rounded down
    burned = 3 * MIN_SHARES // 2 - least
    forfeited = burned * assets // total
    backstop_0 = _stable(system, d.backstop)
    system.tx(p, "cancel_withdrawal", a)
    assert [(name, args) for _, name, args in _events(system) if name != "StableTransferred"] == [
        ("IncomeForfeited", {"staker": a, "amount": forfeited}),
        ("WithdrawalCancelled", {"staker": a, "shares": 3 * MIN_SHARES // 2}),
    ]
    assert _stable(system, d.backstop) == backstop_0 + forfeited
    assert _pool(system, "shares", a) == least
    assert _pool(system, "total_shares") == total - burned
    assert _pool(system, "assets") == assets - forfeited
    # A keeps shares worth one stablecoin, less than one share's value (the rounding down)
    assert MIN_SHARES - assets // total - 1 <= _pool(system, "value_of", a) <= MIN_SHARES


# ================================================================ fees


def test_accrue__with_a_staker__sends_a_quarter_of_the_fee_income_to_the_pool(system):
    """Money flow: with no staker, an accrual's whole income goes to the Backstop (no FeesShared).
    A stakes 3,000 and B 1,000; 30 days later the accrual's income, normalized debt x delta rate,
    is split: income x 0.25 (rounded down) to the pool, the rest to the Backstop. The pool's assets
    rise by the pool's part and each share earns pro rata (A 3/4, B 1/4, rounded down)."""
    r, d, t, p = system.roles, system.d, system.eth, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b):
        _staker(system, who)
    system.warp(3_600)
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    assert _named(system, "FeesShared") == []
    _stake(system, a, 3_000 * RAD)
    _stake(system, b, 1_000 * RAD)
    # the fees of the hours the stakes waited, shared already
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    pool_0 = _pool(system, "assets")
    assert _stable(system, p) == pool_0 > 4_000 * RAD

    art, rate_0 = _read(system, d.engine, "collateral_types", t.type_id)[:2]
    assert art == 10_000 * WAD
    backstop_0 = _stable(system, d.backstop)
    system.warp(30 * 86_400)
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    (accrued,) = [args for _, name, args in _events(system) if name == "Accrued"]
    income = art * (accrued["rate"] - rate_0)
    to_pool = income * POOL_FEE_SHARE // WAD
    assert _named(system, "FeesShared") == [
        (
            d.fees,
            "FeesShared",
            {"collateral_type": t.type_id, "to_pool": to_pool, "to_recipient": income - to_pool},
        ),
    ]
    # 2% a year on 10,000 BUSD for 30 days: ~16.29 BUSD, ~4.07 to the pool
    expected = 10_000 * (1.02 ** (30 / 365) - 1) * rate_0 / RAY
    assert abs(income / RAD - expected) < expected * 1e-6
    assert _stable(system, p) == pool_0 + to_pool
    assert _stable(system, d.backstop) == backstop_0 + income - to_pool
    assets = _pool(system, "assets")
    assert assets == pool_0 + to_pool
    assert _named(system, "IncomeAdded") == [(p, "IncomeAdded", {"amount": to_pool})]
    assert _pool(system, "value_of", a) == 3_000 * RAD * assets // (4_000 * RAD) > 3_000 * RAD
    assert _pool(system, "value_of", b) == 1_000 * RAD * assets // (4_000 * RAD) > 1_000 * RAD


# ================================================================ absorb


def test_absorb__called_by_anyone_but_the_backstop__reverts_not_backstop(system):
    r, t, p = system.roles, system.eth, system.d.stability_pool
    _staker(system, r.other)
    _stake(system, r.other, 1_000 * RAD)
    for caller in (r.stranger, r.governance):
        with reverts("pool: not backstop"):
            system.tx(p, "absorb", caller, t.type_id, t.auction, 1, 1_000 * RAD)
    assert _pool(system, "assets") == 1_000 * RAD
    assert _pool(system, "charge_count") == 0


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


# ================================================================ wiped out


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
