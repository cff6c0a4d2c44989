"""A model of MakerDAO's Liquidations 2.0 Clipper (dss src/clip.sol, as deployed for ETH-A by the
2021-04-30 executive spell and running on 2021-05-19), not Backstop's mechanism and not a twin of
any contract: Dutch auctions of a liquidated vault's collateral.

- `kick` (the Dog's): an auction of `lot` for `tab`, starting at top = the OSM's price x `buf`;
  the keeper who barked gets `tip` + `chip` x tab, new DAI against system debt (`suck`).
- The price falls with time as the abacus says (abaci.py: top x cut^(elapsed / step)).
- `take`: buy up to `amt` at the current price if it is at most the taker's `max`; never more
  collateral than the tab pays for (slice = tab / price when the whole lot would raise more),
  and a partial take never leaves less than `chost` = dust x chop to raise (the take is cut to
  leave exactly chost; with tab at or under chost only the whole lot may be bought: "Clipper/
  no-partial-purchase"). The collateral goes to `who` first; a flash taker's callee sells it
  and pays in the same transaction. What the auction no longer wants is given back to the
  Dog (`digs`); an auction ends when its lot or its tab is gone (the lot left goes back to
  the vault's owner).
- `redo`: an auction past `tail` seconds or whose price fell under `cusp` x top needs a reset:
  a new top from the OSM's price now, and the keeper gets the incentive again if the tab and
  the lot's value are at least chost.
- `yank`: governance (or the End) cancels an auction; the collateral to the caller.

Units as dss: `tab`, `tip`, `chost` [rad], `lot`, `amt`, `chip` [wad], `top`, `price`, `max`,
`buf`, `cusp` [ray], times in unix seconds. One collateral type (ETH-A). Each refusal is a
`ClipError` with clip.sol's revert text; a take refused by its callee or for want of DAI
changes nothing (the transaction reverts whole).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from offchain.history.mechanisms.abaci import LinearDecrease, StairstepExponentialDecrease
from offchain.history.mechanisms.dog import Dog
from offchain.history.mechanisms.vat import CLIPPER, DOG, VOW, Refusal, Vat, VatError
from offchain.model.fixed_point import RAY, WAD, WAD_TO_RAY

__all__ = [
    "END",
    "ETH_A_2021",
    "GOV",
    "Callee",
    "ClipError",
    "ClipParams",
    "Clipper",
    "Sale",
    "Take",
]

GOV, END, VAT = "governance", "end", "vat"  # the model's addresses of the other wards


class ClipError(Refusal):
    """A Clipper refusal, with clip.sol's revert text ("Clipper/needs-reset")."""


@dataclass(frozen=True)
class ClipParams:
    """A Clipper's settings: `buf` [ray] (top = feed price x buf), `tail` [s] and `cusp` [ray]
    (the reset conditions), `chip` [wad] and `tip` [rad] (the keepers' incentives)."""

    buf: int
    tail: int
    cusp: int
    chip: int
    tip: int


# ETH-A's Clipper from the 2021-04-30 spell to after 2021-05-19 (the spells' tests of 2021-05-07
# to 2021-05-24 assert these): buf 1.30, tail 140 min, cusp 0.40, chip 0.1%, tip 0
ETH_A_2021 = ClipParams(
    buf=130 * RAY // 100,
    tail=140 * 60,
    cusp=40 * RAY // 100,
    chip=WAD // 1000,
    tip=0,
)


@dataclass
class Sale:
    """One running auction (clip.sol's `Sale`)."""

    pos: int  # its index in `active`
    tab: int  # DAI to raise [rad]
    lot: int  # collateral to sell [wad]
    usr: str  # the liquidated vault (receives the collateral left)
    tic: int  # its start [s]
    top: int  # its starting price [ray]


@dataclass(frozen=True)
class Take:
    """What one take did: `slice` [wad] bought for `owe` [rad] at `price` [ray]; the auction's
    `tab` and `lot` left after it; `done` the auction ended."""

    id: int
    price: int
    owe: int
    slice: int
    tab: int
    lot: int
    done: bool


class Callee(Protocol):
    """A flash taker's contract (clipperCall): `check` refuses (a Refusal) what it could not pay
    for, before anything moves; `call` then sells the `gem_amt` [wad] it got and pays `sender`
    the DAI to cover `owe` [rad] (and keeps the rest)."""

    def check(self, sender: str, owe: int, gem_amt: int, now: int) -> None: ...

    def call(self, sender: str, owe: int, gem_amt: int, now: int) -> None: ...


@dataclass
class Clipper:
    """The auction house of one collateral type over `vat` (module docstring). `feed(now)` is the
    OSM's price [wad] the Clipper reads (pip.peek); `par` [ray] the DAI target price (1)."""

    vat: Vat
    dog: Dog
    calc: StairstepExponentialDecrease | LinearDecrease
    params: ClipParams
    feed: Callable[[int], int]
    par: int = RAY
    # who may kick, file and yank (clip.sol's wards: the Dog, governance, the End)
    wards: frozenset[str] = frozenset({DOG, GOV, END})
    chost: int = 0
    kicks: int = 0
    stopped: int = 0
    active: list[int] = field(default_factory=list)
    sales: dict[int, Sale] = field(default_factory=dict)
    coin_paid: int = 0  # incentives paid, kicks and redos [rad]

    def _auth(self, sender: str) -> None:
        if sender not in self.wards:
            raise ClipError("Clipper/not-authorized")

    def file(self, what: str, data: int, sender: str = GOV) -> None:
        self._auth(sender)
        if what in ("buf", "tail", "cusp", "chip", "tip"):
            self.params = ClipParams(**{**self.params.__dict__, what: data})
        elif what == "stopped":
            self.stopped = data
        else:
            raise ClipError("Clipper/file-unrecognized-param")

    def _stopped(self, level: int) -> None:
        if not self.stopped < level:
            raise ClipError("Clipper/stopped-incorrect")

    def feed_price(self, now: int) -> int:
        """The OSM's price as a ray over par (clip.sol's getFeedPrice)."""
        return self.feed(now) * WAD_TO_RAY * RAY // self.par

    def upchost(self) -> None:
        """chost = dust x chop (rad x wad / WAD)."""
        self.chost = self.vat.dust * self.dog.params.chop // WAD

    def status(self, tic: int, top: int, now: int) -> tuple[bool, int]:
        """(needs a reset, the price now [ray]) of an auction started at `tic` from `top`."""
        if now < tic:
            raise ClipError("Clipper/sub-underflow")  # dss's sub reverts without a reason
        price = self.calc.price(top, now - tic)
        done = now - tic > self.params.tail or price * RAY // top < self.params.cusp
        return done, price

    def kick(self, tab: int, lot: int, usr: str, kpr: str, now: int, sender: str = DOG) -> int:
        """Start an auction (module docstring); its id. Only the Dog kicks."""
        self._auth(sender)
        self._stopped(1)
        if not tab > 0:
            raise ClipError("Clipper/zero-tab")
        if not lot > 0:
            raise ClipError("Clipper/zero-lot")
        if not usr:
            raise ClipError("Clipper/zero-usr")
        top = self.feed_price(now) * self.params.buf // RAY
        if not top > 0:
            raise ClipError("Clipper/zero-top-price")
        self.kicks += 1
        id = self.kicks
        self.active.append(id)
        self.sales[id] = Sale(len(self.active) - 1, tab, lot, usr, now, top)
        p = self.params
        if p.tip > 0 or p.chip > 0:
            coin = p.tip + tab * p.chip // WAD
            self.vat.suck(VOW, kpr, coin)
            self.coin_paid += coin
        return id

    def _sale(self, auction_id: int) -> Sale:
        sale = self.sales.get(auction_id)
        if sale is None:
            raise ClipError("Clipper/not-running-auction")
        return sale

    def needs_redo(self, auction_id: int, now: int) -> bool:
        """clip.sol's getStatus(id).needsRedo."""
        sale = self.sales.get(auction_id)
        return sale is not None and self.status(sale.tic, sale.top, now)[0]

    def price(self, auction_id: int, now: int) -> int:
        """The auction's price now [ray] (getStatus's price)."""
        sale = self._sale(auction_id)
        return self.status(sale.tic, sale.top, now)[1]

    def redo(self, auction_id: int, kpr: str, now: int) -> int:
        """Reset an auction that needs it; the incentive paid to `kpr` [rad]."""
        self._stopped(2)
        sale = self._sale(auction_id)
        done, _ = self.status(sale.tic, sale.top, now)
        if not done:
            raise ClipError("Clipper/cannot-reset")
        feed = self.feed_price(now)
        top = feed * self.params.buf // RAY
        if not top > 0:
            raise ClipError("Clipper/zero-top-price")
        sale.tic = now
        sale.top = top
        p = self.params
        coin = 0
        if p.tip > 0 or p.chip > 0:
            if sale.tab >= self.chost and sale.lot * feed >= self.chost:
                coin = p.tip + sale.tab * p.chip // WAD
                self.vat.suck(VOW, kpr, coin)
                self.coin_paid += coin
        return coin

    def take(
        self,
        auction_id: int,
        amt: int,
        max_price: int,
        who: str,
        now: int,
        sender: str | None = None,
        callee: Callee | None = None,
    ) -> Take:
        """`sender` (default `who`) buys up to `amt` [wad] at the price now if it is at most
        `max_price` [ray] (dss's `max`); the collateral goes to `who`; with a `callee` it is sold
        there and pays for itself. Money flow: `owe` from the sender to the Vow; the collateral
        to `who`; the lot left after the tab is raised to the vault's owner."""
        sender = sender or who
        self._stopped(3)
        sale = self._sale(auction_id)
        done, price = self.status(sale.tic, sale.top, now)
        if done:
            raise ClipError("Clipper/needs-reset")
        if not max_price >= price:
            raise ClipError("Clipper/too-expensive")
        lot, tab = sale.lot, sale.tab
        slice = min(lot, amt)
        owe = slice * price
        if owe > tab:
            owe = tab
            slice = owe // price
        elif owe < tab and slice < lot:
            if tab - owe < self.chost:
                if not tab > self.chost:
                    raise ClipError("Clipper/no-partial-purchase")
                owe = tab - self.chost
                slice = owe // price
        tab -= owe
        lot -= slice
        # what reverts the whole transaction is checked before anything moves
        called = callee is not None and who not in (VAT, DOG)
        if called:
            assert callee is not None
            callee.check(sender, owe, slice, now)
        elif self.vat.dai[sender] < owe:
            raise VatError("Vat/insufficient-dai")
        self.vat.flux(CLIPPER, who, slice)
        if called:
            assert callee is not None
            callee.call(sender, owe, slice, now)
        self.vat.move(sender, VOW, owe)
        self.dog.digs(tab + owe if lot == 0 else owe)
        ended = lot == 0 or tab == 0
        if lot == 0:
            self._remove(auction_id)
        elif tab == 0:
            self.vat.flux(CLIPPER, sale.usr, lot)
            self._remove(auction_id)
        else:
            sale.tab, sale.lot = tab, lot
        return Take(auction_id, price, owe, slice, tab, lot, ended)

    def yank(self, auction_id: int, sender: str = GOV) -> None:
        """Cancel an auction (governance or the End): the Dog forgets its tab, the collateral
        goes to `sender`."""
        self._auth(sender)
        sale = self._sale(auction_id)
        self.dog.digs(sale.tab)
        self.vat.flux(CLIPPER, sender, sale.lot)
        self._remove(auction_id)

    def _remove(self, auction_id: int) -> None:
        """clip.sol's _remove: the last active id takes the removed one's place."""
        last = self.active[-1]
        if auction_id != last:
            index = self.sales[auction_id].pos
            self.active[index] = last
            self.sales[last].pos = index
        self.active.pop()
        del self.sales[auction_id]

    def count(self) -> int:
        return len(self.active)

    def list(self) -> list[int]:
        return list(self.active)
