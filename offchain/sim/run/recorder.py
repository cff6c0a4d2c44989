"""Every transaction of a run, mined in blocks and recorded with its events.

Transactions are queued and mined in blocks: everything queued between two reads of the state
(one actor's decisions, made from one read) is one block, in the order queued, at most
`MAX_BLOCK_TXS` to a block. Each mined transaction becomes a row of the `txs` table, each event
a row of `events`, and the ledger (results/ledger.py) hears the events. A `BlockHook` (an open
market's venues on chain, market/flash_venue.py) may put transactions first in a block, given
what it holds, and hears each block once mined."""

from __future__ import annotations

from typing import Any, Protocol

from offchain.backends import Backend, TxOutcome
from offchain.model.errors import Revert
from offchain.sim.results.ledger import Ledgers

# Transactions per block at most. Anvil's cost per block grows with the state (~20 ms at 1,000
# vaults) and its receipts' cost with the square of the block's size (13 s for one block of
# 2,000): blocks of 100 balance the two.
MAX_BLOCK_TXS = 100


class BlockHook(Protocol):
    """What opens a block and hears it mined: `open(block, time)` the entries to mine first in
    `block` (queued entries, as `Recorder.queue` keeps them) at block time `time`; `close(block,
    outcomes, time)` the block as mined, those first included."""

    def open(self, block: list[tuple], time: int) -> list[tuple]: ...

    def close(self, block: list[tuple], outcomes: list[TxOutcome], time: int) -> None: ...


class Recorder:
    """Sends, mines and records a run's transactions on `backend` (see the module docstring);
    `bar` is the bar the rows are recorded in (-1: the setup), `labels` names addresses in the
    tables."""

    def __init__(self, backend: Backend, rows: dict[str, list[tuple]], ledger: Ledgers):
        self.backend = backend
        self.rows = rows
        self.ledger = ledger
        self.bar = -1
        self.tx_count = 0
        self.labels: dict[str, str] = {}
        self.pending: list[tuple] = []  # queued for the next block (see queue)
        self.hook: BlockHook | None = None  # opens each block, hears it mined (module docstring)

    def read(self, calls: list[tuple[str, str, tuple]]) -> list[Any]:
        """State as of the last block: queued transactions are mined first."""
        self.flush()
        return self.backend.views(calls)

    def queue(
        self,
        actor: str,
        sender: str,
        contract: str,
        function: str,
        *args: Any,
        submitted_bar: int | None = None,
        gas_limit: int = 0,
    ) -> None:
        """A transaction for the next block, sent with `gas_limit` (0: backends.TX_GAS; the
        model has no gas). Everything queued between two reads is mined as one block, in the
        order queued: an actor's decisions rest on the state it read, never on each other's
        results, so they can share a block."""
        self.pending.append((actor, sender, contract, function, args, submitted_bar, gas_limit))

    def block_position(self) -> int:
        """How many transactions the block being queued holds so far (blocks of at most
        MAX_BLOCK_TXS: 0 when the next one queued opens a block)."""
        return len(self.pending) % MAX_BLOCK_TXS

    def flush(self) -> list[TxOutcome]:
        """Mine the queued transactions, in blocks of at most MAX_BLOCK_TXS (after what the
        hook puts first in each), and record them with their events; the queued ones' outcomes,
        in order."""
        pending, self.pending = self.pending, []
        mined: list[TxOutcome] = []
        hook = self.hook
        for start in range(0, len(pending), MAX_BLOCK_TXS):
            block = pending[start : start + MAX_BLOCK_TXS]
            first = hook.open(block, self.backend.next_block_time) if hook is not None else []
            if first:
                block = first + block
            outcomes = self.backend.transact_block(
                [
                    (contract, function, sender, args)
                    for _, sender, contract, function, args, _, _ in block
                ],
                [gas_limit for *_, gas_limit in block],
            )
            t = self.backend.last_block_time
            for (actor, _, contract, function, _, submitted_bar, _), outcome in zip(
                block, outcomes
            ):
                self._record(t, actor, contract, function, submitted_bar, outcome)
            if hook is not None:
                hook.close(block, outcomes, t)
            mined += outcomes[len(first) :]
        return mined

    def send(
        self,
        actor: str,
        sender: str,
        contract: str,
        function: str,
        *args: Any,
        submitted_bar: int | None = None,
    ) -> bool:
        """One transaction in a block of its own, recorded with its events; False if it reverted."""
        self.flush()
        try:
            self.backend.transact(contract, function, sender, *args)
            outcome = TxOutcome(True, None, self.backend.last_events)
        except Revert as exc:
            outcome = TxOutcome(False, exc.reason, [])
        self._record(
            self.backend.last_block_time, actor, contract, function, submitted_bar, outcome
        )
        return outcome.ok

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        """Deploy `name`, recorded as a setup transaction; its address."""
        tx = self.tx_count
        self.tx_count += 1
        address = self.backend.deploy(name, sender, *args)
        t = self.backend.last_block_time
        self.rows["txs"].append((self.bar, t, tx, "setup", name, "deploy", self.bar, "ok", ""))
        return address

    def dropped(
        self, t: int, actor: str, contract: str, function: str, why: str, status: str = "dropped"
    ) -> None:
        """A transaction never sent, as a row of its own: the latency model dropped it,
        (status "deferred") the keeper's gas budget held it back, or (status "refused") its gas
        is over its own limit or its block's (sending.py)."""
        self.rows["txs"].append(
            (
                self.bar,
                t,
                -1,
                actor,
                self.labels.get(contract, contract),
                function,
                self.bar,
                status,
                why,
            )
        )

    def _record(
        self,
        t: int,
        actor: str,
        contract: str,
        function: str,
        submitted_bar: int | None,
        outcome: TxOutcome,
    ) -> None:
        tx = self.tx_count
        self.tx_count += 1
        self.rows["txs"].append(
            (
                self.bar,
                t,
                tx,
                actor,
                self.labels.get(contract, contract),
                function,
                self.bar if submitted_bar is None else submitted_bar,
                "ok" if outcome.ok else "reverted",
                "" if outcome.ok else outcome.reason or "(no reason)",
            )
        )
        events = outcome.events
        for i, e in enumerate(events):  # args as JSON when the table is built (_events_table)
            self.rows["events"].append(
                (
                    self.bar,
                    t,
                    tx,
                    i,
                    self.labels.get(e.address, e.address),
                    e.address,
                    e.name,
                    e.args,
                )
            )
        self.ledger.on_events(events, t, actor)
