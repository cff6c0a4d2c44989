"""A keeper's gas budget per bar, shared by every collateral type
(offchain/sim/strategies/gas_budget.py; issue 33: "keepers act across types with shared capital and
gas budget"): what fits is sent, most valuable per gas first, the rest waits for the next bar; no
budget (the default) is today's run to the wei; a budget that binds on a two-type crash replays on
Anvil and in the model with 0 differences, and what it deferred adds up per type in the tables, the
report and the budget's own arithmetic."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from helpers import script_cli

from offchain.model.fixed_point import WAD
from offchain.report.documents import write_report
from offchain.report.tables import deferred_by_type, scenario_lines
from offchain.sim.results.reconcile import reconcile
from offchain.sim.results.tables import BACKSTOP_WIDE
from offchain.sim.run.driver import simulate
from offchain.sim.run.replay import replay
from offchain.sim.scenario.load import ScenarioError, load_scenario
from offchain.sim.strategies import steps
from offchain.sim.strategies.gas_budget import within_budget
from offchain.sim.strategies.gas_costs import (
    FLASH_TAKE_GAS,
    FLASH_TAKE_VENUE_GAS,
    LIQUIDATION_GAS,
    LIQUIDATION_TX_GAS,
    RESET_GAS,
    TAKE_GAS,
    action_gas,
)
from offchain.sim.strategies.keepers import MAX_BATCH, Action, liquidation_batches

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ROOT / "offchain" / "sim" / "scenarios" / "may-2021-two-types.toml"
KEEPER, TAKER, OTHER = "0xkeeper", "0xtaker", "0xother"
ETH, BTC = b"ETH-A".ljust(32, b"\0"), b"WBTC-A".ljust(32, b"\0")


def _take(auction_id: int, profit: int, flash: bool = True, sender: str = TAKER) -> Action:
    args = (auction_id, 1, 1, 0) if flash else (auction_id, 1, 1, sender, b"")
    return Action(
        "taker", sender, "0xauction", "take", args, (("auction", auction_id),), 1, 0, (profit,)
    )


def _reset(auction_id: int) -> Action:
    return Action(
        "taker", TAKER, "0xauction", "reset", (auction_id, TAKER), (("auction", auction_id),), 1
    )


def _vaults(action: Action) -> list[tuple[bytes, str, int]]:
    return [(action.args[0], o, v) for o, v in zip(action.args[1], action.values)]


# --- the budget's arithmetic ---------------------------------------------------------------------


def test_no_budget__everything_goes__the_same_list():
    actions = [_take(1, 10), _reset(2)]
    sent, deferred = within_budget(actions, 0, TAKER)
    assert sent is actions and deferred == []


def test_takes__most_profit_per_gas_first__resets_after__others_untouched_in_order():
    """Four flash takes (280k each) and a reset (110k) in a budget of 3 x 280k + 100k: the three
    most profitable takes go, the least profitable and the reset (it would need 110k of the 100k
    left) wait; another sender's action passes as it was, where it was."""
    other = _take(9, 1, sender=OTHER)
    actions = [_take(1, 50), _reset(2), other, _take(3, 500), _take(4, 70), _take(5, 60)]
    budget = 3 * FLASH_TAKE_GAS + 100_000
    sent, deferred = within_budget(actions, budget, TAKER)
    assert [a.args[0] for a in sent] == [9, 3, 4, 5]
    assert [a.args[0] for a in deferred] == [1, 2]
    assert sum(action_gas(a) for a in sent if a.sender == TAKER) <= budget
    assert sent[0] is other
    # with 110k more the reset fits too, after every take of value
    sent, deferred = within_budget(actions, budget + 10_000, TAKER)
    assert [a.args[0] for a in deferred] == [1]


def test_takes__a_cheaper_take_that_still_fits_goes_after_a_dear_one_that_does_not():
    """Profit per gas: a take with own capital (160k) at 100 beats a flash take (280k) at 150;
    in 300k only one of them fits, the better per gas, and a reset fills what is left."""
    flash, capital = _take(1, 150), _take(2, 100, flash=False)
    assert (action_gas(flash), action_gas(capital)) == (FLASH_TAKE_GAS, TAKE_GAS)
    # a flash take on the outside venue (its fifth argument) is charged its own figure
    on_venue = replace(flash, args=(*flash.args, True))
    assert action_gas(on_venue) == FLASH_TAKE_VENUE_GAS > FLASH_TAKE_GAS
    sent, deferred = within_budget([flash, capital, _reset(3)], 300_000, TAKER)
    assert [a.args[0] for a in sent] == [2, 3] and deferred == [flash]
    assert TAKE_GAS + RESET_GAS <= 300_000


def test_liquidations_over_two_types__largest_debts_first__sent_and_deferred_add_up():
    """Money flow: none (planning). ETH-A wants 50 vaults (two batches: 40 + 10), WBTC-A 3; a
    budget of two batches' own parts and 9 vaults sends the 9 largest debts of both types, in
    one batch per type (each paying its part once), and defers the other 44 vaults, batched
    per type again; the keeper's gas stays within the budget and no vault is lost or doubled."""
    eth = [f"0xe{i:02d}" for i in range(50)]
    btc = ["0xb0", "0xb1", "0xb2"]
    eth_debts = [1_000 * WAD + i for i in range(50)]  # the last ones largest
    btc_debts = [5_000 * WAD, 10 * WAD, 1_049 * WAD]
    wanted = liquidation_batches(ETH, eth, eth_debts, KEEPER, "0xliq", 7)
    wanted += liquidation_batches(BTC, btc, btc_debts, KEEPER, "0xliq", 7)
    assert [len(a.targets) for a in wanted] == [MAX_BATCH, 10, 3]
    budget = 2 * LIQUIDATION_TX_GAS + 9 * LIQUIDATION_GAS
    sent, deferred = within_budget(wanted, budget, KEEPER)
    assert sum(action_gas(a) for a in sent) == budget
    sent_vaults = [v for a in sent for v in _vaults(a)]
    deferred_vaults = [v for a in deferred for v in _vaults(a)]
    # the 9 largest: WBTC-A's 5,000 and 1,049, and ETH-A's seven largest (1,000 + 43..49)
    assert sorted(v for _, _, v in sent_vaults) == sorted(
        [5_000 * WAD, 1_049 * WAD] + eth_debts[43:]
    )
    assert len(deferred_vaults) == 44
    assert sorted(sent_vaults + deferred_vaults) == sorted(
        [(ETH, o, v) for o, v in zip(eth, eth_debts)]
        + [(BTC, o, v) for o, v in zip(btc, btc_debts)]
    )
    # one batch a type, each in its collateral's order; the deferred in batches of MAX_BATCH
    assert [(a.args[0], len(a.targets)) for a in sent] == [(ETH, 7), (BTC, 2)]
    assert sent[0].args[1] == eth[43:] and sent[1].args[1] == ["0xb0", "0xb2"]
    assert [(a.args[0], len(a.targets)) for a in deferred] == [(ETH, 40), (ETH, 3), (BTC, 1)]
    assert all(a.gas_price == 7 and a.contract == "0xliq" for a in sent + deferred)


def test_liquidations__a_41st_vault_pays_a_new_batch():
    owners = [f"0x{i:02d}" for i in range(45)]
    wanted = liquidation_batches(ETH, owners, [WAD] * 45, KEEPER, "0xliq", 1)
    # 40 vaults and one batch exactly: the 41st would start a second batch, which does not fit
    budget = LIQUIDATION_TX_GAS + 40 * LIQUIDATION_GAS + LIQUIDATION_GAS
    sent, deferred = within_budget(wanted, budget, KEEPER)
    assert [len(a.targets) for a in sent] == [40] and [len(a.targets) for a in deferred] == [5]


# --- the scenario's keys ---------------------------------------------------------------------


def _scenario(tmp_path: Path, keepers: str, counts: tuple[int, int] = (1000, 400)) -> str:
    """The built-in two-type scenario with more [keepers] keys and other populations."""
    text = BUILTIN.read_text()
    for key in ("prices", "gas", "reserves", "config"):
        text = text.replace(f'{key} = "', f'{key} = "{ROOT}/')
    text = text.replace("[keepers]\n", "[keepers]\n" + keepers)
    text = text.replace("count = 1000", f"count = {counts[0]}")
    text = text.replace("count = 400", f"count = {counts[1]}")
    text = text.replace('name = "may-2021-two-types"', 'name = "budgets"')
    path = tmp_path / "budgets.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "keepers, problem",
    [
        (
            "taker_gas_budget = 200_000\n",
            "keepers.taker_gas_budget: 200,000 gas is below a flash taker's costliest "
            "transaction (280,000), which it could never send; 0 for no budget",
        ),
        (
            'taker_mode = "capital"\ntaker_capital = "1_000"\ntaker_gas_budget = 150_000\n',
            "keepers.taker_gas_budget: 150,000 gas is below a capital taker's costliest "
            "transaction (160,000)",
        ),
        (
            "liquidation_gas_budget = 479_999\n",
            "keepers.liquidation_gas_budget: 479,999 gas is below the liquidation keeper's "
            "costliest transaction (480,000)",
        ),
        ("backstop_gas_budget = 1\n", "keepers.backstop_gas_budget: 1 gas is below the backstop"),
        (
            "backstop_gas_budget = -1\n",
            "keepers.backstop_gas_budget: must be an integer between 0 and 1000000000000, got -1",
        ),
        ('taker_gas_budget = "3e6"\n', "keepers.taker_gas_budget: must be an integer between"),
        ("taker_gas_budget = 1.5\n", "keepers.taker_gas_budget: must be an integer between"),
        ("liquidation_gas_budget = 10_000_000_000_000\n", "between 0 and 1000000000000"),
    ],
)
def test_budget_keys__bad__one_line_naming_the_key(tmp_path, keepers, problem):
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario(tmp_path, keepers))
    message = str(err.value)
    assert problem in message and "\n" not in message, message


def test_simulate_cli__a_budget_below_a_transaction__one_line_exit_2_nothing_written(tmp_path):
    from click.testing import CliRunner

    out = tmp_path / "report"
    scenario = _scenario(tmp_path, "liquidation_gas_budget = 100_000\n")
    result = CliRunner().invoke(
        script_cli("simulate"),
        ["--scenario", scenario, "--backend", "model", "--out", str(out), "--quiet"],
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "keepers.liquidation_gas_budget: 100,000 gas" in lines[0], lines
    assert not out.exists()


# --- no budget: today's run, to the wei ----------------------------------------------------


def test_no_budget__a_budget_that_never_binds__the_same_run_to_the_wei(tmp_path):
    """The default (no budget) and budgets far above any bar's wants give the same tables, facts
    and complete states on the two-type crash: the budget only ever holds back."""
    default = simulate(load_scenario(_scenario(tmp_path, "")), "model", full_check_every=30)
    huge = "".join(f"{k}_gas_budget = 1_000_000_000_000\n" for k in ("liquidation", "taker"))
    huge += "backstop_gas_budget = 1_000_000_000_000\n"
    never = simulate(load_scenario(_scenario(tmp_path, huge)), "model", full_check_every=30)
    assert default.facts["gas_budgets"] == {"liquidation": 0, "taker": 0, "backstop": 0}
    assert default.facts["deferred_actions"] == never.facts["deferred_actions"] == 0
    assert len(default.tables["deferred"]) == 0
    assert (default.tables["txs"]["status"] != "deferred").all()
    for name in default.tables:
        assert default.tables[name].equals(never.tables[name]), name
    assert default.states == never.states
    skip = ("gas_budgets", "setup_s", "run_s", "drain_s", "scenario")  # the seconds: a clock's
    assert {k: v for k, v in default.facts.items() if k not in skip} == {
        k: v for k, v in never.facts.items() if k not in skip
    }


# --- a budget that binds, across two types, on Anvil and in the model -----------------------

BUDGETS = (
    # 3 vaults a bar; 2 flash takes; the backstop keeper's costliest chore and a little more
    f"liquidation_gas_budget = {LIQUIDATION_TX_GAS + 3 * LIQUIDATION_GAS}\n"
    f"taker_gas_budget = {2 * FLASH_TAKE_GAS}\n"
    "backstop_gas_budget = 200_000\n"
)
# vaults closer to WBTC-A's liquidation ratio (1.45): the crash liquidates some of them too
STRESSED = '\nratio_min = "1.5"\nratio_mode = "1.65"\nratio_max = "2.2"\n'


@pytest.fixture(scope="module")
def budgeted(tmp_path_factory):
    """The two-type crash (150 + 80 vaults) with every keeper on a small budget, on Anvil and in
    the model; each call of the budget recorded (the model run's)."""
    tmp = tmp_path_factory.mktemp("budgets")
    path = _scenario(tmp, BUDGETS, counts=(150, 80))
    Path(path).write_text(Path(path).read_text() + STRESSED)
    scenario = load_scenario(path)
    calls: list[tuple[list[Action], int, str, list[Action], list[Action]]] = []
    within = steps.within_budget

    def recorded(actions, budget, sender):
        sent, deferred = within(actions, budget, sender)
        calls.append((actions, budget, sender, sent, deferred))
        return sent, deferred

    steps.within_budget = recorded
    try:
        model = simulate(scenario, "model", full_check_every=6)
    finally:
        steps.within_budget = within
    done = replay(scenario, model=model)
    return scenario, done, calls


def test_budgeted__chain_and_model_agree_to_the_wei__deferred_rows_included(budgeted):
    _, done, _ = budgeted
    chain, r = done.checked
    assert r.diffs == [] and r.diff_count == 0
    assert reconcile(chain, done.model).ok
    assert chain.tables["deferred"].equals(done.model.tables["deferred"])


def test_budgeted__defers_across_both_types__counted_as_dropped_actions_are(budgeted):
    """Every deferred action is a txs row (status deferred, tx -1, never sent) and a row of the
    deferred table, per bar, keeper and function alike; both types' liquidations waited; the
    per-type counts of the report add up to the run's."""
    _, done, _ = budgeted
    chain, _ = done.checked
    deferred, txs = chain.tables["deferred"], chain.tables["txs"]
    rows = txs[txs["status"] == "deferred"]
    assert len(rows) == len(deferred) == chain.facts["deferred_actions"] > 0
    assert (rows["tx"] == -1).all()
    assert list(zip(rows["bar"], rows["actor"], rows["function"])) == list(
        zip(deferred["bar"], deferred["actor"], deferred["function"])
    )
    liquidations = deferred[deferred["function"] == "liquidate_many"]
    assert set(liquidations["collateral_type"]) == {"ETH-A", "WBTC-A"}
    assert set(deferred["actor"]) >= {"liquidation_keeper", "taker"}
    per_type = deferred_by_type(chain)
    assert list(per_type["collateral_type"])[:2] == ["ETH-A", "WBTC-A"]
    assert set(per_type["collateral_type"]) <= {"ETH-A", "WBTC-A", BACKSTOP_WIDE}
    assert per_type["liquidations"].sum() == liquidations["targets"].sum()
    others = deferred[deferred["function"] != "liquidate_many"]
    assert per_type[["takes", "resets", "backstop"]].to_numpy().sum() == len(others)
    assert per_type["gas"].sum() == deferred["gas"].sum()
    # deferred while the same keeper's sent transactions of the bar landed: the budget bound
    units = per_type[["liquidations", "takes", "resets", "backstop"]].to_numpy().sum(axis=1)
    assert (per_type["binding"].to_numpy() <= units).all() and per_type["binding"].sum() > 0


def test_budgeted__every_bar_within_budget__most_valuable_first__nothing_lost(budgeted):
    """Each call of the budget in the run (each keeper, each bar): the keeper's gas sent is within
    its budget; what it wanted is what it sent and deferred, vault for vault; per collateral
    type, no deferred vault owes more than a vault sent; and a deferred action is never in
    flight, so the keeper plans it again the next bar."""
    scenario, _, calls = budgeted
    k = scenario.keepers
    budgets = {k.liquidation_gas_budget, k.taker_gas_budget, k.backstop_gas_budget}
    bound = 0
    for wanted, budget, sender, sent, deferred in calls:
        assert budget in budgets
        mine = [a for a in sent if a.sender == sender]
        assert sum(action_gas(a) for a in mine) <= budget
        assert [a for a in sent if a.sender != sender] == [a for a in wanted if a.sender != sender]

        def targets(actions, sender=sender):
            return sorted(t for a in actions if a.sender == sender for t in a.targets)

        assert sorted(targets(sent) + targets(deferred)) == targets(wanted)
        for type_id in {a.args[0] for a in deferred if a.function == "liquidate_many"}:
            gone = [v for a in mine if a.args[0] == type_id for v in a.values]
            waiting = [v for a in deferred if a.args[0] == type_id for v in a.values]
            assert not gone or min(gone) >= max(waiting)
        bound += bool(deferred)
    assert bound > 0


def test_budgeted__the_report_counts_what_waited_per_type(budgeted, tmp_path):
    scenario, done, _ = budgeted
    chain, r = done.checked
    summary = write_report(tmp_path / "report", chain, r, scenario_lines(scenario))
    text = summary.read_text()
    assert "| keepers' gas budgets | liquidation keeper 550,000 gas, each taker 560,000 gas" in text
    section = text[text.index("## Keepers' gas budgets") :]
    section = section[: section.index("\n## ", 1)]
    assert f"{chain.facts['deferred_actions']:,} deferred transactions" in section
    for row in deferred_by_type(chain).to_dict("records"):
        assert f"| {row['collateral_type']} | {int(row['liquidations']):,} | " in section
    assert (tmp_path / "report" / "data" / "deferred.csv").is_file()
