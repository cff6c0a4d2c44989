"""The notice bot's strategy: which vaults the delayed oracle's queued price will call or make
unsafe, and when (`ape run keeper --role notifier`, docs/keepers.md#the-notice-bot).

The PriceOracle shows the next price before it takes effect: `poke` makes the queued price
(`next_price`, posted at `next_time`) current and may run once `delay` seconds have passed since
the last poke, so the queued price can become current at `last_poke + delay` at the earliest
(not `next_time + delay`: a post waits for the poke that queues it). Once current it is valid
while the block time is at most `next_time + max_age`; a queued price that is already too old when
it can first become current turns into an invalid price, which the Spotter turns into a safe
price of 0 (every vault with debt unsafe).

Each vault is judged at the queued price by the contracts' own rules, in integers:

- **unsafe** (VaultEngine, with its size margin): margin_debt(D) > C x s
  (offchain/model/size_margin.py);
- **called** (MarginCall.vy): safe, and ceil(margin_debt(D) x warning / RAY) > C x s, only on a
  type with margin calls (parameters set in the MarginCall, an oracle in the Spotter);

with C the vault's collateral [wad], D = normalized debt x rate [rad] at the type's rate now, and
s = floor(price x 1e9 x RAY / liquidation ratio) [ray], the safe price the Spotter's poke would
set. `at_risk` lists every vault called or unsafe at the queued price (from the keepers'
`VaultIndex`, candidates by bisection, each checked exactly), with its status at the current
price too; `track` keeps one notice per vault per queued price (and says when a vault notified
stops being at risk); `NoticeStep` reads the chain through a `World` and emits the lines. Nothing
here sends a transaction. The rules themselves (status, the warning requirement, the safe price)
are the model's (offchain/model/margin_call.py, offchain/model/spotter.py): this module only
reads and reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from offchain.model import size_margin as sizing
from offchain.model.errors import Revert
from offchain.model.fixed_point import RAY, WAD_TO_RAY
from offchain.model.margin_call import CALLED, MAX_PRICE, SAFE, UNSAFE, MarginParameters, status
from offchain.model.spotter import safe_price as poked_safe_price
from offchain.sim.strategies.actions import Action
from offchain.sim.strategies.keepers import VaultIndex
from offchain.sim.strategies.observe import Call, Read
from offchain.sim.strategies.steps import World
from offchain.system.deployment import Deployment, TypeDeployment

__all__ = [
    "CALLED",
    "SAFE",
    "UNSAFE",
    "NoticeStep",
    "NoticeView",
    "QueuedChange",
    "QueuedPrice",
    "Risk",
    "at_risk",
    "changed_risks",
    "collateral_ratio",
    "decimal_text",
    "notice_fields",
    "read_notice_view",
    "safe_price",
    "status",
    "track",
]


def safe_price(price: int, valid: bool, ratio: int) -> int:
    """What Spotter.poke sets for an oracle price [wad] (offchain/model/spotter.py), 0 for an
    invalid price or a missing ratio."""
    return poked_safe_price(price, ratio) if valid and ratio else 0


def collateral_ratio(collateral: int, debt: int, price: int) -> int:
    """The collateral's value at `price` [wad] over the debt [rad], floor [wad]; 0 without debt."""
    return collateral * price * RAY // debt if debt else 0


# ---------------------------------------------------------------- what the chain shows


@dataclass(frozen=True)
class QueuedPrice:
    price: int  # next_price [wad]
    posted_at: int  # next_time: when it was posted [s]
    last_poke: int  # the poke that queued it [s]
    current_at: int  # last_poke + delay: the earliest block time a poke makes it current [s]
    valid: bool  # valid at current_at: non-zero and current_at <= posted_at + max_age

    @property
    def slot(self) -> list[int]:
        """What identifies this queued price (a JSON-able key for the checkpoint)."""
        return [self.last_poke, self.price, self.posted_at]


@dataclass(frozen=True)
class NoticeView:
    """One collateral type as the notifier sees it."""

    type_id: bytes
    rate: int  # ray
    ratio: int  # the Spotter's liquidation ratio [ray]
    size: int  # the engine's packed size margin (0: off)
    warning: int  # the MarginCall's warning factor [ray]; 0: no margin calls on the type
    price: int  # the oracle's current price [wad]
    price_valid: bool
    queued: QueuedPrice

    @property
    def safe_now(self) -> int:
        return safe_price(self.price, self.price_valid, self.ratio)

    @property
    def safe_then(self) -> int:
        return safe_price(self.queued.price, self.queued.valid, self.ratio)


def read_notice_view(read: Read, d: Deployment, t: TypeDeployment) -> NoticeView | None:
    """Type `t` as the notifier sees it; None while the oracle has no queued price, or while
    its queued or current price is above the MarginCall's MAX_PRICE."""
    calls: list[Call] = [
        (t.oracle, "next_price", ()),
        (t.oracle, "next_time", ()),
        (t.oracle, "last_poke", ()),
        (t.oracle, "delay", ()),
        (t.oracle, "max_age", ()),
        (t.oracle, "peek", ()),
        (d.engine, "collateral_types", (t.type_id,)),
        (d.spotter, "liquidation_ratios", (t.type_id,)),
        (d.engine, "size_margin_word", (t.type_id,)),
    ]
    if d.margin_call:
        calls += [
            (d.margin_call, "parameters", (t.type_id,)),
            (d.spotter, "oracles", (t.type_id,)),
        ]
    got = read(calls)
    next_price, next_time, last_poke, delay, max_age, peek, ctype, ratio, size = got[:9]
    if next_price == 0 or max(next_price, peek[0]) > MAX_PRICE:
        # no queued price; or a price past the MarginCall's bound (a feeder's mistake, which the
        # Spotter's poke cannot turn into a safe price either): nothing to judge until it goes
        return None
    warning = 0
    if d.margin_call:
        parameters, oracle = got[9:]
        # the MarginCall reads the Spotter's oracle for the type: none there, no margin calls
        if int(oracle, 16) != 0:
            warning = MarginParameters.of(parameters).warning_factor
    current_at = last_poke + delay
    queued = QueuedPrice(
        next_price, next_time, last_poke, current_at, current_at <= next_time + max_age
    )
    return NoticeView(t.type_id, ctype[1], ratio, size, warning, peek[0], peek[1], queued)


# ---------------------------------------------------------------- which vaults


@dataclass(frozen=True)
class Risk:
    owner: str
    collateral: int  # wad
    debt: int  # rad, at the type's rate now
    now: str  # status at the current price
    then: str  # status at the queued price (CALLED or UNSAFE for a vault at risk)


def at_risk(index: VaultIndex, view: NoticeView) -> list[Risk]:
    """Every vault of `index` that the queued price calls or makes unsafe, closest to liquidation
    first. Candidates: the vaults unsafe at the safe price divided by the warning factor (a
    superset: ceil(M x w / RAY) > C x s implies M > C x floor(s x RAY / w)); each is then judged
    exactly."""
    then = view.safe_then
    limit = then * RAY // view.warning if view.warning else then
    out = []
    for owner in index.unsafe(view.rate, limit, view.size):
        collateral, normalized = index.vaults[owner]
        debt = normalized * view.rate
        verdict = status(collateral, debt, then, view.size, view.warning)
        if verdict != SAFE:
            now = status(collateral, debt, view.safe_now, view.size, view.warning)
            out.append(Risk(owner, collateral, debt, now, verdict))
    return out


def track(
    notified: dict[str, list], slot: list[int], risks: Sequence[Risk]
) -> tuple[list[Risk], list[str], dict[str, list]]:
    """(the risks to notify, the owners to clear, what is notified now). `notified`: owner ->
    [*slot, status] of its last notice. A vault is notified again only when the queued price
    (its `slot`) or its status at it changed; a vault notified before and not at risk now is
    cleared."""
    new, now = [], {}
    for r in risks:
        key = [*slot, r.then]
        now[r.owner] = key
        if notified.get(r.owner) != key:
            new.append(r)
    cleared = [owner for owner in notified if owner not in now]
    return new, cleared, now


# ---------------------------------------------------------------- queued governance changes

_RANK = {SAFE: 0, CALLED: 1, UNSAFE: 2}


@dataclass(frozen=True)
class QueuedChange:
    """What a proposal queued in governance's Timelock does to one type's vault limits: its new
    liquidation ratio (Spotter.set_liquidation_ratio) and size margin (VaultEngine
    .set_size_margin, packed), None where it leaves one as it is. It applies from `eta` at the
    earliest."""

    proposal_id: int
    eta: int
    type_id: bytes
    ratio: int | None = None  # ray
    size: int | None = None  # the engine's packed word

    @staticmethod
    def of(
        proposal_id: int, eta: int, calls: Sequence[tuple[str, str, tuple]], d: Deployment
    ) -> list[QueuedChange]:
        """The changes of one proposal's decoded calls, (target, function, args), per type (a
        later call of the same setter wins, as it would on chain)."""
        ratios: dict[bytes, int] = {}
        sizes: dict[bytes, int] = {}
        for target, function, args in calls:
            if target == d.spotter and function == "set_liquidation_ratio":
                ratios[args[0]] = args[1]
            elif target == d.engine and function == "set_size_margin":
                try:
                    sizes[args[0]] = sizing.pack(*args[1:4])
                except Revert:  # parameters the engine refuses: the proposal cannot run
                    continue
        return [
            QueuedChange(proposal_id, eta, t, ratios.get(t), sizes.get(t))
            for t in sorted({*ratios, *sizes})
        ]


# the calls that hand out a right which, once the proposal has run, acts without the delay
# (docs/governance.md, "What the delay does not cover"): function -> (the right, the argument
# that receives it). A new feeder's posts wait only the oracle's own delay; a new price source
# (`set_oracle`) is whatever that contract reports, at once
GRANTS = {
    "add_authority": ("admin", 0),
    "grant_role": ("role", 0),
    "set_minter": ("minter", 0),
    "set_feeder": ("feeder", 0),
    "set_oracle": ("price source", -1),
    "set_proposer": ("proposer", 0),
    "set_guardian": ("guardian", 0),
}
# (account, False) takes the right away: no grant
REVOKES = frozenset({"set_minter", "set_feeder"})
# a call whose target the deployment does not name, or whose calldata its ABI does not read
# (function ""): what it does cannot be told, so it is flagged too
UNREAD = ("unread call", None)


@dataclass(frozen=True)
class QueuedGrant:
    """A call of a queued proposal that grants a right (GRANTS), or that could not be read
    (UNREAD): after `eta`, whoever receives it acts at once. `index`: the call's place in the
    proposal."""

    proposal_id: int
    eta: int
    index: int
    target: str
    function: str
    args: tuple

    @staticmethod
    def of(
        proposal_id: int, eta: int, calls: Sequence[tuple[str, str, tuple]]
    ) -> list[QueuedGrant]:
        """The grants among one proposal's calls, (target, function, args) with function ""
        for a call not read (UNREAD), in order; `set_minter(minter, False)` and
        `set_feeder(feeder, False)` take a right away and are none."""
        out = []
        for i, (target, function, args) in enumerate(calls):
            if function and function not in GRANTS:
                continue
            if function in REVOKES and len(args) > 1 and not args[1]:
                continue
            out.append(QueuedGrant(proposal_id, eta, i, target, function, tuple(args)))
        return out

    def key(self) -> str:
        return f"{self.proposal_id}:{self.index}"

    def fields(self, contract: str, as_of: int) -> dict[str, Any]:
        """The `proposal_grant` line's fields."""
        right, receiver = GRANTS.get(self.function, UNREAD)
        out: dict[str, Any] = {
            "proposal": self.proposal_id,
            "grants": right,
            "contract": contract,
            "call": self.function,
            "account": self.args[receiver] if self.args and receiver is not None else "",
            "eta": self.eta,
            "seconds_left": max(0, self.eta - as_of),
            "as_of": as_of,
        }
        if self.function == "grant_role" and len(self.args) > 1:
            out["role"] = self.args[1]
        return out


def changed_risks(index: VaultIndex, view: NoticeView, change: QueuedChange) -> list[Risk]:
    """Every vault of `index` whose status at the current price the change worsens (safe to
    called or unsafe, called to unsafe), closest to liquidation first; `Risk.then` its status
    under the change, `Risk.now` without it."""
    after = NoticeView(
        view.type_id,
        view.rate,
        view.ratio if change.ratio is None else change.ratio,
        view.size if change.size is None else change.size,
        view.warning,
        view.price,
        view.price_valid,
        QueuedPrice(view.price, 0, 0, 0, view.price_valid),  # judged at the current price
    )
    out = []
    for r in at_risk(index, after):
        now = status(r.collateral, r.debt, view.safe_now, view.size, view.warning)
        if _RANK[r.then] > _RANK[now]:
            out.append(Risk(r.owner, r.collateral, r.debt, now, r.then))
    return out


# ---------------------------------------------------------------- the lines


def decimal_text(value: int, decimals: int) -> str:
    """`value` / 10**decimals, exactly, without trailing zeros: 5000 x 1e18, 18 -> "5000"."""
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 10**decimals)
    frac = str(part).rjust(decimals, "0").rstrip("0")
    return f"{sign}{whole}" + (f".{frac}" if frac else "")


def _ratio_text(ratio_wad: int) -> str:
    return decimal_text(ratio_wad // 10**12, 6)  # rounded down to 1e-6


def notice_fields(
    name: str, view: NoticeView, risk: Risk, as_of: int, consents: tuple[bool, bool] | None
) -> dict[str, Any]:
    """The fields of a `notice` line (docs/keepers.md lists them). `consents`: (opted in at the
    MarginCall, the MarginCall allowed in the engine); None without a MarginCall."""
    q = view.queued
    margin = sizing.margin_debt(risk.debt, view.size)
    # the vault's liquidation ratio at its size: the base ratio x margin debt / debt [wad]
    limit = view.ratio * margin // risk.debt // WAD_TO_RAY if risk.debt else 0
    return {
        "type": name,
        "owner": risk.owner,
        "status": risk.then,
        "status_now": risk.now,
        "opted_in": bool(consents and consents[0]),
        "soft_liquidable": bool(consents and all(consents)),
        "margin_calls": view.warning != 0,
        "queued_price": decimal_text(q.price, 18),
        "queued_valid": q.valid,
        "current_price": decimal_text(view.price, 18),
        "current_at": q.current_at,
        "seconds_left": max(0, q.current_at - as_of),
        "as_of": as_of,
        "collateral_ratio": _ratio_text(collateral_ratio(risk.collateral, risk.debt, view.price)),
        "projected_ratio": _ratio_text(collateral_ratio(risk.collateral, risk.debt, q.price)),
        "liquidation_ratio": _ratio_text(limit),
        "warning_ratio": _ratio_text(limit * view.warning // RAY) if view.warning else None,
        "debt": decimal_text(risk.debt // RAY, 18),
        "collateral": decimal_text(risk.collateral, 18),
    }


# ---------------------------------------------------------------- the step


@dataclass
class NoticeStep:
    """The notice bot: each round, for each type with a queued price, emits a `notice` line for
    every vault at risk at it not yet notified for that price and status, and a `notice_cleared`
    line for every vault notified before that is no longer at risk (a new queued price, or the
    vault changed). `emit(event, fields)` writes a line; `state["notified"]`: type -> owner ->
    [*slot, status] (checkpointed, so a restarted notifier does not notify again). Sends nothing:
    `decide` returns no action."""

    emit: Callable[[str, dict[str, Any]], None]
    state: dict[str, Any] = field(default_factory=dict)
    role: str = "notifier"
    # the changes queued in governance's Timelock, read each round (None: no Timelock)
    queued: Callable[[], list[QueuedChange]] | None = None
    # the rights its proposals grant (None: no Timelock); `contract_name` names a target
    grants: Callable[[], list[QueuedGrant]] | None = None
    contract_name: Callable[[str], str] = str

    def decide(self, world: World, names: Sequence[str]) -> list[Action]:
        d = world.d
        notified_by_type = self.state.setdefault("notified", {})
        for name in names:
            t = d.types[name]
            view = read_notice_view(world.read, d, t)
            if view is None:
                continue
            index = world.index(name)
            before = notified_by_type.get(name, {})
            new, cleared, now = track(before, view.queued.slot, at_risk(index, view))
            consents = self._consents(world, t, [r.owner for r in new])
            as_of = world.clock()
            for r in new:
                self.emit("notice", notice_fields(name, view, r, as_of, consents.get(r.owner)))
            for owner in cleared:
                collateral, normalized = index.vaults.get(owner, (0, 0))
                debt = normalized * view.rate
                same_price = before[owner][:3] == view.queued.slot
                self.emit(
                    "notice_cleared",
                    {
                        "type": name,
                        "owner": owner,
                        "status": status(collateral, debt, view.safe_then, view.size, view.warning),
                        "was": before[owner][3],
                        "reason": "the vault changed" if same_price else "a new queued price",
                        "queued_price": decimal_text(view.queued.price, 18),
                        "projected_ratio": _ratio_text(
                            collateral_ratio(collateral, debt, view.queued.price)
                        ),
                        "debt": decimal_text(debt // RAY, 18),
                    },
                )
            notified_by_type[name] = now
        if self.queued is not None:
            self._proposal_notices(world, names)
        if self.grants is not None:
            self._grant_notices(world)
        return []

    def _grant_notices(self, world: World) -> None:
        """A `proposal_grant` line for each call of a queued proposal that grants a right (once
        per call; checkpointed): once the proposal runs, its receiver acts without the delay."""
        flagged = self.state.setdefault("grants_flagged", [])
        as_of = world.clock()
        for grant in self.grants() if self.grants is not None else []:
            if grant.key() in flagged:
                continue
            flagged.append(grant.key())
            self.emit("proposal_grant", grant.fields(self.contract_name(grant.target), as_of))

    def _proposal_notices(self, world: World, names: Sequence[str]) -> None:
        """A `proposal_notice` line for each vault a queued change would call or make unsafe at
        the current price (once per proposal, vault and status; checkpointed): its owner has
        until the change's eta to act."""
        d, as_of = world.d, world.clock()
        changes = self.queued() if self.queued is not None else []
        done = self.state.setdefault("proposal_notified", {})
        by_type = {d.types[n].type_id: n for n in names}
        for change in changes:
            name = by_type.get(change.type_id)
            if name is None:
                continue
            view = read_notice_view(world.read, d, d.types[name])
            if view is None:
                continue
            key = f"{change.proposal_id}:{name}"
            seen = done.setdefault(key, {})
            for r in changed_risks(world.index(name), view, change):
                if seen.get(r.owner) == r.then:
                    continue
                seen[r.owner] = r.then
                ratio = view.ratio if change.ratio is None else change.ratio
                size = view.size if change.size is None else change.size
                margin = sizing.margin_debt(r.debt, size)
                limit = ratio * margin // r.debt // WAD_TO_RAY if r.debt else 0
                self.emit(
                    "proposal_notice",
                    {
                        "type": name,
                        "owner": r.owner,
                        "proposal": change.proposal_id,
                        "status": r.then,
                        "status_now": r.now,
                        "eta": change.eta,
                        "seconds_left": max(0, change.eta - as_of),
                        "as_of": as_of,
                        "liquidation_ratio_now": _ratio_text(view.ratio // WAD_TO_RAY),
                        "liquidation_ratio": _ratio_text(limit),
                        "collateral_ratio": _ratio_text(
                            collateral_ratio(r.collateral, r.debt, view.price)
                        ),
                        "debt": decimal_text(r.debt // RAY, 18),
                        "collateral": decimal_text(r.collateral, 18),
                    },
                )

    @staticmethod
    def _consents(
        world: World, t: TypeDeployment, owners: list[str]
    ) -> dict[str, tuple[bool, bool]]:
        """owner -> (opted in at the MarginCall, the MarginCall allowed in the engine)."""
        mc = world.d.margin_call
        if not mc or not owners:
            return {}
        calls: list[Call] = [(mc, "opted_in", (o,)) for o in owners]
        calls += [(world.d.engine, "can_act", (o, mc)) for o in owners]
        got = world.read(calls)
        n = len(owners)
        return {o: (bool(got[i]), bool(got[n + i])) for i, o in enumerate(owners)}
