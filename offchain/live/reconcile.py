"""`ape run reconcile`: a live devnet's transactions replayed in the exact model, compared to the
wei.

The model starts empty at the deployment's first block (nothing of Backstop exists before it) and
every mined transaction from there on is applied to it, block by block, at the block's time:

- a contract creation whose code is one of the artifacts' (the deployment's contracts, a taker's
  FlashTaker) deploys its twin at the address the node gave it, with the constructor arguments
  decoded from the creation data;
- a call to a modelled contract is decoded with that contract's ABI (selector, arguments; the
  sender as msg.sender) and run on its twin. It must end as it ended on the chain: both succeed
  with the same events, or both revert with the same reason. A transaction the chain ran out of
  gas on changed nothing there and is not applied (the model has no gas), and is listed;
- anything else (ether transfers, calls to addresses without a modelled contract, creations of
  other code) is counted as ignored and listed; if such a transaction emitted events from a
  modelled contract it did touch modelled state, which is a difference.

Before `--from-block N` the transactions are replayed to bring the model to the chain's state at
N-1 (compared there when the node still holds that block's state); from N on each is counted by
kind. At the end (and every `--every K` blocks) every variable of the full-state read
(offchain/system/reads.py) is compared, field by field for structs. A difference is a bug in the
contracts or in their twin, or state changed outside transactions (`anvil_setStorageAt`).

The outcome at the head (offchain/live/outcome.py) marks the open book as the last market
session did (`ape run market`): where it played the lab's outside venue, on that venue rebuilt
from the session kept beside the record and the chain's `Synced` and `Sold` events
(offchain/live/venue.py, `DevnetVenue.rebuild`; a sync that is not the lab venue's quote is a
difference), so the reconciled headline is the session's; else in the keepers' pool. A line
says which, and why. A session file that does not read or is not a market session is refused
(exit 2) before the replay: a headline is never marked in the pool because a file is damaged.
"""

from __future__ import annotations

import dataclasses
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

from offchain.backends import ChainBackend, ModelBackend, RpcError, project_code
from offchain.backends.abi import abi_type_of, python_value
from offchain.live.node import Node, NodeUnavailable, unanswered
from offchain.live.outcome import Outcome, OutcomeBook
from offchain.live.record import (
    CONTRACT_NAMES,
    DeploymentRecord,
    RecordError,
    load_record,
    node_record_path,
    record_option_problem,
    verify,
)
from offchain.live.txs import starved, used_up
from offchain.live.venue import DevnetVenue, MarketSession, SessionError, read_session
from offchain.model.errors import Revert
from offchain.model.state import Event
from offchain.sim.results.insolvency import MarkVenue
from offchain.system.cli import failing, one_line_usage
from offchain.system.deployment import Deployment
from offchain.system.reads import StateKeys, read_state, state_keys

BLOCKS_PER_REQUEST = 50  # blocks (with their transactions) and receipts fetched per batch


class ReconcileError(ValueError):
    """Input that cannot be reconciled (one line): a block out of range, a node without the
    blocks' history."""


@dataclass(frozen=True)
class Difference:
    """One disagreement: where (a transaction, or the full state at a block), what, both sides."""

    where: str
    what: str
    chain: Any
    model: Any

    def line(self) -> str:
        delta = ""
        if isinstance(self.chain, int) and isinstance(self.model, int):
            if not isinstance(self.chain, bool) and not isinstance(self.model, bool):
                delta = f" (chain - model = {self.chain - self.model} wei)"
        return f"{self.where}: {self.what}: chain {self.chain!r}, model {self.model!r}{delta}"

    @property
    def contract(self) -> str:
        """The contract a state difference is in (`engine`, `auction[ETH-A]`, ...)."""
        return self.what.split(".")[0] if "." in self.what else self.what


@dataclass
class Reconciliation:
    first_block: int  # the deployment's
    from_block: int
    to_block: int
    prefix_transactions: int = 0  # replayed before from_block to reach its state
    kinds: Counter = field(default_factory=Counter)  # from from_block on: kind -> transactions
    reverted: int = 0  # reverted on the chain and in the model alike (from from_block on)
    ignored: list[str] = field(default_factory=list)  # one line per ignored transaction
    differences: list[Difference] = field(default_factory=list)
    state_checks: list[int] = field(default_factory=list)  # blocks whose full state was compared
    variables_compared: int = 0
    unchecked_blocks: list[int] = field(default_factory=list)  # states the node no longer holds
    outcome: Outcome | None = None  # at the head (live/outcome.py)
    untraced_reverts: int = 0  # of `reverted`: the node no longer traces them (reasons unknown)
    out_of_gas: int = 0  # failed on the chain for want of gas (listed among `ignored`)
    mark_note: str = ""  # what the outcome's open book is marked on (`_venue_marks`)

    @property
    def transactions(self) -> int:
        return sum(self.kinds.values())

    def by_contract(self) -> Counter:
        return Counter(d.contract for d in self.differences)

    def lines(self, max_lines: int = 30) -> list[str]:
        # the headline first (live/outcome.py), then what was replayed and compared
        headlines = self.outcome.headlines() if self.outcome is not None else []
        out = [f"outcome at the head: {line}" for line in headlines]
        out += [
            f"replayed blocks {self.from_block}-{self.to_block}: {self.transactions} transactions"
            + (
                f" (and {self.prefix_transactions} from the deployment's block "
                f"{self.first_block} to reach block {self.from_block - 1})"
                if self.from_block > self.first_block
                else ""
            ),
        ]
        for kind, n in sorted(self.kinds.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  {n:>7}  {kind}")
        out.append(f"  reverted on the chain and in the model alike: {self.reverted}")
        if self.untraced_reverts:
            out.append(
                f"  reverted in blocks the node no longer traces: {self.untraced_reverts} (that "
                "they reverted is compared, their reasons are not)"
            )
        if self.out_of_gas:
            out.append(
                f"  failed on the chain for want of gas: {self.out_of_gas} (the model has no gas:"
                " not applied; listed below)"
            )
        if self.ignored:
            out.append(f"ignored ({len(self.ignored)}):")
            out += [f"  {line}" for line in self.ignored[:max_lines]]
            if len(self.ignored) > max_lines:
                out.append(f"  ... and {len(self.ignored) - max_lines} more")
        out.append(
            f"full state compared at block{'s' if len(self.state_checks) != 1 else ''} "
            f"{', '.join(map(str, self.state_checks))}: {self.variables_compared} variables"
        )
        if self.unchecked_blocks:
            out.append(
                "not compared (the node no longer holds their state): blocks "
                + ", ".join(map(str, self.unchecked_blocks))
            )
        if self.outcome is not None:
            out += self.outcome.lines(f"of blocks {self.from_block}-{self.to_block}")
        if self.mark_note:
            out.append(self.mark_note)
        n = len(self.differences)
        if n:
            per = ", ".join(f"{c} {k}" for c, k in sorted(self.by_contract().items()))
            out.append(f"{n} difference{'s' if n != 1 else ''} ({per}):")
            out += [f"  {d.line()}" for d in self.differences[:max_lines]]
            if n > max_lines:
                out.append(f"  ... and {n - max_lines} more")
        else:
            out.append("0 differences")
        return out


class HistoricalChain(ChainBackend):
    """A ChainBackend whose reads (`views`, `call`) are at `block` instead of the head (the base
    class reads at its `block`); it only reads."""


@dataclass(frozen=True)
class _Entry:
    name: str
    inputs: list[str]
    payable: bool


class Replayer:
    """The model, fed the chain's mined transactions (see the module docstring)."""

    def __init__(
        self,
        node: Node,
        record: DeploymentRecord,
        artifacts: dict[str, tuple[list[dict], str]],
        reader: str,
    ):
        self.node = node
        self.record = record
        self.d: Deployment = record.deployment()
        self.chain = HistoricalChain(node.url, artifacts, reader, dev_node=False)
        start = node.block(record.first_block - 1)
        assert start is not None
        abis = {name: abi for name, (abi, _) in artifacts.items()}  # a Timelock's calls
        self.model = ModelBackend(int(start["timestamp"], 16), chain_id=record.chain_id, abis=abis)
        # contracts the record names (their artifact by address)
        self.recorded: dict[str, str] = {}
        for key, address in record.core.items():
            self.recorded[address] = CONTRACT_NAMES[key]
        for fields in record.types.values():
            self.recorded.update({a: CONTRACT_NAMES[k] for k, a in fields.items()})
        for label, address in record.extra.items():
            self.recorded[address] = label.split(" ")[0]
        # artifact name -> (creation code, constructor input types); selector tables by name
        self.creation: dict[str, tuple[bytes, list[str]]] = {}
        self.selectors: dict[str, dict[bytes, _Entry]] = {}
        for name, (abi, bytecode) in artifacts.items():
            ctor = next((i for i in abi if i["type"] == "constructor"), {"inputs": []})
            self.creation[name] = (
                bytes.fromhex(bytecode.removeprefix("0x")),
                [abi_type_of(i) for i in ctor["inputs"]],
            )
            table = {}
            for item in abi:
                if item["type"] == "function":
                    inputs = [abi_type_of(i) for i in item["inputs"]]
                    selector = keccak(text=f"{item['name']}({','.join(inputs)})")[:4]
                    table[selector] = _Entry(
                        item["name"], inputs, item.get("stateMutability") == "payable"
                    )
            self.selectors[name] = table
        self.senders: set[str] = set()
        self.actors: set[str] = set()  # senders that act beyond their own vaults
        self.holders: set[str] = set()  # other addresses met in calls (owners, recipients)
        self.created: list[str] = []  # modelled contracts created after the record's
        self.block = record.first_block - 1  # the last block applied
        self.book = OutcomeBook(self.d)  # the chain's events, for the outcome table
        self.untraced_reverts = 0  # reverted on both sides; the node could not say why
        self.out_of_gas = 0  # failed on the chain for want of gas; not applied to the model
        self.block_receipts = True  # the node answers eth_getBlockReceipts (_blocks)
        # called before each call the model applies, (sender, contract, function, args): what it
        # returns hears the call's events if the model's call succeeds (a rehearsal's
        # per-transaction specification: offchain/live/rehearsal.py); None: nothing
        self.around: Callable[[str, str, str, tuple], Callable[[list[Event]], None]] | None = None

    # ------------------------------------------------------------ replay

    def replay(
        self,
        to_block: int,
        report: Reconciliation,
        counting: bool,
        on_block: Callable[[int], None] | None = None,
    ) -> None:
        """Apply blocks `self.block + 1` .. `to_block`."""
        n = self.block + 1
        while n <= to_block:
            last = min(to_block, n + BLOCKS_PER_REQUEST - 1)
            numbers = range(n, last + 1)
            blocks, receipts = self._blocks(numbers)
            for b, block, block_receipts in zip(numbers, blocks, receipts):
                if block is None or block_receipts is None:
                    raise ReconcileError(
                        f"the node at {self.node.url} has no block {b} (or its receipts): it "
                        "keeps no history that far back"
                    )
                self._apply_block(block, block_receipts, report, counting)
                self.block = b
                if on_block is not None:
                    on_block(b)
            n = last + 1

    def _blocks(
        self, numbers: range
    ) -> tuple[list[dict[str, Any] | None], list[list[dict[str, Any]] | None]]:
        """The blocks `numbers` with their transactions, and each block's receipts: Anvil's
        `eth_getBlockReceipts` in the same batch; Hardhat Network has none (docs/nodes.md), so
        one `eth_getTransactionReceipt` per transaction, in a second batch. An Anvil fork of a
        Hardhat node passes the blocks before the fork on to it, which refuses the method: that
        is learnt once (`block_receipts`), and the second way taken from then on."""
        calls: list[tuple[str, list[Any]]] = [
            ("eth_getBlockByNumber", [hex(b), True]) for b in numbers
        ]
        if not self.chain.hardhat and self.block_receipts:
            try:
                replies = self.chain.rpc_batch(
                    calls + [("eth_getBlockReceipts", [hex(b)]) for b in numbers]
                )
                return replies[: len(numbers)], replies[len(numbers) :]
            except RpcError as exc:
                if exc.method != "eth_getBlockReceipts":
                    raise
                self.block_receipts = False
        blocks = self.chain.rpc_batch(calls)
        hashes = [tx["hash"] for block in blocks if block for tx in block["transactions"]]
        found = iter(self.chain.rpc_batch([("eth_getTransactionReceipt", [h]) for h in hashes]))
        receipts: list[list[dict[str, Any]] | None] = []
        for block in blocks:
            mined = [next(found) for _ in block["transactions"]] if block else None
            receipts.append(None if mined is None or None in mined else mined)
        return blocks, receipts

    def _apply_block(
        self,
        block: dict[str, Any],
        receipts: list[dict[str, Any]],
        report: Reconciliation,
        counting: bool,
    ) -> None:
        timestamp = int(block["timestamp"], 16)
        if timestamp < self.model.env.timestamp:
            raise ReconcileError(f"block {int(block['number'], 16)}'s time goes backwards")
        self.model.env.timestamp = timestamp
        by_hash = {r["transactionHash"]: r for r in receipts}
        for tx in block["transactions"]:
            receipt = by_hash[tx["hash"]]
            kind, ignored, diffs = self._apply(tx, receipt)
            where = f"block {int(block['number'], 16)} tx {tx['hash']}"
            report.differences += [dataclasses.replace(d, where=where) for d in diffs]
            if counting:
                report.kinds[kind] += 1
                if receipt["status"] != "0x1" and not diffs and ignored is None:
                    report.reverted += 1
            else:
                report.prefix_transactions += 1
            if ignored is not None:
                report.ignored.append(f"{where}: {ignored}")

    def _apply(
        self, tx: dict[str, Any], receipt: dict[str, Any]
    ) -> tuple[str, str | None, list[Difference]]:
        """(kind, why ignored or None, differences) of one mined transaction."""
        sender = to_checksum_address(tx["from"])
        self.senders.add(sender)
        self.model.nonces[sender] = self.model.nonces.get(sender, 0) + 1
        data = bytes.fromhex(tx["input"][2:])
        ok = receipt["status"] == "0x1"
        value = int(tx.get("value", "0x0"), 16)
        modelled = self.model.env.contracts
        if tx.get("to") is None:
            return self._create(sender, data, receipt, ok)
        to = to_checksum_address(tx["to"])
        if to not in modelled:
            touched = self._touched(receipt)
            diffs = [
                Difference(
                    "",
                    f"{self.model.names[a]} at {a}",
                    f"events of a transaction to {to}, which the model does not have",
                    "none",
                )
                for a in touched
            ]
            what = "ether transfer" if not data else f"call to {to} (no modelled contract)"
            return f"ignored: {what}", f"{what} from {sender}, {value} wei", diffs
        name = self.model.names[to]
        if name != "VaultEngine":  # a vault owner's own moves do not make it an actor
            self.actors.add(sender)
        entry = self.selectors[name].get(data[:4])
        if entry is None:
            kind = f"{name}.(unknown selector 0x{data[:4].hex()})"
            return kind, None, self._outcome(kind, receipt, Revert(None), [])
        kind = f"{name}.{entry.name}"
        try:
            args = tuple(
                python_value(t, v) for t, v in zip(entry.inputs, abi_decode(entry.inputs, data[4:]))
            )
        except Exception:  # noqa: BLE001 - calldata the contract's decoder would refuse too
            return kind, None, self._outcome(kind, receipt, Revert(None), [])
        for a in args:
            if isinstance(a, str) and a.startswith("0x") and len(a) == 42:
                self.holders.add(a)
        starved = self._out_of_gas(receipt, tx)
        if starved is not None:
            self.out_of_gas += 1
            return kind, f"{starved} (no effect there; not applied)", []
        if value and not entry.payable:
            return kind, None, self._outcome(kind, receipt, Revert(None), [])
        model_error: Revert | None = None
        events: list[Event] = []
        heard = self.around(sender, to, entry.name, args) if self.around is not None else None
        try:
            self.model._run(to, entry.name, sender, args)
            events = self.model.last_events
        except Revert as exc:
            model_error = exc
        if heard is not None and model_error is None:
            heard(events)
        return kind, None, self._outcome(kind, receipt, model_error, events)

    def _create(
        self, sender: str, data: bytes, receipt: dict[str, Any], ok: bool
    ) -> tuple[str, str | None, list[Difference]]:
        address = receipt.get("contractAddress")
        address = to_checksum_address(address) if address else None
        name = self.recorded.get(address or "")
        candidates = [name] if name else []
        candidates += sorted(
            (n for n, (code, _) in self.creation.items() if code and data.startswith(code)),
            key=lambda n: -len(self.creation[n][0]),
        )
        for candidate in candidates:
            code, inputs = self.creation[candidate]
            if not data.startswith(code) or candidate not in self.model.factories:
                continue
            try:
                args = tuple(
                    python_value(t, v)
                    for t, v in zip(inputs, abi_decode(inputs, data[len(code) :]))
                )
            except Exception:  # noqa: BLE001 - not this artifact's constructor arguments
                continue
            kind = f"create {candidate}"
            if not ok:
                return kind, "a creation that reverted on the chain", []
            assert address is not None
            factory = self.model.factories[candidate]
            n_logs = len(self.model.env.logs)
            try:
                self.model.env.transact(factory, self.model.env, address, sender, *args)
            except Revert as exc:
                self.model.env.contracts.pop(address, None)
                return kind, None, [Difference("", kind, "success", f"revert {exc.reason!r}")]
            self.model.names[address] = candidate
            self.chain._deployed(address, candidate)
            if address not in self.recorded:
                self.created.append(address)
            events = self.model.env.logs[n_logs:]
            return kind, None, self._compare_events(kind, receipt, events)
        what = "creation of code that is not Backstop's"
        return f"ignored: {what}", f"{what} from {sender} at {address}", []

    def _touched(self, receipt: dict[str, Any]) -> list[str]:
        """Modelled contracts that emitted events in the receipt."""
        found = []
        for log in receipt["logs"]:
            a = to_checksum_address(log["address"])
            if a in self.model.env.contracts and a not in found:
                found.append(a)
        return found

    def _out_of_gas(self, receipt: dict[str, Any], tx: dict[str, Any]) -> str | None:
        """Why a transaction that failed on the chain is taken as out of gas (the model has no
        gas, so it would succeed and diverge; a failed transaction had no effect either way), or
        None. Only a failure that left less than 1/16 of its limit unused can be one: the
        63/64 rule leaves each calling frame at most 1/64 of its gas when a callee starves
        (Backstop's calls nest at most four deep). With a trace, any frame that ran out of gas
        decides; a node that kept no trace (the devnet prunes its history, Hardhat has no call
        tracer) leaves the receipt's figures, which are then named."""
        if receipt["status"] == "0x1":
            return None
        used, limit = int(receipt["gasUsed"], 16), int(tx["gas"], 16)
        if not used_up(used, limit):
            return None
        if not self.chain.hardhat:
            try:
                trace = self.chain.rpc(
                    "debug_traceTransaction", [tx["hash"], {"tracer": "callTracer"}]
                )
            except RpcError:
                pass
            else:
                return "ran out of gas on the chain" if starved(trace) else None
        return (
            f"failed on the chain with {used:,} of its {limit:,} gas used and no trace left: "
            "taken as out of gas"
        )

    def _outcome(
        self, kind: str, receipt: dict[str, Any], model_error: Revert | None, events: list[Event]
    ) -> list[Difference]:
        if receipt["status"] != "0x1":
            try:
                reason = self.chain._revert_reason(receipt["transactionHash"])
            except RpcError:
                # the node keeps no trace of a block that old (the devnet prunes its history):
                # that both reverted is compared, not why
                if model_error is None:
                    return [Difference("", kind, "revert (reason no longer traceable)", "success")]
                self.untraced_reverts += 1
                return []
            if model_error is None:
                return [Difference("", kind, f"revert {reason!r}", "success")]
            if model_error.reason != reason:
                return [
                    Difference("", kind, f"revert {reason!r}", f"revert {model_error.reason!r}")
                ]
            return []
        if model_error is not None:
            return [Difference("", kind, "success", f"revert {model_error.reason!r}")]
        return self._compare_events(kind, receipt, events)

    def _compare_events(
        self, kind: str, receipt: dict[str, Any], events: list[Event]
    ) -> list[Difference]:
        try:
            chain_events = [self.chain._decode_log(log) for log in receipt["logs"]]
        except KeyError:
            return [Difference("", f"{kind} events", "an event no artifact declares", "-")]
        self.book.on_events(chain_events, self.model.env.timestamp)
        out = []
        if len(chain_events) != len(events):
            out.append(
                Difference(
                    "",
                    f"{kind} events",
                    [e.name for e in chain_events],
                    [e.name for e in events],
                )
            )
            return out
        for i, (c, m) in enumerate(zip(chain_events, events)):
            if c.address != m.address or c.name != m.name or c.args.keys() != m.args.keys():
                out.append(Difference("", f"{kind} event {i}", c.name, m.name))
                continue
            for k in c.args:
                if not _same(c.args[k], m.args[k]):
                    out.append(
                        Difference("", f"{kind} event {i} {c.name}.{k}", c.args[k], m.args[k])
                    )
        return out

    # ------------------------------------------------------------ full state

    def state_keys(self) -> StateKeys:
        """What a full-state read covers now: the record's roles and the senders that act
        beyond their own vaults as accounts; every other address met as a holder."""
        roles = list(self.record.roles.values())
        accounts = list(dict.fromkeys(roles + sorted(self.actors)))
        holders = sorted((self.senders | self.holders | set(self.created)) - set(accounts))
        return dataclasses.replace(state_keys(self.model, self.d, accounts), holders=tuple(holders))

    def compare_state(self, block: int, report: Reconciliation) -> dict[str, Any] | None:
        """The full-state read at `block` (the model must be there) on both sides; the chain's
        read (None where the node no longer holds that block's state)."""
        keys = self.state_keys()
        self.chain.block = hex(block)
        try:
            chain_state = read_state(self.chain, self.d, keys, cache=False)
        except RpcError as exc:
            if block < self.node.block_number():
                report.unchecked_blocks.append(block)
                return None
            raise ReconcileError(f"reading the state at block {block}: {exc}") from None
        finally:
            self.chain.block = "latest"
        model_state = read_state(self.model, self.d, keys, cache=False)
        report.state_checks.append(block)
        report.variables_compared += len(chain_state)
        where = f"state at block {block}"
        for key, c in chain_state.items():
            m = model_state[key]
            if _same(c, m):
                continue
            names = self._field_names(key)
            if isinstance(c, tuple) and isinstance(m, tuple) and len(c) == len(m):
                for i, (x, y) in enumerate(zip(c, m)):
                    if not _same(x, y):
                        label = names[i] if i < len(names) else str(i)
                        report.differences.append(Difference(where, f"{key}.{label}", x, y))
            else:
                report.differences.append(Difference(where, key, c, m))
        return chain_state

    def _field_names(self, key: str) -> list[str]:
        """The ABI's names of a struct getter's fields (`engine.vaults[..]` -> collateral, ...)."""
        getter = key.split(".", 1)[1].split("[")[0] if "." in key else ""
        contract = key.split(".")[0].split("[")[0]
        names = {
            "engine": "VaultEngine",
            "auction": "DutchAuction",
            "pool": "StabilityPool",
            "debt_auction": "DebtAuction",
            "surplus_auction": "SurplusAuction",
            "backstop": "Backstop",
            "liquidator": "Liquidator",
            "spotter": "Spotter",
            "fees": "FeeAccumulator",
            "ceiling": "CeilingManager",
            "oracle": "PriceOracle",
            "settlement": "GlobalSettlement",
            "margin_call": "MarginCall",
        }
        for abi_item in self.chain.artifacts.get(names.get(contract, ""), ([], ""))[0]:
            if abi_item.get("type") == "function" and abi_item.get("name") == getter:
                outputs = abi_item.get("outputs", [])
                if len(outputs) == 1 and outputs[0].get("components"):
                    return [c.get("name", "") for c in outputs[0]["components"]]
                return [o.get("name", "") for o in outputs]
        return []


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def reconcile(
    node: Node,
    record: DeploymentRecord,
    artifacts: dict[str, tuple[list[dict], str]],
    reader: str,
    from_block: int | None = None,
    every: int | None = None,
    record_path: Path | None = None,
) -> Reconciliation:
    """Replay the chain from the deployment in the model and compare (see the module docstring).
    `from_block`: where counting starts [the deployment's first block]; the state at the block
    before it is compared too. `every`: compare the full state every that many blocks.
    `record_path`: the deployment record's file, beside which the last market session is kept
    (its outside venue marks the open book: `_venue_marks`)."""
    head = node.block_number()
    start = record.first_block if from_block is None else from_block
    if start > head:
        raise ReconcileError(f"--from-block {start} is beyond the chain's head, block {head}")
    if start < record.first_block:
        raise ReconcileError(
            f"--from-block {start} is before the deployment (block {record.first_block}): the "
            "model starts from the deployment"
        )
    try:  # a session file that does not read is refused before the replay, not after
        session = read_session(record_path, record.chain_id, record.identity)
    except SessionError as exc:
        raise ReconcileError(str(exc)) from None
    replayer = Replayer(node, record, artifacts, reader)
    report = Reconciliation(record.first_block, start, head)
    first = node.block(start)
    assert first is not None
    replayer.book.since = int(first["timestamp"], 16)
    if start > record.first_block:
        replayer.replay(start - 1, report, counting=False)
        replayer.compare_state(start - 1, report)

    def checkpoint(block: int) -> None:
        if every and block < head and (block - start + 1) % every == 0:
            replayer.compare_state(block, report)

    replayer.replay(head, report, counting=True, on_block=checkpoint)
    replayer.compare_state(head, report)
    report.untraced_reverts = replayer.untraced_reverts
    report.out_of_gas = replayer.out_of_gas
    marks, report.mark_note = _venue_marks(replayer, session, head, report)
    report.outcome = replayer.book.outcome(replayer.chain, marks)
    return report


def _venue_marks(
    replayer: Replayer,
    found: tuple[MarketSession | None, str],
    head: int,
    report: Reconciliation,
) -> tuple[dict[str, MarkVenue], str]:
    """(the outside venues' marks of the outcome at the head, what the open book is marked on,
    in words): the last market session's venue kept beside the record (live/venue.py), rebuilt
    from the chain's events, where there is one; a sync that is not the lab venue's quote is a
    difference. Else the keepers' pool's mark (live/outcome.py), and why. `found`: the session
    kept beside the record, or None and why (read_session)."""
    record = replayer.record
    session, why = found
    pool = "the open book is marked in the keepers' pool"
    if session is None:
        return {}, f"{pool}: {why}"
    if session.venue is None:
        return {}, f"{pool}: the last market session (blocks from {session.first_block}, "
        f"{session.scenario}) played no outside venue: {session.why}"
    if session.name not in replayer.d.types or session.first_block < record.first_block:
        return (
            {},
            f"{pool}: the last market session kept beside the record is not of this deployment",
        )
    if replayer.chain.rpc("eth_getCode", [session.venue, hex(head)]) in ("0x", "0x0", None):
        return {}, f"{pool}: the market session's venue {session.venue} has no code at the head"
    venue, wrong = DevnetVenue.rebuild(replayer.chain, replayer.d, session, head)
    for block, what, chain, lab in wrong:
        report.differences.append(
            Difference(f"block {block}", f"venue[{session.name}].{what}", chain, lab)
        )
    mark = venue.mark()
    note = (
        f"the open book of {session.name} is marked on the outside venue {session.venue} of the "
        f"last market session ({session.scenario}, from block {session.first_block}), rebuilt "
        f"from its events: {venue.syncs:,} syncs (bars), {venue.sales:,} sales"
        + (
            f", {len(wrong)} syncs or sales not the lab venue's"
            if wrong
            else ", every sync the lab venue's"
        )
    )
    return ({session.name: mark} if mark is not None else {}), note


# ---------------------------------------------------------------- command


fail = failing("reconcile")


def _problems(ctx: click.Context) -> list[str]:
    """reconcile's checks that need no node (of the options click converted: `ctx.params`),
    one line per mistake: the block numbers, the --rpc URL, the deployment record given. Called
    first by the command, and by one_line_usage where click refused a value too, so every
    mistake is named in one run (a dead node is named after these)."""
    p, problems = ctx.params, []
    from_block, every = p.get("from_block"), p.get("every")
    if from_block is not None and from_block < 0:
        problems.append(f"--from-block must be a block number, got {from_block}")
    if every is not None and every < 1:
        problems.append(f"--every must be at least 1, got {every}")
    if p.get("rpc") is not None:
        try:
            Node(p["rpc"], timeout=60, patience=5)
        except ValueError:  # not http(s), no host, a port out of range: a traceback before
            problems.append(f"--rpc {p['rpc']!r} is not an http(s) JSON-RPC URL (http://HOST:PORT)")
    if p.get("deployment_path") is not None:
        problem = record_option_problem(p["deployment_path"])
        if problem:
            problems.append(problem)
    return problems


@click.command(cls=one_line_usage("reconcile", _problems))
@click.option(
    "--from-block",
    type=int,
    default=None,
    help="Count and compare from this block [the deployment's first block].",
)
@click.option("--every", type=int, default=None, help="Also compare the full state every K blocks.")
@click.option("--rpc", default="http://127.0.0.1:8545", show_default=True)
@click.option("--deployment", "deployment_path", default=None, help="The deployment record.")
@click.option(
    "--max-lines",
    type=click.IntRange(min=0),  # -1 showed all but the last difference, in silence
    default=30,
    show_default=True,
    help="Differences shown.",
)
def cli(from_block, every, rpc, deployment_path, max_lines):
    """Replay the devnet's transactions in the model and report the differences (0 expected).
    Exit status 0 with none, 1 with differences, 2 for bad input."""
    ctx = click.get_current_context()
    problems = _problems(ctx)  # every mistake at once, one line each
    if problems:
        # a dead node too, named with them (asked once), when --rpc was given: the default
        # URL's node is the environment's, not a mistake of this command line
        given = ctx.get_parameter_source("rpc") is not click.core.ParameterSource.DEFAULT
        fail("\n".join([*problems, *filter(None, [unanswered(rpc) if given else None])]))
    node = Node(rpc, timeout=60, patience=5)
    try:
        record_path = Path(deployment_path) if deployment_path else node_record_path(node)
        record = load_record(record_path)
        verify(record, node)
    except NodeUnavailable:
        fail(f"no JSON-RPC node answers at {rpc} (start one: make devnet)")
        return
    except RpcError as exc:
        fail(f"{rpc} is not an Ethereum JSON-RPC node: {exc}")
        return
    except RecordError as exc:
        fail(str(exc))
        return

    try:
        report = reconcile(node, record, *project_code(), from_block, every, record_path)
    except ReconcileError as exc:
        fail(str(exc))
        return
    for line in report.lines(max_lines):
        click.echo(line)
    sys.exit(1 if report.differences else 0)


if __name__ == "__main__":
    cli()
