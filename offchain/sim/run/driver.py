"""The crash-replay driver: one scenario, bar by bar, on a chain or in the model.

`simulate(scenario, "chain", ...)` starts a private Anvil (offchain/backends/anvil.py) whose
genesis lies before the scenario's first bar (scenario/timeline.py), sets up Backstop, the vault
population and the actors' funds (setup.py), then for every bar sets the block time to the
bar's time and runs the bar:

1. transactions that the latency model delayed from the previous bar land;
2. then the keepers' step loop (strategies/steps.py, built by lineup.py), each step observing after
   the previous one's transactions are mined: the feeder posts the market price and pokes the oracle
   and spotter when the delay allows; the arbitrageur trades the collateral pool towards the market
   price (finite inventory); where owners opted in, the soft liquidator soft-liquidates their called
   vaults (strategies/soft_liquidator.py); the liquidation keeper liquidates the unsafe vaults its
   event-built index finds; the taker resets stale auctions and takes profitable ones; the backstop
   keeper accrues fees and heals the unsettled proceeds (hourly), covers queued losses, settles,
   runs debt auctions (with the bidder) and realizes stakers' charges.

Keepers plan each bar with the bids of their gas strategy (strategies/gas_strategy.py: the bar's gas
percentile, or fixed bids), and their transactions pass through it (a dropped action's bid raised,
capped by the action's value) and `actions.Latency` (sending.py); the feeder and the arbitrageur
are not delayed. What became of every keeper's actions is the `keeper_actions` table and the
result's `keeper_failures` lines (results/keeper_outcomes.py). A keeper with a gas budget
(strategies/gas_budget.py) first defers what does not fit in it: a row of the `txs` table with
status "deferred" and one of the `deferred` table, with its collateral type. Transactions are mined
in blocks (recorder.py): everything queued between two reads of the state (one actor's decisions,
made from one read) is one block, in the order queued; the first block of a bar has the bar's time,
each further block one second more. In an open market whose flash takes may sell on the outside
venue, the world's sync of that venue opens each block that holds one (market/flash_venue.py).
`simulate(scenario, "model")` runs the same on the off-chain model (`ModelBackend`): same
addresses, same block times, same decisions. Every transaction, every event (results/ledger.py), a
snapshot per bar and, every `full_check_every` bars and at the end, the complete state (every
state variable of every contract for every actor and vault owner) are recorded (snapshot.py, as
is the result at the end); `reconcile`
compares a chain run with a model run and lists every difference. A run that will not be
reconciled (a model run on its own, as sweeps make) passes `full_check_every=None` and reads no
complete state. After the last bar the headline's drain (drain.py) runs the open book out with
the same keepers, unrecorded, up to `market.drain_horizon` bars.
"""

from __future__ import annotations

import gc
import time as clock
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from offchain.backends import Backend, ChainBackend, ModelBackend
from offchain.backends.hardhat import NODES
from offchain.model import price_curves
from offchain.sim.market.flash_venue import FlashVenues
from offchain.sim.market.impact import Impact
from offchain.sim.market.type_market import TypeMarket
from offchain.sim.market.venue import Venue
from offchain.sim.results.insolvency import EndOfRun, unsafe_left
from offchain.sim.results.ledger import Ledger, Ledgers
from offchain.sim.results.tables import TABLES, SimulationResult
from offchain.sim.run.drain import drain_headline
from offchain.sim.run.lineup import Lineup
from offchain.sim.run.recorder import MAX_BLOCK_TXS, Recorder
from offchain.sim.run.sending import Sending
from offchain.sim.run.setup import Actors, SimulationError, set_up
from offchain.sim.run.snapshot import full_state, run_result, snapshot
from offchain.sim.scenario.population import actor_address, population_role
from offchain.sim.scenario.timeline import bar_times, genesis_time
from offchain.sim.scenario.types import Scenario
from offchain.sim.strategies.keepers import Action, VaultIndex
from offchain.sim.strategies.observe import Clocks
from offchain.sim.strategies.steps import Step, World

__all__ = ["MAX_BLOCK_TXS", "Simulation", "SimulationError", "simulate"]

# the taker modes with a flash taker (scenario/types.py, KeeperSpec.taker_mode)
FLASH_MODES = ("flash", "both")


@contextmanager
def _young_collections_batched(threshold: int = 100_000) -> Iterator[None]:
    """The cycle collector's youngest generation collected every `threshold` allocations, not
    CPython's 700, for the duration of a run (restored after). A run allocates millions of
    short-lived objects (rows, views, journal entries) and few cycles; at 700 every tenth young
    collection walks the older generations, a large share of a model run's time.
    Nothing else changes: every cycle is still collected, a little later."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], threshold), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


class Simulation:
    """One run of a scenario on one backend (see the module docstring)."""

    # the takers' rounds read only the running auctions they can act on (observe.
    # choose_running): the same plans, the same counts, fewer reads (False: every running
    # auction is read, as a live bot does; tests/sim/test_choose_running.py holds the two equal)
    choose_running = True

    def __init__(
        self,
        scenario: Scenario,
        backend: Backend,
        kind: str,
        full_check_every: int | None = 6,
        progress: Callable[[int, int], None] | None = None,
        drain: bool = True,
    ):
        self.scenario = scenario
        self.drain = drain  # run the headline's drain after the run (run/drain.py)
        self.backend = backend
        self.kind = kind
        self.full_check_every = full_check_every
        self.progress = progress
        self.actors = Actors.for_scenario(scenario)
        self.collateral = scenario.system.collateral[0]
        self.scale = 10 ** (18 - self.collateral.token_decimals)
        self.times, self.fundamental = bar_times(scenario)
        self.prices = list(self.fundamental)  # the market's: the fundamental x the impact level
        m = scenario.market
        bar_s = self.times[1] - self.times[0]
        self.impact = Impact(m.impact_depth, m.impact_half_life, bar_s)
        # an open market's outside venue sets the first type's market price (market/venue.py)
        self.venue = Venue(m.venue, list(m.depths)) if m.venue is not None else None
        self.bar = -1  # setup
        self.rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
        self.states: list[tuple[int, dict[str, Any]]] = []
        self.index = VaultIndex(self.collateral.type_id)
        self.ledger = Ledger(self.rows, self.index)
        self.ledger.at(-1, self.prices[0])
        # every type's market, the first's the attributes above (scenario.types: the others')
        self.markets = {
            self.collateral.name: TypeMarket(
                self.collateral,
                self.fundamental,
                self.prices,
                self.impact,
                self.index,
                self.ledger,
                venue=self.venue,
            )
        }
        for t, c in zip(scenario.types, scenario.system.collateral[1:]):
            fundamental = list(t.prices.columns["close"])
            fundamental += [fundamental[-1]] * (len(self.times) - len(fundamental))
            index = VaultIndex(c.type_id)
            rows: dict[str, list[tuple]] = {
                "liquidations": [],
                "takes": [],
                "allocations": [],
                "soft_liquidations": self.rows["soft_liquidations"],  # every type's, in one
            }
            ledger = Ledger(rows, index, backstop_wide=False)
            ledger.at(-1, fundamental[0])
            impact = Impact(t.impact_depth, t.impact_half_life, bar_s)
            self.markets[c.name] = TypeMarket(
                c, fundamental, list(fundamental), impact, index, ledger
            )
        self.ledgers = Ledgers({name: m.ledger for name, m in self.markets.items()})
        self.rec = Recorder(backend, self.rows, self.ledgers)
        # the keepers' gas strategy and the latency model, the actions in flight (sending.py)
        self.sending = Sending(
            scenario, self.rec, self.rows, self.times, self.prices, lambda: self.bar
        )
        self.peak_debt_in_auction = 0
        self.drained = 0  # bars added by the drain (market.drain_bars)
        # each type's accounting at the run's end (run/snapshot.py) and where the headline's
        # drain stopped (run/drain.py)
        self.ends: dict[str, EndOfRun] = {}
        self.drain_ends: dict[str, EndOfRun] = {}

    # -------------------------------------------------------- bars

    def run(self) -> SimulationResult:
        with _young_collections_batched():
            return self._run()

    def _run(self) -> SimulationResult:
        started = clock.perf_counter()
        setup = set_up(
            self.rec, self.scenario, self.actors, self.prices[0], self.times[0], self._venue_route()
        )
        if self.backend.last_block_time >= self.times[0]:
            raise SimulationError("setup ran past the first bar (genesis_time is too late)")
        self.deployment, self.type_ = setup.deployment, setup.type_
        self.plans, self.flash_taker = setup.plans, setup.flash_taker
        self.flash_takers = setup.flash_takers
        self.sending.set_types(self.deployment.types, self.flash_takers)
        self.sending.needs_reset_at = self._needs_reset_at
        self.sending.reset_time = lambda name: self.markets[name].ledger.reset_time
        for name, m in self.markets.items():
            m.plans = setup.all_plans[name]
        self.price0 = self.prices[0]
        setup_s = clock.perf_counter() - started
        self.world = World(
            self.deployment,
            self.rec.read,
            self.backend.call,
            clock=lambda: self.times[self.bar],
            next_block_time=lambda: self.backend.next_block_time,
            in_flight=self.sending.flying,
            index=lambda name: self.markets[name].index,
            market_price=lambda name: self.markets[name].prices[self.bar],
            follow=self.ledgers,
            on_defer=self.sending.defer,
            late_filter=self.sending.late_filter,
            clocks=self._clocks if self.choose_running else None,
        )
        # the bar's actors, in order, and what they tell the run back (lineup.py)
        self.lineup = Lineup(
            self.scenario,
            self.actors,
            self.deployment,
            self.flash_takers,
            self.markets,
            self.collateral.name,
            self.sending,
            self.times,
            lambda: self.bar,
        )
        # an open market's outside venues on chain, where flash takes may sell: synced and
        # funded at the start of each block that sells on them, their sales heard after it
        self.flash_venues: FlashVenues | None = None
        if setup.venues:
            self.flash_venues = self._flash_venues(setup.venues)
            self.rec.hook = self.lineup.flash_venues = self.flash_venues
        self.steps = self.lineup.steps()
        every = self.full_check_every
        if every is not None:
            full_state(self)
        i = 0
        while i < len(self.times):
            self.advance(i)
            last = i == len(self.times) - 1
            if last and self.running() and self.drained < self.scenario.market.drain_bars:
                # drain: one more bar at the last price while the open book is not run out
                self.extend()
                self.drained, last = self.drained + 1, False
            if every is not None and ((i + 1) % every == 0 or last):
                full_state(self)
            if self.progress:
                self.progress(i + 1, len(self.times))
            i += 1
        total_s = clock.perf_counter() - started
        result = run_result(self, setup_s, total_s)
        if self.drain:
            drain_headline(self, result)  # the headline: the open book run out (run/drain.py)
        return result

    def _clocks(self, name: str) -> Clocks | None:
        """Type `name`'s running auctions' clocks, from its ledger (observe.choose_running): a
        round reads only the auctions its takers can act on. None where the ledger does not
        know the auction's curve."""
        market = self.markets.get(name)
        if market is None:
            return None
        ledger = market.ledger
        if ledger.curve is None:
            return None

        def price(top: int, elapsed: int) -> int:
            # the curve as the round's reads see it (a CurveSet mined by the round's first read
            # is heard by then, as `clock_reset_time` hears it)
            assert ledger.curve is not None
            return price_curves.price(ledger.curve, top, elapsed)

        return Clocks(
            ledger.live,
            ledger.on_clock,
            ledger.clock_reset_time,
            price,
            lambda: self.backend.last_block_time,
        )

    def _needs_reset_at(self, action: Action, when: int) -> bool:
        """Whether take `action` (its target ("auction", id)) would find its auction needing a
        reset at `when` [s]: its type's ledger's auction clock (sending.py, `_late`)."""
        market = self.markets.get(self.sending._type_of(action))
        auction = next((t[1] for t in action.targets if t[0] == "auction"), None)
        if market is None or auction is None:
            return False
        # the ledger's needs_reset_at, from the first second it holds (kept per clock)
        first = market.ledger.reset_time(auction)
        return first is not None and when >= first

    def advance(self, i: int) -> None:
        """Bar `i`: each type's market price, then the bar's actors (`_bar`), then the closed
        markets' impact of the bar's sales."""
        self.bar = self.rec.bar = i
        for m in self.markets.values():
            if m.venue is not None:
                m.prices[i] = m.venue.price(i, self.times[i], m.fundamental[i])
            else:
                if i:
                    m.impact.recover()
                m.prices[i] = m.impact.price(m.fundamental[i])
            m.ledger.at(i, m.prices[i])
        self._bar(i, self.steps, list(self.markets))
        for m in self.markets.values():
            if m.venue is None:  # an open market's venue heard every sale as it was made
                m.impact.sell(m.ledger.bought, m.prices[i])
        if isinstance(self.backend, ModelBackend):
            # the twin's log of every event it emitted: the recorder took each as it was mined
            self.backend.forget_events()

    def running(self) -> bool:
        """The open book is not yet run out: an auction of any type is still running, or a vault
        is unsafe at its type's last market price (the keeper will liquidate it once the oracle
        shows it)."""
        return any(m.ledger.running for m in self.markets.values()) or any(
            unsafe_left(m.index, m.ledger.rate, m.collateral.liquidation_ratio, m.prices[-1])
            for m in self.markets.values()
        )

    def extend(self) -> None:
        """One more bar at the last price (a drain's)."""
        self.times.append(self.times[-1] + (self.times[-1] - self.times[-2]))
        for m in self.markets.values():
            m.fundamental.append(m.fundamental[-1])
            m.prices.append(m.fundamental[-1])

    def _venue_route(self) -> tuple[str, ...]:
        """The types whose flash takes may sell on an outside venue on chain: those with a
        venue, in an open market with the venue route on (market.flash_route "best") and flash
        takers (market/flash_venue.py)."""
        m, k = self.scenario.market, self.scenario.keepers
        if m.outside != "open" or m.flash_route != "best" or k.taker_mode not in FLASH_MODES:
            return ()
        return tuple(name for name, tm in self.markets.items() if tm.venue is not None)

    def _flash_venues(self, venues: dict[str, str]) -> FlashVenues:
        """The driver's side of the venues on chain `venues` (by type): their market is the
        lineup's outside, which pays for their sales."""
        outside, d = self.lineup.outside, self.deployment
        assert outside is not None  # an open market's
        return FlashVenues(
            outside,
            venues,
            {address: name for name, address in self.flash_takers.items()},
            {name: d.types[name].auction for name in venues},
            {name: self.markets[name].scale for name in venues},
            d.engine,
            d.stable_join,
            read=self.backend.views,
            next_block_time=lambda: self.backend.next_block_time,
        )

    def _bar(self, i: int, steps: list[Step], names: list[str]) -> None:
        """The bar's block time; what the latency model held back lands first; then each actor
        in turn observes, decides and sends (the next observes after those are mined)."""
        now = self.times[i]
        if now > self.backend.last_block_time:
            self.backend.set_next_block_time(now)
        self.sending.land()
        self.world.new_round()
        self.sending.plan_bids(steps)
        for step in steps:
            for action in step.decide(self.world, names):
                self.sending.act(action)
        snapshot(self, i, self.lineup.unsafe)

    # (the bar's rows, the complete state and the result: run/snapshot.py)


# ---------------------------------------------------------------- entry points


def simulate(
    scenario: Scenario,
    kind: str,
    artifacts: dict | None = None,
    reader_code: str = "",
    full_check_every: int | None = 6,
    progress: Callable[[int, int], None] | None = None,
    node: str = "anvil",
    drain: bool = True,
) -> SimulationResult:
    """Run `scenario` on a fresh private Anvil (`kind="chain"`, or Hardhat Network with
    `node="hardhat"`; needs the compiled `artifacts` and the BatchReader's code, see
    backends.load_artifacts) or on the model (`kind="model"`).
    The complete state is read every `full_check_every` bars and at the start and end, for
    `reconcile`; never if None (a run that will not be reconciled). With `drain` (the default)
    the open book at the end is run out for the headline (run/drain.py); a replay's chain run
    takes its model's instead (run/replay.py)."""
    genesis = genesis_time(scenario)
    if kind == "model":
        return Simulation(
            scenario, ModelBackend(genesis), "model", full_check_every, progress, drain
        ).run()
    if kind != "chain":
        raise ValueError(f"unknown backend {kind!r}")
    if node not in NODES:
        raise ValueError(f"unknown node {node!r} (one of {', '.join(NODES)})")
    with NODES[node](genesis) as running:
        chain = ChainBackend(running.url, artifacts or {}, reader_code)
        # every actor is impersonated; each needs ether for gas
        senders = list(Actors.for_scenario(scenario).roles().values())
        senders += [actor_address("vault", i) for i in range(scenario.vaults.count)]
        for t in scenario.types:
            role = population_role(t.name)
            senders += [actor_address(role, i) for i in range(t.vaults.count)]
        chain.fund(senders, 10**30)
        sim = Simulation(scenario, chain, "chain", full_check_every, progress, drain)
        return sim.run()
