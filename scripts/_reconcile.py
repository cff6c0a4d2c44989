"""`ape run reconcile [--from-block N] [--every K]`: replay the devnet's transactions since the
deployment in the off-chain model and report every difference, to the wei (0 expected), with
the transactions replayed by kind. See offchain/live/reconcile.py and docs/keepers.md."""

from offchain.live.reconcile import cli

__all__ = ["cli"]
