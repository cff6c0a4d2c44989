"""A model of the keepers of MakerDAO's Liquidations 2.0 (the Dog and Clipper) on 2021-05-19, not
Backstop's keepers and not a twin of any bot: who barked vaults, who reset auctions and who took
collateral, and with what money. Their transactions reach the chain through the day's gas
market and block space as keepers/transactions.py says; the day runner (replay/clip.py)
executes each when it lands, against the state then (a take that lands after its auction was
taken or reset fails as dss would: "Clipper/not-running-auction", "Clipper/needs-reset").

Every keeper pays gas: a transaction's cost is its gas units x the keeper's gas bid, in ETH at
the market price, in DAI at DAI's price (`View.gas_cost`). Keepers:

- `Barker`: barks every vault unsafe at the oracle's price while the Dog has room, when the
  incentive (tip + chip x the tab it would start) pays the bark's gas; a small vault whose chip
  does not pay is left (the day's "smaller vaults were not kicked immediately", O4). Resets
  (`redo`) an auction that needs it when the incentive pays the redo's gas.
- `CapitalTaker`: takes with its own DAI: the most of the lot its free DAI pays for at the
  price now, cut while what it would get selling it on the outside venue now (the venue's quote,
  in DAI at DAI's price) less the gas does not exceed the price paid by `margin`. What it buys
  is resold on the venue after the resale delay (outside.py), the DAI back in its capital.
  Resets an auction that needs it (it wants to take it).
- `FlashTaker`: takes through an exchange callee (makerdao/exchange-callees' UniswapV2Callee):
  the collateral is sold into the day's Uniswap v2 pair in the same transaction, which must
  pay the DAI owed plus `min_profit` of it (else "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT");
  it needs no DAI. It takes the amount whose last unit the pool still pays above the auction's
  price (the pool's marginal price equal to it: q = (sqrt(997,000 W D / p) - 1,000 W) / 997 for
  reserves W of WETH and D of DAI), at most the lot, if the whole pays the gas and min_profit.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from offchain.history.keepers.transactions import GasPolicy, Intent, Keeper
from offchain.history.mechanisms.clip import Clipper, Take
from offchain.history.mechanisms.dog import Bark, Dog
from offchain.history.mechanisms.vat import Refusal, Vat
from offchain.history.outside import DayMarket
from offchain.history.pool import Pool
from offchain.model.fixed_point import RAY, WAD

__all__ = [
    "BARK",
    "REDO",
    "TAKE",
    "Barker",
    "CapitalTaker",
    "FlashCallee",
    "FlashTaker",
    "GasUnits",
    "View",
    "execute",
]

BARK, REDO, TAKE = "bark", "redo", "take"


@dataclass(frozen=True)
class GasUnits:
    """Gas each call uses [units]: a bark (with the Clipper's kick), a redo, a take with the
    taker's DAI, a take through a callee (the swap included)."""

    bark: int
    redo: int
    take: int
    flash_take: int


@dataclass(frozen=True)
class View:
    """What a keeper sees when it plans: the time, the market price [USD per ETH, wad] (the
    outside venue's), DAI's price [USD, wad], the contracts, the pool, the outside market, its
    free DAI `available` [rad] and its transactions in flight (`busy`, `pending`), its gas bid
    [wei] and the vaults unsafe at the oracle's price (`unsafe`)."""

    now: int
    price: int
    dai_price: int
    dog: Dog
    clipper: Clipper
    pool: Pool | None
    market: DayMarket
    available: int
    busy: frozenset[tuple]
    gas_price: int
    unsafe: tuple[str, ...] = ()  # the vaults unsafe at the oracle's price, in order
    pending: Counter[tuple] = field(default_factory=Counter)

    def gas_cost(self, units: int) -> int:
        """A transaction's gas in DAI [rad]: units x gas price [wei] x ETH's price, over DAI's."""
        usd = units * self.gas_price * self.price // WAD  # [wad]
        return usd * WAD // self.dai_price * RAY

    @property
    def vat(self) -> Vat:
        return self.dog.vat


def _coin(clipper: Clipper, tab: int) -> int:
    p = clipper.params
    return p.tip + tab * p.chip // WAD if (p.tip > 0 or p.chip > 0) else 0


class Barker(Keeper):
    """Barks unsafe vaults and resets auctions when the incentive pays the gas (module
    docstring)."""

    def __init__(self, name: str, gas: GasPolicy, units: GasUnits):
        super().__init__(name, gas, 0)
        self.units = units

    def plan(self, view: View) -> list[Intent]:
        intents: list[Intent] = []
        dog, clip = view.dog, view.clipper
        p = dog.params
        room = min(p.Hole - dog.Dirt, p.hole - dog.dirt)
        bark_cost = view.gas_cost(self.units.bark)
        vat = view.vat
        for usr in view.unsafe:
            if room <= 0:
                break
            if (BARK, usr) in view.busy:
                continue
            urn = vat.urns[usr]
            tab = min(urn.art * vat.rate * p.chop // WAD, room)
            if _coin(clip, tab) < bark_cost:
                continue
            self.counts.planned += 1
            intents.append(Intent(BARK, usr=usr, gas=self.units.bark))
            room -= tab
        redo_cost = view.gas_cost(self.units.redo)
        for id in clip.list():
            sale = clip.sales[id]
            if ("auction", id) in view.busy or not clip.needs_redo(id, view.now):
                continue
            feed = clip.feed_price(view.now)
            paid = sale.tab >= clip.chost and sale.lot * feed >= clip.chost
            if not paid or _coin(clip, sale.tab) < redo_cost:
                continue
            self.counts.planned += 1
            intents.append(Intent(REDO, id=id, gas=self.units.redo))
        return intents


def _redo_if_needed(keeper: Keeper, view: View, auction: int, units: GasUnits) -> Intent | None:
    if view.clipper.needs_redo(auction, view.now):
        keeper.counts.planned += 1
        return Intent(REDO, id=auction, gas=units.redo)
    return None


class CapitalTaker(Keeper):
    """Takes with its own DAI at `margin` [wad] under the venue's quote (module docstring)."""

    def __init__(self, name: str, gas: GasPolicy, capital: int, margin: int, units: GasUnits):
        super().__init__(name, gas, capital)
        if not 0 <= margin < WAD:
            raise ValueError(f"margin must be in [0, 1e18), got {margin}")
        self.margin = margin
        self.units = units

    def worth(self, view: View, tokens: int, price: int) -> bool:
        """Whether buying `tokens` [wad] at `price` [ray] pays: the venue's quote now (in DAI)
        less the gas at least the cost x (1 + margin)."""
        owe = tokens * price
        value = view.market.quote(tokens, view.now) - view.gas_cost(self.units.take)
        return value * WAD >= owe * (WAD + self.margin)

    def plan(self, view: View) -> list[Intent]:
        intents: list[Intent] = []
        available = view.available
        clip = view.clipper
        for id in sorted(clip.list()):
            if ("auction", id) in view.busy:
                continue
            redo = _redo_if_needed(self, view, id, self.units)
            if redo is not None:
                intents.append(redo)
                continue
            sale = clip.sales[id]
            price = clip.price(id, view.now)
            if price == 0:
                continue
            tokens = min(sale.lot, available // price)
            if tokens == 0 or not self.worth(view, min(sale.lot, max(tokens, 1)), price):
                if tokens < sale.lot and self.worth(view, sale.lot, price):
                    # it pays, but the DAI does not reach: counted
                    self.counts.planned += 1
                    self.counts.capital_limited += 1
                    self.counts.capital_limited_auctions.add(id)
                continue
            # the most that still pays (the venue's quote walks down with the size)
            if not self.worth(view, tokens, price):
                lo, hi = 0, tokens
                while hi - lo > WAD // 1000:
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if self.worth(view, mid, price) else (lo, mid)
                tokens = lo
            if tokens == 0:
                continue
            self.counts.planned += 1
            if tokens < sale.lot and tokens == available // price:
                self.counts.capital_limited += 1
                self.counts.capital_limited_auctions.add(id)
            cost = min(tokens * price, sale.tab)
            intents.append(
                Intent(TAKE, id=id, lot=tokens, bid=price, cost=cost, gas=self.units.take)
            )
            available -= cost
        return intents


class FlashTaker(Keeper):
    """Takes through the pool in one transaction with `min_profit` [wad of the DAI owed]
    (module docstring)."""

    def __init__(self, name: str, gas: GasPolicy, min_profit: int, units: GasUnits):
        super().__init__(name, gas, 0)
        self.min_profit = min_profit
        self.units = units

    @staticmethod
    def best(pool: Pool, price: int) -> int:
        """The size [wad] whose last unit the pool pays at `price` [ray, DAI per ETH]."""
        w, d = pool.weth, pool.dai
        if not (w and d and price):
            return 0
        # (1000 W + 997 q)^2 = 997,000 W D / p, with p = price / 1e27 DAI per WETH (W, D, q in
        # wad: both sides in wad^2)
        target = math.isqrt(997_000 * w * d * RAY // price)
        return max(0, (target - 1000 * w) // 997)

    def plan(self, view: View) -> list[Intent]:
        intents: list[Intent] = []
        pool, clip = view.pool, view.clipper
        if pool is None:
            return intents
        cost = view.gas_cost(self.units.flash_take)
        for id in sorted(clip.list()):
            if ("auction", id) in view.busy:
                continue
            redo = _redo_if_needed(self, view, id, self.units)
            if redo is not None:
                intents.append(redo)
                continue
            sale = clip.sales[id]
            price = clip.price(id, view.now)
            tokens = min(sale.lot, self.best(pool, price))
            if tokens == 0:
                continue
            owe = min(tokens * price, sale.tab)
            out = pool.quote(tokens) * RAY
            if out - cost < owe * (WAD + self.min_profit) // WAD:
                continue
            self.counts.planned += 1
            intents.append(
                Intent(TAKE, id=id, lot=tokens, bid=price, gas=self.units.flash_take, flash=True)
            )
        return intents


@dataclass
class FlashCallee:
    """The exchange callee of one flash take (UniswapV2Callee's clipperCall, modelled): sells the
    slice into the pool; the DAI owed (rounded up to a wad, as `divup` does) joins the sender's
    vat balance, the rest is the keeper's profit. `min_profit` [wad of the DAI owed]."""

    name: str
    keeper: str
    vat: Vat
    pool: Pool
    market: DayMarket
    min_profit: int
    profit: int = 0  # [wad] DAI the keeper kept

    def _owed(self, owe: int) -> tuple[int, int]:
        dai = -(-owe // RAY)  # divup(owe, RAY) [wad]
        return dai, dai * self.min_profit // WAD

    def check(self, sender: str, owe: int, gem_amt: int, now: int) -> None:
        dai, profit = self._owed(owe)
        if self.pool.quote(gem_amt) < dai + profit:
            raise Refusal("UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT")

    def call(self, sender: str, owe: int, gem_amt: int, now: int) -> None:
        dai, _ = self._owed(owe)
        self.vat.gem[self.name] -= gem_amt  # exits the collateral to the token
        out = self.pool.sell(gem_amt)
        self.market.pass_on(gem_amt, now)
        self.vat.dai[sender] += dai * RAY  # daiJoin.join(sender, daiToJoin)
        self.profit += out - dai


def execute(
    keeper: Keeper,
    intent: Intent,
    dog: Dog,
    clipper: Clipper,
    callee: FlashCallee | None,
    now: int,
) -> Bark | Take | int | None:
    """Run a landed transaction; counts it landed or failed. Returns the bark, the take, the
    incentive a redo paid [rad], or None (refused)."""
    done: Bark | Take | int
    try:
        if intent.kind == BARK:
            done = dog.bark(intent.usr, keeper.name, now)
        elif intent.kind == REDO:
            done = clipper.redo(intent.id, keeper.name, now)
        elif intent.flash:
            assert callee is not None
            done = clipper.take(
                intent.id, intent.lot, intent.bid, callee.name, now, keeper.name, callee
            )
        else:
            done = clipper.take(intent.id, intent.lot, intent.bid, keeper.name, now)
    except Refusal as exc:
        keeper.counts.failed += 1
        keeper.counts.failures[exc.reason] += 1
        return None
    keeper.counts.landed += 1
    return done
