"""DutchAuction and its price curves: every external function, on chain and in the model at once.

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

import pytest
from eth_abi import encode as abi_encode
from helpers import (
    at,
    auction_sale,
    ceil_div,
    crash,
    eth_auction,
    fund_taker,
    heal,
    liquidate,
)

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS, Role
from offchain.model.testing.reentrant_taker import LIQUIDATE, NOTHING, RESET, TAKE
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices as _move_prices
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts

ETH, WBTC = "ETH-A", "WBTC-A"
# auctions(id) of an auction that does not run: (position, debt, lot, owner, started, top)
NO_AUCTION = (0, 0, 0, ZERO_ADDRESS, 0, 0)
# price_curves kinds
LINEAR, STAIRSTEP, EXPONENTIAL = 0, 1, 2
# contracts/DutchAuction.vy bounds
MAX_BUFFER = 10 * RAY
MAX_REWARD_RATE = WAD // 10


# ---------------------------------------------------------------- reading (chain == model)


def _reward_budget(system, t, auction_id) -> int:
    return _read(system, t.auction, "auctions", auction_id)[6]


def _status(system, t, auction_id) -> tuple:
    return _read(system, t.auction, "status", auction_id)


def _stable(system, who) -> int:
    return _read(system, system.d.engine, "stable", who)


def _bad_debt(system, who) -> int:
    return _read(system, system.d.engine, "bad_debt", who)


def _collateral(system, t, who) -> int:
    return _read(system, system.d.engine, "collateral", t.type_id, who)


def _ctype(system, t):
    return (
        system.engine()
        .collateral_types[t.type_id]
        ._make(_read(system, system.d.engine, "collateral_types", t.type_id))
    )


def _type_debt_in_auction(system, t) -> int:
    return _read(system, system.d.liquidator, "types", t.type_id)[3]


def _loss(system, t, auction_id) -> tuple:
    """Backstop.losses(type, auction, id): (debt, due, created_at, status 0 none / 1 running /
    2 closed with a loss / 3 done)."""
    return _read(system, system.d.backstop, "losses", t.type_id, t.auction, auction_id)


def _event(system, name) -> dict:
    """The arguments of the only event called `name` in the last transaction."""
    found = [e.args for e in system.events if e.name == name]
    assert len(found) == 1, f"{len(found)} {name} events"
    return found[0]


# ---------------------------------------------------------------- acting


def _feed(system, t, price) -> int:
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


def _mine_at(system, timestamp) -> None:
    """Mine a block at `timestamp` (a harmless transaction: anyone may advance the Backstop's
    first open loss, here by no step)."""
    at(system, timestamp)
    system.tx(system.d.backstop, "advance_open_losses", system.roles.stranger, 0)


def _set_parameters(system, t, **changes) -> None:
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


def _reward_limit(debt, penalty) -> int:
    """Half the penalty part of the debt (debt - debt / penalty, the quotient rounded up; the half
    rounded down): the most an auction of `debt` to raise pays in keeper rewards."""
    return (debt - ceil_div(debt * WAD, penalty)) * (WAD // 2) // WAD


def _reward(t, debt, min_auction, lot, top) -> int:
    """The keeper reward from the contract's docstring: flat + rate x debt (rounded down), paid
    only when debt and lot x top are both at least min_auction, and at most half the penalty part
    of the debt."""
    c = t.config
    if debt < min_auction or lot * top < min_auction:
        return 0
    return min(
        c.keeper_reward_flat + debt * c.keeper_reward_rate // WAD,
        _reward_limit(debt, c.liquidation_penalty),
    )


def _small_dust(system, t) -> None:
    """Governance lowers the type's dust to 100 BUSD (the devnet's is from gas economics), so a
    test can open the small vaults it needs; min_auction follows."""
    system.tx(system.d.engine, "set_dust", system.roles.governance, t.type_id, 100 * RAD)


# ---------------------------------------------------------------- independent price curves


def _exact_price(curve, top, elapsed) -> Fraction:
    """The curve's price without rounding: linear top x (1 - t / duration) (zero after), stairstep
    top x cut ** (t // step), exponential top x cut ** t."""
    kind, duration, step, cut = curve
    if kind == LINEAR:
        return Fraction(top * max(duration - elapsed, 0), duration)
    n = elapsed // step if kind == STAIRSTEP else elapsed
    return top * Fraction(cut, RAY) ** n


def _assert_price_rounded_up(price, curve, top, elapsed) -> None:
    """price >= exact, and above it by less than the round-ups add.

    Linear: one division rounded up, so < 1. Powers: rpow_up(cut, n) makes at most 2 bit_length(n)
    products, each rounded up by < 1 ray-ulp on a value >= cut ** n; a squaring doubles the
    relative error it carries, so the relative error of cut ** n stays below (n + 2 bit_length(n)
    + 2) / (cut ** n x 1e27) and its absolute error below (n + 2 bit_length(n) + 2) ray-ulps; times
    top / ray, plus the final rmul_up's < 1.
    """
    exact = _exact_price(curve, top, elapsed)
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


# ================================================================ administration


def test_add_authority__lets_account_configure(system):
    r, t = system.roles, system.eth
    assert not _read(system, t.auction, "authorized", r.other)
    system.tx(t.auction, "add_authority", r.governance, r.other)
    assert _events(system) == [(t.auction, "AuthorityAdded", {"account": r.other})]
    assert _read(system, t.auction, "authorized", r.other)
    system.tx(t.auction, "set_stopped", r.other, 1)
    assert _read(system, t.auction, "stopped") == 1


def test_revoke_role__start_of_liquidator__blocks_new_auctions_until_granted(system):
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    crash(system, t, 1_500 * WAD)
    liquidator = system.d.liquidator
    assert not _read(system, t.auction, "authorized", liquidator)
    system.tx(t.auction, "revoke_role", r.governance, liquidator, int(Role.START))
    assert _events(system) == [
        (t.auction, "RoleRevoked", {"account": liquidator, "role": int(Role.START)})
    ]
    assert _read(system, t.auction, "roles", liquidator) == 0
    with reverts("authorized: not authorized"):
        liquidate(system, t, r.borrower)
    system.tx(t.auction, "grant_role", r.governance, liquidator, int(Role.START))
    assert liquidate(system, t, r.borrower) == 1


AUCTION_PRIVILEGED = {
    "add_authority": lambda s: (s.roles.stranger,),
    "remove_authority": lambda s: (s.roles.governance,),
    "grant_role": lambda s: (s.roles.stranger, int(Role.START)),
    "revoke_role": lambda s: (s.roles.governance, int(Role.START)),
    "set_parameters": lambda s: (RAY, 1, 0, 0, 0),
    "set_curve": lambda s: ((LINEAR, 1, 0, 0),),
    "set_oracle": lambda s: (s.roles.stranger,),
    "set_stopped": lambda s: (3,),
    "start": lambda s: (RAD, WAD, s.roles.stranger, s.roles.stranger),
}


@pytest.mark.parametrize("function", sorted(AUCTION_PRIVILEGED))
def test_privileged_function__called_by_stranger__reverts_not_authorized(system, function):
    with reverts("authorized: not authorized"):
        system.tx(
            system.eth.auction,
            function,
            system.roles.stranger,
            *AUCTION_PRIVILEGED[function](system),
        )


def test_constructor__wires_immutables_and_safe_defaults(system):
    """The deployed auction's immutables; a fresh one starts linear over an hour, buffer 1, no
    rewards, authorizes its deployer and allows the Backstop to move its engine balance."""
    t = system.eth
    assert system.view(t.auction, "engine") == system.d.engine
    assert system.view(t.auction, "collateral_type") == t.type_id
    assert system.view(t.auction, "liquidator") == system.d.liquidator
    assert system.view(t.auction, "backstop") == system.d.backstop
    assert _read(system, t.auction, "oracle") == t.oracle
    r = system.roles
    fresh = system.lockstep.deploy(
        "DutchAuction",
        r.other,
        system.d.engine,
        t.type_id,
        system.d.liquidator,
        system.d.backstop,
        t.oracle,
    )
    # the proceeds escrowed here are the Backstop's to pull (close_loss): it is allowed at once
    assert _events(system) == [
        (system.d.engine, "DelegateAllowed", {"owner": fresh, "delegate": system.d.backstop}),
        (fresh, "AuthorityAdded", {"account": r.other}),
    ]
    assert _read(system, system.d.engine, "delegates", fresh, system.d.backstop) is True
    assert _read(system, system.d.engine, "delegates", t.auction, system.d.backstop) is True
    assert _read(system, fresh, "buffer") == RAY
    assert _read(system, fresh, "max_duration") == 3600
    assert _read(system, fresh, "max_drop") == 0
    assert _read(system, fresh, "reward_rate") == _read(system, fresh, "reward_flat") == 0
    assert _read(system, fresh, "curve") == (LINEAR, 3600, 0, 0)
    assert _read(system, fresh, "authorized", r.other)
    assert _read(system, fresh, "active_count") == 0
    assert _read(system, fresh, "active_auctions") == ()
    assert _read(system, fresh, "next_id") == 1


# ---------------------------------------------------------------- set_parameters


def test_set_parameters__stores_values_and_logs(system):
    r, t = system.roles, system.eth
    system.tx(
        t.auction, "set_parameters", r.governance, 3 * RAY // 2, 600, RAY // 2, WAD // 100, 5 * RAD
    )
    assert _events(system) == [
        (
            t.auction,
            "ParametersSet",
            {
                "buffer": 3 * RAY // 2,
                "max_duration": 600,
                "max_drop": RAY // 2,
                "reward_rate": WAD // 100,
                "reward_flat": 5 * RAD,
            },
        )
    ]
    assert [
        _read(system, t.auction, name)
        for name in ("buffer", "max_duration", "max_drop", "reward_rate", "reward_flat")
    ] == [3 * RAY // 2, 600, RAY // 2, WAD // 100, 5 * RAD]


@pytest.mark.parametrize(
    "params",
    [
        (RAY, 1, 0, 0, 0),  # every lower bound
        # every upper bound (max_duration shares a slot with the reward rate, max_drop and
        # the circuit breaker: below 2**64 seconds)
        (MAX_BUFFER, 2**64 - 1, RAY - 1, MAX_REWARD_RATE, 2**256 - 1),
    ],
)
def test_set_parameters__at_the_bounds__is_accepted(system, params):
    system.tx(system.eth.auction, "set_parameters", system.roles.governance, *params)
    assert [
        _read(system, system.eth.auction, name)
        for name in ("buffer", "max_duration", "max_drop", "reward_rate", "reward_flat")
    ] == list(params)


@pytest.mark.parametrize(
    "params,reason",
    [
        ((RAY - 1, 1, 0, 0, 0), "auction: buffer below 1"),
        ((MAX_BUFFER + 1, 1, 0, 0, 0), "auction: buffer above 10"),
        ((RAY, 0, 0, 0, 0), "auction: zero max duration"),
        ((RAY, 2**64, 0, 0, 0), "auction: max duration too large"),
        ((RAY, 1, RAY, 0, 0), "auction: max drop not below 1"),
        ((RAY, 1, 0, MAX_REWARD_RATE + 1, 0), "auction: reward rate above 10%"),
    ],
)
def test_set_parameters__out_of_bounds__reverts(system, params, reason):
    with reverts(reason):
        system.tx(system.eth.auction, "set_parameters", system.roles.governance, *params)


# ---------------------------------------------------------------- set_curve


@pytest.mark.parametrize(
    "curve",
    [
        (LINEAR, 1, 0, 0),
        (LINEAR, 10_000, 7, RAY + 5),  # a linear curve ignores step and cut
        (STAIRSTEP, 0, 1, 0),  # a cut of zero: the price drops to zero after one step
        (STAIRSTEP, 0, 90, RAY - 1),
        (EXPONENTIAL, 0, 0, RAY - 1),  # an exponential curve ignores the step
    ],
)
def test_set_curve__valid__stores_and_logs(system, curve):
    t = system.eth
    system.tx(t.auction, "set_curve", system.roles.governance, curve)
    kind, duration, step, cut = curve
    assert _events(system) == [
        (t.auction, "CurveSet", {"kind": kind, "duration": duration, "step": step, "cut": cut})
    ]
    assert _read(system, t.auction, "curve") == curve


@pytest.mark.parametrize(
    "curve,reason",
    [
        ((3, 3600, 90, RAY // 2), "curve: unknown kind"),
        ((LINEAR, 0, 90, RAY // 2), "curve: zero duration"),
        ((STAIRSTEP, 3600, 90, RAY), "curve: cut not below 1"),
        ((EXPONENTIAL, 3600, 90, RAY), "curve: cut not below 1"),
        ((STAIRSTEP, 3600, 0, RAY // 2), "curve: zero step"),
    ],
)
def test_set_curve__invalid__reverts(system, curve, reason):
    with reverts(reason):
        system.tx(system.eth.auction, "set_curve", system.roles.governance, curve)


def test_set_curve__applies_to_a_running_auction(system):
    """An auction running on the stair-step is priced by a new linear curve from its own start."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    started, top = auction_sale(system, t, auction_id)[4:6]
    system.tx(t.auction, "set_curve", r.governance, (LINEAR, 1_000, 0, 0))
    _mine_at(system, started + 100)
    assert _status(system, t, auction_id)[1] == top * 9 // 10


# ---------------------------------------------------------------- set_oracle, set_stopped,
# min_auction


def test_set_oracle__start_price_comes_from_the_new_oracle(system):
    """With WBTC's oracle (fresh at 31,000), an ETH auction starts at 31,000 x 1.2."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    _move_prices(system, [(t, 1_500 * WAD), (system.btc, 31_000 * WAD)])
    system.tx(t.auction, "set_oracle", r.governance, system.btc.oracle)
    assert _events(system) == [(t.auction, "OracleSet", {"oracle": system.btc.oracle})]
    assert _read(system, t.auction, "oracle") == system.btc.oracle
    auction_id = liquidate(system, t, r.borrower)
    assert auction_sale(system, t, auction_id)[5] == 37_200 * RAY


def test_set_oracle__zero__reverts(system):
    with reverts("auction: zero oracle"):
        system.tx(system.eth.auction, "set_oracle", system.roles.governance, ZERO_ADDRESS)


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_set_stopped__levels_0_to_3__stored_and_logged(system, level):
    t = system.eth
    system.tx(t.auction, "set_stopped", system.roles.governance, level)
    assert _events(system) == [(t.auction, "StoppedSet", {"level": level})]
    assert _read(system, t.auction, "stopped") == level


def test_set_stopped_and_set_parameters__share_a_slot__neither_changes_the_others(system):
    """The circuit breaker, the reward rate, max_duration and max_drop live in one slot: setting
    the level keeps the parameters at their bounds, and setting the parameters keeps the level."""
    t, governance = system.eth, system.roles.governance
    names = ("stopped", "reward_rate", "max_duration", "max_drop")
    system.tx(t.auction, "set_parameters", governance, RAY, 2**64 - 1, RAY - 1, MAX_REWARD_RATE, 0)
    system.tx(t.auction, "set_stopped", governance, 3)
    assert [_read(system, t.auction, n) for n in names] == [3, MAX_REWARD_RATE, 2**64 - 1, RAY - 1]
    system.tx(t.auction, "set_parameters", governance, RAY, 1, 0, 0, 0)
    assert [_read(system, t.auction, n) for n in names] == [3, 0, 1, 0]
    system.tx(t.auction, "set_stopped", governance, 0)
    assert [_read(system, t.auction, n) for n in names] == [0, 0, 1, 0]


def test_set_stopped__level_4__reverts(system):
    with reverts("auction: level above 3"):
        system.tx(system.eth.auction, "set_stopped", system.roles.governance, 4)


def test_min_auction__dust_times_penalty__follows_every_change_at_once(system):
    """min_auction is read when used: a change of the dust (engine) or of the penalty
    (Liquidator) applies with no follow-up call (issue 31, finding 1: a stored copy went stale)."""
    r, t = system.roles, system.eth
    assert (
        _read(system, t.auction, "min_auction") == t.config.dust * 113 // 100
    )  # deployed: dust x 1.13
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, 200 * RAD + 3)
    assert _read(system, t.auction, "min_auction") == 226 * RAD + 3  # 3 x 1.13 = 3.39, rounded down
    system.tx(
        system.d.liquidator,
        "configure_type",
        r.governance,
        t.type_id,
        t.auction,
        3 * WAD // 2,
        t.config.auction_cap,
    )
    assert _read(system, t.auction, "min_auction") == 300 * RAD + 4  # 3 x 1.5 = 4.5, rounded down


# ================================================================ start


def test_liquidate__starts_auction_at_oracle_price_times_buffer_and_pays_keeper(system):
    """Money flow: the vault's 10 ETH go to the auction and its 13,000 x rate debt to the
    Backstop's bad debt, recorded as a running loss event of auction 1 (after the auction's start);
    the keeper is paid 300 + 0.1% of the debt to raise in new stablecoin, which the Backstop owes
    as unattributed bad debt (I1-I3 hold: both totals rise by the reward)."""
    r, t, d = system.roles, system.eth, system.d
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    crash(system, t, 1_500 * WAD)
    rate = _ctype(system, t).rate
    debt = 13_000 * WAD * rate
    to_raise = ceil_div(debt * t.config.liquidation_penalty, WAD)
    min_auction = _read(system, t.auction, "min_auction")
    reward = _reward(t, to_raise, min_auction, 10 * WAD, 1_800 * RAY)
    keeper_0, backstop_bad_0 = _stable(system, r.keeper), _bad_debt(system, d.backstop)
    unbacked_0 = _read(system, d.engine, "total_unbacked")

    auction_id = liquidate(system, t, r.borrower)
    started = system.now
    assert auction_id == 1
    assert _events(system) == [
        (
            d.engine,
            "VaultSeized",
            {
                "collateral_type": t.type_id,
                "owner": r.borrower,
                "collateral_dst": t.auction,
                "debt_dst": d.backstop,
                "delta_collateral": -10 * WAD,
                "delta_normalized_debt": -13_000 * WAD,
            },
        ),
        (
            d.engine,
            "UnbackedCreated",
            {"debt_dst": d.backstop, "stable_dst": r.keeper, "amount": reward},
        ),
        (
            t.auction,
            "Started",
            {
                "auction_id": 1,
                "top": 1_800 * RAY,
                "debt": to_raise,
                "lot": 10 * WAD,
                "owner": r.borrower,
                "keeper": r.keeper,
                "reward": reward,
            },
        ),
        (
            d.backstop,
            "LossOpened",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": 1,
                "debt": debt,
                "to_raise": to_raise,
            },
        ),
        (
            d.liquidator,
            "Liquidated",
            {
                "collateral_type": t.type_id,
                "owner": r.borrower,
                "collateral": 10 * WAD,
                "normalized_debt": 13_000 * WAD,
                "debt": debt,
                "auction": t.auction,
                "auction_id": 1,
            },
        ),
    ]
    assert auction_sale(system, t, 1) == (0, to_raise, 10 * WAD, r.borrower, started, 1_800 * RAY)
    assert _status(system, t, 1) == (False, 1_800 * RAY, 10 * WAD, to_raise)
    assert _read(system, t.auction, "active_auctions") == (1,)
    assert _read(system, t.auction, "active_count") == 1
    assert _collateral(system, t, t.auction) == 10 * WAD
    assert (
        _type_debt_in_auction(system, t)
        == _read(system, d.liquidator, "debt_in_auction")
        == to_raise
    )
    assert _stable(system, r.keeper) == keeper_0 + reward
    assert _bad_debt(system, d.backstop) == backstop_bad_0 + debt + reward
    assert _read(system, d.engine, "total_unbacked") == unbacked_0 + debt + reward
    assert _loss(system, t, 1) == (debt, to_raise, started, 1)
    assert _read(system, d.backstop, "open_losses") == 1
    assert _read(system, d.backstop, "attributed_debt") == debt
    assert _read(system, d.backstop, "unattributed_debt") == reward
    assert _stable(system, t.auction) == 0  # nothing raised yet
    assert reward == 300 * RAD + to_raise // 1000
    assert 314 * RAD < reward < 315 * RAD  # 300 + 0.1% of ~14,690


@pytest.mark.parametrize("buffer", [12 * RAY // 10, RAY, RAY + 7, MAX_BUFFER])
def test_start_price__is_oracle_price_times_buffer_rounded_up(system, buffer):
    """top = ceil(price [wad] x 1e9 x buffer / ray): never below the exact product, by < 1 ulp."""
    t = system.eth
    price = 1_499_999_999_999_999_999_999  # just under 1,500 BUSD: no product here is round
    _set_parameters(system, t, buffer=buffer)
    auction_id = eth_auction(system, price=price)
    top = auction_sale(system, t, auction_id)[5]
    exact = Fraction(price * 10**9 * buffer, RAY)
    assert exact <= top < exact + 1
    assert top == ceil_div(price * 10**9 * buffer, RAY)
    if buffer == RAY + 7:
        assert top != exact  # 7 x price / 1e18 is not whole: this one really rounds up
    assert _event(system, "Started")["top"] == top


def test_start__stale_oracle__reverts_invalid_price(system):
    """The oracle's price goes stale 10,800 s after it was posted; the spotter's safe price (set
    while it was fresh) still makes the vault unsafe, but the auction cannot price it."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    crash(system, t, 1_500 * WAD)
    posted = system.contract(t.oracle).current_time
    at(system, posted + t.config.oracle_max_age + 1)
    with reverts("auction: invalid price"):
        liquidate(system, t, r.borrower)
    assert _read(system, t.oracle, "peek") == (1_500 * WAD, False)


@pytest.mark.parametrize(
    "args,reason",
    [
        ((0, WAD, "owner"), "auction: zero debt"),
        ((RAD, 0, "owner"), "auction: zero lot"),
        ((RAD, WAD, ZERO_ADDRESS), "auction: zero owner"),
    ],
)
def test_start__by_authority_with_empty_values__reverts(system, args, reason):
    r = system.roles
    debt, lot, owner = args
    with reverts(reason):
        system.tx(
            system.eth.auction,
            "start",
            r.governance,
            debt,
            lot,
            r.borrower if owner == "owner" else owner,
            r.keeper,
        )


def test_start__stopped_level_1__reverts_before_checking_values(system):
    system.tx(system.eth.auction, "set_stopped", system.roles.governance, 1)
    with reverts("auction: stopped"):
        system.tx(
            system.eth.auction, "start", system.roles.governance, 0, 0, ZERO_ADDRESS, ZERO_ADDRESS
        )


# ---------------------------------------------------------------- keeper rewards


@pytest.mark.parametrize("dust_over_debt,paid", [(0, True), (1, False)])
def test_start__reward_only_when_debt_at_least_min_auction(system, dust_over_debt, paid):
    """Money flow: with the dust set to the vault's debt, min_auction (dust x 1.13, rounded down)
    equals the auction's debt exactly (debt x 1.13, rounded up, is whole here) and the keeper is
    paid; one rad more of dust puts min_auction one rad above the debt and nothing is paid."""
    r, t = system.roles, system.eth
    _small_dust(system, t)
    system.open_vault(r.borrower, ETH, 1 * WAD, 1_000 * WAD)
    vault_debt = 1_000 * WAD * _ctype(system, t).rate
    assert vault_debt * 113 % 100 == 0
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, vault_debt + dust_over_debt)
    crash(system, t, 1_400 * WAD)
    keeper_0 = _stable(system, r.keeper)
    auction_id = liquidate(system, t, r.borrower)
    debt, lot = auction_sale(system, t, auction_id)[1:3]
    min_auction = _read(system, t.auction, "min_auction")
    assert debt == vault_debt * 113 // 100
    assert min_auction == debt + dust_over_debt
    assert lot * 1_680 * RAY >= min_auction  # the collateral's value is not what decides here
    # capped at half the penalty income: 300 + 0.1% is above (debt - debt / 1.13) / 2 (= 65 x rate)
    reward = _reward_limit(debt, 113 * WAD // 100) if paid else 0
    assert _event(system, "Started")["reward"] == reward
    assert ("UnbackedCreated" in [e.name for e in system.events]) == paid
    assert _stable(system, r.keeper) == keeper_0 + reward


def test_start__collateral_worth_less_than_min_auction__pays_no_reward(system):
    """1 ETH at a start price of 50 x 1.2 = 60 BUSD is worth less than min_auction (113 BUSD),
    although the debt to raise (~1,130) is above it: no reward (no farming of dust lots)."""
    r, t = system.roles, system.eth
    _small_dust(system, t)
    keeper_0 = _stable(system, r.keeper)
    auction_id = eth_auction(system, collateral=1 * WAD, debt=1_000 * WAD, price=50 * WAD)
    debt, lot, top = (auction_sale(system, t, auction_id)[i] for i in (1, 2, 5))
    min_auction = _read(system, t.auction, "min_auction")
    assert top == 60 * RAY and lot == WAD
    assert debt >= min_auction > lot * top
    assert _event(system, "Started")["reward"] == 0
    assert [e.name for e in system.events] == ["VaultSeized", "Started", "LossOpened", "Liquidated"]
    assert _stable(system, r.keeper) == keeper_0


def test_start__no_reward_configured__pays_nothing(system):
    r, t = system.roles, system.eth
    _set_parameters(system, t, reward_rate=0, reward_flat=0)
    keeper_0 = _stable(system, r.keeper)
    eth_auction(system)
    assert _event(system, "Started")["reward"] == 0
    assert "UnbackedCreated" not in [e.name for e in system.events]
    assert _stable(system, r.keeper) == keeper_0
    assert (
        _read(system, system.d.backstop, "unattributed_debt") == 0
    )  # all its bad debt is the event's


# ================================================================ price curves


CURVES = {
    # the deployed ETH curve: x0.99 every 90 s
    "stairstep_deployed": (
        ETH,
        None,
        [0, 1, 89, 90, 91, 179, 180, 900, 3599, 7199, 7200, 8400, 8401, 20_000],
    ),
    # an awkward step and cut: every product rounds
    "stairstep_odd": (
        ETH,
        (STAIRSTEP, 0, 7, 987_654_321_987_654_321_987_654_321),
        [0, 6, 7, 13, 14, 100, 701, 3_000, 8_401],
    ),
    "exponential": (
        ETH,
        (EXPONENTIAL, 0, 0, 999_876_543_210_987_654_321_098_765),
        [0, 1, 2, 3, 59, 600, 3_599, 6_000, 8_400, 8_401],
    ),
    # the deployed WBTC curve: linear to zero over 10,000 s
    "linear_deployed": (
        WBTC,
        None,
        [0, 1, 2, 3_333, 5_499, 5_500, 5_501, 8_400, 9_999, 10_000, 10_001],
    ),
    "linear_odd": (ETH, (LINEAR, 7_777, 0, 0), [0, 1, 3, 1_000, 7_776, 7_777, 7_778]),
}


@pytest.mark.parametrize("case", sorted(CURVES))
def test_price_curve__at_many_times__is_exact_curve_rounded_up(system, case):
    """status() on chain (== the model) against the exact rational curve, with the needs-reset
    flag recomputed from the docstring: older than max_duration, below max_drop x top, or zero."""
    r = system.roles
    type_name, curve, times = CURVES[case]
    t = system.d.types[type_name]
    if curve is not None:
        system.tx(t.auction, "set_curve", r.governance, curve)
    if type_name == ETH:
        auction_id = eth_auction(system)
    else:
        system.open_vault(r.borrower, WBTC, 1 * WAD, 19_000 * WAD)
        crash(system, t, 25_000 * WAD)
        auction_id = liquidate(system, t, r.borrower)
    curve = _read(system, t.auction, "curve")
    _, debt, lot, _, started, top = auction_sale(system, t, auction_id)
    assert top == {ETH: 1_800 * RAY, WBTC: 30_000 * RAY}[type_name]
    max_duration, max_drop = (
        _read(system, t.auction, "max_duration"),
        _read(system, t.auction, "max_drop"),
    )
    for elapsed in times:
        if elapsed:
            _mine_at(system, started + elapsed)
        assert system.now == started + elapsed
        needs_reset, price, status_lot, status_debt = _status(system, t, auction_id)
        _assert_price_rounded_up(price, curve, top, elapsed)
        assert needs_reset == (
            elapsed > max_duration or price * RAY // top < max_drop or price == 0
        )
        assert (status_lot, status_debt) == (lot, debt)
    if case == "stairstep_deployed":
        # exact by hand: the first step at 90 s, and the step where 0.99 ** n falls below 0.45
        assert _exact_price(curve, top, 89) == top
        assert _exact_price(curve, top, 90) == 1_782 * RAY
        assert Fraction(99, 100) ** 79 >= Fraction(45, 100) > Fraction(99, 100) ** 80


def test_price_curve__exponential_with_zero_cut__needs_reset_at_once(system):
    """A cut of zero prices everything after the start at zero: such an auction needs a reset
    rather than giving the collateral away."""
    r, t = system.roles, system.eth
    system.tx(t.auction, "set_curve", r.governance, (EXPONENTIAL, 0, 0, 0))
    auction_id = eth_auction(system)
    assert _status(system, t, auction_id)[:2] == (False, 1_800 * RAY)
    _mine_at(system, system.now + 1)
    assert _status(system, t, auction_id)[:2] == (True, 0)


# ================================================================ take


def test_take__whole_lot__pays_debt_returns_rest_to_owner_and_finishes(system):
    """Money flow: the taker's take finishes the auction, so it pays exactly the debt to raise
    straight to the Backstop (nothing passes through the escrow) and receives floor(debt / price)
    ETH; the rest of the 10 ETH returns to the borrower's free collateral; the liquidator's debt
    in auction drops by the debt (I: lots == auction's collateral). The auction closes its loss
    event with all of it paid directly: the Backstop pulls nothing from the (empty) escrow,
    keeps the seized debt's part (13,000 x rate) as unsettled proceeds until the stranger heals
    it, and the 13% penalty as surplus; the event is done with no loss."""
    r, t, d = system.roles, system.eth, system.d
    auction_id = eth_auction(system)
    seized = 13_000 * WAD * _ctype(system, t).rate
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    _, debt, lot, _, started, top = auction_sale(system, t, auction_id)
    assert debt == ceil_div(seized * 113, 100)
    in_auction_0 = _read(system, d.liquidator, "debt_in_auction")
    backstop_0, taker_0 = _stable(system, d.backstop), _stable(system, r.other)
    backstop_bad_0 = _bad_debt(system, d.backstop)

    system.tx(t.auction, "take", r.other, auction_id, lot, top, r.other, b"")
    bought = debt // top
    returned = lot - bought
    assert lot * top > debt and 0 < returned < lot
    assert _events(system) == [
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.other, "amount": bought},
        ),
        (d.engine, "StableTransferred", {"src": r.other, "dst": d.backstop, "amount": debt}),
        (d.liquidator, "DebtInAuctionRemoved", {"collateral_type": t.type_id, "amount": debt}),
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.borrower, "amount": returned},
        ),
        (
            d.backstop,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": auction_id,
                "raised": debt,
                "covered": seized,
                "loss": 0,
            },
        ),
        (
            t.auction,
            "Finished",
            {"auction_id": auction_id, "collateral_returned": returned, "debt_unraised": 0},
        ),
        (
            t.auction,
            "Taken",
            {
                "auction_id": auction_id,
                "max_price": top,
                "price": top,
                "owe": debt,
                "collateral": bought,
                "debt": 0,
                "lot": returned,
                "owner": r.borrower,
            },
        ),
    ]
    assert auction_sale(system, t, auction_id) == NO_AUCTION
    assert _status(system, t, auction_id) == (False, 0, 0, 0)
    assert _read(system, t.auction, "active_auctions") == ()
    assert _read(system, t.auction, "active_count") == 0
    assert _collateral(system, t, r.other) == bought
    assert _collateral(system, t, r.borrower) == returned
    assert _collateral(system, t, t.auction) == 0
    assert _stable(system, r.other) == taker_0 - debt
    assert _stable(system, t.auction) == 0  # the escrow was never used
    # the seized debt's part of the proceeds waits, attributed, until anyone heals it
    assert _stable(system, d.backstop) == backstop_0 + debt
    assert _bad_debt(system, d.backstop) == backstop_bad_0
    assert _loss(system, t, auction_id) == (seized, 0, started, 3)
    assert _read(system, d.backstop, "open_losses") == 0
    assert _read(system, d.backstop, "attributed_debt") == seized
    heal(system, seized)
    assert _stable(system, d.backstop) == backstop_0 + debt - seized  # the penalty
    assert _bad_debt(system, d.backstop) == backstop_bad_0 - seized  # the keeper's reward is left
    assert _read(system, d.backstop, "attributed_debt") == 0
    assert _read(system, d.liquidator, "debt_in_auction") == in_auction_0 - debt
    assert _type_debt_in_auction(system, t) == 0
    # the borrower got back what the debt did not need at the auction's price: ~1.84 of 10 ETH
    assert 183 * WAD // 100 < returned < 184 * WAD // 100
    with reverts("auction: not running"):
        system.tx(t.auction, "take", r.other, auction_id, lot, top, r.other, b"")


def test_take__partial__leaves_the_rest_for_sale(system):
    """Money flow: 2 ETH at 1,800 = 3,600 BUSD from the taker into the auction's escrow (not the
    Backstop: its loss event keeps running, untouched); the auction keeps 8 ETH and the debt less
    3,600; the liquidator's debt in auction drops by 3,600. A second partial take adds to the
    escrow."""
    r, t, d = system.roles, system.eth, system.d
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    _, debt, lot, owner, started, top = auction_sale(system, t, auction_id)
    in_auction_0 = _type_debt_in_auction(system, t)
    loss_0, backstop_0 = _loss(system, t, auction_id), _stable(system, d.backstop)
    system.tx(t.auction, "take", r.other, auction_id, 2 * WAD, top, r.other, b"")
    assert _events(system) == [
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.other, "amount": 2 * WAD},
        ),
        (d.engine, "StableTransferred", {"src": r.other, "dst": t.auction, "amount": 3_600 * RAD}),
        (
            d.liquidator,
            "DebtInAuctionRemoved",
            {"collateral_type": t.type_id, "amount": 3_600 * RAD},
        ),
        (
            t.auction,
            "Taken",
            {
                "auction_id": auction_id,
                "max_price": top,
                "price": top,
                "owe": 3_600 * RAD,
                "collateral": 2 * WAD,
                "debt": debt - 3_600 * RAD,
                "lot": 8 * WAD,
                "owner": owner,
            },
        ),
    ]
    assert auction_sale(system, t, auction_id) == (
        0,
        debt - 3_600 * RAD,
        8 * WAD,
        owner,
        started,
        top,
    )
    assert _type_debt_in_auction(system, t) == in_auction_0 - 3_600 * RAD
    assert _collateral(system, t, r.other) == 2 * WAD
    assert _collateral(system, t, t.auction) == 8 * WAD
    assert _read(system, t.auction, "active_auctions") == (auction_id,)
    assert _stable(system, t.auction) == 3_600 * RAD
    assert _stable(system, d.backstop) == backstop_0
    assert _loss(system, t, auction_id) == loss_0 and loss_0[3] == 1
    system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    assert _stable(system, t.auction) == 5_400 * RAD
    assert _loss(system, t, auction_id) == loss_0


def test_take__finishing_after_partial__pays_backstop_directly_and_backstop_pulls_only_the_escrow(
    system,
):
    """Money flow: two auctions run (the borrower's and the stranger's vaults, 10 ETH / 13,000
    each, both at 1,800). A partial take of 2 ETH of auction 1 pays 3,600 into the escrow, one of
    1 ETH of auction 2 pays 1,800 into it: 5,400 escrowed in all. The take of auction 1's other
    8 ETH finishes it: the taker pays what is left to raise (T - 3,600) straight to the Backstop,
    the borrower gets the ETH it did not need back, and the Backstop pulls from the escrow exactly
    auction 1's earlier 3,600 (not auction 2's 1,800, which stays), so it has received T in all:
    D of it waits as unsettled proceeds until healed, and it keeps the penalty T - D. Auction 2's
    event runs on."""
    r, t, d = system.roles, system.eth, system.d
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    system.open_vault(r.stranger, ETH, 10 * WAD, 13_000 * WAD)
    crash(system, t, 1_500 * WAD)
    first = liquidate(system, t, r.borrower)
    seized = 13_000 * WAD * _ctype(system, t).rate
    second = liquidate(system, t, r.stranger)
    fund_taker(system, r.other, 30_000 * RAD, [t.auction])
    _, debt, lot, owner, started, top = auction_sale(system, t, first)
    assert top == auction_sale(system, t, second)[5] == 1_800 * RAY and lot == 10 * WAD
    assert debt == ceil_div(seized * 113, 100)
    backstop_0, bad_0 = _stable(system, d.backstop), _bad_debt(system, d.backstop)
    loss_2 = _loss(system, t, second)

    system.tx(t.auction, "take", r.other, first, 2 * WAD, top, r.other, b"")
    system.tx(t.auction, "take", r.other, second, WAD, top, r.other, b"")
    assert _stable(system, t.auction) == 5_400 * RAD  # both auctions' escrow
    assert _stable(system, d.backstop) == backstop_0  # nothing reached the Backstop yet
    taker_0 = _stable(system, r.other)

    system.tx(t.auction, "take", r.other, first, 8 * WAD, top, r.other, b"")
    owe = debt - 3_600 * RAD  # less than 8 ETH's worth (14,400): the rest of the debt
    bought = owe // top
    returned = 8 * WAD - bought
    assert 6 * WAD < bought < 7 * WAD
    assert _events(system) == [
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.other, "amount": bought},
        ),
        (d.engine, "StableTransferred", {"src": r.other, "dst": d.backstop, "amount": owe}),
        (d.liquidator, "DebtInAuctionRemoved", {"collateral_type": t.type_id, "amount": owe}),
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": owner, "amount": returned},
        ),
        (
            d.engine,
            "StableTransferred",
            {"src": t.auction, "dst": d.backstop, "amount": 3_600 * RAD},
        ),
        (
            d.backstop,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": first,
                "raised": debt,
                "covered": seized,
                "loss": 0,
            },
        ),
        (
            t.auction,
            "Finished",
            {"auction_id": first, "collateral_returned": returned, "debt_unraised": 0},
        ),
        (
            t.auction,
            "Taken",
            {
                "auction_id": first,
                "max_price": top,
                "price": top,
                "owe": owe,
                "collateral": bought,
                "debt": 0,
                "lot": returned,
                "owner": owner,
            },
        ),
    ]
    assert _stable(system, r.other) == taker_0 - owe
    assert _stable(system, t.auction) == 1_800 * RAD  # auction 2's escrow only
    assert _stable(system, d.backstop) == backstop_0 + debt
    heal(system, seized)
    assert _stable(system, d.backstop) == backstop_0 + debt - seized  # the penalty
    assert _bad_debt(system, d.backstop) == bad_0 - seized
    assert _collateral(system, t, owner) == returned
    assert _loss(system, t, first) == (seized, 0, started, 3)
    assert _loss(system, t, second) == loss_2 and loss_2[3] == 1
    assert _read(system, t.auction, "active_auctions") == (second,)


def test_take__partial_that_would_leave_less_than_min_auction__is_cut_to_leave_exactly_min_auction(
    system,
):
    """Money flow: the taker asks for all but a sliver of the debt's worth; the auction sells only
    floor((debt - min_auction) / price) ETH for debt - min_auction, so exactly min_auction stays to
    raise (still auctionable)."""
    r, t, d = system.roles, system.eth, system.d
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    _, debt, lot, owner, started, top = auction_sale(system, t, auction_id)
    min_auction = _read(system, t.auction, "min_auction")
    asked = (debt - 1) // top  # worth just under the debt: would leave < 1 ETH-wei's worth
    assert 0 < debt - asked * top < min_auction and asked < lot
    owe = debt - min_auction
    bought = owe // top
    system.tx(t.auction, "take", r.other, auction_id, asked, top, r.other, b"")
    assert _events(system) == [
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.other, "amount": bought},
        ),
        (d.engine, "StableTransferred", {"src": r.other, "dst": t.auction, "amount": owe}),
        (d.liquidator, "DebtInAuctionRemoved", {"collateral_type": t.type_id, "amount": owe}),
        (
            t.auction,
            "Taken",
            {
                "auction_id": auction_id,
                "max_price": top,
                "price": top,
                "owe": owe,
                "collateral": bought,
                "debt": min_auction,
                "lot": lot - bought,
                "owner": owner,
            },
        ),
    ]
    assert auction_sale(system, t, auction_id) == (
        0,
        min_auction,
        lot - bought,
        owner,
        started,
        top,
    )
    assert _collateral(system, t, r.other) == bought
    assert _type_debt_in_auction(system, t) == min_auction

    # the remainder is exactly min_auction: no partial take of it is possible ...
    with reverts("auction: no partial take"):
        system.tx(t.auction, "take", r.other, auction_id, WAD // 1_000, top, r.other, b"")
    # ... but it can be bought whole; the rest of the lot goes back to the borrower
    system.tx(t.auction, "take", r.other, auction_id, lot, top, r.other, b"")
    last = min_auction // top
    assert system.events[-2].args == {
        "auction_id": auction_id,
        "collateral_returned": lot - bought - last,
        "debt_unraised": 0,
    }
    assert _collateral(system, t, r.borrower) == lot - bought - last
    assert auction_sale(system, t, auction_id) == NO_AUCTION
    # the two takes raised the whole debt: the finishing one paid min_auction to the Backstop
    # directly, which pulled the first one's payment from the escrow
    assert _event(system, "LossClosed")["raised"] == owe + min_auction == debt
    pays = [e.args for e in system.events if e.name == "StableTransferred"]
    assert pays == [
        {"src": r.other, "dst": d.backstop, "amount": min_auction},
        {"src": t.auction, "dst": d.backstop, "amount": owe},
    ]
    assert _stable(system, t.auction) == 0


def test_take__partial_when_debt_at_most_min_auction__reverts_no_partial_take(system):
    """With the dust raised so that min_auction (15,000.75) is above the whole debt (~14,690), a
    partial take whose remainder is still worth min_auction (9 ETH x 1,800) reverts; taking the
    whole lot's worth works. (A remainder worth less than min_auction takes the whole lot: see
    tests/security/test_findings.py, finding 10.)"""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    _, debt, lot, owner, _, top = auction_sale(system, t, auction_id)
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, 13_275 * RAD)
    assert debt <= _read(system, t.auction, "min_auction") <= (lot - WAD) * top
    with reverts("auction: no partial take"):
        system.tx(t.auction, "take", r.other, auction_id, 1 * WAD, top, r.other, b"")
    system.tx(t.auction, "take", r.other, auction_id, lot, top, r.other, b"")
    assert system.events[-1].args["debt"] == 0
    assert _collateral(system, t, owner) == lot - debt // top


def test_take__max_price_below_current_price__reverts_price_above_maximum(system):
    """Money flow: none at 1 ray-ulp under the price; at exactly the price the taker pays 1,782
    BUSD for 1 ETH."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    started, top = auction_sale(system, t, auction_id)[4:6]
    at(system, started + 90)  # the first step: 1,782
    with reverts("auction: price above maximum"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, 1_782 * RAY - 1, r.other, b"")
    # at exactly the price (one block later, same step) it goes through
    system.tx(t.auction, "take", r.other, auction_id, WAD, 1_782 * RAY, r.other, b"")
    assert system.events[-1].args["price"] == system.events[-1].args["max_price"] == 1_782 * RAY
    assert system.events[-1].args["owe"] == 1_782 * RAD


def test_take__not_running__reverts(system):
    r, t = system.roles, system.eth
    for auction_id in (0, 1, 2**256 - 1):
        with reverts("auction: not running"):
            system.tx(t.auction, "take", r.other, auction_id, WAD, 2**256 - 1, r.other, b"")


def test_take__zero_collateral__moves_nothing(system):
    """A take of nothing pays nothing and leaves the auction as it was (events only)."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    system.tx(
        system.d.engine, "allow", r.other, t.auction
    )  # even paying nothing needs the permission
    before = auction_sale(system, t, auction_id)
    system.tx(t.auction, "take", r.other, auction_id, 0, before[5], r.other, b"")
    assert system.events[-1].args["owe"] == system.events[-1].args["collateral"] == 0
    assert auction_sale(system, t, auction_id) == before


def test_take__taker_has_not_allowed_the_auction__reverts_not_allowed(system):
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD)
    with reverts("engine: not allowed"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, 1_800 * RAY, r.other, b"")


def test_take__taker_without_enough_stable__reverts_insufficient_stable(system):
    """Money flow: the taker holds 1 rad less than 1 ETH costs: nothing moves; 1 wei less ETH
    (1,800 BUSD - 1.8e27 rad) is affordable."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 1_800 * RAD - 1, [t.auction])
    with reverts("engine: insufficient stable"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, 1_800 * RAY, r.other, b"")
    system.tx(t.auction, "take", r.other, auction_id, WAD - 1, 1_800 * RAY, r.other, b"")


def test_take__sells_out_with_debt_left__finishes_with_debt_unraised(system):
    """Money flow: after a crash to 1,300 (start 1,560) and 6 steps (x0.99 ** 6), 10 ETH are worth
    less than the debt to raise: the take sells out, so the taker pays lot x price (~14,687)
    straight to the Backstop (nothing to the escrow), the borrower gets nothing back, the rest of
    the debt to raise is not raised and the liquidator's debt in auction drops by the whole debt.
    The proceeds still exceed the seized debt (13,000 x rate; only part of the penalty went
    unraised): the Backstop, with nothing to pull from the escrow, holds the seized debt's part
    as unsettled proceeds (healed by the stranger) and keeps the rest as surplus; the event is
    done with no loss."""
    r, t, d = system.roles, system.eth, system.d
    auction_id = eth_auction(system, price=1_300 * WAD)
    seized = 13_000 * WAD * _ctype(system, t).rate
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    _, debt, lot, owner, started, top = auction_sale(system, t, auction_id)
    assert top == 1_560 * RAY
    at(system, started + 6 * 90)
    price = ceil_div(top * 99**6, 100**6)  # exact to the ray-ulp here (0.99 ** 6 has 12 decimals)
    owe = lot * price
    assert seized < owe < debt
    in_auction_0, backstop_0 = (
        _read(system, d.liquidator, "debt_in_auction"),
        _stable(system, d.backstop),
    )
    backstop_bad_0 = _bad_debt(system, d.backstop)
    borrower_free_0 = _collateral(system, t, owner)
    system.tx(t.auction, "take", r.other, auction_id, 2 * lot, price, r.other, b"")
    assert _events(system) == [
        (
            d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.other, "amount": lot},
        ),
        (d.engine, "StableTransferred", {"src": r.other, "dst": d.backstop, "amount": owe}),
        (d.liquidator, "DebtInAuctionRemoved", {"collateral_type": t.type_id, "amount": debt}),
        (
            d.backstop,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": auction_id,
                "raised": owe,
                "covered": seized,
                "loss": 0,
            },
        ),
        (
            t.auction,
            "Finished",
            {"auction_id": auction_id, "collateral_returned": 0, "debt_unraised": debt - owe},
        ),
        (
            t.auction,
            "Taken",
            {
                "auction_id": auction_id,
                "max_price": price,
                "price": price,
                "owe": owe,
                "collateral": lot,
                "debt": debt - owe,
                "lot": 0,
                "owner": owner,
            },
        ),
    ]
    assert _read(system, d.liquidator, "debt_in_auction") == in_auction_0 - debt
    assert _type_debt_in_auction(system, t) == 0
    assert _stable(system, d.backstop) == backstop_0 + owe
    assert _bad_debt(system, d.backstop) == backstop_bad_0
    heal(system, seized)
    assert _stable(system, d.backstop) == backstop_0 + owe - seized
    assert _bad_debt(system, d.backstop) == backstop_bad_0 - seized
    assert _stable(system, t.auction) == 0
    assert _loss(system, t, auction_id) == (seized, 0, started, 3)
    assert _collateral(system, t, owner) == borrower_free_0
    assert auction_sale(system, t, auction_id) == NO_AUCTION
    assert _read(system, t.auction, "active_count") == 0


def test_active_auctions__a_finished_auctions_slot__is_reused_under_a_new_id(system):
    """Three auctions [1, 2, 3] hold slots 0, 1, 2; finishing 1 frees slot 0 and the next auction
    takes it in its second generation, id (1 << 10 | 0) + 1 = 1025: [1025, 2, 3]. The old id names
    no auction any more (take reverts; it is not confused with 1025), and 1025 is a loss event of
    its own in the Backstop. Finishing 1025 frees slot 0 again; the next is 2049.
    Money flow: the taker buys each finished auction's debt's worth at 1,800."""
    r, t = system.roles, system.eth
    owners = [r.borrower, r.stranger, r.governance, r.keeper, r.feeder]
    for owner in owners:
        system.open_vault(owner, ETH, 10 * WAD, 13_000 * WAD)
    crash(system, t, 1_500 * WAD)
    assert [liquidate(system, t, owner) for owner in owners[:3]] == [1, 2, 3]
    assert _read(system, t.auction, "active_auctions") == (1, 2, 3)
    assert [auction_sale(system, t, i)[0] for i in (1, 2, 3)] == [0, 1, 2]
    fund_taker(system, r.other, 100_000 * RAD, [t.auction])

    system.tx(t.auction, "take", r.other, 1, 10 * WAD, 1_800 * RAY, r.other, b"")
    assert _read(system, t.auction, "active_auctions") == (2, 3)
    assert _read(system, t.auction, "active_count") == 2
    assert auction_sale(system, t, 1) == NO_AUCTION
    assert _read(system, t.auction, "next_id") == 1025

    assert liquidate(system, t, owners[3]) == 1025
    assert _read(system, t.auction, "next_id") == 4
    assert _read(system, t.auction, "active_auctions") == (1025, 2, 3)
    assert _read(system, t.auction, "active_count") == 3
    assert auction_sale(system, t, 1025)[0] == 0
    assert auction_sale(system, t, 1025)[3] == r.keeper
    assert auction_sale(system, t, 1) == NO_AUCTION
    with reverts("auction: not running"):
        system.tx(t.auction, "take", r.other, 1, 10 * WAD, 1_800 * RAY, r.other, b"")
    assert _loss(system, t, 1)[3] == 3  # done
    assert _loss(system, t, 1025)[3] == 1  # running

    system.tx(t.auction, "take", r.other, 1025, 10 * WAD, 1_800 * RAY, r.other, b"")
    assert _read(system, t.auction, "active_auctions") == (2, 3)
    assert liquidate(system, t, owners[4]) == 2049
    assert _read(system, t.auction, "active_auctions") == (2049, 2, 3)
    for stale in (1, 1025, 1 << 42, 0):
        assert auction_sale(system, t, stale) == NO_AUCTION


# ================================================================ reset


def test_reset__after_falling_below_max_drop__restarts_at_fresh_price_and_pays_keeper(system):
    """Money flow: at step 80 (7,200 s) the price is 0.99 ** 80 < 0.45 of the start: takes stop
    until a keeper resets, at the oracle's new price (1,400) x 1.2, and is paid 300 + 0.1% of the
    debt still to raise (after a partial take), in new stablecoin the Backstop owes."""
    r, t, d = system.roles, system.eth, system.d
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    started, top = auction_sale(system, t, auction_id)[4:6]
    with reverts("auction: cannot reset"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    system.tx(
        t.auction, "take", r.other, auction_id, 2 * WAD, top, r.other, b""
    )  # a partial take first
    _feed(system, t, 1_400 * WAD)

    at(system, started + 7_199)  # step 79: 0.99 ** 79 ~ 0.452, still sellable
    system.tx(t.auction, "take", r.other, auction_id, WAD // 10, top, r.other, b"")
    at(system, started + 7_200)  # step 80: 0.99 ** 80 ~ 0.448 < 0.45
    with reverts("auction: needs reset"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    assert _status(system, t, auction_id)[0]

    _, debt, lot, owner, _, _ = auction_sale(system, t, auction_id)
    keeper_0, backstop_bad_0 = _stable(system, r.keeper), _bad_debt(system, d.backstop)
    reward = _reward(t, debt, _read(system, t.auction, "min_auction"), lot, 1_680 * RAY)
    assert reward == 300 * RAD + debt // 1000
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    reset_at = system.now
    assert _events(system) == [
        (
            d.engine,
            "UnbackedCreated",
            {"debt_dst": d.backstop, "stable_dst": r.keeper, "amount": reward},
        ),
        (
            t.auction,
            "Reset",
            {
                "auction_id": auction_id,
                "top": 1_680 * RAY,
                "debt": debt,
                "lot": lot,
                "owner": owner,
                "keeper": r.keeper,
                "reward": reward,
            },
        ),
    ]
    assert auction_sale(system, t, auction_id) == (0, debt, lot, owner, reset_at, 1_680 * RAY)
    assert _status(system, t, auction_id) == (False, 1_680 * RAY, lot, debt)
    assert _stable(system, r.keeper) == keeper_0 + reward
    assert _bad_debt(system, d.backstop) == backstop_bad_0 + reward
    # takes work again, from the new start price
    system.tx(t.auction, "take", r.other, auction_id, WAD, 1_680 * RAY, r.other, b"")
    assert system.events[-1].args["owe"] == 1_680 * RAD
    with reverts("auction: cannot reset"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)


def test_reset__after_max_duration__is_needed_even_above_max_drop(system):
    """With max_drop 0, only age counts: at exactly 8,400 s the auction still sells, one second
    later it needs a reset (the keeper's reward: 300 + 0.1% of the debt)."""
    r, t = system.roles, system.eth
    _set_parameters(system, t, max_drop=0)
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    _, debt, lot, owner, started, top = auction_sale(system, t, auction_id)
    _feed(system, t, 1_500 * WAD)
    at(system, started + 8_400)
    with reverts("auction: cannot reset"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    at(system, started + 8_401)
    with reverts("auction: needs reset"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    needs_reset, price = _status(system, t, auction_id)[:2]
    assert needs_reset and price * RAY // top >= RAY * 39 // 100  # 0.99 ** 93 ~ 0.393: age alone
    _assert_price_rounded_up(price, _read(system, t.auction, "curve"), top, 8_401)
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    assert system.events[-1].args == {
        "auction_id": auction_id,
        "top": top,
        "debt": debt,
        "lot": lot,
        "owner": owner,
        "keeper": r.keeper,
        "reward": 300 * RAD + debt // 1000,
    }
    assert auction_sale(system, t, auction_id)[4] == system.now


def test_reset__fresh_auction__reverts_cannot_reset(system):
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    with reverts("auction: cannot reset"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)


def test_reset__not_running__reverts(system):
    r, t = system.roles, system.eth
    for auction_id in (0, 1, 7):
        with reverts("auction: not running"):
            system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)


def test_reset__dust_size_auction__pays_no_reward(system):
    """min_auction one rad above the debt (see the start reward test): resetting pays nothing."""
    r, t = system.roles, system.eth
    _small_dust(system, t)
    system.open_vault(r.borrower, ETH, 1 * WAD, 1_000 * WAD)
    vault_debt = 1_000 * WAD * _ctype(system, t).rate
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, vault_debt + 1)
    crash(system, t, 1_400 * WAD)
    auction_id = liquidate(system, t, r.borrower)
    started = auction_sale(system, t, auction_id)[4]
    _feed(system, t, 1_400 * WAD)
    at(system, started + 7_200)
    keeper_0 = _stable(system, r.keeper)
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    assert [e.name for e in system.events] == ["Reset"]
    assert system.events[0].args["reward"] == 0
    assert _stable(system, r.keeper) == keeper_0


# ---------------------------------------------------------------- a stale oracle


def test_stale_oracle__takes_go_on_at_the_curve_price_but_reset_waits_for_a_valid_price(system):
    """Money flow: with the oracle stale, the taker still buys 1 ETH at the curve's price
    (1,800 x 0.99 ** 40); once the auction needs a reset, nothing sells until the oracle is fresh
    again and the reset restarts it at the new price."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    started, top = auction_sale(system, t, auction_id)[4:6]
    posted = system.contract(t.oracle).current_time
    assert posted + t.config.oracle_max_age < started + 3_600

    _mine_at(system, started + 3_600)
    price = _status(system, t, auction_id)[1]  # step 40, as for the take one second later
    system.tx(t.auction, "take", r.other, auction_id, WAD, price, r.other, b"")
    assert system.now == started + 3_601
    assert _read(system, t.oracle, "peek") == (1_500 * WAD, False)
    assert system.events[-1].args["price"] == price
    _assert_price_rounded_up(price, (STAIRSTEP, 0, 90, 99 * RAY // 100), top, 3_600)

    at(system, started + 7_200)
    with reverts("auction: invalid price"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    with reverts("auction: needs reset"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")

    _feed(system, t, 1_200 * WAD)
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    assert system.events[-1].args["top"] == 1_440 * RAY
    system.tx(t.auction, "take", r.other, auction_id, WAD, 1_440 * RAY, r.other, b"")


# ================================================================ the circuit breaker


def _two_unsafe_vaults_and_one_auction(system) -> int:
    """The borrower's and the stranger's vaults are unsafe; the borrower's is in auction 1."""
    r, t = system.roles, system.eth
    for owner in (r.borrower, r.stranger):
        system.open_vault(owner, ETH, 10 * WAD, 13_000 * WAD)
    crash(system, t, 1_500 * WAD)
    auction_id = liquidate(system, t, r.borrower)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    return auction_id


def test_stopped_level_1__blocks_new_auctions_only(system):
    """Money flow: no new auction (no seizure, no reward); the taker still buys 1 ETH before and
    after the reset, which still pays the keeper."""
    r, t = system.roles, system.eth
    auction_id = _two_unsafe_vaults_and_one_auction(system)
    started, top = auction_sale(system, t, auction_id)[4:6]
    system.tx(t.auction, "set_stopped", r.governance, 1)
    with reverts("auction: stopped"):
        liquidate(system, t, r.stranger)
    system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    _feed(system, t, 1_500 * WAD)
    at(system, started + 7_200)
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    assert system.events[-1].name == "Reset"
    system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    system.tx(t.auction, "set_stopped", r.governance, 0)
    assert liquidate(system, t, r.stranger) == 2


def test_stopped_level_2__blocks_new_auctions_and_resets_but_not_takes(system):
    """Money flow: the taker still buys 1 ETH at 1,800; no reset (no keeper reward) until the
    breaker is lowered."""
    r, t = system.roles, system.eth
    auction_id = _two_unsafe_vaults_and_one_auction(system)
    started, top = auction_sale(system, t, auction_id)[4:6]
    system.tx(t.auction, "set_stopped", r.governance, 2)
    with reverts("auction: stopped"):
        liquidate(system, t, r.stranger)
    system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    assert system.events[-1].name == "Taken"
    _feed(system, t, 1_500 * WAD)
    at(system, started + 7_200)
    with reverts("auction: stopped"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    # an auction that needs a reset is frozen while resets are stopped
    with reverts("auction: needs reset"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    system.tx(t.auction, "set_stopped", r.governance, 1)
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)


def test_stopped_level_3__blocks_new_auctions_resets_and_takes(system):
    """Money flow: nothing moves while stopped; once lowered, the taker buys 1 ETH at 1,800."""
    r, t = system.roles, system.eth
    auction_id = _two_unsafe_vaults_and_one_auction(system)
    top = auction_sale(system, t, auction_id)[5]
    before = auction_sale(system, t, auction_id)
    system.tx(t.auction, "set_stopped", r.governance, 3)
    with reverts("auction: stopped"):
        liquidate(system, t, r.stranger)
    with reverts("auction: stopped"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    with reverts("auction: stopped"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    assert auction_sale(system, t, auction_id) == before
    system.tx(t.auction, "set_stopped", r.governance, 0)
    system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    assert auction_sale(system, t, auction_id)[2] == 9 * WAD


# ================================================================ the flash-take callback


def _reentrant_taker(system) -> str:
    """A malicious callee (contracts/testing/ReentrantTaker.vy), deployed by the stranger."""
    address = system.lockstep.deploy(
        "ReentrantTaker", system.roles.stranger, system.eth.auction, system.d.liquidator
    )
    system.extra_holders.append(address)
    return address


def _callback_data(mode, auction_id, type_id=b"\0" * 32, owner=ZERO_ADDRESS) -> bytes:
    return abi_encode(
        ["uint256", "uint256", "bytes32", "address"], [mode, auction_id, type_id, owner]
    )


def test_take_with_data__calls_recipient_back_between_delivery_and_payment(system):
    """Money flow: the callee receives 2 ETH, is called back (and logs), then the taker pays
    3,600 BUSD: a flash take."""
    r, t, d = system.roles, system.eth, system.d
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    callee = _reentrant_taker(system)
    system.tx(
        t.auction,
        "take",
        r.other,
        auction_id,
        2 * WAD,
        1_800 * RAY,
        callee,
        _callback_data(NOTHING, auction_id),
    )
    assert [(e.address, e.name) for e in system.events] == [
        (d.engine, "CollateralTransferred"),
        (callee, "CallbackEntered"),
        (d.engine, "StableTransferred"),
        (d.liquidator, "DebtInAuctionRemoved"),
        (t.auction, "Taken"),
    ]
    assert system.events[1].args == {
        "sender": r.other,
        "owe": 3_600 * RAD,
        "collateral": 2 * WAD,
        "mode": NOTHING,
    }
    assert _collateral(system, t, callee) == 2 * WAD


@pytest.mark.parametrize("mode", [TAKE, RESET, LIQUIDATE])
def test_take_with_data__callee_reentering_auction_or_liquidator__reverts_without_reason(
    system, mode
):
    """The callee tries to take again, to reset, or to liquidate another vault (which would start
    an auction) from inside the callback: the auction's lock reverts it without a reason, on chain
    and in the model, and the whole take is undone. Outside the callback each call gets further,
    which shows that the lock, nothing else, stopped it."""
    r, t = system.roles, system.eth
    auction_id = _two_unsafe_vaults_and_one_auction(system)
    callee = _reentrant_taker(system)
    before = auction_sale(system, t, auction_id)
    with reverts(None):
        system.tx(
            t.auction,
            "take",
            r.other,
            auction_id,
            2 * WAD,
            1_800 * RAY,
            callee,
            _callback_data(mode, auction_id, t.type_id, r.stranger),
        )
    assert auction_sale(system, t, auction_id) == before
    assert _collateral(system, t, callee) == 0
    assert _read(system, t.auction, "next_id") == 2
    # the same call by the callee outside any callback
    data = _callback_data(mode, auction_id, t.type_id, r.stranger)
    if mode == TAKE:  # it has not allowed the auction to collect: a reason, from the engine
        with reverts("engine: not allowed"):
            system.tx(callee, "act", r.stranger, 2 * WAD, data)
    elif mode == RESET:
        with reverts("auction: cannot reset"):
            system.tx(callee, "act", r.stranger, 0, data)
    else:
        system.tx(callee, "act", r.stranger, 0, data)
        assert _read(system, t.auction, "next_id") == 3
        assert auction_sale(system, t, 2)[3] == r.stranger


@pytest.mark.parametrize("recipient", ["eoa", "contract_without_callback"])
def test_take_with_data__recipient_not_a_callee__reverts_without_reason(system, recipient):
    """A flash take to an account without code (the call's code check) or to a contract without
    on_auction_take (no such function) reverts with no reason; without data the same take
    delivers 1 ETH there for 1,800 BUSD."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    to = {"eoa": r.stranger, "contract_without_callback": system.d.backstop}[recipient]
    with reverts(None):
        system.tx(t.auction, "take", r.other, auction_id, WAD, 1_800 * RAY, to, b"\x01")
    system.tx(t.auction, "take", r.other, auction_id, WAD, 1_800 * RAY, to, b"")
    assert _collateral(system, t, to) == WAD


@pytest.mark.parametrize("recipient", ["engine", "liquidator"])
def test_take_with_data__to_engine_or_liquidator__skips_the_callback(system, recipient):
    """The auction never calls back its own engine or liquidator (whatever the data says): the
    collateral is delivered as in a plain take."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    to = getattr(system.d, recipient)
    system.tx(
        t.auction,
        "take",
        r.other,
        auction_id,
        WAD,
        1_800 * RAY,
        to,
        _callback_data(TAKE, auction_id),
    )
    assert [e.name for e in system.events] == [
        "CollateralTransferred",
        "StableTransferred",
        "DebtInAuctionRemoved",
        "Taken",
    ]
    assert _collateral(system, t, to) == WAD


def test_take_with_data__longer_than_1024_bytes__reverts_without_reason(system):
    """The ABI decoder rejects data over Bytes[1024]; exactly 1,024 bytes reach the callee."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    callee = _reentrant_taker(system)
    data = _callback_data(NOTHING, auction_id)
    with reverts(None):
        system.tx(
            t.auction,
            "take",
            r.other,
            auction_id,
            WAD,
            1_800 * RAY,
            callee,
            data + b"\0" * (1025 - len(data)),
        )
    system.tx(
        t.auction,
        "take",
        r.other,
        auction_id,
        WAD,
        1_800 * RAY,
        callee,
        data + b"\0" * (1024 - len(data)),
    )
    assert system.events[1].name == "CallbackEntered"
