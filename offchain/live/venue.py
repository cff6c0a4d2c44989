"""The devnet's outside venue: the lab's open market on the devnet (issue 74).

The lab (`ape run simulate`) trades an open market's collateral on an outside venue: the lab's
`Venue` (sim/market/venue.py: the square-root law's curve, its memory and decay, the day's depth
per bar), and on the chain an `OutsideVenue` per type (contracts/OutsideVenue.vy) where a flash
take may sell inside its own transaction (sim/market/flash_venue.py). A devnet session
(`ape run market`) plays the same market with the lab's own objects and functions:

- **One venue per type on the devnet.** `ensure_venue` deploys an `OutsideVenue` whose market is
  the lab's `outside` account (the same address, `actor_address("outside")`), and writes where it
  is beside the deployment record (`venues_path`: `<record>.venues.json`), where the taker bot
  finds it (offchain/live/deploy.py, `ensure_flash_takers`, binds its FlashTaker to it). A record
  without one (a devnet deployed before this) gets one at the session's start.
- **The lab's venue, configured as the lab configures it for the day** (`lab_venue`: the
  scenario's `market.venue` and depths, `Venue(m.venue, list(m.depths))` as run/driver.py builds
  it), held in the lab's `Outside` (sim/market/outside.py) with the scenario's stablecoin price.
- **Each bar** (`DevnetVenue.open_bar`): the bar's market price is the lab's, the venue's price at
  the bar's time (`Venue.price`); the venue on chain is synced as the bar's first transaction with
  the lab's numbers (`flash_venue.venue_curve`: the effective flow at the bar's time, the bar's
  coefficient and depth, the fundamental in stablecoin). On a paced Anvil session every block of
  a bar carries the bar's time (market.py), so the one sync covers every block of the bar, and
  the venue walks on from the bar's earlier sales (its `sold`), as the lab's walks on from a
  block's. Its till is topped up to what every auction the bar can hold could be paid at most
  (`flash_venue.till_bound`: the running auctions' lots and the collateral of the vaults unsafe
  at the bar's price, walked at once).
- **Its memory** (`DevnetVenue.close_bar`): the bar's sales on chain (the venue's `Sold` events)
  are recorded in the lab's venue at the bar's time (`flash_venue.record_sale`), so the next
  bar's market price, its sync and the end-of-run mark see them.
- **The mark** (`DevnetVenue.mark`): the open book marked on a copy of the venue over the
  scenario's `mark_bars` bars after the last, the lab's `VenueMark`, paid only from what the
  outside holds at the head (its stablecoin and the venue's till, `mark_cash`), as the lab's
  mark is paid.
- **The session kept beside the record** (`MarketSession`, `<record>.market.json`: `write_session`,
  `read_session`): what of the lab's venue is not on the chain (its settings, the bars' depths,
  times and fundamentals, the stablecoin's price, `mark_bars`), written as the session starts;
  the last session's only, with no venue where it played none (and why). `ape run reconcile`
  (offchain/live/reconcile.py) rebuilds the venue from it and the chain's own events
  (`DevnetVenue.rebuild`: each `Synced` begins the next bar, each `Sold` is recorded at it, as
  the session did) and marks the open book on it, so the reconciled headline is the session's;
  a sync that is not the lab venue's quote is a difference.

Times in the lab's venue are the scenario's (a bar's `time`), as in the lab: the decay and the
stablecoin's price read them; the chain's own clock only checks the venue's sync.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from offchain.backends import ChainBackend
from offchain.model.fixed_point import RAY, WAD
from offchain.model.state import Event
from offchain.sim.market.capital import usd_for
from offchain.sim.market.flash_venue import record_sale, till_bound, venue_curve
from offchain.sim.market.outside import Outside
from offchain.sim.market.stable_price import StablePrice
from offchain.sim.market.venue import Depth, Venue, VenueParams
from offchain.sim.results.insolvency import MarkCash, MarkVenue, VenueMark
from offchain.sim.scenario.population import actor_address
from offchain.sim.scenario.types import Scenario
from offchain.sim.strategies.taker import VenueView
from offchain.system.deployment import Deployment, TypeDeployment

__all__ = [
    "OUTSIDE",
    "DevnetVenue",
    "MarketSession",
    "SessionError",
    "lab_venue",
    "read_session",
    "read_venues",
    "session_path",
    "venue_view",
    "venues_path",
    "write_session",
]

# the venue's market: the lab's outside account (sim/run/setup.py's Actors)
OUTSIDE = actor_address("outside")


def venues_path(record_path: Path) -> Path:
    """Where a deployment record's venues are kept: `<record>.venues.json` beside it."""
    return record_path.with_name(record_path.stem + ".venues.json")


def read_venues(record_path: Path | None, chain_id: int, identity: str) -> dict[str, str]:
    """The venues (type -> address) kept beside the record at `record_path` for the deployment
    `identity` on chain `chain_id`; {} where there is no such file, or it is of another
    deployment, or it does not read."""
    if record_path is None:
        return {}
    try:
        data = json.loads(venues_path(record_path).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("deployment") != [chain_id, identity]:
        return {}
    venues = data.get("venues")
    return {str(k): str(v) for k, v in venues.items()} if isinstance(venues, dict) else {}


def _write_venues(record_path: Path, chain_id: int, identity: str, venues: dict[str, str]) -> None:
    path = venues_path(record_path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"deployment": [chain_id, identity], "venues": venues}, indent=1))
    os.replace(tmp, path)


def ensure_venue(
    chain: ChainBackend,
    t: TypeDeployment,
    stablecoin: str,
    record_path: Path,
    chain_id: int,
    identity: str,
) -> tuple[str, bool]:
    """(type `t`'s OutsideVenue on the devnet, deployed now?): the one kept beside the record if
    it has code there and its market is the outside, else a new one (deployed from the outside,
    which the devnet impersonates), kept."""
    name = t.config.name
    venues = read_venues(record_path, chain_id, identity)
    kept = venues.get(name)
    if kept and chain.rpc("eth_getCode", [kept, "latest"]) not in ("0x", "0x0", None):
        if chain.view(kept, "market").lower() == OUTSIDE.lower():
            chain.names[kept] = "OutsideVenue"
            return kept, False
    chain.fund([OUTSIDE], 10**24)
    address = chain.deploy("OutsideVenue", OUTSIDE, t.token, stablecoin, t.config.token_decimals)
    chain.names[address] = "OutsideVenue"
    venues[name] = address
    _write_venues(record_path, chain_id, identity, venues)
    return address, True


def lab_venue(scenario: Scenario) -> Venue | None:
    """The first type's outside venue as the lab builds it for `scenario` (run/driver.py); None
    for a closed market (a user's CSV without the volume to size a venue)."""
    m = scenario.market
    if m.outside != "open" or m.venue is None:
        return None
    return Venue(m.venue, list(m.depths))


@dataclass(frozen=True)
class MarketSession:
    """A market session as `<record>.market.json` keeps it (module docstring): type `name`'s
    `venue` (its address; None where the session played none, `why` says why) from the session's
    `first_block`, and what of the lab's venue is not on the chain: `scenario` (its name), the
    venue's `params` and per-bar `depths`, the bars' scenario `times` and `fundamentals` [wad]
    (the devnet's), the stablecoin's price, `resale_delay` and `mark_bars`."""

    name: str
    venue: str | None
    first_block: int
    scenario: str
    params: VenueParams | None = None
    depths: tuple[Depth, ...] = ()
    times: tuple[int, ...] = ()
    fundamentals: tuple[int, ...] = ()
    stable_price: StablePrice = StablePrice.constant(WAD)
    resale_delay: int = 0
    mark_bars: int = 1
    why: str = ""

    @classmethod
    def of(
        cls,
        scenario: Scenario,
        name: str,
        venue: str | None,
        first_block: int,
        times: list[int],
        fundamentals: list[int],
        why: str = "",
    ) -> MarketSession:
        """The session of `scenario` on the devnet (its venue, if any, the lab's: `lab_venue`)."""
        m = scenario.market
        lab = lab_venue(scenario) if venue is not None else None
        return cls(
            name,
            venue if lab is not None else None,
            first_block,
            scenario.name,
            lab.params if lab is not None else None,
            tuple(lab.depths) if lab is not None else (),
            tuple(times),
            tuple(fundamentals),
            m.stable_price,
            m.resale_delay,
            m.mark_bars,
            why if lab is None or venue is None else "",
        )

    def lab(self) -> Venue:
        """A new lab venue of the session's (nothing traded yet)."""
        assert self.params is not None
        return Venue(self.params, list(self.depths))

    def to_json(self) -> dict[str, Any]:
        p = self.params
        return {
            "type": self.name,
            "venue": self.venue,
            "first_block": self.first_block,
            "scenario": self.scenario,
            "why": self.why,
            "params": [p.coefficient, p.share, p.decay, p.window] if p is not None else None,
            "depths": [[d.volume, d.sigma] for d in self.depths],
            "times": list(self.times),
            "fundamentals": list(self.fundamentals),
            "stable_price": [list(x) for x in self.stable_price.points],
            "resale_delay": self.resale_delay,
            "mark_bars": self.mark_bars,
        }

    @classmethod
    def from_json(cls, data: Any) -> MarketSession:
        """The session `to_json` wrote; ValueError (or TypeError, KeyError) where it is not one."""

        def ints(xs: Any) -> tuple[int, ...]:
            if not isinstance(xs, list) or not all(type(x) is int for x in xs):
                raise ValueError("not a list of integers")
            return tuple(xs)

        params = data["params"]
        venue = data["venue"]
        session = cls(
            str(data["type"]),
            str(venue) if venue is not None else None,
            int(data["first_block"]),
            str(data["scenario"]),
            VenueParams(*ints(params)) if params is not None else None,
            tuple(Depth(*ints(d)) for d in data["depths"]),
            ints(data["times"]),
            ints(data["fundamentals"]),
            StablePrice(tuple((t, p) for t, p in map(ints, data["stable_price"]))),
            int(data["resale_delay"]),
            int(data["mark_bars"]),
            str(data.get("why", "")),
        )
        if session.venue is not None and (
            session.params is None
            or not session.depths
            or len(session.times) != len(session.fundamentals)
            or session.mark_bars < 1
        ):
            raise ValueError("a venue's session without its settings")
        return session


def session_path(record_path: Path) -> Path:
    """Where a deployment record's last market session is kept: `<record>.market.json`."""
    return record_path.with_name(record_path.stem + ".market.json")


def write_session(record_path: Path, chain_id: int, identity: str, session: MarketSession) -> None:
    """Keep `session` beside the record of deployment `identity` (the last session only)."""
    path = session_path(record_path)
    tmp = path.with_name(path.name + ".tmp")
    data = {"deployment": [chain_id, identity], "session": session.to_json()}
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


class SessionError(ValueError):
    """The file kept beside a record as its market session does not read, or is not one: bad
    input (`ape run reconcile` says so and exits 2), never a silent fall back to the pool."""


def read_session(
    record_path: Path | None, chain_id: int, identity: str
) -> tuple[MarketSession | None, str]:
    """(the last market session kept beside the record at `record_path` for the deployment
    `identity` on chain `chain_id`, or None; where there is none, why, in words). A session
    file that does not read or is not a market session raises SessionError; one of another
    deployment (the record was deployed again since) is none."""
    if record_path is None:
        return None, "no deployment record file"
    path = session_path(record_path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None, f"no market session kept beside the record ({path.name})"
    except (OSError, ValueError) as exc:
        raise SessionError(f"{path} does not read ({type(exc).__name__})") from None
    if not isinstance(data, dict) or "deployment" not in data:
        raise SessionError(f"{path} is not a market session (no deployment)")
    if data.get("deployment") != [chain_id, identity]:
        return None, f"{path} is of another deployment"
    try:
        return MarketSession.from_json(data["session"]), ""
    except (ValueError, TypeError, KeyError) as exc:
        raise SessionError(f"{path} is not a market session ({exc})") from None


def venue_view(
    read: Callable[[list[tuple[str, str, tuple]]], list[Any]],
    venue: str,
    stablecoin: str,
    block_time: int,
) -> VenueView | None:
    """The venue at `venue` as a flash take in a block at `block_time` sells on it (the taker's
    planning, sim/strategies/taker.py's `VenueView`): the synced curve walked on from the sales
    since the sync, paying at most the stablecoin it holds; None where it was not synced at that
    time (a sale would revert: `venue: not synced`)."""
    synced_at, flow, sold, num, root_v, fundamental, cash = read(
        [
            (venue, "synced_at", ()),
            (venue, "flow", ()),
            (venue, "sold", ()),
            (venue, "num", ()),
            (venue, "root_v", ()),
            (venue, "fundamental", ()),
            (stablecoin, "balanceOf", (venue,)),
        ]
    )
    if synced_at != block_time:
        return None
    return VenueView(flow + sold, num, root_v, fundamental, cash)


@dataclass
class DevnetVenue:
    """The market driver's side of type `t`'s venue at `address` on the devnet (module
    docstring), the lab's venue of `session` (its bars' fundamental prices [wad]: the devnet's,
    relative to its configured price; their scenario times); `owners` the population's vault
    owners (the till's bound reads their vaults)."""

    chain: ChainBackend
    d: Deployment
    t: TypeDeployment
    address: str
    session: MarketSession
    owners: list[str] = field(default_factory=list)
    bar: int = -1
    prices: list[int] = field(default_factory=list)  # the market's price of each bar played
    synced_from: int = 0  # the first block whose sales are not yet recorded (the sync's)
    syncs: int = 0
    deposited: int = 0  # stablecoin [wad] put in the till, in all
    sales: int = 0  # the venue's sales recorded
    short: int = 0  # stablecoin [wad] the till lacked and the outside could not put in
    _allowed: bool = False
    venue: Venue = field(init=False)
    outside: Outside = field(init=False)

    def __post_init__(self) -> None:
        s = self.session
        self.venue = s.lab()
        self.outside = Outside(
            OUTSIDE,
            self.d.governance,
            {self.name: self.venue},
            s.stable_price,
            s.resale_delay,
            fundamental=lambda _: s.fundamentals[self.bar],
            market_price=lambda _: self.prices[self.bar],
            bar=lambda: self.bar,
        )

    @property
    def times(self) -> tuple[int, ...]:
        return self.session.times

    @property
    def fundamentals(self) -> tuple[int, ...]:
        return self.session.fundamentals

    @property
    def name(self) -> str:
        return self.t.config.name

    @property
    def scale(self) -> int:
        return 10 ** (18 - self.t.config.token_decimals)

    def market_price(self, k: int) -> int:
        """Bar `k`'s market price [wad]: the lab's (run/driver.py), the fundamental moved by the
        venue's memory at the bar's time."""
        return self.venue.price(k, self.times[k], self.fundamentals[k])

    def open_bar(self, k: int) -> int:
        """Bar `k` begins: its market price (returned), the venue synced with the lab's numbers
        as the bar's first transaction, its till topped up from the outside's stablecoin (what
        the borrowers drew to it: market.open_vaults' holder), as the lab's outside tops it up
        (`StableJoin.exit` to the venue); what the outside lacks is counted (`short`)."""
        self.close_bar()  # sales since the bar before's were recorded: that bar's
        price, (flow, num, root_v, fundamental) = self.begin_bar(k)
        self.chain.transact(self.address, "sync", OUTSIDE, flow, num, root_v, fundamental)
        self.syncs += 1
        # the sync's own block, from its receipt: the bots answer the sync at once, and a sale
        # mined before the head was read here fell between two bars' reads, recorded by
        # neither (seen under load: every later sync's flow then differed from the lab's)
        receipt = self.chain.last_receipt
        assert receipt is not None
        self.synced_from = int(receipt["blockNumber"], 16)
        tokens, auctions = self._bar_collateral(price)
        bound = till_bound(flow, tokens, num, root_v, fundamental, auctions)
        need = bound - self.chain.view(self.d.stablecoin, "balanceOf", self.address)
        if need > 0:
            d = self.d
            if not self._allowed:  # the StableJoin may move the outside's stablecoin
                self.chain.transact(d.engine, "allow", OUTSIDE, d.stable_join)
                self._allowed = True
            deposit = min(need, self.chain.view(d.engine, "stable", OUTSIDE) // RAY)
            if deposit:
                self.chain.transact(d.stable_join, "exit", OUTSIDE, self.address, deposit)
                self.deposited += deposit
            self.short += need - deposit
        return price

    def begin_bar(self, k: int) -> tuple[int, tuple[int, int, int, int]]:
        """Bar `k` begins in the lab's venue: (its market price [wad], the venue's curve for
        the bar's sync: `flash_venue.venue_curve` at the bar's time)."""
        self.bar = k
        price = self.market_price(k)
        self.prices.append(price)
        return price, venue_curve(self.outside, self.name, self.times[k])

    def _bar_collateral(self, price: int) -> tuple[int, int]:
        """(the collateral [wad] every auction the bar can hold may sell: the running auctions'
        and that of the population's vaults unsafe at `price` or the oracle's, whichever is
        lower; how many vaults and auctions that is)."""
        d, t, chain = self.d, self.t, self.chain
        rate = chain.view(d.engine, "collateral_types", t.type_id)[1]
        ratio = chain.view(d.spotter, "liquidation_ratios", t.type_id)
        low = min(price, chain.view(t.oracle, "current_price"))
        in_auctions = chain.view(d.engine, "collateral", t.type_id, t.auction)
        vaults = chain.views([(d.engine, "vaults", (t.type_id, o)) for o in self.owners])
        # unsafe: collateral x price [wad] x RAY below debt [wad] x the liquidation ratio [ray]
        unsafe = [v[0] for v in vaults if v[0] * low // WAD * RAY < v[1] * rate // RAY * ratio]
        count = len(unsafe) + int(chain.view(t.auction, "active_count"))
        return in_auctions + sum(unsafe), max(count, 1)

    def close_bar(self) -> None:
        """The bar's sales on the venue (its `Sold` events since the bar's sync) recorded in the
        lab's venue at the bar's time."""
        if self.bar < 0:
            return
        head = int(self.chain.rpc("eth_blockNumber", []), 16)
        if head < self.synced_from:
            return
        logs = self.chain.rpc(
            "eth_getLogs",
            [{"fromBlock": hex(self.synced_from), "toBlock": hex(head), "address": self.address}],
        )
        for log in logs:
            e = self.chain._decode_log(log)
            if e.name == "Sold":
                self._record(e)
        self.synced_from = head + 1

    def _record(self, e: Event) -> None:
        """A `Sold` event of the venue's, recorded in the lab's venue at the bar's time."""
        tokens = e.args["amount_in"] * self.scale
        time = self.times[self.bar]
        record_sale(
            self.outside, self.name, self.bar, time, e.args["trader"], tokens,
            e.args["amount_out"],
        )  # fmt: skip
        self.sales += 1

    @classmethod
    def rebuild(
        cls, chain: ChainBackend, d: Deployment, session: MarketSession, head: int
    ) -> tuple[DevnetVenue, list[tuple[int, str, Any, Any]]]:
        """The session's venue as it stood at block `head`, rebuilt from the chain's events
        (module docstring): from the session's first block, each `Synced` begins the next bar
        (its curve checked against the lab venue's), each `Sold` after it is recorded at that
        bar; (the venue, the syncs that are not the lab's: (block, what, chain, lab))."""
        assert session.venue is not None
        chain.names[session.venue] = "OutsideVenue"
        venue = cls(chain, d, d.types[session.name], session.venue, session)
        logs = chain.rpc(
            "eth_getLogs",
            [{"fromBlock": hex(session.first_block), "toBlock": hex(head),
              "address": session.venue}],
        )  # fmt: skip
        wrong: list[tuple[int, str, Any, Any]] = []
        for log in logs:
            e, block = chain._decode_log(log), int(log["blockNumber"], 16)
            if e.name == "Synced":
                if venue.bar + 1 >= len(session.times):
                    wrong.append((block, "a sync past the session's last bar", e.args, None))
                    continue
                _, curve = venue.begin_bar(venue.bar + 1)
                venue.syncs += 1
                for key, lab in zip(("flow", "num", "root_v", "fundamental"), curve):
                    if e.args[key] != lab:
                        wrong.append((block, f"the sync's {key}", e.args[key], lab))
            elif e.name == "Sold":
                if venue.bar < 0:
                    wrong.append((block, "a sale before the session's first sync", e.args, None))
                    continue
                venue._record(e)
        return venue, wrong

    def mark(self) -> MarkVenue | None:
        """The end-of-run mark on the venue (the lab's, sim/market/type_market.py's
        `end_of_type`): the open book sold on a copy of the venue over the scenario's
        `mark_bars` bars after the last bar played, paid, as the lab's mark is, only from what
        the outside holds at the chain's head (`mark_cash`)."""
        if self.bar < 0:
            return None
        times = list(self.times[: self.bar + 1])
        step = times[-1] - times[-2] if len(times) > 1 else 600
        return partial(
            VenueMark,
            self.venue,
            self.bar,
            times[-1],
            step,
            self.fundamentals[self.bar],
            self.session.mark_bars,
            cash=self.mark_cash(),
        )

    def mark_cash(self) -> MarkCash:
        """What the outside can pay for the mark's sales on the venue at the chain's head, as
        the lab's `type_market.mark_cash` reads it: the outside's stablecoin in the engine and
        the venue's till (the stablecoin it holds), in dollars at the stablecoin's price at the
        head block's time (the venue's unit)."""
        stable, till = self.chain.views(
            [
                (self.d.engine, "stable", (OUTSIDE,)),
                (self.d.stablecoin, "balanceOf", (self.address,)),
            ],
            cache=False,
        )
        price = self.outside.stable_price.at(self.chain.last_block_time)
        return MarkCash(usd_for(stable // RAY + till, price))

    def facts(self) -> str:
        """One line: what the venue did in the session."""
        v = self.venue
        return (
            f"outside venue {self.address}: {self.syncs:,} syncs, {self.sales:,} flash sales "
            f"({v.sold / WAD:,.2f} {self.t.config.token_symbol} sold, {v.floored:,} at the "
            f"floor), {self.deposited / WAD:,.2f} stablecoin put in its till by the outside "
            f"(the borrowers' draws)"
            + (f", {self.short / WAD:,.2f} it lacked" if self.short else "")
        )
