"""Keepers' capital that moves: stablecoin spent on collateral comes back when that collateral is
sold on the outside venue (venue.py), after a resale delay, at the venue's price then, bought
back as stablecoin at the stablecoin's own price then (stable_price.py). One room for every
caller: Backstop's capital takers and arbitrageur (sim/run/), and the bidders of another
protocol's auctions (offchain/history/).

`Resales` is the queue: collateral a keeper holds, each lot with the time it may be sold (the
time it was bought plus the delay). `due(now)` hands out, per owner, what may be sold by then, in
the order it was bought; a delay of 0 is a flash swap: sold in the same round.

`stable_for(usd, price)` is the stablecoin a keeper gets for `usd` at the stablecoin's price
`price` [USD per stablecoin, wad]: usd / price, rounded down (a premium above 1 makes buying the
stablecoin dear: DAI traded at 1.04 to 1.22 on 2020-03-12).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from offchain.model.fixed_point import WAD

__all__ = ["Lot", "Resales", "stable_for", "usd_for"]


@dataclass(frozen=True)
class Lot:
    owner: str
    name: str  # the collateral type (or asset) held
    tokens: int  # [wad]
    ready: int  # the time it may be sold [s]


@dataclass
class Resales:
    """Collateral waiting for its resale (module docstring)."""

    queue: deque[Lot] = field(default_factory=deque)
    # (owner, name) -> tokens [wad] waiting
    waiting: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, owner: str, name: str, tokens: int, ready: int) -> None:
        """`owner` holds `tokens` [wad] of `name`, to be sold at `ready` or later."""
        if tokens <= 0:
            return
        if self.queue and self.queue[-1].ready > ready:
            # delays differ between owners: keep the queue ordered by readiness
            items = sorted([*self.queue, Lot(owner, name, tokens, ready)], key=lambda x: x.ready)
            self.queue = deque(items)
        else:
            self.queue.append(Lot(owner, name, tokens, ready))
        key = (owner, name)
        self.waiting[key] = self.waiting.get(key, 0) + tokens

    def due(self, now: int) -> dict[tuple[str, str], int]:
        """Every lot ready at `now`, taken off the queue: (owner, name) -> tokens [wad], in the
        order they became ready."""
        out: dict[tuple[str, str], int] = {}
        while self.queue and self.queue[0].ready <= now:
            lot = self.queue.popleft()
            key = (lot.owner, lot.name)
            out[key] = out.get(key, 0) + lot.tokens
            left = self.waiting[key] - lot.tokens
            if left:
                self.waiting[key] = left
            else:
                del self.waiting[key]
        return out

    def held(self, owner: str, name: str) -> int:
        """Tokens [wad] of `name` that `owner` holds waiting for resale."""
        return self.waiting.get((owner, name), 0)


def stable_for(usd: int, price: int) -> int:
    """Stablecoin [wad] that `usd` [wad] buys at `price` [USD per stablecoin, wad], rounded
    down."""
    return usd * WAD // price if usd > 0 else 0


def usd_for(stable: int, price: int) -> int:
    """USD [wad] that `stable` [wad] is worth at `price`, rounded down."""
    return stable * price // WAD
