"""`make devnet` / `ape run devnet`: a persistent local devnet with Backstop deployed.

    ape run devnet                        # port 8545, state in deployments/devnet-state.json
    ape run devnet --port 8546 --state /tmp/other.json --block-time 2
    ape run devnet --node hardhat         # Hardhat Network; journal in
                                          #   deployments/devnet-hardhat.jsonl

Starts Anvil with its state kept in a file (loaded at start, written when it changes and when it
stops), or Hardhat Network with its chain kept in a journal (replayed at start,
offchain/live/hardhat_devnet.py), deploys Backstop, or finds the deployment already recorded in
deployments/<chain id>-<genesis>.json and verifies it against the node (code hashes), writes the
record, and runs until interrupted (Ctrl-C), when the node writes its state and stops. Then, in
other terminals: `ape run keeper --role ...` (the bots) and `ape run market ...` (prices and
time).

A restart comes back with the same chain, genesis block included (the record is named by it),
or is refused with one line: a state file whose genesis cannot be told, a node that came up with
another block 0, a kept chain that already holds a deployment no record in --records names
(Backstop is never deployed over it a second time; a deployment cut short before its record was
written is deployed again).
"""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import click

from offchain.backends.anvil import AnvilError
from offchain.live.deploy import DeployError, UnrecordedDeployment, ensure_deployment
from offchain.live.devnet import DEV_CHAIN_ID, DevnetNode, DevnetProcess
from offchain.live.hardhat_devnet import HardhatDevnetNode
from offchain.live.journal import JOURNAL_FORMAT, JournalError, read_journal
from offchain.live.record import DEFAULT_DIR, record_path
from offchain.live.signers import dev_signer
from offchain.system.cli import (
    FiniteFloatRange,
    directory_problem,
    failing,
    home_unexpanded,
    one_line_usage,
)
from offchain.system.config import DEFAULT_CONFIG, config_option_problems, load_config

fail = failing("devnet")


def _port_problem(port: int) -> str | None:
    if not 1 <= port <= 65535:
        return f"--port must be from 1 to 65535, got {port}"
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return (
                f"port {port} is in use (another devnet or node?): stop it, or choose another "
                "--port"
            )
    return None


def _journal_problem(journal: Path) -> str | None:
    """Hardhat's devnet: the journal must be one (offchain/live/hardhat_devnet.py); anything
    else is refused before Hardhat is started, and left as it is."""
    if not journal.exists():
        return None
    try:
        header = read_journal(journal).header
    except JournalError as exc:
        return (
            f"--state {journal} is not a devnet journal ({exc}): move it away to start a fresh "
            "devnet"
        )
    if header.get("chain_id", DEV_CHAIN_ID) != DEV_CHAIN_ID:
        # (Hardhat was started, wrote its log beside the journal, then the genesis differed)
        return (
            f"--state {journal} is the journal of chain id {header.get('chain_id')!r}, not the "
            f"devnet's {DEV_CHAIN_ID}: move it away to start a fresh devnet"
        )
    return None


def _state_problem(state_file: Path) -> str | None:
    """A state file is Anvil's JSON dump; anything else (a torn copy, another file) is refused
    before Anvil is started on it, and left as it is."""
    if not state_file.exists():
        return None
    if state_file.is_dir():
        return f"--state {state_file} is a directory, not a devnet state file"
    if _is_journal(state_file):
        return (
            f"--state {state_file} is not a devnet state file (a Hardhat journal: start it with "
            "--node hardhat)"
        )
    try:
        with open(state_file, "rb") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not JSON"
        return (
            f"--state {state_file} is not a devnet state file ({reason}): move it away to start "
            "a fresh devnet"
        )
    if not isinstance(data, dict) or "accounts" not in data:
        return (
            f"--state {state_file} is not a devnet state file (no accounts): move it away to "
            "start a fresh devnet"
        )
    return None


def _problems(ctx: click.Context) -> list[str]:
    """devnet's checks of its options (those click converted: `ctx.params`), one line per
    mistake, before any node starts: the port, the records directory, the config, the state
    file or journal. Called first by the command, and by one_line_usage where click refused a
    value too, so every mistake is named in one run."""
    p, problems = ctx.params, []
    if p.get("port") is not None:
        problems.append(_port_problem(p["port"]))
    records = p.get("records")
    if records is not None:
        problems.append(directory_problem("--records", records))
    if p.get("config_path") is not None:
        problems.extend(config_option_problems(p["config_path"]))
    node_kind, state = p.get("node_kind"), p.get("state")
    if node_kind is not None:
        state_file = Path(state) if state is not None else DEFAULT_DIR / STATE_FILES[node_kind]
        if state is not None and (home := home_unexpanded("--state", state)):
            problems.append(home)
        elif state is not None and not state_file.parent.is_dir():
            # it was created: a slip in a path given (the default folder is made as needed)
            what = "is a file" if state_file.parent.exists() else "does not exist"
            problems.append(f"--state {state}: the directory {state_file.parent} {what}")
        elif node_kind == "hardhat":
            problems.append(_journal_problem(state_file))
        else:
            problems.append(_state_problem(state_file))
    return [line for line in problems if line]


def _is_journal(path: Path) -> bool:
    """The file opens with a Hardhat devnet's journal header (its first line only: an Anvil
    state file can be tens of MB)."""
    try:
        with open(path, "rb") as f:
            header = json.loads(f.readline(4096))
    except (OSError, ValueError):
        return False
    return isinstance(header, dict) and header.get("format") == JOURNAL_FORMAT


STATE_FILES = {"anvil": "devnet-state.json", "hardhat": "devnet-hardhat.jsonl"}
DEFAULT_PORT = 8545  # the port the other commands' --rpc defaults to


def next_commands(url: str, port: int, records: Path, record: Path) -> str:
    """What to run next, in other terminals, for this devnet: the bare commands on the default
    port and records folder; else each with the --rpc (and --deployment) that reach this one
    (the hint dropped them: `make keepers` then looked for a node on 8545)."""
    if port == DEFAULT_PORT and records.resolve() == DEFAULT_DIR.resolve():
        return (
            "next, in other terminals: make keepers (the four bots), make market (a crash at "
            "600x), then make reconcile; ape console --network ethereum:devnet:node (its "
            "contracts as bs)"
        )
    args = f"--rpc {url}"
    console = f"ape console --network {url}"
    if records.resolve() != DEFAULT_DIR.resolve():
        args += f" --deployment {record}"
        console = f"BACKSTOP_DEPLOYMENTS={records} {console}"
    return "\n".join(
        [
            "next, in other terminals (this devnet's node and record, not the defaults):",
            f'  make keepers KEEPER_ARGS="{args}"',
            f'  make market MARKET_ARGS="{args}"',
            f'  make reconcile RECONCILE_ARGS="{args}"',
            f"  {console}",
        ]
    )


def _stop(node: DevnetProcess) -> None:
    """Stop the node (it writes its state or journal first) with Ctrl-C and SIGTERM ignored: a
    second Ctrl-C (pressed twice, or sent again by a wrapper such as `timeout`) used to interrupt
    the stop itself and leave the node running on its port, its last blocks unsaved."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    node.stop()


@click.command(cls=one_line_usage("devnet", _problems))
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="1 to 65535.")
@click.option(
    "--node",
    "node_kind",
    type=click.Choice(["anvil", "hardhat"]),
    default="anvil",
    show_default=True,
    help="Anvil, or Hardhat Network (its chain kept in a journal: docs/nodes.md).",
)
@click.option(
    "--state",
    "state",
    default=None,
    help=f"Anvil's state file [{DEFAULT_DIR / STATE_FILES['anvil']}], or Hardhat's journal "
    f"[{DEFAULT_DIR / STATE_FILES['hardhat']}].",
)
@click.option("--config", "config_path", default=str(DEFAULT_CONFIG), show_default=True)
@click.option(
    "--block-time",
    type=FiniteFloatRange(min=0, min_open=True, max=86400),
    default=None,
    help="Seconds per block, at most a day [automine].",
)
@click.option(
    "--records",
    "records",
    default=str(DEFAULT_DIR),
    show_default=True,
    help="Directory of the deployment records (<chain id>-<genesis>.json) the other commands read.",
)
def cli(port, node_kind, state, config_path, block_time, records):
    """Start the persistent devnet, deploy or verify Backstop, and keep running."""
    problems = _problems(click.get_current_context())
    if problems:
        fail("\n".join(problems))
    config = load_config(Path(config_path))
    state_file = Path(state) if state is not None else DEFAULT_DIR / STATE_FILES[node_kind]
    from offchain.backends import project_code

    artifacts, reader = project_code()
    state_file.parent.mkdir(parents=True, exist_ok=True)
    log_file = state_file.with_name(f"devnet-{node_kind}.log")
    drop_log = []  # a refusal once the node ran: the log it started is not left behind
    log_existed = log_file.exists()
    node = (
        HardhatDevnetNode(port, state_file, block_time, log_file=log_file)
        if node_kind == "hardhat"
        else DevnetNode(port, state_file, block_time, log_file=log_file)
    )
    # Ctrl-C is how a devnet is stopped: a clean stop with exit status 0. (Ape's own SIGINT
    # handler exits with status 130, which `make devnet` reported as "Error 130".)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    serving = interrupted = False
    try:
        node.start()
    except (AnvilError, JournalError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        _stop(node)
        fail("interrupted while the node started", status=130)
    try:
        record, fresh = ensure_deployment(
            node.url,
            artifacts,
            reader,
            config,
            Path(config_path),
            dev_signer(0),
            dev_signer(1),
            Path(records),
            # `make keepers`' backstop bot (dev:4) charges what a deleveraging layer parks
            deleverager=dev_signer(4).address,
        )
        path = record_path(record.chain_id, record.genesis_hash, Path(records))
        given = click.get_current_context().get_parameter_source("config_path")
        if (
            not fresh
            and given is not click.core.ParameterSource.DEFAULT
            and record.config() != config
        ):
            # the deployment found was kept and the --config given ignored in silence
            drop_log.append(not log_existed)
            raise DeployError(
                f"--config {config_path}: the deployment on this state ({path}) was made with "
                "other parameters; start a fresh devnet for it (another --state), or drop "
                "--config"
            )
        kept = "state in"
        if isinstance(node, HardhatDevnetNode):
            kept = (
                f"Hardhat Network; journal replayed ({node.replayed_blocks} blocks, "
                f"{node.replayed_transactions} transactions in {node.replay_seconds:.1f} s) and "
                "kept in"
                if node.replayed_blocks
                else "Hardhat Network; journal in"
            )
        click.echo(
            f"devnet: {node.url} (chain id {record.chain_id}), {kept} {state_file}\n"
            + (
                f"deployed Backstop (blocks {record.first_block}-{record.last_block}, "
                f"{len(record.transactions)} transactions); record: {path}"
                if fresh
                else f"found Backstop deployed at block {record.first_block}, code verified; "
                f"record: {path}"
            )
        )
        if isinstance(node, DevnetNode) and node.stand_ins_dropped:
            click.echo(
                f"(the state file held {node.stand_ins_dropped} more blocks 0 beside its "
                "genesis, which Anvil had added at earlier starts and which could have been "
                "loaded as the chain's genesis: dropped)"
            )
        click.echo(next_commands(node.url, port, Path(records), path))
        click.echo("Ctrl-C stops the node (its state is kept).")
        serving = True
        while not stop:
            time.sleep(0.5)
    except UnrecordedDeployment as exc:
        # the kept chain is the user's: the node stops, its state written, nothing deployed
        drop_log.append(not log_existed)
        fail(
            f"{exc}, or move {state_file} away to start a fresh devnet (Backstop is not deployed "
            "a second time over a kept chain)"
        )
    except (DeployError, ValueError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        interrupted = not serving
    finally:
        _stop(node)
        if any(drop_log):
            log_file.unlink(missing_ok=True)
    if interrupted:
        fail(
            "interrupted before the deployment was recorded; the next start deploys again",
            status=130,
        )
    click.echo(f"devnet: stopped; state kept in {state_file}")
