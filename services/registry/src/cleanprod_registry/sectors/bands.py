"""Capacity bands of the norm circulars, written as text ("<20 million L/yr", "20-100 million L/yr",
">=300 t product/yr", ">50000 t/yr (integrated)"), parsed into numeric bounds so a facility's capacity picks
its band by comparison. A band given as "a-b" includes both ends; "<"/">" exclude, "<="/">=" include."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cleanprod_kit.errors import InvalidValue

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_RANGE = re.compile(rf"^\s*{_NUMBER}\s*[-–—]\s*{_NUMBER}\b")
_BOUND = re.compile(rf"^\s*(<=|>=|≤|≥|<|>)\s*{_NUMBER}\b")


@dataclass(frozen=True)
class Band:
    minimum: float | None
    min_inclusive: bool
    maximum: float | None
    max_inclusive: bool

    def contains(self, value: float) -> bool:
        if self.minimum is not None and (value < self.minimum or (value == self.minimum and not self.min_inclusive)):
            return False
        if self.maximum is not None and (value > self.maximum or (value == self.maximum and not self.max_inclusive)):
            return False
        return True


def _num(text: str) -> float:
    return float(text.replace(",", "."))


def parse_band(text: str | None) -> Band:
    if not text or not text.strip():
        return Band(None, True, None, True)
    if match := _RANGE.match(text):
        return Band(_num(match.group(1)), True, _num(match.group(2)), True)
    if match := _BOUND.match(text):
        op, value = match.group(1), _num(match.group(2))
        if op in ("<", "<=", "≤"):
            return Band(None, True, value, op != "<")
        return Band(value, op != ">", None, True)
    raise InvalidValue(
        "invalid_capacity_band",
        f"capacity band '{text}' is not understood; write e.g. '<20 million L/yr' or '20-100 t/yr'",
        band=text,
    )


def normalise_band_text(text: str) -> str:
    """Compare band labels loosely: any dash, spacing and case."""
    return re.sub(r"\s+", " ", re.sub(r"[–—]", "-", text)).strip().lower()
