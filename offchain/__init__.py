"""Backstop's off-chain reference model: one module per contract, the same integer math.

`offchain.vault_engine.VaultEngine` is the twin of `contracts/VaultEngine.vy`, and so on.
Every model call takes the caller (`sender`) first and raises `offchain.errors.Revert` with the
contract's revert reason where the contract reverts; a reverted call leaves no trace
(`offchain.state.Env.transact`).
"""
