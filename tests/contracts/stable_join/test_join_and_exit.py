"""StableJoin's getters, exit (engine stablecoin [rad] out as the ERC-20 Stablecoin [wad], after the
engine allows the join) and join (burns the ERC-20 and credits the account), round trips exact.
Helpers: tests/contracts/support/joins.py.
"""

from __future__ import annotations

from support.joins import MAX_UINT256, backing, borrow, exit_stable, logs

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import reverts


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
