"""MarginCall tests' constants, readers and steps (tests/contracts/margin_call/).

A soft liquidation moves value two ways at once: the caller's internal stablecoin repays part of
the owner's vault debt (normalized debt x rate), and the vault's collateral worth that debt x
(1 + bonus) at the exchange price (the highest of the oracle's current, queued and latest
prices), rounded down, goes to the caller's free balance. Every expected number here is written
from the contract's docstring with plain integer arithmetic (tests/helpers.py), not the twin's.
"""

from __future__ import annotations

from helpers import ceil_div

from offchain.model.fixed_point import RAD, RAY, WAD

# config/devnet.toml's margin_* keys (the schema's defaults), both types
WARNING = 12 * RAY // 10
BONUS = 2 * WAD // 100
CLOSE_FACTOR = WAD // 2
# contracts/MarginCall.vy bounds
MAX_WARNING = 3 * RAY // 2
MAX_BONUS = WAD // 20
MAX_CLOSE_FACTOR = WAD // 2
# config/devnet.toml: ETH-A at 2,000 BUSD, liquidation ratio 1.5, dust 2,500 BUSD
ETH_PRICE = 2_000 * WAD
RATIO = 15 * RAY // 10
DUST = 2_500 * RAD
NEW_TYPE = b"NEW-A".ljust(32, b"\0")


def rate(system, t) -> int:
    return system.view(system.d.engine, "collateral_types", t.type_id)[1]


def vault(system, t, owner) -> tuple[int, int]:
    """(collateral [wad], normalized debt [wad])."""
    return tuple(system.view(system.d.engine, "vaults", t.type_id, owner))


def safe_price_at(price: int, ratio: int = RATIO) -> int:
    """floor(price / ratio) [ray], what Spotter.poke sets."""
    return price * 10**9 * RAY // ratio


def called(collateral: int, debt: int, safe_price: int, warning: int = WARNING) -> bool:
    """Safe at the ratio, below the warning level: debt <= value < ceil(debt x warning)."""
    value = collateral * safe_price
    return debt <= value < ceil_div(debt * warning, RAY)


def collateral_out(debt: int, price: int, bonus: int = BONUS) -> int:
    """floor(debt x (1 + bonus) / price) [wad] for debt [rad] and price [wad]."""
    return debt * (WAD + bonus) // (price * 10**9 * WAD)


def stable_for(system, who: str, amount: int) -> None:
    """`who` draws `amount` [wad of normalized debt] from a WBTC vault of its own (far from any
    call) and allows the MarginCall to take its stablecoin in the engine."""
    system.open_vault(who, "WBTC-A", 10 * WAD, amount)
    system.tx(system.d.engine, "allow", who, system.d.margin_call)


def consent(system, owner: str) -> None:
    """The owner opts in and allows the MarginCall in the engine: both consents."""
    system.tx(system.d.margin_call, "opt_in", owner)
    system.tx(system.d.engine, "allow", owner, system.d.margin_call)


def called_vault(system, owner: str, collateral: int = 10 * WAD, debt: int = 12_000 * WAD) -> None:
    """An ETH-A vault at collateral value / debt = 20,000 / 12,000 = 1.67: safe at 1.5, called
    below 1.5 x 1.2 = 1.8, its owner consenting."""
    system.open_vault(owner, "ETH-A", collateral, debt)
    consent(system, owner)


# contracts/MarginCall.vy: how far past the least cure a call may repay (1 bp of the repayment)
CURE_TOLERANCE = WAD // 10_000


def cure_step(n: int) -> int:
    """max(1, floor(n x 1 bp)): how much less than a repayment must not cure the vault."""
    return max(1, n * CURE_TOLERANCE // WAD)


def cures(
    collateral: int,
    normalized: int,
    n: int,
    rt: int,
    safe_price: int,
    price: int,
    warning: int = WARNING,
    bonus: int = BONUS,
) -> bool:
    """Repaying `n` of a vault (no size margin) at exchange price `price` lifts it to its
    warning level or above: ceil((normalized - n) x rate x warning / RAY) <= (collateral -
    collateral out) x safe price."""
    out = collateral_out(n * rt, price, bonus)
    return out <= collateral and ceil_div((normalized - n) * rt * warning, RAY) <= (
        (collateral - out) * safe_price
    )


def least_cure(
    system, t, owner, price: int = ETH_PRICE, safe_price: int | None = None, bonus: int = BONUS
) -> int:
    """The least normalized debt whose soft liquidation lifts `owner`'s vault to its warning
    level at exchange price `price` (the safe price that of ETH_PRICE unless given), found by
    bisection over `cures` (which is monotone in n at these parameters)."""
    collateral, normalized = vault(system, t, owner)
    rt = rate(system, t)
    spot = safe_price if safe_price is not None else safe_price_at(ETH_PRICE)
    low, high = 0, normalized  # cures(high): the whole debt repaid
    assert cures(collateral, normalized, high, rt, spot, price, bonus=bonus)
    while high - low > 1:
        mid = (low + high) // 2
        if cures(collateral, normalized, mid, rt, spot, price, bonus=bonus):
            high = mid
        else:
            low = mid
    return high
