"""The attacker actor: one known attack shape a step (offchain/sim/strategies/attacker.py), judged
by the Auditor over the whole run."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import rule

from offchain.sim.strategies.attacker import SHAPES
from offchain.testing.attacks import stage_and_attack
from offchain.testing.machine.base import TYPES, MachineBase


class AttackerRules(MachineBase):
    """The rules of the attacker actor (see the module docstring)."""

    @rule(
        shape=st.sampled_from(SHAPES),
        name=st.sampled_from(TYPES),
        tokens=st.integers(1, 40),
        draw=st.sampled_from([0, 250_000, 500_000, 900_000]),
    )
    def attack(self, shape, name, tokens, draw):
        """The attacker actor (offchain/sim/strategies/attacker.py) tries one known attack shape:
        first it gets what the shape needs (collateral tokens, some joined; a vault drawn to `draw`
        per million of its limit, for shapes that need stablecoin; pool shares and a drop queued in
        the oracle for the pool escape), then it sends the plan the state allows, each
        transaction possibly reverting. The Auditor sums the attacker's gains and listed income
        over the whole run after every transaction, whoever sends it: the attack must never
        pay beyond that income."""
        plan = stage_and_attack(
            self.s, self.act, self.attacker, shape, name, tokens, draw, self.flash
        )
        if plan is not None:
            self.totals.outcomes[f"attack {shape}"] += 1
