"""A model of MakerDAO's 2020 Flipper and Cat, not a twin of any Backstop contract: the Flipper,
dss's English collateral auction (src/flip.sol as deployed at MCD's launch, November 2019, and
running on 2020-03-12).

An auction sells `lot` collateral for up to `tab` DAI in two phases. In the tend phase bids rise
toward `tab` for the whole lot, each at least `beg` times the last (or exactly `tab`); once a bid
equals `tab`, the dent phase asks for less collateral for that same DAI, each lot at most 1/beg
of the last, and the collateral given up goes back to the vault's owner (`usr`). Each bid sets
`tic` = now + ttl; the auction ends when `tic` passes without a better bid, or at `end` (kick +
tau) whatever happens. An auction nobody bid on cannot be dealt: `tick` restarts it.

Units as dss: `lot` [wad], `bid` and `tab` [rad], `beg` [wad] against ONE = 1e18, times in unix
seconds. Integers only; dss's overflow checks are not modelled (no amount here comes near
2**256). Each refusal is a `FlipError` with dss's revert text.

A dss bid must exceed the previous one, so a "zero bid" on the day was the least positive bid
(`MIN_BID`: one unit of rad) on an auction with no bid. A winning bid below `ZERO_BID_SHARE` of
the lot's value at the market price is counted as a zero bid (`is_zero_bid`).
"""

from __future__ import annotations

from dataclasses import dataclass

from offchain.history.mechanisms.vat import CAT, FLIPPER, Refusal, Vat
from offchain.model.fixed_point import RAD, RAY, WAD

__all__ = [
    "DAY_2020_03_12",
    "MIN_BID",
    "ONE",
    "ZERO_BID_SHARE",
    "Auction",
    "FlipError",
    "FlipParams",
    "Flipper",
    "is_zero_bid",
]

ONE = WAD  # flip.sol's ONE: `beg` is a wad
# the least bid dss accepts on an auction without a bid (bid > 0) [rad]: the day's "zero bid"
MIN_BID = 1
# a winning bid below this share of the lot's value at the market price [wad] is a "zero bid":
# the day's were 0 to a few DAI for lots worth thousands, and a keeper bidding at a margin of
# tens of percent is far above 1%; a share, unlike a flat amount, holds at any lot size
ZERO_BID_SHARE = WAD // 100


class FlipError(Refusal):
    """A Flipper refusal; `reason` is flip.sol's revert text ("Flipper/bid-not-higher")."""


@dataclass(frozen=True)
class FlipParams:
    """ETH-A's auction and liquidation parameters (Flipper, Cat, Vat)."""

    beg: int  # Flipper: least bid increase / lot decrease, 1.03e18 = 3% [wad]
    ttl: int  # Flipper: a bid's lifetime [seconds]
    tau: int  # Flipper: an auction's longest run from kick (or tick) [seconds]
    lump: int  # Cat: most collateral one bite sends to auction [wad]
    chop: int  # Cat: liquidation penalty, 1.13e27 = 13% [ray]
    # Vat: least debt of a vault [rad]. The 2020 Vat checked it in `frob` only (a vault is opened
    # or changed with debt 0 or at least dust); the 2020 Cat and Flipper never read it, so a bite
    # may leave less. The lab refuses hand-made vaults below it (day.py).
    dust: int


# ETH-A on 2020-03-12: MCD's launch configuration (makerdao/dss-deploy-scripts config/main.json
# of January 2020: beg 3%, ttl 600 s, tau 259,200 s, lump 50 ETH, chop 13%, dust 20 DAI). The
# 10-minute ttl is the one post-mortems name; governance raised it after the day.
DAY_2020_03_12 = FlipParams(
    beg=103 * WAD // 100,
    ttl=600,
    tau=3 * 86_400,
    lump=50 * WAD,
    chop=113 * RAY // 100,
    dust=20 * RAD,
)


@dataclass
class Auction:
    """One auction (flip.sol's `Bid`)."""

    bid: int  # DAI paid [rad]
    lot: int  # collateral for the bid [wad]
    guy: str  # high bidder (the kicker until the first bid)
    tic: int  # bid expiry [unix s]; 0 = no bid yet
    end: int  # auction expiry [unix s]
    usr: str  # receives the collateral given up in the dent phase (the vault's owner)
    gal: str  # receives the DAI (the Vow)
    tab: int  # DAI wanted [rad]


_NO_AUCTION = Auction(bid=0, lot=0, guy="", tic=0, end=0, usr="", gal="", tab=0)


def is_zero_bid(bid: int, lot: int, price: int) -> bool:
    """Whether a winning `bid` [rad] for `lot` [wad] worth `price` [wad per unit] counts as a
    zero bid: bid < ZERO_BID_SHARE x lot x price (exact: both sides in 1e63 units)."""
    return bid * WAD < ZERO_BID_SHARE * lot * price * (RAY // WAD)


class Flipper:
    """The auction house of one collateral type, over `vat`."""

    def __init__(self, vat: Vat, params: FlipParams):
        self.vat = vat
        self.params = params
        self.bids: dict[int, Auction] = {}
        self.kicks = 0

    def auction(self, auction_id: int) -> Auction:
        """Auction `auction_id` (all zeros when unknown or dealt, as dss's mapping reads)."""
        return self.bids.get(auction_id, _NO_AUCTION)

    def kick(self, lot: int, tab: int, usr: str, gal: str, now: int, sender: str = CAT) -> int:
        """Start an auction of `lot` [wad] (taken from `sender`'s free collateral) for up to `tab`
        [rad]: no bid, `sender` as its guy, end = now + tau. Returns its id (1, 2, ...). dss's
        kick is `auth` (the Cat) and takes a starting bid, always 0 from the Cat."""
        self.vat.flux(sender, FLIPPER, lot)
        self.kicks += 1
        self.bids[self.kicks] = Auction(
            bid=0, lot=lot, guy=sender, tic=0, end=now + self.params.tau, usr=usr, gal=gal, tab=tab
        )
        return self.kicks

    def _live(self, a: Auction, now: int) -> None:
        """The checks tend and dent share: a bidder set, no bid expired, the auction not over."""
        if a.guy == "":
            raise FlipError("Flipper/guy-not-set")
        if not (a.tic > now or a.tic == 0):
            raise FlipError("Flipper/already-finished-tic")
        if not a.end > now:
            raise FlipError("Flipper/already-finished-end")

    def tend(self, auction_id: int, who: str, lot: int, bid: int, now: int) -> None:
        """`who` bids `bid` [rad] for the whole `lot` [wad]. Money flow: the outbid guy gets his
        bid back, the Vow (gal) gets the increase; `who` pays `bid` in all."""
        a = self.auction(auction_id)
        self._live(a, now)
        if lot != a.lot:
            raise FlipError("Flipper/lot-not-matching")
        if bid > a.tab:
            raise FlipError("Flipper/higher-than-tab")
        if not bid > a.bid:
            raise FlipError("Flipper/bid-not-higher")
        if not (bid * ONE >= self.params.beg * a.bid or bid == a.tab):
            raise FlipError("Flipper/insufficient-increase")
        # flip.sol of the day moved the old bid first (so a guy raising his own bid needed it on
        # hand), then the increase
        self.vat.move(who, a.guy, a.bid)
        self.vat.move(who, a.gal, bid - a.bid)
        a.guy = who
        a.bid = bid
        a.tic = now + self.params.ttl

    def dent(self, auction_id: int, who: str, lot: int, bid: int, now: int) -> None:
        """`who` takes `lot` [wad] for the bid already at tab. Money flow: the outbid guy gets the
        tab back from `who`; the collateral given up goes to the vault's owner (usr)."""
        a = self.auction(auction_id)
        self._live(a, now)
        if bid != a.bid:
            raise FlipError("Flipper/not-matching-bid")
        if bid != a.tab:
            raise FlipError("Flipper/tend-not-finished")
        if not lot < a.lot:
            raise FlipError("Flipper/lot-not-lower")
        if not self.params.beg * lot <= a.lot * ONE:
            raise FlipError("Flipper/insufficient-decrease")
        self.vat.move(who, a.guy, bid)
        self.vat.flux(FLIPPER, a.usr, a.lot - lot)
        a.guy = who
        a.lot = lot
        a.tic = now + self.params.ttl

    def dealable(self, auction_id: int, now: int) -> bool:
        """Whether `deal(auction_id, now)` would pass: a bid was made and it expired or the auction
        ended."""
        a = self.auction(auction_id)
        return a.tic != 0 and (a.tic < now or a.end < now)

    def deal(self, auction_id: int, now: int) -> Auction:
        """End an auction: the high bidder gets the lot. Returns the auction as it ended."""
        if not self.dealable(auction_id, now):
            raise FlipError("Flipper/not-finished")
        a = self.bids.pop(auction_id)
        self.vat.flux(FLIPPER, a.guy, a.lot)
        return a

    def tick(self, auction_id: int, now: int) -> None:
        """Restart an auction that ended without a bid: end = now + tau. (dss also writes `end`
        of an unknown id, which nothing reads; the model leaves it.)"""
        a = self.auction(auction_id)
        if not a.end < now:
            raise FlipError("Flipper/not-finished")
        if a.tic != 0:
            raise FlipError("Flipper/bid-already-placed")
        if auction_id in self.bids:
            a.end = now + self.params.tau
