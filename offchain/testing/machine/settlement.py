"""Global settlement, late in an example, with every step after it."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from offchain.model.fixed_point import RAY
from offchain.testing.machine.base import FRACTION, TYPES
from offchain.testing.machine.waterfall import WaterfallRules


class SettlementRules(WaterfallRules):
    """The rules of global settlement (see the module docstring)."""

    @precondition(lambda self: self.step_count > 50)
    @rule(go=st.integers(0, 3))
    def shutdown(self, go):
        """Global settlement, late in an example and rarely: everything stops; the settlement
        rule then has work to do."""
        if go == 0:
            self.act(self.s.d.settlement, "shutdown", self.r.governance)

    @precondition(lambda self: not self.s.contract(self.s.d.settlement).live)
    @rule(
        step=st.sampled_from(
            ["fix_price", "cancel", "close", "free", "cover", "thaw", "cash_price", "pack", "cash"]
        ),
        name=st.sampled_from(TYPES),
        owner_i=st.integers(0, 3),
        frac=FRACTION,
        wait=st.booleans(),
    )
    def settlement(self, step, name, owner_i, frac, wait):
        g, t = self.s.d.settlement, self.t(name)
        owner = (self.users + [self.r.governance])[owner_i]
        user = self.users[owner_i % 3]
        if wait:
            self.s.warp(self.s.contract(g).wait)
        if step == "fix_price":
            # a price the example's time jumps left stale is refreshed first (fix_price needs a
            # valid one), so that fixing it is what is tried: after a bare shutdown the other
            # steps wait on it
            if not self.s.contract(t.oracle).peek()[1]:
                self.crash(name, 100)
            self.act(g, "fix_price", self.r.keeper, t.type_id)
        elif step == "cancel":
            active = self.s.contract(t.auction).active
            self.act(
                g, "cancel_auction", self.r.keeper, t.type_id, t.auction, active[0] if active else 1
            )
        elif step == "close":
            self.act(g, "close_vault", self.r.keeper, t.type_id, owner)
        elif step == "free":
            self.act(g, "free_collateral", user, t.type_id)
        elif step == "cover":
            self.cover(owner_i, False, owner_i % 3)
        elif step == "thaw":
            self.act(g, "thaw", self.r.keeper)
        elif step == "cash_price":
            self.act(g, "fix_cash_price", self.r.keeper, t.type_id)
        elif step == "pack":
            self.act(g, "pack", user, self.engine().stable[user] // RAY * frac // 10**6)
        else:
            gs = self.s.contract(g)
            self.act(
                g,
                "cash",
                user,
                t.type_id,
                (gs.packed[user] - gs.cashed[(t.type_id, user)]) * frac // 10**6,
            )

    @precondition(lambda self: self.step_count > 30)
    @rule(go=st.integers(0, 5), frac=FRACTION, user_i=st.integers(0, 2))
    def settlement_story(self, go, frac, user_i):
        """Global settlement from shutdown to the last redemption, late in an example and rarely:
        shutdown, final prices, running auctions cancelled, every vault closed, collateral freed,
        losses covered, debt auctions cancelled, the wait, thaw, cash prices, and a user packs
        stablecoin and cashes it for collateral of each type."""
        g = self.s.d.settlement
        if go or not self.s.contract(g).live:
            return
        # a loss event closed and not yet covered at shutdown, so that the stranger's settle
        # below meets one (issue 31, finding 6; an auction still running would not do: its
        # cancellation at shutdown ends its loss event): each type and user in turn until a
        # liquidation's auction sells out below its debt
        for k in range(len(TYPES) * len(self.users)):
            if self._closed_losses():
                break
            name, who = TYPES[(user_i + k) % len(TYPES)], (user_i + k) % len(self.users)
            auction_id = self._start_auction(name, who)
            if auction_id is not None:
                self._sell_below_debt(name, auction_id, (who + 1) % len(self.users), False)
        self.totals.outcomes[
            "settlement story: shut down with a loss waiting for cover"
            if self._closed_losses()
            else "settlement story: shut down with no loss waiting"
        ] += 1
        self.act(g, "shutdown", self.r.governance)
        owners = self.users + [self.r.governance]
        for name in TYPES:
            t = self.t(name)
            if not self.s.contract(t.oracle).peek()[1]:
                self.crash(name, 100)  # a fresh price to fix
            self.act(g, "fix_price", self.r.keeper, t.type_id)
            for auction_id in list(self.s.contract(t.auction).active):
                self.act(g, "cancel_auction", self.r.keeper, t.type_id, t.auction, auction_id)
            for owner in owners:
                if self.vault(name, owner) != (0, 0):
                    self.act(g, "close_vault", self.r.keeper, t.type_id, owner)
            for user in self.users:
                if self.vault(name, user).collateral:
                    self.act(g, "free_collateral", user, t.type_id)
        # a stranger settles what it can before the covers (issue 31, finding 6): after
        # shutdown, refused while a loss event is open (the fund's payment is not its to decide)
        b = self.s.contract(self.s.d.backstop)
        settleable = min(b._free_surplus(), b.unattributed_debt())
        self.act(self.s.d.backstop, "settle", self.r.stranger, max(0, settleable))
        for key in self._closed_losses():
            self.act(self.s.d.backstop, "cover", self.r.keeper, *key)
        da = self.s.contract(self.s.d.debt_auction)
        for auction_id in range(1, da.count + 1):
            if da.auctions[auction_id].end:
                self.act(self.s.d.debt_auction, "cancel", self.r.keeper, auction_id)
        self.s.warp(self.s.contract(g).wait)
        self.act(g, "thaw", self.r.keeper)
        for name in TYPES:
            self.act(g, "fix_cash_price", self.r.keeper, self.t(name).type_id)
        user = self.users[user_i]
        self.act(g, "pack", user, max(1, self.engine().stable[user] // RAY * frac // 10**6))
        gs = self.s.contract(g)
        for name in TYPES:
            tid = self.t(name).type_id
            self.act(g, "cash", user, tid, gs.packed[user] - gs.cashed[(tid, user)])
