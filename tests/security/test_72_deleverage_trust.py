"""Issue 72: the trust the level rule moved off chain, measured. `Backstop.deleverage` checks each
charge against its vault's window (at most the share it has left of its headroom) and the call
against the due; it does not check the level rule (the strongest vaults come down to one strength
level). So the holder of the DELEVERAGE role, if it is also a vault owner (or colludes with some),
can spare its vaults and put their share of a parked loss on the vaults it chooses.

The book (devnet config: ETH at 2,000, liquidation ratio 1.5, buffer 25%, max fraction half a
window of a day): the holder's vault of 500 ETH / 200,000 and a friend's of 200 ETH / 80,000
(strength 3.33), 10 honest vaults of 100 ETH / 60,000 (2.22) and 10 of 100 ETH / 80,000 (1.67);
150,000 parked. Under the level rule the holder and its friend pay 144,117.65 of it (the level
2.20), the 2.22 vaults 588.24 each, the 1.67 vaults nothing. A holder ignoring the rule pays
nothing, and the 144,117.65 falls on the others: at one lower level over them (1.78: 15,000 each
on the 2.22 vaults, a round whose shares look like the rule's) or on the weakest first (13,333.33
each on the 1.67 vaults, their whole window: half their headroom). The contract, the twin, the
Specification and the Auditor accept both; the bound is offchain/model/deleverage.py's `reach`
(docs/loss-waterfall.md, "Who pays, and who chooses"), and an off-chain replay of the round
against the rule (the Specification's `level_rule_problems`) names each spared vault and what it
avoided.

Each run is on revm in lockstep with the model (every transaction, event and view compared; the
Specification and the Auditor after each; the complete state at the end)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from eth_utils import to_checksum_address

from offchain.model import deleverage as dl
from offchain.model.backstop import Layer
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import Role
from offchain.sim.strategies.backstop_keeper import (
    deleverage_view_from_model,
    keeper_round_from_model,
)
from offchain.testing.harness import System
from offchain.testing.specification.deleverage import (
    level_charges,
    level_rows,
    level_rule_problems,
)

ETH = "ETH-A"
DUE = 150_000 * RAD
STRONG = 10  # honest vaults of 100 ETH / 60,000
WEAK = 10  # honest vaults of 100 ETH / 80,000


def _owner(i: int) -> str:
    return to_checksum_address(f"0x{0x72000000 + i:040x}")


def _book(system: System) -> tuple[str, str, list[str], list[str]]:
    """The holder's vault (the keeper's account, 500 ETH / 200,000), its friend's (200 ETH /
    80,000), the strong honest vaults and the weak ones, opened by governance for their owners
    (each owner allows it). Returns (holder, friend, strong, weak)."""
    g, t, e = system.roles.governance, system.d.types[ETH], system.d.engine
    holder, friend = system.roles.keeper, _owner(0)
    strong = [_owner(1 + i) for i in range(STRONG)]
    weak = [_owner(1 + STRONG + i) for i in range(WEAK)]
    plan = [(holder, 500, 200_000), (friend, 200, 80_000)]
    plan += [(o, 100, 60_000) for o in strong] + [(o, 100, 80_000) for o in weak]
    total = sum(c for _, c, _ in plan) * WAD
    system.tx(t.token, "mint", g, g, total)
    system.tx(t.token, "approve", g, t.join, total)
    system.tx(t.join, "join", g, g, total)
    rate = system.engine().collateral_types[t.type_id].rate
    for owner, collateral, debt in plan:
        system.tx(e, "allow", owner, g)
        art = debt * WAD * RAY // rate
        system.tx(e, "modify_vault", g, t.type_id, owner, g, g, collateral * WAD, art)
    system.vault_owners.extend(o for o, _, _ in plan if o != holder)
    return holder, friend, strong, weak


def _park(system: System) -> None:
    """Governance parks DUE for the deleveraging layer alone (a loss it opens and closes raising
    nothing, covered after the queue delay) and grants the keeper DELEVERAGE."""
    g, b, t, r = system.roles.governance, system.d.backstop, system.d.types[ETH], system.roles
    system.tx(b, "grant_role", g, g, int(Role.OPEN_LOSS | Role.CLOSE_LOSS))
    system.tx(system.d.engine, "create_unbacked", g, b, g, DUE)
    system.tx(b, "open_loss", g, t.type_id, g, 1, DUE, WAD)
    system.tx(b, "close_loss", g, t.type_id, 1, DUE, 0)
    system.tx(b, "set_waterfall", g, [int(Layer.DELEVERAGE)])
    system.tx(b, "grant_role", g, r.keeper, int(Role.DELEVERAGE))
    system.warp(system.contract(b).queue_delay + 1)
    system.tx(b, "cover", r.keeper, t.type_id, g, 1)


def _candidates(system: System) -> list[dl.Candidate]:
    """The round's candidates as the keeper reads them (strongest first)."""
    t, b = system.d.types[ETH].type_id, system.d.backstop
    view = deleverage_view_from_model(system.model, b, t)
    vaults = {
        owner: (v.collateral, v.normalized_debt)
        for (tid, owner), v in list(system.engine().vaults.items())
        if tid == t
    }
    windows = {o: dl.Window(*system.contract(b).deleverage_window(t, o)) for o in vaults}
    return dl.candidates(vaults, windows, view.pricing, view.limits, view.now)


def _send(system: System, calls: list[tuple[list[str], list[int]]]) -> dict[str, int]:
    """The keeper's account sends `calls` ((owners ascending, shares)); owner -> what it was
    charged [rad] (VaultDeleveraged)."""
    t, b = system.d.types[ETH].type_id, system.d.backstop
    charged: dict[str, int] = {}
    for owners, shares in calls:
        system.tx(b, "deleverage", system.roles.keeper, t, owners, shares)
        for e in system.events:
            if e.name == "VaultDeleveraged":
                charged[e.args["owner"]] = charged.get(e.args["owner"], 0) + e.args["debt"]
    return charged


def _ascending(shares: dict[str, int]) -> list[tuple[list[str], list[int]]]:
    owners = sorted(shares, key=lambda o: int(o, 16))
    assert len(owners) <= dl.MAX_VAULTS
    return [(owners, [shares[o] for o in owners])]


def _level_over_the_others(cands: list[dl.Candidate], spared: set[str]) -> dict[str, int]:
    """The attack that looks like the rule: the keeper's own shares (level_shares) over every
    candidate but the spared ones, so the others come down to one lower level."""
    return dl.level_shares([c for c in cands if c.owner not in spared], DUE)


def _weakest_first(cands: list[dl.Candidate], spared: set[str]) -> dict[str, int]:
    """The targeted attack: the other vaults weakest first, each at its whole window (its room)
    until the due is reached, the last at the share that reaches it (one rad a vault below, so
    that the contract's rounding up never scales the call down)."""
    others = [c for c in reversed(cands) if c.owner not in spared]
    left = DUE - len(others)
    out: dict[str, int] = {}
    for c in others:
        share = min(c.room, left * WAD // c.headroom)
        if share == 0:
            break
        out[c.owner] = share
        left -= -(-c.headroom * share // WAD)
    return out


ATTACKS = {"level over the others": _level_over_the_others, "weakest first": _weakest_first}


def _rounding(cands: list[dl.Candidate], rate: int) -> Fraction:
    """What the rule's and the calls' roundings may lose over the round [rad]: per candidate
    its headroom / 1e18 + rate + n + 1 (the Specification's level_rule_problems)."""
    n = len(cands)
    return sum((Fraction(c.headroom, WAD) + rate + n + 1 for c in cands), Fraction(0))


def _runs(system: System, attack: str):
    """From one parked due: the keeper's round by the rule and the attack, each in a branch of
    the same state. Returns (holder, friend, strong, weak, candidates, honest charges, attack
    charges, the Specification's problems of the attack's calls against the rule)."""
    holder, friend, strong, weak = _book(system)
    _park(system)
    cands = _candidates(system)
    spared = {holder, friend}
    t, b = system.d.types[ETH].type_id, system.d.backstop
    with system.what_if():
        _, calls = keeper_round_from_model(system.model, b, t)
        honest = _send(system, [(c.owners, c.shares) for c in calls])
        system.check()
    with system.what_if():
        calls = _ascending(ATTACKS[attack](cands, spared))
        problems = level_rule_problems(system.spec, t, calls, system.model.next_block_time)
        attacked = _send(system, calls)
        system.check()
    return holder, friend, strong, weak, cands, honest, attacked, problems


@pytest.mark.parametrize("attack", ATTACKS)
def test_issue_72__a_rule_ignoring_holder__moves_its_level_share_onto_the_others(
    revm_system, attack
):
    """Money flow: 150,000 is parked. By the rule (the keeper's round) the holder pays
    102,941.18, its friend 41,176.47, each 2.22 vault 588.24, each 1.67 vault 0. The holder,
    ignoring the rule, lists only the others: it and its friend pay 0 and the 144,117.65 they
    saved (reach.saved) moves onto the others (reach.moved; nothing stays parked, the others'
    room being 366,666.67). `level over the others`: the 2.22 vaults pay 15,000 each (level
    1.78). `weakest first`: each 1.67 vault pays 13,333.33, its whole window (half its headroom
    of 26,666.67: reach.cap), and the 2.22 vaults the last 16,666.67 between them. Every
    charge is within its vault's cap, so the contract, the twin, the Specification's charge
    checks and the Auditor accept the round; only the replay against the rule names the spared
    vaults."""
    s = revm_system
    holder, friend, strong, weak, cands, honest, attacked, problems = _runs(s, attack)
    reach = dl.reach(cands, DUE, {holder, friend})
    rate = s.engine().collateral_types[s.d.types[ETH].type_id].rate
    slack = _rounding(cands, rate)
    coalition = (holder, friend)
    # the rule: the holder and its friend pay their level charges, the weak vaults nothing
    for owner, charge in reach.level.items():
        assert abs(honest.get(owner, 0) - charge) <= slack
    assert 102_941 * RAD < reach.level[holder] < 102_942 * RAD
    assert 41_176 * RAD < reach.level[friend] < 41_177 * RAD
    assert all(reach.level[o] == 0 and o not in honest for o in weak)
    assert 144_117 * RAD < reach.saved < 144_118 * RAD
    assert reach.moved == reach.saved and reach.parked == 0
    # the attack: the coalition pays nothing, the others the whole due, each within its cap
    assert all(attacked.get(o, 0) == 0 for o in coalition)
    assert abs(sum(attacked.values()) - DUE) <= slack
    for owner, charge in attacked.items():
        assert charge <= reach.cap[owner]
    beyond = sum(attacked.get(o, 0) - honest.get(o, 0) for o in strong + weak)
    assert abs(beyond - reach.moved) <= 2 * slack
    if attack == "weakest first":
        for owner in weak:
            assert reach.cap[owner] - attacked[owner] <= slack
            assert 13_333 * RAD < attacked[owner] < 13_334 * RAD
            assert reach.extra(owner) == reach.cap[owner]  # the rule charges it nothing
    else:
        assert all(o not in attacked for o in weak)
        for owner in strong:
            assert abs(attacked[owner] - 15_000 * RAD) <= slack
    # what an off-chain replay of the round against the rule sees: the spared vaults left out
    # (and, weakest first, the 2.22 vaults left out and the 1.67 vaults charged beyond it)
    left_out = {p.split(" ")[0] for p in problems if " left out" in p}
    beyond_rule = {p.split(" ")[0] for p in problems if " planned " in p}
    if attack == "weakest first":
        assert left_out == set(coalition) | (set(strong) - set(attacked))
        assert beyond_rule >= set(weak)
    else:
        assert left_out == set(coalition)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 72: deleverage checks each charge's cap, not the level rule (bounded: reach)",
)
def test_issue_72__a_holder_that_ignores_the_rule__still_pays_its_level_share(revm_system):
    """The property the contract does not give (kept as the record, as adv45-3's window edge):
    a DELEVERAGE holder that also owns vaults pays its share by the level rule (the
    Specification's level_charges) however it lists. On f29127a and after, the holder lists
    only the others and its vault pays 0 of its 102,941.18."""
    s = revm_system
    holder, _, _, _, cands, _, attacked, _ = _runs(s, "level over the others")
    rows = [(c.owner, c.value, c.need, c.headroom, c.room) for c in cands]
    rate = s.engine().collateral_types[s.d.types[ETH].type_id].rate
    share = level_charges(rows, DUE)[holder]
    assert share > 100_000 * RAD
    assert attacked.get(holder, 0) >= share - _rounding(cands, rate)


def test_issue_72__level_rows_and_candidates__the_same_vaults(revm_system):
    """The reach is computed from the keeper's candidates (the model's arithmetic); the
    Specification's rows of the rule, written independently, list the same vaults with the same
    headroom and room, so the bound and the replay speak of the same round."""
    s = revm_system
    _book(s)
    _park(s)
    cands = _candidates(s)
    rows = level_rows(s.spec, s.d.types[ETH].type_id, s.model.next_block_time)
    assert {(c.owner, c.value, c.need, c.headroom, c.room) for c in cands} == set(rows)
    assert len(rows) == 2 + STRONG + WEAK
