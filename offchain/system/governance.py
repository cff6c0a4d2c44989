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
from offchain.model.fixed_point import WAD
from offchain.model.timelock import MAX_CALLS
from offchain.system.config import ConfigError, SystemConfig, parse_config
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
        names; a stability fee as its per-second factor in ray, as the contract holds it)."""
        table, key = self.where.split(".")[0], self.where.split(".")[-1]
        schema = {"system": SYSTEM, "backstop": WATERFALL, "collateral": COLLATERAL}[table]
        k = schema[key]
        return f"{self.where}: {_human(k, self.before)} -> {_human(k, self.after)}"


def _human(key: Key, value: Any) -> str:
    if key.kind is Kind.LAYERS:
        return "[" + ", ".join(Layer(v).label for v in value) + "]"
    # the loaders' own conversions of a decimal key (the penalty in wad; a yearly fee becomes a
    # per-second factor, shown as the contract holds it)
    unit = WAD if key.name == "liquidation_penalty" else key.unit
    if key.kind in (Kind.AMOUNT, Kind.DECIMAL) and unit != 1:
        text = f"{Decimal(value) / unit:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    if key.name == "stability_fee":
        return f"{value} (per-second factor, ray)"
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
    a line each (a key unknown or without a setter, a type not deployed, a value the config
    refuses)."""
    merged, places, problems = _merged(data, source, config_text)
    types = {c.get("name"): i for i, c in enumerate(merged.get("collateral", []))}
    for place in places:
        if place[2] not in _SETTERS[place[0]]:
            what = _NOT_YET.get(
                place[2], "no proposal can change it yet: it is set when the contracts are deployed"
            )
            if place[2] not in _CONFIG_KEYS[place[0]]:
                what = "unknown key"
            problems.append(f"{source}: {_where(place)}: {what}")
    if not places and not problems:
        problems.append(f"{source}: proposes no change")
    if problems:
        raise ProposalError("\n".join(problems))
    try:
        config = parse_config(merged, source)
    except ConfigError as exc:
        lines = str(exc).splitlines()
        for name, i in types.items():  # the proposal's own names for a type's keys
            lines = [x.replace(f"collateral[{i}]", f"collateral.{name}") for x in lines]
        raise ProposalError("\n".join(lines)) from None
    return config, places


def proposal_calls(
    b: Any, d: Deployment, config: SystemConfig, places: list[Place]
) -> tuple[list[Call], list[Change]]:
    """The Timelock calls that put `config`'s values of `places` in force, and each change's
    before (read from the chain now) and after. A setter that carries several keys (a type's
    penalty and auction cap) is called once, with the keys not proposed as the chain has them.
    ProposalError: more calls than a proposal holds, or a change no proposal can make safely
    yet (the deleverage layer added without a keeper holding its role)."""
    calls: list[Call] = []
    changes: list[Change] = []
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
        befores, afters, call = setter(b, d, config, c, t, proposed[(table, name)])
        group = (name, call[1])
        if group not in done:
            done.add(group)
            calls.append(call)
        changes.append(Change(_where(place), befores[key], afters[key]))
    if any(target == d.fees and fn.startswith("set_pool_") for target, fn, _ in calls):
        # the fees earned before the change are split at the old value: every type accrued
        # first (set_pool_fee_share and set_pool_max_yield do not accrue)
        calls[:0] = [(d.fees, "accrue", (t.type_id,)) for t in d.types.values()]
    if len(calls) > MAX_CALLS:
        raise ProposalError(
            f"{len(calls)} calls: a proposal holds at most {MAX_CALLS} (split it in two)"
        )
    return calls, changes


def _kept(before: dict[str, Any], after: dict[str, Any], proposed: set[str]) -> dict[str, Any]:
    """A multi-key setter's arguments: the proposed keys' new values, the others as the chain
    holds them (a key changed by an earlier proposal is not put back to the recorded config's)."""
    return {k: after[k] if k in proposed else before[k] for k in before}


def _one(
    key: str, read: Callable[..., Any], make: Callable[..., Call], value: Callable[..., Any]
) -> _Setter:
    """A setter of one key: `read(b, d, t)` its value on chain, `value(config, c)` the
    proposal's, `make(d, t, v)` the call."""

    def setter(
        b: Any, d: Deployment, config: SystemConfig, c: Any, t: Any, proposed: set[str]
    ) -> Any:
        after = value(config, c)
        return {key: read(b, d, t)}, {key: after}, make(d, t, after)

    return setter


def _penalty_and_cap(
    b: Any, d: Deployment, config: SystemConfig, c: Any, t: Any, proposed: set[str]
) -> Any:
    auction, penalty, cap = b.view(d.liquidator, "types", t.type_id)[:3]
    before = {"liquidation_penalty": penalty, "auction_cap": cap}
    after = _kept(
        before,
        {"liquidation_penalty": c.liquidation_penalty, "auction_cap": c.auction_cap},
        proposed,
    )
    call = (d.liquidator, "configure_type", (t.type_id, auction, *after.values()))
    return before, after, call


def _surplus_group(
    b: Any, d: Deployment, config: SystemConfig, c: Any, t: Any, proposed: set[str]
) -> Any:
    names = ("surplus_buffer", "surplus_lot", "debt_auction_bid")
    views = ("surplus_buffer", "surplus_lot", "debt_auction_bid_size")
    before: dict[str, Any] = dict(zip(names, (b.view(d.backstop, v) for v in views)))
    w = config.waterfall
    after = _kept(
        before, dict(zip(names, (w.surplus_buffer, w.surplus_lot, w.debt_auction_bid))), proposed
    )
    return before, after, (d.backstop, "set_auction_parameters", tuple(after.values()))


def _waterfall(
    b: Any, d: Deployment, config: SystemConfig, c: Any, t: Any, proposed: set[str]
) -> Any:
    before = tuple(b.view(d.backstop, "get_waterfall"))
    after = tuple(int(layer) for layer in config.waterfall.order)
    if Layer.DELEVERAGE in after and Layer.DELEVERAGE not in before:
        # its losses are charged only by a keeper holding the DELEVERAGE role (or an admin),
        # which a proposal of parameters cannot grant yet: the layer would park them
        raise ProposalError(
            "backstop.waterfall: adding the deleverage layer needs a keeper granted the "
            "DELEVERAGE role, which no proposal can grant yet"
        )
    return (
        {"waterfall": before},
        {"waterfall": after},
        (d.backstop, "set_waterfall", (list(after),)),
    )


_Setter = Callable[[Any, Deployment, SystemConfig, Any, Any, set[str]], Any]


def _type_setter(key: str, contract: str, getter: str, setter: str, field: str) -> _Setter:
    """A collateral type's key set by `contract.setter(type id, value)` and read by
    `contract.getter(type id)` (a PriceOracle's by `getter()` on the type's own oracle)."""

    def address(d: Deployment, t: Any) -> str:
        return getattr(t, contract) if contract == "oracle" else getattr(d, contract)

    def read(b: Any, d: Deployment, t: Any) -> Any:
        if contract == "oracle":
            return b.view(t.oracle, getter)
        return b.view(address(d, t), getter, t.type_id)

    def make(d: Deployment, t: Any, v: Any) -> Call:
        args = (v,) if contract == "oracle" else (t.type_id, v)
        return (address(d, t), setter, args)

    return _one(key, read, make, lambda config, c: getattr(c, field))


def _system_setter(key: str, contract: str, getter: str, setter: str, value: Any) -> _Setter:
    return _one(
        key,
        lambda b, d, t: b.view(getattr(d, contract), getter),
        lambda d, t, v: (getattr(d, contract), setter, (v,)),
        value,
    )


_SETTERS: dict[str, dict[str, _Setter]] = {
    "system": {
        "global_debt_ceiling": _system_setter(
            "global_debt_ceiling",
            "engine",
            "global_debt_ceiling",
            "set_global_debt_ceiling",
            lambda config, c: config.global_debt_ceiling,
        ),
        "max_debt_in_auction": _system_setter(
            "max_debt_in_auction",
            "liquidator",
            "max_debt_in_auction",
            "set_max_debt_in_auction",
            lambda config, c: config.max_debt_in_auction,
        ),
        "backstop_queue_delay": _system_setter(
            "backstop_queue_delay",
            "backstop",
            "queue_delay",
            "set_queue_delay",
            lambda config, c: config.backstop_queue_delay,
        ),
    },
    "backstop": {
        "waterfall": _waterfall,
        "deleverage_buffer": _system_setter(
            "deleverage_buffer",
            "backstop",
            "deleverage_buffer",
            "set_deleverage_buffer",
            lambda config, c: config.waterfall.deleverage_buffer,
        ),
        "pool_fee_share": _one(
            "pool_fee_share",
            lambda b, d, t: b.view(d.fees, "pool_fee_share"),
            lambda d, t, v: (d.fees, "set_pool_fee_share", (d.stability_pool, v)),
            lambda config, c: config.waterfall.pool_fee_share,
        ),
        "pool_max_yield": _system_setter(
            "pool_max_yield",
            "fees",
            "pool_max_yield",
            "set_pool_max_yield",
            lambda config, c: config.waterfall.pool_max_yield,
        ),
        "surplus_buffer": _surplus_group,
        "surplus_lot": _surplus_group,
        "debt_auction_bid": _surplus_group,
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
        "stability_fee": _one(
            "stability_fee",
            lambda b, d, t: b.view(d.fees, "fees", t.type_id)[0],
            lambda d, t, v: (d.fees, "set_base_fee", (t.type_id, v)),
            lambda config, c: c.base_fee,
        ),
        "liquidation_penalty": _penalty_and_cap,
        "auction_cap": _penalty_and_cap,
    },
}
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
