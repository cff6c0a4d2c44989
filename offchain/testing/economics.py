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
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from offchain.backends.model import ModelBackend
from offchain.model.backstop import Layer
from offchain.model.collateral_pool import CollateralPool
from offchain.model.fixed_point import RAY, WAD, div_up
from offchain.system.deployment import Deployment

# wad x wad (collateral x price) -> rad
WAD_WAD_TO_RAD = 10**9
# rounding in the valuation (shares to assets, collateral to value) [rad]: one wei of stablecoin
TOLERANCE = RAY
# the share of an auction's penalty income keeper rewards may take [wad] (the specification's
# figure, stated here on its own: DutchAuction's MAX_REWARD_SHARE must equal it)
REWARD_SHARE = WAD // 2


class EconomicViolation(AssertionError):
    """A transaction moved value in a way no listed honest income explains."""


@dataclass
class Snapshot:
    """What the checks need from the state just before a transaction."""

    sender: str
    target: str
    function: str
    unattributed: int
    liquidator_live: bool
    prices: dict[bytes, int]  # type id -> market price [wad]
    holdings: dict[str, int]  # actor -> value at the market prices [rad]
    # staker -> (shares, withdrawal_shares, withdrawal_at, withdrawal_value, pending_at)
    stakers: dict[str, tuple[int, int, int, int, int]]
    pool_assets: int
    pool_total_shares: int
    # charge id -> (amount, total_shares, stakers_left, attributed)
    charges: dict[int, tuple[int, int, int, int]]
    # loss number -> (opened_at, done)
    losses: dict[int, tuple[int, bool]]
    # (auction address, auction id) -> owner, for the running auctions
    auction_owners: dict[tuple[str, int], str] = field(default_factory=dict)


class Auditor:
    """Checks the economic properties of each transaction of one system (see the module doc).
    `actors` are the accounts whose holdings are watched; `owned` maps contracts an actor owns
    (its FlashTakers) to it, their balances counting as the owner's."""

    def __init__(self, model: ModelBackend, d: Deployment, actors: Iterable[str]):
        self.model = model
        self.d = d
        self.actors = list(actors)
        self.owned: dict[str, str] = {}
        self.checked = 0
        self.holdings_checked = True
        # (auction, id) -> (reward share of the penalty income at the start, rewards paid so far)
        # [rad]
        self.rewards: dict[tuple[str, int], tuple[int, int]] = {}
        # (auction, owner) -> (reward share of the income of every auction of the vault at its
        # start, rewards paid by them all) [rad]: the per-vault bound
        self.vault_rewards: dict[tuple[str, str], tuple[int, int]] = {}
        # (auction, id) -> [owner, lot seized [wad], amount to raise [rad], collateral sold [wad],
        # raised [rad]]: the owner's bound
        self.sales: dict[tuple[str, int], list] = {}
        # loss key -> staker -> shares when the loss was opened
        self.shares_at_open: dict[tuple[bytes, str, int], dict[str, int]] = {}
        # charge id -> the loss key it charged
        self.charged_loss: dict[int, tuple[bytes, str, int]] = {}
        # staker -> (shares requested, the most its withdrawal may pay [rad, exact]): the value
        # at the request less the requested shares' part of each charge realized since
        self.request_bounds: dict[str, tuple[int, Fraction]] = {}
        self._auctions = {t.auction: t for t in d.types.values()}
        self._pools = {t.pool: t for t in d.types.values()}
        # the attacker whose whole run is summed (None: no one); its gains and listed income so
        # far [rad] and the transactions summed
        self.attacker: str | None = None
        self.attacker_gain = 0
        self.attacker_income = 0
        self.attacker_txs = 0

    # ------------------------------------------------------------ reading the model

    def _c(self, address: str) -> Any:
        return self.model.contract(address)

    def market_prices(self) -> dict[bytes, int]:
        """Each type's market price [wad]: the oracle's latest post (its current price before
        any post)."""
        out = {}
        engine, spotter = self._c(self.d.engine), self._c(self.d.spotter)
        for t in self.d.types.values():
            oracle = self._c(t.oracle)
            price = oracle.source_price or oracle.current_price
            if price == 0:
                # no oracle price (a test that sets the engine's safe price directly): the
                # price that safe price stands for
                safe = engine.collateral_types[t.type_id].safe_price
                price = safe * spotter.liquidation_ratios[t.type_id] // RAY // 10**9
            out[t.type_id] = price
        return out

    def holdings(self, actor: str, prices: dict[bytes, int]) -> int:
        """What `actor` (with the contracts it owns) holds, valued at `prices` [rad]: stablecoin
        (internal and ERC-20), collateral (tokens, free, locked) less vault debt, stability-pool
        shares (requested ones at what the withdrawal would pay), pending stakes and standing
        debt-auction bids (refunded if outbid). Governance tokens and pool liquidity shares
        count 0 (not priced; their flows are listed income instead)."""
        d = self.d
        engine = self._c(d.engine)
        stablecoin = self._c(d.stablecoin)
        accounts = [actor] + [c for c, owner in self.owned.items() if owner == actor]
        value = 0
        for a in accounts:
            value += engine.stable[a] + stablecoin.balance_of[a] * RAY
            for t in d.types.values():
                tid, price = t.type_id, prices[t.type_id]
                ctype = engine.collateral_types[tid]
                vault = engine.vaults[(tid, a)]
                scale = 10 ** (18 - t.config.token_decimals)
                tokens = self._c(t.token).balance_of[a] * scale
                free = tokens + engine.collateral[(tid, a)]
                value += free * price * WAD_WAD_TO_RAD
                # a vault is worth its equity, never less than nothing (the owner may walk away)
                equity = vault.collateral * price * WAD_WAD_TO_RAD
                value += max(0, equity - vault.normalized_debt * ctype.rate)
        pool = self._c(d.stability_pool)
        value += pool.pending[actor]
        shares = pool.shares[actor]
        if shares:
            # requested shares too at their value now (a withdrawal pays at most that; the
            # Withdrawn check holds it to the value at the request as well)
            value += shares * pool.assets // pool.total_shares
        debt_auction = self._c(d.debt_auction)
        for auction in debt_auction.auctions.values():
            if auction.winner == actor and auction.bid_expiry != 0:
                value += auction.bid
        return value

    def _find_owned(self) -> None:
        # FlashTakers (deployed by tests and the machines) hold their owner's profit; collateral
        # pools a test deploys are markets like the deployed ones
        by_token = {t.token: t for t in self.d.types.values()}
        for address, contract in self.model.env.contracts.items():
            kind = type(contract).__name__
            owner = getattr(contract, "owner", None)
            if kind == "FlashTaker" and owner in self.actors:
                self.owned[address] = owner
            elif isinstance(contract, CollateralPool) and address not in self._pools:
                t = by_token.get(contract.collateral_token.address)
                if t is not None:
                    self._pools[address] = t

    def before(self, sender: str, target: str, function: str) -> Snapshot:
        self._find_owned()
        b, pool = self._c(self.d.backstop), self._c(self.d.stability_pool)
        prices = self.market_prices()
        snapshot = Snapshot(
            sender=sender,
            target=target,
            function=function,
            unattributed=b.unattributed_debt(),
            liquidator_live=self._c(self.d.liquidator).live,
            prices=prices,
            holdings={a: self.holdings(a, prices) for a in self.actors},
            stakers={
                s: (
                    pool.shares[s],
                    pool.withdrawal_shares[s],
                    pool.withdrawal_at[s],
                    pool.withdrawal_value[s],
                    pool.pending_at[s],
                )
                for s in self.actors
            },
            pool_assets=pool.assets,
            pool_total_shares=pool.total_shares,
            charges={
                c: (
                    pool.charge_amount[c],
                    pool.charge_total_shares[c],
                    pool.charge_stakers_left[c],
                    pool.charge_attributed[c],
                )
                for c in range(1, pool.charge_count + 1)
            },
            losses={
                n: (b.numbered_opened_at[n], b.numbered_done[n]) for n in range(1, b.loss_count + 1)
            },
        )
        for address in self._auctions:
            auction = self._c(address)
            for auction_id in auction.active:
                snapshot.auction_owners[(address, auction_id)] = auction.auctions[auction_id].owner
        return snapshot

    def after(self, before: Snapshot, events: list[Any]) -> None:
        problems: list[str] = []
        problems += self._rewards(before, events)
        problems += self._owners(before, events)
        problems += self._unattributed(before, events)
        problems += self._pool_events(before, events)
        if (
            self.holdings_checked
            and before.sender != self._governance()
            and not self._faucet(before)
        ):
            problems += self._holdings(before, events)
        self.checked += 1
        if problems:
            call = f"{before.function} from {before.sender}"
            raise EconomicViolation(f"{call}: " + "; ".join(problems))

    def _governance(self) -> str:
        return self.d.governance

    def _faucet(self, before: Snapshot) -> bool:
        """Minting the test collateral tokens: a faucet of the tests, not the protocol."""
        tokens = {t.token for t in self.d.types.values()}
        return before.function == "mint" and before.target in tokens

    @contextmanager
    def suspended(self, reason: str) -> Iterator[None]:
        """No holdings check inside (the other checks still run): for a test whose governance
        set-up lets an actor take more than the market value on purpose (`reason` says how)."""
        assert reason
        self.holdings_checked = False
        try:
            yield
        finally:
            self.holdings_checked = True

    def fork(self, model: ModelBackend) -> Auditor:
        """A copy bound to `model` (a copy of this one's): its own records, the same settings."""
        other = Auditor(model, self.d, self.actors)
        other.owned = dict(self.owned)
        other.checked = self.checked
        other.rewards = dict(self.rewards)
        other.vault_rewards = dict(self.vault_rewards)
        other.sales = {k: list(v) for k, v in self.sales.items()}
        other.shares_at_open = {k: dict(v) for k, v in self.shares_at_open.items()}
        other.charged_loss = dict(self.charged_loss)
        other.request_bounds = dict(self.request_bounds)
        other.attacker = self.attacker
        other.attacker_gain = self.attacker_gain
        other.attacker_income = self.attacker_income
        other.attacker_txs = self.attacker_txs
        return other

    @property
    def attacker_unexplained(self) -> int:
        """What the attacker gained over its run beyond its listed income [rad]."""
        return self.attacker_gain - self.attacker_income

    # ------------------------------------------------------------ rewards

    def _rewards(self, before: Snapshot, events: list[Any]) -> list[str]:
        bad: list[str] = []
        liquidator = self._c(self.d.liquidator)
        created = [
            (e.args["stable_dst"], e.args["amount"])
            for e in events
            if e.name == "UnbackedCreated" and e.args["debt_dst"] == self.d.backstop
        ]
        for e in events:
            if e.name not in ("Started", "Reset") or e.address not in self._auctions:
                continue
            key = (e.address, e.args["auction_id"])
            vault = (e.address, e.args["owner"])
            reward, debt = e.args["reward"], e.args["debt"]
            penalty = liquidator.types[self._auctions[e.address].type_id].penalty
            allowed = (debt - div_up(debt * WAD, penalty)) * REWARD_SHARE // WAD
            # the per-vault sum counts only auctions whose start this auditor saw (one attached
            # later knows neither their income nor what they paid before)
            known = e.name == "Started" or key in self.rewards
            if e.name == "Started":
                self.rewards[key] = (allowed, 0)
                share, paid_by_vault = self.vault_rewards.get(vault, (0, 0))
                self.vault_rewards[vault] = (share + allowed, paid_by_vault)
            start_allowed, paid = self.rewards.get(key, (allowed, 0))
            if reward == 0:
                continue
            if not before.liquidator_live:
                bad.append(f"{e.name} paid a reward of {reward} after shutdown")
            if reward > allowed:
                bad.append(
                    f"{e.name} reward {reward} above half the auction's penalty income {allowed}"
                )
            if paid + reward > start_allowed:
                bad.append(
                    f"auction {key[1]}'s rewards reach {paid + reward}, above half its penalty "
                    f"income at the start {start_allowed}"
                )
            if known and vault in self.vault_rewards:
                share, paid_by_vault = self.vault_rewards[vault]
                if paid_by_vault + reward > share:
                    bad.append(
                        f"the auctions of {vault[1]}'s vault paid {paid_by_vault + reward} in "
                        f"rewards, above half their penalty income {share}"
                    )
                self.vault_rewards[vault] = (share, paid_by_vault + reward)
            if (e.args["keeper"], reward) not in created:
                bad.append(f"{e.name} reward {reward} not created for keeper {e.args['keeper']}")
            self.rewards[key] = (start_allowed, paid + reward)
        return bad

    # ------------------------------------------------------------ the owner's bound

    def _owners(self, before: Snapshot, events: list[Any]) -> list[str]:
        bad: list[str] = []
        mine = [e for e in events if e.address in self._auctions]
        # a take logs Taken after the Finished it causes: count every sale first
        for e in mine:
            key = (e.address, e.args.get("auction_id"))
            if e.name == "Started":
                self.sales[key] = [e.args["owner"], e.args["lot"], e.args["debt"], 0, 0]
            elif e.name == "Taken" and key in self.sales:
                self.sales[key][3] += e.args["collateral"]
                self.sales[key][4] += e.args["owe"]
        for e in mine:
            key = (e.address, e.args.get("auction_id"))
            if e.name == "Finished":
                sale = self.sales.pop(key, None)
                problem = self._owner_bound(sale, e.args)
                if problem:
                    bad.append(f"auction {key[1]}: {problem}")
            elif e.name == "Cancelled":
                self.sales.pop(key, None)
        return bad

    @staticmethod
    def _owner_bound(sale: list | None, finished: dict) -> str | None:
        """Why the collateral a Finished event returns breaks the owner's bound (None: it holds).
        Without a record of the sale (an auction started before this auditor), only the
        write-off rule is checked."""
        returned, unraised = finished["collateral_returned"], finished["debt_unraised"]
        if returned == 0:
            return None
        if unraised != 0:
            return f"returned {returned} of collateral to its owner with {unraised} unraised"
        if sale is None:
            return None
        _, lot, to_raise, sold, raised = sale
        if raised != to_raise or returned != lot - sold:
            return (
                f"returned {returned} of collateral to its owner (lot {lot}, sold {sold}) after "
                f"raising {raised} of {to_raise}"
            )
        return None

    # ------------------------------------------------------------ bad debt

    def _unattributed(self, before: Snapshot, events: list[Any]) -> list[str]:
        bad: list[str] = []
        d = self.d
        engine = self._c(d.engine)
        explained = set()
        for e in events:
            if e.name in ("Started", "Reset") and e.address in self._auctions:
                explained.add((e.args["keeper"], e.args["reward"]))
            elif e.name == "Cancelled" and e.address == d.debt_auction:
                explained.add((e.args["winner"], e.args["refund"]))
            elif e.name == "Cancelled" and e.address in self._auctions:
                rate = engine.collateral_types[self._auctions[e.address].type_id].rate
                explained.add((e.address, e.args["normalized_debt"] * rate))
        created = 0
        for e in events:
            if e.name == "UnbackedCreated" and e.args["debt_dst"] == d.backstop:
                created += e.args["amount"]
                why = (e.args["stable_dst"], e.args["amount"])
                if why not in explained and before.sender != self._governance():
                    bad.append(f"stablecoin {why[1]} created against the Backstop for {why[0]}")
        to_settlement = 0
        for e in events:
            if e.name == "LossAllocated" and e.args["layer"] == Layer.SETTLEMENT:
                to_settlement += e.args["amount"]
            elif e.name == "Shutdown" and e.address == d.backstop:
                to_settlement += e.args["settlement_debt"]
            elif e.name == "VaultClosed" and e.address == d.settlement:
                rate = engine.collateral_types[e.args["collateral_type"]].rate
                to_settlement += e.args["normalized_debt"] * rate
        rise = self._c(d.backstop).unattributed_debt() - before.unattributed
        if rise > created + to_settlement:
            bad.append(
                f"unattributed bad debt rose by {rise}, above the stablecoin created against the "
                f"Backstop ({created}) and the debt moved to settlement ({to_settlement})"
            )
        return bad

    # ------------------------------------------------------------ the stability pool

    def _pool_events(self, before: Snapshot, events: list[Any]) -> list[str]:
        bad: list[str] = []
        d = self.d
        pool = self._c(d.stability_pool)
        for e in events:
            if e.name == "LossOpened" and e.address == d.backstop:
                key = (e.args["collateral_type"], e.args["auction"], e.args["auction_id"])
                self.shares_at_open[key] = {s: pool.shares[s] for s in self.actors}
            if e.address != d.stability_pool:
                continue
            if e.name == "Absorbed":
                key = (e.args["collateral_type"], e.args["auction"], e.args["auction_id"])
                self.charged_loss[e.args["charge_id"]] = key
            elif e.name == "StakerCharged":
                bad += self._charge(before, e.args)
                bad += self._request_bound(e.name, e.args, before)
            elif e.name == "Withdrawn":
                bad += self._withdrawn(before, pool, e.args)
                bad += self._request_bound(e.name, e.args, before)
            elif e.name in ("WithdrawalRequested", "WithdrawalCancelled"):
                bad += self._request_bound(e.name, e.args, before)
            elif e.name == "Activated":
                bad += self._activated(before, pool, e.args)
        return bad

    def _charge(self, before: Snapshot, args: dict) -> list[str]:
        charge_id, staker, charged = args["charge_id"], args["staker"], args["amount"]
        if staker not in before.stakers or charge_id not in before.charges:
            return []
        bad = []
        amount, total, left, attributed = before.charges[charge_id]
        shares = before.stakers[staker][0]
        expected = amount - attributed if left == 1 else shares * amount // total
        if charged != expected:
            bad.append(
                f"StakerCharged {charge_id} for {staker}: {charged}, its pro-rata part is "
                f"{expected} (shares {shares} of {total}, last={left == 1})"
            )
        key = self.charged_loss.get(charge_id)
        at_open = self.shares_at_open.get(key, {}).get(staker) if key else None
        if at_open is not None and shares > at_open:
            bad.append(
                f"StakerCharged {charge_id}: {staker} pays on {shares} shares, but held only "
                f"{at_open} when the loss was opened"
            )
        return bad

    def _withdrawn(self, before: Snapshot, pool: Any, args: dict) -> list[str]:
        staker, shares, paid = args["staker"], args["shares"], args["amount"]
        if staker not in before.stakers:
            return []
        bad: list[str] = []
        _, requested, requested_at, value_at_request, _ = before.stakers[staker]
        value_now = shares * before.pool_assets // before.pool_total_shares
        if shares != requested or paid > min(value_at_request, value_now):
            bad.append(
                f"Withdrawn {staker}: {paid} for {shares} shares; requested {requested}, worth "
                f"{value_at_request} at the request and {value_now} now"
            )
        matured = requested_at + max(pool.cooldown, pool.exposure_delay)
        open_ = [n for n, (at, done) in before.losses.items() if at <= matured and not done]
        if open_:
            bad.append(f"Withdrawn {staker} while loss events {open_} of its exposure are open")
        return bad

    def _request_bound(self, name: str, args: dict, before: Snapshot) -> list[str]:
        """Requested shares earn nothing (issue 31, finding 8): a request's bound starts at its
        value and falls by requested x amount / total shares (exact) for each charge its staker
        realizes; the withdrawal pays at most it. A request seen only after it was made (a run
        started later) is not checked."""
        staker = args["staker"]
        if name == "WithdrawalRequested":
            self.request_bounds[staker] = (args["shares"], Fraction(args["value"]))
            return []
        if staker not in self.request_bounds:
            return []
        if name == "StakerCharged":
            requested, bound = self.request_bounds[staker]
            charge = before.charges.get(args["charge_id"])
            if charge is None:
                del self.request_bounds[staker]  # a charge this run did not see: unknown
            else:
                part = Fraction(requested * charge[0], charge[1])
                self.request_bounds[staker] = (requested, bound - part)
            return []
        _, bound = self.request_bounds.pop(staker)
        if name == "Withdrawn" and args["amount"] > max(bound, 0):
            return [
                f"Withdrawn {staker}: {args['amount']}, above its value at the request less its "
                f"part of the charges since ({float(bound):.6g}): requested shares earned"
            ]
        return []

    def _activated(self, before: Snapshot, pool: Any, args: dict) -> list[str]:
        staker = args["staker"]
        if staker not in before.stakers:
            return []
        bad: list[str] = []
        pending_at = before.stakers[staker][4]
        if pending_at + pool.exposure_delay > self.model.last_block_time:
            bad.append(f"Activated {staker} before its stake waited the exposure delay")
        open_ = [n for n, (_, done) in before.losses.items() if not done]
        if open_:
            bad.append(f"Activated {staker} while loss events {open_} are open")
        return bad

    # ------------------------------------------------------------ holdings

    def _listed_income(self, before: Snapshot, events: list[Any]) -> dict[str, int]:
        """Per actor, the most honest income this transaction's events can give it [rad]."""
        d, prices = self.d, before.prices
        engine = self._c(d.engine)
        income: dict[str, int] = {}

        def add(who: str, amount: int) -> None:
            owner = self.owned.get(who, who)
            income[owner] = income.get(owner, 0) + max(0, amount)

        pool_income = sum(
            e.args["amount"]
            for e in events
            if e.name == "IncomeAdded" and e.address == d.stability_pool
        )
        if pool_income:
            for actor in self.actors:
                add(actor, pool_income)
        for e in events:
            a = e.args
            if e.address in self._auctions:
                price = prices[self._auctions[e.address].type_id]
                if e.name in ("Started", "Reset"):
                    add(a["keeper"], a["reward"])
                elif e.name == "Taken":
                    # the auction discount: collateral worth more than it cost, to the buyer
                    add(before.sender, a["collateral"] * price * WAD_WAD_TO_RAD - a["owe"])
                elif e.name == "Finished":
                    # honest only within the owner's bound (a write-off returns nothing)
                    owner = before.auction_owners.get((e.address, a["auction_id"]))
                    if owner is not None and a["debt_unraised"] == 0:
                        add(owner, a["collateral_returned"] * price * WAD_WAD_TO_RAD)
                elif e.name == "Cancelled":
                    owner = before.auction_owners.get((e.address, a["auction_id"]))
                    if owner is not None:
                        add(owner, a["collateral_returned"] * price * WAD_WAD_TO_RAD)
            elif e.address in self._pools:
                t = self._pools[e.address]
                price, scale = prices[t.type_id], 10 ** (18 - t.config.token_decimals)
                if e.name == "Swapped":
                    if a["collateral_in"]:
                        given = a["amount_in"] * scale * price * WAD_WAD_TO_RAD
                        got = a["amount_out"] * RAY
                    else:
                        given = a["amount_in"] * RAY
                        got = a["amount_out"] * scale * price * WAD_WAD_TO_RAD
                    add(a["recipient"], got - given)
                elif e.name == "LiquidityRemoved":
                    add(
                        a["provider"],
                        a["collateral"] * scale * price * WAD_WAD_TO_RAD + a["stable"] * RAY,
                    )
            elif e.address == d.engine and e.name == "VaultModified":
                # the delayed oracle's option (a known risk, docs/security.md): a vault drawn
                # against the safe price of the current oracle price while the market (a newer
                # post) is lower may be worth less than its debt; the owner may gain at most the
                # price gap on the vault's collateral
                tid = a["collateral_type"]
                safe = engine.collateral_types[tid].safe_price
                acted_on = safe * self._c(d.spotter).liquidation_ratios[tid] // RAY // 10**9
                collateral = engine.vaults[(tid, a["owner"])].collateral
                gap = max(0, acted_on - prices[tid])
                add(a["owner"], collateral * gap * WAD_WAD_TO_RAD)
            elif e.address == d.engine and e.name == "RateFolded":
                # stability fees: the recipient's income, paid by the vaults of the type
                art = engine.collateral_types[a["collateral_type"]].normalized_debt
                add(a["recipient"], a["delta_rate"] * art)
            elif e.name == "FlashTaken":
                add(e.address, a["profit"])
            elif e.address == d.surplus_auction and e.name == "Finished":
                add(a["winner"], a["lot"])
            elif e.address == d.settlement:
                if e.name == "Cashed":
                    price = prices[a["collateral_type"]]
                    add(a["holder"], a["collateral"] * price * WAD_WAD_TO_RAD)
                elif e.name == "VaultClosed":
                    tid = a["collateral_type"]
                    debt = a["normalized_debt"] * engine.collateral_types[tid].rate
                    add(a["owner"], debt - a["collateral"] * prices[tid] * WAD_WAD_TO_RAD)
        return income

    def _holdings(self, before: Snapshot, events: list[Any]) -> list[str]:
        """The sender may gain at most its listed income; all watched actors together at most
        theirs (value moved between actors, a transfer say, nets out; what they take from the
        protocol does not). A victim's transaction that moves value to another actor without an
        event is not caught here (finding 3's rounding theft has its own regression test)."""
        income = self._listed_income(before, events)
        bad = []
        gains = {a: self.holdings(a, before.prices) - before.holdings[a] for a in self.actors}
        sender = self.owned.get(before.sender, before.sender)
        # what an actor lets the sender take (an engine delegate, an ERC-20 allowance spent)
        engine = self._c(self.d.engine)
        spent = {e.args["sender"] for e in events if e.name == "Transfer" and "sender" in e.args}
        for x in self.actors:
            if x != sender and (engine.delegates[(x, before.sender)] or x in spent):
                income[sender] = income.get(sender, 0) + max(0, -gains[x])
        if sender in gains and gains[sender] > income.get(sender, 0) + TOLERANCE:
            bad.append(
                f"{sender} gained {gains[sender] / 10**45:.6f} stablecoin of value at the market "
                f"price, listed honest income explains {income.get(sender, 0) / 10**45:.6f}"
            )
        attacker = self.attacker
        if attacker is not None and attacker in gains:
            self.attacker_gain += gains[attacker]
            self.attacker_income += income.get(attacker, 0)
            self.attacker_txs += 1
            if self.attacker_unexplained > TOLERANCE * self.attacker_txs:
                bad.append(
                    f"the attacker {attacker} gained {self.attacker_gain / 10**45:.6f} stablecoin "
                    f"of value over {self.attacker_txs} transactions, its listed honest income "
                    f"explains {self.attacker_income / 10**45:.6f}"
                )
        total = sum(gains.values())
        listed = sum(income.get(a, 0) for a in self.actors)
        if total > listed + TOLERANCE * len(self.actors):
            bad.append(
                f"the actors together gained {total / 10**45:.6f} stablecoin of value at the "
                f"market price, listed honest income explains {listed / 10**45:.6f}"
            )
        return bad
