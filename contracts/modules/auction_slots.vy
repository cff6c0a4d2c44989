# pragma version ~=0.4.3
"""
@title auction_slots
@notice Where a DutchAuction keeps its running auctions: up to MAX_ACTIVE (16,777,216) storage
        slots of three words each, a two-level bitmap of the free ones, and the ids that name a
        slot and its generation, so an id is never reused. The auction's rules (prices, takes,
        resets, rewards) stay in DutchAuction.vy; this module claims and frees slots, packs and
        unpacks a running auction's words, and answers which auctions run.
@dev Compiled into the DutchAuction (`initializes: auction_slots`, placed where these words
     were in its storage, so the slots are the same): no extra contract on the liquidation or
     take path. The off-chain twin is offchain/model/dutch_auction.py (its slot bitmap, ids and
     `_load`/`_store`). What bounds the auctions in flight is their debt (the Liquidator's caps,
     by amount); MAX_ACTIVE is only the id format's room (docs/architecture.md, "Auction slots").
"""

# how many auctions may run at once: one slot each, 2**SLOT_BITS slots, never reached in practice
# (16.7M auctions would need 16.7M vaults, each above dust, and caps on the debt in auction that
# let them all in); a finished auction's slot is reused, the lowest free one first
MAX_ACTIVE: constant(uint256) = 2**24
SLOT_BITS: constant(uint256) = 24
# the free-slot bitmap's words (256 slots each), and the words of its summary (256 words each)
RUNNING_WORDS: constant(uint256) = 2**16
SUMMARY_WORDS: constant(uint256) = 2**8
# the most ids one page of active_auctions returns
PAGE: constant(uint256) = 1024
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
    # the storage slot the auction occupies (0 .. MAX_ACTIVE - 1; the low 24 bits of its id - 1)
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
# the slot. Words are opened one at a time, all bits set, when every slot of the opened ones runs
# an auction: a word is non-zero until 256 auctions run at once in its slots, so a start clears a
# bit in a word that exists (5k gas, not 22.1k to create it)
free: uint256[RUNNING_WORDS]
# which opened words have a free slot: bit (word % 256) of summary word (word // 256)
free_words: uint256[SUMMARY_WORDS]
# which summary words are non-zero: bit (summary word)
free_summaries: uint256
# how many words are opened (word 0 at deployment)
opened_words: uint256


@deploy
def __init__():
    # word 0 opened: its 256 slots free
    self.free[0] = max_value(uint256)
    self.free_words[0] = 1
    self.free_summaries = 1
    self.opened_words = 1


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
def active_auctions(first_slot: uint256 = 0) -> DynArray[uint256, PAGE]:
    """
    @notice Ids of the running auctions, one page at a time: those in slot `first_slot` and above,
            at most PAGE (1,024). A full page may have more after it: ask again from the slot
            after its last id's, `((last - 1) & (MAX_ACTIVE - 1)) + 1`.
    @param first_slot The lowest slot to list (0: from the start).
    @return The ids, in the order of their storage slots.
    """
    return self._running_ids(first_slot)


@view
@external
def next_id() -> uint256:
    """
    @notice The id the next auction will get (the lowest free slot in its next generation).
    @return The id; 0 if every slot is taken.
    """
    # _claim_slot's search, without the claim
    slot: uint256 = 0
    found: bool = False
    slot, found = self._lowest_free()
    if not found:
        return 0
    return (self.auction_meta[slot] << SLOT_BITS | slot) + 1


@view
@external
def active_count() -> uint256:
    """
    @notice How many auctions are running.
    @return The count.
    """
    count: uint256 = 0
    for w: uint256 in range(RUNNING_WORDS):
        if w == self.opened_words:
            break
        # the running slots' bits, counted by clearing the lowest one at a time
        running: uint256 = ~self.free[w]
        for b: uint256 in range(256):
            if running == 0:
                break
            running &= unsafe_sub(running, 1)
            count += 1
    return count


@view
@external
def has_room() -> bool:
    """
    @notice Whether another auction can start (fewer than MAX_ACTIVE running); liquidate_many
            skips a vault when there is no room instead of reverting the batch.
    @return True if `start` would not revert for the number of running auctions.
    """
    # _claim_slot's search, stopped at the first sign of a free slot
    return (self.free[0] != 0 or self.free_summaries != 0 or self.opened_words < RUNNING_WORDS)


# ---------------------------------------------------------------- internal


@internal
def _claim_slot() -> uint256:
    # the lowest free slot, marked running; word 0 first (fewer than 256 auctions running: one
    # word read, as before the summary existed), then the lowest opened word with a free slot
    # (two summary reads), else a new word
    word: uint256 = self.free[0]
    w: uint256 = 0
    if word == 0:
        summaries: uint256 = self.free_summaries
        if summaries != 0:
            s: uint256 = self._log2(summaries & unsafe_sub(0, summaries))
            summary: uint256 = self.free_words[s]
            w = s << 8 | self._log2(summary & unsafe_sub(0, summary))
            word = self.free[w]
        else:
            w = self.opened_words
            assert w < RUNNING_WORDS, "auction: too many running"
            self.opened_words = w + 1
            word = max_value(uint256)
            self._mark_free_word(w)
    bit: uint256 = word & unsafe_sub(0, word)  # the lowest set bit of word: a power of two
    word ^= bit
    self.free[w] = word
    if word == 0:
        # the word's last free slot: the summary drops it
        summary: uint256 = self.free_words[w >> 8] ^ (1 << (w & 255))
        self.free_words[w >> 8] = summary
        if summary == 0:
            self.free_summaries ^= 1 << (w >> 8)
    return w << 8 | self._log2(bit)


@view
@internal
def _lowest_free() -> (uint256, bool):
    # _claim_slot's search without the claim: (the lowest free slot, whether there is one)
    word: uint256 = self.free[0]
    if word != 0:
        return self._log2(word & unsafe_sub(0, word)), True
    summaries: uint256 = self.free_summaries
    if summaries != 0:
        s: uint256 = self._log2(summaries & unsafe_sub(0, summaries))
        summary: uint256 = self.free_words[s]
        w: uint256 = s << 8 | self._log2(summary & unsafe_sub(0, summary))
        word = self.free[w]
        return w << 8 | self._log2(word & unsafe_sub(0, word)), True
    opened: uint256 = self.opened_words
    if opened < RUNNING_WORDS:
        return opened << 8, True
    return 0, False


@internal
def _mark_free_word(w: uint256):
    # word w has a free slot again (or was just opened): the summary lists it
    summary: uint256 = self.free_words[w >> 8]
    self.free_words[w >> 8] = summary | 1 << (w & 255)
    if summary == 0:
        self.free_summaries |= 1 << (w >> 8)


@view
@internal
def _running_ids(first_slot: uint256) -> DynArray[uint256, PAGE]:
    # the running auctions' ids from first_slot on, in slot order, at most PAGE of them
    ids: DynArray[uint256, PAGE] = []
    if first_slot >= MAX_ACTIVE:
        return ids
    opened: uint256 = self.opened_words
    for w: uint256 in range(first_slot >> 8, RUNNING_WORDS, bound=RUNNING_WORDS):
        if w >= opened:
            break
        word: uint256 = ~self.free[w]
        b: uint256 = 0
        if w == first_slot >> 8:
            # the first word: the slots below first_slot are not listed
            b = first_slot & 255
            word >>= b
        for i: uint256 in range(256):
            if word == 0:
                break
            if word & 1 != 0:
                if len(ids) == PAGE:
                    return ids
                slot: uint256 = w << 8 | b
                generation: uint256 = self.auction_meta[slot] & MAX_GENERATION
                ids.append((generation << SLOT_BITS | slot) + 1)
            word >>= 1
            b += 1
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
    word: uint256 = self.free[slot >> 8]
    self.free[slot >> 8] = word | 1 << (slot & 255)
    if word == 0:
        self._mark_free_word(slot >> 8)
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
