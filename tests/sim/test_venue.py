"""The outside venue (offchain/sim/market/venue.py): the square-root law of impact walked as a
curve, its depth from the day's candles, its memory and the inverse-square-root decay."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offchain.model.fixed_point import WAD
from offchain.sim.market.venue import FLOOR, Depth, Venue, VenueParams, depths_from_candles

PARAMS = VenueParams(coefficient=WAD, share=WAD // 10, decay=600, window=6)
F = 150 * WAD


def _venue(volume: int = 400_000 * WAD, sigma: int = WAD // 25) -> Venue:
    return Venue(PARAMS, [Depth(volume, sigma)])


def test_sale_from_rest__average_price_is_the_law_two_thirds_of_the_peak_impact():
    """Money flow: a seller gives 10,000 tokens to the venue and receives F x 10,000 x (1 - 2/3
    I), I = Y sigma sqrt(Q / V) = 0.04 x sqrt(10,000 / 400,000)."""
    v = _venue()
    q = 10_000 * WAD
    got = v.quote(0, 0, F, q)
    peak = 0.04 * math.sqrt(10_000 / 400_000)
    expected = 150 * 10_000 * (1 - 2 / 3 * peak)
    assert got / WAD == pytest.approx(expected, rel=1e-12)
    assert got <= expected * WAD  # rounded against the seller


def test_trade_moves_the_price__the_impact_decays_as_the_inverse_square_root_of_time():
    v = _venue()
    q = 10_000 * WAD
    v.trade(0, 1_000, F, q)
    peak = 0.04 * math.sqrt(10_000 / 400_000)
    assert v.price(0, 1_000, F) / F == pytest.approx(1 - peak, rel=1e-12)
    # after 3 tau the flow weighs 1/4, so the impact is half the peak
    assert 1 - v.price(0, 1_000 + 3 * 600, F) / F == pytest.approx(peak / 2, rel=1e-9)
    assert v.sold == q and v.bought == 0


def test_purchase_pays_above_the_fundamental_by_the_same_law():
    v = _venue()
    q = 10_000 * WAD
    paid = -v.quote(0, 0, F, -q)
    peak = 0.04 * math.sqrt(10_000 / 400_000)
    assert paid / WAD == pytest.approx(150 * 10_000 * (1 + 2 / 3 * peak), rel=1e-12)
    v.trade(0, 0, F, -q)
    assert v.price(0, 0, F) > F and v.bought == q


def test_a_sale_beyond_the_floor__the_rest_at_the_floor_price__counted():
    v = _venue(volume=100 * WAD, sigma=WAD)  # a tiny market: the curve hits the floor fast
    got = v.trade(0, 0, F, 10_000 * WAD)
    assert v.floored == 1
    assert got >= 10_000 * F * FLOOR // WAD // WAD * 0  # never negative
    assert got < 10_000 * F * (FLOOR + WAD // 10) // WAD  # most of it at the floor
    assert v.price(0, 0, F) == F * FLOOR // WAD


@given(
    q0=st.integers(min_value=-(10**24), max_value=10**24),
    x=st.integers(min_value=1, max_value=10**24),
)
def test_buying_back_what_was_sold_never_pays_less__no_round_trip_profit(q0, x):
    v = _venue()
    if q0:
        v.trade(0, 0, F, q0)
    received = v.trade(0, 0, F, x)
    paid = -v.trade(0, 0, F, -x)
    assert paid >= received


def test_depths_from_candles__parkinson_variance_and_volume_over_the_window_scaled_by_share():
    high, low = 110 * WAD, 100 * WAD
    depths = depths_from_candles([high] * 8, [low] * 8, [50 * WAD] * 8, PARAMS)
    per_bar = (Decimal(11) / 10).ln() ** 2 / (4 * Decimal(2).ln())
    assert depths[0] == Depth(500 * WAD, int(per_bar.sqrt() * WAD))
    assert depths[5].volume == 6 * 500 * WAD  # the window is full from bar 5 on
    assert depths[7].volume == 6 * 500 * WAD
    assert depths[7].sigma == int((6 * per_bar).sqrt() * WAD)


def test_a_bar_past_the_data_keeps_the_last_bars_depth():
    v = Venue(PARAMS, [Depth(1, 1), Depth(400_000 * WAD, WAD // 25)])
    assert v.quote(99, 0, F, 10 * WAD) == v.quote(1, 0, F, 10 * WAD)
