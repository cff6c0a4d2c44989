"""What `ape console` loads (ape_console_extras.py at the project's root): the contracts the
deployment record of the node's chain names, once the record verifies against the node (the
same check the bots make: chain id, genesis, code at every address), by the names the record
gives them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from offchain.live.node import Node, NodeUnavailable
from offchain.live.record import (
    CONTRACT_NAMES,
    DEFAULT_DIR,
    DeploymentRecord,
    RecordError,
    load_record,
    node_record_path,
    verify,
)


@dataclass(frozen=True)
class Recorded:
    """The verified record, and each of its contracts: label -> (contract name, address); the
    labels are the record's (`engine`, `ETH-A.auction`, `FlashTaker ETH-A`)."""

    record: DeploymentRecord
    contracts: dict[str, tuple[str, str]]


def recorded_contracts(uri: str, directory: Path = DEFAULT_DIR) -> Recorded | str:
    """The contracts recorded for the node at `uri`, or one line saying why there are none
    (no node, no record, a record of another chain or node)."""
    node = Node(uri, timeout=5, patience=2)
    try:
        record = load_record(node_record_path(node, directory))
        verify(record, node)
    except (RecordError, NodeUnavailable) as exc:
        return f"no Backstop contracts loaded: {exc}"
    contracts = {}
    for label, address in record.addresses().items():
        kind = label.split(".")[-1].split(" ")[0]
        contracts[label] = (CONTRACT_NAMES.get(kind, kind), address)
    return Recorded(record, contracts)
