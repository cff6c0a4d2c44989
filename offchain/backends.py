"""Two ways to run Backstop, one interface: the off-chain model, and a real chain over JSON-RPC.

Both backends deploy contracts by name and send transactions as `transact(address, function,
sender, *args)`, mining one block per transaction with a block time one second after the last
(unless `set_next_block_time` says otherwise), or as `transact_block([...])`, many transactions
in order in one block. A revert raises `Revert(reason)` on both.
`Lockstep` drives the two together and fails on the first disagreement in outcome, revert
reason or emitted events: the differential harness used by the fuzz tests and the simulator.

The chain backend speaks raw JSON-RPC to Anvil (unlocked dev accounts, automine) instead of
going through Ape's transaction machinery: about ten times the throughput, which is what makes
stateful fuzzing on a real node affordable. Ape compiles and supplies the artifacts.
"""

from __future__ import annotations

import http.client
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from offchain.backstop import Backstop
from offchain.ceiling_manager import CeilingManager
from offchain.collateral_join import CollateralJoin
from offchain.collateral_pool import CollateralPool
from offchain.debt_auction import DebtAuction
from offchain.dutch_auction import DutchAuction
from offchain.erc20 import ERC20
from offchain.errors import Revert
from offchain.fee_accumulator import FeeAccumulator
from offchain.flash_taker import FlashTaker
from offchain.global_settlement import GlobalSettlement
from offchain.liquidator import Liquidator
from offchain.price_oracle import PriceOracle
from offchain.spotter import Spotter
from offchain.stability_pool import StabilityPool
from offchain.stable_join import StableJoin
from offchain.state import Env, Event
from offchain.surplus_auction import SurplusAuction
from offchain.vault_engine import VaultEngine

TX_GAS = 10_000_000
# where eth_call places the BatchReader's code (a state override; nothing is deployed there)
_READER_ADDRESS = "0x00000000000000000000000000000000000BA7C4"
_READ_SELECTOR = keccak(text="read((address,bytes)[])")[:4]

# contract name -> model factory(env, address, deployer, *constructor_args)
MODEL_FACTORIES: dict[str, Callable[..., Any]] = {
    "VaultEngine": VaultEngine,
    "Stablecoin": lambda env, addr, dep, name, symbol: ERC20(env, addr, dep, name, symbol, 18),
    "TestToken": ERC20,
    "StableJoin": StableJoin,
    "CollateralJoin": CollateralJoin,
    "PriceOracle": PriceOracle,
    "Spotter": Spotter,
    "FeeAccumulator": FeeAccumulator,
    "CeilingManager": CeilingManager,
    "Backstop": Backstop,
    "Liquidator": Liquidator,
    "DutchAuction": DutchAuction,
    "CollateralPool": CollateralPool,
    "FlashTaker": FlashTaker,
    "GovernanceToken": lambda env, addr, dep, name, symbol: ERC20(env, addr, dep, name, symbol, 18),
    "StabilityPool": StabilityPool,
    "DebtAuction": DebtAuction,
    "SurplusAuction": SurplusAuction,
    "GlobalSettlement": GlobalSettlement,
}

# ---------------------------------------------------------------- test-only contracts
# contracts/testing/: deployed by the tests only, never by deploy_system; registered so that
# Lockstep can deploy them (and load_artifacts loads their artifacts).
from offchain.testing import ReentrantTaker  # noqa: E402

MODEL_FACTORIES["ReentrantTaker"] = ReentrantTaker


class Divergence(AssertionError):
    """Chain and model disagree: a bug in one of them."""


def create_address(sender: str, nonce: int) -> str:
    """The address a CREATE from `sender` at `nonce` deploys to."""
    import rlp

    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


# ---------------------------------------------------------------- the model


@dataclass
class TxOutcome:
    """One transaction of a block: did it succeed, the revert reason if not, its events."""

    ok: bool
    reason: str | None
    events: list[Event]


class ModelBackend:
    """The off-chain model as a chain: one block per transaction, CREATE addresses, nonces."""

    def __init__(self, start_time: int, block_interval: int = 1):
        self.env = Env(timestamp=start_time)
        self.block_interval = block_interval
        self.nonces: dict[str, int] = {}
        self.names: dict[str, str] = {}  # address -> contract name
        self._next_time: int | None = None
        self.last_events: list[Event] = []

    @property
    def last_block_time(self) -> int:
        return self.env.timestamp

    @property
    def next_block_time(self) -> int:
        """The time of the next transaction's block."""
        return self._next_time if self._next_time is not None else self.env.timestamp + self.block_interval

    def set_next_block_time(self, timestamp: int) -> None:
        if timestamp <= self.env.timestamp:
            raise ValueError(f"block time must increase: {timestamp} <= {self.env.timestamp}")
        self._next_time = timestamp

    def _new_block(self, sender: str) -> None:
        self.env.timestamp = self._next_time if self._next_time is not None else self.env.timestamp + self.block_interval
        self._next_time = None
        self.nonces[sender] = self.nonces.get(sender, 0) + 1

    def contract(self, address: str) -> Any:
        return self.env.contracts[address]

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        address = create_address(sender, self.nonces.get(sender, 0))
        self._new_block(sender)
        n_logs = len(self.env.logs)
        self.last_events = []
        try:
            self.env.transact(MODEL_FACTORIES[name], self.env, address, sender, *args)
        except Revert:
            # a reverted CREATE leaves no code behind: forget the half-built contract
            self.env.contracts.pop(address, None)
            raise
        self.names[address] = name
        self.last_events = self.env.logs[n_logs:]
        return address

    def transact_block(self, txs: list[tuple[str, str, str, tuple]]) -> list["TxOutcome"]:
        """Transactions `(address, function, sender, args)` mined in order into one block: one
        block time for all of them; a revert undoes only its own transaction. No transactions,
        no block."""
        if not txs:
            return []
        self.env.timestamp = self.next_block_time
        self._next_time = None
        out = []
        for address, function, sender, args in txs:
            self.nonces[sender] = self.nonces.get(sender, 0) + 1
            try:
                self._run(address, function, sender, args)
            except Revert as exc:
                out.append(TxOutcome(False, exc.reason, []))
                continue
            out.append(TxOutcome(True, None, self.last_events))
        self.last_events = out[-1].events
        return out

    def transact(self, address: str, function: str, sender: str, *args: Any) -> Any:
        self._new_block(sender)
        return self._run(address, function, sender, args)

    def _run(self, address: str, function: str, sender: str, args: tuple) -> Any:
        """One transaction in the current block; its events in `last_events` (none if it reverts)."""
        n_logs = len(self.env.logs)
        self.last_events = []
        contract = self.env.contracts.get(address)
        if contract is None:  # a call to an address without code succeeds and does nothing
            return None
        result = self.env.transact(getattr(contract, function), sender, *args)
        self.last_events = self.env.logs[n_logs:]
        return result


# ---------------------------------------------------------------- the chain


@dataclass
class _Function:
    selector: bytes
    inputs: list[str]
    outputs: list[str]
    decode: Callable[[bytes], Any] | None = None  # return data -> the value (see _return_decoder)

    def __post_init__(self) -> None:
        if self.decode is None:
            self.decode = _return_decoder(self.outputs)


def _word_reader(abi_type: str) -> Callable[[bytes], Any] | None:
    """One 32-byte word -> its value, for the static one-word types; None for any other type."""
    if "[" in abi_type:
        return None
    if abi_type.startswith("uint"):
        return lambda w: int.from_bytes(w, "big")
    if abi_type.startswith("int"):
        return lambda w: int.from_bytes(w, "big", signed=True)
    if abi_type == "bool":
        return lambda w: w[-1] == 1
    if abi_type == "address":
        return _address_of_word
    return None


def _address_of_word(w: bytes) -> str:
    address = _ADDRESSES.get(w)
    if address is None:
        address = _ADDRESSES[w] = to_checksum_address(w[12:])
    return address


def _static_decoder(types: list[str]) -> Callable[[bytes], tuple]:
    """ABI data of `types` -> one value per type (a struct -> a tuple), as eth_abi decodes it with
    addresses checksummed; built once per list of types. Static one-word values are read
    directly: eth_abi's generic decoder was most of the Python time of reading thousands of
    variables or events. Anything else (dynamic or other static types) goes through eth_abi."""

    def general(data: bytes) -> tuple:
        return tuple(_python_value(t, v) for t, v in zip(types, abi_decode(types, data)))

    groups = [t[1:-1].split(",") if t.startswith("(") else [t] for t in types]
    readers = [_word_reader(t) for group in groups for t in group]
    if None in readers:
        return general
    size = 32 * len(readers)
    shape = [(len(group), t.startswith("(")) for group, t in zip(groups, types)]

    def decode(data: bytes) -> tuple:
        if len(data) != size:
            return general(data)
        words = [read(data[32 * i : 32 * i + 32]) for i, read in enumerate(readers)]
        out, i = [], 0
        for n, is_tuple in shape:
            out.append(tuple(words[i : i + n]) if is_tuple else words[i])
            i += n
        return tuple(out)

    return decode


def _return_decoder(outputs: list[str]) -> Callable[[bytes], Any]:
    """A function's return data -> the value as `views` returns it: one output -> that value, a
    struct -> a tuple, several outputs -> a tuple of them."""
    decode = _static_decoder(outputs)
    if len(outputs) != 1:
        return decode
    read = _word_reader(outputs[0])
    if read is not None:  # the common case: one plain word
        return lambda data: read(data) if len(data) == 32 else decode(data)[0]
    return lambda data: decode(data)[0]


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return param["type"]


def _python_value(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, (tuple, list)):
        return tuple(
            to_checksum_address(v) if isinstance(v, str) and v.startswith("0x") and len(v) == 42 else v for v in value
        )
    return value


_ADDRESSES: dict[bytes, str] = {}
_ADDRESSES_HEX: dict[str, str] = {}


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def _call_tail(target: bytes, data: bytes) -> bytes:
    """One (address,bytes) element's encoding in the tail of `_encode_calls`."""
    return b"\0" * 12 + target + _word(64) + _word(len(data)) + data + b"\0" * (-len(data) % 32)


def _encode_calls(calls: list[tuple[bytes, bytes]]) -> bytes:
    """abi_encode(["(address,bytes)[]"], [calls]), written out: eth_abi's generic encoder is the
    bottleneck of reading thousands of variables."""
    return _encode_tails([_call_tail(target, data) for target, data in calls])


def _encode_tails(tails: list[bytes]) -> bytes:
    """`_encode_calls` from the elements' encodings (which ChainBackend keeps per distinct read)."""
    heads, offset = [], 32 * len(tails)
    for tail in tails:
        heads.append(offset.to_bytes(32, "big"))
        offset += len(tail)
    return _word(32) + _word(len(tails)) + b"".join(heads) + b"".join(tails)


def _decode_results(raw: bytes) -> list[bytes]:
    """abi_decode(["bytes[]"], raw)[0], written out (see _encode_calls)."""
    base = int.from_bytes(raw[0:32], "big")
    count = int.from_bytes(raw[base : base + 32], "big")
    heads = base + 32
    out = []
    for i in range(count):
        start = heads + int.from_bytes(raw[heads + 32 * i : heads + 32 * i + 32], "big")
        length = int.from_bytes(raw[start : start + 32], "big")
        out.append(raw[start + 32 : start + 32 + length])
    return out


_NO_SUCH_METHOD = (-32601, -32600)  # method not found / not supported


class RpcError(RuntimeError):
    """The node answered a request with an error."""

    def __init__(self, method: str, error: dict[str, Any]):
        super().__init__(f"{method}: {error}")
        self.method = method
        self.code = error.get("code") if isinstance(error, dict) else None


class _Transport:
    """JSON-RPC over one kept-alive HTTP connection, with nothing in between: `requests` spent
    ~0.5 ms of Python per request (prepare, merge settings, adapters), 3-4x a local node's answer."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) JSON-RPC URL: {url!r}")
        self._factory = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self._host, self._port = parts.hostname, parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json"}
        self._conn: http.client.HTTPConnection | None = None

    def post(self, payload: Any) -> Any:
        body = json.dumps(payload)
        for attempt in (0, 1):
            fresh = self._conn is None
            if fresh:
                self._conn = self._factory(self._host, self._port)
            try:
                self._conn.request("POST", self._path, body, self._headers)
                response = self._conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # a kept-alive connection the node had closed: reconnect once (never a fresh one)
                self._conn.close()
                self._conn = None
                if fresh or attempt:
                    raise
                continue
            if response.status != 200:
                raise RuntimeError(f"JSON-RPC node at {self._host}:{self._port} answered HTTP {response.status}")
            return json.loads(data)
        raise AssertionError("unreachable")


class ChainBackend:
    """A JSON-RPC node (Anvil) with unlocked dev accounts and automine."""

    def __init__(self, rpc_url: str, artifacts: dict[str, tuple[list[dict], str]], reader_code: str):
        self.rpc_url = rpc_url
        self.reader_code = reader_code
        self._read_cache: dict[tuple, list[tuple[str, list[_Function]]]] = {}
        self._call_cache: dict[tuple, tuple[bytes, _Function]] = {}
        self._transport = _Transport(rpc_url)
        self._ids = itertools.count(1)
        self._send_sync = True  # eth_sendTransactionSync until the node says it has none
        self.artifacts = artifacts
        self.names: dict[str, str] = {}
        self._functions: dict[str, dict[str, _Function]] = {}
        # topic -> (event name, argument names indexed then not, their decoders)
        self._events: dict[bytes, tuple[str, list[str], Callable[[bytes], tuple], Callable[[bytes], tuple]]] = {}
        for abi, _ in artifacts.values():
            for item in abi:
                if item["type"] == "event":
                    params = [(i["name"], _abi_type(i), i["indexed"]) for i in item["inputs"]]
                    topic = keccak(text=f"{item['name']}({','.join(t for _, t, _ in params)})")
                    indexed = [(n, t) for n, t, i in params if i]
                    plain = [(n, t) for n, t, i in params if not i]
                    # an indexed value is one word (its topic)
                    self._events[topic] = (item["name"], [n for n, _ in indexed + plain],
                                           _static_decoder([t for _, t in indexed]),
                                           _static_decoder([t for _, t in plain]))
        self.rpc("anvil_setBlockTimestampInterval", [1])
        self.sync()
        self.last_receipt: dict[str, Any] | None = None
        self.last_events: list[Event] = []

    # -------------------------------------------------------- JSON-RPC

    def rpc(self, method: str, params: list[Any]) -> Any:
        reply = self._transport.post({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})
        if "error" in reply:
            raise RpcError(method, reply["error"])
        return reply["result"]

    def rpc_batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        if not calls:
            return []
        first = next(self._ids)
        payload = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
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
        if not self.rpc("evm_revert", [snapshot_id]):
            raise RuntimeError(f"evm_revert({snapshot_id}) failed")
        self.sync()

    def set_next_block_time(self, timestamp: int) -> None:
        if timestamp <= self.last_block_time:
            raise ValueError(f"block time must increase: {timestamp} <= {self.last_block_time}")
        self.rpc("evm_setNextBlockTimestamp", [timestamp])
        self._next_time = timestamp

    # -------------------------------------------------------- contracts

    def _function(self, address: str, function: str) -> _Function:
        functions = self._functions.get(address)
        if functions is None:
            functions = {}
            for item in self.artifacts[self.names[address]][0]:
                if item["type"] == "function":
                    inputs = [_abi_type(i) for i in item["inputs"]]
                    functions[item["name"]] = _Function(
                        keccak(text=f"{item['name']}({','.join(inputs)})")[:4],
                        inputs,
                        [_abi_type(o) for o in item["outputs"]],
                    )
            self._functions[address] = functions
        return functions[function]

    def _send(self, tx: dict[str, Any]) -> dict[str, Any]:
        receipt = None
        if self._send_sync:
            # one round trip: the node mines the transaction and answers with its receipt
            # (EIP-7966; Anvil has it). Polling for the receipt instead cost ~7 requests a transaction.
            try:
                receipt = self.rpc("eth_sendTransactionSync", [tx])
            except RpcError as exc:
                if exc.code not in _NO_SUCH_METHOD:
                    raise
                self._send_sync = False
        if receipt is None:
            tx_hash = self.rpc("eth_sendTransaction", [tx])
            receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
            while receipt is None:  # automine can answer before the block is stored
                time.sleep(0.0005)
                receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
        # automine: one block per transaction, 1 s after the last unless a time was set
        self.last_block_time = self._next_time if self._next_time is not None else self.last_block_time + 1
        self._next_time = None
        self.last_receipt = receipt
        if receipt["status"] != "0x1":
            raise Revert(self._revert_reason(receipt["transactionHash"]))
        self.last_events = [self._decode_log(log) for log in receipt["logs"]]
        return receipt

    def _revert_reason(self, tx_hash: str) -> str | None:
        trace = self.rpc("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        output = trace.get("output") or "0x"
        data = bytes.fromhex(output[2:])
        if data[:4] == keccak(text="Error(string)")[:4]:
            return abi_decode(["string"], data[4:])[0]
        return None

    def _decode_log(self, log: dict[str, Any]) -> Event:
        topics = log["topics"]
        name, names, decode_indexed, decode_plain = self._events[bytes.fromhex(topics[0][2:])]
        values = decode_indexed(bytes.fromhex("".join(x[2:] for x in topics[1:])))
        values += decode_plain(bytes.fromhex(log["data"][2:]))
        args = dict(zip(names, values))
        address = _ADDRESSES_HEX.get(log["address"])
        if address is None:
            address = _ADDRESSES_HEX[log["address"]] = to_checksum_address(log["address"])
        return Event(address, name, args)

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        abi, bytecode = self.artifacts[name]
        ctor = next((i for i in abi if i["type"] == "constructor"), {"inputs": []})
        data = bytecode + abi_encode([_abi_type(i) for i in ctor["inputs"]], list(args)).hex()
        self.last_events = []
        receipt = self._send({"from": sender, "data": data, "gas": hex(TX_GAS)})
        address = to_checksum_address(receipt["contractAddress"])
        self.names[address] = name
        # after a snapshot revert another contract may have lived at this address: drop its ABI
        self._functions.pop(address, None)
        self._read_cache.clear()
        self._call_cache.clear()
        return address

    def _tx(self, address: str, function: str, sender: str, args: tuple) -> dict[str, Any]:
        return {"from": sender, **self.call_data(address, function, *args)[0], "gas": hex(TX_GAS)}

    def transact(self, address: str, function: str, sender: str, *args: Any) -> None:
        self.last_events = []
        self._send(self._tx(address, function, sender, args))

    def transact_block(self, txs: list[tuple[str, str, str, tuple]]) -> list[TxOutcome]:
        """Transactions `(address, function, sender, args)` mined in order into one block (see
        ModelBackend.transact_block). Anvil spends most of a block on work that grows with the
        state (the state root, the kept history), so one block for many transactions is what
        makes a 1,000-vault replay affordable. Needs a node that keeps the order in which it
        received transactions (`anvil --order fifo`) and takes them all into one block
        (`--disable-block-gas-limit`): offchain/anvil.py starts it so; a node that does not is
        caught here."""
        if not txs:
            return []
        payloads = [self._tx(address, function, sender, args) for address, function, sender, args in txs]
        self.rpc("evm_setAutomine", [False])
        try:
            # one at a time: a JSON-RPC batch is served concurrently, and the senders' nonces collide
            hashes = [self.rpc("eth_sendTransaction", [tx]) for tx in payloads]
            self.rpc("evm_mine", [])
        finally:
            self.rpc("evm_setAutomine", [True])
        # the block's receipts in one request (one eth_getTransactionReceipt each is quadratic in Anvil)
        receipts = self.rpc("eth_getBlockReceipts", ["latest"]) or []
        if [r["transactionHash"] for r in receipts] != hashes:
            raise RuntimeError(f"the node did not mine the {len(txs)} transactions into one block in the order sent "
                               "(start it with --order fifo --disable-block-gas-limit)")
        self.last_block_time = self.next_block_time
        self._next_time = None
        self.last_receipt = receipts[-1]
        out = []
        for receipt in receipts:
            if receipt["status"] == "0x1":
                out.append(TxOutcome(True, None, [self._decode_log(log) for log in receipt["logs"]]))
            else:
                out.append(TxOutcome(False, self._revert_reason(receipt["transactionHash"]), []))
        self.last_events = out[-1].events
        return out

    def call_data(self, address: str, function: str, *args: Any) -> tuple[dict[str, Any], _Function]:
        fn = self._function(address, function)
        return {"to": address, "data": "0x" + (fn.selector + abi_encode(fn.inputs, list(args))).hex()}, fn

    def views(self, calls: list[tuple[str, str, tuple]], cache: bool = True) -> list[Any]:
        """Many reads in one eth_call: the BatchReader's code is placed at a scratch address by a
        state override (nothing is deployed). Each result is decoded; one output -> the value.
        With `cache`, the encoded request is kept for the next identical list of reads."""
        key = tuple(calls)
        requests_ = self._read_cache.get(key) if cache else None
        if requests_ is None:
            prepared = [self._encoded_call(a, f, args) for a, f, args in calls]
            requests_ = []
            for start in range(0, len(prepared), 2048):
                chunk = prepared[start : start + 2048]
                data = "0x" + (_READ_SELECTOR + _encode_tails([tail for tail, _ in chunk])).hex()
                requests_.append((data, [fn for _, fn in chunk]))
            if cache:
                if len(self._read_cache) > 32:  # reads that vary (a simulation's) must not pile up
                    self._read_cache.clear()
                self._read_cache[key] = requests_
        out: list[Any] = []
        for data, fns in requests_:
            raw = self.rpc(
                "eth_call",
                [{"to": _READER_ADDRESS, "data": data}, "latest", {_READER_ADDRESS: {"code": self.reader_code}}],
            )
            results = _decode_results(bytes.fromhex(raw[2:]))
            out.extend(fn.decode(result) for fn, result in zip(fns, results))
        return out

    def _encoded_call(self, address: str, function: str, args: tuple) -> tuple[bytes, _Function]:
        """(the BatchReader's encoding of the call, function) of one read, encoded once per
        distinct read."""
        key = (address, function, args)
        hit = self._call_cache.get(key)
        if hit is None:
            fn = self._function(address, function)
            hit = (_call_tail(bytes.fromhex(address[2:]), fn.selector + abi_encode(fn.inputs, list(args))), fn)
            self._call_cache[key] = hit
        return hit

    def view(self, address: str, function: str, *args: Any) -> Any:
        return self.views([(address, function, args)])[0]

    def call(self, address: str, function: str, *args: Any) -> Any:
        """One plain eth_call, fully ABI-decoded: for results too long for the BatchReader (a
        dynamic array, say). One output -> the value."""
        tx, fn = self.call_data(address, function, *args)
        return fn.decode(bytes.fromhex(self.rpc("eth_call", [tx, "latest"])[2:]))

    def gas_used(self) -> int:
        assert self.last_receipt is not None
        return int(self.last_receipt["gasUsed"], 16)


def reader_code(project: Any) -> str:
    """Runtime bytecode of the BatchReader (see ChainBackend.views)."""
    return project.get_contract("BatchReader").contract_type.runtime_bytecode.bytecode


def load_artifacts(project: Any) -> dict[str, tuple[list[dict], str]]:
    """ABI and deployment bytecode of every contract Ape compiled for `project`."""
    artifacts = {}
    for name in MODEL_FACTORIES:
        contract_type = project.get_contract(name).contract_type
        abi = [item.model_dump(mode="json", by_alias=True) for item in contract_type.abi]
        artifacts[name] = (abi, contract_type.deployment_bytecode.bytecode)
    return artifacts


# ---------------------------------------------------------------- both at once


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


class Lockstep:
    """Applies every deployment and transaction to the chain and to the model and checks that
    both succeed or both revert with the same reason, at the same block time, emitting the same
    events. Any difference raises `Divergence` with a readable account of it."""

    def __init__(self, chain: ChainBackend, model: ModelBackend):
        self.chain = chain
        self.model = model
        self.names = model.names

    @property
    def last_block_time(self) -> int:
        return self.model.last_block_time

    def set_next_block_time(self, timestamp: int) -> None:
        self.chain.set_next_block_time(timestamp)
        self.model.set_next_block_time(timestamp)

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        what = f"deploy {name}{args!r} from {sender}"
        address = model_address = None
        chain_error = model_error = None
        try:
            address = self.chain.deploy(name, sender, *args)
        except Revert as exc:
            chain_error = exc
        try:
            model_address = self.model.deploy(name, sender, *args)
        except Revert as exc:
            model_error = exc
        self._compare_outcomes(what, chain_error, model_error)
        if address != model_address:
            raise Divergence(f"deploy {name}: chain address {address}, model address {model_address}")
        self._compare_events(f"deploy {name}")
        return address

    def transact(self, address: str, function: str, sender: str, *args: Any) -> None:
        what = f"{self.names.get(address, address)}.{function}{args!r} from {sender}"
        chain_error = model_error = None
        try:
            self.chain.transact(address, function, sender, *args)
        except Revert as exc:
            chain_error = exc
        try:
            self.model.transact(address, function, sender, *args)
        except Revert as exc:
            model_error = exc
        self._compare_outcomes(what, chain_error, model_error)
        self._compare_events(what)

    def _compare_outcomes(self, what: str, chain_error: Revert | None, model_error: Revert | None) -> None:
        """Both succeeded, or both reverted with the same reason (re-raised), at the same time."""
        if (chain_error is None) != (model_error is None) or (
            chain_error is not None and chain_error.reason != model_error.reason
        ):
            describe = lambda e: "success" if e is None else f"revert {e.reason!r}"  # noqa: E731
            raise Divergence(f"{what}: chain {describe(chain_error)}, model {describe(model_error)}")
        if self.chain.last_block_time != self.model.last_block_time:
            raise Divergence(
                f"{what}: block time chain {self.chain.last_block_time}, model {self.model.last_block_time}"
            )
        if chain_error is not None:
            raise chain_error

    def _compare_events(self, what: str) -> None:
        chain_events, model_events = self.chain.last_events, self.model.last_events
        if len(chain_events) != len(model_events) or not all(
            c.address == m.address and c.name == m.name and c.args.keys() == m.args.keys()
            and all(_same(c.args[k], m.args[k]) for k in c.args)
            for c, m in zip(chain_events, model_events)
        ):
            lines = [f"{what}: events differ"]
            lines += [f"  chain: {e.name} {e.args}" for e in chain_events]
            lines += [f"  model: {e.name} {e.args}" for e in model_events]
            raise Divergence("\n".join(lines))
