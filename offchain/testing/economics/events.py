"""The Auditor's checks of a transaction's events: keeper rewards bounded by their auctions'
penalty income, the owner's bound, no unrecorded bad debt, the stability pool's charges,
withdrawals, requests and activations (`EventChecks`, a base of `Auditor`)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from offchain.model.backstop import Layer
from offchain.model.fixed_point import WAD, div_up
from offchain.testing.economics.base import REWARD_SHARE, AuditorBase, Snapshot


class EventChecks(AuditorBase):
    """The checks of what a transaction's events say: keeper rewards, the owner's bound, bad
    debt, the stability pool (see the package doc)."""

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
