"""A devnet keeps its chain, genesis block included, across every stop and start (issue 74).

A user's devnet (`make devnet`) went through a market session, a stop, a restart, a proposal, a
failed rehearsal (a second Anvil forking the devnet), a stop and a restart, and came up with
another genesis block: its deployment record (named by the genesis) was not found, and Backstop
was deployed a second time on top of the kept chain, the queued proposal orphaned. The cause:
Anvil, loading a state file, keeps a genesis block of its own (stamped at that start) beside
the file's and dumps both; the devnet wrote that dump as its state file, and the next load took
whichever block 0 came last in it (offchain/live/anvil_state.py). Here: the sequence, on the
devnet's own node (`DevnetNode`, `--prune-history 64`); a state file an older devnet wrote with
such stand-ins, repaired at start; one whose genesis cannot be told, refused; and a kept chain
that holds a deployment no record names, on Anvil and on Hardhat, refused with one line."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from live_support import ROOT, free_port

import offchain.live.deploy as deploy_module
from offchain.backends import ChainBackend
from offchain.backends.anvil import AnvilError
from offchain.backends.base import create_address
from offchain.live.anvil_state import (
    StateFileError,
    block_zeros,
    genesis_of,
    header_hash,
    keep_genesis,
)
from offchain.live.deploy import deploying_marker, ensure_deployment
from offchain.live.devnet import DevnetNode
from offchain.live.hardhat_devnet import HardhatDevnetNode
from offchain.live.market import impersonating, open_vaults, set_price, vault_plans
from offchain.live.node import Node
from offchain.live.record import DeploymentRecord, genesis_hash, load_record, node_record_path
from offchain.live.rehearsal import RehearsalError, failures, rehearse_on_fork
from offchain.live.signers import dev_signer
from offchain.model.timelock import QUEUED
from offchain.system import governance
from offchain.system.config import DEFAULT_CONFIG, load_config
from offchain.testing.specification import Specification, SpecViolation

APE = str(ROOT / ".venv" / "bin" / "ape")
PROPOSAL = ROOT / "config" / "proposals" / "raise-penalty.toml"
ENGINE = create_address(dev_signer(0).address, 0)  # the first contract a devnet deploys


def _ensure(url: str, artifacts: tuple[dict, str], records: Path) -> tuple[DeploymentRecord, bool]:
    return ensure_deployment(
        url, *artifacts, load_config(), DEFAULT_CONFIG, dev_signer(0), dev_signer(1), records
    )


def _geneses(state: Path) -> list[str]:
    """The hashes of the blocks numbered 0 in a state file."""
    return [header_hash(b["header"]) for b in block_zeros(json.loads(state.read_text()))]


def _devnet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [APE, "run", "devnet", *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _one_line(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 2, out.stdout + out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("devnet:")]
    assert len(errors) == 1, out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert "next, in other terminals" not in out.stdout
    return errors[0]


def _copy_devnet(deployed_state: tuple[Path, Path], tmp: Path) -> tuple[Path, Path]:
    """(a copy of the session's devnet state, a records folder with its record)."""
    state, record_file = deployed_state
    mine = tmp / "state.json"
    shutil.copy(state, mine)
    records = tmp / "deployments"
    records.mkdir()
    shutil.copy(record_file, records / record_file.name)
    return mine, records / record_file.name


def test_devnet__market_stop_start_proposal_failed_rehearsal_stop_start__same_chain(
    tmp_path, deployed_state, artifacts, monkeypatch
):
    """The issue's sequence, then more restarts: every start finds the same genesis and the same
    record (nothing deployed again), the state file holds the chain's genesis block and no
    other, and the proposal queued before the rehearsal is still queued."""
    state, record_file = _copy_devnet(deployed_state, tmp_path)
    node = DevnetNode(free_port(), state, log_file=tmp_path / "anvil.log")
    genesis = load_record(record_file).genesis_hash

    def start() -> tuple[DeploymentRecord, ChainBackend]:
        node.start()
        assert genesis_hash(Node(node.url)) == genesis
        record, fresh = _ensure(node.url, artifacts, record_file.parent)
        assert not fresh and record.path == record_file  # found, not deployed again
        chain = ChainBackend(node.url, *artifacts)
        chain.names.update(record.contract_names())
        impersonating(chain)
        return record, chain

    def stop() -> None:
        node.stop()
        assert _geneses(state) == [genesis]  # the chain's block 0, and only it

    try:
        # a restart of the fresh devnet (the session's state), a market step: vaults, a crash
        record, chain = start()
        d = record.deployment()
        t = d.types["ETH-A"]
        open_vaults(chain, d, t, vault_plans(4, t, 1_600_000 * 10**12))
        set_price(chain, d, t, t.config.initial_price * 8 // 10)
        stop()
        # restart (found), a proposal queued
        record, chain = start()
        d = record.deployment()
        config, places = governance.load_proposal(PROPOSAL, record.config_text)
        calls, _ = governance.proposal_calls(chain, d, config, places)
        proposal_id, _ = governance.propose(chain, d, calls)
        assert chain.view(d.timelock, "proposals", proposal_id)[3] == QUEUED
        # rehearsals that fail, on forks of the devnet: one that runs the proposal on its fork
        # (a planted specification fails it), one of a proposal that is not queued
        head = Node(node.url).block_number()
        data = governance.read_mapping_of(PROPOSAL)

        def planted(self, pre, events):
            raise SpecViolation(f"{pre.function}: broken:\nplanted")

        with monkeypatch.context() as m:
            m.setattr(Specification, "after", planted)
            run = rehearse_on_fork(node.url, record, proposal_id, data, str(PROPOSAL), artifacts)
        assert failures(run) == ["1 invariants broken after execution"]
        with pytest.raises(RehearsalError, match="is not queued"):
            rehearse_on_fork(node.url, record, proposal_id + 1, data, str(PROPOSAL), artifacts)
        assert Node(node.url).block_number() == head  # the forks sent nothing to the devnet
        stop()
        # restarts, a block each: the same chain every time, the proposal still queued
        for _ in range(3):
            record, chain = start()
            assert chain.view(d.timelock, "proposals", proposal_id)[3] == QUEUED
            chain.rpc("evm_mine", [])
            stop()
        assert sorted(p.name for p in record_file.parent.iterdir()) == [record_file.name]
    finally:
        node.kill()


def test_state_file_with_anvils_stand_in_geneses__dropped_at_start__the_genesis_kept(
    tmp_path, deployed_state, artifacts
):
    """What an older devnet wrote: Anvil's stand-in geneses beside the chain's, one of them
    last, which Anvil's load takes as block 0 (the chain's genesis changed, its record was not
    found). The start drops them (the chain's is block 1's parent, by its header's hash, which
    is checked here against every block of the node) and the node comes back with its genesis."""
    state, record_file = _copy_devnet(deployed_state, tmp_path)
    data = json.loads(state.read_text())
    (real,) = block_zeros(data)
    for seconds in (7, 3):  # stamped at later starts; the last one listed is what Anvil loads
        stand_in = json.loads(json.dumps(real))
        stand_in["header"]["timestamp"] = hex(int(real["header"]["timestamp"], 16) + seconds)
        data["blocks"].append(stand_in)
    state.write_text(json.dumps(data, separators=(",", ":")))
    assert len(set(_geneses(state))) == 3
    node = DevnetNode(free_port(), state)
    with node:
        assert genesis_hash(Node(node.url)) == load_record(record_file).genesis_hash
        assert node.stand_ins_dropped == 2
        _, fresh = _ensure(node.url, artifacts, record_file.parent)
        assert not fresh
        chain = Node(node.url)
        for b in json.loads(state.read_text())["blocks"]:
            number = int(b["header"]["number"], 16)
            assert header_hash(b["header"]) == chain.block(number)["hash"]  # type: ignore[index]
    assert _geneses(state) == [load_record(record_file).genesis_hash]


def test_state_file_whose_genesis_cannot_be_told__refused_one_line_left_as_it_is(
    tmp_path, deployed_state
):
    state, _ = _copy_devnet(deployed_state, tmp_path)
    data = json.loads(state.read_text())
    (real,) = block_zeros(data)
    real["header"]["extraData"] = "0x01"  # block 1's parent no more
    stand_in = json.loads(json.dumps(real))
    stand_in["header"]["timestamp"] = hex(int(real["header"]["timestamp"], 16) + 5)
    data["blocks"].append(stand_in)
    state.write_text(json.dumps(data))
    before = state.read_bytes()
    with pytest.raises(AnvilError, match="cannot tell its genesis block"):
        DevnetNode(free_port(), state).start()
    line = _one_line(_devnet("--port", str(free_port()), "--state", str(state)))
    assert "2 blocks numbered 0, none of them block 1's parent" in line
    assert line.endswith("left as it is; move it away to start a fresh devnet")
    assert state.read_bytes() == before


def test_anvil_state__stand_ins_cut_out_or_the_state_written_again__the_genesis_told():
    """keep_genesis cuts each stand-in out of Anvil's compact JSON where it stands, and writes
    the state again where it cannot find it (another layout); genesis_of tells the genesis by
    block 1's parent, by the earliest time without a block 1, and refuses what it cannot."""
    header = {
        "parentHash": "0x" + "00" * 32, "sha3Uncles": "0x" + "1d" * 32, "miner": "0x" + "00" * 20,
        "stateRoot": "0x" + "56" * 32, "transactionsRoot": "0x" + "56" * 32,
        "receiptsRoot": "0x" + "56" * 32, "logsBloom": "0x" + "00" * 256, "difficulty": "0x0",
        "number": "0x0", "gasLimit": "0x1c9c380", "gasUsed": "0x0", "timestamp": "0x10",
        "extraData": "0x", "mixHash": "0x" + "00" * 32, "nonce": "0x" + "00" * 8,
        "baseFeePerGas": "0x3b9aca00",
    }  # fmt: skip
    genesis = {"header": header, "transactions": []}
    late = {"header": {**header, "timestamp": "0x20"}, "transactions": []}
    one = {"header": {**header, "number": "0x1", "parentHash": header_hash(header)}}
    state = {"accounts": {}, "blocks": [late, one, genesis, {**late, "transactions": [1]}]}
    assert genesis_of(state) is genesis
    assert genesis_of({"blocks": [late, genesis]}) is genesis  # no block 1: the earliest
    assert genesis_of({"blocks": []}) is None
    with pytest.raises(StateFileError, match="2 blocks numbered 0, none of them block 1's"):
        genesis_of({"blocks": [late, {**late, "transactions": [2]}, one]})
    for text in (json.dumps(state, separators=(",", ":")), json.dumps(state, indent=1)):
        data, dropped = keep_genesis(text.encode(), state, genesis)
        assert dropped == 2 and json.loads(data)["blocks"] == [one, genesis]
    with pytest.raises(ValueError, match="cannot hash: blockAccessListHash"):
        header_hash({**header, "blockAccessListHash": "0x00"})


def test_devnet__kept_chain_with_a_deployment_and_no_record__refused_nothing_deployed(
    tmp_path, deployed_state
):
    """The devnet's state (Backstop deployed on it) started with a records folder that does not
    hold its record: Backstop was deployed a second time over the chain in silence. One line
    now, naming what the chain holds and what to do; nothing sent, nothing written."""
    state, record_file = _copy_devnet(deployed_state, tmp_path)
    (tmp_path / "empty").mkdir()
    before = state.read_bytes()
    out = _devnet(
        "--port", str(free_port()), "--state", str(state), "--records", str(tmp_path / "empty")
    )  # fmt: skip
    line = _one_line(out)
    expected = tmp_path / "empty" / record_file.name
    assert "already holds a Backstop deployment (VaultEngine at " + ENGINE in line
    assert f"but no record of it: {expected} does not exist; put its record there" in line
    assert f"or move {state} away to start a fresh devnet" in line
    assert state.read_bytes() == before
    assert not list((tmp_path / "empty").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deployments", "empty", "state.json"]


def test_devnet_hardhat__replayed_journal_with_a_deployment_and_no_record__refused(
    tmp_path, artifacts
):
    """Hardhat's devnet started on a journal (Backstop deployed on its chain) with an empty
    records folder deployed Backstop again on the replayed chain, in silence (issue 74)."""
    journal = tmp_path / "journal.jsonl"
    node = HardhatDevnetNode(free_port(), journal, log_file=tmp_path / "hardhat.log")
    with node:
        record, fresh = _ensure(node.url, artifacts, tmp_path / "recorded")
        assert fresh and record.core["engine"] == ENGINE
    (tmp_path / "empty").mkdir()
    before = journal.read_bytes()
    out = _devnet(
        "--node", "hardhat", "--port", str(free_port()), "--state", str(journal),
        "--records", str(tmp_path / "empty"),
    )  # fmt: skip
    line = _one_line(out)
    assert "already holds a Backstop deployment (VaultEngine at " + ENGINE in line
    assert f"{tmp_path / 'empty' / record.path.name} does not exist" in line  # type: ignore[union-attr]
    assert f"or move {journal} away to start a fresh devnet" in line
    assert journal.read_bytes() == before
    assert not list((tmp_path / "empty").iterdir())


def test_deployment_cut_short_before_its_record__deployed_again_at_the_next_start(
    tmp_path, artifacts, monkeypatch
):
    """A deployment interrupted before its record was written (Ctrl-C during the first start:
    "the next start deploys again") left its contracts on the kept chain: the marker beside the
    record's path says where it began, so the next start deploys again instead of refusing."""
    node = DevnetNode(free_port(), tmp_path / "state.json")
    records = tmp_path / "deployments"
    with node:

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        with monkeypatch.context() as m:
            m.setattr(deploy_module, "hand_to_timelock", interrupted)
            with pytest.raises(KeyboardInterrupt):
                _ensure(node.url, artifacts, records)
        path = node_record_path(Node(node.url), records)
        marker = deploying_marker(path)
        assert marker.exists() and not path.exists()
        assert Node(node.url).code(ENGINE)  # the cut-short deployment's first contract
    with node:  # restarted, its state kept
        record, fresh = _ensure(node.url, artifacts, records)
        assert fresh and record.path == path and record.core["engine"] != ENGINE
        assert not marker.exists()
    with node:
        assert _ensure(node.url, artifacts, records) == (record, False)
