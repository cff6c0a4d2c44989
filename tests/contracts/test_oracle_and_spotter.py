"""Unit tests of the price path: PriceOracle (post -> queued by a poke -> current after the next
poke, at least `delay` seconds later; `peek` valid only for a non-zero price younger than
`max_age`) and Spotter (safe_price = price * 1e9 * 1e27 // liquidation_ratio, or 0 for an invalid
price, written into the engine).

Every transaction goes to the chain and the model in lockstep (see conftest.py), so each test is
also a differential test; the fixture compares the complete state and invariants at the end.
"""

from __future__ import annotations

import pytest
from eth_abi import decode as abi_decode

from offchain.model.fixed_point import RAY, WAD
from offchain.model.state import Role
from offchain.testing.harness import reverts

DELAY = 3600  # config/devnet.toml oracle_delay (both types)
MAX_AGE = 10800  # config/devnet.toml oracle_max_age (both types)
ETH_PRICE = 2_000 * WAD  # initial_price of ETH-A
BTC_PRICE = 30_000 * WAD  # initial_price of WBTC-A
# 2000e18 * 1e9 * 1e27 // 1.5e27: exact, rounded down (remainder 1e27)
ETH_SAFE_PRICE = 1_333_333_333_333_333_333_333_333_333_333
# 30000e18 * 1e9 * 1e27 // 1.45e27: exact, rounded down (remainder 1.4e27)
BTC_SAFE_PRICE = 20_689_655_172_413_793_103_448_275_862_068
NEW_TYPE = b"LINK-A".ljust(32, b"\0")


def logs(system) -> list[tuple]:
    """The last transaction's events as (emitter, name, args), identical on chain and model."""
    return [(e.address, e.name, e.args) for e in system.events]


def warp_to(system, timestamp: int) -> None:
    """The next transaction is mined at exactly `timestamp`."""
    system.warp(timestamp - system.now)


def safe_price(system, t) -> int:
    """engine.collateral_types[type].safe_price [ray], read on chain."""
    return system.view(system.d.engine, "collateral_types", t.type_id)[2]


def call(system, address: str, function: str, sender: str, *args):
    """What a transaction would return, by eth_call on the chain (nothing is mined)."""
    tx, fn = system.chain.call_data(address, function, *args)
    raw = system.chain.rpc("eth_call", [{**tx, "from": sender}, "latest"])
    values = abi_decode(fn.outputs, bytes.fromhex(raw[2:]))
    return values[0] if len(values) == 1 else values


def deploy_oracle(system, delay: int = DELAY, max_age: int = MAX_AGE) -> str:
    """A fresh PriceOracle (governance is its authority; nothing posted, no feeder)."""
    return system.lockstep.deploy("PriceOracle", system.roles.governance, delay, max_age)


def make_stale(system, t) -> None:
    """Move the clock so that the next transaction sees the type's current price one second
    past max_age."""
    warp_to(system, system.view(t.oracle, "current_time") + MAX_AGE + 1)


# ================================================================ PriceOracle


def test_oracle__after_deployment__initial_price_is_current_and_queued(system):
    r, o = system.roles, system.eth.oracle
    assert system.view(o, "delay") == DELAY
    assert system.view(o, "max_age") == MAX_AGE
    assert system.view(o, "source_price") == ETH_PRICE
    assert system.view(o, "next_price") == ETH_PRICE
    assert system.view(o, "current_price") == ETH_PRICE
    assert (
        system.view(o, "current_time")
        == system.view(o, "source_time")
        == system.view(o, "next_time")
    )
    assert system.view(o, "last_poke") - system.view(o, "current_time") >= DELAY
    assert system.view(o, "authorized", r.governance) is True
    assert system.view(o, "authorized", r.stranger) is False
    assert system.view(o, "feeders", r.feeder) is True
    assert system.view(o, "feeders", r.governance) is False
    assert system.view(o, "peek") == (ETH_PRICE, True)
    assert system.view(o, "peek_next") == (ETH_PRICE, True)
    assert system.contract(o).peek() == (ETH_PRICE, True)


def test_oracle_constructor__records_parameters_and_starts_empty(system):
    r = system.roles
    oracle = deploy_oracle(system, 60, 600)
    assert logs(system) == [
        (oracle, "AuthorityAdded", {"account": r.governance}),
        (oracle, "DelaySet", {"delay": 60}),
        (oracle, "MaxAgeSet", {"max_age": 600}),
    ]
    assert system.view(oracle, "delay") == 60
    assert system.view(oracle, "max_age") == 600
    assert system.view(oracle, "authorized", r.governance) is True
    for getter in (
        "last_poke",
        "source_price",
        "source_time",
        "next_price",
        "next_time",
        "current_price",
        "current_time",
    ):
        assert system.view(oracle, getter) == 0
    assert system.view(oracle, "peek") == (0, False)
    assert system.view(oracle, "peek_next") == (0, False)


@pytest.mark.parametrize(
    "delay, max_age, reason",
    [
        (0, MAX_AGE, "oracle: zero delay"),
        (DELAY, DELAY, "oracle: max age not above delay"),
        (DELAY, DELAY - 1, "oracle: max age not above delay"),
    ],
    ids=["zero_delay", "max_age_equal_delay", "max_age_below_delay"],
)
def test_oracle_constructor__invalid_parameters__reverts(system, delay, max_age, reason):
    with reverts(reason):
        deploy_oracle(system, delay, max_age)


def test_oracle_post__by_feeder__records_source_without_changing_peek(system):
    r, o = system.roles, system.eth.oracle
    system.tx(o, "post", r.feeder, 2_500 * WAD)
    assert logs(system) == [(o, "PricePosted", {"feeder": r.feeder, "price": 2_500 * WAD})]
    assert system.view(o, "source_price") == 2_500 * WAD
    assert system.view(o, "source_time") == system.now
    assert system.view(o, "next_price") == ETH_PRICE
    assert system.view(o, "current_price") == ETH_PRICE


@pytest.mark.parametrize("role", ["governance", "keeper", "stranger"])
def test_oracle_post__by_non_feeder__reverts_not_a_feeder(system, role):
    with reverts("oracle: not a feeder"):
        system.tx(system.eth.oracle, "post", getattr(system.roles, role), 1_500 * WAD)
    assert system.view(system.eth.oracle, "source_price") == ETH_PRICE


def test_oracle_post__zero_price__reverts_zero_price(system):
    with reverts("oracle: zero price"):
        system.tx(system.eth.oracle, "post", system.roles.feeder, 0)


def test_oracle_poke__before_delay__reverts_too_early(system):
    r, o = system.roles, system.eth.oracle
    last_poke = system.view(o, "last_poke")
    with reverts("oracle: too early"):
        system.tx(o, "poke", r.keeper)  # a few seconds after the deployment's last poke
    warp_to(system, last_poke + DELAY - 1)
    with reverts("oracle: too early"):
        system.tx(o, "poke", r.keeper)
    # one second later (the next block) the delay has passed
    system.tx(o, "poke", r.keeper)
    assert system.now == last_poke + DELAY
    assert system.view(o, "last_poke") == last_poke + DELAY


def test_oracle_poke__nothing_ever_posted__reverts_no_price_posted(system):
    oracle = deploy_oracle(system)
    with reverts("oracle: no price posted"):
        system.tx(oracle, "poke", system.roles.keeper)


def test_posted_price__takes_effect_only_after_two_pokes_separated_by_delay(system):
    """A price posted now is queued by the first poke and made current by the second, at least
    `delay` seconds later; the safe price follows only then (2,000 -> 2,500 BUSD per ETH)."""
    r, o, t = system.roles, system.eth.oracle, system.eth
    system.tx(o, "post", r.feeder, 2_500 * WAD)
    posted_at = system.now

    # first poke (anyone may call) once the deployment's last poke is `delay` old: queued only
    first_poke = system.view(o, "last_poke") + DELAY
    warp_to(system, first_poke)
    system.tx(o, "poke", r.stranger)
    assert logs(system) == [(o, "Poked", {"current_price": ETH_PRICE, "next_price": 2_500 * WAD})]
    assert system.view(o, "current_price") == ETH_PRICE
    assert (system.view(o, "next_price"), system.view(o, "next_time")) == (2_500 * WAD, posted_at)
    assert system.view(o, "last_poke") == first_poke
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    assert safe_price(system, t) == ETH_SAFE_PRICE

    # a second poke before `delay` has passed again is refused
    warp_to(system, first_poke + DELAY - 1)
    with reverts("oracle: too early"):
        system.tx(o, "poke", r.stranger)

    # at first_poke + delay the posted price becomes current
    system.tx(o, "poke", r.stranger)
    assert system.now == first_poke + DELAY
    assert logs(system) == [(o, "Poked", {"current_price": 2_500 * WAD, "next_price": 2_500 * WAD})]
    assert (system.view(o, "current_price"), system.view(o, "current_time")) == (
        2_500 * WAD,
        posted_at,
    )
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    # 2500e18 * 1e9 * 1e27 // 1.5e27, rounded down
    assert safe_price(system, t) == 1_666_666_666_666_666_666_666_666_666_666


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


def test_oracle_set_delay__shorter_delay_allows_an_earlier_poke(system):
    r, o = system.roles, system.eth.oracle
    system.tx(o, "set_delay", r.governance, 60)
    assert logs(system) == [(o, "DelaySet", {"delay": 60})]
    assert system.view(o, "delay") == 60
    warp_to(system, system.view(o, "last_poke") + 60)
    system.tx(o, "poke", r.keeper)


def test_oracle_set_delay__just_below_max_age__is_accepted(system):
    system.tx(system.eth.oracle, "set_delay", system.roles.governance, MAX_AGE - 1)
    assert system.view(system.eth.oracle, "delay") == MAX_AGE - 1


@pytest.mark.parametrize(
    "new_value, reason",
    [
        (0, "oracle: zero delay"),
        (MAX_AGE, "oracle: max age not above delay"),
        (MAX_AGE + 1, "oracle: max age not above delay"),
    ],
    ids=["zero", "equal_max_age", "above_max_age"],
)
def test_oracle_set_delay__invalid__reverts(system, new_value, reason):
    with reverts(reason):
        system.tx(system.eth.oracle, "set_delay", system.roles.governance, new_value)
    assert system.view(system.eth.oracle, "delay") == DELAY


def test_oracle_set_max_age__shorter_max_age_makes_the_price_stale_at_once(system):
    r, t = system.roles, system.eth
    age = (
        system.now + 1 - system.view(t.oracle, "current_time")
    )  # the price's age at the next block
    assert age > DELAY + 1
    system.tx(t.oracle, "set_max_age", r.governance, DELAY + 1)
    assert logs(system) == [(t.oracle, "MaxAgeSet", {"max_age": DELAY + 1})]
    assert system.view(t.oracle, "max_age") == DELAY + 1
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    assert safe_price(system, t) == 0


@pytest.mark.parametrize(
    "new_value", [DELAY, DELAY - 1, 0], ids=["equal_delay", "below_delay", "zero"]
)
def test_oracle_set_max_age__not_above_delay__reverts(system, new_value):
    with reverts("oracle: max age not above delay"):
        system.tx(system.eth.oracle, "set_max_age", system.roles.governance, new_value)
    assert system.view(system.eth.oracle, "max_age") == MAX_AGE


def test_oracle_set_feeder__allows_and_forbids_posting(system):
    r, o = system.roles, system.eth.oracle
    system.tx(o, "set_feeder", r.governance, r.other, True)
    assert logs(system) == [(o, "FeederSet", {"feeder": r.other, "allowed": True})]
    system.tx(o, "post", r.other, 1_900 * WAD)
    assert system.view(o, "source_price") == 1_900 * WAD

    system.tx(o, "set_feeder", r.governance, r.feeder, False)
    assert logs(system) == [(o, "FeederSet", {"feeder": r.feeder, "allowed": False})]
    assert system.view(o, "feeders", r.feeder) is False
    with reverts("oracle: not a feeder"):
        system.tx(o, "post", r.feeder, 2_100 * WAD)


@pytest.mark.parametrize(
    "function, args",
    [
        ("add_authority", ("stranger",)),
        ("remove_authority", ("governance",)),
        ("set_feeder", ("stranger", True)),
        ("set_delay", (60,)),
        ("set_max_age", (MAX_AGE * 2,)),
    ],
)
def test_oracle_privileged__by_stranger__reverts_not_authorized(system, function, args):
    args = tuple(getattr(system.roles, a) if isinstance(a, str) else a for a in args)
    with reverts("authorized: not authorized"):
        system.tx(system.eth.oracle, function, system.roles.stranger, *args)


def test_oracle_add_and_remove_authority__grants_and_revokes_setters(system):
    r, o = system.roles, system.eth.oracle
    system.tx(o, "add_authority", r.governance, r.keeper)
    assert logs(system) == [(o, "AuthorityAdded", {"account": r.keeper})]
    system.tx(o, "set_max_age", r.keeper, MAX_AGE * 2)
    assert system.view(o, "max_age") == MAX_AGE * 2

    system.tx(o, "remove_authority", r.governance, r.keeper)
    assert logs(system) == [(o, "AuthorityRemoved", {"account": r.keeper})]
    assert system.view(o, "authorized", r.keeper) is False
    with reverts("authorized: not authorized"):
        system.tx(o, "set_max_age", r.keeper, MAX_AGE)


# ================================================================ Spotter


def test_spotter__getters__engine_oracles_and_ratios(system):
    r, sp = system.roles, system.d.spotter
    assert system.view(sp, "engine") == system.d.engine
    assert system.view(sp, "authorized", r.governance) is True
    assert system.view(sp, "authorized", r.stranger) is False
    assert system.view(sp, "oracles", system.eth.type_id) == system.eth.oracle
    assert system.view(sp, "oracles", system.btc.type_id) == system.btc.oracle
    assert system.view(sp, "liquidation_ratios", system.eth.type_id) == 15 * 10**26
    assert system.view(sp, "liquidation_ratios", system.btc.type_id) == 145 * 10**25
    assert system.view(sp, "oracles", NEW_TYPE) == "0x0000000000000000000000000000000000000000"
    assert system.view(sp, "liquidation_ratios", NEW_TYPE) == 0


@pytest.mark.parametrize(
    "type_name, expected",
    [("ETH-A", ETH_SAFE_PRICE), ("WBTC-A", BTC_SAFE_PRICE)],
)
def test_spotter_poke__safe_price_is_price_over_ratio_rounded_down(system, type_name, expected):
    r, sp = system.roles, system.d.spotter
    t = system.d.types[type_name]
    price = system.view(t.oracle, "current_price")
    ratio = system.view(sp, "liquidation_ratios", t.type_id)
    assert price * 10**9 * RAY % ratio != 0  # the division is inexact: rounding is exercised
    assert call(system, sp, "poke", r.stranger, t.type_id) == expected

    system.tx(sp, "poke", r.stranger, t.type_id)

    assert safe_price(system, t) == expected
    assert logs(system) == [
        (system.d.engine, "SafePriceSet", {"collateral_type": t.type_id, "new_value": expected}),
        (
            sp,
            "Poked",
            {"collateral_type": t.type_id, "price": price, "valid": True, "safe_price": expected},
        ),
    ]


def test_spotter_poke__invalid_price__returns_zero(system):
    r, t = system.roles, system.eth
    make_stale(system, t)
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    # eth_call runs on the latest block's state, one second later still stale
    assert call(system, system.d.spotter, "poke", r.keeper, t.type_id) == 0


@pytest.mark.parametrize(
    "ratio, expected",
    [
        (RAY, 2_000 * RAY),  # the lower bound: safe price = price
        (17 * 10**26, 1_176_470_588_235_294_117_647_058_823_529),  # 1.7: rounded down
        (3 * RAY, 666_666_666_666_666_666_666_666_666_666),  # 3: rounded down
        (100 * RAY, 20 * RAY),  # the upper bound
    ],
    ids=["one", "1.7", "three", "hundred"],
)
def test_spotter_set_liquidation_ratio__next_poke_divides_by_it(system, ratio, expected):
    r, sp, t = system.roles, system.d.spotter, system.eth
    system.tx(sp, "set_liquidation_ratio", r.governance, t.type_id, ratio)
    assert logs(system) == [
        (sp, "LiquidationRatioSet", {"collateral_type": t.type_id, "new_value": ratio})
    ]
    assert system.view(sp, "liquidation_ratios", t.type_id) == ratio
    assert safe_price(system, t) == ETH_SAFE_PRICE  # nothing changes before the next poke

    system.tx(sp, "poke", r.keeper, t.type_id)
    assert safe_price(system, t) == expected


@pytest.mark.parametrize(
    "ratio, reason",
    [
        (RAY - 1, "spotter: ratio below 1"),
        (0, "spotter: ratio below 1"),
        (100 * RAY + 1, "spotter: ratio above 100"),
    ],
    ids=["just_below_one", "zero", "just_above_hundred"],
)
def test_spotter_set_liquidation_ratio__out_of_bounds__reverts(system, ratio, reason):
    with reverts(reason):
        system.tx(
            system.d.spotter,
            "set_liquidation_ratio",
            system.roles.governance,
            system.eth.type_id,
            ratio,
        )
    assert system.view(system.d.spotter, "liquidation_ratios", system.eth.type_id) == 15 * 10**26


def test_spotter_set_oracle__switches_the_price_source(system):
    """ETH-A priced by the WBTC oracle: 30,000 / 1.5 = 20,000 ray per ETH after the next poke."""
    r, sp, t = system.roles, system.d.spotter, system.eth
    system.tx(sp, "set_oracle", r.governance, t.type_id, system.btc.oracle)
    assert logs(system) == [
        (sp, "OracleSet", {"collateral_type": t.type_id, "oracle": system.btc.oracle})
    ]
    assert system.view(sp, "oracles", t.type_id) == system.btc.oracle
    system.tx(sp, "poke", r.keeper, t.type_id)
    assert safe_price(system, t) == 20_000 * RAY


def test_spotter_set_oracle__zero_address__reverts_zero_oracle(system):
    with reverts("spotter: zero oracle"):
        system.tx(
            system.d.spotter,
            "set_oracle",
            system.roles.governance,
            system.eth.type_id,
            "0x0000000000000000000000000000000000000000",
        )
    assert system.view(system.d.spotter, "oracles", system.eth.type_id) == system.eth.oracle


def test_spotter_poke__unknown_type__reverts_no_oracle(system):
    with reverts("spotter: no oracle"):
        system.tx(system.d.spotter, "poke", system.roles.keeper, NEW_TYPE)


def test_spotter_poke__oracle_but_no_ratio__reverts_no_liquidation_ratio(system):
    r, sp = system.roles, system.d.spotter
    system.tx(sp, "set_oracle", r.governance, NEW_TYPE, system.eth.oracle)
    with reverts("spotter: no liquidation ratio"):
        system.tx(sp, "poke", r.keeper, NEW_TYPE)


def test_spotter_poke__type_unknown_to_engine__reverts_type_not_initialized(system):
    r, sp = system.roles, system.d.spotter
    system.tx(sp, "set_oracle", r.governance, NEW_TYPE, system.eth.oracle)
    system.tx(sp, "set_liquidation_ratio", r.governance, NEW_TYPE, 2 * RAY)
    with reverts("engine: type not initialized"):
        system.tx(sp, "poke", r.keeper, NEW_TYPE)


def test_spotter_poke__spotter_without_price_role_in_engine__reverts(system):
    r = system.roles
    system.tx(system.d.engine, "revoke_role", r.governance, system.d.spotter, int(Role.PRICE))
    with reverts("authorized: not authorized"):
        system.tx(system.d.spotter, "poke", r.keeper, system.eth.type_id)


def test_spotter_poke__after_engine_shutdown__reverts_not_live(system):
    r = system.roles
    system.tx(system.d.engine, "shutdown", r.governance)
    with reverts("engine: not live"):
        system.tx(system.d.spotter, "poke", r.keeper, system.eth.type_id)


@pytest.mark.parametrize(
    "function, args",
    [
        ("add_authority", ("stranger",)),
        ("remove_authority", ("governance",)),
        ("set_oracle", ("eth_type", "stranger")),
        ("set_liquidation_ratio", ("eth_type", 2 * RAY)),
    ],
)
def test_spotter_privileged__by_stranger__reverts_not_authorized(system, function, args):
    named = {
        "stranger": system.roles.stranger,
        "governance": system.roles.governance,
        "eth_type": system.eth.type_id,
    }
    args = tuple(named.get(a, a) if isinstance(a, str) else a for a in args)
    with reverts("authorized: not authorized"):
        system.tx(system.d.spotter, function, system.roles.stranger, *args)


def test_spotter_add_and_remove_authority__grants_and_revokes_setters(system):
    r, sp, t = system.roles, system.d.spotter, system.eth
    system.tx(sp, "add_authority", r.governance, r.keeper)
    assert logs(system) == [(sp, "AuthorityAdded", {"account": r.keeper})]
    system.tx(sp, "set_liquidation_ratio", r.keeper, t.type_id, 2 * RAY)
    assert system.view(sp, "liquidation_ratios", t.type_id) == 2 * RAY

    system.tx(sp, "remove_authority", r.governance, r.keeper)
    assert logs(system) == [(sp, "AuthorityRemoved", {"account": r.keeper})]
    assert system.view(sp, "authorized", r.keeper) is False
    with reverts("authorized: not authorized"):
        system.tx(sp, "set_liquidation_ratio", r.keeper, t.type_id, 3 * RAY)


# ---------------------------------------------------------------- the bound on a post, void


@pytest.mark.parametrize("bound", [WAD // 10, WAD, 10 * WAD])
def test_oracle_post__bound__exact_limits_pass_one_wei_beyond_reverts(system, bound):
    """A post may move at most max_change from the queued price: reference x (1 - m) and
    reference x (1 + m) pass, one wei beyond reverts (below: no lower limit once m >= 1)."""
    r, oracle = system.roles, system.eth.oracle
    system.tx(oracle, "set_max_change", r.governance, bound)
    assert system.events[-1].args == {"max_change": bound}
    reference = system.contract(oracle).next_price
    high = reference * (WAD + bound) // WAD
    system.tx(oracle, "post", r.feeder, high)
    with reverts("oracle: price move too large"):
        system.tx(oracle, "post", r.feeder, high + 1)
    if bound < WAD:
        low = -(-reference * (WAD - bound) // WAD)
        system.tx(oracle, "post", r.feeder, low)
        with reverts("oracle: price move too large"):
            system.tx(oracle, "post", r.feeder, low - 1)
    else:
        system.tx(oracle, "post", r.feeder, 1)


def test_oracle_set_max_change__zero_removes_the_bound_above_ten_reverts(system):
    r, oracle = system.roles, system.eth.oracle
    with reverts("oracle: max change above 10"):
        system.tx(oracle, "set_max_change", r.governance, 10 * WAD + 1)
    system.tx(oracle, "set_max_change", r.governance, 0)
    system.tx(oracle, "post", r.feeder, 1)
    system.tx(oracle, "post", r.feeder, 10**40)
    with reverts("authorized: not authorized"):
        system.tx(oracle, "set_max_change", r.feeder, WAD)


def test_oracle_void__nothing_queued_yet__keeps_the_empty_state(system):
    """Void on an oracle that never poked: next = current = 0, the post is dropped."""
    r = system.roles
    oracle = system.lockstep.deploy("PriceOracle", r.governance, 3600, 7200)
    system.tx(oracle, "set_feeder", r.governance, r.feeder, True)
    system.tx(oracle, "post", r.feeder, 5 * WAD)
    system.tx(oracle, "void", r.governance)
    assert system.events[-1].args == {"voided_price": 0}
    assert system.contract(oracle).source_price == 0
    with reverts("oracle: no price posted"):
        system.tx(oracle, "poke", r.keeper)
