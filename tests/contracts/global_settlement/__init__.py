"""Tests of contracts/GlobalSettlement.vy: every step of a global settlement."""
