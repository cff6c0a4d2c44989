"""Governance: parameter moves while vaults and auctions are live (valid and invalid), limits,
fees and the automatic ceiling's configuration, and privileged calls from accounts that are
not allowed."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import rule

from offchain.model.fee_accumulator import MAX_BASE_FEE
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.machine.base import TYPES, MachineBase


class GovernanceRules(MachineBase):
    """The rules of governance (see the module docstring)."""

    @rule(
        name=st.sampled_from(TYPES),
        move=st.sampled_from(
            ["dust", "penalty", "reward", "limits", "ceiling", "size", "threshold_dust"]
        ),
        pick=st.integers(0, 10**6),
    )
    def governance_move(self, name, move, pick):
        """Governance changes a liquidation parameter in the middle of an example, within the
        ranges the config loader accepts, with vaults, auctions and losses open (issue 31): the
        dust (0 to 5,000: above or below the machine's vaults), the penalty (1 to 2 on its
        1e-7 grid, the cap kept), the keeper reward (rate to 10%, flat to 500), the auction's
        buffer, max duration and max drop, the automatic ceiling's gap and cooldown, or the size
        margin (issue 35: a threshold of 1,000 to 50,000 BUSD, so that the machine's vaults sit
        on both sides of it, any slope and cap in bounds, one pick in eight off; one in
        sixteen out of bounds, refused), or the size threshold and the dust moved against each
        other (issue 45, finding 4: the dust to just above, at or below the threshold, or a
        threshold just below, at or above the dust: the engine refuses a threshold below the
        dust in either order). No setter may need a follow-up call: the fuzz makes none."""
        t, gov = self.t(name), self.r.governance
        tid = t.type_id
        if move == "dust":
            self.act(self.s.d.engine, "set_dust", gov, tid, pick % 5_001 * RAD)
        elif move == "penalty":
            cap = self.s.contract(self.s.d.liquidator).types[tid].max_debt_in_auction
            penalty = WAD + pick % 10_001 * 10**14
            self.act(self.s.d.liquidator, "configure_type", gov, tid, t.auction, penalty, cap)
        elif move == "size":
            size = (1_000 + pick % 49_001, 1 + pick % 1_000_000, 1 + pick * 7 % 1_000_000)
            if pick % 8 == 0:
                size = (0, 0, 0)
            elif pick % 16 == 1:
                size = (size[0], 0, size[2])  # a slope of 0 with a threshold: refused
            self.act(self.s.d.engine, "set_size_margin", gov, tid, *size)
        elif move == "threshold_dust":
            self._threshold_dust_move(tid, pick)
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
        self.totals.outcomes[f"governance {move}"] += 1

    def _threshold_dust_move(self, tid: bytes, pick: int) -> None:
        """One of the pair moved to the other's edge: -1, 0 or +1 whole stablecoin (a wei for
        the dust) around it; with no size margin, one is set at the dust's edge."""
        engine, gov = self.s.engine(), self.r.governance
        threshold, slope, cap = engine.size_margin(tid)
        dust = engine.collateral_types[tid].dust
        step = pick % 3 - 1
        if threshold and pick % 2:
            self.act(self.s.d.engine, "set_dust", gov, tid, max(0, threshold * RAD + step))
        else:
            edge = max(1, -(-dust // RAD) + step)
            size = (edge, slope or 100_000, cap or 500_000)
            self.act(self.s.d.engine, "set_size_margin", gov, tid, *size)

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

    # governance's queue (issue 66): a Timelock beside the direct admin, deployed at its first
    # use in an example, with a delay and a grace short enough for an example's warps
    QUEUE_DELAY, QUEUE_GRACE = 3_600, 86_400

    def queue_timelock(self) -> str:
        """The example's Timelock (governance its proposer, `other` its guardian, the
        settlement's shutdown its end), deployed and made an admin of the Spotter, the engine,
        the Liquidator and the Backstop the first time it is asked for."""
        timelock = getattr(self, "_timelock", None)
        if timelock is None:
            gov = self.r.governance
            timelock = self.s.lockstep.deploy(
                "Timelock",
                gov,
                gov,
                self.r.other,
                self.QUEUE_DELAY,
                self.QUEUE_GRACE,
                self.s.d.settlement,
            )
            self._timelock = timelock
            self.s.extra_holders.append(timelock)
            d = self.s.d
            for admin in (d.spotter, d.engine, d.liquidator, d.backstop):
                self.s.tx(admin, "add_authority", gov, timelock)
        return timelock

    @rule(
        action=st.sampled_from(
            [
                "propose",
                "propose",
                "execute",
                "execute",
                "execute_early",
                "execute_late",
                "execute_again",
                "execute_cancelled",
                "execute_other_calls",
                "execute_stranger",
                "cancel",
                "cancel_guardian",
                "cancel_stranger",
            ]
        ),
        pick=st.integers(0, 10**6),
    )
    def governance_queue(self, action, pick):
        """Governance through the Timelock's queue (issue 66): the Timelock (governance its
        proposer, `other` its guardian, a 1-hour delay, a day's grace) is an admin of the
        Spotter, the engine, the Liquidator and the Backstop beside governance's key. Governance
        queues one to three changes drawn from a liquidation ratio, a dust, a penalty and a
        rotation of the waterfall (a stranger's proposal refused); a queued proposal is run at
        its eta or later within its grace, or refused: at once when queued (before its eta),
        after its grace (once the example's time has passed it: the rule warps at most to an
        eta), again once executed, once cancelled, with other calls, by a stranger; the proposer
        or the guardian cancels one (a stranger refused). A proposal just executed, or just
        cancelled, is always executed again at once (refused). The Specification's queue bound
        (offchain/testing/specification/timelock.py) is checked on each."""
        gov = self.r.governance
        timelock = self.queue_timelock()
        proposals = self.s.contract(timelock).proposals
        by_status: dict[int, list[int]] = {}
        for pid, (_, _, _, status, _) in sorted(proposals.items()):
            by_status.setdefault(status, []).append(pid)
        if action in ("propose", "execute_early") or not proposals:
            sender = self.r.stranger if pick % 16 == 0 and action == "propose" else gov
            calls = self._queue_calls(pick)
            if self.act(timelock, "propose", sender, calls):
                self.totals.outcomes["governance queue: proposed"] += 1
                if action == "execute_early":
                    pid = self.s.contract(timelock).proposal_count
                    self.act(timelock, "execute", gov, pid, calls)
            return
        if action.startswith("cancel"):
            sender = {"cancel": gov, "cancel_guardian": self.r.other}.get(action, self.r.stranger)
            queued = by_status.get(1, [])
            if queued:
                pid = queued[pick % len(queued)]
                if self.act(timelock, "cancel", sender, pid):
                    # at once, whatever was drawn: the cancelled proposal's own calls, refused
                    # (a run of the draws may never pair an `execute_cancelled` with a
                    # cancelled proposal: `timelock-execute-cancelled` survived 52,665 steps)
                    self.act(timelock, "execute", gov, pid, self._queued_calls(timelock, pid))
            return
        status = {"execute_again": 2, "execute_cancelled": 3}.get(action, 1)
        ids = by_status.get(status, [])
        now, then = self.s.now, self.s.model.next_block_time  # the next block's time
        if action == "execute_late":
            # only those the example's own time has taken past their grace: the rule itself
            # warps at most to an eta (an hour), so that it leaves the other rules' auctions
            # and prices as they were
            ids = [i for i in ids if proposals[i][2] < then]
        else:  # those still in their window first
            ids = [i for i in ids if proposals[i][2] >= then] or ids
        if not ids:
            return
        pid = ids[pick % len(ids)]
        _, eta, expires, _, _ = proposals[pid]
        if action != "execute_late" and then < eta:
            self.s.warp(eta - now + pick % 2)  # at the eta, or a second after
        calls = self._queued_calls(timelock, pid)
        if action == "execute_other_calls":
            calls = calls[:-1] + [(calls[-1][0], calls[-1][1] + b"\x00")]
        sender = self.r.stranger if action == "execute_stranger" else gov
        if self.act(timelock, "execute", sender, pid, calls):
            self.totals.outcomes["governance queue: executed"] += 1
            # at once, whatever was drawn: the same execution again, refused (as above, for
            # `timelock-execute-twice`)
            self.act(timelock, "execute", gov, pid, calls)

    def _queue_calls(self, pick):
        """One to three calls for the Timelock, drawn from `pick`: a type's liquidation ratio
        (1.3 to 2), dust (0 to 5,000), penalty (1 to 2, the cap kept) and the waterfall
        rotated by one."""
        d, out = self.s.d, []
        for i in range(1 + pick % 3):
            choice = pick // 3**i
            t = self.t(TYPES[choice % len(TYPES)])
            which = choice // 2 % 4
            if which == 0:
                ratio = RAY * 13 // 10 + choice % 701 * RAY // 1_000
                out.append((d.spotter, "set_liquidation_ratio", (t.type_id, ratio)))
            elif which == 1:
                out.append((d.engine, "set_dust", (t.type_id, choice % 5_001 * RAD)))
            elif which == 2:
                cap = self.s.contract(d.liquidator).types[t.type_id].max_debt_in_auction
                penalty = WAD + choice % 10_001 * 10**14
                out.append((d.liquidator, "configure_type", (t.type_id, t.auction, penalty, cap)))
            else:
                order = list(self.s.contract(d.backstop).get_waterfall())
                out.append((d.backstop, "set_waterfall", (order[1:] + order[:1],)))
        return [(a, self.s.lockstep.calldata(a, f, *args)) for a, f, args in out]

    def _queued_calls(self, timelock, pid):
        """The calls of proposal `pid` as queued, from its CallQueued events in the model."""
        calls = [
            (e.args["index"], e.args["target"], e.args["data"])
            for e in self.s.model.env.logs
            if e.address == timelock and e.name == "CallQueued" and e.args["proposal_id"] == pid
        ]
        return [(target, data) for _, target, data in sorted(calls)]
