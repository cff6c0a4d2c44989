"""Twin of contracts/modules/price_curves.vy: a Dutch auction's falling price."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from offchain.model.errors import require
from offchain.model.fixed_point import RAY, div_up, rmul_up, rpow_up, u256


class CurveKind(IntEnum):
    """The price curves of modules/price_curves.vy; `label` is the config's name."""

    LINEAR = 0
    STAIRSTEP = 1
    EXPONENTIAL = 2

    @property
    def label(self) -> str:
        return self.name.lower()


LINEAR, STAIRSTEP, EXPONENTIAL = CurveKind


class Curve(NamedTuple):
    kind: int = LINEAR
    duration: int = 0  # LINEAR: seconds to zero
    step: int = 0  # STAIRSTEP: seconds per step
    cut: int = 0  # STAIRSTEP: factor per step; EXPONENTIAL: factor per second [ray]


def validate(curve: Curve) -> None:
    require(curve.kind <= EXPONENTIAL, "curve: unknown kind")
    if curve.kind == LINEAR:
        require(curve.duration != 0, "curve: zero duration")
    else:
        require(curve.cut < RAY, "curve: cut not below 1")
        if curve.kind == STAIRSTEP:
            require(curve.step != 0, "curve: zero step")


def price(curve: Curve, top: int, elapsed: int) -> int:
    if curve.kind == LINEAR:
        if elapsed >= curve.duration:
            return 0
        return div_up(u256(top * (curve.duration - elapsed)), curve.duration)
    if curve.kind == STAIRSTEP:
        return rmul_up(top, rpow_up(curve.cut, elapsed // curve.step))
    return rmul_up(top, rpow_up(curve.cut, elapsed))
