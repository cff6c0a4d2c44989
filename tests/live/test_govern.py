"""`ape run govern` on a devnet (real Anvil, the deployment of config/devnet.toml, whose
[governance] table makes a Timelock its only admin): a proposal raising ETH-A's liquidation
penalty and putting redistribution second in the waterfall is queued, refused before its time,
run after the delay, and the whole chain (deployment, hand-over, proposal, execution) replays
in the model with 0 differences; governance's own key is refused as an admin; bad input is one
line, exit status 2, nothing sent."""

from __future__ import annotations

import subprocess

import pytest
from live_support import ROOT

from offchain.live.node import Node
from offchain.live.reconcile import reconcile
from offchain.model.errors import Revert
from offchain.model.fixed_point import WAD

PROPOSAL = ROOT / "config" / "proposals" / "raise-penalty.toml"  # the shipped example


def _govern(devnet, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ape", "run", "govern", *args]
        + ["--rpc", devnet.node.url, "--deployment", str(devnet.record_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def _one_line_exit_2(out: subprocess.CompletedProcess, message: str) -> None:
    assert out.returncode == 2, out.stdout + out.stderr
    errors = [x for x in out.stderr.splitlines() if x.startswith("govern:")]
    assert len(errors) == 1 and message in errors[0], out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_govern__penalty_and_waterfall__queued_refused_early_executed_and_reconciled(
    devnet, artifacts
):
    chain, d, t = devnet.chain, devnet.d, devnet.eth
    assert d.timelock and chain.view(d.timelock, "delay") == 6 * 3600
    out = _govern(devnet, "propose", str(PROPOSAL))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "proposal 1 queued" in out.stdout
    assert "collateral.ETH-A.liquidation_penalty: 1.13 -> 1.15" in out.stdout
    waterfall = "[fund, stability_pool, debt_auction, redistribution]"
    reordered = "[fund, redistribution, stability_pool, debt_auction]"
    assert f"backstop.waterfall: {waterfall} -> {reordered}" in out.stdout
    # before its time: refused, nothing sent
    nonce = Node(devnet.node.url).nonce(d.governance)
    _one_line_exit_2(_govern(devnet, "execute", "1"), "proposal 1 runs from")
    assert Node(devnet.node.url).nonce(d.governance) == nonce
    # governance's key is no admin: the same change sent directly is refused on chain
    with pytest.raises(Revert, match="authorized: not authorized"):
        chain.transact(d.backstop, "set_waterfall", d.governance, [1])
    assert chain.view(d.liquidator, "penalty", t.type_id) == 113 * WAD // 100
    eta = chain.view(d.timelock, "proposals", 1)[1]
    chain.set_next_block_time(eta)
    chain.rpc("evm_mine", [])
    out = _govern(devnet, "execute", "1")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "proposal 1 executed (2 calls)" in out.stdout
    assert chain.view(d.liquidator, "penalty", t.type_id) == 115 * WAD // 100
    assert tuple(chain.view(d.backstop, "get_waterfall")) == (1, 4, 2, 3)
    _one_line_exit_2(_govern(devnet, "execute", "1"), "proposal 1 is executed: nothing to run")
    shown = _govern(devnet, "show")
    assert shown.returncode == 0, shown.stderr
    assert "proposal 1: executed" in shown.stdout
    assert "Liquidator.configure_type(" in shown.stdout
    report = reconcile(Node(devnet.node.url), devnet.record, *artifacts)
    assert report.differences == [], "\n".join(report.lines())
    assert report.kinds["Timelock.execute"] == 1 and report.kinds["Timelock.propose"] == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("[collateral.ETH-A]\ncolour = 1\n", "collateral.ETH-A.colour: unknown key"),
        ('[collateral.ETH-A]\nliquidation_penalty = "2.5"\n', "must be >= 1 and <= 2"),
        ("[system]\nglobal_debt_ceiling = 1e400\n", "is out of range (too large"),
    ],
)
def test_govern__bad_proposal__one_line_exit_2_nothing_sent(devnet, text, message):
    proposal = devnet.tmp / "bad.toml"
    proposal.write_text(text)
    nonce = Node(devnet.node.url).nonce(devnet.d.governance)
    _one_line_exit_2(_govern(devnet, "propose", str(proposal)), message)
    assert Node(devnet.node.url).nonce(devnet.d.governance) == nonce
    assert devnet.chain.view(devnet.d.timelock, "proposal_count") == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (("execute", "9"), "proposal 9 is not queued: nothing to run"),
        (("execute", "0"), "0 is not in the range"),
        (("propose", str(PROPOSAL), "--account", "dev:3"), "is not the Timelock's proposer"),
        (("propose", "no-such-proposal.toml"), "no-such-proposal.toml: cannot read"),
        (("propose", str(PROPOSAL), "--account", "nobody-here"), "--account: "),
        (("show", "--account", "dev:0"), "No such option"),
    ],
)
def test_govern__bad_command_line__one_line_exit_2_nothing_sent(devnet, args, message):
    nonce = Node(devnet.node.url).nonce(devnet.d.governance)
    _one_line_exit_2(_govern(devnet, *args), message)
    assert Node(devnet.node.url).nonce(devnet.d.governance) == nonce
