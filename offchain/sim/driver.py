"""The crash-replay driver: one scenario, bar by bar, on a chain or in the model.

`simulate(scenario, "chain", ...)` starts a private Anvil (offchain/backends/anvil.py) whose
genesis lies
before the scenario's first bar, deploys Backstop, opens the vault population and funds the
actors, then for every bar sets the block time to the bar's time and lets the actors act:

1. transactions that the latency model delayed from the previous bar land;
2. the feeder posts the market price and pokes the oracle and spotter when the delay allows;
3. the arbitrageur trades the collateral pool towards the market price (finite inventory);
4. the liquidation keeper liquidates the unsafe vaults its event-built index finds;
5. the taker resets stale auctions and takes profitable ones;
6. the backstop keeper accrues fees and heals the unsettled proceeds (hourly), covers queued
   losses, settles, runs debt auctions (with the bidder) and realizes stakers' charges.

Keepers' transactions pass through `keepers.Latency`; the feeder and the arbitrageur are not
delayed. Transactions are mined in blocks: everything queued between two reads of the state (one
actor's decisions, made from one read) is one block, in the order queued, at most
`MAX_BLOCK_TXS` to a block; the first block of a bar has the bar's time, each further block one
second more. `simulate(scenario, "model")` runs the same on the off-chain model (`ModelBackend`):
same addresses, same block times, same decisions. Every transaction, every event, a snapshot per
bar and, every `full_check_every` bars and at the end, the complete state (every state variable
of every contract for every actor and vault owner) are recorded; `reconcile` compares a chain
run with a model run and lists every difference. A run that will not be reconciled (a model run
on its own, as sweeps make) passes `full_check_every=None` and reads no complete state.
"""

from __future__ import annotations

import gc
import time as clock
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pandas as pd

from offchain.backends import Backend, ChainBackend, ModelBackend, TxOutcome
from offchain.backends.hardhat import NODES
from offchain.model.errors import Revert
from offchain.model.fixed_point import MAX_UINT256, RAD, RAY, WAD
from offchain.sim.keepers import (
    Action,
    BackstopParams,
    Latency,
    PoolView,
    TakerParams,
    VaultIndex,
    arbitrage_action,
    backstop_actions,
    oracle_actions,
)
from offchain.sim.ledger import Ledger
from offchain.sim.observe import (
    BackstopWatch,
    dust_candidates,
    plan_liquidations,
    plan_takes,
    read_auction_market,
    read_backstop_view,
    read_liquidation_view,
)
from offchain.sim.population import VaultPlan, actor_address, generate_vaults
from offchain.sim.results import LAYER_NAMES, TABLES, SimulationResult, Tables, build_table
from offchain.sim.scenario_types import Scenario
from offchain.system.deployment import deploy_flash_taker, deploy_system, pool_exposure_delay
from offchain.system.reads import StateKeys, read_state

ACCRUE_EVERY = 3600  # seconds between the backstop keeper's fee accruals
ACTOR_COLLATERALIZATION = 10  # actors' own vaults hold 10x their debt in collateral
# Transactions per block at most. Anvil's cost per block grows with the state (~20 ms at 1,000
# vaults) and its receipts' cost with the square of the block's size (13 s for one block of
# 2,000): blocks of 100 balance the two.
MAX_BLOCK_TXS = 100


# the simulation's actors other than the stakers
_ROLES = (
    "governance",
    "feeder",
    "liquidation_keeper",
    "taker",
    "arbitrageur",
    "backstop_keeper",
    "bidder",
    "donor",
    "capital_taker",
)


@dataclass(frozen=True)
class Actors:
    governance: str
    feeder: str
    liquidation_keeper: str
    taker: str
    arbitrageur: str
    backstop_keeper: str
    bidder: str
    donor: str
    capital_taker: str
    stakers: tuple[str, ...]

    @classmethod
    def for_scenario(cls, scenario: Scenario) -> Actors:
        stakers = tuple(actor_address("staker", i) for i in range(scenario.backstop.pool_stakers))
        return cls(**{role: actor_address(role) for role in _ROLES}, stakers=stakers)

    def roles(self) -> dict[str, str]:
        out = {name: getattr(self, name) for name in _ROLES}
        out.update({f"staker {i}": s for i, s in enumerate(self.stakers)})
        return out


def bar_times(scenario: Scenario) -> tuple[list[int], list[int]]:
    """(times, market prices) of every bar: the path, then `tail_bars` more at its last price."""
    prices = scenario.market.prices
    times, closes = list(prices.times), list(prices.columns["close"])
    step = times[-1] - times[-2]
    for k in range(1, scenario.market.tail_bars + 1):
        times.append(prices.times[-1] + k * step)
        closes.append(closes[-1])
    return times, closes


def genesis_time(scenario: Scenario) -> int:
    """The chain's start: early enough that deployment (which waits out the oracle delay) and the
    population end before the first bar, even at one block (one second) per transaction."""
    c = scenario.system.collateral[0]
    setup_blocks = 2 * scenario.vaults.count + 12 * scenario.backstop.pool_stakers + 600
    # the stakers' stakes wait the stability pool's exposure delay, then the prices are renewed
    stake_wait = pool_exposure_delay(scenario.system) + c.oracle_delay
    return scenario.market.prices.times[0] - c.oracle_delay - stake_wait - setup_blocks - 600


def _utc(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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

    def __init__(
        self,
        scenario: Scenario,
        backend: Backend,
        kind: str,
        full_check_every: int | None = 6,
        progress: Callable[[int, int], None] | None = None,
    ):
        self.scenario = scenario
        self.backend = backend
        self.kind = kind
        self.full_check_every = full_check_every
        self.progress = progress
        self.actors = Actors.for_scenario(scenario)
        self.collateral = scenario.system.collateral[0]
        self.scale = 10 ** (18 - self.collateral.token_decimals)
        self.times, self.prices = bar_times(scenario)
        self.latency = Latency(scenario.market.gas, scenario.market.gas_price)
        self.bar = -1  # setup
        self.tx_count = 0
        self.rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
        self.states: list[tuple[int, dict[str, Any]]] = []
        self.in_flight: list[tuple[int, int, Action]] = []  # (landing bar, submitted bar, action)
        self.pending: list[tuple] = []  # queued for the next block (see queue)
        self.last_accrual = 0
        self.ledger = Ledger(self)
        self.dust_candidates: list[int] = []  # auctions whose lot x price < min_auction this bar
        self.dust_min_auction = 0  # rad, read with them
        self.peak_debt_in_auction = 0
        self.flash_taker = ""
        self.labels: dict[str, str] = {}

    # -------------------------------------------------------- sending and reading

    def read(self, calls: list[tuple[str, str, tuple]]) -> list[Any]:
        """State as of the last block: queued transactions are mined first."""
        self.flush()
        return self.backend.views(calls)

    def queue(
        self,
        actor: str,
        sender: str,
        contract: str,
        function: str,
        *args: Any,
        submitted_bar: int | None = None,
    ) -> None:
        """A transaction for the next block. Everything queued between two reads is mined as one
        block, in the order queued: an actor's decisions rest on the state it read, never on
        each other's results, so they can share a block."""
        self.pending.append((actor, sender, contract, function, args, submitted_bar))

    def flush(self) -> list[TxOutcome]:
        """Mine the queued transactions, in blocks of at most MAX_BLOCK_TXS, and record them with
        their events; their outcomes, in order."""
        pending, self.pending = self.pending, []
        mined: list[TxOutcome] = []
        for start in range(0, len(pending), MAX_BLOCK_TXS):
            block = pending[start : start + MAX_BLOCK_TXS]
            outcomes = self.backend.transact_block(
                [
                    (contract, function, sender, args)
                    for _, sender, contract, function, args, _ in block
                ]
            )
            t = self.backend.last_block_time
            for (actor, _, contract, function, _, submitted_bar), outcome in zip(block, outcomes):
                self._record(t, actor, contract, function, submitted_bar, outcome)
            mined += outcomes
        return mined

    def send(
        self,
        actor: str,
        sender: str,
        contract: str,
        function: str,
        *args: Any,
        submitted_bar: int | None = None,
    ) -> bool:
        """One transaction in a block of its own, recorded with its events; False if it reverted."""
        self.flush()
        try:
            self.backend.transact(contract, function, sender, *args)
            outcome = TxOutcome(True, None, self.backend.last_events)
        except Revert as exc:
            outcome = TxOutcome(False, exc.reason, [])
        self._record(
            self.backend.last_block_time, actor, contract, function, submitted_bar, outcome
        )
        return outcome.ok

    def _record(
        self,
        t: int,
        actor: str,
        contract: str,
        function: str,
        submitted_bar: int | None,
        outcome: TxOutcome,
    ) -> None:
        tx = self.tx_count
        self.tx_count += 1
        self.rows["txs"].append(
            (
                self.bar,
                t,
                tx,
                actor,
                self.labels.get(contract, contract),
                function,
                self.bar if submitted_bar is None else submitted_bar,
                "ok" if outcome.ok else "reverted",
                "" if outcome.ok else outcome.reason or "(no reason)",
            )
        )
        events = outcome.events
        for i, e in enumerate(events):  # args as JSON when the table is built (_events_table)
            self.rows["events"].append(
                (
                    self.bar,
                    t,
                    tx,
                    i,
                    self.labels.get(e.address, e.address),
                    e.address,
                    e.name,
                    e.args,
                )
            )
        self.ledger.on_events(events, t, actor)

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        tx = self.tx_count
        self.tx_count += 1
        address = self.backend.deploy(name, sender, *args)
        t = self.backend.last_block_time
        self.rows["txs"].append((self.bar, t, tx, "setup", name, "deploy", self.bar, "ok", ""))
        return address

    def act(self, action: Action) -> None:
        """Through the latency model: now, in a later bar, or dropped."""
        delay = (
            0
            if action.gas_price == 0
            else self.latency.delay(action.gas_price, self.times[self.bar])
        )
        if delay is None:
            self.rows["txs"].append(
                (
                    self.bar,
                    self.times[self.bar],
                    -1,
                    action.actor,
                    self.labels.get(action.contract, action.contract),
                    action.function,
                    self.bar,
                    "dropped",
                    "gas bid below the bar's 30th percentile",
                )
            )
        elif delay == 0:
            self.queue(action.actor, action.sender, action.contract, action.function, *action.args)
        else:
            self.in_flight.append((self.bar + delay, self.bar, action))

    def flying(self) -> set[tuple]:
        """The targets of every action still in flight."""
        return {target for _, _, a in self.in_flight for target in a.targets}

    # -------------------------------------------------------- setup

    def setup(self) -> None:
        s, a = self.scenario, self.actors
        b = _Recording(self)
        # the pool is seeded below from a safer vault than deploy_system's
        self.deployment = deploy_system(b, s.system, a.governance, a.feeder, seed_pools=False)
        d = self.deployment
        self.type_ = next(iter(d.types.values()))
        self.labels = {address: label.split(" ")[0] for label, address in d.contracts()}
        self.labels.update({address: role for role, address in a.roles().items()})
        self.price0 = self.prices[0]
        # fees accrue only when someone calls accrue: the rate stays put through the setup
        self.rate0 = self.read([(d.engine, "collateral_types", (self.type_.type_id,))])[0][1]
        t = self.type_
        g = a.governance
        # the collateral pool: governance's liquidity, from its own vault
        depth = s.market.pool_depth
        pool_tokens = depth * 10**self.collateral.token_decimals // self.collateral.initial_price
        self._fund(g, depth, exit_stable=True)
        self.queue("setup", g, t.token, "mint", g, pool_tokens)
        self.queue("setup", g, t.token, "approve", t.pool, pool_tokens)
        self.queue("setup", g, d.stablecoin, "approve", t.pool, depth)
        self.queue("setup", g, t.pool, "add_liquidity", pool_tokens, depth, 0)
        # the vault population: governance joins each owner's collateral, each owner draws
        self.plans: list[VaultPlan] = generate_vaults(
            s.vaults,
            s.seed,
            self.collateral.initial_price,
            self.collateral.token_decimals,
            self.collateral.dust,
        )
        total = sum(p.collateral for p in self.plans) // self.scale
        self.queue("setup", g, t.token, "mint", g, total)
        self.queue("setup", g, t.token, "approve", t.join, total)
        for p in self.plans:
            self.queue("setup", g, t.join, "join", p.owner, p.collateral // self.scale)
        for p in self.plans:
            self.queue(
                "setup",
                p.owner,
                d.engine,
                "modify_vault",
                t.type_id,
                p.owner,
                p.owner,
                p.owner,
                p.collateral,
                -(-p.debt * RAY // self.rate0),
            )
        for p, outcome in zip(self.plans, self.flush()[-len(self.plans) :]):
            if not outcome.ok:
                raise SimulationError(
                    f"vault {p.owner} could not be opened: {outcome.reason or '(no reason)'}"
                )
        k = s.keepers
        # the arbitrageur: half its capital in stablecoin (ERC-20), half in collateral tokens
        half = k.arbitrageur_capital // 2
        if half:
            self._fund(a.arbitrageur, half, exit_stable=True)
            self.queue(
                "setup",
                g,
                t.token,
                "mint",
                a.arbitrageur,
                half * 10**self.collateral.token_decimals // self.price0,
            )
        self.queue("setup", a.arbitrageur, t.token, "approve", t.pool, MAX_UINT256)
        self.queue("setup", a.arbitrageur, d.stablecoin, "approve", t.pool, MAX_UINT256)
        # the takers
        if k.taker_mode in ("flash", "both"):
            self.flash_taker = deploy_flash_taker(b, d, self.collateral.name, a.taker)
            self.labels[self.flash_taker] = "FlashTaker"
        if k.taker_mode in ("capital", "both"):
            self._fund(a.capital_taker, k.taker_capital, exit_stable=False)
            self.queue("setup", a.capital_taker, d.engine, "allow", t.auction)
        if k.debt_auction_capital:
            self._fund(a.bidder, k.debt_auction_capital, exit_stable=False)
            self.queue("setup", a.bidder, d.engine, "allow", d.debt_auction)
        if s.backstop.insurance_fund:
            self._fund(a.donor, s.backstop.insurance_fund, exit_stable=False)
            self.queue(
                "setup",
                a.donor,
                d.engine,
                "transfer_stable",
                a.donor,
                d.backstop,
                s.backstop.insurance_fund * RAY,
            )
        for staker in a.stakers:
            self._fund(staker, s.backstop.pool_stake, exit_stable=False)
            self.queue("setup", staker, d.engine, "allow", d.stability_pool)
            self.queue("setup", staker, d.stability_pool, "stake", s.backstop.pool_stake * RAY)
        self.flush()
        if a.stakers:
            # a stake becomes shares, by its staker, after the pool's exposure delay
            delay = self.read([(d.stability_pool, "exposure_delay", ())])[0]
            self.backend.set_next_block_time(self.backend.last_block_time + delay)
            for staker in a.stakers:
                self.queue("setup", staker, d.stability_pool, "activate")
            # the wait aged the deployment's prices: post them again and make them current
            for typ in d.types.values():
                self.queue("setup", a.feeder, typ.oracle, "post", typ.config.initial_price)
                self.queue("setup", a.feeder, typ.oracle, "poke")
            self.flush()
            oracle_delay = max(typ.config.oracle_delay for typ in d.types.values())
            self.backend.set_next_block_time(self.backend.last_block_time + oracle_delay)
            for typ in d.types.values():
                self.queue("setup", a.feeder, typ.oracle, "poke")
                self.queue("setup", a.feeder, d.spotter, "poke", typ.type_id)
            self.flush()
        failed = [r for r in self.rows["txs"] if r[7] != "ok"]
        if failed:
            raise SimulationError(
                f"setup transaction {failed[0][4]}.{failed[0][5]} reverted: {failed[0][8]}"
            )
        if self.backend.last_block_time >= self.times[0]:
            raise SimulationError("setup ran past the first bar (genesis_time is too late)")

    def _fund(self, who: str, stable: int, exit_stable: bool) -> None:
        """`who` opens a vault with 10x collateral and draws `stable` [wad]."""
        d, t, g = self.deployment, self.type_, self.actors.governance
        tokens = -(
            -stable * ACTOR_COLLATERALIZATION * 10**self.collateral.token_decimals // self.price0
        )
        self.queue("setup", g, t.token, "mint", who, tokens)
        self.queue("setup", who, t.token, "approve", t.join, tokens)
        self.queue("setup", who, t.join, "join", who, tokens)
        self.queue(
            "setup",
            who,
            d.engine,
            "modify_vault",
            t.type_id,
            who,
            who,
            who,
            tokens * self.scale,
            -(-stable * RAY // self.rate0),
        )
        if exit_stable:
            self.queue("setup", who, d.engine, "allow", d.stable_join)
            self.queue("setup", who, d.stable_join, "exit", who, stable)

    # -------------------------------------------------------- bars

    def run(self) -> SimulationResult:
        with _young_collections_batched():
            return self._run()

    def _run(self) -> SimulationResult:
        started = clock.perf_counter()
        self.index = VaultIndex(self.scenario.system.collateral[0].type_id)
        self.setup()
        setup_s = clock.perf_counter() - started
        d, t = self.deployment, self.type_
        self.static = dict(
            zip(
                ("oracle_delay", "min_decrease", "pool_fee"),
                self.read(
                    [
                        (t.oracle, "delay", ()),
                        (d.debt_auction, "min_decrease", ()),
                        (t.pool, "fee", ()),
                    ]
                ),
            )
        )
        every = self.full_check_every
        if every is not None:
            self._full_state()
        for i in range(len(self.times)):
            self.bar = i
            self._bar(i)
            if every is not None and ((i + 1) % every == 0 or i == len(self.times) - 1):
                self._full_state()
            if self.progress:
                self.progress(i + 1, len(self.times))
        total_s = clock.perf_counter() - started
        return self._result(setup_s, total_s)

    def _bar(self, i: int) -> None:
        s, d, t, a = self.scenario, self.deployment, self.type_, self.actors
        now, price = self.times[i], self.prices[i]
        if now > self.backend.last_block_time:
            self.backend.set_next_block_time(now)
        # 1. what the latency model held back lands first
        due = [f for f in self.in_flight if f[0] <= i]
        self.in_flight = [f for f in self.in_flight if f[0] > i]
        for _, submitted, action in due:
            self.queue(
                action.actor,
                action.sender,
                action.contract,
                action.function,
                *action.args,
                submitted_bar=submitted,
            )
        # 2. the price feed
        last_poke, next_price, current_price = self.read(
            [
                (t.oracle, "last_poke", ()),
                (t.oracle, "next_price", ()),
                (t.oracle, "current_price", ()),
            ]
        )
        for action in oracle_actions(
            a.feeder,
            t.oracle,
            d.spotter,
            t.type_id,
            price,
            self.backend.next_block_time,
            last_poke,
            self.static["oracle_delay"],
            reference=next_price or current_price,
            max_change=t.config.oracle_max_change,
        ):
            self.act(action)
        # 3. the arbitrageur
        rc, rs, arb_tokens, arb_stable = self.read(
            [
                (t.pool, "reserve_collateral", ()),
                (t.pool, "reserve_stable", ()),
                (t.token, "balanceOf", (a.arbitrageur,)),
                (d.stablecoin, "balanceOf", (a.arbitrageur,)),
            ]
        )
        pool = PoolView(rc, rs, self.static["pool_fee"], self.scale)
        arb = arbitrage_action(
            pool,
            price,
            s.keepers.arbitrage_threshold,
            arb_tokens,
            arb_stable,
            a.arbitrageur,
            t.pool,
        )
        if arb is not None:
            self.act(arb)
        # 4. liquidations
        view = read_liquidation_view(self.read, d, t)
        unsafe = self.index.unsafe(view.rate, view.safe_price)
        unsafe_set = set(unsafe)
        for owner in list(self.ledger.unsafe_since):
            if owner not in unsafe_set:
                del self.ledger.unsafe_since[owner]
        for owner in unsafe:
            self.ledger.unsafe_since.setdefault(owner, now)
            self.ledger.first_unsafe.setdefault(owner, now)
        for action in plan_liquidations(
            self.index,
            view,
            self.flying(),
            a.liquidation_keeper,
            d.liquidator,
            s.keepers.liquidation_gas_price,
        ):
            self.act(action)
        # 5. auctions
        market = read_auction_market(self.read, self.backend.call, d, t, a.capital_taker)
        self.dust_candidates = dust_candidates(market)
        if market is not None:
            self.dust_min_auction = market.min_auction
            for action in plan_takes(
                market, self.static["pool_fee"], self.scale, price, self.takers(), self.flying()
            ):
                self.act(action)
        # 6. the backstop
        backstop_view, done = read_backstop_view(
            self.read,
            d,
            t,
            BackstopWatch(sorted(self.ledger.watched_losses), sorted(self.ledger.debt_auction_ids)),
            a.bidder,
            a.stakers,
            self.dust_candidates,
            self.dust_min_auction,
            self.static["min_decrease"],
            lambda: self.backend.next_block_time,
        )
        # a loss with nothing left to cover: the keeper stops reading it
        self.ledger.watched_losses.difference_update(done)
        for action in backstop_actions(
            backstop_view,
            self._backstop_params(),
            now - self.last_accrual >= ACCRUE_EVERY,
            self.flying(),
        ):
            if action.function == "accrue":
                self.last_accrual = now
            self.act(action)
        self._snapshot(i, unsafe)

    def takers(self) -> list[TakerParams]:
        """The scenario's takers: flash, with capital, or both (the flash taker first)."""
        k, a, t = self.scenario.keepers, self.actors, self.type_
        out = []
        if k.taker_mode in ("flash", "both"):
            out.append(
                TakerParams(
                    "taker",
                    a.taker,
                    self.flash_taker,
                    t.auction,
                    "flash",
                    k.take_min_profit,
                    k.taker_gas_price,
                )
            )
        if k.taker_mode in ("capital", "both"):
            out.append(
                TakerParams(
                    "capital_taker",
                    a.capital_taker,
                    "",
                    t.auction,
                    "capital",
                    k.take_min_profit,
                    k.taker_gas_price,
                )
            )
        return out

    def _backstop_params(self) -> BackstopParams:
        d, t, a = self.deployment, self.type_, self.actors
        return BackstopParams(
            a.backstop_keeper,
            a.bidder if self.scenario.keepers.debt_auction_capital else "",
            d.backstop,
            d.debt_auction,
            d.stability_pool,
            d.fees,
            t.type_id,
            t.auction,
            self.scenario.keepers.backstop_gas_price,
        )

    def _snapshot(self, i: int, unsafe: list[str]) -> None:
        d, t = self.deployment, self.type_
        (
            oracle_price,
            ctype,
            rc,
            rs,
            bad_debt,
            surplus,
            open_losses,
            assets,
            to_auction,
            gov,
            active,
            in_auction,
            debt_in_auction,
            unsettled,
        ) = self.read(
            [
                (t.oracle, "current_price", ()),
                (d.engine, "collateral_types", (t.type_id,)),
                (t.pool, "reserve_collateral", ()),
                (t.pool, "reserve_stable", ()),
                (d.engine, "bad_debt", (d.backstop,)),
                (d.engine, "stable", (d.backstop,)),
                (d.backstop, "open_losses", ()),
                (d.stability_pool, "assets", ()),
                (d.backstop, "debt_to_auction", ()),
                (d.governance_token, "totalSupply", ()),
                (t.auction, "active_count", ()),
                (d.engine, "collateral", (t.type_id, t.auction)),
                (d.liquidator, "debt_in_auction", ()),
                (d.backstop, "unsettled_proceeds", ()),
            ]
        )
        # finished auctions' proceeds and covers' payments wait in the Backstop until healed (the
        # keeper heals with its hourly accrual): they are neither bad debt still owed nor
        # surplus, whenever the heal comes
        bad_debt, surplus = bad_debt - unsettled, surplus - unsettled
        self.peak_debt_in_auction = max(self.peak_debt_in_auction, debt_in_auction)
        art, rate, spot = ctype[0], ctype[1], ctype[2]
        p30, p60 = self.latency.percentiles(self.times[i])
        locked = self.index.total_collateral
        self.rows["bars"].append(
            (
                i,
                self.times[i],
                self.prices[i] / WAD,
                oracle_price / WAD,
                spot / RAY,
                (rs / (rc * self.scale)) if rc else 0.0,
                p60 / 10**9,
                art * rate / RAD,
                locked / WAD,
                in_auction / WAD,
                active,
                len(unsafe),
                len(self.ledger.liquidated),
                bad_debt / RAD,
                surplus / RAD,
                open_losses,
                assets / RAD,
                to_auction / RAD,
                gov / WAD,
            )
        )

    def _full_state(self) -> None:
        d = self.deployment
        counts = self.read(
            [
                (d.stability_pool, "charge_count", ()),
                (d.debt_auction, "count", ()),
                (d.surplus_auction, "count", ()),
                (d.backstop, "loss_count", ()),
            ]
        )
        keys = StateKeys(
            tuple(self.actors.roles().values()),
            # auction ids name a slot and its generation: the ids started are those of the loss
            # events opened (one per liquidation; the simulation liquidates its one type)
            tuple(
                (name, tuple(sorted(self.ledger.losses)) if t is self.type_ else ())
                for name, t in d.types.items()
            ),
            tuple(range(1, counts[0] + 1)),
            tuple(range(1, counts[1] + 1)),
            tuple(range(1, counts[2] + 1)),
            tuple(range(1, counts[3] + 1)),
            tuple(p.owner for p in self.plans) + ((self.flash_taker,) if self.flash_taker else ()),
        )
        # (a full read is large and never repeats exactly: a chain need not keep its encoding)
        state = read_state(self.backend, d, keys, cache=False)
        self.states.append((self.bar, state))

    # -------------------------------------------------------- the result

    def _result(self, setup_s: float, total_s: float) -> SimulationResult:
        d, t = self.deployment, self.type_
        tables = Tables(
            {
                name: partial(build_table, name, rows)
                for name, rows in self.rows.items()
                if name not in ("losses", "payers", "vaults")
            }
        )
        tables["losses"] = pd.DataFrame(self.ledger.loss_rows(), columns=list(TABLES["losses"]))
        tables["payers"] = pd.DataFrame(self.ledger.payer_rows(), columns=list(TABLES["payers"]))
        rate = self.read([(d.engine, "collateral_types", (t.type_id,))])[0][1]
        final_price = self.prices[-1]
        vault_rows = []
        for p in self.plans:
            collateral, art = self.index.vaults.get(p.owner, (0, 0))
            debt = art * rate
            vault_rows.append(
                (
                    p.owner,
                    p.collateral / WAD,
                    p.debt / WAD,
                    p.collateral * self.price0 / (p.debt * WAD),
                    collateral / WAD,
                    debt / RAD,
                    (collateral * final_price * RAY / (debt * WAD)) if debt else float("inf"),
                    self.ledger.first_unsafe.get(p.owner),
                    (self.ledger.liquidated.get(p.owner) or [None])[0],
                    len(self.ledger.liquidated.get(p.owner, [])),
                )
            )
        tables["vaults"] = pd.DataFrame(vault_rows, columns=list(TABLES["vaults"]))
        order = [LAYER_NAMES[x] for x in self.scenario.system.waterfall.order]
        facts = {
            "scenario": self.scenario.name,
            "description": self.scenario.description,
            "backend": self.kind,
            "collateral_symbol": self.collateral.token_symbol,
            "stable_symbol": self.scenario.system.stablecoin_symbol,
            "collateral_type": self.collateral.name,
            "waterfall": order,
            "liquidation_ratio": self.collateral.liquidation_ratio / RAY,
            "bar_seconds": self.times[1] - self.times[0],
            "bars": len(self.times),
            "vaults": len(self.plans),
            "transactions": self.tx_count,
            "peak_debt_in_auction": self.peak_debt_in_auction / RAD,
            "setup_s": round(setup_s, 3),
            "run_s": round(total_s, 3),
            "start": _utc(self.times[0]),
            "end": _utc(self.times[-1]),
        }
        return SimulationResult(self.scenario.name, self.kind, tables, facts, self.states)


class SimulationError(RuntimeError):
    """The scenario could not be set up as specified (one line)."""


class _Recording:
    """The backend as deploy_system sees it, with every transaction recorded by the simulation."""

    def __init__(self, sim: Simulation):
        self.sim = sim

    @property
    def last_block_time(self) -> int:
        return self.sim.backend.last_block_time

    def set_next_block_time(self, timestamp: int) -> None:
        self.sim.backend.set_next_block_time(timestamp)

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        return self.sim.deploy(name, sender, *args)

    def transact(self, address: str, function: str, sender: str, *args: Any) -> None:
        if not self.sim.send("setup", sender, address, function, *args):
            raise SimulationError(
                f"deployment step {function} reverted: {self.sim.rows['txs'][-1][-1]}"
            )

    def view(self, address: str, function: str, *args: Any) -> Any:
        return self.sim.read([(address, function, args)])[0]


# ---------------------------------------------------------------- entry points


def simulate(
    scenario: Scenario,
    kind: str,
    artifacts: dict | None = None,
    reader_code: str = "",
    full_check_every: int | None = 6,
    progress: Callable[[int, int], None] | None = None,
    node: str = "anvil",
) -> SimulationResult:
    """Run `scenario` on a fresh private Anvil (`kind="chain"`, or Hardhat Network with
    `node="hardhat"`; needs the compiled `artifacts` and the BatchReader's code, see
    backends.load_artifacts) or on the model (`kind="model"`).
    The complete state is read every `full_check_every` bars and at the start and end, for
    `reconcile`; never if None (a run that will not be reconciled)."""
    genesis = genesis_time(scenario)
    if kind == "model":
        return Simulation(
            scenario, ModelBackend(genesis), "model", full_check_every, progress
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
        chain.fund(senders, 10**30)
        sim = Simulation(scenario, chain, "chain", full_check_every, progress)
        return sim.run()
