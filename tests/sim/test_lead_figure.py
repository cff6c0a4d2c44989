"""The lead figure is the distribution over the oracle's phases (report/headline.py; issue 73):
on a real day, `ape run simulate` (its default `--phases auto`) leads its console line, its
headline table and its facts.json with the median insolvency over the phases, the worst beside
it, and shows the phase its other sections are of only in the phase table. It led with that
one phase's figure (the default phase was the best of six on 2021-01-11: 1,549 against a median
of 8,662). A run of one phase says so in the same places instead of pretending a distribution.

How a single phase leading is caught: a small built-in real day (may-2021, 300 vaults, model)
whose reported phase (3,000 s) is not the median of its six; the median is computed here from
six independent runs, and the first number of each output must equal it, not the reported run's.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.sim.run.driver import simulate
from offchain.sim.scenario.load import load_scenario, with_phase
from offchain.sim.scenario.timeline import oracle_phase, period_phases

NUMBER = re.compile(r"-?[0-9][0-9,]*\.[0-9]{2}")
ARGS = ["--scenario", "may-2021", "--vaults", "300", "--backend", "model", "--quiet"]


def _first_number(text: str) -> float:
    found = NUMBER.search(text)
    assert found, text
    return float(found.group(0).replace(",", ""))


def _headline_first_row(md: str) -> tuple[str, str]:
    table = md.split("## Headline")[1].split("\n\n")[1]
    label, value = table.splitlines()[2].strip("| ").split(" | ", 1)
    return label, value


def _console_headline(output: str) -> str:
    lines = output.splitlines()
    first = next(i for i, x in enumerate(lines) if x.startswith("may-2021: 300 vaults"))
    return lines[first + 1]


@pytest.fixture(scope="module")
def phases() -> dict[int, float]:
    """Every phase's insolvency, each an independent model run."""
    scenario = load_scenario("may-2021", vaults=300)
    return {
        p: float(simulate(with_phase(scenario, p, "t"), "model", None).facts["insolvency"])
        for p in period_phases(scenario)
    }


def test_real_day__every_output_leads_with_the_median_over_the_phases(tmp_path, phases):
    reported = oracle_phase(load_scenario("may-2021", vaults=300))
    median, worst = float(np.median(list(phases.values()))), max(phases.values())
    own = phases[reported]
    # the check can tell them apart: the reported phase is not the median here
    assert round(own, 2) != round(median, 2) and len(phases) == 6
    out = tmp_path / "r"
    result = CliRunner().invoke(script_cli("simulate"), [*ARGS, "--out", str(out)])
    assert result.exit_code == 0, result.output

    line = _console_headline(result.output)
    assert line.startswith("insolvency over the oracle's 6 phases (model): median ")
    assert _first_number(line) == round(median, 2)
    assert f"worst {worst:,.2f}" in line and f"{own:,.2f}" not in line

    md = (out / "summary.md").read_text()
    label, value = _headline_first_row(md)
    assert "the median over the oracle's 6 phases" in label
    assert _first_number(value) == round(median, 2) and f"worst {worst:,.2f} BUSD" in value
    headline = md.split("## Headline")[1].split("\n## ")[0]
    assert f"{own:,.2f}" not in headline
    # the reported phase's own figure: in the phase table (and the console's), marked
    assert re.search(rf"\| {reported:,} s \(this report\) \| {own:,.2f} \|", md)
    assert f"{reported:,} s {own:,.2f} (this report's run)" in result.output

    facts = json.loads((out / "facts.json").read_text())
    assert facts["phases"] == 6 and facts["lead"].startswith("the median over")
    assert facts["insolvency"] == pytest.approx(median, rel=1e-12)
    assert facts["insolvency_worst"] == pytest.approx(worst, rel=1e-12)
    assert facts["per_phase"] == pytest.approx({str(p): v for p, v in phases.items()})
    assert facts["run"]["insolvency"] == pytest.approx(own, rel=1e-12)
    assert facts["run"]["oracle_phase"] == reported == facts["reported_phase"]


def test_one_phase__says_so_in_the_line_the_table_and_the_facts(tmp_path, phases):
    out = tmp_path / "r"
    result = CliRunner().invoke(
        script_cli("simulate"), [*ARGS, "--phases", "one", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    own = phases[3000]
    line = _console_headline(result.output)
    assert line.startswith(
        f"insolvency {own:,.2f} (0.0% of the starting debt 3,497,531.00) at one oracle phase "
        "(3,000 s), not a distribution over the oracle's phases (--phases one; --phases all "
        "runs every one); "
    )
    md = (out / "summary.md").read_text()
    label, value = _headline_first_row(md)
    assert label.endswith("at one oracle phase (3,000 s), not a distribution over the oracle's "
                          "phases (--phases one; --phases all runs every one)")  # fmt: skip
    assert _first_number(value) == round(own, 2)
    assert "## The oracle's phase" not in md
    facts = json.loads((out / "facts.json").read_text())
    assert facts["phases"] == 1 and "one oracle phase (3,000 s)" in facts["lead"]
    assert facts["insolvency"] == pytest.approx(own, rel=1e-12)


def test_synthetic_path__one_phase__the_line_says_why(tmp_path):
    out = tmp_path / "r"
    result = CliRunner().invoke(
        script_cli("simulate"),
        ["--scenario", "synthetic-crash", "--vaults", "60", "--backend", "model", "--quiet",
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("insolvency "))
    assert "at one oracle phase (3,000 s), not a distribution over the oracle's phases (a " in line
    assert "synthetic path: --phases auto runs one" in line
    assert json.loads((out / "facts.json").read_text())["phases"] == 1


def test_oracle_phase_given__that_phase_alone__the_line_says_so(tmp_path, phases):
    """`--oracle-phase P` under the default `--phases auto` runs phase P alone: one phase, said
    so, its figure P's."""
    out = tmp_path / "r"
    result = CliRunner().invoke(
        script_cli("simulate"), [*ARGS, "--oracle-phase", "600", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    line = _console_headline(result.output)
    assert line.startswith(f"insolvency {phases[600]:,.2f} (")
    assert (
        "at one oracle phase (600 s), not a distribution over the oracle's phases (--oracle-phase "
        "runs that phase alone; --phases all runs every one beside it)"
    ) in line
