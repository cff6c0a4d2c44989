"""How a run's actions are sent (run/driver.py's `Simulation` sends through this): a keeper's
action passes through its gas strategy (strategies/gas_strategy.py: the bar's planned bid, raised
after drops, capped by the action's value) and the latency model (`actions.Latency`): it is
queued now, held in flight until a later bar, or dropped. The feeder's and the arbitrageur's
actions (no bid) are queued now. What a keeper's gas budget defers is recorded, never sent.
`Sending` owns the actions in flight, the bar's planned bids and each action's drops in a row.

Gas (issue 63: gas is part of the twin's contract with the chain). When an action is queued, the
lab charges it the gas its strategy planned (strategies/gas_costs.py: `action_gas`, a liquidation
batch by the path of each vault) and refuses it, as a node or the chain would, when that is more
than the limit it is sent with (`action_limit`: out of gas on chain), or when its limit is above
a block's gas (the scenario's `block_gas_limit`, 0 for none: a node refuses a transaction whose
limit no block can hold). A refused action is a row of `txs` with status "refused" and its
reason, never sent; its keeper plans it again next bar (the liquidation keeper sizes its batches
within the block's gas). The blocks' room is the bar's, not one lab block's (the lab mines a
step's transactions as one block; the chain had tens in a bar): with a block gas limit, what the
bar's blocks cannot hold at a transaction's bid waits a bar (market/blockspace.py, `_room`).
Both backends refuse the same actions (the decision is
made here, before either sees the action); the chain then runs each transaction with its limit,
so a figure below what the chain spends shows as a difference at reconciliation (out of gas, or
the Liquidator's gas guard skipping vaults: SkippedForGas). Actions without a figure (the
feeder's posts and pokes, the arbitrageur's swaps, a debt auction's bids, an attacker's) are
neither charged nor refused.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

from offchain.model.fixed_point import WAD
from offchain.sim.results.tables import BACKSTOP_WIDE
from offchain.sim.run.recorder import Recorder
from offchain.sim.scenario.types import Scenario
from offchain.sim.strategies.gas_costs import action_gas, action_limit
from offchain.sim.strategies.gas_strategy import (
    DROPPED_CAPPED,
    DROPPED_UNDERPRICED,
    GAS_ROLES,
    GasStrategy,
    role_of,
)
from offchain.sim.strategies.keepers import Action, Latency
from offchain.sim.strategies.steps import Step
from offchain.system.deployment import TypeDeployment

# the steps that carry their bid as a field (`gas_price`), by their role: the bid of which
# keeper role they plan with (the taker's and the backstop keeper's come with their params)
BID_OF_STEP = {"liquidator": "liquidation", "soft_liquidator": "soft_liquidation"}
# a refused action's row of `txs` (results/keeper_outcomes.py counts them): its status, and why
REFUSED = "refused"
OVER_TX_GAS = "over its gas limit"
OVER_BLOCK_GAS = "over the block's gas limit"


class Sending:
    """A run's sending of actions (see the module docstring) on `rec`; `times` are the bars'
    times, `prices` the first type's market prices (the gas token's), `bar()` the bar running,
    `rows` the run's tables (`gas_bids` and `deferred` are written here)."""

    def __init__(
        self,
        scenario: Scenario,
        rec: Recorder,
        rows: dict[str, list[tuple]],
        times: list[int],
        prices: list[int],
        bar: Callable[[], int],
    ):
        self.rec = rec
        self.rows = rows
        self.times = times
        self.prices = prices
        self.bar = bar
        self.latency = Latency(scenario.market.gas, scenario.market.gas_price)
        k = scenario.keepers
        self.strategy = GasStrategy(
            k.gas_strategy,
            k.gas_percentile,
            {
                "liquidation": k.liquidation_gas_price,
                "taker": k.taker_gas_price,
                "backstop": k.backstop_gas_price,
                "soft_liquidation": k.soft_liquidation_gas_price,
            },
            k.priced_out,
        )
        self.bids = dict(self.strategy.fixed_bids)  # the bar's planned bids, per role [wei]
        # the day's block space (market/blockspace.py): keeper gas landed per bar, and how many
        # times a transaction waited a bar for room; None: blocks without limit
        self.blockspace = scenario.market.blockspace
        self.bar_gas: dict[int, int] = {}
        # (bid, gas) -> (start, end): bars start .. end - 1 are full for that bid and gas (_room)
        self._full_runs: dict[tuple[int, int], tuple[int, int]] = {}
        self.block_waits = 0
        # whether a take landing at a time [s] would find its auction needing a reset (the
        # driver's, from the ledgers' auction clocks: ledger.needs_reset_at), and how many takes
        # were not sent for it (_late)
        self.needs_reset_at: Callable[[Action, int], bool] | None = None
        # a type's (by name) first time [s] an auction of it (by id) needs a reset, from the
        # same clocks (ledger.reset_time): which takes a taker leaves out unvalued (`late_filter`)
        self.reset_time: Callable[[str], Callable[[int], int | None]] | None = None
        self.late_takes = 0
        # and how many takes a taker left out unvalued for it (`late_filter`: one an auction, a
        # taker and a round)
        self.late_unplanned = 0
        self.drops: dict[tuple, int] = {}  # an action's drops in a row (`_drop_key`)
        self.in_flight: list[tuple[int, int, Action]] = []  # (landing bar, submitted bar, action)
        # the in-flight actions' targets, counted, and flying()'s set of them: both kept as
        # in_flight changes (a bar's planning asks the set per action)
        self._targets: collections.Counter = collections.Counter()
        self._flying: set[tuple] = set()
        # a collateral type by its auction's and flash taker's address and by its id (set_types)
        self.type_names: dict[Any, str] = {}
        # gas a block holds (0: no limit), and what the keepers' transactions queued into the
        # block being filled are charged so far
        self.block_gas_limit = scenario.market.block_gas_limit

    def set_types(self, types: dict[str, TypeDeployment], flash_takers: dict[str, str]) -> None:
        """Learn the deployment's collateral types (`Deployment.types`) and their flash takers:
        the `deferred` table names the type an action acts on."""
        for name, t in types.items():
            self.type_names.update({t.auction: name, t.type_id: name})
        self.type_names.update({address: name for name, address in flash_takers.items()})

    def land(self) -> None:
        """What the latency model held back until this bar: queued first, as submitted."""
        i = self.bar()
        due = [f for f in self.in_flight if f[0] <= i]
        if due:
            self.in_flight = [f for f in self.in_flight if f[0] > i]
            targets, flying = self._targets, self._flying
            for _, _, a in due:
                for target in a.targets:
                    targets[target] -= 1
                    if not targets[target]:  # no action in flight aims at it any more
                        del targets[target]
                        flying.discard(target)
        for _, submitted, action in due:
            self._queue(action, submitted)

    def act(self, action: Action) -> None:
        """Through the keeper's gas strategy (strategies/gas_strategy.py: its bid, raised after
        drops, capped by the action's value) and the latency model: now, in a later bar, or
        dropped."""
        bar = self.bar()
        delay, capped = 0, False
        if action.gas_price != 0:
            key = self._drop_key(action)
            bid, capped = self._bid(action, self.drops.get(key, 0))
            delay = self.latency.delay(bid, self.times[bar])
            if delay is None:
                self.drops[key] = self.drops.get(key, 0) + 1
            else:
                self.drops.pop(key, None)
                delay = self._room(action, bid, bar, delay)
                if delay and self._late(action, bar, delay):
                    return
        if delay is None:
            self.rec.dropped(
                self.times[bar],
                action.actor,
                action.contract,
                action.function,
                DROPPED_CAPPED if capped else DROPPED_UNDERPRICED,
            )
        elif delay == 0:
            self._queue(action)
        else:
            self.in_flight.append((bar + delay, bar, action))
            self._targets.update(action.targets)
            self._flying.update(action.targets)

    def _drop_key(self, action: Action) -> tuple:
        """The key of `action`'s drops in a row: its actor, collateral type (`_type_of`: two
        types' auctions may share an id), function and targets."""
        return (action.actor, self._type_of(action), action.function, action.targets)

    def _late(self, action: Action, bar: int, delay: int) -> bool:
        """A take sent in `bar` that lands `delay` bars later (its room booked by `_room`) and
        would find its auction needing a reset then: it would revert ("auction: needs reset")
        and hold the blocks' room its keeper's other takes need, so it is not sent: its room is
        given back and it is counted (`late_takes`). Its keeper plans it again next bar, and the
        reset once the auction needs it. A take landing this bar is judged by its keeper's own
        reading; without a block gas limit nothing waits for room."""
        if action.function != "take" or self.needs_reset_at is None:
            return False
        landing = bar + delay
        if not self.needs_reset_at(action, self._time_of(landing)):
            return False
        if self.blockspace is not None:
            try:
                self.bar_gas[landing] -= action_gas(action)
            except KeyError:
                pass
        self.late_takes += 1
        return True

    def _time_of(self, landing: int) -> int:
        """The time [s] of bar `landing`: the drain's bars go on at the same step past the last
        one known."""
        last = len(self.times) - 1
        step = self.times[1] - self.times[0] if len(self.times) > 1 else 600
        return self.times[min(landing, last)] + max(0, landing - last) * step

    def late_filter(self, type_name: str, actor: str, planned: int, gas: int) -> LateTakes | None:
        """Which of type `type_name`'s auctions a take by `actor` planned now (its planned bid
        `planned` [wei], `gas` the least a take of its costs) would certainly find needing a
        reset when it lands, so that `_late` would not send it: its keeper leaves it out before
        valuing it (taker.taker_actions' `late`). None: nothing is left out (no block space,
        no auction clocks).

        A take lands no sooner than the bar the room search (`_room`) finds now for the highest
        bid it could be sent with (its planned bid raised for the take's drops in a row, not
        lowered by its value) and this least gas: a lower bid waits as long or longer for the
        latency model and finds less room (a lower percentile's share), more gas fits no
        sooner, and the bars' room only fills during a round (a take that `_late` gives back
        booked it first). An auction that needs a reset at that bar's time needs one at every
        later time (ledger.reset_time), so such a take would be late. A take that could land
        this bar is never left out: `_late` does not judge it; nor one whose best bid the
        latency model drops, nor one bid 0 (queued at once). A take left out ends its drops in
        a row, as a late one does: sent, its value's cap might have had it dropped instead (a
        `txs` row and one more drop), which is not known before it is valued. The filter is a
        `LateTakes`: what a round that reads only some auctions (strategies/observe.py,
        `choose_running`) needs to count the takes it leaves out unread."""
        if self.blockspace is None or self.reset_time is None or planned == 0:
            return None  # (a bid of 0 is queued at once, never judged: `act`)
        bar, role = self.bar(), role_of(actor)
        gas_token = self.prices[bar]
        reset_time = self.reset_time(type_name)
        # the actor's takes of the type dropped in a row, by auction (most have none)
        dropped = {
            targets[0][1]: n
            for (who, name, function, targets), n in self.drops.items()
            if who == actor and name == type_name and function == "take" and len(targets) == 1
        }
        # drops in a row -> the time [s] of the first bar a take at its bid lands in, at best
        # (None: never judged late: dropped, or landing this bar)
        landing_times: dict[int, int | None] = {}

        def landing_time(n: int) -> int | None:
            if n not in landing_times:
                bid = planned
                if role is not None:
                    bid = self.strategy.final_bid(role, planned, n, None, gas, gas_token)[0]
                landing = self._earliest(bid, gas, bar)
                landing_times[n] = (
                    None if landing is None or landing == bar else self._time_of(landing)
                )
            return landing_times[n]

        # most auctions' takes have no drops: the same landing time
        when_undropped = landing_time(0)
        if when_undropped is None and not dropped:
            return None  # no take of the actor's is judged late
        return LateTakes(self, actor, type_name, reset_time, when_undropped, dropped, landing_time)

    def _earliest(self, bid: int, gas: int, bar: int) -> int | None:
        """The first bar an action bid `bid` with `gas` sent in `bar` could land in now: the
        latency model's delay, then `_room`'s search, without booking (None: dropped)."""
        delay = self.latency.delay(bid, self.times[bar])
        if delay is None:
            return None
        assert self.blockspace is not None
        step = self.times[1] - self.times[0] if len(self.times) > 1 else 600
        landing = bar + delay
        start, end = self._full_runs.get((bid, gas), (0, 0))
        if start <= landing < end:
            landing = end
        while True:
            time = self.times[min(landing, len(self.times) - 1)]
            used = self.bar_gas.get(landing, 0)
            capacity = self.blockspace.capacity(step, self.latency.level(bid, time))
            if used + gas <= capacity or used == 0:
                return landing
            landing += 1

    def _room(self, action: Action, bid: int, bar: int, delay: int) -> int:
        """The delay after which `action`, bid `bid` and landing `delay` bars after `bar` by the
        latency model, finds room in a bar's blocks for its gas (market/blockspace.py): each bar
        that is full at its bid's percentile adds one."""
        if self.blockspace is None:
            return delay
        try:
            gas = action_gas(action)
        except KeyError:  # a debt auction's bid: the bidder's own, not estimated
            gas = 0
        step = self.times[1] - self.times[0] if len(self.times) > 1 else 600
        # a bar full for this bid and gas stays full (its gas only grows): the run of full bars
        # the last such action waited through is passed over at once, counted as waited
        key, first = (bid, gas), bar + delay
        start, end = self._full_runs.get(key, (0, 0))
        if start <= first < end:
            delay += end - first
            self.block_waits += end - first
        while True:
            landing = bar + delay
            time = self.times[min(landing, len(self.times) - 1)]
            level = self.latency.level(bid, time)
            used = self.bar_gas.get(landing, 0)
            if used + gas <= self.blockspace.capacity(step, level) or used == 0:
                self.bar_gas[landing] = used + gas
                # bars first .. landing - 1 were full (with the run passed over, start on)
                if landing > first:
                    self._full_runs[key] = (start if start <= first < end else first, landing)
                return delay
            delay += 1
            self.block_waits += 1

    def _queue(self, action: Action, submitted_bar: int | None = None) -> None:
        """Queue `action` for the block being filled with its gas limit, or refuse it for gas
        (see the module docstring)."""
        try:
            gas = action_gas(action)
        except KeyError:  # no figure: neither charged nor refused
            gas = None
        limit = action_limit(action)
        why = None
        if gas is not None:
            if gas > limit:
                why = OVER_TX_GAS
            elif self.block_gas_limit and limit > self.block_gas_limit:
                why = OVER_BLOCK_GAS
        if why is not None:
            self.rec.dropped(
                self.times[self.bar()], action.actor, action.contract, action.function, why, REFUSED
            )
            return
        self.rec.queue(
            action.actor,
            action.sender,
            action.contract,
            action.function,
            *action.args,
            submitted_bar=submitted_bar,
            gas_limit=action.gas_limit,
        )

    def _bid(self, action: Action, drops: int) -> tuple[int, bool]:
        """The bid `action` is sent with after `drops` drops, and whether its value capped it
        (GasStrategy.final_bid). Its value: `Action.values` (a take's, the profit after the gas
        of its planned bid: that gas is added back), none if it has none."""
        role = role_of(action.actor)
        if role is None:  # not a keeper (an attacker's shape): its own bid, as it made it
            return action.gas_price, False
        try:
            gas = action_gas(action)
        except KeyError:  # a debt auction's bid: not valued
            gas = 0
        gas_token = self.prices[self.bar()]  # the first type's market price: the gas token's
        value = sum(action.values) if action.values else None
        if value is not None and action.function == "take":
            value += gas * action.gas_price * gas_token // WAD
        return self.strategy.final_bid(role, action.gas_price, drops, value, gas, gas_token)

    def plan_bids(self, steps: list[Step]) -> None:
        """The bar's planned bids (GasStrategy.planned_bid) of every keeper role, from the bar's
        gas percentiles; the steps plan with them."""
        bar = self.bar()
        p30, p60 = self.latency.percentiles(self.times[bar])
        self.bids = {role: self.strategy.planned_bid(role, p30, p60) for role in GAS_ROLES}
        self.rows["gas_bids"].append(
            (
                bar,
                self.times[bar],
                p30 / 10**9,
                p60 / 10**9,
                *(self.bids[role] / 10**9 for role in GAS_ROLES),
            )
        )
        for step in steps:
            role = BID_OF_STEP.get(step.role)
            if role is not None:
                step.gas_price = self.bids[role]  # type: ignore[attr-defined]

    def defer(self, actions: list[Action]) -> None:
        """What a keeper's gas budget held back this bar: never sent (the keeper plans it again
        next bar), a row of `txs` (status "deferred") and of `deferred` each."""
        bar = self.bar()
        now = self.times[bar]
        for a in actions:
            self.rec.dropped(
                now, a.actor, a.contract, a.function, "over the keeper's gas budget", "deferred"
            )
            self.rows["deferred"].append(
                (
                    bar,
                    now,
                    a.actor,
                    self._type_of(a),
                    a.function,
                    len(a.targets),
                    action_gas(a),
                    sum(a.values) / WAD,
                )
            )

    def _type_of(self, a: Action) -> str:
        """The collateral type `a` acts on: its contract's (an auction, a flash taker) or its
        first argument's (a type id); BACKSTOP_WIDE for the Backstop's own chores."""
        name = self.type_names.get(a.contract)
        if name is None and a.args and isinstance(a.args[0], bytes):
            name = self.type_names.get(a.args[0])
        return name or BACKSTOP_WIDE

    def flying(self) -> set[tuple]:
        """The targets of every action still in flight: one set, kept as actions are sent and
        land (between steps, never during one): read it, never change it."""
        return self._flying


class LateTakes:
    """A taker's late filter for a round (`Sending.late_filter`): `late(auction_id)` whether a
    take of the auction sent now would certainly land after it needs a reset (counted in
    `late_unplanned`, and its drops in a row ended). `when`: the time [s] of the first bar the
    taker's undropped takes could land in (None: none is judged late), `dropped`: the auctions
    whose takes it dropped in a row, by drops (each judged at its own bid), `skipped(n)`: n
    more takes left out unvalued, of auctions a round did not read (an auction that needs no
    reset now, undropped, whose clock's reset time is at or before `when`: what `late` would
    have said of it; strategies/observe.py, `choose_running`)."""

    def __init__(
        self,
        sending: Sending,
        actor: str,
        type_name: str,
        reset_time: Callable[[int], int | None],
        when: int | None,
        dropped: dict[int, int],
        landing_time: Callable[[int], int | None],
    ):
        self.sending, self.actor, self.type_name = sending, actor, type_name
        self.reset_time, self.when, self.dropped = reset_time, when, dropped
        self.landing_time = landing_time

    def __call__(self, auction_id: int) -> bool:
        dropped = self.dropped
        when = self.landing_time(dropped[auction_id]) if auction_id in dropped else self.when
        if when is None:
            return False
        first = self.reset_time(auction_id)
        if first is None or when < first:
            return False
        self.sending.late_unplanned += 1
        if auction_id in dropped:  # not dropped, as a take `_late` gave back: its run ends
            key = (self.actor, self.type_name, "take", (("auction", auction_id),))
            self.sending.drops.pop(key, None)
        return True

    def skipped(self, count: int) -> None:
        self.sending.late_unplanned += count
