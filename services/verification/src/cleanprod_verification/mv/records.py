"""The result records of a batch (``compute_savings_records``), built column-wise: for each case the dict
``compute_savings(...).to_dict()`` gives, without the result objects in between.

What the per-case path decides one figure at a time (``savings._judged``: which checks pass, which method wins,
which estimate binds; ``uncertainty.savings_uncertainty``) is computed here for a whole shape at once, as arrays
with the same operations in the same order, so the figures are the same to rounding. The parts of the records
are then made a column at a time — every uncertainty record of the batch in one comprehension, every R² check in
another, … — from lists (``tolist()`` once per array); the checks' messages are the figures formatted into the
fixed pieces ``criteria.wording`` holds, and the warnings and the verdict come from the functions
``compute_savings`` uses. A case's record is the last step: its parts put together.

Only cases the batch computes itself come here (``batch.py``: a production model without degree-days, regular
fits, no adjustments), so some branches of the per-case path cannot occur: every target has a regression, no
normalisation is dropped (production is the only variable asked for, and SEC counts as normalising for it), no
resource is ignored. The key order of every dict is the dataclass's field order, as ``to_dict`` gives it.
Flat lists below are indexed i·T + t: case i of the picked ones, target t (the carriers sorted, then the total).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

from .conversions import EmissionFactorUsed, emission_factor
from .criteria import CriterionCheck, Wording, range_check_of_bounds, wording
from .distributions import t_critical_two_sided
from .factors import ELECTRICITY, GJ_PER_TOE, FactorTables
from .norms import compare_with_norm
from .results import METHOD_REGRESSION, METHOD_SEC, METHOD_SEC_CAPPED, TOTAL, SavingsHeadline, _jsonable
from .savings import (
    MIXED_METHODS_WARNING,
    _claim_warnings,
    capped_messages,
    production_shift_message,
)
from .settings import MVSettings
from .uncertainty import MIN_EFFECTIVE_N, correction_factor, interval_of_median
from .verdict import Verdict, achieved_ratio, decide

if TYPE_CHECKING:
    from .batch import SavingsCase, Stacked, _Read

_VARIABLES_USED = ("production",)  # and asked for: the batch takes production models only


def _nones(values: np.ndarray, defined: np.ndarray) -> list[Any]:
    """``values.tolist()`` (flat) with None where ``defined`` is False (a figure the per-case path leaves
    undefined)."""
    out = values.ravel().tolist()
    if not defined.all():
        for i in np.flatnonzero(~defined).tolist():
            out[i] = None
    return out


def _flat(values: np.ndarray) -> list[Any]:
    return values.ravel().tolist()


class _Factors:
    """``emission_factor`` and its record, once per carrier and year in a batch."""

    def __init__(self, tables: FactorTables) -> None:
        self.tables = tables
        self.found: dict[tuple[str, int], EmissionFactorUsed] = {}
        self.records: dict[int, dict[str, Any]] = {}

    def __call__(self, carrier: str, year: int) -> EmissionFactorUsed:
        key = (carrier, year)
        factor = self.found.get(key)
        if factor is None:
            factor = self.found[key] = emission_factor(carrier, year, tables=self.tables)
            self.records[id(factor)] = _jsonable(factor)
        return factor

    def record(self, factor: EmissionFactorUsed) -> dict[str, Any]:
        return dict(self.records[id(factor)])


def _energy_records(carriers: list[str], columns: list[list[float]]) -> list[dict[str, float]]:
    """Each period's ``energy_toe`` from one flat list per carrier (no list per period in between): a dict
    display for one or two carriers (twice as fast as ``dict(zip())``)."""
    if len(carriers) == 1:
        (c0,) = carriers
        return [{c0: x} for x in columns[0]]
    if len(carriers) == 2:
        c0, c1 = carriers
        return [{c0: x, c1: y} for x, y in zip(*columns, strict=True)]
    return [dict(zip(carriers, row, strict=True)) for row in zip(*columns, strict=True)]


def _distinct_days(ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(ordinals, return_inverse=True)``: the distinct days in order and where each ordinal is among
    them — without sorting when the days span little (a batch's periods mostly cover a few years): a mark per day
    of the span, counted up."""
    first, last = int(ordinals.min()), int(ordinals.max())
    if last - first > 16 * ordinals.size + 4096:
        return np.unique(ordinals, return_inverse=True)
    offset = ordinals - first
    marked = np.zeros(last - first + 1, dtype=bool)
    marked[offset] = True
    return np.flatnonzero(marked) + first, (np.cumsum(marked) - 1)[offset]


def _emission_factors(
    carriers: list[str], years: np.ndarray, energy: np.ndarray, factor_of: _Factors
) -> tuple[list[list[float]], list[list[EmissionFactorUsed]]]:
    """``savings._carrier_emission_factor`` for every case at once: per carrier, each case's tCO2 per TOE; per
    case, the factors used (carriers in order). ``years``: (count, m) the year of each reporting period's start;
    ``energy``: (count, m, k) its TOE per carrier (the weights of electricity's grid factors)."""
    used: list[list[EmissionFactorUsed]] = [[] for _ in years]
    per_carrier = []
    for j, name in enumerate(carriers):
        if name != ELECTRICITY:  # a fuel's combustion factor: looked up with the first period's year
            first = years[:, 0].tolist()
            found = {y: factor_of(name, y) for y in set(first)}
            per_carrier.append([found[y].t_co2_per_toe for y in first])
            for factors_used, y in zip(used, first, strict=True):
                factors_used.append(found[y])
            continue
        weights = energy[:, :, j]
        # no electricity in reporting (e.g. switched away): the periods weigh the same
        weights = np.where((weights.sum(axis=1) <= 0)[:, None], 1.0, weights)
        distinct = np.unique(years)
        grid = [factor_of(ELECTRICITY, y) for y in distinct.tolist()]
        in_year = years[:, :, None] == distinct  # (count, m, years)
        by_year = (weights[:, :, None] * in_year).sum(axis=1)
        per_carrier.append(((by_year * [f.t_co2_per_toe for f in grid]).sum(axis=1) / by_year.sum(axis=1)).tolist())
        # the factors of the years present, in order of the year, each once (as the per-case path lists them)
        present = list(map(tuple, in_year.any(axis=1).tolist()))
        lists = {key: list(dict.fromkeys(f for f, p in zip(grid, key, strict=True) if p)) for key in set(present)}
        for factors_used, key in zip(used, present, strict=True):
            factors_used += lists[key]
    return per_carrier, used


@dataclass(frozen=True)
class GroupFigures:
    """What the batch decides for the cases ``picks`` (indexes g of ``s``) of one shape, as arrays (G, T) — the
    first step of their records (``group_figures``) — with the verdict and the headline figures of each case as
    plain values. The records are made from it only when asked for (``group_records``)."""

    s: Stacked
    picks: list[int]
    reads: Sequence[_Read]
    cases: Sequence[SavingsCase]
    a: dict[str, np.ndarray]  # the fits' arrays of the picked cases
    sums_b: np.ndarray
    sums_r: np.ndarray
    sec_b: np.ndarray
    sec_r: np.ndarray
    sec_savings: np.ndarray
    sec_adjusted: np.ndarray
    sec_percent: np.ndarray
    adjusted: np.ndarray
    savings: np.ndarray
    reg_percent: np.ndarray
    r2_ok: np.ndarray
    cv_ok: np.ndarray
    nmbe_ok: np.ndarray
    f_ok: np.ndarray
    range_checks: list[CriterionCheck]
    passed: np.ndarray
    capped: np.ndarray
    chosen: dict[str, np.ndarray]
    rho: np.ndarray
    n_eff: np.ndarray
    fraction: np.ndarray
    intervals: list[str]
    corrections: list[float]
    bounded: np.ndarray
    t_reported: float
    t_tested: float
    fsu_reported: np.ndarray
    fsu_tested: np.ndarray
    methods: list[str]  # flat, i·T + t
    bindings: list[str | None]
    verdicts: list[Verdict]  # per case
    headlines: list[SavingsHeadline]  # per case


def group_figures(
    s: Stacked, picks: list[int], reads: Sequence[_Read], cases: Sequence[SavingsCase], settings: MVSettings
) -> GroupFigures:
    """The decisions of ``savings._judged`` and the verdict for the cases ``picks`` of ``s`` (their reads and
    inputs ``reads`` and ``cases``), for a whole shape at once."""
    c = settings.criteria
    n, m, carriers = s.n_base, s.n_rep, s.carriers
    k = len(carriers)
    T = k + 1
    p = s.fits.parameters
    df = n - p
    rows = np.asarray(picks)
    a = {name: values[rows] for name, values in s.fits.arrays.items()}
    sums_b, sums_r = s.sums_b[rows], s.sums_r[rows]
    with np.errstate(all="ignore"):
        # SEC of every target (sec.sec_comparison)
        prod_b, prod_r = s.prod_sums_b[rows][:, None], s.prod_sums_r[rows][:, None]
        sec_b = sums_b / prod_b
        sec_r = sums_r / prod_r
        sec_savings = (sec_b - sec_r) * prod_r
        sec_adjusted = sec_b * prod_r
        sec_percent = (sec_b - sec_r) / sec_b * 100.0
        # the regression's figures and which method wins (savings._judged)
        adjusted = a["predicted"]
        savings = adjusted - sums_r
        reg_percent = savings / adjusted * 100.0
        r2_ok = a["r2"] >= c.min_r_squared
        cv_ok = a["cv"] <= c.max_cv_rmse
        nmbe_ok = np.abs(a["nmbe"]) <= c.max_abs_nmbe
        f_ok = a["f_p"] < c.max_f_p_value
        statistical = r2_ok & cv_ok & nmbe_ok & f_ok & (n >= c.min_baseline_periods)
        range_checks = [range_check_of_bounds("production", *s.bounds[g], c.range_tolerance) for g in picks]
        in_range = np.array([r.passed for r in range_checks])[:, None]
        passed = statistical & in_range
        capped = statistical & ~in_range
        use_regression = passed | (capped & (savings < sec_savings))
        chosen = {
            "adjusted": np.where(use_regression, adjusted, sec_adjusted),
            "savings": np.where(use_regression, savings, sec_savings),
            "percent": np.where(use_regression, reg_percent, sec_percent),
            "defined": np.where(use_regression, adjusted > 0, sec_b > 0),
        }
        # uncertainty.savings_uncertainty at the reported and at the acceptance confidence
        rho = a["rho"]
        n_eff = np.where(
            rho <= -1.0, float(n), np.minimum(float(n), np.maximum(MIN_EFFECTIVE_N, n * (1.0 - rho) / (1.0 + rho)))
        )
        fraction = savings / adjusted
        intervals = [interval_of_median(s.medians[g]) for g in picks]
        corrections = [correction_factor(i, s.months[g]) for i, g in zip(intervals, picks, strict=True)]
        root = np.sqrt((n / n_eff) * (1.0 + 2.0 / n_eff) / m)
        bounded = (adjusted > 0) & (fraction > 0)
        t_reported = t_critical_two_sided(settings.fsu_confidence, df)
        t_tested = t_critical_two_sided(c.fsu_acceptance_confidence, df)
        # t · correction · CV · root / F, multiplied left to right as uncertainty.fractional_savings_uncertainty
        correction = np.asarray(corrections)[:, None]
        fsu_reported = t_reported * correction * a["cv"] * root / fraction
        fsu_tested = t_tested * correction * a["cv"] * root / fraction
    methods = _flat(np.where(passed, METHOD_REGRESSION, np.where(capped, METHOD_SEC_CAPPED, METHOD_SEC)).astype(object))
    bindings = _flat(np.where(capped, np.where(use_regression, METHOD_REGRESSION, METHOD_SEC), None).astype(object))

    # the verdict of each case and its headline, from its total (target k), as ``savings._result`` decides it
    w = wording(c)
    fsu_total = _nones(fsu_tested[:, k], bounded[:, k])
    fsu_passed = _flat(bounded[:, k] & (fsu_tested[:, k] <= c.max_fsu))
    percents = _nones(chosen["percent"][:, k], chosen["defined"][:, k])
    verdicts = []
    for i, case in enumerate(cases):
        method, binding = methods[i * T + k], bindings[i * T + k]
        if method == METHOD_REGRESSION or binding == METHOD_REGRESSION:
            verdicts.append(
                decide(
                    percents[i],
                    case.claim.overall_percent,
                    settings.verdict,
                    uncertainty_ok=fsu_passed[i],
                    uncertainty_message=_fsu_message(w, fsu_total[i]),
                )
            )
        else:
            verdicts.append(decide(percents[i], case.claim.overall_percent, settings.verdict))
    headlines = [
        SavingsHeadline(v.status, method, pct, toe, adj)
        for v, method, pct, toe, adj in zip(
            verdicts,
            methods[k::T],
            percents,
            chosen["savings"][:, k].tolist(),
            chosen["adjusted"][:, k].tolist(),
            strict=True,
        )
    ]
    return GroupFigures(
        s, picks, reads, cases, a, sums_b, sums_r, sec_b, sec_r, sec_savings, sec_adjusted, sec_percent,
        adjusted, savings, reg_percent, r2_ok, cv_ok, nmbe_ok, f_ok, range_checks, passed, capped, chosen,
        rho, n_eff, fraction, intervals, corrections, bounded, t_reported, t_tested, fsu_reported, fsu_tested,
        methods, bindings, verdicts, headlines,
    )  # fmt: skip


def _fsu_message(w: Wording, fsu: float | None) -> str:
    """The FSU check's message, as ``criteria`` words it."""
    return w.fsu_undefined if fsu is None else f"{w.fsu[0]}{fsu * 100:z.1f} %{w.fsu[1]}"


def group_records(
    x: GroupFigures, settings: MVSettings, tables: FactorTables, settings_record: dict[str, Any]
) -> list[dict[str, Any]]:
    """The records of the cases of ``x``, made a column at a time from its arrays."""
    s, picks, reads, cases, a = x.s, x.picks, x.reads, x.cases, x.a
    c, w = settings.criteria, wording(settings.criteria)
    n, m, carriers = s.n_base, s.n_rep, s.carriers
    k = len(carriers)
    T = k + 1
    p = s.fits.parameters
    df = n - p
    sums_b, sums_r, sec_b, sec_r = x.sums_b, x.sums_r, x.sec_b, x.sec_r
    adjusted, savings, chosen, passed, bounded = x.adjusted, x.savings, x.chosen, x.passed, x.bounded
    intervals, corrections, range_checks = x.intervals, x.corrections, x.range_checks
    t_reported, t_tested, fsu_tested = x.t_reported, x.t_tested, x.fsu_tested
    rows = np.asarray(picks)
    count = len(picks)
    interval_of_target = [x for x in intervals for _ in range(T)]
    correction_of_target = [x for x in corrections for _ in range(T)]
    rho_flat, n_eff_flat, fraction_flat = _flat(x.rho), _flat(x.n_eff), _nones(x.fraction, adjusted > 0)
    savings_flat = _flat(savings)  # once for both uncertainties and the regressions (floats are shared)

    def uncertainties(confidence: float, t_value: float, fsu: np.ndarray) -> list[dict[str, Any]]:
        return [
            {
                "confidence": confidence,
                "t_value": t_value,
                "degrees_of_freedom": df,
                "residual_autocorrelation": r,
                "effective_n": e,
                "reporting_points": m,
                "savings_fraction": f,
                "fsu": u,
                "savings_uncertainty_toe": None if u is None else u * x,
                "interval": i,
                "correction_factor": factor,
            }
            for r, e, f, u, x, i, factor in zip(
                rho_flat,
                n_eff_flat,
                fraction_flat,
                _nones(fsu, bounded),
                savings_flat,
                interval_of_target,
                correction_of_target,
                strict=True,
            )
        ]

    reported = uncertainties(settings.fsu_confidence, t_reported, x.fsu_reported)
    tested = uncertainties(c.fsu_acceptance_confidence, t_tested, fsu_tested)
    # the messages format the figures as criteria._fmt does (inline: a call per message cost as much as the rest)
    uncertainty_checks = [
        {
            "name": "fractional_savings_uncertainty",
            "passed": ok,
            "value": u["fsu"],
            "threshold": c.max_fsu,
            "message": _fsu_message(w, u["fsu"]),
        }
        for u, ok in zip(tested, _flat(bounded & (fsu_tested <= c.max_fsu)), strict=True)
    ]

    r2, cv, nmbe, f_p = _flat(a["r2"]), _flat(a["cv"]), _flat(a["nmbe"]), _flat(a["f_p"])
    periods_check = {
        "name": "min_baseline_periods",
        "passed": n >= c.min_baseline_periods,
        "value": float(n),
        "threshold": float(c.min_baseline_periods),
        "message": w.baseline_periods.format(n=n),
    }
    (r2_a, r2_b), (cv_a, cv_b), (nm_a, nm_b), (f_a, f_b) = w.r_squared, w.cv_rmse, w.nmbe, w.f_test
    checks = [
        [
            dict(periods_check),
            {
                "name": "r_squared",
                "passed": r2k,
                "value": r2v,
                "threshold": c.min_r_squared,
                "message": f"{r2_a}{r2v:.3g}{r2_b}",
            },
            {
                "name": "cv_rmse",
                "passed": cvk,
                "value": cvv,
                "threshold": c.max_cv_rmse,
                "message": f"{cv_a}{cvv * 100:z.1f} %{cv_b}",
            },
            {
                "name": "nmbe",
                "passed": nmk,
                "value": nmv,
                "threshold": c.max_abs_nmbe,
                "message": f"{nm_a}{nmv * 100:z.1f} %{nm_b}",
            },
            {
                "name": "f_test_p_value",
                "passed": fk,
                "value": fv,
                "threshold": c.max_f_p_value,
                "message": f"{f_a}{fv:.3g}{f_b}",
            },
            {"name": rc.name, "passed": rc.passed, "value": rc.value, "threshold": rc.threshold, "message": rc.message},
        ]
        for r2v, r2k, cvv, cvk, nmv, nmk, fv, fk, rc in zip(
            r2,
            _flat(x.r2_ok),
            cv,
            _flat(x.cv_ok),
            nmbe,
            _flat(x.nmbe_ok),
            f_p,
            _flat(x.f_ok),
            [x for x in range_checks for _ in range(T)],
            strict=True,
        )
    ]
    passed_flat = _flat(passed)
    reasons = [
        [] if ok else [x["message"] for x in cs if not x["passed"]] for cs, ok in zip(checks, passed_flat, strict=True)
    ]
    fits = s.fits
    coefficients = [row for g in picks for row in fits.coefficients[g]]
    standard_errors = [row for g in picks for row in fits.standard_errors[g]]
    p_values = [row for g in picks for row in fits.p_values[g]]
    variables = list(fits.variables)
    regressions = [
        {
            "variables": list(variables),
            "coefficients": co,
            "standard_errors": se,
            "p_values": pv,
            "n": n,
            "parameters": p,
            "r_squared": r2v,
            "adj_r_squared": ar2,
            "cv_rmse": cvv,
            "nmbe": nmv,
            "rmse_toe": rmse,
            "f_statistic": fs,
            "f_p_value": fv,
            "checks": cs,
            "passed": ok,
            "adjusted_baseline_toe": adj,
            "savings_toe": sav,
            "savings_percent": pct,
            "uncertainty": ur,
            "uncertainty_at_acceptance": ut,
            "uncertainty_check": uc,
        }
        for co, se, pv, r2v, ar2, cvv, nmv, rmse, fs, fv, cs, ok, adj, sav, pct, ur, ut, uc in zip(
            coefficients,
            standard_errors,
            p_values,
            r2,
            _flat(a["adj_r2"]),
            cv,
            nmbe,
            _flat(a["rmse"]),
            _flat(a["f"]),
            f_p,
            checks,
            passed_flat,
            _flat(adjusted),
            savings_flat,
            _nones(x.reg_percent, adjusted > 0),
            reported,
            tested,
            uncertainty_checks,
            strict=True,
        )
    ]
    secs = [
        {
            "sec_baseline": b,
            "sec_reporting": r,
            "adjusted_baseline_toe": adj,
            "savings_toe": sav,
            "savings_percent": pct,
        }
        for b, r, adj, sav, pct in zip(
            _flat(sec_b),
            _flat(sec_r),
            _flat(x.sec_adjusted),
            _flat(x.sec_savings),
            _nones(x.sec_percent, sec_b > 0),
            strict=True,
        )
    ]
    methods, bindings = x.methods, x.bindings

    # every period of every case (a case's are a slice), each date as text once: the cases of a batch mostly
    # share their months
    per_case = n + m
    days, day_of = _distinct_days(np.concatenate([s.starts[rows].ravel(), s.ends[rows].ravel()]))
    known = list(map(date.fromordinal, days.tolist()))
    texts = [d.isoformat() for d in known]
    start_texts = list(map(texts.__getitem__, day_of[: count * per_case].tolist()))
    end_texts = list(map(texts.__getitem__, day_of[count * per_case :].tolist()))
    years = np.array([d.year for d in known])[day_of[: count * per_case]].reshape(count, per_case)[:, n:]

    # per case and carrier: the emission factor and the claim (the total: none, and the overall claim)
    factors = _Factors(tables)
    per_carrier, used = _emission_factors(carriers, years, s.energy[rows, n:], factors)
    t_per_toe: list[float | None] = list(chain.from_iterable(zip(*per_carrier, [None] * count)))
    claimed: list[float | None] = []
    for case in cases:
        claim = case.claim
        given = claim.per_carrier_percent
        claimed += [given.get(name) for name in carriers] if given else [None] * k
        claimed.append(claim.overall_percent)
    chosen_savings = _flat(chosen["savings"])
    co2 = [x * (f or 0.0) for x, f in zip(chosen_savings, t_per_toe, strict=True)]
    for i in range(count):  # the total's CO2 is the sum of its carriers' (each with its own factor)
        co2[i * T + k] = sum(co2[i * T : i * T + k])
    names = [*carriers, TOTAL] * count
    chosen_percent = _nones(chosen["percent"], chosen["defined"])
    results = [
        {
            "carrier": name,
            "method": method,
            "baseline_energy_toe": eb,
            "reporting_energy_toe": er,
            "adjusted_baseline_toe": adj,
            "savings_toe": sav,
            "savings_gj": gj,
            "savings_percent": pct,
            "savings_tco2": tco2,
            "t_co2_per_toe": f,
            "claimed_percent": None if cl is None else float(cl),
            "achieved_ratio": achieved_ratio(pct, cl),
            "sec": sec,
            "regression": reg,
            "regression_unavailable": None,
            "fallback_reasons": why,
            "binding_estimate": binding,
            "normalisation_dropped": [],
            "non_routine_adjustment_toe": 0.0,
            "unadjusted": None,
        }
        for name, method, eb, er, adj, sav, gj, pct, tco2, f, cl, sec, reg, why, binding in zip(
            names,
            methods,
            _flat(sums_b),
            _flat(sums_r),
            _flat(chosen["adjusted"]),
            chosen_savings,
            _flat(chosen["savings"] * GJ_PER_TOE),
            chosen_percent,
            co2,
            t_per_toe,
            claimed,
            secs,
            regressions,
            reasons,
            bindings,
            strict=True,
        )
    ]

    all_periods = [
        {
            "role": role,
            "start": start,
            "end": end,
            "production": amount,
            "energy_toe": used_energy,
            "cdd": None,
            "hdd": None,
        }
        for role, start, end, amount, used_energy in zip(
            (["baseline"] * n + ["reporting"] * m) * count,
            start_texts,
            end_texts,
            s.production[rows].ravel().tolist(),
            _energy_records(carriers, [s.energy[rows, :, j].ravel().tolist() for j in range(k)]),
            strict=True,
        )
    ]
    means_b = s.production[rows, :n].mean(axis=1).tolist()
    means_r = s.production[rows, n:].mean(axis=1).tolist()
    prod_sums_b, prod_sums_r = s.prod_sums_b[rows].tolist(), s.prod_sums_r[rows].tolist()
    # the claims' warnings once per claim (the cases of a batch mostly share one); each record gets its own list
    claim_warnings = {id(case.claim): _claim_warnings(case.claim, carriers) for case in cases}
    out = []
    for i, (case, read) in enumerate(zip(cases, reads, strict=True)):
        periods = all_periods[i * per_case : (i + 1) * per_case]
        out.append(
            _record(
                s,
                settings,
                settings_record,
                case,
                read,
                list(claim_warnings[id(case.claim)]),
                results[i * T : i * T + k],
                results[i * T + k],
                [factors.record(x) for x in used[i]],
                periods,
                intervals[i],
                (means_b[i], means_r[i], prod_sums_b[i], prod_sums_r[i]),
                # the periods' ends never decrease within each set (batch._checked): the last is the latest
                (
                    start_texts[i * per_case],
                    end_texts[i * per_case + n - 1],
                    start_texts[i * per_case + n],
                    end_texts[(i + 1) * per_case - 1],
                ),
                x.verdicts[i],
            )
        )
    return out


def _record(
    s: Stacked,
    settings: MVSettings,
    settings_record: dict[str, Any],
    case: SavingsCase,
    read: _Read,
    warnings: list[str],
    results: list[dict[str, Any]],
    total: dict[str, Any],
    emission_factors: list[dict[str, Any]],
    periods: list[dict[str, Any]],
    interval: str,
    production: tuple[float, float, float, float],
    dates: tuple[str, str, str, str],
    verdict: Verdict,
) -> dict[str, Any]:
    """A case's record from its parts, as ``savings._result`` puts them together and ``to_dict`` writes them:
    warnings (``warnings``: the claim's, to go on with), review, norm, inputs; the verdict is the one
    ``group_figures`` decided."""
    claim, n = case.claim, s.n_base
    method, regression = total["method"], total["regression"]
    if any(r["method"] != method for r in results):
        warnings.append(MIXED_METHODS_WARNING)
    review = False
    mean_b, mean_r, production_b, production_r = production
    if method == METHOD_SEC:
        shift = production_shift_message(mean_b, mean_r, regression["savings_percent"], settings)
        if shift is not None:
            warnings.append(shift)
            review = True
    capped = [r["carrier"] for r in results if r["method"] == METHOD_SEC_CAPPED]
    percents = (total["sec"]["savings_percent"], regression["savings_percent"], total["savings_percent"])
    warnings += capped_messages(method, True, total["binding_estimate"], total["fallback_reasons"], percents, capped)
    review = method == METHOD_SEC_CAPPED or bool(capped) or review
    # no normalisation is dropped here (module docstring): savings._dropped_warning would add nothing

    norm = None
    if case.norm is not None:
        norm = _jsonable(compare_with_norm(total["sec"]["sec_reporting"], s.canonical, case.norm))
    spec = read.spec
    baseline_start, baseline_end, reporting_start, reporting_end = dates
    return {
        "verdict": verdict.status,
        "verdict_reasons": list(verdict.reasons),
        "achieved_ratio": verdict.achieved_ratio,
        "method": method,
        "claimed_percent": float(claim.overall_percent),
        "verified_savings_percent": total["savings_percent"],
        "programme_target_percent": settings.verdict.programme_target_percent,
        "claim_tolerance_pp": settings.verdict.claim_tolerance_pp,
        "savings_toe": total["savings_toe"],
        "savings_gj": total["savings_gj"],
        "savings_tco2": total["savings_tco2"],
        "total": total,
        "carriers": results,
        "norm": norm,
        "emission_factors": emission_factors,
        "warnings": warnings,
        "requires_review": review,
        "inputs": {
            "baseline_period_count": n,
            "reporting_period_count": s.n_rep,
            "baseline_start": baseline_start,
            "baseline_end": baseline_end,
            "reporting_start": reporting_start,
            "reporting_end": reporting_end,
            "production_unit": s.canonical,
            "baseline_production": production_b,
            "reporting_production": production_r,
            "carriers": list(s.carriers),
            "weather_variables": [],
            "ignored_resources": [],
            "periods": periods,
            "settings": {name: dict(v) if type(v) is dict else v for name, v in settings_record.items()},
        },
        "model": {
            "form": spec.form,
            "degree_day_unit": spec.degree_days.unit,
            "cdd_base": spec.degree_days.cdd_base,
            "hdd_base": spec.degree_days.hdd_base,
            "station": spec.degree_days.station,
            "interval": interval,
            "requested_variables": list(_VARIABLES_USED),
            "variables_used": list(_VARIABLES_USED),
        },
        "normalisation_dropped": [],
        "non_routine_adjustments": [],
        "schema_version": 1,
    }
