"""What a live session came to, from the chain's events: the outcome table `ape run market` prints
at its end and `ape run reconcile` prints next to its differences.

The events from the deployment's first block on go through the simulator's own bookkeeping (one
`Ledger` per collateral type, sim/results/ledger.py), and the end-of-run accounting is the lab's
own function, `end_of_run` (sim/results/insolvency.py), fed what the lab feeds it at the end of a
run with a closed market (market/type_market.py's `end_of_type`): the ledger's losses, running
auctions and vaults, the type's rate and liquidation ratio, the mark price, the keepers' pool's
quote for every unsold lot at once, and the depth the conservative mark sells into. So a live
session and a simulated one count the same things the same way, and mean the same by
insolvency (tests/live/test_outcome_same_as_lab.py feeds both the same events and compares to
the wei).

The marks a devnet session has:

- the mark price: the market's last price as the chain knows it, the oracle's `source_price`
  (the feeder's last post: the market driver posts every bar's price, as the lab's feeder does;
  the lab marks at its last bar's market price, which is what its feeder posted);
- the headline, **insolvency**: realized bad debt + everything still open (running auctions'
  unsold lots, then unsafe vaults' collateral) sold in the keepers' order into a constant-product
  market of the keepers' collateral pool's stablecoin reserve at the head, from the mark price:
  the lab's mark where a run has no external market (its `impact_depth` 0), which is all a
  devnet has;
- beside it, the two bounds: **insolvency at the last price** (everything open at the mark
  price, no sale: the optimistic bound) and the **instant sale into the keepers' pool** (the
  running auctions' lots sold at once at the pool's own quote);
- with an outside venue (an open market's session: offchain/live/venue.py), the lab's open
  market mark instead of the pool's: everything open sold on a copy of the lab's venue, with
  the session's sales in its memory, in equal parts over the scenario's `mark_bars` bars after
  the last (`VenueMark`, as the lab's `end_of_type`, paid only from the outside's stablecoin
  and the venue's till at the head: `DevnetVenue.mark_cash`; `ape run reconcile` rebuilds the last
  session's venue from the chain's events: live/venue.py); without one (a closed market,
  `--outside none`) the pool's mark above.

Every type's lines lead with its insolvency and its share of **the debt before the first
liquidation**: the borrowers' debt the crash met, from the same events, just before the window's
first liquidation (at the head when the window has none): every vault's normalized debt x rate
but the deployment's own accounts' (governance's: on a devnet the collateral pool's seed vault and
the market driver's arbitrage inventory; the feeder's).

The table covers a window (the market run's blocks; reconcile's `--from-block` on):
liquidations, takes, auction resets, auctions finished and still running, realized bad debt,
who paid it (the waterfall's allocations, by layer).

Resets next to takes: an auction is reset (its price restarts from the oracle's) when it has run
its maximum duration or dropped its maximum fraction without a buyer. The flash taker buys only
when the auction's price is below what the collateral pool pays, so a pool far below the market
(an arbitrageur out of stablecoin, say) means few takes and many resets; the table shows the pool's
price next to the mark so that reading is possible.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import groupby

from offchain.backends import Backend, ChainBackend
from offchain.model.fixed_point import RAD, WAD
from offchain.model.state import Event
from offchain.sim.results.insolvency import EndOfRun, MarkVenue, end_of_run
from offchain.sim.results.ledger import Ledger
from offchain.sim.results.tables import LAYER_NAMES
from offchain.sim.strategies.keepers import VaultIndex
from offchain.system.deployment import Deployment, TypeDeployment

LOG_BLOCKS = 2_000  # blocks per eth_getLogs request
# what a devnet session's mark price is, as the lines name it
MARK_NAME = "the market's last price (the feeder's last post)"


class OutcomeBook:
    """The events of a deployment, fed in order (`on_events`), kept per collateral type; the
    window starts at the timestamp `since` (events before it build the state only)."""

    def __init__(self, d: Deployment, since: int = 0, own: Iterable[str] = ()):
        self.d = d
        self.since = since
        # vaults not counted in the debt the crash met: the deployment's own accounts' (on a
        # devnet governance holds the pool's seed vault and the market driver's arbitrage
        # inventory), and `own`
        self.own = {d.governance, d.feeder, *own}
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
        # type -> its debt just before the window's first liquidation [rad] (None: none yet)
        self.debt_before: dict[str, int | None] = {name: None for name in d.types}

    def on_events(self, events: Iterable[Event], t: int, actor: str = "") -> None:
        """One transaction's events, mined at time `t`."""
        events = list(events)
        if t >= self.since:
            self._debt_before_liquidation(events)
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

    def _debt_before_liquidation(self, events: list[Event]) -> None:
        """Each type's debt before the transaction of its first liquidation in the window."""
        for e in events:
            if e.address != self.d.liquidator or e.name != "Liquidated":
                continue
            name = self._type_of_auction.get(e.args.get("auction", ""))
            if name is not None and self.debt_before[name] is None:
                self.debt_before[name] = self._debt(name)

    def _debt(self, name: str) -> int:
        """Type `name`'s borrowers' debt now, by its events [rad]: the normalized debt x rate of
        every vault but the deployment's own accounts' (`own`)."""
        ledger = self.ledgers[name]
        vaults = ledger.index.vaults
        return sum(art for owner, (_, art) in vaults.items() if owner not in self.own) * ledger.rate

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

    def outcome(
        self, chain: Backend, venue_marks: Mapping[str, MarkVenue] | None = None
    ) -> Outcome:
        """The table at the chain's head (`chain` reads it: a node, or the model): each type's
        end marked as the module docstring says; `venue_marks` the types' outside venues' marks
        (type -> the lab's `VenueMark` for a total, offchain/live/venue.py), where a session had
        them."""
        types = []
        marks = venue_marks or {}
        for name, ledger in self.ledgers.items():
            t = self.d.types[name]
            price, pool_price = _read_prices(chain, t)
            end = type_end(chain, self.d, t, ledger, price, marks.get(name))
            debt = self.debt_before[name]
            types.append(
                TypeOutcome(
                    name=name,
                    symbol=t.config.token_symbol,
                    window=dict(self.window[name]),
                    paid=dict(self.paid[name]),
                    pool_price=pool_price,
                    debt_before=self._debt(name) if debt is None else debt,
                    liquidated=debt is not None,
                    end=end,
                    venue=name in marks,
                )
            )
        return Outcome(tuple(types))


def type_end(
    chain: Backend,
    d: Deployment,
    t: TypeDeployment,
    ledger: Ledger,
    price: int,
    venue_mark: MarkVenue | None = None,
) -> EndOfRun:
    """Type `t`'s end-of-run accounting at the head (sim/results/insolvency.py's `end_of_run`), from
    its `ledger` and the head's state, marked at `price` [wad]: the inputs the lab's
    `end_of_type` gives it for a closed market without an external market's depth (the pool's
    stablecoin reserve is the depth the mark sells into), or with `venue_mark` an open
    market's (the open book sold on the outside venue)."""
    (_, rate, *_), ratio, reserve_stable = chain.views(
        [
            (d.engine, "collateral_types", (t.type_id,)),
            (d.spotter, "liquidation_ratios", (t.type_id,)),
            (t.pool, "reserve_stable", ()),
        ]
    )
    scale = 10 ** (18 - t.config.token_decimals)
    lots = sum(lot for lot, _ in ledger.running.values()) // scale  # token units
    sale = chain.views([(t.pool, "quote", (True, lots))])[0] * 10**27 if lots else 0
    owners = {row[3]: row[2] for row in ledger.rows["liquidations"]}
    return end_of_run(
        ledger.losses,
        ledger.running,
        owners,
        ledger.index.vaults,
        rate,
        ratio,
        price,
        sale,
        reserve_stable,
        venue_mark,
    )


def _read_prices(chain: Backend, t: TypeDeployment) -> tuple[int, int]:
    """(the mark price: the oracle's last posted price [wad], the collateral pool's price [wad])
    at the head."""
    source, rc, rs = chain.views(
        [
            (t.oracle, "source_price", ()),
            (t.pool, "reserve_collateral", ()),
            (t.pool, "reserve_stable", ()),
        ]
    )
    scale = 10 ** (18 - t.config.token_decimals)
    return source, rs * WAD // (rc * scale) if rc else 0


def _amount(value: int, unit: int = RAD) -> str:
    return f"{value / unit:,.2f}"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "-"


@dataclass(frozen=True)
class TypeOutcome:
    """One collateral type's outcome: `window` holds the window's counts (liquidations, takes,
    resets, finished) and amounts (liquidated_collateral and taken_collateral in wad;
    liquidated_debt, taken_stable and realized in rad); `paid` what each waterfall layer was
    allocated in the window [rad]; `debt_before` the type's borrowers' debt before the window's
    first liquidation (at the head when `liquidated` is False: there was none) [rad]; `end` the
    accounting at the head."""

    name: str
    symbol: str
    window: dict[str, int]
    paid: dict[str, int]
    pool_price: int  # wad: the collateral pool's reserves' ratio at the head
    debt_before: int
    liquidated: bool
    end: EndOfRun
    venue: bool = False  # marked on the outside venue (an open market's session)

    def headline(self) -> str:
        """The first line: insolvency and its share of the debt the crash met."""
        e = self.end
        when = (
            "before the first liquidation" if self.liquidated else "at the head (none liquidated)"
        )
        return (
            f"{self.name}: INSOLVENCY {_amount(e.insolvency)} = "
            f"{_share(e.insolvency, self.debt_before)} of the borrowers' debt {when}, "
            f"{_amount(self.debt_before)}"
        )

    def lines(self) -> list[str]:
        w = Counter(self.window)
        e = self.end
        paid = ", ".join(f"{layer} {_amount(amount)}" for layer, amount in self.paid.items())
        sold = (
            f"on a copy of the outside venue (the lab's, with the session's sales in its memory) "
            f"in equal parts over the scenario's mark bars from {MARK_NAME} "
            f"{_amount(e.mark_price, WAD)}"
            if self.venue
            else f"into the keepers' pool's depth ({_amount(e.market_depth, WAD)} per side) from "
            f"{MARK_NAME} {_amount(e.mark_price, WAD)}, the price falling to "
            f"{_amount(e.marked_price, WAD)}"
            if e.market_depth
            else f"at {MARK_NAME} {_amount(e.mark_price, WAD)} (the pool holds no stablecoin)"
        )
        return [
            f"  {self.headline()}",
            f"    insolvency (everything open sold into the market) = realized bad debt since the "
            f"deployment "
            f"{_amount(e.realized)} + running auctions' marked shortfall "
            f"{_amount(e.marked_open_shortfall)} + unsafe vaults' marked shortfall "
            f"{_amount(e.marked_unsafe_shortfall)}: everything still open sold in the keepers' "
            f"order {sold}",
            f"    bounds: insolvency at the last price (the optimistic bound) "
            f"{_amount(e.insolvency_last_price)} "
            f"({_share(e.insolvency_last_price, self.debt_before)}); stress: the running "
            f"auctions' shortfall if every lot were sold at once into the keepers' pool "
            f"{_amount(e.fire_sale_shortfall)} (the pool would pay "
            f"{_amount(e.open_sale)})"
            + (
                "; the mark above is the lab's open market mark (its end-of-run mark)"
                if self.venue
                else "; outside venue: none (the keepers' pool's mark)"
            ),
            f"    at the head: {e.open_auctions:,} auctions still running (debt not yet raised "
            f"{_amount(e.open_debt)}, {_amount(e.open_collateral, WAD)} {self.symbol}); "
            f"{e.unsafe_vaults:,} unsafe vaults not liquidated ({_amount(e.unsafe_debt)} of "
            f"debt); collateral pool {_amount(self.pool_price, WAD)} against the market's "
            f"{_amount(e.mark_price, WAD)}",
            f"    in the window: {w['liquidations']:,} liquidations "
            f"({_amount(w['liquidated_collateral'], WAD)} {self.symbol}, debt "
            f"{_amount(w['liquidated_debt'])}); {w['takes']:,} takes "
            f"({_amount(w['taken_collateral'], WAD)} {self.symbol} for "
            f"{_amount(w['taken_stable'])}); {w['resets']:,} auction resets; auctions finished "
            f"{w['finished']:,}, their realized bad debt {_amount(w['realized'])}; paid by: "
            f"{paid or 'nobody yet'}",
        ]

    def session_cells(self) -> tuple[str, ...]:
        """The row of docs/keepers.md's session table: liquidations, takes, resets, auctions
        finished / running at the end, the pool against the market at the end, insolvency."""
        w = Counter(self.window)
        return (
            f"{w['liquidations']:,}",
            f"{w['takes']:,}",
            f"{w['resets']:,}",
            f"{w['finished']:,} / {self.end.open_auctions:,}",
            f"{self.pool_price / WAD:,.0f} vs {self.end.mark_price / WAD:,.0f}",
            f"{self.end.insolvency / RAD:,.0f}",
        )


# docs/keepers.md's session table (TypeOutcome.session_cells)
SESSION_COLUMNS = (
    "liquidations",
    "takes",
    "resets",
    "auctions finished / running at the end",
    "pool vs market at the end",
    "insolvency",
)


@dataclass(frozen=True)
class Outcome:
    types: tuple[TypeOutcome, ...]

    def session_table(self) -> list[str]:
        """The session's row of docs/keepers.md's table, per type that liquidated anything (a
        markdown table: its header, then `| TYPE | cells |`)."""
        rows = [t for t in self.types if t.window.get("liquidations")]
        if not rows:
            return []
        return [
            "| type | " + " | ".join(SESSION_COLUMNS) + " |",
            "|---|" + "---:|" * len(SESSION_COLUMNS),
            *(f"| {t.name} | " + " | ".join(t.session_cells()) + " |" for t in rows),
        ]

    def headlines(self) -> list[str]:
        """Each type's headline line (a first screen leads with them)."""
        return [t.headline() for t in self.types]

    def lines(self, what: str) -> list[str]:
        out = [f"outcome {what}, from the chain's events:"]
        for t in self.types:
            out += t.lines()
        return out
