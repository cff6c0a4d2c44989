"""What a keeper strategy (keepers.py, taker.py, backstop_keeper.py) intends: one transaction
(`Action`), and when it lands (`Latency`: a keeper's gas bid against the bar's gas percentiles ->
lands now, next bar, or not).
"""

from __future__ import annotations

from dataclasses import dataclass

from offchain.sim.scenario.market_data import Series


@dataclass(frozen=True)
class Action:
    """One intended transaction. `targets` name what it acts on (a vault, an auction, ...): no
    two actions in flight share a target. `gas_price` is the bid [wei]; 0 = not subject to
    latency. `gas_limit` is what the strategy sized the transaction to [gas]: the lab sends it
    with that limit (and refuses it if its planned gas is more, run/sending.py), a live bot with
    at least that (the node's estimate holds only for the state it was made on); 0 = a
    transaction's limit in the lab (backends.TX_GAS), the estimate alone live. `values` are what
    acting on each target is worth to the keeper [wad of stablecoin], in the targets' order (a
    take's expected profit after gas, a liquidated vault's debt, a cover's loss due; () = not
    valued): a keeper with a gas budget sends the most valuable per gas first (gas_budget.py).
    `target_gas` is the gas each target adds [gas], in the targets' order (a liquidation batch's
    vaults, by the path each takes: gas_costs.vault_gas); () = the function's figure alone.
    `target_gas_bound` is the most gas each target can add whatever the state the transaction
    meets in its block [gas] (a liquidation batch's vaults: gas_costs.vault_gas_bound), what its
    `gas_limit` was sized with; () = `target_gas`."""

    actor: str
    sender: str
    contract: str
    function: str
    args: tuple
    targets: tuple[tuple, ...]
    gas_price: int = 0
    gas_limit: int = 0
    values: tuple[int, ...] = ()
    target_gas: tuple[int, ...] = ()
    target_gas_bound: tuple[int, ...] = ()


# ---------------------------------------------------------------- latency


class Latency:
    """When a keeper's transaction lands, from its gas bid and the bar's gas percentiles.

    A bid at or above the bar's 60th percentile lands in the bar; at or above the 30th, one bar
    later; below it, the transaction is dropped (the keeper tries again next bar, if it still
    wants to). With a constant gas price: at or above it lands at once, below it is dropped.
    This is how Black Thursday's gas spike kept keepers' bids out of blocks."""

    def __init__(self, gas: Series | None, constant: int):
        self.gas = gas
        self.constant = constant
        self._at: dict[int, tuple[int, int]] = {}
        self._p90: dict[int, int] = {}  # the block-space check asks at every bar it tries

    def percentiles(self, time: int) -> tuple[int, int]:
        """(p30, p60) at `time` [wei]."""
        if self.gas is None:
            return self.constant, self.constant
        found = self._at.get(time)
        if found is None:
            found = self._at[time] = (self.gas.at("p30_gwei", time), self.gas.at("p60_gwei", time))
        return found

    def level(self, bid: int, time: int) -> int:
        """The highest of the bar's 30th, 60th and 90th gas percentiles `bid` [wei] reaches (30
        below them all, and with a constant gas price: the block space it can outbid)."""
        if self.gas is None:
            return 30
        p90 = self._p90.get(time)
        if p90 is None:
            p90 = self._p90[time] = self.gas.at("p90_gwei", time)
        if bid >= p90:
            return 90
        p30, p60 = self.percentiles(time)
        return 60 if bid >= p60 else 30

    def delay(self, bid: int, time: int) -> int | None:
        """Bars until a transaction bidding `bid` [wei] at `time` lands; None: dropped."""
        p30, p60 = self.percentiles(time)
        if bid >= p60:
            return 0
        if bid >= p30 and self.gas is not None:
            return 1
        return None

    def landing_bar(self, bid: int, times: list[int], bar: int) -> int | None:
        """The bar in which a keeper that wants to act from `bar` on (and retries every bar while
        dropped) gets its transaction in; None if never within `times`."""
        for b in range(bar, len(times)):
            d = self.delay(bid, times[b])
            if d is not None:
                return b + d
        return None
