"""A running bot follows an executed governance proposal without a restart: the strategies read
once (`World.static`) only what no transaction can change, a contract's immutables; every
parameter with a setter is read each round. Checked on the source: each `world.static(x.field,
"getter")` names a getter the contract declares `public(immutable(...))`."""

from __future__ import annotations

import re
from pathlib import Path

from offchain.live.record import CONTRACT_NAMES

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = ROOT / "offchain" / "sim" / "strategies"
CALL = re.compile(r"\.static\(\s*\w+\.(\w+),\s*\"(\w+)\"")


def test_static_reads__only_immutables_are_read_once():
    found = []
    for path in sorted(STRATEGIES.rglob("*.py")):
        for field, getter in CALL.findall(path.read_text()):
            contract = CONTRACT_NAMES[field]
            source = (ROOT / "contracts" / f"{contract}.vy").read_text()
            immutable = re.search(rf"^{getter}: public\(immutable\(", source, re.MULTILINE)
            found.append((path.name, contract, getter, immutable is not None))
    assert found, "no static read found: the pattern no longer matches the code"
    assert [f for f in found if not f[3]] == [], found
