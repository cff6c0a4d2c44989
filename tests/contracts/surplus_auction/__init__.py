"""Tests of contracts/SurplusAuction.vy: the Backstop's surplus sold for governance tokens, which
are burned.
"""
