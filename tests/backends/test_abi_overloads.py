"""ContractAbi picks a function by name and argument count: a Vyper default argument makes one
ABI entry per count (DutchAuction's active_auctions() and active_auctions(uint256)); a wrong
count or name is one clear error, not a KeyError."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from offchain.backends.abi import ContractAbi
from offchain.testing.fuzz import Artifacts

AUCTION = "0x" + "ab" * 20


def _abi(artifacts: Artifacts) -> ContractAbi:
    codec = ContractAbi(artifacts[0])
    codec.names[AUCTION] = "DutchAuction"
    return codec


def test_active_auctions__each_argument_count_its_own_selector(artifacts: Artifacts):
    codec = _abi(artifacts)
    first, _ = codec._calldata(AUCTION, "active_auctions", ())
    paged, _ = codec._calldata(AUCTION, "active_auctions", (1024,))
    assert first == keccak(text="active_auctions()")[:4]
    assert paged[:4] == keccak(text="active_auctions(uint256)")[:4]
    assert int.from_bytes(paged[4:], "big") == 1024


def test_a_wrong_count_or_name__one_clear_error(artifacts: Artifacts):
    codec = _abi(artifacts)
    with pytest.raises(
        ValueError, match=r"^DutchAuction.active_auctions takes 0 or 1 arguments, given 2$"
    ):
        codec._calldata(AUCTION, "active_auctions", (1, 2))
    with pytest.raises(ValueError, match=r"^DutchAuction has no function nosuch$"):
        codec._calldata(AUCTION, "nosuch", ())
