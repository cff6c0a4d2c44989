"""The package's layers (README, docs/architecture.md): model <- backends <- system <- sim <-
report <- sweep,
with testing beside sim on top of system. A module may import from its own layer and the layers
below it, never from a layer above: a twin of a contract never reaches for a backend, the
simulator never for the report."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "offchain"
# layer -> the layers it may import from (its own included)
ALLOWED = {
    "model": {"model"},
    "backends": {"model", "backends"},
    "system": {"model", "backends", "system"},
    "sim": {"model", "backends", "system", "sim"},
    # the test harness drives the attacker actor, a strategy beside the keepers in sim
    "testing": {"model", "backends", "system", "sim", "testing"},
    "report": {"model", "backends", "system", "sim", "report"},
    # live keepers: the simulator's strategies and observers, on a real node
    "live": {"model", "backends", "system", "sim", "live"},
    "sweep": {"model", "backends", "system", "sim", "report", "sweep"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
    return [
        (line, name) for line, name in out if name == "offchain" or name.startswith("offchain.")
    ]


def test_layers__every_module_belongs_to_a_layer():
    stray = [p.relative_to(PACKAGE) for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    assert not stray, f"modules outside the layers: {stray}"
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(
        ALLOWED
    )


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers__no_module_imports_upwards(layer):
    wrong = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for line, module in _imports(path):
            parts = module.split(".")
            target = parts[1] if len(parts) > 1 else None
            if target not in ALLOWED[layer]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)
