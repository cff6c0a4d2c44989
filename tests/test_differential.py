"""Differential stateful fuzzing: random action sequences applied to the contracts on Anvil and to
the off-chain model, which must agree to the wei.

Every rule sends real transactions through `Lockstep`, which fails on any difference in outcome,
revert reason, block time or emitted events. After every step the complete observable state is
compared (every variable of every contract for every actor, read in one batched eth_call) and
invariants I1-I5 are checked on the chain's state and on the model's complete storage.

Actions: liquidations (single and batched), auction takes (whole, partial, above and below the
taker's maximum price, flash takes through the pool), resets, swaps and liquidity in the
collateral pools, circuit breakers, price crashes; funding and withdrawing collateral, locking / freeing / drawing / repaying (near the
safe, dust and ceiling boundaries, and beyond them), delegation, internal transfers, stablecoin
in and out, price posts (including zero and from strangers), oracle and spotter pokes, time
jumps (including past the oracle's max age), fee accrual, ceiling updates, governance parameter
changes (valid and invalid), seizures, unbacked debt and its settlement, and privileged calls
from accounts that are not allowed.

Profiles: `ci` (default, bounded) and `deep` (`make fuzz`), in conftest.py. Each Hypothesis
example starts from the same deployed state: an EVM snapshot is reverted and the model copied.
"""

from __future__ import annotations

import collections
import copy

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from conftest import System
from offchain.deployment import deploy_flash_taker, seed_pool
from offchain.errors import Revert
from offchain.fee_accumulator import MAX_BASE_FEE
from offchain.fixed_point import MAX_UINT256, RAD, RAY, WAD

TYPES = ["ETH-A", "WBTC-A"]
# outcome counts of the last run (printed with -s): proof that the fuzz reaches both sides of
# every check, not just reverts
OUTCOMES: collections.Counter = collections.Counter()
# steps checked (state compared + invariants) in the last run; read by the benchmark
STEPS = collections.Counter()
FRACTION = st.integers(min_value=0, max_value=10**6)
NUDGE = st.sampled_from([-2, -1, 0, 0, 0, 1, 2])


def _machine(node, deployed, roles):
    d, base_model = deployed

    class Differential(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.snapshot = node.snapshot()
            self.s = System(node, copy.deepcopy(base_model), d, roles)
            self.r = roles
            self.users = [roles.borrower, roles.other, roles.keeper]

        def teardown(self):
            node.revert_to(self.snapshot)

        # ---------------------------------------------------- helpers

        def act(self, address, function, sender, *args):
            try:
                self.s.tx(address, function, sender, *args)
                OUTCOMES[f"ok {function}"] += 1
            except Revert as exc:
                OUTCOMES[f"revert {function}: {exc.reason}"] += 1

        def t(self, name):
            return self.s.d.types[name]

        def engine(self):
            return self.s.engine()

        def vault(self, name, owner):
            return self.engine().vaults[(self.t(name).type_id, owner)]

        def ctype(self, name):
            return self.engine().collateral_types[self.t(name).type_id]

        # ---------------------------------------------------- setup: a few vaults to work with

        @initialize(amount=st.integers(1, 50), debt_fraction=FRACTION, depth=st.integers(10_000, 2_000_000))
        def open_first_vaults(self, amount, debt_fraction, depth):
            ls = self.s.lockstep
            self.flash = {}
            for name in TYPES:
                seed_pool(ls, self.s.d, self.t(name), self.r.governance, depth * WAD)
                self.flash[name] = deploy_flash_taker(ls, self.s.d, name, self.r.keeper)
                self.s.extra_holders.append(self.flash[name])
            for user in self.users:
                # takers pay auctions from their internal balance; pool traders use the ERC-20s
                self.s.tx(self.s.d.engine, "allow", user, self.t("ETH-A").auction)
                self.s.tx(self.s.d.engine, "allow", user, self.t("WBTC-A").auction)
                self.s.tx(self.s.d.engine, "allow", user, self.s.d.stable_join)
                for name in TYPES:
                    self.s.tx(self.t(name).token, "approve", user, self.t(name).pool, MAX_UINT256)
                    self.s.tx(self.s.d.stablecoin, "approve", user, self.t(name).pool, MAX_UINT256)
            for user, name in zip(self.users, TYPES + TYPES):
                t = self.t(name)
                scale = 10 ** (18 - t.config.token_decimals)
                tokens = amount * 10**t.config.token_decimals
                self.s.fund(user, name, tokens)
                ctype = self.ctype(name)
                max_debt = tokens * scale * ctype.safe_price // ctype.rate
                dart = max(max_debt * debt_fraction // 10**6, ctype.dust // ctype.rate + 1)
                self.act(self.s.d.engine, "modify_vault", user, t.type_id, user, user, user, tokens * scale, dart)

        # ---------------------------------------------------- collateral in and out

        @rule(user_i=st.integers(0, 2), name=st.sampled_from(TYPES), amount=st.integers(0, 10**22))
        def fund(self, user_i, name, amount):
            t = self.t(name)
            self.s.tx(t.token, "mint", self.r.governance, self.users[user_i], amount)
            self.s.tx(t.token, "approve", self.users[user_i], t.join, amount)
            self.act(t.join, "join", self.users[user_i], self.users[user_i], amount)

        @rule(user_i=st.integers(0, 2), name=st.sampled_from(TYPES), frac=FRACTION, nudge=NUDGE)
        def exit_collateral(self, user_i, name, frac, nudge):
            t = self.t(name)
            scale = 10 ** (18 - t.config.token_decimals)
            free = self.engine().collateral[(t.type_id, self.users[user_i])] // scale
            self.act(t.join, "exit", self.users[user_i], self.users[user_i], max(0, free * frac // 10**6 + nudge))

        # ---------------------------------------------------- vaults

        @rule(
            owner_i=st.integers(0, 2), sender_i=st.sampled_from([0, 0, 0, 1]), name=st.sampled_from(TYPES),
            coll_mode=st.sampled_from(["none", "lock", "free", "any"]), coll_frac=FRACTION,
            debt_mode=st.sampled_from(["none", "draw", "draw_max", "repay", "repay_all", "dust", "any"]),
            debt_frac=FRACTION, nudge=NUDGE, raw=st.integers(-(10**24), 10**24),
        )
        def modify_vault(self, owner_i, sender_i, name, coll_mode, coll_frac, debt_mode, debt_frac, nudge, raw):
            owner = self.users[owner_i]
            sender = self.users[(owner_i + sender_i) % 3]
            t = self.t(name)
            vault, ctype = self.vault(name, owner), self.ctype(name)
            free = self.engine().collateral[(t.type_id, owner)]
            dink = {
                "none": 0,
                "lock": free * coll_frac // 10**6,
                "free": -(vault.collateral * coll_frac // 10**6),
                "any": raw // 7,
            }[coll_mode]
            collateral_after = max(0, vault.collateral + dink)
            headroom = collateral_after * ctype.safe_price - vault.normalized_debt * ctype.rate
            max_dart = max(0, headroom) // ctype.rate
            dart = {
                "none": 0,
                "draw": max_dart * debt_frac // 10**6 + nudge,
                "draw_max": max_dart + nudge,
                "repay": -(vault.normalized_debt * debt_frac // 10**6) + nudge,
                "repay_all": -vault.normalized_debt,
                "dust": ctype.dust // ctype.rate - vault.normalized_debt + nudge,
                "any": raw,
            }[debt_mode]
            self.act(self.s.d.engine, "modify_vault", sender, t.type_id, owner, owner, owner, dink, dart)

        @rule(owner_i=st.integers(0, 2), delegate_i=st.integers(0, 2), allow=st.booleans())
        def delegate(self, owner_i, delegate_i, allow):
            self.act(self.s.d.engine, "allow" if allow else "disallow", self.users[owner_i], self.users[delegate_i])

        @rule(sender_i=st.integers(0, 2), src_i=st.integers(0, 2), dst_i=st.integers(0, 2),
              name=st.sampled_from(TYPES), frac=FRACTION, nudge=NUDGE)
        def transfer_collateral(self, sender_i, src_i, dst_i, name, frac, nudge):
            t = self.t(name)
            src = self.users[src_i]
            amount = max(0, self.engine().collateral[(t.type_id, src)] * frac // 10**6 + nudge)
            self.act(self.s.d.engine, "transfer_collateral", self.users[sender_i], t.type_id, src, self.users[dst_i], amount)

        @rule(sender_i=st.integers(0, 2), src_i=st.integers(0, 2), dst_i=st.integers(0, 2), frac=FRACTION, nudge=NUDGE)
        def transfer_stable(self, sender_i, src_i, dst_i, frac, nudge):
            src = self.users[src_i]
            amount = max(0, self.engine().stable[src] * frac // 10**6 + nudge)
            self.act(self.s.d.engine, "transfer_stable", self.users[sender_i], src, self.users[dst_i], amount)

        @rule(user_i=st.integers(0, 2), frac=FRACTION, nudge=NUDGE, allow_first=st.booleans())
        def stable_exit(self, user_i, frac, nudge, allow_first):
            user = self.users[user_i]
            if allow_first:
                self.act(self.s.d.engine, "allow", user, self.s.d.stable_join)
            amount = max(0, self.engine().stable[user] // RAY * frac // 10**6 + nudge)
            self.act(self.s.d.stable_join, "exit", user, user, amount)

        @rule(user_i=st.integers(0, 2), frac=FRACTION, nudge=NUDGE, approve=st.booleans())
        def stable_join(self, user_i, frac, nudge, approve):
            user = self.users[user_i]
            balance = self.s.contract(self.s.d.stablecoin).balance_of[user]
            amount = max(0, balance * frac // 10**6 + nudge)
            if approve:
                self.act(self.s.d.stablecoin, "approve", user, self.s.d.stable_join, amount)
            self.act(self.s.d.stable_join, "join", user, user, amount)

        # ---------------------------------------------------- prices and time

        @rule(name=st.sampled_from(TYPES), price=st.one_of(st.just(0), st.integers(1, 100_000 * WAD)),
              by_stranger=st.booleans())
        def post_price(self, name, price, by_stranger):
            sender = self.r.stranger if by_stranger else self.r.feeder
            self.act(self.t(name).oracle, "post", sender, price)

        @rule(name=st.sampled_from(TYPES), spot=st.booleans())
        def poke(self, name, spot):
            self.act(self.t(name).oracle, "poke", self.r.keeper)
            if spot:
                self.act(self.s.d.spotter, "poke", self.r.keeper, self.t(name).type_id)

        @rule(seconds=st.one_of(st.integers(1, 4000), st.integers(1, 4000), st.integers(4000, 3 * 86400),
                                st.integers(3 * 86400, 400 * 86400)))
        def warp(self, seconds):
            self.s.warp(seconds)

        @rule(name=st.sampled_from(TYPES))
        def accrue(self, name):
            self.act(self.s.d.fees, "accrue", self.r.keeper, self.t(name).type_id)

        @rule(name=st.sampled_from(TYPES))
        def update_ceiling(self, name):
            self.act(self.s.d.ceiling, "update", self.r.keeper, self.t(name).type_id)


        # ---------------------------------------------------- liquidations and auctions

        @rule(name=st.sampled_from(TYPES), factor=st.integers(30, 110))
        def crash(self, name, factor):
            """The market moves to `factor`% of the current price and the delayed oracle and the
            spotter catch up (two pokes, a delay apart)."""
            t = self.t(name)
            price = self.s.contract(t.oracle).current_price or t.config.initial_price
            self.act(t.oracle, "post", self.r.feeder, max(1, price * factor // 100))
            for _ in range(2):
                self.s.warp(t.config.oracle_delay)
                self.act(t.oracle, "poke", self.r.keeper)
            self.act(self.s.d.spotter, "poke", self.r.keeper, t.type_id)

        def _unsafe_owners(self, name):
            ct = self.ctype(name)
            owners = self.users + [self.r.governance]
            return [o for o in owners
                    if self.vault(name, o).collateral * ct.safe_price < self.vault(name, o).normalized_debt * ct.rate]

        @rule(owner_i=st.integers(0, 3), name=st.sampled_from(TYPES), keeper_i=st.integers(0, 2),
              target_unsafe=st.booleans())
        def liquidate(self, owner_i, name, keeper_i, target_unsafe):
            """Liquidate a vault: one known to be unsafe (when there is one and the draw says so),
            or any vault (which mostly reverts: safe)."""
            t = self.t(name)
            unsafe = self._unsafe_owners(name)
            owner = unsafe[owner_i % len(unsafe)] if unsafe and target_unsafe else (self.users + [self.r.governance])[owner_i]
            liq = self.s.contract(self.s.d.liquidator)
            before, in_auction = self.vault(name, owner), liq.debt_in_auction
            self.act(self.s.d.liquidator, "liquidate", self.users[keeper_i], t.type_id, owner, self.users[keeper_i])
            config = liq.types[t.type_id]
            over_cap = liq.debt_in_auction > liq.max_debt_in_auction or config.debt_in_auction > config.max_debt_in_auction
            if liq.debt_in_auction > in_auction and over_cap:
                # a liquidation may cross a cap only by taking a whole vault rather than leave dust
                assert self.vault(name, owner).normalized_debt == 0 and before.normalized_debt > 0

        def _any_unsafe(self):
            return any(self._unsafe_owners(name) for name in TYPES)

        def _any_auction(self):
            return any(self.s.contract(self.t(name).auction).active for name in TYPES)

        @precondition(lambda self: self._any_unsafe())
        @rule(pick=st.integers(0, 10), keeper_i=st.integers(0, 2), batch=st.booleans())
        def liquidate_unsafe(self, pick, keeper_i, batch):
            """Whenever a vault is unsafe, this rule is eligible: liquidate one (or all, batched)."""
            name = [n for n in TYPES if self._unsafe_owners(n)][pick % 2 if all(self._unsafe_owners(n) for n in TYPES) else 0]
            unsafe = self._unsafe_owners(name)
            keeper = self.users[keeper_i]
            if not self.s.contract(self.t(name).oracle).peek()[1]:
                self.crash(name, 100)  # a stale oracle blocks liquidations: the feeder catches up first
            if batch:
                self.act(self.s.d.liquidator, "liquidate_many", keeper, self.t(name).type_id, unsafe, keeper)
            else:
                self.act(self.s.d.liquidator, "liquidate", keeper, self.t(name).type_id, unsafe[pick % len(unsafe)], keeper)

        @precondition(lambda self: self._any_auction())
        @rule(pick=st.integers(0, 50), taker_i=st.integers(0, 2), frac=FRACTION, flash=st.booleans(),
              wait=st.sampled_from([0, 0, 60, 600, 1800, 3600]))
        def take_running(self, pick, taker_i, frac, flash, wait):
            """Whenever an auction runs, this rule is eligible: take part or all of it at the price."""
            name = [n for n in TYPES if self.s.contract(self.t(n).auction).active][0]
            auction = self.s.contract(self.t(name).auction)
            auction_id = auction.active[pick % len(auction.active)]
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
            if flash:
                self.act(self.flash[name], "take", self.r.keeper, auction_id, amount, price, 0)
            else:
                self.act(self.t(name).auction, "take", self.users[taker_i], auction_id, amount, price,
                         self.users[taker_i], b"")

        @rule(name=st.sampled_from(TYPES), keeper_i=st.integers(0, 2), include=st.lists(st.integers(0, 5), max_size=6),
              with_unsafe=st.booleans())
        def liquidate_many(self, name, keeper_i, include, with_unsafe):
            owners = [(self.users + [self.r.governance, self.r.stranger, self.r.feeder])[i] for i in include]
            if with_unsafe:
                owners += self._unsafe_owners(name)
            self.act(self.s.d.liquidator, "liquidate_many", self.users[keeper_i], self.t(name).type_id, owners,
                     self.users[keeper_i])

        def _auction_id(self, name, pick):
            active = self.s.contract(self.t(name).auction).active
            return active[pick % len(active)] if active else pick % 3 + 1

        @rule(name=st.sampled_from(TYPES), pick=st.integers(0, 50), taker_i=st.integers(0, 2), frac=FRACTION,
              amount_mode=st.sampled_from(["all", "part", "tiny"]), price_mode=st.sampled_from(["above", "at", "below"]),
              wait=st.integers(0, 9000))
        def take(self, name, pick, taker_i, frac, amount_mode, price_mode, wait):
            t = self.t(name)
            auction = self.s.contract(t.auction)
            auction_id = self._auction_id(name, pick)
            if wait:
                self.s.warp(wait)
            a = auction.auctions[auction_id]
            price = auction._price(a) if a.top else 0
            max_price = {"above": price * 2 + 1, "at": price, "below": max(0, price - 1)}[price_mode]
            amount = {"all": a.lot, "part": a.lot * frac // 10**6, "tiny": 1 + frac % 1000}[amount_mode]
            taker = self.users[taker_i]
            n_events = len(self.s.model.env.logs)
            self.act(t.auction, "take", taker, auction_id, amount, max_price, taker, b"")
            for ev in self.s.model.env.logs[n_events:]:
                if ev.name == "Taken":
                    # nobody pays above their maximum price, or more than the collateral at the price
                    assert ev.args["price"] <= max_price
                    assert ev.args["owe"] <= ev.args["collateral"] * ev.args["price"] + ev.args["price"]

        @rule(name=st.sampled_from(TYPES), pick=st.integers(0, 50), frac=FRACTION, min_profit=st.sampled_from([0, 1, 10**50]),
              wait=st.integers(0, 9000))
        def flash_take(self, name, pick, frac, min_profit, wait):
            t = self.t(name)
            auction = self.s.contract(t.auction)
            auction_id = self._auction_id(name, pick)
            if wait:
                self.s.warp(wait)
            a = auction.auctions[auction_id]
            max_price = auction._price(a) if a.top else 0
            self.act(self.flash[name], "take", self.r.keeper, auction_id, max(1, a.lot * frac // 10**6), max_price, min_profit)

        @rule(name=st.sampled_from(TYPES), pick=st.integers(0, 50), keeper_i=st.integers(0, 2), wait=st.integers(0, 20000))
        def reset(self, name, pick, keeper_i, wait):
            if wait:
                self.s.warp(wait)
            self.act(self.t(name).auction, "reset", self.users[keeper_i], self._auction_id(name, pick), self.users[keeper_i])

        @rule(name=st.sampled_from(TYPES), level=st.sampled_from([0, 0, 0, 1, 2, 3, 4]), by_stranger=st.booleans())
        def circuit_breaker(self, name, level, by_stranger):
            sender = self.r.stranger if by_stranger else self.r.governance
            self.act(self.t(name).auction, "set_stopped", sender, level)

        @rule(name=st.sampled_from(TYPES), cap=st.sampled_from([0, 10**3 * RAD, 10**5 * RAD, 10**7 * RAD]),
              which=st.sampled_from(["global", "type"]))
        def set_auction_cap(self, name, cap, which):
            t = self.t(name)
            if which == "global":
                self.act(self.s.d.liquidator, "set_max_debt_in_auction", self.r.governance, cap)
            else:
                self.act(self.s.d.liquidator, "configure_type", self.r.governance, t.type_id, t.auction,
                         t.config.liquidation_penalty, cap)

        @rule(name=st.sampled_from(TYPES), curve=st.sampled_from([(0, 3600, 0, 0), (1, 0, 60, 99 * RAY // 100),
                                                                (2, 0, 0, RAY - RAY // 10000), (0, 0, 0, 0)]))
        def set_curve(self, name, curve):
            self.act(self.t(name).auction, "set_curve", self.r.governance, curve)

        # ---------------------------------------------------- the collateral pools

        @rule(name=st.sampled_from(TYPES), user_i=st.integers(0, 2), collateral_in=st.booleans(), frac=FRACTION,
              tight=st.booleans())
        def swap(self, name, user_i, collateral_in, frac, tight):
            t = self.t(name)
            user = self.users[user_i]
            token = self.s.contract(t.token if collateral_in else self.s.d.stablecoin)
            amount = token.balance_of[user] * frac // 10**6
            pool = self.s.contract(t.pool)
            try:
                quote = pool.quote(collateral_in, amount)
            except Revert:
                quote = 0
            self.act(t.pool, "swap", user, collateral_in, amount, quote + 1 if tight else quote, user)

        @rule(name=st.sampled_from(TYPES), user_i=st.integers(0, 2), frac=FRACTION, add=st.booleans())
        def liquidity(self, name, user_i, frac, add):
            t = self.t(name)
            user = self.users[user_i]
            pool = self.s.contract(t.pool)
            if add:
                coll = self.s.contract(t.token).balance_of[user] * frac // 10**6
                stable = coll * pool.reserve_stable // pool.reserve_collateral if pool.reserve_collateral else 0
                self.act(t.pool, "add_liquidity", user, coll, stable, 0)
            else:
                self.act(t.pool, "remove_liquidity", user, pool.shares[user] * frac // 10**6, 0, 0)

        @rule(queued_pick=st.integers(0, 20), frac=FRACTION)
        def backstop(self, queued_pick, frac):
            b = self.s.contract(self.s.d.backstop)
            times = sorted(b.queued.keys())
            when = times[queued_pick % len(times)] if times else 0
            self.s.warp(b.queue_delay)
            self.act(self.s.d.backstop, "release", self.r.keeper, when)
            e = self.engine()
            released = e.bad_debt[self.s.d.backstop] - b.total_queued
            self.act(self.s.d.backstop, "settle", self.r.keeper, min(released, e.stable[self.s.d.backstop]) * frac // 10**6)

        # ---------------------------------------------------- governance (valid and invalid)

        @rule(name=st.sampled_from(TYPES), which=st.sampled_from(["ceiling", "dust", "global"]),
              value=st.one_of(st.integers(0, 10**8 * RAD), st.sampled_from([0, 1, 10**6 * RAD])),
              by_stranger=st.booleans())
        def set_limit(self, name, which, value, by_stranger):
            sender = self.r.stranger if by_stranger else self.r.governance
            tid = self.t(name).type_id
            if which == "global":
                self.act(self.s.d.engine, "set_global_debt_ceiling", sender, value)
            else:
                self.act(self.s.d.engine, "set_debt_ceiling" if which == "ceiling" else "set_dust", sender, tid, value)

        @rule(name=st.sampled_from(TYPES),
              fee=st.one_of(st.integers(RAY, MAX_BASE_FEE), st.sampled_from([RAY - 1, MAX_BASE_FEE + 1])),
              kink=st.integers(0, WAD), mult=st.integers(WAD - 1, 10 * WAD + 1), by_stranger=st.booleans(),
              which=st.sampled_from(["fee", "multiplier"]))
        def set_fee(self, name, fee, kink, mult, by_stranger, which):
            sender = self.r.stranger if by_stranger else self.r.governance
            tid = self.t(name).type_id
            if which == "fee":
                self.act(self.s.d.fees, "set_base_fee", sender, tid, fee)
            else:
                self.act(self.s.d.fees, "set_multiplier", sender, tid, kink, mult)

        @rule(name=st.sampled_from(TYPES), max_ceiling=st.integers(0, 10**8 * RAD), gap=st.integers(0, 10**7 * RAD),
              cooldown=st.integers(0, 86400), by_stranger=st.booleans())
        def configure_ceiling(self, name, max_ceiling, gap, cooldown, by_stranger):
            sender = self.r.stranger if by_stranger else self.r.governance
            self.act(self.s.d.ceiling, "configure", sender, self.t(name).type_id, max_ceiling, gap, cooldown)

        @rule(owner_i=st.integers(0, 2), name=st.sampled_from(TYPES), frac=FRACTION, by_stranger=st.booleans())
        def seize(self, owner_i, name, frac, by_stranger):
            """Governance (authorized) seizes part of a vault: collateral to the keeper's free
            balance, debt to governance's bad debt, as a liquidation will."""
            owner = self.users[owner_i]
            vault = self.vault(name, owner)
            sender = self.r.stranger if by_stranger else self.r.governance
            self.act(self.s.d.engine, "seize", sender, self.t(name).type_id, owner, self.r.keeper, self.r.governance,
                     -(vault.collateral * frac // 10**6), -(vault.normalized_debt * frac // 10**6))

        @rule(amount=st.integers(0, 10**6 * RAD), to_i=st.integers(0, 2))
        def create_unbacked(self, amount, to_i):
            self.act(self.s.d.engine, "create_unbacked", self.r.governance, self.r.governance, self.users[to_i], amount)

        @rule(frac=FRACTION, nudge=NUDGE, payer_i=st.integers(0, 2))
        def settle(self, frac, nudge, payer_i):
            """Governance gathers stablecoin from a user (who delegated or not) and settles bad debt."""
            e = self.engine()
            payer = self.users[payer_i]
            self.act(self.s.d.engine, "transfer_stable", payer, payer, self.r.governance, e.stable[payer] * frac // 10**6)
            amount = max(0, min(e.bad_debt[self.r.governance], e.stable[self.r.governance]) * frac // 10**6 + nudge)
            self.act(self.s.d.engine, "settle", self.r.governance, amount)

        # ---------------------------------------------------- after every step

        @invariant()
        def chain_equals_model_and_invariants_hold(self):
            self.s.check()
            STEPS["checked"] += 1

        @rule(seconds=st.sampled_from([1, 30, 90, 300, 900, 1800, 3600]))
        def short_warp(self, seconds):
            self.s.warp(seconds)

    class LiquidationFocus(Differential):
        """The same machine with only the rules of the liquidation story, so that sequences like
        crash -> liquidate -> take / reset -> settle are dense instead of rare."""

    keep = {
        "fund", "modify_vault", "short_warp", "accrue", "crash", "liquidate", "liquidate_unsafe", "take_running",
        "liquidate_many", "take", "flash_take", "reset", "circuit_breaker", "set_auction_cap", "set_curve", "swap",
        "liquidity", "backstop", "stable_exit", "transfer_stable", "poke", "delegate",
    }
    for attr in dir(Differential):
        if getattr(getattr(Differential, attr), "hypothesis_stateful_rule", None) is not None and attr not in keep:
            setattr(LiquidationFocus, attr, None)  # hides the inherited rule
    return {"full": Differential, "liquidations": LiquidationFocus}


def make_machine(node, deployed, roles, kind="full"):
    """The state machine class bound to a node and a deployment (used by the benchmark too)."""
    return _machine(node, deployed, roles)[kind]


def test_differential__liquidation_sequences__chain_and_model_agree(node, deployed, roles):
    """Crashes, liquidations, takes, flash takes, resets and pool trades: chain and model agree
    after every step, and liquidations and takes really happen."""
    OUTCOMES.clear()
    run_state_machine_as_test(make_machine(node, deployed, roles, "liquidations"))
    print("\noutcomes:", *(f"{n:6d}  {k}" for k, n in sorted(OUTCOMES.items())), sep="\n")
    assert OUTCOMES["ok liquidate"] + OUTCOMES["ok liquidate_many"] > 0
    assert OUTCOMES["ok take"] > 0


def test_differential__random_sequences__chain_and_model_agree(node, deployed, roles):
    """The contracts on Anvil and the model agree after every step of random action sequences."""
    OUTCOMES.clear()
    run_state_machine_as_test(make_machine(node, deployed, roles))
    print("\noutcomes:", *(f"{n:6d}  {k}" for k, n in sorted(OUTCOMES.items())), sep="\n")
    # the run must exercise successful vault changes, not only reverts
    assert OUTCOMES["ok modify_vault"] > 0
