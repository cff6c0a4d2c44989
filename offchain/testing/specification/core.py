"""The specification of one System (`Specification`): after a success the per-event checks
(events.py) and the checks of a whole transaction's effect (the debt to auction, the unsettled
proceeds, the fund's payments, the stakers' shares and request caps); after a revert the check of
its reason (reverts.py). A broken check raises `SpecViolation`."""

from __future__ import annotations

from typing import Any

from offchain.model.backstop import PROCEEDS_LIMIT, Layer
from offchain.model.fixed_point import WAD
from offchain.model.state import Event, Storage
from offchain.testing.past import Journal
from offchain.testing.specification.base import (
    Before,
    SpecificationBase,
    SpecViolation,
    least_shares,
)
from offchain.testing.specification.curves import ceil_div
from offchain.testing.specification.deleverage import DELEVERAGE_REVERT_CHECKS, deleverage_checks
from offchain.testing.specification.events import EVENT_CHECKS
from offchain.testing.specification.guardian import GUARDIAN_REVERT_CHECKS, guardian_checks
from offchain.testing.specification.loss_order import LOSS_ORDER_REVERT_CHECKS, loss_order_checks
from offchain.testing.specification.margin_call import MARGIN_CALL_REVERT_CHECKS, soft_liquidated
from offchain.testing.specification.reverts import REVERT_CHECKS
from offchain.testing.specification.timelock import timelock_checks, timelock_revert

# every event's and every revert reason's check: the engine's and auctions' (events.py,
# reverts.py) and the MarginCall's (margin_call.py)
_EVENT_CHECKS = {**EVENT_CHECKS, "SoftLiquidated": soft_liquidated}
_REVERT_CHECKS = {
    **REVERT_CHECKS,
    **MARGIN_CALL_REVERT_CHECKS,
    **DELEVERAGE_REVERT_CHECKS,
    **LOSS_ORDER_REVERT_CHECKS,
    **GUARDIAN_REVERT_CHECKS,
}

# the layers whose payment in `cover` is stablecoin the Backstop holds until `heal`
_PAYING_LAYERS = (Layer.FUND, Layer.STABILITY_POOL, Layer.REDISTRIBUTION)


class Specification(SpecificationBase):
    """The checks of one System (see the package docstring). `checks` counts them."""

    # ------------------------------------------------------------ after a success

    def after(self, pre: Before, events: list[Event]) -> None:
        problems: list[str] = []
        self.events = events
        self.raised = {}
        now = self.model.env.timestamp
        for event in events:
            check = _EVENT_CHECKS.get(event.name)
            if check is not None:
                self.checks += 1
                problem = check(self, pre, event, now)
                if problem:
                    problems.append(f"{event.name}: {problem}")
        problems += self._debt_to_auction(pre, events)
        problems += self._unsettled(pre, events)
        problems += self._fund_payments(pre, events)
        problems += self._stakers(pre, events)
        problems += self._request_caps(pre, events)
        problems += deleverage_checks(self, pre, events)
        problems += loss_order_checks(self, pre, events)
        problems += self._min_auction_views(pre)
        problems += guardian_checks(self, pre, events)
        checks, found = timelock_checks(
            self.model,
            pre.state["timelocks"],
            (pre.sender, pre.address, pre.function, pre.args),
            events,
        )
        self.checks += checks
        problems += found
        if problems:
            raise SpecViolation(
                f"{pre.function} from {pre.sender}: specification broken:\n" + "\n".join(problems)
            )

    def _min_auction_views(self, pre: Before) -> list[str]:
        """Every auction's `min_auction` view reads the type's dust x its penalty as they are
        after the transaction (from the engine's and the Liquidator's own state): a change of
        either shows at once, never a stale value. Read after a transaction that changed the
        type's dust or penalty or wrote the auction (its journal, when the state before is read
        from it: the view was read after the last one that did), after every one otherwise."""
        problems = []
        engine, liquidator = self.c(self.d.engine), self.c(self.d.liquidator)
        journal = pre.journal
        for name, t in self.d.types.items():
            if journal is not None and not self._min_auction_inputs_changed(journal, t):
                continue
            self.checks += 1
            dust = engine.collateral_types[t.type_id].dust
            expected = dust * liquidator.types[t.type_id].penalty // WAD
            shown = self.c(t.auction).min_auction
            if shown != expected:
                problems.append(
                    f"auction {name}: min_auction {shown}, dust x penalty now {expected}"
                )
        return problems

    def _min_auction_inputs_changed(self, journal: Journal, t: Any) -> bool:
        """Whether the journal's transaction changed the type's dust or penalty (from their
        values before it) or wrote any attribute of its auction."""
        auction = self.c(t.auction)
        maps, attributes = journal.written()
        if not maps and not attributes:
            return False
        if any(id(auction) == written for written, _ in attributes) or any(
            id(value) in maps for value in vars(auction).values() if isinstance(value, Storage)
        ):
            return True
        engine, liquidator = self.c(self.d.engine), self.c(self.d.liquidator)
        for contract, name, field in (
            (engine, "collateral_types", "dust"),
            (liquidator, "types", "penalty"),
        ):
            if journal.replaced(contract, name):
                return True
            now = getattr(contract, name)
            if t.type_id in journal.keys(now):
                before = journal.attribute(contract, name)[t.type_id]
                if getattr(before, field) != getattr(now[t.type_id], field):
                    return True
        return False

    def _debt_to_auction(self, pre: Before, events: list[Event]) -> list[str]:
        if any(e.name == "Shutdown" and e.address == self.d.backstop for e in events):
            return []
        added = sum(
            e.args["amount"]
            for e in events
            if e.name == "LossAllocated" and e.args["layer"] == Layer.DEBT_AUCTION
        )
        started = sum(
            e.args["bid"]
            for e in events
            if e.name == "DebtAuctionStarted" and e.address == self.d.backstop
        )
        # governance's release of a loss due for deleveraging
        released = sum(
            e.args["amount"]
            for e in events
            if e.name == "DeleverageReleased" and e.address == self.d.backstop
        )
        # what the surplus repaid of it before an auction (issue 63, finding 5)
        repaid = sum(
            e.args["amount"]
            for e in events
            if e.name == "AuctionDebtRepaid" and e.address == self.d.backstop
        )
        now_value = self.c(self.d.backstop).debt_to_auction
        self.checks += 1
        if now_value != pre.state["debt_to_auction"] + added + released - started - repaid:
            return [
                f"debt_to_auction {pre.state['debt_to_auction']} -> {now_value}, but the "
                f"debt-auction layer took on {added}, {released} was released from "
                f"deleveraging, the surplus repaid {repaid} and auctions started for {started}"
            ]
        return []

    def _unsettled(self, pre: Before, events: list[Event]) -> list[str]:
        """A closed loss's covered proceeds, and what the fund, pool and redistribution layers
        pay in a cover, add to the unsettled proceeds (all of them are cancelled at once,
        instead, when the sum would reach 2**192); a heal cancels exactly all of them."""
        expected = pre.state["backstop_unsettled"]
        out = []
        for e in events:
            if e.address != self.d.backstop:
                continue
            if e.name == "LossClosed" or (
                e.name == "LossAllocated" and e.args["layer"] in _PAYING_LAYERS
            ):
                expected += e.args["covered" if e.name == "LossClosed" else "amount"]
                if expected >= PROCEEDS_LIMIT:
                    expected = 0
            elif e.name == "ProceedsHealed":
                self.checks += 1
                if e.args["amount"] != expected or expected == 0:
                    out.append(f"healed {e.args['amount']}, {expected} unsettled")
                expected = 0
        self.checks += 1
        now_value = self.c(self.d.backstop).unsettled
        if now_value != expected:
            out.append(
                f"unsettled proceeds {pre.state['backstop_unsettled']} -> {now_value}, "
                f"expected {expected} from the losses closed, covered and healed"
            )
        return out

    def _fund_payments(self, pre: Before, events: list[Event]) -> list[str]:
        """In a cover, the fund layer pays min(what is left of the loss, free surplus -
        unattributed bad debt), 0 when the surplus is not above that debt (finding 31-6); after
        shutdown min(what is left, free surplus). Free surplus: the Backstop's stablecoin less
        its unsettled proceeds; unattributed: its bad debt less the attributed and the
        auctioned. The layers paid before it in the same cover change that room only by a
        redistribution's excess (new surplus); the others pay the Backstop and add to the
        unsettled proceeds (free surplus unchanged), or move attributed debt to the debt auction
        (unattributed unchanged). After shutdown a `settle` needs every loss event done."""
        out: list[str] = []
        if not pre.state["backstop_live"] and pre.state["backstop_open_losses"]:
            for e in events:
                if e.address == self.d.backstop and e.name == "DebtSettled":
                    self.checks += 1
                    out.append(
                        f"settled {e.args['amount']} after shutdown with "
                        f"{pre.state['backstop_open_losses']} loss events open"
                    )
        if pre.function != "cover" or pre.address != self.d.backstop:
            return out
        key = (pre.args[0], pre.args[1], pre.args[2])
        loss = pre.state["losses"].get(key)
        if loss is None:
            return out
        bad, attributed, auctioned = pre.state["backstop_debt"]
        room = pre.state["backstop_stable"] - pre.state["backstop_unsettled"]
        if pre.state["backstop_live"]:
            room -= bad - attributed - auctioned
        left, paid = loss.due, False
        # the room when a FUND layer placed first is reached (a redistribution after it adds its
        # excess to the room of later layers only)
        room_first = room
        for e in events:
            if e.address != self.d.backstop:
                continue
            if e.name == "LossRedistributed":
                room += e.args["excess"]
            elif e.name == "LossAllocated":
                if e.args["layer"] == Layer.FUND:
                    self.checks += 1
                    paid = True
                    expected = min(left, max(room, 0))
                    if e.args["amount"] != expected:
                        out.append(
                            f"the fund paid {e.args['amount']}, min(loss left {left}, free "
                            f"surplus - unattributed bad debt {room}) = {expected}"
                        )
                left -= e.args["amount"]
        order = tuple(self.c(self.d.backstop).waterfall)
        if not paid and order[:1] == (Layer.FUND,) and loss.due > 0:
            # the fund, reached first, paid nothing: then it had no room
            self.checks += 1
            if room_first > 0:
                out.append(f"the fund paid nothing of {loss.due} with {room_first} of room")
        return out

    def _stakers(self, pre: Before, events: list[Event]) -> list[str]:
        """An activation leaves the staker at least the shares worth MIN_STAKE at the activation
        price, rounded down (one per rad in an empty pool): a value, not a share count (finding
        31-7)."""
        pool = self.c(self.d.stability_pool)
        least = least_shares(*reversed(pre.state["pool_assets"]))
        out = []
        for e in events:
            if e.address == self.d.stability_pool and e.name == "Activated":
                shares = pool.shares[e.args["staker"]]
                self.checks += 1
                if shares < least:
                    out.append(
                        f"staker {e.args['staker']} holds {shares} after activating, fewer than "
                        f"the {least} worth MIN_STAKE"
                    )
        return out

    def _request_caps(self, pre: Before, events: list[Event]) -> list[str]:
        """A realize lowers a requesting staker's cap (withdrawal_value) by the requested shares'
        part of each charge it realizes, ceil(requested x charge amount / the charge's total
        shares), never below 0: requested shares earn nothing, even after a charge (finding
        31-8)."""
        pool = self.c(self.d.stability_pool)
        out = []
        caps: dict[str, int] = {}
        for e in events:
            if e.address != self.d.stability_pool or e.name != "StakerCharged":
                continue
            staker = e.args["staker"]
            requested = pre.state["pool_withdrawal_shares"][staker]
            if requested == 0:
                continue
            cap = caps[staker] if staker in caps else pre.state["pool_withdrawal_value"][staker]
            charge = e.args["charge_id"]
            amount, total = pool.charge_amount[charge], pool.charge_total_shares[charge]
            part = ceil_div(requested * amount, total)
            caps[staker] = max(cap - part, 0)
        for staker, cap in caps.items():
            self.checks += 1
            if pool.withdrawal_value[staker] != cap:
                out.append(
                    f"{staker}'s request cap {pool.withdrawal_value[staker]} after realizing, "
                    f"expected {cap} (its value at the request less its part of the charges)"
                )
        return out

    # ------------------------------------------------------------ after a revert

    def reverted(self, pre: Before, reason: str | None) -> None:
        """A revert's reason must hold in the state before the transaction."""
        if (reason or "").startswith("timelock: "):
            self.checks += 1
            problem = timelock_revert(
                pre.state["timelocks"],
                (pre.sender, pre.address, pre.function, pre.args),
                self.model.env.timestamp,
                reason or "",
            )
            if problem:
                raise SpecViolation(
                    f"{pre.function} from {pre.sender} reverted {reason!r}: {problem}"
                )
            return
        check = _REVERT_CHECKS.get(reason or "")
        if check is None:
            return
        self.checks += 1
        problem = check(self, pre)
        if problem:
            raise SpecViolation(f"{pre.function} from {pre.sender} reverted {reason!r}: {problem}")
