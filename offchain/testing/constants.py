"""Hypothesis' pool of "local constants", pinned to the model's (docs/testing.md, "Derandomized
runs").

Hypothesis draws about one integer in twenty from a pool of constants: its own, and those in the
source of the project's modules (test files aside) that are in `sys.modules` when an example is
generated (rescanned when their number changes). A
derandomized run therefore drew other examples after a test that had imported one more module:
the storage encoder's walk (tests/testing/test_storage_encoder.py) wrote StabilityPool.shares when
its file ran alone, and did not after tests/backends had imported the gas scenarios and the
Hardhat backend; CI failed on it while every run of the file alone passed.

`pinned()` replaces that pool, for its duration, by the constants of the model's source files
(offchain/model/, read by path, in sorted order): the same examples whatever ran before in the
process, and other examples only when a literal of the model changes. The model's constants are
the contracts' (fees' bounds, basis points, time spans), the ones worth drawing more often.

This reaches into Hypothesis' internals (`providers._get_local_constants`, `CONSTANTS_CACHE`,
`constants_ast._constants_from_source`: the pool is collected by Hypothesis' own rules);
Hypothesis is pinned (pyproject.toml), and a version without them fails here with one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from hypothesis.internal import constants_ast
from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants

MODEL = Path(__file__).resolve().parents[1] / "model"

if not (
    callable(getattr(providers, "_get_local_constants", None))
    and hasattr(providers, "CONSTANTS_CACHE")
    and callable(getattr(constants_ast, "_constants_from_source", None))
):
    raise RuntimeError(
        "this Hypothesis lacks the internals offchain/testing/constants.py pins: pin the version"
        " in pyproject.toml (6.170.15) or port that module"
    )
# Hypothesis' own: the constants of the local modules in sys.modules (tests/testing/
# test_constants.py shows what it does to a derandomized run)
UNPINNED = providers._get_local_constants


@cache
def model_constants() -> Constants:
    """The constants Hypothesis would collect from every source file of offchain/model/ (not
    a hidden file: an editor's lock `.#x.py` is a dangling link)."""
    pool = Constants()
    for path in sorted(MODEL.rglob("*.py")):
        if path.name.startswith(".") or not path.is_file():
            continue
        pool |= constants_ast._constants_from_source(path.read_bytes(), limit=True)
    return pool


@contextmanager
def pinned() -> Iterator[Constants]:
    """Hypothesis' local constants are `model_constants()` inside (nested uses are harmless)."""
    pool = model_constants()
    previous = providers._get_local_constants
    providers._get_local_constants = lambda: pool
    # the cache holds the permitted constants per choice type, the old pool's among them
    providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield pool
    finally:
        providers._get_local_constants = previous
        providers.CONSTANTS_CACHE.cache.clear()
