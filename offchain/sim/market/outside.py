"""The world outside a run's chain, as the run's actors trade with it (an open market): each
type's outside venue (venue.py), the collateral the capital takers wait to resell (capital.py)
and the stablecoin's own price (stable_price.py), held by one lab actor, `outside`.

On the chain the outside is an account like the others, so a chain run and a model run record
the same transactions and reconcile to the wei:

- its stablecoin is what the vault owners drew: with an open market they draw to it (borrowers
  sell what they borrow into the market), as an internal balance; it pays the arbitrageur (who
  trades the pool with the ERC-20) through the stablecoin join (`StableJoin.exit` to the
  arbitrageur), and what the arbitrageur pays it stays its ERC-20;
- a capital taker's collateral (its free balance in the engine, from its takes) is resold once
  its resale delay has passed: it moves the collateral to the outside
  (`VaultEngine.transfer_collateral`), the venue prices the sale, and the outside moves back the
  stablecoin those dollars buy at the stablecoin's price (`transfer_stable`): `ResaleStep`;
- the arbitrageur undoes every trade it makes in the keepers' pool on the venue, after the same
  resale delay (it too turns collateral back into the stablecoin; F9: 6 to 8 hours in 2020; at
  once with a delay of 0, a flash swap) (`rebalance`, `due`): collateral bought in the pool is
  sold outside (`transfer` of the token to the outside, the stablecoin back through the join),
  collateral sold into the pool is bought back outside with what the pool paid (the stablecoin
  to the outside; the outside world brings the tokens, minted by governance).

Nothing here is delayed by gas: these are trades off the chain, recorded as transfers. What the
outside cannot pay (its stablecoin runs out) is not paid, and counted (`short`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from offchain.model.fixed_point import RAY, WAD
from offchain.sim.market.capital import Resales, stable_for
from offchain.sim.market.stable_price import StablePrice
from offchain.sim.market.venue import Venue
from offchain.sim.strategies.actions import Action
from offchain.sim.strategies.taker import PoolView, pool_out

__all__ = ["ROLE", "Outside", "ResaleStep"]

ROLE = "outside"


@dataclass
class Outside:
    """The outside world of a run (module docstring). `venues` by collateral type (a type
    without one trades at the market price, without impact); `fundamental(name)` the type's
    fundamental price of the bar running, `bar()` the bar, `token(name)` the type's token."""

    address: str
    governance: str
    venues: dict[str, Venue]
    stable_price: StablePrice
    resale_delay: int
    fundamental: Callable[[str], int]
    market_price: Callable[[str], int]
    bar: Callable[[], int]
    resales: Resales = field(default_factory=Resales)
    short: int = 0  # stablecoin [wad] the outside could not pay
    # the arbitrageur's trades waiting to be undone on the venue: (ready, arbitrageur, type,
    # sell?, tokens [token units], scale, stablecoin budget [wad])
    pending: list[tuple] = field(default_factory=list)
    sales: list[tuple] = field(default_factory=list)  # (bar, time, who, type, tokens, usd, stable)

    def sale_value(self, name: str, tokens: int, now: int) -> int:
        """What selling `tokens` [wad] of type `name` on the venue now brings, in stablecoin
        bought at its price [wad] (nothing recorded): how a capital taker values a lot."""
        return stable_for(self._usd(name, tokens, now, record=False), self.stable_price.at(now))

    def value_top(self, name: str, now: int) -> int:
        """An upper bound of `sale_value` per token [stablecoin per token, wad]: the venue's
        marginal price now (a sale walks down from it) over the stablecoin's price, rounded up,
        plus one."""
        venue = self.venues.get(name)
        price = (
            self.market_price(name)
            if venue is None
            else venue.price(self.bar(), now, self.fundamental(name))
        )
        return -(-price * WAD // self.stable_price.at(now)) + 1

    def target_price(self, name: str, now: int) -> int:
        """The pool price [stablecoin per token, wad] the arbitrageur trades towards: the market
        price in dollars over the stablecoin's price."""
        return self.market_price(name) * WAD // self.stable_price.at(now)

    def _usd(self, name: str, tokens: int, now: int, record: bool) -> int:
        venue = self.venues.get(name)
        if venue is None:
            price = self.market_price(name)
            return tokens * price // WAD
        if record:
            return venue.trade(self.bar(), now, self.fundamental(name), tokens)
        return venue.quote(self.bar(), now, self.fundamental(name), tokens)

    def sell(self, who: str, name: str, tokens: int, now: int, available: int) -> int:
        """`who` sells `tokens` [wad] of `name` on the venue now: the stablecoin [wad] it gets,
        at most `available` (the outside's); the sale is recorded."""
        usd = self._usd(name, tokens, now, record=True)
        stable = stable_for(usd, self.stable_price.at(now))
        paid = min(stable, available)
        self.short += stable - paid
        self.sales.append((self.bar(), now, who, name, tokens, usd, paid))
        return paid

    def buy(self, who: str, name: str, tokens: int, now: int) -> int:
        """`who` buys `tokens` [wad] of `name` on the venue now: the stablecoin [wad] it pays
        (rounded up); the purchase is recorded."""
        usd = -self._usd(name, -tokens, now, record=True)
        price = self.stable_price.at(now)
        stable = -(-usd * WAD // price)
        self.sales.append((self.bar(), now, who, name, -tokens, -usd, -stable))
        return stable

    def rebalance(
        self, world: Any, name: str, action: Action, pool: PoolView, available: int
    ) -> tuple[list[Action], int]:
        """The arbitrageur's pool trade `action` (keepers.arbitrage_action, priced against
        `pool`, the reserves it read) undone on the venue once the resale delay has passed (at
        once with a delay of 0, a flash swap): now, or queued for `due` (module docstring). The
        actions and the outside's stablecoin they pay out (at most `available`)."""
        sells_collateral, amount = action.args[0], action.args[1]
        now = world.next_block_time()
        if not sells_collateral:  # bought tokens in the pool: sell them outside
            tokens = pool_out(amount, pool.reserve_stable, pool.reserve_collateral, pool.fee)
            order = (name, True, tokens, pool.scale, 0)
        else:  # sold tokens into the pool: buy them back outside with what the pool paid
            received = pool_out(amount, pool.reserve_collateral, pool.reserve_stable, pool.fee)
            order = (name, False, amount, pool.scale, received)
        if self.resale_delay:
            self.pending.append((now + self.resale_delay, action.sender, *order))
            return [], 0
        return self._undo(world, action.sender, *order, now=now, available=available)

    def due(self, world: Any, arb: str, available: int) -> tuple[list[Action], int]:
        """The arbitrageur's undoings whose delay has passed: their actions and what the
        outside pays out."""
        now = world.next_block_time()
        out: list[Action] = []
        paid = 0
        while self.pending and self.pending[0][0] <= now:
            _, who, *order = self.pending.pop(0)
            more, p = self._undo(world, who, *order, now=now, available=available - paid)
            out += more
            paid += p
        return out, paid

    def _undo(
        self,
        world: Any,
        arb: str,
        name: str,
        sell: bool,
        tokens: int,
        scale: int,
        budget: int,
        *,
        now: int,
        available: int,
    ) -> tuple[list[Action], int]:
        """Sell `tokens` [token units] of `name` outside (`sell`), or buy them back with at most
        `budget` [wad] of stablecoin."""
        t = world.d.types[name]
        if tokens == 0:
            return [], 0
        if sell:
            stable = self.sell(arb, name, tokens * scale, now, available)
            out = [Action(ROLE, arb, t.token, "transfer", (self.address, tokens), (("arb",),))]
            if stable:
                out.append(
                    Action(
                        ROLE,
                        self.address,
                        world.d.stable_join,
                        "exit",
                        (arb, stable),
                        (("arb",),),
                    )
                )
            return out, stable
        cost = self.quote_buy(name, tokens * scale, now)
        while tokens and cost > budget:
            tokens = tokens * budget // cost
            cost = self.quote_buy(name, tokens * scale, now)
        if tokens == 0:
            return [], 0
        cost = self.buy(arb, name, tokens * scale, now)
        return [
            Action(ROLE, arb, world.d.stablecoin, "transfer", (self.address, cost), (("arb",),)),
            Action(ROLE, self.governance, t.token, "mint", (arb, tokens), (("arb",),)),
        ], 0

    def quote_buy(self, name: str, tokens: int, now: int) -> int:
        """The stablecoin [wad] buying `tokens` [wad] of `name` on the venue would cost now
        (rounded up; nothing recorded)."""
        usd = -self._usd(name, -tokens, now, record=False)
        return -(-usd * WAD // self.stable_price.at(now))


@dataclass
class ResaleStep:
    """Resells each capital taker's collateral on the venue once its delay has passed (module
    docstring): collateral that appeared in a taker's free balance since the last round is
    queued with the delay; what is due is moved to the outside and paid for."""

    outside: Outside
    takers: Sequence[str]
    role: str = ROLE

    def decide(self, world: Any, names: Sequence[str]) -> list[Action]:
        o, d = self.outside, world.d
        now = world.next_block_time()
        reads: list[tuple[str, str, tuple]] = [
            (d.engine, "collateral", (d.types[n].type_id, who))
            for who in self.takers
            for n in names
        ]
        reads.append((d.engine, "stable", (o.address,)))
        values = world.read(reads)
        available = values[-1] // RAY
        i = 0
        for who in self.takers:
            for name in names:
                balance = values[i]
                i += 1
                new = balance - o.resales.held(who, name)
                if new > 0:
                    o.resales.add(who, name, new, now + o.resale_delay)
        out: list[Action] = []
        for (who, name), tokens in o.resales.due(now).items():
            t = d.types[name]
            stable = o.sell(who, name, tokens, now, available)
            available -= stable
            out.append(
                Action(
                    ROLE,
                    who,
                    d.engine,
                    "transfer_collateral",
                    (t.type_id, who, o.address, tokens),
                    (("resale", who, name),),
                )
            )
            if stable:
                out.append(
                    Action(
                        ROLE,
                        o.address,
                        d.engine,
                        "transfer_stable",
                        (o.address, who, stable * RAY),
                        (("resale", who, name),),
                    )
                )
        return out
