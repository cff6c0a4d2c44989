"""Several collateral types in one crash (issue 33): the one-factor path of a second type
(offchain/sim/scenario/correlated.py), the scenario's `[types.<name>]` tables validated at the edge,
and a two-type replay with price impact on a private Anvil and in the model, reconciled to zero
differences, with the contagion table adding up the chain's own receipts."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path

import pytest

from offchain.model.fixed_point import RAD, WAD
from offchain.sim.results.reconcile import reconcile
from offchain.sim.run.replay import replay
from offchain.sim.scenario.correlated import OneFactor, realized_correlation
from offchain.sim.scenario.load import ScenarioError, load_scenario, reseeded
from offchain.sim.scenario.market_data import DataError, SyntheticPath
from offchain.sim.scenario.population import actor_address, population_role

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ROOT / "offchain" / "sim" / "scenarios" / "may-2021-two-types.toml"
FACTOR = SyntheticPath(
    start_price=Decimal(2000), steps=20_000, volatility=0.8, jumps_per_day=0
).generate(3)


def test_one_factor__same_seed_same_path__another_seed_another():
    f = OneFactor(beta=0.9, correlation=0.8)
    a, b = f.derive(FACTOR, 30_000 * WAD, 7), f.derive(FACTOR, 30_000 * WAD, 7)
    assert a == b and a.times == FACTOR.times and a.columns["close"][0] == 30_000 * WAD
    assert f.derive(FACTOR, 30_000 * WAD, 8) != a


@pytest.mark.parametrize("rho", [0.5, 0.8, 0.95])
def test_one_factor__returns_correlate_as_asked(rho):
    path = OneFactor(beta=0.9, correlation=rho).derive(FACTOR, 30_000 * WAD, 11)
    assert abs(realized_correlation(FACTOR, path) - rho) < 0.02


def test_one_factor__correlation_one__the_factors_moves_times_beta():
    """No idiosyncratic part: each bar's log return is beta x the factor's (to float rounding of
    the wad prices)."""
    path = OneFactor(beta=0.5, correlation=1.0).derive(FACTOR, 30_000 * WAD, 1)
    p, q = FACTOR.columns["close"], path.columns["close"]
    for k in range(1, 200):
        assert math.isclose(
            math.log(q[k] / q[k - 1]), 0.5 * math.log(p[k] / p[k - 1]), abs_tol=1e-9
        )


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        ({"beta": 0}, "beta must be in (0, 10]"),
        ({"correlation": 0}, "correlation must be in (0, 1]"),
        ({"correlation": 1.5}, "correlation must be in (0, 1]"),
        ({"jump_std": -1}, "jump_std must be in [0, 10]"),
        ({"beta": float("nan")}, "beta must be in (0, 10]"),
    ],
)
def test_one_factor__bad_parameters__one_line(kwargs, problem):
    with pytest.raises(DataError, match=problem.replace("(", r"\(").replace("[", r"\[")):
        OneFactor(**kwargs)


def _scenario(tmp_path, types_table: str, counts: tuple[int, int] = (60, 40)) -> Path:
    """The built-in two-type scenario with smaller populations and another [types] table."""
    text = BUILTIN.read_text()
    head = text[: text.index("[types.WBTC-A]")]
    head = head.replace("count = 1000", f"count = {counts[0]}")
    head = head.replace('reserves = "', 'reserves = "' + str(ROOT) + "/").replace(
        'prices = "', 'prices = "' + str(ROOT) + "/"
    )
    head = head.replace('gas = "', 'gas = "' + str(ROOT) + "/")
    head = head.replace('config = "', 'config = "' + str(ROOT) + "/")
    path = tmp_path / "two.toml"
    path.write_text(head + types_table.replace("COUNT", str(counts[1])))
    return path


WBTC = '[types.WBTC-A]\ncount = COUNT\npool_depth = "1_000_000"\nbeta = "0.75"\n'
# vaults closer to WBTC-A's liquidation ratio (1.45): the crash liquidates some of them
STRESSED = WBTC + 'ratio_min = "1.5"\nratio_mode = "1.65"\nratio_max = "2.2"\n'


@pytest.mark.parametrize(
    "table, problem",
    [
        ("[types.DOGE-A]\n", "types.DOGE-A: unknown collateral type (types in the config: "),
        ("[types.ETH-A]\n", "types.ETH-A: is the scenario's first type"),
        (WBTC + 'correlation = "0"\n', "types.WBTC-A.correlation: must be > 0 and <= 1"),
        (WBTC.replace('beta = "0.75"', 'beta = "11"'), "types.WBTC-A.beta: must be > 0 and <= 10"),
        (WBTC + "colour = 1\n", "types.WBTC-A: unknown key 'colour'"),
        (WBTC + 'ratio_min = "1.2"\n', "types.WBTC-A.ratio_min: 1.2 must be above WBTC-A's"),
        (WBTC + 'debt_median = "1e400"\n', "types.WBTC-A.debt_median:"),
        (
            WBTC.replace("COUNT", "5000"),
            "types.WBTC-A: its population's debt plus its pool's seed",
        ),
    ],
)
def test_types_table__malformed__one_line_naming_the_key(tmp_path, table, problem):
    path = _scenario(tmp_path, table)
    with pytest.raises(ScenarioError) as err:
        load_scenario(str(path))
    message = str(err.value)
    assert problem in message, message
    assert "\n" not in message


def test_types__the_second_types_path_and_population_are_its_own(tmp_path):
    s = load_scenario(str(_scenario(tmp_path, WBTC)))
    [t] = s.types
    assert [c.name for c in s.system.collateral] == ["ETH-A", "WBTC-A"]
    assert t.prices.times == s.market.prices.times
    assert t.prices.columns["close"][0] == s.system.collateral[1].initial_price
    assert t.prices.source.startswith("one-factor(beta=0.75, correlation=0.8")
    again = reseeded(s, s.seed + 1)
    assert again.types[0].prices != t.prices and again.system.collateral[1].name == "WBTC-A"
    assert population_role("WBTC-A") != "vault"


@pytest.fixture(scope="module")
def two_types(tmp_path_factory):
    path = _scenario(tmp_path_factory.mktemp("two"), STRESSED, counts=(150, 80))
    scenario = load_scenario(str(path))
    done = replay(scenario)
    return scenario, done.checked[0], done.model


def test_two_types__chain_and_model_agree_to_the_wei(two_types):
    _, chain, model = two_types
    r = reconcile(chain, model)
    assert r.diffs == [] and r.diff_count == 0
    assert len(chain.tables["types"]) == 2 * chain.facts["bars"]


def test_two_types__both_types_liquidated__the_contagion_table_adds_up_the_receipts(two_types):
    scenario, chain, _ = two_types
    table = chain.tables["contagion"].set_index("collateral_type")
    assert list(table.index) == ["ETH-A", "WBTC-A"]
    events = chain.tables["events"]
    liquidated = [json.loads(a) for a in events[events.event == "Liquidated"].args]
    owners = {actor_address(population_role("WBTC-A"), i) for i in range(80)}
    wbtc = [x for x in liquidated if x["owner"] in owners]
    assert len(wbtc) > 0, "the second type's crash liquidates some of its vaults"
    assert table.loc["WBTC-A", "liquidations"] == len(wbtc)
    assert table.loc["ETH-A", "liquidations"] == len(liquidated) - len(wbtc)
    # the receipts: every LossAllocated by the type that caused it
    allocated = [json.loads(a) for a in events[events.event == "LossAllocated"].args]
    eth_type = "0x" + scenario.system.collateral[0].type_id.hex()
    for name, rows in (
        ("ETH-A", [x for x in allocated if x["collateral_type"] == eth_type]),
        ("WBTC-A", [x for x in allocated if x["collateral_type"] != eth_type]),
    ):
        total = sum(int(x["amount"]) for x in rows) / RAD
        paid = sum(
            table.loc[name, layer]
            for layer in ("fund", "stability_pool", "debt_auction", "redistribution", "settlement")
        )
        assert paid == pytest.approx(total, rel=1e-12, abs=1e-9)
    # the headline adds up every type
    assert chain.facts["insolvency"] == pytest.approx(table["insolvency"].sum(), rel=1e-12)
    assert chain.facts["collateral_types"] == ["ETH-A", "WBTC-A"]


def test_two_types__ceilings_per_type_and_the_shared_headroom__read_from_the_chain(two_types):
    """Each type's row carries its ceiling as deployed, and the room under the global ceiling
    (one engine read per bar: the same in every type's row of a bar)."""
    scenario, chain, _ = two_types
    bars = chain.tables["types"]
    first = {c.name: c.debt_ceiling / RAD for c in scenario.system.collateral}
    for name, rows in bars.groupby("collateral_type"):
        assert rows["debt_ceiling"].iloc[0] == first[name]  # as deployed, before any move
        assert (rows["debt_ceiling"] > 0).all()
    shared = bars.groupby("bar")["global_headroom"].nunique()
    assert (shared == 1).all()
    assert (bars["global_headroom"] > 0).all()


def test_types_grid_keys__apply_to_every_further_type__refused_without_one():
    """`beta` and `correlation` are grid keys (sweep/spec.py): an override sets them on every
    `[types.<name>]` table; a scenario without one refuses them in one line."""
    s = load_scenario("may-2021-two-types", overrides={"types": {"correlation": "0.5"}})
    assert s.types[0].loading.correlation == 0.5
    assert s.types[0].prices != load_scenario("may-2021-two-types").types[0].prices
    with pytest.raises(ScenarioError) as err:
        load_scenario("may-2021", overrides={"types": {"beta": "0.5"}})
    assert "types.beta: applies only to a scenario with further collateral types" in str(err.value)


def test_arbitrage_step__one_stablecoin_balance__not_spent_twice_in_a_round():
    """The arbitrageur holds one stablecoin balance for every pool: when both types' pools are
    below their markets, the round's trades together spend at most that balance (each type's
    trade used to be planned against the whole balance, and the second could revert)."""
    from offchain.backends import ModelBackend
    from offchain.sim.strategies.steps import ArbitrageStep, World
    from offchain.system.config import load_config
    from offchain.system.deployment import deploy_system

    backend = ModelBackend(1_700_000_000)
    gov, feeder, arb = (actor_address(r) for r in ("governance", "feeder", "arbitrageur"))
    d = deploy_system(backend, load_config(), gov, feeder)
    assert len(d.types) == 2
    balance = 1_000 * WAD  # far less than either pool's gap to its market needs

    def read(calls):
        got = backend.views(calls)
        return [
            balance if (a, f, args) == (d.stablecoin, "balanceOf", (arb,)) else v
            for (a, f, args), v in zip(calls, got)
        ]

    world = World(
        d,
        read,
        backend.call,
        clock=lambda: backend.last_block_time,
        next_block_time=lambda: backend.next_block_time,
        in_flight=set,
        index=lambda name: None,  # type: ignore[arg-type,return-value]
        market_price=lambda name: d.types[name].config.initial_price * 12 // 10,  # pools 20% low
        follow=None,  # type: ignore[arg-type]
    )
    actions = ArbitrageStep(arb, WAD // 200).decide(world, list(d.types))
    buys = [a for a in actions if a.function == "swap" and a.args[0] is False]
    assert len(buys) == 1 and buys[0].args[1] == balance  # the first takes it all
    assert sum(a.args[1] for a in buys) <= balance


def test_two_types__report_shows_the_contagion_table_and_one_price_panel_per_type(
    two_types, tmp_path
):
    from offchain.report.documents import write_report
    from offchain.report.tables import scenario_lines

    scenario, chain, model = two_types
    summary = write_report(
        tmp_path / "report", chain, reconcile(chain, model), scenario_lines(scenario)
    ).read_text()
    assert "## Collateral types and contagion" in summary
    assert "| WBTC-A | " in summary and "| all types | " in summary
    assert "**Several collateral types:**" in summary
    assert "Least room left under the debt ceilings in the run: ETH-A " in summary
    assert "plots/types.png" in summary
    assert (tmp_path / "report" / "plots" / "types.png").stat().st_size > 10_000
    assert (tmp_path / "report" / "data" / "contagion.csv").exists()
    # the outcome's end-of-run lines add every type up, and say so; the insolvency row is the
    # sum of the rows it names (a newcomer found it adding ETH-A's realized bad debt alone)
    f = chain.facts
    contagion = chain.tables["contagion"]
    assert f["realized_bad_debt"] == pytest.approx(float(contagion["realized_bad_debt"].sum()))
    assert f["insolvency_last_price"] == pytest.approx(
        f["realized_bad_debt"] + f["open_auction_shortfall"] + f["unsafe_vault_shortfall"]
    )
    assert f["insolvency_mark"] == pytest.approx(
        f["realized_bad_debt"]
        + f["open_auction_marked_shortfall"]
        + f["unsafe_vault_marked_shortfall"]
    )
    stable = scenario.system.stablecoin_symbol
    assert f"| realized bad debt, every type | {f['realized_bad_debt']:,.2f} {stable} |" in summary
    assert "| realized bad debt (auctions that finished short), ETH-A |" in summary
    assert (
        "| insolvency at the last price (optimistic bound: realized bad debt, every type, + both "
        "shortfalls at that price) |" in summary
    )
    assert (
        "| insolvency marked at the run's end (realized bad debt, every type, + both marked "
        "shortfalls) |" in summary
    )
    assert "| INSOLVENCY (the open book run out by the run's keepers at the last price" in summary
    assert "every type's collateral against" in summary  # no WETH and WBTC added up
