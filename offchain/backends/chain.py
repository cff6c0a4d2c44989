"""A real node (Anvil) as a backend, over raw JSON-RPC.

The chain backend speaks JSON-RPC to Anvil (unlocked dev accounts, automine) instead of going
through Ape's transaction machinery: about ten times the throughput, which is what makes
stateful fuzzing on a real node affordable. Ape compiles and supplies the artifacts."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterable
from typing import Any

from eth_utils import to_checksum_address

from offchain.backends.abi import (
    ADDRESSES_HEX,
    READER_ADDRESS,
    AbiFunction,
    ContractAbi,
    decode_results,
    revert_reason,
)
from offchain.backends.base import TX_GAS, TxOutcome
from offchain.backends.model import MODEL_FACTORIES
from offchain.backends.rpc import NO_SUCH_METHOD, RpcError, Transport, call_label
from offchain.model.errors import Revert
from offchain.model.state import Event

# how long a snapshot revert waits for the node's pool to empty [s] (ChainBackend._pool_settled)
POOL_SETTLE_S = 30.0


class ChainBackend(ContractAbi):
    """A JSON-RPC node (Anvil or Hardhat Network) with unlocked dev accounts and automine."""

    # the block every read (`views`, `call`) is made at; a reconciliation sets an earlier one
    block: str = "latest"

    def __init__(
        self,
        rpc_url: str,
        artifacts: dict[str, tuple[list[dict], str]],
        reader_code: str,
        dev_node: bool = True,
    ):
        """`dev_node`: a node this process may reconfigure (one-second block time steps); False
        for a node shared with others (a live keeper's), which is only read and sent to."""
        super().__init__(artifacts)
        self.rpc_url = rpc_url
        self.reader_code = reader_code
        self._transport = Transport(rpc_url)
        self._ids = itertools.count(1)
        self._send_sync = True  # eth_sendTransactionSync until the node says it has none
        self.client = str(self.rpc("web3_clientVersion", []))
        # Hardhat Network (docs/nodes.md): no auto-impersonation, no block time interval, no
        # callTracer, no eth_getBlockReceipts; this backend covers each
        self.hardhat = self.client.startswith("HardhatNetwork")
        # Hardhat's automine stamps a block with the wall clock: this backend sets every block's
        # time itself (one second after the last unless a time was set), as Anvil's interval does
        self._pin_times = dev_node and self.hardhat
        if self.hardhat:
            self._send_sync = False  # no eth_sendTransactionSync (EIP-7966)
        if dev_node and not self.hardhat:
            self.rpc("anvil_setBlockTimestampInterval", [1])
        self.chain_id = int(self.rpc("eth_chainId", []), 16)
        self.sync()
        self.last_receipt: dict[str, Any] | None = None
        self.last_events: list[Event] = []

    # -------------------------------------------------------- JSON-RPC

    def rpc(self, method: str, params: list[Any]) -> Any:
        reply = self._transport.post(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        )
        if "error" in reply:
            raise RpcError(method, reply["error"])
        return reply["result"]

    def rpc_batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        if not calls:
            return []
        first = next(self._ids)
        payload = [
            {"jsonrpc": "2.0", "id": first + i, "method": m, "params": p}
            for i, (m, p) in enumerate(calls)
        ]
        self._ids = itertools.count(first + len(calls))
        replies = sorted(self._transport.post(payload), key=lambda r: r["id"])
        for reply, (method, _) in zip(replies, calls):
            if "error" in reply:
                raise RpcError(method, reply["error"])
        return [r["result"] for r in replies]

    def sync(self) -> None:
        """Re-read the chain head (after a snapshot revert, say)."""
        block = self.rpc("eth_getBlockByNumber", ["latest", False])
        self.last_block_time = int(block["timestamp"], 16)
        self._next_time: int | None = None

    @property
    def next_block_time(self) -> int:
        """The time of the next transaction's block (automine, 1 s interval)."""
        return self._next_time if self._next_time is not None else self.last_block_time + 1

    def snapshot(self) -> str:
        return self.rpc("evm_snapshot", [])

    def revert_to(self, snapshot_id: str) -> None:
        if not self.hardhat:
            self._pool_settled()
        if not self.rpc("evm_revert", [snapshot_id]):
            raise RuntimeError(f"evm_revert({snapshot_id}) failed")
        self.sync()

    def _pool_settled(self) -> None:
        """Wait until Anvil's pool holds no transaction. Anvil 1.7.1 answers a sync send as soon
        as the receipt is stored, but drops the mined transaction from its pool only when its
        node service next sees the block finished, and its `evm_revert` does not wait for that.
        A revert in between puts the sender's nonce back with the transaction still in the pool:
        it is mined again with the next one (a probe the fuzz undid was back on the chain before
        the keeper's batch), or the next transaction from its sender waits behind a nonce that
        never comes (a sync send that times out after 30 s). docs/testing.md, the a5222a2
        campaign. This backend sends one transaction at a time, so an empty pool means the last
        block is finished."""
        deadline = time.monotonic() + POOL_SETTLE_S
        while True:
            status = self.rpc("txpool_status", [])
            if not int(status["pending"], 16) and not int(status["queued"], 16):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the node's pool did not empty before a revert: {status}")
            time.sleep(0.0005)

    def fund(self, accounts: Iterable[str], wei: int) -> None:
        """Give each of `accounts` `wei` of ether and let this backend send from it (Anvil runs
        with --auto-impersonate; Hardhat impersonates one account at a time)."""
        accounts = list(accounts)
        prefix = "hardhat" if self.hardhat else "anvil"
        calls: list[tuple[str, list[Any]]] = [
            (f"{prefix}_setBalance", [who, hex(wei)]) for who in accounts
        ]
        if self.hardhat:
            calls += [("hardhat_impersonateAccount", [who]) for who in accounts]
        self.rpc_batch(calls)

    def _pin_time(self) -> None:
        if self._pin_times and self._next_time is None:
            self.set_next_block_time(self.last_block_time + 1)

    def set_next_block_time(self, timestamp: int) -> None:
        if timestamp <= self.last_block_time:
            raise ValueError(f"block time must increase: {timestamp} <= {self.last_block_time}")
        self.rpc("evm_setNextBlockTimestamp", [timestamp])
        self._next_time = timestamp

    # -------------------------------------------------------- contracts

    def _send(self, tx: dict[str, Any]) -> dict[str, Any]:
        receipt = None
        self._pin_time()
        if self._send_sync:
            # one round trip: the node mines the transaction and answers with its receipt
            # (EIP-7966; Anvil has it). Polling for the receipt instead cost ~7 requests a
            # transaction.
            try:
                receipt = self.rpc("eth_sendTransactionSync", [tx])
            except RpcError as exc:
                if exc.code not in NO_SUCH_METHOD:
                    raise
                self._send_sync = False
        if receipt is None:
            tx_hash = self.rpc("eth_sendTransaction", [tx])
            receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
            while receipt is None:  # automine can answer before the block is stored
                time.sleep(0.0005)
                receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
        # automine: one block per transaction, 1 s after the last unless a time was set
        self.last_block_time = (
            self._next_time if self._next_time is not None else self.last_block_time + 1
        )
        self._next_time = None
        self.last_receipt = receipt
        if receipt["status"] != "0x1":
            raise Revert(self._revert_reason(receipt["transactionHash"]))
        self.last_events = [self._decode_log(log) for log in receipt["logs"]]
        return receipt

    def _revert_reason(self, tx_hash: str) -> str | None:
        if self.hardhat:
            # Hardhat has only the default (opcode) tracer; its `returnValue` is the revert data
            quiet = {"disableStorage": True, "disableMemory": True, "disableStack": True}
            trace = self.rpc("debug_traceTransaction", [tx_hash, quiet])
            output = trace.get("returnValue") or ""
            return revert_reason(bytes.fromhex(output.removeprefix("0x")))
        trace = self.rpc("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        output = trace.get("output") or "0x"
        return revert_reason(bytes.fromhex(output[2:]))

    def _decode_log(self, log: dict[str, Any]) -> Event:
        address = ADDRESSES_HEX.get(log["address"])
        if address is None:
            address = ADDRESSES_HEX[log["address"]] = to_checksum_address(log["address"])
        topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
        return self._event(address, topics, bytes.fromhex(log["data"][2:]))

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        data = "0x" + self.constructor_data(name, args).hex()
        self.last_events = []
        receipt = self._send({"from": sender, "data": data, "gas": hex(TX_GAS)})
        address = to_checksum_address(receipt["contractAddress"])
        self._deployed(address, name)
        return address

    def _tx(
        self, address: str, function: str, sender: str, args: tuple, gas: int | None = None
    ) -> dict[str, Any]:
        call = self.call_data(address, function, *args)[0]
        return {"from": sender, **call, "gas": hex(gas or TX_GAS)}

    def transact(
        self, address: str, function: str, sender: str, *args: Any, gas: int | None = None
    ) -> None:
        """One transaction, with `gas` as its limit (None: TX_GAS)."""
        self.last_events = []
        self._send(self._tx(address, function, sender, args, gas))

    def transact_block(
        self, txs: list[tuple[str, str, str, tuple]], gas_limits: list[int] | None = None
    ) -> list[TxOutcome]:
        """Transactions `(address, function, sender, args)` mined in order into one block (see
        ModelBackend.transact_block). Anvil spends most of a block on work that grows with the
        state (the state root, the kept history), so one block for many transactions is what
        makes a 1,000-vault replay affordable. Needs a node that keeps the order in which it
        received transactions (`anvil --order fifo`) and takes them all into one block
        (`--disable-block-gas-limit`): offchain/backends/anvil.py starts it so; a node that does
        not is
        caught here."""
        if not txs:
            return []
        limits = gas_limits or [0] * len(txs)
        payloads = [
            self._tx(address, function, sender, args, gas)
            for (address, function, sender, args), gas in zip(txs, limits, strict=True)
        ]
        self._pin_time()
        self.rpc("evm_setAutomine", [False])
        try:
            # one at a time: a JSON-RPC batch is served concurrently, and the senders' nonces
            # collide
            hashes = [self.rpc("eth_sendTransaction", [tx]) for tx in payloads]
            self.rpc("evm_mine", [])
        finally:
            self.rpc("evm_setAutomine", [True])
        # the block's receipts in one request (one eth_getTransactionReceipt each is quadratic in
        # Anvil)
        if self.hardhat:  # no eth_getBlockReceipts: the block's hashes, then one batch
            block = self.rpc("eth_getBlockByNumber", ["latest", False])
            mined = block["transactions"]
            receipts = self.rpc_batch([("eth_getTransactionReceipt", [h]) for h in mined])
        else:
            receipts = self.rpc("eth_getBlockReceipts", ["latest"]) or []
        if [r["transactionHash"] for r in receipts] != hashes:
            raise RuntimeError(
                f"the node did not mine the {len(txs)} transactions into one block in the order "
                "sent "
                "(start it with --order fifo --disable-block-gas-limit)"
            )
        self.last_block_time = self.next_block_time
        self._next_time = None
        self.last_receipt = receipts[-1]
        out = []
        for receipt in receipts:
            if receipt["status"] == "0x1":
                out.append(
                    TxOutcome(True, None, [self._decode_log(log) for log in receipt["logs"]])
                )
            else:
                out.append(TxOutcome(False, self._revert_reason(receipt["transactionHash"]), []))
        self.last_events = out[-1].events
        return out

    def call_data(
        self, address: str, function: str, *args: Any
    ) -> tuple[dict[str, Any], AbiFunction]:
        data, fn = self._calldata(address, function, args)
        return {"to": address, "data": "0x" + data.hex()}, fn

    def views(self, calls: list[tuple[str, str, tuple]], cache: bool = True) -> list[Any]:
        """Many reads in one eth_call: the BatchReader's code is placed at a scratch address by a
        state override (nothing is deployed). Each result is decoded; one output -> the value.
        With `cache`, the encoded request is kept for the next identical list of reads."""
        out: list[Any] = []
        for k, (data, fns) in enumerate(self._read_requests(calls, cache)):
            try:
                raw = self.rpc(
                    "eth_call",
                    [
                        {"to": READER_ADDRESS, "data": "0x" + data.hex()},
                        self.block,
                        {READER_ADDRESS: {"code": self.reader_code}},
                    ],
                )
            except RpcError as exc:
                chunk = calls[k * self.READ_CHUNK : (k + 1) * self.READ_CHUNK]
                raise self._which_read(chunk, exc) from None
            results = decode_results(bytes.fromhex(raw[2:]))
            out.extend(fn.read_decode(result) for fn, result in zip(fns, results))
        return out

    def _which_read(self, calls: list[tuple[str, str, tuple]], batch: RpcError) -> RpcError:
        """The batch of reads `calls` failed as a whole (one of them reverted): the first read
        that fails alone, named (`Contract.function(args)`), or the batch's error."""
        for address, function, args in calls:
            tx, _ = self.call_data(address, function, *args)
            try:
                self.rpc("eth_call", [tx, self.block])
            except RpcError as exc:
                name = call_label(self.names.get(address, address), function, args)
                return RpcError(f"eth_call {name}", exc.error)
        return batch

    def view(self, address: str, function: str, *args: Any) -> Any:
        return self.views([(address, function, args)])[0]

    def call(self, address: str, function: str, *args: Any) -> Any:
        """One plain eth_call, fully ABI-decoded: for results too long for the BatchReader (a
        dynamic array, say). One output -> the value. An error names the call."""
        tx, fn = self.call_data(address, function, *args)
        try:
            raw = self.rpc("eth_call", [tx, self.block])
        except RpcError as exc:
            name = call_label(self.names.get(address, address), function, args)
            raise RpcError(f"eth_call {name}", exc.error) from None
        return fn.decode(bytes.fromhex(raw[2:]))

    def nonce(self, account: str) -> int:
        """How many transactions `account` has sent."""
        return int(self.rpc("eth_getTransactionCount", [account, "latest"]), 16)

    def gas_used(self) -> int:
        assert self.last_receipt is not None
        return int(self.last_receipt["gasUsed"], 16)


def reader_code(project: Any) -> str:
    """Runtime bytecode of the BatchReader (see ChainBackend.views)."""
    return project.get_contract("BatchReader").contract_type.runtime_bytecode.bytecode


class OneLineCompileLog(logging.Filter):
    """ape-vyper says a compile in one record of many lines: "Compiling using Vyper compiler
    '0.4.3'.", then "Input:" and every source, a tab before each (40 lines on a first run or
    after a contract changed, in the middle of a command's output; `make run`'s stray "Input:").
    The record is kept, as one line that says what happens: the files' count and that it is
    done once (Ape keeps the result in .build/)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if text.startswith("Compiling using Vyper compiler") and "\nInput:" in text:
            head, _, sources = text.partition("\nInput:")
            files = [x for x in sources.split() if x]
            record.msg = (
                f"{head.rstrip('.')}: {len(files)} files (the first run, or a contract changed; "
                "kept in .build/, about a minute)"
            )
            record.args = ()
        return True


_COMPILE_LOG = OneLineCompileLog()


def one_line_compile_log() -> None:
    """Put OneLineCompileLog on Ape's logger (once; before anything compiles)."""
    from ape.logging import logger

    if _COMPILE_LOG not in logger._logger.filters:
        logger._logger.addFilter(_COMPILE_LOG)


def project_code() -> tuple[dict[str, tuple[list[dict], str]], str]:
    """The compiled contracts of this checkout (through Ape's project: compiles what changed) and
    the BatchReader's code: what a ChainBackend deploys and reads with."""
    from ape import project

    return load_artifacts(project), reader_code(project)


def load_artifacts(
    project: Any, names: Iterable[str] = MODEL_FACTORIES
) -> dict[str, tuple[list[dict], str]]:
    """ABI and deployment bytecode of the contracts `names` (default: every deployable one) that
    Ape compiled for `project` (compiling what changed, said in one line)."""
    one_line_compile_log()
    artifacts = {}
    for name in names:
        contract_type = project.get_contract(name).contract_type
        abi = [item.model_dump(mode="json", by_alias=True) for item in contract_type.abi]
        artifacts[name] = (abi, contract_type.deployment_bytecode.bytecode)
    return artifacts
