"""Helpers and scenarios shared by the test files of tests/contracts/: one module per area (the
auctions, the loss waterfall, the value gates, ...), each holding the readers, formulas and
scenario steps that tests of several files use; a helper used by one file only stays in that
file. The tests import these under their private names (`from support.waterfall import cover as
_cover`).
"""
