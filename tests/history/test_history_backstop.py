"""The eve of Black Thursday under Backstop (offchain/history/backstop.py; on the day's outside
market since issue 64): the history check's vaults, exactly, as a scenario's book; the sizes
derived as the docstring says; Backstop's own dust-and-reward bound refusing devnet's reward on
this book; the counterfactual's figures from the run they describe (money: what the layers paid
and what is unpaid add up to the bad debt)."""

from __future__ import annotations

import math

import pytest

from offchain.history.backstop import (
    AUCTION_CAP,
    BASE,
    BLACK_THURSDAY,
    COUNTERFACTUALS,
    DEBT_AUCTION_CAPITAL,
    DUST,
    KEEPER_REWARD_FLAT,
    SIZE_FACTOR,
    SIZED,
    SIZED_SYSTEM,
    BackstopFigures,
    market,
    run,
    sweep_caps,
    turnover_capital,
    values,
    vaults_of,
    write_inputs,
)
from offchain.history.keepers.transactions import Counts
from offchain.history.replay.flip import DayResult, KeeperRow
from offchain.history.report import backstop_section
from offchain.history.report import run as run_flip
from offchain.model.fixed_point import RAD, WAD
from offchain.sim.run.replay import replay
from offchain.sim.scenario.load import ScenarioError, load_scenario


def test_book__the_eve_vaults_to_the_wei(tmp_path):
    scenario = load_scenario(str(write_inputs(tmp_path)))
    eve = vaults_of(values(), market())
    book = scenario.vaults.book
    assert book is not None and len(eve) == 5_000
    assert list(book.collateral) == [v.ink for v in eve]
    assert list(book.debt) == [v.art for v in eve]
    assert sum(book.debt) == 114_000_000 * WAD


def test_size_factor__the_eve_debt_over_the_builtin_population_rounded_up():
    builtin = replay(load_scenario(BASE), chain=False, full_check_every=None).model
    drawn = builtin.tables["vaults"]["debt_start"].sum()
    assert round(drawn) == 12_750_784
    assert SIZE_FACTOR == math.ceil(114_000_000 / drawn)


def test_scenario__sized_ceilings_capital__caps_of_the_day_s_rule__dust_and_reward(tmp_path):
    """The ceilings and capital sized to the book; the caps none, as the 2020 Cat had none: the
    eve's 114M x chop 1.13 = 128.82M, rounded up to the million."""
    s = load_scenario(str(write_inputs(tmp_path)))
    c = s.system.collateral[0]
    assert c.debt_ceiling == SIZED["debt_ceiling"] * SIZE_FACTOR * RAD
    assert c.ceiling_max == SIZED["ceiling_max"] * SIZE_FACTOR * RAD
    assert c.auction_cap == s.system.max_debt_in_auction == 129_000_000 * RAD
    assert s.system.global_debt_ceiling == SIZED_SYSTEM["global_debt_ceiling"] * SIZE_FACTOR * RAD
    assert c.dust == int(DUST) * RAD and c.keeper_reward_flat == int(KEEPER_REWARD_FLAT) * RAD
    v = values()
    assert s.keepers.taker_capital == v.bidders * v.bidder_capital * WAD
    assert s.keepers.debt_auction_capital == DEBT_AUCTION_CAPITAL * SIZE_FACTOR * WAD
    # the rule's bound on this book: the penalty income at dust pays the reward
    # (penalty and rate in wad): 1,000 x 0.13 = 130 >= 100 + 0.001 x 1,130
    income = c.dust * (c.liquidation_penalty - WAD) // WAD
    reward = c.keeper_reward_flat + c.keeper_reward_rate * c.dust * c.liquidation_penalty // WAD**2
    assert (income, reward) == (130 * RAD, 10113 * RAD // 100)
    assert reward <= income


def test_scenario__devnets_reward_on_this_dust__refused_by_the_bound(tmp_path):
    with pytest.raises(ScenarioError, match="must not exceed the penalty income at dust"):
        run(
            tmp_path,
            chain=False,
            changes={("protocol.collateral_overrides", "keeper_reward_flat"): "300"},
        )


def test_figures__from_the_run__layers_and_unpaid_add_up_to_the_bad_debt(tmp_path):
    day = run(tmp_path, chain=False)
    result = day.done.model
    b = BackstopFigures.of(result)
    liquidations = result.tables["liquidations"]
    assert b.auctions == len(liquidations) and b.finished + b.open_auctions == b.auctions
    assert b.vaults_liquidated == liquidations["owner"].nunique() <= 5_000
    takes = result.tables["takes"]
    assert b.takes == len(takes) and b.auctions_for_nothing == 0 and b.value_for_nothing == 0
    assert b.lowest_clearing == (takes["price"] / takes["market_price"]).min() > 0.01
    assert b.debt_liquidated == pytest.approx(liquidations["debt"].sum(), rel=1e-12)
    assert sum(b.paid.values()) + b.uncovered == pytest.approx(b.realized, rel=1e-12)
    # both marks of the open book add its shortfall to the realized loss; the venue's mark may
    # be above or below the last price (its memory of the run's flows), so neither bounds the other
    assert b.realized <= b.insolvency + 1e-6 and b.realized <= b.insolvency_last_price + 1e-6
    assert b.rewards > 0 and b.hours_to_finish[0] <= b.hours_to_finish[1]
    assert b.cover_minutes >= 0  # a loss is covered after its auction finished, never before


def test_turnover_capital__the_honest_keepers_capital_and_their_resales():
    """What the flip model's honest keepers put into auctions: their capital (3 x the calibrated
    4.5M) and what their sales brought back (a low bidder's sales are not theirs)."""
    v = values()
    keepers = {
        name: KeeperRow(name, Counts(), 0, 0, 0, 0, sold * RAD)
        for name, sold in (("keeper-1", 2_000_000), ("keeper-2", 500_000), ("low-bidder-1", 9))
    }
    flip = DayResult([], keepers, 0, 0)
    assert (
        turnover_capital(flip, v)
        == 13_500_000 + 2_500_000
        == (v.bidders * v.bidder_capital + 2_500_000)
    )


def test_section__a_model_only_run_says_it_is_not_reconciled__every_row_shown(tmp_path):
    """`ape run history --backend model`: Backstop's side without a chain says so; the table has
    its rows and each sensitivity row its line."""
    flip = run_flip()
    day = run(tmp_path / "b", chain=False)
    figures = BackstopFigures.of(day.done.model)
    text = backstop_section(flip, day, (10**6, figures), [("x.y", "1", "why", figures)])
    assert "the model alone (no chain run): not reconciled." in text
    assert "**0 differences**" not in text
    table = text.split("| figure | history | MakerDAO 2020")[1].split("\n\n")[0]
    assert len([x for x in table.splitlines() if x.startswith("| ")]) == 17
    assert "| x.y | 1 | why | " in text and "| (the run above) |  |  | " in text
    assert f"{figures.open_auctions:,}, " in table
    # a run given without its phases says its insolvency is one phase's
    (row,) = [x for x in table.splitlines() if x.startswith("| insolvency: the open collateral "
                                                              "sold on the market")]  # fmt: skip
    assert row.count("; one oracle phase, not a distribution over the oracle's phases |") == 2


def test_may_2021__the_eve_book_sizes_rule_and_the_day_s_market(tmp_path):
    """may-2021's counterfactual: the eve's 5,000 vaults to the wei; the factor is 2B over the
    built-in population's debt, rounded up; dust 5,000 and reward 600 within the rule (5,000 x
    0.13 = 650 >= 600 + 0.1% x 5,650); the scenario's outside market is the day file's."""
    cf = COUNTERFACTUALS["may-2021"]
    builtin = replay(load_scenario(cf.base), chain=False, full_check_every=None).model
    drawn = builtin.tables["vaults"]["debt_start"].sum()
    assert cf.size_factor == math.ceil(2_000_000_000 / drawn) == 164
    s = load_scenario(str(write_inputs(tmp_path, cf=cf)))
    v = values(cf=cf)
    eve = vaults_of(v, market(cf), cf)
    book = s.vaults.book
    assert book is not None and list(book.debt) == [x.art for x in eve]
    assert sum(book.debt) == 2_000_000_000 * WAD
    c = s.system.collateral[0]
    assert c.debt_ceiling == 20_000_000 * 164 * RAD
    # the caps are the Dog's: ETH-A's hole (L1) and Hole (L3)
    assert (c.auction_cap, s.system.max_debt_in_auction) == (22_000_000 * RAD, 100 * 10**6 * RAD)
    income = c.dust * (c.liquidation_penalty - WAD) // WAD
    reward = c.keeper_reward_flat + c.keeper_reward_rate * c.dust * c.liquidation_penalty // WAD**2
    assert (c.dust, c.keeper_reward_flat) == (5_000 * RAD, 600 * RAD) and reward <= income
    assert s.keepers.taker_capital == v.taker_capital * WAD
    m = s.market
    assert m.outside == "open" and m.venue is not None
    assert m.venue.share == v.venue_share * WAD
    assert m.venue.coefficient == v.impact_coefficient * WAD
    assert m.resale_delay == v.resale_hours * 3600
    assert m.stable_price.at(0) == v.dai_price * WAD


class _Written(Exception):
    """Raised in place of the replay: the task's inputs are written, its scenario loaded."""


@pytest.mark.parametrize("name", sorted(COUNTERFACTUALS))
def test_backstop_tasks__set_reaches_every_model_run(tmp_path, monkeypatch, name):
    """`ape run history --set NAME=VALUE` changes the setting for every run: Backstop's chain run
    and each of its model runs (the sensitivity rows, the other oracle phases, the flip keepers'
    turnover), which wrote the day's default scenario before (`bidder_capital=250000` printed
    the default capital's rows)."""
    from offchain.history import tasks
    from offchain.history.days import day
    from offchain.history.days.settings import parse_overrides
    from offchain.history.report import backstop_tasks

    cf = COUNTERFACTUALS[name]
    setting = "bidder_capital=250000" if name == "black-thursday-2020" else "taker_capital=7000000"
    overrides = parse_overrides(day(cf.day).SETTINGS, (setting, "dai_price=1.008"))
    v = values(overrides, cf)
    capital = str(cf.taker_capital(v))
    assert capital != str(cf.taker_capital(values(cf=cf)))  # the setting moves the scenario
    scenarios = []

    def written(scenario, **_):
        scenarios.append(scenario)
        raise _Written

    monkeypatch.setattr("offchain.history.backstop.replay", written)
    turnover = 9_000_000 if name == "black-thursday-2020" else None
    runs = backstop_tasks(name, tmp_path, turnover, overrides)
    assert len(runs) == len(cf.sensitivity) + 5 + (turnover is not None)  # + 5 other phases
    for task in runs:
        with pytest.raises(_Written):
            tasks.run_task(task)
        s = scenarios[-1]
        changes = task[3]
        expected = changes.get(("keepers", "taker_capital"), capital)
        assert s.keepers.taker_capital == int(expected) * WAD, task
        assert s.market.stable_price.at(0) == WAD * 1008 // 1000, task


def test_lead__backstop_side_leads_with_the_median_over_the_oracles_phases(tmp_path):
    """Backstop's side of a day is one oracle phase (its reconciled run) and the model at the
    others (its sensitivity's phase rows): the comparison's insolvency cells, the console's
    line and the run's own report lead with the median over the six, the worst beside it
    (history/lead.py); the reconciled run's own figure is its row of the phase table."""
    import dataclasses
    import json

    import numpy as np

    from offchain.history import lead
    from offchain.report.documents import write_report
    from offchain.report.tables import scenario_lines
    from offchain.sim.scenario.timeline import oracle_phase

    day = run(tmp_path / "b", chain=False)
    b = BackstopFigures.of(day.done.result)
    reported = oracle_phase(day.scenario)
    given = {0: 5e6, 600: 1e6, 1200: 3e6, 1800: 9e6, 2400: 2e6}  # the other phases' insolvency
    assert reported not in given
    others = [
        (p, dataclasses.replace(b, headline={**b.headline, "insolvency": x}))
        for p, x in given.items()
    ]
    section = lead.lead_with_phases(day, others)
    every = [*given.values(), b.insolvency]
    median, eve = float(np.median(every)), values().eve_debt / 1e18
    assert round(median / 1e6, 2) != round(b.insolvency / 1e6, 2)
    facts = day.done.result.facts
    _, headline = lead.insolvency_cells(b, facts, eve)
    assert headline.startswith(f"{median / 1e6:,.2f}M, ")
    assert "the median over the oracle's 6 phases; worst 9.00M" in headline
    line = lead.console_line(b, facts, eve)
    assert line.startswith(
        f"Backstop, the same eve and day: insolvency over the oracle's 6 phases, sold on the "
        f"market: median {median / 1e6:,.2f}M"
    )
    assert f"the reconciled run (oracle phase {reported:,} s)" in line
    # the like-for-like section (history/counterfactual.py) leads Backstop's side alike: its
    # insolvency row is the median over the phases, the worst beside it, never one phase's
    from offchain.history.counterfactual import like_for_like_section
    from offchain.sim.results.insolvency import EndOfRun

    maker = EndOfRun(WAD, 7 * RAD, 0, 0, 0, 0, 0, 0, 0, 0, 0, ())
    fair = like_for_like_section(maker, "MakerDAO 2020", b, eve, "the Vow's deficit", facts)
    (sold,) = [x for x in fair.splitlines() if x.startswith("| insolvency, the open book sold")]
    assert sold.split(" | ")[1].startswith("0.000M, ")  # the model's one run (7 DAI)
    cell = sold.split(" | ")[2]
    assert cell.startswith(f"{median / 1e6:,.2f}M, ") and "the median over the oracle's 6" in cell
    assert "worst 9.00M" in cell
    assert "one phase" not in fair.split("| figure |")[1]
    alone = like_for_like_section(maker, "MakerDAO 2020", b, eve, "the Vow's deficit")
    assert "one oracle phase, not a distribution over the oracle's phases" in alone
    out = tmp_path / "report"
    md = write_report(
        out, day.done.result, None, scenario_lines(day.scenario), extra=section
    ).read_text()
    assert "## The oracle's phase" in md and f"| {reported:,} s (this report) |" in md
    first = next(x for x in md.split("## Headline")[1].splitlines() if x.startswith("| insol"))
    assert f"| {median:,.2f} BUSD (" in first and "worst 9,000,000.00 BUSD" in first
    assert json.loads((out / "facts.json").read_text())["insolvency"] == pytest.approx(median)


def test_caps__a_set_hole_moves_both_sides__the_sweep_s_rows_by_cap(tmp_path):
    """2021's caps are read from the day's settings (`--set hole=...` moves Backstop's cap with
    the Dog's); the sweep's rows are the rule's and the sweep's caps, each with the cap over all
    types the larger of it and the rule's; `caps` replaces the rule for one run."""
    cf = COUNTERFACTUALS["may-2021"]
    v = values({"hole": 30_000_000 * RAD}, cf)
    assert cf.caps(v) == (30_000_000, 100_000_000)
    rows = sweep_caps(cf, values(cf=cf))
    assert [caps for caps, _ in rows] == [
        (5_000_000, 100_000_000),
        (10_000_000, 100_000_000),
        (22_000_000, 100_000_000),
        (50_000_000, 100_000_000),
        (100_000_000, 100_000_000),
        (500_000_000, 500_000_000),
        (AUCTION_CAP * 164, AUCTION_CAP * 164),
    ]
    assert rows[2][1].startswith("the rule: ")
    s = load_scenario(str(write_inputs(tmp_path, cf=cf, caps=(7_000_000, 300_000_000))))
    assert s.system.collateral[0].auction_cap == 7_000_000 * RAD
    assert s.system.max_debt_in_auction == 300_000_000 * RAD
    bt = sweep_caps(BLACK_THURSDAY, values())
    assert [caps[0] for caps, _ in bt] == [5_000_000, 10_000_000, 15_000_000, 30_000_000,
                                            AUCTION_CAP * SIZE_FACTOR, 129_000_000]  # fmt: skip
    assert all(caps[1] == 129_000_000 for caps, _ in bt)


def test_caps__the_rule_s_cap_binds_each_auction_as_the_dog_s_hole__a_swept_cap_its_own(
    tmp_path,
):
    """A real run of 2021-05-19's eve under Backstop at 100 vaults (about 20M of debt each, 2B
    in all): under the day's rule each auction's debt x the penalty (1.13) stays within the
    Dog's 22M `hole`, so the largest auction takes 22M / 1.13 = 19.47M and a large vault is
    liquidated in several auctions; a swept 1M cap takes 0.885M an auction and leaves vaults
    unsafe, never liquidated, that the rule's cap reached."""
    cf = COUNTERFACTUALS["may-2021"]
    v = values({"vaults": 100}, cf)
    assert cf.caps(v) == (22_000_000, 100_000_000)
    rule = run(tmp_path / "rule", chain=False, v=v, cf=cf)
    swept = run(tmp_path / "swept", chain=False, v=v, cf=cf, caps=(1_000_000, 100_000_000))
    for day, cap in ((rule, 22_000_000), (swept, 1_000_000)):
        assert day.scenario.system.collateral[0].auction_cap == cap * RAD
        assert day.scenario.system.max_debt_in_auction == 100_000_000 * RAD
    debts = rule.done.model.tables["liquidations"]
    assert round(debts["debt"].max() / 1e6, 3) == 19.469  # 22M / 1.13
    assert debts.groupby("owner").size().max() > 1
    small = swept.done.model.tables["liquidations"]
    assert round(small["debt"].max() / 1e6, 3) == 0.885  # 1M / 1.13
    b, s = BackstopFigures.of(rule.done.model), BackstopFigures.of(swept.done.model)
    assert (b.unsafe_left, b.unsafe_debt) == (0, 0.0)
    assert s.unsafe_left > 0 and s.unsafe_debt > 300e6
    assert s.debt_liquidated < b.debt_liquidated / 10
