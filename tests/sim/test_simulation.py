"""The crash replay end to end (offchain/sim/run/driver.py, scripts/_simulate.py): Black Thursday
with 50 vaults on a private Anvil and in the model, reconciled to zero differences, with concrete
outcomes; and every kind of bad input to `ape run simulate` rejected with one line, exit status 2
and nothing written.

Money flow checked here: a liquidated vault's collateral is sold by its auction; what the auction
raises below the seized debt is the loss (bad debt), and only then; each loss is paid by the
waterfall's layers (receipts `LossAllocated`) to the wei."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import script_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.report.tables import loss_decomposition, time_to_clear
from offchain.sim.results.reconcile import reconcile
from offchain.sim.results.tables import TABLES, Tables, args_json, build_table, jsonable
from offchain.sim.run.driver import simulate
from offchain.sim.run.replay import replay
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.timeline import bar_times
from offchain.sim.strategies.keepers import Latency

ROOT = Path(__file__).resolve().parents[2]
PRICES = ROOT / "data" / "market" / "eth_usd_2020-03-12.csv"


@pytest.fixture(scope="module")
def scenario():
    # Black Thursday's prices and gas with thin liquidity (tests/sim/data/thin-liquidity-2020.toml):
    # 50 vaults, and auctions that sell out below their debt, so the waterfall pays
    return load_scenario(str(ROOT / "tests" / "sim" / "data" / "thin-liquidity-2020.toml"))


@pytest.fixture(scope="module")
def runs(scenario):
    done = replay(scenario)
    return done.checked[0], done.model


def _events(result, name: str, contract: str) -> list[dict]:
    e = result.tables["events"]
    rows = e[(e.event == name) & (e.contract == contract)]
    return [json.loads(a) for a in rows.args]


def test_replay__crash_with_50_vaults__chain_and_model_agree_to_the_wei(runs):
    chain, model = runs
    r = reconcile(chain, model)
    assert r.diffs == [] and r.diff_count == 0
    assert r.events_compared == len(chain.tables["events"]) > 1000
    assert r.txs_compared == len(chain.tables["txs"])
    assert r.bars_compared == 180
    # one full-state check before the first bar, then one every 6 bars (hourly), the last bar's
    # included
    assert r.state_checks == 1 + 180 // 6 and r.state_variables_compared > 50_000


END_OF_RUN = (
    "mark_price",
    "realized_bad_debt",
    "open_auctions",
    "open_auction_debt",
    "open_auction_collateral",
    "open_auction_shortfall",
    "open_auction_sale_value",
    "open_auction_fire_sale_shortfall",
    "unsafe_vaults_left",
    "unsafe_vault_debt",
    "unsafe_vault_shortfall",
    "open_auction_marked_shortfall",
    "unsafe_vault_marked_shortfall",
    "mark_depth",
    "mark_price_after_sales",
    "insolvency_last_price",
    "insolvency_mark",
    "insolvency",
)


def test_end_of_run__auctions_still_running__counted_marked_and_in_insolvency(runs):
    """The crash ends with auctions still running (8 on this thin market): the end-of-run
    accounting finds each (their count and collateral equal the chain's own reads in the last
    bar), recomputes what each has not yet raised from the liquidation and its takes, marks its
    collateral at the last market price, and insolvency is realized bad debt plus the marked
    shortfalls. Chain and model give the same figures (both come from the same events)."""
    chain, model = runs
    assert {k: chain.facts[k] for k in END_OF_RUN} == {k: model.facts[k] for k in END_OF_RUN}
    f, t = chain.facts, chain.tables
    last = t["bars"].iloc[-1]
    open_losses = t["losses"][t["losses"]["closed"].isna()]
    assert f["open_auctions"] == len(open_losses) == last["active_auctions"] == 8
    assert time_to_clear(chain) is None  # auctions still running: the run did not clear
    # the auction contract's collateral balance, read on chain, is the unsold lots' sum
    assert f["open_auction_collateral"] == pytest.approx(last["collateral_in_auction"], rel=1e-12)
    assert f["mark_price"] == last["market_price"]
    exposure = t["exposure"]
    auctions = exposure[exposure["kind"] == "auction"].set_index("auction_id")
    assert sorted(auctions.index) == sorted(open_losses["auction_id"])
    liquidated = t["liquidations"].set_index("auction_id")
    raised = t["takes"].groupby("auction_id")["owe"].sum()
    for auction_id, row in auctions.iterrows():
        owed = max(liquidated.at[auction_id, "debt"] - raised.get(auction_id, 0.0), 0.0)
        assert row["debt"] == pytest.approx(owed, rel=1e-9, abs=1e-9)
        assert row["marked_value"] == pytest.approx(row["collateral"] * f["mark_price"], rel=1e-12)
        assert row["shortfall"] == pytest.approx(max(owed - row["marked_value"], 0.0), abs=1e-6)
        assert row["fire_sale_shortfall"] == pytest.approx(
            max(owed - row["sale_value"], 0.0), abs=1e-6
        )
    # the pool's quote for every lot at once, shared pro rata: no more than the market value
    assert auctions["sale_value"].sum() == pytest.approx(f["open_auction_sale_value"], rel=1e-9)
    assert 0 < f["open_auction_sale_value"] < (auctions["marked_value"]).sum()
    assert f["open_auction_debt"] == pytest.approx(auctions["debt"].sum(), rel=1e-12)
    assert f["realized_bad_debt"] == pytest.approx(t["losses"]["loss"].sum(), rel=1e-12)
    assert f["realized_bad_debt"] > 0
    assert f["insolvency_last_price"] == pytest.approx(
        f["realized_bad_debt"] + f["open_auction_shortfall"] + f["unsafe_vault_shortfall"],
        rel=1e-12,
    )
    # the end-of-run mark sells what is open into the keepers' pool (no price impact here), in
    # order
    assert f["insolvency_mark"] == pytest.approx(
        f["realized_bad_debt"]
        + f["open_auction_marked_shortfall"]
        + f["unsafe_vault_marked_shortfall"],
        rel=1e-12,
    )
    assert f["open_auction_marked_shortfall"] == pytest.approx(
        exposure["marked_shortfall"][exposure["kind"] == "auction"].sum(), rel=1e-9
    )
    assert f["insolvency_mark"] >= f["insolvency_last_price"]
    # the headline runs the open book out in the model (sim/run/drain.py); the chain's run takes
    # it: the pool is jammed (its price far under the market's), so the horizon leaves auctions
    # open, and what they still owe is marked
    assert f["time_to_clear_s"] is None and f["headline_drained_bars"] == f["drain_horizon"]
    assert f["insolvency"] == pytest.approx(
        f["horizon_realized_bad_debt"] + f["horizon_marked_shortfall"], rel=1e-12
    )
    # an unsafe vault is one whose remaining position is below the liquidation ratio at the mark
    vaults = t["vaults"]
    unsafe = (vaults["debt_end"] > 0) & (vaults["ratio_end"] < f["liquidation_ratio"])
    assert f["unsafe_vaults_left"] == int(unsafe.sum())


def test_loss_decomposition__parts_add_up_to_each_auctions_loss(runs):
    """The realized loss split into late liquidation, price move during the auction and the
    takes' discount below market (report.tables.loss_decomposition): the parts add up to the
    realized bad debt, and an auction sold out to takes leaves nothing to "other"."""
    chain, _ = runs
    parts = loss_decomposition(chain)
    realized = chain.facts["realized_bad_debt"]
    assert realized > 0
    assert sum(parts.values()) == pytest.approx(realized, rel=1e-9)
    # by hand, every auction that closed short after selling all its collateral to takes
    t = chain.tables
    liquidated = t["liquidations"].set_index("auction_id")
    market = t["bars"].set_index("bar")["market_price"]
    checked = 0
    for short in t["losses"][t["losses"]["loss"] > 0].itertuples():
        liq = liquidated.loc[short.auction_id]
        bought = t["takes"][t["takes"]["auction_id"] == short.auction_id]
        if bought["collateral"].sum() != pytest.approx(liq["collateral"], rel=1e-12):
            continue
        at = market.loc[liq["bar"]]
        by_hand = (
            (liq["debt"] - liq["collateral"] * at)
            + (bought["collateral"] * (at - bought["market_price"])).sum()
            + (bought["collateral"] * (bought["market_price"] - bought["price"])).sum()
        )
        assert by_hand == pytest.approx(short.loss, rel=1e-9)
        checked += 1
    assert checked >= 1


def test_drain__runs_on_at_the_last_price_while_an_auction_runs__chain_and_model_agree():
    """Without a tail the synthetic crash ends with an auction running; a drain of up to 300 bars
    runs on at the last price and stops at the first bar with none running (a few here). The
    drained run reconciles (its last complete state is read after the last drained bar), and a
    drain with nothing running adds no bar."""
    cut = {"market": {"tail_bars": 0}}
    base = simulate(load_scenario("synthetic-crash", vaults=100, overrides=cut), "model")
    assert (base.facts["bars"], base.facts["open_auctions"]) == (144, 1)
    drained = load_scenario(
        "synthetic-crash", vaults=100, overrides={"market": {"tail_bars": 0, "drain_bars": 300}}
    )
    done = replay(drained)
    chain, r = done.checked
    f = chain.facts
    assert 0 < f["drained_bars"] < 300 and f["bars"] == 144 + f["drained_bars"]
    assert r.diff_count == 0 and r.bars_compared == f["bars"]
    assert f["open_auctions"] == 0
    assert chain.tables["bars"]["active_auctions"].iloc[-1] == 0
    assert chain.tables["bars"]["active_auctions"].iloc[-2] > 0
    assert chain.states[-1][0] == f["bars"] - 1  # the last complete state: the last drained bar
    # drained to the end: it cleared, from the first liquidation to the last close
    cleared = chain.tables["losses"]["closed"].max() - chain.tables["liquidations"]["time"].min()
    assert time_to_clear(chain) == pytest.approx(cleared) and cleared > 0
    calm = load_scenario("synthetic-crash", vaults=100, overrides={"market": {"drain_bars": 300}})
    assert simulate(calm, "model", full_check_every=None).facts["drained_bars"] == 0


def test_set_up__prices_renewed_just_before_the_first_bar__no_vault_unsafe_at_bar_0():
    """A large population's set-up ends long before the first bar (many transactions to a block;
    genesis leaves a second per transaction). Prices renewed then were older than the oracle's
    maximum age at bar 0: a safe price of 0 and every vault unsafe (5,000 vaults at the devnet's
    3-hour maximum age; here 1,000 vaults and a 20-minute one). They are now renewed just before
    the first bar, however long the set-up took."""
    short_lived = {"oracle_delay": 600, "oracle_max_age": 1200}
    scenario = load_scenario(
        "synthetic-crash", vaults=1000, overrides={"protocol.collateral_overrides": short_lived}
    )
    first = simulate(scenario, "model", full_check_every=None).tables["bars"].iloc[0]
    assert first["safe_price"] == pytest.approx(first["oracle_price"] / 1.5, rel=1e-12)
    assert first["safe_price"] > 0 and first["vaults_unsafe"] == 0


def test_model_run__without_full_state_reads__same_tables_and_no_states(runs, scenario):
    # full_check_every=None (the model alone, as sweeps run it) only leaves out the state reads
    _, model = runs
    thresholds = gc.get_threshold()
    alone = simulate(scenario, "model", full_check_every=None)
    assert gc.get_threshold() == thresholds  # the run's collector setting is undone
    assert alone.states == [] and len(model.states) == 1 + 180 // 6
    assert alone.tables.keys() == model.tables.keys()
    for name, table in model.tables.items():
        pd.testing.assert_frame_equal(alone.tables[name], table, check_exact=True)


def test_tables__built_on_first_read__events_args_as_json():
    built = []
    rows = [
        (0, 1, 0, 0, "engine", "0x" + "ab" * 20, "Moved", {"b": 2**200, "a": b"\x01", "c": True})
    ]
    tables = Tables(
        {
            "events": lambda: built.append(1) or build_table("events", rows),
            "txs": pd.DataFrame({"x": [1]}),
        }
    )
    assert "events" in tables and list(tables.keys()) == ["events", "txs"] and built == []
    events = tables["events"]
    assert built == [1] and tables["events"] is events  # built once
    assert list(events.columns) == list(TABLES["events"])
    assert json.loads(events.args[0]) == {"a": "0x01", "b": str(2**200), "c": True}
    tables["txs"] = pd.DataFrame({"y": [2]})
    assert list(tables["txs"].columns) == ["y"] and len(tables) == 2


@settings(max_examples=60, deadline=None)
@given(
    args=st.dictionaries(
        st.text(min_size=1, max_size=12),
        st.one_of(
            st.integers(-(2**255), 2**256 - 1),
            st.booleans(),
            st.text(max_size=20),
            st.binary(max_size=40),
            st.none(),
            st.lists(st.integers(0, 2**256 - 1), max_size=3),
        ),
        max_size=8,
    )
)
def test_event_args_json__written_out__equals_json_dumps(args):
    assert args_json(args) == json.dumps({k: jsonable(v) for k, v in args.items()}, sort_keys=True)


def test_reconcile__one_wei_apart__reports_the_variable(runs):
    chain, model = runs
    bar, state = model.states[-1]
    key = next(k for k in state if k.startswith("engine.vaults["))
    tampered = type(model)(
        model.scenario_name,
        model.backend,
        model.tables,
        model.facts,
        model.states[:-1] + [(bar, {**state, key: (state[key][0] + 1, state[key][1])})],
    )
    r = reconcile(chain, tampered)
    assert r.diff_count == 1
    assert key in r.diffs[0] and "chain" in r.diffs[0] and "model" in r.diffs[0]


def test_replay__the_crash_liquidates_vaults_and_auctions_sell(runs):
    chain, _ = runs
    liquidations, takes = chain.tables["liquidations"], chain.tables["takes"]
    assert len(liquidations) >= 10
    assert len(takes) >= 10
    # takes clear below the market in a falling Dutch auction, but not absurdly so
    assert ((takes.price / takes.market_price) < 1.25).all()


def test_replay__unsafe_vaults_are_liquidated_within_the_latency_bound(runs, scenario):
    """A vault unsafe at bar b is liquidated by the bar in which the keeper's transaction, sent
    at b and re-sent after each drop, lands (keepers.Latency); the auction caps are far away."""
    chain, _ = runs
    times, _ = bar_times(scenario)
    latency = Latency(scenario.market.gas, scenario.market.gas_price)
    bid = scenario.keepers.liquidation_gas_price
    assert chain.facts["peak_debt_in_auction"] < scenario.system.max_debt_in_auction / 10**45
    liquidations = chain.tables["liquidations"]
    for row in liquidations.itertuples():
        unsafe_bar = times.index(int(row.unsafe_since))
        bound = latency.landing_bar(bid, times, unsafe_bar)
        assert bound is not None and row.bar <= bound, (row.owner, unsafe_bar, row.bar, bound)
    # every vault that became unsafe was liquidated (none recovered before the keeper came)
    vaults = chain.tables["vaults"]
    became_unsafe = vaults[vaults.unsafe_since.notna()]
    assert len(became_unsafe) > 0 and (became_unsafe.liquidations >= 1).all()
    # and the gas spike delayed some liquidations: the latency model is not a no-op
    dropped = chain.tables["txs"]
    assert ((dropped.actor == "liquidation_keeper") & (dropped.status == "dropped")).any() or (
        liquidations.delay_s > 0
    ).any()


def test_replay__bad_debt_only_where_the_auction_could_not_raise_the_debt(runs):
    chain, _ = runs
    finished = {int(e["auction_id"]): e for e in _events(chain, "Finished", "DutchAuction")}
    closed = _events(chain, "LossClosed", "Backstop")
    assert closed
    losses = 0
    for e in closed:
        debt_raised, covered, loss = int(e["raised"]), int(e["covered"]), int(e["loss"])
        opened = next(
            o
            for o in _events(chain, "LossOpened", "Backstop")
            if o["auction_id"] == e["auction_id"]
        )
        debt = int(opened["debt"])
        assert covered == min(debt_raised, debt)
        assert loss == debt - covered
        if loss:
            losses += 1
            # a loss only when the whole lot was sold and the debt still not raised
            f = finished[int(e["auction_id"])]
            assert int(f["collateral_returned"]) == 0 and int(f["debt_unraised"]) > 0
    assert losses >= 1


def test_replay__every_loss_is_fully_allocated_with_receipts(runs, scenario):
    chain, _ = runs
    allocated: dict[str, int] = {}
    for e in _events(chain, "LossAllocated", "Backstop"):
        allocated[e["auction_id"]] = allocated.get(e["auction_id"], 0) + int(e["amount"])
    for e in _events(chain, "LossClosed", "Backstop"):
        assert allocated.get(e["auction_id"], 0) == int(e["loss"]), e["auction_id"]
    # stakers' receipts add up to what the stability pool absorbed
    pool = sum(
        int(e["amount"]) for e in _events(chain, "LossAllocated", "Backstop") if e["layer"] == "2"
    )
    charged = sum(int(e["amount"]) for e in _events(chain, "StakerCharged", "StabilityPool"))
    assert charged == pool
    assert len(allocated) >= 5
    # what is not closed is an auction still running at the end (no buyer at a profit yet)
    still_running = chain.tables["losses"].closed.isna().sum()
    assert still_running == chain.tables["bars"].active_auctions.iloc[-1]


# ---------------------------------------------------------------- bad input


def _cli():
    return script_cli("simulate")


def _csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "prices.csv"
    path.write_text(text)
    return str(path)


def _binary(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    return str(path)


GOOD = (
    "time_utc,close\n2020-03-12T00:00:00Z,194.5\n2020-03-12T00:10:00Z,190.1\n"
    "2020-03-12T00:20:00Z,185\n"
)


@pytest.mark.parametrize(
    "make_args, phrase",
    [
        (lambda p: ["--scenario", "black-friday"], "unknown scenario 'black-friday'"),
        (lambda p: ["--scenario", str(p / "missing.toml")], "missing.toml"),
        (
            lambda p: [
                "--scenario",
                _csv(p, "time_utc,open\n2020-03-12T00:00:00Z,1\n2020-03-12T00:10:00Z,2\n"),
            ],
            "missing column close",
        ),
        (lambda p: ["--scenario", _csv(p, GOOD.replace("190.1", "NaN"))], "not a finite number"),
        (lambda p: ["--scenario", _csv(p, GOOD.replace("190.1", "-3"))], "close must be positive"),
        (
            lambda p: ["--scenario", _csv(p, GOOD.replace("00:20:00Z", "00:05:00Z"))],
            "is not after the previous row",
        ),
        (lambda p: ["--vaults", "0"], "--vaults"),
        (lambda p: ["--waterfall", "fund,insurance"], "unknown layer 'insurance'"),
        (lambda p: ["--full-check-every", "0"], "--full-check-every must be at least 1"),
        # named the built-in scenario's market.drain_bars before, not the option
        (lambda p: ["--drain", "-1"], "simulate: --drain: must be an integer between 0 and 10000"),
        (lambda p: ["--drain", "10001"], "simulate: --drain: must be an integer between 0 and"),
        (lambda p: ["--drain", "1e400"], "Invalid value for '--drain': '1e400' is not a valid"),
        (lambda p: ["--full-check-every", "nan"], "'nan' is not a valid integer"),
        (lambda p: ["--scenario", str(p)], "is a directory, not a scenario file"),
        (lambda p: ["--scenario", _binary(p, "s.toml")], "s.toml: not a text TOML file"),
        (lambda p: ["--scenario", _binary(p, "prices.csv")], "prices.csv"),
    ],
)
def test_simulate_cli__bad_input__one_line_exit_2_nothing_written(tmp_path, make_args, phrase):
    out = tmp_path / "report"
    result = CliRunner().invoke(_cli(), make_args(tmp_path) + ["--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and phrase in lines[0], lines
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report")]


def test_simulate_cli__out_is_not_a_report__refused_and_left_alone(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(
        _cli(), ["--vaults", "5", "--out", str(out), "--quiet", "--backend", "model"]
    )
    assert result.exit_code == 2 and "holds files no Backstop command wrote" in result.output
    assert (out / "notes.txt").read_text() == "keep me" and len(list(out.iterdir())) == 1


def test_ape_run_simulate__unknown_scenario__exit_status_2_through_ape(tmp_path):
    ape = Path(sys.executable).parent / "ape"
    done = subprocess.run(
        [str(ape), "run", "simulate", "--scenario", "nope", "--out", str(tmp_path / "r")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("simulate:")]
    assert len(errors) == 1 and "unknown scenario 'nope'" in errors[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r").exists()


def test_ape_run_simulate__scenario_is_a_directory__says_so_exit_2_through_ape(tmp_path):
    """Issue 34: `ape run simulate --scenario /tmp` said "unknown scenario '/tmp'"."""
    ape = Path(sys.executable).parent / "ape"
    folder = tmp_path / "scenarios"
    folder.mkdir()
    done = subprocess.run(
        [str(ape), "run", "simulate", "--scenario", str(folder), "--out", str(tmp_path / "r")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"simulate: --scenario {folder} is a directory, not a scenario file (.toml/.yaml/.yml) "
        "or a price file (.csv)"
    ], done.stderr
    assert not (tmp_path / "r").exists() and list(folder.iterdir()) == []


def test_simulate_cli__model_only__writes_a_complete_report(tmp_path):
    out = tmp_path / "bt"
    result = CliRunner().invoke(
        _cli(), ["--vaults", "20", "--out", str(out), "--quiet", "--backend", "model"]
    )
    assert result.exit_code == 0, result.output
    assert f"report: {out / 'summary.md'}" in result.output
    summary = (out / "summary.md").read_text()
    assert "model only" in summary
    for name in ("price", "debt_collateral", "auctions", "waterfall", "collateralization"):
        assert (out / "plots" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for table in (
        "bars",
        "events",
        "txs",
        "liquidations",
        "takes",
        "losses",
        "allocations",
        "payers",
        "vaults",
    ):
        assert (out / "data" / f"{table}.parquet").exists() and (
            out / "data" / f"{table}.csv"
        ).exists()


def test_simulate_cli__without_out__a_directory_per_command_leaves_make_runs_report(
    tmp_path, monkeypatch
):
    """`ape run simulate` without --out wrote to reports/<scenario>, the directory of `make run`'s
    reconciled report, so the README's next command replaced it with a model-only one (issue
    34). Now each command has its own directory; the same command again replaces its own."""
    monkeypatch.chdir(tmp_path)
    reconciled = tmp_path / "reports" / "black-thursday-2020"
    reconciled.mkdir(parents=True)
    (reconciled / "summary.md").write_text("the reconciled report")
    args = ["--vaults", "5", "--backend", "model"]
    for _ in range(2):
        result = CliRunner(mix_stderr=False).invoke(_cli(), args)
        assert result.exit_code == 0, result.output
        assert result.stderr == ""  # no progress bar's label when stderr is not a terminal
    mine = Path("reports") / "black-thursday-2020-model-5-vaults"
    assert f"report: {mine / 'summary.md'}" in result.output
    assert "model only" in (mine / "summary.md").read_text()
    assert (reconciled / "summary.md").read_text() == "the reconciled report"
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "black-thursday-2020",
        "black-thursday-2020-model-5-vaults",
    ]
    result = CliRunner().invoke(_cli(), [*args, "--seed", "3", "--waterfall", "fund,debt_auction"])
    assert result.exit_code == 0, result.output
    assert (
        tmp_path / "reports" / "black-thursday-2020-model-5-vaults-seed3-fund+debt_auction"
    ).is_dir()


def _compare_cli():
    return script_cli("compare-waterfalls")


def test_compare_waterfalls__orders__one_row_each_with_the_same_bad_debt_where_rates_do_not_move(
    tmp_path,
):
    out = tmp_path / "cmp"
    scenario = str(ROOT / "tests" / "sim" / "data" / "thin-liquidity-2020.toml")
    result = CliRunner().invoke(
        _compare_cli(),
        [
            "--scenario",
            scenario,
            "--out",
            str(out),
            "--orders",
            "fund,stability_pool;stability_pool,fund;debt_auction",
        ],
    )
    assert result.exit_code == 0, result.output
    import pandas as pd

    table = pd.read_csv(out / "comparison.csv")
    assert list(table.order) == ["fund -> stability_pool", "stability_pool -> fund", "debt_auction"]
    # the same auctions, so the same bad debt, paid by different layers
    realized = table.realized_bad_debt
    assert realized.nunique() == 1 and realized.iloc[0] > 0
    # the pool, first, pays everything; so does the debt auction alone (floats from exact wei sums)
    assert table.stability_pool.iloc[1] == pytest.approx(realized.iloc[1], rel=1e-12)
    assert table.fund.iloc[1] == 0
    assert table.debt_auction.iloc[2] == pytest.approx(realized.iloc[2], rel=1e-12)
    bad = CliRunner().invoke(
        _compare_cli(),
        ["--scenario", scenario, "--orders", "fund,bogus", "--out", str(tmp_path / "x")],
    )
    assert (
        bad.exit_code == 2
        and "unknown layer 'bogus'" in bad.output
        and not (tmp_path / "x").exists()
    )


@pytest.mark.parametrize(
    "orders, phrase",
    [
        (";", "--orders: an empty order in ';'"),
        ("fund;;debt_auction", "--orders: an empty order"),
        ("fund;fund", "--orders: the order 'fund' is given twice"),
        ("fund,debt_auction; fund , debt_auction", "the order 'fund,debt_auction' is given twice"),
        # ran fund -> redistribution, the empty layer dropped in silence (issue 65)
        (
            "fund,,redistribution",
            "--orders: an empty layer between commas in 'fund,,redistribution'",
        ),
    ],
)
def test_compare_waterfalls__empty_or_repeated_order__one_line_exit_2_nothing_written(
    tmp_path, orders, phrase
):
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        _compare_cli(), ["--vaults", "5", "--out", str(out), "--orders", orders]
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and phrase in lines[0], lines
    assert not out.exists()


def test_compare_waterfalls__without_out__one_directory_per_vaults_and_seed(tmp_path, monkeypatch):
    """Without --out, a comparison with --vaults or --seed writes its own directory (as simulate's
    runs do): a newcomer's `--vaults 200` comparison was replaced by the next default one."""
    monkeypatch.chdir(tmp_path)
    scenario = str(ROOT / "tests" / "sim" / "data" / "thin-liquidity-2020.toml")
    for extra, name in (
        # --orders: its own directory too (issue 47), after the vaults and the seed
        (["--vaults", "30"], "thin-liquidity-2020-30-vaults-fund-waterfalls"),
        (["--vaults", "30", "--seed", "7"], "thin-liquidity-2020-30-vaults-seed7-fund-waterfalls"),
    ):
        result = CliRunner().invoke(
            _compare_cli(), ["--scenario", scenario, "--orders", "fund", *extra]
        )
        assert result.exit_code == 0, result.output
        assert (tmp_path / "reports" / name / "comparison.md").is_file(), name
