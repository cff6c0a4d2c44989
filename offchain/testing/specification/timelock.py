"""The specification of governance's queue (contracts/Timelock.vy), written plainly: the
independent rewrite of offchain/model/timelock.py (it never imports it; the calls' hash is
written here with eth_abi, the constants restated).

The bound: a proposal's calls run only inside its window [eta, expires], eta the time it was
queued plus the delay then in force and expires eta plus the grace then in force (a later change
of either moves no queued proposal), at most once, never after a cancel, and only the calls it
was queued with. Checked on every transaction, from the events, from the call itself and from
each Timelock's proposals before and after it:
- `Queued` gives the next id (the count before, plus one per proposal queued in the
  transaction), eta = now + the delay in force and expires = eta + the grace in force (those
  before the transaction, or the last `DelaySet` / `GraceSet` before the event in it), the hash
  of the calls its `CallQueued` events list, in order, with indexes 0, 1, ... (and no
  `CallQueued` of another id); the proposal is QUEUED after;
- `Executed` only of a proposal QUEUED before it (not executed or cancelled earlier in the same
  transaction), at a time in its [eta, expires] as stored when it was queued; the proposal is
  EXECUTED after; `Cancelled` only of a proposal QUEUED before it, CANCELLED after;
- no proposal's record changes without its event, and no proposal leaves EXECUTED or CANCELLED;
- a successful top-level call says what happened: `propose` exactly one `Queued`, `execute(id,
  calls)` exactly one `Executed(id)` with calls of the stored hash, `cancel(id)` exactly one
  `Cancelled(id)`, by the proposer (or, for a cancel, the guardian);
- a top-level propose, execute or cancel refused with a Timelock reason: the refusal its own checks
  give in the state before, in the contract's order (sender, status, calls, too early, expired, its
  settlement shut down; for a cancel by the guardian, a rescue); where they all pass, only an
  execute may fail, for a reason of its calls.

The monitor's bound (issue 72): a queued call that moves value or rights at its eta (a seizure,
unbacked stablecoin, a mint or transfer, a fee recipient, a new admin, role, minter, feeder,
price source, proposer or guardian, the engine's safe price, a ratio, a size margin, a margin
call) is one the notifier's table (offchain/system/privileges.py) flags.

The guardian's bound (issue 72): a proposal is a rescue exactly when each of its listed calls
takes the guardian's power away or undoes a stop (the Timelock's own set_guardian(address),
any contract's revoke_role(account, 32768) or set_stopped(0), nothing more in its calldata),
and only its proposer ever cancels a rescue: the guardian cannot keep its own removal, or a
restart, from running.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak

from offchain.model.errors import Revert
from offchain.model.state import Event
from offchain.system.privileges import FLAGGED, class_of

# restated from Timelock.vy: a proposal's status
QUEUED, EXECUTED, CANCELLED = 1, 2, 3
_NAME = "Timelock"
_NONE = (b"", 0, 0, 0, False)
# restated from authorized.vy: the guardian's role bit
_EMERGENCY = 2**15
# the auctions' pace and reset bounds move value too (a cut to a wei, no reset: a lot for nothing);
# so do the surplus and debt auctions' steps and sizes (how little a winner pays, how much token a
# bad debt mints), the cap on debt in auction (0: no liquidation), and the settings that apply to
# what is already queued: the losses' order and delay, the pool's cooldown and exit window (the
# seventh round, docs/security.md)
_MOVES_VALUE_ON = frozenset(
    {
        ("DutchAuction", "set_parameters"),
        ("DutchAuction", "set_curve"),
        ("SurplusAuction", "set_parameters"),
        ("DebtAuction", "set_parameters"),
        ("Backstop", "set_auction_parameters"),
        ("Backstop", "set_queue_delay"),
        ("Backstop", "set_waterfall"),
        ("Liquidator", "set_max_debt_in_auction"),
        ("StabilityPool", "set_cooldown"),
        ("StabilityPool", "set_exposure"),
        ("FeeAccumulator", "set_pool_max_yield"),
        ("Backstop", "set_deleverage_buffer"),
        ("Backstop", "set_deleverage_limits"),
        # a shorter oracle delay makes a queued drop current sooner: owners' warning shortened
        ("PriceOracle", "set_delay"),
    }
)
# the monitor's bound (issue 72), restated: a queued call of one of these moves value or hands
# out a right (or moves every vault's limit) at its eta, so the notifier's table must flag it
# (offchain/system/privileges.py; a class outside FLAGGED is a silent monitor)
_MOVES_VALUE_OR_RIGHTS = frozenset(
    {
        "seize",
        "create_unbacked",
        "mint",
        "transfer",
        "transferFrom",
        "transfer_ownership",
        "set_fee_recipient",
        "set_pool_fee_share",
        "set_layer_contracts",
        "configure_type",
        "add_authority",
        "grant_role",
        "set_minter",
        "set_feeder",
        "set_oracle",
        "set_proposer",
        "set_guardian",
        "set_safe_price",
        "set_liquidation_ratio",
        "set_size_margin",
        "set_margin_call",
        "revoke_role",
        "remove_authority",
        "set_stopped",
        "set_wait",
    }
)
_ZERO = "0x0000000000000000000000000000000000000000"


def timelocks(model: Any) -> list[str]:
    """The addresses of the Timelocks deployed in `model` (ModelBackend.names)."""
    return [address for address, name in model.names.items() if name == _NAME]


def timelock_state(model: Any, copy: Callable[[Any], Any] = dict) -> dict[str, tuple]:
    """Per Timelock: (proposal count, delay, grace, proposer, guardian, id -> (hash, eta,
    expires, status, rescue), whether its settlement is shut down) as they are (the proposals
    taken by `copy`: a copy, or a map read as it was before the transaction,
    offchain/testing/past.py)."""
    out = {}
    for address in timelocks(model):
        t = model.contract(address)
        out[address] = (
            t.proposal_count,
            t.delay,
            t.grace,
            t.proposer,
            t.guardian,
            copy(t.proposals),
            getattr(model.env.contracts.get(t.settlement), "live", True) is False,
        )
    return out


def _hash(calls: list[tuple[str, bytes]]) -> bytes:
    return keccak(abi_encode(["(address,bytes)[]"], [[(a, bytes(d)) for a, d in calls]]))


def _selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


def _takes_guardian_power(timelock: str, target: str, data: bytes) -> bool:
    """One call that takes the guardian's power away or undoes its stop, and does nothing else:
    the Timelock's own set_guardian(address), revoke_role(account, the EMERGENCY bit) or
    set_stopped(0), its calldata the selector and its words only."""
    data = bytes(data)
    words = [int.from_bytes(data[i : i + 32], "big") for i in range(4, len(data), 32)]
    if len(data) != 4 + 32 * len(words):
        return False
    if data[:4] == _selector("set_guardian(address)"):
        return len(words) == 1 and target.lower() == timelock.lower()
    if data[:4] == _selector("revoke_role(address,uint256)"):
        return len(words) == 2 and words[1] == _EMERGENCY
    if data[:4] == _selector("set_stopped(uint256)"):
        return words == [0]
    return False


def _monitor_flags(model: Any, address: str, pid: int, calls: list[tuple]) -> list[str]:
    """Each listed call that moves value or rights at the eta is one the notifier flags."""
    reader = model.env.calldata
    if reader is None:
        return []
    out = []
    for _, target, data in calls:
        name = model.names.get(target)
        if name is None:
            continue  # a call the deployment does not name: the notifier flags it as unread
        try:
            function = reader(target, bytes(data))[0]
        except Revert:  # calldata no ABI reads: flagged as unread
            continue
        moves = function in _MOVES_VALUE_OR_RIGHTS or (name, function) in _MOVES_VALUE_ON
        if moves and class_of(name, function) not in FLAGGED:
            out.append(
                f"{address}: proposal {pid} queues {name}.{function}, which moves value or "
                f"rights at its eta, and the monitor classes it {class_of(name, function)!r}"
            )
    return out


def proposer_of(state: dict[str, tuple], address: str) -> str:
    return state[address][3]


def timelock_checks(
    model: Any,
    before: dict[str, tuple],
    call: tuple[str, str, str, tuple],
    events: list[Event],
) -> tuple[int, list[str]]:
    """(checks made, problems) of one successful transaction: `before` is timelock_state before
    it, `call` its (sender, address, function, args), `events` its events."""
    if not before:
        return 0, []
    checks, out = 0, []
    now = model.env.timestamp
    after = timelock_state(model)
    target = call[1]
    for address, (count, delay, grace, _, _, proposals, _) in before.items():
        ledger = dict(proposals)  # id -> (hash, eta, expires, status) as the events say
        queued: list[tuple[int, bytes]] = []
        listed: dict[int, list[tuple[int, str, bytes]]] = {}
        seen: dict[str, list[int]] = {"Queued": [], "Executed": [], "Cancelled": []}
        for e in (e for e in events if e.address == address):
            if e.name == "DelaySet":
                delay = e.args["delay"]
            elif e.name == "GraceSet":
                grace = e.args["grace"]
            elif e.name == "Queued":
                checks += 1
                count += 1
                pid, eta, expires = e.args["proposal_id"], e.args["eta"], e.args["expires"]
                seen["Queued"].append(pid)
                if pid != count:
                    out.append(f"{address}: queued id {pid}, the next id is {count}")
                if eta != now + delay or expires != eta + grace:
                    out.append(
                        f"{address}: proposal {pid} window [{eta}, {expires}], with the delay "
                        f"{delay} and the grace {grace} in force [{now + delay}, "
                        f"{now + delay + grace}]"
                    )
                ledger[pid] = (e.args["calls_hash"], eta, expires, QUEUED, None)
                queued.append((pid, e.args["calls_hash"]))
                listed[pid] = []
            elif e.name == "CallQueued":
                pid = e.args["proposal_id"]
                if pid not in listed:
                    out.append(f"{address}: CallQueued of proposal {pid}, queued before")
                    continue
                listed[pid].append((e.args["index"], e.args["target"], e.args["data"]))
            elif e.name in ("Executed", "Cancelled"):
                checks += 1
                pid = e.args["proposal_id"]
                seen[e.name].append(pid)
                digest, eta, expires, status, rescue = ledger.get(pid, _NONE)
                if status != QUEUED:
                    out.append(f"{address}: {e.name} proposal {pid} with status {status}")
                if e.name == "Executed" and before[address][6]:
                    out.append(f"{address}: executed proposal {pid} after the shutdown")
                if e.name == "Executed" and not eta <= now <= expires:
                    out.append(
                        f"{address}: executed proposal {pid} at {now}, its window "
                        f"[{eta}, {expires}]"
                    )
                if e.name == "Cancelled" and rescue and call[0] != proposer_of(before, address):
                    out.append(f"{address}: rescue proposal {pid} cancelled by {call[0]}")
                ledger[pid] = (
                    digest,
                    eta,
                    expires,
                    EXECUTED if e.name == "Executed" else CANCELLED,
                    rescue,
                )
        for pid, digest in queued:
            checks += 1
            calls = listed[pid]
            if not calls or [i for i, _, _ in calls] != list(range(len(calls))):
                out.append(f"{address}: proposal {pid}'s CallQueued indexes {calls!r}")
            elif _hash([(t, d) for _, t, d in calls]) != digest:
                out.append(f"{address}: proposal {pid}'s hash is not that of its listed calls")
            out += _monitor_flags(model, address, pid, calls)
            rescue = all(_takes_guardian_power(address, t, d) for _, t, d in calls)
            stored = after[address][5].get(pid, _NONE)[4]
            if stored != rescue:
                out.append(
                    f"{address}: proposal {pid} kept as rescue={stored}, its calls say {rescue}"
                )
            ledger[pid] = (*ledger[pid][:4], rescue)
        # nothing changes without its event
        count_after, proposals_after = after[address][0], after[address][5]
        checks += 1
        if count_after != count:
            out.append(f"{address}: proposal count {count_after}, the events say {count}")
        for pid in set(proposals_after) | set(ledger):
            if proposals_after.get(pid) != ledger.get(pid):
                out.append(
                    f"{address}: proposal {pid} is {proposals_after.get(pid)!r}, the events "
                    f"say {ledger.get(pid)!r}"
                )
        # a top-level call says what it did
        if target == address:
            checks += 1
            out += _top_level(address, before[address], call, seen)
    return checks, out


def _top_level(
    address: str, state: tuple, call: tuple[str, str, str, tuple], seen: dict[str, list[int]]
) -> list[str]:
    """A successful propose, execute or cancel on the Timelock itself: one event of its kind,
    the caller allowed, an execution with the stored calls."""
    _, _, _, proposer, guardian, proposals, _ = state
    sender, _, function, args = call
    if function == "propose":
        if len(seen["Queued"]) != 1 or sender != proposer:
            return [f"{address}: propose from {sender}: Queued {seen['Queued']}"]
    elif function == "execute":
        pid, calls = args
        same = _hash(list(calls)) == proposals.get(pid, _NONE)[0]
        if seen["Executed"] != [pid] or sender != proposer or not same:
            return [
                f"{address}: execute({pid}) from {sender}: Executed {seen['Executed']}, its "
                f"calls {'are' if same else 'are not'} the stored ones"
            ]
    elif function == "cancel":
        if seen["Cancelled"] != [args[0]] or sender not in (proposer, guardian):
            return [f"{address}: cancel({args[0]}) from {sender}: {seen['Cancelled']}"]
    return []


def timelock_revert(
    before: dict[str, tuple], call: tuple[str, str, str, tuple], now: int, reason: str
) -> str | None:
    """A top-level call's refusal holds in the state before (None) or not (why): the Timelock's
    own checks, in the contract's order, give the refusal; where they all pass, an `execute`'s
    calls ran and the reason is theirs (a call may refuse with a Timelock's reason too)."""
    sender, address, function, args = call
    if address not in before or function not in ("propose", "execute", "cancel"):
        return None
    _, _, _, proposer, guardian, proposals, shut_down = before[address]
    expected: str | None = None  # the top-level's own refusal; None: it passes its checks
    if function == "propose":
        if sender != proposer:
            expected = "timelock: not the proposer"
        elif not args[0]:
            expected = "timelock: no calls"
    elif function == "cancel":
        if sender != proposer and (sender != guardian or guardian == _ZERO):
            expected = "timelock: not the proposer or guardian"
        elif proposals.get(args[0], _NONE)[3] != QUEUED:
            expected = "timelock: not queued"
        elif sender != proposer and proposals[args[0]][4]:
            expected = "timelock: a rescue"
    else:
        proposal_id, calls = args
        digest, eta, expires, status, _ = proposals.get(proposal_id, _NONE)
        if sender != proposer:
            expected = "timelock: not the proposer"
        elif status != QUEUED:
            expected = "timelock: not queued"
        elif _hash(list(calls)) != digest:
            expected = "timelock: other calls"
        elif now < eta:
            expected = "timelock: too early"
        elif now > expires:
            expected = "timelock: expired"
        elif shut_down:
            expected = "timelock: shut down"
    if expected is not None:
        return None if reason == expected else f"the state before says {expected!r}"
    if function == "execute":
        return None  # its calls ran: the reason is one of theirs
    return "the state before passes every check"
