"""The taker's strategy (keepers.py): reset stale auctions; take when the profit after gas and
slippage clears a threshold (a flash take selling into the pool or, where the market has one, on
the outside venue, whichever pays more; or with own capital at the market price). `pool_out`
and `take_outcome` are the pool's and the auction's arithmetic it plans with, the venue's the
curve's (offchain/model/venue_curve.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from offchain.model.fixed_point import RAY, WAD
from offchain.model.venue_curve import sale_bound, walk
from offchain.sim.strategies.actions import Action
from offchain.sim.strategies.gas_costs import FLASH_TAKE_GAS, FLASH_TAKE_VENUE_GAS, TAKE_GAS


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


class VenueView(NamedTuple):
    """The outside venue as a flash take in the next block sells on it (an OutsideVenue the
    market syncs with these at the block's start: sim/market/flash_venue.py): the curve of
    offchain/model/venue_curve.py, `walk`, from `flow`, paying at most `cash` in all."""

    flow: int  # the effective flow the venue remembers at the block's time [signed tokens, wad]
    num: int  # Y x sigma of the bar [wad x wad]
    root_v: int  # sqrt(V) of the bar [wad]
    fundamental: int  # the fundamental price [stablecoin per token, wad]
    # the stablecoin [wad] the venue can pay the block's sales (what it holds and what its
    # market can put in): a sale beyond it reverts
    cash: int


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
    # capital: what `tokens` [wad] of collateral are worth to the taker in stablecoin [wad] (an
    # open market's resale on the outside venue, sim/market/outside.py); None: tokens x the
    # market price. `value_top` [wad] bounds it per token from above (the bound below).
    value: Callable[[int], int] | None = None
    value_top: int = 0
    # flash: the outside venue a take may sell on instead (the FlashTaker's venue route), asked
    # once a plan, after the round's reads (its quote is the next block's); None, or a call that
    # gives None: the pool only (a devnet without an outside venue: offchain/live/venue.py)
    venue: Callable[[], VenueView | None] | None = None


# the largest effective flow [tokens, wad] a venue sale reaches: OutsideVenue.vy takes a flow
# and a block's sales each below 2**100 (model/outside_venue.py, MAX_FLOW), so a sale's end is
# below 2**101; a plan's sales past it would revert there (price_ceiling's bound)
PLAN_FLOW = 2**101


class _VenueRoute:
    """A flash plan's venue route (taker_actions): the venue's curve from the flow after the
    plan's sales on it so far (`sold` [wad]), and the bound on a sale there (venue_curve.
    sale_bound): a sale of collateral c brings at most c x top / WAD + constant, so a size's
    profit there is at most (c x (top x RAY - price x WAD)) / (WAD x RAY) + constant - gas."""

    DENOMINATOR = WAD * RAY

    def __init__(self, view: VenueView, scale: int, gas: int, min_profit: int):
        self.flow, self.num, self.root_v, self.fundamental, self.cash = view
        self.scale, self.gas, self.min_profit = scale, gas, min_profit
        self.sold = self.paid = 0  # [wad] the plan's sales there so far, and what they bring
        self._bound()

    def _bound(self) -> None:
        flow = self.flow + self.sold
        self.top, self.constant = sale_bound(flow, self.num, self.root_v, self.fundamental)
        # a profit of at least min_profit needs c x edge >= need x DENOMINATOR
        self.need = self.min_profit + self.gas - self.constant

    def edge(self, full: int, price: int) -> int | None:
        """The edge of an auction at `price` [ray] whose sizes buy at most `full` [wad]; None
        where no size can clear the minimum on the venue."""
        edge = self.top * RAY - price * WAD
        if edge > 0:
            return edge if full * edge >= self.need * self.DENOMINATOR else None
        return edge if self.need <= 0 else None

    def candidate(
        self, collateral: int, tokens: int, cost: int, edge: int, best: int | None
    ) -> tuple[int, int] | None:
        """(profit after gas, proceeds) [wad] of selling `tokens` [token units] of a size that
        buys `collateral` [wad] for `cost` [wad] on the venue, where it beats `best` (the best
        so far; a tie keeps it) and the venue can pay it after the plan's earlier sales there;
        None where not, or where the bound shows that it cannot clear the minimum or beat
        `best` (the curve is not walked)."""
        reach = collateral * edge
        if reach < self.need * self.DENOMINATOR or (
            best is not None and reach <= (best + self.gas - self.constant) * self.DENOMINATOR
        ):
            return None
        flow = self.flow + self.sold
        proceeds = walk(flow, tokens * self.scale, self.num, self.root_v, self.fundamental)[0]
        if self.paid + proceeds > self.cash:
            return None
        profit = proceeds - cost - self.gas
        return (profit, proceeds) if best is None or profit > best else None

    def sell(self, tokens: int, proceeds: int) -> None:
        """The plan sells `tokens` [token units] on the venue for `proceeds` [wad]: the next
        take walks on, from what the venue has left to pay."""
        self.sold += tokens * self.scale
        self.paid += proceeds
        self._bound()


def _gas_cost(p: TakerParams, market_price: int) -> int:
    """What the gas of a take of taker `p` costs [wad] at its bid: a flash take's into the pool,
    or a capital take's."""
    return (FLASH_TAKE_GAS if p.mode == "flash" else TAKE_GAS) * p.gas_price * market_price // WAD


def _edge_terms(
    p: TakerParams, market_price: int, reserve_c: int, reserve_s: int, scale: int, after_fee: int
) -> tuple[int, int]:
    """(top, per_price): a take of taker `p` at a price [ray] has the edge top - price x
    per_price on its first route: a flash take's, the pool at these reserves after its fee; a
    capital take's, what a token is worth (`value_top`, or the market price). The taker loop's
    bound and `price_ceiling`'s."""
    if p.mode == "flash":
        return after_fee * reserve_s * RAY, scale * reserve_c * WAD
    return (p.value_top if p.value is not None else market_price) * RAY, WAD


def price_ceiling(pool: PoolView, market_price: int, p: TakerParams) -> int | None:
    """The price [ray] from which on `taker_actions` values no take for taker `p`: at or above
    it no size has an edge on any of its routes (the pool's after its fee, the venue's
    `sale_bound`, or what its capital's collateral is worth), so the loop's first bound skips
    the auction (a reset where it needs one, and the `late` question before the bound, are all
    it gets). None: no price is skipped (a minimum profit that a loss of the gas clears, or a
    venue whose bound's constant alone could pay the minimum at some flow a plan reaches). The
    plan's own takes only lower what the pool and the venue pay (their reserves and flow move
    against the next sale), and the venue's constant is taken at its largest, so the ceiling at
    the plan's start holds for all of it (observe.choose_running reads no auction at or above
    every taker's)."""
    if -_gas_cost(p, market_price) >= p.min_profit:
        return None

    def ceiling(top: int, per_price: int) -> int:
        # the least price whose edge, top - price x per_price, is not positive
        return -(-top // per_price) if top > 0 and per_price > 0 else 0

    out = ceiling(
        *_edge_terms(
            p, market_price, pool.reserve_collateral, pool.reserve_stable, pool.scale,
            WAD - pool.fee,
        )
    )  # fmt: skip
    if p.mode != "flash":
        return out
    view = p.venue() if p.venue is not None else None
    if view is not None:
        gas_venue = FLASH_TAKE_VENUE_GAS * p.gas_price * market_price // WAD
        route = _VenueRoute(view, pool.scale, gas_venue, p.min_profit)
        # the plan's venue sales raise the bound's constant with the flow (sale_bound): the
        # least the minimum needs over any flow a sale there reaches (below PLAN_FLOW); where
        # that could be nothing, any price may clear
        _, most = sale_bound(PLAN_FLOW, view.num, view.root_v, view.fundamental)
        if route.need <= 0 or p.min_profit + gas_venue - most <= 0:
            return None
        out = max(out, ceiling(route.top * RAY, WAD))
    return out


def taker_actions(
    auctions: list[AuctionView],
    pool: PoolView,
    market_price: int,
    min_auction: int,
    capital: int,
    p: TakerParams,
    in_flight: set[tuple],
    late: Callable[[int], bool] | None = None,
) -> list[Action]:
    """Reset what needs a reset; take each auction at the size that maximizes the profit after gas
    (flash: selling into the pool, whose reserves each planned take moves, or on the outside
    venue where `p.venue` gives one, walking on from the round's earlier sales there, within
    what it can pay, at its own gas: the better of the two for each size, the pool on a tie;
    capital: valued at the market
    price, within the stablecoin `capital` [rad] left), if it clears `min_profit`.

    The sizes tried are the whole auction and its halves down to a sixteenth, for the auctions
    that pass a bound first: any size buys collateral c for owe >= c * price, where c is at most
    the whole auction's `full` (and, with capital, at most capital / price, since owe <= capital),
    and sells it for at most c at the pool's marginal price after the fee (flash), at the venue's
    marginal price plus its rounding's slack (venue_curve.sale_bound), or at the market price
    (capital). Where the most c times that edge cannot pay `min_profit` and the gas, no size
    can, and the sizes' exact arithmetic is spared (most auctions are priced above what their
    collateral fetches, or beyond the capital left); a size's venue sale (a walk of the curve)
    is valued only where its own bound can clear the minimum and beat the best so far. The
    loop is the bound, `take_outcome` and `pool_out` written out (a 1,000-vault replay bounds
    ~26,000 auctions and prices ~11,000 five ways each); tests/test_keepers.py holds it equal to
    the plain composition of the three, without the bound.

    `late(auction_id)`: whether any take of the auction this taker sends now would land after
    its auction needs a reset, so that it would not be sent (run/sending.py, `late_filter`):
    such an auction is left out before it is valued, and its take moves neither the plan's
    pool nor its venue for the takes planned after it. None: every auction is weighed."""
    actions = []
    flash = p.mode == "flash"
    reserve_c, reserve_s = pool.reserve_collateral, pool.reserve_stable
    scale, after_fee = pool.scale, WAD - pool.fee
    gas_cost = _gas_cost(p, market_price)  # wad
    # the bound: edge = top - price x per_price; no size clears unless lot x edge >= need x
    # denominator
    need, losing_clears = p.min_profit + gas_cost, -gas_cost >= p.min_profit
    top, per_price = _edge_terms(p, market_price, reserve_c, reserve_s, scale, after_fee)
    denominator = per_price * RAY
    # the venue route (flash, where there is a venue)
    view = p.venue() if flash and p.venue is not None else None
    gas_venue = FLASH_TAKE_VENUE_GAS * p.gas_price * market_price // WAD
    route = _VenueRoute(view, scale, gas_venue, p.min_profit) if view is not None else None
    for a in auctions:
        auction_id, needs_reset, price, lot, debt = a
        if lot == 0 or ("auction", auction_id) in in_flight:
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
        if price == 0 or (late is not None and late(auction_id)):
            continue
        full = min(lot, -(-debt // price))  # the most any size buys
        edge = top - price * per_price if per_price else 0  # (flash with an empty pool: no edge)
        # the venue's edge (None: no size can clear there)
        v_edge = route.edge(full, price) if route is not None else None
        if edge <= 0:
            if not losing_clears and v_edge is None:
                continue
        elif (
            full if flash else min(full, capital // price)
        ) * edge < need * denominator and v_edge is None:
            continue
        best_profit = best_size = best_tokens = best_proceeds = best_owe = None
        best_venue = False
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
                # the bound again, for this size: its profit is at most collateral x edge /
                # denominator - gas (the proceeds at most `top` a token, the cost at least the
                # price); a size that cannot clear min_profit, or beat the best so far (ties keep
                # the earlier size), is not valued (a venue valuation walks the curve)
                reach = collateral * edge
                if reach < need * denominator or (
                    best_profit is not None and reach <= (best_profit + gas_cost) * denominator
                ):
                    continue
                tokens = 0
                if p.value is not None:
                    proceeds = p.value(collateral)
                else:
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
                best_venue = False
            # the same size sold on the venue (the pool's on a tie)
            found = (
                route.candidate(collateral, tokens, cost, v_edge, best_profit)
                if route is not None and v_edge is not None
                else None
            )
            if found is not None:
                best_profit, best_proceeds = found
                best_size, best_tokens, best_owe, best_venue = size, tokens, owe, True
        if best_profit is None or best_profit < p.min_profit:
            continue
        assert best_size is not None and best_tokens is not None and best_proceeds is not None
        assert best_owe is not None
        if flash:
            if best_venue:
                assert route is not None
                route.sell(best_tokens, best_proceeds)
            else:
                reserve_c, reserve_s = reserve_c + best_tokens, reserve_s - best_proceeds
                top, per_price = _edge_terms(
                    p, market_price, reserve_c, reserve_s, scale, after_fee
                )
                denominator = per_price * RAY
            # the FlashTaker's profit [rad] (before gas) at these reserves, less the tolerance
            expected = best_proceeds * RAY - best_owe
            floor = expected * (WAD - p.profit_tolerance) // WAD if expected > 0 else 0
            # FlashTaker.take(id, size, price, min_profit[, on_venue])
            args = (auction_id, best_size, price, floor) + ((True,) if best_venue else ())
            actions.append(
                Action(
                    p.actor,
                    p.taker,
                    p.flash_taker,
                    "take",
                    args,
                    (("auction", auction_id),),
                    p.gas_price,
                    values=(best_profit,),
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
                    values=(best_profit,),
                )
            )
    return actions


def is_capital_take(action: Action) -> bool:
    """Whether the take `action` is one with own capital, DutchAuction.take(id, size, price,
    recipient, data), not a flash take, FlashTaker.take(id, size, price, min_profit[,
    on_venue])."""
    return isinstance(action.args[-1], bytes)


def capital_spent(actions: list[Action], auctions: list[AuctionView], min_auction: int) -> int:
    """What the takes with own capital among `actions` (taker_actions' plan over `auctions`) owe
    [rad], each as the contract computes it: the holder's stablecoin they spend, which another
    collateral type's auctions in the same round cannot also be planned with. Resets and flash
    takes (the FlashTaker pays from the pool) spend none."""
    # a take with own capital: DutchAuction.take(id, size, price, recipient, data)
    takes = [a for a in actions if a.function == "take" and is_capital_take(a)]
    if not takes:  # the common case: no lookup of the round's (thousands of) auctions
        return 0
    wanted = {action.args[0] for action in takes}
    lots = {a.auction_id: (a.lot, a.debt) for a in auctions if a.auction_id in wanted}
    spent = 0
    for action in takes:
        auction_id, size, price = action.args[:3]
        outcome = take_outcome(*lots[auction_id], price, size, min_auction)
        assert outcome is not None  # planned by the same rule
        spent += outcome[1]
    return spent
