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

With governance's Timelock, every call of each queued proposal is classed by the one table of
the contracts' entry points (offchain/system/privileges.py): a grant, a value move or a vault
limit gets one line (`QueuedCall`), and so does a call that cannot be read or is not classed;
the vault limits it can judge (`JUDGED`: a ratio, the size margin, the engine's safe price, the
warning factor, and a rate fold) warn each vault they would call or make unsafe at the current
price (`QueuedChange`, `changed_risks`), the others say why not (`NOT_JUDGED`).
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
from offchain.system.privileges import (
    FLAGGED,
    GRANT,
    REVOKES,
    RIGHTS,
    VALUE,
    VAULT_LIMIT,
    class_of,
)

__all__ = [
    "CALLED",
    "GRANTS",
    "JUDGED",
    "NOT_JUDGED",
    "SAFE",
    "UNCLASSED",
    "UNREAD",
    "UNSAFE",
    "NoticeStep",
    "NoticeView",
    "QueuedCall",
    "QueuedChange",
    "QueuedPrice",
    "Risk",
    "at_risk",
    "changed_risks",
    "collateral_ratio",
    "decimal_text",
    "notice_fields",
    "read_call",
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
    # the type can have margin calls: a MarginCall is deployed and the Spotter has the type's
    # oracle (which the MarginCall reads); a queued warning factor applies only then
    margin_calls: bool = True

    @property
    def safe_now(self) -> int:
        return safe_price(self.price, self.price_valid, self.ratio)

    @property
    def safe_then(self) -> int:
        return safe_price(self.queued.price, self.queued.valid, self.ratio)


def read_notice_view(
    read: Read, d: Deployment, t: TypeDeployment, need_queued: bool = True
) -> NoticeView | None:
    """Type `t` as the notifier sees it; None while the oracle has no queued price (unless not
    `need_queued`: a queued governance change is judged at the current price, with an invalid
    queued price of 0 then), or while its queued or current price is above the MarginCall's
    MAX_PRICE."""
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
    if (need_queued and next_price == 0) or max(next_price, peek[0]) > MAX_PRICE:
        # no queued price; or a price past the MarginCall's bound (a feeder's mistake, which the
        # Spotter's poke cannot turn into a safe price either): nothing to judge until it goes
        return None
    warning, margin_calls = 0, False
    if d.margin_call:
        parameters, oracle = got[9:]
        # the MarginCall reads the Spotter's oracle for the type: none there, no margin calls
        margin_calls = int(oracle, 16) != 0
        if margin_calls:
            warning = MarginParameters.of(parameters).warning_factor
    current_at = last_poke + delay
    valid = next_price != 0 and current_at <= next_time + max_age
    queued = QueuedPrice(next_price, next_time, last_poke, current_at, valid)
    return NoticeView(
        t.type_id, ctype[1], ratio, size, warning, peek[0], peek[1], queued, margin_calls
    )


# ---------------------------------------------------------------- which vaults


@dataclass(frozen=True)
class Risk:
    owner: str
    collateral: int  # wad
    debt: int  # rad, at the type's rate now
    now: str  # status at the current price
    then: str  # status at the queued price (CALLED or UNSAFE for a vault at risk)


def _verdicts(index: VaultIndex, rate: int, safe: int, size: int, warning: int) -> dict[str, str]:
    """owner -> CALLED or UNSAFE for every vault of `index` called or unsafe at safe price `safe`
    [ray] with `rate`, `size` and `warning`, closest to liquidation first. Candidates: the vaults
    unsafe at the safe price divided by the warning factor (a superset: ceil(M x w / RAY) > C x s
    implies M > C x floor(s x RAY / w)); each is then judged exactly."""
    limit = safe * RAY // warning if warning else safe
    out = {}
    for owner in index.unsafe(rate, limit, size):
        collateral, normalized = index.vaults[owner]
        verdict = status(collateral, normalized * rate, safe, size, warning)
        if verdict != SAFE:
            out[owner] = verdict
    return out


def at_risk(index: VaultIndex, view: NoticeView) -> list[Risk]:
    """Every vault of `index` that the queued price calls or makes unsafe, closest to liquidation
    first (_verdicts)."""
    out = []
    verdicts = _verdicts(index, view.rate, view.safe_then, view.size, view.warning)
    for owner, verdict in verdicts.items():
        collateral, normalized = index.vaults[owner]
        debt = normalized * view.rate
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

# the vault-limit calls judged per vault (QueuedChange, changed_risks), with VaultEngine.fold_rate
# (a value move that raises every debt of the type): (contract, function)
JUDGED = frozenset(
    {
        ("Spotter", "set_liquidation_ratio"),
        ("VaultEngine", "set_size_margin"),
        ("VaultEngine", "set_safe_price"),
        ("VaultEngine", "fold_rate"),
        ("MarginCall", "set_parameters"),
        ("MarginCall", "remove"),
    }
)
# the vault-limit calls (offchain/system/privileges.py) not judged per vault, and why: their
# `proposal_vault_limit` line says so
NOT_JUDGED = {
    ("VaultEngine", "set_dust"): "the dust bounds what an owner may repay or draw, not whether "
    "a vault is safe",
    ("CollateralJoin", "shutdown"): "no owner can deposit the type's tokens to keep a vault safe",
    ("PriceOracle", "set_max_age"): "whether the current price turns stale depends on the pokes "
    "before the eta: a stale price makes every vault with debt unsafe",
    ("PriceOracle", "post"): "a posted price is judged once a poke queues it (notice lines)",
    ("PriceOracle", "set_delay"): "a shorter delay makes a queued price current sooner: no "
    "vault's status at a price changes, only its owner's warning of the next one",
    ("Backstop", "set_margin_call"): "it bounds later deleveraging charges, not a vault's status",
}


@dataclass(frozen=True)
class QueuedChange:
    """What a proposal queued in governance's Timelock does to one type's vault limits: its new
    liquidation ratio (Spotter.set_liquidation_ratio), size margin (VaultEngine.set_size_margin,
    packed), engine safe price (VaultEngine.set_safe_price: in force until the Spotter's next
    poke, which anyone may call), warning factor (MarginCall.set_parameters; 0: MarginCall.remove)
    and rate (VaultEngine.fold_rate: every debt of the type rises), None (0 for the rate) where
    it leaves one as it is. It applies from `eta` at the earliest. `calls`: the calls judged,
    "Contract.function"."""

    proposal_id: int
    eta: int
    type_id: bytes
    ratio: int | None = None  # ray
    size: int | None = None  # the engine's packed word
    safe_price: int | None = None  # ray
    warning: int | None = None  # ray
    rate_delta: int = 0  # ray, added to the type's rate
    calls: tuple[str, ...] = ()

    @staticmethod
    def of(
        proposal_id: int, eta: int, calls: Sequence[tuple[str, str, tuple]], d: Deployment
    ) -> list[QueuedChange]:
        """The changes of one proposal's decoded calls, (target, function, args), per type (a
        later call of the same setter wins, as it would on chain; rate folds add up)."""
        found: dict[bytes, dict[str, Any]] = {}
        named: dict[bytes, list[str]] = {}

        def note(type_id: bytes, key: str, value: Any, call: str) -> None:
            change = found.setdefault(type_id, {})
            change[key] = change.get(key, 0) + value if key == "rate_delta" else value
            named.setdefault(type_id, [])
            if call not in named[type_id]:
                named[type_id].append(call)

        margin_call = getattr(d, "margin_call", "")
        for target, function, args in calls:
            if target == d.spotter and function == "set_liquidation_ratio":
                note(args[0], "ratio", args[1], "Spotter.set_liquidation_ratio")
            elif target == d.engine and function == "set_size_margin":
                try:
                    size = sizing.pack(*args[1:4])
                except Revert:  # parameters the engine refuses: the proposal cannot run
                    continue
                note(args[0], "size", size, "VaultEngine.set_size_margin")
            elif target == d.engine and function == "set_safe_price":
                note(args[0], "safe_price", args[1], "VaultEngine.set_safe_price")
            elif target == d.engine and function == "fold_rate":
                note(args[0], "rate_delta", args[2], "VaultEngine.fold_rate")
            elif margin_call and target == margin_call and function == "set_parameters":
                note(args[0], "warning", args[1], "MarginCall.set_parameters")
            elif margin_call and target == margin_call and function == "remove":
                note(args[0], "warning", 0, "MarginCall.remove")
        return [
            QueuedChange(proposal_id, eta, t, **found[t], calls=tuple(named[t]))
            for t in sorted(found)
        ]

    def judged(self, view: NoticeView) -> tuple[int, int, int, int, list[int]]:
        """(rate, ratio, size, warning, safe prices) of `view`'s type under the change: every
        vault is judged at each safe price, the Spotter's poke of the current price at the new
        ratio, and the engine's safe price set by the proposal, if any."""
        rate = view.rate + self.rate_delta
        if rate <= 0:  # the engine refuses the fold ("rate would be zero"): nothing runs
            rate = view.rate
        ratio = view.ratio if self.ratio is None else self.ratio
        size = view.size if self.size is None else self.size
        warning = view.warning
        if self.warning is not None:
            # the MarginCall calls a type only with the Spotter's oracle for it (read_notice_view)
            warning = self.warning if view.margin_calls else 0
        safes = [safe_price(view.price, view.price_valid, ratio)]
        if self.safe_price is not None:
            safes.append(self.safe_price)
        return rate, ratio, size, warning, safes


# a call of a queued proposal whose target the deployment does not name, or whose calldata its
# ABI does not read (function ""): what it does cannot be told, so it is flagged; so is a function
# read but not classed in offchain/system/privileges.py (a view, a contract not deployed)
UNREAD = ("unread call", None)
UNCLASSED = ("unclassed call", None)
# kept for the line's readers: the rights of the grant class (offchain/system/privileges.py)
GRANTS = RIGHTS


def read_call(
    reader: Callable[[str, bytes], tuple], target: str, data: bytes
) -> tuple[str, str, tuple]:
    """(target, function, args) of one queued call as `reader` reads it (offchain/backends/abi.py's
    CalldataReader, with the contracts' ABIs: (function, args, reads only)); (target, "", ()) for
    a call to a contract the deployment record does not name, or calldata its ABI does not
    decode: flagged as a call not read (UNREAD)."""
    try:
        function, args, _ = reader(target, data)
    except (KeyError, Revert, ValueError):
        return target, "", ()
    return target, function, tuple(args)


def _arg_text(value: Any, type_names: dict[bytes, str]) -> Any:
    """One decoded argument as JSON: integers as exact decimal strings (the contract's units), a
    deployed type's id as its name, other bytes in hex, arrays as lists."""
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return type_names.get(value, "0x" + value.hex())
    if isinstance(value, (tuple, list)):
        return [_arg_text(v, type_names) for v in value]
    return str(value)


@dataclass(frozen=True)
class QueuedCall:
    """One call of a queued proposal, with its class (offchain/system/privileges.py): after
    `eta`, a grant's receiver acts at once, a value move has happened, a vault limit applies.
    `index`: the call's place in the proposal; `contract`: the target's contract name (its
    address where the deployment record does not name it); `function` "": not read; `names`:
    the arguments' names in the ABI (empty: unknown)."""

    proposal_id: int
    eta: int
    index: int
    target: str
    contract: str
    function: str
    args: tuple
    names: tuple[str, ...] = ()

    @staticmethod
    def of(
        proposal_id: int,
        eta: int,
        calls: Sequence[tuple[str, str, tuple]],
        contract_name: Callable[[str], str] = str,
        arg_names: Callable[[str, str, int], tuple[str, ...]] = lambda c, f, n: (),
    ) -> list[QueuedCall]:
        """Every call of one proposal, (target, function, args) with function "" for a call not
        read, in order."""
        out = []
        for i, (target, function, args) in enumerate(calls):
            contract = contract_name(target)
            names = arg_names(contract, function, len(args)) if function else ()
            out.append(
                QueuedCall(proposal_id, eta, i, target, contract, function, tuple(args), names)
            )
        return out

    @property
    def kind(self) -> str | None:
        """Its class; None for a call not read or not classed."""
        return class_of(self.contract, self.function) if self.function else None

    @property
    def flagged(self) -> bool:
        """Announced: a grant, a value move, a vault limit, a call not read or not classed;
        `set_minter(m, false)`, `set_feeder(f, false)` and `approve(s, 0)` take a right away and
        are not."""
        kind = self.kind
        if kind is None:
            return True
        if kind == GRANT and self.function in REVOKES and len(self.args) > 1 and not self.args[1]:
            return False
        return kind in FLAGGED

    def key(self) -> str:
        return f"{self.proposal_id}:{self.index}"

    def line(self, as_of: int, type_names: dict[bytes, str]) -> tuple[str, dict[str, Any]]:
        """The call's line: (event, fields). A grant, or a call not read or classed:
        `proposal_grant`; a value move: `proposal_value`; a vault limit: `proposal_vault_limit`
        (with whether each vault it affects is warned: `proposal_notice` lines)."""
        kind = self.kind
        time = {"eta": self.eta, "seconds_left": max(0, self.eta - as_of), "as_of": as_of}
        if kind not in (VALUE, VAULT_LIMIT):
            return "proposal_grant", self._grant_fields(kind, time)
        args = [_arg_text(a, type_names) for a in self.args]
        out: dict[str, Any] = {
            "proposal": self.proposal_id,
            "index": self.index,
            "contract": self.contract,
            "call": self.function,
            "args": dict(zip(self.names, args)) if len(self.names) == len(args) else args,
        }
        if kind == VALUE:
            return "proposal_value", {**out, **time}
        judged = (self.contract, self.function) in JUDGED
        reason = "" if judged else NOT_JUDGED.get((self.contract, self.function), "not judged")
        return "proposal_vault_limit", {**out, "per_vault": judged, "reason": reason, **time}

    def _grant_fields(self, kind: str | None, time: dict[str, int]) -> dict[str, Any]:
        """The `proposal_grant` line's fields."""
        if not self.function:
            right, receiver = UNREAD
        elif kind is None:
            right, receiver = UNCLASSED
        else:
            right, receiver = RIGHTS[self.function]
        out: dict[str, Any] = {
            "proposal": self.proposal_id,
            "grants": right,
            "contract": self.contract,
            "call": self.function,
            "account": self.args[receiver] if self.args and receiver is not None else "",
            **time,
        }
        if self.function == "grant_role" and len(self.args) > 1:
            out["role"] = self.args[1]
        return out


def changed_risks(index: VaultIndex, view: NoticeView, change: QueuedChange) -> list[Risk]:
    """Every vault of `index` whose status at the current price the change worsens (safe to
    called or unsafe, called to unsafe), closest to liquidation first; `Risk.then` its status
    under the change (the worse at the change's safe prices: QueuedChange.judged), `Risk.now`
    without it, `Risk.debt` at the type's rate now."""
    rate, _, size, warning, safes = change.judged(view)
    worst: dict[str, str] = {}
    for safe in safes:
        for owner, verdict in _verdicts(index, rate, safe, size, warning).items():
            if _RANK[verdict] > _RANK[worst.get(owner, SAFE)]:
                worst[owner] = verdict
    out = []
    for owner, then in worst.items():
        collateral, normalized = index.vaults[owner]
        debt = normalized * view.rate
        now = status(collateral, debt, view.safe_now, view.size, view.warning)
        if _RANK[then] > _RANK[now]:
            out.append(Risk(owner, collateral, debt, now, then))
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
    vault changed); with a Timelock, a line for each flagged call of a queued proposal
    (`_call_notices`) and a `proposal_notice` for each vault its vault limits worsen
    (`_proposal_notices`). `emit(event, fields)` writes a line; `state["notified"]`: type ->
    owner -> [*slot, status] (checkpointed, so a restarted notifier does not notify again).
    Sends nothing: `decide` returns no action."""

    emit: Callable[[str, dict[str, Any]], None]
    state: dict[str, Any] = field(default_factory=dict)
    role: str = "notifier"
    # the vault-limit changes queued in governance's Timelock, read each round (None: no
    # Timelock)
    queued: Callable[[], list[QueuedChange]] | None = None
    # every call of its queued proposals, classed (None: no Timelock)
    calls: Callable[[], list[QueuedCall]] | None = None

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
        # each flagged call of a queued proposal, then the vaults its vault limits worsen
        if self.calls is not None:
            self._call_notices(world)
        if self.queued is not None:
            self._proposal_notices(world, names)
        return []

    def _call_notices(self, world: World) -> None:
        """A line for each call of a queued proposal that grants a right, moves value or changes
        a vault limit, or that cannot be read (QueuedCall.line; once per call, checkpointed
        under the key `grants_flagged`, its name when only grants were flagged)."""
        flagged = self.state.setdefault("grants_flagged", [])
        as_of = world.clock()
        type_names = {t.type_id: n for n, t in world.d.types.items()}
        for call in self.calls() if self.calls is not None else []:
            if not call.flagged or call.key() in flagged:
                continue
            flagged.append(call.key())
            self.emit(*call.line(as_of, type_names))

    def _proposal_notices(self, world: World, names: Sequence[str]) -> None:
        """A `proposal_notice` line for each vault a queued change would call or make unsafe at
        the current price (once per proposal, vault and status; checkpointed): its owner has
        until the change's eta to act. Judged with or without a queued price."""
        d, as_of = world.d, world.clock()
        changes = self.queued() if self.queued is not None else []
        done = self.state.setdefault("proposal_notified", {})
        by_type = {d.types[n].type_id: n for n in names}
        for change in changes:
            name = by_type.get(change.type_id)
            if name is None:
                continue
            view = read_notice_view(world.read, d, d.types[name], need_queued=False)
            if view is None:
                continue
            rate, ratio, size, _, safes = change.judged(view)
            key = f"{change.proposal_id}:{name}"
            seen = done.setdefault(key, {})
            for r in changed_risks(world.index(name), view, change):
                if seen.get(r.owner) == r.then:
                    continue
                seen[r.owner] = r.then
                # the debt at the rate under the change (a fold raises it) [rad]
                debt = r.debt // view.rate * rate
                margin = sizing.margin_debt(debt, size)
                limit = ratio * margin // debt // WAD_TO_RAY if debt else 0
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
                        # what the proposal does to the type (the calls judged), and what the
                        # vault is judged at: the lowest safe price under it [ray], its debt
                        "changes": list(change.calls),
                        "safe_price_now": decimal_text(view.safe_now, 27),
                        "safe_price": decimal_text(min(safes), 27),
                        "debt_then": decimal_text(debt // RAY, 18),
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
