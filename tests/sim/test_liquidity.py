"""The collateral pool's depth read per bar from a reserves file (offchain/sim/market/liquidity.py),
not from its first row alone: governance's LP shares follow the file's liquidity, on the model and
on a chain (reconciled)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from offchain.model.fixed_point import WAD
from offchain.sim.market.liquidity import RESOLUTION, add_inventory, peak_ratio, target_shares
from offchain.sim.run.driver import simulate
from offchain.sim.run.replay import replay
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.market_data import Series

ROOT = Path(__file__).resolve().parents[2]
MARKET = ROOT / "data" / "market"


def _series(dai: list[int], weth: list[int]) -> Series:
    times = tuple(1_000 + 600 * i for i in range(len(dai)))
    return Series("r.csv", times, {"dai_reserve": tuple(dai), "weth_reserve": tuple(weth)})


def test_target_shares__the_start_times_the_liquidity_ratio__rounded_down():
    r = _series([100 * WAD, 50 * WAD, 400 * WAD], [10 * WAD, 5 * WAD, 10 * WAD])
    assert target_shares(10**21, r, 1_000) == 10**21
    assert target_shares(10**21, r, 1_600) == 10**21 // 2  # both sides halved: k / 4, half
    assert target_shares(10**21, r, 2_200) == 2 * 10**21  # sqrt(4)
    assert target_shares(10**21, r, 10**9) == 2 * 10**21  # after the file: its last row
    assert target_shares(7, _series([2 * WAD, 3 * WAD], [WAD, WAD]), 1_600) == math.isqrt(
        49 * 3 // 2
    )
    assert peak_ratio(r) == 2 and add_inventory(1_000 * WAD, r) == 2_000 * WAD
    assert add_inventory(1_000 * WAD, _series([WAD, WAD // 2], [WAD, WAD])) == 0  # never above


def _scenario(tmp_path: Path, factor: dict[int, float]) -> str:
    """may-2021's prices and gas, its reserves with both sides x factor from a row on."""
    rows = (MARKET / "uniswap_eth_dai_reserves_2021-05-19.csv").read_text().splitlines()
    out, f = [rows[0]], 1.0
    for i, row in enumerate(rows[1:]):
        f = factor.get(i, f)
        t, dai, weth = row.split(",")
        out.append(f"{t},{float(dai) * f:.4f},{float(weth) * f:.6f}")
    (tmp_path / "reserves.csv").write_text("\n".join(out) + "\n")
    (tmp_path / "s.toml").write_text(
        f"""[market]
prices = "{MARKET / "eth_usd_2021-05-19.csv"}"
gas = "{MARKET / "gas_2021-05-19.csv"}"
reserves = "reserves.csv"
reserves_scale = "0.04"

[vaults]
count = 30
"""
    )
    return str(tmp_path / "s.toml")


def _pool_events(result) -> pd.DataFrame:
    e = result.tables["events"]
    e = e[e["event"].isin(["LiquidityAdded", "LiquidityRemoved"]) & (e["bar"] >= 0)]
    return e.assign(shares=[int(json.loads(a)["shares"]) for a in e["args"]])


def test_run__the_pool_follows_the_file__halved_then_restored(tmp_path):
    """Both reserves x 0.5 from row 20 (the liquidity halves), x 1 again from row 60: governance
    removes half its shares at bar 20 and adds them back at bar 60 from what it took out; after
    every change its shares are the file's target (exactly after a removal, within one part in
    RESOLUTION after an add, whose shares round down)."""
    scenario = load_scenario(_scenario(tmp_path, {20: 0.5, 60: 1.0}))
    reserves = scenario.market.reserves
    assert reserves is not None
    result = simulate(scenario, "model", full_check_every=None)
    events = _pool_events(result)
    seed_args = result.tables["events"].query("event == 'LiquidityAdded' and bar < 0")["args"]
    seeded = int(json.loads(seed_args.iloc[0])["shares"])
    shares = seeded
    bars = dict(zip(result.tables["bars"]["bar"], result.tables["bars"]["time"]))
    for row in events.to_dict("records"):
        moved = int(row["shares"])
        shares += moved if row["event"] == "LiquidityAdded" else -moved
        target = target_shares(seeded, reserves, int(bars[row["bar"]]))
        if row["event"] == "LiquidityRemoved":
            assert shares == target
        else:
            assert target - shares <= shares // RESOLUTION + 1
    by_bar = {(r.bar, r.event): r.shares for r in events.itertuples()}
    assert by_bar[(20, "LiquidityRemoved")] == pytest.approx(seeded / 2, rel=0.03)
    assert by_bar[(60, "LiquidityAdded")] == pytest.approx(seeded / 2, rel=0.03)
    # each add brings its collateral (a mint) first: the liquidity keeper's transactions
    txs = result.tables["txs"]
    ours = txs[(txs["bar"] >= 0) & (txs["actor"] == "liquidity")]
    assert (ours["status"] == "ok").all()
    assert len(ours) == len(events) + (events["event"] == "LiquidityAdded").sum()


def test_run_with_a_reserves_file__chain_and_model_agree(tmp_path):
    scenario = load_scenario(_scenario(tmp_path, {20: 0.5, 60: 1.0}))
    done = replay(scenario, full_check_every=30)
    chain, reconciliation = done.checked
    assert reconciliation.ok, reconciliation.diffs[:5]
    assert len(_pool_events(chain)) >= 2
