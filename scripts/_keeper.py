"""`ape run keeper --role ROLE [--account dev:N | ALIAS] ...`: one long-running keeper bot
(liquidator, taker, backstop operator or devnet price feeder) against the deployment recorded
in deployments/<chain id>-<genesis>.json. See offchain/live/cli.py and docs/keepers.md."""

from offchain.live.cli import cli

__all__ = ["cli"]
