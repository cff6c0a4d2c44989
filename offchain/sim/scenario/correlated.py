"""A second collateral's price path, derived from the first's with a one-factor model (synthetic).

The first type's path (historical or synthetic) is the factor. Over each bar, the second asset's
log return is

    r2 = beta x r1 + e,    e ~ N(0, s^2) per bar, plus jumps (Poisson, log-size ~ N(mean, std))

where s is chosen so that, without jumps, the correlation of r1 and r2 is `correlation`:
s = beta x s1 x sqrt(1 / correlation^2 - 1), with s1 the factor's own per-bar volatility (the
standard deviation of its log returns over the path). `beta` says how far the second asset moves
with the first (1: as far; BTC against ETH on 2020-03-12 was about 0.9), `correlation` how
tightly (1: exactly, e = 0). The path starts at the type's configured price and is seeded: the
same (factor, parameters, seed) give the same path to the wei. It is synthetic, and the report
says so: no historical second path is shipped for the two crash days.

Prices are wad integers from the start (computed once, before either backend runs), so the chain
and the model see the same path.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from offchain.model.fixed_point import WAD
from offchain.sim.scenario.market_data import DataError, Series, wad_price
from offchain.system.schema import MAX_PRICE, MIN_PRICE, TYPES


@dataclass(frozen=True)
class OneFactor:
    """The second asset's loading on the factor (module docstring)."""

    # the defaults of a scenario's [types.<name>] (the parameter schema's)
    beta: float = float(TYPES["beta"].default)
    correlation: float = float(TYPES["correlation"].default)
    jumps_per_day: float = float(TYPES["jumps_per_day"].default)
    jump_mean: float = float(TYPES["jump_mean"].default)
    jump_std: float = float(TYPES["jump_std"].default)

    def __post_init__(self) -> None:
        problems = []
        if not (math.isfinite(self.beta) and 0 < self.beta <= 10):
            problems.append(f"beta must be in (0, 10], got {self.beta}")
        if not (math.isfinite(self.correlation) and 0 < self.correlation <= 1):
            problems.append(f"correlation must be in (0, 1], got {self.correlation}")
        if not (math.isfinite(self.jumps_per_day) and 0 <= self.jumps_per_day <= 10_000):
            problems.append(f"jumps_per_day must be in [0, 10000], got {self.jumps_per_day}")
        if not (math.isfinite(self.jump_mean) and -10 <= self.jump_mean <= 10):
            problems.append(f"jump_mean must be in [-10, 10], got {self.jump_mean}")
        if not (math.isfinite(self.jump_std) and 0 <= self.jump_std <= 10):
            problems.append(f"jump_std must be in [0, 10], got {self.jump_std}")
        if problems:
            raise DataError(problems[0])

    def derive(self, factor: Series, start_price: int, seed: int) -> Series:
        """The second path at the factor's times, from `start_price` [wad]; `seed` draws the
        idiosyncratic moves. Raises DataError when a price leaves [MIN_PRICE, MAX_PRICE]."""
        closes = factor.columns["close"]
        returns = [math.log(closes[k] / closes[k - 1]) for k in range(1, len(closes))]
        mean = sum(returns) / len(returns)
        vol = math.sqrt(sum((r - mean) ** 2 for r in returns) / len(returns))
        idio = self.beta * vol * math.sqrt(1 / self.correlation**2 - 1)
        steps = [factor.times[k] - factor.times[k - 1] for k in range(1, len(factor.times))]
        rng = random.Random(seed)
        log_price = math.log(start_price / WAD)
        prices = [start_price]
        for r, step in zip(returns, steps):
            log_price += self.beta * r + idio * rng.gauss(0, 1)
            jump_p = 1 - math.exp(-self.jumps_per_day * step / 86400)
            if rng.random() < jump_p:
                log_price += rng.gauss(self.jump_mean, self.jump_std)
            if not math.log(MIN_PRICE) <= log_price <= math.log(MAX_PRICE):
                raise DataError(
                    f"derived path: the price leaves [{MIN_PRICE}, {MAX_PRICE}] at seed {seed}; "
                    "lower beta or the jumps"
                )
            prices.append(wad_price(log_price))
        return Series(
            f"one-factor(beta={self.beta:g}, correlation={self.correlation:g}, seed={seed}) of "
            f"{factor.source}",
            factor.times,
            {"close": tuple(prices)},
        )


def realized_correlation(a: Series, b: Series) -> float:
    """The correlation of two paths' log returns (for tests and the report)."""
    ra = _log_returns(a.columns["close"])
    rb = _log_returns(b.columns["close"])
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return cov / math.sqrt(va * vb) if va and vb else 0.0


def _log_returns(closes: tuple[int, ...]) -> list[float]:
    return [math.log(closes[k] / closes[k - 1]) for k in range(1, len(closes))]
