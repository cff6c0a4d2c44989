"""An Anvil state file's blocks: which block 0 is its chain's genesis, and the stand-ins to drop.

Anvil (1.7.1) started with `--load-state FILE` first builds a genesis block of its own, stamped
with the wall clock, then loads the file's blocks beside it: its block 0 is the file's (the last
block 0 the file lists), but the stand-in stays in its block store, and `anvil_dumpState` dumps
it too. A devnet that wrote that dump as its state file held two blocks 0 after its first
restart, one more after each later one, and a load took whichever came last in the file, which
is the order of Anvil's hash map: the chain came back with another genesis, so its deployment
record (named by the genesis) was not found, and the devnet deployed Backstop again on top of
the kept chain (issue 74).

So the devnet writes its state with the chain's own genesis only (`keep_genesis`, each write)
and, at start, tells a file's genesis from the stand-ins an older devnet wrote (`genesis_of`:
the block 0 that is block 1's parent, by the hash of its header) and drops them before Anvil
loads it. Dropped is only what Anvil made up: an empty block 0 that no block follows.
"""

from __future__ import annotations

import json
from typing import Any

import rlp
from eth_utils import keccak

# an Ethereum block header's fields in their RLP order (the names of Anvil's serialized header
# and of eth_getBlockByNumber); from baseFeePerGas on, each is there from its fork on
_HEADER = (
    "parentHash",
    "sha3Uncles",
    "miner",
    "stateRoot",
    "transactionsRoot",
    "receiptsRoot",
    "logsBloom",
    "difficulty",
    "number",
    "gasLimit",
    "gasUsed",
    "timestamp",
    "extraData",
    "mixHash",
    "nonce",
    "baseFeePerGas",
    "withdrawalsRoot",
    "blobGasUsed",
    "excessBlobGas",
    "parentBeaconBlockRoot",
    "requestsHash",
)
_QUANTITIES = frozenset(
    {
        "difficulty",
        "number",
        "gasLimit",
        "gasUsed",
        "timestamp",
        "baseFeePerGas",
        "blobGasUsed",
        "excessBlobGas",
    }
)


class StateFileError(ValueError):
    """A state file whose chain cannot be told (one line)."""


def _number(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def header_hash(header: dict[str, Any]) -> str:
    """The block hash of a header as Anvil serializes it (keccak of its RLP). ValueError: a field
    this code does not know (a later fork's), whose place in the RLP it cannot tell."""
    unknown = set(header) - set(_HEADER)
    if unknown:
        raise ValueError(f"header fields this code cannot hash: {', '.join(sorted(unknown))}")
    items: list[Any] = []
    for name in _HEADER:
        value = header.get(name)
        if value is None:
            continue
        if name in _QUANTITIES:
            items.append(_number(value))
        else:
            items.append(bytes.fromhex(str(value).removeprefix("0x")))
    return "0x" + keccak(rlp.encode(items)).hex()


def _blocks(state: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = state.get("blocks")
    return blocks if isinstance(blocks, list) else []


def block_zeros(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The state's blocks numbered 0 (its genesis, and the stand-ins of older devnets)."""
    return [b for b in _blocks(state) if _number(b["header"]["number"]) == 0]


def genesis_of(state: dict[str, Any]) -> dict[str, Any] | None:
    """The state's genesis block (serialized), or None when it lists no block 0 (a dump of an
    Anvil older than block dumps, or of a fork). Several blocks 0: the one block 1 was mined on
    (its parent hash); with no block 1, the earliest (the stand-ins are stamped at later
    starts). StateFileError: none of them is block 1's parent."""
    zeros = block_zeros(state)
    if len(zeros) <= 1:
        return zeros[0] if zeros else None
    ones = [b for b in _blocks(state) if _number(b["header"]["number"]) == 1]
    if not ones:
        return min(zeros, key=lambda b: (_number(b["header"]["timestamp"]), json.dumps(b)))
    parent = str(ones[0]["header"]["parentHash"]).lower()
    try:
        found = [b for b in zeros if header_hash(b["header"]) == parent]
    except ValueError as exc:
        raise StateFileError(f"{len(zeros)} blocks numbered 0, and {exc}") from None
    if not found:
        raise StateFileError(
            f"{len(zeros)} blocks numbered 0, none of them block 1's parent {parent[:12]}…"
        )
    return found[0]


def keep_genesis(data: bytes, state: dict[str, Any], genesis: dict[str, Any]) -> tuple[bytes, int]:
    """(`data` without every block 0 of `state` but `genesis`, how many were dropped); `state`
    is what `data`, Anvil's compact JSON, parses to. Each stand-in is cut out where its compact
    JSON stands (a state file grows to tens of MB, which Python serializes slowly); where it
    cannot be found once and only once, the state is serialized again without them."""
    drop = [b for b in block_zeros(state) if b is not genesis]
    for block in drop:
        text = json.dumps(block, separators=(",", ":")).encode()
        at = data.find(text)
        if at < 0 or data.find(text, at + 1) >= 0:
            break
        end = at + len(text)
        if data[at - 1 : at] == b",":
            at -= 1
        elif data[end : end + 1] == b",":
            end += 1
        data = data[:at] + data[end:]
    else:
        return data, len(drop)
    kept = [b for b in _blocks(state) if b is genesis or _number(b["header"]["number"]) != 0]
    return json.dumps({**state, "blocks": kept}, separators=(",", ":")).encode(), len(drop)


def same_block(header: dict[str, Any], block: dict[str, Any]) -> bool:
    """A serialized header and a node's block (eth_getBlockByNumber) are the same block: every
    field of the header has the block's value (quantities compared as numbers). No hashing, so
    a field a later fork adds compares as the others do."""
    for name, value in header.items():
        other = block.get(name)
        if other is None:
            return False
        if name in _QUANTITIES or name not in _HEADER:
            try:
                if _number(value) != _number(other):
                    return False
                continue
            except (TypeError, ValueError):
                pass
        if str(value).lower() != str(other).lower():
            return False
    return True
