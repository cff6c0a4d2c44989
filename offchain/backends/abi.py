"""ABI encoding and decoding for the EVM backends (chain.ChainBackend, revm.RevmBackend), written
out for speed: return data, event data and the BatchReader's batched calls; `ContractAbi` is what
both backends know of the deployed contracts' ABIs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from offchain.model.state import Event

READER_ADDRESS = "0x00000000000000000000000000000000000BA7C4"
_ERROR_SELECTOR = keccak(text="Error(string)")[:4]
_READ_SELECTOR = keccak(text="read((address,bytes)[])")[:4]
# the BatchReader returns at most this many bytes of each result (contracts/BatchReader.vy)
READ_RESULT = 256
# an ABI type that is or holds an array, bytes or a string (also inside a struct): its data may
# be longer than the BatchReader returns
_DYNAMIC = re.compile(r"\[|string|bytes(?!\d)")


@dataclass
class AbiFunction:
    selector: bytes
    inputs: list[str]
    outputs: list[str]
    # return data -> the value (see return_decoder); built from `outputs` unless given
    decoder: Callable[[bytes], Any] | None = None

    def __post_init__(self) -> None:
        self.decode: Callable[[bytes], Any] = self.decoder or return_decoder(self.outputs)
        self.encode_inputs: Callable[[tuple], bytes] = static_encoder(self.inputs)
        self.read_decode = self.decode
        if any(_DYNAMIC.search(t) for t in self.outputs):
            # a dynamic result read through the BatchReader is cut at READ_RESULT bytes, and
            # eth_abi would pad what is missing with zeros: refuse any result that may be cut
            self.read_decode = self._whole_read

    def _whole_read(self, data: bytes) -> Any:
        if len(data) >= READ_RESULT:
            raise ValueError(
                f"a {self.outputs} result of {len(data)} bytes may be cut short by the "
                f"BatchReader (at most {READ_RESULT}): read it with call()"
            )
        return self.decode(data)


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
    size = _BYTES_N.fullmatch(abi_type)
    if size is not None:
        return _bytes_reader(int(size.group(1)))
    return None


_BYTES_N = re.compile(r"bytes([1-9]|[12][0-9]|3[0-2])")


def _bytes_reader(n: int) -> Callable[[bytes], bytes]:
    """A bytesN word -> its N bytes; non-zero padding is refused as eth_abi refuses it."""
    if n == 32:
        return bytes

    def read(w: bytes) -> bytes:
        if any(w[n:]):
            raise ValueError(f"bytes{n} word with non-zero padding: {w.hex()}")
        return w[:n]

    return read


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
        return tuple(python_value(t, v) for t, v in zip(types, abi_decode(types, data)))

    groups = [t[1:-1].split(",") if t.startswith("(") else [t] for t in types]
    maybe_readers = [_word_reader(t) for group in groups for t in group]
    readers = [r for r in maybe_readers if r is not None]
    if len(readers) != len(maybe_readers):
        return general
    size = 32 * len(readers)
    shape = [(len(group), t.startswith("(")) for group, t in zip(groups, types)]

    def decode(data: bytes) -> tuple:
        if len(data) != size:
            # all static one-word values: any other length is a result cut short (or garbage),
            # which eth_abi would pad with zeros
            raise ValueError(f"ABI result of {len(data)} bytes for {types}: expected {size}")
        words = [read(data[32 * i : 32 * i + 32]) for i, read in enumerate(readers)]
        out, i = [], 0
        for n, is_tuple in shape:
            out.append(tuple(words[i : i + n]) if is_tuple else words[i])
            i += n
        return tuple(out)

    return decode


def _word_writer(abi_type: str) -> Callable[[Any], bytes | None] | None:
    """A value of a static one-word type -> its 32-byte word, or None when the value is not one
    eth_abi would encode as is (out of range, of another Python type, an address it has not
    checked yet): the caller then asks eth_abi, which encodes it or raises as before. None for
    any other type."""
    if "[" in abi_type or abi_type.startswith("("):
        return None
    bits = re.fullmatch(r"(u?)int(\d*)", abi_type)
    if bits is not None:
        n = int(bits.group(2) or 256)
        low, high = (0, 2**n) if bits.group(1) else (-(2 ** (n - 1)), 2 ** (n - 1))

        def integer(v: Any) -> bytes | None:
            if type(v) is not int or not low <= v < high:
                return None
            return (v % 2**256).to_bytes(32, "big")

        return integer
    if abi_type == "bool":
        return lambda v: (b"\0" * 31 + (b"\1" if v else b"\0")) if type(v) is bool else None
    if abi_type == "address":
        return lambda v: _ADDRESS_WORDS.get(v) if type(v) is str else None
    size = _BYTES_N.fullmatch(abi_type)
    if size is not None:
        n = int(size.group(1))
        return lambda v: v + b"\0" * (32 - len(v)) if type(v) is bytes and len(v) <= n else None
    return None


# addresses eth_abi has encoded (a checksummed or lower-case hex string -> its word)
_ADDRESS_WORDS: dict[str, bytes] = {}


def static_encoder(inputs: list[str]) -> Callable[[tuple], bytes]:
    """Arguments -> abi_encode(inputs, args), the same bytes, built once per list of types:
    static one-word types written directly (eth_abi's generic encoder was most of the Python
    time of sending a transaction on revm); any other type, or a value the direct writer does
    not take (`_word_writer`), goes through eth_abi, which also raises for invalid values."""
    writers = [_word_writer(t) for t in inputs]

    def general(args: tuple) -> bytes:
        out = abi_encode(inputs, list(args))
        for t, v, i in zip(inputs, args, range(len(args))):
            if t == "address" and type(v) is str:
                _ADDRESS_WORDS[v] = out[32 * i : 32 * i + 32]
        return out

    if any(w is None for w in writers):
        return lambda args: abi_encode(inputs, list(args))
    direct: list[Callable[[Any], bytes | None]] = writers  # type: ignore[assignment]

    def encode(args: tuple) -> bytes:
        if len(args) != len(direct):
            return general(args)
        words = [write(v) for write, v in zip(direct, args)]
        if None in words:
            return general(args)
        return b"".join(words)  # type: ignore[arg-type]

    return encode


def return_decoder(outputs: list[str]) -> Callable[[bytes], Any]:
    """A function's return data -> the value as `views` returns it: one output -> that value, a
    struct -> a tuple, several outputs -> a tuple of them."""
    decode = _static_decoder(outputs)
    if len(outputs) != 1:
        return decode
    read = _word_reader(outputs[0])
    if read is not None:  # the common case: one plain word
        return lambda data: read(data) if len(data) == 32 else decode(data)[0]
    return lambda data: decode(data)[0]


def abi_type_of(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(abi_type_of(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return param["type"]


def python_value(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, (tuple, list)):
        return tuple(
            to_checksum_address(v)
            if isinstance(v, str) and v.startswith("0x") and len(v) == 42
            else v
            for v in value
        )
    return value


_ADDRESSES: dict[bytes, str] = {}
ADDRESSES_HEX: dict[str, str] = {}


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


def decode_results(raw: bytes) -> list[bytes]:
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


def revert_reason(data: bytes) -> str | None:
    """A revert's reason string from its return data (`Error(string)`); None for any other
    revert (an arithmetic check, a bare `raise`)."""
    if data[:4] == _ERROR_SELECTOR:
        return abi_decode(["string"], data[4:])[0]
    return None


class ContractAbi:
    """The deployed contracts' ABIs as an EVM backend uses them: a function of the contract at an
    address (`names` maps addresses to contract names), a log decoded into an `Event`, and the
    BatchReader's requests for a list of reads, each encoded once."""

    # the BatchReader takes at most this many calls in one read (contracts/BatchReader.vy)
    READ_CHUNK = 2048

    def __init__(self, artifacts: dict[str, tuple[list[dict], str]]):
        self.artifacts = artifacts
        self.names: dict[str, str] = {}
        self._functions: dict[str, dict[str, AbiFunction]] = {}
        self._read_cache: dict[tuple, list[tuple[bytes, list[AbiFunction]]]] = {}
        self._call_cache: dict[tuple, tuple[bytes, AbiFunction]] = {}
        # topic -> (event name, argument names indexed then not, their decoders)
        self._events: dict[
            bytes, tuple[str, list[str], Callable[[bytes], tuple], Callable[[bytes], tuple]]
        ] = {}
        for abi, _ in artifacts.values():
            for item in abi:
                if item["type"] == "event":
                    params = [(i["name"], abi_type_of(i), i["indexed"]) for i in item["inputs"]]
                    topic = keccak(text=f"{item['name']}({','.join(t for _, t, _ in params)})")
                    indexed = [(n, t) for n, t, i in params if i]
                    plain = [(n, t) for n, t, i in params if not i]
                    # an indexed value is one word (its topic)
                    self._events[topic] = (
                        item["name"],
                        [n for n, _ in indexed + plain],
                        _static_decoder([t for _, t in indexed]),
                        _static_decoder([t for _, t in plain]),
                    )

    def _function(self, address: str, function: str, arguments: int) -> AbiFunction:
        """The function `function` of the contract at `address` that takes `arguments` inputs
        (a Vyper default argument makes one ABI entry per count: active_auctions(),
        active_auctions(uint256))."""
        functions = self._functions.get(address)
        if functions is None:
            functions = {}
            for item in self.artifacts[self.names[address]][0]:
                if item["type"] == "function":
                    inputs = [abi_type_of(i) for i in item["inputs"]]
                    functions[f"{item['name']}/{len(inputs)}"] = AbiFunction(
                        keccak(text=f"{item['name']}({','.join(inputs)})")[:4],
                        inputs,
                        [abi_type_of(o) for o in item["outputs"]],
                    )
            self._functions[address] = functions
        found = functions.get(f"{function}/{arguments}")
        if found is None:
            counts = sorted(int(k.split("/")[1]) for k in functions if k.split("/")[0] == function)
            name = self.names[address]
            if not counts:
                raise ValueError(f"{name} has no function {function}")
            takes = " or ".join(map(str, counts))
            raise ValueError(f"{name}.{function} takes {takes} arguments, given {arguments}")
        return found

    def calldata(self, address: str, function: str, *args: Any) -> bytes:
        """The calldata of `function(*args)` on the contract at `address` (what a Timelock
        proposal carries)."""
        return self._calldata(address, function, args)[0]

    def _calldata(self, address: str, function: str, args: tuple) -> tuple[bytes, AbiFunction]:
        fn = self._function(address, function, len(args))
        return fn.selector + fn.encode_inputs(args), fn

    def constructor_data(self, name: str, args: tuple) -> bytes:
        """Deployment bytecode of contract `name` with its constructor arguments."""
        abi, bytecode = self.artifacts[name]
        ctor = next((i for i in abi if i["type"] == "constructor"), {"inputs": []})
        return bytes.fromhex(bytecode.removeprefix("0x")) + abi_encode(
            [abi_type_of(i) for i in ctor["inputs"]], list(args)
        )

    def _deployed(self, address: str, name: str) -> None:
        """`name` now lives at `address`. After a snapshot revert another contract may have lived
        there: then its ABI and every cached encoding of a call to it are dropped."""
        if self.names.get(address, name) != name:
            self._functions.pop(address, None)
            self._read_cache.clear()
            self._call_cache = {k: v for k, v in self._call_cache.items() if k[0] != address}
        self.names[address] = name

    def _event(self, address: str, topics: list[bytes], data: bytes) -> Event:
        """A log (emitter, topics, data) as an `Event`."""
        name, names, decode_indexed, decode_plain = self._events[topics[0]]
        values = decode_indexed(b"".join(topics[1:])) + decode_plain(data)
        return Event(address, name, dict(zip(names, values)))

    def _read_requests(
        self, calls: list[tuple[str, str, tuple]], cache: bool
    ) -> list[tuple[bytes, list[AbiFunction]]]:
        """The BatchReader calldata for `calls` (address, getter, args), in chunks the reader
        takes, each with the functions that decode its results. With `cache`, kept for the next
        identical list of reads."""
        key = tuple(calls)
        requests = self._read_cache.get(key) if cache else None
        if requests is None:
            prepared = [self._encoded_call(a, f, args) for a, f, args in calls]
            requests = []
            for start in range(0, len(prepared), self.READ_CHUNK):
                chunk = prepared[start : start + self.READ_CHUNK]
                data = _READ_SELECTOR + _encode_tails([tail for tail, _ in chunk])
                requests.append((data, [fn for _, fn in chunk]))
            if cache:
                if len(self._read_cache) > 32:  # reads that vary (a simulation's) must not pile up
                    self._read_cache.clear()
                self._read_cache[key] = requests
        return requests

    def _encoded_call(self, address: str, function: str, args: tuple) -> tuple[bytes, AbiFunction]:
        """(the BatchReader's encoding of the call, function) of one read, encoded once per
        distinct read."""
        key = (address, function, args)
        hit = self._call_cache.get(key)
        if hit is None:
            data, fn = self._calldata(address, function, args)
            hit = (_call_tail(bytes.fromhex(address[2:]), data), fn)
            self._call_cache[key] = hit
        return hit


class CalldataReader:
    """Calldata sent to a deployed contract -> (function name, arguments, whether the function
    only reads) as the contract decodes ABI-standard calldata (addresses checksummed, arrays and
    structs as tuples): how the model runs the calls a
    Timelock proposal carries (offchain/model/timelock.py, through `Env.calldata`). `names` is
    the model's address -> contract name (ModelBackend.names, shared); `abis` each contract
    name's ABI. Where the contract would revert without a reason (no function has the selector,
    or the data does not decode), Revert(None)."""

    def __init__(self, abis: dict[str, list[dict]], names: dict[str, str]):
        self.names = names
        self.functions: dict[str, dict[bytes, tuple[str, list[str], bool]]] = {}
        for name, abi in abis.items():
            table = self.functions[name] = {}
            for item in abi:
                if item.get("type") != "function":
                    continue
                types = [abi_type_of(i) for i in item["inputs"]]
                selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
                reads_only = item.get("stateMutability") in ("view", "pure")
                table[selector] = (item["name"], types, reads_only)

    def __deepcopy__(self, memo: dict) -> CalldataReader:
        # the ABI tables never change: a copy of the model shares them, with its own names
        import copy

        new = CalldataReader.__new__(CalldataReader)
        new.functions = self.functions
        new.names = copy.deepcopy(self.names, memo)
        return new

    def __call__(self, address: str, data: bytes) -> tuple[str, tuple, bool]:
        from offchain.model.errors import Revert

        name = self.names.get(address)
        if name not in self.functions:
            raise ValueError(
                f"no ABI for the contract at {address} ({name}): the model cannot read a call to it"
            )
        found = self.functions[name].get(bytes(data[:4]))
        if found is None or len(data) < 4:
            raise Revert(None)
        function, types, reads_only = found
        try:
            values = abi_decode(types, bytes(data[4:]))
        except (DecodingError, ValueError):  # what a Vyper contract refuses to decode
            raise Revert(None) from None
        return function, tuple(_checksummed(v) for v in values), reads_only


def _checksummed(value: Any) -> Any:
    """eth_abi's decoded value with every address checksummed, at any depth; lists as tuples."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    if isinstance(value, (tuple, list)):
        return tuple(_checksummed(v) for v in value)
    return value
