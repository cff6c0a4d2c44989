"""A model of MakerDAO's liquidation systems (the 2020 Cat and Flipper; the 2021 Dog and Clipper),
not a twin of any Backstop contract: the pieces of dss's Vat (one collateral type, ETH-A) that
they touch. Both families share it: `grab` (a bite or a bark), `move`, `flux`; the Dog and the
Clipper also read the type's `dust` and pay keepers' incentives with `suck` (new DAI against
system debt).

Units as in dss: collateral (`ink`, `gem`) and normalized debt (`art`) in wad, `rate` and `spot`
in ray, DAI balances and system debt (`dai`, `sin`) in rad = wad x ray. Integers only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from offchain.model.fixed_point import RAY

__all__ = ["CAT", "CLIPPER", "DOG", "FLIPPER", "VOW", "Refusal", "Urn", "Vat", "VatError"]

# the model's addresses of the system's own contracts (keepers and vault owners are named by
# their callers)
CAT = "cat"
FLIPPER = "flipper"
DOG = "dog"
CLIPPER = "clipper"
VOW = "vow"


class Refusal(Exception):
    """A transaction dss would revert; `reason` is dss's revert text."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class VatError(Refusal):
    """A Vat refusal. dss's 2020 Vat reverted without a reason on these (an underflow in its
    `sub`); the model names them "Vat/..." so that a test and a count can tell them apart."""


@dataclass
class Urn:
    """A vault: `ink` locked collateral [wad], `art` normalized debt [wad]."""

    ink: int
    art: int


class Vat:
    """Balances of one collateral type: vaults, free collateral per address, DAI per address and
    queued system debt (`sin`) per address; `rate` [ray] the accumulated stability fee, `spot`
    [ray] the safe price (price / liquidation ratio) the Spotter last wrote, `dust` [rad] the
    least debt of a vault (the 2020 Cat and Flipper never read it)."""

    def __init__(self, rate: int = RAY, spot: int = 0, dust: int = 0):
        self.rate = rate
        self.spot = spot
        self.dust = dust
        self.urns: dict[str, Urn] = {}
        self.gem: defaultdict[str, int] = defaultdict(int)  # free collateral [wad]
        self.dai: defaultdict[str, int] = defaultdict(int)  # [rad]
        self.sin: defaultdict[str, int] = defaultdict(int)  # system debt [rad]

    def move(self, src: str, dst: str, rad: int) -> None:
        """DAI from `src` to `dst` [rad]; refused if `src` holds less (as dss's `sub` reverts,
        also when src == dst)."""
        if self.dai[src] < rad:
            raise VatError("Vat/insufficient-dai")
        self.dai[src] -= rad
        self.dai[dst] += rad

    def flux(self, src: str, dst: str, wad: int) -> None:
        """Free collateral from `src` to `dst` [wad]."""
        if self.gem[src] < wad:
            raise VatError("Vat/insufficient-gem")
        self.gem[src] -= wad
        self.gem[dst] += wad

    def grab(self, usr: str, v: str, w: str, dink: int, dart: int) -> None:
        """Confiscation (dss `grab`, negative deltas in a bite): the vault's collateral and debt
        change by `dink`, `dart` [wad]; `v` receives -dink of free collateral and `w` -dart x
        rate of system debt [rad]."""
        urn = self.urns[usr]
        urn.ink += dink
        urn.art += dart
        self.gem[v] -= dink
        self.sin[w] -= dart * self.rate

    def suck(self, u: str, v: str, rad: int) -> None:
        """New DAI [rad] for `v` against system debt of `u` (dss `suck`: the Clipper's keeper
        incentives, sin of the Vow)."""
        self.sin[u] += rad
        self.dai[v] += rad
