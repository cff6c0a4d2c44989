"""The differential machines' check after every step, made cheap without making it weaker.

A full comparison (every observable variable of every contract, on the EVM and in the model,
offchain/system/reads.py) after every step is what limits the fuzz's speed. `Checker` compares,
after a step, what the step can have changed:

- every variable the model wrote (its transactions' journals, `Env.write_log`), mapped to the
  getters that read it;
- every entry of a contract that logged an event in the step whose arguments the events name
  (the EVM's events, equal to the model's by Lockstep), and every scalar variable of it;
- every getter that is a computed view (its inputs are not tracked);

and the complete state every `full_every` steps, whenever the set of variables changes (a new
auction, charge or loss), and at the end of every example (`full`). A variable that differs
without either side having touched it is therefore found at the next full comparison at the
latest (tests/fuzz/test_checking.py plants one). Between full comparisons the EVM's state is
kept as a mirror updated with every value read, and the invariants are checked on it after every
step (and on the model's complete storage), as before.

On revm (`RevmBackend`) the check after a step compares storage instead (issue 49; `storage=None`,
the default, chooses it there; `storage=False` keeps the views, as the benchmark's side-by-side
does). The storage encoder (offchain/testing/storage.py) writes the model's state as the
contracts' storage words, and after every step they are compared with revm's, word for word:

- after a step, the slots of what the step wrote: of every contract the step wrote in the model
  or that logged an event, every scalar word (and small array), and of its maps the entries of
  the keys the model's journal shows written (storage.expected with `written`; a map replaced
  whole, all of it). That is stricter than the touched views: a slot or a bit no view returns is
  compared too (a packed flag, a word no getter reads whole);
- the safety net: every claimed slot of every contract every `net_every` steps (a setting,
  STORAGE_ALL_EVERY by default), at an example's first step and after a write that cannot be
  placed. pyrevm 0.3.7 does not tell which slots a transaction wrote (no state diff; its
  journal's rendering holds the whole state: `unclaimed` below), so a slot the EVM alone wrote,
  or a write the model's journal misses, outside the entries compared after the step, is found
  there: within `net_every` steps (tests/fuzz/test_checking.py plants one). A slot of a contract
  no step touches likewise;
- every computed view (its code is not storage), on the EVM and in the model, after a step that
  wrote a model attribute it reads (VIEW_READS: its own contract's, or a contract's it calls),
  when it comes into view, and at the safety net. Its value is a function of those attributes'
  storage alone (no block, no other contract: tests/fuzz/test_view_reads.py replaces every
  other contract's code and moves the block, and the value stays; and traces the attributes
  the model's code of the view reads), so a view none of whose attributes the model wrote holds
  the value last compared in the model, and on the chain unless the chain alone wrote one of
  them: a write of the chain's alone is found at the net, its computed views as its slots (and
  missed, by both, if the chain writes it back before then). A computed view not listed there
  is compared after every step;
- the complete views at a run's first step and then every STORAGE_VIEWS_EVERY checked steps of
  the run, over its examples (`run`, the machines' Totals), and the invariants of
  offchain/system/invariants.py on them: the slots they read are compared after every step, so
  what is left to them is the getters' own code;
- at each example's end (`full`): every slot of every contract, and no non-zero slot of a model
  contract that no variable claims (`storage.unclaimed`: a write to a key the model never
  wrote, which a claimed-slot comparison cannot see), and the net's invariants.

The invariants are checked on the model after every step, each after a step that wrote what it
declares it reads, every one at the net (offchain/testing/model_checks.py: the storage
comparison proved the slots the step wrote the chain's). Only the computed views' calls are
indexed (`_rekey_views`); the complete calls are taken when the complete views are due.
"""

from __future__ import annotations

import collections
import dataclasses
import re
from collections.abc import Callable
from typing import Any

from offchain.backends.revm import RevmBackend
from offchain.model.state import NO_VALUE, Storage
from offchain.system.invariants import (
    LossLedger,
    key_groups,
    model_invariants,
    state_invariants,
)
from offchain.system.reads import StateKeys, account_calls, id_calls, state_keys
from offchain.testing import storage as storage_words
from offchain.testing.harness import System
from offchain.testing.model_checks import ModelChecks
from offchain.testing.stats import Totals

_Call = tuple[str, str, str, tuple]  # (state key, address, getter, arguments)
# getters whose model attribute has another name (offchain/backends/model.py, _MODEL_GETTERS)
_GETTER_ATTRIBUTE = {
    "totalSupply": "total_supply",
    "balanceOf": "balance_of",
    # the Backstop's view of a vault's deleveraging window (start, used) reads this packed map
    "deleverage_window": "deleverage_windows",
}
_SCALAR = object()  # the key of a variable that is not a mapping
# on the storage path, every slot of every contract is compared every this many steps (and at
# each example's first and last: the safety net, `Checker(net_every=...)`); in between, the slots
# of what the step wrote (the module docstring)
STORAGE_ALL_EVERY = 10
# ... and the complete views every this many checked steps of a run (over its examples; and at
# the first example's end): the slots they read are compared after every step, so what they add
# is the getters' own code, which the computed views, compared with the storage they read,
# exercise too
STORAGE_VIEWS_EVERY = 500
# the computed views whose value is a function of the model inputs named alone: attributes of
# their own contract, or (`x.attribute`) of the contract its attribute `x` is (a model contract or
# its address: the one it calls), a map's entry (`attribute[args]`: the view's arguments as the
# key; `attribute[y]`: its contract's attribute y as the key) and a field of it (`...].field`):
# no block, no caller, no other contract. On the storage path each is compared after a step that
# changed one of its inputs (its value before the step, from the model's journal, against its
# value now: Checker._changed), at the safety net and when it comes into view. The contracts are
# held on the EVM by tests/fuzz/test_view_reads.py (every other contract's code replaced, the
# block moved); the attributes in the model by the same walk (every attribute a view's model
# code reads is named). A computed view not listed is compared after every step. (A token's
# DOMAIN_SEPARATOR reads its name, set at deployment, its immutables and chain.id.)
VIEW_READS: dict[tuple[str, str], tuple[str, ...]] = {
    ("StabilityPool", "value_of"): ("shares[args]", "assets", "total_shares"),
    ("StabilityPool", "is_realized"): ("shares[args]", "next_charge[args]", "charge_count"),
    ("Backstop", "get_waterfall"): ("waterfall",),
    ("Backstop", "deleverage_due"): ("due_to_deleverage[args]", "live"),
    ("Backstop", "open_losses"): ("open_losses_count",),
    ("Backstop", "unsettled_proceeds"): ("unsettled",),
    ("Backstop", "loss_number"): ("loss_numbers[args]",),
    ("Backstop", "loss_opened_at"): ("numbered_opened_at[args]",),
    ("Backstop", "loss_done"): ("numbered_done[args]",),
    ("Backstop", "unattributed_debt"): (
        "attributed_debt",
        "debt_to_auction",
        "debt_on_auction",
        "deleverage_total",
        "engine",
        "engine.bad_debt[address]",
    ),
    ("DutchAuction", "active_count"): ("free", "opened_words"),
    ("DutchAuction", "next_id"): ("free", "generations"),
    ("DutchAuction", "min_auction"): (
        "min_auction",
        "collateral_type",
        "engine",
        "liquidator",
        "engine.collateral_types[collateral_type].dust",
        "liquidator.types[collateral_type].penalty",
    ),
    ("MarginCall", "parameters"): ("packed_parameters[args]",),
    ("VaultEngine", "size_margin"): ("size_margins[args]",),
    ("Stablecoin", "DOMAIN_SEPARATOR"): ("name",),
    ("GovernanceToken", "DOMAIN_SEPARATOR"): ("name",),
}
_WHOLE = object()  # an input that is an attribute as a whole (not one entry of a map)
_READ = re.compile(
    r"^(?:(?P<contract>\w+)\.)?(?P<attribute>\w+)(?:\[(?P<key>\w+)\])?(?:\.(?P<field>\w+))?$"
)


@dataclasses.dataclass(frozen=True)
class _Input:
    """One input of a computed view: a model contract's attribute, one entry of it (`key`), one
    field of that (`field`)."""

    address: str
    attribute: str
    key: Any = _WHOLE
    field: str | None = None


# (deployment, accounts) -> the computed views among reads.account_calls of those accounts:
# the same for every example of a run (the storage path's `_rekey_views`); a few runs' worth
_ACCOUNT_VIEWS: dict[tuple[int, tuple[str, ...]], tuple[Any, list[_Call]]] = {}


def _account_views(
    d: Any, accounts: tuple[str, ...], attribute: Callable[[str, str], str | None]
) -> list[_Call]:
    """The computed views (`attribute` None) of reads.account_calls of `accounts` (no holders),
    kept for the next example of the run."""
    kept = _ACCOUNT_VIEWS.get((id(d), accounts))
    if kept is not None and kept[0] is d:
        return kept[1]
    calls = account_calls(d, StateKeys(accounts))
    views = [call for call in calls if attribute(call[1], call[2]) is None]
    if len(_ACCOUNT_VIEWS) >= 8:
        _ACCOUNT_VIEWS.clear()
    _ACCOUNT_VIEWS[(id(d), accounts)] = (d, views)
    return views


def _added_ids(old: StateKeys, new: StateKeys) -> StateKeys | None:
    """The ids `new` adds to `old` (the same accounts and holders, every id of `old` kept), as
    keys of those ids alone; None when `new` is not `old` with ids added."""
    if old.accounts != new.accounts or old.holders != new.holders:
        return None
    ranges = []
    for before, after in (
        (old.charge_ids, new.charge_ids),
        (old.debt_auction_ids, new.debt_auction_ids),
        (old.surplus_auction_ids, new.surplus_auction_ids),
        (old.loss_numbers, new.loss_numbers),
    ):
        if after[: len(before)] != before:
            return None
        ranges.append(after[len(before) :])
    auctions = []
    was = dict(old.auction_ids)
    for name, ids in new.auction_ids:
        kept = set(was.pop(name, ()))
        if not kept <= set(ids):
            return None
        auctions.append((name, tuple(i for i in ids if i not in kept)))
    if was:
        return None
    return StateKeys((), tuple(auctions), *ranges)


def _storage_key(args: tuple) -> Any:
    """The model's mapping key of a getter's arguments (one argument: itself; more: the tuple)."""
    if not args:
        return _SCALAR
    return args[0] if len(args) == 1 else tuple(args)


class StateDiffers(AssertionError):
    """The EVM and the model hold different values (the message lists them)."""


class Checker:
    """After-step checks of one example (see the module docstring): `after_step()` after every
    step, `full()` at its end. `counts` says how many checks of each kind ran and how many values
    they compared."""

    def __init__(
        self,
        system: System,
        full_every: int,
        storage: bool | None = None,
        run: Totals | None = None,
        checked: bool = True,
        net_every: int | None = None,
    ):
        self.s = system
        # False: no check at all (the benchmark's floor, offchain/bench/figures.py: never used to
        # check anything)
        self.checked = checked
        # compare storage after every step (see the module docstring): revm only
        self.storage = isinstance(system.chain, RevmBackend) if storage is None else storage
        if self.storage and not isinstance(system.chain, RevmBackend):
            raise ValueError("a storage comparison needs revm (RevmBackend)")
        self.full_every = full_every
        # the storage path's safety net: every slot of every contract every this many steps
        self.net_every = STORAGE_ALL_EVERY if net_every is None else net_every
        # the run's counts: on the storage path, its steps since the complete views
        self._run = run if run is not None else Totals()
        self.counts: collections.Counter = collections.Counter()
        self._steps = 0
        self._env = system.model.env
        # the model's journal of writes (what a step touched): the checks' only
        self._env.write_log = [] if checked else None
        self._n_logs = len(self._env.logs)
        self._keys: StateKeys | None = None
        self._calls: list[_Call] = []
        self.mirror: dict[str, Any] = {}
        # the mirror's keys grouped for the invariants (rebuilt when keys are added)
        self._groups: dict[str, list[str]] = {}
        self._grouped = 0
        # the calls of the present keys by what they read (built by `_rekey`)
        self._by_key: dict[tuple[str, str, Any], list[_Call]] = {}
        self._by_attribute: dict[tuple[str, str], list[_Call]] = {}
        self._by_argument: dict[tuple[str, Any], list[tuple[frozenset, _Call]]] = {}
        self._scalars: dict[str, list[_Call]] = {}
        self._views: list[_Call] = []
        self._view_set: set[_Call] = set()
        # a computed view's call -> the contracts whose storage it reads (None: unknown, so
        # compared after every step); the calls that came into view this step
        self._view_reads: dict[_Call, frozenset[str] | None] = {}
        # ... and its inputs (None: unknown)
        self._view_inputs: dict[_Call, tuple[_Input, ...] | None] = {}
        # the first value before the step of each (contract, attribute) it wrote
        self._attribute_olds: dict[tuple[str, str], Any] = {}
        self._fresh: set[_Call] = set()
        # the contracts a step wrote in the model or that logged an event (`_touched`)
        self._dirty: set[str] = set()
        # of those, the keys the step wrote per model map (id -> keys), and the contracts a map
        # of which was replaced whole
        self._written: dict[int, set[Any]] = {}
        self._whole: set[str] = set()
        self._owners: dict[int, tuple[str, str]] = {}
        # the storage path's placing of a step's writes (`_placed`)
        self._olds: dict[int, dict[Any, Any]] = {}
        self._written_attributes: set[tuple[str, str]] = set()
        self._logged: set[str] = set()
        # the calls of the accounts and holders, and of the ids (`_rekey`)
        self._account_calls: list[_Call] = []
        self._id_calls: list[_Call] = []
        # the storage path's invariants on the model (model_checks.py), made at its first step
        self._checks: ModelChecks | None = None
        self._holder_has_views: bool | None = None
        # loss conservation's sums over the model's log, the step's events added
        self._ledger = LossLedger(system.d.backstop, system.d.stability_pool)
        self._attributes: dict[tuple[str, str], str | None] = {}

    # ---------------------------------------------------------------- the checks

    def after_step(self) -> None:
        """The check after a step: a full comparison when one is due, else what the step
        touched (and every variable that came into view: a new auction, charge or loss); then
        the invariants. On revm, the storage path (the module docstring)."""
        if not self.checked:
            return
        self._steps += 1
        keys = self._state_keys()
        if self.s.model.env is not self._env:
            # a branch (System.what_if) put the model's copy in its place: what the step
            # touched is in the copy's journal only in part, so everything is compared (the
            # copy's log shares the events up to the last step's end)
            self._env = self.s.model.env
            self._env.write_log = []
            if self.storage:
                # the copy's maps: its owners found again, its sums counted again, every
                # invariant checked (the net's, in `full`) as this step's
                self._checks, self._owners = None, {}
                self.full(keys, step=True)
                return
            self.full(keys)
            self._invariants()
            return
        if self.storage:
            self._storage_step(keys)
            return
        positions = None
        if self._keys is not None and self._steps % self.full_every:
            positions = self._touched(keys)
        if positions is None:
            self.full(keys)
        else:
            self._compare(positions)
            self._end_step()
        self._invariants()

    def full(self, keys: StateKeys | None = None, step: bool = False) -> None:
        """Compare the complete observable state (and index it for the touched checks); on the
        storage path, the complete storage, no non-zero slot unclaimed, and the complete views
        when due over the run (else the computed ones)."""
        if not self.checked:
            return
        keys = keys or self._state_keys()
        seen = self._keys is not None  # a step was checked: its writes since can be placed
        if keys != self._keys:
            self._rekey(keys)
        if self.storage:
            self._compare_storage(unclaimed=True)
            if self._views_due():
                self._compare_views()
            else:
                self._compare(self._views, cache=True)
            self._model_checks(seen and self._placed(), True, step=step)
        else:
            self._compare(self._calls)
            self.counts["full checks"] += 1
        self._end_step()

    def _storage_step(self, keys: StateKeys) -> None:
        """After a step on revm: the storage of what the step wrote, the computed views whose
        storage it wrote, and the model's invariants whose reads it wrote (model_checks.py); the
        safety net (every slot of every contract, every computed view, every invariant, every
        sum counted again) every `net_every` steps, at an example's first step and after a
        write that cannot be placed; the complete views when due."""
        if self._run.steps_since_views is not None:
            self._run.steps_since_views += 1
        first = self._keys is None
        self._fresh = set(self._rekey(keys)) if keys != self._keys else set()
        placed = not first and self._placed()
        net = not placed or not self._steps % self.net_every
        if net:
            self._compare_storage()
        else:
            self._compare_storage(self._dirty, self._written, self._whole)
        if self._views_due():
            self._compare_views()
        elif net:
            self._compare(self._views, cache=True)
            self.counts["computed views compared"] += len(self._views)
        else:
            self._compare(self._computed_due())
        self._model_checks(placed, net)
        self._end_step()

    def _model_checks(self, placed: bool, net: bool, step: bool = True) -> None:
        """The model's invariants whose reads the step wrote (every one at the net), the sums
        kept over the step's writes (counted again when the writes were not placed)."""
        checks = self._checks
        if checks is None:
            checks = self._checks = ModelChecks(self.s.model, self.s.d)
        if placed:
            checks.follow(self._olds)
        else:
            checks.recount()
        problems = checks.run(self._written_attributes, self._logged, net=net)
        self.counts["invariant checks" if step else "invariant checks at the end"] += 1
        self.counts["invariants run"] = checks.ran
        self.counts["invariants skipped"] = checks.skipped
        assert not problems, "invariants violated:\n" + "\n".join(problems)

    def _placed(self) -> bool:
        """What the step wrote, from the model's journal and the step's events: the contracts
        (`_dirty`), their maps' keys (`_written`) with each key's value before the step
        (`_olds`), the (contract, attribute) pairs (`_written_attributes`), the contracts that
        logged (`_logged`) and those a map of which was replaced (`_whole`). False when a write
        cannot be placed (a map of no known contract)."""
        dirty: set[str] = set()
        written: dict[int, set[Any]] = {}
        olds: dict[int, dict[Any, Any]] = {}
        attributes: set[tuple[str, str]] = set()
        whole: set[str] = set()
        owners = self._owners
        attribute_olds: dict[tuple[str, str], Any] = {}
        for entry in self._env.write_log or ():
            if entry[0] == "attr":
                address, attribute = entry[1].address, entry[2]
                dirty.add(address)
                attributes.add((address, attribute))
                attribute_olds.setdefault((address, attribute), entry[3])
                if isinstance(getattr(entry[1], attribute, None), Storage):
                    whole.add(address)  # a map replaced: its every entry is new
                continue
            storage = entry[1]
            owner = owners.get(id(storage))
            if owner is None:
                self._find_owners()
                owners = self._owners
                owner = owners.get(id(storage))
                if owner is None:
                    return False
            in_map = written.get(id(storage))
            if in_map is None:
                in_map = written[id(storage)] = set()
                olds[id(storage)] = {}
            if entry[2] not in in_map:
                in_map.add(entry[2])
                olds[id(storage)][entry[2]] = entry[3]  # the first write's: before the step
            dirty.add(owner[0])
            attributes.add(owner)
        logged = {event.address for event in self._env.logs[self._n_logs :]}
        self._dirty, self._written, self._olds = dirty | logged, written, olds
        self._written_attributes, self._logged, self._whole = attributes, logged, whole
        self._attribute_olds = attribute_olds
        self.counts["touched checks"] += 1
        return True

    def _computed_due(self) -> list[_Call]:
        """The computed views an input of which the step changed (VIEW_READS), the ones that
        came into view, and every one whose inputs are not known."""
        fresh, inputs = self._fresh, self._view_inputs
        due = []
        for call in self._views:
            read = inputs[call]
            if read is None or call in fresh or any(self._changed(i) for i in read):
                due.append(call)
        self.counts["computed views compared"] += len(due)
        self.counts["computed views skipped"] += len(self._views) - len(due)
        return due

    def _views_due(self) -> bool:
        """The storage path's complete views are due: never compared in this run yet, or
        STORAGE_VIEWS_EVERY steps of the run ago."""
        since = self._run.steps_since_views
        return since is None or since >= STORAGE_VIEWS_EVERY

    def _compare_views(self) -> None:
        """The complete views, chain against model (the mirror refreshed from the chain), and
        the invariants on them (on the storage path; the view path checks them after every
        step)."""
        self._compare(self._complete_calls())
        self.counts["full checks"] += 1
        self._run.steps_since_views = 0
        if self.storage:
            self._invariants("invariant checks on the complete views")

    def _compare_storage(
        self,
        only: set[str] | None = None,
        written: dict[int, set[Any]] | None = None,
        whole: set[str] | frozenset[str] = frozenset(),
        unclaimed: bool = False,
    ) -> None:
        """Every claimed slot of every model contract (of those at the addresses `only`, when
        given; of their maps only the entries of the keys `written`, unless at an address in
        `whole`: storage.expected), revm's word against the model's (and, with `unclaimed`, every
        non-zero slot of theirs claimed)."""
        words = storage_words.expected(self.s.model, only, written, whole)
        found = [str(d) for d in storage_words.compare(self.s.chain, self.s.model, words)]
        if unclaimed:
            found += [
                f"{self.s.model.names[a]} {a} slot {slot:#x} = {word:#x}: no variable claims it"
                for a, slot, word in storage_words.unclaimed(self.s.chain, self.s.model, words)
            ]
        self.counts["storage checks"] += 1
        self.counts["slots compared"] += sum(len(claimed) for claimed in words.values())
        if found:
            raise StateDiffers("storage differs:\n" + "\n".join(found[:20]))

    def _rekey(self, keys: StateKeys) -> list[_Call]:
        """Take the calls of `keys` (more than before: a new auction, charge or loss) and index
        the new ones; returns them. Ids added to the last keys add their calls alone
        (reads.id_calls); other accounts or holders, all of them again. On the storage path
        only the computed views are indexed (`_rekey_views`)."""
        if self.storage:
            return self._rekey_views(keys)
        old, self._keys = self._keys, keys
        added = None if old is None else _added_ids(old, keys)
        if added is None:
            known = set(self._calls)
            self._account_calls = account_calls(self.s.d, keys)
            self._id_calls = id_calls(self.s.d, keys)
            self._calls = self._account_calls + self._id_calls
            new = [call for call in self._calls if call not in known]
        else:
            new = id_calls(self.s.d, added)
            self._id_calls += new
            self._calls = self._account_calls + self._id_calls
        self._index(new)
        return new

    def _rekey_views(self, keys: StateKeys) -> list[_Call]:
        """The storage path's `_rekey`: after a step it compares computed views only, so only
        they are indexed: those of the accounts and types (again when the accounts change) and
        those of the ids added. The holders (a story's vault owners) have none (`_holder_views`
        says so, or they are indexed again too). The complete calls are taken when the complete
        views are due (`_complete_calls`)."""
        old, self._keys = self._keys, keys
        self._calls = []  # stale: taken again when due
        added = None
        if old is not None and (old.holders == keys.holders or not self._holder_views()):
            added = _added_ids(dataclasses.replace(old, holders=keys.holders), keys)
        if added is None:
            known = set(self._views)
            if keys.holders and self._holder_views():
                calls = account_calls(self.s.d, keys)
            else:
                calls = _account_views(self.s.d, keys.accounts, self._attribute)
            calls = calls + id_calls(self.s.d, keys)
            self._views, self._view_set = [], set()
            self._index(calls)
            return [call for call in self._views if call not in known]
        before = len(self._views)
        self._index(id_calls(self.s.d, added))
        return self._views[before:]

    def _holder_views(self) -> bool:
        """Whether a holder's calls (reads.account_calls of one holder) have a computed view."""
        if self._holder_has_views is None:
            probe = "0x000000000000000000000000000000000000dEaD"
            calls = account_calls(self.s.d, StateKeys((), holders=(probe,)))
            self._holder_has_views = any(
                probe in args and self._attribute(address, fn) is None
                for _, address, fn, args in calls
            )
        return self._holder_has_views

    def _complete_calls(self) -> list[_Call]:
        """Every call of the present keys (the storage path takes them only when due)."""
        if not self._calls:
            self._account_calls = account_calls(self.s.d, self._keys or self._state_keys())
            self._id_calls = id_calls(self.s.d, self._keys or self._state_keys())
            self._calls = self._account_calls + self._id_calls
        return self._calls

    def _state_keys(self) -> StateKeys:
        s = self.s
        return state_keys(s.model, s.d, s.roles.users + list(s.extra_holders), s.vault_owners)

    def _end_step(self) -> None:
        self._env.write_log = []
        self._n_logs = len(self._env.logs)

    def _compare(self, calls: list[_Call], cache: bool = False) -> None:
        """The views `calls` on the chain against the model (the chain's kept in the mirror);
        `cache`: the chain's request is kept for the same calls (the complete ones always)."""
        if not calls:
            return
        reads = [(address, fn, args) for _, address, fn, args in calls]
        on_chain = self.s.chain.views(reads, cache=cache or len(calls) == len(self._calls))
        in_model = self.s.model.views(reads)
        diffs = []
        for (key, _, _, _), chain_value, model_value in zip(calls, on_chain, in_model):
            if chain_value != model_value:
                diffs.append(f"{key}: chain {chain_value!r} model {model_value!r}")
            self.mirror[key] = chain_value
        self.counts["values compared"] += len(calls)
        if diffs:
            raise StateDiffers("state differs:\n" + "\n".join(diffs[:20]))

    def _invariants(self, count: str = "invariant checks") -> None:
        """I1-I5 and the rest of offchain/system/invariants.py on the mirror (the chain's
        values) and on the model's complete storage, counted under `count`."""
        holders = (
            self.s.roles.users
            + [a for _, a in self.s.d.contracts()]
            + list(self.s.extra_holders)
            + list(self.s.vault_owners)
        )
        if len(self._groups) == 0 or self._grouped != len(self.mirror):
            self._groups, self._grouped = key_groups(self.mirror), len(self.mirror)
        problems = state_invariants(
            self.mirror, self.s.d, holders, self._groups
        ) + model_invariants(self.s.model, self.s.d, self._ledger)
        assert not problems, "invariants violated:\n" + "\n".join(problems)
        self.counts[count] += 1

    # ---------------------------------------------------------------- what a step touched

    def _touched(self, keys: StateKeys) -> list[_Call] | None:
        """The calls whose value the step can have changed (and the new ones, when the keys
        grew); None when a write cannot be placed (a full comparison then)."""
        out: set[_Call] = set(self._rekey(keys)) if keys != self._keys else set()
        self._fresh = set(out)
        out.update(self._views)
        dirty = self._dirty = set()
        written: dict[int, set[Any]] = {}
        self._written, self._whole = written, set()
        for entry in self._env.write_log or ():
            if entry[0] == "attr":
                address, attribute = entry[1].address, entry[2]
                out.update(self._by_attribute.get((address, attribute), ()))
                dirty.add(address)
                if isinstance(getattr(entry[1], attribute, None), Storage):
                    self._whole.add(address)  # a map replaced: its every entry is new
                continue
            in_map = written.get(id(entry[1]))
            if in_map is None:
                in_map = written[id(entry[1])] = set()
            in_map.add(entry[2])
            owner = self._owners.get(id(entry[1]))
            if owner is None:
                self._find_owners()
                owner = self._owners.get(id(entry[1]))
                if owner is None:
                    return None
            out.update(self._by_key.get((*owner, entry[2]), ()))
            dirty.add(owner[0])
        for event in self._env.logs[self._n_logs :]:
            dirty.add(event.address)
            out.update(self._scalars.get(event.address, ()))
            values = {v for v in event.args.values() if isinstance(v, (int, str, bytes))}
            for value in values:
                for arguments, call in self._by_argument.get((event.address, value), ()):
                    if arguments <= values:
                        out.add(call)
        self.counts["touched checks"] += 1
        return list(out)

    def _find_owners(self) -> None:
        """Which contract attribute each of the model's mappings is."""
        self._owners = {
            id(value): (address, name)
            for address, contract in self._env.contracts.items()
            for name, value in vars(contract).items()
            if isinstance(value, Storage)
        }

    def _attribute(self, address: str, fn: str) -> str | None:
        """The model attribute getter `fn` of the contract at `address` reads; None for a
        computed view."""
        key = (address, fn)
        if key not in self._attributes:
            contract = self.s.model.contract(address)
            attribute = _GETTER_ATTRIBUTE.get(fn, fn)
            declared = getattr(type(contract), attribute, None)
            computed = callable(declared) or isinstance(declared, property)
            self._attributes[key] = None if computed else attribute
        return self._attributes[key]

    def _reads_of(
        self, address: str, fn: str, args: tuple
    ) -> tuple[frozenset[str], tuple[_Input, ...]] | None:
        """The contracts whose storage computed view `fn(*args)` at `address` reads, and its
        inputs (VIEW_READS); None when not listed."""
        named = VIEW_READS.get((self.s.model.names[address], fn))
        if named is None:
            return None
        contract = self.s.model.contract(address)
        contracts, inputs = {address}, []
        for read in named:
            parts = _READ.match(read)
            assert parts is not None, f"VIEW_READS {fn}: {read!r} is not a read"
            at = address
            if parts["contract"]:  # the contract it calls: a model contract, or its address
                value = getattr(contract, parts["contract"])
                at = value if isinstance(value, str) else value.address
                contracts.add(at)
            key: Any = _WHOLE
            if parts["key"] == "args":
                key = _storage_key(args)
            elif parts["key"]:
                key = getattr(contract, parts["key"])
            inputs.append(_Input(at, parts["attribute"], key, parts["field"]))
        return frozenset(contracts), tuple(inputs)

    def _changed(self, read: _Input) -> bool:
        """Whether the step changed `read`'s value (written, and its value before the step,
        from the journal, is not its value now)."""
        if (read.address, read.attribute) not in self._written_attributes:
            return False
        contract = self.s.model.contract(read.address)
        now: Any = getattr(contract, read.attribute, None)
        if (read.address, read.attribute) in self._attribute_olds:
            if read.key is not _WHOLE or isinstance(now, Storage):
                return True  # a map replaced whole
            before = self._attribute_olds[(read.address, read.attribute)]
        else:
            if read.key is _WHOLE:
                return True  # a map with an entry written
            olds = self._olds.get(id(now), {})
            if read.key not in olds:
                return False
            default = getattr(now, "_default", 0)
            before = olds[read.key]
            before = default if before is NO_VALUE else before
            now = dict.get(now, read.key, default)
        if read.field is not None:
            before, now = getattr(before, read.field), getattr(now, read.field)
        return bool(before != now)

    def _index(self, calls: list[_Call]) -> None:
        for call in calls:
            _, address, fn, args = call
            attribute = self._attribute(address, fn)
            if attribute is None:
                self._views.append(call)  # computed: its inputs are storage or unknown
                self._view_set.add(call)
                reads = self._reads_of(address, fn, args)
                self._view_reads[call] = None if reads is None else reads[0]
                self._view_inputs[call] = None if reads is None else reads[1]
                continue
            if self.storage:
                continue  # the storage path compares slots, not these getters, after a step
            self._by_key.setdefault((address, attribute, _storage_key(args)), []).append(call)
            self._by_attribute.setdefault((address, attribute), []).append(call)
            if not args:
                self._scalars.setdefault(address, []).append(call)
            else:
                self._by_argument.setdefault((address, args[0]), []).append((frozenset(args), call))
        if not self.storage:  # the storage path finds them when a write needs them (`_placed`)
            self._find_owners()
