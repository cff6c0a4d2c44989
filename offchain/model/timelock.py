"""Twin of contracts/Timelock.vy: governance's queue. A proposal (calls, each a target and its
calldata) is queued by the proposer, runs once in [eta, expires] (eta + the grace when queued),
all of it or none, or is cancelled while queued (by the proposer or the guardian).

The contract hands each call's calldata to its target; the twin runs the target's model function
with the arguments the calldata encodes, with the timelock as the sender. Reading calldata needs
the targets' ABIs: `Env.calldata` (set by offchain/backends/model.py from the compiled contracts)
turns (target, data) into (function name, arguments) as a Vyper contract decodes them, or raises
Revert(None) where the contract would revert without a reason (an unknown selector, data that
does not decode), and which functions only read (the twin runs nothing for those: they change no
state; the one project view that reverts, `Liquidator.curing_cut` for any caller but the
Liquidator, is a difference the lockstep reports, as below).

The twin follows ABI-standard calldata (what eth_abi and `ape run govern` encode): a Vyper
contract also accepts some other layouts (offsets pointing back, words missing at the end read
as zeros) that the twin refuses; a proposal of such data is a difference the lockstep reports.
Precompiles and code the model does not hold (a call to an address with code only on chain) are
out of its scope alike."""

from __future__ import annotations

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from offchain.model.errors import Revert, require
from offchain.model.state import ZERO_ADDRESS, Contract, Env, Role

MAX_CALLS = 32
MAX_DATA = 1024
MAX_DELAY = 30 * 86400
MIN_QUEUED_DELAY = 3600
MIN_GRACE = 3600
MAX_GRACE = 30 * 86400

QUEUED, EXECUTED, CANCELLED = 1, 2, 3
# the rescue calls' selectors (Timelock.vy: what takes the guardian's power away or undoes its
# stop) and their calldata's lengths [bytes]
SET_GUARDIAN = keccak(b"set_guardian(address)")[:4]
REVOKE_ROLE = keccak(b"revoke_role(address,uint256)")[:4]
SET_STOPPED = keccak(b"set_stopped(uint256)")[:4]
ONE_WORD_CALL, TWO_WORD_CALL = 36, 68
NOT_PROPOSER = "timelock: not the proposer"
ONLY_QUEUE = "timelock: only through the queue"


def is_rescue_call(timelock: str, target: str, data: bytes) -> bool:
    """A rescue call (Timelock.vy `_is_rescue`): `timelock`'s own set_guardian(address), or any
    contract's revoke_role(account, EMERGENCY) or set_stopped(0), exactly the selector and the
    words."""
    if len(data) == ONE_WORD_CALL:
        if data[:4] == SET_GUARDIAN:
            return target == timelock
        return data[:4] == SET_STOPPED and int.from_bytes(data[4:36], "big") == 0
    if len(data) == TWO_WORD_CALL:
        return data[:4] == REVOKE_ROLE and int.from_bytes(data[36:68], "big") == Role.EMERGENCY
    return False


def calls_hash(calls: list[tuple[str, bytes]]) -> bytes:
    """keccak256(abi_encode(calls)) of the contract: the hash a proposal's calls are kept as."""
    return keccak(abi_encode(["(address,bytes)[]"], [[(t, bytes(d)) for t, d in calls]]))


class Timelock(Contract):
    def __init__(
        self,
        env: Env,
        address: str,
        deployer: str,
        proposer: str,
        guardian: str,
        delay: int,
        grace: int,
        settlement: str,
    ):
        super().__init__(env, address)
        # the global settlement whose shutdown stops every execution (ZERO_ADDRESS: none)
        self.settlement = settlement
        self.proposer = ZERO_ADDRESS
        self.guardian = ZERO_ADDRESS
        self.delay = 0
        self.grace = 0
        self.proposal_count = 0
        # id -> (calls_hash, eta, expires, status, rescue), the contract's Proposal struct
        self.proposals = self.storage((b"\0" * 32, 0, 0, 0, False))
        self._set_delay(delay)
        self._set_grace(grace)
        self._set_proposer(proposer)
        self.guardian = guardian
        self.log("GuardianSet", guardian=guardian)

    @staticmethod
    def _calls(calls: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        """The argument as the contract decodes it: more calls, or longer calldata, than its
        DynArray and Bytes hold do not decode (a revert without a reason)."""
        if len(calls) > MAX_CALLS or any(len(data) > MAX_DATA for _, data in calls):
            raise Revert(None)
        return [(to_checksum_address(target), bytes(data)) for target, data in calls]

    def propose(self, sender: str, calls: list[tuple[str, bytes]]) -> int:
        calls = self._calls(calls)
        require(sender == self.proposer, NOT_PROPOSER)
        require(len(calls) > 0, "timelock: no calls")
        proposal_id = self.proposal_count + 1
        self.proposal_count = proposal_id
        eta = self.now + self.delay
        expires = eta + self.grace
        digest = calls_hash(calls)
        rescue = all(is_rescue_call(self.address, t, d) for t, d in calls)
        self.proposals[proposal_id] = (digest, eta, expires, QUEUED, rescue)
        self.log("Queued", proposal_id=proposal_id, eta=eta, expires=expires, calls_hash=digest)
        for index, (target, data) in enumerate(calls):
            self.log("CallQueued", proposal_id=proposal_id, index=index, target=target, data=data)
        return proposal_id

    def execute(self, sender: str, proposal_id: int, calls: list[tuple[str, bytes]]) -> None:
        calls = self._calls(calls)
        require(sender == self.proposer, NOT_PROPOSER)
        digest, eta, expires, status, rescue = self.proposals[proposal_id]
        require(status == QUEUED, "timelock: not queued")
        require(calls_hash(calls) == digest, "timelock: other calls")
        require(self.now >= eta, "timelock: too early")
        require(self.now <= expires, "timelock: expired")
        if self.settlement != ZERO_ADDRESS:
            settlement = self.env.contracts.get(self.settlement)
            live = getattr(settlement, "live", None)
            if live is None:  # a staticcall to an address without code (or `live`) reverts
                raise Revert(None)
            require(live, "timelock: shut down")
        if self.env.calldata is None:  # (checked before anything is written)
            raise RuntimeError(
                "the model runs a Timelock's calls with the contracts' ABIs: ModelBackend(abis=...)"
            )
        self.proposals[proposal_id] = (digest, eta, expires, EXECUTED, rescue)
        self.log("Executed", proposal_id=proposal_id)
        for target, data in calls:
            contract = self.env.contracts.get(target)
            if contract is None:  # a call to an address without code succeeds, doing nothing
                continue
            function, args, reads_only = self.env.calldata(target, data)
            if reads_only:  # a view changes nothing (curing_cut's refusal: see the docstring)
                continue
            method = getattr(contract, function, None)
            if not callable(method):
                raise RuntimeError(f"the twin of {target} has no function {function}")
            # a revert in the call reverts the execution with the callee's reason (raw_revert)
            method(self.address, *args)

    def cancel(self, sender: str, proposal_id: int) -> None:
        require(
            sender == self.proposer or (sender == self.guardian and sender != ZERO_ADDRESS),
            "timelock: not the proposer or guardian",
        )
        digest, eta, expires, status, rescue = self.proposals[proposal_id]
        require(status == QUEUED, "timelock: not queued")
        if sender != self.proposer:
            require(not rescue, "timelock: a rescue")
        self.proposals[proposal_id] = (digest, eta, expires, CANCELLED, rescue)
        self.log("Cancelled", proposal_id=proposal_id)

    def set_delay(self, sender: str, delay: int) -> None:
        require(sender == self.address, ONLY_QUEUE)
        require(delay >= MIN_QUEUED_DELAY, "timelock: delay below 1 hour")
        self._set_delay(delay)

    def set_grace(self, sender: str, grace: int) -> None:
        require(sender == self.address, ONLY_QUEUE)
        self._set_grace(grace)

    def set_proposer(self, sender: str, proposer: str) -> None:
        require(sender == self.address, ONLY_QUEUE)
        self._set_proposer(proposer)

    def set_guardian(self, sender: str, guardian: str) -> None:
        require(sender == self.address, ONLY_QUEUE)
        self.guardian = guardian
        self.log("GuardianSet", guardian=guardian)

    def _set_proposer(self, proposer: str) -> None:
        require(proposer not in (ZERO_ADDRESS, self.address), "timelock: bad proposer")
        self.proposer = proposer
        self.log("ProposerSet", proposer=proposer)

    def _set_delay(self, delay: int) -> None:
        require(delay <= MAX_DELAY, "timelock: delay above 30 days")
        self.delay = delay
        self.log("DelaySet", delay=delay)

    def _set_grace(self, grace: int) -> None:
        require(MIN_GRACE <= grace <= MAX_GRACE, "timelock: grace out of range")
        self.grace = grace
        self.log("GraceSet", grace=grace)
