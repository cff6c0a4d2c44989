"""A market with memory: liquidation sales move the external price, which recovers over time.

The scenario's price path is the *fundamental* price F. The *market* price every actor sees (the
feeder posts it to the oracle, with its delay; the arbitrageur trades the keepers' pool towards
it; takes are judged against it) is M = F x level. Each bar:

1. the level recovers towards 1 with the half-life `impact_half_life`:
   level <- 1 - (1 - level) x 2^(-bar seconds / half-life);
2. M = F x level for the bar;
3. the collateral the auctions sold in the bar (every take's) is sold on the external market, a
   constant-product market of `impact_depth` stablecoin per side at M: selling q tokens moves
   its price by the factor (D / (D + q x M))^2, and the level by the same factor.

So a wave of liquidations lowers the price the oracle will show an hour later, which can make
more vaults unsafe: the cascade. `impact_depth = 0` (the default) is no impact: M = F to the
wei. Integer arithmetic throughout (wad); the per-bar recovery factor is computed once, with
Python's correctly rounded decimal power, so chain and model runs (and every platform) agree.

Calibration: Uniswap v2's ETH/DAI pool held 55.3M to 68.9M DAI on 2021-05-19 (median 62.6M,
data/market/uniswap_eth_dai_reserves_2021-05-19.csv). One AMM of that depth is the thin end of
the external market (exchanges' books add depth); `impact_depth = "62_600_000"` models a market
that deep, a smaller value a thinner one (docs/simulation.md).
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from offchain.model.fixed_point import WAD


class Impact:
    """The external market's price level [wad] (module docstring)."""

    def __init__(self, depth: int, half_life: int, bar_seconds: int):
        self.depth = depth  # stablecoin per side [wad]; 0: no impact
        self.level = WAD
        self.lowest = WAD
        with localcontext() as ctx:
            ctx.prec = 50
            keep = (Decimal(1) / 2) ** (Decimal(bar_seconds) / Decimal(half_life))
        self.keep = int(keep * WAD)  # the share of the impact left after one bar [wad]

    def recover(self) -> None:
        """One bar of recovery towards the fundamental price."""
        self.level = WAD - (WAD - self.level) * self.keep // WAD

    def price(self, fundamental: int) -> int:
        """The market price [wad] at this level."""
        return fundamental * self.level // WAD

    def sell(self, collateral: int, price: int) -> None:
        """`collateral` [wad] sold on the external market at `price` [wad]."""
        if not self.depth or not collateral:
            return
        value = collateral * price // WAD
        self.level = (
            self.level * (self.depth * self.depth * WAD // (self.depth + value) ** 2) // WAD
        )
        self.lowest = min(self.lowest, self.level)
