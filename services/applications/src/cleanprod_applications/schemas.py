"""Request/response building blocks shared by the applications service's domains."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer

from cleanprod_kit.fields import CalendarDate, Flag, PatchBody, ProgrammeDate, StrictBody, Text

Text200 = Text(200)
Text300 = Text(300)
LongText = Text(10_000, multiline=True)
Reason = Text(4_000, multiline=True)
Code = Text(32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
SectorCode = Text(32, pattern=r"^[a-z0-9][a-z0-9_\-]*$")

MAX_VND = 10**15  # a quadrillion đồng: far above any programme budget, far below BIGINT's limit


def _integral(value: object) -> object:
    """JSON Schema's `integer` includes 34120658.0, so a number with no fraction is that integer; strings, booleans
    and fractions stay refused by the strict check (found by Schemathesis on a funding-source change)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Integral = BeforeValidator(_integral)
Vnd = Annotated[int, Integral, Field(ge=0, le=MAX_VND, strict=True, description="Amount in VND (integer đồng)")]
PositiveVnd = Annotated[int, Integral, Field(gt=0, le=MAX_VND, strict=True, description="Amount in VND (integer đồng)")]
BasisPoints = Annotated[int, Integral, Field(ge=1, le=10_000, strict=True, description="Basis points: 10 000 = 100 %")]
Percent = Annotated[float, Field(gt=0, le=100, allow_inf_nan=False, description="Percent, e.g. 7.5")]

# Decimals travel as JSON numbers (pydantic's default would be a string).
DecimalNumber = Annotated[Decimal, PlainSerializer(lambda d: float(d), return_type=float, when_used="json")]


__all__ = ["CalendarDate", "Flag", "PatchBody", "ProgrammeDate", "StrictBody", "Text"]
