"""Tests of contracts/FeeAccumulator.vy: stability fees and their split between the pool and the
Backstop.
"""
