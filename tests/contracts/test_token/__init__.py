"""Tests of contracts/TestToken.vy: the snekmate ERC-20 collateral token of the devnet."""
