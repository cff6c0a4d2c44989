"""Models of another protocol's keepers (MakerDAO's, 2020 and 2021), not Backstop's: how their
transactions reached the chain through the day's gas market. Shared by every mechanism family's
keepers (keepers/flip.py, keepers/clip.py).

Each step a keeper plans (`plan`: what it wants to send, from what it sees), the `Mempool` sends
it with the keeper's gas bid and the lab's latency model (`offchain.sim.strategies.actions.
Latency`: at or above the step's 60th gas percentile the transaction lands in the step, at or
above the 30th one bar later, below it is dropped), and the day runner executes it when it
lands, against the state then: a transaction that lands late against a state that moved on
fails as dss would (its revert text is counted).

Block space (`Mempool.capacity`): where a day gives its block gas limit, the gas of what lands
in one step is bounded by the blocks of that step times the limit times the share of it the
day's keepers could have (the rest is the day's other demand). A transaction over the bound
waits for the next step (counted `deferred`, in the order sent). None: no bound (the 2020
model's first figures).

Gas bids: `FixedGas` (a set price whatever the market does, as the reference auction-keeper bid
by default in 2020), `PercentileGas` (the step's 30th or 60th percentile, as the latency model
knows them) or `NodeGas` (a node's default price, from the bar before).

Counts per keeper (`Counts`): planned = transactions decided; capital_limited (of those);
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

from offchain.sim.strategies.actions import Latency

__all__ = [
    "GWEI",
    "Counts",
    "FixedGas",
    "GasPolicy",
    "Intent",
    "Keeper",
    "Mempool",
    "NodeGas",
    "PercentileGas",
    "gas_policy",
]

GWEI = 10**9


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
class NodeGas:
    """A node's default gas price, from the bar before `now` (a node prices a transaction from its
    last blocks, so it trails a rising market by about a bar): its `percentile` (30 or 60)."""

    percentile: int = 30
    bar: int = 600

    def price(self, latency: Latency, now: int) -> int:
        p30, p60 = latency.percentiles(now - self.bar)
        return p30 if self.percentile == 30 else p60


GAS_SETTINGS = ("node30", "node60", "p30", "p60")


def gas_policy(kind: str) -> NodeGas | PercentileGas:
    """A gas setting's policy: "node30", "node60" (NodeGas), "p30" or "p60" (the bar's own
    percentile: a keeper that escalates to the market at once, PercentileGas)."""
    if kind in ("node30", "node60"):
        return NodeGas(int(kind[4:]))
    if kind in ("p30", "p60"):
        return PercentileGas(int(kind[1:]))
    raise ValueError(f"unknown gas setting {kind!r}")


@dataclass(frozen=True)
class Intent:
    """One transaction a keeper wants: its `kind` (a family's: "tend", "dent", "bite"; "bark",
    "take", "redo"), the auction `id` or the vault `usr` it targets, `lot` (a lot or an amount
    to buy [wad]) and `bid` (a bid [rad] or a take's max price [ray]), `cost` the DAI it locks
    while in flight [rad], `gas` the gas it uses [units] (for the block bound), `flash` a take
    paid by selling what it buys in the same transaction."""

    kind: str
    id: int = 0
    lot: int = 0
    bid: int = 0
    usr: str = ""
    cost: int = 0
    gas: int = 0
    flash: bool = False

    @property
    def target(self) -> tuple:
        return (self.kind, self.usr) if self.usr else ("auction", self.id)


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
    deferred: int = 0  # times a transaction waited a step for block space


class Keeper(ABC):
    """A named actor with a gas policy, DAI capital [rad] and counts."""

    def __init__(self, name: str, gas: GasPolicy, capital: int = 0):
        self.name = name
        self.gas = gas
        self.capital = capital
        self.counts = Counts()
        self.tx_gas = 0  # gas units of each of its transactions (a family's keepers may differ)

    @abstractmethod
    def plan(self, view) -> list[Intent]:
        """What the keeper sends this step, from what it sees (each kind of keeper its own)."""

    def _afford(self, intent: Intent, available: int) -> bool:
        """Count a planned intent; False (and counted) when `available` cannot pay its cost."""
        self.counts.planned += 1
        if intent.cost > available:
            self.counts.capital_limited += 1
            self.counts.capital_limited_auctions.add(intent.id)
            return False
        return True


class Mempool:
    """Transactions in flight: sent with a keeper's gas bid through `latency`; a transaction
    delayed by d bars lands `d x bar_seconds` after it was sent, or, with `step` [s] (a step of
    the day), at a uniformly drawn step of the d-th bar after it: (d - 1) bars and 1 to
    bar/step steps later, drawn from `seed` in the order sent. A delay of exactly a bar is the
    2020 flip's ttl: every delayed counter-bid then arrived just too late.

    `capacity` [gas per step]: the block bound of the module docstring (None: none); what lands
    over it in a step lands `tick` seconds later (the next step), in the order sent."""

    def __init__(
        self,
        latency: Latency,
        bar_seconds: int,
        step: int | None = None,
        seed: int = 0,
        capacity: int | None = None,
        tick: int | None = None,
    ):
        self.latency = latency
        self.bar_seconds = bar_seconds
        self.step = step
        self._draw = random.Random(seed)
        self._seq = 0
        self.capacity = capacity
        self.tick = tick
        # (lands at, order sent, keeper, intent)
        self.in_flight: list[tuple[int, int, Keeper, Intent]] = []
        self._used: tuple[int, int] = (-1, 0)  # (step, gas landed in it)

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
        """Remove and return the transactions that land at or before `now`, in landing order
        (within the block bound, if any: the rest wait for the next step)."""
        ready = sorted(x for x in self.in_flight if x[0] <= now)
        self.in_flight = [x for x in self.in_flight if x[0] > now]
        if self.capacity is None:
            return [(k, i) for _, _, k, i in ready]
        used = self._used[1] if self._used[0] == now else 0
        out = []
        for _, seq, k, i in ready:
            if used + i.gas > self.capacity:
                k.counts.deferred += 1
                self.in_flight.append((now + (self.tick or self.bar_seconds), seq, k, i))
                continue
            used += i.gas
            out.append((k, i))
        self._used = (now, used)
        return out
