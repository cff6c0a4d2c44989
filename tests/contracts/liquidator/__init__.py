"""Tests of contracts/Liquidator.vy: liquidations, their caps and rewards."""
