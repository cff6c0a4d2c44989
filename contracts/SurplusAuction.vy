# pragma version ~=0.4.3
"""
@title SurplusAuction
@notice Sells the protocol's surplus stablecoin for governance token, and burns the token: the
        Backstop moves a fixed `lot` of stablecoin [rad] here and starts an auction; bidders
        offer ever more governance token [wad] for it. After `bid_duration` without a better
        bid, or at the auction's end, the winner gets the lot and their bid is burned. An
        auction that ends without a bid restarts with a new end.
@dev DSS analogue: Flapper (beg = min_increase, ttl = bid_duration, tau = auction_duration,
     kick = start, tend = bid, tick = restart, deal = finish, cage = shutdown, tic =
     bid_expiry, guy = winner).
     Keeps: this contract's engine balance >= the lots of its auctions (each lot arrives before
     its `start` and leaves only by `finish` or `shutdown`); its governance-token balance >=
     the bids of its auctions (each bid is paid in, and leaves only by `finish`, burned, or
     `cancel`, refunded). Each bid is higher than the one before and at least `min_increase`
     times it (`bid * WAD >= previous_bid * min_increase`). At most one of `bid` / `finish`
     (with a bid) / `restart` (without) is possible at any time after the start (as the
     DebtAuction). Bidders pay with an ERC-20 allowance to this contract: a new bidder repays
     the previous winner's bid to them directly and pays the increase to this contract (the
     token is the GovernanceToken, which reverts on failure: its `True` results are not
     checked).
     On shutdown the whole stablecoin balance returns to the Backstop at once; `cancel` then
     refunds each auction's bidder their governance token.
     Storage: an auction is two slots until its first bid (bid, bid_expiry and end packed in
     one, the lot in the other) and three after it (the winner). Before the first bid the
     winner is the Backstop (the seller) and its slot stays empty; `auctions` reports it.
     A bid above 2**128 - 1 or a duration >= 2**32 seconds reverts "surplus auction: value too
     large", so bid, bid_expiry and end always fit their fields.
"""
from ethereum.ercs import IERC20
from interfaces import IVaultEngine
from interfaces import ISurplusAuction
from modules import constants
from modules import authorized as auth

# admins (governance) set parameters; roles: START and SHUTDOWN (the Backstop)
initializes: auth
exports: auth.__interface__

implements: ISurplusAuction


interface IBurnable:
    def burn(amount: uint256): nonpayable


# packed fields: bid takes 128 bits, bid_expiry and end 64 each
MAX_BID: constant(uint256) = 2**128 - 1
# durations below 2**32 s keep now + duration below 2**64 for the next 500 billion years
MAX_DURATION: constant(uint256) = 2**32 - 1
MASK_64: constant(uint256) = 2**64 - 1
# the largest step between bids: a standing bid is beaten by one 1.5 times it, so the winner pays
# more than 2/3 of the most any bidder would pay (an unbounded step let a first bid of a wei win
# the whole lot: no second bid could reach it below MAX_BID)
MAX_MIN_INCREASE: constant(uint256) = constants.WAD * 3 // 2
# the shortest bid and auction duration: a rival has ten minutes (some 50 blocks) to answer a bid
# (a second let one transaction start an auction, bid and leave no block to bid in)
MIN_DURATION: constant(uint256) = 600
BID_SHIFT: constant(uint256) = 128
EXPIRY_SHIFT: constant(uint256) = 64


struct Auction:
    # governance token offered by the winner [wad]; 0 = no bid yet
    bid: uint256
    # stablecoin for sale, held by this contract in the engine [rad]
    lot: uint256
    # the current winner: the Backstop until the first bid; empty = no such auction
    winner: address
    # when the last bid expires [seconds]; 0 = no bid yet
    bid_expiry: uint256
    # when the auction ends [seconds]
    end: uint256


# the ledger
engine: public(immutable(IVaultEngine))
# the seller: starts auctions, gets the stablecoin back on shutdown
backstop: public(immutable(address))
# the governance token bid (and burned)
token: public(immutable(address))

# False after shutdown: no start, bid or finish; cancel refunds bidders
live: public(bool)
# a bid must be at least this many times the previous one [wad], > 1 wad
min_increase: public(uint256)
# a bid wins if no better bid comes within this [seconds]
bid_duration: public(uint256)
# an auction ends this long after its start or restart [seconds]
auction_duration: public(uint256)
# auctions started so far (ids are 1, 2, ...)
count: public(uint256)
# auction id -> bid [wad] << 128 | bid_expiry << 64 | end; 0 = no such auction
auction_bid_times: HashMap[uint256, uint256]
# auction id -> lot [rad]
auction_lot: HashMap[uint256, uint256]
# auction id -> winner; empty until the first bid (empty = the Backstop, the seller)
auction_winner: HashMap[uint256, address]


event ParametersSet:
    min_increase: uint256
    bid_duration: uint256
    auction_duration: uint256


event Started:
    auction_id: indexed(uint256)
    lot: uint256


# the DebtAuction's Bid: same signature, same fields in the same order
event Bid:
    auction_id: indexed(uint256)
    bidder: indexed(address)
    lot: uint256
    bid: uint256


event Restarted:
    auction_id: indexed(uint256)
    end: uint256


event Finished:
    auction_id: indexed(uint256)
    winner: indexed(address)
    lot: uint256
    bid: uint256


# the stablecoin returned to the Backstop is in the engine's StableTransferred just before
# (a Shutdown(uint256) would share the GlobalSettlement's signature)
event Shutdown:
    pass


event Cancelled:
    auction_id: indexed(uint256)
    winner: indexed(address)
    refund: uint256


@deploy
def __init__(engine_: IVaultEngine, backstop_: address, token_: address):
    """
    @notice Parameters start at dss's values (5% increase, 3 hours per bid, 2 days per
            auction).
    @param engine_ The VaultEngine.
    @param backstop_ The Backstop (grant it START and SHUTDOWN here).
    @param token_ The GovernanceToken.
    """
    engine = engine_
    backstop = backstop_
    token = token_
    self.live = True
    self.min_increase = constants.WAD * 105 // 100
    self.bid_duration = 3 * 3600
    self.auction_duration = 2 * 86400
    auth.__init__(auth.START | auth.SHUTDOWN)


# ---------------------------------------------------------------- administration


@external
def set_parameters(min_increase: uint256, bid_duration: uint256, auction_duration: uint256):
    """
    @notice Set the auction parameters (running auctions use the new ones from now on).
    @param min_increase Each bid is at least this many times the previous one [wad], above
           1 wad, at most 1.5 wad.
    @param bid_duration Seconds a bid must stand to win, 600 to < 2**32.
    @param auction_duration Seconds an auction runs (from start or restart), 600 to < 2**32.
    """
    auth._check_authorized()
    assert min_increase > constants.WAD, "surplus auction: min increase not above 1"
    assert min_increase <= MAX_MIN_INCREASE, "surplus auction: min increase above 1.5"
    assert bid_duration != 0 and auction_duration != 0, "surplus auction: zero duration"
    assert (
        bid_duration >= MIN_DURATION and auction_duration >= MIN_DURATION
    ), "surplus auction: duration below 10 minutes"
    assert (
        bid_duration <= MAX_DURATION and auction_duration <= MAX_DURATION
    ), "surplus auction: value too large"
    self.min_increase = min_increase
    self.bid_duration = bid_duration
    self.auction_duration = auction_duration
    log ParametersSet(
        min_increase=min_increase, bid_duration=bid_duration, auction_duration=auction_duration
    )


@external
def shutdown():
    """
    @notice Global settlement: no more starts, bids or finishes; all the stablecoin held here
            returns to the Backstop; running auctions can be cancelled. Called by the Backstop.
    """
    auth._check_role(auth.SHUTDOWN)
    self.live = False
    returned: uint256 = staticcall engine.stable(self)
    extcall engine.transfer_stable(self, backstop, returned)
    log Shutdown()


# ---------------------------------------------------------------- auctions


@external
def start(lot: uint256) -> uint256:
    """
    @notice Start an auction of `lot` stablecoin (the Backstop, after moving the lot to this
            contract in the engine).
    @param lot Stablecoin for sale [rad], non-zero.
    @return The new auction's id.
    """
    auth._check_role(auth.START)
    assert self.live, "surplus auction: not live"
    assert lot != 0, "surplus auction: zero lot"
    auction_id: uint256 = self.count + 1
    self.count = auction_id
    # no bid yet: bid and bid_expiry are 0; end < 2**64 (auction_duration < 2**32)
    self.auction_bid_times[auction_id] = block.timestamp + self.auction_duration
    self.auction_lot[auction_id] = lot
    log Started(auction_id=auction_id, lot=lot)
    return auction_id


@external
def bid(auction_id: uint256, bid: uint256):
    """
    @notice Offer `bid` governance token for the auction's lot. The caller pays with an
            ERC-20 allowance to this contract: a new winner repays the previous winner's bid
            to them and pays the rest here; the winner raising their own bid pays the increase.
    @param auction_id The auction.
    @param bid Governance token offered [wad]: above the current bid, and
           `bid * WAD >= current bid * min_increase`.
    """
    assert self.live, "surplus auction: not live"
    auction: Auction = self._load(auction_id)
    assert auction.end != 0, "surplus auction: not running"
    assert (
        auction.bid_expiry == 0 or auction.bid_expiry > block.timestamp
    ), "surplus auction: bid expired"
    assert auction.end > block.timestamp, "surplus auction: auction ended"
    assert bid > auction.bid, "surplus auction: bid not higher"
    assert bid * constants.WAD >= auction.bid * self.min_increase, "surplus auction: bid not higher"
    assert bid <= MAX_BID, "surplus auction: value too large"

    # bid_expiry < 2**64: bid_duration < 2**32
    bid_expiry: uint256 = block.timestamp + self.bid_duration
    self.auction_bid_times[auction_id] = bid << BID_SHIFT | bid_expiry << EXPIRY_SHIFT | auction.end
    # the bidder pays the increase, bid - auction.bid (> 0, checked), to this contract; a new
    # winner also pays the previous winner's bid back to it
    if msg.sender != auction.winner:
        self.auction_winner[auction_id] = msg.sender
        if auction.bid_expiry != 0:
            extcall IERC20(token).transferFrom(msg.sender, auction.winner, auction.bid)
    extcall IERC20(token).transferFrom(msg.sender, self, bid - auction.bid)
    log Bid(auction_id=auction_id, bidder=msg.sender, lot=auction.lot, bid=bid)


@external
def restart(auction_id: uint256):
    """
    @notice Restart an auction that ended without a bid, with a new end. Anyone may call.
    @param auction_id The auction.
    """
    auction: Auction = self._load(auction_id)
    assert auction.end != 0, "surplus auction: not running"
    assert auction.end < block.timestamp, "surplus auction: not ended"
    assert auction.bid_expiry == 0, "surplus auction: has bids"
    end: uint256 = block.timestamp + self.auction_duration
    # no bid: bid and bid_expiry stay 0
    self.auction_bid_times[auction_id] = end
    log Restarted(auction_id=auction_id, end=end)


@external
def finish(auction_id: uint256):
    """
    @notice Give the lot to the winner of an auction whose last bid expired or that ended
            with a bid, and burn the bid. Anyone may call.
    @param auction_id The auction.
    """
    assert self.live, "surplus auction: not live"
    auction: Auction = self._load(auction_id)
    assert auction.bid_expiry != 0 and (
        auction.bid_expiry <= block.timestamp or auction.end <= block.timestamp
    ), "surplus auction: not finished"
    self._delete(auction_id)
    extcall engine.transfer_stable(self, auction.winner, auction.lot)
    extcall IBurnable(token).burn(auction.bid)
    log Finished(auction_id=auction_id, winner=auction.winner, lot=auction.lot, bid=auction.bid)


@external
def cancel(auction_id: uint256):
    """
    @notice After shutdown, cancel an auction: its bidder gets their governance token back
            (the lot already went back to the Backstop with `shutdown`). Anyone may call.
    @param auction_id The auction.
    """
    assert not self.live, "surplus auction: still live"
    auction: Auction = self._load(auction_id)
    assert auction.end != 0, "surplus auction: not running"
    refund: uint256 = 0
    self._delete(auction_id)
    if auction.bid_expiry != 0:
        refund = auction.bid
        extcall IERC20(token).transfer(auction.winner, refund)
    log Cancelled(auction_id=auction_id, winner=auction.winner, refund=refund)


# ---------------------------------------------------------------- keeper views


@view
@external
def auctions(auction_id: uint256) -> Auction:
    """
    @notice An auction's state.
    @param auction_id The auction.
    @return (bid [wad], lot [rad], winner, bid_expiry, end); all zero if none.
    """
    return self._load(auction_id)


# ---------------------------------------------------------------- internal


@view
@internal
def _load(auction_id: uint256) -> Auction:
    packed: uint256 = self.auction_bid_times[auction_id]
    winner: address = self.auction_winner[auction_id]
    if winner == empty(address) and packed != 0:
        # started, no bid yet: the seller holds the auction
        winner = backstop
    return Auction(
        bid=packed >> BID_SHIFT,
        lot=self.auction_lot[auction_id],
        winner=winner,
        bid_expiry=(packed >> EXPIRY_SHIFT) & MASK_64,
        end=packed & MASK_64,
    )


@internal
def _delete(auction_id: uint256):
    self.auction_bid_times[auction_id] = 0
    self.auction_lot[auction_id] = 0
    self.auction_winner[auction_id] = empty(address)
