"""Black Thursday under the model of MakerDAO's 2020 Flipper and Cat (offchain/history/replay/
flip.py; not Backstop's mechanism), on the real 2020-03-12 price and gas files with three
hand-made vaults. Every figure below is worked out by hand from the files' closes and
percentiles. Pure Python, no chain."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from offchain.history.keepers.flip import Biter, LowBaller, MarginBidder
from offchain.history.keepers.transactions import FixedGas, PercentileGas
from offchain.history.mechanisms.flip import DAY_2020_03_12, MIN_BID
from offchain.history.mechanisms.vat import Urn
from offchain.history.replay.flip import Oracle, Vault, run_day
from offchain.model.fixed_point import RAD, WAD
from offchain.sim.scenario.market_data import load_gas, load_prices

MARKET = Path(__file__).resolve().parents[2] / "data" / "market"
PRICES = load_prices(MARKET / "eth_usd_2020-03-12.csv")
GAS = load_gas(MARKET / "gas_2020-03-12.csv")
# "a" and "b" at 150% of ETH 150 (unsafe below it), "c" at ETH 75 (never, the day's low close
# is 106.59)
VAULTS = [
    Vault("a", 100 * WAD, 10_000 * WAD),
    Vault("b", 30 * WAD, 3_000 * WAD),
    Vault("c", 100 * WAD, 5_000 * WAD),
]
MARGIN_10, MARGIN_5 = WAD // 10, WAD // 20


def at(hhmm: str) -> int:
    return int(datetime.fromisoformat(f"2020-03-12T{hhmm}:00+00:00").astimezone(UTC).timestamp())


def close(cents: int) -> int:
    return cents * WAD // 100


def test_oracle__an_hour_behind__the_price_read_at_the_poke_before():
    """The OSM at 11:59 shows the 10:00 close (167.64), at 12:00 the 11:00 close (143.07); a poke
    5 minutes late moves that to 12:05 (reading 11:05: the 11:00 bar's close)."""
    osm = Oracle()
    assert osm.price(PRICES, at("11:59")) == close(16764)
    assert osm.price(PRICES, at("12:00")) == close(14307)
    late = Oracle(lag=300)
    assert late.price(PRICES, at("12:04")) == close(16764)
    assert late.price(PRICES, at("12:05")) == close(14307)
    assert osm.price(PRICES, at("00:30")) == close(19452)  # before the first poke: the first


def test_oracle__feeds_stalled_over_100_gwei__the_last_bar_an_update_landed_in():
    """The feeds' updates land only in bars whose 30th gas percentile is at most 100 gwei, until
    17:00 (the B2 setting of days/black_thursday_2020.py). The 30th percentile is over 100 from
    the 12:10 bar to 17:50 except 17:40, so the medianizer keeps 12:00's close (137.28) through
    13:00 and 14:00, and the OSM at 15:00 shows that (the 14:00 poke's read); from 17:00 on, the
    stall is over: the 18:00 poke reads 18:00's close (142.17), shown from 19:00."""
    stalled = Oracle(stall_gwei=100, stall_until=at("17:00"))
    assert stalled.median(PRICES, GAS, at("12:00")) == close(13728)
    assert stalled.median(PRICES, GAS, at("13:00")) == close(13728)
    assert stalled.median(PRICES, GAS, at("14:05")) == close(13728)
    assert stalled.price(PRICES, at("15:00"), GAS) == close(13728)
    assert Oracle().price(PRICES, at("15:00"), GAS) == close(13496)  # 14:00's close, no stall
    assert stalled.median(PRICES, GAS, at("18:00")) == close(14217)
    assert stalled.price(PRICES, at("19:00"), GAS) == close(14217)
    assert stalled.median(PRICES, None, at("13:00")) == close(13670)  # no gas file: no stall


def priced_out_day():
    honest = MarginBidder("honest", FixedGas.gwei(20), 20_000 * RAD, MARGIN_10)
    low = LowBaller("low", FixedGas.gwei(200), RAD)
    biter = Biter("biter", PercentileGas(60))
    return run_day(VAULTS, DAY_2020_03_12, [honest, low], biter, PRICES, GAS), honest, low


def test_day__honest_keeper_at_20_gwei__every_auction_a_zero_bid():
    """At 12:00 the OSM shows 143.07: a (spot 95.38: 9,538 < 10,000) and b are unsafe; c is not.
    12:00: bites of a (50 ETH, 5,000 DAI, tab 5,650) and b (30 ETH, 3,000, tab 3,390); 12:01:
    the rest of a (50 ETH, 5,000). The honest keeper's 20 gwei is under every 30th percentile
    from 12:00 on (100 gwei and up): its tab bids are dropped, on auctions 1 and 2 from 12:00 to
    12:09 and on 3 from 12:01 to 12:10 (30 in all). The low-baller's 200 gwei is above the 60th
    percentile (102.31 gwei at 12:00): 1 rad on each, dealt at 12:11, 12:11 and 12:12 at the
    12:10 close (141.67); the 130 ETH sold at the 12:20 close (141.31)."""
    r, honest, low = priced_out_day()
    rows = [(x.id, x.usr, x.lot, x.tab, x.debt, x.kicked) for x in r.auctions]
    assert rows == [
        (1, "a", 50 * WAD, 5_650 * RAD, 5_000 * RAD, at("12:00")),
        (2, "b", 30 * WAD, 3_390 * RAD, 3_000 * RAD, at("12:00")),
        (3, "a", 50 * WAD, 5_650 * RAD, 5_000 * RAD, at("12:01")),
    ]
    assert [(x.winner, x.bid, x.lot_won, x.dealt, x.zero_bid) for x in r.auctions] == [
        ("low", MIN_BID, 50 * WAD, at("12:11"), True),
        ("low", MIN_BID, 30 * WAD, at("12:11"), True),
        ("low", MIN_BID, 50 * WAD, at("12:12"), True),
    ]
    assert [x.value_at_deal for x in r.auctions] == [
        50 * WAD * close(14167) * 10**9,  # 7,083.5 DAI [rad]
        30 * WAD * close(14167) * 10**9,  # 4,250.1
        50 * WAD * close(14167) * 10**9,
    ]
    assert r.zero_bid_share == 1
    assert r.zero_bid_value == 18_417_100 * RAD // 1000  # 130 x 141.67
    assert (r.debt_bitten, r.dai_raised) == (13_000 * RAD, 3)
    assert r.deficit == 13_000 * RAD - 3
    c = honest.counts
    assert (c.planned, c.sent, c.dropped, c.landed, c.failed) == (30, 30, 30, 0, 0)
    c = low.counts
    assert (c.planned, c.sent, c.landed) == (3, 3, 3)
    assert r.keepers["low"].sold_for == 18_370_300 * RAD // 1000  # 130 x 141.31
    assert r.keepers["low"].dai == RAD - 3 + 18_370_300 * RAD // 1000
    assert r.keepers["honest"].dai == 20_000 * RAD
    assert r.keepers["biter"].counts.landed == 3
    assert r.vaults == {"a": Urn(0, 0), "b": Urn(0, 0), "c": Urn(100 * WAD, 5_000 * WAD)}
    # counted as Backstop's side counts (accounting.py): each zero bid short its debt less 1
    # rad, nothing open; c (215% at the day's last close, 107.52) safe: the closed market's
    # marks agree
    e = r.end_of_day
    assert e is not None and e.realized == 13_000 * RAD - 3
    assert (e.open_auctions, e.unsafe_vaults) == (0, 0)
    assert e.insolvency == e.insolvency_last_price == 13_000 * RAD - 3


def test_day__keepers_at_the_60th_percentile__tab_raised_lots_cut():
    """Both keepers follow the market's 60th percentile. At 12:00 (close 137.28) the 10% keeper
    bids the tab on 1 and 2 (50 x 137.28 x 0.9 = 6,177.6 > 5,650); the 5% keeper dents each to
    the lot worth the tab at 137.28 x 0.95 (43.32 ETH of 50, 25.99 of 30), rounded up to the wei,
    which the 10% keeper cannot beat (5,650 / 123.552 = 45.73 ETH > 43.32); 12:01 the same on 3.
    Money flow: 14,690 DAI to the Vow against 13,000 of debt: 1,690 of surplus; the owners get
    back what the dents gave up."""
    honest = MarginBidder("honest", PercentileGas(60), 20_000 * RAD, MARGIN_10)
    sharp = MarginBidder("sharp", PercentileGas(60), 20_000 * RAD, MARGIN_5)
    low = LowBaller("low", FixedGas.gwei(200), RAD)
    biter = Biter("biter", PercentileGas(60))
    r = run_day(VAULTS, DAY_2020_03_12, [honest, sharp, low], biter, PRICES, GAS)
    value = close(13728) * (WAD - MARGIN_5)  # [1e36 per DAI]
    lot_a = -(-5_650 * RAD * 10**9 // value)
    lot_b = -(-3_390 * RAD * 10**9 // value)
    # 5,650 / 130.416 = 353,125 / 8,151 = 43.32290516501042816...: rounded up to the wei
    assert lot_a == 43_322_905_165_010_428_169
    assert [(x.winner, x.bid, x.lot_won, x.dealt) for x in r.auctions] == [
        ("sharp", 5_650 * RAD, lot_a, at("12:11")),
        ("sharp", 3_390 * RAD, lot_b, at("12:11")),
        ("sharp", 5_650 * RAD, lot_a, at("12:12")),
    ]
    assert not any(x.zero_bid for x in r.auctions)
    assert r.deficit == -1_690 * RAD
    assert low.counts.planned == 0
    c = honest.counts
    assert (c.planned, c.landed, c.failed) == (3, 3, 0)
    won = 2 * lot_a + lot_b
    assert r.keepers["sharp"].gem_won == won
    assert r.keepers["sharp"].dai == 20_000 * RAD - 14_690 * RAD + won * close(14131) * 10**9
    assert r.keepers["honest"].dai == 20_000 * RAD  # outbid in the dent phase: all refunded
    assert r.end_of_day is not None and r.end_of_day.insolvency == 0  # every tab raised


def test_run_day__vault_below_dust__refused():
    with pytest.raises(ValueError, match="below dust"):
        run_day(
            [Vault("tiny", WAD, 19 * WAD)],
            DAY_2020_03_12,
            [],
            Biter("biter", PercentileGas(60)),
            PRICES,
            GAS,
        )
