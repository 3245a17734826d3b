"""IPMVP non-routine adjustments: the adjusted and the unadjusted figures, per carrier and in total."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cleanprod_verification.mv import Claim, InputErrors, Period, compute_savings
from cleanprod_verification.mv.adjustments import NonRoutineAdjustment

MonthBuilder = Callable[..., Period]
MWH_TOE = 0.1543
P = [80.0, 120.0, 90.0, 110.0, 100.0, 95.0, 105.0, 85.0, 115.0, 100.0, 90.0, 110.0]


def case(make_month: MonthBuilder, factor: float) -> tuple[list[Period], list[Period]]:
    baseline = [make_month(2023, m + 1, p, {"electricity": (200 + 2 * p, "MWh")}) for m, p in enumerate(P)]
    reporting = [make_month(2024, m + 1, p, {"electricity": (factor * (200 + 2 * p), "MWh")}) for m, p in enumerate(P)]
    return baseline, reporting


def test_adjustment_moves_baseline_and_savings_and_keeps_the_unadjusted_figures(make_month: MonthBuilder) -> None:
    baseline, reporting = case(make_month, 0.97)  # 3 % saved: below the 6 % target
    plain = compute_savings(baseline, reporting, Claim(8.0))
    assert plain.verdict == "not_achieved" and plain.verified_savings_percent == pytest.approx(3.0, rel=1e-9)

    # a cold store added in the reporting year uses 96 MWh a year that the baseline never had
    extra = 96 * 12 * MWH_TOE / 12
    adjustment = NonRoutineAdjustment("electricity", extra, "Kho lạnh mới từ 01/2024", reference="adj-1")
    r = compute_savings(baseline, reporting, Claim(8.0), adjustments=[adjustment])
    expected_baseline = plain.total.adjusted_baseline_toe + extra
    assert r.total.adjusted_baseline_toe == pytest.approx(expected_baseline, rel=1e-12)
    assert r.savings_toe == pytest.approx(plain.savings_toe + extra, rel=1e-12)
    assert r.verified_savings_percent == pytest.approx((plain.savings_toe + extra) / expected_baseline * 100)
    assert r.total.unadjusted is not None
    assert r.total.unadjusted.savings_percent == pytest.approx(plain.verified_savings_percent, rel=1e-12)
    assert r.total.unadjusted.adjusted_baseline_toe == pytest.approx(plain.total.adjusted_baseline_toe, rel=1e-12)
    (elec,) = r.carriers
    assert elec.non_routine_adjustment_toe == extra and elec.savings_toe == pytest.approx(plain.savings_toe + extra)
    assert elec.savings_tco2 > plain.carriers[0].savings_tco2 and r.savings_tco2 == pytest.approx(elec.savings_tco2)
    assert r.to_dict()["non_routine_adjustments"][0]["reference"] == "adj-1"
    assert r.to_dict()["total"]["unadjusted"]["savings_toe"] == pytest.approx(plain.savings_toe)

    # the model itself is unchanged
    assert r.total.regression.coefficients == plain.total.regression.coefficients


def test_adjustment_for_an_unmeasured_carrier_is_refused(make_month: MonthBuilder) -> None:
    baseline, reporting = case(make_month, 0.9)
    with pytest.raises(InputErrors) as e:
        compute_savings(baseline, reporting, Claim(8.0), adjustments=[NonRoutineAdjustment("diesel", 1.0, "x")])
    assert [x.field for x in e.value.errors] == ["adjustments[0].carrier"]
