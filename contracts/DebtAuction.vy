# pragma version ~=0.4.3
"""
@title DebtAuction
@notice Raises stablecoin for bad debt that no other layer covered by selling newly minted
        governance token (debt for equity). The Backstop starts an auction for a fixed `bid`
        of stablecoin [rad]; bidders compete by accepting ever fewer governance tokens for it
        (the lot [wad]). The first bid pays the Backstop, which settles that much bad debt at
        once; every later bid repays the previous bidder their `bid`. After `bid_duration`
        without a better bid, or at the auction's end, the lot is minted to the winner. An
        auction that ends without a bid restarts with a larger lot.
@dev DSS analogue: Flopper (beg = min_decrease, pad = lot_growth, ttl = bid_duration,
     tau = auction_duration, kick = start, dent = bid, tick = restart, deal = finish,
     cage = shutdown, tic = bid_expiry, guy = winner).
     Keeps, per auction: the bid never changes; each bid's lot is at least `min_decrease`
     times smaller than the one before (`lot * min_decrease <= previous_lot * WAD`, and lower);
     at most one of `bid` / `finish` (with a bid) / `restart` (without) is possible at any
     time after the start (bid needs bid_expiry > now and end > now; finish needs a bid and
     bid_expiry <= now or end <= now; restart needs no bid and end < now, as dss: so in the
     second end == now of an auction without bids nothing is possible).
     Tokens are minted only by `finish`, to the bidder who paid; after shutdown nothing is
     minted and `cancel` refunds the bidder who paid (as new unbacked debt of the Backstop).
     While live, anyone may end an auction without a bid whose bid the Backstop's surplus pays
     (`repay`, issue 63 finding 5): nothing is minted for it.
     Storage: an auction is two slots until its first bid (lot, bid_expiry and end packed in
     one, the bid in the other) and three after it (the winner). Before the first bid the
     winner is the Backstop (the seller) and its slot stays empty; `auctions` reports it.
     A lot above 2**128 - 1 (restart growth included) or a duration >= 2**32 seconds reverts
     "debt auction: value too large", so lot, bid_expiry and end always fit their fields.
"""
from interfaces import IVaultEngine
from interfaces import IBackstop
from interfaces import IDebtAuction
from modules import constants
from modules import authorized as auth

# admins (governance) set parameters; roles: START and SHUTDOWN (the Backstop)
initializes: auth
exports: auth.__interface__

implements: IDebtAuction


interface IMintable:
    def mint(owner: address, amount: uint256): nonpayable


# the Backstop's views of its surplus that `repay` reads (beyond its interface file)
interface IBackstopSurplus:
    def unsettled_proceeds() -> uint256: view
    def unattributed_debt() -> uint256: view


# packed fields: lot takes 128 bits, bid_expiry and end 64 each
MAX_LOT: constant(uint256) = 2**128 - 1
# durations below 2**32 s keep now + duration below 2**64 for the next 500 billion years
MAX_DURATION: constant(uint256) = 2**32 - 1
MASK_64: constant(uint256) = 2**64 - 1
# the largest step between bids: a standing lot is beaten by one 1.5 times smaller, so the winner
# takes less than 1.5 times the least lot any bidder would accept (an unbounded step let a first
# bid keep a lot no second bid could usefully undercut)
MAX_MIN_DECREASE: constant(uint256) = constants.WAD * 3 // 2
# the shortest bid and auction duration: a rival has ten minutes (some 50 blocks) to answer a bid
# (a second let one transaction start an auction, bid and leave no block to bid in)
MIN_DURATION: constant(uint256) = 600
LOT_SHIFT: constant(uint256) = 128
EXPIRY_SHIFT: constant(uint256) = 64


struct Auction:
    # stablecoin the winner pays, fixed for the auction [rad]
    bid: uint256
    # governance token the winner gets [wad]
    lot: uint256
    # the current winner: the Backstop until the first bid; empty = no such auction
    winner: address
    # when the last bid expires [seconds]; 0 = no bid yet
    bid_expiry: uint256
    # when the auction ends [seconds]
    end: uint256


# the ledger
engine: public(immutable(IVaultEngine))
# the seller: receives the first bid, owes the refunds of cancelled auctions
backstop: public(immutable(IBackstop))
# the governance token minted to winners (this contract must be a minter)
token: public(immutable(address))

# False after shutdown: no start, bid or finish; cancel refunds bidders
live: public(bool)
# governance token offered by a new auction [wad]; 0 = starting reverts until set
initial_lot: public(uint256)
# a bid's lot must be this many times lower than the previous one [wad], > 1 wad
min_decrease: public(uint256)
# a restarted auction's lot is multiplied by this [wad], >= 1 wad
lot_growth: public(uint256)
# a bid wins if no better bid comes within this [seconds]
bid_duration: public(uint256)
# an auction ends this long after its start or restart [seconds]
auction_duration: public(uint256)
# auctions started so far (ids are 1, 2, ...)
count: public(uint256)
# auctions started and not yet finished, repaid or cancelled (global settlement thaws only at 0)
# [count]
running: public(uint256)
# auction id -> lot [wad] << 128 | bid_expiry << 64 | end; 0 = no such auction
auction_lot_times: HashMap[uint256, uint256]
# auction id -> bid [rad]
auction_bid: HashMap[uint256, uint256]
# auction id -> winner; empty until the first bid (empty = the Backstop, the seller)
auction_winner: HashMap[uint256, address]


# not "ParametersSet": the DutchAuction's has the same signature (five uint256), and tools
# decoding logs by topic alone would mislabel the fields
event DebtAuctionParametersSet:
    initial_lot: uint256
    min_decrease: uint256
    lot_growth: uint256
    bid_duration: uint256
    auction_duration: uint256


event Started:
    auction_id: indexed(uint256)
    bid: uint256
    lot: uint256


event Bid:
    auction_id: indexed(uint256)
    bidder: indexed(address)
    lot: uint256
    bid: uint256


event Restarted:
    auction_id: indexed(uint256)
    lot: uint256
    end: uint256


event Finished:
    auction_id: indexed(uint256)
    winner: indexed(address)
    lot: uint256
    bid: uint256


event Shutdown:
    pass


event Cancelled:
    auction_id: indexed(uint256)
    winner: indexed(address)
    refund: uint256


event Repaid:
    auction_id: indexed(uint256)
    bid: uint256


@deploy
def __init__(engine_: IVaultEngine, backstop_: IBackstop, token_: address):
    """
    @notice Parameters start at dss's values (5% decrease, 50% growth, 3 hours per bid,
            2 days per auction) with no lot: `start` reverts until `set_parameters`.
    @param engine_ The VaultEngine (this contract needs its MINT_UNBACKED role, for cancel
           refunds).
    @param backstop_ The Backstop (grant it START and SHUTDOWN here).
    @param token_ The GovernanceToken (this contract must be one of its minters).
    """
    engine = engine_
    backstop = backstop_
    token = token_
    self.live = True
    self.min_decrease = constants.WAD * 105 // 100
    self.lot_growth = constants.WAD * 150 // 100
    self.bid_duration = 3 * 3600
    self.auction_duration = 2 * 86400
    auth.__init__(auth.START | auth.SHUTDOWN)


# ---------------------------------------------------------------- administration


@external
def set_parameters(
    initial_lot: uint256,
    min_decrease: uint256,
    lot_growth: uint256,
    bid_duration: uint256,
    auction_duration: uint256,
):
    """
    @notice Set the auction parameters (running auctions use the new ones from now on).
    @param initial_lot Governance token offered by a new auction [wad], non-zero, < 2**128.
    @param min_decrease Each bid's lot is at least this many times lower [wad], above 1 wad, at
           most 1.5 wad.
    @param lot_growth Factor applied to the lot of an auction restarted without bids [wad],
           at least 1 wad.
    @param bid_duration Seconds a bid must stand to win, 600 to < 2**32.
    @param auction_duration Seconds an auction runs (from start or restart), 600 to < 2**32.
    """
    auth._check_authorized()
    assert initial_lot != 0, "debt auction: zero lot"
    assert min_decrease > constants.WAD, "debt auction: min decrease not above 1"
    assert min_decrease <= MAX_MIN_DECREASE, "debt auction: min decrease above 1.5"
    assert lot_growth >= constants.WAD, "debt auction: lot growth below 1"
    assert bid_duration != 0 and auction_duration != 0, "debt auction: zero duration"
    assert (
        bid_duration >= MIN_DURATION and auction_duration >= MIN_DURATION
    ), "debt auction: duration below 10 minutes"
    assert (
        initial_lot <= MAX_LOT and bid_duration <= MAX_DURATION and auction_duration <= MAX_DURATION
    ), "debt auction: value too large"
    self.initial_lot = initial_lot
    self.min_decrease = min_decrease
    self.lot_growth = lot_growth
    self.bid_duration = bid_duration
    self.auction_duration = auction_duration
    log DebtAuctionParametersSet(
        initial_lot=initial_lot,
        min_decrease=min_decrease,
        lot_growth=lot_growth,
        bid_duration=bid_duration,
        auction_duration=auction_duration,
    )


@external
def shutdown():
    """
    @notice Global settlement: no more starts, bids or finishes; running auctions can be
            cancelled. Called by the Backstop.
    """
    auth._check_role(auth.SHUTDOWN)
    self.live = False
    log Shutdown()


# ---------------------------------------------------------------- auctions


@external
def start(bid: uint256) -> uint256:
    """
    @notice Start an auction selling up to `initial_lot` governance token for `bid`
            stablecoin (the Backstop, for debt it moved to `debt_on_auction`).
    @param bid Stablecoin to raise [rad], non-zero.
    @return The new auction's id.
    """
    auth._check_role(auth.START)
    assert self.live, "debt auction: not live"
    assert bid != 0, "debt auction: zero bid"
    lot: uint256 = self.initial_lot
    assert lot != 0, "debt auction: no lot"
    auction_id: uint256 = self.count + 1
    self.count = auction_id
    self.running += 1
    # lot <= MAX_LOT (set_parameters); end < 2**64 (auction_duration < 2**32)
    self.auction_lot_times[auction_id] = lot << LOT_SHIFT | (
        block.timestamp + self.auction_duration
    )
    self.auction_bid[auction_id] = bid
    log Started(auction_id=auction_id, bid=bid, lot=lot)
    return auction_id


@external
def bid(auction_id: uint256, lot: uint256):
    """
    @notice Offer to pay the auction's bid for `lot` governance token. The caller pays
            (internal stablecoin; it must have allowed this contract in the engine) unless it
            is already the winner: the first bid pays the Backstop, which settles that much
            bad debt; a later bid repays the previous winner.
    @param auction_id The auction.
    @param lot Governance token wanted [wad]: lower than the current lot, and
           `lot * min_decrease <= current lot * WAD`.
    """
    assert self.live, "debt auction: not live"
    auction: Auction = self._load(auction_id)
    assert auction.end != 0, "debt auction: not running"
    assert (
        auction.bid_expiry == 0 or auction.bid_expiry > block.timestamp
    ), "debt auction: bid expired"
    assert auction.end > block.timestamp, "debt auction: auction ended"
    assert lot < auction.lot, "debt auction: lot not lower"
    assert lot * self.min_decrease <= auction.lot * constants.WAD, "debt auction: lot not lower"

    # bid_expiry < 2**64: bid_duration < 2**32; lot < the stored lot <= MAX_LOT
    bid_expiry: uint256 = block.timestamp + self.bid_duration
    self.auction_lot_times[auction_id] = lot << LOT_SHIFT | bid_expiry << EXPIRY_SHIFT | auction.end
    if msg.sender != auction.winner:
        self.auction_winner[auction_id] = msg.sender
        extcall engine.transfer_stable(msg.sender, auction.winner, auction.bid)
        if auction.bid_expiry == 0:
            # the first bid paid the Backstop: it settles that much bad debt (inside this
            # branch, as dss: the Backstop never bids, and a bid of its own would pay nothing)
            extcall backstop.on_debt_auction_bid(auction.bid)
    log Bid(auction_id=auction_id, bidder=msg.sender, lot=lot, bid=auction.bid)


@external
def restart(auction_id: uint256):
    """
    @notice Restart an auction that ended without a bid, with its lot multiplied by
            `lot_growth` (rounded down) and a new end. Anyone may call.
    @param auction_id The auction.
    """
    auction: Auction = self._load(auction_id)
    assert auction.end != 0, "debt auction: not running"
    assert auction.end < block.timestamp, "debt auction: not ended"
    assert auction.bid_expiry == 0, "debt auction: has bids"
    # rounded down: never more tokens than the growth factor gives
    lot: uint256 = auction.lot * self.lot_growth // constants.WAD
    assert lot <= MAX_LOT, "debt auction: value too large"
    end: uint256 = block.timestamp + self.auction_duration
    # no bid: bid_expiry stays 0
    self.auction_lot_times[auction_id] = lot << LOT_SHIFT | end
    log Restarted(auction_id=auction_id, lot=lot, end=end)


@external
def finish(auction_id: uint256):
    """
    @notice Mint the lot to the winner of an auction whose last bid expired or that ended
            with a bid. Anyone may call.
    @param auction_id The auction.
    """
    assert self.live, "debt auction: not live"
    auction: Auction = self._load(auction_id)
    assert auction.bid_expiry != 0 and (
        auction.bid_expiry <= block.timestamp or auction.end <= block.timestamp
    ), "debt auction: not finished"
    self._delete(auction_id)
    # the auction ran, so running >= 1
    self.running = unsafe_sub(self.running, 1)
    extcall IMintable(token).mint(auction.winner, auction.lot)
    log Finished(auction_id=auction_id, winner=auction.winner, lot=auction.lot, bid=auction.bid)


@external
def repay(auction_id: uint256):
    """
    @notice End an auction nobody has bid on when the Backstop's surplus (arrived since it
            started) pays its whole bid: the Backstop cancels the bid against its bad debt
            (`on_debt_auction_bid`, as for a first bid) and no token is ever minted for it
            (issue 63, finding 5; dss's kiss of Ash). The surplus that may pay is the Backstop's
            room for loss: its stablecoin less its unsettled proceeds and less its unattributed
            bad debt, 0 below (what its FUND layer pays from). Anyone may call. An auction with
            a bid cannot be ended so: its bidder has paid the Backstop.
    @param auction_id The auction.
    """
    assert self.live, "debt auction: not live"
    auction: Auction = self._load(auction_id)
    assert auction.end != 0, "debt auction: not running"
    assert auction.bid_expiry == 0, "debt auction: has bids"
    # the Backstop's room [rad]: its unsettled proceeds are owed to attributed debt (at most its
    # stablecoin) and the unattributed bad debt is paid from surplus first
    free: uint256 = (
        staticcall engine.stable(backstop.address)
        - staticcall IBackstopSurplus(backstop.address).unsettled_proceeds()
    )
    unattributed: uint256 = staticcall IBackstopSurplus(backstop.address).unattributed_debt()
    # free - unattributed >= bid, without the difference's underflow below 0
    assert free >= unattributed + auction.bid, "debt auction: surplus below bid"
    self._delete(auction_id)
    # the auction ran, so running >= 1
    self.running = unsafe_sub(self.running, 1)
    # reverts unless the Backstop started this auction (its bid is in its debt_on_auction)
    extcall backstop.on_debt_auction_bid(auction.bid)
    log Repaid(auction_id=auction_id, bid=auction.bid)


@external
def cancel(auction_id: uint256):
    """
    @notice After shutdown, cancel an auction: a bidder who paid gets their bid back (as
            stablecoin created against the Backstop's unbacked debt). Anyone may call.
    @param auction_id The auction.
    """
    assert not self.live, "debt auction: still live"
    auction: Auction = self._load(auction_id)
    assert auction.end != 0, "debt auction: not running"
    refund: uint256 = 0
    self._delete(auction_id)
    # the auction ran, so running >= 1
    self.running = unsafe_sub(self.running, 1)
    if auction.bid_expiry != 0:
        refund = auction.bid
        extcall engine.create_unbacked(backstop.address, auction.winner, refund)
    log Cancelled(auction_id=auction_id, winner=auction.winner, refund=refund)


# ---------------------------------------------------------------- keeper views


@view
@external
def auctions(auction_id: uint256) -> Auction:
    """
    @notice An auction's state.
    @param auction_id The auction.
    @return (bid [rad], lot [wad], winner, bid_expiry, end); all zero if none.
    """
    return self._load(auction_id)


# ---------------------------------------------------------------- internal


@view
@internal
def _load(auction_id: uint256) -> Auction:
    packed: uint256 = self.auction_lot_times[auction_id]
    winner: address = self.auction_winner[auction_id]
    if winner == empty(address) and packed != 0:
        # started, no bid yet: the seller holds the auction
        winner = backstop.address
    return Auction(
        bid=self.auction_bid[auction_id],
        lot=packed >> LOT_SHIFT,
        winner=winner,
        bid_expiry=(packed >> EXPIRY_SHIFT) & MASK_64,
        end=packed & MASK_64,
    )


@internal
def _delete(auction_id: uint256):
    self.auction_lot_times[auction_id] = 0
    self.auction_bid[auction_id] = 0
    self.auction_winner[auction_id] = empty(address)
