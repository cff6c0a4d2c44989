"""Live keepers on a devnet: the deployment record, signers, the transaction manager, the
checkpointed vault index, the bots (which call the simulator's strategies through
offchain/sim/strategies/observe.py), the devnet's market driver and live reconciliation
(docs/keepers.md)."""
