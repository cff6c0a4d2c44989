"""The keepers of the 2020 model (offchain/history/keepers.py; MakerDAO's Flipper, not Backstop's
auctions): what a margin bidder plans in each phase, a keeper priced out by gas that lets a
low-ball bid win, a bid that lands a bar late after the tic, and capital limits. Deterministic
stories on a flat hand-made market. Pure Python, no chain."""

from __future__ import annotations

import dataclasses

import pytest

from offchain.history.keepers.flip import DENT, TEND, Biter, LowBaller, MarginBidder, View
from offchain.history.keepers.transactions import FixedGas, Intent, Mempool, PercentileGas
from offchain.history.mechanisms.cat import Cat
from offchain.history.mechanisms.flip import DAY_2020_03_12, MIN_BID, Flipper
from offchain.history.mechanisms.vat import CAT, VOW, Vat
from offchain.history.replay.flip import Vault, run_day
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.scenario.market_data import Series
from offchain.sim.strategies.actions import Latency

T0 = 1_583_971_200
BAR = 600
GWEI = 10**9
# a vault unsafe from the start at ETH 100 (10 x 66.67 < 700): one auction of 10 ETH for 791 DAI
VAULT = Vault("owner", 10 * WAD, 700 * WAD)
TAB = 791 * RAD


def flat(value: int, bars: int, column: str = "close") -> Series:
    return Series("hand-made", tuple(T0 + i * BAR for i in range(bars)), {column: (value,) * bars})


PRICES = flat(100 * WAD, 6)
# every bar: 30th percentile 100 gwei, 60th 150 gwei
GAS = Series(
    "hand-made",
    PRICES.times,
    {"p30_gwei": (100 * GWEI,) * 6, "p60_gwei": (150 * GWEI,) * 6, "p90_gwei": (300 * GWEI,) * 6},
)


def biter() -> Biter:
    return Biter("biter", PercentileGas(60))


def test_low_baller_wins__honest_keeper_priced_out_by_gas():
    """The honest keeper bids 20 gwei, under the 30th percentile: every one of its bids is
    dropped (T0 to T0 + 9 min, while the low bid's tic is ahead). The low-baller's 200 gwei lands
    at once: 1 unit of rad for 10 ETH worth 1,000 DAI. Money flow: the Vow gets 1 rad against
    700 DAI of debt queued; the deficit is 700 DAI less 1 rad."""
    honest = MarginBidder("honest", FixedGas.gwei(20), 10_000 * RAD, WAD // 10)
    low = LowBaller("low", FixedGas.gwei(200), RAD)
    r = run_day([VAULT], DAY_2020_03_12, [honest, low], biter(), PRICES, GAS)
    [row] = r.auctions
    assert (row.lot, row.tab, row.debt, row.kicked) == (10 * WAD, TAB, 700 * RAD, T0)
    assert (row.winner, row.bid, row.lot_won) == ("low", MIN_BID, 10 * WAD)
    assert row.dealt == T0 + BAR + 60  # the first step after tic = T0 + 600
    assert row.zero_bid and row.value_at_deal == 1000 * RAD
    c = honest.counts
    assert (c.planned, c.sent, c.dropped, c.landed, c.failed) == (10, 10, 10, 0, 0)
    c = low.counts
    assert (c.planned, c.sent, c.landed) == (1, 1, 1)
    assert r.zero_bid_share == 1 and r.zero_bid_value == 1000 * RAD
    assert (r.debt_bitten, r.dai_raised, r.deficit) == (700 * RAD, 1, 700 * RAD - 1)
    assert r.keepers["low"].gem_won == 10 * WAD
    # sold one bar after the deal at 100: the low-baller's 1 DAI became 1,000 less 1 rad
    assert r.keepers["low"].dai == RAD - 1 + 1000 * RAD


def test_honest_keeper_with_market_gas__bids_the_tab__no_deficit():
    """The same day with the honest keeper at 200 gwei: it bids min(tab, 10 x 100 x 0.9) = the
    tab at T0, so the low-baller finds no auction without a bid. Money flow: 791 DAI to the Vow
    (700 debt + 91 penalty: a surplus of 91); the keeper sells 10 ETH for 1,000 a bar later."""
    honest = MarginBidder("honest", FixedGas.gwei(200), 10_000 * RAD, WAD // 10)
    low = LowBaller("low", FixedGas.gwei(200), RAD)
    r = run_day([VAULT], DAY_2020_03_12, [honest, low], biter(), PRICES, GAS)
    [row] = r.auctions
    assert (row.winner, row.bid, row.lot_won, row.zero_bid) == ("honest", TAB, 10 * WAD, False)
    assert low.counts.planned == 0
    assert r.deficit == -91 * RAD
    assert r.keepers["honest"].dai == 10_000 * RAD - TAB + 1000 * RAD


def test_bid_delayed_a_bar__lands_at_tic__fails_already_finished_tic():
    """The honest keeper's 120 gwei is between the percentiles: its tend, sent at T0, lands at
    T0 + 600. The low bid landed at T0, so its tic is T0 + 600: the late tend is refused."""
    honest = MarginBidder("honest", FixedGas.gwei(120), 10_000 * RAD, WAD // 10)
    low = LowBaller("low", FixedGas.gwei(200), RAD)
    r = run_day([VAULT], DAY_2020_03_12, [honest, low], biter(), PRICES, GAS)
    c = honest.counts
    assert (c.planned, c.sent, c.dropped, c.landed, c.failed) == (1, 1, 0, 0, 1)
    assert c.failures == {"Flipper/already-finished-tic": 1}
    assert r.auctions[0].winner == "low"
    assert r.keepers["honest"].dai == 10_000 * RAD  # nothing left locked


def test_capital__second_bid_cut_to_what_is_left__then_recycled_after_the_sales():
    """Two vaults, two auctions for 791 each; the keeper holds 1,000 DAI. It bids the tab on the
    first and the 209 left on the second (counted capital-limited); no one outbids it. It wins
    both (209 for 1,000 of ETH is 20.9%: not a zero bid); one bar after the deals it sells 20
    ETH at 100. Money flow: 1,000 - 791 - 209 + 2,000 = 2,000 DAI; the Vow has 1,000 for 1,400
    of debt."""
    keeper = MarginBidder("keeper", FixedGas.gwei(200), 1000 * RAD, WAD // 10)
    vaults = [VAULT, Vault("other", 10 * WAD, 700 * WAD)]
    r = run_day(vaults, DAY_2020_03_12, [keeper], biter(), PRICES, GAS)
    assert [(a.usr, a.bid, a.winner) for a in r.auctions] == [
        ("other", TAB, "keeper"),
        ("owner", 209 * RAD, "keeper"),
    ]
    assert not any(a.zero_bid for a in r.auctions)
    c = keeper.counts
    assert (c.planned, c.capital_limited, c.sent, c.landed) == (2, 1, 2, 2)
    row = r.keepers["keeper"]
    assert (row.won, row.gem_won, row.gem) == (2, 20 * WAD, 0)
    assert row.sold_for == 2000 * RAD and row.dai == 2000 * RAD
    assert r.deficit == 1400 * RAD - 1000 * RAD


def test_capital__nothing_left__not_sent_until_a_sale_brings_dai_back():
    """The keeper holds exactly one tab. It bids it on the first auction at T0; the second is
    planned and stopped by capital at T0 and every minute to T0 + 20 min (21 steps). The first
    is dealt at T0 + 11 min and its 10 ETH sold a bar later, at T0 + 21 min, for 1,000: the
    keeper then bids the tab on the second, dealt at T0 + 32 min."""
    keeper = MarginBidder("keeper", FixedGas.gwei(200), TAB, WAD // 10)
    vaults = [VAULT, Vault("other", 10 * WAD, 700 * WAD)]
    r = run_day(vaults, DAY_2020_03_12, [keeper], biter(), PRICES, GAS)
    c = keeper.counts
    assert (c.planned, c.capital_limited, c.sent, c.landed) == (23, 21, 2, 2)
    assert [(a.winner, a.bid, a.dealt) for a in r.auctions] == [
        ("keeper", TAB, T0 + 660),
        ("keeper", TAB, T0 + 1260 + 660),
    ]
    assert r.keepers["keeper"].dai == 1209 * RAD  # 791 - 2 x 791 + 2 x 1,000


@pytest.fixture
def at_tab() -> tuple[Flipper, Cat]:
    """An auction of 10 ETH already at its tab of 791, bid by someone else."""
    vat = Vat(rate=RAY)
    vat.gem[CAT] = 10 * WAD
    vat.dai["rival"] = TAB
    flipper = Flipper(vat, DAY_2020_03_12)
    flipper.kick(10 * WAD, TAB, "owner", VOW, T0)
    flipper.tend(1, "rival", 10 * WAD, TAB, T0)
    return flipper, Cat(vat, flipper)


def view(flipper: Flipper, cat: Cat, available: int, price: int = 100 * WAD) -> View:
    return View(T0 + 60, price, flipper, cat, available, frozenset())


def test_margin_bidder__dent_phase__asks_the_lot_worth_tab_at_its_margin(at_tab):
    """At 100 less 5%: 791 / 95 = 8.326315789473684210526... ETH, rounded up to the wei."""
    keeper = MarginBidder("keeper", FixedGas.gwei(200), TAB, WAD // 20)
    [intent] = keeper.plan(view(*at_tab, available=TAB))
    assert (intent.kind, intent.id, intent.bid, intent.cost) == (DENT, 1, TAB, TAB)
    assert intent.lot == 8_326_315_789_473_684_211


def test_margin_bidder__dent_not_beg_under__no_bid(at_tab):
    """At 100 less 20%: 791 / 80 = 9.8875 ETH, above 10 / 1.03 = 9.7087: not a valid dent."""
    keeper = MarginBidder("keeper", FixedGas.gwei(200), TAB, WAD // 5)
    assert keeper.plan(view(*at_tab, available=TAB)) == []
    assert keeper.counts.planned == 0


def test_margin_bidder__dent_without_the_tab_on_hand__capital_limited(at_tab):
    keeper = MarginBidder("keeper", FixedGas.gwei(200), 0, WAD // 20)
    assert keeper.plan(view(*at_tab, available=TAB - 1)) == []
    assert (keeper.counts.planned, keeper.counts.capital_limited) == (1, 1)


def test_margin_bidder__tend_under_beg_over_the_bid__no_bid():
    """Bid 500 on a tab of 10,000; at 5.1 ETH x 100 x (1 - 0%) the keeper would pay 510 < 515 =
    500 x 1.03 and not the tab: no valid raise; at 5.15 ETH it bids exactly 515."""
    vat = Vat()
    vat.gem[CAT] = 20 * WAD
    vat.dai["rival"] = 500 * RAD
    flipper = Flipper(vat, DAY_2020_03_12)
    flipper.kick(51 * WAD // 10, 10_000 * RAD, "owner", VOW, T0)
    flipper.kick(515 * WAD // 100, 10_000 * RAD, "owner", VOW, T0)
    flipper.tend(1, "rival", 51 * WAD // 10, 500 * RAD, T0)
    vat.dai["rival"] = 500 * RAD
    flipper.tend(2, "rival", 515 * WAD // 100, 500 * RAD, T0)
    keeper = MarginBidder("keeper", FixedGas.gwei(200), 0, 0)
    [intent] = keeper.plan(view(flipper, Cat(vat, flipper), available=10_000 * RAD))
    assert (intent.kind, intent.id, intent.bid) == (TEND, 2, 515 * RAD)


def test_percentile_gas__only_the_two_the_latency_model_knows():
    with pytest.raises(ValueError, match="30 or 60"):
        PercentileGas(90)


def test_day_loop__auction_without_bid__ticked_after_end__left_open_at_day_end():
    """No bidder and a 5-minute tau: the auction kicked at T0 ends at T0 + 300 without a bid;
    the first step after it (T0 + 360) ticks it to T0 + 660, and so on every 6 minutes, the
    last at T0 + 3,240 to T0 + 3,540, the day's last step (not passed then). At the end of the
    day it is still open: not dealt, its bid 0, the Cat its guy, the whole debt a deficit."""
    params = dataclasses.replace(DAY_2020_03_12, tau=300)
    r = run_day([VAULT], params, [], biter(), PRICES, GAS)
    [row] = r.auctions
    assert (row.dealt, row.bid, row.winner, row.lot_won) == (None, 0, CAT, 10 * WAD)
    assert row.end == T0 + 3540
    assert r.dealt == [] and r.zero_bid_share == 0
    assert r.deficit == 700 * RAD


def _vaults(n_lots: int) -> list[Vault]:
    # one vault of n_lots x 50 ETH, unsafe from the start at ETH 100 (debt 70 per ETH)
    return [Vault("big", n_lots * 50 * WAD, n_lots * 50 * 70 * WAD)]


@pytest.mark.parametrize(("per_step", "first_step"), [(1, 1), (4, 4), (None, 7)])
def test_biter__per_step__bites_a_big_vault_that_many_times_a_step(per_step, first_step):
    """A vault of 7 lumps (350 ETH): the first model's biter bit it once a step, and not while a
    bite was in flight; the Cat allows any number (one keeper bites once a block). With
    `per_step` n it sends up to n a step, never more than the lumps left less those in flight;
    None: every lump at once. Its bites land in the step (market gas), so the first step kicks
    `first_step` auctions and the vault is bitten whole in ceil(7 / n) steps."""
    b = Biter("biter", PercentileGas(60), per_step=per_step)
    r = run_day(_vaults(7), DAY_2020_03_12, [], b, PRICES, GAS)
    first = [row for row in r.auctions if row.kicked == T0]
    assert len(first) == first_step
    assert len(r.auctions) == 7 and b.counts.planned == 7 and b.counts.failed == 0
    assert r.vaults["big"].ink == 0


def test_biter__bites_in_flight_count_against_the_lumps_left():
    """At 120 gwei (between the percentiles) every bite lands a bar late: with per_step 4 the
    biter sends 4 in the first step and 3 in the next (7 lumps less the 4 in flight), then none
    while they fly: 7 planned, 7 landed."""
    b = Biter("biter", FixedGas.gwei(120), per_step=4)
    r = run_day(_vaults(7), DAY_2020_03_12, [], b, PRICES, GAS)
    assert (b.counts.planned, b.counts.landed, b.counts.failed) == (7, 7, 0)
    assert len(r.auctions) == 7


def test_mempool__late_uniform__a_bar_late_lands_inside_the_next_bar_at_a_drawn_step():
    """With a step (the day's minute), a transaction delayed a bar lands 1 to 10 steps later,
    drawn from the seed in the order sent; without, exactly a bar later (the first model's)."""
    latency = Latency(GAS, 0)
    honest = MarginBidder("honest", FixedGas.gwei(120), 0, WAD // 10)
    lands = []
    for seed in (0, 1):
        pool = Mempool(latency, BAR, step=60, seed=seed)
        lands.append([pool.send(honest, Intent(TEND, i), T0) for i in range(200)])
    for times in lands:
        assert all(T0 + 60 <= t <= T0 + BAR and (t - T0) % 60 == 0 for t in times)
        assert len(set(times)) == 10  # every minute of the next bar is drawn
    assert lands[0] != lands[1]
    again = Mempool(latency, BAR, step=60, seed=0)
    assert [again.send(honest, Intent(TEND, i), T0) for i in range(200)] == lands[0]
    assert Mempool(latency, BAR).send(honest, Intent(TEND, 1), T0) == T0 + BAR


def test_capital_limited_auctions__each_auction_once_however_many_plans():
    """A keeper with no DAI plans a tend on the one auction each step it can, and is stopped by
    capital each time: the plans count every step, the auctions count the auction once."""
    poor = MarginBidder("poor", PercentileGas(60), 0, WAD // 10)
    run_day([VAULT], DAY_2020_03_12, [poor], biter(), PRICES, GAS)
    assert poor.counts.capital_limited > 1
    assert poor.counts.capital_limited_auctions == {1}
