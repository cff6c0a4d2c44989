"""Tests of contracts/CollateralPool.vy: the constant-product pool of collateral against
stablecoin.
"""
