# pragma version ~=0.4.3
"""
@title fixed_point
@notice Fixed-point helpers shared by the contracts. Every function names its rounding
        direction; the off-chain model (offchain/model/fixed_point.py) has the same functions.
"""
from . import constants


@pure
@internal
def div_up(x: uint256, y: uint256) -> uint256:
    """
    @dev ceil(x / y); reverts on y == 0.
    """
    assert y != 0, "math: division by zero"
    q: uint256 = x // y
    if x % y != 0:
        q += 1
    return q


@pure
@internal
def rmul_up(x: uint256, y: uint256) -> uint256:
    """
    @dev ceil(x * y / ray).
    """
    return self.div_up(x * y, constants.RAY)


@pure
@internal
def rpow_up(x: uint256, n: uint256) -> uint256:
    """
    @dev x ** n for a ray x, every intermediate product rounded up (so a compounded fee is
         never under-charged). Binary exponentiation: at most 256 squarings.
    """
    z: uint256 = constants.RAY
    base: uint256 = x
    e: uint256 = n
    for i: uint256 in range(256):
        if e == 0:
            break
        if e & 1 == 1:
            z = self.rmul_up(z, base)
        e = e >> 1
        if e != 0:
            base = self.rmul_up(base, base)
    return z
