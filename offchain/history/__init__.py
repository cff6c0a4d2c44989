"""A model of MakerDAO's 2020 Flipper and Cat, not a twin of any Backstop contract.

Black Thursday (2020-03-12) as it ran under MakerDAO's liquidation system of the day: the Cat
(`cat.py`) bit unsafe vaults into English "flip" auctions (`flip.py`), keepers bid through the
day's gas market (`keepers.py`), and `day.py` replays the day bar by bar. The ledger pieces both
contracts touch are in `vat.py`. Written from dss's published rules (src/flip.sol and src/cat.sol
as deployed at MCD's launch and still running on the day); nothing here is Backstop's own
mechanism, whose exact twins live in `offchain/model/`.

The system of the day was MCD's launch Cat, "liquidations 1.0": 1.1 (mid 2020) and 1.2 (31
August 2020: the Cat's `box` limit on DAI in auction, `dunk` instead of `lump`) came after it.
"""
