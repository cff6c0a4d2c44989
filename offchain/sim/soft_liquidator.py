"""The soft liquidator: a keeper that soft-liquidates called vaults of owners who opted in
(contracts/MarginCall.vy, docs/margin-call.md) when the bonus is worth its gas.

Each round, for each collateral type with margin calls, it reads the MarginCall's parameters, the
type's oracle (the current price, which judges the band, and the queued and latest prices, the
highest of which prices the collateral), the Spotter's ratio, the engine's rate, safe price,
dust and size margin, and its own stablecoin in the engine (`read_margin_view`). Its vault index
(the keepers' `VaultIndex`) gives the candidates by bisection, each then judged exactly by the
contract's rule (notice.status, at the safe price the oracle's current price gives); the
candidates' consents are read (`MarginCall.can_soft_liquidate`) and `soft_liquidation_actions`
sizes a call for each called vault that consents:

- **cure**: the least normalized debt whose soft liquidation leaves the vault above its warning
  level (bisection over the contract's own end test, as the differential fuzz's least cure), at
  most the close factor's limit; a vault no call within the limit cures is left alone (the
  contract would refuse it: "margin: still called");
- **or the most** (`repay = "close_factor"`): the close factor's limit, the most bonus the
  contract pays, if that cures the vault and pays; what a caller maximizing its bonus repays (the
  lab compares the two: docs/margin-call-lab.md);
- **pay for itself**: the bonus must pay the gas. Its profit is the collateral received, valued
  at the market price, less the debt repaid and the gas [stablecoin]; where the least cure's
  profit is below `min_profit`, the keeper repays more, the least that clears it, up to the close
  factor's limit; where none does (the delayed oracle's price is above the market by more than
  the bonus, so every call loses: the usual case in a crash), it waits;
- the remainder must be 0 or at least the dust, and the vault safe at the engine's stored safe
  price too (the engine's own check), or the call is not sent;
- its stablecoin bounds the calls of a round over every type (the one balance it pays from).

The collateral received stays in the keeper's engine balance (valued at the market, as the
capital taker's takes: a keeper hedged elsewhere); the simulator counts it as sold on the type's
external market, as a take's (impact.py), since that is what such a keeper does with it.

Gas is priced at `SOFT_LIQUIDATION_GAS` x the bid x the first collateral type's market price (the
chain's gas token: ETH-A in every built-in scenario). All arithmetic is integer: the chain run
and the model run decide the same calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from offchain.model import size_margin as sizing
from offchain.model.fixed_point import RAY, WAD
from offchain.sim.actions import Action
from offchain.sim.gas_budget import SOFT_LIQUIDATION_GAS
from offchain.sim.keepers import VaultIndex
from offchain.sim.notice import CALLED, safe_price, status, warning_requirement
from offchain.sim.observe import Call, Read
from offchain.sim.steps import World
from offchain.system.deployment import Deployment, TypeDeployment

__all__ = [
    "MarginView",
    "SoftLiquidatorStep",
    "SoftParams",
    "called_vaults",
    "read_margin_view",
    "soft_liquidation_actions",
    "soft_terms",
]

WAD_TO_RAY = RAY // WAD


@dataclass(frozen=True)
class MarginView:
    """One collateral type as the soft liquidator sees it."""

    type_id: bytes
    warning: int  # the MarginCall's warning factor [ray]; 0: no margin calls on the type
    bonus: int  # wad
    close_factor: int  # wad
    rate: int  # ray
    dust: int  # rad
    size: int  # the engine's packed size margin (0: off)
    safe_price: int  # ray: the oracle's current price over the Spotter's ratio; 0: invalid
    engine_safe_price: int  # ray: the safe price stored in the engine (its own safety check)
    exchange_price: int  # wad: the highest of the oracle's current, queued and latest prices
    capital: int  # rad: the keeper's stablecoin in the engine


def read_margin_view(read: Read, d: Deployment, t: TypeDeployment, keeper: str) -> MarginView:
    """Type `t` as the soft liquidator `keeper` sees it (its margin-call oracle is the type's
    own, as the deployment sets it)."""
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
    # collateral_types: (normalized debt, rate, safe price, debt ceiling, dust)
    return MarginView(
        t.type_id,
        parameters[0],
        parameters[1],
        parameters[2],
        ctype[1],
        ctype[4],
        size,
        safe_price(price, valid, ratio),
        ctype[2],
        max(price, queued, latest),
        capital,
    )


def called_vaults(index: VaultIndex, view: MarginView) -> list[str]:
    """The owners of `index`'s called vaults (MarginCall's band at the oracle's current price),
    closest to liquidation first. Candidates: the vaults unsafe at the safe price divided by the
    warning factor (a superset, as notice.at_risk's), each then judged exactly."""
    if view.warning == 0 or view.safe_price == 0:
        return []
    limit = view.safe_price * RAY // view.warning
    out = []
    for owner in index.unsafe(view.rate, limit, view.size):
        collateral, normalized = index.vaults[owner]
        debt = normalized * view.rate
        if status(collateral, debt, view.safe_price, view.size, view.warning) == CALLED:
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
    # the least that cures (and pays), or "close_factor": its limit (the scenario's [keepers]
    # soft_liquidation_repay)
    repay: str = "least"


def soft_terms(
    view: MarginView, collateral: int, normalized: int, market_price: int, p: SoftParams
) -> tuple[int, int, int] | None:
    """(normalized debt to repay [wad], collateral out [wad], profit [wad]) of the call the
    keeper makes on a called vault with `collateral` and `normalized` debt (see the module
    docstring), or None: no call cures it within the close factor, leaves at least the dust and
    keeps it safe in the engine's eyes, or pays `min_profit` after gas at `market_price` [wad]."""
    limit = normalized * view.close_factor // WAD
    if limit == 0:
        return None
    rate, warning, safe = view.rate, view.warning, view.safe_price
    divisor = view.exchange_price * WAD_TO_RAY * WAD
    gas_cost = SOFT_LIQUIDATION_GAS * p.gas_price * p.gas_token_price // WAD  # wad

    def out(n: int) -> int:  # the collateral the MarginCall pays for n, rounded down
        return n * rate * (WAD + view.bonus) // divisor

    def cured(n: int) -> bool:  # the contract's end test: above the warning level
        c = out(n)
        if c == 0 or c > collateral:
            return False
        margin = sizing.margin_debt((normalized - n) * rate, view.size)
        return warning_requirement(margin, warning) <= (collateral - c) * safe

    def profit(n: int) -> int:  # at the market, after gas [wad]; the repayment rounded up
        return out(n) * market_price // WAD - -(-n * rate // RAY) - gas_cost

    def least(ok: Any) -> int | None:  # the least n in [1, limit] with ok(n), ok monotone
        if not ok(limit):
            return None
        low, high = 0, limit  # ok(high); low == 0 or not ok(low)
        while high - low > 1:
            mid = (low + high) // 2
            if ok(mid):
                high = mid
            else:
                low = mid
        return high

    if p.repay == "close_factor":
        n = limit
        if profit(n) < p.min_profit:
            return None
    else:
        cure = least(cured)
        paying = least(lambda n: profit(n) >= p.min_profit)
        if cure is None or paying is None:
            return None
        n = max(cure, paying)
    c = out(n)
    remainder = (normalized - n) * rate
    if not cured(n) or 0 < remainder < view.dust:
        return None
    # the engine checks the vault's safety at its stored safe price (stale until the Spotter's
    # poke): a call it would refuse is not sent
    if sizing.margin_debt(remainder, view.size) > (collateral - c) * view.engine_safe_price:
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
        if n * view.rate > capital:
            continue
        capital -= n * view.rate
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
    repay: str = "least"
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
