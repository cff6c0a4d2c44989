"""A modelled MakerDAO day's end, counted as Backstop's side counts its own (offchain/history/
accounting.py feeding sim/results/insolvency.py's `end_of_run`; models of MakerDAO's mechanisms,
not Backstop's): the finished auctions' shortfalls without netting, the open auctions and the
unsafe vaults never liquidated, marked at the last price; on an open market sold on a copy of the
day's venue. Every figure worked out by hand."""

from __future__ import annotations

from fractions import Fraction

import pytest

from offchain.history.accounting import MARK_BARS, end_of_day
from offchain.history.backstop import COUNTERFACTUALS, write_inputs
from offchain.history.days import day, load
from offchain.history.days.settings import values
from offchain.history.mechanisms.cat import ETH_A_MAT
from offchain.history.mechanisms.vat import Urn
from offchain.history.outside import CLOSED, OPEN, DayMarket, OutsideSpec
from offchain.history.replay.clip import market_of
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.market_data import Series

T0 = 1_600_000_000
PRICES = Series("test", (T0, T0 + 600), {"close": (100 * WAD, 100 * WAD)})
AUCTIONS = [
    # (id, owner, debt, tab, raised, lot left, finished)
    (1, "a", 1_000 * RAD, 1_130 * RAD, 800 * RAD, 0, True),  # short by 200
    (2, "b", 1_000 * RAD, 1_130 * RAD, 1_130 * RAD, 0, True),  # penalty raised: no loss
    (3, "c", 1_000 * RAD, 1_130 * RAD, 300 * RAD, 5 * WAD, False),  # 700 owed, 500 of lot
]
URNS = {
    "d": Urn(10 * WAD, 1_200 * WAD),  # 1,000 of collateral for 1,200 of debt: unsafe, short 200
    "e": Urn(16 * WAD, 1_000 * WAD),  # 1,600 < 1,500? no: 160% of its debt, safe
    "f": Urn(14 * WAD, 1_000 * WAD),  # 140%: unsafe, but covered (no shortfall)
}


def test_closed_market__every_part_at_the_last_price():
    market = DayMarket(PRICES, OutsideSpec(CLOSED, 0))
    e = end_of_day(AUCTIONS, URNS, RAY, ETH_A_MAT, market, T0 + 600)
    assert e.realized == 200 * RAD  # auction 2's penalty is not netted against auction 1
    assert (e.open_auctions, e.open_debt, e.open_shortfall) == (1, 700 * RAD, 200 * RAD)
    assert (e.unsafe_vaults, e.unsafe_debt) == (2, 2_200 * RAD)
    assert e.unsafe_shortfall == 200 * RAD
    assert e.insolvency_last_price == e.insolvency == 600 * RAD  # closed: sold at the last price


def test_open_market__the_open_book_sold_on_a_copy_of_the_day_s_venue():
    """On 2021-05-19's venue the same book (scaled to the day's price) is sold after the data:
    each sale fetches less than its collateral at the last close (the law's impact on the
    fundamental), the price after the sales is under the close, and the run's venue is not
    touched (the mark sells on a copy)."""
    module = day("may-2021")
    market = market_of(module, values(module.SETTINGS), load(module))
    last = market.prices.times[-1]
    close = market.close(last)
    scale = Fraction(close, 100 * WAD)

    def scaled(x: int) -> int:
        return x * scale.numerator // scale.denominator

    auctions = [(i, u, scaled(d), scaled(t), scaled(r), lot, f)
                for i, u, d, t, r, lot, f in AUCTIONS]  # fmt: skip
    urns = {u: Urn(x.ink, scaled(x.art)) for u, x in URNS.items()}
    venue = market.venue
    assert venue is not None
    flows = list(venue.flows)
    e = end_of_day(auctions, urns, RAY, ETH_A_MAT, market, last)
    assert venue.flows == flows
    assert [(row[0], row[2]) for row in e.rows] == [("auction", "c"), ("vault", "d"),
                                                    ("vault", "f")]  # fmt: skip
    for row in e.rows:  # (kind, id, owner, debt, collateral, ..., marked_sale, marked_shortfall)
        assert 0 < row[9] < row[4] * close / WAD
    assert e.marked_price < close
    assert e.realized == scaled(200 * RAD)


def test_mark_bars__the_lab_s_default_which_both_days_scenarios_keep(tmp_path):
    for name, cf in COUNTERFACTUALS.items():
        scenario = load_scenario(str(write_inputs(tmp_path / name, cf=cf)))
        assert scenario.market.mark_bars == MARK_BARS


def test_closed_market__no_venue_to_mark_on():
    with pytest.raises(ValueError, match="no venue"):
        DayMarket(PRICES, OutsideSpec(CLOSED, 0)).mark(MARK_BARS)
    assert OPEN != CLOSED
