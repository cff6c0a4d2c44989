"""The typed scenario of a crash replay: what the simulator runs (offchain/sim/run/driver.py).

A scenario is a price path, the market around it (gas, pool liquidity), a vault population, the
keepers and the protocol (parameters and waterfall order). `offchain/sim/scenario/load.py` builds
one from
a built-in name, a scenario file (TOML or YAML) or a bare price CSV, validating every field; the
core never sees bad input. Amounts are integers in the contracts' units (wad unless stated).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from offchain.sim.market.blockspace import BlockSpace
from offchain.sim.market.stable_price import PAR, StablePrice
from offchain.sim.market.venue import Depth, VenueParams
from offchain.sim.scenario.correlated import OneFactor
from offchain.sim.scenario.market_data import Series, SyntheticPath
from offchain.system.config import SystemConfig


@dataclass(frozen=True)
class MarketSpec:
    """The market the protocol lives in."""

    prices: Series  # column "close": stablecoin per collateral token [wad], one row per bar
    gas: Series | None  # columns p30_gwei / p60_gwei / p90_gwei [wei]; None: `gas_price` throughout
    gas_price: int  # [wei] the constant gas price when `gas` is None
    pool_depth: int  # stablecoin side of the collateral pool at the start [wad]
    tail_bars: int  # bars appended after the path at its last price, so running auctions finish
    # up to this many more bars at the last price, while an auction is still running (0: none)
    drain_bars: int = 0
    # the headline's drain (sim/run/drain.py): up to this many bars after the tail (the recorded
    # drain's included), unrecorded, until every auction clears (0: none, the end-of-run mark)
    drain_horizon: int = 0
    # gas a block of the lab holds (sim/run/sending.py); 0: no limit
    block_gas_limit: int = 0
    # the generator of `prices` when the path is synthetic (another seed, another path); else None
    synthetic: SyntheticPath | None = None
    # the external market's depth [wad per side] through which liquidation sales move the price
    # (market/impact.py; 0: no impact, the path is the market price), and its recovery half-life [s]
    impact_depth: int = 0
    impact_half_life: int = 3600
    # the oracle's phase against the bars [s] (timeline.py): the first poke of the replay is due
    # this long after the first bar; None: the default (timeline.default_phase; a sweep draws it)
    oracle_phase: int | None = None
    # the reserves file the pool's liquidity follows bar by bar (market/liquidity.py); None: a
    # constant pool_depth
    reserves: Series | None = None
    # what --vaults does to the market's depth (ceilings.deepened_market): "fixed" (the
    # default: a bigger protocol sells into the same market) or "scaled" (for comparison)
    depth_with_vaults: str = "fixed"
    # the outside venue (sim/market/outside.py): "open" or "closed"; `outside_note` says why an
    # absent key closed it. Open: the venue's settings and each bar's depth (venue.py, from the
    # price file's high, low and volume_eth), how long capital takers hold collateral before its
    # resale [s], the stablecoin's price, and the bars the end-of-run mark sells over
    outside: str = "closed"
    outside_note: str = ""
    venue: VenueParams | None = None
    depths: tuple[Depth, ...] = ()
    resale_delay: int = 0
    stable_price: StablePrice = PAR
    mark_bars: int = 36
    # an open market's flash takes: "best", into the pool or on the outside venue, whichever
    # pays more (sim/market/flash_venue.py); "pool", the pool only (a closed market's)
    flash_route: str = "pool"
    # the day's block space (market/blockspace.py); None: blocks without limit
    blockspace: BlockSpace | None = None
    # the share of the venue's volume a day the pool's depth came from (market/liquidity.py,
    # venue_pool_depth); None: pool_depth or a reserves file gave it
    pool_share_of_venue: Decimal | None = None
    # where the pool's depth came from when the scenario gave none (the run's first lines)
    pool_note: str = ""


@dataclass(frozen=True)
class Book:
    """A vault population read from a file (a scenario's `[vaults] book`, scenario/book.py):
    vault i holds `collateral[i]` and owes `debt[i]`, exactly as the file's row i wrote them."""

    source: str  # the file, as the scenario named it after resolving
    collateral: tuple[int, ...]  # [wad, a whole number of token units scaled to wad]
    debt: tuple[int, ...]  # stablecoin [wad], at least the type's dust

    def __len__(self) -> int:
        return len(self.debt)


@dataclass(frozen=True)
class PopulationSpec:
    """A seeded vault population: debt log-normal around a median, start collateral ratio
    (collateral value / debt at the first price) triangular in [ratio_min, ratio_max]; or, with
    a `book`, the book's vaults (count its rows; the draw's fields 0 and unused)."""

    count: int
    debt_median: int  # stablecoin [wad]
    debt_sigma: float  # standard deviation of log(debt)
    ratio_min: float  # must be above the type's liquidation ratio
    ratio_mode: float
    ratio_max: float
    # the share of the vaults whose owners opt in to soft liquidation (population.generate_vaults
    # says which), exactly as the file wrote it
    opt_in_share: Decimal = Decimal(0)
    # the vaults read from a file instead of drawn; None: drawn
    book: Book | None = None


@dataclass(frozen=True)
class KeeperSpec:
    """The actors. Gas prices are what each keeper bids [wei]; the latency model
    (offchain/sim/strategies/actions.py, `Latency`) turns bid vs the bar's gas percentiles into a
    delay."""

    liquidation_gas_price: int  # [wei]
    taker_gas_price: int  # [wei]
    backstop_gas_price: int  # [wei]
    # "flash" (sell into the pool inside the take), "capital" (own stablecoin, valued at the market
    # price: a keeper hedged elsewhere), or "both" (two takers; the flash taker looks first)
    taker_mode: str
    taker_capital: int  # stablecoin of the capital taker [wad]
    take_min_profit: int  # profit after gas below which the taker waits [wad of stablecoin]
    arbitrageur_capital: (
        int  # value of the arbitrageur's inventory, half stablecoin, half collateral [wad]
    )
    arbitrage_threshold: (
        int  # pool vs market price gap [wad fraction] below which it does not trade
    )
    debt_auction_capital: int  # stablecoin of the debt-auction bidder [wad]; 0 = nobody bids
    # gas each keeper may spend in a bar over every collateral type [gas]; 0 = no budget
    # (offchain/sim/strategies/gas_budget.py)
    liquidation_gas_budget: int = 0
    taker_gas_budget: int = 0
    backstop_gas_budget: int = 0
    # the soft liquidator's (strategies/soft_liquidator.py; it runs when some vaults opted in): its
    # gas bid [wei], its stablecoin [wad], the profit after gas below which it waits [wad], how much
    # it repays and its gas budget a bar [gas]
    soft_liquidation_gas_price: int = 100 * 10**9
    soft_liquidation_capital: int = 1_000_000 * 10**18
    soft_liquidation_min_profit: int = 10 * 10**18
    soft_liquidation_repay: str = "middle"  # soft_liquidator.REPAY_CHOICES
    soft_liquidation_gas_budget: int = 0
    # how the keepers price their gas (strategies/gas_strategy.py): "market" or "fixed"; the market
    # strategy's percentile of the bar's gas; the roles priced out on purpose (fixed bids)
    gas_strategy: str = "market"
    gas_percentile: int = 60
    priced_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackstopSpec:
    """Who stands behind the protocol at the start."""

    insurance_fund: int  # surplus donated to the Backstop before the first bar [wad of stablecoin]
    pool_stakers: int  # stability-pool stakers
    pool_stake: int  # each staker's stake [wad of stablecoin]


@dataclass(frozen=True)
class TypeSpec:
    """A collateral type beyond the first, in the same crash (scenario `[types.<name>]`): its
    vault population, its fundamental price path (derived from the first type's by a one-factor
    model, correlated.py: synthetic), its collateral pool and its market's impact."""

    name: str
    vaults: PopulationSpec
    prices: Series  # column "close" [wad], at the first type's bar times
    pool_depth: int  # stablecoin side of its collateral pool [wad]
    loading: OneFactor  # how its path follows the first type's
    impact_depth: int = 0  # market/impact.py, as MarketSpec's
    impact_half_life: int = 3600


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: int
    market: MarketSpec
    vaults: PopulationSpec
    keepers: KeeperSpec
    backstop: BackstopSpec
    # the protocol: the first collateral type is the one the market's path prices (its initial
    # price the path's first price, its pool depth `market.pool_depth`), then `types`'; the
    # waterfall order inside
    system: SystemConfig
    # (vaults, the scenario's own count) when --vaults raised the count and with it the debt
    # ceilings (ceilings.scaled_ceilings); None otherwise
    ceiling_scale: tuple[int, int] | None = None
    # the collateral types after the first (system.collateral[1:], in this order); () for a
    # one-type crash
    types: tuple[TypeSpec, ...] = ()
    # what a bare price CSV took from the built-in day of its year (scenario/day_lineup.py): the
    # run's first lines; () for a scenario file, or a bare CSV run with --lineup defaults
    lineup_lines: tuple[str, ...] = ()
