"""The model's transaction semantics: a reverted call leaves no trace, like a reverted tx."""

from __future__ import annotations

import copy

import pytest

from offchain.backends import ModelBackend, create_address
from offchain.errors import Revert
from offchain.fixed_point import RAY, WAD, add_signed, div_up, rpow_up, u256

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
    before = copy.deepcopy((dict(e.collateral), dict(e.vaults), e.total_issued, len(model.env.logs)))
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


def test_rpow_up__rounds_up_and_is_exact_for_trivial_cases():
    assert rpow_up(RAY, 10**9) == RAY
    assert rpow_up(2 * RAY, 10) == 1024 * RAY
    x = RAY + 123_456_789
    assert rpow_up(x, 3) >= x**3 // RAY**2
