"""How a keeper prices its gas: what it bids in a bar, and what it does when a bid fails.

Two strategies (scenario `[keepers] gas_strategy`):

- **market** (the default): a keeper watches the gas market, as real ones do (an
  `eth_feeHistory` or a gas oracle). In every bar it plans with a bid at the bar's
  `gas_percentile` (60: it lands in the bar, the latency model's rule; 30: one bar later, for
  less); an action the latency model dropped is sent again next bar with its bid raised by
  `ESCALATION` per drop (12.5%, the replacement rule of geth's transaction pool); and no bid
  costs more than the action is worth (`Action.values`, stablecoin; the gas paid in the gas
  token at the first collateral type's market price: ETH in every built-in): a bid that cap
  lowers below the bar's 30th percentile is dropped, with its own reason. Actions without a
  value (a reset, an accrual, a heal) are not capped, nor the backstop keeper's: it works for
  the protocol, not for what an action earns it (a cover smaller than its gas still has to be
  paid by a layer: leaving it uncovered saves nothing), so its bid is the market's alone.
- **fixed**: every keeper bids its `<role>_gas_gwei` in every bar whatever the market does, and
  a dropped action is sent again at the same bid (the lab's strategy before this one; with it a
  run comes back to the wei).

A keeper priced out on purpose (a stress: the keeper whose bids never reach the market) is named
in the scenario's `priced_out` (e.g. `priced_out = "backstop"`; a grid key, so a sweep can set
each role against none): under the market strategy that role alone keeps its fixed
`<role>_gas_gwei`, and the report's first lines name it.
"""

from __future__ import annotations

from dataclasses import dataclass

from offchain.model.fixed_point import WAD

# the keeper roles whose bids a scenario sets (`<role>_gas_gwei`), and the actors that send for
# each (Action.actor; the debt-auction bidder sends with the backstop keeper's bid)
GAS_ROLES: dict[str, tuple[str, ...]] = {
    "liquidation": ("liquidation_keeper",),
    "taker": ("taker", "capital_taker"),
    "backstop": ("backstop_keeper", "bidder"),
    "soft_liquidation": ("soft_liquidator",),
}
GAS_STRATEGIES = ("market", "fixed")
# the roles whose bids the action's value caps: those paid by what they act on
VALUE_CAPPED = ("liquidation", "taker", "soft_liquidation")
GAS_PERCENTILES = (30, 60)  # the percentiles the latency model knows (actions.Latency)
# a dropped action's bid is raised by this factor per drop (numerator, denominator), at most
# MAX_ESCALATIONS times
ESCALATION = (1125, 1000)
MAX_ESCALATIONS = 40
DROPPED_UNDERPRICED = "gas bid below the bar's 30th percentile"
DROPPED_CAPPED = "gas bid capped by the action's value, below the bar's 30th percentile"


def role_of(actor: str) -> str | None:
    """The keeper role (GAS_ROLES) an actor sends for; None for the others (the feeder, the
    arbitrageur: they do not bid)."""
    for role, actors in GAS_ROLES.items():
        if actor in actors:
            return role
    return None


def parse_priced_out(text: str) -> tuple[str, ...]:
    """The role of a `priced_out` value ("" or "none": none; else one role name, as the schema's
    choice says: a comma list was parsed here and refused by the schema, two rules for one key);
    ValueError naming an unknown role."""
    role = text.strip()
    if role in ("", "none"):
        return ()
    if role not in GAS_ROLES:
        raise ValueError(f"unknown keeper role {role!r} (one of {', '.join(GAS_ROLES)}, or none)")
    return (role,)


@dataclass(frozen=True)
class GasStrategy:
    """The keepers' gas strategy of a run (module docstring). `fixed_bids` [wei] per role."""

    kind: str
    percentile: int
    fixed_bids: dict[str, int]
    priced_out: tuple[str, ...] = ()

    def follows_market(self, role: str) -> bool:
        return self.kind == "market" and role not in self.priced_out

    def planned_bid(self, role: str, p30: int, p60: int) -> int:
        """What `role` plans the bar with [wei], from the bar's gas percentiles [wei]."""
        if not self.follows_market(role):
            return self.fixed_bids[role]
        return p60 if self.percentile == 60 else p30

    def final_bid(
        self, role: str, planned: int, drops: int, value: int | None, gas: int, gas_token: int
    ) -> tuple[int, bool]:
        """(the bid sent [wei], whether the action's value capped it): `planned` raised for
        `drops` earlier drops of the same action, then lowered to the most whose cost (`gas` x
        bid, at `gas_token` [wad of stablecoin per gas token]) fits the action's `value` [wad of
        stablecoin; None: not valued, not capped; only the VALUE_CAPPED roles' are]."""
        if not self.follows_market(role):
            return planned, False
        num, den = ESCALATION
        n = min(drops, MAX_ESCALATIONS)
        bid = planned * num**n // den**n
        if value is None or gas == 0 or gas_token == 0 or role not in VALUE_CAPPED:
            return bid, False
        cap = max(value, 0) * WAD // (gas * gas_token)
        return (cap, True) if cap < bid else (bid, False)
