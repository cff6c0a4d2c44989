"""`ape run govern` on a devnet (real Anvil, the deployment of config/devnet.toml, whose
[governance] table makes a Timelock its only admin): a proposal raising ETH-A's liquidation
penalty and putting redistribution second in the waterfall is queued, refused before its time,
run after the delay, and the whole chain (deployment, hand-over, proposal, execution) replays
in the model with 0 differences; governance's own key is refused as an admin; bad input is one
line, exit status 2, nothing sent."""

from __future__ import annotations

import re
import subprocess

import pytest
from live_support import ROOT

from offchain.live.market import open_vaults
from offchain.live.node import Node
from offchain.live.reconcile import reconcile
from offchain.live.rehearsal import failures, read_verdict, rehearse_on_fork
from offchain.model.errors import Revert
from offchain.model.fixed_point import WAD
from offchain.system import governance
from offchain.testing.specification import Specification, SpecViolation

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
    # the live book: 6 vaults of ETH-A at a collateral ratio of 1.6 (and governance's own)
    open_vaults(chain, d, t, devnet.plans(6, 1_600_000))
    head = devnet.block()
    report = devnet.tmp / "rehearsal"
    out = _govern(devnet, "rehearse", "1", "--out", str(report))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "proposal 1 rehearsed: passed" in out.stdout
    assert devnet.block() == head  # the devnet untouched: the fork ran it
    assert chain.view(d.liquidator, "penalty", t.type_id) == 113 * WAD // 100
    text = (report / "report.md").read_text()
    assert "| collateral.ETH-A.liquidation_penalty | 1.13 | 1.15 | in force |" in text
    assert "0 differences." in text and "all hold." in text
    # the specification the fuzz checks on every transaction ran on the execution
    checks = re.search(r"on the execution \(([\d,]+) checks\): all hold\.", text)
    assert checks is not None and int(checks[1].replace(",", "")) > 0, text
    assert "None of the 8 vaults judged" in text  # and governance's, of each type
    for day in ("black-thursday-2020", "may-2021"):
        section = text.split(f"### {day}")[1].split("###")[0]
        assert "7 vaults of ETH-A" in section
        assert "- before: Anvil against the model, 0 differences" in section
        assert "- after: Anvil against the model, 0 differences" in section
        assert "| insolvency |" in section and "| paid by redistribution |" in section
        # the sweep around the proposal: the penalty at 1.13 (before) to 1.17, every phase
        sweep = text.split(f"#### The sweep around the proposal ({day})")[1].split("###")[0]
        key = "| collateral.ETH-A.liquidation_penalty |"
        values = ("1.13 (before) | 0 |", "1.14 | 0.5 |", "1.15 (proposed) | 1 |", "1.16 | 1.5 |")
        for value in (*values, "1.17 | 2 |"):
            assert f"{key} {value} 7 |" in sweep, sweep
        assert "Not swept (not a number): backstop.waterfall." in sweep
        # what failed is in the table too: auctions left running, vaults never liquidated
        assert "| auctions running at the end | unsafe vaults not liquidated |" in sweep
    verdict = read_verdict(devnet.record, 1)
    assert verdict is not None and verdict.passed
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


def test_govern__execute__refused_unrehearsed_and_changed_since_its_rehearsal(devnet):
    """Two proposals of the same penalty: neither runs unrehearsed; both are rehearsed (the fork
    alone, --days none); the second runs; the first, rehearsed against 1.13, is refused: the
    penalty is 1.14 now."""
    chain, d, t = devnet.chain, devnet.d, devnet.eth
    second = devnet.tmp / "penalty-114.toml"
    second.write_text('[collateral.ETH-A]\nliquidation_penalty = "1.14"\n')
    for path in (PROPOSAL, second):
        out = _govern(devnet, "propose", str(path))
        assert out.returncode == 0, out.stdout + out.stderr
    eta = chain.view(d.timelock, "proposals", 2)[1]
    chain.set_next_block_time(eta)
    chain.rpc("evm_mine", [])
    _one_line_exit_2(_govern(devnet, "execute", "2"), "proposal 2 was never rehearsed")
    for n in ("1", "2"):
        out = _govern(devnet, "rehearse", n, "--days", "none", "--out", str(devnet.tmp / n))
        assert out.returncode == 0, out.stdout + out.stderr
    out = _govern(devnet, "execute", "2")
    assert out.returncode == 0, out.stdout + out.stderr
    assert chain.view(d.liquidator, "penalty", t.type_id) == 114 * WAD // 100
    _one_line_exit_2(
        _govern(devnet, "execute", "1"),
        "collateral.ETH-A.liquidation_penalty changed on the devnet since its rehearsal",
    )
    assert chain.view(d.liquidator, "penalty", t.type_id) == 114 * WAD // 100


def test_rehearsal__the_execution_breaks_the_specification__the_rehearsal_fails(
    devnet, artifacts, monkeypatch
):
    """The specification runs on the execution's transaction, and on it alone: a specification
    planted to find every transaction broken fails the rehearsal with one line, the execute's
    (the fork's history before it is replayed without the specification)."""
    out = _govern(devnet, "propose", str(PROPOSAL))
    assert out.returncode == 0, out.stdout + out.stderr

    def planted(self, pre, events):
        raise SpecViolation(
            f"{pre.function} from {pre.sender}: specification broken:\n"
            f"planted: {pre.function}, {len(events)} events"
        )

    monkeypatch.setattr(Specification, "after", planted)
    data = governance.read_mapping_of(PROPOSAL)
    run = rehearse_on_fork(devnet.node.url, devnet.record, 1, data, str(PROPOSAL), artifacts)
    found = [x for x in run.invariants if x.startswith("specification: ")]
    assert len(found) == 1 and found[0].startswith("specification: planted: execute,"), found
    assert failures(run) == ["1 invariants broken after execution"]


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
        (("rehearse", "9", "--days", "none"), "proposal 9: no file kept beside the record"),
        (("rehearse", "1", "--days", "june-2022"), "--days: june-2022 is no crash day"),
        (("rehearse", "1", "--proposal", "nothing.toml"), "--proposal: nothing.toml: no such"),
        (("rehearse", "1", "--out", "README.md"), "--out: "),
    ],
)
def test_govern__bad_command_line__one_line_exit_2_nothing_sent(devnet, args, message):
    nonce = Node(devnet.node.url).nonce(devnet.d.governance)
    _one_line_exit_2(_govern(devnet, *args), message)
    assert Node(devnet.node.url).nonce(devnet.d.governance) == nonce
