"""The specification's arithmetic of auction curves and fees, written plainly (exact rationals,
ceil/floor by hand), never through the model's fixed_point or price_curves: the exact curve price
rounded up once (`exact_curve_ceil`), the curve price as the contract rounds it (`curve_price_up`,
`curve_price_problem`), FeeAccumulator.vy's effective fee and its compounding (`effective_fee`,
`power_up`), and the size-aware margin (`margin_debt`, `size_cut`)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from offchain.model.fixed_point import RAY, WAD
from offchain.model.price_curves import LINEAR, STAIRSTEP


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


def curve(contract: Any) -> tuple[int, int, int, int]:
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


def margin_debt(debt: int, size: tuple[int, int, int]) -> int:
    """A debt [rad] weighted by a size margin (threshold [whole units], slope [ppm], cap [ppm]),
    as contracts/modules/size_margin.vy states it: above the threshold the liquidation ratio is
    the base ratio x (1 + extra / 1e6), extra = min(cap, slope x (debt - threshold) / threshold)
    ppm rounded up, and the product is rounded up."""
    threshold, slope, cap = size
    limit = threshold * 10**45
    if threshold == 0 or debt <= limit:
        return debt
    extra = min(cap, ceil_div(slope * (debt - limit), limit))
    return ceil_div(debt * (10**6 + extra), 10**6)


# the spare a size cut leaves above the remainder's requirement: 1% (Liquidator.vy's bound)
CUT_SPARE = Fraction(1, 100)


def _ceil(x: Fraction) -> int:
    return -(-x.numerator // x.denominator)


def size_cut_cures(
    collateral: int, normalized: int, cut: int, rate: int, safe_price: int, penalty: int, size
) -> bool:
    """The bound's condition, in exact rationals: seizing `cut` normalized debt with collateral
    worth its tab (debt x penalty, rounded up) at the safe price, rounded up, leaves collateral,
    and a remainder whose value covers its size requirement x (1 + 1%), rounded up."""
    tab = _ceil(Fraction(cut * rate * penalty, WAD))
    out = _ceil(Fraction(tab, safe_price))
    if out >= collateral:
        return False
    need = margin_debt((normalized - cut) * rate, size)
    return (collateral - out) * safe_price >= _ceil(need * (1 + CUT_SPARE))


def size_cut_peak(size, penalty: int) -> int:
    """The remainder debt [rad] below which a further cut stops helping: d/dD of the requirement
    x (1 + spare) equals the penalty, i.e. T/2 x (1 + (penalty / (1 + spare) - 1) / slope) in the
    sloped region; T when that is below T; 0 when penalty <= 1 + spare. Rounded up to a whole
    stablecoin, as Liquidator.vy's docstring states."""
    threshold, slope, _ = size
    pen = Fraction(penalty, WAD)
    if pen <= 1 + CUT_SPARE:
        return 0
    half = (1 + (pen / (1 + CUT_SPARE) - 1) / Fraction(slope, 10**6)) / 2
    return _ceil(threshold * max(half, Fraction(1))) * 10**45


def _size_cut_bracket(
    collateral: int, normalized: int, rate: int, safe_price: int, dust: int, size, penalty: int
) -> tuple[int, int] | None:
    """The cuts a size cut may take: from the dust's to the one leaving the larger of the dust
    and the peak; None when that is empty (no cut)."""
    low = max(ceil_div(dust, rate), 1)
    kept = max(ceil_div(max(dust, size_cut_peak(size, penalty)), rate), 1)
    if kept >= normalized or normalized - kept < low:
        return None
    return low, normalized - kept


def size_cut(
    collateral: int, normalized: int, rate: int, safe_price: int, dust: int, size, penalty: int
) -> int | None:
    """A size cut of a vault unsafe by its size alone (safe at the base ratio) when the caps do
    not bind first, as the size cut's comment in Liquidator.vy's _liquidate states it: a cut
    (at least the dust) that `size_cut_cures` the vault while the cut one wei less does not, its
    remainder at least the dust and the peak; found here by halving the whole bracket (the
    Liquidator may land on another such cut within the collateral's rounding grain:
    `size_cut_problem` states what any cut must satisfy). None when the rule does not apply (no
    size margin, or unsafe at the base ratio: the caps' amount); 0 when no cut cures it ("no
    size cut")."""
    threshold = size[0]
    debt, value = normalized * rate, collateral * safe_price
    if threshold == 0 or value < debt:
        return None
    bracket = _size_cut_bracket(collateral, normalized, rate, safe_price, dust, size, penalty)
    if bracket is None:
        return 0
    low, high = bracket

    def cures(n: int) -> bool:
        return size_cut_cures(collateral, normalized, n, rate, safe_price, penalty, size)

    if not cures(high):
        return 0
    if cures(low):
        return low
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if cures(middle) else (middle, high)
    return high


def size_cut_problem(
    collateral: int,
    normalized: int,
    rate: int,
    safe_price: int,
    dust: int,
    size,
    penalty: int,
    allowed: int,
    seized: int,
) -> str | None:
    """The bound of a size cut (the vault safe at the base ratio, unsafe at its size, and a cut
    exists): it seizes at most the least cure, the dust where the dust binds, or the caps'
    `allowed` when less: `seized` within the bracket and at most `allowed`; the cut one wei less
    does not cure (unless it is the dust's); and it cures (leaves the remainder safe at its size
    with the 1% spare) unless the caps bound it. None when it holds."""
    bracket = _size_cut_bracket(collateral, normalized, rate, safe_price, dust, size, penalty)
    if bracket is None:
        return "a size cut where none leaves the dust and the peak"
    low, high = bracket

    def cures(n: int) -> bool:
        return size_cut_cures(collateral, normalized, n, rate, safe_price, penalty, size)

    if seized > allowed or seized > high:
        return f"size cut {seized} above the caps' {allowed} or the bracket's {high}"
    if seized < allowed:
        if seized < low:
            return f"size cut {seized} below the dust's {low}"
        if not cures(seized):
            return f"size cut {seized} leaves the vault short of its size with the spare"
    if seized > low and cures(seized - 1):
        return f"size cut {seized} is more than a cure: {seized - 1} cures too"
    return None


def size_cut_collateral(cut: int, rate: int, safe_price: int, penalty: int) -> int:
    """A size cut's collateral: its tab at the safe price, each rounded up."""
    return _ceil(Fraction(_ceil(Fraction(cut * rate * penalty, WAD)), safe_price))


def size_cut_with_caps(
    collateral: int,
    normalized: int,
    rate: int,
    safe_price: int,
    dust: int,
    size,
    penalty: int,
    allowed: int,
) -> int | None:
    """`size_cut` against the caps' amount `allowed`: the smaller of the two (0: refused)."""
    cut = size_cut(collateral, normalized, rate, safe_price, dust, size, penalty)
    if not cut:
        return cut
    return min(cut, allowed)
