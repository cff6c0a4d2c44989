"""The outside venue on the chain, where an open market's flash takes may sell (issue 73): one
OutsideVenue (contracts/OutsideVenue.vy) per collateral type with a venue, whose market is the
run's `outside` account, kept by the market's driver so that the venue on chain and the lab's
`Venue` (venue.py) are one market room.

- **The quote a block sells at.** A flash take on the venue route (FlashTaker.take's fifth
  argument, strategies/taker.py) sells inside its own transaction, so its block must carry the
  venue's curve: `open` puts a `sync` first in every block that holds one (the recorder mines
  everything queued between two reads as one block, run/recorder.py), with the lab venue's
  effective flow at the block's time, the bar's coefficient and depth (`Venue.coefficients`)
  and the fundamental in stablecoin (the fundamental in dollars x WAD // the stablecoin's
  price then: the unit the takers' valuation and the venue's payment share). The flash taker
  plans with the same numbers (`view`, at the next block's time), walking on from its earlier
  takes of the round, as the venue walks on from the block's earlier sales.
- **Its memory.** `close` records the block's sales (the venue's `Sold` events) in the lab's
  `Venue` at the block's time (`trade`), so every later quote (the capital taker's resales, the
  arbitrageur, the next bar's market price, the end-of-run mark) sees them; each is a row of
  the outside's `sales` too.
- **Its stablecoin.** The venue pays from stablecoin it holds: the outside's, what the
  borrowers drew (outside.py). Before a block's sales the outside tops the venue's till up to
  what they could be paid at most (every take's auction's whole lot, the most a take can buy
  (a take that would leave less than `min_auction` takes the lot), walked at once from the
  synced flow, plus a rounding's slack per take: `StableJoin.exit` of its internal balance to
  the venue); what they are not paid stays in the till for the next block, the collateral the
  venue bought stays in it (the outside's). The flash taker plans within what the venue can
  pay (the till and the outside's stablecoin: `VenueView.cash`), so where the outside runs
  short its takes go to the pool or wait. A sale the till cannot pay all the same (a take
  planned in an earlier bar, landing late, or paid more than planned) reverts, and the take
  with it: a reverted transaction of the flash keeper's, counted (`unpaid`).

The sync and the deposit are the world's transactions, like the feeder's and the arbitrageur's:
they go straight to the recorder, outside the keepers' gas, gas budgets and block space
(run/sending.py). On a chain and in the model they are the same transactions, so a run
reconciles to the wei.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from offchain.backends import TxOutcome
from offchain.model.fixed_point import RAY, WAD
from offchain.model.venue_curve import walk
from offchain.sim.market.outside import ROLE, Outside
from offchain.sim.strategies.taker import VenueView

__all__ = ["ROUTES", "FlashVenues", "record_sale", "till_bound", "venue_curve"]

# a FlashTaker's routes, as counted (`routes`): a take on the venue, or into the pool
ROUTES = ("venue", "pool")
# the contract's bound on a sale [wad] (OutsideVenue.vy, MAX_FLOW): a till is never sized past it
MAX_SALE = 2**100 - 1
# why a sale the venue's till cannot pay reverts: its payment's transfer (the stablecoin's ERC-20)
UNPAID = "erc20: transfer amount exceeds balance"


def venue_curve(outside: Outside, name: str, time: int) -> tuple[int, int, int, int]:
    """(flow, num, root_v, fundamental) of type `name`'s venue for a block at `time`: the lab
    venue's effective flow then, the bar's coefficient and depth, the fundamental in stablecoin
    (what `sync` is given; a devnet's market driver syncs its venues with the same:
    offchain/live/venue.py)."""
    venue = outside.venues[name]
    num, root_v = venue.coefficients(outside.bar())
    fundamental = outside.fundamental(name) * WAD // outside.stable_price.at(time)
    return venue.effective(time), num, root_v, fundamental


def till_bound(flow: int, tokens: int, num: int, root_v: int, fundamental: int, takes: int) -> int:
    """The most sales of `tokens` [wad] in all, in `takes` parts, from `flow` can be paid [wad]:
    the whole walked at once, plus a rounding's slack per part (a walk in parts is paid no more
    but for a rounding per part)."""
    tokens = min(tokens, MAX_SALE)
    return walk(flow, tokens, num, root_v, fundamental)[0] + takes * (fundamental // WAD + 2)


def record_sale(
    outside: Outside, name: str, bar: int, time: int, trader: str, tokens: int, paid: int
) -> None:
    """A venue's sale on chain (its `Sold` event: `tokens` [wad] sold for `paid` [wad] of
    stablecoin, at `time`) recorded in the lab's venue and the outside's ledger."""
    usd = outside.venues[name].trade(bar, time, outside.fundamental(name), tokens)
    outside.sales.append((bar, time, trader, name, tokens, usd, paid))


@dataclass
class FlashVenues:
    """The run's OutsideVenues (module docstring): `addresses` by collateral type, `takers` the
    flash takers' contracts (address -> type), `auctions` and `scales` each type's auction and
    wad per token unit; `read(calls)` reads the chain as of its last block (without mining
    what is queued), `next_block_time()` the time of the block being filled."""

    outside: Outside
    addresses: dict[str, str]
    takers: dict[str, str]
    auctions: dict[str, str]
    scales: dict[str, int]
    engine: str
    stable_join: str
    read: Callable[[list[tuple[str, str, tuple]]], list[Any]]
    next_block_time: Callable[[], int]
    # stablecoin [wad] each venue holds for sales (its till)
    till: dict[str, int] = field(default_factory=dict)
    deposited: int = 0  # stablecoin [wad] the outside put in the venues, in all
    syncs: int = 0
    # flash takes mined, by route (ROUTES); those of the venue route that reverted, and of them
    # those the till could not pay
    routes: Counter = field(default_factory=Counter)
    reverted: int = 0
    unpaid: int = 0
    _by_address: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_address = {address: name for name, address in self.addresses.items()}

    def read_stable(self) -> int:
        """The outside's internal stablecoin [wad] now."""
        return self.read([(self.engine, "stable", (self.outside.address,))])[0] // RAY

    def view(self, name: str) -> VenueView:
        """Type `name`'s venue as the next block will be synced with, and what it can pay: its
        till and the outside's stablecoin (module docstring)."""
        cash = self.till.get(name, 0) + self.read_stable()
        return VenueView(*self._curve(name, self.next_block_time()), cash)

    def _curve(self, name: str, time: int) -> tuple[int, int, int, int]:
        """(flow, num, root_v, fundamental) of type `name`'s venue for a block at `time`: the
        lab venue's effective flow then, the bar's coefficient and depth, the fundamental in
        stablecoin."""
        return venue_curve(self.outside, name, time)

    def quoter(self, name: str) -> Callable[[], VenueView | None]:
        """What the flash taker of type `name` plans with (TakerParams.venue); None for a type
        without a venue on chain."""
        if name not in self.addresses:
            return lambda: None
        return lambda: self.view(name)

    def _venue_takes(self, block: list[tuple]) -> dict[str, list[tuple]]:
        """The block's flash takes on the venue route, by type, in order."""
        out: dict[str, list[tuple]] = {}
        for _, _, contract, function, args, *_ in block:
            name = self.takers.get(contract)
            if name is not None and function == "take" and len(args) == 5 and args[4]:
                out.setdefault(name, []).append(args)
        return out

    def open(self, block: list[tuple], time: int) -> list[tuple]:
        """The transactions that open `block` (the recorder's queued entries, mined at `time`)
        where it holds flash takes on the venue route: each venue's sync, then the outside's
        deposits (module docstring). Entries as the recorder queues them."""
        wanted = self._venue_takes(block)
        if not wanted:
            return []
        o = self.outside
        syncs: list[tuple] = []
        deposits: list[tuple] = []
        available: int | None = None
        for name, takes in wanted.items():
            address = self.addresses[name]
            flow, num, root_v, fundamental = self._curve(name, time)
            syncs.append(
                (ROLE, o.address, address, "sync", (flow, num, root_v, fundamental), None, 0)
            )
            self.syncs += 1
            # the most the takes could be paid: every take's auction's whole lot, walked at
            # once (till_bound)
            scale = self.scales[name]
            auction = self.auctions[name]
            lots = [a[2] for a in self.read([(auction, "auctions", (t[0],)) for t in takes])]
            tokens = sum(lot // scale for lot in lots) * scale
            bound = till_bound(flow, tokens, num, root_v, fundamental, len(takes))
            need = bound - self.till.get(name, 0)
            if need <= 0:
                continue
            if available is None:
                available = self.read_stable()
            deposit = min(need, available)
            available -= deposit
            if deposit:
                self.till[name] = self.till.get(name, 0) + deposit
                self.deposited += deposit
                deposits.append(
                    (ROLE, o.address, self.stable_join, "exit", (address, deposit), None, 0)
                )
        return syncs + deposits

    def close(self, block: list[tuple], outcomes: list[TxOutcome], time: int) -> None:
        """The mined `block` (its entries and outcomes, at `time`): its venue sales recorded in
        the lab's venues and the outside's ledger; its flash takes counted by route."""
        o = self.outside
        bar = o.bar()
        for (_, _, contract, function, args, *_), outcome in zip(block, outcomes):
            if contract == self.stable_join and not outcome.ok and args[0] in self._by_address:
                # a deposit that did not go through (none should): not in the till
                name = self._by_address[args[0]]
                self.till[name] -= args[1]
                self.deposited -= args[1]
            if contract in self.takers and function == "take":
                on_venue = len(args) == 5 and bool(args[4])
                if outcome.ok:
                    self.routes[ROUTES[0] if on_venue else ROUTES[1]] += 1
                elif on_venue:
                    self.reverted += 1
                    self.unpaid += outcome.reason == UNPAID
            if not outcome.ok:
                continue
            for e in outcome.events:
                name = self._by_address.get(e.address)
                if name is None or e.name != "Sold":
                    continue
                tokens = e.args["amount_in"] * self.scales[name]
                paid = e.args["amount_out"]
                record_sale(o, name, bar, time, e.args["trader"], tokens, paid)
                self.till[name] -= paid

    def facts(self) -> dict[str, Any]:
        """The route's lines of the run's facts (run/snapshot.py)."""
        taken = sum(self.routes.values())
        return {
            "flash_takes_venue": self.routes[ROUTES[0]],
            "flash_takes_pool": self.routes[ROUTES[1]],
            "flash_venue_share": self.routes[ROUTES[0]] / taken if taken else 0.0,
            "flash_venue_reverted": self.reverted,
            "flash_venue_unpaid": self.unpaid,
            "venue_syncs": self.syncs,
            "venue_deposited": self.deposited / WAD,
        }
