"""The first-loss stability pool: stakes, pending stakes, withdrawal requests and withdrawals
(also at the minimum shares and the exit window's last second), realizations."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from offchain.model.stability_pool import MIN_SHARES
from offchain.testing.machine.base import FRACTION, NUDGE, TYPES, MachineBase


class StabilityPoolRules(MachineBase):
    """The rules of the stability pool (see the module docstring)."""

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
