"""What a crash replay runs: the scenario. `load.py` builds a typed `Scenario` (`types.py`) from a
built-in name, a scenario file or a bare price CSV, reading each table with `reader.py`,
`market.py`, `actors.py` and `protocol.py` and checking the debt ceilings with `ceilings.py`
(a bare CSV's keepers and block space from the built-in day of its year: `day_lineup.py`);
`variants.py` makes another order, seed or phase of one. Beside them, the inputs a scenario
names: the market data (`market_data.py`), a further type's price path (`correlated.py`), the
seeded vault population (`population.py`) and the run's clock (`timeline.py`)."""
