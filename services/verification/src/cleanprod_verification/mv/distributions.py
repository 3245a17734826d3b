"""Student t and F distributions for the model statistics, from SciPy (``scipy.stats``, ``scipy.special``).

The functions keep the names and argument checks the rest of ``mv`` uses, so callers read the same whatever
computes them. Tail probabilities use the survival functions (``sf``), not ``1 − cdf``, so small p-values keep
their precision. Quantiles depend only on (probability, ν), so they are cached.

The tail probabilities call the special functions ``scipy.stats`` itself evaluates them with (``stdtr``,
``fdtrc``; the same values, bit for bit) directly: ``stats.t.sf`` checks and broadcasts its arguments as arrays
first, which cost 35 µs a call, a third of a verification's computation (issue 16, docs/performance.md).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import special, stats


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1."""
    if a <= 0 or b <= 0:
        raise ValueError("a and b must be positive")
    if not 0.0 <= x <= 1.0:
        raise ValueError("x must be within [0, 1]")
    return float(special.betainc(a, b, x))


def _check_df(df: float) -> None:
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")


def student_t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom."""
    _check_df(df)
    return float(special.stdtr(df, t))


def student_t_two_sided_p(t: float, df: float) -> float:
    """P(|T| ≥ |t|): the two-sided p-value of a t statistic."""
    _check_df(df)
    return float(2.0 * special.stdtr(df, -abs(t)))


@lru_cache(maxsize=1024)
def student_t_ppf(p: float, df: float) -> float:
    """The quantile t with P(T ≤ t) = p (e.g. p = 0.975 gives the 95 % two-sided critical value)."""
    if not 0.0 < p < 1.0:
        raise ValueError("probability must be strictly between 0 and 1")
    _check_df(df)
    return float(stats.t.ppf(p, df))


def t_critical_two_sided(confidence: float, df: float) -> float:
    """t such that P(−t ≤ T ≤ t) = confidence; 0.90 with df = 10 gives 1.812 (= one-sided 95 %)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be strictly between 0 and 1")
    return student_t_ppf(0.5 + confidence / 2.0, df)


def f_sf(f: float, d1: float, d2: float) -> float:
    """P(F > f) for the F distribution with (d1, d2) degrees of freedom: the p-value of an F statistic."""
    if d1 <= 0 or d2 <= 0:
        raise ValueError("degrees of freedom must be positive")
    if f <= 0:
        return 1.0
    if math.isinf(f):
        return 0.0
    return float(special.fdtrc(d1, d2, f))


def f_cdf(f: float, d1: float, d2: float) -> float:
    return 1.0 - f_sf(f, d1, d2)


# ---- on arrays (the batched path, ``batch.py``): the same special functions, one call for many statistics ----


def student_t_two_sided_p_array(t: np.ndarray, df: np.ndarray | float) -> np.ndarray:
    """``student_t_two_sided_p`` element-wise (df > 0 is the caller's to ensure)."""
    return 2.0 * special.stdtr(df, -np.abs(t))


def f_sf_array(f: np.ndarray, d1: float, d2: float) -> np.ndarray:
    """``f_sf`` element-wise: 1 for f ≤ 0, 0 for f = ∞."""
    if d1 <= 0 or d2 <= 0:
        raise ValueError("degrees of freedom must be positive")
    out = special.fdtrc(d1, d2, np.where(f > 0, f, 1.0))
    return np.where(f > 0, np.where(np.isinf(f), 0.0, out), 1.0)
