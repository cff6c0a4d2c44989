"""Backends: one interface (`base.Backend`) to run Backstop on the off-chain model
(`ModelBackend`), on a real node over JSON-RPC (`ChainBackend`), on revm in process
(`RevmBackend`), or on an EVM and the model in lockstep (`Lockstep`); `anvil` starts a private
node."""

from offchain.backends.base import (
    TX_GAS,
    Backend,
    Divergence,
    EvmBackend,
    TxOutcome,
    create_address,
)
from offchain.backends.chain import ChainBackend, load_artifacts, project_code, reader_code
from offchain.backends.lockstep import Lockstep, model_beside
from offchain.backends.model import MODEL_FACTORIES, ModelBackend, ModelReader, model_value
from offchain.backends.revm import ANVIL_ACCOUNTS, RevmBackend
from offchain.backends.rpc import RpcError

__all__ = [
    "ANVIL_ACCOUNTS",
    "TX_GAS",
    "Backend",
    "ChainBackend",
    "Divergence",
    "EvmBackend",
    "Lockstep",
    "MODEL_FACTORIES",
    "ModelBackend",
    "ModelReader",
    "RevmBackend",
    "RpcError",
    "TxOutcome",
    "create_address",
    "load_artifacts",
    "model_beside",
    "model_value",
    "project_code",
    "reader_code",
]
