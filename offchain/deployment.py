"""How Backstop is deployed and wired, written once and run on any backend (chain, model, or
both in lockstep), and how its complete observable state is read back from either."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from offchain.backends import ChainBackend, ModelBackend
from offchain.config import CollateralConfig, SystemConfig


@dataclass
class TypeDeployment:
    config: CollateralConfig
    token: str
    join: str
    oracle: str

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
        ]
        for name, t in self.types.items():
            out += [(f"TestToken {name}", t.token), (f"CollateralJoin {name}", t.join), (f"PriceOracle {name}", t.oracle)]
        return out


def deploy_system(backend: Any, config: SystemConfig, governance: str, feeder: str) -> Deployment:
    """Deploy and wire the whole system; the first price of each type becomes current (the
    deployment waits out each oracle's delay by advancing the block time)."""
    b = backend
    engine = b.deploy("VaultEngine", governance)
    stablecoin = b.deploy("Stablecoin", governance, config.stablecoin_name, config.stablecoin_symbol)
    stable_join = b.deploy("StableJoin", governance, engine, stablecoin)
    b.transact(stablecoin, "set_minter", governance, stable_join, True)
    # after this only the StableJoin can mint: ERC-20 supply stays backed by engine balances
    b.transact(stablecoin, "renounce_ownership", governance)
    spotter = b.deploy("Spotter", governance, engine)
    # fees accrue to governance's engine balance until the Backstop (insurance fund) exists
    fees = b.deploy("FeeAccumulator", governance, engine, governance)
    ceiling = b.deploy("CeilingManager", governance, engine)
    for authority in (spotter, fees, ceiling):
        b.transact(engine, "add_authority", governance, authority)
    b.transact(engine, "set_global_debt_ceiling", governance, config.global_debt_ceiling)
    deployment = Deployment(governance, feeder, engine, stablecoin, stable_join, spotter, fees, ceiling)

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
        b.transact(oracle, "post", feeder, c.initial_price)
        b.transact(oracle, "poke", feeder)
        deployment.types[c.name] = TypeDeployment(c, token, join, oracle)

    # wait out the longest oracle delay, then make the posted prices current and safe prices live
    delay = max(c.oracle_delay for c in config.collateral)
    b.set_next_block_time(b.last_block_time + delay)
    for name, t in deployment.types.items():
        b.transact(t.oracle, "poke", feeder)
        b.transact(spotter, "poke", feeder, t.type_id)
    return deployment


# ---------------------------------------------------------------- reading state back


def _state_calls(d: Deployment, accounts: Iterable[str]) -> list[tuple[str, str, str, tuple]]:
    """(key, address, getter, args) for every observable variable, for `accounts`."""
    accounts = list(accounts)
    contracts = [a for _, a in d.contracts()]
    holders = accounts + contracts
    calls: list[tuple[str, str, str, tuple]] = []
    add = lambda key, addr, fn, *args: calls.append((key, addr, fn, args))  # noqa: E731
    e = d.engine
    for name in ("live", "total_issued", "total_unbacked", "global_debt_ceiling"):
        add(f"engine.{name}", e, name)
    for who in holders:
        add(f"engine.stable[{who}]", e, "stable", who)
        add(f"engine.bad_debt[{who}]", e, "bad_debt", who)
        add(f"engine.authorized[{who}]", e, "authorized", who)
    for who in accounts:
        for delegate in accounts + [d.stable_join]:
            if delegate != who:
                add(f"engine.delegates[{who}][{delegate}]", e, "delegates", who, delegate)
    add("stablecoin.totalSupply", d.stablecoin, "totalSupply")
    add("stablecoin.owner", d.stablecoin, "owner")
    for who in holders:
        add(f"stablecoin.balanceOf[{who}]", d.stablecoin, "balanceOf", who)
        add(f"stablecoin.allowance[{who}][stable_join]", d.stablecoin, "allowance", who, d.stable_join)
        add(f"stablecoin.is_minter[{who}]", d.stablecoin, "is_minter", who)
    add("fees.fee_recipient", d.fees, "fee_recipient")
    for name, t in d.types.items():
        tid = t.type_id
        add(f"engine.collateral_types[{name}]", e, "collateral_types", tid)
        add(f"spotter.oracles[{name}]", d.spotter, "oracles", tid)
        add(f"spotter.liquidation_ratios[{name}]", d.spotter, "liquidation_ratios", tid)
        add(f"fees.fees[{name}]", d.fees, "fees", tid)
        add(f"ceiling.configs[{name}]", d.ceiling, "configs", tid)
        add(f"join[{name}].live", t.join, "live")
        for var in ("delay", "max_age", "last_poke", "source_price", "source_time", "next_price",
                    "next_time", "current_price", "current_time"):
            add(f"oracle[{name}].{var}", t.oracle, var)
        add(f"token[{name}].totalSupply", t.token, "totalSupply")
        for who in holders:
            add(f"engine.vaults[{name}][{who}]", e, "vaults", tid, who)
            add(f"engine.collateral[{name}][{who}]", e, "collateral", tid, who)
            add(f"token[{name}].balanceOf[{who}]", t.token, "balanceOf", who)
        for who in accounts:
            add(f"token[{name}].allowance[{who}][join]", t.token, "allowance", who, t.join)
            add(f"oracle[{name}].feeders[{who}]", t.oracle, "feeders", who)
    return calls


def read_chain_state(chain: ChainBackend, d: Deployment, accounts: Iterable[str]) -> dict[str, Any]:
    """Every observable variable of the deployed system, read in one JSON-RPC batch."""
    calls = _state_calls(d, accounts)
    values = chain.views([(addr, fn, args) for _, addr, fn, args in calls])
    return {key: value for (key, _, _, _), value in zip(calls, values)}


def _model_getter(model: ModelBackend, address: str, fn: str, args: tuple) -> Any:
    c = model.contract(address)
    getters = {
        "totalSupply": lambda: c.total_supply,
        "balanceOf": lambda who: c.balance_of[who],
        "allowance": lambda owner, spender: c.allowance[(owner, spender)],
        "delegates": lambda owner, delegate: c.delegates[(owner, delegate)],
        "vaults": lambda t, who: tuple(c.vaults[(t, who)]),
        "collateral": lambda t, who: c.collateral[(t, who)],
    }
    if fn in getters:
        return getters[fn](*args)
    value = getattr(c, fn)
    if args:
        value = value[args[0]]
    return tuple(value) if isinstance(value, tuple) else value


def read_model_state(model: ModelBackend, d: Deployment, accounts: Iterable[str]) -> dict[str, Any]:
    """The same variables as `read_chain_state`, from the model."""
    return {key: _model_getter(model, addr, fn, args) for key, addr, fn, args in _state_calls(d, accounts)}
