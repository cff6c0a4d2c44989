"""The machines' cheaper check (offchain/testing/checking.py) loses nothing. On the view path
(Anvil, Hardhat; revm with storage=False): a one-wei difference in a variable no step touches is
found at the next full comparison, one in a variable a step wrote is found after that very step,
and one named only by a step's events too. On the storage path (revm's default): a difference in
an entry the step wrote or a scalar word of a contract it touched is found after that step,
whether a view reads the slot or not; one in an entry it did not write, or in a contract no step
touches, by the safety net within STORAGE_ALL_EVERY steps (`net_every`); a slot no variable
claims at the full comparison; a computed view's difference after a step that touches what it
reads (VIEW_READS; after every step when not listed); a getter's own difference (the storage
equal) at the complete views, due over the run. A failing example on revm is replayed on Anvil,
whose verdict the failure's report carries. And the benchmark's unchecked floor takes the same
steps with the same outcomes, checks nothing, and keeps the lockstep."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import Phase

from offchain.backends import RevmBackend
from offchain.backends.base import Divergence
from offchain.model.errors import Revert
from offchain.model.fixed_point import RAD, WAD
from offchain.model.vault_engine import VaultEngine
from offchain.testing import checking, model_checks, storage
from offchain.testing.checking import STORAGE_ALL_EVERY, Checker, StateDiffers
from offchain.testing.fuzz import Profile, replay_on_anvil, run_machine, run_on_revm
from offchain.testing.harness import System
from offchain.testing.stats import Totals

FULL_EVERY = 5
# a few short examples, not shrunk (shrinking is Hypothesis's; what is tested is the replay)
_UNSHRUNK = Profile(examples=5, steps=10, derandomize=True)


@pytest.fixture
def system(revm_system: System) -> System:
    return revm_system


def _poke(system: System) -> None:
    """A step that touches the oracle and nothing of the tokens."""
    system.warp(system.eth.config.oracle_delay)
    system.tx(system.eth.oracle, "poke", system.roles.keeper)


def test_checker__one_wei_in_an_untouched_variable__found_at_the_next_full_comparison(system):
    checker = Checker(system, FULL_EVERY, storage=False)
    checker.after_step()  # step 1: the first check is a full one
    stranger = system.roles.stranger
    token = system.contract(system.eth.token)
    # planted in the model only, outside any transaction: a variable no step below touches and
    # no invariant sums (an allowance)
    dict.__setitem__(token.allowance, (stranger, system.eth.join), 1)
    for _ in range(FULL_EVERY - 2):  # steps 2 .. FULL_EVERY - 1: what they touched
        _poke(system)
        checker.after_step()
    assert checker.counts["full checks"] == 1 and checker.counts["touched checks"] == 3
    _poke(system)  # step FULL_EVERY: a full comparison
    with pytest.raises(StateDiffers, match=r"allowance\[.*\]\[join\]: chain 0 model 1"):
        checker.after_step()


def test_checker__one_wei_in_a_variable_the_step_wrote__found_after_that_step(system):
    checker = Checker(system, FULL_EVERY, storage=False)
    checker.after_step()
    r = system.roles
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    checker.after_step()
    engine = system.engine()
    system.tx(
        system.d.engine,
        "transfer_collateral",
        r.borrower,
        system.eth.type_id,
        r.borrower,
        r.other,
        WAD,
    )
    key = (system.eth.type_id, r.other)
    dict.__setitem__(engine.collateral, key, engine.collateral[key] + 1)
    with pytest.raises(StateDiffers, match=r"engine.collateral\[ETH-A\]"):
        checker.after_step()
    assert checker.counts["full checks"] == 1  # found by the check of what the step touched


def test_checker__one_wei_named_only_by_the_steps_events__found_after_that_step(system):
    """A write the model's journal does not show (as if the EVM alone had made it) is still
    compared when the step's events name its keys."""
    checker = Checker(system, FULL_EVERY, storage=False)
    checker.after_step()
    r = system.roles
    system.tx(system.eth.token, "approve", r.borrower, system.eth.join, 5)
    system.model.env.write_log = []  # the model "did not write" it
    token = system.contract(system.eth.token)
    dict.__setitem__(token.allowance, (r.borrower, system.eth.join), 6)
    with pytest.raises(StateDiffers, match=r"allowance\[.*\]\[join\]: chain 5 model 6"):
        checker.after_step()
    assert checker.counts["full checks"] == 1


# ---------------------------------------------------------------- the storage path (revm)


def _engine_slot(variable: str, *keys) -> int:
    return storage.mapping_slot(storage.layout("VaultEngine")[variable], *keys)


def test_storage_path__is_revms_default_and_needs_revm(system, node):
    assert Checker(system, FULL_EVERY).storage
    with pytest.raises(ValueError, match="needs revm"):
        Checker(System(node, system.model, system.d, system.roles), FULL_EVERY, storage=True)


def test_storage_path__a_bit_no_view_reads_in_a_contract_the_step_touched__found_after_the_step(
    system,
):
    """An EVM-side difference in a bit of the engine's storage that no view returns (the KEPT_SET
    bit of its unbacked-debt word, contracts/modules/constants.vy): the step's transaction
    touches the engine, whose every claimed slot is compared after the step. The views agree."""
    checker = Checker(system, FULL_EVERY)
    checker.after_step()  # step 1: every slot
    r = system.roles
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    slot = storage.layout("VaultEngine")["total_unbacked_word"]
    evm, engine = system.chain.evm, system.d.engine
    evm.insert_account_storage(engine, slot, evm.storage(engine, slot) ^ storage.KEPT_SET)
    system.tx(
        engine, "transfer_collateral", r.borrower, system.eth.type_id, r.borrower, r.other, WAD
    )
    with pytest.raises(StateDiffers, match=r"VaultEngine.total_unbacked_word slot .*chain 0x0 "):
        checker.after_step()
    assert checker.counts["full checks"] == 1  # the first step's: no view compared it after


def test_storage_path__an_entry_the_step_did_not_write__found_by_the_net_not_after_the_step(
    system,
):
    """A map entry the step's journal does not show written (as if the EVM alone wrote it, or the
    model's journal missed a write), in a contract the step touched: after a step only the
    entries written are compared (and every scalar word of the contract), so it passes there; the
    safety net, every slot of every contract every `net_every` steps, finds it."""
    checker = Checker(system, FULL_EVERY, net_every=4)
    checker.after_step()  # step 1: every slot
    r = system.roles
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    checker.after_step()  # step 2
    engine = system.d.engine
    system.tx(
        engine, "transfer_collateral", r.borrower, system.eth.type_id, r.borrower, r.other, WAD
    )
    # in the step, outside the model's journal: a write the map of what it wrote misses (to a
    # variable no invariant reads: a delegation)
    dict.__setitem__(system.engine().delegates, (r.stranger, r.keeper), True)
    checker.after_step()  # step 3: the engine's written entries and its scalars: not that one
    assert checker.counts["storage checks"] == 3
    _poke(system)
    with pytest.raises(StateDiffers, match=r"VaultEngine.delegates\[.*chain 0x0 model 0x1"):
        checker.after_step()  # step 4: the net


def test_storage_path__a_difference_in_a_contract_no_step_touches__found_within_all_every(system):
    checker = Checker(system, FULL_EVERY)
    checker.after_step()  # step 1
    stranger = system.roles.stranger
    token = system.contract(system.eth.token)
    # planted in the model only, outside any transaction: a variable of a contract the steps
    # below do not touch (the collateral token; the steps poke the oracle)
    dict.__setitem__(token.allowance, (stranger, system.eth.join), 1)
    for _ in range(STORAGE_ALL_EVERY - 2):  # steps 2 .. STORAGE_ALL_EVERY - 1
        _poke(system)
        checker.after_step()
    _poke(system)  # step STORAGE_ALL_EVERY: every slot of every contract
    with pytest.raises(StateDiffers, match=r"TestToken@.*erc20.allowance.*chain 0x0 model 0x1"):
        checker.after_step()


def test_storage_path__a_slot_no_variable_claims__found_at_the_full_comparison(system):
    checker = Checker(system, FULL_EVERY)
    checker.after_step()
    _poke(system)
    checker.after_step()
    nobody = "0x00000000000000000000000000000000DeaDBeef"
    system.chain.evm.insert_account_storage(system.d.engine, _engine_slot("stable", nobody), 7)
    _poke(system)
    checker.after_step()  # not the engine's storage: the step did not touch it
    with pytest.raises(StateDiffers, match=r"VaultEngine .* = 0x7: no variable claims it"):
        checker.full()


def _plant_in_revms_answer(monkeypatch, getter: str) -> None:
    """revm answers one more than it holds for `getter` (a computed view: code, not a slot)."""
    original = RevmBackend.views

    def views(self, calls, cache=True):
        values = original(self, calls, cache)
        return [v + 1 if fn == getter else v for (_, fn, _), v in zip(calls, values)]

    monkeypatch.setattr(RevmBackend, "views", views)


def test_storage_path__a_computed_views_difference__found_after_a_step_that_writes_its_reads(
    system, monkeypatch
):
    """A computed view (the Backstop's unattributed debt, which reads the Backstop's debts and
    the engine's bad debt, VIEW_READS) differing though no slot differs is found after the first
    step that changes one of its inputs (planted after the run's first step, whose complete
    views are due); a step that changes none of them (the oracle's, the engine's delegations,
    another account's bad debt) leaves it out."""
    checker = Checker(system, FULL_EVERY)
    checker.after_step()
    assert checker.counts["full checks"] == 1  # the run's first step: the complete views
    _plant_in_revms_answer(monkeypatch, "unattributed_debt")
    _poke(system)  # the oracle alone
    checker.after_step()
    # every computed view counted once: compared (the oracle's own, had it any) or skipped
    views = len(checker._views)
    assert checker.counts["computed views skipped"] > 0
    assert checker.counts["computed views skipped"] + checker.counts["computed views compared"] == (
        views
    )
    r = system.roles
    system.tx(system.d.engine, "allow", r.stranger, r.keeper)  # the engine, not its bad debt
    checker.after_step()
    system.tx(system.d.engine, "create_unbacked", r.governance, r.governance, r.other, RAD)
    checker.after_step()  # bad debt, but not the Backstop's: its value did not change
    system.tx(system.d.engine, "create_unbacked", r.governance, system.d.backstop, r.other, RAD)
    with pytest.raises(StateDiffers, match=r"backstop.unattributed_debt: chain (\d+) model \d+"):
        checker.after_step()
    assert checker.counts["full checks"] == 1


def test_storage_path__a_computed_views_difference__found_when_every_contract_is_compared(
    system, monkeypatch
):
    """... and, when no step touches what it reads, at the next step that compares every
    contract's storage (every STORAGE_ALL_EVERY steps)."""
    checker = Checker(system, FULL_EVERY)
    checker.after_step()  # step 1
    _plant_in_revms_answer(monkeypatch, "unattributed_debt")
    for _ in range(STORAGE_ALL_EVERY - 2):  # steps 2 .. STORAGE_ALL_EVERY - 1
        _poke(system)
        checker.after_step()
    _poke(system)
    with pytest.raises(StateDiffers, match=r"backstop.unattributed_debt: chain 1 model 0"):
        checker.after_step()


def test_storage_path__a_computed_view_whose_reads_are_not_listed__compared_after_every_step(
    system, monkeypatch
):
    """A computed view VIEW_READS does not list is compared after every step, whatever the step
    touched."""
    monkeypatch.delitem(checking.VIEW_READS, ("Backstop", "unattributed_debt"))
    checker = Checker(system, FULL_EVERY)
    checker.after_step()
    _plant_in_revms_answer(monkeypatch, "unattributed_debt")
    _poke(system)
    with pytest.raises(StateDiffers, match=r"backstop.unattributed_debt: chain 1 model 0"):
        checker.after_step()


def test_storage_path__the_complete_views__at_a_runs_first_step_then_every_storage_views_every(
    system, monkeypatch
):
    """Over a run's examples (one Totals): at the run's first step, then every
    STORAGE_VIEWS_EVERY steps, whichever example they fall in (an example's end included)."""
    monkeypatch.setattr(checking, "STORAGE_VIEWS_EVERY", 4)
    run = Totals()
    first = Checker(system, FULL_EVERY, run=run)
    for _ in range(3):
        first.after_step()
        _poke(system)
    assert first.counts["full checks"] == 1 and run.steps_since_views == 2
    first.full()  # the first example's end: 2 steps since, not due
    assert first.counts["full checks"] == 1
    second = Checker(system, FULL_EVERY, run=run)
    second.after_step()  # 3 steps since: not due
    _poke(system)
    assert second.counts["full checks"] == 0
    second.after_step()  # the 4th
    assert second.counts["full checks"] == 1 and run.steps_since_views == 0


# ---------------------------------------------------------------- failures replayed on Anvil

_STEPS = [
    ("open_first_vaults", {"amount": 5, "debt_fraction": 500_000, "depth": 100_000}),
    (
        "transfer_stable",
        {"sender_i": 0, "src_i": 0, "dst_i": 1, "frac": 500_000, "nudge": 0},
    ),
]


def _model_bug(monkeypatch) -> None:
    """The model's internal stablecoin transfer keeps one wei back (a planted twin bug)."""
    original = VaultEngine.transfer_stable

    def transfer_stable(self, sender, src, dst, amount):
        original(self, sender, src, dst, amount)
        if amount > RAD:
            self.stable[src] += 1
            self.stable[dst] -= 1

    monkeypatch.setattr(VaultEngine, "transfer_stable", transfer_stable)


def test_replay_on_anvil__steps_that_pass__do_not_reproduce(artifacts):
    verdict = replay_on_anvil(artifacts, "full", _STEPS)
    assert not verdict.reproduces and verdict.steps == 2


def test_replay_on_anvil__a_model_bug__reproduces(artifacts, monkeypatch):
    _model_bug(monkeypatch)
    verdict = replay_on_anvil(artifacts, "full", _STEPS)
    assert verdict.reproduces
    assert "state differs" in (verdict.error or "")


def test_run_on_revm__a_failure__is_replayed_on_anvil_and_the_report_says_so(
    revm, artifacts, monkeypatch
):
    """A model bug: the fuzz on revm fails, and the failing example's steps fail on Anvil too."""
    _model_bug(monkeypatch)
    with pytest.raises(AssertionError) as failure:
        run_on_revm(revm, artifacts, "full", _UNSHRUNK.settings(phases=(Phase.generate,)))
    notes = "\n".join(getattr(failure.value, "__notes__", []))
    assert "replayed on Anvil" in notes and "reproduces: StateDiffers" in notes


def test_run_on_revm__a_difference_of_revm_alone__does_not_reproduce_on_anvil(
    revm, artifacts, monkeypatch
):
    """An EVM-side difference that Anvil does not have (planted in the revm backend's reads):
    the report says the failure does not reproduce on the node."""
    original = RevmBackend.views

    def views(self, calls, cache=True):
        values = original(self, calls, cache)
        return [
            v + 1 if fn == "total_issued" and isinstance(v, int) and v else v
            for (_, fn, _), v in zip(calls, values)
        ]

    monkeypatch.setattr(RevmBackend, "views", views)
    with pytest.raises(AssertionError) as failure:
        run_on_revm(revm, artifacts, "full", _UNSHRUNK.settings(phases=(Phase.generate,)))
    notes = "\n".join(getattr(failure.value, "__notes__", []))
    assert "does not reproduce (Anvil agrees)" in notes


def _rules(totals: Totals) -> dict[str, tuple[int, int, int]]:
    return {name: (c.hits, c.sent, c.ok) for name, c in totals.rules.items()}


def test_unchecked__the_benchmarks_floor__same_steps_and_outcomes_and_no_check(revm):
    """`checked=False` (the floor `make bench` sets beside the checked rates): the same
    derandomized steps as the checked run, every rule as often with the same transactions'
    outcomes, and not one check counted (no invariant, storage, view or specification check)."""
    run_settings = _UNSHRUNK.settings(phases=(Phase.generate,))
    checked = run_machine(revm, "full", run_settings)
    unchecked = run_machine(revm, "full", run_settings, checked=False)
    assert unchecked.steps == checked.steps > 0
    assert _rules(unchecked) == _rules(checked)
    assert unchecked.outcomes == checked.outcomes
    assert checked.checks["invariant checks"] == checked.steps
    assert checked.checks["specification checks"] > 0
    assert +unchecked.checks == Counter(), unchecked.checks


def test_unchecked__the_twin_refusing_what_the_chain_does__still_fails(revm, monkeypatch):
    """The floor keeps the lockstep: the twin refusing a stablecoin transfer the chain makes is
    a Divergence in the unchecked run too (the floor runs both sides and compares outcomes)."""

    def refused(self, sender, src, dst, amount):
        raise Revert("planted: the twin refuses")

    monkeypatch.setattr(VaultEngine, "transfer_stable", refused)
    with pytest.raises(Divergence, match="planted: the twin refuses"):
        run_machine(revm, "full", _UNSHRUNK.settings(phases=(Phase.generate,)), checked=False)


# ---------------------------------------------------------------- the model's invariants (revm)


def test_model_checks__run_after_a_step_that_writes_their_reads__skipped_otherwise(system):
    """On the storage path the invariants are checked on the model, each after a step that wrote
    what it declares it reads (offchain/testing/model_checks.py): a step that pokes the oracle
    alone runs none of them; one that moves stablecoin runs the engine's."""
    checker = Checker(system, FULL_EVERY, net_every=100)
    checker.after_step()  # the first step: the net, every check
    ran = checker.counts["invariants run"]
    assert ran == len(model_checks.CHECKS)
    _poke(system)
    checker.after_step()
    assert checker.counts["invariants run"] == ran
    r = system.roles
    system.tx(system.d.engine, "create_unbacked", r.governance, r.governance, r.other, RAD)
    checker.after_step()
    assert checker.counts["invariants run"] > ran


def _plant_stable(system, who: str, amount: int, journaled: bool, total: bool) -> None:
    """`amount` more stablecoin for `who` in the engine (and in its total, with `total`), on the
    chain and in the model alike (their storage stays equal), outside any transaction;
    `journaled`: shown in the model's journal of the step as a transaction's writes are."""
    engine, env = system.engine(), system.model.env
    if journaled:
        env.write_log.append(("item", engine.stable, who, dict.get(engine.stable, who, 0)))
    dict.__setitem__(engine.stable, who, engine.stable[who] + amount)
    evm, address = system.chain.evm, system.d.engine
    slot = _engine_slot("stable", who)
    evm.insert_account_storage(address, slot, evm.storage(address, slot) + amount)
    if total:
        object.__setattr__(engine, "total_issued", engine.total_issued + amount)
        slot = storage.layout("VaultEngine")["total_issued"]
        evm.insert_account_storage(address, slot, evm.storage(address, slot) + amount)


def test_model_checks__a_read_the_declaration_misses__found_by_the_net(system, monkeypatch):
    """A check whose declaration leaves out what it reads (I1 declared to read the engine's
    total alone) is not run after a step that writes only the balances; the safety net runs
    every check and finds the broken I1."""
    declared = [
        model_checks.Check(c.name, ("engine.total_issued",), c.run)
        if c.name == "supply and debt"
        else c
        for c in model_checks.CHECKS
    ]
    monkeypatch.setattr(model_checks, "CHECKS", declared)
    checker = Checker(system, FULL_EVERY, net_every=3)
    checker.after_step()  # step 1: the net
    _poke(system)
    _plant_stable(system, system.roles.stranger, 1, journaled=True, total=False)
    checker.after_step()  # step 2: I1 not due (its declaration misses the balances)
    _poke(system)
    with pytest.raises(AssertionError, match=r"I1 total_issued .* != sum\(stable\)"):
        checker.after_step()  # step 3: the net


def test_model_checks__a_sum_kept_over_a_write_the_journal_misses__found_by_the_net(system):
    """The sums over the maps are kept over the journal's writes; one the journal misses (a
    balance written outside it) leaves the kept sum behind the map's: the net counts every sum
    again and names the one that drifted."""
    checker = Checker(system, FULL_EVERY, net_every=3)
    checker.after_step()
    _poke(system)
    _plant_stable(system, system.roles.stranger, 1, journaled=False, total=True)  # I1 holds
    checker.after_step()  # step 2: the oracle's; nothing of the engine is due
    _poke(system)
    with pytest.raises(AssertionError, match=r"the sum stable of .* drifted"):
        checker.after_step()
