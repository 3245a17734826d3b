"""Reading numbers, months and baseline CSV files as Vietnamese Excel writes them (pure functions, no I/O)."""

from __future__ import annotations

import datetime as dt

import pytest

from cleanprod_portal.enterprise.baseline_csv import CsvFileError, parse_baseline_csv, template_csv
from cleanprod_portal.enterprise.baseline_input import read_baseline
from cleanprod_portal.enterprise.numbers import NotAMonth, NotANumber, parse_month, parse_number, plain_number
from cleanprod_portal.i18n import set_language


@pytest.fixture(autouse=True)
def vietnamese() -> None:
    set_language("vi")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1250,5", 1250.5),
        ("1.250,5", 1250.5),
        ("1,250.5", 1250.5),
        ("1 250,5", 1250.5),
        ("1\u00a0250,5", 1250.5),
        ("1250.5", 1250.5),
        ("1.234.567", 1234567),
        ("1,234,567", 1234567),
        ("0", 0),
        ("  42 ", 42),
        ("", None),
        ("-3,5", -3.5),
    ],
)
def test_numbers_as_people_type_them(text: str, value: float | None) -> None:
    assert parse_number(text) == value


def test_thousands_follow_the_language() -> None:
    assert parse_number("120.000", "vi") == 120000 and parse_number("120.000", "en") == 120.0
    assert parse_number("120,000", "en") == 120000 and parse_number("120,000", "vi") == 120.0
    assert parse_number("0.125", "vi") == 0.125 and parse_number("1.5", "vi") == 1.5


@pytest.mark.parametrize("text", ["mười", "1,2,3.4.5", "1.2.3,4,5", "12abc", "inf", "nan", "1e999x", ","])
def test_not_numbers(text: str) -> None:
    with pytest.raises(NotANumber):
        parse_number(text)


def test_numbers_shown_back_for_editing_read_back_the_same() -> None:
    for value in (1250.5, 120000.0, 0.125, 21.2187, 1e-05, 3.0):
        for language in ("vi", "en"):
            assert parse_number(plain_number(value, language), language) == value
    assert plain_number(1250.5, "vi") == "1250,5" and plain_number(1250.5, "en") == "1250.5"
    assert plain_number(120000.0, "vi") == "120000" and plain_number(None) == ""


def test_months() -> None:
    assert parse_month("2024-02") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert parse_month("02/2025") == (dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    for bad in ("2024-13", "2024-00", "tháng 3", "2024/03", ""):
        with pytest.raises(NotAMonth):
            parse_month(bad)


def test_a_row_becomes_the_registry_body_and_maps_errors_back() -> None:
    row = read_baseline(
        {
            "period": "2025-01",
            "production_quantity": "1.250,5",
            "production_unit": "t",
            "electricity_quantity": "412000",
            "electricity_unit": "MWh",
            "water_quantity": "",
            "natural_gas_quantity": "15,8",
            "natural_gas_unit": "1000 m3",
            "estimated": "1",
            "notes": " Tháng Giêng ",
        }
    )
    assert row.errors == {}
    assert row.body == {
        "period_start": "2025-01-01",
        "period_end": "2025-01-31",
        "production": {"quantity": 1250.5, "unit": "t"},
        "consumption": [
            {"carrier": "electricity", "quantity": 412000.0, "unit": "MWh"},
            {"carrier": "natural_gas", "quantity": 15.8, "unit": "1000 m3"},
        ],
        "estimated": True,
        "notes": "Tháng Giêng",
    }
    assert row.field_for("consumption.1.unit") == "natural_gas_unit"
    assert row.field_for("consumption.0") == "electricity_unit" and row.field_for("production") == "production_unit"
    assert row.field_for("period_start") == "period" and row.field_for("body") == "period"
    assert row.field_for("production.unit") == "production_unit"


def test_a_row_with_unreadable_values_lists_each_in_vietnamese() -> None:
    row = read_baseline({"period": "2025-1-1", "production_quantity": "", "electricity_quantity": "nhiều"})
    assert row.body is None
    assert row.errors == {
        "period": "Nhập tháng theo dạng yyyy-mm, ví dụ 2025-01",
        "production_quantity": "Nhập sản lượng của kỳ này",
        "electricity_quantity": "Nhập một số, ví dụ 1.250,5",
        "consumption": "Nhập lượng tiêu thụ của ít nhất một loại năng lượng hoặc nước",
    }


def test_semicolon_csv_with_bom_decimal_comma_and_line_numbers() -> None:
    data = (
        "\ufeffPeriod ; production;production_unit;electricity (kWh);water (m3);notes\r\n"
        "2024-01;1.250,5;t;412000;;Tháng Giêng\r\n"
        "\r\n"
        ";;;;;\r\n"
        "2024-13;10;t;1;2;\r\n"
        '02/2024;"1180";t;398500,25;5120;"ghi chú; có dấu chấm phẩy"\r\n'
    ).encode("utf-8")
    lines = parse_baseline_csv(data)
    assert [line.line for line in lines] == [2, 5, 6]
    first, bad, third = lines
    assert first.baseline.body["consumption"] == [{"carrier": "electricity", "quantity": 412000.0, "unit": "kWh"}]
    assert first.baseline.body["notes"] == "Tháng Giêng"
    assert bad.baseline.body is None and bad.column_of("period") == "Period"
    assert third.baseline.body["period_start"] == "2024-02-01" and third.baseline.body["notes"].endswith("chấm phẩy")
    assert third.column_of("water_quantity") == "water (m3)" and third.column_of("water_unit") == "water (m3)"


def test_comma_csv_without_bom() -> None:
    lines = parse_baseline_csv(b'period,production,production_unit,natural_gas (1000 M3)\n2024-03,"1,5",hl,7\n')
    (line,) = lines
    assert line.baseline.body["production"] == {"quantity": 1.5, "unit": "hl"}
    assert line.baseline.body["consumption"] == [{"carrier": "natural_gas", "quantity": 7.0, "unit": "1000 m3"}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Tệp trống."),
        (b"period;production;production_unit;electricity (kWh)\r\n", "Tệp chỉ có dòng tiêu đề"),
        (b"period;production;electricity (kWh)\n2024-01;1;1\n", "Thiếu cột: production_unit."),
        (b"period;production;production_unit\n2024-01;1;t\n", "Cần ít nhất một cột tiêu thụ"),
        (b"period;production;production_unit;steam (t);ghi chu\n", "Cột không xác định: “steam (t)”, “ghi chu”"),
        (b"period;production;production_unit;water (kWh)\n", "Cột “water (kWh)”: water được tính bằng m3."),
        (b"period;period;production;production_unit;water (m3)\n", "Cột “period” xuất hiện hai lần."),
        ("period;production\n2024-01;tháng".encode("cp1258"), "Tệp không ở mã UTF-8"),
        (b"period;production;production_unit;water (m3)\n" + b"2024-01;1;t;1\n" * 401, "Tệp có hơn 400 dòng"),
    ],
)
def test_file_problems(data: bytes, message: str) -> None:
    with pytest.raises(CsvFileError) as caught:
        parse_baseline_csv(data)
    assert message in str(caught.value)


def test_the_template_reads_back_without_errors() -> None:
    lines = parse_baseline_csv(template_csv().encode("utf-8"))
    assert [line.baseline.errors for line in lines] == [{}, {}]
    assert lines[1].baseline.body["estimated"] is True
    assert lines[0].baseline.body["production"] == {"quantity": 1250.5, "unit": "t"}
