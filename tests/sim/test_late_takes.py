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

import collections

from hypothesis import given
from hypothesis import strategies as st

from offchain.backends import ModelBackend
from offchain.model import dutch_auction
from offchain.model.fixed_point import RAY, WAD
from offchain.model.price_curves import EXPONENTIAL, LINEAR, STAIRSTEP, Curve
from offchain.sim.results.ledger import Ledger, first_true
from offchain.sim.run.driver import Simulation
from offchain.sim.run.sending import Sending
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.timeline import genesis_time
from offchain.sim.strategies.actions import Action
from offchain.sim.strategies.gas_costs import FLASH_TAKE_GAS, FLASH_TAKE_VENUE_GAS, TAKE_GAS
from offchain.sim.strategies.keepers import VaultIndex


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


# Black Thursday's first gas bars: each has its own percentiles (p30 2.06 to 7 gwei, p60 6 to 10)
TIMES = [1_583_971_200 + i * 600 for i in range(8)]
SCENARIO = None


def _sending(bar: int, bar_gas: dict[int, int], drops: dict[int, int], deadline: int, warm=None):
    """A Sending at `bar` of TIMES with `bar_gas` booked, the taker's takes of auction id ->
    drops in a row, auction 7 needing a reset from `deadline` on; `warm`: (bid, gas) of a take
    of auction 9 sent first (`_room` books it and keeps its run of full bars)."""
    global SCENARIO
    if SCENARIO is None:
        SCENARIO = load_scenario("black-thursday-2020", vaults=100)
    sending = Sending(SCENARIO, None, {"gas_bids": [], "deferred": []}, list(TIMES),  # type: ignore[arg-type]
                      [2000 * WAD] * len(TIMES), lambda: bar)  # fmt: skip
    sending.type_names = {"0xflash": "ETH-A", "0xauction": "ETH-A"}
    sending.bar_gas = dict(bar_gas)
    sending.drops = {("taker", "ETH-A", "take", (("auction", a),)): n for a, n in drops.items()}
    sending.reset_time = lambda name: {7: deadline}.get if name == "ETH-A" else {}.get
    if warm is not None:
        bid, gas = warm
        delay = sending.latency.delay(bid, TIMES[bar])
        if delay is not None:
            sending._room(_take_of_gas(gas, 9), bid, bar, delay)
    return sending


def _take_of_gas(gas: int, auction_id: int = 7) -> Action:
    """A take of `auction_id` whose planned gas is `gas` (strategies/gas_costs.action_gas)."""
    if gas == TAKE_GAS:
        args: tuple = (auction_id, 1, 1, "0xtaker", b"")
        contract = "0xauction"
    else:
        args = (auction_id, 1, 1, 0) + ((True,) if gas == FLASH_TAKE_VENUE_GAS else ())
        contract = "0xflash"
    return Action("taker", "0xtaker", contract, "take", args, (("auction", auction_id),), 1)


# the day's blocks at these times (black-thursday-2020's gas, a 600 s bar): what a bid at each
# percentile may fill (market/blockspace.py), and the percentiles [wei]
ROOM_30, ROOM_60, ROOM_90 = 201_526_717, 311_450_381, 421_374_045
P30, P60 = 4_527_000_000, 6_924_600_000  # the first bar's
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
    """Over a grid of bars (each with its own gas percentiles), booked room (some of it by an
    earlier take, whose run of full bars `_room` keeps), drops, planned bids, least gas and
    deadlines (each bar's time, a second before and after): the filter leaves auction 7 out
    exactly when the take it could send soonest (its planned bid raised for its drops, the least
    gas) would be judged late by `_late` after `_room` booked it; and then every take it could
    send (a lower bid: its value's cap; more gas) is late too, or dropped. A one-bar or
    one-second slip in the filter, a drop or a percentile it forgets, fails it."""
    import itertools

    def sent_late(case, bid: int, gas: int) -> bool | None:
        """Whether `act` would give this take's room back (None: dropped by the latency
        model), on a fresh copy of the state."""
        bar, bar_gas, drops, deadline, warm = case
        s = _sending(bar, bar_gas, {7: drops}, deadline, warm)
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
        (10**9, 2_058_900_000, P30, P60 - 1, P60, 8 * 10**9, 10**11),
        (TAKE_GAS, FLASH_TAKE_GAS),
        [TIMES[0] + t + d for t in range(0, 14 * 600, 600) for d in (-1, 0, 1)],
        (None, "same", "less"),
    )
    for bar, used, drops, planned, least, deadline, warmth in grid:
        bar_gas = {b: u for b, u in enumerate(used) if u}
        probe = _sending(bar, {}, {7: drops}, deadline)
        best = probe.strategy.final_bid("taker", planned, drops, None, least, 2000 * WAD)[0]
        # an earlier take of auction 9: at the same bid and gas (its run of full bars is the
        # filter's to pass over), or at a lower bid and more gas (another key)
        warm = {None: None, "same": (best, least), "less": (best // 2, FLASH_TAKE_VENUE_GAS)}
        case = (bar, bar_gas, drops, deadline, warm[warmth])
        sending = _sending(bar, bar_gas, {7: drops}, deadline, warm[warmth])
        late = sending.late_filter("ETH-A", "taker", planned, least)
        assert late is not None
        left_out = late(7)
        assert sending.late_unplanned == int(left_out)
        assert left_out == bool(sent_late(case, best, least)), case
        # a take left out ends its drops in a row, as `_late`'s giving back does
        key = ("taker", "ETH-A", "take", (("auction", 7),))
        assert sending.drops.get(key, 0) == (0 if left_out else drops)
        outcomes[left_out] += 1
        if left_out:
            worse = itertools.product((best, best // 2, P60, P30), (least, FLASH_TAKE_VENUE_GAS))
            for bid, gas in worse:
                if bid <= best:
                    assert sent_late(case, bid, gas) in (True, None), case
    assert outcomes[True] > 1_000 and outcomes[False] > 1_000  # both sides tried, and often


def test_late_filter__another_types_drops__a_bid_of_0__no_block_limit():
    """Drops are a type's own (two types' auctions share ids): the WBTC-A take of auction 7
    is judged at WBTC-A's drops, not ETH-A's. A take bid 0 is queued at once (`act`), never
    left out; nor any without a block gas limit."""
    deadline = TIMES[0] + 600
    # bar 0 has room for a flash take at the 90th percentile's share, not at the 60th's
    sending = _sending(0, {0: ROOM_90 - FLASH_TAKE_GAS}, {}, deadline)
    sending.reset_time = lambda name: {7: deadline}.get
    # ETH-A's auction 7 dropped 20 times: its bid would reach every percentile; WBTC-A's none
    sending.drops = {("taker", "ETH-A", "take", (("auction", 7),)): 20}
    eth, wbtc = (sending.late_filter(n, "taker", P60, FLASH_TAKE_GAS) for n in ("ETH-A", "WBTC-A"))
    assert eth is not None and wbtc is not None
    assert eth(7) is False  # lands now
    assert wbtc(7) is True
    assert sending.late_filter("WBTC-A", "taker", 0, FLASH_TAKE_GAS) is None
    sending.blockspace = None
    assert sending.late_filter("WBTC-A", "taker", P60, FLASH_TAKE_GAS) is None


def test_late_filter__no_take_could_be_late__no_filter():
    """Where the actor's takes land in their own bar (a bid at the 60th percentile, room in the
    bar) or are dropped by the latency model (a bid below the 30th), and none of its takes of the
    type is in a run of drops, late_filter gives no filter at all (None: the taker weighs every
    auction); with a run of 0 drops on record it gives one, which leaves out nothing and counts
    nothing, though every auction needs a reset from the bar's first second."""
    deadline = TIMES[0]
    for planned in (P60, 10**9):
        bare = _sending(0, {}, {}, deadline)
        bare.reset_time = lambda name: lambda auction_id: deadline
        assert bare.late_filter("ETH-A", "taker", planned, TAKE_GAS) is None, planned
        recorded = _sending(0, {}, {7: 0}, deadline)
        recorded.reset_time = lambda name: lambda auction_id: deadline
        late = recorded.late_filter("ETH-A", "taker", planned, TAKE_GAS)
        assert late is not None and [late(a) for a in (7, 8, 9)] == [False] * 3, planned
        assert recorded.late_unplanned == 0
    # and a take that would land a bar later is judged: the filter is there
    later = _sending(0, {0: FULL}, {}, deadline)
    later.reset_time = lambda name: lambda auction_id: deadline
    late = later.late_filter("ETH-A", "taker", P60, TAKE_GAS)
    assert late is not None and late(8) is True and later.late_unplanned == 1


def test_drops__counted_per_type__two_types_auctions_sharing_an_id_apart():
    """`act` counts a take's drops under its own type (its contract's: the flash taker's, the
    auction's), so another type's take of the same auction id keeps its own count."""

    class Rows:
        def __init__(self):
            self.dropped_rows = []

        def dropped(self, *row):
            self.dropped_rows.append(row)

    rec = Rows()
    sending = _sending(0, {}, {}, TIMES[-1])
    sending.rec = rec  # type: ignore[assignment]
    sending.type_names = {"0xflash": "ETH-A", "0xflash2": "WBTC-A"}
    low = 10**9  # below every bar's 30th percentile: dropped
    eth, wbtc = _take_of_gas(FLASH_TAKE_GAS), _take_of_gas(FLASH_TAKE_GAS)
    eth = Action(eth.actor, eth.sender, "0xflash", "take", eth.args, eth.targets, low)
    wbtc = Action(wbtc.actor, wbtc.sender, "0xflash2", "take", wbtc.args, wbtc.targets, low)
    sending.act(eth)
    sending.act(eth)
    sending.act(wbtc)
    target = (("auction", 7),)
    assert sending.drops == {
        ("taker", "ETH-A", "take", target): 2,
        ("taker", "WBTC-A", "take", target): 1,
    }
    assert len(rec.dropped_rows) == 3


def test_reset_time__forgotten_when_the_curve_or_the_limits_change():
    """A parameter changed while auctions run (governance's CurveSet, ParametersSet) changes
    when each needs a reset: nothing found before is kept."""
    ledger = Ledger({}, VaultIndex(b"\0" * 32))
    curve = Curve(LINEAR, 1_000, 0, 0)
    ledger.curve, ledger.max_duration, ledger.max_drop = curve, 10_000, RAY // 2
    ledger.clock[5] = (0, RAY)
    assert ledger.reset_time(5) == 501  # priced below half its top after 500 s
    ledger._on_parameters_set({"max_duration": 10_000, "max_drop": RAY // 4}, 0, "")
    assert ledger.reset_time(5) == 751
    ledger._on_parameters_set({"max_duration": 100, "max_drop": RAY // 4}, 0, "")
    assert ledger.reset_time(5) == 101  # older than max_duration
    ledger._on_curve_set({"kind": LINEAR, "duration": 2_000, "step": 0, "cut": 0}, 0, "")
    assert ledger.reset_time(5) == 101
    ledger._on_parameters_set({"max_duration": 10_000, "max_drop": RAY // 4}, 0, "")
    assert ledger.reset_time(5) == 1_501
    ledger._on_curve_set({"kind": LINEAR, "duration": 4_000, "step": 0, "cut": 0}, 0, "")
    assert ledger.reset_time(5) == 3_001


# a two-type crash small enough for a test that still jams: 300 vaults, a block of 1.1M gas
# every 300 s (so a bar's blocks have room for a few takes)
JAMMED = {"market": {"block_gas_limit": "1_100_000", "block_time": "300"}}


def test_a_jammed_two_type_run__each_take_left_out_needed_its_reset_by_the_contracts_clock():
    """A run where the filter fires for both types: each auction it leaves out, at that moment,
    has the ledger's clock of the contract's own auction (its start and top), and needs a reset
    from the second the ledger says, not a second before, by the contract's judgement with the
    contract's curve and limits; the run's facts count them. Its rounds read every running
    auction, so that the filter judges each (a round that reads only those it can act on counts
    the rest from the same clock: tests/sim/test_choose_running.py holds it to this one)."""
    scenario = load_scenario("may-2021-two-types", vaults=300, overrides=JAMMED)
    sim = Simulation(scenario, ModelBackend(genesis_time(scenario)), "model", None, None,
                     drain=False)  # fmt: skip
    sim.choose_running = False
    checked: collections.Counter = collections.Counter()
    filters = sim.sending.late_filter

    class Watched:
        """The filter, each take it leaves out checked against the contract."""

        def __init__(self, late, type_name: str):
            self.late, self.type_name = late, type_name
            self.when, self.dropped = late.when, late.dropped

        def skipped(self, count: int) -> None:
            raise AssertionError("a round that reads every auction counts none unread")

        def __call__(self, auction_id: int) -> bool:
            type_name = self.type_name
            left_out = self.late(auction_id)
            if left_out:
                backend, reset_time = sim.backend, sim.sending.reset_time
                assert isinstance(backend, ModelBackend) and reset_time is not None
                contract = backend.contract(sim.deployment.types[type_name].auction)
                a = contract.auctions[auction_id]
                ledger = sim.markets[type_name].ledger
                assert ledger.clock[auction_id] == (a.started, a.top)
                first = reset_time(type_name)(auction_id)  # what the filter asked
                assert first is not None
                limits = (contract.curve, contract.max_duration, contract.max_drop)
                assert dutch_auction.needs_reset_at(*limits, a.started, a.top, first)
                assert not dutch_auction.needs_reset_at(*limits, a.started, a.top, first - 1)
                assert first > sim.times[sim.bar]  # not needing one now: the view said so
                checked[type_name] += 1
            return left_out

    def watched(type_name: str, actor: str, planned: int, gas: int):
        late = filters(type_name, actor, planned, gas)
        return None if late is None else Watched(late, type_name)

    sim.sending.late_filter = watched  # type: ignore[method-assign]
    result = sim.run()
    assert set(checked) == {"ETH-A", "WBTC-A"}
    assert sum(checked.values()) == result.facts["late_unplanned"] == sim.sending.late_unplanned
    assert any("not planned" in line for line in result.facts["binding_limits"])
