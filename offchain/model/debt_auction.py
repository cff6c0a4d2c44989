"""Twin of contracts/DebtAuction.vy: fixed-bid, falling-lot auctions of newly minted governance
token for stablecoin (dss Flopper)."""

from __future__ import annotations

from typing import NamedTuple

from offchain.model.backstop import surplus_room
from offchain.model.errors import require
from offchain.model.fixed_point import WAD, u256
from offchain.model.state import ZERO_ADDRESS, Authorized, Env, Role
from offchain.model.vault_engine import VaultEngine

# the contract packs lot into 128 bits, bid_expiry and end into 64 each
MAX_LOT = 2**128 - 1
MAX_DURATION = 2**32 - 1
MAX_MIN_DECREASE = WAD * 3 // 2  # the largest step between bids (DebtAuction.vy)
MIN_DURATION = 600  # the shortest bid and auction duration (DebtAuction.vy)


class Auction(NamedTuple):
    """As the contract's `auctions(id)` view returns it: before the first bid the winner is the
    Backstop (the contract stores an empty winner slot and reports the Backstop)."""

    bid: int = 0  # rad
    lot: int = 0  # wad
    winner: str = ZERO_ADDRESS
    bid_expiry: int = 0  # seconds; 0 = no bid yet
    end: int = 0  # seconds; 0 = no such auction


class DebtAuction(Authorized):
    ROLE_SET = Role.START | Role.SHUTDOWN

    def __init__(
        self, env: Env, address: str, deployer: str, engine: str, backstop: str, token: str
    ):
        super().__init__(env, address)
        self.engine: VaultEngine = self.at(engine)
        self.backstop = backstop
        self.token = token
        self.live = True
        self.initial_lot = 0
        self.min_decrease = WAD * 105 // 100
        self.lot_growth = WAD * 150 // 100
        self.bid_duration = 3 * 3600
        self.auction_duration = 2 * 86400
        self.count = 0
        self.running = 0  # auctions started, not finished or cancelled
        self.auctions = self.storage(Auction())
        self._init_auth(deployer)

    # ------------------------------------------------------------ administration

    def set_parameters(
        self,
        sender: str,
        initial_lot: int,
        min_decrease: int,
        lot_growth: int,
        bid_duration: int,
        auction_duration: int,
    ) -> None:
        self._check_authorized(sender)
        require(initial_lot != 0, "debt auction: zero lot")
        require(min_decrease > WAD, "debt auction: min decrease not above 1")
        require(min_decrease <= MAX_MIN_DECREASE, "debt auction: min decrease above 1.5")
        require(lot_growth >= WAD, "debt auction: lot growth below 1")
        require(bid_duration != 0 and auction_duration != 0, "debt auction: zero duration")
        require(
            bid_duration >= MIN_DURATION and auction_duration >= MIN_DURATION,
            "debt auction: duration below 10 minutes",
        )
        require(
            initial_lot <= MAX_LOT
            and bid_duration <= MAX_DURATION
            and auction_duration <= MAX_DURATION,
            "debt auction: value too large",
        )
        self.initial_lot = initial_lot
        self.min_decrease = min_decrease
        self.lot_growth = lot_growth
        self.bid_duration = bid_duration
        self.auction_duration = auction_duration
        self.log(
            "DebtAuctionParametersSet",
            initial_lot=initial_lot,
            min_decrease=min_decrease,
            lot_growth=lot_growth,
            bid_duration=bid_duration,
            auction_duration=auction_duration,
        )

    def shutdown(self, sender: str) -> None:
        self._check_role(sender, Role.SHUTDOWN)
        self.live = False
        self.log("Shutdown")

    # ------------------------------------------------------------ auctions

    def start(self, sender: str, bid: int) -> int:
        self._check_role(sender, Role.START)
        require(self.live, "debt auction: not live")
        require(bid != 0, "debt auction: zero bid")
        lot = self.initial_lot
        require(lot != 0, "debt auction: no lot")
        auction_id = self.count + 1
        self.count = auction_id
        self.running += 1
        self.auctions[auction_id] = Auction(
            bid, lot, self.backstop, 0, self.now + self.auction_duration
        )
        self.log("Started", auction_id=auction_id, bid=bid, lot=lot)
        return auction_id

    def bid(self, sender: str, auction_id: int, lot: int) -> None:
        require(self.live, "debt auction: not live")
        auction = self.auctions[auction_id]
        require(auction.end != 0, "debt auction: not running")
        require(
            auction.bid_expiry == 0 or auction.bid_expiry > self.now, "debt auction: bid expired"
        )
        require(auction.end > self.now, "debt auction: auction ended")
        require(lot < auction.lot, "debt auction: lot not lower")
        require(u256(lot * self.min_decrease) <= auction.lot * WAD, "debt auction: lot not lower")

        bid_expiry = self.now + self.bid_duration
        if sender != auction.winner:
            self.auctions[auction_id] = auction._replace(
                lot=lot, winner=sender, bid_expiry=bid_expiry
            )
            self.engine.transfer_stable(self.address, sender, auction.winner, auction.bid)
            if auction.bid_expiry == 0:
                self.at(self.backstop).on_debt_auction_bid(self.address, auction.bid)
        else:
            self.auctions[auction_id] = auction._replace(lot=lot, bid_expiry=bid_expiry)
        self.log("Bid", auction_id=auction_id, bidder=sender, lot=lot, bid=auction.bid)

    def restart(self, sender: str, auction_id: int) -> None:
        auction = self.auctions[auction_id]
        require(auction.end != 0, "debt auction: not running")
        require(auction.end < self.now, "debt auction: not ended")
        require(auction.bid_expiry == 0, "debt auction: has bids")
        lot = u256(auction.lot * self.lot_growth) // WAD
        require(lot <= MAX_LOT, "debt auction: value too large")
        end = self.now + self.auction_duration
        self.auctions[auction_id] = auction._replace(lot=lot, end=end)
        self.log("Restarted", auction_id=auction_id, lot=lot, end=end)

    def finish(self, sender: str, auction_id: int) -> None:
        require(self.live, "debt auction: not live")
        auction = self.auctions[auction_id]
        require(
            auction.bid_expiry != 0 and (auction.bid_expiry <= self.now or auction.end <= self.now),
            "debt auction: not finished",
        )
        self.auctions[auction_id] = Auction()
        self.running -= 1
        self.at(self.token).mint(self.address, auction.winner, auction.lot)
        self.log(
            "Finished",
            auction_id=auction_id,
            winner=auction.winner,
            lot=auction.lot,
            bid=auction.bid,
        )

    def repay(self, sender: str, auction_id: int) -> None:
        """contracts/DebtAuction.vy: anyone ends an auction without a bid whose bid the
        Backstop's surplus room pays (`surplus_room`: the FUND layer's room, from the Backstop's
        views); the Backstop cancels it as a first bid's payment; nothing is minted (issue 63,
        finding 5)."""
        require(self.live, "debt auction: not live")
        auction = self.auctions[auction_id]
        require(auction.end != 0, "debt auction: not running")
        require(auction.bid_expiry == 0, "debt auction: has bids")
        backstop = self.at(self.backstop)
        free = self.engine.stable[self.backstop] - backstop.unsettled_proceeds()
        require(
            surplus_room(free, backstop.unattributed_debt()) >= auction.bid,
            "debt auction: surplus below bid",
        )
        self.auctions[auction_id] = Auction()
        self.running -= 1
        backstop.on_debt_auction_bid(self.address, auction.bid)
        self.log("Repaid", auction_id=auction_id, bid=auction.bid)

    def cancel(self, sender: str, auction_id: int) -> None:
        require(not self.live, "debt auction: still live")
        auction = self.auctions[auction_id]
        require(auction.end != 0, "debt auction: not running")
        refund = 0
        self.auctions[auction_id] = Auction()
        self.running -= 1
        if auction.bid_expiry != 0:
            refund = auction.bid
            self.engine.create_unbacked(self.address, self.backstop, auction.winner, refund)
        self.log("Cancelled", auction_id=auction_id, winner=auction.winner, refund=refund)
