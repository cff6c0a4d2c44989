"""Models of MakerDAO's liquidation mechanisms (dss), not Backstop's and not twins of any contract:
the 2020 Cat and Flipper, the 2021 Dog, Clipper and abacus, the Vat they share and the OSM. Each
refusal is a `Refusal` carrying dss's revert text."""
