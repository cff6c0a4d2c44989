# pragma version ~=0.4.3
"""
@title authorized
@notice Least-privilege authorization shared by every privileged Backstop contract, at two
        levels:
        - admins (`authorized`; governance): may call every privileged entry point of the
          contract, add and remove admins and grant and revoke roles. The deployer is an admin.
        - capability roles (`roles`, a bitmask per account): each bit lets its holder call the
          entry points of one capability and nothing else. The contracts that call each other
          hold only the bits they need, never admin (offchain/system/deployment.py wires them;
          docs/security.md, "Who may call what", has the table).
@dev DSS analogue: `wards` / `rely` / `deny` / `auth`, split by capability. Used like snekmate's
     `ownable` (imported under an alias: the exported getter `authorized` would collide with
     the module's own name):
         from modules import authorized as auth
         initializes: auth
         exports: auth.__interface__
     with `auth.__init__(ROLES)` in the contract's constructor (ROLES: the role bits the
     contract checks, e.g. `auth.START | auth.SHUTDOWN`; 0 if only admins may call it),
     `auth._check_authorized()` at the top of each admin-only function and
     `auth._check_role(auth.X)` at the top of each function of capability X.
     Put `initializes: auth` above the contract's storage: its variables then take storage
     slots 0 and 1. The off-chain twin is `offchain.model.state.Authorized` and the bits'
     twin `offchain.model.state.Role`.
"""

# ---------------------------------------------------------------- the capability roles
# One bit each, named by capability; the bit is checked by the functions listed (of the contract
# the role is held on). Named constants, not a `flag`: the ABI is the same uint256 either way,
# but Vyper 0.4.3 decodes a flag argument with an undefined bit by reverting with no reason,
# where grant_role and revoke_role now refuse it with "authorized: bad role".
# VaultEngine.modify_collateral_balance, VaultEngine.join_vault (collateral joins)
JOIN: constant(uint256) = 1
# VaultEngine.set_safe_price (the Spotter)
PRICE: constant(uint256) = 2
# VaultEngine.set_debt_ceiling (the CeilingManager)
CEILING: constant(uint256) = 4
# VaultEngine.fold_rate (the FeeAccumulator; the Backstop's redistribution)
RATE: constant(uint256) = 8
# VaultEngine.set_fee_kink (the FeeAccumulator)
FEE_KINK: constant(uint256) = 16
# VaultEngine.seize (the Liquidator, auctions, global settlement)
SEIZE: constant(uint256) = 32
# VaultEngine.create_unbacked (auctions: keeper rewards and refunds)
MINT_UNBACKED: constant(uint256) = 64
# shutdown() of the VaultEngine, Liquidator and Backstop (global settlement) and of the debt
# and surplus auctions (the Backstop)
SHUTDOWN: constant(uint256) = 128
# Backstop.open_loss (the Liquidator)
OPEN_LOSS: constant(uint256) = 256
# Backstop.close_loss (auctions)
CLOSE_LOSS: constant(uint256) = 512
# Liquidator.remove_debt_in_auction (auctions)
DEBT_IN_AUCTION: constant(uint256) = 1024
# start() of a DutchAuction (the Liquidator) and of the debt and surplus auctions (the Backstop)
START: constant(uint256) = 2048
# DutchAuction.cancel_for_settlement (global settlement)
CANCEL: constant(uint256) = 4096
# StabilityPool.add_income (the FeeAccumulator)
INCOME: constant(uint256) = 8192
# Backstop.deleverage (the keeper governance names to rank vaults by headroom)
DELEVERAGE: constant(uint256) = 16384
# what must not wait for governance's delay (docs/governance.md): GlobalSettlement.shutdown,
# PriceOracle.void, DutchAuction.set_stopped to a higher level only (the guardian)
EMERGENCY: constant(uint256) = 32768
# account -> admin: may call every privileged entry point, add/remove admins, grant/revoke roles
authorized: public(HashMap[address, bool])
# account -> the role bits it holds (the capabilities above)
roles: public(HashMap[address, uint256])
# the role bits this contract checks; grant_role and revoke_role refuse any other
ROLE_SET: immutable(uint256)


event AuthorityAdded:
    account: indexed(address)


event AuthorityRemoved:
    account: indexed(address)


event RoleGranted:
    account: indexed(address)
    role: uint256


event RoleRevoked:
    account: indexed(address)
    role: uint256


@deploy
def __init__(role_set: uint256):
    """
    @notice Make the deployer an admin; fix the role bits this contract checks.
    @param role_set The role bits the contract's functions check (0: admins only).
    """
    ROLE_SET = role_set
    self.authorized[msg.sender] = True
    log AuthorityAdded(account=msg.sender)


@external
def add_authority(account: address):
    """
    @notice Make `account` an admin (admins only).
    @param account The address to make an admin.
    """
    self._check_authorized()
    self.authorized[account] = True
    log AuthorityAdded(account=account)


@external
def remove_authority(account: address):
    """
    @notice Revoke the admin right of `account` (admins only; its roles stay).
    @param account The address that stops being an admin.
    """
    self._check_authorized()
    self.authorized[account] = False
    log AuthorityRemoved(account=account)


@external
def grant_role(account: address, role: uint256):
    """
    @notice Give `account` the role bits `role`, in addition to those it holds (admins only).
    @param account The address that receives the roles.
    @param role One or more role bits this contract checks (not 0).
    """
    self._check_authorized()
    assert role != 0 and role & ROLE_SET == role, "authorized: bad role"
    self.roles[account] |= role
    log RoleGranted(account=account, role=role)


@external
def revoke_role(account: address, role: uint256):
    """
    @notice Take the role bits `role` from `account` (admins only); its other roles stay.
    @param account The address that loses the roles.
    @param role One or more role bits this contract checks (not 0).
    """
    self._check_authorized()
    assert role != 0 and role & ROLE_SET == role, "authorized: bad role"
    self.roles[account] &= ~role
    log RoleRevoked(account=account, role=role)


@view
@internal
def _check_authorized():
    """
    @dev Reverts unless the caller is an admin.
    """
    assert self.authorized[msg.sender], "authorized: not authorized"


@view
@internal
def _check_role(role: uint256):
    """
    @dev Reverts unless the caller holds one of the bits of `role` or is an admin. The roles are
         read first: a contract caller holds a role, so its check is one storage read.
    @param role The role bit(s) of the calling function.
    """
    assert self.roles[msg.sender] & role != 0 or self.authorized[msg.sender], (
        "authorized: not authorized"
    )
