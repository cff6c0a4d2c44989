"""`ape run reconcile`: a live devnet session (real Anvil, the real deployment, bot processes)
replayed in the model from the deployment block, compared to the wei, also through the loss
waterfall (covers, absorbs, a debt auction); a planted divergence is named; bad input is one
line and exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from eth_utils import keccak
from helpers import storage_slot
from live_support import ROOT, bots_started, wait_for

from offchain.live.market import ARBITRAGE_THRESHOLD, advance, open_vaults, set_price
from offchain.live.node import Node
from offchain.live.outcome import OutcomeBook
from offchain.live.reconcile import ReconcileError, reconcile
from offchain.model.backstop import Layer
from offchain.model.errors import Revert
from offchain.model.fixed_point import MAX_UINT256, RAD, RAY, WAD
from offchain.sim.scenario.population import VaultPlan, actor_address
from offchain.sim.strategies.keepers import PoolView, arbitrage_action

VAULTS = 6


def _reconcile_cli(devnet, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "offchain.live.reconcile",
            "--rpc",
            devnet.node.url,
            # the devnet's record, unless the case gives its own (an option twice is refused)
            *([] if "--deployment" in args else ["--deployment", str(devnet.record_file)]),
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def crashed(devnet, bots, artifacts):
    """A session: a liquidator, a taker (flash takes through the FlashTaker it deploys) and a
    backstop operator (accruals, settles) through a crash and an hour on, a
    stranger's failed liquidation and a plain ether transfer; the bots stopped."""
    liquidator = bots("liquidator", "dev:2")
    taker = bots("taker", "dev:3")
    operator = bots("backstop", "dev:4")
    bots_started(liquidator, taker, operator)
    plans = devnet.plans(VAULTS)
    devnet.crash(VAULTS, drop_ppm=500_000)  # the collateral sells for less than the debt: losses
    owners = {p.owner for p in plans}
    wait_for(lambda: owners <= set(devnet.liquidated()), 60, "every vault liquidated")
    wait_for(lambda: liquidator.events("mined"), 10, "the liquidator to see its work mined")
    chain, d = devnet.chain, devnet.d
    # the auctions' prices fall with time: an hour on, one block
    chain.rpc("evm_increaseTime", [3700])
    chain.rpc("evm_mine", [])

    def acted(bot, word: str) -> bool:
        return any(word in (m.get("label") or "") for m in bot.events("mined"))

    wait_for(lambda: acted(taker, "take"), 60, "a take mined")
    wait_for(lambda: acted(operator, "settle"), 60, "the operator's settle mined")
    stranger = "0x" + "5e" * 20
    chain.rpc("anvil_setBalance", [stranger, hex(10**20)])
    with pytest.raises(Revert):  # already liquidated: reverts on the chain, must in the model
        chain.transact(
            d.liquidator, "liquidate", stranger, devnet.eth.type_id, plans[0].owner, stranger
        )
    chain.rpc(
        "eth_sendTransaction", [{"from": stranger, "to": "0x" + "77" * 20, "value": hex(10**18)}]
    )
    for bot in (liquidator, taker, operator):
        bot.stop()
    return plans


def test_reconcile__a_crash_with_bots__no_differences_and_counts_by_kind(
    devnet, crashed, artifacts
):
    report = reconcile(Node(devnet.node.url), devnet.record, *artifacts)
    assert report.differences == [], "\n".join(report.lines())
    kinds = report.kinds
    assert kinds["create VaultEngine"] == 1
    assert kinds["VaultEngine.modify_vault"] >= VAULTS
    assert (
        sum(n for k, n in kinds.items() if k.startswith("Liquidator.")) >= 2
    )  # batches + stranger
    assert report.reverted >= 1
    assert kinds["ignored: ether transfer"] == 1
    assert any("ether transfer" in line for line in report.ignored)
    assert report.state_checks == [report.to_block] and report.variables_compared > 1000
    # the command says the same
    out = _reconcile_cli(devnet)
    assert out.returncode == 0, out.stderr
    assert "0 differences" in out.stdout


def test_reconcile__a_revert_older_than_the_nodes_history__compared_without_its_reason(
    devnet, crashed, artifacts
):
    """The devnet keeps 64 blocks of history: a transaction that reverted before that can no
    longer be traced for its reason (`debug_traceTransaction`: resource not found). Reconcile
    gave a traceback there (issue 34, found in a live black-thursday-2020 session); now it
    compares that both sides reverted and says how many reasons it could not compare."""
    devnet.chain.rpc("anvil_mine", [hex(80)])
    report = reconcile(Node(devnet.node.url), devnet.record, *artifacts)
    assert report.differences == [], "\n".join(report.lines())
    assert report.untraced_reverts >= 1  # the stranger's liquidation
    assert report.reverted >= report.untraced_reverts
    assert any("no longer traces" in line for line in report.lines())


def test_reconcile__a_liquidation_that_ran_out_of_gas_in_a_callee__not_applied_traced_or_not(
    devnet, artifacts
):
    """A liquidation whose gas ran out inside a callee fails with some gas unused (the 63/64
    rule leaves the caller a little to revert with); the model has no gas, so it would
    liquidate. Reconcile looked for out of gas only when every unit was used, and only with a
    trace: on a live devnet it compared such a transaction as a revert and the whole session
    diverged (issue 34, 1,375 differences). Now it is not applied, with a trace (the frame that
    starved) and without one (the receipt's figures), and the session reconciles. The single
    `liquidate` starves here: `liquidate_many` skips what its gas cannot finish (issue 63), so
    its lowest estimate is a batch that liquidates nothing."""
    chain, d = devnet.chain, devnet.d
    plans = devnet.plans(VAULTS)
    devnet.crash(VAULTS)
    keeper = "0x" + "6b" * 20
    chain.rpc("anvil_setBalance", [keeper, hex(10**20)])
    tx, _ = chain.call_data(d.liquidator, "liquidate", devnet.eth.type_id, plans[0].owner, keeper)
    tx["from"] = keeper
    needed = int(chain.rpc("eth_estimateGas", [tx]), 16)
    receipt = chain.rpc("eth_sendTransactionSync", [{**tx, "gas": hex(needed * 7 // 10)}])
    used, limit = int(receipt["gasUsed"], 16), needed * 7 // 10
    assert receipt["status"] == "0x0" and used < limit  # starved in a callee, not at the top
    assert not devnet.liquidated()
    batch, _ = chain.call_data(
        d.liquidator, "liquidate_many", devnet.eth.type_id, [p.owner for p in plans], keeper
    )
    # then the batch, with the gas of every vault: all of them go
    chain.rpc("eth_sendTransactionSync", [{**batch, "from": keeper, "gas": hex(10_000_000)}])
    assert len(devnet.liquidated()) == VAULTS

    traced = reconcile(Node(devnet.node.url), devnet.record, *artifacts)
    assert traced.differences == [], "\n".join(traced.lines())
    assert traced.out_of_gas == 1
    assert traced.kinds["Liquidator.liquidate"] == 1
    assert traced.kinds["Liquidator.liquidate_many"] == 1
    assert any(
        line.endswith("ran out of gas on the chain (no effect there; not applied)")
        for line in traced.ignored
    )

    devnet.chain.rpc("anvil_mine", [hex(80)])  # beyond the devnet's 64 blocks of history
    untraced = reconcile(Node(devnet.node.url), devnet.record, *artifacts)
    assert untraced.differences == [], "\n".join(untraced.lines())
    assert untraced.out_of_gas == 1
    assert any(
        f"{used:,} of its {limit:,} gas used and no trace left" in line for line in untraced.ignored
    )


def test_reconcile__from_a_later_block__compares_there_and_counts_from_it(
    devnet, crashed, artifacts
):
    node = Node(devnet.node.url)
    middle = (devnet.record.last_block + node.block_number()) // 2
    report = reconcile(node, devnet.record, *artifacts, from_block=middle, every=5)
    assert report.differences == [], "\n".join(report.lines())
    assert report.prefix_transactions > 0
    assert report.state_checks[0] == middle - 1 and report.state_checks[-1] == report.to_block
    assert len(report.state_checks) >= 3
    full = reconcile(node, devnet.record, *artifacts)
    assert report.transactions + report.prefix_transactions == full.transactions


STAKE = 6_000  # stablecoin in the stability pool: less than the crash's losses


@pytest.fixture
def covered(devnet, bots, artifacts):
    """A session whose crash leaves losses that go down the waterfall: a staker's 6,000 in the
    stability pool (staked, and activated after the pool's exposure delay), the collateral pool
    moved with the oracle to half the price (the auctions sell below the debt), a liquidator,
    a taker and a backstop operator; an hour on (past the queue delay) the takes close the
    losses and the operator covers them down the waterfall: the fund (what surplus it holds),
    the stability pool (absorbed), the debt-auction layer; it starts a debt auction and
    realizes the staker's charge; the bots stopped once the operator's work is mined."""
    chain, d, t = devnet.chain, devnet.d, devnet.eth
    liquidator = bots("liquidator", "dev:2")
    taker = bots("taker", "dev:3")
    operator = bots("backstop", "dev:4")
    bots_started(liquidator, taker, operator)
    staker = actor_address("staker", 0)
    stake_vault = VaultPlan(staker, (4 * STAKE * WAD * WAD) // t.config.initial_price, STAKE * WAD)
    open_vaults(chain, d, t, [stake_vault])
    chain.transact(d.engine, "allow", staker, d.stability_pool)
    chain.transact(d.stability_pool, "stake", staker, STAKE * WAD * RAY)
    advance(chain, chain.view(d.stability_pool, "exposure_delay"))
    chain.transact(d.stability_pool, "activate", staker)
    plans = devnet.plans(VAULTS)
    open_vaults(chain, d, t, plans)
    price = t.config.initial_price // 2
    # the market follows the oracle: governance sells minted collateral into the pool
    g, scale = d.governance, 10 ** (18 - t.config.token_decimals)
    chain.transact(t.token, "mint", g, g, chain.view(t.pool, "reserve_collateral"))
    chain.transact(t.token, "approve", g, t.pool, MAX_UINT256)
    pool = PoolView(
        chain.view(t.pool, "reserve_collateral"),
        chain.view(t.pool, "reserve_stable"),
        chain.view(t.pool, "fee"),
        scale,
    )
    swap = arbitrage_action(
        pool, price, ARBITRAGE_THRESHOLD, chain.view(t.token, "balanceOf", g), 0, g, t.pool
    )
    assert swap is not None
    chain.transact(swap.contract, swap.function, g, *swap.args)
    set_price(chain, d, t, price)
    owners = {p.owner for p in plans}
    wait_for(lambda: owners <= set(devnet.liquidated()), 60, "every vault liquidated")
    # the auctions' prices fall below the pool's within the hour, and the queue delay passes
    # (from the chain's last block: its clock runs hours ahead of the wall's after the waits)
    advance(chain, chain.view(d.backstop, "queue_delay") + 100)
    chain.rpc("evm_mine", [])
    wait_for(lambda: len(devnet.logs(d.backstop, "LossClosed")) >= VAULTS, 60, "losses closed")

    def waterfall_done() -> bool:
        logs = devnet.logs(d.backstop, "LossClosed")
        closed = {e.args["auction_id"] for e in logs if e.args["loss"] != 0}
        covered = {e.args["auction_id"] for e in devnet.logs(d.backstop, "LossAllocated")}
        return (
            closed <= covered
            and bool(devnet.logs(d.backstop, "DebtAuctionStarted"))
            and bool(devnet.logs(d.stability_pool, "StakerCharged"))
        )

    wait_for(waterfall_done, 60, "the closed losses covered, a debt auction, the charges realized")
    wait_for(lambda: not operator_pending(devnet, operator), 30, "the operator's work mined")
    for bot in (liquidator, taker, operator):
        bot.stop()
    return plans, operator


def operator_pending(devnet, bot) -> bool:
    """A transaction the bot sent that is not mined yet (the account's nonce on the chain)."""
    nonces = [e["nonce"] for e in bot.events("sent")]
    account = bot.events("started")[0]["account"]
    return bool(nonces) and Node(devnet.node.url).nonce(account, "latest") <= max(nonces)


def test_reconcile__losses_covered_through_the_waterfall__no_differences(
    devnet, covered, artifacts
):
    _, operator = covered
    d = devnet.d
    allocated = devnet.logs(d.backstop, "LossAllocated")
    layers = {Layer(e.args["layer"]) for e in allocated}
    assert len(allocated) > 0 and {Layer.STABILITY_POOL, Layer.DEBT_AUCTION} <= layers, layers
    absorbed = sum(e.args["amount"] for e in allocated if e.args["layer"] == Layer.STABILITY_POOL)
    assert absorbed == sum(e.args["amount"] for e in devnet.logs(d.stability_pool, "Absorbed"))
    assert devnet.logs(d.backstop, "DebtAuctionStarted")
    covers = [m for m in operator.events("mined") if m["label"] == "Backstop.cover"]
    assert len(covers) >= VAULTS
    report = reconcile(Node(devnet.node.url), devnet.record, *artifacts)
    assert report.differences == [], "\n".join(report.lines())
    # the operator's covers, each of a loss with a receipt (a cover mined as the bot stopped
    # is on the chain, not in its log)
    assert report.kinds["Backstop.cover"] >= len(covers)
    assert report.kinds["Backstop.cover"] >= len({e.args["auction_id"] for e in allocated})
    assert report.kinds["StabilityPool.activate"] == 1
    assert report.kinds["Backstop.start_debt_auction"] >= 1


def test_reconcile__outcome_table__adds_up_the_chain_events(devnet, covered, artifacts):
    """Issue 34: reconcile prints the session's outcome (liquidations, takes, resets, bad debt,
    who paid, insolvency) next to its 0 differences; every figure is the chain's own events added
    up, and the market's way of reading them (eth_getLogs) gives the same table."""
    d, eth = devnet.d, devnet.eth
    report = reconcile(Node(devnet.node.url), devnet.record, *artifacts)
    assert report.differences == [], "\n".join(report.lines())
    assert report.outcome is not None
    [table] = [t for t in report.outcome.types if t.name == eth.config.name]
    w = table.window
    liquidated = devnet.logs(d.liquidator, "Liquidated")
    assert w["liquidations"] == len(liquidated) >= VAULTS
    assert w["liquidated_debt"] == sum(e.args["debt"] for e in liquidated)
    assert w["liquidated_collateral"] == sum(e.args["collateral"] for e in liquidated)
    taken = devnet.logs(eth.auction, "Taken")
    assert w["takes"] == len(taken) > 0
    assert w["taken_stable"] == sum(e.args["owe"] for e in taken)
    assert w.get("resets", 0) == len(devnet.logs(eth.auction, "Reset"))
    closed = devnet.logs(d.backstop, "LossClosed")
    assert w["finished"] == len(closed) > 0
    assert w["realized"] == sum(e.args["loss"] for e in closed) > 0
    paid: dict[str, int] = {}
    for e in devnet.logs(d.backstop, "LossAllocated"):
        label = Layer(e.args["layer"]).label
        paid[label] = paid.get(label, 0) + e.args["amount"]
    assert table.paid == paid
    end = table.end
    assert end.realized == w["realized"]  # the window is the whole session
    assert end.insolvency_last_price == end.realized + end.open_shortfall + end.unsafe_shortfall
    assert end.insolvency == end.realized + end.marked_open_shortfall + end.marked_unsafe_shortfall
    # marked at the oracle's last post, into the keepers' pool's stablecoin reserve (the lab's
    # mark without an external market: tests/sim/test_outcome_same_as_lab.py)
    assert end.mark_price == devnet.chain.view(eth.oracle, "source_price")
    assert end.market_depth == devnet.chain.view(eth.pool, "reserve_stable")
    assert end.open_auctions == devnet.chain.view(eth.auction, "active_count")
    # the market's way: the logs of the deployment's blocks
    book = OutcomeBook(d)
    book.read_logs(devnet.chain, devnet.record.first_block, report.to_block)
    again = book.outcome(devnet.chain)
    assert again == report.outcome
    out = _reconcile_cli(devnet)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1] == "0 differences"
    assert any(line.startswith("outcome of blocks ") for line in lines), out.stdout
    assert f"{len(liquidated):,} liquidations" in out.stdout
    assert f"INSOLVENCY {end.insolvency / RAD:,.2f}" in out.stdout
    # the first screen leads with the headline
    assert lines[0].startswith(f"outcome at the head: {eth.config.name}: INSOLVENCY "), lines[0]


def test_reconcile__a_waterfall_total_changed_after_covers__names_it(devnet, covered):
    chain, d = devnet.chain, devnet.d
    on_auction = chain.view(d.backstop, "debt_on_auction")
    assert on_auction > 0  # the debt auction the operator started
    slot = hex(storage_slot("Backstop", "debt_on_auction"))
    assert int(chain.rpc("eth_getStorageAt", [d.backstop, slot, "latest"]), 16) == on_auction
    planted = "0x" + (on_auction + 7).to_bytes(32, "big").hex()
    chain.rpc("anvil_setStorageAt", [d.backstop, slot, planted])
    chain.rpc("evm_mine", [])
    out = _reconcile_cli(devnet)
    assert out.returncode == 1, out.stderr
    lines = [x for x in out.stdout.splitlines() if x.startswith("  state at block")]
    # the planted total, and the view derived from it (the bad debt no loss event holds)
    assert len(lines) == 2, out.stdout
    assert "backstop.debt_on_auction: " in lines[0] and "chain - model = 7 wei" in lines[0]
    assert "backstop.unattributed_debt: " in lines[1] and "chain - model = -7 wei" in lines[1]
    assert "2 differences (backstop 2)" in out.stdout, out.stdout


def _vault_slot(devnet, owner: str) -> int:
    """The storage slot of the engine's packed vault (collateral << 128 | normalized debt) of
    `owner`: Vyper puts a HashMap's slot before the key in each keccak. Checked by its content."""
    chain, d = devnet.chain, devnet.d
    collateral, debt = chain.view(d.engine, "vaults", devnet.eth.type_id, owner)
    word = lambda n: n.to_bytes(32, "big")  # noqa: E731
    vaults = storage_slot("VaultEngine", "packed_vaults")
    inner = keccak(word(vaults) + bytes(devnet.eth.type_id).ljust(32, b"\0"))
    slot = int.from_bytes(keccak(inner + bytes.fromhex(owner[2:]).rjust(32, b"\0")), "big")
    value = int(chain.rpc("eth_getStorageAt", [d.engine, hex(slot), "latest"]), 16)
    assert value == collateral << 128 | debt, "the vault's slot is not where the layout says"
    return slot


def test_reconcile__a_vault_debt_changed_outside_transactions__names_the_field(devnet, artifacts):
    plans = devnet.plans(3)
    from offchain.live.market import open_vaults

    open_vaults(devnet.chain, devnet.d, devnet.eth, plans)
    owner = plans[1].owner
    slot = _vault_slot(devnet, owner)
    packed = int(devnet.chain.rpc("eth_getStorageAt", [devnet.d.engine, hex(slot), "latest"]), 16)
    planted = "0x" + (packed + 7).to_bytes(32, "big").hex()  # the debt, the low half, + 7 wei
    devnet.chain.rpc("anvil_setStorageAt", [devnet.d.engine, hex(slot), planted])
    devnet.chain.rpc("evm_mine", [])
    out = _reconcile_cli(devnet)
    assert out.returncode == 1, out.stderr
    lines = [x for x in out.stdout.splitlines() if owner in x]
    assert lines, out.stdout
    assert f"engine.vaults[ETH-A][{owner}].normalized_debt" in lines[0]
    assert "chain - model = 7 wei" in lines[0]
    assert "1 difference (engine 1)" in out.stdout


def test_reconcile__bad_input__one_line_exit_2(devnet, tmp_path):
    head = Node(devnet.node.url).block_number()
    beyond = _reconcile_cli(devnet, "--from-block", str(head + 10))
    assert beyond.returncode == 2
    assert beyond.stderr.strip() == (
        f"reconcile: --from-block {head + 10} is beyond the chain's head, block {head}"
    )
    missing = _reconcile_cli(devnet, "--deployment", str(tmp_path / "none.json"))
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    assert "no deployment record at" in missing.stderr
    other = json.loads(devnet.record_file.read_text())
    other["chain_id"] += 1
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(other))
    chain = _reconcile_cli(devnet, "--deployment", str(wrong))
    assert chain.returncode == 2 and len(chain.stderr.strip().splitlines()) == 1
    assert f"recorded for chain id {other['chain_id']}" in chain.stderr
    code = json.loads(devnet.record_file.read_text())
    engine = code["contracts"]["engine"]
    code["code_hashes"][engine] = "0x" + "00" * 32
    mismatched = tmp_path / "code.json"
    mismatched.write_text(json.dumps(code))
    hashes = _reconcile_cli(devnet, "--deployment", str(mismatched))
    assert hashes.returncode == 2 and len(hashes.stderr.strip().splitlines()) == 1
    assert "engine at" in hashes.stderr


def test_reconcile__before_the_deployment__refused(devnet, artifacts):
    with pytest.raises(ReconcileError, match="before the deployment"):
        reconcile(Node(devnet.node.url), devnet.record, *artifacts, from_block=0)
