"""How Backstop is deployed and wired, written once and run on any backend (chain, model, or
both in lockstep), and how its complete observable state is read back from either."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from offchain.backends import ModelBackend
from offchain.model.backstop import DEFAULT_DELEVERAGE_BUFFER, Layer
from offchain.model.fixed_point import RAY
from offchain.model.state import ZERO_ADDRESS, Role
from offchain.system.config import CollateralConfig, SystemConfig


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
    # margin calls and soft liquidation (deployed after the types; "" in a record without it)
    margin_call: str = ""
    # governance's queue, the only admin once `hand_to_timelock` ran ("": governance is)
    timelock: str = ""

    def admin_contracts(self) -> list[tuple[str, str]]:
        """(label, address) of every contract with admins (modules/authorized.vy), in
        deployment order: what governance administers."""
        kinds = (
            "VaultEngine",
            "Spotter",
            "FeeAccumulator",
            "CeilingManager",
            "Backstop",
            "Liquidator",
            "StabilityPool",
            "DebtAuction",
            "SurplusAuction",
            "GlobalSettlement",
            "CollateralJoin",
            "PriceOracle",
            "DutchAuction",
            "MarginCall",
        )
        return [(label, a) for label, a in self.contracts() if label.split(" ")[0] in kinds]

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
        if self.margin_call:
            out.append(("MarginCall", self.margin_call))
        if self.timelock:
            out.append(("Timelock", self.timelock))
        return out


def pool_exposure_delay(config: SystemConfig) -> int:
    """How long a stability-pool stake waits before it can become shares, and a withdrawal
    request stays exposed at least [seconds]: three times the longest oracle delay. A posted
    price takes effect at most two delays after it is posted (the next poke queues it, the one
    after makes it current); the third delay is for keepers to liquidate. So a price already
    posted when a staker asks to leave (or stakes) cannot be escaped (or joined)."""
    return 3 * max((c.oracle_delay for c in config.collateral), default=0)


def deploy_system(
    backend: Any,
    config: SystemConfig,
    governance: str,
    feeder: str,
    seed_pools: bool = True,
    deleverager: str = "",
) -> Deployment:
    """Deploy and wire the whole system. The first price of each type becomes current (the
    deployment waits out each oracle's delay by advancing the block time); with `seed_pools`,
    governance then seeds each collateral pool from a vault of its own (collateral in,
    stablecoin drawn), so the types start with that debt. When the waterfall order holds the
    deleveraging layer, `deleverager` (the backstop keeper's account; "" for none) is granted
    the DELEVERAGE role: the layer parks losses that only that role (or an admin) charges."""
    b = backend
    engine = b.deploy("VaultEngine", governance)
    stablecoin = b.deploy(
        "Stablecoin", governance, config.stablecoin_name, config.stablecoin_symbol
    )
    stable_join = b.deploy("StableJoin", governance, engine, stablecoin)
    b.transact(stablecoin, "set_minter", governance, stable_join, True)
    # after this only the StableJoin can mint: ERC-20 supply stays backed by engine balances
    b.transact(stablecoin, "renounce_ownership", governance)
    spotter = b.deploy("Spotter", governance, engine)
    backstop = b.deploy("Backstop", governance, engine, spotter, config.backstop_queue_delay)
    # stability fees are surplus: the insurance fund
    fees = b.deploy("FeeAccumulator", governance, engine, backstop)
    ceiling = b.deploy("CeilingManager", governance, engine)
    liquidator = b.deploy("Liquidator", governance, engine, backstop)
    w = config.waterfall
    gov_token = b.deploy(
        "GovernanceToken", governance, w.governance_token_name, w.governance_token_symbol
    )
    exposure_delay = pool_exposure_delay(config)
    stability_pool = b.deploy(
        "StabilityPool",
        governance,
        engine,
        backstop,
        w.pool_cooldown,
        exposure_delay,
        w.pool_exit_window,
    )
    debt_auction = b.deploy("DebtAuction", governance, engine, backstop, gov_token)
    surplus_auction = b.deploy("SurplusAuction", governance, engine, backstop, gov_token)
    settlement = b.deploy(
        "GlobalSettlement", governance, engine, liquidator, backstop, spotter, w.settlement_wait
    )
    # least privilege: each contract holds only the role bits of the calls it makes (governance
    # stays the only admin); docs/security.md, "Who may call what", has the table
    for holder, role in (
        (spotter, Role.PRICE),
        (fees, Role.RATE | Role.FEE_KINK),
        (ceiling, Role.CEILING),
        (liquidator, Role.SEIZE),
        # redistribution folds the rate; deleveraging moves debt into vaults
        (backstop, Role.RATE | Role.SEIZE),
        # refunds of auctions cancelled after shutdown
        (debt_auction, Role.MINT_UNBACKED),
        # shutdown, closing vaults
        (settlement, Role.SHUTDOWN | Role.SEIZE),
    ):
        b.transact(engine, "grant_role", governance, holder, int(role))
    b.transact(backstop, "grant_role", governance, liquidator, int(Role.OPEN_LOSS))
    b.transact(backstop, "grant_role", governance, settlement, int(Role.SHUTDOWN))
    b.transact(liquidator, "grant_role", governance, settlement, int(Role.SHUTDOWN))
    b.transact(engine, "set_global_debt_ceiling", governance, config.global_debt_ceiling)
    b.transact(liquidator, "set_max_debt_in_auction", governance, config.max_debt_in_auction)
    # the loss waterfall
    b.transact(gov_token, "set_minter", governance, debt_auction, True)
    for auction in (debt_auction, surplus_auction):
        b.transact(auction, "grant_role", governance, backstop, int(Role.START | Role.SHUTDOWN))
    b.transact(
        debt_auction,
        "set_parameters",
        governance,
        w.debt_auction_initial_lot,
        w.debt_auction_min_decrease,
        w.debt_auction_lot_growth,
        w.auction_bid_duration,
        w.auction_duration,
    )
    b.transact(
        surplus_auction,
        "set_parameters",
        governance,
        w.surplus_auction_min_increase,
        w.auction_bid_duration,
        w.auction_duration,
    )
    b.transact(
        backstop, "set_layer_contracts", governance, stability_pool, debt_auction, surplus_auction
    )
    b.transact(
        backstop,
        "set_auction_parameters",
        governance,
        w.surplus_buffer,
        w.surplus_lot,
        w.debt_auction_bid,
    )
    b.transact(backstop, "set_waterfall", governance, list(w.order))
    # only when it matters, so that a deployment without the layer sends what it always did
    deleverages = Layer.DELEVERAGE in w.order
    if deleverages or w.deleverage_buffer != DEFAULT_DELEVERAGE_BUFFER:
        b.transact(backstop, "set_deleverage_buffer", governance, w.deleverage_buffer)
    if deleverages and deleverager:
        b.transact(backstop, "grant_role", governance, deleverager, int(Role.DELEVERAGE))
    b.transact(fees, "set_pool_fee_share", governance, stability_pool, w.pool_fee_share)
    b.transact(fees, "set_pool_max_yield", governance, w.pool_max_yield)
    # the pool counts as income only what the FeeAccumulator reports
    b.transact(stability_pool, "grant_role", governance, fees, int(Role.INCOME))
    deployment = Deployment(
        governance,
        feeder,
        engine,
        stablecoin,
        stable_join,
        spotter,
        fees,
        ceiling,
        backstop,
        liquidator,
        gov_token,
        stability_pool,
        debt_auction,
        surplus_auction,
        settlement,
    )

    for c in config.collateral:
        t = c.type_id
        token = b.deploy("TestToken", governance, c.token_name, c.token_symbol, c.token_decimals)
        join = b.deploy("CollateralJoin", governance, engine, t, token, c.token_decimals)
        b.transact(engine, "grant_role", governance, join, int(Role.JOIN))
        b.transact(engine, "init_type", governance, t)
        b.transact(engine, "set_debt_ceiling", governance, t, c.debt_ceiling)
        b.transact(engine, "set_dust", governance, t, c.dust)
        oracle = b.deploy("PriceOracle", governance, c.oracle_delay, c.oracle_max_age)
        b.transact(oracle, "set_feeder", governance, feeder, True)
        b.transact(oracle, "set_max_change", governance, c.oracle_max_change)
        b.transact(spotter, "set_oracle", governance, t, oracle)
        b.transact(spotter, "set_liquidation_ratio", governance, t, c.liquidation_ratio)
        if c.size_threshold:
            b.transact(engine, "set_size_margin", governance, t, *c.size_margin)
        b.transact(fees, "init_type", governance, t)
        b.transact(fees, "set_base_fee", governance, t, c.base_fee)
        b.transact(fees, "set_multiplier", governance, t, c.fee_kink, c.fee_max_multiplier)
        b.transact(
            ceiling, "configure", governance, t, c.ceiling_max, c.ceiling_gap, c.ceiling_cooldown
        )
        auction = b.deploy("DutchAuction", governance, engine, t, liquidator, backstop, oracle)
        # rewards (create_unbacked); cancel by settlement (create_unbacked, seize)
        b.transact(engine, "grant_role", governance, auction, int(Role.SEIZE | Role.MINT_UNBACKED))
        b.transact(liquidator, "grant_role", governance, auction, int(Role.DEBT_IN_AUCTION))
        b.transact(backstop, "grant_role", governance, auction, int(Role.CLOSE_LOSS))
        b.transact(auction, "grant_role", governance, liquidator, int(Role.START))
        b.transact(auction, "grant_role", governance, settlement, int(Role.CANCEL))
        b.transact(
            auction,
            "set_parameters",
            governance,
            c.auction_buffer,
            c.auction_max_duration,
            c.auction_max_drop,
            c.keeper_reward_rate,
            c.keeper_reward_flat,
        )
        b.transact(auction, "set_curve", governance, c.auction_curve)
        b.transact(
            liquidator,
            "configure_type",
            governance,
            t,
            auction,
            c.liquidation_penalty,
            c.auction_cap,
        )
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
    deployment.margin_call = deploy_margin_call(b, deployment)
    return deployment


def hand_to_timelock(b: Any, d: Deployment, delay: int, grace: int, guardian: str = "") -> str:
    """Deploy governance's queue (contracts/Timelock.vy: governance its proposer, `delay` and
    `grace` [s]) and make it the only admin of every contract with admins, and the
    GovernanceToken's owner: from then on every privileged change is a proposal that waits
    `delay` (docs/governance.md). Each contract first gains the Timelock as an admin, then
    loses governance, so that no contract is ever left without one. The roles the contracts
    hold on each other (and a deleverager's) are untouched. `guardian` ("": none) is first
    granted the EMERGENCY role where it is checked: GlobalSettlement.shutdown, each oracle's
    void and each auction's set_stopped to a higher level (what cannot wait for the delay)."""
    if guardian:
        for address in (d.settlement, *(t.oracle for t in d.types.values()),
                        *(t.auction for t in d.types.values())):  # fmt: skip
            b.transact(address, "grant_role", d.governance, guardian, int(Role.EMERGENCY))
    # the guardian may also cancel a queued proposal (a stolen proposer key's, say)
    timelock = b.deploy(
        "Timelock",
        d.governance,
        d.governance,
        guardian or ZERO_ADDRESS,
        delay,
        grace,
        d.settlement,
    )
    for _, address in d.admin_contracts():
        b.transact(address, "add_authority", d.governance, timelock)
        b.transact(address, "remove_authority", d.governance, d.governance)
    b.transact(d.governance_token, "transfer_ownership", d.governance, timelock)
    d.timelock = timelock
    return timelock


def deploy_margin_call(b: Any, d: Deployment) -> str:
    """The MarginCall, last (no earlier contract's address moves), with each type's config's
    margin-call parameters (CollateralConfig.margin_parameters; none for a type whose
    margin_call is off: no vault of it is ever called). It holds no role anywhere: it acts on a
    vault only as the delegate its owner allows (VaultEngine.allow), and reads the Spotter (each
    type's ratio and oracle: the Spotter's oracle map is the one) and the oracles. It and the
    Backstop keep each warning factor at most 1 + the deleverage buffer (issue 63, finding 3):
    the MarginCall reads the Backstop's buffer, and the Backstop, linked to it here, its
    highest warning factor."""
    margin_call = b.deploy("MarginCall", d.governance, d.engine, d.spotter, d.backstop)
    for t in d.types.values():
        parameters = t.config.margin_parameters
        if parameters is not None:
            b.transact(margin_call, "set_parameters", d.governance, t.type_id, *parameters)
    b.transact(d.backstop, "set_margin_call", d.governance, margin_call)
    return margin_call


def seed_pool(b: Any, d: Deployment, t: TypeDeployment, provider: str, depth: int) -> None:
    """Add liquidity worth `depth` stablecoin [wad] on each side of `t`'s pool at the oracle's
    initial price, from a vault of `provider` at a 300% collateral ratio (twice the liquidation
    ratio where that is higher, so that the vault is safe under any ratio the config allows)."""
    c = t.config
    unit = 10**c.token_decimals
    scale = 10 ** (18 - c.token_decimals)
    pool_tokens = depth * unit // c.initial_price  # collateral token units worth `depth`
    # collateral ratio of the vault, per RAY: 3, or 2 x the liquidation ratio (rounded up)
    ratio = max(3 * RAY, 2 * c.liquidation_ratio)
    vault_tokens = -(-pool_tokens * ratio // RAY)
    b.transact(t.token, "mint", provider, provider, pool_tokens + vault_tokens)
    b.transact(t.token, "approve", provider, t.join, vault_tokens)
    b.transact(t.join, "join", provider, provider, vault_tokens)
    rate = _rate(b, d, t)
    normalized = depth * RAY // rate + 1  # draws at least `depth`
    b.transact(
        d.engine,
        "modify_vault",
        provider,
        t.type_id,
        provider,
        provider,
        provider,
        vault_tokens * scale,
        normalized,
    )
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


def deploy_flash_taker(
    b: Any, d: Deployment, type_name: str, owner: str, venue: str = ZERO_ADDRESS
) -> str:
    """A FlashTaker for one type's auction, owned by `owner` (a keeper), selling into the type's
    pool or, where a take says so, on `venue` (an OutsideVenue; the zero address: none)."""
    t = d.types[type_name]
    return b.deploy(
        "FlashTaker",
        owner,
        d.engine,
        t.auction,
        t.join,
        d.stable_join,
        t.pool,
        venue,
        t.token,
        d.stablecoin,
    )
