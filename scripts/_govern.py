"""`ape run govern`: governance's proposals through the deployment's Timelock, on a devnet whose
config has a [governance] table (config/devnet.toml has; docs/governance.md).

    ape run govern propose proposal.toml      # queue it; prints its id, eta and every change
    ape run govern show                       # every proposal: status, window, calls
    ape run govern rehearse 3                 # run it on a fork first; writes a report
    ape run govern warp 3                     # a devnet only: its clock moved to the eta
    ape run govern execute 3                  # run proposal 3 (rehearsed; its eta has come)
    ape run govern cancel 3                   # drop it (the proposer or the guardian)

A proposal file is TOML in the deployment config's own names and units: `[system]`,
`[backstop]` and `[collateral.<type>]` tables (config/proposals/raise-penalty.toml is one). It
is checked as the config is, with the deployment's recorded config around it (each key's bounds,
the rules between keys), judged for what it does (a value that turns off what the system needs
is refused, a change of nothing too; a key already in force, or a global ceiling that binds
before every type's, is warned), and each call is tried as the Timelock on the node's head
before anything is sent; every mistake is named at once, and the file is kept beside the record
for `rehearse`. `rehearse` forks the devnet
(Anvil), runs the proposal there past its delay and checks the fork against the model and the
invariants, then runs the live book through the crash days before and after it, and each
changed number around the proposal (`--no-sweep`: not) in the model at every oracle phase
(offchain/live/rehearsal.py, offchain/report/rehearsal.py); it writes a report folder. `execute`
takes the calls from the proposal's own `CallQueued` events, and refuses a proposal never
rehearsed, whose rehearsal failed, or whose parameters changed on the devnet since. `warp` mines
one block at the proposal's eta on a devnet (Anvil or Hardhat Network, chain id 31337: nothing
else), which a Hardhat devnet's journal keeps like any block. `show` prints each call in the
config's names and units, as `propose` did, and a queued proposal past its expiry as expired.

`--account` (default dev:0) signs: it must be the Timelock's proposer (the deployment's
governance), or for `cancel` its proposer or its guardian. Bad input (a file, a key, a value, a
type, an account, a proposal id, a proposal not queued or before its time, a call the Timelock
cannot make, a deployment without a Timelock, a rehearsal or a clock move on a node that is no
devnet): one line each, exit status 2, nothing sent. A transaction the chain reverts once sent
(`execute`, `cancel`): one line, exit status 1. `rehearse` exits 1 when the rehearsal fails (a
difference, an invariant broken, a change not in force).
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from eth_abi import encode as abi_encode
from eth_utils import keccak

from offchain.backends.anvil import AnvilError
from offchain.backends.rpc import RpcError
from offchain.live import rehearsal
from offchain.live.deploy import DeployError, SigningChain
from offchain.live.devnet import devnet_refusal, move_clock
from offchain.live.node import Node, NodeUnavailable, unanswered
from offchain.live.record import (
    RecordError,
    load_record,
    node_record_path,
    record_option_problem,
    verify,
)
from offchain.live.signers import SignerError, resolve_signer, signer_problem
from offchain.model.errors import Revert
from offchain.model.state import ZERO_ADDRESS
from offchain.model.timelock import CANCELLED, EXECUTED, QUEUED
from offchain.report.rehearsal import DAYS
from offchain.sim.scenario.market_data import DataError
from offchain.sim.scenario.reader import ScenarioError
from offchain.system import governance
from offchain.system.cli import (
    choice_list,
    empty_out,
    failing,
    file_problem,
    one_line_group,
    one_line_usage,
)
from offchain.system.config import ConfigError
from offchain.system.files import toml_text
from offchain.system.governance import ProposalError
from offchain.system.outputs import OutputError, folder_refusal, publish_folder

STATUS = {0: "not queued", QUEUED: "queued", EXECUTED: "executed", CANCELLED: "cancelled"}
# a queued proposal whose window has closed: it can never run (the contract keeps it QUEUED)
EXPIRED = "expired"
fail = failing("govern")


def _read_options(f: Any) -> Any:
    f = click.option("--rpc", default="http://127.0.0.1:8545", show_default=True)(f)
    return click.option("--deployment", "deployment_path", default=None, help="The record.")(f)


def _options(f: Any, who: str = "Governance's signer (the Timelock's proposer).") -> Any:
    f = _read_options(f)
    return click.option("--account", default="dev:0", show_default=True, help=who)(f)


def _cancel_options(f: Any) -> Any:
    return _options(f, "The signer: the Timelock's proposer, or its guardian.")


def _problems(ctx: click.Context) -> list[str]:
    """The options' own mistakes (no node asked), one line each."""
    p, problems = ctx.params, []
    rpc = p.get("rpc")
    if rpc is not None:
        try:
            Node(rpc, timeout=10, patience=5)
        except ValueError:
            problems.append(f"--rpc {rpc!r} is not an http(s) JSON-RPC URL (http://HOST:PORT)")
    if p.get("deployment_path") is not None:
        problem = record_option_problem(p["deployment_path"])
        if problem:
            problems.append(problem)
    if p.get("account") is not None:
        why = signer_problem(p["account"])
        if why:
            problems.append(f"--account: {why}")
    return problems


class ProposalId(click.ParamType):
    """A proposal's id: a whole number from 1 (the Timelock counts from 1; uint256)."""

    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if re.fullmatch(r"[0-9]+", text) and 1 <= int(text) < 2**256:
            return int(text)
        self.fail(f"{value} is not a proposal id (a whole number from 1)", param, ctx)


def _with_id(command: type[click.Command]) -> type[click.Command]:
    """A command taking a proposal ID: a negative number given for it (`execute -1`), which
    click would take for an option ("No such option: -1"), is handed to the ID, which names it
    as no proposal id."""

    class WithId(command):  # type: ignore[valid-type, misc]
        def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
            if "--" in args:
                return super().parse_args(ctx, args)
            valued = {
                name
                for param in self.get_params(ctx)
                if isinstance(param, click.Option) and not param.is_flag
                for name in param.opts
            }
            kept: list[str] = []
            numbers: list[str] = []
            value_next = False
            for arg in args:
                if not value_next and re.fullmatch(r"-[0-9.][^=]*", arg):
                    numbers.append(arg)
                    continue
                kept.append(arg)
                value_next = not value_next and arg in valued
            return super().parse_args(ctx, kept + (["--", *numbers] if numbers else []))

    WithId.__name__ = WithId.__qualname__ = f"WithId[{command.__name__}]"
    return WithId


_COMMAND = one_line_usage("govern", _problems)
_ID_COMMAND = _with_id(_COMMAND)


def _connect(rpc: str, deployment_path: str | None) -> tuple[Any, ...]:
    """(record, deployment, chain, node) of the devnet at `rpc`: the chain reads; `_account`
    lets it sign."""
    node = Node(rpc, timeout=10, patience=5)
    try:
        record = load_record(Path(deployment_path) if deployment_path else node_record_path(node))
        verify(record, node)
    except NodeUnavailable:
        fail(f"no JSON-RPC node answers at {rpc} (start one: make devnet)")
    except RecordError as exc:
        fail(str(exc))
    d = record.deployment()
    if not d.timelock:
        fail(
            f"{record.path}: this deployment has no Timelock (its config has no [governance] "
            "table): governance is its direct admin"
        )
    from offchain.backends import project_code

    chain = SigningChain(rpc, *project_code(), {})
    chain.names.update(record.contract_names())
    return record, d, chain, node


def _account(chain: Any, d: Any, account: str, cancels: bool = False) -> tuple[str, str]:
    """`account`'s signer added to `chain`: (its address, its role: "proposer" or, where it
    `cancels`, "guardian"); ("", the line) when it may not act (the Timelock's proposer only,
    or for a cancel its guardian too: the contract's rule)."""
    try:
        signer = resolve_signer(account)
    except SignerError as exc:
        return "", f"--account: {exc}"
    proposer = chain.view(d.timelock, "proposer")
    guardian = chain.view(d.timelock, "guardian") if cancels else ZERO_ADDRESS
    who = f"--account {account} ({signer.address})"
    if signer.address == proposer:
        role = "proposer"
    elif guardian != ZERO_ADDRESS and signer.address == guardian:
        role = "guardian"
    elif cancels:
        held = "nobody" if guardian == ZERO_ADDRESS else guardian
        return "", f"{who} is neither the Timelock's proposer {proposer} nor its guardian ({held})"
    else:
        return "", f"{who} is not the Timelock's proposer {proposer}"
    chain.signers[signer.address] = signer
    return signer.address, role


def _stamp(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _when(t: int, now: int) -> str:
    left = t - now
    if left <= 0:
        return f"{_stamp(t)} (passed)"
    return f"{_stamp(t)} (in {left // 3600} h {left % 3600 // 60} min)"


def _state(status: int, expires: int, now: int) -> str:
    """A proposal's state at a head of time `now`: STATUS's, or EXPIRED for a queued one whose
    window has closed (the next block, at least a second later, is past `expires`)."""
    return EXPIRED if status == QUEUED and now >= expires else STATUS[status]


def _queued(chain: Any, d: Any, node: Node, proposal_id: int, what: str) -> tuple[Any, ...]:
    """(digest, eta, expires, rescue, now) of proposal `proposal_id` (`rescue`: every call of it
    a rescue, which the guardian may not cancel), refused (one line, exit 2) unless it is queued
    and not expired: "proposal 3 is executed: nothing to run" (`what`)."""
    digest, eta, expires, status, rescue = chain.view(d.timelock, "proposals", proposal_id)
    now = int(node.block("latest")["timestamp"], 16)  # type: ignore[index]
    state = _state(status, expires, now)
    if state == EXPIRED:
        fail(f"proposal {proposal_id} expired at {_when(expires, now)}: it can never run; {what}")
    if state != STATUS[QUEUED]:
        fail(f"proposal {proposal_id} is {state}: {what}")
    return digest, eta, expires, rescue, now


def _node_errors(command: Any) -> Any:
    """A node that stops answering or refuses a read midway: one line, exit 2, no traceback."""

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except NodeUnavailable as exc:
            fail(f"the node stopped answering ({exc})")
        except RpcError as exc:
            fail(f"the node refused a request: {exc}")

    run.__name__, run.__doc__ = command.__name__, command.__doc__
    return run


@click.group(cls=one_line_group("govern"))
def cli() -> None:
    """Governance's proposals through the Timelock (docs/governance.md)."""


@cli.command(cls=_COMMAND)
@click.argument("proposal_file", metavar="FILE")
@_options
@_node_errors
def propose(proposal_file: str, rpc: str, deployment_path: str | None, account: str) -> None:
    """Queue the changes of a proposal FILE; print its id, eta and each change."""
    problems = _problems(click.get_current_context())
    try:  # the file first: a file that is not one is named before (and with) a dead node
        data = governance.read_mapping_of(Path(proposal_file))
    except ProposalError as exc:
        problems += str(exc).splitlines()
    if problems:
        fail("\n".join(problems + [x for x in [unanswered(rpc)] if x]))
    record, d, chain, _ = _connect(rpc, deployment_path)
    # every mistake at once: the account, the file's keys and values, what it would do, and
    # each call as the Timelock would make it now
    sender, role = _account(chain, d, account)
    problems = [] if sender else [role]
    try:
        config, places = governance.read_proposal(data, proposal_file, record.config_text)
        calls, changes = governance.proposal_calls(chain, d, config, places)
    except ProposalError as exc:
        fail("\n".join(problems + str(exc).splitlines()))
    refusals, warnings = governance.judge(chain, d, changes, proposal_file)
    problems += refusals
    # a call the Timelock may not make (or one the contract refuses at today's state) is named
    # before anything is sent
    for target, function, args in calls:
        data_hex = "0x" + chain.calldata(target, function, *args).hex()
        tx = {"from": d.timelock, "to": target, "data": data_hex}
        try:
            chain.rpc("eth_call", [tx, "latest"])
        except RpcError as exc:  # the node's revert, with its reason
            name = chain.names.get(target, target)
            problems.append(f"{proposal_file}: {name}.{function}: refused ({exc})")
    if problems:
        fail("\n".join(problems + [f"warning: {w}" for w in warnings]))
    for line in warnings:
        click.echo(f"govern: warning: {line}", err=True)
    d.governance = sender
    chain.sync()  # the next block after the head (bots may have mined since we connected)
    try:
        proposal_id, eta = governance.propose(chain, d, calls)
    except (Revert, DeployError) as exc:
        fail(f"propose: {exc}", 1)
    now = chain.last_block_time
    expires = chain.view(d.timelock, "proposals", proposal_id)[2]
    rehearsal.save_proposal(record, proposal_id, Path(proposal_file).read_text(encoding="utf-8"))
    click.echo(f"proposal {proposal_id} queued: runs from {_when(eta, now)}")
    click.echo(f"  until {_when(expires, now)}; first: ape run govern rehearse {proposal_id}")
    for c in changes:
        click.echo(f"  {c.text()}")


@cli.command(cls=_ID_COMMAND)
@click.argument("proposal_id", metavar="ID", type=ProposalId())
@_options
@_node_errors
def execute(proposal_id: int, rpc: str, deployment_path: str | None, account: str) -> None:
    """Run queued proposal ID, once its eta has come and before it expires."""
    problems = _problems(click.get_current_context())
    if problems:
        fail("\n".join(problems))
    record, d, chain, node = _connect(rpc, deployment_path)
    sender, role = _account(chain, d, account)
    if not sender:
        fail(role)
    d.governance = sender
    digest, eta, _, _, now = _queued(chain, d, node, proposal_id, "nothing to run")
    if now + 1 < eta:  # the next block is at least a second later
        fail(f"proposal {proposal_id} runs from {_when(eta, now)}: too early")
    calls = governance.queued_calls(chain, d, record.first_block, proposal_id)
    if keccak(abi_encode(["(address,bytes)[]"], [calls])) != digest:
        fail(f"proposal {proposal_id}: its CallQueued events do not hash to the queued calls")
    _rehearsed(record, d, chain, proposal_id, digest)
    chain.sync()
    try:
        chain.transact(d.timelock, "execute", d.governance, proposal_id, calls)
    except (Revert, DeployError) as exc:
        fail(f"execute {proposal_id}: {exc}", 1)
    click.echo(f"proposal {proposal_id} executed ({len(calls)} calls)")


@cli.command(cls=_ID_COMMAND)
@click.argument("proposal_id", metavar="ID", type=ProposalId())
@_cancel_options
@_node_errors
def cancel(proposal_id: int, rpc: str, deployment_path: str | None, account: str) -> None:
    """Drop queued proposal ID (the Timelock's proposer, or its guardian unless the proposal
    is a rescue): it can never run."""
    problems = _problems(click.get_current_context())
    if problems:
        fail("\n".join(problems))
    record, d, chain, node = _connect(rpc, deployment_path)
    sender, role = _account(chain, d, account, cancels=True)
    if not sender:
        fail(role)
    rescue = _queued(chain, d, node, proposal_id, "nothing to cancel")[3]
    if rescue and role == "guardian":  # the contract's rule (docs/governance.md, a rescue)
        fail(
            f"proposal {proposal_id} is a rescue (each of its calls takes the guardian's power "
            "away or undoes a stop): only the proposer cancels it"
        )
    chain.sync()
    try:
        chain.transact(d.timelock, "cancel", sender, proposal_id)
    except (Revert, DeployError) as exc:
        fail(f"cancel {proposal_id}: {exc}", 1)
    click.echo(f"proposal {proposal_id} cancelled by the {role} {sender}")


@cli.command(cls=_ID_COMMAND)
@click.argument("proposal_id", metavar="ID", type=ProposalId())
@_read_options
@_node_errors
def warp(proposal_id: int, rpc: str, deployment_path: str | None) -> None:
    """On a devnet only: move its clock to queued proposal ID's eta (one block mined then)."""
    problems = _problems(click.get_current_context())
    if problems:
        fail("\n".join(problems))
    record, d, chain, node = _connect(rpc, deployment_path)
    why = devnet_refusal(chain.client, chain.chain_id)
    if why:
        fail(f"{rpc} {why}: its clock is not moved")
    _, eta, _, _, now = _queued(chain, d, node, proposal_id, "nothing to wait for")
    if now + 1 >= eta:
        click.echo(f"proposal {proposal_id} runs from {_when(eta, now)}: the clock is not moved")
        return
    block = move_clock(chain.rpc, eta)
    moved = eta - now
    click.echo(
        f"the devnet's clock moved {moved // 3600} h {moved % 3600 // 60} min on: block "
        f"{int(block['number'], 16)} at {_stamp(eta)}, proposal {proposal_id}'s eta"
    )
    click.echo(f"  next: ape run govern execute {proposal_id} (once rehearsed)")


def _rehearsed(record: Any, d: Any, chain: Any, proposal_id: int, digest: bytes) -> None:
    """Refuse (one line, exit 2) a proposal never rehearsed, rehearsed as other calls, whose
    rehearsal failed, or whose parameters on the devnet are no longer those it was rehearsed
    against."""
    verdict = rehearsal.read_verdict(record, proposal_id)
    again = f"ape run govern rehearse {proposal_id}"
    if verdict is None:
        fail(f"proposal {proposal_id} was never rehearsed: {again}")
    if verdict.digest != "0x" + digest.hex():
        fail(f"proposal {proposal_id}: its rehearsal ran other calls; {again}")
    if not verdict.passed:
        fail(f"proposal {proposal_id}: its rehearsal failed ({'; '.join(verdict.why)})")
    path = rehearsal.saved_proposal(record, proposal_id)
    if path is None:
        fail(f"proposal {proposal_id}: its file is gone from {rehearsal.governance_dir(record)}")
    try:
        config, places = governance.load_proposal(path, record.config_text)
        _, changes = governance.proposal_calls(chain, d, config, places)
    except ProposalError as exc:
        fail(str(exc).splitlines()[0])
    moved = [
        c.where
        for c in changes
        if rehearsal.jsonable(c.before) != verdict.before.get(c.where, c.before)
    ]
    if moved:
        fail(
            f"proposal {proposal_id}: {', '.join(moved)} changed on the devnet since its "
            f"rehearsal; {again}"
        )


@cli.command(cls=_ID_COMMAND)
@click.argument("proposal_id", metavar="ID", type=ProposalId())
@click.option(
    "--proposal",
    "proposal_path",
    default=None,
    help="The proposal's file [the one `propose` kept beside the record].",
)
@click.option(
    "--days",
    default=",".join(DAYS),
    show_default=True,
    help="The crash days, comma-separated (offchain/sim/scenarios/); 'none' for the fork only.",
)
@click.option(
    "--sweep/--no-sweep",
    default=True,
    show_default=True,
    help="Also run each changed number around the proposal (halfway, 1.5 and 2 times the "
    "change) through the crash days, in the model at every oracle phase.",
)
@click.option("--out", "out_dir", default=None, help="The report folder [reports/rehearsal-ID].")
@_read_options
@_node_errors
def rehearse(
    proposal_id: int,
    proposal_path: str | None,
    days: str,
    sweep: bool,
    out_dir: str | None,
    rpc: str,
    deployment_path: str | None,
) -> None:
    """Run queued proposal ID on a fork of the devnet past its delay; check the fork against the
    model and the invariants; run the live book through the crash days before and after it."""
    problems = _problems(click.get_current_context())
    # (a day twice, or none beside a day, ran in silence)
    chosen, day_problems = choice_list("--days", days, DAYS, "crash day")
    problems += day_problems
    out = Path(out_dir or f"reports/rehearsal-{proposal_id}")
    text = empty_out(out_dir)  # (an empty --out wrote the default folder; `~` one named `~`)
    refusal = text or folder_refusal(out, "govern-rehearse")
    if refusal:
        problems.append(refusal if text else f"--out: {refusal}")
    if proposal_path is not None:  # (a folder was "no such file")
        problem = file_problem("--proposal", proposal_path, "the proposal's file")
        problems += [problem] if problem else []
    if problems:
        fail("\n".join(problems))
    record, d, chain, node = _connect(rpc, deployment_path)
    why = devnet_refusal(chain.client, chain.chain_id)
    if why:
        fail(f"{rpc} {why}: not forked")
    path = Path(proposal_path) if proposal_path else rehearsal.saved_proposal(record, proposal_id)
    if path is None:
        fail(
            f"proposal {proposal_id}: no file kept beside the record (`propose` keeps it); "
            "give it: --proposal FILE"
        )
    try:
        data = governance.read_mapping_of(path)
    except ProposalError as exc:
        fail(str(exc))
    from offchain.backends import project_code
    from offchain.live.reconcile import ReconcileError
    from offchain.report.rehearsal import crash_days, day_lines, sweep_lines

    code = project_code()
    say = lambda line: click.echo(f"rehearse: {line}", err=True)  # noqa: E731
    say(f"taking the devnet at {rpc} at its head into a private Anvil; the proposal runs there")
    try:
        run = rehearsal.rehearse_on_fork(rpc, record, proposal_id, data, str(path), code)
    except (rehearsal.RehearsalError, ProposalError) as exc:
        fail(str(exc))
    except AnvilError as exc:
        fail(f"the private node did not start: {exc}")
    except ReconcileError as exc:
        fail(f"the model's replay of the devnet's chain stopped: {str(exc).splitlines()[0]}")
    after_text = toml_text(governance.merged_document(data, record.config_text))
    configs = {"before": record.config_text, "after": after_text}
    points, not_swept = governance.sweep_points(data, record.config_text)
    if not sweep:
        points, not_swept = [], []
    name = "ETH-A"  # the crash days are ETH/USD's
    others = {n: len(rows) for n, rows in run.book.items() if n != name and rows}
    book, rate = run.book.get(name, []), run.rates.get(name, 0)
    try:
        days_run = crash_days(
            chosen, name, book, rate, run.prices.get(name, 0), configs, points, code, say
        )
    except (AnvilError, ScenarioError, DataError, ConfigError) as exc:
        fail(f"{str(exc).splitlines()[0]} (no report written)")
    results = [d for d, _ in days_run]
    why = rehearsal.failures(run) + [
        f"{r.day} {s.config}: {s.differences} differences"
        for r in results
        for s in r.sides
        if s.differences
    ]
    lines = rehearsal.report_lines(run, proposal_id, rpc, str(path))
    lines += ["## The live book under the crash days", ""]
    if not results:
        lines += ["No crash day was run (--days none).", ""]
    for r, rows in days_run:
        lines += day_lines(r, others)
        lines += sweep_lines(r, rows, not_swept)
    lines += ["## Verdict", "", "passed" if not why else "FAILED: " + "; ".join(why), ""]

    def build(folder: Path) -> None:
        (folder / "report.md").write_text("\n".join(lines), encoding="utf-8")

    try:
        publish_folder(out, "govern-rehearse", build)
    except OutputError as exc:
        fail(str(exc))
    verdict = rehearsal.Verdict(
        proposal_id,
        run.digest,
        {c.where: rehearsal.jsonable(c.before) for c in run.changes},
        not why,
        why,
        str(out / "report.md"),
    )
    verdict.save(record)
    click.echo(f"proposal {proposal_id} rehearsed: {'passed' if not why else 'FAILED'}")
    for c in run.changes:
        click.echo(f"  {c.text()}")
    for line in why:
        click.echo(f"  {line}")
    click.echo(f"report: {out / 'report.md'}")
    if why:
        sys.exit(1)


@cli.command(cls=_COMMAND)
@_read_options
@_node_errors
def show(rpc: str, deployment_path: str | None) -> None:
    """Every proposal: its status (expired once past its window), its window and its calls, in
    the config's names and units as `propose` printed them (reads only: no account)."""
    problems = _problems(click.get_current_context())
    if problems:
        fail("\n".join(problems))
    record, d, chain, node = _connect(rpc, deployment_path)
    from offchain.backends.abi import CalldataReader

    reader = CalldataReader({n: abi for n, (abi, _) in chain.artifacts.items()}, chain.names)
    now = int(node.block("latest")["timestamp"], 16)  # type: ignore[index]
    count = chain.view(d.timelock, "proposal_count")
    click.echo(f"{count} proposals; delay {chain.view(d.timelock, 'delay')} s, "
               f"grace {chain.view(d.timelock, 'grace')} s")  # fmt: skip
    for i in range(1, count + 1):
        _, eta, expires, status, _ = chain.view(d.timelock, "proposals", i)
        window = f"{_when(eta, now)} to {_when(expires, now)}"
        click.echo(f"proposal {i}: {_state(status, expires, now)}, {window}")
        for target, data in governance.queued_calls(chain, d, record.first_block, i):
            try:
                function, args, _ = reader(target, data)
            except (Revert, ValueError):  # a call no ABI of the deployment reads: shown raw
                click.echo(f"  {target}: 0x{bytes(data).hex()}")
                continue
            click.echo(f"  {governance.call_text(d, chain.names, target, function, args)}")
