"""A run's set-up: its actors, and the deployment, collateral pool, vault population and actors'
funds it starts from.

`set_up` deploys Backstop (offchain/system/deployment.py) through the run's recorder, so that
every set-up transaction is in the run's tables, seeds the collateral pool from governance's own
vault, opens the vault population, funds the arbitrageur, the takers, the debt-auction bidder,
the insurance fund and the stakers (and, when some owners opt in to soft liquidation, the soft
liquidator), waits out the stability pool's exposure delay and renews the
prices. Actors other than the vault owners hold vaults of `ACTOR_COLLATERALIZATION` times their
debt."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from offchain.model.fixed_point import MAX_UINT256, RAY
from offchain.model.state import ZERO_ADDRESS
from offchain.sim.market.liquidity import add_inventory
from offchain.sim.run.recorder import Recorder
from offchain.sim.scenario.population import (
    VaultPlan,
    actor_address,
    population_plans,
    population_role,
    type_seed,
)
from offchain.sim.scenario.types import Scenario
from offchain.system.deployment import (
    Deployment,
    TypeDeployment,
    deploy_flash_taker,
    deploy_system,
)

ACTOR_COLLATERALIZATION = 10  # actors' own vaults hold 10x their debt in collateral

# the simulation's actors other than the stakers
ROLES = (
    "governance",
    "feeder",
    "liquidation_keeper",
    "taker",
    "arbitrageur",
    "backstop_keeper",
    "bidder",
    "donor",
    "capital_taker",
    "soft_liquidator",
    "outside",
)


class SimulationError(RuntimeError):
    """The scenario could not be set up as specified (one line)."""


@dataclass(frozen=True)
class Actors:
    governance: str
    feeder: str
    liquidation_keeper: str
    taker: str
    arbitrageur: str
    backstop_keeper: str
    bidder: str
    donor: str
    capital_taker: str
    soft_liquidator: str
    outside: str  # the world beyond the chain (sim/market/outside.py): an open market's
    stakers: tuple[str, ...]

    @classmethod
    def for_scenario(cls, scenario: Scenario) -> Actors:
        stakers = tuple(actor_address("staker", i) for i in range(scenario.backstop.pool_stakers))
        return cls(**{role: actor_address(role) for role in ROLES}, stakers=stakers)

    def roles(self) -> dict[str, str]:
        out = {name: getattr(self, name) for name in ROLES}
        out.update({f"staker {i}": s for i, s in enumerate(self.stakers)})
        return out


@dataclass(frozen=True)
class SetUp:
    """What a run starts from."""

    deployment: Deployment
    type_: TypeDeployment  # the collateral type the run's vaults use
    plans: list[VaultPlan]  # the vault population, as opened
    flash_taker: str  # "" without one
    rate0: int  # ray: the type's rate through the set-up
    # every type's (the first's too, as above), by name: populations and flash takers
    all_plans: dict[str, list[VaultPlan]]
    flash_takers: dict[str, str]
    # an open market's outside venues on chain (OutsideVenue), by type: where flash takes may
    # sell (sim/market/flash_venue.py); empty without them
    venues: dict[str, str] = field(default_factory=dict)


def set_up(
    rec: Recorder,
    scenario: Scenario,
    actors: Actors,
    price0: int,
    first_bar: int,
    venue_types: tuple[str, ...] = (),
) -> SetUp:
    """Deploy and populate (see the module docstring); `price0` [wad] is the first bar's market
    price, at which the arbitrageur's collateral is counted; `first_bar` its time, just before
    which the prices are renewed; `venue_types` the types whose flash takers may sell on an
    outside venue on chain (an open market's: `_deploy_venues`). Raises SimulationError."""
    s, a = scenario, actors
    collateral = s.system.collateral[0]
    scale = 10 ** (18 - collateral.token_decimals)
    # the pool is seeded below from a safer vault than deploy_system's
    # the backstop keeper charges what the deleveraging layer parks (when the order has it)
    d = deploy_system(
        _Deploying(rec),
        s.system,
        a.governance,
        a.feeder,
        seed_pools=False,
        deleverager=a.backstop_keeper,
    )
    t = d.types[collateral.name]
    rec.ledger.follow(d, rec.read)  # the population's events on
    rec.labels = {address: label.split(" ")[0] for label, address in d.contracts()}
    rec.labels.update({address: role for role, address in a.roles().items()})
    # fees accrue only when someone calls accrue: the rate stays put through the setup
    rate0 = rec.read([(d.engine, "collateral_types", (t.type_id,))])[0][1]
    fund = _Funding(rec, d, t, a.governance, price0, scale, rate0)
    g = a.governance
    # the collateral pool: governance's liquidity, from its own vault
    _seed_pool(rec, d, t, g, fund, s.market.pool_depth, collateral.initial_price)
    if s.market.reserves is not None:
        # the pool's depth follows the reserves file (market/liquidity.py): governance holds the
        # stablecoin to add liquidity with, and lets the pool take its tokens
        inventory = add_inventory(s.market.pool_depth, s.market.reserves)
        if inventory:
            fund(g, inventory, exit_stable=True)
        rec.queue("setup", g, t.token, "approve", t.pool, MAX_UINT256)
        rec.queue("setup", g, d.stablecoin, "approve", t.pool, MAX_UINT256)
    # the vault population (drawn, or the scenario's book): governance joins each owner's
    # collateral, each owner draws
    plans = population_plans(
        s.vaults,
        s.seed,
        collateral.initial_price,
        collateral.token_decimals,
        collateral.dust,
        size=collateral.size_margin,
    )
    # with an open market the owners draw to the outside: borrowers sell what they borrow, and
    # that stablecoin is the market's, which keepers buy back (sim/market/outside.py)
    open_market = s.market.outside == "open"
    holder = a.outside if open_market else None
    _open_population(rec, d, t, g, plans, rate0, "", holder)
    all_plans = {collateral.name: plans}
    for k_type, spec in enumerate(s.types):
        all_plans[spec.name] = _further_type(rec, s, d, g, k_type, holder)
    if open_market:  # the outside pays the arbitrageur's ERC-20 through the join
        rec.queue("setup", a.outside, d.engine, "allow", d.stable_join)
    k = s.keepers
    # the arbitrageur: half its capital in stablecoin (ERC-20), half in collateral tokens
    half = k.arbitrageur_capital // 2
    if half:
        fund(a.arbitrageur, half, exit_stable=True)
        rec.queue(
            "setup",
            g,
            t.token,
            "mint",
            a.arbitrageur,
            half * 10**collateral.token_decimals // price0,
        )
    rec.queue("setup", a.arbitrageur, t.token, "approve", t.pool, MAX_UINT256)
    rec.queue("setup", a.arbitrageur, d.stablecoin, "approve", t.pool, MAX_UINT256)
    for spec in s.types:  # each further type: collateral tokens worth the same half
        u = d.types[spec.name]
        if half:
            price = spec.prices.columns["close"][0]
            rec.queue(
                "setup",
                g,
                u.token,
                "mint",
                a.arbitrageur,
                half * 10**u.config.token_decimals // price,
            )
        rec.queue("setup", a.arbitrageur, u.token, "approve", u.pool, MAX_UINT256)
        rec.queue("setup", a.arbitrageur, d.stablecoin, "approve", u.pool, MAX_UINT256)
    # the takers
    flash_taker = ""
    flash_takers: dict[str, str] = {}
    venues: dict[str, str] = {}
    if k.taker_mode in ("flash", "both"):
        venues = _deploy_venues(rec, d, a.outside, venue_types)
        for name in all_plans:
            flash_takers[name] = deploy_flash_taker(
                _Deploying(rec), d, name, a.taker, venues.get(name, ZERO_ADDRESS)
            )
            rec.labels[flash_takers[name]] = "FlashTaker"
        flash_taker = flash_takers[collateral.name]
    if k.taker_mode in ("capital", "both"):
        fund(a.capital_taker, k.taker_capital, exit_stable=False)
        for name in all_plans:
            rec.queue("setup", a.capital_taker, d.engine, "allow", d.types[name].auction)
    opted_in = any(p.opted_in for plans_of_type in all_plans.values() for p in plans_of_type)
    if opted_in and k.soft_liquidation_capital:
        # the soft liquidator: its stablecoin in the engine, which the MarginCall takes
        fund(a.soft_liquidator, k.soft_liquidation_capital, exit_stable=False)
        rec.queue("setup", a.soft_liquidator, d.engine, "allow", d.margin_call)
    if k.debt_auction_capital:
        fund(a.bidder, k.debt_auction_capital, exit_stable=False)
        rec.queue("setup", a.bidder, d.engine, "allow", d.debt_auction)
    if s.backstop.insurance_fund:
        fund(a.donor, s.backstop.insurance_fund, exit_stable=False)
        rec.queue(
            "setup",
            a.donor,
            d.engine,
            "transfer_stable",
            a.donor,
            d.backstop,
            s.backstop.insurance_fund * RAY,
        )
    for staker in a.stakers:
        fund(staker, s.backstop.pool_stake, exit_stable=False)
        rec.queue("setup", staker, d.engine, "allow", d.stability_pool)
        rec.queue("setup", staker, d.stability_pool, "stake", s.backstop.pool_stake * RAY)
    rec.flush()
    _renew_prices(rec, d, a, first_bar, scenario.market.oracle_phase)
    failed = [r for r in rec.rows["txs"] if r[7] != "ok"]
    if failed:
        raise SimulationError(
            f"setup transaction {failed[0][4]}.{failed[0][5]} reverted: {failed[0][8]}"
        )
    return SetUp(d, t, plans, flash_taker, rate0, all_plans, flash_takers, venues)


def _deploy_venues(
    rec: Recorder, d: Deployment, outside: str, names: tuple[str, ...]
) -> dict[str, str]:
    """An OutsideVenue for each of `names` (the types whose flash takers may sell on the outside
    venue), its market the outside: it syncs the venue and funds it (sim/market/flash_venue.py).
    The venue pays from what the outside deposits before a block's sales, nothing at the
    set-up."""
    venues = {}
    for name in names:
        t = d.types[name]
        venues[name] = rec.deploy(
            "OutsideVenue", outside, t.token, d.stablecoin, t.config.token_decimals
        )
        rec.labels[venues[name]] = "OutsideVenue"
    return venues


def _further_type(
    rec: Recorder, s: Scenario, d: Deployment, g: str, k: int, holder: str | None = None
) -> list[VaultPlan]:
    """Type s.types[k]'s collateral pool (seeded from governance's own vault of that type) and
    its vault population (owners of its own role; their draws to `holder` if given); the
    population as opened."""
    spec = s.types[k]
    t = d.types[spec.name]
    c = t.config
    scale = 10 ** (18 - c.token_decimals)
    price0 = spec.prices.columns["close"][0]
    rate0 = rec.read([(d.engine, "collateral_types", (t.type_id,))])[0][1]
    fund = _Funding(rec, d, t, g, price0, scale, rate0)
    _seed_pool(rec, d, t, g, fund, spec.pool_depth, price0)
    plans = population_plans(
        spec.vaults,
        type_seed(s.seed, k),
        price0,
        c.token_decimals,
        c.dust,
        role=population_role(spec.name),
        size=c.size_margin,
    )
    _open_population(rec, d, t, g, plans, rate0, f" ({spec.name})", holder)
    return plans


def _seed_pool(
    rec: Recorder, d: Deployment, t: TypeDeployment, g: str, fund: _Funding, depth: int, price: int
) -> None:
    """Type `t`'s collateral pool: `depth` [wad] of stablecoin drawn from governance's own vault
    of `t`, and tokens worth as much at `price` [wad], as liquidity."""
    tokens = depth * 10**t.config.token_decimals // price
    fund(g, depth, exit_stable=True)
    rec.queue("setup", g, t.token, "mint", g, tokens)
    rec.queue("setup", g, t.token, "approve", t.pool, tokens)
    rec.queue("setup", g, d.stablecoin, "approve", t.pool, depth)
    rec.queue("setup", g, t.pool, "add_liquidity", tokens, depth, 0)


def _open_population(
    rec: Recorder,
    d: Deployment,
    t: TypeDeployment,
    g: str,
    plans: list[VaultPlan],
    rate0: int,
    label: str,
    holder: str | None = None,
) -> None:
    """Governance joins each owner's collateral of `t`, each owner draws its debt (at `rate0`)
    to itself, or to `holder` if given (an open market's outside);
    SimulationError naming the first vault that could not be opened (`label` after its owner).
    Then the owners who opt in consent to soft liquidation (checked with the set-up's other
    transactions)."""
    scale = 10 ** (18 - t.config.token_decimals)
    total = sum(p.collateral for p in plans) // scale
    rec.queue("setup", g, t.token, "mint", g, total)
    rec.queue("setup", g, t.token, "approve", t.join, total)
    for p in plans:
        rec.queue("setup", g, t.join, "join", p.owner, p.collateral // scale)
    for p in plans:
        rec.queue(
            "setup",
            p.owner,
            d.engine,
            "modify_vault",
            t.type_id,
            p.owner,
            p.owner,
            holder or p.owner,
            p.collateral,
            -(-p.debt * RAY // rate0),
        )
    for p, outcome in zip(plans, rec.flush()[-len(plans) :]):
        if not outcome.ok:
            raise SimulationError(
                f"vault {p.owner}{label} could not be opened: {outcome.reason or '(no reason)'}"
            )
    # the owners who opt in to soft liquidation: both consents (docs/margin-call.md)
    for p in plans:
        if p.opted_in:
            rec.queue("setup", p.owner, d.margin_call, "opt_in")
            rec.queue("setup", p.owner, d.engine, "allow", d.margin_call)


RENEWAL_SLACK = 600  # seconds left between the prices' renewal and the first bar


def _renew_prices(
    rec: Recorder, d: Deployment, a: Actors, first_bar: int, phase: int | None = None
) -> None:
    """A stake becomes shares, by its staker, after the pool's exposure delay; then the prices are
    posted again and made current, timed to end just before the first bar (RENEWAL_SLACK): the
    set-up of a large population, many transactions to a block, ends hours before the first bar
    (genesis_time leaves a second per transaction), and prices renewed then would be older than
    the oracle's maximum age at the first bar (a safe price of 0: every vault unsafe).
    `phase` (scenario/timeline.py; None: the default) times the last poke `oracle_delay - phase`
    seconds before the first bar, so that the first poke of the replay is due `phase` seconds into
    it."""
    backend = rec.backend
    oracle_delay = max(typ.config.oracle_delay for typ in d.types.values())
    delay = rec.read([(d.stability_pool, "exposure_delay", ())])[0] if a.stakers else 0
    age = RENEWAL_SLACK if phase is None else oracle_delay - phase
    renew_at = first_bar - oracle_delay - age
    backend.set_next_block_time(max(backend.last_block_time + delay, renew_at))
    for staker in a.stakers:
        rec.queue("setup", staker, d.stability_pool, "activate")
    for typ in d.types.values():
        rec.queue("setup", a.feeder, typ.oracle, "post", typ.config.initial_price)
        rec.queue("setup", a.feeder, typ.oracle, "poke")
    rec.flush()
    poke_at = backend.last_block_time + oracle_delay
    if phase is not None and poke_at != first_bar - age:
        raise SimulationError(
            f"oracle phase {phase:,} s: the set-up's last poke would be {first_bar - poke_at:,} s "
            f"before the first bar, not {age:,} s (the set-up ran late)"
        )
    backend.set_next_block_time(poke_at)
    for typ in d.types.values():
        rec.queue("setup", a.feeder, typ.oracle, "poke")
        rec.queue("setup", a.feeder, d.spotter, "poke", typ.type_id)
    rec.flush()


@dataclass(frozen=True)
class _Funding:
    """`fund(who, stable, exit_stable)`: `who` opens a vault with ACTOR_COLLATERALIZATION x
    collateral and draws `stable` [wad], taken out as the ERC-20 if `exit_stable`."""

    rec: Recorder
    d: Deployment
    t: TypeDeployment
    governance: str
    price0: int  # wad: the first bar's market price
    scale: int
    rate0: int

    def __call__(self, who: str, stable: int, exit_stable: bool) -> None:
        rec, d, t = self.rec, self.d, self.t
        decimals = t.config.token_decimals
        tokens = -(-stable * ACTOR_COLLATERALIZATION * 10**decimals // self.price0)
        rec.queue("setup", self.governance, t.token, "mint", who, tokens)
        rec.queue("setup", who, t.token, "approve", t.join, tokens)
        rec.queue("setup", who, t.join, "join", who, tokens)
        rec.queue(
            "setup",
            who,
            d.engine,
            "modify_vault",
            t.type_id,
            who,
            who,
            who,
            tokens * self.scale,
            -(-stable * RAY // self.rate0),
        )
        if exit_stable:
            rec.queue("setup", who, d.engine, "allow", d.stable_join)
            rec.queue("setup", who, d.stable_join, "exit", who, stable)


class _Deploying:
    """The backend as deploy_system sees it, with every transaction recorded."""

    def __init__(self, rec: Recorder):
        self.rec = rec

    @property
    def last_block_time(self) -> int:
        return self.rec.backend.last_block_time

    def set_next_block_time(self, timestamp: int) -> None:
        self.rec.backend.set_next_block_time(timestamp)

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        return self.rec.deploy(name, sender, *args)

    def transact(self, address: str, function: str, sender: str, *args: Any) -> None:
        if not self.rec.send("setup", sender, address, function, *args):
            raise SimulationError(
                f"deployment step {function} reverted: {self.rec.rows['txs'][-1][-1]}"
            )

    def view(self, address: str, function: str, *args: Any) -> Any:
        return self.rec.read([(address, function, args)])[0]
