"""DutchAuction's constructor, set_parameters, set_curve, set_oracle and min_auction: stored,
logged, bounds checked, applied to running auctions. Helpers:
tests/contracts/support/dutch_auction.py.
"""

from __future__ import annotations

import pytest
from helpers import auction_sale, eth_auction, liquidate
from support.dutch_auction import ETH, EXPONENTIAL, LINEAR, MAX_BUFFER, MAX_REWARD_RATE, STAIRSTEP
from support.dutch_auction import mine_at as _mine_at
from support.dutch_auction import status as _status

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices as _move_prices
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


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
