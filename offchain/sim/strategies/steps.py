"""The keepers' step loop: one `Step` per actor, each observing the chain and deciding what to
send, written once for the two runtimes that run keepers.

- The simulator (run/driver.py) runs a bar as a loop over its steps, in order (feeder, arbitrageur,
  liquidator, taker, backstop keeper), sending each step's actions before the next step looks.
- A live bot (offchain/live/bots.py) runs one role's step each new block, with its pending
  transactions as the actions in flight.

A step sees its runtime through a `World`: how to read (`read`, batched; `call`, one plain call),
what the runtime knows from events (`index`, the vault index of a type; `follow`, what the
backstop keeper follows), what it has in flight, the market price it trades against (the
scenario's price in a simulation, the collateral pool's on a devnet) and two clocks: `clock`,
the round's time (a bar's, or the next block's), which schedules hourly chores, and
`next_block_time`, the time the next block will carry, asked after the step's reads (a
simulation mines what it queued before reading). Steps observe through observe.py and decide
with the pure strategies of keepers.py; nothing here sends.

Where steps share a round, a later one reuses an earlier one's observation: the backstop keeper
closes dust auctions from the auction market the taker read (`World.auction_market`, read once
a round).

A keeper step with a gas budget (`gas_budget`, gas a round over every collateral type; 0: none)
sends the most valuable of what it wants that fits and hands the rest to `World.defer`
(gas_budget.py); nothing deferred is in flight, so the next round plans it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from offchain.backends.base import TX_GAS
from offchain.model.fixed_point import RAY, WAD
from offchain.sim.strategies.gas_budget import within_budget
from offchain.sim.strategies.keepers import (
    Action,
    BackstopParams,
    PoolView,
    TakerParams,
    VaultIndex,
    arbitrage_action,
    backstop_actions,
    deleverage_actions,
    deleverage_ranked,
    oracle_actions,
    refused_vaults,
)
from offchain.sim.strategies.observe import (
    AuctionMarket,
    BackstopWatch,
    Call,
    Choose,
    Clocks,
    LateFilter,
    choose_running,
    dust_candidates,
    least_take_gas,
    plan_liquidations,
    plan_takes,
    read_auction_market,
    read_backstop_view,
    read_deleverage_view,
    read_last_poke,
    read_liquidation_view,
    read_oracle_bound,
    read_windows,
)
from offchain.system.deployment import Deployment, TypeDeployment

ACCRUE_EVERY = 3600  # seconds between the backstop keeper's fee accruals


class BackstopFollow(Protocol):
    """What the backstop keeper follows from events (the simulation's ledger, a bot's
    follower), per collateral type `name` (loss ids count per type's auction)."""

    def backstop_watch(self, name: str) -> BackstopWatch: ...

    def losses_done(self, name: str, done: Iterable[int]) -> None: ...


@dataclass
class World:
    """A runtime as its steps see it (see the module docstring). `new_round()` starts a round:
    what was read once a round is read again."""

    d: Deployment
    read: Callable[[list[Call]], list[Any]]
    call: Callable[..., Any]
    clock: Callable[[], int]
    next_block_time: Callable[[], int]
    in_flight: Callable[[], set[tuple]]
    index: Callable[[str], VaultIndex]
    market_price: Callable[[str], int]  # stablecoin per token of a type [wad]
    follow: BackstopFollow
    # hears what a keeper's gas budget deferred this round (None: nobody listens)
    on_defer: Callable[[list[Action]], None] | None = None
    # which auctions of a type (by name) a take by an actor, planned at a bid [wei] and costing
    # at least a gas, would reach too late to be sent (run/sending.py's `late_filter`; None:
    # the runtime sends every take it plans)
    late_filter: Callable[[str, str, int, int], LateFilter | None] | None = None
    # what the runtime knows of a type's (by name) running auctions from their events, so that
    # a round reads only those its takers can act on (observe.choose_running; the driver's
    # ledgers); None, or a call that gives None: every running auction is read
    clocks: Callable[[str], Clocks | None] | None = None
    # running auctions listed, one list a type and round (the takers' and the backstop
    # keeper's share it): the work of a round that grows with the auctions left open (make
    # bench's cost of the market); and how many of them were read (the status of each)
    auction_views: int = 0
    auction_reads: int = 0
    _static: dict[tuple, Any] = field(default_factory=dict)
    _markets: dict[tuple[str, str], AuctionMarket | None] = field(default_factory=dict)

    def new_round(self) -> None:
        self._markets.clear()

    def budget(self, actions: list[Action], budget: int, sender: str) -> list[Action]:
        """What `sender` sends of `actions` within its gas `budget` for the round (0: all);
        what it defers goes to `on_defer` (gas_budget.within_budget)."""
        sent, deferred = within_budget(actions, budget, sender)
        if deferred and self.on_defer is not None:
            self.on_defer(deferred)
        return sent

    def static(self, address: str, function: str, *args: Any) -> Any:
        """A getter whose value never changes after deployment, read once."""
        key = (address, function, args)
        if key not in self._static:
            self._static[key] = self.read([(address, function, args)])[0]
        return self._static[key]

    def auction_market(
        self, name: str, holder: str, choose: Choose | None = None
    ) -> AuctionMarket | None:
        """Type `name`'s running auctions (observe.read_auction_market, which of them to read
        by `choose`), read once a round: a later step gets the first one's."""
        key = (name, holder)
        if key not in self._markets:
            market = self._markets[key] = read_auction_market(
                self.read, self.call, self.d, self.d.types[name], holder, choose
            )
            if market is not None:
                self.auction_views += market.running
                self.auction_reads += len(market.views)
        return self._markets[key]

    def scale(self, name: str) -> int:
        """Wad per token unit of type `name`'s collateral."""
        return 10 ** (18 - self.d.types[name].config.token_decimals)


class Step(Protocol):
    """One actor: what it sends this round, for the collateral types `names`."""

    role: str

    def decide(self, world: World, names: Sequence[str]) -> list[Action]: ...


@dataclass
class FeederStep:
    """Posts the market price to each type's oracle and pokes the oracle and the spotter once
    the delay has passed; posts at most every `feed_every` seconds (0: every round) and pokes
    whenever due. `state["last_post"]`: type -> time of its last post."""

    sender: str
    feed_every: int = 0
    state: dict[str, Any] = field(default_factory=dict)
    role: str = "feeder"

    def decide(self, world: World, names: Sequence[str]) -> list[Action]:
        last_posts = self.state.setdefault("last_post", {})
        out: list[Action] = []
        for name in names:
            t = world.d.types[name]
            last_poke = read_last_poke(world.read, t)
            now = world.next_block_time()
            last = last_posts.get(name, 0)
            delay = world.static(t.oracle, "delay")
            if now < last + self.feed_every and now < last_poke + delay:
                continue
            price = world.market_price(name)
            if price == 0:
                continue
            reference, max_change = read_oracle_bound(world.read, t)
            actions = oracle_actions(
                self.sender,
                t.oracle,
                world.d.spotter,
                t.type_id,
                price,
                now,
                last_poke,
                delay,
                reference=reference,
                max_change=max_change,
            )
            if now < last + self.feed_every:  # only the pokes are due
                actions = [a for a in actions if a.function == "poke"]
            else:
                last_posts[name] = now
            out += [a for a in actions if not set(a.targets) & world.in_flight()]
        return out


class OutsideMarket(Protocol):
    """The world beyond the keepers' pool as the arbitrageur trades with it (a simulation's open
    market, sim/market/outside.py; a devnet session's arbitrageur does not trade outside:
    offchain/live/market.py)."""

    address: str

    def target_price(self, name: str, now: int) -> int: ...

    def rebalance(
        self, world: World, name: str, action: Action, pool: PoolView, available: int
    ) -> tuple[list[Action], int]: ...

    def due(self, world: World, arb: str, available: int) -> tuple[list[Action], int]: ...


@dataclass
class ArbitrageStep:
    """Trades each type's collateral pool towards the market price, with its own inventory (the
    simulator's market maker; a devnet's pool moves only with its users). With an `outside`
    market it trades towards the market price in stablecoin (the dollar price over the
    stablecoin's) and undoes each trade on the outside venue once the resale delay has passed, so
    its inventory comes back (sim/market/outside.py)."""

    sender: str
    threshold: int  # wad fraction of the price within which it does not trade
    role: str = "arbitrageur"
    outside: OutsideMarket | None = None

    def decide(self, world: World, names: Sequence[str]) -> list[Action]:
        d, out = world.d, []
        spent = 0  # stablecoin the round's earlier trades will take (one balance, every pool)
        available = 0  # the outside's stablecoin [wad] left this round
        if self.outside is not None:
            available = world.read([(d.engine, "stable", (self.outside.address,))])[0] // RAY
            # its earlier trades whose resale delay has passed, undone on the venue first
            undone, paid = self.outside.due(world, self.sender, available)
            out += undone
            available -= paid
        for name in names:
            t = world.d.types[name]
            rc, rs, tokens, stable = world.read(
                [
                    (t.pool, "reserve_collateral", ()),
                    (t.pool, "reserve_stable", ()),
                    (t.token, "balanceOf", (self.sender,)),
                    (d.stablecoin, "balanceOf", (self.sender,)),
                ]
            )
            pool = PoolView(rc, rs, world.static(t.pool, "fee"), world.scale(name))
            target = world.market_price(name)
            if self.outside is not None:
                target = self.outside.target_price(name, world.next_block_time())
            action = arbitrage_action(
                pool,
                target,
                self.threshold,
                tokens,
                max(stable - spent, 0),
                self.sender,
                t.pool,
            )
            if action is not None:
                out.append(action)
                if action.args[0] is False:  # buys collateral with stablecoin
                    spent += action.args[1]
                if self.outside is not None:
                    more, paid = self.outside.rebalance(world, name, action, pool, available)
                    available -= paid
                    out += more
        return out


@dataclass
class LiquidatorStep:
    """Liquidates the unsafe vaults of each type's index that are not in flight and that the
    Liquidator would not refuse, as many as the type's auction can start. `on_unsafe(name,
    owners)`, if given, hears every round's unsafe vaults (the simulation times how long each
    stays unsafe); `on_waiting(name, count)` how many unsafe vaults not in flight it left out for
    want of a running-auction slot (results/limits.py; a refused vault waits for none).
    With a `gas_budget` [gas a round], the vaults of largest debt first, over every type."""

    sender: str
    gas_price: int = 0
    on_unsafe: Callable[[str, list[str]], None] | None = None
    role: str = "liquidator"
    gas_budget: int = 0
    on_waiting: Callable[[str, int], None] | None = None
    # the most gas a batch may be sent with: a transaction's (TX_GAS), or less where a block
    # holds less (a simulation's market.block_gas_limit)
    tx_gas: int = TX_GAS

    def decide(self, world: World, names: Sequence[str]) -> list[Action]:
        d, out = world.d, []
        for name in names:
            t = world.d.types[name]
            view = read_liquidation_view(world.read, d, t)
            index = world.index(name)
            unsafe = None
            if self.on_unsafe is not None or self.on_waiting is not None:
                unsafe = index.unsafe(view.rate, view.safe_price, view.size)
            if self.on_unsafe is not None and unsafe is not None:
                self.on_unsafe(name, unsafe)
            in_flight = world.in_flight()
            planned = plan_liquidations(
                index, view, in_flight, self.sender, d.liquidator, self.gas_price, self.tx_gas
            )
            if self.on_waiting is not None and unsafe is not None and view.safe_price:
                # the vaults the Liquidator refuses (never planned) wait for no slot
                refused = refused_vaults(
                    index, unsafe, view.rate, view.safe_price, view.size, view.dust, view.penalty
                )
                free = sum(1 for o in unsafe if ("vault", o) not in in_flight and o not in refused)
                self.on_waiting(name, max(0, free - sum(len(a.targets) for a in planned)))
            out += planned
        return world.budget(out, self.gas_budget, self.sender)


@dataclass
class TakerStep:
    """Resets stale auctions and takes profitable ones: `takers(name)` are the takers of a type,
    in order (the first plans, the next takes what it left); `holder` is whose stablecoin in the
    engine bounds a take with capital. With a `gas_budget` [gas a round], each taker's own, over
    every type: the takes of most expected profit per gas first, then resets."""

    takers: Callable[[str], list[TakerParams]]
    holder: str
    role: str = "taker"
    gas_budget: int = 0

    def decide(self, world: World, names: Sequence[str]) -> list[Action]:
        out: list[Action] = []
        # the holder's stablecoin is one balance for every type: what one type's takes with own
        # capital spend, the next type's are not planned with (None: not read yet this round)
        capital: int | None = None
        senders: dict[str, None] = {}  # every taker, in order
        for name in names:
            takers = self.takers(name)
            senders.update((p.taker, None) for p in takers)
            if not takers:
                continue
            t = world.d.types[name]
            scale, price, in_flight = world.scale(name), world.market_price(name), world.in_flight()
            # the pool's fee, read after the running auctions are listed (a first read mines
            # what is queued: the list is of the auctions before it)
            fee = partial(world.static, t.pool, "fee")
            # each taker's late filter, made once a round where an auction runs
            lates = LateFilters(world.late_filter, name, takers)
            clocks = world.clocks(name) if world.clocks is not None else None
            choose = None
            if clocks is not None:
                choose = partial(
                    choose_running, clocks, takers, lates, in_flight, fee, scale, price
                )
            market = world.auction_market(name, self.holder, choose)
            if market is None:
                continue
            planned, capital = plan_takes(
                market, fee(), scale, price, takers, in_flight, capital, lates()
            )
            out += planned
        for sender in senders:
            out = world.budget(out, self.gas_budget, sender)
        return out


class LateFilters:
    """The late filters of a type's `takers` for a round (World.late_filter), made on the first
    ask: a list, one a taker (None: it sends every take); None without a filter."""

    def __init__(
        self,
        late_filter: Callable[[str, str, int, int], LateFilter | None] | None,
        name: str,
        takers: list[TakerParams],
    ):
        self.late_filter, self.name, self.takers = late_filter, name, takers
        self.made: list[LateFilter | None] | None = None

    def __call__(self) -> list[LateFilter | None] | None:
        if self.late_filter is None:
            return None
        if self.made is None:
            self.made = [
                self.late_filter(self.name, p.actor, p.gas_price, least_take_gas(p))
                for p in self.takers
            ]
        return self.made


@dataclass
class BackstopStep:
    """The Backstop's housekeeping: accrues fees and heals (every `accrue_every` seconds of the
    round clock), covers closed losses, settles, runs debt and surplus auctions, realizes
    stakers' charges, closes dust auctions and charges the losses the deleveraging layer parked
    to the strongest vaults (from the type's vault index). Per type, then the Backstop-wide
    actions once.
    `params(name)` are its parameters for a type; `bidder` is whose stablecoin bids in debt
    auctions; `stakers()` whose charges it realizes; `state["last_accrual"]` when it last
    accrued. With a `gas_budget` [gas a round] (the keeper's own; the bidder's bids have none),
    the covers of the largest losses first, then its other chores in their order; an accrual
    deferred for any type is sent for every type next round."""

    params: Callable[[str], BackstopParams]
    bidder: str
    stakers: Callable[[], Iterable[str]]
    holder: str  # whose view of the auction market it shares (the taker's holder)
    accrue_every: int = ACCRUE_EVERY
    state: dict[str, Any] = field(default_factory=dict)
    role: str = "backstop"
    gas_budget: int = 0

    def decide(self, world: World, names: Sequence[str]) -> list[Action]:
        d, out = world.d, []
        clock = world.clock()
        accrue = clock - self.state.get("last_accrual", 0) >= self.accrue_every
        min_decrease = world.static(d.debt_auction, "min_decrease")
        for name in names:
            t: TypeDeployment = d.types[name]
            market = world.auction_market(name, self.holder)
            view, done = read_backstop_view(
                world.read,
                d,
                t,
                world.follow.backstop_watch(name),
                self.bidder,
                self.stakers(),
                dust_candidates(market),
                market.min_auction if market is not None else 0,
                min_decrease,
                world.next_block_time,
            )
            # a loss with nothing left to cover: the keeper stops reading it
            world.follow.losses_done(name, done)
            params = self.params(name)
            planned = backstop_actions(view, params, accrue, world.in_flight())
            # a loss the deleveraging layer parked: charged to the type's strongest vaults
            planned += self._deleverage(world, name, params)
            # the type's own actions; the Backstop-wide ones (heal, settle, debt and surplus
            # auctions, realize) once
            seen = {target for a in out for target in a.targets}
            out += [a for a in planned if a.function in PER_TYPE or not set(a.targets) & seen]
        wanted = sum(a.function == "accrue" for a in out)
        if names and self.gas_budget:
            out = world.budget(out, self.gas_budget, self.params(names[0]).keeper)
        if wanted and wanted == sum(a.function == "accrue" for a in out):
            self.state["last_accrual"] = clock
        return out

    def _deleverage(self, world: World, name: str, params: BackstopParams) -> list[Action]:
        """Type `name`'s parked loss, charged to its strongest vaults by the level rule (from
        the type's vault index; the windows read for the strongest only, down to the level),
        50 a call (deleverage_actions); none when nothing is due, the keeper may not, a charge
        is in flight or less than a stablecoin is due."""
        t = world.d.types[name]
        view = read_deleverage_view(world.read, world.d, t, params.keeper, world.next_block_time)
        if view is None or not view.allowed or ("deleverage", t.type_id) in world.in_flight():
            return []
        vaults = world.index(name).vaults
        ranked = deleverage_ranked(vaults, view)
        windows = read_windows(world.read, world.d, t, ranked, view, vaults)
        return deleverage_actions(vaults, view, params, world.in_flight(), windows)


# backstop_actions' functions that act on one collateral type (the others act Backstop-wide)
PER_TYPE = ("accrue", "cover", "close_dust_auction", "deleverage")


def pool_price(world: World, name: str) -> int:
    """Type `name`'s collateral pool's price, stablecoin per token [wad] (0 when empty): the
    market of a devnet."""
    t = world.d.types[name]
    rc, rs = world.read([(t.pool, "reserve_collateral", ()), (t.pool, "reserve_stable", ())])
    return rs * WAD // (rc * world.scale(name)) if rc else 0
