"""`ape run NAME` first executes every script in scripts/ (Ape's ScriptCommand builds its list of
commands from them, twice) and only then runs NAME. Whatever a script does at its top level is
paid by every command, so no script loads the project there: loading it validates the whole
compiled manifest (seconds of CPU per `ape run`, many times per test run); nor does importing
them draw in matplotlib's pyplot (offchain/report/mpl.py imports it when a plot is drawn)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LISTING = """
import sys

from ape.utils.basemodel import ManagerAccessMixin
from ape_run._cli import ScriptCommand

names = sorted(ScriptCommand().commands)
print(",".join(names))
print(ManagerAccessMixin.__dict__["local_project"]._cache is None)
print("matplotlib.pyplot" in sys.modules)
"""


def test_listing_the_scripts__every_one_found__no_project_loaded_no_pyplot():
    out = subprocess.run(
        [sys.executable, "-c", LISTING], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    names, unloaded, pyplot = out.stdout.splitlines()[-3:]
    assert names.split(",") == sorted(p.stem for p in (ROOT / "scripts").glob("*.py"))
    assert unloaded == "True", "a script loads the project at its top level"
    assert pyplot == "False", "a script imports matplotlib.pyplot at its top level"
