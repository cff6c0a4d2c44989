"""The specification of a soft liquidation (contracts/MarginCall.vy), written plainly. This is the
deliberate independent rewrite of the margin call: it never imports the model's margin-call
arithmetic (offchain/model/margin_call.py, the one home the twin, keepers and fuzz share); its
floor and ceil are written here, its constants restated from the contract.

The result: the vault was called (safe at the price of the Spotter's oracle over the
liquidation ratio, below its warning level) and its owner consented twice; at most the close
factor was repaid, exactly normalized debt x rate; the caller got floor(debt x (1 + bonus) / the
highest price the oracle knows), that price at most 1e36; the vault ends above its warning level
with its debt 0 or at least dust.

The bound: a soft liquidation's bonus is at most the bonus on the least cure plus the
tolerance. Checked as: repaying step = max(1, floor(n x 1 bp)) less than the n repaid would have
left the vault below its warning level, so n < least cure + step (the end test is monotone in
what is repaid: docs/margin-call.md), and the collateral the caller got above the debt's worth
is at most the bonus on the least cure plus 1 bp of the repayment (or 1 wei of normalized
debt).

And the refusals: "margin: not called", "margin: still called", "margin: repays more than the
cure", "margin: above close factor", "margin: price above bound" and "margin: owner not opted in"
only when the state before says so."""

from __future__ import annotations

from typing import Any

from offchain.model.fixed_point import RAY, WAD, WAD_TO_RAY
from offchain.model.state import Event
from offchain.testing.specification.base import Before, SpecificationBase
from offchain.testing.specification.curves import ceil_div, margin_debt

# MarginCall's packed parameters: warning [ray] << 128 | bonus [wad] << 64 | close factor [wad]
_FIELD = 2**64 - 1
# restated from MarginCall.vy: how far past the least cure a call may repay (1 bp of the
# repayment) and the highest price it computes with (1e18 stablecoin per token) [wad]
_TOLERANCE = WAD // 10_000
_MAX_PRICE = 10**36


def _terms(spec: SpecificationBase, t: bytes) -> tuple[int, int, int, Any]:
    """(warning factor, bonus, close factor, the type's oracle: the Spotter's) from storage."""
    m = spec.c(spec.d.margin_call)
    packed = m.packed_parameters[t]
    oracle = spec.c(spec.d.spotter).oracles[t]
    return packed >> 128, (packed >> 64) & _FIELD, packed & _FIELD, oracle


def _prices(spec: SpecificationBase, t: bytes, oracle_address: str, now: int) -> tuple[int, int]:
    """(safe price [ray] the called test uses, exchange price [wad]); (0, 0) without a valid
    current price."""
    oracle = spec.c(oracle_address)
    current = oracle.current_price
    if current == 0 or now > oracle.current_time + oracle.max_age:
        return 0, 0
    ratio = spec.c(spec.d.spotter).liquidation_ratios[t]
    safe = current * WAD_TO_RAY * RAY // ratio
    return safe, max(current, oracle.next_price, oracle.source_price)


def _below_warning(collateral: int, debt: int, safe: int, warning: int, size: tuple) -> bool:
    """Below the warning level: ceil(margin debt x warning) above the collateral's value at the
    safe price (margin debt: the debt weighted by the type's size margin, as the engine's rule)."""
    return ceil_div(margin_debt(debt, size) * warning, RAY) > collateral * safe


def _called(collateral: int, debt: int, safe: int, warning: int, size: tuple) -> bool:
    return margin_debt(debt, size) <= collateral * safe and _below_warning(
        collateral, debt, safe, warning, size
    )


def _paid(n: int, rate: int, bonus: int, exchange: int) -> int:
    """The collateral for `n` normalized debt: floor(n x rate x (1 + bonus) / price) [wad]."""
    return n * rate * (WAD + bonus) // (exchange * WAD_TO_RAY * WAD)


def _step(n: int) -> int:
    """How much less than `n` must not cure: max(1, floor(n x 1 bp))."""
    return max(1, n * _TOLERANCE // WAD)


def _would_cure(vault: Any, n: int, rate: int, bonus: int, prices: tuple, warning: int, size):
    """Repaying `n` of `vault` would lift it to its warning level or above (the collateral
    covering the exchange)."""
    safe, exchange = prices
    out = _paid(n, rate, bonus, exchange)
    return out <= vault.collateral and not _below_warning(
        vault.collateral - out, (vault.normalized_debt - n) * rate, safe, warning, size
    )


def soft_liquidated(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    a = e.args
    t, owner, n = a["collateral_type"], a["owner"], a["normalized_debt"]
    if a["caller"] != pre.sender:
        return f"caller {a['caller']}, the transaction's sender is {pre.sender}"
    m = spec.c(spec.d.margin_call)
    if not m.opted_in[owner] or not pre.state["delegates"][(owner, spec.d.margin_call)]:
        return f"{owner} had not both opted in and allowed the MarginCall"
    warning, bonus, close_factor, oracle = _terms(spec, t)
    if warning == 0:
        return "the type has no margin calls"
    safe, exchange = _prices(spec, t, oracle, now)
    if exchange == 0:
        return "no valid current price"
    if a["price"] != exchange:
        return f"priced at {a['price']}, the highest oracle price is {exchange}"
    if exchange > _MAX_PRICE:
        return f"priced at {exchange}, above the bound {_MAX_PRICE}: should have been refused"
    rate = pre.state["ctypes"][t].rate
    before = pre.state["vaults"][(t, owner)]
    size = pre.state["size_margins"][t]
    if not _called(before.collateral, before.normalized_debt * rate, safe, warning, size):
        return f"{owner}'s vault was not called (collateral {before.collateral}, debt x rate)"
    if n == 0 or n > before.normalized_debt * close_factor // WAD:
        return f"repaid {n} of {before.normalized_debt}, close factor {close_factor}"
    debt = n * rate
    if a["debt"] != debt:
        return f"debt {a['debt']}, normalized debt x rate is {debt}"
    expected = debt * (WAD + bonus) // (exchange * WAD_TO_RAY * WAD)
    if a["collateral"] != expected:
        return (
            f"paid {a['collateral']} of collateral, floor(debt x (1 + bonus) / price) = {expected}"
        )
    after = spec.c(spec.d.engine).vaults[(t, owner)]
    if (after.collateral, after.normalized_debt) != (
        before.collateral - expected,
        before.normalized_debt - n,
    ):
        return (
            f"vault {tuple(after)}, expected the collateral and debt taken out of {tuple(before)}"
        )
    if _below_warning(after.collateral, after.normalized_debt * rate, safe, warning, size):
        return f"{owner}'s vault is still below its warning level"
    dust = pre.state["ctypes"][t].dust
    if 0 < after.normalized_debt * rate < dust:
        return f"{owner}'s vault left with debt below dust {dust}"
    value = expected * exchange * WAD_TO_RAY
    if a["bonus_value"] != max(0, value - debt):
        return f"bonus value {a['bonus_value']}, collateral x price - debt = {value - debt}"
    # the bound: the bonus is paid on the least cure (plus the tolerance), not on more
    step = _step(n)
    if n > step and _would_cure(before, n - step, rate, bonus, (safe, exchange), warning, size):
        return (
            f"repaid {n}, but {n - step} ({step} less) would have cured the vault: a bonus "
            "above the bonus on the least cure plus the tolerance"
        )
    return None


def _refused(spec: SpecificationBase, pre: Before) -> tuple | None:
    """The refused soft liquidation's (type, owner, normalized debt, vault, rate, terms, prices),
    None for another call or one without the prices a check needs."""
    if pre.function != "soft_liquidate" or pre.address != spec.d.margin_call:
        return None
    t, owner, n, _ = pre.args
    warning, bonus, close_factor, oracle = _terms(spec, t)
    safe, exchange = _prices(spec, t, oracle, spec.model.env.timestamp)
    if warning == 0 or exchange == 0:
        return None
    vault = pre.state["vaults"][(t, owner)]
    rate = pre.state["ctypes"][t].rate
    size = pre.state["size_margins"][t]
    return t, owner, n, vault, rate, (warning, bonus, close_factor), (safe, exchange), size


def _not_called(spec: SpecificationBase, pre: Before) -> str | None:
    refused = _refused(spec, pre)
    if refused is None:
        return None
    _, _, _, vault, rate, (warning, _, _), (safe, _), size = refused
    if _called(vault.collateral, vault.normalized_debt * rate, safe, warning, size):
        return "the vault was called"
    return None


def _called_within_limit(refused: tuple) -> str | None:
    """Why a refusal that comes after the called test and the close factor could not have come
    there: the vault was not called, or `n` was above the close factor (each refused first, with
    its own reason); None if both passed."""
    _, _, n, vault, rate, (warning, _, close_factor), (safe, _), size = refused
    if not _called(vault.collateral, vault.normalized_debt * rate, safe, warning, size):
        return "the vault was not called (refused first: not called)"
    if n > vault.normalized_debt * close_factor // WAD:
        return f"{n} was above the close factor (refused first)"
    return None


def _still_called(spec: SpecificationBase, pre: Before) -> str | None:
    refused = _refused(spec, pre)
    if refused is None:
        return None
    earlier = _called_within_limit(refused)
    if earlier is not None:
        return earlier
    _, _, n, vault, rate, (warning, bonus, _), (safe, exchange), size = refused
    out = n * rate * (WAD + bonus) // (exchange * WAD_TO_RAY * WAD)
    if out <= vault.collateral and not _below_warning(
        vault.collateral - out, (vault.normalized_debt - n) * rate, safe, warning, size
    ):
        return f"repaying {n} for {out} of collateral would have lifted it above its warning level"
    return None


def _repays_more_than_cure(spec: SpecificationBase, pre: Before) -> str | None:
    refused = _refused(spec, pre)
    if refused is None:
        return None
    earlier = _called_within_limit(refused)
    if earlier is not None:
        return earlier
    _, _, n, vault, rate, (warning, bonus, _), prices, size = refused
    step = _step(n)
    if n <= step or not _would_cure(vault, n - step, rate, bonus, prices, warning, size):
        return f"repaying {step} less than {n} would not have cured the vault"
    return None


def _price_above_bound(spec: SpecificationBase, pre: Before) -> str | None:
    refused = _refused(spec, pre)
    if refused is None:
        return None
    _, _, _, _, _, _, (_, exchange), _ = refused
    if exchange <= _MAX_PRICE:
        return f"the exchange price {exchange} was within the bound {_MAX_PRICE}"
    return None


def _above_close_factor(spec: SpecificationBase, pre: Before) -> str | None:
    refused = _refused(spec, pre)
    if refused is None:
        return None
    _, _, n, vault, _, (_, _, close_factor), _, _ = refused
    if n <= vault.normalized_debt * close_factor // WAD:
        return f"{n} was within the close factor of {vault.normalized_debt}"
    return None


def _not_opted_in(spec: SpecificationBase, pre: Before) -> str | None:
    if pre.function != "soft_liquidate" or pre.address != spec.d.margin_call:
        return None
    if spec.c(spec.d.margin_call).opted_in[pre.args[1]]:
        return "the owner had opted in"
    return None


def _no_collateral(spec: SpecificationBase, pre: Before) -> str | None:
    """Refused as taking no collateral: the debt x (1 + bonus) at the exchange price rounds to 0
    (found by the fuzz: such a repayment frees nothing, so the engine never asked the owner)."""
    refused = _refused(spec, pre)
    if refused is None:
        return None
    _, _, n, _, rate, (_, bonus, _), (_, exchange), _ = refused
    out = n * rate * (WAD + bonus) // (exchange * WAD_TO_RAY * WAD)
    if out != 0:
        return f"repaying {n} takes {out} of collateral"
    return None


def _warning_above_buffer(spec: SpecificationBase, pre: Before) -> str | None:
    """issue 63, finding 3: a warning factor above 1 + the Backstop's deleverage buffer."""
    if pre.function != "set_parameters":
        return None
    buffer = spec.c(spec.d.backstop).deleverage_buffer
    if pre.args[1] > 10**27 + buffer * 10**9:
        return None
    return f"warning factor {pre.args[1]} is at most 1 + the buffer {buffer}"


def _too_many_types(spec: SpecificationBase, pre: Before) -> str | None:
    if pre.function != "set_parameters":
        return None
    packed = spec.c(pre.address).packed_parameters
    configured = sum(1 for word in list(packed.values()) if word)
    if not packed[pre.args[0]] and configured >= 32:
        return None
    return f"{configured} types with margin calls, the type's own set: {bool(packed[pre.args[0]])}"


MARGIN_CALL_REVERT_CHECKS = {
    "margin: warning above the deleverage buffer": _warning_above_buffer,
    "margin: too many types": _too_many_types,
    "margin: no collateral": _no_collateral,
    "margin: not called": _not_called,
    "margin: still called": _still_called,
    "margin: repays more than the cure": _repays_more_than_cure,
    "margin: price above bound": _price_above_bound,
    "margin: above close factor": _above_close_factor,
    "margin: owner not opted in": _not_opted_in,
}
