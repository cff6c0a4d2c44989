"""`ape run NAME` first executes every script in scripts/ (Ape's ScriptCommand builds its list of
commands from them, twice) and only then runs NAME. Whatever a script does at its top level is
paid by every command, so each scripts/NAME.py only stands in for its command, scripts/_NAME.py,
loaded when it runs (offchain/system/cli.py's DeferredCommand): listing them imports none of
the commands' modules (pandas, web3, ape-foundry's provider, matplotlib's pyplot, hypothesis:
~4 s of CPU per `ape run` when the commands lay there) and loads no project (loading it
validates the whole compiled manifest)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from offchain.system.cli import DeferredCommand

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "web3", "ape_foundry.provider", "matplotlib.pyplot", "hypothesis")

LISTING = f"""
import sys

from ape.utils.basemodel import ManagerAccessMixin
from ape_run._cli import ScriptCommand

commands = ScriptCommand().commands
print(",".join(sorted(commands)))
print(ManagerAccessMixin.__dict__["local_project"]._cache is None)
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
print(",".join(m for m in sys.modules if m.startswith("backstop_script_")))
# ape-foundry's Anvil, once its provider is imported (Ape's connection), prunes its history
from ape_foundry.provider import FoundryProvider
print(getattr(FoundryProvider.build_command, "prunes_history", False))
# each command loaded: the click command of its scripts/_NAME.py, with the option Ape added
for name, command in sorted(commands.items()):
    loaded = command.loaded()
    print(name, loaded.name, "verbosity" in [p.name for p in loaded.params])
"""


def test_listing_the_scripts__every_one_found__none_of_their_modules_imported():
    out = subprocess.run(
        [sys.executable, "-c", LISTING], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    stems = sorted(p.stem for p in (ROOT / "scripts").glob("*.py") if not p.stem.startswith("_"))
    assert sorted(p.stem for p in (ROOT / "scripts").glob("_*.py")) == [f"_{s}" for s in stems]
    lines = out.stdout.splitlines()
    names, unloaded, heavy, commands, pruned = lines[:5]
    assert names.split(",") == stems
    assert unloaded == "True", "a script loads the project at its top level"
    assert heavy == "", f"listing the scripts imported {heavy}"
    assert commands == "", f"listing the scripts loaded {commands}"
    assert pruned == "True", "ape-foundry's Anvil would keep its history on disk"
    for stem, line in zip(stems, lines[5:], strict=True):
        name, loaded_name, verbosity = line.split()
        assert (name, loaded_name, verbosity) == (stem, stem, "True")


def test_deferred_command__click_reaches_the_loaded_command(tmp_path):
    """Run, help and usage errors through the stand-in are the loaded command's; an option
    added to the stand-in before it loads (as Ape adds --verbosity, its value not passed to the
    callback) is the loaded one's too."""
    (tmp_path / "_greet.py").write_text(
        "import click\n\n"
        "@click.command()\n"
        "@click.option('--who', type=int, required=True)\n"
        "def cli(who):\n"
        '    """Say hello."""\n'
        "    click.echo(f'hello {who}')\n"
    )
    stub = DeferredCommand(str(tmp_path / "greet.py"))
    stub.params.append(click.Option(["--loud"], is_flag=True, expose_value=False))
    assert stub.name == "greet"
    assert stub.get_short_help_str() == "Say hello."
    assert stub.to_info_dict(click.Context(stub))["help"] == "Say hello."
    runner = CliRunner()
    assert runner.invoke(stub, ["--who", "7"]).output == "hello 7\n"
    assert "--loud" in runner.invoke(stub, ["--help"]).output
    assert runner.invoke(stub, ["--who", "7", "--loud"]).exit_code == 0
    bad = runner.invoke(stub, ["--who", "x"])
    assert bad.exit_code == 2 and "'x' is not a valid integer" in bad.output

    group = click.Group("tool", commands={"greet": stub})
    assert runner.invoke(group, ["greet", "--who", "3"]).output == "hello 3\n"
