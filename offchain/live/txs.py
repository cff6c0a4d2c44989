"""A bot's transactions: one account, its nonces, its gas policy, and what is still pending.

- **Nonces.** The manager owns its account's nonces: it starts from the node's pending count (or
  past the pending transactions of its checkpoint, if higher) and hands them out in order. When
  the chain goes back (a reorg, a node restarted from an older state) it asks the node again.
- **Nothing lost on the way.** A transaction is signed and its hash known before it is sent, and
  it is recorded as pending first: a reply lost to a network fault does not lose the transaction
  (the manager looks for it by hash, and sends the same signed bytes again if the node does not
  know it).
- **Stuck transactions** (not mined after `stuck_blocks` blocks or `stuck_seconds` seconds) are
  replaced at the same nonce with higher fees, as the gas policy allows; every hash sent for a
  nonce is watched until one of them is mined.
- **Funds.** Before signing, the account's balance must cover the gas at the bid: otherwise
  `OutOfFunds` (one line), and nothing is sent.
- **Dry run.** Decides and logs; signs and sends nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from eth_utils import keccak

from offchain.backends.rpc import RpcError
from offchain.live.gas import MIN_BUMP_PPM, PPM, GasPolicy
from offchain.live.node import Node
from offchain.live.signers import Signer
from offchain.sim.strategies.gas_costs import estimate_limit

# The gas limit a bot sends with: the node's estimate x 2 + 50,000, at most GAS_LIMIT_CAP (the
# margin and why: strategies/gas_costs.py, the one home of the keepers' gas figures; an action
# the strategy sized, a liquidation batch, goes with at least its own limit: bots.py). An
# estimate that still falls short is retried (OUT_OF_GAS_RETRIES).
# a transaction that ran out of gas is sent again (if the call still applies) with twice its
# limit (or the fresh estimate's, if higher), at most GAS_LIMIT_CAP, this many times
OUT_OF_GAS_RETRIES = 2
# A failure that left at most 1/16 of its gas limit unused may have run out of gas: the 63/64 rule
# leaves each calling frame at most 1/64 of its gas when a callee starves (Backstop's calls nest
# at most four deep), and a callee's starving reverts its caller without a reason.
OUT_OF_GAS_SHARE = 16
OUT_OF_GAS = "out of gas"
# polls in a row that must find a pending nonce used with no receipt of ours before the
# transaction is called superseded (TxManager.poll)
SUPERSEDED_POLLS = 2


def starved(frame: dict[str, Any]) -> bool:
    """Whether a call frame of a `callTracer` trace, or any frame it called, ran out of gas."""
    if "out of gas" in str(frame.get("error", "")).lower():
        return True
    return any(starved(f) for f in frame.get("calls") or [])


def used_up(gas_used: int, gas_limit: int) -> bool:
    """A failure that left at most 1/OUT_OF_GAS_SHARE of its limit unused (see above)."""
    return (gas_limit - gas_used) * OUT_OF_GAS_SHARE <= gas_limit


def gas_limit(estimate: int) -> int:
    """The limit to send with, for the node's `estimate` (gas_costs.GAS_MARGIN_PPM)."""
    return estimate_limit(estimate)


class OutOfFunds(RuntimeError):
    """The account cannot pay the gas of what it wants to send."""


@dataclass
class Pending:
    """One nonce's transaction, with every fee bump sent for it (newest last)."""

    nonce: int
    to: str
    data: str
    gas: int
    label: str  # contract.function
    targets: list[list]  # what it acts on (keepers.Action.targets), as JSON lists
    hashes: list[str] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)
    fees: list[list[int]] = field(default_factory=list)  # [max fee, priority fee] per attempt
    sent_block: int = 0
    sent_at: float = 0.0
    retries: int = 0  # times this action was sent again after running out of gas
    unseen: int = 0  # polls in a row that found its nonce used and no receipt of ours


@dataclass(frozen=True)
class Mined:
    """A pending transaction that made it into a block."""

    pending: Pending
    tx_hash: str
    ok: bool
    block: int
    logs: list[dict[str, Any]]
    gas_used: int
    gas_price: int


class TxManager:
    def __init__(
        self,
        node: Node,
        signer: Signer | None,
        chain_id: int,
        policy: GasPolicy,
        log: Callable[..., None],
        dry_run: bool = False,
        stuck_blocks: int = 3,
        stuck_seconds: float = 15.0,
    ):
        self.node = node
        self.signer = signer
        self.chain_id = chain_id
        self.policy = policy
        self.log = log
        self.dry_run = dry_run or signer is None
        self.stuck_blocks = stuck_blocks
        self.stuck_seconds = stuck_seconds
        self.pending: dict[int, Pending] = {}
        self._next_nonce: int | None = None
        self.replaced = 0  # fee bumps sent
        self.rebroadcast = 0  # pending transactions the node had lost, sent again

    @property
    def address(self) -> str:
        return self.signer.address if self.signer is not None else ""

    # -------------------------------------------------------- state (checkpointed)

    def dump(self) -> list[dict[str, Any]]:
        return [asdict(p) for p in self.pending.values()]

    def load(self, rows: list[dict[str, Any]]) -> None:
        self.pending = {r["nonce"]: Pending(**r) for r in rows}
        self._next_nonce = None

    def in_flight(self) -> set[tuple]:
        """The targets of every pending transaction (keepers' `in_flight`)."""
        return {tuple(t) for p in self.pending.values() for t in p.targets}

    def resync(self) -> None:
        """Ask the node for the next nonce again (after a reorg or a node restart)."""
        self._next_nonce = None

    def _nonce(self) -> int:
        if self._next_nonce is None:
            assert self.signer is not None
            node_nonce = self.node.nonce(self.signer.address, "pending")
            mine = max(self.pending, default=-1) + 1
            self._next_nonce = max(node_nonce, mine)
        return self._next_nonce

    # -------------------------------------------------------- sending

    def base_fee(self) -> int:
        block = self.node.block("latest")
        assert block is not None
        return int(block.get("baseFeePerGas", "0x0"), 16)

    def estimate(self, to: str, data: str) -> int | None:
        """The gas limit to send with (the node's estimate with a margin); None if the call
        reverts now (a competitor got there first, or it no longer applies)."""
        try:
            estimate = int(
                self.node.rpc(
                    "eth_estimateGas",
                    [{"from": self.address or None, "to": to, "data": data}, "latest"],
                ),
                16,
            )
        except RpcError:
            return None
        return gas_limit(estimate)

    def send(
        self,
        to: str,
        data: str,
        gas: int,
        label: str,
        targets: list[list],
        block: int,
        retries: int = 0,
    ) -> Pending | None:
        """Sign and send one transaction at the next nonce (None in a dry run)."""
        base_fee = self.base_fee()
        fees = self.policy.fees(base_fee, 0)
        if fees is None:
            raise OutOfFunds(f"the gas policy bids nothing at base fee {base_fee} wei")
        if self.dry_run:
            self.log("dry_run", label=label, targets=targets, gas=gas, max_fee=fees[0])
            return None
        assert self.signer is not None
        need = gas * fees[0]
        balance = self.node.balance(self.signer.address)
        if balance < need:
            raise OutOfFunds(
                f"{self.signer.address} holds {balance} wei, {label} needs up to {need} wei of gas"
            )
        p = Pending(self._nonce(), to, data, gas, label, targets, retries=retries)
        self._sign(p, fees)
        p.sent_block, p.sent_at = block, time.monotonic()
        self.pending[p.nonce] = p  # before sending: a lost reply does not lose it
        self._next_nonce = p.nonce + 1
        self._broadcast(p)
        self.log("sent", label=label, nonce=p.nonce, tx=p.hashes[-1], targets=targets, gas=p.gas)
        return p

    def _sign(self, p: Pending, fees: tuple[int, int]) -> None:
        assert self.signer is not None
        raw = self.signer.sign(
            {
                "chainId": self.chain_id,
                "nonce": p.nonce,
                **({"to": p.to} if p.to else {}),
                "value": 0,
                "data": p.data,
                "gas": p.gas,
                "maxFeePerGas": fees[0],
                "maxPriorityFeePerGas": fees[1],
            }
        )
        p.raws.append("0x" + raw.hex())
        p.hashes.append("0x" + keccak(raw).hex())
        p.fees.append([fees[0], fees[1]])

    def _broadcast(self, p: Pending) -> None:
        """Send the newest signed version; the node's refusals that mean "already there" or
        "already used" are fine (poll sorts them out)."""
        try:
            self.node.rpc("eth_sendRawTransaction", [p.raws[-1]])
        except RpcError as exc:
            text = str(exc).lower()
            if "already" in text or "known" in text:
                return
            if "nonce too low" in text:
                self.resync()  # poll finds what happened to this nonce
                return
            if "insufficient funds" in text:
                del self.pending[p.nonce]
                self.resync()
                raise OutOfFunds(f"{self.address}: the node refused {p.label}: {exc}") from None
            raise

    # -------------------------------------------------------- watching

    def poll(self, head: int) -> list[Mined]:
        """What was mined since the last poll; stuck transactions replaced, lost ones sent
        again."""
        if not self.pending:
            return []
        assert self.signer is not None
        mined: list[Mined] = []
        latest_nonce = self.node.nonce(self.signer.address, "latest")
        for nonce in sorted(self.pending):
            p = self.pending[nonce]
            receipt = None
            for tx_hash in reversed(p.hashes):
                receipt = self.node.rpc("eth_getTransactionReceipt", [tx_hash])
                if receipt is not None:
                    break
            if receipt is not None:
                del self.pending[nonce]
                mined.append(
                    Mined(
                        p,
                        receipt["transactionHash"],
                        receipt["status"] == "0x1",
                        int(receipt["blockNumber"], 16),
                        receipt["logs"],
                        int(receipt["gasUsed"], 16),
                        int(receipt.get("effectiveGasPrice", "0x0"), 16),
                    )
                )
                continue
            if nonce < latest_nonce:
                # the nonce was used by a transaction of ours that is not this one (sent by an
                # earlier run without a checkpoint, say): this one can never be mined. A node
                # may count the nonce a moment before it serves the receipt (Anvil did, under
                # a loaded CI run: a bot then dropped its own mined deploy and never started),
                # so it takes two polls in a row to call it superseded.
                p.unseen += 1
                if p.unseen >= SUPERSEDED_POLLS:
                    del self.pending[nonce]
                    self.log("superseded", label=p.label, nonce=nonce)
                continue
            p.unseen = 0
            known = any(
                self.node.rpc("eth_getTransactionByHash", [h]) is not None for h in p.hashes
            )
            if not known:  # the node lost it (restarted, reorged): the same bytes again
                self.rebroadcast += 1
                self.log("rebroadcast", label=p.label, nonce=nonce)
                self._broadcast(p)
                continue
            if head - p.sent_block >= self.stuck_blocks or (
                time.monotonic() - p.sent_at >= self.stuck_seconds
            ):
                self._replace(p, head)
        return mined

    def _replace(self, p: Pending, head: int) -> None:
        fees = self.policy.fees(self.base_fee(), len(p.hashes))
        if fees is None:
            return  # the policy's cap: keep waiting
        previous_max, previous_priority = p.fees[-1]
        bumped = (
            max(fees[0], -(-previous_max * MIN_BUMP_PPM // PPM)),
            max(fees[1], -(-previous_priority * MIN_BUMP_PPM // PPM)),
        )
        if bumped[0] > self.policy.cap:
            return
        self._sign(p, bumped)
        p.sent_block, p.sent_at = head, time.monotonic()
        self.replaced += 1
        self.log(
            "replaced",
            label=p.label,
            nonce=p.nonce,
            tx=p.hashes[-1],
            max_fee=bumped[0],
            priority_fee=bumped[1],
        )
        self._broadcast(p)
