"""Tests of contracts/FlashTaker.vy: an auction take paid for by a swap in the pool."""
