"""The collateral pool's depth read per bar from a reserves file (scenario key market.reserves):
governance, the pool's only liquidity provider, adds or removes liquidity so that the pool's
liquidity follows the file's.

The file's liquidity at a bar is sqrt(dai_reserve x weth_reserve) of its last row at or before
the bar; the pool starts at `pool_depth` (the first row's dai_reserve x reserves_scale) and its
LP shares, all governance's, are proportional to its liquidity: the shares governance holds at
a bar are the starting shares x the file's liquidity there / at its first row, rounded down
(`target_shares`; a difference below one part in RESOLUTION is left). The price is left to the
arbitrageur: a proportional add or remove does not move it. Governance removes the surplus
shares; it adds liquidity at the pool's ratio from what it holds (the stablecoin it drew at the
set-up for the file's peak, `add_inventory`, and what earlier removals returned), minting the
collateral as the outside world brings it.

**Without a reserves file** (`venue_pool_depth`): the pool is one more venue of the day's market,
its depth a share of the outside venue's (scenario key market.pool_share_of_venue, sourced in
data/market/calibration.toml `keepers_pool.share_of_venue`): its collateral reserve at the start
is that share of the whole market's volume a day, V_D (the price file's volume_eth over the day,
divided by the file's share of the market: the venue's own V, venue.py), and its stablecoin side
that many tokens at the first price. The pool's depth then stays (a pool's liquidity is a stock
its providers hold, not the day's flow); the arbitrageur keeps its price near the venue's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Any

from offchain.model.fixed_point import WAD
from offchain.sim.scenario.market_data import Series
from offchain.sim.strategies.actions import Action

__all__ = [
    "RESOLUTION",
    "ROLE",
    "LiquidityStep",
    "add_inventory",
    "liquidity_ratio",
    "peak_ratio",
    "target_shares",
    "venue_pool_depth",
    "venue_volume_a_day",
]

ROLE = "liquidity"
RESOLUTION = 10_000  # the smallest change of the shares governance makes: 1 / RESOLUTION
DAY = 86_400


def liquidity_ratio(reserves: Series, time: int) -> tuple[int, int]:
    """(numerator, denominator) of the file's liquidity squared at `time` over its first row's:
    dai x weth at the last row at or before `time`, over the first row's."""
    dai, weth = reserves.at("dai_reserve", time), reserves.at("weth_reserve", time)
    return dai * weth, reserves.columns["dai_reserve"][0] * reserves.columns["weth_reserve"][0]


def target_shares(start_shares: int, reserves: Series, time: int) -> int:
    """The LP shares governance holds at `time`: floor(start x sqrt(ratio)), exactly."""
    num, den = liquidity_ratio(reserves, time)
    return math.isqrt(start_shares * start_shares * num // den)


def peak_ratio(reserves: Series) -> Decimal:
    """The file's highest liquidity over its first row's (at least 1)."""
    first = reserves.columns["dai_reserve"][0] * reserves.columns["weth_reserve"][0]
    top = max(
        d * w for d, w in zip(reserves.columns["dai_reserve"], reserves.columns["weth_reserve"])
    )
    with localcontext() as ctx:
        ctx.prec = 80
        return max(Decimal(1), (Decimal(top) / Decimal(first)).sqrt())


def add_inventory(pool_depth: int, reserves: Series) -> int:
    """The stablecoin [wad] governance draws at the set-up to add liquidity later: the pool depth
    x (the peak ratio - 1) x 2 (the stable side also grows with the price), rounded up."""
    with localcontext() as ctx:
        ctx.prec = 80
        extra = Decimal(pool_depth) * (peak_ratio(reserves) - 1) * 2
        return int(extra.to_integral_value(rounding=ROUND_CEILING))


def venue_volume_a_day(volumes: list[int], bar_seconds: int, venue_share: int) -> int:
    """V_D [tokens, wad]: the whole market's volume a day, the file's `volumes` [tokens a bar,
    wad] summed over its bars, over the file's share of the market `venue_share` [wad], scaled to
    a day by the file's span (its bars x `bar_seconds`), rounded down."""
    return sum(volumes) * WAD * DAY // (venue_share * len(volumes) * bar_seconds)


def venue_pool_depth(volume_a_day: int, share_of_venue: Decimal, first_price: int) -> int:
    """The pool's stablecoin side [wad] at the start (module docstring): `share_of_venue` of
    `volume_a_day` [tokens, wad] at `first_price` [stablecoin per token, wad], rounded down."""
    with localcontext() as ctx:
        ctx.prec = 80
        tokens = Decimal(volume_a_day) * share_of_venue
        return int((tokens * first_price / WAD).to_integral_value(rounding=ROUND_FLOOR))


@dataclass
class LiquidityStep:
    """Governance follows the reserves file's liquidity in type `name`'s pool (module
    docstring). `state["start"]`: the pool's total shares at the first bar."""

    sender: str
    name: str
    reserves: Series
    state: dict[str, Any] = field(default_factory=dict)
    role: str = ROLE

    def decide(self, world: Any, names: Any) -> list[Action]:
        if self.name not in names:
            return []
        d, t = world.d, world.d.types[self.name]
        (
            rc,
            rs,
            total,
            mine,
            stable,
        ) = world.read(
            [
                (t.pool, "reserve_collateral", ()),
                (t.pool, "reserve_stable", ()),
                (t.pool, "total_shares", ()),
                (t.pool, "shares", (self.sender,)),
                (d.stablecoin, "balanceOf", (self.sender,)),
            ]
        )
        start = self.state.setdefault("start", total)
        target = target_shares(start, self.reserves, world.next_block_time())
        targets = (("pool", self.name),)
        # differences below one RESOLUTION-th of the shares are left: rounding would otherwise
        # add a few wei of liquidity every bar
        if total == 0 or abs(target - total) * RESOLUTION <= total:
            return []
        if set(targets) & world.in_flight():
            return []
        if target < total:
            burn = min(total - target, mine)
            if burn == 0:
                return []
            return [Action(ROLE, self.sender, t.pool, "remove_liquidity", (burn, 0, 0), targets)]
        # add at the pool's ratio, as much as the stablecoin held allows
        want = target - total
        stable_in = min(-(-rs * want // total), stable)
        tokens_in = -(-rc * stable_in // rs) if rs else 0
        if stable_in == 0 or tokens_in == 0 or stable_in * total // rs == 0:
            return []
        return [
            Action(ROLE, self.sender, t.token, "mint", (self.sender, tokens_in), targets),
            Action(ROLE, self.sender, t.pool, "add_liquidity", (tokens_in, stable_in, 0), targets),
        ]
