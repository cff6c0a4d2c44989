"""Gas in the lab (issue 63: gas is part of the twin's contract with the chain). A keeper's action
is charged the gas its strategy planned (strategies/gas_costs.py, a liquidation batch vault by
vault by the path each takes) and refused, as a node would, when that is over the limit it is
sent with or its limit over what its block has left (run/sending.py); the chain run sends each
liquidation batch with the limit its keeper sized, so a figure short of the chain's gas would be
a difference at reconciliation. A crash under a size margin (docs/size-margin.md's: 25,000 BUSD,
+10% per threshold, at most +50%), whose liquidations include size cuts, replays on Anvil and in
the model with 0 differences, refusals included."""

from __future__ import annotations

import json

import pytest

from offchain.model.fixed_point import WAD
from offchain.sim.results.reconcile import reconcile
from offchain.sim.run.driver import simulate
from offchain.sim.run.replay import replay
from offchain.sim.run.sending import OVER_BLOCK_GAS, OVER_TX_GAS, REFUSED, Sending
from offchain.sim.scenario.load import load_scenario
from offchain.sim.strategies.actions import Action
from offchain.sim.strategies.gas_costs import LIQUIDATION_GAS, batch_limit

SIZE_MARGIN = {"size_threshold": 25_000, "size_slope": "0.1", "size_cap": "0.5"}
# a block that holds one batch of 40 vaults without a size cut (6.13M) and not two
BLOCK = 8_000_000


def _scenario(count: int, block: int):
    return load_scenario(
        "synthetic-crash",
        overrides={
            "protocol": {"collateral_overrides": SIZE_MARGIN},
            "vaults": {"count": count, "debt_median": "20_000"},
            "market": {"block_gas_limit": block},
        },
    )


@pytest.fixture(scope="module")
def sized():
    """The synthetic crash with 200 vaults under the size margin, blocks of 8M gas, on Anvil and
    in the model."""
    scenario = _scenario(200, BLOCK)
    model = simulate(scenario, "model", full_check_every=6)
    return replay(scenario, model=model)


def _cuts(result) -> int:
    """Liquidations that left their vault with debt: size cuts (the caps are far above any
    vault here, so none is a cap's partial)."""
    events = result.tables["events"]
    cuts = 0
    for args in events[events["event"] == "Liquidated"]["args"]:
        a = args if isinstance(args, dict) else json.loads(args)
        vaults = result.tables["vaults"]
        start = vaults.loc[vaults["owner"] == a["owner"], "debt_start"]
        if len(start) and int(a["normalized_debt"]) < float(start.iloc[0]) * WAD * 0.999:
            cuts += 1
    return cuts


def test_size_margin_crash__chain_and_model_agree_to_the_wei__size_cuts_and_refusals_included(
    sized,
):
    chain, r = sized.checked
    assert r.diffs == [] and r.diff_count == 0
    assert reconcile(chain, sized.model).ok
    # size cuts happened, each batch within its limit on chain: no transaction ran out of gas
    # and the Liquidator's guard never fired (SkippedForGas would be a difference)
    assert _cuts(chain) > 0
    events = chain.tables["events"]
    assert not (events["event"] == "SkippedForGas").any()
    txs = chain.tables["txs"]
    assert not ((txs["function"] == "liquidate_many") & (txs["status"] == "reverted")).any()
    # blocks of 8M gas: the keeper sized every batch within a block (its cuts' batches hold
    # fewer vaults than with 10M), so nothing was refused, the same on both
    refused = txs[txs["status"] == REFUSED]
    assert len(refused) == 0
    assert not (sized.model.tables["txs"]["status"] == REFUSED).any()
    table = chain.tables["keeper_actions"]
    keeper = table[table["role"] == "liquidation_keeper"].iloc[0]
    assert keeper["refused_for_gas"] == 0
    assert keeper["planned"] == keeper["sent"]


def test_no_block_limit__nothing_refused__every_unsafe_vault_in_the_bar_it_is_seen():
    """Without a block limit (the default, as the lab's Anvil) nothing is refused; the keeper
    liquidates every vault it sees unsafe (at the base ratio or at its size) within the bar
    (the blocks of a bar are a second apart; its bars are 10 minutes), size cuts included."""
    result = simulate(_scenario(200, 0), "model", full_check_every=None)
    txs = result.tables["txs"]
    assert not (txs["status"] == REFUSED).any()
    vaults = result.tables["vaults"]
    unsafe = vaults[vaults["unsafe_since"].notna()]
    assert len(unsafe) > 100 and unsafe["liquidated_at"].notna().all()
    assert ((unsafe["liquidated_at"] - unsafe["unsafe_since"]) < 600).all()
    assert _cuts(result) > 0


class _Recorder:
    """What Sending needs of the run's recorder: its queue and its dropped rows."""

    def __init__(self):
        self.pending: list[tuple] = []
        self.rows: list[tuple] = []

    def queue(self, *args, **kwargs):
        self.pending.append((args, kwargs))

    def block_position(self) -> int:
        return len(self.pending)

    def dropped(self, t, actor, contract, function, why, status="dropped"):
        self.rows.append((actor, function, why, status))


def _batch(vaults: int, limit: int) -> Action:
    owners = [f"0x{i:040x}" for i in range(vaults)]
    return Action(
        "liquidation_keeper",
        "0xkeeper",
        "0xliquidator",
        "liquidate_many",
        (b"ETH-A", owners, "0xkeeper"),
        tuple(("vault", o) for o in owners),
        0,
        limit,
        (1,) * vaults,
        (LIQUIDATION_GAS,) * vaults,
    )


def test_sending__over_its_own_limit__refused__never_queued():
    """A batch whose planned gas is over the limit it would be sent with (a keeper that sized it
    by count, say): the chain would run it out of gas or skip vaults; the lab refuses it, names
    why and sends nothing."""
    scenario = _scenario(10, BLOCK)
    rec = _Recorder()
    sending = Sending(scenario, rec, {"gas_bids": [], "deferred": []}, [0], [2000 * WAD], lambda: 0)  # type: ignore[arg-type]
    sending.act(_batch(40, 130_000 + 40 * LIQUIDATION_GAS - 1))
    assert rec.pending == [] and rec.rows == [
        ("liquidation_keeper", "liquidate_many", OVER_TX_GAS, REFUSED)
    ]
    # sized as the keeper sizes it: queued, with its limit (a second one too: the next of the
    # bar's blocks holds it); one whose limit no block holds is refused
    limit = batch_limit([LIQUIDATION_GAS] * 40)
    sending.act(_batch(40, limit))
    sending.act(_batch(40, limit))
    assert len(rec.pending) == 2 and rec.pending[0][1]["gas_limit"] == limit
    sending.act(_batch(40, BLOCK + 1))
    assert len(rec.pending) == 2
    assert rec.rows[-1] == ("liquidation_keeper", "liquidate_many", OVER_BLOCK_GAS, REFUSED)
