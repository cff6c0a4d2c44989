"""Differential stateful fuzzing (the machines: offchain/testing/differential.py): random action
sequences applied to the contracts and to the off-chain model, which must agree to the wei after
every step, with the specification and the invariants checked on both.

The bulk runs on revm in process (profile `ci`, offchain/testing/fuzz.py); a failing example
there is replayed on a fresh Anvil and the failure's report says whether it reproduces on the
node. A smaller profile (`ci-anvil`) runs on the session's Anvil, so that the node path is never
untested."""

from __future__ import annotations

import pytest

from offchain.testing.differential import MACHINES
from offchain.testing.fuzz import PROFILES, FuzzTarget, run_machine, run_on_revm
from offchain.testing.stats import Totals

# the checked steps the `ci` profile's full machine must reach (issue 14: at least 50,000; an
# example may end before its step limit, so the profile draws more examples than this needs)
CI_MIN_STEPS = 50_000


def _print_outcomes(totals: Totals) -> None:
    print(f"\nchecked steps: {totals.steps}, examples: {totals.examples}")
    print("\noutcomes:", *(f"{n:6d}  {k}" for k, n in sorted(totals.outcomes.items())), sep="\n")
    print("rules (hits / sent / ok):")
    for rule, count in sorted(totals.rules.items()):
        print(f"  {rule:24s} {count.hits:6d} {count.sent:6d} {count.ok:6d}")


def test_differential__full_machine_on_revm__chain_and_model_agree(revm, artifacts):
    """The whole system on revm: the EVM and the model agree after every step; every rule is
    applied (successfully, for rules whose transactions may revert), and the waterfall's deep
    end is reached: debt-auction bids, surplus auctions, global settlement to the end, and
    waterfall changes while losses are open."""
    totals = run_on_revm(revm, artifacts, "full", PROFILES["ci"].settings())
    _print_outcomes(totals)
    outcomes = totals.outcomes
    assert totals.steps >= CI_MIN_STEPS
    never = [rule for rule, count in totals.rules.items() if not count.applied()]
    assert not never, f"rules never applied: {never}"
    assert outcomes["ok DebtAuction.bid"] > 0
    assert outcomes["ok SurplusAuction.bid"] > 0
    assert outcomes["ok GlobalSettlement.shutdown"] > 0
    assert outcomes["ok GlobalSettlement.cash"] > 0
    assert outcomes["waterfall changed while losses open"] > 0


def test_differential__liquidation_machine_on_revm__chain_and_model_agree(revm, artifacts):
    """Crashes, liquidations, takes, flash takes, resets, pool trades and the loss waterfall
    (stakes, covers under several orders, debt auctions) on revm: the EVM and the model agree
    after every step, loss conservation holds, and every rule of the story is applied."""
    totals = run_on_revm(revm, artifacts, "liquidations", PROFILES["ci"].settings())
    _print_outcomes(totals)
    outcomes = totals.outcomes
    never = [rule for rule, count in totals.rules.items() if not count.applied()]
    assert not never, f"rules never applied: {never}"
    assert outcomes["ok liquidate"] + outcomes["ok liquidate_many"] > 0
    assert outcomes["ok take"] > 0
    assert outcomes["ok cover"] > 0
    assert outcomes["ok DebtAuction.bid"] > 0


@pytest.mark.parametrize("kind", MACHINES)
def test_differential__on_anvil__chain_and_model_agree(node, deployed, roles, kind):
    """The same machines on Anvil (the node users run), in a smaller profile."""
    totals = run_machine(FuzzTarget(node, deployed, roles), kind, PROFILES["ci-anvil"].settings())
    _print_outcomes(totals)
    outcomes = totals.outcomes
    assert outcomes["ok modify_vault"] > 0
    assert totals.steps > 0
