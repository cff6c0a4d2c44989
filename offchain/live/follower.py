"""What a bot knows from events, built from the node's logs and checkpointed to disk.

`Follower` reads the logs of the deployment's contracts block range by block range from the
deployment block on and folds them into `Watched`: one `VaultIndex` per collateral type (the
simulator's, from VaultModified / VaultSeized), the closed losses the backstop operator still
has to cover (LossClosed), the running debt auctions (Started / Finished) and the stability pool's
stakers (Activated). It remembers the
hash of the last block it processed: if that block is no longer on the chain (a reorg, a node
restarted from an older state), it starts over from the deployment block, so what it knows is
always what the current chain says.

`Checkpoint` writes it all (and the transaction manager's pending transactions and the bot's
counters) atomically to a JSON file, which a restarted bot resumes from.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from offchain.backends import ChainBackend
from offchain.live.node import Node
from offchain.live.txs import Pending
from offchain.model.state import Event
from offchain.sim.strategies.keepers import VaultIndex
from offchain.sim.strategies.observe import VAULT_EVENTS, BackstopWatch
from offchain.system.deployment import Deployment
from offchain.system.outputs import describe_json

CHECKPOINT_VERSION = 2  # 2: closed losses kept per collateral type (auction ids count per type)
LOG_RANGE = 2_000  # blocks per eth_getLogs request


@dataclass
class Watched:
    """What the events said, up to `last_block`."""

    indexes: dict[str, VaultIndex]  # type name -> its vaults
    # type name -> its closed losses not yet seen done (auction ids: one numbering per auction)
    losses: dict[str, set[int]] = field(default_factory=dict)
    debt_auctions: set[int] = field(default_factory=set)  # running debt auctions
    stakers: set[str] = field(default_factory=set)  # stability-pool stakers with shares, ever
    last_block: int = -1
    last_hash: str = ""

    def backstop_watch(self, name: str) -> BackstopWatch:
        """What the backstop keeper reads for type `name`: its closed losses, and the running
        debt auctions (Backstop-wide)."""
        return BackstopWatch(sorted(self.losses.get(name, ())), sorted(self.debt_auctions))

    def to_json(self) -> dict[str, Any]:
        return {
            "last_block": self.last_block,
            "last_hash": self.last_hash,
            "vaults": {
                name: [[o, c, d] for o, (c, d) in sorted(ix.vaults.items())]
                for name, ix in self.indexes.items()
            },
            "losses": {name: sorted(ids) for name, ids in self.losses.items() if ids},
            "debt_auctions": sorted(self.debt_auctions),
            "stakers": sorted(self.stakers),
        }

    @classmethod
    def fresh(cls, d: Deployment) -> Watched:
        return cls({name: VaultIndex(t.type_id) for name, t in d.types.items()})

    @classmethod
    def from_json(cls, d: Deployment, data: dict[str, Any]) -> Watched:
        w = cls.fresh(d)
        for name, rows in data["vaults"].items():
            ix = w.indexes[name]
            for owner, c, debt in rows:
                ix.apply_args(
                    {
                        "collateral_type": ix.type_id,
                        "owner": owner,
                        "delta_collateral": c,
                        "delta_normalized_debt": debt,
                    }
                )
        w.losses = {name: set(ids) for name, ids in data["losses"].items()}
        w.debt_auctions = set(data["debt_auctions"])
        w.stakers = set(data["stakers"])
        w.last_block, w.last_hash = data["last_block"], data["last_hash"]
        return w


class Follower:
    def __init__(self, chain: ChainBackend, node: Node, d: Deployment, start_block: int):
        self.chain, self.node, self.d, self.start_block = chain, node, d, start_block
        self.by_type = {t.type_id: name for name, t in d.types.items()}
        wanted = {
            d.engine: VAULT_EVENTS,
            d.backstop: ("LossClosed",),
            d.debt_auction: ("Started", "Finished"),
            d.stability_pool: ("Activated",),
        }
        self.addresses = list(wanted)
        names = {n for ns in wanted.values() for n in ns}
        self.topics = [
            "0x" + topic.hex() for topic, (name, *_) in chain._events.items() if name in names
        ]
        self.wanted = wanted
        self.watched = Watched.fresh(d)
        self.rebuilds = 0

    def on_chain(self) -> bool:
        """Is the last processed block still the chain's block at that height?"""
        w = self.watched
        if w.last_block < self.start_block:
            return True
        block = self.node.block(w.last_block)
        return block is not None and block["hash"] == w.last_hash

    def catch_up(self, head: int) -> bool:
        """Fold in every block up to `head`; True if the chain had changed under what was
        processed (everything is then read again from the deployment block)."""
        rebuilt = False
        if not self.on_chain():
            self.watched = Watched.fresh(self.d)
            self.rebuilds += 1
            rebuilt = True
        w = self.watched
        start = max(w.last_block + 1, self.start_block)
        while start <= head:
            end = min(start + LOG_RANGE - 1, head)
            logs = self.node.rpc(
                "eth_getLogs",
                [
                    {
                        "fromBlock": hex(start),
                        "toBlock": hex(end),
                        "address": self.addresses,
                        "topics": [self.topics],
                    }
                ],
            )
            logs.sort(key=lambda x: (int(x["blockNumber"], 16), int(x["logIndex"], 16)))
            for log in logs:
                self.apply(self.chain._decode_log(log))
            block = self.node.block(end)
            if block is None:  # the chain went back while we read: start over next time
                return rebuilt
            w.last_block, w.last_hash = end, block["hash"]
            start = end + 1
        return rebuilt

    def apply(self, e: Event) -> None:
        w, d = self.watched, self.d
        if e.address == d.engine and e.name in VAULT_EVENTS:
            name = self.by_type.get(e.args["collateral_type"])
            if name is not None:
                w.indexes[name].apply_args(e.args)
        elif e.address == d.backstop and e.name == "LossClosed":
            name = self.by_type.get(e.args["collateral_type"])
            if name is not None:
                w.losses.setdefault(name, set()).add(e.args["auction_id"])
        elif e.address == d.debt_auction and e.name == "Started":
            w.debt_auctions.add(e.args["auction_id"])
        elif e.address == d.debt_auction and e.name == "Finished":
            w.debt_auctions.discard(e.args["auction_id"])
        elif e.address == d.stability_pool and e.name == "Activated":
            w.stakers.add(e.args["staker"])


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used (one line)."""


# a bot's checkpoint: its fields and the JSON each must be (checked on load, so that a field of
# another kind is named, not the Python error it caused: `"watched": "x"` was "TypeError: string
# indices must be integers, not 'str'")
_CHECKPOINT_FIELDS = {
    "watched": dict,
    "watched.last_block": int,
    "watched.last_hash": str,
    "watched.vaults": dict,
    "watched.losses": dict,
    "watched.debt_auctions": list,
    "watched.stakers": list,
    "pending": list,
    "state": dict,
    "metrics": dict,
}
_JSON_KINDS = {dict: "a JSON object", list: "a JSON list", int: "an integer", str: "a string"}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return "a number"
    return _JSON_KINDS.get(type(value), type(value).__name__)


def checkpoint_problem(data: dict[str, Any]) -> str | None:
    """Which of a checkpoint's fields is missing or of another kind (`"watched" must be a JSON
    object, not a string`), or None."""
    for name, kind in _CHECKPOINT_FIELDS.items():
        value: Any = data
        for part in name.split("."):
            value = value.get(part, ...) if isinstance(value, dict) else ...
        if value is ...:
            return f'no "{name}" field'
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return f'"{name}" must be {_JSON_KINDS[kind]}, not {_kind(value)}'
    reverts = data.get("reverts_by_reason", {})
    if not isinstance(reverts, dict):
        return f'"reverts_by_reason" must be a JSON object, not {_kind(reverts)}'
    return _entries_problem(data)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# a pending transaction's fields (txs.Pending) and the JSON each must be
_PENDING_FIELDS = {
    "nonce": _is_int,
    "to": lambda v: isinstance(v, str),
    "data": lambda v: isinstance(v, str),
    "gas": _is_int,
    "label": lambda v: isinstance(v, str),
    "targets": lambda v: isinstance(v, list) and all(isinstance(t, list) for t in v),
}
# (optional: a field a bot always writes, but absent its default)
_PENDING_OPTIONAL = {
    "hashes": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "raws": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "fees": lambda v: (
        isinstance(v, list)
        and all(isinstance(x, list) and len(x) == 2 and all(_is_int(y) for y in x) for x in v)
    ),
    "sent_block": _is_int,
    "sent_at": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "retries": _is_int,
    "unseen": _is_int,
}


_PENDING_FIELD_NAMES = tuple(f.name for f in fields(Pending))


def _entries_problem(data: dict[str, Any]) -> str | None:
    """The first entry inside a checkpoint's fields that is not what a bot writes (a vault row
    `[owner, collateral, debt]` of another shape, a pending transaction without its nonce): named
    with where it is, not the Python error it caused (a ValueError traceback, or "KeyError:
    'nonce'")."""
    watched = data["watched"]
    for name, rows in watched["vaults"].items():
        if not isinstance(rows, list):
            return f'"watched.vaults.{name}" must be a JSON list, not {_kind(rows)}'
        for i, row in enumerate(rows):
            shaped = isinstance(row, list) and len(row) == 3
            if not (shaped and isinstance(row[0], str) and _is_int(row[1]) and _is_int(row[2])):
                return (
                    f'"watched.vaults.{name}"[{i}] must be [owner, collateral, normalized debt] '
                    "(a string and two integers)"
                )
    for name, ids in watched["losses"].items():
        if not (isinstance(ids, list) and all(_is_int(x) for x in ids)):
            return f'"watched.losses.{name}" must be a JSON list of integers'
    for key, ok in (("debt_auctions", _is_int), ("stakers", lambda v: isinstance(v, str))):
        if not all(ok(x) for x in watched[key]):
            kind = "integers" if key == "debt_auctions" else "strings"
            return f'"watched.{key}" must be a JSON list of {kind}'
    for i, row in enumerate(data["pending"]):
        if not isinstance(row, dict):
            return f'"pending"[{i}] must be a JSON object, not {_kind(row)}'
        for key, ok in _PENDING_FIELDS.items():
            if not ok(row.get(key)):
                return f'"pending"[{i}] has no valid "{key}"'
        for key, ok in _PENDING_OPTIONAL.items():
            if key in row and not ok(row[key]):
                return f'"pending"[{i}] has no valid "{key}"'
        unknown = sorted(set(row) - set(_PENDING_FIELD_NAMES))
        if unknown:
            return f'"pending"[{i}] has an unknown field "{unknown[0]}"'
    flash = data["state"].get("flash_takers", {})
    if not (isinstance(flash, dict) and all(isinstance(a, str) for a in flash.values())):
        return '"state.flash_takers" must be a JSON object of addresses'
    for name, value in data["metrics"].items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            return f'"metrics.{name}" must be a number, not {_kind(value)}'
    return None


class Checkpoint:
    """One bot's state on disk: written to a temporary file and renamed over the old one, so a
    crash mid-write leaves the previous checkpoint. `role`: the bot's; a checkpoint another role
    wrote is refused (a backstop bot given a liquidator's resumed it and wrote it as its own)."""

    def __init__(self, path: Path, chain_id: int, deployment_hash: str, role: str | None = None):
        self.path, self.chain_id, self.deployment_hash = path, chain_id, deployment_hash
        self.role = role

    def load(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        if self.path.is_dir():
            raise CheckpointError(f"{self.path} is a directory, not a checkpoint file")
        try:
            data = json.loads(self.path.read_text())
        except ValueError:  # a binary file too (UnicodeDecodeError)
            raise CheckpointError(f"{self.path}: not a JSON checkpoint") from None
        except OSError as exc:
            raise CheckpointError(f"{self.path}: cannot read ({exc.strerror or exc})") from None
        if not isinstance(data, dict):  # `[1, 2]`: an AttributeError traceback before
            raise CheckpointError(f"{self.path}: not a checkpoint (a JSON {type(data).__name__})")
        if "contracts" in data and "code_hashes" in data:
            # it was "checkpoint version 1 ... delete it": the advice deleted the user's record
            raise CheckpointError(
                f"{self.path}: a deployment record, not a checkpoint (give it as --deployment, "
                "and the bot's own --checkpoint file)"
            )
        kind = describe_json(data)
        if kind is not None and kind != "a keeper bot's checkpoint":
            # another of Backstop's files (a fuzz record, a sweep's): "delete it" was the advice
            raise CheckpointError(
                f"{self.path}: {kind}, not a checkpoint (give the bot its own --checkpoint file)"
            )
        if "version" not in data:
            raise CheckpointError(
                f"{self.path}: not a checkpoint (no version; give the bot its own --checkpoint "
                "file)"
            )
        if data.get("version") != CHECKPOINT_VERSION:
            raise CheckpointError(
                f"{self.path}: checkpoint version {data.get('version')!r}, this bot writes "
                f"{CHECKPOINT_VERSION} (delete it to start over: the bot reads the chain again)"
            )
        if data.get("chain_id") != self.chain_id or data.get("deployment") != self.deployment_hash:
            raise CheckpointError(
                f"{self.path}: a checkpoint of another chain or deployment (delete it to start "
                "over)"
            )
        written_by = data.get("role")
        if self.role is not None and written_by is not None and written_by != self.role:
            raise CheckpointError(
                f"{self.path}: the checkpoint of a {written_by} bot, not of this {self.role} bot "
                "(give this bot its own --checkpoint)"
            )
        problem = checkpoint_problem(data)
        if problem:
            raise CheckpointError(
                f"{self.path}: a checkpoint this bot cannot read ({problem}; delete it to start "
                "over: the bot reads the chain again)"
            )
        return data

    def save(self, body: dict[str, Any]) -> None:
        data = {
            "version": CHECKPOINT_VERSION,
            "chain_id": self.chain_id,
            "deployment": self.deployment_hash,
            **body,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path)
