"""How Backstop is deployed and wired, written once and run on any backend (chain, model, or
both in lockstep), and how its complete observable state is read back from either."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from offchain.backends import ChainBackend, ModelBackend
from offchain.config import CollateralConfig, SystemConfig
from offchain.fixed_point import MAX_UINT256, RAY


@dataclass
class TypeDeployment:
    config: CollateralConfig
    token: str
    join: str
    oracle: str
    auction: str
    pool: str

    @property
    def type_id(self) -> bytes:
        return self.config.type_id


@dataclass
class Deployment:
    governance: str
    feeder: str
    engine: str
    stablecoin: str
    stable_join: str
    spotter: str
    fees: str
    ceiling: str
    backstop: str
    liquidator: str
    governance_token: str
    stability_pool: str
    debt_auction: str
    surplus_auction: str
    settlement: str
    types: dict[str, TypeDeployment] = field(default_factory=dict)

    def contracts(self) -> list[tuple[str, str]]:
        """(label, address) of every deployed contract, in deployment order."""
        out = [
            ("VaultEngine", self.engine),
            ("Stablecoin", self.stablecoin),
            ("StableJoin", self.stable_join),
            ("Spotter", self.spotter),
            ("FeeAccumulator", self.fees),
            ("CeilingManager", self.ceiling),
            ("Backstop", self.backstop),
            ("Liquidator", self.liquidator),
            ("GovernanceToken", self.governance_token),
            ("StabilityPool", self.stability_pool),
            ("DebtAuction", self.debt_auction),
            ("SurplusAuction", self.surplus_auction),
            ("GlobalSettlement", self.settlement),
        ]
        for name, t in self.types.items():
            out += [
                (f"TestToken {name}", t.token),
                (f"CollateralJoin {name}", t.join),
                (f"PriceOracle {name}", t.oracle),
                (f"DutchAuction {name}", t.auction),
                (f"CollateralPool {name}", t.pool),
            ]
        return out


def deploy_system(backend: Any, config: SystemConfig, governance: str, feeder: str, seed_pools: bool = True) -> Deployment:
    """Deploy and wire the whole system. The first price of each type becomes current (the
    deployment waits out each oracle's delay by advancing the block time); with `seed_pools`,
    governance then seeds each collateral pool from a vault of its own (collateral in,
    stablecoin drawn), so the types start with that debt."""
    b = backend
    engine = b.deploy("VaultEngine", governance)
    stablecoin = b.deploy("Stablecoin", governance, config.stablecoin_name, config.stablecoin_symbol)
    stable_join = b.deploy("StableJoin", governance, engine, stablecoin)
    b.transact(stablecoin, "set_minter", governance, stable_join, True)
    # after this only the StableJoin can mint: ERC-20 supply stays backed by engine balances
    b.transact(stablecoin, "renounce_ownership", governance)
    spotter = b.deploy("Spotter", governance, engine)
    backstop = b.deploy("Backstop", governance, engine, config.backstop_queue_delay)
    # stability fees are surplus: the insurance fund
    fees = b.deploy("FeeAccumulator", governance, engine, backstop)
    ceiling = b.deploy("CeilingManager", governance, engine)
    liquidator = b.deploy("Liquidator", governance, engine, backstop)
    w = config.waterfall
    gov_token = b.deploy("GovernanceToken", governance, w.governance_token_name, w.governance_token_symbol)
    stability_pool = b.deploy("StabilityPool", governance, engine, backstop, w.pool_cooldown)
    debt_auction = b.deploy("DebtAuction", governance, engine, backstop, gov_token)
    surplus_auction = b.deploy("SurplusAuction", governance, engine, backstop, gov_token)
    settlement = b.deploy("GlobalSettlement", governance, engine, liquidator, backstop, spotter, w.settlement_wait)
    # engine: fees (fold_rate), the backstop (redistribution folds the rate), the debt auction
    # (refunds after shutdown), global settlement (shutdown, closing vaults)
    for authority in (spotter, fees, ceiling, liquidator, backstop, debt_auction, settlement):
        b.transact(engine, "add_authority", governance, authority)
    for authority in (liquidator, settlement):
        b.transact(backstop, "add_authority", governance, authority)
    b.transact(liquidator, "add_authority", governance, settlement)
    b.transact(engine, "set_global_debt_ceiling", governance, config.global_debt_ceiling)
    b.transact(liquidator, "set_max_debt_in_auction", governance, config.max_debt_in_auction)
    # the loss waterfall
    b.transact(gov_token, "set_minter", governance, debt_auction, True)
    for auction in (debt_auction, surplus_auction):
        b.transact(auction, "add_authority", governance, backstop)
    b.transact(debt_auction, "set_parameters", governance, w.debt_auction_initial_lot, w.debt_auction_min_decrease,
               w.debt_auction_lot_growth, w.auction_bid_duration, w.auction_duration)
    b.transact(surplus_auction, "set_parameters", governance, w.surplus_auction_min_increase, w.auction_bid_duration,
               w.auction_duration)
    b.transact(backstop, "set_layer_contracts", governance, stability_pool, debt_auction, surplus_auction)
    b.transact(backstop, "set_auction_parameters", governance, w.surplus_buffer, w.surplus_lot, w.debt_auction_bid)
    b.transact(backstop, "set_waterfall", governance, list(w.order))
    b.transact(fees, "set_pool_fee_share", governance, stability_pool, w.pool_fee_share)
    deployment = Deployment(governance, feeder, engine, stablecoin, stable_join, spotter, fees, ceiling, backstop,
                            liquidator, gov_token, stability_pool, debt_auction, surplus_auction, settlement)

    for c in config.collateral:
        t = c.type_id
        token = b.deploy("TestToken", governance, c.token_name, c.token_symbol, c.token_decimals)
        join = b.deploy("CollateralJoin", governance, engine, t, token, c.token_decimals)
        b.transact(engine, "add_authority", governance, join)
        b.transact(engine, "init_type", governance, t)
        b.transact(engine, "set_debt_ceiling", governance, t, c.debt_ceiling)
        b.transact(engine, "set_dust", governance, t, c.dust)
        oracle = b.deploy("PriceOracle", governance, c.oracle_delay, c.oracle_max_age)
        b.transact(oracle, "set_feeder", governance, feeder, True)
        b.transact(spotter, "set_oracle", governance, t, oracle)
        b.transact(spotter, "set_liquidation_ratio", governance, t, c.liquidation_ratio)
        b.transact(fees, "init_type", governance, t)
        b.transact(fees, "set_base_fee", governance, t, c.base_fee)
        b.transact(fees, "set_multiplier", governance, t, c.fee_kink, c.fee_max_multiplier)
        b.transact(ceiling, "configure", governance, t, c.ceiling_max, c.ceiling_gap, c.ceiling_cooldown)
        auction = b.deploy("DutchAuction", governance, engine, t, liquidator, backstop, oracle)
        b.transact(engine, "add_authority", governance, auction)
        b.transact(liquidator, "add_authority", governance, auction)
        b.transact(backstop, "add_authority", governance, auction)
        b.transact(auction, "add_authority", governance, liquidator)
        b.transact(auction, "add_authority", governance, settlement)
        b.transact(auction, "set_parameters", governance, c.auction_buffer, c.auction_max_duration,
                   c.auction_max_drop, c.keeper_reward_rate, c.keeper_reward_flat)
        b.transact(auction, "set_curve", governance, c.auction_curve)
        b.transact(liquidator, "configure_type", governance, t, auction, c.liquidation_penalty, c.auction_cap)
        b.transact(auction, "update_min_auction", governance)
        pool = b.deploy("CollateralPool", governance, token, stablecoin, c.pool_fee)
        b.transact(oracle, "post", feeder, c.initial_price)
        b.transact(oracle, "poke", feeder)
        deployment.types[c.name] = TypeDeployment(c, token, join, oracle, auction, pool)

    # wait out the longest oracle delay, then make the posted prices current and safe prices live
    delay = max(c.oracle_delay for c in config.collateral)
    b.set_next_block_time(b.last_block_time + delay)
    for t in deployment.types.values():
        b.transact(t.oracle, "poke", feeder)
        b.transact(spotter, "poke", feeder, t.type_id)
    if seed_pools:
        for t in deployment.types.values():
            seed_pool(b, deployment, t, governance, t.config.pool_depth)
    return deployment


def seed_pool(b: Any, d: Deployment, t: TypeDeployment, provider: str, depth: int) -> None:
    """Add liquidity worth `depth` stablecoin [wad] on each side of `t`'s pool at the oracle's
    initial price, from a vault of `provider` at a 300% collateral ratio."""
    c = t.config
    unit = 10**c.token_decimals
    scale = 10 ** (18 - c.token_decimals)
    pool_tokens = depth * unit // c.initial_price  # collateral token units worth `depth`
    vault_tokens = 3 * pool_tokens
    b.transact(t.token, "mint", provider, provider, pool_tokens + vault_tokens)
    b.transact(t.token, "approve", provider, t.join, vault_tokens)
    b.transact(t.join, "join", provider, provider, vault_tokens)
    rate = _rate(b, d, t)
    normalized = depth * RAY // rate + 1  # draws at least `depth`
    b.transact(d.engine, "modify_vault", provider, t.type_id, provider, provider, provider, vault_tokens * scale,
               normalized)
    b.transact(d.engine, "allow", provider, d.stable_join)
    b.transact(d.stable_join, "exit", provider, provider, depth)
    b.transact(t.token, "approve", provider, t.pool, pool_tokens)
    b.transact(d.stablecoin, "approve", provider, t.pool, depth)
    b.transact(t.pool, "add_liquidity", provider, pool_tokens, depth, 0)


def _rate(b: Any, d: Deployment, t: TypeDeployment) -> int:
    model = getattr(b, "model", b)
    if isinstance(model, ModelBackend):
        return model.contract(d.engine).collateral_types[t.type_id].rate
    return b.view(d.engine, "collateral_types", t.type_id)[1]


def deploy_flash_taker(b: Any, d: Deployment, type_name: str, owner: str) -> str:
    """A FlashTaker for one type's auction, owned by `owner` (a keeper)."""
    t = d.types[type_name]
    return b.deploy("FlashTaker", owner, d.engine, t.auction, t.join, d.stable_join, t.pool, t.token, d.stablecoin)


# ---------------------------------------------------------------- reading state back


@dataclass(frozen=True)
class StateKeys:
    """Which entries of the unbounded mappings to read: the actors' accounts, the auction ids of
    each type (each is also a loss event of the Backstop), and the ids of the stability pool's
    charges and of debt and surplus auctions (taken from the model; a chain with more would
    differ in a `count`, which is always read). The list of running auctions is compared
    through `active_count` and each auction's `position` in it."""

    accounts: tuple[str, ...]
    auction_ids: tuple[tuple[str, tuple[int, ...]], ...] = ()
    charge_ids: tuple[int, ...] = ()
    debt_auction_ids: tuple[int, ...] = ()
    surplus_auction_ids: tuple[int, ...] = ()
    # accounts that only hold balances and vaults (a simulation's vault owners, a keeper's
    # contract): their per-account variables are read, not the delegations among all accounts
    holders: tuple[str, ...] = ()


def state_keys(model: ModelBackend, d: Deployment, accounts: Iterable[str]) -> StateKeys:
    ids = tuple((name, tuple(range(1, model.contract(t.auction).count + 1))) for name, t in d.types.items())
    return StateKeys(
        tuple(accounts),
        ids,
        tuple(range(1, model.contract(d.stability_pool).charge_count + 1)),
        tuple(range(1, model.contract(d.debt_auction).count + 1)),
        tuple(range(1, model.contract(d.surplus_auction).count + 1)),
    )


def _state_calls(d: Deployment, keys: StateKeys) -> list[tuple[str, str, str, tuple]]:
    """(key, address, getter, args) for every observable variable."""
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
    for who in accounts:
        for delegate in accounts + contracts:
            if delegate != who:
                add(f"engine.delegates[{who}][{delegate}]", e, "delegates", who, delegate)
    add("stablecoin.totalSupply", d.stablecoin, "totalSupply")
    add("stablecoin.owner", d.stablecoin, "owner")
    for who in holders:
        add(f"stablecoin.balanceOf[{who}]", d.stablecoin, "balanceOf", who)
        add(f"stablecoin.is_minter[{who}]", d.stablecoin, "is_minter", who)
    for who in accounts:
        for spender in [d.stable_join] + [t.pool for t in d.types.values()]:
            add(f"stablecoin.allowance[{who}][{spender}]", d.stablecoin, "allowance", who, spender)
    add("fees.fee_recipient", d.fees, "fee_recipient")
    for name in ("live", "queue_delay", "get_waterfall", "stability_pool", "debt_auction", "surplus_auction",
                 "settlement", "surplus_buffer", "surplus_lot", "debt_auction_bid_size", "open_losses",
                 "attributed_debt", "debt_to_auction", "debt_on_auction", "settlement_debt", "unattributed_debt"):
        add(f"backstop.{name}", d.backstop, name)
    add("fees.stability_pool", d.fees, "stability_pool")
    add("fees.pool_fee_share", d.fees, "pool_fee_share")
    add("gov.totalSupply", d.governance_token, "totalSupply")
    for who in holders:
        add(f"gov.balanceOf[{who}]", d.governance_token, "balanceOf", who)
        add(f"gov.is_minter[{who}]", d.governance_token, "is_minter", who)
    _waterfall_state_calls(add, d, keys, accounts, holders)
    for name in ("live", "max_debt_in_auction", "debt_in_auction"):
        add(f"liquidator.{name}", d.liquidator, name)
    ids = dict(keys.auction_ids)
    for name, t in d.types.items():
        tid = t.type_id
        add(f"engine.collateral_types[{name}]", e, "collateral_types", tid)
        add(f"spotter.oracles[{name}]", d.spotter, "oracles", tid)
        add(f"spotter.liquidation_ratios[{name}]", d.spotter, "liquidation_ratios", tid)
        add(f"fees.fees[{name}]", d.fees, "fees", tid)
        add(f"ceiling.configs[{name}]", d.ceiling, "configs", tid)
        add(f"liquidator.types[{name}]", d.liquidator, "types", tid)
        add(f"join[{name}].live", t.join, "live")
        for var in ("delay", "max_age", "last_poke", "source_price", "source_time", "next_price",
                    "next_time", "current_price", "current_time"):
            add(f"oracle[{name}].{var}", t.oracle, var)
        for var in ("oracle", "buffer", "max_duration", "max_drop", "reward_rate", "reward_flat", "min_auction",
                    "curve", "stopped", "count", "active_count"):
            add(f"auction[{name}].{var}", t.auction, var)
        for auction_id in ids.get(name, ()):
            add(f"auction[{name}].auctions[{auction_id}]", t.auction, "auctions", auction_id)
            add(f"backstop.losses[{name}][{auction_id}]", d.backstop, "losses", tid, t.auction, auction_id)
        for var in ("reserve_collateral", "reserve_stable", "total_shares"):
            add(f"pool[{name}].{var}", t.pool, var)
        add(f"token[{name}].totalSupply", t.token, "totalSupply")
        for who in holders:
            add(f"engine.vaults[{name}][{who}]", e, "vaults", tid, who)
            add(f"engine.collateral[{name}][{who}]", e, "collateral", tid, who)
            add(f"token[{name}].balanceOf[{who}]", t.token, "balanceOf", who)
            add(f"pool[{name}].shares[{who}]", t.pool, "shares", who)
            add(f"auction[{name}].authorized[{who}]", t.auction, "authorized", who)
        for who in accounts:
            add(f"token[{name}].allowance[{who}][join]", t.token, "allowance", who, t.join)
            add(f"token[{name}].allowance[{who}][pool]", t.token, "allowance", who, t.pool)
            add(f"oracle[{name}].feeders[{who}]", t.oracle, "feeders", who)
    return calls


def _waterfall_state_calls(add: Any, d: Deployment, keys: StateKeys, accounts: list[str], holders: list[str]) -> None:
    """The stability pool, the debt and surplus auctions and global settlement."""
    p = d.stability_pool
    for name in ("total_shares", "pending_total", "cooldown", "staker_count", "charge_count", "assets"):
        add(f"pool.{name}", p, name)
    for who in accounts:
        for name in ("shares", "pending", "withdrawal_shares", "withdrawal_at", "next_charge", "value_of",
                     "is_realized"):
            add(f"pool.{name}[{who}]", p, name, who)
    for charge in keys.charge_ids:
        for name in ("charge_amount", "charge_total_shares", "charge_stakers_left", "charge_attributed"):
            add(f"pool.{name}[{charge}]", p, name, charge)
    for label, a, ids in (("debt_auction", d.debt_auction, keys.debt_auction_ids),
                          ("surplus_auction", d.surplus_auction, keys.surplus_auction_ids)):
        add(f"{label}.live", a, "live")
        add(f"{label}.count", a, "count")
        for auction_id in ids:
            add(f"{label}.auctions[{auction_id}]", a, "auctions", auction_id)
    a = d.debt_auction
    for name in ("initial_lot", "min_decrease", "lot_growth", "bid_duration", "auction_duration"):
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


def read_chain_state(chain: ChainBackend, d: Deployment, keys: StateKeys, cache: bool = True) -> dict[str, Any]:
    """Every observable variable of the deployed system, read in one eth_call."""
    calls = _state_calls(d, keys)
    values = chain.views([(addr, fn, args) for _, addr, fn, args in calls], cache=cache)
    return {key: value for (key, _, _, _), value in zip(calls, values)}


# getters whose model attribute differs from the contract's (name or shape)
_MODEL_GETTERS: dict[str, Any] = {
    "totalSupply": lambda c: c.total_supply,
    "balanceOf": lambda c, who: c.balance_of[who],
    "allowance": lambda c, owner, spender: c.allowance[(owner, spender)],
    "delegates": lambda c, owner, delegate: c.delegates[(owner, delegate)],
    "vaults": lambda c, t, who: tuple(c.vaults[(t, who)]),
    "collateral": lambda c, t, who: c.collateral[(t, who)],
    "active_count": lambda c: len(c.active),
    "losses": lambda c, t, auction, auction_id: tuple(c.losses[(t, auction, auction_id)]),
}


def model_getter(model: ModelBackend, address: str, fn: str) -> Callable[[tuple], Any]:
    """The model's public getter `fn` at `address`, resolved once: a function of the getter's
    arguments whose value is shaped as the chain returns it (see model_value)."""
    c = model.contract(address)
    getter = _MODEL_GETTERS.get(fn)
    if getter is not None:
        return lambda args: getter(c, *args)
    if callable(getattr(c, fn)):  # a view function of the model
        method = getattr(c, fn)

        def view(args: tuple) -> Any:
            value = method(*args)
            if type(value) is tuple:  # most views (the plain tuple, as the chain's decoder gives)
                return value
            return tuple(value) if isinstance(value, (tuple, list)) else value

        return view

    def variable(args: tuple) -> Any:  # read when called: a contract may rebind the attribute
        value = getattr(c, fn)
        if len(args) > 1:
            value = value[tuple(args)]
        elif args:
            value = value[args[0]]
        if hasattr(value, "address") and not isinstance(value, (str, bytes)):
            value = value.address
        return tuple(value) if isinstance(value, tuple) else value

    return variable


def model_value(model: ModelBackend, address: str, fn: str, args: tuple) -> Any:
    """The model's value of the public getter `fn(*args)` at `address`, shaped as the chain returns it."""
    return model_getter(model, address, fn)(args)


class ModelReader:
    """`model_value` for a run that reads the same getters again and again: each (address,
    getter) is resolved once (a 1,000-vault replay makes ~58,000 reads)."""

    def __init__(self, model: ModelBackend):
        self.model = model
        self._getters: dict[tuple[str, str], Callable[[tuple], Any]] = {}

    def __call__(self, address: str, fn: str, args: tuple) -> Any:
        return self.many([(address, fn, args)])[0]

    def many(self, calls: Iterable[tuple[str, str, tuple]]) -> list[Any]:
        """The values of `(address, getter, args)` calls, in order."""
        getters, out = self._getters, []
        for address, fn, args in calls:
            getter = getters.get((address, fn))
            if getter is None:
                getter = getters[(address, fn)] = model_getter(self.model, address, fn)
            out.append(getter(args))
        return out


def read_model_state(model: ModelBackend, d: Deployment, keys: StateKeys,
                     reader: ModelReader | None = None) -> dict[str, Any]:
    """The same variables as `read_chain_state`, from the model (through `reader`, whose
    resolved getters a run reuses, if given)."""
    calls = _state_calls(d, keys)
    values = (reader or ModelReader(model)).many([(addr, fn, args) for _, addr, fn, args in calls])
    return {key: value for (key, _, _, _), value in zip(calls, values)}
