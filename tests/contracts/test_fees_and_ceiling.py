"""FeeAccumulator and CeilingManager: every external function, on chain and in the model at once.

Fee arithmetic is checked three ways: against exact integers written from the contract's
docstring, against 60-digit Decimal / exact rational values (the chain must round up, never
under-charge, and by less than a derived bound), and chain against model by the harness.
"""

from __future__ import annotations

import time
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from helpers import ceil_div

from offchain.backends import TX_GAS
from offchain.model.errors import Revert
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts

# contracts/FeeAccumulator.vy: the highest base fee (~1000%/yr) [ray] and multiplier [wad]
MAX_BASE_FEE = 1000000076036763191000000000
MAX_MULTIPLIER = 10 * WAD
YEAR = 365 * 24 * 3600
DAY = 24 * 3600
# a type id neither the engine nor the fee accumulator nor the ceiling manager knows
NEW_TYPE = b"NEW-A".ljust(32, b"\0")


# ---------------------------------------------------------------- reading (chain == model)


def _ctype(system, type_id):
    """The engine's collateral type, read on chain and checked equal to the model."""
    on_chain = system.view(system.d.engine, "collateral_types", type_id)
    in_model = system.engine().collateral_types[type_id]
    assert on_chain == tuple(in_model)
    return in_model


def _fee_params(system, type_id):
    """FeeAccumulator.fees(type) on chain, checked equal to the model."""
    on_chain = system.view(system.d.fees, "fees", type_id)
    in_model = system.contract(system.d.fees).fees[type_id]
    assert on_chain == tuple(in_model)
    return in_model


def _ceiling_config(system, type_id):
    """CeilingManager.configs(type) on chain, checked equal to the model."""
    on_chain = system.view(system.d.ceiling, "configs", type_id)
    in_model = system.contract(system.d.ceiling).configs[type_id]
    assert on_chain == tuple(in_model)
    return in_model


def _effective_fee(system, type_id) -> int:
    """FeeAccumulator.effective_fee(type): the view on chain, checked equal to the model's."""
    on_chain = system.view(system.d.fees, "effective_fee", type_id)
    assert on_chain == system.contract(system.d.fees).effective_fee(type_id)
    return on_chain


def _utilization_integral(system, type_id) -> int:
    """The engine's stored utilization integral (VaultEngine.utilization_record >> 104) [wad x s],
    read on chain and checked equal to the model."""
    on_chain = system.view(system.d.engine, "utilization_record", type_id)
    assert on_chain == system.engine().utilization_record[type_id]
    return on_chain >> 104


def _stable(system, who) -> int:
    on_chain = system.view(system.d.engine, "stable", who)
    assert on_chain == system.engine().stable[who]
    return on_chain


def _total_issued(system) -> int:
    on_chain = system.view(system.d.engine, "total_issued")
    assert on_chain == system.engine().total_issued
    return on_chain


def _authorized(system, address, who) -> bool:
    on_chain = system.view(address, "authorized", who)
    assert on_chain == system.contract(address).authorized[who]
    return on_chain


# ---------------------------------------------------------------- independent arithmetic


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


def _exact_compounded(rate: int, fee: int, seconds: int) -> Decimal:
    """rate * (fee / ray) ** seconds, to 60 significant digits [ray]."""
    with localcontext() as ctx:
        ctx.prec = 60
        return Decimal(rate) * (Decimal(fee) / Decimal(RAY)) ** seconds


def _assert_compounded_up(new_rate: int, old_rate: int, fee: int, seconds: int) -> None:
    """The chain's compounded rate is the exact value rounded up, by less than the round-ups add.

    rpow_up squares ~bit_length(n) times and multiplies as often, each time rounding up by < 1 ulp;
    a squaring doubles the relative error carried into it, so the round-ups add up to less than
    (n + 2 * bit_length(n) + 2) ulps of relative error (1 ulp = 1e-27; the last two cover the
    product with the old rate), plus 1 absolute ulp for its round-up. A year: ~3e-20 relative.
    """
    exact = _exact_compounded(old_rate, fee, seconds)
    with localcontext() as ctx:
        ctx.prec = 60
        bound = Decimal(seconds + 2 * seconds.bit_length() + 2) * exact / Decimal(RAY) + 1
        excess = Decimal(new_rate) - exact
    assert excess >= 0, f"under-charged: chain {new_rate} < exact {exact}"
    assert excess < bound, f"over-charged by {excess} ulps (bound {bound})"


def _open_eth_vault(system, debt: int = 5_000 * WAD) -> int:
    """Borrower locks 10 ETH and draws `debt` [wad normalized]; returns ETH-A's debt [rad]."""
    system.open_vault(system.roles.borrower, "ETH-A", 10 * WAD, debt)
    ctype = _ctype(system, system.eth.type_id)
    return ctype.normalized_debt * ctype.rate


def _set_debt_ceiling(system, type_id, ceiling: int) -> None:
    system.tx(system.d.engine, "set_debt_ceiling", system.roles.governance, type_id, ceiling)


# ================================================================ FeeAccumulator


# ---------------------------------------------------------------- authorities


def test_fees_add_authority__lets_account_set_fees(system):
    r, fees = system.roles, system.d.fees
    assert not _authorized(system, fees, r.other)
    system.tx(fees, "add_authority", r.governance, r.other)
    assert _events(system) == [(fees, "AuthorityAdded", {"account": r.other})]
    assert _authorized(system, fees, r.other)
    system.tx(fees, "set_base_fee", r.other, system.eth.type_id, RAY)
    assert _fee_params(system, system.eth.type_id).base_fee == RAY


def test_fees_remove_authority__locks_account_out(system):
    r, fees = system.roles, system.d.fees
    system.tx(fees, "add_authority", r.governance, r.other)
    system.tx(fees, "remove_authority", r.governance, r.other)
    assert _events(system) == [(fees, "AuthorityRemoved", {"account": r.other})]
    assert not _authorized(system, fees, r.other)
    assert _authorized(system, fees, r.governance)
    with reverts("authorized: not authorized"):
        system.tx(fees, "set_base_fee", r.other, system.eth.type_id, RAY)


FEES_PRIVILEGED = {
    "add_authority": lambda s: (s.roles.stranger,),
    "remove_authority": lambda s: (s.roles.governance,),
    "init_type": lambda s: (NEW_TYPE,),
    "set_base_fee": lambda s: (s.eth.type_id, RAY),
    "set_multiplier": lambda s: (s.eth.type_id, 0, WAD),
    "set_fee_recipient": lambda s: (s.roles.stranger,),
}


@pytest.mark.parametrize("function", sorted(FEES_PRIVILEGED))
def test_fees_privileged_function__called_by_stranger__reverts_not_authorized(system, function):
    args = FEES_PRIVILEGED[function](system)
    with reverts("authorized: not authorized"):
        system.tx(system.d.fees, function, system.roles.stranger, *args)


def test_fees_constructor__zero_recipient__reverts_on_chain_and_in_model(system):
    """The constructor's check, deployed by hand on each backend (Lockstep.deploy stops at the
    chain's revert, before the model has run)."""
    for backend in (system.chain, system.model):
        with pytest.raises(Revert) as raised:
            backend.deploy("FeeAccumulator", system.roles.other, system.d.engine, ZERO_ADDRESS)
        assert raised.value.reason == "fees: zero recipient"
    assert system.chain.last_block_time == system.model.last_block_time


# ---------------------------------------------------------------- init_type


def test_init_type__starts_with_no_fee_and_no_multiplier(system):
    """Money flow: none; a type initialized here compounds at exactly 1 ray until a fee is set."""
    r, fees = system.roles, system.d.fees
    system.tx(system.d.engine, "init_type", r.governance, NEW_TYPE)
    system.tx(fees, "init_type", r.governance, NEW_TYPE)
    initialized_at = system.now
    assert _events(system) == [(fees, "TypeInitialized", {"collateral_type": NEW_TYPE})]
    # the engine's utilization integral starts at 0 (and a kink of 1 keeps it there)
    assert tuple(_fee_params(system, NEW_TYPE)) == (RAY, initialized_at, WAD, WAD, 0)
    assert _effective_fee(system, NEW_TYPE) == RAY

    system.warp(YEAR)
    system.tx(fees, "accrue", r.keeper, NEW_TYPE)
    assert _events(system) == [
        (
            system.d.engine,
            "RateFolded",
            {
                "collateral_type": NEW_TYPE,
                "recipient": system.d.backstop,
                "delta_rate": 0,
                "delta_stable": 0,
            },
        ),
        (fees, "Accrued", {"collateral_type": NEW_TYPE, "effective_fee": RAY, "rate": RAY}),
    ]
    assert _ctype(system, NEW_TYPE).rate == RAY
    assert _fee_params(system, NEW_TYPE).last_accrual == system.now


def test_init_type__twice__reverts_type_exists(system):
    with reverts("fees: type exists"):
        system.tx(system.d.fees, "init_type", system.roles.governance, system.eth.type_id)


def test_accrue__type_unknown_to_engine__reverts_in_engine(system):
    """The fee accumulator may know a type the engine does not; charging it fails in fold_rate."""
    r = system.roles
    system.tx(system.d.fees, "init_type", r.governance, NEW_TYPE)
    with reverts("engine: type not initialized"):
        system.tx(system.d.fees, "accrue", r.keeper, NEW_TYPE)


# ---------------------------------------------------------------- accrue


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


# ---------------------------------------------------------------- effective_fee (utilization)


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


# ---------------------------------------------------------------- set_base_fee


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


# ---------------------------------------------------------------- set_multiplier


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


# ---------------------------------------------------------------- set_fee_recipient


def test_set_fee_recipient__redirects_later_fees(system):
    """Money flow: after the switch, a month of ETH-A fees is credited to `other`, not to
    governance."""
    r, tid, fees = system.roles, system.eth.type_id, system.d.fees
    _open_eth_vault(system)
    system.tx(fees, "set_fee_recipient", r.governance, r.other)
    assert _events(system) == [(fees, "FeeRecipientSet", {"recipient": r.other})]
    assert system.view(fees, "fee_recipient") == system.contract(fees).fee_recipient == r.other
    rate_0 = _ctype(system, tid).rate
    governance_0, other_0 = _stable(system, system.d.backstop), _stable(system, r.other)

    system.warp(30 * DAY)
    system.tx(fees, "accrue", r.keeper, tid)
    rate_1 = _ctype(system, tid).rate
    assert system.events[0].args["recipient"] == r.other
    assert _stable(system, r.other) == other_0 + 5_000 * WAD * (rate_1 - rate_0)
    assert _stable(system, system.d.backstop) == governance_0


def test_set_fee_recipient__zero_address__reverts(system):
    with reverts("fees: zero recipient"):
        system.tx(system.d.fees, "set_fee_recipient", system.roles.governance, ZERO_ADDRESS)


# ================================================================ CeilingManager


ETH_MAX = 30_000_000 * RAD
ETH_GAP = 5_000_000 * RAD
ETH_COOLDOWN = 43_200


def test_deployed_ceiling_config__matches_devnet(system):
    cfg = system.eth.config
    configured = (cfg.ceiling_max, cfg.ceiling_gap, cfg.ceiling_cooldown)
    assert configured == (ETH_MAX, ETH_GAP, ETH_COOLDOWN)
    assert tuple(_ceiling_config(system, system.eth.type_id)) == (
        ETH_MAX,
        ETH_GAP,
        ETH_COOLDOWN,
        0,
        0,
        0,
    )


# ---------------------------------------------------------------- authorities


def test_ceiling_add_authority__lets_account_configure(system):
    r, ceiling = system.roles, system.d.ceiling
    assert not _authorized(system, ceiling, r.other)
    system.tx(ceiling, "add_authority", r.governance, r.other)
    assert _events(system) == [(ceiling, "AuthorityAdded", {"account": r.other})]
    assert _authorized(system, ceiling, r.other)
    system.tx(ceiling, "configure", r.other, system.eth.type_id, ETH_MAX, 1 * RAD, 0)
    assert _ceiling_config(system, system.eth.type_id).gap == 1 * RAD


def test_ceiling_remove_authority__locks_account_out(system):
    r, ceiling = system.roles, system.d.ceiling
    system.tx(ceiling, "add_authority", r.governance, r.other)
    system.tx(ceiling, "remove_authority", r.governance, r.other)
    assert _events(system) == [(ceiling, "AuthorityRemoved", {"account": r.other})]
    assert not _authorized(system, ceiling, r.other)
    with reverts("authorized: not authorized"):
        system.tx(ceiling, "configure", r.other, system.eth.type_id, ETH_MAX, ETH_GAP, 0)


CEILING_PRIVILEGED = {
    "add_authority": lambda s: (s.roles.stranger,),
    "remove_authority": lambda s: (s.roles.governance,),
    "configure": lambda s: (s.eth.type_id, 1 * RAD, 1 * RAD, 0),
    "remove": lambda s: (s.eth.type_id,),
}


@pytest.mark.parametrize("function", sorted(CEILING_PRIVILEGED))
def test_ceiling_privileged_function__called_by_stranger__reverts_not_authorized(system, function):
    args = CEILING_PRIVILEGED[function](system)
    with reverts("authorized: not authorized"):
        system.tx(system.d.ceiling, function, system.roles.stranger, *args)


# ---------------------------------------------------------------- configure


def test_configure__new_type__is_managed_once_the_engine_knows_it(system):
    r, ceiling = system.roles, system.d.ceiling
    system.tx(ceiling, "configure", r.governance, NEW_TYPE, 1_000 * RAD, 100 * RAD, 60)
    assert _events(system) == [
        (
            ceiling,
            "TypeConfigured",
            {
                "collateral_type": NEW_TYPE,
                "max_ceiling": 1_000 * RAD,
                "gap": 100 * RAD,
                "cooldown": 60,
            },
        )
    ]
    assert tuple(_ceiling_config(system, NEW_TYPE)) == (1_000 * RAD, 100 * RAD, 60, 0, 0, 0)
    with reverts("engine: type not initialized"):
        system.tx(ceiling, "update", r.keeper, NEW_TYPE)

    system.tx(system.d.engine, "init_type", r.governance, NEW_TYPE)
    system.tx(ceiling, "update", r.keeper, NEW_TYPE)
    assert _ctype(system, NEW_TYPE).debt_ceiling == 100 * RAD  # no debt: the ceiling is the gap
    # the rise opened a window based at the old ceiling (0)
    assert _ceiling_config(system, NEW_TYPE).last_increase == system.now
    assert _ceiling_config(system, NEW_TYPE).window_base == 0


def test_configure__existing_type__keeps_its_window(system):
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    debt = _open_eth_vault(system)
    _set_debt_ceiling(system, tid, 1_000_000 * RAD)
    system.tx(ceiling, "update", r.keeper, tid)
    raised_at = system.now

    system.tx(ceiling, "configure", r.governance, tid, ETH_MAX, 8_000_000 * RAD, ETH_COOLDOWN)
    config = tuple(_ceiling_config(system, tid))
    assert config == (
        ETH_MAX,
        8_000_000 * RAD,
        ETH_COOLDOWN,
        raised_at,
        1_000_000 * RAD,
        debt + ETH_GAP,
    )
    # the wider gap asks for a rise within the same window: up to its base + the new gap
    system.tx(ceiling, "update", r.keeper, tid)
    assert _ctype(system, tid).debt_ceiling == debt + 8_000_000 * RAD
    assert _ceiling_config(system, tid).last_increase == raised_at


def test_configure__gap_equal_to_max__accepted(system):
    r, tid = system.roles, system.eth.type_id
    system.tx(system.d.ceiling, "configure", r.governance, tid, 7 * RAD, 7 * RAD, 0)
    assert tuple(_ceiling_config(system, tid))[:3] == (7 * RAD, 7 * RAD, 0)


def test_configure__zero_max__reverts(system):
    with reverts("ceiling: zero max"):
        system.tx(
            system.d.ceiling, "configure", system.roles.governance, system.eth.type_id, 0, 0, 0
        )


def test_configure__zero_gap__reverts(system):
    with reverts("ceiling: zero gap"):
        system.tx(
            system.d.ceiling,
            "configure",
            system.roles.governance,
            system.eth.type_id,
            ETH_MAX,
            0,
            0,
        )


def test_configure__gap_above_max__reverts(system):
    with reverts("ceiling: gap above max"):
        system.tx(
            system.d.ceiling,
            "configure",
            system.roles.governance,
            system.eth.type_id,
            ETH_MAX,
            ETH_MAX + 1,
            0,
        )


# ---------------------------------------------------------------- remove


def test_remove__stops_managing_and_leaves_the_ceiling(system):
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    ceiling_before = _ctype(system, tid).debt_ceiling
    system.tx(ceiling, "remove", r.governance, tid)
    assert _events(system) == [(ceiling, "TypeRemoved", {"collateral_type": tid})]
    assert tuple(_ceiling_config(system, tid)) == (0, 0, 0, 0, 0, 0)
    assert _ctype(system, tid).debt_ceiling == ceiling_before == system.eth.config.debt_ceiling
    with reverts("ceiling: type not managed"):
        system.tx(ceiling, "update", r.keeper, tid)


def test_remove__unmanaged_type__reverts(system):
    with reverts("ceiling: type not managed"):
        system.tx(system.d.ceiling, "remove", system.roles.governance, NEW_TYPE)


# ---------------------------------------------------------------- update


def test_update__rise__moves_ceiling_to_debt_plus_gap(system):
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    debt = _open_eth_vault(system)
    _set_debt_ceiling(system, tid, 1_000_000 * RAD)
    system.tx(ceiling, "update", r.keeper, tid)
    assert debt + ETH_GAP < ETH_MAX
    assert _ctype(system, tid).debt_ceiling == debt + ETH_GAP
    assert _events(system) == [
        (system.d.engine, "DebtCeilingSet", {"collateral_type": tid, "new_value": debt + ETH_GAP}),
        (
            ceiling,
            "CeilingUpdated",
            {"collateral_type": tid, "old_ceiling": 1_000_000 * RAD, "new_ceiling": debt + ETH_GAP},
        ),
    ]
    assert _ceiling_config(system, tid).last_increase == system.now


def test_update__rise__is_capped_at_max_ceiling(system):
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    debt = _open_eth_vault(system)
    system.tx(
        ceiling, "configure", r.governance, tid, 5_000_000 * RAD, 5_000_000 * RAD, ETH_COOLDOWN
    )
    _set_debt_ceiling(system, tid, 1_000_000 * RAD)
    system.tx(ceiling, "update", r.keeper, tid)
    assert debt + 5_000_000 * RAD > 5_000_000 * RAD
    assert _ctype(system, tid).debt_ceiling == 5_000_000 * RAD
    assert system.events[-1].args["new_ceiling"] == 5_000_000 * RAD


def test_update__fall__applies_at_once_without_a_cooldown(system):
    """The deployed ETH-A ceiling (20M) is above debt + gap (5M, no debt): it falls at the first
    update, called by a stranger (update is permissionless)."""
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    assert _ctype(system, tid).normalized_debt == 0
    system.tx(ceiling, "update", r.stranger, tid)
    assert _ctype(system, tid).debt_ceiling == ETH_GAP
    assert _events(system)[-1] == (
        ceiling,
        "CeilingUpdated",
        {"collateral_type": tid, "old_ceiling": 20_000_000 * RAD, "new_ceiling": ETH_GAP},
    )
    assert _ceiling_config(system, tid).last_increase == 0  # a fall is not an increase


def test_update__fall_within_cooldown_of_a_rise__applies_at_once(system):
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    debt = _open_eth_vault(system)
    _set_debt_ceiling(system, tid, 1_000_000 * RAD)
    system.tx(ceiling, "update", r.keeper, tid)
    raised_at = system.now

    _set_debt_ceiling(system, tid, ETH_MAX)
    system.tx(ceiling, "update", r.keeper, tid)
    assert system.now < raised_at + ETH_COOLDOWN
    assert _ctype(system, tid).debt_ceiling == debt + ETH_GAP
    assert _events(system)[-1] == (
        ceiling,
        "CeilingUpdated",
        {"collateral_type": tid, "old_ceiling": ETH_MAX, "new_ceiling": debt + ETH_GAP},
    )
    assert _ceiling_config(system, tid).last_increase == raised_at


def test_update__rise_within_a_window__is_capped_at_its_base_plus_gap_until_it_ends(system):
    """A window opens with the first rise, based at the ceiling then; within it the ceiling
    rises (any number of times) to at most base + gap; the next rise after it ends opens a new
    window at the ceiling of that moment."""
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    debt = _open_eth_vault(system)
    # governance puts the ceiling below the debt: the next rise's window is based there
    _set_debt_ceiling(system, tid, 1_000 * RAD)
    system.tx(ceiling, "update", r.keeper, tid)
    opened_at = system.now
    assert _ceiling_config(system, tid).window_base == 1_000 * RAD
    assert _ctype(system, tid).debt_ceiling == 1_000 * RAD + ETH_GAP  # < debt + gap
    assert _events(system)[-1] == (
        ceiling,
        "CeilingUpdated",
        {"collateral_type": tid, "old_ceiling": 1_000 * RAD, "new_ceiling": 1_000 * RAD + ETH_GAP},
    )

    # the last second of the window: the cap holds, nothing happens
    system.warp(opened_at + ETH_COOLDOWN - 1 - system.now)
    system.tx(ceiling, "update", r.keeper, tid)
    assert system.now == opened_at + ETH_COOLDOWN - 1
    assert _events(system) == []
    assert _ctype(system, tid).debt_ceiling == 1_000 * RAD + ETH_GAP
    assert _ceiling_config(system, tid).last_increase == opened_at

    # the window has ended: a new one opens at the current ceiling and the rise goes through
    system.tx(ceiling, "update", r.keeper, tid)
    assert system.now == opened_at + ETH_COOLDOWN
    assert _ctype(system, tid).debt_ceiling == debt + ETH_GAP
    assert _events(system)[-1] == (
        ceiling,
        "CeilingUpdated",
        {
            "collateral_type": tid,
            "old_ceiling": 1_000 * RAD + ETH_GAP,
            "new_ceiling": debt + ETH_GAP,
        },
    )
    assert tuple(_ceiling_config(system, tid))[3:] == (
        system.now,
        1_000 * RAD + ETH_GAP,
        debt + ETH_GAP,
    )


def test_update__several_rises_within_a_window__follow_the_debt(system):
    """Within a window the ceiling follows debt + gap up as often as asked (not once per
    cooldown), as long as it stays within base + gap."""
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    _set_debt_ceiling(system, tid, 20_000 * RAD)
    system.tx(ceiling, "configure", r.governance, tid, ETH_MAX, 10_000 * RAD, ETH_COOLDOWN)
    system.tx(ceiling, "update", r.keeper, tid)  # no debt: falls to the gap at once
    assert _ctype(system, tid).debt_ceiling == 10_000 * RAD
    debt = _open_eth_vault(system, 5_000 * WAD)
    system.tx(ceiling, "update", r.keeper, tid)  # opens a window based at 10,000
    assert _ctype(system, tid).debt_ceiling == debt + 10_000 * RAD
    system.tx(
        system.d.engine,
        "modify_vault",
        r.borrower,
        tid,
        r.borrower,
        r.borrower,
        r.borrower,
        0,
        2_000 * WAD,
    )
    system.tx(ceiling, "update", r.keeper, tid)  # within the window: follows the debt
    assert (
        _ctype(system, tid).debt_ceiling
        == _ctype(system, tid).normalized_debt * (_ctype(system, tid).rate) + 10_000 * RAD
    )
    system.tx(
        system.d.engine,
        "modify_vault",
        r.borrower,
        tid,
        r.borrower,
        r.borrower,
        r.borrower,
        0,
        4_000 * WAD,
    )
    system.tx(ceiling, "update", r.keeper, tid)  # and up to the window's base + gap
    assert _ctype(system, tid).debt_ceiling == 20_000 * RAD
    assert _ceiling_config(system, tid).window_base == 10_000 * RAD


def test_update__at_target__does_nothing(system):
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    system.tx(ceiling, "update", r.keeper, tid)  # falls to the gap
    system.warp(ETH_COOLDOWN)
    system.tx(ceiling, "update", r.keeper, tid)
    assert _events(system) == []
    assert _ctype(system, tid).debt_ceiling == ETH_GAP
    assert _ceiling_config(system, tid).last_increase == 0


def test_update__follows_debt_drawn_after_a_rise(system):
    """Money flow: the borrower draws more stable; after the cooldown the ceiling follows the new
    debt (the engine's I3 debt: normalized debt times rate)."""
    r, tid, ceiling = system.roles, system.eth.type_id, system.d.ceiling
    _open_eth_vault(system)
    _set_debt_ceiling(system, tid, 1_000_000 * RAD)
    system.tx(ceiling, "update", r.keeper, tid)
    system.tx(
        system.d.engine,
        "modify_vault",
        r.borrower,
        tid,
        r.borrower,
        r.borrower,
        r.borrower,
        0,
        1_000 * WAD,
    )
    ctype = _ctype(system, tid)
    assert ctype.normalized_debt == 6_000 * WAD
    system.warp(ETH_COOLDOWN)
    system.tx(ceiling, "update", r.keeper, tid)
    assert _ctype(system, tid).debt_ceiling == ctype.normalized_debt * ctype.rate + ETH_GAP


def test_update__unmanaged_type__reverts(system):
    with reverts("ceiling: type not managed"):
        system.tx(system.d.ceiling, "update", system.roles.keeper, NEW_TYPE)
