"""FeeAccumulator.set_multiplier: fees due are charged at the old multiplier first; kink and
multiplier bounds. Exact fee arithmetic: tests/contracts/support/fees_and_ceiling.py.
"""

from __future__ import annotations

import pytest
from support.fees_and_ceiling import DAY, NEW_TYPE
from support.fees_and_ceiling import assert_compounded_up as _assert_compounded_up
from support.fees_and_ceiling import collateral_type as _ctype
from support.fees_and_ceiling import effective_fee as _effective_fee
from support.fees_and_ceiling import fee_params as _fee_params
from support.fees_and_ceiling import open_eth_vault as _open_eth_vault
from support.fees_and_ceiling import set_debt_ceiling as _set_debt_ceiling
from support.fees_and_ceiling import stable as _stable
from support.fees_and_ceiling import utilization_integral as _utilization_integral

from offchain.model.fixed_point import RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts

MAX_MULTIPLIER = 10 * WAD


def test_set_multiplier__charges_fees_due_at_old_multiplier_then_switches(system):
    """Money flow: at a full ceiling, a day at the multiplied fee (x3) is credited to the fee
    recipient before the multiplier is switched off; from then on the base fee applies."""
    r, tid, fees, cfg = system.roles, system.eth.type_id, system.d.fees, system.eth.config
    debt = _open_eth_vault(system)
    _set_debt_ceiling(system, tid, debt)
    system.tx(fees, "accrue", r.keeper, tid)
    rate_0, t_0 = _ctype(system, tid).rate, system.now
    recipient_0 = _stable(system, system.d.backstop)
    full_fee = RAY + 3 * (cfg.base_fee - RAY)

    system.warp(DAY)
    system.tx(fees, "set_multiplier", r.governance, tid, WAD // 2, WAD)
    rate_1 = _ctype(system, tid).rate
    assert [name for _, name, _ in _events(system)] == [
        "RateFolded",
        "Accrued",
        "FeeKinkSet",
        "MultiplierSet",
    ]
    assert _events(system)[1][2]["effective_fee"] == full_fee
    # the engine keeps the kink for its utilization integral
    assert _events(system)[2] == (
        system.d.engine,
        "FeeKinkSet",
        {"collateral_type": tid, "kink": WAD // 2},
    )
    assert _events(system)[3] == (
        fees,
        "MultiplierSet",
        {"collateral_type": tid, "kink": WAD // 2, "max_multiplier": WAD},
    )
    _assert_compounded_up(rate_1, rate_0, full_fee, system.now - t_0)
    assert _stable(system, system.d.backstop) == recipient_0 + 5_000 * WAD * (rate_1 - rate_0)
    assert tuple(_fee_params(system, tid)) == (
        cfg.base_fee,
        system.now,
        WAD // 2,
        WAD,
        _utilization_integral(system, tid),
    )
    # a multiplier of 1 means no rise even above the kink, at a full ceiling
    assert _effective_fee(system, tid) == cfg.base_fee


@pytest.mark.parametrize(
    "kink, max_multiplier", [(0, WAD), (WAD - 1, MAX_MULTIPLIER), (WAD // 2, 2 * WAD)]
)
def test_set_multiplier__bounds__accepted(system, kink, max_multiplier):
    r, tid = system.roles, system.eth.type_id
    system.tx(system.d.fees, "set_multiplier", r.governance, tid, kink, max_multiplier)
    params = _fee_params(system, tid)
    assert (params.kink, params.max_multiplier) == (kink, max_multiplier)


def test_set_multiplier__kink_at_one__reverts(system):
    with reverts("fees: kink not below 1"):
        system.tx(
            system.d.fees,
            "set_multiplier",
            system.roles.governance,
            system.eth.type_id,
            WAD,
            2 * WAD,
        )


def test_set_multiplier__multiplier_below_one__reverts(system):
    with reverts("fees: multiplier below 1"):
        system.tx(
            system.d.fees, "set_multiplier", system.roles.governance, system.eth.type_id, 0, WAD - 1
        )


def test_set_multiplier__multiplier_above_ten__reverts(system):
    with reverts("fees: multiplier above 10"):
        system.tx(
            system.d.fees,
            "set_multiplier",
            system.roles.governance,
            system.eth.type_id,
            0,
            MAX_MULTIPLIER + 1,
        )


def test_set_multiplier__uninitialized_type__reverts(system):
    with reverts("fees: type not initialized"):
        system.tx(system.d.fees, "set_multiplier", system.roles.governance, NEW_TYPE, 0, WAD)
