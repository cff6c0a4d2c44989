"""The lockstep test harness: one deployed system driven on a chain and in the model at once.

`System.tx` sends each transaction to both (through `Lockstep`, which fails on any difference in
outcome, revert reason, block time or events); `System.check` compares the complete observable
state of both and checks invariants I1-I5 on each. The unit tests (tests/conftest.py's `system`
fixture), the differential state machines (offchain/testing/differential.py) and the benchmark
use it. `TEST_FACTORIES` adds the twins of the test-only contracts (contracts/testing/).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from offchain.backends import MODEL_FACTORIES, EvmBackend, Lockstep, ModelBackend, model_value
from offchain.model.errors import Revert
from offchain.model.fixed_point import WAD
from offchain.model.testing.reentrant_taker import ReentrantTaker
from offchain.system.deployment import Deployment
from offchain.system.invariants import model_invariants, state_invariants
from offchain.system.reads import read_chain_state, read_model_state, state_keys
from offchain.testing.economics import Auditor
from offchain.testing.past import Journal
from offchain.testing.specification import Specification

# every contract the tests deploy: the system's and contracts/testing/'s
TEST_FACTORIES = {**MODEL_FACTORIES, "ReentrantTaker": ReentrantTaker}


@dataclass(frozen=True)
class Roles:
    governance: str
    feeder: str
    borrower: str
    other: str
    keeper: str
    stranger: str

    @property
    def users(self) -> list[str]:
        """Every account the tests act with."""
        return [self.governance, self.feeder, self.borrower, self.other, self.keeper, self.stranger]


class System:
    """One test's view of the deployed system, on chain and in the model at once."""

    def __init__(
        self,
        chain: EvmBackend,
        model: ModelBackend,
        d: Deployment,
        roles: Roles,
        checked: bool = True,
    ):
        self.chain = chain
        self.model = model
        self.d = d
        self.roles = roles
        self.lockstep = Lockstep(chain, model)
        self.eth = d.types["ETH-A"]
        self.btc = d.types["WBTC-A"]
        # contracts a test deploys (a FlashTaker, say): their balances count in the invariants
        self.extra_holders: list[str] = []
        # vault owners a story opens by the dozen (StateKeys.holders): their vaults and balances
        # are read, not the delegations and allowances among all accounts (quadratic in them)
        self.vault_owners: list[str] = []
        # the economic properties of every transaction (offchain/testing/economics/)
        self.auditor = Auditor(model, d, roles.users)
        self.spec = Specification(lambda: self.model, d)
        # False: transactions skip the Auditor and the Specification (the benchmark's floor,
        # offchain/bench/figures.py: never used to check anything)
        self.checked = checked

    # -------------------------------------------------------- acting

    def tx(
        self, address: str, function: str, sender: str, *args: Any, gas: int | None = None
    ) -> None:
        """One transaction on both (on the chain with `gas` as its limit; None: TX_GAS); raises
        Revert (same reason on both) or Divergence; then its economic properties are checked
        (EconomicViolation). Unchecked (`checked` False): the transaction on both and the
        lockstep's comparison of outcomes and events only."""
        if not self.checked:
            self.lockstep.transact(address, function, sender, *args, gas=gas)
            return
        # the Auditor and the Specification read the state before from the transaction's
        # journal (offchain/testing/past.py), not from copies made now
        journal = Journal()
        before = self.auditor.before(sender, address, function, journal)
        pre = self.spec.before(sender, address, function, args, journal)
        try:
            self.lockstep.transact(address, function, sender, *args, gas=gas)
        except Revert as exc:
            journal.done(None)  # undone: the state is the one before
            self.spec.reverted(pre, exc.reason)
            raise
        journal.done(self.model.env.last_journal)
        self.auditor.after(before, self.model.last_events)
        self.spec.after(pre, self.model.last_events)

    @contextmanager
    def what_if(self) -> Iterator[None]:
        """Run a hypothetical branch: every transaction sent inside is undone afterwards, on
        chain (an EVM snapshot) and in the model (a copy), so a test can compare two histories
        from the same state (an honest one and an attack, say)."""
        pending = self.chain.next_block_time
        snapshot = self.chain.snapshot()
        saved = copy.deepcopy(self.model)
        saved_auditor = self.auditor.fork(saved)
        try:
            yield
        finally:
            self.chain.revert_to(snapshot)
            # a revert drops a time set for the next block (a warp before the branch); the
            # model's copy keeps it: set it again, or the next transaction is mined early
            if pending != self.chain.next_block_time:
                self.chain.set_next_block_time(pending)
            self.model = saved
            self.lockstep = Lockstep(self.chain, saved)
            self.auditor = saved_auditor

    def warp(self, seconds: int) -> None:
        """The next transaction is mined `seconds` after the last block."""
        self.lockstep.set_next_block_time(self.lockstep.last_block_time + seconds)

    @property
    def now(self) -> int:
        return self.lockstep.last_block_time

    @property
    def events(self) -> list:
        """Events of the last transaction (identical on both sides)."""
        return self.model.last_events

    def fund(self, user: str, type_name: str, amount: int) -> None:
        """Mint `amount` collateral tokens (token units) to `user` and join them into the engine."""
        t = self.d.types[type_name]
        self.tx(t.token, "mint", self.roles.governance, user, amount)
        self.tx(t.token, "approve", user, t.join, amount)
        self.tx(t.join, "join", user, user, amount)

    def open_vault(self, user: str, type_name: str, collateral: int, debt: int) -> None:
        """Join `collateral` [wad] and lock it, drawing `debt` [wad of normalized debt]."""
        t = self.d.types[type_name]
        scale = 10 ** (18 - t.config.token_decimals)
        self.fund(user, type_name, collateral // scale)
        self.tx(self.d.engine, "modify_vault", user, t.type_id, user, user, user, collateral, debt)

    # -------------------------------------------------------- reading

    def engine(self) -> Any:
        """The model's VaultEngine (equal to the chain's; see check())."""
        return self.model.contract(self.d.engine)

    def contract(self, address: str) -> Any:
        return self.model.contract(address)

    def view(self, address: str, function: str, *args: Any) -> Any:
        """Read a getter on chain."""
        return self.chain.view(address, function, *args)

    def check(self) -> None:
        """Complete state equality chain vs model, then invariants I1-I5 on both."""
        holders = (
            self.roles.users
            + [a for _, a in self.d.contracts()]
            + list(self.extra_holders)
            + list(self.vault_owners)
        )
        keys = state_keys(
            self.model, self.d, self.roles.users + list(self.extra_holders), self.vault_owners
        )
        chain_state = read_chain_state(self.chain, self.d, keys)
        model_state = read_model_state(self.model, self.d, keys)
        diffs = [
            f"{k}: chain {chain_state[k]!r} model {model_state[k]!r}"
            for k in chain_state
            if chain_state[k] != model_state[k]
        ]
        assert not diffs, "state differs:\n" + "\n".join(diffs[:20])
        problems = state_invariants(chain_state, self.d, holders) + model_invariants(
            self.model, self.d
        )
        assert not problems, "invariants violated:\n" + "\n".join(problems)


def _plain(value: Any) -> Any:
    return tuple(_plain(v) for v in value) if isinstance(value, (tuple, list)) else value


def read(system: System, address: str, getter: str, *args: Any) -> Any:
    """A public getter read on chain, checked equal to the model's value (the same getter the
    full-state comparison uses); returns the chain's value."""
    on_chain = system.view(address, getter, *args)
    in_model = model_value(system.model, address, getter, args)
    assert _plain(on_chain) == _plain(in_model), (
        f"{getter}{args}: chain {on_chain!r} model {in_model!r}"
    )
    return on_chain


def events(system: System) -> list[tuple[str, str, dict]]:
    """(emitter, name, args) of the last transaction's events (chain == model, by the harness)."""
    return [(e.address, e.name, e.args) for e in system.events]


def move_prices(system: System, moves: list[tuple[Any, int]]) -> None:
    """The feeder posts each (type, price [wad]); two oracle pokes a delay apart make it current
    (fresh for max_age from the post), and the spotter writes the safe prices to the engine.
    A move beyond the oracle's bound on a post (max_change from the queued price) is walked
    there: the largest move allowed is posted and poked in, once per delay, until the price is
    within reach."""
    r = system.roles
    for _ in range(64):
        steps = []
        for t, price in moves:
            queued = model_value(system.model, t.oracle, "next_price", ())
            reference = queued or model_value(system.model, t.oracle, "current_price", ())
            bound = model_value(system.model, t.oracle, "max_change", ())
            if bound == 0 or reference == 0:
                continue
            low = -(-reference * (WAD - min(bound, WAD)) // WAD)
            high = reference * (WAD + bound) // WAD
            if not low <= price <= high:
                steps.append((t, max(low, min(price, high))))
        if not steps:
            break
        for t, step in steps:
            system.tx(t.oracle, "post", r.feeder, step)
        system.warp(max(t.config.oracle_delay for t, _ in steps))
        for t, _ in steps:
            system.tx(t.oracle, "poke", r.keeper)
    for t, price in moves:
        system.tx(t.oracle, "post", r.feeder, price)
    for _ in range(2):
        system.warp(max(t.config.oracle_delay for t, _ in moves))
        for t, _ in moves:
            system.tx(t.oracle, "poke", r.keeper)
    for t, _ in moves:
        system.tx(system.d.spotter, "poke", r.keeper, t.type_id)


@contextmanager
def reverts(reason: str | None) -> Iterator[None]:
    """Expect a revert with exactly `reason` (None: an arithmetic revert without reason), agreed
    by chain and model."""
    try:
        yield
    except Revert as exc:
        assert exc.reason == reason, f"reverted with {exc.reason!r}, expected {reason!r}"
    else:
        raise AssertionError(f"did not revert (expected {reason!r})")
