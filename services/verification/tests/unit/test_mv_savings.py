"""compute_savings end to end: the production trap (lower of SEC and an extrapolating regression),
hand-computed SEC savings with CO2, regression with weather,
the uncertainty gate, fallbacks with their reasons, and a JSON-ready result."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from cleanprod_verification.mv import (
    NOT_ACHIEVED,
    VERIFIED,
    AcceptanceCriteria,
    Claim,
    InputErrors,
    MVSettings,
    Period,
    SectorNorm,
    compute_savings,
)

MonthBuilder = Callable[..., Period]
MWH_TOE = 0.1543  # MOIT: 1 MWh of electricity = 0.1543 TOE

# 12 baseline months with production 80..120 t, mean exactly 100 t (sum 1200 t)
TRAP_PRODUCTION = [80.0, 85.0, 90.0, 95.0, 100.0, 105.0, 95.0, 100.0, 105.0, 110.0, 115.0, 120.0]


def trap_periods(make_month: MonthBuilder) -> tuple[list[Period], list[Period]]:
    """E = 200 + 2·P MWh in every month, before and after: no efficiency change at all."""
    baseline = [
        make_month(2022, m + 1, p, {"electricity": (200 + 2 * p, "MWh")}) for m, p in enumerate(TRAP_PRODUCTION)
    ]
    reporting = [make_month(2023, m, 150.0, {"electricity": (200 + 2 * 150.0, "MWh")}) for m in range(1, 13)]
    return baseline, reporting


def test_production_trap_is_not_verified_the_lower_estimate_is_taken(make_month: MonthBuilder) -> None:
    baseline, reporting = trap_periods(make_month)
    assert sum(TRAP_PRODUCTION) == 1200.0

    # SEC: baseline 4800 MWh / 1200 t = 4 MWh/t; reporting 6000 MWh / 1800 t = 3.333 MWh/t
    #      → (4 − 10/3)/4 = 1/6 = 16.67 % "saved", (4 − 10/3)·1800 = 1200 MWh
    # Regression: E = 200 + 2·P fits exactly; at P = 150 it predicts 500 MWh/month = the actual → 0 saved.
    #
    # P = 150 lies outside the baseline range 80–120 (30 t beyond it = 0.75 of the 40 t span), so the default
    # range criterion (±10 % of the span) rejects the model — and that is the ONLY criterion it fails. Rule:
    # neither estimate is trusted alone, the lower one is the verified figure (method sec_capped_by_regression),
    # and the result requires review. (1) default criteria: 0 % verified, not_achieved; (2) with a range
    # tolerance that admits P = 150 the regression is used outright and also shows zero savings.
    default = compute_savings(baseline, reporting, Claim(8.0))
    assert default.total.sec.savings_percent == pytest.approx(100 / 6, rel=1e-12)
    assert default.total.sec.savings_toe == pytest.approx(1200 * MWH_TOE, rel=1e-12)
    assert default.total.sec.sec_baseline == pytest.approx(4 * MWH_TOE, rel=1e-14)
    assert default.total.sec.sec_reporting == pytest.approx(10 / 3 * MWH_TOE, rel=1e-14)
    assert default.method == "sec_capped_by_regression"
    assert default.total.binding_estimate == "regression"
    assert default.total.fallback_reasons == [
        "reporting production 150–150 vs baseline range 80–120 (± 10 % of the span allowed)"
    ]
    assert default.total.regression is not None and not default.total.regression.passed
    assert abs(default.total.regression.savings_toe) < 1e-9
    assert abs(default.savings_toe) < 1e-9 and abs(default.verified_savings_percent) < 1e-9
    assert default.total.adjusted_baseline_toe == pytest.approx(6000 * MWH_TOE, rel=1e-12)
    assert default.requires_review
    (warning,) = [w for w in default.warnings if "sec_capped_by_regression" in w]
    assert "SEC estimates 16.7 % savings, the regression 0.0 %" in warning
    assert "the lower figure (0.0 %, regression)" in warning and "review before concluding" in warning
    assert default.verdict == NOT_ACHIEVED
    assert default.achieved_ratio == pytest.approx(0.0, abs=1e-9)
    (elec,) = default.carriers
    assert elec.method == "sec_capped_by_regression" and abs(elec.savings_toe) < 1e-9

    wide = MVSettings(criteria=AcceptanceCriteria(range_tolerance=1.0))
    result = compute_savings(baseline, reporting, Claim(8.0), wide)
    assert result.method == "regression" and result.total.binding_estimate is None
    assert result.total.regression is not None and result.total.regression.passed
    assert result.total.regression.coefficients == [
        pytest.approx(200 * MWH_TOE, rel=1e-10),
        pytest.approx(2 * MWH_TOE, rel=1e-10),
    ]
    assert abs(result.savings_toe) < 1e-9
    assert abs(result.verified_savings_percent) < 1e-9
    assert result.total.adjusted_baseline_toe == pytest.approx(6000 * MWH_TOE, rel=1e-12)
    assert result.verdict == NOT_ACHIEVED and result.achieved_ratio == pytest.approx(0.0, abs=1e-9)
    assert not result.requires_review


def test_out_of_range_genuine_saving_is_verified_at_the_lower_figure(make_month: MonthBuilder) -> None:
    # Same trap plant, but the project really cut use by 10 %: 450 MWh at P = 150 instead of 500.
    # Regression: (6000 − 5400)/6000 = 10 %. SEC: baseline 4 MWh/t × 1800 t = 7200 MWh → (7200 − 5400)/7200 = 25 %.
    baseline, _ = trap_periods(make_month)
    reporting = [make_month(2023, m, 150.0, {"electricity": (450.0, "MWh")}) for m in range(1, 13)]
    r = compute_savings(baseline, reporting, Claim(9.0))
    assert r.method == "sec_capped_by_regression" and r.total.binding_estimate == "regression"
    assert r.total.sec.savings_percent == pytest.approx(25.0, rel=1e-12)
    assert r.verified_savings_percent == pytest.approx(10.0, rel=1e-9)
    assert r.savings_toe == pytest.approx(600 * MWH_TOE, rel=1e-9)
    assert r.requires_review
    assert r.verdict == VERIFIED and r.achieved_ratio == pytest.approx(10 / 9, rel=1e-9)


def test_out_of_range_where_sec_is_lower_keeps_sec(make_month: MonthBuilder) -> None:
    # Output falls to 50 t/month (below the 80–120 range) with no efficiency change: E = 300 MWh.
    # SEC: 4 MWh/t × 600 t = 2400 MWh adjusted vs 3600 used → −50 % (a false loss); regression: 0 %.
    # The lower figure is SEC's: conservative for the grant, and flagged for review.
    baseline, _ = trap_periods(make_month)
    reporting = [make_month(2023, m, 50.0, {"electricity": (300.0, "MWh")}) for m in range(1, 13)]
    r = compute_savings(baseline, reporting, Claim(8.0))
    assert r.method == "sec_capped_by_regression" and r.total.binding_estimate == "sec"
    assert r.verified_savings_percent == pytest.approx(-50.0, rel=1e-12)
    assert r.total.adjusted_baseline_toe == pytest.approx(2400 * MWH_TOE, rel=1e-12)
    assert r.requires_review and r.verdict == NOT_ACHIEVED and r.achieved_ratio == 0.0


def test_out_of_range_with_a_failing_statistic_is_plain_sec_fallback(make_month: MonthBuilder) -> None:
    # The rule needs every statistical criterion passed: a baseline too noisy for R² still falls back to SEC.
    rng = np.random.default_rng(3)
    p_base = rng.uniform(95, 105, 12)
    baseline = [
        make_month(2022, m + 1, p, {"electricity": (300 + 0.2 * p + rng.normal(0, 40), "MWh")})
        for m, p in enumerate(p_base)
    ]
    reporting = [make_month(2023, m, 150.0, {"electricity": (280.0, "MWh")}) for m in range(1, 13)]
    r = compute_savings(baseline, reporting, Claim(5.0))
    assert r.method == "sec" and r.total.binding_estimate is None
    failed = {c.name for c in r.total.regression.checks if not c.passed}
    assert {"r_squared", "production_within_baseline_range"} <= failed
    assert r.verified_savings_percent == pytest.approx(r.total.sec.savings_percent)
    assert not any("sec_capped_by_regression" in w for w in r.warnings)


def test_two_carrier_sec_example_with_gj_co2_and_norm(make_month: MonthBuilder) -> None:
    # Baseline 2022: 100 t/month, 40 MWh electricity + 10 t coal grade 3–4 (0.60 TOE/t).
    # Reporting 2023: 125 t/month, 45 MWh + 11.25 t coal. Production never varies within the baseline, so
    # no regression is possible and SEC is used:
    #   electricity SEC 0.4 → 0.36 MWh/t: 10 %, (0.04 MWh/t)·1500 t = 60 MWh = 9.258 TOE;
    #               60 MWh × 0.6592 t/MWh (2023) = 39.552 t CO2
    #   coal        SEC 0.1 → 0.09 t/t: 10 %, 0.01·1500 = 15 t = 9 TOE;
    #               9 TOE × 0.041868 TJ/TOE × 98 300 kg/TJ = 37.0406196 t CO2
    #   total 18.258 TOE = 764.425944 GJ, 76.5926196 t CO2, 10 %
    baseline = [
        make_month(2022, m, 100.0, {"electricity": (40.0, "MWh"), "coal_grade_3_4": (10.0, "t")}) for m in range(1, 13)
    ]
    reporting = [
        make_month(2023, m, 125.0, {"electricity": (45_000.0, "kWh"), "coal_grade_3_4": (11_250.0, "kg")})
        for m in range(1, 13)
    ]
    norm = SectorNorm(1600.0, "MJ/tonne", "hot rolling long products")
    r = compute_savings(baseline, reporting, Claim(10.0, {"electricity": 12.0, "coal_grade_3_4": 8.0}), norm=norm)

    assert r.method == "sec"
    assert r.total.regression is None
    assert r.total.fallback_reasons == [
        "regression not possible: production does not vary independently in the baseline periods, "
        "so its effect cannot be estimated"
    ]
    assert r.savings_toe == pytest.approx(18.258, rel=1e-12)
    assert r.savings_gj == pytest.approx(764.425944, rel=1e-12)
    assert r.savings_tco2 == pytest.approx(76.5926196, rel=1e-10)
    assert r.verified_savings_percent == pytest.approx(10.0, rel=1e-12)
    by = {c.carrier: c for c in r.carriers}
    assert by["electricity"].savings_toe == pytest.approx(9.258, rel=1e-12)
    assert by["electricity"].savings_tco2 == pytest.approx(39.552, rel=1e-12)
    assert by["coal_grade_3_4"].savings_toe == pytest.approx(9.0, rel=1e-12)
    assert by["coal_grade_3_4"].savings_tco2 == pytest.approx(37.0406196, rel=1e-10)
    assert by["electricity"].achieved_ratio == pytest.approx(10 / 12)
    assert by["coal_grade_3_4"].achieved_ratio == pytest.approx(1.25)
    assert r.verdict == VERIFIED and r.achieved_ratio == pytest.approx(1.0)
    # reporting SEC: (45·0.1543 + 11.25·0.6) TOE / 125 t = 0.109548 TOE/t = 4586.51... MJ/t > 1600
    assert r.norm is not None
    assert r.norm.reporting_sec == pytest.approx(0.109548 * 41868, rel=1e-12)
    assert not r.norm.within_norm
    assert [(f.carrier, f.year) for f in r.emission_factors] == [("coal_grade_3_4", None), ("electricity", 2023)]
    assert r.inputs.production_unit == "t" and r.inputs.reporting_production == 1500.0
    assert r.requires_review  # production moved +25 % and SEC is the method


def test_production_shift_under_sec_asks_for_review(make_month: MonthBuilder) -> None:
    baseline = [make_month(2022, m, 100.0, {"electricity": (40.0, "MWh")}) for m in range(1, 13)]
    reporting = [make_month(2023, m, 125.0, {"electricity": (45.0, "MWh")}) for m in range(1, 13)]
    r = compute_savings(baseline, reporting, Claim(10.0))
    assert r.method == "sec" and r.requires_review
    assert any("changed by +25.0 %" in w for w in r.warnings)
    calm = compute_savings(baseline, reporting, Claim(10.0), MVSettings(production_shift_warning=0.30))
    assert not calm.requires_review and calm.warnings == []


def test_regression_with_cooling_degree_days(make_month: MonthBuilder) -> None:
    # E = 100 + 2·P + 0.5·CDD MWh exactly in 24 baseline months; reporting uses 10 % less than the model.
    rng = np.random.default_rng(11)
    p_base = rng.uniform(80, 120, 24).round(1)
    cdd_base = rng.uniform(0, 300, 24).round(0)
    baseline = [
        make_month(2021 + i // 12, i % 12 + 1, p, {"electricity": (100 + 2 * p + 0.5 * c, "MWh")}, cdd=c)
        for i, (p, c) in enumerate(zip(p_base, cdd_base))
    ]
    p_rep, cdd_rep = [90.0, 100.0, 110.0] * 4, [50.0, 150.0, 250.0, 100.0] * 3
    reporting = [
        make_month(2023, m + 1, p, {"electricity": (0.9 * (100 + 2 * p + 0.5 * c), "MWh")}, cdd=c)
        for m, (p, c) in enumerate(zip(p_rep, cdd_rep))
    ]
    r = compute_savings(baseline, reporting, Claim(9.0))
    reg = r.total.regression
    assert r.method == "regression" and reg is not None
    assert r.inputs.weather_variables == ["cdd"]
    assert reg.variables == ["intercept", "production", "cdd"]
    assert reg.coefficients == pytest.approx([100 * MWH_TOE, 2 * MWH_TOE, 0.5 * MWH_TOE], rel=1e-9)
    expected_adjusted = sum(100 + 2 * p + 0.5 * c for p, c in zip(p_rep, cdd_rep)) * MWH_TOE
    assert r.total.adjusted_baseline_toe == pytest.approx(expected_adjusted, rel=1e-12)
    assert r.verified_savings_percent == pytest.approx(10.0, rel=1e-9)
    assert r.verdict == VERIFIED


def test_weather_given_only_for_the_baseline_is_not_used(make_month: MonthBuilder) -> None:
    baseline = [
        make_month(2022, m, 80.0 + 4 * m, {"electricity": (200 + 2 * (80 + 4 * m), "MWh")}, cdd=10.0 * m)
        for m in range(1, 13)
    ]
    reporting = [make_month(2023, m, 100.0, {"electricity": (380.0, "MWh")}) for m in range(1, 13)]
    r = compute_savings(baseline, reporting, Claim(5.0))
    assert r.inputs.weather_variables == []
    assert any("CDD is given for the baseline but missing for some reporting periods" in w for w in r.warnings)


def noisy_case(make_month: MonthBuilder, amplitude: float) -> tuple[list[Period], list[Period]]:
    """Baseline E = 200 + 2P ± amplitude (a + + − − pattern); reporting uses 7 % less than the line."""
    p_base = [100.0, 120.0, 140.0, 160.0, 180.0, 200.0] * 4
    signs = [1.0, 1.0, -1.0, -1.0] * 6
    baseline = [
        make_month(2021 + i // 12, i % 12 + 1, p, {"electricity": (200 + 2 * p + amplitude * s, "MWh")})
        for i, (p, s) in enumerate(zip(p_base, signs))
    ]
    p_rep = [110.0, 130.0, 150.0, 170.0, 190.0, 150.0] * 2
    reporting = [
        make_month(2023, m + 1, p, {"electricity": (0.93 * (200 + 2 * p), "MWh")}) for m, p in enumerate(p_rep)
    ]
    return baseline, reporting


def test_uncertain_savings_are_not_verified(make_month: MonthBuilder) -> None:
    # Same 7 % saving twice; only the baseline scatter differs. Both models pass the model criteria
    # (R² ≥ 0.5, CV ≤ 15 %), but with the larger scatter the 68 % FSU exceeds 50 %.
    calm = compute_savings(*noisy_case(make_month, 40.0), Claim(7.0))
    rough = compute_savings(*noisy_case(make_month, 50.0), Claim(7.0))
    for r in (calm, rough):
        assert r.method == "regression"
        assert r.verified_savings_percent == pytest.approx(7.0, rel=1e-9)
    calm_u = calm.total.regression.uncertainty_at_acceptance
    rough_u = rough.total.regression.uncertainty_at_acceptance
    assert calm_u.fsu < 0.5 < rough_u.fsu
    assert calm.verdict == VERIFIED
    assert rough.verdict == NOT_ACHIEVED
    assert any(reason.startswith("savings uncertainty ±") for reason in rough.verdict_reasons)
    # the reported FSU (90 %) and the tested one (68 %) differ only by their t values
    reported = rough.total.regression.uncertainty
    assert reported.confidence == 0.90 and rough_u.confidence == 0.68
    assert reported.fsu / rough_u.fsu == pytest.approx(reported.t_value / rough_u.t_value, rel=1e-12)
    # and the FSU is the G14 formula applied to the model's own figures
    reg = rough.total.regression
    n, m = reg.n, 12
    n_eff = reported.effective_n
    expected = (
        reported.t_value
        * 1.26
        * reg.cv_rmse
        * math.sqrt((n / n_eff) * (1 + 2 / n_eff) / m)
        / (reg.savings_toe / reg.adjusted_baseline_toe)
    )
    assert reported.fsu == pytest.approx(expected, rel=1e-12)


def test_failed_model_criteria_fall_back_to_sec_and_say_which(make_month: MonthBuilder) -> None:
    rng = np.random.default_rng(3)
    p_base = rng.uniform(95, 105, 12)
    baseline = [
        make_month(2022, m + 1, p, {"electricity": (300 + 0.2 * p + rng.normal(0, 40), "MWh")})
        for m, p in enumerate(p_base)
    ]
    reporting = [make_month(2023, m, 100.0, {"electricity": (280.0, "MWh")}) for m in range(1, 13)]
    r = compute_savings(baseline, reporting, Claim(5.0))
    reg = r.total.regression
    assert r.method == "sec" and reg is not None and not reg.passed
    failed = {c.name for c in reg.checks if not c.passed}
    assert {"r_squared", "f_test_p_value"} <= failed
    assert any(reason.startswith("R² = ") for reason in r.total.fallback_reasons)
    assert len(r.total.fallback_reasons) == len(failed)
    assert r.verified_savings_percent == pytest.approx(r.total.sec.savings_percent)


def test_too_few_baseline_periods_is_reported(make_month: MonthBuilder) -> None:
    baseline = [
        make_month(2022, m, 80.0 + 5 * m, {"electricity": (200 + 2 * (80 + 5 * m), "MWh")}) for m in range(3, 13)
    ]
    reporting = [make_month(2023, m, 100.0, {"electricity": (360.0, "MWh")}) for m in range(1, 13)]
    r = compute_savings(baseline, reporting, Claim(5.0))
    assert r.method == "sec"
    assert r.total.fallback_reasons == ["baseline has 10 periods; at least 12 required"]


def test_grid_factor_is_weighted_over_reporting_years(make_month: MonthBuilder) -> None:
    baseline = [make_month(2019, m, 100.0, {"electricity": (40.0, "MWh")}) for m in range(1, 13)]
    # Jul–Dec 2020 at 36 MWh/month, Jan–Jun 2021 at 30 MWh/month (grid factors 0.8041 and 0.7221 t/MWh)
    reporting = [
        make_month(2020 + (m < 7), m, 100.0, {"electricity": (30.0 if m < 7 else 36.0, "MWh")})
        for m in (7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6)
    ]
    r = compute_savings(baseline, reporting, Claim(10.0))
    (elec,) = r.carriers
    # factor weighted by electricity used: (216 MWh × 0.8041 + 180 MWh × 0.7221) / 396 MWh
    weighted = (216 * 0.8041 + 180 * 0.7221) / 396
    assert elec.t_co2_per_toe == pytest.approx(weighted / MWH_TOE, rel=1e-12)
    # 480 MWh at baseline SEC − 396 MWh used = 84 MWh saved
    assert elec.savings_toe == pytest.approx(84 * MWH_TOE, rel=1e-12)
    assert elec.savings_tco2 == pytest.approx(84 * weighted, rel=1e-10)
    assert [f.year for f in r.emission_factors] == [2020, 2021]


def test_result_is_strict_json(make_month: MonthBuilder) -> None:
    baseline, reporting = trap_periods(make_month)
    d = compute_savings(baseline, reporting, Claim(8.0), norm=SectorNorm(4000.0, "MJ/tonne")).to_dict()
    text = json.dumps(d, allow_nan=False)
    assert '"verdict": "not_achieved"' in text and '"binding_estimate": "regression"' in text
    assert d["inputs"]["baseline_start"] == "2022-01-01"
    assert d["inputs"]["periods"][12]["role"] == "reporting"
    assert d["inputs"]["settings"]["criteria"]["max_cv_rmse"] == 0.15
    assert d["total"]["regression"]["checks"][0]["name"] == "min_baseline_periods"


def test_bad_input_raises_input_errors_before_any_computation(make_month: MonthBuilder) -> None:
    baseline, reporting = trap_periods(make_month)
    with pytest.raises(InputErrors) as info:
        compute_savings(baseline, reporting, Claim(0.0))
    assert info.value.as_problem_errors()[0]["field"] == "claim.overall_percent"
    reporting = [replace(reporting[0], production=replace(reporting[0].production, unit="bbl")), *reporting[1:]]
    with pytest.raises(InputErrors) as info:
        compute_savings(baseline, reporting, Claim(8.0))
    assert info.value.as_problem_errors()[0] == {
        "field": "reporting_periods[0].production.unit",
        "message": info.value.errors[0].message,
        "code": "unknown_unit",
    }


def test_settings_round_trip() -> None:
    s = MVSettings(criteria=AcceptanceCriteria(max_cv_rmse=0.2), fsu_confidence=0.95)
    assert MVSettings.from_dict(s.to_dict()) == s
    assert MVSettings.from_dict({}) == MVSettings()
    with pytest.raises(TypeError):
        MVSettings.from_dict({"criteria": {"max_cvrmse": 0.2}})


def test_every_input_problem_is_reported_at_once(make_month: MonthBuilder) -> None:
    baseline, reporting = trap_periods(make_month)
    baseline[0] = make_month(2022, 1, -1.0, {"electricity": (100.0, "MWh")})
    with pytest.raises(InputErrors) as info:
        compute_savings(baseline, reporting, Claim(-1.0), norm=SectorNorm(196.0, "MJ/hl"))
    assert [e["field"] for e in info.value.as_problem_errors()] == [
        "baseline_periods[0].production.quantity",
        "claim.overall_percent",
    ]
    # with valid periods the norm's product unit is checked against the production unit (t vs hl)
    baseline, reporting = trap_periods(make_month)
    with pytest.raises(InputErrors) as info:
        compute_savings(baseline, reporting, Claim(8.0), norm=SectorNorm(196.0, "MJ/hl"))
    assert [(e["field"], e["code"]) for e in info.value.as_problem_errors()] == [("norm.unit", "unknown_unit")]


def test_claim_for_an_unmeasured_carrier_is_flagged(make_month: MonthBuilder) -> None:
    baseline, reporting = trap_periods(make_month)
    r = compute_savings(baseline, reporting, Claim(8.0, {"coke": 5.0}))
    assert any("the claim names coke, which no period measures" in w for w in r.warnings)


def test_settings_reject_impossible_configuration() -> None:
    with pytest.raises(ValueError, match="fsu_confidence"):
        MVSettings(fsu_confidence=1.0)
    with pytest.raises(ValueError, match="claim_tolerance_pp"):
        MVSettings.from_dict({"verdict": {"claim_tolerance_pp": -0.5}})
