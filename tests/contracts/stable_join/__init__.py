"""Tests of contracts/StableJoin.vy: engine stablecoin in and out as the ERC-20 Stablecoin."""
