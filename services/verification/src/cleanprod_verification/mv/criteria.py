"""When a regression baseline may be used, and when its savings are certain enough.

Defaults and where they come from (all configurable):

* ``min_baseline_periods = 12`` — a full year of monthly data, so every season is in the baseline.
* ``min_r_squared = 0.50`` — DOE EnPI acceptance for production-normalised industrial models.
* ``max_cv_rmse = 0.15`` — ASHRAE Guideline 14 monthly CV(RMSE) limit as used in the programme's M&V notes
  (the stricter of the commonly quoted figures; G14's calibration limit). Raise to 0.20 for the looser
  baseline-model figure some programmes use.
* ``max_abs_nmbe = 0.05`` — G14 monthly |NMBE| ≤ 5 %. An OLS fit with an intercept has NMBE ≈ 0 by
  construction; the check stays so that the record shows it and other estimators are held to it.
* ``max_f_p_value = 0.10`` — DOE EnPI model F-test: p < 0.10.
* ``range_tolerance = 0.10`` — every reporting-period value of every model variable must lie within the
  baseline [min, max] widened by 10 % of that span on each side: beyond it the model extrapolates.
* ``max_fsu = 0.50`` at ``fsu_acceptance_confidence = 0.68`` — G14's requirement that the savings
  uncertainty be below 50 % of the savings at 68 % confidence.

The first six decide whether the regression *model* is used (otherwise SEC). The FSU limit is about the
*savings*, not the model: applying it as a model test would reject a good model exactly when true savings are
near zero (F → 0 makes FSU → ∞) and fall back to SEC, which is how the production trap produces a false
saving. So FSU is checked separately and the verdict rules decide what an uncertain saving means.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .regression import OlsFit


@dataclass(frozen=True)
class AcceptanceCriteria:
    min_baseline_periods: int = 12
    min_r_squared: float = 0.50
    max_cv_rmse: float = 0.15
    max_abs_nmbe: float = 0.05
    max_f_p_value: float = 0.10
    range_tolerance: float = 0.10
    max_fsu: float = 0.50
    fsu_acceptance_confidence: float = 0.68


@dataclass(frozen=True, slots=True)
class CriterionCheck:
    name: str
    passed: bool
    value: float | None
    threshold: float
    message: str


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "undefined"
    # z turns a rounded -0.0 into 0.0: NMBE of an OLS fit is 0 up to rounding noise of either sign
    return f"{x * 100:z.1f} %" if pct else f"{x:.3g}"


@dataclass(frozen=True)
class Wording:
    """The fixed parts of the acceptance checks' messages for one set of criteria, formatted once (the batched
    records, ``records.py``, format only the figures): message = f"{prefix}{figure}{suffix}"."""

    baseline_periods: str  # the whole message depends on n and the minimum only: "{n}" is filled in
    r_squared: tuple[str, str]
    cv_rmse: tuple[str, str]
    nmbe: tuple[str, str]
    f_test: tuple[str, str]
    fsu: tuple[str, str]
    fsu_undefined: str


@lru_cache(maxsize=32)
def wording(c: AcceptanceCriteria) -> Wording:
    conf = f"{c.fsu_acceptance_confidence * 100:g} %"
    return Wording(
        baseline_periods=f"baseline has {{n}} periods; at least {c.min_baseline_periods} required",
        r_squared=("R² = ", f"; at least {c.min_r_squared:g} required"),
        cv_rmse=("CV(RMSE) = ", f"; at most {_fmt(c.max_cv_rmse, True)} allowed"),
        nmbe=("NMBE = ", f"; at most ±{_fmt(c.max_abs_nmbe, True)} allowed"),
        f_test=("model F-test p = ", f"; below {c.max_f_p_value:g} required"),
        fsu=("savings uncertainty ±", f" at {conf} confidence; at most {_fmt(c.max_fsu, True)} allowed"),
        fsu_undefined=(
            f"savings uncertainty undefined (no positive savings); at most {_fmt(c.max_fsu, True)} at {conf} required"
        ),
    )


def model_checks(fit: OlsFit, criteria: AcceptanceCriteria) -> list[CriterionCheck]:
    """Checks on the baseline model itself (without the reporting-range check, see ``range_check``)."""
    c, w = criteria, wording(criteria)
    checks = [
        CriterionCheck(
            "min_baseline_periods",
            fit.n >= c.min_baseline_periods,
            float(fit.n),
            float(c.min_baseline_periods),
            w.baseline_periods.format(n=fit.n),
        ),
        CriterionCheck(
            "r_squared",
            fit.r_squared is not None and fit.r_squared >= c.min_r_squared,
            fit.r_squared,
            c.min_r_squared,
            f"{w.r_squared[0]}{_fmt(fit.r_squared)}{w.r_squared[1]}",
        ),
        CriterionCheck(
            "cv_rmse",
            fit.cv_rmse is not None and fit.cv_rmse <= c.max_cv_rmse,
            fit.cv_rmse,
            c.max_cv_rmse,
            f"{w.cv_rmse[0]}{_fmt(fit.cv_rmse, True)}{w.cv_rmse[1]}",
        ),
        CriterionCheck(
            "nmbe",
            fit.nmbe is not None and abs(fit.nmbe) <= c.max_abs_nmbe,
            fit.nmbe,
            c.max_abs_nmbe,
            f"{w.nmbe[0]}{_fmt(fit.nmbe, True)}{w.nmbe[1]}",
        ),
        CriterionCheck(
            "f_test_p_value",
            fit.f_p_value is not None and fit.f_p_value < c.max_f_p_value,
            fit.f_p_value,
            c.max_f_p_value,
            f"{w.f_test[0]}{_fmt(fit.f_p_value)}{w.f_test[1]}",
        ),
    ]
    return checks


def range_check(variable: str, baseline: np.ndarray, reporting: np.ndarray, tolerance: float) -> CriterionCheck:
    """Every reporting value inside the baseline range widened by ``tolerance`` × span on both sides.

    ``value`` is the largest excursion beyond the plain baseline range, as a fraction of the span (0 inside).
    """
    lo, hi = float(baseline.min()), float(baseline.max())
    return range_check_of_bounds(variable, lo, hi, float(reporting.min()), float(reporting.max()), tolerance)


def range_check_of_bounds(
    variable: str, lo: float, hi: float, r_lo: float, r_hi: float, tolerance: float
) -> CriterionCheck:
    """``range_check`` from the baseline's [lo, hi] and the reporting values' [r_lo, r_hi] (the batched path
    computes these for many cases at once)."""
    span = hi - lo
    excursion = max(lo - r_lo, r_hi - hi, 0.0)
    if span > 0:
        value = excursion / span
        passed = value <= tolerance
    else:  # a constant baseline variable: only that same value is inside the range
        value = 0.0 if excursion == 0 else float("inf")
        passed = excursion == 0
    message = (
        f"reporting {variable} {r_lo:.6g}–{r_hi:.6g} vs baseline range {lo:.6g}–{hi:.6g} "
        f"(± {tolerance * 100:g} % of the span allowed)"
    )
    return CriterionCheck(
        f"{variable}_within_baseline_range", passed, None if value == float("inf") else value, tolerance, message
    )


def uncertainty_check(fsu: float | None, criteria: AcceptanceCriteria) -> CriterionCheck:
    w = wording(criteria)
    if fsu is None:
        return CriterionCheck("fractional_savings_uncertainty", False, None, criteria.max_fsu, w.fsu_undefined)
    return CriterionCheck(
        "fractional_savings_uncertainty",
        fsu <= criteria.max_fsu,
        fsu,
        criteria.max_fsu,
        f"{w.fsu[0]}{_fmt(fsu, True)}{w.fsu[1]}",
    )
