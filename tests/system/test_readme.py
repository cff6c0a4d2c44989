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


def test_three_terminals__each_ape_command_comes_after_the_path_line_and_finds_ape():
    section = _section("Keepers on a devnet: three terminals")
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    lines = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    commands = [line for line in lines if line]
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
