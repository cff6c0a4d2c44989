"""The soft liquidator: a keeper that soft-liquidates called vaults of owners who opted in
(contracts/MarginCall.vy, docs/margin-call.md) when the bonus is worth its gas.

Each round, for each collateral type with margin calls, it reads the MarginCall's parameters, the
type's oracle (the Spotter's, which the MarginCall reads: the current price, which judges the
band, and the queued and latest prices, the highest of which prices the collateral), the
Spotter's ratio, the engine's rate, safe price, dust and size margin, and its own stablecoin in
the engine (`read_margin_view`). Its vault index (the keepers' `VaultIndex`) gives the candidates
by bisection, each then judged exactly by the contract's rule (`margin_call.status`, at the safe
price the oracle's current price gives); the candidates' consents are read
(`MarginCall.can_soft_liquidate`) and `soft_liquidation_actions` sizes a call for each called
vault that consents. Every rule it applies is the model's (offchain/model/margin_call.py: the
least cure, the tolerance past it, the collateral out); this module only chooses among what the
contract accepts:

- **cure**: the least normalized debt whose soft liquidation leaves the vault above its warning
  level (`margin_call.least_cure`), at most the close factor's limit; a vault no call within the
  limit cures is left alone (the contract would refuse it: "margin: still called");
- **the bonus is paid on the cure**: the contract refuses a repayment whose `cure_step` less
  would cure too ("margin: repays more than the cure"), so the most a call may repay is the
  least cure plus about 1 bp (`margin_call.most_accepted`). By default (`repay = "middle"`) the
  keeper repays the middle of that range (`margin_call.middle_accepted`): half the tolerance
  each side, so one transaction between its read and its call (fees accrued raise the cure, a
  wei of collateral locked into the vault lowers it) does not refuse it. `repay = "least"` and
  `"most"` send an end of the range (the least bonus, the most): either end is refused by one
  such transaction (tests/security/test_adv45.py; docs/margin-call-lab.md compares them);
- **pay for itself**: the bonus must pay the gas. Its profit is the collateral received, valued
  at the market price, less the debt repaid and the gas [stablecoin]; where the least cure's
  profit is below `min_profit`, the keeper repays more, the least that clears it, up to the most
  the contract accepts; where none does (a vault that needs little, or the delayed oracle's
  price above the market by more than the bonus, the usual case in a crash), it waits;
- the remainder must be 0 or at least the dust, and the vault safe at the engine's stored safe
  price too (the engine's own check), or the call is not sent;
- its stablecoin bounds the calls of a round over every type (the one balance it pays from).

The collateral received stays in the keeper's engine balance (valued at the market, as the
capital taker's takes: a keeper hedged elsewhere); the simulator counts it as sold on the type's
external market, as a take's (market/impact.py), since that is what such a keeper does with it.

Gas is priced at `SOFT_LIQUIDATION_GAS` x the bid x the first collateral type's market price (the
chain's gas token: ETH-A in every built-in scenario). All arithmetic is integer: the chain run
and the model run decide the same calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from offchain.model import margin_call as mc
from offchain.model import size_margin as sizing
from offchain.model.fixed_point import RAY, WAD
from offchain.sim.strategies.actions import Action
from offchain.sim.strategies.gas_costs import SOFT_LIQUIDATION_GAS
from offchain.sim.strategies.keepers import VaultIndex
from offchain.sim.strategies.observe import Call, Read
from offchain.sim.strategies.steps import World
from offchain.system.deployment import Deployment, TypeDeployment

__all__ = [
    "REPAY_CHOICES",
    "MarginView",
    "SoftLiquidatorStep",
    "SoftParams",
    "called_vaults",
    "read_margin_view",
    "soft_liquidation_actions",
    "soft_terms",
]

# the scenario's [keepers] soft_liquidation_repay: the middle of what the contract accepts (the
# least cure + half its tolerance: survives one transaction in between either way), the least
# that cures (and pays), or the most the contract accepts (the least cure + its tolerance)
REPAY_CHOICES = ("middle", "least", "most")


@dataclass(frozen=True)
class MarginView:
    """One collateral type as the soft liquidator sees it."""

    type_id: bytes
    # the MarginCall's parameters, the rate, the called test's safe price (0: an invalid price),
    # the exchange price and the size margin (offchain/model/margin_call.py)
    terms: mc.MarginTerms
    dust: int  # rad
    engine_safe_price: int  # ray: the safe price stored in the engine (its own safety check)
    capital: int  # rad: the keeper's stablecoin in the engine

    @property
    def parameters(self) -> mc.MarginParameters:
        return self.terms.parameters


def read_margin_view(read: Read, d: Deployment, t: TypeDeployment, keeper: str) -> MarginView:
    """Type `t` as the soft liquidator `keeper` sees it (its oracle is the Spotter's, which the
    deployment sets to the type's own)."""
    calls: list[Call] = [
        (d.margin_call, "parameters", (t.type_id,)),
        (t.oracle, "peek", ()),
        (t.oracle, "next_price", ()),
        (t.oracle, "source_price", ()),
        (d.spotter, "liquidation_ratios", (t.type_id,)),
        (d.engine, "collateral_types", (t.type_id,)),
        (d.engine, "size_margin_word", (t.type_id,)),
        (d.engine, "stable", (keeper,)),
    ]
    parameters, (price, valid), queued, latest, ratio, ctype, size, capital = read(calls)
    exchange = mc.exchange_price(price, queued, latest)
    safe = mc.called_test_price(price, valid, ratio) if exchange <= mc.MAX_PRICE else 0
    # collateral_types: (normalized debt, rate, safe price, debt ceiling, dust)
    _, rate, engine_safe_price, _, dust = ctype
    terms = mc.MarginTerms(mc.MarginParameters.of(parameters), rate, safe, exchange, size)
    return MarginView(t.type_id, terms, dust, engine_safe_price, capital)


def called_vaults(index: VaultIndex, view: MarginView) -> list[str]:
    """The owners of `index`'s called vaults (MarginCall's band at the oracle's current price),
    closest to liquidation first. Candidates: the vaults unsafe at the safe price divided by the
    warning factor (a superset, as notice.at_risk's), each then judged exactly."""
    terms, warning = view.terms, view.parameters.warning_factor
    if warning == 0 or terms.safe_price == 0:
        return []
    limit = terms.safe_price * RAY // warning
    out = []
    for owner in index.unsafe(terms.rate, limit, terms.size):
        collateral, normalized = index.vaults[owner]
        debt = normalized * terms.rate
        if mc.status(collateral, debt, terms.safe_price, terms.size, warning) == mc.CALLED:
            out.append(owner)
    return out


@dataclass(frozen=True)
class SoftParams:
    actor: str  # the role name in the records
    keeper: str
    margin_call: str
    gas_price: int  # wei
    min_profit: int  # wad of stablecoin
    gas_token_price: int  # wad of stablecoin per gas token (the first type's market price)
    repay: str = "middle"  # one of REPAY_CHOICES


def soft_terms(
    view: MarginView, collateral: int, normalized: int, market_price: int, p: SoftParams
) -> tuple[int, int, int] | None:
    """(normalized debt to repay [wad], collateral out [wad], profit [wad]) of the call the
    keeper makes on a called vault with `collateral` and `normalized` debt (see the module
    docstring), or None: no call cures it within the close factor, leaves at least the dust and
    keeps it safe in the engine's eyes, or pays `min_profit` after gas at `market_price` [wad]
    without repaying more than the contract accepts past the least cure."""
    terms = view.terms
    limit = mc.close_factor_limit(normalized, terms.parameters.close_factor)
    cure = mc.least_cure(terms, collateral, normalized, limit)
    if cure is None:
        return None
    most = mc.most_accepted(cure, limit)
    gas_cost = SOFT_LIQUIDATION_GAS * p.gas_price * p.gas_token_price // WAD  # wad

    def profit(n: int) -> int:  # at the market, after gas [wad]; the repayment rounded up
        return mc.terms_out(terms, n) * market_price // WAD - -(-n * terms.rate // RAY) - gas_cost

    first = {"most": most, "middle": mc.middle_accepted(cure, most)}.get(p.repay, cure)
    if profit(first) >= p.min_profit:
        n: int | None = first
    else:  # the least past the first choice that pays, within what the contract accepts
        n = mc.least_true(lambda n: profit(n) >= p.min_profit, first, most)
    if n is None or profit(n) < p.min_profit:
        return None
    c = mc.terms_out(terms, n)
    remainder = (normalized - n) * terms.rate
    if not mc.accepts(terms, collateral, normalized, n) or 0 < remainder < view.dust:
        return None
    # the engine checks the vault's safety at its stored safe price (stale until the Spotter's
    # poke): a call it would refuse is not sent
    if sizing.margin_debt(remainder, terms.size) > (collateral - c) * view.engine_safe_price:
        return None
    return n, c, profit(n)


def soft_liquidation_actions(
    index: VaultIndex,
    view: MarginView,
    owners: Sequence[str],
    market_price: int,
    capital: int,
    p: SoftParams,
    in_flight: set[tuple],
) -> tuple[list[Action], int]:
    """(a soft liquidation of each of `owners`' vaults in `index` (called, their owners
    consenting), sized by `soft_terms`, in order, within `capital` [rad] of the keeper's
    stablecoin; the capital left [rad]). Each is valued at its expected profit; its minimum
    collateral is the exact collateral it expects (a call the state has moved under is refused,
    not paid worse)."""
    out = []
    for owner in owners:
        if ("soft", owner) in in_flight:
            continue
        collateral, normalized = index.vaults[owner]
        terms = soft_terms(view, collateral, normalized, market_price, p)
        if terms is None:
            continue
        n, c, value = terms
        rate = view.terms.rate
        if n * rate > capital:
            continue
        capital -= n * rate
        out.append(
            Action(
                p.actor,
                p.keeper,
                p.margin_call,
                "soft_liquidate",
                (view.type_id, owner, n, c),
                (("soft", owner),),
                p.gas_price,
                values=(value,),
            )
        )
    return out, capital


@dataclass
class SoftLiquidatorStep:
    """The soft liquidator (see the module docstring): each round, over every type with margin
    calls, the calls worth their gas, within its stablecoin (one balance for every type) and,
    with a `gas_budget` [gas a round], the most profitable per gas first."""

    sender: str
    gas_price: int
    min_profit: int
    repay: str = "middle"
    role: str = "soft_liquidator"
    gas_budget: int = 0
    state: dict[str, Any] = field(default_factory=dict)

    def decide(self, world: World, names: Sequence[str]) -> list[Action]:
        d, out = world.d, []
        if not d.margin_call or not names:
            return []
        params = SoftParams(
            self.role,
            self.sender,
            d.margin_call,
            self.gas_price,
            self.min_profit,
            world.market_price(names[0]),
            self.repay,
        )
        capital: int | None = None
        for name in names:
            t = d.types[name]
            view = read_margin_view(world.read, d, t, self.sender)
            if capital is None:
                capital = view.capital
            index = world.index(name)
            candidates = called_vaults(index, view)
            if not candidates:
                continue
            consents = world.read(
                [(d.margin_call, "can_soft_liquidate", (t.type_id, o)) for o in candidates]
            )
            planned, capital = soft_liquidation_actions(
                index,
                view,
                [o for o, ok in zip(candidates, consents) if ok],
                world.market_price(name),
                capital,
                params,
                world.in_flight(),
            )
            out += planned
        return world.budget(out, self.gas_budget, self.sender)
