# pragma version ~=0.4.3
"""
@title price_curves
@notice How a Dutch auction's price falls from its start price `top` as time passes. Three
        shapes (dss abaci): linear to zero over `duration` seconds; stair-step exponential, a
        factor `cut` every `step` seconds; exponential, a factor `cut` every second.
@dev Prices round up (the protocol sells collateral: a higher price gives less of it away).
     The off-chain twin is offchain/model/price_curves.py.
"""
from . import fixed_point
from . import constants

LINEAR: constant(uint256) = 0
STAIRSTEP: constant(uint256) = 1
EXPONENTIAL: constant(uint256) = 2


struct Curve:
    # LINEAR, STAIRSTEP or EXPONENTIAL
    kind: uint256
    # LINEAR: seconds from top to zero
    duration: uint256
    # STAIRSTEP: seconds per step
    step: uint256
    # STAIRSTEP: factor per step; EXPONENTIAL: factor per second [ray], < 1 ray
    cut: uint256


@pure
@internal
def validate(curve: Curve):
    """
    @dev Reverts unless the curve's parameters describe a falling price.
    """
    assert curve.kind <= EXPONENTIAL, "curve: unknown kind"
    if curve.kind == LINEAR:
        assert curve.duration != 0, "curve: zero duration"
    else:
        assert curve.cut < constants.RAY, "curve: cut not below 1"
        if curve.kind == STAIRSTEP:
            assert curve.step != 0, "curve: zero step"


@pure
@internal
def price(curve: Curve, top: uint256, elapsed: uint256) -> uint256:
    """
    @dev The price `elapsed` seconds after the start [ray], rounded up.
    """
    if curve.kind == LINEAR:
        if elapsed >= curve.duration:
            return 0
        return fixed_point.div_up(top * (curve.duration - elapsed), curve.duration)
    if curve.kind == STAIRSTEP:
        return fixed_point.rmul_up(top, fixed_point.rpow_up(curve.cut, elapsed // curve.step))
    return fixed_point.rmul_up(top, fixed_point.rpow_up(curve.cut, elapsed))
