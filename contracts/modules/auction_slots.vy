# pragma version ~=0.4.3
"""
@title auction_slots
@notice Where a DutchAuction keeps its running auctions: MAX_ACTIVE (1,024) storage slots of
        three words each, a bitmap of the free ones, and the ids that name a slot and its
        generation, so an id is never reused. The auction's rules (prices, takes, resets,
        rewards) stay in DutchAuction.vy; this module claims and frees slots, packs and unpacks
        a running auction's words, and answers which auctions run.
@dev Compiled into the DutchAuction (`initializes: auction_slots`, placed where these words
     were in its storage, so the slots are the same): no extra contract on the liquidation or
     take path. The off-chain twin is offchain/model/dutch_auction.py (its slot bitmap, ids and
     `_load`/`_store`).
"""

# how many auctions may run at once: one slot each, 2**SLOT_BITS slots
MAX_ACTIVE: constant(uint256) = 1024
SLOT_BITS: constant(uint256) = 10
# the running-slot bitmap's words (256 slots each)
RUNNING_WORDS: constant(uint256) = 4
# a slot's generation counts the auctions it has held; it sits in 32 bits of the meta word. A slot
# that reached it ("auction: slot worn out", after 4.3e9 auctions in that one slot) would block
# every start while it is the lowest free slot (has_room and next_id do not check it)
MAX_GENERATION: constant(uint256) = 2**32 - 1
# packed fields: lot and top take 128 bits, started 64, generation 32
MAX_FIELD: constant(uint256) = 2**128 - 1
STARTED_MASK: constant(uint256) = 2**64 - 1
# a running auction's words (below): each field read as (word >> X_SHIFT) & X_MASK
OWNER_SHIFT: constant(uint256) = 96
STARTED_SHIFT: constant(uint256) = 32
LOT_SHIFT: constant(uint256) = 128
# an auction's debt slot: the reward budget left, in units of 2**144 rad (~0.022 stablecoin,
# rounded down) above bit 200, and the debt still to raise below (the Backstop bounds it by 2**200)
DEBT_BITS: constant(uint256) = 200
DEBT_MASK: constant(uint256) = 2**200 - 1
BUDGET_UNIT: constant(uint256) = 2**144


struct Auction:
    # the storage slot the auction occupies (0 .. MAX_ACTIVE - 1; the low bits of its id - 1)
    position: uint256
    # stablecoin still to raise [rad]
    debt: uint256
    # collateral still for sale [wad]
    lot: uint256
    # the liquidated vault's owner (gets leftover collateral); empty = no such auction
    owner: address
    # when the auction started or was last reset [seconds]
    started: uint256
    # start price [ray]: stablecoin per wad of collateral, x 1e27
    top: uint256
    # what resets may still pay in keeper rewards: the penalty income at the start less every
    # reward paid since (multiples of 2**144, rounded down) [rad]
    reward_budget: uint256


# A running auction occupies one of MAX_ACTIVE storage slots, packed into three words (six would
# cost 66k more gas to start one). Its id names the slot and the slot's generation:
# id = (generation << SLOT_BITS | slot) + 1, so ids are unique for ever (the Backstop keys loss
# events by them) and the first auctions of a deployment get ids 1, 2, 3, ... A finished
# auction's words are not cleared: they keep the slot's next generation (owner 0), so the next
# auction there updates three words instead of creating them (17.1k gas less each).
# slot -> owner << 96 | started << 32 | generation (running: owner != 0);
#         next generation (free; 0 = never used)
auction_meta: HashMap[uint256, uint256]
# slot -> reward budget [2**144 rad] << 200 | debt still to raise [rad] (stale when free)
auction_debt: HashMap[uint256, uint256]
# slot -> lot [wad] << 128 | top [ray] (stale when free)
auction_lot_top: HashMap[uint256, uint256]
# which slots are free: bit (slot % 256) of word (slot // 256) is set while no auction runs in
# the slot. Every bit is set at deployment, so a word is non-zero until 256 auctions run at once
# in its slots: a start clears a bit in a word that exists (5k gas, not 22.1k to create it)
free: uint256[RUNNING_WORDS]


@deploy
def __init__():
    # every slot free
    self.free = [max_value(uint256), max_value(uint256), max_value(uint256), max_value(uint256)]


# ---------------------------------------------------------------- views


@view
@external
def auctions(auction_id: uint256) -> Auction:
    """
    @notice An auction's stored state.
    @param auction_id The auction.
    @return (position (its storage slot), debt [rad], lot [wad], owner, started, top [ray],
            reward_budget [rad]); all zero if it is not running.
    """
    return self._load(auction_id)


@view
@external
def active_auctions() -> DynArray[uint256, MAX_ACTIVE]:
    """
    @notice Ids of the running auctions.
    @return The ids, in the order of their storage slots.
    """
    return self._running_ids()


@view
@external
def next_id() -> uint256:
    """
    @notice The id the next auction will get (the lowest free slot in its next generation).
    @return The id; 0 if every slot is taken.
    """
    # _claim_slot's search, without the claim
    for w: uint256 in range(RUNNING_WORDS):
        word: uint256 = self.free[w]
        if word != 0:
            slot: uint256 = w << 8 | self._log2(word & unsafe_sub(0, word))
            return (self.auction_meta[slot] << SLOT_BITS | slot) + 1
    return 0


@view
@external
def active_count() -> uint256:
    """
    @notice How many auctions are running.
    @return The count.
    """
    return len(self._running_ids())


@view
@external
def has_room() -> bool:
    """
    @notice Whether another auction can start (fewer than MAX_ACTIVE running); liquidate_many
            skips a vault when there is no room instead of reverting the batch.
    @return True if `start` would not revert for the number of running auctions.
    """
    # _claim_slot's search, stopped at the first word with a free slot
    for w: uint256 in range(RUNNING_WORDS):
        if self.free[w] != 0:
            return True
    return False


# ---------------------------------------------------------------- internal


@internal
def _claim_slot() -> uint256:
    # the lowest free slot, marked running (next_id and has_room repeat the search inline: a
    # shared helper returning the word costs every liquidation about 140 gas)
    for w: uint256 in range(RUNNING_WORDS):
        word: uint256 = self.free[w]
        if word != 0:
            # the lowest set bit of word, isolated: a power of two
            bit: uint256 = word & unsafe_sub(0, word)
            self.free[w] = word ^ bit
            return w << 8 | self._log2(bit)
    raise "auction: too many running"


@view
@internal
def _running_ids() -> DynArray[uint256, MAX_ACTIVE]:
    # the running auctions' ids, in slot order
    ids: DynArray[uint256, MAX_ACTIVE] = []
    for w: uint256 in range(RUNNING_WORDS):
        word: uint256 = ~self.free[w]
        for b: uint256 in range(256):
            if word == 0:
                break
            if word & 1 != 0:
                slot: uint256 = w << 8 | b
                generation: uint256 = self.auction_meta[slot] & MAX_GENERATION
                ids.append((generation << SLOT_BITS | slot) + 1)
            word >>= 1
    return ids


@pure
@internal
def _log2(x: uint256) -> uint256:
    # x is a power of two: its exponent, by halving the search range
    n: uint256 = 0
    y: uint256 = x
    for s: uint256 in [128, 64, 32, 16, 8, 4, 2, 1]:
        if y >> s != 0:
            y >>= s
            n += s
    return n


@internal
def _remove(auction_id: uint256, slot: uint256):
    # free the slot; its words stay non-zero (next generation, stale values) for the next auction
    self.free[slot >> 8] |= 1 << (slot & 255)
    self.auction_meta[slot] = ((auction_id - 1) >> SLOT_BITS) + 1


@view
@internal
def _load(auction_id: uint256) -> Auction:
    # an id names its slot and the slot's generation; anything else is no running auction
    if auction_id == 0 or auction_id > (MAX_GENERATION << SLOT_BITS):
        return empty(Auction)
    slot: uint256 = (auction_id - 1) & (MAX_ACTIVE - 1)
    meta: uint256 = self.auction_meta[slot]
    if meta >> OWNER_SHIFT == 0 or meta & MAX_GENERATION != (auction_id - 1) >> SLOT_BITS:
        return empty(Auction)
    lot_top: uint256 = self.auction_lot_top[slot]
    debt: uint256 = self.auction_debt[slot]
    return Auction(
        position=slot,
        debt=debt & DEBT_MASK,
        lot=lot_top >> LOT_SHIFT,
        owner=convert(convert(meta >> OWNER_SHIFT, uint160), address),
        started=(meta >> STARTED_SHIFT) & STARTED_MASK,
        top=lot_top & MAX_FIELD,
        reward_budget=(debt >> DEBT_BITS) * BUDGET_UNIT,
    )


@internal
def _store(auction_id: uint256, auction: Auction):
    # started (a timestamp) < 2**64 and the generation < 2**32: both fit their fields
    self.auction_meta[auction.position] = (
        convert(convert(auction.owner, uint160), uint256) << OWNER_SHIFT
        | auction.started << STARTED_SHIFT
        | (auction_id - 1) >> SLOT_BITS
    )
    self.auction_debt[auction.position] = self._pack_debt(auction)
    self.auction_lot_top[auction.position] = auction.lot << LOT_SHIFT | auction.top


@pure
@internal
def _pack_debt(auction: Auction) -> uint256:
    # the budget, rounded down to whole units, fits the 56 bits above the debt: it is at most the
    # penalty part of the debt at the start, below 2**200
    return ((auction.reward_budget // BUDGET_UNIT) << DEBT_BITS) | auction.debt
