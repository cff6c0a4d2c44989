"""Market companion files (offchain/sim/scenario/market.py): a gas or reserves CSV must be of the
price file's day (it covers the path's times), the bare-CSV path takes them (`--gas`,
`--reserves`), and every mistake is one line, exit 2 on the command line, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.sim.scenario.load import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]
MARKET = ROOT / "data" / "market"
PRICES_2020 = MARKET / "eth_usd_2020-03-12.csv"
PRICES_2021 = MARKET / "eth_usd_2021-05-19.csv"
GAS_2020, GAS_2021 = MARKET / "gas_2020-03-12.csv", MARKET / "gas_2021-05-19.csv"
RESERVES_2021 = MARKET / "uniswap_eth_dai_reserves_2021-05-19.csv"


def _error(spec: str, lines: int = 1, **kw) -> str:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(spec, **kw)
    message = str(exc.value)
    assert len(message.splitlines()) == lines, message  # one line per mistake
    return message


def _scenario(tmp_path: Path, prices: Path, **files: Path) -> str:
    lines = ["[market]", f'prices = "{prices}"']
    lines += [f'{key} = "{path}"' for key, path in files.items()]
    if "reserves" in files:
        lines.append('reserves_scale = "0.04"')
    path = tmp_path / "s.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_gas_of_another_day__refused_naming_the_key_and_both_spans(tmp_path):
    message = _error(_scenario(tmp_path, PRICES_2021, gas=GAS_2020))
    assert message.startswith(f"{tmp_path / 's.toml'}: market.gas: {GAS_2020} covers ")
    assert "2020-03-12T00:00:00Z to 2020-03-12T23:50:00Z" in message
    assert (
        "the price file 2021-05-19T00:00:00Z to 2021-05-19T23:50:00Z: its dates differ" in message
    )
    assert "market.reserves" not in message


def test_reserves_of_another_day__refused(tmp_path):
    message = _error(_scenario(tmp_path, PRICES_2020, gas=GAS_2020, reserves=RESERVES_2021))
    assert "market.reserves: " in message and "its dates differ" in message
    assert "market.gas" not in message


def test_two_mistakes_in_one_file__a_line_each(tmp_path):
    """Both named (they were, on one line joined by '; '), a line each, each naming the file."""
    spec = _scenario(tmp_path, PRICES_2020, gas=GAS_2021, reserves=RESERVES_2021)
    gas, reserves = _error(spec, lines=2).splitlines()
    assert gas.startswith(f"{spec}: market.gas: {GAS_2021} covers ")
    assert reserves.startswith(f"{spec}: market.reserves: {RESERVES_2021} covers ")
    assert gas.endswith("its dates differ") and reserves.endswith("its dates differ")


def test_a_companion_of_another_day_beside_a_key_mistake__both_named(tmp_path):
    """The loader stopped at the gas file and the count of 0 waited for the next run."""
    spec = _scenario(tmp_path, PRICES_2020, gas=GAS_2021)
    Path(spec).write_text(Path(spec).read_text() + "[vaults]\ncount = 0\n")
    count, gas = _error(spec, lines=2).splitlines()
    assert count == f"{spec}: vaults.count: must be an integer between 1 and 100000, got 0"
    assert gas.startswith(f"{spec}: market.gas: {GAS_2021} covers ")


def test_one_key_mistake_alone__the_loaders_own_line_once(tmp_path):
    spec = _scenario(tmp_path, PRICES_2020, gas=GAS_2020)
    Path(spec).write_text(Path(spec).read_text() + "[vaults]\ncount = 0\n")
    assert _error(spec).startswith(f"{spec}: vaults.count: ")


def test_two_companions_of_another_day__a_line_each():
    gas, reserves = _error(
        str(PRICES_2020), lines=2, gas=str(GAS_2021), reserves=str(RESERVES_2021)
    ).splitlines()
    assert gas.startswith(f"--gas: {GAS_2021} covers ")
    assert reserves.startswith(f"--reserves: {RESERVES_2021} covers ")


def test_companion_that_ends_early__refused__one_that_covers_the_path__taken(tmp_path):
    rows = GAS_2020.read_text().splitlines()
    morning = tmp_path / "gas_morning.csv"
    morning.write_text("\n".join(rows[:73]) + "\n")  # the header and 00:00 to 11:50
    message = _error(_scenario(tmp_path, PRICES_2020, gas=morning))
    # the same day, stopping short: not "its dates differ" (issue 65)
    assert message.endswith(
        "to 2020-03-12T11:50:00Z, the price file 2020-03-12T00:00:00Z to 2020-03-12T23:50:00Z: "
        "it does not cover the price file's times"
    ), message
    whole_but_last = tmp_path / "gas_slack.csv"
    whole_but_last.write_text("\n".join(rows[:-1]) + "\n")  # a bar short: within the slack
    assert load_scenario(_scenario(tmp_path, PRICES_2020, gas=whole_but_last)).market.gas


def test_bare_csv__takes_gas_and_reserves():
    s = load_scenario(
        str(PRICES_2021),
        gas=str(GAS_2021),
        reserves=str(RESERVES_2021),
        overrides={"market": {"reserves_scale": "0.04"}},  # the CLI's --reserves-scale
    )
    assert s.market.gas is not None and s.market.gas.source == str(GAS_2021)
    # 4% of its first dai_reserve, 67,923,883.6628
    assert s.market.pool_depth == 679238836628 * 4 * 10**18 // 10**6
    plain = load_scenario(str(PRICES_2021))
    assert plain.market.gas is None  # without --gas: the constant default


def test_bare_csv__companion_of_another_day__names_the_option():
    message = _error(str(PRICES_2021), gas=str(GAS_2020))
    assert message.startswith(f"--gas: {GAS_2020} covers ") and "its dates differ" in message


def test_gas_option_with_a_scenario__refused():
    message = _error("may-2021", gas=str(GAS_2021))
    assert message.startswith("--gas: applies only to a bare price CSV")


def _cli():
    return script_cli("simulate")


@pytest.mark.parametrize(
    "args, phrase",
    [
        (["--gas", str(GAS_2020)], "--gas: "),
        (
            ["--gas", str(GAS_2021), "--reserves", str(RESERVES_2021), "--reserves-scale", "0"],
            "reserves_scale",
        ),
        (["--reserves-scale", "0.04"], "--reserves-scale: applies only with --reserves"),
        (["--gas", str(MARKET / "nope.csv")], "--gas: "),
    ],
    ids=["gas-of-2020", "scale-zero", "scale-without-reserves", "no-such-gas"],
)
def test_simulate_cli__bad_companion__one_line_exit_2_nothing_written(tmp_path, args, phrase):
    out = tmp_path / "report"
    result = CliRunner().invoke(
        _cli(),
        ["--scenario", str(PRICES_2021), "--backend", "model", "--out", str(out), "--quiet", *args],
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and phrase in lines[0], lines
    assert not out.exists()


def test_simulate_cli__bare_csv_with_its_companions__runs_and_states_them(tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(
        _cli(),
        [
            "--scenario",
            str(PRICES_2021),
            "--gas",
            str(GAS_2021),
            "--reserves",
            str(RESERVES_2021),
            "--reserves-scale",
            "0.04",
            "--vaults",
            "50",
            "--backend",
            "model",
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    text = (out / "summary.md").read_text()
    # named relative to the project, not this machine's directories
    assert f"| gas | {GAS_2021.relative_to(ROOT)} |" in text
    assert (
        "| collateral pool depth | 2,716,955 BUSD per side at the start, then following the "
        f"liquidity of {RESERVES_2021.relative_to(ROOT)} bar by bar" in text
    )
    assert str(ROOT) not in text


def test_reserves_depth_first_row__a_constant_pool__per_bar_follows_the_file(tmp_path):
    """`first_row` keeps the mechanism before per-bar reserves: the file sets pool_depth and
    nothing follows it (no reserves series reaches the run); `per_bar` (the default) does."""
    path = _scenario(tmp_path, PRICES_2021, gas=GAS_2021, reserves=RESERVES_2021)
    per_bar = load_scenario(path)
    with open(path, "a") as f:
        f.write('reserves_depth = "first_row"\n')
    first_row = load_scenario(path)
    assert per_bar.market.reserves is not None and first_row.market.reserves is None
    assert first_row.market.pool_depth == per_bar.market.pool_depth


def test_reserves_depth__without_reserves_or_unknown__refused_in_one_line(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(f'[market]\nprices = "{PRICES_2021}"\nreserves_depth = "first_row"\n')
    assert "market.reserves_depth: applies only with market.reserves" in _error(str(path))
    bad = _scenario(tmp_path, PRICES_2021, gas=GAS_2021, reserves=RESERVES_2021)
    with open(bad, "a") as f:
        f.write('reserves_depth = "sometimes"\n')
    assert "reserves_depth" in _error(bad)
