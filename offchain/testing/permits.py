"""EIP-2612 permits signed as a wallet signs them: eth-account's EIP-712 encoder and signer (an
implementation independent of the model's twin, offchain/model/erc20.py), for the unit tests and
the differential machines."""

from __future__ import annotations

from typing import NamedTuple

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

# throwaway keys that are no role of the harness: the permits' owner and a forger
PERMIT_OWNER_KEY = keccak(text="backstop permit owner")
FORGER_KEY = keccak(text="backstop permit forger")


class SignedPermit(NamedTuple):
    v: int
    r: bytes
    s: bytes


def address_of(key: bytes) -> str:
    return Account.from_key(key).address


def sign_permit(
    key: bytes,
    token_name: str,
    chain_id: int,
    token: str,
    owner: str,
    spender: str,
    value: int,
    nonce: int,
    deadline: int,
) -> SignedPermit:
    """`key`'s signature of the permit (owner, spender, value, nonce, deadline) for the token at
    `token` named `token_name` (EIP-712 domain version "1") on chain `chain_id`."""
    message = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "Permit": [
                    {"name": "owner", "type": "address"},
                    {"name": "spender", "type": "address"},
                    {"name": "value", "type": "uint256"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "deadline", "type": "uint256"},
                ],
            },
            "primaryType": "Permit",
            "domain": {
                "name": token_name,
                "version": "1",
                "chainId": chain_id,
                "verifyingContract": token,
            },
            "message": {
                "owner": owner,
                "spender": spender,
                "value": value,
                "nonce": nonce,
                "deadline": deadline,
            },
        }
    )
    signed = Account.sign_message(message, key)
    return SignedPermit(signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"))
