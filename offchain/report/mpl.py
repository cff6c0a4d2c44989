"""matplotlib without a display, imported when a plot is drawn, not when a module that can draw
one is imported: `ape run NAME` imports every script in scripts/ (Ape builds its list of
commands from them) before it runs NAME, and pyplot is close to a second of that on a small
machine (tests/system/test_script_listing.py)."""

from __future__ import annotations


def pyplot():
    """matplotlib.pyplot on the Agg backend (PNG files, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def ticker():
    import matplotlib.ticker as mticker

    return mticker


def dates():
    import matplotlib.dates as mdates

    return mdates
