# pragma version ~=0.4.3
"""
@title constants
@notice The fixed-point units every contract shares (as in dss): wad for amounts, ray for
        rates and prices, rad for stablecoin balances inside the engine (rad = wad x ray,
        exact). One definition, used as `constants.WAD` etc.; the off-chain model has the same
        values in offchain/model/fixed_point.py.
"""

# 1e18: amounts (collateral, stablecoin outside the engine, governance token)
WAD: constant(uint256) = 10**18
# 1e27: rates, prices with margin, ratios
RAY: constant(uint256) = 10**27
# 1e45: stablecoin balances inside the engine (= WAD * RAY)
RAD: constant(uint256) = 10**45
# a wad times WAD_TO_RAY is a ray
WAD_TO_RAY: constant(uint256) = 10**9
# A counter that often comes back to zero keeps a set bit above its count from deployment on,
# never cleared, so its storage slot is never emptied: the next update after a quiet spell
# costs 5k gas (a slot already written) instead of the 22.1k of creating it. The counts stay
# far below the bit; additions and subtractions keep it; views mask it off. The top bit of a
# word is KEPT_SET (VaultEngine's total unbacked debt, the Liquidator's debt-in-auction
# counters, the Backstop's attributed debt); a count in a narrower field keeps the top bit of
# its field instead (the Backstop's open loss events, bit 63).
KEPT_SET: constant(uint256) = 2**255
