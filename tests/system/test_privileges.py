"""The table of the contracts' entry points (offchain/system/privileges.py) against the contracts
themselves: every state-changing function of every deployed contract's ABI has a class (a new
one without fails here, by name, until it is classed: the notifier would otherwise say nothing
of a proposal that calls it, issue 72), no class names a function the ABI lacks, and a function
whose source checks its caller (an admin, a role, the owner, a minter, a feeder, one contract,
the Timelock itself) is never `public`."""

from __future__ import annotations

import re
from pathlib import Path

import snekmate

from offchain.backends import MODEL_FACTORIES
from offchain.system.privileges import (
    CLASSES,
    GRANT,
    PUBLIC,
    RIGHTS,
    TABLE,
    VALUE,
    class_of,
)
from offchain.testing.fuzz import Artifacts

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
SNEKMATE = Path(next(iter(snekmate.__path__)))
# contracts/*.vy that no deployment deploys: the BatchReader's code is only run by eth_call
NOT_DEPLOYED = {"BatchReader"}
# an access check at the top of a function: an admin or a role (authorized.vy), the owner or a
# minter (snekmate), a feeder, one caller (a contract, the proposer, the Timelock itself)
GUARD = re.compile(
    r"(auth|self)\._check_(authorized|role)\(|_check_owner\(\)|assert msg\.sender ==|"
    r"assert self\.(is_minter|feeders)\[msg\.sender\]"
)


def _writes(abi: list[dict]) -> set[str]:
    """The names of the state-changing functions of an ABI."""
    return {
        item["name"]
        for item in abi
        if item.get("type") == "function" and item.get("stateMutability") not in ("view", "pure")
    }


def test_every_state_changing_function_of_every_deployed_contract_has_a_class(
    artifacts: Artifacts,
):
    abis, _ = artifacts
    missing = [
        f"{name}.{function}"
        for name in MODEL_FACTORIES
        for function in sorted(_writes(abis[name][0]))
        if class_of(name, function) is None
    ]
    assert not missing, (
        "not classed in offchain/system/privileges.py (grant, value, vault limit, parameter or "
        f"public; the notifier says nothing of a proposal that calls them): {', '.join(missing)}"
    )
    stale = [
        f"{name}.{function}"
        for name, functions in TABLE.items()
        for function in functions
        if name not in abis or function not in _writes(abis[name][0])
    ]
    assert not stale, f"classed but no state-changing function of the ABI: {', '.join(stale)}"
    assert set(TABLE) == set(MODEL_FACTORIES)
    assert {c for functions in TABLE.values() for c in functions.values()} <= set(CLASSES)


def test_every_contract_source_is_deployed_or_named_as_not():
    sources = {p.stem for p in CONTRACTS.glob("*.vy")}
    assert sources - NOT_DEPLOYED == set(MODEL_FACTORIES)


def _module_paths(source: str) -> list[Path]:
    """The module files a contract imports (its own modules, snekmate's)."""
    out = []
    for package, module in re.findall(r"^from (\S+) import (\w+)", source, re.M):
        if package == "modules":
            out.append(CONTRACTS / "modules" / f"{module}.vy")
        elif package.startswith("snekmate."):
            out.append(SNEKMATE / package.split(".", 1)[1] / f"{module}.vy")
    return [p for p in out if p.exists()]


def _external_bodies(path: Path) -> dict[str, str]:
    """name -> body text of each @external function of a Vyper source."""
    lines = path.read_text().splitlines()
    out = {}
    for i, line in enumerate(lines):
        match = re.match(r"def (\w+)\(", line)
        if not match:
            continue
        decorators = []
        k = i - 1
        while k >= 0 and lines[k].startswith("@"):
            decorators.append(lines[k])
            k -= 1
        if "@external" not in decorators:
            continue
        # the signature ends at the first line ending in ":" (a long one closes at column 0)
        j = i
        while not lines[j].split("#")[0].rstrip().endswith(":"):
            j += 1
        body = []
        for text in lines[j + 1 :]:
            if text and not text[0].isspace():
                break
            body.append(text)
        out[match.group(1)] = "\n".join(body)
    return out


def _guarded(name: str) -> dict[str, bool]:
    """function -> whether it checks its caller, for contract `name`'s own and exported
    module functions."""
    path = CONTRACTS / f"{name}.vy"
    bodies: dict[str, str] = {}
    for module in _module_paths(path.read_text()):
        bodies.update(_external_bodies(module))
    bodies.update(_external_bodies(path))
    return {function: bool(GUARD.search(body)) for function, body in bodies.items()}


def test_a_function_that_checks_its_caller_is_never_public__one_that_does_not_moves_value():
    """Read in the source: a guarded function is classed by what its holder can do (never
    `public`); an unguarded one is `public`, or `value` or `grant` for what it does with the
    caller's own balances (the Timelock's, made from a proposal), never a setter's class."""
    wrong = []
    for name, functions in TABLE.items():
        guarded = _guarded(name)
        for function, kind in functions.items():
            assert function in guarded, f"{name}.{function}: no @external source found"
            if guarded[function] and kind == PUBLIC:
                wrong.append(f"{name}.{function} checks its caller but is classed public")
            if not guarded[function] and kind not in (PUBLIC, VALUE, GRANT):
                wrong.append(f"{name}.{function} checks no caller but is classed {kind}")
    assert not wrong, "\n".join(wrong)


def test_every_grant_names_the_right_and_its_receiver():
    grants = {f for functions in TABLE.values() for f, kind in functions.items() if kind == GRANT}
    assert grants == set(RIGHTS)
