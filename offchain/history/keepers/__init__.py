"""Models of the keepers of MakerDAO's liquidation days (2020 and 2021), not Backstop's keepers:
per mechanism family (flip.py, clip.py), and their transactions through the day's gas market
(transactions.py)."""
