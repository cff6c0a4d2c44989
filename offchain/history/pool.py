"""The day's on-chain pool for another protocol's flash takers (MakerDAO's Liquidations 2.0 keepers
on 2021-05-19, modelled; not Backstop's keepers' pool): a constant-product pool with Uniswap v2's
0.3% fee (`getAmountOut`: out = in x 997 x R_out / (R_in x 1000 + in x 997), rounded down) whose
reserves follow a file of the real pair's reserves, bar by bar (the real pool's state, its real
arbitrage included), and within a bar move with the modelled flash takers' sales. What a flash
taker sells into the pool leaves it for the outside venue through the pool's arbitrage
(outside.py, `DayMarket.pass_on`).

`offset` [s]: the file's rows run ahead of their labels by this (the shipped 2021-05-19 file by
7 hours, D2): the reserves at time t are the row labelled t - offset; before the first row, the
first row's.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from offchain.sim.scenario.market_data import Series

__all__ = ["FEE_DEN", "FEE_NUM", "Pool", "amount_out"]

FEE_NUM, FEE_DEN = 997, 1000  # Uniswap v2: 0.3%


def amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountOut, in the pair's units (wad here)."""
    if amount_in <= 0 or reserve_in <= 0 or reserve_out <= 0:
        return 0
    fed = amount_in * FEE_NUM
    return fed * reserve_out // (reserve_in * FEE_DEN + fed)


@dataclass
class Pool:
    """The pool of one day (module docstring): `reserves` the file (dai_reserve, weth_reserve
    [wad]), `offset` [s]."""

    reserves: Series
    offset: int = 0
    dai: int = 0
    weth: int = 0
    _row: int = field(default=-2, repr=False)
    sold: int = 0  # collateral [wad] the modelled takers sold into it, in all

    def at(self, now: int) -> None:
        """Bring the pool to `now`: the file's row for it, when a new row begins (the modelled
        flows of the last row are then the file's business: its arbitrage undid them)."""
        row = max(bisect_right(self.reserves.times, now - self.offset) - 1, 0)
        if row != self._row:
            self._row = row
            self.dai = self.reserves.columns["dai_reserve"][row]
            self.weth = self.reserves.columns["weth_reserve"][row]

    def quote(self, weth_in: int) -> int:
        """DAI [wad] the pool pays for `weth_in` [wad] now."""
        return amount_out(weth_in, self.weth, self.dai)

    def sell(self, weth_in: int) -> int:
        """Sell `weth_in` [wad] into the pool: the DAI [wad] out; the reserves move."""
        out = self.quote(weth_in)
        self.weth += weth_in
        self.dai -= out
        self.sold += weth_in
        return out

    def price(self) -> int:
        """The pool's marginal price [DAI per WETH, wad], fee aside."""
        return self.dai * 10**18 // self.weth if self.weth else 0
