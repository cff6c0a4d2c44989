"""FeeAccumulator.set_base_fee: fees due are charged at the old fee first; bounds one ray and the
maximum. Exact fee arithmetic: tests/contracts/support/fees_and_ceiling.py.
"""

from __future__ import annotations

from decimal import Decimal

from support.fees_and_ceiling import DAY, NEW_TYPE, YEAR
from support.fees_and_ceiling import assert_compounded_up as _assert_compounded_up
from support.fees_and_ceiling import collateral_type as _ctype
from support.fees_and_ceiling import effective_fee as _effective_fee
from support.fees_and_ceiling import exact_compounded as _exact_compounded
from support.fees_and_ceiling import fee_params as _fee_params
from support.fees_and_ceiling import open_eth_vault as _open_eth_vault
from support.fees_and_ceiling import stable as _stable
from support.fees_and_ceiling import utilization_integral as _utilization_integral

from offchain.model.fixed_point import RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts

# contracts/FeeAccumulator.vy: the highest base fee (~1000%/yr) [ray] and multiplier [wad]
MAX_BASE_FEE = 1000000076036763191000000000


def test_set_base_fee__charges_fees_due_at_old_fee_then_switches(system):
    """Money flow: 30 days at the old 2% fee are credited to the fee recipient before the fee
    changes to 4%; the next 30 days are charged at 4%."""
    r, tid, fees = system.roles, system.eth.type_id, system.d.fees
    _open_eth_vault(system)
    old_fee, new_fee = system.eth.config.base_fee, system.btc.config.base_fee
    system.tx(fees, "accrue", r.keeper, tid)
    rate_0, t_0 = _ctype(system, tid).rate, system.now
    recipient_0 = _stable(system, system.d.backstop)

    system.warp(30 * DAY)
    system.tx(fees, "set_base_fee", r.governance, tid, new_fee)
    rate_1 = _ctype(system, tid).rate
    assert _events(system) == [
        (
            system.d.engine,
            "RateFolded",
            {
                "collateral_type": tid,
                "recipient": system.d.backstop,
                "delta_rate": rate_1 - rate_0,
                "delta_stable": 5_000 * WAD * (rate_1 - rate_0),
            },
        ),
        (fees, "Accrued", {"collateral_type": tid, "effective_fee": old_fee, "rate": rate_1}),
        (fees, "BaseFeeSet", {"collateral_type": tid, "base_fee": new_fee}),
    ]
    _assert_compounded_up(rate_1, rate_0, old_fee, system.now - t_0)
    assert rate_1 < _exact_compounded(rate_0, new_fee, system.now - t_0)  # not at the new fee
    assert _stable(system, system.d.backstop) == recipient_0 + 5_000 * WAD * (rate_1 - rate_0)
    assert tuple(_fee_params(system, tid)) == (
        new_fee,
        system.now,
        system.eth.config.fee_kink,
        system.eth.config.fee_max_multiplier,
        _utilization_integral(system, tid),
    )
    assert _effective_fee(system, tid) == new_fee
    t_1 = system.now

    system.warp(30 * DAY)
    system.tx(fees, "accrue", r.keeper, tid)
    rate_2 = _ctype(system, tid).rate
    assert system.events[-1].args["effective_fee"] == new_fee
    _assert_compounded_up(rate_2, rate_1, new_fee, system.now - t_1)


def test_set_base_fee__bounds__one_ray_and_max_accepted(system):
    r, tid = system.roles, system.eth.type_id
    system.tx(system.d.fees, "set_base_fee", r.governance, tid, MAX_BASE_FEE)
    assert _fee_params(system, tid).base_fee == MAX_BASE_FEE
    # ~1000% a year at most
    yearly = _exact_compounded(RAY, MAX_BASE_FEE, YEAR) / RAY
    assert Decimal("10.9") < yearly < Decimal("11.1")
    system.tx(system.d.fees, "set_base_fee", r.governance, tid, RAY)
    assert _fee_params(system, tid).base_fee == RAY
    assert system.events[-1].args == {"collateral_type": tid, "base_fee": RAY}


def test_set_base_fee__below_one_ray__reverts(system):
    with reverts("fees: fee below 1"):
        system.tx(
            system.d.fees, "set_base_fee", system.roles.governance, system.eth.type_id, RAY - 1
        )


def test_set_base_fee__above_max__reverts(system):
    with reverts("fees: fee too high"):
        system.tx(
            system.d.fees,
            "set_base_fee",
            system.roles.governance,
            system.eth.type_id,
            MAX_BASE_FEE + 1,
        )


def test_set_base_fee__uninitialized_type__reverts(system):
    with reverts("fees: type not initialized"):
        system.tx(system.d.fees, "set_base_fee", system.roles.governance, NEW_TYPE, RAY)
