"""A model of MakerDAO's Liquidations 2.0 price calculators (dss src/abaci.sol: the
`StairstepExponentialDecrease` ETH-A's Clipper read on 2021-05-19; `LinearDecrease`, which dss's
own Clipper tests use), not Backstop's mechanism and
not a twin of any contract: an auction's price falls by the factor `cut` every `step` seconds
from its start, top x cut^(floor(elapsed / step)).

The power is dss's `rpow` with its rounding to the nearest unit at each squaring and each
multiplication (half up), so the model's price is the contract's to the unit. Two refusals dss
makes without a reason (a step of 0 divides by zero; rpow's overflow) are named by the model
("StairstepExponentialDecrease/step-zero", "rpow/overflow") so that a test can tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from offchain.history.mechanisms.vat import Refusal
from offchain.model.fixed_point import RAY

__all__ = ["AbacusError", "LinearDecrease", "StairstepExponentialDecrease", "rpow"]


class AbacusError(Refusal):
    """An abacus refusal, with abaci.sol's revert text."""


def rpow(x: int, n: int, b: int) -> int:
    """x^n in base `b` (x and the result scaled by b), as dss's assembly rpow computes it:
    square-and-multiply, each product rounded half up; 0^0 = b."""
    if n == 0:
        return b
    if x == 0:
        return 0
    z = x if n % 2 else b
    half = b // 2
    n //= 2
    while n:
        if x >> 128:
            raise AbacusError("rpow/overflow")  # dss reverts without a reason here
        x = (x * x + half) // b
        if n % 2:
            z = (z * x + half) // b
        n //= 2
    return z


@dataclass
class StairstepExponentialDecrease:
    """top x cut^(dur / step): `cut` [ray] the factor per step, `step` [s] between drops."""

    cut: int = 0
    step: int = 0

    def file(self, what: str, data: int) -> None:
        if what == "cut":
            if data > RAY:
                raise AbacusError("StairstepExponentialDecrease/cut-gt-RAY")
            self.cut = data
        elif what == "step":
            self.step = data
        else:
            raise AbacusError("StairstepExponentialDecrease/file-unrecognized-param")

    def price(self, top: int, dur: int) -> int:
        """The price [ray] `dur` seconds after an auction started at `top` [ray] (rounded down
        by rmul). A step of 0 divides by zero: dss reverts (no reason)."""
        if self.step == 0:
            raise AbacusError("StairstepExponentialDecrease/step-zero")
        return top * rpow(self.cut, dur // self.step, RAY) // RAY


@dataclass
class LinearDecrease:
    """top x (tau - dur) / tau, 0 from `tau` [s] on."""

    tau: int = 0

    def file(self, what: str, data: int) -> None:
        if what != "tau":
            raise AbacusError("LinearDecrease/file-unrecognized-param")
        self.tau = data

    def price(self, top: int, dur: int) -> int:
        if dur >= self.tau:
            return 0
        return top * ((self.tau - dur) * RAY // self.tau) // RAY
