"""Governance through its Timelock (contracts/Timelock.vy, docs/governance.md): a batch of calls
is queued by governance (the Timelock's proposer) and runs once, all of it or none, after the
delay and before its grace ends. A deployment whose config has a [governance] table
(offchain/live/deploy.py) is administered only this way; `hand_to_timelock`
(offchain/system/deployment.py) makes it so.

On any backend with ABIs (a node, revm, the lockstep): `propose` queues, `execute` runs a
queued proposal given the same calls again (the Timelock stores only their hash).
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from offchain.model.backstop import Layer
from offchain.model.fixed_point import RAD, WAD
from offchain.model.timelock import MAX_CALLS
from offchain.system.config import (
    ConfigError,
    SystemConfig,
    parse_config,
    per_second_to_yearly,
)
from offchain.system.deployment import Deployment
from offchain.system.files import read_mapping
from offchain.system.schema import COLLATERAL, SYSTEM, WATERFALL, Key, Kind

# one call of a proposal: (target contract, function name, arguments), as `transact` takes them
Call = tuple[str, str, tuple[Any, ...]]


def encoded(b: Any, calls: list[Call]) -> list[tuple[str, bytes]]:
    """The proposal's calls as the Timelock takes them: (target, calldata)."""
    return [(target, b.calldata(target, function, *args)) for target, function, args in calls]


def propose(b: Any, d: Deployment, calls: list[Call]) -> tuple[int, int]:
    """Queue `calls` as governance: (the proposal's id, its eta [unix s])."""
    if not d.timelock:
        raise ValueError("this deployment has no Timelock: governance is the direct admin")
    b.transact(d.timelock, "propose", d.governance, encoded(b, calls))
    proposal_id = b.view(d.timelock, "proposal_count")
    return proposal_id, b.view(d.timelock, "proposals", proposal_id)[1]


def execute(b: Any, d: Deployment, proposal_id: int, calls: list[Call]) -> None:
    """Run queued proposal `proposal_id` (its eta must have come), as governance."""
    b.transact(d.timelock, "execute", d.governance, proposal_id, encoded(b, calls))


def queued_calls(chain: Any, d: Deployment, from_block: int, proposal_id: int) -> list:
    """(target, calldata) of queued proposal `proposal_id`, in order, from its `CallQueued`
    events on a node (`chain`: a ChainBackend; the Timelock stores only the calls' hash)."""
    topic = "0x" + proposal_id.to_bytes(32, "big").hex()
    query = {"address": d.timelock, "fromBlock": hex(from_block), "toBlock": "latest"}
    logs = chain.rpc("eth_getLogs", [{**query, "topics": [None, topic]}])
    events = [chain._decode_log(log) for log in logs]
    calls = sorted((e for e in events if e.name == "CallQueued"), key=lambda e: e.args["index"])
    return [(e.args["target"], e.args["data"]) for e in calls]


# ------------------------------------------------------------------ a proposal file


class ProposalError(ValueError):
    """A proposal file that cannot be queued (one line per mistake)."""


@dataclass(frozen=True)
class Change:
    """One parameter a proposal changes, in the contracts' units: `before` read from the chain
    when the proposal is made, `after` the proposal's."""

    where: str  # "collateral.ETH-A.liquidation_penalty", "backstop.waterfall"
    before: Any
    after: Any

    def text(self) -> str:
        """`where: before -> after` in the config's units (a ratio, stablecoin, seconds; layer
        names; a stability fee yearly, with its per-second factor in ray, as the contract holds
        it)."""
        k = _schema_key(self.where)
        return f"{self.where}: {_human(k, self.before)} -> {_human(k, self.after)}"


def setting_text(where: str, value: Any) -> str:
    """`where = value`, the value (in the contracts' units) written in the config's units, as
    Change.text writes it: what `ape run govern show` prints of a queued call."""
    return f"{where} = {_human(_schema_key(where), value)}"


def _schema_key(where: str) -> Key:
    table, key = where.split(".")[0], where.split(".")[-1]
    return {"system": SYSTEM, "backstop": WATERFALL, "collateral": COLLATERAL}[table][key]


_LAYER_LABELS = {int(layer): layer.label for layer in Layer}


def _human(key: Key, value: Any) -> str:
    if key.kind is Kind.LAYERS:
        # (a number no layer has: a call `propose` did not build, shown as it is)
        return "[" + ", ".join(_LAYER_LABELS.get(v, str(v)) for v in value) + "]"
    # the loaders' own conversions of a decimal key (the penalty in wad; a yearly fee becomes a
    # per-second factor, shown read back, and as the contract holds it)
    unit = WAD if key.name == "liquidation_penalty" else key.unit
    if key.kind in (Kind.AMOUNT, Kind.DECIMAL) and unit != 1:
        text = f"{Decimal(value) / unit:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    if key.name == "stability_fee":
        return f"{per_second_to_yearly(value):f} a year (per-second factor {value}, ray)"
    return str(value)


# a key's place in a proposal: (table, collateral type name or "", key)
Place = tuple[str, str, str]


def _where(place: Place) -> str:
    table, name, key = place
    return f"{table}.{name}.{key}" if name else f"{table}.{key}"


def load_proposal(path: Path, config_text: str) -> tuple[SystemConfig, list[Place]]:
    """`read_proposal` of the TOML file at `path`: a file that is not one (a directory, binary,
    invalid TOML, a number out of range, empty) is one ProposalError line."""
    return read_proposal(read_mapping_of(path), str(path), config_text)


def read_mapping_of(path: Path) -> dict[str, Any]:
    """The TOML document of a proposal file, unchecked; ProposalError: not one."""
    return read_mapping(
        path,
        ProposalError,
        str(path),
        toml=True,
        empty="a proposal has [system], [backstop] or [collateral.<type>] tables",
    )


def merged_document(data: dict[str, Any], config_text: str) -> dict[str, Any]:
    """The deployment's config document (`config_text`) with a proposal's keys (`data`) in
    place, unchecked (read_proposal checks it): the config a rehearsal runs after the change."""
    return _merged(data, "", config_text)[0]


def _merged(
    data: dict[str, Any], source: str, config_text: str
) -> tuple[dict[str, Any], list[Place], list[str]]:
    merged = copy.deepcopy(tomllib.loads(config_text))
    places: list[Place] = []
    problems: list[str] = []
    types = {c.get("name"): i for i, c in enumerate(merged.get("collateral", []))}
    for table, body in data.items():
        if table in ("system", "backstop") and isinstance(body, dict):
            target = merged.setdefault(table, {})
            for key, value in body.items():
                target[key] = value
                places.append((table, "", key))
        elif table == "collateral" and isinstance(body, dict):
            for name, keys in body.items():
                if name not in types:
                    problems.append(
                        f"{source}: collateral.{name}: no such type is deployed "
                        f"(types: {', '.join(map(str, types))})"
                    )
                elif not isinstance(keys, dict):
                    problems.append(f"{source}: collateral.{name}: must be a table")
                else:
                    for key, value in keys.items():
                        merged["collateral"][types[name]][key] = value
                        places.append(("collateral", name, key))
        elif table in ("system", "backstop", "collateral"):
            problems.append(f"{source}: {table}: must be a table")
        else:
            problems.append(
                f"{source}: unknown table {table!r} (a proposal has [system], [backstop] and "
                "[collateral.<type>] tables)"
            )
    return merged, places, problems


# the sweep around a proposal (`ape run govern rehearse`): each numeric key changed also at the
# value before plus these fractions of its change (0: before and 1: the proposal run anyway)
SWEEP_STEPS = (Decimal("0.5"), Decimal("1.5"), Decimal("2"))


@dataclass(frozen=True)
class SweepPoint:
    """One value of one changed key around the proposal, the proposal's other keys in place: its
    config document, or why there is none (the value refused, one line)."""

    where: str  # collateral.ETH-A.liquidation_penalty
    step: Decimal  # of the change: 0.5 = halfway from before to the proposal
    value: str
    document: dict[str, Any] | None
    problem: str = ""
    before: str = ""  # the key's value before, and the proposal's, as written
    proposed: str = ""


def _number(value: Any) -> Decimal | None:
    """A key's value as a number (an integer, a float or a decimal string), None if it is not one
    (a list, a boolean, an address)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def sweep_points(data: dict[str, Any], config_text: str) -> tuple[list[SweepPoint], list[str]]:
    """The points of the sweep around the proposal `data` (checked: read_proposal): for each key
    it changes whose values before and after are numbers, the value before plus each of
    SWEEP_STEPS of the change, as the proposal writes it (an integer stays an integer, a decimal
    string a string). A point the config refuses is kept with its problem; the keys that are no
    numbers (a waterfall order) are named, not swept."""
    before = tomllib.loads(config_text)
    types = {c.get("name"): i for i, c in enumerate(before.get("collateral", []))}
    places = _merged(data, "", config_text)[1]
    points: list[SweepPoint] = []
    not_swept: list[str] = []
    for table, name, key in places:
        old = before["collateral"][types[name]].get(key) if name else before.get(table, {}).get(key)
        new = data["collateral"][name][key] if name else data[table][key]
        a, b = _number(old), _number(new)
        where = _where((table, name, key))
        if a is None or b is None or a == b:
            not_swept.append(where)
            continue
        for step in SWEEP_STEPS:
            x = a + (b - a) * step
            value: Any
            if isinstance(new, int) and isinstance(old, int):
                x = x.to_integral_value()
                value = int(x)
            else:
                x = x.normalize()
                value = f"{x:f}" if isinstance(new, str) else float(x)
            point = copy.deepcopy(data)
            if name:
                point["collateral"][name][key] = value
            else:
                point[table][key] = value
            try:
                read_proposal(point, "sweep", config_text)
            except ProposalError as exc:
                problem = str(exc).splitlines()[0].removeprefix("sweep: ")
                points.append(
                    SweepPoint(where, step, str(value), None, problem, str(old), str(new))
                )
                continue
            document = merged_document(point, config_text)
            points.append(SweepPoint(where, step, str(value), document, "", str(old), str(new)))
    return points, not_swept


def read_proposal(
    data: dict[str, Any], source: str, config_text: str
) -> tuple[SystemConfig, list[Place]]:
    """The deployment's config (`config_text`, the record's) with the proposal's keys (`data`,
    a parsed TOML document) in place,
    checked as a config is (each key's bounds, the rules between keys), and the keys proposed.
    A proposal is TOML in the config's own names and units: `[system]`, `[backstop]`, and one
    `[collateral.<type>]` table per collateral type it changes. ProposalError: every mistake,
    a line each, all at once (a key unknown or without a setter, a type not deployed, a value
    the config refuses: the config read with the keys a proposal can set; a value that
    disables what the system needs, REFUSED_VALUES)."""
    merged, places, problems = _merged(data, source, config_text)
    settable = [place for place in places if place[2] in _SETTERS[place[0]]]
    for place in places:
        if place not in settable:
            what = _NOT_YET.get(
                place[2], "no proposal can change it yet: it is set when the contracts are deployed"
            )
            if place[2] not in _CONFIG_KEYS[place[0]]:
                what = "unknown key"
            problems.append(f"{source}: {_where(place)}: {what}")
    if not places and not problems:
        problems.append(f"{source}: proposes no change")
    if len(settable) < len(places):  # the others' values read as the config would read them
        merged = _merged(_subset(data, settable), source, config_text)[0]
    config: SystemConfig | None = None
    try:
        config = parse_config(merged, source)
    except ConfigError as exc:
        problems += _named_types(str(exc), merged)
    for place in settable:
        problems += _refusal(place, data, source, config_text, config)
    if problems:
        raise ProposalError("\n".join(problems))
    assert config is not None
    return config, places


def _named_types(text: str, document: dict[str, Any]) -> list[str]:
    """A ConfigError's lines with the proposal's own names for a type's keys
    (`collateral[0]` -> `collateral.ETH-A`)."""
    lines = text.splitlines()
    for i, c in enumerate(document.get("collateral", [])):
        lines = [x.replace(f"collateral[{i}]", f"collateral.{c.get('name')}") for x in lines]
    return lines


def _subset(data: dict[str, Any], places: list[Place]) -> dict[str, Any]:
    """The proposal document `data` with only the keys at `places`."""
    out: dict[str, Any] = {}
    for table, name, key in places:
        if name:
            out.setdefault(table, {}).setdefault(name, {})[key] = data[table][name][key]
        else:
            out.setdefault(table, {})[key] = data[table][key]
    return out


# values the config takes but a proposal is refused for: each turns off something a running
# system needs to stay backed, with no state of the system in which it is the right change
# (docs/governance.md, "Judged, not only read"). (table, key) -> (the value's test, why)
REFUSED_VALUES: dict[tuple[str, str], tuple[Callable[[Any], bool], str]] = {
    ("backstop", "waterfall"): (
        lambda order: len(order) == 0,
        "[] turns every loss layer off: a loss would stay unbacked debt that nothing pays, "
        "the stablecoin short of its backing until a later proposal restores a layer",
    ),
    ("collateral", "auction_cap"): (
        lambda cap: cap == 0,
        "0 lets no auction of the type start: its unsafe vaults would stay unliquidated while "
        "their losses grow (stopping auctions at once is the guardian's emergency stop)",
    ),
    ("system", "max_debt_in_auction"): (
        lambda cap: cap == 0,
        "0 lets no auction of any type start: unsafe vaults would stay unliquidated while "
        "their losses grow (stopping auctions at once is the guardian's emergency stop)",
    ),
}


def _refusal(
    place: Place,
    data: dict[str, Any],
    source: str,
    config_text: str,
    config: SystemConfig | None,
) -> list[str]:
    """The line of REFUSED_VALUES for the key at `place`, judged on the config read with the
    whole proposal, or, where that did not read (another key's mistake, named apart), with this
    key alone (a key that does not read alone is named by the config's own line)."""
    table, name, key = place
    rule = REFUSED_VALUES.get((table, key))
    if rule is None:
        return []
    if config is None:
        document = _merged(_subset(data, [place]), source, config_text)[0]
        try:
            config = parse_config(document, source)
        except ConfigError:
            return []
    if table == "collateral":
        value = getattr(next(c for c in config.collateral if c.name == name), key)
    elif table == "backstop":
        value = config.waterfall.order if key == "waterfall" else getattr(config.waterfall, key)
    else:
        value = getattr(config, key)
    test, why = rule
    return [f"{source}: {_where(place)}: {why}"] if test(value) else []


def proposal_calls(
    b: Any, d: Deployment, config: SystemConfig, places: list[Place]
) -> tuple[list[Call], list[Change]]:
    """The Timelock calls that put `config`'s values of `places` in force, and each change's
    before (read from the chain now) and after. A setter that carries several keys (a type's
    penalty and auction cap) is called once, with the keys not proposed as the chain has them.
    ProposalError (every one, a line each): more calls than a proposal holds, or a change no
    proposal can make safely yet (the deleverage layer added without a keeper holding its
    role)."""
    calls: list[Call] = []
    changes: list[Change] = []
    problems: list[str] = []
    done: set[tuple[str, str]] = set()
    by_name = {c.name: c for c in config.collateral}
    proposed: dict[tuple[str, str], set[str]] = {}
    for table, name, key in places:
        proposed.setdefault((table, name), set()).add(key)
    for place in places:
        table, name, key = place
        setter = _SETTERS[table][key]
        c = by_name.get(name)
        t = d.types[name] if name else None
        try:
            befores, afters, call = setter(b, d, config, c, t, proposed[(table, name)])
        except ProposalError as exc:
            if str(exc) not in problems:  # (a setter of several keys refuses once)
                problems.append(str(exc))
            continue
        group = (name, call[1])
        if group not in done:
            done.add(group)
            calls.append(call)
        changes.append(Change(_where(place), befores[key], afters[key]))
    if any(target == d.fees and fn.startswith("set_pool_") for target, fn, _ in calls):
        # the fees earned before the change are split at the old value: every type accrued
        # first (set_pool_fee_share and set_pool_max_yield do not accrue)
        calls[:0] = [_ACCRUE.build(d, t, ()) for t in d.types.values()]
    if len(calls) > MAX_CALLS:
        problems.append(
            f"{len(calls)} calls: a proposal holds at most {MAX_CALLS} (split it in two)"
        )
    if problems:
        raise ProposalError("\n".join(problems))
    return calls, changes


def judge(b: Any, d: Deployment, changes: list[Change], source: str) -> tuple[list[str], list[str]]:
    """What a proposal's changes do, judged against the chain now (`ape run govern propose`,
    before anything is sent): (refusals, warnings), a line each (docs/governance.md, "Judged,
    not only read"). Refused: a proposal every key of which already holds its value (it would
    change nothing). Warned: a key that already holds its value beside keys that change (its
    call is harmless; the file may be stale); a global debt ceiling below every type's ceiling
    (the types' own ceilings, and the CeilingManager's moves, can no longer bind) or below the
    debt drawn now (no vault can borrow more): a ceiling that binds first is a choice governance
    may make, to cap or freeze borrowing."""
    refusals: list[str] = []
    warnings: list[str] = []
    same = [c for c in changes if c.before == c.after]
    if changes and len(same) == len(changes):
        held = ", ".join(setting_text(c.where, c.after) for c in same)
        refusals.append(f"{source}: proposes no change: each key already holds its value ({held})")
    else:
        warnings += [
            f"{source}: {setting_text(c.where, c.after)} is the value in force: this key "
            "changes nothing"
            for c in same
        ]
    for c in changes:
        if c.where != "system.global_debt_ceiling" or c.before == c.after:
            continue
        key = _schema_key(c.where)
        ceilings = {n: b.view(d.engine, "debt_ceiling", t.type_id) for n, t in d.types.items()}
        issued = b.view(d.engine, "total_issued")
        facts = []
        if ceilings and c.after < min(ceilings.values()):
            each = ", ".join(f"{n} {_human(key, v)}" for n, v in ceilings.items())
            facts.append(f"below every type's ceiling ({each}): theirs can no longer bind")
        if c.after < issued:
            drawn = _human(key, (issued + RAD // 2) // RAD * RAD)  # to a whole stablecoin
            facts.append(f"below the debt drawn now (about {drawn}): no vault can borrow more")
        if facts:
            warnings.append(f"{source}: {setting_text(c.where, c.after)} is " + "; ".join(facts))
    return refusals, warnings


# ------------------------------------------------------------------ the setters


@dataclass(frozen=True)
class SetterCall:
    """The call that puts keys of a proposal in force, `contract.function(*lead, *values)`: the
    values those of `keys`, in order, in the contracts' units. Both ways: `proposal_calls`
    builds it, `call_settings` reads a queued one back into the config's keys."""

    contract: str  # a Deployment field ("engine"); "oracle": the collateral type's own oracle
    function: str
    # the arguments before the values: "type_id" (the type's), "auction" (the type's auction,
    # as the Liquidator holds it), or a Deployment field ("stability_pool")
    lead: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()

    def address(self, d: Deployment, t: Any) -> str:
        return t.oracle if self.contract == "oracle" else getattr(d, self.contract)

    def build(self, d: Deployment, t: Any, values: tuple[Any, ...], held: Any = None) -> Call:
        """The call with `values` (`held`: the lead values the chain holds, by name)."""
        lead = tuple(self._lead(x, d, t, held or {}) for x in self.lead)
        args = tuple(list(v) if isinstance(v, tuple) else v for v in values)  # an order: a list
        return (self.address(d, t), self.function, lead + args)

    @staticmethod
    def _lead(name: str, d: Deployment, t: Any, held: dict[str, Any]) -> Any:
        if name in held:
            return held[name]
        if name == "type_id":
            return t.type_id
        if name == "auction":
            return t.auction
        return getattr(d, name)


@dataclass(frozen=True)
class _Setter:
    """How one or more keys are put in force: `read(b, d, t)` the keys' values on chain (and
    any lead argument the chain holds, by name), `value(config, c)` the proposal's, `check(
    before, after)` a change no proposal can make safely yet (its line), or None."""

    call: SetterCall
    read: Callable[[Any, Deployment, Any], dict[str, Any]]
    value: Callable[[SystemConfig, Any], dict[str, Any]]
    check: Callable[[dict[str, Any], dict[str, Any]], str | None] | None = None

    def __call__(
        self, b: Any, d: Deployment, config: SystemConfig, c: Any, t: Any, proposed: set[str]
    ) -> tuple[dict[str, Any], dict[str, Any], Call]:
        held = self.read(b, d, t)
        before = {k: held[k] for k in self.call.keys}
        new = self.value(config, c)
        # a setter of several keys: the keys not proposed as the chain holds them (a key
        # changed by an earlier proposal is not put back to the recorded config's)
        after = {k: new[k] if k in proposed else before[k] for k in self.call.keys}
        if self.check is not None:
            why = self.check(before, after)
            if why:
                raise ProposalError(why)
        return before, after, self.call.build(d, t, tuple(after.values()), held)


def _system_setter(key: str, contract: str, getter: str, setter: str, value: Any) -> _Setter:
    """A system-wide key set by `contract.setter(value)` and read by `contract.getter()`."""
    return _Setter(
        SetterCall(contract, setter, (), (key,)),
        lambda b, d, t: {key: b.view(getattr(d, contract), getter)},
        lambda config, c: {key: value(config)},
    )


def _type_setter(key: str, contract: str, getter: str, setter: str, field: str) -> _Setter:
    """A collateral type's key set by `contract.setter(type id, value)` and read by
    `contract.getter(type id)` (a PriceOracle's by `getter()` on the type's own oracle)."""
    call = SetterCall(contract, setter, () if contract == "oracle" else ("type_id",), (key,))

    def read(b: Any, d: Deployment, t: Any) -> dict[str, Any]:
        if contract == "oracle":
            return {key: b.view(t.oracle, getter)}
        return {key: b.view(getattr(d, contract), getter, t.type_id)}

    return _Setter(call, read, lambda config, c: {key: getattr(c, field)})


def _penalty_and_cap(b: Any, d: Deployment, t: Any) -> dict[str, Any]:
    auction, penalty, cap = b.view(d.liquidator, "types", t.type_id)[:3]
    return {"auction": auction, "liquidation_penalty": penalty, "auction_cap": cap}


_SURPLUS_KEYS = ("surplus_buffer", "surplus_lot", "debt_auction_bid")
_SURPLUS_VIEWS = ("surplus_buffer", "surplus_lot", "debt_auction_bid_size")
_PENALTY_AND_CAP = _Setter(
    SetterCall(
        "liquidator",
        "configure_type",
        ("type_id", "auction"),
        ("liquidation_penalty", "auction_cap"),
    ),
    _penalty_and_cap,
    lambda config, c: {"liquidation_penalty": c.liquidation_penalty, "auction_cap": c.auction_cap},
)
_SURPLUS_GROUP = _Setter(
    SetterCall("backstop", "set_auction_parameters", (), _SURPLUS_KEYS),
    lambda b, d, t: {k: b.view(d.backstop, v) for k, v in zip(_SURPLUS_KEYS, _SURPLUS_VIEWS)},
    lambda config, c: {k: getattr(config.waterfall, k) for k in _SURPLUS_KEYS},
)


def _deleverage_added(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    # its losses are charged only by a keeper holding the DELEVERAGE role (or an admin), which
    # a proposal of parameters cannot grant yet: the layer would park them
    if Layer.DELEVERAGE in after["waterfall"] and Layer.DELEVERAGE not in before["waterfall"]:
        return (
            "backstop.waterfall: adding the deleverage layer needs a keeper granted the "
            "DELEVERAGE role, which no proposal can grant yet"
        )
    return None


_WATERFALL = _Setter(
    SetterCall("backstop", "set_waterfall", (), ("waterfall",)),
    lambda b, d, t: {"waterfall": tuple(b.view(d.backstop, "get_waterfall"))},
    lambda config, c: {"waterfall": tuple(int(layer) for layer in config.waterfall.order)},
    _deleverage_added,
)
# the accrual of a type's fees a pool setter is preceded by (proposal_calls): no key
_ACCRUE = SetterCall("fees", "accrue", ("type_id",))

_SETTERS: dict[str, dict[str, _Setter]] = {
    "system": {
        "global_debt_ceiling": _system_setter(
            "global_debt_ceiling",
            "engine",
            "global_debt_ceiling",
            "set_global_debt_ceiling",
            lambda config: config.global_debt_ceiling,
        ),
        "max_debt_in_auction": _system_setter(
            "max_debt_in_auction",
            "liquidator",
            "max_debt_in_auction",
            "set_max_debt_in_auction",
            lambda config: config.max_debt_in_auction,
        ),
        "backstop_queue_delay": _system_setter(
            "backstop_queue_delay",
            "backstop",
            "queue_delay",
            "set_queue_delay",
            lambda config: config.backstop_queue_delay,
        ),
    },
    "backstop": {
        "waterfall": _WATERFALL,
        "deleverage_buffer": _system_setter(
            "deleverage_buffer",
            "backstop",
            "deleverage_buffer",
            "set_deleverage_buffer",
            lambda config: config.waterfall.deleverage_buffer,
        ),
        "pool_fee_share": _Setter(
            SetterCall("fees", "set_pool_fee_share", ("stability_pool",), ("pool_fee_share",)),
            lambda b, d, t: {"pool_fee_share": b.view(d.fees, "pool_fee_share")},
            lambda config, c: {"pool_fee_share": config.waterfall.pool_fee_share},
        ),
        "pool_max_yield": _system_setter(
            "pool_max_yield",
            "fees",
            "pool_max_yield",
            "set_pool_max_yield",
            lambda config: config.waterfall.pool_max_yield,
        ),
        "surplus_buffer": _SURPLUS_GROUP,
        "surplus_lot": _SURPLUS_GROUP,
        "debt_auction_bid": _SURPLUS_GROUP,
    },
    "collateral": {
        "dust": _type_setter("dust", "engine", "dust", "set_dust", "dust"),
        "liquidation_ratio": _type_setter(
            "liquidation_ratio",
            "spotter",
            "liquidation_ratios",
            "set_liquidation_ratio",
            "liquidation_ratio",
        ),
        "oracle_max_change": _type_setter(
            "oracle_max_change", "oracle", "max_change", "set_max_change", "oracle_max_change"
        ),
        "oracle_max_age": _type_setter(
            "oracle_max_age", "oracle", "max_age", "set_max_age", "oracle_max_age"
        ),
        "stability_fee": _Setter(
            SetterCall("fees", "set_base_fee", ("type_id",), ("stability_fee",)),
            lambda b, d, t: {"stability_fee": b.view(d.fees, "fees", t.type_id)[0]},
            lambda config, c: {"stability_fee": c.base_fee},
        ),
        "liquidation_penalty": _PENALTY_AND_CAP,
        "auction_cap": _PENALTY_AND_CAP,
    },
}
# every call a proposal is built of, by function name: (its table, the call)
_CALLS: dict[str, list[tuple[str, SetterCall]]] = {}
for _table_name, _setters in _SETTERS.items():
    for _setter in dict.fromkeys(_setters.values()):
        _CALLS.setdefault(_setter.call.function, []).append((_table_name, _setter.call))
_CALLS.setdefault(_ACCRUE.function, []).append(("collateral", _ACCRUE))


def call_settings(
    d: Deployment, target: str, function: str, args: tuple[Any, ...]
) -> list[tuple[str, Any]] | None:
    """A queued call read back into the config's keys it sets: [(where, value in the contracts'
    units)] (empty for a type's fee accrual), or None for a call `propose` does not build (another
    function or target, a lead argument other than the one `propose` gives)."""
    for table, call in _CALLS.get(function, []):
        if len(args) != len(call.lead) + len(call.keys):
            continue
        lead, values = tuple(args[: len(call.lead)]), args[len(call.lead) :]
        for name, t in d.types.items() if table == "collateral" else [("", None)]:
            address, _, built = call.build(d, t, values)
            if address == target and tuple(built[: len(lead)]) == lead:
                return [(_where((table, name, key)), v) for key, v in zip(call.keys, values)]
    return None


def call_text(d: Deployment, names: dict[str, str], target: str, function: str, args: tuple) -> str:
    """One queued call as `ape run govern show` prints it: `Contract.function: where = value,
    ...` in the config's names and units, as `propose` printed it (setting_text); a call
    `propose` does not build, `Contract.function(arguments)` with a type's id by its name."""
    label = f"{names.get(target, target)}.{function}"
    settings = call_settings(d, target, function, args)
    if settings:
        return f"{label}: " + ", ".join(setting_text(where, v) for where, v in settings)
    by_id = {t.type_id: name for name, t in d.types.items()}

    def text(value: Any) -> str:
        if isinstance(value, bytes):
            return by_id.get(value, "0x" + value.hex())
        if isinstance(value, (tuple, list)):
            return "[" + ", ".join(text(v) for v in value) + "]"
        return str(value)

    return f"{label}({', '.join(text(a) for a in args)})"


# the config's keys by a proposal's table: those without a setter here are set at deployment
# (constructor arguments, names, the token, the pool's seed) or not yet proposable
# keys with a setter that a proposal of this one key would misuse
_NOT_YET = {
    "debt_ceiling": (
        "no proposal can change it yet: the CeilingManager moves a type's ceiling within its "
        "ceiling_max and gap (its next update undoes a set ceiling)"
    ),
    "oracle_delay": (
        "no proposal can change it yet: the stability pool's exposure delay (3 x the longest "
        "oracle delay, set at deployment) would have to move with it"
    ),
}
_CONFIG_KEYS: dict[str, set[str]] = {
    "system": set(SYSTEM.keys) - {"collateral"},
    "backstop": set(WATERFALL.keys),
    "collateral": set(COLLATERAL.keys),
}
