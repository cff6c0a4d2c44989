"""Tests of contracts/Backstop.vy: loss events, the loss waterfall, settling and the debt and
surplus auctions' start.
"""
