"""A model of MakerDAO's Liquidations 2.0 Dog (dss src/dog.sol, as deployed for ETH-A by the
2021-04-30 executive spell and running on 2021-05-19), not Backstop's mechanism and not a twin of
any contract: `bark` liquidates an unsafe vault into a Clipper auction.

A bark takes the whole vault, unless the DAI it would put to auction (debt x chop) exceeds the
room left under the global limit (`Hole` less `Dirt`, the DAI wanted by every running auction)
or the type's (`hole` less `dirt`): then it takes what fits, dart = min(art, room / rate /
chop), unless the rest of the vault would be under the dust (then all of it) or the part taken
would be (refused: "Dog/dusty-auction-from-partial-liquidation"). The collateral follows the
same share, dink = ink x dart / art (rounded down). The debt taken, dart x rate, is queued as
the Vow's system debt; the auction wants tab = due x chop (rounded down) and its keeper `kpr`
gets the Clipper's kick incentive. The Clipper gives back what its auctions no longer want
with `digs`.

Units as dss: `chop` [wad], `Hole`, `hole`, `Dirt`, `dirt`, `tab` [rad], `ink`, `art`, `dink`,
`dart` [wad]. One collateral type (ETH-A). Each refusal is a `DogError` with dog.sol's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from offchain.history.mechanisms.vat import CLIPPER, DOG, VOW, Refusal, Vat
from offchain.model.fixed_point import WAD

__all__ = ["Bark", "Dog", "DogError", "DogParams"]


class DogError(Refusal):
    """A Dog refusal, with dog.sol's revert text ("Dog/not-unsafe")."""


class ClipperLike(Protocol):
    def kick(self, tab: int, lot: int, usr: str, kpr: str, now: int, sender: str = DOG) -> int: ...


@dataclass(frozen=True)
class DogParams:
    """The Dog's settings for one type: the global `Hole` and the type's `hole` [rad], the
    liquidation penalty `chop` [wad, 1.13e18 = 13%]."""

    Hole: int
    hole: int
    chop: int

    def __post_init__(self) -> None:
        if self.chop < WAD:
            raise DogError("Dog/file-chop-lt-WAD")


@dataclass(frozen=True)
class Bark:
    """What one bark did: auction `id` of `lot` [wad] for `tab` [rad]; `art` [wad] taken from
    `usr`'s vault; `due` = art x rate [rad] queued as system debt; `kpr` the keeper paid."""

    id: int
    usr: str
    lot: int
    art: int
    due: int
    tab: int
    kpr: str


class Dog:
    """Liquidates unsafe vaults of `vat` into `clipper`'s auctions (module docstring)."""

    def __init__(self, vat: Vat, params: DogParams, clipper: ClipperLike | None = None):
        self.vat = vat
        self.params = params
        self.clipper = clipper
        self.live = 1
        self.Dirt = 0
        self.dirt = 0  # this type's [rad]

    def unsafe(self, usr: str) -> bool:
        urn = self.vat.urns[usr]
        return self.vat.spot > 0 and urn.ink * self.vat.spot < urn.art * self.vat.rate

    def bark(self, usr: str, kpr: str, now: int) -> Bark:
        """Liquidate (part of) `usr`'s vault; `kpr` gets the kick incentive. Money flow: the
        collateral taken moves to the Clipper, the debt taken to the Vow's queue; the keeper's
        incentive is new DAI against system debt (the Clipper's kick)."""
        if self.live != 1:
            raise DogError("Dog/not-live")
        urn = self.vat.urns.get(usr)
        ink, art = (urn.ink, urn.art) if urn else (0, 0)
        vat, p = self.vat, self.params
        rate, dust = vat.rate, vat.dust
        if not (vat.spot > 0 and ink * vat.spot < art * rate):
            raise DogError("Dog/not-unsafe")
        if not (p.Hole > self.Dirt and p.hole > self.dirt):
            raise DogError("Dog/liquidation-limit-hit")
        room = min(p.Hole - self.Dirt, p.hole - self.dirt)
        dart = min(art, room * WAD // rate // p.chop)
        if art > dart:
            if (art - dart) * rate < dust:
                # the rest would be dusty: all of it (the limits may be exceeded by up to
                # dust x chop, as dss allows)
                dart = art
            elif dart * rate < dust:
                raise DogError("Dog/dusty-auction-from-partial-liquidation")
        dink = ink * dart // art
        if dink <= 0:
            raise DogError("Dog/null-auction")
        if self.clipper is None:
            raise DogError("Dog/no-clip")  # dss: a call to address 0 reverts (no reason)
        due = dart * rate
        tab = due * p.chop // WAD
        # dss grabs, then kicks; the model kicks first so that a refused kick (a stopped
        # Clipper) leaves every state as the reverted transaction does (kick reads neither)
        id = self.clipper.kick(tab, dink, usr, kpr, now, sender=DOG)
        vat.grab(usr, CLIPPER, VOW, -dink, -dart)
        self.Dirt += tab
        self.dirt += tab
        return Bark(id=id, usr=usr, lot=dink, art=dart, due=due, tab=tab, kpr=kpr)

    def digs(self, rad: int) -> None:
        """The Clipper no longer wants `rad` [rad] (a take, the end of an auction, a yank)."""
        if rad > self.Dirt or rad > self.dirt:
            raise DogError("Dog/sub-underflow")  # dss's sub reverts without a reason
        self.Dirt -= rad
        self.dirt -= rad

    def cage(self) -> None:
        self.live = 0
