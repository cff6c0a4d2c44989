"""The fuzz machine's governance queue (offchain/testing/machine/governance.py,
`governance_queue`), played once as a deterministic story on revm in lockstep with the model
(every transaction, event and view compared; the Specification's queue bound checked on each):
a proposal refused at once when queued (before its eta), run at it, refused again; one
cancelled and refused after; one refused after its grace; other calls, a stranger's execute and
a stranger's cancel refused; the guardian's cancel."""

from __future__ import annotations

from offchain.testing.differential import make_machine


def test_governance_queue__the_fuzz_machines_rule__every_path_once(revm):
    machine = make_machine(revm.evm, revm.deployed, revm.roles, "full")()
    try:
        machine.open_first_vaults(amount=10, debt_fraction=300_000, depth=100_000)
        play = [
            ("execute_early", 7),  # queued (2 calls), refused at once: too early
            ("execute_stranger", 0),
            ("execute_other_calls", 0),
            ("execute", 0),
            ("execute_again", 0),
            ("propose", 1),
            ("cancel_stranger", 0),
            ("cancel", 0),
            ("execute_cancelled", 0),
            ("propose", 2),
            ("execute_late", 5),
            ("propose", 4),
            ("cancel_guardian", 0),
        ]
        for action, pick in play:
            if action == "execute_late":  # the example's time past the grace (other rules')
                machine.s.warp(machine.QUEUE_DELAY + machine.QUEUE_GRACE + 1)
            machine.governance_queue(action, pick)
            machine.chain_equals_model_and_invariants_hold()
        out = machine.totals.outcomes
        assert out["governance queue: proposed"] == 4
        assert out["revert execute: timelock: too early"] == 1
        assert out["governance queue: executed"] == 1
        assert out["ok Timelock.cancel"] == 2
        for reason in ("too early", "not the proposer", "other calls", "not queued", "expired"):
            assert out[f"revert execute: timelock: {reason}"] >= 1, (reason, dict(out))
        assert out["revert cancel: timelock: not the proposer or guardian"] == 1
    finally:
        machine.teardown()
