"""Economic properties of every transaction, checked on the model after chain == model.

Agreement between chain and model is not safety: an exact twin reproduces an exploit exactly.
These checks state what each money-moving result may be, from the state just before the
transaction and its events (issue 13, "Make the suite find the next one"). `System.tx` runs them
after every transaction, so every unit test and every step of the differential state machines is
checked. A failure raises `EconomicViolation` with one line per broken property.

- **No actor gets richer than listed honest income explains.** Each account's holdings, valued
  at the market price (the oracle's latest post), may rise in a transaction by at most the
  honest income the transaction's events list for it: a keeper reward, an auction discount
  (collateral bought below the market price), collateral an auction returns to its vault's
  owner when the owner's bound below allows it (and only then), the stability pool's fee income
  (pro rata, bounded by the whole income), a surplus auction's lot, what a settlement redemption
  or vault closure gives at the final price, a swap or a liquidity withdrawal in a collateral pool
  (a market, not the protocol). Governance's own transactions (minting test tokens, funding
  actors) are trusted and not checked.
- **Keeper rewards are bounded by what their auction earns, per auction and per vault:** each
  at most half the penalty income of the auction's debt at payment, `(debt - ceil(debt /
  penalty)) / 2`; all rewards of one auction together at most half its income at the start; all
  rewards of all the auctions of one vault (one owner and type), however many chunks it was cut
  into, at most half the sum of those auctions' income at their starts; none after shutdown;
  each created for the keeper named in the event.
- **The owner's bound** (issue 31): an auction returns collateral to its vault's owner only once
  its debt and penalty are raised in full (`debt_unraised == 0`, the takes' `owe` summing to the
  amount to raise), and then exactly the seized lot less what the takes sold. The owner so ends
  with what a solvent close gives it at the prices the auction got: valued at the market price,
  the collateral's value less debt and penalty (never below 0: nothing comes back from an
  auction that did not raise its debt), plus what buyers paid above the market (their loss).
  A write-off (a dust close, a sold-out auction) that hands the owner collateral breaks it, and
  such collateral is not listed as honest income.
- **No unrecorded bad debt.** The Backstop's unattributed bad debt (what no loss event or debt
  auction accounts for) rises only by stablecoin created against the Backstop in the same
  transaction for a listed reason (a reward, a debt-auction bid refund, a cancelled auction's
  returned debt) or by debt moved to global settlement (settlement layer, shutdown, closed
  vaults); every creation against the Backstop has such a reason.
- **Stability pool.** Each `StakerCharged` is the staker's exact pro-rata part (`shares * amount
  // total_shares`, the last staker the remainder) and the staker held at least those shares
  when the charged loss was opened (nobody pays for a loss whose cause predates it); a
  `Withdrawn` pays at most the requested shares' value at the request and now, and at most the
  value at the request less the requested shares' exact part of every charge realized since
  (requested shares earn nothing, even income that refills a charge: issue 31, finding 8), only
  once every
  loss event opened up to the request's maturity is done (exposure cannot be escaped once its
  cause is on chain); an `Activated` stake waited the exposure delay and found no loss open.
- **The attacker's whole run** (`Auditor.attacker`, set by the fuzz and the attacker test): its
  gains and its listed income are summed over every transaction, whoever sends it, and the sum of
  gains may never exceed the sum of income. This catches what the per-transaction sender check
  cannot: value that reaches the attacker through a victim's transaction with no event naming it
  (a share-price inflation, say).

The modules: base.py (`Snapshot`, `EconomicViolation`, the Auditor's records, market prices and
holdings), events.py (the checks of rewards, the owner's bound, bad debt and the stability pool),
auditor.py (`Auditor`: `after`, `fork` and the holdings check).
"""

from __future__ import annotations

from offchain.testing.economics.auditor import Auditor
from offchain.testing.economics.base import (
    REWARD_SHARE,
    TOLERANCE,
    WAD_WAD_TO_RAD,
    EconomicViolation,
    Snapshot,
)

__all__ = [
    "REWARD_SHARE",
    "TOLERANCE",
    "WAD_WAD_TO_RAD",
    "Auditor",
    "EconomicViolation",
    "Snapshot",
]
