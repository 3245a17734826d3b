"""Money, numbers, dates, times and percentages in the user's language."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cleanprod_portal import formatting, i18n

NBSP = "\u00a0"


@pytest.fixture(params=["vi", "en"])
def language(request: pytest.FixtureRequest):
    i18n.set_language(request.param)
    yield request.param
    i18n.set_language("vi")


def test_vnd_groups_thousands_per_language(language: str) -> None:
    expected = {"vi": f"1.234.567{NBSP}₫", "en": f"1,234,567{NBSP}₫"}[language]
    assert formatting.vnd(1_234_567) == expected
    assert formatting.vnd(0) == f"0{NBSP}₫"
    assert formatting.vnd(None) == ""


def test_percent_uses_the_decimal_comma_in_vietnamese(language: str) -> None:
    assert formatting.percent(6.5) == {"vi": f"6,5{NBSP}%", "en": f"6.5{NBSP}%"}[language]
    assert formatting.percent(8) == f"8{NBSP}%"
    assert formatting.basis_points(5000) == f"50{NBSP}%"
    assert formatting.basis_points(1250) == {"vi": f"12,5{NBSP}%", "en": f"12.5{NBSP}%"}[language]


def test_dates_are_day_month_year(language: str) -> None:
    assert formatting.local_date("2026-11-28") == "28/11/2026"
    assert formatting.local_date(date(2026, 1, 5)) == "05/01/2026"
    assert formatting.local_date(None) == ""


def test_instants_are_shown_in_hanoi_time() -> None:
    # 18:30 UTC on 28/11 is already 01:30 on 29/11 in Hà Nội (UTC+7).
    assert formatting.local_datetime("2026-11-28T18:30:00Z") == "01:30 29/11/2026"
    assert formatting.local_datetime(datetime(2026, 11, 28, 1, 0, tzinfo=UTC)) == "08:00 28/11/2026"
    assert formatting.local_date("2026-11-28T18:30:00+00:00") == "29/11/2026"
    assert formatting.local_datetime(None) == ""


def test_numbers_with_decimals(language: str) -> None:
    assert formatting.number(1234.5, 2) == {"vi": "1.234,5", "en": "1,234.5"}[language]


@pytest.mark.parametrize(
    "value,decimals",
    [(0, 0), (-1_234_567, 0), (12_345_678_901_234, 0), (6.5, 1), (1.0, 1), (-0.04, 1), (123_456.789, 2)],
)
def test_cached_formatters_write_what_babel_writes(language: str, value: float, decimals: int) -> None:
    from decimal import Decimal

    from babel.numbers import format_decimal

    locale = formatting.BABEL_LOCALES[language]
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    for number in (value, Decimal(str(value))):
        for _twice in range(2):  # the second time from the cache
            assert formatting.number(number, decimals) == format_decimal(number, format=pattern, locale=locale)


def test_status_tag_in_each_language_and_escaped() -> None:
    from cleanprod_portal.statuses import status_tag_html

    i18n.set_language("en")
    assert status_tag_html("draft") == '<strong class="tag tag--grey">Draft</strong>'
    i18n.set_language("vi")
    assert status_tag_html("draft") == '<strong class="tag tag--grey">Bản nháp</strong>'
    assert status_tag_html("<b>") == '<strong class="tag tag--grey">&lt;b&gt;</strong>'  # an unknown status as text
