"""A queued proposal run on a fork of the devnet, the devnet untouched (`ape run govern rehearse
ID`, scripts/_govern.py; docs/governance.md). The crash days that follow it on the live book are
offchain/report/rehearsal.py's.

1. A private Anvil takes the devnet at its head (offchain/backends/anvil.py): an Anvil devnet
   is copied (`anvil_dumpState`, a read, into a CopyAnvil: its blocks, receipts and head
   state, checked to be the devnet's chain at its head: private_devnet), since it keeps only
   its last 64 blocks' states (offchain/live/devnet.py,
   KEPT_STATES) and a fork reads the state at its block for as long as it runs: a market
   session or the bots moving the devnet on would pull that state from under it. A Hardhat
   devnet, which keeps every block's state, is forked at its head (ForkAnvil). Every later
   block is the private node's own; nothing is sent to the devnet.
2. The proposal's file, read again with the deployment's recorded config around it, makes its
   calls at the fork's state; they must hash to the digest the Timelock queued, so the file is
   the proposal (a parameter that a multi-key setter carries and that changed since the queue
   makes other calls: refused, "changed since").
3. The fork's whole history, from the deployment, is replayed in the exact model
   (offchain/live/reconcile.py's Replayer) and every variable compared at the head.
4. At its eta, the Timelock runs the proposal on the fork, as its proposer (impersonated). The
   model applies the same transaction, through the specification the fuzz checks on every
   transaction (offchain/testing/specification/: the execution's events, the queue's bound);
   every variable is compared again, and the invariants the fuzz checks after every step
   (offchain/system/invariants.py: I1-I5 on the chain's state and on the model's, loss
   conservation over every event) are checked on the result.
5. Each changed parameter is read again: it must now be what the proposal says (in force).
6. Every vault of the book is judged at the oracle's current price (the devnet's, before: the
   fork has no feeder, and the eta may find the price stale) before and after, by the notifier's
   rules (offchain/model/margin_call.py's status): those the change itself moves
   from safe to a margin call or unsafe, or from a margin call to unsafe, are listed.
"""

from __future__ import annotations

import binascii
import gzip
import json
import os
import secrets
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak

from offchain.backends import ChainBackend
from offchain.backends.anvil import Anvil, CopyAnvil, ForkAnvil
from offchain.live.anvil_state import same_block
from offchain.live.node import Node
from offchain.live.reconcile import Reconciliation, Replayer
from offchain.live.record import DeploymentRecord
from offchain.model.margin_call import CALLED, SAFE, UNSAFE, status
from offchain.model.timelock import QUEUED
from offchain.sim.strategies.notice import NoticeView, read_notice_view
from offchain.system import governance
from offchain.system.invariants import LossLedger, model_invariants, state_invariants
from offchain.testing.specification import Specification, SpecViolation

_RANK = {SAFE: 0, CALLED: 1, UNSAFE: 2}


class RehearsalError(ValueError):
    """A proposal that cannot be rehearsed as asked (one line)."""


@dataclass(frozen=True)
class Worsened:
    """A vault the change itself moves closer to liquidation, at the current price."""

    type_name: str
    owner: str
    collateral: int  # wad
    debt: int  # rad, at the type's rate after
    before: str  # safe, called (a margin call), unsafe
    after: str


@dataclass
class ForkRun:
    """What the fork said (see the module docstring)."""

    head: int  # the devnet's block the fork starts from
    taken: str  # how the private node took the devnet: "copied" (Anvil) or "forked" (Hardhat)
    executed_block: int
    executed_at: int  # its time [unix s]
    eta: int
    digest: str
    changes: list[governance.Change]  # before: the fork before; after: the proposal's
    in_force: dict[str, Any]  # where -> the value read after execution
    reconciliation: Reconciliation
    invariants: list[str]  # problems after execution (empty: all hold)
    spec_checks: int = 0  # the specification's checks of the execution's transaction
    # type name -> (owner, collateral [wad], normalized debt [wad]) after execution
    book: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)
    rates: dict[str, int] = field(default_factory=dict)  # type name -> rate [ray] after
    prices: dict[str, int] = field(default_factory=dict)  # type name -> the oracle's [wad]
    worsened: list[Worsened] = field(default_factory=list)
    vaults_judged: int = 0
    # type name -> its vaults not judged (the oracle shows no queued price: the notifier's view)
    not_judged: dict[str, int] = field(default_factory=dict)

    @property
    def not_in_force(self) -> list[str]:
        return [c.where for c in self.changes if self.in_force.get(c.where) != c.after]


ZERO_ADDRESS = "0x" + "00" * 20
# how the private node took the devnet (ForkRun.taken), as the report says it
TAKEN = {
    "copied": "its state dumped and loaded: the devnet may go on mining meanwhile",
    "forked": "Anvil's fork, which reads the devnet's state at that block as it goes",
}


def digest_of(chain: Any, calls: list[governance.Call]) -> bytes:
    """The hash the Timelock keeps of a proposal's calls."""
    return keccak(abi_encode(["(address,bytes)[]"], [governance.encoded(chain, calls)]))


# how many times the devnet is dumped before a copy whose state is its head's is given up
COPY_TRIES = 5


@contextmanager
def private_devnet(rpc: str) -> Iterator[tuple[Anvil, int, str]]:
    """(a private Anvil holding the devnet at `rpc` at its head, that head, "copied" or
    "forked"): step 1 of the module docstring. A copy must be the devnet's chain (its genesis
    and head blocks the devnet's) and its state that head's: its state root (the root of an
    account proof, read on the copy) the head block's. `anvil_dumpState` reads the blocks and
    the state one after the other, so a dump taken while a block is mined can hold a state one
    block ahead of its blocks (seen beside a market session: an oracle post the replay never
    met): the devnet is then dumped again, up to COPY_TRIES times. RehearsalError: no copy is
    its chain; AnvilError: the private node did not start (its reason)."""
    node = Node(rpc, timeout=300)  # a dump after a market session: tens of MB
    client = str(node.rpc("web3_clientVersion"))
    if not client.lower().startswith("anvil"):
        head = node.block_number()
        with ForkAnvil(rpc, head) as fork:
            yield fork, head, "forked"
        return
    with tempfile.TemporaryDirectory(prefix="rehearsal-state-") as folder:
        for _ in range(COPY_TRIES):
            copy, head = _copy(node, rpc, Path(folder) / "state.json")
            if copy is not None:
                break
        else:
            raise RehearsalError(
                f"the devnet at {rpc} changed while it was copied, {COPY_TRIES} times: its state "
                "was never its head block's (rehearse again, or when it is quieter)"
            )
        try:
            yield copy, head, "copied"
        finally:
            copy.__exit__(None, None, None)


def _copy(node: Node, rpc: str, path: Path) -> tuple[CopyAnvil | None, int]:
    """A private Anvil started from the devnet's dump written to `path`, and its head; (None,
    head) where the dump's state is not its head block's (the devnet mined meanwhile)."""
    latest = node.block("latest")
    assert latest is not None
    dumped = node.rpc("anvil_dumpState")
    try:
        state = gzip.decompress(bytes.fromhex(str(dumped).removeprefix("0x")))
    except (ValueError, OSError, EOFError, zlib.error, binascii.Error) as exc:
        raise RehearsalError(f"{rpc}: its anvil_dumpState is no gzipped state ({exc})") from None
    del dumped
    try:
        document = json.loads(state)
        blocks = document["blocks"]
    except (ValueError, KeyError, TypeError) as exc:
        raise RehearsalError(f"{rpc}: its anvil_dumpState is no Anvil state ({exc})") from None
    del state
    document["blocks"] = canonical_blocks(blocks, node)
    path.write_text(json.dumps(document), encoding="utf-8")
    del document, blocks
    copy = CopyAnvil(path, node.chain_id(), int(latest["gasLimit"], 16)).__enter__()
    try:
        mine = Node(copy.url, timeout=60)
        head = mine.block_number()
        blocks = {n: (node.block(n), mine.block(n)) for n in (0, head)}
        for number, (theirs, ours) in blocks.items():
            if theirs is None or ours is None or theirs["hash"] != ours["hash"]:
                raise RehearsalError(
                    f"the copy of the devnet's state is not its chain (block {number:,} "
                    "differs; was the devnet reverted while it was copied?)"
                )
        # the copy's own state root: the root node of an account proof, hashed
        proof = mine.rpc("eth_getProof", [ZERO_ADDRESS, [], hex(head)])
        root = keccak(bytes.fromhex(proof["accountProof"][0].removeprefix("0x")))
        if int.from_bytes(root) != int(blocks[head][0]["stateRoot"], 16):  # type: ignore[index]
            copy.__exit__(None, None, None)
            return None, head
    except BaseException:
        copy.__exit__(None, None, None)
        raise
    return copy, head


def canonical_blocks(blocks: list[dict[str, Any]], node: Node) -> list[dict[str, Any]]:
    """The blocks of an Anvil state dump without those its node no longer serves. An Anvil
    started from a state file makes a genesis block of its own before it loads the file's; both
    stay among its blocks (held by hash), and its dump holds both: loaded again, either can
    become block 0, and a copy whose genesis is younger than block 1 cannot be replayed (its
    time "goes backwards"). Of two blocks with one number, the one `node` answers for that
    number is kept. RehearsalError: none of them is it."""
    numbered: dict[int, list[dict[str, Any]]] = {}
    for block in blocks:
        numbered.setdefault(int(block["header"]["number"], 16), []).append(block)
    out = []
    for number, same in sorted(numbered.items()):
        if len(same) > 1:
            theirs = node.block(number) or {}
            same = [b for b in same if theirs and same_block(b["header"], theirs)]
            if len(same) != 1:
                raise RehearsalError(
                    f"the devnet's state holds {len(numbered[number])} blocks numbered "
                    f"{number:,} and {'none' if not same else 'more than one'} is the one it "
                    "serves: not copied"
                )
        out += same
    return out


def rehearse_on_fork(
    rpc: str,
    record: DeploymentRecord,
    proposal_id: int,
    proposal: dict[str, Any],
    source: str,
    code: tuple[dict, str],
) -> ForkRun:
    """Steps 1-6 of the module docstring for queued proposal `proposal_id`, whose file
    (`proposal`, parsed; `source` names it) is read with the record's config. RehearsalError:
    not queued, or the file is not the proposal queued; ProposalError: the file's mistakes."""
    artifacts, reader = code
    with private_devnet(rpc) as (fork, head, taken):
        chain = ChainBackend(fork.url, artifacts, reader)
        chain.names.update(record.contract_names())
        d = record.deployment()
        d.governance = chain.view(d.timelock, "proposer")
        # (calls hash, eta, expiry, status, rescue): Timelock.vy's Proposal
        digest, eta, _, state = chain.view(d.timelock, "proposals", proposal_id)[:4]
        if state != QUEUED:
            raise RehearsalError(f"proposal {proposal_id} is not queued: nothing to rehearse")
        config, places = governance.read_proposal(proposal, source, record.config_text)
        calls, changes = governance.proposal_calls(chain, d, config, places)
        if digest_of(chain, calls) != digest:
            raise RehearsalError(
                f"{source} is not proposal {proposal_id}: the calls it makes at the devnet's "
                "state do not hash to the queued ones (another file, or a parameter its "
                "setters carry changed since it was queued)"
            )
        node = Node(fork.url, timeout=60)
        replayer = Replayer(node, record, artifacts, reader)
        report = Reconciliation(record.first_block, record.first_block, head)
        first = node.block(record.first_block)
        assert first is not None
        replayer.book.since = int(first["timestamp"], 16)
        replayer.replay(head, report, counting=True)
        replayer.compare_state(head, report)
        engine = replayer.model.contract(d.engine)
        vaults_before = {key: (v.collateral, v.normalized_debt) for key, v in engine.vaults.items()}
        views_before = _views(chain, d)
        chain.set_next_block_time(max(eta, chain.last_block_time + 1))
        governance.execute(chain, d, proposal_id, calls)
        executed = node.block_number()
        # the execution through the specification the fuzz checks after every transaction
        spec = Specification(lambda: replayer.model, replayer.d)
        broken: list[str] = []

        def around(sender: str, to: str, function: str, args: tuple) -> Any:
            pre = spec.before(sender, to, function, args)

            def heard(events: list) -> None:
                try:
                    spec.after(pre, events)
                except SpecViolation as exc:  # a heading line, then one line a problem
                    lines = str(exc).splitlines()
                    broken.extend(f"specification: {x}" for x in lines[1:] or lines)

            return heard

        replayer.around = around
        replayer.replay(executed, report, counting=True)
        replayer.around = None
        state_read = replayer.compare_state(executed, report)
        report.to_block = executed
        report.outcome = replayer.book.outcome(replayer.chain)
        keys = replayer.state_keys()
        # each address once, as the state read covers them (reads.py's state_calls)
        holders = list(
            dict.fromkeys([*keys.accounts, *(a for _, a in d.contracts()), *keys.holders])
        )
        problems = state_invariants(state_read, d, holders) if state_read is not None else []
        problems += model_invariants(replayer.model, d, LossLedger(d.backstop, d.stability_pool))
        problems += broken
        _, now = governance.proposal_calls(chain, d, config, places)
        run = ForkRun(
            head=head,
            taken=taken,
            executed_block=executed,
            executed_at=chain.last_block_time,
            eta=eta,
            digest="0x" + digest.hex(),
            changes=changes,
            in_force={c.where: c.before for c in now},
            reconciliation=report,
            invariants=problems,
            spec_checks=spec.checks,
        )
        views_after = _views(chain, d)
        engine = replayer.model.contract(d.engine)
        for name, t in d.types.items():
            rate = engine.collateral_types[t.type_id].rate
            run.rates[name] = rate
            rows = [
                (owner, v.collateral, v.normalized_debt)
                for (tid, owner), v in engine.vaults.items()
                if tid == t.type_id and v.normalized_debt
            ]
            run.book[name] = sorted(rows)
            before, after = views_before.get(name), views_after.get(name)
            if before is not None:
                run.prices[name] = before.price
            if before is None or after is None:
                run.not_judged[name] = len(rows)
                continue
            # the change alone: the price as it was before (at the eta, with no feeder on the
            # fork, the oracle's price may have gone stale)
            after = replace(after, price=before.price, price_valid=before.price_valid)
            for owner, collateral, normalized in rows:
                was = vaults_before.get((t.type_id, owner), (collateral, normalized))
                then = _status(was[0], was[1], before)
                now_status = _status(collateral, normalized, after)
                run.vaults_judged += 1
                if _RANK[now_status] > _RANK[then]:
                    run.worsened.append(
                        Worsened(name, owner, collateral, normalized * rate, then, now_status)
                    )
        return run


def _views(chain: ChainBackend, d: Any) -> dict[str, NoticeView]:
    """Each type as the notifier sees it now (None-less: a type without a queued price is
    left out, as the notifier leaves it)."""
    out = {}
    for name, t in d.types.items():
        view = read_notice_view(lambda calls: chain.views(calls, cache=False), d, t)
        if view is not None:
            out[name] = view
    return out


def _status(collateral: int, normalized: int, view: NoticeView) -> str:
    return status(collateral, normalized * view.rate, view.safe_now, view.size, view.warning)


def failures(run: ForkRun) -> list[str]:
    """Why the fork's part of a rehearsal failed (empty: it passed)."""
    why = []
    rec = run.reconciliation
    if rec.differences:
        why.append(f"the fork and the model: {len(rec.differences)} differences")
    if run.invariants:
        why.append(f"{len(run.invariants)} invariants broken after execution")
    if run.not_in_force:
        why.append(f"not in force after execution: {', '.join(run.not_in_force)}")
    return why


def _utc(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def report_lines(run: ForkRun, proposal_id: int, rpc: str, source: str) -> list[str]:
    """The report's first sections (markdown): the proposal, its changes before and after, the
    fork against the model and the invariants, the vaults the change worsens."""
    rec = run.reconciliation
    out = [
        f"# Rehearsal of proposal {proposal_id}",
        "",
        f"The devnet at {rpc}, {run.taken} at its block {run.head:,} into a private Anvil "
        f"({TAKEN[run.taken]}; nothing was sent to the devnet). The proposal's file {source} "
        "makes the queued calls (digest "
        f"{run.digest}). It ran on the fork at {_utc(run.executed_at)} (its eta "
        f"{_utc(run.eta)}), block {run.executed_block:,}.",
        "",
        "## The changes",
        "",
        "| parameter (the contracts' units) | before | after | on the fork after it ran |",
        "|---|---|---|---|",
    ]
    for c in run.changes:
        text = c.text().split(": ", 1)[1]
        before, after = text.split(" -> ")
        got = run.in_force.get(c.where)
        status = "in force" if got == c.after else f"NOT in force: {got}"
        out.append(f"| {c.where} | {before} | {after} | {status} |")
    out += [
        "",
        "## The fork against the model",
        "",
        f"Every transaction from the deployment (block {rec.first_block:,}) to the execution "
        f"was replayed in the model: {rec.transactions:,} transactions; every variable "
        f"compared at blocks {', '.join(f'{b:,}' for b in rec.state_checks)} "
        f"({rec.variables_compared:,} values): "
        + (f"{len(rec.differences)} differences" if rec.differences else "0 differences")
        + ".",
    ]
    out += [f"- {d.line()}" for d in rec.differences[:30]]
    out += [
        "",
        "The invariants the fuzz checks after every step (I1-I5 on the fork's state and the "
        "model's, loss conservation over every event) after execution, and the specification "
        f"the fuzz checks on every transaction, on the execution ({run.spec_checks:,} checks): "
        + ("all hold." if not run.invariants else f"{len(run.invariants)} broken:"),
    ]
    out += [f"- {p}" for p in run.invariants]
    out += ["", "## Vaults the change itself worsens (at the oracle's current price)", ""]
    if not run.worsened:
        out.append(
            f"None of the {run.vaults_judged:,} vaults judged: no vault moves from safe to a "
            "margin call or unsafe, or from a margin call to unsafe."
        )
    for name, n in sorted(run.not_judged.items()):
        out.append(f"Not judged: {n:,} vaults of {name} (its oracle shows no queued price).")
    if run.worsened:
        out += [
            "",
            f"{len(run.worsened):,} of the {run.vaults_judged:,} vaults judged move closer to "
            "liquidation:",
            "",
            "| type | owner | collateral | debt | before | after |",
            "|---|---|---|---|---|---|",
        ]
        for w in run.worsened:
            out.append(
                f"| {w.type_name} | {w.owner} | {w.collateral / 10**18:,.6f} | "
                f"{w.debt / 10**45:,.2f} | {w.before} | {w.after} |"
            )
    out.append("")
    return out


# ---------------------------------------------------------------- what `execute` checks


def governance_dir(record: DeploymentRecord) -> Path:
    """Beside the deployment's record: each proposal's file as `propose` queued it
    (proposal-<id>.toml) and each rehearsal's verdict (rehearsal-<id>.json)."""
    if record.path is None:
        raise RehearsalError("the deployment's record was not read from a file")
    return record.path.parent / f"{record.path.stem}.governance"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{secrets.token_hex(4)}"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_proposal(record: DeploymentRecord, proposal_id: int, text: str) -> Path:
    path = governance_dir(record) / f"proposal-{proposal_id}.toml"
    _write(path, text)
    return path


def saved_proposal(record: DeploymentRecord, proposal_id: int) -> Path | None:
    path = governance_dir(record) / f"proposal-{proposal_id}.toml"
    return path if path.is_file() else None


def jsonable(value: Any) -> Any:
    """A parameter's value as JSON keeps it (tuples as lists), for comparing again."""
    return json.loads(json.dumps(value, default=list))


@dataclass(frozen=True)
class Verdict:
    """A rehearsal's verdict, kept for `execute`: the proposal's digest, each changed
    parameter's value on the devnet when it was rehearsed, and whether it passed."""

    proposal_id: int
    digest: str
    before: dict[str, Any]
    passed: bool
    why: list[str]
    report: str

    def save(self, record: DeploymentRecord) -> Path:
        path = governance_dir(record) / f"rehearsal-{self.proposal_id}.json"
        _write(path, json.dumps(self.__dict__, indent=1, sort_keys=True) + "\n")
        return path


def read_verdict(record: DeploymentRecord, proposal_id: int) -> Verdict | None:
    """The verdict of proposal `proposal_id`'s last rehearsal, or None (never rehearsed, or a
    file that is not one)."""
    path = governance_dir(record) / f"rehearsal-{proposal_id}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Verdict(**data)
    except (OSError, ValueError, TypeError):
        return None
