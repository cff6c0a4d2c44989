"""The specification of the deleveraging layer (Backstop.deleverage, modules/deleverage.vy,
docs/loss-waterfall.md), checked after every transaction: what each type owes the layer, what a
`deleverage` charges each listed vault (at most its given share, all scaled down together to
the due), that no charged vault ends below its requirement with the buffer, and the layer's
bound: within one window of the interval, the shares of its headroom charged to a vault add up
to at most the max fraction (issue 45, finding 1). And the keeper's shares (issue 63, finding
2): the level rule, each vault its excess over one strength level, to the rounding stated in
`level_rule_problems`; so a position's charge does not depend on how it is split nor on one
wei of rounding.

This is the deliberate independent rewrite of offchain/model/deleverage.py (the one home of the
arithmetic for the twin, the keepers and the fuzz machine): written again here in plain integer
and rational arithmetic, importing none of it, so that a bug planted in the contract and its
twin alike shows as a disagreement with this text."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

from offchain.model.backstop import Layer
from offchain.model.fixed_point import RAD, WAD
from offchain.model.state import ZERO_ADDRESS, Event
from offchain.testing.specification.base import (
    Before,
    SpecificationBase,
    SpecViolation,
    shown_prices,
)
from offchain.testing.specification.curves import margin_debt


def lowest_price(pre: Before, t: bytes) -> int:
    """The price a `deleverage` judges vaults at [ray]: the lowest of the engine's safe price and
    each non-zero price the type's oracle shows (in effect, queued, latest posted) over the
    liquidation ratio, rounded down as the Spotter does: a fall already visible counts now. A
    price above 1e36 (1e18 stablecoin a token) is no candidate (it could not be the lowest of
    any engine price the Spotter sets from a sane one, and its product would overflow)."""
    safe, (shown, ratio) = pre.state["deleverage_prices"][t]
    if not ratio:
        return safe
    return min([safe] + [p * 10**9 * 10**27 // ratio for p in shown if 0 < p <= 10**36])


def window_of(word: int, interval: int, now: int) -> tuple[int, int]:
    """(start, used share [wad]) of the window a charge at `now` adds to, from the stored word
    (start in the bits above the low 64, the used share in those): a new one at 0 used when the
    stored one opened `interval` seconds ago or more."""
    start, used = word // 2**64, word % 2**64
    if start + interval <= now:
        return now, 0
    return start, used


def expected_charges(
    pre: Before, t: bytes, owners: list[str], shares: list[int], now: int
) -> list[tuple[str, int, int]]:
    """(owner, normalized debt added, share) for each vault a `deleverage(t, owners, shares)`
    charges at `now`, in list order, from the state before it. A vault's headroom is what it
    could owe more and keep (1 + buffer) x its requirement at `lowest_price`: floor(C x s /
    (1 + buffer)) - margin_debt(D), 0 without debt or room or when its window has used the max
    fraction; its share is min(its given share, max fraction - its window's used share); when
    the sum of ceil(headroom x share / WAD) exceeds the due, every share is scaled by
    floor(due x WAD / that sum) / WAD (rounded down). Each vault pays its share of its
    headroom, as normalized debt rounded down, unless its size margin would then take it above
    that limit (it pays nothing)."""
    ctype = pre.state["ctypes"][t]
    size = pre.state["size_margins"][t]
    buffered = WAD + pre.state["deleverage_buffer"]
    max_fraction, interval = pre.state["deleverage_limits"]
    due = pre.state["deleverage_due"].get(t, 0)
    price = lowest_price(pre, t)
    rows = []
    for owner, given in zip(owners, shares, strict=True):
        vault = pre.state["vaults"][(t, owner)]
        limit = vault.collateral * price * WAD // buffered
        need = margin_debt(vault.normalized_debt * ctype.rate, size)
        _, used = window_of(pre.state["deleverage_windows"][(t, owner)], interval, now)
        left = max_fraction - used if used < max_fraction else 0
        room = limit - need if vault.normalized_debt and limit > need and left else 0
        rows.append((owner, vault.normalized_debt, limit, room, min(given, left)))
    total = sum(-(-room * share // WAD) for _, _, _, room, share in rows if room)
    charges = []
    for owner, normalized_debt, limit, room, share in rows:
        if total > due:
            share = share * (due * WAD // total) // WAD
        added = room * share // WAD // ctype.rate
        if added and margin_debt((normalized_debt + added) * ctype.rate, size) <= limit:
            charges.append((owner, added, share))
    return charges


def deleverage_checks(spec: SpecificationBase, pre: Before, events: list[Event]) -> list[str]:
    """Per type, the loss due for deleveraging grows by what the layer took in `cover` and falls
    by what `deleverage` charged (all of it moves to settlement debt at shutdown); a
    `deleverage` charges exactly `expected_charges`, moves that debt from the Backstop's bad
    debt into the vaults, and leaves every charged vault's collateral worth at least
    (1 + buffer) x its margin debt at the lowest price its oracle shows. The layer takes a loss
    only for a type with debt; governance's release moves due to the debt auction."""
    d = spec.d
    backstop = spec.c(d.backstop)
    out: list[str] = []
    taken: dict[bytes, int] = defaultdict(int)
    charged: dict[bytes, int] = defaultdict(int)
    released: dict[bytes, int] = defaultdict(int)
    receipts: list[tuple[bytes, str, int, int]] = []
    for e in events:
        if e.address != d.backstop:
            continue
        if e.name == "LossAllocated" and e.args["layer"] == Layer.DELEVERAGE:
            taken[e.args["collateral_type"]] += e.args["amount"]
            spec.checks += 1
            if e.args["participant"] != d.engine:
                out.append(f"the deleveraging layer's participant {e.args['participant']}")
            if not pre.state["ctypes"][e.args["collateral_type"]].normalized_debt:
                out.append("the deleveraging layer took a loss of a type without debt")
        elif e.name == "DeleverageReleased":
            released[e.args["collateral_type"]] += e.args["amount"]
        elif e.name == "Deleveraged":
            charged[e.args["collateral_type"]] += e.args["charged"]
        elif e.name == "VaultDeleveraged":
            args = e.args
            receipts.append(
                (args["collateral_type"], args["owner"], args["normalized_debt"], args["debt"])
            )
    if any(e.name == "Shutdown" and e.address == d.backstop for e in events):
        spec.checks += 1
        if backstop.deleverage_total != 0:
            out.append(f"deleverage_total {backstop.deleverage_total} after shutdown")
        return out
    for name, t in d.types.items():
        before = pre.state["deleverage_due"].get(t.type_id, 0)
        now = backstop.deleverage_due(t.type_id)
        spec.checks += 1
        tid = t.type_id
        if now != before + taken[tid] - charged[tid] - released[tid]:
            out.append(
                f"{name}: deleverage due {before} -> {now}, but the layer took {taken[tid]}, "
                f"{charged[tid]} was charged and {released[tid]} released"
            )
    if pre.function == "deleverage" and pre.address == d.backstop:
        out += _deleverage_call(spec, pre, receipts, charged)
    elif receipts:
        out.append(f"vaults deleveraged in {pre.function}")
    out += _warnings_within_buffer(spec)
    return out


def highest_warning(spec: SpecificationBase, margin_call: str) -> int:
    """The highest warning factor [ray] of the types with margin calls on `margin_call`, from
    its parameters (warning factor in the bits above 128 of each type's word; 0 without)."""
    packed = spec.c(margin_call).packed_parameters
    return max((word >> 128 for word in list(packed.values()) if word), default=0)


def _warnings_within_buffer(spec: SpecificationBase) -> list[str]:
    """Parameters that cannot fight (issue 63, finding 3), after every transaction: once the
    Backstop is linked to a MarginCall, every warning factor of it is at most 1 + the deleverage
    buffer, so a deleveraging charge (which leaves a vault at (1 + buffer) x its requirement at
    the lowest shown price) never puts a vault in the called band."""
    backstop = spec.c(spec.d.backstop)
    spec.checks += 1
    if backstop.margin_call == ZERO_ADDRESS:
        return []
    highest = highest_warning(spec, backstop.margin_call)
    if highest > 10**27 + backstop.deleverage_buffer * 10**9:
        return [
            f"a warning factor {highest} above 1 + the deleverage buffer "
            f"{backstop.deleverage_buffer}: a charge could leave a vault called"
        ]
    return []


def _deleverage_call(
    spec: SpecificationBase,
    pre: Before,
    receipts: list[tuple[bytes, str, int, int]],
    charged: dict[bytes, int],
) -> list[str]:
    d = spec.d
    engine = spec.c(d.engine)
    t, owners, given = pre.args[0], list(pre.args[1]), list(pre.args[2])
    rate, safe_price = pre.state["ctypes"][t].rate, lowest_price(pre, t)
    now = spec.model.env.timestamp
    out: list[str] = []
    keys = [int(owner, 16) for owner in owners]
    spec.checks += 1
    if not all(a < b for a, b in zip([0, *keys], keys, strict=False)):
        out.append(f"a list not strictly ascending went through: {owners}")
    # (the window's used share grows by exactly the expected share, at most the given one:
    # _window_after)
    expected = expected_charges(pre, t, owners, given, now)
    got = [(owner, added) for _, owner, added, _ in receipts]
    shares = {owner: share for owner, _, share in expected}
    expected = [(owner, added) for owner, added, _ in expected]
    spec.checks += 1
    if got != expected or any(r[0] != t or r[3] != r[2] * rate for r in receipts):
        out.append(f"charges {got}, expected {expected} (rate {rate})")
    total = sum(added * rate for _, added in expected)
    spec.checks += 1
    if charged[t] != total or total > pre.state["deleverage_due"].get(t, 0):
        out.append(f"charged {charged[t]}, expected {total}")
    bad_before = pre.state["backstop_debt"][0]
    spec.checks += 1
    if engine.bad_debt[d.backstop] != bad_before - total:
        out.append(f"backstop bad debt {bad_before} -> {engine.bad_debt[d.backstop]}, not -{total}")
    buffered = WAD + pre.state["deleverage_buffer"]
    size = pre.state["size_margins"][t]
    added_by = dict(expected)
    for owner in owners:
        vault, old = engine.vaults[(t, owner)], pre.state["vaults"][(t, owner)]
        added = added_by.get(owner, 0)
        spec.checks += 1
        if vault.collateral != old.collateral or vault.normalized_debt != (
            old.normalized_debt + added
        ):
            out.append(f"vault {owner}: {old} -> {vault}, {added} normalized debt charged")
        if added and (
            margin_debt(vault.normalized_debt * rate, size) * buffered
            > vault.collateral * safe_price * WAD
        ):
            out.append(f"vault {owner} charged below its requirement with the buffer")
        out += _window_after(spec, pre, t, owner, shares.get(owner) if added else None, now)
    return out


def _window_after(
    spec: SpecificationBase, pre: Before, t: bytes, owner: str, share: int | None, now: int
) -> list[str]:
    """A charged vault's window: the one its charge added to (a new one opened now if the last
    had ended), its used share grown by the charge's share and at most the max fraction (the
    bound, checked after every step); an uncharged vault's window unchanged."""
    max_fraction, interval = pre.state["deleverage_limits"]
    before = pre.state["deleverage_windows"][(t, owner)]
    start, used = spec.c(spec.d.backstop).deleverage_window(t, owner)
    spec.checks += 1
    if share is None:
        if start * 2**64 + used != before:
            return [f"vault {owner}: window {before} -> ({start}, {used}) without a charge"]
        return []
    expected_start, expected_used = window_of(before, interval, now)
    out = []
    if (start, used) != (expected_start, expected_used + share):
        out.append(
            f"vault {owner}: window ({start}, {used}), expected "
            f"({expected_start}, {expected_used + share})"
        )
    if used > max_fraction:
        out.append(
            f"vault {owner}: {used} of its headroom charged in one window, max {max_fraction}"
        )
    return out


def _nothing_due(spec: SpecificationBase, pre: Before) -> str | None:
    if pre.function != "deleverage":
        return None
    due = pre.state["deleverage_due"].get(pre.args[0], 0)
    return None if due == 0 else f"{due} was due"


def _not_ascending(spec: SpecificationBase, pre: Before) -> str | None:
    if pre.function != "deleverage":
        return None
    keys = [int(owner, 16) for owner in pre.args[1]]
    if all(a < b for a, b in zip([0, *keys], keys, strict=False)):
        return "the owners were strictly ascending (and not the zero address)"
    return None


def _shares_not_one_per_owner(spec: SpecificationBase, pre: Before) -> str | None:
    if pre.function != "deleverage":
        return None
    owners, shares = pre.args[1], pre.args[2]
    return None if len(owners) != len(shares) else f"{len(owners)} owners, {len(shares)} shares"


def _buffer_below_a_warning(spec: SpecificationBase, pre: Before) -> str | None:
    backstop = spec.c(spec.d.backstop)
    if pre.function == "set_deleverage_buffer":
        buffer, margin_call = pre.args[0], backstop.margin_call
    elif pre.function == "set_margin_call":
        buffer, margin_call = backstop.deleverage_buffer, pre.args[0]
    else:
        return None
    if margin_call == ZERO_ADDRESS:
        return "no MarginCall is linked"
    highest = highest_warning(spec, margin_call)
    if highest > 10**27 + buffer * 10**9:
        return None
    return f"buffer {buffer} is at least the highest warning factor {highest} - 1"


def _zero_margin_call(spec: SpecificationBase, pre: Before) -> str | None:
    if pre.function != "set_margin_call" or pre.args[0] == ZERO_ADDRESS:
        return None
    return f"{pre.args[0]} is not the zero address"


def _bad_release(spec: SpecificationBase, pre: Before) -> str | None:
    if pre.function != "release_deleverage":
        return None
    due = pre.state["deleverage_due"].get(pre.args[0], 0)
    amount = pre.args[1]
    return None if amount == 0 or amount > due else f"{amount} of {due} due may be released"


def _no_debt_auction(spec: SpecificationBase, pre: Before) -> str | None:
    if spec.c(spec.d.backstop).debt_auction == ZERO_ADDRESS:
        return None
    return "the Backstop has a debt auction"


def _limits(spec: SpecificationBase, pre: Before) -> str | None:
    if pre.function != "set_deleverage_limits":
        return None
    max_fraction, interval = pre.args
    if not 0 < max_fraction <= WAD or interval > 365 * 86400:
        return None
    return f"max fraction {max_fraction} and interval {interval} are in bounds"


def _buffer_too_large(spec: SpecificationBase, pre: Before) -> str | None:
    if pre.function != "set_deleverage_buffer" or pre.args[0] > WAD:
        return None
    return f"buffer {pre.args[0]} is at most 1 wad"


DELEVERAGE_REVERT_CHECKS = {
    "backstop: nothing to deleverage": _nothing_due,
    "backstop: owners not ascending": _not_ascending,
    "backstop: one share per owner": _shares_not_one_per_owner,
    "backstop: buffer below a warning factor": _buffer_below_a_warning,
    "backstop: zero margin call": _zero_margin_call,
    "backstop: buffer too large": _buffer_too_large,
    "backstop: bad release": _bad_release,
    "backstop: no debt auction": _no_debt_auction,
    "backstop: bad max fraction": _limits,
    "backstop: interval too long": _limits,
}


def keeper_ranking_problems(spec: SpecificationBase, t: bytes, ranked: list[str]) -> list[str]:
    """The keeper's ranking of type `t`'s vaults (`ranked`, strongest first), in the state now:
    the vaults with headroom above the buffer at the lowest price shown, by strength (collateral
    value at that price over the requirement, an exact rational) descending, equal strength by
    address. The bound it gives the keeper's list: split-invariance (issue 45, finding 2): a
    position cut into vaults of the same ratio ranks where the whole does, so a split never
    takes it off the keeper's calls. Written here again from the model's state (not the
    keeper's or the model's arithmetic)."""
    c, d = spec.c, spec.d
    engine, backstop = c(d.engine), c(d.backstop)
    ctype = engine.collateral_types[t]
    shown, ratio = shown_prices(c, d.spotter, t)
    price = ctype.safe_price
    if ratio:
        price = min([price] + [p * 10**9 * 10**27 // ratio for p in shown if p])
    size = engine.size_margin(t)
    buffered = WAD + backstop.deleverage_buffer
    rows = []
    for (tid, owner), vault in list(engine.vaults.items()):
        if tid != t or not vault.normalized_debt:
            continue
        need = margin_debt(vault.normalized_debt * ctype.rate, size)
        if vault.collateral * price * WAD // buffered <= need:
            continue
        rows.append((-Fraction(vault.collateral * price, need), int(owner, 16), owner))
    expected = [owner for *_, owner in sorted(rows)]
    spec.checks += 1
    if ranked != expected:
        return [f"keeper ranking {ranked}, by strength {expected}"]
    return []


def check_keeper_ranking(spec: SpecificationBase, t: bytes, ranked: list[str]) -> None:
    """keeper_ranking_problems, raised as a SpecViolation (the fuzz machine's keeper calls)."""
    problems = keeper_ranking_problems(spec, t, ranked)
    if problems:
        raise SpecViolation("keeper ranking: specification broken:\n" + "\n".join(problems))


# ---------------------------------------------------------------- the keeper's shares (issue 63)


def level_rows(spec: SpecificationBase, t: bytes, now: int) -> list[tuple]:
    """The vaults of type `t` the keeper may charge at `now`, from the model's state now, as
    (owner, value, need, headroom, room): value = C x s [rad] at the lowest shown price, need =
    its margin debt, headroom = floor(value / (1 + buffer)) - need > 0, room = the most share
    [wad] it may pay: its window's share left, less where its size margin would take it past
    its limit at a larger share (the largest share whose charge, normalized debt rounded
    down, keeps margin_debt within the limit; searched here by halving)."""
    c, d = spec.c, spec.d
    engine, backstop = c(d.engine), c(d.backstop)
    rate = engine.collateral_types[t].rate
    shown, ratio = shown_prices(c, d.spotter, t)
    price = engine.collateral_types[t].safe_price
    if ratio:
        price = min([price] + [p * 10**9 * 10**27 // ratio for p in shown if 0 < p <= 10**36])
    size = engine.size_margin(t)
    buffered = WAD + backstop.deleverage_buffer
    max_fraction, interval = backstop.deleverage_max_fraction, backstop.deleverage_interval
    rows = []
    for (tid, owner), vault in list(engine.vaults.items()):
        if tid != t or not vault.normalized_debt:
            continue
        value = vault.collateral * price
        limit = value * WAD // buffered
        need = margin_debt(vault.normalized_debt * rate, size)
        if limit <= need:
            continue
        word = backstop.deleverage_windows[(t, owner)]
        _, used = window_of(word, interval, now)
        if used >= max_fraction:
            continue
        headroom, left = limit - need, max_fraction - used

        def fits(share: int, headroom=headroom, debt=vault.normalized_debt, limit=limit) -> bool:
            return margin_debt((debt + headroom * share // WAD // rate) * rate, size) <= limit

        room = left
        if not fits(left):
            low, high = 0, left  # fits(low), not fits(high)
            while low + 1 < high:
                middle = (low + high) // 2
                if fits(middle):
                    low = middle
                else:
                    high = middle
            room = low
        if room:
            rows.append((owner, value, need, headroom, room))
    return rows


def level_charges(rows: list[tuple], due: int) -> dict[str, Fraction]:
    """The level rule, exactly: owner -> what it pays [rad, a rational], clamp(value x u -
    need, 0, headroom x room / WAD), with u = 1 / L the least at which they add up to `due`
    (every cap where the caps add up to less). Found by evaluating the sum at every point where
    some vault starts paying (u = need / value) or reaches its cap, and solving the one
    linear piece where it crosses the due."""

    def pay(row: tuple, u: Fraction) -> Fraction:
        _, value, need, headroom, room = row
        return min(max(value * u - need, Fraction(0)), Fraction(headroom * room, WAD))

    def total(u: Fraction) -> Fraction:
        return sum((pay(row, u) for row in rows), Fraction(0))

    starts = {Fraction(need, value) for _, value, need, _, _ in rows}
    caps = {Fraction(need * WAD + h * room, value * WAD) for _, value, need, h, room in rows}
    u: Fraction | None = Fraction(0) if due <= 0 else None
    low = Fraction(0)  # where the sum is 0 (every need is positive)
    for point in sorted(starts | caps) if u is None else []:
        at_point = total(point)
        if at_point >= due:
            # the sum is linear between two consecutive points
            at_low = total(low)
            u = low + (point - low) * (due - at_low) / (at_point - at_low)
            break
        low = point
    if u is None:
        return {row[0]: Fraction(row[3] * row[4], WAD) for row in rows}
    return {row[0]: pay(row, u) for row in rows}


def round_full(calls: list[tuple[list[str], list[int]]]) -> bool:
    """Whether the keeper's round is full: four calls of 50 vaults, the most it sends."""
    return len(calls) == 4 and all(len(owners) == 50 for owners, _ in calls)


def level_rule_problems(
    spec: SpecificationBase, t: bytes, calls: list[tuple[list[str], list[int]]], now: int
) -> list[str]:
    """The keeper's `deleverage` calls of one round for type `t` (`calls`: (owners, shares)),
    against the level rule in the state now (before them), at `now`, the time they carry.
    The rule: the due brings the strongest vaults down to one strength level L, each paying
    its excess over it, value / L - margin debt, at most its cap (its headroom x the share it
    may pay now), L the level at which these add up to the due (`level_charges`). A listed
    vault's planned charge, headroom x share / WAD, is at most its exact charge, and below it
    by at most the rounding R = headroom / 1e18 + rate + n + 1 rad (n: the candidates; the
    keeper aims at the due less one rad each so that no call is scaled down, its shares round
    down, and a share charging less than one wei of normalized debt is left out), and no vault
    is listed twice. A vault left out pays at most R at the level; the keeper's calls (four of
    50 a round) may leave the weakest of a larger level to the next round, never a vault
    stronger than one they list (a tie at the 200th goes either way). While less than one
    stablecoin is due the keeper sends nothing (what rounding leaves is not chased).

    The bound this gives (issue 63, finding 2): the excess is linear in (value, need), so a
    position split into k vaults of one collateral-to-debt ratio (below the size threshold,
    windows alike) pays, in parts, what the whole pays, to the parts' and the whole's
    roundings: |sum of the parts - the whole| <= sum over the k parts and the whole of
    (headroom / 1e18 + rate + n + 1) rad, at most about (k + 1) wei of normalized debt and
    2e-18 of the position's headroom; and one wei of normalized debt more changes a vault's
    charge by at most one rate and its rounding R. Nothing is cut at a rank: a vault slightly
    weaker than another pays slightly less, never nothing instead of a share."""
    c = spec.c
    due = c(spec.d.backstop).deleverage_due(t)
    spec.checks += 1
    if due < RAD:
        # below one stablecoin due the keeper sends nothing (the rounding a round leaves)
        return [f"{len(calls)} calls with {due} due, below one stablecoin"] if calls else []
    rows = level_rows(spec, t, now)
    rate = c(spec.d.engine).collateral_types[t].rate
    exact = level_charges(rows, due)
    headroom = {row[0]: row[3] for row in rows}
    n = len(rows)
    planned: dict[str, Fraction] = {}
    out: list[str] = []
    for owners, shares in calls:
        for owner, share in zip(owners, shares, strict=True):
            spec.checks += 1
            if owner in planned or owner not in exact:
                out.append(f"{owner} listed twice or without room: {share}")
                continue
            planned[owner] = Fraction(headroom[owner] * share, WAD)
    full = round_full(calls)
    start = {row[0]: Fraction(row[2], row[1]) for row in rows}
    weakest = max((start[o] for o in planned if o in start), default=None)
    for owner, charge in exact.items():
        spec.checks += 1
        rounding = Fraction(headroom[owner], WAD) + rate + n + 1
        got = planned.get(owner)
        if got is None:
            if charge > rounding and not full:
                out.append(f"{owner} left out: it pays {charge} at the level")
            elif charge > rounding and weakest is not None and start[owner] < weakest:
                out.append(f"{owner} left out of a full round, stronger than a listed vault")
        elif got > charge or charge - got > rounding:
            out.append(f"{owner} planned {got}, at the level {charge} (rounding {rounding})")
    return out


def check_level_rule(
    spec: SpecificationBase, t: bytes, calls: list[tuple[list[str], list[int]]], now: int
) -> None:
    """level_rule_problems, raised as a SpecViolation (the fuzz machine's keeper calls)."""
    problems = level_rule_problems(spec, t, calls, now)
    if problems:
        raise SpecViolation("keeper shares: specification broken:\n" + "\n".join(problems))


def split_problems(
    spec: SpecificationBase,
    t: bytes,
    rows: list[tuple],
    due: int,
    parts: list[str],
    paid: dict[str, int],
    calls: list[tuple[list[str], list[int]]],
) -> list[str]:
    """The bound of the level rule for a position split into `parts` (issue 63, finding 2):
    what its parts were charged (`paid`, rad, by owner) in a keeper round (`calls`: its
    (owners, shares)) that started from `rows` (`level_rows` then) and `due`
    (`split_bound_problems`, with the type's rate and size margin)."""
    engine = spec.c(spec.d.engine)
    spec.checks += 1
    return split_bound_problems(
        rows,
        due,
        parts,
        paid,
        calls,
        engine.collateral_types[t].rate,
        lambda debt: margin_debt(debt, engine.size_margin(t)),
    )


def split_bound_problems(
    rows: list[tuple],
    due: int,
    parts: list[str],
    paid: dict[str, int],
    calls: list[tuple[list[str], list[int]]],
    rate: int,
    requirement,
) -> list[str]:
    """split_problems' arithmetic (`requirement`: debt [rad] -> its margin debt). The whole
    position is one row of the parts' summed value, requirement and headroom (their room
    alike), and would pay its level charge (`level_charges` over the other rows and it):
    |sum paid - the whole's charge| <= the sum over the parts and the whole of headroom / 1e18
    + rate + n + 1 rad. Checked only where the split is one: below the size threshold (the
    whole's margin debt is the parts' sum) and with the parts' rooms equal.

    A full round (four calls of 50, `round_full`) lists the strongest 200 and leaves the rest
    to the next round, which the whole, at the parts' strength, would meet alike: the parts
    listed none while every listed vault is at least as strong, and the whole would be left
    out too (0, at a tie either); at a tie across the 200th some parts may wait for the next
    round, so there the parts pay at most the whole's charge (never more). A part left out of
    a full round while a weaker vault is listed is `level_rule_problems`' to refuse."""
    mine = [row for row in rows if row[0] in parts]
    need = sum(row[2] for row in mine)
    if len(mine) != len(parts) or len({row[4] for row in mine}) != 1 or requirement(need) != need:
        return []
    whole = ("whole", sum(r[1] for r in mine), need, sum(r[3] for r in mine), mine[0][4])
    merged = [row for row in rows if row[0] not in parts] + [whole]
    exact = level_charges(merged, due)["whole"]
    bound = sum(Fraction(r[3], WAD) + rate + len(rows) + 1 for r in mine)
    bound += Fraction(whole[3], WAD) + rate + len(merged) + 1
    got = sum(paid.get(o, 0) for o in parts)
    if round_full(calls):
        listed = {o for owners, _ in calls for o in owners}
        strength = Fraction(need, whole[1])
        starts = [Fraction(r[2], r[1]) for r in rows if r[0] in listed and r[0] not in parts]
        if not listed & set(parts) and all(s <= strength for s in starts):
            exact = Fraction(0)  # the whole waits for the next round too
        elif listed & set(parts) and not listed >= set(parts):
            if got > exact + bound:
                return [f"the parts paid {got}, more than the whole would pay {exact}"]
            return []
    if abs(got - exact) > bound:
        return [f"the parts paid {got}, the whole would pay {exact} (bound {bound})"]
    return []


def check_split(
    spec: SpecificationBase,
    t: bytes,
    rows: list[tuple],
    due: int,
    parts: list[str],
    paid: dict[str, int],
    calls: list[tuple[list[str], list[int]]],
) -> None:
    """split_problems, raised as a SpecViolation (the fuzz machine's tie story)."""
    problems = split_problems(spec, t, rows, due, parts, paid, calls)
    if problems:
        raise SpecViolation("keeper shares: specification broken:\n" + "\n".join(problems))
