"""The differential machine's base: the node, the deployment and its model, the accounts,
the first vaults of every example, the helpers the rule groups share, and the check after every
step (chain == model, invariants, the specification). The rule groups (the other modules of
this package) are mixins of it; offchain/testing/differential.py combines them into the
machines."""

from __future__ import annotations

import copy
import sys

from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from offchain.backends import EvmBackend, ModelBackend
from offchain.model import price_curves
from offchain.model.backstop import LossStatus
from offchain.model.errors import Revert
from offchain.model.fixed_point import MAX_UINT256, RAD, RAY, WAD
from offchain.system.deployment import Deployment, deploy_flash_taker, seed_pool
from offchain.testing import stats
from offchain.testing.checking import Checker
from offchain.testing.harness import Roles, System
from offchain.testing.stats import StepStats, Totals

TYPES = ["ETH-A", "WBTC-A"]
# the complete state is compared every this many steps (and at the end of every example); in
# between, what each step touched (offchain/testing/checking.py; on revm, the storage path: the
# storage after every step, the complete views every checking.STORAGE_VIEWS_EVERY steps of a run)
FULL_CHECK_EVERY = 20
FRACTION = st.integers(min_value=0, max_value=10**6)
NUDGE = st.sampled_from([-2, -1, 0, 0, 0, 1, 2])
# waits to an auction's max_duration: its last second (-1) or the one after (-2)
EDGE_WAITS = st.sampled_from([-1, -2])
# how a permit of the `permit` rule is signed (valid is drawn as often as the broken ones)
PERMIT_CASES = ["valid", "valid", "valid", "expired", "wrong_signer", "replayed", "other_token"]


class MachineBase(RuleBasedStateMachine):
    """The whole system's machine without its rules (see the module docstring). Bound to a
    node, a deployment and its model by `make_machine`."""

    # bound by make_machine: the node, the deployment with its model, the accounts, and the
    # run's counts (every example's machine adds to them)
    node: EvmBackend
    deployed: tuple[Deployment, ModelBackend]
    roles: Roles
    totals: Totals
    # compare storage after every step (None: on revm; offchain/testing/checking.py)
    storage_check: bool | None = None
    # False: no check after a step nor on a transaction (the benchmark's floor: never used to
    # check anything)
    checked: bool = True

    def __init__(self):
        super().__init__()
        d, base_model = self.deployed
        self.snapshot = self.node.snapshot()
        self.s = System(self.node, copy.deepcopy(base_model), d, self.roles, self.checked)
        self.r = self.roles
        self.users = [self.roles.borrower, self.roles.other, self.roles.keeper]
        self.step_count = 0
        self.checker = Checker(
            self.s,
            FULL_CHECK_EVERY,
            storage=self.storage_check,
            run=self.totals,
            checked=self.checked,
        )
        # the attacker actor (the `attack` rule): the Auditor sums its whole run
        self.attacker = self.roles.stranger
        self.s.auditor.attacker = self.attacker
        self.stats = StepStats(self.totals)
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

    def act(self, address, function, sender, *args, gas=None):
        """Send a transaction that may revert (both sides must agree), on the chain with `gas` as
        its limit (None: backends.TX_GAS); counted in the outcomes."""
        try:
            self.s.tx(address, function, sender, *args, gas=gas)
            self.totals.outcomes[f"ok {function}"] += 1
            self.totals.outcomes[f"ok {self.s.model.names.get(address, '?')}.{function}"] += 1
            if function == "set_waterfall" and self.s.contract(self.s.d.backstop).open_losses():
                self.totals.outcomes["waterfall changed while losses open"] += 1
            self.stats.sent(ok=True)
            return True
        except Revert as exc:
            self.totals.outcomes[f"revert {function}: {exc.reason}"] += 1
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
        tid = self.t(name).type_id
        owners = self.users + [self.r.governance]
        return [o for o in owners if not self.engine().is_safe(tid, o)]

    def _max_dart(self, name, collateral, vault):
        """The most normalized debt `vault` may add with `collateral` locked and stay safe at its
        own size (the size margin, issue 35): the draw_max boundary; 0 if none."""
        ct, tid = self.ctype(name), self.t(name).type_id
        value = collateral * ct.safe_price
        low, high = 0, value // ct.rate + 1  # the base limit (no size margin) + 1
        while high - low > 1:
            mid = (low + high) // 2
            if self.engine().margin_debt(tid, mid * ct.rate) <= value:
                low = mid
            else:
                high = mid
        return max(0, low - vault.normalized_debt)

    def _any_auction(self):
        return any(self.s.contract(self.t(name).auction).active for name in TYPES)

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

    def _auction_id(self, name, pick):
        active = self.s.contract(self.t(name).auction).active
        return active[pick % len(active)] if active else pick % 3 + 1

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

    @invariant()
    def chain_equals_model_and_invariants_hold(self):
        self.checker.after_step()
        self.stats.checked()
        self.step_count += 1
        self.totals.check_stop()

    @rule(seconds=st.sampled_from([1, 30, 90, 300, 900, 1800, 3600]))
    def short_warp(self, seconds):
        self.s.warp(seconds)
