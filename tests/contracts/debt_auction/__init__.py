"""Tests of contracts/DebtAuction.vy: governance tokens sold for stablecoin to cover bad debt."""
