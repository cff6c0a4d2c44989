"""Differential stateful fuzzing: random action sequences applied to the contracts on Anvil and to
the off-chain model, which must agree to the wei.

Every rule sends real transactions through `Lockstep`, which fails on any difference in outcome,
revert reason, block time or emitted events. After every step the complete observable state is
compared (every variable of every contract for every actor, read in one batched eth_call) and
invariants I1-I5 are checked on the chain's state and on the model's complete storage.

Actions: liquidations (single and batched), auction takes (whole, partial, above and below the
taker's maximum price, flash takes through the pool), resets, swaps and liquidity in the
collateral pools, circuit breakers, price crashes; funding and withdrawing collateral, locking /
freeing / drawing / repaying (near the
safe, dust and ceiling boundaries, and beyond them), delegation, internal transfers, stablecoin
in and out, price posts (including zero and from strangers), oracle and spotter pokes, time
jumps (including past the oracle's max age), fee accrual, ceiling updates, governance parameter
changes (valid and invalid), seizures, unbacked debt and its settlement, and privileged calls
from accounts that are not allowed; the loss waterfall: stability-pool stakes, pending stakes,
withdrawal requests and withdrawals (also at the minimum shares and the exit window's last
second), realizations, covers of closed losses under several waterfall orders (and invalid
ones), debt auctions (start, bid, restart, finish, cancel), surplus
auctions, and, late in an example, global settlement with every step after it. Loss
conservation (receipts = loss, per event and per pool charge) is checked after every step.

The machines live here, not in tests/, so that the benchmark can run them too; the tests are
tests/fuzz/test_differential.py. Profiles: `ci` (default, bounded) and `deep` (`make fuzz`), in
tests/conftest.py. Each Hypothesis example starts from the same deployed state: an EVM snapshot
is reverted and the model copied.
"""

from __future__ import annotations

import collections
import copy
import sys

from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from offchain.backends import EvmBackend, ModelBackend
from offchain.model import price_curves
from offchain.model.backstop import LossStatus
from offchain.model.errors import Revert
from offchain.model.fee_accumulator import MAX_BASE_FEE
from offchain.model.fixed_point import MAX_UINT256, RAD, RAY, WAD
from offchain.model.stability_pool import MIN_SHARES
from offchain.sim.attacker import SHAPES
from offchain.system.deployment import Deployment, deploy_flash_taker, seed_pool
from offchain.testing import stats
from offchain.testing.attacks import stage_and_attack
from offchain.testing.checking import Checker
from offchain.testing.harness import Roles, System
from offchain.testing.permits import dev_key, sign_permit
from offchain.testing.specification import SpecViolation
from offchain.testing.stats import StepStats

TYPES = ["ETH-A", "WBTC-A"]
# outcome counts of the last run (printed with -s): proof that the fuzz reaches both sides of
# every check, not just reverts
OUTCOMES: collections.Counter = collections.Counter()
# steps checked (state compared + invariants) in the last run; read by the benchmark
STEPS = collections.Counter()
# the complete state is compared every this many steps (and at the end of every example); in
# between, what each step touched (offchain/testing/checking.py)
FULL_CHECK_EVERY = 20
FRACTION = st.integers(min_value=0, max_value=10**6)
NUDGE = st.sampled_from([-2, -1, 0, 0, 0, 1, 2])
# waits to an auction's max_duration: its last second (-1) or the one after (-2)
EDGE_WAITS = st.sampled_from([-1, -2])
# how a permit of the `permit` rule is signed (valid is drawn as often as the broken ones)
PERMIT_CASES = ["valid", "valid", "valid", "expired", "wrong_signer", "replayed", "other_token"]


class Differential(RuleBasedStateMachine):
    """The whole system: every contract's actions, valid and invalid (see the module docstring).
    Bound to a node, a deployment and its model by `make_machine`."""

    # bound by make_machine: the node, the deployment with its model, the accounts
    node: EvmBackend
    deployed: tuple[Deployment, ModelBackend]
    roles: Roles

    def __init__(self):
        super().__init__()
        d, base_model = self.deployed
        self.snapshot = self.node.snapshot()
        self.s = System(self.node, copy.deepcopy(base_model), d, self.roles)
        self.r = self.roles
        self.users = [self.roles.borrower, self.roles.other, self.roles.keeper]
        self.step_count = 0
        self.checker = Checker(self.s, FULL_CHECK_EVERY)
        # the attacker actor (the `attack` rule): the Auditor sums its whole run
        self.attacker = self.roles.stranger
        self.s.auditor.attacker = self.attacker
        self.stats = StepStats()
        # every step drawn, in order (what a replay on another EVM runs again)
        self._rules_strategy = self._rules_strategy.map(self.stats.drawn)

    def teardown(self):
        raised = sys.exc_info()[1]
        # a failed check; not a stop (stats.StopRun, or Hypothesis's StopTest when it cuts an
        # example short: BaseExceptions), nor Hypothesis's own control flow
        error = (
            raised
            if isinstance(raised, Exception) and not isinstance(raised, HypothesisException)
            else None
        )
        try:
            # the example passed its steps (or was told to stop after one): compare everything
            if raised is None or isinstance(raised, stats.StopRun):
                self.checker.full()
        except Exception as exc:
            error = exc
            raise
        finally:
            self.stats.end_example(self.checker.counts, self.s.spec.checks, error)
            self.node.revert_to(self.snapshot)

    # ---------------------------------------------------- helpers

    def act(self, address, function, sender, *args):
        """Send a transaction that may revert (both sides must agree); counted in OUTCOMES."""
        try:
            self.s.tx(address, function, sender, *args)
            OUTCOMES[f"ok {function}"] += 1
            OUTCOMES[f"ok {self.s.model.names.get(address, '?')}.{function}"] += 1
            if function == "set_waterfall" and self.s.contract(self.s.d.backstop).open_losses():
                OUTCOMES["waterfall changed while losses open"] += 1
            self.stats.sent(ok=True)
            return True
        except Revert as exc:
            OUTCOMES[f"revert {function}: {exc.reason}"] += 1
            self.stats.sent(ok=False)
            return False

    def t(self, name):
        return self.s.d.types[name]

    def _started(self, auction):
        """The id of the auction `auction` started in the last transaction, if any (its `Started`
        event: ids name a slot and its generation, so they are not a count)."""
        ids = [
            e.args["auction_id"]
            for e in self.s.events
            if (e.address, e.name) == (auction, "Started")
        ]
        return ids[0] if ids else None

    def engine(self):
        return self.s.engine()

    def vault(self, name, owner):
        return self.engine().vaults[(self.t(name).type_id, owner)]

    def ctype(self, name):
        return self.engine().collateral_types[self.t(name).type_id]

    def _tokens_for_join(self, name, user, tokens):
        """Governance mints `user` collateral tokens, which `user` approves to the type's join."""
        t = self.t(name)
        self.s.tx(t.token, "mint", self.r.governance, user, tokens)
        self.s.tx(t.token, "approve", user, t.join, tokens)

    def _modify_own(self, name, user, dink, dart):
        """`user` changes its own vault (collateral from and stablecoin to itself)."""
        tid = self.t(name).type_id
        self.act(self.s.d.engine, "modify_vault", user, tid, user, user, user, dink, dart)

    # ---------------------------------------------------- setup: a few vaults to work with

    @initialize(
        amount=st.integers(1, 50), debt_fraction=FRACTION, depth=st.integers(10_000, 2_000_000)
    )
    def open_first_vaults(self, amount, debt_fraction, depth):
        self.stats.record(
            "open_first_vaults", amount=amount, debt_fraction=debt_fraction, depth=depth
        )
        ls = self.s.lockstep
        self.flash = {}
        for name in TYPES:
            seed_pool(ls, self.s.d, self.t(name), self.r.governance, depth * WAD)
            self.flash[name] = deploy_flash_taker(ls, self.s.d, name, self.r.keeper)
            self.s.extra_holders.append(self.flash[name])
        d, gov = self.s.d, self.r.governance
        # a small dust (the devnet's is sized for mainnet gas), so that the machine's vaults of a
        # few ETH can be opened, liquidated and auctioned; rewards are then capped by the
        # auctions' penalty income (DutchAuction._pay_reward), which the fuzz exercises
        for name in TYPES:
            self.s.tx(d.engine, "set_dust", gov, self.t(name).type_id, 100 * RAD)
        # small debt and surplus auctions, so that they happen within an example
        self.s.tx(d.backstop, "set_auction_parameters", gov, 0, 100 * RAD, 1_000 * RAD)
        self.s.tx(
            d.debt_auction,
            "set_parameters",
            gov,
            100 * WAD,
            105 * WAD // 100,
            150 * WAD // 100,
            3600,
            86400,
        )
        for user in self.users:
            # stakers, debt-auction bidders and settlement redeemers pay from internal balances;
            # surplus-auction bidders with governance tokens
            for spender in (d.stability_pool, d.debt_auction, d.settlement):
                self.s.tx(d.engine, "allow", user, spender)
            self.s.tx(d.governance_token, "mint", gov, user, 1_000 * WAD)
            self.s.tx(d.governance_token, "approve", user, d.surplus_auction, MAX_UINT256)
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
            self._modify_own(name, user, tokens * scale, dart)

    # ---------------------------------------------------- collateral in and out

    @rule(user_i=st.integers(0, 2), name=st.sampled_from(TYPES), amount=st.integers(0, 10**22))
    def fund(self, user_i, name, amount):
        t = self.t(name)
        self._tokens_for_join(name, self.users[user_i], amount)
        self.act(t.join, "join", self.users[user_i], self.users[user_i], amount)

    @rule(user_i=st.integers(0, 2), name=st.sampled_from(TYPES), frac=FRACTION, nudge=NUDGE)
    def exit_collateral(self, user_i, name, frac, nudge):
        t = self.t(name)
        scale = 10 ** (18 - t.config.token_decimals)
        free = self.engine().collateral[(t.type_id, self.users[user_i])] // scale
        self.act(
            t.join,
            "exit",
            self.users[user_i],
            self.users[user_i],
            max(0, free * frac // 10**6 + nudge),
        )

    # ---------------------------------------------------- vaults

    @rule(
        owner_i=st.integers(0, 2),
        sender_i=st.sampled_from([0, 0, 0, 1]),
        name=st.sampled_from(TYPES),
        coll_mode=st.sampled_from(["none", "lock", "free", "any"]),
        coll_frac=FRACTION,
        debt_mode=st.sampled_from(
            ["none", "draw", "draw_max", "repay", "repay_all", "dust", "any"]
        ),
        debt_frac=FRACTION,
        nudge=NUDGE,
        raw=st.integers(-(10**24), 10**24),
    )
    def modify_vault(
        self, owner_i, sender_i, name, coll_mode, coll_frac, debt_mode, debt_frac, nudge, raw
    ):
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
        self.act(
            self.s.d.engine, "modify_vault", sender, t.type_id, owner, owner, owner, dink, dart
        )

    @rule(
        user_i=st.integers(0, 2),
        name=st.sampled_from(TYPES),
        tokens=st.integers(0, 10**22),
        allow=st.sampled_from([True, True, True, False]),
        debt_mode=st.sampled_from(["none", "draw", "draw_max", "repay", "any"]),
        debt_frac=FRACTION,
        nudge=NUDGE,
        raw=st.integers(-(10**24), 10**24),
    )
    def join_and_modify(self, user_i, name, tokens, allow, debt_mode, debt_frac, nudge, raw):
        """The one-transaction entry: tokens in, all locked, debt drawn or repaid; sometimes by
        a user who has not allowed the join in the engine (the engine refuses a draw or a repay,
        not the lock alone)."""
        user, t = self.users[user_i], self.t(name)
        self._tokens_for_join(name, user, tokens)
        self.act(self.s.d.engine, "allow" if allow else "disallow", user, t.join)
        vault, ctype = self.vault(name, user), self.ctype(name)
        locked = vault.collateral + tokens * 10 ** (18 - t.config.token_decimals)
        headroom = locked * ctype.safe_price - vault.normalized_debt * ctype.rate
        max_dart = max(0, headroom) // ctype.rate
        dart = {
            "none": 0,
            "draw": max_dart * debt_frac // 10**6 + nudge,
            "draw_max": max_dart + nudge,
            "repay": -(vault.normalized_debt * debt_frac // 10**6) + nudge,
            "any": raw,
        }[debt_mode]
        self.act(t.join, "join_and_modify", user, tokens, dart)

    @rule(owner_i=st.integers(0, 2), delegate_i=st.integers(0, 2), allow=st.booleans())
    def delegate(self, owner_i, delegate_i, allow):
        self.act(
            self.s.d.engine,
            "allow" if allow else "disallow",
            self.users[owner_i],
            self.users[delegate_i],
        )

    @rule(
        sender_i=st.integers(0, 2),
        src_i=st.integers(0, 2),
        dst_i=st.integers(0, 2),
        name=st.sampled_from(TYPES),
        frac=FRACTION,
        nudge=NUDGE,
    )
    def transfer_collateral(self, sender_i, src_i, dst_i, name, frac, nudge):
        t = self.t(name)
        src = self.users[src_i]
        amount = max(0, self.engine().collateral[(t.type_id, src)] * frac // 10**6 + nudge)
        self.act(
            self.s.d.engine,
            "transfer_collateral",
            self.users[sender_i],
            t.type_id,
            src,
            self.users[dst_i],
            amount,
        )

    @rule(
        sender_i=st.integers(0, 2),
        src_i=st.integers(0, 2),
        dst_i=st.integers(0, 2),
        frac=FRACTION,
        nudge=NUDGE,
    )
    def transfer_stable(self, sender_i, src_i, dst_i, frac, nudge):
        src = self.users[src_i]
        amount = max(0, self.engine().stable[src] * frac // 10**6 + nudge)
        self.act(
            self.s.d.engine, "transfer_stable", self.users[sender_i], src, self.users[dst_i], amount
        )

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

    @rule(
        token_i=st.integers(0, 1),
        owner_i=st.integers(0, 2),
        spender_i=st.integers(0, 2),
        sender_i=st.integers(0, 2),
        value=st.one_of(st.integers(0, 10**24), st.just(MAX_UINT256)),
        case=st.sampled_from(PERMIT_CASES),
    )
    def permit(self, token_i, owner_i, spender_i, sender_i, value, case):
        """An EIP-2612 permit signed by a wallet (eth-account) for the stablecoin or the
        governance token: valid, or expired, signed by another account, replaying a used nonce,
        or signed for the other token. A valid one must succeed (the allowance is the signed
        value and the nonce moves on: the state comparison sees both), a broken one must fail
        with its reason, on both sides."""
        d = self.s.d
        tokens = (d.stablecoin, d.governance_token)
        token, other = tokens[token_i], tokens[1 - token_i]
        owner, spender = self.users[owner_i], self.users[spender_i]
        nonce = self.s.contract(token).nonces[owner]
        # the block the permit is mined in (a warp may have moved it on)
        mined_at = self.s.model.next_block_time
        deadline = mined_at - 1 if case == "expired" else mined_at + 3600
        signer = self.users[(owner_i + 1) % 3] if case == "wrong_signer" else owner
        signed_nonce = nonce - 1 if case == "replayed" and nonce > 0 else nonce
        domain = other if case == "other_token" else token
        signed = sign_permit(
            dev_key(signer),
            self.s.contract(domain).name,
            self.s.chain.chain_id,
            domain,
            owner,
            spender,
            value,
            signed_nonce,
            deadline,
        )
        args = (owner, spender, value, deadline, *signed)
        ok = self.act(token, "permit", self.users[sender_i], *args)
        valid = case == "valid" or (case == "replayed" and nonce == 0)
        if ok != valid:
            raise SpecViolation(f"permit ({case}, nonce {nonce}) {'succeeded' if ok else 'failed'}")
        if ok and self.s.contract(token).allowance[(owner, spender)] != value:
            raise SpecViolation(f"permit of {value} left another allowance")

    # ---------------------------------------------------- prices and time

    @rule(
        name=st.sampled_from(TYPES),
        # per mille of the oracle's reference (queued price, else current): mostly within its
        # bound on a post (max_change), sometimes beyond it; or an absolute price, or 0
        move=st.one_of(st.integers(-600, 600), st.integers(-1000, 3000)),
        absolute=st.one_of(st.none(), st.just(0), st.integers(1, 100_000 * WAD)),
        by_stranger=st.booleans(),
    )
    def post_price(self, name, move, absolute, by_stranger):
        sender = self.r.stranger if by_stranger else self.r.feeder
        oracle = self.s.model.contract(self.t(name).oracle)
        reference = oracle.next_price or oracle.current_price
        price = absolute if absolute is not None or reference == 0 else 0
        if absolute is None and reference != 0:
            price = max(1, reference * (1000 + move) // 1000)
        self.act(self.t(name).oracle, "post", sender, price or 0)

    @rule(name=st.sampled_from(TYPES), spot=st.booleans())
    def poke(self, name, spot):
        self.act(self.t(name).oracle, "poke", self.r.keeper)
        if spot:
            self.act(self.s.d.spotter, "poke", self.r.keeper, self.t(name).type_id)

    @rule(
        seconds=st.one_of(
            st.integers(1, 4000),
            st.integers(1, 4000),
            st.integers(4000, 3 * 86400),
            st.integers(3 * 86400, 400 * 86400),
        )
    )
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
        return [
            o
            for o in owners
            if self.vault(name, o).collateral * ct.safe_price
            < self.vault(name, o).normalized_debt * ct.rate
        ]

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

    def _any_auction(self):
        return any(self.s.contract(self.t(name).auction).active for name in TYPES)

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

    def _sell_below_debt(self, name, auction_id, taker_i, then_cover):
        t = self.t(name)
        auction = self.s.contract(t.auction)
        if auction._needs_reset(auction.auctions[auction_id]):
            if not self.s.contract(t.oracle).peek()[1]:
                self.crash(name, 100)
            self.act(t.auction, "reset", self.r.keeper, auction_id, self.r.keeper)
        a = auction.auctions[auction_id]
        debt = self.s.contract(self.s.d.backstop).losses[(t.type_id, t.auction, auction_id)].debt
        taker = self.users[taker_i]
        short = debt - self.engine().stable[taker]  # the lot will cost less than the debt
        if short > 0:
            self.act(
                self.s.d.engine,
                "create_unbacked",
                self.r.governance,
                self.r.governance,
                taker,
                short,
            )
        when = self.s.now + 1
        while True:
            price = price_curves.price(auction.curve, a.top, when - a.started)
            if (
                when - a.started > auction.max_duration
                or price * RAY // a.top < auction.max_drop
                or price == 0
            ):
                return
            if price * a.lot < debt:
                break
            when += 60
        self.s.warp(when - self.s.now)
        self.act(t.auction, "take", taker, auction_id, a.lot, price, taker, b"")
        loss = self.s.contract(self.s.d.backstop).losses[(t.type_id, t.auction, auction_id)]
        if then_cover and loss.status == LossStatus.CLOSED:
            # and, once the queue delay has passed, the waterfall covers it
            self.s.warp(
                max(
                    1, loss.created_at + self.s.contract(self.s.d.backstop).queue_delay - self.s.now
                )
            )
            self.act(self.s.d.backstop, "cover", self.r.keeper, t.type_id, t.auction, auction_id)

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

    def _auction_id(self, name, pick):
        active = self.s.contract(self.t(name).auction).active
        return active[pick % len(active)] if active else pick % 3 + 1

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

    # ---------------------------------------------------- the collateral pools

    @rule(
        name=st.sampled_from(TYPES),
        user_i=st.integers(0, 2),
        collateral_in=st.booleans(),
        frac=FRACTION,
        tight=st.booleans(),
    )
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
            stable = (
                coll * pool.reserve_stable // pool.reserve_collateral
                if pool.reserve_collateral
                else 0
            )
            self.act(t.pool, "add_liquidity", user, coll, stable, 0)
        else:
            self.act(t.pool, "remove_liquidity", user, pool.shares[user] * frac // 10**6, 0, 0)

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

    # ---------------------------------------------------- the loss waterfall

    def _pool(self):
        return self.s.contract(self.s.d.stability_pool)

    def _finish_losses(self):
        """Sell out every running auction at its price (resetting it first if it must be; the
        keeper, lent what it lacks) and cover every closed loss once the queue delay has passed:
        every loss event done, unless a transaction reverts (the step goes on)."""
        keeper = self.r.keeper
        for name in TYPES:
            t = self.t(name)
            auction = self.s.contract(t.auction)
            for auction_id in list(auction.active):
                a = auction.auctions[auction_id]
                if auction._needs_reset(a):
                    if not self.s.contract(t.oracle).peek()[1]:
                        self.crash(name, 100)
                    self.act(t.auction, "reset", keeper, auction_id, keeper)
                    a = auction.auctions[auction_id]
                if a.lot == 0:
                    continue
                self._stable_for(keeper, a.debt)
                price = auction._price(a)
                self.act(t.auction, "take", keeper, auction_id, a.lot, price, keeper, b"")
        if self._closed_losses():
            self.s.warp(self.s.contract(self.s.d.backstop).queue_delay)
        for key in self._closed_losses():
            self.act(self.s.d.backstop, "cover", keeper, *key)

    def _closed_losses(self):
        b = self.s.contract(self.s.d.backstop)
        return sorted(
            (k for k, loss in b.losses.items() if loss.status == LossStatus.CLOSED),
            key=lambda k: (k[2], k[1]),
        )

    @rule(user_i=st.integers(0, 2), frac=FRACTION, nudge=NUDGE)
    def stake(self, user_i, frac, nudge):
        user = self.users[user_i]
        self.act(
            self.s.d.stability_pool,
            "stake",
            user,
            max(0, self.engine().stable[user] * frac // 10**6 + nudge),
        )

    def _any_staker(self):
        pool = self._pool()
        return any(pool.shares[u] or pool.pending[u] for u in self.users)

    @precondition(lambda self: self._any_staker())
    @rule(
        user_i=st.integers(0, 2),
        sender_i=st.integers(0, 2),
        frac=FRACTION,
        wait=st.sampled_from(["no", "exposure_delay", "cooldown"]),
        action=st.sampled_from(
            [
                "request",
                "request",
                "withdraw",
                "withdraw",
                "cancel_withdrawal",
                "cancel_pending",
                "activate",
                "realize",
            ]
        ),
    )
    def pool_exit(self, user_i, sender_i, frac, wait, action):
        """A staker's way out (and in): request, wait out the cooldown (or only the exposure
        delay), withdraw; pending stakes activated by their staker or taken back; charges
        realized (by anyone)."""
        user, pool = self.users[user_i], self._pool()
        if wait != "no":
            self.s.warp(getattr(pool, wait))
        if action == "request":
            self.act(
                self.s.d.stability_pool,
                "request_withdrawal",
                user,
                pool.shares[user] * frac // 10**6,
            )
        elif action == "withdraw":
            self.act(self.s.d.stability_pool, "withdraw", user)
        elif action == "cancel_withdrawal":
            self.act(self.s.d.stability_pool, "cancel_withdrawal", user)
        elif action == "cancel_pending":
            self.act(self.s.d.stability_pool, "cancel_pending", user)
        elif action == "activate":
            self.act(self.s.d.stability_pool, "activate", user)
        else:
            self.act(self.s.d.stability_pool, "realize", self.users[sender_i], user, frac % 4)

    @rule(
        user_i=st.integers(0, 2),
        stake=st.sampled_from(["below_min", "some"]),
        frac=FRACTION,
        keep=st.sampled_from(["nothing", "below_min", "min", "some"]),
        at=st.sampled_from(["matured", "last_second", "last_second", "lapsed"]),
        settle=st.booleans(),
    )
    def pool_story(self, user_i, stake, frac, keep, at, settle):
        """A staker's way through the stability pool in one step, along its edges, so that every
        profile reaches them whatever the other rules did: a stake (worth less than MIN_SHARES
        when `below_min`: for a staker without shares its activation must fail), activated after
        the exposure delay, both types' fees accrued while the pool has shares (the pool's share
        rounded down), a withdrawal request that keeps nothing, one share less than MIN_SHARES
        (it must fail), exactly MIN_SHARES or some part, fees accrued again while the request
        waits (income it forfeits to the Backstop), and the withdrawal when the request matures,
        at its exit window's last second (inside it) or the second after (lapsed).
        Each transaction may revert (open losses, say): the step goes on. With `settle`, every
        loss event is first brought to its end (`_finish_losses`), so that the activation and
        the withdrawal are not refused for open losses (in the liquidations machine some auction
        is nearly always running)."""
        pool, sp, keeper = self._pool(), self.s.d.stability_pool, self.r.keeper
        user = self.users[user_i]
        if settle:
            self._finish_losses()
        if stake == "below_min":
            amount = max(1, MIN_SHARES * frac // 10**6 - 1)
        else:
            amount = MIN_SHARES + MIN_SHARES * frac // 1000
        self._stable_for(user, amount)
        self.act(sp, "stake", user, amount)
        self.s.warp(pool.exposure_delay)
        self.act(sp, "realize", keeper, user, 255)
        self.act(sp, "activate", user)
        self.s.warp(3600)
        for name in TYPES:
            self.act(self.s.d.fees, "accrue", keeper, self.t(name).type_id)
        shares = pool.shares[user]
        requested = {
            "nothing": shares,
            "below_min": shares - MIN_SHARES + 1,
            "min": shares - MIN_SHARES,
            "some": shares * frac // 10**6,
        }[keep]
        self.act(sp, "request_withdrawal", user, max(0, requested))
        if not pool.withdrawal_shares[user]:
            return
        matured = pool.withdrawal_at[user] + max(pool.cooldown, pool.exposure_delay)
        window = pool.exit_window
        when = matured + {"matured": 0, "last_second": window, "lapsed": window + 1}[at]
        self.act(sp, "realize", keeper, user, 255)
        # income while the request waits, which the requested shares forfeit to the Backstop:
        # accrued a few seconds before `when`, so that the withdrawal is still sent at `when`
        # exactly (each transaction takes a block, a second later than the one before)
        if when - len(TYPES) - 1 > self.s.now:
            self.s.warp(when - len(TYPES) - 1 - self.s.now)
            for name in TYPES:
                self.act(self.s.d.fees, "accrue", keeper, self.t(name).type_id)
        if when > self.s.now:
            self.s.warp(when - self.s.now)
        self.act(sp, "withdraw", user)

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
        mode=st.sampled_from(["start", "bid", "bid", "restart", "finish", "cancel"]),
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

    # ---------------------------------------------------- governance (valid and invalid)

    @rule(
        name=st.sampled_from(TYPES),
        move=st.sampled_from(["dust", "penalty", "reward", "limits", "ceiling"]),
        pick=st.integers(0, 10**6),
    )
    def governance_move(self, name, move, pick):
        """Governance changes a liquidation parameter in the middle of an example, within the
        ranges the config loader accepts, with vaults, auctions and losses open (issue 31): the
        dust (0 to 5,000: above or below the machine's vaults), the penalty (1 to 2 on its
        1e-7 grid, the cap kept), the keeper reward (rate to 10%, flat to 500), the auction's
        buffer, max duration and max drop, or the automatic ceiling's gap and cooldown. No
        setter may need a follow-up call: the fuzz makes none."""
        t, gov = self.t(name), self.r.governance
        tid = t.type_id
        if move == "dust":
            self.act(self.s.d.engine, "set_dust", gov, tid, pick % 5_001 * RAD)
        elif move == "penalty":
            cap = self.s.contract(self.s.d.liquidator).types[tid].max_debt_in_auction
            penalty = WAD + pick % 10_001 * 10**14
            self.act(self.s.d.liquidator, "configure_type", gov, tid, t.auction, penalty, cap)
        elif move in ("reward", "limits"):
            a = self.s.contract(t.auction)
            params = [a.buffer, a.max_duration, a.max_drop, a.reward_rate, a.reward_flat]
            if move == "reward":
                params[3:] = [pick % 1_001 * WAD // 10_000, pick % 501 * RAD]
            else:
                params[:3] = [
                    RAY + pick % 501 * RAY // 1_000,
                    600 + pick % 7_801,
                    RAY * 3 // 10 + pick % 601 * RAY // 1_000,
                ]
            self.act(t.auction, "set_parameters", gov, *params)
        else:
            config = self.s.contract(self.s.d.ceiling).configs[tid]
            max_ceiling = config.max_ceiling or 10**8 * RAD
            gap = min(max_ceiling, 1_000 * RAD + pick % 1_000 * 10_000 * RAD)
            self.act(self.s.d.ceiling, "configure", gov, tid, max_ceiling, gap, pick % 86_401)
        OUTCOMES[f"governance {move}"] += 1

    @rule(
        name=st.sampled_from(TYPES),
        which=st.sampled_from(["ceiling", "dust", "global"]),
        value=st.one_of(st.integers(0, 10**8 * RAD), st.sampled_from([0, 1, 10**6 * RAD])),
        by_stranger=st.booleans(),
    )
    def set_limit(self, name, which, value, by_stranger):
        sender = self.r.stranger if by_stranger else self.r.governance
        tid = self.t(name).type_id
        if which == "global":
            self.act(self.s.d.engine, "set_global_debt_ceiling", sender, value)
        else:
            self.act(
                self.s.d.engine,
                "set_debt_ceiling" if which == "ceiling" else "set_dust",
                sender,
                tid,
                value,
            )

    @rule(
        name=st.sampled_from(TYPES),
        fee=st.one_of(st.integers(RAY, MAX_BASE_FEE), st.sampled_from([RAY - 1, MAX_BASE_FEE + 1])),
        kink=st.integers(0, WAD),
        mult=st.integers(WAD - 1, 10 * WAD + 1),
        by_stranger=st.booleans(),
        which=st.sampled_from(["fee", "multiplier"]),
    )
    def set_fee(self, name, fee, kink, mult, by_stranger, which):
        sender = self.r.stranger if by_stranger else self.r.governance
        tid = self.t(name).type_id
        if which == "fee":
            self.act(self.s.d.fees, "set_base_fee", sender, tid, fee)
        else:
            self.act(self.s.d.fees, "set_multiplier", sender, tid, kink, mult)

    @rule(
        name=st.sampled_from(TYPES),
        max_ceiling=st.integers(0, 10**8 * RAD),
        gap=st.integers(0, 10**7 * RAD),
        cooldown=st.integers(0, 86400),
        by_stranger=st.booleans(),
    )
    def configure_ceiling(self, name, max_ceiling, gap, cooldown, by_stranger):
        sender = self.r.stranger if by_stranger else self.r.governance
        self.act(
            self.s.d.ceiling, "configure", sender, self.t(name).type_id, max_ceiling, gap, cooldown
        )

    @rule(
        owner_i=st.integers(0, 2),
        name=st.sampled_from(TYPES),
        frac=FRACTION,
        by_stranger=st.booleans(),
    )
    def seize(self, owner_i, name, frac, by_stranger):
        """Governance (authorized) seizes part of a vault: collateral to the keeper's free
        balance, debt to governance's bad debt, as a liquidation will."""
        owner = self.users[owner_i]
        vault = self.vault(name, owner)
        sender = self.r.stranger if by_stranger else self.r.governance
        self.act(
            self.s.d.engine,
            "seize",
            sender,
            self.t(name).type_id,
            owner,
            self.r.keeper,
            self.r.governance,
            -(vault.collateral * frac // 10**6),
            -(vault.normalized_debt * frac // 10**6),
        )

    @rule(amount=st.integers(0, 10**6 * RAD), to_i=st.integers(0, 2))
    def create_unbacked(self, amount, to_i):
        self.act(
            self.s.d.engine,
            "create_unbacked",
            self.r.governance,
            self.r.governance,
            self.users[to_i],
            amount,
        )

    @rule(frac=FRACTION, nudge=NUDGE, payer_i=st.integers(0, 2))
    def settle(self, frac, nudge, payer_i):
        """Governance gathers stablecoin from a user (who delegated or not) and settles bad debt."""
        e = self.engine()
        payer = self.users[payer_i]
        self.act(
            self.s.d.engine,
            "transfer_stable",
            payer,
            payer,
            self.r.governance,
            e.stable[payer] * frac // 10**6,
        )
        amount = max(
            0,
            min(e.bad_debt[self.r.governance], e.stable[self.r.governance]) * frac // 10**6 + nudge,
        )
        self.act(self.s.d.engine, "settle", self.r.governance, amount)

    # ---------------------------------------------------- stories: the waterfall's deep end
    # Each plays a whole sequence in one step, so that every profile (the derandomized `ci` too)
    # reaches it whatever the other rules did; each transaction may revert and the step goes on.

    def _stable_for(self, user, amount):
        """Governance lends `user` what it lacks of `amount` [rad] internally (unbacked debt)."""
        short = amount - self.engine().stable[user]
        if short > 0:
            self.act(
                self.s.d.engine,
                "create_unbacked",
                self.r.governance,
                self.r.governance,
                user,
                short,
            )

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
        and then a nearly empty fund (issue 31). Each transaction may revert: the step goes
        on."""
        getattr(self, f"_{which}_story")(name, user_i, frac)

    def _dust_close_story(self, name, user_i, frac):
        """Issue 31: a vault of just over the dust, at 95% of its limit, owned by the first user
        (or the attacker) with no vault of the type. With an odd `frac` the dust is then raised
        30-fold and the price falls a third: its auction is "dust" while its lot covers its debt
        (a healthy vault's write-off: every close must be refused); else the price falls 70%,
        below the debt. Liquidated; the owner tries to close it at once (refused: the curve has
        not ended), then after max_duration, with the oracle's price brought up to date: allowed
        only for the underwater lot, which goes to the Backstop, not to the owner."""
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
        self.crash(name, 66 if healthy else 30)
        if not self.act(self.s.d.liquidator, "liquidate", self.r.keeper, t.type_id, owner, owner):
            return
        auction_id = self._started(t.auction)
        self.act(t.auction, "close_dust_auction", owner, auction_id)
        self.s.warp(self.s.contract(t.auction).max_duration + 1)
        self.crash(name, 100)
        if self.act(t.auction, "close_dust_auction", owner, auction_id):
            OUTCOMES["dust close (story)"] += 1

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
            OUTCOMES["partial take after a penalty change (story)"] += 1

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
            OUTCOMES["pool then fund (story)"] += 1

    def _start_auction(self, name, user_i):
        """The user's vault drawn to 95% of its limit (10 more tokens locked), a fall of a
        third, and the vault liquidated: the new auction's id, or None if any of it reverted."""
        t, user, gov = self.t(name), self.users[user_i], self.r.governance
        auction = self.s.contract(t.auction)
        if auction.stopped:
            self.act(t.auction, "set_stopped", gov, 0)
        if not self.s.contract(t.oracle).peek()[1]:
            self.crash(name, 100)
        ct, vault = self.ctype(name), self.vault(name, user)
        tokens = 10 * 10**t.config.token_decimals
        collateral = vault.collateral + tokens * 10 ** (18 - t.config.token_decimals)
        dart = max(0, collateral * ct.safe_price // ct.rate * 95 // 100 - vault.normalized_debt)
        self._tokens_for_join(name, user, tokens)
        self.act(self.s.d.engine, "allow", user, t.join)
        self.act(t.join, "join_and_modify", user, tokens, dart)
        self.crash(name, 66)
        if user not in self._unsafe_owners(name):
            return None
        if not self.act(
            self.s.d.liquidator, "liquidate", self.r.keeper, t.type_id, user, self.r.keeper
        ):
            return None
        return self._started(t.auction)

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
        if not self.s.contract(self.s.d.backstop).open_losses():
            # a loss event open at shutdown, so that the stranger's settle below meets one
            self._start_auction(TYPES[user_i % len(TYPES)], user_i)
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

    # ---------------------------------------------------- after every step

    @invariant()
    def chain_equals_model_and_invariants_hold(self):
        self.checker.after_step()
        self.stats.checked()
        STEPS["checked"] += 1
        self.step_count += 1
        stats.check_stop()

    @rule(
        shape=st.sampled_from(SHAPES),
        name=st.sampled_from(TYPES),
        tokens=st.integers(1, 40),
        draw=st.sampled_from([0, 250_000, 500_000, 900_000]),
    )
    def attack(self, shape, name, tokens, draw):
        """The attacker actor (offchain/sim/attacker.py) tries one known attack shape: first it
        gets what the shape needs (collateral tokens, some joined; a vault drawn to `draw` per
        million of its limit, for shapes that need stablecoin; pool shares and a drop queued in
        the oracle for the pool escape), then it sends the plan the state allows, each
        transaction possibly reverting. The Auditor sums the attacker's gains and listed income
        over the whole run after every transaction, whoever sends it: the attack must never
        pay beyond that income."""
        plan = stage_and_attack(
            self.s, self.act, self.attacker, shape, name, tokens, draw, self.flash
        )
        if plan is not None:
            OUTCOMES[f"attack {shape}"] += 1

    @rule(seconds=st.sampled_from([1, 30, 90, 300, 900, 1800, 3600]))
    def short_warp(self, seconds):
        self.s.warp(seconds)


# the liquidation story's rules
_LIQUIDATION_RULES = {
    "fund",
    "modify_vault",
    "short_warp",
    "accrue",
    "crash",
    "liquidate",
    "liquidate_unsafe",
    "take_running",
    "liquidate_many",
    "take",
    "flash_take",
    "reset",
    "circuit_breaker",
    "set_auction_cap",
    "set_curve",
    "swap",
    "liquidity",
    "backstop",
    "stable_exit",
    "transfer_stable",
    "poke",
    "delegate",
    "stake",
    "pool_exit",
    "pool_story",
    "cover",
    "set_waterfall",
    "debt_auction",
    "sell_out_below_debt",
    "liquidation_story",
    "debt_auction_story",
    "edge_story",
    "attack",
    "governance_move",
}


class LiquidationFocus(Differential):
    """The same machine with only the rules of the liquidation story, so that sequences like
    crash -> liquidate -> take / reset -> settle are dense instead of rare."""


def _hide_rules(machine: type[RuleBasedStateMachine], keep: set[str]) -> None:
    """Hide every inherited rule of `machine` not named in `keep`."""
    for name in dir(machine):
        if (
            getattr(getattr(machine, name), "hypothesis_stateful_rule", None) is not None
            and name not in keep
        ):
            setattr(machine, name, None)


_hide_rules(LiquidationFocus, _LIQUIDATION_RULES)


# the machines by kind (make_machine)
MACHINES = ("full", "liquidations")


def make_machine(
    node: EvmBackend, deployed: tuple[Deployment, ModelBackend], roles: Roles, kind: str = "full"
) -> type[Differential]:
    """The state machine class (`"full"` or `"liquidations"`) bound to a node and a deployment
    (used by the tests and the benchmark)."""
    base = {"full": Differential, "liquidations": LiquidationFocus}[kind]
    return type(base.__name__, (base,), {"node": node, "deployed": deployed, "roles": roles})
