"""The crash-replay driver: one scenario, bar by bar, on a chain or in the model.

`simulate(scenario, "chain", ...)` starts a private Anvil (offchain/anvil.py) whose genesis lies
before the scenario's first bar, deploys Backstop, opens the vault population and funds the
actors, then for every bar sets the block time to the bar's time and lets the actors act:

1. transactions that the latency model delayed from the previous bar land;
2. the feeder posts the market price and pokes the oracle and spotter when the delay allows;
3. the arbitrageur trades the collateral pool towards the market price (finite inventory);
4. the liquidation keeper liquidates the unsafe vaults its event-built index finds;
5. the taker resets stale auctions and takes profitable ones;
6. the backstop keeper accrues fees (hourly), covers queued losses, settles, runs debt auctions
   (with the bidder) and realizes stakers' charges.

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
import json
import time as clock
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from datetime import datetime, timezone
from typing import Any, Callable

import pandas as pd

from offchain.anvil import Anvil
from offchain.backends import ChainBackend, ModelBackend, TxOutcome
from offchain.config import LAYERS
from offchain.deployment import (
    Deployment, ModelReader, StateKeys, deploy_flash_taker, deploy_system, read_chain_state, read_model_state,
)
from offchain.errors import Revert
from offchain.fixed_point import MAX_UINT256, RAD, RAY, WAD
from offchain.dutch_auction import MAX_ACTIVE
from offchain.keepers import (
    Action, AuctionView, BackstopParams, BackstopView, DebtAuctionView, Latency, PoolView, TakerParams, VaultIndex,
    arbitrage_action, backstop_actions, liquidation_actions, oracle_actions, taker_actions,
)
from offchain.population import VaultPlan, actor_address, generate_vaults
from offchain.scenario_types import Scenario
from offchain.sim_result import LAYER_NAMES, TABLES, Reconciliation, SimulationResult, Tables
from offchain.state import Event

ACCRUE_EVERY = 3600  # seconds between the backstop keeper's fee accruals
ACTOR_COLLATERALIZATION = 10  # actors' own vaults hold 10x their debt in collateral
# Transactions per block at most. Anvil's cost per block grows with the state (~20 ms at 1,000
# vaults) and its receipts' cost with the square of the block's size (13 s for one block of
# 2,000): blocks of 100 balance the two.
MAX_BLOCK_TXS = 100


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
    def for_scenario(cls, scenario: Scenario) -> "Actors":
        return cls(*(actor_address(role) for role in (
            "governance", "feeder", "liquidation_keeper", "taker", "arbitrageur", "backstop_keeper", "bidder",
            "donor", "capital_taker")), tuple(actor_address("staker", i) for i in range(scenario.backstop.pool_stakers)))

    def roles(self) -> dict[str, str]:
        out = {name: getattr(self, name) for name in (
            "governance", "feeder", "liquidation_keeper", "taker", "arbitrageur", "backstop_keeper", "bidder",
            "donor", "capital_taker")}
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
    return scenario.market.prices.times[0] - c.oracle_delay - setup_blocks - 600


def _utc(t: int) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _jsonable(value: Any) -> Any:
    kind = type(value)
    if kind is int:  # the common case first (bool is not int here)
        return str(value)
    if kind is bool or value is None or kind is str:
        return value
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return str(value)


_JSON = json.JSONEncoder().encode
_JSON_KEYS: dict[str, str] = {}


def _args_json(args: dict[str, Any]) -> str:
    """json.dumps({k: _jsonable(v) for k, v in args.items()}, sort_keys=True): an event's args as
    the events table holds them, written out for the common values (a model run encodes ~18,000)."""
    parts = []
    for k in sorted(args):
        key = _JSON_KEYS.get(k)
        if key is None:
            key = _JSON_KEYS[k] = _JSON(k) + ": "
        v = args[k]
        parts.append(f'{key}"{v}"' if type(v) is int else key + _JSON(_jsonable(v)))  # ints: most values
    return "{" + ", ".join(parts) + "}"


@contextmanager
def _young_collections_batched(threshold: int = 100_000) -> Iterator[None]:
    """The cycle collector's youngest generation collected every `threshold` allocations, not
    CPython's 700, for the duration of a run (restored after). A run allocates millions of
    short-lived objects (rows, views, journal entries) and few cycles; at 700 every tenth young
    collection walks the older generations, and a model run spent ~15% of its time collecting.
    Nothing else changes: every cycle is still collected, a little later."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], threshold), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _table(name: str, rows: list[tuple]) -> pd.DataFrame:
    """A table from its recorded rows; the events' args (recorded as dicts) become JSON here."""
    if name == "events":
        rows = [row[:-1] + (_args_json(row[-1]),) for row in rows]
    return pd.DataFrame(rows, columns=list(TABLES[name]))


class Simulation:
    """One run of a scenario on one backend (see the module docstring)."""

    def __init__(self, scenario: Scenario, backend: Any, kind: str, full_check_every: int | None = 6,
                 progress: Callable[[int, int], None] | None = None):
        self.s = scenario
        self.b = backend
        self.kind = kind
        self.model_read = ModelReader(backend) if kind == "model" else None
        self.full_check_every = full_check_every
        self.progress = progress
        self.actors = Actors.for_scenario(scenario)
        self.c = scenario.system.collateral[0]
        self.scale = 10 ** (18 - self.c.token_decimals)
        self.times, self.prices = bar_times(scenario)
        self.latency = Latency(scenario.market.gas, scenario.market.gas_price)
        self.bar = -1  # setup
        self.tx_count = 0
        self.rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
        self.states: list[tuple[int, dict[str, Any]]] = []
        self.in_flight: list[tuple[int, int, Action]] = []  # (landing bar, submitted bar, action)
        self.pending: list[tuple] = []  # queued for the next block (see queue)
        self.last_accrual = 0
        self.unsafe_since: dict[str, int] = {}
        self.first_unsafe: dict[str, int] = {}
        self.liquidated: dict[str, list[int]] = {}
        self.debt_auction_ids: set[int] = set()
        self.losses: dict[int, dict[str, Any]] = {}
        self.watched_losses: set[int] = set()  # closed, not yet fully covered (see _backstop_view)
        self.dust_candidates: list[int] = []  # auctions whose lot x price < min_auction this bar
        self.dust_min_auction = 0  # rad, read with them
        self._handlers: dict[tuple[str, str], Callable[[dict, int, str], None]] | None = None
        self.payers: dict[tuple[str, str, str], int] = {}  # (payer, kind, layer) -> rad
        self.staker_charged: int = 0
        self.pool_allocated: int = 0
        self.gov_minted: int = 0
        self.peak_debt_in_auction = 0
        self.flash_taker = ""
        self.labels: dict[str, str] = {}

    # -------------------------------------------------------- sending and reading

    def read(self, calls: list[tuple[str, str, tuple]]) -> list[Any]:
        """State as of the last block: queued transactions are mined first."""
        self.flush()
        if self.kind == "chain":
            return self.b.views(calls)
        return self.model_read.many(calls)

    def queue(self, actor: str, sender: str, contract: str, function: str, *args: Any,
              submitted_bar: int | None = None) -> None:
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
            outcomes = self.b.transact_block([(contract, function, sender, args)
                                              for _, sender, contract, function, args, _ in block])
            t = self.b.last_block_time
            for (actor, _, contract, function, _, submitted_bar), outcome in zip(block, outcomes):
                self._record(t, actor, contract, function, submitted_bar, outcome)
            mined += outcomes
        return mined

    def send(self, actor: str, sender: str, contract: str, function: str, *args: Any,
             submitted_bar: int | None = None) -> bool:
        """One transaction in a block of its own, recorded with its events; False if it reverted."""
        self.flush()
        try:
            self.b.transact(contract, function, sender, *args)
            outcome = TxOutcome(True, None, self.b.last_events)
        except Revert as exc:
            outcome = TxOutcome(False, exc.reason, [])
        self._record(self.b.last_block_time, actor, contract, function, submitted_bar, outcome)
        return outcome.ok

    def _record(self, t: int, actor: str, contract: str, function: str, submitted_bar: int | None,
                outcome: TxOutcome) -> None:
        tx = self.tx_count
        self.tx_count += 1
        self.rows["txs"].append((self.bar, t, tx, actor, self.labels.get(contract, contract), function,
                                 self.bar if submitted_bar is None else submitted_bar,
                                 "ok" if outcome.ok else "reverted",
                                 "" if outcome.ok else outcome.reason or "(no reason)"))
        events = outcome.events
        for i, e in enumerate(events):  # args as JSON when the table is built (_events_table)
            self.rows["events"].append((self.bar, t, tx, i, self.labels.get(e.address, e.address), e.address, e.name,
                                        e.args))
        self._on_events(events, t, actor)

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        tx = self.tx_count
        self.tx_count += 1
        address = self.b.deploy(name, sender, *args)
        t = self.b.last_block_time
        self.rows["txs"].append((self.bar, t, tx, "setup", name, "deploy", self.bar, "ok", ""))
        return address

    def act(self, action: Action) -> None:
        """Through the latency model: now, in a later bar, or dropped."""
        delay = 0 if action.gas_price == 0 else self.latency.delay(action.gas_price, self.times[self.bar])
        if delay is None:
            self.rows["txs"].append((self.bar, self.times[self.bar], -1, action.actor,
                                     self.labels.get(action.contract, action.contract), action.function, self.bar,
                                     "dropped", "gas bid below the bar's 30th percentile"))
        elif delay == 0:
            self.queue(action.actor, action.sender, action.contract, action.function, *action.args)
        else:
            self.in_flight.append((self.bar + delay, self.bar, action))

    def flying(self) -> set[tuple]:
        """The targets of every action still in flight."""
        return {target for _, _, a in self.in_flight for target in a.targets}

    # -------------------------------------------------------- setup

    def setup(self) -> None:
        s, a = self.s, self.actors
        b = _Recording(self)
        # the pool is seeded below from a safer vault than deploy_system's
        self.d = deploy_system(b, s.system, a.governance, a.feeder, seed_pools=False)
        d = self.d
        self.t = next(iter(d.types.values()))
        self.labels = {address: label.split(" ")[0] for label, address in d.contracts()}
        self.labels.update({address: role for role, address in a.roles().items()})
        self.price0 = self.prices[0]
        # fees accrue only when someone calls accrue: the rate stays put through the setup
        self.rate0 = self.read([(d.engine, "collateral_types", (self.t.type_id,))])[0][1]
        t = self.t
        g = a.governance
        # the collateral pool: governance's liquidity, from its own vault
        depth = s.market.pool_depth
        pool_tokens = depth * 10**self.c.token_decimals // self.c.initial_price
        self._fund(g, depth, exit_stable=True)
        self.queue("setup", g, t.token, "mint", g, pool_tokens)
        self.queue("setup", g, t.token, "approve", t.pool, pool_tokens)
        self.queue("setup", g, d.stablecoin, "approve", t.pool, depth)
        self.queue("setup", g, t.pool, "add_liquidity", pool_tokens, depth, 0)
        # the vault population: governance joins each owner's collateral, each owner draws
        self.plans: list[VaultPlan] = generate_vaults(s.vaults, s.seed, self.c.initial_price, self.c.token_decimals,
                                                      self.c.dust)
        total = sum(p.collateral for p in self.plans) // self.scale
        self.queue("setup", g, t.token, "mint", g, total)
        self.queue("setup", g, t.token, "approve", t.join, total)
        for p in self.plans:
            self.queue("setup", g, t.join, "join", p.owner, p.collateral // self.scale)
        for p in self.plans:
            self.queue("setup", p.owner, d.engine, "modify_vault", t.type_id, p.owner, p.owner, p.owner,
                       p.collateral, -(-p.debt * RAY // self.rate0))
        for p, outcome in zip(self.plans, self.flush()[-len(self.plans):]):
            if not outcome.ok:
                raise SimulationError(f"vault {p.owner} could not be opened: {outcome.reason or '(no reason)'}")
        k = s.keepers
        # the arbitrageur: half its capital in stablecoin (ERC-20), half in collateral tokens
        half = k.arbitrageur_capital // 2
        if half:
            self._fund(a.arbitrageur, half, exit_stable=True)
            self.queue("setup", g, t.token, "mint", a.arbitrageur, half * 10**self.c.token_decimals // self.price0)
        self.queue("setup", a.arbitrageur, t.token, "approve", t.pool, MAX_UINT256)
        self.queue("setup", a.arbitrageur, d.stablecoin, "approve", t.pool, MAX_UINT256)
        # the takers
        if k.taker_mode in ("flash", "both"):
            self.flash_taker = deploy_flash_taker(b, d, self.c.name, a.taker)
            self.labels[self.flash_taker] = "FlashTaker"
        if k.taker_mode in ("capital", "both"):
            self._fund(a.capital_taker, k.taker_capital, exit_stable=False)
            self.queue("setup", a.capital_taker, d.engine, "allow", t.auction)
        if k.debt_auction_capital:
            self._fund(a.bidder, k.debt_auction_capital, exit_stable=False)
            self.queue("setup", a.bidder, d.engine, "allow", d.debt_auction)
        if s.backstop.insurance_fund:
            self._fund(a.donor, s.backstop.insurance_fund, exit_stable=False)
            self.queue("setup", a.donor, d.engine, "transfer_stable", a.donor, d.backstop,
                       s.backstop.insurance_fund * RAY)
        for staker in a.stakers:
            self._fund(staker, s.backstop.pool_stake, exit_stable=False)
            self.queue("setup", staker, d.engine, "allow", d.stability_pool)
            self.queue("setup", staker, d.stability_pool, "stake", s.backstop.pool_stake * RAY)
        self.flush()
        failed = [r for r in self.rows["txs"] if r[7] != "ok"]
        if failed:
            raise SimulationError(f"setup transaction {failed[0][4]}.{failed[0][5]} reverted: {failed[0][8]}")
        if self.b.last_block_time >= self.times[0]:
            raise SimulationError("setup ran past the first bar (genesis_time is too late)")

    def _fund(self, who: str, stable: int, exit_stable: bool) -> None:
        """`who` opens a vault with 10x collateral and draws `stable` [wad]."""
        d, t, g = self.d, self.t, self.actors.governance
        tokens = -(-stable * ACTOR_COLLATERALIZATION * 10**self.c.token_decimals // self.price0)
        self.queue("setup", g, t.token, "mint", who, tokens)
        self.queue("setup", who, t.token, "approve", t.join, tokens)
        self.queue("setup", who, t.join, "join", who, tokens)
        self.queue("setup", who, d.engine, "modify_vault", t.type_id, who, who, who, tokens * self.scale,
                   -(-stable * RAY // self.rate0))
        if exit_stable:
            self.queue("setup", who, d.engine, "allow", d.stable_join)
            self.queue("setup", who, d.stable_join, "exit", who, stable)

    # -------------------------------------------------------- events

    def _on_events(self, events: list[Event], t: int, actor: str) -> None:
        handlers = self._handlers
        if handlers is None:
            if not hasattr(self, "d"):  # deploy_system's own transactions: nothing to follow yet
                return
            handlers = self._handlers = self._event_handlers()
        for e in events:
            handler = handlers.get((e.address, e.name))
            if handler is not None:
                handler(e.args, t, actor)

    def _event_handlers(self) -> dict[tuple[str, str], Callable[[dict, int, str], None]]:
        """(emitter, event name) -> what the simulation records of it; other events only go to
        the events table."""
        d = self.d
        index_event = lambda args, t, actor: self.index.apply_args(args)  # noqa: E731
        return {
            (d.engine, "VaultModified"): index_event,
            (d.engine, "VaultSeized"): index_event,
            (d.liquidator, "Liquidated"): self._on_liquidated,
            (self.t.auction, "Taken"): self._on_taken,
            (d.backstop, "LossOpened"): self._on_loss_opened,
            (d.backstop, "LossClosed"): self._on_loss_closed,
            (d.backstop, "LossAllocated"): self._on_loss_allocated,
            (d.backstop, "LossRedistributed"): self._on_loss_redistributed,
            (d.stability_pool, "StakerCharged"): self._on_staker_charged,
            (d.debt_auction, "Started"): lambda args, t, actor: self.debt_auction_ids.add(args["auction_id"]),
            (d.debt_auction, "Finished"): self._on_debt_auction_finished,
        }

    def _on_liquidated(self, args: dict, t: int, actor: str) -> None:
        owner = args["owner"]
        since = self.unsafe_since.pop(owner, t)
        self.liquidated.setdefault(owner, []).append(t)
        self.rows["liquidations"].append((self.bar, t, owner, args["auction_id"], args["collateral"] / WAD,
                                          args["debt"] / RAD, since, t - since))

    def _on_taken(self, args: dict, t: int, actor: str) -> None:
        market = self.prices[self.bar] if self.bar >= 0 else self.price0
        self.rows["takes"].append((self.bar, t, args["auction_id"], actor, args["price"] / RAY, market / WAD,
                                   args["collateral"] / WAD, args["owe"] / RAD))

    def _on_loss_opened(self, args: dict, t: int, actor: str) -> None:
        self.losses[args["auction_id"]] = {"opened": t, "debt": args["debt"], "closed": None, "raised": 0,
                                           "covered": 0, "loss": None, "allocated": 0}

    def _on_loss_closed(self, args: dict, t: int, actor: str) -> None:
        self.losses[args["auction_id"]].update(closed=t, raised=args["raised"], covered=args["covered"],
                                               loss=args["loss"])
        self.watched_losses.add(args["auction_id"])  # the backstop keeper's from now on

    def _on_loss_allocated(self, args: dict, t: int, actor: str) -> None:
        layer = LAYER_NAMES[args["layer"]]
        amount = args["amount"]
        self.losses[args["auction_id"]]["allocated"] += amount
        self.rows["allocations"].append((self.bar, t, args["auction_id"], layer, args["participant"], amount / RAD))
        if layer == "fund":
            self._pay("insurance fund (Backstop surplus)", "fund", layer, amount)
        elif layer == "stability_pool":
            self.pool_allocated += amount
        elif layer == "debt_auction":
            self._pay("governance-token holders (debt auctions mint)", "debt_auction", layer, amount)
        elif layer == "settlement":
            self._pay("stablecoin holders (global settlement haircut)", "settlement", layer, amount)

    def _on_loss_redistributed(self, args: dict, t: int, actor: str) -> None:
        delta = args["delta_rate"]
        for owner, (_, art) in self.index.vaults.items():
            if art:
                self._pay(f"vault {owner}", "vault", "redistribution", art * delta)

    def _on_staker_charged(self, args: dict, t: int, actor: str) -> None:
        self.staker_charged += args["amount"]
        self._pay(f"staker {args['staker']}", "staker", "stability_pool", args["amount"])

    def _on_debt_auction_finished(self, args: dict, t: int, actor: str) -> None:
        self.debt_auction_ids.discard(args["auction_id"])
        self.gov_minted += args["lot"]

    def _pay(self, payer: str, kind: str, layer: str, amount: int) -> None:
        key = (payer, kind, layer)
        self.payers[key] = self.payers.get(key, 0) + amount

    # -------------------------------------------------------- bars

    def run(self) -> SimulationResult:
        with _young_collections_batched():
            return self._run()

    def _run(self) -> SimulationResult:
        started = clock.perf_counter()
        self.index = VaultIndex(self.s.system.collateral[0].type_id)
        self.setup()
        setup_s = clock.perf_counter() - started
        d, t, a = self.d, self.t, self.actors
        self.static = dict(zip(("oracle_delay", "min_decrease", "pool_fee"), self.read([
            (t.oracle, "delay", ()), (d.debt_auction, "min_decrease", ()), (t.pool, "fee", ())])))
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
        s, d, t, a = self.s, self.d, self.t, self.actors
        now, price = self.times[i], self.prices[i]
        if now > self.b.last_block_time:
            self.b.set_next_block_time(now)
        # 1. what the latency model held back lands first
        due = [f for f in self.in_flight if f[0] <= i]
        self.in_flight = [f for f in self.in_flight if f[0] > i]
        for _, submitted, action in due:
            self.queue(action.actor, action.sender, action.contract, action.function, *action.args,
                       submitted_bar=submitted)
        # 2. the price feed
        last_poke = self.read([(t.oracle, "last_poke", ())])[0]
        for action in oracle_actions(a.feeder, t.oracle, d.spotter, t.type_id, price, self.b.next_block_time,
                                     last_poke, self.static["oracle_delay"]):
            self.act(action)
        # 3. the arbitrageur
        rc, rs, arb_tokens, arb_stable = self.read([
            (t.pool, "reserve_collateral", ()), (t.pool, "reserve_stable", ()), (t.token, "balanceOf", (a.arbitrageur,)),
            (d.stablecoin, "balanceOf", (a.arbitrageur,))])
        pool = PoolView(rc, rs, self.static["pool_fee"], self.scale)
        arb = arbitrage_action(pool, price, s.keepers.arbitrage_threshold, arb_tokens, arb_stable, a.arbitrageur,
                               t.pool)
        if arb is not None:
            self.act(arb)
        # 4. liquidations
        ctype, running = self.read([(d.engine, "collateral_types", (t.type_id,)), (t.auction, "active_count", ())])
        rate, safe_price = ctype[1], ctype[2]
        unsafe = self.index.unsafe(rate, safe_price)
        unsafe_set = set(unsafe)
        for owner in list(self.unsafe_since):
            if owner not in unsafe_set:
                del self.unsafe_since[owner]
        for owner in unsafe:
            self.unsafe_since.setdefault(owner, now)
            self.first_unsafe.setdefault(owner, now)
        flying = self.flying()
        # the auctions the type can still start: its maximum, less those running and those queued
        room = MAX_ACTIVE - running - sum(1 for f in flying if f[0] == "vault")
        for action in liquidation_actions(self.index, rate, safe_price, flying, a.liquidation_keeper, d.liquidator,
                                          s.keepers.liquidation_gas_price, room):
            self.act(action)
        # 5. auctions
        active = list(self.b.call(t.auction, "active_auctions") if self.kind == "chain"
                      else self.model_read(t.auction, "active_auctions", ()))
        # auctions that may be worth less than min_auction even at their start price (lot x price
        # below it: the start price is at least the current one); the backstop keeper checks them
        self.dust_candidates = []
        if active:
            reads = self.read([(t.auction, "status", (i_,)) for i_ in active] + [
                (t.auction, "min_auction", ()), (t.pool, "reserve_collateral", ()), (t.pool, "reserve_stable", ()),
                (d.engine, "stable", (a.capital_taker,))])
            views = [AuctionView(aid, *reads[j]) for j, aid in enumerate(active)]
            min_auction, rc, rs, capital = reads[len(active):]
            self.dust_candidates = [v.auction_id for v in views if v.lot * v.price < min_auction]
            self.dust_min_auction = min_auction
            k = s.keepers
            pool = PoolView(rc, rs, self.static["pool_fee"], self.scale)
            takers = []
            if k.taker_mode in ("flash", "both"):
                takers.append(TakerParams("taker", a.taker, self.flash_taker, t.auction, "flash", k.take_min_profit,
                                          k.taker_gas_price))
            if k.taker_mode in ("capital", "both"):
                takers.append(TakerParams("capital_taker", a.capital_taker, "", t.auction, "capital",
                                          k.take_min_profit, k.taker_gas_price))
            for params in takers:
                # one taker per auction: what the first plans to take or reset, the second leaves
                planned = taker_actions(views, pool, price, min_auction, capital, params, self.flying())
                for action in planned:
                    self.act(action)
                targeted = {target for action in planned for target in action.targets}
                views = [v for v in views if ("auction", v.auction_id) not in targeted]
        # 6. the backstop
        for action in backstop_actions(self._backstop_view(), self._backstop_params(),
                                       now - self.last_accrual >= ACCRUE_EVERY, self.flying()):
            if action.function == "accrue":
                self.last_accrual = now
            self.act(action)
        self._snapshot(i, unsafe)

    def _backstop_params(self) -> BackstopParams:
        d, t, a = self.d, self.t, self.actors
        return BackstopParams(a.backstop_keeper, a.bidder if self.s.keepers.debt_auction_capital else "", d.backstop,
                              d.debt_auction, d.stability_pool, d.fees, t.type_id, t.auction,
                              self.s.keepers.backstop_gas_price)

    def _backstop_view(self) -> BackstopView:
        d, t, a = self.d, self.t, self.actors
        # the keeper acts on closed losses only (keepers.backstop_actions: status CLOSED); a loss
        # closes with its LossClosed event, so it reads just those, not every running auction's
        loss_ids = sorted(self.watched_losses)
        da_ids = sorted(self.debt_auction_ids)
        calls = [
            (d.engine, "stable", (d.backstop,)), (d.engine, "bad_debt", (d.backstop,)), (d.backstop, "unattributed_debt", ()),
            (d.backstop, "debt_to_auction", ()), (d.backstop, "debt_auction_bid_size", ()),
            (d.backstop, "surplus_buffer", ()), (d.backstop, "surplus_lot", ()), (d.backstop, "queue_delay", ()),
            (d.engine, "stable", (a.bidder,)), (d.stability_pool, "charge_count", ()),
        ]
        calls += [(d.backstop, "losses", (t.type_id, t.auction, x)) for x in loss_ids]
        calls += [(d.debt_auction, "auctions", (x,)) for x in da_ids]
        for staker in a.stakers:
            calls += [(d.stability_pool, "shares", (staker,)), (d.stability_pool, "next_charge", (staker,))]
        r = self.read(calls)
        n = 10
        losses = []
        for j, x in enumerate(loss_ids):
            _, due, created_at, status = r[n + j]
            if status == 3:  # nothing left to cover: the keeper stops reading it
                self.watched_losses.discard(x)
            losses.append((x, due, created_at, status))
        n += len(loss_ids)
        auctions = [DebtAuctionView(x, *r[n + j]) for j, x in enumerate(da_ids)]
        n += len(da_ids)
        stakers = [(st, r[n + 2 * j], r[n + 2 * j + 1]) for j, st in enumerate(a.stakers)]
        dust: tuple[int, ...] = ()
        candidates = self.dust_candidates
        if candidates:
            stored = self.read([(t.auction, "auctions", (x,)) for x in candidates])
            # auctions(id) = (position, debt, lot, owner, started, top)
            dust = tuple(x for x, au in zip(candidates, stored) if au[2] * au[5] < self.dust_min_auction)
        return BackstopView(self.b.next_block_time, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], losses,
                            auctions, self.static["min_decrease"], r[8], r[9], stakers, dust)

    def _snapshot(self, i: int, unsafe: list[str]) -> None:
        d, t = self.d, self.t
        (oracle_price, ctype, rc, rs, bad_debt, surplus, open_losses, assets, to_auction, gov, active,
         in_auction, debt_in_auction) = self.read([
            (t.oracle, "current_price", ()), (d.engine, "collateral_types", (t.type_id,)),
            (t.pool, "reserve_collateral", ()), (t.pool, "reserve_stable", ()), (d.engine, "bad_debt", (d.backstop,)),
            (d.engine, "stable", (d.backstop,)), (d.backstop, "open_losses", ()), (d.stability_pool, "assets", ()),
            (d.backstop, "debt_to_auction", ()), (d.governance_token, "totalSupply", ()), (t.auction, "active_count", ()),
            (d.engine, "collateral", (t.type_id, t.auction)), (d.liquidator, "debt_in_auction", ()),
        ])
        self.peak_debt_in_auction = max(self.peak_debt_in_auction, debt_in_auction)
        art, rate, spot = ctype[0], ctype[1], ctype[2]
        p30, p60 = self.latency.percentiles(self.times[i])
        locked = self.index.total_collateral
        self.rows["bars"].append((
            i, self.times[i], self.prices[i] / WAD, oracle_price / WAD, spot / RAY, (rs / (rc * self.scale)) if rc else 0.0,
            p60 / 10**9, art * rate / RAD, locked / WAD, in_auction / WAD, active, len(unsafe), len(self.liquidated),
            bad_debt / RAD, surplus / RAD, open_losses, assets / RAD, to_auction / RAD, gov / WAD,
        ))

    def _full_state(self) -> None:
        d = self.d
        counts = self.read([(t.auction, "count", ()) for t in d.types.values()] + [
            (d.stability_pool, "charge_count", ()), (d.debt_auction, "count", ()), (d.surplus_auction, "count", ())])
        n = len(d.types)
        keys = StateKeys(
            tuple(self.actors.roles().values()),
            tuple((name, tuple(range(1, counts[j] + 1))) for j, name in enumerate(d.types)),
            tuple(range(1, counts[n] + 1)), tuple(range(1, counts[n + 1] + 1)), tuple(range(1, counts[n + 2] + 1)),
            tuple(p.owner for p in self.plans) + ((self.flash_taker,) if self.flash_taker else ()),
        )
        # (a full read is large and never repeats exactly: the chain need not keep its encoding)
        state = read_chain_state(self.b, d, keys, cache=False) if self.kind == "chain" else read_model_state(
            self.b, d, keys, self.model_read)
        self.states.append((self.bar, state))

    # -------------------------------------------------------- the result

    def _result(self, setup_s: float, total_s: float) -> SimulationResult:
        d, t = self.d, self.t
        tables = Tables({name: partial(_table, name, rows) for name, rows in self.rows.items()
                         if name not in ("losses", "payers", "vaults")})
        loss_rows = []
        for auction_id, x in sorted(self.losses.items()):
            loss = x["loss"]
            loss_rows.append((auction_id, x["opened"], x["closed"], x["debt"] / RAD, x["raised"] / RAD,
                              x["covered"] / RAD, None if loss is None else loss / RAD, x["allocated"] / RAD,
                              None if loss is None else (loss - x["allocated"]) / RAD))
        tables["losses"] = pd.DataFrame(loss_rows, columns=list(TABLES["losses"]))
        if self.pool_allocated > self.staker_charged:
            self._pay("stability pool (charges not yet realized)", "staker", "stability_pool",
                      self.pool_allocated - self.staker_charged)
        payer_rows = sorted(((p, k, layer, amount / RAD) for (p, k, layer), amount in self.payers.items()),
                            key=lambda r: -r[3])
        tables["payers"] = pd.DataFrame(payer_rows, columns=list(TABLES["payers"]))
        rate = self.read([(d.engine, "collateral_types", (t.type_id,))])[0][1]
        final_price = self.prices[-1]
        vault_rows = []
        for p in self.plans:
            collateral, art = self.index.vaults.get(p.owner, (0, 0))
            debt = art * rate
            vault_rows.append((
                p.owner, p.collateral / WAD, p.debt / WAD, p.collateral * self.price0 / (p.debt * WAD),
                collateral / WAD, debt / RAD, (collateral * final_price * RAY / (debt * WAD)) if debt else float("inf"),
                self.first_unsafe.get(p.owner), (self.liquidated.get(p.owner) or [None])[0],
                len(self.liquidated.get(p.owner, [])),
            ))
        tables["vaults"] = pd.DataFrame(vault_rows, columns=list(TABLES["vaults"]))
        order = [LAYER_NAMES[x] for x in self.s.system.waterfall.order]
        facts = {
            "scenario": self.s.name, "description": self.s.description, "backend": self.kind,
            "collateral_symbol": self.c.token_symbol, "stable_symbol": self.s.system.stablecoin_symbol,
            "collateral_type": self.c.name, "waterfall": order, "liquidation_ratio": self.c.liquidation_ratio / RAY,
            "bar_seconds": self.times[1] - self.times[0], "bars": len(self.times), "vaults": len(self.plans),
            "transactions": self.tx_count, "peak_debt_in_auction": self.peak_debt_in_auction / RAD,
            "setup_s": round(setup_s, 3), "run_s": round(total_s, 3), "start": _utc(self.times[0]),
            "end": _utc(self.times[-1]),
        }
        return SimulationResult(self.s.name, self.kind, tables, facts, self.states)


class SimulationError(RuntimeError):
    """The scenario could not be set up as specified (one line)."""


class _Recording:
    """The backend as deploy_system sees it, with every transaction recorded by the simulation."""

    def __init__(self, sim: Simulation):
        self.sim = sim

    @property
    def last_block_time(self) -> int:
        return self.sim.b.last_block_time

    def set_next_block_time(self, timestamp: int) -> None:
        self.sim.b.set_next_block_time(timestamp)

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        return self.sim.deploy(name, sender, *args)

    def transact(self, address: str, function: str, sender: str, *args: Any) -> None:
        if not self.sim.send("setup", sender, address, function, *args):
            raise SimulationError(f"deployment step {function} reverted: {self.sim.rows['txs'][-1][-1]}")

    def view(self, address: str, function: str, *args: Any) -> Any:
        return self.sim.read([(address, function, args)])[0]


# ---------------------------------------------------------------- entry points


def simulate(scenario: Scenario, kind: str, artifacts: dict | None = None, reader_code: str = "",
             full_check_every: int | None = 6, progress: Callable[[int, int], None] | None = None
             ) -> SimulationResult:
    """Run `scenario` on a fresh private Anvil (`kind="chain"`; needs the compiled `artifacts`
    and the BatchReader's code, see backends.load_artifacts) or on the model (`kind="model"`).
    The complete state is read every `full_check_every` bars and at the start and end, for
    `reconcile`; never if None (a run that will not be reconciled)."""
    genesis = genesis_time(scenario)
    if kind == "model":
        return Simulation(scenario, ModelBackend(genesis), "model", full_check_every, progress).run()
    if kind != "chain":
        raise ValueError(f"unknown backend {kind!r}")
    with Anvil(genesis) as node:
        chain = ChainBackend(node.url, artifacts or {}, reader_code)
        # every actor is impersonated (anvil --auto-impersonate); each needs ether for gas
        senders = list(Actors.for_scenario(scenario).roles().values())
        senders += [actor_address("vault", i) for i in range(scenario.vaults.count)]
        chain.rpc_batch([("anvil_setBalance", [who, hex(10**30)]) for who in senders])
        sim = Simulation(scenario, chain, "chain", full_check_every, progress)
        return sim.run()


def reconcile(chain: SimulationResult, model: SimulationResult, max_lines: int = 20) -> Reconciliation:
    """Every transaction, event and bar snapshot and every full-state read of a chain run against
    a model run of the same scenario; each difference becomes one readable line."""
    r = Reconciliation()

    def diff(line: str) -> None:
        r.diff_count += 1
        if len(r.diffs) < max_lines:
            r.diffs.append(line)

    for name, key in (("txs", "txs_compared"), ("events", "events_compared"), ("bars", "bars_compared")):
        a, b = chain.tables[name], model.tables[name]
        setattr(r, key, max(len(a), len(b)))
        if len(a) != len(b):
            diff(f"{name}: chain has {len(a)} rows, model {len(b)}")
        for j, (ra, rb) in enumerate(zip(a.itertuples(index=False), b.itertuples(index=False))):
            if tuple(ra) != tuple(rb):
                cols = [c for c, x, y in zip(a.columns, ra, rb) if x != y]
                where = f"bar {ra.bar}" + (f" ({_utc(int(ra.time))})" if ra.time == ra.time else "")
                detail = "; ".join(f"{c}: chain {getattr(ra, c)!r}, model {getattr(rb, c)!r}" for c in cols)
                diff(f"{name} row {j} at {where}: {detail}")
    r.state_checks = min(len(chain.states), len(model.states))
    if len(chain.states) != len(model.states):
        diff(f"full-state reads: chain {len(chain.states)}, model {len(model.states)}")
    for (bar_a, sa), (bar_b, sb) in zip(chain.states, model.states):
        r.state_variables_compared += len(sa)
        if sa.keys() != sb.keys():
            diff(f"full state at bar {bar_a}: different variables ({len(sa)} on chain, {len(sb)} in the model)")
            continue
        for k in sa:
            if sa[k] != sb[k]:
                diff(f"full state at bar {bar_a}: {k}: chain {sa[k]!r}, model {sb[k]!r}")
    return r


def scenario_lines(s: Scenario) -> list[tuple[str, str]]:
    """The scenario's parameters as (parameter, value) rows for the report."""
    c, m, v, k, w = s.system.collateral[0], s.market, s.vaults, s.keepers, s.system.waterfall
    gwei = lambda x: f"{x / 10**9:g} gwei"  # noqa: E731
    curves = {0: "linear", 1: "stair-step", 2: "exponential"}
    times, _ = bar_times(s)
    return [
        ("description", s.description),
        ("price path", f"{m.prices.source}: {len(m.prices)} bars of {times[1] - times[0]} s, {_utc(times[0])} to "
                       f"{_utc(m.prices.times[-1])}, then {m.tail_bars} bars at the last price"),
        ("gas", m.gas.source if m.gas is not None else f"constant {gwei(m.gas_price)}"),
        ("collateral pool depth", f"{m.pool_depth / WAD:,.0f} {s.system.stablecoin_symbol} per side"),
        ("vaults", f"{v.count:,} (seed {s.seed}): debt log-normal, median {v.debt_median / WAD:,.0f}, sigma "
                   f"{v.debt_sigma:g}; start collateral ratio triangular({v.ratio_min:g}, {v.ratio_mode:g}, "
                   f"{v.ratio_max:g})"),
        ("collateral type", f"{c.name} ({c.token_symbol}): liquidation ratio {c.liquidation_ratio / RAY:g}, "
                            f"penalty {c.liquidation_penalty / WAD:g}, oracle delay {c.oracle_delay} s, dust "
                            f"{c.dust / RAD:,.0f}"),
        ("auctions", f"{curves[c.auction_curve[0]]} curve, start at {c.auction_buffer / RAY:g} x oracle price, reset "
                     f"after {c.auction_max_duration} s or below {c.auction_max_drop / RAY:g} x start; keeper reward "
                     f"{c.keeper_reward_rate / WAD:.2%} + {c.keeper_reward_flat / RAD:,.0f}"),
        ("keepers' gas bids", f"liquidation {gwei(k.liquidation_gas_price)}, taker {gwei(k.taker_gas_price)}, "
                              f"backstop {gwei(k.backstop_gas_price)}; at or above the bar's p60 a transaction lands "
                              "in the bar, at or above p30 one bar later, below p30 it is dropped"),
        ("taker", f"{k.taker_mode} take when the profit after gas and slippage is at least "
                  f"{k.take_min_profit / WAD:,.0f}" + (f", capital {k.taker_capital / WAD:,.0f}"
                                                       if k.taker_mode == "capital" else "")),
        ("arbitrageur", f"capital {k.arbitrageur_capital / WAD:,.0f}, trades when the pool is more than "
                        f"{k.arbitrage_threshold / WAD:.2%} off the market"),
        ("insurance fund / stability pool", f"{s.backstop.insurance_fund / WAD:,.0f} / {s.backstop.pool_stakers} "
                                            f"stakers x {s.backstop.pool_stake / WAD:,.0f}"),
        ("debt-auction bidder", f"capital {k.debt_auction_capital / WAD:,.0f}" if k.debt_auction_capital
         else "none"),
        ("waterfall", " -> ".join(LAYER_NAMES[x] for x in w.order) or "(no layer)"),
    ]


def waterfall_variant(scenario: Scenario, order: tuple[str, ...]) -> Scenario:
    """The same scenario under another waterfall order (layer names as in config.LAYERS)."""
    w = replace(scenario.system.waterfall, order=tuple(LAYERS[x] for x in order))
    return replace(scenario, system=replace(scenario.system, waterfall=w))
