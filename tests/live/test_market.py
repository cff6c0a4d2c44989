"""`ape run market` on the user's path: a second run on the same devnet (issue 34: it sent ~16
blocks, then a traceback `Revert: engine: not safe`, because the first run had left the oracle at
the crash's price and the second opened its vaults at the configured one)."""

from __future__ import annotations

import subprocess

from live_support import ROOT

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
