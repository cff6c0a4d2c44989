"""The specification of the deleveraging layer (Backstop.deleverage, modules/deleverage.vy,
docs/loss-waterfall.md), checked after every transaction: what each type owes the layer, what a
`deleverage` charges each listed vault, that no charged vault ends below its requirement with
the buffer, and the layer's bound: within one window of the interval, the shares of its headroom
charged to a vault add up to at most the max fraction (issue 45, finding 1).

This is the deliberate independent rewrite of offchain/model/deleverage.py (the one home of the
arithmetic for the twin, the keepers and the fuzz machine): written again here in plain integer
and rational arithmetic, importing none of it, so that a bug planted in the contract and its
twin alike shows as a disagreement with this text."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

from offchain.model.backstop import Layer
from offchain.model.fixed_point import WAD
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
    pre: Before, t: bytes, owners: list[str], now: int
) -> list[tuple[str, int, int]]:
    """(owner, normalized debt added, share) for each vault a `deleverage(t, owners)` charges at
    `now`, in list order, from the state before it. A vault's headroom is what it could owe more
    and keep (1 + buffer) x its requirement at `lowest_price`: floor(C x s / (1 + buffer)) -
    margin_debt(D), 0 without debt or room or when its window has used the max fraction; f =
    min(max fraction, due / the listed headroom) (in wad, rounded down), and each vault pays
    min(f, max fraction - its window's used share) of its headroom, as normalized debt rounded
    down, unless its size margin would then take it above that limit (it pays nothing)."""
    ctype = pre.state["ctypes"][t]
    size = pre.state["size_margins"][t]
    buffered = WAD + pre.state["deleverage_buffer"]
    max_fraction, interval = pre.state["deleverage_limits"]
    due = pre.state["deleverage_due"].get(t, 0)
    price = lowest_price(pre, t)
    rows = []
    for owner in owners:
        vault = pre.state["vaults"][(t, owner)]
        limit = vault.collateral * price * WAD // buffered
        need = margin_debt(vault.normalized_debt * ctype.rate, size)
        _, used = window_of(pre.state["deleverage_windows"][(t, owner)], interval, now)
        left = max_fraction - used if used < max_fraction else 0
        room = limit - need if vault.normalized_debt and limit > need and left else 0
        rows.append((owner, vault.normalized_debt, limit, room, left))
    total = sum(row[3] for row in rows)
    fraction = min(max_fraction, due * WAD // total) if total > due else max_fraction
    charges = []
    for owner, normalized_debt, limit, room, left in rows:
        share = min(fraction, left)
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
    return out


def _deleverage_call(
    spec: SpecificationBase,
    pre: Before,
    receipts: list[tuple[bytes, str, int, int]],
    charged: dict[bytes, int],
) -> list[str]:
    d = spec.d
    engine = spec.c(d.engine)
    t, owners = pre.args[0], list(pre.args[1])
    rate, safe_price = pre.state["ctypes"][t].rate, lowest_price(pre, t)
    now = spec.model.env.timestamp
    out: list[str] = []
    keys = [int(owner, 16) for owner in owners]
    spec.checks += 1
    if not all(a < b for a, b in zip([0, *keys], keys, strict=False)):
        out.append(f"a list not strictly ascending went through: {owners}")
    expected = expected_charges(pre, t, owners, now)
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
