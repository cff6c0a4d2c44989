"""What a run produces and what is read from it: its tables and result (`tables.py`), the
bookkeeping kept from its events (`ledger.py`), the end-of-run accounting (`insolvency.py`), the
limits that bound it (`limits.py`), what became of the keepers' actions (`keeper_outcomes.py`),
and two runs side by side: a chain run against a model run (`reconcile.py`) and a run against
the same one without price impact (`cascade.py`)."""
