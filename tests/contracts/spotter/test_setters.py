"""Spotter.set_liquidation_ratio, set_oracle and its authorities. Helpers:
tests/contracts/support/prices.py.
"""

from __future__ import annotations

import pytest
from support.prices import ETH_SAFE_PRICE, logs, safe_price

from offchain.model.fixed_point import RAY
from offchain.testing.harness import reverts


@pytest.mark.parametrize(
    "ratio, expected",
    [
        (RAY, 2_000 * RAY),  # the lower bound: safe price = price
        (17 * 10**26, 1_176_470_588_235_294_117_647_058_823_529),  # 1.7: rounded down
        (3 * RAY, 666_666_666_666_666_666_666_666_666_666),  # 3: rounded down
        (100 * RAY, 20 * RAY),  # the upper bound
    ],
    ids=["one", "1.7", "three", "hundred"],
)
def test_spotter_set_liquidation_ratio__next_poke_divides_by_it(system, ratio, expected):
    r, sp, t = system.roles, system.d.spotter, system.eth
    system.tx(sp, "set_liquidation_ratio", r.governance, t.type_id, ratio)
    assert logs(system) == [
        (sp, "LiquidationRatioSet", {"collateral_type": t.type_id, "new_value": ratio})
    ]
    assert system.view(sp, "liquidation_ratios", t.type_id) == ratio
    assert safe_price(system, t) == ETH_SAFE_PRICE  # nothing changes before the next poke

    system.tx(sp, "poke", r.keeper, t.type_id)
    assert safe_price(system, t) == expected


@pytest.mark.parametrize(
    "ratio, reason",
    [
        (RAY - 1, "spotter: ratio below 1"),
        (0, "spotter: ratio below 1"),
        (100 * RAY + 1, "spotter: ratio above 100"),
    ],
    ids=["just_below_one", "zero", "just_above_hundred"],
)
def test_spotter_set_liquidation_ratio__out_of_bounds__reverts(system, ratio, reason):
    with reverts(reason):
        system.tx(
            system.d.spotter,
            "set_liquidation_ratio",
            system.roles.governance,
            system.eth.type_id,
            ratio,
        )
    assert system.view(system.d.spotter, "liquidation_ratios", system.eth.type_id) == 15 * 10**26


def test_spotter_set_oracle__switches_the_price_source(system):
    """ETH-A priced by the WBTC oracle: 30,000 / 1.5 = 20,000 ray per ETH after the next poke."""
    r, sp, t = system.roles, system.d.spotter, system.eth
    system.tx(sp, "set_oracle", r.governance, t.type_id, system.btc.oracle)
    assert logs(system) == [
        (sp, "OracleSet", {"collateral_type": t.type_id, "oracle": system.btc.oracle})
    ]
    assert system.view(sp, "oracles", t.type_id) == system.btc.oracle
    system.tx(sp, "poke", r.keeper, t.type_id)
    assert safe_price(system, t) == 20_000 * RAY


def test_spotter_set_oracle__zero_address__reverts_zero_oracle(system):
    with reverts("spotter: zero oracle"):
        system.tx(
            system.d.spotter,
            "set_oracle",
            system.roles.governance,
            system.eth.type_id,
            "0x0000000000000000000000000000000000000000",
        )
    assert system.view(system.d.spotter, "oracles", system.eth.type_id) == system.eth.oracle


@pytest.mark.parametrize(
    "function, args",
    [
        ("add_authority", ("stranger",)),
        ("remove_authority", ("governance",)),
        ("set_oracle", ("eth_type", "stranger")),
        ("set_liquidation_ratio", ("eth_type", 2 * RAY)),
    ],
)
def test_spotter_privileged__by_stranger__reverts_not_authorized(system, function, args):
    named = {
        "stranger": system.roles.stranger,
        "governance": system.roles.governance,
        "eth_type": system.eth.type_id,
    }
    args = tuple(named.get(a, a) if isinstance(a, str) else a for a in args)
    with reverts("authorized: not authorized"):
        system.tx(system.d.spotter, function, system.roles.stranger, *args)


def test_spotter_add_and_remove_authority__grants_and_revokes_setters(system):
    r, sp, t = system.roles, system.d.spotter, system.eth
    system.tx(sp, "add_authority", r.governance, r.keeper)
    assert logs(system) == [(sp, "AuthorityAdded", {"account": r.keeper})]
    system.tx(sp, "set_liquidation_ratio", r.keeper, t.type_id, 2 * RAY)
    assert system.view(sp, "liquidation_ratios", t.type_id) == 2 * RAY

    system.tx(sp, "remove_authority", r.governance, r.keeper)
    assert logs(system) == [(sp, "AuthorityRemoved", {"account": r.keeper})]
    assert system.view(sp, "authorized", r.keeper) is False
    with reverts("authorized: not authorized"):
        system.tx(sp, "set_liquidation_ratio", r.keeper, t.type_id, 3 * RAY)
