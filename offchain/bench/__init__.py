"""`ape run bench`'s measurements (figures.py); the command line is scripts/_bench.py."""
