"""Models of another protocol's liquidations (MakerDAO's), not Backstop's mechanism and not a twin
of any contract: what ran on real crash days, replayed beside the figures history published, and
the same eves under Backstop (backstop.py).

Rooms:
- `mechanisms/`: another protocol's mechanisms, from dss's published code: the 2020 Cat and
  Flipper ("liquidations 1.0", cat.py, flip.py), the 2021 Dog, Clipper and abacus
  ("Liquidations 2.0", dog.py, clip.py, abaci.py), the Vat they share (vat.py) and the OSM
  (oracle.py);
- `keepers/`: the keepers of those days, per family (flip.py, clip.py), and how their
  transactions reached the chain (transactions.py: gas bids, the lab's latency model, block
  space);
- `days/`: the days, each a file of settings with their sources and the published outcomes
  (black_thursday_2020.py, may_2021.py), the eves' vaults (eve_2020.py, eve_2021.py) and the
  outside market's calibration (calibration.py);
- `replay/`: one day runner per mechanism family (flip.py, clip.py): a day file in, a result out;
- `outside.py`: the day's outside market, from the lab's shared market room
  (offchain/sim/market/: the venue, the resale queue, DAI's price).
"""
