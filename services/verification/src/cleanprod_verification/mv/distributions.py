"""Student t and F distributions from the regularised incomplete beta function (no SciPy here).

``I_x(a, b)`` is evaluated with its continued fraction (modified Lentz's method, as in Numerical Recipes
§6.4), which converges fast for ``x < (a+1)/(a+b+2)``; above that point the symmetry
``I_x(a, b) = 1 − I_{1−x}(b, a)`` is used. The distributions follow from the standard identities

* Student t, ν degrees of freedom:  P(|T| > t) = I_{ν/(ν+t²)}(ν/2, 1/2),  P(|T| < t) = I_{t²/(ν+t²)}(1/2, ν/2)
* F(d1, d2):  P(F > f) = I_{d2/(d2+d1·f)}(d2/2, d1/2)

and the t quantile is found by Newton's method on the CDF, safeguarded by bisection inside a bracket, to
~1e-13 relative accuracy. Quantiles depend only on (probability, ν), so they are cached.
"""

from __future__ import annotations

import math
from functools import lru_cache

_TINY = 1e-300
_EPS = 1e-15
_MAX_ITERATIONS = 10_000


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_ITERATIONS + 1):
        m2 = 2 * m
        # even step of the continued fraction
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        # odd step
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta continued fraction did not converge (a={a}, b={b}, x={x})")


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1."""
    if a <= 0 or b <= 0:
        raise ValueError("a and b must be positive")
    if not 0.0 <= x <= 1.0:
        raise ValueError("x must be within [0, 1]")
    if x == 0.0 or x == 1.0:
        return x
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def student_t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    t2 = t * t
    if t2 < df:
        # Near the centre use the central probability so that small |t| keeps full precision.
        central = regularized_incomplete_beta(0.5, df / 2.0, t2 / (df + t2))
        return 0.5 + math.copysign(0.5 * central, t)
    tail = 0.5 * regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t2))
    return 1.0 - tail if t > 0 else tail


def student_t_two_sided_p(t: float, df: float) -> float:
    """P(|T| ≥ |t|): the two-sided p-value of a t statistic."""
    if math.isinf(t):
        return 0.0
    t2 = t * t
    return regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t2))


def _student_t_pdf(t: float, df: float) -> float:
    log_norm = math.lgamma((df + 1.0) / 2.0) - math.lgamma(df / 2.0) - 0.5 * math.log(df * math.pi)
    return math.exp(log_norm - (df + 1.0) / 2.0 * math.log1p(t * t / df))


@lru_cache(maxsize=1024)
def student_t_ppf(p: float, df: float) -> float:
    """The quantile t with P(T ≤ t) = p (e.g. p = 0.975 gives the 95 % two-sided critical value)."""
    if not 0.0 < p < 1.0:
        raise ValueError("probability must be strictly between 0 and 1")
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -student_t_ppf(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while student_t_cdf(hi, df) < p:  # bracket the root; the cdf is increasing
        lo, hi = hi, hi * 2.0
        if hi > 1e300:
            raise ArithmeticError("t quantile out of range")
    t = 0.5 * (lo + hi)
    for _ in range(200):
        f = student_t_cdf(t, df) - p
        if f > 0:
            hi = t
        else:
            lo = t
        pdf = _student_t_pdf(t, df)
        step = f / pdf if pdf > 0 else math.inf
        candidate = t - step
        if not lo < candidate < hi:  # Newton left the bracket: bisect instead
            candidate = 0.5 * (lo + hi)
        if abs(candidate - t) <= 1e-13 * max(1.0, abs(t)) or hi - lo <= 1e-15 * max(1.0, hi):
            return candidate
        t = candidate
    return t


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
    return regularized_incomplete_beta(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f))


def f_cdf(f: float, d1: float, d2: float) -> float:
    return 1.0 - f_sf(f, d1, d2)
