"""Unit tests of the value gates: CollateralJoin (ERC-20 collateral <-> engine collateral [wad]),
StableJoin (engine stablecoin [rad] <-> ERC-20 Stablecoin [wad]), and the two snekmate ERC-20
tokens (Stablecoin and TestToken).

Every transaction goes to the chain and the model in lockstep (see conftest.py), so each test is
also a differential test; the fixture compares the complete state and invariants I1-I5 at the end.
"""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import reverts
from offchain.testing.permits import FORGER_KEY, PERMIT_OWNER_KEY, address_of, sign_permit

MAX_UINT256 = 2**256 - 1
# one whole WBTC in token units (8 decimals), and token units -> wad inside the engine
ONE_BTC = 10**8
BTC_SCALE = 10**10


@pytest.fixture(autouse=True)
def _dust_100(system):
    """These tests use vaults of a few hundred BUSD: the devnet's dust (2,500 BUSD, set from gas
    economics, docs/security-sec-liq.md) is lowered by governance to 100 at the start of each test
    (the snapshot taken by `system` undoes it)."""
    for t in (system.eth, system.btc):
        system.tx(system.d.engine, "set_dust", system.roles.governance, t.type_id, 100 * RAD)


def logs(system) -> list[tuple]:
    """The last transaction's events as (emitter, name, args), identical on chain and model."""
    return [(e.address, e.name, e.args) for e in system.events]


def free_collateral(system, t, account: str) -> int:
    """engine.collateral[type][account] [wad], read on chain."""
    return system.view(system.d.engine, "collateral", t.type_id, account)


def join_holdings(system, t) -> int:
    """Collateral tokens held by the type's join (token units; the deployment may have seeded
    some)."""
    return system.view(t.token, "balanceOf", t.join)


def backing(system) -> tuple[int, int]:
    """(Stablecoin supply [wad], the StableJoin's engine balance [rad]), read on chain."""
    supply = system.view(system.d.stablecoin, "totalSupply")
    return supply, system.view(system.d.engine, "stable", system.d.stable_join)


def mint_and_approve(system, t, user: str, amount: int, allowance: int | None = None) -> None:
    """Governance mints `amount` collateral tokens to `user`, who approves the type's join."""
    system.tx(t.token, "mint", system.roles.governance, user, amount)
    system.tx(t.token, "approve", user, t.join, amount if allowance is None else allowance)


def borrow(system, user: str, normalized_debt: int) -> int:
    """`user` locks 10 ETH and draws `normalized_debt` [wad]; returns the internal stable [rad]."""
    system.open_vault(user, "ETH-A", 10 * WAD, normalized_debt)
    return system.view(system.d.engine, "stable", user)


def exit_stable(system, user: str, recipient: str, amount: int) -> None:
    """`user` delegates to the StableJoin and exits `amount` ERC-20 stablecoin [wad] to
    `recipient`."""
    system.tx(system.d.engine, "allow", user, system.d.stable_join)
    system.tx(system.d.stable_join, "exit", user, recipient, amount)


# ================================================================ CollateralJoin


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


def test_join_and_modify__allowed_join__opens_a_vault_in_one_transaction(system):
    """Money flow: borrower pays 2 WBTC; its vault locks all 2 wad and owes 20,000 normalized
    debt; its engine stablecoin rises by 20,000 x rate; nothing stays free; the join holds the
    tokens. The events: the token transfer, Joined, then the engine's credit and the vault's change
    (the engine locks the joined collateral straight in the vault: `join_vault`)."""
    r, t = system.roles, system.btc
    mint_and_approve(system, t, r.borrower, 2 * ONE_BTC)
    system.tx(system.d.engine, "allow", r.borrower, t.join)
    held = join_holdings(system, t)
    rate = system.view(system.d.engine, "collateral_types", t.type_id)[1]

    system.tx(t.join, "join_and_modify", r.borrower, 2 * ONE_BTC, 20_000 * WAD)

    assert system.view(system.d.engine, "vaults", t.type_id, r.borrower) == (2 * WAD, 20_000 * WAD)
    assert free_collateral(system, t, r.borrower) == 0
    assert system.view(system.d.engine, "stable", r.borrower) == 20_000 * WAD * rate
    assert join_holdings(system, t) == held + 2 * ONE_BTC
    assert [(e[0], e[1]) for e in logs(system)] == [
        (t.token, "Approval"),  # snekmate's transferFrom logs the allowance it spends
        (t.token, "Transfer"),
        (t.join, "Joined"),
        (system.d.engine, "CollateralModified"),
        (system.d.engine, "VaultModified"),
    ]
    # an event-built ledger sees the credit and the lock: the free balance nets to 0
    assert logs(system)[-2][2] == {
        "collateral_type": t.type_id,
        "account": r.borrower,
        "delta": 2 * WAD,
    }
    assert logs(system)[-1][2] == {
        "collateral_type": t.type_id,
        "owner": r.borrower,
        "collateral_src": r.borrower,
        "stable_dst": r.borrower,
        "delta_collateral": 2 * WAD,
        "delta_normalized_debt": 20_000 * WAD,
    }


def test_join_and_modify__repay__locks_more_and_repays_from_the_callers_balance(system):
    """Money flow: a vault of 10 ETH and 5,000 debt gets 1 ETH more and repays 1,000 normalized
    debt from its owner's stablecoin, in one transaction."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    mint_and_approve(system, t, r.borrower, WAD)
    system.tx(system.d.engine, "allow", r.borrower, t.join)
    stable = system.view(system.d.engine, "stable", r.borrower)
    rate = system.view(system.d.engine, "collateral_types", t.type_id)[1]

    system.tx(t.join, "join_and_modify", r.borrower, WAD, -1_000 * WAD)

    assert system.view(system.d.engine, "vaults", t.type_id, r.borrower) == (11 * WAD, 4_000 * WAD)
    assert system.view(system.d.engine, "stable", r.borrower) == stable - 1_000 * WAD * rate


@pytest.mark.parametrize(
    "allowed, debt, reason",
    [
        (False, 1_000 * WAD, "engine: owner not allowed"),  # the join is not allowed in the engine
        (True, 10_000 * WAD, "engine: not safe"),  # more debt than 1 ETH carries
    ],
)
def test_join_and_modify__not_allowed_or_unsafe__reverts_and_takes_nothing(
    system, allowed, debt, reason
):
    r, t = system.roles, system.eth
    mint_and_approve(system, t, r.borrower, WAD)
    if allowed:
        system.tx(system.d.engine, "allow", r.borrower, t.join)
    with reverts(reason):
        system.tx(t.join, "join_and_modify", r.borrower, WAD, debt)
    assert system.view(t.token, "balanceOf", r.borrower) == WAD
    assert free_collateral(system, t, r.borrower) == 0


def test_join_and_modify__join_not_allowed__locks_its_own_tokens_but_repays_nothing(system):
    """Locking the caller's own joined tokens in its own vault needs no consent (it only makes
    the vault safer); repaying from its stablecoin balance does, as drawing does (above)."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    mint_and_approve(system, t, r.borrower, 2 * WAD)
    assert not system.view(system.d.engine, "can_act", r.borrower, t.join)

    system.tx(t.join, "join_and_modify", r.borrower, WAD, 0)

    assert system.view(system.d.engine, "vaults", t.type_id, r.borrower) == (11 * WAD, 5_000 * WAD)
    assert free_collateral(system, t, r.borrower) == 0
    with reverts("engine: stable source not allowed"):
        system.tx(t.join, "join_and_modify", r.borrower, WAD, -1_000 * WAD)
    assert system.view(t.token, "balanceOf", r.borrower) == WAD
    assert system.view(system.d.engine, "vaults", t.type_id, r.borrower) == (11 * WAD, 5_000 * WAD)


def test_join_and_modify__after_shutdown__reverts_not_live(system):
    r, t = system.roles, system.eth
    mint_and_approve(system, t, r.borrower, WAD)
    system.tx(system.d.engine, "allow", r.borrower, t.join)
    system.tx(t.join, "shutdown", r.governance)
    with reverts("join: not live"):
        system.tx(t.join, "join_and_modify", r.borrower, WAD, 0)


def test_exit__to_another_recipient__debits_caller_and_pays_recipient(system):
    """Money flow: borrower's free collateral falls by one token unit (10**10 wad); `other`
    receives the token unit."""
    r, t = system.roles, system.btc
    system.fund(r.borrower, "WBTC-A", ONE_BTC)
    held = join_holdings(system, t)

    system.tx(t.join, "exit", r.borrower, r.other, 1)

    assert free_collateral(system, t, r.borrower) == WAD - BTC_SCALE
    assert free_collateral(system, t, r.other) == 0
    assert system.view(t.token, "balanceOf", r.other) == 1
    assert join_holdings(system, t) == held - 1
    assert logs(system)[-1] == (
        t.join,
        "Exited",
        {"account": r.borrower, "recipient": r.other, "amount": 1},
    )


def test_exit__more_than_free_balance__reverts_insufficient_collateral(system):
    r, t = system.roles, system.btc
    system.fund(r.borrower, "WBTC-A", ONE_BTC)
    with reverts("engine: insufficient collateral"):
        system.tx(t.join, "exit", r.borrower, r.borrower, ONE_BTC + 1)
    assert free_collateral(system, t, r.borrower) == WAD


def test_exit__collateral_locked_in_vault__reverts_insufficient_collateral(system):
    r, t = system.roles, system.btc
    system.open_vault(r.borrower, "WBTC-A", WAD, 1_000 * WAD)
    assert free_collateral(system, t, r.borrower) == 0
    with reverts("engine: insufficient collateral"):
        system.tx(t.join, "exit", r.borrower, r.borrower, 1)


def test_exit__by_stranger_without_balance__reverts_insufficient_collateral(system):
    r, t = system.roles, system.btc
    system.fund(r.borrower, "WBTC-A", ONE_BTC)
    with reverts("engine: insufficient collateral"):
        system.tx(t.join, "exit", r.stranger, r.stranger, 1)


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


def test_exit__amount_overflowing_wad__reverts_without_reason(system):
    r, t = system.roles, system.btc
    system.fund(r.borrower, "WBTC-A", ONE_BTC)
    with reverts(None):
        system.tx(t.join, "exit", r.borrower, r.borrower, 2**255 // BTC_SCALE + 1)


def test_shutdown__by_governance__sets_not_live(system):
    r, t = system.roles, system.btc
    system.tx(t.join, "shutdown", r.governance)
    assert system.view(t.join, "live") is False
    assert logs(system) == [(t.join, "Shutdown", {"caller": r.governance})]


def test_join__after_shutdown__reverts_not_live(system):
    r, t = system.roles, system.btc
    mint_and_approve(system, t, r.borrower, ONE_BTC)
    system.tx(t.join, "shutdown", r.governance)
    with reverts("join: not live"):
        system.tx(t.join, "join", r.borrower, r.borrower, ONE_BTC)
    assert system.view(t.token, "balanceOf", r.borrower) == ONE_BTC


def test_exit__after_shutdown__still_pays_out(system):
    """Money flow: after shutdown borrower still withdraws all 1 WBTC of free collateral (engine
    balance -1 wad, borrower +10**8 token units)."""
    r, t = system.roles, system.btc
    system.fund(r.borrower, "WBTC-A", ONE_BTC)
    system.tx(t.join, "shutdown", r.governance)

    system.tx(t.join, "exit", r.borrower, r.borrower, ONE_BTC)

    assert free_collateral(system, t, r.borrower) == 0
    assert system.view(t.token, "balanceOf", r.borrower) == ONE_BTC


@pytest.mark.parametrize("function", ["add_authority", "remove_authority"])
def test_collateral_join_authority__by_stranger__reverts_not_authorized(system, function):
    r = system.roles
    with reverts("authorized: not authorized"):
        system.tx(system.btc.join, function, r.stranger, r.stranger)


def test_shutdown__by_stranger__reverts_not_authorized(system):
    r, t = system.roles, system.btc
    with reverts("authorized: not authorized"):
        system.tx(t.join, "shutdown", r.stranger)
    assert system.view(t.join, "live") is True


def test_collateral_join_add_authority__lets_keeper_shut_down(system):
    r, t = system.roles, system.btc
    system.tx(t.join, "add_authority", r.governance, r.keeper)
    assert logs(system) == [(t.join, "AuthorityAdded", {"account": r.keeper})]
    assert system.view(t.join, "authorized", r.keeper) is True

    system.tx(t.join, "shutdown", r.keeper)
    assert system.view(t.join, "live") is False


def test_collateral_join_remove_authority__revoked_keeper_cannot_shut_down(system):
    r, t = system.roles, system.btc
    system.tx(t.join, "add_authority", r.governance, r.keeper)
    system.tx(t.join, "remove_authority", r.governance, r.keeper)
    assert logs(system) == [(t.join, "AuthorityRemoved", {"account": r.keeper})]
    assert system.view(t.join, "authorized", r.keeper) is False
    with reverts("authorized: not authorized"):
        system.tx(t.join, "shutdown", r.keeper)


def test_collateral_join_constructor__decimals_above_18__reverts(system):
    r, t = system.roles, system.btc
    with reverts("join: decimals above 18"):
        system.lockstep.deploy(
            "CollateralJoin", r.governance, system.d.engine, t.type_id, t.token, 19
        )
    # both sides mined the failed creation: the next deployment lands at the same address on both
    join = system.lockstep.deploy(
        "CollateralJoin", r.governance, system.d.engine, t.type_id, t.token, 18
    )
    assert system.view(join, "scale") == 1


@pytest.mark.parametrize("decimals, scale", [(18, 1), (8, 10**10), (0, 10**18)])
def test_collateral_join_constructor__sets_scale_and_authorizes_deployer(system, decimals, scale):
    r, t = system.roles, system.btc
    join = system.lockstep.deploy(
        "CollateralJoin", r.governance, system.d.engine, t.type_id, t.token, decimals
    )
    assert logs(system) == [(join, "AuthorityAdded", {"account": r.governance})]
    assert system.view(join, "decimals") == decimals
    assert system.view(join, "scale") == scale
    assert system.view(join, "live") is True
    assert system.view(join, "authorized", r.governance) is True
    assert system.contract(join).scale == scale


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


# ================================================================ StableJoin


def test_stable_join__getters__name_engine_and_stablecoin(system):
    assert system.view(system.d.stable_join, "engine") == system.d.engine
    assert system.view(system.d.stable_join, "stablecoin") == system.d.stablecoin


def test_stable_join_exit__without_engine_allow__reverts_not_allowed(system):
    r = system.roles
    borrow(system, r.borrower, 5_000 * WAD)
    with reverts("engine: not allowed"):
        system.tx(system.d.stable_join, "exit", r.borrower, r.borrower, 1_000 * WAD)
    assert system.view(system.d.stablecoin, "balanceOf", r.borrower) == 0


def test_stable_join_exit__after_allow__mints_erc20_to_recipient(system):
    """Money flow: borrower's internal stable falls by 1,000 rad, the StableJoin's rises by
    1,000 rad, and `other` receives 1,000 BUSD (wad): supply * ray = StableJoin's balance."""
    r, sj = system.roles, system.d.stable_join
    stable_before = borrow(system, r.borrower, 5_000 * WAD)
    supply, backed = backing(system)
    system.tx(system.d.engine, "allow", r.borrower, sj)
    assert logs(system) == [
        (system.d.engine, "DelegateAllowed", {"owner": r.borrower, "delegate": sj})
    ]

    system.tx(sj, "exit", r.borrower, r.other, 1_000 * WAD)

    assert system.view(system.d.engine, "stable", r.borrower) == stable_before - 1_000 * RAD
    assert system.view(system.d.stablecoin, "balanceOf", r.other) == 1_000 * WAD
    assert system.view(system.d.stablecoin, "balanceOf", r.borrower) == 0
    assert backing(system) == (supply + 1_000 * WAD, backed + 1_000 * RAD)
    assert logs(system) == [
        (
            system.d.engine,
            "StableTransferred",
            {"src": r.borrower, "dst": sj, "amount": 1_000 * RAD},
        ),
        (
            system.d.stablecoin,
            "Transfer",
            {"sender": ZERO_ADDRESS, "receiver": r.other, "value": 1_000 * WAD},
        ),
        (sj, "Exited", {"account": r.borrower, "recipient": r.other, "amount": 1_000 * WAD}),
    ]


def test_stable_join_exit__more_than_internal_balance__reverts_insufficient_stable(system):
    r = system.roles
    stable = borrow(system, r.borrower, 1_000 * WAD)
    too_much = stable // RAY + 1  # one wad more than the internal balance covers
    system.tx(system.d.engine, "allow", r.borrower, system.d.stable_join)
    with reverts("engine: insufficient stable"):
        system.tx(system.d.stable_join, "exit", r.borrower, r.borrower, too_much)


def test_stable_join_exit__amount_times_ray_overflows__reverts_without_reason(system):
    r = system.roles
    system.tx(system.d.engine, "allow", r.borrower, system.d.stable_join)
    with reverts(None):
        system.tx(system.d.stable_join, "exit", r.borrower, r.borrower, MAX_UINT256 // RAY + 1)


def test_stable_join_join__without_allowance__reverts_insufficient_allowance(system):
    r = system.roles
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    with reverts("erc20: insufficient allowance"):
        system.tx(system.d.stable_join, "join", r.borrower, r.borrower, 1_000 * WAD)
    assert system.view(system.d.stablecoin, "balanceOf", r.borrower) == 1_000 * WAD


def test_stable_join_join__with_allowance__burns_erc20_and_credits_account(system):
    """Money flow: borrower burns 400 of his 1,000 BUSD (allowance 400 -> 0); the StableJoin's
    internal stable falls by 400 rad, `other` is credited 400 rad; the supply falls by 400 BUSD."""
    r, sj = system.roles, system.d.stable_join
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    system.tx(system.d.stablecoin, "approve", r.borrower, sj, 400 * WAD)
    supply, backed = backing(system)

    system.tx(sj, "join", r.borrower, r.other, 400 * WAD)

    assert system.view(system.d.engine, "stable", r.other) == 400 * RAD
    assert system.view(system.d.stablecoin, "balanceOf", r.borrower) == 600 * WAD
    assert backing(system) == (supply - 400 * WAD, backed - 400 * RAD)
    assert system.view(system.d.stablecoin, "allowance", r.borrower, sj) == 0
    assert logs(system) == [
        (system.d.engine, "StableTransferred", {"src": sj, "dst": r.other, "amount": 400 * RAD}),
        (system.d.stablecoin, "Approval", {"owner": r.borrower, "spender": sj, "value": 0}),
        (
            system.d.stablecoin,
            "Transfer",
            {"sender": r.borrower, "receiver": ZERO_ADDRESS, "value": 400 * WAD},
        ),
        (sj, "Joined", {"account": r.other, "payer": r.borrower, "amount": 400 * WAD}),
    ]


def test_stable_join_exit_then_join__round_trips_internal_balance_exactly(system):
    """Money flow: borrower exits 1,234.5 BUSD and joins all of it back: the internal balance is
    what it was to the rad, the supply and the StableJoin's balance are back where they were."""
    r, sj = system.roles, system.d.stable_join
    stable_before = borrow(system, r.borrower, 5_000 * WAD)
    backing_before = backing(system)
    amount = 1_234_500_000_000_000_000_000
    exit_stable(system, r.borrower, r.borrower, amount)
    system.tx(system.d.stablecoin, "approve", r.borrower, sj, amount)
    system.tx(sj, "join", r.borrower, r.borrower, amount)

    assert system.view(system.d.engine, "stable", r.borrower) == stable_before
    assert system.view(system.d.stablecoin, "balanceOf", r.borrower) == 0
    assert backing(system) == backing_before


def test_stable_join_join__more_than_payer_balance__reverts_burn_amount_exceeds_balance(system):
    r, sj = system.roles, system.d.stable_join
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    system.tx(system.d.stablecoin, "transfer", r.borrower, r.other, 600 * WAD)
    system.tx(system.d.stablecoin, "approve", r.borrower, sj, 1_000 * WAD)
    # the StableJoin holds 1,000 rad, so the engine leg passes and the burn fails
    with reverts("erc20: burn amount exceeds balance"):
        system.tx(sj, "join", r.borrower, r.borrower, 1_000 * WAD)


def test_stable_join_join__more_than_join_engine_balance__reverts_insufficient_stable(system):
    r, sj = system.roles, system.d.stable_join
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    system.tx(system.d.stablecoin, "approve", r.borrower, sj, MAX_UINT256)
    _, backed = backing(system)
    # one wad more than the StableJoin holds in the engine: the engine leg fails before the burn
    with reverts("engine: insufficient stable"):
        system.tx(sj, "join", r.borrower, r.borrower, backed // RAY + 1)


# ================================================================ Stablecoin


def test_stablecoin__after_deployment__ownerless_with_stable_join_the_only_minter(system):
    r, c = system.roles, system.d.stablecoin
    assert system.view(c, "name") == "Backstop USD"
    assert system.view(c, "symbol") == "BUSD"
    assert system.view(c, "decimals") == 18
    assert system.view(c, "owner") == ZERO_ADDRESS
    assert system.view(c, "is_minter", system.d.stable_join) is True
    for who in r.users:
        assert system.view(c, "is_minter", who) is False


@pytest.mark.parametrize("role", ["governance", "borrower", "stranger"])
def test_stablecoin_mint__by_anyone_but_stable_join__reverts_access_denied(system, role):
    sender = getattr(system.roles, role)
    with reverts("erc20: access is denied"):
        system.tx(system.d.stablecoin, "mint", sender, sender, WAD)


@pytest.mark.parametrize("role", ["governance", "stranger"])
def test_stablecoin_set_minter__after_renounce__reverts_not_owner(system, role):
    sender = getattr(system.roles, role)
    with reverts("ownable: caller is not the owner"):
        system.tx(system.d.stablecoin, "set_minter", sender, system.roles.keeper, True)
    with reverts("ownable: caller is not the owner"):
        system.tx(system.d.stablecoin, "set_minter", sender, system.d.stable_join, False)


@pytest.mark.parametrize("role", ["governance", "stranger"])
def test_stablecoin_transfer_ownership__after_renounce__reverts_not_owner(system, role):
    sender = getattr(system.roles, role)
    with reverts("ownable: caller is not the owner"):
        system.tx(system.d.stablecoin, "transfer_ownership", sender, sender)


@pytest.mark.parametrize("role", ["governance", "stranger"])
def test_stablecoin_renounce_ownership__again__reverts_not_owner(system, role):
    with reverts("ownable: caller is not the owner"):
        system.tx(system.d.stablecoin, "renounce_ownership", getattr(system.roles, role))


def test_stablecoin_transfer__moves_balance(system):
    """Money flow: borrower sends 250 of his 1,000 BUSD to `other`; supply unchanged."""
    r, c = system.roles, system.d.stablecoin
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    supply = system.view(c, "totalSupply")

    system.tx(c, "transfer", r.borrower, r.other, 250 * WAD)

    assert system.view(c, "balanceOf", r.borrower) == 750 * WAD
    assert system.view(c, "balanceOf", r.other) == 250 * WAD
    assert system.view(c, "totalSupply") == supply
    assert logs(system) == [
        (c, "Transfer", {"sender": r.borrower, "receiver": r.other, "value": 250 * WAD})
    ]


def test_stablecoin_transfer__more_than_balance__reverts_exceeds_balance(system):
    r = system.roles
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    with reverts("erc20: transfer amount exceeds balance"):
        system.tx(system.d.stablecoin, "transfer", r.borrower, r.other, 1_000 * WAD + 1)
    with reverts("erc20: transfer amount exceeds balance"):
        system.tx(system.d.stablecoin, "transfer", r.stranger, r.other, 1)


def test_stablecoin_transfer__to_zero_address__reverts(system):
    r = system.roles
    with reverts("erc20: transfer to the zero address"):
        system.tx(system.d.stablecoin, "transfer", r.borrower, ZERO_ADDRESS, 0)


def test_stablecoin_approve__sets_allowance(system):
    r, c = system.roles, system.d.stablecoin
    system.tx(c, "approve", r.borrower, r.keeper, 300 * WAD)
    assert system.view(c, "allowance", r.borrower, r.keeper) == 300 * WAD
    assert system.contract(c).allowance[(r.borrower, r.keeper)] == 300 * WAD
    assert logs(system) == [
        (c, "Approval", {"owner": r.borrower, "spender": r.keeper, "value": 300 * WAD})
    ]


def test_stablecoin_approve__zero_spender__reverts(system):
    with reverts("erc20: approve to the zero address"):
        system.tx(system.d.stablecoin, "approve", system.roles.borrower, ZERO_ADDRESS, WAD)


def test_stablecoin_transfer_from__spends_allowance(system):
    """Money flow: keeper moves 200 BUSD from borrower to `other` under a 300 BUSD allowance,
    which falls to 100."""
    r, c = system.roles, system.d.stablecoin
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    system.tx(c, "approve", r.borrower, r.keeper, 300 * WAD)

    system.tx(c, "transferFrom", r.keeper, r.borrower, r.other, 200 * WAD)

    assert system.view(c, "allowance", r.borrower, r.keeper) == 100 * WAD
    assert system.contract(c).allowance[(r.borrower, r.keeper)] == 100 * WAD
    assert system.view(c, "balanceOf", r.borrower) == 800 * WAD
    assert system.view(c, "balanceOf", r.other) == 200 * WAD
    assert logs(system) == [
        (c, "Approval", {"owner": r.borrower, "spender": r.keeper, "value": 100 * WAD}),
        (c, "Transfer", {"sender": r.borrower, "receiver": r.other, "value": 200 * WAD}),
    ]


def test_stablecoin_transfer_from__beyond_allowance__reverts_insufficient_allowance(system):
    r, c = system.roles, system.d.stablecoin
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    system.tx(c, "approve", r.borrower, r.keeper, 300 * WAD)
    with reverts("erc20: insufficient allowance"):
        system.tx(c, "transferFrom", r.keeper, r.borrower, r.keeper, 300 * WAD + 1)
    with reverts("erc20: insufficient allowance"):
        system.tx(c, "transferFrom", r.stranger, r.borrower, r.stranger, 1)


def test_stablecoin_transfer_from__infinite_allowance__is_never_decreased(system):
    """Money flow: keeper moves 200 BUSD from borrower to `other`; the max allowance stays max
    (no Approval event)."""
    r, c = system.roles, system.d.stablecoin
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    system.tx(c, "approve", r.borrower, r.keeper, MAX_UINT256)

    system.tx(c, "transferFrom", r.keeper, r.borrower, r.other, 200 * WAD)

    assert system.view(c, "allowance", r.borrower, r.keeper) == MAX_UINT256
    assert logs(system) == [
        (c, "Transfer", {"sender": r.borrower, "receiver": r.other, "value": 200 * WAD})
    ]


def test_stablecoin_burn__more_than_balance__reverts_burn_amount_exceeds_balance(system):
    r = system.roles
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    with reverts("erc20: burn amount exceeds balance"):
        system.tx(system.d.stablecoin, "burn", r.borrower, 1_000 * WAD + 1)


def test_stablecoin_burn_from__without_allowance__reverts_insufficient_allowance(system):
    r = system.roles
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    with reverts("erc20: insufficient allowance"):
        system.tx(system.d.stablecoin, "burn_from", r.stranger, r.borrower, 1)


def test_stablecoin_burn__holder_destroys_own_tokens(system):
    """Money flow: borrower burns 100 of his 1,000 BUSD; the supply falls by 100 while the
    StableJoin's engine balance stays: the supply stays backed (supply * ray <= its balance)."""
    r, c = system.roles, system.d.stablecoin
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    supply, backed = backing(system)

    system.tx(c, "burn", r.borrower, 100 * WAD)

    assert system.view(c, "balanceOf", r.borrower) == 900 * WAD
    assert backing(system) == (supply - 100 * WAD, backed)
    assert logs(system) == [
        (c, "Transfer", {"sender": r.borrower, "receiver": ZERO_ADDRESS, "value": 100 * WAD})
    ]


def test_stablecoin_burn_from__spender_destroys_owner_tokens(system):
    """Money flow: keeper burns 100 of borrower's BUSD under a 100 BUSD allowance; the supply
    falls by 100, the StableJoin's engine balance stays."""
    r, c = system.roles, system.d.stablecoin
    borrow(system, r.borrower, 5_000 * WAD)
    exit_stable(system, r.borrower, r.borrower, 1_000 * WAD)
    system.tx(c, "approve", r.borrower, r.keeper, 100 * WAD)
    supply, backed = backing(system)

    system.tx(c, "burn_from", r.keeper, r.borrower, 100 * WAD)

    assert system.view(c, "balanceOf", r.borrower) == 900 * WAD
    assert backing(system) == (supply - 100 * WAD, backed)
    assert system.view(c, "allowance", r.borrower, r.keeper) == 0
    assert logs(system) == [
        (c, "Approval", {"owner": r.borrower, "spender": r.keeper, "value": 0}),
        (c, "Transfer", {"sender": r.borrower, "receiver": ZERO_ADDRESS, "value": 100 * WAD}),
    ]


# ---------------------------------------------------------------- permit (EIP-2612)
#
# Differential like the rest: the model twins `permit`, `nonces` and `DOMAIN_SEPARATOR`
# (offchain/model/erc20.py); the permits are signed by eth-account's EIP-712 signer
# (offchain/testing/permits.py) with a throwaway key that is no role of the harness.

_OWNER = address_of(PERMIT_OWNER_KEY)
_TOKENS = ("stablecoin", "governance_token")
# secp256k1's order: s above n / 2 is the malleable twin of a valid signature
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _permit(system, token: str, key: bytes, spender: str, value: int, nonce: int, deadline: int):
    name = system.view(token, "name")
    return sign_permit(
        key, name, system.chain.chain_id, token, _OWNER, spender, value, nonce, deadline
    )


def _domain_separator(system, token: str) -> bytes:
    type_hash = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                type_hash,
                keccak(text=system.view(token, "name")),
                keccak(text="1"),
                system.chain.chain_id,
                token,
            ],
        )
    )


@pytest.mark.parametrize("which", _TOKENS)
def test_domain_separator__is_eip712_of_name_version_chain_and_address(system, which):
    token = getattr(system.d, which)
    expected = _domain_separator(system, token)
    assert system.view(token, "DOMAIN_SEPARATOR") == expected
    assert system.contract(token).DOMAIN_SEPARATOR() == expected


@pytest.mark.parametrize("which", _TOKENS)
def test_permit__signed_approval__sets_allowance_once(system, which):
    r, token = system.roles, getattr(system.d, which)
    deadline = system.now + 1_000
    p = _permit(system, token, PERMIT_OWNER_KEY, r.keeper, 500 * WAD, 0, deadline)

    system.tx(token, "permit", r.keeper, _OWNER, r.keeper, 500 * WAD, deadline, *p)

    model = system.contract(token)
    assert system.view(token, "allowance", _OWNER, r.keeper) == 500 * WAD
    assert model.allowance[(_OWNER, r.keeper)] == 500 * WAD
    assert system.view(token, "nonces", _OWNER) == model.nonces[_OWNER] == 1
    assert logs(system) == [
        (token, "Approval", {"owner": _OWNER, "spender": r.keeper, "value": 500 * WAD})
    ]
    # the nonce moved on: the same signature recovers another signer now
    with reverts("erc20: invalid signature"):
        system.tx(token, "permit", r.keeper, _OWNER, r.keeper, 500 * WAD, deadline, *p)


def test_permit__next_nonce__replaces_the_allowance(system):
    r, token = system.roles, system.d.stablecoin
    deadline = system.now + 1_000
    for nonce, value in enumerate((7 * WAD, 3 * WAD)):
        p = _permit(system, token, PERMIT_OWNER_KEY, r.other, value, nonce, deadline)
        system.tx(token, "permit", r.stranger, _OWNER, r.other, value, deadline, *p)
    assert system.view(token, "allowance", _OWNER, r.other) == 3 * WAD
    assert system.view(token, "nonces", _OWNER) == 2


@pytest.mark.parametrize("which", _TOKENS)
def test_permit__past_deadline__reverts_expired(system, which):
    r, token = system.roles, getattr(system.d, which)
    deadline = system.now  # the permit transaction is mined one second later
    p = _permit(system, token, PERMIT_OWNER_KEY, r.keeper, WAD, 0, deadline)
    with reverts("erc20: expired deadline"):
        system.tx(token, "permit", r.keeper, _OWNER, r.keeper, WAD, deadline, *p)


def test_permit__at_its_deadline__is_accepted(system):
    r, token = system.roles, system.d.stablecoin
    deadline = system.now + 1  # the next block's time
    p = _permit(system, token, PERMIT_OWNER_KEY, r.keeper, WAD, 0, deadline)
    system.tx(token, "permit", r.keeper, _OWNER, r.keeper, WAD, deadline, *p)
    assert system.view(token, "allowance", _OWNER, r.keeper) == WAD


@pytest.mark.parametrize("which", _TOKENS)
def test_permit__signed_by_someone_else__reverts_invalid_signature(system, which):
    r, token = system.roles, getattr(system.d, which)
    deadline = system.now + 1_000
    p = _permit(system, token, FORGER_KEY, r.keeper, WAD, 0, deadline)
    with reverts("erc20: invalid signature"):
        system.tx(token, "permit", r.keeper, _OWNER, r.keeper, WAD, deadline, *p)
    assert system.view(token, "allowance", _OWNER, r.keeper) == 0


def test_permit__for_another_token__reverts_invalid_signature(system):
    """A permit signed for the governance token's domain is no permit for the stablecoin."""
    r = system.roles
    deadline = system.now + 1_000
    p = _permit(system, system.d.governance_token, PERMIT_OWNER_KEY, r.keeper, WAD, 0, deadline)
    with reverts("erc20: invalid signature"):
        system.tx(system.d.stablecoin, "permit", r.keeper, _OWNER, r.keeper, WAD, deadline, *p)


def test_permit__malleable_high_s__reverts_invalid_s(system):
    r, token = system.roles, system.d.stablecoin
    deadline = system.now + 1_000
    v, sig_r, sig_s = _permit(system, token, PERMIT_OWNER_KEY, r.keeper, WAD, 0, deadline)
    high_s = (_N - int.from_bytes(sig_s, "big")).to_bytes(32, "big")
    with reverts("ecdsa: invalid signature `s` value"):
        system.tx(token, "permit", r.keeper, _OWNER, r.keeper, WAD, deadline, 55 - v, sig_r, high_s)


@pytest.mark.parametrize("v, sig_r", [(29, None), (27, bytes(32)), (28, (2**256 - 1).to_bytes(32))])
def test_permit__unrecoverable_signature__reverts_invalid_signature(system, v, sig_r):
    """ecrecover gives the zero address for v not 27 / 28 or r out of range."""
    r, token = system.roles, system.d.stablecoin
    deadline = system.now + 1_000
    p = _permit(system, token, PERMIT_OWNER_KEY, r.keeper, WAD, 0, deadline)
    with reverts("ecdsa: invalid signature"):
        system.tx(token, "permit", r.keeper, _OWNER, r.keeper, WAD, deadline, v, sig_r or p.r, p.s)


# ================================================================ TestToken (collateral)
#
# The collateral tokens are the same snekmate module as the Stablecoin but keep their owner
# (governance), so the owner-only paths can succeed here.


def test_test_token__metadata_and_owner(system):
    r = system.roles
    for t, name, symbol, decimals in (
        (system.btc, "Wrapped Bitcoin (test)", "WBTC", 8),
        (system.eth, "Wrapped Ether (test)", "WETH", 18),
    ):
        assert system.view(t.token, "name") == name
        assert system.view(t.token, "symbol") == symbol
        assert system.view(t.token, "decimals") == decimals
        assert system.view(t.token, "owner") == r.governance
        assert system.view(t.token, "is_minter", r.governance) is True
        assert system.view(t.token, "is_minter", r.stranger) is False


def test_test_token_mint__by_owner__creates_tokens(system):
    """Money flow: governance mints 3 WBTC to borrower; supply +3 * 10**8."""
    r, t = system.roles, system.btc
    supply = system.view(t.token, "totalSupply")
    system.tx(t.token, "mint", r.governance, r.borrower, 3 * ONE_BTC)
    assert system.view(t.token, "balanceOf", r.borrower) == 3 * ONE_BTC
    assert system.view(t.token, "totalSupply") == supply + 3 * ONE_BTC
    assert logs(system) == [
        (
            t.token,
            "Transfer",
            {"sender": ZERO_ADDRESS, "receiver": r.borrower, "value": 3 * ONE_BTC},
        )
    ]


def test_test_token_mint__by_stranger__reverts_access_denied(system):
    with reverts("erc20: access is denied"):
        system.tx(system.btc.token, "mint", system.roles.stranger, system.roles.stranger, ONE_BTC)


def test_test_token_mint__to_zero_address__reverts(system):
    with reverts("erc20: mint to the zero address"):
        system.tx(system.btc.token, "mint", system.roles.governance, ZERO_ADDRESS, ONE_BTC)


def test_test_token_set_minter__lets_keeper_mint_then_revokes(system):
    r, t = system.roles, system.btc
    system.tx(t.token, "set_minter", r.governance, r.keeper, True)
    assert logs(system) == [(t.token, "RoleMinterChanged", {"minter": r.keeper, "status": True})]
    system.tx(t.token, "mint", r.keeper, r.other, 5)
    assert system.view(t.token, "balanceOf", r.other) == 5

    system.tx(t.token, "set_minter", r.governance, r.keeper, False)
    assert system.view(t.token, "is_minter", r.keeper) is False
    with reverts("erc20: access is denied"):
        system.tx(t.token, "mint", r.keeper, r.other, 5)


def test_test_token_set_minter__invalid_minter__reverts(system):
    r, t = system.roles, system.btc
    with reverts("erc20: minter is the zero address"):
        system.tx(t.token, "set_minter", r.governance, ZERO_ADDRESS, True)
    with reverts("erc20: minter is owner address"):
        system.tx(t.token, "set_minter", r.governance, r.governance, False)
    with reverts("ownable: caller is not the owner"):
        system.tx(t.token, "set_minter", r.stranger, r.stranger, True)


def test_test_token_transfer_ownership__moves_owner_and_minter_role(system):
    r, t = system.roles, system.btc
    system.tx(t.token, "transfer_ownership", r.governance, r.other)
    assert logs(system) == [
        (t.token, "RoleMinterChanged", {"minter": r.governance, "status": False}),
        (t.token, "OwnershipTransferred", {"previous_owner": r.governance, "new_owner": r.other}),
        (t.token, "RoleMinterChanged", {"minter": r.other, "status": True}),
    ]
    assert system.view(t.token, "owner") == r.other
    assert system.view(t.token, "is_minter", r.other) is True
    assert system.view(t.token, "is_minter", r.governance) is False
    with reverts("erc20: access is denied"):
        system.tx(t.token, "mint", r.governance, r.governance, 1)


def test_test_token_transfer_ownership__invalid__reverts(system):
    r, t = system.roles, system.btc
    with reverts("erc20: new owner is the zero address"):
        system.tx(t.token, "transfer_ownership", r.governance, ZERO_ADDRESS)
    with reverts("ownable: caller is not the owner"):
        system.tx(t.token, "transfer_ownership", r.stranger, r.stranger)


def test_test_token_renounce_ownership__leaves_no_owner_and_no_owner_minter(system):
    r, t = system.roles, system.btc
    system.tx(t.token, "renounce_ownership", r.governance)
    assert logs(system) == [
        (t.token, "RoleMinterChanged", {"minter": r.governance, "status": False}),
        (
            t.token,
            "OwnershipTransferred",
            {"previous_owner": r.governance, "new_owner": ZERO_ADDRESS},
        ),
    ]
    assert system.view(t.token, "owner") == ZERO_ADDRESS
    with reverts("erc20: access is denied"):
        system.tx(t.token, "mint", r.governance, r.governance, 1)
    with reverts("ownable: caller is not the owner"):
        system.tx(t.token, "renounce_ownership", r.stranger)


def test_test_token_burn_and_burn_from__destroy_tokens(system):
    """Money flow: borrower burns 1 WBTC of his 3, then keeper burns 1 more under a 1 WBTC
    allowance; supply falls by 2 WBTC."""
    r, t = system.roles, system.btc
    system.tx(t.token, "mint", r.governance, r.borrower, 3 * ONE_BTC)
    supply = system.view(t.token, "totalSupply")

    system.tx(t.token, "burn", r.borrower, ONE_BTC)
    assert logs(system) == [
        (t.token, "Transfer", {"sender": r.borrower, "receiver": ZERO_ADDRESS, "value": ONE_BTC})
    ]
    system.tx(t.token, "approve", r.borrower, r.keeper, ONE_BTC)
    system.tx(t.token, "burn_from", r.keeper, r.borrower, ONE_BTC)

    assert system.view(t.token, "balanceOf", r.borrower) == ONE_BTC
    assert system.view(t.token, "totalSupply") == supply - 2 * ONE_BTC
    with reverts("erc20: insufficient allowance"):
        system.tx(t.token, "burn_from", r.keeper, r.borrower, 1)
    with reverts("erc20: burn amount exceeds balance"):
        system.tx(t.token, "burn", r.borrower, ONE_BTC + 1)


def test_test_token_transfer_and_transfer_from__move_balances(system):
    """Money flow: borrower sends 1 WBTC to `other`; keeper moves 0.5 WBTC more from borrower to
    `other` under an allowance."""
    r, t = system.roles, system.btc
    system.tx(t.token, "mint", r.governance, r.borrower, 2 * ONE_BTC)
    system.tx(t.token, "transfer", r.borrower, r.other, ONE_BTC)
    system.tx(t.token, "approve", r.borrower, r.keeper, ONE_BTC)
    system.tx(t.token, "transferFrom", r.keeper, r.borrower, r.other, ONE_BTC // 2)

    assert system.view(t.token, "balanceOf", r.borrower) == ONE_BTC // 2
    assert system.view(t.token, "balanceOf", r.other) == ONE_BTC + ONE_BTC // 2
    assert system.view(t.token, "allowance", r.borrower, r.keeper) == ONE_BTC // 2
    with reverts("erc20: transfer amount exceeds balance"):
        system.tx(t.token, "transfer", r.borrower, r.other, ONE_BTC)
