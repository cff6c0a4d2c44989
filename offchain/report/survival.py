"""Time from unsafe to liquidated with the vaults never liquidated counted, not dropped: a
Kaplan-Meier estimate of the survival (still unliquidated) curve, where a vault liquidated after
d seconds is an event at d and a vault still unsafe at the run's end after d seconds is censored
at d (its wait is at least d).

Definitions (n spells, durations d_i, event flags e_i):
- at each distinct event time t: S(t) = S(t-) x (1 - deaths(t) / at_risk(t)), at_risk(t) the
  spells with d_i >= t (a spell censored at t counts as at risk at t: censoring after the events
  of its time, the usual convention);
- the median: the smallest event time t with S(t) <= 1/2; None ("not reached") when S never falls
  to 1/2, as when more than half the unsafe vaults were never liquidated;
- a quantile p: the smallest event time with S(t) <= 1 - p, likewise.
The median of the liquidated vaults alone ignores the vaults that waited longest; this one
cannot look fast by dropping them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Survival:
    """A Kaplan-Meier curve: S after each distinct event time."""

    times: tuple[float, ...]  # distinct event times, ascending [s]
    survival: tuple[float, ...]  # S(t) just after each of them
    events: int  # spells that ended in a liquidation
    censored: int  # spells still unsafe at the end
    longest_censored: float | None  # the longest wait of a vault never liquidated [s]

    def quantile(self, p: float) -> float | None:
        """The smallest event time at which at least a share `p` were liquidated; None when the
        curve never gets there (not reached)."""
        for t, s in zip(self.times, self.survival):
            if s <= 1 - p + 1e-12:
                return t
        return None

    @property
    def median(self) -> float | None:
        return self.quantile(0.5)

    def at(self, t: float) -> float:
        """S(t): the share still unliquidated after waiting `t`."""
        out = 1.0
        for time, s in zip(self.times, self.survival):
            if time > t:
                break
            out = s
        return out


def kaplan_meier(durations: np.ndarray, observed: np.ndarray) -> Survival:
    """The curve of spells with `durations` [s] and `observed` (True: liquidated; False:
    censored, still unsafe at the end)."""
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    if d.shape != e.shape:
        raise ValueError("durations and observed differ in length")
    times, survival, s = [], [], 1.0
    for t in np.unique(d[e]):
        at_risk = int((d >= t).sum())
        deaths = int(((d == t) & e).sum())
        s *= 1 - deaths / at_risk
        times.append(float(t))
        survival.append(s)
    censored = d[~e]
    return Survival(
        tuple(times),
        tuple(survival),
        int(e.sum()),
        int((~e).sum()),
        float(censored.max()) if len(censored) else None,
    )


def unsafe_spells(
    vaults: pd.DataFrame, liquidations: pd.DataFrame, exposure: pd.DataFrame, end: int
) -> Survival:
    """A run's curve: each liquidation's wait (`delay_s`: from the bar its vault was first seen
    unsafe) an event; each vault left unsafe and not liquidated at the end (the exposure table's
    `vault` rows) censored at `end` less the time it was first seen unsafe (the vaults table's
    `unsafe_since`; 0 for a vault unsafe only at the last market price, never at the oracle's).
    A vault that was unsafe and became safe again without a liquidation is in neither: when it
    recovered is not recorded."""
    delays = pd.to_numeric(liquidations["delay_s"], errors="coerce").dropna().to_numpy(float)
    left = set(exposure.loc[exposure["kind"] == "vault", "owner"])
    since = pd.to_numeric(vaults.loc[vaults["owner"].isin(left), "unsafe_since"], errors="coerce")
    waits = np.maximum(end - since.fillna(end).to_numpy(float), 0.0)
    return kaplan_meier(
        np.concatenate([delays, waits]),
        np.concatenate([np.ones(len(delays), bool), np.zeros(len(waits), bool)]),
    )


def run_curve(tables: Mapping[str, pd.DataFrame]) -> Survival:
    """`unsafe_spells` of a run's tables (its end: the last bar's time; a result without an
    exposure table, as one built by hand, has no vault left unsafe)."""
    exposure = tables.get("exposure")
    if exposure is None:
        exposure = pd.DataFrame({"kind": [], "owner": []})
    return unsafe_spells(
        tables["vaults"],
        tables["liquidations"],
        exposure,
        int(tables["bars"]["time"].max()),
    )


def describe(curve: Survival, unit: float = 60.0, name: str = "min") -> str:
    """One line: the median (or that it was not reached), p90, and how many were never
    liquidated."""
    if curve.events + curve.censored == 0:
        return "- (no liquidations, no vault left unsafe)"

    def shown(value: float | None) -> str:
        if value is None:
            longest = curve.longest_censored or 0.0
            return f"not reached (> {longest / unit:,.1f} {name})"
        return f"{value / unit:,.1f} {name}"

    return (
        f"median {shown(curve.median)}, p90 {shown(curve.quantile(0.9))} (Kaplan-Meier over "
        f"{curve.events + curve.censored:,} unsafe spells: {curve.events:,} liquidated, "
        f"{curve.censored:,} never liquidated, counted as waiting at least until the end)"
    )
