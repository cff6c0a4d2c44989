"""The oracle's phase against the bars as a stated factor (offchain/sim/scenario/timeline.py): the
default is the phase every replay ran with before it was a key (to the wei), a set phase moves the
oracle's first poke where it says, bad phases are one line, `--phases all` reports the spread
over the oracle's period, and a sweep draws the phase per seed. Model only: no chain."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.report import phases
from offchain.sim.run.driver import simulate
from offchain.sim.scenario.load import ScenarioError, load_scenario, with_phase
from offchain.sim.scenario.timeline import (
    DEFAULT_AGE,
    default_phase,
    drawn_phase,
    oracle_phase,
    period_phases,
)
from offchain.sweep.runs import run_scenario
from offchain.sweep.spec import RunTask

ROOT = Path(__file__).resolve().parents[2]
PRICES = "data/market/eth_usd_2021-05-19.csv"


def _tables_equal(a, b) -> None:
    assert a.tables.keys() == b.tables.keys()
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, obj=name)


def _pokes(result) -> pd.DataFrame:
    txs = result.tables["txs"]
    return txs[(txs["function"] == "poke") & (txs["contract"] == "PriceOracle")]


@pytest.fixture(scope="module")
def may():
    return load_scenario("may-2021", vaults=120)


def test_default_phase__is_todays__an_explicit_default_is_the_same_run_to_the_wei(may):
    """No phase set: the set-up's last poke 600 s before the first bar (as before the key
    existed), the stated phase 3,000 s; the same phase given explicitly: every table equal."""
    assert may.market.oracle_phase is None
    assert default_phase(may) == oracle_phase(may) == 3600 - DEFAULT_AGE == 3000
    default = simulate(may, "model", full_check_every=None)
    first_bar = int(default.tables["bars"]["time"].iloc[0])
    pokes = _pokes(default)
    assert int(pokes[pokes["bar"] < 0]["time"].iloc[-1]) == first_bar - 600
    explicit = simulate(with_phase(may, 3000, "test"), "model", full_check_every=None)
    _tables_equal(default, explicit)
    assert default.facts["insolvency"] == explicit.facts["insolvency"]


@pytest.mark.parametrize("phase", [0, 600, 1800, 2999])
def test_a_phase__the_first_poke_of_the_replay_at_the_first_bar_past_it(may, phase):
    result = simulate(with_phase(may, phase, "test"), "model", full_check_every=None)
    bars = result.tables["bars"]
    first_bar = int(bars["time"].iloc[0])
    pokes = _pokes(result)
    setup, run = pokes[pokes["bar"] < 0], pokes[pokes["bar"] >= 0]
    assert int(setup["time"].iloc[-1]) == first_bar + phase - 3600
    due = first_bar + phase
    expected_bar = int(bars[bars["time"] >= due]["bar"].iloc[0])
    assert int(run["bar"].iloc[0]) == expected_bar


def test_phases__move_the_result():
    """The reason the phase is stated: on may-2021 (1,000 vaults) the six phases give six
    insolvencies (27,783 to 70,044 when the reserves were first read per bar)."""
    table = phases.spread(load_scenario("may-2021", vaults=1000))
    assert list(table["phase"]) == [0, 600, 1200, 1800, 2400, 3000]
    assert table["insolvency"].nunique() == 6
    assert table["insolvency"].max() > 2 * table["insolvency"].min()


def test_phase_spread__reuses_the_reported_run__and_its_summary_is_min_median_max(may):
    run = simulate(may, "model", full_check_every=None)
    table = phases.spread(may, done={3000: run})
    again = simulate(with_phase(may, 3000, "t"), "model", full_check_every=None)
    row = table[table["phase"] == 3000].iloc[0]
    assert row["insolvency"] == again.facts["insolvency"]
    s = phases.summary(table).set_index("figure")
    for column in phases.LABELS:
        x = sorted(table[column])
        assert s.loc[column, "min"] == x[0] and s.loc[column, "max"] == x[-1]
        assert s.loc[column, "median"] == (x[2] + x[3]) / 2  # six phases: the middle two
        assert table.loc[table["phase"] == s.loc[column, "phase_min"], column].iloc[0] == x[0]


def test_period_phases__one_per_bar_below_the_delay__the_seed_draws_each_once(may):
    assert period_phases(may) == (0, 600, 1200, 1800, 2400, 3000)
    drawn = [drawn_phase(may, seed) for seed in range(12, 18)]
    assert sorted(drawn) == list(period_phases(may))
    assert drawn_phase(may, 12) == drawn_phase(may, 18)


def test_sweep_run__draws_the_phase_by_its_seed__a_set_phase_stays(may):
    for seed in (5, 6, 7):
        s = run_scenario(RunTask(0, 0, seed, may))
        assert s.seed == seed and oracle_phase(s) == period_phases(may)[seed % 6]
    fixed = with_phase(may, 1200, "t")
    for seed in (5, 6, 7):
        assert oracle_phase(run_scenario(RunTask(0, 0, seed, fixed))) == 1200


# (a quoted "600" is 600, as config amounts may be strings: "6e2" is not an integer's digits)
@pytest.mark.parametrize("bad", [3600, -1, 10**6, "6e2", 1.5, True])
def test_bad_phase__one_line_naming_the_key(tmp_path, bad):
    value = f'"{bad}"' if isinstance(bad, str) else str(bad).lower()
    path = tmp_path / "s.toml"
    path.write_text(f'[market]\nprices = "{PRICES}"\noracle_phase = {value}\n')
    with pytest.raises(ScenarioError) as exc:
        load_scenario(str(path))
    message = str(exc.value)
    assert "\n" not in message and "market.oracle_phase" in message, message


def test_phase_below_a_grid_cells_delay__checked_with_the_cells_delay(tmp_path):
    """The bound is the delay of the scenario as loaded (an override's delay included)."""
    path = tmp_path / "s.toml"
    path.write_text(f'[market]\nprices = "{PRICES}"\noracle_phase = 1800\n')
    assert load_scenario(str(path)).market.oracle_phase == 1800
    with pytest.raises(
        ScenarioError, match=r"market.oracle_phase: must be an integer from 0 to 1,199"
    ):
        load_scenario(
            str(path), overrides={"protocol.collateral_overrides": {"oracle_delay": 1200}}
        )


def _cli():
    return script_cli("simulate")


def test_simulate_cli__phase_at_the_delay__one_line_exit_2_nothing_written(tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(
        _cli(),
        [
            "--scenario",
            "may-2021",
            "--backend",
            "model",
            "--oracle-phase",
            "3600",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--oracle-phase: must be an integer from 0 to 3,599" in lines[0]
    assert not out.exists()


def test_simulate_cli__phases_all__the_report_states_the_phase_and_the_spread(tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(
        _cli(),
        [
            "--scenario",
            "may-2021",
            "--vaults",
            "120",
            "--backend",
            "model",
            "--phases",
            "all",
            "--oracle-phase",
            "600",
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "oracle phase: 600 s" in result.output
    assert "oracle phases (6): insolvency min" in result.output
    assert "oracle phases (6): liquidations min " in result.output
    text = (out / "summary.md").read_text()
    assert "| oracle phase | 600 s (set)" in text
    assert "## The oracle's phase" in text and "| 600 s (this report) |" in text
