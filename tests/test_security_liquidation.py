"""Security regressions for the liquidation path (outside review, issue 13), on chain and in the
model at once (the `system` fixture). Each test's docstring gives the attack in two lines."""
from __future__ import annotations

import pytest
from conftest import RAD, RAY, WAD
from conftest import move_prices as _move_prices, read as _read

ETH = "ETH-A"


# ---------------------------------------------------------------- economic property helper


def holdings_value(system, actor: str, t, market_price: int) -> int:
    """What `actor` owns, in rad of stablecoin: internal stable + ERC-20 stable + collateral
    (ERC-20 tokens, free in the engine, locked in its vault) at `market_price` [wad] - its vault
    debt (normalized debt x rate). An attacker's value must not rise: value_after <= value_before."""
    d = system.d
    scale = 10 ** (18 - t.config.token_decimals)
    stable = _read(system, d.engine, "stable", actor) + _read(system, d.stablecoin, "balanceOf", actor) * RAY
    tokens = _read(system, t.token, "balanceOf", actor) * scale
    free = _read(system, d.engine, "collateral", t.type_id, actor)
    locked, normalized_debt = _read(system, d.engine, "vaults", t.type_id, actor)
    rate = _read(system, d.engine, "collateral_types", t.type_id)[1]
    # wad x wad = 1e36; x 1e9 = rad
    return stable + (tokens + free + locked) * market_price * 10**9 - normalized_debt * rate


def test_holdings_value__counts_stable_collateral_and_debt(system):
    """Four ETH joined add 4 x 2,000 BUSD; locking them and drawing 3,000 BUSD moves no value (+3,000
    stable, +3,000 debt); a transfer of 500 internal BUSD to someone else costs 500."""
    r, t = system.roles, system.eth
    start = holdings_value(system, r.other, t, 2_000 * WAD)
    system.fund(r.other, ETH, 4 * WAD)
    before = holdings_value(system, r.other, t, 2_000 * WAD)
    assert before == start + 8_000 * RAD
    system.tx(system.d.engine, "modify_vault", r.other, t.type_id, r.other, r.other, r.other, 4 * WAD, 3_000 * WAD)
    assert holdings_value(system, r.other, t, 2_000 * WAD) == before
    system.tx(system.d.engine, "transfer_stable", r.other, r.other, r.stranger, 500 * RAD)
    assert holdings_value(system, r.other, t, 2_000 * WAD) == before - 500 * RAD


# ---------------------------------------------------------------- 1: self-liquidation farming


def _ctype(system, t) -> tuple:
    """(normalized_debt [wad], rate [ray], safe_price [ray], debt_ceiling [rad], dust [rad])."""
    return _read(system, system.d.engine, "collateral_types", t.type_id)


@pytest.mark.parametrize("dust", [100 * RAD, None], ids=["reviewed-dust-100", "devnet-dust"])
def test_self_liquidation_farming__keeper_reward_never_exceeds_penalty_income(system, dust):
    """Attack: open a dust vault at the liquidation limit, accrue one second of fees, liquidate it
    naming oneself keeper, buy the lot back; repeat. Reward <= penalty income: no profit, no new bad debt."""
    r, t, d = system.roles, system.eth, system.d
    if dust is not None:  # the reviewed configuration (reward 300 + 0.1% > penalty income 13)
        system.tx(d.engine, "set_dust", r.governance, t.type_id, dust)
        system.tx(t.auction, "update_min_auction", r.governance)
    attacker = r.other
    penalty = t.config.liquidation_penalty
    market = 2_000 * WAD
    # the attacker's capital: 3 ETH and 1,000 BUSD (to pay the tab above what it drew + the reward)
    system.fund(attacker, ETH, 3 * WAD)
    system.tx(d.engine, "create_unbacked", r.governance, r.governance, attacker, 1_000 * RAD)
    system.tx(d.engine, "allow", attacker, t.auction)
    before = holdings_value(system, attacker, t, market)
    unattributed_0 = _read(system, d.backstop, "unattributed_debt")
    income_total = rewards = 0
    for _ in range(3):
        _, rate, spot, _, dust = _ctype(system, t)
        # the smallest vault allowed, exactly at the liquidation limit: collateral x spot ~ debt
        normalized = -(-dust // rate)
        collateral = -(-normalized * rate // spot)
        system.tx(d.engine, "modify_vault", attacker, t.type_id, attacker, attacker, attacker, collateral, normalized)
        system.warp(1)
        system.tx(d.fees, "accrue", attacker, t.type_id)
        stable_0 = _read(system, d.engine, "stable", attacker)
        system.tx(d.liquidator, "liquidate", attacker, t.type_id, attacker, attacker)
        reward = _read(system, d.engine, "stable", attacker) - stable_0
        auction_id = _read(system, t.auction, "count")
        debt = _read(system, t.auction, "auctions", auction_id)[1]
        income = debt - -(-debt * WAD // penalty)
        assert 0 < reward <= income
        income_total += income
        rewards += reward
        # buy the whole lot back at once: the rest of the collateral returns to the attacker
        system.tx(t.auction, "take", attacker, auction_id, 2**128 - 1, 2**255, attacker, b"")
        assert _read(system, t.auction, "active_count") == 0
    after = holdings_value(system, attacker, t, market)
    assert after <= before
    # the rewards are the only unattributed bad debt created, and never above the penalty income
    assert _read(system, d.backstop, "unattributed_debt") - unattributed_0 == rewards <= income_total
