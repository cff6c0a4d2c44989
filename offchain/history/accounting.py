"""The end of a modelled MakerDAO day (the 2020 Cat and Flipper, the 2021 Dog and Clipper; not
Backstop's mechanism), counted as Backstop's side counts its own (issue 73): what the day leaves
owed, not only what its finished auctions lost. The lab's one home of that accounting is
`offchain.sim.results.insolvency.end_of_run`; this module only feeds it a model's state:

- **realized**: per finished auction, the debt it took less the DAI it raised, where positive
  (no penalty netted against another auction's loss: Backstop's realized bad debt);
- **the open auctions**: per auction still running when the data ends, the debt not yet raised
  less its lot, marked;
- **the unsafe vaults never liquidated**: per vault unsafe at the last price (collateral x price
  under debt x `mat`) with debt, its debt less its collateral, marked: the vaults a 0.1% chip
  left unkicked on 2021-05-19 (O4), or the 2020 biter had not reached.

The marks are Backstop's: the last market price (the optimistic bound), and the headline, the
open book sold on the day's outside venue in equal parts over `MARK_BARS` bars after the data
(`DayMarket.mark`: a copy of the venue with the day's memory; a closed market sells at the last
price). The DAI its dollars buy is counted at par, as Backstop's mark counts its stablecoin.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from offchain.history.mechanisms.vat import Urn
from offchain.history.outside import DayMarket
from offchain.sim.results.insolvency import EndOfRun, end_of_run

__all__ = ["MARK_BARS", "OpenAuction", "end_of_day"]

# bars the open book is sold over after the data: the lab's default (MarketSpec.mark_bars),
# which both days' scenarios under Backstop keep (a test holds them equal)
MARK_BARS = 36

# one auction at the end of the day: (id, owner, debt it took [rad], tab at kick [rad], DAI
# raised [rad], lot left [wad], finished)
OpenAuction = tuple[int, str, int, int, int, int, bool]


def end_of_day(
    auctions: Iterable[OpenAuction],
    urns: dict[str, Urn],
    rate: int,
    mat: int,
    market: DayMarket,
    now: int,
) -> EndOfRun:
    """The day's end-of-run accounting (module docstring) at `now`, the last step: `auctions`
    every auction kicked, `urns` the vaults as the day left them, `rate` [ray], `mat` the
    liquidation ratio [ray]."""
    losses: dict[int, dict[str, Any]] = {}
    running: dict[int, list[int]] = {}
    owners: dict[int, str] = {}
    for id, usr, debt, tab, raised, lot, finished in auctions:
        owners[id] = usr
        loss = max(0, debt - raised) if finished else None
        losses[id] = {"debt": debt, "to_raise": tab, "loss": loss}
        if not finished:
            running[id] = [lot, max(tab - raised, 0)]
    price = market.price(now)
    lots = sum(lot for lot, _ in running.values())
    return end_of_run(
        losses,
        running,
        owners,
        {u: (x.ink, x.art) for u, x in urns.items()},
        rate,
        mat,
        price,
        lots * price * 10**9,  # no keepers' pool to fire-sell into: the last price
        0,
        market.mark(MARK_BARS) if not market.closed else None,
    )
