"""A model of MakerDAO's 2020 Flipper and Cat, not a twin of any Backstop contract: the Cat's
`bite` (dss src/cat.sol as deployed at MCD's launch and running on 2020-03-12) and the Spotter's
safe price.

A vault is unsafe when ink x spot < art x rate, spot = oracle price / liquidation ratio. A bite
takes lot = min(ink, lump) of its collateral and the same share of its debt, art x lot / ink
(rounded down), queues that debt, art x rate [rad], as the Vow's system debt (`sin`), and kicks
a Flipper auction for tab = art x rate x chop [rad, rounded down by dss's rmul]. What the bite
does not take stays in the vault, collateral and debt, and may be bitten again.

The 2020 Cat had no global limit: no `box` (most DAI in auction) nor `litter`; they came with
"liquidations 1.2" (dss commit bd0fdb5, August 2020). Any number of bites could run at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from offchain.history.mechanisms.flip import Flipper
from offchain.history.mechanisms.vat import CAT, VOW, Refusal, Vat
from offchain.model.fixed_point import RAY, WAD_TO_RAY

__all__ = ["ETH_A_MAT", "Bite", "Cat", "CatError", "spot_of"]

# ETH-A's liquidation ratio on the day, 150% [ray]
ETH_A_MAT = 3 * RAY // 2


class CatError(Refusal):
    """A Cat refusal; `reason` is cat.sol's revert text ("Cat/not-unsafe")."""


def spot_of(price: int, mat: int) -> int:
    """The Spotter's safe price [ray] from an oracle `price` [wad] and liquidation ratio `mat`
    [ray], DAI at par (dss: rdiv(rdiv(price x 1e9, par), mat), rounded down)."""
    return price * WAD_TO_RAY * RAY // mat


@dataclass(frozen=True)
class Bite:
    """What one bite did: auction `id` of `lot` [wad] for `tab` [rad], `art` [wad] taken from
    `usr`'s vault, `debt` = art x rate [rad] queued as system debt."""

    id: int
    usr: str
    lot: int
    art: int
    debt: int
    tab: int


class Cat:
    """Liquidates unsafe vaults of `vat` into `flipper`'s auctions; parameters (lump, chop) are
    the flipper's FlipParams."""

    def __init__(self, vat: Vat, flipper: Flipper):
        self.vat = vat
        self.flipper = flipper

    def unsafe(self, usr: str) -> bool:
        """Whether `bite(usr)` would pass."""
        urn = self.vat.urns[usr]
        return self.vat.spot > 0 and urn.ink * self.vat.spot < urn.art * self.vat.rate

    def bite(self, usr: str, now: int) -> Bite:
        """Liquidate (part of) `usr`'s vault. Money flow: lot moves from the vault to the auction,
        art x rate of debt from the vault to the Vow's queue; nobody pays yet."""
        if not self.unsafe(usr):
            raise CatError("Cat/not-unsafe")
        urn = self.vat.urns[usr]
        params = self.flipper.params
        lot = min(urn.ink, params.lump)
        art = min(urn.art, lot * urn.art // urn.ink)
        debt = art * self.vat.rate
        self.vat.grab(usr, CAT, VOW, -lot, -art)
        tab = debt * params.chop // RAY
        id = self.flipper.kick(lot=lot, tab=tab, usr=usr, gal=VOW, now=now, sender=CAT)
        return Bite(id=id, usr=usr, lot=lot, art=art, debt=debt, tab=tab)
