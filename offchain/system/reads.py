"""The complete observable state of a deployed system, read from the chain (one batched eth_call)
or from the model (the same getters): what the full-state comparisons and reconciliation compare."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from offchain.backends.base import Backend, EvmBackend
from offchain.backends.model import ModelBackend
from offchain.model.dutch_auction import every_running
from offchain.system.deployment import Deployment

# ---------------------------------------------------------------- reading state back


@dataclass(frozen=True)
class StateKeys:
    """Which entries of the unbounded mappings to read: the actors' accounts, the auction ids of
    each type (each is also a loss event of the Backstop), and the ids of the stability pool's
    charges and of debt and surplus auctions (taken from the model; a chain with more would
    differ in a `count`, or for a type's auctions in `active_count` and `next_id`, which are
    always read). The running auctions are compared through `active_count`, `next_id` and each
    auction's `position` (its storage slot)."""

    accounts: tuple[str, ...]
    auction_ids: tuple[tuple[str, tuple[int, ...]], ...] = ()
    charge_ids: tuple[int, ...] = ()
    debt_auction_ids: tuple[int, ...] = ()
    surplus_auction_ids: tuple[int, ...] = ()
    # the Backstop's loss event numbers
    loss_numbers: tuple[int, ...] = ()
    # accounts that only hold balances and vaults (a simulation's vault owners, a keeper's
    # contract): their per-account variables are read, not the delegations among all accounts
    holders: tuple[str, ...] = ()


def state_keys(
    model: ModelBackend, d: Deployment, accounts: Iterable[str], holders: Iterable[str] = ()
) -> StateKeys:
    ids = tuple((name, tuple(model.contract(t.auction).ids())) for name, t in d.types.items())
    return StateKeys(
        tuple(accounts),
        ids,
        tuple(range(1, model.contract(d.stability_pool).charge_count + 1)),
        tuple(range(1, model.contract(d.debt_auction).count + 1)),
        tuple(range(1, model.contract(d.surplus_auction).count + 1)),
        tuple(range(1, model.contract(d.backstop).loss_count + 1)),
        tuple(holders),
    )


def state_calls(d: Deployment, keys: StateKeys) -> list[tuple[str, str, str, tuple]]:
    """(key, address, getter, args) for every observable variable: those of the accounts,
    holders and types (`account_calls`), then those of the ids (`id_calls`)."""
    return account_calls(d, keys) + id_calls(d, keys)


def id_calls(d: Deployment, keys: StateKeys) -> list[tuple[str, str, str, tuple]]:
    """The calls of the entries each id of `keys` names (an auction and its loss event, a pool
    charge, a debt or surplus auction, a loss number), and of nothing else: the calls of more
    ids are those of the ids added (what a check that keeps them adds)."""
    calls: list[tuple[str, str, str, tuple]] = []
    add = lambda key, addr, fn, *args: calls.append((key, addr, fn, args))  # noqa: E731
    for number in keys.loss_numbers:
        add(f"backstop.loss_opened_at[{number}]", d.backstop, "loss_opened_at", number)
        add(f"backstop.loss_done[{number}]", d.backstop, "loss_done", number)
    ids = dict(keys.auction_ids)
    for name, t in d.types.items():
        tid = t.type_id
        for auction_id in ids.get(name, ()):
            add(f"auction[{name}].auctions[{auction_id}]", t.auction, "auctions", auction_id)
            add(
                f"backstop.losses[{name}][{auction_id}]",
                d.backstop,
                "losses",
                tid,
                t.auction,
                auction_id,
            )
            add(
                f"backstop.loss_number[{name}][{auction_id}]",
                d.backstop,
                "loss_number",
                tid,
                t.auction,
                auction_id,
            )
    p = d.stability_pool
    for charge in keys.charge_ids:
        for name in (
            "charge_amount",
            "charge_total_shares",
            "charge_stakers_left",
            "charge_attributed",
        ):
            add(f"pool.{name}[{charge}]", p, name, charge)
    for label, a, auction_ids in (
        ("debt_auction", d.debt_auction, keys.debt_auction_ids),
        ("surplus_auction", d.surplus_auction, keys.surplus_auction_ids),
    ):
        for auction_id in auction_ids:
            add(f"{label}.auctions[{auction_id}]", a, "auctions", auction_id)
    return calls


def account_calls(d: Deployment, keys: StateKeys) -> list[tuple[str, str, str, tuple]]:
    """The calls of every observable variable but the ids' (`id_calls`): of the accounts, the
    holders, the contracts and the types."""
    accounts = list(keys.accounts)
    contracts = [a for _, a in d.contracts()]
    holders = accounts + contracts + list(keys.holders)
    calls: list[tuple[str, str, str, tuple]] = []
    add = lambda key, addr, fn, *args: calls.append((key, addr, fn, args))  # noqa: E731
    e = d.engine
    for name in ("live", "total_issued", "total_unbacked", "global_debt_ceiling"):
        add(f"engine.{name}", e, name)
    for who in holders:
        add(f"engine.stable[{who}]", e, "stable", who)
        add(f"engine.bad_debt[{who}]", e, "bad_debt", who)
        add(f"engine.authorized[{who}]", e, "authorized", who)
        add(f"liquidator.authorized[{who}]", d.liquidator, "authorized", who)
        add(f"backstop.authorized[{who}]", d.backstop, "authorized", who)
    # the capability roles, of the accounts and the contracts (the possible grantees; the
    # holders of balances and vaults are neither admins nor role holders)
    for who in accounts + contracts:
        add(f"engine.roles[{who}]", e, "roles", who)
        add(f"liquidator.roles[{who}]", d.liquidator, "roles", who)
        add(f"backstop.roles[{who}]", d.backstop, "roles", who)
        for name, t in d.types.items():
            add(f"auction[{name}].roles[{who}]", t.auction, "roles", who)
    for who in accounts:
        for delegate in accounts + contracts:
            if delegate != who:
                add(f"engine.delegates[{who}][{delegate}]", e, "delegates", who, delegate)
    add("stablecoin.totalSupply", d.stablecoin, "totalSupply")
    add("stablecoin.DOMAIN_SEPARATOR", d.stablecoin, "DOMAIN_SEPARATOR")
    add("gov.DOMAIN_SEPARATOR", d.governance_token, "DOMAIN_SEPARATOR")
    add("stablecoin.owner", d.stablecoin, "owner")
    for who in holders:
        add(f"stablecoin.balanceOf[{who}]", d.stablecoin, "balanceOf", who)
        add(f"stablecoin.is_minter[{who}]", d.stablecoin, "is_minter", who)
    for who in accounts:
        for spender in [d.stable_join] + [t.pool for t in d.types.values()] + list(accounts):
            add(f"stablecoin.allowance[{who}][{spender}]", d.stablecoin, "allowance", who, spender)
        add(f"stablecoin.nonces[{who}]", d.stablecoin, "nonces", who)
        add(f"gov.nonces[{who}]", d.governance_token, "nonces", who)
        for spender in accounts:
            add(f"gov.allowance[{who}][{spender}]", d.governance_token, "allowance", who, spender)
    add("fees.fee_recipient", d.fees, "fee_recipient")
    for name in (
        "live",
        "queue_delay",
        "get_waterfall",
        "stability_pool",
        "debt_auction",
        "surplus_auction",
        "settlement",
        "surplus_buffer",
        "surplus_lot",
        "debt_auction_bid_size",
        "open_losses",
        "loss_count",
        "first_open_loss",
        "attributed_debt",
        "unsettled_proceeds",
        "debt_to_auction",
        "debt_on_auction",
        "settlement_debt",
        "unattributed_debt",
        "deleverage_buffer",
        "deleverage_max_fraction",
        "deleverage_interval",
        "deleverage_total",
    ):
        add(f"backstop.{name}", d.backstop, name)
    for name, t in d.types.items():
        add(f"backstop.deleverage_due[{name}]", d.backstop, "deleverage_due", t.type_id)
    add("fees.stability_pool", d.fees, "stability_pool")
    add("fees.pool_fee_share", d.fees, "pool_fee_share")
    add("fees.pool_max_yield", d.fees, "pool_max_yield")
    add("gov.totalSupply", d.governance_token, "totalSupply")
    for who in holders:
        add(f"gov.balanceOf[{who}]", d.governance_token, "balanceOf", who)
        add(f"gov.is_minter[{who}]", d.governance_token, "is_minter", who)
    _waterfall_state_calls(add, d, keys, accounts, holders)
    _margin_call_state_calls(add, d, accounts)
    for name in ("live", "max_debt_in_auction", "debt_in_auction"):
        add(f"liquidator.{name}", d.liquidator, name)
    for name, t in d.types.items():
        tid = t.type_id
        add(f"engine.collateral_types[{name}]", e, "collateral_types", tid)
        add(f"engine.utilization_record[{name}]", e, "utilization_record", tid)
        add(f"engine.size_margin[{name}]", e, "size_margin", tid)
        add(f"spotter.oracles[{name}]", d.spotter, "oracles", tid)
        add(f"spotter.liquidation_ratios[{name}]", d.spotter, "liquidation_ratios", tid)
        add(f"fees.fees[{name}]", d.fees, "fees", tid)
        add(f"ceiling.configs[{name}]", d.ceiling, "configs", tid)
        add(f"liquidator.types[{name}]", d.liquidator, "types", tid)
        add(f"join[{name}].live", t.join, "live")
        for var in (
            "delay",
            "max_age",
            "last_poke",
            "source_price",
            "source_time",
            "next_price",
            "next_time",
            "current_price",
            "current_time",
        ):
            add(f"oracle[{name}].{var}", t.oracle, var)
        for var in (
            "oracle",
            "buffer",
            "max_duration",
            "max_drop",
            "reward_rate",
            "reward_flat",
            "min_auction",
            "curve",
            "stopped",
            "active_count",
            "next_id",
        ):
            add(f"auction[{name}].{var}", t.auction, var)
        for var in ("reserve_collateral", "reserve_stable", "total_shares"):
            add(f"pool[{name}].{var}", t.pool, var)
        add(f"token[{name}].totalSupply", t.token, "totalSupply")
        for who in holders:
            add(f"engine.vaults[{name}][{who}]", e, "vaults", tid, who)
            add(
                f"backstop.deleverage_window[{name}][{who}]",
                d.backstop,
                "deleverage_window",
                tid,
                who,
            )
            add(f"engine.collateral[{name}][{who}]", e, "collateral", tid, who)
            add(f"token[{name}].balanceOf[{who}]", t.token, "balanceOf", who)
            add(f"pool[{name}].shares[{who}]", t.pool, "shares", who)
            add(f"auction[{name}].authorized[{who}]", t.auction, "authorized", who)
        for who in accounts:
            add(f"token[{name}].allowance[{who}][join]", t.token, "allowance", who, t.join)
            add(f"token[{name}].allowance[{who}][pool]", t.token, "allowance", who, t.pool)
            add(f"oracle[{name}].feeders[{who}]", t.oracle, "feeders", who)
    return calls


def _margin_call_state_calls(add: Any, d: Deployment, accounts: list[str]) -> None:
    """The MarginCall: each type's parameters, who opted in, its admins and roles (its oracle is
    the Spotter's: `spotter.oracles`)."""
    m = d.margin_call
    if not m:
        return
    for name, t in d.types.items():
        add(f"margin_call.parameters[{name}]", m, "parameters", t.type_id)
    for who in accounts:
        add(f"margin_call.opted_in[{who}]", m, "opted_in", who)
    for who in accounts + [a for _, a in d.contracts()]:
        add(f"margin_call.authorized[{who}]", m, "authorized", who)
        add(f"margin_call.roles[{who}]", m, "roles", who)


def _waterfall_state_calls(
    add: Any, d: Deployment, keys: StateKeys, accounts: list[str], holders: list[str]
) -> None:
    """The stability pool, the debt and surplus auctions and global settlement."""
    p = d.stability_pool
    for name in (
        "total_shares",
        "pending_total",
        "cooldown",
        "exposure_delay",
        "exit_window",
        "staker_count",
        "charge_count",
        "assets",
    ):
        add(f"pool.{name}", p, name)
    for who in accounts:
        for name in (
            "shares",
            "pending",
            "pending_at",
            "withdrawal_shares",
            "withdrawal_at",
            "withdrawal_value",
            "next_charge",
            "value_of",
            "is_realized",
        ):
            add(f"pool.{name}[{who}]", p, name, who)
    contracts = [a for _, a in d.contracts()]
    for label, a in (
        ("pool", p),
        ("debt_auction", d.debt_auction),
        ("surplus_auction", d.surplus_auction),
    ):
        for who in accounts + contracts:
            add(f"{label}.authorized[{who}]", a, "authorized", who)
            add(f"{label}.roles[{who}]", a, "roles", who)
    for label, a in (("debt_auction", d.debt_auction), ("surplus_auction", d.surplus_auction)):
        add(f"{label}.live", a, "live")
        add(f"{label}.count", a, "count")
    a = d.debt_auction
    for name in (
        "initial_lot",
        "min_decrease",
        "lot_growth",
        "bid_duration",
        "auction_duration",
        "running",
    ):
        add(f"debt_auction.{name}", a, name)
    a = d.surplus_auction
    for name in ("min_increase", "bid_duration", "auction_duration"):
        add(f"surplus_auction.{name}", a, name)
    g = d.settlement
    for name in ("live", "shutdown_at", "wait", "debt"):
        add(f"settlement.{name}", g, name)
    for name, t in d.types.items():
        for var in ("final_price", "type_debt", "gap", "cash_price", "cash_price_set"):
            add(f"settlement.{var}[{name}]", g, var, t.type_id)
    for who in accounts:
        add(f"settlement.packed[{who}]", g, "packed", who)
        for name, t in d.types.items():
            add(f"settlement.cashed[{name}][{who}]", g, "cashed", t.type_id, who)


def read_state(
    backend: Backend, d: Deployment, keys: StateKeys, cache: bool = True
) -> dict[str, Any]:
    """Every observable variable of the deployed system, from any backend (on a chain, one
    eth_call; `cache=False` for a read that will not repeat exactly)."""
    calls = state_calls(d, keys)
    values = backend.views([(addr, fn, args) for _, addr, fn, args in calls], cache=cache)
    state = {key: value for (key, _, _, _), value in zip(calls, values)}
    # a list longer than the BatchReader's 256 bytes of result: one plain call per type and page
    for name, t in d.types.items():
        key = f"auction[{name}].active_auctions"
        state[key] = tuple(
            every_running(
                lambda first_slot, t=t: backend.call(t.auction, "active_auctions", first_slot)
            )
        )
    return state


def read_chain_state(
    chain: EvmBackend, d: Deployment, keys: StateKeys, cache: bool = True
) -> dict[str, Any]:
    """Every observable variable of the deployed system, read from the chain in one eth_call."""
    return read_state(chain, d, keys, cache)


def read_model_state(model: ModelBackend, d: Deployment, keys: StateKeys) -> dict[str, Any]:
    """The same variables as `read_chain_state`, from the model."""
    return read_state(model, d, keys)
