"""ABI encoding and decoding for the chain backend, written out for speed: return data, event
data and the BatchReader's batched calls (see chain.ChainBackend.views)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

_READER_ADDRESS = "0x00000000000000000000000000000000000BA7C4"
_READ_SELECTOR = keccak(text="read((address,bytes)[])")[:4]


@dataclass
class _Function:
    selector: bytes
    inputs: list[str]
    outputs: list[str]
    # return data -> the value (see _return_decoder); built from `outputs` unless given
    decoder: Callable[[bytes], Any] | None = None

    def __post_init__(self) -> None:
        self.decode: Callable[[bytes], Any] = self.decoder or _return_decoder(self.outputs)


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
            to_checksum_address(v)
            if isinstance(v, str) and v.startswith("0x") and len(v) == 42
            else v
            for v in value
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
