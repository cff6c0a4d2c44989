"""A Hardhat devnet's journal (offchain/live/hardhat_devnet.py keeps it, hardhat_replay.js
replays it): the file's format, its reader, and a block's transactions as journal entries.

JSON lines: a header (`format`, `version`, `node`, `chain_id`, `genesis_timestamp`,
`genesis_hash`), then one line per block from block 1, in order: `number`, `timestamp`, `hash`,
`state_root`, `transactions` (each with `hash`, `from`, `to`, `input`, `value`, `gas`, `nonce`,
`type`, its fees, and `raw`, the signed bytes, for a transaction that was signed), and for a block
with senders `balances` (each sender's balance before the block) and, where a sender already had
it blocks earlier, `balances_from` (the block before which to set it). A last line without its
newline is one a kill cut short: it is dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rlp
from eth_utils import keccak

JOURNAL_FORMAT = "backstop-devnet-journal"
JOURNAL_VERSION = 1


class JournalError(ValueError):
    """A file that is not a devnet journal, or a journal whose replay diverged (one line)."""


@dataclass
class Journal:
    """A devnet journal read from its file (see the module docstring)."""

    header: dict[str, Any]
    blocks: list[dict[str, Any]] = field(default_factory=list)
    torn: bool = False  # the last line was cut short (a kill during an append): dropped

    @property
    def genesis_time(self) -> int:
        return int(self.header["genesis_timestamp"])

    @property
    def head(self) -> int:
        return self.blocks[-1]["number"] if self.blocks else 0


_BLOCK_KEYS = ("number", "timestamp", "hash", "state_root", "transactions")


def read_journal(path: Path) -> Journal:
    """The journal at `path`; JournalError (the reason, a few words) if it is not one."""
    if path.is_dir():
        raise JournalError("a directory")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise JournalError(exc.strerror or "unreadable") from None
    lines = data.split(b"\n")
    torn = bool(lines[-1])  # a complete journal ends with a newline
    complete = [line for line in lines[:-1] if line.strip()]
    if not complete:
        raise JournalError("empty" if not data.strip() else "not JSON lines")
    try:
        header = json.loads(complete[0])
    except ValueError:
        raise JournalError("not JSON lines") from None
    if not isinstance(header, dict) or header.get("format") != JOURNAL_FORMAT:
        if isinstance(header, dict) and "accounts" in header:
            raise JournalError("an Anvil state file: start it with --node anvil")
        raise JournalError("no journal header")
    if header.get("version") != JOURNAL_VERSION:
        raise JournalError(f"journal version {header.get('version')!r}, not {JOURNAL_VERSION}")
    if not isinstance(header.get("genesis_timestamp"), int):
        raise JournalError("no genesis time in its header")
    journal = Journal(header, torn=torn)
    expected = 1
    for k, line in enumerate(complete[1:], start=2):
        try:
            block = json.loads(line)
        except ValueError:
            raise JournalError(f"line {k} is not JSON") from None
        if not isinstance(block, dict) or any(key not in block for key in _BLOCK_KEYS):
            raise JournalError(f"line {k} is not a block")
        if block["number"] != expected:
            raise JournalError(f"line {k} is block {block['number']}, expected {expected}")
        expected += 1
        journal.blocks.append(block)
    return journal


def journal_line(entry: dict[str, Any]) -> bytes:
    return (json.dumps(entry, separators=(",", ":")) + "\n").encode()


# ---------------------------------------------------------------- transactions


def quantity(value: Any) -> int:
    """A JSON-RPC quantity (hex) or a number, as an int."""
    return int(value, 16) if isinstance(value, str) else int(value or 0)


def _bytes(value: str | None) -> bytes:
    return bytes.fromhex((value or "0x").removeprefix("0x"))


def _impersonated(tx: dict[str, Any]) -> bool:
    """Hardhat signs an impersonated transaction with r = s = the sender's address."""
    sender = quantity(tx["from"])
    return quantity(tx.get("r")) == sender and quantity(tx.get("s")) == sender


def raw_transaction(tx: dict[str, Any]) -> str | None:
    """A signed transaction (`eth_getTransactionByHash`'s fields) encoded as it was sent, if its
    hash says the encoding is exact; None otherwise (an impersonated one, an unknown type)."""
    if _impersonated(tx):
        return None
    kind = quantity(tx.get("type"))
    to = _bytes(tx.get("to"))
    access = [
        [_bytes(a["address"]), [_bytes(k) for k in a.get("storageKeys", [])]]
        for a in tx.get("accessList") or []
    ]
    common = [quantity(tx["gas"]), to, quantity(tx["value"]), _bytes(tx["input"])]
    signature = [quantity(tx["r"]), quantity(tx["s"])]
    parity = quantity(tx.get("yParity", tx.get("v")))
    if kind == 0:
        fields = [quantity(tx["nonce"]), quantity(tx["gasPrice"]), *common, quantity(tx["v"])]
        prefix = b""
    elif kind == 1:
        fields = [
            quantity(tx["chainId"]),
            quantity(tx["nonce"]),
            quantity(tx["gasPrice"]),
            *common,
            access,
        ]
        fields.append(parity)
        prefix = b"\x01"
    elif kind == 2:
        fees = [quantity(tx["maxPriorityFeePerGas"]), quantity(tx["maxFeePerGas"])]
        fields = [quantity(tx["chainId"]), quantity(tx["nonce"]), *fees, *common, access, parity]
        prefix = b"\x02"
    else:
        return None
    body = prefix + bytes(rlp.encode(fields + signature))  # type: ignore[arg-type]
    if "0x" + keccak(body).hex() != tx["hash"]:
        return None
    return "0x" + body.hex()


_TX_FIELDS = (
    "hash",
    "from",
    "to",
    "input",
    "value",
    "gas",
    "nonce",
    "type",
    "gasPrice",
    "maxFeePerGas",
    "maxPriorityFeePerGas",
)


def journal_transaction(tx: dict[str, Any]) -> dict[str, Any]:
    entry = {k: tx[k] for k in _TX_FIELDS if tx.get(k) is not None}
    raw = raw_transaction(tx)
    if raw is not None:
        entry["raw"] = raw
    return entry


__all__ = [
    "JOURNAL_FORMAT",
    "JOURNAL_VERSION",
    "Journal",
    "JournalError",
    "journal_line",
    "journal_transaction",
    "quantity",
    "raw_transaction",
    "read_journal",
]
