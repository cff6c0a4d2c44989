"""One run of a sweep, as a worker executes it (a pool process or a Dask worker): the cell's
scenario reseeded (no file read), the model run without full-state reads, and its row of figures.

A run that fails (a seed whose population breaks a ceiling, a setup that reverts, any exception)
is a row with status "failed" and its error; the sweep goes on. The row's figures come from the
run's tables through the report's own measures (offchain/report/tables.py), so a sweep and a
single report of the same run say the same numbers. Amounts are floats in whole stablecoins.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import socket
import time
from pathlib import Path
from typing import Any

import pandas as pd

from offchain.model.fixed_point import WAD
from offchain.report.survival import Survival, run_curve
from offchain.report.tables import (
    LAYERS,
    LOSS_PARTS,
    largest_payers,
    loss_decomposition,
    paid_by_layer,
    realized_bad_debt,
    time_to_clear,
    uncovered_loss,
    uncovered_parts,
    vaults_liquidated,
)
from offchain.sim.results.keeper_outcomes import COLUMNS, LANDED_SHARE_FLOOR
from offchain.sim.results.tables import SimulationResult
from offchain.sim.run.driver import simulate
from offchain.sim.scenario.load import reseeded, with_phase
from offchain.sim.scenario.timeline import drawn_phase, oracle_phase
from offchain.sim.scenario.types import Scenario
from offchain.sim.strategies.gas_strategy import GAS_ROLES
from offchain.sweep.spec import RunTask

OK, FAILED = "ok", "failed"
# a run's figures: column -> kind ("float", "int", "str"); a failed run has none (null)
METRICS: dict[str, str] = {
    # the headline (sim/run/drain.py: VaR and ES are of it): the open book at the end run out by
    # the run's own keepers at the last price, what is still open at the horizon marked; the
    # end-of-run mark (sim/results/insolvency.py: realized bad debt + the shortfall of the
    # auctions still running and of the unsafe vaults not liquidated, their collateral sold into
    # the market in the keepers' order; the two marked shortfalls below are its); and at the
    # last market price
    "insolvency": "float",
    "insolvency_mark": "float",
    "insolvency_last_price": "float",
    "open_auction_marked_shortfall": "float",
    "unsafe_vault_marked_shortfall": "float",
    "realized_bad_debt": "float",  # loss of every finished auction: debt its proceeds did not cover
    "uncovered": "float",  # of it, what no layer has paid by the end (the three parts below)
    # the loss borne by stablecoin holders (holders_loss): what no layer has paid, what global
    # settlement put on them, and what is still open at the end, marked
    "holders_loss": "float",
    # report.tables.uncovered_parts (with several types, the first type's)
    "uncovered_no_cover_landed": "float",
    "uncovered_parked": "float",
    "uncovered_layers_exhausted": "float",
    # what became of the keepers' actions (sim/results/keeper_outcomes.py), per keeper role
    # (gas_strategy.GAS_ROLES: the taker's flash and capital takers together, the backstop
    # keeper's with the debt-auction bidder's): planned, mined, dropped (the bid below the bar's
    # 30th percentile or capped by the action's value), deferred (by the gas budget, or refused
    # for gas: over its limit or its block's, sim/run/sending.py), reverted
    # (lost to a competitor included); and the keeper actors that landed under the report's
    # floor (keeper_outcomes.LANDED_SHARE_FLOOR), comma-separated
    **{
        f"{what}_{role}": "int"
        for role in GAS_ROLES
        for what in ("planned", "mined", "dropped", "deferred", "reverted")
    },
    "keepers_failed": "str",
    "open_auction_debt": "float",  # not yet raised by the auctions still running at the end
    "open_auction_shortfall": "float",  # their debt less their collateral at the last price
    "open_auction_fire_sale_shortfall": "float",  # the same at the pool's quote for every lot
    "unsafe_vaults_left": "int",  # unsafe at the last market price, not liquidated
    "unsafe_vault_shortfall": "float",
    # where the realized bad debt came from (report.tables.loss_decomposition)
    **{f"loss_{part}": "float" for part in LOSS_PARTS},
    **{f"paid_{layer}": "float" for layer in LAYERS},  # paid per waterfall layer
    "largest_payer": "str",  # the participant who paid most (report.tables.largest_payers)
    "largest_payer_kind": "str",  # fund | staker | debt_auction | vault | settlement
    "largest_payer_amount": "float",
    "vaults_liquidated": "int",  # distinct owners
    "liquidations": "int",
    "liquidated_debt": "float",  # debt seized by liquidations
    "liquidated_value": "float",  # collateral seized, at the market price of its bar
    "liquidation_delay_median_s": "float",  # from unsafe to liquidated; null without liquidations
    "liquidation_delay_max_s": "float",
    # the same wait with the vaults never liquidated counted (report/survival.py): the
    # Kaplan-Meier median (inf: more than half never liquidated; null: no vault unsafe), the
    # unsafe spells and, of them, the vaults left unsafe and never liquidated (censored)
    "liquidation_delay_km_median_s": "float",
    "unsafe_spells": "int",
    "never_liquidated": "int",
    "clearing_discount": "float",  # 1 - volume-weighted take price / market; null without takes
    "clearing_discount_max": "float",  # the deepest single take
    "staker_losses": "float",  # charged to stability-pool stakers (realized or not)
    "staker_loss_share": "float",  # of the stakes; null without stakes
    "borrower_cost": "float",  # see borrower_cost()
    "borrower_cost_rate": "float",  # borrower_cost / debt_start
    "debt_start": "float",  # the population's debt at the start
    # margin calls (sim/strategies/soft_liquidator.py): the soft liquidations of opted-in vaults,
    # the debt they repaid, the collateral they moved (at the market price of its bar) and what the
    # owners gave up for it at the market (in borrower_cost too)
    "soft_liquidations": "int",
    "soft_liquidated_debt": "float",
    "soft_liquidated_value": "float",
    "soft_bonus_at_market": "float",
    "auctions_running_at_end": "int",
    # the first type's market price at its lowest against its fundamental path (market/impact.py; 1:
    # no impact): how far liquidation and soft-liquidation sales pushed it
    "impact_lowest_level": "float",
    "time_to_clear_s": "float",  # first liquidation to the last close; null if not cleared
    "transactions": "int",
    # the run's oracle phase [s] (sim/scenario/timeline.py): the cell's, else drawn by the seed
    "oracle_phase": "int",
}
# a run's figures per collateral type, in a sweep over a scenario with several types: columns
# `<metric>@<type>` (as grid keys name a type's own keys), from the run's contagion table (its
# liquidations, its realized bad debt and who paid it by layer, its end-of-run insolvency); null
# where the run's scenario has no such type
TYPE_METRICS: dict[str, str] = {
    "liquidations": "int",
    "debt_liquidated": "float",
    "realized_bad_debt": "float",
    **{f"paid_{layer}": "float" for layer in LAYERS},
    "not_yet_allocated": "float",
    "insolvency": "float",
}
RUN_COLUMNS = ("run", "cell", "seed", "status", "error")  # then the grid values, then METRICS
RUNTIME_COLUMNS = ("runtime_s", "worker")  # wall clock: never among the compared results
CODE = "code"  # the worker's code_fingerprint(), checked by the runner, not stored


def run_one(task: RunTask) -> dict[str, Any]:
    """The row of one run (RUN_COLUMNS, METRICS, RUNTIME_COLUMNS and CODE), failed or not."""
    start = time.perf_counter()
    row: dict[str, Any] = {"run": task.run, "cell": task.cell, "seed": task.seed}
    try:
        scenario = run_scenario(task)
        result = simulate(scenario, "model", full_check_every=None)
        row |= {"status": OK, "error": ""} | measure(result, scenario)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded with the run, and the sweep goes on
        row |= {"status": FAILED, "error": f"{type(exc).__name__}: {' '.join(str(exc).split())}"}
        row |= {name: None for name in METRICS}
    row["runtime_s"] = time.perf_counter() - start
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    row[CODE] = code_fingerprint()
    return row


def run_scenario(task: RunTask) -> Scenario:
    """The scenario of one run: the cell's, reseeded, at the cell's oracle phase or, when neither
    the scenario nor the grid sets one, at the phase its seed draws (timeline.drawn_phase: over
    n consecutive seeds, each of the n phases of the oracle's period once)."""
    scenario = reseeded(task.scenario, task.seed)
    if scenario.market.oracle_phase is None:
        phase = drawn_phase(scenario, task.seed)
        scenario = with_phase(scenario, phase, f"{scenario.name}: drawn oracle phase")
    return scenario


def type_column(metric: str, collateral_type: str) -> str:
    """The results column of a TYPE_METRICS figure for one collateral type."""
    return f"{metric}@{collateral_type}"


def type_figures(result: SimulationResult) -> dict[str, Any]:
    """A run's TYPE_METRICS for each of its collateral types, from its contagion table."""
    out: dict[str, Any] = {}
    for row in result.tables["contagion"].to_dict("records"):
        name = str(row["collateral_type"])
        for metric, kind in TYPE_METRICS.items():
            value = row[metric.removeprefix("paid_")]
            out[type_column(metric, name)] = int(value) if kind == "int" else float(value)
    return out


def measure(result: SimulationResult, scenario: Scenario) -> dict[str, Any]:
    """A run's figures (METRICS, and per collateral type TYPE_METRICS) from its tables; reads no
    events."""
    t = result.tables
    liquidations, takes, losses = t["liquidations"], t["takes"], t["losses"]
    paid = paid_by_layer(result)
    top = largest_payers(result, 1)
    market = dict(zip(t["bars"]["bar"], t["bars"]["market_price"]))
    delays = pd.to_numeric(liquidations["delay_s"]).dropna()
    sold = float(takes["collateral"].sum()) if len(takes) else 0.0
    ratio = takes["price"] / takes["market_price"] if len(takes) else pd.Series(dtype=float)
    payers = t["payers"]
    staker_losses = float(payers.loc[payers["kind"] == "staker", "amount"].sum())
    stakes = scenario.backstop.pool_stakers * scenario.backstop.pool_stake / WAD
    debt_start = float(t["vaults"]["debt_start"].sum())
    cost = borrower_cost(result)
    curve = run_curve(t)
    # several types: the liquidations, takes and losses tables are the first type's, the
    # contagion table has every type's (their sums below; each type's in its own columns)
    per_type = type_figures(result) if scenario.types else {}
    contagion = t["contagion"]
    parts = uncovered_parts(result)
    uncovered = (
        float(contagion["not_yet_allocated"].sum() + contagion["deleverage_due"].sum())
        if per_type
        else uncovered_loss(result)
    )
    settled = (
        float(contagion["settlement"].sum()) if per_type else float(paid.get("settlement", 0.0))
    )
    return {
        "insolvency": float(result.facts["insolvency"]),
        "insolvency_mark": float(result.facts["insolvency_mark"]),
        "insolvency_last_price": float(result.facts["insolvency_last_price"]),
        "open_auction_marked_shortfall": float(result.facts["open_auction_marked_shortfall"]),
        "unsafe_vault_marked_shortfall": float(result.facts["unsafe_vault_marked_shortfall"]),
        "realized_bad_debt": float(contagion["realized_bad_debt"].sum())
        if per_type
        else realized_bad_debt(result),
        "uncovered": uncovered,
        "holders_loss": holders_loss(
            uncovered,
            settled,
            float(result.facts["open_auction_marked_shortfall"]),
            float(result.facts["unsafe_vault_marked_shortfall"]),
        ),
        "uncovered_no_cover_landed": parts["no cover landed"],
        "uncovered_parked": parts["parked"],
        "uncovered_layers_exhausted": parts["layers exhausted"],
        **keeper_figures(result),
        "open_auction_debt": float(result.facts["open_auction_debt"]),
        "open_auction_shortfall": float(result.facts["open_auction_shortfall"]),
        "open_auction_fire_sale_shortfall": float(result.facts["open_auction_fire_sale_shortfall"]),
        "unsafe_vaults_left": int(result.facts["unsafe_vaults_left"]),
        "unsafe_vault_shortfall": float(result.facts["unsafe_vault_shortfall"]),
        **{f"loss_{part}": amount for part, amount in loss_decomposition(result).items()},
        **{
            f"paid_{layer}": float(contagion[layer].sum())
            if per_type
            else float(paid.get(layer, 0.0))
            for layer in LAYERS
        },
        "largest_payer": str(top["payer"].iloc[0]) if len(top) else "",
        "largest_payer_kind": str(top["kind"].iloc[0]) if len(top) else "",
        "largest_payer_amount": float(top["amount"].iloc[0]) if len(top) else 0.0,
        "vaults_liquidated": vaults_liquidated(result),
        "liquidations": int(contagion["liquidations"].sum()) if per_type else len(liquidations),
        "liquidated_debt": float(contagion["debt_liquidated"].sum())
        if per_type
        else float(liquidations["debt"].sum()),
        "liquidated_value": float(
            sum(c * market[b] for b, c in zip(liquidations["bar"], liquidations["collateral"]))
        ),
        "liquidation_delay_median_s": float(delays.median()) if len(delays) else None,
        "liquidation_delay_max_s": float(delays.max()) if len(delays) else None,
        "liquidation_delay_km_median_s": _km_median(curve),
        "unsafe_spells": curve.events + curve.censored,
        "never_liquidated": curve.censored,
        "clearing_discount": 1 - float((ratio * takes["collateral"]).sum()) / sold
        if sold > 0
        else None,
        "clearing_discount_max": 1 - float(ratio.min()) if len(takes) else None,
        "staker_losses": staker_losses,
        "staker_loss_share": staker_losses / stakes if stakes else None,
        "borrower_cost": cost,
        "borrower_cost_rate": cost / debt_start if debt_start else None,
        "debt_start": debt_start,
        "soft_liquidations": int(result.facts["soft_liquidations"]),
        "soft_liquidated_debt": float(result.facts["soft_liquidated_debt"]),
        "soft_liquidated_value": float(result.facts["soft_liquidated_value"]),
        "soft_bonus_at_market": float(result.facts["soft_bonus_at_market"]),
        "auctions_running_at_end": int(losses["closed"].isna().sum()),
        "impact_lowest_level": float(result.facts["impact_lowest_level"]),
        "time_to_clear_s": time_to_clear(result),
        "transactions": int(result.facts["transactions"]),
        "oracle_phase": oracle_phase(scenario),
        **per_type,
    }


def holders_loss(
    uncovered: float, settlement: float, open_shortfall: float, unsafe_shortfall: float
) -> float:
    """The loss borne by stablecoin holders at a run's end [stablecoin]: the stablecoin in
    circulation that nothing backs and no one else has paid for,

        holders_loss = uncovered + settlement + open_auction_marked_shortfall
                       + unsafe_vault_marked_shortfall,

    `uncovered` the realized bad debt no layer has paid (no cover landed, parked with the
    deleveraging layer and taken by no vault, left when the layers were exhausted),
    `settlement` what global settlement allocated (its layer keeps the loss as unbacked debt,
    borne by holders through the redemption haircut), and the two marked shortfalls of what is
    still open (sim/results/insolvency.py's conservative mark: running auctions' and unsafe
    vaults', which no layer has paid yet). Equivalently the end-of-run mark (insolvency_mark)
    less what the fund, the stability pool, the debt auction, redistribution and deleveraging
    paid: the part of it a backstop did not absorb, at the run's end (the headline's drain
    records no payment)."""
    return uncovered + settlement + open_shortfall + unsafe_shortfall


def keeper_figures(result: SimulationResult) -> dict[str, Any]:
    """The keeper columns of METRICS, from the run's keeper_actions table."""
    table = result.tables["keeper_actions"]
    out: dict[str, Any] = {}
    for role, actors in GAS_ROLES.items():
        mine = table[table["role"].isin(actors)]
        sums = {c: int(mine[c].sum()) for c in COLUMNS if c not in ("role", "landed_share")}
        out |= {
            f"planned_{role}": sums["planned"],
            f"mined_{role}": sums["mined"],
            f"dropped_{role}": sums["dropped_underpriced"] + sums["dropped_capped"],
            f"deferred_{role}": sums["deferred_by_budget"] + sums["refused_for_gas"],
            f"reverted_{role}": sums["reverted"] + sums["lost_to_competitor"],
        }
    failed = table[(table["landed_share"] < LANDED_SHARE_FLOOR) | (table["mined"] == 0)]
    out["keepers_failed"] = ",".join(str(r) for r in failed["role"])
    return out


def _km_median(curve: Survival) -> float | None:
    if curve.events + curve.censored == 0:
        return None
    median = curve.median
    return math.inf if median is None else median


def borrower_cost(result: SimulationResult) -> float:
    """What borrowers lost to liquidations, soft liquidations and redistribution, in
    stablecoin: per finished auction, the market value of the collateral sold (at each take's
    bar) less the debt seized, when positive (the penalty and the auction's discount; a vault
    already worth less than its debt loses nothing more to its liquidation), plus what
    redistribution charged vaults, plus each soft liquidation's collateral at its bar's market
    price less the debt it repaid (the bonus, as the market values it; negative where the
    delayed oracle's price was above the market by more than the bonus). With several types, the
    auctions' and the soft liquidations' parts are the first type's."""
    t = result.tables
    takes, losses, payers = t["takes"], t["losses"], t["payers"]
    value = (takes["collateral"] * takes["market_price"]).groupby(takes["auction_id"]).sum()
    closed = losses[losses["closed"].notna()]
    lost = sum(
        max(0.0, float(value.get(a, 0.0)) - float(d))
        for a, d in zip(closed["auction_id"], closed["debt"])
    )
    redistributed = float(payers.loc[payers["kind"] == "vault", "amount"].sum())
    # the first type's, as the auctions' part (the takes table is the first type's); a result
    # without the table (built before margin calls, or by hand) had none
    soft = 0.0
    if "soft_liquidations" in t:
        rows = t["soft_liquidations"]
        mine = rows[rows["collateral_type"] == result.facts.get("collateral_type")]
        soft = float(mine["bonus_at_market"].astype(float).sum())
    return lost + redistributed + soft


@functools.cache
def code_fingerprint() -> str:
    """A hash of the offchain package's sources: a Dask worker running other code would give
    other numbers (runner.py refuses such a cluster)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
