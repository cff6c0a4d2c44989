"""One collateral type's side of a run (run/driver.py): `TypeMarket` (its price paths, its market's
impact, its vault index and ledger, its population), and what it comes to at the end of the run:
`end_of_type` (its end-of-run accounting, results/insolvency.py, and its vaults' table rows) and
`contagion_row` (its row of the contagion table).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.market.capital import usd_for
from offchain.sim.market.impact import Impact
from offchain.sim.market.outside import Outside
from offchain.sim.market.venue import Venue
from offchain.sim.results.insolvency import EndOfRun, MarkCash, VenueMark, end_of_run
from offchain.sim.results.ledger import Ledger
from offchain.sim.run.recorder import Recorder
from offchain.sim.scenario.population import VaultPlan
from offchain.sim.strategies.keepers import VaultIndex
from offchain.system.config import CollateralConfig
from offchain.system.deployment import Deployment


@dataclass(eq=False)
class TypeMarket:
    """One collateral type's side of a run: its price paths, its market's impact, what its
    events said (index, ledger), its population and its unsafe vaults of the last round."""

    collateral: CollateralConfig
    fundamental: list[int]  # wad per bar: the scenario's path (then the tail and the drain)
    prices: list[int]  # wad per bar: the market's, the fundamental moved by impact
    impact: Impact
    index: VaultIndex
    ledger: Ledger
    plans: list[VaultPlan] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)
    # rad: the loss the deleveraging layer parked and no vault has taken, at the end
    deleverage_due: int = 0
    # the outside venue (venue.py) of an open market, which then sets `prices` instead of
    # `impact`; None: the closed market's impact model
    venue: Venue | None = None

    @property
    def scale(self) -> int:
        return 10 ** (18 - self.collateral.token_decimals)


def end_of_type(
    rec: Recorder,
    d: Deployment,
    name: str,
    m: TypeMarket,
    times: list[int] | None = None,
    mark_bars: int = 36,
    cash: MarkCash | None = None,
) -> tuple[EndOfRun, list[tuple]]:
    """Type `name`'s end-of-run accounting (results/insolvency.py) and its vaults' table rows;
    with an open market (`m.venue`) the open book is marked on the venue over `mark_bars` bars
    after the last of `times`, paid from `cash` (`mark_cash`: what the outside holds; None: no
    limit)."""
    t = d.types[name]
    ctype, m.deleverage_due = rec.read(
        [(d.engine, "collateral_types", (t.type_id,)), (d.backstop, "deleverage_due", (t.type_id,))]
    )
    rate = ctype[1]
    final_price = m.prices[-1]
    price0 = m.prices[0]
    rows = []
    for p in m.plans:
        collateral, art = m.index.vaults.get(p.owner, (0, 0))
        debt = art * rate
        rows.append(
            (
                p.owner,
                p.collateral / WAD,
                p.debt / WAD,
                p.collateral * price0 / (p.debt * WAD),
                collateral / WAD,
                debt / RAD,
                (collateral * final_price * RAY / (debt * WAD)) if debt else float("inf"),
                m.ledger.first_unsafe.get(p.owner),
                (m.ledger.liquidated.get(p.owner) or [None])[0],
                len(m.ledger.liquidated.get(p.owner, [])),
            )
        )
    lots = sum(lot for lot, _ in m.ledger.running.values()) // m.scale
    sale = rec.read([(t.pool, "quote", (True, lots))])[0] * 10**27 if lots else 0
    # the conservative mark's market (results/insolvency.py): the type's external market, or without
    # price impact the keepers' pool's stablecoin side at the end
    depth = m.impact.depth or rec.read([(t.pool, "reserve_stable", ())])[0]
    venue_mark: Callable[[int], VenueMark] | None = None
    if m.venue is not None and times:
        venue, bar = m.venue, len(times) - 1
        step = times[-1] - times[-2] if len(times) > 1 else 600
        fundamental, last = m.fundamental[-1], times[-1]
        venue_mark = partial(VenueMark, venue, bar, last, step, fundamental, mark_bars, cash=cash)

    end = end_of_run(
        m.ledger.losses,
        m.ledger.running,
        {row[3]: row[2] for row in m.ledger.rows["liquidations"]},
        m.index.vaults,
        rate,
        m.collateral.liquidation_ratio,
        final_price,
        sale,
        depth,
        venue_mark,
    )
    return end, rows


def contagion_row(name: str, ledger: Ledger, end: EndOfRun, deleverage_due: int = 0) -> tuple:
    """Type `name`'s row of the contagion table (results.tables.CONTAGION_COLUMNS), whole units;
    `deleverage_due` [rad] what the deleveraging layer still holds of its loss at the end."""
    paid = {layer: 0 for layer in ("fund", "stability_pool", "debt_auction", "redistribution")}
    paid["settlement"] = paid["deleverage"] = 0
    for row in ledger.rows["allocations"]:
        paid[row[3]] = paid.get(row[3], 0) + row[5]
    liquidations = ledger.rows["liquidations"]
    realized = end.realized / RAD
    return (
        name,
        len(liquidations),
        sum(row[5] for row in liquidations),
        realized,
        paid["fund"],
        paid["stability_pool"],
        paid["debt_auction"],
        paid["redistribution"],
        paid["settlement"],
        paid["deleverage"],
        deleverage_due / RAD,
        (end.realized - sum(x["allocated"] for x in ledger.losses.values() if x["loss"])) / RAD,
        end.marked_open_shortfall / RAD,
        end.marked_unsafe_shortfall / RAD,
        end.insolvency / RAD,
        end.insolvency_last_price / RAD,
    )


def mark_cash(
    rec: Recorder, d: Deployment, outside: Outside | None, tills: Callable[[], int]
) -> MarkCash | None:
    """What the outside can pay for the end-of-run mark's venue sales now (`MarkCash`): its
    stablecoin in the engine (what its venues pay from, market/flash_venue.py) and its venues'
    tills (`tills()` [wad], asked after the read, which mines what is queued), in dollars at
    the stablecoin's price now (the venue's unit); None without an outside (a closed market)."""
    if outside is None:
        return None
    stable = rec.read([(d.engine, "stable", (outside.address,))])[0] // RAY + tills()
    return MarkCash(usd_for(stable, outside.stable_price.at(rec.backend.last_block_time)))
