"""`ape run govern` on a devnet (real Anvil, the deployment of config/devnet.toml, whose
[governance] table makes a Timelock its only admin): a proposal raising ETH-A's liquidation
penalty and putting redistribution second in the waterfall is queued, refused before its time,
the devnet's clock moved to its eta (`warp`), run, and the whole chain (deployment, hand-over,
proposal, execution) replays in the model with 0 differences; governance's own key is refused
as an admin; proposals cancelled by the proposer and the guardian; a proposal past its window
shown and refused as expired; a proposal judged for what it does (refused, warned), every
mistake named at once; the clock moved on a devnet only; bad input is one line, exit status 2,
nothing sent."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import traceback
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from helpers import script_cli
from live_support import ROOT, free_port, wait_for

from offchain.live.devnet import DEV_CHAIN_ID, KEPT_STATES, devnet_refusal, node_binary
from offchain.live.market import open_vaults
from offchain.live.node import Node
from offchain.live.reconcile import reconcile
from offchain.live.rehearsal import (
    COPY_TRIES,
    RehearsalError,
    failures,
    private_devnet,
    read_verdict,
    rehearse_on_fork,
)
from offchain.live.signers import dev_signer
from offchain.model.errors import Revert
from offchain.model.fixed_point import WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.model.timelock import CANCELLED, EXECUTED
from offchain.sim.scenario.population import VaultPlan, actor_address
from offchain.system import governance
from offchain.testing.specification import Specification, SpecViolation

PROPOSAL = ROOT / "config" / "proposals" / "raise-penalty.toml"  # the shipped example


def _govern(devnet, *args: str, rpc: str = "", record: str = "") -> subprocess.CompletedProcess:
    """`ape run govern ARGS` on the devnet (`rpc`, `record`: another node, another record)."""
    return subprocess.run(
        ["ape", "run", "govern", *args]
        + ["--rpc", rpc or devnet.node.url, "--deployment", record or str(devnet.record_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def _govern_here(devnet, *args: str) -> subprocess.CompletedProcess:
    """`_govern` in this process (click's runner): the same command, output and exit status,
    without starting Ape for each (~5 s of CPU apiece). The bad-input tables run here; the test
    of several mistakes at once keeps the subprocess. An exception the command let escape is
    written to stderr as its traceback, as the subprocess would print it."""
    where = ["--rpc", devnet.node.url, "--deployment", str(devnet.record_file)]
    result = CliRunner(mix_stderr=False).invoke(script_cli("govern"), [*args, *where])
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(list(args), result.exit_code, result.output, stderr)


def _one_line_exit_2(out: subprocess.CompletedProcess, message: str) -> None:
    assert out.returncode == 2, out.stdout + out.stderr
    errors = [x for x in out.stderr.splitlines() if x.startswith("govern:")]
    assert len(errors) == 1 and message in errors[0], out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def _head(devnet) -> dict:
    return devnet.chain.rpc("eth_getBlockByNumber", ["latest", False])


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
    # the devnet's clock moved to the eta, as its user moves it
    eta = chain.view(d.timelock, "proposals", 1)[1]
    left = eta - int(_head(devnet)["timestamp"], 16)  # (the vaults' blocks since the proposal)
    out = _govern(devnet, "warp", "1")
    assert out.returncode == 0, out.stdout + out.stderr
    moved = f"{left // 3600} h {left % 3600 // 60} min"
    assert out.stdout.startswith(f"the devnet's clock moved {moved} on: block "), out.stdout
    assert int(_head(devnet)["timestamp"], 16) == eta
    out = _govern(devnet, "execute", "1")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "proposal 1 executed (2 calls)" in out.stdout
    assert chain.view(d.liquidator, "penalty", t.type_id) == 115 * WAD // 100
    assert tuple(chain.view(d.backstop, "get_waterfall")) == (1, 4, 2, 3)
    _one_line_exit_2(_govern(devnet, "execute", "1"), "proposal 1 is executed: nothing to run")
    shown = _govern(devnet, "show")
    assert shown.returncode == 0, shown.stderr
    assert "proposal 1: executed" in shown.stdout
    # each call in the config's names and units, as `propose` printed them
    assert (
        "  Liquidator.configure_type: collateral.ETH-A.liquidation_penalty = 1.15, "
        "collateral.ETH-A.auction_cap = 10000000\n"
        f"  Backstop.set_waterfall: backstop.waterfall = {reordered}\n"
    ) in shown.stdout
    report = reconcile(Node(devnet.node.url), devnet.record, *artifacts)
    assert report.differences == [], "\n".join(report.lines())
    assert report.kinds["Timelock.execute"] == 1 and report.kinds["Timelock.propose"] == 1


def _tables(text: str) -> list[tuple[str, list[str]]]:
    """Each markdown table of `text`: (its heading row, its rows)."""
    lines, out, k = text.splitlines(), [], 0
    while k < len(lines):
        if lines[k].startswith("|") and k + 1 < len(lines) and lines[k + 1].startswith("|---"):
            head, k = lines[k], k + 2
            rows = []
            while k < len(lines) and lines[k].startswith("|"):
                rows.append(lines[k])
                k += 1
            out.append((head, rows))
        else:
            assert not lines[k].startswith("|"), f"a table row without a heading: {lines[k]}"
            k += 1
    return out


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


@pytest.mark.slow
def test_govern__docs_flow_beside_a_market_session__rehearsed_while_it_runs_then_executed(
    devnet,
):
    """docs/governance.md's four commands on a devnet with a market session (issue 74): propose,
    show, rehearse with the default days while `ape run market` (and blocks in the keepers'
    place) moves the devnet on by more than the 64 blocks whose state it keeps (a fork of its
    head lost that state midway), execute after the eta. The book with may-2021's actors'
    draws exceeds ETH-A's debt ceiling: the day runs, its ceiling raised and said so before any
    day runs. No traceback; every table of the report filled."""
    chain, d, t = devnet.chain, devnet.d, devnet.eth
    url, record = devnet.node.url, str(devnet.record_file)
    # seven vaults of 2.1 million at a collateral ratio of 4 (safe through the session's crash),
    # beside governance's (the pool's seed, 2 million) and the session's 20: about 19 million,
    # which with may-2021's actors' draws (5.3 million) exceeds ETH-A's debt ceiling of 20 million
    debt = 2_100_000 * WAD
    whales = [VaultPlan(actor_address("whale", i), debt * 4 // 2_000, debt) for i in range(7)]
    open_vaults(chain, d, t, whales)
    outputs = []
    queued = _govern(devnet, "propose", str(PROPOSAL))
    shown = _govern(devnet, "show")
    outputs += [queued, shown]
    assert queued.returncode == 0 and "proposal 1 queued" in queued.stdout, queued.stderr
    assert shown.returncode == 0 and "proposal 1: queued" in shown.stdout, shown.stderr
    # the market session, as `make market` runs it; no bots run here (their checkpoints' folder
    # is empty), so its bars are played at --speed: three 10-minute bars a second at most
    market_log = devnet.tmp / "market.txt"
    (devnet.tmp / "no-bots").mkdir()
    market_args = ["--scenario", "black-thursday-2020", "--vaults", "20", "--speed", "2000"]
    market_args += ["--checkpoints", str(devnet.tmp / "no-bots")]
    with open(market_log, "w") as log:
        market = subprocess.Popen(
            ["ape", "run", "market", *market_args, "--rpc", url, "--deployment", record],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    rehearse_log = devnet.tmp / "rehearse.txt"
    report = devnet.tmp / "rehearsal"
    rehearse: subprocess.Popen | None = None
    try:
        wait_for(lambda: "bar 1/" in market_log.read_text(), 600, "the market's bars",
                 market_log.read_text)  # fmt: skip
        with open(rehearse_log, "w") as log:
            rehearse = subprocess.Popen(
                ["ape", "run", "govern", "rehearse", "1", "--out", str(report), "--rpc", url,
                 "--deployment", record],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        job = rehearse
        wait_for(lambda: "taking the devnet" in rehearse_log.read_text() or job.poll() is not None,
                 600, "the rehearsal's start", rehearse_log.read_text)  # fmt: skip
        started = devnet.block()  # the devnet's head as the rehearsal takes it
        # the blocks `make keepers`' bots mine between the market's (this test runs none), at
        # once: the devnet moves on by twice the 64 blocks whose state it keeps as the
        # rehearsal takes it (the market alone mines about 2 blocks a bar here, a bar a
        # second; a fork of its head failed to start: "failed to create genesis")
        node = Node(url)
        for _ in range(2 * KEPT_STATES):
            node.rpc("evm_mine")
        # the crash days begin once the proposal has run on the private node and the model
        # has replayed the chain: by then the devnet has moved on past the state it kept
        wait_for(
            lambda: "Anvil and the model" in rehearse_log.read_text() or job.poll() is not None,
            1800, "the rehearsal's crash days", rehearse_log.read_text,
        )  # fmt: skip
        moved = devnet.block() - started
        stdout, _ = rehearse.communicate(timeout=3600)
        assert market.wait(timeout=1800) == 0, market_log.read_text()[-3000:]
    finally:
        for process in (market, rehearse):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    said = rehearse_log.read_text()
    assert rehearse is not None and rehearse.returncode == 0, stdout + said[-3000:]
    assert "proposal 1 rehearsed: passed" in stdout
    assert moved > KEPT_STATES, (moved, said)
    # what the days need is said before any day runs
    raised = "may-2021: Raised for this day (before and after): ETH-A's debt ceiling from "
    assert said.index(raised) < said.index("Anvil and the model"), said
    text = (report / "report.md").read_text()
    assert f"The devnet at {url}, copied at its block" in text
    assert "0 differences." in text and "all hold." in text
    for day in ("black-thursday-2020", "may-2021"):
        section = text.split(f"### {day}")[1].split("### ")[0]
        assert "- before: Anvil against the model, 0 differences" in section, section
        assert "- after: Anvil against the model, 0 differences" in section, section
        assert "| insolvency |" in section
    may = text.split("### may-2021")[1]
    assert "Raised for this day (before and after): ETH-A's debt ceiling from 20,000,000 to" in may
    # every table holds what its heading promises: rows, each cell filled
    tables = _tables(text)
    assert len(tables) >= 5, text  # the changes, each day's figures and its sweep
    for head, rows in tables:
        assert rows, f"an empty table: {head}"
        for row in rows:
            cells = _cells(row)
            assert len(cells) == len(_cells(head)) and all(cells), (head, row)
    # to the eta (the market session may have passed it: then nothing is moved)
    warped = _govern(devnet, "warp", "1")
    outputs.append(warped)
    assert warped.returncode == 0, warped.stdout + warped.stderr
    executed = _govern(devnet, "execute", "1")
    outputs.append(executed)
    assert executed.returncode == 0, executed.stdout + executed.stderr
    assert "proposal 1 executed (2 calls)" in executed.stdout
    assert chain.view(d.liquidator, "penalty", t.type_id) == 115 * WAD // 100
    everything = [o.stdout + o.stderr for o in outputs] + [stdout, said, market_log.read_text()]
    assert not [x for x in everything if "Traceback" in x]


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


def test_private_devnet__two_genesis_blocks_and_a_state_ahead_of_its_blocks__copied_right(
    devnet, monkeypatch
):
    """The copy of an Anvil devnet: a devnet started from its state file dumps two genesis
    blocks (its own and the file's), and the copy keeps the one the devnet serves; a dump whose
    state is not its head block's (as when a block is mined while it is dumped) is dumped
    again, and after COPY_TRIES such dumps the rehearsal gives up in one line."""
    dumps: list[dict] = []
    honest = Node.rpc

    def dumping(self, method, params=None):
        answer = honest(self, method, params)
        if method != "anvil_dumpState":
            return answer
        document = json.loads(gzip.decompress(bytes.fromhex(answer[2:])))
        dumps.append(document)
        if len(dumps) in spoiled:  # an account's balance a block ahead of the dumped blocks
            account = document["accounts"][devnet.d.governance.lower()]
            account["balance"] = hex(int(account["balance"], 16) + 1)
        return "0x" + gzip.compress(json.dumps(document).encode()).hex()

    monkeypatch.setattr(Node, "rpc", dumping)
    spoiled = {1}
    with private_devnet(devnet.node.url) as (copy, head, taken):
        assert taken == "copied" and head == devnet.block()
        ours, theirs = Node(copy.url), Node(devnet.node.url)
        for number in (0, 1, head):
            mine, node = ours.block(number), theirs.block(number)
            assert mine is not None and node is not None and mine["hash"] == node["hash"]
        address = devnet.d.governance
        assert ours.balance(address) == theirs.balance(address)
    assert len(dumps) == 2
    geneses = [b for b in dumps[0]["blocks"] if int(b["header"]["number"], 16) == 0]
    assert len(geneses) == 2  # the devnet's own and its state file's
    spoiled = set(range(1, 10))
    dumps.clear()
    with pytest.raises(RehearsalError, match=f"changed while it was copied, {COPY_TRIES} times"):
        with private_devnet(devnet.node.url):
            pass
    assert len(dumps) == COPY_TRIES


@pytest.mark.parametrize(
    "text, message",
    [
        ("[collateral.ETH-A]\ncolour = 1\n", "collateral.ETH-A.colour: unknown key"),
        ('[collateral.ETH-A]\nliquidation_penalty = "2.5"\n', "must be >= 1 and <= 2"),
        ("[system]\nglobal_debt_ceiling = 1e400\n", "is out of range (too large"),
        # valid values that turn off what the system needs, or change nothing
        ("[backstop]\nwaterfall = []\n", "backstop.waterfall: [] turns every loss layer off"),
        ('[collateral.ETH-A]\nauction_cap = "0"\n', "auction_cap: 0 lets no auction of the"),
        ('[collateral.ETH-A]\nliquidation_penalty = "1.13"\n', "proposes no change: each key"),
    ],
)
def test_govern__bad_proposal__one_line_exit_2_nothing_sent(devnet, text, message):
    proposal = devnet.tmp / "bad.toml"
    proposal.write_text(text)
    nonce = Node(devnet.node.url).nonce(devnet.d.governance)
    _one_line_exit_2(_govern_here(devnet, "propose", str(proposal)), message)
    assert Node(devnet.node.url).nonce(devnet.d.governance) == nonce
    assert devnet.chain.view(devnet.d.timelock, "proposal_count") == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (("execute", "9"), "proposal 9 is not queued: nothing to run"),
        (("execute", "0"), "0 is not a proposal id (a whole number from 1)"),
        (("execute", "-1"), "'ID': -1 is not a proposal id (a whole number from 1)"),
        (("execute", "-1", "--account", "dev:0"), "'ID': -1 is not a proposal id"),
        (("execute", "two"), "'ID': two is not a proposal id (a whole number from 1)"),
        (("cancel", "-3"), "'ID': -3 is not a proposal id"),
        (("cancel", "9"), "proposal 9 is not queued: nothing to cancel"),
        (("cancel", "1", "--account", "nobody-here"), "--account: "),
        (("warp", "1.5"), "'ID': 1.5 is not a proposal id"),
        (("warp", "9"), "proposal 9 is not queued: nothing to wait for"),
        (("warp", "1", "--account", "dev:0"), "No such option"),
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
    _one_line_exit_2(_govern_here(devnet, *args), message)
    assert Node(devnet.node.url).nonce(devnet.d.governance) == nonce


def _errors(out: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in out.stdout + out.stderr
    return [x for x in out.stderr.splitlines() if x.startswith("govern:")]


def test_govern__several_mistakes__every_one_named_at_once_nothing_sent(devnet):
    """A wrong account, a key no proposal sets, a value out of bounds and a value that turns off
    every loss layer: all four named in one run, nothing sent."""
    proposal = devnet.tmp / "bad.toml"
    proposal.write_text(
        '[collateral.ETH-A]\ncolour = 1\nliquidation_penalty = "2.5"\n[backstop]\nwaterfall = []\n'
    )
    stranger = dev_signer(3).address
    nonces = [Node(devnet.node.url).nonce(a) for a in (devnet.d.governance, stranger)]
    out = _govern(devnet, "propose", str(proposal), "--account", "dev:3")
    assert out.returncode == 2, out.stdout + out.stderr
    assert _errors(out) == [
        f"govern: --account dev:3 ({stranger}) is not the Timelock's proposer "
        f"{devnet.d.governance}",
        f"govern: {proposal}: collateral.ETH-A.colour: unknown key",
        f"govern: {proposal}: collateral.ETH-A.liquidation_penalty: must be >= 1 and <= 2, "
        "got '2.5'",
        f"govern: {proposal}: backstop.waterfall: [] turns every loss layer off: a loss would "
        "stay unbacked debt that nothing pays, the stablecoin short of its backing until a "
        "later proposal restores a layer",
    ]
    assert [Node(devnet.node.url).nonce(a) for a in (devnet.d.governance, stranger)] == nonces
    assert devnet.chain.view(devnet.d.timelock, "proposal_count") == 0


def test_govern__propose_warned__queued_with_a_line_each(devnet):
    """A key already in force beside a change, and a global ceiling below every type's and the
    debt drawn: queued, each warned in one line on stderr."""
    proposal = devnet.tmp / "warned.toml"
    proposal.write_text(
        '[collateral.ETH-A]\nliquidation_penalty = "1.13"\ndust = "3_000"\n'
        '[system]\nglobal_debt_ceiling = "1"\n'
    )
    out = _govern(devnet, "propose", str(proposal))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "proposal 1 queued" in out.stdout
    warnings = _errors(out)
    assert len(warnings) == 2, out.stderr
    assert warnings[0] == (
        f"govern: warning: {proposal}: collateral.ETH-A.liquidation_penalty = 1.13 is the value "
        "in force: this key changes nothing"
    )
    assert warnings[1].startswith(
        f"govern: warning: {proposal}: system.global_debt_ceiling = 1 is below every type's "
        "ceiling (ETH-A 20000000, WBTC-A 10000000): theirs can no longer bind; below the debt "
        "drawn now (about "
    )


def test_govern__propose__a_missing_file_on_a_dead_node__the_file_named_first(devnet):
    dead = f"http://127.0.0.1:{free_port()}"
    out = _govern(devnet, "propose", "no-such-proposal.toml", rpc=dead)
    assert out.returncode == 2, out.stdout + out.stderr
    assert _errors(out) == [
        "govern: no-such-proposal.toml: cannot read (No such file or directory)",
        f"govern: no JSON-RPC node answers at {dead} (start one: make devnet)",
    ]
    for command in ("cancel", "warp", "execute"):
        _one_line_exit_2(_govern(devnet, command, "1", rpc=dead), "no JSON-RPC node answers")


def test_govern__cancel__by_the_proposer_or_the_guardian__a_queued_proposal_only(devnet):
    """Two proposals of the penalty; a third, queued by the test as governance, makes dev:5 the
    guardian and runs. The proposer cancels the first, the guardian the second; a fourth, a
    rescue (the guardian set to nobody), only the proposer; a stranger, the guardian on the
    rescue, an id not queued, a cancelled or an executed proposal: one line, exit 2, nothing
    sent."""
    chain, d = devnet.chain, devnet.d
    second = devnet.tmp / "penalty-114.toml"
    second.write_text('[collateral.ETH-A]\nliquidation_penalty = "1.14"\n')
    for path in (PROPOSAL, second):
        out = _govern(devnet, "propose", str(path))
        assert out.returncode == 0, out.stdout + out.stderr
    stranger, guardian = dev_signer(3).address, dev_signer(5).address
    _one_line_exit_2(
        _govern(devnet, "cancel", "1", "--account", "dev:5"),
        f"--account dev:5 ({guardian}) is neither the Timelock's proposer {d.governance} nor its "
        "guardian (nobody)",
    )
    # the guardian's role, through the queue (a call `propose` does not build)
    calls = [(d.timelock, chain.calldata(d.timelock, "set_guardian", guardian))]
    chain.transact(d.timelock, "propose", d.governance, calls)
    assert _govern(devnet, "warp", "3").returncode == 0
    chain.sync()
    chain.transact(d.timelock, "execute", d.governance, 3, calls)
    assert chain.view(d.timelock, "guardian") == guardian
    nonce = Node(devnet.node.url).nonce(stranger)
    _one_line_exit_2(
        _govern(devnet, "cancel", "1", "--account", "dev:3"),
        f"--account dev:3 ({stranger}) is neither the Timelock's proposer {d.governance} nor its "
        f"guardian ({guardian})",
    )
    assert Node(devnet.node.url).nonce(stranger) == nonce
    out = _govern(devnet, "cancel", "1")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout == f"proposal 1 cancelled by the proposer {d.governance}\n"
    out = _govern(devnet, "cancel", "2", "--account", "dev:5")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout == f"proposal 2 cancelled by the guardian {guardian}\n"
    # a rescue (the guardian's role taken away): the guardian may not cancel it, the proposer may
    nobody = [(d.timelock, chain.calldata(d.timelock, "set_guardian", ZERO_ADDRESS))]
    chain.transact(d.timelock, "propose", d.governance, nobody)
    nonce = Node(devnet.node.url).nonce(guardian)
    _one_line_exit_2(
        _govern(devnet, "cancel", "4", "--account", "dev:5"),
        "proposal 4 is a rescue (each of its calls takes the guardian's power away or undoes a "
        "stop): only the proposer cancels it",
    )
    assert Node(devnet.node.url).nonce(guardian) == nonce
    assert _govern(devnet, "cancel", "4").returncode == 0
    assert [chain.view(d.timelock, "proposals", i)[3] for i in (1, 2, 3, 4)] == [
        CANCELLED,
        CANCELLED,
        EXECUTED,
        CANCELLED,
    ]
    logs = chain.rpc("eth_getLogs", [{"fromBlock": "0x0", "address": d.timelock}])
    events = [chain._decode_log(log) for log in logs]
    assert [e.args["proposal_id"] for e in events if e.name == "Cancelled"] == [1, 2, 4]
    nonce = Node(devnet.node.url).nonce(d.governance)
    _one_line_exit_2(_govern(devnet, "cancel", "1"), "proposal 1 is cancelled: nothing to cancel")
    _one_line_exit_2(_govern(devnet, "cancel", "3"), "proposal 3 is executed: nothing to cancel")
    _one_line_exit_2(_govern(devnet, "execute", "2"), "proposal 2 is cancelled: nothing to run")
    assert Node(devnet.node.url).nonce(d.governance) == nonce
    shown = _govern(devnet, "show")
    assert shown.returncode == 0, shown.stderr
    assert "proposal 1: cancelled" in shown.stdout and "proposal 2: cancelled" in shown.stdout
    assert "proposal 3: executed" in shown.stdout
    assert f"  Timelock.set_guardian({guardian})\n" in shown.stdout  # not a proposal's key


def test_govern__cancel__reverted_once_sent__one_line_exit_1(devnet, monkeypatch):
    """The proposal cancelled by another between `cancel`'s check and its transaction (the
    check skipped here): the chain's revert is one line, exit status 1, as `execute`'s is."""
    out = _govern(devnet, "propose", str(PROPOSAL))
    assert out.returncode == 0, out.stdout + out.stderr
    devnet.chain.transact(devnet.d.timelock, "cancel", devnet.d.governance, 1)
    cli = script_cli("govern")
    queued = (b"", 0, 0, False, 0)  # (digest, eta, expires, rescue, now): as if still queued
    monkeypatch.setitem(cli.commands["cancel"].callback.__globals__, "_queued", lambda *a: queued)
    where = ["--rpc", devnet.node.url, "--deployment", str(devnet.record_file)]
    result = CliRunner().invoke(cli, ["cancel", "1", *where])
    assert result.exit_code == 1, (result.output, result.exception)
    lines = [x for x in result.output.splitlines() if x.startswith("govern:")]
    assert lines == ["govern: cancel 1: timelock: not queued"], result.output


def test_govern__warp__the_devnet_clock_to_the_eta_kept_across_a_restart(devnet):
    """`warp` mines one block at the eta: `execute` is no longer early (it asks for the
    rehearsal next); the block is in the devnet's state file after a restart; a second `warp`
    moves nothing. Past the window (the test's own clock move), the proposal is expired in
    `show`, and refused by `execute`, `cancel` and `warp`."""
    chain, d = devnet.chain, devnet.d
    out = _govern(devnet, "propose", str(PROPOSAL))
    assert out.returncode == 0, out.stdout + out.stderr
    _, eta, expires, _, _ = chain.view(d.timelock, "proposals", 1)
    _one_line_exit_2(_govern(devnet, "execute", "1"), "proposal 1 runs from")
    before = int(_head(devnet)["number"], 16)
    out = _govern(devnet, "warp", "1")
    assert out.returncode == 0, out.stdout + out.stderr
    head = _head(devnet)
    assert int(head["timestamp"], 16) == eta and int(head["number"], 16) == before + 1
    assert out.stdout == (
        f"the devnet's clock moved 6 h 0 min on: block {before + 1} at {_stamp(eta)}, "
        "proposal 1's eta\n  next: ape run govern execute 1 (once rehearsed)\n"
    )
    devnet.node.stop()
    devnet.node.start()
    assert _head(devnet) == head
    out = _govern(devnet, "warp", "1")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.endswith("(passed): the clock is not moved\n")
    assert _head(devnet) == head
    # past the time checks: the rehearsal is what execute asks for now
    _one_line_exit_2(_govern(devnet, "execute", "1"), "proposal 1 was never rehearsed")
    devnet.fresh_chain().set_next_block_time(expires)
    devnet.chain.rpc("evm_mine", [])
    shown = _govern(devnet, "show")
    assert shown.returncode == 0, shown.stderr
    assert "proposal 1: expired, " in shown.stdout
    for command, what in (("execute", "run"), ("cancel", "cancel"), ("warp", "wait for")):
        out = _govern(devnet, command, "1")
        assert out.returncode == 2, out.stdout + out.stderr
        assert _errors(out) == [
            f"govern: proposal 1 expired at {_stamp(expires)} (passed): it can never run; "
            f"nothing to {what}"
        ]


def _stamp(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@pytest.mark.parametrize(
    "client, chain_id, why",
    [
        ("anvil/v1.4.3", DEV_CHAIN_ID, None),
        ("HardhatNetwork/2.29.1/@nomicfoundation/edr/0.3.8", DEV_CHAIN_ID, None),
        ("Geth/v1.14.11-stable/linux-amd64/go1.23.2", DEV_CHAIN_ID,
         "runs 'Geth', no devnet (Anvil or Hardhat Network)"),
        ("anvil/v1.4.3", 1, "is chain id 1, no devnet (a devnet's is 31337)"),
    ],
)  # fmt: skip
def test_devnet_refusal__anvil_or_hardhat_of_the_devnets_chain_id(client, chain_id, why):
    assert devnet_refusal(client, chain_id) == why


def test_govern__warp_and_rehearse__refused_on_an_anvil_that_is_no_devnet(devnet):
    """The devnet's chain on an Anvil of chain id 1 (as a fork of mainnet is), its record saying
    so: `warp` and `rehearse` are refused in one line; its clock is not moved."""
    out = _govern(devnet, "propose", str(PROPOSAL))
    assert out.returncode == 0, out.stdout + out.stderr
    devnet.node.stop()  # its state written
    record = json.loads(devnet.record_file.read_text())
    record["chain_id"] = 1
    other = devnet.tmp / "chain-1.json"
    other.write_text(json.dumps(record))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [node_binary(), "--port", str(port), "--chain-id", "1", "--hardfork", "prague"]
    command += ["--load-state", str(devnet.node.state_file)]
    node = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        Node(url, timeout=10, patience=30).chain_id()
        head = Node(url).block("latest")
        for args, end in (
            (("warp", "1"), "its clock is not moved"),
            (("rehearse", "1", "--days", "none", "--out", str(devnet.tmp / "r")), "not forked"),
        ):
            _one_line_exit_2(
                _govern(devnet, *args, rpc=url, record=str(other)),
                f"govern: {url} is chain id 1, no devnet (a devnet's is 31337): {end}",
            )
        assert Node(url).block("latest") == head
    finally:
        node.kill()
        node.wait()
