"""What a run records besides its transactions (run/driver.py's `Simulation` calls these): the
rows of every bar (the `bars` and `types` tables, read from the state after the bar), the
complete state every few bars (for `reconcile`), and at the end the run's tables and facts
(`SimulationResult`): each type's end marked (market/type_market.py), the headline, what became
of the keepers' actions (results/keeper_outcomes.py) and what bound the run (results/limits.py).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.market.type_market import contagion_row, end_of_type, mark_cash
from offchain.sim.results.insolvency import MarkCash
from offchain.sim.results.keeper_outcomes import failure_lines, keeper_actions
from offchain.sim.results.limits import binding_limits
from offchain.sim.results.tables import (
    CONTAGION_COLUMNS,
    LAYER_CHARGE_COLUMNS,
    LAYER_NAMES,
    TABLES,
    SimulationResult,
    Tables,
    build_table,
    soft_facts,
)
from offchain.sim.scenario.day_lineup import first_lines
from offchain.sim.scenario.timeline import utc
from offchain.sim.strategies.gas_strategy import GAS_ROLES
from offchain.system.reads import StateKeys, read_state

# an OutsideVenue's own variables (contracts/OutsideVenue.vy), read with the complete state
VENUE_STATE = ("synced_at", "flow", "num", "root_v", "fundamental", "sold")

# `sim` below is run/driver.py's Simulation (typed Any: driver imports this module, and an import
# back, even for types only, is the cycle tests/system/test_layers.py refuses)
Simulation = Any


def snapshot(sim: Simulation, i: int, unsafe: list[str]) -> None:
    """The bar's rows of the `bars` table (the first type's market and the Backstop's books)
    and of the `types` table (each type's), read from the state after the bar."""
    d, t = sim.deployment, sim.type_
    (
        oracle_price,
        ctype,
        rc,
        rs,
        unbacked,
        surplus,
        open_losses,
        assets,
        to_auction,
        gov,
        active,
        in_auction,
        debt_in_auction,
        unsettled,
    ) = sim.rec.read(
        [
            (t.oracle, "current_price", ()),
            (d.engine, "collateral_types", (t.type_id,)),
            (t.pool, "reserve_collateral", ()),
            (t.pool, "reserve_stable", ()),
            (d.engine, "bad_debt", (d.backstop,)),
            (d.engine, "stable", (d.backstop,)),
            (d.backstop, "open_losses", ()),
            (d.stability_pool, "assets", ()),
            (d.backstop, "debt_to_auction", ()),
            (d.governance_token, "totalSupply", ()),
            (t.auction, "active_count", ()),
            (d.engine, "collateral", (t.type_id, t.auction)),
            (d.liquidator, "debt_in_auction", ()),
            (d.backstop, "unsettled_proceeds", ()),
        ]
    )
    # finished auctions' proceeds and covers' payments wait in the Backstop until healed (the
    # keeper heals with its hourly accrual): they are neither bad debt still owed nor
    # surplus, whenever the heal comes
    unbacked, surplus = unbacked - unsettled, surplus - unsettled
    sim.peak_debt_in_auction = max(sim.peak_debt_in_auction, debt_in_auction)
    art, rate, spot = ctype[0], ctype[1], ctype[2]
    p30, p60 = sim.sending.latency.percentiles(sim.times[i])
    locked = sim.index.total_collateral
    _type_rows(sim, i)
    sim.rows["bars"].append(
        (
            i,
            sim.times[i],
            sim.prices[i] / WAD,
            oracle_price / WAD,
            spot / RAY,
            (rs / (rc * sim.scale)) if rc else 0.0,
            p60 / 10**9,
            art * rate / RAD,
            locked / WAD,
            in_auction / WAD,
            active,
            len(unsafe),
            len(sim.ledger.liquidated),
            unbacked / RAD,
            surplus / RAD,
            open_losses,
            assets / RAD,
            to_auction / RAD,
            gov / WAD,
            sim.fundamental[i] / WAD,
        )
    )


def _type_rows(sim: Simulation, i: int) -> None:
    """The bar's row of each collateral type (the `types` table)."""
    d = sim.deployment
    calls = [(d.engine, "global_debt_ceiling", ()), (d.engine, "total_issued", ())]
    for name in sim.markets:
        t = d.types[name]
        calls += [
            (t.oracle, "current_price", ()),
            (d.engine, "collateral_types", (t.type_id,)),
            (d.engine, "collateral", (t.type_id, t.auction)),
            (t.auction, "active_count", ()),
        ]
    got = sim.rec.read(calls)
    global_ceiling, issued = got[:2]
    for k, (name, m) in enumerate(sim.markets.items()):
        oracle_price, ctype, in_auction, active = got[2 + 4 * k : 6 + 4 * k]
        # (normalized debt, rate, safe price, debt ceiling, dust)
        debt, ceiling = ctype[0] * ctype[1], ctype[3]
        sim.rows["types"].append(
            (
                i,
                sim.times[i],
                name,
                m.prices[i] / WAD,
                m.fundamental[i] / WAD,
                oracle_price / WAD,
                debt / RAD,
                in_auction / WAD,
                active,
                len(m.unsafe),
                len(m.ledger.liquidated),
                ceiling / RAD,
                max(global_ceiling - issued, 0) / RAD,
            )
        )


def full_state(sim: Simulation) -> None:
    """Read the complete state (every state variable of every contract for every actor and
    vault owner, the outside venues on chain too) into `sim.states`, for `reconcile`."""
    d = sim.deployment
    venues = sim.flash_venues.addresses if sim.flash_venues is not None else {}
    counts = sim.rec.read(
        [
            (d.stability_pool, "charge_count", ()),
            (d.debt_auction, "count", ()),
            (d.surplus_auction, "count", ()),
            (d.backstop, "loss_count", ()),
        ]
    )
    keys = StateKeys(
        tuple(sim.actors.roles().values()),
        # auction ids name a slot and its generation: the ids started are those of the loss
        # events opened (one per liquidation), per type
        tuple(
            (
                name,
                tuple(sorted(sim.markets[name].ledger.losses)) if name in sim.markets else (),
            )
            for name in d.types
        ),
        tuple(range(1, counts[0] + 1)),
        tuple(range(1, counts[1] + 1)),
        tuple(range(1, counts[2] + 1)),
        tuple(range(1, counts[3] + 1)),
        tuple(p.owner for m in sim.markets.values() for p in m.plans)
        + tuple(sim.flash_takers.values())
        + tuple(venues.values()),
    )
    # (a full read is large and never repeats exactly: a chain need not keep its encoding)
    state = read_state(sim.backend, d, keys, cache=False)
    # the outside venues on chain (market/flash_venue.py): what they were last synced with
    calls = [(address, var, ()) for address in venues.values() for var in VENUE_STATE]
    values = iter(sim.backend.views(calls, cache=False) if calls else [])
    for name in venues:
        for var in VENUE_STATE:
            state[f"venue[{name}].{var}"] = next(values)
    sim.states.append((sim.bar, state))


def run_mark_cash(sim: Any) -> MarkCash | None:
    """What the run's outside can pay for the end-of-run mark's venue sales now
    (type_market.mark_cash): its stablecoin and its flash venues' tills."""
    venues = sim.flash_venues
    return mark_cash(
        sim.rec,
        sim.deployment,
        sim.lineup.outside,
        lambda: sum(venues.till.values()) if venues is not None else 0,
    )


def outside_facts(sim: Any) -> dict[str, Any]:
    """What the run's outside market did (sim/market/outside.py): open or closed (and why an
    absent key closed it), the first type's venue's trades, the resales, what the outside could
    not pay."""
    m = sim.scenario.market
    out: dict[str, Any] = {"outside": m.outside, "outside_note": m.outside_note}
    o = sim.lineup.outside
    venue = sim.venue
    if o is None or venue is None:
        return out
    # (the flash takers' sales on the venue are the outside's rows too: not resales)
    flash = set(sim.flash_takers.values())
    return {
        **out,
        "venue_sold": venue.sold / WAD,
        "venue_bought": venue.bought / WAD,
        "venue_floored": venue.floored,
        "resales": sum(1 for row in o.sales if row[2] not in flash | {sim.actors.arbitrageur}),
        "outside_short": o.short / WAD,
        "resale_delay_s": m.resale_delay,
        "flash_route": m.flash_route,
        **(sim.flash_venues.facts() if sim.flash_venues is not None else {}),
    }


def run_result(sim: Simulation, setup_s: float, total_s: float) -> SimulationResult:
    """The run's tables and facts at its end: the recorded rows as tables, each type's end
    (what is still open, marked), the headline, what became of the keepers' actions and what
    bound the run."""
    tables = Tables(
        {
            name: partial(build_table, name, rows)
            for name, rows in sim.rows.items()
            if name
            not in (
                "losses",
                "payers",
                "vaults",
                "exposure",
                "contagion",
                "layer_charges",
                "keeper_actions",
            )
        }
    )
    tables["losses"] = pd.DataFrame(sim.ledger.loss_rows(), columns=list(TABLES["losses"]))
    tables["payers"] = pd.DataFrame(sim.ledgers.payer_rows(), columns=list(TABLES["payers"]))
    vault_rows: list[tuple] = []
    exposure_rows: list[tuple] = []
    contagion_rows: list[tuple] = []
    charge_rows: list[tuple] = []
    ends = {}
    cash = run_mark_cash(sim)
    for name, m in sim.markets.items():
        end, rows = end_of_type(
            sim.rec, sim.deployment, name, m, sim.times, sim.scenario.market.mark_bars, cash
        )
        ends[name] = end
        vault_rows += rows
        exposure_rows += end.rows
        contagion_rows.append(contagion_row(name, m.ledger, end, m.deleverage_due))
        charge_rows += m.ledger.charge_rows(name)
    # vaults the keeper saw unsafe that were never liquidated and are safe at the end: a price
    # that came back, not a liquidation (named in their own table)
    recovered_rows = []
    for name, m in sim.markets.items():
        unsafe_end = {row[2] for row in ends[name].rows if row[0] == "vault"}
        for owner, first in m.ledger.first_unsafe.items():
            if owner not in m.ledger.liquidated and owner not in unsafe_end:
                collateral, art = m.index.vaults.get(owner, (0, 0))
                recovered_rows.append((name, owner, utc(first), collateral / WAD))
    sim.ends = ends  # each type's end, for the headline's drain (run/drain.py)
    tables["recovered"] = pd.DataFrame(recovered_rows, columns=list(TABLES["recovered"]))
    tables["vaults"] = pd.DataFrame(vault_rows, columns=list(TABLES["vaults"]))
    tables["exposure"] = pd.DataFrame(exposure_rows, columns=list(TABLES["exposure"]))
    tables["contagion"] = pd.DataFrame(contagion_rows, columns=list(CONTAGION_COLUMNS))
    tables["layer_charges"] = pd.DataFrame(charge_rows, columns=list(LAYER_CHARGE_COLUMNS))
    # the run's headline: every type's amounts added up (the first type's alone with one)
    end_facts: dict[str, Any] = {}
    for end in ends.values():
        for key, value in end.facts().items():
            end_facts[key] = end_facts.get(key, 0) + value
    first = ends[sim.collateral.name].facts()
    for key in ("mark_price", "mark_depth", "mark_price_after_sales"):  # the first type's
        end_facts[key] = first[key]
    # the loss the deleveraging layer parked and no vault took: unbacked at the end
    end_facts["deleverage_due"] = sum(m.deleverage_due for m in sim.markets.values()) / RAD
    order = [LAYER_NAMES[x] for x in sim.scenario.system.waterfall.order]
    # what became of the keepers' actions (results/keeper_outcomes.py), and the report's first
    # lines
    in_flight: dict[str, int] = {}
    for _, _, a in sim.sending.in_flight:
        in_flight[a.actor] = in_flight.get(a.actor, 0) + 1
    keeper_table = keeper_actions(tables["txs"], in_flight)
    tables["keeper_actions"] = keeper_table
    priced_out = {
        actor: sim.sending.strategy.fixed_bids[role] / 10**9
        for role in sim.sending.strategy.priced_out
        for actor in GAS_ROLES[role][:1]
    }
    facts = {
        "scenario": sim.scenario.name,
        "description": sim.scenario.description,
        "backend": sim.kind,
        "collateral_symbol": sim.collateral.token_symbol,
        "stable_symbol": sim.scenario.system.stablecoin_symbol,
        "collateral_type": sim.collateral.name,
        "waterfall": order,
        "liquidation_ratio": sim.collateral.liquidation_ratio / RAY,
        "bar_seconds": sim.times[1] - sim.times[0],
        "bars": len(sim.times),
        "vaults": sum(len(m.plans) for m in sim.markets.values()),
        "transactions": sim.rec.tx_count,
        "deferred_actions": len(sim.rows["deferred"]),
        "gas_strategy": sim.sending.strategy.kind,
        "gas_percentile": sim.sending.strategy.percentile,
        "priced_out": list(sim.sending.strategy.priced_out),
        "keeper_failures": failure_lines(keeper_table, priced_out),
        # what the lab chose that the scenario did not say (a bare CSV's lineup and block space,
        # the keepers' pool's depth): the run's first lines (scenario/day_lineup.py)
        "lab_choices": first_lines(sim.scenario),
        "actions_in_flight_at_end": len(sim.sending.in_flight),
        # margin calls: the vaults whose owners opted in, and their soft liquidations (the
        # soft_liquidations table), every type's
        "opted_in_vaults": sum(p.opted_in for m in sim.markets.values() for p in m.plans),
        **soft_facts(sim.rows["soft_liquidations"]),
        "gas_budgets": {
            "liquidation": sim.scenario.keepers.liquidation_gas_budget,
            "taker": sim.scenario.keepers.taker_gas_budget,
            "backstop": sim.scenario.keepers.backstop_gas_budget,
        },
        "peak_debt_in_auction": sim.peak_debt_in_auction / RAD,
        # the Liquidator's limits on debt in auction: every type's together, and the first
        # type's own (a liquidation waits while its type or the whole is at its limit)
        "max_debt_in_auction": sim.scenario.system.max_debt_in_auction / RAD,
        "auction_cap": sim.collateral.auction_cap / RAD,
        **end_facts,
        # what bound the run that --vaults does not raise (results/limits.py): its first lines
        "binding_limits": binding_limits(
            {name: list(waits.values()) for name, waits in sim.lineup.slot_waits.items()},
            tables["bars"],
            sim.peak_debt_in_auction / RAD,
            sim.scenario.system.max_debt_in_auction / RAD,
            sim.scenario.market.depth_with_vaults,
            None
            if len(sim.markets) > 1
            else (sim.collateral.name, sim.collateral.auction_cap / RAD),
            sim.sending.block_waits,
            sim.sending.late_takes,
            sim.sending.late_unplanned,
        ),
        "collateral_types": list(sim.markets),
        "unsafe_recovered": len(recovered_rows),
        # keeper transactions that waited a bar for room in the day's blocks (market/blockspace.py)
        "block_space_waits": sim.sending.block_waits,
        # takes not sent: their room in the blocks came after their auction's reset (_late)
        "late_takes": sim.sending.late_takes,
        # takes a taker left out unvalued for the same reason (sending.late_filter: an auction,
        # a taker and a round each)
        "late_unplanned": sim.sending.late_unplanned,
        # running auctions listed (one list a type and round, for the takers and the backstop
        # keeper; drain.py adds the headline drain's rounds, which `transactions` does not
        # count): the work of a round that grows with the auctions left open; and how many of
        # them had their status read (a round reads those its takers can act on: observe.py,
        # choose_running)
        "auction_views": sim.world.auction_views,
        "auction_reads": sim.world.auction_reads,
        # the instant sale of the open auctions' lots into the keepers' pool: the pessimistic
        # bound beside the headline (the last price is the optimistic one)
        "insolvency_pool_sale": end_facts["realized_bad_debt"]
        + end_facts["open_auction_fire_sale_shortfall"]
        + end_facts["unsafe_vault_shortfall"],
        **outside_facts(sim),
        "drained_bars": sim.drained,
        "impact_lowest_level": sim.impact.lowest / WAD,  # 1: no impact
        "path_bars": len(sim.scenario.market.prices),  # then the tail (and drain)
        "insurance_fund_start": sim.scenario.backstop.insurance_fund / WAD,
        "setup_s": round(setup_s, 3),
        "run_s": round(total_s, 3),
        "start": utc(sim.times[0]),
        "end": utc(sim.times[-1]),
    }
    return SimulationResult(sim.scenario.name, sim.kind, tables, facts, sim.states)
