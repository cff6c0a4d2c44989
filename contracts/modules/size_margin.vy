# pragma version ~=0.4.3
"""
@title size_margin
@notice Size-aware margin, written once for the VaultEngine (the safety check) and the
        Liquidator (the liquidation trigger and the cut of a vault unsafe by its size alone).
        The off-chain twin is offchain/model/size_margin.py.
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

PPM: constant(uint256) = 10**6
# bounds (the setter refuses more): the ratio rises at most 100% per threshold and at most
# doubles
MAX_SLOPE: constant(uint256) = PPM
MAX_CAP: constant(uint256) = PPM
MAX_THRESHOLD: constant(uint256) = 2**48 - 1
THRESHOLD_SHIFT: constant(uint256) = 48
SLOPE_SHIFT: constant(uint256) = 24
FIELD_MASK: constant(uint256) = 2**24 - 1


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
def kept_debt(debt: uint256, headroom: uint256, size: uint256) -> uint256:
    """
    @dev For a vault unsafe by its size alone (its collateral carries `debt` [rad] at the base
         ratio with `headroom` [rad] to spare, and `size` is not 0): the largest debt [rad] its
         collateral, cut in proportion, carries at its own size, one ppm to spare for rounding:
           threshold + threshold x (floor(headroom x 1e6 / debt) - 1) / slope
         (the threshold itself when the headroom is under 2 ppm). The Liquidator checks the
         remainder after the cut and falls back to its usual amount when rounding left it unsafe.
    """
    threshold: uint256 = (size >> THRESHOLD_SHIFT) * constants.RAD
    spare: uint256 = headroom * PPM // debt
    if spare < 2:
        return threshold
    return threshold + threshold * unsafe_sub(spare, 1) // ((size >> SLOPE_SHIFT) & FIELD_MASK)
