"""What became of the keepers' actions in a run: per keeper role, actions planned, sent, mined,
and why the rest failed; and the lines that open a report when a keeper failed.

Built from the `txs` table (a row per mined transaction, per action the latency model dropped
and per action a gas budget deferred) and the actions still in flight at the end, so a chain run
and a model run that reconcile say the same. A strategy plans again, next bar, what it still
wants and did not land: an action dropped in five bars and landed in the sixth counts as six
planned, five dropped, one sent and mined. The counts are of attempts, not of distinct things
the keeper wanted.

Why an action failed:

- `dropped_underpriced`: its gas bid was below the bar's 30th percentile (actions.Latency);
- `dropped_capped`: the keeper's gas strategy lowered its bid below that to keep its cost within
  the action's value (strategies/gas_strategy.py);
- `deferred_by_budget`: the keeper's gas budget for the bar held it back (strategies/gas_budget.py);
- `refused_for_gas`: the gas its strategy planned was over the limit it was sent with, or its
  limit over what its block had left (run/sending.py: a node's and the chain's rules);
- `lost_to_competitor`: mined but reverted because another actor got there first (the auction
  was no longer running, the vault no longer unsafe, a dust auction reset before its close:
  COMPETITOR_REASONS, COMPETITOR_REVERTS);
- `reverted`: mined and reverted for another reason (an auction that needed a reset first, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from offchain.sim.strategies.gas_strategy import DROPPED_CAPPED

# the actors that bid for gas, in the report's order, with their names in a sentence
KEEPER_NAMES = {
    "liquidation_keeper": "liquidation keeper",
    "taker": "flash taker",
    "capital_taker": "capital taker",
    "backstop_keeper": "backstop keeper",
    "bidder": "debt-auction bidder",
    "soft_liquidator": "soft liquidator",
}
COLUMNS = (
    "role",
    "planned",
    "sent",
    "mined",  # landed and succeeded
    "reverted",
    "lost_to_competitor",
    "dropped_underpriced",
    "dropped_capped",
    "deferred_by_budget",
    "refused_for_gas",
    "in_flight_at_end",  # sent, not yet mined when the run ended
    "landed_share",  # mined / planned
)
# a keeper role that landed less than this share of what it planned is named in the report's
# first lines (with the run's reasons); one that landed nothing always is
LANDED_SHARE_FLOOR = 0.5
# revert reasons that mean another actor acted first on the same target
COMPETITOR_REASONS = (
    "auction: not running",
    "liquidator: vault is safe",
    "liquidator: nothing to seize",
)
# a revert reason that means another actor acted first for one function only: the backstop
# keeper closes an auction its bar's view read as ended and dust; "not ended" at its turn means a
# taker reset it earlier in the bar (seen 2,000 times at 100,000 vaults of synthetic-crash,
# reported as plain reverts)
COMPETITOR_REVERTS = (("close_dust_auction", "auction: not ended"),)


def keeper_actions(txs: pd.DataFrame, in_flight: Mapping[str, int]) -> pd.DataFrame:
    """The table of COLUMNS, one row per keeper actor that planned anything, in KEEPER_NAMES'
    order; `in_flight` is how many of each actor's actions were in flight at the end."""
    rows = []
    for actor in KEEPER_NAMES:
        mine = txs[txs["actor"] == actor]
        status, reason = mine["status"], mine["reason"].astype(str)
        reverted = status == "reverted"
        first = reason.isin(COMPETITOR_REASONS)
        if "function" in mine:
            for function, why in COMPETITOR_REVERTS:
                first |= (mine["function"] == function) & (reason == why)
        lost = int((reverted & first).sum())
        dropped = status == "dropped"
        capped = int((dropped & (reason == DROPPED_CAPPED)).sum())
        counts = {
            "mined": int((status == "ok").sum()),
            "reverted": int(reverted.sum()) - lost,
            "lost_to_competitor": lost,
            "dropped_underpriced": int(dropped.sum()) - capped,
            "dropped_capped": capped,
            "deferred_by_budget": int((status == "deferred").sum()),
            "refused_for_gas": int((status == "refused").sum()),
            "in_flight_at_end": int(in_flight.get(actor, 0)),
        }
        sent = counts["mined"] + counts["reverted"] + lost + counts["in_flight_at_end"]
        planned = (
            sent + int(dropped.sum()) + counts["deferred_by_budget"] + counts["refused_for_gas"]
        )
        if planned == 0:
            continue
        rows.append(
            {"role": actor, "planned": planned, "sent": sent, **counts}
            | {"landed_share": counts["mined"] / planned}
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def failure_lines(table: pd.DataFrame, priced_out: Mapping[str, float] | None = None) -> list[str]:
    """The sentences a report opens with: each keeper role that landed nothing, or less than
    LANDED_SHARE_FLOOR of what it planned, with why; and each role `priced_out` on purpose
    (actor -> its fixed bid [gwei])."""
    lines = []
    for actor, bid in (priced_out or {}).items():
        lines.append(
            f"The {KEEPER_NAMES.get(actor, actor)} is priced out on purpose (the scenario's "
            f"`priced_out`): it bids a fixed {bid:,.0f} gwei whatever the gas market does."
        )
    for r in _rows(table):
        if r["landed_share"] >= LANDED_SHARE_FLOOR and r["mined"] > 0:
            continue
        name = KEEPER_NAMES.get(str(r["role"]), str(r["role"]))
        head = (
            f"The {name} landed NONE of its {r['planned']:,} planned actions"
            if r["mined"] == 0
            else f"The {name} landed only {r['mined']:,} of its {r['planned']:,} planned "
            f"actions ({r['landed_share']:.0%}, below the {LANDED_SHARE_FLOOR:.0%} floor)"
        )
        lines.append(f"{head}: {why(r)}.")
    return lines


def _rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The table's rows, keyed by column name."""
    return [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]


def why(r: Mapping[str, Any]) -> str:
    """The failures of one row of the table, largest first, as a phrase."""
    parts = [
        (int(r["dropped_underpriced"]), "dropped, its gas bid below the bar's 30th percentile"),
        (int(r["dropped_capped"]), "dropped, its bid capped by the action's value"),
        (int(r["deferred_by_budget"]), "deferred by its gas budget"),
        (int(r["refused_for_gas"]), "refused, over its gas limit or its block's"),
        (int(r["lost_to_competitor"]), "lost to a competitor"),
        (int(r["reverted"]), "reverted"),
        (int(r["in_flight_at_end"]), "still in flight at the end"),
    ]
    shown = [f"{n:,} {what}" for n, what in sorted(parts, key=lambda p: -p[0]) if n]
    return "; ".join(shown) if shown else "nothing failed"


def console_lines(table: pd.DataFrame, facts: Mapping[str, Any]) -> list[str]:
    """What a replay prints about its keepers: each failure line of the run (facts'
    `keeper_failures`), then one line with every keeper's planned and mined actions and the
    failures of those that failed any."""
    lines = [f"KEEPER FAILURE: {line}" for line in facts.get("keeper_failures", [])]
    lines += [f"LIMIT: {line}" for line in facts.get("binding_limits", [])]
    if not len(table):
        return lines
    strategy = str(facts.get("gas_strategy", "fixed"))
    how = f"market, p{int(facts.get('gas_percentile', 60))}" if strategy == "market" else strategy
    parts = []
    for r in _rows(table):
        name = KEEPER_NAMES.get(str(r["role"]), str(r["role"]))
        failed = int(r["planned"]) - int(r["mined"])
        parts.append(
            f"{name} {int(r['mined']):,}/{int(r['planned']):,} mined"
            + (f" ({why(r)})" if failed else "")
        )
    lines.append(f"keepers (gas strategy {how}): " + "; ".join(parts))
    return lines
