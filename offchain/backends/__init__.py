"""Backends: one interface (`base.Backend`) to run Backstop on the off-chain model
(`ModelBackend`), on a real node over JSON-RPC (`ChainBackend`), or on both in lockstep
(`Lockstep`); `anvil` starts a private node."""

from offchain.backends.base import TX_GAS, Backend, Divergence, TxOutcome, create_address
from offchain.backends.chain import ChainBackend, load_artifacts, reader_code
from offchain.backends.lockstep import Lockstep
from offchain.backends.model import MODEL_FACTORIES, ModelBackend, ModelReader, model_value
from offchain.backends.rpc import RpcError

__all__ = [
    "TX_GAS",
    "Backend",
    "ChainBackend",
    "Divergence",
    "Lockstep",
    "MODEL_FACTORIES",
    "ModelBackend",
    "ModelReader",
    "RpcError",
    "TxOutcome",
    "create_address",
    "load_artifacts",
    "model_value",
    "reader_code",
]
