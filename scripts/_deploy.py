"""`ape run deploy`: deploy Backstop, in lockstep with the off-chain model, write the deployment
record (deployments/<chain id>-<genesis>.json, as `make devnet` does) and print the deployed
contracts and parameters.

    ape run deploy                                    # ape starts a local Anvil
    ape run deploy --network ethereum:devnet:node     # make devnet's node (ape-config.yaml's
                                                      # named network, :8545)
    ape run deploy --network ethereum:local:foundry   # another running node: with
                                                      # APE_FOUNDRY_HOST=http://127.0.0.1:PORT
    ape run deploy --account deployer --feeder-account feeder   # Ape accounts, one per role
    ape run deploy --dry-run                          # each transaction's gas; nothing sent
    ape run deploy --verify                           # the recorded deployment against the node

Signers: `--account` (governance) and `--feeder-account` (the price feeder) take an Ape account
alias (`ape accounts generate NAME` / `import NAME`) or `dev:N`, the devnet's N-th dev account
(default dev:0 and dev:1). Every transaction is signed locally and sent raw. The recipe moves
block time past the oracle delay, so the node must be Anvil: a local devnet, or a fork network
configured in ape-config.yaml (docs/keepers.md). Bad input (a config, an account, a node that is
not Anvil, no node answering at APE_FOUNDRY_HOST, an account without ether, a record of another
deployment): one line, exit status 2, nothing sent.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import requests
from ape.cli import ConnectedProviderCommand

from offchain.backends import Divergence, project_code
from offchain.backends.anvil import keep_ape_anvil_history_in_memory
from offchain.backends.probe import NoAnswer, wait_for_answer
from offchain.live.deploy import DeployError, deploy_recorded, estimate_deployment, require_devnet
from offchain.live.node import SLOW_NODE_S, Node, NodeUnavailable
from offchain.live.record import (
    DEFAULT_DIR,
    RecordError,
    genesis_hash,
    load_record,
    record_path,
    verify,
)
from offchain.live.signers import SignerError, resolve_signer, signer_address, signer_problem
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.price_curves import CurveKind
from offchain.system.cli import directory_problem, repeated_options
from offchain.system.config import (
    DEFAULT_CONFIG,
    SECONDS_PER_YEAR,
    ConfigError,
    config_option_problems,
    load_config,
)
from offchain.system.reads import read_chain_state, read_model_state, state_keys

# before ape-foundry starts its Anvil for this command (the default network): its history pruned
keep_ape_anvil_history_in_memory()


class BadInput(click.ClickException):
    """A user mistake: `deploy: ...`, one line per mistake, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        # a config with several mistakes names each on its own line, named by the command as
        # every other command's are (it was click's `Error:`)
        for line in self.format_message().splitlines():
            click.echo(f"deploy: {line}", err=True)


MAX_GAS_PRICE_GWEI = Decimal(10**6)  # as the keepers' --gas (offchain/live/cli.py)


def parse_gas_price(text: str) -> int:
    """--gas-price GWEI -> wei: a finite number from 0 to 10**6 gwei, at most 9 decimals (wei)."""
    try:
        value = Decimal(text.strip())
    except (ArithmeticError, ValueError):
        raise BadInput(f"--gas-price {text!r}: not a number (gwei)") from None
    if not value.is_finite() or not 0 <= value <= MAX_GAS_PRICE_GWEI:
        raise BadInput(f"--gas-price {text!r}: must be from 0 to {MAX_GAS_PRICE_GWEI:,} gwei")
    wei = value * 10**9
    if wei != wei.to_integral_value():
        raise BadInput(f"--gas-price {text!r}: finer than 1 wei")
    return int(wei)


def _exact(value: Decimal) -> str:
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_gwei(wei: int) -> str:
    """A price in gwei, exactly (9 decimals at most, trailing zeros dropped)."""
    return _exact(Decimal(wei) / 10**9)


def format_ether(wei: int) -> str:
    """An amount in ether, exactly (18 decimals at most, trailing zeros dropped)."""
    return _exact(Decimal(wei) / WAD)


def _amount(value: int, unit: int) -> str:
    return f"{Decimal(value) / Decimal(unit):,.2f}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _answers(url: str) -> bool:
    """A node answers at `url`: at once when refused, a slow answer waited out (probe.py)."""
    try:
        wait_for_answer(url, SLOW_NODE_S, refused_s=0, first_wait_s=3)
    except (NoAnswer, requests.RequestException, ValueError):
        return False
    return True


class _ToTheNodeNamed(ConnectedProviderCommand):
    """Ape's connected command, which first reads the config and checks that a node named by
    APE_FOUNDRY_HOST answers: ape-foundry would otherwise start an Anvil of its own there and
    deploy to it, and a user who meant a running node would see success (issue 34)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # a value click or Ape refuses is one line too (an unknown --network printed Ape's list
        # of every ecosystem it knows: 64 lines), not click's usage block
        try:
            _, _, order = self.make_parser(ctx).parse_args(args=list(args))
        except click.UsageError:
            order = []  # (Ape's parse below names it)
        # `--config a --config b`: the last was taken in silence; named with the rest (invoke)
        ctx.meta["backstop.repeated"] = repeated = repeated_options(order)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            lines = exc.format_message().splitlines()
            first = lines[0].removesuffix(" Options:").rstrip(".") if lines else str(exc)
            hint = " (ape networks list shows them)" if "--network" in first else ""
            raise BadInput("\n".join([*repeated, first + hint])) from None

    def invoke(self, ctx: click.Context):
        # every option first, each mistake a line: before Ape starts (or connects to) a node,
        # not an error between the node's start and stop lines
        if "--help" not in ctx.args:
            problems = [*ctx.meta.get("backstop.repeated", []), *_problems(ctx.params)]
            host = os.environ.get("APE_FOUNDRY_HOST", "").strip()
            if host and host != "auto" and not _answers(host):
                problems.append(
                    f"no node answers at {host} (APE_FOUNDRY_HOST): start it, or unset "
                    "APE_FOUNDRY_HOST to deploy to a fresh local Anvil"
                )
            if not (host and host != "auto"):
                verify = ctx.params.get("verify_only") and not ctx.params.get("dry_run")
                problems.append(_network_problem(ctx, bool(verify)))
            problems = [line for line in problems if line]
            if problems:
                raise BadInput("\n".join(problems))
        return super().invoke(ctx)


def _network_problem(ctx: click.Context, verify_only: bool) -> str | None:
    """The network's mistake, before Ape connects: a node-provider network (ape-config.yaml's
    ethereum:devnet:node) whose node does not answer (Ape's traceback, "No (supported) node
    found"), or --verify on a network whose node Ape starts for the command (ape-foundry's local
    network, its host `auto`: a fresh Anvil, nothing deployed on it); else None."""
    from ape.cli.commands import parse_network

    try:
        manager = parse_network(ctx)
    except Exception:  # noqa: BLE001 (Ape's own refusal follows, when it connects)
        return None
    provider = getattr(manager, "_provider", None)  # (not connected: `provider` would raise)
    if provider is None:
        return None
    if provider.name == "node":
        uri = getattr(provider, "uri", None)
        if isinstance(uri, str) and uri.startswith("http") and not _answers(uri):
            return f"no node answers at {uri}: start it (make devnet), or give another --network"
        return None
    if verify_only and provider.name == "foundry" and provider.network.name == "local":
        return (
            "--verify checks a running node's deployment, and the local network starts a new node "
            "for this command: give --network ethereum:devnet:node (make devnet's node) "
            "or APE_FOUNDRY_HOST"
        )
    return None


def _problems(p: dict[str, Any]) -> list[str]:
    """deploy's checks of its options, one line per mistake, before any node: the runs that
    contradict each other, --gas-price, --deployments (a directory the record can be written
    in), the config, the two accounts (named, not yet unlocked)."""
    problems: list[str | None] = []
    dry_run, verify_only = p.get("dry_run"), p.get("verify_only")
    if dry_run and verify_only:  # --verify read the record and ignored --dry-run
        problems.append("--dry-run and --verify are two different runs: give one")
    gas_price = p.get("gas_price_text")
    if gas_price is not None:
        if not dry_run:  # it prices an estimate: a deployment pays what the node asks
            problems.append("--gas-price prices a --dry-run: give --dry-run, or drop it")
        try:
            parse_gas_price(gas_price)
        except BadInput as exc:
            problems.append(exc.message)
    directory = p.get("directory")
    if directory is not None:  # (read by --verify, unused by --dry-run: its value still checked)
        write = not (dry_run or verify_only)
        problems.append(directory_problem("--deployments", directory, write=write))
    # (--verify reads neither the config nor the accounts; given, they are still checked: with
    # --dry-run beside it, which run was meant is not known)
    config_path = p.get("config_path")
    problems.extend(
        config_option_problems(str(DEFAULT_CONFIG if config_path is None else config_path))
    )
    for option, key in (("--account", "account"), ("--feeder-account", "feeder_account")):
        if p.get(key) is not None:
            why = signer_problem(p[key])
            problems.append(f"{option}: {why}" if why else None)
    if p.get("account") is not None and p.get("feeder_account") is not None:
        governance = signer_address(p["account"])
        if governance is not None and governance == signer_address(p["feeder_account"]):
            # (dev:0 given to --feeder-account alone: --account's default was not named)
            problems.append(
                f"--account {p['account']} and --feeder-account {p['feeder_account']} must be "
                "different accounts (their defaults: dev:0 and dev:1)"
            )
    return [line for line in problems if line]


@click.command(cls=_ToTheNodeNamed)
@click.option(
    "--config",
    "config_path",
    default=str(DEFAULT_CONFIG),
    show_default=True,
    help="Deployment parameters (TOML).",
)
@click.option(
    "--account", default="dev:0", show_default=True, help="Governance: an Ape account or dev:N."
)
@click.option(
    "--feeder-account",
    default="dev:1",
    show_default=True,
    help="The price feeder: an Ape account or dev:N.",
)
@click.option(
    "--deployments",
    "directory",
    default=None,
    help="Where the record <chain id>-<genesis>.json is written (or read, with --verify) "
    f"[{DEFAULT_DIR}; not written for a node Ape started for this command, which stops with it].",
)
@click.option("--dry-run", is_flag=True, help="Estimate every transaction; send and write nothing.")
@click.option("--verify", "verify_only", is_flag=True, help="Check the record against the node.")
@click.option(
    "--gas-price",
    "gas_price_text",
    default=None,
    help="With --dry-run: the cost at this gas price [gwei] (default: the node's base fee, "
    "which is near 0 on a devnet).",
)
def cli(
    provider, config_path, account, feeder_account, directory, dry_run, verify_only, gas_price_text
):
    """Deploy the full system, record it and print it."""
    # (the options were checked before the node: _problems)
    gas_price = None if gas_price_text is None else parse_gas_price(gas_price_text)
    url = provider.uri
    node = Node(url, timeout=30, patience=5)
    try:
        chain_id = node.chain_id()
        path = record_path(
            chain_id, genesis_hash(node), Path(directory) if directory else DEFAULT_DIR
        )
    except NodeUnavailable:
        raise BadInput(f"no JSON-RPC node answers at {url}") from None
    except RecordError as exc:
        raise BadInput(str(exc)) from None
    # a node Ape started for this command stops with it: its record would name a chain that is
    # gone, so it is kept only if asked for
    ephemeral = getattr(provider, "process", None) is not None
    keep_record = directory is not None or not ephemeral
    if verify_only:
        try:
            record = load_record(path)
            verify(record, node)
        except RecordError as exc:
            raise BadInput(str(exc)) from None
        click.echo(
            f"{path}: verified against {url} (chain id {chain_id}): "
            f"{len(record.addresses())} contracts, code hashes match; deployed in blocks "
            f"{record.first_block}-{record.last_block}"
        )
        return
    try:
        config = load_config(Path(config_path))
        governance = resolve_signer(account)
        feeder = resolve_signer(feeder_account)
        require_devnet(node)
    except (ConfigError, SignerError, DeployError) as exc:
        raise BadInput(str(exc)) from None
    if governance.address == feeder.address:
        raise BadInput("--account and --feeder-account must be different accounts")
    for role, signer, spec in (
        ("governance", governance, account),
        ("feeder", feeder, feeder_account),
    ):
        if node.balance(signer.address) == 0:
            raise BadInput(
                f"{role} account {spec} ({signer.address}) holds no ether to pay for gas"
            )
    if not dry_run and keep_record and path.exists():
        try:
            existing = load_record(path)
            verify(existing, node)
        except RecordError:
            raise BadInput(
                f"{path} records another deployment on chain id {chain_id} (not this node's): "
                "move it away, or record this one elsewhere with --deployments DIR"
            ) from None
        raise BadInput(
            f"Backstop is already deployed on this node ({path}); ape run deploy --verify checks it"
        )
    artifacts, reader = project_code()
    if dry_run:
        try:
            estimates = estimate_deployment(url, artifacts, reader, config, governance, feeder)
        except Divergence as exc:
            raise click.ClickException(
                f"chain and model disagree during deployment: {exc}"
            ) from None
        per_contract: dict[str, list[int]] = {}
        for e in estimates:
            per_contract.setdefault(e.contract, [0, 0, 0])
            per_contract[e.contract][0] += 1
            per_contract[e.contract][1] += e.estimate
            per_contract[e.contract][2] += e.used
        rows = [
            [name, str(n), f"{est:,}", f"{used:,}"] for name, (n, est, used) in per_contract.items()
        ]
        total_est = sum(e.estimate for e in estimates)
        total_used = sum(e.used for e in estimates)
        rows.append(["total", str(len(estimates)), f"{total_est:,}", f"{total_used:,}"])
        click.echo(
            f"dry run against {url} (chain id {chain_id}): {len(estimates)} transactions, "
            "estimated on a throw-away fork; nothing sent, no record written\n"
        )
        click.echo(
            _table(["contract", "transactions", "eth_estimateGas", "gas used on the fork"], rows)
        )
        # the larger of the two totals: the estimate holds for the state it was made on, and
        # a transaction that initializes storage an earlier one left empty can use more
        gas = max(total_est, total_used)
        if gas_price is None:
            price = int(node.block("latest")["baseFeePerGas"], 16)  # type: ignore[index]
            what = f"the node's base fee ({format_gwei(price)} gwei)"
        else:
            price, what = gas_price, f"{format_gwei(gas_price)} gwei"
        click.echo(
            f"\nat {what}: {gas:,} gas x {format_gwei(price)} gwei = "
            f"{format_ether(gas * price)} ether"
        )
        return
    try:
        d, record, chain, model = deploy_recorded(
            url, artifacts, reader, config, Path(config_path), governance, feeder
        )
    except Divergence as exc:
        raise click.ClickException(f"chain and model disagree during deployment: {exc}") from None
    if keep_record:
        record.write(path)
    governance_address, feeder_address = governance.address, feeder.address

    keys = state_keys(model, d, [governance_address, feeder_address])
    chain_state = read_chain_state(chain, d, keys)
    model_state = read_model_state(model, d, keys)
    differing = [k for k in chain_state if chain_state[k] != model_state[k]]

    click.echo(
        f"\nBackstop deployed to {url} (chain id {chain_id}); "
        + (f"record: {path}" if keep_record else "no record (the node stops with this command)")
    )
    click.echo(
        f"governance {governance_address} ({account})   "
        f"price feeder {feeder_address} ({feeder_account})\n"
    )
    click.echo(
        _table(["contract", "address"], [[name, address] for name, address in d.contracts()])
    )

    rows = []
    for name, t in d.types.items():
        c = t.config
        normalized_debt, rate, safe_price, ceiling, dust = chain.view(
            d.engine, "collateral_types", t.type_id
        )
        price, valid = chain.view(t.oracle, "peek")
        fee_per_second = chain.view(d.fees, "fees", t.type_id)[0]
        yearly = (Decimal(fee_per_second) / RAY) ** SECONDS_PER_YEAR - 1
        rows.append(
            [
                name,
                f"{c.token_symbol} ({c.token_decimals} dec)",
                _amount(price, WAD) + ("" if valid else " (invalid)"),
                f"{Decimal(c.liquidation_ratio) / RAY:.0%}",
                _amount(safe_price, RAY),
                _amount(ceiling, RAD),
                _amount(c.ceiling_max, RAD),
                _amount(dust, RAD),
                f"{yearly:.2%}",
                f"{Decimal(c.fee_kink) / WAD:.0%} / {Decimal(c.fee_max_multiplier) / WAD:.1f}x",
                f"{c.oracle_delay}s / {c.oracle_max_age}s",
            ]
        )
    click.echo(
        "\n"
        + _table(
            [
                "type",
                "token",
                "price",
                "liq. ratio",
                "safe price",
                "ceiling",
                "auto max",
                "dust",
                "fee/yr",
                "fee kink / max",
                "oracle delay / max age",
            ],
            rows,
        )
    )
    rows = []
    for name, t in d.types.items():
        c = t.config
        kind, duration, step, cut = chain.view(t.auction, "curve")
        shape = (
            f"linear to 0 in {duration}s"
            if kind == CurveKind.LINEAR
            else f"x{Decimal(cut) / RAY:.4f} every {step}s"
            if kind == CurveKind.STAIRSTEP
            else f"x{Decimal(cut) / RAY:.8f}/s"
        )
        reserve_c, reserve_s = (
            chain.view(t.pool, "reserve_collateral"),
            chain.view(t.pool, "reserve_stable"),
        )
        rows.append(
            [
                name,
                f"{Decimal(c.liquidation_penalty) / WAD:.0%}",
                _amount(c.auction_cap, RAD),
                f"x{Decimal(c.auction_buffer) / RAY:.2f}",
                f"{CurveKind(kind).label}: {shape}",
                f"{c.auction_max_duration}s / {Decimal(c.auction_max_drop) / RAY:.0%}",
                f"{Decimal(c.keeper_reward_rate) / WAD:.2%} + {_amount(c.keeper_reward_flat, RAD)}",
                _amount(chain.view(t.auction, "min_auction"), RAD),
                f"{Decimal(reserve_c) / 10**c.token_decimals:,.2f} {c.token_symbol} / "
                f"{Decimal(reserve_s) / WAD:,.0f}",
            ]
        )
    click.echo(
        "\n"
        + _table(
            [
                "type",
                "penalty",
                "auction cap",
                "start",
                "price curve",
                "reset after",
                "keeper reward",
                "min auction",
                "pool reserves",
            ],
            rows,
        )
    )
    click.echo(
        f"\nglobal debt ceiling: {_amount(chain.view(d.engine, 'global_debt_ceiling'), RAD)} "
        f"{config.stablecoin_symbol}; all debt in auction at most "
        f"{_amount(chain.view(d.liquidator, 'max_debt_in_auction'), RAD)}; "
        f"a loss is covered at the earliest {config.backstop_queue_delay}s after its liquidation"
    )
    w = config.waterfall
    names = {1: "insurance fund", 2: "stability pool", 3: "debt auction", 4: "redistribution"}
    order = (
        " -> ".join(names[layer] for layer in chain.view(d.backstop, "get_waterfall")) or "(none)"
    )
    click.echo(f"loss waterfall: {order} (then global settlement, after a shutdown)")
    click.echo(
        "\n"
        + _table(
            ["waterfall parameter", "value"],
            [
                [
                    "surplus buffer / surplus auction lot",
                    f"{_amount(w.surplus_buffer, RAD)} / {_amount(w.surplus_lot, RAD)}",
                ],
                [
                    "debt auction: bid / initial lot",
                    f"{_amount(w.debt_auction_bid, RAD)} / "
                    f"{_amount(w.debt_auction_initial_lot, WAD)} {w.governance_token_symbol}",
                ],
                [
                    "debt auction: lot decrease per bid / growth per restart",
                    f"{Decimal(w.debt_auction_min_decrease) / WAD - 1:.0%} / "
                    f"x{Decimal(w.debt_auction_lot_growth) / WAD:.2f}",
                ],
                [
                    "surplus auction: bid increase",
                    f"{Decimal(w.surplus_auction_min_increase) / WAD - 1:.0%}",
                ],
                [
                    "auction bid duration / duration",
                    f"{w.auction_bid_duration}s / {w.auction_duration}s",
                ],
                [
                    "stability pool: withdrawal cooldown / fee share",
                    f"{w.pool_cooldown}s / {Decimal(w.pool_fee_share) / WAD:.0%}",
                ],
                ["global settlement: wait before thaw", f"{w.settlement_wait}s"],
            ],
        )
    )
    if differing:
        raise click.ClickException(
            f"model state differs from chain in {len(differing)} variables: {differing[:3]}"
        )
    click.echo(
        f"off-chain model: deployed in lockstep; all {len(chain_state)} state variables equal the "
        "chain's."
    )
