"""DutchAuction tests' readers, scenario steps and exact prices (tests/contracts/dutch_auction/).

Prices are checked three ways: against exact integers written from the contracts' docstrings,
against exact rationals (Fraction: the chain's price is never below the exact curve, and above it
by less than its round-ups can add), and chain against model by the harness. Re-entry through the
flash-take callback is attempted by a malicious callee, contracts/testing/ReentrantTaker.vy (twin:
offchain/model/testing/reentrant_taker.py), and must fail on both sides.

Scenario used throughout (devnet.toml): the borrower locks 10 ETH and draws 13,000 BUSD; the price
crashes from 2,000 to 1,500, the keeper liquidates, and an auction sells the 10 ETH from
1,500 x 1.2 = 1,800 BUSD, falling by x0.99 every 90 s, to raise 13,000 x rate x 1.13 BUSD.
Every take that does not finish an auction pays into the auction contract (an escrow per
auction); the take that finishes it pays the Backstop directly, and the auction calls the
Backstop's close_loss, which pulls the escrow (what earlier takes raised) and settles the seized
debt with all the proceeds.
"""

from __future__ import annotations

from fractions import Fraction

from helpers import at, ceil_div, crash, fund_taker, liquidate

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import read as _read

ETH, WBTC = "ETH-A", "WBTC-A"
# auctions(id) of an auction that does not run: (position, debt, lot, owner, started, top)
NO_AUCTION = (0, 0, 0, ZERO_ADDRESS, 0, 0)
# price_curves kinds
LINEAR, STAIRSTEP, EXPONENTIAL = 0, 1, 2
# contracts/DutchAuction.vy bounds
MAX_BUFFER = 10 * RAY
MAX_REWARD_RATE = WAD // 10


def _reward_budget(system, t, auction_id) -> int:
    return _read(system, t.auction, "auctions", auction_id)[6]


def status(system, t, auction_id) -> tuple:
    return _read(system, t.auction, "status", auction_id)


def stable(system, who) -> int:
    return _read(system, system.d.engine, "stable", who)


def bad_debt(system, who) -> int:
    return _read(system, system.d.engine, "bad_debt", who)


def collateral(system, t, who) -> int:
    return _read(system, system.d.engine, "collateral", t.type_id, who)


def ctype(system, t):
    return (
        system.engine()
        .collateral_types[t.type_id]
        ._make(_read(system, system.d.engine, "collateral_types", t.type_id))
    )


def type_debt_in_auction(system, t) -> int:
    return _read(system, system.d.liquidator, "types", t.type_id)[3]


def loss(system, t, auction_id) -> tuple:
    """Backstop.losses(type, auction, id): (debt, due, created_at, status 0 none / 1 running /
    2 closed with a loss / 3 done)."""
    return _read(system, system.d.backstop, "losses", t.type_id, t.auction, auction_id)


def event(system, name) -> dict:
    """The arguments of the only event called `name` in the last transaction."""
    found = [e.args for e in system.events if e.name == name]
    assert len(found) == 1, f"{len(found)} {name} events"
    return found[0]


def feed(system, t, price) -> int:
    """The feeder posts `price` now; two pokes, each as early as the oracle allows, make it the
    current price. Returns when it was posted (it stays valid until then + max_age)."""
    r = system.roles
    oracle = system.contract(t.oracle)
    system.tx(t.oracle, "post", r.feeder, price)
    posted = system.now
    system.lockstep.set_next_block_time(max(oracle.last_poke + oracle.delay, system.now + 1))
    system.tx(t.oracle, "poke", r.keeper)
    system.warp(oracle.delay)
    system.tx(t.oracle, "poke", r.keeper)
    assert _read(system, t.oracle, "peek") == (price, True)
    return posted


def mine_at(system, timestamp) -> None:
    """Mine a block at `timestamp` (a harmless transaction: anyone may advance the Backstop's
    first open loss, here by no step)."""
    at(system, timestamp)
    system.tx(system.d.backstop, "advance_open_losses", system.roles.stranger, 0)


def set_parameters(system, t, **changes) -> None:
    c = t.config
    params = {
        "buffer": c.auction_buffer,
        "max_duration": c.auction_max_duration,
        "max_drop": c.auction_max_drop,
        "reward_rate": c.keeper_reward_rate,
        "reward_flat": c.keeper_reward_flat,
    }
    params.update(changes)
    system.tx(t.auction, "set_parameters", system.roles.governance, *params.values())


def reward_limit(debt, penalty) -> int:
    """Half the penalty part of the debt (debt - debt / penalty, the quotient rounded up; the half
    rounded down): the most an auction of `debt` to raise pays in keeper rewards."""
    return (debt - ceil_div(debt * WAD, penalty)) * (WAD // 2) // WAD


def reward(t, debt, min_auction, lot, top) -> int:
    """The keeper reward from the contract's docstring: flat + rate x debt (rounded down), paid
    only when debt and lot x top are both at least min_auction, and at most half the penalty part
    of the debt."""
    c = t.config
    if debt < min_auction or lot * top < min_auction:
        return 0
    return min(
        c.keeper_reward_flat + debt * c.keeper_reward_rate // WAD,
        reward_limit(debt, c.liquidation_penalty),
    )


def small_dust(system, t) -> None:
    """Governance lowers the type's dust to 100 BUSD (the devnet's is from gas economics), so a
    test can open the small vaults it needs; min_auction follows."""
    system.tx(system.d.engine, "set_dust", system.roles.governance, t.type_id, 100 * RAD)


def exact_price(curve, top, elapsed) -> Fraction:
    """The curve's price without rounding: linear top x (1 - t / duration) (zero after), stairstep
    top x cut ** (t // step), exponential top x cut ** t."""
    kind, duration, step, cut = curve
    if kind == LINEAR:
        return Fraction(top * max(duration - elapsed, 0), duration)
    n = elapsed // step if kind == STAIRSTEP else elapsed
    return top * Fraction(cut, RAY) ** n


def assert_price_rounded_up(price, curve, top, elapsed) -> None:
    """price >= exact, and above it by less than the round-ups add.

    Linear: one division rounded up, so < 1. Powers: rpow_up(cut, n) makes at most 2 bit_length(n)
    products, each rounded up by < 1 ray-ulp on a value >= cut ** n; a squaring doubles the
    relative error it carries, so the relative error of cut ** n stays below (n + 2 bit_length(n)
    + 2) / (cut ** n x 1e27) and its absolute error below (n + 2 bit_length(n) + 2) ray-ulps; times
    top / ray, plus the final rmul_up's < 1.
    """
    exact = exact_price(curve, top, elapsed)
    assert price >= exact, f"price {price} below the exact {float(exact):.6e} at {elapsed}s"
    if curve[0] == LINEAR:
        assert price - exact < 1
        assert price == ceil_div(top * max(curve[1] - elapsed, 0), curve[1])
        return
    n = elapsed // curve[2] if curve[0] == STAIRSTEP else elapsed
    slack = Fraction(top * (n + 2 * n.bit_length() + 2), RAY) + 1
    assert price - exact < slack, (
        f"over the exact price by {float(price - exact)} (bound {float(slack)})"
    )


def two_unsafe_vaults_and_one_auction(system) -> int:
    """The borrower's and the stranger's vaults are unsafe; the borrower's is in auction 1."""
    r, t = system.roles, system.eth
    for owner in (r.borrower, r.stranger):
        system.open_vault(owner, ETH, 10 * WAD, 13_000 * WAD)
    crash(system, t, 1_500 * WAD)
    auction_id = liquidate(system, t, r.borrower)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    return auction_id
