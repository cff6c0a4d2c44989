"""Readers and steps of the price path's tests: PriceOracle and Spotter
(tests/contracts/price_oracle/, spotter/).

Unit tests of the price path: PriceOracle (post -> queued by a poke -> current after the next
poke, at least `delay` seconds later; `peek` valid only for a non-zero price younger than
`max_age`) and Spotter (safe_price = price * 1e9 * 1e27 // liquidation_ratio, or 0 for an invalid
price, written into the engine).

Every transaction goes to the chain and the model in lockstep (see conftest.py), so each test is
also a differential test; the fixture compares the complete state and invariants at the end.
"""

from __future__ import annotations

from offchain.model.fixed_point import WAD

DELAY = 3600  # config/devnet.toml oracle_delay (both types)
MAX_AGE = 10800  # config/devnet.toml oracle_max_age (both types)
ETH_PRICE = 2_000 * WAD  # initial_price of ETH-A
BTC_PRICE = 30_000 * WAD  # initial_price of WBTC-A
# 2000e18 * 1e9 * 1e27 // 1.5e27: exact, rounded down (remainder 1e27)
ETH_SAFE_PRICE = 1_333_333_333_333_333_333_333_333_333_333


def logs(system) -> list[tuple]:
    """The last transaction's events as (emitter, name, args), identical on chain and model."""
    return [(e.address, e.name, e.args) for e in system.events]


def warp_to(system, timestamp: int) -> None:
    """The next transaction is mined at exactly `timestamp`."""
    system.warp(timestamp - system.now)


def safe_price(system, t) -> int:
    """engine.collateral_types[type].safe_price [ray], read on chain."""
    return system.view(system.d.engine, "collateral_types", t.type_id)[2]


def deploy_oracle(system, delay: int = DELAY, max_age: int = MAX_AGE) -> str:
    """A fresh PriceOracle (governance is its authority; nothing posted, no feeder)."""
    return system.lockstep.deploy("PriceOracle", system.roles.governance, delay, max_age)


def make_stale(system, t) -> None:
    """Move the clock so that the next transaction sees the type's current price one second
    past max_age."""
    warp_to(system, system.view(t.oracle, "current_time") + MAX_AGE + 1)
