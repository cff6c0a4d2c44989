# pragma version ~=0.4.3
"""
@title penalty_grid
@notice The liquidation penalty's grid and what an auction must raise, written once for the
        Liquidator (which starts an auction with it) and the Backstop (which records the
        auction's loss event and recomputes the amount from the event's packed word). The
        off-chain model's twin is `amount_to_raise` (and PENALTY_STEP) in
        offchain/model/fixed_point.py; its Backstop keeps the amount instead of recomputing it.
"""
from . import constants

# penalties [wad] are 1 wad plus a whole number of steps of 1e-7: the Liquidator refuses
# others, and the Backstop keeps a running loss event's penalty as its number of steps
STEP: constant(uint256) = 10**11


@pure
@internal
def to_raise(debt: uint256, penalty: uint256) -> uint256:
    """
    @dev What an auction for `debt` [rad] must raise under `penalty` [wad]:
         ceil(debt x penalty / WAD) [rad]. Rounds up: the penalty is never under-charged.
    """
    # fixed_point.div_up's rounding, written out for the constant divisor: this sits on the
    # liquidation and take paths, where a nested call costs more than the arithmetic
    product: uint256 = debt * penalty
    return unsafe_add(product // constants.WAD, convert(product % constants.WAD != 0, uint256))


@pure
@internal
def from_steps(steps: uint256) -> uint256:
    """
    @dev The penalty [wad] `steps` grid steps above 1 wad.
    """
    return constants.WAD + steps * STEP
