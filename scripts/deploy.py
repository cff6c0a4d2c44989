"""`ape run deploy`: deploy Backstop to a local Anvil, in lockstep with the off-chain model, and
print the deployed contracts and parameters.

    ape run deploy                               # ape starts Anvil (ethereum:local:foundry)
    ape run deploy --config my.toml              # another parameter file
    ape run deploy --network ethereum:local:foundry   # with APE_FOUNDRY_HOST=http://127.0.0.1:8545
                                                      # to deploy to an Anvil you run yourself

Transactions are sent from Anvil's unlocked dev accounts (governance = account 0, price
feeder = account 1), so this targets local devnets, not public networks.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import click
from ape import project
from ape.cli import ConnectedProviderCommand
from eth_utils import to_checksum_address

from offchain.backends import (
    ChainBackend,
    Divergence,
    Lockstep,
    ModelBackend,
    load_artifacts,
    reader_code,
)
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.price_curves import CurveKind
from offchain.system.config import DEFAULT_CONFIG, SECONDS_PER_YEAR, ConfigError, load_config
from offchain.system.deployment import deploy_system
from offchain.system.reads import read_chain_state, read_model_state, state_keys


def _amount(value: int, unit: int) -> str:
    return f"{Decimal(value) / Decimal(unit):,.2f}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


@click.command(cls=ConnectedProviderCommand)
@click.option(
    "--config",
    "config_path",
    default=str(DEFAULT_CONFIG),
    show_default=True,
    help="Deployment parameters (TOML).",
)
def cli(provider, config_path):
    """Deploy the full system to a local Anvil and print it."""
    try:
        config = load_config(Path(config_path))
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None

    chain = ChainBackend(provider.uri, load_artifacts(project), reader_code(project))
    accounts = [to_checksum_address(a) for a in chain.rpc("eth_accounts", [])]
    if len(accounts) < 2:
        raise click.ClickException(
            f"{provider.uri} has no unlocked dev accounts: run against Anvil"
        )
    governance, feeder = accounts[0], accounts[1]

    model = ModelBackend(chain.last_block_time, chain_id=chain.chain_id)
    for account in (governance, feeder):
        model.nonces[account] = int(chain.rpc("eth_getTransactionCount", [account, "latest"]), 16)
    try:
        d = deploy_system(Lockstep(chain, model), config, governance, feeder)
    except Divergence as exc:
        raise click.ClickException(f"chain and model disagree during deployment: {exc}") from None

    keys = state_keys(model, d, [governance, feeder])
    chain_state = read_chain_state(chain, d, keys)
    model_state = read_model_state(model, d, keys)
    differing = [k for k in chain_state if chain_state[k] != model_state[k]]

    click.echo(
        f"\nBackstop deployed to {provider.uri} (chain id {int(chain.rpc('eth_chainId', []), 16)})"
    )
    click.echo(f"governance {governance}   price feeder {feeder}\n")
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
