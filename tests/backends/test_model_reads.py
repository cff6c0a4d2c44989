"""The model's keeper reads written for speed, held to what they replace. The batched reads
(backends/model.py, ModelReader.many): a run of `status` reads of one auction is answered by the
twin's `statuses` (model/dutch_auction.py) at once; every value equals the twin's own `status`
read one at a time, at any block time, in any mix of getters and auctions, and in the order
asked. The twin's `active_auctions` (its bitmap read a word at a time) lists what its definition
lists. (Both are views of DutchAuction.vy: the differential fuzz holds them to the contract.)"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from offchain.backends import ModelBackend, model_value
from offchain.backends.model import ModelReader
from offchain.model.dutch_auction import MAX_ACTIVE, PAGE, SLOT_BITS
from offchain.model.fixed_point import MAX_UINT256, RAY
from offchain.sim.run.driver import Simulation
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.timeline import genesis_time


class _Checked(ModelBackend):
    """A model backend that answers every batch of reads holding a `status` read twice: batched,
    and one read at a time (each status by the twin's own `status`); it keeps any difference.
    The first batches that find at least PROBE auctions running are probed further (_probe)."""

    PROBE = 20

    def __init__(self, genesis: int):
        super().__init__(genesis)
        self.batches = self.statuses = self.resets = self.probed = 0
        self.differences: list[tuple] = []
        self.read_from: set[str] = set()  # auctions whose running auctions were read
        self.rng = random.Random(7)

    def views(self, calls, cache=True):
        got = self._compare(calls)
        running = [c for c, v in zip(calls, got) if c[1] == "status" and v[3] != 0]
        if len(running) >= self.PROBE and self.probed < 3:
            self._probe(calls, running)
        return got

    def _compare(self, calls):
        got = super().views(calls)
        if any(fn == "status" for _, fn, _ in calls):
            one_by_one = [
                self.contract(a).status(*args) if fn == "status" else model_value(self, a, fn, args)
                for a, fn, args in calls
            ]
            if got != one_by_one:
                self.differences.append((self.env.timestamp, calls, got, one_by_one))
            self.batches += 1
            self.statuses += sum(fn == "status" for _, fn, _ in calls)
            self.resets += sum(v[0] for v, (_, fn, _) in zip(got, calls) if fn == "status")
            self.read_from |= {a for (a, fn, _), v in zip(calls, got) if fn == "status" and v[3]}
        return got

    def _probe(self, calls, running):
        """The same reads, and the running auctions' mixed with other getters in broken runs, at
        later times (to well past max duration, and each side of the second at which sampled
        auctions pass it), with max_drop as deployed, at 0 (governance may set it: then max
        duration alone decides a reset) and at a running auction's price / top exactly (where
        the reset starts); time and max_drop put back after."""
        self.probed += 1
        now = self.env.timestamp
        auctions = sorted({a for a, _, _ in running})
        times = [now + later for later in (0, 1, 599, 3_600, 7_201, 86_400, 10**7)]
        for a, _, (i,) in running[:: max(1, len(running) // 6)]:
            c = self.contract(a)
            times += [c.auctions[i].started + c.max_duration + d for d in (-1, 0, 1)]
        drops = {a: self.contract(a).max_drop for a in auctions}
        try:
            for time, max_drop in [(t, d) for t in times for d in (None, 0, "edge")]:
                self.env.timestamp = time
                for a in auctions:
                    c = self.contract(a)
                    if max_drop == "edge":  # a first running auction's price / top exactly
                        first = next(i for b, _, (i,) in running if b == a)
                        c.max_drop = drops[a]
                        c.max_drop = c.status(first)[1] * RAY // c.auctions[first].top
                    else:
                        c.max_drop = drops[a] if max_drop is None else max_drop
                mixed = list(calls) + [(a, "status", (10**9,)) for a in auctions]  # never started
                mixed.insert(len(mixed) // 3, (auctions[0], "active_count", ()))
                head = mixed[: len(mixed) // 2]
                self.rng.shuffle(head)  # runs of one auction, broken and mixed
                mixed[: len(head)] = head
                self._compare(mixed)
        finally:
            self.env.timestamp = now
            for a in auctions:
                self.contract(a).max_drop = drops[a]


@pytest.fixture(scope="module")
def ran():
    """may-2021-two-types at 500 vaults in the model, every keeper read of a status checked as
    it is made (_Checked): two collateral types' auctions, running and finished."""
    scenario = load_scenario("may-2021-two-types", vaults=500)
    backend = _Checked(genesis_time(scenario))
    sim = Simulation(scenario, backend, "model", full_check_every=None, drain=False)
    sim.run()
    return sim, backend


def test_statuses__every_read_of_a_run__equal_to_status_one_at_a_time(ran):
    sim, model = ran
    assert model.differences == []
    assert model.batches > 100 and model.statuses > 5_000 and model.resets > 1_000
    assert model.probed == 3
    # both types' running auctions were read
    assert model.read_from == {t.auction for t in sim.deployment.types.values()}


def _listed(c, first_slot: int) -> list[int]:
    """DutchAuction.active_auctions by its definition: every running slot (its bit clear in the
    free bitmap) from `first_slot` on, in slot order, as its id, at most PAGE."""
    out: list[int] = []
    for slot in range(first_slot, min(c.opened_words * 256, MAX_ACTIVE)):
        if not c.free[slot >> 8] >> (slot & 255) & 1:
            out.append((c.generations[slot] << SLOT_BITS | slot) + 1)
            if len(out) == PAGE:
                break
    return out


def test_active_auctions__random_bitmaps_and_first_slots__its_definition(ran):
    sim, model = ran
    c = copy.deepcopy(model.contract(next(iter(sim.deployment.types.values())).auction))
    rng = random.Random(11)
    for density in (0.0, 0.02, 0.5, 0.98, 1.0):
        words = rng.randint(1, 14)
        c.opened_words = words
        for w in range(words):
            running = sum(1 << i for i in range(256) if rng.random() < density)
            c.free[w] = ~running & MAX_UINT256
        for slot in rng.sample(range(words * 256), 200):
            c.generations[slot] = rng.randint(0, 5)
        firsts = [0, 1, 255, 256, 257, 1023, 1024, 2047, words * 256 - 1, words * 256, MAX_ACTIVE]
        firsts += rng.sample(range(words * 256), 20)
        for first in firsts:
            assert c.active_auctions(first) == _listed(c, first), (density, words, first)
    # a full page and more: the first PAGE, then the next page from the slot after the last
    assert len(c.active_auctions(0)) == PAGE
    last_slot = (c.active_auctions(0)[-1] - 1) & (MAX_ACTIVE - 1)
    assert c.active_auctions(last_slot + 1) == _listed(c, last_slot + 1)


class _Plain:
    """A model contract with a `status` getter of any arguments and no `statuses`."""

    def status(self, *args):
        return (len(args), *args)


class _Batched(_Plain):
    """... and one with `statuses` too, which records the batches it is asked."""

    def __init__(self):
        self.batches: list[list[int]] = []

    def statuses(self, ids):
        self.batches.append(list(ids))
        return [self.status(i) for i in ids]


def test_many__status_reads_of_other_shapes__each_answered_as_one_read():
    """Only a run of one-argument `status` reads of a contract with `statuses` is batched: a
    contract without it answers each, and a `status` read of no or two arguments is an ordinary
    read (it breaks a run); every value in the order asked, given as a generator too."""
    model = ModelBackend(0)
    plain, batched = _Plain(), _Batched()
    contracts: dict[str, Any] = model.env.contracts  # stubs for model contracts
    contracts.update({"0xplain": plain, "0xbatched": batched})
    calls = [
        ("0xplain", "status", (1,)),
        ("0xplain", "status", (2,)),
        ("0xplain", "status", (1, 2)),
        ("0xbatched", "status", (3,)),
        ("0xbatched", "status", (4,)),
        ("0xbatched", "status", ()),
        ("0xbatched", "status", (5,)),
        ("0xplain", "status", (6,)),
        ("0xbatched", "status", (7, 8)),
    ]
    one_by_one = [{"0xplain": plain, "0xbatched": batched}[a].status(*args) for a, _, args in calls]
    assert model.views(calls) == one_by_one
    assert batched.batches == [[3, 4], [5]]
    assert ModelReader(model).many(iter(calls)) == one_by_one
