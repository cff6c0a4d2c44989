"""Edge stories: one rule that plays one of several whole sequences at the edges the other rules
reach only by luck (dust closes, a penalty changed under a partial take, the pool before the
fund, resets at an auction's last second, the automatic ceiling's windows, unrealized exits,
the oracle's bounds, the auctions' steps between bids)."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import rule

from offchain.model.backstop import LossStatus
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.stability_pool import MIN_SHARES
from offchain.testing.machine.base import FRACTION, TYPES, MachineBase


class StoryRules(MachineBase):
    """The rules of the edge stories (see the module docstring)."""

    @rule(
        which=st.sampled_from(
            [
                "reset_edge",
                "ceiling_window",
                "ceiling_lowered",
                "unrealized_exit",
                "oracle_bounds",
                "dust_close",
                "stale_penalty",
                "pool_then_fund",
                "size_margin",
                "guardian_bounds",
                "auction_steps",
            ]
        ),
        name=st.sampled_from(TYPES),
        user_i=st.integers(0, 2),
        frac=FRACTION,
    )
    def edge_story(self, which, name, user_i, frac):
        """Stories that end on an edge a random walk almost never reaches, each judged by the
        specification: an auction taken and reset the first second after its max_duration
        while its price is still above max_drop; the automatic ceiling raised twice in one
        cooldown window, a draw on that vault by a stranger (refused: not allowed), a draw through
        the join the user no longer allows (refused) and a lock through it (allowed), and the vault
        then closed (debt and collateral to zero: exactly at the safety limit); a ceiling lowered
        by a repayment just before a window opens (issue 31, finding 5); a staker's
        withdrawal after the pool paid a loss it has not realized, with a second staker sharing
        the charge; posts one wei beyond the oracle's max_change either way; an auction closed as
        dust by its owner, or refused (issue 31); a partial take after a penalty change that
        leaves debt between dust x the old and dust x the new penalty; a loss paid by the pool
        and then a nearly empty fund (issue 31); a large vault drawn to its exact size limit,
        then made unsafe by its size alone by governance and cut by the Liquidator (issue 35);
        the guardian's bounds (issue 72: its stop lapses, its voids are locked, its void cannot
        raise the settlement price, it cannot cancel a rescue); the surplus and debt auctions'
        steps between bids and their durations at their bounds (the seventh round). Each
        transaction may revert: the step goes on."""
        getattr(self, f"_{which}_story")(name, user_i, frac)

    def _size_margin_story(self, name, user_i, frac):
        """Issue 35: governance sets a size margin whose threshold is a tenth of what the user's
        vault (100 tokens more) can carry at the base ratio; the user draws exactly its size
        limit, then one wei more (refused: not safe); governance raises the slope (a parameter
        moved under a live vault): the vault is unsafe by its size alone and the Liquidator cuts
        it to a remainder safe at its own size (the specification checks the cut to the wei);
        a second liquidation is refused (safe). With an odd `frac` the price then falls a
        third: unsafe at the base ratio, the rest goes whole."""
        t, user, gov = self.t(name), self.users[user_i], self.r.governance
        if not self.s.contract(t.oracle).peek()[1]:
            self.crash(name, 100)
        ct = self.ctype(name)
        tokens = 100 * 10**t.config.token_decimals
        self._tokens_for_join(name, user, tokens)
        self.act(self.s.d.engine, "allow", user, t.join)
        self.act(t.join, "join_and_modify", user, tokens, 0)
        vault = self.vault(name, user)
        base = vault.collateral * ct.safe_price // RAD
        threshold = max(1, base // 10)
        slope = 20_000 + frac % 100_000
        self.act(self.s.d.engine, "set_size_margin", gov, t.type_id, threshold, slope, 500_000)
        most = self._max_dart(name, vault.collateral, vault)
        self._modify_own(name, user, 0, most + 1)
        self._modify_own(name, user, 0, most)
        self.act(self.s.d.engine, "set_size_margin", gov, t.type_id, threshold, 2 * slope, 500_000)
        for _ in range(2):
            self.act(
                self.s.d.liquidator, "liquidate", self.r.keeper, t.type_id, user, self.r.keeper
            )
        if frac % 2:
            self.crash(name, 66)
            self.act(
                self.s.d.liquidator, "liquidate", self.r.keeper, t.type_id, user, self.r.keeper
            )

    def _dust_close_story(self, name, user_i, frac):
        """Issue 31: a vault of just over the dust, at 95% of its limit, owned by the first user
        (or the attacker) with no vault of the type. With an odd `frac` the dust is then raised
        30-fold and the price falls a third: its auction is "dust" while its lot covers its debt
        (a healthy vault's write-off: every close must be refused); else the price falls 70%,
        below the debt. Liquidated; the owner tries to close it at once (refused: the curve has
        not ended), then after max_duration, with the oracle's price brought up to date: allowed
        only for the underwater lot, which goes to the Backstop, not to the owner. (The fall to
        30% is two posts of -45%: within any max_change the deployment allows down to 45%.)"""
        t, gov = self.t(name), self.r.governance
        owners = [
            o for o in self.users[user_i:] + [self.attacker] if not self.vault(name, o).collateral
        ]
        if not owners:
            return
        owner = owners[0]
        if self.s.contract(t.auction).stopped:
            self.act(t.auction, "set_stopped", gov, 0)
        if not self.s.contract(t.oracle).peek()[1]:
            self.crash(name, 100)
        ct = self.ctype(name)
        if not ct.safe_price or not ct.rate:
            return
        scale = 10 ** (18 - t.config.token_decimals)
        normalized = ct.dust // ct.rate + 1
        collateral = -(-normalized * ct.rate * 100 // (95 * ct.safe_price))
        tokens = -(-collateral // scale)
        self._tokens_for_join(name, owner, tokens)
        self.act(self.s.d.engine, "allow", owner, t.join)
        if not self.act(t.join, "join_and_modify", owner, tokens, normalized):
            return
        healthy = frac % 2 == 1
        if healthy:
            self.act(self.s.d.engine, "set_dust", gov, t.type_id, 30 * max(ct.dust, RAD))
            self.crash(name, 66)
        else:
            # 70% down in two posts, each within the oracle's max_change (one post of -70% is
            # refused: the vault stayed safe and the story never reached a close)
            self.crash(name, 55)
            self.crash(name, 55)
        if not self.act(self.s.d.liquidator, "liquidate", self.r.keeper, t.type_id, owner, owner):
            return
        auction_id = self._started(t.auction)
        self.act(t.auction, "close_dust_auction", owner, auction_id)
        self.s.warp(self.s.contract(t.auction).max_duration + 1)
        self.crash(name, 100)
        if self.act(t.auction, "close_dust_auction", owner, auction_id):
            self.totals.outcomes["dust close (story)"] += 1

    def _stale_penalty_story(self, name, user_i, frac):
        """Issue 31, finding 1: governance raises the penalty to 1.5-2.0 (from whatever it was),
        a vault is liquidated, and a partial take is sized to leave debt halfway between dust x
        1.13 (the deployment's penalty) and dust x the new one. min_auction must follow the
        change at once: the take leaves exactly dust x the new penalty (the rest is taken with
        it), never less. With no dust to speak of, the dust is set to 1,000 first."""
        t, gov = self.t(name), self.r.governance
        liquidator = self.s.contract(self.s.d.liquidator)
        cap = liquidator.types[t.type_id].max_debt_in_auction
        if self.ctype(name).dust < 100 * RAD:
            self.act(self.s.d.engine, "set_dust", gov, t.type_id, 1_000 * RAD)
        penalty = WAD * 3 // 2 + frac % 5_001 * 10**14
        self.act(self.s.d.liquidator, "configure_type", gov, t.type_id, t.auction, penalty, cap)
        auction_id = self._start_auction(name, user_i)
        if auction_id is None:
            return
        auction = self.s.contract(t.auction)
        a = auction.auctions[auction_id]
        dust = self.ctype(name).dust
        leave = (dust * 1_130_000_000_000_000_000 // WAD + dust * penalty // WAD) // 2
        if a.debt <= leave or auction._needs_reset(a):
            return
        price = auction._price(a)
        user = self.users[user_i]
        self._stable_for(user, a.debt)
        amount = max(1, (a.debt - leave) // max(price, 1))
        if self.act(t.auction, "take", user, auction_id, amount, price, user, b""):
            self.totals.outcomes["partial take after a penalty change (story)"] += 1

    def _pool_then_fund_story(self, name, user_i, frac):
        """Issue 31, finding 6: waterfall [pool, fund, debt auction, redistribution]. Every loss
        is brought to its end, a user stakes 1-3 MIN_STAKE (exposed before the crash), a vault
        is liquidated and sold out below its debt, governance leaves the fund a free room of
        1-100 (free surplus less the unattributed bad debt, by minting to or against the
        Backstop), and the loss is covered: the pool pays first, and its payment, held by the
        Backstop for the loss, must not count as the fund's surplus (the fund pays only its
        room)."""
        b = self.s.contract(self.s.d.backstop)
        if not b.live:
            return
        self._finish_losses()
        if b.open_losses():
            return
        sp, user, gov = self.s.d.stability_pool, self.users[user_i], self.r.governance
        amount = MIN_SHARES * (1 + frac % 3)
        self._stable_for(user, amount)
        self.act(sp, "stake", user, amount)
        self.s.warp(self._pool().exposure_delay)
        self.act(sp, "realize", self.r.keeper, user, 255)
        self.act(sp, "activate", user)
        auction_id = self._start_auction(name, user_i)
        if auction_id is None:
            return
        self._sell_below_debt(name, auction_id, user_i, False)
        t = self.t(name)
        key = (t.type_id, t.auction, auction_id)
        if key not in b.losses or b.losses[key].status != LossStatus.CLOSED:
            return
        self.act(self.s.d.backstop, "set_waterfall", gov, [2, 1, 3, 4])
        self.s.warp(max(1, b.losses[key].created_at + b.queue_delay - self.s.now))
        room = b._free_surplus() - b.unattributed_debt()
        target = RAD * (1 + frac % 100)
        if room > target:
            self.act(self.s.d.engine, "create_unbacked", gov, self.s.d.backstop, gov, room - target)
        elif room < target:
            self.act(self.s.d.engine, "create_unbacked", gov, gov, self.s.d.backstop, target - room)
        if self.act(self.s.d.backstop, "cover", self.r.keeper, *key):
            self.totals.outcomes["pool then fund (story)"] += 1

    def _reset_edge_story(self, name, user_i, frac):
        """A slow curve, still above max_drop when the devnet's max_duration (8,400 s) ends: a
        stair-step of 1% every 1,200 s (about 93% of the top) or a linear one over a prime
        30,011 s (72%; its division is rarely exact, so its rounding shows); a fresh auction, a
        take along the way (small, or one that would leave half of min_auction), and at the
        first second past max_duration a small take (it must be refused: the auction needs a
        reset) and the reset (it must be accepted)."""
        t, user = self.t(name), self.users[user_i]
        curve = (1, 0, 1200, 99 * RAY // 100) if frac % 2 else (0, 30_011, 0, 0)
        self.act(t.auction, "set_curve", self.r.governance, curve)
        auction_id = self._start_auction(name, user_i)
        if auction_id is None:
            return
        auction = self.s.contract(t.auction)
        a = auction.auctions[auction_id]
        edge = a.started + auction.max_duration + 1
        if edge <= self.s.now + 1000:
            return
        self._stable_for(user, a.debt)
        self.s.warp(1 + frac % 997)
        # one story in three, the take along the way is the collateral that would leave half of
        # min_auction (the partial take's dust rule decides what happens)
        amount = 1 + frac % 1000
        if frac % 3 == 0:
            price = auction._price(a)
            amount = max(1, (a.debt - auction.min_auction // 2) // max(price, 1))
        self.act(t.auction, "take", user, auction_id, amount, a.top, user, b"")
        a = auction.auctions[auction_id]
        if edge <= self.s.now:
            return
        self.s.warp(edge - self.s.now)
        price = auction._price(a)
        self.act(t.auction, "take", user, auction_id, 1 + frac % 1000, price, user, b"")
        if not self.s.contract(t.oracle).peek()[1]:
            return
        self.act(t.auction, "reset", self.r.keeper, auction_id, self.r.keeper)

    def _ceiling_window_story(self, name, user_i, frac):
        """The automatic ceiling with a small gap (twice dust and more): updated, a user draws
        most of the room under it, updated again, draws again, and updated a third time inside
        the same cooldown window (the raise may reach the window's base plus one gap, no more)."""
        t, user = self.t(name), self.users[user_i]
        ct = self.ctype(name)
        before = self.s.contract(self.s.d.ceiling).configs[t.type_id]
        try:
            self._ceilings_in_one_window(name, user, 2 * ct.dust + 1000 * RAD * (1 + frac % 10))
            # a stranger (never allowed by anyone) draws one unit on the user's vault to itself:
            # only the permission check refuses it (the vault stays safe, the ceiling has room)
            stranger = self.r.stranger
            self.act(
                self.s.d.engine, "modify_vault", stranger, t.type_id, user, user, stranger, 0, 1
            )
            # through the join once the user has withdrawn its allowance: the draw of one unit is
            # refused (not allowed), locking a token of its own goes through; then allowed again
            self.act(self.s.d.engine, "disallow", user, t.join)
            self._tokens_for_join(name, user, 2)
            self.act(t.join, "join_and_modify", user, 1, 1)
            self.act(t.join, "join_and_modify", user, 1, 0)
            self.act(self.s.d.engine, "allow", user, t.join)
            # the vault closed: all its debt repaid and all its collateral freed in one change
            # (0 <= 0: exactly at the safety limit, which a vault may always reach)
            vault = self.vault(name, user)
            self._stable_for(user, vault.normalized_debt * self.ctype(name).rate)
            self._modify_own(name, user, -vault.collateral, -vault.normalized_debt)
        finally:
            # the type's ceiling and its management as they were (the room the other rules need)
            if before.max_ceiling:
                self.act(
                    self.s.d.ceiling,
                    "configure",
                    self.r.governance,
                    t.type_id,
                    before.max_ceiling,
                    before.gap,
                    before.cooldown,
                )
            self.act(
                self.s.d.engine, "set_debt_ceiling", self.r.governance, t.type_id, ct.debt_ceiling
            )

    def _ceilings_in_one_window(self, name, user, gap):
        t = self.t(name)
        self.act(
            self.s.d.ceiling, "configure", self.r.governance, t.type_id, 10**8 * RAD, gap, 43200
        )
        scale = 10 ** (18 - t.config.token_decimals)
        self.act(self.s.d.engine, "allow", user, t.join)
        for _ in range(3):
            self.act(self.s.d.ceiling, "update", self.r.keeper, t.type_id)
            ct, vault = self.ctype(name), self.vault(name, user)
            room = ct.debt_ceiling - ct.normalized_debt * ct.rate
            if room <= 0 or not ct.safe_price:
                return
            dart = room * 9 // 10 // ct.rate
            # collateral for twice the vault's debt after the draw
            need = (vault.normalized_debt + dart) * ct.rate * 2 // ct.safe_price - vault.collateral
            tokens = max(0, need) // scale + 1
            self._tokens_for_join(name, user, tokens)
            self.act(t.join, "join_and_modify", user, tokens, dart)
            self.s.warp(60)

    def _ceiling_lowered_story(self, name, user_i, frac):
        """Issue 31, finding 5: a fresh window of the automatic ceiling (a small gap) with a user's
        debt of two gaps under it; the window ends; the user repays all, updates (the ceiling
        falls at once), redraws 50-90% of the room, updates (a window opens right after the
        ended one: based at that window's highest, not at the fall), redraws the rest of its
        debt and updates, and the keeper updates. Each update is judged exactly by the
        specification: a window based at the fall would stop the rise a gap above the fall."""
        t, user = self.t(name), self.users[user_i]
        ceiling, engine, gov = self.s.d.ceiling, self.s.d.engine, self.r.governance
        ct = self.ctype(name)
        before = self.s.contract(ceiling).configs[t.type_id]
        gap = 2 * ct.dust + 1000 * RAD * (1 + frac % 10)
        try:
            if before.max_ceiling:
                self.act(ceiling, "remove", gov, t.type_id)  # no window open
            self.act(ceiling, "configure", gov, t.type_id, 10**8 * RAD, gap, 43200)
            if not ct.safe_price:
                return
            # two gaps drawn under a ceiling governance raised, then set at the debt: the update
            # opens a window based there (its highest: debt + gap)
            vault = self.vault(name, user)
            dart = 2 * gap // ct.rate
            raised = ct.normalized_debt * ct.rate + 3 * gap
            self.act(engine, "set_debt_ceiling", gov, t.type_id, raised)
            need = (vault.normalized_debt + dart) * ct.rate * 2 // ct.safe_price - vault.collateral
            tokens = max(0, need) // 10 ** (18 - t.config.token_decimals) + 1
            self._tokens_for_join(name, user, tokens)
            self.act(engine, "allow", user, t.join)
            self.act(t.join, "join_and_modify", user, tokens, dart)
            debt = self.ctype(name).normalized_debt * ct.rate
            self.act(engine, "set_debt_ceiling", gov, t.type_id, debt)
            self.act(ceiling, "update", self.r.keeper, t.type_id)
            self.s.warp(43200)  # the window ends
            # the attack: repay all, update (the fall), redraw part, update, redraw the rest
            owed = self.vault(name, user).normalized_debt
            self._stable_for(user, owed * ct.rate)
            self._modify_own(name, user, 0, -owed)
            self.act(ceiling, "update", user, t.type_id)
            first = 0
            for part in (50 + frac // 10 % 41, 100):
                c = self.ctype(name)
                room = max(0, c.debt_ceiling - c.normalized_debt * c.rate) // ct.rate
                self._modify_own(name, user, 0, min(owed - first, room * part // 100))
                first = self.vault(name, user).normalized_debt
                self.act(ceiling, "update", user, t.type_id)
            self.act(ceiling, "update", self.r.keeper, t.type_id)
        finally:
            if before.max_ceiling:
                self.act(
                    ceiling,
                    "configure",
                    gov,
                    t.type_id,
                    before.max_ceiling,
                    before.gap,
                    before.cooldown,
                )
            else:
                self.act(ceiling, "remove", gov, t.type_id)
            self.act(engine, "set_debt_ceiling", gov, t.type_id, ct.debt_ceiling)

    def _unrealized_exit_story(self, name, user_i, frac):
        """A staker asks for all its shares; while the request waits the pool pays a loss first
        (governance puts it first in the waterfall); at maturity the staker withdraws before its
        charges are realized (it must be refused), then realizes them and withdraws. A second
        staker shares the charge (each one's part is pro rata, the last realized pays the rest)."""
        pool, sp, keeper = self._pool(), self.s.d.stability_pool, self.r.keeper
        user, second = self.users[user_i], self.users[(user_i + 2) % 3]
        self._finish_losses()
        amount = MIN_SHARES + MIN_SHARES * frac // 1000
        for staker in (user, second):
            self._stable_for(staker, amount)
            self.act(sp, "stake", staker, amount)
        self.s.warp(pool.exposure_delay)
        for staker in (user, second):
            self.act(sp, "realize", keeper, staker, 255)
            self.act(sp, "activate", staker)
        self.act(sp, "request_withdrawal", user, pool.shares[user])
        if not pool.withdrawal_shares[user]:
            return
        self.act(self.s.d.backstop, "set_waterfall", self.r.governance, [2, 1, 3, 4])
        other = (user_i + 1) % 3
        auction_id = self._start_auction(name, other)
        if auction_id is not None:
            self._sell_below_debt(name, auction_id, other, False)
        self._finish_losses()
        matured = pool.withdrawal_at[user] + max(pool.cooldown, pool.exposure_delay)
        if matured > self.s.now:
            self.s.warp(matured - self.s.now)
        self.act(sp, "withdraw", user)
        self.act(sp, "realize", keeper, user, 255)
        self.act(sp, "withdraw", user)
        self.act(sp, "realize", keeper, second, 255)

    def _oracle_bounds_story(self, name, user_i, frac):
        """The feeder posts one wei above the oracle's max_change from its reference, then one
        wei below it (both must be refused), then the highest price allowed, and then the
        reference again (a fall within the bound)."""
        t = self.t(name)
        oracle = self.s.model.contract(t.oracle)
        reference, bound = oracle.next_price or oracle.current_price, oracle.max_change
        if not reference or not bound:
            return
        upper = reference * (WAD + bound) // WAD
        lower = -(-reference * (WAD - bound) // WAD) if bound < WAD else 1
        for price in (upper + 1, max(1, lower - 1), upper, reference):
            self.act(t.oracle, "post", self.r.feeder, price)

    def _auction_steps_story(self, name, user_i, frac):
        """The seventh round's bounds, each edge in turn on both auctions: a step of 2**200 and
        one a wei above 1.5 (both refused), 1.5 itself (accepted); durations of 599 s (refused)
        and 600 s (accepted); then the parameters in force again."""
        gov, d = self.r.governance, self.s.d
        sa, da = self.s.contract(d.surplus_auction), self.s.contract(d.debt_auction)
        kept = (
            (sa.min_increase, sa.bid_duration, sa.auction_duration),
            (da.min_decrease, da.bid_duration, da.auction_duration),
        )
        over, top = WAD * 3 // 2 + 1, WAD * 3 // 2
        edges = [(2**200, *kept[0][1:]), (over, *kept[0][1:]), (top, *kept[0][1:])]
        edges += [(top, 599, 599), (top, 600, 600)]
        for i, (step, bid_s, auction_s) in enumerate([*edges, kept[0]]):
            self.act(d.surplus_auction, "set_parameters", gov, step, bid_s, auction_s)
            debt = kept[1] if i == len(edges) else (step, bid_s, auction_s)
            params = (da.initial_lot, debt[0], da.lot_growth, debt[1], debt[2])
            self.act(d.debt_auction, "set_parameters", gov, *params)

    # the EMERGENCY role's bit (authorized.vy)
    EMERGENCY = 2**15

    def _guardian_bounds_story(self, name, user_i, frac):
        """Issue 72, each bound of the guardian (`other`, granted EMERGENCY on the type's
        auction and oracle and on the settlement the first time) played in order, every refusal
        judged by the specification: it stops the auction house (once: a second stop after the
        lapse is refused, until governance sets a level), raises its own stop, and the day it
        lasts passes; the feeder posts a lower price, pokes it into the queue and posts the old
        one again, and in branches that are then undone the system is shut down and the type's
        price fixed (the settlement takes the lowest price shown: the queued one; a post not yet
        queued); in a branch, after a post below the queued price, the guardian voids (the
        voided price is the post, the lower) and the type is fixed; the guardian voids the queued
        price and voids again (refused while the two pokes of the lock run); with the void
        pending, a shutdown and a fix in a branch (the voided price counts), and once more after
        the settlement's wait with a stale price (a proposal queued after the shutdown is refused
        at its eta);
        the feeder posts and two pokes end the lock; a rescue proposal (the Timelock's own
        set_guardian) is queued and the guardian's cancel refused, the proposer's accepted."""
        t, gov, guardian = self.t(name), self.r.governance, self.r.other
        d = self.s.d
        for contract in (t.auction, t.oracle, d.settlement):
            if not self.s.contract(contract).roles[guardian] & self.EMERGENCY:
                self.act(contract, "grant_role", gov, guardian, self.EMERGENCY)
        auction = self.s.contract(t.auction)
        # the stop: once, raised within its day, lapsed, refused again, re-armed by governance
        self.act(t.auction, "set_stopped", guardian, 1)
        self.act(t.auction, "set_stopped", guardian, 2 + user_i % 2)
        if auction.stop_lapses_at > self.s.now:
            self.s.warp(auction.stop_lapses_at - self.s.now)
        # a transaction lands once the day is up, the stop still written: the specification
        # reads the level in force after it (lapsed), with no admin's reset in between (issue
        # 72's record: without one, `auction-guardian-stop-lapses-late` died to its unit tests)
        self.act(d.engine, "allow", self.users[user_i], t.auction)
        self.act(t.auction, "set_stopped", guardian, 3)
        self.act(t.auction, "set_stopped", gov, 0)
        # the void: locked for two pokes, the voided price readable meanwhile
        oracle = self.s.contract(t.oracle)
        reference = oracle.next_price or oracle.current_price
        settlement_live = self.s.contract(d.settlement).live
        if reference:
            # a fresh price in force first (the stop's day left the current one stale: a
            # settlement would refuse it), then the low one queued
            for _ in range(2):
                self.act(t.oracle, "post", self.r.feeder, reference)
                self.s.warp(oracle.delay)
                self.act(t.oracle, "poke", self.r.keeper)
            # 70% to 90% of it: within the oracle's bound (max_change 50% of the queued price),
            # so the reference posted again below is accepted and the latest post is higher
            # than the queued (and later voided) price: each branch's lowest is its own
            low = max(1, reference * (700 + frac % 201) // 1000)
            self.act(t.oracle, "post", self.r.feeder, low)
            self.s.warp(oracle.delay)
            self.act(t.oracle, "poke", self.r.keeper)
            # queued: the low price; the latest post: the reference again
            self.act(t.oracle, "post", self.r.feeder, reference)
        if settlement_live:
            with self.s.what_if():  # the queued price counts when lower
                self.act(d.settlement, "shutdown", gov)
                self.act(d.settlement, "fix_price", self.r.keeper, t.type_id)
            if reference:
                with self.s.what_if():  # and a post no poke has queued yet
                    self.act(t.oracle, "post", self.r.feeder, max(1, low * 95 // 100))
                    self.act(d.settlement, "shutdown", gov)
                    self.act(d.settlement, "fix_price", self.r.keeper, t.type_id)
        if reference:
            with self.s.what_if():  # a void drops the lower of the queued price and a post
                self.act(t.oracle, "post", self.r.feeder, max(1, low * 90 // 100))
                self.act(t.oracle, "void", guardian)
                if settlement_live:
                    self.act(d.settlement, "shutdown", guardian)
                    self.act(d.settlement, "fix_price", self.r.keeper, t.type_id)
        self.act(t.oracle, "void", guardian)
        self.act(t.oracle, "void", guardian)
        if settlement_live:
            with self.s.what_if():  # the voided one too, while its lock runs
                self.act(d.settlement, "shutdown", guardian)
                self.act(d.settlement, "fix_price", self.r.keeper, t.type_id)
            queue = getattr(self, "queue_timelock", None)
            timelock = queue() if queue is not None else None
            with self.s.what_if():  # a stale price only after the wait; no proposal runs
                self.act(d.settlement, "shutdown", gov)
                rescue = None
                if timelock is not None:
                    data = self.s.lockstep.calldata(timelock, "set_guardian", guardian)
                    rescue = [(timelock, data)]
                    self.act(timelock, "propose", gov, rescue)
                self.s.warp(self.s.contract(t.oracle).max_age + 1)
                self.act(d.settlement, "fix_price", self.r.keeper, t.type_id)
                if timelock is not None:
                    pid = self.s.contract(timelock).proposal_count
                    self.act(timelock, "execute", gov, pid, rescue)
                self.s.warp(self.s.contract(d.settlement).wait)
                self.act(d.settlement, "fix_price", self.r.keeper, t.type_id)
        for _ in range(2):
            if reference:
                self.act(t.oracle, "post", self.r.feeder, reference)
            self.s.warp(oracle.delay)
            self.act(t.oracle, "poke", self.r.keeper)
        self.act(t.oracle, "void", guardian)
        # a rescue, if governance's queue is deployed: the guardian cannot cancel it
        timelock = getattr(self, "_timelock", None)
        if timelock is not None:
            tl = self.s.contract(timelock)
            calldata = self.s.lockstep.calldata
            rescue = [(timelock, calldata(timelock, "set_guardian", guardian))]
            # a role other than EMERGENCY revoked: no rescue, the guardian may cancel it
            other = [(d.engine, calldata(d.engine, "revoke_role", guardian, 1))]
            # calls that move value or rights at the eta: the monitor must flag each (the
            # specification checks the notifier's table on every queued call)
            e, tid = d.engine, t.type_id
            moves = [
                (e, calldata(e, "seize", tid, guardian, guardian, guardian, -1, -1)),
                (e, calldata(e, "create_unbacked", guardian, guardian, 10**45)),
                (e, calldata(e, "set_safe_price", tid, 0)),
                (e, calldata(e, "grant_role", guardian, 1)),
                (d.fees, calldata(d.fees, "set_fee_recipient", guardian)),
            ]
            for calls, cancels in (
                (rescue, (guardian, gov)),
                (other, (guardian,)),
                (moves, (guardian,)),
            ):
                if self.act(timelock, "propose", gov, calls):
                    pid = tl.proposal_count
                    for sender in cancels:
                        self.act(timelock, "cancel", sender, pid)
