"""The storage encoder (offchain/testing/storage.py, issue 49): the model's state encoded as the
contracts' storage words equals revm's, word for word, after a seeded walk of the differential
fuzz; a bit flipped in any claimed variable's slot is named by `compare`; a non-zero slot no
variable claims is listed by `unclaimed` (and missed by the views' full comparison).

One walk of the full machine (derandomized, a few short examples) runs for the module: at every
full comparison of the views (every 20th step and each example's end, `Checker.full`) the
storage is compared too, and every variable not planted yet gets a bit flipped (in an EVM
snapshot, reverted at once). The machine classes are not touched: the hook is
on the Checker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from hypothesis import Phase, settings

from offchain.testing import storage
from offchain.testing.checking import Checker
from offchain.testing.fuzz import PROFILES, run_machine

# it runs the differential machine: out of `make test-fast`, as tests/fuzz/ is
pytestmark = pytest.mark.fuzz
EXAMPLES, STEPS = 6, 80
# variables the walk must bring to a non-zero word (so the checks are not of an empty system):
# the most written ones
MUST_BE_WRITTEN = {
    ("VaultEngine", "packed_vaults"),
    ("VaultEngine", "debt_and_rate"),
    ("VaultEngine", "stable"),
    ("VaultEngine", "utilization_record"),
    ("Stablecoin", "erc20.balanceOf"),
    ("DutchAuction", "auction_slots.auction_meta"),
    ("DutchAuction", "auction_slots.auction_debt"),
    ("Liquidator", "type_slots"),
    ("Backstop", "loss_book.loss_meta"),
    ("Backstop", "loss_book.numbered_losses"),
    ("StabilityPool", "shares"),
    ("FeeAccumulator", "fee_clock"),
    ("CollateralPool", "shares"),
    ("TestToken", "erc20.allowance"),
}
# a stablecoin balance in the engine of an account nobody uses (planted: no variable claims it)
NOBODY = "0x00000000000000000000000000000000DeaDBeef"


def _kind(w: storage.Word) -> tuple[str, str]:
    """(contract name, variable) of a claimed word (the label without its address)."""
    return w.contract.split("@")[0], w.variable


@dataclass
class Walk:
    """What the hooked full comparisons found."""

    storage_checks: int = 0
    slots_compared: int = 0
    differences: list[str] = field(default_factory=list)
    unclaimed: list[str] = field(default_factory=list)
    # (contract label, variable) -> what compare() named after its bit was flipped
    planted: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    written: set[tuple[str, str]] = field(default_factory=set)
    claimed: set[tuple[str, str]] = field(default_factory=set)
    # the planted extra slot: what unclaimed() listed, and whether the views' comparison passed
    extra: list[tuple[str, int, int]] | None = None
    extra_missed_by_views: bool | None = None
    # a running loss event's penalty steps flipped: what compare() named
    penalty: list[str] | None = None
    # the encoding of what a step wrote (storage.expected with `written`): steps checked, words
    # it claimed, and each changed word of the whole encoding it left out or encoded otherwise
    steps_mapped: int = 0
    words_mapped: int = 0
    map_misses: list[str] = field(default_factory=list)


@contextmanager
def _undone(evm) -> Iterator[None]:
    """A plant undone at once: a snapshot reverted, and the next block's time set again. A
    revert drops a time set for the next block (as the node backends' do), and the plants run
    inside a step: after the machine's warp, before the transaction it is for. (Without this,
    a walk that planted right after `short_warp(300)` sent its next transaction 299 s early on
    revm: a Divergence on block time, and a flaky one, since only the first walk plants.)"""
    pending = evm.next_block_time
    snapshot = evm.snapshot()
    try:
        yield
    finally:
        evm.revert_to(snapshot)
        if pending != evm.next_block_time:
            evm.set_next_block_time(pending)


def _plant_bits(system, words, walk: Walk) -> None:
    """Flip one compared bit of one slot of every variable not planted yet (a non-zero one if
    the variable has one) and record what `compare` names; each plant is undone at once."""
    evm, model = system.chain, system.model
    picks: dict[tuple[str, str], tuple[str, int, storage.Word]] = {}
    for address, claimed in words.items():
        for slot, w in claimed.items():
            name = (w.contract, w.variable)
            if w.mask == 0 or name in walk.planted:
                continue
            if name not in picks or (w.word and not picks[name][2].word):
                picks[name] = (address, slot, w)
    for name, (address, slot, w) in picks.items():
        with _undone(evm):
            flipped = evm.evm.storage(address, slot) ^ (w.mask & -w.mask)  # its lowest compared bit
            evm.evm.insert_account_storage(address, slot, flipped)
            named = storage.compare(evm, model, words)
        walk.planted[name] = [f"{d.contract}.{d.variable}" for d in named]


def _plant_penalty(system, words, walk: Walk) -> None:
    """Flip the lowest penalty-step bit (bit 40) of a running loss event's word, compared in
    full (its steps recovered from the model's due), and record what `compare` names."""
    evm = system.chain
    backstop = system.d.backstop
    running = [
        slot
        for slot, w in words[backstop].items()
        if w.variable == "loss_book.loss_meta" and w.mask == storage.WORD
    ]
    if not running:
        return
    with _undone(evm):
        flipped = evm.evm.storage(backstop, running[0]) ^ 1 << 40
        evm.evm.insert_account_storage(backstop, running[0], flipped)
        named = storage.compare(evm, system.model, words)
    walk.penalty = [f"{d.contract}.{d.variable}" for d in named]


def _plant_extra(checker, original, words, walk: Walk) -> None:
    """A non-zero slot no variable claims (a balance of an unused account in the engine):
    `unclaimed` lists it; the views' full comparison, which reads known accounts only, passes."""
    evm, model = checker.s.chain, checker.s.model
    engine = checker.s.d.engine
    slot = storage.mapping_slot(storage.layout("VaultEngine")["stable"], NOBODY)
    with _undone(evm):
        evm.evm.insert_account_storage(engine, slot, 10**45)
        walk.extra = storage.unclaimed(evm, model, words)
        try:
            original(checker)
            walk.extra_missed_by_views = True
        except AssertionError:
            walk.extra_missed_by_views = False


def _check_map(checker, before, now, walk: Walk) -> None:
    """The words of what the step wrote (`storage.expected` with the step's written keys, as the
    storage path compares them after a step) against the whole encoding before and after it:
    every word that changed or appeared is among them, with the whole encoding's value."""
    mapped = storage.expected(checker.s.model, checker._dirty, checker._written, checker._whole)
    walk.steps_mapped += 1
    walk.words_mapped += sum(len(words) for words in mapped.values())
    for address, words in now.items():
        old = before.get(address, {})
        for slot, word in words.items():
            if old.get(slot) == word:
                continue
            got = mapped.get(address, {}).get(slot)
            if got != word:
                walk.map_misses.append(f"{word.contract}.{word.variable}[{word.key!r}]: {got}")


@pytest.fixture(scope="module")
def walk(revm) -> Walk:
    """The walk (see the module docstring) and what its storage checks found."""
    record = Walk()
    original = Checker.full

    def full(self, keys=None, step=False):
        # the views' comparison: raises if the chain and the model differ
        original(self, keys, step=step)
        words = storage.expected(self.s.model)
        record.storage_checks += 1
        record.slots_compared += sum(len(claimed) for claimed in words.values())
        record.differences += [str(d) for d in storage.compare(self.s.chain, self.s.model, words)]
        record.unclaimed += [
            f"{self.s.model.names[a]} {a} slot {s:#x} = {v:#x}"
            for a, s, v in storage.unclaimed(self.s.chain, self.s.model, words)
        ]
        for claimed in words.values():
            for w in claimed.values():
                if w.mask:  # a masked-out slot (a freed auction slot's stale words) is not
                    record.claimed.add(_kind(w))
                if w.word:
                    record.written.add(_kind(w))
        if record.penalty is None:
            _plant_penalty(self.s, words, record)
        # at every full comparison (a running auction's words are claimed in full only while it
        # runs, so a variable is planted where it was claimed)
        _plant_bits(self.s, words, record)
        if keys is None:  # an example's end (the teardown's full comparison)
            if record.extra is None:
                _plant_extra(self, original, words, record)

    original_step = Checker.after_step
    last: dict[int, dict[str, dict[int, storage.Word]]] = {}  # checker -> its last encoding

    def after_step(self):
        written = self._keys is not None  # a step after the first: what it touched is known
        original_step(self)
        now = storage.expected(self.s.model)
        before = last.get(id(self))
        last[id(self)] = now
        if before is None or not written or self.counts["full checks"] != self._full_seen:
            self._full_seen = self.counts["full checks"]
            return  # a full comparison: nothing was placed
        _check_map(self, before, now, record)

    run_settings = settings(
        PROFILES["ci"].settings(examples=EXAMPLES, phases=(Phase.generate,)),
        stateful_step_count=STEPS,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Checker, "full", full)
        patch.setattr(Checker, "after_step", after_step)
        patch.setattr(Checker, "_full_seen", 0, raising=False)
        # the view path (the Checker's full comparison is the views'), which the hook adds the
        # storage to: the storage path would compare it itself, unclaimed slots included
        run_machine(revm, "full", run_settings, storage_check=False)
    return record


def test_storage_encoder__after_a_walk__every_claimed_word_is_the_chains(walk):
    """At every full comparison of the walk (the views agreeing), every slot the encoder claims
    holds the model's word on revm, and no model contract has a non-zero slot it does not claim;
    the most written variables were written."""
    assert walk.storage_checks >= EXAMPLES
    assert not walk.differences, "\n".join(walk.differences[:20])
    assert not walk.unclaimed, "\n".join(walk.unclaimed[:20])
    assert MUST_BE_WRITTEN <= walk.written, sorted(MUST_BE_WRITTEN - walk.written)
    print(
        f"\n{walk.storage_checks} storage checks, {walk.slots_compared} slots compared, "
        f"{len(walk.claimed)} variables claimed, never non-zero: "
        f"{sorted(walk.claimed - walk.written)}"
    )


def test_storage_encoder__what_a_step_wrote__every_changed_word_among_it(walk):
    """After every step of the walk but the full comparisons, the encoding of what the step wrote
    (its dirty contracts' words, of their maps only the keys the model's journal shows written:
    what the storage path compares after a step) holds every word of the whole encoding that
    changed or appeared in the step, with the same value; and it is a small part of the whole."""
    assert walk.steps_mapped >= EXAMPLES * STEPS // 2
    assert not walk.map_misses, "\n".join(walk.map_misses[:20])
    print(f"\n{walk.steps_mapped} steps, {walk.words_mapped / walk.steps_mapped:.1f} words a step")


def test_storage_encoder__a_flipped_bit__is_named_by_compare(walk):
    """For every variable the encoder claimed, one bit flipped in one of its slots on revm is
    found by `compare`, which names exactly that variable; so is a running loss event's penalty
    steps flipped (the bits recovered from the model's due)."""
    labels = {(contract.split("@")[0], variable) for contract, variable in walk.planted}
    assert labels == walk.claimed, sorted(walk.claimed - labels)
    wrong = {name: named for name, named in walk.planted.items() if named != [".".join(name)]}
    assert not wrong, wrong
    assert walk.penalty == ["Backstop.loss_book.loss_meta"]


def test_storage_encoder__an_extra_slot__is_listed_by_unclaimed_not_by_the_views(walk, revm):
    """A non-zero slot no variable claims (the engine's balance of an account nobody uses) is the
    one slot `unclaimed` lists; the views' full comparison does not see it."""
    engine = revm.deployed[0].engine
    slot = storage.mapping_slot(storage.layout("VaultEngine")["stable"], NOBODY)
    assert walk.extra == [(engine, slot, 10**45)]
    assert walk.extra_missed_by_views is True


def test_layout_cache__a_cached_layout_is_the_compilers__and_a_source_change_misses(
    tmp_path, monkeypatch
):
    """The layouts kept between processes (storage.LAYOUT_CACHE): the first read compiles and
    writes the file, the second reads it (the same text); another digest of the sources (an
    edited contract) is another file."""
    monkeypatch.setattr(storage, "LAYOUT_CACHE", tmp_path)
    compiled = storage._compiled_layout("Spotter")
    (cached,) = tmp_path.iterdir()
    assert cached.name == f"Spotter-{storage._sources_digest()}.json"
    assert cached.read_text() == compiled and '"storage_layout"' in compiled
    cached.write_text(compiled.replace('"slot"', '"slot" '))  # read back as it is now
    assert storage._compiled_layout("Spotter") == cached.read_text()
    monkeypatch.setattr(storage, "_sources_digest", lambda: "edited")
    assert storage._compiled_layout("Spotter") == compiled
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [cached.name, "Spotter-edited.json"]
    )


def test_layout_cache__a_cache_that_cannot_be_written__the_layout_compiled_and_no_file_left(
    tmp_path, monkeypatch
):
    """A cache whose file cannot be put in place (a directory in its way): the compiled layout is
    returned as it is and no temporary file is left behind."""
    monkeypatch.setattr(storage, "LAYOUT_CACHE", tmp_path)
    (tmp_path / f"Spotter-{storage._sources_digest()}.json").mkdir()  # os.replace fails
    compiled = storage._compiled_layout("Spotter")
    assert '"storage_layout"' in compiled
    assert [p.name for p in tmp_path.iterdir()] == [f"Spotter-{storage._sources_digest()}.json"]
