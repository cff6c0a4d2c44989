"""The deployment record, `deployments/<chain id>-<genesis>.json` (record_path): what was deployed
where, written once by `ape run deploy` (and `make devnet`) and read by every later command (the
bots, the market driver, `ape run reconcile`, `ape run deploy --verify`).

It holds the chain id and the node's genesis block hash (Anvil and Hardhat devnets both have
chain id 31337, and the same dev accounts deploy to the same addresses on both: only the genesis
tells them apart), the deployment's first and last block and its transaction hashes, the
configuration (its text and sha256) and every contract's address and runtime code hash, and
the roles and their accounts. `verify` holds it against a node: same chain id, and every
contract's code on the node hashing to what the record says. A record that does not match is
refused with one line (`RecordError`): bots never act on a chain they were not deployed for.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import keccak

from offchain.live.node import Node
from offchain.system.config import ConfigError, SystemConfig, parse_config
from offchain.system.deployment import Deployment, TypeDeployment
from offchain.system.files import directory_named
from offchain.system.outputs import describe_json

RECORD_VERSION = 1
DEFAULT_DIR = Path("deployments")
# a record's field -> the artifact of the contract it names
CONTRACT_NAMES = {
    "engine": "VaultEngine",
    "stablecoin": "Stablecoin",
    "stable_join": "StableJoin",
    "spotter": "Spotter",
    "fees": "FeeAccumulator",
    "ceiling": "CeilingManager",
    "backstop": "Backstop",
    "liquidator": "Liquidator",
    "governance_token": "GovernanceToken",
    "stability_pool": "StabilityPool",
    "debt_auction": "DebtAuction",
    "surplus_auction": "SurplusAuction",
    "settlement": "GlobalSettlement",
    "margin_call": "MarginCall",
    "token": "TestToken",
    "join": "CollateralJoin",
    "oracle": "PriceOracle",
    "auction": "DutchAuction",
    "pool": "CollateralPool",
}

_CORE = (
    "engine",
    "stablecoin",
    "stable_join",
    "spotter",
    "fees",
    "ceiling",
    "backstop",
    "liquidator",
    "governance_token",
    "stability_pool",
    "debt_auction",
    "surplus_auction",
    "settlement",
    "margin_call",
)
_TYPE = ("token", "join", "oracle", "auction", "pool")


class RecordError(ValueError):
    """A missing, unreadable or mismatched deployment record (one line)."""


def record_path(chain_id: int, genesis: str, directory: Path = DEFAULT_DIR) -> Path:
    """`<chain id>-<genesis>.json`, the genesis block hash's first 8 hex digits: Anvil and Hardhat
    devnets both have chain id 31337, so each chain's record has a name of its own, and a switch
    from one node to the other finds its own record (or none) instead of the other's."""
    return directory / f"{chain_id}-{genesis.removeprefix('0x')[:8]}.json"


def node_record_path(node: Node, directory: Path = DEFAULT_DIR) -> Path:
    """Where the record of the chain the node runs is (record_path of its chain id and genesis)."""
    return record_path(node.chain_id(), genesis_hash(node), directory)


def code_hash(code: bytes) -> str:
    return "0x" + keccak(code).hex()


@dataclass(frozen=True)
class DeploymentRecord:
    chain_id: int
    first_block: int
    last_block: int
    transactions: tuple[str, ...]
    config_text: str
    config_source: str
    roles: dict[str, str]
    core: dict[str, str]  # Deployment field -> address
    types: dict[str, dict[str, str]]  # type name -> TypeDeployment field -> address
    code_hashes: dict[str, str]  # address -> keccak of its runtime code
    extra: dict[str, str]  # label -> address of contracts deployed with it (a FlashTaker)
    path: Path | None = None
    genesis_hash: str = ""  # the node's block 0 hash: which chain of that chain id

    @property
    def config_sha256(self) -> str:
        return hashlib.sha256(self.config_text.encode()).hexdigest()

    @property
    def identity(self) -> str:
        """A short hash of what was deployed where, on which node's chain (its genesis): the
        checkpoints name the record they belong to, and live in a folder of that name."""
        body = json.dumps(
            [self.chain_id, self.genesis_hash, self.first_block, self.core, self.types],
            sort_keys=True,
        )
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def config(self) -> SystemConfig:
        try:
            return parse_config(tomllib.loads(self.config_text), self.config_source)
        except (ConfigError, tomllib.TOMLDecodeError) as exc:
            raise RecordError(f"{self.path}: its configuration does not load: {exc}") from None

    def deployment(self) -> Deployment:
        config = self.config()
        by_name = {c.name: c for c in config.collateral}
        core: dict[str, Any] = dict(self.core)
        d = Deployment(self.roles["governance"], self.roles["feeder"], **core)
        d.timelock = self.extra.get("Timelock", "")  # governance's queue, where the config has one
        for name, fields in self.types.items():
            if name not in by_name:
                raise RecordError(f"{self.path}: type {name} is not in its configuration")
            d.types[name] = TypeDeployment(by_name[name], **fields)
        return d

    def contract_names(self) -> dict[str, str]:
        """address -> artifact name of every contract the record holds (a backend's `names`)."""
        out = {a: CONTRACT_NAMES[k] for k, a in self.core.items()}
        for fields in self.types.values():
            out.update({a: CONTRACT_NAMES[k] for k, a in fields.items()})
        out.update({a: label.split(" ")[0] for label, a in self.extra.items()})
        return out

    def addresses(self) -> dict[str, str]:
        """label -> address of every contract the record holds."""
        d = {**{k: v for k, v in self.core.items()}}
        for name, fields in self.types.items():
            d.update({f"{name}.{k}": v for k, v in fields.items()})
        d.update(self.extra)
        return d

    def to_json(self) -> dict[str, Any]:
        return {
            "version": RECORD_VERSION,
            "chain_id": self.chain_id,
            "genesis_hash": self.genesis_hash,
            "first_block": self.first_block,
            "last_block": self.last_block,
            "config": {
                "source": self.config_source,
                "sha256": self.config_sha256,
                "text": self.config_text,
            },
            "roles": self.roles,
            "contracts": self.core,
            "types": self.types,
            "extra": self.extra,
            "code_hashes": self.code_hashes,
            "transactions": list(self.transactions),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], path: Path | None = None) -> DeploymentRecord:
        if "version" not in data:
            raise RecordError(f"{path}: not a deployment record (no version; {EXPECTED})")
        if data.get("version") != RECORD_VERSION:
            raise RecordError(
                f"{path}: deployment record version {data.get('version')!r}, this code reads "
                f"{RECORD_VERSION} (deploy again: make devnet, or ape run deploy)"
            )
        problem = _shape_problem(data)
        if problem:
            raise RecordError(f"{path}: not a deployment record ({problem})")
        try:
            config = data["config"]
            record = cls(
                int(data["chain_id"]),
                int(data["first_block"]),
                int(data["last_block"]),
                tuple(data["transactions"]),
                config["text"],
                config["source"],
                dict(data["roles"]),
                dict(data["contracts"]),
                {k: dict(v) for k, v in data["types"].items()},
                dict(data["code_hashes"]),
                dict(data.get("extra", {})),
                path,
                str(data.get("genesis_hash") or ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordError(f"{path}: not a deployment record ({exc!r})") from None
        if set(record.core) != set(_CORE) or any(
            set(t) != set(_TYPE) for t in record.types.values()
        ):
            raise RecordError(f"{path}: the record's contracts are not Backstop's")
        if hashlib.sha256(config["text"].encode()).hexdigest() != config["sha256"]:
            raise RecordError(f"{path}: its configuration text does not match its sha256")
        return record

    def write(self, path: Path) -> None:
        """Atomically (a temporary file renamed over the target)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        os.replace(tmp, path)


# a record's fields and the JSON each must be: a field of another kind was named only by the
# Python error it caused (`"contracts": "x"`: "dictionary update sequence element #0 has length
# 1; 2 is required")
_OBJECT, _LIST, _INTEGER, _TEXT = "a JSON object", "a JSON list", "an integer", "a string"
_FIELDS = {
    "chain_id": _INTEGER,
    "first_block": _INTEGER,
    "last_block": _INTEGER,
    "transactions": _LIST + " of transaction hashes",
    "config": _OBJECT + " (text, source, sha256)",
    "roles": _OBJECT + " (role -> address)",
    "contracts": _OBJECT + " (contract -> address)",
    "types": _OBJECT + " (collateral type -> its contracts)",
    "code_hashes": _OBJECT + " (address -> code hash)",
}


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        int: "an integer",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _is(value: Any, kind: str) -> bool:
    if kind.startswith(_OBJECT):
        return isinstance(value, dict)
    if kind.startswith(_LIST):
        return isinstance(value, list)
    if kind == _INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


def _shape_problem(data: dict[str, Any]) -> str | None:
    """Which field of a record's JSON is missing or of another kind than a record's, in the
    user's terms (`"contracts" must be a JSON object (contract -> address), not a string`), or
    None."""
    fields = [(k, data.get(k, ...), kind) for k, kind in _FIELDS.items()]
    fields.append(("extra", data.get("extra", {}), _OBJECT + " (label -> address)"))
    config = data.get("config")
    if isinstance(config, dict):
        fields += [(f"config.{k}", config.get(k, ...), _TEXT) for k in ("text", "source", "sha256")]
    for name in ("roles", "contracts", "code_hashes", "extra"):
        value = data.get(name)
        if isinstance(value, dict):
            fields += [(f"{name}.{k}", v, _TEXT) for k, v in value.items()]
    types = data.get("types")
    if isinstance(types, dict):
        for name, value in types.items():
            fields.append((f"types.{name}", value, _OBJECT + " (contract -> address)"))
            if isinstance(value, dict):
                fields += [(f"types.{name}.{k}", v, _TEXT) for k, v in value.items()]
    transactions = data.get("transactions")
    if isinstance(transactions, list):
        fields += [(f"transactions[{i}]", v, _TEXT) for i, v in enumerate(transactions)]
    for name, value, kind in fields:
        if value is ...:
            return f'no "{name}" field'
        if not _is(value, kind):
            return f'"{name}" must be {kind}, not {_json_kind(value)}'
    return None


# what a deployment record is, for a refusal of something else
EXPECTED = (
    "expected the devnet's record, deployments/<chain id>-<genesis>.json, written by make "
    "devnet or ape run deploy"
)


def record_option_problem(value: str) -> str | None:
    """What is wrong with `--deployment VALUE` (one line), or None: empty (Path("") is the
    current directory: `--deployment ''` was named ". is a directory", or taken as not given
    and the node's default record read), a directory, or not a loadable record. The one check
    of the option for the keeper, reconcile and market."""
    problem = directory_named(value, "a deployment record (.json)")
    if problem:
        return f"--deployment {problem}"
    try:
        load_record(Path(value))
    except RecordError as exc:
        return str(exc)
    return None


def load_record(path: Path) -> DeploymentRecord:
    if not path.exists():
        raise RecordError(
            f"no deployment record at {path}: deploy first (make devnet, or ape run deploy)"
        )
    if path.is_dir():
        raise RecordError(f"{path} is a directory, not a deployment record (.json)")
    try:
        text = path.read_text()
    except ValueError:  # a binary file (UnicodeDecodeError)
        raise RecordError(f"{path}: not a deployment record (not JSON; {EXPECTED})") from None
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not text.strip():
        raise RecordError(f"{path}: empty file ({EXPECTED})")
    try:
        data = json.loads(text)
    except ValueError:
        raise RecordError(f"{path}: not a deployment record (not JSON; {EXPECTED})") from None
    if not isinstance(data, dict):
        raise RecordError(f"{path}: not a deployment record ({EXPECTED})")
    # another of Backstop's files is named as what it is: a checkpoint, a fuzz record, an Anvil
    # state file were "record version None, expected 1" (or 2)
    kind = describe_json(data)
    if kind is not None and kind != "a deployment record":
        raise RecordError(f"{path}: {kind}, not a deployment record ({EXPECTED})")
    return DeploymentRecord.from_json(data, path)


def verify(record: DeploymentRecord, node: Node) -> None:
    """The node is the record's chain and runs the recorded code at every recorded address."""
    chain_id = node.chain_id()
    if chain_id != record.chain_id:
        raise RecordError(
            f"{record.path}: recorded for chain id {record.chain_id}, but the node at "
            f"{node.url} is chain id {chain_id}"
        )
    if not record.genesis_hash:
        raise RecordError(
            f"{record.path}: written before records named their node's genesis block, so it "
            "cannot tell an Anvil chain from a Hardhat one of the same chain id: deploy again "
            "(make devnet does)"
        )
    genesis = genesis_hash(node)
    if genesis != record.genesis_hash:
        raise RecordError(
            f"{record.path}: recorded on the chain whose genesis is {record.genesis_hash[:12]}…, "
            f"but the node at {node.url} (chain id {chain_id} too) has genesis {genesis[:12]}… "
            "(another node or a reset: deploy again)"
        )
    for label, address in record.addresses().items():
        found = code_hash(node.code(address))
        if found != record.code_hashes.get(address):
            # whole hashes: cut to their first digits, two that differ late read as equal
            what = "no code" if found == code_hash(b"") else f"code hash {found}"
            raise RecordError(
                f"{record.path}: {label} at {address} has {what} on the node, the record says "
                f"{record.code_hashes.get(address, '?')} (a reset or different chain: "
                "deploy again)"
            )


def genesis_hash(node: Node) -> str:
    """The hash of the node's block 0."""
    block = node.block(0)
    if block is None:
        raise RecordError(f"the node at {node.url} has no block 0")
    return str(block["hash"])


def build_record(
    node: Node,
    d: Deployment,
    transactions: list[str],
    config_text: str,
    config_source: str,
    extra: dict[str, str] | None = None,
) -> DeploymentRecord:
    """The record of a deployment just made on `node` (`transactions`: its hashes, in order)."""
    blocks = [
        int(node.rpc("eth_getTransactionReceipt", [h])["blockNumber"], 16)
        for h in (transactions[0], transactions[-1])
    ]
    core = {name: getattr(d, name) for name in _CORE}
    types = {name: {field: getattr(t, field) for field in _TYPE} for name, t in d.types.items()}
    extra = dict(extra or {})
    addresses = list(core.values()) + [a for t in types.values() for a in t.values()]
    addresses += list(extra.values())
    return DeploymentRecord(
        node.chain_id(),
        blocks[0],
        blocks[1],
        tuple(transactions),
        config_text,
        config_source,
        {"governance": d.governance, "feeder": d.feeder},
        core,
        types,
        {a: code_hash(node.code(a)) for a in addresses},
        extra,
        genesis_hash=genesis_hash(node),
    )
