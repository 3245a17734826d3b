"""Input validation: every problem found, each with its field path and a specific error type."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

import pytest

from cleanprod_verification.mv.errors import (
    InputErrors,
    InvalidPeriodError,
    InvalidValueError,
    UnknownUnitError,
    UnsupportedCarrierError,
)
from cleanprod_verification.mv.factors import default_tables
from cleanprod_verification.mv.inputs import CarrierQuantity, Claim, Period, Quantity
from cleanprod_verification.mv.norms import SectorNorm
from cleanprod_verification.mv.validation import ValidationLimits, prepare_inputs, validate_claim, validate_norm

MonthBuilder = Callable[..., Period]
YearBuilder = Callable[..., list[Period]]

LIMITS = ValidationLimits()
TABLES = default_tables()


@pytest.fixture
def year_of(make_month: MonthBuilder) -> YearBuilder:
    def build(year: int, production: float = 100.0, mwh: float = 50.0) -> list[Period]:
        return [make_month(year, m, production, {"electricity": (mwh, "MWh")}) for m in range(1, 13)]

    return build


def errors_of(baseline: list[Period], reporting: list[Period]) -> list[tuple[type, str | None, str]]:
    with pytest.raises(InputErrors) as info:
        prepare_inputs(baseline, reporting, LIMITS, TABLES)
    return [(type(e), e.field, e.message) for e in info.value.errors]


def test_valid_input_is_converted_and_sorted(year_of: YearBuilder) -> None:
    baseline = year_of(2022)[::-1]  # given out of order
    data = prepare_inputs(baseline, year_of(2023), LIMITS, TABLES)
    assert data.baseline.starts[0] == date(2022, 1, 1) and data.baseline.starts[-1] == date(2022, 12, 1)
    assert data.carriers == ["electricity"] and data.production_unit == "t"
    assert data.baseline.energy[:, 0].tolist() == pytest.approx([50 * 0.1543] * 12)


def test_negative_values(year_of: YearBuilder, make_month: MonthBuilder) -> None:
    baseline = year_of(2022)
    baseline[3] = make_month(2022, 4, -5.0, {"electricity": (-1.0, "MWh")})
    found = errors_of(baseline, year_of(2023))
    assert (
        InvalidValueError,
        "baseline_periods[3].production.quantity",
        "production must not be negative (got -5)",
    ) in found
    assert (
        InvalidValueError,
        "baseline_periods[3].consumption[0].quantity",
        "electricity consumption must not be negative (got -1)",
    ) in found


def test_non_numbers_and_non_finite(year_of: YearBuilder, make_month: MonthBuilder) -> None:
    reporting = year_of(2023)
    reporting[0] = make_month(2023, 1, math.nan, {"electricity": (math.inf, "MWh")})
    found = {(t, f) for t, f, _ in errors_of(year_of(2022), reporting)}
    assert found == {
        (InvalidValueError, "reporting_periods[0].production.quantity"),
        (InvalidValueError, "reporting_periods[0].consumption[0].quantity"),
    }


def test_absurd_values_over_the_configured_bounds(year_of: YearBuilder, make_month: MonthBuilder) -> None:
    reporting = year_of(2023)
    # 10 TWh in one month (typed kWh as MWh, times a million): 1.5 million TOE
    reporting[5] = make_month(2023, 6, 100.0, {"electricity": (1e7, "MWh")}, cdd=5000.0)
    found = errors_of(year_of(2022), reporting)
    fields = {f: m for _, f, m in found}
    assert "implausibly large" in fields["reporting_periods[5].consumption[0].quantity"]
    assert "implausibly large" in fields["reporting_periods[5].cdd"]  # 30 days × 40 = 1200 at most
    # a configurable bound
    tight = ValidationLimits(max_production=50.0)
    with pytest.raises(InputErrors) as info:
        prepare_inputs(year_of(2022), year_of(2023), tight, TABLES)
    assert len(info.value.errors) == 24
    assert info.value.errors[0].field == "baseline_periods[0].production.quantity"


def test_unknown_units_and_carriers(year_of: YearBuilder, make_month: MonthBuilder) -> None:
    baseline = year_of(2022)
    baseline[0] = make_month(2022, 1, 100.0, {"electricity": (50.0, "GJ")}, production_unit="tons")
    baseline[1] = make_month(2022, 2, 100.0, {"biomass": (3.0, "t"), "coal_grade_3_4": (2.0, "m3")})
    found = errors_of(baseline, year_of(2023))
    assert (UnknownUnitError, "baseline_periods[0].production.unit") in {(t, f) for t, f, _ in found}
    assert (UnknownUnitError, "baseline_periods[0].consumption[0].unit") in {(t, f) for t, f, _ in found}
    assert (UnsupportedCarrierError, "baseline_periods[1].consumption[0].carrier") in {(t, f) for t, f, _ in found}
    msg = {f: m for _, f, m in found}["baseline_periods[1].consumption[1].unit"]
    assert msg == "coal_grade_3_4 cannot be given in m3; use one of: t, kg"


def test_problem_errors_for_the_web_layer(year_of: YearBuilder, make_month: MonthBuilder) -> None:
    baseline = year_of(2022)
    baseline[1] = make_month(2022, 2, 100.0, {"biomass": (3.0, "t")})
    with pytest.raises(InputErrors) as info:
        prepare_inputs(baseline, year_of(2023), LIMITS, TABLES)
    assert info.value.as_problem_errors() == [
        {
            "field": "baseline_periods[1].consumption[0].carrier",
            "message": info.value.errors[0].message,
            "code": "unsupported_carrier",
        }
    ]


def test_inverted_and_overlapping_periods(year_of: YearBuilder) -> None:
    baseline = year_of(2022)
    baseline[2] = Period(
        date(2022, 3, 31), date(2022, 3, 1), Quantity(100, "t"), [CarrierQuantity("electricity", 50, "MWh")]
    )
    found = errors_of(baseline, year_of(2023))
    assert found == [
        (InvalidPeriodError, "baseline_periods[2].end", "period ends (2022-03-01) before it starts (2022-03-31)")
    ]

    baseline = year_of(2022)
    baseline[4] = Period(
        date(2022, 4, 20), date(2022, 5, 31), Quantity(100, "t"), [CarrierQuantity("electricity", 50, "MWh")]
    )
    found = errors_of(baseline, year_of(2023))
    assert [(t, f) for t, f, _ in found] == [(InvalidPeriodError, "baseline_periods[4].start")]
    assert "overlaps baseline_periods[3] (2022-04-01–2022-04-30)" in found[0][2]


def test_a_shared_boundary_day_is_not_an_overlap() -> None:
    # half-open convention: Jan 1–Feb 1, Feb 1–Mar 1, ...
    def half_open(year: int) -> list[Period]:
        return [
            Period(
                date(year, m, 1),
                date(year + (m == 12), m % 12 + 1, 1),
                Quantity(100, "t"),
                [CarrierQuantity("electricity", 50, "MWh")],
            )
            for m in range(1, 13)
        ]

    data = prepare_inputs(half_open(2022), half_open(2023), LIMITS, TABLES)
    assert len(data.baseline) == 12 and len(data.reporting) == 12


def test_reporting_must_follow_the_baseline(year_of: YearBuilder) -> None:
    found = errors_of(year_of(2023), year_of(2022))
    assert [(t, f) for t, f, _ in found] == [(InvalidPeriodError, "reporting_periods[0].start")]
    assert "must start after the baseline ends (2023-12-31)" in found[0][2]


def test_missing_sets_mixed_dimensions_and_zero_totals(year_of: YearBuilder, make_month: MonthBuilder) -> None:
    found = errors_of([], year_of(2023))
    assert found == [(InvalidPeriodError, "baseline_periods", "at least one period is required")]

    reporting = year_of(2023)
    reporting[0] = make_month(2023, 1, 40.0, {"electricity": (50.0, "MWh")}, production_unit="hl")
    found = errors_of(year_of(2022), reporting)
    assert [(f) for _, f, _ in found] == ["reporting_periods[0].production.unit"]

    found = errors_of(year_of(2022, production=0.0), year_of(2023))
    assert (InvalidValueError, "baseline_periods") in {(t, f) for t, f, _ in found}
    found = errors_of(year_of(2022, mwh=0.0), year_of(2023))
    assert [m for _, _, m in found] == ["total baseline energy is zero; nothing can be saved against it"]


def test_a_period_without_energy_consumption_is_an_error_but_water_is_accepted(
    year_of: YearBuilder, make_month: MonthBuilder
) -> None:
    baseline = year_of(2022)
    baseline[0] = Period(date(2022, 1, 1), date(2022, 1, 31), Quantity(100, "t"), [])
    baseline[1] = make_month(2022, 2, 100.0, {"water": (900.0, "m3")})
    found = errors_of(baseline, year_of(2023))
    assert [f for _, f, _ in found] == ["baseline_periods[0].consumption", "baseline_periods[1].consumption"]

    baseline = year_of(2022)
    baseline[1] = make_month(2022, 2, 100.0, {"electricity": (50.0, "MWh"), "water": (900.0, "m3")})
    data = prepare_inputs(baseline, year_of(2023), LIMITS, TABLES)
    assert data.carriers == ["electricity"] and data.ignored_resources == ["water"]


def test_claim_and_norm_validation() -> None:
    with pytest.raises(InputErrors) as info:
        validate_claim(Claim(-2.0, {"biomass": 3.0, "electricity": math.nan}), LIMITS, TABLES)
    assert [(type(e), e.field) for e in info.value.errors] == [
        (InvalidValueError, "claim.overall_percent"),
        (UnsupportedCarrierError, "claim.per_carrier_percent.biomass"),
        (InvalidValueError, "claim.per_carrier_percent.electricity"),
    ]
    validate_claim(Claim(8.0, {"electricity": -4.0, "coal_grade_3_4": 30.0}), LIMITS, TABLES)  # fuel switch is fine
    with pytest.raises(InputErrors) as info:
        validate_norm(SectorNorm(0.0, "MJ per tonne"))
    assert [e.field for e in info.value.errors] == ["norm.value", "norm.unit"]


def test_a_long_period_overlapping_several_is_reported_for_each(year_of: YearBuilder) -> None:
    baseline = year_of(2022)[1:]  # Feb..Dec
    baseline.append(
        Period(date(2022, 1, 1), date(2022, 3, 31), Quantity(100, "t"), [CarrierQuantity("electricity", 50, "MWh")])
    )
    found = errors_of(baseline, year_of(2023))
    assert [f for _, f, _ in found] == ["baseline_periods[0].start", "baseline_periods[1].start"]
    assert all("overlaps baseline_periods[11] (2022-01-01–2022-03-31)" in m for _, _, m in found)
