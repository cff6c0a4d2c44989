"""The model's transaction semantics: a reverted call leaves no trace, like a reverted tx."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.backends import ModelBackend, create_address
from offchain.model.errors import Revert
from offchain.model.fixed_point import (
    MAX_UINT256,
    RAY,
    WAD,
    add_signed,
    div_up,
    rmul_up,
    rpow_up,
    u256,
)

GOV = "0x" + "11" * 20
USER = "0x" + "22" * 20
ETH = b"ETH-A".ljust(32, b"\0")


def _engine_with_type():
    model = ModelBackend(start_time=1_000)
    engine = model.deploy("VaultEngine", GOV)
    model.transact(engine, "init_type", GOV, ETH)
    return model, engine


def test_reverted_model_call__rolls_back_every_write_and_event():
    model, engine = _engine_with_type()
    e = model.contract(engine)
    e.collateral[(ETH, USER)] = 5 * WAD
    before = copy.deepcopy(
        (dict(e.collateral), dict(e.vaults), e.total_issued, len(model.env.logs))
    )
    # locks collateral (writes) and then fails the safety check: nothing may remain
    with pytest.raises(Revert) as exc:
        model.transact(engine, "modify_vault", USER, ETH, USER, USER, USER, 5 * WAD, WAD)
    assert exc.value.reason == "engine: type ceiling exceeded"
    assert (dict(e.collateral), dict(e.vaults), e.total_issued, len(model.env.logs)) == before


def test_reverted_model_call__still_mines_a_block_and_uses_the_nonce():
    model, engine = _engine_with_type()
    t0, nonce = model.last_block_time, model.nonces[USER] if USER in model.nonces else 0
    with pytest.raises(Revert):
        model.transact(engine, "init_type", USER, ETH)
    assert model.last_block_time == t0 + 1
    assert model.nonces[USER] == nonce + 1


def test_create_address__matches_the_known_first_anvil_deployment():
    anvil_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert create_address(anvil_0, 0) == "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_arithmetic__overflow_and_underflow_revert_without_reason():
    with pytest.raises(Revert) as exc:
        u256(2**256)
    assert exc.value.reason is None
    with pytest.raises(Revert):
        add_signed(1, -2)
    with pytest.raises(Revert):
        div_up(1, 0)


def _outcome(f, *args):
    try:
        return f(*args)
    except Revert as exc:
        return ("revert", exc.reason)


_WORD = st.one_of(
    st.integers(0, MAX_UINT256),
    st.integers(0, 10**40),
    st.integers(-10, -1),
    st.sampled_from([0, 1, RAY - 1, RAY, RAY + 1, MAX_UINT256 // RAY, MAX_UINT256]),
)


@settings(max_examples=500, deadline=None)
@given(x=_WORD, y=_WORD)
def test_rmul_up__written_out__equals_div_up_of_the_checked_product(x, y):
    # rmul_up inlines div_up(u256(x * y), RAY): same value, same revert, for any operands
    assert _outcome(rmul_up, x, y) == _outcome(lambda a, b: div_up(u256(a * b), RAY), x, y)


def test_rpow_up__rounds_up_and_is_exact_for_trivial_cases():
    assert rpow_up(RAY, 10**9) == RAY
    assert rpow_up(2 * RAY, 10) == 1024 * RAY
    x = RAY + 123_456_789
    assert rpow_up(x, 3) >= x**3 // RAY**2
