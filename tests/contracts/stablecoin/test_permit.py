"""EIP-2612 permit and the EIP-712 domain separator of the Stablecoin and the GovernanceToken:
valid, replayed, next nonce, expired, at the deadline, wrong signer, another token's domain, a
malleable high s, unrecoverable. Differential like the rest: the model twins `permit`, `nonces` and
`DOMAIN_SEPARATOR` (offchain/model/erc20.py); the permits are signed by eth-account's EIP-712 signer
(offchain/testing/permits.py) with a throwaway key that is no role of the harness. Helpers:
tests/contracts/support/joins.py.
"""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from support.joins import logs

from offchain.model.fixed_point import WAD
from offchain.testing.harness import reverts
from offchain.testing.permits import FORGER_KEY, PERMIT_OWNER_KEY, address_of, sign_permit

_OWNER = address_of(PERMIT_OWNER_KEY)
_TOKENS = ("stablecoin", "governance_token")
# secp256k1's order: s above n / 2 is the malleable twin of a valid signature
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _permit(system, token: str, key: bytes, spender: str, value: int, nonce: int, deadline: int):
    name = system.view(token, "name")
    return sign_permit(
        key, name, system.chain.chain_id, token, _OWNER, spender, value, nonce, deadline
    )


def _domain_separator(system, token: str) -> bytes:
    type_hash = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                type_hash,
                keccak(text=system.view(token, "name")),
                keccak(text="1"),
                system.chain.chain_id,
                token,
            ],
        )
    )


@pytest.mark.parametrize("which", _TOKENS)
def test_domain_separator__is_eip712_of_name_version_chain_and_address(system, which):
    token = getattr(system.d, which)
    expected = _domain_separator(system, token)
    assert system.view(token, "DOMAIN_SEPARATOR") == expected
    assert system.contract(token).DOMAIN_SEPARATOR() == expected


@pytest.mark.parametrize("which", _TOKENS)
def test_permit__signed_approval__sets_allowance_once(system, which):
    r, token = system.roles, getattr(system.d, which)
    deadline = system.now + 1_000
    p = _permit(system, token, PERMIT_OWNER_KEY, r.keeper, 500 * WAD, 0, deadline)

    system.tx(token, "permit", r.keeper, _OWNER, r.keeper, 500 * WAD, deadline, *p)

    model = system.contract(token)
    assert system.view(token, "allowance", _OWNER, r.keeper) == 500 * WAD
    assert model.allowance[(_OWNER, r.keeper)] == 500 * WAD
    assert system.view(token, "nonces", _OWNER) == model.nonces[_OWNER] == 1
    assert logs(system) == [
        (token, "Approval", {"owner": _OWNER, "spender": r.keeper, "value": 500 * WAD})
    ]
    # the nonce moved on: the same signature recovers another signer now
    with reverts("erc20: invalid signature"):
        system.tx(token, "permit", r.keeper, _OWNER, r.keeper, 500 * WAD, deadline, *p)


def test_permit__next_nonce__replaces_the_allowance(system):
    r, token = system.roles, system.d.stablecoin
    deadline = system.now + 1_000
    for nonce, value in enumerate((7 * WAD, 3 * WAD)):
        p = _permit(system, token, PERMIT_OWNER_KEY, r.other, value, nonce, deadline)
        system.tx(token, "permit", r.stranger, _OWNER, r.other, value, deadline, *p)
    assert system.view(token, "allowance", _OWNER, r.other) == 3 * WAD
    assert system.view(token, "nonces", _OWNER) == 2


@pytest.mark.parametrize("which", _TOKENS)
def test_permit__past_deadline__reverts_expired(system, which):
    r, token = system.roles, getattr(system.d, which)
    deadline = system.now  # the permit transaction is mined one second later
    p = _permit(system, token, PERMIT_OWNER_KEY, r.keeper, WAD, 0, deadline)
    with reverts("erc20: expired deadline"):
        system.tx(token, "permit", r.keeper, _OWNER, r.keeper, WAD, deadline, *p)


def test_permit__at_its_deadline__is_accepted(system):
    r, token = system.roles, system.d.stablecoin
    deadline = system.now + 1  # the next block's time
    p = _permit(system, token, PERMIT_OWNER_KEY, r.keeper, WAD, 0, deadline)
    system.tx(token, "permit", r.keeper, _OWNER, r.keeper, WAD, deadline, *p)
    assert system.view(token, "allowance", _OWNER, r.keeper) == WAD


@pytest.mark.parametrize("which", _TOKENS)
def test_permit__signed_by_someone_else__reverts_invalid_signature(system, which):
    r, token = system.roles, getattr(system.d, which)
    deadline = system.now + 1_000
    p = _permit(system, token, FORGER_KEY, r.keeper, WAD, 0, deadline)
    with reverts("erc20: invalid signature"):
        system.tx(token, "permit", r.keeper, _OWNER, r.keeper, WAD, deadline, *p)
    assert system.view(token, "allowance", _OWNER, r.keeper) == 0


def test_permit__for_another_token__reverts_invalid_signature(system):
    """A permit signed for the governance token's domain is no permit for the stablecoin."""
    r = system.roles
    deadline = system.now + 1_000
    p = _permit(system, system.d.governance_token, PERMIT_OWNER_KEY, r.keeper, WAD, 0, deadline)
    with reverts("erc20: invalid signature"):
        system.tx(system.d.stablecoin, "permit", r.keeper, _OWNER, r.keeper, WAD, deadline, *p)


def test_permit__malleable_high_s__reverts_invalid_s(system):
    r, token = system.roles, system.d.stablecoin
    deadline = system.now + 1_000
    v, sig_r, sig_s = _permit(system, token, PERMIT_OWNER_KEY, r.keeper, WAD, 0, deadline)
    high_s = (_N - int.from_bytes(sig_s, "big")).to_bytes(32, "big")
    with reverts("ecdsa: invalid signature `s` value"):
        system.tx(token, "permit", r.keeper, _OWNER, r.keeper, WAD, deadline, 55 - v, sig_r, high_s)


@pytest.mark.parametrize("v, sig_r", [(29, None), (27, bytes(32)), (28, (2**256 - 1).to_bytes(32))])
def test_permit__unrecoverable_signature__reverts_invalid_signature(system, v, sig_r):
    """ecrecover gives the zero address for v not 27 / 28 or r out of range."""
    r, token = system.roles, system.d.stablecoin
    deadline = system.now + 1_000
    p = _permit(system, token, PERMIT_OWNER_KEY, r.keeper, WAD, 0, deadline)
    with reverts("ecdsa: invalid signature"):
        system.tx(token, "permit", r.keeper, _OWNER, r.keeper, WAD, deadline, v, sig_r or p.r, p.s)
