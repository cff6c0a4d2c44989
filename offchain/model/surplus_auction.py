"""Twin of contracts/SurplusAuction.vy: fixed-lot, rising-bid auctions of surplus stablecoin for
governance token, which is burned (dss Flapper)."""

from __future__ import annotations

from typing import NamedTuple

from offchain.model.errors import require
from offchain.model.fixed_point import WAD, u256
from offchain.model.state import ZERO_ADDRESS, Authorized, Env, Role
from offchain.model.vault_engine import VaultEngine

# the contract packs bid into 128 bits, bid_expiry and end into 64 each
MAX_BID = 2**128 - 1
MAX_DURATION = 2**32 - 1
MAX_MIN_INCREASE = WAD * 3 // 2  # the largest step between bids (SurplusAuction.vy)
MIN_DURATION = 600  # the shortest bid and auction duration (SurplusAuction.vy)


class Auction(NamedTuple):
    """As the contract's `auctions(id)` view returns it: before the first bid the winner is the
    Backstop (the contract stores an empty winner slot and reports the Backstop)."""

    bid: int = 0  # wad of governance token; 0 = no bid yet
    lot: int = 0  # rad
    winner: str = ZERO_ADDRESS
    bid_expiry: int = 0  # seconds; 0 = no bid yet
    end: int = 0  # seconds; 0 = no such auction


class SurplusAuction(Authorized):
    ROLE_SET = Role.START | Role.SHUTDOWN

    def __init__(
        self, env: Env, address: str, deployer: str, engine: str, backstop: str, token: str
    ):
        super().__init__(env, address)
        self.engine: VaultEngine = self.at(engine)
        self.backstop = backstop
        self.token = token
        self.live = True
        self.min_increase = WAD * 105 // 100
        self.bid_duration = 3 * 3600
        self.auction_duration = 2 * 86400
        self.count = 0
        self.auctions = self.storage(Auction())
        self._init_auth(deployer)

    # ------------------------------------------------------------ administration

    def set_parameters(
        self, sender: str, min_increase: int, bid_duration: int, auction_duration: int
    ) -> None:
        self._check_authorized(sender)
        require(min_increase > WAD, "surplus auction: min increase not above 1")
        require(min_increase <= MAX_MIN_INCREASE, "surplus auction: min increase above 1.5")
        require(bid_duration != 0 and auction_duration != 0, "surplus auction: zero duration")
        require(
            bid_duration >= MIN_DURATION and auction_duration >= MIN_DURATION,
            "surplus auction: duration below 10 minutes",
        )
        require(
            bid_duration <= MAX_DURATION and auction_duration <= MAX_DURATION,
            "surplus auction: value too large",
        )
        self.min_increase = min_increase
        self.bid_duration = bid_duration
        self.auction_duration = auction_duration
        self.log(
            "ParametersSet",
            min_increase=min_increase,
            bid_duration=bid_duration,
            auction_duration=auction_duration,
        )

    def shutdown(self, sender: str) -> None:
        self._check_role(sender, Role.SHUTDOWN)
        self.live = False
        returned = self.engine.stable[self.address]
        self.engine.transfer_stable(self.address, self.address, self.backstop, returned)
        self.log("Shutdown")

    # ------------------------------------------------------------ auctions

    def start(self, sender: str, lot: int) -> int:
        self._check_role(sender, Role.START)
        require(self.live, "surplus auction: not live")
        require(lot != 0, "surplus auction: zero lot")
        auction_id = self.count + 1
        self.count = auction_id
        self.auctions[auction_id] = Auction(
            0, lot, self.backstop, 0, self.now + self.auction_duration
        )
        self.log("Started", auction_id=auction_id, lot=lot)
        return auction_id

    def bid(self, sender: str, auction_id: int, bid: int) -> None:
        require(self.live, "surplus auction: not live")
        auction = self.auctions[auction_id]
        require(auction.end != 0, "surplus auction: not running")
        require(
            auction.bid_expiry == 0 or auction.bid_expiry > self.now, "surplus auction: bid expired"
        )
        require(auction.end > self.now, "surplus auction: auction ended")
        require(bid > auction.bid, "surplus auction: bid not higher")
        require(
            u256(bid * WAD) >= u256(auction.bid * self.min_increase),
            "surplus auction: bid not higher",
        )
        require(bid <= MAX_BID, "surplus auction: value too large")

        bid_expiry = self.now + self.bid_duration
        token = self.at(self.token)
        if sender != auction.winner:
            self.auctions[auction_id] = auction._replace(
                bid=bid, winner=sender, bid_expiry=bid_expiry
            )
            if auction.bid_expiry != 0:
                token.transferFrom(self.address, sender, auction.winner, auction.bid)
        else:
            self.auctions[auction_id] = auction._replace(bid=bid, bid_expiry=bid_expiry)
        token.transferFrom(self.address, sender, self.address, bid - auction.bid)
        self.log("Bid", auction_id=auction_id, bidder=sender, lot=auction.lot, bid=bid)

    def restart(self, sender: str, auction_id: int) -> None:
        auction = self.auctions[auction_id]
        require(auction.end != 0, "surplus auction: not running")
        require(auction.end < self.now, "surplus auction: not ended")
        require(auction.bid_expiry == 0, "surplus auction: has bids")
        end = self.now + self.auction_duration
        self.auctions[auction_id] = auction._replace(end=end)
        self.log("Restarted", auction_id=auction_id, end=end)

    def finish(self, sender: str, auction_id: int) -> None:
        require(self.live, "surplus auction: not live")
        auction = self.auctions[auction_id]
        require(
            auction.bid_expiry != 0 and (auction.bid_expiry <= self.now or auction.end <= self.now),
            "surplus auction: not finished",
        )
        self.auctions[auction_id] = Auction()
        self.engine.transfer_stable(self.address, self.address, auction.winner, auction.lot)
        self.at(self.token).burn(self.address, auction.bid)
        self.log(
            "Finished",
            auction_id=auction_id,
            winner=auction.winner,
            lot=auction.lot,
            bid=auction.bid,
        )

    def cancel(self, sender: str, auction_id: int) -> None:
        require(not self.live, "surplus auction: still live")
        auction = self.auctions[auction_id]
        require(auction.end != 0, "surplus auction: not running")
        refund = 0
        self.auctions[auction_id] = Auction()
        if auction.bid_expiry != 0:
            refund = auction.bid
            self.at(self.token).transfer(self.address, auction.winner, refund)
        self.log("Cancelled", auction_id=auction_id, winner=auction.winner, refund=refund)
