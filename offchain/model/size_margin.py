"""Twin of contracts/modules/size_margin.vy: size-aware margin, for the VaultEngine's safety
check and the Liquidator's trigger and cut (the module docstring has the rule)."""

from __future__ import annotations

from typing import NamedTuple

from offchain.model.errors import require
from offchain.model.fixed_point import RAD, WAD, amount_to_raise, div_up, u256

PPM = 10**6
MAX_SLOPE = PPM
MAX_CAP = PPM
MAX_THRESHOLD = 2**48 - 1
THRESHOLD_SHIFT = 48
SLOPE_SHIFT = 24
FIELD_MASK = 2**24 - 1
# a size cut leaves its remainder this far above its own requirement [ppm of the requirement]
CUT_SPARE = 10_000
# least_cure's bracket around its closed-form guess, either side, beyond the collateral's
# rounding grain [wei of normalized debt]
GUESS_MARGIN = 256


def pack(threshold: int, slope: int, cap: int) -> int:
    """The packed word of valid parameters (all 0: off)."""
    if threshold == 0 and slope == 0 and cap == 0:
        return 0
    require(threshold != 0 and threshold <= MAX_THRESHOLD, "size margin: bad threshold")
    require(slope != 0 and slope <= MAX_SLOPE, "size margin: bad slope")
    require(cap != 0 and cap <= MAX_CAP, "size margin: bad cap")
    return threshold << THRESHOLD_SHIFT | slope << SLOPE_SHIFT | cap


def unpack(size: int) -> tuple[int, int, int]:
    """(threshold [whole stablecoin units], slope [ppm], cap [ppm]) of a packed word."""
    return size >> THRESHOLD_SHIFT, (size >> SLOPE_SHIFT) & FIELD_MASK, size & FIELD_MASK


def margin_debt(debt: int, size: int) -> int:
    """`debt` [rad] weighted by the size rule: ceil(debt x (1e6 + extra) / 1e6), extra =
    min(cap, ceil(slope x (debt - threshold) / threshold)) above the threshold."""
    if size == 0:
        return debt
    threshold = (size >> THRESHOLD_SHIFT) * RAD
    if debt <= threshold:
        return debt
    excess = u256(((size >> SLOPE_SHIFT) & FIELD_MASK) * (debt - threshold))
    extra = min(size & FIELD_MASK, -(-excess // threshold))
    return -(-u256(debt * (PPM + extra)) // PPM)


def cut_collateral(debt: int, penalty: int, safe_price: int) -> int:
    """The collateral [wad] a size cut of `debt` [rad] seizes: its tab (debt x penalty, rounded
    up) at the safe price, rounded up."""
    return div_up(amount_to_raise(debt, penalty), safe_price)


def cures(
    collateral: int,
    normalized_debt: int,
    cut: int,
    rate: int,
    safe_price: int,
    penalty: int,
    size: int,
) -> bool:
    """Whether seizing `cut` [wad of normalized debt] with cut_collateral leaves the vault with
    collateral and safe at its own size with CUT_SPARE to spare (`cut` < normalized_debt)."""
    out = cut_collateral(u256(cut * rate), penalty, safe_price)
    if out >= collateral:
        return False
    need = margin_debt(u256((normalized_debt - cut) * rate), size)
    need = need + -(-u256(need * CUT_SPARE) // PPM)
    return u256((collateral - out) * safe_price) >= need


def peak_debt(size: int, penalty: int) -> int:
    """The remainder debt [rad] below which a further size cut no longer helps (size_margin.vy
    peak_debt): 0 when the penalty is at most 1 + spare, else max(T, T/2 x (1 + (penalty /
    (1 + spare) - 1) / slope)) rounded up to a whole stablecoin."""
    base = WAD * (PPM + CUT_SPARE)
    if penalty * PPM <= base:
        return 0
    slope = (size >> SLOPE_SHIFT) & FIELD_MASK
    num = penalty * PPM * PPM - base * (PPM - slope)
    den = 2 * base * slope
    threshold = size >> THRESHOLD_SHIFT
    if num <= den:
        return threshold * RAD
    return div_up(threshold * num, den) * RAD


def cap_region_guess(
    collateral: int, normalized_debt: int, rate: int, safe_price: int, penalty: int, size: int
) -> tuple[int, int]:
    """The cure if its remainder keeps the capped extra, without rounding, and the window around
    it covering the collateral's rounding grain (size_margin.vy cap_region_guess): (D x F -
    value) / (rate x (F - penalty)), F = (1 + cap)(1 + spare); (0, 0) when cutting does not help
    there or the figures are out of range. least_cure checks it."""
    factor = (PPM + (size & FIELD_MASK)) * (PPM + CUT_SPARE)
    if factor * WAD <= penalty * PPM * PPM:
        return 0, 0
    debt = u256(normalized_debt * rate)
    if debt > 2**200:
        return 0, 0
    need = debt * factor // (PPM * PPM)
    value = u256(collateral * safe_price)
    if need <= value:
        return 0, 0
    per_wei = rate * (factor * WAD - penalty * PPM * PPM) // (PPM * PPM * WAD)
    if per_wei == 0:
        return 0, 0
    return (need - value) // per_wei, 2 * safe_price // per_wei + GUESS_MARGIN


def least_cure(
    *,
    collateral: int,
    normalized_debt: int,
    rate: int,
    safe_price: int,
    dust: int,
    penalty: int,
    size: int,
) -> int:
    """The one home of the size cut (size_margin.vy least_cure): for a vault safe at the base
    ratio but unsafe at its own size, the least normalized debt [wad] (at least the dust) whose
    cut with cut_collateral `cures` it, leaving at least the dust and peak_debt; 0 when none.
    A bisection where `cures` is monotone (the answer cures, one wei less does not)."""
    lo = max(div_up(dust, rate), 1)
    lowest = max(dust, peak_debt(size, penalty))
    kept = max(div_up(lowest, rate), 1)
    if kept >= normalized_debt:
        return 0

    def ok(cut: int) -> bool:
        return cures(collateral, normalized_debt, cut, rate, safe_price, penalty, size)

    hi = normalized_debt - kept
    if hi < lo or not ok(hi):
        return 0
    if ok(lo):
        return lo
    guess, window = cap_region_guess(collateral, normalized_debt, rate, safe_price, penalty, size)
    if guess != 0:
        if guess + window < hi and ok(guess + window):
            hi = guess + window
        if guess > lo + window and guess - window < hi and not ok(guess - window):
            lo = guess - window
    for _ in range(256):
        if hi - lo <= 1:
            break
        mid = lo + ((hi - lo) >> 1)
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


class SizeCut(NamedTuple):
    """A size cut as the Liquidator seizes it."""

    normalized_debt: int  # wad
    collateral: int  # wad


def size_cut(
    *,
    collateral: int,
    normalized_debt: int,
    rate: int,
    safe_price: int,
    dust: int,
    penalty: int,
    size: int,
    allowed: int,
) -> SizeCut | None:
    """Liquidator.vy's size cut (in _liquidate) for a vault safe at the base ratio (the caller
    checks it): the least cure, or the caps' `allowed` [wad] when less, with the collateral
    worth its tab; None when no cut cures it (the Liquidator refuses a vault under two dusts,
    "liquidator: no size cut", and liquidates a larger one as without a size margin)."""
    cut = least_cure(
        collateral=collateral,
        normalized_debt=normalized_debt,
        rate=rate,
        safe_price=safe_price,
        dust=dust,
        penalty=penalty,
        size=size,
    )
    if cut == 0:
        return None
    cut = min(cut, allowed)
    return SizeCut(cut, cut_collateral(u256(cut * rate), penalty, safe_price))
