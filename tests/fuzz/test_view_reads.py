"""What the storage path's skipping of computed views rests on (offchain/testing/checking.py,
VIEW_READS): each listed view's value is a function of its own contract's storage and of the
contracts named there, alone. Held on the EVM, at the end of every example of a seeded walk of
the differential fuzz: every other contract's code is replaced by one that reverts, and the
block moves on by a million blocks and ten million seconds; every listed view of the example
still returns what it returned before (a read of any other contract would revert or change it,
a read of the block would change it). The code and the block are put back at once. And in the
model: each listed view's code, run with the model contracts' attribute reads traced, reads
only the attributes VIEW_READS names (the storage path compares a view after a step that wrote
one of them)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import Phase, settings
from pyrevm import AccountInfo, BlockEnv

from offchain.backends import RevmBackend
from offchain.backends.base import EvmBackend
from offchain.backends.model import model_value
from offchain.model.fixed_point import WAD
from offchain.model.state import Contract
from offchain.testing.checking import VIEW_READS, Checker
from offchain.testing.fuzz import PROFILES, run_machine
from offchain.testing.harness import System, move_prices

# it runs the differential machine: out of `make test-fast`, as tests/fuzz/ is
pytestmark = pytest.mark.fuzz
EXAMPLES, STEPS = 16, 80
REVERTS = bytes.fromhex("60006000fd")  # PUSH1 0 PUSH1 0 REVERT


@dataclass
class Walk:
    evaluated: Counter = field(default_factory=Counter)  # (contract, getter) -> views read
    nonzero: set = field(default_factory=set)  # (contract, getter) seen with a non-zero value
    changed: list[str] = field(default_factory=list)  # views whose value moved: the failures
    # the control: running auctions' status (its price falls with the block's time) read with
    # the block moved, and how many of them moved
    controls: int = 0
    controls_moved: int = 0
    # a contract's code hash, or the block's number or time, that differed after an isolation
    # from before it
    not_put_back: list[str] = field(default_factory=list)
    # in the model: (contract, getter) -> the (contract, attribute) pairs its code read, and
    # those VIEW_READS does not name
    model_reads: dict[tuple[str, str], set] = field(default_factory=dict)
    unnamed: set = field(default_factory=set)


def _isolated(system: System, calls, allowed: frozenset[str]) -> list[Any]:
    """The chain's values of `calls` with every model contract outside `allowed` reverting and
    the block far ahead; both put back before returning."""
    chain = system.chain
    assert isinstance(chain, RevmBackend)
    evm = chain.evm
    saved = {}
    for address in system.model.names:
        if address not in allowed:
            info = saved[address] = evm.basic(address)
            evm.insert_account_info(address, AccountInfo(nonce=info.nonce, code=REVERTS))
            evm.set_balance(address, info.balance)
    evm.set_block_env(
        BlockEnv(number=chain.block_number + 10**6, timestamp=chain.last_block_time + 10**7)
    )
    try:
        return [_read(chain, call) for call in calls]
    finally:
        for address, info in saved.items():
            # the account as `basic` gave it: its code and code hash exactly (get_code's is
            # revm's analysed code, padded: stored again, it would change the hash and size)
            evm.insert_account_info(address, info)
        evm.set_block_env(BlockEnv(number=chain.block_number, timestamp=chain.last_block_time))


def _accounts(checker: Checker) -> dict[str, Any]:
    """Each model contract's code hash (of the code as deployed: padded code stored again
    hashes otherwise), and the block's number and time as the EVM holds them."""
    chain = checker.s.chain
    assert isinstance(chain, RevmBackend)
    out: dict[str, Any] = {
        address: chain.evm.basic(address).code_hash for address in checker.s.model.names
    }
    # pyrevm's stub gives Env.block's getter an AccountInfo self
    block = chain.evm.env.block  # type: ignore[attr-defined]
    out["block"] = (block.number, block.timestamp)
    return out


def _read(chain: EvmBackend, call) -> Any:
    _, address, fn, args = call
    try:
        return chain.views([(address, fn, args)], cache=False)[0]
    except RuntimeError as exc:  # a reverting read: the view reached a contract it may not
        return f"reverted: {type(exc).__name__}"


def _trace_model_reads(checker: Checker, walk: Walk) -> None:
    """Each listed view's model code run with every attribute read of a model contract traced:
    the (contract, attribute) pairs it read, and those its VIEW_READS declaration leaves out
    (the storage path would then skip it after a step that wrote one)."""
    model = checker.s.model
    for call in checker._views:
        inputs = checker._view_inputs[call]
        if inputs is None:
            continue
        declared = {(i.address, i.attribute) for i in inputs}
        _, address, fn, args = call
        seen: set[tuple[str, str]] = set()
        original = Contract.__getattribute__

        def traced(obj, name, original=original, seen=seen):
            value = original(obj, name)
            if not name.startswith("_") and name not in ("env", "address") and not callable(value):
                seen.add((original(obj, "address"), name))
            return value

        Contract.__getattribute__ = traced  # type: ignore[method-assign]
        try:
            model_value(model, address, fn, args)
        finally:
            Contract.__getattribute__ = original  # type: ignore[method-assign]
        kind = (model.names[address], fn)
        walk.model_reads.setdefault(kind, set()).update(seen)
        walk.unnamed |= {(kind, model.names.get(a, a), name) for a, name in seen - declared}


@pytest.fixture(scope="module")
def walk(revm) -> Walk:
    record = Walk()
    original = Checker.full

    def full(self, keys=None, step=False):
        original(self, keys, step=step)
        if keys is not None:
            return
        before_all = _accounts(self)
        groups: dict[frozenset[str], list] = {}
        for call in self._views:
            reads = self._view_reads[call]
            if reads is not None:
                groups.setdefault(reads, []).append(call)
        for allowed, calls in groups.items():
            # in place, a view's read must not revert (a revert on both sides would agree)
            before = self.s.chain.views([c[1:] for c in calls], cache=False)
            after = _isolated(self.s, calls, allowed)
            for call, b, a in zip(calls, before, after):
                kind = (self.s.model.names[call[1]], call[2])
                record.evaluated[kind] += 1
                if b not in (0, False, (), [], (0, 0, 0), b"\0" * 32) and (
                    # a staker without shares is realized, trivially
                    kind != ("StabilityPool", "is_realized")
                    or self.s.model.contract(call[1]).shares[call[3][0]] > 0
                ):
                    record.nonzero.add(kind)
                if a != b:
                    record.changed.append(f"{kind} {call[3]}: {b!r} -> {a!r}")
        _trace_model_reads(self, record)
        every = frozenset(self.s.model.names)
        for t in self.s.d.types.values():
            ids = self.s.model.contract(t.auction).ids()
            statuses = [("", t.auction, "status", (i,)) for i in ids]
            # running (a debt left: a finished auction's status is all zero) and not yet due a
            # reset: the moved block, past its max duration, must show it due. (One past its
            # reset, long ago, may show the same status at any later block: its curve has
            # fallen to where the rounding holds the price, 1,098 or 21,384 ray-units: no
            # control.)
            values = self.s.chain.views([c[1:] for c in statuses], cache=False)
            fresh = [(c, v) for c, v in zip(statuses, values) if v[3] != 0 and not v[0]]
            running = [c for c, _ in fresh]
            before = [v for _, v in fresh]
            record.controls += len(running)
            record.controls_moved += sum(
                b != a for b, a in zip(before, _isolated(self.s, running, every))
            )

        after_all = _accounts(self)
        record.not_put_back += [
            f"{k}: {before_all[k]} -> {after_all[k]}"
            for k in before_all
            if before_all[k] != after_all[k]
        ]

    run_settings = settings(
        PROFILES["ci"].settings(examples=EXAMPLES, phases=(Phase.generate,)),
        stateful_step_count=STEPS,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Checker, "full", full)
        run_machine(revm, "full", run_settings)
    return record


def test_view_reads__every_listed_view__reads_only_the_storage_listed(walk):
    assert walk.changed == []


def test_view_reads__every_listed_views_model_code__reads_only_the_attributes_listed(walk):
    """In the model, each listed view's code reads only the attributes VIEW_READS names (what
    the storage path's choice of the views due after a step rests on), and every listed view
    read some."""
    assert walk.unnamed == set()
    assert set(walk.model_reads) == set(VIEW_READS)
    assert all(walk.model_reads.values())


def test_view_reads__every_listed_view__was_read_with_a_non_zero_value(walk):
    """Not a vacuous check: the walk reached every listed view, each with a value other than
    its empty one at some example's end."""
    assert set(walk.evaluated) == set(VIEW_READS)
    assert walk.nonzero == set(VIEW_READS)


def test_view_reads__the_moved_block__is_seen_by_a_view_that_reads_it(revm_system):
    """The control, played the same way every time (the walk's own auctions rest on its draws):
    an auction just started, its status (whose price is the block time's) read with every
    contract's code in place and the block moved, moves: the isolation does move the block the
    views see."""
    s = revm_system
    t = s.eth
    s.open_vault(s.roles.borrower, "ETH-A", 10 * WAD, 13_000 * WAD)  # safe at 2,000
    move_prices(s, [(t, 1_900 * WAD)])  # unsafe at 1,900
    s.tx(s.d.liquidator, "liquidate", s.roles.keeper, t.type_id, s.roles.borrower, s.roles.keeper)
    [auction_id] = s.model.contract(t.auction).ids()
    call = ("", t.auction, "status", (auction_id,))
    [before] = s.chain.views([call[1:]], cache=False)
    assert before[3] != 0 and not before[0]  # running, not due a reset
    [after] = _isolated(s, [call], frozenset(s.model.names))
    assert after != before and after[0]  # past its duration: due a reset


def test_view_reads__the_walks_running_auctions__each_see_the_moved_block(walk):
    """The same control on every auction running, not yet due a reset, at an example's end of
    the walk (how many there are rests on the draws)."""
    assert walk.controls_moved == walk.controls


def test_view_reads__the_code_and_the_block__put_back_exactly(walk):
    """Every contract's code hash and the block, after each isolation, are what they were (the
    session's revm is shared with later tests, and code set outside a transaction is not undone
    by a snapshot's revert)."""
    assert walk.not_put_back == []
