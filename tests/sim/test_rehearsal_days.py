"""A governance rehearsal's crash days and report, without a devnet (issue 74): the day's debt
ceilings sized to the live book beside the day's actors' draws, said before any day runs; the
loader's refusal of a scenario the rehearsal wrote named without its scratch files or keys the
command does not take; no table printed without rows, no empty cell; the private node's exit
reason given with its cause (offchain/report/rehearsal.py, offchain/live/rehearsal.py,
offchain/backends/anvil.py). The whole command on a devnet: tests/live/test_govern.py."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from offchain.backends.anvil import exit_reason
from offchain.live.reconcile import Reconciliation
from offchain.live.rehearsal import ForkRun, Worsened, report_lines
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.report.rehearsal import (
    Day,
    Side,
    SweepRow,
    day_lines,
    prepare_day,
    problem_text,
    sizing,
    sizing_lines,
    sweep_lines,
)
from offchain.sim.scenario.ceilings import actor_draws
from offchain.sim.scenario.load import load_scenario
from offchain.system import governance

ROOT = Path(__file__).resolve().parents[2]
CONFIG = (ROOT / "config" / "devnet.toml").read_text()
PRICE = 2_000 * WAD  # config/devnet.toml's ETH-A price: the live price of these books


def _book(vaults: int, debt: int, ratio: int = 4) -> list[tuple[str, int, int]]:
    """(owner, collateral, normalized debt) at a rate of 1: `vaults` of `debt` [wad] each at a
    collateral ratio of `ratio` at PRICE."""
    return [(f"0x{k:040x}", debt * ratio * WAD // PRICE, debt) for k in range(vaults)]


def test_sizing__the_issue_book_on_may_2021__the_type_ceiling_raised_by_the_draws():
    """The issue's book (16,750,945.03 on 1,001 vaults) with may-2021's actors' draws
    (5,329,843.97) exceeds ETH-A's 20 million: raised by the draws, from 20 million."""
    base = load_scenario("may-2021")
    draws = actor_draws(base.market, base.keepers, base.backstop, False)
    assert format(draws / WAD, ",.2f") == "5,329,843.97"
    book = 16_750_945_030_000_000_000_000_000
    z = sizing(base, "may-2021", [("0x1", 10**4 * WAD, book)], CONFIG, "ETH-A")
    expected = -(-(20_000_000 * WAD + draws) // WAD)  # whole stablecoin, rounded up
    assert z.raised == (("ETH-A's debt ceiling", 20_000_000 * RAD, expected * RAD),)
    assert z.overrides == (("debt_ceiling", str(expected)),) and z.global_ceiling is None
    assert z.text().startswith(
        "ETH-A's debt ceiling from 20,000,000 to 25,329,844: the book's debt 16,750,945.03 and "
        "the day's actors' draws 5,329,843.97"
    )


def test_sizing__a_book_that_fits__nothing_raised():
    """black-thursday-2020's own override (30 million) holds the same book and its draws."""
    base = load_scenario("black-thursday-2020")
    z = sizing(base, "black-thursday-2020", _book(8, 2_000_000 * WAD), CONFIG, "ETH-A")
    assert z.raised == () and z.overrides == () and z.text() == ""


def test_sizing__a_book_above_the_ceilings__raised_from_the_book_manager_and_global_too():
    """A book above the config's ceiling (a ceiling manager raised the live one) and a global
    ceiling a proposal lowered: each raised by the draws from the book, the manager's maximum
    to the type's new ceiling."""
    base = load_scenario("may-2021")
    draws = actor_draws(base.market, base.keepers, base.backstop, False)
    lowered = CONFIG.replace('global_debt_ceiling = "50_000_000"', 'global_debt_ceiling = "1000"')
    assert lowered != CONFIG
    rows = _book(16, 2_000_000 * WAD)  # 32 million, above ceiling_max's 30 million
    z = sizing(base, "may-2021", rows, lowered, "ETH-A")
    new = -(-(32_000_000 * WAD + draws) // WAD) * RAD
    assert z.raised == (
        ("ETH-A's debt ceiling", 20_000_000 * RAD, new),
        ("its ceiling manager's maximum", 30_000_000 * RAD, new),
        ("the global debt ceiling", 1_000 * RAD, new),
    )
    assert z.global_ceiling == new


def test_prepare_day__a_book_over_may_2021s_ceiling__loaded_with_it_raised_and_said(tmp_path):
    """The day is built (both sides loaded and checked) under the raised ceiling, before any
    run; the line that says so names no file and no key."""
    rows = _book(8, 2_100_000 * WAD)  # 16.8 million
    configs = {"before": CONFIG, "after": CONFIG.replace('"1.13"', '"1.15"')}
    d = prepare_day("may-2021", "ETH-A", rows, RAY, PRICE, configs, tmp_path)
    assert not d.skipped and d.included == 8 and not d.sides  # prepared, not run
    assert set(d.scenarios) == {"before", "after"}
    raised = d.sized["before"].raised[0][2]
    for scenario in d.scenarios.values():
        assert scenario.system.collateral[0].debt_ceiling == raised
    (line,) = sizing_lines(d)
    assert line.startswith("Raised for this day (before and after): ETH-A's debt ceiling from ")
    assert str(tmp_path) not in line and "override" not in line and "protocol." not in line


def test_problem_text__the_issue_message__no_scratch_file_no_key(tmp_path):
    folder = tmp_path / "may-2021-before"
    message = (
        f"{folder / 'scenario.yaml'}: vaults: the book's debt (1,001 vaults) 16,750,945.03 "
        "plus the actors' draws 5,329,843.97 = 22,080,789.00 stablecoin exceeds ETH-A's debt "
        "ceiling 20,000,000; lower the book's debt or the keepers' and backstop's capital, or "
        "raise protocol.collateral_overrides.debt_ceiling"
    )
    assert problem_text(message, folder) == (
        "vaults: the book's debt (1,001 vaults) 16,750,945.03 plus the actors' draws "
        "5,329,843.97 = 22,080,789.00 stablecoin exceeds ETH-A's debt ceiling 20,000,000"
    )
    assert problem_text(f"{folder / 'book.csv'}: row 3: bad\nmore", folder) == "row 3: bad"


def test_exit_reason__failed_to_create_genesis__its_cause_given():
    """Anvil's "failed to create genesis" names its cause under "Context:" (a fork of a block
    the forked node no longer holds): the one line carries it."""
    stderr = (
        "Error: failed to create genesis\n\nContext:\n- failed to get account for 0xf39F: "
        "server returned an error response: error code -32602: BlockOutOfRangeError: block "
        "height is 2704 but requested was 2630\n"
    )
    assert exit_reason(stderr) == (
        "Error: failed to create genesis (failed to get account for 0xf39F: server returned an "
        "error response: error code -32602: BlockOutOfRangeError: block height is 2704 but "
        "requested was 2630)"
    )
    assert (
        exit_reason("Error: boom\nContext:\n- Error #0: a\n- Error #1: b") == "Error: boom (a; b)"
    )
    assert exit_reason("no error line\nthe last") == "the last"


def _run(worsened: list[Worsened]) -> ForkRun:
    return ForkRun(
        head=10,
        taken="copied",
        executed_block=11,
        executed_at=1_700_000_000,
        eta=1_700_000_000,
        digest="0x00",
        changes=[
            governance.Change(
                "collateral.ETH-A.liquidation_penalty", 113 * WAD // 100, 115 * WAD // 100
            )
        ],  # fmt: skip
        in_force={"collateral.ETH-A.liquidation_penalty": 115 * WAD // 100},
        reconciliation=Reconciliation(1, 1, 11),
        invariants=[],
        worsened=worsened,
        vaults_judged=360,
    )


def _tables(lines: list[str]) -> list[list[str]]:
    """Each table's rows after its heading and rule."""
    out: list[list[str]] = []
    for k, line in enumerate(lines):
        if line.startswith("|---"):
            rows = []
            for row in lines[k + 1 :]:
                if not row.startswith("|"):
                    break
                rows.append(row)
            out.append(rows)
    return out


def test_report_lines__none_worsened__no_table_after_it():
    lines = report_lines(_run([]), 1, "http://127.0.0.1:8546", "p.toml")
    at = lines.index("## Vaults the change itself worsens (at the oracle's current price)")
    assert lines[at + 2].startswith("None of the 360 vaults judged")
    assert not [x for x in lines[at:] if x.startswith("|")]
    assert all(rows for rows in _tables(lines))  # the changes' table, filled
    assert "copied at its block 10" in lines[2]


def test_report_lines__a_vault_worsened__its_row_under_the_heading():
    w = Worsened("ETH-A", "0xabc", 3 * WAD, 4_000 * RAD, "safe", "called")
    lines = report_lines(_run([w]), 1, "http://127.0.0.1:8546", "p.toml")
    assert "1 of the 360 vaults judged move closer to liquidation:" in lines
    assert _tables(lines)[-1] == ["| ETH-A | 0xabc | 3.000000 | 4,000.00 | safe | called |"]


def _day() -> Day:
    d = Day("may-2021", "ETH-A", 3, [], PRICE, PRICE)
    for config in ("before", "after"):
        side = Side(config, 600, 0, [])
        side.runs = {p: {"insolvency": 5.0, "liquidations": 2.0} for p in (0, 600, 1200)}
        d.sides.append(side)
    return d


def test_day_lines__one_number_per_cell__the_heading_says_so():
    lines = day_lines(_day())
    heading = next(x for x in lines if x.startswith("Each cell"))
    assert "a number alone: the same at all 3 phases" in heading
    assert "| insolvency | 5.00 | 5.00 |" in lines


def test_sweep_lines__refused_points_under_the_table__a_waterfall_alone_no_table():
    d = _day()
    key = "collateral.ETH-A.liquidation_penalty"
    runs = {p: {"insolvency": 1.0} for p in (0, 600, 1200)}
    rows = [
        SweepRow(key, Decimal("0.5"), "1.14", 3, "1.13", "1.15", runs=runs),
        SweepRow(key, Decimal("2"), "1.17", 0, "1.13", "1.15", problem="must be <= 1.16"),
    ]
    lines = sweep_lines(d, rows, ["backstop.waterfall"])
    (table,) = _tables(lines)
    assert [r.split("|")[2].strip() for r in table] == ["1.13 (before)", "1.14", "1.15 (proposed)"]
    assert all(all(c.strip() for c in r.strip().strip("|").split("|")) for r in table)
    assert f"- {key} = 1.17 (2 of the change): must be <= 1.16" in lines
    alone = sweep_lines(d, [], ["backstop.waterfall"])
    assert not [x for x in alone if x.startswith("|")]
    assert "Not swept (not a number): backstop.waterfall." in alone
