"""Twin of snekmate's ERC-20 module as used by contracts/Stablecoin.vy and
contracts/TestToken.vy."""

from __future__ import annotations

from offchain.model.errors import require
from offchain.model.fixed_point import MAX_UINT256, u256
from offchain.model.state import ZERO_ADDRESS, Contract, Env


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
