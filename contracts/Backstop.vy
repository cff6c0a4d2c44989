# pragma version ~=0.4.3
"""
@title Backstop
@notice Holds the protocol's surplus (fees, penalties, auction proceeds: its stablecoin balance
        in the engine, the insurance fund) and its bad debt (the debt of liquidated vaults, as
        unbacked debt in the engine). Seized debt is queued when a vault is liquidated; after
        `queue_delay` it is released, and released bad debt can be settled against surplus.
@dev DSS analogue: Vow (queue_debt = fess, release = flog, settle = heal). This is the
     accounting core; the loss waterfall (stability pool, debt auction, redistribution,
     global settlement) builds on it. Keeps: total_queued <= engine.bad_debt(self).
"""
from interfaces import IVaultEngine

# the ledger
engine: public(immutable(IVaultEngine))

# who may queue debt and set parameters (the liquidator, governance)
authorized: public(HashMap[address, bool])
# seconds before queued bad debt is released for settlement
queue_delay: public(uint256)
# time of queueing -> bad debt queued at that time and not yet released [rad]
queued: public(HashMap[uint256, uint256])
# sum of `queued` [rad]
total_queued: public(uint256)


event AuthorityAdded:
    account: indexed(address)

event AuthorityRemoved:
    account: indexed(address)

event QueueDelaySet:
    queue_delay: uint256

event DebtQueued:
    queued_at: indexed(uint256)
    amount: uint256

event DebtReleased:
    queued_at: indexed(uint256)
    amount: uint256

event DebtSettled:
    amount: uint256


@deploy
def __init__(engine_: IVaultEngine, queue_delay_: uint256):
    """
    @param engine_ The VaultEngine.
    @param queue_delay_ Seconds queued bad debt waits before it can be settled.
    """
    engine = engine_
    self.queue_delay = queue_delay_
    self.authorized[msg.sender] = True
    log AuthorityAdded(account=msg.sender)
    log QueueDelaySet(queue_delay=queue_delay_)


@external
def add_authority(account: address):
    """
    @notice Let `account` queue debt and set parameters.
    @param account The address to authorize.
    """
    self._check_authorized()
    self.authorized[account] = True
    log AuthorityAdded(account=account)


@external
def remove_authority(account: address):
    """
    @notice Revoke `account`.
    @param account The address to de-authorize.
    """
    self._check_authorized()
    self.authorized[account] = False
    log AuthorityRemoved(account=account)


@external
def set_queue_delay(new_delay: uint256):
    """
    @notice Set how long queued bad debt waits before release.
    @param new_delay Seconds.
    """
    self._check_authorized()
    self.queue_delay = new_delay
    log QueueDelaySet(queue_delay=new_delay)


@external
def queue_debt(amount: uint256):
    """
    @notice Record bad debt just taken on from a liquidated vault (the Liquidator).
    @param amount [rad].
    """
    self._check_authorized()
    self.queued[block.timestamp] += amount
    self.total_queued += amount
    log DebtQueued(queued_at=block.timestamp, amount=amount)


@external
def release(queued_at: uint256):
    """
    @notice Release the bad debt queued at `queued_at` once the delay has passed. Anyone may call.
    @param queued_at The queueing time.
    """
    assert queued_at + self.queue_delay <= block.timestamp, "backstop: still queued"
    amount: uint256 = self.queued[queued_at]
    assert amount != 0, "backstop: nothing queued"
    self.queued[queued_at] = 0
    # total_queued is the sum of `queued`, so it holds at least `amount`
    self.total_queued = unsafe_sub(self.total_queued, amount)
    log DebtReleased(queued_at=queued_at, amount=amount)


@external
def settle(amount: uint256):
    """
    @notice Cancel released bad debt against surplus. Anyone may call.
    @param amount [rad], at most the surplus and at most the released bad debt.
    """
    assert amount <= staticcall engine.stable(self), "backstop: insufficient surplus"
    assert amount + self.total_queued <= staticcall engine.bad_debt(self), "backstop: insufficient released debt"
    extcall engine.settle(amount)
    log DebtSettled(amount=amount)


@view
@external
def released_debt() -> uint256:
    """
    @notice Bad debt past its queue delay and not yet settled.
    @return [rad].
    """
    return staticcall engine.bad_debt(self) - self.total_queued


@view
@internal
def _check_authorized():
    assert self.authorized[msg.sender], "backstop: not authorized"
