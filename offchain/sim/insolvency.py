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

insolvency = realized bad debt + open-auction shortfall + unsafe-vault shortfall. Every amount is
computed from the exact integers the run's events carried (ledger.py), then reported in whole
units. Keeper rewards paid at liquidation are not in a loss event (the Backstop mints them as its
own debt) and are not counted here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offchain.model.fixed_point import RAD, RAY, WAD, WAD_TO_RAY

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
            "open_auction_sale_value": self.open_sale / RAD,
            "open_auction_shortfall": self.open_shortfall / RAD,
            "open_auction_fire_sale_shortfall": self.fire_sale_shortfall / RAD,
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
    sale: int,
) -> EndOfRun:
    """The accounting of a run from its ledger: `losses` (auction id -> the loss event, ledger
    .losses), `running` (auction id -> [collateral left, debt left to raise]), `owners` (auction
    id -> the liquidated owner), `vaults` (owner -> (collateral, normalized debt)), the type's
    `rate` [ray] and `liquidation_ratio` [ray], the mark `price` [wad], and `sale` [rad]: what
    the keepers' pool would pay for every unsold lot at once."""
    realized = sum(x["loss"] for x in losses.values() if x["loss"] is not None)
    rows: list[tuple[Any, ...]] = []
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
            )
        )
    unsafe = unsafe_debt = unsafe_shortfall = 0
    for owner in sorted(vaults):
        collateral, art = vaults[owner]
        debt = art * rate
        value = collateral * price * WAD_TO_RAY
        if debt == 0 or value * RAY >= debt * liquidation_ratio:
            continue
        short = max(debt - value, 0)
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
    )
