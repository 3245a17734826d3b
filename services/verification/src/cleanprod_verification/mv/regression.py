"""Ordinary least squares for a baseline model E = a + b·P (+ c·CDD + d·HDD) and its statistics.

The fit uses a QR decomposition of the design matrix X (n × p): β = R⁻¹Qᵀy, and (XᵀX)⁻¹ = R⁻¹R⁻ᵀ for the
coefficient standard errors — this avoids forming XᵀX, whose condition number is the square of X's. The
decomposition depends only on X, so it is computed once and shared by every target (each carrier, total).

Statistics (n points, p parameters including the intercept, ȳ mean of y):
  SSE = Σ(y−ŷ)², SST = Σ(y−ȳ)², R² = 1 − SSE/SST, adjusted R² = 1 − (1−R²)(n−1)/(n−p),
  CV(RMSE) = sqrt(SSE/(n−p)) / ȳ, NMBE = Σ(y−ŷ) / ((n−p)·ȳ),
  F = ((SST−SSE)/(p−1)) / (SSE/(n−p)) with p-value P(F_{p−1, n−p} > F),
  SE(β_j) = sqrt(σ̂² [(XᵀX)⁻¹]_jj), σ̂² = SSE/(n−p), coefficient p-values two-sided from t_{n−p}.
Figures that are undefined (e.g. R² when y is constant, CV when ȳ ≤ 0) are ``None``, never NaN, so a
result always serialises to strict JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .distributions import f_sf, f_sf_array, student_t_two_sided_p, student_t_two_sided_p_array

# Relative size under which a diagonal entry of R means the columns are linearly dependent
# (e.g. production identical in every baseline period): the slope cannot be estimated.
_RANK_TOLERANCE = 1e-10
# fit_stacked: SSE and SST below this fraction of Σy² are rounding noise (a residual 1e-6 of the values)
_ROUNDING_LEVEL = 1e-12


class RegressionNotPossible(Exception):
    """The data cannot support the model at all (too few points, collinear or constant variables)."""


@dataclass(frozen=True)
class OlsFit:
    variables: tuple[str, ...]
    coefficients: tuple[float, ...]
    standard_errors: tuple[float, ...]
    p_values: tuple[float | None, ...]
    n: int
    parameters: int
    sse: float
    sst: float
    rmse: float  # sqrt(SSE/(n−p)), the residual standard error
    y_mean: float
    r_squared: float | None
    adj_r_squared: float | None
    cv_rmse: float | None
    nmbe: float | None
    f_statistic: float | None  # None for a perfect fit (SSE = 0) or a model with no regressor
    f_p_value: float | None
    residuals: np.ndarray = field(repr=False, compare=False)

    @property
    def df_residual(self) -> int:
        return self.n - self.parameters

    def predict(self, design: np.ndarray) -> np.ndarray:
        return design @ np.asarray(self.coefficients)


def design_matrix(columns: Sequence[np.ndarray]) -> np.ndarray:
    """[1, x1, x2, ...] as an (n × p) float array."""
    n = len(columns[0])
    return np.column_stack([np.ones(n), *columns]).astype(float, copy=False)


@dataclass(frozen=True)
class DesignDecomposition:
    """QR of a design matrix, computed once and reused for every target fitted on it (each carrier, total)."""

    matrix: np.ndarray
    variables: tuple[str, ...]
    q: np.ndarray
    r_inv: np.ndarray
    xtx_inv_diag: np.ndarray  # diag((XᵀX)⁻¹) = diag(R⁻¹R⁻ᵀ)


def decompose_design(design: np.ndarray, variables: Sequence[str]) -> DesignDecomposition:
    """Check that the design can support a fit and decompose it; raises RegressionNotPossible."""
    n, p = design.shape
    if len(variables) != p:
        raise ValueError("one variable name per design column")
    if n <= p:
        raise RegressionNotPossible(f"{n} baseline periods cannot fit {p} parameters (need at least {p + 1})")
    q, r = np.linalg.qr(design)
    diag = np.abs(np.diag(r))
    # Columns are compared with their own scale so that large production figures do not hide collinearity.
    scale = np.linalg.norm(design, axis=0)
    dependent = [variables[j] for j in range(p) if diag[j] <= _RANK_TOLERANCE * max(scale[j], 1e-300)]
    if dependent:
        raise RegressionNotPossible(
            f"{', '.join(dependent)} does not vary independently in the baseline periods, "
            "so its effect cannot be estimated"
        )
    r_inv = np.linalg.inv(r)
    return DesignDecomposition(design, tuple(variables), q, r_inv, np.einsum("ij,ij->i", r_inv, r_inv))


def fit_ols(design: np.ndarray, y: np.ndarray, variables: Sequence[str]) -> OlsFit:
    """Fit y ≈ design·β; ``design``'s first column must be the intercept (ones)."""
    return fit_decomposed(decompose_design(design, variables), y)


def fit_decomposed(dec: DesignDecomposition, y: np.ndarray) -> OlsFit:
    design, variables, xtx_inv_diag = dec.matrix, dec.variables, dec.xtx_inv_diag
    n, p = design.shape
    beta = dec.r_inv @ (dec.q.T @ y)  # R is small (p ≤ 4) and well away from singular (checked above)

    fitted = design @ beta
    residuals = y - fitted
    df = n - p
    sse = float(residuals @ residuals)
    y_mean = float(y.mean())
    centred = y - y_mean
    sst = float(centred @ centred)
    sigma2 = sse / df
    rmse = math.sqrt(sigma2)

    r2 = adj_r2 = None
    if sst > 0:
        r2 = 1.0 - sse / sst
        adj_r2 = 1.0 - (1.0 - r2) * (n - 1) / df
    cv = nmbe = None
    if y_mean > 0:
        cv = rmse / y_mean
        nmbe = float(residuals.sum()) / (df * y_mean)

    f_stat = f_p = None
    if p > 1 and sst > 0:
        if sse > 0:
            f_stat = ((sst - sse) / (p - 1)) / sigma2
            f_p = f_sf(f_stat, p - 1, df) if f_stat > 0 else 1.0
        else:
            f_p = 0.0  # a perfect fit: the regressors explain everything

    se = np.sqrt(sigma2 * xtx_inv_diag)
    p_values: list[float | None] = []
    for b, s in zip(beta, se, strict=True):
        if s > 0:
            p_values.append(student_t_two_sided_p(float(b / s), df))
        else:
            p_values.append(0.0 if b != 0 else None)

    return OlsFit(
        variables=tuple(variables),
        coefficients=tuple(float(b) for b in beta),
        standard_errors=tuple(float(s) for s in se),
        p_values=tuple(p_values),
        n=n,
        parameters=p,
        sse=sse,
        sst=sst,
        rmse=rmse,
        y_mean=y_mean,
        r_squared=r2,
        adj_r_squared=adj_r2,
        cv_rmse=cv,
        nmbe=nmbe,
        f_statistic=f_stat,
        f_p_value=f_p,
        residuals=residuals,
    )


@dataclass(frozen=True)
class StackedFits:
    """OLS of T targets on each of G designs of one shape, computed at once (``fit_stacked``): the same QR
    method as ``fit_decomposed``, as batched numpy operations. Arrays are indexed [case, target] (coefficient
    figures [case, target, coefficient]) and held as lists, which ``fit`` reads fastest.

    ``regular[g]``: case g's design has full rank and every figure of every target is defined and not rounding
    noise (SST and SSE above ``_ROUNDING_LEVEL``·Σy², ȳ > 0, F > 0, every standard error > 0) — the others are the per-case path's to compute, with its special
    cases (``None`` figures, a perfect fit, ``RegressionNotPossible``)."""

    variables: tuple[str, ...]
    n: int
    parameters: int
    regular: list[bool]
    residuals: np.ndarray  # (G, n, T)
    coefficients: list[list[list[float]]]  # [g][t][j]
    standard_errors: list[list[list[float]]]
    p_values: list[list[list[float]]]
    # sse, sst, rmse, y_mean, r2, adj_r2, cv, nmbe, f, f_p, rho (and predicted): (G, T) arrays
    arrays: dict[str, np.ndarray]

    @cached_property
    def figures(self) -> dict[str, list[list[float]]]:
        """``arrays`` as [g][t] lists (made when first read: the batched records read the arrays)."""
        return {k: v.tolist() for k, v in self.arrays.items()}

    def fit(self, g: int, t: int) -> OlsFit:
        f = self.figures
        return OlsFit(
            variables=self.variables,
            coefficients=tuple(self.coefficients[g][t]),
            standard_errors=tuple(self.standard_errors[g][t]),
            p_values=tuple(self.p_values[g][t]),
            n=self.n,
            parameters=self.parameters,
            sse=f["sse"][g][t],
            sst=f["sst"][g][t],
            rmse=f["rmse"][g][t],
            y_mean=f["y_mean"][g][t],
            r_squared=f["r2"][g][t],
            adj_r_squared=f["adj_r2"][g][t],
            cv_rmse=f["cv"][g][t],
            nmbe=f["nmbe"][g][t],
            f_statistic=f["f"][g][t],
            f_p_value=f["f_p"][g][t],
            residuals=self.residuals[g, :, t],
        )


def fit_stacked(
    designs: np.ndarray, targets: np.ndarray, variables: Sequence[str], predict_at: np.ndarray | None = None
) -> StackedFits:
    """Fit targets (G, n, T) on designs (G, n, p), the first design column the intercept. ``predict_at``
    (G, m, p): designs at which each fit's predictions are summed (figure ``predicted``, as
    ``float(fit.predict(design).sum())``)."""
    g_count, n, p = designs.shape
    if len(variables) != p:
        raise ValueError("one variable name per design column")
    df = n - p
    with np.errstate(all="ignore"):
        q, r = np.linalg.qr(designs)
        diag = np.abs(np.diagonal(r, axis1=1, axis2=2))  # (G, p)
        scale = np.maximum(np.linalg.norm(designs, axis=1), 1e-300)
        full_rank = (diag > _RANK_TOLERANCE * scale).all(axis=1) & (df > 0)
        # a rank-deficient R is replaced by I so that the batch can be inverted; its case is not regular
        r = np.where(full_rank[:, None, None], r, np.eye(p))
        r_inv = np.linalg.inv(r)
        xtx_inv_diag = np.einsum("gij,gij->gi", r_inv, r_inv)
        beta = r_inv @ (q.transpose(0, 2, 1) @ targets)  # (G, p, T)
        residuals = targets - designs @ beta
        sse = np.einsum("gnt,gnt->gt", residuals, residuals)
        y_mean = targets.mean(axis=1)
        centred = targets - y_mean[:, None, :]
        sst = np.einsum("gnt,gnt->gt", centred, centred)
        sigma2 = sse / max(df, 1)
        rmse = np.sqrt(sigma2)
        r2 = 1.0 - sse / sst
        adj_r2 = 1.0 - (1.0 - r2) * (n - 1) / max(df, 1)
        cv = rmse / y_mean
        nmbe = residuals.sum(axis=1) / (max(df, 1) * y_mean)
        f_stat = ((sst - sse) / max(p - 1, 1)) / sigma2
        se = np.sqrt(sigma2[:, None, :] * xtx_inv_diag[:, :, None])  # (G, p, T)
        # SSE or SST at the level of rounding (a perfect fit, constant energy not exactly representable) makes
        # R², F and the p-values rounding noise, different on either path: the per-case path computes those
        floor = _ROUNDING_LEVEL * np.einsum("gnt,gnt->gt", targets, targets)
        regular = (
            full_rank
            & (p > 1)
            & ((sst > floor) & (y_mean > 0) & (sse > floor) & (f_stat > 0) & np.isfinite(f_stat)).all(axis=1)
            & (se > 0).all(axis=(1, 2))
        )
        if df > 0 and p > 1:
            f_p = f_sf_array(np.where(regular[:, None], f_stat, 1.0), p - 1, df)
            p_values = student_t_two_sided_p_array(np.where(regular[:, None, None], beta / se, 0.0), df)
        else:
            f_p, p_values = np.ones_like(sse), np.ones_like(beta)
        rho = np.einsum("gnt,gnt->gt", residuals[:, 1:], residuals[:, :-1]) / sse
    figures = {
        "sse": sse,
        "sst": sst,
        "rmse": rmse,
        "y_mean": y_mean,
        "r2": r2,
        "adj_r2": adj_r2,
        "cv": cv,
        "nmbe": nmbe,
        "f": f_stat,
        "f_p": f_p,
        "rho": rho,
    }
    if predict_at is not None:
        figures["predicted"] = (predict_at @ beta).sum(axis=1)
    return StackedFits(
        variables=tuple(variables),
        n=n,
        parameters=p,
        regular=regular.tolist(),
        residuals=residuals,
        coefficients=beta.transpose(0, 2, 1).tolist(),
        standard_errors=se.transpose(0, 2, 1).tolist(),
        p_values=p_values.transpose(0, 2, 1).tolist(),
        arrays=figures,
    )
