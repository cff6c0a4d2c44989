"""The specification's exact curve price: rounded up once, it equals the exact Fraction's ceiling
for every curve, and it stays cheap for an auction days old (the exact power of a ray cut to the
hundreds of thousands has millions of digits: a campaign spent minutes per check on it). The
size cut: the model's least cure keeps the specification's bound (issue 45)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from offchain.model import size_margin as sizing
from offchain.model.fixed_point import PENALTY_STEP, RAD, RAY, WAD
from offchain.model.price_curves import EXPONENTIAL, LINEAR, STAIRSTEP
from offchain.testing.specification import ceil_div, exact_curve_ceil
from offchain.testing.specification.curves import (
    margin_debt,
    size_cut,
    size_cut_collateral,
    size_cut_problem,
)


def _exact_ceiling(kind: int, duration: int, step: int, cut: int, top: int, elapsed: int) -> int:
    if kind == LINEAR:
        exact = Fraction(top * max(duration - elapsed, 0), duration)
    else:
        exact = top * Fraction(cut, RAY) ** (elapsed // step if kind == STAIRSTEP else elapsed)
    return ceil_div(exact.numerator, exact.denominator)


@given(
    kind=st.sampled_from([LINEAR, STAIRSTEP, EXPONENTIAL]),
    duration=st.integers(1, 10**6),
    step=st.integers(1, 600),
    cut=st.one_of(
        st.integers(0, RAY - 1),
        st.integers(1, 10**9).map(lambda d: RAY - d),  # a cut just below 1
        st.sampled_from([0, RAY // 2, RAY // 4, 99 * RAY // 100]),
    ),
    top=st.one_of(st.integers(1, 2**128 - 1), st.integers(0, 127).map(lambda k: 2**k)),
    elapsed=st.integers(0, 2_000),
)
def test_exact_curve_ceil__equals_the_exact_fractions_ceiling(
    kind, duration, step, cut, top, elapsed
):
    assert exact_curve_ceil(kind, duration, step, cut, top, elapsed) == _exact_ceiling(
        kind, duration, step, cut, top, elapsed
    )


def test_exact_curve_ceil__an_auction_weeks_old__is_bounded_not_expanded():
    """Ten million seconds of an exponential cut one ray-unit below 1: the bounds decide it (the
    Fraction would have 270 million digits); a tiny positive price rounds up to 1; an exact
    power of two is exact."""
    assert exact_curve_ceil(EXPONENTIAL, 0, 1, RAY - 1, 2**127, 10**7) == 2**127 - (
        2**127 // 10**20
    )
    assert exact_curve_ceil(EXPONENTIAL, 0, 1, RAY // 2, 2**100, 10**6) == 1
    assert exact_curve_ceil(EXPONENTIAL, 0, 1, RAY // 2, 2**100, 3) == 2**97
    assert exact_curve_ceil(STAIRSTEP, 0, 60, 0, 10**30, 59) == 10**30
    assert exact_curve_ceil(STAIRSTEP, 0, 60, 0, 10**30, 60) == 0


@settings(max_examples=300, deadline=None)
@given(
    threshold=st.integers(100, 100_000),
    slope=st.integers(1, 10**6),
    cap=st.integers(1, 10**6),
    penalty_steps=st.integers(0, 10**7),
    rate=st.integers(RAY, 2 * RAY),
    safe_price=st.integers(RAY, 5_000 * RAY),
    debt=st.integers(1, 10**7),
    short_ppm=st.integers(1, 500_000),
    dust_share=st.integers(0, 100),
)
def test_size_cut__model_least_cure_keeps_the_specifications_bound(
    threshold, slope, cap, penalty_steps, rate, safe_price, debt, short_ppm, dust_share
):
    """Issue 45, finding 3: the model's least cure (the one home the Liquidator's twin calls,
    equal to Liquidator.vy by the differential tests) against the specification's independent
    exact-rational statement, for vaults safe at the base ratio but short of their size: it
    refuses exactly when the specification finds no cut, and otherwise keeps the bound (within
    the bracket, cures with the 1% spare, one wei less does not)."""
    size = (threshold, slope, cap)
    penalty = WAD + penalty_steps * PENALTY_STEP
    dust = threshold * RAD * dust_share // 100  # at most the threshold (finding 4)
    normalized = debt * WAD
    need = margin_debt(normalized * rate, size)
    collateral = need * (10**6 - short_ppm) // 10**6 // safe_price
    assume(collateral * safe_price >= normalized * rate)  # safe at the base ratio
    assume(collateral * safe_price < need)  # unsafe at its size
    packed = sizing.pack(*size)
    cut = sizing.least_cure(
        collateral=collateral,
        normalized_debt=normalized,
        rate=rate,
        safe_price=safe_price,
        dust=dust,
        penalty=penalty,
        size=packed,
    )
    expected = size_cut(collateral, normalized, rate, safe_price, dust, size, penalty)
    assert (cut == 0) == (expected == 0)
    if cut:
        problem = size_cut_problem(
            collateral, normalized, rate, safe_price, dust, size, penalty, 2**255, cut
        )
        assert problem is None, problem
        assert sizing.cut_collateral(cut * rate, penalty, safe_price) == size_cut_collateral(
            cut, rate, safe_price, penalty
        )
