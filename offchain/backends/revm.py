"""An in-process EVM as a backend: revm (the engine inside Anvil) through its Python bindings,
pyrevm.

`RevmBackend` answers the same calls as `ChainBackend` (offchain/backends/chain.py) without a
node: transactions commit as Anvil's automine commits them (one block per transaction, block
times one second apart unless set, the sender's nonce counted per transaction, so CREATE gives
a node's addresses), revert reasons come from the return data, logs decode into the same
`Event`s, and the complete state is read through the same BatchReader. Snapshots nest, and
reverting to one drops it and every later one (as on Anvil). Without a JSON-RPC round trip per
transaction it runs the differential fuzz about two orders of magnitude faster than Anvil.

Gas. pyrevm 0.3.7 never finalizes revm's journal between calls: every account and storage slot
a transaction loads stays "warm" for the rest of the run (and a slot's "original" value, which
prices an SSTORE, is the one it had when first loaded), so the gas revm reports for a
transaction is not a node's, and pyrevm offers no call that clears the access state. With
`exact_gas=True`, `gas_used()` counts it as a node does: the transaction is undone and run once
more in a fresh EVM whose database holds the complete state before it (every account, every
non-zero slot), all cold, then run again here. The complete state is read from revm's own
account of its journal (`journal_str`, the only way pyrevm shows storage slots it holds), which
is slow, so only transactions whose gas is asked for pay it. Tested equal to Anvil's on every
transaction `make bench` measures (tests/backends/test_revm_backend.py). A transaction sent with
a gas limit (`transact(..., gas=N)`) runs here, warm: it never uses more gas than on a node
(warm accesses and dirty writes cost less, never more), so a limit a node finds enough is
enough here too, and a guard on the gas left (Liquidator.liquidate_many's) fires later than on
a node. Exact gas limits are tested on Anvil.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from pyrevm import EVM, AccountInfo, BlockEnv, CfgEnv, Env

from offchain.backends.abi import (
    READER_ADDRESS,
    ContractAbi,
    decode_results,
    revert_reason,
)
from offchain.backends.base import TX_GAS, TxOutcome, intrinsic_gas
from offchain.model.errors import Revert
from offchain.model.state import ZERO_ADDRESS, Event

# the chain id Anvil runs with (the stablecoin's EIP-712 domain includes it)
ANVIL_CHAIN_ID = 31337
# pyrevm 0.3.7 (revm 8) knows no fork past Cancun by name; any unknown name selects its latest
# rules, which is what Vyper's `prague` target needs (Prague added no opcode)
SPEC_ID = "PRAGUE"
# the accounts of Anvil's default mnemonic ("test test ... junk"): the same senders on a node
ANVIL_ACCOUNTS: tuple[str, ...] = (
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
    "0xa0Ee7A142d267C1f36714E5a8F75612F20a79720",
)
# gas of a batched read (a static call, no transaction: a node's eth_call is not held to TX_GAS
# either); the state reads of offchain/system/reads.py go past TX_GAS per chunk
_READ_GAS = 200_000_000
_REVERT_OUTPUT = re.compile(r"output: 0x([0-9a-fA-F]*)")
# revm's Debug rendering of its journaled state: an account, and a storage slot of one (decimal)
_ACCOUNT = re.compile(r"(0x[0-9a-f]{40}): Account \{")
_SLOT = re.compile(
    r"(\d+): StorageSlot \{ previous_or_original_value: \d+, present_value: (\d+) \}"
)


@dataclass
class _Transaction:
    """The last transaction, to run again for its gas (exact_gas): the checkpoint before it."""

    checkpoint: Any
    sender: str
    to: str | None  # None: a CREATE
    data: bytes
    gas: int  # its limit


@dataclass
class _Snapshot:
    checkpoint: Any  # pyrevm's JournalCheckpoint
    nonces: dict[str, int]
    block_time: int
    block_number: int


class RevmBackend(ContractAbi):
    """revm in process, as a chain with automine and a 1 s block interval (see the module
    docstring). `genesis_time` is the time of block 0; every sender may send (no signatures,
    no fees: the gas price is 0)."""

    def __init__(
        self,
        artifacts: dict[str, tuple[list[dict], str]],
        reader_code: str,
        genesis_time: int,
        chain_id: int = ANVIL_CHAIN_ID,
        exact_gas: bool = False,
    ):
        super().__init__(artifacts)
        self.chain_id = chain_id
        self.exact_gas = exact_gas
        self.evm = EVM(
            env=Env(
                cfg=CfgEnv(chain_id=chain_id), block=BlockEnv(number=0, timestamp=genesis_time)
            ),
            spec_id=SPEC_ID,
        )
        # the BatchReader lives at a scratch address, in the database below every snapshot
        self.evm.insert_account_info(
            READER_ADDRESS, AccountInfo(code=bytes.fromhex(reader_code.removeprefix("0x")))
        )
        self.last_block_time = genesis_time
        self.block_number = 0
        self._next_time: int | None = None
        self.nonces: dict[str, int] = {}
        self.last_events: list[Event] = []
        # exact_gas: the last transaction (its checkpoint open until the next one) and its gas
        self._last_tx: _Transaction | None = None
        self._last_gas: int | None = None
        self._snapshot_ids = itertools.count(1)
        self._snapshots: dict[str, _Snapshot] = {}

    # -------------------------------------------------------- blocks and time

    @property
    def next_block_time(self) -> int:
        """The time of the next transaction's block (automine, 1 s interval)."""
        return self._next_time if self._next_time is not None else self.last_block_time + 1

    def set_next_block_time(self, timestamp: int) -> None:
        if timestamp <= self.last_block_time:
            raise ValueError(f"block time must increase: {timestamp} <= {self.last_block_time}")
        self._next_time = timestamp

    def _new_block(self) -> None:
        self.last_block_time = self.next_block_time
        self._next_time = None
        self.block_number += 1
        self._set_block()

    def _set_block(self) -> None:
        self.evm.set_block_env(BlockEnv(number=self.block_number, timestamp=self.last_block_time))

    def snapshot(self) -> str:
        """The state now (EVM state, nonces, head); `revert_to` it once."""
        snapshot_id = hex(next(self._snapshot_ids))
        self._snapshots[snapshot_id] = _Snapshot(
            self.evm.snapshot(), dict(self.nonces), self.last_block_time, self.block_number
        )
        return snapshot_id

    def revert_to(self, snapshot_id: str) -> None:
        """Back to the state of `snapshot_id`; it and every later snapshot are dropped."""
        if snapshot_id not in self._snapshots:
            raise RuntimeError(f"revert_to({snapshot_id}): no such snapshot")
        self._close_last_tx()
        # the later snapshots first, newest first: revm's checkpoints nest
        for later in [s for s in self._snapshots if int(s, 16) > int(snapshot_id, 16)][::-1]:
            self.evm.revert(self._snapshots.pop(later).checkpoint)
        snap = self._snapshots.pop(snapshot_id)
        self.evm.revert(snap.checkpoint)
        self.nonces = snap.nonces
        self.last_block_time, self.block_number = snap.block_time, snap.block_number
        self._next_time = None
        self._set_block()

    # -------------------------------------------------------- transactions

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        code = self.constructor_data(name, args)
        self._new_block()
        nonce = self.nonces.get(sender, 0)
        self.nonces[sender] = nonce + 1
        # the EVM's own nonce of a sender only moves with its CREATEs: it is set from ours, which
        # counts every transaction, so the new address is a node's (create_address). (pyrevm's
        # stub omits AccountInfo's `balance` parameter, which its constructor takes.)
        info = AccountInfo(balance=self.evm.get_balance(sender), nonce=nonce)  # pyright: ignore[reportCallIssue]
        self.evm.insert_account_info(sender, info)
        address = to_checksum_address(self._run(sender, None, code))
        self._deployed(address, name)
        return address

    def transact(
        self, address: str, function: str, sender: str, *args: Any, gas: int | None = None
    ) -> None:
        """One transaction, with `gas` as its limit (None: TX_GAS; see the module docstring:
        accounts stay warm here, so a transaction never uses more gas than on a node)."""
        data = self._calldata(address, function, args)[0]
        self._new_block()
        self.last_events = []
        self._send(sender, address, data, gas or TX_GAS)

    def transact_block(
        self, txs: list[tuple[str, str, str, tuple]], gas_limits: list[int] | None = None
    ) -> list[TxOutcome]:
        """Transactions `(address, function, sender, args)` in order in one block (see
        ModelBackend.transact_block): one block time for all; a revert undoes only its own
        transaction. No transactions, no block. `gas_limits`: each one's (0: TX_GAS)."""
        if not txs:
            return []
        limits = gas_limits or [0] * len(txs)
        payloads = [
            (sender, address, self._calldata(address, fn, args)[0], gas or TX_GAS)
            for (address, fn, sender, args), gas in zip(txs, limits, strict=True)
        ]
        self._new_block()
        out = []
        for sender, address, data, gas in payloads:
            try:
                self._send(sender, address, data, gas)
            except Revert as exc:
                out.append(TxOutcome(False, exc.reason, []))
                continue
            out.append(TxOutcome(True, None, self.last_events))
        self.last_events = out[-1].events
        return out

    def _send(self, sender: str, address: str, data: bytes, gas: int = TX_GAS) -> None:
        """One transaction in the current block, with `gas` as its limit; its events in
        `last_events` (none if it reverts)."""
        self.nonces[sender] = self.nonces.get(sender, 0) + 1
        self._run(sender, address, data, gas)

    def _run(self, sender: str, to: str | None, data: bytes, gas: int = TX_GAS) -> Any:
        """Run a call (to `to`) or a CREATE (`to` None) as a transaction with `gas` as its limit:
        its events in `last_events`; a revert raises `Revert`. Returns the call's output or the
        new address."""
        self.last_events = []
        if self.exact_gas:
            self._close_last_tx()
            self._last_tx = _Transaction(self.evm.snapshot(), sender, to, data, gas)
            self._last_gas = None
        try:
            if to is None:
                out = self.evm.deploy(sender, data, gas=gas)
            else:
                out = self.evm.message_call(sender, to, data, gas=gas)
        except RuntimeError as exc:
            raise Revert(_reason(exc)) from None
        finally:
            # transient storage lasts one transaction (EIP-1153); pyrevm keeps it otherwise
            self.evm.reset_transient_storage()
        self.last_events = self._events_of_result()
        return out

    def _close_last_tx(self) -> None:
        """The last transaction can no longer be run again: its checkpoint is released."""
        if self._last_tx is not None:
            self.evm.commit()
            self._last_tx = None

    def _events_of_result(self) -> list[Event]:
        result = self.evm.result
        if result is None or not result.logs:
            return []
        events = []
        for log in result.logs:
            topics, data = log.data
            events.append(self._event(log.address, topics, data))
        return events

    # -------------------------------------------------------- reads

    def views(self, calls: list[tuple[str, str, tuple]], cache: bool = True) -> list[Any]:
        """Many reads in one static call of the BatchReader, at the last block. Each result is
        decoded; one output -> the value. With `cache`, the encoded request is kept for the next
        identical list of reads."""
        out: list[Any] = []
        for data, fns in self._read_requests(calls, cache):
            raw = self.evm.message_call(
                ZERO_ADDRESS, READER_ADDRESS, data, gas=_READ_GAS, is_static=True
            )
            out.extend(fn.read_decode(result) for fn, result in zip(fns, decode_results(raw)))
        return out

    def view(self, address: str, function: str, *args: Any) -> Any:
        return self.views([(address, function, args)])[0]

    def call(self, address: str, function: str, *args: Any) -> Any:
        """One static call, fully ABI-decoded (results of any length). One output -> the value."""
        data, fn = self._calldata(address, function, args)
        return fn.decode(
            self.evm.message_call(ZERO_ADDRESS, address, data, gas=TX_GAS, is_static=True)
        )

    def nonce(self, account: str) -> int:
        """How many transactions `account` has sent."""
        return self.nonces.get(account, 0)

    def gas_used(self) -> int:
        """Gas of the last transaction as a node counts it (needs `exact_gas=True`; see the
        module docstring): it is undone, priced in a fresh EVM, and run again."""
        if self._last_gas is None:
            tx = self._last_tx
            if tx is None:
                raise RuntimeError(
                    "RevmBackend counts a node's gas only with exact_gas=True, for the last "
                    "transaction (see the module docstring)"
                )
            events = self.last_events
            self.evm.revert(tx.checkpoint)
            self._last_tx = None
            gas = self._cold_gas(tx.sender, tx.to, tx.data, tx.gas)
            try:
                self._run(tx.sender, tx.to, tx.data, tx.gas)
            except Revert:
                pass
            self.last_events = events
            self._last_gas = gas
        return self._last_gas

    def nonzero_storage(self) -> dict[str, list[tuple[int, int]]]:
        """Address -> its non-zero storage slots (slot, word): every slot revm holds (from its
        journal's rendering: slow, ~6 ms; for periodic checks, offchain/testing/storage.py)."""
        return _storage(self.evm.journal_str)

    def _cold_gas(self, sender: str, to: str | None, data: bytes, gas: int = TX_GAS) -> int:
        """The gas a node charges for this transaction (a call to `to`, or a CREATE when None,
        with `gas` as its limit) on the present state: run in a fresh EVM that holds every
        account and every non-zero storage slot of this one, cold, in its database."""
        fresh = EVM(
            env=Env(
                cfg=CfgEnv(chain_id=self.chain_id),
                block=BlockEnv(number=self.block_number, timestamp=self.last_block_time),
            ),
            spec_id=SPEC_ID,
        )
        for address, info in {**self.evm.db_accounts, **self.evm.journal_state}.items():
            fresh.insert_account_info(address, info)
        for address, slots in self.nonzero_storage().items():
            for key, value in slots:
                # an account's first slot goes to the database but loads the account (warm);
                # undoing the load leaves the slot in the database and the account cold
                checkpoint = fresh.snapshot()
                fresh.insert_account_storage(address, key, value)
                fresh.revert(checkpoint)
        fresh.basic(sender)  # the sender is warm from the start of a transaction (EIP-2929)
        try:
            if to is None:
                fresh.deploy(sender, data, gas=gas)
            else:
                fresh.message_call(sender, to, data, gas=gas)
        except RuntimeError:
            pass  # a reverted transaction is charged too
        assert fresh.result is not None
        # EIP-7623 (Prague): at least the calldata floor (revm 8 predates it); gas_used already
        # covers the standard intrinsic cost, so the larger of the two is the floor where it binds
        return max(fresh.result.gas_used, intrinsic_gas(data))


def _storage(journal: str) -> dict[str, list[tuple[int, int]]]:
    """address -> its non-zero storage slots (key, value), from revm's rendering of its journaled
    state (the accounts it holds, then the journal, from `, transient_storage:` on)."""
    state = journal[: journal.index(", transient_storage:")]
    accounts = list(_ACCOUNT.finditer(state))
    out: dict[str, list[tuple[int, int]]] = {}
    for i, account in enumerate(accounts):
        end = accounts[i + 1].start() if i + 1 < len(accounts) else len(state)
        section = state[state.index("storage: {", account.end(), end) : end]
        slots = [(int(k), int(v)) for k, v in _SLOT.findall(section) if v != "0"]
        if slots:
            out[to_checksum_address(account.group(1))] = slots
    return out


def _reason(exc: RuntimeError) -> str | None:
    """The revert reason of a failed pyrevm call (its message carries the result's output); None
    for a halt (out of gas, an invalid opcode). Anything else is not a revert: re-raised."""
    message = str(exc)
    if message.startswith("Revert"):
        match = _REVERT_OUTPUT.search(message)
        return revert_reason(bytes.fromhex(match.group(1))) if match else None
    if message.startswith("Halt"):
        return None
    raise exc
