"""A model of MakerDAO's 2020 Flipper and Cat, not a twin of any Backstop contract: the keepers of
the day (who bit vaults and who bid in flip auctions). Their transactions reach the chain through
the day's gas market as keepers/transactions.py says; the day runner (replay/flip.py) executes
each when it lands, against the state then: a bid that lands a bar late, after the auction's
`tic` passed, fails as dss would ("Flipper/already-finished-tic").

Keepers:
- `MarginBidder`: in the tend phase bids min(tab, lot x price x (1 - margin)) if that is a valid
  raise (above the bid, at least beg times it, or exactly tab); in the dent phase asks for the lot
  worth tab at price x (1 - margin) (rounded up) if that is a valid cut (at most 1/beg of the
  lot). `price` is the market price the keeper sees in the step, in DAI (the day's close, or the
  outside venue's price with the keepers' own sales' impact over DAI's price: outside.py). Its
  DAI is its capital: a bid's DAI is locked while the bid stands (reserved while in flight),
  returned when outbid; collateral won is resold after the resale delay on the outside market,
  and the DAI can bid again. A bid its free DAI cannot pay is cut to what it can (if still a
  valid raise) or not sent: either way counted `capital_limited`.
- `LowBaller`: the day's zero bidder: MIN_BID on every auction with no bid, at its gas bid.
- `Biter`: calls the Cat's bite on every vault unsafe at the oracle's price, one bite per vault
  per step (a vault above lump needs several).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from offchain.history.keepers.transactions import GasPolicy, Intent, Keeper
from offchain.history.mechanisms.cat import Bite, Cat
from offchain.history.mechanisms.flip import MIN_BID, ONE, Auction, Flipper
from offchain.history.mechanisms.vat import Refusal
from offchain.model.fixed_point import WAD, WAD_TO_RAY

__all__ = ["BITE", "DENT", "TEND", "Biter", "LowBaller", "MarginBidder", "View", "execute"]

TEND, DENT, BITE = "tend", "dent", "bite"


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
                intents.append(Intent(TEND, id, a.lot, want, cost=want, gas=self.tx_gas))
                available -= want
            else:
                # the lot worth tab at the margin: tab [rad] x 1e9 / (price x (1 - margin))
                # [1e36] -> wad, rounded up (the keeper never asks for less than that value)
                value = view.price * (WAD - self.margin)
                lot = -(-a.tab * WAD_TO_RAY // value)
                if not (lot < a.lot and beg * lot <= a.lot * ONE):
                    continue
                intent = Intent(DENT, id, lot, a.tab, cost=a.tab, gas=self.tx_gas)
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
            intent = Intent(TEND, id, a.lot, MIN_BID, cost=MIN_BID, gas=self.tx_gas)
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
                intents.append(Intent(BITE, usr=usr, gas=self.tx_gas))
        return intents


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
