"""Every mistake of a file named at once: a scenario with 3 mistakes, a config with 2 and a sweep
file with 2 were refused naming only the first, so a user fixed one a run (the README promises
one line per mistake). Each is now one line per mistake, each named by the command, exit 2,
nothing written."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.sweep.spec import SweepError, load_sweep_file
from offchain.system.config import DEFAULT_CONFIG, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = (ROOT / "tests" / "sim" / "data" / "thin-liquidity-2020.toml").read_text()


def _cli(script: str):
    return script_cli(script)


def _lines(output: str) -> list[str]:
    return [x for x in output.splitlines() if x.strip()]


def _ape_run_refused(*args: str) -> list[str]:
    """`ape run ARGS` as a user types it (no APE_FOUNDRY_HOST), refused: exit 2, no traceback,
    no node started; its stderr's lines."""
    env = {k: v for k, v in os.environ.items() if k != "APE_FOUNDRY_HOST"}
    out = subprocess.run(
        ["ape", "run", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert "anvil" not in (out.stdout + out.stderr).lower()  # no node started
    return _lines(out.stderr)


def test_scenario_with_three_mistakes__three_lines_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    text = (
        (
            SCENARIO.replace("tail_bars = 36", "tail_bars = -36")
            .replace("count = 50", "count = 50\ncolour = 3")
            .replace('taker_mode = "flash"', 'taker_mode = "teleport"')
        )
        .replace('prices = "data/', f'prices = "{ROOT}/data/')
        .replace('gas = "data/', f'gas = "{ROOT}/data/')
    )
    bad.write_text(text.replace('config = "config/', f'config = "{ROOT}/config/'))
    out = tmp_path / "report"
    result = CliRunner().invoke(
        _cli("simulate"), ["--scenario", str(bad), "--out", str(out), "--quiet"]
    )
    lines = _lines(result.output)
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(lines) == 3, lines
    assert all(x.startswith(f"simulate: {bad}: ") for x in lines), lines
    assert any("market.tail_bars" in x for x in lines), lines
    assert any("vaults: unknown key 'colour'" in x for x in lines), lines
    assert any("keepers.taker_mode" in x and "teleport" in x for x in lines), lines
    assert not out.exists()


def test_config_with_two_mistakes__two_lines(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text(
        DEFAULT_CONFIG.read_text()
        .replace('liquidation_ratio = "1.5"', 'liquidation_ratio = "0.5"')
        .replace("[system]", "[system]\nflavour = 1", 1)
    )
    with pytest.raises(ConfigError) as exc:
        load_config(bad)
    lines = str(exc.value).splitlines()
    assert lines == [
        f"{bad}: system: unknown key 'flavour'",
        f"{bad}: collateral[0].liquidation_ratio: must be >= 1 and <= 100, got '0.5'",
    ], lines


def test_numbers_out_of_range_beside_other_mistakes__every_one_named(tmp_path):
    """#27 of issue 47's newcomer: a number out of range (`1e400`) was refused at parse time,
    before the file's other mistakes were read: one line for three mistakes. A scenario's and a
    config's numbers and their other mistakes are named in one run now, nothing written."""
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[scenario]\nname = "n"\nseed = 1\ncolour = 2\n[market]\ngas_gwei = "inf"\n'
        "[market.synthetic]\nstart_price = 100\nsteps = 144\nvolatility = 1e400\n"
        "drift = -1e-400\n[vaults]\ncount = 10\n"
    )
    out = tmp_path / "report"
    result = CliRunner().invoke(
        _cli("simulate"), ["--scenario", str(bad), "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        f"simulate: {bad}: market.synthetic.volatility = 1e400 is out of range (too large to "
        "be a number)",
        f"simulate: {bad}: market.synthetic.drift = -1e-400 is out of range (so small it would "
        "be read as 0)",
        f"simulate: {bad}: scenario: unknown key 'colour'",
        f"simulate: {bad}: market.gas_gwei: must be finite, got 'inf'",
    ]
    assert not out.exists()
    config = tmp_path / "c.toml"
    config.write_text(
        DEFAULT_CONFIG.read_text()
        .replace('liquidation_ratio = "1.5"', "liquidation_ratio = 1e400", 1)
        .replace("[system]", "[system]\nflavour = 1", 1)
    )
    with pytest.raises(ConfigError) as exc:
        load_config(config)
    assert str(exc.value).splitlines() == [
        f"{config}: collateral[0].liquidation_ratio = 1e400 is out of range (too large to be a "
        "number)",
        f"{config}: system: unknown key 'flavour'",
    ]


def test_sweep_file_with_two_mistakes__two_lines_exit_2(tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text('[sweep]\nseeds = "ten"\nworkerz = 2\n\n[grid]\npool_fee = [0.003]\n')
    with pytest.raises(SweepError) as exc:
        load_sweep_file(bad)
    assert str(exc.value).splitlines() == [
        f"{bad}: sweep: unknown key 'workerz' (keys: scenarios, seeds, vaults, verify, "
        "max_borrower_cost, rank_by, workers, dask, scheduler, out)",
        f"{bad}: sweep.seeds: must be an integer, got 'ten'",
    ]
    out = tmp_path / "sweep-out"
    result = CliRunner().invoke(_cli("sweep"), ["--file", str(bad), "--out", str(out)])
    lines = _lines(result.output)
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(lines) == 2 and all(x.startswith("sweep: ") for x in lines), lines
    assert not out.exists()


def test_options_click_cannot_take__each_named__no_run(tmp_path):
    """Several options' values click cannot convert: each is a line (click stopped at the first,
    `fuzz --steps -1 --workers 0 --minutes nan` named --steps only), exit 2, nothing run."""
    fuzz = _cli("fuzz")

    def never(*args, **kwargs):
        raise AssertionError("the campaign started")

    fuzz.callback.__globals__["load_artifacts"] = never
    out = tmp_path / "f.json"
    args = ["--steps", "-1", "--workers", "0", "--minutes", "nan", "--out", str(out)]
    result = CliRunner().invoke(fuzz, args)
    lines = _lines(result.output)
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(lines) == 3 and all(x.startswith("fuzz: Invalid value for '--") for x in lines)
    assert ["--steps" in lines[0], "--workers" in lines[1], "--minutes" in lines[2]] == [True] * 3
    assert not out.exists()
    # an unknown option is still one line, and a valid value beside a bad one is not named
    result = CliRunner().invoke(fuzz, ["--steps", "5", "--bogus"])
    assert result.exit_code == 2 and _lines(result.output) == [
        "fuzz: No such option: --bogus Did you mean --out?"
    ]
    result = CliRunner().invoke(fuzz, ["--steps", "5", "--workers", "0", "--out", str(out)])
    assert _lines(result.output) == [
        "fuzz: Invalid value for '--workers': 0 is not in the range 1<=x<=256."
    ]


def test_reconcile_options__every_mistake_named_before_a_node():
    """reconcile named only --every of `--from-block -1 --every 0 --rpc 'not a url'`: each
    is a line now, before any node is asked."""
    from offchain.live.reconcile import cli

    args = ["--from-block", "-1", "--every", "0", "--rpc", "not a url"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        "reconcile: --from-block must be a block number, got -1",
        "reconcile: --every must be at least 1, got 0",
        "reconcile: --rpc 'not a url' is not an http(s) JSON-RPC URL (http://HOST:PORT)",
    ]


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        (
            "simulate",
            ["--vaults", "0", "--seed", "-1", "--drain", "-1"],
            [
                "simulate: --drain: must be an integer between 0 and 10000, got -1",
                "simulate: --vaults: must be an integer between 1 and 100000, got 0",
                "simulate: --seed: must be an integer between 0 and 18446744073709551615, got -1",
            ],
        ),
        (
            "simulate",
            ["--seed", "nan", "--full-check-every", "0", "--backend", "model", "--node", "anvil"],
            [
                "simulate: Invalid value for '--seed': 'nan' is not a valid integer.",
                # (its value does not matter when the option does not apply: one line)
                "simulate: --full-check-every compares the chain's state with the model's; "
                "--backend model runs no chain",
                "simulate: --node anvil is the node of --backend both; --backend model runs no "
                "node",
            ],
        ),
        (
            "compare-waterfalls",
            ["--orders", "fund;nope", "--vaults", "-1", "--seed", "nan"],
            [
                "compare-waterfalls: Invalid value for '--seed': 'nan' is not a valid integer.",
                "compare-waterfalls: --orders: unknown layer 'nope' (layers: fund, "
                "stability_pool, debt_auction, redistribution, deleverage)",
                "compare-waterfalls: --vaults: must be an integer between 1 and 100000, got -1",
            ],
        ),
    ],
)
def test_a_value_click_refuses_beside_the_commands_own_mistakes__all_named(
    tmp_path, script, args, expected
):
    """Issue 47, item 4: a value click cannot convert stopped the run before the command's own
    checks (`simulate --vaults 0 --seed -1 --drain -1` named --drain; `compare-waterfalls
    --orders 'fund;nope' --vaults -1 --seed nan` named --seed): every mistake is one line now,
    click's and the command's together (one_line_usage's `checks`), exit 2, nothing written."""
    out = tmp_path / "out"
    result = CliRunner().invoke(_cli(script), [*args, "--out", str(out)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == expected
    assert not out.exists()


DEAD_RPC = "http://127.0.0.1:9"  # nothing listens on the discard port


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        (
            "sweep",
            ["--file", "{tmp}/three.toml"],
            [
                "sweep: {tmp}/three.toml: sweep.seeds: must be an integer between 1 and 100000, "
                "got 0",
                "sweep: {tmp}/three.toml: sweep.workers: must be between 1 and 512, got -1",
                "sweep: {tmp}/three.toml: grid: unknown grid name 'nope'; the names are the "
                "scenario's and the config's keys, listed in docs/sweeps.md",
            ],
        ),
        (
            "sweep",
            ["--seeds", "-1", "--workers", "0", "--verify", "-1"],
            [
                "sweep: --seeds: must be an integer between 1 and 100000, got -1",
                "sweep: --workers: must be between 1 and 512, got 0",
                "sweep: --verify: must be 0 or more, got -1",
            ],
        ),
        (
            "sweep",
            ["--file", "{tmp}/dup.yaml", "--seeds", "nan"],
            [
                "sweep: Invalid value for '--seeds': 'nan' is not a valid integer.",
                "sweep: {tmp}/dup.yaml: not valid YAML (line 3, column 3: key 'seeds' is given "
                "twice (lines 2 and 3))",
            ],
        ),
        (
            "devnet",
            ["--port", "0", "--block-time", "nan"],
            [
                "devnet: Invalid value for '--block-time': 'nan' is not a finite number.",
                "devnet: --port must be from 1 to 65535, got 0",
            ],
        ),
        (
            "market",
            ["--speed", "-1", "--vaults", "-1"],
            [
                "market: Invalid value for '--speed': -1.0 is not in the range x>0.",
                "market: --vaults: must be an integer between 1 and 100000, got -1",
            ],
        ),
        (
            "market",
            ["--speed", "0", "--vaults", "-1", "--scenario", "nope"],
            [
                "market: Invalid value for '--speed': 0.0 is not in the range x>0.",
                "market: --vaults: must be an integer between 1 and 100000, got -1",
                "market: unknown scenario 'nope' (built-in: black-thursday-2020, may-2021, "
                "may-2021-cascade, may-2021-two-types, synthetic-crash; or a .toml/.yaml/.yml "
                "scenario file or a .csv price file)",
            ],
        ),
        (
            "market",
            ["--vaults", "-1", "--scenario", "{tmp}/count0.toml", "--rpc", DEAD_RPC],
            [
                "market: --vaults: must be an integer between 1 and 100000, got -1",
                "market: {tmp}/count0.toml: vaults.count: must be an integer between 1 and "
                "100000, got 0",
                f"market: no JSON-RPC node answers at {DEAD_RPC} (start one: make devnet)",
            ],
        ),
        (
            "market",
            ["--deployment", "{tmp}/empty.toml", "--rpc", DEAD_RPC],
            [
                "market: {tmp}/empty.toml: empty file (expected the devnet's record, "
                "deployments/<chain id>-<genesis>.json, written by make devnet or ape run deploy)",
                f"market: no JSON-RPC node answers at {DEAD_RPC} (start one: make devnet)",
            ],
        ),
        (
            "reconcile",
            ["--deployment", "{tmp}/empty.csv", "--rpc", DEAD_RPC],
            [
                "reconcile: {tmp}/empty.csv: empty file (expected the devnet's record, "
                "deployments/<chain id>-<genesis>.json, written by make devnet or ape run deploy)",
                f"reconcile: no JSON-RPC node answers at {DEAD_RPC} (start one: make devnet)",
            ],
        ),
        (
            "keeper",
            ["--role", "taker", "--min-profit", "1e400", "--gas", "fixed:nan", "--rpc", DEAD_RPC],
            [
                "keeper: --gas 'fixed:nan': nan is not a finite number",
                "keeper: --min-profit '1e400': must be from 0 to 1,000,000,000,000,000 "
                "(stablecoin)",
                # (a taker without --account sends nothing: its --gas is never used)
                "keeper: --gas: without --account the bot sends no transactions (give "
                "--account, or drop it)",
                f"keeper: no JSON-RPC node answers at {DEAD_RPC} (start one: make devnet)",
            ],
        ),
    ],
)
def test_the_live_and_sweep_commands__every_mistake_named_in_one_run(
    tmp_path, script, args, expected
):
    """Issue 47, item 4, the commands a newcomer's tally still found naming one mistake of
    several: a sweep file's three (two named), sweep's and devnet's options beside a value click
    refuses, market's and reconcile's bad record beside a dead node, the keeper's --gas and
    --min-profit; market's --vaults beside an unknown scenario or one of its own mistakes. Each is
    a line now, exit 2, nothing written or started."""
    (tmp_path / "three.toml").write_text("[sweep]\nworkers = -1\nseeds = 0\n[grid]\nnope = [1]\n")
    (tmp_path / "dup.yaml").write_text("sweep:\n  seeds: 2\n  seeds: 3\n")
    (tmp_path / "empty.toml").write_text("")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "count0.toml").write_text(
        '[market]\nprices = "data/market/eth_usd_2020-03-12.csv"\n[vaults]\ncount = 0\n'
    )
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    out = tmp_path / "out"
    if script == "sweep":
        args += ["--out", str(out)]
    result = CliRunner().invoke(_cli(script), args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [x.replace("{tmp}", str(tmp_path)) for x in expected]
    assert not out.exists()


@pytest.mark.parametrize("script", ["simulate", "compare-waterfalls", "sweep"])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_out__refused_not_taken_for_the_default(tmp_path, monkeypatch, script, value):
    """A newcomer's try (issue 47): `--out ''` was taken for "not given", so simulate,
    compare-waterfalls and sweep ran and wrote their default report directory (exit 0). It is
    one line now, exit 2, and no reports/ directory appears."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(_cli(script), ["--out", value])
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        f"{script}: --out {value!r} is empty: give a directory, or leave --out out for the default"
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["", "  "])
def test_sweep_an_empty_scheduler__refused_not_taken_for_the_pool(tmp_path, value):
    """Issue 65: `--scheduler ''` was taken for "not given": the sweep ran on the local pool
    and wrote its output (exit 0)."""
    out = tmp_path / "sweep"
    result = CliRunner().invoke(_cli("sweep"), ["--scheduler", value, "--out", str(out)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [f"sweep: --scheduler {value!r} is empty: give tcp://HOST:PORT"]
    assert not out.exists()


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("/proc/nope", "fuzz: --out /proc/nope: /proc/nope: cannot create a directory in /proc"),
        ("", "fuzz: --out '' is empty: give a file for the record"),
    ],
)
def test_fuzz_out_unusable__refused_before_the_campaign(out, expected):
    """A newcomer's try (issue 47): `fuzz --out /proc/nope` ran the campaign and then failed to
    write its record with a traceback. It is one line now, exit 2, before any campaign
    (load_artifacts, its first step, is never reached)."""
    fuzz = _cli("fuzz")

    def never(*args, **kwargs):
        raise AssertionError("the campaign started")

    fuzz.callback.__globals__["load_artifacts"] = never
    result = CliRunner().invoke(fuzz, ["--steps", "1", "--workers", "1", "--out", out])
    assert result.exit_code == 2, (result.output, result.exception)
    lines = _lines(result.output)
    assert len(lines) == 1 and lines[0].startswith(expected), lines


def test_keeper_account_and_role_mistakes__named_before_any_node(tmp_path):
    """A newcomer's try (issue 47): `keeper --account ''` ran as a bot holding no account (the
    empty alias taken for "none"), an unknown alias was named only after the node answered, and
    `--min-profit 5` on a liquidator was taken and ignored (only the taker weighs a profit).
    Each is a line now, beside a dead node's, exit 2, nothing started."""
    result = CliRunner().invoke(
        _cli("keeper"),
        ["--role", "liquidator", "--min-profit", "5", "--account", "", "--rpc", DEAD_RPC],
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        "keeper: --account: '' is empty: give an Ape account's alias or dev:N",
        "keeper: --min-profit is for --role taker, not liquidator",
        f"keeper: no JSON-RPC node answers at {DEAD_RPC} (start one: make devnet)",
    ]
    result = CliRunner().invoke(
        _cli("keeper"), ["--role", "taker", "--account", "dev:99", "--rpc", DEAD_RPC]
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        "keeper: --account: dev:99: the devnet has dev accounts 0 to 9",
        f"keeper: no JSON-RPC node answers at {DEAD_RPC} (start one: make devnet)",
    ]


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ("", "devnet: --records '' is empty: give a directory, or leave --records out"),
        ("{tmp}/file", "devnet: --records {tmp}/file: a file, not a directory"),
        (
            "{tmp}/file/sub",
            "devnet: --records {tmp}/file/sub: {tmp}/file is a file, not a directory",
        ),
    ],
)
def test_devnet_records_unusable__refused_before_the_node(tmp_path, records, expected):
    """A newcomer's try (issue 47): `devnet --records <file>/sub` started the node, deployed,
    and failed to write the record with a NotADirectoryError traceback. It is one line now,
    exit 2, before any node (the port given is refused beside it: both named)."""
    (tmp_path / "file").write_text("notes\n")
    records = records.replace("{tmp}", str(tmp_path))
    result = CliRunner().invoke(_cli("devnet"), ["--records", records, "--port", "0"])
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        "devnet: --port must be from 1 to 65535, got 0",
        expected.replace("{tmp}", str(tmp_path)),
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_deploy_option_mistakes__every_one_named_before_ape_starts_a_node(tmp_path):
    """A newcomer's try (issue 47): `deploy --deployments <file>/sub` deployed to a node and then
    failed to write its record (NotADirectoryError); `--account ''` was a ValueError traceback
    from Ape; `--deployments '' --dry-run` ran; --gas-price's mistakes were named after Ape had
    started Anvil. Every option is checked first now: one `deploy:` line per mistake (click's
    `Error:` before), exit 2, no node started, nothing written."""
    (tmp_path / "file").write_text("notes\n")
    lines = _ape_run_refused(
        "deploy",
        "--deployments",
        f"{tmp_path}/file/sub",
        "--account",
        "",
        "--feeder-account",
        "dev:77",
        "--gas-price",
        "1e400",
    )
    assert lines == [
        "deploy: --gas-price prices a --dry-run: give --dry-run, or drop it",
        "deploy: --gas-price '1e400': must be from 0 to 1,000,000 gwei",
        f"deploy: --deployments {tmp_path}/file/sub: {tmp_path}/file is a file, not a directory",
        "deploy: --account: '' is empty: give an Ape account's alias or dev:N",
        "deploy: --feeder-account: dev:77: the devnet has dev accounts 0 to 9",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize(
    ("command", "option", "what"),
    [
        ("deploy", "--config", "a deployment config (.toml)"),
        ("devnet", "--config", "a deployment config (.toml)"),
        ("gas", "--snapshot", "a gas snapshot (.json)"),
    ],
)
def test_an_empty_file_option__named_as_empty_not_as_the_current_directory(command, option, what):
    """Issue 65: `--config ''` was named ".: a directory, not a file" and `gas --snapshot ''`
    ".: a directory, not a gas snapshot" (Path("") is the current directory). One check of
    --config serves deploy and devnet."""
    lines = _ape_run_refused(command, option, "")
    assert lines == [f"{command}: {option} '' is empty: give {what}"]


def test_scenario_references__named_with_the_documents_own_mistakes(tmp_path):
    """A newcomer's try (issue 47): a scenario whose price file is missing beside 5 other
    mistakes was refused naming the 5 (the missing file came next run); one with an unknown
    waterfall layer and an unknown collateral type named the type, then the layer. The
    references a scenario makes (files, layers, the config's types) are followed with its own
    checks now: every mistake a line, exit 2, nothing written."""
    multi = tmp_path / "multi.toml"
    multi.write_text(
        '[scenario]\nname = "multi"\nseed = -3\n\n[market]\n'
        f'prices = "{tmp_path}/nosuch.csv"\npool_depth = "ten"\n\n'
        '[vaults]\ncount = -5\ncolour = "red"\n\n[keepers]\ntaker_mode = "teleport"\n'
    )
    protocol = tmp_path / "protocol.toml"
    protocol.write_text(
        '[scenario]\nname = "proto"\nseed = 1\n[market]\ngas_gwei = 50\n[market.synthetic]\n'
        'start_price = "2000"\nsteps = 144\nvolatility = 1.2\n[vaults]\ncount = 10\n'
        f'[protocol]\nconfig = "{DEFAULT_CONFIG}"\ncollateral = "DOGE-Z"\n'
        'waterfall = ["fund", "magic"]\n'
    )
    out = tmp_path / "report"
    result = CliRunner().invoke(_cli("simulate"), ["--scenario", str(multi), "--out", str(out)])
    assert result.exit_code == 2, (result.output, result.exception)
    lines = _lines(result.output)
    assert len(lines) == 6 and all(x.startswith(f"simulate: {multi}: ") for x in lines), lines
    assert lines[-1].endswith(
        f"market.prices: file '{tmp_path}/nosuch.csv' not found (looked in {tmp_path}/nosuch.csv)"
    )
    result = CliRunner().invoke(_cli("simulate"), ["--scenario", str(protocol), "--out", str(out)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        f"simulate: {protocol}: protocol.waterfall: unknown layer 'magic' (layers: fund, "
        "stability_pool, debt_auction, redistribution, deleverage)",
        f"simulate: {protocol}: protocol.collateral: unknown collateral type 'DOGE-Z' (types in "
        f"{DEFAULT_CONFIG}: ETH-A, WBTC-A)",
    ]
    assert not out.exists()


def test_companion_files__each_ones_mistake_named(tmp_path):
    """A newcomer's try (issue 47): a gas file of another day beside a reserves file without
    its columns named only the reserves file. Each file's mistake is a line now."""
    prices = ROOT / "data" / "market" / "eth_usd_2021-05-19.csv"
    gas = ROOT / "data" / "market" / "gas_2020-03-12.csv"
    out = tmp_path / "report"
    result = CliRunner().invoke(
        _cli("simulate"),
        ["--scenario", str(prices), "--gas", str(gas), "--reserves", str(gas), "--out", str(out)],
    )
    assert result.exit_code == 2, (result.output, result.exception)
    lines = _lines(result.output)
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"simulate: {gas}: missing columns dai_reserve, weth_reserve")
    assert lines[1].startswith(f"simulate: --gas: {gas} covers 2020-03-12T00:00:00Z")
    assert not out.exists()


def test_companion_file_that_is_a_directory__named_as_one(tmp_path):
    """Issue 65: `--gas /tmp` said "/tmp: no such file" and a scenario's `stable_prices =
    "/tmp"` "file '/tmp' not found", of a directory that exists. Each says what it is now."""
    prices = ROOT / "data" / "market" / "eth_usd_2021-05-19.csv"
    out = tmp_path / "report"
    result = CliRunner().invoke(
        _cli("simulate"), ["--scenario", str(prices), "--gas", str(tmp_path), "--out", str(out)]
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [f"simulate: --gas: {tmp_path} is a directory, not a gas CSV"]
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'[market]\nprices = "{prices}"\nstable_prices = "{tmp_path}"\n')
    result = CliRunner().invoke(_cli("simulate"), ["--scenario", str(scenario), "--out", str(out)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        f"simulate: {scenario}: market.stable_prices: '{tmp_path}' is a directory, not a file "
        f"(looked in {tmp_path})"
    ]
    assert not out.exists()


def test_sweep_file__scenarios_vaults_and_cost__named_with_the_rest(tmp_path):
    """A newcomer's try (issue 47): a sweep file's unknown scenario, `vaults = 0` and
    `max_borrower_cost = "nan"` were named only once its other mistakes were fixed (a run
    each). Every one is a line of the first run now."""
    bad = tmp_path / "s.toml"
    bad.write_text(
        '[sweep]\nscenarios = ["black-thursday-2020", "nosuch-scenario"]\nseeds = 0\n'
        'vaults = 0\nmax_borrower_cost = "nan"\n[grid]\ndust = ["1000"]\n'
    )
    with pytest.raises(SweepError) as exc:
        load_sweep_file(bad)
    lines = str(exc.value).splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "sweep.scenarios",
        "sweep.seeds",
        "sweep.vaults",
        "sweep.max_borrower_cost",
    ], lines
    assert "unknown scenario 'nosuch-scenario'" in lines[0]


def test_simulate_waterfall__named_beside_the_other_options():
    """A newcomer's try (issue 47): `simulate --vaults 0 --waterfall magic` named --vaults; the
    unknown layer came next run."""
    result = CliRunner().invoke(_cli("simulate"), ["--vaults", "0", "--waterfall", "magic"])
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        "simulate: --waterfall: unknown layer 'magic' (layers: fund, stability_pool, "
        "debt_auction, redistribution, deleverage)",
        "simulate: --vaults: must be an integer between 1 and 100000, got 0",
    ]


def test_keeper_checkpoints_directory_under_a_file__named_before_any_node(tmp_path):
    """A newcomer's try (issue 47): with BACKSTOP_KEEPERS_DIR under a regular file, the keeper
    named only the dead node (the checkpoint's write would have failed later). Both are lines."""
    (tmp_path / "file").write_text("notes\n")
    result = CliRunner().invoke(
        _cli("keeper"),
        ["--role", "liquidator", "--rpc", DEAD_RPC],
        env={"BACKSTOP_KEEPERS_DIR": f"{tmp_path}/file/keepers"},
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        f"keeper: BACKSTOP_KEEPERS_DIR {tmp_path}/file/keepers: {tmp_path}/file is a file, not "
        "a directory",
        f"keeper: no JSON-RPC node answers at {DEAD_RPC} (start one: make devnet)",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            ["deploy", "--network", "nosuch:net:prov"],
            [
                "deploy: Invalid value for '--network': No ecosystem named 'nosuch' (ape networks "
                "list shows them)"
            ],
        ),
        (
            ["bench", "--gas-only", "--foo-only"],
            [
                "bench: No such option: --foo-only (Possible options: --fuzz-only, --nodes-only, "
                "--sim-only)"
            ],
        ),
        (
            ["deploy", "--account", "dev:1", "--feeder-account", "dev:1"],
            [
                "deploy: --account dev:1 and --feeder-account dev:1 must be different accounts "
                "(their defaults: dev:0 and dev:1)"
            ],
        ),
        (
            ["deploy", "--dry-run", "--verify", "--account", "dev:99"],
            [
                "deploy: --dry-run and --verify are two different runs: give one",
                "deploy: --account: dev:99: the devnet has dev accounts 0 to 9",
            ],
        ),
        # Ape's local network starts a fresh Anvil for the command: it started, then the record
        # of that empty node was not found (a newcomer's dep-verify-fresh)
        (
            ["deploy", "--verify"],
            [
                "deploy: --verify checks a running node's deployment, and the local network "
                "starts a new node for this command: give --network ethereum:devnet:node (make "
                "devnet's node) or APE_FOUNDRY_HOST"
            ],
        ),
        # a node network whose node is down: Ape's traceback ("No (supported) node found"); a
        # port nothing listens on (ape-config.yaml's devnet is :8545, which may be in use)
        (
            ["deploy", "--network", "http://127.0.0.1:9", "--dry-run", "--account", "dev:99"],
            [
                "deploy: --account: dev:99: the devnet has dev accounts 0 to 9",
                "deploy: no node answers at http://127.0.0.1:9: start it (make devnet), or give "
                "another --network",
            ],
        ),
        # the last was taken in silence
        (
            ["deploy", "--config", "config/devnet.toml", "--config", "b.toml", "--dry-run"],
            [
                "deploy: --config given 2 times: give it once",
                "deploy: b.toml: cannot read (No such file or directory)",
            ],
        ),
    ],
)
def test_ape_commands__a_value_ape_or_click_refuses__one_line_no_node(command, expected):
    """A newcomer's try (issue 47): `deploy --network nosuch:net:prov` printed Ape's list of
    every ecosystem (64 lines), `bench --foo-only` click's three-line usage; `deploy --dry-run
    --verify --account dev:99` named the contradiction only (--verify read no account). One
    line per mistake now, exit 2, before any node."""
    assert _ape_run_refused(*command) == expected


def test_devnet_bad_value_beside_a_config_with_two_mistakes__each_line_named(tmp_path):
    """A newcomer's try (issue 47): `devnet --block-time -5 --config <two mistakes>` printed the
    config's second mistake without the `devnet:` prefix (the config's mistakes came as one
    text beside click's refusal). Every line is named by the command now."""
    bad = tmp_path / "c.toml"
    bad.write_text(
        DEFAULT_CONFIG.read_text()
        .replace('liquidation_ratio = "1.5"', 'liquidation_ratio = "0.5"')
        .replace("[system]", "[system]\nflavour = 1", 1)
    )
    result = CliRunner().invoke(
        _cli("devnet"), ["--block-time", "-5", "--config", str(bad), "--port", "18999"]
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        "devnet: Invalid value for '--block-time': -5.0 is not in the range 0<x<=86400.",
        f"devnet: {bad}: system: unknown key 'flavour'",
        f"devnet: {bad}: collateral[0].liquidation_ratio: must be >= 1 and <= 100, got '0.5'",
    ]


def test_mutate_unknown_ids_beside_an_unwritable_out__each_named(tmp_path):
    """A newcomer's try (issue 47): `mutate --only no-such-mutant --out <file>/sub` named the
    --out only; the unknown id came next run, and two unknown ids shared one line. Each is a
    line now, exit 2, nothing run."""
    (tmp_path / "file").write_text("notes\n")
    result = CliRunner().invoke(
        _cli("mutate"),
        ["--only", "no-such-mutant", "--only", "another", "--out", f"{tmp_path}/file/sub"],
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        f"mutate: --out {tmp_path}/file/sub: {tmp_path}/file is a file, not a directory",
        "mutate: --only no-such-mutant: no such mutant id in offchain/testing/mutants.toml",
        "mutate: --only another: no such mutant id in offchain/testing/mutants.toml",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("name", ["../escaped", "a/b", "..", "a\\\\b"])
def test_scenario_name_that_is_a_path__refused_nothing_written_outside_reports(tmp_path, name):
    """Issue 47's newcomer: `name = "../x"` put the default report at reports/../x-model, outside
    reports/. A name with a slash, or '.' or '..', is refused in one line."""
    bad = tmp_path / "s.toml"
    bad.write_text(
        f'[scenario]\nname = "{name}"\n[market.synthetic]\nstart_price = 100\nsteps = 10\n'
    )
    result = CliRunner().invoke(_cli("simulate"), ["--scenario", str(bad), "--backend", "model"])
    assert result.exit_code == 2, (result.output, result.exception)
    shown = name.replace("\\\\", "\\")
    assert _lines(result.output) == [
        f"simulate: {bad}: scenario.name: {shown!r} is not a name (it names the report's "
        "directory under reports/: no slashes, not '.' or '..')"
    ]


def test_simulate_full_check_every_with_the_model_alone__refused():
    """Issue 47's newcomer: `--backend model --full-check-every 3` ran (there is no chain state
    to compare); refused beside the other option mistakes, as --node is."""
    result = CliRunner().invoke(
        _cli("simulate"), ["--backend", "model", "--full-check-every", "3", "--vaults", "0"]
    )
    assert result.exit_code == 2, (result.output, result.exception)
    lines = _lines(result.output)
    assert (
        "simulate: --full-check-every compares the chain's state with the model's; --backend "
        "model runs no chain"
    ) in lines
    assert any("--vaults" in line for line in lines), lines


def test_simulate__an_option_and_what_is_checked_against_the_scenario__all_named(tmp_path):
    """A newcomer's tally (issue 47, "fewer lines than mistakes"): `--vaults 0 --drain -1
    --oracle-phase 99999` named --drain and --vaults only; --oracle-phase (checked against the
    scenario's oracle delay) and --out (checked once the scenario loaded) came up a run later,
    and a gas file of another day a run after --reserves-scale without --reserves. The scenario
    is loaded with the options that are right, so these are lines of the same run."""
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "out"
    args = ["--backend", "model", "--vaults", "0", "--drain", "-1", "--oracle-phase", "99999"]
    result = CliRunner().invoke(_cli("simulate"), [*args, "--out", str(out)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        "simulate: --drain: must be an integer between 0 and 10000, got -1",
        "simulate: --vaults: must be an integer between 1 and 100000, got 0",
        "simulate: --oracle-phase: must be an integer from 0 to 3,599 (below the oracle delay, "
        "3,600 s), got 99999",
        f"simulate: --out {out}: {tmp_path / 'afile'} is a file, not a directory",
    ]
    prices = ROOT / "data" / "market" / "eth_usd_2020-03-12.csv"
    gas = ROOT / "data" / "market" / "gas_2021-05-19.csv"
    args = ["--backend", "model", "--scenario", str(prices), "--gas", str(gas)]
    result = CliRunner().invoke(
        _cli("simulate"), [*args, "--reserves-scale", "0.04", "--out", str(tmp_path / "o")]
    )
    lines = _lines(result.output)
    assert result.exit_code == 2 and len(lines) == 2, lines
    assert lines[0] == "simulate: --reserves-scale: applies only with --reserves"
    assert lines[1].startswith(f"simulate: --gas: {gas} covers 2021-05-19") and "differ" in lines[1]
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_compare_waterfalls__a_given_out_named_with_the_options_mistakes(tmp_path):
    """A newcomer's tally (issue 47): `compare-waterfalls --vaults 0 --out /proc/...` named
    --vaults only; --out's mistake came up once the options were right. A given --out is
    checked with them now."""
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "out"
    args = ["--vaults", "0", "--orders", "nope", "--out", str(out)]
    result = CliRunner().invoke(_cli("compare-waterfalls"), args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        "compare-waterfalls: --orders: unknown layer 'nope' (layers: fund, stability_pool, "
        "debt_auction, redistribution, deleverage)",
        f"compare-waterfalls: --out {out}: {tmp_path / 'afile'} is a file, not a directory",
        "compare-waterfalls: --vaults: must be an integer between 1 and 100000, got 0",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_mutate__clicks_refusals_beside_the_list_and_its_entries__every_mistake_named(tmp_path):
    """Issue 47's newcomer (mu-three, mu-list-badentry, mu-list-twoerr): `--only nope --examples
    0 --unit x` named click's two refusals, not the unknown id; a list entry without an id and
    with an unknown key named the id only; a duplicate id hid the next mistake. Each is a line
    now, exit 2, nothing run or written."""
    result = CliRunner().invoke(
        _cli("mutate"), ["--only", "nope", "--examples", "0", "--unit", "x"]
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        "mutate: Invalid value for '--examples': 0 is not in the range 1<=x<=10000.",
        "mutate: Invalid value for '--unit': 'x' is not one of 'survivors', 'always', 'never'.",
        "mutate: --only nope: no such mutant id in offchain/testing/mutants.toml",
    ]
    entry = (
        'description = "x"\ntests = []\n[[mutant.edit]]\nfile = "{file}"\nfind = "a"\n'
        'replace = "b"\n'
    )
    listed = tmp_path / "m.toml"
    listed.write_text(
        '[[mutant]]\ncolour = "red"\n' + entry.format(file="contracts/A.vy")
        + '[[mutant]]\nid = "d"\n' + entry.format(file="offchain/model/a.py")
        + '[[mutant]]\nid = "d"\n' + entry.format(file="contracts/Nope.vy")
    )  # fmt: skip
    out = tmp_path / "out.json"
    result = CliRunner().invoke(_cli("mutate"), ["--list", str(listed), "--out", str(out)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert _lines(result.output) == [
        "mutate: m.toml: mutant 1: unknown key colour (has id, description, edit, tests, offchain)",
        "mutate: m.toml: mutant 1: missing or malformed field 'id'",
        "mutate: m.toml: mutant 2 (d): must edit a contract and its model twin",
        "mutate: m.toml: mutant 3: duplicate id 'd'",
        "mutate: m.toml: mutant 3 (d): must edit a contract and its model twin",
        "mutate: mutant d: offchain/model/a.py: No such file or directory",
        "mutate: mutant d: contracts/Nope.vy: No such file or directory",
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("simulate", ["--vaults", "10", "--backend", "model", "--vaults", "20"]),
        ("compare-waterfalls", ["--vaults", "10", "--vaults", "20"]),
        ("sweep", ["--seeds", "2", "--seeds", "3"]),
        ("market", ["--vaults", "10", "--vaults", "20"]),
        ("fuzz", ["--steps", "10", "--steps", "20"]),
        ("mutate", ["--unit", "always", "--unit", "never"]),
        ("gas", ["--snapshot", "a.json", "--snapshot", "b.json"]),
        ("devnet", ["--port", "8601", "--port", "8602"]),
        ("history", ["--out", "a", "--out", "b"]),
        ("keeper", ["--role", "liquidator", "--role", "taker"]),
        ("reconcile", ["--every", "5", "--every", "6"]),
    ],
)
def test_an_option_given_twice__refused_not_the_last_taken(script, args):
    """A newcomer's sim-vaults-twice: `simulate --vaults 10 --vaults 20` ran 20 vaults in
    silence (click takes the last value). An option of one value given twice is a line of its
    own now, beside the command's other mistakes, exit 2, nothing run."""
    result = CliRunner().invoke(_cli(script), args)
    lines = _lines(result.output)
    assert result.exit_code == 2, (result.output, result.exception)
    assert f"{script}: {args[0]} given 2 times: give it once" in lines, lines
