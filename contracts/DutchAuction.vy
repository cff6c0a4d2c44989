# pragma version ~=0.4.3
"""
@title DutchAuction
@notice Sells the collateral of liquidated vaults of one type for stablecoin, at a price that
        starts at oracle price x `buffer` and falls along a price curve. Anyone may take (buy)
        any part at the current price, up to their maximum price; the proceeds wait in this
        contract (an escrow per auction) until the auction finishes, when the Backstop takes
        them and records what they did not cover as a loss (`close_loss`). An auction that
        runs longer than `max_duration` or whose price falls below `max_drop` x start price
        must be reset to a fresh start price. Once the debt is raised,
        the collateral left is returned to the vault owner.
@dev DSS analogue: Clipper (buf = buffer, tail = max_duration, cusp = max_drop, chip =
     reward_rate, tip = reward_flat, chost = min_auction, kick = start, redo = reset,
     clipperCall = on_auction_take, stopped = stopped).
     Keeps, per auction: collateral sold <= collateral seized; a buyer never pays above their
     maximum price; a partial take never leaves debt below `min_auction` (the type's dust x
     its penalty, computed when used from the engine and the Liquidator, so no change of either
     leaves it stale), nor collateral worth less than `min_auction` at the current price (the
     whole lot is taken instead), so every remainder stays auctionable. An auction that ran its
     curve unsold (it needs a reset) and whose whole lot, at the start price a reset would give
     it, is worth less than `min_auction` and less than its debt can be closed by anyone
     (`close_dust_auction`): its debt is written off and its lot goes to the Backstop, never to
     the vault's owner (a write-off never hands an owner its collateral). Rewards (flat + rate x debt) are paid to keepers who
     start or reset an auction, only when both its debt and the value of its collateral are at
     least `min_auction` (no reward farming with dust auctions), never above half the penalty
     part of its debt (MAX_REWARD_SHARE x (debt - debt / penalty): a reward never exceeds half
     what the auction earns, so self-liquidating, or cutting one vault into many auctions,
     costs at least the other half), in total over the auction's start and all its resets never
     above that share of the penalty income at its start (its `reward_budget`), and never after
     shutdown (liquidator not live). The flash-take callback runs
     under the contract's re-entrancy lock: a taker cannot re-enter start, reset or take.
     Rounding: prices round up and collateral out rounds down (the protocol's favour).
     Circuit breaker `stopped`: 1 = no new auctions, 2 = also no resets, 3 = also no takes.
     A lot or start price above 2**128 - 1 reverts "auction: value too large".
     Escrow: engine.stable(self) = sum over running auctions of what they raised so far (the
     take that finishes an auction pays the Backstop directly).
     Global settlement may cancel a running auction (`cancel_for_settlement`: dss End.snip, as
     a sale of its lot at the final price).
"""
from interfaces import IVaultEngine
from interfaces import IPriceOracle
from interfaces import ILiquidator
from interfaces import IAuctionCallee
from interfaces import IBackstop
from interfaces import IDutchAuction
from modules import fixed_point
from modules import price_curves
from modules import constants
from modules import auction_slots
from modules import authorized as auth

# admins (governance) configure; roles: START (the Liquidator), CANCEL (global settlement)
initializes: auth
exports: auth.__interface__
# the running auctions' views
exports: (
    auction_slots.auctions,
    auction_slots.active_auctions,
    auction_slots.next_id,
    auction_slots.active_count,
    auction_slots.has_room,
)

implements: IDutchAuction

# circuit-breaker levels (`stopped`): each stops what the one below stops, and more
# 0: everything runs
NOT_STOPPED: constant(uint256) = 0
# 1: no new auctions
STOP_STARTS: constant(uint256) = 1
# 2: also no resets
STOP_RESETS: constant(uint256) = 2
# 3: also no takes
STOP_TAKES: constant(uint256) = 3
# how long the guardian's stop lasts [s]: then the level falls back to the admins' (issue 72: a
# stop governance wants kept is renewed through the queue, by an admin's set_stopped)
GUARDIAN_STOP_LIMIT: constant(uint256) = 86400
# the packed words' fields (layouts beside price_source, packed_limits and packed_curve below; a
# running auction's words are modules/auction_slots.vy's): each read as (word >> X_SHIFT) & X_MASK
ADDRESS_MASK: constant(uint256) = 2**160 - 1
MASK_64: constant(uint256) = 2**64 - 1
BUFFER_SHIFT: constant(uint256) = 160
STOPPED_SHIFT: constant(uint256) = 248
REWARD_RATE_SHIFT: constant(uint256) = 160
MAX_DURATION_SHIFT: constant(uint256) = 96
MAX_DROP_MASK: constant(uint256) = 2**96 - 1
KIND_SHIFT: constant(uint256) = 248
DURATION_SHIFT: constant(uint256) = 184
STEP_SHIFT: constant(uint256) = 120
CUT_MASK: constant(uint256) = 2**120 - 1
# bounds for governance parameters
MAX_BUFFER: constant(uint256) = 10 * constants.RAY
MAX_REWARD_RATE: constant(uint256) = constants.WAD // 10
# keeper rewards take at most this share of an auction's penalty income [wad]: the rest is the
# real cost of starting an auction of one's own vault (finding 3 and 4 of issue 31: at a
# 100% share a dust vault self-liquidated at break-even and one vault cut into chunks paid a flat
# reward per chunk out of income it did not have)
MAX_REWARD_SHARE: constant(uint256) = constants.WAD // 2


# the ledger
engine: public(immutable(IVaultEngine))
# the collateral type sold here
collateral_type: public(immutable(bytes32))
# the liquidator (starts auctions; is told of debt raised)
liquidator: public(immutable(ILiquidator))
# who takes the proceeds (close_loss) and owes keeper rewards
backstop: public(immutable(IBackstop))

# what every start and reset reads, in one slot: the start-price buffer [ray] << 160 | the price
# oracle; the views oracle() and buffer() unpack it:
# - the oracle gives start prices;
# - start price = oracle price x buffer, 1 ray <= buffer <= 10 ray < 2**96
price_source: uint256
# what every take and reset reads, in one slot: the circuit breaker level (stopped) << 248 |
# the keeper reward rate [wad] << 160 | max_duration [seconds] << 96 | max_drop [ray]; the views
# stopped(), reward_rate(), max_duration() and max_drop() unpack it:
# - an auction older than max_duration must be reset;
# - an auction whose price fell below max_drop x top must be reset (max_drop < 1 ray < 2**96)
packed_limits: uint256
# keeper reward: reward_rate x debt [wad] (in packed_limits) + reward_flat [rad]
reward_flat: public(uint256)
# how the price falls: kind << 248 | duration << 184 | step << 120 | cut (one slot, read by every take)
packed_curve: uint256
# the running auctions' slots (modules/auction_slots.vy): its storage takes these slots, in its
# order
initializes: auction_slots
# when the guardian's stop lapses [s]: 0 while the level in force is the admins' (the guardian
# may stop once); once set, the guardian may raise its stop until then, and stop no more until
# an admin's set_stopped clears it
stop_lapses_at: public(uint256)
# the level the guardian's stop raised, in force again once it lapses (read while
# stop_lapses_at != 0)
stop_base: public(uint256)


event ParametersSet:
    buffer: uint256
    max_duration: uint256
    max_drop: uint256
    reward_rate: uint256
    reward_flat: uint256


event CurveSet:
    kind: uint256
    duration: uint256
    step: uint256
    cut: uint256


event OracleSet:
    oracle: address


event StoppedSet:
    level: uint256


event Started:
    auction_id: indexed(uint256)
    top: uint256
    debt: uint256
    lot: uint256
    owner: indexed(address)
    keeper: indexed(address)
    reward: uint256


event Reset:
    auction_id: indexed(uint256)
    top: uint256
    debt: uint256
    lot: uint256
    owner: indexed(address)
    keeper: indexed(address)
    reward: uint256


event Taken:
    auction_id: indexed(uint256)
    max_price: uint256
    price: uint256
    owe: uint256
    collateral: uint256
    debt: uint256
    lot: uint256
    owner: indexed(address)


event Finished:
    auction_id: indexed(uint256)
    collateral_returned: uint256
    debt_unraised: uint256


event DustClosed:
    auction_id: indexed(uint256)
    # the lot, sent to the Backstop [wad]
    collateral: uint256
    # the debt written off [rad]
    debt: uint256


event Cancelled:
    auction_id: indexed(uint256)
    collateral_returned: uint256
    debt: uint256
    normalized_debt: uint256


@deploy
def __init__(
    engine_: IVaultEngine,
    collateral_type_: bytes32,
    liquidator_: ILiquidator,
    backstop_: IBackstop,
    oracle_: IPriceOracle,
):
    """
    @param engine_ The VaultEngine (this contract needs its SEIZE and MINT_UNBACKED roles, for
           cancels and rewards).
    @param collateral_type_ The type sold.
    @param liquidator_ The Liquidator (START here; this contract needs DEBT_IN_AUCTION there).
    @param backstop_ The Backstop (this contract needs its CLOSE_LOSS role; takes the proceeds
           from its escrow).
    @param oracle_ The type's price oracle.
    """
    engine = engine_
    collateral_type = collateral_type_
    liquidator = liquidator_
    backstop = backstop_
    auction_slots.__init__()
    # proceeds wait here until an auction finishes; the Backstop then takes them (close_loss)
    extcall engine_.allow(backstop_.address)
    self.price_source = constants.RAY << BUFFER_SHIFT | convert(
        convert(oracle_.address, uint160), uint256
    )
    self.packed_limits = self._pack_limits(NOT_STOPPED, 0, 3600, 0)
    self.packed_curve = self._pack_curve(
        price_curves.Curve(kind=price_curves.LINEAR, duration=3600, step=0, cut=0)
    )
    auth.__init__(auth.START | auth.CANCEL | auth.EMERGENCY)


# ---------------------------------------------------------------- administration


@external
def set_parameters(
    buffer: uint256,
    max_duration: uint256,
    max_drop: uint256,
    reward_rate: uint256,
    reward_flat: uint256,
):
    """
    @notice Set the start-price buffer, the reset limits and the keeper reward.
    @param buffer [ray], between 1 and 10 ray.
    @param max_duration Seconds, non-zero.
    @param max_drop [ray], below 1 ray.
    @param reward_rate [wad], at most 10%.
    @param reward_flat [rad].
    """
    auth._check_authorized()
    assert buffer >= constants.RAY, "auction: buffer below 1"
    assert buffer <= MAX_BUFFER, "auction: buffer above 10"
    assert max_duration != 0, "auction: zero max duration"
    assert max_duration < 2**64, "auction: max duration too large"
    assert max_drop < constants.RAY, "auction: max drop not below 1"
    assert reward_rate <= MAX_REWARD_RATE, "auction: reward rate above 10%"
    self.price_source = buffer << BUFFER_SHIFT | (self.price_source & ADDRESS_MASK)
    self.packed_limits = self._pack_limits(
        self.packed_limits >> STOPPED_SHIFT, reward_rate, max_duration, max_drop
    )
    self.reward_flat = reward_flat
    log ParametersSet(
        buffer=buffer,
        max_duration=max_duration,
        max_drop=max_drop,
        reward_rate=reward_rate,
        reward_flat=reward_flat,
    )


@external
def set_curve(curve: price_curves.Curve):
    """
    @notice Set how the price falls (applies to running auctions too).
    @param curve (kind, duration, step, cut); see the price_curves module.
    """
    auth._check_authorized()
    price_curves.validate(curve)
    assert (
        curve.duration < 2**64 and curve.step < 2**64 and curve.cut < 2**120
    ), "auction: value too large"
    self.packed_curve = self._pack_curve(curve)
    log CurveSet(kind=curve.kind, duration=curve.duration, step=curve.step, cut=curve.cut)


@external
def set_oracle(oracle: IPriceOracle):
    """
    @notice Set the price oracle for start prices.
    @param oracle Non-zero.
    """
    auth._check_authorized()
    assert oracle.address != empty(address), "auction: zero oracle"
    self.price_source = (
        (self.price_source >> BUFFER_SHIFT << BUFFER_SHIFT)
        | convert(convert(oracle.address, uint160), uint256)
    )
    log OracleSet(oracle=oracle.address)


@external
def set_stopped(level: uint256):
    """
    @notice Set the circuit breaker: 0 = running, 1 = no new auctions, 2 = also no resets,
            3 = also no takes. Admins set any level, for as long as they choose, and re-arm the
            guardian's stop; the EMERGENCY role (the guardian, who cannot wait for the delay)
            only a higher level than in force, once until an admin sets a level again, and its
            stop lapses GUARDIAN_STOP_LIMIT after it began: the level then falls back to the
            one it raised (issue 72: no stop of the guardian's lasts for ever).
    @param level 0..3.
    """
    auth._check_role(auth.EMERGENCY)
    assert level <= STOP_TAKES, "auction: level above 3"
    if auth.authorized[msg.sender]:
        self.stop_lapses_at = 0
    else:
        in_force: uint256 = self._level()
        assert level > in_force, "auction: guardian only stops more"
        lapses_at: uint256 = self.stop_lapses_at
        if lapses_at == 0:
            self.stop_base = in_force
            self.stop_lapses_at = block.timestamp + GUARDIAN_STOP_LIMIT
        else:
            assert block.timestamp < lapses_at, "auction: guardian stop used"
    self.packed_limits = (self.packed_limits & (2**STOPPED_SHIFT - 1)) | level << STOPPED_SHIFT
    log StoppedSet(level=level)


# ---------------------------------------------------------------- auctions


@external
@nonreentrant
def start(debt: uint256, lot: uint256, owner: address, keeper: address) -> uint256:
    """
    @notice Start an auction (the Liquidator).
    @param debt Stablecoin to raise [rad].
    @param lot Collateral for sale [wad] (already moved to this contract in the engine).
    @param owner The liquidated vault's owner.
    @param keeper Who receives the reward.
    @return The new auction's id.
    """
    auth._check_role(auth.START)
    assert self._level() < STOP_STARTS, "auction: stopped"
    assert debt != 0, "auction: zero debt"
    assert lot != 0, "auction: zero lot"
    assert owner != empty(address), "auction: zero owner"
    slot: uint256 = auction_slots._claim_slot()
    # the slot is free: its meta word holds its next generation
    generation: uint256 = auction_slots.auction_meta[slot]
    assert generation < auction_slots.MAX_GENERATION, "auction: slot worn out"
    auction_id: uint256 = (generation << auction_slots.SLOT_BITS | slot) + 1
    top: uint256 = self._start_price()
    assert (
        lot <= auction_slots.MAX_FIELD
        and top <= auction_slots.MAX_FIELD
        and debt <= auction_slots.DEBT_MASK
    ), "auction: value too large"
    reward: uint256 = 0
    budget: uint256 = 0
    reward, budget = self._pay_reward(debt, lot, top, keeper, max_value(uint256))
    auction_slots._store(
        auction_id,
        auction_slots.Auction(
            position=slot,
            debt=debt,
            lot=lot,
            owner=owner,
            started=block.timestamp,
            top=top,
            reward_budget=budget,
        ),
    )
    log Started(
        auction_id=auction_id,
        top=top,
        debt=debt,
        lot=lot,
        owner=owner,
        keeper=keeper,
        reward=reward,
    )
    return auction_id


@external
@nonreentrant
def reset(auction_id: uint256, keeper: address):
    """
    @notice Restart an auction that ran too long or fell too far, at a fresh start price.
            Anyone may call.
    @param auction_id The auction.
    @param keeper Who receives the reward.
    """
    assert self._level() < STOP_RESETS, "auction: stopped"
    auction: auction_slots.Auction = auction_slots._load(auction_id)
    assert auction.owner != empty(address), "auction: not running"
    assert self._needs_reset(auction), "auction: cannot reset"
    top: uint256 = self._start_price()
    assert top <= auction_slots.MAX_FIELD, "auction: value too large"
    auction.started = block.timestamp
    auction.top = top
    reward: uint256 = 0
    reward, auction.reward_budget = self._pay_reward(
        auction.debt, auction.lot, top, keeper, auction.reward_budget
    )
    auction_slots._store(auction_id, auction)
    log Reset(
        auction_id=auction_id,
        top=top,
        debt=auction.debt,
        lot=auction.lot,
        owner=auction.owner,
        keeper=keeper,
        reward=reward,
    )


@external
@nonreentrant
def take(
    auction_id: uint256,
    max_collateral: uint256,
    max_price: uint256,
    recipient: address,
    data: Bytes[1024],
):
    """
    @notice Buy up to `max_collateral` of an auction's collateral at the current price. The
            caller pays (internal stablecoin; it must have allowed this contract in the engine)
            after the collateral is sent to `recipient`, and after `recipient`'s
            on_auction_take callback when `data` is not empty (a flash take).
    @param auction_id The auction.
    @param max_collateral Most collateral to buy [wad].
    @param max_price Highest acceptable price [ray]; reverts if the price is above it.
    @param recipient Who receives the collateral (free balance in the engine).
    @param data Passed to the callback; empty = no callback.
    """
    assert self._level() < STOP_TAKES, "auction: stopped"
    auction: auction_slots.Auction = auction_slots._load(auction_id)
    assert auction.owner != empty(address), "auction: not running"
    price: uint256 = self._price(auction)
    assert not self._needs_reset_at(auction, price), "auction: needs reset"
    assert max_price >= price, "auction: price above maximum"

    collateral: uint256 = min(auction.lot, max_collateral)
    # read only for a partial take (a whole take needs no dust rule)
    min_auction: uint256 = 0
    if collateral < auction.lot:
        min_auction = self._min_auction()
        if (auction.lot - collateral) * price < min_auction:
            # the rest would be worth less than min_auction: no keeper would ever take it (a
            # zombie auction holding its debt, a cap and a slot); take the whole lot instead
            collateral = auction.lot
    owe: uint256 = collateral * price
    if owe > auction.debt:
        # buying more than the debt: pay the debt, get what it buys (rounded down)
        owe = auction.debt
        collateral = owe // price
    elif owe < auction.debt and collateral < auction.lot:
        # a partial take must leave an auctionable remainder (collateral < lot: min_auction read)
        if auction.debt - owe < min_auction:
            assert auction.debt > min_auction, "auction: no partial take"
            owe = auction.debt - min_auction
            collateral = owe // price
    auction.debt -= owe
    auction.lot -= collateral

    extcall engine.transfer_collateral(collateral_type, self, recipient, collateral)
    if len(data) != 0 and recipient != engine.address and recipient != liquidator.address:
        extcall IAuctionCallee(recipient).on_auction_take(msg.sender, owe, collateral, data)
    if auction.lot == 0 or auction.debt == 0:
        # the take that finishes the auction pays the Backstop directly (close_loss below)
        extcall engine.transfer_stable(msg.sender, backstop.address, owe)
    else:
        # earlier takes' proceeds wait here, per auction, until it finishes: no one can spend them
        extcall engine.transfer_stable(msg.sender, self, owe)

    if auction.lot == 0:
        # sold out: whatever debt is left is not raised (the Backstop records the loss)
        extcall liquidator.remove_debt_in_auction(collateral_type, auction.debt + owe)
        auction_slots._remove(auction_id, auction.position)
        extcall backstop.close_loss(collateral_type, auction_id, auction.debt, owe)
        log Finished(auction_id=auction_id, collateral_returned=0, debt_unraised=auction.debt)
    elif auction.debt == 0:
        # debt raised: the rest of the collateral goes back to the vault owner
        extcall liquidator.remove_debt_in_auction(collateral_type, owe)
        extcall engine.transfer_collateral(collateral_type, self, auction.owner, auction.lot)
        auction_slots._remove(auction_id, auction.position)
        extcall backstop.close_loss(collateral_type, auction_id, 0, owe)
        log Finished(auction_id=auction_id, collateral_returned=auction.lot, debt_unraised=0)
    else:
        extcall liquidator.remove_debt_in_auction(collateral_type, owe)
        auction_slots.auction_debt[auction.position] = auction_slots._pack_debt(auction)
        auction_slots.auction_lot_top[auction.position] = (
            auction.lot << auction_slots.LOT_SHIFT | auction.top
        )
    log Taken(
        auction_id=auction_id,
        max_price=max_price,
        price=price,
        owe=owe,
        collateral=collateral,
        debt=auction.debt,
        lot=auction.lot,
        owner=auction.owner,
    )


@external
@nonreentrant
def close_dust_auction(auction_id: uint256):
    """
    @notice Close an auction that ran its curve without a taker (it needs a reset) and whose
            whole lot, at the start price a reset would give it (the oracle price x buffer now),
            is worth less than min_auction (no keeper would take it) and less than its debt.
            Anyone may call. Its debt still to raise is written off through its loss event
            (closed with what earlier takes raised); the lot goes to the Backstop, never to the
            vault's owner: a write-off never returns collateral to the owner of the debt it
            writes off (finding 1 of issue 31: a dust raised above a vault's size, or cut from
            it by partial liquidations, made this a way to shed debt and keep the collateral).
            Only an auction nobody took over its whole curve: a lot that keepers would buy is
            sold, never stranded in the Backstop.
    @param auction_id The auction.
    """
    assert self._level() < STOP_TAKES, "auction: stopped"
    auction: auction_slots.Auction = auction_slots._load(auction_id)
    assert auction.owner != empty(address), "auction: not running"
    assert self._needs_reset(auction), "auction: not ended"
    # what a reset would start it at (reverts without a valid price, as a reset does)
    top: uint256 = self._start_price()
    assert auction.lot * top < self._min_auction(), "auction: lot not dust"
    assert auction.lot * top < auction.debt, "auction: lot covers the debt"
    extcall liquidator.remove_debt_in_auction(collateral_type, auction.debt)
    extcall engine.transfer_collateral(collateral_type, self, backstop.address, auction.lot)
    auction_slots._remove(auction_id, auction.position)
    extcall backstop.close_loss(collateral_type, auction_id, auction.debt, 0)
    log DustClosed(auction_id=auction_id, collateral=auction.lot, debt=auction.debt)
    log Finished(auction_id=auction_id, collateral_returned=0, debt_unraised=auction.debt)


@external
@nonreentrant
def cancel_for_settlement(auction_id: uint256, final_price: uint256) -> uint256:
    """
    @notice Global settlement (CANCEL role): end a running auction as if its whole lot were
            sold at the final price: its collateral goes back to the owner's vault and the owner
            re-owes, as new vault debt, what the lot is worth at that price, at most the debt
            still to raise (issue 63, finding 4). The loss event closes with that as proceeds,
            so what they do not cover goes through the waterfall (`Backstop.cover`: fund, pool,
            then settlement), not into the type's `gap`.
    @param auction_id The auction.
    @param final_price The type's final price: collateral per stablecoin [ray], non-zero.
    @return The normalized debt put back into the vault [wad].
    """
    auth._check_role(auth.CANCEL)
    auction: auction_slots.Auction = auction_slots._load(auction_id)
    assert auction.owner != empty(address), "auction: not running"
    rate: uint256 = (staticcall engine.rate_and_debt(collateral_type))[0]
    # the lot's worth at the final price [wad], rounded down: closing the vault then takes at
    # most the lot for it, ceil(worth x final) <= lot, so the cancelled auction adds nothing to
    # the type's gap (the lot is below 2**128, RAY below 2**90)
    worth: uint256 = auction.lot * constants.RAY // final_price
    # what the owner re-owes [rad]: min(debt, worth x RAY), without the product overflowing
    owed: uint256 = auction.debt
    if worth <= owed // constants.RAY:
        owed = worth * constants.RAY
    # rounds down: the owner never re-owes more than the debt still to raise nor the lot's worth
    normalized_debt: uint256 = owed // rate
    returned: uint256 = normalized_debt * rate
    if returned != 0:
        # as if the owner paid the rest with a new loan: the proceeds of that loan are escrowed
        # here like a take's, and the loan is the vault's debt (seize below)
        extcall engine.create_unbacked(backstop.address, self, returned)
    extcall engine.seize(
        collateral_type,
        auction.owner,
        self,
        backstop.address,
        convert(auction.lot, int256),
        convert(normalized_debt, int256),
    )
    extcall liquidator.remove_debt_in_auction(collateral_type, auction.debt)
    auction_slots._remove(auction_id, auction.position)
    # returned <= owed <= auction.debt (rounded down above)
    extcall backstop.close_loss(collateral_type, auction_id, unsafe_sub(auction.debt, returned), 0)
    log Cancelled(
        auction_id=auction_id,
        collateral_returned=auction.lot,
        debt=auction.debt,
        normalized_debt=normalized_debt,
    )
    return normalized_debt


# ---------------------------------------------------------------- keeper views


@view
@external
def min_auction() -> uint256:
    """
    @notice The smallest debt a partial take may leave, and the smallest auction (by debt and by
            its lot's value at the start price) that pays keeper rewards: the type's dust x
            its liquidation penalty, read now.
    @return [rad].
    """
    return self._min_auction()


@view
@external
def oracle() -> IPriceOracle:
    """
    @notice The price oracle start prices come from.
    @return The oracle.
    """
    return IPriceOracle(convert(convert(self.price_source & ADDRESS_MASK, uint160), address))


@view
@external
def buffer() -> uint256:
    """
    @notice Start price = oracle price x buffer.
    @return [ray], between 1 and 10 ray.
    """
    return self.price_source >> BUFFER_SHIFT


@view
@external
def stopped() -> uint256:
    """
    @notice The circuit breaker: 0 = running, 1 = no new auctions, 2 = also no resets, 3 = also
            no takes.
    @return The level in force (a guardian's stop that lapsed is not).
    """
    return self._level()


@view
@external
def max_duration() -> uint256:
    """
    @notice An auction older than this must be reset.
    @return Seconds.
    """
    return (self.packed_limits >> MAX_DURATION_SHIFT) & MASK_64


@view
@external
def max_drop() -> uint256:
    """
    @notice An auction whose price fell below max_drop x its start price must be reset.
    @return [ray], below 1 ray.
    """
    return self.packed_limits & MAX_DROP_MASK


@view
@external
def reward_rate() -> uint256:
    """
    @notice The keeper reward's rate on the debt (reward = reward_flat + reward_rate x debt).
    @return [wad], at most 10%.
    """
    return (self.packed_limits >> REWARD_RATE_SHIFT) & MASK_64


@view
@external
def curve() -> price_curves.Curve:
    """
    @notice How the price falls.
    @return (kind, duration, step, cut); see the price_curves module.
    """
    return self._curve()


@view
@external
def status(auction_id: uint256) -> (bool, uint256, uint256, uint256):
    """
    @notice An auction as a keeper sees it now.
    @param auction_id The auction.
    @return (needs_reset, price [ray], lot [wad], debt [rad]); all zero if not running.
    """
    auction: auction_slots.Auction = auction_slots._load(auction_id)
    if auction.owner == empty(address):
        return False, 0, 0, 0
    price: uint256 = self._price(auction)
    return self._needs_reset_at(auction, price), price, auction.lot, auction.debt


# ---------------------------------------------------------------- internal


@view
@internal
def _min_auction() -> uint256:
    # computed when used: a change of the dust (engine) or the penalty (Liquidator) applies at
    # once to every running auction, with no follow-up call to forget
    return (
        staticcall engine.dust(collateral_type)
        * staticcall liquidator.penalty(collateral_type) // constants.WAD
    )


@view
@internal
def _start_price() -> uint256:
    price: uint256 = 0
    valid: bool = False
    source: uint256 = self.price_source
    oracle: IPriceOracle = IPriceOracle(convert(convert(source & ADDRESS_MASK, uint160), address))
    price, valid = staticcall oracle.peek()
    assert valid, "auction: invalid price"
    # rounds up, as every price here
    return fixed_point.rmul_up(price * constants.WAD_TO_RAY, source >> BUFFER_SHIFT)


@view
@internal
def _price(auction: auction_slots.Auction) -> uint256:
    return price_curves.price(self._curve(), auction.top, block.timestamp - auction.started)


@view
@internal
def _curve() -> price_curves.Curve:
    packed: uint256 = self.packed_curve
    return price_curves.Curve(
        kind=packed >> KIND_SHIFT,
        duration=(packed >> DURATION_SHIFT) & MASK_64,
        step=(packed >> STEP_SHIFT) & MASK_64,
        cut=packed & CUT_MASK,
    )


@pure
@internal
def _pack_limits(
    stopped: uint256, reward_rate: uint256, max_duration: uint256, max_drop: uint256
) -> uint256:
    # validated: stopped <= 3, reward_rate <= 10% < 2**64, max_duration < 2**64, max_drop < 2**96
    return (
        stopped << STOPPED_SHIFT
        | reward_rate << REWARD_RATE_SHIFT
        | max_duration << MAX_DURATION_SHIFT
        | max_drop
    )


@pure
@internal
def _pack_curve(curve: price_curves.Curve) -> uint256:
    # validated: kind <= 2, duration and step < 2**64, cut < 1 ray < 2**120
    return (
        curve.kind << KIND_SHIFT
        | curve.duration << DURATION_SHIFT
        | curve.step << STEP_SHIFT
        | curve.cut
    )


@view
@internal
def _level() -> uint256:
    # the circuit breaker's level in force: the one written, unless the guardian wrote it and it
    # has lapsed (then the level it raised); read beyond packed_limits only while stopped
    level: uint256 = self.packed_limits >> STOPPED_SHIFT
    if level != NOT_STOPPED:
        lapses_at: uint256 = self.stop_lapses_at
        if lapses_at != 0 and block.timestamp >= lapses_at:
            return self.stop_base
    return level


@view
@internal
def _needs_reset_at(auction: auction_slots.Auction, price: uint256) -> bool:
    # a zero price needs a reset too (a take at price 0 would give collateral away)
    limits: uint256 = self.packed_limits
    return (
        block.timestamp - auction.started > (limits >> MAX_DURATION_SHIFT) & MASK_64
        or price * constants.RAY // auction.top < limits & MAX_DROP_MASK
        or price == 0
    )


@view
@internal
def _needs_reset(auction: auction_slots.Auction) -> bool:
    return self._needs_reset_at(auction, self._price(auction))


@internal
def _pay_reward(
    debt: uint256, lot: uint256, top: uint256, keeper: address, budget: uint256
) -> (uint256, uint256):
    # -> (reward paid, budget left). `budget` is what the auction may still pay in rewards;
    # max_value at its start, where the budget becomes its penalty income
    reward_rate: uint256 = (self.packed_limits >> REWARD_RATE_SHIFT) & MASK_64
    reward_flat: uint256 = self.reward_flat
    if reward_flat == 0 and reward_rate == 0:
        if budget == max_value(uint256):
            return 0, 0
        return 0, budget
    penalty: uint256 = staticcall liquidator.penalty(collateral_type)
    min_auction: uint256 = staticcall engine.dust(collateral_type) * penalty // constants.WAD
    if debt < min_auction or lot * top < min_auction:
        # no reward for dust-size auctions (by debt or by collateral value at the start price)
        if budget == max_value(uint256):
            return 0, 0
        return 0, budget
    # no reward after shutdown (global settlement): nothing earns it any more
    if not staticcall liquidator.live():
        return 0, 0
    # never more than MAX_REWARD_SHARE of the penalty part of the debt to raise, debt - debt /
    # penalty (the income of this auction at the current penalty; the quotient rounds up and the
    # share rounds down, so the limit rounds down), nor, with earlier rewards, than that share
    # of the income at the auction's start
    limit: uint256 = min(
        budget,
        (debt - fixed_point.div_up(debt * constants.WAD, penalty))
        * MAX_REWARD_SHARE // constants.WAD,
    )
    # rounds down: rewards are never over-paid
    reward: uint256 = min(reward_flat + debt * reward_rate // constants.WAD, limit)
    if reward != 0:
        extcall engine.create_unbacked(backstop.address, keeper, reward)
    # reward <= limit
    return reward, unsafe_sub(limit, reward)
