"""Fixtures of the live keeper tests (live_support.py): a devnet per test, bot processes."""

from live_support import artifacts, bots, deployed_state, devnet  # noqa: F401
