# pragma version ~=0.4.3
"""
@title size_margin
@notice Size-aware margin, written once for the VaultEngine (the safety check) and the
        Liquidator (the liquidation trigger and the cut of a vault unsafe by its size alone:
        least_cure, issue 45). The off-chain twin is offchain/model/size_margin.py.
@dev A type's liquidation ratio rises with a vault's debt above a threshold: a vault is safe
     when margin_debt(debt) <= collateral x safe_price, where
       margin_debt(debt) = ceil(debt x (1e6 + extra) / 1e6)              [rad]
       extra = min(cap, ceil(slope x (debt - threshold) / threshold))    [ppm]
     for a debt above the threshold, and the debt itself at or below it. So the liquidation
     ratio of a vault with debt D is base ratio x (1 + extra / 1e6): `slope` ppm more for each
     further threshold of debt, at most `cap` ppm more. Both roundings are up (a vault is
     judged riskier, never safer). The three parameters are packed in 96 bits:
       threshold [whole stablecoin units, 48 bits] << 48 | slope [ppm] << 24 | cap [ppm]
     0 means "no size margin" (the base ratio for every size). The VaultEngine keeps the word
     in the top 96 bits of a type's safe-price slot, so a vault's safety check reads one slot as
     before, and a vault at or below the threshold pays a comparison.
     Splitting a position over many vaults evades the rule (each part is judged on its own
     size): the rule prices concentration in one vault, it cannot see owners.
"""
from . import constants
from . import penalty_grid

PPM: constant(uint256) = 10**6
# bounds (the setter refuses more): the ratio rises at most 100% per threshold and at most
# doubles
MAX_SLOPE: constant(uint256) = PPM
MAX_CAP: constant(uint256) = PPM
MAX_THRESHOLD: constant(uint256) = 2**48 - 1
THRESHOLD_SHIFT: constant(uint256) = 48
SLOPE_SHIFT: constant(uint256) = 24
FIELD_MASK: constant(uint256) = 2**24 - 1
# a size cut leaves its remainder this far above its own requirement [ppm of the requirement]:
# 1% absorbs ln(1.01) / fee of fees: about 61 days at the devnet ETH-A's highest fee (2% a
# year x 3), 9 days at 50% a year, 36 hours at FeeAccumulator's highest base fee (1000% a
# year), 3.6 hours at that x the highest multiplier (docs/size-margin.md)
CUT_SPARE: constant(uint256) = 10_000
# least_cure's bracket around its closed-form guess, either side, beyond the collateral's
# rounding grain [wei of normalized debt]
GUESS_MARGIN: constant(uint256) = 256


@pure
@internal
def pack(threshold: uint256, slope: uint256, cap: uint256) -> uint256:
    """
    @dev The packed word of valid parameters: all three 0 (off), or threshold in
         [1, 2**48 - 1], slope in [1, MAX_SLOPE] and cap in [1, MAX_CAP].
    """
    if threshold == 0 and slope == 0 and cap == 0:
        return 0
    assert threshold != 0 and threshold <= MAX_THRESHOLD, "size margin: bad threshold"
    assert slope != 0 and slope <= MAX_SLOPE, "size margin: bad slope"
    assert cap != 0 and cap <= MAX_CAP, "size margin: bad cap"
    return threshold << THRESHOLD_SHIFT | slope << SLOPE_SHIFT | cap


@pure
@internal
def margin_debt(debt: uint256, size: uint256) -> uint256:
    """
    @dev `debt` [rad] weighted by the size rule of the packed word `size` (see the module
         docstring); `debt` itself when `size` is 0 or the debt is at or below the threshold.
    """
    if size == 0:
        return debt
    threshold: uint256 = (size >> THRESHOLD_SHIFT) * constants.RAD
    if debt <= threshold:
        return debt
    slope: uint256 = (size >> SLOPE_SHIFT) & FIELD_MASK
    # ceil(slope x (debt - threshold) / threshold), capped
    excess: uint256 = slope * unsafe_sub(debt, threshold)
    extra: uint256 = min(
        size & FIELD_MASK,
        unsafe_add(excess // threshold, convert(excess % threshold != 0, uint256)),
    )
    product: uint256 = debt * (PPM + extra)
    return unsafe_add(product // PPM, convert(product % PPM != 0, uint256))


@pure
@internal
def cut_collateral(debt: uint256, penalty: uint256, safe_price: uint256) -> uint256:
    """
    @dev The collateral [wad] a size cut of `debt` [rad] seizes: worth its tab (the debt x
         `penalty` [wad], penalty_grid's ceil) at `safe_price` [ray], rounded up (the auction
         never holds less than the tab at the engine's price).
    """
    tab: uint256 = penalty_grid.to_raise(debt, penalty)
    return unsafe_add(tab // safe_price, convert(tab % safe_price != 0, uint256))


@pure
@internal
def cures(
    collateral: uint256,
    normalized_debt: uint256,
    cut: uint256,
    rate: uint256,
    safe_price: uint256,
    penalty: uint256,
    size: uint256,
) -> bool:
    """
    @dev Whether seizing `cut` [wad of normalized debt] with cut_collateral leaves a vault
         (`collateral` [wad], `normalized_debt` [wad]) with collateral, and safe at its own size
         with CUT_SPARE to spare: value >= need + ceil(need x CUT_SPARE / 1e6), need =
         margin_debt(remainder). `cut` is below `normalized_debt` (the caller's bracket).
    """
    out: uint256 = self.cut_collateral(cut * rate, penalty, safe_price)
    if out >= collateral:
        return False
    need: uint256 = self.margin_debt(unsafe_sub(normalized_debt, cut) * rate, size)
    # rounds up: the spare is never short
    spare: uint256 = need * CUT_SPARE
    need = unsafe_add(need, unsafe_add(spare // PPM, convert(spare % PPM != 0, uint256)))
    return unsafe_sub(collateral, out) * safe_price >= need


@pure
@internal
def peak_debt(size: uint256, penalty: uint256) -> uint256:
    """
    @dev The remainder debt [rad] below which a further size cut no longer helps: where the
         requirement (with the spare) falls by the penalty per unit of debt cut, T/2 x (1 +
         (penalty / (1 + spare) - 1) / slope) in the sloped region, T when the requirement's
         slope just above T is already below the penalty, 0 when the penalty is at most 1 +
         spare (every cut helps). Above it a larger cut always helps more (the requirement falls
         faster than the tab-worth collateral), so `cures` is monotone in the cut there.
         Rounded up to a whole stablecoin (the bracket stays inside that region).
    """
    base: uint256 = constants.WAD * (PPM + CUT_SPARE)
    if penalty * PPM <= base:
        return 0
    slope: uint256 = (size >> SLOPE_SHIFT) & FIELD_MASK
    # penalty x 1e12 - base x (1e6 - slope) > 0 (penalty x 1e6 > base, slope <= 1e6)
    num: uint256 = penalty * PPM * PPM - base * (PPM - slope)
    den: uint256 = 2 * base * slope
    threshold: uint256 = size >> THRESHOLD_SHIFT
    if num <= den:
        return threshold * constants.RAD
    # threshold < 2**48 and num < 2**102: no overflow; rounds up
    q: uint256 = threshold * num
    return unsafe_add(q // den, convert(q % den != 0, uint256)) * constants.RAD


@pure
@internal
def cap_region_guess(
    collateral: uint256,
    normalized_debt: uint256,
    rate: uint256,
    safe_price: uint256,
    penalty: uint256,
    size: uint256,
) -> (uint256, uint256):
    """
    @dev The cure [wad of normalized debt] if its remainder keeps the capped extra, without
         rounding: (D x F - value) / (rate x (F - penalty)), F = (1 + cap) x (1 + spare), and
         the window around it [wad] that covers the rounding: twice the debt whose net cure is
         worth one wei of collateral (the seized collateral rounds up to whole wei, so
         `cures` is not monotone within that grain), plus GUESS_MARGIN. (0, 0) when cutting
         does not help there (F <= penalty) or the figures are out of range. Only a guess:
         least_cure checks it.
    """
    factor: uint256 = (PPM + (size & FIELD_MASK)) * (PPM + CUT_SPARE)
    if factor * constants.WAD <= penalty * PPM * PPM:
        return 0, 0
    debt: uint256 = normalized_debt * rate
    if debt > 2**200:
        return 0, 0
    need: uint256 = debt * factor // (PPM * PPM)
    value: uint256 = collateral * safe_price
    if need <= value:
        return 0, 0
    # rad of net cure per wei of normalized debt cut (factor x WAD > penalty x 1e12)
    per_wei: uint256 = rate * unsafe_sub(factor * constants.WAD, penalty * PPM * PPM) // (
        PPM * PPM * constants.WAD
    )
    if per_wei == 0:
        return 0, 0
    return unsafe_sub(need, value) // per_wei, 2 * safe_price // per_wei + GUESS_MARGIN


@pure
@internal
def least_cure(
    collateral: uint256,
    normalized_debt: uint256,
    rate: uint256,
    safe_price: uint256,
    dust: uint256,
    penalty: uint256,
    size: uint256,
) -> uint256:
    """
    @dev For a vault safe at the base ratio but unsafe at its own size (`size` not 0): the least
         normalized debt [wad] whose cut (with cut_collateral) `cures` it, at least the dust,
         leaving a remainder of at least the dust and of peak_debt; 0 when none (refused). A
         bisection over the cuts between the dust and the largest such remainder's, where
         `cures` is monotone: at most 256 steps (in practice log2 of the vault's normalized
         debt); the answer cures and the cut one wei less does not (or it is the dust's).
    """
    lo: uint256 = max(unsafe_add(dust // rate, convert(dust % rate != 0, uint256)), 1)
    lowest: uint256 = max(dust, self.peak_debt(size, penalty))
    kept: uint256 = max(unsafe_add(lowest // rate, convert(lowest % rate != 0, uint256)), 1)
    if kept >= normalized_debt:
        return 0
    hi: uint256 = unsafe_sub(normalized_debt, kept)
    if hi < lo or not self.cures(collateral, normalized_debt, hi, rate, safe_price, penalty, size):
        return 0
    if self.cures(collateral, normalized_debt, lo, rate, safe_price, penalty, size):
        return lo
    # past the knee (extra = cap) the cure is linear: its closed form narrows the bracket to
    # `window` either side when the checks agree (each narrowing keeps cures(hi), not
    # cures(lo), and lo < hi); the bisection then takes about log2(2 x window) steps, not
    # log2(debt)
    guess: uint256 = 0
    window: uint256 = 0
    guess, window = self.cap_region_guess(
        collateral, normalized_debt, rate, safe_price, penalty, size
    )
    if guess != 0:
        if guess + window < hi and self.cures(
            collateral, normalized_debt, guess + window, rate, safe_price, penalty, size
        ):
            hi = guess + window
        if (
            guess > lo + window
            and guess - window < hi
            and not self.cures(
                collateral, normalized_debt, guess - window, rate, safe_price, penalty, size
            )
        ):
            lo = guess - window
    for _: uint256 in range(256):
        # cures(hi), not cures(lo): halve until adjacent
        if unsafe_sub(hi, lo) <= 1:
            break
        mid: uint256 = unsafe_add(lo, unsafe_sub(hi, lo) >> 1)
        if self.cures(collateral, normalized_debt, mid, rate, safe_price, penalty, size):
            hi = mid
        else:
            lo = mid
    return hi
