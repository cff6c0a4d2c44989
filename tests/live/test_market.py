"""`ape run market` on the user's path: a second run on the same devnet (issue 34: it sent ~16
blocks, then a traceback `Revert: engine: not safe`, because the first run had left the oracle at
the crash's price and the second opened its vaults at the configured one)."""

from __future__ import annotations

import subprocess

import pytest
from live_support import ROOT

from offchain.model.fixed_point import RAY

# a 50% crash in three 10-minute bars
CRASH = (
    "time_utc,close\n2020-03-12T00:00:00Z,100\n2020-03-12T00:10:00Z,70\n2020-03-12T00:20:00Z,50\n"
)


def _market(devnet, prices, vaults: int) -> subprocess.CompletedProcess:
    ape = [str(ROOT / ".venv" / "bin" / "ape")]
    return subprocess.run(
        [*ape, "run", "market", "--scenario", str(prices), "--vaults", str(vaults)]
        + ["--speed", "1000000", "--rpc", devnet.node.url, "--deployment", str(devnet.record_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_market__run_twice_on_one_devnet__the_second_starts_from_the_configured_price(
    devnet, tmp_path
):
    prices = tmp_path / "crash.csv"
    prices.write_text(CRASH)
    first = _market(devnet, prices, 3)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "market: 3 vaults opened (0 already open)" in first.stdout
    # the oracle is left at the crash's price: half the configured one
    crashed = devnet.chain.view(devnet.eth.oracle, "current_price")
    assert crashed == devnet.eth.config.initial_price // 2
    second = _market(devnet, prices, 5)  # two more vaults, opened at the configured price
    assert second.returncode == 0, second.stderr[-2000:]
    assert "Traceback" not in second.stderr
    assert "market: 2 vaults opened (3 already open)" in second.stdout
    assert devnet.chain.view(devnet.eth.oracle, "current_price") == crashed


def test_market__ends_with_the_runs_outcome__unsafe_vaults_as_the_chain_has_them(devnet, tmp_path):
    """Issue 34: a market run ends with its outcome table (as `simulate` prints); with no bots
    running nothing is liquidated, and the vaults the crash left unsafe are counted, as the
    chain's own state has them (collateral x price below debt x liquidation ratio)."""
    prices = tmp_path / "crash.csv"
    prices.write_text(CRASH)
    run = _market(devnet, prices, 4)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    head = next(k for k, line in enumerate(lines) if line.startswith("outcome of this run"))
    table = "\n".join(lines[head:])
    eth, d, chain = devnet.eth, devnet.d, devnet.chain
    assert f"{eth.config.name}: INSOLVENCY " in table, table
    assert "in the window: 0 liquidations" in table, table
    rate = chain.view(d.engine, "collateral_types", eth.type_id)[1]
    ratio = chain.view(d.spotter, "liquidation_ratios", eth.type_id)
    price = eth.config.initial_price // 2  # the last bar's
    owners = {
        e.args["owner"]
        for e in devnet.logs(d.engine, "VaultModified")
        if e.args["collateral_type"] == eth.type_id
    }  # the population's and the deployment's own (the pool's seed vault)
    unsafe = 0
    for owner in owners:
        collateral, art = chain.view(d.engine, "vaults", eth.type_id, owner)[:2]
        unsafe += collateral * price * 10**9 * RAY < art * rate * ratio
    assert unsafe >= 4  # the crash matters
    assert f"{unsafe:,} unsafe vaults not liquidated" in table, table
    # marked at the market's last price as the chain has it: the last bar's, posted
    mark = f"from the market's last price (the feeder's last post) {price / 10**18:,.2f}"
    assert mark in table, table
    assert f"{eth.config.name}: INSOLVENCY " in lines[head + 1], table  # the headline first


BINARY = b"\x89PNG\r\n\x1a\n\x00\xff\xfe"


@pytest.mark.parametrize(
    "case, phrase",
    [
        # a ValueError traceback (issue 34)
        ("rpc notaurl", "--rpc 'notaurl' is not an http(s) JSON-RPC URL"),
        ("rpc port out of range", "--rpc 'http://127.0.0.1:99999' is not an http(s) JSON-RPC"),
        # a ValueError traceback in time.sleep, after the vaults had been opened
        ("speed nan", "Invalid value for '--speed': 'nan' is not a finite number"),
        # the bars played without a pause
        ("speed inf", "Invalid value for '--speed': 'inf' is not a finite number"),
        ("speed 1e400", "Invalid value for '--speed': '1e400' is not a finite number"),
        ("speed 0", "Invalid value for '--speed': 0.0 is not in the range x>0"),
        ("vaults 1e400", "Invalid value for '--vaults': '1e400' is not a valid integer"),
        # an IsADirectoryError traceback
        ("deployment directory", "is a directory, not a deployment record (.json)"),
        ("deployment binary", "binary.json: not a deployment record (not JSON;"),
        ("scenario directory", "is a directory, not a scenario file"),
        ("scenario binary", "binary.toml: not a text TOML file"),
        # the pace's bots (issue 65)
        ("checkpoints missing", "--checkpoints nowhere/taker.json: no such file or directory"),
        ("pace fast", "Invalid value for '--pace': 'fast' is not one of 'bots', 'clock'"),
        ("bot-timeout nan", "Invalid value for '--bot-timeout': 'nan' is not a finite number"),
    ],
)
def test_market__bad_input__one_line_exit_2_nothing_sent(devnet, tmp_path, case, phrase):
    """Bad input: one line, exit status 2, no traceback, and the chain as it was (the market
    opens vaults and moves the oracle: a check after that would leave them changed)."""
    option, _, value = case.partition(" ")
    args = {"--rpc": devnet.node.url, "--deployment": str(devnet.record_file)}
    args |= {"--speed": "1000000", "--vaults": "3", "--scenario": "black-thursday-2020"}
    if value == "directory":
        value = str(tmp_path)
    elif value == "binary":
        path = tmp_path / ("binary.json" if option == "deployment" else "binary.toml")
        path.write_bytes(BINARY)
        value = str(path)
    elif value == "port out of range":
        value = "http://127.0.0.1:99999"
    elif value == "missing":
        value = "nowhere/taker.json"
    args[f"--{option}"] = value
    before = devnet.block()
    ape = str(ROOT / ".venv" / "bin" / "ape")
    run = subprocess.run(
        [ape, "run", "market", *[x for kv in args.items() for x in kv]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("market: ") and phrase in lines[0], lines
    assert "Traceback" not in run.stdout + run.stderr and run.stdout == ""
    assert devnet.block() == before
