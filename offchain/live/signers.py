"""Who signs a bot's or a deployment's transactions: one `Signer` protocol, two kinds.

- `KeySigner`: a private key held in memory (eth-account). Anvil's dev accounts are these,
  derived from the devnet's mnemonic: `dev:N` is the node's N-th dev account.
- `ApeSigner`: an account of Ape's account manager, by alias (`ape accounts generate NAME`,
  `ape accounts import NAME`). A keyfile account is unlocked once, when it is resolved, with
  Ape's autosign (its passphrase from `APE_ACCOUNTS_<alias>_PASSPHRASE`, or asked once in a
  terminal): a deployment of a hundred transactions or a bot running for days cannot confirm
  each one. A wrong passphrase, or none without a terminal, is a `SignerError`.

A signer turns a transaction (a dict of EIP-1559 fields) into the raw signed bytes that
`eth_sendRawTransaction` takes; nothing is sent from an unlocked node account, so the same code
runs against a devnet and a node that holds no keys.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Protocol

from eth_account import Account
from eth_utils import to_checksum_address

from offchain.backends.anvil import ANVIL_MNEMONIC

# the devnet's (Anvil's) default mnemonic, as in ape-config.yaml
DEV_MNEMONIC = ANVIL_MNEMONIC
DEV_ACCOUNTS = 10


class SignerError(ValueError):
    """An account that cannot be used (one line, naming it)."""


class Signer(Protocol):
    address: str
    label: str

    def sign(self, tx: dict[str, Any]) -> bytes:
        """The raw signed transaction of `tx` (keys: chainId, nonce, to, value, data, gas,
        maxFeePerGas, maxPriorityFeePerGas)."""
        ...


class KeySigner:
    def __init__(self, private_key: bytes | str, label: str = ""):
        self._account = Account.from_key(private_key)
        self.address: str = to_checksum_address(self._account.address)
        self.label = label or self.address

    def sign(self, tx: dict[str, Any]) -> bytes:
        return bytes(self._account.sign_transaction({**tx, "type": 2}).raw_transaction)


class ApeSigner:
    """An Ape account (ape.api.AccountAPI), signing through Ape."""

    def __init__(self, account: Any, label: str):
        self._account = account
        self.address: str = to_checksum_address(account.address)
        self.label = label

    def sign(self, tx: dict[str, Any]) -> bytes:
        from ape_ethereum.transactions import DynamicFeeTransaction

        txn = DynamicFeeTransaction.model_validate(
            {
                "chainId": tx["chainId"],
                "nonce": tx["nonce"],
                "receiver": tx.get("to"),
                "value": tx.get("value", 0),
                "data": bytes.fromhex(tx["data"][2:]),
                "gas": tx["gas"],
                "maxFeePerGas": tx["maxFeePerGas"],
                "maxPriorityFeePerGas": tx["maxPriorityFeePerGas"],
            }
        )
        signed = self._account.sign_transaction(txn)
        if signed is None or signed.signature is None:
            raise SignerError(f"account {self.label} declined to sign")
        return bytes(signed.serialize_transaction())


def dev_signer(index: int) -> KeySigner:
    if not 0 <= index < DEV_ACCOUNTS:
        raise SignerError(f"dev:{index}: the devnet has dev accounts 0 to {DEV_ACCOUNTS - 1}")
    Account.enable_unaudited_hdwallet_features()
    account = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return KeySigner(account.key, f"dev:{index}")


def _find(spec: str) -> Signer | Any:
    """The dev signer of `dev:N`, or the Ape account (not yet unlocked) of an alias."""
    if not spec.strip():
        raise SignerError(f"{spec!r} is empty: give an Ape account's alias or dev:N")
    if spec.startswith("dev:"):
        try:
            return dev_signer(int(spec[4:]))
        except ValueError:
            if spec[4:].isdigit():
                raise
            raise SignerError(f"{spec}: dev accounts are dev:0 to dev:{DEV_ACCOUNTS - 1}") from None
    import ape
    from ape.exceptions import AccountsError

    accounts: Any = ape.accounts

    try:
        return accounts.load(spec)
    except (AccountsError, IndexError, KeyError, ValueError):
        known = ", ".join(sorted(a.alias for a in accounts if a.alias)) or "none"
        raise SignerError(
            f"no Ape account named {spec!r} (Ape accounts here: {known}; or dev:N for the "
            "devnet's dev accounts)"
        ) from None


def signer_problem(spec: str) -> str | None:
    """Why `spec` names no account (one line), or None; a keyfile account is not unlocked
    here (resolve_signer does that, once): a command checks its accounts with its other options,
    before it starts or reaches a node."""
    try:
        _find(spec)
    except SignerError as exc:
        return str(exc)
    return None


def signer_address(spec: str) -> str | None:
    """The address `spec` names (not unlocked), or None when it names no account."""
    try:
        return to_checksum_address(_find(spec).address)
    except SignerError:
        return None


def resolve_signer(spec: str) -> Signer:
    """`dev:N` (the devnet's N-th dev account) or the alias of an Ape account (unlocked)."""
    found = _find(spec)
    if isinstance(found, KeySigner):
        return found
    _unlock(found, spec)
    return ApeSigner(found, spec)


def _unlock(account: Any, alias: str) -> None:
    """A keyfile account set to sign without asking (see the module docstring); accounts of
    other plugins sign as their plugin does."""
    import click
    from ape.exceptions import AccountsError

    set_autosign = getattr(account, "set_autosign", None)
    if set_autosign is None:
        return
    variable = f"APE_ACCOUNTS_{alias}_PASSPHRASE"
    locked = SignerError(
        f"Ape account {alias!r} is locked: set {variable} to its passphrase, or run in a "
        "terminal to be asked"
    )
    if variable not in os.environ and not sys.stdin.isatty():
        raise locked  # nobody to ask
    try:
        set_autosign(True)
    except AccountsError:  # a wrong passphrase (from the variable, or three times asked)
        raise SignerError(
            f"Ape account {alias!r}: wrong passphrase (from {variable} or asked)"
        ) from None
    except (click.Abort, EOFError):  # the question interrupted
        raise locked from None
