"""`ape console` extras (Ape loads this file from the project's root): the devnet's recorded
Backstop contracts. With `make devnet` running:

    ape console --network ethereum:devnet:node      # a devnet on another port: by its URL,
                                                    # --network http://127.0.0.1:8546
    In [1]: bs.engine.total_issued()
    In [2]: bs["ETH-A.auction"].buffer()

`bs` holds every contract of deployments/<chain id>.json by its label (`bs.engine`,
`bs["ETH-A.oracle"]`), once the record verifies against the node (chain id, genesis, code at
every address: offchain/live/console.py); otherwise one line says why and `bs` is empty. The
records are read from the project's deployments/ (BACKSTOP_DEPLOYMENTS=DIR: another folder, as
`ape run devnet --records DIR`).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any


class Contracts(SimpleNamespace):
    """Contracts by label: `bs.engine`, or `bs["ETH-A.auction"]` for a label with a dot."""

    def __getitem__(self, label: str) -> Any:
        return self.__dict__[label]


def ape_init_extras(chain: Any, project: Any) -> dict[str, Any]:
    from offchain.live.console import recorded_contracts

    directory = Path(os.environ.get("BACKSTOP_DEPLOYMENTS") or Path(project.path) / "deployments")
    found = recorded_contracts(chain.provider.uri, directory)
    if isinstance(found, str):
        print(found)
        return {"bs": Contracts()}
    bs = Contracts(
        **{
            label: getattr(project, name).at(address)
            for label, (name, address) in found.contracts.items()
        }
    )
    print(
        f"bs: {len(found.contracts)} Backstop contracts of {found.record.path} "
        "(bs.engine, bs['ETH-A.auction'], ...)"
    )
    return {"bs": bs}
