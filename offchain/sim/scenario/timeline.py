"""A run's clock: the bars' times and prices, the chain's genesis before them, and the oracle's
phase against the bars.

The oracle's phase. The feeder pokes the price oracle once its delay has passed since the last
poke (an hour by default), while the bars come every 10 minutes: which bars the oracle's price
moves at is fixed by the last poke before the first bar, and it decides a replay's result (a
crash bar just before or just after a poke makes the delayed price an hour older or newer).
`oracle_phase` is the time [s] from the first bar until the oracle's first poke of the replay
can be sent: the set-up's last poke happens `oracle_delay - oracle_phase` seconds before the
first bar (oracle_delay: the largest of the collateral types' delays, which the set-up waits
out). The default, DEFAULT_AGE seconds before the first bar, is the phase every replay ran with
before the phase was a key (oracle_delay - 600: 3,000 s for an hour's delay). The period's phases,
`period_phases`, are those a bar grid tells apart: 0, one bar, two bars, ... below the delay (six
for 10-minute bars and an hour's delay). A sweep draws each run's phase from them by its seed
(`drawn_phase`) unless the scenario or the grid sets one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from offchain.sim.scenario.types import Scenario
from offchain.system.deployment import pool_exposure_delay

# seconds between the set-up's last poke and the first bar at the default phase
DEFAULT_AGE = 600


def bar_times(scenario: Scenario) -> tuple[list[int], list[int]]:
    """(times, market prices) of every bar: the path, then `tail_bars` more at its last price."""
    prices = scenario.market.prices
    times, closes = list(prices.times), list(prices.columns["close"])
    step = times[-1] - times[-2]
    for k in range(1, scenario.market.tail_bars + 1):
        times.append(prices.times[-1] + k * step)
        closes.append(closes[-1])
    return times, closes


def oracle_delay(scenario: Scenario) -> int:
    """The largest oracle delay of the scenario's collateral types [s]: the set-up waits it out."""
    return max(c.oracle_delay for c in scenario.system.collateral)


def default_phase(scenario: Scenario) -> int:
    """The phase of a scenario that sets none [s]: the set-up's last poke DEFAULT_AGE seconds
    before the first bar (never below 0: a delay shorter than that pokes at the first bar)."""
    return max(oracle_delay(scenario) - DEFAULT_AGE, 0)


def oracle_phase(scenario: Scenario) -> int:
    """The scenario's phase [s]: its `market.oracle_phase`, else `default_phase`."""
    phase = scenario.market.oracle_phase
    return default_phase(scenario) if phase is None else phase


def bar_step(scenario: Scenario) -> int:
    """The price path's step between its first two bars [s]."""
    times = scenario.market.prices.times
    return times[1] - times[0]


def period_phases(scenario: Scenario) -> tuple[int, ...]:
    """The phases of the oracle's period that the bars tell apart: 0, one bar's step, two, ...
    below the oracle delay (at least one: 0)."""
    step, delay = bar_step(scenario), oracle_delay(scenario)
    return tuple(range(0, max(delay, 1), step))


def drawn_phase(scenario: Scenario, seed: int) -> int:
    """A sweep run's phase: `period_phases`[seed mod their count] (n consecutive seeds, every one
    of the n phases once)."""
    phases = period_phases(scenario)
    return phases[seed % len(phases)]


def genesis_time(scenario: Scenario) -> int:
    """The chain's start: early enough that deployment (which waits out the oracle delay) and the
    population end before the first bar, even at one block (one second) per transaction; a phase
    below the default starts earlier by the difference (the set-up's last poke is earlier)."""
    c = scenario.system.collateral[0]
    setup_blocks = 2 * scenario.vaults.count + 12 * scenario.backstop.pool_stakers + 600
    # the stakers' stakes wait the stability pool's exposure delay, then the prices are renewed
    stake_wait = pool_exposure_delay(scenario.system) + c.oracle_delay
    earlier = max(default_phase(scenario) - oracle_phase(scenario), 0)
    return (
        scenario.market.prices.times[0] - c.oracle_delay - stake_wait - setup_blocks - 600 - earlier
    )


def utc(t: int) -> str:
    """`t` [unix seconds] as an ISO 8601 UTC time."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
