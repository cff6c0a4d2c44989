"""Backstop's off-chain reference model: one module per contract, the same integer math.

`offchain.model.vault_engine.VaultEngine` is the twin of `contracts/VaultEngine.vy`, and so on.
Every model call takes the caller (`sender`) first and raises `offchain.model.errors.Revert` with
the
contract's revert reason where the contract reverts; a reverted call leaves no trace
(`offchain.model.state.Env.transact`).
"""
