"""A model of MakerDAO's 2020 Flipper and Cat, not a twin of any Backstop contract: the keepers of
the day (who bit vaults and who bid in flip auctions) and how their transactions reached the
chain through the day's gas market.

Each step a keeper plans (`plan`: what it wants to send, from what it sees), the `Mempool` sends
it with the keeper's gas bid and the lab's latency model (`offchain.sim.strategies.actions.
Latency`: at or above the step's 60th gas percentile the transaction lands in the step, at or
above the 30th one bar later, below it is dropped), and the day loop (day.py) executes it when it
lands, against the state then: a bid that lands a bar late, after the auction's `tic` passed,
fails as dss would ("Flipper/already-finished-tic").

Keepers:
- `MarginBidder`: in the tend phase bids min(tab, lot x price x (1 - margin)) if that is a valid
  raise (above the bid, at least beg times it, or exactly tab); in the dent phase asks for the lot
  worth tab at price x (1 - margin) (rounded up) if that is a valid cut (at most 1/beg of the
  lot). `price` is the market price of the step. Its DAI is its capital: a bid's DAI is locked
  while the bid stands (reserved while in flight), returned when outbid; collateral won is sold
  one bar after the deal at that bar's market price (day.py), and the DAI can bid again. A bid
  its free DAI cannot pay is cut to what it can (if still a valid raise) or not sent: either way
  counted `capital_limited`.
- `LowBaller`: the day's zero bidder: MIN_BID on every auction with no bid, at its gas bid.
- `Biter`: calls the Cat's bite on every vault unsafe at the oracle's price, one bite per vault
  per step (a vault above lump needs several).

Gas bids: `FixedGas` (a set price whatever the market does, as the reference auction-keeper bid
by default) or `PercentileGas` (the step's 30th or 60th percentile, as the latency model knows
them).

Counts per keeper (`Counts`): planned = bids or bites decided; capital_limited (of those);
sent = planned less those the capital stopped; dropped (gas bid below the 30th percentile);
landed; failed (refused when it landed; by reason in `failures`); sent = dropped + landed +
failed + still in flight.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from offchain.history.cat import Bite, Cat
from offchain.history.flip import MIN_BID, ONE, Auction, Flipper
from offchain.history.vat import Refusal
from offchain.model.fixed_point import WAD, WAD_TO_RAY
from offchain.sim.strategies.actions import Latency

__all__ = [
    "BITE",
    "DENT",
    "TEND",
    "Biter",
    "Counts",
    "GWEI",
    "FixedGas",
    "GasPolicy",
    "Intent",
    "Keeper",
    "LowBaller",
    "MarginBidder",
    "Mempool",
    "PercentileGas",
    "View",
    "execute",
]

GWEI = 10**9
TEND, DENT, BITE = "tend", "dent", "bite"


class GasPolicy(Protocol):
    def price(self, latency: Latency, now: int) -> int:
        """The gas bid [wei] at `now`."""
        ...


@dataclass(frozen=True)
class FixedGas:
    """A set gas bid [wei] (`FixedGas.gwei(20)` for 20 gwei)."""

    wei: int

    @classmethod
    def gwei(cls, gwei: int) -> FixedGas:
        return cls(gwei * GWEI)

    def price(self, latency: Latency, now: int) -> int:
        return self.wei


@dataclass(frozen=True)
class PercentileGas:
    """The step's 30th or 60th gas percentile (the two the latency model knows)."""

    percentile: int = 60

    def __post_init__(self) -> None:
        if self.percentile not in (30, 60):
            raise ValueError(f"percentile must be 30 or 60, got {self.percentile}")

    def price(self, latency: Latency, now: int) -> int:
        p30, p60 = latency.percentiles(now)
        return p60 if self.percentile == 60 else p30


@dataclass(frozen=True)
class Intent:
    """One transaction a keeper wants: `kind` TEND or DENT of auction `id` with `lot` [wad] and
    `bid` [rad], or a BITE of `usr`'s vault. `cost` is the DAI it locks [rad] (0 for a bite)."""

    kind: str
    id: int = 0
    lot: int = 0
    bid: int = 0
    usr: str = ""
    cost: int = 0

    @property
    def target(self) -> tuple:
        return (BITE, self.usr) if self.kind == BITE else ("auction", self.id)


@dataclass
class Counts:
    """What became of a keeper's transactions (module docstring)."""

    planned: int = 0
    sent: int = 0
    landed: int = 0
    dropped: int = 0
    failed: int = 0
    capital_limited: int = 0
    # the auctions a plan was cut or stopped on by capital (a keeper plans each step again, so
    # `capital_limited` counts an auction it cannot afford once a step until its bid expires)
    capital_limited_auctions: set[int] = field(default_factory=set)
    failures: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class View:
    """What a keeper sees when it plans: the time, the step's market `price` [wad], the
    contracts, its free DAI `available` [rad] (its balance less what its transactions in flight
    lock) and the targets of its transactions in flight (`busy`; `pending`: how many each)."""

    now: int
    price: int
    flipper: Flipper
    cat: Cat
    available: int
    busy: frozenset[tuple]
    pending: Counter[tuple] = field(default_factory=Counter)


class Keeper(ABC):
    """A named actor with a gas policy, DAI capital [rad] and counts."""

    def __init__(self, name: str, gas: GasPolicy, capital: int = 0):
        self.name = name
        self.gas = gas
        self.capital = capital
        self.counts = Counts()

    @abstractmethod
    def plan(self, view: View) -> list[Intent]:
        """What the keeper sends this step, from what it sees (each kind of keeper its own)."""

    def _afford(self, intent: Intent, available: int) -> bool:
        """Count a planned intent; False (and counted) when `available` cannot pay its cost."""
        self.counts.planned += 1
        if intent.cost > available:
            self.counts.capital_limited += 1
            self.counts.capital_limited_auctions.add(intent.id)
            return False
        return True


def _biddable(a: Auction, now: int) -> bool:
    """Whether flip.sol's tend or dent could accept a bid on `a` at `now` (the time checks): a
    keeper does not plan on an auction whose bid or end expired."""
    return a.guy != "" and (a.tic > now or a.tic == 0) and a.end > now


def _valid_raise(bid: int, current: int, tab: int, beg: int) -> bool:
    """Whether flip.sol's tend accepts `bid` over `current` [rad] (the amount checks)."""
    return current < bid <= tab and (bid * ONE >= beg * current or bid == tab)


class MarginBidder(Keeper):
    """Bids for collateral at the market price less `margin` [wad, 0.05e18 = 5%]."""

    def __init__(self, name: str, gas: GasPolicy, capital: int, margin: int):
        super().__init__(name, gas, capital)
        if not 0 <= margin < WAD:
            raise ValueError(f"margin must be in [0, 1e18), got {margin}")
        self.margin = margin

    def plan(self, view: View) -> list[Intent]:
        intents: list[Intent] = []
        available = view.available
        beg = view.flipper.params.beg
        for id, a in sorted(view.flipper.bids.items()):
            if a.guy == self.name or ("auction", id) in view.busy or not _biddable(a, view.now):
                continue
            if a.bid < a.tab:
                # lot [wad] x price [wad] x (1 - margin) [wad] = 1e54 per DAI; / 1e9 -> rad
                want = min(a.tab, a.lot * view.price * (WAD - self.margin) // WAD_TO_RAY)
                if not _valid_raise(want, a.bid, a.tab, beg):
                    continue
                self.counts.planned += 1
                if want > available:
                    self.counts.capital_limited += 1
                    self.counts.capital_limited_auctions.add(id)
                    want = available
                    if not _valid_raise(want, a.bid, a.tab, beg):
                        continue
                intents.append(Intent(TEND, id, a.lot, want, cost=want))
                available -= want
            else:
                # the lot worth tab at the margin: tab [rad] x 1e9 / (price x (1 - margin))
                # [1e36] -> wad, rounded up (the keeper never asks for less than that value)
                value = view.price * (WAD - self.margin)
                lot = -(-a.tab * WAD_TO_RAY // value)
                if not (lot < a.lot and beg * lot <= a.lot * ONE):
                    continue
                intent = Intent(DENT, id, lot, a.tab, cost=a.tab)
                if self._afford(intent, available):
                    intents.append(intent)
                    available -= intent.cost
        return intents


class LowBaller(Keeper):
    """The day's zero bidder: MIN_BID [rad] on every auction that has no bid yet."""

    def plan(self, view: View) -> list[Intent]:
        intents: list[Intent] = []
        available = view.available
        for id, a in sorted(view.flipper.bids.items()):
            if a.tic != 0 or a.bid != 0 or ("auction", id) in view.busy:
                continue
            if not _biddable(a, view.now):
                continue
            intent = Intent(TEND, id, a.lot, MIN_BID, cost=MIN_BID)
            if self._afford(intent, available):
                intents.append(intent)
                available -= intent.cost
        return intents


class Biter(Keeper):
    """Bites the vaults the Cat would bite; spends no DAI. `per_step`: the most bites of one vault
    it sends in a step (None: as many as the vault's collateral needs, lump by lump, less those
    in flight); the 2020 Cat has no limit, one keeper bites each unsafe vault once a block. The
    default, 1, with no bite of a vault while one is in flight, is the first model's."""

    def __init__(self, name: str, gas: GasPolicy, capital: int = 0, per_step: int | None = 1):
        super().__init__(name, gas, capital)
        if per_step is not None and per_step < 1:
            raise ValueError(f"per_step must be at least 1 or None, got {per_step}")
        self.per_step = per_step

    def plan(self, view: View) -> list[Intent]:
        intents = []
        lump = view.cat.flipper.params.lump
        for usr in sorted(view.cat.vat.urns):
            if not view.cat.unsafe(usr):
                continue
            in_flight = view.pending[(BITE, usr)]
            if self.per_step == 1:
                n = 0 if in_flight else 1
            else:
                ink = view.cat.vat.urns[usr].ink
                n = max(0, -(-ink // lump) - in_flight)
                if self.per_step is not None:
                    n = min(n, self.per_step)
            for _ in range(n):
                self.counts.planned += 1
                intents.append(Intent(BITE, usr=usr))
        return intents


class Mempool:
    """Transactions in flight: sent with a keeper's gas bid through `latency`; a transaction
    delayed by d bars lands `d x bar_seconds` after it was sent, or, with `step` [s] (a step of
    the day), at a uniformly drawn step of the d-th bar after it: (d - 1) bars and 1 to
    bar/step steps later, drawn from `seed` in the order sent. A delay of exactly a bar is the
    flip's ttl on the day: every delayed counter-bid then arrived just too late."""

    def __init__(self, latency: Latency, bar_seconds: int, step: int | None = None, seed: int = 0):
        self.latency = latency
        self.bar_seconds = bar_seconds
        self.step = step
        self._draw = random.Random(seed)
        self._seq = 0
        # (lands at, order sent, keeper, intent)
        self.in_flight: list[tuple[int, int, Keeper, Intent]] = []

    def busy(self, keeper: Keeper) -> frozenset[tuple]:
        return frozenset(i.target for _, _, k, i in self.in_flight if k is keeper)

    def locked(self, keeper: Keeper) -> int:
        """DAI `keeper`'s transactions in flight lock [rad]."""
        return sum(i.cost for _, _, k, i in self.in_flight if k is keeper)

    def send(self, keeper: Keeper, intent: Intent, now: int) -> int | None:
        """Send `intent`; the time it lands, or None if its gas bid is dropped."""
        keeper.counts.sent += 1
        delay = self.latency.delay(keeper.gas.price(self.latency, now), now)
        if delay is None:
            keeper.counts.dropped += 1
            return None
        self._seq += 1
        if delay and self.step is not None:
            steps = self._draw.randint(1, self.bar_seconds // self.step)
            at = now + (delay - 1) * self.bar_seconds + steps * self.step
        else:
            at = now + delay * self.bar_seconds
        self.in_flight.append((at, self._seq, keeper, intent))
        return at

    def pending(self, keeper: Keeper) -> Counter[tuple]:
        """`keeper`'s transactions in flight, by target."""
        return Counter(i.target for _, _, k, i in self.in_flight if k is keeper)

    def due(self, now: int) -> list[tuple[Keeper, Intent]]:
        """Remove and return the transactions that land at or before `now`, in landing order."""
        ready = sorted(x for x in self.in_flight if x[0] <= now)
        self.in_flight = [x for x in self.in_flight if x[0] > now]
        return [(k, i) for _, _, k, i in ready]


def execute(
    keeper: Keeper, intent: Intent, flipper: Flipper, cat: Cat, now: int
) -> Bite | bool | None:
    """Run a landed transaction; counts it landed or failed. Returns the bite (for a bite that
    landed), True (a bid that landed) or None (refused)."""
    done: Bite | bool
    try:
        if intent.kind == BITE:
            done = cat.bite(intent.usr, now)
        elif intent.kind == TEND:
            flipper.tend(intent.id, keeper.name, intent.lot, intent.bid, now)
            done = True
        else:
            flipper.dent(intent.id, keeper.name, intent.lot, intent.bid, now)
            done = True
    except Refusal as exc:
        keeper.counts.failed += 1
        keeper.counts.failures[exc.reason] += 1
        return None
    keeper.counts.landed += 1
    return done
