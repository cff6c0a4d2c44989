"""Bars after the data are marked in a run's tables (issue 65: 244 of Black Thursday's 642
liquidations happened in the 36 synthetic bars after the price file's last row, unmarked): every
table with a `bar` column has `after_data`, True exactly for the bars past the file's rows (the
tail and the drain, at the last row's price)."""

from __future__ import annotations

from pathlib import Path

from offchain.sim.results.tables import AFTER_DATA, TABLES
from offchain.sim.run.driver import simulate
from offchain.sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
THIN = str(ROOT / "tests" / "sim" / "data" / "thin-liquidity-2020.toml")


def test_after_data__tail_bars_marked_in_every_table_with_bars():
    scenario = load_scenario(THIN)  # the day's 144 rows, then a tail of 36 bars
    result = simulate(scenario, "model", full_check_every=None)
    rows = result.facts["path_bars"]
    assert rows == len(scenario.market.prices) == 144
    bars = result.tables["bars"]
    assert len(bars) == rows + 36
    assert list(bars[AFTER_DATA]) == [False] * rows + [True] * 36
    with_bars = [name for name in TABLES if "bar" in TABLES[name]]
    assert {"bars", "liquidations", "takes", "types", "events", "txs"} <= set(with_bars)
    for name in with_bars:
        table = result.tables[name]
        assert list(table.columns) == [*TABLES[name], AFTER_DATA], name
        assert (table[AFTER_DATA] == (table["bar"] >= rows)).all(), name
    # the tables without bars have none
    assert AFTER_DATA not in result.tables["losses"].columns
    # this crash liquidates in the tail too: those rows say so
    liquidations = result.tables["liquidations"]
    assert liquidations[AFTER_DATA].any() and not liquidations[AFTER_DATA].all()
