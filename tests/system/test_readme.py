"""The README's commands work as pasted into a fresh shell (issue 34: the three-terminal section
failed with `ape: command not found`, the PATH hint being in a later section)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _blocks(section: str) -> list[list[str]]:
    """The commands of each ```sh block, comments and blank lines dropped."""
    out = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        lines = [line.split("#")[0].strip() for line in block.splitlines()]
        out.append([line for line in lines if line])
    return out


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", text, re.M))


def test_three_terminals__make_targets_that_exist__in_the_order_of_the_flow():
    """The three terminals are `make` targets (no PATH to set, no background jobs to stop)."""
    first = _blocks(_section("Keepers on a devnet: three terminals"))[0]
    assert first == ["make devnet", "make keepers", "make market", "make reconcile"]
    assert {c.split()[1] for c in first} <= _make_targets()


def test_three_terminals__each_ape_command_comes_after_the_path_line_and_finds_ape():
    section = _section("Keepers on a devnet: three terminals")
    commands = [c for block in _blocks(section) for c in block]
    first_ape = next(i for i, c in enumerate(commands) if c.startswith("ape "))
    exports = [i for i, c in enumerate(commands) if c.startswith("export PATH=")]
    assert exports and exports[0] < first_ape, commands
    # the export line, run in a shell that has only the system's PATH, finds ape and anvil here
    found = subprocess.run(
        ["bash", "-c", f"{commands[exports[0]]}; command -v ape && command -v anvil"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 0, found.stderr
    ape, anvil = found.stdout.split()
    assert ape == str(ROOT / ".venv" / "bin" / "ape")
    assert anvil == str(ROOT / "node_modules" / ".bin" / "anvil")


def test_make_deploy_row__says_what_the_command_prints_about_its_record():
    """The README said `make deploy` writes its record; the command (a node Ape starts and stops
    with it) prints "no record". The row and the command's last line agree."""
    import os

    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^deploy: setup\n\t(.+)$", makefile, re.M)
    assert recipe is not None and recipe.group(1) == "ape run deploy"
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ape"), "run", "deploy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}:{os.environ['PATH']}"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "no record (the node stops with this command)" in out.stdout
    readme = (ROOT / "README.md").read_text()
    row = next(x for x in readme.splitlines() if x.startswith("| `make deploy` |"))
    assert "no record is written" in row and "write its record" not in row
