"""A take that would land after its auction needs a reset is not sent (run/sending.py, `_late`).

With a block gas limit a keeper's transaction waits for room in the day's blocks, booked when it
is sent. Before this rule a 100,000-vault Black Thursday jammed for good: once the queue for room
was longer than an auction's takeable life (about nine bars: 1.2 x the oracle down to the 0.45
drop), every take landed after its auction needed a reset and reverted, the reset it prompted
queued as long, and the drain cleared none of 49,640 auctions in 1,008 bars. The keeper now asks,
when its take's room is booked, whether the auction will need a reset by then (the ledger's
auction clock from the Started and Reset events, model/dutch_auction.needs_reset_at), and gives
the room back if so. Where no take would revert (every 1,000-vault built-in), nothing changes."""

from __future__ import annotations

from offchain.backends import ModelBackend
from offchain.model import dutch_auction
from offchain.model.fixed_point import WAD
from offchain.sim.run.driver import Simulation
from offchain.sim.run.sending import Sending
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.timeline import genesis_time
from offchain.sim.strategies.actions import Action


def _run(name: str, vaults: int):
    scenario = load_scenario(name, vaults=vaults)
    sim = Simulation(scenario, ModelBackend(genesis_time(scenario)), "model", None, None,
                     drain=False)  # fmt: skip
    return sim, sim.run()


def test_needs_reset_at__the_contracts_judgement_at_every_second_of_an_auctions_life():
    """The ledger's clock of each running auction is the contract's (started, top), and
    needs_reset_at agrees with the auction's own status at every time across its reset."""
    sim, _ = _run("synthetic-crash", 200)  # 36 auctions still running at its end
    backend = sim.backend
    assert isinstance(backend, ModelBackend)
    auction = backend.contract(sim.deployment.types[sim.collateral.name].auction)
    ledger = sim.markets[sim.collateral.name].ledger
    seen = [aid for aid in ledger.clock if auction.auctions[aid].top]
    assert seen
    env = auction.env
    saved = env.timestamp
    try:
        for aid in seen[:5]:
            a = auction.auctions[aid]
            assert ledger.clock[aid] == (a.started, a.top)
            flips = 0
            before = None
            for now in range(a.started, a.started + auction.max_duration + 120, 7):
                env.timestamp = now
                judged = dutch_auction.needs_reset_at(
                    auction.curve, auction.max_duration, auction.max_drop, a.started, a.top, now
                )
                assert judged == auction.status(aid)[0] == ledger.needs_reset_at(aid, now)
                flips += before is not None and judged != before
                before = judged
            assert flips == 1  # fine, then needing a reset for good
    finally:
        env.timestamp = saved


def _take(auction_id: int) -> Action:
    return Action("taker", "0xtaker", "0xflash", "take", (auction_id, 1, 1, "0xtaker", b""),
                  (("auction", auction_id),), 1)  # fmt: skip


def test_late__a_take_landing_after_its_reset_gives_its_room_back__one_in_time_keeps_it():
    scenario = load_scenario("black-thursday-2020", vaults=100)
    sending = Sending(scenario, None, {"gas_bids": [], "deferred": []}, [0, 600, 1200],  # type: ignore[arg-type]
                      [2000 * WAD] * 3, lambda: 0)  # fmt: skip
    assert sending.blockspace is not None
    deadline = {7: 900, 8: 10**9}  # auction id -> first second it needs a reset
    asked: list[int] = []

    def needs_reset_at(action: Action, when: int) -> bool:
        asked.append(when)
        return when >= deadline[action.targets[0][1]]

    sending.needs_reset_at = needs_reset_at
    sending.bar_gas = {2: 5_000_000, 4: 5_000_000}
    late = _take(7)
    assert sending._late(late, 0, 2)  # lands at 1,200 s, past 900
    assert sending.late_takes == 1 and sending.bar_gas[2] < 5_000_000  # its room given back
    assert not sending._late(_take(8), 0, 2) and sending.late_takes == 1
    # past the bars known (the drain's), the landing time goes on at the bars' step
    assert not sending._late(_take(8), 0, 4) and asked[-1] == 1200 + 2 * 600
    # not a take, or no clock: never judged
    reset = Action("taker", "0xtaker", "0xauction", "reset", (7, "0xtaker"),
                   (("auction", 7),), 1)  # fmt: skip
    assert not sending._late(reset, 0, 2)
    sending.needs_reset_at = None
    assert not sending._late(late, 0, 2)


def test_a_thousand_vault_day__no_take_is_late__the_run_is_what_it_was():
    """Black Thursday at 1,000 vaults sends no take that would revert for a reset: the rule
    never fires and the run sends the transactions it did before (bench/results.json's
    `sim.black_thursday_1000_transactions`, measured before the rule)."""
    import json
    from pathlib import Path

    committed = json.loads(
        (Path(__file__).resolve().parents[2] / "bench" / "results.json").read_text()
    )["sim.black_thursday_1000_transactions"]
    sim, result = _run("black-thursday-2020", 1000)
    assert sim.sending.late_takes == 0 == result.facts["late_takes"]
    assert result.facts["late_unplanned"] == 0  # nor left out before it was valued
    assert not any("takes were not sent" in line for line in result.facts["binding_limits"])
    txs = result.tables["txs"]
    assert not ((txs["status"] == "reverted") & (txs["reason"] == "auction: needs reset")).any()
    assert result.facts["transactions"] == committed


# ---------------------------------------------------------------- a take left out unvalued

import collections  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from offchain.model.fixed_point import RAY  # noqa: E402
from offchain.model.price_curves import EXPONENTIAL, LINEAR, STAIRSTEP, Curve  # noqa: E402
from offchain.sim.results.ledger import Ledger, first_true  # noqa: E402
from offchain.sim.strategies.gas_costs import (  # noqa: E402
    FLASH_TAKE_GAS,
    FLASH_TAKE_VENUE_GAS,
    TAKE_GAS,
)
from offchain.sim.strategies.keepers import VaultIndex  # noqa: E402


@given(
    low=st.integers(0, 10**6),
    span=st.integers(0, 5_000),
    at=st.integers(0, 5_000),
    hint=st.integers(-(10**7), 10**7),
)
def test_first_true__the_least_time_it_holds_from_any_hint(low, span, at, hint):
    high = low + span
    first = low + min(at, span)
    asked: list[int] = []

    def holds(t: int) -> bool:
        assert low - 1 <= t <= high  # never asked outside the range (low - 1 is not asked)
        asked.append(t)
        return t >= first

    assert first_true(low, high, hint, holds) == first
    assert low - 1 not in asked
    if hint == first and first > low:
        assert len(asked) == 2  # a right hint: it holds there and not a second before


@given(
    kind=st.sampled_from([LINEAR, STAIRSTEP, EXPONENTIAL]),
    duration=st.integers(1, 4_000),
    step=st.integers(1, 300),
    cut=st.integers(0, RAY - 1),
    max_duration=st.integers(0, 3_000),
    max_drop=st.integers(0, RAY),
    top=st.integers(1, 10**33),
    started=st.integers(0, 10**9),
)
def test_reset_time__the_contracts_first_second_needing_a_reset(
    kind, duration, step, cut, max_duration, max_drop, top, started
):
    """ledger.reset_time is the first second at which the contract's own judgement
    (model/dutch_auction.needs_reset_at) says the auction needs a reset, whatever the curve,
    every second before it judged otherwise (a sweep of the auction's whole life)."""
    ledger = Ledger({}, VaultIndex(b"\0" * 32))
    ledger.curve = Curve(kind, duration, step, cut if kind != LINEAR else 0)
    ledger.max_duration, ledger.max_drop = max_duration, max_drop
    ledger.clock[5] = (started, top)
    judged = [
        dutch_auction.needs_reset_at(ledger.curve, max_duration, max_drop, started, top, t)
        for t in range(started, started + max_duration + 2)
    ]
    first = started + judged.index(True)
    assert not any(judged[: first - started]) and all(judged[first - started :])
    assert ledger.reset_time(5) == first
    # kept, then forgotten with the clock it was found with (a reset starts a new one)
    ledger._on_clock({"auction_id": 5, "top": top}, started + 1, "")
    assert ledger.reset_time(5) == first + 1
    assert ledger.reset_time(6) is None  # never seen to start


TIMES = [i * 600 for i in range(8)]
SCENARIO = None


def _sending(bar: int, bar_gas: dict[int, int], drops: dict[int, int], deadline: int):
    global SCENARIO
    if SCENARIO is None:
        SCENARIO = load_scenario("black-thursday-2020", vaults=100)
    sending = Sending(SCENARIO, None, {"gas_bids": [], "deferred": []}, list(TIMES),  # type: ignore[arg-type]
                      [2000 * WAD] * len(TIMES), lambda: bar)  # fmt: skip
    sending.bar_gas = dict(bar_gas)
    sending.drops = {("taker", "take", (("auction", a),)): n for a, n in drops.items()}
    sending.reset_time = lambda name: {7: deadline}.get
    return sending


def _take_of_gas(gas: int) -> Action:
    """A take of auction 7 whose planned gas is `gas` (strategies/gas_costs.action_gas)."""
    if gas == TAKE_GAS:
        args: tuple = (7, 1, 1, "0xtaker", b"")
    else:
        args = (7, 1, 1, 0, True) if gas == FLASH_TAKE_VENUE_GAS else (7, 1, 1, 0)
    return Action("taker", "0xtaker", "0xflash", "take", args, (("auction", 7),), 1)


# the day's blocks at these times (black-thursday-2020's gas, a 600 s bar): what a bid at each
# percentile may fill (market/blockspace.py), and the percentiles [wei]
ROOM_30, ROOM_60, ROOM_90 = 201_526_717, 311_450_381, 421_374_045
P30, P60 = 4_527_000_000, 6_924_600_000
FULL = 10**12
# bars' keeper gas already booked, from bar 0 on: room for a take at any bid, full to the 30th
# and 60th percentiles' share but not the 90th's, full for every bid, and mixes
USED = [
    [],
    [FULL, FULL],
    [ROOM_30 - 100_000, ROOM_30 - 100_000, ROOM_30 - 100_000],
    [ROOM_60 - 200_000, ROOM_60 - 200_000, FULL],
    [FULL, ROOM_30 - 200_000, FULL, ROOM_60 - 250_000, ROOM_90 - 250_000],
    [150_000, FULL, FULL, FULL, FULL, FULL, FULL, FULL, FULL, FULL],
    # room for the least gas exactly (a take that fits to the gas lands)
    [ROOM_60 - FLASH_TAKE_GAS] * 3,
    [ROOM_30 - TAKE_GAS, ROOM_90 - FLASH_TAKE_GAS, ROOM_60 - TAKE_GAS],
]


def test_late_filter__left_out_exactly_when_the_best_take_would_be_late():
    """Over a grid of bars, booked room, drops, planned bids, least gas and deadlines (each
    bar's time, a second before and after): the filter leaves auction 7 out exactly when the
    take it could send soonest (its planned bid raised for its drops, the least gas) would be
    judged late by `_late` after `_room` booked it; and then every take it could send (a lower
    bid: its value's cap; more gas) is late too, or dropped. A one-bar or one-second slip in
    the filter, a drop or a percentile it forgets, fails it."""
    import itertools

    def sent_late(bar, bar_gas, drops, deadline, bid: int, gas: int) -> bool | None:
        """Whether `act` would give this take's room back (None: dropped by the latency
        model), on a fresh copy of the state."""
        s = _sending(bar, bar_gas, {7: drops}, deadline)
        s.needs_reset_at = lambda action, when: when >= deadline
        delay = s.latency.delay(bid, TIMES[bar])
        if delay is None:
            return None
        delay = s._room(_take_of_gas(gas), bid, bar, delay)
        return bool(delay) and s._late(_take_of_gas(gas), bar, delay)

    outcomes = collections.Counter()
    grid = itertools.product(
        (0, 2),
        USED,
        (0, 3),
        (10**9, P30, P60 - 1, P60, 10**11),
        (TAKE_GAS, FLASH_TAKE_GAS),
        [t + d for t in range(0, 14 * 600, 600) for d in (-1, 0, 1)],
    )
    for bar, used, drops, planned, least, deadline in grid:
        bar_gas = {b: u for b, u in enumerate(used) if u}
        sending = _sending(bar, bar_gas, {7: drops}, deadline)
        late = sending.late_filter("ETH-A", "taker", planned, least)
        assert late is not None
        left_out = late(7)
        assert sending.late_unplanned == int(left_out)
        best = sending.strategy.final_bid("taker", planned, drops, None, least, 2000 * WAD)[0]
        case = (bar, used, drops, planned, least, deadline)
        assert left_out == bool(sent_late(bar, bar_gas, drops, deadline, best, least)), case
        outcomes[left_out] += 1
        if left_out:
            worse = itertools.product((best, best // 2, P60, P30), (least, FLASH_TAKE_VENUE_GAS))
            for bid, gas in worse:
                if bid <= best:
                    assert sent_late(bar, bar_gas, drops, deadline, bid, gas) in (True, None), case
    assert outcomes[True] > 500 and outcomes[False] > 500  # both sides tried, and often
