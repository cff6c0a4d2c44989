"""Tests of contracts/DutchAuction.vy and its price curves: the collateral auctions."""
