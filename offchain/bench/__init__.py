"""`ape run bench`'s measurements (figures.py); the command line is scripts/bench.py."""
