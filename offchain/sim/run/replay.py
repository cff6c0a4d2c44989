"""One replay: a scenario in the model and on a chain node, and the reconciliation of the two.

Every command that runs "on chain and model, then reconcile" calls `replay` (`ape run simulate`,
`compare-waterfalls --chain`, the sweep's verification, the benchmarks), so the order of the runs,
what is read for the comparison and where the run times go are decided once, here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from offchain.sim.results.cascade import Cascade, cascade
from offchain.sim.results.insolvency import DRAINED_FACTS
from offchain.sim.results.reconcile import reconcile
from offchain.sim.results.tables import Reconciliation, SimulationResult
from offchain.sim.run.driver import simulate
from offchain.sim.scenario.types import Scenario
from offchain.system.progress import counted_run

# (label, bars done, bars in all): the label is "model" or the node's name
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Replay:
    """The model's run, the chain's (None for a model-only replay) and their reconciliation."""

    model: SimulationResult
    chain: SimulationResult | None = None
    reconciliation: Reconciliation | None = None
    # the run against the same scenario without price impact (results/cascade.py), when asked for
    # and the scenario has impact
    cascade: Cascade | None = None

    @property
    def result(self) -> SimulationResult:
        """The run to report: the chain's when there is one (the model agreed with it)."""
        return self.chain if self.chain is not None else self.model

    @property
    def ok(self) -> bool:
        """No difference between chain and model (a model-only replay has nothing to disagree)."""
        return self.reconciliation is None or self.reconciliation.ok

    @property
    def checked(self) -> tuple[SimulationResult, Reconciliation]:
        """The chain's run and its reconciliation with the model (a replay made on a chain)."""
        if self.chain is None or self.reconciliation is None:
            raise ValueError("a model-only replay has no chain run")
        return self.chain, self.reconciliation


# one run of a long command's progress (offchain/system/progress.py: counted, its bars shown)
@counted_run(lambda scenario, **kw: f"{scenario.name}{'' if kw.get('chain', True) else ' (model)'}")
def replay(
    scenario: Scenario,
    *,
    chain: bool = True,
    node: str = "anvil",
    code: tuple[dict, str] | None = None,
    full_check_every: int | None = 6,
    progress: Progress | None = None,
    model: SimulationResult | None = None,
    counterfactual: bool = False,
) -> Replay:
    """Run `scenario` in the model and, with `chain`, on a fresh private `node` (Anvil or Hardhat),
    then reconcile the two.

    `code` is the compiled contracts and the BatchReader's code (backends.project_code; read from
    Ape's project when None). The complete state is read every `full_check_every` bars and at the
    start and end of both runs; a model-only replay reads none (nothing would compare it). A
    `model` run already made for the same scenario (and the same `full_check_every`) is reused:
    one model run can be reconciled with several nodes. With `counterfactual`, a scenario with
    price impact is also run in the model without it, and the Replay's `cascade` says what the
    impact added (liquidations, insolvency)."""
    if model is None:
        model = simulate(
            scenario,
            "model",
            full_check_every=full_check_every if chain else None,
            progress=_labelled(progress, "model"),
        )
    cascade_ = (
        cascade(scenario, model, _labelled(progress, "model without impact"))
        if counterfactual
        else None
    )
    if not chain:
        return Replay(model, cascade=cascade_)
    if code is None:
        from offchain.backends import project_code

        code = project_code()
    artifacts, reader = code
    # the headline's drain (run/drain.py) runs in the model alone: the chain's run ends where it
    # is compared with the model's, to the wei, and the drain goes on from that same state
    chain_run = simulate(
        scenario,
        "chain",
        artifacts,
        reader,
        full_check_every=full_check_every,
        progress=_labelled(progress, node),
        node=node,
        drain=False,
    )
    chain_run.facts.update({key: model.facts[key] for key in DRAINED_FACTS})
    chain_run.tables["contagion"]["insolvency"] = model.tables["contagion"]["insolvency"].values
    chain_run.facts["chain_run_s"] = chain_run.facts["run_s"]
    chain_run.facts["model_run_s"] = model.facts["run_s"]
    return Replay(model, chain_run, reconcile(chain_run, model), cascade_)


def _labelled(progress: Progress | None, label: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(label, done, total)
