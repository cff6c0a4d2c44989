"""Invariants I1-I5 of DESIGN.md, checked exactly (in rad / wad) on a state read from either
backend (`offchain.deployment.read_*_state`), and on the model's complete storage.

A state read covers the accounts a run knows about; `model_invariants` sums over every key the
model ever wrote, so a balance held by an address nobody thought to list still counts there.
"""

from __future__ import annotations

from typing import Any

from offchain.backends import ModelBackend
from offchain.deployment import Deployment
from offchain.fixed_point import RAY
from offchain.state import ZERO_ADDRESS as ZERO


def state_invariants(state: dict[str, Any], d: Deployment, holders: list[str]) -> list[str]:
    """Violations of I1-I5 in a state snapshot (empty list = all hold)."""
    bad: list[str] = []
    stable = sum(state[f"engine.stable[{h}]"] for h in holders)
    if state["engine.total_issued"] != stable:
        bad.append(f"I1 total_issued {state['engine.total_issued']} != sum(stable) {stable}")
    unbacked = sum(state[f"engine.bad_debt[{h}]"] for h in holders)
    if state["engine.total_unbacked"] != unbacked:
        bad.append(f"I2 total_unbacked {state['engine.total_unbacked']} != sum(bad_debt) {unbacked}")
    backed = 0
    for name, t in d.types.items():
        normalized_debt, rate = state[f"engine.collateral_types[{name}]"][:2]
        if rate == 0:
            bad.append(f"rate of {name} is zero")
        backed += normalized_debt * rate
        vault_debt = sum(state[f"engine.vaults[{name}][{h}]"][1] for h in holders)
        if normalized_debt != vault_debt:
            bad.append(f"I4 {name}: normalized_debt {normalized_debt} != sum(vaults) {vault_debt}")
        locked = sum(state[f"engine.vaults[{name}][{h}]"][0] for h in holders)
        free = sum(state[f"engine.collateral[{name}][{h}]"] for h in holders)
        held = state[f"token[{name}].balanceOf[{t.join}]"] * 10 ** (18 - t.config.token_decimals)
        if locked + free != held:
            bad.append(f"I5 {name}: locked {locked} + free {free} != tokens held by the join {held}")
    if state["engine.total_issued"] != state["engine.total_unbacked"] + backed:
        bad.append(
            f"I3 total_issued {state['engine.total_issued']} != unbacked {state['engine.total_unbacked']}"
            f" + sum(debt * rate) {backed}"
        )
    for name, t in d.types.items():
        # tokens are conserved: every unit is held by someone we know of
        held = sum(state[f"token[{name}].balanceOf[{h}]"] for h in holders)
        if held != state[f"token[{name}].totalSupply"]:
            bad.append(f"token {name}: balances {held} != supply {state[f'token[{name}].totalSupply']}")
        # the auction's free collateral is exactly what its running auctions still sell
        ids = _running(state, name)
        if len(ids) != state[f"auction[{name}].active_count"]:
            bad.append(f"auction {name}: {len(ids)} running auctions but active_count {state[f'auction[{name}].active_count']}")
        lots = sum(state[f"auction[{name}].auctions[{i}]"][2] for i in ids)
        if lots != state[f"engine.collateral[{name}][{t.auction}]"]:
            bad.append(f"auction {name}: lots {lots} != its collateral {state[f'engine.collateral[{name}][{t.auction}]']}")
        # the liquidator's debt in auction is exactly what running auctions still have to raise
        debts = sum(state[f"auction[{name}].auctions[{i}]"][1] for i in ids)
        if debts != state[f"liquidator.types[{name}]"][3]:
            bad.append(f"liquidator {name}: debt in auction {state[f'liquidator.types[{name}]'][3]} != auctions' {debts}")
        # the pool holds at least its reserves
        if state[f"token[{name}].balanceOf[{t.pool}]"] < state[f"pool[{name}].reserve_collateral"] or \
                state[f"stablecoin.balanceOf[{t.pool}]"] < state[f"pool[{name}].reserve_stable"]:
            bad.append(f"pool {name}: holds less than its reserves")
    type_sum = sum(state[f"liquidator.types[{name}]"][3] for name in d.types)
    if type_sum != state["liquidator.debt_in_auction"]:
        bad.append(f"liquidator: debt_in_auction {state['liquidator.debt_in_auction']} != sum over types {type_sum}")
    if state["backstop.total_queued"] > state[f"engine.bad_debt[{d.backstop}]"]:
        bad.append("backstop: queued debt above its bad debt")
    stable_held = sum(state[f"stablecoin.balanceOf[{h}]"] for h in holders)
    if stable_held != state["stablecoin.totalSupply"]:
        bad.append(f"stablecoin: balances {stable_held} != supply")
    # StableJoin's invariant (as DaiJoin's): every ERC-20 stablecoin is backed by the join's engine
    # balance. Not equality: any holder may `burn` (or `burn_from` with an allowance) outside the
    # join, which leaves the join's balance over-backing the supply.
    supply = state["stablecoin.totalSupply"]
    if supply * RAY > state[f"engine.stable[{d.stable_join}]"]:
        bad.append(f"stablecoin supply {supply} * ray > StableJoin's engine balance")
    return bad


def _running(state: dict[str, Any], name: str) -> list[int]:
    """Ids of the running auctions of a type (a running auction has an owner)."""
    prefix = f"auction[{name}].auctions["
    return [int(k[len(prefix):-1]) for k, v in state.items() if k.startswith(prefix) and v[3] != ZERO]


def model_invariants(model: ModelBackend, d: Deployment) -> list[str]:
    """I1-I5 over the model's complete storage (every account it ever touched)."""
    engine = model.contract(d.engine)
    bad: list[str] = []
    if engine.total_issued != sum(engine.stable.values()):
        bad.append("model I1: total_issued != sum(stable)")
    if engine.total_unbacked != sum(engine.bad_debt.values()):
        bad.append("model I2: total_unbacked != sum(bad_debt)")
    backed = 0
    for name, t in d.types.items():
        ctype = engine.collateral_types[t.type_id]
        backed += ctype.normalized_debt * ctype.rate
        vaults = [v for (tid, _), v in engine.vaults.items() if tid == t.type_id]
        if ctype.normalized_debt != sum(v.normalized_debt for v in vaults):
            bad.append(f"model I4 {name}")
        free = sum(v for (tid, _), v in engine.collateral.items() if tid == t.type_id)
        token = model.contract(t.token)
        if sum(v.collateral for v in vaults) + free != token.balance_of[t.join] * 10 ** (18 - t.config.token_decimals):
            bad.append(f"model I5 {name}")
        if engine.collateral_types[t.type_id].rate == 0:
            bad.append(f"model: rate of {name} is zero")
    if engine.total_issued != engine.total_unbacked + backed:
        bad.append("model I3: total_issued != unbacked + sum(debt * rate)")
    backstop = model.contract(d.backstop)
    if backstop.total_queued != sum(backstop.queued.values()):
        bad.append("model backstop: total_queued != sum(queued)")
    return bad
