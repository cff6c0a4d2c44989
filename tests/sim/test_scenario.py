"""Crash-replay scenarios (offchain/sim/scenario/load.py) and their vault populations
(offchain/sim/scenario/population.py): the built-ins load, files and overrides mean what they say,
populations
are reproducible per seed and start where the spec puts them, and every kind of bad input gives
one line naming the file, the field and the problem. Pure Python: no chain involved."""

from __future__ import annotations

import dataclasses
import re
import shutil
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from eth_utils import is_checksum_address, keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.scenario.ceilings import split_population
from offchain.sim.scenario.load import MAX_VAULTS, ScenarioError, builtin_scenarios, load_scenario
from offchain.sim.scenario.population import actor_address, generate_vaults
from offchain.sim.scenario.types import PopulationSpec
from offchain.system.config import LAYERS

ROOT = Path(__file__).resolve().parents[2]
MARKET = ROOT / "data" / "market"
PRICES = "data/market/eth_usd_2020-03-12.csv"  # project-root relative, as in the built-ins
MINIMAL = f'[market]\nprices = "{PRICES}"\n'
PRICES_2021 = "data/market/eth_usd_2021-05-19.csv"


def _write(tmp_path: Path, text: str, name: str = "scenario.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _error(spec: str, **overrides) -> str:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(spec, **overrides)
    message = str(exc.value)
    assert "\n" not in message, message
    return message


# --- built-ins, files and overrides ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name, first_close, gas_file",
    [
        ("black-thursday-2020", 19452 * WAD // 100, True),
        ("may-2021", 342399 * WAD // 100, True),
        ("synthetic-crash", 2000 * WAD, False),
    ],
)
def test_builtin__loads__144_bars_first_price_is_the_initial_price(name, first_close, gas_file):
    s = load_scenario(name)
    assert s.name == name and s.description
    closes = s.market.prices.columns["close"]
    assert len(s.market.prices) == 144
    assert closes[0] == first_close
    assert (s.market.gas is not None) == gas_file
    assert s.vaults.count == 1000
    (eth,) = s.system.collateral
    assert eth.name == "ETH-A" and eth.initial_price == first_close
    assert eth.pool_depth == s.market.pool_depth
    assert s.system.waterfall.order == (1, 2, 3, 4)
    assert min(closes) < closes[0] * 6 // 10  # each one is a crash


def test_builtins__are_the_five_shipped_files():
    assert builtin_scenarios() == (
        "black-thursday-2020",
        "may-2021",
        "may-2021-cascade",
        "may-2021-two-types",
        "synthetic-crash",
    )


def test_builtin_black_thursday__takers_bid_below_the_liquidators():
    s = load_scenario("black-thursday-2020")
    assert s.keepers.taker_gas_price == 100 * 10**9
    assert s.keepers.liquidation_gas_price == 150 * 10**9
    assert s.keepers.taker_mode == "both" and s.keepers.taker_capital == 6_000_000 * WAD
    assert s.market.pool_depth == 3_000_000 * WAD
    assert s.seed == 20200312


def test_builtin_may_2021__pool_depth_is_the_scaled_first_dai_reserve():
    s = load_scenario("may-2021")
    assert (
        s.market.pool_depth == 67923883_6628 * WAD // 10**4 * 4 // 100
    )  # 67,923,883.6628 x 0.04, exactly
    assert s.keepers.taker_gas_price == 150 * 10**9


def test_bare_csv__loads_with_the_defaults_named_after_the_file():
    """--lineup defaults: the schema's keepers and no block limit (the built-in day's lineup is
    tests/sim/test_day_lineup.py's); the pool a share of the venue's volume a day."""
    s = load_scenario(str(MARKET / "eth_usd_2021-05-19.csv"), lineup="defaults")
    assert s.name == "eth_usd_2021-05-19"
    assert s.seed == 0
    assert s.market.gas is None and s.market.gas_price == 30 * 10**9
    assert s.market.tail_bars == 36 and s.market.blockspace is None
    assert s.market.pool_share_of_venue == Decimal("0.00013") and s.lineup_lines == ()
    assert s.vaults == PopulationSpec(
        count=200,
        debt_median=8000 * WAD,
        debt_sigma=0.9,
        ratio_min=1.6,
        ratio_mode=2.0,
        ratio_max=4.0,
    )
    assert s.keepers.taker_mode == "flash" and s.keepers.arbitrage_threshold == 5 * WAD // 1000
    assert s.backstop.pool_stakers == 4 and s.backstop.pool_stake == 250_000 * WAD
    assert s.system.collateral[0].name == "ETH-A"


def test_bare_csv__relative_path__resolved_from_the_working_directory(monkeypatch):
    monkeypatch.chdir(MARKET)
    assert len(load_scenario("eth_usd_2020-03-12.csv").market.prices) == 144


FULL_TOML = f"""
[scenario]
name = "full"
description = "every table"
seed = 42

[market]
prices = "{PRICES_2021}"  # the reserves' day: companions are of the price file's day
gas = "data/market/gas_2021-05-19.csv"
reserves = "data/market/uniswap_eth_dai_reserves_2021-05-19.csv"
reserves_scale = "0.01"
tail_bars = 10

[vaults]
count = 50
debt_median = "5_000"
debt_sigma = "0.5"
ratio_min = 1.7
ratio_mode = "2.5"
ratio_max = "3"

[keepers]
liquidation_gas_gwei = "80.5"
taker_gas_gwei = 70
backstop_gas_gwei = 90
taker_mode = "capital"
taker_capital = "300_000"
take_min_profit = "10"
arbitrageur_capital = 1000000
arbitrage_threshold = "0.01"
debt_auction_capital = "0"

[backstop]
insurance_fund = "50_000"
pool_stakers = 2
pool_stake = "100_000"

[protocol]
config = "config/devnet.toml"
collateral = "ETH-A"
waterfall = ["stability_pool", "fund"]

[protocol.collateral_overrides]
liquidation_ratio = "1.6"
"""

FULL_YAML = f"""
scenario:
  name: full
  description: every table
  seed: 42
market:
  prices: {PRICES_2021}
  gas: data/market/gas_2021-05-19.csv
  reserves: data/market/uniswap_eth_dai_reserves_2021-05-19.csv
  reserves_scale: "0.01"
  tail_bars: 10
vaults:
  count: 50
  debt_median: 5_000
  debt_sigma: 0.5
  ratio_min: 1.7
  ratio_mode: "2.5"
  ratio_max: 3
keepers:
  liquidation_gas_gwei: "80.5"
  taker_gas_gwei: 70
  backstop_gas_gwei: 90
  taker_mode: capital
  taker_capital: "300_000"
  take_min_profit: 10
  arbitrageur_capital: 1000000
  arbitrage_threshold: 0.01
  debt_auction_capital: "0"
backstop:
  insurance_fund: "50_000"
  pool_stakers: 2
  pool_stake: 100_000
protocol:
  config: config/devnet.toml
  collateral: ETH-A
  waterfall: [stability_pool, fund]
  collateral_overrides:
    liquidation_ratio: "1.6"
"""


def test_scenario_file__every_table__converts_exactly(tmp_path):
    s = load_scenario(_write(tmp_path, FULL_TOML))
    assert (s.name, s.description, s.seed) == ("full", "every table", 42)
    assert s.market.pool_depth == 679238836628 * WAD // 10**6  # 67,923,883.6628 x 0.01
    assert s.market.tail_bars == 10 and s.market.gas is not None
    assert s.vaults == PopulationSpec(
        count=50,
        debt_median=5000 * WAD,
        debt_sigma=0.5,
        ratio_min=1.7,
        ratio_mode=2.5,
        ratio_max=3.0,
    )
    assert s.keepers.liquidation_gas_price == 80_500_000_000
    assert s.keepers.taker_mode == "capital" and s.keepers.taker_capital == 300_000 * WAD
    assert s.keepers.arbitrage_threshold == WAD // 100 and s.keepers.debt_auction_capital == 0
    assert s.backstop.insurance_fund == 50_000 * WAD and s.backstop.pool_stakers == 2
    assert s.system.waterfall.order == (LAYERS["stability_pool"], LAYERS["fund"])
    assert s.system.collateral[0].liquidation_ratio == 16 * RAY // 10


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_yaml_file__equals_its_toml_equivalent(tmp_path, suffix):
    from_toml = load_scenario(_write(tmp_path, FULL_TOML))
    from_yaml = load_scenario(_write(tmp_path, FULL_YAML, f"scenario{suffix}"))
    assert from_yaml == from_toml


def test_scenario_file__paths_resolve_next_to_the_file_first(tmp_path):
    (tmp_path / "data" / "market").mkdir(parents=True)
    shutil.copy(MARKET / "eth_usd_2021-05-19.csv", tmp_path / PRICES)  # shadows the shared file
    s = load_scenario(_write(tmp_path, MINIMAL))
    assert s.market.prices.source == str(tmp_path / PRICES)
    assert s.market.prices.columns["close"][0] == 342399 * WAD // 100


def test_scenario_file__defaults_name_after_the_file(tmp_path):
    s = load_scenario(_write(tmp_path, MINIMAL, "my-crash.toml"))
    assert s.name == "my-crash" and s.seed == 0 and s.vaults.count == 200


def test_overrides__vaults_seed_waterfall__replace_the_file():
    s = load_scenario("black-thursday-2020", vaults=10, seed=5, waterfall=("debt_auction", "fund"))
    assert s.vaults.count == 10 and s.seed == 5
    assert s.system.waterfall.order == (LAYERS["debt_auction"], LAYERS["fund"])
    assert load_scenario("black-thursday-2020", waterfall=()).system.waterfall.order == ()


def test_overrides__seed__changes_the_synthetic_path():
    a, b = load_scenario("synthetic-crash"), load_scenario("synthetic-crash", seed=8)
    assert a.market.prices.columns["close"] != b.market.prices.columns["close"]
    assert load_scenario("synthetic-crash").market.prices == a.market.prices


def test_collateral__other_type_of_the_config__is_the_one_priced(tmp_path):
    s = load_scenario(_write(tmp_path, MINIMAL + '[protocol]\ncollateral = "WBTC-A"\n'))
    (wbtc,) = s.system.collateral
    assert wbtc.name == "WBTC-A" and wbtc.token_decimals == 8
    assert wbtc.initial_price == 19452 * WAD // 100


# --- populations ----------------------------------------------------------------------------------

SPEC = PopulationSpec(
    count=300, debt_median=8000 * WAD, debt_sigma=0.9, ratio_min=1.6, ratio_mode=2.0, ratio_max=4.0
)


def test_actor_address__deterministic_checksummed_distinct():
    assert actor_address("vault", 3) == actor_address("vault", 3)
    assert is_checksum_address(actor_address("vault", 3))
    assert len({actor_address("vault", 0), actor_address("vault", 1), actor_address("taker")}) == 3
    assert actor_address("taker") == actor_address("taker", 0)


@settings(max_examples=300, deadline=None)
@given(role=st.text(min_size=1, max_size=20), index=st.integers(0, 10**9))
def test_actor_address__equals_eth_utils_keccak_and_checksum(role, index):
    # the population hashes with safe-pysha3 and checksums by hand; eth_utils is the reference
    expected = to_checksum_address(keccak(text=f"backstop-sim/{role}/{index}")[12:])
    assert actor_address(role, index) == expected


def _total(s) -> int:
    """The vaults of every collateral type of scenario `s`."""
    return s.vaults.count + sum(t.vaults.count for t in s.types)


@pytest.mark.parametrize("name", builtin_scenarios())
def test_vaults_above_the_scenarios_count__ceilings_scale_with_it(name):
    """`--vaults 5000` (the README's example) loads on every built-in scenario: the ceilings the
    scenario set for its own population (1,000 vaults; 1,400 over two types) grow by the same
    factor, rounded up; a smaller population keeps them. --vaults counts every type's vaults."""
    own = load_scenario(name)
    n = _total(own)
    big = load_scenario(name, vaults=5 * n)
    assert _total(big) == 5 * n and big.ceiling_scale == (5 * n, n)
    for c, b in zip(own.system.collateral, big.system.collateral, strict=True):
        # each type's population grew about five times (exactly, with one type)
        assert b.debt_ceiling >= 4 * c.debt_ceiling and b.ceiling_max >= 4 * c.ceiling_max
        assert (b.ceiling_gap, b.dust, b.liquidation_ratio) == (
            c.ceiling_gap,
            c.dust,
            c.liquidation_ratio,
        )
    c, b = own.system.collateral[0], big.system.collateral[0]
    if not own.types:
        assert (b.debt_ceiling, b.ceiling_max) == (5 * c.debt_ceiling, 5 * c.ceiling_max)
    assert big.system.global_debt_ceiling == 5 * own.system.global_debt_ceiling
    largest = load_scenario(name, vaults=MAX_VAULTS)  # the model runs it (docs/simulation.md)
    assert _total(largest) == MAX_VAULTS
    assert largest.ceiling_scale == (MAX_VAULTS, n)
    small = load_scenario(name, vaults=n // 2)
    assert small.ceiling_scale is None and small.system == own.system
    odd = load_scenario(name, vaults=n + 1)  # one more vault, for the first type
    assert odd.vaults.count == own.vaults.count + 1
    assert odd.system.collateral[0].debt_ceiling == -(
        -c.debt_ceiling * (own.vaults.count + 1) // own.vaults.count
    )


@pytest.mark.parametrize("name", builtin_scenarios())
def test_vaults_above_the_scenarios_count__caps_and_keepers_follow__the_market_does_not(name):
    """Issue 46, item 6 (scenario/ceilings.py's rule): at 10 times the scenario's population
    the auction caps (each type's, and the debt in auction over all) and the keepers' capital and
    gas budgets grow by the population's ratio, rounded up; the market's depth (each pool, the
    external impact depth, the arbitrageur's capital) stays, unless `market.depth_with_vaults =
    "scaled"`. At the scenario's own count nothing moves."""
    own = load_scenario(name)
    n = _total(own)
    big = load_scenario(name, vaults=10 * n)
    s, b = own.system, big.system
    assert b.max_debt_in_auction == 10 * s.max_debt_in_auction
    counts = [
        (x.vaults.count, y.vaults.count)
        for x, y in zip([own, *own.types], [big, *big.types], strict=True)
    ]
    for c, d, (f, m) in zip(s.collateral, b.collateral, counts, strict=True):
        assert d.auction_cap == -(-c.auction_cap * m // f)  # each type by its own growth
    k, kb = own.keepers, big.keepers
    for field in (
        "taker_capital",
        "debt_auction_capital",
        "soft_liquidation_capital",
        "liquidation_gas_budget",
        "taker_gas_budget",
        "backstop_gas_budget",
        "soft_liquidation_gas_budget",
    ):
        assert getattr(kb, field) == 10 * getattr(k, field), field
    assert kb.arbitrageur_capital == k.arbitrageur_capital
    assert big.market.pool_depth == own.market.pool_depth
    assert big.market.impact_depth == own.market.impact_depth
    assert [t.pool_depth for t in big.types] == [t.pool_depth for t in own.types]
    deep = load_scenario(name, vaults=10 * n, overrides={"market": {"depth_with_vaults": "scaled"}})
    assert deep.keepers.arbitrageur_capital == 10 * k.arbitrageur_capital
    assert deep.market.pool_depth == -(
        -own.market.pool_depth * deep.vaults.count // own.vaults.count
    )
    assert deep.market.impact_depth >= 9 * own.market.impact_depth
    for t, u in zip(own.types, deep.types, strict=True):
        assert u.pool_depth == -(-t.pool_depth * u.vaults.count // t.vaults.count)
    same = load_scenario(name, vaults=n, overrides={"market": {"depth_with_vaults": "scaled"}})
    assert (same.system, same.keepers, same.market.pool_depth) == (
        own.system,
        own.keepers,
        own.market.pool_depth,
    )


def test_depth_with_vaults__not_a_choice__one_line_naming_the_key():
    with pytest.raises(ScenarioError, match=r"market\.depth_with_vaults.*'wide'") as exc:
        load_scenario("black-thursday-2020", overrides={"market": {"depth_with_vaults": "wide"}})
    assert "\n" not in str(exc.value)


def test_vaults_over_two_types__split_in_the_scenarios_proportions__each_ceiling_its_own():
    """may-2021-two-types has 1,000 ETH-A and 400 WBTC-A vaults: `--vaults N` gives WBTC-A
    floor(N x 400 / 1,400) and ETH-A the rest; each type's ceiling scales with its own
    population and the global one with the total. Fewer vaults than types is one line."""
    own = load_scenario("may-2021-two-types")
    s = load_scenario("may-2021-two-types", vaults=100_000)
    assert (s.vaults.count, s.types[0].vaults.count) == (71_429, 28_571)
    for c, b, n, f in zip(
        own.system.collateral, s.system.collateral, (71_429, 28_571), (1_000, 400), strict=True
    ):
        assert b.debt_ceiling == -(-c.debt_ceiling * n // f)
    assert s.system.global_debt_ceiling == -(-own.system.global_debt_ceiling * 100_000 // 1_400)
    assert split_population(7, [1_000, 400]) == [5, 2]
    assert split_population(2, [1_000, 400]) == [1, 1]
    with pytest.raises(ScenarioError, match=r"^--vaults: 1 is fewer than one vault per collateral"):
        load_scenario("may-2021-two-types", vaults=1)
    # a count a sweep's grid sets stays as set; --vaults is then the other types' population
    assert split_population(700, [1_000, 400], [False, True]) == [700, 400]
    fixed = load_scenario(
        "may-2021-two-types", vaults=700, overrides={"types.WBTC-A": {"count": 50}}
    )
    assert (fixed.vaults.count, fixed.types[0].vaults.count) == (700, 50)
    with pytest.raises(ScenarioError, match=r"^--vaults: the grid sets every collateral type's"):
        load_scenario("black-thursday-2020", vaults=500, overrides={"vaults": {"count": 300}})


def test_generate_vaults__same_seed_same_plans__other_seed_differs():
    a = generate_vaults(SPEC, 1, 2000 * WAD, 18, 100 * RAD)
    assert a == generate_vaults(SPEC, 1, 2000 * WAD, 18, 100 * RAD)
    b = generate_vaults(SPEC, 2, 2000 * WAD, 18, 100 * RAD)
    assert [p.debt for p in a] != [p.debt for p in b]
    assert (
        [p.owner for p in a]
        == [actor_address("vault", i) for i in range(300)]
        == [p.owner for p in b]
    )


@pytest.mark.parametrize(
    "decimals, price", [(18, 19452 * WAD // 100), (8, 30_000 * WAD), (0, 2000 * WAD)]
)
def test_generate_vaults__start_ratio_within_bounds__debt_whole_and_above_dust(decimals, price):
    dust = 100 * RAD
    scale = 10 ** (18 - decimals)
    for plan in generate_vaults(SPEC, 7, price, decimals, dust):
        assert plan.debt % WAD == 0 and plan.debt * RAY > dust
        assert plan.collateral % scale == 0 and plan.collateral > 0
        # collateral is rounded down to whole token units: the ratio is at most ratio_max, and one
        # more unit would reach ratio_min
        assert Fraction(plan.collateral * price, plan.debt * WAD) <= Fraction(SPEC.ratio_max)
        if decimals:
            assert Fraction((plan.collateral + scale) * price, plan.debt * WAD) > Fraction(
                SPEC.ratio_min
            )


def test_generate_vaults__log_normal_debt_around_the_median():
    debts = sorted(
        p.debt for p in generate_vaults(dataclasses.replace(SPEC, count=2000), 3, 2000 * WAD, 18, 0)
    )
    median = debts[len(debts) // 2]
    assert 7000 * WAD < median < 9000 * WAD


def test_generate_vaults__tiny_debts__raised_above_the_dust():
    spec = dataclasses.replace(SPEC, debt_median=150 * WAD, debt_sigma=3.0)
    debts = [p.debt for p in generate_vaults(spec, 1, 2000 * WAD, 18, 100 * RAD + 1)]
    assert min(debts) == 101 * WAD


def test_scenario_population__debts_and_ratios_as_loaded():
    s = load_scenario("black-thursday-2020")
    eth = s.system.collateral[0]
    plans = generate_vaults(s.vaults, s.seed, eth.initial_price, eth.token_decimals, eth.dust)
    assert len(plans) == 1000
    assert all(p.debt * RAY > eth.dust for p in plans)
    assert all(
        p.collateral * eth.initial_price * RAY >= p.debt * WAD * eth.liquidation_ratio
        for p in plans
    )


# --- bad inputs: one line naming the file, the field and the problem
# --------------------------------


def test_unknown_scenario__lists_the_builtins():
    message = _error("foo")
    assert message == (
        "unknown scenario 'foo' (built-in: black-thursday-2020, may-2021, may-2021-cascade, "
        "may-2021-two-types, synthetic-crash; "
        "or a .toml/.yaml/.yml scenario file or a .csv price file)"
    )


@pytest.mark.parametrize("name", ["nope.toml", "nope.yaml", "nope.csv"])
def test_missing_scenario_file__names_it(tmp_path, name):
    assert _error(str(tmp_path / name)) == f"{tmp_path / name}: no such file"


def test_other_extension__not_a_scenario(tmp_path):
    assert "notes.txt: not a scenario (expected a .toml/.yaml/.yml" in _error(
        _write(tmp_path, MINIMAL, "notes.txt")
    )


def test_invalid_toml__one_line(tmp_path):
    assert "scenario.toml: not valid TOML (" in _error(_write(tmp_path, "[market\nprices = 1\n"))


def test_invalid_yaml__one_line_with_the_position(tmp_path):
    message = _error(_write(tmp_path, "market:\n  prices: [a\n  gas: b\n", "scenario.yaml"))
    assert "scenario.yaml: not valid YAML (line " in message


def test_yaml_not_a_mapping__rejected(tmp_path):
    assert "scenario.yml: must be a mapping of tables, got list" in _error(
        _write(tmp_path, "- a\n", "scenario.yml")
    )


def _bad(tmp_path: Path, text: str) -> str:
    return _error(_write(tmp_path, text))


BAD_FILES = [
    (
        MINIMAL + "[vault]\ncount = 3\n",
        "scenario.toml: unknown table 'vault' (tables: scenario, market, vaults",
    ),
    (MINIMAL + "[vaults]\ncolour = 3\n", "scenario.toml: vaults: unknown key 'colour'"),
    (MINIMAL + "tail_bar = 3\n", "scenario.toml: market: unknown key 'tail_bar'"),
    (
        MINIMAL + "[market.synthetic]\nstart_price = 1\nsteps = 10\n",
        "scenario.toml: market.prices: give a price CSV or a [market.synthetic] table, not both",
    ),
    (
        "[vaults]\ncount = 3\n",
        "scenario.toml: market.prices: missing (a price CSV, or a [market.synthetic] table)",
    ),
    # an empty file was named by its first missing key (issue 65)
    ("", "scenario.toml: empty file (a scenario gives at least its prices: [market] prices ="),
    ("# to do\n\n", "scenario.toml: empty file (a scenario gives at least its prices"),
    (
        MINIMAL + 'gas = "data/market/gas_2020-03-12.csv"\ngas_gwei = 50\n',
        "scenario.toml: market.gas_gwei: give a gas CSV (market.gas) or a constant gas_gwei, not "
        "both",
    ),
    (
        MINIMAL
        + 'pool_depth = 5\nreserves = "data/market/uniswap_eth_dai_reserves_2021-05-19.csv"\n',
        "scenario.toml: market.reserves: give a pool_depth or a reserves CSV, not both",
    ),
    (
        MINIMAL + 'reserves_scale = "0.1"\n',
        "scenario.toml: market.reserves_scale: applies only with market.reserves",
    ),
    (MINIMAL + "prices2 = 1\n", "scenario.toml: market: unknown key 'prices2'"),
    (
        '[market]\nprices = "nope.csv"\n',
        "scenario.toml: market.prices: file 'nope.csv' not found (looked in",
    ),
    (MINIMAL + "pool_depth = 0\n", "scenario.toml: market.pool_depth: must be > 0"),
    (
        MINIMAL + "tail_bars = 1001\n",
        "scenario.toml: market.tail_bars: must be an integer between 0 and 1000",
    ),
    (MINIMAL + "gas_gwei = -1\n", "scenario.toml: market.gas_gwei: must be >= 0"),
    (
        MINIMAL + "drain_bars = 10001\n",
        "scenario.toml: market.drain_bars: must be an integer between 0 and 10000",
    ),
    (
        # read as infinity by TOML, reported as "got inf" before (issue 34)
        MINIMAL + "drain_bars = 1e400\n",
        "scenario.toml: market.drain_bars = 1e400 is out of range (too large to be a number)",
    ),
    (
        "[market.synthetic]\nstart_price = 100\nsteps = 1\n",
        "scenario.toml: market.synthetic.steps: must be an integer between 2 and 100000, got 1",
    ),
    (
        "[market.synthetic]\nstart_price = 100\nsteps = 10\nvolatility = -1\n",
        "scenario.toml: market.synthetic.volatility: must be >= 0 and <= 100, got -1",
    ),
    (
        "[market.synthetic]\nstart_price = 100\nsteps = 400\ndrift = 100\nvolatility = "
        "0\nstep_seconds = 86400\n"
        "jumps_per_day = 0\n",
        "scenario.toml: market.synthetic: synthetic path: the price exceeds 1,000,000,000,000",
    ),
    ("[market.synthetic]\nsteps = 10\n", "scenario.toml: market.synthetic.start_price: missing"),
    (
        MINIMAL + "[vaults]\ncount = 0\n",
        "scenario.toml: vaults.count: must be an integer between 1 and 100000, got 0",
    ),
    (
        MINIMAL + "[vaults]\ncount = 100001\n",
        "scenario.toml: vaults.count: must be an integer between 1 and 100000",
    ),
    (
        MINIMAL + '[vaults]\ndebt_median = "2500"\n',
        "scenario.toml: vaults.debt_median: 2,500 must be above ETH-A's dust 2,500",
    ),
    (
        MINIMAL + '[vaults]\nratio_min = "1.4"\n',
        "scenario.toml: vaults.ratio_min: 1.4 must be above ETH-A's liquidation ratio 1.5",
    ),
    (
        MINIMAL + '[vaults]\nratio_min = "1.5"\n',
        "scenario.toml: vaults.ratio_min: 1.5 must be above ETH-A's liquidation ratio 1.5",
    ),
    (
        MINIMAL + '[vaults]\nratio_min = "2.5"\n',
        "scenario.toml: vaults.ratio_min: 2.5 must not exceed ratio_mode 2.0",
    ),
    (
        MINIMAL + '[vaults]\nratio_max = "1.8"\n',
        "scenario.toml: vaults.ratio_max: 1.8 must not be below ratio_mode 2.0",
    ),
    (MINIMAL + '[vaults]\nratio_max = "nan"\n', "scenario.toml: vaults.ratio_max: must be finite"),
    (
        MINIMAL + '[vaults]\ndebt_sigma = "inf"\n',
        "scenario.toml: vaults.debt_sigma: must be finite",
    ),
    (
        MINIMAL + '[keepers]\ntaker_mode = "loan"\n',
        "scenario.toml: keepers.taker_mode: must be one of flash, capital, both, got 'loan'",
    ),
    (
        MINIMAL + '[keepers]\ntaker_mode = "capital"\n',
        'scenario.toml: keepers.taker_capital: must be > 0 when taker_mode = "capital"',
    ),
    (
        MINIMAL + '[keepers]\narbitrage_threshold = "1"\n',
        "scenario.toml: keepers.arbitrage_threshold: must be below 1",
    ),
    (
        MINIMAL + '[keepers]\narbitrage_threshold = "-0.1"\n',
        "scenario.toml: keepers.arbitrage_threshold: must be >= 0 and <= 1",
    ),
    (
        MINIMAL + "[keepers]\ntaker_gas_gwei = 0\n",
        "scenario.toml: keepers.taker_gas_gwei: must be > 0",
    ),
    (
        MINIMAL + "[backstop]\npool_stakers = 51\n",
        "scenario.toml: backstop.pool_stakers: must be an integer between 0 and 50",
    ),
    (
        MINIMAL + '[backstop]\ninsurance_fund = "1e-19"\n',
        "scenario.toml: backstop.insurance_fund: has more precision than the unit allows",
    ),
    (MINIMAL + "vaults = 3\n", "scenario.toml: market: unknown key 'vaults'"),
    ("vaults = 3\n" + MINIMAL, "scenario.toml: vaults: must be a table"),
    (
        MINIMAL + "[scenario]\nseed = -1\n",
        "scenario.toml: scenario.seed: must be an integer between 0 and",
    ),
    (
        MINIMAL + '[scenario]\nname = ""\n',
        "scenario.toml: scenario.name: must be a non-empty string",
    ),
    (
        MINIMAL + '[protocol]\ncollateral = "DOGE-A"\n',
        "scenario.toml: protocol.collateral: unknown collateral type 'DOGE-A' (types in ",
    ),
    (
        MINIMAL + '[protocol]\nwaterfall = ["fund", "insurance"]\n',
        "scenario.toml: protocol.waterfall: unknown layer 'insurance' (layers: fund, "
        "stability_pool",
    ),
    (
        MINIMAL + '[protocol]\nwaterfall = ["fund", "fund"]\n',
        "scenario.toml: protocol.waterfall: layer 'fund' appears twice",
    ),
    (
        MINIMAL + '[protocol]\nwaterfall = "fund"\n',
        "scenario.toml: protocol.waterfall: must be a list of up to 5",
    ),
    (
        MINIMAL + '[protocol]\nconfig = "nope.toml"\n',
        "scenario.toml: protocol.config: file 'nope.toml' not found",
    ),
    (
        MINIMAL + '[protocol.collateral_overrides]\nliquidation_ratio = "0.9"\n',
        "scenario.toml: protocol.collateral_overrides.liquidation_ratio: must be >= 1",
    ),
    (
        MINIMAL + '[protocol.collateral_overrides]\ncolour = "red"\n',
        "scenario.toml: protocol.collateral_overrides: unknown key 'colour'",
    ),
    (
        MINIMAL + '[protocol.collateral_overrides]\ninitial_price = "100"\n',
        "scenario.toml: protocol.collateral_overrides.initial_price: is set by the scenario's "
        "market.prices",
    ),
    (
        MINIMAL + '[protocol.collateral_overrides]\npool_depth = "100"\n',
        "scenario.toml: protocol.collateral_overrides.pool_depth: is set by the scenario's "
        "market.pool_depth",
    ),
    (
        MINIMAL + '[protocol.collateral_overrides]\nliquidation_ratio = "1.7"\n',
        "scenario.toml: vaults.ratio_min: 1.6 must be above ETH-A's liquidation ratio 1.7",
    ),
]


@pytest.mark.parametrize(
    "text, problem", BAD_FILES, ids=[p.removeprefix("scenario.toml: ")[:70] for _, p in BAD_FILES]
)
def test_bad_scenario_file__one_line_naming_the_field(tmp_path, text, problem):
    message = _bad(tmp_path, text)
    assert problem in message, message
    assert message.startswith(str(tmp_path / "scenario.toml"))


def test_rounding_collateral_down__leaves_a_vault_unsafe__rejected(tmp_path):
    # whole tokens only (0 decimals) at 194.52: ~8000 of debt gets ~61 tokens, far below 1.5000001
    text = (
        MINIMAL
        + '[vaults]\nratio_min = "1.5000001"\n[protocol.collateral_overrides]\ntoken_decimals = 0\n'
    )
    message = _bad(tmp_path, text)
    assert re.search(
        r"scenario\.toml: vaults\.ratio_min: vault \d+ starts unsafe "
        r"once its collateral is rounded down",
        message,
    ), message


def test_population_above_the_type_debt_ceiling__names_the_totals(tmp_path):
    message = _bad(tmp_path, MINIMAL + "[vaults]\ncount = 5000\n")
    assert "scenario.toml: vaults: the population's debt " in message
    # the draws: half the arbitrageur's 2M, the bidder's 500k, the fund's 100k, the stakes' 1M and
    # the pool's seed, a share of the venue's volume a day (no pool_depth: 217,253.925... here)
    assert "plus the actors' draws 2,817,253.92501512024 = " in message
    assert "exceeds ETH-A's debt ceiling 20,000,000; lower vaults.count" in message
    assert "protocol.collateral_overrides.debt_ceiling" in message


def test_population_above_the_global_debt_ceiling__names_the_totals(tmp_path):
    text = (
        MINIMAL + "[vaults]\ncount = 5000\n[protocol.collateral_overrides]\n"
        'debt_ceiling = "100_000_000"\nceiling_max = "100_000_000"\n'
    )
    message = _bad(tmp_path, text)
    assert "exceeds the global debt ceiling 50,000,000; lower vaults.count" in message
    assert "system.global_debt_ceiling" in message


def test_actors_draws_alone_above_the_ceiling__rejected(tmp_path):
    message = _bad(tmp_path, MINIMAL + '[backstop]\npool_stakers = 50\npool_stake = "1_000_000"\n')
    assert (
        "plus the actors' draws 51,817,253.92501512024 = " in message
        and "exceeds ETH-A's debt ceiling" in message
    )


def test_cli_vaults_above_the_ceiling__says_to_lower_vaults_flag():
    # fewer vaults than the scenario's keep its ceilings; here one too low for them
    low = {"protocol.collateral_overrides": {"debt_ceiling": "10_000_000"}}
    assert "exceeds ETH-A's debt ceiling 10,000,000; lower --vaults," in _error(
        "black-thursday-2020", vaults=500, overrides=low
    )


@pytest.mark.parametrize(
    "overrides, problem",
    [
        ({"vaults": 0}, "--vaults: must be an integer between 1 and 100000, got 0"),
        ({"vaults": 100_001}, "--vaults: must be an integer between 1 and 100000, got 100001"),
        ({"seed": -1}, "--seed: must be an integer between 0 and"),
        ({"waterfall": ("fund", "insurance")}, "--waterfall: unknown layer 'insurance'"),
        ({"waterfall": ("fund", "fund")}, "--waterfall: layer 'fund' appears twice"),
    ],
)
def test_bad_cli_override__one_line_naming_the_flag(overrides, problem):
    assert problem in _error("black-thursday-2020", **overrides)


def test_bad_base_config__config_error_text_passes_through(tmp_path):
    devnet = (ROOT / "config" / "devnet.toml").read_text()
    config = devnet.replace('dust = "2_500"', 'dust = "-1"', 1)
    (tmp_path / "base.toml").write_text(config)
    message = _bad(tmp_path, MINIMAL + '[protocol]\nconfig = "base.toml"\n')
    assert message == (
        f"{tmp_path / 'base.toml'}: collateral[0].dust: must be >= 0 and <= 1000000000000000, "
        "got '-1'"
    )


HEADER = "time_utc,open,close\n"


@pytest.mark.parametrize(
    "content, problem",
    [
        ("time_utc,open\n2020-03-12T00:00:00Z,1\n2020-03-12T00:10:00Z,1\n", "missing column close"),
        (HEADER + "2020-03-12T00:00:00Z,1,NaN\n2020-03-12T00:10:00Z,1,2\n", ":2: close is NaN"),
        (
            HEADER + "2020-03-12T00:00:00Z,1,0\n2020-03-12T00:10:00Z,1,2\n",
            ":2: close must be positive, got 0",
        ),
        (
            HEADER + "2020-03-12T00:00:00Z,1,-3\n2020-03-12T00:10:00Z,1,2\n",
            ":2: close must be positive, got -3",
        ),
        (
            HEADER + "2020-03-12T00:10:00Z,1,2\n2020-03-12T00:00:00Z,1,2\n",
            ":3: time 2020-03-12T00:00:00Z is not after",
        ),
        (HEADER + "2020-03-12T00:00:00Z,1,2\n", "needs at least 2 rows of data, has 1"),
    ],
    ids=["missing-column", "nan", "zero", "negative", "unsorted", "one-bar"],
)
def test_bad_price_csv__loader_text_passes_through(tmp_path, content, problem):
    csv_path = tmp_path / "prices.csv"
    csv_path.write_text(content)
    bare = _error(str(csv_path))  # a bare CSV: the loader's own line
    assert bare.startswith(f"{csv_path}") and problem in bare, bare
    in_file = _bad(
        tmp_path, '[market]\nprices = "prices.csv"\n'
    )  # from a scenario file: prefixed with the field
    assert (
        in_file.startswith(f"{tmp_path / 'scenario.toml'}: market.prices: {csv_path}")
        and problem in in_file
    )


def test_bad_gas_and_reserves_csv__loader_text_passes_through(tmp_path):
    (tmp_path / "gas.csv").write_text("time_utc,p30_gwei,p60_gwei\n2020-03-12T00:00:00Z,1,2\n")
    message = _bad(tmp_path, MINIMAL + 'gas = "gas.csv"\n')
    assert "market.gas: " in message and "gas.csv: missing column p90_gwei" in message
    (tmp_path / "reserves.csv").write_text(
        "time_utc,dai_reserve,weth_reserve\n2020-03-12T00:00:00Z,0,1\n2020-03-12T00:10:00Z,1,1\n"
    )
    message = _bad(tmp_path, MINIMAL + 'reserves = "reserves.csv"\n')
    assert (
        "market.reserves: " in message
        and "reserves.csv:2: dai_reserve must be positive, got 0" in message
    )


def test_unevenly_spaced_bars__refused_naming_the_line_and_the_gap(tmp_path):
    """Every row of a price file is one bar of the replay (keepers act once a bar, the oracle's
    phase and the market's recovery count bars): a gap was taken as one bar in silence (issue
    65: 67 minutes as one 10-minute bar, the report saying "11 bars of 600 s"). A row off the
    file's bar (its most common step) is refused, naming its line, the gap and the bar."""
    path = tmp_path / "prices.csv"
    path.write_text(
        HEADER + "2020-03-12T00:00:00Z,1,200\n2020-03-12T00:10:00Z,1,190\n"
        "2020-03-12T00:20:00Z,1,180\n2020-03-12T01:27:00Z,1,150\n2020-03-12T01:32:00Z,1,140\n"
    )
    with pytest.raises(ScenarioError) as refused:
        load_scenario(str(path))
    assert str(refused.value).splitlines() == [
        f"{path}:5: 1 hour 7 minutes after the previous row (line 4), but the file's bar is 10 "
        "minutes (2 of its 4 steps): every row is one bar; give a row every 10 minutes (fill a gap "
        "by repeating the last close, if that is what happened)",
        f"{path}:6: 5 minutes after the previous row (line 5), but the file's bar is 10 minutes "
        "(2 of its 4 steps): every row is one bar; give a row every 10 minutes (fill a gap by "
        "repeating the last close, if that is what happened)",
    ]
    # the same day with the gap filled, a row every 10 minutes: replayed as given
    rows = [
        f"2020-03-12T{m // 60:02d}:{m % 60:02d}:00Z,1,{200 - m // 10}" for m in range(0, 100, 10)
    ]
    path.write_text(HEADER + "\n".join(rows) + "\n")
    assert len(load_scenario(str(path)).market.prices) == 10


def test_timed_scenario__unblocked_and_closed_blocked__the_day_file_without_and_with_block_keys(
    tmp_path,
):
    """timing's "unblocked" is the built-in's file without its block space keys; "closed
    blocked" is the file with the open market's other keys taken out and the block space kept
    (closing the market alone drops both): the same market, field by field."""
    from offchain.sim.run.timing import timed_scenario

    text = (ROOT / "offchain/sim/scenarios/black-thursday-2020.toml").read_text()
    lines = text.splitlines(keepends=True)
    block = ("block_gas_limit", "block_time", "competing_gas_share")
    venue = ("outside", "venue_share", "resale_delay", "stable_price")
    unblocked, closed = tmp_path / "unblocked.toml", tmp_path / "closed.toml"
    unblocked.write_text("".join(x for x in lines if not x.startswith(block)))
    closed_lines = [x for x in lines if not x.startswith(venue)]
    at = closed_lines.index("[market]\n") + 1
    closed.write_text("".join(closed_lines[:at] + ['outside = "closed"\n'] + closed_lines[at:]))
    for options, path in (
        (["fixed", "undrained", "unblocked"], unblocked),
        (["closed", "undrained", "blocked"], closed),
    ):
        timed = timed_scenario("black-thursday-2020", 10_000, options, {})
        market = {"drain_horizon": 0} | (
            {"depth_with_vaults": "fixed"} if "fixed" in options else {}
        )
        by_file = load_scenario(str(path), vaults=10_000, overrides={"market": market})
        assert timed.market == by_file.market, options
    assert timed.market.blockspace is not None and timed.market.outside == "closed"
    plain = timed_scenario("black-thursday-2020", 10_000, ["fixed", "unblocked"], {})
    assert plain.market.blockspace is None and plain.market.outside == "open"


def test_part_clock__each_call_s_own_seconds__a_part_inside_another_is_its_own(monkeypatch):
    """timing's "split": a part's seconds are its calls' own (an inner part's call counts there,
    however deep), a part of two functions sums them, a call that raises is counted, and the
    functions are put back on leaving."""
    import sys
    import time
    import types

    from offchain.sim.run.timing import part_clock

    now = [0.0]
    monkeypatch.setattr(time, "process_time", lambda: now[0])
    module: Any = types.ModuleType("part_clock_example")

    def inner():
        now[0] += 5

    def outer():
        now[0] += 1
        module.inner()
        module.plain()  # not a part: its seconds are the caller's
        now[0] += 2

    def plain():
        now[0] += 7
        module.inner()

    class Box:
        def method(self, fail):
            now[0] += 11
            if fail:
                raise ValueError
            module.outer()

    module.inner, module.outer, module.plain, module.Box = inner, outer, plain, Box
    method = vars(Box)["method"]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    parts = (
        (module.__name__, "outer", "a"),
        (module.__name__, "inner", "b"),
        (module.__name__, "Box.method", "a"),
    )
    with part_clock(parts) as spent:
        Box().method(False)
        with pytest.raises(ValueError):
            Box().method(True)
    # a: the method's 11 + 11 and outer's 1 + 7 (plain) + 2; b: inner's twice 5
    assert spent == {"a": 32.0, "b": 10.0}
    assert module.inner is inner and module.outer is outer and vars(Box)["method"] is method


def test_timing_split__the_parts_and_the_rest_are_the_run_s_seconds():
    """`timing ... split` (make bench's market pairs): the run's line gives its CPU seconds by
    part, every part's function reached (a run whose crash starts auctions spends time in each:
    400 vaults, so that the least part, the plans, is some milliseconds, not a rounding to 0),
    each call's own (together no more than the run's CPU seconds), the rest the remainder."""
    import json
    import subprocess
    import sys

    from offchain.sim.run.timing import PARTS

    out = subprocess.run(
        [sys.executable, "-m", "offchain.sim.run.timing", "synthetic-crash", "400", "split"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    run = json.loads(out.stdout)
    split = run["split_s"]
    assert list(split) == list(dict.fromkeys(part for *_, part in PARTS)) + ["rest"]
    assert all(seconds > 0 for seconds in split.values()), split
    parts = sum(seconds for part, seconds in split.items() if part != "rest")
    assert parts <= run["cpu_s"] + 0.001 * len(split)
    assert split["rest"] == pytest.approx(run["cpu_s"] - parts, abs=0.001 * len(split))


def test_timing_command__bad_input__one_line_exit_2():
    """`python -m offchain.sim.run.timing` (what `make bench` runs per population size): a scenario
    that does not exist, a count out of range or options that do not go together is one line
    and exit status 2."""
    import subprocess
    import sys

    for args, line in (
        (["no-such-scenario", "10"], "timing: "),
        (["black-thursday-2020", str(MAX_VAULTS + 1)], "timing: --vaults: must be an integer"),
        (["black-thursday-2020"], "usage: python -m offchain.sim.run.timing SCENARIO VAULTS"),
        # the closed market's block space kept: only with the market closed; and not both ways
        (["black-thursday-2020", "10", "blocked"], "usage: python -m offchain.sim.run.timing"),
        (["black-thursday-2020", "10", "fixed", "blocked"], "usage: python -m offchain"),
        (["black-thursday-2020", "10", "closed", "blocked", "unblocked"], "usage: python -m"),
        (["black-thursday-2020", "10", "split", "split"], "usage: python -m"),
        (["black-thursday-2020", "10", "splits"], "usage: python -m"),
    ):
        out = subprocess.run(
            [sys.executable, "-m", "offchain.sim.run.timing", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert out.returncode == 2, out.stderr
        assert out.stderr.startswith(line) and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert out.stdout == ""
