"""The campaign tooling (`make fuzz`, offchain/testing/campaign.py) on a tiny campaign: worker
processes with their own seeds, the same examples again from the same seed, the record's counts,
and the rules a short campaign never applied named."""

from __future__ import annotations

import pytest

from offchain.backends import Divergence
from offchain.testing.campaign import classify, merge, run_campaign
from offchain.testing.checking import StateDiffers
from offchain.testing.economics import EconomicViolation
from offchain.testing.fuzz import Profile
from offchain.testing.specification import SpecViolation

TINY = Profile(examples=2, steps=25, derandomize=False)


def _campaign(artifacts, tmp_path, workers: int, base_seed: int):
    results, wall = run_campaign(
        artifacts, 60, workers, base_seed, None, TINY, database=tmp_path / "db", replay=False
    )
    return merge(results, wall, base_seed, 60, None, TINY, "test", "now")


def test_campaign__two_workers__each_runs_its_own_seeds_and_the_record_adds_them_up(
    artifacts, tmp_path
):
    record = _campaign(artifacts, tmp_path, 2, 100)
    assert record.workers == 2
    assert record.steps >= 60
    # worker w's batch b: seed base + w + b x workers
    assert record.seeds["0"] == [100 + 2 * b for b in range(len(record.seeds["0"]))]
    assert record.seeds["1"] == [101 + 2 * b for b in range(len(record.seeds["1"]))]
    assert record.examples >= 4
    assert record.invariant_checks >= record.steps
    assert record.specification_checks > 0
    assert sum(count["hits"] for count in record.rules.values()) >= record.steps
    assert record.failures == [] and record.divergences == record.invariant_breaks == 0
    # a 60-step campaign cannot reach every rule: the record names the ones it missed
    assert record.rules_never_applied and not record.ok()


def test_campaign__same_seed__runs_the_same_examples(artifacts, tmp_path):
    first = _campaign(artifacts, tmp_path / "a", 1, 7)
    again = _campaign(artifacts, tmp_path / "b", 1, 7)
    other = _campaign(artifacts, tmp_path / "c", 1, 8)
    assert (first.steps, first.rules, first.outcomes) == (again.steps, again.rules, again.outcomes)
    assert (first.rules, first.outcomes) != (other.rules, other.outcomes)


@pytest.mark.parametrize(
    "exc, kind",
    [
        (Divergence("x"), "divergence"),
        (StateDiffers("state differs"), "state"),
        (EconomicViolation("x"), "economic"),
        (SpecViolation("x"), "specification"),
        (AssertionError("invariants violated: I1"), "invariant"),
        (ValueError("x"), "other"),
    ],
)
def test_classify__names_the_broken_check(exc, kind):
    assert classify(exc) == kind
