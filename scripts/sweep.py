"""`ape run sweep`: the command is scripts/_sweep.py, loaded when it runs. `ape run` executes
every file here to list the commands (offchain/system/cli.py's DeferredCommand says why)."""

from offchain.system.cli import DeferredCommand

cli = DeferredCommand(__file__)
