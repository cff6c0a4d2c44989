"""Model state with EVM transaction semantics.

A model contract mutates its state in the same order as its Solidity/Vyper twin, checks
included; `Env.transact` journals every write and undoes them all if the call reverts, so a
reverted model call leaves no trace, exactly as a reverted transaction. Events go to `Env.logs`
and are undone the same way.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntFlag
from typing import Any, NamedTuple, TypeVar

from offchain.model.errors import Revert, require

T = TypeVar("T")
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
_MISSING = object()
# the journal's old value of a key a write inserted (it held none): what readers of a journal
# other than Env.transact compare with (offchain/testing/past.py)
NO_VALUE = _MISSING


class Event(NamedTuple):  # a NamedTuple: a replay makes ~18,000 of these
    """One log: the emitting contract's address, the event name and its arguments."""

    address: str
    name: str
    args: dict[str, Any]


@dataclass
class Env:
    """What a block gives a model: the time, and the journal and logs of the current call."""

    timestamp: int = 0
    # the chain's id (EIP-155), what a contract reads as `chain.id`; Anvil's by default
    chain_id: int = 31337
    logs: list[Event] = field(default_factory=list)
    # address -> model contract, so contracts can call each other by address
    contracts: dict[str, Contract] = field(default_factory=dict)
    _journal: list[tuple] | None = None
    # when a list: every transaction's journal is appended to it (what a step wrote, for the
    # differential checks of offchain/testing/checking.py)
    write_log: list[tuple] | None = None
    # (target address, calldata) -> (function name, arguments, reads only): how a contract that
    # forwards
    # calldata (the Timelock) runs it in the model; offchain/backends/model.py sets it from the
    # compiled contracts' ABIs (offchain/backends/abi.py, CalldataReader)
    calldata: Callable[[str, bytes], tuple[str, tuple, bool]] | None = None
    # the journal of the last transaction (its writes' old values, in order; undone if it
    # reverted): what the testing checks read of the state before it (offchain/testing/past.py)
    last_journal: list[tuple] | None = None

    def transact(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one model call as a transaction: all of it, or (on Revert) none of it."""
        if self._journal is not None:  # nested: the outer transaction owns the journal
            return fn(*args, **kwargs)
        self._journal = []
        n_logs = len(self.logs)
        try:
            return fn(*args, **kwargs)
        except Revert:
            for entry in reversed(self._journal):
                if entry[0] == "attr":
                    object.__setattr__(entry[1], entry[2], entry[3])
                elif entry[3] is _MISSING:
                    dict.pop(entry[1], entry[2], None)
                else:
                    dict.__setitem__(entry[1], entry[2], entry[3])
            del self.logs[n_logs:]
            raise
        finally:
            if self.write_log is not None:
                self.write_log += self._journal
            self.last_journal = self._journal
            self._journal = None


class Storage(dict):
    """A contract's HashMap: missing keys read as `default`; writes are journaled."""

    def __init__(self, env: Env, default: Any = 0):
        super().__init__()
        self._env = env
        self._default = default

    def __deepcopy__(self, memo: dict) -> Storage:
        new = Storage.__new__(Storage)
        memo[id(self)] = new
        new._env = copy.deepcopy(self._env, memo)
        new._default = self._default
        for key, value in self.items():
            dict.__setitem__(new, key, copy.deepcopy(value, memo))
        return new

    def __missing__(self, key: Any) -> Any:
        return self._default

    def __setitem__(self, key: Any, value: Any) -> None:
        journal = (
            self._env._journal
        )  # the open transaction's journal (Env.transact); the model's most frequent write
        if journal is not None:
            journal.append(("item", self, key, dict.get(self, key, _MISSING)))
        dict.__setitem__(self, key, value)


class Contract:
    """Base of every model contract: attribute writes are journaled like storage writes."""

    env: Env
    address: str

    def __init__(self, env: Env, address: str):
        object.__setattr__(self, "env", env)
        object.__setattr__(self, "address", address)
        env.contracts[address] = self

    def at(self, address: str) -> Any:
        """The model contract deployed at `address` (a call to a non-contract reverts)."""
        contract = self.env.contracts.get(address)
        if contract is None:
            raise Revert(None)
        return contract

    def __setattr__(self, name: str, value: Any) -> None:
        journal = self.env._journal  # the open transaction's journal (Env.transact)
        if journal is not None:
            journal.append(("attr", self, name, getattr(self, name, None)))
        object.__setattr__(self, name, value)

    def storage(self, default: Any = 0) -> Storage:
        return Storage(self.env, default)

    def log(self, name: str, **args: Any) -> None:
        self.env.logs.append(Event(self.address, name, args))

    @property
    def now(self) -> int:
        return self.env.timestamp


class Role(IntFlag):
    """The capability roles of contracts/modules/authorized.vy (its constants, bit for bit): each
    bit lets its holder call the functions listed, on the contract where it holds the bit."""

    JOIN = 1  # VaultEngine.modify_collateral_balance, join_vault (collateral joins)
    PRICE = 2  # VaultEngine.set_safe_price (the Spotter)
    CEILING = 4  # VaultEngine.set_debt_ceiling (the CeilingManager)
    RATE = 8  # VaultEngine.fold_rate (the FeeAccumulator; the Backstop's redistribution)
    FEE_KINK = 16  # VaultEngine.set_fee_kink (the FeeAccumulator)
    SEIZE = 32  # VaultEngine.seize (the Liquidator, auctions, global settlement)
    MINT_UNBACKED = 64  # VaultEngine.create_unbacked (auctions: keeper rewards and refunds)
    # shutdown() of the VaultEngine, Liquidator, Backstop (global settlement) and of the debt
    # and surplus auctions (the Backstop)
    SHUTDOWN = 128
    OPEN_LOSS = 256  # Backstop.open_loss (the Liquidator)
    CLOSE_LOSS = 512  # Backstop.close_loss (auctions)
    DEBT_IN_AUCTION = 1024  # Liquidator.remove_debt_in_auction (auctions)
    # start() of a DutchAuction (the Liquidator) and of the debt and surplus auctions (the
    # Backstop)
    START = 2048
    CANCEL = 4096  # DutchAuction.cancel_for_settlement (global settlement)
    INCOME = 8192  # StabilityPool.add_income (the FeeAccumulator)
    DELEVERAGE = 16384  # Backstop.deleverage (the keeper governance names)
    # GlobalSettlement.shutdown, PriceOracle.void, DutchAuction.set_stopped to a higher level only
    # (the guardian: what must not wait for governance's delay, docs/governance.md)
    EMERGENCY = 32768


class Authorized(Contract):
    """Twin of contracts/modules/authorized.vy, the authorization every privileged Backstop
    contract initializes: admins (`authorized`: every privileged function, add/remove admins,
    grant/revoke roles) and capability roles (`roles`, a bitmask of `Role` per account).
    `ROLE_SET` is the contract's immutable: the role bits its functions check. Subclasses call
    `_init_auth(deployer)` in their constructor where the contract calls `auth.__init__` (the
    order of constructor events matters)."""

    AUTH_REASON = "authorized: not authorized"
    ROLE_REASON = "authorized: bad role"
    ROLE_SET = Role(0)
    authorized: Storage
    roles: Storage

    def _init_auth(self, deployer: str) -> None:
        self.authorized = self.storage(False)
        self.roles = self.storage(0)
        self.authorized[deployer] = True
        self.log("AuthorityAdded", account=deployer)

    def _check_authorized(self, sender: str) -> None:
        if not self.authorized[sender]:
            raise Revert(self.AUTH_REASON)

    def _check_role(self, sender: str, role: Role) -> None:
        if not (self.roles[sender] & role or self.authorized[sender]):
            raise Revert(self.AUTH_REASON)

    def add_authority(self, sender: str, account: str) -> None:
        self._check_authorized(sender)
        self.authorized[account] = True
        self.log("AuthorityAdded", account=account)

    def remove_authority(self, sender: str, account: str) -> None:
        self._check_authorized(sender)
        self.authorized[account] = False
        self.log("AuthorityRemoved", account=account)

    def grant_role(self, sender: str, account: str, role: int) -> None:
        self._check_authorized(sender)
        require(role != 0 and role & self.ROLE_SET == role, self.ROLE_REASON)
        self.roles[account] = int(self.roles[account] | role)
        self.log("RoleGranted", account=account, role=int(role))

    def revoke_role(self, sender: str, account: str, role: int) -> None:
        self._check_authorized(sender)
        require(role != 0 and role & self.ROLE_SET == role, self.ROLE_REASON)
        self.roles[account] = int(self.roles[account] & ~role)
        self.log("RoleRevoked", account=account, role=int(role))
