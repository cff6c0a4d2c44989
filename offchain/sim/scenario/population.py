"""The seeded vault population of a crash replay (types.PopulationSpec -> VaultPlans), or a
book's (a scenario's `[vaults] book`: scenario/book.py), and the simulation's deterministic actor
addresses.

Determinism: the draws are floats from `random.Random(seed)` (Mersenne Twister), in a fixed
order per vault: `gauss(0, 1)` for the debt, then `triangular` for the start ratio. Each float
enters the arithmetic exactly (its binary value, via `Decimal(float)` or `as_integer_ratio()`);
the exponential is a 34-digit Decimal (decimal128's precision) in a local context and everything
else is integer math, rounded down. So the same inputs give the same plans, to the wei. (Debts
are whole stablecoins, far coarser than 34 significant digits.)
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

from sha3 import keccak_256  # safe-pysha3: a C keccak, far cheaper per hash than eth_utils' backend

from offchain.model import size_margin as sizing
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.scenario.types import PopulationSpec


def actor_address(role: str, index: int = 0) -> str:
    """A deterministic checksummed address for the `index`-th actor of `role`."""
    return _checksummed(keccak_256(f"backstop-sim/{role}/{index}".encode()).digest()[12:].hex())


def _checksummed(lower: str) -> str:
    """EIP-55, written out: eth_utils' to_checksum_address validates its input at length, and a
    population of thousands of owners made that (and eth_utils' keccak) a tenth of a model run."""
    digest = keccak_256(lower.encode()).hexdigest()
    return "0x" + "".join([c.upper() if d in "89abcdef" else c for c, d in zip(lower, digest)])


def population_role(name: str) -> str:
    """The role of a further type's vault owners (population.actor_address)."""
    return f"vault/{name}"


def type_seed(seed: int, k: int) -> int:
    """The seed of the (k+1)-th further type's path and population, from the scenario's (its
    vaults' owners are `population_role(name)`'s)."""
    return seed * 64 + k + 1


@dataclass(frozen=True)
class VaultPlan:
    """A vault to open before the first bar."""

    owner: str
    collateral: int  # [wad, a whole number of token units scaled to wad]
    debt: int  # stablecoin [wad]: drawn, a whole number of stablecoins; a book's, any wad
    # its owner opts in to soft liquidation at the set-up (MarginCall.opt_in and the engine's
    # allow of the MarginCall)
    opted_in: bool = False


def min_vault_debt(dust: int) -> int:
    """The smallest whole stablecoin amount strictly above `dust` [rad], as wad."""
    return (dust // RAD + 1) * WAD


def population_plans(
    spec: PopulationSpec,
    seed: int,
    price: int,
    token_decimals: int,
    dust: int,
    role: str = "vault",
    size: tuple[int, int, int] = (0, 0, 0),
) -> list[VaultPlan]:
    """The population's vaults: its book's (`book_plans`) when it has one, else drawn
    (`generate_vaults`, with these arguments)."""
    if spec.book is not None:
        return book_plans(spec, role)
    return generate_vaults(spec, seed, price, token_decimals, dust, role, size)


def book_plans(spec: PopulationSpec, role: str = "vault") -> list[VaultPlan]:
    """The vaults of `spec.book` (scenario/book.py), row i's amounts exactly, owned by
    `actor_address(role, i)`; the owners who opt in chosen as `generate_vaults` chooses them."""
    book = spec.book
    if book is None:
        raise ValueError("a population without a book")
    share = Fraction(spec.opt_in_share)
    return [
        VaultPlan(actor_address(role, i), collateral, debt, _opts_in(i, share))
        for i, (collateral, debt) in enumerate(zip(book.collateral, book.debt, strict=True))
    ]


def _opts_in(i: int, share: Fraction) -> bool:
    """Whether vault i's owner opts in to soft liquidation: floor(count x share) owners of a
    population, spread evenly."""
    return math.floor((i + 1) * share) > math.floor(i * share)


def generate_vaults(
    spec: PopulationSpec,
    seed: int,
    price: int,
    token_decimals: int,
    dust: int,
    role: str = "vault",
    size: tuple[int, int, int] = (0, 0, 0),
) -> list[VaultPlan]:
    """`spec.count` vaults for `seed` at the start `price` [wad of stablecoin per token].

    Vault i is owned by `actor_address(role, i)` (a further type's population: its own role, so
    that every owner holds one vault). Its debt is debt_median x exp(debt_sigma x z),
    z ~ N(0, 1), rounded down to whole stablecoins and raised to `min_vault_debt(dust)` [dust: rad];
    its collateral is debt x ratio / price, ratio ~ triangular(ratio_min, ratio_mode, ratio_max),
    rounded down to whole token units (10**-token_decimals of a token), at least one unit.
    Vault i's owner opts in to soft liquidation (`opted_in`) when floor((i + 1) x
    spec.opt_in_share) > floor(i x spec.opt_in_share), exactly: floor(count x share) owners,
    spread evenly, chosen without a draw (the vaults are the same whatever the share).
    Under a size margin `size` (the type's threshold, slope, cap: offchain/model/size_margin.py)
    the ratio is drawn relative to the vault's own liquidation ratio: a vault above the threshold
    posts its collateral x its size factor (margin_debt / debt), as a borrower who keeps the same
    distance from liquidation must.
    """
    if price <= 0:
        raise ValueError(f"price must be positive, got {price}")
    if not 0 <= token_decimals <= 18:
        raise ValueError(f"token_decimals must be between 0 and 18, got {token_decimals}")
    rng = random.Random(seed)
    unit = 10**token_decimals  # token units per token
    scale = 10 ** (18 - token_decimals)  # wad per token unit
    min_debt = min_vault_debt(dust)
    packed = sizing.pack(*size) if size[0] else 0
    share = Fraction(spec.opt_in_share)
    plans = []
    with localcontext() as ctx:
        ctx.prec = 34
        sigma = Decimal(spec.debt_sigma)
        for i in range(spec.count):
            z = rng.gauss(0.0, 1.0)
            ratio = rng.triangular(spec.ratio_min, spec.ratio_max, spec.ratio_mode)
            factor = (sigma * Decimal(z)).exp()
            debt = max(min_debt, int(spec.debt_median * factor) // WAD * WAD)
            num, den = ratio.as_integer_ratio()
            weighted = -(-sizing.margin_debt(debt * RAY, packed) // RAY) if packed else debt
            tokens = max(1, weighted * num * unit // (den * price))  # in token units
            opted_in = _opts_in(i, share)
            plans.append(VaultPlan(actor_address(role, i), tokens * scale, debt, opted_in))
    return plans
