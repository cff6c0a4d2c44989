"""The stablecoin's own price [USD per stablecoin, wad] through a day: what a keeper pays for the
stablecoin it takes with, and gets for it when it sells. A `StablePrice` is a list of points
(time, price), linear between two points and flat before the first and after the last; one point
is a constant price. Where the day has a feed of the premium (a CSV of `time_utc`, `price`) its
rows are the points; otherwise a stated assumption (data/market/calibration.toml) with a
sensitivity row.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from offchain.model.fixed_point import WAD

__all__ = ["PAR", "StablePrice"]


@dataclass(frozen=True)
class StablePrice:
    points: tuple[tuple[int, int], ...]  # (time [s], price [wad]), strictly increasing times

    def __post_init__(self) -> None:
        if not self.points:
            raise ValueError("a stablecoin price needs at least one point")
        times = [t for t, _ in self.points]
        if any(b <= a for a, b in zip(times, times[1:])):
            raise ValueError("a stablecoin price's times must rise strictly")
        if any(p <= 0 for _, p in self.points):
            raise ValueError("a stablecoin price must be positive")

    @classmethod
    def constant(cls, price: int) -> StablePrice:
        return cls(((0, price),))

    def at(self, now: int) -> int:
        """The price at `now` [wad]: linear between the points around it, rounded down."""
        times = [t for t, _ in self.points]
        i = bisect.bisect_right(times, now)
        if i == 0:
            return self.points[0][1]
        if i == len(self.points):
            return self.points[-1][1]
        (t0, p0), (t1, p1) = self.points[i - 1], self.points[i]
        return p0 + (p1 - p0) * (now - t0) // (t1 - t0)


PAR = StablePrice.constant(WAD)
