"""Twin of contracts/modules/deleverage.vy, and the one home off chain of the deleveraging
layer's arithmetic (issue 45): the lowest shown price, a vault's limit and headroom, its window
(the share of headroom charged in it), the charges of one `deleverage`, the keeper's ranking by
strength and its shares by the level rule (issue 63), and what a holder of the role that ignores
the rule can move (issue 72, `reach`). Pure functions over named values: the Backstop twin
(offchain/model/backstop.py), the backstop keeper (offchain/sim/strategies/backstop_keeper.py,
also the live bot's) and the fuzz machine call them.
The Specification (offchain/testing/specification/deleverage.py) is the independent rewrite.

Bounds: (45-1) within one window of `interval` seconds, the shares of its headroom charged to a
vault add up to at most the max fraction; a window opens at a vault's first charge after its
last window ended. (63-2) the keeper's shares charge each vault its excess over one strength
level, at most its cap: a position's charge does not depend on how it is split into vaults of
one ratio, nor on one wei of rounding (the level rule below; the rounding in
`level_shares` and the Specification). (72) the contract does not check the rule: a holder of
the role that ignores it spares whom it leaves out and charges each other vault up to its cap;
`reach` states what that moves per due.
"""

from __future__ import annotations

import heapq
import math
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
    share: int = WAD  # wad: the most of its headroom the caller lets it pay


@dataclass(frozen=True)
class Charge:
    owner: str
    added: int  # wad: normalized debt added
    window: Window  # the vault's window after the charge


def first_pass(
    r: VaultRow, p: Pricing, limits: Limits, now: int, total: int
) -> tuple[tuple[VaultRow, int, int, Window, int], int]:
    """One row of the charges' first pass, as the contract's loop computes it (its overflows
    where it meets them: the Backstop runs it per owner, between the owners' order checks):
    ((row, limit, headroom, window, share), the sum of ceil(headroom x share / WAD) so far)."""
    limit, headroom = vault_headroom(r.collateral, r.normalized_debt, p)
    w = current_window(r.window, limits.interval, now)
    share = 0
    if w.used >= limits.max_fraction:
        headroom = 0
    else:
        share = min(r.share, limits.max_fraction - w.used)
        total = u256(total + -(-u256(headroom * share) // WAD))
    return (r, limit, headroom, w, share), total


def charges(rows: list[VaultRow], due: int, p: Pricing, limits: Limits, now: int) -> list[Charge]:
    """The charges of one `deleverage` of `rows` (in list order, each with its given share) with
    `due` [rad] due: each vault with headroom and share left pays min(its share, its window's
    share left) of its headroom; when the sum of ceil(headroom x share / WAD) exceeds the due,
    every share is scaled by floor(due x WAD / that sum) / WAD (rounded down); each pays
    floor(floor(headroom x share / WAD) / rate) of normalized debt, unless that is 0 or its
    size margin would take it past its limit."""
    if p.rate == 0:
        return []
    heads = []
    total = 0
    for r in rows:
        head, total = first_pass(r, p, limits, now, total)
        heads.append(head)
    scale = u256(due * WAD) // total if total > due else None
    out: list[Charge] = []
    for r, limit, headroom, w, share in heads:
        if headroom == 0:
            continue
        if scale is not None:
            share = share * scale // WAD
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


# ---------------------------------------------------------------- the level rule (issue 63)
#
# The keeper's shares. Finding 63-2: one fraction for a list of the 50 strongest cut a tie of
# strengths (and any vault marginally weaker than the 50th) at the list's end: the vaults past
# it paid nothing while the listed ones paid their share. The level rule has no cut: the due
# brings the strongest vaults down to one strength level L, each paying its excess over L,
# E = value / L - need (its margin debt), at most its cap (its headroom x the share it may pay
# now). E is linear in (value, need), so a position split into vaults of one ratio pays, in
# parts, what the whole pays, and one wei of debt more changes a vault's charge by one wei; a
# vault just below L pays just less than one just above it, never nothing instead of a share.
# In u = 1 / L, sum clamp(value x u - need, 0, cap) is piecewise linear and increasing: the
# level is where it reaches the due.


@dataclass(frozen=True)
class Candidate:
    """A vault `deleverage` may charge now, as the level rule sees it."""

    owner: str
    value: int  # rad: collateral x the lowest shown price
    need: int  # rad: its margin debt
    headroom: int  # rad: floor(value / (1 + buffer)) - need
    # wad: the most share it may pay now: its window's share left, less where its size margin
    # would otherwise take it past its limit (the charge `deleverage` would skip)
    room: int

    @property
    def cap(self) -> Fraction:
        """The most it pays now [rad]: headroom x room / WAD."""
        return Fraction(self.headroom * self.room, WAD)

    @property
    def start(self) -> Fraction:
        """1 / its strength: the u from which it pays."""
        return Fraction(self.need, self.value)

    def charge(self, u: Fraction) -> Fraction:
        """What it pays at u = 1 / L [rad]: clamp(value x u - need, 0, cap)."""
        return min(max(self.value * u - self.need, Fraction(0)), self.cap)


def size_room(normalized_debt: int, limit: int, headroom: int, left: int, p: Pricing) -> int:
    """The largest share [wad] in [0, left] whose charge (floor(floor(headroom x share / WAD) /
    rate) of normalized debt) keeps the vault's margin debt within its limit: `left` without a
    size margin, or where the whole of it fits (`deleverage` skips a charge that does not)."""

    def fits(share: int) -> bool:
        added = headroom * share // WAD // p.rate
        return sizing.margin_debt((normalized_debt + added) * p.rate, p.size) <= limit

    if p.size == 0 or fits(left):
        return left
    low, high = 0, left  # fits(0): the vault has headroom
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


def candidates(
    vaults: Mapping[str, tuple[int, int]],
    windows: Mapping[str, Window],
    p: Pricing,
    limits: Limits,
    now: int,
) -> list[Candidate]:
    """The vaults `deleverage` may charge now (`vaults`: owner -> (collateral [wad], normalized
    debt [wad]); `windows`: owner -> its window, absent: never charged), strongest first (equal
    strength: the lower address first): those with headroom, share left in their window and
    room under their size margin."""
    out = []
    for owner in ranked_by_strength(vaults, p):
        collateral, normalized_debt = vaults[owner]
        left = share_left(windows.get(owner, Window()), limits.max_fraction, limits.interval, now)
        if left == 0:
            continue
        limit, headroom = vault_headroom(collateral, normalized_debt, p)
        room = size_room(normalized_debt, limit, headroom, left, p)
        if room == 0:
            continue
        need = sizing.margin_debt(normalized_debt * p.rate, p.size)
        out.append(Candidate(owner, collateral * p.safe_price, need, headroom, room))
    return out


def level(cands: list[Candidate], due: int) -> Fraction | None:
    """u = 1 / L, the least u at which the candidates' charges (Candidate.charge) add up to
    `due` [rad], exactly; None when their caps add up to less (each pays its cap). `cands`
    strongest first (each starts paying at its `start`, and is capped from start + cap /
    value): a sweep over those events, stopping at the level."""
    if due <= 0:
        return Fraction(0)
    slope, intercept = 0, Fraction(0)  # sum of charges = slope x u + intercept between events
    ends: list[tuple[Fraction, int]] = []

    def crossing(u: Fraction) -> Fraction | None:
        if slope and slope * u + intercept >= due:
            return (due - intercept) / slope
        return None

    for i, c in enumerate(cands):
        while ends and ends[0][0] <= c.start:
            u, j = heapq.heappop(ends)
            if (found := crossing(u)) is not None:
                return found
            slope -= cands[j].value
            intercept += cands[j].need + cands[j].cap
        if (found := crossing(c.start)) is not None:
            return found
        slope += c.value
        intercept -= c.need
        heapq.heappush(ends, (c.start + c.cap / c.value, i))
    while ends:
        u, j = heapq.heappop(ends)
        if (found := crossing(u)) is not None:
            return found
        slope -= cands[j].value
        intercept += cands[j].need + cands[j].cap
    return None


def level_shares(cands: list[Candidate], due: int) -> dict[str, int]:
    """owner -> its share [wad] under the level rule, for the candidates of one round
    (`candidates`, strongest first) and `due` [rad]: floor(charge x WAD / headroom), the charge
    at the level for the due less one rad per candidate (so that the sum of ceil(headroom x
    share / WAD) over any calls stays within what is due when each is sent: `deleverage` never
    scales the shares); its room where the caps add up to less. Candidates that pay nothing
    are left out."""
    u = level(cands, max(0, due - len(cands)))
    out: dict[str, int] = {}
    for c in cands:
        if u is None:
            share = c.room
        else:
            if c.start >= u:
                break
            share = math.floor(c.charge(u) * WAD / c.headroom)
        if share:
            out[c.owner] = share
    return out


def level_reached(cands: list[Candidate], due: int, next_start: Fraction) -> bool:
    """Whether the level for `due` over `cands` (the strongest vaults, those whose windows were
    read so far) lies at or above the strength of the next vault (`next_start`: 1 / its
    strength): then no vault past them pays at the level of all of them (a larger set of
    candidates only lowers the target by a rad each and raises the level)."""
    u = level(cands, max(0, due - len(cands)))
    return u is not None and u <= next_start


# ---------------------------------------------------------------- the role's reach (issue 72)
#
# `deleverage` checks each charge against its vault's window (at most the share it has left of
# its headroom) and the call against the due, never the level rule: a vault left out of every
# call pays nothing, and a listed vault pays any share its caller gives it, up to its window's.
# No rule over the listed vaults could change that: a vault never listed is invisible to the
# contract (the tie of finding 63-2), and a rule within one call is met by calls of one vault
# each (the split of finding 45-2). So a holder of the DELEVERAGE role that ignores the rule
# chooses who pays, within the caps; `reach` states, per due, what that choice can move.


@dataclass(frozen=True)
class Reach:
    """What a DELEVERAGE holder that ignores the level rule can do with one due [rad, exact],
    against the rule, for the vaults it spares (its own, its friends') and the others: each
    candidate's charge under the level rule (`level`) and the most any call can charge it now
    (`cap`: its headroom x its window's share left, (max fraction - used) x (C x s / (1 +
    buffer) - M))."""

    due: int  # rad
    spared: frozenset[str]
    level: Mapping[str, Fraction]  # owner -> its charge under the level rule [rad]
    cap: Mapping[str, Fraction]  # owner -> the most a call charges it now [rad]

    @property
    def saved(self) -> Fraction:
        """What the spared vaults do not pay: their charges under the rule."""
        return sum((self.level[o] for o in self.spared if o in self.level), Fraction(0))

    @property
    def others_room(self) -> Fraction:
        """The most the other vaults can be charged now: their caps."""
        return sum((c for o, c in self.cap.items() if o not in self.spared), Fraction(0))

    @property
    def moved(self) -> Fraction:
        """The most of `saved` the others can be made to pay beyond their charges under the
        rule: min(due, others_room) - (what the rule charges them); at most `saved`."""
        theirs = sum((c for o, c in self.level.items() if o not in self.spared), Fraction(0))
        return min(Fraction(self.due), self.others_room) - theirs

    @property
    def parked(self) -> Fraction:
        """The rest of `saved`: left due (the Backstop's bad debt, until a later window or
        governance's release to the debt auction)."""
        return self.saved - self.moved

    def extra(self, owner: str) -> Fraction:
        """The most one other vault can be charged now beyond its charge under the rule: its
        cap less that charge (its whole cap where the rule charges it nothing)."""
        return self.cap[owner] - self.level[owner]


def reach(cands: list[Candidate], due: int, spared: Iterable[str]) -> Reach:
    """The Reach of a rule-ignoring holder sparing `spared` over the candidates of one round
    (`candidates`, strongest first) and `due` [rad]: the level rule at the due exactly (every
    cap where the caps add up to less), and each candidate's cap."""
    u = level(cands, due)
    return Reach(
        due,
        frozenset(spared),
        {c.owner: c.cap if u is None else c.charge(u) for c in cands},
        {c.owner: c.cap for c in cands},
    )
