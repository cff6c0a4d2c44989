"""The specification, checked on every transaction: not that the chain and the model agree (Lockstep
and offchain/testing/checking.py do that), but that the result is the one the protocol promises.
An exact twin reproduces a bug exactly; these checks are what catch a bug planted in both
(offchain/testing/mutation.py).

`Specification.before` keeps, from the model's state before a transaction, the little each check
needs; `after` checks the transaction's events (identical on chain and in the model, or Lockstep
has already failed) and the state after it; `reverted` checks that a revert's reason holds. The
arithmetic is written here plainly (exact rationals, ceil/floor by hand), never through the model's
fixed_point, price_curves or contracts, so that a bug in those cannot hide itself:

- a take pays at least the exact curve price (and at most its round-ups above it), and a partial
  take leaves 0 or at least min_auction (the type's dust x penalty, read now); a take happens
  only on an auction that needs no reset, a reset only on one that does; an auction starts at
  the oracle price times the buffer; a dust close only of an auction that ran its curve unsold,
  its lot worth less than min_auction and its debt at a fresh start price, and an auction returns
  collateral to its owner only once its debt is raised (a write-off never does);
- a liquidation raises exactly ceil(debt x penalty), within the room of both caps unless it takes
  the whole vault, and leaves the vault's debt 0 or at least dust; every vault's debt after a
  change of it is 0 or at least dust, within the type's ceiling;
- only whom the owner allows makes a vault riskier; only a feeder posts a price, within max_change
  of the reference; the spotter's safe price is floor(price / ratio);
- an accrual's effective fee is 1 + ceil((base - 1) x multiplier) with the multiplier of the
  period's average excess over the kink, its rate the old rate times that fee per second elapsed
  (rounded up); the stability pool's share of the fees is min(floor(income x share), floor(its
  assets x max yield x the accrual's seconds / a year)) (finding 31-7);
- a closed loss covers min(raised, debt); the debt-auction layer adds exactly what it takes on;
  the fund layer pays min(loss, free surplus - unattributed bad debt), never below 0, so a
  `settle` before the cover changes nothing (finding 31-6), and after shutdown min(loss, free
  surplus), a `settle` then only with every loss event done; a loss is covered only after its
  queue delay; a withdrawal only of realized shares, inside its window (and refused only outside
  it), for min(its cap, value now), its cap the value at the request less the requested shares'
  part of each charge realized since, rounded up (finding 31-8); an activation leaves the staker
  shares worth at least MIN_STAKE at the activation price, a withdrawal request leaves 0 or
  shares worth MIN_STAKE (rounded down: those are the minimum shares, finding 31-7), and a
  refusal for too few shares is one;
- a debt-auction bid lowers the lot by min_decrease, a surplus-auction bid raises the bid by
  min_increase; a ceiling moves exactly as the manager's rule says (a fall to debt + gap, a rise
  capped at the window's base + gap, a window opened right after another based at the higher of
  the ceiling and that window's highest); a pool swap pays exactly the
  constant-product amount after its fee; global settlement takes ceil(ceil(debt) x final price)
  from a vault and cashes floor(amount x cash price).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from offchain.backends import ModelBackend
from offchain.model.backstop import PROCEEDS_LIMIT, Layer
from offchain.model.fixed_point import RAY, WAD
from offchain.model.price_curves import LINEAR, STAIRSTEP
from offchain.model.stability_pool import MIN_STAKE
from offchain.model.state import Event
from offchain.system.deployment import Deployment

# the layers whose payment in `cover` is stablecoin the Backstop holds until `heal`
_PAYING_LAYERS = (Layer.FUND, Layer.STABILITY_POOL, Layer.REDISTRIBUTION)

# (the constants are the model's, one definition each; no arithmetic of the model is used)
WAD_TO_RAY = 10**9
# the stakers whose realization the withdrawal check looks up before a transaction
SHARE_ACCOUNTS_LIMIT = 64
# the year of the stability pool's yield cap (FeeAccumulator.vy's YEAR) [seconds]
YEAR = 365 * 86400


class SpecViolation(AssertionError):
    """A transaction's result is not what the specification says (the message lists each)."""


def ceil_div(x: int, y: int) -> int:
    return -(-x // y)


def exact_curve_ceil(kind: int, duration: int, step: int, cut: int, top: int, elapsed: int) -> int:
    """The curve's price without rounding, rounded up once at the end (an integer price is below
    the exact price exactly when it is below this): linear top x (1 - t / duration), zero after;
    stairstep top x cut ** (t // step); exponential top x cut ** t. The powers are bounded from
    both sides in fixed point (`_power_bounds`): an exact Fraction of cut ** t for an elapsed time
    of days has millions of digits and took minutes per check."""
    if kind == LINEAR:
        return ceil_div(top * max(duration - elapsed, 0), duration)
    n = elapsed // step if kind == STAIRSTEP else elapsed
    if n == 0:
        return top
    if cut == 0 or top == 0:
        return 0
    for bits in (512, 4096):
        low, high = _power_bounds(cut, n, bits)
        if top * high <= 1 << bits:
            return 1  # 0 < exact <= 1
        below, above = -(-(top * low) >> bits), -(-(top * high) >> bits)
        if below == above:
            return below
    # the bounds straddle an integer: only an exact integer does that, which needs the reduced
    # denominator of cut / RAY (at least 2) to the n-th power to divide top < 2**128, so n < 128
    exact = top * Fraction(cut, RAY) ** n
    return ceil_div(exact.numerator, exact.denominator)


def _power_bounds(cut: int, n: int, bits: int) -> tuple[int, int]:
    """(low, high) with low <= (cut / RAY) ** n x 2**bits <= high, by binary exponentiation with
    every product rounded down for `low` and up for `high`."""
    low_base, high_base = (cut << bits) // RAY, ceil_div(cut << bits, RAY)
    low = high = 1 << bits
    while n:
        if n & 1:
            low, high = low * low_base >> bits, -(-(high * high_base) >> bits)
        n >>= 1
        if n:
            low_base = low_base * low_base >> bits
            high_base = -(-(high_base * high_base) >> bits)
    return low, high


def _curve(contract: Any) -> tuple[int, int, int, int]:
    """(kind, duration, step, cut) of an auction's curve."""
    kind, duration, step, cut = contract.curve
    return kind, duration, step, cut


def curve_price_problem(curve: Any, top: int, elapsed: int, price: int) -> str | None:
    """Why `price` is not the curve's price rounded up (None when it is): at least the exact
    price, and exactly the specified rounding of it: linear ceil(top x (duration - t) /
    duration); the powers top x cut ** n with every product rounded up (`power_up`), times top
    rounded up."""
    kind, duration, step, cut = curve
    lowest = exact_curve_ceil(kind, duration, step, cut, top, elapsed)
    if price < lowest:
        return f"price {price} below the exact curve price (rounded up: {lowest}) at {elapsed} s"
    expected = curve_price_up(curve, top, elapsed)
    if price != expected:
        return f"price {price} is not the curve's price rounded up, {expected}, at {elapsed} s"
    return None


def curve_price_up(curve: Any, top: int, elapsed: int) -> int:
    """The curve's price as the contract rounds it: linear ceil(top x (duration - t) / duration),
    the powers ceil(top x power_up(cut, n))."""
    kind, duration, step, cut = curve
    if kind == LINEAR:
        return ceil_div(top * max(duration - elapsed, 0), duration)
    n = elapsed // step if kind == STAIRSTEP else elapsed
    return ceil_div(top * power_up(cut, n), RAY)


def effective_fee(base_fee: int, kink: int, max_multiplier: int, excess: int) -> int:
    """FeeAccumulator.vy's formula: 1 + ceil((base_fee - 1) x multiplier), multiplier = 1 +
    ceil((max_multiplier - 1) x excess / (1 - kink)) [ray / wad]."""
    if base_fee == RAY or max_multiplier == WAD or excess == 0:
        return base_fee
    multiplier = WAD + ceil_div((max_multiplier - WAD) * excess, WAD - kink)
    return RAY + ceil_div((base_fee - RAY) * multiplier, WAD)


def power_up(x: int, n: int) -> int:
    """x ** n for a ray x, each product rounded up, by binary exponentiation (the specified
    compounding: the rate never falls behind the fee)."""
    z, base = RAY, x
    while n:
        if n & 1:
            z = ceil_div(z * base, RAY)
        n >>= 1
        if n:
            base = ceil_div(base * base, RAY)
    return z


class _Copy(dict):
    """A copy of a model mapping that reads missing keys as the mapping's default."""

    def __init__(self, storage: Any):
        super().__init__(storage)
        self.default = getattr(storage, "_default", 0)

    def __missing__(self, key: Any) -> Any:
        return self.default


@dataclass
class Before:
    """What the checks need from the state before one transaction."""

    sender: str
    address: str
    function: str
    args: tuple
    state: dict[str, Any]


class Specification:
    """The checks of one System (see the module docstring). `checks` counts them."""

    def __init__(self, model: Callable[[], ModelBackend], d: Deployment):
        self._model = model  # the System's model (what_if swaps it)
        self.d = d
        self.checks = 0
        self.events: list[Event] = []  # of the transaction being checked
        self.raised: dict[bytes, int] = {}  # per type, by its liquidations so far
        self._auctions = {t.auction: name for name, t in d.types.items()}
        self._oracles = {t.oracle: name for name, t in d.types.items()}
        self._pools = {t.pool: name for name, t in d.types.items()}
        self._type_names = {t.type_id: name for name, t in d.types.items()}

    @property
    def model(self) -> ModelBackend:
        return self._model()

    def c(self, address: str) -> Any:
        return self.model.contract(address)

    # ------------------------------------------------------------ before

    def before(self, sender: str, address: str, function: str, args: tuple) -> Before:
        d, c = self.d, self.c
        engine, backstop, pool = c(d.engine), c(d.backstop), c(d.stability_pool)
        state: dict[str, Any] = {
            "ctypes": _Copy(engine.collateral_types),
            "vaults": _Copy(engine.vaults),
            "delegates": _Copy(engine.delegates),
            "liquidator_types": _Copy(c(d.liquidator).types),
            "liquidator_room": c(d.liquidator).max_debt_in_auction
            - c(d.liquidator).debt_in_auction,
            "fees": _Copy(c(d.fees).fees),
            "pool_fee_share": c(d.fees).pool_fee_share,
            "pool_max_yield": c(d.fees).pool_max_yield,
            "losses": _Copy(backstop.losses),
            "debt_to_auction": backstop.debt_to_auction,
            "queue_delay": backstop.queue_delay,
            "backstop_live": backstop.live,
            "backstop_unsettled": backstop.unsettled,
            "backstop_open_losses": backstop.open_losses(),
            "backstop_stable": engine.stable[d.backstop],
            # the Backstop's bad debt and what of it loss events and debt auctions account for
            "backstop_debt": (
                engine.bad_debt[d.backstop],
                backstop.attributed_debt,
                backstop.debt_to_auction + backstop.debt_on_auction,
            ),
            "pool_shares": _Copy(pool.shares),
            "pool_realized": {
                who: pool.is_realized(who) for who in list(pool.shares)[:SHARE_ACCOUNTS_LIMIT]
            },
            "pool_withdrawal_at": _Copy(pool.withdrawal_at),
            "pool_withdrawal_shares": _Copy(pool.withdrawal_shares),
            "pool_withdrawal_value": _Copy(pool.withdrawal_value),
            "pool_pending": pool.pending[sender],
            "pool_assets": (pool.assets, pool.total_shares),
            "pool_timing": (pool.cooldown, pool.exposure_delay, pool.exit_window),
            "debt_auctions": _Copy(c(d.debt_auction).auctions),
            "surplus_auctions": _Copy(c(d.surplus_auction).auctions),
            "ceilings": _Copy(c(d.ceiling).configs),
        }
        for name, t in d.types.items():
            auction, oracle, cpool = c(t.auction), c(t.oracle), c(t.pool)
            state[f"auctions:{name}"] = _Copy(auction.auctions)
            # the type's dust x its penalty, from the engine's and the Liquidator's own state
            # (not the auction's view: a stale or wrong min_auction there must show)
            penalty = c(d.liquidator).types[t.type_id].penalty
            state[f"min_auction:{name}"] = engine.collateral_types[t.type_id].dust * penalty // WAD
            state[f"oracle:{name}"] = (
                oracle.next_price or oracle.current_price,
                oracle.max_change,
                oracle.feeders[sender],
            )
            state[f"pool:{name}"] = (cpool.reserve_collateral, cpool.reserve_stable, cpool.fee)
        return Before(sender, address, function, args, state)

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
        if problems:
            raise SpecViolation(
                f"{pre.function} from {pre.sender}: specification broken:\n" + "\n".join(problems)
            )

    def _type_of_auction(self, address: str) -> str | None:
        return self._auctions.get(address)

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
        now_value = self.c(self.d.backstop).debt_to_auction
        self.checks += 1
        if now_value != pre.state["debt_to_auction"] + added - started:
            return [
                f"debt_to_auction {pre.state['debt_to_auction']} -> {now_value}, but the "
                f"debt-auction layer took on {added} and auctions started for {started}"
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
        least = _least_shares(*reversed(pre.state["pool_assets"]))
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
        check = _REVERT_CHECKS.get(reason or "")
        if check is None:
            return
        self.checks += 1
        problem = check(self, pre)
        if problem:
            raise SpecViolation(f"{pre.function} from {pre.sender} reverted {reason!r}: {problem}")


# ---------------------------------------------------------------- per event


def _taken(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    name = spec._type_of_auction(e.address)
    if name is None:
        return None
    auction = pre.state[f"auctions:{name}"][e.args["auction_id"]]
    contract = spec.c(e.address)
    elapsed = now - auction.started
    price, owe, collateral = e.args["price"], e.args["owe"], e.args["collateral"]
    problem = curve_price_problem(tuple(contract.curve), auction.top, elapsed, price)
    if problem:
        return problem
    if elapsed > contract.max_duration or price * RAY // auction.top < contract.max_drop:
        return f"auction {e.args['auction_id']} needed a reset, yet was taken"
    if collateral * price > owe:
        return f"{collateral} collateral at {price} for {owe}: below the price"
    min_auction = pre.state[f"min_auction:{name}"]
    if e.args["debt"] != 0 and e.args["lot"] != 0 and e.args["debt"] < min_auction:
        return f"partial take left debt {e.args['debt']} < min_auction {min_auction}"
    return None


def _dust_closed(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    """A dust close (issue 31): only of an auction that ran its curve unsold (it needed a reset)
    and whose whole lot, at the start price a reset would give it (the oracle price x buffer, as
    `_started` states it), is worth less than min_auction and less than its debt; the event names
    the whole lot (sent to the Backstop) and the whole debt (written off)."""
    name = spec._type_of_auction(e.address)
    if name is None:
        return None
    auction = pre.state[f"auctions:{name}"][e.args["auction_id"]]
    if (e.args["collateral"], e.args["debt"]) != (auction.lot, auction.debt):
        held = (auction.lot, auction.debt)
        return f"dust close of {e.args['collateral']} / {e.args['debt']}, the auction held {held}"
    contract = spec.c(e.address)
    elapsed = now - auction.started
    price = curve_price_up(_curve(contract), auction.top, elapsed)
    if (
        elapsed <= contract.max_duration
        and price != 0
        and price * RAY // auction.top >= contract.max_drop
    ):
        return f"auction {e.args['auction_id']} closed as dust at {elapsed} s, before its end"
    oracle_price, _ = spec.c(contract.oracle).peek()
    top = ceil_div(oracle_price * WAD_TO_RAY * contract.buffer, RAY)
    min_auction = pre.state[f"min_auction:{name}"]
    if auction.lot * top >= min(min_auction, auction.debt):
        return (
            f"closed as dust a lot worth {auction.lot * top} at a fresh start price, min_auction "
            f"{min_auction}, its debt {auction.debt}"
        )
    return None


def _finished(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    """An auction returns collateral to the vault's owner only once its debt is raised: a
    write-off never hands the owner its collateral (issue 31)."""
    if spec._type_of_auction(e.address) is None:
        return None
    if e.args["collateral_returned"] != 0 and e.args["debt_unraised"] != 0:
        return (
            f"returned {e.args['collateral_returned']} of collateral with "
            f"{e.args['debt_unraised']} of debt unraised"
        )
    return None


def _started(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    name = spec._type_of_auction(e.address)
    if name is None or not e.args.get("top"):
        return None
    contract = spec.c(e.address)
    price, valid = spec.c(contract.oracle).peek()
    expected = ceil_div(price * WAD_TO_RAY * contract.buffer, RAY)
    if e.name == "Reset":
        # the contract's price is at least the exact curve's: when even ceil(exact) keeps the
        # auction above max_drop before max_duration, it needed no reset
        auction = pre.state[f"auctions:{name}"][e.args["auction_id"]]
        elapsed = now - auction.started
        floor_price = exact_curve_ceil(*_curve(contract), auction.top, elapsed)
        if (
            elapsed <= contract.max_duration
            and floor_price > 0
            and floor_price * RAY // auction.top >= contract.max_drop
        ):
            return f"auction {e.args['auction_id']} reset at {elapsed} s, before it needed one"
    if valid and e.args["top"] != expected:
        return f"top {e.args['top']} is not the oracle price x buffer {expected}"
    return None


def _seized(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    """A liquidation seizes as much debt as the room of both caps allows (penalty included), the
    whole vault when the rest would be below dust or the collateral rounds to all of it, nothing
    when the part would be below dust; it raises ceil(debt x penalty); several in one transaction
    share the room."""
    if e.args["debt_dst"] != spec.d.backstop or pre.address != spec.d.liquidator:
        return None
    t = e.args["collateral_type"]
    ctype = pre.state["ctypes"][t]
    vault = pre.state["vaults"][(t, e.args["owner"])]
    config = pre.state["liquidator_types"][t]
    raised_before = spec.raised.get(t, 0), sum(spec.raised.values())
    room = min(
        pre.state["liquidator_room"] - raised_before[1],
        config.max_debt_in_auction - config.debt_in_auction - raised_before[0],
    )
    allowed = min(vault.normalized_debt, room * WAD // ctype.rate // config.penalty)
    expected = vault.normalized_debt
    if allowed < vault.normalized_debt:
        if allowed * ctype.rate < ctype.dust <= (vault.normalized_debt - allowed) * ctype.rate:
            return f"a partial liquidation of {allowed * ctype.rate} below dust happened"
        if (vault.normalized_debt - allowed) * ctype.rate >= ctype.dust and ceil_div(
            vault.collateral * allowed, vault.normalized_debt
        ) < vault.collateral:
            expected = allowed
    seized = -e.args["delta_normalized_debt"]
    if seized != expected:
        return f"seized {seized} normalized debt, the caps' room and dust give {expected}"
    to_raise = ceil_div(seized * ctype.rate * config.penalty, WAD)
    spec.raised[t] = spec.raised.get(t, 0) + to_raise
    started = [
        x
        for x in spec.events
        if x.name == "Started"
        and x.address == config.auction
        and x.args["owner"] == e.args["owner"]
    ]
    if started and started[-1].args["debt"] != to_raise:
        return f"auction raises {started[-1].args['debt']}, not ceil(debt x penalty) = {to_raise}"
    return None


def _vault_modified(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    t, owner = e.args["collateral_type"], e.args["owner"]
    engine = spec.c(spec.d.engine)
    ctype, vault = engine.collateral_types[t], engine.vaults[(t, owner)]
    debt = vault.normalized_debt * ctype.rate
    delta_debt, delta_collateral = e.args["delta_normalized_debt"], e.args["delta_collateral"]
    if delta_debt != 0 and debt != 0 and debt < ctype.dust:
        return f"vault {owner} left with debt {debt} below dust {ctype.dust}"
    if delta_debt > 0 and ctype.normalized_debt * ctype.rate > ctype.debt_ceiling:
        return f"type debt {ctype.normalized_debt * ctype.rate} above its ceiling"
    if delta_debt > 0 or delta_collateral < 0:
        allowed = pre.sender == owner or pre.state["delegates"][(owner, pre.sender)]
        if not allowed:
            return f"{pre.sender} made {owner}'s vault riskier without being allowed"
        if debt > vault.collateral * ctype.safe_price:
            return f"vault {owner} left unsafe"
    if pre.function == "join_and_modify" and delta_debt != 0:
        # the join acts for its caller, who must have allowed it to draw or repay (locking its own
        # joined tokens needs no consent)
        if not pre.state["delegates"][(owner, pre.address)]:
            return f"the join drew or repaid for {owner}, who has not allowed it"
    return None


def _accrued(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    t = e.args["collateral_type"]
    fee = pre.state["fees"][t]
    after = spec.c(spec.d.fees).fees[t]
    elapsed = now - fee.last_accrual
    excess = 0
    if after.integral_at_accrual != fee.integral_at_accrual:
        excess = ceil_div(after.integral_at_accrual - fee.integral_at_accrual, elapsed)
    expected = effective_fee(fee.base_fee, fee.kink, fee.max_multiplier, excess)
    if e.args["effective_fee"] != expected:
        return f"effective fee {e.args['effective_fee']}, the formula gives {expected}"
    rate = pre.state["ctypes"][t].rate
    expected_rate = ceil_div(power_up(expected, elapsed) * rate, RAY)
    if e.args["rate"] != expected_rate:
        return f"rate {e.args['rate']}, fee {expected} over {elapsed} s gives {expected_rate}"
    return None


def _fees_shared(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    """The pool gets floor(income x share), at most its yield cap: floor(its assets x max yield
    x the seconds since the type's last accrual / a year) (finding 31-7); a pool without shares
    or assets gets no split at all."""
    income = e.args["to_pool"] + e.args["to_recipient"]
    assets, total = pre.state["pool_assets"]
    if total == 0 or assets == 0:
        return f"fees shared with a pool of {assets} assets and {total} shares"
    seconds = now - pre.state["fees"][e.args["collateral_type"]].last_accrual
    cap = assets * pre.state["pool_max_yield"] * seconds // (WAD * YEAR)
    expected = min(income * pre.state["pool_fee_share"] // WAD, cap)
    if e.args["to_pool"] != expected:
        return (
            f"pool's share {e.args['to_pool']} of {income} is not min(floor(income x share), "
            f"the yield cap {cap})"
        )
    return None


def _price_posted(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    name = spec._oracles.get(e.address)
    if name is None:
        return None
    reference, bound, is_feeder = pre.state[f"oracle:{name}"]
    if not is_feeder:
        return f"{pre.sender} is no feeder, yet posted"
    price = e.args["price"]
    if bound != 0 and reference != 0:
        if price * WAD > reference * (WAD + bound) or (
            bound < WAD and price * WAD < reference * (WAD - bound)
        ):
            return f"price {price} beyond max_change {bound} of the reference {reference}"
    return None


def _spotter_poked(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    if e.address != spec.d.spotter:
        return None
    ratio = spec.c(spec.d.spotter).liquidation_ratios[e.args["collateral_type"]]
    expected = e.args["price"] * WAD_TO_RAY * RAY // ratio if e.args["valid"] else 0
    if e.args["safe_price"] != expected:
        return f"safe price {e.args['safe_price']}, floor(price / ratio) = {expected}"
    return None


def _loss_closed(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    key = (e.args["collateral_type"], e.args["auction"], e.args["auction_id"])
    loss = pre.state["losses"].get(key)
    if loss is None:  # opened and closed in this transaction
        debt = spec.c(spec.d.backstop).losses[key].debt
    else:
        debt = loss.debt
    expected = min(e.args["raised"], debt)
    if e.args["covered"] != expected:
        return f"covered {e.args['covered']}, min(raised, debt) = {expected}"
    return None


def _loss_allocated(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    key = (e.args["collateral_type"], e.args["auction"], e.args["auction_id"])
    loss = pre.state["losses"].get(key)
    if loss is not None and pre.state["backstop_live"]:
        if loss.created_at + pre.state["queue_delay"] > now:
            return f"loss {key[2]} covered before its queue delay ended"
    return None


def _withdrawn(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    if e.address != spec.d.stability_pool:
        return None
    staker = e.args["staker"]
    if not pre.state["pool_realized"].get(staker, True):
        return f"{staker} withdrew with charges not realized"
    cooldown, exposure, window = pre.state["pool_timing"]
    matured = pre.state["pool_withdrawal_at"][staker] + max(cooldown, exposure)
    if not matured <= now <= matured + window:
        return f"withdrawal at {now} outside its window {matured}..{matured + window}"
    value_now, paid = _withdrawal_split(pre, staker)
    if e.args["amount"] != paid:
        return f"paid {e.args['amount']}, min(value at the request, value now) = {paid}"
    # the shares leave the pool's assets at their whole value now: what they earned after the
    # request goes to the Backstop (IncomeForfeited), not to the stakers who stay
    assets, _ = pre.state["pool_assets"]
    if spec.c(spec.d.stability_pool).assets != assets - value_now:
        return f"assets {assets} -> {spec.c(spec.d.stability_pool).assets}, not - {value_now}"
    return None


def _withdrawal_split(pre: Before, staker: str) -> tuple[int, int]:
    """The requested shares' value now and what the withdrawal pays: min(value at the request,
    value now) [rad]."""
    assets, total = pre.state["pool_assets"]
    value_now = pre.state["pool_withdrawal_shares"][staker] * assets // total
    return value_now, min(value_now, pre.state["pool_withdrawal_value"][staker])


def _income_forfeited(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    if pre.function == "withdraw":
        value_now, paid = _withdrawal_split(pre, e.args["staker"])
        expected = value_now - paid
    else:
        expected, _ = _request_forfeit(pre, e.args["staker"])
    if e.args["amount"] != expected or expected == 0:
        return f"forfeited {e.args['amount']} in {pre.function}, expected {expected}"
    return None


def _withdrawal_requested(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    if e.address != spec.d.stability_pool:
        return None
    broken = _request_forfeited(spec, pre, e.args["staker"])
    if broken:
        return broken
    pool = spec.c(spec.d.stability_pool)
    left = pool.shares[e.args["staker"]] - e.args["shares"]
    least = _least_shares(pool.total_shares, pool.assets)
    if left != 0 and left < least:
        return f"the request leaves {left} shares, fewer than the {least} worth MIN_STAKE"
    return None


def _least_shares(total: int, assets: int) -> int:
    """The shares worth MIN_STAKE at the price assets / total, rounded down: one per rad in an
    empty pool, none in a wiped-out one (no count of shares suffices)."""
    if total == 0:
        return MIN_STAKE
    if assets == 0:
        return 2**256
    return MIN_STAKE * total // assets


def _withdrawal_cancelled(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    if e.address != spec.d.stability_pool:
        return None
    return _request_forfeited(spec, pre, e.args["staker"])


def _request_forfeited(spec: Specification, pre: Before, staker: str) -> str | None:
    """After a request was replaced or cancelled: the staker's shares, the pool's shares and
    its assets are less exactly what the old request forfeited (`_request_forfeit`)."""
    forfeited, burned = _request_forfeit(pre, staker)
    pool = spec.c(spec.d.stability_pool)
    assets, total = pre.state["pool_assets"]
    before = (pre.state["pool_shares"][staker], total, assets)
    after = (pool.shares[staker], pool.total_shares, pool.assets)
    if after != (before[0] - burned, total - burned, assets - forfeited):
        return (
            f"{pre.function}: (staker shares, total shares, assets) {before} -> {after}, "
            f"burned {burned} for {forfeited}"
        )
    return None


def _request_forfeit(pre: Before, staker: str) -> tuple[int, int]:
    """What a replaced or cancelled request forfeits [rad] and the shares burned for it: the
    requested shares' value above the request's cap, in shares rounded up; a staker is never
    left with some shares but fewer than those worth MIN_STAKE now (then only the shares above
    those, if any, at their value rounded down)."""
    requested = pre.state["pool_withdrawal_shares"][staker]
    if requested == 0:
        return 0, 0
    assets, total = pre.state["pool_assets"]
    value_now = requested * assets // total
    cap = pre.state["pool_withdrawal_value"][staker]
    if value_now <= cap:
        return 0, 0
    forfeited = value_now - cap
    burned = -(-forfeited * total // assets)
    shares = pre.state["pool_shares"][staker]
    least = _least_shares(total, assets)
    if 0 < shares - burned < least:
        burned = shares - min(shares, least)
        forfeited = burned * assets // total
    return (forfeited, burned) if burned else (0, 0)


def _bid(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    if e.address == spec.d.debt_auction:
        old = pre.state["debt_auctions"][e.args["auction_id"]]
        min_decrease = spec.c(spec.d.debt_auction).min_decrease
        if e.args["lot"] * min_decrease > old.lot * WAD:
            return f"lot {old.lot} -> {e.args['lot']}: not lower by min_decrease"
    elif e.address == spec.d.surplus_auction:
        old = pre.state["surplus_auctions"][e.args["auction_id"]]
        min_increase = spec.c(spec.d.surplus_auction).min_increase
        if e.args["bid"] * WAD < old.bid * min_increase:
            return f"bid {old.bid} -> {e.args['bid']}: not higher by min_increase"
    return None


def _ceiling_updated(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    """The ceiling moves from the old one to exactly min(max, debt + gap): at once if that is
    lower; if higher, to at most the window's base + gap. A rise at or after the end of the
    window (opened at last_increase, `cooldown` long) opens a new one, based at the old ceiling,
    or at the ended window's highest ceiling if higher and it ended less than a cooldown ago;
    the window's highest is then the new ceiling, and a rise within it raises its highest. The
    window the manager keeps afterwards is checked too (a wrong base would pass every event of
    the window it opened)."""
    old, new = e.args["old_ceiling"], e.args["new_ceiling"]
    t = e.args["collateral_type"]
    ctype, config = pre.state["ctypes"][t], pre.state["ceilings"][t]
    if old != ctype.debt_ceiling:
        return f"old ceiling {old}, the type's was {ctype.debt_ceiling}"
    wanted = min(config.max_ceiling, ctype.normalized_debt * ctype.rate + config.gap)
    opened, base, high = config.last_increase, config.window_base, config.window_high
    if wanted <= old:
        expected, where = wanted, "a fall"
    else:
        window_end = config.last_increase + config.cooldown
        if now < window_end:
            where = "in the open window"
        elif now - window_end < config.cooldown:
            opened, base, high = now, max(old, config.window_high), 0
            where = "opening right after a window"
        else:
            opened, base, high = now, old, 0
            where = "opening after a quiet cooldown"
        expected = min(wanted, base + config.gap)
        high = max(high, expected)
    if new != expected:
        return f"ceiling {old} -> {new} ({where}), the rule gives {expected}"
    after = spec.c(spec.d.ceiling).configs[t]
    window = (after.last_increase, after.window_base, after.window_high)
    if window != (opened, base, high):
        return (
            f"window (opened, base, highest) {window} after {where}, the rule gives "
            f"{(opened, base, high)}"
        )
    return None


def _swapped(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    name = spec._pools.get(e.address)
    if name is None:
        return None
    reserve_collateral, reserve_stable, fee = pre.state[f"pool:{name}"]
    reserve_in, reserve_out = (
        (reserve_collateral, reserve_stable)
        if e.args["collateral_in"]
        else (reserve_stable, reserve_collateral)
    )
    in_after_fee = e.args["amount_in"] * (WAD - fee)
    expected = in_after_fee * reserve_out // (reserve_in * WAD + in_after_fee)
    if e.args["amount_out"] != expected:
        return f"paid {e.args['amount_out']}, the constant product after the fee gives {expected}"
    return None


def _vault_closed(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    t = e.args["collateral_type"]
    ctype = pre.state["ctypes"][t]
    final = spec.c(spec.d.settlement).final_price[t]
    debt = e.args["normalized_debt"] * ctype.rate
    owe = ceil_div(ceil_div(debt, RAY) * final, RAY)
    collateral = pre.state["vaults"][(t, e.args["owner"])].collateral
    if e.args["collateral"] != min(owe, collateral) or e.args["shortfall"] != owe - min(
        owe, collateral
    ):
        return f"took {e.args['collateral']} (short {e.args['shortfall']}), owed {owe}"
    return None


def _cashed(spec: Specification, pre: Before, e: Event, now: int) -> str | None:
    price = spec.c(spec.d.settlement).cash_price[e.args["collateral_type"]]
    expected = e.args["amount"] * price // RAY
    if e.args["collateral"] != expected:
        return (
            f"paid {e.args['collateral']} for {e.args['amount']}, floor(x cash price) = {expected}"
        )
    return None


_EVENT_CHECKS = {
    "Taken": _taken,
    "DustClosed": _dust_closed,
    "Finished": _finished,
    "Started": _started,
    "Reset": _started,
    "VaultSeized": _seized,
    "VaultModified": _vault_modified,
    "Accrued": _accrued,
    "FeesShared": _fees_shared,
    "PricePosted": _price_posted,
    "Poked": _spotter_poked,
    "LossClosed": _loss_closed,
    "LossAllocated": _loss_allocated,
    "Withdrawn": _withdrawn,
    "IncomeForfeited": _income_forfeited,
    "WithdrawalRequested": _withdrawal_requested,
    "WithdrawalCancelled": _withdrawal_cancelled,
    "Bid": _bid,
    "CeilingUpdated": _ceiling_updated,
    "Swapped": _swapped,
    "VaultClosed": _vault_closed,
    "Cashed": _cashed,
}


# ---------------------------------------------------------------- per revert reason


def _not_safe(spec: Specification, pre: Before) -> str | None:
    joins = {t.join: t for t in spec.d.types.values()}
    if pre.function == "modify_vault" and pre.address == spec.d.engine:
        t, owner, _, _, delta_collateral, delta_debt = pre.args
    elif pre.function == "join_and_modify" and pre.address in joins:
        # the join locks all `amount` (token units, scaled to wad) in its caller's vault
        joined = joins[pre.address]
        amount, delta_debt = pre.args
        t, owner = joined.type_id, pre.sender
        delta_collateral = amount * 10 ** (18 - joined.config.token_decimals)
    else:
        return None
    ctype, vault = pre.state["ctypes"][t], pre.state["vaults"][(t, owner)]
    debt = (vault.normalized_debt + delta_debt) * ctype.rate
    if debt <= (vault.collateral + delta_collateral) * ctype.safe_price:
        return "the vault would have been safe"
    return None


def _collateral_source_not_allowed(spec: Specification, pre: Before) -> str | None:
    joins = {t.join for t in spec.d.types.values()}
    if pre.function == "join_and_modify" and pre.address in joins:
        # the join locks its caller's own received tokens in its caller's vault: no consent
        return "a join locking its caller's own tokens needs no allowance"
    if pre.function == "modify_vault" and pre.address == spec.d.engine:
        src, delta_collateral = pre.args[2], pre.args[4]
        if delta_collateral <= 0:
            return "no collateral was locked"
        if pre.sender == src or pre.state["delegates"][(src, pre.sender)]:
            return f"{pre.sender} may act for {src}"
    return None


def _insufficient_surplus(spec: Specification, pre: Before) -> str | None:
    if pre.address != spec.d.backstop or pre.function != "settle":
        # only a direct settle may be refused so: thaw heals before it settles
        return f"{pre.function} on {pre.address} is not Backstop.settle"
    # the unsettled proceeds are owed to the seized debt: settle may not spend them
    free = pre.state["backstop_stable"] - pre.state["backstop_unsettled"]
    if pre.args[0] <= free:
        return f"settling {pre.args[0]} of a free surplus of {free}"
    return None


def _losses_open(spec: Specification, pre: Before) -> str | None:
    """Backstop.settle after shutdown, refused while loss events are open."""
    if pre.address != spec.d.backstop or pre.function != "settle":
        return f"{pre.function} on {pre.address} is not Backstop.settle"
    if pre.state["backstop_live"] or not pre.state["backstop_open_losses"]:
        return "live, or no loss event open"
    return None


def _request_lapsed(spec: Specification, pre: Before) -> str | None:
    if pre.address != spec.d.stability_pool:
        return None
    cooldown, exposure, window = pre.state["pool_timing"]
    matured = pre.state["pool_withdrawal_at"][pre.sender] + max(cooldown, exposure)
    if spec.model.env.timestamp <= matured + window:
        return f"at {spec.model.env.timestamp}, inside the window ending {matured + window}"
    return None


def _below_minimum_shares(spec: Specification, pre: Before) -> str | None:
    """The staker would have held some shares but fewer than those worth MIN_STAKE (rounded
    down): after a request, its shares less those a replaced request burns and the requested,
    at the price after that burn; after an activation, its shares plus its pending stake's,
    minted at floor(pending x total_shares / assets) (one per rad in an empty pool), or those
    less its pending withdrawal request, at the price before it."""
    if pre.address != spec.d.stability_pool:
        return None
    shares = pre.state["pool_shares"][pre.sender]
    assets, total = pre.state["pool_assets"]
    if pre.function == "request_withdrawal":
        # after the shares a replaced request burns (and the stablecoin it forfeits)
        forfeited, burned = _request_forfeit(pre, pre.sender)
        held = [shares - burned - pre.args[0]]
        least = _least_shares(total - burned, assets - forfeited)
    elif pre.function == "activate":
        pending = pre.state["pool_pending"]
        after = shares + (pending * total // assets if total and assets else pending)
        # and what a pending withdrawal request would leave of them
        held = [after, after - pre.state["pool_withdrawal_shares"][pre.sender]]
        least = _least_shares(total, assets)
    else:
        return None
    if all(left == 0 or left >= least for left in held):
        return f"the staker would hold {' then '.join(str(left) for left in held)} shares"
    return None


def _auction_before(spec: Specification, pre: Before) -> tuple[Any, Any, int] | None:
    """(the auction contract, the auction before the call, seconds since its start) of a take or
    reset sent to a DutchAuction."""
    name = spec._type_of_auction(pre.address)
    if name is None or pre.function not in ("take", "reset", "close_dust_auction"):
        return None
    if not pre.args:
        return None
    auction = pre.state[f"auctions:{name}"][pre.args[0]]
    if auction.top == 0:
        return None
    return spec.c(pre.address), auction, spec.model.env.timestamp - auction.started


def _cannot_reset(spec: Specification, pre: Before) -> str | None:
    found = _auction_before(spec, pre)
    if found is not None:
        contract, _, elapsed = found
        if elapsed > contract.max_duration:
            return f"{elapsed} s after the start, past max_duration {contract.max_duration}"
    return None


def _needs_reset(spec: Specification, pre: Before) -> str | None:
    found = _auction_before(spec, pre)
    if found is not None:
        contract, auction, elapsed = found
        # the contract's price is at least this
        lowest = exact_curve_ceil(*_curve(contract), auction.top, elapsed)
        if (
            elapsed <= contract.max_duration
            and lowest > 0
            and lowest * RAY // auction.top >= contract.max_drop
        ):
            return f"{elapsed} s after the start, above max_drop: no reset was needed"
    return None


def _dust_close_refusal(spec: Specification, pre: Before, reason: str) -> str | None:
    """A dust close refused (issue 31): the reason must hold before the call. 'not ended': the
    auction did not need a reset; 'lot not dust' / 'lot covers the debt': at the start price a
    reset would give it (oracle price x buffer, rounded up), its lot was worth at least
    min_auction / its debt."""
    if pre.function != "close_dust_auction":
        return None
    found = _auction_before(spec, pre)
    if found is None:
        return None
    contract, auction, elapsed = found
    if reason == "not ended":
        price = curve_price_up(_curve(contract), auction.top, elapsed)
        if (
            elapsed > contract.max_duration
            or price == 0
            or price * RAY // auction.top < contract.max_drop
        ):
            return f"{elapsed} s after the start at price {price}: the auction needed a reset"
        return None
    oracle_price, valid = spec.c(contract.oracle).peek()
    if not valid:
        return None
    worth = auction.lot * ceil_div(oracle_price * WAD_TO_RAY * contract.buffer, RAY)
    name = spec._type_of_auction(pre.address)
    bound = pre.state[f"min_auction:{name}"] if reason == "lot not dust" else auction.debt
    if worth < bound:
        return f"the lot was worth {worth} at a fresh start price, below {bound}"
    return None


def _at_cap(spec: Specification, pre: Before) -> str | None:
    """A liquidation refused at a cap: the cap on all debt in auction, or the type's, had no room
    left before it."""
    if pre.function != "liquidate" or pre.address != spec.d.liquidator:
        return None
    config = pre.state["liquidator_types"][pre.args[0]]
    room = pre.state["liquidator_room"]
    if room > 0 and config.max_debt_in_auction > config.debt_in_auction:
        return (
            f"room left: {room} under the cap on all debt in auction, "
            f"{config.max_debt_in_auction - config.debt_in_auction} under the type's"
        )
    return None


_REVERT_CHECKS = {
    "engine: not safe": _not_safe,
    "liquidator: debt in auction at cap": _at_cap,
    "engine: collateral source not allowed": _collateral_source_not_allowed,
    "backstop: insufficient surplus": _insufficient_surplus,
    "backstop: losses open": _losses_open,
    "pool: request lapsed": _request_lapsed,
    "pool: below minimum shares": _below_minimum_shares,
    "auction: cannot reset": _cannot_reset,
    "auction: needs reset": _needs_reset,
    "auction: not ended": lambda spec, pre: _dust_close_refusal(spec, pre, "not ended"),
    "auction: lot not dust": lambda spec, pre: _dust_close_refusal(spec, pre, "lot not dust"),
    "auction: lot covers the debt": lambda spec, pre: _dust_close_refusal(
        spec, pre, "lot covers the debt"
    ),
}
