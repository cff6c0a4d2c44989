"""Both at once: `Lockstep` applies every deployment and transaction to a chain and to the model
and fails on the first disagreement in outcome, revert reason, block time or emitted events: the
differential harness of the tests and of `make run`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from offchain.backends.base import Divergence, EvmBackend
from offchain.backends.model import ModelBackend
from offchain.model.errors import Revert


def model_beside(
    chain: EvmBackend, accounts: Iterable[str], factories: dict[str, Any] | None = None
) -> ModelBackend:
    """A model to run beside `chain` from its head on: the same time and chain id, and the
    accounts' nonces (so that both give a CREATE the same address)."""
    model = ModelBackend(
        chain.last_block_time,
        factories=factories,
        chain_id=chain.chain_id,
        abis={name: abi for name, (abi, _) in chain.artifacts.items()},
    )
    for account in accounts:
        model.nonces[account] = chain.nonce(account)
    return model


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


class Lockstep:
    """Applies every deployment and transaction to the chain and to the model and checks that
    both succeed or both revert with the same reason, at the same block time, emitting the same
    events. Any difference raises `Divergence` with a readable account of it."""

    def __init__(self, chain: EvmBackend, model: ModelBackend):
        self.chain = chain
        self.model = model
        self.names = model.names

    @property
    def last_block_time(self) -> int:
        return self.model.last_block_time

    def set_next_block_time(self, timestamp: int) -> None:
        self.chain.set_next_block_time(timestamp)
        self.model.set_next_block_time(timestamp)

    def calldata(self, address: str, function: str, *args: Any) -> bytes:
        """The calldata of `function(*args)` at `address` (a Timelock proposal's call): the
        chain's encoding, which the model reads with the same ABIs."""
        return self.chain.calldata(address, function, *args)

    def view(self, address: str, function: str, *args: Any) -> Any:
        """A getter's value on chain (a read changes nothing; the model's state is compared
        where the harness compares states)."""
        return self.chain.view(address, function, *args)

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        what = f"deploy {name}{args!r} from {sender}"
        address = model_address = None
        chain_error = model_error = None
        try:
            address = self.chain.deploy(name, sender, *args)
        except Revert as exc:
            chain_error = exc
        try:
            model_address = self.model.deploy(name, sender, *args)
        except Revert as exc:
            model_error = exc
        self._compare_outcomes(what, chain_error, model_error)
        assert address is not None  # both deployed (else _compare_outcomes raised)
        if address != model_address:
            raise Divergence(
                f"deploy {name}: chain address {address}, model address {model_address}"
            )
        self._compare_events(f"deploy {name}")
        return address

    def transact(
        self, address: str, function: str, sender: str, *args: Any, gas: int | None = None
    ) -> None:
        """One transaction on both; on the chain with `gas` as its limit (None: TX_GAS). The model
        has no gas: it assumes every transaction gets what it needs, so a transaction the chain
        runs out of gas (or whose gas guard fires: Liquidator.liquidate_many's SkippedForGas) is a
        difference, reported with the limit it was sent with."""
        sent = f" with gas {gas:,}" if gas else ""
        what = f"{self.names.get(address, address)}.{function}{args!r} from {sender}{sent}"
        chain_error = model_error = None
        try:
            self.chain.transact(address, function, sender, *args, gas=gas)
        except Revert as exc:
            chain_error = exc
        try:
            self.model.transact(address, function, sender, *args)
        except Revert as exc:
            model_error = exc
        if chain_error is not None and chain_error.reason is None and model_error is None:
            what += " (the chain failed without a reason: out of gas?)"
        self._compare_outcomes(what, chain_error, model_error)
        self._gas_guard(what)
        self._compare_events(what)

    def _gas_guard(self, what: str) -> None:
        """The Liquidator's gas guard fired on the chain (its SkippedForGas event): the twin,
        which has no gas, liquidated those vaults. A difference, named as such."""
        for e in self.chain.last_events:
            if e.name == "SkippedForGas" and self.names.get(e.address) == "Liquidator":
                raise Divergence(
                    f"{what}: the Liquidator's gas guard skipped {e.args['vaults']} vault(s) "
                    "on the chain for want of gas; the model has no gas and assumes enough "
                    "(the sender's gas limit is too small for its batch: docs/security.md, 63.1)"
                )

    def _compare_outcomes(
        self, what: str, chain_error: Revert | None, model_error: Revert | None
    ) -> None:
        """Both succeeded, or both reverted with the same reason (re-raised), at the same time."""
        if (chain_error is None) != (model_error is None) or (
            chain_error is not None
            and model_error is not None
            and chain_error.reason != model_error.reason
        ):
            describe = lambda e: "success" if e is None else f"revert {e.reason!r}"  # noqa: E731
            raise Divergence(
                f"{what}: chain {describe(chain_error)}, model {describe(model_error)}"
            )
        if self.chain.last_block_time != self.model.last_block_time:
            raise Divergence(
                f"{what}: block time chain {self.chain.last_block_time}, model "
                f"{self.model.last_block_time}"
            )
        if chain_error is not None:
            raise chain_error

    def _compare_events(self, what: str) -> None:
        chain_events, model_events = self.chain.last_events, self.model.last_events
        if len(chain_events) != len(model_events) or not all(
            c.address == m.address
            and c.name == m.name
            and c.args.keys() == m.args.keys()
            and all(_same(c.args[k], m.args[k]) for k in c.args)
            for c, m in zip(chain_events, model_events)
        ):
            lines = [f"{what}: events differ"]
            lines += [f"  chain: {e.name} {e.args}" for e in chain_events]
            lines += [f"  model: {e.name} {e.args}" for e in model_events]
            raise Divergence("\n".join(lines))
