"""A sweep's definition and plan (offchain/sweep/spec.py): grid names are the scenario's and the
config's keys, every value is validated as a scenario file's value is (one line naming the key and
the bound), cells and runs are laid out in a fixed order with the seeds the docs promise, and a
sweep file says the same as the command line. Pure Python: no chain, no run."""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from offchain.model.backstop import DEFAULT_DELEVERAGE_BUFFER
from offchain.model.fixed_point import RAD, WAD
from offchain.sim.scenario.load import BUILTIN_DIR, load_scenario
from offchain.sweep.spec import (
    GRID_KEYS,
    NOT_APPLICABLE,
    TYPE_GRID_KEYS,
    SweepError,
    SweepFile,
    SweepSpec,
    load_sweep_file,
    parse_grid_option,
    plan,
)

ROOT = Path(__file__).resolve().parents[2]
THIN = str(ROOT / "tests" / "sim" / "data" / "thin-liquidity-2020.toml")


def _spec(*grid: str, scenarios=(THIN,), seeds=3, vaults=20) -> SweepSpec:
    return SweepSpec(tuple(scenarios), seeds, tuple(parse_grid_option(g) for g in grid), vaults)


def _error(*grid: str, **kwargs) -> str:
    """The one line of a plan refused for one mistake."""
    with pytest.raises(SweepError) as exc:
        plan(_spec(*grid, **kwargs))
    assert "\n" not in str(exc.value)
    return str(exc.value)


# --- grid names and values ------------------------------------------------------------------------


def test_grid_option__values_as_the_loader_takes_them():
    d = parse_grid_option("liquidation_penalty=1.13, 1.2")
    assert d.name == "liquidation_penalty" and d.values == ("1.13", "1.2")
    assert parse_grid_option("oracle_delay=600,3_600").values == (600, 3600)
    w = parse_grid_option("waterfall=fund+stability_pool,redistribution,none")
    assert w.values == (["fund", "stability_pool"], ["redistribution"], [])
    assert w.labels() == ("fund+stability_pool", "redistribution", "none")


@pytest.mark.parametrize(
    "option, phrase",
    [
        (
            "liquidation_penalt=1.1",
            "unknown grid name 'liquidation_penalt' (did you mean liquidation_penalty?)",
        ),
        ("colour=red", "unknown grid name 'colour'"),
        ("dust=", "dust has no values"),
        ("dust", "expected NAME=v1,v2,..."),
        ("dust=100,,200", "an empty value"),
        ("dust=100,100", "dust: value 100 appears twice"),
        # the same number written twice ran two equal cells (issue 65)
        ("venue_share=0.010,0.01", "venue_share: values 0.010 and 0.01 are the same number"),
        ("stable_price=1.0,1", "stable_price: values 1.0 and 1 are the same number"),
        ("pool_depth=1_000,1000", "pool_depth: values 1_000 and 1000 are the same number"),
        ("oracle_delay=1.5", "grid oracle_delay=1.5: must be an integer"),
        ("waterfall=fund+vault", "unknown layer 'vault'"),
        ("waterfall=fund+fund", "layer 'fund' appears twice"),
    ],
)
def test_grid_option__bad__one_line_naming_it(option, phrase):
    with pytest.raises(SweepError) as exc:
        parse_grid_option(option)
    assert phrase in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize(
    "grid, phrase",
    [
        (
            ("liquidation_penalty=1.13,3",),
            "grid liquidation_penalty=3: ",
        ),
        (("liquidation_ratio=0.9",), "liquidation_ratio: must be >= 1"),
        (("insurance_fund=-1",), "grid insurance_fund=-1: "),
        (("taker_mode=flash,barter",), "taker_mode: must be one of flash, capital, both"),
        (("volatility=1",), "market.synthetic.volatility: applies only to a synthetic"),
        (("auction_curve_duration=9000",), "applies to linear auction curves only"),
        (("dust=2500", "dust=3000"), "dust is given twice"),
        (
            ("taker_gas_budget=0,100_000",),
            "keepers.taker_gas_budget: 100,000 gas is below a flash taker's costliest",
        ),
        (
            ("liquidation_gas_budget=1.5",),
            "grid liquidation_gas_budget=1.5: must be an integer",
        ),
    ],
)
def test_plan__bad_value__names_the_key_and_the_bound(grid, phrase):
    message = _error(*grid)
    assert phrase in message, message


def test_plan__several_wrong_values__each_named_in_one_run():
    """A newcomer's try (issue 47): a grid with wrong values in two dimensions was refused
    naming the first cell's, so a sweep was fixed one run per value. Every value the scenario
    refuses alone is a line now (and no cell's combination repeats them)."""
    with pytest.raises(SweepError) as exc:
        plan(_spec("liquidation_penalty=1.13,3", "volatility=1,2", "insurance_fund=-1,0"))
    lines = str(exc.value).splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "grid liquidation_penalty=3",
        "grid volatility=1,2",  # the same mistake of both values: one line (it was two)
        "grid insurance_fund=-1",
    ], lines
    assert "must be >= 1 and <= 2, got '3'" in lines[0]
    assert "applies only to a synthetic" in lines[1]


def test_plan__out_of_range_value__the_loaders_bound_in_the_message():
    message = _error("liquidation_penalty=1.13,3")
    assert message.startswith("grid liquidation_penalty=3: ")
    assert message.endswith(
        "protocol.collateral_overrides.liquidation_penalty: must be >= 1 and <= 2, got '3'"
    )


def test_plan__values_fine_alone_but_not_together__names_the_cell():
    # a liquidation ratio of 1.58 is below the population's lowest start ratio (1.6), and a lowest
    # start ratio of 1.56 is above the config's liquidation ratio (1.5): together, vaults start
    # unsafe
    message = _error("liquidation_ratio=1.58", "ratio_min=1.56")
    assert message.startswith("grid cell liquidation_ratio=1.58, ratio_min=1.56: ")
    assert "ratio_min" in message and "must be above ETH-A's liquidation ratio 1.58" in message


def test_plan__a_value_that_fails_only_with_the_scenarios_own_others__accepted_every_cell_valid():
    """A penalty of 1.05 fails with the scenario's flat reward (more than the penalty income at
    dust), but the grid's reward of 100 fits every penalty: every cell is valid, so the sweep is
    (it was refused, the value checked alone against the scenario; issue 34)."""
    alone = _error("liquidation_penalty=1.05,1.13,1.2")
    assert alone.startswith("grid liquidation_penalty=1.05: ") and "keeper_reward_flat" in alone
    spec = _spec("liquidation_penalty=1.05,1.13,1.2", "keeper_reward_flat=100")
    cells = plan(spec).cells
    assert [c.values for c in cells] == [("1.05", "100"), ("1.13", "100"), ("1.2", "100")]
    assert all(c.scenario.system.collateral[0].keeper_reward_flat == 100 * RAD for c in cells)


def test_plan__a_value_wrong_beside_the_grids_others__named_with_that_mistake():
    """A newcomer's tally (issue 47): `--grid size_threshold=1000 --grid size_slope=0.1 --grid
    size_cap=0.5` was refused with `grid size_threshold=1000: ...size_slope: must be above 0`
    (the threshold checked alone, with the scenario's slope 0) although the grid gives the slope;
    the real mistake, a threshold below the dust (2,500), was not named. A value is named with
    the mistake it makes beside the grid's other values that are valid alone; a value those
    values make valid is not named alone (its cell is)."""
    message = _error("size_threshold=1000", "size_slope=0.1", "size_cap=0.5")
    assert message.startswith("grid size_threshold=1000: "), message
    assert message.endswith(
        "size_threshold: must be at least the dust (a size cut leaves the dust)"
    )
    with pytest.raises(SweepError) as exc:
        plan(_spec("size_threshold=1000,30000", "size_slope=0.1", "size_cap=0.5", "volatility=1"))
    lines = str(exc.value).splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "grid size_threshold=1000",
        "grid volatility=1",
    ], lines
    assert "must be at least the dust" in lines[0]
    cells = plan(_spec("size_threshold=30000", "size_slope=0.1", "size_cap=0.5")).cells
    assert cells[0].scenario.system.collateral[0].size_margin == (30_000, 100_000, 500_000)
    message = _error("size_threshold=30000", "size_slope=0,0.1", "size_cap=0.5")
    assert message.startswith("grid cell size_threshold=30000, size_slope=0, size_cap=0.5: ")
    assert "size_slope: must be above 0 with a size_threshold" in message


def test_grid_keys__each_takes_the_scenarios_own_value_back():
    """Every grid key, given the value the built-in scenario already has, loads the same
    scenario: the names and tables of GRID_KEYS (derived from the parameter schema,
    tests/system/test_schema.py) are the loader's."""
    import tomllib

    from offchain.system.config import DEFAULT_CONFIG
    from offchain.system.schema import COLLATERAL

    eth = tomllib.loads(DEFAULT_CONFIG.read_text())["collateral"][0]
    base = load_scenario("synthetic-crash", vaults=20)
    same = {
        "pool_depth": "1_000_000",
        "gas_gwei": 50,
        "tail_bars": 36,
        "drain_bars": 0,
        "drain_horizon": 1008,
        "block_gas_limit": 0,
        "impact_depth": "0",
        "impact_half_life": 3600,
        "start_price": "2000",
        "steps": 144,
        "volatility": "1.2",
        "jumps_per_day": 6,
        "jump_mean": "-0.1",
        "count": 20,
        "debt_median": "8000",
        "debt_sigma": "0.9",
        "ratio_min": "1.6",
        "ratio_mode": "2.0",
        "ratio_max": "4.0",
        "opt_in_share": "0",
        "liquidation_gas_gwei": 100,
        "taker_gas_gwei": 100,
        "backstop_gas_gwei": 100,
        "taker_mode": "flash",
        "taker_capital": "0",
        "take_min_profit": "50",
        "arbitrageur_capital": "2_000_000",
        "arbitrage_threshold": "0.005",
        "debt_auction_capital": "500_000",
        "liquidation_gas_budget": 0,
        "taker_gas_budget": 0,
        "backstop_gas_budget": 0,
        "soft_liquidation_gas_gwei": 100,
        "soft_liquidation_capital": "1_000_000",
        "soft_liquidation_min_profit": "10",
        "soft_liquidation_repay": "middle",
        "soft_liquidation_gas_budget": 0,
        "gas_strategy": "market",
        "gas_percentile": 60,
        "priced_out": "none",
        "insurance_fund": "100_000",
        "pool_stakers": 4,
        "pool_stake": "250_000",
        "waterfall": ["fund", "stability_pool", "debt_auction", "redistribution"],
        "deleverage_buffer": str(Decimal(DEFAULT_DELEVERAGE_BUFFER) / WAD),  # the config's
        "drift": "0",
        "jump_std": "0.05",
        "step_seconds": 600,
    }
    # no reserves; a stairstep curve; the open market's keys (a synthetic path's market is
    # closed): below, on a built-in whose market is open
    open_keys = {
        "impact_coefficient": "0.7",
        "venue_share": "0.01",
        "impact_decay": 600,
        "venue_window": 6,
        "resale_delay": 21600,
        "stable_price": "1.036",
        "flash_route": "best",
        "block_gas_limit": 10_000_000,
        "block_time": "13.1",
        "competing_gas_share": "0.8",
    }
    same["outside"] = "closed"
    same["mark_bars"] = 36
    skipped = {"reserves_scale", "auction_curve_duration", "pool_share_of_venue", *open_keys}
    opened = load_scenario("black-thursday-2020", vaults=20)
    for name, value in {**open_keys, "outside": "open"}.items():
        got = load_scenario("black-thursday-2020", vaults=20, overrides={"market": {name: value}})
        assert got == opened, name
    # the keepers' pool as a share of the venue's: on a file that gives no pool (a bare CSV),
    # given at the calibration's value, the same pool, now the scenario's choice (no first line)
    prices = str(Path(__file__).resolve().parents[2] / "data" / "market" / "eth_usd_2021-05-19.csv")
    bare = load_scenario(prices, vaults=20)
    got = load_scenario(
        prices,
        vaults=20,
        overrides={"market": {"pool_share_of_venue": "0.00013"}},
    )
    assert got == replace(bare, market=replace(bare.market, pool_note=""))
    two_types = load_scenario("may-2021-two-types", vaults=20)
    for name, value in {"beta": "0.75", "correlation": "0.9"}.items():  # its WBTC-A's
        got = load_scenario("may-2021-two-types", vaults=20, overrides={"types": {name: value}})
        assert got == two_types, name
    for name, key in GRID_KEYS.items():
        if name in skipped or key.table == "types":
            continue
        if name == "oracle_phase":
            # a scenario that sets no phase runs at the default (sim/scenario/timeline.py), a sweep
            # draws one per seed: the key set to the default's value is that phase, now set
            got = load_scenario("synthetic-crash", vaults=20, overrides={key.table: {name: 3000}})
            assert got == replace(base, market=replace(base.market, oracle_phase=3000))
            continue
        if name == "pool_depth":
            # the schema's depth, now given: the same pool, not one the lab chose (no first line)
            got = load_scenario(
                "synthetic-crash", vaults=20, overrides={key.table: {name: same[name]}}
            )
            assert got == replace(base, market=replace(base.market, pool_note="")), name
            continue
        if key.table == "protocol.collateral_overrides":
            # a key the config leaves out has the schema's default
            value = eth[name] if name in eth else COLLATERAL[name].default
        else:
            value = same[name]
        if name == "count":
            # a count the grid sets stays as set (--vaults is then the other types'): here the
            # population --vaults gave the base
            got = load_scenario("synthetic-crash", overrides={key.table: {name: 20}})
        else:
            got = load_scenario("synthetic-crash", vaults=20, overrides={key.table: {name: value}})
        assert got == base, name


def test_grid_keys__every_parameter_of_config_and_scenario_can_be_swept():
    """The other direction: every key of the devnet config's collateral type and of the built-in
    scenarios' tables is a grid key, but exactly those the schema says name or locate something
    (a name, a token, a data file, the seed) or that the price path sets (initial_price)."""
    import tomllib

    from offchain.sim.scenario.load import BUILTIN_DIR, builtin_scenarios
    from offchain.system.config import DEFAULT_CONFIG

    not_swept = {
        "name", "token_name", "token_symbol", "token_decimals", "initial_price",  # identity
        "description", "seed", "prices", "gas", "reserves", "collateral", "config",  # files
    }  # fmt: skip
    keys = set(tomllib.loads(DEFAULT_CONFIG.read_text())["collateral"][0])
    for name in builtin_scenarios():
        for table in tomllib.loads((BUILTIN_DIR / f"{name}.toml").read_text()).values():
            for key, value in table.items():
                keys |= set(value) if isinstance(value, dict) else {key}
    assert keys - set(GRID_KEYS) == not_swept


# --- cells and runs -------------------------------------------------------------------------------


def test_plan__cells_in_grid_order__runs_seeded_from_the_scenario():
    p = plan(_spec("insurance_fund=0,3000", "waterfall=fund+stability_pool,redistribution"))
    assert [c.values for c in p.cells] == [
        ("0", "fund+stability_pool"),
        ("0", "redistribution"),
        ("3000", "fund+stability_pool"),
        ("3000", "redistribution"),
    ]
    assert p.total == 12
    tasks = list(p.tasks())
    assert [(t.run, t.cell, t.seed) for t in tasks[:4]] == [
        (0, 0, 20200312),
        (1, 0, 20200313),
        (2, 0, 20200314),
        (3, 1, 20200312),
    ]
    assert p.cells[2].scenario.backstop.insurance_fund == 3000 * WAD
    assert p.cells[1].scenario.system.waterfall.order == (4,)
    assert [t.run for t in p.tasks(skip={0, 5, 11})] == [1, 2, 3, 4, 6, 7, 8, 9, 10]


def test_plan__curve_parameters_apply_to_their_curve_only__duplicates_merged():
    p = plan(
        _spec(
            "auction_curve=linear,stairstep",
            "auction_curve_duration=5000,9000",
        )
    )
    assert [c.values for c in p.cells] == [
        ("linear", "5000"),
        ("linear", "9000"),
        ("stairstep", NOT_APPLICABLE),
    ]
    assert p.cells[1].scenario.system.collateral[0].auction_curve[:2] == (0, 9000)


def test_plan__identity__same_content_from_another_directory_is_the_same_sweep(tmp_path):
    copy = tmp_path / "thin.toml"
    shutil.copy(THIN, copy)
    text = (
        copy.read_text()
        .replace('prices = "data/market/', f'prices = "{ROOT}/data/market/')
        .replace('gas = "data/market/', f'gas = "{ROOT}/data/market/')
    )
    copy.write_text(text)
    a = plan(_spec("dust=2500"))
    b = plan(_spec("dust=2500", scenarios=(str(copy),)))
    assert a.identity() == b.identity()
    c = plan(_spec("dust=2500", seeds=4))
    assert c.identity()["seeds"] == 4 and c.identity() != a.identity()
    copy.write_text(text.replace('pool_depth = "300_000"', 'pool_depth = "300_001"'))
    assert plan(_spec("dust=2500", scenarios=(str(copy),))).fingerprint != a.fingerprint


def test_plan__no_grid__one_cell_the_scenario_as_it_is():
    p = plan(_spec())
    assert len(p.cells) == 1 and p.cells[0].values == () and p.total == 3


# --- sweep files ----------------------------------------------------------------------------------


def test_sweep_file__toml_and_yaml__the_same_sweep(tmp_path):
    toml = tmp_path / "s.toml"
    toml.write_text(
        f'[sweep]\nscenarios = ["{THIN}"]\nseeds = 3\nvaults = 20\nverify = 0\n'
        'max_borrower_cost = "0.2"\n'
        '[grid]\ninsurance_fund = ["0", 3000]\nwaterfall = [["fund"], ["redistribution"]]\n'
    )
    yaml = tmp_path / "s.yaml"
    yaml.write_text(
        f"sweep:\n  scenarios: [{THIN}]\n  seeds: 3\n  vaults: 20\n  verify: 0\n"
        "  max_borrower_cost: '0.2'\n"
        "grid:\n  insurance_fund: ['0', 3000]\n  waterfall: [fund, redistribution]\n"
    )
    a, b = load_sweep_file(toml), load_sweep_file(yaml)
    assert a == b
    assert a.grid is not None and a.scenarios is not None and a.seeds is not None
    spec = SweepSpec(a.scenarios, a.seeds, a.grid, a.vaults)
    assert (
        plan(spec).identity()
        == plan(_spec("insurance_fund=0,3000", "waterfall=fund,redistribution")).identity()
    )


@pytest.mark.parametrize(
    "text, phrase",
    [
        ("[grid]\n", "grid: empty"),
        ("[sweep]\nseeds = 0\n", "sweep.seeds: must be an integer between 1 and"),
        ("[sweep]\ncolour = 1\n", "sweep: unknown key 'colour'"),
        ("[plan]\n", "unknown table 'plan'"),
        ("[grid]\nbogus = [1]\n", "unknown grid name 'bogus'"),
        ("[grid\n", "not valid TOML"),
        # an empty file is named as one (issue 65), an empty [sweep] table as setting nothing
        ("", "s.toml: empty file (a sweep file gives a [grid] table or at least one [sweep]"),
        ("# later\n\n", "s.toml: empty file ("),
        ("[sweep]\n", "s.toml: sets nothing"),
    ],
)
def test_sweep_file__bad__one_line(tmp_path, text, phrase):
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(SweepError) as exc:
        load_sweep_file(path)
    assert phrase in str(exc.value) and "\n" not in str(exc.value)


def test_sweep_file__one_key__is_the_least_a_sweep_file_holds(tmp_path):
    """Settings alone are a sweep file (the command line gives --scenario and --grid): every
    key has a default, so one key is the least that is not a mistake."""
    path = tmp_path / "settings.toml"
    path.write_text("[sweep]\nworkers = 2\n")
    assert load_sweep_file(path) == SweepFile(workers=2)


def test_type_grid_keys__vary_one_further_type_alone():
    """`key@TYPE` changes that type's [types.<name>] table only: the first type and the keys
    not named stay the scenario's; a key for every type and the same key @TYPE together give the
    type's own value; each name of TYPE_GRID_KEYS is a key the types table reads (its own value
    given back loads the same scenario)."""
    base = load_scenario("may-2021-two-types", vaults=20)
    (wbtc,) = base.types
    spec = SweepSpec(
        scenarios=("may-2021-two-types",),
        seeds=1,
        grid=(
            parse_grid_option("correlation=0.5"),
            parse_grid_option("correlation@WBTC-A=0.95"),
            parse_grid_option("pool_depth@WBTC-A=500_000"),
            parse_grid_option("count@WBTC-A=50"),
        ),
        vaults=20,
    )
    (cell,) = plan(spec).cells
    (got,) = cell.scenario.types
    assert got.pool_depth == 500_000 * WAD and got.vaults.count == 50
    assert got.loading.correlation == 0.95 and got.loading.beta == wbtc.loading.beta
    assert cell.scenario.system.collateral[0] == base.system.collateral[0]
    # WBTC-A's count is the grid's; --vaults (20) is then ETH-A's alone (split with WBTC-A: 15)
    assert base.vaults.count == 15 and cell.scenario.vaults == replace(base.vaults, count=20)
    table = tomllib.loads((BUILTIN_DIR / "may-2021-two-types.toml").read_text())["types"]["WBTC-A"]
    for name in TYPE_GRID_KEYS:
        if name in table:
            value = wbtc.vaults.count if name == "count" else table[name]
            same = load_scenario(
                "may-2021-two-types",
                vaults=20 - wbtc.vaults.count if name == "count" else 20,
                overrides={"types.WBTC-A": {name: value}},
            )
            assert same == base, name


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            "pool_dept@WBTC-A=1",
            "unknown grid name 'pool_dept@WBTC-A' (did you mean pool_depth@WBTC-A?)",
        ),
        ("pool_depth@=1", "a type's key is key@TYPE"),
        ("liquidation_penalty@WBTC-A=1.1", "unknown grid name 'liquidation_penalty@WBTC-A'"),
    ],
)
def test_type_grid_keys__a_wrong_name_is_one_line(option, message):
    with pytest.raises(SweepError) as caught:
        parse_grid_option(option)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_type_grid_keys__a_type_the_scenario_lacks_is_refused_in_one_line():
    spec = SweepSpec(
        scenarios=("may-2021-two-types",),
        seeds=1,
        grid=(parse_grid_option("pool_depth@LINK-A=1_000_000"),),
        vaults=20,
    )
    with pytest.raises(SweepError) as caught:
        plan(spec)
    text = str(caught.value)
    assert "pool_depth@LINK-A: no further type 'LINK-A'" in text and "\n" not in text
