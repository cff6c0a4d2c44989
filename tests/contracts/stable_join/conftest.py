"""Fixtures of the tests of contracts/StableJoin.vy."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _dust_100(dust_100) -> None:
    """Every test here runs with the dust lowered to 100 BUSD (`dust_100`,
    tests/contracts/conftest.py)."""
