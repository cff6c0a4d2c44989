"""PriceOracle's setters (delay, max_age, feeder, max_change), void and authorities. Helpers:
tests/contracts/support/prices.py.
"""

from __future__ import annotations

import pytest
from support.prices import DELAY, MAX_AGE, logs, safe_price, warp_to

from offchain.model.fixed_point import WAD
from offchain.testing.harness import reverts


def test_oracle_set_delay__shorter_delay_allows_an_earlier_poke(system):
    r, o = system.roles, system.eth.oracle
    system.tx(o, "set_delay", r.governance, 60)
    assert logs(system) == [(o, "DelaySet", {"delay": 60})]
    assert system.view(o, "delay") == 60
    warp_to(system, system.view(o, "last_poke") + 60)
    system.tx(o, "poke", r.keeper)


def test_oracle_set_delay__just_below_max_age__is_accepted(system):
    system.tx(system.eth.oracle, "set_delay", system.roles.governance, MAX_AGE - 1)
    assert system.view(system.eth.oracle, "delay") == MAX_AGE - 1


@pytest.mark.parametrize(
    "new_value, reason",
    [
        (0, "oracle: zero delay"),
        (MAX_AGE, "oracle: max age not above delay"),
        (MAX_AGE + 1, "oracle: max age not above delay"),
    ],
    ids=["zero", "equal_max_age", "above_max_age"],
)
def test_oracle_set_delay__invalid__reverts(system, new_value, reason):
    with reverts(reason):
        system.tx(system.eth.oracle, "set_delay", system.roles.governance, new_value)
    assert system.view(system.eth.oracle, "delay") == DELAY


def test_oracle_set_max_age__shorter_max_age_makes_the_price_stale_at_once(system):
    r, t = system.roles, system.eth
    age = (
        system.now + 1 - system.view(t.oracle, "current_time")
    )  # the price's age at the next block
    assert age > DELAY + 1
    system.tx(t.oracle, "set_max_age", r.governance, DELAY + 1)
    assert logs(system) == [(t.oracle, "MaxAgeSet", {"max_age": DELAY + 1})]
    assert system.view(t.oracle, "max_age") == DELAY + 1
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    assert safe_price(system, t) == 0


@pytest.mark.parametrize(
    "new_value", [DELAY, DELAY - 1, 0], ids=["equal_delay", "below_delay", "zero"]
)
def test_oracle_set_max_age__not_above_delay__reverts(system, new_value):
    with reverts("oracle: max age not above delay"):
        system.tx(system.eth.oracle, "set_max_age", system.roles.governance, new_value)
    assert system.view(system.eth.oracle, "max_age") == MAX_AGE


def test_oracle_set_feeder__allows_and_forbids_posting(system):
    r, o = system.roles, system.eth.oracle
    system.tx(o, "set_feeder", r.governance, r.other, True)
    assert logs(system) == [(o, "FeederSet", {"feeder": r.other, "allowed": True})]
    system.tx(o, "post", r.other, 1_900 * WAD)
    assert system.view(o, "source_price") == 1_900 * WAD

    system.tx(o, "set_feeder", r.governance, r.feeder, False)
    assert logs(system) == [(o, "FeederSet", {"feeder": r.feeder, "allowed": False})]
    assert system.view(o, "feeders", r.feeder) is False
    with reverts("oracle: not a feeder"):
        system.tx(o, "post", r.feeder, 2_100 * WAD)


@pytest.mark.parametrize(
    "function, args",
    [
        ("add_authority", ("stranger",)),
        ("remove_authority", ("governance",)),
        ("set_feeder", ("stranger", True)),
        ("set_delay", (60,)),
        ("set_max_age", (MAX_AGE * 2,)),
    ],
)
def test_oracle_privileged__by_stranger__reverts_not_authorized(system, function, args):
    args = tuple(getattr(system.roles, a) if isinstance(a, str) else a for a in args)
    with reverts("authorized: not authorized"):
        system.tx(system.eth.oracle, function, system.roles.stranger, *args)


def test_oracle_add_and_remove_authority__grants_and_revokes_setters(system):
    r, o = system.roles, system.eth.oracle
    system.tx(o, "add_authority", r.governance, r.keeper)
    assert logs(system) == [(o, "AuthorityAdded", {"account": r.keeper})]
    system.tx(o, "set_max_age", r.keeper, MAX_AGE * 2)
    assert system.view(o, "max_age") == MAX_AGE * 2

    system.tx(o, "remove_authority", r.governance, r.keeper)
    assert logs(system) == [(o, "AuthorityRemoved", {"account": r.keeper})]
    assert system.view(o, "authorized", r.keeper) is False
    with reverts("authorized: not authorized"):
        system.tx(o, "set_max_age", r.keeper, MAX_AGE)


def test_oracle_set_max_change__zero_removes_the_bound_above_ten_reverts(system):
    r, oracle = system.roles, system.eth.oracle
    with reverts("oracle: max change above 10"):
        system.tx(oracle, "set_max_change", r.governance, 10 * WAD + 1)
    system.tx(oracle, "set_max_change", r.governance, 0)
    system.tx(oracle, "post", r.feeder, 1)
    system.tx(oracle, "post", r.feeder, 10**40)
    with reverts("authorized: not authorized"):
        system.tx(oracle, "set_max_change", r.feeder, WAD)


def test_oracle_void__nothing_queued_yet__keeps_the_empty_state(system):
    """Void on an oracle that never poked: next = current = 0, the post is dropped."""
    r = system.roles
    oracle = system.lockstep.deploy("PriceOracle", r.governance, 3600, 7200)
    system.tx(oracle, "set_feeder", r.governance, r.feeder, True)
    system.tx(oracle, "post", r.feeder, 5 * WAD)
    system.tx(oracle, "void", r.governance)
    assert system.events[-1].args == {"voided_price": 0}
    assert system.contract(oracle).source_price == 0
    with reverts("oracle: no price posted"):
        system.tx(oracle, "poke", r.keeper)
