"""Keeper strategies: pure functions from observed state to intended actions.

The simulation driver (offchain/sim/driver.py) observes the chain or the model, asks these
functions what each actor wants to do, passes each action through the latency model and sends
what lands. Nothing here reads a backend or keeps hidden state: the only state is what is passed
in (the vault index, built from events; the set of actions still in flight, so that no keeper
acts twice on the same thing). All arithmetic is integer, so the chain run and the model run
decide the same things from the same state.

- `VaultIndex`: every vault's collateral and normalized debt, from `VaultModified` and
  `VaultSeized` events, ordered by normalized debt per collateral (a vault's liquidation price
  is that times rate x liquidation ratio, so the order does not change as fees accrue). Unsafe
  vaults are found by bisection, not by scanning every vault.
- `liquidation_actions`: liquidate the unsafe vaults, in batches of `MAX_BATCH`.
- `taker_actions`: reset stale auctions; take when the profit after gas and pool slippage clears
  a threshold (flash take through the pool, or with own capital at the market price).
- `backstop_actions`: accrue fees (and heal the unsettled proceeds with them), cover queued
  losses, settle, start debt and surplus auctions, bid in and finish debt auctions, realize
  stakers' charges.
- `oracle_actions`: post the market price, poke the oracle and the spotter when allowed.
- `arbitrage_action`: move the collateral pool towards the market price with finite inventory.
- `Latency`: a keeper's gas bid against the bar's gas percentiles -> lands now, next bar, or not.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from offchain.model.backstop import LossStatus
from offchain.model.fixed_point import RAY, WAD
from offchain.model.state import Event
from offchain.sim.market_data import Series

# owners per liquidate_many: the contract takes 100, but 100 liquidations (~165k gas each)
# exceed the 10M gas a transaction gets (backends.TX_GAS); 40 fit
MAX_BATCH = 40
KEY_SCALE = 10**45  # the index key: normalized debt per collateral, x 1e45, rounded down
# gas of each action, for the taker's profit estimate (bench/results.json, rounded up)
FLASH_TAKE_GAS = 280_000
TAKE_GAS = 160_000


@dataclass(frozen=True)
class Action:
    """One intended transaction. `targets` name what it acts on (a vault, an auction, ...): no
    two actions in flight share a target. `gas_price` is the bid [wei]; 0 = not subject to
    latency."""

    actor: str
    sender: str
    contract: str
    function: str
    args: tuple
    targets: tuple[tuple, ...]
    gas_price: int = 0


# ---------------------------------------------------------------- latency


class Latency:
    """When a keeper's transaction lands, from its gas bid and the bar's gas percentiles.

    A bid at or above the bar's 60th percentile lands in the bar; at or above the 30th, one bar
    later; below it, the transaction is dropped (the keeper tries again next bar, if it still
    wants to). With a constant gas price: at or above it lands at once, below it is dropped.
    This is how Black Thursday's gas spike kept keepers' bids out of blocks."""

    def __init__(self, gas: Series | None, constant: int):
        self.gas = gas
        self.constant = constant
        self._at: dict[int, tuple[int, int]] = {}

    def percentiles(self, time: int) -> tuple[int, int]:
        """(p30, p60) at `time` [wei]."""
        if self.gas is None:
            return self.constant, self.constant
        found = self._at.get(time)
        if found is None:
            found = self._at[time] = (self.gas.at("p30_gwei", time), self.gas.at("p60_gwei", time))
        return found

    def delay(self, bid: int, time: int) -> int | None:
        """Bars until a transaction bidding `bid` [wei] at `time` lands; None: dropped."""
        p30, p60 = self.percentiles(time)
        if bid >= p60:
            return 0
        if bid >= p30 and self.gas is not None:
            return 1
        return None

    def landing_bar(self, bid: int, times: list[int], bar: int) -> int | None:
        """The bar in which a keeper that wants to act from `bar` on (and retries every bar while
        dropped) gets its transaction in; None if never within `times`."""
        for b in range(bar, len(times)):
            d = self.delay(bid, times[b])
            if d is not None:
                return b + d
        return None


# ---------------------------------------------------------------- the vault index


class VaultIndex:
    """Vaults of one collateral type, from the engine's events, ordered by normalized debt per
    collateral (highest first = closest to liquidation)."""

    def __init__(self, type_id: bytes):
        self.type_id = type_id
        self.vaults: dict[
            str, tuple[int, int]
        ] = {}  # owner -> (collateral [wad], normalized debt [wad])
        self.total_collateral = 0  # [wad] in every vault
        self._keys: list[tuple[int, str]] = []  # ascending (key, owner) of vaults with debt

    @staticmethod
    def _key(collateral: int, normalized_debt: int) -> int:
        if collateral == 0:
            return 2**256  # debt without collateral: first in line
        return normalized_debt * KEY_SCALE // collateral

    def _set(self, owner: str, collateral: int, normalized_debt: int) -> None:
        old = self.vaults.get(owner)
        if old is not None and old[1] != 0:
            entry = (self._key(*old), owner)
            del self._keys[bisect.bisect_left(self._keys, entry)]
        self.total_collateral += collateral - (old[0] if old is not None else 0)
        self.vaults[owner] = (collateral, normalized_debt)
        if normalized_debt != 0:
            bisect.insort(self._keys, (self._key(collateral, normalized_debt), owner))

    def apply(self, engine: str, events: Iterable[Event]) -> None:
        """Fold in the engine's vault events (anything else is ignored)."""
        for e in events:
            if e.address == engine and e.name in ("VaultModified", "VaultSeized"):
                self.apply_args(e.args)

    def apply_args(self, args: dict) -> None:
        """Fold in one VaultModified or VaultSeized event of the engine, by its args (the caller
        has checked the emitter and the name; other collateral types are ignored)."""
        if args["collateral_type"] != self.type_id:
            return
        owner = args["owner"]
        collateral, debt = self.vaults.get(owner, (0, 0))
        self._set(
            owner, collateral + args["delta_collateral"], debt + args["delta_normalized_debt"]
        )

    def unsafe(self, rate: int, safe_price: int) -> list[str]:
        """Owners of unsafe vaults (collateral x safe price < normalized debt x rate), closest to
        liquidation first. Bisection finds the candidates; each is then checked exactly."""
        if rate == 0:
            return []
        threshold = safe_price * KEY_SCALE // rate
        start = bisect.bisect_left(self._keys, (threshold, ""))
        out = []
        for _, owner in reversed(self._keys[start:]):
            collateral, debt = self.vaults[owner]
            if collateral * safe_price < debt * rate:
                out.append(owner)
        return out


# ---------------------------------------------------------------- strategies


def liquidation_actions(
    index: VaultIndex,
    rate: int,
    safe_price: int,
    in_flight: set[tuple],
    keeper: str,
    liquidator: str,
    gas_price: int,
    room: int | None = None,
) -> list[Action]:
    """Liquidate every unsafe vault not already being liquidated, in batches. A safe price of 0
    means no valid price (the liquidator reverts every liquidation): nothing to do. `room` (the
    auctions the type's auction can still start, MAX_ACTIVE - running; None = no limit known)
    bounds how many vaults are proposed."""
    if safe_price == 0:
        return []
    owners = [o for o in index.unsafe(rate, safe_price) if ("vault", o) not in in_flight]
    if room is not None:
        owners = owners[: max(room, 0)]
    actions = []
    for start in range(0, len(owners), MAX_BATCH):
        batch = tuple(owners[start : start + MAX_BATCH])
        actions.append(
            Action(
                "liquidation_keeper",
                keeper,
                liquidator,
                "liquidate_many",
                (index.type_id, list(batch), keeper),
                tuple(("vault", o) for o in batch),
                gas_price,
            )
        )
    return actions


def pool_out(amount_in: int, reserve_in: int, reserve_out: int, fee: int) -> int:
    """CollateralPool.vy's constant-product output (same rounding; 0 for an empty pool, where the
    pool reverts). The taker's loop writes it out; tests/test_keepers.py holds it to the model
    pool's quote."""
    if reserve_in == 0 or reserve_out == 0:
        return 0
    in_after_fee = amount_in * (WAD - fee)
    return in_after_fee * reserve_out // (reserve_in * WAD + in_after_fee)


def take_outcome(
    lot: int, debt: int, price: int, max_collateral: int, min_auction: int
) -> tuple[int, int] | None:
    """(collateral bought [wad], owe [rad]) of `DutchAuction.take` with `max_collateral`, as the
    contract computes it; None where it would revert (no partial take)."""
    collateral = min(lot, max_collateral)
    if collateral < lot and (lot - collateral) * price < min_auction:
        collateral = lot  # the rest would be worth less than min_auction: the whole lot is taken
    owe = collateral * price
    if owe > debt:
        owe = debt
        collateral = owe // price
    elif owe < debt and collateral < lot and debt - owe < min_auction:
        if debt <= min_auction:
            return None
        owe = debt - min_auction
        collateral = owe // price
    return collateral, owe


class AuctionView(NamedTuple):  # a NamedTuple: a model run builds ~18,000 of these
    auction_id: int
    needs_reset: bool
    price: int  # ray
    lot: int  # wad
    debt: int  # rad


@dataclass(frozen=True)
class PoolView:
    reserve_collateral: int  # token units
    reserve_stable: int  # wad
    fee: int  # wad
    scale: int  # 10 ** (18 - token decimals)


@dataclass(frozen=True)
class TakerParams:
    actor: str  # the role name in the records
    taker: str
    flash_taker: str  # the taker's FlashTaker contract ("" in capital mode)
    auction: str
    mode: str  # flash | capital
    min_profit: int  # wad of stablecoin
    gas_price: int  # wei
    # flash: the share of a take's expected profit it may lose to the pool moving before it is
    # mined (a front-run); below that the FlashTaker reverts it ("flash: profit below minimum")
    # [wad]; the take's min_profit is expected x (1 - tolerance), rounded down
    profit_tolerance: int = WAD // 100


def taker_actions(
    auctions: list[AuctionView],
    pool: PoolView,
    market_price: int,
    min_auction: int,
    capital: int,
    p: TakerParams,
    in_flight: set[tuple],
) -> list[Action]:
    """Reset what needs a reset; take each auction at the size that maximizes the profit after gas
    (flash: selling into the pool, whose reserves each planned take moves; capital: valued at the
    market price, within the stablecoin `capital` [rad] left), if it clears `min_profit`.

    The sizes tried are the whole auction and its halves down to a sixteenth, for the auctions
    that pass a bound first: any size buys collateral c for owe >= c * price, where c is at most
    the whole auction's `full` (and, with capital, at most capital / price, since owe <= capital),
    and sells it for at most c at the pool's marginal price after the fee (flash) or at the
    market price (capital). Where the most c times that edge cannot pay `min_profit` and the
    gas, no size can, and the sizes' exact pool arithmetic is spared (most auctions are priced
    above what their collateral fetches, or beyond the capital left). The loop is the bound,
    `take_outcome` and `pool_out` written out (a 1,000-vault replay bounds ~26,000 auctions and
    prices ~11,000 five ways each); tests/test_keepers.py holds it equal to the plain
    composition of the two, without the bound."""
    actions = []
    flash = p.mode == "flash"
    reserve_c, reserve_s = pool.reserve_collateral, pool.reserve_stable
    scale, after_fee = pool.scale, WAD - pool.fee
    gas_cost = (FLASH_TAKE_GAS if flash else TAKE_GAS) * p.gas_price * market_price // WAD  # wad
    busy = {target[1] for target in in_flight if target[0] == "auction"}
    # the bound: edge = top - price x per_price; no size clears unless lot x edge >= need x
    # denominator
    need, losing_clears = p.min_profit + gas_cost, -gas_cost >= p.min_profit
    if flash:
        top, per_price = after_fee * reserve_s * RAY, scale * reserve_c * WAD
    else:
        top, per_price = market_price * RAY, WAD
    denominator = per_price * RAY
    for a in auctions:
        auction_id, needs_reset, price, lot, debt = a
        if auction_id in busy or lot == 0:
            continue
        if needs_reset:
            actions.append(
                Action(
                    p.actor,
                    p.taker,
                    p.auction,
                    "reset",
                    (auction_id, p.taker),
                    (("auction", auction_id),),
                    p.gas_price,
                )
            )
            continue
        if price == 0:
            continue
        full = min(lot, -(-debt // price))  # the most any size buys
        edge = top - price * per_price if per_price else 0  # (flash with an empty pool: no edge)
        if edge <= 0:
            if not losing_clears:
                continue
        elif (full if flash else min(full, capital // price)) * edge < need * denominator:
            continue
        best_profit = best_size = best_tokens = best_proceeds = best_owe = None
        for divisor in (1, 2, 4, 8, 16):
            size = full // divisor  # max_collateral; size <= full <= lot
            # take_outcome(lot, debt, price, size, min_auction)
            collateral = size
            if size < lot and (lot - size) * price < min_auction:
                collateral = lot
            owe = collateral * price
            if owe > debt:
                owe = debt
                collateral = owe // price
            elif owe < debt and collateral < lot and debt - owe < min_auction:
                if debt <= min_auction:
                    continue  # the take would revert
                owe = debt - min_auction
                collateral = owe // price
            if collateral == 0:
                continue
            cost = -(-owe // RAY)  # wad, rounded up
            if flash:
                tokens = collateral // scale
                if reserve_c == 0 or reserve_s == 0:  # pool_out(tokens, reserve_c, reserve_s, fee)
                    proceeds = 0
                else:
                    in_after_fee = tokens * after_fee
                    proceeds = in_after_fee * reserve_s // (reserve_c * WAD + in_after_fee)
            else:
                if owe > capital:
                    continue
                tokens = 0
                proceeds = collateral * market_price // WAD
            profit = proceeds - cost - gas_cost
            if best_profit is None or profit > best_profit:
                best_profit, best_size, best_tokens, best_proceeds, best_owe = (
                    profit,
                    size,
                    tokens,
                    proceeds,
                    owe,
                )
        if best_profit is None or best_profit < p.min_profit:
            continue
        assert best_size is not None and best_tokens is not None and best_proceeds is not None
        assert best_owe is not None
        if flash:
            reserve_c, reserve_s = reserve_c + best_tokens, reserve_s - best_proceeds
            top, per_price = after_fee * reserve_s * RAY, scale * reserve_c * WAD
            denominator = per_price * RAY
            # the FlashTaker's profit [rad] (before gas) at these reserves, less the tolerance
            expected = best_proceeds * RAY - best_owe
            floor = expected * (WAD - p.profit_tolerance) // WAD if expected > 0 else 0
            actions.append(
                Action(
                    p.actor,
                    p.taker,
                    p.flash_taker,
                    "take",
                    (auction_id, best_size, price, floor),
                    (("auction", auction_id),),
                    p.gas_price,
                )
            )
        else:
            outcome = take_outcome(lot, debt, price, best_size, min_auction)
            assert outcome is not None  # best_size was priced by the same rule
            capital -= outcome[1]
            actions.append(
                Action(
                    p.actor,
                    p.taker,
                    p.auction,
                    "take",
                    (auction_id, best_size, price, p.taker, b""),
                    (("auction", auction_id),),
                    p.gas_price,
                )
            )
    return actions


@dataclass(frozen=True)
class DebtAuctionView:
    auction_id: int
    bid: int  # rad
    lot: int  # wad
    winner: str
    bid_expiry: int
    end: int


@dataclass(frozen=True)
class BackstopView:
    now: int
    surplus: int  # rad: the Backstop's stablecoin
    bad_debt: int  # rad
    unattributed_debt: int  # rad
    # rad: finished auctions' proceeds and covers' payments not yet cancelled against bad debt
    # (part of `surplus`)
    unsettled_proceeds: int
    debt_to_auction: int  # rad
    debt_auction_bid_size: int  # rad
    surplus_buffer: int  # rad
    surplus_lot: int  # rad
    queue_delay: int
    losses: list[
        tuple[int, int, int, int]
    ]  # (auction id, due [rad], created_at, status) of known events
    debt_auctions: list[DebtAuctionView]
    min_decrease: int  # wad
    bidder_stable: int  # rad
    charge_count: int
    stakers: list[tuple[str, int, int]]  # (staker, shares, next_charge)
    # running collateral auctions whose whole lot is worth less than min_auction at their start
    # price (lot x top < min_auction) and less than their debt at the current price: no taker
    # will finish them; the keeper closes them (the lot goes to the Backstop)
    dust_auctions: tuple[int, ...] = ()


@dataclass(frozen=True)
class BackstopParams:
    keeper: str
    bidder: str  # "" = nobody bids in debt auctions
    backstop: str
    debt_auction: str
    stability_pool: str
    fees: str
    type_id: bytes
    auction: str
    gas_price: int


def backstop_actions(
    v: BackstopView, p: BackstopParams, accrue: bool, in_flight: set[tuple]
) -> list[Action]:
    """The Backstop's housekeeping, in the order a keeper would do it."""
    out: list[Action] = []

    def act(
        actor: str, sender: str, contract: str, function: str, args: tuple, target: tuple
    ) -> None:
        if target not in in_flight:
            out.append(Action(actor, sender, contract, function, args, (target,), p.gas_price))

    k = p.keeper
    if accrue:
        act("backstop_keeper", k, p.fees, "accrue", (p.type_id,), ("accrue",))
    for auction_id, due, created_at, status in v.losses:
        if status == LossStatus.CLOSED and due != 0 and created_at + v.queue_delay <= v.now:
            act(
                "backstop_keeper",
                k,
                p.backstop,
                "cover",
                (p.type_id, p.auction, auction_id),
                ("cover", auction_id),
            )
    for auction_id in v.dust_auctions:
        act(
            "backstop_keeper",
            k,
            p.auction,
            "close_dust_auction",
            (auction_id,),
            ("close_dust", auction_id),
        )
    if accrue and v.unsettled_proceeds != 0:
        # cancel the unsettled proceeds (finished auctions', covers' payments) against the debt
        # they paid, with the hourly accrual: one heal (about 52.5k gas) for every auction
        # finished or loss covered since the last one (each saved 15-25k by not doing it);
        # nothing on chain needs it sooner (docs/gas.md)
        act("backstop_keeper", k, p.backstop, "heal", (), ("heal",))
    # the unsettled proceeds are not surplus settle may spend
    settle = min(v.surplus - v.unsettled_proceeds, v.unattributed_debt)
    if settle != 0:
        act("backstop_keeper", k, p.backstop, "settle", (settle,), ("settle",))
    if v.debt_to_auction != 0 and v.debt_auction_bid_size != 0:
        # one start per bid's worth; the last one raises what is left
        starts = -(-v.debt_to_auction // v.debt_auction_bid_size)
        for i in range(starts):
            act(
                "backstop_keeper",
                k,
                p.backstop,
                "start_debt_auction",
                (),
                ("start_debt_auction", i),
            )
    bidder_stable = v.bidder_stable
    for a in v.debt_auctions:
        if a.end == 0:
            continue
        if a.bid_expiry != 0 and (a.bid_expiry <= v.now or a.end <= v.now):
            act(
                "backstop_keeper",
                k,
                p.debt_auction,
                "finish",
                (a.auction_id,),
                ("debt_finish", a.auction_id),
            )
        elif a.bid_expiry == 0 and a.end < v.now:
            act(
                "backstop_keeper",
                k,
                p.debt_auction,
                "restart",
                (a.auction_id,),
                ("debt_restart", a.auction_id),
            )
        elif (
            p.bidder
            and a.winner != p.bidder
            and a.end > v.now
            and (a.bid_expiry == 0 or a.bid_expiry > v.now)
            and bidder_stable >= a.bid
        ):
            lot = a.lot * WAD // v.min_decrease
            if lot != 0:
                bidder_stable -= a.bid
                act(
                    "bidder",
                    p.bidder,
                    p.debt_auction,
                    "bid",
                    (a.auction_id, lot),
                    ("debt_bid", a.auction_id),
                )
    for staker, shares, next_charge in v.stakers:
        if shares != 0 and next_charge <= v.charge_count:
            act(
                "backstop_keeper", k, p.stability_pool, "realize", (staker, 10), ("realize", staker)
            )
    if v.surplus_lot != 0 and v.surplus >= v.bad_debt + v.surplus_buffer + v.surplus_lot:
        act(
            "backstop_keeper",
            k,
            p.backstop,
            "start_surplus_auction",
            (),
            ("start_surplus_auction",),
        )
    return out


def oracle_actions(
    feeder: str,
    oracle: str,
    spotter: str,
    type_id: bytes,
    market_price: int,
    now: int,
    last_poke: int,
    delay: int,
    reference: int = 0,
    max_change: int = 0,
) -> list[Action]:
    """Post the market price every bar; once a delay has passed, poke the oracle (the posted price
    becomes next, the next becomes current) and the spotter (the safe price follows). With the
    oracle's bound (`max_change` [wad] around `reference`, its queued price, or current if none),
    a move beyond it is posted as the largest move allowed: the rest follows after the poke."""
    price = market_price
    if max_change != 0 and reference != 0:
        if max_change < WAD:
            low = -(-reference * (WAD - max_change) // WAD)
            price = max(price, low)
        price = min(price, reference * (WAD + max_change) // WAD)
    actions = [Action("feeder", feeder, oracle, "post", (price,), (("post",),))]
    if now >= last_poke + delay:
        actions.append(Action("feeder", feeder, oracle, "poke", (), (("poke",),)))
        actions.append(Action("feeder", feeder, spotter, "poke", (type_id,), (("spot",),)))
    return actions


def arbitrage_action(
    pool: PoolView,
    market_price: int,
    threshold: int,
    collateral_tokens: int,
    stable: int,
    arbitrageur: str,
    pool_address: str,
) -> Action | None:
    """One swap that moves the pool's price (stablecoin per token) to the market price, as far as
    the arbitrageur's inventory (`collateral_tokens` [token units], `stable` [wad]) allows; none
    when the gap is within `threshold` [wad fraction]. Ignores the pool fee in the target (the
    price lands within the fee of the market)."""
    c, s = pool.reserve_collateral * pool.scale, pool.reserve_stable  # both wad
    if c == 0 or s == 0:
        return None
    pool_price = s * WAD // c
    if abs(pool_price - market_price) * WAD <= threshold * market_price:
        return None
    k = c * s
    if pool_price > market_price:  # sell collateral into the pool
        target_c = math.isqrt(k * WAD // market_price)
        amount = min((target_c - c) // pool.scale, collateral_tokens)
        if amount <= 0:
            return None
        return Action(
            "arbitrageur",
            arbitrageur,
            pool_address,
            "swap",
            (True, amount, 0, arbitrageur),
            (("arb",),),
        )
    target_s = math.isqrt(k * market_price // WAD)
    amount = min(target_s - s, stable)
    if amount <= 0:
        return None
    return Action(
        "arbitrageur",
        arbitrageur,
        pool_address,
        "swap",
        (False, amount, 0, arbitrageur),
        (("arb",),),
    )
