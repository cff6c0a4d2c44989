"""PriceOracle's deployment and constructor: the devnet's initial price is current and queued; a
fresh oracle records its parameters and starts empty. Helpers: tests/contracts/support/prices.py.
"""

from __future__ import annotations

import pytest
from support.prices import DELAY, ETH_PRICE, MAX_AGE, deploy_oracle, logs

from offchain.testing.harness import reverts


def test_oracle__after_deployment__initial_price_is_current_and_queued(system):
    r, o = system.roles, system.eth.oracle
    assert system.view(o, "delay") == DELAY
    assert system.view(o, "max_age") == MAX_AGE
    assert system.view(o, "source_price") == ETH_PRICE
    assert system.view(o, "next_price") == ETH_PRICE
    assert system.view(o, "current_price") == ETH_PRICE
    assert (
        system.view(o, "current_time")
        == system.view(o, "source_time")
        == system.view(o, "next_time")
    )
    assert system.view(o, "last_poke") - system.view(o, "current_time") >= DELAY
    assert system.view(o, "authorized", r.governance) is True
    assert system.view(o, "authorized", r.stranger) is False
    assert system.view(o, "feeders", r.feeder) is True
    assert system.view(o, "feeders", r.governance) is False
    assert system.view(o, "peek") == (ETH_PRICE, True)
    assert system.view(o, "peek_next") == (ETH_PRICE, True)
    assert system.contract(o).peek() == (ETH_PRICE, True)


def test_oracle_constructor__records_parameters_and_starts_empty(system):
    r = system.roles
    oracle = deploy_oracle(system, 60, 600)
    assert logs(system) == [
        (oracle, "AuthorityAdded", {"account": r.governance}),
        (oracle, "DelaySet", {"delay": 60}),
        (oracle, "MaxAgeSet", {"max_age": 600}),
    ]
    assert system.view(oracle, "delay") == 60
    assert system.view(oracle, "max_age") == 600
    assert system.view(oracle, "authorized", r.governance) is True
    for getter in (
        "last_poke",
        "source_price",
        "source_time",
        "next_price",
        "next_time",
        "current_price",
        "current_time",
    ):
        assert system.view(oracle, getter) == 0
    assert system.view(oracle, "peek") == (0, False)
    assert system.view(oracle, "peek_next") == (0, False)


@pytest.mark.parametrize(
    "delay, max_age, reason",
    [
        (0, MAX_AGE, "oracle: zero delay"),
        (DELAY, DELAY, "oracle: max age not above delay"),
        (DELAY, DELAY - 1, "oracle: max age not above delay"),
    ],
    ids=["zero_delay", "max_age_equal_delay", "max_age_below_delay"],
)
def test_oracle_constructor__invalid_parameters__reverts(system, delay, max_age, reason):
    with reverts(reason):
        deploy_oracle(system, delay, max_age)
