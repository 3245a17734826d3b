"""Fractional savings uncertainty, ASHRAE Guideline 14 Annex B.

  FSU = t · 1.26 · CV · sqrt((n/n′) · (1 + 2/n′) · (1/m)) / F

n baseline points, m reporting points, CV the baseline model's CV(RMSE), F = savings / adjusted baseline over
the reporting period, t the two-sided Student t value at the chosen confidence with n − p degrees of freedom,
and n′ = n·(1−ρ)/(1+ρ) the effective number of independent baseline points given the lag-1 autocorrelation ρ
of the baseline residuals (in time order).

The 1.26 factor is G14's empirical correction for *monthly* data. For *daily* data G14's formula with 1.26
misstates the uncertainty; the correction used then is Sun & Baltazar's (ASHRAE Trans. 2013), the one
CalTRACK-style tools apply to daily models: a·M² + b·M + c with M the length of the reporting period in months
(a = −0.00024, b = 0.03535, c = 1.00286; about 1.39 for a 12-month reporting year). The interval is read from
the periods (``interval_of``): a median length of one day (two with half-open periods) is daily, of 27 days or more monthly; any other
length (e.g. weekly) has no published correction, and the larger of the two factors is used (conservative).

Bounds on n′: it is capped at n (a negative ρ must not pretend to more data than was measured) and floored
at 1 (see ``MIN_EFFECTIVE_N``).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np

from .distributions import t_critical_two_sided

G14_MONTHLY_FACTOR = 1.26
# Sun & Baltazar (2013) daily-data correction a·M² + b·M + c, M = reporting months
DAILY_CORRECTION = (-0.00024, 0.03535, 1.00286)
DAYS_PER_MONTH = 365.25 / 12
INTERVAL_DAILY, INTERVAL_MONTHLY, INTERVAL_OTHER = "daily", "monthly", "other"
# Fewer than one independent observation has no meaning, and as ρ → 1 the formula would blow up to infinity.
# Flooring at 1 keeps FSU finite yet very large (so an uncertainty limit still fails, as it should).
MIN_EFFECTIVE_N = 1.0


def lag1_autocorrelation(residuals: np.ndarray) -> float:
    """ρ = Σ_{i≥2} e_i·e_{i−1} / Σ e_i² (residuals of an OLS fit with intercept have mean 0).

    A perfect fit (all residuals 0) has no autocorrelation to speak of: 0 is returned.
    """
    e = np.asarray(residuals, dtype=float)
    denominator = float(e @ e)
    if denominator == 0.0 or len(e) < 2:
        return 0.0
    return float(e[1:] @ e[:-1]) / denominator


def effective_n(n: int, rho: float) -> float:
    """n′ = n(1−ρ)/(1+ρ), capped at n and floored at MIN_EFFECTIVE_N."""
    if rho <= -1.0:
        return float(n)
    n_eff = n * (1.0 - rho) / (1.0 + rho)
    return min(float(n), max(MIN_EFFECTIVE_N, n_eff))


def interval_of(period_days: list[int]) -> str:
    """daily | monthly | other, from the median length (days, both ends included) of the periods."""
    if not period_days:
        return INTERVAL_MONTHLY
    return interval_of_median(float(statistics.median(period_days)))  # np.median's value, without its set-up


def interval_of_median(median: float) -> str:
    """``interval_of`` from the median period length (the batched path computes medians for many cases)."""
    if median <= 2.0:  # one day, or a half-open day (start, next day)
        return INTERVAL_DAILY
    if median >= 27.0:
        return INTERVAL_MONTHLY
    return INTERVAL_OTHER


def correction_factor(interval: str, reporting_months: float) -> float:
    """G14's 1.26 for monthly data, Sun & Baltazar's polynomial for daily data, the larger for other lengths."""
    a, b, c = DAILY_CORRECTION
    daily = a * reporting_months**2 + b * reporting_months + c
    if interval == INTERVAL_MONTHLY:
        return G14_MONTHLY_FACTOR
    if interval == INTERVAL_DAILY:
        return daily
    return max(G14_MONTHLY_FACTOR, daily)


def fractional_savings_uncertainty(
    t_value: float,
    cv_rmse: float,
    n: int,
    n_eff: float,
    m: int,
    savings_fraction: float,
    correction: float = G14_MONTHLY_FACTOR,
) -> float | None:
    """FSU as a fraction of the savings; None when the savings fraction is not positive (no savings to bound)."""
    if savings_fraction <= 0 or m <= 0:
        return None
    return t_value * correction * cv_rmse * math.sqrt((n / n_eff) * (1.0 + 2.0 / n_eff) / m) / savings_fraction


@dataclass(frozen=True, slots=True)
class SavingsUncertainty:
    confidence: float
    t_value: float
    degrees_of_freedom: int
    residual_autocorrelation: float
    effective_n: float
    reporting_points: int
    savings_fraction: float | None
    fsu: float | None  # fraction of the savings, e.g. 0.35 = ±35 %
    savings_uncertainty_toe: float | None  # FSU × savings, the ± half-width in TOE
    interval: str = INTERVAL_MONTHLY  # daily | monthly | other: which correction applies
    correction_factor: float = G14_MONTHLY_FACTOR


def savings_uncertainty(
    *,
    confidence: float,
    cv_rmse: float | None,
    residuals: np.ndarray,
    parameters: int,
    reporting_points: int,
    savings: float,
    adjusted_baseline: float,
    interval: str = INTERVAL_MONTHLY,
    reporting_months: float = 12.0,
    rho: float | None = None,
) -> SavingsUncertainty:
    """``reporting_months``: length of the reporting period in months (the daily correction's M). ``rho``: the
    residuals' lag-1 autocorrelation when the caller has it already (computed from ``residuals`` otherwise)."""
    n = len(residuals)
    df = n - parameters
    if rho is None:
        rho = lag1_autocorrelation(residuals)
    n_eff = effective_n(n, rho)
    t_value = t_critical_two_sided(confidence, df)
    fraction = savings / adjusted_baseline if adjusted_baseline > 0 else None
    correction = correction_factor(interval, reporting_months)
    fsu = None
    if fraction is not None and cv_rmse is not None:
        fsu = fractional_savings_uncertainty(t_value, cv_rmse, n, n_eff, reporting_points, fraction, correction)
    return SavingsUncertainty(
        confidence=confidence,
        t_value=t_value,
        degrees_of_freedom=df,
        residual_autocorrelation=rho,
        effective_n=n_eff,
        reporting_points=reporting_points,
        savings_fraction=fraction,
        fsu=fsu,
        savings_uncertainty_toe=None if fsu is None else fsu * savings,
        interval=interval,
        correction_factor=correction,
    )
