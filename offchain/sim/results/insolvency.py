"""End-of-run accounting: what a run leaves owed, not only what it has already written off.

A run ends at its last bar, whatever is still under way. Three amounts make its insolvency:

- **realized bad debt**: the loss of every auction that finished (debt its proceeds did not
  cover), whether or not a layer has paid it since;
- **open-auction shortfall**: for each auction still running, its debt not yet raised (the loss
  event's debt less what its takes raised) less its unsold collateral marked to the last bar's
  market price, when positive. A mark is not a sale: selling that collateral would move the
  price, so this is a floor on what the auctions will lose, not a forecast. Beside it, a stress:
  the **fire-sale shortfall**, the same with the collateral valued at the keepers' pool's own
  quote for selling every unsold lot at once (shared pro rata to each lot). That is the other
  extreme (no arbitrage refills the pool, nothing waits for a better price); the truth lies
  between, and a run drained to its end (`drain_bars`) measures it;
- **unsafe-vault shortfall**: for each vault unsafe at that price (collateral x price below
  debt x liquidation ratio) and not in auction, its debt less its collateral's marked value, when
  positive: what liquidating it at that price at once could not recover.

Those marks at the last price give **insolvency at the last price** = realized bad debt +
open-auction shortfall + unsafe-vault shortfall. The **end-of-run mark** (`EndOfRun.insolvency`)
marks conservatively: everything still open (the running auctions' unsold lots, then the unsafe
vaults' collateral) is sold, in the order keepers would (the auctions as they started, then the
vaults closest to liquidation first), into a constant-product market of `market_depth`
stablecoin per side at the last price (market/impact.py's model; the driver passes the scenario's
external market's depth, or without price impact the keepers' pool's stablecoin reserve at the
end: the only depth such a scenario has). Each sale moves the price the next one meets; each
item's **marked shortfall** is its debt (an auction's not yet raised) less what its own sale
fetched, when positive:

insolvency = realized bad debt + marked open-auction shortfall + marked unsafe-vault shortfall.

A run's headline is this mark taken where the headline's drain stopped (sim/run/drain.py: the open
book run out by the run's own keepers at the last price, up to a horizon; `drained_facts`); the
mark at the run's end is printed beside it (`insolvency_mark`).

An open market's mark sells on its outside venue instead (`VenueMark`), which pays, as in the
run, from the outside's stablecoin (its balance and its venues' tills at the end: `MarkCash`).
What the outside cannot pay for fetches the lesser of the venue's price for it and its share of
the keepers' pool's quote for every open lot (an unsafe vault's collateral: its value at the
last price, so in practice the venue's price, as before the limit). A short outside never makes
the mark kinder than the venue's; with nothing left, an auction's lot is marked at its pool
share, the pool-sale bound (2021-05-19's worst phase at 30k vaults: docs/simulation.md).
`mark_unpaid` counts the tokens.

A market of depth 0 is none: everything sells at the last price, and the two figures agree. Every
amount is
computed from the exact integers the run's events carried (ledger.py), then reported in whole
units. Keeper rewards paid at liquidation are not in a loss event (the Backstop mints them as its
own debt) and are not counted here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from offchain.model.fixed_point import RAD, RAY, WAD, WAD_TO_RAY
from offchain.sim.market.venue import Venue
from offchain.sim.strategies.keepers import VaultIndex

# the columns of the "exposure" table: one row per running auction and per unsafe vault
EXPOSURE_COLUMNS = (
    "kind",
    "auction_id",
    "owner",
    "debt",
    "collateral",
    "marked_value",  # at the last market price
    "shortfall",  # debt less the marked value, when positive
    "sale_value",  # an auction's share of the pool's quote for every unsold lot; vaults: empty
    "fire_sale_shortfall",  # debt less the sale value, when positive; vaults: empty
    "marked_sale",  # what selling it fetched in the conservative mark, in its turn
    "marked_shortfall",  # debt less the marked sale, when positive
)


@dataclass(frozen=True)
class EndOfRun:
    """The end-of-run accounting (module docstring); amounts in rad, collateral in wad."""

    mark_price: int  # wad: the last bar's market price
    realized: int
    open_auctions: int
    open_debt: int  # not yet raised, of the running auctions' loss events
    open_collateral: int
    open_sale: int  # the pool's quote for every unsold lot at once
    open_shortfall: int
    fire_sale_shortfall: int  # of the running auctions, at the pool's quote
    unsafe_vaults: int
    unsafe_debt: int
    unsafe_shortfall: int
    rows: tuple[tuple[Any, ...], ...]  # EXPOSURE_COLUMNS, in whole units
    # the conservative mark: the depth sold into [wad per side; 0: none], the market price
    # after every sale [wad], each part's marked shortfall [rad]
    market_depth: int = 0
    marked_price: int = 0
    marked_open_shortfall: int = 0
    marked_unsafe_shortfall: int = 0
    # tokens [wad] the venue's mark sold elsewhere: the outside could not pay for them
    mark_unpaid: int = 0

    @property
    def insolvency_last_price(self) -> int:
        """The optimistic bound: everything open marked at the last price."""
        return self.realized + self.open_shortfall + self.unsafe_shortfall

    @property
    def insolvency(self) -> int:
        """The end-of-run mark: everything open sold into the market (module docstring); where
        the headline's drain stopped, the run's headline."""
        return self.realized + self.marked_open_shortfall + self.marked_unsafe_shortfall

    def facts(self) -> dict[str, float | int]:
        """The result's facts (whole units)."""
        return {
            "mark_price": self.mark_price / WAD,
            "realized_bad_debt": self.realized / RAD,
            "open_auctions": self.open_auctions,
            "open_auction_debt": self.open_debt / RAD,
            "open_auction_collateral": self.open_collateral / WAD,
            "open_auction_sale_value": self.open_sale / RAD,
            "open_auction_shortfall": self.open_shortfall / RAD,
            "open_auction_fire_sale_shortfall": self.fire_sale_shortfall / RAD,
            "unsafe_vaults_left": self.unsafe_vaults,
            "unsafe_vault_debt": self.unsafe_debt / RAD,
            "unsafe_vault_shortfall": self.unsafe_shortfall / RAD,
            "mark_depth": self.market_depth / WAD,
            "mark_price_after_sales": self.marked_price / WAD,
            "open_auction_marked_shortfall": self.marked_open_shortfall / RAD,
            "unsafe_vault_marked_shortfall": self.marked_unsafe_shortfall / RAD,
            "mark_unpaid_collateral": self.mark_unpaid / WAD,
            "insolvency_last_price": self.insolvency_last_price / RAD,
            "insolvency": self.insolvency / RAD,
        }


# the facts drained_facts sets: a replay's chain run takes its model's (run/replay.py)
DRAINED_FACTS = (
    "insolvency",
    "insolvency_mark",
    "drain_horizon",
    "headline_drained_bars",
    "time_to_clear_s",
    "auctions_open_at_horizon",
    "horizon_open_auction_debt",
    "horizon_unsafe_vaults_left",
    "horizon_realized_bad_debt",
    "horizon_marked_shortfall",
    "horizon_mark_unpaid_collateral",
    "drain_s",
)


def drained_facts(
    mark: float,
    ends: Iterable[EndOfRun],
    horizon: int,
    bars: int,
    bar_seconds: int,
    seconds: float,
) -> dict[str, Any]:
    """The headline's facts (whole units) after the drain (run/drain.py): the open book run out
    by the run's own keepers at the last price for `bars` bars (recorded and not, `bar_seconds`
    each) of at most `horizon`, `ends` each type's accounting where the drain stopped, so
    **insolvency** = the realized bad debt then + what is still open then, marked (the
    conservative mark of the module docstring). `mark` is the same mark taken at the run's end
    (the headline without the drain, a bound printed beside it). The time to clear is None when
    an auction still runs at the horizon; `seconds` what the drain took."""
    ends = list(ends)
    still_open = sum(e.open_auctions for e in ends)
    return {
        "insolvency": sum(e.insolvency for e in ends) / RAD,
        "insolvency_mark": mark,
        "drain_horizon": horizon,
        "headline_drained_bars": bars,
        "time_to_clear_s": None if still_open else bars * bar_seconds,
        "auctions_open_at_horizon": still_open,
        "horizon_open_auction_debt": sum(e.open_debt for e in ends) / RAD,
        "horizon_unsafe_vaults_left": sum(e.unsafe_vaults for e in ends),
        "horizon_realized_bad_debt": sum(e.realized for e in ends) / RAD,
        "horizon_marked_shortfall": sum(
            e.marked_open_shortfall + e.marked_unsafe_shortfall for e in ends
        )
        / RAD,
        "horizon_mark_unpaid_collateral": sum(e.mark_unpaid for e in ends) / WAD,
        "drain_s": round(seconds, 3),
    }


class _MarkMarket:
    """The conservative mark's market: `depth` stablecoin [wad] against depth / price tokens,
    constant product, no fee; depth 0: none, everything sells at `price`."""

    def __init__(self, depth: int, price: int):
        self.depth, self.price = depth, price
        self.stable = depth
        self.tokens = depth * WAD // price if price else 0

    def sell(self, collateral: int, fallback: int = 0) -> int:
        """What `collateral` [wad] fetches [rad], rounded down; the market moves (`fallback`:
        unused, VenueMark's)."""
        if self.depth == 0 or self.tokens == 0:
            return collateral * self.price * WAD_TO_RAY  # wad x wad x 1e9 = rad
        out = self.stable * collateral // (self.tokens + collateral)
        self.tokens += collateral
        self.stable -= out
        return out * 10**27

    def last_price(self) -> int:
        """The market's price after the sales so far [wad]."""
        if self.depth == 0 or self.tokens == 0:
            return self.price
        return self.stable * WAD // self.tokens


@dataclass
class MarkCash:
    """What the outside can pay for the end-of-run mark's sales on its venue, in the mark's
    unit (the venue's: dollars [wad]): its stablecoin and its venues' tills at the run's end,
    at the stablecoin's price then. One per run: each type's mark spends from it in turn (the
    run's first type first; the tills are summed over the types' venues)."""

    left: int


class VenueMark:
    """An open market's conservative mark (module docstring): the open book sold on the
    outside venue (market/venue.py) as keepers would, `total` tokens [wad] in equal parts over
    `bars` bars from the bar after `bar` (time `time`, `bar_seconds` apart) at the fundamental
    price `fundamental` [wad], each part walking the venue's curve from its memory then (its
    earlier parts' impact decaying between bars). `venue` is a copy: the run's is not touched.

    The venue pays from the outside's stablecoin, as in the run (market/flash_venue.py): with
    `cash`, a sale is paid only up to what is left of it, and the tokens it cannot pay for fetch
    the lesser of what the venue would have paid for them and their share of `sell`'s fallback
    (`unpaid` counts them): a short outside never makes the mark kinder. Every part is still
    walked on the venue copy, so its memory and `last_price` are the unlimited mark's. None: no
    limit."""

    def __init__(
        self,
        venue: Venue,
        bar: int,
        time: int,
        bar_seconds: int,
        fundamental: int,
        bars: int,
        total: int,
        cash: MarkCash | None = None,
    ):
        self.venue, self.fundamental = copy.deepcopy(venue), fundamental
        self.cash = cash
        self.unpaid = 0  # tokens [wad] the outside could not pay for
        self.bar, self.time, self.bar_seconds = bar, time, bar_seconds
        self.quota = -(-total // bars) if total else 0
        self.k, self.left = 1, self.quota

    def _at(self) -> tuple[int, int]:
        return self.bar + self.k, self.time + self.k * self.bar_seconds

    def sell(self, collateral: int, fallback: int = 0) -> int:
        """What `collateral` [wad] fetches [rad], in the parts left of the bars' quotas. What
        the outside's cash cannot pay for fetches the lesser of the venue's price for it and its
        share of `fallback` [rad], the whole `collateral`'s value elsewhere (the keepers' pool's
        quote for an auction's lot; for a vault's collateral its value at the last price, so
        there the venue's price, as before the limit)."""
        got = unpaid = unpaid_proceeds = 0
        whole = collateral
        cash = self.cash
        while collateral > 0:
            part = min(collateral, self.left)
            bar, time = self._at()
            proceeds = self.venue.trade(bar, time, self.fundamental, part)
            if cash is not None and proceeds > cash.left:
                # the part the outside could not pay for, in tokens (rounded up) and in what the
                # venue would have paid for it
                unpaid += -(-part * (proceeds - cash.left) // proceeds)
                unpaid_proceeds += proceeds - cash.left
                proceeds = cash.left
            if cash is not None:
                cash.left -= proceeds
            got += proceeds
            collateral -= part
            self.left -= part
            if self.left == 0:
                self.k, self.left = self.k + 1, self.quota
        self.unpaid += unpaid
        elsewhere = fallback * unpaid // whole if whole else 0
        return got * 10**27 + min(unpaid_proceeds * 10**27, elsewhere)

    def last_price(self) -> int:
        """The venue's price after the sales so far [wad]."""
        bar, time = self._at()
        return self.venue.price(bar, time, self.fundamental)


class MarkVenue(Protocol):
    """What `end_of_run` needs to build an open market's mark (`VenueMark`)."""

    def __call__(self, total: int) -> VenueMark: ...


def end_of_run(
    losses: dict[int, dict[str, Any]],
    running: dict[int, list[int]],
    owners: dict[int, str],
    vaults: dict[str, tuple[int, int]],
    rate: int,
    liquidation_ratio: int,
    price: int,
    sale: int,
    market_depth: int = 0,
    venue_mark: MarkVenue | None = None,
) -> EndOfRun:
    """The accounting of a run from its ledger: `losses` (auction id -> the loss event, ledger
    .losses), `running` (auction id -> [collateral left, debt left to raise]), `owners` (auction
    id -> the liquidated owner), `vaults` (owner -> (collateral, normalized debt)), the type's
    `rate` [ray] and `liquidation_ratio` [ray], the mark `price` [wad], and `sale` [rad]: what
    the keepers' pool would pay for every unsold lot at once; `market_depth` [wad per side] the
    market the conservative mark sells into (0: none); with `venue_mark` (an open market), the
    mark sells on the outside venue instead (`VenueMark`, built for the open book's tokens)."""
    realized = sum(x["loss"] for x in losses.values() if x["loss"] is not None)
    rows: list[tuple[Any, ...]] = []
    market: _MarkMarket | VenueMark = _MarkMarket(market_depth, price)
    if venue_mark is not None:
        total = sum(lot for lot, _ in running.values()) + sum(
            vaults[o][0] for o in _unsafe_at(vaults, rate, liquidation_ratio, price)
        )
        market = venue_mark(total)
    marked_open = marked_unsafe = 0
    open_debt = open_collateral = open_shortfall = fire_sale = 0
    lots = sum(lot for lot, _ in running.values())
    for auction_id in sorted(running):
        lot, tab = running[auction_id]
        loss = losses[auction_id]
        raised = loss["to_raise"] - tab
        owed = max(loss["debt"] - raised, 0)
        value = lot * price * WAD_TO_RAY  # wad x wad -> rad
        sold = sale * lot // lots if lots else 0
        short, fired = max(owed - value, 0), max(owed - sold, 0)
        fire_sale += fired
        fetched = market.sell(lot, sold)
        marked = max(owed - fetched, 0)
        marked_open += marked
        open_debt, open_collateral, open_shortfall = (
            open_debt + owed,
            open_collateral + lot,
            open_shortfall + short,
        )
        rows.append(
            (
                "auction",
                auction_id,
                owners.get(auction_id, ""),
                owed / RAD,
                lot / WAD,
                value / RAD,
                short / RAD,
                sold / RAD,
                fired / RAD,
                fetched / RAD,
                marked / RAD,
            )
        )
    unsafe = unsafe_debt = unsafe_shortfall = 0
    for owner in _keeper_order(vaults):
        collateral, art = vaults[owner]
        debt = art * rate
        value = collateral * price * WAD_TO_RAY
        if debt == 0 or value * RAY >= debt * liquidation_ratio:
            continue
        short = max(debt - value, 0)
        fetched = market.sell(collateral, value)
        marked = max(debt - fetched, 0)
        marked_unsafe += marked
        unsafe, unsafe_debt, unsafe_shortfall = (
            unsafe + 1,
            unsafe_debt + debt,
            unsafe_shortfall + short,
        )
        rows.append(
            (
                "vault",
                None,
                owner,
                debt / RAD,
                collateral / WAD,
                value / RAD,
                short / RAD,
                None,
                None,
                fetched / RAD,
                marked / RAD,
            )
        )
    return EndOfRun(
        price,
        realized,
        len(running),
        open_debt,
        open_collateral,
        sale,
        open_shortfall,
        fire_sale,
        unsafe,
        unsafe_debt,
        unsafe_shortfall,
        tuple(rows),
        market_depth,
        market.last_price(),
        marked_open,
        marked_unsafe,
        market.unpaid if isinstance(market, VenueMark) else 0,
    )


def unsafe_left(index: VaultIndex, rate: int, liquidation_ratio: int, price: int) -> bool:
    """A vault of `index` is unsafe at `price` [wad] by `end_of_run`'s test (so the end-of-run
    accounting would mark it), found without reading every vault: the index's bisection at the
    safe price rounded down takes in every such vault (and perhaps a few at the boundary), each
    then checked exactly."""
    safe_price = price * WAD_TO_RAY * RAY // liquidation_ratio
    candidates = index.unsafe(rate, safe_price)
    vaults = {owner: index.vaults[owner] for owner in candidates}
    return bool(_unsafe_at(vaults, rate, liquidation_ratio, price))


def _unsafe_at(
    vaults: dict[str, tuple[int, int]], rate: int, liquidation_ratio: int, price: int
) -> list[str]:
    """The owners of vaults unsafe at `price` [wad], with debt (end_of_run's test)."""
    out = []
    for owner, (collateral, art) in vaults.items():
        debt = art * rate
        if debt and collateral * price * WAD_TO_RAY * RAY < debt * liquidation_ratio:
            out.append(owner)
    return out


def _keeper_order(vaults: dict[str, tuple[int, int]]) -> list[str]:
    """Owners in the order a liquidation keeper takes them: closest to liquidation first (the
    highest normalized debt per collateral, debt without collateral before all), then by owner."""

    def key(owner: str) -> tuple[int, int, str]:
        collateral, art = vaults[owner]
        if collateral == 0:
            return (0, 0, owner)
        return (1, -(art * 10**45 // collateral), owner)

    return sorted(vaults, key=key)
