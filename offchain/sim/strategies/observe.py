"""What a keeper observes before it decides: the reads behind each strategy of keepers.py and the
views built from them, written once for both runtimes that call the strategies.

The simulation driver (run/driver.py) and the live bots (offchain/live/) observe through these
functions and pass what they return to the same pure strategies, so a bot and the simulator
decide the same things from the same chain state. Each function takes the runtime's way of
reading: `read` (many public getters at once; the driver mines what it has queued first) and,
where a result is too long for a batched read, `call` (one plain call, nothing mined first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

from offchain.backends.base import TX_GAS
from offchain.model import deleverage as dl
from offchain.model.backstop import LossStatus
from offchain.model.deleverage import Window
from offchain.model.dutch_auction import MAX_ACTIVE, every_running
from offchain.model.fixed_point import RAY, WAD_TO_RAY
from offchain.model.state import Role
from offchain.sim.strategies.gas_costs import FLASH_TAKE_GAS, TAKE_GAS
from offchain.sim.strategies.keepers import (
    Action,
    AuctionView,
    BackstopView,
    DebtAuctionView,
    DeleverageView,
    PoolView,
    TakerParams,
    VaultIndex,
    capital_spent,
    liquidation_actions,
    lowest_safe_price,
    price_ceiling,
    taker_actions,
)
from offchain.system.deployment import Deployment, TypeDeployment

Call = tuple[str, str, tuple]
Read = Callable[[list[Call]], list[Any]]
CallOne = Callable[..., Any]


class LateFilter(Protocol):
    """A taker's late filter for a round (run/sending.py's `LateTakes`; taker.taker_actions'
    `late`)."""

    @property
    def when(self) -> int | None: ...

    @property
    def dropped(self) -> Mapping[int, int]: ...

    def __call__(self, auction_id: int) -> bool: ...

    def skipped(self, count: int) -> None: ...


# events that change what a vault holds (VaultIndex.apply_args folds them in)
VAULT_EVENTS = ("VaultModified", "VaultSeized")


@dataclass(frozen=True)
class LiquidationView:
    rate: int  # ray
    safe_price: int  # ray
    running: int  # the type's running auctions
    size: int = 0  # the type's size margin, packed (offchain/model/size_margin.py)
    # the type's dust [rad] and liquidation penalty [wad]: which vaults the Liquidator refuses
    # (model/liquidator.py, refuses_size_cut); a dust of 0: none
    dust: int = 0
    penalty: int = 0


def read_liquidation_view(read: Read, d: Deployment, t: TypeDeployment) -> LiquidationView:
    ctype, running, size, penalty = read(
        [
            (d.engine, "collateral_types", (t.type_id,)),
            (t.auction, "active_count", ()),
            (d.engine, "size_margin_word", (t.type_id,)),
            (d.liquidator, "penalty", (t.type_id,)),
        ]
    )
    return LiquidationView(ctype[1], ctype[2], running, size, ctype[4], penalty)


def plan_liquidations(
    index: VaultIndex,
    view: LiquidationView,
    in_flight: set[tuple],
    keeper: str,
    liquidator: str,
    gas_price: int,
    tx_gas: int = TX_GAS,
) -> list[Action]:
    """The liquidation keeper's actions: the unsafe vaults not in flight that the Liquidator
    would not refuse, as many as the type's auction can still start (its maximum, less those
    running and those already in flight), in batches sized to `tx_gas`
    (keepers.liquidation_actions)."""
    room = MAX_ACTIVE - view.running - sum(1 for f in in_flight if f[0] == "vault")
    return liquidation_actions(
        index,
        view.rate,
        view.safe_price,
        in_flight,
        keeper,
        liquidator,
        gas_price,
        room,
        view.size,
        tx_gas,
        view.dust,
        view.penalty,
    )


@dataclass(frozen=True)
class AuctionMarket:
    """The running auctions of a type and what a taker prices them against."""

    views: list[AuctionView]
    min_auction: int  # rad
    reserve_collateral: int  # token units
    reserve_stable: int  # wad
    capital: int  # rad: the capital taker's stablecoin in the engine
    # the running auctions listed (`views` holds those read: all, or those a round chose)
    running: int = 0


@dataclass(frozen=True)
class Clocks:
    """What a runtime knows of a type's running auctions from their events, so that a round
    reads only the auctions it can act on (`choose_running`; the simulation's ledger, results/
    ledger.py): each running auction's clock (id -> (started or last reset [s], top [ray])) and
    the running auctions on each clock, the first second an auction on a clock needs a reset
    (None: not known), the price on the auction's curve `elapsed` seconds after a start at `top`
    (model/price_curves.py's `price`), and the time the reads see (the last block's)."""

    live: Mapping[int, tuple[int, int]]
    on_clock: Mapping[tuple[int, int], set[int]]
    reset_time: Callable[[tuple[int, int]], int | None]
    price: Callable[[int, int], int]  # (top [ray], elapsed [s]) -> ray
    now: Callable[[], int]


# (active, min_auction, reserve_collateral, reserve_stable) -> the running auctions to read
Choose = Callable[[list[int], int, int, int], list[int]]


def read_auction_market(
    read: Read,
    call: CallOne,
    d: Deployment,
    t: TypeDeployment,
    capital_holder: str,
    choose: Choose | None = None,
) -> AuctionMarket | None:
    """None when no auction runs (then nothing more is read). The list of running auctions is
    one plain call (a dynamic array) per page of 1,024; the rest batched reads. `choose`: which
    of the running auctions to read (`choose_running`), asked after the round's other reads
    (the pool's reserves); None: all of them, in one read with the rest."""
    active = every_running(lambda first_slot: call(t.auction, "active_auctions", first_slot))
    if not active:
        return None
    rest: list[Call] = [
        (t.auction, "min_auction", ()),
        (t.pool, "reserve_collateral", ()),
        (t.pool, "reserve_stable", ()),
        (d.engine, "stable", (capital_holder,)),
    ]
    if choose is None:
        chosen = active
        reads = read([(t.auction, "status", (i,)) for i in active] + rest)
        statuses, (min_auction, rc, rs, capital) = reads[: len(active)], reads[len(active) :]
    else:
        min_auction, rc, rs, capital = read(rest)
        chosen = choose(active, min_auction, rc, rs)
        statuses = read([(t.auction, "status", (i,)) for i in chosen]) if chosen else []
    # tuple.__new__: AuctionView(aid, *status) without its Python-level __new__ (a round of a
    # 100,000-vault run builds up to ~27,000 of these)
    make = tuple.__new__
    views = [make(AuctionView, (aid, *status)) for aid, status in zip(chosen, statuses)]
    return AuctionMarket(views, min_auction, rc, rs, capital, len(active))


def choose_running(
    clocks: Clocks,
    takers: Sequence[TakerParams],
    lates: Callable[[], Sequence[LateFilter | None] | None],
    in_flight: Iterable[tuple],
    pool_fee: Callable[[], int],
    scale: int,
    market_price: int,
    active: list[int],
    min_auction: int,
    reserve_collateral: int,
    reserve_stable: int,
) -> list[int]:
    """The running auctions `active` (listed before the round's first read mined what was
    queued), in their order, that a round must read for `takers` to plan exactly what they
    would plan from all of them (plan_takes): those that need a reset now, those priced below a
    taker's `price_ceiling` whose takes are not late for it, those whose clock is not known
    (finished since they were listed, say: their status reads empty) and those a taker dropped
    a take of in a row (`lates()`: each taker's late filter, run/sending.py's `LateTakes`). Of
    every other auction a taker values nothing: it skips it if a take of it is in flight,
    otherwise asks whether its take would be late first, which is counted. Here that count
    comes from the clock (a late filter's `when` against the clock's reset time, the answer
    `late` gives: sending.py) and is handed to the filter (`skipped`). Auctions liquidated
    together share their clock: each clock is judged once, and its auctions counted at once.
    `pool_fee()`: the pool's fee, asked here (after the round's first read)."""
    filters = lates() or [None] * len(takers)
    now, live, reset_time, price = clocks.now(), clocks.live, clocks.reset_time, clocks.price
    pool = PoolView(reserve_collateral, reserve_stable, pool_fee(), scale)
    ceilings = [price_ceiling(pool, market_price, p) for p in takers]
    whens = [None if f is None else f.when for f in filters]
    listed = set(active)
    chosen = listed - live.keys()  # not known: read
    skipped = [0] * len(takers)
    # a clock -> None (read its auctions) or, per taker, whether their takes would be late
    late_on: dict[tuple[int, int], tuple[bool, ...]] = {}
    for clock, running in clocks.on_clock.items():
        first = reset_time(clock)
        if first is not None and now < first:  # known, and needing no reset now
            started, top = clock
            at = price(top, now - started)
            late = tuple(when is not None and first <= when for when in whens)
            if not any(
                not is_late and (ceiling is None or at < ceiling)
                for ceiling, is_late in zip(ceilings, late)
            ):
                late_on[clock] = late
                for i, is_late in enumerate(late):
                    if is_late:
                        skipped[i] += len(running)
                continue
        chosen |= running
    # the counts are of listed auctions, not in flight, judged by `late` with `when`: not of
    # those liquidated since the list (not listed), nor of those in flight (skipped unasked),
    # nor of those a taker dropped a take of (read, and asked each at its own bid)
    uncounted = live.keys() - listed
    uncounted.update(target[1] for target in in_flight if target[0] == "auction")
    for f in filters:
        if f is not None:
            chosen.update(f.dropped)
            uncounted.update(f.dropped)
    for auction_id in uncounted:
        clock = live.get(auction_id)
        late = late_on.get(clock) if clock is not None else None
        if late is not None:  # counted above with its clock's auctions
            for i, is_late in enumerate(late):
                if is_late:
                    skipped[i] -= 1
    for f, count in zip(filters, skipped):
        if count:
            assert f is not None
            f.skipped(count)
    return [auction_id for auction_id in active if auction_id in chosen]


def plan_takes(
    market: AuctionMarket,
    pool_fee: int,
    scale: int,
    market_price: int,
    takers: Iterable[TakerParams],
    in_flight: set[tuple],
    capital: int | None = None,
    lates: Sequence[LateFilter | None] | None = None,
) -> tuple[list[Action], int]:
    """Every taker's actions, one taker per auction: what the first plans to take or reset, the
    next leaves; and the holder's stablecoin [rad] left for takes with own capital. `capital`
    is what is left of it this round (another collateral type's takes planned first spent the
    rest); None: all of it, as read (`market.capital`). `lates`: each taker's late filter,
    which auctions a take by that taker would reach too late to be sent (the driver's
    Sending.late_filter; None: none)."""
    pool = PoolView(market.reserve_collateral, market.reserve_stable, pool_fee, scale)
    views = market.views
    left = market.capital if capital is None else min(capital, market.capital)
    out: list[Action] = []
    for i, params in enumerate(takers):
        too_late = None if lates is None else lates[i]
        planned = taker_actions(
            views, pool, market_price, market.min_auction, left, params, in_flight, too_late
        )
        out += planned
        left -= capital_spent(planned, views, market.min_auction)
        targeted = {target for action in planned for target in action.targets}
        views = [v for v in views if ("auction", v.auction_id) not in targeted]
    return out, left


def least_take_gas(p: TakerParams) -> int:
    """The least gas a take of taker `p` costs (a flash take on the venue costs more): what its
    late filter judges with (run/sending.py, `late_filter`)."""
    return FLASH_TAKE_GAS if p.mode == "flash" else TAKE_GAS


def dust_candidates(market: AuctionMarket | None) -> list[int]:
    """Auctions that ran their curve unsold (they need a reset) and may be worth less than
    min_auction and their debt (lot x price below both); read_backstop_view checks them at the
    start price a reset would give them, as close_dust_auction does."""
    if market is None:
        return []
    return [
        v.auction_id
        for v in market.views
        if v.needs_reset and v.lot * v.price < min(market.min_auction, v.debt)
    ]


@dataclass(frozen=True)
class BackstopWatch:
    """What the backstop keeper follows from events: closed losses not yet fully covered and
    running debt auctions."""

    loss_ids: list[int]
    debt_auction_ids: list[int]


def read_backstop_view(
    read: Read,
    d: Deployment,
    t: TypeDeployment,
    watch: BackstopWatch,
    bidder: str,
    stakers: Iterable[str],
    candidates: list[int],
    min_auction: int,
    min_decrease: int,
    now: Callable[[], int],
) -> tuple[BackstopView, list[int]]:
    """(the backstop keeper's view, the watched losses now done: nothing left to cover). The
    keeper acts on closed losses only (keepers.backstop_actions: status CLOSED); a loss closes
    with its LossClosed event, so it reads just those, not every running auction's. `now()` is
    the next block's time, asked after the reads."""
    stakers = list(stakers)
    loss_ids, da_ids = watch.loss_ids, watch.debt_auction_ids
    calls: list[Call] = [
        (d.engine, "stable", (d.backstop,)),
        (d.engine, "bad_debt", (d.backstop,)),
        (d.backstop, "unattributed_debt", ()),
        (d.backstop, "debt_to_auction", ()),
        (d.backstop, "debt_auction_bid_size", ()),
        (d.backstop, "surplus_buffer", ()),
        (d.backstop, "surplus_lot", ()),
        (d.backstop, "queue_delay", ()),
        (d.engine, "stable", (bidder,)),
        (d.stability_pool, "charge_count", ()),
        (d.backstop, "unsettled_proceeds", ()),
    ]
    calls += [(d.backstop, "losses", (t.type_id, t.auction, x)) for x in loss_ids]
    calls += [(d.debt_auction, "auctions", (x,)) for x in da_ids]
    for staker in stakers:
        calls += [
            (d.stability_pool, "shares", (staker,)),
            (d.stability_pool, "next_charge", (staker,)),
        ]
    r = read(calls)
    n = 11
    losses, done = [], []
    for j, x in enumerate(loss_ids):
        _, due, created_at, status = r[n + j]
        if status == LossStatus.DONE:
            done.append(x)
        losses.append((x, due, created_at, status))
    n += len(loss_ids)
    auctions = [DebtAuctionView(x, *r[n + j]) for j, x in enumerate(da_ids)]
    n += len(da_ids)
    staker_rows = [(st, r[n + 2 * j], r[n + 2 * j + 1]) for j, st in enumerate(stakers)]
    dust: tuple[int, ...] = ()
    if candidates:
        dust_calls: list[Call] = [(t.oracle, "peek", ()), (t.auction, "buffer", ())]
        got = read(dust_calls + [(t.auction, "auctions", (x,)) for x in candidates])
        (price, valid), buffer, stored = got[0], got[1], got[2:]
        # the start price a reset would give them (DutchAuction._start_price, rounded up)
        top = -(-price * WAD_TO_RAY * buffer // RAY)
        # auctions(id) = (position, debt, lot, owner, started, top, reward_budget)
        dust = tuple(
            x
            for x, au in zip(candidates, stored)
            if valid and au[2] * top < min(min_auction, au[1])
        )
    view = BackstopView(
        now(),
        r[0],
        r[1],
        r[2],
        r[10],
        r[3],
        r[4],
        r[5],
        r[6],
        r[7],
        losses,
        auctions,
        min_decrease,
        r[8],
        r[9],
        staker_rows,
        dust,
    )
    return view, done


def read_deleverage_view(
    read: Read, d: Deployment, t: TypeDeployment, keeper: str, now: Callable[[], int]
) -> DeleverageView | None:
    """Type `t`'s loss parked for the deleveraging layer and what the Backstop prices headroom
    with (its lowest shown safe price, buffer, per-call cap and per-vault interval); None when
    nothing is due (then nothing more is read: one read a type and round). `now()`: the next
    block's time, asked after the reads."""
    (due,) = read([(d.backstop, "deleverage_due", (t.type_id,))])
    if due == 0:
        return None
    got = read(
        [
            (d.engine, "collateral_types", (t.type_id,)),
            (d.engine, "size_margin_word", (t.type_id,)),
            (d.backstop, "deleverage_buffer", ()),
            (d.backstop, "deleverage_max_fraction", ()),
            (d.backstop, "deleverage_interval", ()),
            (d.backstop, "roles", (keeper,)),
            (d.backstop, "authorized", (keeper,)),
            (d.spotter, "liquidation_ratios", (t.type_id,)),
            (t.oracle, "current_price", ()),
            (t.oracle, "next_price", ()),
            (t.oracle, "source_price", ()),
        ]
    )
    ctype, size, buffer, max_fraction, interval, roles, admin, ratio = got[:8]
    safe_price = lowest_safe_price(ctype[2], got[8:], ratio)
    allowed = bool(roles & Role.DELEVERAGE) or bool(admin)
    return DeleverageView(
        due, ctype[1], safe_price, size, buffer, allowed, max_fraction, interval, now()
    )


# the vaults whose window one batched read asks for, while ranking for a deleverage
WINDOW_BATCH = 100


def read_windows(
    read: Read,
    d: Deployment,
    t: TypeDeployment,
    ranked: list[str],
    v: DeleverageView,
    vaults: Mapping[str, tuple[int, int]],
) -> dict[str, Window]:
    """Backstop.deleverage_window of the strongest vaults (`ranked`, strongest first; `vaults`
    the index's owner -> (collateral, normalized debt)), a batch at a time, until the level
    rule's level over the vaults read lies at or above the next vault's strength (no vault
    past them pays: offchain/model/deleverage.py's level_reached) or none is left: what
    deleverage_calls needs of the windows."""
    windows: dict[str, Window] = {}
    for start in range(0, len(ranked), WINDOW_BATCH):
        batch = ranked[start : start + WINDOW_BATCH]
        got = read([(d.backstop, "deleverage_window", (t.type_id, o)) for o in batch])
        windows.update((o, Window(*w)) for o, w in zip(batch, got, strict=True))
        if start + WINDOW_BATCH >= len(ranked):
            break
        read_so_far = {o: vaults[o] for o in windows}
        cands = dl.candidates(read_so_far, windows, v.pricing, v.limits, v.now)
        following = ranked[start + WINDOW_BATCH]
        if dl.level_reached(cands, v.due, Fraction(1) / dl.strength(*vaults[following], v.pricing)):
            break
    return windows


def read_last_poke(read: Read, t: TypeDeployment) -> int:
    return read([(t.oracle, "last_poke", ())])[0]


def read_oracle_bound(read: Read, t: TypeDeployment) -> tuple[int, int]:
    """(reference, max_change) of the oracle's bound on a post: the queued price (current if
    none) and the largest relative move [wad] a post may make from it (0: no bound)."""
    next_price, current_price, max_change = read(
        [
            (t.oracle, "next_price", ()),
            (t.oracle, "current_price", ()),
            (t.oracle, "max_change", ()),
        ]
    )
    return next_price or current_price, max_change
