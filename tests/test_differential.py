"""Differential stateful fuzzing: random action sequences applied to the contracts on Anvil and to
the off-chain model, which must agree to the wei.

Every rule sends real transactions through `Lockstep`, which fails on any difference in outcome,
revert reason, block time or emitted events. After every step the complete observable state is
compared (every variable of every contract for every actor, read in one batched eth_call) and
invariants I1-I5 are checked on the chain's state and on the model's complete storage.

Actions: funding and withdrawing collateral, locking / freeing / drawing / repaying (near the
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
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from conftest import System
from offchain.errors import Revert
from offchain.fee_accumulator import MAX_BASE_FEE
from offchain.fixed_point import RAD, RAY, WAD

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

        @initialize(amount=st.integers(1, 50), debt_fraction=FRACTION)
        def open_first_vaults(self, amount, debt_fraction):
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

        @rule(seconds=st.one_of(st.integers(1, 4000), st.integers(4000, 3 * 86400), st.integers(1, 400 * 86400)))
        def warp(self, seconds):
            self.s.warp(seconds)

        @rule(name=st.sampled_from(TYPES))
        def accrue(self, name):
            self.act(self.s.d.fees, "accrue", self.r.keeper, self.t(name).type_id)

        @rule(name=st.sampled_from(TYPES))
        def update_ceiling(self, name):
            self.act(self.s.d.ceiling, "update", self.r.keeper, self.t(name).type_id)

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

    return Differential


def make_machine(node, deployed, roles):
    """The state machine class bound to a node and a deployment (used by the benchmark too)."""
    return _machine(node, deployed, roles)


def test_differential__random_sequences__chain_and_model_agree(node, deployed, roles):
    """The contracts on Anvil and the model agree after every step of random action sequences."""
    OUTCOMES.clear()
    run_state_machine_as_test(_machine(node, deployed, roles))
    print("\noutcomes:", *(f"{n:6d}  {k}" for k, n in sorted(OUTCOMES.items())), sep="\n")
    # the run must exercise successful vault changes, not only reverts
    assert OUTCOMES["ok modify_vault"] > 0
