"""Liquidations and auctions: single and batched liquidations (and the liquidation keeper's own
batches, sent with their gas limits: issue 63), whole, partial and flash takes (above and below
the taker's maximum price), resets, circuit breakers, auction caps and price curves."""

from __future__ import annotations

from eth_utils import to_checksum_address
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from offchain.backends import ChainBackend
from offchain.backends.base import TX_GAS, intrinsic_gas
from offchain.model.errors import Revert
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.liquidator import MAX_BATCH, refuses_size_cut
from offchain.sim.strategies.gas_costs import action_gas, batch_limit, vault_gas
from offchain.sim.strategies.keepers import VaultIndex
from offchain.sim.strategies.observe import LiquidationView, plan_liquidations
from offchain.testing.machine.base import EDGE_WAITS, FRACTION, TYPES, MachineBase
from offchain.testing.specification import SpecViolation

# the gas limits a keeper round's transactions are sized to (keeper_gas_round): small ones make a
# handful of size cuts fill a batch (a batch of one cut is sized to 1,080,000)
ROUND_TX_GAS = (1_100_000, 1_500_000, 2_500_000, TX_GAS)


class AuctionRules(MachineBase):
    """The rules of liquidations and auctions (see the module docstring)."""

    @rule(
        owner_i=st.integers(0, 3),
        name=st.sampled_from(TYPES),
        keeper_i=st.integers(0, 2),
        target_unsafe=st.booleans(),
    )
    def liquidate(self, owner_i, name, keeper_i, target_unsafe):
        """Liquidate a vault: one known to be unsafe (when there is one and the draw says so),
        or any vault (which mostly reverts: safe)."""
        t = self.t(name)
        unsafe = self._unsafe_owners(name)
        owner = (
            unsafe[owner_i % len(unsafe)]
            if unsafe and target_unsafe
            else (self.users + [self.r.governance])[owner_i]
        )
        liq = self.s.contract(self.s.d.liquidator)
        before, in_auction = self.vault(name, owner), liq.debt_in_auction
        self.act(
            self.s.d.liquidator,
            "liquidate",
            self.users[keeper_i],
            t.type_id,
            owner,
            self.users[keeper_i],
        )
        config = liq.types[t.type_id]
        over_cap = (
            liq.debt_in_auction > liq.max_debt_in_auction
            or config.debt_in_auction > config.max_debt_in_auction
        )
        if liq.debt_in_auction > in_auction and over_cap:
            # a liquidation may cross a cap only by taking a whole vault rather than leave dust
            assert self.vault(name, owner).normalized_debt == 0 and before.normalized_debt > 0

    def _any_unsafe(self):
        return any(self._unsafe_owners(name) for name in TYPES)

    @rule(
        name=st.sampled_from(TYPES),
        user_i=st.integers(0, 2),
        taker_i=st.integers(0, 2),
        frac=FRACTION,
        wait=st.sampled_from([0, 90, 600, 1800]),
        # tight_cap: the type's cap leaves room for the vault but less than dust of it (the
        # whole vault goes); near_debt: the take leaves a debt just under min_auction
        variant=st.sampled_from(["plain", "plain", "tight_cap", "near_debt"]),
    )
    def liquidation_story(self, name, user_i, taker_i, frac, wait, variant="plain"):
        """The whole liquidation story in one step, so that every example reaches it whatever
        the other rules did: the user opens a vault near its limit, the price falls by a third,
        a keeper liquidates the vault and a user takes part or all of the auction at its price.
        Each transaction may revert (a breaker, a cap, a stale price): the step goes on."""
        t = self.t(name)
        user, gov = self.users[user_i], self.r.governance
        auction = self.s.contract(t.auction)
        if auction.stopped:
            self.act(t.auction, "set_stopped", gov, 0)
        if not self.s.contract(t.oracle).peek()[1]:
            self.crash(name, 100)
        ct = self.ctype(name)
        scale = 10 ** (18 - t.config.token_decimals)
        tokens = 10 * 10**t.config.token_decimals
        collateral = tokens * scale
        # debt at 95% of what the safe price allows [wad of normalized debt]
        debt = collateral * ct.safe_price // ct.rate * 95 // 100
        self.act(t.token, "mint", gov, user, tokens)
        self.act(t.token, "approve", user, t.join, tokens)
        self.act(t.join, "join", user, user, tokens)
        self._modify_own(name, user, collateral, debt)
        self.crash(name, 66)
        if variant == "tight_cap":
            cap = self._cap_around_vault(t, "vault_but_dust", "type", user)
            penalty = t.config.liquidation_penalty
            self.act(self.s.d.liquidator, "configure_type", gov, t.type_id, t.auction, penalty, cap)
        started = None
        if user in self._unsafe_owners(name):
            self.act(
                self.s.d.liquidator, "liquidate", self.r.keeper, t.type_id, user, self.r.keeper
            )
            started = self._started(t.auction)
        if not auction.active:
            return
        if wait:
            self.s.warp(wait)
        # the auction just started if there is one, else the one in the highest slot
        auction_id = started if started in auction.active else auction.active[-1]
        a = auction.auctions[auction_id]
        if auction._needs_reset(a):
            return
        price = auction._price(a)
        amount = a.lot if frac > 500_000 else max(1, a.lot * frac // 10**6)
        taker = self.users[taker_i]
        if variant == "near_debt":
            amount = max(1, (a.debt - auction.min_auction // 2) // max(price, 1))
            self._stable_for(taker, a.debt)
        self.act(t.auction, "take", taker, auction_id, amount, price, taker, b"")

    @precondition(lambda self: self._any_unsafe())
    @rule(
        pick=st.integers(0, 10),
        keeper_i=st.integers(0, 2),
        batch=st.booleans(),
        then=st.sampled_from(["nothing", "nothing", "sell_out", "sell_out_and_cover"]),
    )
    def liquidate_unsafe(self, pick, keeper_i, batch, then):
        """Whenever a vault is unsafe, this rule is eligible: liquidate one (or all, batched),
        and sometimes let an auction sell out below its debt (and cover the loss) at once."""
        name = [n for n in TYPES if self._unsafe_owners(n)][
            pick % 2 if all(self._unsafe_owners(n) for n in TYPES) else 0
        ]
        unsafe = self._unsafe_owners(name)
        keeper = self.users[keeper_i]
        if not self.s.contract(self.t(name).oracle).peek()[1]:
            self.crash(name, 100)  # a stale oracle blocks liquidations: the feeder catches up first
        if batch:
            self.act(
                self.s.d.liquidator, "liquidate_many", keeper, self.t(name).type_id, unsafe, keeper
            )
        else:
            self.act(
                self.s.d.liquidator,
                "liquidate",
                keeper,
                self.t(name).type_id,
                unsafe[pick % len(unsafe)],
                keeper,
            )
        if then != "nothing" and self._any_auction():
            self.sell_out_below_debt(pick, keeper_i, then == "sell_out_and_cover")

    @precondition(lambda self: self._any_auction())
    @rule(
        pick=st.integers(0, 50),
        taker_i=st.integers(0, 2),
        frac=FRACTION,
        flash=st.booleans(),
        wait=st.sampled_from([0, 0, 60, 600, 1800, 3600]),
    )
    def take_running(self, pick, taker_i, frac, flash, wait):
        """Whenever an auction runs, this rule is eligible: take part or all of it at the price
        (or, one time in ten, the part that would leave half of min_auction of debt). An auction
        the circuit breaker stops is resumed by governance first (as after an incident), so that
        takes stay reachable whatever the breaker rule did before."""
        name = [n for n in TYPES if self.s.contract(self.t(n).auction).active][0]
        auction = self.s.contract(self.t(name).auction)
        auction_id = auction.active[pick % len(auction.active)]
        if auction.stopped:
            self.act(self.t(name).auction, "set_stopped", self.r.governance, 0)
        if wait:
            self.s.warp(wait)
        a = auction.auctions[auction_id]
        if auction._needs_reset(a):
            if not self.s.contract(self.t(name).oracle).peek()[1]:
                self.crash(name, 100)
            self.act(self.t(name).auction, "reset", self.r.keeper, auction_id, self.r.keeper)
            a = auction.auctions[auction_id]
        price = auction._price(a)
        amount = a.lot if frac > 700_000 else max(1, a.lot * frac // 10**6)
        if 600_000 < frac <= 700_000 and not flash:
            # a part that would leave half of min_auction of debt: the dust rule's edge (the
            # auction must not be left below min_auction)
            amount = max(1, (a.debt - auction.min_auction // 2) // max(price, 1))
            self._stable_for(self.users[taker_i], a.debt)
        if flash:
            self.act(self.flash[name], "take", self.r.keeper, auction_id, amount, price, 0)
        else:
            self.act(
                self.t(name).auction,
                "take",
                self.users[taker_i],
                auction_id,
                amount,
                price,
                self.users[taker_i],
                b"",
            )

    @precondition(lambda self: self._any_auction())
    @rule(pick=st.integers(0, 50), taker_i=st.integers(0, 2), then_cover=st.booleans())
    def sell_out_below_debt(self, pick, taker_i, then_cover):
        """Wait until a running auction's lot is worth less than its seized debt (resetting it
        first if it must be), then a user buys all of it (governance lends them the stablecoin
        as unbacked debt if they lack it): the auction sells out and leaves a loss to cover.
        Does nothing when the curve reaches its reset limit first."""
        name = [n for n in TYPES if self.s.contract(self.t(n).auction).active][0]
        auction = self.s.contract(self.t(name).auction)
        self._sell_below_debt(name, auction.active[pick % len(auction.active)], taker_i, then_cover)

    @rule(
        name=st.sampled_from(TYPES),
        keeper_i=st.integers(0, 2),
        include=st.lists(st.integers(0, 5), max_size=6),
        with_unsafe=st.booleans(),
    )
    def liquidate_many(self, name, keeper_i, include, with_unsafe):
        owners = [
            (self.users + [self.r.governance, self.r.stranger, self.r.feeder])[i] for i in include
        ]
        if with_unsafe:
            owners += self._unsafe_owners(name)
        self.act(
            self.s.d.liquidator,
            "liquidate_many",
            self.users[keeper_i],
            self.t(name).type_id,
            owners,
            self.users[keeper_i],
        )

    @rule(
        name=st.sampled_from(TYPES),
        plain=st.integers(0, 2),
        cuts=st.integers(1, 5),
        tx_gas=st.sampled_from(ROUND_TX_GAS),
        probe=st.integers(100_000, 2_000_000),
    )
    def keeper_gas_round(self, name, plain, cuts, tx_gas, probe):
        """Issue 63: `plain` vaults that a 10% fall makes unsafe at the base ratio and `cuts`
        vaults it leaves 0.1% short of their size requirement (a size margin governance sets:
        threshold 1,000 BUSD or the dust, +10% per threshold, at most +50%; the cut vaults owe
        2.4 thresholds, where the bisection halves the whole bracket), opened by governance and
        moved to fresh owners. Then, on the chain alone (undone after): every unsafe vault of the
        type (the first 100) in one `liquidate_many` with a drawn `probe` gas limit must not fail
        (the Liquidator's gas guard skips what the gas left cannot finish: each vault liquidated or
        counted in SkippedForGas). Then the liquidation keeper's round (keepers.py, its own
        order and sizing) with its batches sized to a drawn transaction limit `tx_gas`, each sent
        with its own limit beside the model: a batch the chain runs out of gas on, or whose guard
        fires, is a difference the lockstep reports (the twin assumes enough gas); a batch whose
        limit is over `tx_gas` is not sent (the lab refuses it). The keeper lists every vault
        unsafe at the base ratio before the size cuts. Issue 72: a zombie vault (under two dusts,
        unsafe at its size alone, no cut cures it) is never listed; the first plain vault listed
        is topped up after the keeper read, onto the size cut's path, and its batch must still
        hold it."""
        t, gov = self.t(name), self.r.governance
        engine, tid = self.s.d.engine, t.type_id
        if self.s.contract(t.auction).stopped:
            self.act(t.auction, "set_stopped", gov, 0)
        self.crash(name, 100)  # the engine's safe price is the oracle's current one
        ct = self.ctype(name)
        if not ct.safe_price:
            return
        threshold = max(1_000, -(-ct.dust // RAD))
        # open without a size margin (a vault unsafe at its size cannot be drawn), then set it
        if not self.act(engine, "set_size_margin", gov, tid, 0, 0, 0):
            return
        scale = 10 ** (18 - t.config.token_decimals)
        self.gas_rounds = getattr(self, "gas_rounds", 0) + 1
        owners = [
            to_checksum_address(f"0x{0x63000 + self.gas_rounds * 16 + i:040x}")
            for i in range(plain + cuts + 1)
        ]
        for i, owner in enumerate(owners):
            # plain: 40 thresholds at 1.05 x the debt now (0.945 after the fall); a cut: 2.4
            # thresholds at 1.266 now (1.139 after it, short of 1.14); the last, a zombie (issue
            # 72): 1.5 thresholds at 1.145 now (1.03 after it: safe at the base ratio, 1.5% short
            # at its size, under two dusts where the dust is the threshold: no cut cures it)
            if i < plain:
                debt, ratio = 40 * threshold * WAD, 1_050
            elif i < plain + cuts:
                debt, ratio = 24 * threshold * WAD // 10, 1_266
            else:
                debt, ratio = 15 * threshold * WAD // 10, 1_145
            tokens = -(-debt * ct.rate * ratio // (1_000 * ct.safe_price * scale))
            collateral = tokens * scale
            self._tokens_for_join(name, gov, tokens)
            self.act(t.join, "join", gov, gov, tokens)
            if not self.act(engine, "modify_vault", gov, tid, gov, gov, gov, collateral, debt):
                continue
            for holder, sign in ((gov, -1), (owner, 1)):
                self.act(
                    engine, "seize", gov, tid, holder, gov, gov, sign * collateral, sign * debt
                )
            if owner not in self.s.vault_owners:
                self.s.vault_owners.append(owner)
        self.act(engine, "set_size_margin", gov, tid, threshold, 100_000, 500_000)
        self.crash(name, 90)
        e, ct = self.engine(), self.ctype(name)
        index = VaultIndex(tid)
        for (vault_type, owner), v in list(e.vaults.items()):
            if vault_type == tid and v.normalized_debt:
                index.apply_args(
                    {
                        "collateral_type": tid,
                        "owner": owner,
                        "delta_collateral": v.collateral,
                        "delta_normalized_debt": v.normalized_debt,
                    }
                )
        size = e.size_margin_word(tid)
        unsafe = index.unsafe(ct.rate, ct.safe_price, size)
        if unsafe and ct.safe_price:
            self._guard_probe(name, unsafe, probe)
        view = LiquidationView(
            ct.rate,
            ct.safe_price,
            len(self.s.contract(t.auction).active),
            size,
            ct.dust,
            self.s.contract(self.s.d.liquidator).penalty(tid),
        )
        actions = plan_liquidations(
            index, view, set(), self.r.keeper, self.s.d.liquidator, 0, tx_gas
        )
        listed = [o for a in actions for o in a.args[1]]
        # issue 72: the keeper lists no vault the Liquidator refuses (the model's own rule)
        for o in listed:
            v = e.vaults[(tid, o)]
            if refuses_size_cut(
                collateral=v.collateral,
                normalized_debt=v.normalized_debt,
                rate=ct.rate,
                safe_price=ct.safe_price,
                dust=ct.dust,
                penalty=view.penalty,
                size=size,
            ):
                raise SpecViolation(f"liquidation keeper: listed {o}, which the Liquidator refuses")
        # the keeper's order as it read the vaults (before the top-up below moves one)
        base = [
            e.vaults[(tid, o)].collateral * ct.safe_price
            < e.vaults[(tid, o)].normalized_debt * ct.rate
            for o in listed
        ]
        if any(base[i] and not base[i - 1] for i in range(1, len(base))):
            raise SpecViolation(
                "liquidation keeper: a vault unsafe at the base ratio listed after a size cut "
                f"({listed})"
            )
        # issue 72, finding 1: after the keeper read, the first plain vault's owner tops it up
        # (governance's seizure stands in for it) to 1.2x its base requirement: safe at the base
        # ratio, unsafe at its size (1.5x), so it now takes the costly size cut; each batch's
        # limit must still hold every vault it lists (a guard that fires is a difference)
        plain_owners = [o for o in owners[:plain] if o in listed]
        if plain_owners:
            v = e.vaults[(tid, plain_owners[0])]
            need = -(-v.normalized_debt * ct.rate * 12 // (10 * ct.safe_price))
            extra = (need - v.collateral + scale - 1) // scale * scale
            if extra > 0:
                self._tokens_for_join(name, gov, extra // scale)
                self.act(t.join, "join", gov, gov, extra // scale)
                self.act(engine, "seize", gov, tid, plain_owners[0], gov, gov, extra, 0)
                self.totals.outcomes["keeper gas round: a listed vault topped up"] += 1
        for a in actions:
            if action_gas(a) > a.gas_limit:
                raise SpecViolation(f"liquidation keeper: a batch planned over its own limit {a}")
            # the bound of finding 1: a batch's limit holds its vaults by the paths they take in
            # the block it lands in (the top-up above moved one onto the size cut's), not by
            # the paths the keeper read
            now = [
                vault_gas(
                    e.vaults[(tid, o)].collateral,
                    e.vaults[(tid, o)].normalized_debt,
                    ct.rate,
                    ct.safe_price,
                    size,
                )
                for o in a.args[1]
            ]
            if batch_limit(now) > a.gas_limit:
                raise SpecViolation(
                    f"liquidation keeper: a batch's limit {a.gas_limit} under its vaults' paths "
                    f"now ({batch_limit(now)}): a top-up pushes the vaults after it out"
                )
            if a.gas_limit > tx_gas:
                self.totals.outcomes["keeper gas round: a batch over the limit, not sent"] += 1
                continue
            self.act(a.contract, a.function, a.sender, *a.args, gas=a.gas_limit)
        self.totals.outcomes[f"keeper gas round: {len(actions)} batch(es)"] += 1

    def _guard_probe(self, name, owners, gas):
        """`liquidate_many(owners)` on the chain alone with `gas` as its limit, undone after: it
        must not fail for gas where it succeeds with a transaction's whole limit, and each owner
        is liquidated, counted as skipped for gas, or skipped for another reason (a cap, a vault
        no cut cures). At most the Liquidator's MAX_BATCH owners (its ABI bound: a longer list
        reverts whatever the gas), and not sent under the call's intrinsic gas (a node never runs
        it: there is no guard to probe; the campaign at a5222a2 failed on such a probe, 754 owners
        at 118,879 gas, where revm raises)."""
        owners = owners[:MAX_BATCH]
        data = self.s.chain.calldata(
            self.s.d.liquidator, "liquidate_many", self.t(name).type_id, owners, self.r.keeper
        )
        if gas < intrinsic_gas(data):
            self.totals.outcomes["gas guard probe: under its intrinsic gas, not sent"] += 1
            return
        failed, events = self._chain_alone(name, owners, gas)
        if failed is not None:
            ok_with_all, _ = self._chain_alone(name, owners, TX_GAS)
            if ok_with_all is None:
                raise SpecViolation(
                    f"liquidate_many of {len(owners)} unsafe vault(s) with gas {gas:,} failed "
                    f"({failed!r}) and succeeds with {TX_GAS:,}: the gas guard must skip what "
                    "the gas left cannot finish"
                )
            self.totals.outcomes["gas guard probe: the batch reverts whatever its gas"] += 1
            return
        done = sum(1 for e in events if e.name == "Liquidated")
        skipped = sum(e.args["vaults"] for e in events if e.name == "SkippedForGas")
        if done + skipped > len(owners):
            raise SpecViolation(
                f"liquidate_many: {done} liquidated and {skipped} skipped of {len(owners)}"
            )
        self.totals.outcomes[f"gas guard probe: {'skipped' if skipped else 'all done'}"] += 1

    def _chain_alone(self, name, owners, gas):
        """The keeper's `liquidate_many(owners)` on the chain alone with `gas` as its limit, then
        undone: (None, its events), or (its revert reason, []) if it failed."""
        chain, t = self.s.chain, self.t(name)
        pending = chain.next_block_time
        snapshot = chain.snapshot()
        try:
            chain.transact(
                self.s.d.liquidator,
                "liquidate_many",
                self.r.keeper,
                t.type_id,
                owners,
                self.r.keeper,
                gas=gas,
            )
            events = chain.last_events
            if isinstance(chain, ChainBackend) and chain.last_receipt is not None:
                # a node answers a sync send before it has stored the block: wait for it, or the
                # revert below may land first and the block after it
                mined = int(chain.last_receipt["blockNumber"], 16)
                while int(chain.rpc("eth_blockNumber", []), 16) < mined:
                    pass
            return None, events
        except Revert as exc:
            return exc.reason or "(no reason)", []
        finally:
            chain.revert_to(snapshot)
            # a revert drops a time set for the next block: set it again (System.what_if)
            if pending != chain.next_block_time:
                chain.set_next_block_time(pending)

    def _cap_around_vault(self, t, mode, which, owner=None):
        """A cap whose room is a vault's debt with the penalty (`owner`'s, else the largest
        vault's) less half the dust ("vault_but_dust"), or half of it."""
        engine, liquidator = self.engine(), self.s.contract(self.s.d.liquidator)
        ctype = engine.collateral_types[t.type_id]
        owners = self.users if owner is None else [owner]
        debt = max(engine.vaults[(t.type_id, u)].normalized_debt for u in owners) * ctype.rate
        penalty = liquidator.types[t.type_id].penalty
        to_raise = debt * penalty // WAD
        room = (
            to_raise - ctype.dust * penalty // WAD // 2
            if mode == "vault_but_dust"
            else to_raise // 2
        )
        used = (
            liquidator.debt_in_auction
            if which == "global"
            else liquidator.types[t.type_id].debt_in_auction
        )
        return max(0, min(used + room, 10**12 * RAD))

    def _wait(self, name, pick, wait):
        """Let `wait` seconds pass; EDGE_WAITS: until the next block is the last second of the
        picked auction's max_duration (-1) or the first after it (-2)."""
        if wait < 0:
            auction = self.s.contract(self.t(name).auction)
            started = auction.auctions[self._auction_id(name, pick)].started
            wait = started + auction.max_duration + (wait == -2) - self.s.now
        if wait > 0:
            self.s.warp(wait)

    @rule(
        name=st.sampled_from(TYPES),
        pick=st.integers(0, 50),
        taker_i=st.integers(0, 2),
        frac=FRACTION,
        # near_debt: the collateral that would leave a debt just under min_auction (the partial
        # take's dust rule)
        amount_mode=st.sampled_from(["all", "part", "tiny", "near_debt"]),
        price_mode=st.sampled_from(["above", "at", "below"]),
        wait=st.one_of(st.integers(0, 9000), EDGE_WAITS),
    )
    def take(self, name, pick, taker_i, frac, amount_mode, price_mode, wait):
        t = self.t(name)
        auction = self.s.contract(t.auction)
        auction_id = self._auction_id(name, pick)
        self._wait(name, pick, wait)
        a = auction.auctions[auction_id]
        price = auction._price(a) if a.top else 0
        max_price = {"above": price * 2 + 1, "at": price, "below": max(0, price - 1)}[price_mode]
        amount = {
            "all": a.lot,
            "part": a.lot * frac // 10**6,
            "tiny": 1 + frac % 1000,
            "near_debt": max(1, (a.debt - auction.min_auction // 2) // max(price, 1)),
        }[amount_mode]
        taker = self.users[taker_i]
        if amount_mode == "near_debt":
            self._stable_for(taker, a.debt)
        n_events = len(self.s.model.env.logs)
        self.act(t.auction, "take", taker, auction_id, amount, max_price, taker, b"")
        for ev in self.s.model.env.logs[n_events:]:
            if ev.name == "Taken":
                # nobody pays above their maximum price, or more than the collateral at the price
                assert ev.args["price"] <= max_price
                assert ev.args["owe"] <= ev.args["collateral"] * ev.args["price"] + ev.args["price"]

    @rule(
        name=st.sampled_from(TYPES),
        pick=st.integers(0, 50),
        frac=FRACTION,
        min_profit=st.sampled_from([0, 1, 10**50]),
        wait=st.integers(0, 9000),
    )
    def flash_take(self, name, pick, frac, min_profit, wait):
        t = self.t(name)
        auction = self.s.contract(t.auction)
        auction_id = self._auction_id(name, pick)
        if wait:
            self.s.warp(wait)
        a = auction.auctions[auction_id]
        max_price = auction._price(a) if a.top else 0
        self.act(
            self.flash[name],
            "take",
            self.r.keeper,
            auction_id,
            max(1, a.lot * frac // 10**6),
            max_price,
            min_profit,
        )

    @rule(
        name=st.sampled_from(TYPES),
        pick=st.integers(0, 50),
        keeper_i=st.integers(0, 2),
        # often past the auction's max_duration (8,400 s in the devnet), when a reset is due
        # or EDGE_WAITS: to the second max_duration ends or the one after
        wait=st.one_of(st.integers(0, 20000), st.integers(8_400, 30_000), EDGE_WAITS),
    )
    def reset(self, name, pick, keeper_i, wait):
        """Reset an auction (of a type with running auctions, if there is one), often after a
        wait past max_duration; a price the wait left stale is refreshed first (a reset needs a
        valid price), so that the reset itself is what is tried."""
        running = [n for n in TYPES if self.s.contract(self.t(n).auction).active]
        if running and name not in running:
            name = running[pick % len(running)]
        if wait < 0 and running:
            # to the edge second: a stale price is refreshed before the wait (the refresh takes
            # blocks, which would carry the reset past the edge)
            if not self.s.contract(self.t(name).oracle).peek()[1]:
                self.crash(name, 100)
            self._wait(name, pick, wait)
        else:
            self._wait(name, pick, wait)
            if running and not self.s.contract(self.t(name).oracle).peek()[1]:
                self.crash(name, 100)
        self.act(
            self.t(name).auction,
            "reset",
            self.users[keeper_i],
            self._auction_id(name, pick),
            self.users[keeper_i],
        )

    @rule(
        name=st.sampled_from(TYPES),
        level=st.sampled_from([0, 0, 0, 1, 2, 3, 4]),
        by_stranger=st.booleans(),
    )
    def circuit_breaker(self, name, level, by_stranger):
        sender = self.r.stranger if by_stranger else self.r.governance
        self.act(self.t(name).auction, "set_stopped", sender, level)

    @rule(
        name=st.sampled_from(TYPES),
        # or room for the largest vault of the type but less than dust of it, or half of it
        # (the liquidation's partial and whole-vault rules)
        cap=st.sampled_from(
            [0, 10**3 * RAD, 10**5 * RAD, 10**7 * RAD, "vault_but_dust", "half_vault"]
        ),
        which=st.sampled_from(["global", "type"]),
    )
    def set_auction_cap(self, name, cap, which):
        t = self.t(name)
        if isinstance(cap, str):
            cap = self._cap_around_vault(t, cap, which)
        if which == "global":
            self.act(self.s.d.liquidator, "set_max_debt_in_auction", self.r.governance, cap)
        else:
            self.act(
                self.s.d.liquidator,
                "configure_type",
                self.r.governance,
                t.type_id,
                t.auction,
                t.config.liquidation_penalty,
                cap,
            )

    @rule(
        name=st.sampled_from(TYPES),
        curve=st.sampled_from(
            [
                (0, 3600, 0, 0),
                # a prime duration: the linear price's division is rarely exact, so its
                # rounding direction shows
                (0, 3607, 0, 0),
                (1, 0, 60, 99 * RAY // 100),
                (2, 0, 0, RAY - RAY // 10000),
                (0, 0, 0, 0),
            ]
        ),
    )
    def set_curve(self, name, curve):
        self.act(self.t(name).auction, "set_curve", self.r.governance, curve)
