"""Twin of snekmate's ERC-20 module as used by contracts/Stablecoin.vy,
contracts/GovernanceToken.vy and contracts/TestToken.vy, with its EIP-2612 `permit` (snekmate's
eip712_domain_separator and ecdsa modules: the EIP-712 domain, `ecrecover` and its checks)."""

from __future__ import annotations

import functools

from eth_abi import encode as abi_encode
from eth_keys import KeyAPI
from eth_keys.exceptions import BadSignature
from eth_utils import keccak, to_checksum_address

from offchain.model.errors import require
from offchain.model.fixed_point import MAX_UINT256, u256
from offchain.model.state import ZERO_ADDRESS, Contract, Env

PERMIT_TYPE_HASH = keccak(
    text="Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
)
DOMAIN_TYPE_HASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
EIP712_VERSION = "1"  # what the token contracts pass to erc20.__init__
# secp256k1's order, and the highest `s` snekmate's ecdsa accepts (n / 2: no malleable twins)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MALLEABILITY_THRESHOLD = SECP256K1_N // 2


def ecrecover(digest: bytes, v: int, r: int, s: int) -> str:
    """The ecrecover precompile: the signer's address, or the zero address for a signature that
    recovers nothing (v not 27 / 28, r or s out of range, r not a point of the curve)."""
    if v not in (27, 28) or not 0 < r < SECP256K1_N or not 0 < s < SECP256K1_N:
        return ZERO_ADDRESS
    try:
        signature = KeyAPI.Signature(vrs=(v - 27, r, s))
        return signature.recover_public_key_from_msg_hash(digest).to_checksum_address()
    except (BadSignature, ValueError):
        return ZERO_ADDRESS


class ERC20(Contract):
    def __init__(
        self, env: Env, address: str, deployer: str, name: str, symbol: str, decimals: int
    ):
        super().__init__(env, address)
        self.name = name
        self.symbol = symbol
        self.decimals = decimals
        self.owner = deployer
        self.total_supply = 0
        self.balance_of = self.storage(0)
        self.allowance = self.storage(0)  # (owner, spender) -> amount
        self.is_minter = self.storage(False)
        self.nonces = self.storage(0)  # owner -> the nonce its next permit must sign
        self.log("OwnershipTransferred", previous_owner=ZERO_ADDRESS, new_owner=deployer)
        self.is_minter[deployer] = True
        self.log("RoleMinterChanged", minter=deployer, status=True)

    def transfer(self, sender: str, to: str, amount: int) -> bool:
        self._transfer(sender, to, amount)
        return True

    def approve(self, sender: str, spender: str, amount: int) -> bool:
        self._approve(sender, spender, amount)
        return True

    def transferFrom(self, sender: str, owner: str, to: str, amount: int) -> bool:  # noqa: N802
        self._spend_allowance(owner, sender, amount)
        self._transfer(owner, to, amount)
        return True

    def permit(
        self,
        sender: str,
        owner: str,
        spender: str,
        amount: int,
        deadline: int,
        v: int,
        r: bytes,
        s: bytes,
    ) -> None:
        require(self.now <= deadline, "erc20: expired deadline")
        nonce = self.nonces[owner]
        self.nonces[owner] = u256(nonce + 1)  # unsafe_add
        struct_hash = keccak(
            abi_encode(
                ["bytes32", "address", "address", "uint256", "uint256", "uint256"],
                [PERMIT_TYPE_HASH, owner, spender, amount, nonce, deadline],
            )
        )
        digest = keccak(b"\x19\x01" + self.DOMAIN_SEPARATOR() + struct_hash)
        s_value = int.from_bytes(s, "big")
        require(s_value <= MALLEABILITY_THRESHOLD, "ecdsa: invalid signature `s` value")
        signer = ecrecover(digest, v, int.from_bytes(r, "big"), s_value)
        require(signer != ZERO_ADDRESS, "ecdsa: invalid signature")
        require(signer == to_checksum_address(owner), "erc20: invalid signature")
        self._approve(owner, spender, amount)

    def DOMAIN_SEPARATOR(self) -> bytes:  # noqa: N802 - the contract's name
        return _domain_separator(self.name, self.env.chain_id, self.address)

    def eip712Domain(self) -> tuple:  # noqa: N802 - the contract's name
        return (b"\x0f", self.name, EIP712_VERSION, self.env.chain_id, self.address, bytes(32), [])

    def burn(self, sender: str, amount: int) -> None:
        self._burn(sender, amount)

    def burn_from(self, sender: str, owner: str, amount: int) -> None:
        self._spend_allowance(owner, sender, amount)
        self._burn(owner, amount)

    def mint(self, sender: str, owner: str, amount: int) -> None:
        require(self.is_minter[sender], "erc20: access is denied")
        self._mint(owner, amount)

    def set_minter(self, sender: str, minter: str, status: bool) -> None:
        require(sender == self.owner, "ownable: caller is not the owner")
        require(minter != ZERO_ADDRESS, "erc20: minter is the zero address")
        require(minter != sender, "erc20: minter is owner address")
        self.is_minter[minter] = status
        self.log("RoleMinterChanged", minter=minter, status=status)

    def transfer_ownership(self, sender: str, new_owner: str) -> None:
        require(sender == self.owner, "ownable: caller is not the owner")
        require(new_owner != ZERO_ADDRESS, "erc20: new owner is the zero address")
        self.is_minter[sender] = False
        self.log("RoleMinterChanged", minter=sender, status=False)
        old = self.owner
        self.owner = new_owner
        self.log("OwnershipTransferred", previous_owner=old, new_owner=new_owner)
        self.is_minter[new_owner] = True
        self.log("RoleMinterChanged", minter=new_owner, status=True)

    def renounce_ownership(self, sender: str) -> None:
        require(sender == self.owner, "ownable: caller is not the owner")
        self.is_minter[sender] = False
        self.log("RoleMinterChanged", minter=sender, status=False)
        old = self.owner
        self.owner = ZERO_ADDRESS
        self.log("OwnershipTransferred", previous_owner=old, new_owner=ZERO_ADDRESS)

    # ------------------------------------------------------------ internal

    def _transfer(self, owner: str, to: str, amount: int) -> None:
        require(owner != ZERO_ADDRESS, "erc20: transfer from the zero address")
        require(to != ZERO_ADDRESS, "erc20: transfer to the zero address")
        balance = self.balance_of[owner]
        require(balance >= amount, "erc20: transfer amount exceeds balance")
        self.balance_of[owner] = balance - amount
        self.balance_of[to] = (self.balance_of[to] + amount) % (MAX_UINT256 + 1)  # unsafe_add
        self.log("Transfer", sender=owner, receiver=to, value=amount)

    def _mint(self, owner: str, amount: int) -> None:
        require(owner != ZERO_ADDRESS, "erc20: mint to the zero address")
        self.total_supply = u256(self.total_supply + amount)
        self.balance_of[owner] = (self.balance_of[owner] + amount) % (MAX_UINT256 + 1)  # unsafe_add
        self.log("Transfer", sender=ZERO_ADDRESS, receiver=owner, value=amount)

    def _burn(self, owner: str, amount: int) -> None:
        require(owner != ZERO_ADDRESS, "erc20: burn from the zero address")
        balance = self.balance_of[owner]
        require(balance >= amount, "erc20: burn amount exceeds balance")
        self.balance_of[owner] = balance - amount
        self.total_supply = self.total_supply - amount
        self.log("Transfer", sender=owner, receiver=ZERO_ADDRESS, value=amount)

    def _approve(self, owner: str, spender: str, amount: int) -> None:
        require(owner != ZERO_ADDRESS, "erc20: approve from the zero address")
        require(spender != ZERO_ADDRESS, "erc20: approve to the zero address")
        self.allowance[(owner, spender)] = amount
        self.log("Approval", owner=owner, spender=spender, value=amount)

    def _spend_allowance(self, owner: str, spender: str, amount: int) -> None:
        current = self.allowance[(owner, spender)]
        if current < MAX_UINT256:
            require(current >= amount, "erc20: insufficient allowance")
            self._approve(owner, spender, current - amount)


# The two deployable tokens are the same module with different constructors.
Stablecoin = ERC20
TestToken = ERC20


@functools.lru_cache(maxsize=64)
def _domain_separator(name: str, chain_id: int, address: str) -> bytes:
    """EIP-712's domain separator of a token named `name` at `address` on chain `chain_id`
    (version EIP712_VERSION): the same three inputs always give the same hash, so it is
    computed once (the fuzz reads it after every step)."""
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [DOMAIN_TYPE_HASH, keccak(text=name), keccak(text=EIP712_VERSION), chain_id, address],
        )
    )
