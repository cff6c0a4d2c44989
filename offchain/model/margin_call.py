"""Twin of contracts/MarginCall.vy: a margin call between the warning level and the liquidation
ratio, and the soft liquidation of a called vault whose owner opted in (part of its debt repaid
by anyone for its collateral at a bounded bonus, at most a close factor per call, the vault
ending above its warning level)."""

from __future__ import annotations

from offchain.model.errors import require
from offchain.model.fixed_point import RAY, WAD, neg, to_int256, u256
from offchain.model.state import ZERO_ADDRESS, Authorized, Env
from offchain.model.vault_engine import VaultEngine

WAD_TO_RAY = 10**9
MAX_WARNING_FACTOR = 3 * RAY // 2
MAX_BONUS = WAD // 20
MAX_CLOSE_FACTOR = WAD // 2
# packed_parameters: warning factor [ray] << 128 | bonus [wad] << 64 | close factor [wad]
WARNING_SHIFT = 128
BONUS_SHIFT = 64
FIELD_MASK = 2**64 - 1


class MarginCall(Authorized):
    def __init__(self, env: Env, address: str, deployer: str, engine: str, spotter: str):
        super().__init__(env, address)
        self.engine: VaultEngine = self.at(engine)
        self.spotter = spotter
        self.packed_parameters = self.storage(0)
        self.oracles = self.storage(ZERO_ADDRESS)
        self.opted_in = self.storage(False)
        self._init_auth(deployer)

    # ------------------------------------------------------------ administration

    def set_parameters(
        self,
        sender: str,
        collateral_type: bytes,
        warning_factor: int,
        bonus: int,
        close_factor: int,
    ) -> None:
        self._check_authorized(sender)
        require(warning_factor > RAY, "margin: warning factor not above 1")
        require(warning_factor <= MAX_WARNING_FACTOR, "margin: warning factor above 1.5")
        require(bonus <= MAX_BONUS, "margin: bonus above 5%")
        require(close_factor != 0, "margin: zero close factor")
        require(close_factor <= MAX_CLOSE_FACTOR, "margin: close factor above 50%")
        self.packed_parameters[collateral_type] = (
            warning_factor << WARNING_SHIFT | bonus << BONUS_SHIFT | close_factor
        )
        self.log(
            "ParametersSet",
            collateral_type=collateral_type,
            warning_factor=warning_factor,
            bonus=bonus,
            close_factor=close_factor,
        )

    def remove(self, sender: str, collateral_type: bytes) -> None:
        self._check_authorized(sender)
        self.packed_parameters[collateral_type] = 0
        self.log("ParametersRemoved", collateral_type=collateral_type)

    def set_oracle(self, sender: str, collateral_type: bytes, oracle: str) -> None:
        self._check_authorized(sender)
        require(oracle != ZERO_ADDRESS, "margin: zero oracle")
        self.oracles[collateral_type] = oracle
        self.log("OracleSet", collateral_type=collateral_type, oracle=oracle)

    # ------------------------------------------------------------ owners

    def opt_in(self, sender: str) -> None:
        self.opted_in[sender] = True
        self.log("OptedIn", owner=sender)

    def opt_out(self, sender: str) -> None:
        self.opted_in[sender] = False
        self.log("OptedOut", owner=sender)

    # ------------------------------------------------------------ soft liquidation

    def soft_liquidate(
        self,
        sender: str,
        collateral_type: bytes,
        owner: str,
        normalized_debt: int,
        min_collateral: int,
    ) -> int:
        packed = self.packed_parameters[collateral_type]
        require(packed != 0, "margin: type not configured")
        require(self.opted_in[owner], "margin: owner not opted in")
        require(normalized_debt != 0, "margin: zero repay")
        price, exchange_price = self._prices(collateral_type)
        safe_price = self._safe_price(collateral_type, price)
        warning = packed >> WARNING_SHIFT
        rate, _ = self.engine.rate_and_debt(collateral_type)
        vault = self.engine.vaults[(collateral_type, owner)]
        require(
            self._called(
                collateral_type,
                vault.collateral,
                vault.normalized_debt * rate,
                safe_price,
                warning,
            ),
            "margin: not called",
        )
        require(
            normalized_debt <= vault.normalized_debt * (packed & FIELD_MASK) // WAD,
            "margin: above close factor",
        )
        debt = u256(normalized_debt * rate)
        collateral = u256(debt * (WAD + ((packed >> BONUS_SHIFT) & FIELD_MASK))) // u256(
            u256(exchange_price * WAD_TO_RAY) * WAD
        )
        require(collateral != 0, "margin: no collateral")
        require(collateral >= min_collateral, "margin: collateral below minimum")
        require(
            collateral <= vault.collateral
            and not self._called_or_unsafe(
                collateral_type,
                vault.collateral - collateral,
                (vault.normalized_debt - normalized_debt) * rate,
                safe_price,
                warning,
            ),
            "margin: still called",
        )
        self.engine.modify_vault(
            self.address,
            collateral_type,
            owner,
            sender,
            sender,
            neg(to_int256(collateral)),
            neg(to_int256(normalized_debt)),
        )
        value = u256(u256(collateral * exchange_price) * WAD_TO_RAY)
        bonus_value = value - debt if value > debt else 0
        self.log(
            "SoftLiquidated",
            collateral_type=collateral_type,
            owner=owner,
            caller=sender,
            normalized_debt=normalized_debt,
            debt=debt,
            collateral=collateral,
            price=exchange_price,
            bonus_value=bonus_value,
        )
        return collateral

    # ------------------------------------------------------------ views

    def parameters(self, collateral_type: bytes) -> tuple[int, int, int]:
        packed = self.packed_parameters[collateral_type]
        return packed >> WARNING_SHIFT, (packed >> BONUS_SHIFT) & FIELD_MASK, packed & FIELD_MASK

    def is_called(self, collateral_type: bytes, owner: str) -> bool:
        packed = self.packed_parameters[collateral_type]
        oracle_address = self.oracles[collateral_type]
        if packed == 0 or oracle_address == ZERO_ADDRESS:
            return False
        price, valid = self.at(oracle_address).peek()
        if not valid:
            return False
        rate, _ = self.engine.rate_and_debt(collateral_type)
        vault = self.engine.vaults[(collateral_type, owner)]
        return self._called(
            collateral_type,
            vault.collateral,
            vault.normalized_debt * rate,
            self._safe_price(collateral_type, price),
            packed >> WARNING_SHIFT,
        )

    def can_soft_liquidate(self, collateral_type: bytes, owner: str) -> bool:
        return self.opted_in[owner] and self.engine.can_act(owner, self.address)

    def max_repay(self, collateral_type: bytes, owner: str) -> int:
        vault = self.engine.vaults[(collateral_type, owner)]
        return vault.normalized_debt * (self.packed_parameters[collateral_type] & FIELD_MASK) // WAD

    def exchange_price(self, collateral_type: bytes) -> int:
        return self._prices(collateral_type)[1]

    # ------------------------------------------------------------ internal

    def _prices(self, collateral_type: bytes) -> tuple[int, int]:
        oracle_address = self.oracles[collateral_type]
        require(oracle_address != ZERO_ADDRESS, "margin: no oracle")
        oracle = self.at(oracle_address)
        price, valid = oracle.peek()
        require(valid, "margin: invalid price")
        return price, max(price, max(oracle.next_price, oracle.source_price))

    def _safe_price(self, collateral_type: bytes, price: int) -> int:
        ratio = self.at(self.spotter).liquidation_ratios[collateral_type]
        require(ratio != 0, "margin: no liquidation ratio")
        return u256(u256(price * WAD_TO_RAY) * RAY) // ratio

    def _margin_debt(self, collateral_type: bytes, debt: int) -> int:
        return self.engine.margin_debt(collateral_type, debt)

    @staticmethod
    def _warning_requirement(margin_debt: int, warning: int) -> int:
        return u256(
            u256(margin_debt // RAY * warning) + (margin_debt % RAY * warning + RAY - 1) // RAY
        )

    def _called(
        self, collateral_type: bytes, collateral: int, debt: int, safe_price: int, warning: int
    ) -> bool:
        margin_debt = self._margin_debt(collateral_type, debt)
        value = u256(collateral * safe_price)
        return margin_debt <= value and self._warning_requirement(margin_debt, warning) > value

    def _called_or_unsafe(
        self, collateral_type: bytes, collateral: int, debt: int, safe_price: int, warning: int
    ) -> bool:
        return self._warning_requirement(self._margin_debt(collateral_type, debt), warning) > u256(
            collateral * safe_price
        )
