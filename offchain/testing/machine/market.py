"""The market around the vaults: price posts (including zero and from strangers), oracle and
spotter pokes, time jumps, fee accrual, ceiling updates, and the collateral pools' swaps and
liquidity."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import rule

from offchain.model.errors import Revert
from offchain.model.fixed_point import WAD
from offchain.testing.machine.base import FRACTION, TYPES, MachineBase


class MarketRules(MachineBase):
    """The rules of the market around the vaults (see the module docstring)."""

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
