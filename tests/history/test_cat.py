"""The model of MakerDAO's 2020 Cat (offchain/history/cat.py; not a Backstop contract): the bite's
arithmetic to the unit, what stays in the vault, the debt queued, and the unsafe test at its
boundary. Pure Python, no chain."""

from __future__ import annotations

import pytest

from offchain.history.mechanisms.cat import ETH_A_MAT, Cat, CatError, spot_of
from offchain.history.mechanisms.flip import DAY_2020_03_12, Flipper
from offchain.history.mechanisms.vat import CAT, FLIPPER, VOW, Urn, Vat
from offchain.model.fixed_point import RAD, RAY, WAD

T0 = 1_583_971_200


def make(ink: int, art: int, rate: int = RAY, price: int = 100 * WAD) -> Cat:
    vat = Vat(rate=rate, spot=spot_of(price, ETH_A_MAT))
    vat.urns["owner"] = Urn(ink, art)
    return Cat(vat, Flipper(vat, DAY_2020_03_12))


def test_spot_of__150_dollars_at_150_percent__100_ray():
    assert spot_of(150 * WAD, ETH_A_MAT) == 100 * RAY
    assert spot_of(1, ETH_A_MAT) == 10**9 * RAY // ETH_A_MAT  # rounded down: 666,666,666


def test_bite__vault_above_lump__lump_and_its_share_of_debt_to_auction():
    """120 ETH and 10,000 art at rate 1.05 (debt 10,500) with ETH at 120 (spot 80): 9,600 <
    10,500, unsafe. Money flow: 50 ETH to the flipper, art 10,000 x 50 / 120 (rounded down) out
    of the vault, that art x rate into the Vow's queue, tab = that x 1.13."""
    rate = 105 * RAY // 100
    cat = make(120 * WAD, 10_000 * WAD, rate=rate, price=120 * WAD)
    b = cat.bite("owner", T0)
    art = 10_000 * WAD * 50 // 120  # 4,166.666666666666666666 (wad), rounded down
    assert art == 4_166_666_666_666_666_666_666
    assert (b.id, b.lot, b.art) == (1, 50 * WAD, art)
    assert b.debt == art * rate
    assert b.tab == art * rate * 113 // 100  # rmul by chop 1.13 ray: exact here
    assert b.tab == art * rate * (113 * RAY // 100) // RAY
    assert cat.vat.urns["owner"] == Urn(70 * WAD, 10_000 * WAD - art)
    assert cat.vat.sin[VOW] == art * rate
    assert cat.vat.gem[FLIPPER] == 50 * WAD and cat.vat.gem[CAT] == 0
    a = cat.flipper.auction(1)
    assert (a.lot, a.tab, a.bid, a.guy, a.usr, a.gal) == (50 * WAD, b.tab, 0, CAT, "owner", VOW)


def test_bite__remainder_still_unsafe__bitten_again_until_empty():
    cat = make(120 * WAD, 10_000 * WAD, price=120 * WAD)
    lots = [cat.bite("owner", T0 + i).lot for i in range(3)]
    assert lots == [50 * WAD, 50 * WAD, 20 * WAD]
    assert cat.vat.urns["owner"].ink == 0
    # the art taken rounds down each time; the last bite takes all that is left (min(art, ...))
    assert cat.vat.urns["owner"].art == 0
    assert cat.vat.sin[VOW] == 10_000 * RAD


def test_bite__vault_below_lump__whole_vault():
    cat = make(30 * WAD, 1_900 * WAD)  # ETH at 100: 30 x 66.67 = 2,000 >= 1,900, safe
    with pytest.raises(CatError, match="^Cat/not-unsafe$"):
        cat.bite("owner", T0)
    cat.vat.spot = spot_of(90 * WAD, ETH_A_MAT)  # 30 x 60 = 1,800 < 1,900
    b = cat.bite("owner", T0)
    assert (b.lot, b.art, b.tab) == (30 * WAD, 1_900 * WAD, 2_147 * RAD)
    assert cat.vat.urns["owner"] == Urn(0, 0)


def test_bite__exactly_at_the_line__refused_one_unit_over__bitten():
    """ink x spot == art x rate is safe; one more unit of art makes it unsafe."""
    cat = make(30 * WAD, 3_000 * WAD, price=150 * WAD)  # 30 x 100 == 3,000
    with pytest.raises(CatError, match="^Cat/not-unsafe$"):
        cat.bite("owner", T0)
    cat.vat.urns["owner"].art += 1
    assert cat.bite("owner", T0).art == 3_000 * WAD + 1


def test_bite__no_price__refused():
    cat = make(30 * WAD, 3_000 * WAD)
    cat.vat.spot = 0
    with pytest.raises(CatError, match="^Cat/not-unsafe$"):
        cat.bite("owner", T0)
