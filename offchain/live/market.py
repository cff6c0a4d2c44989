"""The devnet's market: vaults to liquidate, prices, pool moves and time.

The market driver (`ape run market`) opens a scenario's vault population on the devnet and then
plays the scenario bar by bar: it moves the chain's time forward by the bar's length, posts the
bar's price to each oracle and pokes the oracle and spotter when their delay allows (the
simulator's `oracle_actions`), and trades the collateral pool towards the price (its
`arbitrage_action`, with governance's inventory), waiting `bar seconds / speed` of wall time
between bars. The scenario's path is played relative to the devnet's configured price: bar k's
price is the configured initial price x close_k / close_0.

**Paced by the bots** (`Pacer`): a session's outcome must not depend on how fast the machine is.
After each bar's own transactions the driver waits until every running bot that sends (found
by its checkpoint, whose lock a running bot holds) has processed the chain's head and has
nothing pending, and the head has not moved since: every bot has seen the bar and acted on it,
and the chain is quiet. Only then does it move time to the next bar. A bot writes its
checkpoint at the end of each round, after it has sent what it decided (its /health's
processed block is set before it acts, so it cannot say this). On Anvil the session also stamps
every block of a bar with the bar's own time (`anvil_setBlockTimestampInterval` 0, removed at
the end; the driver sets each bar's first block's time): otherwise the blocks the bots mine while
the driver waits would carry the wall clock's seconds into the chain's time, and with one second
a block, how many blocks the bots happened to mine before a take would set its price. `speed` is
then a floor on each bar's wall time, not a pace the bots must keep. Without a running bot the
bars are played at `speed` alone, and the session says so.

**The outside venue** (offchain/live/venue.py): where the scenario's market is open (the built-in
days), the session plays the lab's outside venue too: each bar's market price is the lab's (the
fundamental moved by the venue's memory), the bar's first transaction syncs the venue on chain
with the lab's numbers, the taker bot's flash takes may sell on it on the lab's route rule, and
the bar's sales are recorded in the lab's venue before the next bar. The arbitrageur trades the
pool towards the market price in stablecoin (the lab's `Outside.target_price`).

It acts through the node's impersonation (vault owners and the arbitrageur have no keys on a
devnet: Anvil impersonates every sender, Hardhat Network each account named), so it runs on
devnets only. The fault tests and the keeper benchmark use the same
functions to make vaults unsafe at once.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offchain.backends import ChainBackend
from offchain.live.venue import DevnetVenue
from offchain.model.fixed_point import MAX_UINT256, RAY, WAD
from offchain.sim.scenario.population import VaultPlan, actor_address
from offchain.sim.scenario.types import Scenario
from offchain.sim.strategies.keepers import PoolView, arbitrage_action, oracle_actions
from offchain.sim.strategies.observe import read_oracle_bound
from offchain.system.cli import home_unexpanded
from offchain.system.deployment import Deployment, TypeDeployment
from offchain.system.outputs import describe_json

ARBITRAGE_THRESHOLD = WAD // 200  # trade the pool when it is 0.5% off the market


class MarketError(RuntimeError):
    """The devnet cannot be driven as asked (one line)."""


def impersonating(chain: ChainBackend, *accounts: str) -> None:
    """Send from accounts that hold no keys here (a devnet: the owners of the population, the
    record's roles): on Anvil every sender, on Hardhat Network (one account at a time) each of
    `accounts`; `fund` impersonates the accounts it funds."""
    if chain.hardhat:
        chain.rpc_batch([("hardhat_impersonateAccount", [a]) for a in accounts])
    else:
        chain.rpc("anvil_autoImpersonateAccount", [True])


def fund(chain: ChainBackend, accounts: list[str]) -> None:
    """Ether for `accounts`, which this backend may then send from."""
    chain.fund(accounts, 10**24)


def vault_plans(count: int, t: TypeDeployment, collateral_ratio: int) -> list[VaultPlan]:
    """`count` vaults of `t` at `collateral_ratio` [wad] at its configured price, each with a
    debt just above dust (5,000 stablecoin) and a distinct owner."""
    c = t.config
    debt = max(5_000 * WAD, c.dust // RAY * 2)
    collateral = -(-debt * collateral_ratio // c.initial_price)
    scale = 10 ** (18 - c.token_decimals)
    collateral = -(-collateral // scale) * scale
    return [VaultPlan(actor_address("vault", i), collateral, debt) for i in range(count)]


def open_vaults(
    chain: ChainBackend,
    d: Deployment,
    t: TypeDeployment,
    plans: list[VaultPlan],
    holder: str | None = None,
) -> int:
    """Open the vaults (governance mints and joins each owner's collateral, each owner draws
    its debt, to itself or to `holder`: an open market's outside, as the lab's borrowers sell
    what they borrow into the market); those already open are left. How many were opened."""
    rate = chain.view(d.engine, "collateral_types", t.type_id)[1]
    todo = [p for p in plans if chain.view(d.engine, "vaults", t.type_id, p.owner)[0] == 0]
    if not todo:
        return 0
    g = d.governance
    scale = 10 ** (18 - t.config.token_decimals)
    total = sum(p.collateral for p in todo) // scale
    fund(chain, [g] + [p.owner for p in todo])
    chain.transact(t.token, "mint", g, g, total)
    chain.transact(t.token, "approve", g, t.join, total)
    for p in todo:
        chain.transact(t.join, "join", g, p.owner, p.collateral // scale)
        chain.transact(
            d.engine,
            "modify_vault",
            p.owner,
            t.type_id,
            p.owner,
            p.owner,
            holder or p.owner,
            p.collateral,
            -(-p.debt * RAY // rate),
        )
    return len(todo)


def advance(chain: ChainBackend, seconds: int) -> None:
    """The next block `seconds` later."""
    chain.sync()
    chain.set_next_block_time(chain.last_block_time + seconds)


def set_price(chain: ChainBackend, d: Deployment, t: TypeDeployment, price: int) -> int:
    """Make `price` [wad] the current oracle price and the safe price follow at once: post, wait
    the delay, poke (queued), wait the delay, poke (current), poke the spotter. The block of the
    spotter's poke (the block from which vaults are unsafe at the new price)."""
    delay = chain.view(t.oracle, "delay")
    feeder = d.feeder
    # beyond the oracle's bound on a post, walk there: the largest allowed move, once per delay
    for _ in range(64):
        reference, max_change = read_oracle_bound(chain.views, t)
        step = oracle_actions(
            feeder, t.oracle, d.spotter, t.type_id, price, 0, 0, delay, reference, max_change
        )[0].args[0]
        if step == price:
            break
        chain.transact(t.oracle, "post", feeder, step)
        advance(chain, delay)
        chain.transact(t.oracle, "poke", feeder)
    chain.transact(t.oracle, "post", feeder, price)
    for _ in range(2):
        advance(chain, delay)
        chain.transact(t.oracle, "poke", feeder)
    chain.transact(d.spotter, "poke", feeder, t.type_id)
    return int(chain.rpc("eth_blockNumber", []), 16)


STABLE_COLLATERALIZATION = 10  # governance's arbitrage vault: 10x its debt in collateral


def stable_inventory(chain: ChainBackend, d: Deployment, t: TypeDeployment, want: int) -> int:
    """Governance holds at least `want` [wad] of the stablecoin ERC-20: what it lacks it draws
    from its own vault of `t` (collateral minted on the devnet, STABLE_COLLATERALIZATION x the
    draw at the oracle's current price, so the crash being played cannot make it unsafe) and
    takes out. Called before every bar's arbitrage: the arbitrageur sells the collateral it
    buys from the pool elsewhere at the market price, so its stablecoin comes back (the devnet
    has no other venue: it draws the same amount from its vault instead). Without it the
    arbitrageur ran out of stablecoin buying back what the takers' flash sales pushed into the
    pool; the pool's price then stayed far below the market (685 against 1,105 at the end of
    black-thursday-2020), no flash take paid, and the auctions were reset again and again
    instead of taken (2,070 resets, 90 takes). What was drawn [wad]."""
    g = d.governance
    need = want - chain.view(d.stablecoin, "balanceOf", g)
    if need <= 0:
        return 0
    rate = chain.view(d.engine, "collateral_types", t.type_id)[1]
    price = chain.view(t.oracle, "current_price")
    decimals = t.config.token_decimals
    tokens = -(-need * STABLE_COLLATERALIZATION * 10**decimals // price)
    chain.transact(t.token, "mint", g, g, tokens)
    chain.transact(t.token, "approve", g, t.join, tokens)
    chain.transact(t.join, "join", g, g, tokens)
    chain.transact(
        d.engine,
        "modify_vault",
        g,
        t.type_id,
        g,
        g,
        g,
        tokens * 10 ** (18 - decimals),
        -(-need * RAY // rate),
    )
    chain.transact(d.engine, "allow", g, d.stable_join)
    chain.transact(d.stable_join, "exit", g, g, need)
    return need


@dataclass(frozen=True)
class Bar:
    time: int  # the scenario's time
    price: int  # wad, relative to the devnet's configured price


def lock_holder(checkpoint: Path) -> dict[str, Any] | None:
    """The record of the running bot that holds `checkpoint`'s lock (offchain/live/cli.py:
    `<checkpoint>.lock`, held with flock while the bot runs, its holder's pid, role and account
    written in it), or None when no process holds it. Probed with a shared lock that is
    released at once: a bot holds an exclusive one."""
    try:
        fd = os.open(checkpoint.with_name(checkpoint.name + ".lock"), os.O_RDONLY)
    except OSError:
        return None
    with os.fdopen(fd) as f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                return None
            try:
                holder = json.loads(f.read() or "{}")
            except ValueError:
                holder = {}
            return holder if isinstance(holder, dict) else {}
        fcntl.flock(f, fcntl.LOCK_UN)
    return None


def default_checkpoints(chain_id: int, identity: str) -> Path:
    """Where the bots keep their checkpoints by default (offchain/live/cli.py's --checkpoint)."""
    return Path(os.environ.get("BACKSTOP_KEEPERS_DIR") or ".keepers") / str(chain_id) / identity


@dataclass(frozen=True)
class PacedBot:
    checkpoint: Path
    role: str

    @property
    def name(self) -> str:
        return self.checkpoint.name.removesuffix(".json")

    def read(self) -> tuple[int, int] | None:
        """(the last block it processed, its transactions pending) as its checkpoint has them
        (written at the end of each of its rounds, after it sent what it decided); None if
        unreadable this instant."""
        try:
            data = json.loads(self.checkpoint.read_text())
            return int(data["watched"]["last_block"]), len(data["pending"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


def checkpoint_place_problem(place: Path) -> str | None:
    """Why `place`, given to the market as a bot's checkpoint (or a directory of them), cannot be
    one, or None: absent, or a file that is not a checkpoint (not JSON, another kind of file).
    Such a file was taken in silence: no bot found in it, the bars played unpaced."""
    if place.is_dir():
        return None
    if not place.exists():
        return home_unexpanded("--checkpoints", place) or (
            f"--checkpoints {place}: no such file or directory (a bot's checkpoint, or the "
            "directory of its checkpoints)"
        )
    try:
        data = json.loads(place.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # a binary file too (UnicodeDecodeError)
        data = None
    kind = describe_json(data) if data is not None else None
    if kind == "a keeper bot's checkpoint" or (isinstance(data, dict) and "version" in data):
        return None
    return (
        f"--checkpoints {place}: not a bot's checkpoint"
        + (f" (it is {kind})" if kind else " (not a checkpoint's JSON)")
        + "; give a bot's --checkpoint file, or the directory of them"
    )


def find_bots(places: Iterable[Path]) -> tuple[list[PacedBot], list[str]]:
    """The running bots that send, from checkpoint files or the directories holding them
    (`places`): (those to wait for, the names of running bots that send nothing: a notifier, a
    read-only or dry-run bot, which the pace does not wait for)."""
    bots: list[PacedBot] = []
    silent: list[str] = []
    for place in places:
        files = sorted(place.glob("*.json")) if place.is_dir() else [place]
        for path in files:
            holder = lock_holder(path)
            if holder is None:
                continue
            bot = PacedBot(path, str(holder.get("role") or "bot"))
            if holder.get("account") and holder.get("role") != "notifier":
                bots.append(bot)
            else:
                silent.append(bot.name)
    return bots, silent


@dataclass
class Pacer:
    """Waits, between bars, until the chain is quiet (module docstring): every bot in `bots` has
    processed the head and has nothing pending, twice in a row at the same head. A bot whose
    lock is released meanwhile (it stopped) is no longer waited for; a wait longer than
    `timeout` seconds is given up (the bar goes on, and is counted in `late`)."""

    chain: ChainBackend
    bots: list[PacedBot]
    timeout: float = 300.0
    pacing: bool = True  # False: only the bots' lag is measured (observe)
    poll: float = 0.05
    waited: list[float] = field(default_factory=list)  # seconds per bar
    late: list[int] = field(default_factory=list)  # bars whose wait was given up
    stopped: list[str] = field(default_factory=list)  # bots that stopped during the session
    # the most blocks any bot was behind the head when a bar began (0 when every wait ended
    # quiet)
    max_lag: int = 0

    def _head(self) -> int:
        return int(self.chain.rpc("eth_blockNumber", []), 16)

    def lag(self) -> int:
        """The most blocks a bot is behind the chain's head now (unreadable: counted 0)."""
        head = self._head()
        states = [b.read() for b in self.bots]
        return max((head - s[0] for s in states if s is not None), default=0)

    def observe(self, bar: int, on_wait: Callable[[str], None] | None = None) -> float:
        """Without waiting (`--pace clock`): the bots' lag as the bar begins, kept."""
        self.max_lag = max(self.max_lag, self.lag())
        self.waited.append(0.0)
        return 0.0

    def wait(self, bar: int, on_wait: Callable[[str], None] | None = None) -> float:
        """Until the chain is quiet; the seconds waited."""
        if not self.pacing:
            return self.observe(bar, on_wait)
        start = time.monotonic()
        quiet_at: int | None = None
        last_alive_check = start
        while True:
            head = self._head()
            states = [b.read() for b in self.bots]
            done = all(s is not None and s[0] >= head and s[1] == 0 for s in states)
            if done and quiet_at == head:
                break
            quiet_at = head if done else None
            now = time.monotonic()
            if now - last_alive_check > 5:  # a bot that stopped holds no lock
                last_alive_check = now
                for b in list(self.bots):
                    if lock_holder(b.checkpoint) is None:
                        self.bots.remove(b)
                        self.stopped.append(b.name)
                        if on_wait is not None:
                            on_wait(f"the {b.role} bot ({b.name}) stopped: no longer waited for")
            if now - start > self.timeout:
                behind = [
                    f"{b.name} at block {s[0] if s else '?'}, {s[1] if s else '?'} pending"
                    for b, s in zip(self.bots, states)
                    if s is None or s[0] < head or s[1]
                ]
                self.late.append(bar)
                self.max_lag = max([self.max_lag, *(head - s[0] for s in states if s is not None)])
                if on_wait is not None:
                    on_wait(
                        f"bar {bar + 1}: the bots did not catch up with block {head} within "
                        f"{self.timeout:g} s ({'; '.join(behind)}): the bar goes on"
                    )
                break
            time.sleep(self.poll)
        seconds = time.monotonic() - start
        self.waited.append(seconds)
        return seconds

    def summary(self) -> str:
        names = ", ".join(b.name for b in self.bots) or "none left"
        if not self.pacing:
            return (
                f"played at --speed, not paced: the bots ({names}) were up to {self.max_lag} "
                "blocks behind the chain's head as a bar began (a bar's answer may land in "
                "a later bar, or never: the outcome depends on how fast they keep up)"
            )
        total = sum(self.waited)
        most = max(self.waited, default=0.0)
        return (
            f"paced by the bots ({names}): each bar began once every one had processed the "
            f"chain's head and had nothing pending; waited {total:,.1f} s in all, at most "
            f"{most:,.1f} s for one bar; {len(self.late)} bars began before the bots caught up "
            f"(lag at most {self.max_lag} blocks)"
            + (f"; stopped during the session: {', '.join(self.stopped)}" if self.stopped else "")
        )


def stamp_blocks_by_interval(chain: ChainBackend, on: bool) -> bool:
    """On Anvil: every block at the time of the one before (on; the driver moves time at each
    bar), or the node's own stamping again (off); whether the node did it (Hardhat Network has
    no such setting)."""
    if chain.hardhat:
        return False
    if on:
        chain.rpc("anvil_setBlockTimestampInterval", [0])
    else:
        chain.rpc("anvil_removeBlockTimestampInterval", [])
    return True


def play(
    chain: ChainBackend,
    d: Deployment,
    t: TypeDeployment,
    bars: list[Bar],
    speed: float,
    on_bar: Callable[[int, Bar], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
    pacer: Pacer | None = None,
    on_wait: Callable[[str], None] | None = None,
    stamped: bool = False,
    venue: DevnetVenue | None = None,
) -> int | None:
    """Play the bars on the devnet (see the module docstring): with `pacer`, each bar begins
    once the bots are quiet (after the last bar too); `speed` is then a floor on a bar's wall
    time. `stamped`: the node stamps a block with the time of the one before
    (`stamp_blocks_by_interval`), so the first bar's time is set too, a second after the
    chain's last block. With `venue` (an open market), each bar's market price is the venue's
    and the venue is synced first and its sales recorded at the bar's end. The oracle's phase
    (the lab's `oracle_phase`, sim/scenario/timeline.py): the seconds from the first bar until
    the oracle's first poke could be sent; None where no bar was played."""
    phase: int | None = None
    g, feeder = d.governance, d.feeder
    scale = 10 ** (18 - t.config.token_decimals)
    delay = chain.view(t.oracle, "delay")
    fee = chain.view(t.pool, "fee")
    # the arbitrageur's inventory: governance's, tokens minted on the devnet (as many as the
    # pool holds: enough to follow a crash to a fraction of the price) and stablecoin (as much
    # as the pool holds: enough to follow the recovery, and to buy back what the takers' flash
    # sales pushed into the pool)
    chain.transact(t.token, "mint", g, g, chain.view(t.pool, "reserve_collateral"))
    want = chain.view(t.pool, "reserve_stable")
    stable_inventory(chain, d, t, want)
    chain.transact(t.token, "approve", g, t.pool, MAX_UINT256)
    chain.transact(d.stablecoin, "approve", g, t.pool, MAX_UINT256)
    started = time.monotonic()
    for k, bar in enumerate(bars):
        if stop():
            return phase
        if pacer is not None:
            pacer.wait(k, on_wait)
        if venue is not None:
            venue.close_bar()  # the bar before's sales, in the lab's venue
        if k:
            step = bar.time - bars[k - 1].time
            time.sleep(max(0.0, step / speed - (time.monotonic() - started)))
            advance(chain, step)
        elif stamped:
            advance(chain, 1)
        started = time.monotonic()
        now = chain.next_block_time
        price, target = bar.price, bar.price
        if venue is not None:
            price = venue.open_bar(k)
            target = venue.outside.target_price(t.config.name, bar.time)
        last_poke = chain.view(t.oracle, "last_poke")
        if k == 0:
            phase = max(last_poke + delay - now, 0)
        reference, max_change = read_oracle_bound(chain.views, t)
        for action in oracle_actions(
            feeder,
            t.oracle,
            d.spotter,
            t.type_id,
            price,
            now,
            last_poke,
            delay,
            reference=reference,
            max_change=max_change,
        ):
            chain.transact(action.contract, action.function, feeder, *action.args)
        stable_inventory(chain, d, t, want)  # what it bought it sold elsewhere (docstring)
        rc, rs = chain.view(t.pool, "reserve_collateral"), chain.view(t.pool, "reserve_stable")
        tokens = chain.view(t.token, "balanceOf", g)
        stable = chain.view(d.stablecoin, "balanceOf", g)
        arb = arbitrage_action(
            PoolView(rc, rs, fee, scale),
            target,
            ARBITRAGE_THRESHOLD,
            tokens,
            stable,
            g,
            t.pool,
        )
        if arb is not None:
            chain.transact(arb.contract, arb.function, g, *arb.args)
        if on_bar is not None:
            on_bar(k, bar)
    if pacer is not None and bars and not stop():
        pacer.wait(len(bars), on_wait)  # the bots' answer to the last bar
    if venue is not None:
        venue.close_bar()
    return phase


def _bound_venue(chain: ChainBackend, bot: PacedBot, name: str) -> str | None:
    """The venue the taker bot's FlashTaker for type `name` is bound to, as its checkpoint and
    the chain have it; None where it has none yet (or its checkpoint does not read)."""
    try:
        state = json.loads(bot.checkpoint.read_text())["state"]
        flash_taker = state["flash_takers"][name]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if chain.rpc("eth_getCode", [flash_taker, "latest"]) in ("0x", "0x0", None):
        return None
    chain.names[flash_taker] = "FlashTaker"
    return str(chain.view(flash_taker, "venue"))


def wait_for_takers(
    chain: ChainBackend, pacer: Pacer, name: str, venue: str, timeout: float, poll: float = 0.1
) -> list[str]:
    """Before the first bar: until every running taker bot's FlashTaker of type `name` is bound
    to the outside venue `venue` (a taker binds it again once the venue is kept beside the
    record: deploy.rebind_flash_takers), at most `timeout` seconds. What to say: the takers that
    are not, and why their takes stay in the pool."""
    takers = [b for b in pacer.bots if b.role == "taker"]
    deadline = time.monotonic() + timeout
    waiting = list(takers)
    while waiting and time.monotonic() < deadline:
        waiting = [
            b for b in waiting if (_bound_venue(chain, b, name) or "").lower() != venue.lower()
        ]
        if waiting:
            time.sleep(poll)
    if not takers:
        return ["no running taker bot: nothing sells on the outside venue"]
    return [
        f"the taker bot {b.name}'s FlashTaker for {name} is not bound to the outside venue "
        f"within {timeout:g} s (bound to {_bound_venue(chain, b, name) or 'none yet'}): its takes "
        "sell into the keepers' pool"
        for b in waiting
    ]


def differences(scenario: Scenario, venue: DevnetVenue | None, pacer: Pacer | None) -> list[str]:
    """The session's first lines: what still differs from the lab's run of the same scenario
    (`ape run simulate`), so that a user reads the two headlines for what they are."""
    m, k = scenario.market, scenario.keepers
    bots = ", ".join(sorted({b.role for b in pacer.bots})) if pacer is not None else "none"
    out = [
        "differs from the lab (`ape run simulate` of the same scenario): prices are the "
        "scenario's path relative to the devnet's configured price (the lab plays the file's "
        "own), so the same debts are other token amounts against the venue's depth in tokens",
        f"differs from the lab: the keepers are the running bots ({bots}), not the lab's lineup "
        f"(a flash taker and, with taker_mode {k.taker_mode!r}, a capital taker reselling on the "
        "venue; their gas prices, profit floors and latency); every transaction is mined at "
        "once, without the lab's block space"
        + (f" ({m.block_gas_limit:,} gas a block)" if m.block_gas_limit else ""),
        "differs from the lab: the arbitrageur draws what stablecoin it needs (the lab's holds "
        "its arbitrageur_capital) and does not undo its trades on the venue",
        "differs from the lab: the headline is the open book marked at the session's end (the "
        "lab's end-of-run mark); the lab's headline runs the open book out with its keepers "
        "first (its drain)",
    ]
    if venue is None and m.outside == "open":
        out.append("differs from the lab: no outside venue (the keepers' pool only)")
    elif venue is not None:
        out.append(
            "differs from the lab: the venue's till is topped up once a bar, for every auction "
            "the bar can hold (the lab's, before each block that sells, for its takes); one sync "
            "a bar (every block of a bar has its time) where the lab syncs each block that sells"
        )
    return out
