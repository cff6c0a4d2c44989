"""The off-chain model as a chain: `ModelBackend` deploys the twins in `offchain.model` at the
addresses a node would give them, mines one block per transaction (or many in one block) with
the block times a node would use, and answers public getters shaped as the chain's ABI decoder
returns them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from offchain.backends.abi import CalldataReader
from offchain.backends.base import TxOutcome, create_address
from offchain.model.backstop import Backstop
from offchain.model.ceiling_manager import CeilingManager
from offchain.model.collateral_join import CollateralJoin
from offchain.model.collateral_pool import CollateralPool
from offchain.model.debt_auction import DebtAuction
from offchain.model.dutch_auction import DutchAuction
from offchain.model.erc20 import ERC20
from offchain.model.errors import Revert
from offchain.model.fee_accumulator import FeeAccumulator
from offchain.model.flash_taker import FlashTaker
from offchain.model.global_settlement import GlobalSettlement
from offchain.model.liquidator import Liquidator
from offchain.model.margin_call import MarginCall
from offchain.model.outside_venue import OutsideVenue
from offchain.model.price_oracle import PriceOracle
from offchain.model.spotter import Spotter
from offchain.model.stability_pool import StabilityPool
from offchain.model.stable_join import StableJoin
from offchain.model.state import Env, Event
from offchain.model.surplus_auction import SurplusAuction
from offchain.model.timelock import Timelock
from offchain.model.vault_engine import VaultEngine

# contract name -> model factory(env, address, deployer, *constructor_args)
MODEL_FACTORIES: dict[str, Callable[..., Any]] = {
    "VaultEngine": VaultEngine,
    "Stablecoin": lambda env, addr, dep, name, symbol: ERC20(env, addr, dep, name, symbol, 18),
    "TestToken": ERC20,
    "StableJoin": StableJoin,
    "CollateralJoin": CollateralJoin,
    "PriceOracle": PriceOracle,
    "Spotter": Spotter,
    "FeeAccumulator": FeeAccumulator,
    "CeilingManager": CeilingManager,
    "Backstop": Backstop,
    "Liquidator": Liquidator,
    "DutchAuction": DutchAuction,
    "CollateralPool": CollateralPool,
    "FlashTaker": FlashTaker,
    "OutsideVenue": OutsideVenue,
    "GovernanceToken": lambda env, addr, dep, name, symbol: ERC20(env, addr, dep, name, symbol, 18),
    "StabilityPool": StabilityPool,
    "DebtAuction": DebtAuction,
    "SurplusAuction": SurplusAuction,
    "GlobalSettlement": GlobalSettlement,
    "MarginCall": MarginCall,
    "Timelock": Timelock,
}


class ModelBackend:
    """The off-chain model as a chain: one block per transaction, CREATE addresses, nonces."""

    def __init__(
        self,
        start_time: int,
        block_interval: int = 1,
        factories: dict[str, Callable[..., Any]] | None = None,
        chain_id: int | None = None,
        abis: dict[str, list[dict]] | None = None,
    ):
        """`abis`: each contract name's ABI, for the calls a Timelock proposal carries (the
        model reads their calldata with them); None: such a call fails with a clear error."""
        self.env = Env(timestamp=start_time)
        if chain_id is not None:
            self.env.chain_id = chain_id
        # contract name -> model class (tests add the twins of contracts/testing/)
        self.factories = MODEL_FACTORIES if factories is None else factories
        self.block_interval = block_interval
        self.nonces: dict[str, int] = {}
        self.names: dict[str, str] = {}  # address -> contract name
        if abis is not None:
            self.env.calldata = CalldataReader(abis, self.names)
        self._next_time: int | None = None
        self.last_events: list[Event] = []
        self._reader: ModelReader | None = None

    @property
    def last_block_time(self) -> int:
        return self.env.timestamp

    @property
    def next_block_time(self) -> int:
        """The time of the next transaction's block."""
        return (
            self._next_time
            if self._next_time is not None
            else self.env.timestamp + self.block_interval
        )

    def set_next_block_time(self, timestamp: int) -> None:
        if timestamp <= self.env.timestamp:
            raise ValueError(f"block time must increase: {timestamp} <= {self.env.timestamp}")
        self._next_time = timestamp

    def _new_block(self, sender: str) -> None:
        self.env.timestamp = (
            self._next_time
            if self._next_time is not None
            else self.env.timestamp + self.block_interval
        )
        self._next_time = None
        self.nonces[sender] = self.nonces.get(sender, 0) + 1

    def contract(self, address: str) -> Any:
        return self.env.contracts[address]

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        address = create_address(sender, self.nonces.get(sender, 0))
        self._new_block(sender)
        n_logs = len(self.env.logs)
        self.last_events = []
        try:
            self.env.transact(self.factories[name], self.env, address, sender, *args)
        except Revert:
            # a reverted CREATE leaves no code behind: forget the half-built contract
            self.env.contracts.pop(address, None)
            raise
        self.names[address] = name
        self.last_events = self.env.logs[n_logs:]
        return address

    def transact_block(
        self, txs: list[tuple[str, str, str, tuple]], gas_limits: list[int] | None = None
    ) -> list[TxOutcome]:
        """Transactions `(address, function, sender, args)` mined in order into one block: one
        block time for all of them; a revert undoes only its own transaction. No transactions,
        no block. The twin has no gas: `gas_limits` are ignored (every transaction is assumed to
        get the gas it needs; the senders size their limits so that it does)."""
        if not txs:
            return []
        self.env.timestamp = self.next_block_time
        self._next_time = None
        out = []
        for address, function, sender, args in txs:
            self.nonces[sender] = self.nonces.get(sender, 0) + 1
            try:
                self._run(address, function, sender, args)
            except Revert as exc:
                out.append(TxOutcome(False, exc.reason, []))
                continue
            out.append(TxOutcome(True, None, self.last_events))
        self.last_events = out[-1].events
        return out

    def forget_events(self) -> None:
        """Drop the events of the transactions mined so far from `env.logs`, which otherwise keeps
        every event the twin ever emitted: each transaction's were handed out as its
        `last_events` (a copy). For a caller that reads no older log (a simulation: its recorder
        takes each transaction's events as it is mined); never during a transaction."""
        del self.env.logs[:]

    def transact(
        self, address: str, function: str, sender: str, *args: Any, gas: int | None = None
    ) -> Any:
        """One transaction in a block of its own; `gas` is ignored (the twin has no gas)."""
        self._new_block(sender)
        return self._run(address, function, sender, args)

    def _run(self, address: str, function: str, sender: str, args: tuple) -> Any:
        """One transaction in the current block; its events in `last_events` (none if it
        reverts)."""
        n_logs = len(self.env.logs)
        self.last_events = []
        contract = self.env.contracts.get(address)
        if contract is None:  # a call to an address without code succeeds and does nothing
            return None
        result = self.env.transact(getattr(contract, function), sender, *args)
        self.last_events = self.env.logs[n_logs:]
        return result

    def __getstate__(self) -> dict[str, Any]:
        # a copy (a test's, an example's) resolves its own getters: the reader's are bound to
        # this model's contracts
        return {**self.__dict__, "_reader": None}

    def views(self, calls: list[tuple[str, str, tuple]], cache: bool = True) -> list[Any]:
        """The values of public getters `(address, getter, args)`, shaped as the chain returns them
        (`cache` is the chain's encoding cache: nothing to cache here)."""
        if self._reader is None:
            self._reader = ModelReader(self)
        return self._reader.many(calls)

    def view(self, address: str, function: str, *args: Any) -> Any:
        return self.views([(address, function, args)])[0]

    def call(self, address: str, function: str, *args: Any) -> Any:
        """A view of any shape (the chain's plain eth_call; the same as `view` here)."""
        return self.view(address, function, *args)


# getters whose model attribute differs from the contract's (name or shape)
_MODEL_GETTERS: dict[str, Any] = {
    "totalSupply": lambda c: c.total_supply,
    "balanceOf": lambda c, who: c.balance_of[who],
    "allowance": lambda c, owner, spender: c.allowance[(owner, spender)],
    "delegates": lambda c, owner, delegate: c.delegates[(owner, delegate)],
    "vaults": lambda c, t, who: tuple(c.vaults[(t, who)]),
    "collateral": lambda c, t, who: c.collateral[(t, who)],
    "active_count": lambda c: c.active_count(),
    "losses": lambda c, t, auction, auction_id: tuple(c.losses[(t, auction, auction_id)]),
}


def model_getter(model: ModelBackend, address: str, fn: str) -> Callable[[tuple], Any]:
    """The model's public getter `fn` at `address`, resolved once: a function of the getter's
    arguments whose value is shaped as the chain returns it (see model_value)."""
    c = model.contract(address)
    getter = _MODEL_GETTERS.get(fn)
    if getter is not None:
        return lambda args: getter(c, *args)
    if callable(getattr(c, fn)):  # a view function of the model
        method = getattr(c, fn)

        def view(args: tuple) -> Any:
            value = method(*args)
            if type(value) is tuple:  # most views (the plain tuple, as the chain's decoder gives)
                return value
            return tuple(value) if isinstance(value, (tuple, list)) else value

        return view

    def variable(args: tuple) -> Any:  # read when called: a contract may rebind the attribute
        value = getattr(c, fn)
        if len(args) > 1:
            value = value[tuple(args)]
        elif args:
            value = value[args[0]]
        if hasattr(value, "address") and not isinstance(value, (str, bytes)):
            value = value.address
        return tuple(value) if isinstance(value, tuple) else value

    return variable


def model_value(model: ModelBackend, address: str, fn: str, args: tuple) -> Any:
    """The model's value of the public getter `fn(*args)` at `address`, shaped as the chain
    returns it."""
    return model_getter(model, address, fn)(args)


class ModelReader:
    """`model_value` for a run that reads the same getters again and again: each (address,
    getter) is resolved once (a 1,000-vault replay makes ~58,000 reads)."""

    def __init__(self, model: ModelBackend):
        self.model = model
        self._getters: dict[tuple[str, str], Callable[[tuple], Any]] = {}

    def __call__(self, address: str, fn: str, args: tuple) -> Any:
        return self.many([(address, fn, args)])[0]

    def many(self, calls: Iterable[tuple[str, str, tuple]]) -> list[Any]:
        """The values of `(address, getter, args)` calls, in order. A run of `status(id)` reads
        of one auction is answered by its `statuses` (model/dutch_auction.py: the same values,
        at once): a keeper reads every running auction's status each round."""
        getters, out = self._getters, []
        run_address, run_ids = "", []
        for address, fn, args in calls:
            if fn == "status" and len(args) == 1:
                if address != run_address:
                    if run_ids:
                        out += self._statuses(run_address, run_ids)
                    run_address, run_ids = address, []
                run_ids.append(args[0])
                continue
            if run_ids:
                out += self._statuses(run_address, run_ids)
                run_address, run_ids = "", []
            getter = getters.get((address, fn))
            if getter is None:
                getter = getters[(address, fn)] = model_getter(self.model, address, fn)
            out.append(getter(args))
        if run_ids:
            out += self._statuses(run_address, run_ids)
        return out

    def _statuses(self, address: str, ids: list[int]) -> list[Any]:
        """`status(i)` of the contract at `address` for each of `ids`: its `statuses` where it
        has one, else one read each."""
        batch = getattr(self.model.contract(address), "statuses", None)
        if batch is not None:
            return batch(ids)
        getter = self._getters.get((address, "status"))
        if getter is None:
            getter = self._getters[(address, "status")] = model_getter(
                self.model, address, "status"
            )
        return [getter((i,)) for i in ids]
