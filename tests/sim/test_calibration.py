"""The market's calibration (data/market/calibration.toml) is the one home of every market
setting: the built-in scenarios' market keys equal its values (docs/market.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from offchain.model.fixed_point import WAD
from offchain.sim.market.calibration import setting
from offchain.sim.scenario.load import load_scenario
from offchain.system.schema import MARKET

DAYS = {
    "black-thursday-2020": "2020",
    "may-2021": "2021",
    "may-2021-two-types": "2021",
}
SHARE = {"2020": "venue.share_2020_03_12", "2021": "venue.share_2021_05_19"}
STABLE = {"2020": "stablecoin_2020.constant", "2021": "stablecoin_2021.price"}


def _wad(value) -> int:
    return int(Decimal(str(value)) * WAD)


@pytest.mark.parametrize("name", sorted(DAYS))
def test_builtin_market_keys__equal_the_calibration(name):
    year = DAYS[name]
    m = load_scenario(name).market
    assert m.outside == "open"
    assert m.venue is not None and m.blockspace is not None
    assert m.venue.share == _wad(setting(SHARE[year]).value)
    assert m.venue.coefficient == _wad(setting("impact.Y").value)
    assert m.venue.decay == setting("impact.decay_t0").value
    assert m.stable_price.at(0) == _wad(setting(STABLE[year]).value)
    assert m.blockspace.gas_limit == setting(f"block_{year}.gas_limit").value
    assert m.blockspace.block_time == Decimal(str(setting(f"block_{year}.block_time").value))
    assert m.blockspace.competing == Decimal(
        str(setting(f"block_{year}.competing_gas_share").value)
    )
    resale = (
        setting("keepers_2020.resale_hours").value
        if year == "2020"
        else setting("keepers_2021.capital_resale_hours").value
    )
    assert m.resale_delay == resale * 3600


def test_cascade__the_top_of_the_sourced_ranges():
    m = load_scenario("may-2021-cascade").market
    assert m.venue is not None
    assert m.venue.share == _wad(setting("venue.share_2021_05_19").sensitivity[1])
    assert m.venue.coefficient == _wad(setting("impact.Y").sensitivity[1])


def test_schema_defaults__the_calibrations_for_a_users_file():
    assert Decimal(MARKET["impact_coefficient"].default) == Decimal(str(setting("impact.Y").value))
    assert Decimal(MARKET["venue_share"].default) == Decimal(
        str(setting("venue.share_2021_05_19").value)
    )
    assert MARKET["impact_decay"].default == setting("impact.decay_t0").value
    assert (
        MARKET["resale_delay"].default == setting("keepers_2021.capital_resale_hours").value * 3600
    )


def test_setting__an_absent_entry_is_named():
    with pytest.raises(KeyError, match="impact.nothing"):
        setting("impact.nothing")
