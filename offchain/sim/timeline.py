"""A run's clock: the bars' times and prices, and the chain's genesis before them."""

from __future__ import annotations

from datetime import UTC, datetime

from offchain.sim.scenario_types import Scenario
from offchain.system.deployment import pool_exposure_delay


def bar_times(scenario: Scenario) -> tuple[list[int], list[int]]:
    """(times, market prices) of every bar: the path, then `tail_bars` more at its last price."""
    prices = scenario.market.prices
    times, closes = list(prices.times), list(prices.columns["close"])
    step = times[-1] - times[-2]
    for k in range(1, scenario.market.tail_bars + 1):
        times.append(prices.times[-1] + k * step)
        closes.append(closes[-1])
    return times, closes


def genesis_time(scenario: Scenario) -> int:
    """The chain's start: early enough that deployment (which waits out the oracle delay) and the
    population end before the first bar, even at one block (one second) per transaction."""
    c = scenario.system.collateral[0]
    setup_blocks = 2 * scenario.vaults.count + 12 * scenario.backstop.pool_stakers + 600
    # the stakers' stakes wait the stability pool's exposure delay, then the prices are renewed
    stake_wait = pool_exposure_delay(scenario.system) + c.oracle_delay
    return scenario.market.prices.times[0] - c.oracle_delay - stake_wait - setup_blocks - 600


def utc(t: int) -> str:
    """`t` [unix seconds] as an ISO 8601 UTC time."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
