"""A model of MakerDAO's Liquidations 2.0 (the Dog and Clipper), not a twin of any Backstop
contract: the day runner of that mechanism family. A crash day (a day file's settings, days/)
replayed under the 2021 liquidation system, bar by bar, each bar cut into `substeps` steps (1
minute by default; the abacus drops its price every 90 s).

Each step, in order:
1. the oracle: the OSM shows the market price of one `delay` before its last poke
   (mechanisms/oracle.py); the Spotter writes spot at once (price / mat); the Clipper reads the
   same OSM price (pip.peek) for its auctions' tops;
2. collateral sold: a capital taker's collateral whose resale delay has passed is sold on the
   outside market (outside.py), the DAI back in its capital;
3. the pool: the day's Uniswap v2 pair takes the file's reserves when a new row begins
   (pool.py);
4. transactions delayed from earlier steps land, in the order sent (within the block bound);
5. each keeper in turn (the barkers, then the takers): plan, send, and what lands in the step
   executes before the next one plans.

Figures (`ClipDayResult`): per auction its kick (tab, lot, the debt behind it, the incentive),
each take (price, DAI, collateral, the bar's close and the OSM's price then), resets, and how it
ended (lot sold out, tab raised with the rest of the lot back to the owner, or still running);
per keeper its transactions and money; the Vow's system debt (the vaults' debt taken and the
incentives minted) and the DAI raised; when each vault was first unsafe and first barked.
Amounts are integers: DAI in rad, collateral in wad, prices in ray (the Clipper's) or wad.
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
from offchain.history.keepers.clip import (
    Barker,
    CapitalTaker,
    FlashCallee,
    FlashTaker,
    GasUnits,
    View,
    execute,
)
from offchain.history.keepers.transactions import Counts, Keeper, Mempool, gas_policy
from offchain.history.mechanisms.abaci import StairstepExponentialDecrease
from offchain.history.mechanisms.cat import spot_of
from offchain.history.mechanisms.clip import ClipParams, Clipper, Take
from offchain.history.mechanisms.dog import Bark, Dog, DogParams
from offchain.history.mechanisms.oracle import Oracle
from offchain.history.mechanisms.vat import VOW, Urn, Vat
from offchain.history.outside import CLOSED, OPEN, DayMarket, OutsideSpec
from offchain.history.pool import Pool
from offchain.history.replay import flip
from offchain.history.replay.flip import Vault
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.results.insolvency import EndOfRun
from offchain.sim.scenario.market_data import Series
from offchain.sim.strategies.actions import Latency

__all__ = ["ClipAuction", "ClipDayResult", "ClipKeeperRow", "TakeRow", "run", "run_day"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class TakeRow:
    """One take: `time`, `taker`, `price` [ray], `owe` [rad], `slice` [wad], the bar's `close`
    and the OSM's price then [wad], `flash` through a callee."""

    time: int
    taker: str
    price: int
    owe: int
    slice: int
    close: int
    osm: int
    flash: bool


@dataclass
class ClipAuction:
    """One auction: its kick (`tab` [rad], `lot` [wad], `due` the debt taken [rad], `top` [ray],
    the barker `kpr` and the incentive `coin` [rad]); its takes and resets; how it ended:
    `ended` the time, `returned` the lot back to the owner [wad], `unraised` the tab left when
    the lot ran out [rad]."""

    id: int
    usr: str
    kicked: int
    tab: int
    lot: int
    due: int
    top: int
    kpr: str
    coin: int
    takes: list[TakeRow] = field(default_factory=list)
    redos: int = 0
    redo_coin: int = 0
    ended: int | None = None
    returned: int = 0
    unraised: int = 0

    @property
    def raised(self) -> int:
        return sum(t.owe for t in self.takes)

    @property
    def sold(self) -> int:
        return sum(t.slice for t in self.takes)


@dataclass(frozen=True)
class ClipKeeperRow:
    """A keeper's counts and money at the end: DAI [rad], collateral held [wad], takes, the
    collateral it bought [wad] and paid [rad], what its resales brought [rad], the incentives
    it was paid [rad], a flash taker's profit [wad]."""

    name: str
    role: str
    counts: Counts
    dai: int
    gem: int
    takes: int
    bought: int
    paid: int
    sold_for: int
    incentives: int
    flash_profit: int


@dataclass
class ClipDayResult:
    auctions: list[ClipAuction]
    keepers: dict[str, ClipKeeperRow]
    debt_queued: int  # [rad] the Vow's system debt: the vaults' debt taken and the incentives
    dai_raised: int  # [rad] the Vow's DAI from takes
    incentives: int  # [rad] paid at kicks and redos
    first_unsafe: dict[str, int]  # vault -> the first step it was unsafe at the oracle's price
    first_bark: dict[str, int]
    vaults: dict[str, Urn]
    end: int  # the last step's time
    bar: int
    passed_on: int = 0  # [wad] the pool's arbitrage carried to the venue
    floored: int = 0  # venue trades that reached its floor
    resold: int = 0  # [wad] the capital takers' collateral resold on the venue
    resale_dai: int = 0  # [rad] the DAI it brought
    lowest_market: int = 10**18  # the lowest market price the keepers saw over the close [wad]
    # what the day leaves owed, counted as Backstop's side counts its own (accounting.py): the
    # finished auctions' shortfalls, the open auctions and the vaults left unsafe, marked
    end_of_day: EndOfRun | None = None

    @property
    def kicked(self) -> int:
        return len(self.auctions)

    @property
    def finished(self) -> list[ClipAuction]:
        return [a for a in self.auctions if a.ended is not None]

    @property
    def debt_liquidated(self) -> int:
        """Σ tab at kick [rad] (the debt with its penalty)."""
        return sum(a.tab for a in self.auctions)

    @property
    def deficit(self) -> int:
        """The Vow's system debt less its DAI [rad]: the auctions' shortfalls and the incentives,
        net of the penalties raised (negative: a surplus)."""
        return self.debt_queued - self.dai_raised


def _check(vaults: list[Vault], prices: Series, substeps: int) -> int:
    names = [v.usr for v in vaults]
    if len(set(names)) != len(names):
        raise ValueError("two vaults share an owner")
    bars = {b - a for a, b in zip(prices.times, prices.times[1:])}
    if len(bars) != 1:
        raise ValueError(f"{prices.source}: bars of unequal length")
    bar = bars.pop()
    if substeps < 1 or bar % substeps:
        raise ValueError(f"substeps must divide the bar ({bar} s), got {substeps}")
    return bar


def run_day(
    vaults: list[Vault],
    dog_params: DogParams,
    clip_params: ClipParams,
    calc: StairstepExponentialDecrease,
    keepers: list[Keeper],
    prices: Series,
    gas: Series,
    market: DayMarket,
    pool: Pool | None,
    oracle: Oracle,
    mat: int,
    dust: int,
    rate: int = RAY,
    substeps: int = 10,
    capacity: int | None = None,
    callee_profit: int = 0,
    progress: Progress | None = None,
) -> ClipDayResult:
    """Replay the day (module docstring). `dust` [rad]; `callee_profit` [wad of the DAI owed]
    the flash takers' minProfit."""
    bar = _check(vaults, prices, substeps)
    step = bar // substeps
    vat = Vat(rate=rate, dust=dust)
    for v in vaults:
        if 0 < v.art * rate < dust:
            raise ValueError(f"vault {v.usr}: debt below dust (the Vat would not have let it be)")
        vat.urns[v.usr] = Urn(v.ink, v.art)
    for k in keepers:
        vat.dai[k.name] += k.capital
    dog = Dog(vat, dog_params)
    clipper = Clipper(vat, dog, calc, clip_params, feed=lambda now: oracle.price(prices, now, gas))
    clipper.upchost()
    dog.clipper = clipper
    latency = Latency(gas, 0)
    mempool = Mempool(latency, bar, step=step, capacity=capacity, tick=step)
    callees = {
        k.name: FlashCallee(f"{k.name}-callee", k.name, vat, pool, market, callee_profit)
        for k in keepers
        if isinstance(k, FlashTaker) and pool is not None
    }
    rows: dict[int, ClipAuction] = {}
    first_unsafe: dict[str, int] = {}
    first_bark: dict[str, int] = {}
    money = {k.name: [0, 0, 0, 0, 0] for k in keepers}  # takes, bought, paid, sold_for, coin
    osm = 0
    close = 0

    def land(now: int) -> None:
        for keeper, intent in mempool.due(now):
            callee = callees.get(keeper.name)
            done = execute(keeper, intent, dog, clipper, callee if intent.flash else None, now)
            if isinstance(done, Bark):
                sale = clipper.sales[done.id]
                coin = clip_params.tip + done.tab * clip_params.chip // WAD
                coin = coin if (clip_params.tip or clip_params.chip) else 0
                rows[done.id] = ClipAuction(
                    done.id,
                    done.usr,
                    now,
                    done.tab,
                    done.lot,
                    done.due,
                    sale.top,
                    keeper.name,
                    coin,
                )
                first_bark.setdefault(done.usr, now)
                money[keeper.name][4] += coin
            elif isinstance(done, Take):
                row = rows[done.id]
                row.takes.append(
                    TakeRow(now, keeper.name, done.price, done.owe, done.slice, close, osm,
                            intent.flash)
                )  # fmt: skip
                m = money[keeper.name]
                m[0] += 1
                m[1] += done.slice
                m[2] += done.owe
                if not intent.flash:
                    market.hold(keeper.name, done.slice, now)
                if done.done:
                    row.ended = now
                    if done.lot == 0:
                        row.unraised = done.tab
                    else:
                        row.returned = done.lot
            elif isinstance(done, int):  # a redo
                row = rows[intent.id]
                row.redos += 1
                row.redo_coin += done
                money[keeper.name][4] += done

    by_name = {k.name: k for k in keepers}
    bars = len(prices.times)
    lowest = WAD
    start, last = prices.times[0], prices.times[-1] + bar - step
    for now in range(start, last + step, step):
        osm = oracle.price(prices, now, gas)
        vat.spot = spot_of(osm, mat)
        close = market.close(now)
        for name, amount, proceeds in market.due(now):
            vat.gem[name] -= amount
            vat.dai[name] += proceeds
            money[name][3] += proceeds
        if pool is not None:
            pool.at(now)
        land(now)
        price = market.price(now)
        lowest = min(lowest, price * WAD // close)
        dai_price = market.dai_price(now)
        unsafe_now = [u for u in vat.urns if dog.unsafe(u)]
        for u in unsafe_now:
            first_unsafe.setdefault(u, now)
        for actor in keepers:
            unsafe = tuple(u for u in unsafe_now if dog.unsafe(u))
            view = View(
                now,
                price,
                dai_price,
                dog,
                clipper,
                pool,
                market,
                vat.dai[actor.name] - mempool.locked(actor),
                mempool.busy(actor),
                actor.gas.price(latency, now),
                unsafe,
                mempool.pending(actor),
            )
            for intent in actor.plan(view):
                mempool.send(actor, intent, now)
            land(now)
        if progress is not None and (now - start + step) % bar == 0:
            progress((now - start + step) // bar, bars)
    owed = end_of_day(
        (
            (a.id, a.usr, a.due, a.tab, a.raised, a.lot - a.sold, a.ended is not None)
            for a in rows.values()
        ),
        vat.urns,
        rate,
        mat,
        market,
        last,
    )
    return ClipDayResult(
        auctions=[rows[i] for i in sorted(rows)],
        keepers={
            k.name: ClipKeeperRow(
                k.name,
                type(k).__name__,
                k.counts,
                vat.dai[k.name],
                vat.gem[k.name],
                money[k.name][0],
                money[k.name][1],
                money[k.name][2],
                money[k.name][3],
                money[k.name][4],
                callees[k.name].profit if k.name in callees else 0,
            )
            for k in by_name.values()
        },
        debt_queued=vat.sin[VOW],
        dai_raised=vat.dai[VOW],
        incentives=clipper.coin_paid,
        first_unsafe=first_unsafe,
        first_bark=first_bark,
        vaults={u: Urn(x.ink, x.art) for u, x in vat.urns.items()},
        end=last,
        bar=bar,
        passed_on=market.passed_on,
        floored=market.venue.floored if market.venue is not None else 0,
        resold=sum(t for _, _, t, _ in market.sales),
        resale_dai=sum(d for _, _, _, d in market.sales),
        lowest_market=lowest,
        end_of_day=owed,
    )


# --- the family's runner: a day file (days/) of the clip family, from its settings ---


def gas_units(v: Values) -> GasUnits:
    scale = v.gas_scale
    return GasUnits(
        bark=int(v.gas_bark * scale),
        redo=int(v.gas_redo * scale),
        take=int(v.gas_take * scale),
        flash_take=int(v.gas_flash_take * scale),
    )


def takers_split(v: Values) -> tuple[int, int]:
    """(capital takers, flash takers): `takers` split by `flash_share`, rounded half up (at
    least one flash taker for a share above 0, at least one capital taker below 1)."""
    flash = int(Fraction(v.takers) * v.flash_share + Fraction(1, 2))
    if v.flash_share > 0:
        flash = max(flash, 1)
    if v.flash_share < 1:
        flash = min(flash, v.takers - 1)
    return v.takers - flash, flash


def keepers_of(v: Values) -> list[Keeper]:
    units = gas_units(v)
    capital, flash = takers_split(v)
    out: list[Keeper] = [
        Barker(f"barker-{i + 1}", gas_policy(v.barker_gas), units) for i in range(v.barkers)
    ]
    each = v.taker_capital * RAD // capital if capital else 0
    out += [
        CapitalTaker(
            f"taker-{i + 1}", gas_policy(v.taker_gas), each, int(v.taker_margin * WAD), units
        )
        for i in range(capital)
    ]
    out += [
        FlashTaker(f"flash-{i + 1}", gas_policy(v.taker_gas), int(v.flash_min_profit * WAD), units)
        for i in range(flash)
    ]
    return out


def market_of(day: ModuleType, v: Values, data: DayData) -> DayMarket:
    resale = int(v.resale_hours * 3600)
    if v.outside == CLOSED:
        return DayMarket(data.prices, OutsideSpec(CLOSED, resale))
    spec = OutsideSpec(OPEN, resale, venue_params(v), day.dai_price(v))
    return DayMarket(data.prices, spec, data.candles)


capacity_of = flip.capacity_of  # the same bound, from the same settings


def run(
    day: ModuleType,
    overrides: dict[str, object] | None = None,
    data: DayData | None = None,
    progress: Progress | None = None,
) -> ClipDayResult:
    """The day file `day` under Liquidations 2.0 with its settings (and `overrides`)."""
    v = values(day.SETTINGS, overrides)
    data = data or load(day)
    if data.reserves is None:
        raise ValueError(f"{day.NAME}: the flash takers' pool needs a reserves file")
    oracle = Oracle(delay=v.oracle_delay, lag=v.oracle_phase)
    substeps = 10
    step = (data.prices.times[1] - data.prices.times[0]) // substeps
    return run_day(
        day.eve(v, data),
        DogParams(Hole=v.Hole, hole=v.hole, chop=v.chop),
        v.clip,
        StairstepExponentialDecrease(cut=v.cut, step=v.step),
        keepers_of(v),
        data.prices,
        data.gas,
        market_of(day, v, data),
        Pool(data.reserves, offset=v.reserves_offset),
        oracle,
        mat=v.mat,
        dust=v.dust,
        substeps=substeps,
        capacity=capacity_of(v, step),
        callee_profit=int(v.flash_min_profit * WAD),
        progress=progress,
    )
