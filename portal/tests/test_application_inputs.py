"""What people type into the application forms is read the Vietnamese way (money, percentages, dates); what cannot
be read gets a message at its field in the user's language."""

from __future__ import annotations

import pytest

from cleanprod_portal import i18n
from cleanprod_portal.enterprise.application_inputs import (
    decimal_input,
    parse_date,
    parse_decimal,
    parse_vnd,
    vnd_input,
)
from cleanprod_portal.forms import Form


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1.234.567", 1_234_567),
        ("1234567", 1_234_567),
        ("1 234 567 ₫", 1_234_567),
        ("3.000.000.000 đồng", 3_000_000_000),
        ("1,234,567", 1_234_567),
        ("  800.000.000 VND ", 800_000_000),
        ("", None),
    ],
)
def test_vnd_amounts_grouped_or_plain(typed: str, value: int | None) -> None:
    form = Form({"total_cost_vnd": typed})
    assert parse_vnd(form, "total_cost_vnd") == value
    assert not form.has_errors


@pytest.mark.parametrize("typed", ["1.5", "1.23.456", "ba tỷ", "-100", "1.234,5", "12.3456"])
def test_unreadable_amounts_get_a_vietnamese_message(typed: str) -> None:
    i18n.set_language("vi")
    form = Form({"total_cost_vnd": typed})
    assert parse_vnd(form, "total_cost_vnd") is None
    assert form.error("total_cost_vnd") == "Hãy nhập số tiền bằng đồng, là số nguyên, ví dụ 1.234.567"


def test_percentages_with_a_comma_or_a_point_and_dates_both_ways() -> None:
    i18n.set_language("vi")
    form = Form(
        {
            "a": "7,5",
            "b": "8",
            "c": "7.25 %",
            "d": "tám",
            "start": "2027-01-15",
            "end": "15/07/2027",
            "bad": "31/02/2027",
        }
    )
    assert (parse_decimal(form, "a"), parse_decimal(form, "b"), parse_decimal(form, "c")) == (7.5, 8.0, 7.25)
    assert parse_decimal(form, "d") is None and form.error("d") == "Hãy nhập một số, ví dụ 7,5"
    assert (parse_date(form, "start"), parse_date(form, "end")) == ("2027-01-15", "2027-07-15")
    assert parse_date(form, "bad") is None and form.error("bad") == "Hãy nhập ngày hợp lệ, ví dụ 31/12/2026"


def test_values_are_shown_again_in_a_form_the_parser_reads() -> None:
    i18n.set_language("vi")
    assert vnd_input(1_234_567) == "1.234.567" and decimal_input(7.5) == "7,5" and decimal_input(8.0) == "8"
    form = Form({"x": vnd_input(3_000_000_000), "y": decimal_input(1250.5)})
    assert parse_vnd(form, "x") == 3_000_000_000 and parse_decimal(form, "y") == 1250.5
    i18n.set_language("en")
    assert decimal_input(7.5) == "7.5"
    i18n.set_language("vi")


def test_a_signed_decimal_is_read_only_when_asked_for() -> None:
    form = Form({"minus": "-1250,5", "typographic": "−12", "plain": "-3"})
    assert parse_decimal(form, "minus", signed=True) == -1250.5
    assert parse_decimal(form, "typographic", signed=True) == -12.0
    assert parse_decimal(form, "plain") is None and form.error("plain")  # amounts that cannot be negative
