"""Twin of contracts/Timelock.vy: governance's queue. A proposal (calls, each a target and its
calldata) is queued by the proposer, runs once in [eta, eta + grace], all of it or none, or is
cancelled while queued.

The contract hands each call's calldata to its target; the twin runs the target's model function
with the arguments the calldata encodes, with the timelock as the sender. Reading calldata needs
the targets' ABIs: `Env.calldata` (set by offchain/backends/model.py from the compiled contracts)
turns (target, data) into (function name, arguments) as a Vyper contract decodes them, or raises
Revert(None) where the contract would revert without a reason (an unknown selector, data that
does not decode)."""

from __future__ import annotations

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from offchain.model.errors import Revert, require
from offchain.model.state import ZERO_ADDRESS, Contract, Env

MAX_CALLS = 32
MAX_DATA = 1024
MAX_DELAY = 30 * 86400
MIN_GRACE = 3600
MAX_GRACE = 30 * 86400

QUEUED, EXECUTED, CANCELLED = 1, 2, 3
NOT_PROPOSER = "timelock: not the proposer"
ONLY_QUEUE = "timelock: only through the queue"


def calls_hash(calls: list[tuple[str, bytes]]) -> bytes:
    """keccak256(abi_encode(calls)) of the contract: the hash a proposal's calls are kept as."""
    return keccak(abi_encode(["(address,bytes)[]"], [[(t, bytes(d)) for t, d in calls]]))


class Timelock(Contract):
    def __init__(
        self, env: Env, address: str, deployer: str, proposer: str, delay: int, grace: int
    ):
        super().__init__(env, address)
        self.proposer = ZERO_ADDRESS
        self.delay = 0
        self.grace = 0
        self.proposal_count = 0
        # id -> (calls_hash, eta, status), the contract's Proposal struct
        self.proposals = self.storage((b"\0" * 32, 0, 0))
        require(proposer != ZERO_ADDRESS, "timelock: no proposer")
        self._set_delay(delay)
        self._set_grace(grace)
        self.proposer = proposer
        self.log("ProposerSet", proposer=proposer)

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
        digest = calls_hash(calls)
        self.proposals[proposal_id] = (digest, eta, QUEUED)
        self.log("Queued", proposal_id=proposal_id, eta=eta, calls_hash=digest)
        for index, (target, data) in enumerate(calls):
            self.log("CallQueued", proposal_id=proposal_id, index=index, target=target, data=data)
        return proposal_id

    def execute(self, sender: str, proposal_id: int, calls: list[tuple[str, bytes]]) -> None:
        calls = self._calls(calls)
        require(sender == self.proposer, NOT_PROPOSER)
        digest, eta, status = self.proposals[proposal_id]
        require(status == QUEUED, "timelock: not queued")
        require(calls_hash(calls) == digest, "timelock: other calls")
        require(self.now >= eta, "timelock: too early")
        require(self.now <= eta + self.grace, "timelock: expired")
        self.proposals[proposal_id] = (digest, eta, EXECUTED)
        self.log("Executed", proposal_id=proposal_id)
        for target, data in calls:
            contract = self.env.contracts.get(target)
            if contract is None:  # a call to an address without code succeeds, doing nothing
                continue
            if self.env.calldata is None:
                raise RuntimeError(
                    "the model runs a Timelock's calls with the contracts' ABIs: "
                    "ModelBackend(abis=...)"
                )
            function, args = self.env.calldata(target, data)
            # a revert in the call reverts the execution with the callee's reason (raw_revert)
            getattr(contract, function)(self.address, *args)

    def cancel(self, sender: str, proposal_id: int) -> None:
        require(sender == self.proposer, NOT_PROPOSER)
        digest, eta, status = self.proposals[proposal_id]
        require(status == QUEUED, "timelock: not queued")
        self.proposals[proposal_id] = (digest, eta, CANCELLED)
        self.log("Cancelled", proposal_id=proposal_id)

    def set_delay(self, sender: str, delay: int) -> None:
        require(sender == self.address, ONLY_QUEUE)
        self._set_delay(delay)

    def set_grace(self, sender: str, grace: int) -> None:
        require(sender == self.address, ONLY_QUEUE)
        self._set_grace(grace)

    def set_proposer(self, sender: str, proposer: str) -> None:
        require(sender == self.address, ONLY_QUEUE)
        require(proposer != ZERO_ADDRESS, "timelock: no proposer")
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
