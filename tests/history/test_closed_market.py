"""The model of MakerDAO's 2020 Flipper and Cat (not Backstop's mechanism) with issue 64's market
switched off gives the figures it gave before the market room existed, to the wei: the outside
market closed (`outside = closed`: a resale at the step's close, no impact, DAI at par) and no
block bound (`block_gas = 0`; with the day's 10M limit and 80% of it used by other traffic the
bound binds on the day, and the figures move: that is the new market, not a refactor).

The figures below were taken from the model at e1e4472, before offchain/history/ was split into
mechanisms and days and before its keepers' resale moved to the shared market room
(offchain/sim/market/): a digest of every auction row, every keeper row (counts, failures by
reason, the auctions capital stopped) and every vault the bites left, and the headline figures
spelled out. A refactor that moves any of them by one wei, or reorders one sale, fails here.
They were taken at the keepers' DAI of the time, 1M each (assumed then; issue 73 calibrated it to
4.5M), which CLOSED therefore pins."""

from __future__ import annotations

import hashlib

import pytest

from offchain.history.days import day
from offchain.history.replay.flip import run

BLACK_THURSDAY = day("black-thursday-2020")
CLOSED = {"outside": "closed", "block_gas": 0, "bidder_capital": 1_000_000}

pytestmark = pytest.mark.slow  # two runs of the whole day (tens of seconds)


def digest(r) -> str:
    """sha256 over every auction, keeper and vault of a day's result, in a fixed order."""
    h = hashlib.sha256()
    for a in r.auctions:
        h.update(
            repr(
                (a.id, a.usr, a.lot, a.tab, a.debt, a.kicked, a.bid, a.winner, a.lot_won,
                 a.dealt, a.value_at_deal, a.zero_bid, a.end)
            ).encode()
        )  # fmt: skip
    for n, k in sorted(r.keepers.items()):
        c = k.counts
        h.update(
            repr(
                (n, k.dai, k.gem, k.won, k.gem_won, k.sold_for, c.planned, c.sent, c.landed,
                 c.dropped, c.failed, c.capital_limited, sorted(c.capital_limited_auctions),
                 sorted(c.failures.items()))
            ).encode()
        )  # fmt: skip
    for u, x in sorted(r.vaults.items()):
        h.update(repr((u, x.ink, x.art)).encode())
    return h.hexdigest()


def test_black_thursday_closed_market__the_day_s_figures_to_the_wei():
    """The day's settings at 1M a keeper: 5,064 auctions, all dealt, 3,302 zero bids; 23.02M of
    debt bitten, 9.17M raised, a deficit of 13.85M [rad, exact]; each keeper's DAI and ETH at the
    end."""
    r = run(BLACK_THURSDAY, CLOSED)
    assert (r.kicked, len(r.dealt), len(r.zero_bids)) == (5_064, 5_064, 3_302)
    assert r.debt_bitten == 23021187030731558612549416 * 10**27
    assert r.dai_raised == 9172067720623464327826693960000000000000000000003302
    assert r.deficit == 13849119310108094284722722039999999999999999999996698
    ends = {n: (k.dai, k.gem, k.won, k.sold_for) for n, k in r.keepers.items()}
    assert ends["keeper-1"] == (
        636669185662373761257507960000000000000000000000000,
        4658465261017998661024,
        519,
        2348701552737824331048572240000000000000000000000000,
    )
    assert ends["low-bidder-1"][1:3] == (8550000000000000000000, 3302)
    assert digest(r) == "4c2fea527e8eeccedd0868296df08538b3f60a7cc5c7f074bec93916ac28f344"


def test_black_thursday_closed_market__resale_at_once_to_the_wei():
    """resale_hours 0 (a sale at the next step's close): 2,088 zero bids of 5,060 dealt."""
    r = run(BLACK_THURSDAY, {**CLOSED, "resale_hours": 0})
    assert (len(r.dealt), len(r.zero_bids)) == (5_060, 2_088)
    assert r.deficit == 7268015384027425957783707946999999999999999999997912
    assert digest(r) == "c5106cdb7235d3ce153187d6e646077594d24d48dad105a7f90352ba1dcadde7"
