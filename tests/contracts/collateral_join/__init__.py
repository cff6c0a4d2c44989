"""Tests of contracts/CollateralJoin.vy: ERC-20 collateral in and out of the engine."""
