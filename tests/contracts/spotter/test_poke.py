"""Spotter's getters and poke: safe_price = price * 1e9 * 1e27 // liquidation_ratio written into the
engine, 0 for an invalid price; the missing oracle, ratio, type, role or a shut-down engine
refuse it. Helpers: tests/contracts/support/prices.py.
"""

from __future__ import annotations

import pytest
from eth_abi import decode as abi_decode
from support.prices import ETH_SAFE_PRICE, logs, make_stale, safe_price

from offchain.model.fixed_point import RAY
from offchain.model.state import Role
from offchain.testing.harness import reverts

# 30000e18 * 1e9 * 1e27 // 1.45e27: exact, rounded down (remainder 1.4e27)
BTC_SAFE_PRICE = 20_689_655_172_413_793_103_448_275_862_068
NEW_TYPE = b"LINK-A".ljust(32, b"\0")


def call(system, address: str, function: str, sender: str, *args):
    """What a transaction would return, by eth_call on the chain (nothing is mined)."""
    tx, fn = system.chain.call_data(address, function, *args)
    raw = system.chain.rpc("eth_call", [{**tx, "from": sender}, "latest"])
    values = abi_decode(fn.outputs, bytes.fromhex(raw[2:]))
    return values[0] if len(values) == 1 else values


def test_spotter__getters__engine_oracles_and_ratios(system):
    r, sp = system.roles, system.d.spotter
    assert system.view(sp, "engine") == system.d.engine
    assert system.view(sp, "authorized", r.governance) is True
    assert system.view(sp, "authorized", r.stranger) is False
    assert system.view(sp, "oracles", system.eth.type_id) == system.eth.oracle
    assert system.view(sp, "oracles", system.btc.type_id) == system.btc.oracle
    assert system.view(sp, "liquidation_ratios", system.eth.type_id) == 15 * 10**26
    assert system.view(sp, "liquidation_ratios", system.btc.type_id) == 145 * 10**25
    assert system.view(sp, "oracles", NEW_TYPE) == "0x0000000000000000000000000000000000000000"
    assert system.view(sp, "liquidation_ratios", NEW_TYPE) == 0


@pytest.mark.parametrize(
    "type_name, expected",
    [("ETH-A", ETH_SAFE_PRICE), ("WBTC-A", BTC_SAFE_PRICE)],
)
def test_spotter_poke__safe_price_is_price_over_ratio_rounded_down(system, type_name, expected):
    r, sp = system.roles, system.d.spotter
    t = system.d.types[type_name]
    price = system.view(t.oracle, "current_price")
    ratio = system.view(sp, "liquidation_ratios", t.type_id)
    assert price * 10**9 * RAY % ratio != 0  # the division is inexact: rounding is exercised
    assert call(system, sp, "poke", r.stranger, t.type_id) == expected

    system.tx(sp, "poke", r.stranger, t.type_id)

    assert safe_price(system, t) == expected
    assert logs(system) == [
        (system.d.engine, "SafePriceSet", {"collateral_type": t.type_id, "new_value": expected}),
        (
            sp,
            "Poked",
            {"collateral_type": t.type_id, "price": price, "valid": True, "safe_price": expected},
        ),
    ]


def test_spotter_poke__invalid_price__returns_zero(system):
    r, t = system.roles, system.eth
    make_stale(system, t)
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    # eth_call runs on the latest block's state, one second later still stale
    assert call(system, system.d.spotter, "poke", r.keeper, t.type_id) == 0


def test_spotter_poke__unknown_type__reverts_no_oracle(system):
    with reverts("spotter: no oracle"):
        system.tx(system.d.spotter, "poke", system.roles.keeper, NEW_TYPE)


def test_spotter_poke__oracle_but_no_ratio__reverts_no_liquidation_ratio(system):
    r, sp = system.roles, system.d.spotter
    system.tx(sp, "set_oracle", r.governance, NEW_TYPE, system.eth.oracle)
    with reverts("spotter: no liquidation ratio"):
        system.tx(sp, "poke", r.keeper, NEW_TYPE)


def test_spotter_poke__type_unknown_to_engine__reverts_type_not_initialized(system):
    r, sp = system.roles, system.d.spotter
    system.tx(sp, "set_oracle", r.governance, NEW_TYPE, system.eth.oracle)
    system.tx(sp, "set_liquidation_ratio", r.governance, NEW_TYPE, 2 * RAY)
    with reverts("engine: type not initialized"):
        system.tx(sp, "poke", r.keeper, NEW_TYPE)


def test_spotter_poke__spotter_without_price_role_in_engine__reverts(system):
    r = system.roles
    system.tx(system.d.engine, "revoke_role", r.governance, system.d.spotter, int(Role.PRICE))
    with reverts("authorized: not authorized"):
        system.tx(system.d.spotter, "poke", r.keeper, system.eth.type_id)


def test_spotter_poke__after_engine_shutdown__reverts_not_live(system):
    r = system.roles
    system.tx(system.d.engine, "shutdown", r.governance)
    with reverts("engine: not live"):
        system.tx(system.d.spotter, "poke", r.keeper, system.eth.type_id)
