# pragma version ~=0.4.3
"""
@title Backstop
@notice The protocol's balance sheet and its loss waterfall. Surplus (fees, penalties: its
        stablecoin balance in the engine) is the insurance fund. Every liquidation opens a loss
        event; when its auction finishes, the proceeds cover the seized debt and what they do
        not cover is the event's loss, which `cover` sends through a governance-ordered list of
        layers (insurance fund, stability pool, debt auction, redistribution, deleveraging;
        global settlement after shutdown), logging a receipt (`LossAllocated`) for every
        payment. Deleveraging charges what reaches it to the type's strongest vaults, each a
        share of its headroom (`deleverage`, the DELEVERAGE role), never below a buffer
        above their liquidation ratio at the lowest price the type's oracle shows, with a
        receipt per vault (`VaultDeleveraged`). Bound: within one window of
        `deleverage_interval` seconds, the sum of the fractions of its headroom charged to a
        vault never exceeds `deleverage_max_fraction` (modules/deleverage.vy).
        Above a buffer, surplus is sold for the governance token (SurplusAuction); debt handed
        to the debt-auction layer is raised by minting it (DebtAuction), only once the free
        surplus has paid what it can of it (`start_debt_auction`; an auction nobody has bid on
        is ended when surplus arrives that pays its bid: `DebtAuction.repay`).
@dev DSS analogue: Vow (open_loss ~ fess, cover ~ flog + heal + flop, settle = heal,
     heal = heal of the proceeds takes paid, start_surplus_auction = flap,
     start_debt_auction = heal + flop, on_debt_auction_bid = kiss). Specification:
     docs/loss-waterfall.md. Keeps, in rad:
     - engine.bad_debt(self) >= attributed_debt + debt_to_auction + debt_on_auction
       + deleverage_total (the rest is unattributed: keeper rewards, debt-auction refunds,
       settlement debt); deleverage_total = the sum of deleverage_due over the types while
       live, 0 after shutdown;
     - debt_on_auction = the sum of the bids of the running debt auctions this contract
       started that nobody has bid on (while live; 0 after shutdown);
     - engine.stable(self) >= unsettled_proceeds <= attributed_debt: a finished auction's
       proceeds, and what the fund, pool and redistribution layers pay in `cover`, are not
       cancelled against the debt they cover at once (`heal` does it for many, as dss's heal);
       until then they are surplus no layer may spend, and debt still attributed;
     - per event: loss = sum of its LossAllocated amounts + its remaining `due`, exactly;
     - open_losses = number of events not done (auction running, or loss not fully covered).
     - events are numbered 1..loss_count in the order they were opened (so by creation time);
       first_open_loss is at most the first number not done (it may lag: `advance_open_losses`).
"""
from interfaces import IVaultEngine
from interfaces import IStabilityPool
from interfaces import IDebtAuction
from interfaces import ISurplusAuction
from interfaces import IBackstop
from modules import constants
from modules import fixed_point
from modules import penalty_grid
from modules import loss_book
from modules import deleverage as deleveraging
from modules import authorized as auth

# admins (governance) set parameters; roles: OPEN_LOSS (the Liquidator), CLOSE_LOSS (the
# auctions), SHUTDOWN (global settlement), DELEVERAGE (the keeper governance names)
initializes: auth
exports: auth.__interface__
# the loss book's views, and advance_open_losses (anyone may call it)
exports: (
    loss_book.open_losses,
    loss_book.unsettled_proceeds,
    loss_book.losses,
    loss_book.advance_open_losses,
    loss_book.loss_number,
    loss_book.loss_opened_at,
    loss_book.loss_done,
    loss_book.loss_count,
    loss_book.first_open_loss,
    loss_book.attributed_debt,
    loss_book.losses_done_before,
)

implements: IBackstop


# layers of the waterfall
FUND: constant(uint8) = 1
POOL: constant(uint8) = 2
DEBT_AUCTION: constant(uint8) = 3
REDISTRIBUTION: constant(uint8) = 4
SETTLEMENT: constant(uint8) = 5
DELEVERAGE: constant(uint8) = 6
# the most layers a governance order holds: FUND, POOL, DEBT_AUCTION, REDISTRIBUTION, DELEVERAGE
MAX_LAYERS: constant(uint256) = 5
# the most vaults one `deleverage` charges
MAX_DELEVERAGE_VAULTS: constant(uint256) = deleveraging.MAX_VAULTS

# `cover_config`'s fields (above the pool's 160-bit address)
ADDRESS_MASK: constant(uint256) = 2**160 - 1
DELAY_SHIFT: constant(uint256) = 160
DELAY_MASK: constant(uint256) = 2**40 - 1
LIVE_SHIFT: constant(uint256) = 200
WATERFALL_SHIFT: constant(uint256) = 208
# the longest queue delay governance may set (config.py bounds backstop_queue_delay alike)
MAX_QUEUE_DELAY: constant(uint256) = 365 * 86400


# the ledger
engine: public(immutable(IVaultEngine))
# the types' oracles and liquidation ratios (deleveraging prices vaults at the lowest price shown)
spotter: public(immutable(deleveraging.ISpotterPrices))

# what every cover reads, in one word (views live, queue_delay, get_waterfall, stability_pool):
# - the stability pool's address (empty: that layer pays nothing), the low 160 bits;
# - the queue delay: seconds between a liquidation and the earliest cover of its loss, 40 bits;
# - live: false after global settlement's shutdown, 1 bit (in an 8-bit field);
# - the waterfall (distinct layers of FUND..REDISTRIBUTION and DELEVERAGE, in order; absent =
#   disabled): its length in 8 bits, then its layers (at most 5), 8 bits each, the first lowest.
cover_config: uint256
# the other layer contracts (empty = that layer pays nothing)
debt_auction: public(IDebtAuction)
surplus_auction: public(ISurplusAuction)
# who shut the system down: the participant of the SETTLEMENT layer
settlement: public(address)
# surplus kept as insurance fund before any is auctioned [rad]
surplus_buffer: public(uint256)
# stablecoin sold per surplus auction [rad]
surplus_lot: public(uint256)
# stablecoin raised per debt auction (its fixed bid) [rad]
debt_auction_bid_size: public(uint256)
# the loss-event book (modules/loss_book.vy): its storage takes these slots, in its order
initializes: loss_book
# loss handed to the debt-auction layer, not yet on auction [rad]
debt_to_auction: public(uint256)
# bid sizes of debt auctions not yet paid: of the running ones without a bid [rad]
debt_on_auction: public(uint256)
# loss left to global settlement [rad]
settlement_debt: public(uint256)
# the deleveraging layer (modules/deleveraging.vy): its storage takes these slots, in its order
# (buffer, max fraction, interval, the vaults' windows, the types' due, the total)
initializes: deleveraging


event QueueDelaySet:
    queue_delay: uint256


event WaterfallSet:
    waterfall: DynArray[uint8, MAX_LAYERS]


event LayerContractsSet:
    stability_pool: address
    debt_auction: address
    surplus_auction: address


event AuctionParametersSet:
    surplus_buffer: uint256
    surplus_lot: uint256
    debt_auction_bid_size: uint256


event LossOpened:
    collateral_type: indexed(bytes32)
    auction: indexed(address)
    auction_id: indexed(uint256)
    debt: uint256
    to_raise: uint256


event LossClosed:
    collateral_type: indexed(bytes32)
    auction: indexed(address)
    auction_id: indexed(uint256)
    raised: uint256
    covered: uint256
    loss: uint256


event LossAllocated:
    collateral_type: indexed(bytes32)
    auction: indexed(address)
    auction_id: indexed(uint256)
    layer: uint8
    participant: address
    amount: uint256


event LossRedistributed:
    collateral_type: indexed(bytes32)
    auction: indexed(address)
    auction_id: indexed(uint256)
    delta_rate: uint256
    excess: uint256


event DebtSettled:
    amount: uint256


event ProceedsHealed:
    amount: uint256


event DebtAuctionStarted:
    auction_id: indexed(uint256)
    bid: uint256


event DebtAuctionPaid:
    amount: uint256


# debt of the debt-auction layer the surplus paid before it was put on auction
# (start_debt_auction)
event AuctionDebtRepaid:
    amount: uint256


event SurplusAuctionStarted:
    auction_id: indexed(uint256)
    lot: uint256


event Shutdown:
    settlement: indexed(address)
    settlement_debt: uint256


@deploy
def __init__(engine_: IVaultEngine, spotter_: deleveraging.ISpotterPrices, queue_delay_: uint256):
    """
    @param engine_ The VaultEngine.
    @param spotter_ The Spotter (its oracles and liquidation ratios price deleveraging).
    @param queue_delay_ Seconds between a liquidation and the earliest cover of its loss.
    """
    engine = engine_
    spotter = spotter_
    assert queue_delay_ <= MAX_QUEUE_DELAY, "backstop: queue delay too long"
    self.cover_config = (
        self._pack_waterfall([FUND, POOL, DEBT_AUCTION, REDISTRIBUTION]) << WATERFALL_SHIFT
        | 1 << LIVE_SHIFT
        | queue_delay_ << DELAY_SHIFT
    )
    loss_book.__init__()
    auth.__init__(auth.OPEN_LOSS | auth.CLOSE_LOSS | auth.SHUTDOWN | auth.DELEVERAGE)
    log QueueDelaySet(queue_delay=queue_delay_)
    log WaterfallSet(waterfall=[FUND, POOL, DEBT_AUCTION, REDISTRIBUTION])
    # the deleveraging parameters at deployment (logs DeleverageBufferSet, DeleverageLimitsSet)
    deleveraging.__init__()


# ---------------------------------------------------------------- administration


@external
def set_queue_delay(new_delay: uint256):
    """
    @notice Set the delay between a liquidation and the earliest cover of its loss.
    @param new_delay Seconds, at most 365 days.
    """
    auth._check_authorized()
    assert new_delay <= MAX_QUEUE_DELAY, "backstop: queue delay too long"
    config: uint256 = self.cover_config
    self.cover_config = config & ~(DELAY_MASK << DELAY_SHIFT) | new_delay << DELAY_SHIFT
    log QueueDelaySet(queue_delay=new_delay)


@external
def set_waterfall(order: DynArray[uint8, MAX_LAYERS]):
    """
    @notice Choose which layers cover losses and in which order.
    @param order Distinct layers: 1 fund, 2 stability pool, 3 debt auction, 4 redistribution,
           6 deleveraging (5, global settlement, follows shutdown and is not ordered).
    """
    auth._check_authorized()
    seen: uint256 = 0
    for layer: uint8 in order:
        assert (
            layer >= FUND and layer <= DELEVERAGE and layer != SETTLEMENT
        ), "backstop: unknown layer"
        bit: uint256 = 1 << convert(layer, uint256)
        assert seen & bit == 0, "backstop: layer repeated"
        seen |= bit
    config: uint256 = self.cover_config
    self.cover_config = (
        config & (2**WATERFALL_SHIFT - 1) | self._pack_waterfall(order) << WATERFALL_SHIFT
    )
    log WaterfallSet(waterfall=order)


@external
def set_deleverage_buffer(buffer: uint256):
    """
    @notice Set how far above its liquidation requirement `deleverage` leaves a vault it charges
            (a vault nearer its limit is not charged), at the lowest price the type's oracle
            shows. At or above every margin-call warning factor minus 1 (refused below, once the
            MarginCall is linked: `set_margin_call`), a charge never puts a vault in the called
            band.
    @param buffer [wad], at most 1 (a charged vault keeps twice its requirement).
    """
    auth._check_authorized()
    deleveraging._set_buffer(buffer)


@external
def set_deleverage_limits(max_fraction: uint256, interval: uint256):
    """
    @notice Bound what `deleverage` takes from one vault: within a window of `interval`
            seconds (opened by its first charge), the fractions of its headroom charged add up
            to at most `max_fraction`.
    @param max_fraction [wad], above 0 and at most 1.
    @param interval Seconds, at most 365 days.
    """
    auth._check_authorized()
    deleveraging._set_limits(max_fraction, interval)


@external
def set_margin_call(margin_call: address):
    """
    @notice Link the MarginCall whose warning factors bound the deleverage buffer from below
            (issue 63, finding 3): a charge leaves a vault at (1 + buffer) x its requirement,
            which must not be in a margin call's band. Refused when the buffer in force is below
            its highest warning factor - 1; from then on `set_deleverage_buffer` refuses such a
            buffer, and the MarginCall refuses such a warning factor.
    @param margin_call The MarginCall (not empty).
    """
    auth._check_authorized()
    deleveraging._set_margin_call(deleveraging.IMarginCallWarnings(margin_call))


@external
def release_deleverage(collateral_type: bytes32, amount: uint256):
    """
    @notice Move part of a type's loss due for deleveraging to the debt-auction layer, when no
            vault can take it (the type's debt repaid, no headroom left): governance's way out
            of a due that would otherwise wait for shutdown.
    @param collateral_type The type.
    @param amount [rad], at most the due.
    """
    auth._check_authorized()
    assert self._live(), "backstop: not live"
    assert self.debt_auction.address != empty(address), "backstop: no debt auction"
    deleveraging._release(collateral_type, amount)
    self.debt_to_auction += amount


@external
def set_layer_contracts(
    pool: IStabilityPool, debt_auction_: IDebtAuction, surplus_auction_: ISurplusAuction
):
    """
    @notice Set the stability pool, debt auction and surplus auction (empty: none).
    @param pool The StabilityPool.
    @param debt_auction_ The DebtAuction.
    @param surplus_auction_ The SurplusAuction.
    """
    auth._check_authorized()
    config: uint256 = self.cover_config
    self.cover_config = config >> DELAY_SHIFT << DELAY_SHIFT | convert(pool.address, uint256)
    self.debt_auction = debt_auction_
    self.surplus_auction = surplus_auction_
    log LayerContractsSet(
        stability_pool=pool.address,
        debt_auction=debt_auction_.address,
        surplus_auction=surplus_auction_.address,
    )


@external
def set_auction_parameters(
    surplus_buffer_: uint256, surplus_lot_: uint256, debt_auction_bid_size_: uint256
):
    """
    @notice Set the surplus buffer and the sizes of surplus and debt auctions.
    @param surplus_buffer_ Surplus kept before any is auctioned [rad].
    @param surplus_lot_ Stablecoin sold per surplus auction [rad], > 0.
    @param debt_auction_bid_size_ Stablecoin raised per debt auction [rad], > 0.
    """
    auth._check_authorized()
    assert surplus_lot_ != 0 and debt_auction_bid_size_ != 0, "backstop: zero auction size"
    self.surplus_buffer = surplus_buffer_
    self.surplus_lot = surplus_lot_
    self.debt_auction_bid_size = debt_auction_bid_size_
    log AuctionParametersSet(
        surplus_buffer=surplus_buffer_,
        surplus_lot=surplus_lot_,
        debt_auction_bid_size=debt_auction_bid_size_,
    )


# ---------------------------------------------------------------- loss events


@external
def open_loss(
    collateral_type: bytes32,
    auction: address,
    auction_id: uint256,
    debt: uint256,
    penalty: uint256,
):
    """
    @notice Record a liquidation (the Liquidator): its seized debt is already this contract's
            bad debt in the engine, and `auction` will raise up to ceil(debt x penalty / WAD)
            for it (what the Liquidator started it with).
    @param collateral_type The type.
    @param auction The type's DutchAuction.
    @param auction_id The auction's id.
    @param debt Seized debt, without penalty [rad].
    @param penalty The type's liquidation penalty [wad]: 1 wad plus a multiple of 1e-7 below
           2**24 of them (the Liquidator allows 1 to 2).
    """
    auth._check_role(auth.OPEN_LOSS)
    assert loss_book.loss_meta[collateral_type][auction][auction_id] == 0, "backstop: loss exists"
    assert debt < loss_book.DEBT_LIMIT, "backstop: debt too large"
    # below 1 wad, the difference wraps to above 2**255: far more steps than the field holds
    steps: uint256 = unsafe_sub(penalty, constants.WAD) // penalty_grid.STEP
    assert (
        steps * penalty_grid.STEP == unsafe_sub(penalty, constants.WAD)
        and steps < loss_book.PENALTY_STEPS_LIMIT
    ), "backstop: penalty not representable"
    numbers: uint256 = loss_book.loss_numbers
    number: uint256 = (numbers & loss_book.NUMBER_MASK) + 1
    assert number < loss_book.NUMBER_LIMIT, "backstop: too many loss events"
    meta: uint256 = (
        debt << loss_book.DEBT_SHIFT
        | steps << loss_book.PENALTY_SHIFT
        | number << loss_book.NUMBER_SHIFT
        | loss_book.RUNNING
    )
    loss_book.loss_meta[collateral_type][auction][auction_id] = meta
    loss_book.loss_numbers = unsafe_add(numbers, 1)
    # the field is empty: no event had this number before
    loss_book.numbered_losses[number >> 2] |= block.timestamp << 1 << loss_book._field(number)
    # the count stays far below loss_book.OPEN_SET (and keeps it): each event costs a transaction
    loss_book.loss_totals += 1
    loss_book.attributed_word += debt
    log LossOpened(
        collateral_type=collateral_type,
        auction=auction,
        auction_id=auction_id,
        debt=debt,
        to_raise=loss_book._to_raise(meta),
    )


@external
def close_loss(
    collateral_type: bytes32, auction_id: uint256, unraised: uint256, paid_directly: uint256
):
    """
    @notice An auction (the caller) finished: take its proceeds, cover the seized debt with
            them, and keep what they do not cover as the event's loss.
    @param collateral_type The type.
    @param auction_id The caller's auction id.
    @param unraised What the auction did not raise [rad].
    @param paid_directly Proceeds the finishing take paid to this contract directly [rad]; the
           rest of what was raised is taken from the caller's escrow.
    """
    auth._check_role(auth.CLOSE_LOSS)
    # the event's word, read once and written from this copy
    meta: uint256 = loss_book.loss_meta[collateral_type][msg.sender][auction_id]
    assert meta & loss_book.STATUS_MASK == loss_book.RUNNING, "backstop: loss not running"
    debt: uint256 = meta >> loss_book.DEBT_SHIFT
    raised: uint256 = loss_book._to_raise(meta) - unraised
    escrowed: uint256 = raised - paid_directly
    if escrowed != 0:
        extcall engine.transfer_stable(msg.sender, self, escrowed)
    covered: uint256 = min(raised, debt)
    # the proceeds that cover seized debt are not cancelled against it here: they join the
    # unsettled proceeds (still attributed debt; `heal` cancels them). Only if the sum would not
    # fit its field are they all cancelled now.
    totals: uint256 = loss_book.loss_totals
    unsettled: uint256 = self._add_unsettled(totals >> loss_book.COUNT_BITS, covered)
    # covered <= debt
    remaining: uint256 = unsafe_sub(debt, covered)
    if remaining == 0:
        loss_book.loss_meta[collateral_type][msg.sender][auction_id] = meta | loss_book.DONE
        # the event is done: one fewer open (the count is at least 1: this event)
        loss_book.loss_totals = unsettled << loss_book.COUNT_BITS | unsafe_sub(
            totals & loss_book.COUNT_MASK, 1
        )
        loss_book._mark_done((meta >> loss_book.NUMBER_SHIFT) & loss_book.LOSS_NUMBER_MASK)
    else:
        # the loss gets its own word (a liquidation that leaves none never creates it)
        loss_book.loss_due[collateral_type][msg.sender][auction_id] = remaining
        loss_book.loss_meta[collateral_type][msg.sender][auction_id] = (
            meta ^ loss_book.RUNNING
        ) | loss_book.CLOSED
        loss_book.loss_totals = unsettled << loss_book.COUNT_BITS | totals & loss_book.COUNT_MASK
    log LossClosed(
        collateral_type=collateral_type,
        auction=msg.sender,
        auction_id=auction_id,
        raised=raised,
        covered=covered,
        loss=remaining,
    )


@external
def cover(collateral_type: bytes32, auction: address, auction_id: uint256) -> uint256:
    """
    @notice Send a closed event's loss through the waterfall, once the queue delay has passed
            (at any time after shutdown). Anyone may call, again if a loss remains. What the
            fund, pool and redistribution layers pay joins the unsettled proceeds (`heal`). The
            fund pays from its free surplus net of the unattributed bad debt while live
            (`settle` first or not: the same payment), from all of it after shutdown.
    @param collateral_type The type.
    @param auction The auction that sold the collateral.
    @param auction_id Its auction id.
    @return The loss still uncovered [rad].
    """
    # the event's words, read once and written from these copies
    meta: uint256 = loss_book.loss_meta[collateral_type][auction][auction_id]
    assert meta & loss_book.STATUS_MASK == loss_book.CLOSED, "backstop: nothing to cover"
    number: uint256 = (meta >> loss_book.NUMBER_SHIFT) & loss_book.LOSS_NUMBER_MASK
    config: uint256 = self.cover_config
    live_: bool = (config >> LIVE_SHIFT) & 1 == 1
    if live_:
        # the opening time, from the event's numbered record (the cover that finishes the
        # event marks it there: a warm slot then)
        created_at: uint256 = loss_book._record(number) >> 1
        assert (
            created_at + ((config >> DELAY_SHIFT) & DELAY_MASK) <= block.timestamp
        ), "backstop: still queued"
    remaining: uint256 = loss_book.loss_due[collateral_type][auction][auction_id]
    # the stablecoin the FUND, POOL and REDISTRIBUTION layers pay is not cancelled against the
    # loss here: it joins the unsettled proceeds (still attributed debt; `heal` cancels it), as
    # a finished auction's does in close_loss
    totals: uint256 = loss_book.loss_totals
    unsettled: uint256 = totals >> loss_book.COUNT_BITS
    # the waterfall's layers in order, decoded as they are reached (no list is built: cheaper
    # than _unpack_waterfall); after shutdown only FUND and POOL of them, then SETTLEMENT
    waterfall: uint256 = config >> WATERFALL_SHIFT
    length: uint256 = waterfall & 255
    for i: uint256 in range(length + 1, bound=MAX_LAYERS + 1):
        if remaining == 0:
            break
        layer: uint8 = SETTLEMENT
        if i < length:
            layer = convert((waterfall >> (8 + 8 * i)) & 255, uint8)
            if not live_ and layer != FUND and layer != POOL:
                continue
        elif live_:
            break
        paid: uint256 = 0
        participant: address = empty(address)
        if layer == FUND:
            participant = self
            # the free surplus (less the unsettled proceeds, with those this cover added) net
            # of the unattributed bad debt, at most the loss (finding 31-6)
            paid = self._fund_payment(remaining, unsettled, live_)
        elif layer == POOL:
            participant = convert(config & ADDRESS_MASK, address)
            if participant != empty(address):
                # the pool sends `paid` to this contract
                paid = extcall IStabilityPool(participant).absorb(
                    collateral_type, auction, auction_id, remaining
                )
        elif layer == DEBT_AUCTION:
            participant = self.debt_auction.address
            if participant != empty(address):
                paid = remaining
                self.debt_to_auction += paid
        elif layer == REDISTRIBUTION:
            participant = engine.address
            paid = self._redistribute(collateral_type, auction, auction_id, remaining)
        elif layer == DELEVERAGE:
            # parked for `deleverage`, if the type has vaults with debt to charge
            participant = engine.address
            type_rate: uint256 = 0
            type_debt: uint256 = 0
            type_rate, type_debt = staticcall engine.rate_and_debt(collateral_type)
            if type_debt != 0:
                paid = remaining
                # the layer's two counters, written here rather than through an internal call of
                # the module (36 gas on every cover that reaches the layer)
                deleveraging.due_to_deleverage[collateral_type] += paid
                deleveraging.deleverage_total += paid
        else:
            participant = self.settlement
            paid = remaining
            self.settlement_debt += paid
        if paid != 0:
            # paid <= remaining
            remaining = unsafe_sub(remaining, paid)
            if layer == DEBT_AUCTION or layer == SETTLEMENT or layer == DELEVERAGE:
                # the loss moves to debt_to_auction, settlement_debt or due_to_deleverage: paid
                # <= the loss <= attributed_debt (the loss is part of it)
                loss_book.attributed_word = unsafe_sub(loss_book.attributed_word, paid)
            else:
                # this contract holds `paid` more stablecoin than the unsettled proceeds (the
                # free surplus it spent, the pool's payment, the redistribution's credit)
                unsettled = self._add_unsettled(unsettled, paid)
            log LossAllocated(
                collateral_type=collateral_type,
                auction=auction,
                auction_id=auction_id,
                layer=layer,
                participant=participant,
                amount=paid,
            )
    count: uint256 = totals & loss_book.COUNT_MASK
    # the loss's word: cleared when the event is done
    loss_book.loss_due[collateral_type][auction][auction_id] = remaining
    if remaining == 0:
        loss_book.loss_meta[collateral_type][auction][auction_id] = meta | loss_book.DONE
        # the count is at least 1: this event
        count = unsafe_sub(count, 1)
        loss_book._mark_done(number)
    loss_book.loss_totals = unsettled << loss_book.COUNT_BITS | count
    return remaining


@external
def deleverage(
    collateral_type: bytes32,
    owners: DynArray[address, MAX_DELEVERAGE_VAULTS],
    shares: DynArray[uint256, MAX_DELEVERAGE_VAULTS],
) -> uint256:
    """
    @notice Charge the type's loss due for deleveraging to the listed vaults, each at most the
            share of its headroom given beside it (the DELEVERAGE role: the keeper governance
            names decides the shares off chain, bringing the strongest vaults down to one
            strength level). Prices: s, the lowest of the engine's safe price and the type's
            oracle's current, queued and latest posted prices over the liquidation ratio (a
            fall already visible counts now). A vault's headroom is what it could owe more and
            keep (1 + buffer) x its requirement at s: floor(C x s / (1 + buffer)) - M(D), with
            C its collateral, D its debt and M the engine's size margin; a vault without debt
            or headroom, or whose window (`deleverage_window`) has no share left, counts 0.
            Each vault's share is min(its given share, the share its window has left); when
            the listed vaults' headroom x share (each rounded up) adds up to more than the due,
            every share is scaled by due / that sum (in wad, rounded down). Each vault pays its
            share of its headroom, as normalized debt (rounded down) added to its vault (a vault
            whose size margin would then exceed the limit is skipped), and that share is added
            to its window's used share (a window opens at a vault's first charge after the last
            one ended, `deleverage_interval` seconds long). Bounds: a call charges at most the
            due, a vault at most its given share; within one window, the shares charged to a
            vault add up to at most the max fraction. The debt moves from this contract's bad
            debt into the vaults: nothing is minted, nobody is paid.
    @param collateral_type The type.
    @param owners Distinct vault owners in strictly ascending order, at most 50.
    @param shares Per owner, the most of its headroom it pays [wad] (one per owner, in order;
           above the max fraction counts as the max fraction).
    @return The debt charged [rad].
    """
    auth._check_role(auth.DELEVERAGE)
    assert self._live(), "backstop: not live"
    return deleveraging._deleverage(engine, spotter, collateral_type, owners, shares)


@external
def settle(amount: uint256):
    """
    @notice Cancel unattributed bad debt (keeper rewards, refunds, settlement debt) against
            surplus. Anyone may call; after shutdown only once every loss event is done (thaw
            settles then), so that no settle decides what the fund pays of a loss.
    @param amount [rad], at most the surplus (less the unsettled proceeds) and at most the
           unattributed bad debt.
    """
    if loss_book.loss_totals & loss_book.OPEN_MASK != 0:
        assert self._live(), "backstop: losses open"
    assert amount <= self._free_surplus(), "backstop: insufficient surplus"
    assert amount <= self._unattributed_debt(), "backstop: insufficient unattributed debt"
    extcall engine.settle(amount)
    log DebtSettled(amount=amount)


@external
def heal() -> uint256:
    """
    @notice Cancel the unsettled proceeds (of finished auctions, and of the layers' payments in
            `cover`) against as much of this contract's bad debt (one engine call for any
            number of them: dss's heal).
            Anyone may call; global settlement's thaw calls it.
    @return The amount cancelled [rad].
    """
    totals: uint256 = loss_book.loss_totals
    unsettled: uint256 = totals >> loss_book.COUNT_BITS
    if unsettled != 0:
        extcall engine.settle(unsettled)
        # unsettled <= attributed_debt (they are part of it): loss_book.ATTRIBUTED_SET stays
        loss_book.attributed_word = unsafe_sub(loss_book.attributed_word, unsettled)
        # the open count, with loss_book.OPEN_SET
        loss_book.loss_totals = totals & loss_book.COUNT_MASK
        log ProceedsHealed(amount=unsettled)
    return unsettled


# ---------------------------------------------------------------- debt and surplus auctions


@external
def start_debt_auction() -> uint256:
    """
    @notice Raise the debt-auction layer's loss: the free surplus first pays what it can of it
            (the FUND layer's room: the surplus less the unsettled proceeds and the unattributed
            bad debt), so no governance token is minted while surplus can pay (issue 63,
            finding 5; dss's flop refuses then), then the next bid size of the rest is put on
            auction. Anyone may call.
    @return The debt auction's id; 0 if the surplus paid all of it (no auction started).
    """
    assert self._live(), "backstop: not live"
    debt: uint256 = self.debt_to_auction
    repaid: uint256 = 0
    if debt != 0:
        repaid = self._fund_payment(debt, loss_book.loss_totals >> loss_book.COUNT_BITS, True)
        # repaid <= debt
        debt = unsafe_sub(debt, repaid)
    bid: uint256 = min(self.debt_auction_bid_size, debt)
    assert repaid != 0 or bid != 0, "backstop: no debt to auction"
    # bid <= debt
    self.debt_to_auction = unsafe_sub(debt, bid)
    if repaid != 0:
        # the surplus cancels that much of the debt: it is this contract's stablecoin and bad
        # debt, neither part of the unsettled proceeds nor of the unattributed debt
        extcall engine.settle(repaid)
        log AuctionDebtRepaid(amount=repaid)
    if bid == 0:
        return 0
    self.debt_on_auction += bid
    auction_id: uint256 = extcall self.debt_auction.start(bid)
    log DebtAuctionStarted(auction_id=auction_id, bid=bid)
    return auction_id


@external
def on_debt_auction_bid(amount: uint256):
    """
    @notice A debt auction's first bid paid `amount` to this contract, or the auction was
            repaid from this contract's surplus (`DebtAuction.repay`, which checks the room):
            cancel that much bad debt against it (the DebtAuction calls).
    @param amount [rad].
    """
    assert msg.sender == self.debt_auction.address, "backstop: not debt auction"
    self.debt_on_auction -= amount
    extcall engine.settle(amount)
    log DebtAuctionPaid(amount=amount)


@external
def start_surplus_auction() -> uint256:
    """
    @notice Auction one lot of surplus for the governance token, if surplus exceeds all bad debt
            plus the buffer by a lot. Anyone may call.
    @return The surplus auction's id.
    """
    assert self._live(), "backstop: not live"
    lot: uint256 = self.surplus_lot
    assert lot != 0, "backstop: zero auction size"
    assert (
        staticcall engine.stable(self)
        >= staticcall engine.bad_debt(self) + self.surplus_buffer + lot
    ), ("backstop: surplus below buffer")
    extcall engine.transfer_stable(self, self.surplus_auction.address, lot)
    auction_id: uint256 = extcall self.surplus_auction.start(lot)
    log SurplusAuctionStarted(auction_id=auction_id, lot=lot)
    return auction_id


@external
def shutdown():
    """
    @notice Global settlement: stop debt and surplus auctions; loss not yet raised by debt
            auctions becomes settlement debt (GlobalSettlement).
    """
    auth._check_role(auth.SHUTDOWN)
    config: uint256 = self.cover_config
    assert (config >> LIVE_SHIFT) & 1 == 1, "backstop: not live"
    self.cover_config = config & ~(1 << LIVE_SHIFT)
    self.settlement = msg.sender
    moved: uint256 = self.debt_to_auction + self.debt_on_auction + deleveraging.deleverage_total
    self.settlement_debt += moved
    self.debt_to_auction = 0
    self.debt_on_auction = 0
    deleveraging.deleverage_total = 0
    if self.debt_auction.address != empty(address):
        extcall self.debt_auction.shutdown()
    if self.surplus_auction.address != empty(address):
        extcall self.surplus_auction.shutdown()
    log Shutdown(settlement=msg.sender, settlement_debt=moved)


# ---------------------------------------------------------------- views


@view
@external
def get_waterfall() -> DynArray[uint8, MAX_LAYERS]:
    """
    @notice The enabled layers in order.
    @return Layers (1 fund, 2 stability pool, 3 debt auction, 4 redistribution, 6 deleveraging).
    """
    return self._unpack_waterfall(self.cover_config)


@view
@external
def deleverage_due(collateral_type: bytes32) -> uint256:
    """
    @notice A type's loss handed to the deleveraging layer and not yet charged (0 after
            shutdown: it moved to settlement_debt).
    @param collateral_type The type.
    @return [rad].
    """
    if not self._live():
        return 0
    return deleveraging.due_to_deleverage[collateral_type]


@view
@external
def live() -> bool:
    """
    @notice False after global settlement's shutdown.
    @return Whether the system is live.
    """
    return self._live()


@view
@external
def queue_delay() -> uint256:
    """
    @notice Seconds between a liquidation and the earliest cover of its loss.
    @return Seconds.
    """
    return (self.cover_config >> DELAY_SHIFT) & DELAY_MASK


@view
@external
def stability_pool() -> IStabilityPool:
    """
    @notice The stability pool layer's contract (empty: that layer pays nothing).
    @return The StabilityPool.
    """
    return IStabilityPool(convert(self.cover_config & ADDRESS_MASK, address))


@view
@external
def unattributed_debt() -> uint256:
    """
    @notice Bad debt that belongs to no open loss event, no debt auction and no deleveraging
            [rad].
    @return [rad].
    """
    return self._unattributed_debt()


# the deleveraging layer's views (modules/deleverage.vy's words). Written here, after every other
# external function, not exported: a module's exports come first in the selector buckets'
# linear checks, and would make close_loss, cover and the other calls sharing a bucket with them
# cost 22 gas more each


@view
@external
def deleverage_buffer() -> uint256:
    """
    @notice How far above its requirement a charged vault stays, at the lowest price shown.
    @return [wad].
    """
    return deleveraging.deleverage_buffer


@view
@external
def deleverage_max_fraction() -> uint256:
    """
    @notice The most of a vault's headroom charged within one window.
    @return [wad].
    """
    return deleveraging.deleverage_max_fraction


@view
@external
def deleverage_interval() -> uint256:
    """
    @notice A deleveraging window's length.
    @return Seconds.
    """
    return deleveraging.deleverage_interval


@view
@external
def deleverage_window(collateral_type: bytes32, owner: address) -> (uint256, uint256):
    """
    @notice A vault's deleveraging window as stored: when it opened (0: never charged) and the
            share of its headroom charged in it. A window that opened `deleverage_interval`
            seconds ago or more has ended: the next charge opens a new one at 0 used.
    @param collateral_type The type.
    @param owner The vault's owner.
    @return (start [unix seconds], used [wad]).
    """
    return deleveraging._unpack_window(deleveraging.deleverage_windows[collateral_type][owner])


@view
@external
def margin_call() -> address:
    """
    @notice The MarginCall whose warning factors bound the deleverage buffer (empty: none).
    """
    return deleveraging.margin_call.address


@view
@external
def deleverage_total() -> uint256:
    """
    @notice The loss due for deleveraging over all types while live; 0 after shutdown.
    @return [rad].
    """
    return deleveraging.deleverage_total


# ---------------------------------------------------------------- internal


@view
@internal
def _live() -> bool:
    return (self.cover_config >> LIVE_SHIFT) & 1 == 1


@internal
def _add_unsettled(unsettled: uint256, amount: uint256) -> uint256:
    # proceeds (a close's covered amount, a layer's payment in cover) join the unsettled
    # proceeds, returned; both are below 2**200. If the sum would not fit its field, all of them
    # are cancelled now instead: they are in attributed_debt (the earlier ones, and `amount` as
    # part of an event's debt or loss) and held as this contract's stablecoin
    total: uint256 = unsettled + amount
    if total < loss_book.PROCEEDS_LIMIT:
        return total
    extcall engine.settle(total)
    loss_book.attributed_word = unsafe_sub(loss_book.attributed_word, total)
    return 0


@pure
@internal
def _pack_waterfall(order: DynArray[uint8, MAX_LAYERS]) -> uint256:
    # the length in the low 8 bits, then the layers, 8 bits each, the first lowest
    packed: uint256 = len(order)
    offset: uint256 = 8
    for layer: uint8 in order:
        packed |= convert(layer, uint256) << offset
        offset += 8
    return packed


@pure
@internal
def _unpack_waterfall(config: uint256) -> DynArray[uint8, MAX_LAYERS]:
    packed: uint256 = config >> WATERFALL_SHIFT
    order: DynArray[uint8, MAX_LAYERS] = []
    for i: uint256 in range(packed & 255, bound=MAX_LAYERS):
        order.append(convert((packed >> (8 + 8 * i)) & 255, uint8))
    return order


@internal
def _redistribute(
    collateral_type: bytes32, auction: address, auction_id: uint256, amount: uint256
) -> uint256:
    # fold the loss into the type's rate: its vaults pay it pro rata to their debt
    rate: uint256 = 0
    normalized_debt: uint256 = 0
    rate, normalized_debt = staticcall engine.rate_and_debt(collateral_type)
    if normalized_debt == 0:
        return 0
    # rounds up: the vaults pay at least the loss; the excess is surplus
    delta_rate: uint256 = fixed_point.div_up(amount, normalized_debt)
    # credits this contract normalized_debt * delta_rate >= amount (cover defers its settlement)
    extcall engine.fold_rate(collateral_type, self, convert(delta_rate, int256))
    log LossRedistributed(
        collateral_type=collateral_type,
        auction=auction,
        auction_id=auction_id,
        delta_rate=delta_rate,
        excess=normalized_debt * delta_rate - amount,
    )
    return amount


@view
@internal
def _free_surplus() -> uint256:
    # the surplus `settle` may spend (the FUND layer spends it net of the unattributed bad debt:
    # `_fund_payment`): the unsettled proceeds are owed to cancel attributed debt
    # (engine.stable(self) >= them: nothing else spends them)
    return staticcall engine.stable(self) - (loss_book.loss_totals >> loss_book.COUNT_BITS)


@view
@internal
def _fund_payment(remaining: uint256, unsettled: uint256, live_: bool) -> uint256:
    # what the FUND layer pays of `remaining`. While live: min(remaining, free surplus -
    # unattributed bad debt), 0 if the surplus is not above that debt. The unattributed bad debt
    # (keeper rewards) is a cost already incurred that no other layer pays, so the fund keeps
    # surplus for it first; `settle` lowers the free surplus and that debt by the same amount,
    # so a settle before or after a cover changes no layer's payment (finding 31-6). After
    # shutdown: min(remaining, free surplus). Then the unattributed debt is mostly the closed
    # vaults' debt (backed by the collateral settlement holds), thaw cancels it with whatever
    # surplus is left, and `settle` waits until every loss is done.
    # `unsettled` is the unsettled proceeds with this cover's payments so far added.
    stable: uint256 = staticcall engine.stable(self)
    # stable >= unsettled: nothing else spends them
    free: uint256 = stable - unsettled
    if free == 0 or not live_:
        return min(remaining, free)
    bad: uint256 = staticcall engine.bad_debt(self)
    if stable >= bad:
        # unattributed = bad - attributed - debt_to_auction - debt_on_auction, and attributed >=
        # unsettled + remaining (the open events' loss, this one's included, and the proceeds),
        # so free - unattributed >= stable - bad + remaining >= remaining: the whole loss (and
        # free >= remaining), without reading the three words
        return remaining
    # free - unattributed = free + the attributed and auctioned debt - bad, saturated at 0
    held: uint256 = (
        free
        + (loss_book.attributed_word & loss_book.ATTRIBUTED_MASK)
        + self.debt_to_auction
        + self.debt_on_auction
        + deleveraging.deleverage_total
    )
    if held <= bad:
        return 0
    return min(remaining, unsafe_sub(held, bad))


@view
@internal
def _unattributed_debt() -> uint256:
    return (
        staticcall engine.bad_debt(self)
        - (loss_book.attributed_word & loss_book.ATTRIBUTED_MASK)
        - self.debt_to_auction
        - self.debt_on_auction
        - deleveraging.deleverage_total
    )
