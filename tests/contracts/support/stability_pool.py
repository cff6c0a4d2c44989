"""StabilityPool tests' readers, stakers and the loss used throughout
(tests/contracts/stability_pool/, stories/test_stability_pool.py, and the pool's cover and
fee-income tests in backstop/ and fee_accumulator/).

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

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices
from offchain.testing.harness import read as _read

ETH = "ETH-A"
# config/devnet.toml
COOLDOWN = 604_800
EXIT_WINDOW = 259_200
# three times the longest oracle delay of config/devnet.toml (offchain/system/deployment.py)
EXPOSURE_DELAY = 10_800
QUEUE_DELAY = 3_600
POOL_FEE_SHARE = WAD // 4
# the crash: ETH 2,000 -> 1,000; a 10 ETH / 13,000 BUSD vault is liquidated and sold out at 1,200
CRASH_PRICE = 1_000 * WAD
VAULT_DEBT = 13_000 * WAD  # normalized
SOLD_FOR = 12_000 * RAD


def named(system, *names) -> list[tuple[str, str, dict]]:
    """The last transaction's events with one of `names`, in order."""
    return [ev for ev in _events(system) if ev[1] in names]


def pool(system, getter, *args):
    return _read(system, system.d.stability_pool, getter, *args)


def backstop(system, getter, *args):
    return _read(system, system.d.backstop, getter, *args)


def stable(system, who) -> int:
    return _read(system, system.d.engine, "stable", who)


def returns(system, address, function, sender, *args):
    """What `function` returns if `sender` sends it now: eth_call on chain, and the model run on a
    throw-away copy; both must agree (Lockstep.transact drops return values)."""
    tx, fn = system.chain.call_data(address, function, *args)
    raw = system.chain.rpc("eth_call", [{**tx, "from": sender}, "latest"])
    (on_chain,) = abi_decode(fn.outputs, bytes.fromhex(raw[2:]))
    in_model = copy.deepcopy(system.model).transact(address, function, sender, *args)
    assert on_chain == in_model
    return on_chain


def staker(system, who, draw: int = 5_000) -> None:
    """`who` locks 10 ETH and draws `draw` BUSD (safe even after the crash to 1,000: 6,667 of safe
    value), which is `who`'s internal stablecoin at rate 1, and allows the pool to take it."""
    system.open_vault(who, ETH, 10 * WAD, draw * WAD)
    system.tx(system.d.engine, "allow", who, system.d.stability_pool)


def stake_pending(system, who, amount: int) -> None:
    system.tx(system.d.stability_pool, "stake", who, amount)


def stake(system, who, amount: int) -> None:
    """`who` stakes `amount`, waits out the exposure delay and activates it: shares."""
    stake_pending(system, who, amount)
    system.warp(EXPOSURE_DELAY)
    system.tx(system.d.stability_pool, "activate", who)


def gift(system, who, amount: int) -> None:
    """`who` sends `amount` [rad] to the pool and governance reports it as income (as the
    FeeAccumulator does with the pool's fee share): assets rise, no shares are minted. Used to
    make assets differ from total_shares."""
    system.tx(system.d.engine, "transfer_stable", who, who, system.d.stability_pool, amount)
    system.tx(system.d.stability_pool, "add_income", system.roles.governance, amount)


def _crash(system, price: int) -> None:
    """The feeder posts `price`; two oracle pokes a delay apart make it current; the spotter writes
    the new safe price (as in test_auctions)."""
    move_prices(system, [(system.eth, price)])


def crash_and_liquidate(system, owners) -> tuple[list[int], int]:
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
    open_before = backstop(system, "open_losses")
    ids = []
    for owner in owners:
        system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, owner, r.keeper)
        ids.append(started_auction(system, t.auction))
        assert named(system, "LossOpened")[0][2]["debt"] == VAULT_DEBT * rate
    assert backstop(system, "open_losses") == open_before + len(owners)
    loss = VAULT_DEBT * rate - SOLD_FOR
    assert 1_000 * RAD < loss < 1_000 * RAD + RAD // 10
    return ids, loss


def sell_out(system, auction_id: int, loss: int) -> None:
    """The keeper buys the whole 10 ETH at the start price, 1,200: 12,000 BUSD for a seized debt of
    13,000 x rate, paid straight to the Backstop (the take sells out: nothing is escrowed). The
    auction closes its loss event with `loss`, still open until covered."""
    r, t = system.roles, system.eth
    _, _, lot, _, _, top = _read(system, t.auction, "auctions", auction_id)[:6]
    assert (lot, top) == (10 * WAD, 1_200 * RAY)
    system.tx(t.auction, "take", r.keeper, auction_id, lot, top, r.keeper, b"")
    assert named(system, "StableTransferred") == [
        (
            system.d.engine,
            "StableTransferred",
            {"src": r.keeper, "dst": system.d.backstop, "amount": SOLD_FOR},
        ),
    ]
    assert named(system, "LossClosed") == [
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


def cover(system, auction_id: int) -> None:
    """The keeper (anyone) covers the event once the queue delay has passed."""
    t = system.eth
    system.warp(QUEUE_DELAY)
    system.tx(system.d.backstop, "cover", system.roles.keeper, t.type_id, t.auction, auction_id)


def allocated(system, auction_id: int, layer: int, participant: str, amount: int):
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


def absorbed(system, charge_id: int, auction_id: int, amount: int):
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


def charged(system, charge_id: int, staker: str, amount: int):
    return (
        system.d.stability_pool,
        "StakerCharged",
        {"charge_id": charge_id, "staker": staker, "amount": amount},
    )


def realize(system, staker: str, max_charges: int = 10) -> list[tuple[str, str, dict]]:
    """The keeper (anyone) realizes `staker`'s charges; returns the receipts logged."""
    system.tx(system.d.stability_pool, "realize", system.roles.keeper, staker, max_charges)
    return _events(system)
