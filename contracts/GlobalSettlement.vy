# pragma version ~=0.4.3
"""
@title GlobalSettlement
@notice The last layer of the loss waterfall: freezes the system and lets every stablecoin
        holder redeem, pro rata, the collateral that backs the stablecoin.
        Sequence: `shutdown` (governance) freezes the engine, the Liquidator and the Backstop;
        per type `fix_price` (the final price: the lowest its oracle shows); `cancel_auction`
        for every running auction, on whichever auction contract runs it (as a sale of its lot
        at the final price: its owner re-owes the lot's worth, at most the remaining debt, and
        what that leaves of its loss goes through the waterfall); `close_vault` for every
        vault (collateral worth its debt at the final price moves here, the debt becomes the
        Backstop's bad debt; what the collateral cannot cover is the type's `gap`); the
        Backstop's open loss events are covered (FUND, POOL, then SETTLEMENT); `thaw` once
        `wait` has passed and no loss is open (the outstanding stablecoin is fixed); per type
        `fix_cash_price`; then holders `pack` stablecoin and `cash` it for collateral.
@dev DSS analogue: End (cage = shutdown, cage(ilk) = fix_price, tag = final_price, snip/skip =
     cancel_auction, skim = close_vault, free = free_collateral, thaw = thaw, flow =
     fix_cash_price, fix = cash_price, pack = pack, cash = cash, bag = packed, out = cashed,
     Art = type_debt).

     The haircut: each wad of packed stablecoin redeems `cash_price[t]` [ray] of collateral of
     EVERY type t. At par (final prices) one wad of stablecoin is worth 1 wad of value; the
     shortfall against par is the debt nobody backs: the loss left on the Backstop's events for
     the SETTLEMENT layer (unbacked debt counted in `debt`), and the types' gaps (vaults whose
     collateral was worth less than their debt). The Backstop's leftover surplus at `thaw`
     (the insurance fund after healing) is forfeit to holders: it is excluded from `debt`.

     Rounding, always against the redeemer: `final_price` rounds up (a vault gives no less
     collateral than its debt is worth), a vault's `owe` rounds up, a type's value and
     `cash_price` round down, and `cash` rounds down (settlement never pays out more
     collateral than it holds). The order this needs is enforced: `thaw` requires no running
     debt auction (a cancel refunds its bidder with new stablecoin that `debt` would not count)
     and no open loss (every Dutch auction cancelled), and `fix_cash_price` requires the type's
     normalized debt in the engine to be 0 (every vault closed, so the type's `gap` is final).
     If `cash_price` rounds to 0 it is still fixed (`cash_price_set`), so it cannot be re-fixed.
"""
from interfaces import IVaultEngine
from interfaces import IBackstop
from interfaces import ILiquidator
from interfaces import IDutchAuction
from interfaces import IPriceOracle
from interfaces import ISpotter
from modules import fixed_point
from modules import constants
from modules import authorized as auth

# admins (governance) shut the system down and set `wait`
initializes: auth
exports: auth.__interface__

# Views of the Backstop and the DebtAuction beyond their interface files: the Backstop's loss
# record (a struct its interface cannot share) and its debt auction; whether a debt auction runs.
struct Loss:
    debt: uint256
    due: uint256
    created_at: uint256
    status: uint256


interface IBackstopSettlement:
    def losses(collateral_type: bytes32, auction: address, auction_id: uint256) -> Loss: view
    def debt_auction() -> address: view


interface IDebtAuctionSettlement:
    def running() -> uint256: view


# the Backstop's status of a loss whose auction still runs
LOSS_RUNNING: constant(uint256) = 1

# the longest wait governance may set from shutdown to thaw [s] (52 weeks): an unbounded one
# could keep holders from redeeming for ever (issue 72's review)
MAX_WAIT: constant(uint256) = 52 * 7 * 86400

# the ledger
engine: public(immutable(IVaultEngine))
# the Liquidator (frozen at shutdown; knows each type's auction)
liquidator: public(immutable(ILiquidator))
# the Backstop (frozen at shutdown; takes on the debt of closed vaults)
backstop: public(immutable(IBackstop))
# the Spotter (knows each type's oracle)
spotter: public(immutable(ISpotter))

# false once shut down
live: public(bool)
# when `shutdown` ran [seconds]; 0 while live
shutdown_at: public(uint256)
# the minimum time from shutdown to thaw [seconds]
wait: public(uint256)
# outstanding stablecoin redeemable here, fixed at thaw [rad]; 0 = not thawed
debt: public(uint256)
# collateral type -> collateral per unit of stablecoin at the final price [ray]; 0 = not fixed
final_price: public(HashMap[bytes32, uint256])
# collateral type -> the type's normalized debt at fix_price plus cancelled auctions' [wad]
type_debt: public(HashMap[bytes32, uint256])
# collateral type -> collateral the closed vaults could not give [wad]
gap: public(HashMap[bytes32, uint256])
# collateral type -> collateral paid per wad of packed stablecoin [ray]
cash_price: public(HashMap[bytes32, uint256])
# collateral type -> whether `cash_price` was fixed (it may legitimately be 0)
cash_price_set: public(HashMap[bytes32, bool])
# holder -> stablecoin packed (given up for redemption) [wad]
packed: public(HashMap[address, uint256])
# collateral type -> holder -> packed stablecoin already redeemed for this type [wad]
cashed: public(HashMap[bytes32, HashMap[address, uint256]])


event WaitSet:
    wait: uint256


event Shutdown:
    shutdown_at: uint256


event PriceFixed:
    collateral_type: indexed(bytes32)
    price: uint256
    final_price: uint256


event AuctionCancelled:
    collateral_type: indexed(bytes32)
    auction_id: indexed(uint256)
    normalized_debt: uint256


event VaultClosed:
    collateral_type: indexed(bytes32)
    owner: indexed(address)
    collateral: uint256
    normalized_debt: uint256
    shortfall: uint256


event CollateralFreed:
    collateral_type: indexed(bytes32)
    owner: indexed(address)
    collateral: uint256


event Thawed:
    debt: uint256


event CashPriceFixed:
    collateral_type: indexed(bytes32)
    cash_price: uint256


event Packed:
    holder: indexed(address)
    amount: uint256


event Cashed:
    collateral_type: indexed(bytes32)
    holder: indexed(address)
    amount: uint256
    collateral: uint256


@deploy
def __init__(
    engine_: IVaultEngine,
    liquidator_: ILiquidator,
    backstop_: IBackstop,
    spotter_: ISpotter,
    wait_: uint256,
):
    """
    @param engine_ The VaultEngine (this contract needs its SHUTDOWN and SEIZE roles).
    @param liquidator_ The Liquidator (this contract needs its SHUTDOWN role).
    @param backstop_ The Backstop (this contract needs its SHUTDOWN role).
    @param spotter_ The Spotter (read only).
    @param wait_ The minimum time from shutdown to thaw [seconds].
    """
    engine = engine_
    liquidator = liquidator_
    backstop = backstop_
    spotter = spotter_
    self.live = True
    assert wait_ <= MAX_WAIT, "settlement: wait above 52 weeks"
    self.wait = wait_
    auth.__init__(auth.EMERGENCY)
    log WaitSet(wait=wait_)


# ---------------------------------------------------------------- administration


@external
def set_wait(new_wait: uint256):
    """
    @notice Set the minimum time from shutdown to thaw (only while live: it cannot be moved
            once settlement has begun).
    @param new_wait Seconds, at most 52 weeks.
    """
    auth._check_authorized()
    assert self.live, "settlement: not live"
    assert new_wait <= MAX_WAIT, "settlement: wait above 52 weeks"
    self.wait = new_wait
    log WaitSet(wait=new_wait)


# ---------------------------------------------------------------- settlement


@external
def shutdown():
    """
    @notice Freeze the system: the engine, the Liquidator and the Backstop. Irreversible.
            Admins, and the EMERGENCY role (the guardian: it cannot wait for the delay).
    """
    auth._check_role(auth.EMERGENCY)
    assert self.live, "settlement: not live"
    self.live = False
    self.shutdown_at = block.timestamp
    extcall engine.shutdown()
    extcall liquidator.shutdown()
    extcall backstop.shutdown()
    log Shutdown(shutdown_at=block.timestamp)


@external
def fix_price(collateral_type: bytes32):
    """
    @notice Fix a type's final price, and its normalized debt. Anyone may call, once, after
            shutdown. The price is the lowest the type's oracle shows: its current price
            (which must be valid, or, once `wait` has passed since shutdown, whatever its age:
            no role can hold the settlement back by letting the price go stale), its queued
            price, its latest post, and a price voided less than two pokes ago (issue 72: a void
            or a post not yet queued before a shutdown cannot raise the settlement price).
    @param collateral_type The type.
    """
    assert not self.live, "settlement: live"
    assert self.final_price[collateral_type] == 0, "settlement: price fixed"
    oracle: IPriceOracle = IPriceOracle(staticcall spotter.oracles(collateral_type))
    assert oracle.address != empty(address), "settlement: no oracle"
    # [wad]: stablecoin per unit of collateral
    price: uint256 = 0
    valid: bool = False
    price, valid = staticcall oracle.peek()
    assert price != 0, "settlement: invalid price"
    if not valid:
        # stale: it counts once `wait` has passed since shutdown (the feeder had that long)
        assert block.timestamp >= self.shutdown_at + self.wait, "settlement: invalid price"
    queued: uint256 = (staticcall oracle.peek_next())[0]
    if queued != 0 and queued < price:
        price = queued
    # the latest post, public though no poke has queued it yet
    posted: uint256 = staticcall oracle.source_price()
    if posted != 0 and posted < price:
        price = posted
    if staticcall oracle.void_lock() != 0:
        voided: uint256 = staticcall oracle.voided_price()
        if voided != 0 and voided < price:
            price = voided

    # collateral per unit of stablecoin [ray], rounded up: vaults give no less than they owe
    final: uint256 = fixed_point.div_up(constants.WAD * constants.RAY, price)
    self.final_price[collateral_type] = final
    self.type_debt[collateral_type] = (
        staticcall engine.collateral_types(collateral_type)
    ).normalized_debt
    log PriceFixed(collateral_type=collateral_type, price=price, final_price=final)


@external
def cancel_auction(collateral_type: bytes32, auction: address, auction_id: uint256):
    """
    @notice Cancel a running auction of a type whose final price is fixed, as if its lot were
            sold at the final price: its collateral goes back to the owner's vault (to be
            closed) with what the lot is worth at that price as debt (at most the debt still to
            raise), and its loss event is closed with that as proceeds; the loss they leave is
            covered by the waterfall (fund, pool, then settlement), not left to the type's gap
            (issue 63, finding 4). Anyone may call. The auction is named explicitly (not read
            from the Liquidator), so auctions of a replaced auction contract can be cancelled
            too; it must have a running loss event for this type in the Backstop (keyed by
            (type, auction, id), opened only by the Liquidator), so no other contract is called.
    @param collateral_type The type.
    @param auction The DutchAuction that runs the auction.
    @param auction_id The auction's id in that DutchAuction.
    """
    final: uint256 = self.final_price[collateral_type]
    assert final != 0, "settlement: no final price"
    loss: Loss = staticcall IBackstopSettlement(backstop.address).losses(
        collateral_type, auction, auction_id
    )
    assert loss.status == LOSS_RUNNING, "settlement: no running loss"
    # normalized debt put back into the owner's vault [wad]
    normalized_debt: uint256 = extcall IDutchAuction(auction).cancel_for_settlement(
        auction_id, final
    )
    self.type_debt[collateral_type] += normalized_debt
    log AuctionCancelled(
        collateral_type=collateral_type, auction_id=auction_id, normalized_debt=normalized_debt
    )


@external
def close_vault(collateral_type: bytes32, owner: address):
    """
    @notice Close a vault at the final price: collateral worth its debt (or all of it, if less)
            moves here, and its debt becomes the Backstop's bad debt. Anyone may call.
    @param collateral_type The type.
    @param owner The vault's owner.
    """
    final: uint256 = self.final_price[collateral_type]
    assert final != 0, "settlement: no final price"
    vault: IVaultEngine.Vault = staticcall engine.vaults(collateral_type, owner)
    # normalized_debt * rate [rad] (vault_debt reads 2 slots where collateral_types reads 5)
    vault_debt: uint256 = staticcall engine.vault_debt(collateral_type, owner)
    # collateral owed [wad]: the debt [wad] at the final price, both steps rounded up
    owe: uint256 = fixed_point.div_up(
        fixed_point.div_up(vault_debt, constants.RAY) * final, constants.RAY
    )
    taken: uint256 = min(owe, vault.collateral)
    # taken = min(owe, ...) <= owe
    shortfall: uint256 = unsafe_sub(owe, taken)
    self.gap[collateral_type] += shortfall
    # both fit int256: the engine stores them in 128 bits (taken <= vault.collateral)
    extcall engine.seize(
        collateral_type,
        owner,
        self,
        backstop.address, -convert(taken, int256), -convert(vault.normalized_debt, int256),
    )
    log VaultClosed(
        collateral_type=collateral_type,
        owner=owner,
        collateral=taken,
        normalized_debt=vault.normalized_debt,
        shortfall=shortfall,
    )


@external
def free_collateral(collateral_type: bytes32):
    """
    @notice After shutdown, take the collateral of the caller's vault once it has no debt (it
            was closed, or never had any) into the caller's free balance.
    @param collateral_type The type.
    """
    assert not self.live, "settlement: live"
    vault: IVaultEngine.Vault = staticcall engine.vaults(collateral_type, msg.sender)
    assert vault.normalized_debt == 0, "settlement: vault has debt"
    # fits int256: the engine stores it in 128 bits
    extcall engine.seize(
        collateral_type,
        msg.sender,
        msg.sender,
        backstop.address, -convert(vault.collateral, int256),
        0,
    )
    log CollateralFreed(
        collateral_type=collateral_type, owner=msg.sender, collateral=vault.collateral
    )


@external
def thaw():
    """
    @notice Fix the outstanding stablecoin, once `wait` has passed since shutdown and the
            Backstop has no open loss event. Heals the Backstop's bad debt against its surplus
            first; the surplus left (if any) is forfeit to holders. Anyone may call, once.
    """
    assert not self.live, "settlement: live"
    assert self.debt == 0, "settlement: thawed"
    assert block.timestamp >= self.shutdown_at + self.wait, "settlement: wait"
    assert staticcall backstop.open_losses() == 0, "settlement: losses open"
    # a debt auction cancelled after thaw would refund its bidder stablecoin `debt` never counted
    debt_auction: address = staticcall IBackstopSettlement(backstop.address).debt_auction()
    if debt_auction != empty(address):
        assert (
            staticcall IDebtAuctionSettlement(debt_auction).running() == 0
        ), "settlement: debt auction running"
    # the unsettled proceeds first (finished auctions' and covers': the Backstop keeps them until
    # healed), then [rad]:
    extcall backstop.heal()
    amount: uint256 = min(
        staticcall engine.stable(backstop.address), staticcall engine.bad_debt(backstop.address)
    )
    if amount > 0:
        extcall backstop.settle(amount)
    # stablecoin held by everyone but the Backstop [rad]; I1: total_issued >= any one balance
    outstanding: uint256 = (
        staticcall engine.total_issued() - staticcall engine.stable(backstop.address)
    )
    assert outstanding != 0, "settlement: no debt"
    self.debt = outstanding
    log Thawed(debt=outstanding)


@external
def fix_cash_price(collateral_type: bytes32):
    """
    @notice Fix how much collateral of a type each wad of stablecoin redeems. Anyone may call,
            once per type, after thaw.
    @param collateral_type The type.
    """
    outstanding: uint256 = self.debt
    assert outstanding != 0, "settlement: not thawed"
    assert not self.cash_price_set[collateral_type], "settlement: cash price fixed"
    ctype: IVaultEngine.CollateralType = staticcall engine.collateral_types(collateral_type)
    # every vault of the type closed (a vault closed later would add a gap this price ignores);
    # no debt can be drawn after shutdown, and cancelled auctions put theirs back into vaults
    assert ctype.normalized_debt == 0, "settlement: vaults open"
    rate: uint256 = ctype.rate
    # collateral backing the type's debt at the final price [wad], rounded down
    value: uint256 = (
        self.type_debt[collateral_type]
        * rate // constants.RAY
        * self.final_price[collateral_type] // constants.RAY
    )
    # collateral per wad of stablecoin [ray], rounded down: never pays out more than is held;
    # value - min(gap, value) cannot underflow
    per_wad: uint256 = (
        unsafe_sub(value, min(self.gap[collateral_type], value))
        * constants.RAY // (outstanding // constants.RAY)
    )
    self.cash_price[collateral_type] = per_wad
    self.cash_price_set[collateral_type] = True
    log CashPriceFixed(collateral_type=collateral_type, cash_price=per_wad)


@external
def pack(amount: uint256):
    """
    @notice Give up stablecoin for redemption (the caller must have allowed this contract in
            the engine). Packed stablecoin cannot be taken back.
    @param amount Stablecoin [wad].
    """
    assert self.debt != 0, "settlement: not thawed"
    assert amount > 0, "settlement: zero amount"
    self.packed[msg.sender] += amount
    extcall engine.transfer_stable(msg.sender, self, amount * constants.RAY)
    log Packed(holder=msg.sender, amount=amount)


@external
def cash(collateral_type: bytes32, amount: uint256):
    """
    @notice Redeem packed stablecoin for collateral of one type (each packed wad may be cashed
            once per type).
    @param collateral_type The type.
    @param amount Packed stablecoin [wad].
    """
    assert self.cash_price_set[collateral_type], "settlement: no cash price"
    cashed: uint256 = self.cashed[collateral_type][msg.sender] + amount
    assert cashed <= self.packed[msg.sender], "settlement: insufficient packed"
    self.cashed[collateral_type][msg.sender] = cashed
    # [wad], rounded down
    collateral: uint256 = amount * self.cash_price[collateral_type] // constants.RAY
    extcall engine.transfer_collateral(collateral_type, self, msg.sender, collateral)
    log Cashed(
        collateral_type=collateral_type, holder=msg.sender, amount=amount, collateral=collateral
    )


# ---------------------------------------------------------------- internal


