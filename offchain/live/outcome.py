"""What a live session came to, from the chain's events: the outcome table `ape run market` prints
at its end and `ape run reconcile` prints next to its differences.

The events from the deployment's first block on go through the simulator's own bookkeeping (one
`Ledger` per collateral type, sim/results/ledger.py), so a live session and a simulated one count
the same things the same way. The table covers a window (the market run's blocks; reconcile's
`--from-block` on): liquidations, takes, auction resets, auctions finished and still running,
realized bad debt, who paid it (the waterfall's allocations, by layer), and the end-of-run
accounting of sim/results/insolvency.py at the head (open-auction shortfall and unsafe vaults,
marked at a price the caller names: the market's last bar, or the oracle's current price).

Resets next to takes: an auction is reset (its price restarts from the oracle's) when it has run
its maximum duration or dropped its maximum fraction without a buyer. The flash taker buys only
when the auction's price is below what the collateral pool pays, so a pool far below the market
(an arbitrageur out of stablecoin, say) means few takes and many resets; the table shows the pool's
price next to the mark so that reading is possible.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from offchain.backends import ChainBackend
from offchain.model.fixed_point import RAD, WAD
from offchain.model.state import Event
from offchain.sim.results.insolvency import EndOfRun, end_of_run
from offchain.sim.results.ledger import Ledger
from offchain.sim.results.tables import LAYER_NAMES
from offchain.sim.strategies.keepers import VaultIndex
from offchain.system.deployment import Deployment

LOG_BLOCKS = 2_000  # blocks per eth_getLogs request


class OutcomeBook:
    """The events of a deployment, fed in order (`on_events`), kept per collateral type; the
    window starts at the timestamp `since` (events before it build the state only)."""

    def __init__(self, d: Deployment, since: int = 0):
        self.d = d
        self.since = since
        self.ledgers: dict[str, Ledger] = {}
        for name, t in d.types.items():
            ledger = Ledger(
                {"liquidations": [], "takes": [], "allocations": []}, VaultIndex(t.type_id)
            )
            ledger.follow(d, t.auction)
            self.ledgers[name] = ledger
        self._type_of_auction = {t.auction: name for name, t in d.types.items()}
        # type -> what its events in the window add up to (exact: wad, rad, counts)
        self.window: dict[str, Counter] = {name: Counter() for name in d.types}
        self.paid: dict[str, Counter] = {name: Counter() for name in d.types}  # layer -> rad

    def on_events(self, events: Iterable[Event], t: int, actor: str = "") -> None:
        events = list(events)
        for ledger in self.ledgers.values():
            ledger.on_events(events, t, actor)
        if t < self.since:
            return
        d = self.d
        for e in events:
            a = e.args
            if e.address in self._type_of_auction:
                w = self.window[self._type_of_auction[e.address]]
                if e.name == "Reset":
                    w["resets"] += 1
                elif e.name == "Taken":
                    w["takes"] += 1
                    w["taken_collateral"] += a["collateral"]
                    w["taken_stable"] += a["owe"]
                continue
            name = self._type_of_auction.get(a.get("auction", ""))
            if name is None:
                continue
            w = self.window[name]
            if e.address == d.liquidator and e.name == "Liquidated":
                w["liquidations"] += 1
                w["liquidated_collateral"] += a["collateral"]
                w["liquidated_debt"] += a["debt"]
            elif e.address == d.backstop and e.name == "LossClosed":
                w["finished"] += 1
                w["realized"] += a["loss"]
            elif e.address == d.backstop and e.name == "LossAllocated":
                self.paid[name][LAYER_NAMES[a["layer"]]] += a["amount"]

    def read_logs(self, chain: ChainBackend, first: int, last: int) -> None:
        """Feed the deployment's logs of blocks `first`..`last`, read from the chain."""
        addresses = [a for _, a in self.d.contracts()]
        for start in range(first, last + 1, LOG_BLOCKS):
            end = min(last, start + LOG_BLOCKS - 1)
            logs = chain.rpc(
                "eth_getLogs",
                [{"fromBlock": hex(start), "toBlock": hex(end), "address": addresses}],
            )
            # a block's time: in the log (Anvil), else from the block (Hardhat)
            times = {
                x["blockNumber"]: int(x["blockTimestamp"], 16)
                for x in logs
                if x.get("blockTimestamp")
            }
            missing = sorted({x["blockNumber"] for x in logs} - times.keys())
            blocks = chain.rpc_batch([("eth_getBlockByNumber", [b, False]) for b in missing])
            times.update({b: int(block["timestamp"], 16) for b, block in zip(missing, blocks)})
            by_tx = groupby(logs, key=lambda x: (x["blockNumber"], x["transactionHash"]))
            for (block, _), tx_logs in by_tx:
                self.on_events([chain._decode_log(x) for x in tx_logs], times[block])

    def outcome(self, chain: ChainBackend, marks: dict[str, tuple[int, str]]) -> Outcome:
        """The table at the chain's head, each type's open auctions and vaults marked at
        `marks[type]`: (price [wad], what that price is)."""
        d = self.d
        types = []
        for name, ledger in self.ledgers.items():
            t = d.types[name]
            rate, ratio, pool_price = _read_type(chain, d, t)
            scale = 10 ** (18 - t.config.token_decimals)
            lots = sum(lot for lot, _ in ledger.running.values()) // scale  # token units
            sale = chain.view(t.pool, "quote", True, lots) * 10**27 if lots else 0
            owners = {row[3]: row[2] for row in ledger.rows["liquidations"]}
            end = end_of_run(
                ledger.losses,
                ledger.running,
                owners,
                ledger.index.vaults,
                rate,
                ratio,
                marks[name][0],
                sale,
            )
            types.append(
                TypeOutcome(
                    name=name,
                    symbol=t.config.token_symbol,
                    window=dict(self.window[name]),
                    paid=dict(self.paid[name]),
                    pool_price=pool_price,
                    mark_name=marks[name][1],
                    end=end,
                )
            )
        return Outcome(tuple(types))


def _read_type(chain: ChainBackend, d: Deployment, t: Any) -> tuple[int, int, int]:
    """(rate [ray], liquidation ratio [ray], the collateral pool's price [wad]) at the head."""
    kind, ratio, rc, rs = chain.views(
        [
            (d.engine, "collateral_types", (t.type_id,)),
            (d.spotter, "liquidation_ratios", (t.type_id,)),
            (t.pool, "reserve_collateral", ()),
            (t.pool, "reserve_stable", ()),
        ]
    )
    scale = 10 ** (18 - t.config.token_decimals)
    return kind[1], ratio, rs * WAD // (rc * scale) if rc else 0


@dataclass(frozen=True)
class TypeOutcome:
    """One collateral type's outcome: `window` holds the window's counts (liquidations, takes,
    resets, finished) and amounts (liquidated_collateral and taken_collateral in wad;
    liquidated_debt, taken_stable and realized in rad); `paid` what each waterfall layer was
    allocated in the window [rad]; `end` the accounting at the head."""

    name: str
    symbol: str
    window: dict[str, int]
    paid: dict[str, int]
    pool_price: int  # wad: the collateral pool's reserves' ratio at the head
    mark_name: str  # what the mark price is
    end: EndOfRun

    def lines(self) -> list[str]:
        w = Counter(self.window)
        e = self.end.facts()
        paid = ", ".join(f"{layer} {amount / RAD:,.2f}" for layer, amount in self.paid.items())
        return [
            f"  {self.name}: {w['liquidations']:,} liquidations "
            f"({w['liquidated_collateral'] / WAD:,.2f} {self.symbol}, debt "
            f"{w['liquidated_debt'] / RAD:,.2f}); {w['takes']:,} takes "
            f"({w['taken_collateral'] / WAD:,.2f} {self.symbol} for "
            f"{w['taken_stable'] / RAD:,.2f}); {w['resets']:,} auction resets",
            f"    auctions finished {w['finished']:,}, realized bad debt "
            f"{w['realized'] / RAD:,.2f}; paid by: {paid or 'nobody yet'}",
            f"    at the head, marked at {self.mark_name} {e['mark_price']:,.2f} (collateral pool "
            f"{self.pool_price / WAD:,.2f}): {e['open_auctions']:,} auctions still running "
            f"(debt not yet raised {e['open_auction_debt']:,.2f}, "
            f"{e['open_auction_collateral']:,.2f} {self.symbol}, shortfall "
            f"{e['open_auction_shortfall']:,.2f}); {e['unsafe_vaults_left']:,} unsafe vaults "
            f"not liquidated (shortfall {e['unsafe_vault_shortfall']:,.2f})",
            f"    insolvency {e['insolvency']:,.2f} = realized bad debt since the deployment "
            f"{e['realized_bad_debt']:,.2f} + open-auction shortfall + unsafe-vault shortfall",
        ]


@dataclass(frozen=True)
class Outcome:
    types: tuple[TypeOutcome, ...]

    def lines(self, what: str) -> list[str]:
        out = [f"outcome {what}, from the chain's events:"]
        for t in self.types:
            out += t.lines()
        return out


def oracle_marks(chain: ChainBackend, d: Deployment) -> dict[str, tuple[int, str]]:
    """Each type's oracle's current price [wad], as `OutcomeBook.outcome` takes marks."""
    names = list(d.types)
    prices = chain.views([(d.types[n].oracle, "current_price", ()) for n in names])
    return {n: (p, "the oracle's current price") for n, p in zip(names, prices)}
