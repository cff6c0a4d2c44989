"""Integer arithmetic with EVM semantics, and the fixed-point helpers of
contracts/modules/fixed_point.vy.

Every function that can overflow on chain raises `Revert(None)` here at the same point, so the
model reverts exactly where the contract does. No float or Decimal ever touches protocol state.
"""

from __future__ import annotations

from functools import lru_cache

from offchain.model.errors import Revert, require

WAD = 10**18
RAY = 10**27
RAD = 10**45
# a wad times WAD_TO_RAY is a ray (contracts/modules/constants.vy); the one definition off chain
WAD_TO_RAY = 10**9
# contracts/modules/penalty_grid.vy: liquidation penalties [wad] are multiples of 1e-7
PENALTY_STEP = 10**11
MAX_UINT256 = 2**256 - 1
MIN_INT256 = -(2**255)
MAX_INT256 = 2**255 - 1


def u256(x: int) -> int:
    """Check that `x` fits a uint256 (Vyper reverts on overflow and underflow)."""
    if x < 0 or x > MAX_UINT256:
        raise Revert(None)
    return x


def u255(x: int) -> int:
    """Check that `x` fits below 2**255: a count stored with its slot's top bit set (the
    contracts' never-empty counters) reverts on overflow there, and on underflow."""
    if x < 0 or x >= 2**255:
        raise Revert(None)
    return x


def i256(x: int) -> int:
    """Check that `x` fits an int256."""
    if x < MIN_INT256 or x > MAX_INT256:
        raise Revert(None)
    return x


def to_int256(x: int) -> int:
    """Vyper `convert(x, int256)` of a uint256."""
    return i256(x)


def to_uint256(x: int) -> int:
    """Vyper `convert(x, uint256)` of an int256: reverts if negative."""
    return u256(x)


def neg(x: int) -> int:
    """int256 negation: reverts for -2**255."""
    return i256(-x)


def add_signed(x: int, y: int) -> int:
    """VaultEngine._add: a uint256 plus an int256, reverting on under/overflow."""
    if y >= 0:
        return u256(x + y)
    return u256(x - to_uint256(neg(y)))


def sub_signed(x: int, y: int) -> int:
    """VaultEngine._sub: a uint256 minus an int256, reverting on under/overflow."""
    if y >= 0:
        return u256(x - y)
    return u256(x + to_uint256(neg(y)))


def div_up(x: int, y: int) -> int:
    """ceil(x / y) for uint256 operands."""
    require(y != 0, "math: division by zero")
    q = x // y
    if x % y != 0:
        q = u256(q + 1)
    return q


def rmul_up(x: int, y: int) -> int:
    """ceil(x * y / ray): div_up(u256(x * y), RAY) written out (every auction price is one)."""
    product = x * y
    if product < 0 or product > MAX_UINT256:
        raise Revert(None)
    return -(-product // RAY)  # ceil; q + 1 cannot overflow: q <= MAX_UINT256 // RAY


@lru_cache(
    maxsize=1 << 16
)  # pure: auctions that started together are priced at the same elapsed time
def rpow_up(x: int, n: int) -> int:
    """x ** n for a ray x, every intermediate product rounded up (binary exponentiation).
    rmul_up written inline: every auction's price is one of these, every time it is read."""
    z = RAY
    base = x
    e = n  # a uint256: at most 256 rounds, as the contract's bounded loop
    while e:
        if e & 1:
            product = z * base
            if product > MAX_UINT256:
                raise Revert(None)
            z = -(-product // RAY)
        e >>= 1
        if e:
            product = base * base
            if product > MAX_UINT256:
                raise Revert(None)
            base = -(-product // RAY)
    return z


def amount_to_raise(debt: int, penalty: int) -> int:
    """contracts/modules/penalty_grid.vy `to_raise`: what an auction for `debt` [rad] must raise
    under `penalty` [wad], ceil(debt x penalty / WAD), for the Liquidator and the Backstop."""
    return div_up(u256(debt * penalty), WAD)
