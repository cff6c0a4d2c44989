"""Gas policies: what a bot bids [wei] on its first attempt and on each replacement of a
transaction that is stuck (not mined after some blocks or seconds), at the same nonce.

A replacement must bid at least 10% more on both fees or nodes refuse it
(`replacement transaction underpriced`), so an escalating policy multiplies by at least 1.125.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

GWEI = 10**9
MIN_BUMP_PPM = 1_125_000  # a replacement bids at least 12.5% more (nodes ask for 10%)
PPM = 1_000_000


class GasPolicy(Protocol):
    @property
    def cap(self) -> int:
        """No bid above this [wei per gas]."""
        ...

    def fees(self, base_fee: int, attempt: int) -> tuple[int, int] | None:
        """(max fee per gas, max priority fee per gas) [wei] of attempt `attempt` (0 = the first
        send) at the block's `base_fee`; None when the policy will not bid again (its cap)."""
        ...


@dataclass(frozen=True)
class FixedGas:
    """Always the same bid; a stuck transaction is never replaced (attempts > 0: None)."""

    max_fee: int
    priority_fee: int

    @property
    def cap(self) -> int:
        return self.max_fee

    def fees(self, base_fee: int, attempt: int) -> tuple[int, int] | None:
        if attempt > 0:
            return None
        return self.max_fee, self.priority_fee


@dataclass(frozen=True)
class GeometricGas:
    """The priority fee starts at `priority_fee` and is multiplied by `factor_ppm` / 1e6 per
    attempt; the max fee is twice the base fee plus the priority fee (the base fee may double
    before it is mined). No bid above `cap` [wei per gas]: past it, None. (The transaction
    manager raises a replacement's fees to at least 1.125 x the replaced one's as well.)"""

    priority_fee: int = 1 * GWEI
    factor_ppm: int = MIN_BUMP_PPM
    max_fee: int = 500 * GWEI

    @property
    def cap(self) -> int:
        return self.max_fee

    def __post_init__(self) -> None:
        if self.factor_ppm < MIN_BUMP_PPM:
            raise ValueError(
                f"gas escalation factor {self.factor_ppm / PPM} is below 1.125: nodes refuse "
                "replacements that bid less than 10% more"
            )

    def fees(self, base_fee: int, attempt: int) -> tuple[int, int] | None:
        priority = self.priority_fee
        for _ in range(attempt):
            priority = -(-priority * self.factor_ppm // PPM)
        max_fee = 2 * base_fee + priority
        if max_fee > self.max_fee:
            return None
        return max_fee, priority
