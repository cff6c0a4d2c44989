"""Backstop's counterfactual of a history day held like for like (offchain/history/
counterfactual.py; the other side a model of MakerDAO's mechanism, not Backstop's): the runs it
asks for, the interval over them against its bound with the quantity that spreads it named, and
the cap sweep's median and worst over the phases. The figures here are given, not run."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import pytest

from offchain.history import capital, counterfactual
from offchain.history.backstop import COUNTERFACTUALS, sweep_caps, values
from offchain.history.counterfactual import Grid
from offchain.model.fixed_point import RAD

BT = "black-thursday-2020"
SHARES = (Fraction(1, 200), Fraction(1, 100), Fraction(1, 20))
PHASES = (0, 600, 1200, 1800, 2400, 3000)


def test_tasks__calibration_and_sweep_first__the_grid_over_the_kept_capitals(tmp_path):
    first = counterfactual.tasks_of(BT, {}, tmp_path)
    kinds = [t[2][0] for t in first]
    caps = sweep_caps(COUNTERFACTUALS[BT], values())
    assert kinds.count("capital") == len(capital.GRID_2020) + 2
    assert kinds.count("cap") == len(caps) * len(PHASES)
    assert "maker-cap" not in kinds  # the 2020 Cat had no cap to sweep
    keep = counterfactual.kept(BT, None, {}, {})
    _, low, high = capital.committed()
    value = capital.committed()[0]
    assert keep == (3 * low, 3 * value, 3 * high)
    grid = counterfactual.interval_tasks(BT, {}, tmp_path, keep)
    assert sorted(t[2] for t in grid) == sorted(
        ("interval", c, s, p) for c in keep for s in SHARES for p in PHASES
    )
    one = next(t for t in grid if t[2] == ("interval", keep[0], SHARES[2], 600))
    assert one[3] == {("keepers", "taker_capital"): str(keep[0])}
    assert one[6] == {"venue_share": SHARES[2]} and one[4] == 600
    closed = counterfactual.interval_tasks(BT, {"outside": "closed"}, tmp_path, keep[:1])
    assert {t[2][2] for t in closed} == {None} and len(closed) == len(PHASES)
    may = counterfactual.tasks_of("may-2021", {}, tmp_path)
    holes = [t for t in may if t[2][0] == "maker-cap"]
    assert [t[3] for t in holes][-1] == {"hole": 1_640_000_000 * RAD, "Hole": 1_640_000_000 * RAD}
    assert len(holes) == len(sweep_caps(COUNTERFACTUALS["may-2021"], values(cf=COUNTERFACTUALS[
        "may-2021"]))) - 1  # fmt: skip


def _results(cell) -> dict:
    return {
        ("interval", c, s, p): SimpleNamespace(insolvency=cell(c, s, p))
        for c in (1, 2)
        for s in SHARES
        for p in PHASES
    }


def test_grid__the_widest_spread_of_each_quantity_with_the_others_held():
    grid = Grid.of(_results(lambda c, s, p: 1e6 * c * (1 + p / 600)))
    assert (grid.low, grid.high) == (1e6, 12e6)
    (lo, hi), at = grid.spread(2)  # the phase: x6 at either capital
    assert hi / lo == 6 and at.startswith("at capital 1, share")
    (lo, hi), _ = grid.spread(0)  # the capital: x2
    assert hi / lo == 2
    (lo, hi), _ = grid.spread(1)  # the share: none
    assert hi == lo
    assert grid.only((2,)).low == 2e6


def test_interval_section__within_the_bound__or_the_spreader_named(monkeypatch):
    monkeypatch.setattr(counterfactual, "calibrated_keepers", lambda: 3)
    keep = (1, 2)
    narrow = counterfactual.interval_section(
        BT, _results(lambda c, s, p: 1e6 * (1 + c / 10)), {}, keep
    )
    assert "**The interval: 1.10M to 1.20M, a factor of 1.1** (at most 3: within)." in narrow
    assert "What spreads it" not in narrow
    wide = counterfactual.interval_section(
        BT, _results(lambda c, s, p: 1e5 * c * (1 + p / 300)), {}, keep
    )
    assert "a factor of 22.0** (more than 3)." in wide
    assert "What spreads it: **the oracle's phase**, alone up to a factor of 11.0" in wide
    none = counterfactual.interval_section(BT, _results(lambda c, s, p: 0.0 + p), {}, keep)
    assert "unbounded (from none)" in none


def test_cap_section__median_worst_and_best_over_the_phases():
    cf = COUNTERFACTUALS[BT]
    results = {
        ("cap", caps[0], p): SimpleNamespace(insolvency=1e6 * (k + 1) + p)
        for k, (caps, _) in enumerate(sweep_caps(cf, values()))
        for p in PHASES
    }
    text = counterfactual.cap_section(BT, results, {})
    assert "| 5,000,000 |  | 1.00M | 1.00M | 1.00M |" in text
    assert "| 129,000,000 | the rule: none, as the 2020 Cat had none (A12)" in text
    assert "its model is not run here" in text


class _Written(Exception):
    """Raised in place of the replay: the task's inputs are written, its scenario loaded."""


def test_tasks__set_reaches_every_run_of_the_counterfactual(tmp_path, monkeypatch):
    """`--set` reaches each of this module's runs: the models of MakerDAO's (the calibration,
    the check, the cap sweep's `hole`) carry it in their settings, and Backstop's (the cap
    sweep, the interval) write it into their scenario, with the run's caps and capital."""
    from offchain.history import tasks
    from offchain.history.days import day
    from offchain.history.days.settings import parse_overrides
    from offchain.model.fixed_point import WAD

    scenarios = []

    def written(scenario, **_):
        scenarios.append(scenario)
        raise _Written

    monkeypatch.setattr("offchain.history.backstop.replay", written)
    for name in (BT, "may-2021"):
        given = parse_overrides(day(name).SETTINGS, ("dai_price=1.008",))
        cf = COUNTERFACTUALS[name]
        runs = counterfactual.tasks_of(name, given, tmp_path / name)
        runs += counterfactual.interval_tasks(name, given, tmp_path / name, (12_000_000,))
        history = [t for t in runs if t[0] == "history"]
        assert history and all(t[3]["dai_price"] == Fraction(1008, 1000) for t in history)
        backstop = [t for t in runs if t[0] == "counterfactual"]
        assert len(backstop) == len(sweep_caps(cf, values(cf=cf))) * 6 + 6 * 3
        # each run of a cap and a capital once, at a phase that moves from one to the next (its
        # runs differ by the phase alone, asserted; each writes and loads a scenario, a second
        # or more apiece)
        runs_of: dict[tuple, list] = {}
        for task in backstop:
            runs_of.setdefault((task[2][:-1], repr(task[3]), task[7]), []).append(task)
        assert all(len(group) == 6 for group in runs_of.values())
        for i, group in enumerate(runs_of.values()):
            task = group[i % len(group)]
            with pytest.raises(_Written):
                tasks.run_task(task)
            s = scenarios[-1]
            assert s.market.oracle_phase == task[4], task
            assert s.market.stable_price.at(0) == WAD * 1008 // 1000, task
            caps = task[7] or cf.caps(values(given, cf))
            assert s.system.collateral[0].auction_cap == caps[0] * RAD, task
            capital = task[3].get(("keepers", "taker_capital"))
            if capital is not None:
                assert s.keepers.taker_capital == int(capital) * WAD, task
