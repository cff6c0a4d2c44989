"""PriceOracle.peek and a stale or missing price: valid only for a non-zero price younger than
max_age; a stale price blocks new debt but not repayment, until a fresh post and two pokes.
Helpers: tests/contracts/support/prices.py.
"""

from __future__ import annotations

from support.prices import (
    DELAY,
    ETH_PRICE,
    ETH_SAFE_PRICE,
    MAX_AGE,
    deploy_oracle,
    logs,
    make_stale,
    safe_price,
    warp_to,
)

from offchain.model.fixed_point import WAD
from offchain.testing.harness import reverts


def test_oracle_peek__price_exactly_max_age_old__is_still_valid(system):
    r, t = system.roles, system.eth
    warp_to(system, system.view(t.oracle, "current_time") + MAX_AGE)
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    assert logs(system)[-1] == (
        system.d.spotter,
        "Poked",
        {
            "collateral_type": t.type_id,
            "price": ETH_PRICE,
            "valid": True,
            "safe_price": ETH_SAFE_PRICE,
        },
    )
    assert safe_price(system, t) == ETH_SAFE_PRICE


def test_oracle_peek__price_older_than_max_age__is_invalid_and_safe_price_drops_to_zero(system):
    r, t = system.roles, system.eth
    assert safe_price(system, t) == ETH_SAFE_PRICE
    make_stale(system, t)
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    assert logs(system) == [
        (system.d.engine, "SafePriceSet", {"collateral_type": t.type_id, "new_value": 0}),
        (
            system.d.spotter,
            "Poked",
            {"collateral_type": t.type_id, "price": ETH_PRICE, "valid": False, "safe_price": 0},
        ),
    ]
    # the old safe price is not kept: a stale price never makes a vault look safer
    assert safe_price(system, t) == 0


def test_stale_price__blocks_new_debt_but_not_repayment(system):
    """Money flow: borrower holds 5,000 (normalized) debt against 10 ETH. With the price stale the
    safe price is 0: drawing 1 more and freeing collateral revert, repaying 1,000 (internal stable
    -1,000 * rate rad, vault debt -1,000 wad) goes through."""
    r, t, e = system.roles, system.eth, system.d.engine
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rate = system.view(e, "collateral_types", t.type_id)[1]
    stable = system.view(e, "stable", r.borrower)
    make_stale(system, t)
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    assert system.view(e, "is_safe", t.type_id, r.borrower) is False

    with reverts("engine: not safe"):
        system.tx(
            e, "modify_vault", r.borrower, t.type_id, r.borrower, r.borrower, r.borrower, 0, WAD
        )
    with reverts("engine: not safe"):
        system.tx(
            e, "modify_vault", r.borrower, t.type_id, r.borrower, r.borrower, r.borrower, -WAD, 0
        )

    system.tx(
        e,
        "modify_vault",
        r.borrower,
        t.type_id,
        r.borrower,
        r.borrower,
        r.borrower,
        0,
        -1_000 * WAD,
    )
    assert system.view(e, "vaults", t.type_id, r.borrower) == (10 * WAD, 4_000 * WAD)
    assert system.view(e, "stable", r.borrower) == stable - 1_000 * WAD * rate


def test_stale_price__revived_only_by_a_fresh_post_and_two_pokes(system):
    """After staleness the queued price is as old as the stale one: one poke does not restore a
    safe price; a fresh post (1,800) does, once it has waited out the delay."""
    r, t, o = system.roles, system.eth, system.eth.oracle
    make_stale(system, t)
    system.tx(o, "post", r.feeder, 1_800 * WAD)
    system.tx(o, "poke", r.keeper)
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    assert logs(system)[-1][2]["valid"] is False
    assert safe_price(system, t) == 0

    warp_to(system, system.view(o, "last_poke") + DELAY)
    system.tx(o, "poke", r.keeper)
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    # 1800e18 * 1e9 * 1e27 // 1.5e27
    assert safe_price(system, t) == 1_200_000_000_000_000_000_000_000_000_000


def test_missing_price__spotter_sets_zero_safe_price_until_two_pokes(system):
    """Money flow: borrower's vault (10 ETH, 5,000 debt) cannot draw while ETH-A points at an
    oracle that never had a price, but repays 1,000; the safe price returns only when a posted
    price has gone through two pokes."""
    r, t, e, sp = system.roles, system.eth, system.d.engine, system.d.spotter
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    oracle = deploy_oracle(system)
    system.tx(sp, "set_oracle", r.governance, t.type_id, oracle)

    system.tx(sp, "poke", r.keeper, t.type_id)
    assert logs(system)[-1] == (
        sp,
        "Poked",
        {"collateral_type": t.type_id, "price": 0, "valid": False, "safe_price": 0},
    )
    assert safe_price(system, t) == 0
    with reverts("engine: not safe"):
        system.tx(
            e, "modify_vault", r.borrower, t.type_id, r.borrower, r.borrower, r.borrower, 0, WAD
        )
    system.tx(
        e,
        "modify_vault",
        r.borrower,
        t.type_id,
        r.borrower,
        r.borrower,
        r.borrower,
        0,
        -1_000 * WAD,
    )

    # first post and poke: the price is queued (peek_next valid) but the current one is still 0
    system.tx(oracle, "set_feeder", r.governance, r.feeder, True)
    system.tx(oracle, "post", r.feeder, ETH_PRICE)
    system.tx(oracle, "poke", r.keeper)
    assert system.view(oracle, "peek") == (0, False)
    assert system.view(oracle, "peek_next") == (ETH_PRICE, True)
    system.tx(sp, "poke", r.keeper, t.type_id)
    assert safe_price(system, t) == 0

    warp_to(system, system.view(oracle, "last_poke") + DELAY)
    system.tx(oracle, "poke", r.keeper)
    system.tx(sp, "poke", r.keeper, t.type_id)
    assert safe_price(system, t) == ETH_SAFE_PRICE
    system.tx(e, "modify_vault", r.borrower, t.type_id, r.borrower, r.borrower, r.borrower, 0, WAD)
