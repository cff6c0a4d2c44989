"""One day runner per family of another protocol's mechanisms (MakerDAO's, modelled; not
Backstop's): flip.py (the 2020 Cat and Flipper), clip.py (the 2021 Dog and Clipper). Each turns a
day file (days/) into a run."""
