"""Liquidator.liquidate under a size margin (contracts/modules/size_margin.vy): a vault safe at the
base ratio but unsafe at its own size is cut, not taken whole: the least debt (at least the
dust) whose seizure, with collateral worth its tab (debt x penalty) at the safe price, leaves a
remainder safe at its own size with 1% of its requirement to spare (issue 45, finding 3); a
vault unsafe at the base ratio is liquidated as without a size margin. Expected numbers: the
rule as the Liquidator's docstring states it (the specification's `size_cut`, exact rationals),
checked against plain arithmetic here. Scenario and helpers: tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

import pytest
from support.liquidation import DUST, PENALTY, crash, ctype, liquidate, vault
from support.liquidation import set_type_cap as _set_type_cap

from offchain.backends.abi import revert_reason
from offchain.backends.rpc import RpcError
from offchain.model.errors import Revert
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts
from offchain.testing.specification.curves import (
    margin_debt,
    size_cut,
    size_cut_collateral,
    size_cut_cures,
    size_cut_problem,
)

# 10,000 BUSD threshold, +10% of the base ratio per further 10,000, at most +60%
SIZE = (10_000, 100_000, 600_000)


def _size_margin(system, size=SIZE) -> None:
    system.tx(
        system.d.engine, "set_size_margin", system.roles.governance, system.eth.type_id, *size
    )


def _liquidated(system) -> dict:
    return next(args for _, name, args in _events(system) if name == "Liquidated")


def _with_spare(left_collateral: int, left_debt: int, c, size=SIZE) -> bool:
    """The remainder covers its size requirement x 1.01 (the cut's spare)."""
    need = margin_debt(left_debt * c.rate, size)
    return left_collateral * c.safe_price * 100 >= need * 101


def _assert_least_cure(c, collateral: int, normalized: int, size, cut: int, halved: int) -> None:
    """`cut` keeps the size cut's bound (the specification's size_cut_problem: it cures, one
    wei less does not) and lies within the collateral's rounding grain of the cut the
    specification finds by halving the whole bracket (`halved`): the debt whose net cure is
    worth a few wei of collateral."""
    problem = size_cut_problem(
        collateral, normalized, c.rate, c.safe_price, c.dust, size, PENALTY, 2**255, cut
    )
    assert problem is None, problem
    grain = 4 * c.safe_price * WAD // (c.rate * (PENALTY - WAD)) + 2
    assert abs(cut - halved) <= grain


def test_liquidate__unsafe_by_size_alone__cut_by_the_least_cure(system):
    """Money flow: 100 ETH against 90,000 BUSD is safe at the base ratio (133,333 of safe value)
    but weighs 144,000 at its size (+60%, the cap; 145,440 with the 1% spare). Each BUSD of debt
    cut lowers that by 1.6 x 1.01 and takes 1.13 of safe value: about 12,107 / 0.486 = 24,900
    would cure it above the knee (70,000); the requirement falls faster below it, so 22,036
    BUSD cures it, with 18.7 ETH (its tab at the safe price), not the proportion (24.5 ETH;
    the proportional rule took 31,852). The remainder keeps its spare and cannot be liquidated
    again."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 100 * WAD, 90_000 * WAD)
    _size_margin(system)
    c = ctype(system, t)
    expected = size_cut(100 * WAD, 90_000 * WAD, c.rate, c.safe_price, c.dust, SIZE, PENALTY)
    assert expected is not None and expected > 0  # the rule applies and a cut exists
    assert 21_900 * WAD < expected * c.rate // RAY < 22_200 * WAD
    liquidate(system, r.borrower)
    seized = _liquidated(system)
    cut = seized["normalized_debt"]
    _assert_least_cure(c, 100 * WAD, 90_000 * WAD, SIZE, cut, expected)
    tab = -(-cut * c.rate * PENALTY // WAD)
    assert seized["collateral"] == -(-tab // c.safe_price)
    assert seized["collateral"] < -(-100 * WAD * cut // (90_000 * WAD))
    left_collateral, left_debt = vault(system, t, r.borrower)
    assert left_debt == 90_000 * WAD - cut
    assert _with_spare(left_collateral, left_debt, c)
    assert system.view(system.d.engine, "is_safe", t.type_id, r.borrower) is True
    with reverts("liquidator: vault is safe"):
        liquidate(system, r.borrower)


# docs/size-margin.md's parameters: threshold 25,000, +10% per threshold, at most +50%
DOC_SIZE = (25_000, 100_000, 500_000)


@pytest.mark.parametrize("debt, old_penalty", [(1_000_000, 110_912), (5_000_000, 630_912)])
def test_finding_45_3__vault_just_short_of_its_size_requirement__cut_by_the_least_cure(
    system, debt, old_penalty
):
    """Issue 45, finding 3: a vault at 2.231x its debt (at 2,000 BUSD per ETH; 149% of its
    base requirement of 1.5x, 0.9% short of its size requirement of 2.25x) was cut in
    proportion: the remainder keeps the same ratio, so only a remainder near the knee (150,000)
    was safe: the 1M vault lost 85% (penalty 110,912), the 5M one 97% (630,912), and the
    remainder was left 1 ppm from its limit. Now the least cure: about 7.2% of the debt, with
    collateral worth its tab at the safe price only; the remainder keeps 1% to spare, so two
    hours of fees (the issue's second cut) leave it safe."""
    r, t = system.roles, system.eth
    collateral = debt * WAD * 2231 // 1000 // 2000
    system.open_vault(r.borrower, "ETH-A", collateral, debt * WAD)
    _size_margin(system, DOC_SIZE)
    c = ctype(system, t)
    assert system.view(system.d.engine, "is_safe", t.type_id, r.borrower) is False
    expected = size_cut(collateral, debt * WAD, c.rate, c.safe_price, c.dust, DOC_SIZE, PENALTY)
    assert expected is not None
    liquidate(system, r.borrower)
    seized = _liquidated(system)
    cut = seized["normalized_debt"]
    _assert_least_cure(c, collateral, debt * WAD, DOC_SIZE, cut, expected)
    assert seized["collateral"] == size_cut_collateral(cut, c.rate, c.safe_price, PENALTY)
    # the least cure, not 85% / 97%: about 7.2% of the debt (0.84% repaid without a penalty
    # would cure it; the cut pays 1.13 of collateral per 1 of debt and keeps a 1% spare)
    assert 70 * debt // 1000 < seized["normalized_debt"] // WAD < 75 * debt // 1000
    penalty = seized["debt"] * (PENALTY - WAD) // WAD // RAD
    assert penalty < old_penalty // 10
    left_collateral, left_debt = vault(system, t, r.borrower)
    assert _with_spare(left_collateral, left_debt, c, DOC_SIZE)
    # two hours of fees at the devnet's fee: still safe, no second cut
    system.warp(2 * 3600)
    system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
    assert ctype(system, t).rate > c.rate
    with reverts("liquidator: vault is safe"):
        liquidate(system, r.borrower)


def test_liquidate__unsafe_at_the_base_ratio__taken_whole_as_without_size_margin(system):
    """A large vault the crash makes unsafe at the base ratio itself goes to auction whole: the
    size margin only ever seizes less, never more."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 100 * WAD, 60_000 * WAD)
    _size_margin(system)
    crash(system, t, 850 * WAD)  # 56,667 of safe value: unsafe at the base ratio
    liquidate(system, r.borrower)
    assert _liquidated(system)["normalized_debt"] == 60_000 * WAD
    assert vault(system, t, r.borrower) == (0, 0)


def test_liquidate__size_cut_larger_than_the_caps_room__caps_win(system):
    """With only 5,000 BUSD of room under the type's cap, the caps' amount (smaller than the
    size cut) is seized, as without a size margin."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 100 * WAD, 90_000 * WAD)
    _size_margin(system)
    _set_type_cap(system, t, 5_000 * RAD)
    c = ctype(system, t)
    cut = size_cut(100 * WAD, 90_000 * WAD, c.rate, c.safe_price, c.dust, SIZE, PENALTY)
    assert cut is not None and cut > 0
    liquidate(system, r.borrower)
    seized = _liquidated(system)["normalized_debt"]
    assert seized < cut and seized * c.rate < 5_000 * RAD


def test_liquidate__just_over_the_size_limit__cut_is_at_least_the_dust(system):
    """A vault a hair over its size limit needs a small cut; the Liquidator seizes at least the
    dust (an auction below dust could never be worth taking)."""
    r, t = system.roles, system.eth
    # 60,000 BUSD weighs 60,000 x 1.5 = 90,000 at +10% per 10,000 above 10,000; 67.49 ETH
    # carries 89,987 of safe value: the cure (about 900 BUSD, each one lowering the
    # requirement by 2.1 x 1.01) is below the dust: the dust instead
    system.open_vault(r.borrower, "ETH-A", 6_749 * WAD // 100, 60_000 * WAD)
    _size_margin(system)
    assert system.view(system.d.engine, "is_safe", t.type_id, r.borrower) is False
    c = ctype(system, t)
    cut = size_cut(6_749 * WAD // 100, 60_000 * WAD, c.rate, c.safe_price, c.dust, SIZE, PENALTY)
    assert cut is not None and cut == -(-DUST // c.rate)
    assert size_cut_cures(
        6_749 * WAD // 100, 60_000 * WAD, cut // 2, c.rate, c.safe_price, PENALTY, SIZE
    )
    liquidate(system, r.borrower)
    seized = _liquidated(system)["normalized_debt"]
    assert seized == -(-DUST // c.rate)
    assert system.view(system.d.engine, "is_safe", t.type_id, r.borrower) is True


def test_liquidate_many__size_margin_read_once_applies_to_each(system):
    """A batch applies the same rule to each vault: a safe small vault is skipped, a large one
    unsafe by size is cut."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 100 * WAD, 90_000 * WAD)
    system.open_vault(r.other, "ETH-A", 10 * WAD, 8_000 * WAD)
    _size_margin(system)
    c = ctype(system, t)
    cut = size_cut(100 * WAD, 90_000 * WAD, c.rate, c.safe_price, c.dust, SIZE, PENALTY)
    assert cut is not None and cut > 0
    system.tx(
        system.d.liquidator,
        "liquidate_many",
        r.keeper,
        t.type_id,
        [r.other, r.borrower],
        r.keeper,
    )
    _assert_least_cure(
        c, 100 * WAD, 90_000 * WAD, SIZE, _liquidated(system)["normalized_debt"], cut
    )
    assert vault(system, t, r.other) == (10 * WAD, 8_000 * WAD)


@pytest.mark.parametrize(
    "size, dust, debt, headroom_ppm",
    [
        # threshold 3,000 above the devnet dust 2,500: a 4,000 vault 2% above the base ratio,
        # its size asking for +3.3%
        ((3_000, 100_000, 600_000), None, 4_000, 20_000),
        # threshold 25,000; governance later raises the dust to 15,000: a 28,000 vault 1% above
        # the base ratio, its size asking +1.2%
        ((25_000, 100_000, 500_000), 15_000, 28_000, 10_000),
    ],
)
def test_liquidate__unsafe_by_size_but_no_cut_leaves_the_dust__refused_not_taken_whole(
    system, size, dust, debt, headroom_ppm
):
    """Found by the adversarial read of issue 35: a vault safe at the base ratio whose debt is
    above the threshold but below about two dusts has no cut (at least the dust, leaving at
    least the dust). It used to be taken whole, with the penalty on all its debt; it is refused
    ("no size cut") and keeps everything, and a batch skips it. It is safe at the base ratio: a
    fall to below that makes it liquidable as any vault."""
    r, t, e = system.roles, system.eth, system.d.engine
    if dust is not None:
        system.tx(e, "set_dust", r.governance, t.type_id, dust * RAD)
    c = ctype(system, t)
    debt_rad = debt * WAD * c.rate
    collateral = -(-debt_rad * (10**6 + headroom_ppm) // 10**6 // c.safe_price)
    system.open_vault(r.borrower, "ETH-A", collateral, debt * WAD)
    system.tx(e, "set_size_margin", r.governance, t.type_id, *size)
    c = ctype(system, t)
    value = collateral * c.safe_price
    assert debt * WAD * c.rate <= value < margin_debt(debt * WAD * c.rate, size)
    assert debt * WAD * c.rate < 2 * c.dust
    with reverts("liquidator: no size cut"):
        liquidate(system, r.borrower)
    system.tx(system.d.liquidator, "liquidate_many", r.keeper, t.type_id, [r.borrower], r.keeper)
    assert vault(system, t, r.borrower) == (collateral, debt * WAD)
    crash(system, t, 1_900 * WAD)  # unsafe at the base ratio now: taken whole, as ever
    liquidate(system, r.borrower)
    assert vault(system, t, r.borrower) == (0, 0)


def test_liquidate__cap_region_guess_beyond_the_bracket__bisection_stays_inside(system):
    """Found by the fuzz's baseline run: a vault whose cure lies below the knee, where the
    closed-form guess past the knee (which assumes the capped extra) points beyond the largest
    cut the bracket allows. The contract moved the bisection's lower end past its upper end,
    wrapped around in unchecked arithmetic and reverted without a reason where the model
    liquidated. The lower end now only narrows inside the bracket."""
    r, t = system.roles, system.eth
    size = (2_500, 60_240, 212_199)
    c = ctype(system, t)
    normalized = 9_583 * WAD
    need = margin_debt(normalized * c.rate, size)
    collateral = need * (10**6 - 60_784) // 10**6 // c.safe_price
    system.open_vault(r.borrower, "ETH-A", collateral, normalized)
    _size_margin(system, size)
    assert system.view(system.d.engine, "is_safe", t.type_id, r.borrower) is False
    expected = size_cut(collateral, normalized, c.rate, c.safe_price, c.dust, size, PENALTY)
    assert expected
    liquidate(system, r.borrower)
    _assert_least_cure(
        c, collateral, normalized, size, _liquidated(system)["normalized_debt"], expected
    )


def test_curing_cut__called_by_anyone_but_the_liquidator__refused_on_chain_and_in_the_model(system):
    """curing_cut is the size cut's bisection, which _liquidate calls on the Liquidator itself
    (so that a liquidation without a cut does not pay for the bisection's memory:
    docs/security.md, "What round four costs"). Its arithmetic assumes a configured type's
    numbers, so any other caller is refused, with the same reason by the twin; the numbers of
    the first test here (a vault the rule cuts) do not change that."""
    c = ctype(system, system.eth)
    size = (SIZE[0] << 48) | (SIZE[1] << 24) | SIZE[2]
    args = (100 * WAD, 90_000 * WAD, c.rate, c.safe_price, c.dust, PENALTY, size)
    with pytest.raises(RpcError) as chain:
        system.chain.call(system.d.liquidator, "curing_cut", *args)
    assert chain.value.data is not None
    assert revert_reason(bytes.fromhex(chain.value.data[2:])) == "liquidator: only itself"
    with pytest.raises(Revert) as model:
        system.contract(system.d.liquidator).curing_cut(*args)
    assert model.value.reason == "liquidator: only itself"
