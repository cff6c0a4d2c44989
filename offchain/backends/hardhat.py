"""A private Hardhat Network node for one simulation run: the second local chain.

`Hardhat` is `Anvil` with another command line. Hardhat reads its settings from a config file,
so one is written to a temporary directory per node. The settings mirror the Anvil command
line where Hardhat has an equivalent: Prague; the genesis time; transactions mined in the
order received (`mempool.order = "fifo"`); a block gas limit large enough for every
transaction of a bar in one block; and failed transactions mined as on Anvil
(`throwOnTransactionFailures: false`) rather than refused.

Hardhat has no equivalent of three Anvil switches: `--auto-impersonate`,
`anvil_setBlockTimestampInterval` (one second per block) and the `callTracer`. `ChainBackend`
covers them from the client's name: it impersonates each funded account, sets every block's
time itself, and reads a revert reason from the default tracer. docs/nodes.md lists the
differences.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from offchain.backends.anvil import ROOT, Anvil, AnvilError

# every transaction of a bar in one block (TX_GAS each): Anvil's --disable-block-gas-limit
BLOCK_GAS_LIMIT = 10**15


class HardhatError(AnvilError):
    """Hardhat Network could not be started."""


def hardhat_binary() -> str:
    local = ROOT / "node_modules" / ".bin" / "hardhat"
    if not local.exists():
        raise HardhatError(
            "hardhat not found: run `make setup` (it installs the hardhat npm package into "
            "node_modules)"
        )
    return str(local)


def hardhat_config(genesis_time: int | None, block_gas_limit: int = BLOCK_GAS_LIMIT) -> str:
    """The config file's text: a plain object, so it needs nothing from the project. The
    genesis at `genesis_time` (None: the wall clock, Hardhat's default); blocks of
    `block_gas_limit` gas. The devnet's config (offchain/live/hardhat_devnet.py) is this one
    with a mainnet-sized block and the genesis of its journal."""
    network: dict[str, Any] = {"hardfork": "prague", "chainId": 31337}
    if genesis_time is not None:
        network["initialDate"] = genesis_time
    network |= {
        "blockGasLimit": block_gas_limit,
        "throwOnTransactionFailures": False,
        "throwOnCallFailures": True,
        "loggingEnabled": False,
        "mining": {"auto": True, "mempool": {"order": "fifo"}},
    }
    body = json.dumps({"networks": {"hardhat": network}}, indent=2)
    if genesis_time is not None:
        # Hardhat wants the date as a string; a number would be read as milliseconds
        body = body.replace(
            f'"initialDate": {genesis_time}',
            f'"initialDate": new Date({genesis_time} * 1000).toISOString()',
        )
    return f"module.exports = {body};\n"


class Hardhat(Anvil):
    """`with Hardhat(genesis_time) as node:` -> node.url, as `Anvil`."""

    name = "hardhat"
    startup_s = 90  # a Node.js start: seconds, where Anvil takes milliseconds

    def __init__(self, genesis_time: int):
        super().__init__(genesis_time)
        self.directory: Path | None = None

    def command(self) -> list[str]:
        binary = hardhat_binary()
        self.directory = Path(tempfile.mkdtemp(prefix="backstop-hardhat-"))
        config = self.directory / "hardhat.config.js"
        config.write_text(hardhat_config(self.genesis_time))
        return [
            binary,
            "--config",
            str(config),
            "node",
            "--hostname",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        super().__exit__(kind, value, traceback)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


NODES: dict[str, type[Anvil]] = {"anvil": Anvil, "hardhat": Hardhat}

__all__ = [
    "BLOCK_GAS_LIMIT",
    "NODES",
    "Hardhat",
    "HardhatError",
    "hardhat_binary",
    "hardhat_config",
]
