"""EIP-2612 permits signed as a wallet signs them: eth-account's EIP-712 encoder and signer (an
implementation independent of the model's twin, offchain/model/erc20.py), for the unit tests and
the differential machines."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from offchain.backends.anvil import ANVIL_MNEMONIC

# how many of Anvil's dev accounts sign permits in the fuzz (the harness's roles are among them)
DEV_ACCOUNTS = 10

# throwaway keys that are no role of the harness: the permits' owner and a forger
PERMIT_OWNER_KEY = keccak(text="backstop permit owner")
FORGER_KEY = keccak(text="backstop permit forger")


class SignedPermit(NamedTuple):
    v: int
    r: bytes
    s: bytes


def address_of(key: bytes) -> str:
    return Account.from_key(key).address


@cache
def _dev_keys() -> dict[str, bytes]:
    Account.enable_unaudited_hdwallet_features()
    keys = {}
    for index in range(DEV_ACCOUNTS):
        account = Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
        keys[account.address] = bytes(account.key)
    return keys


def dev_key(address: str) -> bytes:
    """The private key of one of Anvil's dev accounts (the harness's roles)."""
    return _dev_keys()[address]


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
