"""`ape run keeper` (and `python -m offchain.live.cli`): one keeper bot, by role.

    ape run keeper --role liquidator --account dev:2
    ape run keeper --role taker --account my-taker --min-profit 50 --gas geometric:2,1.125,200
    ape run keeper --role backstop --account dev:4 --dry-run
    ape run keeper --role liquidator --read-only --metrics-port 9101

Bad input (a role, an account alias, a gas policy, no node at --rpc, a missing or mismatched
deployment record, a chain id mismatch, an account without ether, a busy --metrics-port): one
line naming the problem, exit status 2, nothing sent.

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
import sys
import tempfile
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from offchain.backends import RpcError, project_code
from offchain.live.bots import ROLES, Bot, BotOptions, BotStopped, attach
from offchain.live.deploy import ensure_flash_takers
from offchain.live.follower import CheckpointError
from offchain.live.gas import GWEI, PPM, FixedGas, GasPolicy, GeometricGas
from offchain.live.node import Node, NodeUnavailable
from offchain.live.record import DEFAULT_DIR, RecordError, load_record, record_path, verify
from offchain.live.signers import Signer, SignerError, resolve_signer
from offchain.model.fixed_point import WAD
from offchain.system.cli import failing, one_line_usage

DEFAULT_RPC = "http://127.0.0.1:8545"


fail = failing("keeper")


def parse_gas(spec: str) -> GasPolicy:
    """`fixed:MAX_GWEI[,PRIORITY_GWEI]` or `geometric:START_GWEI,FACTOR,CAP_GWEI`."""
    kind, _, rest = spec.partition(":")
    try:
        parts = [Decimal(x) for x in rest.split(",")] if rest else []
    except InvalidOperation:
        raise ValueError(f"--gas {spec!r}: numbers expected after {kind}:") from None
    if kind == "fixed" and len(parts) in (1, 2):
        max_fee = int(parts[0] * GWEI)
        return FixedGas(max_fee, int(parts[1] * GWEI) if len(parts) == 2 else min(GWEI, max_fee))
    if kind == "geometric" and len(parts) == 3:
        return GeometricGas(int(parts[0] * GWEI), int(parts[1] * PPM), int(parts[2] * GWEI))
    raise ValueError(
        f"--gas {spec!r}: expected fixed:MAX_GWEI[,PRIORITY_GWEI] or "
        "geometric:START_GWEI,FACTOR,CAP_GWEI"
    )


# the locks this process holds (closing a file would release its lock)
_HELD: list = []


def hold_lock(path: Path, holder: dict, what: str) -> None:
    """An exclusive lock on `path` for this process's life, or a one-line refusal naming the
    process that holds it (its `holder` record, written into the lock file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a+")  # noqa: SIM115 (held open: the lock lives as long as the file)
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        try:
            other = json.loads(f.read() or "{}")
        except ValueError:
            other = {}
        f.close()
        running = ", ".join(
            f"{k} {other[k]}" for k in ("pid", "role", "account", "checkpoint") if other.get(k)
        )
        fail(f"{what} is in use by a running bot ({running or 'another process'}): stop it first")
    f.seek(0)
    f.truncate()
    f.write(json.dumps(holder))
    f.flush()
    _HELD.append(f)


def account_lock(rpc: str, chain_id: int, address: str) -> Path:
    """Where the lock of `address` on the node at `rpc` lives (the system's temporary folder:
    bots started from different folders still meet)."""
    node = hashlib.sha256(f"{rpc.rstrip('/')}|{chain_id}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "backstop-keepers" / f"{node}-{address.lower()}.lock"


@click.command(cls=one_line_usage("keeper"))
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
    help=f"The deployment record [default: {DEFAULT_DIR}/<the node's chain id>.json].",
)
@click.option(
    "--checkpoint",
    default=None,
    help="The bot's checkpoint file [default: .keepers/<chain id>/<role>-<account>.json; "
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
@click.option("--type", "types", multiple=True, help="Collateral types to act on [all].")
@click.option("--metrics-port", type=int, default=None, help="Serve /metrics and /health.")
@click.option("--poll", type=float, default=0.25, show_default=True, help="Seconds per poll.")
@click.option("--breaker", type=int, default=5, show_default=True, help="Consecutive failures.")
@click.option(
    "--max-node-down", type=float, default=None, help="Stop after the node is gone this long [s]."
)
@click.option("--stuck-blocks", type=int, default=3, show_default=True)
@click.option("--stuck-seconds", type=float, default=15.0, show_default=True)
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
    poll,
    breaker,
    max_node_down,
    stuck_blocks,
    stuck_seconds,
):
    """Run one keeper bot until interrupted."""
    try:
        gas = parse_gas(gas_spec)
        profit = int(Decimal(min_profit) * WAD)
    except (ValueError, InvalidOperation) as exc:
        fail(str(exc) if isinstance(exc, ValueError) else f"--min-profit {min_profit!r}")
        return
    if breaker < 1 or poll <= 0:
        fail("--breaker must be at least 1 and --poll positive")
    if metrics_port is not None and not 0 <= metrics_port <= 65535:
        fail(f"--metrics-port must be from 0 to 65535, got {metrics_port}")
    signer: Signer | None = None
    if account and read_only:
        fail("--read-only holds no account: drop --account")
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
    path = Path(deployment_path) if deployment_path else record_path(chain_id)
    try:
        record = load_record(path)
        verify(record, node)
        bad = [t for t in types if t not in record.types]
        if bad:
            fail(f"--type {bad[0]}: the deployment has types {', '.join(record.types)}")
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
        / f"{role}-{who}.json"
    )
    holder = {
        "pid": os.getpid(),
        "role": role,
        "account": signer.address if signer is not None else None,
        "checkpoint": str(checkpoint_path),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if signer is not None and not dry_run:
        hold_lock(account_lock(rpc, chain_id, signer.address), holder, f"account {signer.address}")
    hold_lock(
        checkpoint_path.with_name(checkpoint_path.name + ".lock"),
        holder,
        f"checkpoint {checkpoint_path}",
    )
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
    )
    artifacts, reader = project_code()
    try:
        bot = Bot(options, artifacts, reader)
        try:
            bot.serve_metrics()  # before resuming: a busy port stops nothing midway
        except OSError as exc:
            fail(f"--metrics-port {metrics_port}: {exc.strerror or exc} (choose another, or 0)")
        bot.resume()
        if role == "taker":
            ensure_flash_takers(bot)
            bot.on_chain_change.append(lambda: ensure_flash_takers(bot))
    except (CheckpointError, RecordError, BotStopped, NodeUnavailable) as exc:
        fail(str(exc))
        return
    sys.exit(bot.run())


__all__ = ["attach", "cli"]

if __name__ == "__main__":
    cli()
