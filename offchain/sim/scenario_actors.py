"""The scenario's `[vaults]`, `[keepers]` and `[backstop]` tables (scenario.py): the vault
population, the keepers and bidders and their capital, and who stands behind the protocol at the
start, each with its defaults.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from offchain.model.fixed_point import RAY, WAD
from offchain.sim.scenario_reader import (
    GWEI,
    ScenarioError,
    format_ratio,
    format_wad,
    read_float,
    with_defaults,
)
from offchain.sim.scenario_types import BackstopSpec, KeeperSpec, PopulationSpec
from offchain.system.config import CollateralConfig, Reader

MAX_VAULTS = 100_000
TAKER_MODES = ("flash", "capital", "both")


DEFAULT_VAULTS: dict[str, Any] = {
    "count": 200,
    "debt_median": "8000",
    "debt_sigma": 0.9,
    "ratio_min": "1.6",
    "ratio_mode": "2.0",
    "ratio_max": "4.0",
}
DEFAULT_KEEPERS: dict[str, Any] = {
    "liquidation_gas_gwei": 100,
    "taker_gas_gwei": 100,
    "backstop_gas_gwei": 100,
    "taker_mode": "flash",
    "taker_capital": "0",
    "take_min_profit": "50",
    "arbitrageur_capital": "2_000_000",
    "arbitrage_threshold": "0.005",
    "debt_auction_capital": "500_000",
}
DEFAULT_BACKSTOP: dict[str, Any] = {
    "insurance_fund": "100_000",
    "pool_stakers": 4,
    "pool_stake": "250_000",
}


def read_population(r: Reader, coll: CollateralConfig, vaults: int | None) -> PopulationSpec:
    d = with_defaults(r, DEFAULT_VAULTS)
    count = d.integer("count", 1, MAX_VAULTS)
    if vaults is not None:
        if isinstance(vaults, bool) or not isinstance(vaults, int) or not 1 <= vaults <= MAX_VAULTS:
            raise ScenarioError(
                f"--vaults: must be an integer between 1 and {MAX_VAULTS}, got {vaults!r}"
            )
        count = vaults
    debt_median = d.scaled("debt_median", WAD, lo_open=True)
    if debt_median * RAY <= coll.dust:
        raise d.fail(
            "debt_median",
            f"{format_wad(debt_median)} must be above {coll.name}'s dust "
            f"{format_wad(coll.dust // RAY)}",
        )
    debt_sigma = read_float(d, "debt_sigma", Decimal(0), Decimal(5))
    ratios = {
        key: d.decimal(key, Decimal(1), Decimal(1000))
        for key in ("ratio_min", "ratio_mode", "ratio_max")
    }
    lo, mode, hi = (float(ratios[k]) for k in ("ratio_min", "ratio_mode", "ratio_max"))
    num, den = lo.as_integer_ratio()  # the float the population draws with, exactly
    if num * RAY <= coll.liquidation_ratio * den:
        raise d.fail(
            "ratio_min",
            f"{ratios['ratio_min']} must be above {coll.name}'s liquidation ratio "
            f"{format_ratio(coll.liquidation_ratio, RAY)}",
        )
    if lo > mode:
        raise d.fail(
            "ratio_min", f"{ratios['ratio_min']} must not exceed ratio_mode {ratios['ratio_mode']}"
        )
    if mode > hi:
        raise d.fail(
            "ratio_max",
            f"{ratios['ratio_max']} must not be below ratio_mode {ratios['ratio_mode']}",
        )
    d.finish()
    return PopulationSpec(
        count=count,
        debt_median=debt_median,
        debt_sigma=debt_sigma,
        ratio_min=lo,
        ratio_mode=mode,
        ratio_max=hi,
    )


def read_keepers(r: Reader) -> KeeperSpec:
    d = with_defaults(r, DEFAULT_KEEPERS)
    gas = {
        key: d.scaled(key, GWEI, Decimal(0), Decimal(100_000), lo_open=True)
        for key in ("liquidation_gas_gwei", "taker_gas_gwei", "backstop_gas_gwei")
    }
    mode = d.raw("taker_mode")
    if mode not in TAKER_MODES:
        raise d.fail("taker_mode", f"must be one of {', '.join(TAKER_MODES)}, got {mode!r}")
    taker_capital = d.scaled("taker_capital", WAD)
    if mode in ("capital", "both") and taker_capital == 0:
        raise d.fail("taker_capital", f'must be > 0 when taker_mode = "{mode}"')
    threshold = d.scaled("arbitrage_threshold", WAD, Decimal(0), Decimal(1))
    if threshold >= WAD:
        raise d.fail("arbitrage_threshold", "must be below 1")
    keepers = KeeperSpec(
        liquidation_gas_price=gas["liquidation_gas_gwei"],
        taker_gas_price=gas["taker_gas_gwei"],
        backstop_gas_price=gas["backstop_gas_gwei"],
        taker_mode=mode,
        taker_capital=taker_capital,
        take_min_profit=d.scaled("take_min_profit", WAD),
        arbitrageur_capital=d.scaled("arbitrageur_capital", WAD),
        arbitrage_threshold=threshold,
        debt_auction_capital=d.scaled("debt_auction_capital", WAD),
    )
    d.finish()
    return keepers


def read_backstop(r: Reader) -> BackstopSpec:
    d = with_defaults(r, DEFAULT_BACKSTOP)
    backstop = BackstopSpec(
        insurance_fund=d.scaled("insurance_fund", WAD),
        pool_stakers=d.integer("pool_stakers", 0, 50),
        pool_stake=d.scaled("pool_stake", WAD),
    )
    d.finish()
    return backstop
