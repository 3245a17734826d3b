"""OLS baseline model checked against independent computations: closed-form simple regression and explicitly
written normal equations, on noisy data with a fixed seed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cleanprod_verification.mv.distributions import f_sf, student_t_two_sided_p
from cleanprod_verification.mv.regression import RegressionNotPossible, design_matrix, fit_ols

REL = 1e-9


def noisy_production_data(n: int = 24, seed: int = 20240611) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    production = rng.uniform(50.0, 150.0, n)
    energy = 300.0 + 1.8 * production + rng.normal(0.0, 15.0, n)
    return production, energy


def test_simple_regression_matches_closed_form() -> None:
    x, y = noisy_production_data()
    n = len(x)
    fit = fit_ols(design_matrix([x]), y, ["intercept", "production"])

    # textbook formulas, computed with plain Python sums
    xs, ys = x.tolist(), y.tolist()
    x_bar, y_bar = sum(xs) / n, sum(ys) / n
    sxx = sum((xi - x_bar) ** 2 for xi in xs)
    sxy = sum((xi - x_bar) * (yi - y_bar) for xi, yi in zip(xs, ys))
    b = sxy / sxx
    a = y_bar - b * x_bar
    resid = [yi - (a + b * xi) for xi, yi in zip(xs, ys)]
    sse = sum(e * e for e in resid)
    sst = sum((yi - y_bar) ** 2 for yi in ys)
    s = math.sqrt(sse / (n - 2))
    r2 = 1 - sse / sst

    assert fit.coefficients == (pytest.approx(a, rel=REL), pytest.approx(b, rel=REL))
    assert fit.standard_errors[1] == pytest.approx(s / math.sqrt(sxx), rel=REL)
    assert fit.standard_errors[0] == pytest.approx(s * math.sqrt(1 / n + x_bar**2 / sxx), rel=REL)
    assert fit.sse == pytest.approx(sse, rel=REL)
    assert fit.r_squared == pytest.approx(r2, rel=REL)
    assert fit.adj_r_squared == pytest.approx(1 - (1 - r2) * (n - 1) / (n - 2), rel=REL)
    assert fit.cv_rmse == pytest.approx(s / y_bar, rel=REL)
    assert fit.nmbe == pytest.approx(sum(resid) / ((n - 2) * y_bar), abs=1e-12)  # ≈ 0 with an intercept
    f_stat = (sst - sse) / (sse / (n - 2))
    assert fit.f_statistic == pytest.approx(f_stat, rel=REL)
    # in simple regression F = t² of the slope, so the two p-values must agree
    t_slope = b / (s / math.sqrt(sxx))
    assert f_stat == pytest.approx(t_slope**2, rel=REL)
    assert fit.f_p_value == pytest.approx(student_t_two_sided_p(t_slope, n - 2), rel=1e-9)
    assert fit.p_values[1] == pytest.approx(fit.f_p_value, rel=1e-9)
    assert fit.df_residual == n - 2
    # the fixture is a genuine fit, not a degenerate one
    assert 0.8 < r2 < 0.999 and 1.5 < b < 2.1


def test_multiple_regression_matches_normal_equations() -> None:
    rng = np.random.default_rng(7)
    n = 30
    production = rng.uniform(400, 900, n)
    cdd = rng.uniform(0, 250, n)
    hdd = rng.uniform(0, 60, n)
    energy = 1200 + 3.1 * production + 2.2 * cdd + 0.9 * hdd + rng.normal(0, 80, n)
    rows = [[1.0, p, c, h] for p, c, h in zip(production, cdd, hdd)]

    # XᵀX and Xᵀy written out element by element
    k = 4
    xtx = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    xty = [sum(r[i] * yi for r, yi in zip(rows, energy)) for i in range(k)]
    beta = np.linalg.solve(np.array(xtx), np.array(xty))
    resid = [yi - sum(b * v for b, v in zip(beta, r)) for r, yi in zip(rows, energy)]
    sse = sum(e * e for e in resid)
    sigma2 = sse / (n - k)
    se = np.sqrt(sigma2 * np.diag(np.linalg.inv(np.array(xtx))))
    y_bar = sum(energy) / n
    sst = sum((yi - y_bar) ** 2 for yi in energy)
    f_stat = ((sst - sse) / (k - 1)) / sigma2

    fit = fit_ols(design_matrix([production, cdd, hdd]), energy, ["intercept", "production", "cdd", "hdd"])
    assert fit.coefficients == pytest.approx(beta.tolist(), rel=REL)
    assert fit.standard_errors == pytest.approx(se.tolist(), rel=1e-8)  # inv(XᵀX) is itself less accurate
    assert fit.sse == pytest.approx(sse, rel=REL)
    assert fit.r_squared == pytest.approx(1 - sse / sst, rel=REL)
    assert fit.adj_r_squared == pytest.approx(1 - (sse / (n - k)) / (sst / (n - 1)), rel=REL)
    assert fit.cv_rmse == pytest.approx(math.sqrt(sigma2) / y_bar, rel=REL)
    assert fit.f_statistic == pytest.approx(f_stat, rel=REL)
    assert fit.f_p_value == pytest.approx(f_sf(f_stat, k - 1, n - k), rel=1e-9)
    for b, s, p in zip(beta, se, fit.p_values):
        assert p == pytest.approx(student_t_two_sided_p(b / s, n - k), rel=1e-6)
    predicted = fit.predict(design_matrix([np.array([500.0]), np.array([100.0]), np.array([10.0])]))
    assert predicted[0] == pytest.approx(beta[0] + beta[1] * 500 + beta[2] * 100 + beta[3] * 10, rel=REL)


def test_exact_line_gives_perfect_statistics() -> None:
    x = np.arange(80.0, 122.0, 4.0)
    fit = fit_ols(design_matrix([x]), 200 + 2 * x, ["intercept", "production"])
    assert fit.coefficients == (pytest.approx(200, rel=1e-12), pytest.approx(2, rel=1e-12))
    assert fit.r_squared == pytest.approx(1.0, abs=1e-12)
    assert fit.cv_rmse == pytest.approx(0.0, abs=1e-12)
    assert fit.f_p_value == pytest.approx(0.0, abs=1e-12)


def test_constant_production_cannot_be_fitted() -> None:
    x = np.full(12, 100.0)
    with pytest.raises(RegressionNotPossible, match="production does not vary"):
        fit_ols(design_matrix([x]), np.linspace(190, 210, 12), ["intercept", "production"])


def test_too_few_points() -> None:
    with pytest.raises(RegressionNotPossible, match="2 baseline periods cannot fit 2 parameters"):
        fit_ols(design_matrix([np.array([1.0, 2.0])]), np.array([3.0, 5.0]), ["intercept", "production"])


def test_undefined_statistics_are_none_not_nan() -> None:
    x = np.arange(1.0, 13.0)
    fit = fit_ols(design_matrix([x]), np.zeros(12), ["intercept", "production"])  # carrier unused in baseline
    assert fit.r_squared is None and fit.cv_rmse is None and fit.nmbe is None and fit.f_p_value is None
