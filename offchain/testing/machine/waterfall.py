"""The loss waterfall: the Backstop's housekeeping, covers of closed losses under several
waterfall orders (and invalid ones), debt auctions (start, bid, restart, finish, cancel) and
surplus auctions; the debt- and surplus-auction stories. A story plays a whole sequence in one
step, so that every profile (the derandomized `ci` too) reaches it whatever the other rules
did; each transaction may revert and the step goes on."""

from __future__ import annotations

from eth_utils import to_checksum_address
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from offchain.backends.revm import RevmBackend
from offchain.model import deleverage as dl
from offchain.model.backstop import MAX_DELEVERAGE_VAULTS
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS, Role
from offchain.sim.strategies.backstop_keeper import (
    MAX_DELEVERAGE_BATCHES,
    deleverage_view_from_model,
    keeper_round_from_model,
)
from offchain.testing.machine.auctions import AuctionRules
from offchain.testing.machine.base import FRACTION, TYPES
from offchain.testing.specification.base import SpecViolation
from offchain.testing.specification.deleverage import (
    check_keeper_ranking,
    check_level_rule,
    check_split,
    level_rows,
)


class WaterfallRules(AuctionRules):
    """The rules of the loss waterfall (see the module docstring)."""

    @rule(frac=FRACTION, heal_first=st.booleans(), healer_i=st.integers(0, 2))
    def backstop(self, frac, heal_first, healer_i):
        """Anyone (sometimes) heals the Backstop's unsettled proceeds, then settles part of its
        unattributed bad debt (keeper rewards) against its surplus: an amount in
        [0, min(unattributed debt, stablecoin)]. Unhealed, the proceeds are part of that
        stablecoin and settling them is refused ("backstop: insufficient surplus")."""
        if heal_first:
            self.act(self.s.d.backstop, "heal", self.users[healer_i])
        b = self.s.contract(self.s.d.backstop)
        e = self.engine()
        settleable = min(b.unattributed_debt(), e.stable[self.s.d.backstop])
        self.act(self.s.d.backstop, "settle", self.r.keeper, settleable * frac // 10**6)

    @precondition(lambda self: self._closed_losses())
    @rule(
        pick=st.integers(0, 50),
        wait=st.sampled_from(["no", "delay", "delay", "last_queued_second", "delay_ends"]),
        sender_i=st.integers(0, 2),
    )
    def cover(self, pick, wait, sender_i):
        """Send a closed loss through the waterfall: at once, after a queue delay, at the last
        second the loss is still queued (it must be refused) or the second its delay ends."""
        closed = self._closed_losses()
        b = self.s.contract(self.s.d.backstop)
        key = (
            closed[pick % len(closed)]
            if closed
            else (self.t("ETH-A").type_id, self.t("ETH-A").auction, pick)
        )
        if wait == "delay":
            self.s.warp(b.queue_delay)
        elif wait != "no" and key in b.losses:
            at = b.losses[key].created_at + b.queue_delay - (wait == "last_queued_second")
            if at > self.s.now:
                self.s.warp(at - self.s.now)
        self.act(self.s.d.backstop, "cover", self.users[sender_i], *key)

    @rule(
        order=st.sampled_from(
            [
                [1, 2, 3, 4],
                [2, 1, 3, 4],
                [1, 2, 4],
                [4],
                [3],
                [2],
                [1],
                [],
                [4, 3, 2, 1],
                [0],
                [1, 1],
                [5],
                [1, 2, 6],
                [6],
                [2, 6, 4],
                [1, 2, 3, 4, 6],
                [7],
            ]
        ),
        by_stranger=st.booleans(),
    )
    def set_waterfall(self, order, by_stranger):
        self.act(
            self.s.d.backstop,
            "set_waterfall",
            self.r.stranger if by_stranger else self.r.governance,
            order,
        )

    def _debt_auction_work(self):
        b = self.s.contract(self.s.d.backstop)
        return b.debt_to_auction or self.s.contract(self.s.d.debt_auction).count

    @precondition(lambda self: self._debt_auction_work())
    @rule(
        mode=st.sampled_from(["start", "bid", "bid", "restart", "finish", "cancel", "repay"]),
        pick=st.integers(0, 20),
        bidder_i=st.integers(0, 2),
        frac=FRACTION,
        wait=st.sampled_from([0, 0, 3600, 4 * 3600, 3 * 86400]),
    )
    def debt_auction(self, mode, pick, bidder_i, frac, wait):
        da = self.s.contract(self.s.d.debt_auction)
        if wait:
            self.s.warp(wait)
        auction_id = pick % (da.count + 1) if da.count else 1
        if mode == "start":
            self.act(self.s.d.backstop, "start_debt_auction", self.users[bidder_i])
        elif mode == "repay":
            self.act(self.s.d.debt_auction, "repay", self.users[bidder_i], auction_id)
        elif mode == "bid":
            lot = da.auctions[auction_id].lot
            # the largest lot the minimum decrease allows, or part of it; above 900,000 one wei
            # more than that largest lot (it must be refused)
            largest = lot * WAD // da.min_decrease
            self.act(
                self.s.d.debt_auction,
                "bid",
                self.users[bidder_i],
                auction_id,
                largest + 1 if frac > 900_000 else largest * (10**6 - frac % 500_000) // 10**6,
            )
        else:
            self.act(self.s.d.debt_auction, mode, self.users[bidder_i], auction_id)

    @rule(
        mode=st.sampled_from(["start", "bid", "bid", "restart", "finish", "cancel"]),
        pick=st.integers(0, 20),
        bidder_i=st.integers(0, 2),
        frac=FRACTION,
        wait=st.sampled_from([0, 0, 3600, 4 * 3600, 3 * 86400]),
    )
    def surplus_auction(self, mode, pick, bidder_i, frac, wait):
        sa = self.s.contract(self.s.d.surplus_auction)
        if wait:
            self.s.warp(wait)
        auction_id = pick % (sa.count + 1) if sa.count else 1
        if mode == "start":
            self.act(self.s.d.backstop, "start_surplus_auction", self.users[bidder_i])
        elif mode == "bid":
            bid = sa.auctions[auction_id].bid
            # the least bid the minimum increase allows, or more; above 900,000 one wei less
            # than that least bid (it must be refused)
            least = -(-bid * sa.min_increase // WAD)
            self.act(
                self.s.d.surplus_auction,
                "bid",
                self.users[bidder_i],
                auction_id,
                max(1, least - 1) if frac > 900_000 else max(WAD, least + frac),
            )
        else:
            self.act(self.s.d.surplus_auction, mode, self.users[bidder_i], auction_id)

    @rule(
        name=st.sampled_from(TYPES),
        user_i=st.integers(0, 2),
        order=st.sampled_from([[3], [1, 3], [2, 3], [3, 4], [1, 2, 3, 4], [2, 1, 3, 4]]),
        frac=FRACTION,
        finish=st.booleans(),
    )
    def debt_auction_story(self, name, user_i, order, frac, finish):
        """A loss goes to the debt auction and is bid for: a vault near its limit is liquidated
        in a crash, its auction sells out below the debt (a loss), governance reorders the
        waterfall while the loss is open so that the debt-auction layer takes part of it, the
        loss is covered after the queue delay, a debt auction starts, a user bids, and (maybe)
        the auction is finished after the bid duration."""
        b = self.s.contract(self.s.d.backstop)
        if not b.live:
            return
        self.liquidation_story(name, user_i, user_i, 0, 0)
        if self._any_auction():
            self.sell_out_below_debt(frac % 50, user_i, False)
        closed = self._closed_losses()
        if not closed:
            return
        self.act(self.s.d.backstop, "set_waterfall", self.r.governance, order)
        loss = b.losses[closed[-1]]
        last_queued = loss.created_at + b.queue_delay - 1
        if last_queued > self.s.now:
            # the last second the loss is still queued: the cover must be refused
            self.s.warp(last_queued - self.s.now)
            self.act(self.s.d.backstop, "cover", self.r.keeper, *closed[-1])
        self.s.warp(max(1, loss.created_at + b.queue_delay - self.s.now))
        self.act(self.s.d.backstop, "cover", self.r.keeper, *closed[-1])
        if b.debt_to_auction:
            self.act(self.s.d.backstop, "start_debt_auction", self.r.keeper)
        da = self.s.contract(self.s.d.debt_auction)
        running = [i for i in range(1, da.count + 1) if da.auctions[i].end]
        if not running:
            return
        auction_id, bidder = running[-1], self.users[user_i]
        self._stable_for(bidder, da.auctions[auction_id].bid)
        largest = da.auctions[auction_id].lot * WAD // da.min_decrease
        # one wei more than the largest lot the minimum decrease allows (it must be refused),
        # then that lot or less
        self.act(self.s.d.debt_auction, "bid", bidder, auction_id, largest + 1)
        self.act(
            self.s.d.debt_auction,
            "bid",
            bidder,
            auction_id,
            largest * (10**6 - frac % 500_000) // 10**6,
        )
        if finish:
            self.s.warp(da.bid_duration + 1)
            self.act(self.s.d.debt_auction, "finish", self.r.keeper, auction_id)

    def _surplus_to(self, user, room):
        """Surplus arrives until the Backstop's room for the debt-auction layer's debt (free
        surplus less the unattributed bad debt, which the fund keeps first) is `room` [rad],
        if it is below: `user` (lent what it lacks) sends the Backstop what is missing."""
        b = self.s.contract(self.s.d.backstop)
        missing = room - (b._free_surplus() - b.unattributed_debt())
        if missing > 0:
            self._stable_for(user, missing)
            self.act(self.s.d.engine, "transfer_stable", user, user, self.s.d.backstop, missing)

    @rule(
        name=st.sampled_from(TYPES),
        user_i=st.integers(0, 2),
        frac=FRACTION,
        before=st.sampled_from(["none", "part", "all"]),
    )
    def debt_repay_story(self, name, user_i, frac, before):
        """Issue 63, finding 5: surplus pays the debt-auction layer's debt before any governance
        token is minted. A loss goes to the debt-auction layer (a liquidation sold out below its
        debt, the waterfall [debt auction] while it is covered); surplus arrives (a user sends
        the Backstop stablecoin) worth none, part or all of the debt to auction plus the
        unattributed bad debt the fund keeps first; `start_debt_auction` repays what the surplus
        room pays and auctions only the rest (or starts nothing). Then, for an auction nobody
        has bid on: a repay with a room one wei short of its bid (refused), the room made
        exactly its bid, the repay (the auction ends, nothing minted), the repay again
        (refused: not running); and a repay of an auction with a bid (refused: has bids)."""
        b, backstop = self.s.contract(self.s.d.backstop), self.s.d.backstop
        if not b.live:
            return
        user, keeper = self.users[user_i], self.r.keeper
        self.liquidation_story(name, user_i, user_i, 0, 0)
        if self._any_auction():
            self.sell_out_below_debt(frac % 50, user_i, False)
        closed = self._closed_losses()
        if not closed:
            return
        self.act(backstop, "set_waterfall", self.r.governance, [3])
        loss = b.losses[closed[-1]]
        self.s.warp(max(1, loss.created_at + b.queue_delay - self.s.now))
        self.act(backstop, "cover", keeper, *closed[-1])
        debt = b.debt_to_auction
        if not debt:
            return
        if before != "none":
            self._surplus_to(user, debt if before == "all" else debt // 2)
        self.act(backstop, "start_debt_auction", keeper)
        self.totals.outcomes[
            "debt repay story: surplus repaid all, no auction"
            if b.debt_to_auction == 0 and not self._started(self.s.d.debt_auction)
            else "debt repay story: an auction started"
        ] += 1
        da = self.s.contract(self.s.d.debt_auction)
        unbid = [
            i
            for i in range(1, da.count + 1)
            if da.auctions[i].end and not da.auctions[i].bid_expiry
        ]
        if not unbid:
            return
        auction_id = unbid[-1]
        bid = da.auctions[auction_id].bid
        # surplus arrives one wei short of the bid's room, then the last wei
        self._surplus_to(user, bid - 1)
        self.act(da.address, "repay", keeper, auction_id)
        self._surplus_to(user, bid)
        if self.act(da.address, "repay", keeper, auction_id):
            self.totals.outcomes["debt repay story: an auction without a bid repaid"] += 1
        self.act(da.address, "repay", keeper, auction_id)
        if b.debt_to_auction and frac % 2:
            # another auction, bid on first: its bidder paid its debt; a repay is refused
            self.act(backstop, "start_debt_auction", keeper)
            started = self._started(self.s.d.debt_auction)
            if started:
                self._stable_for(user, da.auctions[started].bid)
                lot = da.auctions[started].lot * WAD // da.min_decrease
                self.act(self.s.d.debt_auction, "bid", user, started, lot)
                self.act(da.address, "repay", keeper, started)

    @rule(user_i=st.integers(0, 2), frac=FRACTION, bids=st.integers(1, 3), finish=st.booleans())
    def surplus_auction_story(self, user_i, frac, bids, finish):
        """Surplus above the buffer is sold for the governance token, which is burned: a user
        sends the Backstop what it lacks above its bad debt, the buffer and a lot, a surplus
        auction starts, users outbid each other, and (maybe) it is finished after the bid
        duration."""
        b = self.s.contract(self.s.d.backstop)
        if not b.live:
            return
        e, backstop = self.engine(), self.s.d.backstop
        need = e.bad_debt[backstop] + b.surplus_buffer + b.surplus_lot - e.stable[backstop]
        user = self.users[user_i]
        if need > 0:
            self._stable_for(user, need)
            self.act(self.s.d.engine, "transfer_stable", user, user, backstop, need)
        self.act(backstop, "start_surplus_auction", self.r.keeper)
        sa = self.s.contract(self.s.d.surplus_auction)
        auction_id = sa.count
        if not auction_id or not sa.auctions[auction_id].end:
            return
        for i in range(bids):
            bid = sa.auctions[auction_id].bid
            least = -(-bid * sa.min_increase // WAD)
            if bid and least - 1 > bid:
                # one wei less than the least bid the minimum increase allows: refused
                self.act(
                    self.s.d.surplus_auction,
                    "bid",
                    self.users[(user_i + i) % 3],
                    auction_id,
                    least - 1,
                )
            self.act(
                self.s.d.surplus_auction,
                "bid",
                self.users[(user_i + i) % 3],
                auction_id,
                max(WAD, bid * sa.min_increase // WAD + frac),
            )
        if finish:
            self.s.warp(sa.bid_duration + 1)
            self.act(self.s.d.surplus_auction, "finish", self.r.keeper, auction_id)

    # ------------------------------------------------------------ deleveraging (issue 35)

    def _owners(self, mode, pick):
        """A `deleverage` list of the users (and the stranger): strictly ascending, all of them
        or a subset by `pick`; or descending, or with one owner twice (refused)."""
        owners = sorted(set(self.users + [self.r.stranger]), key=lambda a: int(a, 16))
        if mode == "subset":
            owners = [o for i, o in enumerate(owners) if pick >> i & 1] or owners[:1]
        elif mode == "unsorted":
            owners = owners[::-1]
        elif mode == "repeated":
            owners = owners[:2] + owners[1:2]
        return owners

    @staticmethod
    def _shares(owners, pick, mode="all"):
        """A share [wad] for each owner, by `pick`: the whole headroom (1 wad: the max fraction
        then binds), a third of it, a share from `pick`, or none; every call lists the whole
        headroom for some so that the due scales the shares down when they ask more than it.
        `mode` "mismatch": one share too few (refused)."""
        kinds = [WAD, WAD // 3, 1 + pick % WAD, 0]
        shares = [kinds[(pick >> (2 * i)) & 3] for i in range(len(owners))]
        if mode == "mismatch":
            return shares[:-1]
        return shares

    def _keeper_calls(self, name):
        """The backstop keeper's calls for type `name` this round
        (offchain/sim/strategies/backstop_keeper.py, the simulator's and the live bot's code):
        its ranking of the type's vaults by strength, checked against the Specification's, and
        its shares against the level rule's (issue 63: each vault its excess over one strength
        level, to the stated rounding), then (owners, shares) of each call."""
        tid = self.t(name).type_id
        ranked, calls = keeper_round_from_model(self.s.model, self.s.d.backstop, tid)
        if self.s.checked:  # not in the benchmark's unchecked floor
            check_keeper_ranking(self.s.spec, tid, ranked)
            pairs = [(c.owners, c.shares) for c in calls]
            check_level_rule(self.s.spec, tid, pairs, self.s.model.next_block_time)
        return calls

    def _keeper_round(self, name, by):
        """Send the keeper's calls of one round for type `name` (`_keeper_calls`) from `by`;
        each that goes through must charge what the keeper predicted, to the wei. How many
        went through."""
        b, tid = self.s.contract(self.s.d.backstop), self.t(name).type_id
        sent = 0
        for call in self._keeper_calls(name):
            before = b.deleverage_due(tid)
            if self.act(self.s.d.backstop, "deleverage", by, tid, call.owners, call.shares):
                sent += 1
                self._count_charges()
                charged = before - b.deleverage_due(tid)
                if self.s.checked and charged != call.charge:
                    raise SpecViolation(
                        f"keeper shares: the keeper predicted {call.charge}, the call charged "
                        f"{charged}"
                    )
        return sent

    @rule(
        name=st.sampled_from(TYPES),
        mode=st.sampled_from(
            [
                "all",
                "keeper",
                "subset",
                "unsorted",
                "repeated",
                "mismatch",
                "buffer",
                "limits",
                "release",
                "link",
            ]
        ),
        pick=st.integers(0, 10**6),
        sender=st.sampled_from(["governance", "keeper", "keeper", "stranger"]),
    )
    def deleverage(self, name, mode, pick, sender):
        """Charge a type's loss due for deleveraging to a list of owners with a share each (the
        keeper's round by the level rule, or listed shares: whole, a third, drawn, none; a share
        list one short is refused), governance as admin, the keeper if it was granted the
        DELEVERAGE role, the stranger refused; or governance moves the buffer (refused below a
        margin-call warning factor - 1, issue 63) or the limits (max fraction, interval) while
        losses are due (one pick in eight out of bounds: refused), links the MarginCall again
        (the zero address refused), or releases part of a due to the debt auction (one pick in
        eight more than is due: refused)."""
        by = {"governance": self.r.governance, "keeper": self.r.keeper}.get(sender, self.r.stranger)
        b, tid = self.s.contract(self.s.d.backstop), self.t(name).type_id
        if mode == "buffer":
            buffer = pick * 10**12 if pick % 8 else WAD + pick
            if pick % 4 == 1:
                # at the highest margin-call warning factor - 1, or one wei below (refused:
                # issue 63, finding 3)
                highest = self.s.contract(self.s.d.margin_call).highest_warning_factor()
                buffer = max(0, (highest - RAY) // 10**9 + pick % 8 // 4 - 1)
            self.act(self.s.d.backstop, "set_deleverage_buffer", by, buffer)
            return
        if mode == "limits":
            fraction, interval = 1 + pick * 10**12, pick % 3 * 43_200
            if pick % 8 == 0:
                fraction, interval = (0, interval) if pick % 16 else (WAD, 365 * 86400 + 1)
            self.act(self.s.d.backstop, "set_deleverage_limits", by, fraction, interval)
            return
        if mode == "link":
            # the MarginCall whose warning factors bound the buffer (again; one pick in four
            # the zero address: refused)
            margin_call = self.s.d.margin_call if pick % 4 else ZERO_ADDRESS
            self.act(self.s.d.backstop, "set_margin_call", by, margin_call)
            return
        if mode == "release":
            due = b.deleverage_due(tid)
            amount = due * (pick % 1_000 + 1) // 1_000 if pick % 8 else due + 1
            self.act(self.s.d.backstop, "release_deleverage", by, tid, amount)
            return
        if mode == "keeper":
            if not self._keeper_round(name, by):
                self.totals.outcomes["deleverage: the keeper sends none"] += 1
            return
        owners = self._owners(mode, pick)
        shares = self._shares(owners, pick, mode)
        if self.act(self.s.d.backstop, "deleverage", by, self.t(name).type_id, owners, shares):
            self._count_charges()

    def _count_charges(self):
        charged = [e for e in self.s.events if e.name == "VaultDeleveraged"]
        self.totals.outcomes[
            "deleverage charged vaults" if charged else "deleverage charged none"
        ] += 1

    @rule(
        name=st.sampled_from(TYPES),
        user_i=st.integers(0, 2),
        order=st.sampled_from([[6], [1, 2, 6], [2, 6, 4], [6, 4], [1, 2, 3, 4, 6]]),
        frac=FRACTION,
        fall=st.sampled_from(["none", "none", "posted", "queued", "current"]),
        again=st.sampled_from(["now", "after_interval"]),
    )
    def deleverage_story(self, name, user_i, order, frac, fall, again):
        """A loss reaches the deleveraging layer and is charged to the strong vaults: another
        user opens a vault at 20% to 60% of its limit and the stranger one without debt, the
        user's vault near its limit is liquidated in a crash and its auction sells out below
        the debt, governance orders a waterfall with the deleveraging layer and grants the
        keeper the DELEVERAGE role (one time in five every vault of the type then repays: the
        layer takes nothing), the loss is covered after the queue delay, the keeper sends its
        calls (the level rule's shares; maybe after a fall of 20% the oracle shows but the
        engine does not yet: posted, or queued by a poke; or 5% in effect everywhere; with an
        odd `frac`, the strong vault alone with its whole headroom after a steep size margin,
        `_steep_size_margin`; and a list with an owner twice is refused), and the same calls
        again with what is still due (their shares then ask more than the due: scaled down),
        at once (the charged vaults rest: with a tiny max fraction set first, two times in three
        when the frac is even) or after the interval; one time in three governance then
        releases what is left to the debt auction."""
        b = self.s.contract(self.s.d.backstop)
        if not b.live:
            return
        t, gov, keeper = self.t(name), self.r.governance, self.r.keeper
        strong = self.users[(user_i + 1) % 3]
        if not self.s.contract(t.oracle).peek()[1]:
            self.crash(name, 100)
        tokens = 10 * 10**t.config.token_decimals
        collateral = tokens * 10 ** (18 - t.config.token_decimals)
        ct = self.ctype(name)
        self._tokens_for_join(name, strong, tokens)
        self.act(self.s.d.engine, "allow", strong, t.join)
        self._tokens_for_join(name, self.r.stranger, tokens)
        self.act(self.s.d.engine, "allow", self.r.stranger, t.join)
        self.act(t.join, "join_and_modify", self.r.stranger, tokens, 0)
        share = 20 + frac % 41
        self.act(
            t.join,
            "join_and_modify",
            strong,
            tokens,
            collateral * ct.safe_price // ct.rate * share // 100,
        )
        self.liquidation_story(name, user_i, user_i, 0, 0)
        if self._any_auction():
            self.sell_out_below_debt(frac % 50, user_i, False)
        closed = [k for k in self._closed_losses() if k[0] == t.type_id]
        if not closed:
            return
        self.act(self.s.d.backstop, "set_waterfall", gov, order)
        self.act(self.s.d.backstop, "grant_role", gov, keeper, int(Role.DELEVERAGE))
        if frac % 5 == 2:
            # every vault of the type repays before the cover: the layer must take nothing
            for owner in [*self.users, self.r.stranger, gov]:
                normalized_debt = self.vault(name, owner).normalized_debt
                if normalized_debt:
                    self._stable_for(owner, normalized_debt * self.ctype(name).rate)
                    self._modify_own(name, owner, 0, -normalized_debt)
        loss = b.losses[closed[-1]]
        self.s.warp(max(1, loss.created_at + b.queue_delay - self.s.now))
        self.act(self.s.d.backstop, "cover", keeper, *closed[-1])
        if fall == "current":
            self.crash(name, 95)
        elif fall != "none":
            price = self.s.contract(t.oracle).current_price or t.config.initial_price
            self.act(t.oracle, "post", self.r.feeder, max(1, price * 80 // 100))
            if fall == "queued":
                self.s.warp(t.config.oracle_delay)
                self.act(t.oracle, "poke", self.r.keeper)
        calls = [(c.owners, c.shares) for c in self._keeper_calls(name)]
        if not calls:
            everyone = self._owners("all", 0)
            calls = [(everyone, [WAD] * len(everyone))]
        steep = False
        if frac % 2:
            steep = self._steep_size_margin(name, strong)
            calls = [([strong], [WAD])] if steep else calls
        if again == "now" and frac % 3 != 2 and not steep:
            # a tiny max fraction and a day's rest: the first calls leave most of the due, and
            # the same calls again, at once, must charge none of the vaults the first charged
            self.act(self.s.d.backstop, "set_deleverage_limits", gov, WAD // 10_000, 86_400)
        if frac % 2:
            # a list with an owner twice first: refused
            twice = self._owners("repeated", 0)
            self.act(self.s.d.backstop, "deleverage", keeper, t.type_id, twice, [WAD] * 3)
        for i in range(2):
            if i and again == "after_interval":
                self.s.warp(max(1, b.deleverage_interval))
            for owners, shares in calls:
                if b.deleverage_due(t.type_id) and self.act(
                    self.s.d.backstop, "deleverage", keeper, t.type_id, owners, shares
                ):
                    self._count_charges()
        due = b.deleverage_due(t.type_id)
        if due and frac % 3 == 0:
            # governance releases what is left to the debt auction (refused without one)
            self.act(self.s.d.backstop, "release_deleverage", gov, t.type_id, due)

    # the owners of the tie story's vaults (issue 63): addresses nobody else uses
    TIE_OWNER_BASE = 0x7E1E0000

    @rule(
        name=st.sampled_from(TYPES),
        honest=st.integers(46, 50),
        parts=st.integers(2, 8),
        wei=st.sampled_from(["none", "part", "honest"]),
        share=st.integers(5, 60),
    )
    def deleverage_tie_story(self, name, honest, parts, wei, share):
        """Issue 63, finding 2: `honest` vaults and a position cut into `parts` vaults, all of
        one collateral ratio (debt at a twentieth of the limit: the type's strongest), more
        than one keeper call's 50; one of them (a part, an honest one, or none) draws one wei
        more. Governance parks a loss for the layer alone (a loss event it opens and closes
        raising nothing, covered after the queue delay) of what the vaults stronger than the
        tie pay down to its strength plus `share`% of the tie's caps, so that the level falls
        inside the tie;
        the keeper's round follows (its shares checked against the level rule: no vault of the
        tie cut off at the 50th), and the parts, together, must pay what the whole position
        would (`split_problems`, the Specification's rounding). Earlier stories' vaults, still
        open and stronger, may fill the round's 200: then the tie waits for the next round, as
        the whole would."""
        b = self.s.contract(self.s.d.backstop)
        # revm only: its 50 to 58 vault owners are new addresses, which a node without
        # auto-impersonation (the Anvil differential's) refuses to send from ("No Signer")
        if not b.live or not isinstance(self.s.chain, RevmBackend):
            return
        t, gov, keeper = self.t(name), self.r.governance, self.r.keeper
        ct = self.ctype(name)
        if not ct.safe_price or not ct.rate:
            return
        scale = 10 ** (18 - t.config.token_decimals)
        tokens = 10 * 10**t.config.token_decimals
        collateral = tokens * scale
        count = honest + parts
        # per example (a machine is one example): the same owners when it is replayed
        stories = getattr(self, "_tie_stories", 0)
        self._tie_stories = stories + 1
        start = self.TIE_OWNER_BASE + 64 * stories
        owners = [str(to_checksum_address(f"0x{start + i:040x}")) for i in range(count)]
        # the complete checks read their vaults and balances too (holders: not the delegations
        # among all accounts, quadratic in them; each owner's one to governance is undone)
        self.s.vault_owners.extend(owners)
        # a twentieth of the limit at the buffer (at the engine's safe price), above the dust
        limit = collateral * ct.safe_price * WAD // (WAD + b.deleverage_buffer)
        art = max(limit // 20 // ct.rate, ct.dust // ct.rate + 1)
        self.s.tx(t.token, "mint", gov, gov, tokens * count)
        self.s.tx(t.token, "approve", gov, t.join, tokens * count)
        self.act(t.join, "join", gov, gov, tokens * count)
        for i, owner in enumerate(owners):
            self.act(self.s.d.engine, "allow", owner, gov)
            more = 1 if (wei == "part" and i == honest) or (wei == "honest" and i == 0) else 0
            self.act(
                self.s.d.engine,
                "modify_vault",
                gov,
                t.type_id,
                owner,
                gov,
                gov,
                collateral,
                art + more,
            )
            self.act(self.s.d.engine, "disallow", owner, gov)
        self.totals.outcomes["deleverage tie story"] += 1
        # the loss (from the keeper's own view of the model)
        view = deleverage_view_from_model(self.s.model, self.s.d.backstop, t.type_id)
        engine = self.engine()
        vaults = {
            o: (v.collateral, v.normalized_debt)
            for (tid, o), v in list(engine.vaults.items())
            if tid == t.type_id
        }
        windows = {o: dl.Window(*b.deleverage_window(t.type_id, o)) for o in vaults}
        tied = set(owners)
        cands = dl.candidates(vaults, windows, view.pricing, view.limits, view.now)
        starts = [c.start for c in cands if c.owner in tied]
        if not starts:
            return
        # the charges of the vaults stronger than the tie with the level at its strength
        # (1 / it = the least start of the tie), then share% of the tie's caps
        level = min(starts)
        above = sum(c.charge(level) for c in cands if c.owner not in tied and c.start < level)
        room = sum(c.cap for c in cands if c.owner in tied)
        amount = int(above + room * share / 100) + RAD
        self.act(self.s.d.backstop, "grant_role", gov, gov, int(Role.OPEN_LOSS | Role.CLOSE_LOSS))
        self.act(self.s.d.engine, "create_unbacked", gov, self.s.d.backstop, gov, amount)
        loss_id = start
        if not self.act(self.s.d.backstop, "open_loss", gov, t.type_id, gov, loss_id, amount, WAD):
            return
        self.act(self.s.d.backstop, "close_loss", gov, t.type_id, loss_id, amount, 0)
        self.act(self.s.d.backstop, "set_waterfall", gov, [6])
        self.act(self.s.d.backstop, "grant_role", gov, keeper, int(Role.DELEVERAGE))
        self.s.warp(b.queue_delay + 1)
        if not self.act(self.s.d.backstop, "cover", keeper, t.type_id, gov, loss_id):
            return
        before = {o: self.vault(name, o).normalized_debt for o in owners}
        rows = level_rows(self.s.spec, t.type_id, self.s.model.next_block_time)
        due = b.deleverage_due(t.type_id)
        calls = [(c.owners, c.shares) for c in self._keeper_calls(name)]
        if not self._keeper_round(name, keeper):
            self.totals.outcomes["deleverage tie story: the keeper sends none"] += 1
            return
        paid = {o: (self.vault(name, o).normalized_debt - before[o]) * ct.rate for o in owners}
        if sum(1 for o in owners if paid[o]) > MAX_DELEVERAGE_VAULTS:
            self.totals.outcomes["deleverage tie story: a tie past one call, all charged"] += 1
        if len(calls) == MAX_DELEVERAGE_BATCHES and not any(paid.values()):
            self.totals.outcomes["deleverage tie story: a full round, the tie waits"] += 1
        if self.s.checked:
            check_split(self.s.spec, t.type_id, rows, due, owners[honest:], paid, calls)

    def _steep_size_margin(self, name, strong):
        """Before a charge to `strong` alone: the max fraction 1, and a steep size margin (+100%
        per threshold of debt above it, capped at +100%) whose threshold leaves the vault a
        headroom of half the due (at most 1% of its limit). The whole headroom, charged, then
        takes its margin debt past the limit (the margin grows about twice as fast as the debt,
        the charge is the headroom, not the due), so the call must charge nothing: the check
        after the charge, at the vault's new size. The vault's debt is first set to 2/3 of its
        limit (its owner repays or draws, with no size margin), so any earlier state will do.
        True when the size margin was set."""
        t, gov, b = self.t(name), self.r.governance, self.s.contract(self.s.d.backstop)
        engine, tid = self.s.d.engine, t.type_id
        self.act(engine, "set_size_margin", gov, tid, 0, 0, 0)
        price = b.lowest_safe_price(tid)
        vault, rate = self.vault(name, strong), self.ctype(name).rate
        limit = dl.vault_limit(vault.collateral, dl.Pricing(0, price, 0, b.deleverage_buffer))
        change = limit * 2 // 3 // rate - vault.normalized_debt
        if change < 0:
            self._stable_for(strong, -change * rate)
        if change:
            self._modify_own(name, strong, 0, change)
        debt = self.vault(name, strong).normalized_debt * rate
        due = b.deleverage_due(tid)
        headroom = min(due // 2, limit // 100)
        if not debt or headroom <= 0 or limit <= headroom:
            return False
        # margin debt(debt) = debt^2 / threshold below the cap: the limit less the headroom
        threshold = -(-(debt * debt) // ((limit - headroom) * RAD))
        if not (debt < threshold * RAD * 2 and 0 < threshold * RAD < debt):
            return False
        if self.ctype(name).dust > threshold * RAD:  # (a threshold below it: refused)
            self.act(engine, "set_dust", gov, tid, threshold * RAD)
        if not self.act(engine, "set_size_margin", gov, tid, threshold, 10**6, 10**6):
            return False
        self.act(self.s.d.backstop, "set_deleverage_limits", gov, WAD, 86_400)
        self.totals.outcomes["deleverage story: a steep size margin, fraction 1"] += 1
        return True
