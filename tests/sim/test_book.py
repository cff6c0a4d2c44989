"""A scenario's vaults from a file (`[vaults] book`, offchain/sim/scenario/book.py): a user's own
book replayed on a private Anvil and in the model with no difference, its amounts opened to the
wei, and every mistake of the book (or of a scenario that names one) refused by `ape run
simulate` in one line each, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.model.fixed_point import RAY, WAD
from offchain.report.tables import scenario_lines
from offchain.sim.results.reconcile import reconcile
from offchain.sim.run.replay import replay
from offchain.sim.scenario.load import ScenarioError, load_scenario
from offchain.sim.scenario.population import actor_address, population_plans

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "devnet.toml"
# 14 ten-minute bars: 200 for two, then 150 (a 25% drop); 12 bars at 150 after them
PRICES = "time_utc,close\n" + "".join(
    f"2020-03-12T{i // 6:02d}:{i % 6 * 10:02d}:00Z,{200 if i < 2 else 150}\n" for i in range(14)
)
# ratios at 200: 1.6, 3.0 and 1.8 (at 150: 1.2, 2.25 and 1.35 against ETH-A's 1.5)
BOOK = "collateral,debt\n40,5000\n300.123456789012345678,20000.5\n22.5,2500\n"
SCENARIO = """[scenario]
name = "my-book"
seed = 7

[market]
prices = "prices.csv"
gas_gwei = 30
tail_bars = 12

[vaults]
book = "book.csv"
"""


def _scenario(tmp_path: Path, book: str | bytes = BOOK, text: str = SCENARIO) -> Path:
    (tmp_path / "prices.csv").write_text(PRICES)
    if isinstance(book, bytes):
        (tmp_path / "book.csv").write_bytes(book)
    else:
        (tmp_path / "book.csv").write_text(book)
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


def test_book__plans_are_the_files_amounts_to_the_wei__owners_as_drawn_ones(tmp_path):
    s = load_scenario(str(_scenario(tmp_path)))
    c = s.system.collateral[0]
    plans = population_plans(s.vaults, s.seed, c.initial_price, c.token_decimals, c.dust)
    assert s.vaults.count == 3
    assert [(p.owner, p.collateral, p.debt, p.opted_in) for p in plans] == [
        (actor_address("vault", 0), 40 * WAD, 5000 * WAD, False),
        (
            actor_address("vault", 1),
            300_123_456_789_012_345_678,
            20_000_500_000_000_000_000_000,
            False,
        ),
        (actor_address("vault", 2), 22_500_000_000_000_000_000, 2500 * WAD, False),
    ]
    assert dict(scenario_lines(s))["vaults"] == (
        "3 from the book book.csv (3 rows; total debt 27,500.5, total collateral "
        "362.623456789012345678 WETH)"
    )


def test_book__a_token_of_8_decimals__whole_units_to_wad__finer_refused(tmp_path):
    """WBTC-A's token has 8 decimals: a collateral of 0.5 WBTC is 5e7 units, 5e17 wad; a ninth
    decimal is finer than a unit."""
    text = SCENARIO + '\n[protocol]\ncollateral = "WBTC-A"\n'
    s = load_scenario(str(_scenario(tmp_path, "collateral,debt\n37.12345678,2500\n", text)))
    assert s.vaults.book is not None and s.vaults.book.collateral == (37_123_456_780_000_000_000,)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(str(_scenario(tmp_path, "collateral,debt\n37.123456789,2500\n", text)))
    assert str(exc.value) == (
        f"{tmp_path / 's.toml'}: vaults.book: {tmp_path / 'book.csv'}:2: collateral 37.123456789 "
        "is finer than WBTC's unit (8 decimals)"
    )


def test_book__opt_in_share_spreads_the_opted_in_owners_as_a_drawn_population(tmp_path):
    text = SCENARIO + 'opt_in_share = "0.5"\n'
    s = load_scenario(str(_scenario(tmp_path, BOOK + "23,2500\n", text)))
    plans = population_plans(s.vaults, 0, 1, 18, 0)
    assert [p.opted_in for p in plans] == [False, True, False, True]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    scenario = load_scenario(str(_scenario(tmp_path_factory.mktemp("book"))))
    return scenario, replay(scenario)


def test_book__replays_on_anvil_and_in_the_model__no_difference(replayed):
    scenario, done = replayed
    chain, reconciliation = done.checked
    assert reconciliation.ok and reconcile(chain, done.model).diff_count == 0
    assert chain.facts["vaults"] == done.model.facts["vaults"] == 3
    # the two vaults below 1.5 at 150 are liquidated, the one at 2.25 is not
    liquidations = chain.tables["liquidations"]
    assert sorted(liquidations.owner) == sorted(
        [actor_address("vault", 0), actor_address("vault", 2)]
    )


def test_book__each_vault_opens_with_the_books_collateral_and_debt_to_the_wei(replayed):
    """The set-up's VaultModified of each owner: the book's collateral exactly, and a normalized
    debt that, at the type's one rate of the set-up, is the book's debt rounded up by less than
    a wei (n x rate >= debt x RAY > (n - 1) x rate: one rate fits every vault)."""
    scenario, done = replayed
    chain, _ = done.checked
    events = chain.tables["events"]
    opened = {
        args["owner"]: args
        for args in map(json.loads, events[events.event == "VaultModified"].args)
        if int(args["delta_collateral"]) > 0
    }
    book = scenario.vaults.book
    low, high = 0, 2 * RAY
    for i, (collateral, debt) in enumerate(zip(book.collateral, book.debt, strict=True)):
        args = opened[actor_address("vault", i)]
        assert int(args["delta_collateral"]) == collateral
        n = int(args["delta_normalized_debt"])
        low = max(low, -(-debt * RAY // n))
        high = min(high, (debt * RAY - 1) // (n - 1))
    assert RAY <= low <= high < RAY + RAY // 10**6


# ---------------------------------------------------------------- refusals, through the command


def _refused(tmp_path: Path, *args: str) -> list[str]:
    out = tmp_path / "report"
    result = CliRunner().invoke(
        script_cli("simulate"),
        ["--scenario", str(tmp_path / "s.toml"), "--out", str(out), "--quiet", *args],
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert not out.exists()
    return [x for x in result.output.splitlines() if x.strip()]


B = "{dir}/book.csv"  # where a line names the book


@pytest.mark.parametrize(
    "book, problem",
    [
        (
            b"\x89PNG\r\n\x1a\n\x00\x00",
            f"{B}: not a UTF-8 text file (byte 0x89 at offset 0); a book is a CSV",
        ),
        (
            b"collateral,debt\n1\x00,2\n",
            f"{B}: not a text file (a NUL byte at offset 17); a book is a CSV",
        ),
        ("", f"{B}: empty file (expected a header with collateral, debt)"),
        ("collateral,debt\n", f"{B}: no vault (a header and no rows)"),
        ("collateral,owed\n1,2\n", f"{B}: missing column debt (has collateral, owed)"),
        ("owner\n1\n", f"{B}: missing columns collateral, debt (has owner)"),
        ("collateral,debt\n40\n", f"{B}:2: 1 fields, the header has 2"),
        ("collateral,debt\nforty,5000\n", f"{B}:2: collateral 'forty' is not a number"),
        ("collateral,debt\n40,\n", f"{B}:2: debt is empty"),
        ("collateral,debt\nnan,5000\n", f"{B}:2: collateral is nan (not a finite number)"),
        ("collateral,debt\n40,inf\n", f"{B}:2: debt is inf (not a finite number)"),
        (
            "collateral,debt\n1e400,5000\n",
            f"{B}:2: collateral 1e400 is above 1,000,000,000,000,000",
        ),
        ("collateral,debt\n-40,5000\n", f"{B}:2: collateral must be above 0, got -40"),
        ("collateral,debt\n0,5000\n", f"{B}:2: collateral must be above 0, got 0"),
        ("collateral,debt\n40,-5000\n", f"{B}:2: debt must not be negative, got -5000"),
        (
            "collateral,debt\n40,0\n",
            f"{B}:2: debt is 0: a vault without debt is never liquidated; drop the row",
        ),
        ("collateral,debt\n40,2499.99\n", f"{B}:2: debt 2499.99 is below ETH-A's dust 2,500"),
        (
            "collateral,debt\n40,2500.0000000000000000001\n",
            f"{B}:2: debt 2500.0000000000000000001 is finer than a wei (18 decimals)",
        ),
        (
            "collateral,debt\n40,5000\n37.5,5000\n",
            f"{B}:3: starts unsafe at the first price 200: collateral x price / debt = 1.5, not "
            "above ETH-A's liquidation ratio 1.5",
        ),
    ],
)
def test_book__each_mistake__one_line_naming_file_line_and_column__exit_2(tmp_path, book, problem):
    _scenario(tmp_path, book)
    assert _refused(tmp_path) == [
        f"simulate: {tmp_path / 's.toml'}: vaults.book: " + problem.format(dir=tmp_path)
    ]


def test_book__three_mistakes__three_lines(tmp_path):
    _scenario(tmp_path, "collateral,debt\n40,5000\nforty,5000\n40,0\n1,5000\n")
    s, b = tmp_path / "s.toml", tmp_path / "book.csv"
    assert _refused(tmp_path) == [
        f"simulate: {s}: vaults.book: {b}:3: collateral 'forty' is not a number",
        f"simulate: {s}: vaults.book: {b}:4: debt is 0: a vault without debt is never "
        "liquidated; drop the row",
        f"simulate: {s}: vaults.book: {b}:5: starts unsafe at the first price 200: collateral x "
        "price / debt = 0.04, not above ETH-A's liquidation ratio 1.5",
    ]


def test_book__more_vaults_than_the_most__one_line(tmp_path):
    _scenario(tmp_path, "collateral,debt\n" + "40,5000\n" * 100_001)
    assert _refused(tmp_path) == [
        f"simulate: {tmp_path / 's.toml'}: vaults.book: {tmp_path / 'book.csv'}: 100,001 vaults, "
        "at most 100,000"
    ]


def test_book__with_the_draws_keys__one_line(tmp_path):
    _scenario(tmp_path, text=SCENARIO + "count = 50\ndebt_median = 9000\n")
    assert _refused(tmp_path) == [
        f"simulate: {tmp_path / 's.toml'}: vaults.book: a book gives the vaults, the draw's keys "
        "cannot: drop count, debt_median (or the book)"
    ]


def test_book__with_cli_vaults__one_line(tmp_path):
    _scenario(tmp_path)
    assert _refused(tmp_path, "--vaults", "50") == [
        f"simulate: --vaults: {tmp_path / 's.toml'}'s vaults come from its book (book.csv), one "
        "a row: drop --vaults"
    ]


def test_book__of_a_further_type__one_line(tmp_path):
    text = SCENARIO.replace('book = "book.csv"', "count = 3") + (
        '\n[types.WBTC-A]\nbook = "book.csv"\n'
    )
    _scenario(tmp_path, text=text)
    assert _refused(tmp_path) == [
        f"simulate: {tmp_path / 's.toml'}: types.WBTC-A.book: only the first type's [vaults] may "
        "name a book; a further type's population is drawn (count, debt_median, ...)"
    ]


def test_book__above_the_types_debt_ceiling__one_line_naming_both(tmp_path):
    """The ceilings are the scenario's, not sized to the book: ETH-A's 20,000,000 against a book
    of 19,000,000 and the actors' default draws."""
    _scenario(tmp_path, "collateral,debt\n40,5000\n200000,19000000\n")
    assert _refused(tmp_path) == [
        f"simulate: {tmp_path / 's.toml'}: vaults: the book's debt (2 vaults) 19,005,000 plus the "
        "actors' draws 3,600,000 = 22,605,000 stablecoin exceeds ETH-A's debt ceiling "
        "20,000,000; lower the book's debt or the keepers' and backstop's capital, or raise "
        "protocol.collateral_overrides.debt_ceiling"
    ]


def test_book__not_there__one_line_beside_the_files_other_mistakes(tmp_path):
    _scenario(tmp_path, text=SCENARIO.replace('"book.csv"', '"nope.csv"') + "colour = 1\n")
    lines = _refused(tmp_path)
    s = tmp_path / "s.toml"
    assert lines == [
        f"simulate: {s}: vaults: unknown key 'colour'",
        f"simulate: {s}: vaults.book: file 'nope.csv' not found (looked in {tmp_path} and {ROOT})",
    ]
