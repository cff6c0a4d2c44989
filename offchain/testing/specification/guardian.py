"""The guardian's bounds (issue 72), restated plainly (the independent rewrite of the twins'
DutchAuction.set_stopped / stopped, PriceOracle.void / poke and GlobalSettlement.fix_price: it
imports none of their rules, the constants restated).

The bound a risk team accepts with the EMERGENCY role's holder (docs/governance.md, "The
guardian's worst case"):
- **A stop lapses.** The guardian raises an auction house's level at most once until an admin sets a
  level again; its stop lasts GUARDIAN_STOP_LIMIT from the moment it began (raising it further
  inside that time does not extend it), then the level in force is the one it raised. Only an
  admin's `set_stopped` clears the lapse (re-arms the guardian).
- **A void holds the price two pokes at most, and never lets it go stale.** The guardian voids only
  while no void is pending; a void queues the current price again with the discarded post's time
  (its own if nothing was queued), sets the lock to two pokes and keeps the lower of the discarded
  queued price and the discarded latest post readable; each poke lowers the lock by one and the
  second forgets the voided price. Nothing else moves either.
- **The settlement price is the lowest the oracle shows.** `fix_price` fixes the lowest of the
  Spotter's oracle's current price, its queued one, its latest post and a price voided less than two
  pokes ago (so neither a void nor a post not yet queued before a shutdown can raise it), and takes
  a stale current price only once the settlement's `wait` has passed since shutdown (so no role
  holds the settlement back by letting the price go stale).
Checked on every transaction from the state before and after it."""

from __future__ import annotations

from typing import Any

from offchain.model.state import Event

# restated from DutchAuction.vy and PriceOracle.vy
GUARDIAN_STOP_LIMIT = 86400
VOID_LOCK_POKES = 2
WAD = 10**18
RAY = 10**27


def level_in_force(written: int, lapses_at: int, base: int, now: int) -> int:
    """The circuit breaker's level in force: the written one, unless the guardian wrote it and
    its stop has lapsed (then the level it raised)."""
    return base if written and lapses_at and now >= lapses_at else written


def guardian_checks(spec: Any, pre: Any, events: list[Event]) -> list[str]:
    """The problems of one successful transaction with the guardian's bounds (the docstring)."""
    out: list[str] = []
    now = spec.model.env.timestamp
    for name, t in spec.d.types.items():
        out += _stop(spec, pre, events, name, t.auction, now)
        out += _void(spec, pre, events, name, t.oracle)
    out += _settlement_price(spec, pre, events, now)
    return out


def _stop(spec: Any, pre: Any, events: list[Event], name: str, address: str, now: int) -> list[str]:
    auction = spec.c(address)
    written_b, lapse_b, base_b = pre.state[f"stop:{name}"]
    written, lapse, base = auction.stop_level, auction.stop_lapses_at, auction.stop_base
    spec.checks += 1
    out = []
    shown = auction.stopped
    if shown != level_in_force(written, lapse, base, now):
        out.append(
            f"auction {name}: level in force {shown}, written {written} lapsing at {lapse} "
            f"over {base} say {level_in_force(written, lapse, base, now)}"
        )
    sets = [e.args["level"] for e in events if e.address == address and e.name == "StoppedSet"]
    if not sets:
        if (written, lapse, base) != (written_b, lapse_b, base_b):
            out.append(
                f"auction {name}: stop {(written_b, lapse_b, base_b)} -> {(written, lapse, base)} "
                f"by {pre.function} without a StoppedSet"
            )
        return out
    level = sets[-1]
    before = level_in_force(written_b, lapse_b, base_b, now)
    if written != level:
        out.append(f"auction {name}: set_stopped({level}) wrote {written}")
    # a set_stopped inside another call (a Timelock's execution) is an admin's
    by_guardian = len(sets) == 1 and pre.address == address and not auction.authorized[pre.sender]
    if not by_guardian:
        if lapse != 0:
            out.append(f"auction {name}: an admin's stop left the guardian's lapse {lapse}")
        return out
    if level <= before:
        out.append(f"auction {name}: the guardian set level {level} from {before}")
    if lapse_b == 0:
        if lapse != now + GUARDIAN_STOP_LIMIT or base != before:
            out.append(
                f"auction {name}: the guardian's stop lapses at {lapse} over {base}, begun at "
                f"{now} over {before}"
            )
    elif not now < lapse_b or (lapse, base) != (lapse_b, base_b):
        out.append(
            f"auction {name}: the guardian stopped again at {now}, its stop lapsing at "
            f"{lapse_b} (now {lapse}): one stop until an admin sets a level"
        )
    return out


def _void(spec: Any, pre: Any, events: list[Event], name: str, address: str) -> list[str]:
    oracle = spec.c(address)
    lock_b, voided_b, current_b, next_b, next_time_b, source_b = pre.state[f"void:{name}"]
    lock, voided = oracle.void_lock, oracle.voided_price
    spec.checks += 1
    mine = [e.name for e in events if e.address == address]
    if "Voided" in mine:
        out = []
        by_guardian = pre.address == address and not oracle.authorized[pre.sender]
        if by_guardian and lock_b != 0:
            out.append(f"oracle {name}: the guardian voided with {lock_b} pokes of a void to go")
        dropped = min([p for p in (next_b, source_b) if p], default=0)
        if (lock, voided, oracle.next_price) != (VOID_LOCK_POKES, dropped, current_b):
            out.append(
                f"oracle {name}: a void left lock {lock}, voided {voided}, queued "
                f"{oracle.next_price}; expected {VOID_LOCK_POKES}, {dropped}, {current_b}"
            )
        held_time = next_time_b if next_b else oracle.current_time
        if oracle.next_time != held_time:
            out.append(
                f"oracle {name}: the held price's time {oracle.next_time}, the discarded "
                f"post's {held_time}"
            )
        return out
    if "Poked" in mine:
        expected = max(lock_b - 1, 0)
        kept = voided_b if expected else 0
        if (lock, voided) != (expected, kept):
            return [
                f"oracle {name}: a poke left lock {lock} and voided {voided} from {lock_b}, "
                f"{voided_b}; expected {expected}, {kept}"
            ]
        return []
    if (lock, voided) != (lock_b, voided_b):
        return [
            f"oracle {name}: lock {lock_b} -> {lock}, voided {voided_b} -> {voided} by "
            f"{pre.function}"
        ]
    return []


def _settlement_price(spec: Any, pre: Any, events: list[Event], now: int) -> list[str]:
    out = []
    settlement = spec.c(spec.d.settlement)
    for e in events:
        if e.address != spec.d.settlement or e.name != "PriceFixed":
            continue
        spec.checks += 1
        t = e.args["collateral_type"]
        name = next(n for n, x in spec.d.types.items() if x.type_id == t)
        shown_state = pre.state[f"fix:{name}"]
        if shown_state is None:
            out.append(f"settlement {name}: fixed at {e.args['price']}, no price oracle shows")
            continue
        lock, voided, current, queued, posted, current_time, max_age = shown_state
        shown = [p for p in (current, queued, posted) if p]
        if lock and voided:
            shown.append(voided)
        fresh = current and now <= current_time + max_age
        late = now >= settlement.shutdown_at + settlement.wait
        if not current or not (fresh or late):
            out.append(f"settlement {name}: fixed at {e.args['price']} with no valid price")
        elif e.args["price"] != min(shown):
            out.append(
                f"settlement {name}: fixed at {e.args['price']}, the oracle shows {shown} "
                f"(lock {lock}): the lowest is {min(shown)}"
            )
        elif e.args["final_price"] != -(-WAD * RAY // e.args["price"]):
            out.append(
                f"settlement {name}: final price {e.args['final_price']} of {e.args['price']}"
            )
    return out


def void_pending(spec: Any, pre: Any) -> str | None:
    """ "oracle: void pending": the sender, not an admin, voided while a void's lock ran."""
    name = spec._oracles.get(pre.address)
    if pre.function != "void" or name is None:
        return None
    if spec.c(pre.address).authorized[pre.sender]:
        return "the sender is an admin: it may void at any time"
    lock = pre.state[f"void:{name}"][0]
    return None if lock else "no void was pending"


def stop_used(spec: Any, pre: Any) -> str | None:
    """ "auction: guardian stop used": the guardian, its level above the one in force, asked for
    a second stop (its first lapsed, and no admin has set a level since)."""
    name = spec._type_of_auction(pre.address)
    if pre.function != "set_stopped" or name is None:
        return None
    auction = spec.c(pre.address)
    if auction.authorized[pre.sender]:
        return "the sender is an admin: it may set any level"
    written, lapse, base = pre.state[f"stop:{name}"]
    now = spec.model.env.timestamp
    if pre.args[0] <= level_in_force(written, lapse, base, now):
        return "the level is not above the one in force (a lower refusal comes first)"
    if lapse == 0 or now < lapse:
        return f"the guardian's stop is {'unused' if lapse == 0 else 'still running'}"
    return None


GUARDIAN_REVERT_CHECKS = {
    "oracle: void pending": void_pending,
    "auction: guardian stop used": stop_used,
}
