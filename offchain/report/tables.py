"""The numbers and rows of the report, apart from how they are laid out (documents.py) or drawn
(plots.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.price_curves import CurveKind
from offchain.sim.results.tables import (
    BACKSTOP_WIDE,
    HEALTH_BANDS,
    LAYER_NAMES,
    SimulationResult,
    empty_table,
)
from offchain.sim.scenario.reader import format_wad
from offchain.sim.scenario.timeline import (
    bar_times,
    default_phase,
    oracle_delay,
    oracle_phase,
    period_phases,
    utc,
)
from offchain.sim.scenario.types import Scenario

LAYERS = tuple(LAYER_NAMES.values())  # waterfall layers in layer-number order


def phase_text(s: Scenario) -> str:
    """The oracle's phase of a run (sim/scenario/timeline.py), as the report states it."""
    phase, delay = oracle_phase(s), oracle_delay(s)
    which = (
        "the default"
        if s.market.oracle_phase is None
        else "set" + (" (the default's value)" if s.market.oracle_phase == default_phase(s) else "")
    )
    return (
        f"{phase:,} s ({which}): the oracle's first poke is due {phase:,} s after the first bar, "
        f"then at the first bar once {delay:,} s have passed since the last poke; one of the "
        f"{len(period_phases(s))} phases of the oracle's period on these bars "
        f"({', '.join(f'{p:,}' for p in period_phases(s))} s), which can move the result "
        "(`--phases all` runs every one)"
    )


def flash_route_text(s: Scenario) -> str:
    """Where an open market's flash takes sell (market.flash_route), after the taker's row."""
    m = s.market
    if m.outside != "open" or s.keepers.taker_mode == "capital":
        return ""
    if m.flash_route == "best":
        return (
            "; flash takes sell into the keepers' pool or on the outside venue (on chain, "
            "inside the take), whichever pays more"
        )
    return "; flash takes sell into the keepers' pool only (market.flash_route = pool)"


def scenario_lines(s: Scenario) -> list[tuple[str, str]]:
    """The scenario's parameters as (parameter, value) rows for the report."""
    c, m, v, k, w = s.system.collateral[0], s.market, s.vaults, s.keepers, s.system.waterfall
    gwei = lambda x: f"{x / 10**9:g} gwei"  # noqa: E731
    fixed = {
        "liquidation": k.liquidation_gas_price,
        "taker": k.taker_gas_price,
        "backstop": k.backstop_gas_price,
        "soft_liquidation": k.soft_liquidation_gas_price,
    }
    times, _ = bar_times(s)
    return [
        ("description", s.description),
        (
            "price path",
            f"{m.prices.source}: {len(m.prices)} bars of {times[1] - times[0]} s, "
            f"{utc(times[0])} to "
            f"{utc(m.prices.times[-1])}, then {m.tail_bars} bars at the last price"
            + (
                f" and up to {m.drain_bars} more while an auction runs (drain)"
                if m.drain_bars
                else ""
            )
            + (
                f"; for the headline, the run's keepers go on at the last price, unrecorded, "
                f"until every auction clears or {m.drain_horizon:,} bars after the tail "
                "(the drain's horizon)"
                if m.drain_horizon
                else "; no headline drain (horizon 0): the headline is the end-of-run mark"
            ),
        ),
        ("gas", m.gas.source if m.gas is not None else f"constant {gwei(m.gas_price)}"),
        ("oracle phase", phase_text(s)),
        ("external market", outside_text(s)),
        (
            "collateral pool depth",
            f"{m.pool_depth / WAD:,.0f} {s.system.stablecoin_symbol} per side"
            + (
                f" at the start, then following the liquidity of {m.reserves.source} bar by bar "
                "(governance adds and removes liquidity)"
                if m.reserves is not None
                else ""
            )
            + (
                f": {m.pool_share_of_venue} of the venue's volume a day at the first price "
                "(market.pool_share_of_venue)"
                if m.pool_share_of_venue is not None
                else ""
            ),
        ),
        (
            "vaults",
            f"{v.count:,} from the book {Path(v.book.source).name} ({len(v.book):,} rows; total "
            f"debt {format_wad(sum(v.book.debt))}, total collateral "
            f"{format_wad(sum(v.book.collateral))} {c.token_symbol})"
            if v.book is not None
            else f"{v.count:,} (seed {s.seed}): debt log-normal, median "
            f"{v.debt_median / WAD:,.0f}, sigma "
            f"{v.debt_sigma:g}; start collateral ratio triangular({v.ratio_min:g}, "
            f"{v.ratio_mode:g}, "
            f"{v.ratio_max:g})",
        ),
        (
            "collateral type",
            f"{c.name} ({c.token_symbol}): liquidation ratio {c.liquidation_ratio / RAY:g}, "
            f"penalty {c.liquidation_penalty / WAD:g}, oracle delay {c.oracle_delay} s, dust "
            f"{c.dust / RAD:,.0f}",
        ),
        (
            "debt ceilings",
            f"{c.name} {c.debt_ceiling / RAD:,.0f} (automatic up to {c.ceiling_max / RAD:,.0f}), "
            f"global {s.system.global_debt_ceiling / RAD:,.0f}"
            + (
                f"; scaled x{s.ceiling_scale[0] / s.ceiling_scale[1]:g} with the vault count "
                f"({s.ceiling_scale[1]:,} in the scenario, {s.ceiling_scale[0]:,} here)"
                if s.ceiling_scale
                else ""
            ),
        ),
        (
            "auctions",
            f"{CurveKind(c.auction_curve[0]).label} curve, start at {c.auction_buffer / RAY:g} x "
            "oracle price, reset "
            f"after {c.auction_max_duration} s or below {c.auction_max_drop / RAY:g} x start; "
            "keeper reward "
            f"{c.keeper_reward_rate / WAD:.2%} + {c.keeper_reward_flat / RAD:,.0f}",
        ),
        (
            "keepers' gas bids",
            (
                f"the market: each keeper bids the bar's p{k.gas_percentile}, 12.5% more after "
                "each drop, its cost capped by the action's value (but the backstop keeper's)"
                + (
                    "; priced out on purpose (a fixed bid): "
                    + ", ".join(f"{role} {gwei(fixed[role])}" for role in k.priced_out)
                    if k.priced_out
                    else ""
                )
                if k.gas_strategy == "market"
                else f"fixed: liquidation {gwei(k.liquidation_gas_price)}, taker "
                f"{gwei(k.taker_gas_price)}, backstop {gwei(k.backstop_gas_price)}"
            )
            + "; at or above the bar's p60 a transaction lands in the bar, at or above p30 one "
            "bar later, below p30 it is dropped",
        ),
        ("keepers' gas budgets", gas_budget_text(s)),
        (
            "taker",
            f"{k.taker_mode} take when the profit after gas and slippage is at least "
            f"{k.take_min_profit / WAD:,.0f}"
            + (f", capital {k.taker_capital / WAD:,.0f}" if k.taker_mode == "capital" else "")
            + flash_route_text(s),
        ),
        (
            "arbitrageur",
            f"capital {k.arbitrageur_capital / WAD:,.0f}, trades when the pool is more than "
            f"{k.arbitrage_threshold / WAD:.2%} off the market",
        ),
        (
            "insurance fund / stability pool",
            f"{s.backstop.insurance_fund / WAD:,.0f} / {s.backstop.pool_stakers} "
            f"stakers x {s.backstop.pool_stake / WAD:,.0f}",
        ),
        (
            "debt-auction bidder",
            f"capital {k.debt_auction_capital / WAD:,.0f}" if k.debt_auction_capital else "none",
        ),
        ("waterfall", " -> ".join(LAYER_NAMES[x] for x in w.order) or "(no layer)"),
    ]


# the price move a venue's depth is stated for: the sale that moves the price by 1%
DEPTH_MOVE = 0.01


def venue_depths(s: Scenario) -> pd.DataFrame:
    """The first type's outside venue's depth per bar of the price file (sim/market/venue.py):
    `time`, `tokens`, the sale that moves the price by DEPTH_MOVE from rest (I(Q) = Y sigma
    sqrt(Q / V), so Q = V (DEPTH_MOVE / (Y sigma))^2; inf for a bar without volatility) [tokens],
    and `stable`, that sale at the bar's close [stablecoin]; empty for a closed market."""
    m = s.market
    if m.venue is None or not m.depths:
        return pd.DataFrame({"time": [], "tokens": [], "stable": []})
    coefficient = m.venue.coefficient / WAD
    tokens = [
        d.volume / WAD * (DEPTH_MOVE / (coefficient * d.sigma / WAD)) ** 2
        if d.sigma and coefficient
        else float("inf")
        for d in m.depths
    ]
    close = [p / WAD for p in m.prices.columns["close"]]
    return pd.DataFrame(
        {
            "time": list(m.prices.times[: len(tokens)]),
            "tokens": tokens,
            "stable": [q * c for q, c in zip(tokens, close)],
        }
    )


def _depth_text(row: pd.Series, token: str, stable: str) -> str:
    if row["tokens"] == float("inf"):
        return f"unbounded (no volatility in the window, {utc(int(row['time']))})"
    return (
        f"{row['tokens']:,.0f} {token} ({row['stable']:,.0f} {stable} at the bar's close, "
        f"{utc(int(row['time']))})"
    )


def outside_text(s: Scenario) -> str:
    """The market the run's collateral leaves through (sim/market/outside.py), as the report's
    scenario table names it: open, the outside venue's settings and its depth per bar (the
    lowest and the median, `venue_depths`), where capital takers resell and what the end-of-run
    mark sells on; closed, the external market's impact model (or none) and why it is closed."""
    m = s.market
    stable, token = s.system.stablecoin_symbol, s.system.collateral[0].token_symbol
    if m.outside == "open" and m.venue is not None:
        v = m.venue
        depths = venue_depths(s)
        lowest: Any = depths.loc[depths["tokens"].idxmin()]
        # the median bar's depth (the lower middle of an even count: a bar that was)
        middle = depths.sort_values(["tokens", "time"]).iloc[(len(depths) - 1) // 2]
        bar = s.market.prices.times[1] - s.market.prices.times[0] if len(depths) > 1 else 0
        return (
            "open: the outside venue (sim/market/venue.py), the square-root law of impact "
            "I(Q) = Y sigma sqrt(Q / V) on the price file's candles: "
            f"Y {v.coefficient / WAD:g}, the file's share of the whole market "
            f"{100 * v.share / WAD:g}% (V: its volume over that share), sigma and V over the "
            f"trailing {v.window} bars, a flow's impact decaying "
            f"with tau {v.decay:,} s; its depth, the sale that moves the price "
            f"{DEPTH_MOVE:.0%} from rest, per bar: lowest {_depth_text(lowest, token, stable)}, "
            f"median {_depth_text(middle, token, stable)}; capital takers' collateral resold on "
            f"it {m.resale_delay / 3600:g} h after the take, the stablecoin bought back at "
            f"{m.stable_price.at(0) / WAD:g}"
            + (" at the start (a price series)" if len(m.stable_price.points) > 1 else "")
            + f"; the end-of-run mark sells the open book on a copy of it (its memory of the "
            f"run's trades, decaying) in equal parts over {m.mark_bars:,} bars"
            + (f" ({m.mark_bars * bar / 3600:g} h)" if bar else "")
        )
    why = f" ({m.outside_note})" if m.outside_note else ""
    if m.impact_depth:
        return (
            f"closed{why}: liquidation sales move the price through a constant-product depth of "
            f"{m.impact_depth / WAD:,.0f} {stable} per side, recovering with a half-life of "
            f"{m.impact_half_life:,} s (the path above is the fundamental price); the end-of-run "
            "mark sells the open book into that depth"
        )
    return (
        f"closed{why}: no price impact, the path is the market price; the end-of-run mark sells "
        "the open book into the keepers' pool's stablecoin reserve at the end"
    )


def gas_budget_text(s: Scenario) -> str:
    """The keepers' gas budgets a bar (offchain/sim/strategies/gas_budget.py), or that there are
    none."""
    k = s.keepers
    budgets = [
        (who, budget)
        for who, budget in (
            ("liquidation keeper", k.liquidation_gas_budget),
            ("each taker", k.taker_gas_budget),
            ("backstop keeper", k.backstop_gas_budget),
        )
        if budget
    ]
    if not budgets:
        return "none: a keeper sends every action it wants"
    return (
        ", ".join(f"{who} {budget:,} gas" for who, budget in budgets)
        + " a bar over every collateral type, the most valuable first; what does not fit waits "
        "for the next bar" + (" (the others: none)" if len(budgets) < 3 else "")
    )


def format_amount(value: Any, symbol: str = "") -> str:
    """`1,234.56 DAI` (of a float, or a table cell holding one); a value that rounds to zero
    prints as 0.00, never -0.00."""
    value = float(value)
    value = 0.0 if round(value, 2) == 0 else value
    return f"{value:,.2f}" + (f" {symbol}" if symbol else "")


def format_share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def format_duration(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def utc_times(column: pd.Series) -> pd.Series:
    """Unix seconds as floats; missing (NaN, None, 0) as NaN."""
    seconds = pd.to_numeric(column, errors="coerce").astype(float)
    return seconds.where(seconds > 0)


def as_datetimes(column: pd.Series) -> pd.Series:
    """Unix seconds as UTC datetimes for a plot axis."""
    return pd.to_datetime(pd.to_numeric(column).astype(float), unit="s")


# --- figures from the tables ---------------------------------------------------------------


def result_table(result: SimulationResult, name: str) -> pd.DataFrame:
    return result.tables[name] if name in result.tables else empty_table(name)


def symbols(result: SimulationResult) -> tuple[str, str]:
    """(stablecoin, collateral) symbols."""
    return str(result.facts.get("stable_symbol", "")), str(
        result.facts.get("collateral_symbol", "")
    )


def realized_bad_debt(result: SimulationResult) -> float:
    return float(result_table(result, "losses")["loss"].sum())


# the parts of the bad debt no layer has paid (uncovered_parts)
UNCOVERED_PARTS = {
    "no cover landed": "losses no cover ever allocated (the backstop keeper's covers dropped, "
    "deferred or not yet due)",
    "parked": "handed to the deleveraging layer and taken by no vault: unbacked",
    "layers exhausted": "what remained of losses a cover did allocate: the layers could not pay it",
}


def parked_loss(result: SimulationResult) -> float:
    """The first collateral type's loss the deleveraging layer took and no vault had room for at
    the end (its row of the contagion table; the run's fact without one)."""
    contagion = result_table(result, "contagion")
    name = result.facts.get("collateral_type")
    if len(contagion) and "deleverage_due" in contagion and name is not None:
        mine = contagion[contagion["collateral_type"] == name]
        if len(mine):
            return float(mine["deleverage_due"].iloc[0])
    return float(result.facts.get("deleverage_due", 0.0))


def uncovered_parts(result: SimulationResult) -> dict[str, float]:
    """Bad debt no layer has paid, by UNCOVERED_PARTS: the outstanding amounts of the losses no
    cover allocated and of the others (each from exact integers: a difference of float sums
    would show rounding noise such as -0.0%), and the parked loss."""
    losses = result_table(result, "losses")
    outstanding = pd.to_numeric(losses["outstanding"], errors="coerce").fillna(0.0)
    allocated = pd.to_numeric(losses["allocated"], errors="coerce").fillna(0.0)
    return {
        "no cover landed": float(outstanding[allocated == 0].sum()),
        "parked": parked_loss(result),
        "layers exhausted": float(outstanding[allocated != 0].sum()),
    }


def uncovered_loss(result: SimulationResult) -> float:
    """Bad debt no layer has paid: the three UNCOVERED_PARTS together."""
    return sum(uncovered_parts(result).values())


LOSS_PARTS = {
    "late": "collateral already short of the debt when liquidated (the price fell before the "
    "liquidation: oracle delay, keeper delay)",
    "price_move": "the market price's move while the auction ran (takes' bars against the "
    "liquidation's)",
    "discount": "takes below the market price (the auction's discount and the takers' slippage)",
    "other": "the rest: collateral not sold by takes (dust closes, settlement)",
}


def loss_decomposition(result: SimulationResult) -> dict[str, float]:
    """Where the realized loss came from (LOSS_PARTS), summed over the finished auctions with a
    loss. Per auction of debt D and collateral C, liquidated when the market price was M, whose
    takes bought c_i at p_i when the market price was M_i:
        late = D - C M,  price_move = sum c_i (M - M_i),  discount = sum c_i (M_i - p_i),
    and other = loss - the three. An auction that sold all its collateral to takes has other = 0:
    the three add up to D - sum c_i p_i, its loss. A part can be negative (a price that rose)."""
    losses, liquidations = result_table(result, "losses"), result_table(result, "liquidations")
    takes, bars = result_table(result, "takes"), result_table(result, "bars")
    parts = dict.fromkeys(LOSS_PARTS, 0.0)
    short = losses[pd.to_numeric(losses["loss"], errors="coerce").fillna(0) > 0]
    if not len(short):
        return parts
    market = {int(b): float(p) for b, p in zip(bars["bar"], bars["market_price"])}
    # auction id -> (bar, debt, collateral) of its liquidation
    liquidated = {
        int(a): (int(b), float(d), float(c))
        for a, b, d, c in zip(
            liquidations["auction_id"],
            liquidations["bar"],
            liquidations["debt"],
            liquidations["collateral"],
        )
    }
    by_auction = {k: g for k, g in takes.groupby("auction_id")}
    for auction_id, loss in zip(short["auction_id"], short["loss"]):
        loss = float(loss)
        if int(auction_id) not in liquidated:
            parts["other"] += loss
            continue
        bar, debt, collateral = liquidated[int(auction_id)]
        at = market.get(bar, float("nan"))
        bought = by_auction.get(auction_id, takes.iloc[:0])
        late = debt - collateral * at
        move = float((bought["collateral"] * (at - bought["market_price"])).sum())
        discount = float((bought["collateral"] * (bought["market_price"] - bought["price"])).sum())
        parts["late"] += late
        parts["price_move"] += move
        parts["discount"] += discount
        parts["other"] += loss - late - move - discount
    if abs(parts["other"]) <= 1e-9 * sum(abs(v) for v in parts.values()):
        parts["other"] = 0.0  # float rounding of a sum that is 0 in exact arithmetic
    return parts


def paid_by_layer(result: SimulationResult) -> dict[str, float]:
    """Loss paid per layer: the run's waterfall order (`facts["waterfall"]`, layers that paid
    nothing included), then any other layer that paid, in layer order. What the deleveraging
    layer took and no vault has paid (parked_loss) is not paid: it is uncovered."""
    paid = result_table(result, "allocations").groupby("layer")["amount"].sum()
    order = [str(n) for n in result.facts.get("waterfall", [])]
    order += [n for n in LAYERS if n in paid.index and n not in order]
    order += sorted(str(n) for n in paid.index if n not in order)
    out = {n: float(paid[n]) if n in paid.index else 0.0 for n in order}
    if "deleverage" in out:
        out["deleverage"] -= parked_loss(result)
    return out


# the layers that charge vaults (the others are paid by the fund, stakers, token holders)
VAULT_LAYERS = ("redistribution", "deleverage")
TOP_PAYERS = 10  # the vaults whose share of the layers' charges the comparison shows


def vault_charges(result: SimulationResult) -> dict[str, Any]:
    """What the layers that charge vaults did in a run (the layer_charges and payers tables):
    `charged` [stablecoin] and `vaults` charged, the `top_share` of the TOP_PAYERS vaults that
    paid most, `made_unsafe` (vaults a charge took from safe to unsafe at the same price),
    `liquidated_after` (charged vaults liquidated after their first charge), and `by_band`,
    the share of the charges by the vault's health before the charge (HEALTH_BANDS)."""
    charges = result_table(result, "layer_charges")
    payers = result_table(result, "payers")
    paid = payers[(payers["kind"] == "vault") & payers["layer"].isin(VAULT_LAYERS)]
    per_vault = paid.groupby("payer")["amount"].sum().sort_values(ascending=False)
    total = float(per_vault.sum())
    by_band = charges.groupby("band")["amount"].sum() if len(charges) else pd.Series(dtype=float)
    return {
        "charged": total,
        "vaults": int(len(per_vault)),
        "top_share": float(per_vault.head(TOP_PAYERS).sum()) / total if total else 0.0,
        "made_unsafe": int(charges["made_unsafe"].sum()) if len(charges) else 0,
        "liquidated_after": int(charges["liquidated_after"].sum()) if len(charges) else 0,
        "by_band": {
            band: float(by_band.get(band, 0.0)) / total if total else 0.0 for band in HEALTH_BANDS
        },
    }


def largest_payers(result: SimulationResult, count: int) -> pd.DataFrame:
    return (
        result_table(result, "payers")
        .sort_values("amount", ascending=False, kind="stable")
        .head(count)
    )


def time_to_clear(result: SimulationResult) -> float | None:
    """Seconds from the first liquidation to the close of the last auction; None without
    liquidations or when an auction was still running at the end (the run did not clear)."""
    liquidations, losses = result_table(result, "liquidations"), result_table(result, "losses")
    closed = utc_times(losses["closed"])
    if not len(liquidations) or closed.isna().any():
        return None
    return float(closed.max() - pd.to_numeric(liquidations["time"]).astype(float).min())


def vaults_liquidated(result: SimulationResult) -> int:
    return int(result_table(result, "liquidations")["owner"].nunique())


def auctions_finished(result: SimulationResult) -> int:
    """Closed loss events: every auction is one, closed when the auction finishes."""
    return int(utc_times(result_table(result, "losses")["closed"]).notna().sum())


# what a keeper's gas budget deferred, by kind: the `deferred` table's functions
DEFERRED_KINDS = {"liquidate_many": "liquidations", "take": "takes", "reset": "resets"}


def deferred_by_type(result: SimulationResult) -> pd.DataFrame:
    """What the keepers' gas budgets deferred (the `deferred` table), one row per collateral type
    in the run's order and then BACKSTOP_WIDE: `liquidations` (vaults), `takes`, `resets` and
    `backstop` (the backstop keeper's actions), each bar it waited; `binding`, those of them
    deferred in a bar whose sent transactions of the same keeper landed (in the bar or the
    next): elsewhere the latency model dropped what the keeper sent, and would have dropped
    what it deferred (the same bid in the same bar), so the budget changed nothing there; and
    the `gas` they would have cost (estimated). Empty without a deferred action."""
    deferred, txs = result_table(result, "deferred"), result_table(result, "txs")
    columns = ["collateral_type", *DEFERRED_KINDS.values(), "backstop", "binding", "gas"]
    if not len(deferred):
        return pd.DataFrame({c: [] for c in columns})
    kind = deferred["function"].map(DEFERRED_KINDS).fillna("backstop")
    # a liquidation batch counts its vaults, any other action one
    count = deferred["targets"].where(kind == "liquidations", 1).astype(int)
    sent = txs[txs["status"].isin(("ok", "reverted"))]
    landed = set(zip(sent["actor"], sent["submitted_bar"]))
    binding = pd.Series(
        [(a, b) in landed for a, b in zip(deferred["actor"], deferred["bar"])], index=deferred.index
    )
    table = (
        pd.DataFrame({"collateral_type": deferred["collateral_type"], "kind": kind, "n": count})
        .pivot_table(index="collateral_type", columns="kind", values="n", aggfunc="sum")
        .reindex(columns=columns[1:-2])
        .fillna(0)
        .astype(int)
    )
    by_type = deferred["collateral_type"]
    table["binding"] = count.where(binding, 0).groupby(by_type).sum().astype(int)
    table["gas"] = deferred.groupby("collateral_type")["gas"].sum().astype(int)
    order = [str(t) for t in result.facts.get("collateral_types") or []] + [BACKSTOP_WIDE]
    order += sorted(str(t) for t in table.index if t not in order)
    table = table.reindex([t for t in order if t in table.index])
    return table.rename_axis(None, axis=1).reset_index()


# --- the summary ---------------------------------------------------------------------------
