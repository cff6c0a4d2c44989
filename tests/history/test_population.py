"""The eve's ETH-A vaults (offchain/history/population.py): built from the published aggregates
alone, so each one is checked against the vaults built; the assumptions move them as stated."""

from __future__ import annotations

from fractions import Fraction

import pytest

from offchain.history.days.eve_2020 import (
    PUBLISHED,
    WAD,
    Assumptions,
    PopulationError,
    eve_population,
    zipf_exponent,
)

EVE_PRICE = Fraction(19521, 100)  # the first bar's open, data/market/eth_usd_2020-03-12.csv


def _share(vaults, ratio):
    return Fraction(sum(v.debt for v in vaults if v.ratio <= ratio), sum(v.debt for v in vaults))


def test_eve_population__meets_every_published_aggregate():
    vaults = eve_population(EVE_PRICE)
    debt = sum(v.debt for v in vaults)
    assert len(vaults) == 5_000
    assert debt == 114_000_000 * WAD  # to the wei: the last vault takes the rounding
    assert Fraction(sum(v.debt for v in vaults[:3]), debt) == Fraction(1, 4)
    assert abs(Fraction(sum(v.debt for v in vaults[:15]), debt) - Fraction(1, 2)) < Fraction(
        1, 10**6
    )
    assert all(v.ratio == Fraction(275, 100) for v in vaults[:3])
    for ratio, share in PUBLISHED.bands:  # the stratified draw: within half a point
        assert abs(_share(vaults, ratio) - share) < Fraction(5, 1000), ratio
    mean = sum(v.debt * v.ratio for v in vaults) / debt
    assert abs(mean - Fraction(33, 10)) < Fraction(1, 100)
    assert min(v.debt for v in vaults) >= 20 * WAD
    assert min(v.ratio for v in vaults) >= Fraction(3, 2)
    # collateral from the ratio at the eve's price, rounded down
    assert all(v.collateral == int(v.debt * v.ratio / EVE_PRICE) for v in vaults[:50])
    assert [v.debt for v in vaults] == sorted((v.debt for v in vaults), reverse=True)


def test_eve_population__same_seed_same_vaults__another_seed_same_aggregates():
    assert eve_population(EVE_PRICE) == eve_population(EVE_PRICE)
    other = eve_population(EVE_PRICE, assume=Assumptions(seed=7))
    assert other != eve_population(EVE_PRICE)
    assert [v.debt for v in other] == [v.debt for v in eve_population(EVE_PRICE)]
    for ratio, share in PUBLISHED.bands:
        assert abs(_share(other, ratio) - share) < Fraction(5, 1000)


def test_ratio_scale__moves_every_ratio__none_below_the_floor():
    base = eve_population(EVE_PRICE)
    lower = eve_population(EVE_PRICE, assume=Assumptions(ratio_scale=Fraction(9, 10)))
    for b, low in zip(base, lower):
        assert low.ratio == max(Fraction(3, 2), b.ratio * Fraction(9, 10))
        assert low.debt == b.debt


def test_zipf_exponent__the_published_concentration():
    """Ranks 16+ hold twice ranks 4-15 (50% against 25%), for any count of vaults."""
    for n in (1_000, 5_000, 20_000):
        a = zipf_exponent(n)
        middle = sum(k**-a for k in range(4, 16))
        tail = sum(k**-a for k in range(16, n + 1))
        assert tail / middle == pytest.approx(2, rel=1e-9)


@pytest.mark.parametrize(
    ("vaults", "message"),
    [
        (15, "vaults: must be more than 15, got 15"),
        (20, "vaults: 20 are too few for the published concentration"),
    ],
)
def test_too_few_vaults__one_line(vaults, message):
    with pytest.raises(PopulationError) as caught:
        eve_population(EVE_PRICE, assume=Assumptions(vaults=vaults))
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
