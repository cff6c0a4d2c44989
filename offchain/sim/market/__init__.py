"""The market around the protocol during a run: the price impact of liquidation sales and its
recovery (`impact.py`), the collateral pool's depth following a reserves file (`liquidity.py`),
and one collateral type's side of a run, its paths, impact, vault index and ledger
(`type_market.py`)."""
