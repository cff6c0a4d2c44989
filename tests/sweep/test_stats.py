"""The sweep's risk figures (offchain/sweep/stats.py) against their definitions written plainly,
the bootstrap's determinism, the best cell under a borrower-cost constraint, and a run's
borrower cost (offchain/sweep/runs.py) on tables built by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.report.tables import LAYERS, LOSS_PARTS
from offchain.sim.results import SimulationResult
from offchain.sweep.runs import FAILED, OK, borrower_cost
from offchain.sweep.stats import (
    Q95,
    Q99,
    CellStats,
    best_cell,
    bootstrap,
    cell_stats,
    cvar,
    idle_keys,
    var,
)


def _var_plain(xs: list[float], q: float) -> float:
    """The smallest x with at least q of the values at or below it."""
    for x in sorted(xs):
        if sum(v <= x for v in xs) >= q * len(xs) - 1e-9:
            return x
    raise AssertionError


def _cvar_plain(xs: list[float], q: float) -> float:
    k = max(1, math.ceil(round((1 - q) * len(xs), 9)))
    worst = sorted(xs)[-k:]
    return sum(worst) / k


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1e9, allow_nan=False), min_size=1, max_size=300))
def test_var_and_cvar__match_their_definitions(xs):
    x = np.sort(np.array(xs))
    for q, qf in ((Q95, 0.95), (Q99, 0.99)):
        assert float(var(x, q)) == _var_plain(xs, qf)
        assert float(cvar(x, q)) == pytest.approx(_cvar_plain(xs, qf), rel=1e-12, abs=1e-6)
        assert float(cvar(x, q)) >= float(var(x, q)) - 1e-6


def test_var__100_runs__the_95th_smallest():
    x = np.arange(1.0, 101.0)  # 1..100
    assert var(x, Q95) == 95.0 and var(x, Q99) == 99.0
    assert cvar(x, Q95) == np.mean([96.0, 97.0, 98.0, 99.0, 100.0])


def test_bootstrap__seeded_by_its_key__intervals_bracket_the_estimate():
    rng = np.random.default_rng(1)
    x = rng.lognormal(10, 1, size=400)
    a, b = bootstrap(x, "cell/0"), bootstrap(x, "cell/0")
    assert a == b and bootstrap(x, "cell/1") != a
    s = np.sort(x)
    assert a["mean"][0] < s.mean() < a["mean"][1]
    assert a["var95"][0] <= float(var(s, Q95)) <= a["var95"][1]
    assert a["cvar95"][0] <= float(cvar(s, Q95)) <= a["cvar95"][1]


def _rows(
    bad_debt: list[float], cost: float, failed: int = 0, insolvency: list[float] | None = None
) -> pd.DataFrame:
    n = len(bad_debt)
    rows = {
        "status": [OK] * n + [FAILED] * failed,
        "insolvency": (bad_debt if insolvency is None else insolvency) + [None] * failed,
        "realized_bad_debt": bad_debt + [None] * failed,
        "auctions_running_at_end": [0] * n + [None] * failed,
        "liquidated_value": [1.0] * n + [None] * failed,
        "vaults_liquidated": [1] * n + [None] * failed,
        "liquidation_delay_median_s": [60.0] * n + [None] * failed,
        "clearing_discount": [0.1] * n + [None] * failed,
        "borrower_cost_rate": [cost] * n + [None] * failed,
        "staker_loss_share": [0.0] * n + [None] * failed,
        "uncovered": [0.0] * n + [None] * failed,
        "time_to_clear_s": [3_600.0] * n + [None] * failed,
        **{f"loss_{part}": [0.0] * n + [None] * failed for part in LOSS_PARTS},
        "largest_payer_kind": ["fund"] * n + [None] * failed,
    }
    for layer in LAYERS:  # every layer a run's results have a column for
        rows[f"paid_{layer}"] = (bad_debt if layer == "fund" else [0.0] * n) + [None] * failed
    return pd.DataFrame(rows)


def test_cell_stats__failed_runs_counted_not_measured():
    s = cell_stats(0, "s", ("1",), _rows([0.0, 10.0, 20.0, 30.0], 0.1, failed=2), "k", 200)
    assert (s.runs, s.failed) == (4, 2)
    f = s.figures
    assert f["mean"] == 15.0 and f["var95"] == 30.0 and f["p_bad_debt"] == 0.75
    assert f["realized_mean"] == 15.0 and f["p_insolvent"] == 0.75
    assert f["time_to_clear_mean_s"] == 3_600.0
    assert f["paid_fund_share"] == 1.0 and f["paid_stability_pool_mean"] == 0.0
    assert f["largest_payer_kinds"] == {"fund": 4}
    none = cell_stats(1, "s", ("2",), _rows([], 0.1, failed=3), "k", 200)
    assert (none.runs, none.failed, none.figures) == (0, 3, {})


def test_best_cell__lowest_var95_within_the_borrower_cost():
    def cell(i: int, var95: float, mean: float, cost: float) -> CellStats:
        figures = {"var95": var95, "mean": mean, "borrower_cost_rate_mean": cost}
        return CellStats(i, "s", (str(i),), 10, 0, figures)

    cells = [cell(0, 50.0, 10.0, 0.30), cell(1, 80.0, 5.0, 0.10), cell(2, 80.0, 4.0, 0.12)]
    assert best_cell(cells, None) == (cells[0], 3)
    assert best_cell(cells, 0.2) == (cells[2], 2)  # same VaR95: the lower mean
    assert best_cell(cells, 0.05) == (None, 0)


def test_borrower_cost__collateral_sold_at_market_less_debt_plus_redistribution():
    """Money flow: auction 1 seized 1,000 of debt and sold 5 tokens worth 250 each at the market
    (1,250): the borrower lost 250 beyond the debt (penalty and discount). Auction 2 seized 1,000
    and sold everything, worth 800: the vault was under water, it lost nothing more. Auction 3 is
    still running: not counted. Redistribution charged vaults 40."""
    takes = pd.DataFrame(
        {
            "auction_id": [1, 1, 2, 3],
            "collateral": [2.0, 3.0, 4.0, 1.0],
            "market_price": [250.0, 250.0, 200.0, 300.0],
        }
    )
    losses = pd.DataFrame(
        {"auction_id": [1, 2, 3], "debt": [1000.0, 1000.0, 500.0], "closed": [10, 20, None]}
    )
    payers = pd.DataFrame(
        {
            "payer": ["vault a", "vault b", "staker x"],
            "kind": ["vault", "vault", "staker"],
            "layer": ["redistribution", "redistribution", "stability_pool"],
            "amount": [30.0, 10.0, 99.0],
        }
    )
    result = SimulationResult("s", "model", {"takes": takes, "losses": losses, "payers": payers})
    assert borrower_cost(result) == 250.0 + 40.0


def test_borrower_cost__adds_the_soft_liquidations_bonus_at_market__the_first_types():
    """Money flow: an ETH-A owner's soft liquidation repaid 1,000 of debt for 0.51 tokens worth
    2,000 each at its bar's market (1,020): the owner gave up 20, the bonus. A WBTC-A one (the
    second type, whose auctions the takes table leaves out too) is not counted. No auction."""
    empty = pd.DataFrame({"auction_id": [], "collateral": [], "market_price": []})
    losses = pd.DataFrame({"auction_id": [], "debt": [], "closed": []})
    payers = pd.DataFrame({"payer": [], "kind": [], "layer": [], "amount": []})
    soft = pd.DataFrame(
        {
            "collateral_type": ["ETH-A", "WBTC-A"],
            "debt": [1000.0, 3000.0],
            "collateral": [0.51, 0.102],
            "market_price": [2000.0, 30000.0],
            "bonus_at_market": [20.0, 60.0],
        }
    )
    tables = {"takes": empty, "losses": losses, "payers": payers, "soft_liquidations": soft}
    result = SimulationResult("s", "model", tables, {"collateral_type": "ETH-A"})
    assert borrower_cost(result) == 20.0


def test_best_cell__ranks_by_insolvency__not_by_the_realized_bad_debt_a_cut_run_hides():
    """A cell whose runs end with their losses still in auction realizes none of them: judged by
    realized bad debt it would look safest. Its insolvency (the marked shortfall included) is
    what the recommendation ranks."""
    hidden = cell_stats(0, "s", ("shallow",), _rows([0.0] * 4, 0.1, insolvency=[90.0] * 4), "a", 50)
    shown = cell_stats(1, "s", ("deep",), _rows([50.0] * 4, 0.1), "b", 50)
    assert hidden.figures["realized_var95"] == 0.0 and hidden.figures["var95"] == 90.0
    assert hidden.figures["p_bad_debt"] == 0.0 and hidden.figures["p_insolvent"] == 1.0
    best, eligible = best_cell([hidden, shown], None)
    assert (best, eligible) == (shown, 2)


def test_idle_keys__a_key_is_idle_when_every_pair_differing_in_it_alone_agrees():
    def cell(i: int, values: tuple[str, ...], mean: float, runs: int = 4) -> CellStats:
        figures = {"mean": mean, "var95": mean, "var95_lo": float(i), "var95_hi": float(i)}
        return CellStats(i, "s", values, runs, 0, figures)

    names = ("pool", "penalty")
    cells = [
        cell(0, ("1", "a"), 5.0),
        cell(1, ("2", "a"), 5.0),  # pool changes nothing with penalty a ...
        cell(2, ("1", "b"), 7.0),
        cell(3, ("2", "b"), 7.0),  # ... nor with b (intervals aside); penalty does
    ]
    assert idle_keys(cells, names) == ["pool"]
    cells[3] = cell(3, ("2", "b"), 8.0)
    assert idle_keys(cells, names) == []
    cells[3] = cell(3, ("2", "b"), 8.0, runs=0)  # a cell without runs makes no pair
    assert idle_keys(cells, names) == ["pool"]
