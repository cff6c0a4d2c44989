"""The bar's actors of a run, in the order they act (run/driver.py runs them each bar): the steps
of strategies/steps.py built from the scenario and the deployment, with the parameters they ask
for each bar (the takers', the backstop keeper's, at the bar's planned bids: sending.py), and
what the liquidation keeper tells the run back: the unsafe vaults it saw (how long each stays
unsafe) and the vaults it left out for want of an auction slot (results/limits.py).
"""

from __future__ import annotations

from collections.abc import Callable

from offchain.backends.base import TX_GAS
from offchain.sim.market.flash_venue import FlashVenues
from offchain.sim.market.liquidity import LiquidityStep
from offchain.sim.market.outside import Outside, ResaleStep
from offchain.sim.market.type_market import TypeMarket
from offchain.sim.run.sending import Sending
from offchain.sim.run.setup import Actors
from offchain.sim.scenario.ceilings import has_opt_ins
from offchain.sim.scenario.types import Scenario
from offchain.sim.strategies.keepers import BackstopParams, TakerParams
from offchain.sim.strategies.soft_liquidator import SoftLiquidatorStep
from offchain.sim.strategies.steps import (
    ArbitrageStep,
    BackstopStep,
    FeederStep,
    LiquidatorStep,
    Step,
    TakerStep,
)
from offchain.system.deployment import Deployment


class Lineup:
    """The steps of a run (`steps()`, see the module docstring) and what they tell it: `unsafe`,
    the bar's unsafe vaults of the first type `first` (closest to liquidation first), and
    `slot_waits`, type -> bar -> unsafe vaults left out for want of an auction slot. `bar()` is
    the bar running, `times` the bars' times."""

    def __init__(
        self,
        scenario: Scenario,
        actors: Actors,
        deployment: Deployment,
        flash_takers: dict[str, str],
        markets: dict[str, TypeMarket],
        first: str,
        sending: Sending,
        times: list[int],
        bar: Callable[[], int],
    ):
        self.scenario = scenario
        self.actors = actors
        self.deployment = deployment
        self.flash_takers = flash_takers
        self.markets = markets
        self.first = first
        self.sending = sending
        self.times = times
        self.bar = bar
        # an open market's outside world (sim/market/outside.py); None: a closed market
        self.outside: Outside | None = None
        m = scenario.market
        if m.outside == "open":
            self.outside = Outside(
                actors.outside,
                actors.governance,
                {name: tm.venue for name, tm in markets.items() if tm.venue is not None},
                m.stable_price,
                m.resale_delay,
                fundamental=lambda name: self.markets[name].fundamental[self.bar()],
                market_price=lambda name: self.markets[name].prices[self.bar()],
                bar=bar,
            )
        # the outside venues on chain a flash take may sell on (market/flash_venue.py), set by
        # the driver once they are deployed; None: the pool only
        self.flash_venues: FlashVenues | None = None
        self.unsafe: list[str] = []  # the bar's unsafe vaults, closest to liquidation first
        # type -> bar -> unsafe vaults left out for want of an auction slot (_on_waiting)
        self.slot_waits: dict[str, dict[int, int]] = {}

    def steps(self) -> list[Step]:
        """The bar's actors, in the order they act (see run/driver.py's module docstring)."""
        k, a = self.scenario.keepers, self.actors
        # the soft liquidator acts where owners opted in (margin calls come before liquidation)
        soft: list[Step] = []
        if has_opt_ins(self.scenario.vaults, self.scenario.types):
            soft.append(
                SoftLiquidatorStep(
                    a.soft_liquidator,
                    k.soft_liquidation_gas_price,
                    k.soft_liquidation_min_profit,
                    k.soft_liquidation_repay,
                    gas_budget=k.soft_liquidation_gas_budget,
                )
            )
        # the pool's depth follows a reserves file (market/liquidity.py), before the arbitrage
        reserves = self.scenario.market.reserves
        liquidity: list[Step] = (
            [LiquidityStep(a.governance, self.first, reserves)] if reserves else []
        )
        # an open market resells what the capital taker bought, once its delay has passed
        resale: list[Step] = []
        if self.outside is not None and k.taker_mode in ("capital", "both"):
            resale.append(ResaleStep(self.outside, (a.capital_taker,)))
        return [
            FeederStep(a.feeder),
            *liquidity,
            ArbitrageStep(a.arbitrageur, k.arbitrage_threshold, outside=self.outside),
            *soft,
            LiquidatorStep(
                a.liquidation_keeper,
                k.liquidation_gas_price,
                self._on_unsafe,
                gas_budget=k.liquidation_gas_budget,
                on_waiting=self._on_waiting,
                tx_gas=min(TX_GAS, self.scenario.market.block_gas_limit or TX_GAS),
            ),
            TakerStep(self.takers, a.capital_taker, gas_budget=k.taker_gas_budget),
            *resale,
            BackstopStep(
                self._backstop_params,
                a.bidder,
                lambda: a.stakers,
                a.capital_taker,
                gas_budget=k.backstop_gas_budget,
            ),
        ]

    def _on_waiting(self, name: str, count: int) -> None:
        """Unsafe vaults the liquidation keeper left out this bar for want of an auction slot
        (results/limits.py): the most of any of the bar's rounds, per type."""
        bar = self.bar()
        bars = self.slot_waits.setdefault(name, {})
        bars[bar] = max(bars.get(bar, 0), count)

    def _on_unsafe(self, name: str, unsafe: list[str]) -> None:
        """How long each vault stays unsafe: since the first bar it was seen unsafe in."""
        now = self.times[self.bar()]
        ledger = self.markets[name].ledger
        since, first = ledger.unsafe_since, ledger.first_unsafe
        unsafe_set = set(unsafe)
        for owner in [o for o in since if o not in unsafe_set]:
            del since[owner]
        # only a vault newly unsafe is added (in the list's order): one seen unsafe before has
        # its first time already (`first_unsafe` is only ever added to here, with `since`)
        for owner in [o for o in unsafe if o not in since]:
            since[owner] = now
            first.setdefault(owner, now)
        self.markets[name].unsafe = unsafe
        if name == self.first:
            self.unsafe = unsafe

    def takers(self, name: str) -> list[TakerParams]:
        """The scenario's takers of type `name`: flash, with capital, or both (the flash taker
        first); one capital taker and one flash-taker owner across the types."""
        k, a, t = self.scenario.keepers, self.actors, self.deployment.types[name]
        out = []
        if k.taker_mode in ("flash", "both"):
            fv = self.flash_venues
            out.append(
                TakerParams(
                    "taker",
                    a.taker,
                    self.flash_takers[name],
                    t.auction,
                    "flash",
                    k.take_min_profit,
                    self.sending.bids["taker"],
                    venue=fv.quoter(name) if fv is not None else None,
                )
            )
        if k.taker_mode in ("capital", "both"):
            value, top = None, 0
            o = self.outside
            if o is not None:  # its collateral is worth what the venue pays for it now
                now = self.times[self.bar()]
                value = lambda tokens: o.sale_value(name, tokens, now)  # noqa: E731
                top = o.value_top(name, now)
            out.append(
                TakerParams(
                    "capital_taker",
                    a.capital_taker,
                    "",
                    t.auction,
                    "capital",
                    k.take_min_profit,
                    self.sending.bids["taker"],
                    value=value,
                    value_top=top,
                )
            )
        return out

    def _backstop_params(self, name: str) -> BackstopParams:
        a = self.actors
        return BackstopParams.of(
            self.deployment,
            name,
            a.backstop_keeper,
            a.bidder if self.scenario.keepers.debt_auction_capital else "",
            self.sending.bids["backstop"],
        )
