"""The Auditor: `after` runs every economic check of a transaction (events.py's and the
holdings check here: no actor gets richer than the honest income its events list explains);
`fork` copies it onto another model."""

from __future__ import annotations

from typing import Any

from offchain.backends.model import ModelBackend
from offchain.model.fixed_point import RAY, WAD_TO_RAY
from offchain.testing.economics.base import (
    TOLERANCE,
    WAD_WAD_TO_RAD,
    EconomicViolation,
    Snapshot,
)
from offchain.testing.economics.events import EventChecks
from offchain.testing.economics.margin_call import (
    soft_liquidation_bound,
    soft_liquidation_problems,
)


class Auditor(EventChecks):
    """Checks the economic properties of each transaction of one system (see the package doc).
    `actors` are the accounts whose holdings are watched; `owned` maps contracts an actor owns
    (its FlashTakers) to it, their balances counting as the owner's."""

    def after(self, before: Snapshot, events: list[Any]) -> None:
        problems: list[str] = []
        problems += self._rewards(before, events)
        problems += self._owners(before, events)
        problems += self._unattributed(before, events)
        problems += self._pool_events(before, events)
        problems += soft_liquidation_problems(self.model, self.d.margin_call, events)
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
            elif e.address == d.margin_call and e.name == "SoftLiquidated":
                # the bonus: the collateral the caller may receive for the debt it repaid (its
                # bound, not what it got), at the market price, less that debt
                bound = soft_liquidation_bound(self.model, d.margin_call, a)
                price = prices[a["collateral_type"]]
                add(a["caller"], bound * price * WAD_WAD_TO_RAD - a["debt"])
            elif e.address == d.engine and e.name == "VaultModified":
                # the delayed oracle's option (a known risk, docs/security.md): a vault drawn
                # against the safe price of the current oracle price while the market (a newer
                # post) is lower may be worth less than its debt; the owner may gain at most the
                # price gap on the vault's collateral
                tid = a["collateral_type"]
                safe = engine.collateral_types[tid].safe_price
                acted_on = safe * self._c(d.spotter).liquidation_ratios[tid] // RAY // WAD_TO_RAY
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
        if before.holdings is None:
            # read from the transaction's journal: the actors it wrote holdings of, before and
            # now; the others gained nothing
            assert before.journal is not None
            touched = self.touched_actors(before.journal)
            actors = self.actors if touched is None else touched
            now = self.holdings_of(actors, before.prices)
            was = self.holdings_of(actors, before.prices, before.journal)
            gains = {a: now[a] - was[a] if a in now else 0 for a in self.actors}
        else:
            now = self.holdings_of(self.actors, before.prices)
            gains = {a: now[a] - before.holdings[a] for a in self.actors}
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
