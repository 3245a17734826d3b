"""SEC comparison, sector-norm units and the verdict rules at their boundaries."""

from __future__ import annotations

import pytest

from cleanprod_verification.mv.errors import UnknownUnitError
from cleanprod_verification.mv.norms import SectorNorm, compare_with_norm, convert_sec
from cleanprod_verification.mv.sec import sec_comparison
from cleanprod_verification.mv.verdict import NOT_ACHIEVED, VERIFIED, VerdictRules, achieved_ratio, decide


def test_sec_savings_hand_example() -> None:
    # baseline: 80 MWh for 200 t → SEC 0.4 MWh/t; reporting: 90 MWh for 250 t → SEC 0.36 MWh/t
    # savings = (0.4 − 0.36) · 250 = 10 MWh; % = 0.04 / 0.4 = 10 %; adjusted baseline = 0.4 · 250 = 100 MWh
    s = sec_comparison(80.0, 200.0, 90.0, 250.0)
    assert s.sec_baseline == pytest.approx(0.4)
    assert s.sec_reporting == pytest.approx(0.36)
    assert s.savings == pytest.approx(10.0)
    assert s.savings_fraction == pytest.approx(0.10)
    assert s.adjusted_baseline == pytest.approx(100.0)


def test_sec_uses_totals_not_the_mean_of_monthly_ratios() -> None:
    # months (E, P): (10, 10) and (90, 30) → total SEC 100/40 = 2.5, while the mean of ratios would be 2.0
    assert sec_comparison(100.0, 40.0, 50.0, 25.0).sec_baseline == pytest.approx(2.5)


def test_sec_increase_is_a_negative_saving_and_zero_baseline_has_no_fraction() -> None:
    worse = sec_comparison(80.0, 200.0, 110.0, 250.0)  # SEC 0.44 vs 0.4
    assert worse.savings == pytest.approx(-10.0) and worse.savings_fraction == pytest.approx(-0.10)
    new_carrier = sec_comparison(0.0, 200.0, 5.0, 250.0)  # carrier introduced by a fuel switch
    assert new_carrier.savings == pytest.approx(-5.0) and new_carrier.savings_fraction is None
    with pytest.raises(ValueError):
        sec_comparison(1.0, 0.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [
        (1.0, "TOE/t", "MJ/tonne", 41_868.0),
        (1.0, "TOE/m3", "MJ/hl", 4_186.8),  # 1 m3 = 10 hl
        (0.05, "TOE/t", "kWh/tonne", 0.05 * 41_868 / 3.6),  # physical kWh, 3.6 MJ each
        (2.0, "GJ/t", "MJ/kg", 2.0),
        (306.0, "MJ/hl", "GJ/m3", 3.06),
        (1.0, "kgOE/unit", "MJ/piece", 41.868),
        (1.0, "TOE/m2", "MJ/m²", 41_868.0),
    ],
)
def test_sec_unit_conversion(value: float, src: str, dst: str, expected: float) -> None:
    assert convert_sec(value, src, dst) == pytest.approx(expected, rel=1e-12)


def test_sec_units_must_share_a_production_dimension() -> None:
    with pytest.raises(UnknownUnitError, match="energy per t"):
        convert_sec(1.0, "TOE/t", "MJ/hl", "norm.unit")
    with pytest.raises(UnknownUnitError, match="unknown SEC unit"):
        convert_sec(1.0, "TOE/t", "BTU/t")


def test_norm_comparison_inside_and_outside() -> None:
    # beer, 20–100 million L/yr, 2021–2025 norm 196 MJ/hl; SEC 0.004 TOE/m3 = 0.004·41868/10 = 16.7472 MJ/hl
    beer = SectorNorm(196.0, "MJ/hl", "19/2016/TT-BCT beer 20-100 million L/yr")
    inside = compare_with_norm(0.004, "m3", beer)
    assert inside.reporting_sec == pytest.approx(16.7472)
    assert inside.within_norm and inside.margin_percent == pytest.approx((196 - 16.7472) / 196 * 100)
    # exactly at the norm counts as within it
    at = compare_with_norm(196.0 / 4186.8, "m3", beer)
    assert at.reporting_sec == pytest.approx(196.0) and at.within_norm
    just_above = compare_with_norm(196.02 / 4186.8, "m3", beer)
    assert not just_above.within_norm
    # steel hot rolling 1600 MJ/t; 0.05 TOE/t = 2093.4 MJ/t is above it
    above = compare_with_norm(0.05, "t", SectorNorm(1600.0, "MJ/tonne"))
    assert above.reporting_sec == pytest.approx(2093.4) and not above.within_norm
    assert above.margin_percent == pytest.approx((1600 - 2093.4) / 1600 * 100)


RULES = VerdictRules()  # tolerance 0.5 pp, target 6 %


@pytest.mark.parametrize(
    ("verified", "claimed", "status"),
    [
        (7.5, 8.0, VERIFIED),  # exactly claimed − tolerance
        (7.4999999999999, 8.0, VERIFIED),  # float noise at the boundary must not flip it
        (7.49, 8.0, NOT_ACHIEVED),
        (6.0, 6.0, VERIFIED),  # exactly the target
        (6.0, 5.0, VERIFIED),  # a small claim still needs the target
        (5.99, 5.0, NOT_ACHIEVED),  # meets the claim, misses the target
        (5.5, 6.0, NOT_ACHIEVED),  # within tolerance of the claim, below the target
        (12.0, 8.0, VERIFIED),
    ],
)
def test_verdict_boundaries(verified: float, claimed: float, status: str) -> None:
    assert decide(verified, claimed, RULES).status == status


def test_verdict_reasons_name_the_failed_rule() -> None:
    v = decide(5.99, 5.0, RULES)
    assert any("below the programme target 6 %" in r for r in v.reasons)
    v = decide(7.0, 8.0, RULES)
    assert any("below the claimed 8.00 % minus the 0.5 pp tolerance (7.50 %)" in r for r in v.reasons)


def test_configured_tolerance_and_target() -> None:
    strict = VerdictRules(claim_tolerance_pp=0.0, programme_target_percent=8.0)
    assert decide(7.9, 8.0, strict).status == NOT_ACHIEVED
    assert decide(8.0, 8.0, strict).status == VERIFIED


def test_uncertainty_blocks_verification_only_when_configured() -> None:
    v = decide(9.0, 8.0, RULES, uncertainty_ok=False, uncertainty_message="savings uncertainty ±80 %")
    assert v.status == NOT_ACHIEVED and "savings uncertainty ±80 %" in v.reasons
    relaxed = VerdictRules(require_uncertainty_within_limit=False)
    assert decide(9.0, 8.0, relaxed, uncertainty_ok=False).status == VERIFIED
    assert decide(9.0, 8.0, RULES, uncertainty_ok=True).status == VERIFIED


def test_achieved_ratio() -> None:
    assert decide(4.0, 8.0, RULES).achieved_ratio == pytest.approx(0.5)
    assert decide(-3.0, 8.0, RULES).achieved_ratio == 0.0  # clamped
    assert decide(10.0, 8.0, RULES).achieved_ratio == pytest.approx(1.25)  # not capped above
    assert achieved_ratio(5.0, 0.0) is None
    assert decide(None, 8.0, RULES).status == NOT_ACHIEVED
