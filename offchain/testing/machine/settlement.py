"""Global settlement, late in an example, with every step after it."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from offchain.model.backstop import Layer
from offchain.model.fixed_point import RAD, RAY, WAD
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
    @rule(
        go=st.integers(0, 5),
        name=st.sampled_from(TYPES),
        user_i=st.integers(0, 2),
        frac=FRACTION,
        order=st.sampled_from(["cancel_then_cover", "cover_then_cancel", "close_first"]),
        pool=st.booleans(),
    )
    def cancel_story(self, go, name, user_i, frac, order, pool):
        """Issue 63, finding 4: an auction running at shutdown whose lot is worth less than its
        tab at the final price, late in an example and rarely. A user stakes in the pool first
        (when `pool`: every loss brought to its end so the stake can become shares), the user's
        vault, with collateral worth about 400,000 more locked first (so that its loss is larger
        than the surplus the fund gathered in the example, and the pool pays after the fund),
        is liquidated, a quarter of its lot maybe taken, the price falls again (to 50-94%),
        the fund maybe gets surplus, governance orders the fund and the pool first (the pool
        before the fund one time in four: other rules leave orders without them), and the
        system shuts down. Then the final prices are fixed and, in the drawn order, the
        running auctions are cancelled (as a sale of each lot at the final price: the owner
        re-owes at most the lot's worth), the closed losses covered (fund, pool, then
        settlement: the specification checks the order and the cancel's bound), and the
        owner's vault closed (before the cancel too, and its collateral freed, when
        `close_first`); the settlement rule's steps follow."""
        g, b = self.s.d.settlement, self.s.contract(self.s.d.backstop)
        if go or not self.s.contract(g).live:
            return
        t, user, keeper = self.t(name), self.users[user_i], self.r.keeper
        if pool:
            self._finish_losses()
            amount = RAD * (1_000 + frac % 50_000)
            self._stable_for(user, amount)
            self.act(self.s.d.stability_pool, "stake", user, amount)
            self.s.warp(self._pool().exposure_delay)
            self.act(self.s.d.stability_pool, "realize", keeper, user, 255)
            self.act(self.s.d.stability_pool, "activate", user)
        if self._pool().total_shares:
            self.totals.outcomes["cancel story: the pool has shares"] += 1
        tokens = 400_000 * WAD * 10**t.config.token_decimals // t.config.initial_price
        self._tokens_for_join(name, user, tokens)
        self.act(self.s.d.engine, "allow", user, t.join)
        self.act(t.join, "join_and_modify", user, tokens, 0)
        auction_id = self._start_auction(name, user_i)
        if auction_id is None:
            return
        auction = self.s.contract(t.auction)
        a = auction.auctions[auction_id]
        if frac % 2 and not auction._needs_reset(a):
            self._stable_for(keeper, a.debt)
            self.act(
                t.auction, "take", keeper, auction_id, a.lot // 4, auction._price(a), keeper, b""
            )
        a = auction.auctions[auction_id]
        self.crash(name, 50 + frac % 45)
        if frac % 3 == 0:
            # surplus for the fund: a holder sends the Backstop stablecoin
            self._stable_for(keeper, RAD * (1 + frac % 5_000))
            self.act(
                self.s.d.engine,
                "transfer_stable",
                keeper,
                keeper,
                self.s.d.backstop,
                RAD * (1 + frac % 5_000),
            )
        # the fund and the pool in the waterfall, the pool first one time in four
        order = [2, 1, 3, 4] if frac % 4 == 1 else [1, 2, 3, 4]
        self.act(self.s.d.backstop, "set_waterfall", self.r.governance, order)
        self.act(g, "shutdown", self.r.governance)
        for other in TYPES:
            if not self.s.contract(self.t(other).oracle).peek()[1]:
                self.crash(other, 100)
            self.act(g, "fix_price", keeper, self.t(other).type_id)
        if order == "close_first":
            self.act(g, "close_vault", keeper, t.type_id, user)
            self.act(g, "free_collateral", user, t.type_id)
        if order == "cover_then_cancel":
            for key in self._closed_losses():
                self.act(self.s.d.backstop, "cover", keeper, *key)
        running = auction_id in auction.active
        owed_before = self.vault(name, user).normalized_debt
        for other in TYPES:
            ot = self.t(other)
            for running_id in list(self.s.contract(ot.auction).active):
                self.act(g, "cancel_auction", keeper, ot.type_id, ot.auction, running_id)
        if running and auction_id not in auction.active:
            rate = self.ctype(name).rate
            reowed = (self.vault(name, user).normalized_debt - owed_before) * rate
            self.totals.outcomes[
                "cancel story: lot worth less than its tab"
                if reowed < a.debt
                else "cancel story: lot covered its tab"
            ] += 1
        for key in self._closed_losses():
            if self.act(self.s.d.backstop, "cover", keeper, *key):
                paid = [
                    Layer(e.args["layer"]).label for e in self.s.events if e.name == "LossAllocated"
                ]
                self.totals.outcomes[f"cancel story: cover paid by {'+'.join(paid)}"] += 1
                if "stability_pool" in paid:
                    self.totals.outcomes["cancel story: the pool paid after shutdown"] += 1
        self.act(g, "close_vault", keeper, t.type_id, user)
        if not b.open_losses():
            self.totals.outcomes["cancel story: every loss covered after shutdown"] += 1

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
