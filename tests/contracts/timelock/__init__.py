"""Tests of contracts/Timelock.vy: governance's queue."""
