"""Differential stateful fuzzing (the machines: offchain/testing/differential.py): random action
sequences applied to the contracts on Anvil and to the off-chain model, which must agree to the
wei after every step, with the invariants checked on both."""

from __future__ import annotations

from hypothesis.stateful import run_state_machine_as_test

from offchain.testing.differential import OUTCOMES, make_machine


def test_differential__liquidation_sequences__chain_and_model_agree(node, deployed, roles):
    """Crashes, liquidations, takes, flash takes, resets, pool trades and the loss waterfall
    (stakes, covers under several orders, debt auctions): chain and model agree after every step,
    loss conservation holds, and liquidations, takes and covers really happen."""
    OUTCOMES.clear()
    run_state_machine_as_test(make_machine(node, deployed, roles, "liquidations"))
    print("\noutcomes:", *(f"{n:6d}  {k}" for k, n in sorted(OUTCOMES.items())), sep="\n")
    assert OUTCOMES["ok liquidate"] + OUTCOMES["ok liquidate_many"] > 0
    assert OUTCOMES["ok take"] > 0
    assert OUTCOMES["ok cover"] > 0
    assert OUTCOMES["ok stake"] > 0


def test_differential__random_sequences__chain_and_model_agree(node, deployed, roles):
    """The contracts on Anvil and the model agree after every step of random action sequences."""
    OUTCOMES.clear()
    run_state_machine_as_test(make_machine(node, deployed, roles))
    print("\noutcomes:", *(f"{n:6d}  {k}" for k, n in sorted(OUTCOMES.items())), sep="\n")
    # the run must exercise successful vault changes, not only reverts
    assert OUTCOMES["ok modify_vault"] > 0
