"""How much of a run's outcome the cascade made: the same scenario run again in the model with no
price impact (every type's `impact_depth` 0 and an open market's venue without its impact, its
prefactor 0, so the market price is the fundamental path: market/impact.py, market/venue.py),
and the two runs' liquidations and insolvency side by side, per collateral type.

The difference is what liquidation sales moving the price did: vaults made unsafe by other vaults'
sales (liquidations added) and the loss those extra liquidations and the lower marks brought
(insolvency added). It is a counterfactual of the model alone: chain and model agree to the wei
on every replay with or without impact (tests/sim), so one model run answers it for both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd

from offchain.sim.results.tables import SimulationResult
from offchain.sim.run.driver import simulate
from offchain.sim.scenario.types import Scenario


def has_impact(scenario: Scenario) -> bool:
    """Whether sales move any type's market price: the closed market's impact, or an open
    market's venue (market/venue.py) with a law's prefactor above 0."""
    m = scenario.market
    venue = m.venue is not None and m.venue.coefficient > 0
    return venue or m.impact_depth > 0 or any(t.impact_depth > 0 for t in scenario.types)


def without_impact(scenario: Scenario) -> Scenario:
    """`scenario` with no price impact on any type: the market price is the fundamental path
    (an open market's venue still trades, at the fundamental price: prefactor 0)."""
    m = scenario.market
    venue = replace(m.venue, coefficient=0) if m.venue is not None else None
    return replace(
        scenario,
        market=replace(m, impact_depth=0, venue=venue),
        types=tuple(replace(t, impact_depth=0) for t in scenario.types),
    )


@dataclass(frozen=True)
class TypeCascade:
    """One collateral type's liquidations and insolvency [stablecoin] with the run's price impact
    and without any."""

    collateral_type: str
    liquidations: int
    liquidations_without_impact: int
    insolvency: float
    insolvency_without_impact: float

    @property
    def liquidations_added(self) -> int:
        return self.liquidations - self.liquidations_without_impact

    @property
    def insolvency_added(self) -> float:
        return self.insolvency - self.insolvency_without_impact


@dataclass(frozen=True)
class Cascade:
    """Every type's TypeCascade, in the run's order, and the totals."""

    types: tuple[TypeCascade, ...]
    # vaults (every type's) that were unsafe at some bar, or liquidated, with impact and without:
    # the cascade can push vaults under that the liquidator never reaches (caps, gas)
    became_unsafe: int = 0
    became_unsafe_without_impact: int = 0

    @property
    def became_unsafe_added(self) -> int:
        return self.became_unsafe - self.became_unsafe_without_impact

    @property
    def liquidations(self) -> int:
        return sum(t.liquidations for t in self.types)

    @property
    def liquidations_without_impact(self) -> int:
        return sum(t.liquidations_without_impact for t in self.types)

    @property
    def liquidations_added(self) -> int:
        return self.liquidations - self.liquidations_without_impact

    @property
    def insolvency(self) -> float:
        return sum(t.insolvency for t in self.types)

    @property
    def insolvency_without_impact(self) -> float:
        return sum(t.insolvency_without_impact for t in self.types)

    @property
    def insolvency_added(self) -> float:
        return self.insolvency - self.insolvency_without_impact


def _per_type(result: SimulationResult) -> dict[str, tuple[int, float]]:
    contagion = result.tables["contagion"]
    return {
        str(name): (int(liquidations), float(insolvency))
        for name, liquidations, insolvency in zip(
            contagion["collateral_type"].tolist(),
            contagion["liquidations"].tolist(),
            contagion["insolvency"].tolist(),
            strict=True,
        )
    }


def became_unsafe(result: SimulationResult) -> int:
    """How many vaults were unsafe at some bar or liquidated during the run."""
    vaults = result.tables["vaults"]
    return int(
        (
            vaults["unsafe_since"].notna()
            | vaults["liquidated_at"].notna()
            | (pd.to_numeric(vaults["liquidations"]).fillna(0) > 0)
        ).sum()
    )


def compare(with_impact: SimulationResult, without: SimulationResult) -> Cascade:
    """The cascade from a run and the same scenario's run without impact."""
    a, b = _per_type(with_impact), _per_type(without)
    return Cascade(
        tuple(
            TypeCascade(name, a[name][0], b[name][0], a[name][1], b[name][1])
            for name in a  # the same types, in the run's order
        ),
        became_unsafe(with_impact),
        became_unsafe(without),
    )


def cascade(
    scenario: Scenario,
    result: SimulationResult,
    progress: Callable[[int, int], None] | None = None,
) -> Cascade | None:
    """`result` (a run of `scenario`, in the model or on a chain) against the same scenario in the
    model without impact; None when the scenario has no impact (nothing to compare)."""
    if not has_impact(scenario):
        return None
    without = simulate(without_impact(scenario), "model", full_check_every=None, progress=progress)
    return compare(result, without)
