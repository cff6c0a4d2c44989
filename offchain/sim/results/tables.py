"""What a simulation run produces (offchain/sim/run/driver.py) and the report reads
(offchain/report/documents.py).

Tables are pandas DataFrames with fixed columns (below). Amounts in the derived tables are floats
in whole units (stablecoin, collateral tokens) for analysis and plots; the exact integers stay in
`events.args` (JSON, integers as decimal strings), which is what reconciliation compares.

bars         one row per bar, the state after the bar's transactions:
             bar, time, market_price, oracle_price, safe_price, pool_price, gas_p60_gwei, debt,
             collateral_locked, collateral_in_auction, active_auctions, vaults_unsafe,
             vaults_liquidated, unbacked_debt, surplus, open_losses, stability_pool_assets,
             debt_to_auction, governance_supply, fundamental_price (market_price is the
             fundamental price, the scenario's path, moved by liquidation sales: market/impact.py;
             unbacked_debt and surplus: the Backstop's,
             net of the unsettled proceeds, finished auctions' and covers', it has not yet
             healed; unbacked_debt is the debt the Backstop took from liquidated vaults and
             has not yet raised or covered, so it includes the debt still in auction: it is
             not bad debt, see insolvency.py)
events       bar, time, tx, log, contract, address, event, args
txs          bar, time, tx, actor, contract, function, submitted_bar, status, reason
             (status: ok | reverted | dropped | deferred; a dropped action (the latency model)
             or a deferred one (a keeper's gas budget) was never sent and has tx = -1)
liquidations bar, time, owner, auction_id, collateral, debt, unsafe_since, delay_s
takes        bar, time, auction_id, taker, price, market_price, collateral, owe
losses       auction_id, opened, closed, debt, raised, covered, loss, allocated, outstanding
allocations  bar, time, auction_id, layer, participant, amount
payers       payer, kind, layer, amount      (kind: fund | staker | debt_auction | vault |
settlement)
exposure     kind, auction_id, owner, debt, collateral, marked_value, shortfall: what the run
             leaves owed at its end, one row per auction still running (kind "auction") and
             per vault unsafe at the last market price (kind "vault"); see insolvency.py
types        one row per bar and collateral type: bar, time, collateral_type, market_price,
             fundamental_price, oracle_price, debt, collateral_in_auction, active_auctions,
             vaults_unsafe, vaults_liquidated (bars, liquidations, takes, losses and
             allocations are the first type's, with the system-wide columns; payers, vaults and
             exposure hold every type's, whose owners differ)
contagion    one row per collateral type: its liquidations and their debt, its realized bad debt
             and who paid it, by waterfall layer (fund, stability_pool, debt_auction,
             redistribution, settlement, deleverage and of that, deleverage_due, what is still
             parked at the end; not_yet_allocated), and its end-of-run shortfalls and
             insolvency: which type's crash the shared backstop paid for
layer_charges
             collateral_type, layer, band, charges, vaults, amount, made_unsafe,
             liquidated_after: what the layers that charge vaults (redistribution, deleverage)
             did, per type, layer and the charged vault's health before the charge (band of
             collateral x safe price / its requirement: below 1 is unsafe): the charges, the
             vaults first charged in the band, the amount, the vaults a charge took from safe
             to unsafe at the same price, and those first charged in the band that were
             liquidated afterwards
deferred     bar, time, actor, collateral_type, function, targets, gas, value: one row per action
             a keeper's gas budget held back in a bar (strategies/gas_budget.py): the collateral
             type it acts on (BACKSTOP_WIDE for the Backstop's own chores), its vaults (a
             liquidation batch) or 1, its estimated gas, and what the keeper valued it at
             [stablecoin]; a wait of several bars is a row each bar, as a dropped action is
gas_bids     bar, time, gas_p30_gwei, gas_p60_gwei, liquidation_bid_gwei, taker_bid_gwei,
             backstop_bid_gwei, soft_liquidation_bid_gwei: the bar's gas market (its 30th
             percentile is the latency model's inclusion price: a bid below it is dropped) and
             each keeper role's planned bid (strategies/gas_strategy.py; a dropped action's bid
             escalates from it, and the `txs` rows with status "dropped" are the actions that
             missed)
soft_liquidations
             bar, time, collateral_type, owner, caller, debt, collateral, price, market_price,
             bonus_value, bonus_at_market: one row per soft liquidation (MarginCall's
             SoftLiquidated, every type's): the debt the caller repaid, the collateral it
             received at `price` (the exchange price: the highest the oracle knows), the bonus
             the event states (at that price) and what the owner gave up at the bar's market
             price (collateral x market price - debt; negative when the market is below the
             exchange price by more than the bonus)
vaults       owner, collateral_start, debt_start, ratio_start, collateral_end, debt_end, ratio_end,
             unsafe_since, liquidated_at, liquidations

after_data   every table with a `bar` column of a run's result (`Tables` with `after_data_from`,
             set from the run's `path_bars` fact) has one more, last: True for a bar past the
             price file's last row (the run's tail and drain bars, whose price is the last
             row's), False for the data's bars and the setup (-1). It is derived, not recorded
             (TABLES lists the recorded columns).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from offchain.model.backstop import Layer
from offchain.sim.results.insolvency import EXPOSURE_COLUMNS
from offchain.sim.results.keeper_outcomes import COLUMNS as KEEPER_ACTION_COLUMNS

BAR_COLUMNS = (
    "bar",
    "time",
    "market_price",
    "oracle_price",
    "safe_price",
    "pool_price",
    "gas_p60_gwei",
    "debt",
    "collateral_locked",
    "collateral_in_auction",
    "active_auctions",
    "vaults_unsafe",
    "vaults_liquidated",
    "unbacked_debt",
    "surplus",
    "open_losses",
    "stability_pool_assets",
    "debt_to_auction",
    "governance_supply",
    "fundamental_price",
)
EVENT_COLUMNS = ("bar", "time", "tx", "log", "contract", "address", "event", "args")
TX_COLUMNS = (
    "bar",
    "time",
    "tx",
    "actor",
    "contract",
    "function",
    "submitted_bar",
    "status",
    "reason",
)
LIQUIDATION_COLUMNS = (
    "bar",
    "time",
    "owner",
    "auction_id",
    "collateral",
    "debt",
    "unsafe_since",
    "delay_s",
)
TAKE_COLUMNS = ("bar", "time", "auction_id", "taker", "price", "market_price", "collateral", "owe")
LOSS_COLUMNS = (
    "auction_id",
    "opened",
    "closed",
    "debt",
    "raised",
    "covered",
    "loss",
    "allocated",
    "outstanding",
)
ALLOCATION_COLUMNS = ("bar", "time", "auction_id", "layer", "participant", "amount")
PAYER_COLUMNS = ("payer", "kind", "layer", "amount")
VAULT_COLUMNS = (
    "owner",
    "collateral_start",
    "debt_start",
    "ratio_start",
    "collateral_end",
    "debt_end",
    "ratio_end",
    "unsafe_since",
    "liquidated_at",
    "liquidations",
)
TYPE_BAR_COLUMNS = (
    "bar",
    "time",
    "collateral_type",
    "market_price",
    "fundamental_price",
    "oracle_price",
    "debt",
    "collateral_in_auction",
    "active_auctions",
    "vaults_unsafe",
    "vaults_liquidated",
    # the type's debt ceiling (the CeilingManager moves it; the room under it is debt_ceiling -
    # debt, derived where it is shown), and what is left under the global ceiling every type
    # shares (its inputs are not in these rows; the same in every type's row of a bar)
    "debt_ceiling",
    "global_headroom",
)
CONTAGION_COLUMNS = (
    "collateral_type",
    "liquidations",
    "debt_liquidated",
    "realized_bad_debt",
    "fund",
    "stability_pool",
    "debt_auction",
    "redistribution",
    "settlement",
    "deleverage",  # handed to the layer (parked); then charged to vaults or still due
    "deleverage_due",  # of it, still due at the end: no vault has taken it, unbacked
    "not_yet_allocated",
    # the end-of-run mark's (insolvency.py): sold into the market in the keepers' order
    "open_auction_shortfall",
    "unsafe_vault_shortfall",
    "insolvency",  # the type's part of the headline: drained (sim/run/drain.py)
    "insolvency_last_price",  # everything open at the run's end at the last price
)
DEFERRED_COLUMNS = (
    "bar",
    "time",
    "actor",
    "collateral_type",
    "function",
    "targets",
    "gas",
    "value",
)
# the gas market of each bar and each keeper role's planned bid (strategies/gas_strategy.py) [gwei]
GAS_BID_COLUMNS = (
    "bar",
    "time",
    "gas_p30_gwei",
    "gas_p60_gwei",
    "liquidation_bid_gwei",
    "taker_bid_gwei",
    "backstop_bid_gwei",
    "soft_liquidation_bid_gwei",
)
SOFT_LIQUIDATION_COLUMNS = (
    "bar",
    "time",
    "collateral_type",
    "owner",
    "caller",
    "debt",
    "collateral",
    "price",
    "market_price",
    "bonus_value",
    "bonus_at_market",
)
LAYER_CHARGE_COLUMNS = (
    "collateral_type",
    "layer",
    "band",
    "charges",
    "vaults",
    "amount",
    "made_unsafe",
    "liquidated_after",
)
# a charged vault's health before the charge: collateral x safe price / its requirement (its
# debt weighted by the size margin), 1 being the liquidation line; each band's lower bound in
# thousandths, and its label
_BAND_BOUNDS = ((0, "<1"), (1000, "1-1.1"), (1100, "1.1-1.25"), (1250, "1.25-1.5"))
_BAND_BOUNDS += ((1500, "1.5-2"), (2000, ">=2"))
HEALTH_BANDS = tuple(label for _, label in _BAND_BOUNDS)


def health_band(value: int, need: int) -> str:
    """The HEALTH_BANDS label of a vault whose collateral is worth `value` at the safe price and
    whose requirement is `need` (both rad), exactly."""
    label = HEALTH_BANDS[0]
    for lower, name in _BAND_BOUNDS:
        if value * 1000 >= need * lower:
            label = name
    return label


# vaults the liquidation keeper saw unsafe that were never liquidated and are safe at the end
RECOVERED_COLUMNS = ("collateral_type", "owner", "first_unsafe", "collateral")

BACKSTOP_WIDE = "backstop-wide"  # the collateral type of a deferred action on no one type
TABLES = {
    "bars": BAR_COLUMNS,
    "events": EVENT_COLUMNS,
    "txs": TX_COLUMNS,
    "liquidations": LIQUIDATION_COLUMNS,
    "takes": TAKE_COLUMNS,
    "losses": LOSS_COLUMNS,
    "allocations": ALLOCATION_COLUMNS,
    "payers": PAYER_COLUMNS,
    "vaults": VAULT_COLUMNS,
    "exposure": EXPOSURE_COLUMNS,
    "types": TYPE_BAR_COLUMNS,
    "contagion": CONTAGION_COLUMNS,
    "deferred": DEFERRED_COLUMNS,
    "gas_bids": GAS_BID_COLUMNS,
    "soft_liquidations": SOFT_LIQUIDATION_COLUMNS,
    "layer_charges": LAYER_CHARGE_COLUMNS,
    "keeper_actions": KEEPER_ACTION_COLUMNS,
    "recovered": RECOVERED_COLUMNS,
}
# waterfall layer number -> name (Backstop.vy; 5 = settlement after a shutdown)
LAYER_NAMES = {int(layer): layer.label for layer in Layer}  # layer id -> label


@dataclass
class Reconciliation:
    """Chain run vs model run: what was compared and every difference found (readable lines)."""

    events_compared: int = 0
    txs_compared: int = 0
    bars_compared: int = 0
    state_checks: int = 0  # full-state comparisons (every state variable)
    state_variables_compared: int = 0
    diffs: list[str] = field(default_factory=list)  # the first differences, one line each
    diff_count: int = 0  # all differences (`diffs` keeps the first few)

    @property
    def ok(self) -> bool:
        return self.diff_count == 0


# a derived column of the tables with a `bar` column: the bar is past the price file's data
AFTER_DATA = "after_data"


class Tables(MutableMapping):
    """A run's tables by name, each built on first read: a run keeps its rows, and a sweep that
    reads a few tables (payers, losses) never formats the rest (the events table's JSON is
    most of that). Reading, iterating, `items()` and `values()` build; `in`, `keys()` and
    `len()` do not. With `after_data_from` (the run's number of data bars, `path_bars`), a
    table with a `bar` column gets AFTER_DATA as it is read (the module docstring)."""

    def __init__(
        self,
        tables: dict[str, pd.DataFrame | Callable[[], pd.DataFrame]],
        after_data_from: int | None = None,
    ):
        self._tables = dict(tables)
        self.after_data_from = after_data_from

    def __getitem__(self, name: str) -> pd.DataFrame:
        table = self._tables[name]
        if not isinstance(table, pd.DataFrame):
            table = self._tables[name] = table()
        if (
            self.after_data_from is not None
            and "bar" in table.columns
            and AFTER_DATA not in table.columns
        ):
            table[AFTER_DATA] = pd.to_numeric(table["bar"]) >= self.after_data_from
        return table

    def __setitem__(self, name: str, table: pd.DataFrame) -> None:
        self._tables[name] = table

    def __delitem__(self, name: str) -> None:
        del self._tables[name]

    def __contains__(self, name: object) -> bool:  # Mapping's would build the table
        return name in self._tables

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


@dataclass
class SimulationResult:
    scenario_name: str
    backend: str  # "chain" or "model"
    tables: MutableMapping[str, pd.DataFrame]  # a dict, or Tables (built on first read)
    # facts for the summary: collateral symbol, stablecoin symbol, waterfall order (names), bar
    # seconds, latency bound in bars, counts, timings [s]
    facts: dict[str, Any] = field(default_factory=dict)
    # every full-state read: (bar, {state key: value}) -- compared by reconciliation, not written
    states: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # a run's tables mark its bars past the data (AFTER_DATA) from its `path_bars` fact
        if isinstance(self.tables, Tables) and self.facts.get("path_bars") is not None:
            self.tables.after_data_from = int(self.facts["path_bars"])


def soft_facts(rows: list[tuple]) -> dict[str, Any]:
    """A run's soft liquidations in sum (rows of the soft_liquidations table), whole units:
    how many, the vaults, the debt repaid, the collateral moved valued at each bar's market price,
    the bonus at the exchange price (the events') and what the owners gave up at the market."""
    return {
        "soft_liquidations": len(rows),
        "soft_liquidated_vaults": len({(r[2], r[3]) for r in rows}),
        "soft_liquidated_debt": sum(r[5] for r in rows),
        "soft_liquidated_value": sum(r[6] * r[8] for r in rows),
        "soft_bonus_value": sum(r[9] for r in rows),
        "soft_bonus_at_market": sum(r[10] for r in rows),
    }


def empty_table(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in TABLES[name]})


def jsonable(value: Any) -> Any:
    kind = type(value)
    if kind is int:  # the common case first (bool is not int here)
        return str(value)
    if kind is bool or value is None or kind is str:
        return value
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    return str(value)


_JSON = json.JSONEncoder().encode
_JSON_KEYS: dict[str, str] = {}


def args_json(args: dict[str, Any]) -> str:
    """json.dumps({k: jsonable(v) for k, v in args.items()}, sort_keys=True): an event's args as
    the events table holds them, written out for the common values (a model run encodes ~18,000)."""
    parts = []
    for k in sorted(args):
        key = _JSON_KEYS.get(k)
        if key is None:
            key = _JSON_KEYS[k] = _JSON(k) + ": "
        v = args[k]
        parts.append(
            f'{key}"{v}"' if type(v) is int else key + _JSON(jsonable(v))
        )  # ints: most values
    return "{" + ", ".join(parts) + "}"


def build_table(name: str, rows: list[tuple]) -> pd.DataFrame:
    """A table from its recorded rows; the events' args (recorded as dicts) become JSON here."""
    if name == "events":
        rows = [row[:-1] + (args_json(row[-1]),) for row in rows]
    return pd.DataFrame(rows, columns=list(TABLES[name]))
