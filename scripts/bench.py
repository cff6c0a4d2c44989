"""`ape run bench`: gas and throughput figures, measured on Anvil, written to bench/results.json
(merged with keys other benchmarks wrote) and bench/results.md.

Gas figures are the gas used by one transaction, including the 21,000 base; every transaction
runs in lockstep with the off-chain model, so a benchmark that drifted from the model fails.
"""

from __future__ import annotations

import copy
import gc
import json
import platform
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import click
from ape import project
from ape.cli import ConnectedProviderCommand
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from offchain.backends import ChainBackend, Lockstep, ModelBackend, load_artifacts, reader_code
from offchain.backends.anvil import keep_ape_anvil_history_in_memory
from offchain.model.fixed_point import RAD, WAD, rpow_up
from offchain.system.config import load_config
from offchain.system.deployment import deploy_flash_taker, deploy_system
from offchain.testing import differential
from offchain.testing.harness import Roles

keep_ape_anvil_history_in_memory()  # before ape starts its node for this command

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
REPORT = ROOT / "bench" / "results.md"
# the crash-replay figures are medians: a model run takes half a second, and one burst of load on
# a shared machine can double a single sample (the chain run, ~25 s, averages more of it out)
CHAIN_RUNS = 3
MODEL_RUNS = 5
# the sweep figures: runs per sweep and rounds of the three executors in turn
SWEEP_RUNS = 40
SWEEP_ROUNDS = 3

# MakerDAO dss, same kind of transaction (from the anchors)
ANCHORS = {
    "gas.open_vault": "Vat.frob opening a vault: 120,000-154,000",
    "gas.adjust_vault": "Vat.frob adjusting a vault: ~68,000",
    "gas.liquidate_first": "Dog.bark + Clipper.kick, first: 455,701",
    "gas.liquidate": "Dog.bark + Clipper.kick: 299,801",
    "gas.take_whole": "Clipper.take, whole auction: 120,951",
    "gas.take_whole_with_refund": "Clipper.take, whole auction: 120,951",
    "gas.take_partial": "Clipper.take, partial: 148,794",
    "gas.reset_auction": "Clipper.redo: 112,030",
    "gas.settle_bad_debt": "Vow.flog: 27,220 (flog only; heal is another tx)",
}


def _fresh(
    chain: ChainBackend, roles: list[str]
) -> tuple[Lockstep, ModelBackend, Any, dict[str, int], Any]:
    """A fresh deployment in lockstep, the gas table, and `measure(key, address, fn, sender, *args)`
    that sends one transaction and records its gas under `key`."""
    model = ModelBackend(chain.last_block_time)
    for account in roles:
        model.nonces[account] = int(chain.rpc("eth_getTransactionCount", [account, "latest"]), 16)
    ls = Lockstep(chain, model)
    d = deploy_system(ls, load_config(), roles[0], roles[1])
    gas: dict[str, int] = {}

    def measure(key: str, address: str, fn: str, sender: str, *args) -> int:
        ls.transact(address, fn, sender, *args)
        gas[key] = chain.gas_used()
        return gas[key]

    return ls, model, d, gas, measure


def _gas_figures(chain: ChainBackend, roles: list[str]) -> dict[str, int]:
    ls, model, d, gas, measure = _fresh(chain, roles)
    governance, feeder, borrower, second = roles[:4]
    eth = d.types["ETH-A"]

    # a second borrower first, so the borrower measured below is not the type's first vault
    for user in (second, borrower):
        ls.transact(eth.token, "mint", governance, user, 100 * WAD)
        ls.transact(eth.token, "approve", user, eth.join, 2**256 - 1)
    ls.transact(eth.join, "join", second, second, 10 * WAD)
    ls.transact(
        d.engine, "modify_vault", second, eth.type_id, second, second, second, 10 * WAD, 5_000 * WAD
    )

    join = measure("gas.join_collateral", eth.join, "join", borrower, borrower, 10 * WAD)
    lock_draw = measure(
        "gas.open_vault",
        d.engine,
        "modify_vault",
        borrower,
        eth.type_id,
        borrower,
        borrower,
        borrower,
        10 * WAD,
        5_000 * WAD,
    )
    gas["gas.open_vault_with_join"] = join + lock_draw  # two transactions: join, then lock + draw
    measure(
        "gas.adjust_vault",
        d.engine,
        "modify_vault",
        borrower,
        eth.type_id,
        borrower,
        borrower,
        borrower,
        0,
        1_000 * WAD,
    )
    ls.transact(d.engine, "allow", borrower, d.stable_join)
    measure("gas.exit_stable", d.stable_join, "exit", borrower, borrower, 1_000 * WAD)
    ls.transact(d.stablecoin, "approve", borrower, d.stable_join, 2**256 - 1)
    ls.transact(d.stable_join, "join", borrower, borrower, 1_000 * WAD)

    # the oracle in steady state: a new post, then the poke that moves it along
    ls.set_next_block_time(ls.last_block_time + eth.config.oracle_delay)
    ls.transact(eth.oracle, "post", feeder, 1_900 * WAD)
    measure("gas.poke_oracle", eth.oracle, "poke", feeder)
    measure("gas.poke_spotter", d.spotter, "poke", feeder, eth.type_id)

    ls.set_next_block_time(ls.last_block_time + 86_400)
    measure("gas.accrue_fees", d.fees, "accrue", feeder, eth.type_id)
    ls.set_next_block_time(ls.last_block_time + eth.config.ceiling_cooldown)
    measure("gas.update_ceiling", d.ceiling, "update", feeder, eth.type_id)

    # close: cover the accrued fee, then repay everything and free all collateral in one call
    ls.transact(d.engine, "transfer_stable", second, second, borrower, 100 * 10**45)
    vault_debt = model.contract(d.engine).vaults[(eth.type_id, borrower)].normalized_debt
    locked = model.contract(d.engine).vaults[(eth.type_id, borrower)].collateral
    measure(
        "gas.close_vault",
        d.engine,
        "modify_vault",
        borrower,
        eth.type_id,
        borrower,
        borrower,
        borrower,
        -locked,
        -vault_debt,
    )
    return gas


def _liquidation_gas(chain: ChainBackend, roles: list[str]) -> dict[str, int]:
    """Liquidations and auctions on a fresh deployment: 53 vaults at the limit, then a crash."""
    ls, model, d, gas, measure = _fresh(chain, roles)
    governance, feeder, keeper, taker = roles[0], roles[1], roles[4], roles[5]
    eth = d.types["ETH-A"]
    engine = model.contract(d.engine)

    owners = [to_checksum_address(f"0x{i:040x}") for i in range(0x1000, 0x1000 + 53)]
    # the owners are not dev accounts: governance opens the vaults in their name through delegation
    ls.transact(eth.token, "mint", governance, governance, 53 * 10 * WAD)
    ls.transact(eth.token, "approve", governance, eth.join, 2**256 - 1)
    ctype = engine.collateral_types[eth.type_id]
    debt = 10 * WAD * ctype.safe_price // ctype.rate * 99 // 100
    for owner in owners:
        ls.transact(eth.join, "join", governance, governance, 10 * WAD)
        ls.transact(
            d.engine,
            "modify_vault",
            governance,
            eth.type_id,
            governance,
            governance,
            governance,
            10 * WAD,
            debt,
        )
        # move the vault to its owner: seize by governance (authorized) and give it back as theirs
        ls.transact(
            d.engine,
            "seize",
            governance,
            eth.type_id,
            governance,
            governance,
            governance,
            -10 * WAD,
            -debt,
        )
        ls.transact(
            d.engine,
            "seize",
            governance,
            eth.type_id,
            owner,
            governance,
            governance,
            10 * WAD,
            debt,
        )
    # crash: 30% down, through the delayed oracle
    ls.transact(eth.oracle, "post", feeder, 1_400 * WAD)
    for _ in range(2):
        ls.set_next_block_time(ls.last_block_time + eth.config.oracle_delay)
        ls.transact(eth.oracle, "poke", feeder)
    ls.transact(d.spotter, "poke", feeder, eth.type_id)

    measure(
        "gas.liquidate_first", d.liquidator, "liquidate", keeper, eth.type_id, owners[0], keeper
    )
    measure("gas.liquidate", d.liquidator, "liquidate", keeper, eth.type_id, owners[1], keeper)
    measure(
        "gas.liquidate_many_50",
        d.liquidator,
        "liquidate_many",
        keeper,
        eth.type_id,
        owners[3:],
        keeper,
    )
    gas["gas.liquidate_many_per_vault"] = gas.pop("gas.liquidate_many_50") // 50
    ls.transact(d.liquidator, "liquidate", keeper, eth.type_id, owners[2], keeper)

    # takers: internal stablecoin from governance's surplus-free vault balance
    auction = model.contract(eth.auction)
    ls.transact(
        d.engine, "transfer_stable", governance, governance, taker, engine.stable[governance]
    )
    ls.transact(d.engine, "allow", taker, eth.auction)
    ls.set_next_block_time(ls.last_block_time + 900)
    first, second, third, fourth, fifth = auction.active[:5]
    price = auction._price(auction.auctions[first]) + 10**27  # a margin: the price falls, not rises
    # the lot is worth more than the debt: the debt is raised and the rest goes back to the owner
    measure(
        "gas.take_whole_with_refund",
        eth.auction,
        "take",
        taker,
        first,
        2**256 - 1,
        price,
        taker,
        b"",
    )
    lot = auction.auctions[second].lot
    measure("gas.take_partial", eth.auction, "take", taker, second, lot // 3, price, taker, b"")
    # 30 minutes on, the lot is worth less than the debt: buying all of it sells the auction out
    ls.set_next_block_time(ls.last_block_time + 1800)
    ls.transact(
        eth.oracle, "post", feeder, 1_400 * WAD
    )  # (any transaction: the clock moves with blocks)
    price = auction._price(auction.auctions[fourth])
    assert auction.auctions[fourth].lot * price < auction.auctions[fourth].debt
    measure("gas.take_whole", eth.auction, "take", taker, fourth, 2**256 - 1, price, taker, b"")
    flash = deploy_flash_taker(ls, d, "ETH-A", keeper)
    measure("gas.flash_take", flash, "take", keeper, third, 2**256 - 1, price, 0)
    fourth = fifth
    # past the auction's time limit, with a fresh oracle price to restart from
    ls.set_next_block_time(ls.last_block_time + eth.config.auction_max_duration)
    ls.transact(eth.oracle, "post", feeder, 1_400 * WAD)
    for _ in range(2):
        ls.set_next_block_time(ls.last_block_time + eth.config.oracle_delay)
        ls.transact(eth.oracle, "poke", feeder)
    measure("gas.reset_auction", eth.auction, "reset", keeper, fourth, keeper)
    return gas


def _waterfall_gas(chain: ChainBackend, roles: list[str]) -> dict[str, int]:
    """The loss waterfall on a fresh deployment: a stake and an unstake, then four vaults
    liquidated in a crash whose auctions sell out below their debt, and their losses covered by
    the insurance fund, by redistribution and by the debt-auction layer; then a debt auction, its
    first bid, and a surplus auction."""
    ls, model, d, gas, measure = _fresh(chain, roles)
    governance, feeder, staker_a, staker_b, keeper, taker = roles[:6]
    eth = d.types["ETH-A"]
    engine = model.contract(d.engine)

    def warp(seconds: int) -> None:
        ls.set_next_block_time(ls.last_block_time + seconds)

    # stablecoin for everyone: vaults at a comfortable 300% ratio
    for user in (staker_a, staker_b, taker, governance):
        ls.transact(eth.token, "mint", governance, user, 1_000 * WAD)
        ls.transact(eth.token, "approve", user, eth.join, 2**256 - 1)
        ls.transact(eth.join, "join", user, user, 1_000 * WAD)
        ls.transact(
            d.engine,
            "modify_vault",
            user,
            eth.type_id,
            user,
            user,
            user,
            1_000 * WAD,
            600_000 * WAD,
        )
    for staker in (staker_a, staker_b):
        ls.transact(d.engine, "allow", staker, d.stability_pool)
    ls.transact(d.stability_pool, "stake", staker_a, 100_000 * RAD)
    measure("gas.stake", d.stability_pool, "stake", staker_b, 50_000 * RAD)
    # a stake becomes shares after the exposure delay, by its staker
    warp(model.contract(d.stability_pool).exposure_delay)
    ls.transact(d.stability_pool, "activate", staker_a)
    measure("gas.activate", d.stability_pool, "activate", staker_b)
    ls.transact(
        d.stability_pool,
        "request_withdrawal",
        staker_b,
        model.contract(d.stability_pool).shares[staker_b],
    )
    warp(load_config().waterfall.pool_cooldown)
    measure("gas.unstake", d.stability_pool, "withdraw", staker_b)

    # four vaults just under the line, a 30% crash, four liquidations
    owners = [to_checksum_address(f"0x{i:040x}") for i in range(0x2000, 0x2004)]
    ctype = engine.collateral_types[eth.type_id]
    debt = 10 * WAD * ctype.safe_price // ctype.rate * 99 // 100
    for owner in owners:
        ls.transact(eth.token, "mint", governance, governance, 10 * WAD)
        ls.transact(eth.join, "join", governance, governance, 10 * WAD)
        ls.transact(
            d.engine,
            "modify_vault",
            governance,
            eth.type_id,
            governance,
            governance,
            governance,
            10 * WAD,
            debt,
        )
        ls.transact(
            d.engine,
            "seize",
            governance,
            eth.type_id,
            governance,
            governance,
            governance,
            -10 * WAD,
            -debt,
        )
        ls.transact(
            d.engine,
            "seize",
            governance,
            eth.type_id,
            owner,
            governance,
            governance,
            10 * WAD,
            debt,
        )
    ls.transact(eth.oracle, "post", feeder, 1_400 * WAD)
    for _ in range(2):
        warp(eth.config.oracle_delay)
        ls.transact(eth.oracle, "poke", feeder)
    ls.transact(d.spotter, "poke", feeder, eth.type_id)
    ls.transact(d.liquidator, "liquidate_many", keeper, eth.type_id, owners, keeper)
    # the auctions fall until the lots are worth less than the debt, then sell out
    auction = model.contract(eth.auction)
    ids = list(auction.active)
    ls.transact(d.engine, "allow", taker, eth.auction)
    warp(2_700)
    ls.transact(eth.oracle, "post", feeder, 1_400 * WAD)
    for auction_id in ids:
        price = auction._price(auction.auctions[auction_id])
        ls.transact(eth.auction, "take", taker, auction_id, 2**256 - 1, price, taker, b"")
    backstop = model.contract(d.backstop)
    losses = [(eth.type_id, eth.auction, i) for i in ids]
    assert all(backstop.losses[key].status == 2 for key in losses), "the auctions must leave losses"
    warp(load_config().backstop_queue_delay)
    # the insurance fund pays: give the Backstop surplus (a holder sends it stablecoin)
    ls.transact(d.engine, "transfer_stable", governance, governance, d.backstop, 100_000 * RAD)
    ls.transact(d.backstop, "set_waterfall", governance, [1])
    measure("gas.settle_bad_debt", d.backstop, "cover", keeper, *losses[0])
    ls.transact(d.backstop, "set_waterfall", governance, [2])
    measure("gas.cover_by_stability_pool", d.backstop, "cover", keeper, *losses[1])
    measure("gas.realize_one_charge", d.stability_pool, "realize", keeper, staker_a, 1)
    ls.transact(d.backstop, "set_waterfall", governance, [4])
    measure("gas.redistribute", d.backstop, "cover", keeper, *losses[2])
    ls.transact(d.backstop, "set_waterfall", governance, [3])
    ls.transact(d.backstop, "cover", keeper, *losses[3])
    measure("gas.debt_auction_start", d.backstop, "start_debt_auction", keeper)
    debt_auction = model.contract(d.debt_auction)
    lot = debt_auction.auctions[debt_auction.count][1]
    ls.transact(d.engine, "allow", taker, d.debt_auction)
    measure(
        "gas.debt_auction_bid",
        d.debt_auction,
        "bid",
        taker,
        debt_auction.count,
        lot * WAD // (105 * WAD // 100),
    )
    # surplus above the buffer: holders send the Backstop more stablecoin
    w = load_config().waterfall
    need = (
        engine.bad_debt[d.backstop] + w.surplus_buffer + w.surplus_lot - engine.stable[d.backstop]
    )
    if need > 0:
        ls.transact(d.engine, "transfer_stable", taker, taker, d.backstop, need)
    measure("gas.surplus_auction_start", d.backstop, "start_surplus_auction", keeper)
    return gas


def _fuzz_throughput(chain: ChainBackend, roles: list[str]) -> tuple[float, int]:
    account_roles = Roles(*roles[:6])
    model = ModelBackend(chain.last_block_time)
    for account in account_roles.users:
        model.nonces[account] = int(chain.rpc("eth_getTransactionCount", [account, "latest"]), 16)
    d = deploy_system(
        Lockstep(chain, model), load_config(), account_roles.governance, account_roles.feeder
    )
    machine = differential.make_machine(chain, (d, copy.deepcopy(model)), account_roles)
    differential.STEPS.clear()
    start = time.perf_counter()
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=12,
            stateful_step_count=30,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
    elapsed = time.perf_counter() - start
    return differential.STEPS["checked"] / elapsed, differential.STEPS["checked"]


def _version(cmd: list[str]) -> str:
    try:
        return (
            subprocess.run(cmd, capture_output=True, text=True, check=True)
            .stdout.splitlines()[0]
            .strip()
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _simulation_figures() -> tuple[dict[str, float], dict[str, list[float]]]:
    """Black Thursday with 1,000 vaults: on a private Anvil end to end (deployment, population,
    180 bars, reconciliation against the model run, which is timed on its own too) and the
    model alone (as a parameter sweep runs it: no full-state reads, which exist to be
    reconciled)."""
    from offchain.sim.driver import simulate
    from offchain.sim.reconcile import reconcile
    from offchain.sim.scenario import load_scenario

    scenario = load_scenario("black-thursday-2020", vaults=1000)
    artifacts, code = load_artifacts(project), reader_code(project)
    chain_samples, diffs = [], 0
    for _ in range(CHAIN_RUNS):
        rpow_up.cache_clear()
        start = time.perf_counter()
        chain_run = simulate(scenario, "chain", artifacts, code)
        model_run = simulate(scenario, "model")
        result = reconcile(chain_run, model_run)
        chain_samples.append(time.perf_counter() - start)
        transactions, diffs = chain_run.facts["transactions"], max(diffs, result.diff_count)
        del chain_run, model_run, result
        gc.collect()
    chain_s = statistics.median(chain_samples)
    # the model alone, as a run of its own: nothing memoized by the runs above, and their results
    # (half a million state values) no longer alive for the garbage collector to walk
    samples = []
    for _ in range(MODEL_RUNS):
        gc.collect()
        rpow_up.cache_clear()
        start = time.perf_counter()
        simulate(scenario, "model", full_check_every=None)
        samples.append(time.perf_counter() - start)
    model_s = statistics.median(samples)
    return {
        "sim.black_thursday_1000_chain_s": round(chain_s, 1),
        "sim.black_thursday_1000_model_s": round(model_s, 2),
        "sim.black_thursday_1000_chain_over_model": round(chain_s / model_s, 1),
        "sim.black_thursday_1000_transactions": transactions,
        "sim.reconciliation_diffs": diffs,
    }, {"chain": [round(x, 1) for x in chain_samples], "model": [round(x, 3) for x in samples]}


KEEPER_VAULTS = 500


def _keeper_figures() -> dict[str, float]:
    """A liquidator bot (its own process, offchain/live) on a devnet mining a block a second
    (Anvil's default 30M block gas): 500 vaults made unsafe by one spotter poke; per vault, the
    blocks from that poke's block to its liquidation's; and vaults liquidated per block that
    holds liquidations."""
    import socket
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from offchain.live.bots import CONTRACT_NAMES
    from offchain.live.deploy import ensure_deployment
    from offchain.live.devnet import DevnetNode
    from offchain.live.market import impersonating, open_vaults, set_price, vault_plans
    from offchain.live.signers import dev_signer
    from offchain.system.config import DEFAULT_CONFIG, load_config

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    artifacts, code = load_artifacts(project), reader_code(project)
    with tempfile.TemporaryDirectory() as tmp, DevnetNode(port, Path(tmp) / "state.json") as node:
        record, _ = ensure_deployment(
            node.url,
            artifacts,
            code,
            load_config(),
            DEFAULT_CONFIG,
            dev_signer(0),
            dev_signer(1),
            Path(tmp),
        )
        d = record.deployment()
        t = d.types["ETH-A"]
        chain = ChainBackend(node.url, artifacts, code)
        chain.names.update({a: CONTRACT_NAMES[f] for f, a in record.core.items()})
        for fields in record.types.values():
            chain.names.update({a: CONTRACT_NAMES[f] for f, a in fields.items()})
        impersonating(chain)
        plans = vault_plans(KEEPER_VAULTS, t, 1_600_000_000_000_000_000)
        open_vaults(chain, d, t, plans)
        bot = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "offchain.live.cli",
                "--role",
                "liquidator",
                "--account",
                "dev:2",
                "--rpc",
                node.url,
                "--deployment",
                str(Path(tmp) / "31337.json"),
                "--checkpoint",
                str(Path(tmp) / "bot.json"),
                "--poll",
                "0.1",
                "--type",
                "ETH-A",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        try:
            time.sleep(8)  # the bot up and caught up
            chain.rpc("evm_setIntervalMining", [1])
            unsafe_block = set_price(chain, d, t, t.config.initial_price * 8 // 10)
            topic = next("0x" + k.hex() for k, v in chain._events.items() if v[0] == "Liquidated")
            deadline = time.monotonic() + 300
            logs: list = []
            while time.monotonic() < deadline:
                logs = chain.rpc(
                    "eth_getLogs",
                    [
                        {
                            "fromBlock": hex(unsafe_block),
                            "toBlock": "latest",
                            "address": d.liquidator,
                            "topics": [topic],
                        }
                    ],
                )
                if len(logs) >= KEEPER_VAULTS:
                    break
                time.sleep(0.5)
        finally:
            bot.terminate()
            bot.wait(timeout=30)
    if len(logs) < KEEPER_VAULTS:
        raise click.ClickException(f"keeper bench: {len(logs)} of {KEEPER_VAULTS} liquidated")
    reaction = sorted(int(log["blockNumber"], 16) - unsafe_block for log in logs)
    blocks = {int(log["blockNumber"], 16) for log in logs}
    return {
        "keeper.reaction_blocks_p50": reaction[len(reaction) // 2],
        "keeper.reaction_blocks_p99": reaction[(len(reaction) * 99) // 100 - 1],
        "keeper.liquidations_per_block": round(len(logs) / len(blocks), 1),
    }


def _write(
    figures: dict[str, float],
    steps: int | None,
    samples: dict[str, list[float]] | None,
    sweep_meta: dict[str, Any] | None = None,
) -> None:
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.update(figures)
    meta = results.setdefault("_meta", {})
    meta.update(
        {
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "node": _version(["anvil", "--version"]),
            "vyper": _version(["vyper", "--version"]),
            "python": platform.python_version(),
            "gas_note": "gas used by one transaction incl. the 21k base; open_vault_with_join = "
            "join tx + lock/draw tx",
            "keeper_note": f"keeper.*: one liquidator bot process on a devnet mining a block a "
            f"second (30M block gas), {KEEPER_VAULTS} vaults made unsafe by one spotter poke; "
            "reaction = blocks from that poke to each vault's liquidation",
        }
    )
    if samples is not None:
        meta.update(
            {
                "sim_note": f"sim.*_chain_s: private Anvil, end to end incl. the model run and "
                "the reconciliation, the "
                f"median of {CHAIN_RUNS} runs; sim.*_model_s: the model alone, the median of "
                f"{MODEL_RUNS} cold "
                "runs; every run in sim_samples_s; sim.reconciliation_diffs: the most in any run",
                "sim_samples_s": samples,
            }
        )
    if sweep_meta is not None:
        meta.update(sweep_meta)
    if steps is not None:
        meta["fuzz_steps_measured"] = steps
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(dict(sorted(results.items())), indent=2) + "\n")

    lines = [
        "# Benchmarks",
        "",
        f"Measured {meta['measured_at']} on Anvil ({meta['node']}), {meta['vyper']}.",
        "",
        "| figure | value | anchor (MakerDAO dss) |",
        "|---|---:|---|",
    ]
    for key, value in sorted(results.items()):
        if key.startswith("_"):
            continue
        shown = f"{value:,}" if isinstance(value, int) else f"{value}"
        lines.append(f"| `{key}` | {shown} | {ANCHORS.get(key, '')} |")
    REPORT.write_text("\n".join(lines) + "\n")
    click.echo("\n".join(lines))
    click.echo(f"\nwritten: {RESULTS.relative_to(ROOT)}, {REPORT.relative_to(ROOT)}")


def _sweep_figures() -> tuple[dict[str, float], dict[str, Any]]:
    """One sweep of Black Thursday with 1,000 vaults (SWEEP_RUNS seeds, the model) on a process
    pool of 1 and of 2 workers and on a Dask LocalCluster of 2, each SWEEP_ROUNDS times in turn
    (the machine's load moves: every configuration sees the same moments); the median time of
    each. The time counts the runs and the writing of each (offchain/sweep/runner.execute), not
    the executor's start (timed apart) nor the report."""
    import tempfile

    from offchain.sweep.executors import DaskExecutor, PoolExecutor
    from offchain.sweep.runner import execute
    from offchain.sweep.spec import SweepSpec, plan
    from offchain.sweep.store import Store

    the_plan = plan(SweepSpec(("black-thursday-2020",), SWEEP_RUNS, (), 1000))
    configs = {
        "pool_1": lambda: PoolExecutor(1),
        "pool_2": lambda: PoolExecutor(2),
        "dask_2": lambda: DaskExecutor(None, 2),
    }
    run_s: dict[str, list[float]] = {name: [] for name in configs}
    start_s: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(SWEEP_ROUNDS):
        for name, make in configs.items():
            with tempfile.TemporaryDirectory() as tmp:
                store = Store(Path(tmp) / "sweep", the_plan)
                store.open()
                t0 = time.perf_counter()
                executor = make()
                t1 = time.perf_counter()
                try:
                    assert execute(the_plan, store, executor, set()) == SWEEP_RUNS
                finally:
                    executor.close()
                run_s[name].append(time.perf_counter() - t1)
                start_s[name].append(t1 - t0)
    median = {name: statistics.median(v) for name, v in run_s.items()}
    figures = {
        "sweep.runs_per_s": round(SWEEP_RUNS / median["pool_2"], 2),
        "sweep.runs_per_s_1_worker": round(SWEEP_RUNS / median["pool_1"], 2),
        "sweep.scaling_2_over_1": round(median["pool_1"] / median["pool_2"], 2),
        "sweep.dask_over_pool": round(median["dask_2"] / median["pool_2"], 2),
        "sweep.pool_start_s": round(statistics.median(start_s["pool_2"]), 2),
        "sweep.dask_start_s": round(statistics.median(start_s["dask_2"]), 2),
    }
    meta = {
        "sweep_note": f"Black Thursday, 1,000 vaults, the model: {SWEEP_RUNS} runs per sweep on "
        f"a process pool of 1 and 2 workers and a Dask LocalCluster of 2, {SWEEP_ROUNDS} rounds "
        "in turn, medians; runs_per_s = runs / time of the runs (each written as it finishes), "
        "start_s = the executor's start; every time in sweep_samples_s",
        "sweep_samples_s": {name: [round(x, 2) for x in run_s[name]] for name in configs},
    }
    return figures, meta


@click.command(cls=ConnectedProviderCommand)
@click.option("--sim-only", is_flag=True, help="Only the crash-replay figures (sim.*).")
@click.option("--keeper-only", is_flag=True, help="Only the live keeper figures (keeper.*).")
@click.option("--sweep-only", is_flag=True, help="Only the sweep figures (sweep.*).")
def cli(provider, sim_only, keeper_only, sweep_only):
    """Measure gas per transaction, differential-fuzz throughput, crash-replay times, the live
    liquidator's reaction and sweep throughput."""
    if keeper_only:
        _write(_keeper_figures(), None, None)
        return
    if sim_only:
        figures, samples = _simulation_figures()
        _write(figures, None, samples)
        return
    if sweep_only:
        figures, meta = _sweep_figures()
        _write(figures, None, None, meta)
        return
    chain = ChainBackend(provider.uri, load_artifacts(project), reader_code(project))
    roles = [str(to_checksum_address(a)) for a in chain.rpc("eth_accounts", [])]
    snapshot = chain.snapshot()
    gas: dict[str, float] = dict(_gas_figures(chain, roles))
    chain.revert_to(snapshot)
    snapshot = chain.snapshot()
    gas.update(_liquidation_gas(chain, roles))
    chain.revert_to(snapshot)
    snapshot = chain.snapshot()
    gas.update(_waterfall_gas(chain, roles))
    chain.revert_to(snapshot)
    steps_per_s, steps = _fuzz_throughput(chain, roles)
    gas["fuzz.differential_steps_per_s"] = round(steps_per_s, 1)
    figures, samples = _simulation_figures()
    gas.update(figures)
    gas.update(_keeper_figures())
    sweep, sweep_meta = _sweep_figures()
    gas.update(sweep)
    _write(gas, steps, samples, sweep_meta)
