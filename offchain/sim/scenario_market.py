"""The scenario's `[market]` table (scenario.py): the price path (a price CSV, or a
`[market.synthetic]` path generated from the seed), the gas (a CSV or a constant), the collateral
pool's depth (a constant or a reserves CSV), the tail and drain bars and the market's impact.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

from offchain.model.fixed_point import WAD
from offchain.sim.market_data import (
    DataError,
    Series,
    SyntheticPath,
    load_gas,
    load_prices,
    load_reserves,
)
from offchain.sim.scenario_reader import (
    GWEI,
    ScenarioError,
    Source,
    file_path,
    read_float,
    sub_table,
    with_defaults,
)
from offchain.sim.scenario_types import MarketSpec
from offchain.system.config import MAX_PRICE, Reader

DEFAULT_GAS_GWEI = 30  # also MarketSpec.gas_price (unused) when the gas comes from a CSV
DEFAULT_POOL_DEPTH = "1_000_000"
DEFAULT_TAIL_BARS = 36
MAX_DRAIN_BARS = 10_000  # about 70 days of 10-minute bars


def _data(r: Reader, key: str, source: Source, loader: Any) -> Series:
    """Load a market CSV; a DataError keeps the loader's text (prefixed with the field)."""
    path = file_path(r, key, source)
    try:
        return loader(path)
    except DataError as exc:
        raise ScenarioError(str(exc) if source.bare else f"{r.where}.{key}: {exc}") from None


def read_market(r: Reader, source: Source, seed: int) -> MarketSpec:
    if "prices" in r.table and "synthetic" in r.table:
        raise r.fail("prices", "give a price CSV or a [market.synthetic] table, not both")
    synthetic = None
    if "prices" in r.table:
        prices = _data(r, "prices", source, load_prices)
    elif "synthetic" in r.table:
        synthetic = _synthetic(sub_table(r, "synthetic"))
        prices = generate_prices(synthetic, seed, r.where + ".synthetic")
    else:
        raise r.fail("prices", "missing (a price CSV, or a [market.synthetic] table)")

    if "gas" in r.table and "gas_gwei" in r.table:
        raise r.fail("gas_gwei", "give a gas CSV (market.gas) or a constant gas_gwei, not both")
    gas = _data(r, "gas", source, load_gas) if "gas" in r.table else None
    gas_price = (
        r.scaled("gas_gwei", GWEI, Decimal(0), Decimal(100_000))
        if "gas_gwei" in r.table
        else DEFAULT_GAS_GWEI * GWEI
    )

    if "pool_depth" in r.table and "reserves" in r.table:
        raise r.fail("reserves", "give a pool_depth or a reserves CSV, not both")
    if "reserves_scale" in r.table and "reserves" not in r.table:
        raise r.fail("reserves_scale", "applies only with market.reserves")
    if "reserves" in r.table:
        reserves = _data(r, "reserves", source, load_reserves)
        scale = (
            r.decimal("reserves_scale", Decimal(0), Decimal(1000), lo_open=True)
            if "reserves_scale" in r.table
            else Decimal(1)
        )
        with localcontext() as ctx:
            ctx.prec = 80
            pool_depth = int(
                (reserves.columns["dai_reserve"][0] * scale).to_integral_value(rounding=ROUND_DOWN)
            )
        if pool_depth <= 0:
            raise r.fail(
                "reserves_scale", f"{scale} gives an empty pool (first dai_reserve x scale = 0)"
            )
    else:
        pool_depth = with_defaults(r, {"pool_depth": DEFAULT_POOL_DEPTH}).scaled(
            "pool_depth", WAD, lo_open=True
        )
        r.used.add("pool_depth")

    tail_bars = r.integer("tail_bars", 0, 1000) if "tail_bars" in r.table else DEFAULT_TAIL_BARS
    drain_bars = r.integer("drain_bars", 0, MAX_DRAIN_BARS) if "drain_bars" in r.table else 0
    impact_depth = r.scaled("impact_depth", WAD) if "impact_depth" in r.table else 0
    impact_half_life = (
        r.integer("impact_half_life", 1, 30 * 86400) if "impact_half_life" in r.table else 3600
    )
    r.finish()
    return MarketSpec(
        prices=prices,
        gas=gas,
        gas_price=gas_price,
        pool_depth=pool_depth,
        tail_bars=tail_bars,
        drain_bars=drain_bars,
        synthetic=synthetic,
        impact_depth=impact_depth,
        impact_half_life=impact_half_life,
    )


def _synthetic(r: Reader) -> SyntheticPath:
    kwargs: dict[str, Any] = {
        "start_price": r.decimal("start_price", Decimal(0), MAX_PRICE, lo_open=True),
        "steps": r.integer("steps", 2, 100_000),
    }
    if "step_seconds" in r.table:
        kwargs["step_seconds"] = r.integer("step_seconds", 1, 86400)
    if "start_time" in r.table:
        kwargs["start_time"] = r.integer("start_time", 0, 2**40)
    floats = {
        "drift": (-100, 100),
        "volatility": (0, 100),
        "jumps_per_day": (0, 10_000),
        "jump_mean": (-10, 10),
        "jump_std": (0, 10),
    }
    for key, (lo, hi) in floats.items():
        if key in r.table:
            kwargs[key] = read_float(r, key, Decimal(lo), Decimal(hi))
    r.finish()
    try:
        return SyntheticPath(**kwargs)
    except DataError as exc:
        raise ScenarioError(f"{r.where}: {exc}") from None


def generate_prices(path: SyntheticPath, seed: int, where: str) -> Series:
    try:
        with localcontext() as ctx:
            # generate() quantizes prices to 18 decimals in the current context: at the default 28
            # digits a price above 1e10 raises InvalidOperation; below it the result is the same
            ctx.prec = 80
            return path.generate(seed)
    except DataError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
