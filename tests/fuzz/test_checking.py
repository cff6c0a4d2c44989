"""The machines' cheaper check (offchain/testing/checking.py) loses nothing: a one-wei difference
in a variable no step touches is found at the next full comparison, one in a variable a step
wrote is found after that very step, and one named only by a step's events too. And a failing
example on revm is replayed on Anvil, whose verdict the failure's report carries."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from hypothesis import Phase

from offchain.backends import RevmBackend
from offchain.model.fixed_point import RAD, WAD
from offchain.model.vault_engine import VaultEngine
from offchain.testing.checking import Checker, StateDiffers
from offchain.testing.fuzz import Profile, replay_on_anvil, run_on_revm
from offchain.testing.harness import System

FULL_EVERY = 5
# a few short examples, not shrunk (shrinking is Hypothesis's; what is tested is the replay)
_UNSHRUNK = Profile(examples=5, steps=10, derandomize=True)


@pytest.fixture
def system(revm) -> Iterator[System]:
    d, model = revm.deployed
    snapshot = revm.evm.snapshot()
    try:
        yield System(revm.evm, copy.deepcopy(model), d, revm.roles)
    finally:
        revm.evm.revert_to(snapshot)


def _poke(system: System) -> None:
    """A step that touches the oracle and nothing of the tokens."""
    system.warp(system.eth.config.oracle_delay)
    system.tx(system.eth.oracle, "poke", system.roles.keeper)


def test_checker__one_wei_in_an_untouched_variable__found_at_the_next_full_comparison(system):
    checker = Checker(system, FULL_EVERY)
    checker.after_step()  # step 1: the first check is a full one
    stranger = system.roles.stranger
    token = system.contract(system.eth.token)
    # planted in the model only, outside any transaction: a variable no step below touches and
    # no invariant sums (an allowance)
    dict.__setitem__(token.allowance, (stranger, system.eth.join), 1)
    for _ in range(FULL_EVERY - 2):  # steps 2 .. FULL_EVERY - 1: what they touched
        _poke(system)
        checker.after_step()
    assert checker.counts["full checks"] == 1 and checker.counts["touched checks"] == 3
    _poke(system)  # step FULL_EVERY: a full comparison
    with pytest.raises(StateDiffers, match=r"allowance\[.*\]\[join\]: chain 0 model 1"):
        checker.after_step()


def test_checker__one_wei_in_a_variable_the_step_wrote__found_after_that_step(system):
    checker = Checker(system, FULL_EVERY)
    checker.after_step()
    r = system.roles
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    checker.after_step()
    engine = system.engine()
    system.tx(
        system.d.engine,
        "transfer_collateral",
        r.borrower,
        system.eth.type_id,
        r.borrower,
        r.other,
        WAD,
    )
    key = (system.eth.type_id, r.other)
    dict.__setitem__(engine.collateral, key, engine.collateral[key] + 1)
    with pytest.raises(StateDiffers, match=r"engine.collateral\[ETH-A\]"):
        checker.after_step()
    assert checker.counts["full checks"] == 1  # found by the check of what the step touched


def test_checker__one_wei_named_only_by_the_steps_events__found_after_that_step(system):
    """A write the model's journal does not show (as if the EVM alone had made it) is still
    compared when the step's events name its keys."""
    checker = Checker(system, FULL_EVERY)
    checker.after_step()
    r = system.roles
    system.tx(system.eth.token, "approve", r.borrower, system.eth.join, 5)
    system.model.env.write_log = []  # the model "did not write" it
    token = system.contract(system.eth.token)
    dict.__setitem__(token.allowance, (r.borrower, system.eth.join), 6)
    with pytest.raises(StateDiffers, match=r"allowance\[.*\]\[join\]: chain 5 model 6"):
        checker.after_step()
    assert checker.counts["full checks"] == 1


# ---------------------------------------------------------------- failures replayed on Anvil

_STEPS = [
    ("open_first_vaults", {"amount": 5, "debt_fraction": 500_000, "depth": 100_000}),
    (
        "transfer_stable",
        {"sender_i": 0, "src_i": 0, "dst_i": 1, "frac": 500_000, "nudge": 0},
    ),
]


def _model_bug(monkeypatch) -> None:
    """The model's internal stablecoin transfer keeps one wei back (a planted twin bug)."""
    original = VaultEngine.transfer_stable

    def transfer_stable(self, sender, src, dst, amount):
        original(self, sender, src, dst, amount)
        if amount > RAD:
            self.stable[src] += 1
            self.stable[dst] -= 1

    monkeypatch.setattr(VaultEngine, "transfer_stable", transfer_stable)


def test_replay_on_anvil__steps_that_pass__do_not_reproduce(artifacts):
    verdict = replay_on_anvil(artifacts, "full", _STEPS)
    assert not verdict.reproduces and verdict.steps == 2


def test_replay_on_anvil__a_model_bug__reproduces(artifacts, monkeypatch):
    _model_bug(monkeypatch)
    verdict = replay_on_anvil(artifacts, "full", _STEPS)
    assert verdict.reproduces
    assert "state differs" in (verdict.error or "")


def test_run_on_revm__a_failure__is_replayed_on_anvil_and_the_report_says_so(
    revm, artifacts, monkeypatch
):
    """A model bug: the fuzz on revm fails, and the failing example's steps fail on Anvil too."""
    _model_bug(monkeypatch)
    with pytest.raises(AssertionError) as failure:
        run_on_revm(revm, artifacts, "full", _UNSHRUNK.settings(phases=(Phase.generate,)))
    notes = "\n".join(getattr(failure.value, "__notes__", []))
    assert "replayed on Anvil" in notes and "reproduces: StateDiffers" in notes


def test_run_on_revm__a_difference_of_revm_alone__does_not_reproduce_on_anvil(
    revm, artifacts, monkeypatch
):
    """An EVM-side difference that Anvil does not have (planted in the revm backend's reads):
    the report says the failure does not reproduce on the node."""
    original = RevmBackend.views

    def views(self, calls, cache=True):
        values = original(self, calls, cache)
        return [
            v + 1 if fn == "total_issued" and isinstance(v, int) and v else v
            for (_, fn, _), v in zip(calls, values)
        ]

    monkeypatch.setattr(RevmBackend, "views", views)
    with pytest.raises(AssertionError) as failure:
        run_on_revm(revm, artifacts, "full", _UNSHRUNK.settings(phases=(Phase.generate,)))
    notes = "\n".join(getattr(failure.value, "__notes__", []))
    assert "does not reproduce (Anvil agrees)" in notes
