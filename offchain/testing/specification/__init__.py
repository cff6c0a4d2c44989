"""The specification, checked on every transaction: not that the chain and the model agree (Lockstep
and offchain/testing/checking.py do that), but that the result is the one the protocol promises.
An exact twin reproduces a bug exactly; these checks are what catch a bug planted in both
(offchain/testing/mutation.py).

`Specification.before` keeps, from the model's state before a transaction, the little each check
needs; `after` checks the transaction's events (identical on chain and in the model, or Lockstep
has already failed) and the state after it; `reverted` checks that a revert's reason holds. The
arithmetic is written here plainly (exact rationals, ceil/floor by hand), never through the model's
fixed_point, price_curves or contracts, so that a bug in those cannot hide itself:

- a take pays at least the exact curve price (and at most its round-ups above it), and a partial
  take leaves 0 or at least min_auction (the type's dust x penalty, read now; every auction's
  min_auction view reads exactly that after every transaction); a take happens
  only on an auction that needs no reset, a reset only on one that does; an auction starts at
  the oracle price times the buffer; a dust close only of an auction that ran its curve unsold,
  its lot worth less than min_auction and its debt at a fresh start price, and an auction returns
  collateral to its owner only once its debt is raised (a write-off never does);
- a liquidation raises exactly ceil(debt x penalty), within the room of both caps unless it takes
  the whole vault, and leaves the vault's debt 0 or at least dust; every vault's debt after a
  change of it is 0 or at least dust, within the type's ceiling;
- only whom the owner allows makes a vault riskier; only a feeder posts a price, within max_change
  of the reference; the spotter's safe price is floor(price / ratio);
- an accrual's effective fee is 1 + ceil((base - 1) x multiplier) with the multiplier of the
  period's average excess over the kink, its rate the old rate times that fee per second elapsed
  (rounded up); the stability pool's share of the fees is min(floor(income x share), floor(its
  assets x max yield x the accrual's seconds / a year)) (finding 31-7);
- a closed loss covers min(raised, debt); the debt-auction layer adds exactly what it takes on;
  the fund layer pays min(loss, free surplus - unattributed bad debt), never below 0, so a
  `settle` before the cover changes nothing (finding 31-6), and after shutdown min(loss, free
  surplus), a `settle` then only with every loss event done; a loss is covered only after its
  queue delay; a withdrawal only of realized shares, inside its window (and refused only outside
  it), for min(its cap, value now), its cap the value at the request less the requested shares'
  part of each charge realized since, rounded up (finding 31-8); an activation leaves the staker
  shares worth at least MIN_STAKE at the activation price, a withdrawal request leaves 0 or
  shares worth MIN_STAKE (rounded down: those are the minimum shares, finding 31-7), and a
  refusal for too few shares is one;
- a debt-auction bid lowers the lot by min_decrease, a surplus-auction bid raises the bid by
  min_increase; a ceiling moves exactly as the manager's rule says (a fall to debt + gap, a rise
  capped at the window's base + gap, a window opened right after another based at the higher of
  the ceiling and that window's highest); a pool swap pays exactly the
  constant-product amount after its fee; global settlement takes ceil(ceil(debt) x final price)
  from a vault and cashes floor(amount x cash price);
- a `deleverage` charges each listed vault min(f, its window's share left) of its headroom above
  the buffer at the lowest price shown, and within one window the shares charged to a vault add
  up to at most the max fraction (issue 45, finding 1); the keeper's ranking (what the fuzz
  machine's and the attacker's keeper send) is by strength, so split-invariant (finding 2);
- governance's queue (timelock.py, issue 66): a proposal runs only in [eta, eta + grace], eta the
  time it was queued plus the delay then in force, at most once, never after a cancel, only with
  the calls of its hash; and the guardian (EMERGENCY, not an admin) sets an auction's stop
  level only higher than the one in force, and is refused only when it asks for no higher;
- gas (issue 63): the twin has no gas and models every transaction as sent with what it needs.
  The one guard on the gas left, `Liquidator.liquidate_many`'s (a vault starts only while
  LIQUIDATION_RESERVE is left, a size cut only while CUT_RESERVE is), is the chain's alone: a
  lockstep run in which it fires is a difference (Lockstep names it with the sender's gas limit:
  SkippedForGas). Bound, checked by the fuzz's keeper round (machine/auctions.py
  `keeper_gas_round`): a `liquidate_many` never fails for gas whatever its limit (given its own
  part), each listed vault liquidated or counted as skipped; the liquidation keeper's batches,
  each sent with its own limit, never make the guard fire; and it lists the vaults unsafe at
  the base ratio before those unsafe at their size alone;
- a running auction cancelled at global settlement is a sale of its lot at the final price: its
  owner re-owes min(the debt still to raise, the lot's worth), and closing the vault takes at
  most the lot for that debt (no gap); a cover after shutdown pays in the order of the
  waterfall's FUND and POOL layers, each what it can, and SETTLEMENT only the rest (issue 63,
  finding 4: the loss order survives shutdown); `start_debt_auction` repays min(debt to auction,
  the surplus room) before it auctions the rest, and `DebtAuction.repay` ends a debt auction
  without a bid, for its bid, only when the room covers it (finding 5: no mint while surplus can
  pay).

The modules (deleverage.py: the deleveraging layer, the independent rewrite of
offchain/model/deleverage.py; loss_order.py: issue 63's bounds): curves.py (the curve and fee
arithmetic), base.py (`Before`,
what the checks read), core.py (`Specification`, `SpecViolation`: the checks of a whole
transaction, and which check runs), events.py (the per-event checks), reverts.py (the per-revert
checks).
"""

from __future__ import annotations

from offchain.testing.specification.base import Before, SpecViolation
from offchain.testing.specification.core import Specification
from offchain.testing.specification.curves import (
    ceil_div,
    curve_price_problem,
    curve_price_up,
    effective_fee,
    exact_curve_ceil,
    power_up,
)

__all__ = [
    "Before",
    "SpecViolation",
    "Specification",
    "ceil_div",
    "curve_price_problem",
    "curve_price_up",
    "effective_fee",
    "exact_curve_ceil",
    "power_up",
]
