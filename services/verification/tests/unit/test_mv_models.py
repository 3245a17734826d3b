"""Baseline models beyond production: weather only, production only, both; daily or monthly; °C or °F.

The building-style case (constant output, weather-driven load) is checked against an independent least-squares
computation (numpy.linalg.lstsq, not the service's QR path) the way CalTRACK/ASHRAE G14 state the figures.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from cleanprod_verification.mv import Claim, InputErrors, Period, compute_savings
from cleanprod_verification.mv.inputs import CarrierQuantity, Quantity
from cleanprod_verification.mv.models import BaselineModel, DegreeDayBasis, validate_model
from cleanprod_verification.mv.uncertainty import DAYS_PER_MONTH, G14_MONTHLY_FACTOR

MWH_TOE = 0.1543
BASE_C = 18.0


def daily_weather(days: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """CDD and HDD (°C·day, base 18 °C) of a year of daily mean temperatures around Hà Nội's 24 °C."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    temperature = 24.0 + 8.0 * np.sin(2 * np.pi * (t - 100) / 365.0) + rng.normal(0.0, 2.0, days)
    return np.maximum(temperature - BASE_C, 0.0), np.maximum(BASE_C - temperature, 0.0)


def day(d: date, mwh: float, cdd: float | None, hdd: float | None) -> Period:
    # constant output: the same 10 t every day
    return Period(d, d, Quantity(10.0, "t"), [CarrierQuantity("electricity", mwh, "MWh")], cdd, hdd)


def building_case(scale: float = 1.0) -> tuple[list[Period], list[Period], dict[str, np.ndarray]]:
    """365 baseline and 365 reporting days: E = 50 + 3·CDD + 2·HDD MWh ± noise; reporting uses 12 % less.
    ``scale`` = 9/5 gives the same weather in °F·day."""
    rng = np.random.default_rng(15)
    cdd_b, hdd_b = daily_weather(365, 1)
    cdd_r, hdd_r = daily_weather(365, 2)
    e_b = 50 + 3 * cdd_b + 2 * hdd_b + rng.normal(0.0, 2.0, 365)
    e_r = 0.88 * (50 + 3 * cdd_r + 2 * hdd_r) + rng.normal(0.0, 2.0, 365)
    first_b, first_r = date(2024, 1, 1), date(2025, 1, 1)
    baseline = [
        day(first_b + timedelta(i), float(e_b[i]), float(cdd_b[i] * scale), float(hdd_b[i] * scale)) for i in range(365)
    ]
    reporting = [
        day(first_r + timedelta(i), float(e_r[i]), float(cdd_r[i] * scale), float(hdd_r[i] * scale)) for i in range(365)
    ]
    arrays = {"cdd_b": cdd_b, "hdd_b": hdd_b, "cdd_r": cdd_r, "hdd_r": hdd_r, "e_b": e_b, "e_r": e_r}
    return baseline, reporting, arrays


WEATHER_C = BaselineModel("weather", DegreeDayBasis("C", cdd_base=18.0, hdd_base=18.0, station="Láng"))
WEATHER_F = BaselineModel("weather", DegreeDayBasis("F", cdd_base=64.4, hdd_base=64.4, station="Láng"))


def test_weather_only_daily_case_reproduces_independent_least_squares() -> None:
    baseline, reporting, a = building_case()
    r = compute_savings(baseline, reporting, Claim(8.0), model=WEATHER_C)

    # independent: lstsq on [1, CDD, HDD] with energy in TOE
    y = a["e_b"] * MWH_TOE
    x = np.column_stack([np.ones(365), a["cdd_b"], a["hdd_b"]])
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    fitted = x @ beta
    sse = float(((y - fitted) ** 2).sum())
    sst = float(((y - y.mean()) ** 2).sum())
    r2 = 1 - sse / sst
    cv = np.sqrt(sse / (365 - 3)) / y.mean()
    x_rep = np.column_stack([np.ones(365), a["cdd_r"], a["hdd_r"]])
    adjusted = float((x_rep @ beta).sum())
    avoided = adjusted - float((a["e_r"] * MWH_TOE).sum())

    reg = r.total.regression
    assert r.method == "regression" and reg is not None
    assert reg.variables == ["intercept", "cdd", "hdd"]  # no production term: output is constant
    assert reg.coefficients == pytest.approx(list(beta), rel=1e-9)
    assert reg.r_squared == pytest.approx(r2, rel=1e-9)
    assert reg.cv_rmse == pytest.approx(cv, rel=1e-9)
    assert r.total.adjusted_baseline_toe == pytest.approx(adjusted, rel=1e-9)
    assert r.savings_toe == pytest.approx(avoided, rel=1e-9)
    assert r.verified_savings_percent == pytest.approx(avoided / adjusted * 100, rel=1e-9)
    assert 10.0 < r.verified_savings_percent < 14.0  # the 12 % built in, within noise
    assert r.normalisation_dropped == [] and not r.requires_review
    assert r.model is not None and r.model.interval == "daily" and r.model.variables_used == ["cdd", "hdd"]

    # G14 for daily data: Sun & Baltazar's a·M² + b·M + c with M = reporting months, not the monthly 1.26
    months = 365 / DAYS_PER_MONTH
    expected_factor = -0.00024 * months**2 + 0.03535 * months + 1.00286
    assert reg.uncertainty.interval == "daily"
    assert reg.uncertainty.correction_factor == pytest.approx(expected_factor, rel=1e-12)
    assert 1.35 < reg.uncertainty.correction_factor < 1.45
    u = reg.uncertainty
    n_eff = u.effective_n
    fsu = u.t_value * expected_factor * cv * np.sqrt((365 / n_eff) * (1 + 2 / n_eff) / 365) / (avoided / adjusted)
    assert u.fsu == pytest.approx(fsu, rel=1e-9)
    assert r.verdict == "verified"


def test_same_case_in_fahrenheit_and_celsius_degree_days_gives_the_same_savings() -> None:
    base_c, rep_c, _ = building_case()
    base_f, rep_f, _ = building_case(scale=9 / 5)
    in_c = compute_savings(base_c, rep_c, Claim(8.0), model=WEATHER_C)
    in_f = compute_savings(base_f, rep_f, Claim(8.0), model=WEATHER_F)
    assert in_f.savings_toe == pytest.approx(in_c.savings_toe, rel=1e-9)
    assert in_f.verified_savings_percent == pytest.approx(in_c.verified_savings_percent, rel=1e-9)
    assert in_f.total.adjusted_baseline_toe == pytest.approx(in_c.total.adjusted_baseline_toe, rel=1e-9)
    # fitted per °C·day either way
    assert in_f.total.regression.coefficients == pytest.approx(in_c.total.regression.coefficients, rel=1e-9)
    assert in_f.model.degree_day_unit == "F" and in_c.model.degree_day_unit == "C"


def test_degree_day_range_check_follows_the_unit() -> None:
    baseline, reporting, _ = building_case()
    one_day = reporting[0]

    def with_cdd(value: float) -> list[Period]:
        return [Period(one_day.start, one_day.end, one_day.production, one_day.consumption, value, 0.0)]

    # 60 per day: plausible in °F·day (33 °C·day), not in °C·day (limit 40 per day)
    with pytest.raises(InputErrors) as refused:
        compute_savings(baseline, with_cdd(60.0), Claim(8.0), model=WEATHER_C)
    assert [e.field for e in refused.value.errors] == ["reporting_periods[0].cdd"]
    base_f, _, _ = building_case(scale=9 / 5)
    compute_savings(base_f, with_cdd(60.0), Claim(8.0), model=WEATHER_F)  # accepted
    with pytest.raises(InputErrors) as refused_f:
        compute_savings(base_f, with_cdd(80.0), Claim(8.0), model=WEATHER_F)  # > 72 °F·day per day
    assert [e.field for e in refused_f.value.errors] == ["reporting_periods[0].cdd"]


def test_model_plan_is_checked_in_its_unit() -> None:
    validate_model(WEATHER_F)
    with pytest.raises(InputErrors) as e:
        validate_model(BaselineModel("weather", DegreeDayBasis("C", cdd_base=64.4)))
    assert [x.field for x in e.value.errors] == ["model.cdd_base"]
    with pytest.raises(InputErrors) as e:
        validate_model(BaselineModel("weather", DegreeDayBasis("K", cdd_base=18.0)))
    assert [x.field for x in e.value.errors] == ["model.degree_day_unit"]
    with pytest.raises(InputErrors) as e:
        validate_model(BaselineModel("weather", DegreeDayBasis("C")))
    assert "needs a CDD and/or HDD base" in str(e.value.errors[0])
    with pytest.raises(InputErrors):
        validate_model(BaselineModel("linear"))


def monthly(production: list[float], cdd: list[float | None], e: list[float], year: int) -> list[Period]:
    return [
        Period(
            date(year, m + 1, 1),
            date(year, m + 1, 28),
            Quantity(p, "t"),
            [CarrierQuantity("electricity", x, "MWh")],
            c,
            None,
        )
        for m, (p, c, x) in enumerate(zip(production, cdd, e, strict=True))
    ]


P = [80.0, 120.0, 90.0, 110.0, 100.0, 95.0, 105.0, 85.0, 115.0, 100.0, 90.0, 110.0]
CDD = [10.0, 60.0, 150.0, 300.0, 420.0, 480.0, 500.0, 470.0, 380.0, 250.0, 90.0, 20.0]


def test_production_and_weather_model_uses_both_and_monthly_correction() -> None:
    e_b = [100 + 2 * p + 0.5 * c for p, c in zip(P, CDD, strict=True)]
    e_r = [0.9 * x for x in e_b]
    model = BaselineModel("production_weather", DegreeDayBasis("C", cdd_base=25.0))
    r = compute_savings(monthly(P, CDD, e_b, 2023), monthly(P, CDD, e_r, 2024), Claim(8.0), model=model)
    assert r.method == "regression" and r.total.regression.variables == ["intercept", "production", "cdd"]
    assert r.total.regression.coefficients == pytest.approx([100 * MWH_TOE, 2 * MWH_TOE, 0.5 * MWH_TOE], rel=1e-9)
    assert r.total.regression.uncertainty.interval == "monthly"
    assert r.total.regression.uncertainty.correction_factor == G14_MONTHLY_FACTOR
    assert r.normalisation_dropped == [] and r.verified_savings_percent == pytest.approx(10.0, rel=1e-9)

    # a production-only plan ignores the recorded degree-days (its own choice, said in a warning, no review)
    only_p = compute_savings(
        monthly(P, CDD, e_b, 2023), monthly(P, CDD, e_r, 2024), Claim(8.0), model=BaselineModel("production")
    )
    assert only_p.total.regression.variables == ["intercept", "production"]
    assert only_p.normalisation_dropped == []
    assert any("production only; not used" in w for w in only_p.warnings)


def test_weather_model_that_cannot_be_fitted_names_what_it_dropped() -> None:
    # CDD missing in a reporting month: the weather model cannot predict it → SEC, weather dropped, review
    e_b = [150 + 0.5 * c for c in CDD]
    rep_cdd: list[float | None] = [*CDD[:11], None]
    model = BaselineModel("weather", DegreeDayBasis("C", cdd_base=25.0))
    r = compute_savings(
        monthly([100.0] * 12, CDD, e_b, 2023),
        monthly([100.0] * 12, rep_cdd, [0.9 * x for x in e_b], 2024),
        Claim(8.0),
        model=model,
    )
    assert r.method == "sec"
    assert r.normalisation_dropped == ["cdd"] and r.total.normalisation_dropped == ["cdd"]
    assert r.requires_review
    (warning,) = [w for w in r.warnings if w.startswith("normalisation dropped for the total")]
    assert "cooling degree-days (CDD)" in warning and "write why this fallback is acceptable" in warning
    assert r.to_dict()["normalisation_dropped"] == ["cdd"]

    # both: the production part survives, the weather part is named
    both = BaselineModel("production_weather", DegreeDayBasis("C", cdd_base=25.0, hdd_base=18.0))
    e_b2 = [100 + 2 * p + 0.5 * c for p, c in zip(P, CDD, strict=True)]
    r2 = compute_savings(
        monthly(P, CDD, e_b2, 2023), monthly(P, CDD, [0.9 * x for x in e_b2], 2024), Claim(8.0), model=both
    )
    assert r2.method == "regression" and r2.total.regression.variables == ["intercept", "production", "cdd"]
    assert r2.normalisation_dropped == ["hdd"] and r2.requires_review
    assert r2.model.requested_variables == ["production", "cdd", "hdd"]


def test_interval_and_g14_correction_by_period_length() -> None:
    from cleanprod_verification.mv.uncertainty import correction_factor, interval_of

    assert interval_of([1] * 365) == "daily" and interval_of([2] * 365) == "daily"  # inclusive / half-open
    assert interval_of([31, 28, 31, 30]) == "monthly" and interval_of([32] * 12) == "monthly"
    assert interval_of([7] * 52) == "other"
    assert correction_factor("monthly", 12.0) == 1.26
    assert correction_factor("daily", 12.0) == pytest.approx(-0.00024 * 144 + 0.03535 * 12 + 1.00286, rel=1e-15)
    # no published correction for weekly data: the larger of the two (conservative)
    assert correction_factor("other", 12.0) == pytest.approx(correction_factor("daily", 12.0))
    assert correction_factor("other", 1.0) == 1.26
