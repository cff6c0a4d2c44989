"""A round reads only the running auctions its takers can act on (strategies/observe.py,
`choose_running`): the same plans and the same counts as a round that reads every running
auction, as a live bot does.

A jammed run lists tens of thousands of running auctions a round, most of them priced above what
any taker could sell their collateral for, or certain to need a reset before a take of them could
land. The ledger's clocks (each auction's start and top, from its events) say which without a
read: the rest are read and planned as before, and the takes the late filter would have left out
unread are counted from the clock. These tests hold the two ways equal, table by table and count
by count, on runs that jam, and check the choice itself on a round built by hand."""

from __future__ import annotations

import pytest

from offchain.backends import ModelBackend
from offchain.model.fixed_point import RAY, WAD
from offchain.sim.run.driver import Simulation
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.timeline import genesis_time
from offchain.sim.strategies.keepers import TakerParams
from offchain.sim.strategies.observe import Clocks, choose_running

# small runs that still jam: a block of 1.1M gas every 300 s, so a bar's blocks hold a few takes
JAMMED = {"market": {"block_gas_limit": "1_100_000", "block_time": "300"}}


def _run(name: str, vaults: int, choose: bool, overrides: dict | None = None):
    scenario = load_scenario(name, vaults=vaults, overrides=overrides)
    sim = Simulation(scenario, ModelBackend(genesis_time(scenario)), "model", None, None)
    sim.choose_running = choose
    return sim, sim.run()


@pytest.mark.parametrize(
    ("name", "vaults", "overrides"),
    [
        ("may-2021-two-types", 300, JAMMED),  # two types: auction ids shared across types
        ("black-thursday-2020", 1_000, JAMMED),  # the open market, its venue route, drained
        ("synthetic-crash", 1_000, None),  # no block space: nothing is late, most are priced out
    ],
)
def test_a_round_that_reads_what_it_can_act_on__the_same_run_to_the_wei(name, vaults, overrides):
    """Every table and every fact of the run (its takes, resets, drops, late takes and the takes
    left out unvalued) is the same whether a round reads every running auction or only those it
    chose; it lists as many, and reads fewer."""
    every, every_result = _run(name, vaults, False, overrides)
    chose, chose_result = _run(name, vaults, True, overrides)
    for table, rows in every_result.tables.items():
        assert rows.equals(chose_result.tables[table]), table
    # every fact but the seconds and the reads themselves
    apart = {k for k in every_result.facts if k.endswith("_s")} | {"auction_reads"}
    assert {k: v for k, v in every_result.facts.items() if k not in apart} == {
        k: v for k, v in chose_result.facts.items() if k not in apart
    }
    assert every_result.facts["auction_reads"] == every.world.auction_reads
    assert chose_result.facts["auction_reads"] == chose.world.auction_reads
    assert every.sending.late_unplanned == chose.sending.late_unplanned
    assert every.world.auction_views == chose.world.auction_views
    assert every.world.auction_reads == every.world.auction_views
    assert chose.world.auction_reads < every.world.auction_views / 1.3
    if overrides is not None:  # the jam: the takes left out unread are counted
        assert chose.sending.late_unplanned > 0


# a round built by hand: a linear curve over 1,000 s, auctions needing a reset below half their top
CURVE_S, DROP = 1_000, RAY // 2
NOW = 10_000


class _Late:
    """A late filter (run/sending.py's LateTakes) that judges by `when` alone."""

    def __init__(self, when: int | None, dropped: dict[int, int]):
        self.when, self.dropped, self.counted = when, dropped, 0

    def __call__(self, auction_id: int) -> bool:
        raise AssertionError("choose_running never asks")

    def skipped(self, count: int) -> None:
        self.counted += count


def _clocks(live: dict[int, tuple[int, int]]) -> Clocks:
    on_clock: dict[tuple[int, int], set[int]] = {}
    for auction_id, clock in live.items():
        on_clock.setdefault(clock, set()).add(auction_id)

    def reset_time(clock: tuple[int, int]) -> int:
        return clock[0] + CURVE_S // 2 + 1  # below half its top after 500 s

    def price(top: int, elapsed: int) -> int:
        return top * (CURVE_S - elapsed) // CURVE_S

    return Clocks(live, on_clock, reset_time, price, lambda: NOW)


def _capital_taker(min_profit: int = 1) -> TakerParams:
    """A capital taker valuing collateral at the market price, its gas free."""
    return TakerParams("capital_taker", "0xc", "", "0xa", "capital", min_profit, 0)


def test_choose_running__reads_what_can_be_taken_or_reset__counts_the_late_unread():
    """A capital taker (ceiling: the market price of 100) over five clocks: one needing a reset
    now, one priced at 90 (below the ceiling), two priced at 150 (one late for the taker, one
    not), and one the ledger does not know; an auction on the late clock is in flight, another
    was dropped (read, judged by `late` itself), and one on it was kicked since the list."""
    # clocks (started, top): 600 s old (needs a reset), 100 s old at 100 (now 90), 250 s old at
    # 200 (now 150, a reset due at started + 501), 100 s old at ~166.7 (now 150, a reset later)
    resetting, cheap = (NOW - 600, 200 * RAY), (NOW - 100, 100 * RAY)
    late, dear = (NOW - 250, 200 * RAY), (NOW - 100, 1_000 * RAY // 6)
    live = {1: resetting, 2: cheap, 3: late, 4: late, 5: late, 6: late, 7: dear, 8: dear, 9: late}
    active = [8, 7, 6, 5, 4, 3, 2, 1, 42]  # 42: not known; 9: kicked since the list
    when = late[0] + CURVE_S // 2 + 1  # the taker's take lands when `late` needs its reset
    taker_late = _Late(when, {5: 1})  # 5: a take of it was dropped in a row
    chosen = choose_running(
        _clocks(live),
        [_capital_taker()],
        lambda: [taker_late],
        {("auction", 4), ("vault", "0x1"), ("auction", 7)},
        lambda: 0,
        1,
        100 * WAD,
        active,
        0,
        0,
        0,
    )
    # in the list's order: the dear ones are priced out, 5 is read for its own bid, 42 unknown
    assert chosen == [5, 2, 1, 42]
    # late and unread: 3 and 6 (4 is in flight, 5 is read, 9 was not listed)
    assert taker_late.counted == 2


def test_choose_running__a_taker_that_may_clear_at_any_price__reads_every_known_auction():
    """A minimum profit that a take losing its gas clears has no ceiling: every auction is read,
    whatever its price, and nothing is counted unread."""
    live = {1: (NOW - 100, 10**6 * RAY), 2: (NOW - 300, 5 * RAY)}
    taker_late = _Late(None, {})
    chosen = choose_running(
        _clocks(live),
        [_capital_taker(min_profit=0)],
        lambda: [taker_late],
        set(),
        lambda: 0,
        1,
        100 * WAD,
        [2, 1],
        0,
        0,
        0,
    )
    assert chosen == [2, 1] and taker_late.counted == 0
