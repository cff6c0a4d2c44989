"""VaultEngine.set_size_margin and the size-aware safety check (contracts/modules/size_margin.vy):
a type's liquidation ratio rises with a vault's debt above a threshold, by `slope` ppm per further
threshold of debt, at most `cap` ppm. The expected numbers come from the rule as the module states
it (the specification's `margin_debt`), never from the model's size_margin.py.
Helpers: tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

import pytest
from support.vault_engine import UNKNOWN_TYPE, ctype, logged, read, send

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import reverts
from offchain.testing.specification.curves import margin_debt

# 10,000 BUSD threshold, +10% of the base ratio per further 10,000, at most +30%
SIZE = (10_000, 100_000, 300_000)


def _max_draw(collateral: int, rate: int, safe_price: int, size) -> int:
    """The most normalized debt a vault with `collateral` may hold and be safe at its size."""
    low, high = 0, collateral * safe_price // rate + 1
    while high - low > 1:
        mid = (low + high) // 2
        if margin_debt(mid * rate, size) <= collateral * safe_price:
            low = mid
        else:
            high = mid
    return low


def test_set_size_margin__stores_packs_and_logs_and_keeps_the_safe_price(system):
    """The three parameters are stored (view size_margin), logged, and share the safe price's slot
    without touching it: a later safe price (a poke) keeps them, and they keep it."""
    tid, btc = system.eth.type_id, system.btc.type_id
    price = ctype(system, tid).safe_price
    send(system, "set_size_margin", system.roles.governance, tid, *SIZE)
    assert read(system, "size_margin", tid) == SIZE
    assert read(system, "size_margin_word", tid) == 10_000 << 48 | 100_000 << 24 | 300_000
    assert read(system, "size_margin", btc) == (0, 0, 0)
    assert read(system, "safe_price", tid) == ctype(system, tid).safe_price == price
    assert logged(
        system, "SizeMarginSet", collateral_type=tid, threshold=10_000, slope=100_000, cap=300_000
    )
    send(system, "set_safe_price", system.roles.governance, tid, 7 * RAY + 1)
    assert read(system, "size_margin", tid) == SIZE
    assert read(system, "safe_price", tid) == 7 * RAY + 1
    send(system, "set_size_margin", system.roles.governance, tid, 0, 0, 0)
    assert read(system, "size_margin", tid) == (0, 0, 0)
    assert read(system, "safe_price", tid) == 7 * RAY + 1


@pytest.mark.parametrize(
    "threshold,slope,cap,reason",
    [
        (0, 1, 1, "size margin: bad threshold"),
        (2**48, 1, 1, "size margin: bad threshold"),
        (1, 0, 1, "size margin: bad slope"),
        (1, 10**6 + 1, 1, "size margin: bad slope"),
        (1, 1, 0, "size margin: bad cap"),
        (1, 1, 10**6 + 1, "size margin: bad cap"),
        (0, 0, 1, "size margin: bad threshold"),
    ],
)
def test_set_size_margin__out_of_bounds__reverts(system, threshold, slope, cap, reason):
    with reverts(reason):
        send(
            system,
            "set_size_margin",
            system.roles.governance,
            system.eth.type_id,
            threshold,
            slope,
            cap,
        )


def test_set_size_margin__bounds_themselves__accepted(system):
    send(
        system,
        "set_size_margin",
        system.roles.governance,
        system.eth.type_id,
        2**48 - 1,
        10**6,
        10**6,
    )
    assert read(system, "size_margin", system.eth.type_id) == (2**48 - 1, 10**6, 10**6)


def test_set_size_margin__not_governance_or_unknown_type__reverts(system):
    r = system.roles
    with reverts("authorized: not authorized"):
        send(system, "set_size_margin", r.borrower, system.eth.type_id, *SIZE)
    with reverts("engine: type not initialized"):
        send(system, "set_size_margin", r.governance, UNKNOWN_TYPE, *SIZE)


def test_finding_45_4__size_threshold_below_the_dust__refused_in_both_orders(system):
    """Issue 45, finding 4: with a threshold of 1,000 under the dust of 2,500, a size cut (which
    leaves at least the dust) finds no remainder for a large vault: a 1M vault at 1.70x that
    needs 2.25x could not be liquidated ("liquidator: no size cut"). The engine refuses the
    combination whichever is set first; a threshold equal to the dust, and the rule off, are
    accepted."""
    r, tid = system.roles, system.eth.type_id
    send(system, "set_dust", r.governance, tid, 2_500 * RAD)
    with reverts("engine: size threshold below dust"):
        send(system, "set_size_margin", r.governance, tid, 1_000, 100_000, 500_000)
    with reverts("engine: size threshold below dust"):
        send(system, "set_size_margin", r.governance, tid, 2_499, 100_000, 500_000)
    send(system, "set_size_margin", r.governance, tid, 2_500, 100_000, 500_000)
    assert read(system, "size_margin", tid) == (2_500, 100_000, 500_000)
    # the other order: a dust above the threshold now set
    with reverts("engine: dust above size threshold"):
        send(system, "set_dust", r.governance, tid, 2_500 * RAD + 1)
    send(system, "set_dust", r.governance, tid, 2_500 * RAD)
    send(system, "set_dust", r.governance, tid, 1_000 * RAD)
    # the rule off: any dust; on again, at least the dust
    send(system, "set_size_margin", r.governance, tid, 0, 0, 0)
    send(system, "set_dust", r.governance, tid, 30_000 * RAD)
    with reverts("engine: size threshold below dust"):
        send(system, "set_size_margin", r.governance, tid, 25_000, 100_000, 500_000)
    send(system, "set_size_margin", r.governance, tid, 30_000, 100_000, 500_000)
    assert ctype(system, tid).dust == 30_000 * RAD


def test_set_safe_price__above_160_bits__reverts_value_too_large(system):
    """The safe price shares its slot with the size margin: 2**160 ray (1.5e21 per whole token)
    and above is refused rather than spilled into it."""
    with reverts("engine: value too large"):
        send(system, "set_safe_price", system.roles.governance, system.eth.type_id, 2**160)
    send(system, "set_safe_price", system.roles.governance, system.eth.type_id, 2**160 - 1)


def test_modify_vault__large_vault__may_draw_exactly_its_size_limit(system):
    """Money flow: 100 ETH carries (at the base ratio) 133,333 BUSD; with the size margin the
    borrower can draw only up to the debt whose weighted debt fits: exactly that much succeeds,
    one wei more of normalized debt is refused as not safe. A vault under the threshold on the
    same type may still draw up to its base limit."""
    r, tid = system.roles, system.eth.type_id
    send(system, "set_size_margin", r.governance, tid, *SIZE)
    t = ctype(system, tid)
    most = _max_draw(100 * WAD, t.rate, t.safe_price, SIZE)
    base_most = 100 * WAD * t.safe_price // t.rate
    # the size margin binds: about 133,333 / 1.3 = 102,564 rather than 133,333
    assert 102_000 * WAD < most < 103_000 * WAD < base_most
    system.fund(r.borrower, "ETH-A", 100 * WAD)
    with reverts("engine: not safe"):
        send(
            system,
            "modify_vault",
            r.borrower,
            tid,
            r.borrower,
            r.borrower,
            r.borrower,
            100 * WAD,
            most + 1,
        )
    send(
        system, "modify_vault", r.borrower, tid, r.borrower, r.borrower, r.borrower, 100 * WAD, most
    )
    assert read(system, "is_safe", tid, r.borrower) is True
    assert read(system, "margin_debt", tid, most * t.rate) == margin_debt(most * t.rate, SIZE)
    assert read(system, "margin_debt", tid, most * t.rate) > most * t.rate
    # a small vault is judged at the base ratio (its weighted debt is its debt)
    small = 9_000 * WAD * RAY // t.rate
    assert read(system, "margin_debt", tid, small * t.rate) == small * t.rate
    system.open_vault(r.other, "ETH-A", 7 * WAD, small)
    assert read(system, "is_safe", tid, r.other) is True


def test_is_safe__governance_turns_size_margin_on__large_vault_becomes_unsafe(system):
    """A vault drawn to 90,000 on 100 ETH is safe at the base ratio (133,333); a size margin of
    +60% at most makes its weighted debt 144,000: unsafe, and the owner can no longer draw, but may
    always make it safer (5 ETH more: 140,000, still short of its weight; 10 ETH: safe again)."""
    r, tid = system.roles, system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 100 * WAD, 90_000 * WAD)
    assert read(system, "is_safe", tid, r.borrower) is True
    send(system, "set_size_margin", r.governance, tid, 10_000, 100_000, 600_000)
    assert read(system, "is_safe", tid, r.borrower) is False
    with reverts("engine: not safe"):
        send(system, "modify_vault", r.borrower, tid, r.borrower, r.borrower, r.borrower, 0, WAD)
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    send(system, "modify_vault", r.borrower, tid, r.borrower, r.borrower, r.borrower, 5 * WAD, 0)
    assert read(system, "is_safe", tid, r.borrower) is False
    send(system, "modify_vault", r.borrower, tid, r.borrower, r.borrower, r.borrower, 5 * WAD, 0)
    assert read(system, "is_safe", tid, r.borrower) is True


def test_margin_debt__the_rule_at_its_corners(system):
    """At the threshold the debt is its own weight; one rad above, the extra rounds up to one
    ppm; far above, the cap holds."""
    tid = system.eth.type_id
    send(system, "set_size_margin", system.roles.governance, tid, *SIZE)
    at = 10_000 * RAD
    assert read(system, "margin_debt", tid, at) == at
    assert read(system, "margin_debt", tid, at + 1) == -(-(at + 1) * (10**6 + 1) // 10**6)
    assert read(system, "margin_debt", tid, 20_000 * RAD) == 22_000 * RAD
    assert read(system, "margin_debt", tid, 10**9 * RAD) == 13 * 10**8 * RAD
    assert read(system, "margin_debt", system.btc.type_id, 10**9 * RAD) == 10**9 * RAD
