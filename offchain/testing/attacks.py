"""The attacker actor on a `System`: set the stage a shape needs, then send the plan the state
allows (offchain/sim/strategies/attacker.py). Used by the differential machines' `attack` rule and
by tests/security/test_attacker.py, so both try the same attacks.

Setting the stage is not the attack: the faucet mints the attacker collateral tokens, the
attacker joins half and (for shapes that need stablecoin) opens a vault drawn to `draw` per
million of its limit; the pool escape needs the attacker's shares and a drop queued in the
oracle (the feeder posts 20% down, a poke queues it); the zombie and the sandwich need a running
auction (a victim's vault at 95% of its limit, a 34% crash, a keeper's liquidation). Each
transaction may revert; `act` says whether it went through.
"""

from __future__ import annotations

from collections.abc import Callable

from offchain.model import price_curves
from offchain.model.backstop import CLOSED
from offchain.model.errors import Revert
from offchain.model.fixed_point import RAY, WAD
from offchain.model.state import Role
from offchain.sim.strategies.attacker import (
    Attack,
    KeeperList,
    attack_plans,
    observe_attacker,
    resolve,
)
from offchain.sim.strategies.backstop_keeper import keeper_round_from_model
from offchain.testing.harness import System, move_prices
from offchain.testing.specification.deleverage import check_keeper_ranking, check_level_rule

Act = Callable[..., bool]  # act(address, function, sender, *args) -> went through
# the shapes that open their own vault at its limit: the stage draws nothing for them
SELF_LIQUIDATING = (
    "self_liquidation",
    "exit_griefing",
    "dust_close_own",
    "fragment_and_close",
    "slot_filling",
    "size_knee",
)


def _crash(s: System, name: str, factor: int) -> None:
    """The market moves to `factor`% of the current price; the oracle follows (in steps within
    its post bound, a delay apart) and the spotter writes the safe price."""
    t = s.d.types[name]
    price = s.contract(t.oracle).current_price or t.config.initial_price
    try:
        move_prices(s, [(t, max(1, price * factor // 100))])
    except Revert:
        pass  # the state does not allow it (both sides agree): the stage is left as it is


def _running_auction(s: System, act: Act, name: str, victim: str) -> None:
    t, r = s.d.types[name], s.roles
    auction = s.contract(t.auction)
    if any(not auction._needs_reset(auction.auctions[i]) for i in auction.active):
        return
    if not s.contract(t.oracle).peek()[1]:
        _crash(s, name, 100)
    ct = s.engine().collateral_types[t.type_id]
    units = 10 * 10**t.config.token_decimals
    collateral = units * 10 ** (18 - t.config.token_decimals)
    debt = collateral * ct.safe_price // ct.rate * 95 // 100 if ct.rate else 0
    act(t.token, "mint", r.governance, victim, units)
    act(t.token, "approve", victim, t.join, units)
    act(t.join, "join", victim, victim, units)
    act(s.d.engine, "modify_vault", victim, t.type_id, victim, victim, victim, collateral, debt)
    _crash(s, name, 66)
    act(s.d.liquidator, "liquidate", r.keeper, t.type_id, victim, r.keeper)


def _closed_loss(s: System, act: Act, name: str, victim: str) -> None:
    """A loss of the type waiting for its cover (settle_before_cover): a running auction (as
    above) is let fall until its lot is worth less than its seized debt, and the keeper, given
    the stablecoin, buys the whole lot then: the event closes with a loss."""
    t, r, d = s.d.types[name], s.roles, s.d
    backstop = s.contract(d.backstop)
    for key, loss in backstop.losses.items():
        if key[:2] == (t.type_id, t.auction) and loss.status == CLOSED and loss.due:
            return
    _running_auction(s, act, name, victim)
    auction = s.contract(t.auction)
    for auction_id in auction.active:
        a = auction.auctions[auction_id]
        seized = backstop.losses[(t.type_id, t.auction, auction_id)].debt
        if auction._needs_reset(a) or not seized:
            continue
        # the keeper's stablecoin for the whole lot at any price the auction still asks
        act(d.engine, "create_unbacked", r.governance, r.governance, r.keeper, a.lot * a.top)
        act(d.engine, "allow", r.keeper, t.auction)
        elapsed = s.now + 1 - a.started
        while elapsed <= auction.max_duration:
            price = price_curves.price(auction.curve, a.top, elapsed)
            if price * RAY // a.top < auction.max_drop:
                break
            if a.lot * price < seized:
                s.lockstep.set_next_block_time(a.started + elapsed)
                act(t.auction, "take", r.keeper, auction_id, a.lot, price, r.keeper, b"")
                return
            elapsed += 60
        return


def stage(
    s: System, act: Act, attacker: str, shape: str, name: str, tokens: int, draw: int
) -> None:
    """What `shape` needs before the attacker can try it (see the module docstring)."""
    t, r, d = s.d.types[name], s.roles, s.d
    units = tokens * 10**t.config.token_decimals
    scale = 10 ** (18 - t.config.token_decimals)
    engine = s.engine()
    # the attacker's own consents: auctions and the stability pool draw on its internal balance
    for spender in (t.auction, d.stability_pool):
        if not engine.delegates[(attacker, spender)]:
            act(d.engine, "allow", attacker, spender)
    if not s.contract(t.oracle).peek()[1]:
        _crash(s, name, 100)  # a stale price: the feeder catches up (liquidations need it)
    ct = s.engine().collateral_types[t.type_id]
    if ct.safe_price:  # enough collateral that half of it carries twice the dust
        units = max(units, 2 * -(-2 * ct.dust // ct.safe_price // scale) + 2)
    act(t.token, "mint", r.governance, attacker, units)
    act(t.token, "approve", attacker, t.join, units // 2)
    act(t.join, "join", attacker, attacker, units // 2)
    vault = engine.vaults[(t.type_id, attacker)]
    if shape in SELF_LIQUIDATING and vault.normalized_debt:
        # a vault already over its limit (the price fell) cannot be drawn to it: repay it first
        if vault.normalized_debt * ct.rate > vault.collateral * ct.safe_price:
            repay = min(vault.normalized_debt, engine.stable[attacker] // ct.rate)
            left = vault.normalized_debt - repay
            if left and left * ct.rate < ct.dust:  # a debt may not be left below dust
                repay = vault.normalized_debt - -(-ct.dust // ct.rate)
            if repay > 0:
                act(
                    d.engine,
                    "modify_vault",
                    attacker,
                    t.type_id,
                    attacker,
                    attacker,
                    attacker,
                    0,
                    -repay,
                )
    if draw and shape not in SELF_LIQUIDATING and ct.rate:
        locked = units // 2 * scale
        if shape == "zombie":  # stablecoin to buy nearly a whole lot
            act(t.token, "mint", r.governance, attacker, 3 * units)
            act(t.token, "approve", attacker, t.join, 3 * units)
            act(t.join, "join", attacker, attacker, 3 * units)
            locked *= 7
        debt = max(locked * ct.safe_price // ct.rate * draw // 10**6, -(-ct.dust // ct.rate))
        act(
            s.d.engine,
            "modify_vault",
            attacker,
            t.type_id,
            attacker,
            attacker,
            attacker,
            locked,
            debt,
        )
    if shape == "pool_escape":
        pool = s.contract(s.d.stability_pool)
        if not pool.shares[attacker] and engine.stable[attacker]:
            act(s.d.stability_pool, "stake", attacker, engine.stable[attacker] // 2)
            s.warp(pool.exposure_delay)
            act(s.d.stability_pool, "activate", attacker)
        oracle = s.contract(t.oracle)
        reference = oracle.next_price or oracle.current_price
        if reference and oracle.next_price >= oracle.current_price:
            # 20% down, or as far as one post may move
            drop = min(WAD // 5, oracle.max_change or WAD // 5)
            act(t.oracle, "post", r.feeder, -(-reference * (WAD - drop) // WAD))
            s.warp(max(t.config.oracle_delay, oracle.last_poke + oracle.delay - s.now))
            act(t.oracle, "poke", r.keeper)
    if shape == "size_knee":
        _size_margin_on(s, act, name)
    if shape == "settle_before_cover":
        _closed_loss(s, act, name, r.borrower)
    if shape in ("small_charge_first", "split_under_deleverage"):
        # the deleveraging layer in the waterfall (after the fund and the pool), the keeper
        # granted the role, and a closed loss waiting for its cover
        act(d.backstop, "set_waterfall", r.governance, [1, 2, 6])
        act(d.backstop, "grant_role", r.governance, r.keeper, int(Role.DELEVERAGE))
        _closed_loss(s, act, name, r.borrower)
    if shape in ("zombie", "sandwich"):
        _running_auction(s, act, name, r.borrower)


def attack(
    s: System,
    act: Act,
    attacker: str,
    shape: str,
    name: str,
    flash_takers: dict[str, str] | None = None,
) -> Attack | None:
    """Send the plan for `shape` on type `name` that the state allows now (None: none)."""
    view = observe_attacker(s.model, s.d, attacker, s.roles.keeper, flash_takers)
    for plan in attack_plans(view):
        if plan.shape == shape and plan.type_name == name:
            for move in plan.moves:
                if move.wait:
                    s.warp(move.wait)
                args = resolve(move, s.model, attacker)
                if s.checked and any(isinstance(arg, KeeperList) for arg in move.args):
                    # the keeper's call: its ranking must be the Specification's, its shares the
                    # level rule's (not in the benchmark's unchecked floor)
                    tid = move.args[0]
                    ranked, calls = keeper_round_from_model(s.model, s.d.backstop, tid)
                    check_keeper_ranking(s.spec, tid, ranked)
                    pairs = [(c.owners, c.shares) for c in calls]
                    check_level_rule(s.spec, tid, pairs, s.model.next_block_time)
                act(move.contract, move.function, move.sender or attacker, *args)
            return plan
    return None


def _size_margin_on(s: System, act: Act, name: str) -> None:
    """A type without a size margin gets one for the `size_knee` shape (issue 45): a threshold
    at the dust (the least the engine allows), +50% per threshold, at most +30%: the knee at
    1.6 thresholds, so the attacker's vault sits past it."""
    t = s.d.types[name]
    engine = s.engine()
    if engine.size_margins[t.type_id]:
        return
    threshold = max(1, -(-engine.collateral_types[t.type_id].dust // 10**45))
    act(s.d.engine, "set_size_margin", s.roles.governance, t.type_id, threshold, 500_000, 300_000)


def stage_and_attack(
    s: System,
    act: Act,
    attacker: str,
    shape: str,
    name: str,
    tokens: int,
    draw: int,
    flash_takers: dict[str, str] | None = None,
) -> Attack | None:
    stage(s, act, attacker, shape, name, tokens, draw)
    return attack(s, act, attacker, shape, name, flash_takers)
