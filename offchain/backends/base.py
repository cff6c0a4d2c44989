"""What every backend answers: the `Backend` protocol, a transaction's outcome, and the CREATE
address rule. Four backends implement it: `ModelBackend` (the off-chain model, model.py),
`ChainBackend` (a JSON-RPC node, chain.py), `RevmBackend` (revm in process, revm.py) and
`Lockstep` (an EVM and the model at once, lockstep.py). The two EVMs also answer `EvmBackend`:
snapshots, single reads and gas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from eth_utils import keccak, to_checksum_address

from offchain.model.state import Event

# gas each transaction is sent with unless its sender gives a limit (the deployment sends with
# it; a keeper's action carries the limit it sized, at most this: Action.gas_limit)
TX_GAS = 10_000_000


# a transaction's intrinsic gas (Prague): its base, each calldata byte's cost (EIP-2028), and
# the floor on calldata's tokens (EIP-7623: a zero byte one token, any other four)
TX_BASE_GAS = 21_000
ZERO_BYTE_GAS = 4
NONZERO_BYTE_GAS = 16
FLOOR_TOKEN_GAS = 10


def intrinsic_gas(data: bytes) -> int:
    """The least gas limit a node accepts a call carrying `data` with (no access list): the
    larger of the standard intrinsic cost and EIP-7623's calldata floor (the floor, for any
    calldata). A transaction sent with less never runs: a node refuses it ("intrinsic gas too
    low") or, as Anvil 1.7.1 does, takes it into its pool and drops it when it mines; revm raises
    CallGasCostMoreThanGasLimit. pyrevm 0.3.7 checks only the standard cost: between the two it
    runs what a node never would (tests/backends/test_chain_backend.py)."""
    zeros = data.count(0)
    nonzeros = len(data) - zeros
    standard = TX_BASE_GAS + ZERO_BYTE_GAS * zeros + NONZERO_BYTE_GAS * nonzeros
    floor = TX_BASE_GAS + FLOOR_TOKEN_GAS * (zeros + 4 * nonzeros)
    return max(standard, floor)


class Divergence(AssertionError):
    """Chain and model disagree: a bug in one of them."""


def create_address(sender: str, nonce: int) -> str:
    """The address a CREATE from `sender` at `nonce` deploys to."""
    import rlp

    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


@dataclass
class TxOutcome:
    """One transaction of a block: did it succeed, the revert reason if not, its events."""

    ok: bool
    reason: str | None
    events: list[Event]


class Backend(Protocol):
    """A chain as the deployment recipe, the tests and the simulator drive it: deploy contracts by
    name, send transactions (one block each, or many in one block), read public getters, set the
    next block's time. A revert raises `offchain.model.errors.Revert(reason)`. `transact_block`'s
    `gas_limits` are the transactions' gas limits in order (0 or absent: TX_GAS); the model has no
    gas and ignores them (docs/security.md, 63.1: what the twin assumes)."""

    names: dict[str, str]  # address -> contract name
    last_events: list[Event]  # the events of the last transaction

    @property
    def last_block_time(self) -> int: ...

    @property
    def next_block_time(self) -> int: ...

    def set_next_block_time(self, timestamp: int) -> None: ...

    def deploy(self, name: str, sender: str, *args: Any) -> str: ...

    def transact(self, address: str, function: str, sender: str, *args: Any) -> Any: ...

    def transact_block(
        self, txs: list[tuple[str, str, str, tuple]], gas_limits: list[int] | None = None
    ) -> list[TxOutcome]: ...

    def views(self, calls: list[tuple[str, str, tuple]], cache: bool = True) -> list[Any]: ...

    def call(self, address: str, function: str, *args: Any) -> Any: ...


class EvmBackend(Backend, Protocol):
    """An EVM as a backend (`ChainBackend`, `RevmBackend`): a `Backend` with snapshots (revert to
    one once; later ones are dropped with it), single reads and the last transaction's gas."""

    chain_id: int  # EIP-155
    # contract name -> (ABI, deployment bytecode) of what it deploys (ContractAbi's)
    artifacts: dict[str, tuple[list[dict], str]]

    def transact(
        self, address: str, function: str, sender: str, *args: Any, gas: int | None = None
    ) -> Any:
        """A transaction sent with `gas` as its limit (None: TX_GAS)."""
        ...

    def snapshot(self) -> str: ...

    def calldata(self, address: str, function: str, *args: Any) -> bytes:
        """The calldata of `function(*args)` on the contract at `address`."""
        ...

    def revert_to(self, snapshot_id: str) -> None: ...

    def view(self, address: str, function: str, *args: Any) -> Any: ...

    def gas_used(self) -> int: ...

    def nonce(self, account: str) -> int: ...
