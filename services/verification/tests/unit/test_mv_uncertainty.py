"""ASHRAE Guideline 14 Annex B fractional savings uncertainty on hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from cleanprod_verification.mv.uncertainty import (
    MIN_EFFECTIVE_N,
    effective_n,
    fractional_savings_uncertainty,
    lag1_autocorrelation,
    savings_uncertainty,
)

# Residual pattern + + − − repeated over 12 months:
#   Σe² = 12; Σ e_i·e_{i−1} (11 products) = +1 −1 +1 −1 +1 −1 +1 −1 +1 −1 +1 = 1  →  ρ = 1/12
#   n′ = 12·(1 − 1/12)/(1 + 1/12) = 12·11/13 = 132/13 ≈ 10.1538
PATTERN = np.array([1.0, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1])


def test_lag1_autocorrelation_by_hand() -> None:
    assert lag1_autocorrelation(PATTERN) == pytest.approx(1 / 12, rel=1e-15)
    # alternating signs: Σ e_i e_{i−1} = −3 over Σe² = 4
    assert lag1_autocorrelation(np.array([1.0, -1, 1, -1])) == pytest.approx(-0.75)
    assert lag1_autocorrelation(np.zeros(6)) == 0.0


def test_effective_n_by_hand_with_cap_and_floor() -> None:
    assert effective_n(12, 1 / 12) == pytest.approx(132 / 13, rel=1e-14)
    assert effective_n(12, 0.2) == pytest.approx(8.0)  # 12·0.8/1.2
    assert effective_n(4, -0.75) == 4.0  # 4·1.75/0.25 = 28, capped at n
    assert effective_n(12, 0.99) == pytest.approx(max(MIN_EFFECTIVE_N, 12 * 0.01 / 1.99))
    assert effective_n(12, 0.99) == MIN_EFFECTIVE_N == 1.0
    assert effective_n(12, 1.0) == MIN_EFFECTIVE_N


def test_fsu_hand_example_rho_0_2() -> None:
    # t = 1.812, CV = 10 %, n = 12, ρ = 0.2 → n′ = 8, m = 12, F = 10 %:
    # sqrt((12/8)·(1 + 2/8)·(1/12)) = sqrt(1.5·1.25/12) = sqrt(0.15625) = 0.3952847
    # FSU = 1.812 · 1.26 · 0.10 · 0.3952847 / 0.10 = 0.902482
    assert fractional_savings_uncertainty(1.812, 0.10, 12, 8.0, 12, 0.10) == pytest.approx(0.902482, abs=1e-6)


def test_fsu_hand_example_from_residuals() -> None:
    # Residuals PATTERN scaled so that the model's CV(RMSE) is 5 % of a mean of 100:
    #   (n/n′) = 13/11 = 1.181818, (1 + 2/n′) = 1 + 26/132 = 1.196970, /m = /12 → 0.117883, sqrt → 0.343341
    #   at 90 % and df = 10, t = 1.8125; FSU = 1.8125 · 1.26 · 0.05 · 0.343341 / 0.10 = 0.39205
    u = savings_uncertainty(
        confidence=0.90,
        cv_rmse=0.05,
        residuals=PATTERN,
        parameters=2,
        reporting_points=12,
        savings=120.0,
        adjusted_baseline=1200.0,
    )
    assert u.residual_autocorrelation == pytest.approx(1 / 12)
    assert u.effective_n == pytest.approx(10.153846, rel=1e-6)
    assert u.degrees_of_freedom == 10
    assert u.t_value == pytest.approx(1.8125, abs=1e-4)
    assert u.savings_fraction == pytest.approx(0.10)
    assert u.fsu == pytest.approx(0.39205, abs=1e-4)
    assert u.savings_uncertainty_toe == pytest.approx(0.39205 * 120.0, abs=1e-2)


def test_fsu_is_undefined_without_savings() -> None:
    assert fractional_savings_uncertainty(1.8, 0.1, 12, 12, 12, 0.0) is None
    u = savings_uncertainty(
        confidence=0.9,
        cv_rmse=0.1,
        residuals=PATTERN,
        parameters=2,
        reporting_points=12,
        savings=-5.0,
        adjusted_baseline=100.0,
    )
    assert u.fsu is None and u.savings_uncertainty_toe is None


def test_fsu_falls_with_more_reporting_points_and_bigger_savings() -> None:
    base = fractional_savings_uncertainty(1.8, 0.1, 12, 12, 12, 0.1)
    assert fractional_savings_uncertainty(1.8, 0.1, 12, 12, 48, 0.1) == pytest.approx(base / 2)  # 1/sqrt(m)
    assert fractional_savings_uncertainty(1.8, 0.1, 12, 12, 12, 0.2) == pytest.approx(base / 2)  # 1/F
