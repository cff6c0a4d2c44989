"""Reconciliation: a chain run against a model run of the same scenario, row by row and variable
by variable; any difference is a bug in the contracts or in their twin."""

from __future__ import annotations

from datetime import UTC, datetime

from offchain.sim.results.tables import Reconciliation, SimulationResult


def _utc(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reconcile(
    chain: SimulationResult, model: SimulationResult, max_lines: int = 20
) -> Reconciliation:
    """Every transaction, event and bar snapshot and every full-state read of a chain run against
    a model run of the same scenario; each difference becomes one readable line."""
    r = Reconciliation()

    def diff(line: str) -> None:
        r.diff_count += 1
        if len(r.diffs) < max_lines:
            r.diffs.append(line)

    for name, key in (
        ("txs", "txs_compared"),
        ("events", "events_compared"),
        ("bars", "bars_compared"),
        ("types", None),  # each type's bar rows (the bars table is the first type's)
        ("deferred", None),  # what the keepers' gas budgets held back (also rows of txs)
    ):
        a, b = chain.tables[name], model.tables[name]
        if key is not None:
            setattr(r, key, max(len(a), len(b)))
        if len(a) != len(b):
            diff(f"{name}: chain has {len(a)} rows, model {len(b)}")
        for j, (ra, rb) in enumerate(zip(a.itertuples(index=False), b.itertuples(index=False))):
            if tuple(ra) != tuple(rb):
                cols = [c for c, x, y in zip(a.columns, ra, rb) if x != y]
                bar, time = ra[0], ra[1]  # every compared table starts with (bar, time)
                where = f"bar {bar}" + (f" ({_utc(int(time))})" if time == time else "")
                detail = "; ".join(
                    f"{c}: chain {getattr(ra, c)!r}, model {getattr(rb, c)!r}" for c in cols
                )
                diff(f"{name} row {j} at {where}: {detail}")
    r.state_checks = min(len(chain.states), len(model.states))
    if len(chain.states) != len(model.states):
        diff(f"full-state reads: chain {len(chain.states)}, model {len(model.states)}")
    for (bar_a, sa), (_, sb) in zip(chain.states, model.states):
        r.state_variables_compared += len(sa)
        if sa.keys() != sb.keys():
            diff(
                f"full state at bar {bar_a}: different variables ({len(sa)} on chain, {len(sb)} "
                "in the model)"
            )
            continue
        for k in sa:
            if sa[k] != sb[k]:
                diff(f"full state at bar {bar_a}: {k}: chain {sa[k]!r}, model {sb[k]!r}")
    return r
