"""The outside venue's price curve (the square-root law of market impact), in integer math: the
one home of the formula that the lab's venue (offchain/sim/market/venue.py, every caller's
market room) and the on-chain venue's twin (offchain/model/outside_venue.py, of
contracts/OutsideVenue.vy) both compute, to the wei.

The marginal price after an effective flow Q (tokens, sales positive) is F x (1 - c x sign(Q) x
sqrt(|Q|)), with c = num / WAD / root_v per square root of a token (num = Y x sigma [wad x wad],
root_v = sqrt(V) [wad]). A trade of x tokens (signed) from Q0 receives

    F x (x - c x 2/3 x (h(Q0 + x) - h(Q0))),   h(Q) = |Q|^(3/2)

never less than 0 for a sale and never a price below FLOOR x F for what the curve would price
below it (a sale that reaches the floor is `floored`). Every rounding is against the trader: the
cost rounds up, the value down."""

from __future__ import annotations

import math

from offchain.model.fixed_point import WAD

__all__ = ["FLOOR", "h", "isqrt_wad", "sale_bound", "walk"]

# the lowest price the curve gives, as a share of the fundamental [wad]: a sale that would walk
# below it takes this price for the rest (the square-root law is measured far above it)
FLOOR = WAD // 20
# a floor quantity whose square root reaches this is beyond any flow a venue takes (no floor:
# OutsideVenue.vy bounds flows below 2**100, so that its products fit 256 bits)
MAX_FLOOR_ROOT = 2**100
NO_FLOOR = 2**200


def isqrt_wad(x: int) -> int:
    """sqrt(x) for a wad-scaled x >= 0, wad-scaled, rounded down."""
    return math.isqrt(x * WAD)


def h(q: int) -> int:
    """|q|^(3/2) for a wad-scaled q, wad-scaled, rounded down: the antiderivative of
    3/2 sign(q) sqrt(|q|), so the curve's cost from Q0 to Q1 is c x 2/3 x (h(Q1) - h(Q0))."""
    a = abs(q)
    return a * isqrt_wad(a) // WAD


def walk(q0: int, tokens: int, num: int, root_v: int, fundamental: int) -> tuple[int, int]:
    """(value [stablecoin, wad; negative: paid], floored: 0 or 1) of a trade of `tokens` [wad,
    signed: + sells to the venue] from the effective flow `q0` [signed tokens, wad], on a curve
    of coefficient `num` [wad x wad] over `root_v` [wad], at the fundamental price `fundamental`
    [stablecoin per token, wad]. With no depth (num or root_v 0) a trade gets the fundamental."""
    if tokens == 0:
        return 0, 0
    if root_v == 0 or num == 0:
        return tokens * fundamental // WAD, 0
    # the quantity where the marginal price reaches the floor: c sqrt(Q) = 1 - FLOOR
    # (Q = ((1 - FLOOR) / c)^2, c = num / WAD / root_v per sqrt(token))
    floor_root = (WAD - FLOOR) * root_v * WAD // num
    q_floor = floor_root**2 // WAD if floor_root < MAX_FLOOR_ROOT else NO_FLOOR
    floored = 0
    end = q0 + tokens
    curve_end = end
    if tokens > 0 and end > q_floor:
        curve_end = max(q_floor, q0)
        floored = 1
    # tokens walked on the curve, and the cost of the walk in tokens' worth
    walked = curve_end - q0
    # rounded up (a sale receives less, a purchase pays more: the venue never loses a wei)
    cost = -(-2 * num * (h(curve_end) - h(q0)) // (3 * WAD * root_v))
    value_tokens = walked - cost  # token-equivalents at the fundamental
    value = value_tokens * fundamental // WAD  # rounded down, for either sign
    if floored:
        value += (end - curve_end) * fundamental * FLOOR // (WAD * WAD)
    if tokens > 0:
        value = max(value, 0)
    return value, floored


def sale_bound(q: int, num: int, root_v: int, fundamental: int) -> tuple[int, int]:
    """(per_token [stablecoin per token, wad], constant [stablecoin, wad]): no sale of x tokens
    [wad] from the effective flow `q` [signed tokens, wad] is paid more than x x per_token / WAD
    + constant by `walk`. The curve falls as the flow grows, so a sale brings at most x at its
    marginal price at `q` (F x (1 - c x sign(q) sqrt(|q|)), at least the floor price); `walk`
    rounds its 3/2 powers down, which can lower a sale's cost by 2 num / (3 WAD root_v) x
    (|q + x| / WAD + 1) tokens: the rest of each term. A keeper's bound on what a sale can
    bring, before it walks the curve (offchain/sim/strategies/taker.py)."""
    if root_v == 0 or num == 0:
        return fundamental + 1, 1
    top = fundamental
    if q > 0:
        # the impact, rounded down (the price up), at most the floor's
        impact = min(num * isqrt_wad(q) // (WAD * root_v), WAD - FLOOR)
        top = -(-fundamental * (WAD - impact) // WAD)
    elif q < 0:
        # a flow the venue bought: the price above the fundamental, the impact rounded up
        impact = -(-num * (isqrt_wad(-q) + 1) // (WAD * root_v))
        top = -(-fundamental * (WAD + impact) // WAD)
    # the 3/2 powers' rounding: x x slope / WAD + (|q| / WAD + 1) x slope, slope = 2 num F /
    # (3 WAD^2 root_v) [stablecoin per token, wad]
    denominator = 3 * WAD * WAD * root_v
    slope = -(-2 * num * fundamental // denominator)
    constant = -(-2 * num * fundamental * (abs(q) // WAD + 2) // denominator) + 1
    return top + slope, constant
