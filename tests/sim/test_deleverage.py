"""The deleveraging layer in the lab (issue 35, item 3): the backstop keeper's ranking and its
shares by the level rule (offchain/sim/strategies/backstop_keeper.py; issue 63: the strongest
vaults come down to one strength level, so neither a tie nor a split nor one wei decides who
pays), its predicted charges against the Backstop's twin, the scenario's
`protocol.deleverage_buffer`, and a crash replayed with the deleverage order on a private Anvil
and in the model, reconciled to zero differences.

Money flow: a loss the layer parks is the Backstop's bad debt until the keeper lists vaults; each
listed vault then owes its share of its headroom more (VaultDeleveraged), the Backstop's bad
debt falls by as much, nothing is minted and nobody is paid; what no vault has room for stays
due (unbacked), and the comparison counts it."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from helpers import script_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.backends import ModelBackend
from offchain.model import deleverage as dl
from offchain.model.backstop import DEFAULT_DELEVERAGE_BUFFER, MAX_DELEVERAGE_VAULTS, Layer
from offchain.model.deleverage import Window
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import Role
from offchain.sim.scenario.load import ScenarioError, load_scenario
from offchain.sim.scenario.population import actor_address
from offchain.sim.strategies.keepers import (
    MIN_DELEVERAGE_CHARGE,
    BackstopParams,
    DeleverageView,
    deleverage_action,
    deleverage_calls,
    deleverage_charges,
    deleverage_ranked,
    deleverage_shares,
    lowest_safe_price,
    share_left,
    vault_headroom,
)
from offchain.system.config import load_config
from offchain.system.deployment import deploy_system
from offchain.testing.specification.deleverage import level_charges

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "tests" / "sim" / "data" / "may-2021-cascade-keeper.toml"
TYPE = b"ETH-A".ljust(32, b"\0")
VIEW = DeleverageView(
    due=10_000 * RAD, rate=RAY, safe_price=1_000 * RAY, size=0, buffer=WAD // 10, allowed=True
)
PARAMS = BackstopParams(
    actor_address("backstop_keeper"), "", "0xB0", "0xDA", "0x5B", "0xFE", TYPE, "0xA0", 0
)

# owner -> (collateral [wad], normalized debt [wad]); owners are distinct addresses
_vaults = st.dictionaries(
    st.integers(1, 2**160 - 1).map(lambda k: f"0x{k:040x}"),
    st.tuples(st.integers(0, 10**6 * WAD), st.integers(0, 10**9 * WAD)),
    max_size=120,
)


def _rows(vaults, v, windows=None):
    """The Specification's rows of the level rule (offchain/testing/specification/deleverage.py,
    the independent rewrite) for `vaults` without a size margin: (owner, value, need, headroom,
    room) of each vault with debt, headroom and share left."""
    windows = windows or {}
    out = []
    for owner, (collateral, art) in vaults.items():
        value, need = collateral * v.safe_price, art * v.rate
        limit = value * WAD // (WAD + v.buffer)
        left = share_left(windows.get(owner, Window()), v)
        if art and limit > need and left:
            out.append((owner, value, need, limit - need, left))
    return out


def _rounding(v, headroom, n):
    """What the level rule's charge of a vault with `headroom` may lose to rounding [rad]
    (Specification, level_rule_problems): headroom / 1e18 + rate + n + 1, n the candidates."""
    return Fraction(headroom, WAD) + v.rate + n + 1


def _charged(vaults, v, windows=None):
    """owner -> what the keeper's calls of one round (deleverage_calls, each charged in turn
    against the due the earlier ones left) charge it [rad], to the wei (the twin's arithmetic);
    and what stays due."""
    out: dict[str, int] = {}
    due = v.due
    for call in deleverage_calls(vaults, v, windows):
        got = deleverage_charges(vaults, call, replace(v, due=due), windows)
        assert sum(got.values()) == call.charge
        out.update(got)
        due -= call.charge
    return out, due


@settings(deadline=None)
@given(
    vaults=_vaults,
    safe_price=st.integers(1, 5_000 * RAY),
    buffer=st.integers(0, WAD),
    due=st.integers(0, 10**8).map(lambda k: k * RAD // 100),
)
def test_deleverage_calls__the_level_rule__each_vault_its_excess_over_one_level(
    vaults, safe_price, buffer, due
):
    """The keeper's shares are the level rule's (issue 63, finding 2), checked against the
    Specification's independent rewrite: each vault's planned charge, headroom x share / WAD, is
    at most its excess over the common strength level (capped at half its headroom) and below
    it by at most the stated rounding; a vault left out would pay at most that rounding. The
    calls list at most 50 owners each, in ascending order, strongest first, at most four; a
    vault without debt or room is never listed; the charges add up to at most the due."""
    v = DeleverageView(due, RAY, safe_price, 0, buffer, True, WAD // 2, 86_400, 1_000_000)
    calls = deleverage_calls(vaults, v)
    rows = _rows(vaults, v)
    exact = level_charges(rows, due)
    headroom = {row[0]: row[3] for row in rows}
    planned = {}
    for call in calls:
        keys = [int(o, 16) for o in call.owners]
        assert keys == sorted(keys) and len(set(keys)) == len(keys) <= MAX_DELEVERAGE_VAULTS
        for o, share in zip(call.owners, call.shares, strict=True):
            assert o not in planned and o in exact and share > 0
            planned[o] = Fraction(headroom[o] * share, WAD)
    assert len(calls) <= 4
    full = len(calls) == 4 and all(len(c.owners) == MAX_DELEVERAGE_VAULTS for c in calls)
    for o, charge in exact.items():
        rounding = _rounding(v, headroom[o], len(rows))
        if o in planned:
            assert charge - rounding <= planned[o] <= charge
        else:
            assert full or charge <= rounding or due < MIN_DELEVERAGE_CHARGE
    charged, left = _charged(vaults, v)
    assert sum(charged.values()) <= due and left == due - sum(charged.values())
    # strongest first: no vault of a later call is stronger than one of an earlier call
    power = {o: Fraction(c * safe_price, art * RAY) for o, (c, art) in vaults.items() if art}
    for first, later in zip(calls, calls[1:], strict=False):
        assert min(power[o] for o in first.owners) >= max(power[o] for o in later.owners)


def test_deleverage_calls__headroom_is_the_contracts__buffer_and_debt_count():
    """At a safe price of 1,000 and a 10% buffer, 11 collateral's limit is 10,000: a vault owing
    4,000 has 6,000 of room, one owing 10,000 none, one without debt none (a depositor); the
    due (10,000) is above what the one with room may pay (half its room, the max fraction):
    it pays that, listed alone."""
    vaults = {
        "0x" + "0" * 39 + "3": (11 * WAD, 4_000 * WAD),
        "0x" + "0" * 39 + "1": (11 * WAD, 10_000 * WAD),
        "0x" + "0" * 39 + "2": (11 * WAD, 0),
    }
    assert vault_headroom(11 * WAD, 4_000 * WAD, VIEW) == (10_000 * RAD, 6_000 * RAD)
    v = replace(VIEW, max_fraction=WAD // 2)
    calls = deleverage_calls(vaults, v)
    assert [(c.owners, c.shares) for c in calls] == [(["0x" + "0" * 39 + "3"], [WAD // 2])]
    assert calls[0].charge == 3_000 * RAD


def test_deleverage_calls__more_than_50_pay__50_a_call_strongest_first():
    """60 vaults of the same collateral, owing less and less (the last the strongest), and a due
    every one of them pays some of: two calls, the 50 strongest first, each in ascending
    address order (not the order of their strength), then the other 10."""
    vaults = {
        f"0x{k * 7919:040x}": (11 * WAD, 10_000 * WAD - k * WAD * 1_000 // 1_100)
        for k in range(1, 61)
    }
    v = replace(VIEW, due=100_000 * RAD, max_fraction=WAD)
    calls = deleverage_calls(vaults, v)
    assert [len(c.owners) for c in calls] == [MAX_DELEVERAGE_VAULTS, 10]
    debt = {o: vaults[o][1] for o in vaults}
    first = calls[0].owners
    assert sorted(debt[o] for o in first) == sorted(debt.values())[:MAX_DELEVERAGE_VAULTS]
    assert first == sorted(first, key=lambda o: int(o, 16))
    assert [debt[o] for o in first] != sorted(debt[o] for o in first)


def test_deleverage_calls__a_vault_whose_window_is_used__skipped_until_it_ends():
    """A vault whose window (Backstop.deleverage_window) has used the max fraction has no share
    left: the keeper charges the next strongest; one with share left pays at most that share;
    once its window has lasted the interval it pays again."""
    strong, weak = "0x" + "0" * 39 + "5", "0x" + "0" * 39 + "4"
    vaults = {strong: (20 * WAD, 4_000 * WAD), weak: (11 * WAD, 4_000 * WAD)}
    v = replace(VIEW, max_fraction=WAD // 2, interval=86_400, now=1_000_000)
    assert deleverage_ranked(vaults, v) == [strong, weak]
    used = {strong: Window(1_000_000 - 86_399, WAD // 2)}
    assert deleverage_shares(vaults, v, used) == {weak: WAD // 2}
    some = deleverage_shares(vaults, v, {strong: Window(1_000_000 - 86_399, WAD // 3)})
    assert some[strong] == WAD // 2 - WAD // 3 and weak in some
    ended = deleverage_shares(vaults, v, {strong: Window(1_000_000 - 86_400, WAD // 2)})
    assert ended[strong] == WAD // 2
    assert share_left(used[strong], v) == 0


# --- finding 45-2: a split position is ranked, listed and charged as the whole -----------------

# the numbers: ETH at 2,000 (liquidation ratio 1.5: a safe price of 1,333.3), a 25%
# buffer, half a vault's headroom per window at most
SPLIT_VIEW = DeleverageView(
    due=0,
    rate=RAY,
    safe_price=2_000 * RAY * 2 // 3,
    size=0,
    buffer=WAD // 4,
    allowed=True,
    max_fraction=WAD // 2,
    interval=86_400,
    now=1_000_000,
)
HONEST = {f"0x{0xA0000 + i:040x}": (100 * WAD, 60_000 * WAD) for i in range(50)}
WHOLE = {f"0x{0xF0000:040x}": (1_200 * WAD, 400_000 * WAD)}
PARTS = {f"0x{0xB0000 + i:040x}": (48 * WAD, 16_000 * WAD) for i in range(25)}


def _split_bound(v, vaults_whole, vaults_split, owner, parts):
    """|the parts' charges - the whole's| may be at most (Specification, level_rule_problems):
    each part's and the whole's rounding (headroom / 1e18 + rate + n + 1, n the candidates of
    its round)."""
    whole_rows, split_rows = _rows(vaults_whole, v), _rows(vaults_split, v)
    room = {row[0]: row[3] for row in whole_rows + split_rows}
    bound = _rounding(v, room[owner], len(whole_rows))
    return bound + sum(_rounding(v, room[o], len(split_rows)) for o in parts)


def test_finding_45_2__split_position__listed_and_charged_as_the_whole():
    """Issue 45, finding 2: a 1,200 ETH / 400k position (strength 4, 880k of headroom) cut into
    25 vaults of 48 ETH / 16k (35.2k each), beside 50 honest vaults of 100 ETH / 60k (strength
    2.2, 46.7k each). Ranked by absolute headroom the 50 honest vaults filled the list and the
    parts were never listed (charged 0). By the level rule (issue 63) the strongest pay first,
    down to one level: with a due the layer's capacity covers (2M: every vault pays the max
    fraction) and a smaller one (300k: the position alone, the honest vaults' strength above
    the level) the parts pay, together, what the whole pays, to the stated rounding, and the
    honest vaults pay what they pay beside the whole."""
    owner = next(iter(WHOLE))
    for due in (2_000_000 * RAD, 300_000 * RAD):
        v = replace(SPLIT_VIEW, due=due)
        whole, _ = _charged(HONEST | WHOLE, v)
        split, _ = _charged(HONEST | PARTS, v)
        assert all(split.get(o, 0) > 0 for o in PARTS)
        paid = sum(split[o] for o in PARTS)
        assert abs(paid - whole[owner]) <= _split_bound(
            v, HONEST | WHOLE, HONEST | PARTS, owner, PARTS
        )
        for o in HONEST:
            assert abs(split.get(o, 0) - whole.get(o, 0)) <= 2 * _rounding(v, 47_000 * RAD, 76)
        if due == 2_000_000 * RAD:
            assert 439_999 * RAD < whole[owner] <= 440_000 * RAD
        else:
            assert 299_999 * RAD < whole[owner] <= 300_000 * RAD and not set(HONEST) & set(whole)


@settings(deadline=None)
@given(
    parts=st.integers(2, 60),
    honest=st.integers(0, 80),
    due=st.integers(1, 10**7).map(lambda k: k * RAD),
    ratio=st.integers(17, 60),
)
def test_deleverage__split_invariant(parts, honest, due, ratio):
    """Split-invariance: cutting a vault into `parts` vaults of the same collateral ratio puts
    the parts, together, exactly where the whole was in the ranking (the others keep their
    order), and they pay, together, what the whole pays, to the stated rounding (the level rule
    is linear in value and requirement; issue 63), whatever the due and however many calls the
    round takes; the other vaults pay what they pay beside the whole, to their rounding."""
    v = replace(SPLIT_VIEW, due=due, max_fraction=WAD)
    others = {f"0x{0xA0000 + i:040x}": (100 * WAD, (30_000 + 997 * i) * WAD) for i in range(honest)}
    collateral, debt = 10 * parts * WAD, 10 * parts * WAD * 1_333 * 10 // ratio // parts * parts
    whole_owner = f"0x{0xF0000:040x}"
    part_owners = [f"0x{0xB0000 + i:040x}" for i in range(parts)]
    whole = others | {whole_owner: (collateral, debt)}
    split = others | {o: (collateral // parts, debt // parts) for o in part_owners}
    ranked_whole = deleverage_ranked(whole, v)
    ranked_split = deleverage_ranked(split, v)
    if whole_owner not in ranked_whole:
        assert not set(part_owners) & set(ranked_split)
        return
    at = ranked_whole.index(whole_owner)
    block = ranked_split[at : at + parts]
    assert sorted(block) == sorted(part_owners)
    assert ranked_split[:at] + ranked_split[at + parts :] == [
        o for o in ranked_whole if o != whole_owner
    ]
    if len(ranked_split) > 4 * MAX_DELEVERAGE_VAULTS:
        return  # a round of four calls may leave the weakest of the level to the next
    paid_whole, _ = _charged(whole, v)
    paid_split, _ = _charged(split, v)
    got = sum(paid_split.get(o, 0) for o in part_owners)
    assert abs(got - paid_whole.get(whole_owner, 0)) <= _split_bound(
        v, whole, split, whole_owner, part_owners
    )
    n = len(ranked_split)
    for o in others:
        room = vault_headroom(*others[o], v)[1]
        assert abs(paid_split.get(o, 0) - paid_whole.get(o, 0)) <= 2 * _rounding(v, room, n)


# --- issue 72: what a holder of the role that ignores the rule can move -----------------------


def _paid(vaults, v, shares):
    """owner -> what one `deleverage` giving `shares` (owner -> share) charges [rad], to the wei
    (the twin's arithmetic, offchain/model/deleverage.py's charges)."""
    rows = [
        dl.VaultRow(o, vaults[o][0], vaults[o][1], Window(), shares[o])
        for o in sorted(shares, key=lambda o: int(o, 16))
    ]
    return {c.owner: c.added * v.rate for c in dl.charges(rows, v.due, v.pricing, v.limits, v.now)}


# a book of vaults with room: owner -> (collateral, normalized debt) [wad], each of 1 to 1,000
# tokens at a strength of 1.2 to 6 (at a safe price of 1,000 and rate 1)
_book = st.lists(
    st.tuples(st.integers(1, 1_000), st.integers(120, 600)), min_size=1, max_size=60
).map(
    lambda rows: {
        f"0x{0xC0000 + i:040x}": (c * WAD, c * WAD * 1_000 * 100 // strength)
        for i, (c, strength) in enumerate(rows)
    }
)


@settings(deadline=None)
@given(
    vaults=_book,
    buffer=st.integers(0, WAD // 2),
    percent=st.integers(0, 150),
    spared=st.integers(0, 10),
    drawn=st.lists(st.integers(0, WAD), max_size=60),
)
def test_reach__a_rule_ignoring_holder__moves_at_most_reach_moved_and_can_move_all_of_it(
    vaults, buffer, percent, spared, drawn
):
    """Issue 72: a DELEVERAGE holder that ignores the level rule spares some vaults (here the
    `spared` strongest: its own and its friends') and gives the others any shares. `reach`'s
    charges under the rule are the Specification's (level_charges, exact, independently
    written) and its caps each vault's headroom x its share left. Whatever shares the others
    get (drawn), they pay beyond the rule at most `reach.moved` (at most what the spared
    vaults save), each at most its cap: the bound is an upper bound. And it is reached, to the
    rounding: the rule's shares over the others alone (a round that looks like the keeper's)
    move all of it. The due is `percent` of what all the vaults can pay now (their caps)."""
    v = DeleverageView(0, RAY, 1_000 * RAY, 0, buffer, True, WAD // 2, 86_400, 1_000_000)
    cands = dl.candidates(vaults, {}, v.pricing, v.limits, v.now)
    due = int(sum(c.cap for c in cands) * percent / 100)
    v = replace(v, due=due)
    spare = {c.owner for c in cands[:spared]}
    r = dl.reach(cands, due, spare)
    rows = _rows(vaults, v)
    assert r.level == level_charges(rows, due)
    assert r.cap == {row[0]: Fraction(row[3] * row[4], WAD) for row in rows}
    assert 0 <= r.moved <= r.saved and r.parked >= 0
    others = [c for c in cands if c.owner not in spare]
    theirs = sum((r.level[c.owner] for c in others), Fraction(0))
    paid = _paid(vaults, v, {c.owner: share for c, share in zip(others, drawn, strict=False)})
    assert sum(paid.values()) - theirs <= r.moved
    assert all(paid[o] <= r.cap[o] for o in paid)
    paid = _paid(vaults, v, dl.level_shares(others, due))
    slack = sum(_rounding(v, c.headroom, len(others)) for c in others)
    assert sum(paid.values()) - theirs >= r.moved - slack
    assert all(paid[o] <= r.cap[o] for o in paid)


# --- finding 63-2: a tie, a split of it, one wei of rounding ------------------------------------

# 50 honest vaults and one position, all of one collateral ratio (100 ETH / 60k, strength 2.22
# at 2,000 and 1.5x; 1,200 ETH / 720k the whole, 25 parts of 48 ETH / 28.8k): one tie of 75 or
# 51 vaults, across two calls of the keeper's round
TIED_WHOLE = {f"0x{0xF0000:040x}": (1_200 * WAD, 720_000 * WAD)}
TIED_PARTS = {f"0x{0xB0000 + i:040x}": (48 * WAD, 28_800 * WAD) for i in range(25)}


def test_finding_63_2__a_tie_split_in_25_parts__they_pay_what_the_whole_pays():
    """Issue 63, finding 2: at one collateral ratio the keeper ordered the tie by address (and
    normalized debt's rounding), listed the 50 strongest and cut: the 25 parts of a position,
    beside 50 honest vaults of the same ratio, were not listed and paid nothing while the
    honest vaults paid their share. By the level rule every tied vault pays the same share of
    its headroom: with 300k due the parts pay, together, what the whole would pay (58,064.5),
    to the Specification's rounding, over the keeper's two calls; the honest vaults pay what
    they pay beside the whole (4,838.7 each)."""
    v = replace(SPLIT_VIEW, due=300_000 * RAD)
    owner = next(iter(TIED_WHOLE))
    whole, left_whole = _charged(HONEST | TIED_WHOLE, v)
    split, left_split = _charged(HONEST | TIED_PARTS, v)
    assert len(deleverage_calls(HONEST | TIED_PARTS, v)) == 2
    assert 58_064 * RAD < whole[owner] < 58_065 * RAD
    paid = sum(split[o] for o in TIED_PARTS)
    bound = _split_bound(v, HONEST | TIED_WHOLE, HONEST | TIED_PARTS, owner, TIED_PARTS)
    assert abs(paid - whole[owner]) <= bound < RAD // 10**11
    for o in HONEST:
        assert 4_838 * RAD < split[o] < 4_839 * RAD
        assert abs(split[o] - whole[o]) <= 2 * _rounding(v, 46_667 * RAD, 75)
    assert left_whole < RAD and left_split < RAD


@pytest.mark.parametrize("who", ["part", "whole", "honest"])
def test_finding_63_2__one_wei_more__changes_a_charge_by_about_one_wei(who):
    """Issue 63, finding 2: one vault of the tie draws one wei more normalized debt (a part, the
    whole, or an honest vault), which made it the weakest of the tie and, past the 50th, cut it
    off the keeper's list. By the level rule its charge falls by at most one rate (the wei's
    debt) plus the stated rounding, and everyone else's moves by as little."""
    v = replace(SPLIT_VIEW, due=300_000 * RAD)
    base = HONEST | (TIED_WHOLE if who == "whole" else TIED_PARTS)
    target = {"part": next(iter(TIED_PARTS)), "whole": next(iter(TIED_WHOLE))}.get(
        who, next(iter(HONEST))
    )
    moved = base | {target: (base[target][0], base[target][1] + 1)}
    before, _ = _charged(base, v)
    after, _ = _charged(moved, v)
    n = len(base)
    for o in base:
        room = vault_headroom(*base[o], v)[1]
        slack = 2 * _rounding(v, room, n) + (v.rate if o == target else 0)
        assert abs(after[o] - before[o]) <= slack, o
    assert after[target] > 0


def test_finding_63_2__a_vault_a_hair_weaker__pays_a_hair_less_not_nothing():
    """Issue 63, finding 2, read as an attacker: a cut at a rank, or at a tie band's edge,
    lets a vault escape by being marginally weaker than the last one charged (2e-9 more debt:
    1.4 stablecoin on the 720k position). By the level rule its charge is continuous in its
    strength: 2e-9 weaker, it pays its excess over the level, within 2e-9 x its debt of what it
    paid tied."""
    v = replace(SPLIT_VIEW, due=300_000 * RAD)
    owner = next(iter(TIED_WHOLE))
    collateral, debt = TIED_WHOLE[owner]
    tied, _ = _charged(HONEST | TIED_WHOLE, v)
    weaker = debt + debt * 2 // 10**9
    hair, _ = _charged(HONEST | {owner: (collateral, weaker)}, v)
    assert hair[owner] > 0
    assert abs(tied[owner] - hair[owner]) <= (weaker - debt) * v.rate + 2 * RAD // 10**6


def test_lowest_safe_price__a_lower_price_the_oracle_shows_counts_now():
    """Backstop._lowest_safe_price: the engine's safe price, or an oracle price (current,
    queued, posted; 0 ignored) over the liquidation ratio if lower, rounded down."""
    ratio = 3 * RAY // 2
    assert lowest_safe_price(1_000 * RAY, (1_500 * WAD, 0, 1_800 * WAD), ratio) == 1_000 * RAY
    assert lowest_safe_price(1_000 * RAY, (1_500 * WAD, 1_200 * WAD, 0), ratio) == 800 * RAY
    assert lowest_safe_price(1_000 * RAY, (1 * WAD,), 0) == 1_000 * RAY  # no ratio: the engine's


def _deployment_with_due(due: int):
    """A model deployment whose order is the deleveraging layer alone (buffer 10%), the keeper
    granted the
    role, five vaults of ETH-A at collateral ratios 1.6 to 4 (at the price 2,000; the
    liquidation ratio is 1.5) and one without debt, and `due` of
    the type's loss parked for the layer (as a cover would leave it: the Backstop's bad debt)."""
    cfg = load_config()
    cfg = replace(
        cfg,
        waterfall=replace(cfg.waterfall, order=(Layer.DELEVERAGE,), deleverage_buffer=WAD // 10),
        # no margin calls: a 10% buffer is below their 1.2 warning factor, which the contracts
        # refuse (issue 63, finding 3)
        collateral=tuple(replace(c, margin_call=False) for c in cfg.collateral),
    )
    gov, feeder, keeper = (actor_address(r) for r in ("governance", "feeder", "backstop_keeper"))
    model = ModelBackend(1_700_000_000)
    d = deploy_system(model, cfg, gov, feeder, seed_pools=False, deleverager=keeper)
    t = d.types["ETH-A"]
    owners = [actor_address("vault", i) for i in range(6)]
    for owner, ratio in zip(owners, ("1.6", "2", "2.5", "3", "4", "0")):
        model.transact(t.token, "mint", gov, owner, 10 * WAD)
        model.transact(t.token, "approve", owner, t.join, 10 * WAD)
        model.transact(t.join, "join", owner, owner, 10 * WAD)
        art = 0 if ratio == "0" else int(20_000 * WAD / float(ratio))
        model.transact(
            d.engine, "modify_vault", owner, t.type_id, owner, owner, owner, 10 * WAD, art
        )
    model.transact(d.engine, "create_unbacked", gov, d.backstop, gov, due)
    backstop = model.contract(d.backstop)
    backstop.due_to_deleverage[t.type_id] = due
    backstop.deleverage_total = due
    return model, d, t, keeper, owners


@pytest.mark.parametrize("due", [1_000 * RAD, 10**9 * RAD, 12_345_678_901_234_567_891 * RAY])
def test_deleverage_charges__the_backstop_twins_to_the_wei(due):
    """What the keeper predicts each listed vault pays is what Backstop.deleverage charges it
    (VaultDeleveraged), to the wei: with a due below the vaults' room (the strongest come down
    to the level), above it (each its room) and an odd one (the rounding); the keeper's shares
    are never scaled down by the contract."""
    from offchain.sim.strategies.observe import read_deleverage_view, read_windows

    model, d, t, keeper, owners = _deployment_with_due(due)
    engine = model.contract(d.engine)
    vaults = {o: tuple(engine.vaults[(t.type_id, o)])[:2] for o in owners}
    view = read_deleverage_view(model.views, d, t, keeper, lambda: model.next_block_time)
    assert view is not None and view.allowed and view.due == due
    assert (view.max_fraction, view.interval) == (WAD // 2, 86_400)  # the contract's defaults
    calls = deleverage_calls(vaults, view)
    listed = {o for c in calls for o in c.owners}
    # at 1.6 a vault is within its buffer (1.5 x 1.1 = 1.65): it and the depositor pay nothing
    assert listed <= set(owners[1:5]) and owners[4] in listed
    charged: dict[str, int] = {}
    for call in calls:
        due_now = model.contract(d.backstop).deleverage_due(t.type_id)
        predicted = deleverage_charges(vaults, call, replace(view, due=due_now))
        model.transact(d.backstop, "deleverage", keeper, t.type_id, call.owners, call.shares)
        got = {
            e.args["owner"]: e.args["debt"]
            for e in model.last_events
            if e.name == "VaultDeleveraged"
        }
        assert got == predicted and sum(got.values()) == call.charge
        charged.update(got)
    assert model.contract(d.backstop).deleverage_due(t.type_id) == due - sum(charged.values())
    # every charged vault keeps (1 + buffer) x its requirement
    for o in charged:
        v = engine.vaults[(t.type_id, o)]
        price = engine.collateral_types[t.type_id].safe_price
        assert v.collateral * price * WAD >= v.normalized_debt * RAY * (WAD + view.buffer)
    # at once again: the charged vaults' windows hold the shares charged; the keeper reads the
    # windows and predicts what the twin then charges
    again = read_deleverage_view(model.views, d, t, keeper, lambda: model.next_block_time)
    if again is not None:
        now = {o: tuple(engine.vaults[(t.type_id, o)])[:2] for o in owners}
        ranked = deleverage_ranked(now, again)
        windows = read_windows(model.views, d, t, ranked, again, now)
        assert all(windows[o].used != 0 for o in charged if o in windows)
        for call in deleverage_calls(now, again, windows):
            due_now = model.contract(d.backstop).deleverage_due(t.type_id)
            predicted = deleverage_charges(now, call, replace(again, due=due_now), windows)
            model.transact(d.backstop, "deleverage", keeper, t.type_id, call.owners, call.shares)
            got = {
                e.args["owner"]: e.args["debt"]
                for e in model.last_events
                if e.name == "VaultDeleveraged"
            }
            assert got == predicted


def test_deleverage_action__only_when_allowed__due__not_in_flight__worth_a_stablecoin():
    vaults = {"0x" + "0" * 39 + "3": (11 * WAD, 4_000 * WAD)}
    action = deleverage_action(vaults, VIEW, PARAMS, set())
    assert action is not None
    assert action.function == "deleverage" and action.args == (TYPE, list(vaults), [WAD])
    assert action.targets == (("deleverage", TYPE),) and action.values == (6_000 * WAD,)
    assert deleverage_action(vaults, None, PARAMS, set()) is None
    denied = replace(VIEW, allowed=False)
    assert deleverage_action(vaults, denied, PARAMS, set()) is None
    assert deleverage_action(vaults, VIEW, PARAMS, {("deleverage", TYPE)}) is None
    assert deleverage_action({}, VIEW, PARAMS, set()) is None  # nobody has room
    dust = replace(VIEW, due=MIN_DELEVERAGE_CHARGE - 1)
    assert deleverage_action(vaults, dust, PARAMS, set()) is None


# --- the scenario's key, at the edge ---------------------------------------------------------


@pytest.mark.parametrize(
    "value, problem",
    [
        ('"1.5"', "protocol.deleverage_buffer: must be >= 0 and <= 1, got '1.5'"),
        ('"-0.1"', "protocol.deleverage_buffer: must be >= 0 and <= 1"),
        ('"ten"', "protocol.deleverage_buffer: is not a number: 'ten'"),
        ("1e400", "protocol.deleverage_buffer = 1e400 is out of range"),
        ("true", "protocol.deleverage_buffer: must be a number, got True"),
    ],
)
def test_scenario_deleverage_buffer__bad__one_line(tmp_path, value, problem):
    path = tmp_path / "lab.toml"
    path.write_text(LAB.read_text() + f"deleverage_buffer = {value}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(str(path))
    assert problem in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_scenario_deleverage_buffer__read_exactly__a_grid_key():
    s = load_scenario(str(LAB), overrides={"protocol": {"deleverage_buffer": "0.25"}})
    assert s.system.waterfall.deleverage_buffer == WAD // 4
    default = load_scenario(str(LAB)).system.waterfall.deleverage_buffer
    assert default == DEFAULT_DELEVERAGE_BUFFER  # the config leaves it out: the contract's
    from offchain.sweep.spec import grid_key

    assert grid_key("deleverage_buffer") is not None


def test_simulate_cli__bad_deleverage_buffer__exit_2_one_line_no_traceback(tmp_path):
    from click.testing import CliRunner

    path = tmp_path / "lab.toml"
    path.write_text(LAB.read_text() + "deleverage_buffer = 1e400\n")
    out = tmp_path / "report"
    result = CliRunner().invoke(
        script_cli("simulate"),
        ["--scenario", str(path), "--backend", "model", "--out", str(out), "--quiet"],
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "deleverage_buffer = 1e400 is out of range" in lines[0], lines
    assert "Traceback" not in result.output and not out.exists()


# --- a crash with the deleverage order, on Anvil and in the model -----------------------------


@pytest.fixture(scope="module")
def delevered(tmp_path_factory):
    """may-2021-cascade with its backstop keeper's covers landing (the lab's scenario), 300
    vaults, the order `deleverage` alone, on a private Anvil and in the model."""
    from offchain.sim.run.replay import replay
    from offchain.sim.scenario.load import waterfall_variant

    scenario = waterfall_variant(load_scenario(str(LAB), vaults=300), ("deleverage",))
    done = replay(scenario)
    return scenario, done.checked[0], done.model


@pytest.mark.slow
def test_deleverage_order__chain_and_model_agree_to_the_wei(delevered):
    from offchain.sim.results.reconcile import reconcile

    _, chain, model = delevered
    r = reconcile(chain, model)
    assert r.diffs == [] and r.diff_count == 0


@pytest.mark.slow
def test_deleverage_order__the_keeper_charges_the_parked_loss__receipts_add_up(delevered):
    """The role is granted at deployment to the backstop keeper, which charges what the layer
    parks; per type, the layer's receipts (LossAllocated, layer 6) = the vaults' charges
    (VaultDeleveraged) + what is still due at the end, exactly; no charge made a vault unsafe."""
    scenario, chain, _ = delevered
    txs, events = chain.tables["txs"], chain.tables["events"]
    keeper = actor_address("backstop_keeper")
    grants = [
        json.loads(a)
        for a in events[events.event == "RoleGranted"].args
        if json.loads(a)["account"] == keeper and int(json.loads(a)["role"]) == Role.DELEVERAGE
    ]
    assert grants, "the deployment grants the backstop keeper the DELEVERAGE role"
    sent = txs[txs.function == "deleverage"]
    assert len(sent) > 0 and (sent.status == "ok").all()
    allocated = [json.loads(a) for a in events[events.event == "LossAllocated"].args]
    parked = sum(int(x["amount"]) for x in allocated if int(x["layer"]) == Layer.DELEVERAGE)
    charged = sum(
        int(json.loads(a)["debt"]) for a in events[events.event == "VaultDeleveraged"].args
    )
    due = round(chain.facts["deleverage_due"] * RAD)
    assert parked > 0 and charged > 0
    assert abs(parked - charged - due) <= RAD // 10**6  # the fact is whole units (a float)
    charges = chain.tables["layer_charges"]
    assert set(charges.layer) == {"deleverage"} and charges.made_unsafe.sum() == 0
    assert charges.amount.sum() == pytest.approx(charged / RAD, rel=1e-12)
    payers = chain.tables["payers"]
    paid = payers[(payers.kind == "vault") & (payers.layer == "deleverage")].amount.sum()
    assert paid == pytest.approx(charged / RAD, rel=1e-12)


def test_contagion_table__a_column_per_layer__a_sweeps_type_figures_read_every_one():
    """The contagion table has every layer's column (deleverage and what it still holds
    included): a sweep's per-type figures (`paid_<layer>@<type>`, one per layer of
    results.tables.LAYER_NAMES) read each; without the deleverage column every run of a sweep over
    several types failed with KeyError: 'deleverage'."""
    from offchain.sim.results.tables import LAYER_NAMES
    from offchain.sim.run.driver import simulate
    from offchain.sweep.runs import type_figures

    result = simulate(load_scenario("may-2021-two-types", vaults=140), "model", None)
    figures = type_figures(result)
    for layer in LAYER_NAMES.values():
        assert f"paid_{layer}@ETH-A" in figures and f"paid_{layer}@WBTC-A" in figures
    assert "deleverage_due" in result.tables["contagion"].columns


def test_ledger__each_types_rate_and_safe_price__the_engines_at_the_end():
    """The ledger judges a charged vault with the rate and safe price it follows from events
    (from the engine's when it starts to follow): they are the engine's at the end of a run."""
    from offchain.sim.run.driver import Simulation
    from offchain.sim.scenario.load import waterfall_variant
    from offchain.sim.scenario.timeline import genesis_time

    s = waterfall_variant(load_scenario("may-2021-two-types", vaults=140), ("redistribution",))
    model = ModelBackend(genesis_time(s))
    sim = Simulation(s, model, "model", None)
    sim.run()
    engine = model.contract(sim.deployment.engine)
    for name, m in sim.markets.items():
        ctype = engine.collateral_types[sim.deployment.types[name].type_id]
        assert (m.ledger.rate, m.ledger.safe_price) == (ctype.rate, ctype.safe_price)
        assert ctype.rate > RAY  # fees accrued: the rate moved during the run


@pytest.mark.parametrize("due, batches", [(1_000 * RAD, 1), (400_000 * RAD, 3), (10**8 * RAD, 4)])
def test_read_windows__until_the_level_is_settled__the_same_calls_as_with_every_window(
    due, batches
):
    """The keeper reads `deleverage_window` a hundred vaults at a time, strongest first, until the
    level over the vaults read lies at or above the next vault's strength (no vault past them
    pays): a small due, one batch; a larger one, more; a due above every cap, all of them (350
    vaults of falling strength). Its calls with the windows read are the calls with every
    window."""
    from offchain.sim.strategies.observe import read_windows

    vaults = {f"0x{0xD0000 + k:040x}": (10 * WAD, (2_000 + 10 * k) * WAD) for k in range(350)}
    v = replace(SPLIT_VIEW, due=due)
    ranked = deleverage_ranked(vaults, v)
    reads: list[int] = []

    def read(calls):
        reads.append(len(calls))
        return [(0, 0)] * len(calls)

    t: Any = type("T", (), {"type_id": TYPE})()
    d: Any = type("D", (), {"backstop": "0xB0"})()
    windows = read_windows(read, d, t, ranked, v, vaults)
    assert len(reads) == batches and set(windows) == set(ranked[: sum(reads)])
    every = {o: Window() for o in ranked}
    got = [(c.owners, c.shares) for c in deleverage_calls(vaults, v, windows)]
    assert got == [(c.owners, c.shares) for c in deleverage_calls(vaults, v, every)] and got
