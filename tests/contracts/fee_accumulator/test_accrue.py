"""FeeAccumulator.accrue: the fee recipient is credited debt times the rate's increase, the
compounded rate is the exact value rounded up, and a full ceiling charges the multiplied fee.
Exact fee arithmetic: tests/contracts/support/fees_and_ceiling.py.
"""

from __future__ import annotations

import time
from fractions import Fraction

import pytest
from support.fees_and_ceiling import DAY, NEW_TYPE, YEAR
from support.fees_and_ceiling import assert_compounded_up as _assert_compounded_up
from support.fees_and_ceiling import collateral_type as _ctype
from support.fees_and_ceiling import effective_fee as _effective_fee
from support.fees_and_ceiling import fee_params as _fee_params
from support.fees_and_ceiling import open_eth_vault as _open_eth_vault
from support.fees_and_ceiling import set_debt_ceiling as _set_debt_ceiling
from support.fees_and_ceiling import stable as _stable

from offchain.backends import TX_GAS
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def _total_issued(system) -> int:
    on_chain = system.view(system.d.engine, "total_issued")
    assert on_chain == system.engine().total_issued
    return on_chain


def test_accrue__type_unknown_to_engine__reverts_in_engine(system):
    """The fee accumulator may know a type the engine does not; charging it fails in fold_rate."""
    r = system.roles
    system.tx(system.d.fees, "init_type", r.governance, NEW_TYPE)
    with reverts("engine: type not initialized"):
        system.tx(system.d.fees, "accrue", r.keeper, NEW_TYPE)


def test_accrue__after_a_year__credits_debt_times_rate_increase_to_fee_recipient(system):
    """Money flow: a year of ETH-A's 2% fee raises the rate; the fee recipient (the Backstop) is
    credited normalized_debt * (new_rate - old_rate) [rad] of new stable, and total_issued rises
    by the same amount (I1, I3)."""
    r, tid, fees = system.roles, system.eth.type_id, system.d.fees
    _open_eth_vault(system)
    before = _ctype(system, tid)
    last_accrual = _fee_params(system, tid).last_accrual
    recipient_before = _stable(system, system.d.backstop)
    issued_before = _total_issued(system)
    borrower_before = _stable(system, r.borrower)

    system.warp(YEAR)
    system.tx(fees, "accrue", r.keeper, tid)
    after = _ctype(system, tid)
    delta_rate = after.rate - before.rate
    fee_income = before.normalized_debt * delta_rate

    assert after.normalized_debt == before.normalized_debt == 5_000 * WAD
    assert delta_rate > 0
    assert _stable(system, system.d.backstop) == recipient_before + fee_income
    assert _total_issued(system) == issued_before + fee_income
    assert _stable(system, r.borrower) == borrower_before
    assert _events(system) == [
        (
            system.d.engine,
            "RateFolded",
            {
                "collateral_type": tid,
                "recipient": system.d.backstop,
                "delta_rate": delta_rate,
                "delta_stable": fee_income,
            },
        ),
        (
            fees,
            "Accrued",
            {
                "collateral_type": tid,
                "effective_fee": system.eth.config.base_fee,
                "rate": after.rate,
            },
        ),
    ]
    assert _fee_params(system, tid).last_accrual == system.now
    assert system.now - last_accrual >= YEAR
    # about 100 BUSD of fees on 5,000 BUSD of debt (2% of the debt at the old rate)
    assert 99 * RAD < fee_income < 101 * RAD


@pytest.mark.parametrize("seconds", [1, 2, 3, 59, DAY + 1, YEAR, 10 * YEAR + 7])
def test_accrue__compounded_rate__is_exact_value_rounded_up(system, seconds):
    """Money flow: the borrower's debt grows by the compounded fee; the protocol is never
    under-charged (the chain's rate is >= the 60-digit value) and over-charged by < ~N ulps."""
    r, tid = system.roles, system.eth.type_id
    _open_eth_vault(system)
    system.tx(system.d.fees, "accrue", r.keeper, tid)
    old_rate = _ctype(system, tid).rate
    start = system.now

    system.warp(seconds)
    system.tx(system.d.fees, "accrue", r.keeper, tid)
    assert system.now - start == seconds
    new_rate = _ctype(system, tid).rate
    _assert_compounded_up(new_rate, old_rate, system.eth.config.base_fee, seconds)
    if seconds == YEAR:
        # the configured per-second fee is 2%/yr rounded down to a ray: a year compounds to 1.02
        growth = Fraction(new_rate, old_rate)
        assert abs(growth - Fraction(102, 100)) < Fraction(1, 10**15)


def test_accrue__twice_in_the_same_block__second_charges_nothing(system):
    """Money flow: the first accrue credits the fee recipient; the second, mined in the same block
    (same timestamp), credits nothing and logs nothing. Both are sent with automine paused, so the
    harness's one-transaction-per-block Lockstep is driven by hand here, and compared by hand."""
    r, tid, fees = system.roles, system.eth.type_id, system.d.fees
    _open_eth_vault(system)
    system.warp(DAY)
    system.tx(fees, "accrue", r.keeper, tid)  # start from a fresh accrual, then let a day pass
    system.warp(DAY)
    block_time = system.now + DAY
    recipient_before = _stable(system, system.d.backstop)
    rate_before = _ctype(system, tid).rate

    chain, model = system.chain, system.model
    tx, _ = chain.call_data(fees, "accrue", tid)
    chain.rpc("evm_setAutomine", [False])
    try:
        send = {"from": r.keeper, **tx, "gas": hex(TX_GAS)}
        hashes = [chain.rpc("eth_sendTransaction", [send]) for _ in range(2)]
        chain.rpc("evm_mine", [])
    finally:
        chain.rpc("evm_setAutomine", [True])
    receipts = []
    for tx_hash in hashes:
        receipt = chain.rpc("eth_getTransactionReceipt", [tx_hash])
        deadline = time.monotonic() + 10
        while receipt is None and time.monotonic() < deadline:
            time.sleep(0.01)
            receipt = chain.rpc("eth_getTransactionReceipt", [tx_hash])
        receipts.append(receipt)
    chain.sync()

    model.transact(fees, "accrue", r.keeper, tid)  # mined at the time set by warp()
    first_model_events = list(model.last_events)
    model.block_interval = 0  # the second transaction shares the first one's block time
    try:
        model.transact(fees, "accrue", r.keeper, tid)
    finally:
        model.block_interval = 1
    second_model_events = list(model.last_events)

    assert [rc["status"] for rc in receipts] == ["0x1", "0x1"]
    assert receipts[0]["blockNumber"] == receipts[1]["blockNumber"]
    assert chain.last_block_time == model.last_block_time == block_time
    # the harness's own log decoder, as Lockstep would use it
    first_chain_events = [chain._decode_log(log) for log in receipts[0]["logs"]]
    assert first_chain_events == first_model_events
    assert [e.name for e in first_model_events] == ["RateFolded", "Accrued"]
    assert receipts[1]["logs"] == []
    assert second_model_events == []

    rate_after = _ctype(system, tid).rate
    assert first_model_events[1].args == {
        "collateral_type": tid,
        "rate": rate_after,
        "effective_fee": system.eth.config.base_fee,
    }
    assert rate_after > rate_before
    fee_income = 5_000 * WAD * (rate_after - rate_before)
    assert _stable(system, system.d.backstop) == recipient_before + fee_income
    assert _fee_params(system, tid).last_accrual == block_time


def test_accrue__uninitialized_type__reverts_not_initialized(system):
    with reverts("fees: type not initialized"):
        system.tx(system.d.fees, "accrue", system.roles.keeper, NEW_TYPE)


def test_accrue__at_a_full_ceiling__charges_the_multiplied_fee(system):
    """Money flow: with ETH-A's debt at its ceiling, a day's fee is charged at 1 + 3 * (base - 1)
    per second: three times the base fee's excess, credited to the fee recipient."""
    r, tid = system.roles, system.eth.type_id
    debt = _open_eth_vault(system)
    _set_debt_ceiling(system, tid, debt)
    base = system.eth.config.base_fee
    full_fee = RAY + 3 * (base - RAY)
    assert _effective_fee(system, tid) == full_fee
    system.tx(system.d.fees, "accrue", r.keeper, tid)
    old_rate = _ctype(system, tid).rate
    recipient_before = _stable(system, system.d.backstop)

    system.warp(DAY)
    system.tx(system.d.fees, "accrue", r.keeper, tid)
    new_rate = _ctype(system, tid).rate
    accrued = {"collateral_type": tid, "effective_fee": full_fee, "rate": new_rate}
    assert system.events[-1].args == accrued
    _assert_compounded_up(new_rate, old_rate, full_fee, DAY)
    assert _stable(system, system.d.backstop) == recipient_before + 5_000 * WAD * (
        new_rate - old_rate
    )
