"""Tests of contracts/Spotter.vy: the safe price written into the engine."""
