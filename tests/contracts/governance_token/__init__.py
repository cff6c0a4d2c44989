"""Tests of contracts/GovernanceToken.vy: the governance token."""
