"""Scenario variants (offchain/sim/scenario/load.py), what parameter sweeps build their runs from:
`load_scenario(overrides=...)` replaces keys of a scenario's tables and validates them exactly as
a file's, and `reseeded` gives a loaded scenario another seed, equal to loading it with that seed.
Also: a collateral override that switches the auction curve takes its own curve's parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.price_curves import CurveKind
from offchain.sim.scenario.load import ScenarioError, load_scenario, reseeded

PRICES = "data/market/eth_usd_2020-03-12.csv"
MINIMAL = f'[market]\nprices = "{PRICES}"\n[vaults]\ncount = 10\n'


def _write(tmp_path: Path, text: str, name: str = "scenario.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _error(spec: str, **kwargs) -> str:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(spec, **kwargs)
    assert "\n" not in str(exc.value)
    return str(exc.value)


def test_collateral_override__another_curve__takes_its_own_parameters(tmp_path):
    linear = _write(
        tmp_path,
        MINIMAL + '[protocol.collateral_overrides]\nauction_curve = "linear"\n'
        "auction_curve_duration = 10000\n",
    )
    assert load_scenario(linear).system.collateral[0].auction_curve == (
        CurveKind.LINEAR,
        10000,
        0,
        0,
    )
    missing = _write(
        tmp_path, MINIMAL + '[protocol.collateral_overrides]\nauction_curve = "linear"\n'
    )
    assert _error(missing).endswith("protocol.collateral_overrides.auction_curve_duration: missing")
    # the config's own curve (stairstep, 90 s steps of 0.99) keeps its parameters unless replaced
    same = _write(
        tmp_path, MINIMAL + '[protocol.collateral_overrides]\nauction_curve = "stairstep"\n'
    )
    assert load_scenario(same).system.collateral[0].auction_curve == (
        CurveKind.STAIRSTEP,
        0,
        90,
        99 * RAY // 100,
    )


def test_overrides__replace_keys_of_each_table():
    s = load_scenario(
        "black-thursday-2020",
        overrides={
            "protocol.collateral_overrides": {"liquidation_penalty": "1.2", "dust": "3000"},
            "backstop": {"insurance_fund": "0", "pool_stakers": 2},
            "keepers": {"taker_gas_gwei": 300},
            "market": {"pool_depth": "1_000_000"},
            "vaults": {"count": 30},
            "protocol": {"waterfall": ["redistribution"]},
        },
    )
    c = s.system.collateral[0]
    assert c.liquidation_penalty == 12 * WAD // 10 and c.dust == 3000 * RAD
    assert s.backstop.insurance_fund == 0 and s.backstop.pool_stakers == 2
    assert s.keepers.taker_gas_price == 300 * 10**9 and s.market.pool_depth == 10**6 * WAD
    assert s.vaults.count == 30 and s.system.waterfall.order == (4,)
    # the rest is the scenario's own
    base = load_scenario("black-thursday-2020")
    assert c.liquidation_ratio == base.system.collateral[0].liquidation_ratio
    assert s.keepers.liquidation_gas_price == base.keepers.liquidation_gas_price


def test_overrides__a_pool_depth_replaces_the_reserves_and_a_gas_price_the_gas_csv():
    s = load_scenario("may-2021", overrides={"market": {"pool_depth": "1_000_000", "gas_gwei": 70}})
    assert s.market.pool_depth == 10**6 * WAD
    assert s.market.gas is None and s.market.gas_price == 70 * 10**9


def test_overrides__validated_as_in_a_file__same_message(tmp_path):
    in_file = _write(
        tmp_path, MINIMAL + '[protocol.collateral_overrides]\nliquidation_penalty = "3"\n'
    )
    by_override = _error(
        _write(tmp_path, MINIMAL, "plain.toml"),
        overrides={"protocol.collateral_overrides": {"liquidation_penalty": "3"}},
    )
    assert by_override.replace("plain.toml", "scenario.toml") == _error(in_file)
    assert "liquidation_penalty: must be >= 1 and <= 2, got '3'" in by_override


def test_overrides__synthetic_keys_on_a_csv_path__refused():
    message = _error("black-thursday-2020", overrides={"market.synthetic": {"volatility": "1.5"}})
    assert "market.synthetic.volatility: applies only to a synthetic price path" in message


def test_overrides__synthetic_volatility__changes_the_path():
    calm = load_scenario("synthetic-crash", overrides={"market.synthetic": {"volatility": "0"}})
    wild = load_scenario("synthetic-crash", overrides={"market.synthetic": {"volatility": "3"}})
    assert calm.market.synthetic is not None and calm.market.synthetic.volatility == 0
    assert calm.market.prices.columns["close"] != wild.market.prices.columns["close"]


@pytest.mark.parametrize("name", ["black-thursday-2020", "synthetic-crash"])
def test_reseeded__equals_loading_with_that_seed(name):
    base = load_scenario(name, vaults=50)
    for seed in (0, 1, 2**64 - 1):
        assert reseeded(base, seed) == load_scenario(name, vaults=50, seed=seed)


def test_reseeded__a_seed_whose_population_breaks_the_ceiling__names_the_scenario():
    # the actors draw 12.1M; 200 vaults (~2.5M) fit a 14.6M ceiling at some seeds, not at others
    overrides = {
        "protocol.collateral_overrides": {
            "debt_ceiling": "14_600_000",
            "ceiling_max": "20_000_000",
        },
        "vaults": {"count": 200},
    }
    base = load_scenario("black-thursday-2020", overrides=overrides)
    outcomes = {}
    for seed in range(40):
        try:
            reseeded(base, seed)
            outcomes.setdefault("ok", seed)
        except ScenarioError as exc:
            outcomes.setdefault("error", str(exc))
    assert "ok" in outcomes and "error" in outcomes, outcomes
    assert outcomes["error"].startswith("black-thursday-2020: vaults: the population's debt")
    assert "exceeds ETH-A's debt ceiling" in outcomes["error"]
