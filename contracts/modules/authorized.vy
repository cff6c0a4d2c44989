# pragma version ~=0.4.3
"""
@title authorized
@notice Authorization shared by every privileged Backstop contract: a set of authorized
        addresses (governance and the other contracts that call this one) that may call the
        privileged entry points and add or remove each other. The deployer is authorized.
@dev DSS analogue: `wards` / `rely` / `deny` / `auth`. Used like snekmate's `ownable`
     (imported under an alias: the exported getter `authorized` would collide with the
     module's own name):
         from modules import authorized as auth
         initializes: auth
         exports: (auth.authorized, auth.add_authority, auth.remove_authority)
     with `auth.__init__()` in the contract's constructor and `auth._check_authorized()` at
     the top of each privileged function.
     Put `initializes: auth` above the contract's storage: its one variable then takes
     storage slot 0. The off-chain twin is `offchain.model.state.Authorized`.
"""

# account -> may call the privileged entry points
authorized: public(HashMap[address, bool])


event AuthorityAdded:
    account: indexed(address)


event AuthorityRemoved:
    account: indexed(address)


@deploy
def __init__():
    """
    @notice Authorize the deployer.
    """
    self.authorized[msg.sender] = True
    log AuthorityAdded(account=msg.sender)


@external
def add_authority(account: address):
    """
    @notice Let `account` call the privileged entry points (authorized callers only).
    @param account The address to authorize.
    """
    self._check_authorized()
    self.authorized[account] = True
    log AuthorityAdded(account=account)


@external
def remove_authority(account: address):
    """
    @notice Revoke the authorization of `account` (authorized callers only).
    @param account The address to de-authorize.
    """
    self._check_authorized()
    self.authorized[account] = False
    log AuthorityRemoved(account=account)


@view
@internal
def _check_authorized():
    """
    @dev Reverts unless the caller is authorized.
    """
    assert self.authorized[msg.sender], "authorized: not authorized"
