"""`ape run sweep` end to end (scripts/_sweep.py over offchain/sweep): real model runs on a process
pool, a Dask LocalCluster and a Dask scheduler with two workers started here, the same bytes from
each; a sweep killed mid-way resumes where it stopped; a failing run is recorded and the sweep
goes on; sampled runs re-run on a private Anvil reconcile with 0 differences and give the sweep's
own figures (and a tampered figure is caught); every kind of bad input is one line, exit 2,
nothing written.

Money flow checked here: each run's bad debt is the sum of its auctions' losses, and the layers'
payments plus what stays uncovered add up to it; a run of the sweep gives the figures a single
`simulate` of the same scenario and seed gives."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.report.tables import LAYERS
from offchain.sim.run.driver import simulate
from offchain.sim.scenario.load import load_scenario, with_phase
from offchain.sim.scenario.timeline import period_phases
from offchain.sweep.runs import TYPE_METRICS, measure

ROOT = Path(__file__).resolve().parents[2]
THIN = str(ROOT / "tests" / "sim" / "data" / "thin-liquidity-2020.toml")
BIN = Path(sys.executable).parent
# 2 x 2 cells x 6 seeds of a thin-liquidity crash with 30 vaults: auctions sell out below their
# debt, so there is bad debt for the layers to pay, in ~1 s of model runs
SWEEP = [
    "--scenario",
    THIN,
    "--vaults",
    "30",
    "--seeds",
    "6",
    "--grid",
    "insurance_fund=0,3000",
    "--grid",
    "waterfall=fund+stability_pool,redistribution",
    "--quiet",
]


def _sweep_with(extra: list[str]) -> list[str]:
    """SWEEP with `extra`'s options in place of its own (an option of one value is given once:
    twice is refused); `--quiet` stays last."""
    given = {x for x in extra if x.startswith("--")} - {"--grid", "--scenario"}
    out: list[str] = []
    skip = False
    for x in SWEEP[:-1]:  # (the last is --quiet)
        if skip:
            skip = False
        elif x in given:
            skip = True
        else:
            out.append(x)
    return [*out, *extra, "--quiet"]


# what the same sweep must reproduce byte for byte (runs/ and runtimes.parquet hold wall clock)
DETERMINISTIC = (
    "results.parquet",
    "results.csv",
    "cells.parquet",
    "cells.csv",
    "summary.md",
    "summary.html",
    "verification.json",
)


def _cli():
    return script_cli("sweep")


def _sweep(*args: str):
    return CliRunner().invoke(_cli(), list(args), catch_exceptions=False)


def _files(root: Path) -> dict[str, bytes]:
    out = {name: (root / name).read_bytes() for name in DETERMINISTIC}
    out |= {f"plots/{p.name}": p.read_bytes() for p in sorted((root / "plots").iterdir())}
    return out


@pytest.fixture(scope="module")
def pool_sweep(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sweeps") / "pool"
    result = _sweep(*SWEEP, "--workers", "2", "--verify", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "24 runs (0 failed); 24 run now" in result.output
    return out


# --- what a sweep writes --------------------------------------------------------------------------


def test_sweep__one_row_per_run__bad_debt_paid_by_the_layers(pool_sweep):
    results = pd.read_parquet(pool_sweep / "results.parquet")
    assert list(results["run"]) == list(range(24)) and (results["status"] == "ok").all()
    assert list(results["cell"]) == [c for c in range(4) for _ in range(6)]
    assert list(results["seed"][:6]) == list(range(20200312, 20200318))
    assert set(results["grid.insurance_fund"]) == {"0", "3000"}
    assert set(results["grid.waterfall"]) == {"fund+stability_pool", "redistribution"}
    assert "runtime_s" not in results.columns  # wall clock lives in runtimes.parquet
    realized = results["realized_bad_debt"]
    assert (realized > 0).sum() >= 12
    paid = results[[f"paid_{layer}" for layer in LAYERS]].sum(axis=1) + results["uncovered"]
    assert ((paid - realized).abs() <= 1e-6 * realized.clip(lower=1)).all()
    # the end-of-run mark adds the shortfall of what each run left open, sold into the market in
    # the keepers' order; at the last price beside it, never above it
    marked = results["open_auction_marked_shortfall"] + results["unsafe_vault_marked_shortfall"]
    excess = (results["insolvency_mark"] - realized - marked).abs()
    assert (excess <= 1e-6 * realized.clip(lower=1)).all()
    shortfall = results["open_auction_shortfall"] + results["unsafe_vault_shortfall"]
    excess = (results["insolvency_last_price"] - realized - shortfall).abs()
    assert (excess <= 1e-6 * realized.clip(lower=1)).all()
    assert (results["insolvency_mark"] >= results["insolvency_last_price"] - 1e-6).all()
    # the headline runs the open book out (sim/run/drain.py): it is the mark where nothing was
    # open at the end, and at least the realized bad debt at the end (a loss once realized stays)
    nothing_open = (results["auctions_running_at_end"] == 0) & (results["unsafe_vaults_left"] == 0)
    assert nothing_open.any()
    assert (
        results.loc[nothing_open, "insolvency"] == results.loc[nothing_open, "insolvency_mark"]
    ).all()
    assert (results["insolvency"] >= realized - 1e-6 * realized.clip(lower=1)).all()
    # the stablecoin holders' loss (runs.holders_loss): what no layer paid, what settlement put
    # on them and the marked shortfall of what is open; so the end-of-run mark less what the
    # other layers absorbed
    holders = (
        results["uncovered"]
        + results["paid_settlement"]
        + results["open_auction_marked_shortfall"]
        + results["unsafe_vault_marked_shortfall"]
    )
    assert ((results["holders_loss"] - holders).abs() <= 1e-6).all()
    absorbed = results[[f"paid_{x}" for x in LAYERS if x != "settlement"]].sum(axis=1)
    excess = (results["holders_loss"] - (results["insolvency_mark"] - absorbed)).abs()
    assert (excess <= 1e-6 * realized.clip(lower=1)).all()
    # the uncovered parts add up to it
    parts = results[
        ["uncovered_no_cover_landed", "uncovered_parked", "uncovered_layers_exhausted"]
    ].sum(axis=1)
    assert ((parts - results["uncovered"]).abs() <= 1e-6).all()
    # the keepers' columns: what each role mined is at most what it planned; the liquidation
    # keeper and the taker acted in every run with bad debt
    for role in ("liquidation", "taker", "backstop", "soft_liquidation"):
        planned, mined = results[f"planned_{role}"], results[f"mined_{role}"]
        failed = results[[f"{w}_{role}" for w in ("dropped", "deferred", "reverted")]].sum(axis=1)
        assert (mined + failed <= planned).all() and (mined <= planned).all()
    assert (results.loc[realized > 0, "mined_liquidation"] > 0).all()
    # this scenario's takers bid a fixed 100 gwei, outbid while the day's gas spikes: the
    # sweep's columns show their drops, and the runs where they landed under half name them
    assert (results["dropped_taker"] > 0).all()
    assert (results["mined_taker"] + results["dropped_taker"] == results["planned_taker"]).all()
    share = results["mined_taker"] / results["planned_taker"]
    named = results["keepers_failed"].str.split(",").map(lambda roles: "taker" in roles)
    assert (named == (share < 0.5)).all()
    # redistribution alone: vaults pay; the fund and pool order: they pay, no vault does
    redistribution = results[results["grid.waterfall"] == "redistribution"]
    assert (redistribution["paid_fund"] == 0).all()
    assert (redistribution["paid_redistribution"] > 0).any()
    assert (
        results.loc[results["grid.waterfall"] != "redistribution", "paid_redistribution"] == 0
    ).all()
    runtimes = pd.read_parquet(pool_sweep / "runtimes.parquet")
    assert list(runtimes["run"]) == list(range(24)) and (runtimes["runtime_s"] > 0).all()
    assert runtimes["worker"].nunique() == 2  # two processes shared the runs


def test_sweep__a_run__gives_the_figures_of_a_single_simulation(pool_sweep):
    """Run 9 (cell 1: insurance_fund=0, waterfall=redistribution; the scenario's seed + 3),
    loaded through the public loader and run by the driver as `ape run simulate --backend
    model` would: the same figures."""
    results = pd.read_parquet(pool_sweep / "results.parquet")
    row = results.iloc[9]
    assert (row["cell"], row["seed"]) == (1, 20200315)
    scenario = load_scenario(
        THIN,
        vaults=30,
        seed=20200315,
        overrides={
            "backstop": {"insurance_fund": "0"},
            "protocol": {"waterfall": ["redistribution"]},
        },
    )
    # the oracle's phase its seed drew (sim/scenario/timeline.py): `--oracle-phase` of ape run
    # simulate
    phase = period_phases(scenario)[20200315 % len(period_phases(scenario))]
    assert row["oracle_phase"] == phase
    scenario = with_phase(scenario, phase, "test")
    figures = measure(simulate(scenario, "model", full_check_every=None), scenario)
    for name, value in figures.items():
        stored = row[name]
        assert (pd.isna(stored) and value is None) or stored == value, name


def test_sweep__report__cells_heatmap_histograms_who_paid_and_the_chain_check(pool_sweep):
    summary = (pool_sweep / "summary.md").read_text()
    for heading in (
        "## Sweep",
        "## Checked on chain",
        "## Recommendation",
        "## Insolvency per cell",
        "## What a backstop is sized by, per cell",
        "### Unpaid bad debt",
        "### Stablecoin holders' loss",
        "### Paid by fund",
        "## Liquidations and borrowers",
        "## Who paid",
        "## Plots",
    ):
        assert heading in summary, heading
    assert "1 of 1 reconcile with 0 differences and give the sweep's figures" in summary
    assert "equal to the chain run's" in summary
    assert "insurance_fund=0, waterfall=redistribution" in summary
    plots = sorted(p.name for p in (pool_sweep / "plots").iterdir())
    assert plots == [
        "heatmap_0.png",
        "histograms_0_0.png",
        "who_paid_0.png",
    ]
    for name in plots:
        assert (pool_sweep / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cells = pd.read_parquet(pool_sweep / "cells.parquet")
    assert len(cells) == 4 and (cells["runs"] == 6).all()
    assert (cells["var95"] >= cells["mean"]).all() and (cells["cvar95"] >= cells["var95"]).all()
    assert (cells["var95_lo"] <= cells["var95"]).all()
    # 6 runs a cell: VaR95 is the worst run, and no upper bound below 72 runs (stats.py)
    assert cells["var95_hi"].isna().all() and cells["var95_worst_run"].all()
    assert "VaR95 is the worst run of the cell: too few runs for it" in summary
    assert "unbounded" in summary and "runs per cell" in summary
    html = (pool_sweep / "summary.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "heatmap_0.png" in html


def test_sweep__each_cell_leads_with_its_distribution_over_the_oracles_phases(pool_sweep):
    """A cell's lead figure is over the oracle's phases, as a replay's headline is (issue 73):
    its 6 seeds draw the 6 phases once each; per phase the mean insolvency of its runs, their
    median first in the cell's row, the worst phase's beside it; cells.* have them."""
    results = pd.read_parquet(pool_sweep / "results.parquet")
    cells = pd.read_parquet(pool_sweep / "cells.parquet")
    summary = (pool_sweep / "summary.md").read_text()
    table = summary.split("## Insolvency per cell")[1].split("\n\n")[1].splitlines()
    assert table[0].startswith(
        "| cell | runs | oracle phases | over the phases: the median phase's mean (the worst "
        "phase's) | mean | VaR95 |"
    )
    for c in range(4):
        runs = results[results["cell"] == c]
        means = runs.groupby("oracle_phase")["insolvency"].mean()
        assert sorted(means.index) == [0, 600, 1200, 1800, 2400, 3000]
        median, worst = float(means.median()), float(means.max())
        row = cells[cells["cell"] == c].iloc[0]
        assert row["phases"] == 6
        assert row["phase_median"] == pytest.approx(median, rel=1e-12)
        assert row["phase_worst"] == pytest.approx(worst, rel=1e-12)
        label = (
            f"| insurance_fund={row['grid.insurance_fund']}, waterfall={row['grid.waterfall']} |"
        )
        (line,) = [x for x in table if x.startswith(label)]
        cells_of = line.strip("| ").split(" | ")
        assert cells_of[2] == "6 of 6"
        assert cells_of[3].startswith(f"{median:,.2f}; worst {worst:,.2f} (")


def test_sweep__a_cell_of_one_phase__says_so(tmp_path):
    """One seed a cell: its runs are one phase, and the cell's row and the recommendation say
    so instead of pretending a distribution."""
    out = tmp_path / "out"
    result = _sweep(
        "--scenario", THIN, "--vaults", "30", "--seeds", "1", "--verify", "0", "--quiet",
        "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    phase = int(pd.read_parquet(out / "results.parquet")["oracle_phase"].iloc[0])
    summary = (out / "summary.md").read_text()
    assert f"| 1 of 6: {phase:,} s | " in summary
    assert f"(one phase, {phase:,} s: not a distribution over the phases)" in summary
    assert f"its runs cover only 1 of the oracle's 6 phases ({phase:,} s; one phase is" in summary


def test_sweep__recommendation__respects_the_borrower_cost(pool_sweep, tmp_path):
    cells = pd.read_parquet(pool_sweep / "cells.parquet")
    out = tmp_path / "again"
    shutil.copytree(pool_sweep, out)
    cheapest = float(cells["borrower_cost_rate_mean"].min())
    result = _sweep(
        *SWEEP, "--verify", "1", "--out", str(out), "--max-borrower-cost", str(cheapest)
    )
    assert result.exit_code == 0, result.output
    summary = (out / "summary.md").read_text()
    eligible = cells[cells["borrower_cost_rate_mean"] <= cheapest]
    # one cell is the cheapest: alone within the constraint, nothing to separate it from
    assert len(eligible) == 1
    label = (
        f"insurance_fund={eligible['grid.insurance_fund'].iloc[0]}, "
        f"waterfall={eligible['grid.waterfall'].iloc[0]}"
    )
    assert (
        f"lowest insolvency VaR95 with mean borrower cost at most {100 * cheapest:.2f}% of the "
        f"vaults' debt (1 of 4 cells qualify): {label}: VaR95" in summary
    )
    # without the constraint, the lowest VaR95's interval overlaps the others' (6 runs a cell:
    # unbounded above): no cell is recommended, and the runs that would be needed are said
    lowest = cells.sort_values(["var95", "mean", "borrower_cost_rate_mean", "cell"]).iloc[0]
    line = next(
        line
        for line in (pool_sweep / "summary.md").read_text().splitlines()
        if "no difference at this sample size" in line
    )
    assert (
        f"(4 of 4 qualify), insurance_fund={lowest['grid.insurance_fund']}, "
        f"waterfall={lowest['grid.waterfall']} has the lowest VaR95" in line
    )
    assert "overlaps that of 3 other cells" in line
    assert "at least 72 seeds per cell (here 6)" in line and "No cell is recommended." in line


# --- determinism, executors, resuming -------------------------------------------------------------


def test_sweep__same_command_again__nothing_to_run_same_bytes(pool_sweep, tmp_path):
    out = tmp_path / "again"
    shutil.copytree(pool_sweep, out)
    before = _files(out)
    result = _sweep(*SWEEP, "--workers", "2", "--verify", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "resuming: 24 of 24 runs already done" in result.output
    assert "0 run now" in result.output
    assert _files(out) == before


def test_sweep__dask_local_cluster__same_bytes_as_the_pool(pool_sweep, tmp_path):
    out = tmp_path / "dask"
    result = _sweep(*SWEEP, "--dask", "--workers", "2", "--verify", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "on Dask LocalCluster (2 workers)" in result.output
    assert _files(out) == _files(pool_sweep)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster(tmp_path) -> Iterator[str]:
    """A `dask scheduler` and two `dask worker`s, as docs/sweeps.md starts them, on this
    machine; all three killed afterwards, whatever happened."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    processes: list[subprocess.Popen] = []
    try:
        processes.append(
            subprocess.Popen(
                [
                    str(BIN / "dask"),
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-dashboard",
                ],
                stdout=subprocess.DEVNULL,
                stderr=(logs / "scheduler.log").open("w"),
                env=env,
                start_new_session=True,
            )
        )
        for i in range(2):
            processes.append(
                subprocess.Popen(
                    [
                        str(BIN / "dask"),
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--no-dashboard",
                        "--name",
                        f"w{i}",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=(logs / f"worker{i}.log").open("w"),
                    env=env,
                    start_new_session=True,
                )
            )
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout=2, set_as_default=False) as client:
                    client.wait_for_workers(2, timeout=30)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for p in processes:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=30)


def test_sweep__scheduler_with_two_workers__same_bytes_as_the_pool(
    pool_sweep, tmp_path, dask_cluster
):
    out = tmp_path / "cluster"
    result = _sweep(*SWEEP, "--scheduler", dask_cluster, "--verify", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"on Dask scheduler {dask_cluster} (2 workers)" in result.output
    assert _files(out) == _files(pool_sweep)
    workers = pd.read_parquet(out / "runtimes.parquet")["worker"]
    assert workers.nunique() == 2


def test_sweep__killed_mid_way__resumes_skipping_finished_runs(tmp_path):
    """A sweep in its own process (ape run sweep), killed with SIGKILL (its pool with it) once
    some runs are written; the same command finishes it, running only the rest, and its
    results are the bytes of a sweep never interrupted."""
    args = [
        "--scenario",
        THIN,
        "--vaults",
        "30",
        "--seeds",
        "120",
        "--grid",
        "insurance_fund=0",
        "--workers",
        "1",
        "--verify",
        "0",
        "--quiet",
    ]
    out = tmp_path / "killed"
    process = subprocess.Popen(
        [str(BIN / "ape"), "run", "sweep", *args, "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while len(list((out / "runs").glob("*.parquet"))) < 10:
            assert process.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finished = len(list((out / "runs").glob("*.parquet")))
    assert 10 <= finished < 120
    assert not (out / "results.parquet").exists()
    result = _sweep(*args, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"resuming: {finished} of 120 runs already done" in result.output
    assert f"120 runs (0 failed); {120 - finished} run now" in result.output
    whole = tmp_path / "whole"
    assert _sweep(*args, "--out", str(whole)).exit_code == 0
    for name in ("results.parquet", "results.csv", "cells.parquet", "summary.md"):
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name
    # no half-written file: the one the kill left was cleared (only the lock file and the
    # output's marker are hidden)
    assert not list(out.glob("runs/.*"))
    assert sorted(p.name for p in out.glob(".*")) == [".backstop-output.json", ".lock"]


def test_sweep__different_hash_seeds__same_bytes(tmp_path):
    """Python's string hashing differs per process; nothing a run computes may depend on it."""
    args = ["ape", "run", "sweep", *SWEEP[:-1], "--workers", "1", "--verify", "0", "--quiet"]
    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"h{hash_seed}"
        done = subprocess.run(
            [str(BIN / "ape"), *args[1:], "--out", str(out)],
            cwd=ROOT,
            env=os.environ | {"PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        outs.append(out)
    for name in ("results.parquet", "cells.parquet", "summary.md"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


# --- failures and the chain check -----------------------------------------------------------------


def test_sweep__failing_runs__recorded_with_their_error_and_the_sweep_goes_on(tmp_path):
    # the actors draw 12.1M; 200 vaults (~2.5M) fit a 14.6M ceiling at some seeds, not others
    out = tmp_path / "failing"
    result = _sweep(
        "--scenario",
        "black-thursday-2020",
        "--vaults",
        "200",
        "--seeds",
        "12",
        "--grid",
        "debt_ceiling=14_600_000",
        "--grid",
        "ceiling_max=20_000_000",
        "--verify",
        "0",
        "--workers",
        "2",
        "--quiet",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    results = pd.read_parquet(out / "results.parquet")
    failed, ok = results[results["status"] == "failed"], results[results["status"] == "ok"]
    assert len(failed) >= 1 and len(ok) >= 1 and len(results) == 12
    assert (
        failed["error"]
        .str.startswith("ScenarioError: black-thursday-2020: vaults: the population's debt")
        .all()
    )
    assert failed["insolvency"].isna().all() and ok["insolvency"].notna().all()
    assert f"12 runs ({len(failed)} failed)" in result.output
    summary = (out / "summary.md").read_text()
    assert "## Failed runs" in summary and f"{len(failed)} runs failed (ScenarioError" in summary
    cells = pd.read_parquet(out / "cells.parquet")
    assert (cells["runs"].iloc[0], cells["failed"].iloc[0]) == (len(ok), len(failed))


def test_sweep__a_tampered_figure__the_chain_check_catches_it(pool_sweep, tmp_path):
    out = tmp_path / "tampered"
    shutil.copytree(pool_sweep, out)
    import json

    run = json.loads((out / "verification.json").read_text())["runs"][0]
    path = out / "runs" / f"{run:07d}.parquet"
    table = pq.read_table(path).to_pandas()
    table.loc[0, "insolvency"] = table.loc[0, "insolvency"] + 1e-6
    import pyarrow as pa

    pq.write_table(pa.Table.from_pandas(table, schema=pq.read_schema(path)), path)
    (out / "verification.json").unlink()
    result = _sweep(*SWEEP, "--verify", "1", "--out", str(out))
    assert result.exit_code == 1, result.output
    assert f"on chain: run {run}" in result.output and "figures differ: insolvency" in result.output
    assert "DIFFER: insolvency" in (out / "summary.md").read_text()


def test_sweep__fund_size__what_stayed_unpaid_falls_with_intervals(tmp_path):
    """Issue 65: insolvency is counted before the waterfall pays, so the insurance fund's size
    cannot show in it; what stayed unpaid does. The thin-liquidity crash (50 vaults, 3 seeds)
    with the fund as the only layer, its size 0, 5,000 and 100,000. Per seed, what the fund paid
    grows with it and what stayed unpaid falls (a cover pays the least of the loss and what the
    fund holds; the fund also holds the surplus the run's fees and penalties brought it, so even
    a fund of 0 pays a little); so do the cells' mean, VaR and ES of it, each with its interval,
    and ranked by it the recommendation names the largest fund. Insolvency is the same to a
    millionth for these seeds, not to the wei: the runs are not quite the same run. A fund that
    cannot pay leaves the loss open and the backstop keeper covers it again every bar (885
    covers with a fund of 0 against 18 with 100,000 for the first seed), and its transactions
    share the blocks (1 s apart, at most 100 transactions each) with the takers', so a take
    lands a second later and pays a second's decay less: 0.0002 stablecoin of 16,429 here. And a
    fund of exactly 0 skips the setup's transfer into the fund, which moves the run's later
    bars: for seeds 20200315, 20200316 and 20200321 the run takes another path (insolvency
    12,408 against 16,788; docs/sweeps.md), and since issue 63's merge for 20200313 too
    (4,991 against 5,611 with a fund of 0; the cause not traced). So monotone is what the runs
    show, not a law: a fund's size can move the other keepers' landing times, and with them the
    auctions' proceeds."""
    out = tmp_path / "fund"
    result = _sweep(
        "--scenario", THIN, "--seeds", "3", "--grid", "insurance_fund=0,5000,100000",
        "--grid", "waterfall=fund", "--verify", "0", "--workers", "2", "--rank-by", "uncovered",
        "--quiet", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    results = pd.read_parquet(out / "results.parquet")
    assert (results["status"] == "ok").all()
    funds = ["0", "5000", "100000"]
    by_seed = results.pivot(index="seed", columns="grid.insurance_fund")
    for seed in by_seed.index:
        row = by_seed.loc[seed]
        # a fund of exactly 0 may take another path (the docstring); the funded runs may not
        insolvency = [row[("insolvency", f)] for f in funds[1:]]
        assert max(insolvency) - min(insolvency) <= 1e-6 * max(insolvency), seed
        unpaid = [row[("uncovered", f)] for f in funds]
        paid = [row[("paid_fund", f)] for f in funds]
        assert unpaid == sorted(unpaid, reverse=True) and paid == sorted(paid), seed
    assert by_seed[("uncovered", "0")].max() > 0  # the fund matters in this crash
    assert (by_seed[("uncovered", "100000")] == 0).all()  # 100,000 pays every loss
    cells = pd.read_parquet(out / "cells.parquet").set_index("grid.insurance_fund").loc[funds]
    for stat in ("mean", "var95", "cvar95", "holders_loss_mean"):
        column = stat if stat.startswith("holders") else f"uncovered_{stat}"
        assert list(cells[column]) == sorted(cells[column], reverse=True), column
    assert cells["uncovered_var95"].iloc[0] > cells["uncovered_var95"].iloc[-1]
    for column in ("uncovered_mean_lo", "uncovered_mean_hi", "uncovered_var95_lo"):
        assert cells[column].notna().all(), column
    # insolvency: the fund cannot show (to a millionth, as above)
    assert cells["var95"].max() - cells["var95"].min() <= 1e-6 * cells["var95"].max()
    summary = (out / "summary.md").read_text()
    assert "lowest unpaid bad debt VaR95" in summary, summary


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra, phrase",
    [
        (["--grid", "colour=red"], "unknown grid name 'colour'"),
        (["--grid", "liquidation_penalty=1.13,3"], "liquidation_penalty: must be >= 1 and <= 2"),
        (
            ["--grid", "liquidation_penalty=1.13,1.13000001"],
            "liquidation_penalty: must be a multiple of 0.0000001, got 1.13000001",
        ),
        (["--grid", "dust="], "dust has no values"),
        (["--grid", "dust=2500", "--grid", "dust=3000"], "dust is given twice"),
        (["--seeds", "0"], "--seeds: must be an integer between 1 and"),
        # click's four-line usage block before (issue 34)
        (["--seeds", "1e400"], "Invalid value for '--seeds': '1e400' is not a valid integer"),
        (["--workers", "two"], "Invalid value for '--workers': 'two' is not a valid integer"),
        (["--colour", "red"], "No such option: --colour"),
        (["--scenario", "."], "--scenario . is a directory, not a scenario file"),
        (["--workers", "0"], "--workers: must be between 1 and"),
        # called unreachable before (issue 47): http:// is a dashboard's, not a scheduler's
        (
            ["--scheduler", "http://127.0.0.1:8786"],
            "--scheduler http://127.0.0.1:8786: http:// is not a Dask scheduler's scheme "
            "(give tcp://HOST:PORT)",
        ),
        (["--verify", "-1"], "--verify: must be 0 or more"),
        (["--max-borrower-cost", "cheap"], "--max-borrower-cost: not a number"),
        (["--rank-by", "unpaid"], "Invalid value for '--rank-by': 'unpaid' is not one of"),
        (["--scenario", "black-friday"], "unknown scenario 'black-friday'"),
        (["--file", "missing.toml"], "missing.toml: cannot read"),
        (["--max-borrower-cost", "nan"], "--max-borrower-cost: must be a number >= 0"),
        (["--max-borrower-cost", "inf"], "--max-borrower-cost: must be a number >= 0"),
        (["--max-borrower-cost", "1e400"], "--max-borrower-cost: must be at most 10"),
        # taken as 150% of the debt while the help said "0.02 or 2%" (issue 65)
        (
            ["--max-borrower-cost", "1.5"],
            "--max-borrower-cost: '1.5' is ambiguous: as a share of the debt it is 150%, as a "
            "percent 1.5%; write 1.5% or 150%",
        ),
        (["--max-borrower-cost", "15"], "it is 1500% (above the 1000% allowed), as a percent"),
        (["--max-borrower-cost", "1"], "'1' is ambiguous: as a share of the debt it is 100%"),
        # two % signs were taken as one (0.5%)
        (["--max-borrower-cost", "0.5%%"], "--max-borrower-cost: not a number: '0.5%%'"),
        # a config key the grid cannot vary was answered "did you mean debt_ceiling?" (issue 65)
        (
            ["--grid", "global_debt_ceiling=1"],
            "--grid: global_debt_ceiling is a key of the deployment config's [system] table, "
            "which a sweep cannot vary",
        ),
        # the [backstop] table was looked for as "waterfall": its keys got the short line
        (
            ["--grid", "surplus_buffer=1"],
            "--grid: surplus_buffer is a key of the deployment config's [backstop] table",
        ),
        (["--grid", "liquidation_rato=1.5"], "(did you mean liquidation_ratio?)"),
        (["--grid", "token_symbol=X"], "--grid: token_symbol names something (a token, a type,"),
        (["--grid", "seed=1,2"], "--grid: seed is not a grid key: --seeds sets the runs"),
        (["--verify", "1e400"], "Invalid value for '--verify': '1e400' is not a valid integer"),
        (["--vaults", "nan"], "Invalid value for '--vaults': 'nan' is not a valid integer"),
    ],
)
def test_sweep_cli__bad_input__one_line_exit_2_nothing_written(tmp_path, extra, phrase):
    out = tmp_path / "out"
    result = CliRunner().invoke(_cli(), [*_sweep_with(extra), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("sweep: ") and phrase in lines[0], lines
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name, content, phrase",
    [
        # ran the 100-run default sweep and exited 0 before (issue 34)
        ("empty.toml", b"", "empty.toml: empty file (a sweep file gives a [grid] table or"),
        ("empty.yaml", b"# nothing yet\n", "empty.yaml: empty file"),
        ("empty-table.toml", b"[sweep]\n", "empty-table.toml: sets nothing"),
        ("binary.toml", b"\x89PNG\r\n\x1a\n\x00\xff", "binary.toml: not a text TOML file"),
        ("folder.toml", None, "folder.toml: a directory, not a file"),
    ],
)
def test_sweep_cli__file_that_sets_nothing_or_is_not_one__one_line_exit_2_nothing_written(
    tmp_path, monkeypatch, name, content, phrase
):
    """`ape run sweep --file F` alone, as the user types it: nothing written where it runs (the
    default --out, reports/<scenario>-sweep, is relative to it)."""
    path = tmp_path / name
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(_cli(), ["--file", name])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("sweep: ") and phrase in lines[0], lines
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_sweep_cli__unreachable_scheduler__one_line_exit_2_nothing_written(tmp_path):
    out = tmp_path / "out"
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = CliRunner().invoke(_cli(), [*SWEEP, "--scheduler", address, "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and f"--scheduler {address}: unreachable" in lines[0], lines
    assert not out.exists()


def test_sweep_cli__dask_with_an_unreachable_scheduler__both_named_in_one_run(tmp_path):
    """A newcomer's tally (issue 47): `--dask --scheduler tcp://<nothing>` named only the
    contradiction; dropping --dask then brought up `unreachable` in the next run."""
    out = tmp_path / "out"
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = CliRunner().invoke(
        _cli(), [*SWEEP, "--dask", "--scheduler", address, "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 2 and "give one of them" in lines[0], lines
    assert f"--scheduler {address}: unreachable" in lines[1], lines
    assert not out.exists()
    with socket.socket() as listening:  # a scheduler there: the contradiction alone
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        address = f"tcp://127.0.0.1:{listening.getsockname()[1]}"
        result = CliRunner().invoke(
            _cli(), [*SWEEP, "--dask", "--scheduler", address, "--out", str(out)]
        )
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and "give one of them" in lines[0], lines
    assert not out.exists()


def test_sweep_cli__unreachable_scheduler__refused_even_when_every_run_is_done(
    pool_sweep, tmp_path
):
    """A newcomer's try (issue 47): a finished sweep run again with `--scheduler` at a dead
    address exited 0 (nothing to run, so no scheduler was asked) and rewrote its tables. The
    address is asked with the other options now: one line, exit 2, the sweep left alone."""
    out = tmp_path / "done"
    shutil.copytree(pool_sweep, out)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = CliRunner().invoke(
        _cli(), [*SWEEP, "--verify", "1", "--scheduler", address, "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and f"--scheduler {address}: unreachable" in lines[0], lines
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_sweep_cli__verify_more_than_the_runs__one_line_exit_2_nothing_written(tmp_path):
    """A newcomer's tally (issue 47): `--verify 50` on a sweep of 2 runs ran it, re-checked the
    2 and exited 0. A K given above the sweep's runs is refused (the default re-checks at most
    the runs there are); K equal to them is taken (`pool_sweep`'s neighbours run that)."""
    out = tmp_path / "out"
    result = CliRunner().invoke(_cli(), [*SWEEP, "--verify", "25", "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [
        "sweep: --verify: 25 is more than the sweep's 24 runs (4 cells x 6 seeds); give at most 24"
    ]
    assert list(tmp_path.iterdir()) == []


def test_sweep_cli__plan_out_and_verify_mistakes__named_in_one_run(tmp_path):
    """Second-stage mistakes (issue 47): a grid value the scenario refuses, an --out under a
    file and a --verify above the runs were named one run at a time (the plan's first, --out's
    only once the plan loaded). Each is a line of the same run now."""
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "out"
    args = [*SWEEP, "--grid", "liquidation_penalty=3", "--out", str(out)]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 2 and all(line.startswith("sweep: ") for line in lines), lines
    assert lines[0].startswith("sweep: grid liquidation_penalty=3: ")
    assert lines[1] == f"sweep: --out {out}: {tmp_path / 'afile'} is a file, not a directory"
    result = CliRunner().invoke(_cli(), [*SWEEP, "--verify", "99", "--out", str(out)])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 2, lines
    assert lines[0].startswith("sweep: --out ") and lines[1].startswith("sweep: --verify: 99 ")
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_sweep_cli__out_holds_another_sweep__refused_and_left_alone(pool_sweep, tmp_path):
    out = tmp_path / "held"
    shutil.copytree(pool_sweep, out)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    result = CliRunner().invoke(
        _cli(), [*[a if a != "6" else "7" for a in SWEEP], "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert (
        "holds another sweep (its seeds: 6; this one's: 7); choose another --out" in result.output
    )
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_sweep_cli__out_is_not_a_sweep__refused_and_left_alone(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(_cli(), [*SWEEP, "--out", str(out)])
    assert result.exit_code == 2 and "holds files no Backstop command wrote" in result.output
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_ape_run_sweep__unknown_grid_name__exit_2_through_ape(tmp_path):
    done = subprocess.run(
        [str(BIN / "ape"), "run", "sweep", "--grid", "colour=red", "--out", str(tmp_path / "r")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("sweep:")]
    assert len(errors) == 1 and "unknown grid name 'colour'" in errors[0]
    assert "Traceback" not in done.stderr and not (tmp_path / "r").exists()


def test_sweep_cli__out_holds_the_sweep_of_another_scenario_content__refused(pool_sweep, tmp_path):
    out = tmp_path / "held"
    shutil.copytree(pool_sweep, out)
    changed = tmp_path / "thin.toml"
    changed.write_text(
        Path(THIN).read_text().replace('pool_depth = "300_000"', 'pool_depth = "300_001"')
    )
    args = [str(changed) if a == THIN else a for a in SWEEP]
    result = CliRunner().invoke(_cli(), [*args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "its scenarios' content differs" in result.output


def test_sweep__two_scenarios__every_cell_on_each_one_recommendation_each(tmp_path):
    out = tmp_path / "two"
    result = _sweep(
        "--scenario",
        THIN,
        "--scenario",
        "synthetic-crash",
        "--vaults",
        "20",
        "--seeds",
        "3",
        "--grid",
        "insurance_fund=0,3000",
        "--verify",
        "0",
        "--workers",
        "2",
        "--quiet",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    results = pd.read_parquet(out / "results.parquet")
    assert list(results.groupby("scenario", sort=False).size().items()) == [
        ("thin-liquidity-2020", 6),
        ("synthetic-crash", 6),
    ]
    # a synthetic path is drawn from the seed: three seeds, three paths, three outcomes
    synthetic = results[results["scenario"] == "synthetic-crash"]
    assert (synthetic.groupby("cell")["liquidated_value"].nunique() == 3).all()
    summary = (out / "summary.md").read_text()
    # one line per scenario; the fund's size changes neither insolvency nor borrower cost, so
    # each says its two cells are not separated, and the key is named as idle
    assert "- thin-liquidity-2020: no cell stands out: all 2 cells" in summary
    assert "- synthetic-crash: no cell stands out: all 2 cells" in summary
    assert "Changed no figure: insurance_fund." in summary
    assert "| synthetic-crash: insurance_fund=3000 |" in summary


def test_sweep_cli__a_sweep_running_in_the_directory__refused(pool_sweep, tmp_path):
    import fcntl

    out = tmp_path / "busy"
    shutil.copytree(pool_sweep, out)
    with open(out / ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = CliRunner().invoke(_cli(), [*SWEEP, "--verify", "1", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "another process is running this sweep" in result.output


def test_sweep_cli__stderr_not_a_terminal__no_progress_text(tmp_path):
    """Without --quiet, a sweep whose stderr is a file or a pipe wrote click's bar label alone
    ("runs", no newline) there (issue 34); the bar is drawn on a terminal only."""
    result = CliRunner(mix_stderr=False).invoke(
        _cli(),
        [*_sweep_with(["--seeds", "1", "--verify", "0"])[:-1], "--out", str(tmp_path / "out")],
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "sweep: 4 cells x 1 seeds = 4 runs" in result.stdout


def test_sweep__a_key_that_changes_nothing__named_and_no_cell_recommended(tmp_path):
    """A newcomer's small sweep gave all cells the same figures and the summary still
    "recommended" one, chosen by cell order (issue 34). Here the fund's size cannot matter: the
    waterfall is redistribution alone. The summary names the idle key and recommends no cell."""
    out = tmp_path / "out"
    result = _sweep(
        "--scenario", THIN, "--vaults", "30", "--seeds", "2", "--grid", "insurance_fund=0,3000",
        "--grid", "waterfall=redistribution", "--verify", "0", "--quiet", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = (out / "summary.md").read_text()
    assert "lowest insolvency VaR95" not in summary
    assert "no cell stands out: all 2 cells that meet the constraint" in summary
    assert "Changed no figure: insurance_fund, waterfall." not in summary  # one value: no pair
    assert "Changed no figure: insurance_fund." in summary


def test_ape_run_sweep__seeds_not_an_integer__one_line_exit_2_through_ape(tmp_path):
    """Issue 34: `ape run sweep --seeds 1e400` printed click's four-line usage block."""
    done = subprocess.run(
        [str(BIN / "ape"), "run", "sweep", "--seeds", "1e400", "--out", str(tmp_path / "r")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "sweep: Invalid value for '--seeds': '1e400' is not a valid integer."
    ], done.stderr
    assert not done.stdout.strip() and not (tmp_path / "r").exists()


def test_sweep__two_types__each_types_figures_and_who_paid_them(tmp_path):
    """A sweep over the two-type crash gives each run's figures per collateral type
    (`<figure>@<type>`, from its contagion table; issue 33's per-type sweep columns): they add
    up to the run's own, and the summary says per cell whose crash it was and who paid. A
    one-type sweep has no such columns (pool_sweep's schema is the one-type schema)."""
    out = tmp_path / "two"
    result = _sweep(
        "--scenario", "may-2021-two-types", "--seeds", "3", "--vaults", "200",
        "--grid", "correlation=0.5,0.9", "--workers", "1", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    results = pd.read_parquet(out / "results.parquet")
    types = ("ETH-A", "WBTC-A")
    assert [c for c in results.columns if c.endswith("@WBTC-A")] == [
        f"{m}@WBTC-A" for m in TYPE_METRICS
    ]
    for figure in ("insolvency", "realized_bad_debt", "liquidations"):
        parts = sum(results[f"{figure}@{name}"] for name in types)
        assert ((parts - results[figure]).abs() <= 1e-6 * results[figure].clip(lower=1)).all()
    for layer in LAYERS:
        parts = sum(results[f"paid_{layer}@{name}"] for name in types)
        assert ((parts - results[f"paid_{layer}"]).abs() <= 1e-6).all(), layer
    assert (results["liquidations@WBTC-A"] > 0).any()  # WBTC-A's own crash happened
    summary = (out / "summary.md").read_text()
    section = summary.split("## Per collateral type: whose crash, who paid")[1].split("\n## ")[0]
    for cell in ("correlation=0.5", "correlation=0.9"):
        for name in types:
            assert f"| {cell} | {name} |" in section
    cells = pd.read_parquet(out / "cells.parquet")
    ok = results[results["cell"] == 0]
    assert cells.loc[0, "insolvency@WBTC-A_mean"] == pytest.approx(ok["insolvency@WBTC-A"].mean())


def test_sweep__one_type__no_per_type_columns(pool_sweep):
    results = pd.read_parquet(pool_sweep / "results.parquet")
    assert not [c for c in results.columns if "@" in c]
    assert "Per collateral type" not in (pool_sweep / "summary.md").read_text()
