"""The package's layers (README, docs/architecture.md): model <- backends <- system <- sim <-
report <- sweep, with testing beside sim on top of system, live on top of sim and testing (a
governance rehearsal runs the fuzz's specification on the fork), history on top of sweep (its
runs go through the sweep's executors),
and bench (what `make bench`
measures) above all. A module may import from its own layer and the layers below it, never from
a layer above: a twin of a contract never reaches for a backend, the simulator never for the
report."""

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
    # live keepers: the simulator's strategies and observers, on a real node; a governance
    # rehearsal checks the execution on the fork with the fuzz's specification (testing)
    "live": {"model", "backends", "system", "sim", "testing", "live"},
    "sweep": {"model", "backends", "system", "sim", "report", "sweep"},
    # the history check: another protocol's model, read with the lab's market data and gas
    # model, written with the report's publishing, its independent runs mapped by the sweep's
    # executors (a process pool or Dask, as sweeps are)
    "history": {"model", "backends", "system", "sim", "report", "sweep", "history"},
    # `make bench` measures every layer: the top, nothing imports it
    "bench": {"model", "backends", "system", "sim", "testing", "live", "report", "sweep", "bench"},
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


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """module -> the offchain modules it imports (anywhere in it, TYPE_CHECKING blocks too)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for _, module in _imports(path):
            while module and module not in modules:  # `from offchain.sim import x`: the package
                module = module.rpartition(".")[0]
            if module and module != name:
                targets.add(module)
        graph[name] = targets
    return graph


def test_layers__no_import_cycle():
    """No module reaches itself through imports (Tarjan's strongly connected components)."""
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_layers__no_private_name_imported_from_another_module():
    """A module's `_names` are its own: what another module needs is public (ruff's PLC2701
    sees offchain/ as one package, so this checks across its modules; `make lint` runs the rule
    for tests/ and scripts/)."""
    wrong = []
    root = PACKAGE.parent
    for path in sorted([*PACKAGE.rglob("*.py"), *(root / "scripts").glob("*.py")]):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if not node.module.startswith("offchain"):
                    continue
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        wrong.append(
                            f"{path.relative_to(root)}:{node.lineno} imports {alias.name} "
                            f"from {node.module}"
                        )
    assert not wrong, "\n".join(wrong)
