"""Block space: how much of a bar's blocks the run's keepers can have, at the day's gas limit,
block time and competing demand (data/market/calibration.toml, docs/market.md).

A bar of `bar_seconds` holds bar_seconds / block_time blocks of `gas_limit` gas. Other traffic
uses `competing` of that space; a keeper bidding at the bar's p-th gas percentile outbids p% of
the other traffic (the percentiles are of the gas prices paid in the bar). So its transactions
fit in

    capacity(p) = blocks x gas_limit x ((1 - competing) + competing x p / 100)

gas in the bar, every keeper's together (they share the blocks): what does not fit waits in the
mempool for the next bar, where it counts again (sim/run/sending.py). The keepers' bids are at
the 30th, 60th or 90th percentile of the day's file (the latency model's levels): a bid's level
is the highest of them it reaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

__all__ = ["BlockSpace"]


@dataclass(frozen=True)
class BlockSpace:
    gas_limit: int  # gas per block
    block_time: Decimal  # seconds per block, mean
    competing: Decimal  # the share of block gas other traffic uses, [0, 1]

    def capacity(self, bar_seconds: int, percentile: int) -> int:
        """Gas a bar's blocks hold for transactions bid at `percentile` (module docstring)."""
        return _capacity(self, bar_seconds, percentile)


@lru_cache(maxsize=256)
def _capacity(space: BlockSpace, bar_seconds: int, percentile: int) -> int:
    """BlockSpace.capacity's arithmetic, once per (space, bar length, percentile): every keeper
    action of a full bar asks it again for each bar it tries."""
    blocks = Decimal(bar_seconds) / space.block_time
    share = (1 - space.competing) + space.competing * Decimal(percentile) / 100
    return int(blocks * space.gas_limit * share)
