"""CollateralJoin's getters and join: ERC-20 collateral in, credited to the engine in wad (an
8-decimal token scaled exactly), refused without allowance or balance, after shutdown or when the
engine does not authorize the join. Helpers: tests/contracts/support/joins.py.
"""

from __future__ import annotations

import pytest
from support.joins import (
    BTC_SCALE,
    MAX_UINT256,
    ONE_BTC,
    free_collateral,
    join_holdings,
    logs,
    mint_and_approve,
)

from offchain.model.fixed_point import WAD
from offchain.testing.harness import reverts


def test_collateral_join__getters__describe_engine_type_token_and_scale(system):
    r = system.roles
    for t, decimals, scale in ((system.btc, 8, BTC_SCALE), (system.eth, 18, 1)):
        assert system.view(t.join, "engine") == system.d.engine
        assert system.view(t.join, "collateral_type") == t.type_id
        assert system.view(t.join, "token") == t.token
        assert system.view(t.join, "decimals") == decimals
        assert system.view(t.join, "scale") == scale
        assert system.view(t.join, "live") is True
        assert system.view(t.join, "authorized", r.governance) is True
        assert system.view(t.join, "authorized", r.stranger) is False
        model = system.contract(t.join)
        assert (model.decimals, model.scale, model.live) == (decimals, scale, True)


def test_join__8_decimal_token__credits_engine_in_wad(system):
    """Money flow: borrower pays 1.5 WBTC (150_000_000 units) to the WBTC join and is credited
    1.5 wad of free WBTC-A collateral in the engine (units * 10**10); I5 holds exactly."""
    r, t = system.roles, system.btc
    amount = 150_000_000
    mint_and_approve(system, t, r.borrower, amount)
    held = join_holdings(system, t)

    system.tx(t.join, "join", r.borrower, r.borrower, amount)

    assert free_collateral(system, t, r.borrower) == 15 * 10**17 == amount * BTC_SCALE
    assert system.view(t.token, "balanceOf", r.borrower) == 0
    assert join_holdings(system, t) == held + amount
    assert system.view(t.token, "allowance", r.borrower, t.join) == 0
    assert logs(system) == [
        (
            system.d.engine,
            "CollateralModified",
            {"collateral_type": t.type_id, "account": r.borrower, "delta": amount * BTC_SCALE},
        ),
        (t.token, "Approval", {"owner": r.borrower, "spender": t.join, "value": 0}),
        (t.token, "Transfer", {"sender": r.borrower, "receiver": t.join, "value": amount}),
        (t.join, "Joined", {"account": r.borrower, "payer": r.borrower, "amount": amount}),
    ]


def test_join__for_another_account__payer_pays_and_account_is_credited(system):
    """Money flow: borrower pays 2 WBTC; `other` (not the payer) receives the 2 wad of engine
    collateral."""
    r, t = system.roles, system.btc
    mint_and_approve(system, t, r.borrower, 2 * ONE_BTC)

    system.tx(t.join, "join", r.borrower, r.other, 2 * ONE_BTC)

    assert free_collateral(system, t, r.other) == 2 * WAD
    assert free_collateral(system, t, r.borrower) == 0
    assert system.view(t.token, "balanceOf", r.borrower) == 0
    assert logs(system)[-1] == (
        t.join,
        "Joined",
        {"account": r.other, "payer": r.borrower, "amount": 2 * ONE_BTC},
    )


def test_join_then_exit__8_decimal_token__round_trips_exactly(system):
    """Money flow: borrower joins 1.23456789 WBTC and exits all of it: the same token units come
    back, the engine balance returns to zero, nothing is lost to the 10**10 scaling."""
    r, t = system.roles, system.btc
    amount = 123_456_789
    mint_and_approve(system, t, r.borrower, amount)
    held = join_holdings(system, t)
    system.tx(t.join, "join", r.borrower, r.borrower, amount)
    assert free_collateral(system, t, r.borrower) == 1_234_567_890_000_000_000

    system.tx(t.join, "exit", r.borrower, r.borrower, amount)

    assert free_collateral(system, t, r.borrower) == 0
    assert system.view(t.token, "balanceOf", r.borrower) == amount
    assert join_holdings(system, t) == held
    assert logs(system) == [
        (
            system.d.engine,
            "CollateralModified",
            {"collateral_type": t.type_id, "account": r.borrower, "delta": -amount * BTC_SCALE},
        ),
        (t.token, "Transfer", {"sender": t.join, "receiver": r.borrower, "value": amount}),
        (t.join, "Exited", {"account": r.borrower, "recipient": r.borrower, "amount": amount}),
    ]


def test_join__without_allowance__reverts_insufficient_allowance(system):
    r, t = system.roles, system.btc
    system.tx(t.token, "mint", r.governance, r.borrower, ONE_BTC)
    with reverts("erc20: insufficient allowance"):
        system.tx(t.join, "join", r.borrower, r.borrower, ONE_BTC)
    assert free_collateral(system, t, r.borrower) == 0


def test_join__more_than_token_balance__reverts_transfer_amount_exceeds_balance(system):
    r, t = system.roles, system.btc
    mint_and_approve(system, t, r.borrower, ONE_BTC, allowance=MAX_UINT256)
    with reverts("erc20: transfer amount exceeds balance"):
        system.tx(t.join, "join", r.borrower, r.borrower, ONE_BTC + 1)
    assert free_collateral(system, t, r.borrower) == 0


@pytest.mark.parametrize(
    "amount",
    [2**255 // BTC_SCALE + 1, 2**256 // BTC_SCALE + 1],
    ids=["wad_above_int256", "wad_above_uint256"],
)
def test_join__amount_overflowing_wad__reverts_without_reason(system, amount):
    r, t = system.roles, system.btc
    with reverts(None):
        system.tx(t.join, "join", r.borrower, r.borrower, amount)


def test_join__after_shutdown__reverts_not_live(system):
    r, t = system.roles, system.btc
    mint_and_approve(system, t, r.borrower, ONE_BTC)
    system.tx(t.join, "shutdown", r.governance)
    with reverts("join: not live"):
        system.tx(t.join, "join", r.borrower, r.borrower, ONE_BTC)
    assert system.view(t.token, "balanceOf", r.borrower) == ONE_BTC


def test_join__through_join_not_authorized_in_engine__reverts_engine_not_authorized(system):
    r, t = system.roles, system.btc
    rogue = system.lockstep.deploy(
        "CollateralJoin", r.stranger, system.d.engine, t.type_id, t.token, 8
    )
    system.tx(t.token, "mint", r.governance, r.stranger, ONE_BTC)
    system.tx(t.token, "approve", r.stranger, rogue, ONE_BTC)
    with reverts("authorized: not authorized"):
        system.tx(rogue, "join", r.stranger, r.stranger, ONE_BTC)
    with reverts("authorized: not authorized"):
        system.tx(rogue, "exit", r.stranger, r.stranger, 0)
