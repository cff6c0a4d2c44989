"""`ape run simulate`: the command is scripts/_simulate.py, loaded when it runs. `ape run` executes
every file here to list the commands (offchain/system/cli.py's DeferredCommand says why)."""

from offchain.system.cli import DeferredCommand

cli = DeferredCommand(__file__)
