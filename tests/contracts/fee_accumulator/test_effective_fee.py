"""FeeAccumulator.effective_fee: the base fee up to the kink, base excess times the multiplier at a
full ceiling, strictly between in between, rounded up. Exact fee arithmetic:
tests/contracts/support/fees_and_ceiling.py.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from helpers import ceil_div
from support.fees_and_ceiling import collateral_type as _ctype
from support.fees_and_ceiling import effective_fee as _effective_fee
from support.fees_and_ceiling import open_eth_vault as _open_eth_vault
from support.fees_and_ceiling import set_debt_ceiling as _set_debt_ceiling

from offchain.model.fixed_point import RAY, WAD


def _fee_from_docstring(
    base_fee: int, kink: int, max_multiplier: int, debt: int, ceiling: int
) -> int:
    """FeeAccumulator's docstring formula in integers, each division rounded up [ray]:
    u = min(1, debt / ceiling); multiplier = 1 + (max - 1) * (u - kink) / (1 - kink) if u > kink;
    effective_fee = 1 + (base_fee - 1) * multiplier."""
    if ceiling == 0:
        utilization = WAD if debt else 0
    else:
        utilization = min(ceil_div(debt * WAD, ceiling), WAD)
    if base_fee == RAY or max_multiplier == WAD or utilization <= kink:
        return base_fee
    multiplier = WAD + ceil_div((max_multiplier - WAD) * (utilization - kink), WAD - kink)
    return RAY + ceil_div((base_fee - RAY) * multiplier, WAD)


@pytest.mark.parametrize("type_name", ["ETH-A", "WBTC-A"])
def test_effective_fee__at_or_below_kink__equals_base_fee(system, type_name):
    r, t = system.roles, system.d.types[type_name]
    collateral = 10 * WAD if type_name == "ETH-A" else 1 * WAD
    system.open_vault(r.borrower, type_name, collateral, 5_000 * WAD)
    ctype = _ctype(system, t.type_id)
    debt = ctype.normalized_debt * ctype.rate
    base, kink = t.config.base_fee, t.config.fee_kink
    # far below the kink (the deployed ceiling)
    assert debt * WAD < kink * ctype.debt_ceiling
    assert _effective_fee(system, t.type_id) == base
    # exactly at the kink: the smallest ceiling with debt / ceiling <= kink
    at_kink = ceil_div(debt * WAD, kink)
    _set_debt_ceiling(system, t.type_id, at_kink)
    assert ceil_div(debt * WAD, at_kink) == kink
    assert _effective_fee(system, t.type_id) == base
    # one rad of ceiling less: utilization (rounded up) is one wad-ulp above the kink; the
    # multiplier rises by (max - 1) / (1 - kink) wad-ulps (10 for both types), the fee by that
    # fraction of the base excess, rounded up (+7 ray-ulps for ETH-A, +13 for WBTC-A)
    _set_debt_ceiling(system, t.type_id, at_kink - 1)
    max_multiplier = t.config.fee_max_multiplier
    assert ceil_div(debt * WAD, at_kink - 1) == kink + 1
    just_above = _effective_fee(system, t.type_id)
    assert just_above == _fee_from_docstring(base, kink, max_multiplier, debt, at_kink - 1)
    step = ceil_div(max_multiplier - WAD, WAD - kink)
    assert step == 10
    assert just_above == base + ceil_div((base - RAY) * step, WAD)
    assert just_above == base + {"ETH-A": 7, "WBTC-A": 13}[type_name]


@pytest.mark.parametrize("type_name", ["ETH-A", "WBTC-A"])
def test_effective_fee__at_full_ceiling__is_base_excess_times_max_multiplier(system, type_name):
    r, t = system.roles, system.d.types[type_name]
    collateral = 10 * WAD if type_name == "ETH-A" else 1 * WAD
    system.open_vault(r.borrower, type_name, collateral, 5_000 * WAD)
    ctype = _ctype(system, t.type_id)
    debt = ctype.normalized_debt * ctype.rate
    base, max_multiplier = t.config.base_fee, t.config.fee_max_multiplier
    full_fee = RAY + ceil_div((base - RAY) * max_multiplier, WAD)
    assert full_fee == RAY + (max_multiplier // WAD) * (base - RAY)  # 3 (ETH-A) or 2 (WBTC-A)

    _set_debt_ceiling(system, t.type_id, debt)
    assert _effective_fee(system, t.type_id) == full_fee
    # a ceiling below the debt caps the utilization at 1
    _set_debt_ceiling(system, t.type_id, debt // 2)
    assert _effective_fee(system, t.type_id) == full_fee


def test_effective_fee__between_kink_and_full_ceiling__lies_strictly_between(system):
    tid, cfg = system.eth.type_id, system.eth.config
    debt = _open_eth_vault(system)
    ceiling = debt * 10 // 9  # utilization ~0.9: halfway between the kink (0.8) and 1
    _set_debt_ceiling(system, tid, ceiling)
    base = cfg.base_fee
    full_fee = RAY + 3 * (base - RAY)
    fee = _effective_fee(system, tid)
    assert base < fee < full_fee
    assert fee == _fee_from_docstring(base, cfg.fee_kink, cfg.fee_max_multiplier, debt, ceiling)
    # against the exact rational formula: rounded up, by at most the round-ups can add (the
    # utilization's < 1 wad-ulp amplified by (max - 1) / (1 - kink), the multiplier's < 1 wad-ulp,
    # the fee's < 1 ray-ulp)
    u = Fraction(debt, ceiling)
    kink, max_m = Fraction(cfg.fee_kink, WAD), Fraction(cfg.fee_max_multiplier, WAD)
    exact = RAY + (base - RAY) * (1 + (max_m - 1) * (u - kink) / (1 - kink))
    slack = Fraction(base - RAY, WAD) * ((max_m - 1) / (1 - kink) + 1) + 1
    assert 0 <= fee - exact < slack
    assert abs(u - Fraction(9, 10)) < Fraction(1, 10**30)
    assert abs(Fraction(fee - RAY, base - RAY) - 2) < Fraction(1, 10**15)  # multiplier ~2


def test_effective_fee__fractional_multiplier__rounds_up(system):
    """max_multiplier = 1 wad + 1: at a full ceiling the excess (~6.3e17 ray) times 1e-18 is a
    fraction of an ulp, charged as one whole ulp."""
    r, tid, cfg = system.roles, system.eth.type_id, system.eth.config
    debt = _open_eth_vault(system)
    _set_debt_ceiling(system, tid, debt)
    system.tx(system.d.fees, "set_multiplier", r.governance, tid, cfg.fee_kink, WAD + 1)
    assert 0 < cfg.base_fee - RAY < WAD
    assert _effective_fee(system, tid) == cfg.base_fee + 1


def test_effective_fee__zero_ceiling__is_full_with_debt_and_base_without(system):
    tid, base = system.eth.type_id, system.eth.config.base_fee
    _set_debt_ceiling(system, system.btc.type_id, 0)
    assert _ctype(system, system.btc.type_id).normalized_debt == 0
    assert _effective_fee(system, system.btc.type_id) == system.btc.config.base_fee
    _open_eth_vault(system)
    _set_debt_ceiling(system, tid, 0)
    assert _effective_fee(system, tid) == RAY + 3 * (base - RAY)
