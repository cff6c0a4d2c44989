"""docs/simulation.md's table of the built-ins before and after the open market (issue 64) is what
`python -m offchain.report.before_after` prints today: the page cannot drift from the lab."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from offchain.report.before_after import markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "simulation.md"
BLOCK = re.compile(
    r"<!-- before-after: python -m offchain.report.before_after -->\n(.*?)\n<!-- /before-after -->",
    re.S,
)


@pytest.mark.slow
def test_docs_table__the_command_s_output__every_figure():
    found = BLOCK.search(DOC.read_text())
    assert found, "docs/simulation.md has no before-after block"
    assert found.group(1).strip() == markdown().strip()
