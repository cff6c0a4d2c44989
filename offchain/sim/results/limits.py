"""The limits that bound a run, named in its first lines (facts' `binding_limits`): what kept an
unsafe vault waiting that the lab's sizing rule (scenario/ceilings.py: the ceilings, caps, keepers'
capital and budgets follow --vaults) does not raise.

- **The auction's running slots.** A DutchAuction runs at most `MAX_ACTIVE` (2**24) auctions at
  once (contracts/modules/auction_slots.vy; 1,024 before 2026-11-26, which bound every
  100,000-vault crash): the liquidation keeper proposes only as many vaults as there are free
  slots (less those in flight), and the rest wait (the keeper's step counts them each bar:
  steps.LiquidatorStep's `on_waiting`). A contract constant: --vaults does not raise it, and no
  population the lab builds reaches it.
- **The debt in auction.** The Liquidator's caps on the debt in auction, over all types and (in a
  run of one type) the type's own (scaled with the population, so they bind only where the
  scenario's own run comes near them too).
- **The market's depth.** Liquidation sales pushed the pool's price below the market's: takes
  stop paying and auctions wait. By default the depth does not follow --vaults
  (`market.depth_with_vaults`): a bigger protocol sells into the same market.
- **The day's block space.** With `market.block_gas_limit` set, a bar's blocks hold only so much
  of the keepers' gas (market/blockspace.py); what does not fit waits a bar. The day's blocks do
  not grow with --vaults: a bigger book waits longer for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from offchain.model.dutch_auction import MAX_ACTIVE

# a pool price below this share of the market price is named (takes that sell into the pool
# pay about this much less than the market: a keeper's margin is a few percent)
POOL_DISCOUNT_NAMED = 0.9
# the debt in auction within this share of its cap is named as reached
CAP_REACHED = 0.99


def binding_limits(
    slot_waits: Mapping[str, Sequence[int]],
    bars: pd.DataFrame,
    peak_debt_in_auction: float,
    max_debt_in_auction: float,
    depth_with_vaults: str,
    type_cap: tuple[str, float] | None = None,
    block_waits: int = 0,
    late_takes: int = 0,
    late_unplanned: int = 0,
) -> list[str]:
    """One line per limit that bound the run (module docstring): `slot_waits`, per type, the
    unsafe vaults left out for want of a slot in each bar the keeper planned; the per-bar table;
    the run's peak debt in auction against its caps [stablecoin]: over all types, and `type_cap`
    (a run of one type: its name and auction cap); `block_waits`, the bars keeper transactions
    waited for room in the day's blocks, and `late_takes`, the takes not sent because the room they
    found was past their auction's reset (sim/run/sending.py, `_late`), and `late_unplanned`,
    the takes a taker left out before valuing them for the same reason (`late_filter`)."""
    lines = []
    for name, waits in slot_waits.items():
        waited = [w for w in waits if w > 0]
        if waited:
            lines.append(
                f"{name}: unsafe vaults waited for one of the auction's {MAX_ACTIVE:,} running "
                f"slots in {len(waited):,} bars (up to {max(waited):,} at once); a contract "
                "constant (auction_slots.MAX_ACTIVE) that --vaults does not raise"
            )
    if max_debt_in_auction > 0 and peak_debt_in_auction >= CAP_REACHED * max_debt_in_auction:
        lines.append(
            f"the debt in auction reached {peak_debt_in_auction:,.0f} of its cap "
            f"{max_debt_in_auction:,.0f} (max_debt_in_auction)"
        )
    if type_cap is not None and peak_debt_in_auction >= CAP_REACHED * type_cap[1] > 0:
        lines.append(
            f"{type_cap[0]}: the debt in auction reached {peak_debt_in_auction:,.0f} of the "
            f"type's auction cap {type_cap[1]:,.0f} (auction_cap)"
        )
    if len(bars):
        share = bars["pool_price"] / bars["market_price"]
        low = int(share.idxmin())
        if share[low] < POOL_DISCOUNT_NAMED:
            depth = (
                'its depth follows --vaults (market.depth_with_vaults = "scaled")'
                if depth_with_vaults == "scaled"
                else 'its depth does not follow --vaults (market.depth_with_vaults = "fixed")'
            )
            lines.append(
                f"the pool's price fell to {share[low]:.0%} of the market's (bar "
                f"{int(bars['bar'][low])}): liquidation sales outran the pool's depth; {depth}"
            )
    if block_waits > 0:
        lines.append(
            f"keeper transactions waited a bar for room in the day's blocks {block_waits:,} times "
            "(market.block_gas_limit, competing_gas_share): the blocks do not grow with --vaults"
        )
    if late_takes > 0 or late_unplanned > 0:
        lines.append(
            f"{late_takes:,} takes were not sent and {late_unplanned:,} not planned (an "
            "auction, a taker and a round each): the first room in the day's blocks was after "
            "their auction would need a reset (each waited for its reset and was planned again)"
        )
    return lines
