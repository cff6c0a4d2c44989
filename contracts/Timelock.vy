# pragma version ~=0.4.3
"""
@title Timelock
@notice Governance's delay: every change is a proposal (a batch of calls) that the proposer
        queues, and that runs, all of it or none, once, no earlier than `delay` after it was
        queued and no later than `grace` after that (both as in force when it was queued); the
        proposer, or the guardian, may cancel it while queued.
        Made the only admin of the privileged contracts, it gives every borrower and keeper at
        least `delay` to see a change coming and act before it applies.
        Lifecycle of a proposal: `propose` (QUEUED, earliest time `eta` = now + delay, latest
        `expires` = eta + grace), then `execute` at a time in [eta, expires] with the same calls
        (EXECUTED), or `cancel` while QUEUED (CANCELLED). A proposal past `expires` stays QUEUED
        and can never run: a later change of `grace` does not move a queued proposal's window.
@dev Analogues: MakerDAO's DSPause (plot / exec / drop, a delay), Compound's and Aave's timelocks
     (an eta, a grace period). The calls are stored as their hash: `execute` is given them again
     and runs them only if they hash the same, so a proposal's calls cannot change after it
     was queued (docs/governance.md). The delay a proposal waits is the one in force when it was
     queued; `delay`, `grace`, `proposer` and `guardian` change only through the queue itself
     (a proposal that calls this contract), so lowering the delay waits the old one, and
     through the queue the delay is at least MIN_QUEUED_DELAY (0 only from the constructor:
     tests). What a proposal can grant (an admin, a role, a minter) acts without the delay
     afterwards: docs/governance.md lists those calls, which the bots flag.
     The calls run in order with this contract as the caller; a call that reverts reverts the
     whole execution with the callee's revert data (the proposal stays QUEUED).
     A rescue (issue 72: the guardian could cancel its own removal, so its stop lasted for
     ever): a proposal whose every call is a rescue call, one that takes the guardian's power
     away or undoes its stop (`set_guardian` of this contract, any contract's
     `revoke_role(account, EMERGENCY)`, any contract's `set_stopped(0)`), cannot be cancelled by
     the guardian; the proposer still can. One other call in it makes it an ordinary proposal,
     so a stolen proposer key cannot shelter another change behind a rescue.
     After a global settlement's shutdown nothing runs (issue 72, the review's first break: a
     stolen proposer key removed the guardian with a rescue, then seized the settlement's
     collateral after the guardian's shutdown): no step of a settlement needs an admin, and an
     admin could otherwise still seize and mint. `settlement` (empty: none) is fixed at
     deployment.
     The twin is offchain/model/timelock.py.
"""
from modules import authorized as auth

# calls in one proposal, and calldata of one call [bytes]
MAX_CALLS: constant(uint256) = 32
MAX_DATA: constant(uint256) = 1024
# revert data of a failing call passed on [bytes] (the contracts' reasons are short strings)
MAX_REVERT: constant(uint256) = 1024
# bounds of the delay and the grace period [s]
MAX_DELAY: constant(uint256) = 30 * 86400
MIN_QUEUED_DELAY: constant(uint256) = 3600
MIN_GRACE: constant(uint256) = 3600
MAX_GRACE: constant(uint256) = 30 * 86400

# the rescue calls' selectors, and how long each call's calldata is [bytes]
SET_GUARDIAN: constant(bytes4) = method_id("set_guardian(address)", output_type=bytes4)
REVOKE_ROLE: constant(bytes4) = method_id("revoke_role(address,uint256)", output_type=bytes4)
SET_STOPPED: constant(bytes4) = method_id("set_stopped(uint256)", output_type=bytes4)
ONE_WORD_CALL: constant(uint256) = 36
TWO_WORD_CALL: constant(uint256) = 68

# a proposal's status
# 0: no such proposal
QUEUED: constant(uint256) = 1
EXECUTED: constant(uint256) = 2
CANCELLED: constant(uint256) = 3


interface ISettlement:
    def live() -> bool: view


struct Call:
    target: address
    data: Bytes[MAX_DATA]


struct Proposal:
    calls_hash: bytes32  # keccak256(abi_encode(calls))
    eta: uint256  # the earliest time it may run [s]
    expires: uint256  # the latest time it may run [s]: eta + the grace when it was queued
    status: uint256
    rescue: bool  # every call a rescue call: the guardian cannot cancel it


event Queued:
    proposal_id: indexed(uint256)
    eta: uint256
    expires: uint256
    calls_hash: bytes32


# one per call of a queued proposal, in order, after its Queued: what it will run
event CallQueued:
    proposal_id: indexed(uint256)
    index: uint256
    target: address
    data: Bytes[MAX_DATA]


event Executed:
    proposal_id: indexed(uint256)


event Cancelled:
    proposal_id: indexed(uint256)


event DelaySet:
    delay: uint256


event GraceSet:
    grace: uint256


event ProposerSet:
    proposer: address


event GuardianSet:
    guardian: address


# the account that queues, executes and cancels proposals (governance's key)
proposer: public(address)
# the account that may cancel a queued proposal besides the proposer (empty: none): the
# emergency role's holder, who can stop a proposal a stolen proposer key queued
guardian: public(address)
# the global settlement whose shutdown stops every execution (empty: none)
settlement: public(immutable(ISettlement))
# a proposal's least wait between queueing and running [s]
delay: public(uint256)
# how long after its earliest time a proposal may still run [s]
grace: public(uint256)
# proposals queued so far (ids are 1, 2, ...)
proposal_count: public(uint256)
proposals: public(HashMap[uint256, Proposal])


@deploy
def __init__(
    proposer: address, guardian: address, delay: uint256, grace: uint256, settlement_: ISettlement
):
    """
    @param proposer Governance's key: the only account that may queue and execute.
    @param guardian May cancel a queued proposal too (empty: nobody but the proposer).
    @param delay [s], at most 30 days (0: changes run at once, for tests only).
    @param grace [s], from 1 hour to 30 days.
    @param settlement_ The global settlement whose shutdown stops every execution (empty: none).
    """
    settlement = settlement_
    self._set_delay(delay)
    self._set_grace(grace)
    self._set_proposer(proposer)
    self.guardian = guardian
    log GuardianSet(guardian=guardian)


@external
def propose(calls: DynArray[Call, MAX_CALLS]) -> uint256:
    """
    @notice Queue `calls` (the proposer only); they may run from now + delay on.
    @return The proposal's id.
    """
    assert msg.sender == self.proposer, "timelock: not the proposer"
    assert len(calls) > 0, "timelock: no calls"
    proposal_id: uint256 = self.proposal_count + 1
    self.proposal_count = proposal_id
    eta: uint256 = block.timestamp + self.delay
    expires: uint256 = eta + self.grace
    calls_hash: bytes32 = keccak256(abi_encode(calls))
    rescue: bool = True
    for c: Call in calls:
        if not self._is_rescue(c):
            rescue = False
            break
    self.proposals[proposal_id] = Proposal(
        calls_hash=calls_hash, eta=eta, expires=expires, status=QUEUED, rescue=rescue
    )
    log Queued(proposal_id=proposal_id, eta=eta, expires=expires, calls_hash=calls_hash)
    index: uint256 = 0
    for c: Call in calls:
        log CallQueued(proposal_id=proposal_id, index=index, target=c.target, data=c.data)
        index += 1
    return proposal_id


@external
def execute(proposal_id: uint256, calls: DynArray[Call, MAX_CALLS]):
    """
    @notice Run a queued proposal's calls, in order (the proposer only), from its eta to its
            expiry; `calls` must be the ones queued.
    """
    assert msg.sender == self.proposer, "timelock: not the proposer"
    proposal: Proposal = self.proposals[proposal_id]
    assert proposal.status == QUEUED, "timelock: not queued"
    assert keccak256(abi_encode(calls)) == proposal.calls_hash, "timelock: other calls"
    assert block.timestamp >= proposal.eta, "timelock: too early"
    assert block.timestamp <= proposal.expires, "timelock: expired"
    if settlement.address != empty(address):
        assert staticcall settlement.live(), "timelock: shut down"
    # marked before the calls run: a call back into execute finds it executed
    self.proposals[proposal_id].status = EXECUTED
    log Executed(proposal_id=proposal_id)
    for c: Call in calls:
        success: bool = False
        response: Bytes[MAX_REVERT] = b""
        success, response = raw_call(
            c.target, c.data, max_outsize=MAX_REVERT, revert_on_failure=False
        )
        if not success:
            raw_revert(response)


@external
def cancel(proposal_id: uint256):
    """
    @notice Drop a queued proposal (the proposer, or the guardian unless it is a rescue): it
            can never run.
    """
    assert msg.sender == self.proposer or (
        msg.sender == self.guardian and msg.sender != empty(address)
    ), "timelock: not the proposer or guardian"
    assert self.proposals[proposal_id].status == QUEUED, "timelock: not queued"
    if msg.sender != self.proposer:
        assert not self.proposals[proposal_id].rescue, "timelock: a rescue"
    self.proposals[proposal_id].status = CANCELLED
    log Cancelled(proposal_id=proposal_id)


@external
def set_delay(delay: uint256):
    """
    @notice The delay of the proposals queued from now on (only through the queue), at least
            MIN_QUEUED_DELAY.
    """
    assert msg.sender == self, "timelock: only through the queue"
    assert delay >= MIN_QUEUED_DELAY, "timelock: delay below 1 hour"
    self._set_delay(delay)


@external
def set_grace(grace: uint256):
    """
    @notice The grace period of the proposals queued from now on (only through the queue).
    """
    assert msg.sender == self, "timelock: only through the queue"
    self._set_grace(grace)


@external
def set_proposer(proposer: address):
    """
    @notice Hand the proposer's right to `proposer` (only through the queue); the proposals
            queued before stay, and the new proposer executes or cancels them.
    """
    assert msg.sender == self, "timelock: only through the queue"
    self._set_proposer(proposer)


@external
def set_guardian(guardian: address):
    """
    @notice Who may cancel besides the proposer (only through the queue; empty: nobody).
    """
    assert msg.sender == self, "timelock: only through the queue"
    self.guardian = guardian
    log GuardianSet(guardian=guardian)


@view
@internal
def _is_rescue(c: Call) -> bool:
    """
    @dev A rescue call: this contract's set_guardian(address), revoke_role(account, EMERGENCY)
         or set_stopped(0) of any contract, its calldata exactly the selector and the words.
    """
    size: uint256 = len(c.data)
    if size != ONE_WORD_CALL and size != TWO_WORD_CALL:
        return False
    selector: bytes4 = convert(slice(c.data, 0, 4), bytes4)
    if size == ONE_WORD_CALL:
        if selector == SET_GUARDIAN:
            return c.target == self
        return selector == SET_STOPPED and extract32(c.data, 4, output_type=uint256) == 0
    return (
        selector == REVOKE_ROLE
        and extract32(c.data, ONE_WORD_CALL, output_type=uint256) == auth.EMERGENCY
    )


@internal
def _set_proposer(proposer: address):
    # the Timelock as its own proposer could never queue, run or cancel anything again
    assert proposer != empty(address) and proposer != self, "timelock: bad proposer"
    self.proposer = proposer
    log ProposerSet(proposer=proposer)


@internal
def _set_delay(delay: uint256):
    assert delay <= MAX_DELAY, "timelock: delay above 30 days"
    self.delay = delay
    log DelaySet(delay=delay)


@internal
def _set_grace(grace: uint256):
    assert grace >= MIN_GRACE and grace <= MAX_GRACE, "timelock: grace out of range"
    self.grace = grace
    log GraceSet(grace=grace)
