"""Tests of contracts/StabilityPool.vy: layer POOL of the loss waterfall."""
