"""A model of MakerDAO's price feed for its liquidation systems (2020 and 2021), not a twin of any
Backstop contract: the medianizer and the Oracle Security Module (OSM) that delays it by `hop`.

The OSM shows the market price of one `delay` before its last poke; pokes come every `delay` from
the first bar, `lag` seconds late (the phase); the Spotter writes spot at once. The medianizer's
price is the close of the last bar in which a feed's update could land: with `stall_gwei`, a
bar whose 30th gas percentile is at most that (the feeds' gas bid, 2020), until `stall_until`.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from offchain.sim.scenario.market_data import Series

__all__ = ["GWEI", "Oracle"]

GWEI = 10**9


@dataclass(frozen=True)
class Oracle:
    """The OSM: a poke every `delay` seconds [s] from the first bar, `lag` seconds late [s]; a
    poke makes current the price read at the poke before it. The price it reads is the
    medianizer's, which the price feeds keep current; with `stall_gwei`, a feed's update lands
    only in a bar whose 30th gas percentile is at most that (their gas bid), until `stall_until`
    [unix s] (when the feeds raised their bids): the medianizer keeps the close of the last bar
    in which an update landed."""

    delay: int = 3600
    lag: int = 0
    stall_gwei: int | None = None
    stall_until: int | None = None

    def median(self, prices: Series, gas: Series | None, at: int) -> int:
        """The medianizer's price [wad] at `at`: the close of the last bar up to `at` in which a
        feed's update could land (the first bar's before the series starts)."""
        k = max(bisect_right(prices.times, at) - 1, 0)
        if (
            self.stall_gwei is not None
            and gas is not None
            and (self.stall_until is None or at < self.stall_until)
        ):
            cap = self.stall_gwei * GWEI
            while k > 0 and gas.at("p30_gwei", prices.times[k]) > cap:
                k -= 1
        return prices.columns["close"][k]

    def price(self, prices: Series, now: int, gas: Series | None = None) -> int:
        """The price [wad] the OSM shows at `now` (before the first poke, and for reads before the
        series starts: the first close)."""
        start = prices.times[0]
        pokes = (now - start - self.lag) // self.delay  # the last poke's number (floor)
        if pokes < 0:
            return prices.columns["close"][0]
        return self.median(prices, gas, start + (pokes - 1) * self.delay + self.lag)
