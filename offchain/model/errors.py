"""The typed exception every model contract raises where its on-chain twin reverts."""

from __future__ import annotations


class Revert(Exception):
    """A model call reverted.

    `reason` is the contract's revert string ("engine: not safe"), or None where the EVM reverts
    without one (arithmetic overflow or underflow, a failed conversion).
    """

    def __init__(self, reason: str | None):
        super().__init__(reason if reason is not None else "<no reason: arithmetic>")
        self.reason = reason


def require(condition: bool, reason: str) -> None:
    """Revert with `reason` unless `condition` holds (Vyper's `assert condition, reason`)."""
    if not condition:
        raise Revert(reason)
