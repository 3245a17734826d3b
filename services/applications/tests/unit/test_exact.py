from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import pytest

from cleanprod_applications.domain.exact import (
    bp,
    ceil_share,
    check_basis_points,
    check_vnd,
    floor_share,
    format_pct,
    format_vnd,
    round_half_up,
    to_fraction,
)
from cleanprod_kit.local_time import local_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, Fraction(3)),
        (Decimal("7.5"), Fraction(15, 2)),
        (0.1, Fraction(1, 10)),  # what was typed, not the binary approximation
        (Fraction(2, 3), Fraction(2, 3)),
        (-2, Fraction(-2)),
    ],
)
def test_to_fraction_is_exact(value, expected):
    assert to_fraction(value, "x") == expected


@pytest.mark.parametrize("value", [True, "7", None, [1]])
def test_to_fraction_refuses_non_numbers(value):
    with pytest.raises(TypeError):
        to_fraction(value, "x")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity")])
def test_to_fraction_refuses_non_finite(value):
    with pytest.raises(ValueError):
        to_fraction(value, "x")


def test_check_vnd():
    assert check_vnd(0, "a") == 0
    assert check_vnd(5, "a", positive=True) == 5
    with pytest.raises(ValueError):
        check_vnd(0, "a", positive=True)
    with pytest.raises(ValueError):
        check_vnd(-1, "a")
    for bad in (1.0, Decimal(1), True, "1"):
        with pytest.raises(TypeError):
            check_vnd(bad, "a")


def test_check_basis_points():
    assert check_basis_points(10_000, "r") == 10_000
    assert check_basis_points(0, "r", allow_zero=True) == 0
    for bad in (0, 10_001, -5):
        with pytest.raises(ValueError):
            check_basis_points(bad, "r")
    with pytest.raises(TypeError):
        check_basis_points(0.3, "r")


def test_shares_round_in_the_programmes_favour():
    assert bp(3_333) == Fraction(3333, 10000)
    assert floor_share(10, Fraction(1, 3)) == 3
    assert ceil_share(10, Fraction(1, 3)) == 4
    assert floor_share(9, Fraction(1, 3)) == ceil_share(9, Fraction(1, 3)) == 3
    assert floor_share(0, Fraction(1, 3)) == ceil_share(0, Fraction(1, 3)) == 0


def test_formatting_for_vietnamese_readers():
    assert format_vnd(1_500_000_000) == "1.500.000.000 VND"
    assert format_vnd(999) == "999 VND"
    assert format_pct(Fraction(65, 2)) == "32,5 %"
    assert format_pct(70) == "70 %"
    assert format_pct(Fraction(2, 3)) == "0,67 %"
    assert format_pct(Fraction(69996, 1000)) == "70 %"
    assert format_pct(Fraction(69996, 1000), round_down=True) == "69,99 %"
    assert round_half_up(Fraction(1, 200)) == Decimal("0.01")
    assert round_half_up(Fraction(-1, 200)) == Decimal("-0.01")


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2026, 11, 28, 16, 59, 59, tzinfo=UTC), date(2026, 11, 28)),
        (datetime(2026, 11, 28, 17, 0, 0, tzinfo=UTC), date(2026, 11, 29)),
        (datetime(2026, 11, 28, 18, 0, 0, tzinfo=UTC), date(2026, 11, 29)),
        (datetime(2026, 11, 29, 0, 30, tzinfo=timezone(timedelta(hours=7))), date(2026, 11, 29)),
        (datetime(2026, 11, 28, 12, 0, tzinfo=timezone(timedelta(hours=-5))), date(2026, 11, 29)),
    ],
)
def test_local_date_is_hanoi_calendar_date(instant, expected):
    assert local_date(instant) == expected


def test_local_date_refuses_naive_and_plain_dates():
    with pytest.raises(ValueError):
        local_date(datetime(2026, 11, 28, 18, 0))
    with pytest.raises(TypeError):
        local_date(date(2026, 11, 28))
