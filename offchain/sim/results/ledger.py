"""The run's bookkeeping, kept from the events it sees: liquidations and how long each vault was
unsafe, soft liquidations, takes, loss events and their allocations, and who paid what (per payer
and layer). The recorder (run/recorder.py) hands it every mined transaction's events; the result's
loss, payer and vault tables come from it. It holds no simulation: the rows it appends to, the vault
index it keeps and, once deployed, the addresses it follows (`follow`); the driver tells it the bar
and its market price (`at`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from offchain.model import size_margin as sizing
from offchain.model.dutch_auction import needs_reset_at
from offchain.model.fixed_point import RAD, RAY, WAD, WAD_TO_RAY
from offchain.model.price_curves import LINEAR, STAIRSTEP, Curve
from offchain.model.state import Event
from offchain.sim.results.tables import HEALTH_BANDS, LAYER_NAMES, health_band
from offchain.sim.strategies.keepers import VaultIndex
from offchain.sim.strategies.observe import BackstopWatch, Call
from offchain.system.deployment import Deployment


def reset_hint(curve: Curve, max_drop: int) -> int:
    """About how many seconds after its start an auction on `curve` is priced below `max_drop`
    [ray] x its start price (ledger.reset_time's first guess, in floating point; any value
    will do: the search that starts from it is exact)."""
    drop = max_drop / RAY
    try:
        if curve.kind == LINEAR:
            return int(curve.duration * (1 - drop)) + 1
        steps = math.log(drop) / math.log(curve.cut / RAY) if drop > 0 else math.inf
        per = curve.step if curve.kind == STAIRSTEP else 1
        return (int(steps) + 1) * per
    except (ValueError, ZeroDivisionError, OverflowError):  # a cut of 0, a drop of 1
        return 0


def first_true(low: int, high: int, hint: int, holds: Callable[[int], bool]) -> int:
    """The least t in [low, high] where `holds(t)` (False below it, True from it on, and True
    at `high`), searched from `hint`: a gallop away from it to a bracket, then bisection (two
    asks where the hint is right)."""
    t = min(max(hint, low), high)
    if holds(t):
        # True at t: walk down, doubling the step, to a t' where it is False (or below low)
        yes, step = t, 1
        no = yes - step
        while no >= low and holds(no):
            yes, step = no, step * 2
            no = yes - step
        no = max(no, low - 1)
    else:
        no, step = t, 1
        yes = no + step
        while yes < high and not holds(yes):
            no, step = yes, step * 2
            yes = no + step
        yes = min(yes, high)
    while yes - no > 1:  # False at no (or no is below low), True at yes
        middle = (no + yes) // 2
        if holds(middle):
            yes = middle
        else:
            no = middle
    return yes


class Ledger:
    """What a simulation records of its events (see the module docstring): rows go to `rows`
    (the result's tables by name), vault events to `index`."""

    def __init__(self, rows: dict[str, list[tuple]], index: VaultIndex, backstop_wide: bool = True):
        self.rows = rows
        self.index = index
        # also the Backstop-wide events (stakers' charges, debt auctions): one ledger of a run's
        # several (Ledgers) keeps them, so that they are counted once
        self.backstop_wide = backstop_wide
        self.bar = -1  # the setup
        self.market_price = 0  # wad: the bar's
        self.bought = 0
        self.unsafe_since: dict[str, int] = {}  # owner -> since when its vault is unsafe
        self.first_unsafe: dict[str, int] = {}
        self.liquidated: dict[str, list[int]] = {}  # owner -> liquidation times
        self.soft_liquidated: dict[str, int] = {}  # owner -> its soft liquidations
        self.debt_auction_ids: set[int] = set()  # running debt auctions
        self.losses: dict[int, dict[str, Any]] = {}  # auction id -> the loss event's figures [rad]
        self.watched_losses: set[int] = set()  # closed, not yet fully covered
        # auction id -> [collateral left to sell (wad), debt left to raise (rad)] of the auctions
        # still running: what the end-of-run accounting marks (insolvency.py)
        self.running: dict[int, list[int]] = {}
        # the followed auction's clock: auction id -> (started or last reset [s], top [ray]),
        # from its Started and Reset events; and its curve, max_duration and max_drop (read when
        # the ledger starts to follow, then its CurveSet and ParametersSet events): when a take
        # sent now would find its auction needing a reset (`needs_reset_at`)
        self.clock: dict[int, tuple[int, int]] = {}
        self.curve: Curve | None = None
        self.max_duration = 0
        self.max_drop = 0
        # the running auctions' clocks: `clock` less the auctions that finished (Finished) or
        # were cancelled (Cancelled): what a round weighs (strategies/observe.py, `Clocks`)
        self.live: dict[int, tuple[int, int]] = {}
        # and the same by clock: a clock -> the running auctions on it (liquidated together)
        self.on_clock: dict[tuple[int, int], set[int]] = {}
        # a clock (started [s], top [ray]) -> the first second an auction on it needs a reset
        # at, found with the curve and limits now (each change forgets it): `clock_reset_time`'s
        # (auctions liquidated together share their clock, and so the answer)
        self._reset_times: dict[tuple[int, int], int] = {}
        self._handlers: dict[tuple[str, str], Callable[[dict, int, str], None]] | None = None
        self.payers: dict[tuple[str, str, str], int] = {}  # (payer, kind, layer) -> rad
        self.staker_charged = 0  # rad
        self.pool_allocated = 0  # rad
        self.gov_minted = 0  # wad
        # the type's rate [ray] and safe price [ray] as its events move them (RateFolded,
        # SafePriceSet; from the engine's when the ledger starts to follow) and its size margin
        # (packed), to judge a vault at the moment a layer charges it
        self.rate = RAY
        self.safe_price = 0
        self.size = 0
        # what the vault-charging layers (redistribution, deleverage) did to each vault they
        # charged: (layer, health band before) -> [charges, rad]; layer -> owner -> rad;
        # (layer, band) -> owners a charge took from safe to unsafe at the same price; layer ->
        # owner -> (time, band) of its first charge
        self.charges_by_band: dict[tuple[str, str], list[int]] = {}
        self.charged: dict[str, dict[str, int]] = {}
        self.made_unsafe: dict[tuple[str, str], set[str]] = {}
        self.first_charged: dict[str, dict[str, tuple[int, str]]] = {}

    def at(self, bar: int, market_price: int) -> None:
        """Rows from now on belong to `bar`, whose market price is `market_price` [wad]."""
        self.bar, self.market_price = bar, market_price
        self.bought = 0  # collateral the bar's takes bought [wad] (the external market's sales)

    def follow(
        self,
        d: Deployment,
        auction: str,
        rate: int = RAY,
        safe_price: int = 0,
        limits: tuple[Curve, int, int] | None = None,
    ) -> None:
        """Follow `d`'s events from now on, and the auctions of `auction` (the run's type);
        before, during the deployment, there is nothing to follow. `rate` and `safe_price`
        [ray]: the type's in the engine now (its events move them from here); `limits`: the
        auction's curve, max_duration and max_drop now (None: not known, no take is judged)."""
        self._handlers = self._event_handlers(d, auction)
        self.rate, self.safe_price = rate, safe_price
        if limits is not None:
            self.curve, self.max_duration, self.max_drop = limits
            self._reset_times.clear()
        for t in d.types.values():
            if t.type_id == self.index.type_id and t.config.size_threshold:
                self.size = sizing.pack(*t.config.size_margin)

    def backstop_watch(self, name: str) -> BackstopWatch:
        """What the backstop keeper reads for type `name` (the followed one: a ledger follows
        one type): closed losses not yet covered, running debt auctions."""
        return BackstopWatch(sorted(self.watched_losses), sorted(self.debt_auction_ids))

    def losses_done(self, name: str, done: Iterable[int]) -> None:
        """Losses with nothing left to cover: the keeper stops reading them."""
        self.watched_losses.difference_update(done)

    def on_events(self, events: list[Event], t: int, actor: str) -> None:
        handlers = self._handlers
        if handlers is None:
            return
        for e in events:
            handler = handlers.get((e.address, e.name))
            if handler is not None:
                handler(e.args, t, actor)

    def _event_handlers(
        self, d: Deployment, auction: str
    ) -> dict[tuple[str, str], Callable[[dict, int, str], None]]:
        """(emitter, event name) -> what the simulation records of it; other events only go to
        the events table."""
        index_event = lambda args, t, actor: self.index.apply_args(args)  # noqa: E731

        def of_auction(
            handler: Callable[[dict, int, str], None],
        ) -> Callable[[dict, int, str], None]:
            """The handler of a Liquidator or Backstop event, for the followed auction's only:
            auction ids count per auction contract, and a deployment may hold several types."""
            return lambda args, t, actor: (
                handler(args, t, actor) if args["auction"] == auction else None
            )

        handlers = {
            (auction, "Started"): self._on_clock,
            (auction, "Reset"): self._on_clock,
            (auction, "Finished"): self._on_ended,
            (auction, "Cancelled"): self._on_ended,
            (auction, "CurveSet"): self._on_curve_set,
            (auction, "ParametersSet"): self._on_parameters_set,
            (d.engine, "VaultModified"): index_event,
            (d.engine, "VaultSeized"): index_event,
            (d.liquidator, "Liquidated"): of_auction(self._on_liquidated),
            (auction, "Taken"): self._on_taken,
            (d.backstop, "LossOpened"): of_auction(self._on_loss_opened),
            (d.backstop, "LossClosed"): of_auction(self._on_loss_closed),
            (d.backstop, "LossAllocated"): of_auction(self._on_loss_allocated),
            (d.backstop, "LossRedistributed"): of_auction(self._on_loss_redistributed),
            (d.engine, "RateFolded"): self._on_rate_folded,
            (d.engine, "SafePriceSet"): self._on_safe_price_set,
            (d.backstop, "VaultDeleveraged"): self._on_vault_deleveraged,
        }
        if d.margin_call:
            handlers[(d.margin_call, "SoftLiquidated")] = self._on_soft_liquidated
        if self.backstop_wide:
            handlers |= {
                (d.stability_pool, "StakerCharged"): self._on_staker_charged,
                (d.debt_auction, "Started"): lambda args, t, actor: self.debt_auction_ids.add(
                    args["auction_id"]
                ),
                (d.debt_auction, "Finished"): self._on_debt_auction_finished,
            }
        return handlers

    def _on_clock(self, args: dict, t: int, actor: str) -> None:
        auction_id = args["auction_id"]
        self._on_ended(args, t, actor)  # off the clock it ran on
        started = self.clock[auction_id] = self.live[auction_id] = (t, args["top"])
        self.on_clock.setdefault(started, set()).add(auction_id)

    def _on_ended(self, args: dict, t: int, actor: str) -> None:
        started = self.live.pop(args["auction_id"], None)
        if started is not None:
            running = self.on_clock[started]
            running.discard(args["auction_id"])
            if not running:
                del self.on_clock[started]

    def _on_curve_set(self, args: dict, t: int, actor: str) -> None:
        self.curve = Curve(args["kind"], args["duration"], args["step"], args["cut"])
        self._reset_times.clear()  # each was found with the curve before

    def _on_parameters_set(self, args: dict, t: int, actor: str) -> None:
        self.max_duration, self.max_drop = args["max_duration"], args["max_drop"]
        self._reset_times.clear()

    def needs_reset_at(self, auction_id: int, when: int) -> bool:
        """Whether the followed auction `auction_id` will need a reset at `when` [s], as its
        contract will judge it then (model/dutch_auction.needs_reset_at); False where the ledger
        has not seen it start or does not know the auction's limits."""
        started = self.clock.get(auction_id)
        if started is None or self.curve is None or started[1] == 0:
            return False
        return needs_reset_at(
            self.curve, self.max_duration, self.max_drop, started[0], started[1], when
        )

    def reset_time(self, auction_id: int) -> int | None:
        """The first second [s] at which the followed auction `auction_id` needs a reset
        (`needs_reset_at` is False before it and True from it on: the price only falls while
        the auction's clock stands, and past max_duration it needs one whatever its price);
        None where `needs_reset_at` knows nothing (`clock_reset_time` of its clock)."""
        started = self.clock.get(auction_id)
        return None if started is None else self.clock_reset_time(started)

    def clock_reset_time(self, started: tuple[int, int]) -> int | None:
        """`reset_time` of an auction whose clock is `started` (its start or last reset [s],
        its top [ray]). Searched once per clock from the curve's estimate in floating point
        (`reset_hint`), the answer exact (the search asks `needs_reset_at`), then kept: a
        jammed run's taker asks it of every running auction every round (sending.py,
        `late_filter`; strategies/observe.py, `choose_running`)."""
        kept = self._reset_times.get(started)
        if kept is not None:
            return kept
        curve = self.curve
        if curve is None or started[1] == 0:
            return None
        start, top = started
        max_duration, max_drop = self.max_duration, self.max_drop
        low, high = start, start + max_duration + 1  # it needs one at `high`
        hint = low + reset_hint(curve, max_drop)
        first = first_true(
            low,
            high,
            hint,
            lambda t: needs_reset_at(curve, max_duration, max_drop, start, top, t),
        )
        self._reset_times[started] = first
        return first

    def _on_liquidated(self, args: dict, t: int, actor: str) -> None:
        owner = args["owner"]
        self.running.setdefault(args["auction_id"], [0, 0])[0] = args["collateral"]
        since = self.unsafe_since.pop(owner, t)
        self.liquidated.setdefault(owner, []).append(t)
        self.rows["liquidations"].append(
            (
                self.bar,
                t,
                owner,
                args["auction_id"],
                args["collateral"] / WAD,
                args["debt"] / RAD,
                since,
                t - since,
            )
        )

    def _on_taken(self, args: dict, t: int, actor: str) -> None:
        self.bought += args["collateral"]
        if args["auction_id"] in self.running:  # not when the take finished the auction
            self.running[args["auction_id"]] = [args["lot"], args["debt"]]
        self.rows["takes"].append(
            (
                self.bar,
                t,
                args["auction_id"],
                actor,
                args["price"] / RAY,
                self.market_price / WAD,
                args["collateral"] / WAD,
                args["owe"] / RAD,
            )
        )

    def _on_soft_liquidated(self, args: dict, t: int, actor: str) -> None:
        """A soft liquidation of this type's: a row (every type's in one table), and its
        collateral sold on the external market as a take's is."""
        if args["collateral_type"] != self.index.type_id:
            return
        collateral, debt = args["collateral"], args["debt"]
        self.bought += collateral
        self.soft_liquidated[args["owner"]] = self.soft_liquidated.get(args["owner"], 0) + 1
        value = collateral * self.market_price * WAD_TO_RAY  # rad, at the bar's market price
        self.rows["soft_liquidations"].append(
            (
                self.bar,
                t,
                self.index.type_id.rstrip(b"\0").decode(),
                args["owner"],
                actor,
                debt / RAD,
                collateral / WAD,
                args["price"] / WAD,
                self.market_price / WAD,
                args["bonus_value"] / RAD,
                (value - debt) / RAD,
            )
        )

    def _on_loss_opened(self, args: dict, t: int, actor: str) -> None:
        self.running.setdefault(args["auction_id"], [0, 0])[1] = args["to_raise"]
        self.losses[args["auction_id"]] = {
            "opened": t,
            "debt": args["debt"],
            "to_raise": args["to_raise"],
            "closed": None,
            "raised": 0,
            "covered": 0,
            "loss": None,
            "allocated": 0,
        }

    def _on_loss_closed(self, args: dict, t: int, actor: str) -> None:
        self.running.pop(args["auction_id"], None)
        self.losses[args["auction_id"]].update(
            closed=t, raised=args["raised"], covered=args["covered"], loss=args["loss"]
        )
        self.watched_losses.add(args["auction_id"])  # the backstop keeper's from now on

    def _on_loss_allocated(self, args: dict, t: int, actor: str) -> None:
        layer = LAYER_NAMES[args["layer"]]
        amount = args["amount"]
        self.losses[args["auction_id"]]["allocated"] += amount
        self.rows["allocations"].append(
            (self.bar, t, args["auction_id"], layer, args["participant"], amount / RAD)
        )
        if layer == "fund":
            self.pay("insurance fund (Backstop surplus)", "fund", layer, amount)
        elif layer == "stability_pool":
            self.pool_allocated += amount
        elif layer == "debt_auction":
            self.pay("governance-token holders (debt auctions mint)", "debt_auction", layer, amount)
        elif layer == "settlement":
            self.pay("stablecoin holders (global settlement haircut)", "settlement", layer, amount)

    def _on_loss_redistributed(self, args: dict, t: int, actor: str) -> None:
        # the fold (RateFolded, earlier in the same transaction) has already moved self.rate
        delta = args["delta_rate"]
        before = self.rate - delta
        for owner, (collateral, art) in self.index.vaults.items():
            if art:
                self.pay(f"vault {owner}", "vault", "redistribution", art * delta)
                self._charged("redistribution", owner, collateral, art * before, art * self.rate, t)

    def _on_vault_deleveraged(self, args: dict, t: int, actor: str) -> None:
        # the seize (VaultSeized, just before in the same transaction) is in the index already
        if args["collateral_type"] != self.index.type_id:
            return
        owner, debt = args["owner"], args["debt"]
        collateral, art = self.index.vaults[owner]
        self.pay(f"vault {owner}", "vault", "deleverage", debt)
        after = art * self.rate
        self._charged("deleverage", owner, collateral, after - debt, after, t)

    def _charged(
        self, layer: str, owner: str, collateral: int, before: int, after: int, t: int
    ) -> None:
        """A layer moved `owner`'s debt from `before` to `after` [rad] at the current safe price:
        its charge by the vault's health band before it, and whether it took the vault from safe
        to unsafe."""
        value = collateral * self.safe_price  # rad
        need_before = sizing.margin_debt(before, self.size)
        band = health_band(value, need_before)
        cell = self.charges_by_band.setdefault((layer, band), [0, 0])
        cell[0] += 1
        cell[1] += after - before
        charged = self.charged.setdefault(layer, {})
        charged[owner] = charged.get(owner, 0) + after - before
        self.first_charged.setdefault(layer, {}).setdefault(owner, (t, band))
        if value >= need_before and value < sizing.margin_debt(after, self.size):
            self.made_unsafe.setdefault((layer, band), set()).add(owner)

    def _on_rate_folded(self, args: dict, t: int, actor: str) -> None:
        if args["collateral_type"] == self.index.type_id:
            self.rate += args["delta_rate"]

    def _on_safe_price_set(self, args: dict, t: int, actor: str) -> None:
        if args["collateral_type"] == self.index.type_id:
            self.safe_price = args["new_value"]

    def charge_rows(self, name: str) -> list[tuple]:
        """The `layer_charges` rows of type `name` (tables.LAYER_CHARGE_COLUMNS): per layer that
        charged vaults and health band before the charge, the charges and their amount [whole
        units], the vaults a charge took from safe to unsafe at the same price, and the vaults
        first charged in the band that were liquidated afterwards."""
        rows = []
        for layer in sorted(self.charged):
            first = self.first_charged.get(layer, {})
            for band in HEALTH_BANDS:
                cell = self.charges_by_band.get((layer, band))
                if cell is None:
                    continue
                liquidated_after = sum(
                    1
                    for owner, (at, b) in first.items()
                    if b == band and any(t >= at for t in self.liquidated.get(owner, ()))
                )
                rows.append(
                    (
                        name,
                        layer,
                        band,
                        cell[0],
                        sum(1 for b in (x[1] for x in first.values()) if b == band),
                        cell[1] / RAD,
                        len(self.made_unsafe.get((layer, band), ())),
                        liquidated_after,
                    )
                )
        return rows

    def _on_staker_charged(self, args: dict, t: int, actor: str) -> None:
        self.staker_charged += args["amount"]
        self.pay(f"staker {args['staker']}", "staker", "stability_pool", args["amount"])

    def _on_debt_auction_finished(self, args: dict, t: int, actor: str) -> None:
        self.debt_auction_ids.discard(args["auction_id"])
        self.gov_minted += args["lot"]

    def pay(self, payer: str, kind: str, layer: str, amount: int) -> None:
        key = (payer, kind, layer)
        self.payers[key] = self.payers.get(key, 0) + amount

    # -------------------------------------------------------- tables

    def loss_rows(self) -> list[tuple]:
        rows = []
        for auction_id, x in sorted(self.losses.items()):
            loss = x["loss"]
            rows.append(
                (
                    auction_id,
                    x["opened"],
                    x["closed"],
                    x["debt"] / RAD,
                    x["raised"] / RAD,
                    x["covered"] / RAD,
                    None if loss is None else loss / RAD,
                    x["allocated"] / RAD,
                    None if loss is None else (loss - x["allocated"]) / RAD,
                )
            )
        return rows

    def payer_rows(self) -> list[tuple]:
        """Who paid how much, largest first; pool charges not yet realized by the stakers count as
        the pool's."""
        if self.pool_allocated > self.staker_charged:
            self.pay(
                "stability pool (charges not yet realized)",
                "staker",
                "stability_pool",
                self.pool_allocated - self.staker_charged,
            )
        return sorted(
            ((p, k, layer, amount / RAD) for (p, k, layer), amount in self.payers.items()),
            key=lambda r: -r[3],
        )


class Ledgers:
    """The ledgers of a run's collateral types (name -> Ledger, the first keeping the
    Backstop-wide events), fed the same events; what the recorder and the backstop keeper see."""

    def __init__(self, by_type: dict[str, Ledger]):
        self.by_type = by_type

    def follow(self, d: Deployment, read: Callable[[list[Call]], list[Any]]) -> None:
        """Follow `d`'s events from now on; `read` (batched getters) gives each type's rate and
        safe price now."""
        names = list(self.by_type)
        calls: list[Call] = [(d.engine, "collateral_types", (d.types[n].type_id,)) for n in names]
        calls += [
            (d.types[n].auction, getter, ())
            for n in names
            for getter in ("curve", "max_duration", "max_drop")
        ]
        got = read(calls)
        for k, (name, ctype) in enumerate(zip(names, got)):
            curve, max_duration, max_drop = got[len(names) + 3 * k : len(names) + 3 * k + 3]
            limits = (Curve(*curve), max_duration, max_drop)
            self.by_type[name].follow(d, d.types[name].auction, ctype[1], ctype[2], limits)

    def on_events(self, events: list[Event], t: int, actor: str) -> None:
        for ledger in self.by_type.values():
            ledger.on_events(events, t, actor)

    def backstop_watch(self, name: str) -> BackstopWatch:
        w = self.by_type[name].backstop_watch(name)
        first = next(iter(self.by_type.values()))
        return BackstopWatch(w.loss_ids, sorted(first.debt_auction_ids))

    def losses_done(self, name: str, done: Iterable[int]) -> None:
        self.by_type[name].losses_done(name, done)

    def payer_rows(self) -> list[tuple]:
        """Who paid how much, over every type, largest first (Ledger.payer_rows)."""
        ledgers = list(self.by_type.values())
        if len(ledgers) == 1:
            return ledgers[0].payer_rows()
        total: dict[tuple[str, str, str], int] = {}
        for ledger in ledgers:
            for key, amount in ledger.payers.items():
                total[key] = total.get(key, 0) + amount
        allocated = sum(ledger.pool_allocated for ledger in ledgers)
        charged = ledgers[0].staker_charged
        if allocated > charged:
            key = ("stability pool (charges not yet realized)", "staker", "stability_pool")
            total[key] = total.get(key, 0) + allocated - charged
        return sorted(
            ((p, k, layer, amount / RAD) for (p, k, layer), amount in total.items()),
            key=lambda r: -r[3],
        )
