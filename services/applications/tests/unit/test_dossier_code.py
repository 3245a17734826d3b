from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cleanprod_applications.domain.dossier_code import (
    DailySequenceExhausted,
    DossierCode,
    InvalidDossierCode,
    format_dossier_code,
    is_dossier_code,
    parse_dossier_code,
)

AGENCY = "000.00.01.H26"


def test_design_example():
    assert format_dossier_code(AGENCY, date(2026, 11, 28), 1) == "000.00.01.H26-261128-0001"


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2026, 11, 28, 16, 59, 59, tzinfo=UTC), "000.00.01.H26-261128-0042"),
        (datetime(2026, 11, 28, 17, 0, 0, tzinfo=UTC), "000.00.01.H26-261129-0042"),
        (datetime(2026, 11, 28, 18, 0, 0, tzinfo=UTC), "000.00.01.H26-261129-0042"),
        (datetime(2026, 12, 31, 17, 30, tzinfo=UTC), "000.00.01.H26-270101-0042"),  # year rolls over in Hanoi
        (datetime(2026, 11, 29, 0, 5, tzinfo=timezone(timedelta(hours=7))), "000.00.01.H26-261129-0042"),
    ],
)
def test_date_is_the_hanoi_calendar_date(instant, expected):
    assert format_dossier_code(AGENCY, instant, 42) == expected


def test_naive_instant_is_refused():
    with pytest.raises(ValueError):
        format_dossier_code(AGENCY, datetime(2026, 11, 28, 18, 0), 1)


@pytest.mark.parametrize(("seq", "suffix"), [(1, "0001"), (7, "0007"), (123, "0123"), (9999, "9999")])
def test_sequence_is_four_digits(seq, suffix):
    assert format_dossier_code(AGENCY, date(2026, 1, 5), seq) == f"000.00.01.H26-260105-{suffix}"


def test_sequence_beyond_9999_is_refused():
    with pytest.raises(DailySequenceExhausted, match="9999"):
        format_dossier_code(AGENCY, date(2026, 1, 5), 10_000)


@pytest.mark.parametrize("seq", [0, -1])
def test_sequence_starts_at_one(seq):
    with pytest.raises(ValueError) as caught:
        format_dossier_code(AGENCY, date(2026, 1, 5), seq)
    assert not isinstance(caught.value, DailySequenceExhausted)


@pytest.mark.parametrize(
    "agency", ["000.00.01.h26", "00.00.01.H26", "000.00.01.H2", "000-00-01-H26", "", " 000.00.01.H26", "000.00.01.126"]
)
def test_bad_agency_identifier_is_refused(agency):
    with pytest.raises(ValueError, match="agency e-identifier"):
        format_dossier_code(agency, date(2026, 1, 5), 1)


def test_other_agency_identifiers_are_accepted():
    assert format_dossier_code("000.00.04.G14", date(2030, 2, 3), 12) == "000.00.04.G14-300203-0012"


def test_year_must_fit_yy():
    with pytest.raises(ValueError):
        format_dossier_code(AGENCY, date(2100, 1, 1), 1)


def test_parse_round_trip():
    code = parse_dossier_code("000.00.01.H26-261128-0001")
    assert code == DossierCode("000.00.01.H26", date(2026, 11, 28), 1)
    assert str(code) == "000.00.01.H26-261128-0001"
    assert parse_dossier_code(str(DossierCode("000.00.04.G14", date(2029, 2, 28), 9999))).sequence == 9999


@pytest.mark.parametrize(
    "text",
    [
        "000.00.01.H26-261128-001",  # 3-digit sequence
        "000.00.01.H26-261128-00001",  # 5-digit sequence
        "000.00.01.H26-261128-0000",  # sequence 0
        "000.00.01.H26-261332-0001",  # month 13
        "000.00.01.H26-260230-0001",  # 30 February
        "000.00.01.H26-20261128-0001",  # YYYYMMDD
        "000.00.01.h26-261128-0001",  # lower case
        "000.00.01.H26_261128_0001",
        " 000.00.01.H26-261128-0001",
        "000.00.01.H26-261128-0001\n",
        "000.00.01.H26-٢٦١١٢٨-0001",  # Arabic-Indic digits
        "",
    ],
)
def test_parse_refuses_malformed_codes(text):
    with pytest.raises(InvalidDossierCode):
        parse_dossier_code(text)
    assert is_dossier_code(text) is False


def test_parse_refuses_non_strings():
    with pytest.raises(InvalidDossierCode):
        parse_dossier_code(2611280001)


def test_leap_day_parses():
    assert parse_dossier_code("000.00.01.H26-280229-0001").day == date(2028, 2, 29)
    assert is_dossier_code("000.00.01.H26-280229-0001") is True


def test_dossier_code_needs_a_date_not_an_instant():
    with pytest.raises(TypeError):
        DossierCode(AGENCY, datetime(2026, 11, 28, 18, 0, tzinfo=UTC), 1)
