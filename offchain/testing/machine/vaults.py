"""Vaults and money in and out: collateral joined and exited, vaults locked, freed, drawn and
repaid (near the safe, dust and ceiling boundaries, and beyond them), delegation, internal
transfers, the stablecoin in and out (with EIP-2612 permits), seizures and unbacked debt."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import rule

from offchain.model.fixed_point import MAX_UINT256, RAD, RAY
from offchain.testing.machine.base import FRACTION, NUDGE, PERMIT_CASES, TYPES, MachineBase
from offchain.testing.permits import dev_key, sign_permit
from offchain.testing.specification import SpecViolation


class VaultRules(MachineBase):
    """The rules of vaults and money in and out (see the module docstring)."""

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
        max_dart = self._max_dart(name, collateral_after, vault)
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
        vault = self.vault(name, user)
        locked = vault.collateral + tokens * 10 ** (18 - t.config.token_decimals)
        max_dart = self._max_dart(name, locked, vault)
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
