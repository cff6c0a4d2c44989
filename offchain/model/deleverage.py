"""Twin of contracts/modules/deleverage.vy, and the one home off chain of the deleveraging
layer's arithmetic (issue 45): the lowest shown price, a vault's limit and headroom, its window
(the share of headroom charged in it), the charges of one `deleverage`, and the keeper's ranking
by strength. Pure functions over named values: the Backstop twin (offchain/model/backstop.py),
the backstop keeper (offchain/sim/strategies/backstop_keeper.py, also the live bot's) and the fuzz
machine call them. The Specification (offchain/testing/specification/deleverage.py) is the
independent rewrite.

Bound (finding 1): within one window of `interval` seconds, the shares of its headroom charged
to a vault add up to at most the max fraction; a window opens at a vault's first charge after
its last window ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from offchain.model import size_margin as sizing
from offchain.model.fixed_point import RAY, WAD, WAD_TO_RAY, u256

MAX_VAULTS = 50
MAX_BUFFER = WAD
DEFAULT_BUFFER = WAD // 4
DEFAULT_MAX_FRACTION = WAD // 2
DEFAULT_INTERVAL = 86400
MAX_INTERVAL = 365 * 86400
# modules/deleverage.vy's MAX_PRICE: a higher oracle price is no candidate for the lowest [wad]
MAX_PRICE = 10**36
# a vault's window word: start [unix seconds] << USED_BITS | used share [wad]
USED_BITS = 64
USED_MASK = 2**USED_BITS - 1


@dataclass(frozen=True)
class Window:
    """A vault's deleveraging window as stored (`deleverage_window`): start 0 = never charged."""

    start: int = 0  # unix seconds
    used: int = 0  # wad: the share of headroom charged in it


def pack_window(w: Window) -> int:
    return w.start << USED_BITS | w.used


def unpack_window(word: int) -> Window:
    return Window(word >> USED_BITS, word & USED_MASK)


def current_window(w: Window, interval: int, now: int) -> Window:
    """The window a charge at `now` adds to: `w`, or a new one opening now at 0 used when `w`
    opened `interval` seconds ago or more (or never)."""
    return Window(now, 0) if w.start + interval <= now else w


def share_left(w: Window, max_fraction: int, interval: int, now: int) -> int:
    """The share of its headroom [wad] a vault may still pay at `now` (0 when its window used
    the max fraction, which governance may have lowered below the used share)."""
    return max(0, max_fraction - current_window(w, interval, now).used)


@dataclass(frozen=True)
class Pricing:
    """What `deleverage` prices a type's vaults with."""

    rate: int  # ray
    safe_price: int  # ray: lowest_safe_price
    size: int  # the type's size margin, packed (size_margin.py)
    buffer: int  # wad


@dataclass(frozen=True)
class Limits:
    max_fraction: int  # wad
    interval: int  # seconds


def lowest_safe_price(engine_price: int, oracle_prices: Iterable[int], ratio: int) -> int:
    """The engine's safe price [ray], or lower: each non-zero oracle price [wad] (in effect,
    queued, latest posted) at most MAX_PRICE over the liquidation ratio [ray], rounded down as
    Spotter.poke does;
    the engine's alone when the type has no ratio (or oracle: pass no prices)."""
    lowest = engine_price
    if ratio == 0:
        return lowest
    for price in oracle_prices:
        if price != 0 and price <= MAX_PRICE:
            lowest = min(lowest, u256(price * WAD_TO_RAY * RAY) // ratio)
    return lowest


def vault_limit(collateral: int, p: Pricing) -> int:
    """floor(C x s / (1 + buffer)) [rad]: the most margin debt the vault keeps at the buffer."""
    return u256(collateral * p.safe_price) * WAD // (WAD + p.buffer)


def vault_headroom(collateral: int, normalized_debt: int, p: Pricing) -> tuple[int, int]:
    """(limit, headroom) [rad]: headroom = limit - margin_debt(D) when the vault has debt and
    the limit is above it, else 0 (before its window)."""
    limit = vault_limit(collateral, p)
    need = sizing.margin_debt(u256(normalized_debt * p.rate), p.size)
    return limit, limit - need if normalized_debt != 0 and limit > need else 0


@dataclass(frozen=True)
class VaultRow:
    owner: str
    collateral: int  # wad
    normalized_debt: int  # wad
    window: Window = Window()


@dataclass(frozen=True)
class Charge:
    owner: str
    added: int  # wad: normalized debt added
    window: Window  # the vault's window after the charge


def charges(rows: list[VaultRow], due: int, p: Pricing, limits: Limits, now: int) -> list[Charge]:
    """The charges of one `deleverage` of `rows` (in list order) with `due` [rad] due: f =
    min(max fraction, floor(due x WAD / sum)) over the sum of the headroom of the vaults with
    share left; each pays floor(floor(headroom x min(f, its share left) / WAD) / rate) of
    normalized debt, unless that is 0 or its size margin would take it past its limit."""
    if p.rate == 0:
        return []
    heads = []
    total = 0
    for r in rows:
        limit, headroom = vault_headroom(r.collateral, r.normalized_debt, p)
        w = current_window(r.window, limits.interval, now)
        if w.used >= limits.max_fraction:
            headroom = 0
        heads.append((r, limit, headroom, w))
        total = u256(total + headroom)
    fraction = limits.max_fraction
    if total > due:
        fraction = min(fraction, u256(due * WAD) // total)
    out: list[Charge] = []
    for r, limit, headroom, w in heads:
        if headroom == 0:
            continue
        share = min(fraction, limits.max_fraction - w.used)
        added = u256(headroom * share) // WAD // p.rate
        if added == 0:
            continue
        if sizing.margin_debt(u256(u256(r.normalized_debt + added) * p.rate), p.size) > limit:
            continue
        out.append(Charge(r.owner, added, Window(w.start, w.used + share)))
    return out


def strength(collateral: int, normalized_debt: int, p: Pricing) -> Fraction:
    """A vault's collateral value at the lowest shown price over its requirement, C x s /
    margin_debt(D) (as an exact fraction): what a split of a position into vaults of the same
    ratio does not change (below the size threshold). 0 without debt."""
    need = sizing.margin_debt(normalized_debt * p.rate, p.size)
    if normalized_debt == 0 or need == 0:
        return Fraction(0)
    return Fraction(collateral * p.safe_price, need)


def ranked_by_strength(vaults: Mapping[str, tuple[int, int]], p: Pricing) -> list[str]:
    """The owners of the vaults with headroom (`vaults`: owner -> (collateral [wad], normalized
    debt [wad])), strongest first; equal strength: the lower address first (the order never
    depends on the mapping's)."""
    rows = [
        (strength(c, art, p), int(owner, 16), owner)
        for owner, (c, art) in vaults.items()
        if vault_headroom(c, art, p)[1] != 0
    ]
    rows.sort(key=lambda r: (-r[0], r[1]))
    return [owner for _, _, owner in rows]
