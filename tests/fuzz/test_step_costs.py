"""`make bench`'s account of where a checked fuzz step's time goes (offchain/bench/step_costs.py,
offchain/bench/figures.py's `step_cost_figures`): each call's own time is counted once, under its
path; the timed run does the work an untimed one does; every part is put back; a part that is
gone is refused before anything is wrapped; and the figures add up to the step. The share of the
computed views compared is the run's counts', and a run that counted none is refused."""

from __future__ import annotations

import itertools
import time

import click
import pytest
from hypothesis import Phase

from offchain.bench import step_costs as step_costs_module
from offchain.bench.figures import (
    CHECKER_PARTS,
    STEP_GROUPS,
    computed_views_share,
    step_cost_figures,
)
from offchain.bench.step_costs import OPTIONAL_PARTS, PARTS, Costs, step_costs, timed
from offchain.testing.checking import Checker
from offchain.testing.fuzz import Profile, run_machine

_RUN = Profile(examples=3, steps=10, derandomize=True)


def test_timed__own_time_per_path__a_label_repeated_at_once_counts_once(monkeypatch):
    """f (0..10) calls g (1..3) and h (4..9), h calls f' under f's label (5..6): own times f 10 -
    2 - 5 = 3, g 2, h 5 - 1 = 4, and f' 1 under f > h > f; f calling f directly is one label."""
    ticks = iter([0, 1, 3, 4, 5, 6, 9, 10, 20, 21, 22, 25])
    monkeypatch.setattr(step_costs_module.time, "perf_counter", lambda: next(ticks))
    costs, stack = Costs(), []

    def g():
        pass

    def inner():
        pass

    def h():
        timed_inner()

    def f():
        timed_g()
        timed_h()

    def twice():
        timed_once()

    timed_g, timed_h = timed(g, "g", costs, stack), timed(h, "h", costs, stack)
    timed_inner = timed(inner, "f", costs, stack)
    timed(f, "f", costs, stack)()
    # f calling f at once (20..25 around 21..22): one label, own times 4 and 1 on one path
    timed_once = timed(inner, "f", costs, stack)
    timed(twice, "f", costs, stack)()
    assert dict(costs.seconds) == {
        ("f",): 3 + 4 + 1, ("f", "g"): 2, ("f", "h"): 4, ("f", "h", "f"): 1
    }  # fmt: skip
    assert costs.calls[("f",)] == 3 and costs.calls[("f", "h", "f")] == 1
    assert costs.wrapped_s() == 10 + 5
    assert costs.by_group() == {"f": 15}
    assert costs.within("f") == {"f": 9, "g": 2, "h": 4}
    assert stack == []


def test_timed__a_raising_call__counted_and_raised(monkeypatch):
    ticks = itertools.count()
    monkeypatch.setattr(step_costs_module.time, "perf_counter", lambda: next(ticks))
    costs, stack = Costs(), []

    def boom():
        raise ValueError("planted")

    with pytest.raises(ValueError, match="planted"):
        timed(boom, "b", costs, stack)()
    assert costs.calls[("b",)] == 1 and costs.seconds[("b",)] == 1 and stack == []


def test_step_costs__the_same_work__every_part_timed__every_part_put_back(revm):
    """A run with the timers takes the untimed run's steps with its outcomes; every part was
    called; its groups and the rest add up to the run's time; afterwards every part is its
    original again."""
    originals = [vars(owner)[name] for _, owner, name in PARTS]
    run_settings = _RUN.settings(phases=(Phase.generate,))
    plain = run_machine(revm, "full", run_settings)
    with step_costs() as costs:
        start = time.perf_counter()
        profiled = run_machine(revm, "full", run_settings)
        seconds = time.perf_counter() - start
    assert [vars(owner)[name] for _, owner, name in PARTS] == originals
    assert profiled.steps == plain.steps > 0 and profiled.outcomes == plain.outcomes
    assert costs.missing() == []
    # every part of every example's step was timed within one of the groups (the gas probe's
    # only where a draw reaches it)
    assert set(STEP_GROUPS) - {"gas_probe"} <= set(costs.by_group()) <= set(STEP_GROUPS)
    assert set(costs.within("checker")) <= set(CHECKER_PARTS)
    figures = step_cost_figures(costs, profiled.steps, seconds)
    assert figures["fuzz.profiled_steps_per_s"] == round(profiled.steps / seconds, 1)
    assert figures["fuzz.step_ms_rest"] > 0  # the draws and the rules: the timed parts are less
    parts = sum(figures[f"fuzz.step_ms_{g}"] for g in (*STEP_GROUPS, "rest"))
    assert parts == pytest.approx(figures["fuzz.step_ms_total"], abs=0.01)
    names = ["own" if part == "checker" else part for part in CHECKER_PARTS]
    checker = sum(figures[f"fuzz.checker_ms_{name}"] for name in names)
    assert checker == pytest.approx(figures["fuzz.step_ms_checker"], abs=0.01)
    total_ms = seconds * 1000 / profiled.steps
    assert figures["fuzz.step_ms_total"] == pytest.approx(total_ms, abs=0.001)


def test_step_costs__a_part_never_called_beside_one_of_its_label__named(monkeypatch):
    """Checker.full shares the label `checker` with after_step: called alone, after_step
    would hide it if the parts were counted by label."""
    ticks = itertools.count()
    monkeypatch.setattr(step_costs_module.time, "perf_counter", lambda: next(ticks))
    with step_costs() as costs:
        pass
    assert "Checker.full" in costs.missing() and "Checker.after_step" in costs.missing()
    costs.part_calls["Checker.after_step"] += 1  # as its wrapper counts a call
    assert "Checker.full" in costs.missing() and "Checker.after_step" not in costs.missing()
    assert len(costs.missing()) == len(PARTS) - 1 - len(OPTIONAL_PARTS)


def test_step_cost_figures__time_outside_every_group__refused():
    costs = Costs()
    costs.seconds[("checker",)] = 1.0
    costs.seconds[("model_views",)] = 0.5  # a part called by no group: the rest would hide it
    with pytest.raises(click.ClickException, match="parts timed outside a group: model_views"):
        step_cost_figures(costs, 10, 2.0)


def test_step_cost_figures__parts_longer_than_the_run__refused():
    """Figures of one run's parts over a shorter run's steps and time are refused: the parts
    took longer than the run."""
    costs = Costs()
    costs.seconds[("checker",)] = 3.0
    with pytest.raises(click.ClickException, match="the timed parts took 3.0 s of a 2.0 s run"):
        step_cost_figures(costs, 10, 2.0)


def test_step_costs__a_part_that_is_gone__refused_before_anything_is_wrapped(monkeypatch):
    after_step = vars(Checker)["after_step"]
    monkeypatch.setattr(
        step_costs_module,
        "PARTS",
        (("checker", Checker, "after_step"), ("checker", Checker, "renamed_long_ago")),
    )
    with pytest.raises(KeyError, match="Checker.renamed_long_ago: no such part any more"):
        with step_costs():
            pass
    assert vars(Checker)["after_step"] is after_step


def test_computed_views_share__the_counts_share__and_none_counted_refused(revm):
    """The share is the run's: its Checkers counted every computed view of every after-step
    comparison as compared or skipped; a run that counted none (no storage path) is refused."""
    totals = run_machine(revm, "full", _RUN.settings(phases=(Phase.generate,)))
    compared = totals.checks["computed views compared"]
    skipped = totals.checks["computed views skipped"]
    assert compared > 0 and skipped > 0
    assert computed_views_share(totals.checks) == round(compared / (compared + skipped), 3)
    with pytest.raises(click.ClickException, match="no computed view"):
        computed_views_share({"computed views compared": 0, "computed views skipped": 0})
