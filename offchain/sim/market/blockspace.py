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

**The limit on a date** (`gas_limit_on`): the block gas limit history the calibration sources
(`block_history`: N1 to N3), for a price file that names no limit of its own (a user's bare CSV,
scenario/day_lineup.py). A date within a raise gets the limit before it; a date before the first
sourced raise or after the history's last source gets the nearest sourced limit, and the reason
says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from offchain.sim.market.calibration import setting

__all__ = ["BlockSpace", "GasLimit", "gas_limit_on"]


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


@dataclass(frozen=True)
class GasLimit:
    """The block gas limit on a date and how the history gave it: `sourced` is False where the
    date is outside the sourced history (the nearest sourced limit is taken); `why` says which
    limit, from when, and the source ids."""

    gas_limit: int
    sourced: bool
    why: str


def gas_limit_on(day: date) -> GasLimit:
    """The block gas limit on `day` from the calibration's history (module docstring)."""
    before = setting("block_history.before")
    history = setting("block_history.raises")
    raises = sorted(history.value, key=lambda r: r["start"])
    until: date = history["sourced_until"]
    ids = history["source_id"]
    limit, since = before.value, None
    for r in raises:
        if day < r["start"]:
            break
        if day <= r["end"]:  # within the raise: the limit before it
            return GasLimit(
                limit,
                True,
                f"{limit:,}, the limit before the raise to {r['gas_limit']:,} that miners made "
                f"from {r['start']} to {r['end']} ({ids}; the lower of the two)",
            )
        limit, since = r["gas_limit"], r["end"]
    if since is None:
        return GasLimit(
            limit,
            False,
            f"{limit:,}, the limit before the raise of {raises[0]['start']} "
            f"({before['source_id']}): the nearest sourced limit; when it began is not sourced",
        )
    if day > until:
        return GasLimit(
            limit,
            False,
            f"{limit:,}, the last limit the history sources (since {since}; {ids}, written "
            f"{until}): the nearest sourced limit; later changes are not in the calibration",
        )
    return GasLimit(limit, True, f"{limit:,}, the limit since {since} ({ids})")
