"""Tests of contracts/VaultEngine.vy: vaults, balances, rates and bad debt."""
