"""End-of-run accounting: what a run leaves owed, not only what it has already written off.

A run ends at its last bar, whatever is still under way. Three amounts make its insolvency:

- **realized bad debt**: the loss of every auction that finished (debt its proceeds did not
  cover), whether or not a layer has paid it since;
- **open-auction shortfall**: for each auction still running, its debt not yet raised (the loss
  event's debt less what its takes raised) less its unsold collateral marked to the last bar's
  market price, when positive. A mark is not a sale: selling that collateral would move the price
  (slippage the mark ignores), so this is a floor on what the auction will lose, not a forecast;
- **unsafe-vault shortfall**: for each vault unsafe at that price (collateral x price below
  debt x liquidation ratio) and not in auction, its debt less its collateral's marked value, when
  positive: what liquidating it at that price at once could not recover.

insolvency = realized bad debt + open-auction shortfall + unsafe-vault shortfall. Every amount is
computed from the exact integers the run's events carried (ledger.py), then reported in whole
units. Keeper rewards paid at liquidation are not in a loss event (the Backstop mints them as its
own debt) and are not counted here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offchain.model.fixed_point import RAD, RAY, WAD

# the columns of the "exposure" table: one row per running auction and per unsafe vault
EXPOSURE_COLUMNS = (
    "kind",
    "auction_id",
    "owner",
    "debt",
    "collateral",
    "marked_value",
    "shortfall",
)


@dataclass(frozen=True)
class EndOfRun:
    """The end-of-run accounting (module docstring); amounts in rad, collateral in wad."""

    mark_price: int  # wad: the last bar's market price
    realized: int
    open_auctions: int
    open_debt: int  # not yet raised, of the running auctions' loss events
    open_collateral: int
    open_shortfall: int
    unsafe_vaults: int
    unsafe_debt: int
    unsafe_shortfall: int
    rows: tuple[tuple[Any, ...], ...]  # EXPOSURE_COLUMNS, in whole units

    @property
    def insolvency(self) -> int:
        return self.realized + self.open_shortfall + self.unsafe_shortfall

    def facts(self) -> dict[str, float | int]:
        """The result's facts (whole units)."""
        return {
            "mark_price": self.mark_price / WAD,
            "realized_bad_debt": self.realized / RAD,
            "open_auctions": self.open_auctions,
            "open_auction_debt": self.open_debt / RAD,
            "open_auction_collateral": self.open_collateral / WAD,
            "open_auction_shortfall": self.open_shortfall / RAD,
            "unsafe_vaults_left": self.unsafe_vaults,
            "unsafe_vault_debt": self.unsafe_debt / RAD,
            "unsafe_vault_shortfall": self.unsafe_shortfall / RAD,
            "insolvency": self.insolvency / RAD,
        }


def end_of_run(
    losses: dict[int, dict[str, Any]],
    running: dict[int, list[int]],
    owners: dict[int, str],
    vaults: dict[str, tuple[int, int]],
    rate: int,
    liquidation_ratio: int,
    price: int,
) -> EndOfRun:
    """The accounting of a run from its ledger: `losses` (auction id -> the loss event, ledger
    .losses), `running` (auction id -> [collateral left, debt left to raise]), `owners` (auction
    id -> the liquidated owner), `vaults` (owner -> (collateral, normalized debt)), the type's
    `rate` [ray] and `liquidation_ratio` [ray], and the mark `price` [wad]."""
    realized = sum(x["loss"] for x in losses.values() if x["loss"] is not None)
    rows: list[tuple[Any, ...]] = []
    open_debt = open_collateral = open_shortfall = 0
    for auction_id in sorted(running):
        lot, tab = running[auction_id]
        loss = losses[auction_id]
        raised = loss["to_raise"] - tab
        owed = max(loss["debt"] - raised, 0)
        value = lot * price * 10**9  # wad x wad -> rad
        short = max(owed - value, 0)
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
            )
        )
    unsafe = unsafe_debt = unsafe_shortfall = 0
    for owner in sorted(vaults):
        collateral, art = vaults[owner]
        debt = art * rate
        value = collateral * price * 10**9
        if debt == 0 or value * RAY >= debt * liquidation_ratio:
            continue
        short = max(debt - value, 0)
        unsafe, unsafe_debt, unsafe_shortfall = (
            unsafe + 1,
            unsafe_debt + debt,
            unsafe_shortfall + short,
        )
        rows.append(("vault", None, owner, debt / RAD, collateral / WAD, value / RAD, short / RAD))
    return EndOfRun(
        price,
        realized,
        len(running),
        open_debt,
        open_collateral,
        open_shortfall,
        unsafe,
        unsafe_debt,
        unsafe_shortfall,
        tuple(rows),
    )
