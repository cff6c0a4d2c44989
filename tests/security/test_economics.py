"""The economic checks (offchain/testing/economics/) that `System.tx` runs after every
transaction of every test and every step of the differential machines: each one fires on the
kind of value movement it exists to catch. The movements are planted in the model between the
auditor's `before` and `after` (inside `what_if`, so nothing stays), because the fixed contracts
no longer allow them; the findings' own regression tests (test_findings.py) run the real attacks
through the checks and pass."""

from __future__ import annotations

import pytest
from test_findings import holdings_value

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import Event
from offchain.testing.economics import EconomicViolation
from offchain.testing.harness import move_prices

ETH = "ETH-A"


def test_auditor__stablecoin_out_of_nothing_for_the_sender__flagged(system):
    """The sender's holdings rise with no event listing any income for it."""
    r = system.roles
    with system.what_if():
        before = system.auditor.before(r.keeper, system.d.engine, "move_stable")
        engine = system.model.contract(system.d.engine)
        dict.__setitem__(engine.stable, r.keeper, engine.stable[r.keeper] + 1_000 * RAD)
        with pytest.raises(EconomicViolation, match="gained 1000.000000 stablecoin"):
            system.auditor.after(before, [])


def test_auditor__value_to_another_actor_without_income__flagged_as_the_actors_together(system):
    """Value that reaches an actor who did not send the transaction still counts: the actors
    together may not gain more than their listed income."""
    r = system.roles
    with system.what_if():
        before = system.auditor.before(r.keeper, system.d.engine, "move_stable")
        engine = system.model.contract(system.d.engine)
        dict.__setitem__(engine.stable, r.other, engine.stable[r.other] + 5 * RAD)
        with pytest.raises(EconomicViolation, match="the actors together gained 5.000000"):
            system.auditor.after(before, [])


def test_auditor__keeper_reward_above_half_the_penalty_income__flagged(system):
    """A Started event whose reward is above half its auction's penalty income (1,000 to raise at
    1.13: 115.04 of income, 57.52 allowed; 60 paid), and not created for the keeper: both are
    named, and the vault's rewards are over their bound too."""
    r, t = system.roles, system.eth
    with system.what_if():
        before = system.auditor.before(r.keeper, system.d.liquidator, "liquidate")
        started = Event(
            t.auction,
            "Started",
            {
                "auction_id": 99,
                "debt": 1_000 * RAD,
                "reward": 60 * RAD,
                "keeper": r.keeper,
                "owner": r.borrower,
                "lot": WAD,
            },
        )
        with pytest.raises(EconomicViolation) as caught:
            system.auditor.after(before, [started])
    assert "above half the auction's penalty income" in str(caught.value)
    assert f"the auctions of {r.borrower}'s vault paid" in str(caught.value)
    assert "not created for keeper" in str(caught.value)


def test_auditor__collateral_returned_after_a_write_off__flagged(system):
    """The owner's bound (issue 31): a Finished event that hands the owner collateral while debt
    is left unraised (a write-off) is named, and so is one that returns more than the lot less
    what was sold; the collateral is not listed as the owner's honest income."""
    r, t = system.roles, system.eth
    with system.what_if():
        before = system.auditor.before(r.stranger, t.auction, "close_dust_auction")
        finished = Event(
            t.auction,
            "Finished",
            {"auction_id": 98, "collateral_returned": WAD, "debt_unraised": 2_000 * RAD},
        )
        with pytest.raises(EconomicViolation, match="with 2000000000000000000000.* unraised"):
            system.auditor.after(before, [finished])
    with system.what_if():
        before = system.auditor.before(r.keeper, t.auction, "take")
        key = (t.auction, 97)
        system.auditor.sales[key] = [r.borrower, 2 * WAD, 1_000 * RAD, WAD, 1_000 * RAD]
        finished = Event(
            t.auction,
            "Finished",
            {"auction_id": 97, "collateral_returned": WAD + 1, "debt_unraised": 0},
        )
        with pytest.raises(EconomicViolation, match=r"returned 1000000000000000001 .*lot 2"):
            system.auditor.after(before, [finished])


def test_auditor__bad_debt_without_a_recorded_cause__flagged(system):
    """The Backstop's unattributed bad debt rises with no stablecoin created against it and no
    debt moved to settlement."""
    r, d = system.roles, system.d
    with system.what_if():
        before = system.auditor.before(r.keeper, d.engine, "seize")
        engine = system.model.contract(d.engine)
        dict.__setitem__(engine.bad_debt, d.backstop, engine.bad_debt[d.backstop] + 7 * RAD)
        with pytest.raises(EconomicViolation, match="unattributed bad debt rose by"):
            system.auditor.after(before, [])


def test_auditor__an_honest_liquidation__passes_and_is_counted(system):
    """A liquidation (a keeper reward within the penalty income, an auction opened) is listed
    income: the checks pass and count the transaction."""
    r, t, d = system.roles, system.eth, system.d
    system.open_vault(r.borrower, ETH, 10 * WAD, 12_000 * WAD)
    move_prices(system, [(t, 1_700 * WAD)])
    checked = system.auditor.checked
    system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    assert system.auditor.checked == checked + 1


def test_delayed_oracle__draw_before_a_queued_drop__gains_at_most_the_price_gap(system):
    """A known risk the checks surfaced (docs/security.md, "The delayed oracle's option"): with a
    40% lower price posted but not yet current, a borrower draws at the limit of the current safe
    price; at the market price its vault is worth less than its debt, so walking away gains. The
    Auditor lists that gain only up to the price gap on the vault's collateral."""
    r, t, d = system.roles, system.eth, system.d
    price, ratio = t.config.initial_price, t.config.liquidation_ratio
    collateral = 10 * WAD
    system.fund(r.borrower, ETH, collateral)
    system.tx(t.oracle, "post", r.feeder, price * 6 // 10)
    market = system.auditor.market_prices()
    assert market[t.type_id] == price * 6 // 10
    before = system.auditor.holdings(r.borrower, market)
    rate = system.model.contract(d.engine).collateral_types[t.type_id].rate
    limit = collateral * price // WAD * RAY // ratio * RAY // rate  # normalized debt [wad]
    debt = limit * 98 // 100
    system.tx(
        d.engine,
        "modify_vault",
        r.borrower,
        t.type_id,
        r.borrower,
        r.borrower,
        r.borrower,
        collateral,
        debt,
    )
    gain = system.auditor.holdings(r.borrower, market) - before
    # free collateral worth collateral x market became a vault worth nothing (underwater) and
    # stablecoin worth its debt
    assert gain == debt * rate - collateral * market[t.type_id] * 10**9
    assert 0 < gain <= collateral * (price - market[t.type_id]) * 10**9


def test_holdings_value__counts_stable_collateral_and_debt(system):
    """The findings' own valuation (test_findings.holdings_value): four ETH joined add 4 x 2,000
    BUSD; locking them and drawing 3,000 BUSD moves no value (+3,000 stable, +3,000 debt); a
    transfer of 500 internal BUSD to someone else costs 500."""
    r, t = system.roles, system.eth
    start = holdings_value(system, r.other, t, 2_000 * WAD)
    system.fund(r.other, ETH, 4 * WAD)
    before = holdings_value(system, r.other, t, 2_000 * WAD)
    assert before == start + 8_000 * RAD
    system.tx(
        system.d.engine,
        "modify_vault",
        r.other,
        t.type_id,
        r.other,
        r.other,
        r.other,
        4 * WAD,
        3_000 * WAD,
    )
    assert holdings_value(system, r.other, t, 2_000 * WAD) == before
    system.tx(system.d.engine, "transfer_stable", r.other, r.other, r.stranger, 500 * RAD)
    assert holdings_value(system, r.other, t, 2_000 * WAD) == before - 500 * RAD
