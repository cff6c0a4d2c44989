"""The history days (models of MakerDAO's liquidations, not Backstop's mechanism) take their market
settings from the lab's one home of the calibration, data/market/calibration.toml, and the
Liquidations 2.0 settings of 2021-05-19 equal its spell-sourced entries: the days and the lab's
built-ins cannot drift apart."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from offchain.history.days import day
from offchain.history.days.settings import values
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.market.calibration import setting

YEARS = {"black-thursday-2020": "2020", "may-2021": "2021"}
SHARE = {"2020": "venue.share_2020_03_12", "2021": "venue.share_2021_05_19"}
STABLE = {"2020": "stablecoin_2020.constant", "2021": "stablecoin_2021.price"}


def exact(x) -> Fraction:
    return Fraction(Decimal(str(x)))


@pytest.mark.parametrize("name", sorted(YEARS))
def test_day_market_settings__equal_the_calibration(name):
    year = YEARS[name]
    d = day(name)
    v = values(d.SETTINGS)
    assert v.outside == "open"
    assert v.impact_coefficient == exact(setting("impact.Y").value)
    assert [exact(x) for x in setting("impact.Y").sensitivity] == list(
        d.SETTINGS["impact_coefficient"].alternatives
    )
    assert v.impact_decay == setting("impact.decay_t0").value
    assert v.venue_share == exact(setting(SHARE[year]).value)
    assert [exact(x) for x in setting(SHARE[year]).sensitivity] == list(
        d.SETTINGS["venue_share"].alternatives
    )
    assert v.dai_price == exact(setting(STABLE[year]).value)
    assert v.block_gas == setting(f"block_{year}.gas_limit").value
    assert v.competing_gas == exact(setting(f"block_{year}.competing_gas_share").value)
    resale = "keepers_2020.resale_hours" if year == "2020" else "keepers_2021.capital_resale_hours"
    assert v.resale_hours == setting(resale).value


def test_may_2021__the_spells_values_equal_the_calibration_s_liq2_entries():
    v = values(day("may-2021").SETTINGS)
    eth_a = setting("liq2.ilks.ETH-A")
    assert v.Hole == setting("liq2.Hole").value * RAD
    assert v.hole == eth_a["hole"] * RAD and v.dust == eth_a["dust"] * RAD
    assert v.mat == int(exact(eth_a["mat"]) * RAY)
    assert v.chop == int(exact(setting("liq2.chop").value) * WAD)
    assert v.clip.buf == int(exact(setting("liq2.buf").value) * RAY)
    assert v.clip.tail == setting("liq2.tail").value
    assert v.clip.cusp == int(exact(setting("liq2.cusp").value) * RAY)
    assert v.clip.chip == int(exact(setting("liq2.chip").value) * WAD)
    assert v.clip.tip == setting("liq2.tip").value * RAD == 0
    calc = setting("liq2.calc")
    assert v.cut == int(exact(calc["cut"]) * RAY) and v.step == calc["step_seconds"]
    assert v.oracle_delay == setting("liq2.osm_hop").value
    assert v.eve_debt == setting("population_2021.eth_a_debt").value * WAD
    assert v.reserves_offset == setting("data.uniswap_reserves_2021_offset").value
    assert v.taker_capital == setting("keepers_2021.capital_dai_total").value
    assert (v.barkers, v.takers) == (
        setting("keepers_2021.kickers").value,
        setting("keepers_2021.takers").value,
    )
