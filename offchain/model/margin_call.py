"""Twin of contracts/MarginCall.vy: a margin call between the warning level and the liquidation
ratio, and the soft liquidation of a called vault whose owner opted in (part of its debt repaid
by anyone for its collateral at a bounded bonus, at most a close factor per call and at most the
least cure plus a tolerance, the vault ending above its warning level).

The margin call's formulas live here once, as pure functions (the twin's class below, the soft
liquidator, the notice bot, the fuzz machine and the Auditor call them): a vault's status
(`status`, `is_called`, `below_warning`), the exchange price, the collateral out, the end test
(`cures`), the least cure and the most a call may repay past it (`least_cure`, `cure_step`,
`most_accepted`). A type's parameters are a `MarginParameters`, its terms at a moment a
`MarginTerms`: named fields, no tuple indices. The Specification
(offchain/testing/specification/margin_call.py) is the independent rewrite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from offchain.model import size_margin as sizing
from offchain.model.errors import Revert, require
from offchain.model.fixed_point import RAY, WAD, WAD_TO_RAY, neg, to_int256, u256
from offchain.model.spotter import safe_price
from offchain.model.state import ZERO_ADDRESS, Authorized, Env
from offchain.model.vault_engine import VaultEngine

MAX_WARNING_FACTOR = 3 * RAY // 2
MAX_BONUS = WAD // 20
MAX_CLOSE_FACTOR = WAD // 2
# how far past the least cure a soft liquidation may repay: 1 bp of the repayment [wad]
CURE_TOLERANCE = WAD // 10_000
# the highest price the MarginCall computes with [wad]; above it a call is refused
MAX_PRICE = 10**36
# the most types with margin calls at once (contracts/MarginCall.vy MAX_TYPES)
MAX_TYPES = 32
# packed_parameters: warning factor [ray] << 128 | bonus [wad] << 64 | close factor [wad]
WARNING_SHIFT = 128
BONUS_SHIFT = 64
FIELD_MASK = 2**64 - 1

SAFE, CALLED, UNSAFE = "safe", "called", "unsafe"


# ---------------------------------------------------------------- the type's parameters


@dataclass(frozen=True)
class MarginParameters:
    """A type's margin-call parameters (all 0: the type has no margin calls)."""

    warning_factor: int  # ray
    bonus: int  # wad
    close_factor: int  # wad

    @classmethod
    def unpack(cls, packed: int) -> MarginParameters:
        """The parameters of a `packed_parameters` word."""
        return cls(
            packed >> WARNING_SHIFT, (packed >> BONUS_SHIFT) & FIELD_MASK, packed & FIELD_MASK
        )

    @classmethod
    def of(cls, triple: tuple[int, int, int] | list[int]) -> MarginParameters:
        """The parameters from the `parameters(type)` view's (warning, bonus, close factor)."""
        warning_factor, bonus, close_factor = triple
        return cls(warning_factor, bonus, close_factor)

    @property
    def active(self) -> bool:
        return self.warning_factor != 0


@dataclass(frozen=True)
class MarginTerms:
    """What a soft liquidation of a type is judged and priced by, at one moment."""

    parameters: MarginParameters
    rate: int  # ray
    safe_price: int  # ray: the oracle's current price over the Spotter's ratio
    exchange_price: int  # wad: the highest of the oracle's current, queued and latest prices
    size: int  # the engine's packed size margin (0: off)


# ---------------------------------------------------------------- the rules, pure


def exchange_price(current: int, queued: int, latest: int) -> int:
    """The price collateral is exchanged at [wad]: the highest the oracle knows."""
    return max(current, max(queued, latest))


def called_test_price(price: int, valid: bool, ratio: int) -> int:
    """The safe price the called test uses [ray]: the oracle's current price over the Spotter's
    ratio, 0 for an invalid price, a missing ratio or a price above MAX_PRICE (no vault is
    called then)."""
    return safe_price(price, ratio) if valid and ratio and price <= MAX_PRICE else 0


def collateral_out(debt: int, bonus: int, price: int) -> int:
    """floor(debt x (1 + bonus) / price) [wad] for `debt` [rad] at exchange price `price`
    [wad]: what a soft liquidation pays (down: the owner keeps the remainder)."""
    return u256(debt * (WAD + bonus)) // u256(u256(price * WAD_TO_RAY) * WAD)


def warning_requirement(margin_debt: int, warning: int) -> int:
    """ceil(margin debt x warning / RAY) [rad], computed as the contract does: q x warning +
    ceil(r x warning / RAY) for margin debt = q x RAY + r (exact)."""
    return u256(u256(margin_debt // RAY * warning) + (margin_debt % RAY * warning + RAY - 1) // RAY)


def below_warning(margin_debt: int, value: int, warning: int) -> bool:
    """Below the warning level (called, or unsafe): ceil(M x w / RAY) > collateral x safe
    price (`value` [rad])."""
    return warning_requirement(margin_debt, warning) > value


def is_called(margin_debt: int, value: int, warning: int) -> bool:
    """Safe at the liquidation ratio (M <= value), below the warning level."""
    return margin_debt <= value and below_warning(margin_debt, value, warning)


def status(collateral: int, debt: int, safe: int, size: int, warning: int) -> str:
    """UNSAFE, CALLED or SAFE for a vault with `collateral` [wad] and `debt` [rad] at safe price
    `safe` [ray], with the type's packed size margin `size` and warning factor `warning` [ray]
    (0: the type has no margin calls)."""
    margin = sizing.margin_debt(debt, size)
    value = collateral * safe
    if margin > value:
        return UNSAFE
    if warning and below_warning(margin, value, warning):
        return CALLED
    return SAFE


def close_factor_limit(normalized: int, close_factor: int) -> int:
    """The most normalized debt one call repays [wad], rounded down (the owner's side)."""
    return normalized * close_factor // WAD


def cure_step(n: int) -> int:
    """How much less than a repayment `n` must not cure the vault: max(1, floor(n x
    CURE_TOLERANCE / WAD)) [wad of normalized debt]."""
    return max(1, n * CURE_TOLERANCE // WAD)


def terms_out(terms: MarginTerms, n: int) -> int:
    """The collateral a soft liquidation of `n` normalized debt pays under `terms` [wad]."""
    return collateral_out(n * terms.rate, terms.parameters.bonus, terms.exchange_price)


def cures(terms: MarginTerms, collateral: int, normalized: int, n: int) -> bool:
    """The contract's end test: repaying `n` of a vault with `collateral` and `normalized` debt
    leaves it above its warning level (so also safe), the collateral covering the exchange.
    (The contract also asks that the collateral out be non-zero: `accepts`.)"""
    out = terms_out(terms, n)
    if out > collateral:
        return False
    margin = sizing.margin_debt((normalized - n) * terms.rate, terms.size)
    return not below_warning(
        margin, (collateral - out) * terms.safe_price, terms.parameters.warning_factor
    )


def repays_more_than_cure(terms: MarginTerms, collateral: int, normalized: int, n: int) -> bool:
    """The contract's refusal "margin: repays more than the cure": repaying cure_step(n) less
    would cure the vault too."""
    step = cure_step(n)
    return n > step and cures(terms, collateral, normalized, n - step)


def least_true(ok: Callable[[int], bool], low: int, high: int) -> int | None:
    """The least n in (low, high] with ok(n), for ok monotone (false then true); None if
    not ok(high). The one bisection of the margin call's keepers and fuzz."""
    if high <= low or not ok(high):
        return None
    while high - low > 1:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid
    return high


def least_cure(terms: MarginTerms, collateral: int, normalized: int, limit: int) -> int | None:
    """The least normalized debt in [1, limit] whose soft liquidation cures the vault and takes
    some collateral; None if none within `limit` does."""
    return least_true(
        lambda n: terms_out(terms, n) != 0 and cures(terms, collateral, normalized, n), 0, limit
    )


def most_accepted(cure: int, limit: int) -> int:
    """The most a call may repay on a vault whose least cure is `cure` (<= limit): the largest
    n <= limit with n - cure_step(n) < cure (n - cure_step(n) is non-decreasing, and below
    `cure` at n = cure)."""
    first_past = least_true(lambda n: n - cure_step(n) >= cure, cure, limit)
    return limit if first_past is None else first_past - 1


def middle_accepted(cure: int, most: int) -> int:
    """The middle of what a call may repay, between the least cure and the most accepted: a
    keeper that reads a vault and sends this survives the world moving either way before it is
    mined (fees accrued raise the cure; a wei of collateral locked into the vault lowers it), by
    half the tolerance each side. (Sent at either end, one public transaction in between refuses
    it: "margin: still called" or "margin: repays more than the cure".)"""
    return cure + (most - cure) // 2


def accepts(terms: MarginTerms, collateral: int, normalized: int, n: int) -> bool:
    """Whether the MarginCall's own tests pass a soft liquidation of `n` on a called vault
    (close factor, collateral out non-zero and covered, cured, not past the cure); the engine's
    checks (dust, the stored safe price, the consents) are the caller's to add."""
    if n == 0 or n > close_factor_limit(normalized, terms.parameters.close_factor):
        return False
    if terms_out(terms, n) == 0 or not cures(terms, collateral, normalized, n):
        return False
    return not repays_more_than_cure(terms, collateral, normalized, n)


class MarginCall(Authorized):
    def __init__(
        self, env: Env, address: str, deployer: str, engine: str, spotter: str, backstop: str
    ):
        super().__init__(env, address)
        require(backstop != ZERO_ADDRESS, "margin: zero backstop")
        self.engine: VaultEngine = self.at(engine)
        self.spotter = spotter
        self.backstop = backstop
        self.packed_parameters = self.storage(0)
        self.opted_in = self.storage(False)
        # the types with margin calls, as the contract's DynArray holds them (appended when set,
        # the last moved into a removed one's place)
        self.margin_types: list[bytes] = []
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
        # issue 63, finding 3: a deleveraging charge leaves a vault at (1 + buffer) x its
        # requirement, which must not be in the called band
        buffer = self.at(self.backstop).deleverage_buffer
        require(
            warning_factor <= RAY + buffer * WAD_TO_RAY,
            "margin: warning above the deleverage buffer",
        )
        if self.packed_parameters[collateral_type] == 0:
            require(len(self.margin_types) < MAX_TYPES, "margin: too many types")
            # (a new list: attribute writes are what a reverted transaction's journal undoes)
            self.margin_types = [*self.margin_types, collateral_type]
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
        if self.packed_parameters[collateral_type] != 0:
            types = list(self.margin_types)
            i = types.index(collateral_type)
            types[i] = types[-1]
            types.pop()
            self.margin_types = types
        self.packed_parameters[collateral_type] = 0
        self.log("ParametersRemoved", collateral_type=collateral_type)

    def highest_warning_factor(self) -> int:
        """The highest warning factor of the types with margin calls [ray]; 0 without."""
        return max(
            (self.packed_parameters[t] >> WARNING_SHIFT for t in self.margin_types), default=0
        )

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
        bonus = (packed >> BONUS_SHIFT) & FIELD_MASK
        collateral = collateral_out(debt, bonus, exchange_price)
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
        step = cure_step(normalized_debt)
        if normalized_debt > step:
            less = normalized_debt - step
            require(
                self._called_or_unsafe(
                    collateral_type,
                    vault.collateral - collateral_out(less * rate, bonus, exchange_price),
                    (vault.normalized_debt - less) * rate,
                    safe_price,
                    warning,
                ),
                "margin: repays more than the cure",
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
        p = MarginParameters.unpack(self.packed_parameters[collateral_type])
        return p.warning_factor, p.bonus, p.close_factor

    def is_called(self, collateral_type: bytes, owner: str) -> bool:
        packed = self.packed_parameters[collateral_type]
        oracle_address = self._oracle(collateral_type)
        if packed == 0 or oracle_address == ZERO_ADDRESS:
            return False
        price, valid = self.at(oracle_address).peek()
        if not valid or price > MAX_PRICE:
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
        return close_factor_limit(
            vault.normalized_debt, self.packed_parameters[collateral_type] & FIELD_MASK
        )

    def exchange_price(self, collateral_type: bytes) -> int:
        return self._prices(collateral_type)[1]

    # ------------------------------------------------------------ internal

    def _oracle(self, collateral_type: bytes) -> str:
        """The type's oracle: the Spotter's (read on every call)."""
        return self.at(self.spotter).oracles[collateral_type]

    def _prices(self, collateral_type: bytes) -> tuple[int, int]:
        oracle_address = self._oracle(collateral_type)
        require(oracle_address != ZERO_ADDRESS, "margin: no oracle")
        oracle = self.at(oracle_address)
        price, valid = oracle.peek()
        require(valid, "margin: invalid price")
        exchange = exchange_price(price, oracle.next_price, oracle.source_price)
        require(exchange <= MAX_PRICE, "margin: price above bound")
        return price, exchange

    def _safe_price(self, collateral_type: bytes, price: int) -> int:
        ratio = self.at(self.spotter).liquidation_ratios[collateral_type]
        require(ratio != 0, "margin: no liquidation ratio")
        return safe_price(price, ratio)

    def _margin_debt(self, collateral_type: bytes, debt: int) -> int:
        return self.engine.margin_debt(collateral_type, debt)

    def _called(
        self, collateral_type: bytes, collateral: int, debt: int, safe: int, warning: int
    ) -> bool:
        margin_debt = self._margin_debt(collateral_type, debt)
        return is_called(margin_debt, u256(collateral * safe), warning)

    def _called_or_unsafe(
        self, collateral_type: bytes, collateral: int, debt: int, safe: int, warning: int
    ) -> bool:
        return below_warning(
            self._margin_debt(collateral_type, debt), u256(collateral * safe), warning
        )


def twin_terms(margin_call: MarginCall, collateral_type: bytes) -> MarginTerms | None:
    """The terms the twin `margin_call` judges and prices a soft liquidation of the type by now
    (what its `soft_liquidate` reads, through its own `_prices` and `_safe_price`); None where
    it would refuse every call: no margin calls, no oracle or ratio, an invalid price or one
    above MAX_PRICE."""
    parameters = MarginParameters.unpack(margin_call.packed_parameters[collateral_type])
    if not parameters.active:
        return None
    try:
        price, exchange = margin_call._prices(collateral_type)
        safe = margin_call._safe_price(collateral_type, price)
    except Revert:
        return None
    engine = margin_call.engine
    rate, _ = engine.rate_and_debt(collateral_type)
    size = engine.size_margin_word(collateral_type)
    return MarginTerms(parameters, rate, safe, exchange, size)
