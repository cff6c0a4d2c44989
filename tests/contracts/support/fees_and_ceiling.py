"""FeeAccumulator and CeilingManager tests' readers, exact fee arithmetic and steps
(tests/contracts/fee_accumulator/, ceiling_manager/).

Fee arithmetic is checked three ways: against exact integers written from the contract's
docstring, against 60-digit Decimal / exact rational values (the chain must round up, never
under-charge, and by less than a derived bound), and chain against model by the harness.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from offchain.model.fixed_point import RAD, RAY, WAD

YEAR = 365 * 24 * 3600
DAY = 24 * 3600
# a type id neither the engine nor the fee accumulator nor the ceiling manager knows
NEW_TYPE = b"NEW-A".ljust(32, b"\0")


def collateral_type(system, type_id):
    """The engine's collateral type, read on chain and checked equal to the model."""
    on_chain = system.view(system.d.engine, "collateral_types", type_id)
    in_model = system.engine().collateral_types[type_id]
    assert on_chain == tuple(in_model)
    return in_model


def fee_params(system, type_id):
    """FeeAccumulator.fees(type) on chain, checked equal to the model."""
    on_chain = system.view(system.d.fees, "fees", type_id)
    in_model = system.contract(system.d.fees).fees[type_id]
    assert on_chain == tuple(in_model)
    return in_model


def ceiling_config(system, type_id):
    """CeilingManager.configs(type) on chain, checked equal to the model."""
    on_chain = system.view(system.d.ceiling, "configs", type_id)
    in_model = system.contract(system.d.ceiling).configs[type_id]
    assert on_chain == tuple(in_model)
    return in_model


def effective_fee(system, type_id) -> int:
    """FeeAccumulator.effective_fee(type): the view on chain, checked equal to the model's."""
    on_chain = system.view(system.d.fees, "effective_fee", type_id)
    assert on_chain == system.contract(system.d.fees).effective_fee(type_id)
    return on_chain


def utilization_integral(system, type_id) -> int:
    """The engine's stored utilization integral (VaultEngine.utilization_record >> 104) [wad x s],
    read on chain and checked equal to the model."""
    on_chain = system.view(system.d.engine, "utilization_record", type_id)
    assert on_chain == system.engine().utilization_record[type_id]
    return on_chain >> 104


def stable(system, who) -> int:
    on_chain = system.view(system.d.engine, "stable", who)
    assert on_chain == system.engine().stable[who]
    return on_chain


def authorized(system, address, who) -> bool:
    on_chain = system.view(address, "authorized", who)
    assert on_chain == system.contract(address).authorized[who]
    return on_chain


def exact_compounded(rate: int, fee: int, seconds: int) -> Decimal:
    """rate * (fee / ray) ** seconds, to 60 significant digits [ray]."""
    with localcontext() as ctx:
        ctx.prec = 60
        return Decimal(rate) * (Decimal(fee) / Decimal(RAY)) ** seconds


def assert_compounded_up(new_rate: int, old_rate: int, fee: int, seconds: int) -> None:
    """The chain's compounded rate is the exact value rounded up, by less than the round-ups add.

    rpow_up squares ~bit_length(n) times and multiplies as often, each time rounding up by < 1 ulp;
    a squaring doubles the relative error carried into it, so the round-ups add up to less than
    (n + 2 * bit_length(n) + 2) ulps of relative error (1 ulp = 1e-27; the last two cover the
    product with the old rate), plus 1 absolute ulp for its round-up. A year: ~3e-20 relative.
    """
    exact = exact_compounded(old_rate, fee, seconds)
    with localcontext() as ctx:
        ctx.prec = 60
        bound = Decimal(seconds + 2 * seconds.bit_length() + 2) * exact / Decimal(RAY) + 1
        excess = Decimal(new_rate) - exact
    assert excess >= 0, f"under-charged: chain {new_rate} < exact {exact}"
    assert excess < bound, f"over-charged by {excess} ulps (bound {bound})"


def open_eth_vault(system, debt: int = 5_000 * WAD) -> int:
    """Borrower locks 10 ETH and draws `debt` [wad normalized]; returns ETH-A's debt [rad]."""
    system.open_vault(system.roles.borrower, "ETH-A", 10 * WAD, debt)
    ctype = collateral_type(system, system.eth.type_id)
    return ctype.normalized_debt * ctype.rate


def set_debt_ceiling(system, type_id, ceiling: int) -> None:
    system.tx(system.d.engine, "set_debt_ceiling", system.roles.governance, type_id, ceiling)


ETH_MAX = 30_000_000 * RAD
ETH_GAP = 5_000_000 * RAD
ETH_COOLDOWN = 43_200
