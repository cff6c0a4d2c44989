"""Twin of contracts/modules/size_margin.vy: size-aware margin, for the VaultEngine's safety
check and the Liquidator's trigger and cut (the module docstring has the rule)."""

from __future__ import annotations

from offchain.model.errors import require
from offchain.model.fixed_point import RAD, u256

PPM = 10**6
MAX_SLOPE = PPM
MAX_CAP = PPM
MAX_THRESHOLD = 2**48 - 1
THRESHOLD_SHIFT = 48
SLOPE_SHIFT = 24
FIELD_MASK = 2**24 - 1


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


def kept_debt(debt: int, headroom: int, size: int) -> int:
    """The largest debt [rad] a vault unsafe by its size alone keeps after the Liquidator's cut,
    one ppm to spare: threshold + threshold x (floor(headroom x 1e6 / debt) - 1) / slope."""
    threshold = (size >> THRESHOLD_SHIFT) * RAD
    spare = u256(headroom * PPM) // debt
    if spare < 2:
        return threshold
    return u256(threshold + u256(threshold * (spare - 1)) // ((size >> SLOPE_SHIFT) & FIELD_MASK))
