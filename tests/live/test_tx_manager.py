"""The transaction manager's bookkeeping against a node that answers out of step: a node may
count a mined transaction's nonce a moment before it serves the receipt. A CI run on a loaded
machine saw it on Anvil: the taker found its FlashTaker deploy's nonce used and no receipt, called
the deploy superseded, and never started. A transaction is superseded only when two polls in a
row find its nonce used and none of its hashes mined."""

from __future__ import annotations

from typing import Any

from offchain.live.signers import dev_signer
from offchain.live.txs import SUPERSEDED_POLLS, Pending, TxManager

TX = "0x" + "ab" * 32


class LaggingNode:
    """A node whose nonce for the sender is `nonce` and whose receipts appear only once
    `receipts` is set."""

    def __init__(self) -> None:
        self.nonce_value = 1
        self.receipts: dict[str, dict[str, Any]] = {}

    def nonce(self, address: str, tag: str) -> int:
        return self.nonce_value

    def rpc(self, method: str, params: list) -> Any:
        if method == "eth_getTransactionReceipt":
            return self.receipts.get(params[0])
        if method == "eth_getTransactionByHash":
            return {"hash": params[0]} if params[0] in self.receipts else None
        raise AssertionError(f"unexpected call {method}")


def _manager(node: LaggingNode, events: list) -> TxManager:
    manager = TxManager(
        node,  # type: ignore[arg-type]
        dev_signer(3),
        31337,
        policy=None,  # type: ignore[arg-type]
        log=lambda event, **kw: events.append((event, kw)),
    )
    manager.pending[0] = Pending(0, "0x" + "11" * 20, "0x", 100_000, "FlashTaker.deploy", [])
    manager.pending[0].hashes.append(TX)
    return manager


def test_nonce_counted_before_the_receipt__not_superseded__mined_on_the_next_poll():
    node, events = LaggingNode(), []
    manager = _manager(node, events)
    assert manager.poll(head=5) == []
    assert 0 in manager.pending and events == []
    node.receipts[TX] = {
        "transactionHash": TX,
        "status": "0x1",
        "blockNumber": "0x5",
        "logs": [],
        "gasUsed": "0x5208",
        "effectiveGasPrice": "0x1",
    }
    mined = manager.poll(head=6)
    assert [m.tx_hash for m in mined] == [TX] and mined[0].ok
    assert manager.pending == {} and events == []


def test_nonce_used_by_another_transaction__superseded_after_two_polls():
    node, events = LaggingNode(), []
    manager = _manager(node, events)
    assert SUPERSEDED_POLLS == 2
    manager.poll(head=5)
    assert 0 in manager.pending and events == []
    manager.poll(head=6)
    assert manager.pending == {}
    assert events == [("superseded", {"label": "FlashTaker.deploy", "nonce": 0})]
