"""Long-running keeper bots: one process per role, each a loop over the chain's new blocks.

Each block a bot (1) folds the new blocks' events into what it knows (`Follower`, which starts
over if the chain changed under it), (2) looks at its pending transactions (mined, stuck and
replaced, lost and sent again), (3) runs its role's step (`offchain.sim.strategies.steps`, the same
steps the simulator's bar runs) with its pending transactions' targets as the actions in flight, and
(4) sends what the step decides through its `TxManager`. Then it checkpoints. Nothing about
deciding is written here: a role is the choice of a step and of the bot's parameters for it.

Roles: `liquidator` (LiquidatorStep), `taker` (TakerStep, flash takes through the bot's own
FlashTaker, deployed by offchain/live/deploy.py), `backstop` (BackstopStep: accrue and heal,
cover, settle, debt and surplus auctions, realizing stakers' charges, closing dust auctions,
charging a loss the deleveraging layer parked to the strongest vaults when its account holds the
DELEVERAGE role),
`feeder` (FeederStep, for devnets: it posts the collateral pool's price) and `notifier`
(offchain/sim/strategies/notice.py's NoticeStep: it sends nothing, and prints a line, also POSTed to
a webhook, for every vault the oracle's queued price will call or make unsafe, and, with a
Timelock, for each call of a queued proposal that grants a right, moves value or changes a vault
limit, and each vault such a change would call or make unsafe).

Failure handling: a node that does not answer is waited out (with backoff; `max_node_down`
bounds it); a transaction that reverts because a competitor got there first is counted as lost;
`breaker` consecutive failures of another kind (reverted transactions, errors in a round) stop
the bot with the reason, exit status 3. An account that cannot pay for gas logs one line, sets
the `out_of_funds` metric and keeps watching (no crash loop).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offchain.backends import ChainBackend, RpcError
from offchain.backends.abi import CalldataReader
from offchain.backends.rpc import describe
from offchain.live.follower import Checkpoint, Follower, Watched
from offchain.live.gas import GasPolicy
from offchain.live.metrics import Log, Metrics
from offchain.live.node import Node, NodeUnavailable
from offchain.live.record import DeploymentRecord
from offchain.live.signers import Signer
from offchain.live.summary import NoticeSummary
from offchain.live.txs import (
    OUT_OF_GAS,
    OUT_OF_GAS_RETRIES,
    Mined,
    OutOfFunds,
    TxManager,
    starved,
    used_up,
)
from offchain.live.venue import venue_view
from offchain.live.webhook import Webhook
from offchain.model.fixed_point import WAD
from offchain.model.timelock import QUEUED
from offchain.sim.strategies.gas_costs import GAS_LIMIT_CAP, floor_limit
from offchain.sim.strategies.keepers import Action, BackstopParams, TakerParams, split_batch
from offchain.sim.strategies.notice import NoticeStep, QueuedCall, QueuedChange, read_call
from offchain.sim.strategies.observe import BackstopWatch
from offchain.sim.strategies.steps import (
    ACCRUE_EVERY,
    BackstopStep,
    FeederStep,
    LiquidatorStep,
    Step,
    TakerStep,
    World,
)
from offchain.sim.strategies.taker import VenueView
from offchain.system import governance
from offchain.system.deployment import Deployment

ROLES = ("liquidator", "taker", "backstop", "feeder", "notifier")
# revert reasons that mean a competitor (or the chain moving on) made the action moot
LOST_RACE = (
    "auction: not running",
    "auction: cannot reset",
    "auction: needs reset",
    "auction: price above maximum",
    "flash: profit below minimum",
    "backstop: nothing to cover",
    "backstop: insufficient unattributed debt",
    "backstop: insufficient surplus",
    "backstop: no debt to auction",
    "backstop: nothing to deleverage",
    "debt auction: ",
)
# of those, the ones no competitor causes: time and prices moved on
MOVED_ON = ("auction: needs reset", "auction: price above maximum")


def race_outcome(reason: str | None) -> str | None:
    """How a reverted action of the bot's is logged by its reason: "lost" (another account
    acted first), "moot" (the chain moved on by itself: an auction that ran its course needs a
    reset, its price rose above the maximum; no competitor to name), or None (a failure)."""
    if reason is None or not any(reason.startswith(r) for r in LOST_RACE):
        return None
    return "moot" if any(reason.startswith(r) for r in MOVED_ON) else "lost"


# deployment field -> contract name, for the ABI of each address


def error_line(exc: BaseException) -> str:
    """A failed round's error as the bot logs it: a node's error names the request and the
    reason (`eth_call Backstop.cover(ETH-A, 12) reverted: backstop: nothing to cover`, not
    `RpcError: eth_call: {'code': 3, ...}`: rpc.describe); another, its kind and text."""
    if isinstance(exc, RpcError):
        return describe(exc)
    return f"{type(exc).__name__}: {exc}"


class BotStopped(RuntimeError):
    """The bot stopped itself (circuit breaker, node gone too long); the message says why."""


@dataclass
class BotOptions:
    role: str
    record: DeploymentRecord
    rpc_url: str
    checkpoint: Path
    signer: Signer | None  # None: read-only (decides and logs, holds no key)
    gas: GasPolicy
    dry_run: bool = False
    poll_seconds: float = 0.25
    breaker: int = 5  # consecutive failures that stop the bot
    max_node_down: float | None = None  # seconds without the node before stopping; None: wait
    stuck_blocks: int = 3
    stuck_seconds: float = 15.0
    min_profit: int = 0  # taker: wad of stablecoin after gas
    feed_every: int = 600  # feeder: chain seconds between two posts
    metrics_port: int | None = None  # None: no HTTP server; 0: any free port
    rpc_timeout: float = 5.0
    types: list[str] = field(default_factory=list)  # collateral types (empty: all)
    webhook: str | None = None  # notifier: each notice line is also POSTed here
    webhook_timeout: float = 2.0  # seconds


def retry(fn: Callable[[], Any], seconds: float = 30.0) -> Any:
    """`fn()`, tried again while the node does not answer, for up to `seconds` (a bot starting
    against a flaky endpoint); the last NodeUnavailable then."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return fn()
        except (NodeUnavailable, OSError) as exc:
            if time.monotonic() > deadline:
                raise NodeUnavailable(str(exc)) from None
        except RuntimeError as exc:  # ChainBackend's own transport: an HTTP error status
            if "answered HTTP" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def attach(record: DeploymentRecord, rpc_url: str, artifacts: dict, reader: str, timeout: float):
    """(Node, ChainBackend reading and encoding for the record's contracts) for `rpc_url`; the
    backend does not reconfigure the node (a devnet shared with others)."""
    node = Node(rpc_url, timeout)
    try:
        chain = retry(lambda: ChainBackend(rpc_url, artifacts, reader, dev_node=False))
    except NodeUnavailable as exc:
        raise NodeUnavailable(f"no JSON-RPC node answers at {rpc_url} ({exc})") from None
    chain._transport = node.transport  # type: ignore[assignment]  (timeouts, NodeUnavailable)
    chain.names.update(record.contract_names())
    return node, chain


class Bot:
    """One role's loop (see the module docstring)."""

    def __init__(self, options: BotOptions, artifacts: dict, reader: str, log: Log | None = None):
        self.o = options
        self.role = options.role
        self.log = log or Log(options.role)
        self.metrics = Metrics(options.role)
        self.record = options.record
        self.d: Deployment = options.record.deployment()
        self.node, self.chain = attach(
            options.record, options.rpc_url, artifacts, reader, options.rpc_timeout
        )
        self.chain_id = options.record.chain_id
        self.txs = TxManager(
            self.node,
            options.signer,
            self.chain_id,
            options.gas,
            self.log,
            options.dry_run,
            options.stuck_blocks,
            options.stuck_seconds,
        )
        self.follower = Follower(self.chain, self.node, self.d, self.record.first_block)
        self.store = Checkpoint(
            options.checkpoint, self.chain_id, self.record.identity, options.role
        )
        self.types = options.types or list(self.d.types)
        self.state: dict[str, Any] = {"last_accrual": 0, "last_post": {}, "flash_takers": {}}
        # called after the chain changed under the bot (a reorganization, a devnet started afresh
        # or on another node): the taker re-checks its FlashTakers (deploy.ensure_flash_takers)
        self.on_chain_change: list[Callable[[], None]] = []
        # called at the start of every round (the taker: its FlashTakers follow the devnet's
        # outside venues, deploy.rebind_flash_takers)
        self.on_round: list[Callable[[], None]] = []
        # the outside venues (type -> address) the FlashTakers are bound to (offchain/live/
        # venue.py: kept beside the record by the market session); {}: none
        self.venues: dict[str, str] = {}
        self.venues_read: dict[str, str] = {}  # as the file beside the record had them then
        self.decided_block = -1
        self.failures = 0
        self.out_of_funds = ""
        self.stopping = ""
        self._round: dict[str, Any] = {}  # what is read once a round (the clock, the base fee)
        # the notifier's queued proposals: id -> decoded calls (None: not decodable), read once
        self._proposals: dict[int, list[tuple[str, str, tuple]]] = {}
        self._calldata: CalldataReader | None = None
        # (contract, function, number of inputs) -> the inputs' names in the ABI, built once
        self._inputs: dict[tuple[str, str, int], tuple[str, ...]] | None = None
        self._resumed = False
        self.metrics_port: int | None = None  # the metrics server's, once serving
        self.webhook = (
            Webhook(options.webhook, options.webhook_timeout) if options.webhook else None
        )
        self.world = World(
            self.d,
            self.read,
            self.chain.call,
            clock=self.now,
            next_block_time=self.now,
            in_flight=self.txs.in_flight,
            index=lambda name: self.follower.watched.indexes[name],
            market_price=self.pool_price,
            follow=self,
        )
        self.step = self._step()
        # the notifier's terminal summary (offchain/live/summary.py), set by the command
        self.summary: NoticeSummary | None = None

    @property
    def me(self) -> str:
        return self.txs.address

    # -------------------------------------------------------- checkpoint

    def resume(self) -> None:
        """Load the checkpoint, if any (once)."""
        if self._resumed:
            return
        self._resumed = True
        data = self.store.load()
        if data is None:
            self.log("fresh_start", first_block=self.record.first_block)
            return
        self.follower.watched = Watched.from_json(self.d, data["watched"])
        self.txs.load(data["pending"])
        self.state.update(data["state"])
        for name, value in data["metrics"].items():
            if name.endswith("_total") and name in self.metrics.values:
                self.metrics.set(name, value)
        for reason, value in data.get("reverts_by_reason", {}).items():
            self.metrics.add_reason(reason, value)
        self.log(
            "resumed",
            block=self.follower.watched.last_block,
            pending=len(self.txs.pending),
            checkpoint=str(self.store.path),
        )

    def save(self) -> None:
        self.store.save(
            {
                "role": self.role,
                "watched": self.follower.watched.to_json(),
                "pending": self.txs.dump(),
                "state": self.state,
                "metrics": dict(self.metrics.values),
                "reverts_by_reason": dict(self.metrics.reasons),
            }
        )

    # -------------------------------------------------------- the loop

    def serve_metrics(self) -> None:
        """Start the /metrics and /health server if asked and not yet started (OSError: the port
        is taken). The command starts it before resuming, so a busy port stops nothing midway."""
        if self.o.metrics_port is not None and self.metrics_port is None:
            self.metrics_port = self.metrics.serve(self.o.metrics_port)
            self.log(
                "metrics", url=f"http://127.0.0.1:{self.metrics_port}/metrics", health="/health"
            )

    def run(self) -> int:
        """Until a signal (exit 0) or the bot stops itself (exit 3, the reason logged)."""

        def on_signal(signum: int, _frame: Any) -> None:
            self.stopping = signal.Signals(signum).name

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.serve_metrics()
        self.resume()
        self.log(
            "started",
            account=self.me or None,
            mode="read-only" if self.o.signer is None else "dry-run" if self.o.dry_run else "live",
            types=self.types,
        )
        down_since: float | None = None
        backoff = self.o.poll_seconds
        code = 0
        try:
            while not self.stopping:
                try:
                    self.tick()
                    if down_since is not None:
                        self.log("node_back", after_s=round(time.monotonic() - down_since, 2))
                    down_since, backoff = None, self.o.poll_seconds
                    self.metrics.node_ok = True
                    self.failures = 0
                except NodeUnavailable as exc:
                    self.metrics.node_ok = False
                    self.metrics.add("node_errors_total")
                    if down_since is None:
                        down_since = time.monotonic()
                        self.log("node_unavailable", error=str(exc))
                    elif (
                        self.o.max_node_down is not None
                        and time.monotonic() - down_since > self.o.max_node_down
                    ):
                        raise BotStopped(
                            f"the node at {self.o.rpc_url} has not answered for "
                            f"{self.o.max_node_down:g} s"
                        ) from None
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 2.0)
                    continue
                except (RpcError, ValueError, KeyError) as exc:
                    self.fail(error_line(exc))
                time.sleep(self.o.poll_seconds)
            if self.summary is not None:
                self.summary.flush(force=True)
            self.log("stopped", reason=f"signal {self.stopping}")
        except BotStopped as exc:
            self.metrics.stop_reason = str(exc)
            self.log("stopped", reason=str(exc))
            code = 3
        finally:
            self.metrics.set("up", 0)
            try:
                self.save()
            except OSError as exc:
                self.log("checkpoint_failed", error=str(exc))
            self.metrics.close()
        return code

    def fail(self, what: str) -> None:
        self.failures += 1
        self.log("failure", error=what, consecutive=self.failures)
        if self.failures >= self.o.breaker:
            raise BotStopped(f"circuit breaker: {self.failures} consecutive failures, last: {what}")

    def tick(self) -> None:
        """One round: events, pending transactions, decisions (once per new block)."""
        head = self.node.block_number()
        self.metrics.set("head_block", head)
        if self.follower.catch_up(head):
            self.metrics.add("reorgs_total")
            self.txs.resync()
            self.decided_block = -1
            self.log("chain_changed", head=head, rebuilt_from=self.record.first_block)
            # the times kept are the old chain's: a clock that is now behind them would hold
            # back accruals and price posts until it caught up
            self.state["last_accrual"], self.state["last_post"] = 0, {}
            for hook in self.on_chain_change:
                hook()
        for hook in self.on_round:
            hook()
        for mined in self.txs.poll(head):
            self.on_mined(mined)
        processed = self.follower.watched.last_block
        self.metrics.set("processed_block", processed)
        self.metrics.set("pending_transactions", len(self.txs.pending))
        self.metrics.add("replacements_total", self.txs.replaced)
        self.metrics.add("rebroadcasts_total", self.txs.rebroadcast)
        self.txs.replaced = self.txs.rebroadcast = 0
        if self.me:
            self.metrics.set("balance_wei", self.node.balance(self.me))
        if processed != self.decided_block:
            # marked decided only once every action is sent: a round the node cut short is
            # decided again (what was sent is pending, so in flight)
            self.act(self.decide(), head)
            self.decided_block = processed
        self.save()
        if self.summary is not None:
            self.summary.flush()

    # -------------------------------------------------------- acting

    def act(self, actions: list[Action], head: int) -> None:
        queue, i = list(actions), 0
        while i < len(queue):
            action = queue[i]
            i += 1
            tx, _ = self.chain.call_data(action.contract, action.function, *action.args)
            targets = [list(t) for t in action.targets]
            label = f"{self.chain.names.get(action.contract, action.contract)}.{action.function}"
            gas = self.txs.estimate(tx["to"], tx["data"]) if self.me else 1
            if gas is None and action.function == "liquidate_many" and len(action.targets) > 1:
                # the node cannot estimate the batch (it reverts now): its halves, each estimated
                # in turn, so that one vault that reverts holds back only itself
                queue[i:i] = split_batch(action)
                self.log("split", label=label, targets=targets)
                continue
            if gas is None:
                self.metrics.add("actions_lost_total")
                self.log("moot", label=label, targets=targets)
                continue
            # the estimate holds for the state it was made on: at least what the strategy sized,
            # and a function's floor where a state moved on costs more (gas_costs.floor_limit)
            gas = min(max(gas, action.gas_limit, floor_limit(action)), GAS_LIMIT_CAP)
            try:
                sent = self.txs.send(tx["to"], tx["data"], gas, label, targets, head)
            except OutOfFunds as exc:
                missed = len(queue) - i + 1
                self.metrics.add("opportunities_missed_total", missed)
                self.metrics.set("out_of_funds", 1)
                if str(exc).split(",")[0] != self.out_of_funds:
                    self.out_of_funds = str(exc).split(",")[0]
                    self.log("out_of_funds", error=str(exc), missed=missed)
                return
            if sent is not None:
                self.metrics.add("actions_sent_total")
            if self.out_of_funds:
                self.out_of_funds = ""
                self.metrics.set("out_of_funds", 0)
                self.log("funds_ok")

    def on_mined(self, m: Mined) -> None:
        label = m.pending.label
        if m.ok:
            self.metrics.add("actions_mined_total")
            self.failures = 0
            events = [self.chain._decode_log(log) for log in m.logs]
            done = [e for e in events if e.address == self.d.liquidator and e.name == "Liquidated"]
            if label.endswith("liquidate_many"):
                self.metrics.add("liquidations_total", len(done))
                skipped = len(m.pending.targets) - len(done)
                if skipped:
                    self.metrics.add("actions_lost_total", skipped)
            self.log(
                "mined",
                label=label,
                tx=m.tx_hash,
                block=m.block,
                gas=m.gas_used,
                liquidated=[e.args["owner"] for e in done] or None,
            )
            return
        self.metrics.add("actions_reverted_total")
        try:
            reason = self.chain._revert_reason(m.tx_hash)
        except (RpcError, NodeUnavailable):
            reason = None
        if reason is None and self.out_of_gas(m):
            reason = OUT_OF_GAS
        self.metrics.add_reason(reason or "no reason")
        event = race_outcome(reason)
        if event is not None:
            self.metrics.add("actions_lost_total")
            self.log(event, label=label, tx=m.tx_hash, reason=reason)
            return
        self.log(
            "reverted",
            label=label,
            tx=m.tx_hash,
            reason=reason,
            gas=m.gas_used,
            limit=m.pending.gas,
        )
        if reason == OUT_OF_GAS and self.retry_out_of_gas(m):
            return
        self.fail(f"{label} reverted: {reason or '(no reason)'}")

    def out_of_gas(self, m: Mined) -> bool:
        """Whether a failed transaction ran out of gas: it used (nearly) all of its limit (a
        starving callee leaves its callers at most 1/64 each) and, where the node traces calls,
        a frame of its trace says so."""
        if not used_up(m.gas_used, m.pending.gas):
            return False
        if self.chain.hardhat:  # no call tracer: the receipt's figures decide
            return True
        try:
            trace = self.chain.rpc("debug_traceTransaction", [m.tx_hash, {"tracer": "callTracer"}])
        except (RpcError, NodeUnavailable):
            return True
        return starved(trace)

    def retry_out_of_gas(self, m: Mined) -> bool:
        """Send an action that ran out of gas again with more gas: twice its limit, or the fresh
        estimate with its margin if higher, at most GAS_LIMIT_CAP; True if sent (or moot now)."""
        p = m.pending
        if p.retries >= OUT_OF_GAS_RETRIES or p.gas >= GAS_LIMIT_CAP:
            return False
        estimate = self.txs.estimate(p.to, p.data)
        if estimate is None:  # no longer applies (a competitor, the chain moved on)
            self.metrics.add("actions_lost_total")
            self.log("moot", label=p.label, targets=p.targets)
            return True
        gas = min(max(2 * p.gas, estimate), GAS_LIMIT_CAP)
        self.log("retry", label=p.label, reason=OUT_OF_GAS, gas=gas, previous_gas=p.gas)
        try:
            sent = self.txs.send(
                p.to,
                p.data,
                gas,
                p.label,
                p.targets,
                self.follower.watched.last_block,
                p.retries + 1,
            )
        except OutOfFunds as exc:
            self.metrics.add("opportunities_missed_total")
            self.metrics.set("out_of_funds", 1)
            self.log("out_of_funds", error=str(exc), missed=1)
            return True
        if sent is not None:
            self.metrics.add("retries_total")
        return True

    # -------------------------------------------------------- deciding

    def _step(self) -> Step:
        """The role's step, with this bot's parameters."""
        if self.role == "liquidator":
            # read-only: as governance's account (anyone may liquidate; it names the keeper)
            return LiquidatorStep(self.me or self.d.governance)
        # read-only: decides as the deployment's admin would (the roles the backstop needs)
        me = self.me or self._admin
        if self.role == "taker":
            return TakerStep(self._takers, self.me)
        if self.role == "backstop":
            return BackstopStep(
                self._backstop_params,
                me,
                lambda: sorted(self.follower.watched.stakers),
                self.me,
                ACCRUE_EVERY,
                self.state,
            )
        if self.role == "feeder":
            return FeederStep(self.me, self.o.feed_every, self.state)
        if self.role == "notifier":
            queued = self.queued_changes if self.d.timelock else None
            calls = self.queued_calls if self.d.timelock else None
            return NoticeStep(self.notify, self.state, queued=queued, calls=calls)
        raise ValueError(f"unknown role {self.role!r} (one of {', '.join(ROLES)})")

    def read(self, calls: list[tuple[str, str, tuple]]) -> list[Any]:
        return self.chain.views(calls, cache=True)

    def queued_changes(self) -> list[QueuedChange]:
        """The vault-limit changes of every proposal queued in governance's Timelock now."""
        out: list[QueuedChange] = []
        for i, eta, calls in self._queued():
            out += QueuedChange.of(i, eta, calls, self.d)
        return out

    def queued_calls(self) -> list[QueuedCall]:
        """Every call of every proposal queued now, with its contract's name and its arguments'
        names (classed: offchain/system/privileges.py)."""
        out: list[QueuedCall] = []
        for i, eta, calls in self._queued():
            out += QueuedCall.of(
                i, eta, calls, lambda a: self.chain.names.get(a, a), self._arg_names
            )
        return out

    def _arg_names(self, contract: str, function: str, count: int) -> tuple[str, ...]:
        """The names of `contract`'s `function`'s `count` inputs in its ABI; () if unknown."""
        if self._inputs is None:
            self._inputs = {}
            for name, (abi, _) in self.chain.artifacts.items():
                for item in abi:
                    if item.get("type") == "function":
                        names = tuple(i["name"] for i in item["inputs"])
                        self._inputs[(name, item["name"], len(names))] = names
        return self._inputs.get((contract, function, count), ())

    def _queued(self) -> list[tuple[int, int, list[tuple[str, str, tuple]]]]:
        """(id, eta, decoded calls) of every proposal queued in governance's Timelock now, once
        a round: each proposal's status read every round, its calls (from its CallQueued events,
        decoded with the contracts' ABIs; function "": a call not read) once."""
        if "queued" in self._round:
            return self._round["queued"]
        timelock = self.d.timelock
        out: list[tuple[int, int, list[tuple[str, str, tuple]]]] = []
        try:
            count = self.read([(timelock, "proposal_count", ())])[0]
            ids = list(range(1, count + 1))
            records = self.read([(timelock, "proposals", (i,)) for i in ids]) if ids else []
            now = self.now()
            for i, (_, eta, expires, status, _) in zip(ids, records):
                if status != QUEUED or now > expires:  # an expired proposal can never run
                    continue
                if i not in self._proposals:
                    first = self.o.record.first_block
                    raw = governance.queued_calls(self.chain, self.d, first, i)
                    if not raw:  # not found (yet): read again next round, never cached empty
                        continue
                    self._proposals[i] = [self._decoded(target, data) for target, data in raw]
                out.append((i, eta, self._proposals[i]))
        except (RpcError, NodeUnavailable) as exc:
            # the queue unread this round: the price notices go on; one line, tried next round
            self.log("queue_unread", error=error_line(exc))
            out = []
        self._round["queued"] = out
        return out

    def _decoded(self, target: str, data: bytes) -> tuple[str, str, tuple]:
        """(target, function, args) of one queued call; (target, "", ()) for a call to a
        contract the record does not name, or calldata its ABI does not decode: it changes no
        vault limit the notifier judges, and it is flagged as a call not read
        (notice.UNREAD)."""
        if self._calldata is None:
            abis = {name: abi for name, (abi, _) in self.chain.artifacts.items()}
            self._calldata = CalldataReader(abis, self.chain.names)
        return read_call(self._calldata, target, data)

    def notify(self, event: str, fields: dict[str, Any]) -> None:
        """The notifier's line: logged with the processed block (to its log file, and counted in
        the terminal's summary: offchain/live/summary.py), then POSTed to the webhook, if any (a
        failed post is one stderr line, never a failure of the bot)."""
        line = self.log.line(event, block=self.follower.watched.last_block, **fields)
        if self.summary is not None:
            self.summary.add(event, fields)
        self.metrics.add("notices_total")
        if self.webhook is not None and not self.webhook.post(line):
            self.metrics.add("webhook_failures_total")

    def decide(self) -> list[Action]:
        """The role's step on what the chain shows now."""
        self._round.clear()
        self.world.new_round()
        return self.step.decide(self.world, self.types)

    def now(self) -> int:
        """The next block's time, as the round sees it (read once a round)."""
        if "now" not in self._round:
            latest = self.node.block("latest")
            self._round["now"] = int(latest["timestamp"], 16) + 1  # type: ignore[index]
        return self._round["now"]

    def pool_price(self, name: str) -> int:
        """The collateral pool's price, stablecoin per token [wad]: the devnet's market."""
        t = self.d.types[name]
        rc, rs = self.read([(t.pool, "reserve_collateral", ()), (t.pool, "reserve_stable", ())])
        scale = 10 ** (18 - t.config.token_decimals)
        return rs * WAD // (rc * scale) if rc else 0

    def _takers(self, name: str) -> list[TakerParams]:
        """The bot's flash taker for type `name`, none before it is deployed."""
        flash_taker = self.state["flash_takers"].get(name, "")
        if not flash_taker:
            return []
        if "base_fee" not in self._round:
            self._round["base_fee"] = self.txs.base_fee()
        gas_price = self._round["base_fee"] + 2 * 10**9
        t = self.d.types[name]
        venue = self.venues.get(name)
        return [
            TakerParams(
                "taker",
                self.me,
                flash_taker,
                t.auction,
                "flash",
                self.o.min_profit,
                gas_price,
                # the outside venue, where the devnet has one: the lab's route rule (the better
                # of the pool and the venue for each size, taker_actions)
                venue=(lambda: self._venue_view(venue)) if venue else None,
            )
        ]

    def _venue_view(self, venue: str) -> VenueView | None:
        """The outside venue at `venue` as a take in the next block sells on it: a block of a
        paced devnet session carries the time of the block before (offchain/live/market.py), so
        the venue must have been synced at the latest block's time (venue.venue_view)."""
        if "latest_time" not in self._round:
            latest = self.node.block("latest")
            self._round["latest_time"] = int(latest["timestamp"], 16)  # type: ignore[index]
        return venue_view(self.read, venue, self.d.stablecoin, self._round["latest_time"])

    def _backstop_params(self, name: str) -> BackstopParams:
        # read-only: decides as the deployment's admin would (an empty account cannot be asked
        # its roles: a parked deleverage due made a read-only backstop bot fail to decide)
        return BackstopParams.of(self.d, name, self.me or self._admin, "", 0)

    @property
    def _admin(self) -> str:
        """The deployment's admin: governance's Timelock where it has one, else governance."""
        return self.d.timelock or self.d.governance

    # what the backstop step follows (steps.BackstopFollow): the follower's, rebuilt when the
    # chain changes

    def backstop_watch(self, name: str) -> BackstopWatch:
        return self.follower.watched.backstop_watch(name)

    def losses_done(self, name: str, done: Any) -> None:
        self.follower.watched.losses.get(name, set()).difference_update(done)
