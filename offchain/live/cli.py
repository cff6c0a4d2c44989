"""`ape run keeper` (and `python -m offchain.live.cli`): one keeper bot, by role.

    ape run keeper --role liquidator --account dev:2
    ape run keeper --role taker --account my-taker --min-profit 50 --gas geometric:2,1.125,200
    ape run keeper --role backstop --account dev:4 --dry-run
    ape run keeper --role liquidator --read-only --metrics-port 9101
    ape run keeper --role notifier --webhook http://127.0.0.1:9000/hook

Bad input (a role, an account alias, a gas policy, a number that is NaN, infinite or out of
range, an --rpc that is not a URL or no node at it, a missing or mismatched deployment record, a
chain id mismatch, a checkpoint that is a directory or not one, an account without ether, a busy
--metrics-port, a --webhook that is not an http(s) URL or given to another role than the notifier,
an --account for the notifier, which sends nothing): one line naming the problem, exit status 2,
nothing sent, nothing written (no checkpoint, and no lock file: a refused start removes those it
created).

One bot per account and per checkpoint: two bots sending from one account share its nonces, and
two on one checkpoint overwrite each other's. Each bot holds an exclusive lock (flock, released
when its process ends, however it ends) on its account on this node and on its checkpoint; a
second one is refused with one line naming the running one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import sys
import tempfile
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

import click

from offchain.backends import RpcError, project_code
from offchain.live.bots import ROLES, Bot, BotOptions, BotStopped, attach
from offchain.live.deploy import ensure_flash_takers, rebind_flash_takers
from offchain.live.follower import Checkpoint, CheckpointError
from offchain.live.gas import GWEI, PPM, FixedGas, GasPolicy, GeometricGas
from offchain.live.metrics import Log, log_problem
from offchain.live.node import Node, NodeUnavailable, unanswered
from offchain.live.record import (
    DEFAULT_DIR,
    RecordError,
    load_record,
    node_record_path,
    record_option_problem,
    verify,
)
from offchain.live.signers import Signer, SignerError, resolve_signer, signer_problem
from offchain.live.summary import NoticeSummary
from offchain.live.webhook import check_webhook_url
from offchain.model.fixed_point import WAD
from offchain.system.cli import (
    FiniteFloatRange,
    directory_problem,
    failing,
    home_unexpanded,
    one_line_usage,
    unwritable,
)
from offchain.system.schema import MAX_AMOUNT

DEFAULT_RPC = "http://127.0.0.1:8545"
# The dearest gas price a policy may bid [gwei]: 10**6 gwei is 0.001 ether per gas, 300 ether
# for a 300,000-gas liquidation, hundreds of times the dearest blocks Ethereum has seen (a few
# thousand gwei). Above it a price is a slip (an extra digit, 1e400): `fixed:1e400` was taken,
# then every send was refused for want of funds, logged as out_of_funds forever.
MAX_GAS_GWEI = Decimal(10**6)
MAX_POLL_S = 3600.0  # a keeper that looks less than once an hour misses whole auctions
MAX_WEBHOOK_TIMEOUT_S = 60.0  # a notifier waiting longer on its hook falls behind the chain
# set by make keepers for its four bots, which get the same KEEPER_ARGS: an option of another
# role is ignored, not refused (--gas and --stuck-* by the notifier, --min-profit by all but the
# taker, --webhook and --webhook-timeout by all but the notifier)
SHARED_ARGS = "BACKSTOP_KEEPER_ARGS_SHARED"


_refuse = failing("keeper")

# the notifier's per-vault lines: in its log file only, counted in its terminal's summary
QUIET = frozenset({"notice", "notice_cleared", "proposal_notice"})


def fail(message: str, status: int = 2) -> NoReturn:
    """A refused start: one line on stderr, exit status 2, and the lock files (and their
    directories) this process created removed first, so that it leaves nothing behind."""
    _release_locks()
    _refuse(message, status)


def _gas_price(text: str, spec: str, what: str) -> int:
    value = Decimal(text)
    if not 0 <= value <= MAX_GAS_GWEI:
        raise ValueError(
            f"--gas {spec!r}: the {what} must be from 0 to {MAX_GAS_GWEI:,} gwei, got {text}"
        )
    return int(value * GWEI)


def parse_gas(spec: str) -> GasPolicy:
    """`fixed:MAX_GWEI[,PRIORITY_GWEI]` or `geometric:START_GWEI,FACTOR,CAP_GWEI`; every price
    from 0 to MAX_GAS_GWEI. A mistake: ValueError, one line naming --gas."""
    kind, _, rest = spec.partition(":")
    parts = [x.strip() for x in rest.split(",")] if rest else []
    try:
        numbers = [Decimal(x) for x in parts]
    except InvalidOperation:
        raise ValueError(f"--gas {spec!r}: numbers expected after {kind}:") from None
    if not (kind == "fixed" and len(parts) in (1, 2)) and not (
        kind == "geometric" and len(parts) == 3
    ):
        raise ValueError(
            f"--gas {spec!r}: expected fixed:MAX_GWEI[,PRIORITY_GWEI] or "
            "geometric:START_GWEI,FACTOR,CAP_GWEI"
        )
    bad = next((x for x, n in zip(parts, numbers) if not n.is_finite()), None)
    if bad is not None:  # NaN was "cannot convert NaN to integer", Infinity an OverflowError
        raise ValueError(f"--gas {spec!r}: {bad} is not a finite number")
    signed = next((x for x, n in zip(parts, numbers) if n.is_signed()), None)
    if signed is not None:  # "-0" passed as 0 (a price is never below 0)
        raise ValueError(f"--gas {spec!r}: {signed} is below 0")
    if kind == "fixed":
        max_fee = _gas_price(parts[0], spec, "max fee")
        if len(parts) == 1:
            return FixedGas(max_fee, min(GWEI, max_fee))
        priority = _gas_price(parts[1], spec, "priority fee")
        if priority > max_fee:  # nodes refuse such a transaction
            raise ValueError(f"--gas {spec!r}: the priority fee is above the max fee")
        return FixedGas(max_fee, priority)
    start = _gas_price(parts[0], spec, "start")
    cap = _gas_price(parts[2], spec, "cap")
    if start > cap:  # not one bid under the cap: the bot ran and never sent anything
        raise ValueError(
            f"--gas {spec!r}: the start ({parts[0]} gwei) is above the cap ({parts[2]} gwei)"
        )
    try:
        return GeometricGas(start, int(numbers[1] * PPM), cap)
    except ValueError as exc:  # the factor below 1.125
        raise ValueError(f"--gas {spec!r}: {exc}") from None


def _checkpoint_problems(
    checkpoint: Checkpoint, node: Node, types: Any, sends: bool, taker: bool
) -> list[str]:
    """The checkpoint's mistake, read before any lock file is made (the bot reads it again once
    it holds the lock), and a taker's that sends nothing and cannot deploy its FlashTakers
    (deploy.ensure_flash_takers): both named at once, not one once the other is fixed."""
    problems = []
    kept: dict[str, Any] = {}
    try:
        kept = checkpoint.load() or {}
    except CheckpointError as exc:
        problems.append(str(exc))
    if taker and not sends:
        state = kept.get("state")
        flash = state.get("flash_takers") if isinstance(state, dict) else None
        flash = flash if isinstance(flash, dict) else {}
        missing = [t for t in types if not _has_code(node, flash.get(t))]
        if missing:
            problems.append(
                f"FlashTaker must be deployed first, and this bot sends nothing "
                f"(type{'s' if len(missing) > 1 else ''} {', '.join(missing)}: run the taker "
                "once with --account, then read-only)"
            )
    return problems


def _has_code(node: Node, address: Any) -> bool:
    """Whether `address` (a checkpoint's, so of any kind) holds code on `node`."""
    if not isinstance(address, str):
        return False
    try:
        return bool(node.code(address))
    except (RpcError, ValueError):  # not an address the node takes
        return False


def _types(given: tuple[str, ...] | list[str]) -> list[str]:
    """--type's values, each possibly a comma-separated list (`--type ETH-A,WBTC-A`)."""
    return [x.strip() for value in given for x in str(value).split(",")]


def parse_min_profit(text: str) -> int:
    """--min-profit [stablecoin] as wad: from 0 to MAX_AMOUNT (the flash taker's minimum is a
    uint256). A mistake: ValueError, one line naming --min-profit."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"--min-profit {text!r}: not a number") from None
    if not value.is_finite() or not 0 <= value <= MAX_AMOUNT:
        # NaN was "cannot convert NaN to integer", naming no option; Infinity an OverflowError
        raise ValueError(f"--min-profit {text!r}: must be from 0 to {MAX_AMOUNT:,} (stablecoin)")
    return int(value * WAD)


# the locks this process holds (closing a file would release its lock), and the lock files and
# directories it created for them (a refused start removes them: fail)
_HELD: list = []
_CREATED: list[Path] = []


def _release_locks() -> None:
    """Remove what this process created for its locks (the files while they are still held:
    no other process holds them meanwhile), then release them."""
    for path in reversed(_CREATED):
        try:
            if path.is_dir():
                path.rmdir()  # only when empty: another bot's lock may be in it
            else:
                path.unlink()
        except OSError:
            pass
    _CREATED.clear()
    for f in _HELD:
        f.close()
    _HELD.clear()


def hold_lock(path: Path, holder: dict, what: str) -> None:
    """An exclusive lock on `path` for this process's life, or a one-line refusal naming the
    process that holds it (its `holder` record, written into the lock file)."""
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a directory must be, no permission
        fail(f"{what}: cannot create {path.parent} for its lock ({exc.strerror or exc})")
    _CREATED.extend(reversed(missing))
    while True:
        created = False
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            created = True
        except FileExistsError:
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:  # removed meanwhile, by a refused start: again
                continue
            except OSError as exc:
                fail(f"{what}: cannot open its lock file {path} ({exc.strerror or exc})")
        except OSError as exc:
            fail(f"{what}: cannot create its lock file {path} ({exc.strerror or exc})")
        f = os.fdopen(fd, "r+")  # held open: the lock lives as long as the file
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            try:
                other = json.loads(f.read() or "{}")
            except ValueError:
                other = {}
            f.close()
            fail(_in_use(what, other))
        # a refused start may have removed the file between our open and our lock: then the
        # lock is on a file no other process will find; lock the one at the path instead
        try:
            here = os.stat(path)
        except FileNotFoundError:
            here = None
        mine = os.fstat(f.fileno())
        if here is not None and (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino):
            break
        f.close()
    if created:
        _CREATED.append(path)
    f.seek(0)
    f.truncate()
    f.write(json.dumps(holder))
    f.flush()
    _HELD.append(f)


def _in_use(what: str, holder: dict) -> str:
    running = ", ".join(
        f"{k} {holder[k]}" for k in ("pid", "role", "account", "checkpoint") if holder.get(k)
    )
    return f"{what} is in use by a running bot ({running or 'another process'}): stop it first"


def lock_problem(path: Path, what: str) -> str | None:
    """hold_lock's refusal, if another process holds the lock at `path`, without taking it or
    creating anything (keeper --check)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:  # none there: free (or a path hold_lock itself will name)
        return None
    with os.fdopen(fd, "r+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                other = json.loads(f.read() or "{}")
            except ValueError:
                other = {}
            return _in_use(what, other if isinstance(other, dict) else {})
        fcntl.flock(f, fcntl.LOCK_UN)
    return None


def account_lock(rpc: str, chain_id: int, address: str) -> Path:
    """Where the lock of `address` on the node at `rpc` lives (the system's temporary folder:
    bots started from different folders still meet)."""
    node = hashlib.sha256(f"{rpc.rstrip('/')}|{chain_id}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "backstop-keepers" / f"{node}-{address.lower()}.lock"


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    # (a value click could not convert is a mistake of its own, named by click)
    return name in ctx.params and source not in (None, click.core.ParameterSource.DEFAULT)


def _unused_options(ctx: click.Context) -> list[str]:
    """Options the bot took and never used (it started as if they were not there): the
    webhook's timeout without a webhook, --gas and --stuck-* for the notifier or a --read-only
    bot (they send nothing), --stuck-* with a fixed gas policy (never replaced); an empty
    --type."""
    p, problems = ctx.params, []
    role, webhook = p.get("role"), p.get("webhook")

    def given(name: str) -> bool:
        return _given(ctx, name)

    shared = bool(os.environ.get(SHARED_ARGS))  # make keepers: one KEEPER_ARGS for four roles
    if given("webhook_timeout"):
        if role is not None and role != "notifier":
            if not shared:  # (another role's option, in make keepers: ignored)
                problems.append(f"--webhook-timeout is for --role notifier, not {role}")
        elif role == "notifier" and webhook is None:
            problems.append("--webhook-timeout without --webhook: give --webhook URL, or drop it")
    if given("summary_every") and role is not None and role != "notifier" and not shared:
        problems.append(f"--summary-every is for --role notifier, not {role}")
    sending = [f"--{x.replace('_', '-')}" for x in ("stuck_blocks", "stuck_seconds") if given(x)]
    # (make keepers gives KEEPER_ARGS to every bot, the notifier too: it ignores those it need not)
    if role == "notifier" and not shared:
        for option in (["--gas"] if given("gas_spec") else []) + sending:
            problems.append(f"{option}: --role notifier sends no transactions, drop it")
    elif role is not None and role != "notifier" and (p.get("read_only") or not p.get("account")):
        # (make keepers gives its bots accounts: --read-only in KEEPER_ARGS is refused with them)
        why = (
            "a --read-only bot sends no transactions, drop it"
            if p.get("read_only")
            else "without --account the bot sends no transactions (give --account, or drop it)"
        )
        for option in (["--gas"] if given("gas_spec") else []) + sending:
            problems.append(f"{option}: {why}")
    elif sending and given("gas_spec") and str(p.get("gas_spec")).startswith("fixed:"):
        for option in sending:
            problems.append(
                f"{option}: a fixed gas policy never replaces a stuck transaction (drop it, or "
                "give --gas geometric:START_GWEI,FACTOR,CAP_GWEI)"
            )
    names = list(_types(p.get("types") or ()))
    if "" in names:
        problems.append(f"--type {','.join(p['types'])!r}: an empty type name")
    twice = [t for t in dict.fromkeys(names) if t and names.count(t) > 1]
    if twice:  # (`--type ETH-A --type ETH-A` was taken in silence)
        problems.append(f"--type: {', '.join(twice)} given more than once: give each type once")
    return problems


def _problems(ctx: click.Context) -> list[str]:
    """The keeper's checks that need no node, account or port (of the options click converted:
    `ctx.params`), one line per mistake: --gas, --min-profit, the webhook, the account's name
    (not unlocked here), the options that contradict the role or each other, --metrics-port's
    range, --rpc's URL, a deployment record given, a checkpoint's directory given. Called first
    by the command, and by one_line_usage where click refused a value too, so every mistake is
    named in one run."""
    p, problems = ctx.params, []
    role, account = p.get("role"), p.get("account")

    for key, parse in (("gas_spec", parse_gas), ("min_profit", parse_min_profit)):
        if p.get(key) is not None:
            try:
                parse(p[key])
            except ValueError as exc:
                problems.append(str(exc))
    webhook = p.get("webhook")
    if webhook is not None:
        try:
            check_webhook_url(webhook)
        except ValueError as exc:
            problems.append(str(exc))
        if role is not None and role != "notifier" and not os.environ.get(SHARED_ARGS):
            problems.append(f"--webhook is for --role notifier, not {role}")
    if account is not None:
        why = signer_problem(account)
        if why:
            problems.append(f"--account: {why}")
    if (
        role is not None
        and role != "taker"
        and ctx.get_parameter_source("min_profit") is not click.core.ParameterSource.DEFAULT
        and not os.environ.get(SHARED_ARGS)  # make keepers: the taker's, the others ignore it
    ):
        # only the taker weighs a profit; the others took the value and ignored it
        problems.append(f"--min-profit is for --role taker, not {role}")
    if role == "notifier" and account:
        problems.append(
            "--role notifier sends no transactions and holds no account: drop --account"
        )
    problems += _unused_options(ctx)
    if account and p.get("read_only"):
        problems.append("--read-only holds no account: drop --account")
    port, offset = p.get("metrics_port"), p.get("metrics_port_offset")
    if port is not None and not 0 <= port <= 65535:
        problems.append(f"--metrics-port must be from 0 to 65535, got {port}")
    elif port and offset and port + offset > 65535:
        problems.append(f"--metrics-port {port} + --metrics-port-offset {offset} is above 65535")
    if p.get("rpc") is not None:
        try:
            Node(p["rpc"], timeout=5, patience=10)
        except ValueError:  # not http(s), no host, a port out of range: a traceback before
            problems.append(f"--rpc {p['rpc']!r} is not an http(s) JSON-RPC URL (http://HOST:PORT)")
    if p.get("deployment_path") is not None:
        problem = record_option_problem(p["deployment_path"])
        if problem:
            problems.append(problem)
    keepers_dir = os.environ.get("BACKSTOP_KEEPERS_DIR")
    if keepers_dir and not p.get("checkpoint"):
        # the checkpoints' directory (made as needed): a file there, or above it, was named
        # only by the traceback of the first checkpoint's write
        problem = directory_problem("BACKSTOP_KEEPERS_DIR", keepers_dir)
        if problem:
            problems.append(problem)
    home = [home_unexpanded(f"--{k}", p[k]) for k in ("log", "checkpoint") if p.get(k)]
    problems += [h for h in home if h]
    if p.get("log") is not None and not home_unexpanded("--log", p["log"]):
        if not str(p["log"]).strip():
            problems.append("--log '' is empty: give a file, or leave --log out")
        else:
            problem = log_problem(Path(p["log"]), given=True)
            problem = problem or next(
                (f"--log {why}" for why in [unwritable(Path(p["log"]))] if why), None
            )
            if problem:
                problems.append(problem)
    checkpoint = p.get("checkpoint")
    if (
        checkpoint
        and not home_unexpanded("--checkpoint", checkpoint)
        and not Path(checkpoint).parent.is_dir()
    ):
        # it was created (a read-only keeper's /nonexistent/dir): a slip in a path given
        parent = Path(checkpoint).parent
        what = "is a file" if parent.exists() else "does not exist"
        problems.append(f"--checkpoint {checkpoint}: the directory {parent} {what}")
    return problems


def _refusal_problems(ctx: click.Context) -> list[str]:
    """one_line_usage's checks where click refused a value: `_problems`, and --type against the
    deployment (which the command checks once it has asked the node): make keepers' `--type
    ETH-A,DOGE-A --poll 1e400` named --poll only."""
    p = ctx.params
    types = _types(p.get("types") or ())
    if not types:
        return _problems(ctx)
    try:
        path = (
            Path(p["deployment_path"])
            if p.get("deployment_path")
            else node_record_path(Node(p["rpc"], timeout=2, patience=1))
        )
        names = load_record(path).types
    except (NodeUnavailable, RpcError, RecordError, ValueError, OSError, KeyError):
        return _problems(ctx)  # (the record's or the node's mistake: named at start)
    return _problems(ctx) + [
        f"--type {t}: the deployment has types {', '.join(names)}" for t in types if t not in names
    ]


def _bot_log(
    role: str, log_path: Path | None, summary_every: float
) -> tuple[Log, NoticeSummary | None]:
    """The bot's log (its file opened for appending, if any) and, for the notifier with a log
    file, its terminal summary: the per-vault lines go to the file alone."""
    log_file = None
    if log_path is not None:
        try:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_file = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 (the process's life)
        except OSError as exc:
            fail(f"--log {log_path}: {exc.strerror or exc}")
    summarized = role == "notifier" and summary_every > 0 and log_file is not None
    log = Log(
        role,
        file=log_file,
        quiet=QUIET if summarized else frozenset(),
    )
    return log, NoticeSummary(log, summary_every, str(log_path)) if summarized else None


@click.command(cls=one_line_usage("keeper", _refusal_problems))
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the bot does.")
@click.option(
    "--account",
    default=None,
    help="Who signs: dev:N (the devnet's N-th dev account) or an Ape account alias. "
    "Without it (or with --read-only) the bot holds no key and sends nothing.",
)
@click.option("--read-only", is_flag=True, help="No account: observe, decide and log only.")
@click.option("--dry-run", is_flag=True, help="Decide and log what would be sent; send nothing.")
@click.option("--rpc", default=DEFAULT_RPC, show_default=True, help="The node's JSON-RPC URL.")
@click.option(
    "--deployment",
    "deployment_path",
    default=None,
    help=f"The deployment record [default: {DEFAULT_DIR}/<chain id>-<genesis>.json, of the "
    "node's chain id and the first 8 hex digits of its block 0's hash].",
)
@click.option(
    "--checkpoint",
    default=None,
    help="The bot's checkpoint file [default: .keepers/<chain id>/<deployment>/<role>-<account>"
    ".json, <deployment> the record's identity (its node's genesis, addresses and first block); "
    "the directory from BACKSTOP_KEEPERS_DIR if set].",
)
@click.option(
    "--gas",
    "gas_spec",
    default="geometric:1,1.125,200",
    show_default=True,
    help="fixed:MAX_GWEI[,PRIORITY_GWEI] or geometric:START_GWEI,FACTOR,CAP_GWEI.",
)
@click.option("--min-profit", default="0", show_default=True, help="Taker: stablecoin after gas.")
@click.option(
    "--type",
    "types",
    multiple=True,
    help="Collateral types to act on, repeated or comma-separated [all].",
)
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve /metrics and /health on this port plus --metrics-port-offset (0: any free port).",
)
@click.option(
    "--metrics-port-offset",
    type=click.IntRange(min=0, max=65535),
    default=0,
    show_default=True,
    help="Added to --metrics-port (make keepers gives each role its own: liquidator 0, taker 1, "
    "backstop 2, notifier 3); ignored without --metrics-port.",
)
# the float options: finite (a NaN poll was a ValueError traceback in time.sleep, after the
# checkpoint had been written; a NaN limit never compares true, so it never applies)
@click.option(
    "--poll",
    type=FiniteFloatRange(min=0, min_open=True, max=MAX_POLL_S),
    default=0.25,
    show_default=True,
    help="Seconds per poll.",
)
@click.option(
    "--breaker",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Consecutive failures.",
)
@click.option(
    "--max-node-down",
    type=FiniteFloatRange(min=0),
    default=None,
    help="Stop after the node is gone this long [s].",
)
@click.option(
    "--webhook",
    default=None,
    help="Notifier: also POST each notice line (JSON) to this http(s) URL.",
)
@click.option(
    "--webhook-timeout",
    type=FiniteFloatRange(min=0, min_open=True, max=MAX_WEBHOOK_TIMEOUT_S),
    default=2.0,
    show_default=True,
    help="Notifier: seconds to wait for the webhook per line.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Run every check the bot runs before it starts (the options; the node, the record "
    "against it, --type, the account, --metrics-port free, the checkpoint and the locks), then "
    "exit (0: the bot would start; 2: its lines); nothing is started, sent or written. make "
    "keepers checks KEEPER_ARGS and the node once this way.",
)
@click.option(
    "--log",
    default=None,
    help="The bot's log file: every line, appended [the notifier's default: beside its "
    "checkpoint, <role>-<account>.log; the other roles': none, their lines on stdout].",
)
@click.option(
    "--summary-every",
    type=FiniteFloatRange(min=0, max=MAX_POLL_S),
    default=30.0,
    show_default=True,
    help="Notifier: seconds between two summary lines on stdout (counts, the worst vaults); "
    "every notice line goes to its log file. 0: every line on stdout too.",
)
@click.option("--stuck-blocks", type=click.IntRange(min=1), default=3, show_default=True)
@click.option(
    "--stuck-seconds",
    type=FiniteFloatRange(min=0, min_open=True),
    default=15.0,
    show_default=True,
)
def cli(
    role,
    account,
    read_only,
    dry_run,
    rpc,
    deployment_path,
    checkpoint,
    gas_spec,
    min_profit,
    types,
    metrics_port,
    metrics_port_offset,
    poll,
    breaker,
    max_node_down,
    webhook,
    webhook_timeout,
    check,
    log,
    summary_every,
    stuck_blocks,
    stuck_seconds,
):
    """Run one keeper bot until interrupted."""
    ctx = click.get_current_context()
    problems = _problems(ctx)
    if problems:
        # a dead node too, named with them (asked once), when --rpc was given: the default
        # URL's node is the environment's, not a mistake of this command line
        given = ctx.get_parameter_source("rpc") is not click.core.ParameterSource.DEFAULT
        fail("\n".join([*problems, *filter(None, [unanswered(rpc) if given else None])]))
    if check:  # (make keepers: its four bots would each print the same lines)
        problem = unanswered(rpc)  # asked once, without the bot's patience
        if problem:
            fail(problem)
    gas, profit = parse_gas(gas_spec), parse_min_profit(min_profit)
    if metrics_port and metrics_port_offset:  # 0 stays 0: any free port (range: _problems)
        metrics_port += metrics_port_offset
    if metrics_port:  # a busy port refused before any lock or checkpoint is touched
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            try:
                probe.bind(("127.0.0.1", metrics_port))
            except OSError as exc:
                fail(f"--metrics-port {metrics_port}: {exc.strerror or exc} (choose another, or 0)")
    signer: Signer | None = None
    if account:
        try:
            signer = resolve_signer(account)
        except SignerError as exc:
            fail(str(exc))
    node = Node(rpc, timeout=5, patience=10)
    try:
        chain_id = node.chain_id()
    except NodeUnavailable:
        fail(f"no JSON-RPC node answers at {rpc} (start one: make devnet)")
        return
    except RpcError as exc:
        fail(f"{rpc} is not an Ethereum JSON-RPC node: {exc}")
        return
    try:
        path = Path(deployment_path) if deployment_path else node_record_path(node)
        record = load_record(path)
        verify(record, node)
        record.deployment()  # its configuration loads and holds its types (the bot's first step)
        types = tuple(_types(types))
        bad = [t for t in types if t not in record.types]
        if bad:
            fail(
                "\n".join(
                    f"--type {t}: the deployment has types {', '.join(record.types)}" for t in bad
                )
            )
    except (RecordError, NodeUnavailable) as exc:
        fail(str(exc))
        return
    if signer is not None and not dry_run and node.balance(signer.address) == 0:
        fail(f"account {account} ({signer.address}) holds no ether to pay for gas")
    who = account.replace(":", "") if account else "read-only"
    checkpoint_path = (
        Path(checkpoint)
        if checkpoint
        else Path(os.environ.get("BACKSTOP_KEEPERS_DIR") or ".keepers")
        / str(chain_id)
        / record.identity  # another node (same chain id) or deployment: another folder
        / f"{role}-{who}.json"
    )
    if checkpoint and not checkpoint_path.parent.is_dir():
        # it was created (a read-only keeper's /nonexistent/dir): a slip in a path given
        what = "is a file" if checkpoint_path.parent.exists() else "does not exist"
        fail(f"--checkpoint {checkpoint}: the directory {checkpoint_path.parent} {what}")
    if checkpoint_path.is_dir():  # an IsADirectoryError traceback, after the lock was taken
        fail(f"--checkpoint {checkpoint_path} is a directory, not a checkpoint file")
    problems = _checkpoint_problems(
        Checkpoint(checkpoint_path, record.chain_id, record.identity, role),
        node,
        types or record.types,
        sends=signer is not None and not dry_run,
        taker=role == "taker",
    )
    log_path = (
        Path(log) if log else checkpoint_path.with_suffix(".log") if role == "notifier" else None
    )
    if log_path is not None and not log:  # the default, beside the checkpoint: checked too
        problems += [x for x in [log_problem(log_path, given=False)] if x]
    if problems:
        fail("\n".join(problems))
    account_lock_path = (
        account_lock(rpc, chain_id, signer.address) if signer is not None and not dry_run else None
    )
    checkpoint_lock_path = checkpoint_path.with_name(checkpoint_path.name + ".lock")
    if check:  # every check the bot runs before it acts, but the locks not taken: probed
        busy = [
            lock_problem(account_lock_path, f"account {signer.address}")
            if account_lock_path is not None and signer is not None
            else None,
            lock_problem(checkpoint_lock_path, f"checkpoint {checkpoint_path}"),
        ]
        if any(busy):
            fail("\n".join(filter(None, busy)))
        return
    holder = {
        "pid": os.getpid(),
        "role": role,
        "account": signer.address if signer is not None else None,
        "checkpoint": str(checkpoint_path),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if account_lock_path is not None and signer is not None:
        hold_lock(account_lock_path, holder, f"account {signer.address}")
    hold_lock(checkpoint_lock_path, holder, f"checkpoint {checkpoint_path}")
    options = BotOptions(
        role,
        record,
        rpc,
        checkpoint_path,
        signer,
        gas,
        dry_run=dry_run,
        poll_seconds=poll,
        breaker=breaker,
        max_node_down=max_node_down,
        stuck_blocks=stuck_blocks,
        stuck_seconds=stuck_seconds,
        min_profit=profit,
        metrics_port=metrics_port,
        types=list(types),
        webhook=webhook,
        webhook_timeout=webhook_timeout,
    )
    artifacts, reader = project_code()
    bot_log, summary = _bot_log(role, log_path, summary_every)
    try:
        bot = Bot(options, artifacts, reader, bot_log)
        bot.summary = summary
        try:
            bot.serve_metrics()  # before resuming: a busy port stops nothing midway
        except OSError as exc:
            fail(f"--metrics-port {metrics_port}: {exc.strerror or exc} (choose another, or 0)")
        try:
            bot.resume()
        except (KeyError, TypeError) as exc:  # a field missing or of another kind
            fail(
                f"{checkpoint_path}: a checkpoint this bot cannot read ({type(exc).__name__}: "
                f"{exc}; delete it to start over: the bot reads the chain again)"
            )
        if role == "taker":
            ensure_flash_takers(bot)
            bot.on_chain_change.append(lambda: ensure_flash_takers(bot))
            bot.on_round.append(lambda: rebind_flash_takers(bot))
    except (CheckpointError, RecordError, BotStopped, NodeUnavailable) as exc:
        fail(str(exc))
        return
    sys.exit(bot.run())


__all__ = ["attach", "cli"]

if __name__ == "__main__":
    cli()
