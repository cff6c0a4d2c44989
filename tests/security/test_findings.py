"""The outside security review's findings (issue 13; docs/security.md), one named regression test
per finding, each running the attack on chain and in the model at once (the `system` fixture).
Each docstring gives the attack in two lines; the assertions say why it no longer pays.
More detailed tests of each fix live beside the contract's own tests (tests/contracts/)."""

from __future__ import annotations

from offchain.model.fixed_point import RAD, RAY, WAD, div_up, rmul_up, rpow_up
from offchain.testing.harness import move_prices, read, reverts

DAY = 86_400
ETH = "ETH-A"


def _rate(system, t) -> int:
    return read(system, system.d.engine, "collateral_types", t.type_id)[1]


def _fee_at(base_fee: int, kink: int, max_multiplier: int, excess: int) -> int:
    """FeeAccumulator's docstring: 1 + (base - 1) * (1 + (max - 1) * excess / (1 - kink)) [ray],
    each division rounded up."""
    if excess == 0:
        return base_fee
    multiplier = WAD + div_up((max_multiplier - WAD) * excess, WAD - kink)
    return RAY + div_up((base_fee - RAY) * multiplier, WAD)


def test_finding_01__liquidate_oneself_then_reset_for_rewards__never_more_than_the_income(system):
    """Attack: liquidate one's own vault naming oneself keeper (the reviewed reward 300 + 0.1% was
    above the penalty income), then keep resetting the unsold auction for a reward each time.

    Now every reward is at most the penalty income of the auction's debt, and all rewards of one
    auction together (start and resets) at most its penalty income at the start: the rewards
    paid for it never exceed what it earns, whoever the keeper is and however often it resets."""
    r, t, d = system.roles, system.eth, system.d
    attacker, penalty = r.other, t.config.liquidation_penalty
    system.open_vault(attacker, ETH, 20 * WAD, 20_000 * WAD)
    move_prices(system, [(t, 1_400 * WAD)])
    unattributed_0 = read(system, d.backstop, "unattributed_debt")
    system.tx(d.liquidator, "liquidate", attacker, t.type_id, attacker, attacker)
    auction_id = read(system, t.auction, "count")
    debt = read(system, t.auction, "auctions", auction_id)[1]
    income = debt - div_up(debt * WAD, penalty)
    rewards = [e.args["reward"] for e in system.events if e.name == "Started"]
    for _ in range(12):  # nobody takes; the attacker resets at every chance
        move_prices(system, [(t, 1_400 * WAD)])  # a fresh price, so that resets can start
        started = read(system, t.auction, "auctions", auction_id)[4]
        due = started + t.config.auction_max_duration
        system.lockstep.set_next_block_time(max(due, system.now + 1))
        system.tx(t.auction, "reset", attacker, auction_id, attacker)
        rewards += [e.args["reward"] for e in system.events if e.name == "Reset"]
        # each payment within the penalty income of the debt still to raise (unchanged: no take)
        assert rewards[-1] <= income
    flat_and_rate = t.config.keeper_reward_flat + debt * t.config.keeper_reward_rate // WAD
    assert rewards[0] == flat_and_rate  # the start pays in full
    # 13 payments of 322 would be 4,189: above the 2,600 the auction earns; the budget stops them
    assert flat_and_rate * 13 > income
    assert sum(rewards) <= income
    assert rewards[-1] == 0, rewards
    # the rewards are exactly the new unattributed bad debt, owed by nothing but the penalty
    assert read(system, d.backstop, "unattributed_debt") - unattributed_0 == sum(rewards)


def test_finding_05__repay_accrue_redraw__still_pays_the_month_at_its_utilization(system):
    """Attack: a type sits above its fee kink for a month; a borrower repays, calls accrue and
    redraws: the old contract priced the whole month at the moment's low utilization (-70%).

    Now a period is priced by its time-weighted utilization: the attack's accrual charges the
    month at its real utilization (one second lower), exactly as the formula says, and a one-second
    spike before an accrual no longer overcharges the period."""
    r, t, e = system.roles, system.eth, system.d.engine
    cfg = t.config
    # a ceiling of 10,500 and 10,000 drawn: utilization 0.95, above the 0.8 kink
    system.tx(e, "set_debt_ceiling", r.governance, t.type_id, 10_500 * RAD)
    system.open_vault(r.borrower, ETH, 10 * WAD, 10_000 * WAD)
    system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
    rate_0, debt = _rate(system, t), 10_000 * WAD
    high = div_up(debt * rate_0 * WAD, 10_500 * RAD) - cfg.fee_kink  # excess over the kink [wad]
    month = 30 * DAY

    with system.what_if():  # honest: nobody touches the type for a month
        system.warp(month)
        system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
        honest_rate = _rate(system, t)
    honest_fee = _fee_at(cfg.base_fee, cfg.fee_kink, cfg.fee_max_multiplier, high)
    assert honest_rate == rmul_up(rpow_up(honest_fee, month), rate_0)

    # the attack: after the month, repay 7,500 (utilization 0.24), accrue, redraw
    system.warp(month)
    system.tx(
        e,
        "modify_vault",
        r.borrower,
        t.type_id,
        r.borrower,
        r.borrower,
        r.borrower,
        0,
        -7_500 * WAD,
    )
    system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
    attacked_rate = _rate(system, t)
    # the month at `high`, the last second (after the repay) below the kink
    average = div_up(high * month, month + 1)
    attacked_fee = _fee_at(cfg.base_fee, cfg.fee_kink, cfg.fee_max_multiplier, average)
    assert attacked_rate == rmul_up(rpow_up(attacked_fee, month + 1), rate_0)
    # the borrower saved nothing: the month's income equals the honest month's to 1 part in 10^6
    honest_income = debt * (honest_rate - rate_0)
    attacked_income = debt * (attacked_rate - rate_0)
    assert attacked_income * 1_000_000 >= honest_income * 999_999
    # what the old contract charged (the base fee for the whole month, the spot utilization
    # being below the kink) is far less
    old_income = debt * (rmul_up(rpow_up(cfg.base_fee, month + 1), rate_0) - rate_0)
    assert attacked_income > old_income * 2

    # the reverse: a week later, a spike to a full ceiling one second before the accrual
    system.tx(
        e, "modify_vault", r.borrower, t.type_id, r.borrower, r.borrower, r.borrower, 0, 7_500 * WAD
    )
    system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
    rate_1 = _rate(system, t)
    week_excess = div_up(debt * rate_1 * WAD, 10_500 * RAD) - cfg.fee_kink
    system.warp(7 * DAY)
    system.tx(e, "set_debt_ceiling", r.governance, t.type_id, debt * rate_1)
    system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
    # the week at its utilization, the last second at a full ceiling; the old contract charged
    # the full multiplier for the whole week
    average = div_up(week_excess * 7 * DAY + (WAD - cfg.fee_kink), 7 * DAY + 1)
    week_fee = _fee_at(cfg.base_fee, cfg.fee_kink, cfg.fee_max_multiplier, average)
    assert _rate(system, t) == rmul_up(rpow_up(week_fee, 7 * DAY + 1), rate_1)
    full_fee = _fee_at(cfg.base_fee, cfg.fee_kink, cfg.fee_max_multiplier, WAD - cfg.fee_kink)
    assert _rate(system, t) < rmul_up(rpow_up(full_fee, 7 * DAY + 1), rate_1)


def test_finding_12__repay_update_redraw__no_longer_holds_the_ceiling_flat(system):
    """Attack: with the ceiling at 10M and 9.9M drawn, a borrower repays 4.8M, calls update (a
    0.1M rise) and redraws; the old manager's cooldown then refused the honest rise to 14.9M.

    Now the amount of increase per cooldown window is limited, not their number: the attacker's
    small rise opens a window based at 10M, and within it anyone raises the ceiling to debt + gap
    (14.9M, at most 10M + 5M); the attack cycle repeated in the next window cannot hold it."""
    r, t, e, ceiling = system.roles, system.eth, system.d.engine, system.d.ceiling
    cfg = t.config
    assert (cfg.ceiling_gap, cfg.ceiling_cooldown) == (5_000_000 * RAD, 43_200)  # devnet
    system.tx(e, "set_debt_ceiling", r.governance, t.type_id, 10_000_000 * RAD)
    # an honest borrower (5.1M) and the attacker (4.8M): 9.9M drawn
    system.open_vault(r.borrower, ETH, 30_000 * WAD, 5_100_000 * WAD)
    system.open_vault(r.stranger, ETH, 6_000 * WAD, 4_800_000 * WAD)

    def vault(who, delta_debt):
        system.tx(e, "modify_vault", who, t.type_id, who, who, who, 0, delta_debt)

    def ceiling_now() -> int:
        return read(system, e, "collateral_types", t.type_id)[3]

    def debt_now() -> int:
        normalized, rate = read(system, e, "collateral_types", t.type_id)[:2]
        return normalized * rate

    for _ in range(2):  # two cooldown windows
        # the attack: repay 4.8M, update (a small rise), redraw
        start = ceiling_now()
        vault(r.stranger, -4_800_000 * WAD)
        system.tx(ceiling, "update", r.stranger, t.type_id)
        vault(r.stranger, 4_800_000 * WAD)
        # an honest update right after: the ceiling reaches debt + gap within the window
        system.tx(ceiling, "update", r.keeper, t.type_id)
        assert ceiling_now() == min(debt_now() + cfg.ceiling_gap, start + cfg.ceiling_gap)
        assert ceiling_now() >= 14_900_000 * RAD
        # the honest borrower fills it to 9/10 and the window ends
        room = (ceiling_now() - debt_now()) * 9 // 10 // RAD // 1_000 * 1_000 * WAD
        vault(r.borrower, room)
        system.warp(cfg.ceiling_cooldown)
        system.tx(ceiling, "update", r.keeper, t.type_id)
    # the old manager left it at 10.2M after two windows; it follows the debt by a gap each window
    assert ceiling_now() >= 20_000_000 * RAD


def test_finding_14__a_bad_feeder_is_bounded_per_delay_and_its_queued_price_can_be_voided(system):
    """Attack: one compromised feeder posts a price of 1 wei; a delay later it is queued, a delay
    after that every vault of the type is liquidatable, and nothing could stop it.

    Now a post must lie within max_change (50% on the devnet) of the queued price, so the feeder
    moves the price by at most that per delay; and governance voids a queued price during the
    delay: the current price stays in effect and pokes wait for a new post."""
    r, t = system.roles, system.eth
    oracle = t.oracle
    assert read(system, oracle, "max_change") == WAD // 2
    queued = read(system, oracle, "next_price")
    for bad in (1, queued // 2 - 1, queued * 3 // 2 + 1):
        with reverts("oracle: price move too large"):
            system.tx(oracle, "post", r.feeder, bad)
    # the most the feeder can do in one delay: half the price
    system.tx(oracle, "post", r.feeder, queued // 2)
    system.warp(t.config.oracle_delay)
    system.tx(oracle, "poke", r.keeper)
    assert read(system, oracle, "next_price") == queued // 2
    current = read(system, oracle, "current_price")
    # governance sees the queued price and voids it before it takes effect
    system.tx(oracle, "void", r.governance)
    assert [(e.name, e.args) for e in system.events] == [("Voided", {"voided_price": queued // 2})]
    assert read(system, oracle, "next_price") == current
    assert read(system, oracle, "source_price") == 0
    system.warp(t.config.oracle_delay)
    with reverts("oracle: no price posted"):
        system.tx(oracle, "poke", r.keeper)
    # a good post and two pokes later the price is the real one again; the bad one never applied
    system.tx(oracle, "post", r.feeder, current)
    system.tx(oracle, "poke", r.keeper)
    assert read(system, oracle, "current_price") == current
    # only governance voids
    with reverts("authorized: not authorized"):
        system.tx(oracle, "void", r.feeder)
