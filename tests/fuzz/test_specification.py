"""The specification's exact curve price: rounded up once, it equals the exact Fraction's ceiling
for every curve, and it stays cheap for an auction days old (the exact power of a ray cut to the
hundreds of thousands has millions of digits: a campaign spent minutes per check on it)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from offchain.model.fixed_point import RAY
from offchain.model.price_curves import EXPONENTIAL, LINEAR, STAIRSTEP
from offchain.testing.specification import ceil_div, exact_curve_ceil


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
