"""The end-of-run accounting (offchain/sim/results/insolvency.py) on positions built by hand: what
an auction still running has not raised, its collateral marked, the shortfall and the fire-sale
stress; an unsafe vault's; exact integers, and the boundaries (a mark that covers the debt, a
vault exactly at the ratio)."""

from __future__ import annotations

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.results.insolvency import end_of_run

RATIO = 3 * RAY // 2  # 1.5


def _loss(debt: int, to_raise: int, loss: int | None = None) -> dict:
    return {"debt": debt, "to_raise": to_raise, "loss": loss}


def test_open_auction__owed_is_debt_less_raised__shortfall_marked_at_the_price():
    # 7: debt 10,000, tab 11,300 (penalty 1.13); takes raised 3,300 (tab left 8,000); 50 tokens
    # left. 8: debt 1,000, nothing raised, 25 tokens. The pool would pay 3,000 for both lots.
    losses = {7: _loss(10_000 * RAD, 11_300 * RAD), 8: _loss(1_000 * RAD, 1_130 * RAD)}
    running = {7: [50 * WAD, 8_000 * RAD], 8: [25 * WAD, 1_130 * RAD]}
    end = end_of_run(losses, running, {7: "0xa"}, {}, RAY, RATIO, 100 * WAD, 3_000 * RAD)
    assert end.open_debt == (6_700 + 1_000) * RAD
    assert end.open_collateral == 75 * WAD
    assert end.open_shortfall == 1_700 * RAD  # 6,700 - 50 x 100; 8 is covered at the market
    assert end.insolvency == 1_700 * RAD and end.realized == 0
    # the fire sale: 2,000 and 1,000 of the pool's 3,000, pro rata to the lots
    assert end.fire_sale_shortfall == (6_700 - 2_000) * RAD
    assert end.rows == (
        # no market depth given: the conservative mark sells at the last price
        ("auction", 7, "0xa", 6_700.0, 50.0, 5_000.0, 1_700.0, 2_000.0, 4_700.0, 5_000.0, 1_700.0),
        ("auction", 8, "", 1_000.0, 25.0, 2_500.0, 0.0, 1_000.0, 0.0, 2_500.0, 0.0),
    )
    one = {7: running[7]}
    # at a price that covers it, no shortfall; raised past the debt (the penalty), nothing owed
    assert end_of_run(losses, one, {}, {}, RAY, RATIO, 134 * WAD, 0).open_shortfall == 0
    paid = end_of_run(losses, {7: [1, 1_000 * RAD]}, {}, {}, RAY, RATIO, 1, 0)
    assert (paid.open_debt, paid.open_shortfall, paid.fire_sale_shortfall) == (0, 0, 0)


def test_unsafe_vault__counted_below_the_ratio_only__shortfall_when_underwater():
    rate = RAY + RAY // 10  # debt = art x 1.1
    vaults = {
        "0xsafe": (15 * WAD, 1_000 * WAD),  # at the ratio exactly (below)
        "0xunsafe": (12 * WAD, 1_000 * WAD),  # 1,320 against 1,100: unsafe, covered
        "0xunder": (9 * WAD, 1_000 * WAD),  # 990 against 1,100: 110 short
        "0xrepaid": (5 * WAD, 0),
    }
    price = 110 * WAD  # 0xsafe: 15 x 110 = 1,650 = 1.5 x 1,100: at the ratio, not below
    end = end_of_run({}, {}, {}, vaults, rate, RATIO, price, 0)
    assert end.unsafe_vaults == 2
    assert end.unsafe_debt == 2 * 1_100 * RAD
    assert end.unsafe_shortfall == 1_100 * RAD - 9 * 110 * RAD
    assert [r[2] for r in end.rows] == ["0xunder", "0xunsafe"]


def test_insolvency__realized_plus_both_shortfalls():
    losses = {1: _loss(100 * RAD, 113 * RAD, loss=40 * RAD), 2: _loss(100 * RAD, 113 * RAD)}
    vaults = {"0xv": (1 * WAD, 100 * WAD)}
    end = end_of_run(losses, {2: [1 * WAD, 113 * RAD]}, {}, vaults, RAY, RATIO, 60 * WAD, 0)
    assert end.realized == 40 * RAD
    assert end.open_shortfall == 40 * RAD  # 100 owed, 60 marked
    assert end.unsafe_shortfall == 40 * RAD
    assert end.insolvency == 120 * RAD
    assert end.facts()["insolvency"] == 120.0 and end.facts()["open_auctions"] == 1


def test_conservative_mark__sold_in_the_keepers_order_into_the_market__by_hand():
    """Money flow: a market of 10,000 stablecoin per side at 100 (100 tokens). The auctions sell
    first, as they started: 1's 100 tokens fetch 10,000 x 100 / 200 = 5,000 (5,000 and 200 tokens
    left), 2's 50 tokens 5,000 x 50 / 250 = 1,000 (4,000 and 250 left); then the unsafe vault's
    250 tokens 4,000 x 250 / 500 = 2,000 (2,000 and 500 left: the price ends at 4). Shortfalls:
    1 owes 6,000: 1,000; 2 owes 1,500: 500; the vault owes 20,000: 18,000. At the last price
    every lot covers its debt (the vault's 25,000 is below 1.5 x 20,000: unsafe, not short): no
    shortfall anywhere."""
    losses = {1: _loss(6_000 * RAD, 6_780 * RAD), 2: _loss(1_500 * RAD, 1_695 * RAD)}
    running = {1: [100 * WAD, 6_780 * RAD], 2: [50 * WAD, 1_695 * RAD]}
    vaults = {"0xv": (250 * WAD, 20_000 * WAD)}
    end = end_of_run(losses, running, {}, vaults, RAY, RATIO, 100 * WAD, 0, 10_000 * WAD)
    assert (end.open_shortfall, end.unsafe_shortfall) == (0, 0)
    assert end.insolvency_last_price == 0
    assert end.marked_open_shortfall == (1_000 + 500) * RAD
    assert end.marked_unsafe_shortfall == (20_000 - 2_000) * RAD
    assert end.insolvency == 19_500 * RAD
    assert end.marked_price == 4 * WAD  # 2,000 left for 500 tokens
    assert [(r[0], r[-2], r[-1]) for r in end.rows] == [
        ("auction", 5_000.0, 1_000.0),
        ("auction", 1_000.0, 500.0),
        ("vault", 2_000.0, 18_000.0),
    ]
    f = end.facts()
    assert (f["insolvency"], f["insolvency_last_price"], f["mark_depth"]) == (
        19_500.0,
        0.0,
        10_000.0,
    )


def test_conservative_mark__vaults_closest_to_liquidation_sell_first():
    """Two unsafe vaults: 0xb (the higher debt per collateral) sells first and gets the better
    price, whatever the owners' order."""
    vaults = {"0xa": (100 * WAD, 9_000 * WAD), "0xb": (100 * WAD, 9_500 * WAD)}
    end = end_of_run({}, {}, {}, vaults, RAY, RATIO, 100 * WAD, 0, 10_000 * WAD)
    assert [r[2] for r in end.rows] == ["0xb", "0xa"]
    # 0xb: 10,000 x 100 / 200 = 5,000; 0xa: 5,000 x 100 / 300 = 1,666.67, rounded down
    assert end.rows[0][-2] == 5_000.0
    assert (
        end.marked_unsafe_shortfall
        == (9_500 - 5_000) * RAD + 9_000 * RAD - (5_000 * WAD * 100 * WAD // (300 * WAD)) * 10**27
    )


# ---------------------------------------------------------------- the venue's mark and its cash


def _venue_mark(total: int, cash: int | None):
    from offchain.sim.market.venue import Depth, Venue, VenueParams
    from offchain.sim.results.insolvency import MarkCash, VenueMark

    venue = Venue(VenueParams(coefficient=WAD, share=WAD // 10, decay=600, window=6),
                  [Depth(400_000 * WAD, WAD // 25)])  # fmt: skip
    till = None if cash is None else MarkCash(cash)
    return VenueMark(venue, 0, 0, 600, 150 * WAD, 4, total, till), till


def test_venue_mark__the_outside_pays_only_what_it_holds__the_rest_fetches_its_fallback():
    """Money flow: the mark sells on the venue, which pays from the outside's stablecoin (as
    flash takes' sales do in the run). With enough of it, a sale fetches what it fetches without
    a limit; with none, each lot fetches its fallback (its pool share), or the venue's price if
    that is less; with some, the venue pays what is left and the tokens it could not pay for
    fetch their share of the fallback."""
    lot, fallback = 30 * WAD, 2_000 * RAD
    free, _ = _venue_mark(lot, None)
    unlimited = free.sell(lot, fallback)
    assert free.unpaid == 0 and unlimited > fallback  # the venue pays more than the pool here
    rich, cash = _venue_mark(lot, 10**9 * WAD)
    assert rich.sell(lot, fallback) == unlimited and rich.unpaid == 0
    assert cash is not None and cash.left == 10**9 * WAD - unlimited // 10**27
    broke, cash = _venue_mark(lot, 0)
    assert broke.sell(lot, fallback) == fallback and broke.unpaid == lot
    assert cash is not None and cash.left == 0
    # a fallback above what the venue would pay: the venue's price (a short outside never makes
    # the mark kinder than the venue's)
    assert _venue_mark(lot, 0)[0].sell(lot, 10**6 * RAD) == unlimited
    # a third of what the venue would pay: the mark sells in four parts (7.5 tokens a bar); the
    # venue pays the parts in full while the cash lasts, the one it runs out in for what is
    # left, and the tokens it did not pay for (rounded up) fetch their share of the fallback
    parts, _ = _venue_mark(lot, None)
    proceeds = [parts.sell(lot // 4) // 10**27 for _ in range(4)]
    third = sum(proceeds) // 3
    left, paid, unpaid = third, 0, 0
    for got_part in proceeds:
        pay = min(got_part, left)
        left, paid = left - pay, paid + pay
        unpaid += -(-(lot // 4) * (got_part - pay) // got_part)
    assert 0 < proceeds[0] < third < proceeds[0] + proceeds[1]  # the second part runs it out
    part, cash = _venue_mark(lot, third)
    got = part.sell(lot, fallback)
    assert part.unpaid == unpaid and cash is not None and cash.left == 0 and paid == third
    assert got == third * 10**27 + fallback * unpaid // lot
    # the next sale finds the outside empty: its fallback, all of it
    assert part.sell(5 * WAD, 300 * RAD) == 300 * RAD and part.unpaid == unpaid + 5 * WAD


def test_venue_mark__an_outside_with_no_stablecoin__the_headline_is_the_pool_sale_bound():
    """end_of_run with the venue's mark and an outside that cannot pay: each open lot fetches its
    share of the keepers' pool's quote, so the marked shortfall is the fire-sale shortfall (the
    pool-sale bound), and the tokens are counted as unpaid; with the outside's cash unlimited the
    mark is the venue's, kinder."""
    losses = {1: _loss(6_000 * RAD, 6_780 * RAD), 2: _loss(1_500 * RAD, 1_695 * RAD)}
    running = {1: [40 * WAD, 6_780 * RAD], 2: [10 * WAD, 1_695 * RAD]}
    pool = 3_000 * RAD  # the pool's quote for both lots at once: 2,400 and 600 pro rata

    def end(cash: int | None):
        def mark(total: int):
            return _venue_mark(total, cash)[0]

        return end_of_run(losses, running, {}, {}, RAY, RATIO, 150 * WAD, pool, 0, mark)

    broke = end(0)
    assert broke.marked_open_shortfall == broke.fire_sale_shortfall == (3_600 + 900) * RAD
    assert broke.mark_unpaid == 50 * WAD
    assert broke.facts()["mark_unpaid_collateral"] == 50.0
    free = end(None)
    assert free.mark_unpaid == 0 and free.marked_open_shortfall < broke.marked_open_shortfall
    assert end(10**9 * WAD).marked_open_shortfall == free.marked_open_shortfall
