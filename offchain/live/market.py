"""The devnet's market: vaults to liquidate, prices, pool moves and time.

The market driver (`ape run market`) opens a scenario's vault population on the devnet and then
plays the scenario bar by bar: it moves the chain's time forward by the bar's length, posts the
bar's price to each oracle and pokes the oracle and spotter when their delay allows (the
simulator's `oracle_actions`), and trades the collateral pool towards the price (its
`arbitrage_action`, with governance's inventory), waiting `bar seconds / speed` of wall time
between bars. The scenario's path is played relative to the devnet's configured price: bar k's
price is the configured initial price x close_k / close_0.

It acts through the node's impersonation (vault owners and the arbitrageur have no keys on a
devnet: Anvil impersonates every sender, Hardhat Network each account named), so it runs on
devnets only. The fault tests and the keeper benchmark use the same
functions to make vaults unsafe at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from offchain.backends import ChainBackend
from offchain.model.fixed_point import MAX_UINT256, RAY, WAD
from offchain.sim.scenario.population import VaultPlan, actor_address
from offchain.sim.strategies.keepers import PoolView, arbitrage_action, oracle_actions
from offchain.sim.strategies.observe import read_oracle_bound
from offchain.system.deployment import Deployment, TypeDeployment

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
    chain: ChainBackend, d: Deployment, t: TypeDeployment, plans: list[VaultPlan]
) -> int:
    """Open the vaults (governance mints and joins each owner's collateral, each owner draws
    its debt); those already open are left. How many were opened."""
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
            p.owner,
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


def play(
    chain: ChainBackend,
    d: Deployment,
    t: TypeDeployment,
    bars: list[Bar],
    speed: float,
    on_bar: Callable[[int, Bar], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Play the bars on the devnet (see the module docstring)."""
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
    for k, bar in enumerate(bars):
        if stop():
            return
        if k:
            step = bar.time - bars[k - 1].time
            time.sleep(step / speed)
            advance(chain, step)
        now = chain.next_block_time
        last_poke = chain.view(t.oracle, "last_poke")
        reference, max_change = read_oracle_bound(chain.views, t)
        for action in oracle_actions(
            feeder,
            t.oracle,
            d.spotter,
            t.type_id,
            bar.price,
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
            bar.price,
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
