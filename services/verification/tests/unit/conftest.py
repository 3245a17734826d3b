"""Builders for measurement periods used across the M&V unit tests."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date

import pytest

from cleanprod_verification.mv.inputs import CarrierQuantity, Period, Quantity

MonthBuilder = Callable[..., Period]


def month(
    year: int,
    month_: int,
    production: float,
    consumption: dict[str, tuple[float, str]],
    *,
    production_unit: str = "t",
    cdd: float | None = None,
    hdd: float | None = None,
) -> Period:
    """A calendar-month period (inclusive end date) with the given production and consumption."""
    last = calendar.monthrange(year, month_)[1]
    return Period(
        start=date(year, month_, 1),
        end=date(year, month_, last),
        production=Quantity(production, production_unit),
        consumption=[CarrierQuantity(c, q, u) for c, (q, u) in consumption.items()],
        cdd=cdd,
        hdd=hdd,
    )


@pytest.fixture
def make_month() -> MonthBuilder:
    return month


def months_from(year: int, first_month: int, count: int) -> list[tuple[int, int]]:
    out = []
    y, m = year, first_month
    for _ in range(count):
        out.append((y, m))
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out


@pytest.fixture
def month_sequence() -> Callable[[int, int, int], list[tuple[int, int]]]:
    return months_from
