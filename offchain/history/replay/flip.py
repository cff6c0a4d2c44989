"""A model of MakerDAO's 2020 Flipper and Cat, not a twin of any Backstop contract: the day runner
of that mechanism family. A crash day (a day file's settings, days/) replayed under the 2020
liquidation system, bar by bar.

The day's bars come from the price series (10 minutes in data/market/); each bar is cut into
`substeps` steps (1 minute by default) with the bar's close and gas percentiles, because the
day's ttl (10 minutes) was one bar: with bar steps only, a bid's tic would fall exactly on the
next step, where dss refuses both a new bid and the deal, and no auction could see a second bid.
A transaction the latency model delays by a bar lands `bar` seconds after it was sent.

Each step, in order:
1. the oracle: the OSM shows the market price of one `delay` before its last poke; pokes come
   every `delay` from the first bar, `lag` seconds late (mechanisms/oracle.py); the Spotter
   writes spot at once (spot = price / 1.5);
2. collateral sold: a keeper's collateral won whose resale delay has passed is sold on the
   outside market (outside.py: closed, at the step's close, no impact, DAI at par; open, on the
   venue, DAI bought at its price), the DAI back in its capital;
3. transactions delayed from earlier steps land, in the order sent;
4. the biter, then each keeper in turn: plan, send, and what lands in the step executes before
   the next one plans (they see each other's bids as in a block);
5. deals: every auction whose tic passed (or whose end passed, with a bid) is dealt (by whoever:
   not subject to gas; the winner has every reason to call it);
6. ticks: every auction that ended without a bid is restarted (likewise).

The deficit is the Vow's as dss would have it after `heal`: system debt queued by bites (the
vaults' debt taken, art x rate = tab / chop) minus the DAI the flips raised (every bid, of dealt
auctions and of those still running, is already the Vow's); negative: a surplus (penalties
raised beyond the debt). Amounts are integers: DAI in rad, collateral in wad.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from types import ModuleType

from offchain.history.accounting import end_of_day
from offchain.history.days import DayData, load
from offchain.history.days.calibration import venue_params
from offchain.history.days.settings import Values, values
from offchain.history.keepers.flip import Biter, LowBaller, MarginBidder, View, execute
from offchain.history.keepers.transactions import Counts, FixedGas, Keeper, Mempool, gas_policy
from offchain.history.mechanisms.cat import ETH_A_MAT, Bite, Cat, spot_of
from offchain.history.mechanisms.flip import FlipParams, Flipper, is_zero_bid
from offchain.history.mechanisms.oracle import Oracle
from offchain.history.mechanisms.vat import VOW, Urn, Vat
from offchain.history.outside import CLOSED, OPEN, DayMarket, OutsideSpec
from offchain.model.fixed_point import RAD, RAY, WAD, WAD_TO_RAY
from offchain.sim.results.insolvency import EndOfRun
from offchain.sim.scenario.market_data import Series
from offchain.sim.strategies.actions import Latency

__all__ = ["AuctionRow", "DayResult", "KeeperRow", "Oracle", "Vault", "run_day"]

Progress = Callable[[int, int], None]  # (steps done, steps in all)


@dataclass(frozen=True)
class Vault:
    """A hand-made (or, later, sampled) ETH-A vault: `ink` [wad], `art` [wad]."""

    usr: str
    ink: int
    art: int


@dataclass
class AuctionRow:
    """One auction: `lot` at kick and `lot_won` at the end [wad], `tab` and `debt` (the vault's
    debt taken, tab / chop) [rad], the winning (or standing) `bid` [rad] and `winner` (the Cat's
    name while nobody bid), times, and for a dealt one the value of `lot_won` at the market
    price at the deal [rad] and whether its bid was a zero bid; `end` its end when dealt or when
    the day ended (ticks move it)."""

    id: int
    usr: str
    lot: int
    tab: int
    debt: int
    kicked: int
    bid: int = 0
    winner: str = ""
    lot_won: int = 0
    dealt: int | None = None
    value_at_deal: int = 0
    zero_bid: bool = False
    end: int = 0


@dataclass(frozen=True)
class KeeperRow:
    """A keeper's counts and where it ended: DAI [rad], collateral not yet sold [wad], auctions
    won, collateral won [wad] and the DAI its sales brought [rad]."""

    name: str
    counts: Counts
    dai: int
    gem: int
    won: int
    gem_won: int
    sold_for: int


@dataclass
class DayResult:
    auctions: list[AuctionRow]
    keepers: dict[str, KeeperRow]
    debt_bitten: int  # [rad] the Vow's queued sin
    dai_raised: int  # [rad] the Vow's DAI from the flips
    vaults: dict[str, Urn] = field(default_factory=dict)  # what the bites left
    # the outside market (outside.py): collateral resold [wad] and the DAI it brought [rad]; the
    # lowest market price the keepers saw over the day's close [wad]; venue trades floored
    resold: int = 0
    resale_dai: int = 0
    lowest_market: int = 10**18
    floored: int = 0
    # what the day leaves owed, counted as Backstop's side counts its own (accounting.py): the
    # finished auctions' shortfalls, the open auctions and the unsafe vaults left, marked
    end_of_day: EndOfRun | None = None

    @property
    def kicked(self) -> int:
        return len(self.auctions)

    @property
    def dealt(self) -> list[AuctionRow]:
        return [r for r in self.auctions if r.dealt is not None]

    @property
    def zero_bids(self) -> list[AuctionRow]:
        return [r for r in self.auctions if r.zero_bid]

    @property
    def zero_bid_share(self) -> Fraction:
        """Zero-bid auctions among those dealt (0 when none was dealt)."""
        dealt = len(self.dealt)
        return Fraction(len(self.zero_bids), dealt) if dealt else Fraction(0)

    @property
    def zero_bid_value(self) -> int:
        """The collateral given for zero bids, at the market price at their deals [rad]."""
        return sum(r.value_at_deal for r in self.zero_bids)

    @property
    def deficit(self) -> int:
        """debt_bitten - dai_raised [rad] (module docstring); negative: a surplus."""
        return self.debt_bitten - self.dai_raised


def _check_inputs(
    vaults: list[Vault], params: FlipParams, rate: int, prices: Series, substeps: int
) -> int:
    """The bar's length [s]; ValueError naming the first mistake."""
    names = [v.usr for v in vaults]
    if len(set(names)) != len(names):
        raise ValueError("two vaults share an owner")
    for v in vaults:
        if v.ink <= 0 or v.art < 0:
            raise ValueError(f"vault {v.usr}: ink must be > 0 and art >= 0")
        if 0 < v.art * rate < params.dust:
            raise ValueError(f"vault {v.usr}: debt below dust (the Vat would not have let it be)")
    bars = {b - a for a, b in zip(prices.times, prices.times[1:])}
    if len(bars) != 1:
        raise ValueError(f"{prices.source}: bars of unequal length")
    bar = bars.pop()
    if substeps < 1 or bar % substeps:
        raise ValueError(f"substeps must divide the bar ({bar} s), got {substeps}")
    return bar


def run_day(
    vaults: list[Vault],
    params: FlipParams,
    keepers: list[Keeper],
    biter: Biter,
    prices: Series,
    gas: Series,
    oracle: Oracle | None = None,
    mat: int = ETH_A_MAT,
    rate: int = RAY,
    substeps: int = 10,
    resale: int | None = None,
    late: str = "bar",
    seed: int = 0,
    market: DayMarket | None = None,
    capacity: int | None = None,
    progress: Progress | None = None,
) -> DayResult:
    """Replay the day of `prices` and `gas` (module docstring); keepers' DAI is their capital.
    `market`: the outside market (None: closed, resale after `resale` seconds, one bar if None);
    `capacity`: gas landing per step at most (Mempool); `progress(bars done, bars)` after each
    bar."""
    bar = _check_inputs(vaults, params, rate, prices, substeps)
    oracle = oracle or Oracle()
    if market is None:
        market = DayMarket(prices, OutsideSpec(CLOSED, bar if resale is None else resale))
    vat = Vat(rate=rate)
    for v in vaults:
        vat.urns[v.usr] = Urn(v.ink, v.art)
    for k in keepers:
        vat.dai[k.name] += k.capital
    flipper = Flipper(vat, params)
    cat = Cat(vat, flipper)
    step = bar // substeps
    mempool = Mempool(
        Latency(gas, 0),
        bar,
        step=step if late == "uniform" else None,
        seed=seed,
        capacity=capacity,
        tick=step,
    )
    by_name = {k.name: k for k in keepers}
    rows: dict[int, AuctionRow] = {}
    won = {k.name: [0, 0, 0] for k in keepers}  # auctions, collateral [wad], sold for [rad]

    def land(now: int) -> None:
        for keeper, intent in mempool.due(now):
            done = execute(keeper, intent, flipper, cat, now)
            if isinstance(done, Bite):
                rows[done.id] = AuctionRow(
                    done.id, done.usr, done.lot, done.tab, done.debt, kicked=now
                )

    bars = len(prices.times)
    lowest = WAD
    for now in range(prices.times[0], prices.times[-1] + bar, step):
        vat.spot = spot_of(oracle.price(prices, now, gas), mat)
        close = market.close(now)
        for name, amount, proceeds in market.due(now):
            vat.gem[name] -= amount
            vat.dai[name] += proceeds
            won[name][2] += proceeds
        price = market.price(now)
        lowest = min(lowest, price * WAD // close)
        # the keepers bid DAI: the market's dollars over DAI's price (the close, closed)
        price = price * WAD // market.dai_price(now)
        land(now)
        for actor in [biter, *keepers]:
            view = View(
                now,
                price,
                flipper,
                cat,
                vat.dai[actor.name] - mempool.locked(actor),
                mempool.busy(actor),
                mempool.pending(actor),
            )
            for intent in actor.plan(view):
                mempool.send(actor, intent, now)
            land(now)
        for id in sorted(flipper.bids):
            if flipper.dealable(id, now):
                a = flipper.deal(id, now)
                row = rows[id]
                row.bid, row.winner, row.lot_won, row.dealt = a.bid, a.guy, a.lot, now
                row.end = a.end
                row.value_at_deal = a.lot * close * WAD_TO_RAY
                row.zero_bid = is_zero_bid(a.bid, a.lot, close)
                if a.guy in by_name:
                    won[a.guy][0] += 1
                    won[a.guy][1] += a.lot
                    market.hold(a.guy, a.lot, now)
        for id, a in sorted(flipper.bids.items()):
            if a.tic == 0 and a.end < now:
                flipper.tick(id, now)
        if progress is not None and (now - prices.times[0] + step) % bar == 0:
            progress((now - prices.times[0] + step) // bar, bars)
    for id, a in flipper.bids.items():  # still running at the end of the day
        rows[id].bid, rows[id].winner, rows[id].lot_won, rows[id].end = a.bid, a.guy, a.lot, a.end
    actors = [biter, *keepers]
    last = prices.times[-1] + bar - step
    owed = end_of_day(
        (
            (r.id, r.usr, r.debt, r.tab, r.bid, r.lot_won, r.dealt is not None)
            for r in rows.values()
        ),
        vat.urns,
        rate,
        mat,
        market,
        last,
    )
    return DayResult(
        auctions=[rows[i] for i in sorted(rows)],
        keepers={
            k.name: KeeperRow(
                k.name,
                k.counts,
                vat.dai[k.name],
                vat.gem[k.name],
                *won.get(k.name, [0, 0, 0]),
            )
            for k in actors
        },
        debt_bitten=vat.sin[VOW],
        dai_raised=vat.dai[VOW],
        vaults={u: Urn(x.ink, x.art) for u, x in vat.urns.items()},
        resold=sum(t for _, _, t, _ in market.sales),
        resale_dai=sum(d for _, _, _, d in market.sales),
        lowest_market=lowest,
        floored=market.venue.floored if market.venue is not None else 0,
        end_of_day=owed,
    )


# --- the family's runner: a day file (days/) of the flip family, from its settings ---

BLOCK_SECONDS = Fraction(131, 10)  # the long-run mean block time, 2020 and 2021 (N4)


def keepers_of(v: Values) -> tuple[Biter, list[Keeper]]:
    """The day's keepers from its settings: the biter, the honest bidders, the low bidders."""
    biter = Biter("biter", gas_policy(v.biter_gas), per_step=v.bites_per_step)
    keepers: list[Keeper] = [
        MarginBidder(
            f"keeper-{i + 1}",
            gas_policy(v.bidder_gas),
            v.bidder_capital * RAD,
            int(v.bidder_margin * WAD),
        )
        for i in range(v.bidders)
    ]
    keepers += [
        LowBaller(f"low-bidder-{i + 1}", FixedGas.gwei(v.lowball_gas_gwei), 10**6 * RAD)
        for i in range(v.lowballers)
    ]
    biter.tx_gas = v.gas_bite
    for k in keepers:
        k.tx_gas = v.gas_bid
    return biter, keepers


def market_of(day: ModuleType, v: Values, data: DayData) -> DayMarket:
    """The day's outside market from its settings (outside.py)."""
    resale = v.resale_hours * 3600
    if v.outside == CLOSED:
        return DayMarket(data.prices, OutsideSpec(CLOSED, resale))
    spec = OutsideSpec(OPEN, resale, venue_params(v), day.dai_price(v))
    return DayMarket(data.prices, spec, data.candles)


def capacity_of(v: Values, step: int) -> int | None:
    """Gas the day's keepers may land per step: the step's blocks (of BLOCK_SECONDS) x the block
    gas limit x the share of it the day's other traffic leaves (None: no bound, block_gas 0)."""
    if not v.block_gas:
        return None
    return int(v.block_gas * (1 - v.competing_gas) * step / BLOCK_SECONDS)


def run(
    day: ModuleType,
    overrides: dict[str, object] | None = None,
    data: DayData | None = None,
    progress: Progress | None = None,
) -> DayResult:
    """The day file `day` under the 2020 mechanism with its settings (and `overrides`)."""
    v = values(day.SETTINGS, overrides)
    data = data or load(day)
    biter, keepers = keepers_of(v)
    stall = v.oracle_stall_gwei
    oracle = Oracle(
        delay=v.oracle_delay,
        lag=v.oracle_phase,
        stall_gwei=stall,
        stall_until=day.utc(v.oracle_stall_until) if stall is not None else None,
    )
    bar = data.prices.times[1] - data.prices.times[0]
    substeps = 10
    return run_day(
        day.eve(v, data),
        v.flip,
        keepers,
        biter,
        data.prices,
        data.gas,
        oracle=oracle,
        substeps=substeps,
        late=v.late_landing,
        market=market_of(day, v, data),
        capacity=capacity_of(v, bar // substeps),
        progress=progress,
    )
