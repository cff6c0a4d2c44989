# pragma version ~=0.4.3
"""
@title loss_book
@notice The Backstop's book of loss events: one per liquidation, numbered in the order they were
        opened, each RUNNING while its auction runs, CLOSED with a loss to cover, then DONE; the
        open-event count and the unsettled proceeds; the attributed debt. Its views are the
        Backstop's (exported there); the waterfall that pays a loss stays in Backstop.vy.
@dev Compiled into the Backstop (`initializes: loss_book`, placed where these words were in its
     storage, so the slots are the same): no extra contract and no call on the liquidation
     path. Only the Backstop writes the book (open_loss, close_loss, cover, heal), through the
     packed words below and `_mark_done`. The off-chain twin is the loss-event part of
     offchain/model/backstop.py (its `losses` map and counters).
"""
from . import constants
from . import penalty_grid

# status of a loss event (NO_LOSS: no such event yet)
NO_LOSS: constant(uint256) = 0
RUNNING: constant(uint256) = 1
CLOSED: constant(uint256) = 2
DONE: constant(uint256) = 3

# a loss event's record is one word (`loss_meta`): its seized debt in the top 192 bits (6.3e12
# stablecoin; the Liquidator's caps stop at 1e12), its liquidation penalty in 24 bits (steps of
# penalty_grid.STEP above 1 wad: what the auction must raise, ceil(debt x penalty / WAD), is
# recomputed from debt and penalty, not stored), its number in 38 bits and its status in 2.
# When its auction finishes with a loss, the loss not yet covered (its `due`, at most the debt)
# gets a word of its own (`loss_due`); its opening time is in its numbered record.
DEBT_LIMIT: constant(uint256) = 2**192
DEBT_SHIFT: constant(uint256) = 64
PENALTY_SHIFT: constant(uint256) = 40
# the Liquidator's penalties (1 to 2 wad) are 0 to 10**7 steps of penalty_grid.STEP above 1
PENALTY_STEPS_LIMIT: constant(uint256) = 2**24
NUMBER_SHIFT: constant(uint256) = 2
# 2.7e11 events: each costs a liquidation (over 100k gas), so the count stays far below it
NUMBER_LIMIT: constant(uint256) = 2**38
LOSS_NUMBER_MASK: constant(uint256) = NUMBER_LIMIT - 1
STATUS_MASK: constant(uint256) = 3
# a loss event's record (created_at << 1 | done) in `numbered_losses`: four to a slot (a
# timestamp below 2**63, for 292 billion years, keeps each record inside its 64 bits)
RECORD_BITS: constant(uint256) = 64
# the most events `advance_open_losses` passes in one call
MAX_ADVANCE: constant(uint256) = 256
# `loss_totals`: unsettled proceeds in the high bits, open_losses in the low 64 (a count)
COUNT_BITS: constant(uint256) = 64
COUNT_MASK: constant(uint256) = 2**COUNT_BITS - 1
PROCEEDS_LIMIT: constant(uint256) = 2**192
# Kept bits (constants.KEPT_SET explains them): the open-event count, in the low 64 bits of
# `loss_totals`, carries OPEN_SET, the top bit of its field (the count stays far below 2**63:
# each event costs a transaction; `+= 1` on the word is not checked at 2**63, it would carry
# into the unsettled proceeds); `attributed_word` carries ATTRIBUTED_SET (the attributed debt is
# at most this contract's bad debt in the engine, whose checked total stays below 2**255).
OPEN_SET: constant(uint256) = 2**63
OPEN_MASK: constant(uint256) = OPEN_SET - 1
ATTRIBUTED_SET: constant(uint256) = constants.KEPT_SET
ATTRIBUTED_MASK: constant(uint256) = ATTRIBUTED_SET - 1
# `loss_numbers`: first_open_loss << NUMBER_BITS | loss_count (both far below 2**64)
NUMBER_BITS: constant(uint256) = 64
NUMBER_MASK: constant(uint256) = 2**NUMBER_BITS - 1


struct Loss:
    # seized debt, without penalty [rad]
    debt: uint256
    # while the auction runs: the amount it must raise [rad]; after: the loss not yet covered [rad]
    due: uint256
    # when the vault was liquidated
    created_at: uint256
    # NO_LOSS, RUNNING (auction running), CLOSED (closed with a loss to cover) or DONE
    status: uint256


# loss events: type -> auction -> auction id -> debt [rad] << 64 | penalty steps << 40 | number
# << 2 | status (one word: a liquidation creates one slot for its event)
loss_meta: HashMap[bytes32, HashMap[address, HashMap[uint256, uint256]]]
# loss events closed with a loss: type -> auction -> auction id -> the loss not yet covered
# [rad] (written when the auction finishes with a loss, cleared when the event is done)
loss_due: HashMap[bytes32, HashMap[address, HashMap[uint256, uint256]]]
# unsettled proceeds [rad] << 64 | number of loss events not done: closing an auction updates
# both, in one word (views unsettled_proceeds and open_losses). Unsettled proceeds are what
# finished auctions raised to cover their seized debt and what the FUND, POOL and
# REDISTRIBUTION layers paid in `cover`, kept as this contract's stablecoin and not yet
# cancelled against as much of its bad debt (`heal`); they stay in attributed_debt.
loss_totals: uint256
# first_open_loss << NUMBER_BITS | loss_count (views first_open_loss and loss_count): the
# number of loss events ever opened (an event's number is its place in that order), and the
# number below which every event is done (it lags behind when many finish out of order; it
# starts at 1, so the word is never empty and a liquidation updates it)
loss_numbers: uint256
# loss event number -> its record, created_at << 1 | done, in 64 bits: four records share a
# slot (number >> 2 picks the slot, number & 3 the field), so three liquidations in four update a
# slot instead of creating one. Slot 0 holds number 0's field, which no event has: it is set at
# deployment (done, opened at 0), so events 1 to 3 update slot 0 instead of creating it
numbered_losses: HashMap[uint256, uint256]
# bad debt belonging to loss events not done, and the unsettled proceeds that will cancel
# as much of it [rad] | ATTRIBUTED_SET (view attributed_debt)
attributed_word: uint256


@deploy
def __init__():
    # first_open_loss 1, no event yet
    self.loss_numbers = 1 << NUMBER_BITS
    # number 0's field (no event): done
    self.numbered_losses[0] = 1
    self.loss_totals = OPEN_SET
    self.attributed_word = ATTRIBUTED_SET


# ---------------------------------------------------------------- views


@view
@external
def open_losses() -> uint256:
    """
    @notice The number of loss events not done (auction running, or loss not fully covered).
    @return A count.
    """
    return self.loss_totals & OPEN_MASK


@view
@external
def unsettled_proceeds() -> uint256:
    """
    @notice Proceeds of finished auctions that covered their seized debt, and the stablecoin
            the fund, pool and redistribution layers paid for losses, held as this contract's
            stablecoin until `heal` cancels them against as much bad debt. No layer and no
            `settle` may spend them.
    @return [rad].
    """
    return self.loss_totals >> COUNT_BITS


@view
@external
def losses(collateral_type: bytes32, auction: address, auction_id: uint256) -> Loss:
    """
    @notice A loss event.
    @param collateral_type The type.
    @param auction The auction.
    @param auction_id Its auction id.
    @return debt [rad], due [rad], created_at, status (0 none, 1 running, 2 to cover, 3 done).
    """
    return self._loss(collateral_type, auction, auction_id)


@external
def advance_open_losses(max_steps: uint256) -> uint256:
    """
    @notice Move `first_open_loss` past events that are done (it advances by itself when the
            first open event finishes, by at most 256). Anyone may call.
    @param max_steps At most 256.
    @return The new first_open_loss.
    """
    return self._advance(max_steps)


@view
@external
def loss_number(collateral_type: bytes32, auction: address, auction_id: uint256) -> uint256:
    """
    @notice A loss event's number (its place in the order events were opened).
    @param collateral_type The type.
    @param auction The auction.
    @param auction_id Its auction id.
    @return 1..loss_count; 0 for no event.
    """
    return (self.loss_meta[collateral_type][auction][auction_id] >> NUMBER_SHIFT) & LOSS_NUMBER_MASK


@view
@external
def loss_opened_at(number: uint256) -> uint256:
    """
    @notice When loss event `number` was opened.
    @param number 1..loss_count.
    @return Unix seconds; 0 for no such event.
    """
    return self._record(number) >> 1


@view
@external
def loss_done(number: uint256) -> bool:
    """
    @notice Whether loss event `number` is done (fully covered; it can charge no layer again).
    @param number 1..loss_count.
    @return True if done; false for no such event.
    """
    # number 0's field is set (no event: the slot's sentinel)
    return number != 0 and self._record(number) & 1 == 1


@view
@external
def loss_count() -> uint256:
    """
    @notice The number of loss events ever opened (an event's number is its place in that order).
    @return A count.
    """
    return self.loss_numbers & NUMBER_MASK


@view
@external
def first_open_loss() -> uint256:
    """
    @notice Every event numbered below this is done (it lags behind when many finish out of
            order; `advance_open_losses`).
    @return An event number, at least 1.
    """
    return self.loss_numbers >> NUMBER_BITS


@view
@external
def attributed_debt() -> uint256:
    """
    @notice Bad debt belonging to loss events not done, and the unsettled proceeds that will
            cancel as much of it.
    @return [rad].
    """
    return self.attributed_word & ATTRIBUTED_MASK


@view
@external
def losses_done_before(timestamp: uint256) -> bool:
    """
    @notice Whether every loss event opened at or before `timestamp` is done: the stability
            pool's exposure rule. Conservative while `first_open_loss` lags (it answers false
            until `advance_open_losses` moves it).
    @param timestamp Unix seconds.
    @return True if no event opened at or before `timestamp` can still charge a layer.
    """
    numbers: uint256 = self.loss_numbers
    first: uint256 = numbers >> NUMBER_BITS
    if first > numbers & NUMBER_MASK:
        return True
    record: uint256 = self._record(first)
    return record & 1 == 0 and record >> 1 > timestamp


# ---------------------------------------------------------------- internal


@view
@internal
def _loss(collateral_type: bytes32, auction: address, auction_id: uint256) -> Loss:
    meta: uint256 = self.loss_meta[collateral_type][auction][auction_id]
    status: uint256 = meta & STATUS_MASK
    due: uint256 = 0
    if status == RUNNING:
        due = self._to_raise(meta)
    elif status == CLOSED:
        due = self.loss_due[collateral_type][auction][auction_id]
    return Loss(
        debt=meta >> DEBT_SHIFT,
        due=due,
        # no event (number 0): number 0's record reads as opened at 0
        created_at=self._record((meta >> NUMBER_SHIFT) & LOSS_NUMBER_MASK) >> 1,
        status=status,
    )


@pure
@internal
def _to_raise(meta: uint256) -> uint256:
    # what a running event's auction must raise: ceil(debt x penalty / WAD), as the Liquidator
    # computed it when it started the auction
    return penalty_grid.to_raise(
        meta >> DEBT_SHIFT,
        penalty_grid.from_steps((meta >> PENALTY_SHIFT) & (PENALTY_STEPS_LIMIT - 1)),
    )


@internal
def _mark_done(number: uint256):
    # event `number` is done (the caller counted it out): mark it and move first_open_loss past
    # it
    self.numbered_losses[number >> 2] |= 1 << self._field(number)
    if number == self.loss_numbers >> NUMBER_BITS:
        self._advance(MAX_ADVANCE)


@internal
def _advance(max_steps: uint256) -> uint256:
    numbers: uint256 = self.loss_numbers
    first: uint256 = numbers >> NUMBER_BITS
    last: uint256 = numbers & NUMBER_MASK
    for i: uint256 in range(max_steps, bound=MAX_ADVANCE):
        if first > last or self._record(first) & 1 == 0:
            break
        first += 1
    self.loss_numbers = first << NUMBER_BITS | last
    return first


@pure
@internal
def _field(number: uint256) -> uint256:
    # the bit offset of event `number`'s record in its slot
    return (number & 3) * RECORD_BITS


@view
@internal
def _record(number: uint256) -> uint256:
    return (self.numbered_losses[number >> 2] >> self._field(number)) & (2**RECORD_BITS - 1)
