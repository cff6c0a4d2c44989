"""The attacker actor: from the observed state, the known attack shapes of the security review
(issue 13, docs/security.md), as plans of transactions.

Each shape is what a reviewer tried by hand; here a strategy proposes it whenever the state makes
it possible, so the fuzz (the `attack` rule, offchain/testing/machine/attacker.py) and the attacker
test (tests/security/test_attacker.py) try it again and again, against every state they reach and
every parameter set the config loader accepts. The strategy does not judge success: the economic
Auditor (offchain/testing/economics/) values the attacker's holdings before and after every
transaction of the run, whoever sends it, and fails the run if the attacker ends richer than its
listed honest income explains.

Like the keepers, `attack_plans` is a pure function of an `AttackerView` (built from the model by
`observe_attacker`, equal to the chain by the differential checks); it returns `Attack`s, each a
sequence of `Move`s (a transaction, after an optional wait) that the caller sends in order,
going on when one reverts (a revert is a defence that held).

The shapes: `self_liquidation` (open at the limit, let fees tip it, liquidate oneself as keeper,
buy the lot back), `exit_griefing` (the same, left unsold: a loss kept open), `pool_escape`
(leave the stability pool when a drop is queued in the oracle), `donation` (1-wei first stake,
a donation to the pool, activation), `fee_timing` (repay, accrue at low utilization, redraw),
`ceiling_stalling` (repay, `update` the ceiling, redraw), `zombie` (take all of a lot but one
wei), `sandwich` (swap the pool's price away around a keeper's flash take).

The third round (issue 31) added: `dust_close_own` (self-liquidate, then close one's own auction
as dust, at once and again down the curve: after a dust change the old close forgave the debt
and handed the lot back), `fragment_and_close` (free a little cap room with a small take of
another auction, then liquidate one's own unsafe vault chunk by chunk, closing each chunk as dust
at once), `slot_filling` (self-liquidate a third of one's collateral at a time and leave it
unsold: each holds one of the type's auction slots) and `ceiling_lower_then_open` (repay all,
`update` the ceiling down, redraw half, `update`, redraw the rest, `update`); and for its
findings 6 and 7, `settle_before_cover` (settle the unattributed bad debt against the fund's
surplus just before covering a loss: the fund used to pay less and the stakers more) and
`lone_staker` (be the empty pool's only staker, with the least stake, for a week of fees: it used
to take the pool's whole fee share).

The fourth round (issue 45) added, for the deleveraging layer: `small_charge_first` (the keeper
charges what is due, at once a loss is covered into the layer, and 100 s later the keeper
charges again: a small charge before a big one used to lock the charged vaults out for a day)
and `split_under_deleverage` (the attacker's position as a small vault far from its limit,
strong but with little headroom, then the keeper's charge: ranked by absolute headroom such
vaults fell off the keeper's list of 50). The keeper's lists are its own code's
(`KeeperList`, resolved when sent). The same round added, for the size margin, `size_knee`:
draw a vault to its size limit past the size rule's threshold, let a second of fees tip it,
liquidate oneself as keeper, again at once, and buy the lot back (a vault slightly short of its
size requirement used to be cut almost whole).
"""

from __future__ import annotations

from dataclasses import dataclass

from offchain.model import size_margin as sizing
from offchain.model.backstop import CLOSED
from offchain.model.dutch_auction import SLOT_BITS
from offchain.model.fixed_point import RAY
from offchain.model.stability_pool import MIN_STAKE
from offchain.sim.strategies.backstop_keeper import keeper_round_from_model
from offchain.sim.strategies.keepers import pool_out

SHAPES: tuple[str, ...] = (
    "self_liquidation",
    "exit_griefing",
    "pool_escape",
    "donation",
    "fee_timing",
    "ceiling_stalling",
    "zombie",
    "sandwich",
    "dust_close_own",
    "fragment_and_close",
    "slot_filling",
    "ceiling_lower_then_open",
    "settle_before_cover",
    "lone_staker",
    "small_charge_first",
    "split_under_deleverage",
    "size_knee",
)
# max_price of a take that accepts the auction's price whatever it is [ray]
ANY_PRICE = 2**200


@dataclass(frozen=True)
class Move:
    """One transaction of an attack: `wait` seconds after the previous one. `sender` None is the
    attacker; a named sender is a victim whose usual transaction the attack is built around."""

    contract: str
    function: str
    args: tuple
    wait: int = 0
    sender: str | None = None


@dataclass(frozen=True)
class KeeperList:
    """A `deleverage` list decided when it is sent: the owners and shares of the backstop
    keeper's first call for the type (offchain/sim/strategies/backstop_keeper.py), from the
    state then (two arguments)."""

    type_id: bytes


@dataclass(frozen=True)
class Affordable:
    """A take's amount decided when it is sent: as much of the lot as the attacker's internal
    stablecoin buys at the auction's price then (`resolve`)."""

    auction_id: int


@dataclass(frozen=True)
class Attack:
    shape: str
    type_name: str
    moves: tuple[Move, ...]


@dataclass(frozen=True)
class AuctionSeen:
    auction_id: int
    lot: int  # wad
    debt: int  # rad
    price: int  # ray, now
    needs_reset: bool


@dataclass(frozen=True)
class TypeSeen:
    """One collateral type as the attacker sees it."""

    name: str
    type_id: bytes
    engine: str
    liquidator: str
    auction: str
    fees: str
    ceiling: str
    pool: str  # the collateral pool (a market)
    token: str  # the collateral ERC-20
    token_balance: int  # the attacker's [token units]
    flash_taker: str | None  # a keeper's FlashTaker the attacker can see in use
    rate: int  # ray
    safe_price: int  # ray
    dust: int  # rad
    free_collateral: int  # the attacker's, in the engine [wad]
    vault_collateral: int  # wad
    vault_debt: int  # normalized [wad]
    next_auction_id: int  # the id the type's next auction gets
    auctions: tuple[AuctionSeen, ...]
    auction_duration: int  # seconds until a reset is needed
    current_price: int  # the oracle's [wad]
    next_price: int  # queued [wad]
    reserve_collateral: int  # the collateral pool's [token units]
    reserve_stable: int  # [wad]
    pool_fee: int  # wad
    token_scale: int  # 10 ** (18 - decimals)
    # the type's loss events closed with a loss still to cover: (auction id, seconds until its
    # queue delay has passed)
    closed_losses: tuple[tuple[int, int], ...] = ()
    deleverage_due: int = 0  # rad: parked for the deleveraging layer
    size: int = 0  # the type's size margin, packed (offchain/model/size_margin.py)
    penalty: int = 0  # the type's liquidation penalty [wad]


@dataclass(frozen=True)
class AttackerView:
    attacker: str
    keeper: str  # the victim keeper of the sandwich
    stable: int  # the attacker's internal stablecoin [rad]
    stablecoin: str  # the ERC-20
    stability_pool: str
    pool_shares: int
    pool_total_shares: int
    pool_pending: int  # the attacker's pending stake [rad]
    pool_cooldown: int
    pool_exposure_delay: int
    types: tuple[TypeSeen, ...]
    backstop: str = ""
    # what `settle` may cancel now: min(free surplus, unattributed bad debt) [rad]
    settleable: int = 0


def attack_plans(view: AttackerView) -> list[Attack]:
    """Every attack the state allows now (in SHAPES order, per type)."""
    plans: list[Attack] = []
    for t in view.types:
        for shape in SHAPES:
            moves = _PLANNERS[shape](view, t)
            if moves:
                plans.append(Attack(shape, t.name, tuple(moves)))
    return plans


def _open_at_limit(view: AttackerView, t: TypeSeen, parts: int = 1) -> list[Move] | None:
    """Lock the free collateral (one `parts`-th of it) and draw the vault to the safe price's
    limit (at least dust)."""
    if not t.rate or not t.safe_price:
        return None
    free = t.free_collateral // parts
    collateral = t.vault_collateral + free
    debt = collateral * t.safe_price // t.rate
    if debt <= t.vault_debt or debt * t.rate < t.dust:
        return None
    a = view.attacker
    return [Move(t.engine, "modify_vault", (t.type_id, a, a, a, free, debt - t.vault_debt))]


def _self_liquidation(view: AttackerView, t: TypeSeen, buy_back: bool = True) -> list[Move]:
    opened = _open_at_limit(view, t)
    if opened is None:
        return []
    a = view.attacker
    moves = opened + [
        # one second of fees tips a vault at its limit over it
        Move(t.fees, "accrue", (t.type_id,), wait=1),
        Move(t.liquidator, "liquidate", (t.type_id, a, a)),
    ]
    if buy_back:
        # the lot, at a price well down the curve (no competing taker in the attacker's world)
        moves.append(
            Move(
                t.auction,
                "take",
                (t.next_auction_id, Affordable(t.next_auction_id), ANY_PRICE, a, b""),
                wait=t.auction_duration // 2,
            )
        )
    return moves


def _exit_griefing(view: AttackerView, t: TypeSeen) -> list[Move]:
    return _self_liquidation(view, t, buy_back=False)


def _dust_close_own(view: AttackerView, t: TypeSeen) -> list[Move]:
    moves = _self_liquidation(view, t, buy_back=False)
    if not moves:
        return []
    close = (t.next_auction_id,)
    return moves + [
        Move(t.auction, "close_dust_auction", close),
        Move(t.auction, "close_dust_auction", close, wait=t.auction_duration // 2),
    ]


def _fragment_and_close(view: AttackerView, t: TypeSeen) -> list[Move]:
    a = view.attacker
    moves = (_open_at_limit(view, t) or []) + [Move(t.fees, "accrue", (t.type_id,), wait=1)]
    if not t.vault_debt and len(moves) == 1:
        return []
    for seen in t.auctions:
        if not seen.needs_reset and seen.price and seen.lot > 1:
            # a small take of another auction frees a little cap room (at most its lot / 20)
            part = max(1, seen.lot // 20)
            moves.append(Move(t.auction, "take", (seen.auction_id, part, ANY_PRICE, a, b"")))
            break
    auction_id = t.next_auction_id
    for _ in range(3):
        moves += [
            Move(t.liquidator, "liquidate", (t.type_id, a, a)),
            Move(t.auction, "close_dust_auction", (auction_id,)),
        ]
        # a closed chunk frees its slot, the lowest free one: the next chunk takes its next
        # generation
        auction_id += 1 << SLOT_BITS
    return moves


def _slot_filling(view: AttackerView, t: TypeSeen) -> list[Move]:
    opened = _open_at_limit(view, t, parts=3)
    if opened is None:
        return []
    a = view.attacker
    return opened + [
        Move(t.fees, "accrue", (t.type_id,), wait=1),
        Move(t.liquidator, "liquidate", (t.type_id, a, a)),
    ]


def _ceiling_lower_then_open(view: AttackerView, t: TypeSeen) -> list[Move]:
    update = Move(t.ceiling, "update", (t.type_id,))
    around = _redraw_around(view, t, update)
    if not around:
        return []
    # around = [repay, update, redraw]: the redraw in two halves, each followed by an update
    a, repay = view.attacker, -around[0].args[-1]
    half = repay // 2
    moves = around[:2]
    for part in (half, repay - half):
        if part:
            moves += [Move(t.engine, "modify_vault", (t.type_id, a, a, a, 0, part)), update]
    return moves


def _pool_escape(view: AttackerView, t: TypeSeen) -> list[Move]:
    """With shares in the pool and a drop queued in the oracle: ask to leave, wait, leave."""
    if not view.pool_shares or not t.next_price or t.next_price >= t.current_price:
        return []
    p = view.stability_pool
    return [
        Move(p, "request_withdrawal", (view.pool_shares,)),
        Move(p, "withdraw", (), wait=view.pool_exposure_delay),
        Move(p, "withdraw", (), wait=view.pool_cooldown),
    ]


def _donation(view: AttackerView, t: TypeSeen) -> list[Move]:
    """An empty pool: the smallest stake, activated, then a donation inflating each share."""
    if view.pool_total_shares or view.pool_pending or view.stable < 2 * RAY:
        return []
    p = view.stability_pool
    donation = view.stable // 2 // RAY * RAY
    return [
        Move(p, "stake", (1,)),
        Move(p, "activate", (), wait=view.pool_exposure_delay),
        Move(t.engine, "transfer_stable", (view.attacker, p, donation)),
    ]


def _redraw_around(view: AttackerView, t: TypeSeen, middle: Move) -> list[Move]:
    """Repay the vault's debt (as far as the attacker's stablecoin and dust allow), send
    `middle`, draw the same debt again."""
    if not t.vault_debt or not t.rate:
        return []
    repay = min(t.vault_debt, view.stable // t.rate)
    left = t.vault_debt - repay
    if left and left * t.rate < t.dust:
        repay = t.vault_debt - (t.dust + t.rate - 1) // t.rate
    if repay <= 0:
        return []
    a = view.attacker
    return [
        Move(t.engine, "modify_vault", (t.type_id, a, a, a, 0, -repay)),
        middle,
        Move(t.engine, "modify_vault", (t.type_id, a, a, a, 0, repay)),
    ]


def _fee_timing(view: AttackerView, t: TypeSeen) -> list[Move]:
    return _redraw_around(view, t, Move(t.fees, "accrue", (t.type_id,)))


def _ceiling_stalling(view: AttackerView, t: TypeSeen) -> list[Move]:
    return _redraw_around(view, t, Move(t.ceiling, "update", (t.type_id,)))


def _zombie(view: AttackerView, t: TypeSeen) -> list[Move]:
    """Take all of a running auction's lot but one wei (leaving its debt on a worthless lot)."""
    for seen in t.auctions:
        if not seen.needs_reset and seen.lot > 1 and seen.price:
            owe = min((seen.lot - 1) * seen.price, seen.debt)
            if owe <= view.stable:
                a = view.attacker
                return [
                    Move(t.auction, "take", (seen.auction_id, seen.lot - 1, seen.price, a, b""))
                ]
    return []


def _sandwich(view: AttackerView, t: TypeSeen) -> list[Move]:
    """A keeper's flash take of a whole lot, between a sale of collateral into the pool (the
    price the keeper sells at falls) and the buy back. The keeper names the profit it expects
    from the pool as it stood, less 10% (offchain/sim/strategies/keepers.py's taker)."""
    if t.flash_taker is None or not t.reserve_collateral or not t.reserve_stable:
        return []
    for seen in t.auctions:
        if seen.needs_reset or not seen.price:
            continue
        tokens = seen.lot // t.token_scale
        proceeds = pool_out(tokens, t.reserve_collateral, t.reserve_stable, t.pool_fee) * RAY
        owe = min(seen.lot * seen.price, seen.debt)
        if proceeds <= owe:
            continue
        expected = (proceeds - owe) * 9 // 10  # [rad], as FlashTaker compares it
        front = min(t.token_balance, t.reserve_collateral)
        if not front:
            return []
        back_stable = pool_out(front, t.reserve_collateral, t.reserve_stable, t.pool_fee)
        a = view.attacker
        return [
            Move(t.token, "approve", (t.pool, front)),
            Move(view.stablecoin, "approve", (t.pool, back_stable)),
            Move(t.pool, "swap", (True, front, 0, a)),
            Move(
                t.flash_taker,
                "take",
                (seen.auction_id, seen.lot, seen.price, expected),
                sender=view.keeper,
            ),
            Move(t.pool, "swap", (False, back_stable, 0, a)),
        ]
    return []


def resolve(move: Move, model, attacker: str) -> tuple:
    """A move's arguments with each `Affordable` replaced by the amount it stands for now, and
    each `KeeperList` by the owners and shares of the keeper's first call now."""
    if any(isinstance(arg, KeeperList) for arg in move.args):
        out: list = []
        for arg in move.args:
            if isinstance(arg, KeeperList):
                calls = keeper_round_from_model(model, move.contract, arg.type_id)[1]
                out += [calls[0].owners, calls[0].shares] if calls else [[], []]
            else:
                out.append(arg)
        return tuple(out)
    if not any(isinstance(arg, Affordable) for arg in move.args):
        return move.args
    auction = model.contract(move.contract)
    stable = auction.engine.stable[attacker]
    out = []
    for arg in move.args:
        if isinstance(arg, Affordable):
            a = auction.auctions[arg.auction_id]
            price = auction._price(a) if a.lot else 0
            arg = min(a.lot, stable // price) if price else 0
        out.append(arg)
    return tuple(out)


def _settle_before_cover(view: AttackerView, t: TypeSeen) -> list[Move]:
    """A loss of the type waits for its cover: settle the unattributed bad debt against the
    fund's surplus first, then cover (issue 31, finding 6)."""
    if not t.closed_losses:
        return []
    b = view.backstop
    moves = [Move(b, "settle", (view.settleable,))] if view.settleable else []
    for auction_id, wait in t.closed_losses:
        moves.append(Move(b, "cover", (t.type_id, t.auction, auction_id), wait=wait))
    return moves


def _lone_staker(view: AttackerView, t: TypeSeen) -> list[Move]:
    """An empty pool: the least stake (MIN_STAKE, one stablecoin), activated, then a week of the
    type's fees (issue 31, finding 7: alone, it took the pool's whole fee share)."""
    if view.pool_total_shares or view.stable < MIN_STAKE:
        return []
    p = view.stability_pool
    return [
        Move(p, "stake", (MIN_STAKE,)),
        Move(p, "activate", (), wait=view.pool_exposure_delay),
        Move(t.fees, "accrue", (t.type_id,)),
        Move(t.fees, "accrue", (t.type_id,), wait=view.pool_cooldown),
    ]


def _small_charge_first(view: AttackerView, t: TypeSeen) -> list[Move]:
    """The keeper charges what the layer holds, then a loss is covered (into the layer, when the
    waterfall has it), and 100 s later the keeper charges again (issue 45, finding 1: the first,
    small charge used to lock the charged vaults out of the second for a day)."""
    if not t.closed_losses and not t.deleverage_due:
        return []
    b, k = view.backstop, view.keeper
    moves = [Move(b, "deleverage", (t.type_id, KeeperList(t.type_id)), sender=k)]
    for auction_id, wait in t.closed_losses:
        moves.append(Move(b, "cover", (t.type_id, t.auction, auction_id), wait=wait))
    moves.append(Move(b, "deleverage", (t.type_id, KeeperList(t.type_id)), wait=100, sender=k))
    return moves


def _split_under_deleverage(view: AttackerView, t: TypeSeen) -> list[Move]:
    """A loss is parked (or waits for its cover): the attacker locks a 25th of its free
    collateral drawn to a third of its limit (a small vault, strong, with little headroom: one
    part of a split position; when its vault holds no less debt already, as it is), then the
    keeper charges the type's vaults by its ranking (issue
    45, finding 2: by absolute headroom such parts fell off its list of 50)."""
    if not (t.closed_losses or t.deleverage_due) or not t.rate or not t.safe_price:
        return []
    free = t.free_collateral // 25
    debt = (t.vault_collateral + free) * t.safe_price // t.rate // 3
    a, b = view.attacker, view.backstop
    moves = []
    if debt > t.vault_debt and debt * t.rate >= t.dust:
        # (a vault already drawn further stays as it is: ranked by its own strength)
        moves.append(
            Move(t.engine, "modify_vault", (t.type_id, a, a, a, free, debt - t.vault_debt))
        )
    for auction_id, wait in t.closed_losses:
        moves.append(Move(b, "cover", (t.type_id, t.auction, auction_id), wait=wait))
    moves.append(Move(b, "deleverage", (t.type_id, KeeperList(t.type_id)), sender=view.keeper))
    return moves


def _size_limit_draw(view: AttackerView, t: TypeSeen) -> int:
    """The most normalized debt [wad] the attacker's vault, with all its free collateral
    locked, may hold and be safe at its own size (0: none above its debt)."""
    value = (t.vault_collateral + t.free_collateral) * t.safe_price
    low, high = 0, value // t.rate + 1
    while high - low > 1:
        middle = (low + high) // 2
        if sizing.margin_debt(middle * t.rate, t.size) <= value:
            low = middle
        else:
            high = middle
    return low


def _size_knee(view: AttackerView, t: TypeSeen) -> list[Move]:
    """Issue 45, finding 3: a vault just past its size limit (above the threshold, near or past
    the knee where the extra reaches its cap) is cut. Draw to the size limit, let one second of
    fees tip it, liquidate oneself as keeper (the reward), try again at once (the cut's spare
    must refuse it), and buy the lot back down the curve. The cut the Liquidator will make is
    predicted by the one home of the rule (size_margin.least_cure): a plan only when one
    exists, to aim the fuzz at vaults the rule cuts."""
    if not t.size or not t.rate or not t.safe_price or not t.penalty:
        return []
    debt = _size_limit_draw(view, t)
    threshold = (t.size >> sizing.THRESHOLD_SHIFT) * 10**45
    if debt <= t.vault_debt or debt * t.rate <= threshold:
        return []
    collateral = t.vault_collateral + t.free_collateral
    # the cut once a second of fees tipped it (the rate barely moves: planned with today's)
    cut = sizing.least_cure(
        collateral=collateral,
        normalized_debt=debt,
        rate=t.rate,
        safe_price=t.safe_price,
        dust=t.dust,
        penalty=t.penalty,
        size=t.size,
    )
    if cut == 0:
        return []
    a, drawn = view.attacker, debt - t.vault_debt
    return [
        Move(t.engine, "modify_vault", (t.type_id, a, a, a, t.free_collateral, drawn)),
        Move(t.fees, "accrue", (t.type_id,), wait=1),
        Move(t.liquidator, "liquidate", (t.type_id, a, a)),
        Move(t.liquidator, "liquidate", (t.type_id, a, a)),
        Move(
            t.auction,
            "take",
            (t.next_auction_id, Affordable(t.next_auction_id), ANY_PRICE, a, b""),
            wait=t.auction_duration // 2,
        ),
    ]


_PLANNERS = {
    "self_liquidation": _self_liquidation,
    "exit_griefing": _exit_griefing,
    "pool_escape": _pool_escape,
    "donation": _donation,
    "fee_timing": _fee_timing,
    "ceiling_stalling": _ceiling_stalling,
    "zombie": _zombie,
    "sandwich": _sandwich,
    "dust_close_own": _dust_close_own,
    "fragment_and_close": _fragment_and_close,
    "slot_filling": _slot_filling,
    "ceiling_lower_then_open": _ceiling_lower_then_open,
    "settle_before_cover": _settle_before_cover,
    "lone_staker": _lone_staker,
    "small_charge_first": _small_charge_first,
    "split_under_deleverage": _split_under_deleverage,
    "size_knee": _size_knee,
}
assert set(_PLANNERS) == set(SHAPES)


def observe_attacker(
    model, d, attacker: str, keeper: str, flash_takers: dict[str, str] | None = None
) -> AttackerView:
    """What the attacker sees, read from the model (equal to the chain)."""
    c = model.contract
    engine, pool, backstop = c(d.engine), c(d.stability_pool), c(d.backstop)
    types = []
    for name, t in d.types.items():
        ctype = engine.collateral_types[t.type_id]
        vault = engine.vaults[(t.type_id, attacker)]
        auction, oracle, market = c(t.auction), c(t.oracle), c(t.pool)
        seen = []
        for auction_id in auction.active:
            a = auction.auctions[auction_id]
            reset = auction._needs_reset(a)
            seen.append(
                AuctionSeen(auction_id, a.lot, a.debt, 0 if reset else auction._price(a), reset)
            )
        types.append(
            TypeSeen(
                name=name,
                type_id=t.type_id,
                engine=d.engine,
                liquidator=d.liquidator,
                auction=t.auction,
                fees=d.fees,
                ceiling=d.ceiling,
                pool=t.pool,
                token=t.token,
                token_balance=c(t.token).balance_of[attacker],
                flash_taker=(flash_takers or {}).get(name),
                rate=ctype.rate,
                safe_price=ctype.safe_price,
                dust=ctype.dust,
                free_collateral=engine.collateral[(t.type_id, attacker)],
                vault_collateral=vault.collateral,
                vault_debt=vault.normalized_debt,
                next_auction_id=auction.next_id(),
                auctions=tuple(seen),
                auction_duration=auction.max_duration,
                current_price=oracle.current_price,
                next_price=oracle.next_price,
                reserve_collateral=market.reserve_collateral,
                reserve_stable=market.reserve_stable,
                pool_fee=market.fee,
                token_scale=10 ** (18 - t.config.token_decimals),
                size=engine.size_margins[t.type_id],
                penalty=c(d.liquidator).types[t.type_id].penalty,
                closed_losses=tuple(
                    (key[2], max(0, loss.created_at + backstop.queue_delay - model.env.timestamp))
                    for key, loss in backstop.losses.items()
                    if key[:2] == (t.type_id, t.auction) and loss.status == CLOSED and loss.due
                ),
                deleverage_due=backstop.deleverage_due(t.type_id),
            )
        )
    return AttackerView(
        attacker=attacker,
        keeper=keeper,
        stable=engine.stable[attacker],
        stablecoin=d.stablecoin,
        stability_pool=d.stability_pool,
        pool_shares=pool.shares[attacker],
        pool_total_shares=pool.total_shares,
        pool_pending=pool.pending[attacker],
        pool_cooldown=pool.cooldown,
        pool_exposure_delay=pool.exposure_delay,
        backstop=d.backstop,
        settleable=max(0, min(backstop._free_surplus(), backstop.unattributed_debt())),
        types=tuple(types),
    )


__all__ = [
    "SHAPES",
    "Affordable",
    "Attack",
    "KeeperList",
    "AttackerView",
    "Move",
    "attack_plans",
    "observe_attacker",
]
