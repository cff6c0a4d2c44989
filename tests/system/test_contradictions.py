"""Contradictions that were accepted in silence, each refused now with one line, exit status 2,
nothing written: a duplicate YAML key (the last won), `--waterfall ""` and `--orders ""` (the
defaults ran), `--node` with `--backend model` (ignored), `opt_in_share` on a type whose margin
call is off (the report said the owners opted in, and no soft liquidation could happen),
`reconcile --max-lines -1`, two `bench --*-only` options (one ran and rewrote the tracked
results)."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = (ROOT / "tests" / "sim" / "data" / "thin-liquidity-2020.toml").read_text()


def _cli(script: str):
    return script_cli(script, "contradictions")


def _never(*args, **kwargs):
    raise AssertionError("the run started")


def _scenario(tmp_path: Path, text: str, name: str = "s.toml") -> str:
    text = text.replace('"data/', f'"{ROOT}/data/').replace('"config/', f'"{ROOT}/config/')
    (tmp_path / name).write_text(text)
    return str(tmp_path / name)


YAML_TWICE = """scenario:
  name: twice
  seed: 1
  seed: 2
"""


@pytest.mark.parametrize(
    "script, args, phrase",
    [
        (
            "simulate",
            lambda p: ["--scenario", _scenario(p, YAML_TWICE, "s.yaml")],
            "key 'seed' is given twice (lines 3 and 4)",
        ),
        ("simulate", lambda p: ["--waterfall", ""], "--waterfall '': no layer"),
        ("simulate", lambda p: ["--waterfall", " , "], "no layer"),
        (
            "simulate",
            lambda p: ["--backend", "model", "--node", "hardhat"],
            "--node hardhat is the node of --backend both",
        ),
        (
            "simulate",
            lambda p: [
                "--scenario",
                _scenario(
                    p,
                    SCENARIO.replace("count = 50", 'count = 50\nopt_in_share = "0.5"')
                    + '\n[protocol.collateral_overrides]\nmargin_call = "off"\n',
                ),
            ],
            "vaults.opt_in_share: is 0.5, but ETH-A's margin call is off",
        ),
        ("compare-waterfalls", lambda p: ["--orders", ""], "--orders: an empty order"),
        # said "'' is a directory" (Path("") is the current directory)
        ("simulate", lambda p: ["--scenario", ""], "--scenario '' is empty: give a scenario"),
        ("compare-waterfalls", lambda p: ["--scenario", " "], "--scenario ' ' is empty"),
    ],
)
def test_contradiction__one_line_exit_2_nothing_run(tmp_path, script, args, phrase):
    cli = _cli(script)
    cli.callback.__globals__["replay"] = _never
    out = tmp_path / "report"
    extra = ["--quiet"] if script == "simulate" else []
    result = CliRunner().invoke(cli, [*args(tmp_path), "--out", str(out), *extra])
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(lines) == 1 and phrase in lines[0], lines
    assert lines[0].startswith(f"{script}: ")
    assert not out.exists()


@pytest.mark.parametrize("script", ["keeper", "reconcile", "market"])
@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_deployment__refused_before_any_node(script, value):
    """Issue 65: `reconcile --deployment ''` was named ". is a directory" (Path("") is the
    current directory) and `keeper --deployment ''` taken as not given (the node's default
    record would be read). One check of the option serves the three commands now."""
    args = ["--role", "liquidator", "--account", "dev:2", "--check"] if script == "keeper" else []
    result = CliRunner().invoke(_cli(script), [*args, "--deployment", value])
    assert result.exit_code == 2, (result.output, result.exception)
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert lines == [
        f"{script}: --deployment {value!r} is empty: give a deployment record (.json)"
    ], lines


def test_reconcile_max_lines_negative__one_line_exit_2():
    from offchain.live.reconcile import cli

    result = CliRunner().invoke(cli, ["--max-lines", "-1"])
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and "--max-lines" in lines[0] and "-1" in lines[0], lines


def test_bench_two_only_options__one_line_exit_2_results_untouched():
    tracked = [ROOT / "bench" / "results.json", ROOT / "bench" / "results.md"]
    before = [p.stat().st_mtime_ns for p in tracked]
    run = subprocess.run(
        ["ape", "run", "bench", "--gas-only", "--sim-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    errors = [x for x in run.stderr.splitlines() if x.startswith("bench: ")]
    assert errors == ["bench: --gas-only and --sim-only: give one -only option at most"], run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert [p.stat().st_mtime_ns for p in tracked] == before


@pytest.mark.parametrize(
    "args, error",
    [
        (["--scenario", "may-2021"], "bench: --scenario: only with --scale-only"),
        (["--scale-only", "--scenario", "nope"], "bench: Invalid value for '--scenario': 'nope'"),
    ],
)
def test_bench_scenario__only_a_built_in_with_scale_only__one_line_exit_2(args, error):
    tracked = [ROOT / "bench" / "results.json", ROOT / "bench" / "results.md"]
    before = [p.stat().st_mtime_ns for p in tracked]
    run = subprocess.run(
        ["ape", "run", "bench", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 2, run.stdout + run.stderr
    errors = [x for x in run.stderr.splitlines() if x.startswith("bench: ")]
    assert len(errors) == 1 and errors[0].startswith(error), run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert [p.stat().st_mtime_ns for p in tracked] == before


def test_compare_waterfalls_orders__its_own_default_directory(tmp_path, monkeypatch):
    """`--orders` wrote to the plain command's default directory, replacing its comparison."""
    monkeypatch.chdir(tmp_path)
    cli = _cli("compare-waterfalls")
    seen = []

    def stop(out_dir, command):
        seen.append(str(out_dir))
        raise SystemExit(0)

    cli.callback.__globals__["check_out_dir"] = stop
    for args in ([], ["--orders", "fund,stability_pool"], ["--orders", "fund"]):
        CliRunner().invoke(cli, ["--vaults", "20", *args])
    assert len(set(seen)) == 3, seen
    assert seen[1].endswith("-fund-stability_pool-waterfalls"), seen


@pytest.mark.parametrize(
    "command, args, phrase",
    [
        # a half-built Dask client printed "Exception ignored in Client.__del__" at exit
        ("sweep", ["--scheduler", "not a url"], "sweep: --scheduler not a url: "),
        # a ValueError traceback
        ("reconcile", ["--rpc", "not a url"], "reconcile: --rpc 'not a url' is not an http(s)"),
        # click's "Choose from:" over six lines
        ("keeper", [], "keeper: Missing option '--role'. Choose from: liquidator, taker,"),
    ],
)
def test_newcomers_bad_input__one_line_exit_2(tmp_path, command, args, phrase):
    if command == "sweep":
        cli = _cli("sweep")
        cli.callback.__globals__["Store"] = _never
        args = [*args, "--vaults", "20", "--seeds", "1", "--out", str(tmp_path / "s")]
    elif command == "reconcile":
        from offchain.live.reconcile import cli
    else:
        from offchain.live.cli import cli
    result = CliRunner().invoke(cli, args)
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(lines) == 1 and lines[0].startswith(phrase), lines
    assert not list(tmp_path.iterdir())


def test_devnet_state_in_a_directory_that_does_not_exist__refused_nothing_created(tmp_path):
    """`ape run devnet --state /no/such/dir/s.json` created the directories, then started."""
    cli = _cli("devnet")
    for name in ("DevnetNode", "HardhatDevnetNode", "ensure_deployment"):
        cli.callback.__globals__[name] = _never
    missing = tmp_path / "no" / "dir"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    for node in ("anvil", "hardhat"):
        result = CliRunner().invoke(
            cli, ["--node", node, "--state", str(missing / "s.json"), "--port", port]
        )
        lines = [x for x in result.output.splitlines() if x.strip()]
        assert result.exit_code == 2, (result.output, result.exception)
        assert lines == [
            f"devnet: --state {missing / 's.json'}: the directory {missing} does not exist"
        ]
    assert not (tmp_path / "no").exists()
