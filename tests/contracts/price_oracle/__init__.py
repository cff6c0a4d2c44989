"""Tests of contracts/PriceOracle.vy: posted, queued and current prices."""
