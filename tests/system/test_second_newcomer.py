"""A newcomer's second try (issue 47: 266 new bad inputs on 5323f68): each mistake it found
accepted in silence, a traceback, or a line that named the wrong thing is one line naming it now,
exit 2 on the command line, nothing run or written. (The ones needing a node are in
tests/live: test_keeper_check.py, test_make_keepers.py, test_devnet_cli.py.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.live.cli import parse_gas
from offchain.live.webhook import check_webhook_url
from offchain.sim.scenario.load import ScenarioError, load_scenario
from offchain.sim.scenario.market_data import DataError, load_gas, load_prices
from offchain.sweep.spec import SweepError, SweepSpec, load_sweep_file, parse_grid_option, plan
from offchain.system.cli import unwritable
from offchain.system.config import ConfigError, load_config
from offchain.testing.gas_report import SnapshotError, read_snapshot
from offchain.testing.mutation import read_mutants

ROOT = Path(__file__).resolve().parents[2]
MARKET = ROOT / "data" / "market"
PRICES = MARKET / "eth_usd_2020-03-12.csv"
GAS = MARKET / "gas_2020-03-12.csv"
RESERVES_2021 = MARKET / "uniswap_eth_dai_reserves_2021-05-19.csv"
LONG = "n" * 300  # longer than a file name may be (255 bytes here)


def _lines(output: str) -> list[str]:
    return [x for x in output.splitlines() if x.strip()]


def test_a_name_longer_than_the_file_system_allows__named_before_the_run(tmp_path):
    """`simulate --out <300 characters>` was an OSError traceback once the run had ended (the
    same for compare-waterfalls, fuzz --out and gas --update --snapshot: one check serves all)."""
    problem = unwritable(tmp_path / LONG / "sub")
    assert problem is not None and "longer than the file system allows" in problem
    assert unwritable(tmp_path / ("n" * 200)) is None
    result = CliRunner().invoke(
        script_cli("simulate"),
        ["--backend", "model", "--vaults", "10", "--out", str(tmp_path / LONG)],
    )
    assert result.exit_code == 2, (result.output, result.exception)
    lines = _lines(result.output)
    assert lines == [f"simulate: {tmp_path / LONG}: File name too long (choose another --out)"]
    assert list(tmp_path.iterdir()) == []


MUTANT = """[[mutant]]
id = "{id}"
description = "x"
tests = []
[[mutant.edit]]
file = "{file}"
find = "{find}"
replace = "b"
[[mutant.edit]]
file = "offchain/model/price_curves.py"
find = "def "
replace = "def  "
"""


@pytest.mark.parametrize(
    ("file", "find", "problem"),
    [
        ("contracts/modules/price_curves.vy", "", "an edit with an empty find"),
        ("contracts/modules/price_curves.vy", "   ", "an edit with an empty find"),
        ("/etc/hostname", "a", "/etc/hostname is not a file of the project"),
        ("../../etc/hostname", "a", "../../etc/hostname is not a file of the project"),
    ],
)
def test_mutant_list__an_edit_that_cannot_be_tried__refused_not_tried(
    tmp_path, file, find, problem
):
    """An empty find was an IndexError traceback; a file outside the project was read before
    the entry was refused (two lines, neither saying why)."""
    path = tmp_path / "m.toml"
    path.write_text(MUTANT.format(id="nc31", file=file, find=find))
    mutants, problems = read_mutants(path)
    assert mutants == []  # not among the mutants whose edits the command tries
    assert problems == [f"m.toml: mutant 1 (nc31): {problem}"]
    result = CliRunner().invoke(script_cli("mutate"), ["--list", str(path), "--unit", "never"])
    assert result.exit_code == 2
    assert _lines(result.output) == [f"mutate: m.toml: mutant 1 (nc31): {problem}"]


def test_mutate_an_empty_only__named_beside_clicks_refusals(tmp_path):
    """`--only '' --examples 0x10 --list <missing>`: the empty id was lost."""
    result = CliRunner().invoke(
        script_cli("mutate"), ["--only", "", "--examples", "0x10", "--list", str(tmp_path / "x")]
    )
    assert result.exit_code == 2
    assert "mutate: --only '': an empty mutant id" in _lines(result.output)


def test_price_csv__a_column_named_twice__refused(tmp_path):
    rows = PRICES.read_text().splitlines()
    path = tmp_path / "p.csv"
    path.write_text("\n".join([rows[0] + ",close"] + [r + ",1" for r in rows[1:]]) + "\n")
    with pytest.raises(DataError, match="column close named twice in the header"):
        load_prices(path)


def test_gas_csv__a_percentile_above_the_next__refused_naming_the_row(tmp_path):
    rows = GAS.read_text().splitlines()
    header = rows[0].split(",")
    cells = rows[10].split(",")
    cells[header.index("p30_gwei")] = "5000"
    rows[10] = ",".join(cells)
    path = tmp_path / "g.csv"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError) as exc:
        load_gas(path)
    assert str(exc.value).startswith(f"{path}:11: p30_gwei 5000 is above p60_gwei ")
    assert str(exc.value).endswith("(percentiles rise)")
    assert load_gas(GAS).columns["p30_gwei"]  # the day's own file: in order


@pytest.mark.parametrize("depth", ["3__000_000", "_3_000_000", "3_000_000_"])
def test_an_underscore_not_between_digits__refused(tmp_path, depth):
    """`pool_depth = "3__000_000"` and `debt_ceiling = "_20_000_000"` were taken."""
    path = tmp_path / "s.toml"
    path.write_text(f'[market]\nprices = "{PRICES}"\npool_depth = "{depth}"\n')
    with pytest.raises(ScenarioError) as exc:
        load_scenario(str(path))
    assert str(exc.value) == (
        f"{path}: market.pool_depth: is not a number: {depth!r} (underscores go between digits: "
        "20_000_000)"
    )
    path.write_text(f'[market]\nprices = "{PRICES}"\npool_depth = "3_000_000"\n')
    assert load_scenario(str(path)).market.pool_depth == 3_000_000 * 10**18


def test_sweep_grid_integer__an_underscore_not_between_digits__refused(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text('[grid]\ncount = ["1__0"]\n')
    with pytest.raises(SweepError, match="must be an integer"):
        load_sweep_file(path)


@pytest.mark.parametrize("url", ["http://exa mple.test/x", "http://example.test/a b", " http://x"])
def test_webhook_url_with_a_space__refused(url):
    with pytest.raises(ValueError, match="is not an http"):
        check_webhook_url(url)


def test_gas_snapshot_with_a_figure_twice__refused(tmp_path):
    """json keeps the last of two equal keys in silence."""
    path = tmp_path / "s.json"
    path.write_text('{"gas.open": 100000, "gas.open": 120000}')
    with pytest.raises(SnapshotError, match="figure gas.open given twice"):
        read_snapshot(path)


def test_simulate_waterfall_with_an_empty_layer__named_beside_clicks_refusals(tmp_path):
    """`--vaults 1e3 --drain nan --waterfall fund,,redistribution`: the empty layer was dropped
    in silence (and its line lost beside click's two)."""
    result = CliRunner().invoke(
        script_cli("simulate"),
        ["--backend", "model", "--vaults", "1e3", "--waterfall", "fund,,redistribution"],
    )
    assert result.exit_code == 2
    lines = _lines(result.output)
    assert "simulate: --waterfall 'fund,,redistribution': an empty layer between commas" in lines
    assert len(lines) == 2, lines


def test_a_pool_seeded_from_reserves_over_the_ceiling__names_the_scale():
    """A reserves file taken whole (scale 1) over the debt ceiling named --vaults and the debt
    median only: the pool's seed is most of it."""
    with pytest.raises(ScenarioError) as exc:
        load_scenario(str(MARKET / "eth_usd_2021-05-19.csv"), reserves=str(RESERVES_2021))
    assert "a smaller market.reserves_scale, --reserves-scale" in str(exc.value)


def test_devnet_hardhat_journal_of_another_chain__refused_before_hardhat_starts(tmp_path):
    """A journal whose header says chain id 1: Hardhat was started, wrote its log beside the
    journal, then refused it for its genesis (the chain id was not named)."""
    journal = tmp_path / "j.jsonl"
    header = {
        "format": "backstop-devnet-journal",
        "version": 1,
        "node": "hardhat",
        "chain_id": 1,
        "genesis_timestamp": 1,
        "genesis_hash": "0x" + "00" * 32,
    }
    journal.write_text(json.dumps(header) + "\n")
    written = journal.read_bytes()
    result = CliRunner().invoke(
        script_cli("devnet"), ["--node", "hardhat", "--port", "8651", "--state", str(journal)]
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        f"devnet: --state {journal} is the journal of chain id 1, not the devnet's 31337: move "
        "it away to start a fresh devnet"
    ]
    assert sorted(os.listdir(tmp_path)) == ["j.jsonl"] and journal.read_bytes() == written


def test_sweep_grid__the_same_mistake_of_every_value__one_line(tmp_path):
    """`--grid count=10,20` on a scenario with a book: the same refusal twice, a line per value
    (w-grid-book-count)."""
    (tmp_path / "prices.csv").write_text(PRICES.read_text())
    (tmp_path / "book.csv").write_text("collateral,debt\n40,5000\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text('[market]\nprices = "prices.csv"\n[vaults]\nbook = "book.csv"\n')
    spec = SweepSpec((str(scenario),), 2, (parse_grid_option("count=10,20"),))
    with pytest.raises(SweepError) as exc:
        plan(spec)
    lines = str(exc.value).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"grid count=10,20: {scenario}: vaults.book: a book gives the ")


@pytest.mark.parametrize("spec", ["fixed:-0", "fixed:30,-0", "geometric:-0,1.125,200"])
def test_keeper_gas_price_with_a_minus_sign__refused(spec):
    """`--gas fixed:-0` passed as a max fee of 0."""
    with pytest.raises(ValueError, match=f"--gas '{spec}': -0 is below 0"):
        parse_gas(spec)


def test_config__a_keys_mistake_beside_a_mistake_between_keys__both_named(tmp_path):
    """k-scenario-config-bad: `token_decimals = 18.0` and a ceiling_max below the ceiling_gap;
    the second was named only once the first was fixed (the loader stopped at the first)."""
    text = (ROOT / "config" / "devnet.toml").read_text()
    assert 'ceiling_max = "30_000_000"' in text and "token_decimals = 18\n" in text
    bad = tmp_path / "c.toml"
    bad.write_text(
        text.replace("token_decimals = 18\n", "token_decimals = 18.0\n", 1).replace(
            'ceiling_max = "30_000_000"', 'ceiling_max = "1"', 1
        )
    )
    with pytest.raises(ConfigError) as exc:
        load_config(bad)
    assert str(exc.value).splitlines() == [
        f"{bad}: collateral[0].token_decimals: must be an integer between 0 and 18, got 18.0",
        f"{bad}: collateral[0].ceiling_gap: must not exceed ceiling_max",
    ]
    alone = tmp_path / "alone.toml"  # the key's mistake alone: its one line
    alone.write_text(text.replace("token_decimals = 18\n", "token_decimals = 18.0\n", 1))
    with pytest.raises(ConfigError) as exc:
        load_config(alone)
    assert len(str(exc.value).splitlines()) == 1


@pytest.mark.parametrize("seeds", ["0x10", "0"])
def test_sweep_grid_value__named_beside_another_options_mistake(tmp_path, seeds):
    """w-three: `--seeds 0x10 --grid dust=abc --verify -2`: the grid value, checked against the
    plan, was named only once the options were fixed (also for --seeds 0, click's or not)."""
    result = CliRunner().invoke(
        script_cli("sweep"),
        ["--seeds", seeds, "--grid", "dust=abc", "--vaults", "10", "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 2
    lines = _lines(result.output)
    assert len(lines) == 2 and lines[0].startswith("sweep: ") and "--seeds" in lines[0], lines
    assert lines[1].startswith("sweep: grid dust=abc: ") and lines[1].endswith(
        "protocol.collateral_overrides.dust: is not a number: 'abc'"
    )
    assert list(tmp_path.iterdir()) == []


def test_price_csv__a_row_with_a_field_the_header_does_not_name__refused(tmp_path):
    """p-extra-field: row 7 with a value the header does not name was taken (the value dropped);
    a trailing empty field (a comma at the end) stays taken."""
    rows = PRICES.read_text().splitlines()
    path = tmp_path / "p.csv"
    path.write_text("\n".join([*rows[:6], rows[6] + ",5", *rows[7:]]) + "\n")
    with pytest.raises(DataError, match=f"{path}:7: 8 fields, the header has 7"):
        load_prices(path)
    path.write_text("\n".join([*rows[:6], rows[6] + ",", *rows[7:]]) + "\n")
    assert len(load_prices(path).times) == len(rows) - 1
