"""The specification of issue 63's two bounds, checked after every transaction, written again
here in plain integer arithmetic (none of the model's fixed_point or its `cancel_owed` and
`surplus_room`), so that a bug planted in a contract and its twin alike shows:

- **Loss order survives shutdown** (finding 4). A running auction cancelled at global settlement
  is a sale of its whole lot at the final price: its owner re-owes min(the debt still to raise,
  the lot's worth), the worth rounded down to a whole wad of stablecoin (floor(lot x RAY /
  final)), as normalized debt rounded down; bound: closing the vault takes at most the lot for
  that debt (ceil(ceil(debt / RAY) x final / RAY) <= lot), so a cancelled auction adds nothing
  to the type's gap, and what it leaves of its loss is the event's. A cover after shutdown
  pays that loss in the waterfall's order of its FUND and POOL layers (the fund min(loss, its
  free surplus), the pool min(loss, its assets) when it has shares and is set), and SETTLEMENT
  (the cash price's haircut) takes only the rest.
- **No mint while surplus can pay** (finding 5). The surplus room is the Backstop's stablecoin
  less its unsettled proceeds and less its unattributed bad debt (its bad debt less the
  attributed, the debt auctions' and the deleveraging's), 0 below. `start_debt_auction` repays
  min(debt to auction, room) from it first and puts a bid on auction only of the rest, so an
  auction starts only when the room is spent; `DebtAuction.repay` ends a running debt auction
  nobody has bid on, for exactly its bid, only when the room covers that bid; the debt to
  auction falls by what was repaid (core.py's `_debt_to_auction`).
"""

from __future__ import annotations

from offchain.model.backstop import Layer
from offchain.model.fixed_point import RAY
from offchain.model.state import ZERO_ADDRESS, Event
from offchain.testing.specification.base import Before, SpecificationBase
from offchain.testing.specification.curves import ceil_div


def surplus_room(pre: Before) -> int:
    """The Backstop's stablecoin less its unsettled proceeds and its unattributed bad debt, 0
    below, before the transaction [rad]."""
    bad, attributed, auctioned = pre.state["backstop_debt"]
    unattributed = bad - attributed - auctioned
    return max(0, pre.state["backstop_stable"] - pre.state["backstop_unsettled"] - unattributed)


def _cancelled(spec: SpecificationBase, pre: Before, e: Event) -> str | None:
    """A DutchAuction's `Cancelled` (only global settlement cancels): the owner re-owes the lot's
    worth at the final price, at most the debt still to raise; closing the vault takes at most
    the lot for that debt."""
    name = spec._type_of_auction(e.address)
    if name is None:
        return None
    t = spec.d.types[name].type_id
    auction = pre.state[f"auctions:{name}"][e.args["auction_id"]]
    final = spec.c(spec.d.settlement).final_price[t]
    rate = pre.state["ctypes"][t].rate
    if final == 0:
        return f"auction {e.args['auction_id']} cancelled without a final price"
    worth = auction.lot * RAY // final * RAY
    expected = min(auction.debt, worth) // rate
    if e.args["normalized_debt"] != expected:
        return (
            f"auction {e.args['auction_id']}: re-owed {e.args['normalized_debt']} normalized "
            f"debt, min(debt {auction.debt}, lot worth {worth}) / rate gives {expected}"
        )
    owed = ceil_div(ceil_div(e.args["normalized_debt"] * rate, RAY) * final, RAY)
    if owed > auction.lot:
        return (
            f"auction {e.args['auction_id']}: its re-owed debt takes {owed} collateral at the "
            f"final price, above its lot {auction.lot}: a gap"
        )
    return None


def _shutdown_cover(spec: SpecificationBase, pre: Before, events: list[Event]) -> list[str]:
    """A cover after shutdown: the enabled FUND and POOL layers in waterfall order, each paying
    what it can, then SETTLEMENT the rest; a layer that pays nothing logs no receipt."""
    if pre.function != "cover" or pre.address != spec.d.backstop or pre.state["backstop_live"]:
        return []
    loss = pre.state["losses"].get((pre.args[0], pre.args[1], pre.args[2]))
    if loss is None:
        return []
    backstop = spec.c(spec.d.backstop)
    if backstop.stability_pool not in (spec.d.stability_pool, ZERO_ADDRESS):
        return []  # (another pool: the Before holds the deployment's pool only)
    assets, shares = pre.state["pool_assets"]
    pool_set = backstop.stability_pool == spec.d.stability_pool
    capacity = {
        Layer.FUND: max(0, pre.state["backstop_stable"] - pre.state["backstop_unsettled"]),
        Layer.STABILITY_POOL: assets if shares and pool_set else 0,
    }
    order = [layer for layer in backstop.waterfall if layer in capacity] + [Layer.SETTLEMENT]
    left, expected = loss.due, []
    for layer in order:
        paid = min(left, capacity.get(layer, left))
        if paid:
            expected.append((int(layer), paid))
        left -= paid
    paid_now = [
        (e.args["layer"], e.args["amount"])
        for e in events
        if e.address == spec.d.backstop and e.name == "LossAllocated"
    ]
    spec.checks += 1
    if paid_now != expected:
        return [
            f"cover after shutdown paid (layer, amount) {paid_now}; the fund, then the pool, in "
            f"order {list(map(int, order))}, then settlement give {expected}"
        ]
    return []


def _debt_repayments(spec: SpecificationBase, pre: Before, events: list[Event]) -> list[str]:
    """What a `start_debt_auction` repaid from the surplus room and auctioned, or a
    `DebtAuction.repay`: only of a running auction without a bid, for exactly its bid, only
    when the room covers it; the engine cancels exactly what was repaid; nothing else repays."""
    d = spec.d
    repaid = [
        e.args["amount"]
        for e in events
        if e.address == d.backstop and e.name == "AuctionDebtRepaid"
    ]
    ended = [e.args for e in events if e.address == d.debt_auction and e.name == "Repaid"]
    start = pre.address == d.backstop and pre.function == "start_debt_auction"
    repay = pre.address == d.debt_auction and pre.function == "repay"
    if not (start or repay):
        return [f"{pre.function} repaid auction debt {repaid} {ended}"] if repaid or ended else []
    spec.checks += 1
    room = surplus_room(pre)
    settled = [
        e.args["amount"]
        for e in events
        if e.address == d.engine and e.name == "DebtSettled" and e.args["account"] == d.backstop
    ]
    if start:
        debt = pre.state["debt_to_auction"]
        expected = min(debt, room)
        if repaid != ([expected] if expected else []) or settled != repaid or ended:
            return [
                f"start_debt_auction repaid {repaid} (settled {settled}), min(debt to auction "
                f"{debt}, room {room}) = {expected}"
            ]
        started = [
            e.args["bid"]
            for e in events
            if e.address == d.backstop and e.name == "DebtAuctionStarted"
        ]
        bid = min(spec.c(d.backstop).debt_auction_bid_size, debt - expected)
        if started != ([bid] if bid else []):
            return [
                f"start_debt_auction auctioned {started} with the room {room} spent on "
                f"{expected} of {debt}: the rest's bid is {bid}"
            ]
        return []
    auction_id = pre.args[0]
    auction = pre.state["debt_auctions"][auction_id]
    if auction.end == 0 or auction.bid_expiry != 0:
        return [f"repay ended debt auction {auction_id}, {auction}: not one without a bid"]
    if ended != [{"auction_id": auction_id, "bid": auction.bid}] or settled != [auction.bid]:
        return [
            f"repay of auction {auction_id} (bid {auction.bid}) ended {ended}, settled {settled}"
        ]
    if auction.bid > room:
        return [f"repay paid a bid of {auction.bid} with a surplus room of {room}"]
    return []


def loss_order_checks(spec: SpecificationBase, pre: Before, events: list[Event]) -> list[str]:
    """Every check of the module docstring on one transaction's events."""
    out: list[str] = []
    if pre.address == spec.d.settlement and pre.function == "cancel_auction":
        for e in events:
            if e.name == "Cancelled" and spec._type_of_auction(e.address) is not None:
                spec.checks += 1
                problem = _cancelled(spec, pre, e)
                if problem:
                    out.append(f"Cancelled: {problem}")
    out += _shutdown_cover(spec, pre, events)
    out += _debt_repayments(spec, pre, events)
    return out


def _no_debt_to_auction(spec: SpecificationBase, pre: Before) -> str | None:
    """Refused only when the room repays nothing and no bid can be auctioned."""
    if pre.address != spec.d.backstop or pre.function != "start_debt_auction":
        return f"{pre.function} on {pre.address} is not Backstop.start_debt_auction"
    debt = pre.state["debt_to_auction"]
    repaid = min(debt, surplus_room(pre))
    if repaid or min(spec.c(spec.d.backstop).debt_auction_bid_size, debt - repaid):
        return f"the room repays {repaid} of {debt}, or a bid of the rest can be auctioned"
    return None


def _surplus_below_bid(spec: SpecificationBase, pre: Before) -> str | None:
    """Refused only for a running debt auction without a bid whose bid the room does not cover."""
    if pre.address != spec.d.debt_auction or pre.function != "repay":
        return f"{pre.function} on {pre.address} is not DebtAuction.repay"
    auction = pre.state["debt_auctions"][pre.args[0]]
    if auction.end == 0 or auction.bid_expiry != 0 or auction.bid <= surplus_room(pre):
        return f"auction {auction} with a room of {surplus_room(pre)}"
    return None


LOSS_ORDER_REVERT_CHECKS = {
    "backstop: no debt to auction": _no_debt_to_auction,
    "debt auction: surplus below bid": _surplus_below_bid,
}
