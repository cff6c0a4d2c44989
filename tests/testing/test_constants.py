"""Hypothesis' local constants pinned (offchain/testing/constants.py): a derandomized run draws
the same examples before and after the process imports a module with new constants, which
Hypothesis' own pool does not (the CI failure of the storage encoder's walk, docs/testing.md)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers

from offchain.testing import constants, fuzz

# integers no other source of the project holds, drawn only if Hypothesis reads this module
NOVEL = [700_000_001 + 7919 * i for i in range(400)]


def _draws() -> list[int]:
    """A derandomized property's examples (its seed: the source of `collect`, so every call
    draws from the same seed). 1,000 of them: about 25 from the local pool, so that a run
    with the module draws one of its constants however many the suite has imported (each
    local draw is one of NOVEL's with a chance of a third or more)."""
    seen: list[int] = []

    @settings(derandomize=True, max_examples=1000, database=None, phases=[Phase.generate])
    @given(st.integers(0, 10**9))
    def collect(x: int) -> None:
        seen.append(x)

    collect()
    return seen


@pytest.fixture
def novel_module(tmp_path: Path, request) -> Iterator[str]:
    """A module, named for the test, holding NOVEL: written, imported by `import_it()`, removed
    from sys.modules and sys.path afterwards."""
    name = f"novel_constants_{request.node.name.split('__')[-1]}"
    (tmp_path / f"{name}.py").write_text(f"VALUES = {NOVEL!r}\n")
    sys.path.insert(0, str(tmp_path))
    try:
        yield name
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


def test_constants__unpinned__an_imported_module_changes_a_derandomized_run(novel_module):
    """Hypothesis' own pool: the same derandomized property draws other examples once one more
    module is imported, some of them that module's constants (what this module guards
    against; were Hypothesis to stop doing it, this test says the pin is no longer needed)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(providers, "_get_local_constants", constants.UNPINNED)
        providers.CONSTANTS_CACHE.cache.clear()
        before = _draws()
        __import__(novel_module)
        after = _draws()
    providers.CONSTANTS_CACHE.cache.clear()
    assert before != after
    assert set(after) & set(NOVEL)
    assert not set(before) & set(NOVEL)


def test_constants__pinned__an_imported_module_changes_nothing(novel_module):
    """Pinned, the examples before and after the import are the same, none of them the
    module's constants."""
    with constants.pinned():
        before = _draws()
        __import__(novel_module)
        after = _draws()
    assert before == after
    assert not set(after) & set(NOVEL)


def test_constants__pinned__the_pool_is_the_models_and_is_drawn():
    """The pinned pool is the model's literals (basis points, a day, the fee's per-second
    ceiling), it is the one Hypothesis reads inside, and a derandomized run draws from it."""
    pool = constants.model_constants()
    assert {10_000, 86_400, 1_000_000_076_036_763_191_000_000_000} <= set(pool.integers)
    assert not set(NOVEL) & set(pool.integers)
    with constants.pinned() as pinned:
        assert pinned is pool
        assert providers._get_local_constants() is pool
        drawn = _draws()
    assert set(drawn) & set(pool.integers)


def test_constants__pinned__a_pool_cached_before_the_pin_is_not_drawn(novel_module):
    """Hypothesis caches the permitted constants per choice type: drawn unpinned with the
    module imported, the cache holds its constants; pinned afterwards, none of them is drawn
    (the pin clears the cache), and the examples are the pinned ones."""
    with constants.pinned():
        pinned_before = _draws()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(providers, "_get_local_constants", constants.UNPINNED)
        __import__(novel_module)
        unpinned = _draws()
        assert set(unpinned) & set(NOVEL)  # the cache holds the module's constants now
        with constants.pinned():
            pinned_after = _draws()
    providers.CONSTANTS_CACHE.cache.clear()
    assert pinned_after == pinned_before
    assert not set(pinned_after) & set(NOVEL)


def test_constants__the_test_session__is_pinned():
    """tests/conftest.py's session fixture: every test draws from the model's pool."""
    assert providers._get_local_constants() is constants.model_constants()


def test_constants__run_machine__pins_outside_the_test_session(revm, monkeypatch):
    """`run_machine` (the bench's and `make mutate`'s entry, outside pytest) pins the pool
    itself: run with Hypothesis' own pool in place, the machine runs under the model's."""
    seen = []
    monkeypatch.setattr(providers, "_get_local_constants", constants.UNPINNED)
    monkeypatch.setattr(
        fuzz,
        "run_state_machine_as_test",
        lambda machine, settings: seen.append(providers._get_local_constants()),
    )
    fuzz.run_machine(revm, "full", settings(max_examples=1))
    assert seen == [constants.model_constants()]
    assert seen[0] is constants.model_constants()
