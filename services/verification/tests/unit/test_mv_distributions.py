"""Student t and F from the incomplete beta, against printed tables and closed forms."""

from __future__ import annotations

import math

import pytest

from cleanprod_verification.mv.distributions import (
    f_cdf,
    f_sf,
    regularized_incomplete_beta,
    student_t_cdf,
    student_t_ppf,
    student_t_two_sided_p,
    t_critical_two_sided,
)


def t_cdf_even_df(t: float, df: int) -> float:
    """Closed form for even df (Abramowitz & Stegun 26.7.3):
    P(|T|<t) = sinθ·[1 + ½cos²θ + (1·3)/(2·4)cos⁴θ + … + (1·3…(df−3))/(2·4…(df−2))cos^(df−2)θ], θ = atan(t/√df).
    """
    theta = math.atan(t / math.sqrt(df))
    term, total = 1.0, 1.0
    for k in range(1, df // 2):
        term *= (2 * k - 1) / (2 * k) * math.cos(theta) ** 2
        total += term
    return 0.5 + 0.5 * math.sin(theta) * total


# Printed t tables (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2), upper-tail probability → quantile.
@pytest.mark.parametrize(
    ("p", "df", "table"),
    [
        (0.95, 10, 1.812),  # one-sided 95 % = two-sided 90 %
        (0.975, 10, 2.228),  # one-sided 97.5 % = two-sided 95 %
        (0.995, 10, 3.169),
        (0.95, 1, 6.314),
        (0.975, 1, 12.706),
        (0.975, 2, 4.303),
        (0.95, 22, 1.717),
        (0.975, 30, 2.042),
        (0.90, 10, 1.372),
        (0.975, 100, 1.984),
    ],
)
def test_t_quantile_matches_printed_table(p: float, df: int, table: float) -> None:
    assert student_t_ppf(p, df) == pytest.approx(table, abs=5e-4)


def test_two_sided_critical_value_is_explicit_about_sidedness() -> None:
    # 90 % two-sided confidence, df = 10: 1.812 (the 95 % one-sided quantile)
    assert t_critical_two_sided(0.90, 10) == pytest.approx(1.812, abs=5e-4)
    assert t_critical_two_sided(0.95, 10) == pytest.approx(2.228, abs=5e-4)
    assert t_critical_two_sided(0.90, 10) == student_t_ppf(0.95, 10)


def test_t_quantile_exact_for_cauchy_and_df2() -> None:
    for p in (0.6, 0.84, 0.95, 0.975, 0.999):
        # df = 1 is the Cauchy distribution: quantile tan(π(p − ½))
        assert student_t_ppf(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-12)
        # df = 2: quantile (2p − 1)/sqrt(2p(1 − p))
        assert student_t_ppf(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-12)


@pytest.mark.parametrize("df", [4, 10, 22])
@pytest.mark.parametrize("t", [0.05, 0.7, 1.812, 2.5, 6.0])
def test_t_cdf_matches_even_df_closed_form(df: int, t: float) -> None:
    assert student_t_cdf(t, df) == pytest.approx(t_cdf_even_df(t, df), abs=1e-14)
    assert student_t_cdf(-t, df) == pytest.approx(1 - t_cdf_even_df(t, df), abs=1e-14)


@pytest.mark.parametrize("p", [0.84, 0.95, 0.975])
def test_t_quantile_inverts_the_closed_form_cdf(p: float) -> None:
    assert t_cdf_even_df(student_t_ppf(p, 10), 10) == pytest.approx(p, abs=1e-13)


def test_t_quantile_symmetry_and_limits() -> None:
    assert student_t_ppf(0.5, 7) == 0.0
    assert student_t_ppf(0.05, 7) == pytest.approx(-student_t_ppf(0.95, 7), rel=1e-14)
    assert student_t_ppf(0.975, 1e7) == pytest.approx(1.959964, abs=1e-5)  # → normal
    with pytest.raises(ValueError):
        student_t_ppf(1.0, 5)
    with pytest.raises(ValueError):
        t_critical_two_sided(0.0, 5)


def test_two_sided_p_value_of_t() -> None:
    assert student_t_two_sided_p(2.228, 10) == pytest.approx(0.05, abs=2e-5)
    assert student_t_two_sided_p(0.0, 10) == pytest.approx(1.0)
    assert student_t_two_sided_p(-1.812, 10) == pytest.approx(0.10, abs=1e-4)  # 1.812 is rounded from 1.81246


# Printed F tables: upper critical values F(α; d1, d2).
@pytest.mark.parametrize(
    ("alpha", "d1", "d2", "critical"),
    [
        (0.05, 1, 10, 4.96),
        (0.05, 2, 10, 4.10),
        (0.05, 3, 20, 3.10),
        (0.10, 1, 10, 3.29),
        (0.01, 3, 20, 4.94),
        (0.01, 2, 22, 5.72),
    ],
)
def test_f_p_value_at_table_critical_values(alpha: float, d1: int, d2: int, critical: float) -> None:
    # tables print 3 significant digits; the p-value at the printed value is within a few % of α
    assert f_sf(critical, d1, d2) == pytest.approx(alpha, rel=0.03)


def test_f_sf_exact_for_two_numerator_df() -> None:
    # F(2, d2): P(F > x) = (1 + 2x/d2)^(−d2/2)
    for x, d2 in ((0.5, 10), (4.10, 10), (9.3, 3), (1.0, 40)):
        assert f_sf(x, 2, d2) == pytest.approx((1 + 2 * x / d2) ** (-d2 / 2), rel=1e-12)


def test_f_with_one_numerator_df_is_t_squared() -> None:
    for t in (0.3, 1.5, 2.9):
        assert f_sf(t * t, 1, 14) == pytest.approx(student_t_two_sided_p(t, 14), rel=1e-12)
        assert f_sf(t * t, 1, 14) == pytest.approx(2 * (1 - student_t_cdf(t, 14)), rel=1e-10)


def test_f_edges() -> None:
    assert f_sf(0.0, 2, 5) == 1.0
    assert f_sf(math.inf, 2, 5) == 0.0
    assert f_cdf(4.10, 2, 10) == pytest.approx(0.95, abs=1e-3)


def test_incomplete_beta_known_values() -> None:
    assert regularized_incomplete_beta(1, 1, 0.3) == pytest.approx(0.3, rel=1e-14)  # uniform
    assert regularized_incomplete_beta(2, 3, 0.4) == pytest.approx(0.5248, rel=1e-12)  # 1 − Σ binomial terms
    assert regularized_incomplete_beta(0.5, 0.5, 0.25) == pytest.approx(2 / math.pi * math.asin(0.5), rel=1e-12)
    assert regularized_incomplete_beta(3, 2, 0.0) == 0.0
    assert regularized_incomplete_beta(3, 2, 1.0) == 1.0
    with pytest.raises(ValueError):
        regularized_incomplete_beta(0, 1, 0.5)
