"""Tests of contracts/Stablecoin.vy: the snekmate ERC-20 stablecoin (and EIP-2612 permit)."""
