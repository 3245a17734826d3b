"""Exact arithmetic shared by the rules: VND as int, rates in basis points, ratios as Fraction.

Why not float: 0.1 + 0.2 != 0.3, and a grant computed as 1_000_000_000 * 0.3 can land one đồng off.
Money is always an integer number of đồng; a rate is an integer number of basis points
(1 bp = 0.01 %, so 10_000 bp = 100 %, 3_000 bp = 30 %), which the database stores as an integer too and
which covers every rate a programme actually publishes. Ratios that come out of measurements (verified
vs claimed savings, scores) are kept as ``fractions.Fraction`` so comparisons against thresholds are exact.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

BP_SCALE = 10_000
"""Basis points in one whole (100 %)."""

Number = int | Decimal | Fraction | float


def check_vnd(value: object, name: str, *, positive: bool = False) -> int:
    """Return ``value`` if it is a valid amount of đồng, else raise.

    Only plain ints are accepted: a float or Decimal amount means somebody already lost precision upstream.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer number of VND, got {type(value).__name__}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be greater than 0 VND, got {value}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def check_basis_points(value: object, name: str, *, allow_zero: bool = False) -> int:
    """Return ``value`` if it is an int in (0, 10_000] basis points (or [0, 10_000] with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer number of basis points, got {type(value).__name__}")
    low = 0 if allow_zero else 1
    if not low <= value <= BP_SCALE:
        raise ValueError(f"{name} must be between {low} and {BP_SCALE} basis points, got {value}")
    return value


def bp(value: int) -> Fraction:
    """Basis points as an exact fraction of one: ``bp(3_000) == Fraction(3, 10)``."""
    return Fraction(value, BP_SCALE)


def to_fraction(value: object, name: str) -> Fraction:
    """Convert a finite number to an exact Fraction; refuse anything else (bool, str, None, NaN, inf).

    A float is read through its shortest repr, so ``0.1`` becomes exactly 1/10 — the number the person
    typed — rather than the binary approximation 3602879701896397/36028797018963968.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got bool")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value}")
        return Fraction(Decimal(repr(value)))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name} must be a finite number, got {value}")
        return Fraction(value)
    raise TypeError(f"{name} must be a number, got {type(value).__name__}")


def floor_share(amount_vnd: int, share: Fraction) -> int:
    """``floor(amount × share)`` in exact integer arithmetic (payouts round down: in the programme's favour)."""
    return amount_vnd * share.numerator // share.denominator


def ceil_share(amount_vnd: int, share: Fraction) -> int:
    """``ceil(amount × share)`` (amounts owed back to the programme round up: in the programme's favour)."""
    return -(-amount_vnd * share.numerator // share.denominator)


def format_vnd(amount_vnd: int) -> str:
    """Vietnamese grouping with dots, as on Vietnamese invoices: ``1500000000`` → ``'1.500.000.000 VND'``."""
    return f"{amount_vnd:,} VND".replace(",", ".")


def round_half_up(value: Fraction, places: int = 2) -> Decimal:
    """``value`` rounded half away from zero to ``places`` decimals (for display; never compare these)."""
    scaled = abs(value) * 10**places
    rounded = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
    return (Decimal(rounded) if value >= 0 else -Decimal(rounded)).scaleb(-places)


def format_pct(value: object, places: int = 2, *, round_down: bool = False) -> str:
    """A percentage for messages, Vietnamese style: ``Fraction(65, 2)`` → ``'32,5 %'``, ``70`` → ``'70 %'``.

    ``round_down`` truncates instead, for a value shown next to a bar it failed: 69.996 must not read "70 %".
    """
    exact = to_fraction(value, "percentage")
    if round_down:
        scale = 10**places
        shown = Decimal(math.floor(exact * scale)).scaleb(-places)
    else:
        shown = round_half_up(exact, places)
    text = f"{shown:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",") + " %"
