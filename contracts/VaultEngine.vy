# pragma version ~=0.4.3
"""
@title VaultEngine
@notice The core ledger of Backstop: collateral types, vaults, internal collateral and
        stablecoin balances, unbacked (bad) debt and every debt ceiling.
@dev DSS analogue: Vat. Glossary (Backstop -> dss): collateral type -> ilk,
     normalized_debt -> art/Art, rate -> rate, safe_price -> spot, debt_ceiling -> line,
     global_debt_ceiling -> Line, dust -> dust, collateral -> gem, stable -> dai,
     bad_debt -> sin, total_issued -> debt, total_unbacked -> vice, modify_vault -> frob,
     seize -> grab, fold_rate -> fold, create_unbacked -> suck, settle -> heal.

     Units: wad = 1e18 (collateral, normalized debt), ray = 1e27 (rate, safe_price),
     rad = 1e45 (stable balances, bad debt, ceilings, dust).

     Invariants kept (docs/architecture.md), exactly, in rad:
       I1 total_issued = sum(stable[u])
       I2 total_unbacked = sum(bad_debt[u])
       I3 total_issued = total_unbacked + sum_t(types[t].normalized_debt * types[t].rate)
       I4 types[t].normalized_debt = sum_u(vaults[t][u].normalized_debt)
       I5 collateral of a type moves between free balances and vaults (and, later, auctions)
          and is only created or destroyed by joins (the JOIN role).
     A type's rate starts at 1 ray, can never reach zero, and a type can never be
     initialized twice (re-initialising would break I3). Normalized debts, locked collateral
     and rates are stored in 128-bit halves of one slot; values that would not fit revert with
     "engine: value too large" (2**128 wad is 3.4e20 tokens; 2**128 ray is a rate of 3.4e11).

     Utilization record (for the FeeAccumulator's multiplier, finding 5 of docs/security.md):
     per type, the time-integral of max(0, utilization - kink) [wad x seconds], brought up to
     date before every change of what utilization depends on (normalized debt, rate, ceiling,
     kink), so the fee of a period is priced by the utilization during that period, not at the
     moment of accrual. utilization = min(1, ceil(debt * WAD / ceiling)) [wad] (ceiling 0: 1 with
     debt, else 0), as in the FeeAccumulator.
"""
from interfaces import IVaultEngine
from modules import constants
from modules import size_margin as sizing
from modules import authorized as auth

# admins (governance) call every privileged entry point; the other contracts hold roles:
# JOIN, PRICE, CEILING, RATE, FEE_KINK, SEIZE, MINT_UNBACKED, SHUTDOWN (modules/authorized.vy)
initializes: auth
exports: auth.__interface__

implements: IVaultEngine
# the structs CollateralType and Vault are defined in interfaces/IVaultEngine.vyi

# packed fields are 128 bits wide
MAX_FIELD: constant(uint256) = 2**128 - 1
# the high half of a packed word: (packed >> HIGH_HALF, packed & MAX_FIELD)
HIGH_HALF: constant(uint256) = 128
# the safe-price slot: size margin << SIZE_SHIFT | safe price (at most MAX_SAFE_PRICE)
SIZE_SHIFT: constant(uint256) = 160
MAX_SAFE_PRICE: constant(uint256) = 2**160 - 1
# total_unbacked_word's kept bit (constants.KEPT_SET)
UNBACKED_SET: constant(uint256) = constants.KEPT_SET
# the utilization record: integral [wad x seconds] << 104 | kink [wad] << 40 | updated at [s]
UTILIZATION_TIME_MASK: constant(uint256) = 2**40 - 1
UTILIZATION_KINK_SHIFT: constant(uint256) = 40
UTILIZATION_KINK_MASK: constant(uint256) = 2**64 - 1
UTILIZATION_INTEGRAL_SHIFT: constant(uint256) = 104
# 2**152 wad-seconds: utilization 1 above a kink of 0 for 1.8e20 years
UTILIZATION_INTEGRAL_LIMIT: constant(uint256) = 2**152

# owner -> delegate -> may the delegate act for the owner
delegates: public(HashMap[address, HashMap[address, bool]])
# false once the system is shut down by global settlement
live: public(bool)

# Storage is packed where a hot path reads fields together (one cold slot instead of two):
# collateral type id -> normalized_debt [wad] << 128 | rate [ray]; rate 0 = not initialized
debt_and_rate: HashMap[bytes32, uint256]
# collateral type id -> size margin (modules/size_margin.vy, 96 bits) << 160 | collateral value
# per unit at the base liquidation ratio [ray, < 2**160] (views safe_price, size_margin): one
# slot for the safety check
safe_price_word: HashMap[bytes32, uint256]
# collateral type id -> maximum total debt of the type [rad]
debt_ceiling: public(HashMap[bytes32, uint256])
# collateral type id -> minimum debt of a vault that has debt [rad]
dust: public(HashMap[bytes32, uint256])
# collateral type id -> owner -> locked collateral [wad] << 128 | normalized debt [wad]
packed_vaults: HashMap[bytes32, HashMap[address, uint256]]
# collateral type id -> owner -> free collateral held in the engine [wad]
collateral: public(HashMap[bytes32, HashMap[address, uint256]])
# owner -> internal stablecoin balance [rad]
stable: public(HashMap[address, uint256])
# owner -> unbacked debt owed by that account (the backstop) [rad]
bad_debt: public(HashMap[address, uint256])
# total stablecoin issued, backed or not [rad]
total_issued: public(uint256)
# total unbacked debt [rad] | UNBACKED_SET (view total_unbacked), the bit set at deployment.
# Checked additions of the stored word revert once the total would reach 2**255 (it stays far
# below).
total_unbacked_word: uint256
# maximum total debt across all types [rad]
global_debt_ceiling: public(uint256)
# collateral type id -> utilization record, packed: time-integral of the utilization above the
# fee kink [wad x seconds] << 104 | fee kink [wad] << 40 | when the integral was last brought
# up to date [unix seconds]
utilization_record: public(HashMap[bytes32, uint256])


event DelegateAllowed:
    owner: indexed(address)
    delegate: indexed(address)


event DelegateDisallowed:
    owner: indexed(address)
    delegate: indexed(address)


event CollateralTypeInitialized:
    collateral_type: indexed(bytes32)


event GlobalDebtCeilingSet:
    new_value: uint256


event DebtCeilingSet:
    collateral_type: indexed(bytes32)
    new_value: uint256


event FeeKinkSet:
    collateral_type: indexed(bytes32)
    kink: uint256


event DustSet:
    collateral_type: indexed(bytes32)
    new_value: uint256


event SafePriceSet:
    collateral_type: indexed(bytes32)
    new_value: uint256


event SizeMarginSet:
    collateral_type: indexed(bytes32)
    threshold: uint256
    slope: uint256
    cap: uint256


event Shutdown:
    caller: indexed(address)


event CollateralModified:
    collateral_type: indexed(bytes32)
    account: indexed(address)
    delta: int256


event CollateralTransferred:
    collateral_type: indexed(bytes32)
    src: indexed(address)
    dst: indexed(address)
    amount: uint256


event StableTransferred:
    src: indexed(address)
    dst: indexed(address)
    amount: uint256


event VaultModified:
    collateral_type: indexed(bytes32)
    owner: indexed(address)
    collateral_src: address
    stable_dst: address
    delta_collateral: int256
    delta_normalized_debt: int256


event VaultSeized:
    collateral_type: indexed(bytes32)
    owner: indexed(address)
    collateral_dst: address
    debt_dst: address
    delta_collateral: int256
    delta_normalized_debt: int256


event RateFolded:
    collateral_type: indexed(bytes32)
    recipient: indexed(address)
    delta_rate: int256
    delta_stable: int256


event UnbackedCreated:
    debt_dst: indexed(address)
    stable_dst: indexed(address)
    amount: uint256


event DebtSettled:
    account: indexed(address)
    amount: uint256


@deploy
def __init__():
    auth.__init__(
        auth.JOIN
        | auth.PRICE
        | auth.CEILING
        | auth.RATE
        | auth.FEE_KINK
        | auth.SEIZE
        | auth.MINT_UNBACKED
        | auth.SHUTDOWN
    )
    self.live = True
    self.total_unbacked_word = UNBACKED_SET


# ---------------------------------------------------------------- administration


@external
def allow(delegate: address):
    """
    @notice Let `delegate` modify the caller's vaults and move the caller's balances.
    @param delegate The address allowed to act for the caller.
    """
    self.delegates[msg.sender][delegate] = True
    log DelegateAllowed(owner=msg.sender, delegate=delegate)


@external
def disallow(delegate: address):
    """
    @notice Withdraw a delegation given with `allow`.
    @param delegate The address no longer allowed to act for the caller.
    """
    self.delegates[msg.sender][delegate] = False
    log DelegateDisallowed(owner=msg.sender, delegate=delegate)


@external
def init_type(collateral_type: bytes32):
    """
    @notice Create a collateral type with a rate of 1 ray. A type can be created only once.
    @param collateral_type The new type's id.
    """
    auth._check_authorized()
    assert self.debt_and_rate[collateral_type] & MAX_FIELD == 0, "engine: type exists"
    self.debt_and_rate[collateral_type] = constants.RAY
    # no multiplier until the FeeAccumulator sets a kink below 1
    self.utilization_record[collateral_type] = (
        constants.WAD << UTILIZATION_KINK_SHIFT | block.timestamp
    )
    log CollateralTypeInitialized(collateral_type=collateral_type)


@external
def set_global_debt_ceiling(new_value: uint256):
    """
    @notice Set the maximum total debt across all types.
    @param new_value The ceiling [rad].
    """
    auth._check_authorized()
    assert self.live, "engine: not live"
    self.global_debt_ceiling = new_value
    log GlobalDebtCeilingSet(new_value=new_value)


@external
def set_debt_ceiling(collateral_type: bytes32, new_value: uint256):
    """
    @notice Set the maximum total debt of one type (governance or the CeilingManager).
    @param collateral_type The type.
    @param new_value The ceiling [rad].
    """
    auth._check_role(auth.CEILING)
    assert self.live, "engine: not live"
    packed: uint256 = self.debt_and_rate[collateral_type]
    assert packed & MAX_FIELD != 0, "engine: type not initialized"
    self._update_utilization(collateral_type, packed >> HIGH_HALF, packed & MAX_FIELD)
    self.debt_ceiling[collateral_type] = new_value
    log DebtCeilingSet(collateral_type=collateral_type, new_value=new_value)


@external
def set_fee_kink(collateral_type: bytes32, kink: uint256):
    """
    @notice Set the utilization above which a type's fee multiplier applies (the
            FeeAccumulator's job); the utilization integral is brought up to date first.
    @param collateral_type The type.
    @param kink Utilization [wad], at most 1 wad (1 wad: no multiplier).
    """
    auth._check_role(auth.FEE_KINK)
    packed: uint256 = self.debt_and_rate[collateral_type]
    assert packed & MAX_FIELD != 0, "engine: type not initialized"
    assert kink <= constants.WAD, "engine: kink above 1"
    # the integral is now up to date (or did not grow: kink 1), so its clock restarts now
    self._update_utilization(collateral_type, packed >> HIGH_HALF, packed & MAX_FIELD)
    record: uint256 = self.utilization_record[collateral_type]
    self.utilization_record[collateral_type] = (
        record >> UTILIZATION_INTEGRAL_SHIFT << UTILIZATION_INTEGRAL_SHIFT
        | kink << UTILIZATION_KINK_SHIFT
        | block.timestamp
    )
    log FeeKinkSet(collateral_type=collateral_type, kink=kink)


@external
def set_dust(collateral_type: bytes32, new_value: uint256):
    """
    @notice Set the minimum debt of a vault that has debt: at most the type's size threshold
            when it has a size margin.
    @param collateral_type The type.
    @param new_value The minimum [rad].
    """
    auth._check_authorized()
    assert self.live, "engine: not live"
    assert self.debt_and_rate[collateral_type] & MAX_FIELD != 0, "engine: type not initialized"
    # a size threshold below the dust leaves a large vault no cut (issue 45, finding 4)
    threshold: uint256 = (
        self.safe_price_word[collateral_type] >> SIZE_SHIFT >> sizing.THRESHOLD_SHIFT
    )
    assert threshold == 0 or new_value <= threshold * constants.RAD, (
        "engine: dust above size threshold"
    )
    self.dust[collateral_type] = new_value
    log DustSet(collateral_type=collateral_type, new_value=new_value)


@external
def set_safe_price(collateral_type: bytes32, new_value: uint256):
    """
    @notice Set the safe price of a type (the Spotter's job).
    @param collateral_type The type.
    @param new_value price / liquidation ratio [ray], below 2**160; 0 means "no valid price": no
           vault of the type can take on risk.
    """
    auth._check_role(auth.PRICE)
    assert self.live, "engine: not live"
    assert self.debt_and_rate[collateral_type] & MAX_FIELD != 0, "engine: type not initialized"
    assert new_value <= MAX_SAFE_PRICE, "engine: value too large"
    word: uint256 = self.safe_price_word[collateral_type]
    self.safe_price_word[collateral_type] = word >> SIZE_SHIFT << SIZE_SHIFT | new_value
    log SafePriceSet(collateral_type=collateral_type, new_value=new_value)


@external
def set_size_margin(collateral_type: bytes32, threshold: uint256, slope: uint256, cap: uint256):
    """
    @notice Make a type's liquidation ratio rise with a vault's debt above `threshold`: by
            `slope` ppm of the base ratio for each further `threshold` of debt, at most `cap`
            ppm (modules/size_margin.vy). All three 0: the base ratio for every size. Takes
            effect at once for every vault of the type, as a change of the base ratio does.
    @param collateral_type The type.
    @param threshold Debt above which the ratio rises [whole stablecoin units], 1 to 2**48 - 1,
           at least the type's dust.
    @param slope Rise per further threshold of debt [ppm of the base ratio], 1 to 1,000,000.
    @param cap The most the ratio rises [ppm of the base ratio], 1 to 1,000,000.
    """
    auth._check_authorized()
    assert self.live, "engine: not live"
    assert self.debt_and_rate[collateral_type] & MAX_FIELD != 0, "engine: type not initialized"
    size: uint256 = sizing.pack(threshold, slope, cap)
    # a size cut leaves at least the dust: a threshold below it leaves a large vault no cut
    # (issue 45, finding 4); set_dust refuses the other order
    assert threshold == 0 or threshold * constants.RAD >= self.dust[collateral_type], (
        "engine: size threshold below dust"
    )
    word: uint256 = self.safe_price_word[collateral_type]
    self.safe_price_word[collateral_type] = size << SIZE_SHIFT | word & MAX_SAFE_PRICE
    log SizeMarginSet(collateral_type=collateral_type, threshold=threshold, slope=slope, cap=cap)


@external
def shutdown():
    """
    @notice Freeze the engine (global settlement). Irreversible.
    """
    auth._check_role(auth.SHUTDOWN)
    self.live = False
    log Shutdown(caller=msg.sender)


# ---------------------------------------------------------------- balances


@external
def modify_collateral_balance(collateral_type: bytes32, account: address, delta: int256):
    """
    @notice Credit or debit free collateral (joins only): with `join_vault`, the only ways
            collateral enters the engine, and the only way it leaves.
    @param collateral_type The type.
    @param account Whose free balance changes.
    @param delta Signed change [wad].
    """
    auth._check_role(auth.JOIN)
    balance: uint256 = self.collateral[collateral_type][account]
    if delta < 0:
        assert balance >= convert(-delta, uint256), "engine: insufficient collateral"
    self.collateral[collateral_type][account] = self._add(balance, delta)
    log CollateralModified(collateral_type=collateral_type, account=account, delta=delta)


@external
def transfer_collateral(collateral_type: bytes32, src: address, dst: address, amount: uint256):
    """
    @notice Move free collateral between accounts.
    @param collateral_type The type.
    @param src Payer (the caller or an account that delegated to it).
    @param dst Receiver.
    @param amount Collateral [wad].
    """
    assert self._can_act(src, msg.sender), "engine: not allowed"
    balance: uint256 = self.collateral[collateral_type][src]
    assert balance >= amount, "engine: insufficient collateral"
    self.collateral[collateral_type][src] = balance - amount
    self.collateral[collateral_type][dst] += amount
    log CollateralTransferred(collateral_type=collateral_type, src=src, dst=dst, amount=amount)


@external
def transfer_stable(src: address, dst: address, amount: uint256):
    """
    @notice Move internal stablecoin between accounts.
    @param src Payer (the caller or an account that delegated to it).
    @param dst Receiver.
    @param amount Stablecoin [rad].
    """
    assert self._can_act(src, msg.sender), "engine: not allowed"
    balance: uint256 = self.stable[src]
    assert balance >= amount, "engine: insufficient stable"
    self.stable[src] = balance - amount
    self.stable[dst] += amount
    log StableTransferred(src=src, dst=dst, amount=amount)


# ---------------------------------------------------------------- vaults


@external
def modify_vault(
    collateral_type: bytes32,
    owner: address,
    collateral_src: address,
    stable_dst: address,
    delta_collateral: int256,
    delta_normalized_debt: int256,
):
    """
    @notice Lock or free collateral and draw or repay debt in one vault. A vault may become
            riskier (less collateral or more debt) only if its owner agrees, it stays safe
            and every ceiling holds; it may always become safer.
    @param collateral_type The type.
    @param owner The vault's owner.
    @param collateral_src Whose free collateral is locked (or who receives freed collateral).
    @param stable_dst Who receives drawn stablecoin (or pays repaid stablecoin).
    @param delta_collateral Signed change of locked collateral [wad].
    @param delta_normalized_debt Signed change of normalized debt [wad].
    """
    self._modify_vault(
        collateral_type,
        owner,
        collateral_src,
        stable_dst,
        delta_collateral,
        delta_normalized_debt,
        False,
    )


@external
def join_vault(
    collateral_type: bytes32, owner: address, collateral: uint256, delta_normalized_debt: int256
):
    """
    @notice Collateral joins only: `collateral` the join has just received for `owner` goes
            straight into `owner`'s vault, and the vault draws (or repays) `delta_normalized_debt`
            to (or from) `owner`'s stablecoin balance. The same as crediting `owner`'s free
            collateral and then `modify_vault(type, owner, owner, owner, collateral, delta)` by
            the join, with the same two events and the same checks but one: locking the owner's
            own joined collateral needs no consent. The owner's consent to the join is still
            needed to draw (riskier) or to repay from its balance. No free balance round trip.
    @param collateral_type The type.
    @param owner The vault's owner, who paid the join.
    @param collateral Collateral the join credits for the tokens it received [wad].
    @param delta_normalized_debt Signed change of normalized debt [wad].
    """
    auth._check_role(auth.JOIN)
    delta_collateral: int256 = convert(collateral, int256)
    log CollateralModified(collateral_type=collateral_type, account=owner, delta=delta_collateral)
    self._modify_vault(
        collateral_type, owner, owner, owner, delta_collateral, delta_normalized_debt, True
    )


@internal
def _modify_vault(
    collateral_type: bytes32,
    owner: address,
    collateral_src: address,
    stable_dst: address,
    delta_collateral: int256,
    delta_normalized_debt: int256,
    joined: bool,
):
    # modify_vault, or join_vault when `joined` (the collateral comes from the join, not from
    # collateral_src's free balance)
    assert self.live, "engine: not live"
    packed: uint256 = self.debt_and_rate[collateral_type]
    rate: uint256 = packed & MAX_FIELD
    assert rate != 0, "engine: type not initialized"
    vault: IVaultEngine.Vault = empty(IVaultEngine.Vault)
    type_debt: uint256 = 0
    vault, type_debt = self._apply_deltas(
        collateral_type, owner, packed >> HIGH_HALF, delta_collateral, delta_normalized_debt
    )

    # debt change and the vault's whole debt [rad]
    delta_debt: int256 = convert(rate, int256) * delta_normalized_debt
    vault_debt: uint256 = rate * vault.normalized_debt
    issued: uint256 = 0
    if delta_normalized_debt != 0:
        issued = self._add(self.total_issued, delta_debt)

    riskier: bool = delta_normalized_debt > 0 or delta_collateral < 0
    if delta_normalized_debt > 0:
        assert (
            type_debt * rate <= self.debt_ceiling[collateral_type]
        ), "engine: type ceiling exceeded"
        assert issued <= self.global_debt_ceiling, "engine: global ceiling exceeded"
    if riskier:
        word: uint256 = self.safe_price_word[collateral_type]
        assert sizing.margin_debt(vault_debt, word >> SIZE_SHIFT) <= vault.collateral * (
            word & MAX_SAFE_PRICE
        ), "engine: not safe"
        assert self._can_act(owner, msg.sender), "engine: owner not allowed"
    if delta_collateral > 0 and not joined:
        assert self._can_act(collateral_src, msg.sender), "engine: collateral source not allowed"
    if delta_normalized_debt < 0:
        assert self._can_act(stable_dst, msg.sender), "engine: stable source not allowed"
    # dust bounds the size of a debt when it changes: a vault left below a raised dust can still
    # add or free collateral (it may always get safer), only its debt must end at 0 or >= dust
    if delta_normalized_debt != 0 and vault.normalized_debt != 0:
        assert vault_debt >= self.dust[collateral_type], "engine: dust"

    if delta_collateral != 0 and not joined:
        # free collateral moves into (or out of) the vault
        free: uint256 = self.collateral[collateral_type][collateral_src]
        if delta_collateral > 0:
            assert free >= convert(delta_collateral, uint256), "engine: insufficient collateral"
        self.collateral[collateral_type][collateral_src] = self._sub(free, delta_collateral)
    if delta_normalized_debt != 0:
        # drawn stablecoin is credited (or repaid stablecoin debited)
        balance: uint256 = self.stable[stable_dst]
        if delta_debt < 0:
            assert balance >= convert(-delta_debt, uint256), "engine: insufficient stable"
        self.stable[stable_dst] = self._add(balance, delta_debt)
        self._update_utilization(collateral_type, packed >> HIGH_HALF, rate)
        self.debt_and_rate[collateral_type] = type_debt << HIGH_HALF | rate
        self.total_issued = issued
    # both halves checked <= MAX_FIELD above (normalized_debt <= type_debt by I4)
    self.packed_vaults[collateral_type][owner] = (
        vault.collateral << HIGH_HALF | vault.normalized_debt
    )
    log VaultModified(
        collateral_type=collateral_type,
        owner=owner,
        collateral_src=collateral_src,
        stable_dst=stable_dst,
        delta_collateral=delta_collateral,
        delta_normalized_debt=delta_normalized_debt,
    )


@external
def seize(
    collateral_type: bytes32,
    owner: address,
    collateral_dst: address,
    debt_dst: address,
    delta_collateral: int256,
    delta_normalized_debt: int256,
):
    """
    @notice Take collateral and debt out of a vault (liquidation; the SEIZE role).
            The debt becomes unbacked debt of `debt_dst`; the collateral goes to
            `collateral_dst`'s free balance.
    @param collateral_type The type.
    @param owner The vault's owner.
    @param collateral_dst Who receives the collateral (an auction).
    @param debt_dst Who takes on the debt as bad debt (the backstop).
    @param delta_collateral Signed change of locked collateral [wad] (negative to seize).
    @param delta_normalized_debt Signed change of normalized debt [wad] (negative to seize).
    """
    auth._check_role(auth.SEIZE)
    packed: uint256 = self.debt_and_rate[collateral_type]
    rate: uint256 = packed & MAX_FIELD
    # with a zero rate, debt put into a vault would be created without being issued, and a
    # later init_type would overwrite the type's debt half of the slot (I3, I4)
    assert rate != 0, "engine: type not initialized"
    vault: IVaultEngine.Vault = empty(IVaultEngine.Vault)
    type_debt: uint256 = 0
    vault, type_debt = self._apply_deltas(
        collateral_type, owner, packed >> HIGH_HALF, delta_collateral, delta_normalized_debt
    )

    delta_debt: int256 = convert(rate, int256) * delta_normalized_debt
    free: uint256 = self.collateral[collateral_type][collateral_dst]
    if delta_collateral > 0:
        assert free >= convert(delta_collateral, uint256), "engine: insufficient collateral"
    self.collateral[collateral_type][collateral_dst] = self._sub(free, delta_collateral)
    self.bad_debt[debt_dst] = self._sub(self.bad_debt[debt_dst], delta_debt)
    # UNBACKED_SET stays: a decrease is at most bad_debt[debt_dst] (checked just above) <= the
    # total (I2); an increase reverts once the total would reach 2**255
    self.total_unbacked_word = self._sub(self.total_unbacked_word, delta_debt)

    self.packed_vaults[collateral_type][owner] = (
        vault.collateral << HIGH_HALF | vault.normalized_debt
    )
    if delta_normalized_debt != 0:
        self._update_utilization(collateral_type, packed >> HIGH_HALF, rate)
    self.debt_and_rate[collateral_type] = type_debt << HIGH_HALF | rate
    log VaultSeized(
        collateral_type=collateral_type,
        owner=owner,
        collateral_dst=collateral_dst,
        debt_dst=debt_dst,
        delta_collateral=delta_collateral,
        delta_normalized_debt=delta_normalized_debt,
    )


# ---------------------------------------------------------------- debt and rates


@external
def fold_rate(collateral_type: bytes32, recipient: address, delta_rate: int256):
    """
    @notice Change a type's rate, crediting (or debiting) the change in total debt to
            `recipient` (stability fees; redistribution of bad debt).
    @param collateral_type The type.
    @param recipient Who receives the new stablecoin [rad].
    @param delta_rate Signed change of the rate [ray]; the rate never reaches zero.
    """
    auth._check_role(auth.RATE)
    assert self.live, "engine: not live"
    packed: uint256 = self.debt_and_rate[collateral_type]
    rate: uint256 = packed & MAX_FIELD
    type_debt: uint256 = packed >> HIGH_HALF
    assert rate != 0, "engine: type not initialized"
    new_rate: uint256 = self._add(rate, delta_rate)
    assert new_rate != 0, "engine: rate would be zero"
    assert new_rate <= MAX_FIELD, "engine: value too large"
    delta_stable: int256 = convert(type_debt, int256) * delta_rate
    balance: uint256 = self.stable[recipient]
    if delta_stable < 0:
        assert balance >= convert(-delta_stable, uint256), "engine: insufficient stable"
    self.stable[recipient] = self._add(balance, delta_stable)
    self.total_issued = self._add(self.total_issued, delta_stable)
    self._update_utilization(collateral_type, type_debt, rate)
    self.debt_and_rate[collateral_type] = type_debt << HIGH_HALF | new_rate
    log RateFolded(
        collateral_type=collateral_type,
        recipient=recipient,
        delta_rate=delta_rate,
        delta_stable=delta_stable,
    )


@external
def create_unbacked(debt_dst: address, stable_dst: address, amount: uint256):
    """
    @notice Mint stablecoin against unbacked debt (keeper rewards, debt-auction proceeds).
    @param debt_dst Who owes the new unbacked debt (the backstop).
    @param stable_dst Who receives the stablecoin.
    @param amount [rad].
    """
    auth._check_role(auth.MINT_UNBACKED)
    self.bad_debt[debt_dst] += amount
    self.stable[stable_dst] += amount
    # reverts once the total would reach 2**255 (UNBACKED_SET stays)
    self.total_unbacked_word += amount
    self.total_issued += amount
    log UnbackedCreated(debt_dst=debt_dst, stable_dst=stable_dst, amount=amount)


@external
def settle(amount: uint256):
    """
    @notice Cancel the caller's unbacked debt against the caller's stablecoin.
    @param amount [rad].
    """
    assert self.bad_debt[msg.sender] >= amount, "engine: insufficient bad debt"
    assert self.stable[msg.sender] >= amount, "engine: insufficient stable"
    # both checked just above, and total_* >= the single balances by I1 and I2
    self.bad_debt[msg.sender] = unsafe_sub(self.bad_debt[msg.sender], amount)
    self.stable[msg.sender] = unsafe_sub(self.stable[msg.sender], amount)
    self.total_unbacked_word = unsafe_sub(self.total_unbacked_word, amount)
    self.total_issued = unsafe_sub(self.total_issued, amount)
    log DebtSettled(account=msg.sender, amount=amount)


# ---------------------------------------------------------------- views


@view
@external
def total_unbacked() -> uint256:
    """
    @notice Total unbacked debt.
    @return [rad].
    """
    return self.total_unbacked_word & (UNBACKED_SET - 1)


@view
@external
def collateral_types(collateral_type: bytes32) -> IVaultEngine.CollateralType:
    """
    @notice A collateral type's totals and parameters.
    @param collateral_type The type.
    @return (normalized_debt [wad], rate [ray], safe_price [ray], debt_ceiling [rad], dust [rad]).
    """
    packed: uint256 = self.debt_and_rate[collateral_type]
    return IVaultEngine.CollateralType(
        normalized_debt=packed >> HIGH_HALF,
        rate=packed & MAX_FIELD,
        safe_price=self.safe_price_word[collateral_type] & MAX_SAFE_PRICE,
        debt_ceiling=self.debt_ceiling[collateral_type],
        dust=self.dust[collateral_type],
    )


@view
@external
def rate_and_debt(collateral_type: bytes32) -> (uint256, uint256):
    """
    @notice A type's rate and normalized debt, from the one slot that holds both (for contracts
            that need only these: collateral_types reads four slots).
    @param collateral_type The type.
    @return (rate [ray], normalized_debt [wad]).
    """
    packed: uint256 = self.debt_and_rate[collateral_type]
    return packed & MAX_FIELD, packed >> HIGH_HALF


@view
@external
def vaults(collateral_type: bytes32, owner: address) -> IVaultEngine.Vault:
    """
    @notice A vault.
    @param collateral_type The type.
    @param owner The vault's owner.
    @return (collateral [wad], normalized_debt [wad]).
    """
    return self._vault(collateral_type, owner)


@view
@external
def vault_debt(collateral_type: bytes32, owner: address) -> uint256:
    """
    @notice The debt of a vault in stablecoin.
    @param collateral_type The type.
    @param owner The vault's owner.
    @return normalized_debt * rate [rad].
    """
    return self._vault(collateral_type, owner).normalized_debt * (
        self.debt_and_rate[collateral_type] & MAX_FIELD
    )


@view
@external
def is_safe(collateral_type: bytes32, owner: address) -> bool:
    """
    @notice Whether a vault is safe at the current safe price and its size (a vault without
            debt is safe).
    @param collateral_type The type.
    @param owner The vault's owner.
    @return margin_debt(debt) <= collateral * safe_price.
    """
    vault: IVaultEngine.Vault = self._vault(collateral_type, owner)
    rate: uint256 = self.debt_and_rate[collateral_type] & MAX_FIELD
    word: uint256 = self.safe_price_word[collateral_type]
    return sizing.margin_debt(vault.normalized_debt * rate, word >> SIZE_SHIFT) <= (
        vault.collateral * (word & MAX_SAFE_PRICE)
    )


@view
@external
def safe_price(collateral_type: bytes32) -> uint256:
    """
    @notice A type's collateral value per unit at its base liquidation ratio.
    @param collateral_type The type.
    @return price / liquidation ratio [ray]; 0: no valid price.
    """
    return self.safe_price_word[collateral_type] & MAX_SAFE_PRICE


@view
@external
def size_margin(collateral_type: bytes32) -> (uint256, uint256, uint256):
    """
    @notice A type's size margin (set_size_margin); all 0 when off.
    @param collateral_type The type.
    @return (threshold [whole stablecoin units], slope [ppm], cap [ppm]).
    """
    size: uint256 = self.safe_price_word[collateral_type] >> SIZE_SHIFT
    return (
        size >> sizing.THRESHOLD_SHIFT,
        (size >> sizing.SLOPE_SHIFT) & sizing.FIELD_MASK,
        size & sizing.FIELD_MASK,
    )


@view
@external
def size_margin_word(collateral_type: bytes32) -> uint256:
    """
    @notice A type's size margin as one packed word (modules/size_margin.vy), for the Liquidator.
    @param collateral_type The type.
    @return threshold << 48 | slope << 24 | cap; 0 when off.
    """
    return self.safe_price_word[collateral_type] >> SIZE_SHIFT


@view
@external
def margin_debt(collateral_type: bytes32, debt: uint256) -> uint256:
    """
    @notice A debt weighted by the type's size margin: a vault with this debt is safe when the
            result is at most its collateral x safe_price.
    @param collateral_type The type.
    @param debt [rad].
    @return ceil(debt x (1 + extra)) [rad]; `debt` itself at or below the threshold.
    """
    return sizing.margin_debt(debt, self.safe_price_word[collateral_type] >> SIZE_SHIFT)


@view
@external
def utilization_integral(collateral_type: bytes32) -> uint256:
    """
    @notice The time-integral of a type's utilization above its fee kink, up to now.
    @param collateral_type The type.
    @return [wad x seconds]; the FeeAccumulator prices a period by its increase.
    """
    record: uint256 = self.utilization_record[collateral_type]
    packed: uint256 = self.debt_and_rate[collateral_type]
    return (record >> UTILIZATION_INTEGRAL_SHIFT) + self._excess_utilization(
        collateral_type, packed >> HIGH_HALF, packed & MAX_FIELD, record
    ) * (block.timestamp - (record & UTILIZATION_TIME_MASK))


@view
@external
def fee_kink(collateral_type: bytes32) -> uint256:
    """
    @notice The utilization above which a type's fee multiplier applies.
    @param collateral_type The type.
    @return [wad]; 1 wad: no multiplier.
    """
    return (
        self.utilization_record[collateral_type] >> UTILIZATION_KINK_SHIFT
    ) & UTILIZATION_KINK_MASK


@view
@external
def can_act(owner: address, actor: address) -> bool:
    """
    @notice Whether `actor` may act for `owner` (itself or a delegate).
    @param owner The account acted for.
    @param actor The caller.
    @return True if allowed.
    """
    return self._can_act(owner, actor)


# ---------------------------------------------------------------- internal


@view
@internal
def _apply_deltas(
    collateral_type: bytes32,
    owner: address,
    type_debt: uint256,
    delta_collateral: int256,
    delta_normalized_debt: int256,
) -> (IVaultEngine.Vault, uint256):
    # a vault and its type's normalized debt after signed changes (shared by modify_vault and seize)
    vault: IVaultEngine.Vault = self._vault(collateral_type, owner)
    if delta_collateral < 0:
        assert vault.collateral >= convert(
            -delta_collateral, uint256
        ), "engine: insufficient locked"
    if delta_normalized_debt < 0:
        assert vault.normalized_debt >= convert(
            -delta_normalized_debt, uint256
        ), "engine: repay exceeds debt"
    vault.collateral = self._add(vault.collateral, delta_collateral)
    vault.normalized_debt = self._add(vault.normalized_debt, delta_normalized_debt)
    new_type_debt: uint256 = self._add(type_debt, delta_normalized_debt)
    assert vault.collateral <= MAX_FIELD and new_type_debt <= MAX_FIELD, "engine: value too large"
    return vault, new_type_debt


@view
@internal
def _vault(collateral_type: bytes32, owner: address) -> IVaultEngine.Vault:
    packed: uint256 = self.packed_vaults[collateral_type][owner]
    return IVaultEngine.Vault(collateral=packed >> HIGH_HALF, normalized_debt=packed & MAX_FIELD)


@internal
def _update_utilization(collateral_type: bytes32, normalized_debt: uint256, rate: uint256):
    # before the type's normalized debt, rate, ceiling or kink changes: add the utilization
    # above the kink since the last update, at the values that held during that time
    # (with a kink of 1 nothing accrues and the record is left as it is: set_fee_kink restarts
    # its clock when it lowers the kink)
    record: uint256 = self.utilization_record[collateral_type]
    updated_at: uint256 = record & UTILIZATION_TIME_MASK
    kink_bits: uint256 = record & (UTILIZATION_KINK_MASK << UTILIZATION_KINK_SHIFT)
    if updated_at == block.timestamp or kink_bits >> UTILIZATION_KINK_SHIFT >= constants.WAD:
        return
    integral: uint256 = (record >> UTILIZATION_INTEGRAL_SHIFT) + self._excess_utilization(
        collateral_type, normalized_debt, rate, record
    ) * (block.timestamp - updated_at)
    assert integral < UTILIZATION_INTEGRAL_LIMIT, "engine: value too large"
    self.utilization_record[collateral_type] = (
        integral << UTILIZATION_INTEGRAL_SHIFT | kink_bits | block.timestamp
    )


@view
@internal
def _excess_utilization(
    collateral_type: bytes32, normalized_debt: uint256, rate: uint256, record: uint256
) -> uint256:
    # max(0, utilization - kink) [wad]; utilization rounds up (more fees to the protocol)
    kink: uint256 = (record >> UTILIZATION_KINK_SHIFT) & UTILIZATION_KINK_MASK
    if kink >= constants.WAD:
        return 0
    debt: uint256 = normalized_debt * rate
    ceiling: uint256 = self.debt_ceiling[collateral_type]
    utilization: uint256 = constants.WAD
    if ceiling != 0:
        # ceil(debt * WAD / ceiling), capped at 1
        utilization = min((debt * constants.WAD + ceiling - 1) // ceiling, constants.WAD)
    elif debt == 0:
        utilization = 0
    if utilization <= kink:
        return 0
    return utilization - kink


@view
@internal
def _can_act(owner: address, actor: address) -> bool:
    return owner == actor or self.delegates[owner][actor]


@pure
@internal
def _add(x: uint256, y: int256) -> uint256:
    # checked: callers have already asserted x >= -y when y < 0 where a user can reach it;
    # the conversion reverts on any remaining underflow.
    if y >= 0:
        return x + convert(y, uint256)
    return x - convert(-y, uint256)


@pure
@internal
def _sub(x: uint256, y: int256) -> uint256:
    if y >= 0:
        return x - convert(y, uint256)
    return x + convert(-y, uint256)
