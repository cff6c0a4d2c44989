"""PriceOracle.post and poke: a posted price is queued by a poke and current after the next poke, at
least `delay` seconds later; only feeders post, within the change bound. Helpers:
tests/contracts/support/prices.py.
"""

from __future__ import annotations

import pytest
from support.prices import (
    DELAY,
    ETH_PRICE,
    ETH_SAFE_PRICE,
    deploy_oracle,
    logs,
    safe_price,
    warp_to,
)

from offchain.model.fixed_point import WAD
from offchain.testing.harness import reverts


def test_oracle_post__by_feeder__records_source_without_changing_peek(system):
    r, o = system.roles, system.eth.oracle
    system.tx(o, "post", r.feeder, 2_500 * WAD)
    assert logs(system) == [(o, "PricePosted", {"feeder": r.feeder, "price": 2_500 * WAD})]
    assert system.view(o, "source_price") == 2_500 * WAD
    assert system.view(o, "source_time") == system.now
    assert system.view(o, "next_price") == ETH_PRICE
    assert system.view(o, "current_price") == ETH_PRICE


@pytest.mark.parametrize("role", ["governance", "keeper", "stranger"])
def test_oracle_post__by_non_feeder__reverts_not_a_feeder(system, role):
    with reverts("oracle: not a feeder"):
        system.tx(system.eth.oracle, "post", getattr(system.roles, role), 1_500 * WAD)
    assert system.view(system.eth.oracle, "source_price") == ETH_PRICE


def test_oracle_post__zero_price__reverts_zero_price(system):
    with reverts("oracle: zero price"):
        system.tx(system.eth.oracle, "post", system.roles.feeder, 0)


def test_oracle_poke__before_delay__reverts_too_early(system):
    r, o = system.roles, system.eth.oracle
    last_poke = system.view(o, "last_poke")
    with reverts("oracle: too early"):
        system.tx(o, "poke", r.keeper)  # a few seconds after the deployment's last poke
    warp_to(system, last_poke + DELAY - 1)
    with reverts("oracle: too early"):
        system.tx(o, "poke", r.keeper)
    # one second later (the next block) the delay has passed
    system.tx(o, "poke", r.keeper)
    assert system.now == last_poke + DELAY
    assert system.view(o, "last_poke") == last_poke + DELAY


def test_oracle_poke__nothing_ever_posted__reverts_no_price_posted(system):
    oracle = deploy_oracle(system)
    with reverts("oracle: no price posted"):
        system.tx(oracle, "poke", system.roles.keeper)


def test_posted_price__takes_effect_only_after_two_pokes_separated_by_delay(system):
    """A price posted now is queued by the first poke and made current by the second, at least
    `delay` seconds later; the safe price follows only then (2,000 -> 2,500 BUSD per ETH)."""
    r, o, t = system.roles, system.eth.oracle, system.eth
    system.tx(o, "post", r.feeder, 2_500 * WAD)
    posted_at = system.now

    # first poke (anyone may call) once the deployment's last poke is `delay` old: queued only
    first_poke = system.view(o, "last_poke") + DELAY
    warp_to(system, first_poke)
    system.tx(o, "poke", r.stranger)
    assert logs(system) == [(o, "Poked", {"current_price": ETH_PRICE, "next_price": 2_500 * WAD})]
    assert system.view(o, "current_price") == ETH_PRICE
    assert (system.view(o, "next_price"), system.view(o, "next_time")) == (2_500 * WAD, posted_at)
    assert system.view(o, "last_poke") == first_poke
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    assert safe_price(system, t) == ETH_SAFE_PRICE

    # a second poke before `delay` has passed again is refused
    warp_to(system, first_poke + DELAY - 1)
    with reverts("oracle: too early"):
        system.tx(o, "poke", r.stranger)

    # at first_poke + delay the posted price becomes current
    system.tx(o, "poke", r.stranger)
    assert system.now == first_poke + DELAY
    assert logs(system) == [(o, "Poked", {"current_price": 2_500 * WAD, "next_price": 2_500 * WAD})]
    assert (system.view(o, "current_price"), system.view(o, "current_time")) == (
        2_500 * WAD,
        posted_at,
    )
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    # 2500e18 * 1e9 * 1e27 // 1.5e27, rounded down
    assert safe_price(system, t) == 1_666_666_666_666_666_666_666_666_666_666


@pytest.mark.parametrize("bound", [WAD // 10, WAD, 10 * WAD])
def test_oracle_post__bound__exact_limits_pass_one_wei_beyond_reverts(system, bound):
    """A post may move at most max_change from the queued price: reference x (1 - m) and
    reference x (1 + m) pass, one wei beyond reverts (below: no lower limit once m >= 1)."""
    r, oracle = system.roles, system.eth.oracle
    system.tx(oracle, "set_max_change", r.governance, bound)
    assert system.events[-1].args == {"max_change": bound}
    reference = system.contract(oracle).next_price
    high = reference * (WAD + bound) // WAD
    system.tx(oracle, "post", r.feeder, high)
    with reverts("oracle: price move too large"):
        system.tx(oracle, "post", r.feeder, high + 1)
    if bound < WAD:
        low = -(-reference * (WAD - bound) // WAD)
        system.tx(oracle, "post", r.feeder, low)
        with reverts("oracle: price move too large"):
            system.tx(oracle, "post", r.feeder, low - 1)
    else:
        system.tx(oracle, "post", r.feeder, 1)
