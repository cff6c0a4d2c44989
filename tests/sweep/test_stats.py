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
from offchain.sim.results.tables import SimulationResult
from offchain.sweep.runs import FAILED, OK, borrower_cost
from offchain.sweep.stats import (
    Q95,
    Q99,
    SIZED,
    CellStats,
    best_cell,
    bootstrap,
    cell_stats,
    cvar,
    figure_key,
    idle_keys,
    recommend,
    var,
    var_interval,
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
        "holders_loss": [0.0] * n + [None] * failed,
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


def test_cell_stats__every_sized_figure__its_own_var_es_and_intervals():
    """What a backstop is sized by (issue 65): each SIZED figure (what each layer paid, what no
    layer paid, the holders' loss) gets insolvency's statistics under its own name, from its own
    column, with its own bootstrap stream."""
    rows = _rows([float(x) for x in range(40)], 0.1)
    rows["uncovered"] = [float(x % 7) for x in range(40)]
    rows["holders_loss"] = [float(2 * x) for x in range(40)]
    s = cell_stats(0, "s", ("1",), rows, "k", 200)
    f = s.figures
    for figure in SIZED:
        x = np.sort(rows[figure].to_numpy(dtype=float))
        k = lambda stat, figure=figure: figure_key(figure, stat)  # noqa: E731
        assert f[k("mean")] == pytest.approx(x.mean())
        assert f[k("var95")] == float(var(x, Q95)) and f[k("var99")] == float(var(x, Q99))
        assert f[k("cvar95")] == pytest.approx(float(cvar(x, Q95)))
        assert (f[k("var95_lo")], f[k("var95_hi")]) == var_interval(x, Q95)
        assert f[k("mean_lo")] <= f[k("mean")] <= f[k("mean_hi")]
        assert f[k("var99_worst_run")] is True  # 40 runs: VaR99 is the worst
    assert f["holders_loss_var95"] == 2 * f["var95"]  # holders' loss = 2 x insolvency here
    assert f["uncovered_var95"] == 6.0
    # the headline's keys are unprefixed, as before
    assert figure_key("insolvency", "var95") == "var95"


def test_recommend__by_another_figure__ranks_its_var95():
    """--rank-by: the same cells ranked by what no layer paid instead of insolvency."""

    def cell(i: int, insolvency: float, unpaid: float) -> CellStats:
        figures = {"borrower_cost_rate_mean": 0.1}
        for figure, v in (("insolvency", insolvency), ("uncovered", unpaid)):
            for stat in ("var95", "mean"):
                figures[figure_key(figure, stat)] = v
            figures[figure_key(figure, "var95_lo")] = v - 1
            figures[figure_key(figure, "var95_hi")] = v + 1
        return CellStats(i, "s", (str(i),), 100, 0, figures)

    cells = [cell(0, 10.0, 50.0), cell(1, 20.0, 5.0)]
    assert recommend(cells, None).cell is cells[0]
    assert recommend(cells, None, "uncovered").cell is cells[1]
    assert best_cell(cells, None, "uncovered") == (cells[1], 2)


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


# --- honest uncertainty: order-statistic intervals, the worst run, the recommendation -----------


def test_binomial_cdf__matches_the_exact_sum():
    from fractions import Fraction

    from offchain.sweep.stats import binomial_cdf

    for n in (1, 5, 20, 73):
        q = Fraction(95, 100)
        exact = [
            float(sum(math.comb(n, j) * q**j * (1 - q) ** (n - j) for j in range(k + 1)))
            for k in range(n + 1)
        ]
        assert binomial_cdf(n, 0.95) == pytest.approx(exact, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("n", [2, 5, 19, 20, 50, 71, 72, 100, 367, 368, 1000])
def test_var_ranks__cover_at_least_95__and_are_the_tightest_such_ranks(n):
    """P(x_(l) <= the q-quantile <= x_(u)) = P(l <= Bin(n, q) + 1 <= u) >= 95%, l as high and u as
    low as the 2.5% in each tail allow; a side without such a rank is unbounded."""
    from offchain.sweep.stats import binomial_cdf, var_ranks

    for q, qf in ((Q95, 0.95), (Q99, 0.99)):
        cdf = binomial_cdf(n, qf)
        lo, hi = var_ranks(q, n)
        below = 0.0 if lo is None else cdf[lo - 1]  # P(fewer than l runs below the quantile)
        above = 1.0 if hi is None else cdf[hi - 1]
        assert above - below >= 0.95 - 1e-12
        if lo is not None:
            assert cdf[lo - 1] <= 0.025 + 1e-12 and (lo == n or cdf[lo] > 0.025 + 1e-12)
        else:
            assert cdf[0] > 0.025
        if hi is not None:
            assert cdf[hi - 1] >= 0.975 - 1e-12 and (hi == 1 or cdf[hi - 2] < 0.975 - 1e-12)
        else:
            assert cdf[n - 1] < 0.975  # even the worst run does not bound it


def test_var_interval__covers_the_true_quantile_in_at_least_95_of_samples():
    """Monte Carlo against the definition: 2,000 samples of 100 exponential runs, whose 95th
    percentile is ln(20): the interval holds it in at least 95% of them (less 1% of noise)."""
    from offchain.sweep.stats import var_interval

    rng = np.random.default_rng(7)
    truth = math.log(20)
    hits = 0
    for _ in range(2000):
        lo, hi = var_interval(np.sort(rng.exponential(size=100)), Q95)
        assert lo is not None and hi is not None
        hits += lo <= truth <= hi
    assert hits / 2000 >= 0.94


def test_worst_run__var_and_cvar_say_when_they_are_the_maximum__and_how_many_runs_are_needed():
    from offchain.sweep.stats import (
        BOUNDED_FROM,
        CVAR_WORST_RUN_UNTIL,
        WORST_RUN_UNTIL,
        cvar_is_worst_run,
        var_interval,
        var_is_worst_run,
    )

    assert WORST_RUN_UNTIL == {Q95: 20, Q99: 100}
    assert CVAR_WORST_RUN_UNTIL == {Q95: 21, Q99: 101}
    assert BOUNDED_FROM == {Q95: 72, Q99: 368}  # q^n <= 2.5%
    for n in range(1, 400):
        x = np.arange(1.0, n + 1.0)  # distinct: the maximum is the last
        for q in (Q95, Q99):
            assert var_is_worst_run(q, n) == (float(var(x, q)) == x[-1])
            k = max(1, math.ceil(round(float(1 - q) * n, 9)))
            assert cvar_is_worst_run(q, n) == (k == 1)
            assert (var_interval(x, q)[1] is None) == (n < BOUNDED_FROM[q])


def test_cell_stats__five_runs__var_is_the_worst_run__unbounded_above():
    s = cell_stats(0, "s", ("1",), _rows([1.0, 2.0, 3.0, 4.0, 5.0], 0.1), "k", 200)
    f = s.figures
    assert f["var95"] == f["var99"] == f["cvar95"] == 5.0
    assert f["var95_worst_run"] and f["var99_worst_run"] and f["cvar95_worst_run"]
    assert f["var95_hi"] is None and f["var99_hi"] is None and f["cvar95_hi"] is None
    assert f["var95_lo"] == 4.0  # x_(4): P(Bin(5, 0.95) <= 3) = 2.26% <= 2.5%


def _cell(i: int, var95: float, lo: float | None, hi: float | None, runs: int = 100) -> CellStats:
    figures = {
        "var95": var95,
        "var95_lo": lo,
        "var95_hi": hi,
        "mean": var95 / 2,
        "borrower_cost_rate_mean": 0.1,
    }
    return CellStats(i, "s", (str(i),), runs, 0, figures)


def test_recommend__only_a_cell_whose_interval_lies_below_every_other():
    from offchain.sweep.stats import recommend

    a, b, c = _cell(0, 10.0, 8.0, 12.0), _cell(1, 20.0, 15.0, 25.0), _cell(2, 30.0, 26.0, 40.0)
    rec = recommend([a, b, c], None)
    assert rec.cell is a and rec.overlapping == () and rec.eligible == 3
    # b's interval reaches down to a's: no recommendation; the runs that would separate them:
    # 100 x ((12 - 10) + (20 - 11)) / (20 - 10))^2 = 121
    b = _cell(1, 20.0, 11.0, 25.0)
    rec = recommend([a, b, c], None)
    assert rec.cell is None and rec.lowest is a and rec.overlapping == (b,)
    assert (rec.seeds_needed, rec.at_least) == (121, False)
    # overlapping intervals need more runs than they have (the facing half-widths add up to at
    # least the gap), and never fewer than a bounded VaR95 needs: 50 x (20.1 / 20)^2 -> 72
    small = [_cell(0, 10.0, 8.0, 12.0, 50), _cell(1, 30.0, 11.9, 35.0, 50)]
    assert (recommend(small, None).seeds_needed, recommend(small, None).at_least) == (72, False)
    # an unbounded interval: only the floor, as "at least"
    rec = recommend([_cell(0, 10.0, 8.0, None, 5), _cell(1, 20.0, 15.0, None, 5)], None)
    assert rec.cell is None and (rec.seeds_needed, rec.at_least) == (72, True)
    # equal point estimates (all zero): no estimate
    rec = recommend([_cell(0, 0.0, 0.0, 0.0), _cell(1, 0.0, 0.0, 0.0)], None)
    assert rec.cell is None and rec.seeds_needed is None
    # a single eligible cell: nothing to separate from
    assert recommend([a], None).cell is a


# --- waits from unsafe to liquidated: Kaplan-Meier, the never liquidated censored ---------------


def test_kaplan_meier__against_the_product_limit_by_hand():
    """Events at 1, 2, 2, 4; censored at 3 and 5. S(1) = 5/6 (one of six at risk); S(2) = 5/6 x
    3/5 = 1/2 (two of the five at risk); 3 censored; S(4) = 1/2 x 1/2 (two at risk: 4 and 5); the
    median is 2 (the first S <= 1/2)."""
    from offchain.report.survival import kaplan_meier

    c = kaplan_meier(np.array([1, 2, 2, 3, 4, 5]), np.array([1, 1, 1, 0, 1, 0], bool))
    assert c.times == (1.0, 2.0, 4.0)
    assert c.survival == pytest.approx((5 / 6, 1 / 2, 1 / 4))
    assert c.median == 2.0 and c.quantile(0.7) == 4.0 and c.quantile(0.9) is None
    assert (c.events, c.censored, c.longest_censored) == (4, 2, 5.0)
    assert c.at(3.0) == pytest.approx(1 / 2)


def test_kaplan_meier__no_censoring__the_empirical_quantile():
    from offchain.report.survival import kaplan_meier

    d = np.array([5.0, 1.0, 3.0, 2.0, 4.0, 6.0])
    c = kaplan_meier(d, np.ones(6, bool))
    assert c.median == 3.0  # the smallest t with half of them at or below
    assert c.quantile(1.0) == 6.0


def test_kaplan_meier__most_never_liquidated__median_not_reached_never_zero():
    """The case a median of the liquidated alone gets wrong: 10 liquidated at once (0 s) and 90
    vaults left unsafe for hours: the liquidated alone say "median 0 s"; the curve says it was
    not reached."""
    from offchain.report.survival import describe, kaplan_meier

    d = np.concatenate([np.zeros(10), np.full(90, 9.5 * 3600)])
    e = np.concatenate([np.ones(10, bool), np.zeros(90, bool)])
    c = kaplan_meier(d, e)
    assert c.median is None and c.at(0.0) == pytest.approx(0.9)
    text = describe(c)
    assert "median not reached (> 570.0 min)" in text and "90 never liquidated" in text


def test_unsafe_spells__liquidations_are_events__vaults_left_unsafe_are_censored_at_the_end():
    from offchain.report.survival import unsafe_spells

    vaults = pd.DataFrame(
        {"owner": ["a", "b", "c", "d"], "unsafe_since": [100.0, 200.0, None, 700.0]}
    )
    liquidations = pd.DataFrame({"delay_s": [60, 120]})  # a and b, liquidated
    exposure = pd.DataFrame(
        {"kind": ["auction", "vault", "vault"], "owner": [None, "c", "d"]}
    )  # c unsafe only at the last market price; d since 700
    c = unsafe_spells(vaults, liquidations, exposure, end=1000)
    assert (c.events, c.censored) == (2, 2)
    assert c.longest_censored == 300.0 and c.times == (60.0, 120.0)
    assert c.survival == pytest.approx((2 / 3, 1 / 3))  # c's 0 s is at risk at no event time
