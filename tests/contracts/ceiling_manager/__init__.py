"""Tests of contracts/CeilingManager.vy: the debt ceiling that follows a type's debt."""
