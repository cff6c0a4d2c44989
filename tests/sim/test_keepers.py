"""Keeper strategies (offchain/sim/strategies/keepers.py) on their own, against brute force: the
liquidation keeper's event-built index finds exactly the unsafe vaults a full scan finds (and it
lists every one of them but those the Liquidator refuses, by the specification's statement of the
rule), the taker
(its arithmetic written out, with a profit bound) chooses exactly what the plain composition of
take_outcome and pool_out over every auction chooses, and the latency model's thresholds.

Money flow checked here: the taker commits stablecoin (capital) or pool liquidity (flash) only
where a take clears its minimum profit after gas, the same with and without the bound."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from offchain.model.collateral_pool import MAX_FEE, CollateralPool
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import Event
from offchain.model.venue_curve import sale_bound, walk
from offchain.sim.scenario.market_data import Series
from offchain.sim.strategies.gas_costs import FLASH_TAKE_VENUE_GAS
from offchain.sim.strategies.keepers import (
    FLASH_TAKE_GAS,
    TAKE_GAS,
    Action,
    AuctionView,
    Latency,
    PoolView,
    TakerParams,
    VaultIndex,
    capital_spent,
    liquidation_actions,
    pool_out,
    price_ceiling,
    take_outcome,
    taker_actions,
)
from offchain.sim.strategies.observe import AuctionMarket, plan_takes
from offchain.sim.strategies.taker import VenueView
from offchain.testing.specification.curves import margin_debt, size_cut

ENGINE = "0x00000000000000000000000000000000000000E1"
TYPE = b"ETH-A".ljust(32, b"\0")

_auctions = st.lists(
    st.builds(
        AuctionView,
        auction_id=st.integers(1, 10**6),
        needs_reset=st.booleans(),
        price=st.integers(0, 400 * RAY),  # up to 400 stablecoin per collateral
        lot=st.integers(0, 1_000 * WAD),
        debt=st.integers(1, 200_000 * RAD),
    ),
    max_size=12,
    unique_by=lambda a: a.auction_id,
)
_pools = st.builds(
    PoolView,
    reserve_collateral=st.integers(0, 50_000 * WAD),
    reserve_stable=st.integers(0, 10**7 * WAD),
    fee=st.sampled_from([0, 3 * 10**15]),
    scale=st.just(1),
)


@settings(max_examples=300, deadline=None)
@given(
    amount=st.integers(0, 10**6 * WAD),
    reserve_in=st.integers(0, 10**7 * WAD),
    reserve_out=st.integers(0, 10**9 * WAD),
    fee=st.integers(0, MAX_FEE),
)
def test_pool_out__equals_the_model_pools_quote(amount, reserve_in, reserve_out, fee):
    # the taker prices its flash takes with pool_out: the model pool (itself held to the
    # contract by the differential tests) must give the same, and an empty pool gives nothing
    pool = CollateralPool.__new__(CollateralPool)  # only the quote's state: the fee
    object.__setattr__(pool, "fee", fee)
    if reserve_in and reserve_out:
        assert pool_out(amount, reserve_in, reserve_out, fee) == pool._amount_out(
            amount, reserve_in, reserve_out
        )
    else:
        assert pool_out(amount, reserve_in, reserve_out, fee) == 0


def _plain_best(
    a,
    reserve_c,
    reserve_s,
    pool,
    market_price,
    min_auction,
    capital,
    mode,
    gas_cost,
    value=None,
    venue=None,
):
    """(profit, size, tokens, proceeds, owe, on the venue?) of auction `a`'s best take size,
    None if no size works; `value`: what a capital taker's collateral is worth to it (default:
    at the market price); `venue`: (VenueView, tokens sold on it so far [wad], what they
    brought [wad], its gas cost), a flash taker's other route, each size sold there too where
    the venue can still pay it (after the pool: the pool on a tie)."""
    full = min(a.lot, -(-a.debt // a.price))
    best = None
    for divisor in (1, 2, 4, 8, 16):
        outcome = take_outcome(a.lot, a.debt, a.price, full // divisor, min_auction)
        if outcome is None or outcome[0] == 0:
            continue
        collateral, owe = outcome
        cost = -(-owe // RAY)
        if mode == "flash":
            tokens = collateral // pool.scale
            proceeds = pool_out(tokens, reserve_c, reserve_s, pool.fee)
        else:
            if owe > capital:
                continue
            tokens = 0
            proceeds = collateral * market_price // WAD if value is None else value(collateral)
        profit = proceeds - cost - gas_cost
        if best is None or profit > best[0]:
            best = (profit, full // divisor, tokens, proceeds, owe, False)
        if venue is not None:
            (flow, num, root_v, fundamental, cash), sold, paid, venue_gas = venue
            proceeds = walk(flow + sold, tokens * pool.scale, num, root_v, fundamental)[0]
            profit = proceeds - cost - venue_gas
            if profit > best[0] and paid + proceeds <= cash:
                best = (profit, full // divisor, tokens, proceeds, owe, True)
    return best


def _plain_taker_actions(auctions, pool, market_price, min_auction, capital, p, in_flight):
    """taker_actions as first written, without its profit bound: take_outcome and pool_out composed
    over every auction."""
    actions = []
    reserve_c, reserve_s = pool.reserve_collateral, pool.reserve_stable
    gas_cost = (
        (FLASH_TAKE_GAS if p.mode == "flash" else TAKE_GAS) * p.gas_price * market_price // WAD
    )
    view = p.venue() if p.mode == "flash" and p.venue is not None else None
    venue_gas = FLASH_TAKE_VENUE_GAS * p.gas_price * market_price // WAD
    sold = paid = 0  # tokens [wad] sold on the venue so far, and what they brought [wad]
    for a in auctions:
        if ("auction", a.auction_id) in in_flight or a.lot == 0:
            continue
        if a.needs_reset:
            actions.append(
                Action(
                    p.actor,
                    p.taker,
                    p.auction,
                    "reset",
                    (a.auction_id, p.taker),
                    (("auction", a.auction_id),),
                    p.gas_price,
                )
            )
            continue
        if a.price == 0:
            continue
        best = _plain_best(
            a,
            reserve_c,
            reserve_s,
            pool,
            market_price,
            min_auction,
            capital,
            p.mode,
            gas_cost,
            p.value,
            None if view is None else (view, sold, paid, venue_gas),
        )
        if best is None or best[0] < p.min_profit:
            continue
        profit, max_collateral, tokens, proceeds, owe, on_venue = best
        if p.mode == "flash":
            if on_venue:
                sold, paid = sold + tokens * pool.scale, paid + proceeds
            else:
                reserve_c, reserve_s = reserve_c + tokens, reserve_s - proceeds
            # the FlashTaker's profit [rad], less the tolerance below
            expected = proceeds * RAY - owe
            min_profit = expected * (WAD - p.profit_tolerance) // WAD if expected > 0 else 0
            actions.append(
                Action(
                    p.actor,
                    p.taker,
                    p.flash_taker,
                    "take",
                    (a.auction_id, max_collateral, a.price, min_profit) + ((True,) * on_venue),
                    (("auction", a.auction_id),),
                    p.gas_price,
                    values=(profit,),
                )
            )
        else:
            outcome = take_outcome(a.lot, a.debt, a.price, max_collateral, min_auction)
            assert outcome is not None
            capital -= outcome[1]
            actions.append(
                Action(
                    p.actor,
                    p.taker,
                    p.auction,
                    "take",
                    (a.auction_id, max_collateral, a.price, p.taker, b""),
                    (("auction", a.auction_id),),
                    p.gas_price,
                    values=(profit,),
                )
            )
    return actions


# a world of a few wei, where every rounding decides: whole-ray prices and debts beside arbitrary
# ones, tiny pools and capital, profits of a handful of units, so that equalities (owe == capital,
# profit == min_profit, debt == min_auction) are common and a one-wei slip changes the choice
def _rays(top: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, top).map(lambda x: x * RAY), st.integers(0, top * RAY))


_tiny_auctions = st.lists(
    st.builds(
        AuctionView,
        auction_id=st.integers(1, 50),
        needs_reset=st.booleans(),
        price=_rays(20),
        lot=st.integers(0, 60),
        debt=_rays(300).map(lambda x: max(x, 1)),
    ),
    max_size=8,
    unique_by=lambda a: a.auction_id,
)
_tiny_pools = st.builds(
    PoolView,
    reserve_collateral=st.integers(0, 400),
    reserve_stable=st.integers(0, 4_000),
    fee=st.sampled_from([0, 0, 3 * 10**15, WAD // 2]),
    scale=st.sampled_from([1, 2]),
)
_worlds = st.one_of(
    st.tuples(
        _auctions,
        _pools,
        st.integers(1, 400 * WAD),
        st.integers(-10 * WAD, 1_000 * WAD),
        st.integers(0, 500 * 10**9),
        st.one_of(st.integers(0, 10**6 * RAD), st.integers(0, 5_000 * RAD)),
        st.integers(0, 500 * RAD),
    ),
    st.tuples(
        _tiny_auctions,
        _tiny_pools,
        st.integers(1, 20).map(lambda x: x * WAD),
        st.integers(-5, 5),
        st.just(0),
        _rays(300),
        _rays(30),
    ),
)


@settings(max_examples=600, deadline=None)
@given(world=_worlds, mode=st.sampled_from(["flash", "capital"]), data=st.data())
def test_taker__written_out__equals_take_outcome_and_pool_out_composed(world, mode, data):
    auctions, pool, market, min_profit, gas_price, capital, min_auction = world
    params = TakerParams(
        "taker",
        "0x" + "11" * 20,
        "0x" + "22" * 20 if mode == "flash" else "",
        "0x" + "33" * 20,
        mode,
        min_profit,
        gas_price,
    )
    ids = [a.auction_id for a in auctions]
    busy = data.draw(st.lists(st.sampled_from(ids), max_size=3)) if ids else []
    in_flight = {("auction", x) for x in busy} | {
        ("vault", "0x" + "44" * 20),
        ("accrue",),
        ("cover", ids[0] if ids else 1),
    }
    assert taker_actions(
        auctions, pool, market, min_auction, capital, params, in_flight
    ) == _plain_taker_actions(auctions, pool, market, min_auction, capital, params, in_flight)


@settings(max_examples=300, deadline=None)
@given(world=_worlds, mode=st.sampled_from(["flash", "capital"]), data=st.data())
def test_taker__an_auction_too_late_to_take__is_left_out_as_if_absent__its_reset_kept(
    world, mode, data
):
    """`late` (run/sending.py's late_filter) leaves an auction out before it is valued: the plan
    is the plan over the auctions without it (so its take moves neither the pool nor the venue
    for the takes after it), except that one needing a reset now is still reset."""
    auctions, pool, market, min_profit, gas_price, capital, min_auction = world
    params = TakerParams("taker", "0x" + "11" * 20, "0x" + "22" * 20 if mode == "flash" else "",
                         "0x" + "33" * 20, mode, min_profit, gas_price)  # fmt: skip
    ids = [a.auction_id for a in auctions]
    too_late = set(data.draw(st.lists(st.sampled_from(ids), max_size=len(ids)))) if ids else set()
    asked: list[int] = []

    def late(auction_id: int) -> bool:
        asked.append(auction_id)
        return auction_id in too_late

    kept = [a for a in auctions if a.needs_reset or a.auction_id not in too_late]
    assert taker_actions(
        auctions, pool, market, min_auction, capital, params, set(), late
    ) == taker_actions(kept, pool, market, min_auction, capital, params, set())
    # asked only of auctions it would otherwise value: running, not needing a reset
    assert all(not a.needs_reset and a.lot > 0 for a in auctions if a.auction_id in asked)


def test_plan_takes__asks_late_with_each_takers_least_gas_and_planned_bid():
    """A round makes each taker's late filter once, with the taker's planned bid and the least
    gas one of its takes costs: a capital take's, a flash take's into the pool (a flash take on
    the venue costs more) (steps.LateFilters); each filter's answer reaches its taker's plan."""
    from offchain.sim.strategies.gas_costs import FLASH_TAKE_GAS, TAKE_GAS
    from offchain.sim.strategies.steps import LateFilters

    view = AuctionView(3, False, RAY, WAD, 10 * RAD)
    book = AuctionMarket([view], 0, 10**6, 10**6 * WAD, 10**9 * RAD)
    flash = TakerParams("taker", "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20, "flash",
                        0, 7 * 10**9)  # fmt: skip
    capital = replace(flash, actor="capital_taker", flash_taker="", mode="capital",
                      gas_price=9 * 10**9)  # fmt: skip
    asked: list[tuple[str, str, int, int]] = []

    class Late:
        """A filter that leaves every auction out."""

        when, dropped = None, {}

        def __call__(self, auction_id: int) -> bool:
            return True

        def skipped(self, count: int) -> None:
            raise AssertionError("plan_takes counts nothing itself")

    def late(name: str, actor: str, bid: int, gas: int) -> Late:
        asked.append((name, actor, bid, gas))
        return Late()

    lates = LateFilters(late, "ETH-A", [flash, capital])
    assert asked == []  # made on the first ask (a round with no auction running makes none)
    made = lates()
    assert made is not None and lates() is made  # once a round
    assert asked == [
        ("ETH-A", "taker", 7 * 10**9, FLASH_TAKE_GAS),
        ("ETH-A", "capital_taker", 9 * 10**9, TAKE_GAS),
    ]
    planned, _ = plan_takes(book, 0, 1, 2 * WAD, [flash, capital], set(), None, made)
    assert planned == []  # both left it out
    assert plan_takes(book, 0, 1, 2 * WAD, [capital], set(), None, None)[0]  # else taken
    # the flash taker's filter alone: the capital taker takes it
    only_flash = [made[0], None]
    assert [a.actor for a in plan_takes(book, 0, 1, 2 * WAD, [flash, capital], set(), None,
                                        only_flash)[0]] == ["capital_taker"]  # fmt: skip
    assert LateFilters(None, "ETH-A", [flash])() is None  # a runtime without a filter


# a capital taker's world where takes pay: auctions priced below what the first token brings,
# debts near their lots' worth, lots near the venue's depth (so that a smaller take can pay more)
_venue_worlds = st.tuples(
    st.integers(WAD, 400 * WAD),  # what the first token brings [wad]
    st.lists(
        st.tuples(
            st.integers(1, 10**6),
            st.integers(1, 999),  # the price, per mille of the first token's
            st.integers(1, 2_000 * WAD),  # lot
            st.integers(100, 3_000),  # debt, per mille of the lot at the price
        ),
        min_size=1,
        max_size=10,
        unique_by=lambda x: x[0],
    ),
    st.integers(1, 2_000),  # the depth: tokens whose sale halves the next token's price
    st.integers(-10 * WAD, 100 * WAD),  # min_profit
    st.integers(0, 500 * 10**9),  # gas price
    st.integers(10**4 * RAD, 10**8 * RAD),  # capital
    st.integers(0, 500 * RAD),  # min_auction
)


def _capital_on_a_venue(world, stretch: int = 1) -> tuple[list[AuctionView], TakerParams]:
    """A `_venue_worlds` world's auctions (priced its rows' per mille x `stretch` of what the
    first token brings) and its capital taker, who values collateral as a venue sale does."""
    top, rows, depth, min_profit, gas_price, _, _ = world
    auctions = []
    for i, per_mille, lot, debt_per_mille in rows:
        price = top * per_mille * stretch // 1_000 * 10**9
        auctions.append(AuctionView(i, False, price, lot, lot * price * debt_per_mille // 1_000))

    def value(collateral: int) -> int:
        return collateral * top // WAD - collateral * collateral * top // (2 * depth * WAD * WAD)

    params = TakerParams(
        "taker", "0x" + "11" * 20, "", "0x" + "33" * 20, "capital", min_profit, gas_price,
        value=value, value_top=top,
    )  # fmt: skip
    return auctions, params


@settings(max_examples=600, deadline=None)
@given(world=_venue_worlds, data=st.data())
def test_taker__capital_valued_on_a_venue__equals_the_plain_composition(world, data):
    """A capital taker that values collateral as a venue sale does (concave: each token brings
    less, never more than `value_top` a token, so a smaller take can pay more): the sizes its
    bound spares a valuation of (none can clear the minimum or beat the best so far) change
    nothing."""
    top, _, _, _, _, capital, min_auction = world
    auctions, params = _capital_on_a_venue(world)
    ids = [a.auction_id for a in auctions]
    busy = data.draw(st.lists(st.sampled_from(ids), max_size=3)) if ids else []
    in_flight = {("auction", x) for x in busy}
    planned = taker_actions(auctions, POOL, top, min_auction, capital, params, in_flight)
    assert planned == _plain_taker_actions(
        auctions, POOL, top, min_auction, capital, params, in_flight
    )


POOL = PoolView(0, 0, 0, 1)  # a capital taker does not read the pool

# the outside venue as a flash taker sees it: a bar like the lab's (sigma 0.5% to 20%, a market
# of 10 to 10^6 tokens, Y 0.7 and its rows' 0.34 and 1.0) after flows either way, at a
# fundamental near the auctions' prices; or a few wei, where every rounding decides
_venue_views = st.one_of(
    st.builds(
        VenueView,
        flow=st.integers(-2_000 * WAD, 20_000 * WAD),
        num=st.sampled_from([34, 70, 100]).flatmap(
            lambda y: st.integers(5, 200).map(lambda sigma: y * sigma * WAD * WAD // 100_000)
        ),
        root_v=st.integers(3 * 10**18, 10**21),
        fundamental=st.integers(1, 500).map(lambda x: x * WAD),
        cash=st.one_of(st.just(2**256), st.integers(0, 10**6 * WAD)),
    ),
    st.builds(
        VenueView,
        flow=st.integers(-50, 50),
        num=st.integers(0, 10**20),
        root_v=st.integers(0, 10**3),
        fundamental=st.integers(0, 30 * WAD),
        cash=st.one_of(st.just(2**256), st.integers(0, 300 * WAD)),
    ),
)


@settings(max_examples=600, deadline=None)
@given(world=_worlds, venue=_venue_views, data=st.data())
def test_taker__flash_with_a_venue__equals_the_plain_composition_over_both_routes(
    world, venue, data
):
    """A flash taker that may sell each size into the pool or on the venue (walking on from
    the plan's earlier sales there, at the venue route's gas): the auctions and sizes the
    bounds spare (venue_curve.sale_bound) change nothing, to the wei."""
    auctions, pool, market, min_profit, gas_price, capital, min_auction = world
    params = TakerParams(
        "taker", "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20, "flash", min_profit,
        gas_price, venue=lambda: venue,
    )  # fmt: skip
    ids = [a.auction_id for a in auctions]
    busy = data.draw(st.lists(st.sampled_from(ids), max_size=3)) if ids else []
    in_flight = {("auction", x) for x in busy}
    planned = taker_actions(auctions, pool, market, min_auction, capital, params, in_flight)
    assert planned == _plain_taker_actions(
        auctions, pool, market, min_auction, capital, params, in_flight
    )


def _ceiling_holds(auctions, pool, market, min_auction, capital, params, in_flight, ceiling):
    """The plan over `auctions` is the plan over those below `ceiling` and those that need a
    reset (price_ceiling's promise): the rest, however large, change nothing."""
    kept = [a for a in auctions if a.needs_reset or ceiling is None or a.price < ceiling]
    planned = taker_actions(auctions, pool, market, min_auction, capital, params, in_flight)
    assert planned == taker_actions(kept, pool, market, min_auction, capital, params, in_flight)
    return planned


@settings(max_examples=600, deadline=None)
@given(
    world=_worlds,
    mode=st.sampled_from(["flash", "capital"]),
    venue=st.one_of(st.none(), _venue_views),
    data=st.data(),
)
def test_price_ceiling__an_auction_priced_at_or_above_it_changes_no_plan(world, mode, venue, data):
    """observe.choose_running reads no auction priced at or above every taker's ceiling: the
    flash taker's (the pool's, and the venue's where it has one) and the capital taker's (the
    market price, or its collateral's value): over every world of the plain composition's
    test, leaving them out changes no plan, to the wei. A price one below a finite ceiling
    has an edge (the ceiling is the bound's own, not a looser one)."""
    auctions, pool, market, min_profit, gas_price, capital, min_auction = world
    flash = mode == "flash"
    params = TakerParams(
        "taker", "0x" + "11" * 20, "0x" + "22" * 20 if flash else "", "0x" + "33" * 20, mode,
        min_profit, gas_price, venue=(lambda: venue) if flash and venue is not None else None,
    )  # fmt: skip
    ids = [a.auction_id for a in auctions]
    busy = data.draw(st.lists(st.sampled_from(ids), max_size=3)) if ids else []
    in_flight = {("auction", x) for x in busy}
    ceiling = price_ceiling(pool, market, params)
    _ceiling_holds(auctions, pool, market, min_auction, capital, params, in_flight, ceiling)
    if ceiling:  # the least price without an edge on any route
        below = ceiling - 1
        edges = [
            (WAD - pool.fee) * pool.reserve_stable * RAY
            - below * pool.scale * pool.reserve_collateral * WAD
            if flash and pool.reserve_collateral
            else 0,
            (market * RAY - below * WAD) if not flash else 0,
        ]
        if flash and venue is not None:
            top, _ = sale_bound(venue.flow, venue.num, venue.root_v, venue.fundamental)
            edges.append(top * RAY - below * WAD)
        assert max(edges) > 0


def test_price_ceiling__a_venue_whose_constant_could_pay_the_minimum__no_ceiling():
    """The venue's bound grows its constant with the flow the plan's own sales reach
    (sale_bound): where the minimum profit and the gas could fall within it at some flow a sale
    reaches (below taker.PLAN_FLOW), no price is skipped, though the minimum clears the
    constant at the venue's flow now; a minimum above the constant's largest keeps the
    ceiling (the venue's marginal price bound)."""
    from offchain.sim.strategies.taker import PLAN_FLOW

    venue = VenueView(0, 70 * 5 * WAD * WAD // 100_000, 3 * 10**18, 2_000 * WAD, 2**256)
    top, now = sale_bound(0, venue.num, venue.root_v, venue.fundamental)
    _, most = sale_bound(PLAN_FLOW, venue.num, venue.root_v, venue.fundamental)
    assert now < most
    pool = PoolView(0, 0, 0, 1)

    def flash(min_profit: int) -> TakerParams:
        return TakerParams("taker", "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20,
                           "flash", min_profit, 0, venue=lambda: venue)  # fmt: skip

    assert price_ceiling(pool, 2_000 * WAD, flash(now + 1)) is None  # clears it now, not later
    assert price_ceiling(pool, 2_000 * WAD, flash(most)) is None
    assert price_ceiling(pool, 2_000 * WAD, flash(most + 1)) == -(-top * RAY // WAD)


@settings(max_examples=300, deadline=None)
@given(world=_venue_worlds)
def test_price_ceiling__capital_valued_on_a_venue__its_value_top(world):
    """A capital taker that values collateral as a venue sale: no auction priced at or above
    `value_top` (what a token can bring at most) changes its plan."""
    top, _, _, _, _, capital, min_auction = world
    # prices up to twice what the first token brings, and one at the ceiling itself
    auctions, params = _capital_on_a_venue(world, stretch=2)
    ceiling = price_ceiling(POOL, top, params)
    assert ceiling is None or ceiling == -(-top * RAY // WAD)
    if ceiling is not None:
        auctions.append(AuctionView(2 * 10**6, False, ceiling, WAD, ceiling * WAD))
    _ceiling_holds(auctions, POOL, top, min_auction, capital, params, set(), ceiling)


# auctions a venue pays for: priced at 50% to 110% of the fundamental, lots up to ten times the
# bar's depth (where the floor is reached), beside a pool that may be thin or deep
_venue_takes = st.tuples(
    st.builds(
        VenueView,
        flow=st.integers(-500 * WAD, 5_000 * WAD),
        num=st.integers(5, 200).map(lambda sigma: 70 * sigma * WAD * WAD // 100_000),
        root_v=st.integers(10**19, 10**21),
        fundamental=st.just(2_000 * WAD),
        cash=st.one_of(st.just(2**256), st.integers(0, 10**7 * WAD)),
    ),
    st.lists(
        st.tuples(
            st.integers(1, 10**6),
            st.integers(500, 1_100),  # the price, per mille of the fundamental
            st.integers(1, 5_000 * WAD),
            st.integers(100, 3_000),  # debt, per mille of the lot at the price
        ),
        min_size=1,
        max_size=10,
        unique_by=lambda x: x[0],
    ),
    st.integers(0, 2_000_000 * WAD),  # the pool's stablecoin side, at 2,000 a token
    st.integers(-10 * WAD, 100 * WAD),  # min_profit
    st.integers(0, 500 * 10**9),  # gas price
    st.integers(0, 500 * RAD),  # min_auction
)


@settings(max_examples=400, deadline=None)
@given(world=_venue_takes)
def test_taker__flash_takes_where_the_venue_pays__the_better_route__equal_to_the_plain(world):
    """Worlds where both routes pay (the pool's price the venue's fundamental): each take goes
    where its profit after gas is higher, the next walking on from the earlier ones, the
    FlashTaker's minimum its expected profit less the tolerance; some go each way."""
    venue, rows, depth, min_profit, gas_price, min_auction = world
    pool = PoolView(depth // 2_000, depth, 3 * 10**15, 1)
    auctions = []
    for i, per_mille, lot, debt_per_mille in rows:
        price = 2_000 * RAY * per_mille // 1_000
        auctions.append(AuctionView(i, False, price, lot, lot * price * debt_per_mille // 1_000))
    params = TakerParams(
        "taker", "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20, "flash", min_profit,
        gas_price, venue=lambda: venue,
    )  # fmt: skip
    planned = taker_actions(auctions, pool, 2_000 * WAD, min_auction, 0, params, set())
    assert planned == _plain_taker_actions(
        auctions, pool, 2_000 * WAD, min_auction, 0, params, set()
    )
    for action in planned:
        assert action.args[4:] in ((), (True,))


def test_taker__flash_with_a_venue__each_take_where_it_pays_more__the_second_walks_on():
    """Two auctions of 100 ETH at 1,800 beside a 100 ETH / 200,000 pool and a venue at 2,000
    deep enough for both: the first sells on the venue (the pool would pay half), the second
    too, walking on from the first's 100 ETH (paid less than the first), each with its minimum
    its expected profit less 1%; a venue that cannot pay both takes the second's half."""
    pool = PoolView(100 * WAD, 200_000 * WAD, 3 * 10**15, 1)
    venue = VenueView(0, 7 * WAD * WAD // 1_000, 10**21, 2_000 * WAD, 10**6 * WAD)  # Y sigma 0.007
    price = 1_800 * RAY
    auctions = [AuctionView(i, False, price, 100 * WAD, 100 * WAD * price) for i in (1, 2)]
    params = TakerParams(
        "taker", "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20, "flash", 0, 0,
        venue=lambda: venue,
    )  # fmt: skip
    planned = taker_actions(auctions, pool, 2_000 * WAD, 0, 0, params, set())
    first = walk(0, 100 * WAD, venue.num, venue.root_v, venue.fundamental)[0]
    second = walk(100 * WAD, 100 * WAD, venue.num, venue.root_v, venue.fundamental)[0]
    assert second < first
    owe = 100 * WAD * price
    assert [a.args for a in planned] == [
        (1, 100 * WAD, price, (first * RAY - owe) * 99 // 100, True),
        (2, 100 * WAD, price, (second * RAY - owe) * 99 // 100, True),
    ]
    assert pool_out(100 * WAD, pool.reserve_collateral, pool.reserve_stable, pool.fee) < first
    # a venue that cannot pay both (its till and its market's stablecoin): the first whole,
    # the second's half it can still pay (the pool would not pay for it)
    short = replace(params, venue=lambda: venue._replace(cash=first + second - 1))
    planned = taker_actions(auctions, pool, 2_000 * WAD, 0, 0, short, set())
    assert [a.args[:2] + a.args[4:] for a in planned] == [
        (1, 100 * WAD, True),
        (2, 50 * WAD, True),
    ]
    # without the venue route the pool takes the first (a four-argument take) and, the pool
    # emptied by it, not the second
    pool_only = replace(params, venue=None)
    planned = taker_actions(auctions, pool, 2_000 * WAD, 0, 0, pool_only, set())
    assert [a.args[0] for a in planned] == [1] and len(planned[0].args) == 4


@settings(max_examples=2_000, deadline=None)
@given(
    q=st.one_of(st.integers(-(2**99), 2**99), st.integers(-100, 100)),
    tokens=st.one_of(st.integers(1, 2**99), st.integers(1, 100)),
    num=st.one_of(st.integers(0, 2**127), st.integers(0, 10**6)),
    root_v=st.one_of(st.integers(0, 2**127), st.integers(0, 100)),
    fundamental=st.one_of(st.integers(0, 2**95), st.integers(0, 100)),
)
def test_sale_bound__no_sale_is_paid_more(q, tokens, num, root_v, fundamental):
    """venue_curve.sale_bound, the taker's bound on a venue sale, holds over the on-chain
    venue's whole range (OutsideVenue.vy's bounds), the few-wei corner included."""
    assume(q + tokens < 2**100)
    per_token, constant = sale_bound(q, num, root_v, fundamental)
    value = walk(q, tokens, num, root_v, fundamental)[0]
    assert value * WAD <= tokens * per_token + constant * WAD


@settings(max_examples=300, deadline=None)
@given(world=_worlds, mode=st.sampled_from(["flash", "capital"]), index=st.integers(0, 11))
def test_taker__a_take_whose_profit_just_clears_the_minimum__is_taken(world, mode, index):
    # the knife edge of the profit bound: min_profit at exactly the best size's profit takes it,
    # one wei more does not, for one auction of the world (random minimums seldom land there)
    auctions, pool, market, _, gas_price, capital, min_auction = world
    live = [a for a in auctions if a.lot and a.price and not a.needs_reset]
    assume(live)
    a = live[index % len(live)]
    gas_cost = (FLASH_TAKE_GAS if mode == "flash" else TAKE_GAS) * gas_price * market // WAD
    best = _plain_best(
        a,
        pool.reserve_collateral,
        pool.reserve_stable,
        pool,
        market,
        min_auction,
        capital,
        mode,
        gas_cost,
    )
    assume(best is not None)
    for min_profit, taken in ((best[0], True), (best[0] + 1, False)):
        params = TakerParams(
            "taker",
            "0x" + "11" * 20,
            "0x" + "22" * 20 if mode == "flash" else "",
            "0x" + "33" * 20,
            mode,
            min_profit,
            gas_price,
        )
        actions = taker_actions([a], pool, market, min_auction, capital, params, set())
        assert actions == _plain_taker_actions(
            [a], pool, market, min_auction, capital, params, set()
        )
        assert [x.args[1] for x in actions] == ([best[1]] if taken else [])


def _vault_event(owner: str, d_collateral: int, d_art: int) -> Event:
    return Event(
        ENGINE,
        "VaultModified",
        {
            "collateral_type": TYPE,
            "owner": owner,
            "delta_collateral": d_collateral,
            "delta_normalized_debt": d_art,
        },
    )


@settings(max_examples=100, deadline=None)
@given(
    moves=st.lists(
        st.tuples(st.integers(0, 15), st.integers(0, 100 * WAD), st.integers(0, 150_000 * WAD)),
        max_size=40,
    ),
    rate=st.integers(RAY, 2 * RAY),
    safe_price=st.integers(0, 3_000 * RAY),
)
def test_vault_index__after_any_events__unsafe_equals_a_full_scan(moves, rate, safe_price):
    index = VaultIndex(TYPE)
    state: dict[str, tuple[int, int]] = {}
    for (
        n,
        collateral,
        art,
    ) in moves:  # each move sets vault n to (collateral, art) through a delta event
        owner = f"0x{n:040x}"
        old = state.get(owner, (0, 0))
        index.apply(ENGINE, [_vault_event(owner, collateral - old[0], art - old[1])])
        state[owner] = (collateral, art)
    scan = {o for o, (c, a) in state.items() if a and c * safe_price < a * rate}
    found = index.unsafe(rate, safe_price)
    assert set(found) == scan and len(found) == len(scan)
    keys = [a * 10**45 // c if c else 2**256 for c, a in (state[o] for o in found)]
    assert keys == sorted(keys, reverse=True)  # closest to liquidation first


@settings(max_examples=100, deadline=None)
@given(
    moves=st.lists(
        st.tuples(st.integers(0, 15), st.integers(0, 100 * WAD), st.integers(0, 150_000 * WAD)),
        max_size=40,
    ),
    rate=st.integers(RAY, 2 * RAY),
    safe_price=st.integers(0, 3_000 * RAY),
    threshold=st.integers(1, 200_000),
    slope=st.integers(1, 10**6),
    cap=st.integers(1, 10**6),
)
def test_vault_index__size_margin__unsafe_equals_a_full_scan_by_the_stated_rule(
    moves, rate, safe_price, threshold, slope, cap
):
    """With a size margin (issue 35) the index finds exactly the vaults a full scan by the rule
    as the specification states it finds, also those safe at the base ratio."""
    index = VaultIndex(TYPE)
    state: dict[str, tuple[int, int]] = {}
    for n, collateral, art in moves:
        owner = f"0x{n:040x}"
        old = state.get(owner, (0, 0))
        index.apply(ENGINE, [_vault_event(owner, collateral - old[0], art - old[1])])
        state[owner] = (collateral, art)
    size = (threshold, slope, cap)
    scan = {o for o, (c, a) in state.items() if a and c * safe_price < margin_debt(a * rate, size)}
    found = index.unsafe(rate, safe_price, threshold << 48 | slope << 24 | cap)
    assert set(found) == scan and len(found) == len(scan)


@settings(max_examples=150, deadline=None)
@given(
    vaults=st.lists(
        st.tuples(st.integers(500, 3_000), st.integers(-20_000, 150_000)), min_size=1, max_size=30
    ),
    rate=st.integers(RAY, 2 * RAY),
    safe_price=st.integers(RAY, 3_000 * RAY),
    dust=st.integers(100, 10_000),
    above_dust=st.integers(0, 100),
    slope=st.integers(10_000, 10**6),
    cap=st.integers(10_000, 10**6),
    penalty=st.integers(WAD, 2 * WAD),
)
def test_liquidation_actions__lists_every_unsafe_vault_but_those_the_liquidator_refuses(
    vaults, rate, safe_price, dust, above_dust, slope, cap, penalty
):
    """Issue 72, finding 2 (zombie vaults): the keeper lists every unsafe vault except those the
    Liquidator refuses, as the specification states the rule (Liquidator.vy's _liquidate): a
    size margin, safe at the base ratio, no size cut (the specification's own bisection finds
    none) and a debt under two dusts. The draws sit where such vaults exist: a threshold at the
    dust (the engine's least) to twice it, each vault's debt 0.5 to 3 dusts and its collateral
    worth -2% to +15% of its base requirement at the safe price, a slope and a cap of 1% to
    100%."""
    threshold = dust + dust * above_dust // 100
    size = (threshold, slope, cap)
    index = VaultIndex(TYPE)
    state: dict[str, tuple[int, int]] = {}
    for n, (per_mille, headroom) in enumerate(vaults):
        owner = f"0x{n:040x}"
        art = dust * per_mille * WAD // 1_000 * RAY // rate
        collateral = art * rate * (10**6 + headroom) // 10**6 // safe_price
        index.apply(ENGINE, [_vault_event(owner, collateral, art)])
        state[owner] = (collateral, art)
    word = threshold << 48 | slope << 24 | cap
    actions = liquidation_actions(
        index,
        rate,
        safe_price,
        set(),
        "0xk",
        "0xliq",
        0,
        size=word,
        dust=dust * RAD,
        penalty=penalty,
    )
    listed = [o for a in actions for o in a.args[1]]

    def refused(collateral: int, art: int) -> bool:
        cut = size_cut(collateral, art, rate, safe_price, dust * RAD, size, penalty)
        return cut == 0 and art * rate < 2 * dust * RAD

    unsafe = {o for o, (c, a) in state.items() if c * safe_price < margin_debt(a * rate, size)}
    refusals = {o for o in unsafe if refused(*state[o])}
    event(f"refused: {'some' if refusals else 'none'}")
    assert sorted(listed) == sorted(unsafe - refusals)


def test_vault_index__key_at_the_threshold__checked_exactly_both_ways():
    """A key equal to floor(safe price x 1e45 / rate) is ambiguous: its vault may be safe or
    unsafe (the floors hide the difference); the index checks it exactly, while a key above the
    threshold is unsafe without a check. Two vaults with the same key on the threshold, one
    each way, and one above it."""
    rate, safe_price = 3 * 10**50, 10**50 - 1  # price / rate = (1 - 1e-50) / 3
    index = VaultIndex(TYPE)
    owners = [f"0x{n:040x}" for n in range(3)]
    # 1 / 3 of a unit debt per collateral: key floor(1e45 / 3), the threshold; unsafe by a hair
    index.apply(ENGINE, [_vault_event(owners[0], 3, 1)])
    # the same key, safe: debt / collateral = price / rate exactly (not strictly above)
    safe_collateral = 3 * 10**50
    index.apply(ENGINE, [_vault_event(owners[1], safe_collateral, 10**50 - 1)])
    index.apply(ENGINE, [_vault_event(owners[2], 2, 1)])  # key 5e44: above the threshold
    threshold = safe_price * 10**45 // rate
    assert 1 * 10**45 // 3 == (10**50 - 1) * 10**45 // safe_collateral == threshold
    assert safe_collateral * safe_price == (10**50 - 1) * rate  # owners[1]: safe, not unsafe
    assert index.unsafe(rate, safe_price) == [owners[2], owners[0]]


def test_latency__bid_against_the_bars_percentiles__now_next_bar_or_dropped():
    gas = Series(
        "gas.csv",
        (0, 600),
        {"p30_gwei": (50 * 10**9, 50 * 10**9), "p60_gwei": (100 * 10**9, 20 * 10**9)},
    )
    latency = Latency(gas, 0)
    assert latency.delay(100 * 10**9, 0) == 0
    assert latency.delay(60 * 10**9, 0) == 1
    assert latency.delay(49 * 10**9, 0) is None
    # dropped in bar 0, in at once in bar 1 (whose p60 is 20 gwei)
    assert latency.landing_bar(40 * 10**9, [0, 600], 0) == 1
    constant = Latency(None, 80 * 10**9)
    assert constant.delay(80 * 10**9, 0) == 0 and constant.delay(79 * 10**9, 0) is None


@settings(max_examples=300, deadline=None)
@given(first=_worlds, second=_worlds, capital=st.integers(0, 10**6 * RAD))
def test_takers__one_capital_for_every_type__a_round_never_plans_more_than_it_holds(
    first, second, capital
):
    """The capital taker's stablecoin is one balance for every collateral type: the takes planned
    for the second type in a round get what the first type's left, so no round's takes owe more
    than the holder has (issue 33: each type used to be planned with all of it, and a take that
    overdrew reverted on chain and model alike)."""
    params = TakerParams("taker", "0x" + "11" * 20, "", "0x" + "33" * 20, "capital", 0, 0)
    left = None
    spent_in_all = 0
    for auctions, pool, market, _, _, _, min_auction in (first, second):
        book = AuctionMarket(
            auctions, min_auction, pool.reserve_collateral, pool.reserve_stable, capital
        )
        before = capital if left is None else left
        planned, left = plan_takes(book, pool.fee, pool.scale, market, [params], set(), left)
        # the same plan as taker_actions given only what is left, and `left` what it leaves
        assert planned == taker_actions(auctions, pool, market, min_auction, before, params, set())
        owed = sum(
            take_outcome(a.lot, a.debt, x.args[2], x.args[1], min_auction)[1]  # type: ignore[index]
            for x in planned
            if x.function == "take"
            for a in auctions
            if a.auction_id == x.args[0]
        )
        assert capital_spent(planned, auctions, min_auction) == owed == before - left
        spent_in_all += owed
    assert spent_in_all <= capital
